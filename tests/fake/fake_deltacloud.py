#!/usr/bin/env python3
"""fake_deltacloud: a stateful Deltacloud API 1.1.1 server (mock driver) for the driver tests.

Listens on 127.0.0.1 (ephemeral port, written to --port-file). Replies are built
from the real recorded bodies in tests/fixtures/deltacloud/ (entry point,
instance, error documents), with ids, names, states, addresses and links filled
in from the fake's state. Like the recorded mock driver it needs HTTP Basic
auth, creates one instance per POST /api/instances (PENDING, RUNNING after
--build-time seconds), stops a RUNNING instance (POST .../stop -> STOPPED) and
destroys only a STOPPED one (DELETE -> 204), refusing otherwise with 405.

Control endpoints (no auth), JSON:
  GET  /_fake/state    counters: instances, creates, posts, requests, names, last_create,
                       max_inflight (most API requests served at once), hooks run,
                       faults applied, addresses free
  POST /_fake/config   {"build_time", "quota", "latency", "user_name_feature"}
  POST /_fake/seed     {"count", "name"}: RUNNING instances "<name>-<i>" without a create
  POST /_fake/faults   [{"method", "path_re", "status", "body" | "fixture", "headers",
                         "times", "skip", "drop", "when": before|after, "delay"}]
  POST /_fake/reset
The end-to-end options every fake shares (tests/fake/fakebase.py):
--address-pool, --on-boot, --on-terminate, --state-file, --fault, --control.
Here a boot with no free address, a "quota" fault and the --quota limit all
get the back end's InstanceLimitExceeded (HTTP 502, as Deltacloud passes it
on); "throttle" is HTTP 429, "error" an HTTP 500 <error> document. An
instance "becomes running" when it turns RUNNING and "is terminated" when it
is destroyed; the state file has no tags (Deltacloud has none: the name
carries them). Only python3's standard library is used; without a pool the
addresses handed out are 127.x.
"""
import json
import re
import sys
import time
from base64 import b64decode
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

sys.dont_write_bytecode = True  # never write into the (read-only) source tree
import fakebase  # noqa: E402  (tests/fake/fakebase.py)

USER, PASSWORD = "mockuser", "mockpassword"
IMAGES = ("img1", "img2", "img3")
PROFILES = ("m1-small", "m1-large", "m1-xlarge", "opaque")
REALMS = ("us", "eu")


class Fixtures(fakebase.Fixtures):
    def __init__(self, root):
        super().__init__(root)
        self.api = self.text("api.xml")
        self.instance = self.text("instance-create.xml")
        self.error404 = self.text("error-404.xml")
        self.error401 = self.text("error-401.txt")


class State(fakebase.BaseState):
    def reset(self):
        self.instances = {}      # id -> dict, insertion ordered
        self.next_id = 100
        self.creates = 0
        self.posts = 0
        self.requests = {}
        self.faults = fakebase.RuleFaults()
        self.inflight = 0
        self.max_inflight = 0
        self.last_create = None
        self.cfg = {"build_time": self.args.build_time, "quota": self.args.quota,
                    "latency": self.args.latency, "user_name_feature": True}


class Handler(fakebase.FakeHandler):
    server_version = "Apache-Deltacloud/1.1.1 (fake)"

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, data=b"", ctype="application/xml", headers=None):
        self.server.world.flush(self.snapshot)
        if isinstance(data, str):
            data = data.encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Deltacloud-Driver", "mock")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def error(self, status, message, path):
        # The recorded <error> document, with this request's status, url and message.
        doc = self.server.fixtures.error404
        doc = doc.replace("status='404'", "status='%d'" % status)
        doc = doc.replace("url='/api/instances/foo'", "url=%s" % quoteattr(path))
        doc = doc.replace("<code>404</code>", "<code>%d</code>" % status)
        doc = doc.replace("<![CDATA[Not Found]]>", "<![CDATA[%s]]>" % message)
        self.send(status, doc)

    # ---- faults ------------------------------------------------------------------
    def send_raw(self, status, raw, headers):
        self.send(status, raw, headers=headers)

    def world_fault(self, action, path):
        """A fault from --fault / --control, as this cloud reports it."""
        if action == "drop":
            fakebase.drop_connection(self)
        elif action == "throttle":
            self.send(429, "Too Many Requests", ctype="text/plain", headers={"Retry-After": "1"})
        elif action == "error":
            self.error(500, "Internal Server Error", path)
        elif action == "quota":
            self.quota_error()

    def quota_error(self):
        self.error(502, "InstanceLimitExceeded: Your quota allows for 0 more running instance(s).",
                   "/api/instances")

    def snapshot(self):
        """The live instances, for the --state-file."""
        st = self.server.state
        with st.lock:
            return [{"id": i["id"], "name": i["name"], "address": i["private"],
                     "state": self.state_of(i), "tags": {}} for i in st.instances.values()]

    # ---- dispatch ---------------------------------------------------------------
    def handle_any(self, method):
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query)
        st = self.server.state
        body = self.read_body() if method in ("POST", "PUT") else b""
        if path.startswith("/_fake/"):
            return self.control(method, path, body)
        with st.lock:
            key = "%s %s" % (method, re.sub(r"^/api/instances/[^/]+", "/api/instances/{id}", path))
            st.requests[key] = st.requests.get(key, 0) + 1
            latency = st.cfg["latency"]
            st.inflight += 1
            st.max_inflight = max(st.max_inflight, st.inflight)
        try:
            self.api(method, path, query, body, latency)
        finally:
            with st.lock:
                st.inflight -= 1

    def api(self, method, path, query, body, latency):
        extra, action = self.server.world.faults.take(method == "POST" and path == "/api/instances")
        if latency or extra:
            time.sleep(latency + extra)
        if action is not None and path.startswith("/api/instances"):
            return self.world_fault(action, path)
        f = self.fault_for(method, path, "before")
        if f and self.apply_fault(f):
            return
        auth = self.headers.get("Authorization", "")
        try:
            ok = auth.startswith("Basic ") and b64decode(auth[6:]).decode() == USER + ":" + PASSWORD
        except ValueError:
            ok = False
        if not ok:
            return self.send(401, self.server.fixtures.error401, ctype="text/html;charset=utf-8",
                             headers={"WWW-Authenticate": 'Basic realm="Deltacloud API"'})
        if method == "GET" and path == "/api":
            return self.entry_point()
        if method == "GET" and path == "/api/instances":
            return self.list_instances()
        if method == "POST" and path == "/api/instances":
            form = parse_qs(body.decode("utf-8", "replace"))
            for k, v in query.items():
                form.setdefault(k, v)
            return self.create(form)
        m = re.fullmatch(r"/api/instances/([^/]+)(/stop|/start)?", path)
        if m:
            return self.instance_action(method, m.group(1), m.group(2), path)
        self.error(404, "Not Found", path)

    def control(self, method, path, body):
        st = self.server.state
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            doc = None
        with st.lock:
            if path == "/_fake/state":
                out = {"instances": len(st.instances), "creates": st.creates, "posts": st.posts,
                       "requests": st.requests, "last_create": st.last_create,
                       "max_inflight": st.max_inflight,
                       "names": [i["name"] for i in st.instances.values()],
                       "states": {i["id"]: self.state_of(i) for i in st.instances.values()},
                       "addresses": {i["id"]: i["private"] for i in st.instances.values()}}
                out.update(self.server.world.status())
            elif path == "/_fake/config" and isinstance(doc, dict):
                st.cfg.update(doc)
                out = st.cfg
            elif path == "/_fake/faults" and isinstance(doc, list):
                st.faults.add(doc)
                out = {"faults": len(st.faults.rules)}
            elif path == "/_fake/seed" and isinstance(doc, dict):
                for i in range(int(doc.get("count", 1))):
                    n = st.next_id
                    st.next_id += 1
                    iid = "inst%d" % n
                    st.instances[iid] = {
                        "id": iid, "name": "%s-%d" % (doc.get("name", "seed"), i), "image": "img1",
                        "hwp": "m1-small", "realm": "us", "state": "RUNNING", "created": time.time(),
                        "private": "127.1.%d.%d" % ((n >> 8) & 255, n & 255),
                        "public": "127.2.%d.%d" % ((n >> 8) & 255, n & 255)}
                self.server.world.changed()
                out = {"instances": len(st.instances)}
            elif path == "/_fake/reset":
                st.reset()
                self.server.world.reset()
                out = {}
            else:
                out = None
        if out is None:
            return self.send(404, b'{"error": "unknown control path"}', ctype="application/json")
        self.send(200, json.dumps(out), ctype="application/json")

    # ---- the API ------------------------------------------------------------------
    def entry_point(self):
        doc = self.server.fixtures.api.replace("http://localhost:3001", self.base())
        with self.server.state.lock:
            named = self.server.state.cfg["user_name_feature"]
        if not named:
            doc = re.sub(r"\s*<feature name='user_name' rel='create'>.*?</feature>", "", doc,
                         flags=re.S)
        self.send(200, doc)

    def state_of(self, inst):
        if inst["state"] == "PENDING" and time.time() - inst["created"] >= float(
                self.server.state.cfg["build_time"]):
            inst["state"] = "RUNNING"
            self.server.world.booted(inst["id"], inst["private"])
        return inst["state"]

    def render(self, inst, indent=""):
        st = self.state_of(inst)
        b = self.base()
        iid = inst["id"]
        actions = {
            "PENDING": [("stop", "post", "/stop")],
            "RUNNING": [("reboot", "post", "/reboot"), ("stop", "post", "/stop")],
            "STOPPED": [("start", "post", "/start"), ("destroy", "delete", "")],
        }[st]
        links = "\n".join("    <link href='%s/api/instances/%s%s' method='%s' rel='%s' />" % (
            b, iid, suffix, m, rel) for rel, m, suffix in actions)
        doc = self.server.fixtures.instance
        doc = doc.replace("http://localhost:3001", b)
        doc = doc.replace("inst12", iid)
        doc = re.sub(r"<name>.*?</name>", "<name>%s</name>" % escape(inst["name"]), doc)
        doc = doc.replace("<state>RUNNING</state>", "<state>%s</state>" % st)
        doc = doc.replace("/images/img1' id='img1'", "/images/%s' id='%s'" % (inst["image"], inst["image"]))
        doc = doc.replace("/realms/us' id='us'", "/realms/%s' id='%s'" % (inst["realm"], inst["realm"]))
        doc = doc.replace("/hardware_profiles/m1-small' id='m1-small'",
                          "/hardware_profiles/%s' id='%s'" % (inst["hwp"], inst["hwp"]))
        doc = re.sub(r"<actions>.*?</actions>", "<actions>\n%s\n  </actions>" % links, doc, flags=re.S)
        doc = re.sub(r"<public_addresses>.*?</public_addresses>",
                     "<public_addresses><address type='ipv4'>%s</address></public_addresses>" % inst["public"], doc)
        doc = re.sub(r"<private_addresses>.*?</private_addresses>",
                     "<private_addresses><address type='ipv4'>%s</address></private_addresses>" % inst["private"], doc)
        return doc

    def list_instances(self):
        st = self.server.state
        with st.lock:
            parts = [re.sub(r"^<\?xml[^>]*>\s*", "", self.render(i)) for i in st.instances.values()]
        f = self.fault_for("GET", "/api/instances", "after")
        if f and self.apply_fault(f):
            return
        self.send(200, "<?xml version='1.0' encoding='utf-8' ?>\n<instances>\n%s</instances>\n" % "".join(parts))

    def create(self, form):
        st = self.server.state
        one = lambda k: (form.get(k) or [None])[0]
        image, hwp, realm, name = one("image_id"), one("hwp_id") or "m1-small", one("realm_id") or "us", one("name")
        if image not in IMAGES:
            return self.error(400, "Parameter image_id must be one of %s" % ", ".join(IMAGES), "/api/instances")
        if hwp not in PROFILES:
            return self.error(400, "Hardware profile %s not found" % hwp, "/api/instances")
        if realm not in REALMS:
            return self.error(400, "Realm %s not found" % realm, "/api/instances")
        ud = one("user_data")
        if ud is not None:
            try:
                b64decode(ud, validate=True)
            except ValueError:
                return self.error(400, "user_data must be base64", "/api/instances")
        world = self.server.world
        with st.lock:
            st.posts += 1
            st.last_create = {k: v[0] for k, v in form.items()}
            if len(st.instances) >= int(st.cfg["quota"]):
                return self.quota_error()
            n = st.next_id
            address = world.take_address(lambda: "127.1.%d.%d" % ((n >> 8) & 255, n & 255))
            if address is None:
                return self.quota_error()
            iid = "inst%d" % st.next_id
            st.next_id += 1
            inst = {"id": iid, "name": name or "i-%d" % int(time.time()), "image": image, "hwp": hwp,
                    "realm": realm, "state": "PENDING", "created": time.time(),
                    "private": address, "public": "127.2.%d.%d" % ((n >> 8) & 255, n & 255)}
            st.instances[iid] = inst
            st.creates += 1
            world.changed()
            doc = self.render(inst)
        f = self.fault_for("POST", "/api/instances", "after")
        if f and self.apply_fault(f):
            return
        self.send(201, doc, headers={"Location": "%s/api/instances/%s" % (self.base(), iid)})

    def instance_action(self, method, iid, action, path):
        st = self.server.state
        with st.lock:
            inst = st.instances.get(iid)
            if inst is None:
                return self.error(404, "Not Found", path)
            state = self.state_of(inst)
            if method == "GET" and action is None:
                return self.send(200, self.render(inst))
            if method == "POST" and action == "/stop":
                if state not in ("RUNNING", "PENDING"):
                    return self.error(405, "Requested method not allowed: stop in state %s" % state, path)
                inst["state"] = "STOPPED"
                self.server.world.changed()
                return self.send(202, self.render(inst))
            if method == "POST" and action == "/start":
                if state != "STOPPED":
                    return self.error(405, "Requested method not allowed: start in state %s" % state, path)
                inst["state"] = "RUNNING"
                self.server.world.changed()
                return self.send(202, self.render(inst))
            if method == "DELETE" and action is None:
                if state != "STOPPED":
                    return self.error(405, "Requested method not allowed: destroy in state %s" % state, path)
                del st.instances[iid]
                self.server.world.terminated(iid, inst["private"])
                return self.send(204)
        self.error(405, "Requested method not allowed", path)


def main():
    p = fakebase.make_parser(__doc__, "deltacloud")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    p.add_argument("--build-time", type=float, default=0.0, help="seconds in PENDING before RUNNING")
    p.add_argument("--quota", type=int, default=100000, help="instances the account may hold")
    args = p.parse_args()
    fakebase.run(args, Handler, Fixtures(args.fixtures), State(args), "fake_deltacloud")


if __name__ == "__main__":
    main()
