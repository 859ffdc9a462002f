#!/usr/bin/env python3
"""The pool side of the end-to-end test: a collector, negotiator and startds
that follow what really happened on the test's nodes.

HTCondor is not packaged in Debian, so the end-to-end test cannot run a real
pool. This process keeps the pool's STATE honest instead, every half second:

- a node (registered by tests/e2e/node_host.py in $CB_FAKE_POOL/hosts/ when
  its instance boots) has a startd in the pool only once the bootstrap really
  ran on it: the condor_master stand-in marked run/condor/master.running in
  the node's root, and the configuration the bootstrap wrote there
  (etc/condor/config.d/50-cloudburst.conf) sets the cloud attribute. The
  startd's ads carry the attributes that file puts in STARTD_ATTRS, with the
  values it gives them, so the daemon sees what its bootstrap wrote;
- a negotiator matches idle jobs of $CB_FAKE_POOL/jobs.json (first fit, by
  cpus, honouring the node's START expression for WantCloudNode) to those
  startds, runs each for its JobDuration and removes it when done
  (history.json keeps it, with the node it ran on);
- `condor_off -peaceful -startd` on the node (run over SSH by the daemon; the
  node's stand-in marks run/condor/startd.peaceful) or condor_drain from here
  (startds/<node>.json "Draining") stops new matches; a peaceful startd exits
  when its last job ends (it leaves the pool, as a real one does);
- a node whose instance is terminated while a job runs on it is a KILLED
  job: it is written to killed.json (the test asserts there is none) and the
  job goes back to idle, as HTCondor would reschedule it.

fake_pool.py (condor_q, condor_status, condor_drain, condor_advertise) reads
and writes the same files under the same lock ($CB_FAKE_POOL/lock).
Run: pool_sim.py STATE_DIR (stops when STATE_DIR/stop appears).
"""
import fcntl
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_pool  # noqa: E402  (the ClassAd evaluator)

MEMORY_PER_CPU = 2048


def load(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def save(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def node_config(root):
    """The attributes the bootstrap's configuration advertises, or None."""
    path = os.path.join(root, "etc", "condor", "config.d", "50-cloudburst.conf")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    values, advertised, start = {}, [], None
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
        if not m:
            continue
        name, value = m.group(1), m.group(2).strip()
        if name == "STARTD_ATTRS":
            advertised = [a for a in value.split() if not a.startswith("$(")]
        elif name == "START":
            start = value
        else:
            values[name] = value
    ad = {}
    for attr in advertised:
        v = values.get(attr)
        if v is None:
            continue
        if v in ("True", "true"):
            ad[attr] = True
        elif v in ("False", "false"):
            ad[attr] = False
        elif v.startswith('"') and v.endswith('"'):
            ad[attr] = v[1:-1]
        else:
            ad[attr] = v
    exclusive = start is not None and "WantCloudNode" in start
    return ad, exclusive, values


def token_ok(root):
    tok = os.path.join(root, "etc", "condor", "tokens.d", "cloudburst.token")
    try:
        return (os.stat(tok).st_mode & 0o777) == 0o600
    except FileNotFoundError:
        return False


def lease_check(d, root, values, jobs, sd, now):
    """The startd cron job the bootstrap configured (STARTD_CRON_CBLEASE_*):
    runs the node's real cloudburst-lease-check every PERIOD seconds, with
    the collector's controller ad and the slots' states made visible to the
    node's condor_status stand-in, and returns CloudburstLeaseExpired."""
    exe = values.get("STARTD_CRON_CBLEASE_EXECUTABLE")
    if not exe:
        return False
    period = int(values.get("STARTD_CRON_CBLEASE_PERIOD", "60"))
    expired = sd.get("CloudburstLeaseExpired", False) is True
    if now - sd.get("LeaseRun", 0) < period:
        return expired
    sd["LeaseRun"] = now
    coll = os.path.join(root, "run", "condor", "collector")
    os.makedirs(coll, exist_ok=True)
    args = values.get("STARTD_CRON_CBLEASE_ARGS", "").replace(
        "$(SPOOL)", os.path.join(root, "var", "lib", "condor", "spool")).split()
    ad = os.path.join(d, "controller.ad")
    if args and os.path.exists(ad):
        shutil.copy(ad, os.path.join(coll, args[0] + ".ad"))
    with open(os.path.join(root, "run", "condor", "slot-states"), "w", encoding="utf-8") as f:
        f.write("Claimed\n" * len(jobs) if jobs else "Unclaimed\n")
    r = subprocess.run(["sh", root + exe] + args, env=dict(os.environ, CB_ROOT=root),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    for line in r.stdout.splitlines():
        m = re.match(r"^CloudburstLeaseExpired = (\w+)", line)
        if m:
            expired = m.group(1) == "True"
    sys.stdout.write("%d lease check %s: exit %d, expired %s %s\n" % (now, root, r.returncode, expired,
                                                                     r.stderr.strip()[-200:]))
    sd["CloudburstLeaseExpired"] = expired
    return expired


def power_off(d, iid, root):
    """The node ran `shutdown -h now`: its startd is gone and the cloud
    shows the server SHUTOFF (the fake's /_fake/poweroff), once."""
    mark = os.path.join(root, "run", "powered-off")
    if os.path.exists(mark):
        return
    url = os.environ.get("E2E_CLOUD_URL")
    if url:
        req = urllib.request.Request(url + "/_fake/poweroff", data=json.dumps({"id": iid}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except OSError as e:
            sys.stdout.write("poweroff of %s: %s\n" % (iid, e))
            return
    open(mark, "w").close()
    sys.stdout.write("%d %s powered off\n" % (int(time.time()), iid))


def step(d, now):
    hosts = {}
    for path in glob.glob(os.path.join(d, "hosts", "*.json")):
        h = load(path, None)
        if h:
            hosts[h["instance_id"]] = h
    jobs = load(os.path.join(d, "jobs.json"), [])
    history = load(os.path.join(d, "history.json"), [])
    killed = load(os.path.join(d, "killed.json"), [])
    gone = set(load(os.path.join(d, "gone.json"), []))

    # Jobs on a node whose instance went away were killed.
    for j in jobs:
        if j.get("JobStatus") == 2 and j.get("RemoteInstance") in gone:
            killed.append({"job": "%d.%d" % (j["ClusterId"], j["ProcId"]),
                           "node": j.get("RemoteNode"), "at": now})
            j["JobStatus"] = 1
            for k in ("RemoteHost", "RemoteNode", "RemoteInstance", "JobCurrentStartDate"):
                j.pop(k, None)

    # Running jobs that are done leave the queue.
    still = []
    for j in jobs:
        if j.get("JobStatus") == 2 and now - j["JobCurrentStartDate"] >= j.get("JobDuration", 10):
            j["JobStatus"] = 4
            j["CompletionDate"] = now
            history.append(j)
        else:
            still.append(j)
    jobs = still

    startds = {}
    for iid, h in sorted(hosts.items()):
        root = h["root"]
        conf = node_config(root)
        run = os.path.join(root, "run", "condor")
        if conf is None or not os.path.exists(os.path.join(run, "master.running")):
            continue
        if not token_ok(root) or os.path.exists(os.path.join(run, "startd.exited")):
            continue
        ad, exclusive, values = conf
        if ad.get("IsCloudNode") is not True:
            continue
        if os.path.exists(os.path.join(root, "run", "poweroff-requested")):
            power_off(d, iid, root)
            continue
        sd_path = os.path.join(d, "startds", iid + ".json")
        sd = load(sd_path, {})
        peaceful = os.path.exists(os.path.join(run, "startd.peaceful"))
        draining = peaceful or sd.get("Draining") is True
        mine = [j for j in jobs if j.get("JobStatus") == 2 and j.get("RemoteInstance") == iid]
        if peaceful and not mine:
            # condor_off -peaceful: the startd exits once its jobs are done.
            open(os.path.join(run, "startd.exited"), "w").close()
            continue
        expired = lease_check(d, root, values, mine, sd, now)
        startds[iid] = {"host": h, "ad": ad, "exclusive": exclusive, "draining": draining,
                        "jobs": mine, "started": sd.get("DaemonStartTime", now),
                        "lease_expired": expired, "lease_run": sd.get("LeaseRun", 0)}

    # Negotiate: first fit of idle jobs, in queue order.
    for sd in startds.values():
        # START refuses new jobs while the lease check says expired.
        if sd["draining"] or sd["lease_expired"]:
            continue
        free = sd["host"]["cpus"] - sum(j.get("RequestCpus", 1) for j in sd["jobs"])
        for j in jobs:
            if free <= 0:
                break
            if j.get("JobStatus") != 1 or j.get("RequestCpus", 1) > free:
                continue
            if sd["exclusive"] and j.get("WantCloudNode") is not True:
                continue
            j["JobStatus"] = 2
            j["JobCurrentStartDate"] = now
            j["RemoteInstance"] = sd["host"]["instance_id"]
            j["RemoteNode"] = sd["ad"].get("CloudburstNodeId", "")
            j["RemoteHost"] = "slot1@" + sd["host"]["hostname"]
            sd["jobs"].append(j)
            free -= j.get("RequestCpus", 1)

    # Publish what the collector would hold.
    for path in glob.glob(os.path.join(d, "slots", "*.json")) + glob.glob(os.path.join(d, "startds", "*.json")):
        if os.path.basename(path)[:-5] not in startds:
            os.unlink(path)
    for iid, sd in startds.items():
        h, ad = sd["host"], sd["ad"]
        machine = h["hostname"]
        used = sum(j.get("RequestCpus", 1) for j in sd["jobs"])
        base = dict(ad)
        base.update({"Machine": machine, "LastHeardFrom": now, "DaemonStartTime": sd["started"]})
        pslot = dict(base)
        pslot.update({
            "Name": "slot1@" + machine, "SlotType": "Partitionable", "PartitionableSlot": True,
            "State": "Unclaimed", "Activity": "Idle", "Cpus": h["cpus"] - used,
            "TotalSlotCpus": h["cpus"], "Memory": (h["cpus"] - used) * MEMORY_PER_CPU,
            "TotalSlotMemory": h["cpus"] * MEMORY_PER_CPU, "Disk": 20000000, "TotalSlotDisk": 20000000,
            "ChildState": ["Claimed"] * len(sd["jobs"]), "ChildCpus": [j.get("RequestCpus", 1) for j in sd["jobs"]],
            "EnteredCurrentActivity": sd["started"],
        })
        slots = [pslot]
        for n, j in enumerate(sd["jobs"], 1):
            dyn = dict(base)
            dyn.update({
                "Name": "slot1_%d@%s" % (n, machine), "SlotType": "Dynamic", "DynamicSlot": True,
                "State": "Claimed", "Activity": "Retiring" if sd["draining"] else "Busy",
                "Cpus": j.get("RequestCpus", 1), "TotalSlotCpus": j.get("RequestCpus", 1),
                "Memory": j.get("RequestMemory", 1024), "TotalSlotMemory": j.get("RequestMemory", 1024),
                "Disk": 1000000, "TotalSlotDisk": 1000000, "JobStart": j["JobCurrentStartDate"],
                "EnteredCurrentActivity": j["JobCurrentStartDate"],
            })
            slots.append(dyn)
        save(os.path.join(d, "slots", iid + ".json"), slots)
        sd_path = os.path.join(d, "startds", iid + ".json")
        old = load(sd_path, {})
        save(sd_path, {"Name": machine, "Machine": machine, "Draining": old.get("Draining", False) or sd["draining"],
                       "DrainReason": old.get("DrainReason"), "DaemonStartTime": sd["started"],
                       "IsCloudNode": True, "CloudburstLeaseExpired": sd["lease_expired"],
                       "LeaseRun": sd["lease_run"]})
    save(os.path.join(d, "jobs.json"), jobs)
    save(os.path.join(d, "history.json"), history)
    save(os.path.join(d, "killed.json"), killed)


def main(argv):
    d = argv[1]
    os.makedirs(os.path.join(d, "hosts"), exist_ok=True)
    os.makedirs(os.path.join(d, "slots"), exist_ok=True)
    os.makedirs(os.path.join(d, "startds"), exist_ok=True)
    with open(os.path.join(d, "lock"), "a", encoding="utf-8") as lockf:
        while not os.path.exists(os.path.join(d, "stop")):
            fcntl.flock(lockf, fcntl.LOCK_EX)
            try:
                step(d, int(time.time()))
            finally:
                fcntl.flock(lockf, fcntl.LOCK_UN)
            time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
