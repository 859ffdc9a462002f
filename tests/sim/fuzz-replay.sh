#!/bin/sh
# Replays the trace parser cases (tests/sim/data) and the head of each real
# trace through both cloudburst-sim parser fuzz targets under the sanitizers:
# any input may be rejected, none may crash, leak or half-load.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$top_srcdir"/tests/fixtures/traces/*/*.swf.gz; do
    gzip -dc "$f" | head -n 2000 > "$tmp/$(basename "$f" .gz)"
done
files=$(find "$top_srcdir/tests/sim/data" "$tmp" -type f | sort)
n=$(printf '%s\n' "$files" | wc -l)
for t in fuzz_sim_swf fuzz_sim_condor; do
    bin="$top_builddir/tests/fuzz/$t"
    [ -x "$bin" ] || { echo "missing $bin" >&2; exit 99; }
    # shellcheck disable=SC2086 # one argument per file; names have no spaces
    "$bin" $files || exit 1
done
echo "replayed $n trace files through 2 sim parser fuzz targets"
