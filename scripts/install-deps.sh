#!/bin/sh
# Install, from Debian packages, everything that building, testing, the demo
# and the benchmarks need.  The libnginx-mod-* packages are Debian's dynamic
# modules of its nginx 1.22.1: nginx-tests (make test-nginx-suite) loads
# every module that `nginx -V` lists as =dynamic from /usr/lib/nginx/modules
# into every test's configuration; libpcre2-dev: nginx built from
# tests/nginx (make test-nginx-matrix) uses PCRE2.  Idempotent: runs apt-get only when a package is
# missing, and apt-get update only then.
#
# `install-deps.sh asan` also makes nginx's Debian source package available
# for `make test-asan`: it enables deb-src (a separate
# /etc/apt/sources.list.d/pit-auth-deb-src.sources, mirroring the deb
# entries) and installs dpkg-dev, which `apt-get source` needs.
#
# Browser tests (tests/t/http3.t, and the console's in tests/browser/, run
# by `make test-browser`) drive Debian's chromium with the npm
# package playwright-core, pinned by tests/browser/package-lock.json: `npm
# ci` installs it into tests/browser/node_modules, again only when that is
# missing or the lockfile changed since (a stamp in node_modules).
set -eu

mode=${1:-}

PACKAGES="gcc make pkg-config libssl-dev libjansson-dev libhiredis-dev
nginx nginx-dev libpcre3-dev zlib1g-dev redis-server libcmocka-dev
curl wrk valgrind perl libmicrohttpd-dev
debhelper dpkg-dev lintian man-db cpio
clang libclang-rt-14-dev
chromium nodejs
libpcre2-dev
libnginx-mod-http-geoip libnginx-mod-http-image-filter libnginx-mod-http-perl
libnginx-mod-http-xslt-filter libnginx-mod-mail libnginx-mod-stream
libnginx-mod-stream-geoip"
if [ "$mode" = asan ]; then
    PACKAGES="$PACKAGES dpkg-dev"
fi

debsrc=/etc/apt/sources.list.d/pit-auth-deb-src.sources
need_src=0
if [ "$mode" = asan ] && ! grep -rqs '^Types:.*deb-src\|^deb-src ' \
        /etc/apt/sources.list /etc/apt/sources.list.d/; then
    need_src=1
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
# npm: nodejs builds other than Debian's bring their own
if ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi

# tests/browser/node_modules from the committed lockfile, when missing or
# stale.  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the tests use Debian's chromium.
npm_deps() {
    top=$(cd "$(dirname "$0")/.." && pwd)
    dir=$top/tests/browser
    stamp=$dir/node_modules/.pit-lock.sha256
    want=$(sha256sum < "$dir/package-lock.json")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "install-deps: npm ci in tests/browser" >&2
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
        npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
}

if [ -z "$missing" ] && [ "$need_src" -eq 0 ]; then
    npm_deps
    exit 0
fi

echo "install-deps: missing:$missing" >&2

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi

if [ "$need_src" -eq 1 ]; then
    echo "install-deps: enabling deb-src in $debsrc" >&2
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types:.*/Types: deb-src/' \
            /etc/apt/sources.list.d/debian.sources > "$debsrc"
    else
        grep -h '^deb ' /etc/apt/sources.list \
            | sed 's/^deb /deb-src /' \
            > /etc/apt/sources.list.d/pit-auth-deb-src.list
    fi
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi

# Debian's nginx and redis packages start system services on install; the
# project starts its own instances on free ports and needs neither.
for svc in nginx redis-server; do
    if command -v systemctl >/dev/null 2>&1; then
        systemctl stop "$svc" >/dev/null 2>&1 || true
    fi
    service "$svc" stop >/dev/null 2>&1 || true
done

npm_deps
