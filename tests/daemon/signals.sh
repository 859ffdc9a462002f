#!/bin/sh
# Signals and the single-writer lock: SIGHUP reload (bad config kept out),
# a second daemon refused with the holder's pid, SIGTERM exits 0.
. "$top_srcdir/tests/daemon/lib.sh"

"$CLOUDBURSTD" --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" --log-level debug > "$T/d.log" 2>&1 &
pid=$!
PIDS="$pid"
wait_for_log "$T/d.log" 'cycle 1 finished'

# A second daemon on the same ledger is refused, naming the holder.
set +e
"$CLOUDBURSTD" --once --stderr -c "$T/cb.conf" --provider-dir "$PROVIDERS" > "$T/second.log" 2>&1; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "second daemon: exit $rc, expected 1"
grep -q "in use by pid $pid" "$T/second.log" || fail "second daemon's error does not name pid $pid"

# SIGHUP with a broken file: logged, old configuration kept, still running.
cp "$T/cb.conf" "$T/good.conf"
echo 'controller = { cycle_interval = "soon"; };' >> "$T/cb.conf"
kill -HUP "$pid"
wait_for_log "$T/d.log" 'keeping the running configuration'
kill -0 "$pid" || fail "daemon died on a bad reload"
# SIGHUP with a valid new file: reloaded.
write_config "$T/cb.conf" 7
kill -HUP "$pid"
wait_for_log "$T/d.log" 'configuration reloaded'

# SIGTERM: the cycle in progress finishes, exit 0.
kill -TERM "$pid"
set +e
wait "$pid"; rc=$?
set -e
PIDS=""
[ "$rc" -eq 0 ] || fail "SIGTERM: exit $rc, expected 0"
grep -q 'stopped after' "$T/d.log" || fail "no clean stop"
echo "signals: ok"
