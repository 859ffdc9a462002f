#!/usr/bin/env python3
"""The "virtual machines" of the end-to-end test: a fake cloud runs
`node_host.py up INSTANCE_ID ADDRESS` when an instance becomes running and
`node_host.py down INSTANCE_ID ADDRESS` when it is terminated (its --on-boot
and --on-terminate hooks).

`up` makes the instance a real host: a network namespace of its own (named
after the test, so parallel runs never meet) joined to this machine by a veth
pair, ADDRESS (x.y.z.2 in 198.18.0.0/15, RFC 2544's benchmarking range; each
run of the test takes its own /24s, so runs side by side never meet) on its
side and x.y.z.1 on ours, and a real OpenSSH sshd listening there on port 22 with a
host key of its own. The node's file system is a root prefix
($E2E_DIR/hosts/ID/root): sshd hands it to every session as CB_ROOT, and
PATH starts with its usr/bin, which holds the stand-ins for HTCondor's and
CVMFS's tools (tests/bootstrap/standins and tests/e2e/standins; Debian has
neither package). Everything the daemon does to the node (SSH, the upload,
the bootstrap script, condor_off) is real. The node is then registered with
the stand-in pool (pool_sim.py), which lets it join once the bootstrap
configured it.

Fault injection: an instance whose boot ordinal (1 = the first boot of the
run) is listed in $E2E_DIR/blackholes never gets an sshd: the VM runs but
never becomes reachable, so it never joins.

`down` stops everything in the namespace and removes it, and tells the pool
the instance is gone (a job still running there is then a killed job).
Every call is appended to $E2E_DIR/hosts.log.
"""
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*argv, check=True):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


def names(e2e_tag, n):
    return "cb%s-%d" % (e2e_tag, n), "cb%sh%d" % (e2e_tag, n), "cb%sn%d" % (e2e_tag, n)


def host_index(address):
    """198.18.0.0/15 holds 512 /24s; host N of the test is 198.(18+N/256).(N%256).2."""
    parts = address.split(".")
    if (len(parts) != 4 or parts[0] != "198" or parts[1] not in ("18", "19") or parts[3] != "2"
            or not parts[2].isdigit() or int(parts[2]) > 255):
        raise RuntimeError("address %s is not a test host address (198.18.0.0/15, x.y.z.2)" % address)
    return (int(parts[1]) - 18) * 256 + int(parts[2])


def host_side(n):
    return "198.%d.%d.1" % (18 + n // 256, n % 256)


def log(d, text):
    with open(os.path.join(d, "hosts.log"), "a", encoding="utf-8") as f:
        f.write("%d %s\n" % (int(time.time()), text))


def next_ordinal(d):
    path = os.path.join(d, "boots.count")
    with open(path, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        n = int(f.read().strip() or 0) + 1
        f.seek(0)
        f.truncate()
        f.write(str(n))
    return n


def pool_locked(d, fn):
    with open(os.path.join(d, "pool", "lock"), "a", encoding="utf-8") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        return fn()


def up(d, tag, iid, address):
    n = host_index(address)
    ns, veth_host, veth_node = names(tag, n)
    hdir = os.path.join(d, "hosts", iid)
    root = os.path.join(hdir, "root")
    ordinal = next_ordinal(d)
    os.makedirs(os.path.join(root, "usr", "bin"))
    for sub in ("tmp", "etc", "run", "var/log"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for src in (os.path.join(HERE, "..", "bootstrap", "standins"), os.path.join(HERE, "standins")):
        for name in os.listdir(src):
            dst = os.path.join(root, "usr", "bin", name)
            shutil.copy(os.path.join(src, name), dst)
            os.chmod(dst, 0o755)
    with open(os.path.join(root, "etc", "os-release"), "w", encoding="utf-8") as f:
        f.write("ID=debian\nVERSION_ID=12\n")
    # The network: a namespace per VM, joined to ours by a veth pair.
    sh("ip", "netns", "del", ns, check=False)
    sh("ip", "link", "del", veth_host, check=False)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", veth_host, "type", "veth", "peer", "name", veth_node)
    sh("ip", "link", "set", veth_node, "netns", ns)
    sh("ip", "addr", "add", host_side(n) + "/24", "dev", veth_host)
    sh("ip", "link", "set", veth_host, "up")
    sh("ip", "-n", ns, "addr", "add", address + "/24", "dev", veth_node)
    sh("ip", "-n", ns, "link", "set", veth_node, "up")
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    blackholes = set()
    try:
        with open(os.path.join(d, "blackholes"), encoding="utf-8") as f:
            blackholes = {int(x) for x in f.read().split()}
    except FileNotFoundError:
        pass
    if ordinal in blackholes:
        log(d, "up %s %s boot %d: black hole (no sshd)" % (iid, address, ordinal))
        return 0
    key = os.path.join(hdir, "ssh_host_ed25519_key")
    sh(os.environ.get("SSH_KEYGEN", "ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", iid, "-f", key)
    # What cloud-init prints on the VM's console, for host_key_policy =
    # "strict" (the fake cloud serves it with --console-dir).
    with open(key + ".pub", encoding="utf-8") as f:
        typ, b64 = f.read().split()[:2]
    console = os.path.join(d, "console")
    os.makedirs(console, exist_ok=True)
    with open(os.path.join(console, iid + ".tmp"), "w", encoding="utf-8") as f:
        f.write("ec2: #############################################################\n"
                "-----BEGIN SSH HOST KEY KEYS-----\n%s %s root@vm-%s\n"
                "-----END SSH HOST KEY KEYS-----\n"
                "ec2: #############################################################\n" % (typ, b64, iid))
    os.replace(os.path.join(console, iid + ".tmp"), os.path.join(console, iid))
    cfg = os.path.join(hdir, "sshd_config")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("ListenAddress %s:22\nHostKey %s\nPidFile %s/sshd.pid\n"
                "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                "StrictModes no\nMaxStartups 50:100:60\nLogLevel ERROR\n"
                "Subsystem sftp internal-sftp\n"
                "SetEnv CB_ROOT=%s PATH=%s/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin TMPDIR=%s/tmp "
                "SHLVL=1\n" % (address, key, hdir, d, root, root, root))
        if os.environ.get("E2E_ALLOW_SSH_RSA"):
            f.write("PubkeyAcceptedAlgorithms +ssh-rsa\n")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    sh("ip", "netns", "exec", ns, os.environ.get("SSHD", "/usr/sbin/sshd"), "-f", cfg,
       "-E", os.path.join(hdir, "sshd.log"))
    for _ in range(100):
        try:
            socket.create_connection((address, 22), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        raise RuntimeError("sshd of %s does not listen on %s:22" % (iid, address))

    def register():
        with open(os.path.join(d, "pool", "hosts", iid + ".json.tmp"), "w", encoding="utf-8") as f:
            json.dump({"instance_id": iid, "address": address, "root": root,
                       "cpus": int(os.environ.get("E2E_NODE_CPUS", "2")),
                       "hostname": "vm-%s.e2e.test" % iid}, f)
        os.replace(os.path.join(d, "pool", "hosts", iid + ".json.tmp"),
                   os.path.join(d, "pool", "hosts", iid + ".json"))
    pool_locked(d, register)
    log(d, "up %s %s boot %d" % (iid, address, ordinal))
    return 0


def down(d, tag, iid, address):
    try:
        n = host_index(address)
    except RuntimeError:
        n = None  # an instance the test seeded without a host (never `up`)
    if n is not None:
        ns, veth_host, _ = names(tag, n)
        r = sh("ip", "netns", "pids", ns, check=False)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", veth_host, check=False)

    def unregister():
        gone_path = os.path.join(d, "pool", "gone.json")
        try:
            with open(gone_path, encoding="utf-8") as f:
                gone = json.load(f)
        except FileNotFoundError:
            gone = []
        gone.append(iid)
        with open(gone_path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(gone, f)
        os.replace(gone_path + ".tmp", gone_path)
        try:
            os.unlink(os.path.join(d, "pool", "hosts", iid + ".json"))
        except FileNotFoundError:
            pass
    pool_locked(d, unregister)
    log(d, "down %s %s" % (iid, address))
    return 0


def main(argv):
    if len(argv) != 4 or argv[1] not in ("up", "down"):
        sys.stderr.write("usage: node_host.py up|down INSTANCE_ID ADDRESS\n")
        return 2
    d, tag = os.environ["E2E_DIR"], os.environ["E2E_TAG"]
    try:
        return (up if argv[1] == "up" else down)(d, tag, argv[2], argv[3])
    except (RuntimeError, OSError) as e:
        log(d, "%s %s %s FAILED: %s" % (argv[1], argv[2], argv[3], e))
        sys.stderr.write("node_host: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
