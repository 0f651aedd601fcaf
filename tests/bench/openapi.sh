#!/bin/bash
# The cost per request of pit_auth_openapi's route match, measured two ways
# on the three HighLevel specs together (102 routes):
#
# 1. build/openapi_bench: the trie match and, for comparison, the regexes
#    an nginx map would run (PCRE2 JIT, in the map's order), in ns per
#    request over a mix of every route plus 10 unmatched requests.  It also
#    checks that both give every request the same route.
# 2. nginx itself (Debian's /usr/sbin/nginx, stripped) under callgrind:
#    all instructions of a run with 4n requests less those of a run with n
#    (which cancels start-up: reading the specs, compiling regexes), per
#    request, for three locations answering "return 200" with
#       base  a constant,
#       trie  $pit_required_scope (pit_auth_openapi's match),
#       map   $route_scope, from the generated map "$request_method $uri",
#    so trie - base and map - base are what the match costs nginx.
#
# Usage: bash tests/bench/openapi.sh [N]   (default 560)
# Needs valgrind, libpcre2-dev; builds into build/ and runs nginx from a
# temporary prefix on a free port.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
n=${1:-560}
H=tests/data/highlevel
specs="$top/$H/contacts.json $top/$H/calendars.json $top/$H/conversations.json"

make -s build/libpit.a build/ngx_http_pit_auth_module.so >/dev/null
cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -Icore \
    -o build/openapi_bench tests/bench/openapi_bench.c build/libpit.a \
    -ljansson -lpcre2-8

echo "== micro-benchmark (build/openapi_bench)"
./build/openapi_bench bench $specs

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/logs"
./build/openapi_bench map $specs > "$tmp/map.conf"
./build/openapi_bench requests $specs > "$tmp/requests"
port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1")->sockport')

conf() {    # $1: the location body
    cat > "$tmp/nginx.conf" <<END
load_module $top/build/ngx_http_pit_auth_module.so;
daemon off;
master_process off;
error_log $tmp/logs/error.log error;
pid $tmp/nginx.pid;
events {}
http {
    access_log off;
    keepalive_requests 100000;
    include $tmp/map.conf;
    server {
        listen 127.0.0.1:$port;
        location / {
            $1
        }
    }
}
END
}

# Sends request lines of the mix, $1 in all, on one connection.
client() {
    perl -MIO::Socket::INET -e '
        my ($port, $n, $file) = @ARGV;
        open my $fh, "<", $file or die; chomp(my @r = <$fh>);
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
                                      PeerPort => $port) or die "connect";
        my $buf = "";
        for my $i (0 .. $n - 1) {
            my $c = $i == $n - 1 ? "close" : "keep-alive";
            $buf .= "$r[$i % @r] HTTP/1.1\r\nHost: b\r\nConnection: $c\r\n\r\n";
        }
        print $s $buf;
        my ($got, $x) = (0);
        $got += length $x while sysread($s, $x, 65536);
        die "short answers\n" unless $got > 100 * $n;
        ' "$port" "$1" "$tmp/requests"
}

run() {     # $1: name, $2: location body
    conf "$2"
    /usr/sbin/nginx -t -p "$tmp" -c "$tmp/nginx.conf" -q
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" \
        /usr/sbin/nginx -p "$tmp" -c "$tmp/nginx.conf" 2>"$tmp/vg.$1" &
    local pid=$!
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    client "$3"
    # under valgrind a signal is now and then lost: repeat it
    while kill -TERM "$pid" 2>/dev/null; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break 2
            sleep 0.2
        done
    done
    wait "$pid" || true
    # the program's total, and pit_trie_match with what it calls
    callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.$1" \
            2>/dev/null \
        | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); t = $1 }
               /:pit_trie_match( |$)/ { gsub(",", "", $1); if ($1 > m) m = $1 }
               END { print t + 0, m + 0 }'
}

echo "== nginx under callgrind: instructions per request ($((4 * n)) - $n" \
     "requests on one keepalive connection)"
per_request() {     # $1: name, $2: location body
    local a b
    a=($(run "$1" "$2" "$n"))
    b=($(run "$1" "$2" $((4 * n))))
    echo "$1: $n requests: ${a[0]}, $((4 * n)) requests: ${b[0]}" \
         "instructions" >&2
    # nothing calls pit_trie_match at start-up: one run tells its cost
    echo $(( (b[0] - a[0]) / (3 * n) )) $(( a[1] / n ))
}
base=($(per_request base 'return 200 "x\n";'))
trie=($(per_request trie \
        "pit_auth_openapi $specs; return 200 \"\$pit_required_scope\n\";"))
map=($(per_request map 'return 200 "$route_scope\n";'))

awk -v b="${base[0]}" -v t="${trie[0]}" -v m="${map[0]}" -v f="${trie[1]}" '
BEGIN {
    printf "base (return 200 \"x\"):        %6d instructions/request\n", b
    printf "trie (\"$pit_required_scope\"): %6d instructions/request" \
           "  (+%d over base)\n", t, t - b
    printf "map  (\"$route_scope\"):        %6d instructions/request" \
           "  (+%d over base)\n", m, m - b
    printf "pit_trie_match itself:          %6d instructions/request\n", f
    printf "the map costs %d instructions more per request than the trie" \
           " (%.1f times its cost over base)\n", m - t, (m - b) / (t - b)
}'
