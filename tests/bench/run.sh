#!/usr/bin/env bash
# make bench entry point: see tests/bench/bench.pl for what it measures and
# the BENCH_* variables.  BENCH_SMOKE=1 (make bench-smoke) only checks that
# every case answers the expected status codes.  A full run then times the
# token record decoders side by side (tests/bench/record_bench.c) and adds
# that table to the report (BENCH_OUT, default build/bench.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
perl tests/bench/bench.pl "$@"
[ -n "${BENCH_SMOKE:-}" ] && exit 0

cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -Icore \
    -o build/record_bench tests/bench/record_bench.c build/libpit.a \
    -ljansson -lcrypto
{
    echo
    echo "Token record decoding (the miss path's JSON), one process, 5"
    echo "interleaved rounds, medians (build/record_bench):"
    echo
    ./build/record_bench
} | tee -a "${BENCH_OUT:-build/bench.md}"
