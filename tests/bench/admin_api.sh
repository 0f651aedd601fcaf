#!/usr/bin/env bash
# The admin API's throughput: pitctl serve + Redis on loopback, wrk with
# tests/bench/admin_api.lua, list and create at 1, 10 and 100 concurrent
# connections (BENCH_SECONDS each, default 5).  The account holds
# BENCH_SEED integrations (default 20) for list; create adds more (its
# issuing limit is off here: --issue-rate 0).  Prints a markdown table
# (requests/s, p99) and writes it to build/admin_api_bench.md.  Not part
# of make test.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${BENCH_SECONDS:-5}
seed=${BENCH_SEED:-20}
dir=$(mktemp -d)
pitctl=build/pitctl
port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr =>
    "127.0.0.1", LocalPort => 0, Listen => 1, ReuseAddr => 1)->sockport'; }
rport=$(port)
sport=$(port)

redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break;
    sleep 0.1; done
R="--redis redis://127.0.0.1:$rport"

cleanup() {
    [ -n "${spid:-}" ] && kill -TERM "$spid" 2>/dev/null && wait "$spid" || true
    [ -f "$dir/redis.pid" ] && kill -TERM "$(cat "$dir/redis.pid")" || true
    rm -rf "$dir"
}
trap cleanup EXIT

$pitctl $R --as bench admin add bench --account bench >/dev/null
for i in $(seq "$seed"); do
    $pitctl $R --as bench create --name "seed $i" --account bench \
        --scope contacts.readonly >/dev/null
done

$pitctl $R serve --listen "127.0.0.1:$sport" --trusted-proxy 127.0.0.1 \
    --issue-rate 0 --threads "${BENCH_THREADS:-4}" \
    --access-log "$dir/access.log" 2>"$dir/serve.err" &
spid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$sport/healthz" \
    >/dev/null 2>&1 && break; sleep 0.1; done

out=build/admin_api_bench.md
mkdir -p build
{
    echo "| operation | connections | requests/s | p99 (ms) | statuses |"
    echo "| --- | ---: | ---: | ---: | --- |"
} > "$out"

for mode in list create; do
    for c in 1 10 100; do
        t=$(( c < 4 ? c : 4 ))
        res=$(MODE=$mode ACCT=bench wrk -t "$t" -c "$c" -d "${secs}s" \
              --latency -s tests/bench/admin_api.lua \
              "http://127.0.0.1:$sport" 2>&1)
        rps=$(echo "$res" | awk '/^Requests\/sec/ {print $2}')
        p99=$(echo "$res" | awk '/^p99_ms/ {print $2}')
        st=$(echo "$res" | awk '/^status/ {printf "%s%s×%s", sep, $2, $3;
                                          sep=" "}')
        echo "| $mode | $c | $rps | $p99 | $st |" | tee -a "$out"
    done
done

echo
cat "$out"
