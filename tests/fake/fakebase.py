"""fakebase: what the three fake clouds in tests/fake/ share.

fake_ec2.py, fake_openstack.py and fake_deltacloud.py each speak their own
cloud's API; this module gives them one threaded loopback server, one way to
start (ephemeral port written to --port-file) and one "world" for the
end-to-end tests, configured by the same options on every fake:

  --address-pool FILE   addresses to hand out to booted instances, one per
                        line ("#" starts a comment), e.g. 198.18.0.11. An
                        instance takes the first free one and gives it back
                        when it is deleted; when none is free a boot fails
                        with the cloud's real quota/capacity error. Without
                        the option each fake hands out 127.x addresses.
  --on-boot CMD         run CMD INSTANCE_ID ADDRESS (CMD split like a shell
  --on-terminate CMD    would, shlex) when an instance becomes running / is
                        terminated. The hook runs synchronously before the
                        reply that first shows the change is sent, bounded by
                        30 s; a failing hook is logged on stderr, not fatal.
  --state-file FILE     after every change, atomically (write + rename) write
                        a JSON list of the live instances:
                        [{"id", "name", "address", "state", "tags": {...}}]
  --fault SPEC          (repeatable) inject a fault, see below.
  --control FILE        fault SPECs, one a line; the file is re-read on every
                        API request, and when its content changed its counts
                        start again (write "throttle 3" to throttle the next
                        three requests; empty the file to stop).

A fault SPEC is one of
  throttle N    the next N API requests get the cloud's throttling error
  error N       the next N API requests get the cloud's internal error (5xx)
  drop N        the next N API requests: connection closed, no reply
  quota [N]     boots (all, or the next N) get the cloud's quota error
  latency S     every API request waits S more seconds
Only the cloud API proper counts as an API request (not the fakes' /_fake or
/_control endpoints, not Keystone, not IMDS).

Python 3 standard library only.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOOK_TIMEOUT = 30.0
FAULT_KINDS = ("throttle", "error", "drop", "quota", "latency")


class FaultSpecError(ValueError):
    pass


class Fault:
    """One parsed SPEC: kind, and how many requests it still applies to
    (None = every one while it is configured)."""

    __slots__ = ("kind", "left", "value")

    def __init__(self, spec):
        words = spec.split()
        if not words or words[0] not in FAULT_KINDS or len(words) > 2:
            raise FaultSpecError("fault %r: expected one of %s, then a number"
                                 % (spec, ", ".join(FAULT_KINDS)))
        self.kind = words[0]
        self.value = 0.0
        self.left = None
        try:
            if self.kind == "latency":
                if len(words) != 2:
                    raise ValueError
                self.value = float(words[1])
                if not 0 <= self.value <= 600:
                    raise ValueError
            elif len(words) == 2:
                self.left = int(words[1])
                if self.left < 0:
                    raise ValueError
            elif self.kind != "quota":
                raise ValueError
        except ValueError:
            raise FaultSpecError("fault %r: bad or missing number" % spec) from None


def parse_fault(spec):
    """argparse type for --fault."""
    import argparse
    try:
        Fault(spec)
    except FaultSpecError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return spec


class Faults:
    """The --fault SPECs and the --control file, thread safe."""

    def __init__(self, specs, control, log):
        self.lock = threading.Lock()
        self.static = [Fault(s) for s in specs or ()]
        self.control = control
        self.control_text = None
        self.dynamic = []
        self.applied = {k: 0 for k in FAULT_KINDS if k != "latency"}
        self.log = log

    def _refresh(self):
        if not self.control:
            return
        try:
            with open(self.control, encoding="utf-8") as f:
                text = f.read(1 << 16)
        except FileNotFoundError:
            text = ""
        except OSError as e:
            self.log("control file %s: %s" % (self.control, e))
            return
        if text == self.control_text:
            return
        self.control_text = text
        rules = []
        for n, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                rules.append(Fault(line))
            except FaultSpecError as e:
                self.log("%s:%d: %s (line ignored)" % (self.control, n, e))
        self.dynamic = rules

    def take(self, boot):
        """For one API request: (extra latency in seconds, action), action one
        of None, "drop", "throttle", "error", "quota" (boots only)."""
        with self.lock:
            self._refresh()
            rules = self.static + self.dynamic
            latency = sum(r.value for r in rules if r.kind == "latency")
            kinds = ("drop", "throttle", "error") + (("quota",) if boot else ())
            for kind in kinds:
                for r in rules:
                    if r.kind == kind and (r.left is None or r.left > 0):
                        if r.left is not None:
                            r.left -= 1
                        self.applied[kind] += 1
                        return latency, kind
            return latency, None


class AddressPool:
    """The --address-pool file: first free address out, freed ones back."""

    def __init__(self, path):
        self.addresses = []
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                if not re.fullmatch(r"[0-9a-fA-F:.]+", line) or line in self.addresses:
                    raise ValueError("%s:%d: %r is not a new IP address" % (path, n, line))
                self.addresses.append(line)
        self.used = set()

    def free(self):
        return len(self.addresses) - len(self.used)

    def take(self):
        for a in self.addresses:
            if a not in self.used:
                self.used.add(a)
                return a
        return None

    def release(self, address):
        self.used.discard(address)

    def reset(self):
        self.used.clear()


class World:
    """Address pool, hooks, state file and faults of one fake.

    The fake calls take_address/booted/terminated/changed while it holds its
    own lock (they only queue work), and flush(snapshot) before it sends a
    reply: flush runs the queued hooks and, if anything changed, writes the
    state file from snapshot() (a list of instance dicts)."""

    def __init__(self, args, name):
        self.name = name
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.pool = AddressPool(args.address_pool) if args.address_pool else None
        self.on_boot = shlex.split(args.on_boot) if args.on_boot else None
        self.on_terminate = shlex.split(args.on_terminate) if args.on_terminate else None
        self.state_file = args.state_file
        self.faults = Faults(args.fault, args.control, self.log)
        self.queue = []
        self.hooks_in_flight = 0
        self.hooks_done = threading.Condition(self.lock)
        self.dirty = True
        self.seq = 0                 # changes seen / written to the state file
        self.written = 0
        self.hooks_run = []          # (kind, id, address, exit status) for /_fake state

    def log(self, msg):
        sys.stderr.write("%s: %s\n" % (self.name, msg))
        sys.stderr.flush()

    # ---- called under the fake's lock ----------------------------------------
    def take_address(self, fallback):
        """An address for a new instance: from the pool (None when it is
        empty), else fallback()."""
        if self.pool is None:
            return fallback()
        return self.pool.take()

    def addresses_free(self, default):
        return default if self.pool is None else min(default, self.pool.free())

    def booted(self, iid, address):
        with self.lock:
            self.dirty = True
            if self.on_boot:
                self.queue.append(("boot", iid, address))

    def terminated(self, iid, address):
        with self.lock:
            if self.pool is not None and address:
                self.pool.release(address)
            self.dirty = True
            if self.on_terminate:
                self.queue.append(("terminate", iid, address))

    def changed(self):
        with self.lock:
            self.dirty = True

    def reset(self):
        with self.lock:
            if self.pool is not None:
                self.pool.reset()
            self.dirty = True
            self.hooks_run = []

    # ---- called before a reply, without the fake's lock if possible ----------
    def flush(self, snapshot):
        # Run the queued hooks; and wait for those other threads are running,
        # so that no reply shows a change before its hook has finished.
        while True:
            with self.lock:
                if self.queue:
                    kind, iid, address = self.queue.pop(0)
                    self.hooks_in_flight += 1
                elif self.hooks_in_flight:
                    self.hooks_done.wait(HOOK_TIMEOUT + 5)
                    continue
                else:
                    break
            try:
                self.run_hook(kind, iid, address)
            finally:
                with self.lock:
                    self.hooks_in_flight -= 1
                    self.hooks_done.notify_all()
        if not self.state_file:
            return
        # The snapshot is taken without holding write_lock (snapshot() takes
        # the fake's lock, which the caller may hold while another thread
        # writes); a snapshot taken for an older change never overwrites one
        # taken for a newer change.
        with self.lock:
            if not self.dirty:
                return
            self.dirty = False
            self.seq += 1
            seq = self.seq
        instances = snapshot()
        with self.write_lock:
            if seq > self.written:
                self.write_state(instances)
                self.written = seq

    def run_hook(self, kind, iid, address):
        argv = (self.on_boot if kind == "boot" else self.on_terminate) + [iid, address or ""]
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=sys.stderr,
                               timeout=HOOK_TIMEOUT, check=False)
            status = r.returncode
            if status != 0:
                self.log("on-%s hook %s exited with %d" % (kind, shlex.join(argv), status))
        except subprocess.TimeoutExpired:
            status = -1
            self.log("on-%s hook %s killed after %.0f s" % (kind, shlex.join(argv), HOOK_TIMEOUT))
        except OSError as e:
            status = -2
            self.log("on-%s hook %s: %s" % (kind, shlex.join(argv), e))
        with self.lock:
            self.hooks_run.append([kind, iid, address, status])

    def write_state(self, instances):
        tmp = "%s.tmp.%d" % (self.state_file, os.getpid())
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(instances, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.state_file)

    def status(self):
        with self.lock:
            return {"hooks": list(self.hooks_run), "faults_applied": dict(self.faults.applied),
                    "addresses_free": None if self.pool is None else self.pool.free()}


def add_arguments(parser):
    """The options every fake takes (see the module docstring)."""
    parser.add_argument("--port-file", required=True,
                        help="write the listening port here (atomically) once ready")
    parser.add_argument("--address-pool", metavar="FILE",
                        help="addresses to hand out, one a line; none free = quota/capacity error")
    parser.add_argument("--on-boot", metavar="CMD",
                        help="run CMD INSTANCE_ID ADDRESS when an instance becomes running")
    parser.add_argument("--on-terminate", metavar="CMD",
                        help="run CMD INSTANCE_ID ADDRESS when an instance is terminated")
    parser.add_argument("--state-file", metavar="FILE",
                        help="JSON list of live instances, rewritten atomically after every change")
    parser.add_argument("--fault", metavar="SPEC", action="append", default=[], type=parse_fault,
                        help="throttle N | error N | drop N | quota [N] | latency S (repeatable)")
    parser.add_argument("--control", metavar="FILE",
                        help="fault SPECs one a line, re-read on every API request")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")


def make_parser(doc, fixtures_area):
    """An argument parser for a fake: the shared options, --fixtures
    (tests/fixtures/<fixtures_area> by default), and this module's docstring
    under --help."""
    import argparse
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=doc.splitlines()[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.add_argument("--fixtures", default=os.path.join(here, "..", "fixtures", fixtures_area),
                   help="the recorded replies (default: tests/fixtures/%s)" % fixtures_area)
    return p


def run(args, handler, fixtures, state, name):
    """Serve `handler` on 127.0.0.1 with server.fixtures, .state, .world and
    .verbose set, until SIGTERM."""
    srv = FakeServer(("127.0.0.1", 0), handler)
    srv.fixtures = fixtures
    srv.state = state
    srv.world = World(args, name)
    srv.verbose = args.verbose
    serve(srv, args.port_file)


class Fixtures:
    """The recorded bodies under --fixtures."""

    def __init__(self, root):
        self.root = root

    def raw(self, rel):
        with open(os.path.join(self.root, rel), "rb") as f:
            return f.read()

    def text(self, rel):
        return self.raw(rel).decode("utf-8")

    def json(self, rel):
        return json.loads(self.raw(rel))


class BaseState:
    """A fake's mutable state: reset() fills it; `lock` (re-entrant: a reply
    sent under it writes the state file, which reads the state) guards it."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        raise NotImplementedError


class FakeHandler(BaseHTTPRequestHandler):
    """What the REST fakes' handlers share: HTTP/1.1 keep-alive, quiet logs,
    GET/POST/DELETE into handle_any(method), and the JSON fault rules of
    state.faults (a RuleFaults). A subclass defines handle_any and
    send_raw(status, bytes, headers)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s: %s\n" % (self.server.world.name, fmt % args))

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def fault_for(self, method, path, when):
        st = self.server.state
        with st.lock:
            return st.faults.match(method, path, when)

    def apply_fault(self, f):
        return apply_rule(self, f, self.server.fixtures.raw, self.send_raw)


class FakeServer(ThreadingHTTPServer):
    """A threaded server on 127.0.0.1 that takes a burst of connections (a
    driver creating 64 instances at once) without dropping SYNs."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client that gave up (deadline passed, fault test) is not an error here.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class RuleFaults:
    """The JSON fault rules the driver tests post to a fake (/_fake/faults):
    [{"method", "path_re", "status", "body" | "fixture", "headers", "times",
      "skip", "drop", "when": before|after, "delay"}]. The first live match
    applies; "skip" lets that many matches pass first; "drop" closes the
    connection without a reply; "when": after = once the request took effect
    (a lost reply)."""

    def __init__(self):
        self.rules = []

    def add(self, rules):
        self.rules.extend(rules)

    def match(self, method, path, when):
        """Call with the fake's lock held."""
        for f in self.rules:
            if f.get("times", 1) <= 0 or f.get("when", "before") != when:
                continue
            if f.get("method", method) != method or not re.search(f.get("path_re", ""), path):
                continue
            if f.get("skip", 0) > 0:
                f["skip"] -= 1
                continue
            f["times"] = f.get("times", 1) - 1
            return dict(f)
        return None


def drop_connection(handler):
    """Close the connection without a reply (a lost request or response)."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(2)
    except OSError:
        pass


def apply_rule(handler, f, raw_fixture, send):
    """Apply one matched RuleFaults rule; True when it answered the request.
    send(status, bytes, headers) sends a reply in the fake's own way."""
    if f.get("delay"):
        time.sleep(f["delay"])
    if f.get("drop"):
        drop_connection(handler)
        return True
    if "status" not in f:
        return False
    if "fixture" in f:
        raw = raw_fixture(f["fixture"])
    elif isinstance(f.get("body"), str):
        raw = f["body"].encode()
    elif "body" in f:
        raw = json.dumps(f["body"]).encode()
    else:
        raw = b""
    send(f["status"], raw, f.get("headers"))
    return True


def serve(server, port_file, announce=False):
    """Write the port (atomically), then serve until SIGTERM or ^C."""
    port = server.server_address[1]
    world = getattr(server, "world", None)
    if world is not None:
        world.flush(lambda: [])  # the state file exists (empty) before the port is known
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, port_file)
    if announce:
        print("PORT %d" % port, flush=True)
    signal.signal(signal.SIGTERM,
                  lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    server.server_close()
