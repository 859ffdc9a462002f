#!/bin/sh
# The systemd unit parses and names only things that exist (systemd-analyze
# verify), and keeps the hardening the packaging promises.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
unit="$top_builddir/dist/systemd/cloudburstd.service"
[ -f "$unit" ] || { echo "unit not built: $unit" >&2; exit 1; }
for key in Type=notify WatchdogSec= User=cloudburst ProtectSystem=strict \
           ReadWritePaths=/var/lib/cloudburst NoNewPrivileges=yes ExecReload= CapabilityBoundingSet=; do
    grep -q "^$key" "$unit" || { echo "unit lacks $key" >&2; exit 1; }
done
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not installed: structural checks only"
    exit 0
fi
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# Verify a copy whose ExecStart points at the binary just built.
sed "s|^ExecStart=[^ ]*|ExecStart=$top_builddir/src/cloudburstd|" "$unit" > "$d/cloudburstd.service"
if ! out=$(systemd-analyze verify --man=no "$d/cloudburstd.service" 2>&1); then
    echo "$out" >&2
    exit 1
fi
if [ -n "$out" ]; then
    echo "$out" >&2
    exit 1
fi
echo "unit ok"
