#!/bin/bash
# Builds build/ngx_http_pit_auth_module.so against an nginx source tree:
# Debian's nginx-dev (/usr/share/nginx/src, configured with Debian's own
# conf_flags, as Debian builds its libnginx-mod-* packages) or any tree
# given as NGINX_SRC.  The source tree is never written to: configure runs
# in build/nginx-src, a tree of symlinks.
#
# NGX_CC_OPT / NGX_LD_OPT (optional) are passed as --with-cc-opt /
# --with-ld-opt, as Debian's nginx_mod build system passes dpkg-buildflags:
# debian/rules sets them for the package build.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
src=${NGINX_SRC:-/usr/share/nginx/src}
out="$repo/build"
work="$out/nginx-src"

if [ ! -x "$src/configure" ] && [ ! -x "$src/auto/configure" ]; then
    echo "build-module: no nginx source tree at $src" \
         "(install nginx-dev or set NGINX_SRC)" >&2
    exit 1
fi

flags=()
if [ -f "$src/conf_flags" ]; then
    # shellcheck disable=SC1091
    . "$src/conf_flags"
    flags=("${NGX_CONF_FLAGS[@]}")
else
    flags=(--with-compat --with-http_auth_request_module --with-http_v2_module
           --with-debug)
fi

cc_opt=${NGX_CC_OPT:-}
ld_opt=${NGX_LD_OPT:-}
if [ -n "$cc_opt" ]; then flags+=("--with-cc-opt=$cc_opt"); fi
if [ -n "$ld_opt" ]; then flags+=("--with-ld-opt=$ld_opt"); fi

stamp="$work/.configured"
# config picks up optional module sources at configure time: a new one,
# or a change to config itself, must trigger a fresh configure.
want="$src ${flags[*]} $(cd "$repo" && echo ngx_module/*.c && cksum config)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    rm -rf "$work"
    mkdir -p "$work"
    # A release tarball has ./configure; a source checkout has auto/configure.
    for f in auto src configure conf docs html man; do
        [ -e "$src/$f" ] && ln -s "$src/$f" "$work/$f"
    done
    [ -e "$work/configure" ] || ln -s auto/configure "$work/configure"
    (cd "$work" && ./configure "${flags[@]}" \
        --add-dynamic-module="$repo" --builddir=objs) > "$out/configure.log" 2>&1 \
        || { tail -30 "$out/configure.log" >&2; exit 1; }
    echo "$want" > "$stamp"
fi

make -s -C "$work" -f objs/Makefile modules
# A running nginx may have the old .so mapped: writing into that file would
# crash its workers, so the new one is renamed over it (a new inode).
cp "$work/objs/ngx_http_pit_auth_module.so" "$out/.ngx_http_pit_auth_module.so.$$"
mv -f "$out/.ngx_http_pit_auth_module.so.$$" "$out/ngx_http_pit_auth_module.so"
