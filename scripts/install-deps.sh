#!/bin/sh
# Install, from Debian packages, everything that building, testing, the demo
# and the benchmarks need.  Idempotent: runs apt-get only when a package is
# missing, and apt-get update only then.
set -eu

PACKAGES="gcc make pkg-config libssl-dev libjansson-dev libhiredis-dev
nginx nginx-dev libpcre3-dev zlib1g-dev redis-server libcmocka-dev
curl wrk valgrind perl
clang libclang-rt-14-dev"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: missing:$missing" >&2

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

# Debian's nginx and redis packages start system services on install; the
# project starts its own instances on free ports and needs neither.
for svc in nginx redis-server; do
    if command -v systemctl >/dev/null 2>&1; then
        systemctl stop "$svc" >/dev/null 2>&1 || true
    fi
    service "$svc" stop >/dev/null 2>&1 || true
done
