#!/bin/bash
# make test-nginx-suite: nginx's own test suite (nginx-tests, vendored in
# tests/nginx/) against every nginx of the matrix, without and with the
# module loaded.  Loading the module must change nothing: any difference
# between the runs of one nginx (a test passing in one run and failing in
# another, a different skip/todo status, a different number of tests)
# fails.
#
# For each nginx:
#   Debian 1.22.1   /usr/sbin/nginx, TEST_NGINX_MODULES=/usr/lib/nginx/modules,
#                   the module build/ngx_http_pit_auth_module.so (make)
#   1.30.4, 1.31.4  build/nginx/VERSION/nginx and its module
#                   (scripts/nginx-matrix.sh build)
# the runs are
#   plain           nginx-tests as it is
#   module          TEST_NGINX_GLOBALS='load_module MODULE;'
#   module+redis    and TEST_NGINX_GLOBALS_HTTP='pit_auth_redis 127.0.0.1:PORT;'
#                   with a real redis-server on a free port (only for the
#                   versions in PIT_SUITE_REDIS_VERSIONS, default all)
#
# Each run is `prove -j4`-like (TAP::Harness, PIT_SUITE_JOBS jobs, default 4, by
# scripts/nginx-suite-run.pl) and records every file's plan and every
# test's status.  Timing-sensitive nginx-tests can fail now and then on a
# busy machine: a file whose results differ between runs is run again, alone,
# in every run of that nginx (PIT_SUITE_RETRIES times, default 1) and
# counts as different only if the difference stays; such reruns are
# reported.
#
# nginx-tests must not run as root (nginx's workers then run as nobody and
# cannot read the tests' temporary files): as root, this runs them as the
# system user pit-tests (created if missing) with runuser, from a staging
# folder it owns (build/nginx-suite, or a folder in /tmp when the
# repository is not reachable by that user).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
vendor="$repo/tests/nginx"
JOBS=${PIT_SUITE_JOBS:-4}
RETRIES=${PIT_SUITE_RETRIES:-1}
REDIS_VERSIONS=${PIT_SUITE_REDIS_VERSIONS:-all}
USER_NAME=pit-tests
t_start=$(date +%s)

(cd "$vendor" && sha256sum --quiet -c SHA256SUMS) \
    || { echo "nginx-suite: checksum mismatch in tests/nginx" >&2; exit 1; }
tgz=$(ls "$vendor"/nginx-tests-*.tar.gz | head -1)
sum=$(awk -v f="${tgz##*/}" '$2 == f { print $1 }' "$vendor/SHA256SUMS")
src="$repo/build/nginx-tests"
if [ "$(cat "$src/.unpacked" 2>/dev/null)" != "$sum" ]; then
    echo "nginx-suite: unpack ${tgz##*/}" >&2
    rm -rf "$src"
    mkdir -p "$src"
    tar xzf "$tgz" -C "$src" --strip-components=1
    echo "$sum" > "$src/.unpacked"
fi

# the module for Debian's nginx, and the source builds with theirs
make -s -C "$repo" all
bash "$repo/scripts/nginx-matrix.sh" build
mapfile -t VERS < <(cd "$repo/build/nginx" && ls -d [0-9]*/ | tr -d / | sort -V)

# who runs the suite, and where
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id "$USER_NAME" >/dev/null 2>&1; then
        echo "nginx-suite: creating system user $USER_NAME" >&2
        useradd --system --user-group --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin "$USER_NAME"
    fi
    as_user=(runuser -u "$USER_NAME" --)
fi
stage="$repo/build/nginx-suite"
rm -rf "$stage"
mkdir -p "$stage"
[ "$(id -u)" -eq 0 ] && chown "$USER_NAME:" "$stage"
if ! "${as_user[@]}" test -w "$stage" -a -x "$stage"; then
    stage=$(mktemp -d /tmp/pit-nginx-suite.XXXXXX)
    chown "$USER_NAME:" "$stage"
fi
echo "nginx-suite: running as $("${as_user[@]}" id -un) in $stage" >&2

cp -r "$src" "$stage/nginx-tests"
cp "$repo/scripts/nginx-suite-run.pl" "$stage/"
mkdir -p "$stage/debian"
cp "$repo/build/ngx_http_pit_auth_module.so" "$stage/debian/"
for v in "${VERS[@]}"; do
    mkdir -p "$stage/$v"
    cp "$repo/build/nginx/$v/nginx" "$repo/build/nginx/$v/ngx_http_pit_auth_module.so" "$stage/$v/"
done
chmod -R a+rX "$stage"
[ "$(id -u)" -eq 0 ] && chown -R "$USER_NAME:" "$stage"

# redis-server for the module+redis runs
redis_pid=
cleanup() {
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
    return 0
}
trap 'cleanup; [ "${stage#/tmp/pit-nginx-suite.}" != "$stage" ] && rm -rf "$stage"; true' EXIT
redis_port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$stage" --daemonize no --logfile "$stage/redis.log" &
redis_pid=$!
for _ in $(seq 100); do
    [ "$(redis-cli -p "$redis_port" PING 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
[ "$(redis-cli -p "$redis_port" PING 2>/dev/null)" = PONG ] \
    || { echo "nginx-suite: redis-server did not start" >&2; exit 1; }

# run NAME RUN FILE... : one run of one nginx (env from the caller's arrays)
run() {
    local name=$1 kind=$2
    shift 2
    local res="$stage/$name.$kind.res" log="$stage/$name.$kind.log"
    [ $# -gt 0 ] && res="$stage/$name.$kind.rerun" log="$stage/$name.$kind.rerun.log"
    local env=(TEST_NGINX_BINARY="$bin")
    [ -n "$mods" ] && env+=(TEST_NGINX_MODULES="$mods")
    case $kind in
    module) env+=(TEST_NGINX_GLOBALS="load_module $so;") ;;
    module+redis) env+=(TEST_NGINX_GLOBALS="load_module $so;"
                        TEST_NGINX_GLOBALS_HTTP="pit_auth_redis 127.0.0.1:$redis_port;") ;;
    esac
    local t0 jobs=$JOBS files=("$@")
    [ $# -gt 0 ] && jobs=1
    # PIT_SUITE_FILES="a.t b.t": only those (to debug this script)
    [ $# -eq 0 ] && [ -n "${PIT_SUITE_FILES:-}" ] && read -ra files <<< "$PIT_SUITE_FILES"
    t0=$(date +%s)
    (cd "$stage" && "${as_user[@]}" env HOME="$stage" TMPDIR=/tmp "${env[@]}" \
        perl "$stage/nginx-suite-run.pl" "$stage/nginx-tests" "$res" "$jobs" "${files[@]}") \
        > "$log.summary" 2> "$log" || return 1
    echo "$(( $(date +%s) - t0 ))" > "$log.secs"
}

# merges a rerun's lines for FILEs into RES
merge() {
    local res=$1 rerun=$2
    shift 2
    perl -e '
        my ($res, $rerun, @files) = @ARGV;
        my %f = map { $_ => 1 } @files;
        open my $a, "<", $res or die; my @l = grep { !$f{(split /\t/)[0]} } <$a>;
        open my $b, "<", $rerun or die; push @l, <$b>;
        open my $o, ">", $res or die; print $o sort @l;' "$res" "$rerun" "$@"
}

# files whose lines differ between result files
differing() {
    perl -e '
        my (%by, %all);
        for my $i (0 .. $#ARGV) {
            open my $f, "<", $ARGV[$i] or die;
            while (<$f>) { my ($file) = split /\t/; $by{$file}[$i] .= $_; $all{$file} = 1 }
        }
        for my $file (sort keys %all) {
            my @v = map { $by{$file}[$_] // "" } 0 .. $#ARGV;
            print "$file\n" if grep { $_ ne $v[0] } @v;
        }' "$@"
}

fail=0
summary=()
for name in debian "${VERS[@]}"; do
    if [ "$name" = debian ]; then
        bin=/usr/sbin/nginx mods=/usr/lib/nginx/modules so="$stage/debian/ngx_http_pit_auth_module.so"
        label="1.22.1 (Debian)"
    else
        bin="$stage/$name/nginx" mods= so="$stage/$name/ngx_http_pit_auth_module.so"
        label="$name (source)"
    fi
    kinds=(plain module)
    if [ "$REDIS_VERSIONS" = all ] || [[ " $REDIS_VERSIONS " == *" $name "* ]]; then
        kinds+=(module+redis)
    fi
    times=()
    for kind in "${kinds[@]}"; do
        echo "nginx-suite: $label: $kind" >&2
        if ! run "$name" "$kind"; then
            echo "nginx-suite: $label: $kind: the runner failed" >&2
            tail -20 "$stage/$name.$kind.log" >&2
            fail=1
            continue 2
        fi
        echo "  $(cat "$stage/$name.$kind.log.summary") in $(cat "$stage/$name.$kind.log.secs") s" >&2
        times+=("$kind $(cat "$stage/$name.$kind.log.secs") s")
    done
    results=()
    for kind in "${kinds[@]}"; do results+=("$stage/$name.$kind.res"); done
    mapfile -t diff < <(differing "${results[@]}")
    reran=()
    tries=0
    while [ "${#diff[@]}" -gt 0 ] && [ "$tries" -lt "$RETRIES" ]; do
        tries=$((tries + 1))
        echo "nginx-suite: $label: differing, run again alone: ${diff[*]}" >&2
        reran+=("${diff[@]}")
        for kind in "${kinds[@]}"; do
            run "$name" "$kind" "${diff[@]}" || true
            merge "$stage/$name.$kind.res" "$stage/$name.$kind.rerun" "${diff[@]}"
        done
        mapfile -t diff < <(differing "${results[@]}")
    done
    files=$(grep -c $'\tplan\t' "${results[0]}" || true)
    tests=$(grep -vc $'\tplan\t' "${results[0]}" || true)
    failing=$(awk -F'\t' '$3 == "not ok" || ($2 == "plan" && ($3 != $4 && $5 != "skip_all" || $6 != "0/0")) { print $1 }' \
              "${results[0]}" | sort -u | tr '\n' ' ')
    line="$label: ${#kinds[@]} runs (${times[*]}); $files files, $tests tests"
    if [ "${#diff[@]}" -gt 0 ]; then
        fail=1
        line="$line; DIFFERENT between runs: ${diff[*]}"
        for f in "${diff[@]}"; do
            echo "== $label: $f" >&2
            for kind in "${kinds[@]}"; do
                echo "-- $kind" >&2
                grep -P "^\Q$f\E\t" "$stage/$name.$kind.res" | grep -v $'\tok$' >&2 || true
            done
        done
    else
        line="$line; identical across runs"
    fi
    [ "${#reran[@]}" -gt 0 ] && line="$line; run again after a difference: ${reran[*]}"
    line="$line; failing files (in every run): ${failing:-none}"
    summary+=("$line")
    mkdir -p "$repo/build/nginx-suite-results"
    cp "$stage/$name".* "$repo/build/nginx-suite-results/" 2>/dev/null || true
done

echo
echo "== nginx-tests ($(basename "$tgz" .tar.gz)), with and without the module"
printf '%s\n' "${summary[@]}"
echo "nginx-suite: whole target $(( $(date +%s) - t_start )) s"
[ "$fail" -eq 0 ] && echo "nginx-suite: PASS" || echo "nginx-suite: FAILED"
exit "$fail"
