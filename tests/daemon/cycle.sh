#!/bin/sh
# One cycle end to end: stand-in pool -> pool adapter -> core -> ledger -> driver.
. "$top_srcdir/tests/daemon/lib.sh"

idle_jobs 1
# Shadow mode decides but records and does nothing.
"$CLOUDBURSTD" --once --dry-run --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" --log-level debug \
    > "$T/dry.log" 2>&1 || fail "dry-run cycle failed"
grep -q 'dry-run: would boot [0-9]* x small on testcloud as cb-1 (demand)' "$T/dry.log" || fail "no boot decision in dry run"
"$CLOUDBURSTCTL" --ledger "$T/state/ledger.db" --json nodes > "$T/nodes.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=d["nodes"] if isinstance(d,dict) else d; sys.exit(len(n) != 0)' "$T/nodes.json" \
    || fail "dry run wrote nodes to the ledger"
grep -q 'condor_q | -allusers | -global | -constraint' "$T/pool/calls.log" || fail "condor_q was not run as expected"

# A real cycle: the boot intent is durable and the instance recorded.
"$CLOUDBURSTD" --once --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" --log-level debug \
    > "$T/real.log" 2>&1 || fail "cycle failed"
grep -q 'boot [0-9]* x small on testcloud as cb-1 (demand)' "$T/real.log" || fail "no boot"
"$CLOUDBURSTCTL" --ledger "$T/state/ledger.db" --json nodes > "$T/nodes.json"
python3 - "$T/nodes.json" <<'PY' || fail "ledger does not hold the booted node"
import json, sys
d = json.load(open(sys.argv[1]))
nodes = d["nodes"] if isinstance(d, dict) else d
assert len(nodes) >= 1, nodes
n = nodes[0]
assert n["node_id"] == "cb-1-0", n
assert n["state"] == "requested", n
assert n["instance_id"] == "i-cb-1", n
PY
"$CLOUDBURSTCTL" --ledger "$T/state/ledger.db" events > "$T/events.log"
grep -q 'intent .*batch cb-1' "$T/events.log" || fail "no intent event"

# Restart: the ledger's node is restored, the next batch id does not collide.
"$CLOUDBURSTD" --once --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" --log-level debug \
    > "$T/restart.log" 2>&1 || fail "second cycle failed"
! grep -q 'as cb-1 ' "$T/restart.log" || fail "batch id cb-1 reused after restart"
# The controller side of the lease: its ad reached the collector.
grep -q '^MyType = "CloudburstController"$' "$T/pool/controller.ad" || fail "no controller ad"
grep -q '^CloudburstPool = "t2-test"$' "$T/pool/controller.ad" || fail "controller ad lacks the pool"
hb=$(sed -n 's/^CloudburstHeartbeat = //p' "$T/pool/controller.ad")
now=$(date +%s)
[ $((now - hb)) -lt 120 ] || fail "stale heartbeat $hb (now $now)"
grep -q '^CloudburstLease = 900$' "$T/pool/controller.ad" || fail "controller ad lacks the lease"
echo "cycle: ok"
