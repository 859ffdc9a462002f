#!/bin/sh
# Replays the console host-key case files through the parser's fuzz target
# (under ASan/UBSan in CI): bad input must fail cleanly, good input must
# normalise to itself.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
bin="$top_builddir/tests/bootstrap/fuzz_hostkeys"
[ -x "$bin" ] || { echo "missing $bin" >&2; exit 99; }
"$bin" "$top_srcdir"/tests/data/bootstrap/*.console || exit 1
echo "replayed $(find "$top_srcdir/tests/data/bootstrap" -name '*.console' | wc -l) console files"
