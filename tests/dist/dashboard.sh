#!/bin/sh
# Every metric the Grafana dashboard queries is one the daemon exports (the
# families registered in src/cycle.c), so a renamed metric cannot silently
# blank a panel. The dashboard must also be valid JSON.
set -eu
: "${top_srcdir:?}"
dash="$top_srcdir/dist/grafana/cloudburst-dashboard.json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dash"
used=$(grep -o 'cloudburst_[a-z_]*' "$dash" | sed -E 's/_(bucket|sum|count)$//' | sort -u)
[ -n "$used" ] || { echo "dashboard uses no metrics" >&2; exit 1; }
missing=0
for m in $used; do
    if ! grep -q "\"$m\"" "$top_srcdir/src/cycle.c"; then
        echo "dashboard uses $m, which cloudburstd does not export" >&2
        missing=1
    fi
done
[ "$missing" -eq 0 ]
echo "$(echo "$used" | wc -l) metrics checked"
