#!/bin/sh
# Replays every HTCondor fixture (real captures, derived files, test-suite ads)
# through each pool fuzz target under the sanitizers: any input may be
# rejected, none may crash or leak.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
files=$(find "$top_srcdir/tests/fixtures/htcondor" -type f | sort)
n=$(printf '%s\n' "$files" | wc -l)
for t in fuzz_pool_demand fuzz_pool_supply fuzz_pool_totals; do
    bin="$top_builddir/tests/fuzz/$t"
    [ -x "$bin" ] || { echo "missing $bin" >&2; exit 99; }
    # shellcheck disable=SC2086 # one argument per file; fixture names have no spaces
    "$bin" $files || exit 1
done
echo "replayed $n fixture files through 3 pool fuzz targets"
