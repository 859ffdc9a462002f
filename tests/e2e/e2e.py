#!/usr/bin/env python3
"""End-to-end test of cloudburstd: the real daemon, the real OpenStack driver
against the stateful fake cloud (tests/fake/fake_openstack.py), whose every
booted instance is a real host with its own sshd in a network namespace this
test creates (tests/e2e/node_host.py), and a pool whose state follows what
really happened on those hosts (tests/e2e/pool_sim.py behind the stand-in
condor tools of tests/e2e/fake_pool.py).

Scenario: a burst of jobs appears -> instances boot -> the daemon bootstraps
them over SSH and they join -> the jobs run and finish -> the nodes drain ->
the instances are terminated -> the pool is back to zero. In the same run:
cloud API errors and throttling, a node that never comes up (black hole: the
circuit breaker opens), a node whose SSH host key is not the one on record
(refused; every other node's key must match the one its console shows, as
host_key_policy = "strict" demands), and kill -9 of the daemon at random instants, each followed by a
restart. Then the lease: with jobs running, the controller is killed for
good; the nodes' own lease check (images/cloudburst-lease-check, run as the
startd cron job the bootstrap configured) must stop taking jobs once the
heartbeat is older than the lease, let the running jobs finish and power the
VM off; a restarted controller then terminates the stopped VMs.

Asserted at the end: no instance left (nothing leaked), no node booted twice,
no job killed and every job run exactly once, the ledger passes SQLite's
integrity check and agrees with what the cloud really booted, and the
metrics and `cloudburstctl explain` agree with the ledger. The timeouts are
scaled down to the scenario's pace, except lost_timeout, left at its default
(600 s, longer than the scenario's deadline): a node drained and gone while
the daemon was down must be terminated as it would have been without the
crash, not after lost_timeout.

Environment: top_srcdir, top_builddir (as `make check` sets them); E2E_KILLS
(kill -9 injections, default 3), E2E_SEED (random seed, default: time),
E2E_KEEP=1 keeps the test directory, E2E_LEASE=0 skips the lease phase. Needs root (network namespaces), ip(8)
and sshd; exits 77 (skipped) with the reason when the machine lacks them.
See docs/e2e.md for a long run (1,000 kill injections).
"""
import fcntl
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("top_srcdir", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("top_builddir", ".")
SRC, BUILD = os.path.abspath(SRC), os.path.abspath(BUILD)
SSHD = os.environ.get("SSHD") or shutil.which("sshd") or "/usr/sbin/sshd"
KEYGEN = os.environ.get("SSH_KEYGEN") or shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"

N_JOBS = 8            # one-core jobs
JOB_SECONDS = 25
NODE_CPUS = 2         # m1.medium
N_ADDRESSES = 12      # test hosts the fake cloud may hand out
DEADLINE = 480        # seconds for the whole scenario


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def log(msg):
    sys.stdout.write("e2e: %s\n" % msg)
    sys.stdout.flush()


def run(*argv, check=True, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False, **kw)
    if check and r.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()[-500:]))
    return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def preflight(tag):
    if os.geteuid() != 0:
        raise Skip("needs root to create network namespaces")
    if shutil.which("ip") is None:
        raise Skip("ip(8) from iproute2 is missing")
    if not os.access(SSHD, os.X_OK):
        raise Skip("no sshd at %s (openssh-server)" % SSHD)
    ns = "cb%s-probe" % tag
    r = run("ip", "netns", "add", ns, check=False)
    if r.returncode != 0:
        raise Skip("cannot create a network namespace: %s" % r.stderr.strip())
    run("ip", "netns", "del", ns, check=False)
    for p in ("src/cloudburstd", "src/cloudburstctl", "providers/openstack/.libs/openstack.so"):
        if not os.path.exists(os.path.join(BUILD, p)):
            raise Fail("%s is not built" % p)


class World:
    def __init__(self, tag, seed):
        self.tag = tag
        self.rng = random.Random(seed)
        self.dir = tempfile.mkdtemp(prefix="cbe2e.")
        self.procs = []
        self.daemon = None
        self.daemon_runs = 0
        self.orphans = set()
        self.submitted = [(100, i) for i in range(N_JOBS)]
        self.kills = 0
        self.metrics_port = free_port()
        os.makedirs(os.path.join(self.dir, "pool", "hosts"))
        os.makedirs(os.path.join(self.dir, "state"))
        self.env = dict(os.environ, E2E_DIR=self.dir, E2E_TAG=tag, CB_FAKE_POOL=os.path.join(self.dir, "pool"),
                        E2E_NODE_CPUS=str(NODE_CPUS), SSHD=SSHD, SSH_KEYGEN=KEYGEN,
                        PYTHONDONTWRITEBYTECODE="1")

    def path(self, *p):
        return os.path.join(self.dir, *p)

    # ---- set-up --------------------------------------------------------
    def setup(self):
        d = self.dir
        run(KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "cloudburst-e2e", "-f", self.path("node_key"))
        shutil.copy(self.path("node_key.pub"), self.path("authorized_keys"))
        with open(self.path("token"), "w", encoding="utf-8") as f:
            f.write("eyJhbGciOiJIUzI1NiJ9.e2e.token\n")
        with open(self.path("os-password"), "w", encoding="utf-8") as f:
            f.write("secret-password")
        for p in ("token", "os-password", "node_key"):
            os.chmod(self.path(p), 0o600)
        with open(self.path("addresses"), "w", encoding="utf-8") as f:
            # This run's own /24s of 198.18.0.0/15 (512 of them), chosen by
            # its tag, so runs side by side (a CI job and a long kill run)
            # never share an address.
            slots = 510 // N_ADDRESSES
            used = set()
            for m in re.finditer(r"inet 198\.(18|19)\.(\d+)\.1/", run("ip", "-o", "-4", "addr", "show").stdout):
                used.add(((int(m.group(1)) - 18) * 256 + int(m.group(2)) - 1) // N_ADDRESSES)
            first = int(self.tag, 16) % slots
            slot = next((x % slots for x in range(first, first + slots) if x % slots not in used), first)
            base = 1 + slot * N_ADDRESSES
            for n in range(base, base + N_ADDRESSES):
                f.write("198.%d.%d.2\n" % (18 + n // 256, n % 256))
        # The third instance that boots never comes up (a black hole).
        with open(self.path("blackholes"), "w", encoding="utf-8") as f:
            f.write("3\n")
        # Node cb-2-1's host key on record is not the one its sshd will show:
        # the bootstrap must refuse it. (Batch cb-1 is the boot the cloud
        # fails with a 503; a kill injection may shift the numbering, so the
        # check only holds the refusal to account if cb-2-1 was booted.)
        run(KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f", self.path("impostor"))
        with open(self.path("impostor.pub"), encoding="utf-8") as f:
            typ, b64 = f.read().split()[:2]
        with open(self.path("state", "known_hosts"), "w", encoding="utf-8") as f:
            f.write("cb-2-1 %s %s\n" % (typ, b64))
        for tool in ("condor_q", "condor_status", "condor_drain", "condor_advertise"):
            os.symlink(os.path.join(SRC, "tests", "e2e", "fake_pool.py"), self.path("pool", tool))
        jobs = [{"ClusterId": 100, "ProcId": i, "JobStatus": 1, "RequestCpus": 1, "RequestMemory": 1024,
                 "RequestDisk": 100000, "QDate": int(time.time()), "Owner": "cms", "JobUniverse": 5,
                 "WantCloudNode": True, "JobDuration": JOB_SECONDS} for i in range(N_JOBS)]
        with open(self.path("pool", "jobs.json"), "w", encoding="utf-8") as f:
            json.dump(jobs, f)
        self.start_cloud()
        self.start_pool()
        self.write_config()

    def start_cloud(self):
        hook = os.path.join(SRC, "tests", "e2e", "node_host.py")
        port_file = self.path("cloud.port")
        p = subprocess.Popen(
            [sys.executable, os.path.join(SRC, "tests", "fake", "fake_openstack.py"), "--port-file", port_file,
             "--build-time", "1", "--address-pool", self.path("addresses"),
             "--on-boot", "%s %s up" % (sys.executable, hook),
             "--on-terminate", "%s %s down" % (sys.executable, hook),
             "--state-file", self.path("cloud-state.json"), "--console-dir", self.path("console")],
            env=self.env, stdout=open(self.path("cloud.log"), "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.cloud_port = int(open(port_file).read().strip())
                self.env["E2E_CLOUD_URL"] = "http://127.0.0.1:%d" % self.cloud_port
                return
            if p.poll() is not None:
                raise Fail("the fake cloud exited: %s" % open(self.path("cloud.log")).read()[-1000:])
            time.sleep(0.05)
        raise Fail("the fake cloud did not start")

    def start_pool(self):
        p = subprocess.Popen([sys.executable, os.path.join(SRC, "tests", "e2e", "pool_sim.py"), self.path("pool")],
                             env=self.env, stdout=open(self.path("pool.log"), "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)

    def write_config(self):
        d = self.dir
        conf = """
pool = {
  name = "t2-e2e";
  central_manager = "cm.e2e.test";
  condor_q = "%(d)s/pool/condor_q";
  condor_status = "%(d)s/pool/condor_status";
  condor_drain = "%(d)s/pool/condor_drain";
  condor_advertise = "%(d)s/pool/condor_advertise";
  drain_method = "ssh";
};
controller = {
  cycle_interval = 5;
  reconcile_every = 2;
  state_dir = "%(d)s/state";
  provider_dir = "%(b)s/providers";
  ramp_fraction = 1.0;
  idle_timeout = 15;
  billing_margin = 0;
  boot_timeout = 60;
  join_timeout = 60;
  breaker_failures = 1;
  breaker_backoff_min = 20;
  breaker_backoff_max = 40;
  throttle_backoff = 5;
  call_timeout = 30;
  lease = 30;
};
bootstrap = {
  script_dir = "%(s)s/images";
  ssh = { user = "root"; key_file = "%(d)s/node_key"; known_hosts_file = "%(d)s/state/known_hosts";
          host_key_policy = "strict"; connect_timeout = 5; };
  failure_action = "quarantine";
  quarantine_time = 10;
  condor = { token_file = "%(d)s/token"; };
  cvmfs = { repositories = [ "cms.cern.ch" ]; http_proxy = "http://squid.e2e.test:3128"; };
};
metrics = { listen = "127.0.0.1:%(m)d"; };
ledger = { path = "%(d)s/state/ledger.db"; };
clouds = (
  {
    name = "e2e-openstack";
    provider = "openstack";
    image = "fakeimage7";
    max_nodes = 6;
    flavors = ( { name = "m1.medium"; cpus = 2; memory_mb = 4096; disk_gb = 40; cost_per_hour = 0.10; } );
    openstack = {
      auth_url = "http://127.0.0.1:%(p)d/identity/v3";
      username = "demo";
      password_file = "%(d)s/os-password";
      project_name = "demo";
    };
  }
);
""" % {"d": d, "b": BUILD, "s": SRC, "m": self.metrics_port, "p": self.cloud_port}
        with open(self.path("cb.conf"), "w", encoding="utf-8") as f:
            f.write(conf)
        r = run(os.path.join(BUILD, "src", "cloudburstd"), "--check-config", "-c", self.path("cb.conf"),
                "--provider-dir", os.path.join(BUILD, "providers"), check=False, env=self.env)
        if r.returncode != 0:
            raise Fail("configuration refused: %s %s" % (r.stdout[-800:], r.stderr[-800:]))

    # ---- the daemon ----------------------------------------------------
    def start_daemon(self):
        self.daemon_runs += 1
        out = open(self.path("daemon.log"), "a")
        out.write("==== start %d\n" % self.daemon_runs)
        out.flush()
        self.daemon = subprocess.Popen(
            [os.path.join(BUILD, "src", "cloudburstd"), "--stderr", "--log-level", "debug", "-c", self.path("cb.conf")],
            env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def kill_daemon(self):
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()
        self.kills += 1

    def stop_daemon(self):
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                raise Fail("cloudburstd did not stop on SIGTERM within 60 s")

    def fault(self, spec):
        req = urllib.request.Request("http://127.0.0.1:%d/_fake/faults" % self.cloud_port,
                                     data=json.dumps(spec).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    # ---- observation ---------------------------------------------------
    def cloud_instances(self):
        try:
            with open(self.path("cloud-state.json"), encoding="utf-8") as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def pool_file(self, name, default):
        try:
            with open(self.path("pool", name), encoding="utf-8") as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return default

    def ledger_rows(self, sql):
        db = sqlite3.connect("file:%s?mode=ro" % self.path("state", "ledger.db"), uri=True, timeout=10)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def ctl(self, *args):
        r = run(os.path.join(BUILD, "src", "cloudburstctl"), "--ledger", self.path("state", "ledger.db"), *args,
                env=self.env)
        return r.stdout

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=10) as r:
            return r.read().decode()

    def update_jobs(self, fn):
        """Change the queue under the pool's lock (pool_sim.py runs it)."""
        with open(self.path("pool", "lock"), "a", encoding="utf-8") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            jobs = self.pool_file("jobs.json", [])
            jobs = fn(jobs)
            with open(self.path("pool", "jobs.json.tmp"), "w", encoding="utf-8") as f:
                json.dump(jobs, f)
            os.replace(self.path("pool", "jobs.json.tmp"), self.path("pool", "jobs.json"))

    def add_jobs(self, cluster, n, seconds):
        new = [{"ClusterId": cluster, "ProcId": i, "JobStatus": 1, "RequestCpus": 1, "RequestMemory": 1024,
                "RequestDisk": 100000, "QDate": int(time.time()), "Owner": "cms", "JobUniverse": 5,
                "WantCloudNode": True, "JobDuration": seconds} for i in range(n)]
        self.submitted += [(cluster, i) for i in range(n)]
        self.update_jobs(lambda jobs: jobs + new)

    def done(self):
        inst = self.cloud_instances()
        history = self.pool_file("history.json", [])
        return inst == [] and len(history) >= len(self.submitted)

    def cleanup(self):
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        open(self.path("pool", "stop"), "w").close()
        # Whatever the outcome, no namespace of this run survives it.
        r = run("ip", "netns", "list", check=False)
        for line in r.stdout.splitlines():
            ns = line.split()[0] if line.split() else ""
            if ns.startswith("cb%s-" % self.tag):
                pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                run("ip", "netns", "del", ns, check=False)
                run("ip", "link", "del", "cb%sh%s" % (self.tag, ns.rsplit("-", 1)[1]), check=False)


def scenario(w, n_kills):
    start = time.time()
    # Faults from the start: the first boot is throttled, the next fails with
    # a 5xx; listings fail once.
    w.fault([{"method": "POST", "path_re": "/servers$", "status": 429, "fixture": "authored/rate-limit-429.json",
              "times": 1},
             {"method": "POST", "path_re": "/servers$", "status": 503, "times": 1,
              "body": {"computeFault": {"code": 503, "message": "Service Unavailable"}}},
             {"method": "GET", "path_re": "/servers/detail", "status": 500, "times": 1,
              "body": {"computeFault": {"code": 500, "message": "Internal Server Error"}}}])
    # An instance with this pool's tags that no ledger knows (left by a lost
    # controller, say) and whose node is not in the pool: reconciliation
    # terminates it.
    req = urllib.request.Request("http://127.0.0.1:%d/_fake/seed" % w.cloud_port, method="POST",
                                 data=json.dumps({"count": 1, "name": "t2-e2e--cb-900", "status": "ACTIVE",
                                                  "metadata": {"cloudburst-pool": "t2-e2e",
                                                               "cloudburst-batch": "cb-900"}}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()
    w.orphans = {i["id"] for i in (w.cloud_instances() or [])}
    if len(w.orphans) != 1:
        raise Fail("seeding the orphan instance: cloud state %s" % w.cloud_instances())
    w.start_daemon()
    kill_times = sorted(w.rng.uniform(5, 150) for _ in range(n_kills))
    log("kill -9 planned at %s s" % ", ".join("%.1f" % t for t in kill_times))
    while time.time() - start < DEADLINE:
        el = time.time() - start
        if kill_times and el >= kill_times[0]:
            kill_times.pop(0)
            w.kill_daemon()
            time.sleep(w.rng.uniform(0, 2))
            w.start_daemon()
            log("t=%.0f s: killed the daemon (-9) and restarted it (run %d)" % (el, w.daemon_runs))
        if w.daemon.poll() is not None:
            raise Fail("cloudburstd exited on its own with status %d" % w.daemon.returncode)
        if not kill_times and w.done():
            log("t=%.0f s: all %d jobs done, no instance left" % (el, N_JOBS))
            break
        time.sleep(0.5)
    else:
        inst = w.cloud_instances()
        raise Fail("not done after %d s: %d job(s) finished, instances left: %s"
                   % (DEADLINE, len(w.pool_file("history.json", [])), inst))
    # A few more cycles: nothing may happen once the pool is empty.
    time.sleep(12)


def lease_phase(w):
    """The controller's host dies for good while its nodes run jobs: the
    nodes' lease check (the real images/cloudburst-lease-check, run by the
    pool as the startd cron job the bootstrap configured) sees the heartbeat
    age past the lease, takes no new job, lets the running ones finish and
    powers the VM off. A restarted controller then ends the stopped VMs."""
    start = time.time()
    w.add_jobs(200, 4, 50)
    while True:
        jobs = w.pool_file("jobs.json", [])
        if sum(1 for j in jobs if j["ClusterId"] == 200 and j["JobStatus"] == 2) == 4:
            break
        if time.time() - start > 240:
            raise Fail("lease phase: the 4 jobs did not all start within 240 s")
        if w.daemon.poll() is not None:
            raise Fail("cloudburstd exited on its own with status %d" % w.daemon.returncode)
        time.sleep(0.5)
    live = {i["id"] for i in w.cloud_instances() or []}
    w.kill_daemon()
    killed_at = time.time()
    with open(w.path("pool", "controller.ad"), encoding="utf-8") as f:
        heartbeat = int(re.search(r"^CloudburstHeartbeat = (\d+)$", f.read(), re.M).group(1))
    log("lease: 4 jobs running on %d instance(s); controller killed for good" % len(live))
    # Once every node's lease has expired, new work must not start anywhere.
    late_added = False
    while True:
        el = time.time() - killed_at
        sds = [w.pool_file(os.path.join("startds", f), {}) for f in os.listdir(w.path("pool", "startds"))
               if f.endswith(".json")]
        if not late_added and sds and all(sd.get("CloudburstLeaseExpired") is True for sd in sds):
            if time.time() - heartbeat < 30:
                raise Fail("lease expired %.0f s after the last heartbeat, before the 30 s lease"
                           % (time.time() - heartbeat))
            w.add_jobs(201, 2, 10)
            late_added = True
            log("lease: expired on every node after %.0f s; 2 new jobs queued" % el)
        inst = w.cloud_instances() or []
        if inst and all(i["state"] == "SHUTOFF" for i in inst if i["id"] in live):
            break
        if el > 200:
            raise Fail("lease: instances still running %.0f s after the controller died: %s"
                       % (el, [(i["id"], i["state"]) for i in inst]))
        time.sleep(0.5)
    log("lease: every node powered itself off %.0f s after the controller died" % (time.time() - killed_at))
    jobs = w.pool_file("jobs.json", [])
    started_late = [j for j in jobs if j["ClusterId"] == 201 and j["JobStatus"] != 1]
    finished = {(j["ClusterId"], j["ProcId"]) for j in w.pool_file("history.json", [])}
    if not late_added:
        raise Fail("lease: the expiry was never published by the nodes")
    if started_late or any((201, i) in finished for i in range(2)):
        raise Fail("lease: a node whose lease had expired started new jobs")
    if not all((200, i) in finished for i in range(4)):
        raise Fail("lease: a job did not finish before its node powered off")
    # The late jobs are withdrawn (condor_rm); a restarted controller ends
    # the stopped VMs.
    w.update_jobs(lambda js: [j for j in js if j["ClusterId"] != 201])
    w.submitted = [x for x in w.submitted if x[0] != 201]
    w.start_daemon()
    while w.cloud_instances() != []:
        if time.time() - killed_at > 420:
            raise Fail("lease: stopped instances not terminated: %s" % w.cloud_instances())
        time.sleep(0.5)
    log("lease: the restarted controller terminated the stopped instances (%.0f s after the kill)"
        % (time.time() - killed_at))
    # The ledger closes the nodes once a listing confirms; then a few idle cycles.
    while w.ledger_rows("SELECT count(*) FROM nodes WHERE state NOT IN ('gone', 'failed')") != [(0,)]:
        if time.time() - killed_at > 480:
            break  # check() reports what is still live
        time.sleep(0.5)
    time.sleep(12)


def check(w):
    failures = []

    def expect(cond, msg):
        if not cond:
            failures.append(msg)

    # No VM leaked: the cloud has nothing left.
    inst = w.cloud_instances()
    expect(inst == [], "instances left in the cloud: %s" % inst)
    # Every instance that came up also went down, once.
    ups, downs, names = {}, {}, {}
    with open(w.path("hosts.log"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\d+ (up|down) (\S+) (\S+)", line)
            if m:
                (ups if m.group(1) == "up" else downs).setdefault(m.group(2), 0)
                (ups if m.group(1) == "up" else downs)[m.group(2)] += 1
            expect("FAILED" not in line, "host hook failed: %s" % line.strip())
    expect(set(ups) == set(downs) - w.orphans, "instances up but never terminated: %s" % (set(ups) - set(downs)))
    expect(w.orphans <= set(downs), "the orphan instance was never terminated")
    expect(all(v == 1 for v in ups.values()), "an instance came up twice: %s" % ups)
    # No job killed; each ran exactly once.
    killed = w.pool_file("killed.json", [])
    expect(killed == [], "jobs killed: %s" % killed)
    history = w.pool_file("history.json", [])
    ids = sorted((j["ClusterId"], j["ProcId"]) for j in history)
    expect(ids == sorted(w.submitted), "jobs run: %s" % ids)
    # The ledger: intact, every node gone, and each instance the cloud booted
    # belongs to exactly one ledger node (no double boot, none unknown).
    rows = w.ledger_rows("PRAGMA integrity_check")
    expect(rows == [("ok",)], "ledger integrity: %s" % rows)
    nodes = w.ledger_rows("SELECT node_id, instance_id, state FROM nodes")
    expect(nodes, "the ledger holds no node")
    live = [n for n in nodes if n[2] not in ("gone", "failed")]
    expect(not live, "ledger nodes still live: %s" % live)
    by_instance = {}
    for node_id, iid, _ in nodes:
        if iid:
            by_instance.setdefault(iid, []).append(node_id)
    expect(all(len(v) == 1 for v in by_instance.values()), "an instance in two ledger nodes: %s" % by_instance)
    expect(set(ups) - w.orphans <= set(by_instance), "instances booted that the ledger does not know: %s"
           % (set(ups) - w.orphans - set(by_instance)))
    node_ids = [n[0] for n in nodes]
    expect(len(node_ids) == len(set(node_ids)), "a node id booted twice: %s" % node_ids)
    # The faults happened and were handled as designed.
    text = open(w.path("daemon.log"), encoding="utf-8", errors="replace").read()
    expect(re.search(r"throttled \(HTTP 429\), retrying", text), "the throttled boot was not retried")
    expect(re.search(r"terminate \S+ / %s on e2e-openstack \(unknown-instance\)" % next(iter(w.orphans)), text),
           "the orphan instance was not terminated as unknown")

    expect(re.search(r"boot \S+ failed \(transient\)", text), "no failed (5xx) boot in the log")
    impostor = w.ledger_rows("SELECT instance_id, idle_at, busy_at FROM nodes WHERE node_id = 'cb-2-1'")
    if impostor and impostor[0][0]:
        expect(re.search(r"cb-2-1.*host key", text, re.I), "cb-2-1's changed host key was not reported")
        expect(impostor[0][1] is None and impostor[0][2] is None, "cb-2-1 joined despite its changed host key")
    expect("breaker" in w.ctl("events") + text or "breaker-open" in text, "the breaker never opened")
    # Strict host keys: every node that joined was logged into only after its
    # sshd's key matched the one its console showed (nothing is accepted new).
    joined = [r[0] for r in w.ledger_rows(
        "SELECT node_id FROM nodes WHERE idle_at IS NOT NULL OR busy_at IS NOT NULL")]
    expect(joined, "no node joined")
    for node_id in joined:
        expect(re.search(r"bootstrap %s: host key SHA256:\S+ matches the console's; recorded" % re.escape(node_id),
                         text), "%s joined without its host key checked against the console" % node_id)
    expect("accept-new" not in text, "a host key was accepted unverified")
    # Metrics and explain agree with the ledger: nothing live, nothing to do.
    m = w.metrics()
    for state in ("requested", "booting", "bootstrapping", "idle", "busy", "draining", "terminating"):
        vals = re.findall(r'^cloudburst_nodes\{cloud="e2e-openstack",state="%s"\} (\S+)$' % state, m, re.M)
        expect(vals == ["0"], "metric cloudburst_nodes{state=%s} = %s" % (state, vals))
    expect(re.search(r"^cloudburst_idle_jobs 0$", m, re.M), "metric cloudburst_idle_jobs is not 0")
    explain = json.loads(w.ctl("--json", "explain"))
    text_explain = json.dumps(explain)
    expect("nothing-to-do" in text_explain, "explain of the last cycle: %s" % text_explain[:400])
    status = json.loads(w.ctl("--json", "status"))
    expect(json.dumps(status).count('"live"') == 0 or re.search(r'"live": 0', json.dumps(status)),
           "status disagrees: %s" % json.dumps(status)[:400])
    return failures, ups


def main():
    tag = secrets.token_hex(2)
    seed = int(os.environ.get("E2E_SEED", str(int(time.time()))))
    n_kills = int(os.environ.get("E2E_KILLS", "3"))
    try:
        preflight(tag)
    except Skip as e:
        log("skipped: %s" % e)
        return 77
    # A harness that stops the test (make's timeout, ^C) must not leave
    # namespaces, sshds or a daemon behind: the finally below cleans up.
    def stop(signum, frame):
        raise Fail("stopped by signal %d" % signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    w = World(tag, seed)
    log("directory %s, tag %s, seed %d, %d kill injection(s)" % (w.dir, tag, seed, n_kills))
    rc = 1
    try:
        w.setup()
        scenario(w, n_kills)
        if os.environ.get("E2E_LEASE", "1") != "0":
            lease_phase(w)
        failures, ups = check(w)
        w.stop_daemon()
        if failures:
            for f in failures:
                log("FAIL: %s" % f)
        else:
            log("ok: %d instance(s) booted and terminated, %d jobs run, %d kill -9 injection(s), %d daemon start(s)"
                % (len(ups), len(w.submitted), w.kills, w.daemon_runs))
            rc = 0
    except Fail as e:
        log("FAIL: %s" % e)
    finally:
        w.cleanup()
        if rc != 0:
            for name in ("daemon.log", "cloud.log", "hosts.log", "pool.log"):
                p = w.path(name)
                if os.path.exists(p):
                    log("---- last lines of %s" % name)
                    sys.stdout.write("".join(open(p, errors="replace").readlines()[-60:]))
        if rc == 0 and not os.environ.get("E2E_KEEP"):
            shutil.rmtree(w.dir, ignore_errors=True)
        else:
            log("kept %s" % w.dir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
