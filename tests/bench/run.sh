#!/usr/bin/env bash
# make bench entry point: see tests/bench/bench.pl for what it measures and
# the BENCH_* variables.  BENCH_SMOKE=1 (make bench-smoke) only checks that
# every case answers the expected status codes.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec perl tests/bench/bench.pl "$@"
