#!/bin/sh
# Runs ShellCheck over every shell script of the node side, the image recipes and
# the bootstrap tests (SKIP when shellcheck is not installed).
set -eu
: "${top_srcdir:?}"
sc=${SHELLCHECK:-shellcheck}
if [ "$sc" = no ] || ! command -v "$sc" >/dev/null 2>&1; then
    echo "SKIP: shellcheck not installed" >&2
    exit 77
fi
cd "$top_srcdir"
set -- images/*.sh images/cloudburst-lease-check tests/bootstrap/*.sh tests/bootstrap/standins/* tests/images/*.sh
n=0
for f in "$@"; do
    [ -f "$f" ] || continue
    "$sc" -s sh "$f" || { echo "FAIL: $f" >&2; exit 1; }
    n=$((n + 1))
done
echo "shellcheck clean: $n scripts"
