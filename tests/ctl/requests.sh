#!/bin/sh
# cloudburstctl against the real cloudburstd (one cycle at a time, --once) on
# the stand-in pool of the daemon tests: `pool` shows the demand the daemon
# acts on, `pause` stops scale-up once the daemon has consumed it, `resume`
# lets it boot again, `explain` and `events` show what happened.
. "$top_srcdir/tests/daemon/lib.sh"

CTL="$CLOUDBURSTCTL --config $T/cb.conf"
cycle() {
    "$CLOUDBURSTD" --once --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" \
        >> "$T/daemon.log" 2>&1 || fail "cycle failed"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

idle_jobs 3
# The adapter's view, with the daemon's configuration, before anything acts.
$CTL pool --json > "$T/pool.json" || fail "pool"
[ "$(json 'd["demand"]["idle_jobs"]' < "$T/pool.json")" = 3 ] || fail "pool: demand is not 3 jobs"
[ "$(json 'd["demand"]["by_cloud"][0]["cloud"]' < "$T/pool.json")" = testcloud ] || fail "pool: by cloud"
[ "$(json 'len(d["supply"]["nodes"])' < "$T/pool.json")" = 0 ] || fail "pool: nodes"
! grep -q '^condor_drain' "$T/pool/calls.log" || fail "pool ran condor_drain"

# The first cycle creates the ledger; nothing is idle for it yet.
echo '[]' > "$T/pool/jobs.json"
cycle
$CTL pause > "$T/pause.out" || fail "pause"
grep -q '^requested: pause (request 1 by ' "$T/pause.out" || fail "pause output: $(cat "$T/pause.out")"
[ "$($CTL --json explain | json 'len(d["pending_requests"])')" = 1 ] || fail "pause not pending"

# The daemon consumes it: paused, and 3 idle jobs boot nothing.
idle_jobs 3
cycle
$CTL --json explain > "$T/explain.json" || fail "explain"
[ "$(json 'd["paused"]' < "$T/explain.json")" = True ] || fail "not paused: $(cat "$T/explain.json")"
[ "$(json 'len(d["pending_requests"])' < "$T/explain.json")" = 0 ] || fail "pause still pending"
[ "$($CTL --json nodes --all | json 'len(d["nodes"])')" = 0 ] || fail "booted while paused"
$CTL events > "$T/events.log"
grep -q 'request' "$T/events.log" || fail "no request event"

# Resume: the next cycle after the one consuming it boots.
$CTL --json resume | json 'd["request"]["kind"]' | grep -qx resume || fail "resume"
cycle
[ "$($CTL --json explain | json 'd["paused"]')" = False ] || fail "still paused"
cycle
[ "$($CTL --json nodes | json 'len(d["nodes"])')" -ge 1 ] || fail "no boot after resume"
$CTL explain > "$T/explain.txt" || fail "explain text"
grep -q '^cycle [0-9]*: ' "$T/explain.txt" || fail "explain header"

# drain needs a live node of the ledger.
set +e
$CTL drain nosuch-0 2> "$T/drain.err"; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "drain of an unknown node: exit $rc"
grep -q "nosuch-0: no such node" "$T/drain.err" || fail "drain error: $(cat "$T/drain.err")"
node=$($CTL --json nodes | json 'd["nodes"][0]["node_id"]')
$CTL drain "$node" | grep -q "^requested: drain $node " || fail "drain $node"
$CTL accounting --csv | head -1 | grep -qx 'cloud,nodes,vm_seconds,vm_hours,core_seconds,core_hours,cost' \
    || fail "accounting csv header"
echo "requests: ok"
