#!/bin/sh
# Replays the cloudburstctl argument corpus (tests/data/ctl/fuzz/) through the
# fuzz target, under ASan/UBSan in CI: bad arguments must fail cleanly.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
bin="$top_builddir/tests/ctl/fuzz_ctl_args"
[ -x "$bin" ] || { echo "missing $bin" >&2; exit 99; }
"$bin" "$top_srcdir"/tests/data/ctl/fuzz/* || exit 1
echo "replayed $(ls "$top_srcdir"/tests/data/ctl/fuzz/ | wc -l) argument files"
