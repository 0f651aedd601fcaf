#!/bin/bash
# `make deb`: builds the Debian packages libnginx-mod-http-pit-auth and
# pit-auth-tools with Debian's own tooling (debian/, dh with dh_nginx,
# dpkg-buildpackage -b) and checks them with lintian.
#
# dpkg-buildpackage writes its results into the parent directory of the
# tree it builds, so the tree is copied to build/deb/src (the files git
# knows, tracked or not ignored: never build/) and the .deb, .changes and
# .buildinfo files land in build/deb/.  PIT_DEB_LINTIAN=0 skips lintian.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/build/deb"
src="$out/src"

rm -rf "$out"
mkdir -p "$src"

cd "$repo"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Deleted but not yet committed files are listed and absent: skip them.
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
              [ -e "$f" ] && printf '%s\0' "$f"
          done \
        | cpio -0 -p -d -m --quiet "$src"
else
    tar -C "$repo" --exclude=./build --exclude=./.git -cf - . \
        | tar -C "$src" -xf -
fi

cd "$src"
dpkg-buildpackage -b -us -uc > "$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed; log: $out/build.log" >&2
    exit 1
}

cd "$out"
ls -1 ./*.deb ./*.changes ./*.buildinfo

if [ "${PIT_DEB_LINTIAN:-1}" != 0 ]; then
    if command -v lintian >/dev/null 2>&1; then
        # Errors fail the build; warnings and below are shown.
        lintian --fail-on error --display-info ./*.changes
    else
        echo "build-deb: lintian not installed; not checked" >&2
    fi
fi
