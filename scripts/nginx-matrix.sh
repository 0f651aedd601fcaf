#!/bin/bash
# make test-nginx-matrix: the module against every nginx vendored in
# tests/nginx/ (nginx-VERSION.tar.gz), each built from source with
# --with-compat, and the whole prove suite against each.
#
#   scripts/nginx-matrix.sh build [VERSION...]   unpack, configure, make
#   scripts/nginx-matrix.sh test  [VERSION...]   build, then prove -r tests/t
#
# For each VERSION, in build/nginx/VERSION/:
#   - the tarball (checksum verified with sha256sum -c tests/nginx/SHA256SUMS)
#     is unpacked there once; again only when its checksum changes
#   - auto/configure runs once, from that top folder (--builddir=objs);
#     again only when the flags, config or the module's source list change
#     (.configured holds them)
#   - make -j2 builds nginx and ngx_http_pit_auth_module.so; later runs
#     rebuild only what changed; both are then copied (renamed over, so a
#     running nginx keeps its mapping) to build/nginx/VERSION/nginx and
#     build/nginx/VERSION/ngx_http_pit_auth_module.so
#   - prove runs with PIT_NGINX and PIT_NGINX_MODULE set to them; its output
#     is in build/nginx/VERSION/prove.log
#
# nginx compiles with -Werror (auto/cc/gcc), so any warning in the module
# under an nginx's own flags fails its build.
#
# Debian's nginx 1.22.1 (/usr/sbin/nginx with build/ngx_http_pit_auth_module.so
# built against nginx-dev) is the matrix's first entry; `make test` already
# runs the prove suite against it, so it is not run again here unless
# PIT_MATRIX_DEBIAN=1.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
vendor="$repo/tests/nginx"
out="$repo/build/nginx"
cmd=${1:-test}
shift || true
PROVE_ARGS=${PROVE_ARGS:--r tests/t}
JOBS=${PIT_MAKE_JOBS:-2}

FLAGS=(--with-compat --with-debug --with-threads
       --with-http_ssl_module --with-http_v2_module --with-http_v3_module
       --with-http_auth_request_module
       --with-http_realip_module --with-http_addition_module
       --with-http_sub_module --with-http_dav_module --with-http_flv_module
       --with-http_mp4_module --with-http_gunzip_module
       --with-http_gzip_static_module --with-http_random_index_module
       --with-http_secure_link_module --with-http_slice_module
       --with-http_stub_status_module
       --with-stream --with-stream_ssl_module --with-stream_realip_module
       --with-mail --with-mail_ssl_module)

versions() {
    if [ $# -gt 0 ]; then
        printf '%s\n' "$@"
        return
    fi
    local f
    for f in "$vendor"/nginx-[0-9]*.tar.gz; do
        f=${f##*/nginx-}
        echo "${f%.tar.gz}"
    done | sort -V
}

verify() {
    (cd "$vendor" && sha256sum --quiet -c SHA256SUMS) \
        || { echo "nginx-matrix: checksum mismatch in tests/nginx" >&2; exit 1; }
}

# unpack VERSION: build/nginx/VERSION holds the unpacked top folder
unpack() {
    local v=$1 dir="$out/$1" tgz="$vendor/nginx-$1.tar.gz" sum
    [ -f "$tgz" ] || { echo "nginx-matrix: no $tgz" >&2; exit 1; }
    sum=$(awk -v f="nginx-$v.tar.gz" '$2 == f { print $1 }' "$vendor/SHA256SUMS")
    [ -n "$sum" ] || { echo "nginx-matrix: nginx-$v.tar.gz not in SHA256SUMS" >&2; exit 1; }
    if [ "$(cat "$dir/.unpacked" 2>/dev/null)" != "$sum" ]; then
        echo "nginx-matrix: $v: unpack" >&2
        rm -rf "$dir"
        mkdir -p "$dir"
        tar xzf "$tgz" -C "$dir" --strip-components=1
        echo "$sum" > "$dir/.unpacked"
    fi
}

# configure VERSION (once; .configured is the stamp of what it depends on)
configure() {
    local v=$1 dir="$out/$1" want
    # config picks up optional module sources at configure time
    want="${FLAGS[*]} --add-dynamic-module=$repo $(cd "$repo" && echo ngx_module/*.c && cksum < config)"
    if [ "$(cat "$dir/.configured" 2>/dev/null)" != "$want" ]; then
        echo "nginx-matrix: $v: configure" >&2
        rm -rf "$dir/objs"
        (cd "$dir" && auto/configure "${FLAGS[@]}" --prefix="$dir/prefix" \
            --builddir=objs --add-dynamic-module="$repo") \
            > "$dir/configure.log" 2>&1 \
            || { tail -30 "$dir/configure.log" >&2; exit 1; }
        echo "$want" > "$dir/.configured"
    fi
}

build_one() {
    local v=$1 dir="$out/$1" f
    unpack "$v"
    configure "$v"
    echo "nginx-matrix: $v: make -j$JOBS" >&2
    make -C "$dir" -j"$JOBS" > "$dir/make.log" 2>&1 \
        || { grep -E 'error|warning' "$dir/make.log" | head -40 >&2
             tail -20 "$dir/make.log" >&2; return 1; }
    if grep -q 'warning:' "$dir/make.log"; then
        grep 'warning:' "$dir/make.log" >&2
        echo "nginx-matrix: $v: compiler warnings" >&2
        return 1
    fi
    for f in nginx ngx_http_pit_auth_module.so; do
        cp "$dir/objs/$f" "$dir/.$f.$$"
        mv -f "$dir/.$f.$$" "$dir/$f"
    done
    chmod a+rx "$dir/nginx" "$dir/ngx_http_pit_auth_module.so"
    "$dir/nginx" -v 2>&1 >&2
}

verify
mapfile -t VERS < <(versions "$@")
declare -A BUILD_S PROVE_RC PROVE_S PROVE_SUMMARY
fail=0

if [ "$cmd" = test ]; then
    make -s -C "$repo" all
fi

for v in "${VERS[@]}"; do
    t0=$(date +%s)
    if build_one "$v"; then
        BUILD_S[$v]=$(( $(date +%s) - t0 ))
    else
        BUILD_S[$v]="FAILED after $(( $(date +%s) - t0 ))"
        PROVE_RC[$v]=-
        fail=1
        continue
    fi
    [ "$cmd" = test ] || continue
    echo "nginx-matrix: $v: prove $PROVE_ARGS" >&2
    t0=$(date +%s)
    { rc=0
      (cd "$repo" && PIT_REQUIRE_BUILD=1 PIT_NGINX="$out/$v/nginx" \
          PIT_NGINX_MODULE="$out/$v/ngx_http_pit_auth_module.so" \
          prove $PROVE_ARGS) 2>&1 || rc=$?
      echo "$rc" > "$out/$v/prove.rc"; } | tee "$out/$v/prove.log"
    rc=$(cat "$out/$v/prove.rc")
    PROVE_S[$v]=$(( $(date +%s) - t0 ))
    PROVE_RC[$v]=$rc
    PROVE_SUMMARY[$v]=$(grep -E '^(Files=|Result:)' "$out/$v/prove.log" | tr '\n' ' ')
    [ "$rc" -eq 0 ] || fail=1
done

debian="1.22.1 (Debian /usr/sbin/nginx + build/ngx_http_pit_auth_module.so)"
if [ "$cmd" = test ] && [ "${PIT_MATRIX_DEBIAN:-0}" = 1 ]; then
    t0=$(date +%s)
    rc=0
    (cd "$repo" && PIT_REQUIRE_BUILD=1 PIT_NGINX=/usr/sbin/nginx \
        PIT_NGINX_MODULE="$repo/build/ngx_http_pit_auth_module.so" \
        prove $PROVE_ARGS) || rc=$?
    [ "$rc" -eq 0 ] || fail=1
    debian_line="$debian: prove exit $rc in $(( $(date +%s) - t0 )) s"
else
    debian_line="$debian: not run again here (make test runs the prove suite against it; PIT_MATRIX_DEBIAN=1 runs it here too)"
fi

echo
echo "== nginx matrix"
echo "$debian_line"
for v in "${VERS[@]}"; do
    line="$v (from source, --with-compat): build ${BUILD_S[$v]} s"
    if [ "$cmd" = test ] && [ "${PROVE_RC[$v]}" != - ]; then
        line="$line; prove exit ${PROVE_RC[$v]} in ${PROVE_S[$v]} s: ${PROVE_SUMMARY[$v]}"
    fi
    echo "$line"
done
[ "$fail" -eq 0 ] && echo "nginx-matrix: PASS" || echo "nginx-matrix: FAILED"
exit "$fail"
