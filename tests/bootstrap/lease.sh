#!/bin/sh
# The node side of the controller lease: images/cloudburst-lease-check run
# as the startd cron job would, against a private node root (CB_ROOT).
# HTCondor is not in Debian, so condor_status and shutdown are the stand-ins
# of tests/bootstrap/standins: the collector's ads are files the test writes
# (what the controller's condor_advertise would have sent), the startd's
# slot states a file, and "powering off" a line the stand-in records.
# Everything else (the script, sh, date, hostname) is real.
set -eu
: "${top_srcdir:?}"
check=$top_srcdir/images/cloudburst-lease-check
work=$(mktemp -d "${TMPDIR:-/tmp}/cb-lease-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1" >&2; }
expect() { # expect DESCRIPTION COMMAND...
    what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

# A fresh node root with the stand-ins and a running, answering startd.
new_root() {
    R="$work/$1"
    mkdir -p "$R/usr/bin" "$R/run/condor/collector"
    cp "$top_srcdir"/tests/bootstrap/standins/* "$R/usr/bin/"
    chmod 755 "$R"/usr/bin/*
    : >"$R/run/condor/master.running"
    : >"$R/run/condor/startd.ready"
    : >"$R/run/condor/token.ok"
    STATE="$R/spool/cloudburst-lease"
}
ad() { # ad HEARTBEAT: the controller's ad in the collector
    printf 'MyType = "CloudburstController"\nName = "cloudburst@t2"\nCloudburstHeartbeat = %s\nCloudburstLease = 60\n' \
        "$1" >"$R/run/condor/collector/cloudburst@t2.ad"
}
run() { # run [LEASE]: one cron run; output in $OUT, stderr in $ERR
    OUT=$(CB_ROOT=$R sh "$check" cloudburst@t2 "${1:-60}" "$STATE" 2>"$work/err") || return 1
    ERR=$(cat "$work/err")
}
has() { case $OUT in *"$1"*) return 0 ;; esac; return 1; }
err_has() { case $ERR in *"$1"*) return 0 ;; esac; return 1; }
powered_off() { [ -f "$R/run/poweroff-requested" ]; }
now=$(date +%s)

# Lease 0: disabled, nothing kept.
new_root disabled
run 0
expect "lease 0: never expired" has "CloudburstLeaseExpired = False"
expect "lease 0: no state" test ! -e "$STATE"

# A fresh heartbeat: nothing happens, however often it runs.
new_root fresh
ad $((now - 10))
run && run
expect "fresh heartbeat: not expired" has "CloudburstLeaseExpired = False"
expect "fresh heartbeat: age published" has "CloudburstLeaseAge = "
expect "fresh heartbeat: remembered" grep -qx "$((now - 10))" "$STATE/heartbeat"
expect "fresh heartbeat: no expiry recorded" test ! -e "$STATE/expired"
expect "fresh heartbeat: no poweroff" test ! -e "$R/run/poweroff-requested"

# A stale heartbeat on a busy node: expired (no new jobs), never powered off
# while a job runs.
new_root busy
ad $((now - 600))
printf 'Unclaimed\nClaimed\n' >"$R/run/condor/slot-states"
run
expect "stale, busy, first run: expired" has "CloudburstLeaseExpired = True"
expect "stale, busy, first run: says why" err_has "no heartbeat from cloudburst@t2"
expect "stale, busy, first run: no poweroff" test ! -e "$R/run/poweroff-requested"
run && run
expect "stale, busy, later runs: still expired" has "CloudburstLeaseExpired = True"
expect "stale, busy: waits for the jobs" err_has "waiting for the running jobs"
expect "stale, busy: no poweroff" test ! -e "$R/run/poweroff-requested"
# The job finishes: the next run powers the node off.
echo Unclaimed >"$R/run/condor/slot-states"
run
expect "stale, then idle: powers off" powered_off
expect "stale, then idle: shutdown -h now" grep -qx -- "-h now" "$R/run/poweroff-requested"
expect "stale, then idle: recorded" test -s "$STATE/poweroff"

# A stale heartbeat on an idle node: the first run only publishes the expiry
# (so the startd stops matching); the next one powers off.
new_root idle
ad $((now - 600))
run
expect "stale, idle, first run: expired" has "CloudburstLeaseExpired = True"
expect "stale, idle, first run: no poweroff yet" test ! -e "$R/run/poweroff-requested"
run
expect "stale, idle, second run: powers off" powered_off

# The controller comes back before the node is idle: the expiry ends.
new_root back
ad $((now - 600))
echo Claimed >"$R/run/condor/slot-states"
run && run
ad "$now"
run
expect "heartbeat back: not expired" has "CloudburstLeaseExpired = False"
expect "heartbeat back: expiry cleared" test ! -e "$STATE/expired"
expect "heartbeat back: no poweroff" test ! -e "$R/run/poweroff-requested"

# No ad at all: counted from the time the node joined.
new_root missing
run
expect "no ad, just joined: not expired" has "CloudburstLeaseExpired = False"
echo $((now - 1000)) >"$STATE/joined"
run && run
expect "no ad for longer than the lease since joining: expired" has "CloudburstLeaseExpired = True"
expect "no ad, idle: powers off" powered_off

# The ad vanished after heartbeats were seen, and the collector is down: the
# last heartbeat seen counts.
new_root down
ad $((now - 5))
run
rm -f "$R/run/condor/collector/cloudburst@t2.ad"
run
expect "ad gone, recent heartbeat seen: not expired" has "CloudburstLeaseExpired = False"
echo $((now - 900)) >"$STATE/heartbeat"
: >"$R/run/condor/collector.down"
run
expect "collector down, old heartbeat: expired" has "CloudburstLeaseExpired = True"
expect "collector down: says so" err_has "collector does not answer"

# Damaged state files are not trusted: the node counts as joining now.
new_root damaged
mkdir -p "$STATE"
echo 'not a time' >"$STATE/joined"
printf '12x\n' >"$STATE/heartbeat"
run
expect "damaged state: not expired" has "CloudburstLeaseExpired = False"
expect "damaged state: joined reset" grep -qx '[0-9][0-9]*' "$STATE/joined"

# The startd does not answer: taken as busy, no poweroff.
new_root mute
ad $((now - 600))
rm -f "$R/run/condor/startd.ready"
run && run
expect "startd mute: expired" has "CloudburstLeaseExpired = True"
expect "startd mute: taken as busy" err_has "taken as busy"
expect "startd mute: no poweroff" test ! -e "$R/run/poweroff-requested"

# Misuse is refused (the startd logs it), nothing is queried.
new_root usage
if CB_ROOT=$R sh "$check" 'bad name' 60 "$STATE" 2>/dev/null; then
    fail "a bad controller name is refused"
else
    ok "a bad controller name is refused"
fi
if CB_ROOT=$R sh "$check" cloudburst@t2 1h "$STATE" 2>/dev/null; then
    fail "a bad lease is refused"
else
    ok "a bad lease is refused"
fi

echo "1..$n"
[ "$fails" = 0 ]
