#!/bin/sh
# Replays every configuration case file and the shipped example through the
# config fuzz target (under ASan/UBSan in CI): bad input must fail cleanly.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
bin="$top_builddir/tests/fuzz/fuzz_config"
[ -x "$bin" ] || { echo "missing $bin" >&2; exit 99; }
# libconfig's own parse-error leaks are not ours (see the file).
LSAN_OPTIONS="suppressions=$top_srcdir/tests/fuzz/libconfig.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
"$bin" "$top_srcdir"/tests/data/config/*.conf "$top_srcdir/examples/cloudburst.conf" || exit 1
echo "replayed $(ls "$top_srcdir"/tests/data/config/*.conf | wc -l) case files and the example"
