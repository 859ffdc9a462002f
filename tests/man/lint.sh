#!/bin/sh
# Every shipped man page is mandoc -Tlint clean (warnings count as failures).
set -eu
: "${top_srcdir:?}"
MANDOC=${MANDOC:-mandoc}
if ! command -v "$MANDOC" >/dev/null 2>&1; then
    echo "mandoc not installed" >&2
    exit 77
fi
n=0
for page in "$top_srcdir"/man/*.[1-8]; do
    [ -e "$page" ] || continue
    # -Wwarning: style messages are advice; warnings and errors fail the test.
    out=$("$MANDOC" -Tlint -Wwarning "$page" 2>&1) || true
    if [ -n "$out" ]; then
        echo "$out"
        echo "FAIL: $page is not lint clean" >&2
        exit 1
    fi
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no man pages found" >&2; exit 1; }
echo "$n man page(s) lint clean"
