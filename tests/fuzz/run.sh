#!/bin/bash
# Builds and runs the libFuzzer targets (clang, ASan + UBSan) for every
# parser in core.  Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS   per target (default $FUZZ_SECONDS, else 60)
#   TARGET    a subset of the targets below (default: all)
# Seeds come from tests/fuzz/corpus/<target>/ and are never written to: new
# inputs go to build/fuzz/corpus/<target>/, crashes to
# build/fuzz/artifacts/.  Any crash, leak, sanitizer report or timeout
# fails the run.  Prints executions per target.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
out="$repo/build/fuzz"
CLANG=${CLANG:-clang}

# target name -> dictionary (empty: none)
declare -A dict=(
    [authorization]=authorization.dict
    [token_record]=json.dict
    [integration]=json.dict
    [scope_expr]=scope_expr.dict
    [redis_url]=redis_url.dict
    [duration]=
    [redact]=redact.dict
    [query]=query.dict
    [path]=path.dict
    [body]=json.dict
)
all="authorization token_record integration scope_expr redis_url duration redact
     query path body"
if [ -f "$repo/core/pit_openapi.c" ] \
   && [ -f "$repo/tests/fuzz/fuzz_openapi.c" ]; then
    all="$all openapi"
    dict[openapi]=openapi.dict
fi
targets=${*:-$all}

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror \
-Wno-unused-parameter -I$repo/core $san"

# libpit without pit_store*.c (pitctl's synchronous Redis client: no parser)
mkdir -p "$out/obj" "$out/artifacts"
objs=()
for src in "$repo"/core/*.c; do
    name=$(basename "$src" .c)
    case "$name" in pit_store|pit_store_*) continue ;; esac
    obj="$out/obj/$name.o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] \
       || [ -n "$(find "$repo/core" -name '*.h' -newer "$obj")" ]; then
        $CLANG $cflags -fsanitize=fuzzer-no-link -c -o "$obj" "$src"
    fi
    objs+=("$obj")
done

status=0
summary=""
for t in $targets; do
    bin="$out/fuzz_$t"
    $CLANG $cflags -fsanitize=fuzzer -o "$bin" \
        "$repo/tests/fuzz/fuzz_$t.c" "${objs[@]}" -ljansson -lcrypto
    mkdir -p "$out/corpus/$t"
    args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-")
    [ -n "${dict[$t]:-}" ] && args+=(-dict="$repo/tests/fuzz/dict/${dict[$t]}")
    log="$out/$t.log"
    echo "== fuzz $t (${secs}s)"
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$bin" "${args[@]}" "$out/corpus/$t" "$repo/tests/fuzz/corpus/$t" \
       > "$log" 2>&1; then
        rc=0
    else
        rc=$?
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
        echo "fuzz $t: FAILED (exit $rc); see $log" >&2
        grep -E -A 30 'ERROR:|runtime error:' "$log" | head -60 >&2 || tail -40 "$log" >&2
        status=1
        summary="$summary
  $t: FAILED after ${execs:-?} executions"
    else
        summary="$summary
  $t: ${execs:-?} executions in ${secs}s, no crash"
    fi
done

echo "fuzz summary:$summary"
exit $status
