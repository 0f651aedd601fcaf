#!/bin/bash
# make test-asan / make test-valgrind.
#
#   scripts/asan-nginx.sh build      nginx from Debian's source package
#                                    (apt-get source nginx) with
#                                    -fsanitize=address,undefined,
#                                    -DNGX_DEBUG_PALLOC=1 and the module
#                                    built in: build/asan/nginx
#   scripts/asan-nginx.sh test       build, then the whole prove suite
#                                    against it; any sanitizer report fails
#   scripts/asan-nginx.sh valgrind   the whole prove suite with the stock
#                                    nginx and the .so under valgrind
#                                    (master and workers); any valgrind
#                                    error or definite leak fails
#
# Sanitizer and valgrind reports go to files (log_path / --log-file) in
# build/asan/reports or build/valgrind, so a report is seen whichever test
# started the process and whether or not that test reads its logs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/build/asan"
cmd=${1:-test}
PROVE_ARGS=${PROVE_ARGS:--r tests/t}

build() {
    sh "$repo/scripts/install-deps.sh" asan
    mkdir -p "$out"
    local src
    src=$(find "$out" -maxdepth 1 -type d -name 'nginx-[0-9]*' | head -1)
    if [ -z "$src" ]; then
        # the installed version first; a mirror may lack some versions'
        # source files, so then every version deb-src lists, newest first
        local v ok=0
        for v in "" $(apt-cache showsrc nginx | sed -n 's/^Version: //p' \
                      | sort -rV); do
            echo "asan: apt-get source nginx${v:+=$v}" >&2
            rm -rf "$out"/nginx[-_]*
            if (cd "$out" && apt-get source -q "nginx${v:+=$v}" \
                    >>"$out/source.log" 2>&1); then
                ok=1
                break
            fi
        done
        [ "$ok" -eq 1 ] || { tail -20 "$out/source.log" >&2; exit 1; }
        src=$(find "$out" -maxdepth 1 -type d -name 'nginx-[0-9]*' | head -1)
    fi

    local san="-fsanitize=address,undefined -fno-omit-frame-pointer"
    # nginx itself passes NULL with length 0 to memcpy() and friends
    # everywhere (ngx_pstrdup, ngx_sprintf "%V" of an empty string) and
    # its HTTP/2 code reads and writes unaligned integers on purpose (x86):
    # UBSan's nonnull-attribute and alignment checks are off for nginx's
    # sources and back on, below, for the module and the core (the addon
    # objects)
    local ccopt="-O1 -g $san -fno-sanitize=nonnull-attribute,alignment -DNGX_DEBUG_PALLOC=1 -Wno-error"
    local want="$src|$ccopt|$(cd "$repo" && ls core/*.c ngx_module/*.c | tr '\n' ' ' && cksum config)"
    if [ ! -f "$out/.configured" ] || [ "$(cat "$out/.configured")" != "$want" ]
    then
        echo "asan: configure $(basename "$src")" >&2
        rm -rf "$out/objs"
        (cd "$src" && ./configure \
            --with-cc=clang \
            --with-cc-opt="$ccopt" \
            --with-ld-opt="$san" \
            --prefix="$out/prefix" --with-debug --with-threads \
            --with-http_ssl_module --with-http_v2_module \
            --with-http_auth_request_module --with-http_realip_module \
            --with-http_stub_status_module \
            --add-module="$repo" --builddir="$out/objs") \
            >"$out/configure.log" 2>&1 \
            || { tail -30 "$out/configure.log" >&2; exit 1; }
        sed -i '\#^'"$out"'/objs/addon/.*\.o:#,\#\$(CC) -c \$(CFLAGS)# s#\$(CC) -c \$(CFLAGS)#$(CC) -c $(CFLAGS) -fsanitize=nonnull-attribute,alignment#' \
            "$out/objs/Makefile"
        grep -q 'CFLAGS) -fsanitize=nonnull-attribute,alignment' "$out/objs/Makefile" \
            || { echo "asan: could not mark the addon objects" >&2; exit 1; }
        echo "$want" > "$out/.configured"
    fi
    echo "asan: make" >&2
    make -s -C "$src" -f "$out/objs/Makefile" -j2 binary \
        >"$out/make.log" 2>&1 || { tail -30 "$out/make.log" >&2; exit 1; }
    cp "$out/objs/nginx" "$out/nginx"
    "$out/nginx" -V 2>&1 | sed -n 1p
}

# Runs prove with the given environment; fails if prove fails or a report
# file appears in $reports.
suite() {
    local reports=$1 kind=$2
    shift 2
    rm -rf "$reports"
    mkdir -p "$reports"
    # workers run as nobody: a sanitizer that cannot open its log file
    # kills the process
    chmod 1777 "$reports"
    local rc=0
    (cd "$repo" && env "$@" prove $PROVE_ARGS) || rc=$?
    local n
    n=$(find "$reports" -type f -size +0 | wc -l)
    echo "$kind: prove exit $rc, $n report file(s) in $reports"
    return $(( rc != 0 || n != 0 ))
}

case "$cmd" in
build)
    build
    ;;
test)
    build
    reports="$out/reports"
    # halt_on_error=0: a report is written and the run goes on, so one
    # run lists them all; detect_leaks=0: nginx leaves its pools to exit
    # (valgrind judges leaks); the reports are the verdict.
    suite "$reports" asan \
        PIT_NGINX="$out/nginx" PIT_NGINX_MODULE= \
        ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=0:halt_on_error=0:abort_on_error=0:detect_stack_use_after_return=0" \
        UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=0" \
        || { for f in "$reports"/*; do [ -s "$f" ] && head -40 "$f"; done; exit 1; }
    ;;
valgrind)
    reports="$repo/build/valgrind"
    rm -rf "$reports"
    mkdir -p "$reports"
    chmod 1777 "$reports"
    # nginx's own allocations that it never frees by design (not the
    # module's): the environment copied for a worker, PCRE2's compile
    # context
    supp="$repo/build/valgrind.supp"
    cat > "$supp" <<'SUPP'
{
   nginx-worker-environment
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:ngx_alloc
   fun:ngx_set_environment
}
{
   nginx-pcre2-compile-context
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:ngx_alloc
   ...
   fun:pcre2_compile_context_create_8
}
SUPP
    rc=0
    (cd "$repo" && env PIT_NGINX_PREFIX="valgrind -q --log-file=$reports/vg.%p \
--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
--suppressions=$supp --num-callers=30 --child-silent-after-fork=no" \
        PIT_VALGRIND=1 prove $PROVE_ARGS) || rc=$?
    # -q: a clean process writes nothing.  The verdict is valgrind's: under
    # its 20-50x slowdown the suite's latency assertions (a 503 within the
    # 300 ms read timeout, recovery within 2 s) cannot hold and are
    # reported, not enforced.
    n=$(find "$reports" -type f -size +0 | wc -l)
    echo "valgrind: prove exit $rc (latency assertions are not enforced" \
         "under valgrind), $n report file(s) in $reports"
    for f in "$reports"/*; do [ -s "$f" ] && head -60 "$f"; done
    [ "$n" -eq 0 ] || { echo "valgrind: FAILED"; exit 1; }
    echo "valgrind: 0 errors, 0 definite leaks"
    ;;
*)
    echo "usage: $0 build|test|valgrind" >&2
    exit 1
    ;;
esac
