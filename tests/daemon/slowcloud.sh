#!/bin/sh
# A cloud whose API stops answering holds no cycle longer than
# controller.listing_wait: the cycle decides without that cloud's listing and
# boots on the other cloud at once; the late listing is reported, counted in
# the metrics, and not taken as fresh.
. "$top_srcdir/tests/daemon/lib.sh"

EXTRA_CONTROLLER='listing_wait = 2; call_timeout = 20; connect_timeout = 5;'
EXTRA_CLOUDS=',
  {
    name = "slowcloud";
    provider = "loadergood";
    priority = 1;
    image = "img-1";
    flavors = ( { name = "small"; cpus = 1; memory_mb = 4000; disk_gb = 20; cost_per_hour = 0.05; } );
    loadergood = { };
  }'
write_config "$T/cb.conf"
printf 'metrics = { textfile = "%s/metrics.prom"; };\n' "$T" >> "$T/cb.conf"

idle_jobs 1
CB_LOADERTEST_SLOW_LIST=slowcloud:12 "$CLOUDBURSTD" --stderr -c "$T/cb.conf" \
    --provider-dir "$PROVIDERS" --log-level debug > "$T/slow.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_for_log "$T/slow.log" 'cycle 1 finished' 30
grep -q 'cloud slowcloud: no listing within listing_wait (2 s); deciding without it' "$T/slow.log" \
    || fail "the late listing was not reported"
grep -q 'boot [0-9]* x small on testcloud as cb-1 (demand)' "$T/slow.log" \
    || fail "the healthy cloud did not boot in the first cycle"
wait_for_log "$T/slow.log" 'boot cb-1: 1 of 1 instance(s) accepted' 10
wait_for_log "$T/slow.log" 'cloud slowcloud: listing came back after .* too late for its cycle' 30
# The order of the log lines, not a stopwatch: the first cycle and the boot
# were done before the hung listing came back.
line_of() { grep -n -m1 -- "$1" "$T/slow.log" | cut -d: -f1; }
[ "$(line_of 'cycle 1 finished')" -lt "$(line_of 'listing came back after')" ] \
    || fail "the first cycle waited for the hung listing"
[ "$(line_of 'boot cb-1: 1 of 1 instance(s) accepted')" -lt "$(line_of 'listing came back after')" ] \
    || fail "the healthy cloud's boot waited for the hung listing"
grep -q '^cloudburst_cloud_listings_late_total{cloud="slowcloud"} [1-9]' "$T/metrics.prom" \
    || fail "the late listing is not in the metrics"
! grep -q 'cloudburst_cloud_listings_late_total{cloud="testcloud"}' "$T/metrics.prom" \
    || fail "the healthy cloud was counted late"
# The late answer is not trusted as fresh: a later cycle lists the slow cloud
# again (and, as it hangs again, again decides without it).
i=0
while [ "$(grep -c 'cloud slowcloud: no listing within listing_wait' "$T/slow.log")" -lt 2 ]; do
    i=$((i + 1))
    [ "$i" -le 300 ] || fail "the slow cloud was not listed again after its late answer"
    sleep 0.1
done
kill -TERM "$DPID"
wait "$DPID" || fail "cloudburstd did not stop cleanly"
grep -q 'waiting for the cloud calls in flight before stopping' "$T/slow.log" \
    || fail "the stop did not wait for the listing in flight"
echo "slowcloud: ok"
