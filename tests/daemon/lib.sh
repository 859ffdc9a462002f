# Shared set-up for the daemon's script tests (sourced).
# Creates $T (a private directory) with an SSH key, an IDTOKEN, a stand-in pool
# (tests/e2e/fake_pool.py behind condor_* names) and a configuration
# $T/cb.conf whose only cloud uses the loader test driver "loadergood".
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/cbdaemon.XXXXXX")
trap 'stop_all; rm -rf "$T"' EXIT
CLOUDBURSTD="$top_builddir/src/cloudburstd"
CLOUDBURSTCTL="$top_builddir/src/cloudburstctl"
PROVIDERS="$top_builddir/tests/loader"
export CB_FAKE_POOL="$T/pool"
PIDS=""

fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }
stop_all() { for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done; }

mkdir -p "$T/pool/slots" "$T/pool/startds" "$T/state"
for tool in condor_q condor_status condor_drain condor_advertise; do
    ln -s "$top_srcdir/tests/e2e/fake_pool.py" "$T/pool/$tool"
done
echo '[]' > "$T/pool/jobs.json"
"${SSH_KEYGEN:-ssh-keygen}" -q -t ed25519 -N '' -f "$T/node_key"
printf 'eyJhbGciOiJIUzI1NiJ9.test.token\n' > "$T/token"
chmod 600 "$T/token" "$T/node_key"

# write_config FILE [cycle_interval]
# $EXTRA_CONTROLLER and $EXTRA_CLOUDS, when set, are added to the controller
# group and to the list of clouds.
write_config() {
    cat > "$1" <<CONF
pool = {
  name = "t2-test";
  central_manager = "cm.example.org";
  condor_q = "$T/pool/condor_q";
  condor_status = "$T/pool/condor_status";
  condor_drain = "$T/pool/condor_drain";
  condor_advertise = "$T/pool/condor_advertise";
  query_timeout = 30;
};
controller = {
  cycle_interval = ${2:-5};
  state_dir = "$T/state";
  ${EXTRA_CONTROLLER:-}
};
bootstrap = {
  script_dir = "$top_srcdir/images";
  ssh = { key_file = "$T/node_key"; known_hosts_file = "$T/state/known_hosts"; };
  condor = { token_file = "$T/token"; };
};
clouds = (
  {
    name = "testcloud";
    provider = "loadergood";
    image = "img-1";
    flavors = ( { name = "small"; cpus = 1; memory_mb = 4000; disk_gb = 20; cost_per_hour = 0.05; } );
    loadergood = { };
  }${EXTRA_CLOUDS:-}
);
ledger = { path = "$T/state/ledger.db"; };
CONF
}
write_config "$T/cb.conf"

# idle_jobs N: N idle one-core jobs that ask for cloud nodes
idle_jobs() {
    python3 - "$1" > "$T/pool/jobs.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"ClusterId": 1, "ProcId": i, "JobStatus": 1, "RequestCpus": 1,
                   "RequestMemory": 2000, "RequestDisk": 1000000, "QDate": 1700000000,
                   "Owner": "cms", "JobUniverse": 5, "WantCloudNode": True} for i in range(n)]))
PY
}

# wait_for_log FILE PATTERN [seconds]
wait_for_log() {
    i=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le $((${3:-30} * 10)) ] || fail "timed out waiting for '$2' in $1"
        sleep 0.1
    done
}
