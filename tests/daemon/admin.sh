#!/bin/sh
# Operator requests end to end: cloudburstctl writes them to the ledger, the
# daemon's next cycle hands them to the core and acts on them, and the
# request's outcome is written back for cloudburstctl to show.
. "$top_srcdir/tests/daemon/lib.sh"

ctl() { "$CLOUDBURSTCTL" --ledger "$T/state/ledger.db" "$@"; }

# terminate --force of a node still booting: terminated at once. The daemon
# runs on (not --once), so the boot's result reaches the next cycle.
idle_jobs 1
"$CLOUDBURSTD" --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" --log-level debug \
    > "$T/terminate.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_for_log "$T/terminate.log" 'boot cb-1: 1 of 1 instance(s) accepted' 30
wait_for_log "$T/terminate.log" 'cycle 2 finished' 30
idle_jobs 0
# A node that is not ours is refused by cloudburstctl itself.
ctl drain cb-99-0 > "$T/req1.out" 2>&1 && fail "drain of an unknown node was accepted"
grep -q 'cb-99-0' "$T/req1.out" || fail "cloudburstctl did not name the unknown node"
ctl terminate --force cb-1-0 > "$T/req2.out" || fail "terminate request refused"
wait_for_log "$T/terminate.log" 'terminate cb-1-0 (i-cb-1) accepted' 30
wait_for_log "$T/terminate.log" 'controller ad published' 10
kill -TERM "$DPID"
wait "$DPID" || fail "cloudburstd did not stop cleanly"
grep -q 'terminate of cb-1-0 (booting) by .*terminated at once' "$T/terminate.log" \
    || fail "the request did not reach the cycle"
grep -q 'terminate cb-1-0 / i-cb-1 on testcloud (operator-terminate)' "$T/terminate.log" \
    || fail "no operator-terminate decision"
ctl --json nodes > "$T/nodes.json"
python3 - "$T/nodes.json" <<'PY' || fail "ledger does not show the node terminating"
import json, sys
d = json.load(open(sys.argv[1]))
nodes = d["nodes"] if isinstance(d, dict) else d
n = [x for x in nodes if x["node_id"] == "cb-1-0"][0]
assert n["state"] in ("terminating", "gone"), n
PY
ctl --json explain > "$T/explain.json" || fail "explain"
grep -q 'operator-terminate' "$T/explain.json" || grep -q 'operator-terminate' "$T/terminate.log" \
    || fail "operator-terminate is not explained"

# Pause: a restarted daemon boots nothing although jobs are idle; the cycle
# is recorded after the restart (cycle numbers go on from the ledger's).
ctl pause > /dev/null || fail "pause"
idle_jobs 3
"$CLOUDBURSTD" --once --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" --log-level debug \
    > "$T/paused.log" 2>&1 || fail "paused cycle failed"
grep -q 'paused by' "$T/paused.log" || fail "pause not applied"
! grep -q 'boot [0-9]* x small' "$T/paused.log" || fail "booted while paused"
! grep -q 'recording a cycle' "$T/paused.log" || fail "the cycle after a restart was not recorded"
ctl explain > "$T/explain.out" || fail "explain"
grep -q 'paused' "$T/explain.out" || fail "explain does not show the pause"
echo "admin: ok"
