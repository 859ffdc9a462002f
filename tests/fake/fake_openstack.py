#!/usr/bin/env python3
"""fake_openstack: a stateful Keystone v3 + Nova (+ Glance image list) for the driver tests.

Listens on 127.0.0.1 (ephemeral port, written to --port-file). Replies are built
from the real recorded bodies in tests/fixtures/openstack/ (token and catalog,
server, flavors, images, fault bodies), with ids, names, times and addresses
filled in from the fake's state. Servers live in memory: a boot creates them in
BUILD, they turn ACTIVE after --build-time seconds, list pages follow Nova's
limit/marker and servers_links rules, and DELETE removes them.

Control endpoints (no token needed), all JSON:
  GET  /_fake/state         counters: servers, boots, posts, tokens_issued, requests,
                            hooks run, faults applied, addresses free
  POST /_fake/config        {"token_lifetime", "build_time", "quota_instances",
                             "latency", "microversion_mode": echo|ignore|reject, "page_max",
                             "password", "catalog_image": false = no Glance in the catalog}
  POST /_fake/faults        [{"method", "path_re", "status", "body" | "fixture",
                              "headers", "times", "skip", "drop", "when": before|after,
                              "delay"}]: the first live match applies; "skip" lets
                             that many matches pass first; "drop" closes the
                             connection without a reply; "when": after = once the
                             request took effect (a lost reply)
  POST /_fake/expire_tokens every issued token becomes invalid (forces a 401)
  POST /_fake/seed          {"count", "name", "metadata", "status"}: servers without a boot
  POST /_fake/poweroff      {"id"}: the guest powered itself off; the server is SHUTOFF
  POST /_fake/reset         back to the initial state
The console (os-getConsoleOutput) shows, once a server is ACTIVE, the host key
block cloud-init prints: keys derived from the server id, or with --console-dir
the file DIR/<server id> (the VM's real keys, written by the on-boot hook; a
server without one shows no keys, as a VM that never came up).
The end-to-end options every fake shares (tests/fake/fakebase.py):
--address-pool, --on-boot, --on-terminate, --state-file, --fault, --control.
Here a boot that finds fewer free addresses than min_count, a "quota" fault
and --quota-instances all get Nova's 403 "Quota exceeded for instances";
"throttle" is a 429 overLimit with Retry-After, "error" a 500 computeFault.
A server "becomes running" when it turns ACTIVE and "is terminated" when it is
deleted; the state file's tags are the server's metadata. Only python3's
standard library is used; without a pool the addresses handed out are 127.x.
"""
import base64
import copy
import hashlib
import datetime
import json
import os
import re
import secrets
import sys
import time
import uuid
from urllib.parse import parse_qs, urlsplit

sys.dont_write_bytecode = True  # never write into the (read-only) source tree
import fakebase  # noqa: E402  (tests/fake/fakebase.py)

COMPUTE = "/compute/v2.1"
COMPUTE2 = "/compute-two/v2.1"
IMAGE = "/image"


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


class Fixtures(fakebase.Fixtures):
    def __init__(self, root):
        super().__init__(root)
        load = self.json
        self.token = load("libcloud/_v3__auth.json")
        self.unauthorized = load("libcloud/_v3__auth_unauthorized.json")
        self.not_found = load("libcloud/_os_keypairs_not_found.json")
        self.server = load("nova/servers-details-resp.json")["servers"][0]
        self.create = load("nova/server-create-resp.json")
        self.flavors = load("nova/flavors-list-resp.json")
        self.images = load("nova/images-list-get-resp.json")
        self.glance = load("libcloud/_images_v2.json")
        self.quota = load("authored/quota-exceeded-403.json")


class State(fakebase.BaseState):
    def reset(self):
        a = self.args
        self.servers = {}          # id -> dict (insertion ordered)
        self.version = 0           # bumped when servers come or go
        self.listing = None        # (name filter, version, servers, id -> position)
        self.tokens = {}           # token -> expiry (unix time)
        self.tokens_issued = 0
        self.boots = 0
        self.posts = 0
        self.requests = {}
        self.faults = fakebase.RuleFaults()
        self.unauthorized = 0
        self.last_create = None
        self.next_ip = 1
        self.cfg = {
            "token_lifetime": a.token_lifetime, "build_time": a.build_time,
            "quota_instances": a.quota_instances, "latency": a.latency,
            "microversion_mode": a.microversion_mode, "page_max": a.page_max,
            "username": "demo", "password": a.password, "project": "demo", "catalog_image": True,
            "app_cred_id": "423f19a4ac1e4f48bbb4180756e6eb6c", "app_cred_secret": a.password,
        }

    def new_ip(self):
        n = self.next_ip
        self.next_ip += 1
        return "127.%d.%d.%d" % (10 + (n >> 16) % 200, (n >> 8) & 255, n & 255 or 1)


class Handler(fakebase.FakeHandler):
    server_version = "fake-openstack/1"

    # ---- plumbing -----------------------------------------------------------
    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        self._raw_body = raw
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return ValueError

    def send(self, status, body=None, headers=None, raw=None):
        self.server.world.flush(self.snapshot)
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        if data or status not in (204, 304):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def send_raw(self, status, raw, headers):
        self.send(status, raw=raw, headers=headers)

    def world_fault(self, action, extra):
        """A fault from --fault / --control, as Nova reports it."""
        if action == "drop":
            fakebase.drop_connection(self)
        elif action == "throttle":
            self.send(429, {"overLimit": {"code": 429, "message": "Over limit", "retryAfter": "1"}},
                      headers=dict(extra, **{"Retry-After": "1"}))
        elif action == "error":
            self.send(500, {"computeFault": {"code": 500, "message": "Unexpected API Error. Please "
                                             "report this at http://bugs.launchpad.net/nova/ and "
                                             "attach the Nova API log if possible."}}, headers=extra)
        elif action == "quota":
            with self.server.state.lock:
                used, limit = len(self.server.state.servers), int(self.server.state.cfg["quota_instances"])
            self.quota_error(1, used, limit, extra)

    def quota_error(self, wanted, used, limit, extra):
        q = copy.deepcopy(self.server.fixtures.quota)
        q["forbidden"]["message"] = (
            "Quota exceeded for instances: Requested %d, but already used %d of %d instances"
            % (wanted, used, limit))
        self.send(403, q, headers=extra)

    def snapshot(self):
        """The live servers, for the --state-file."""
        st = self.server.state
        with st.lock:
            now, build_time = time.time(), float(st.cfg["build_time"])
            out = []
            for s in st.servers.values():
                self.render(s, now, build_time)
                out.append({"id": s["id"], "name": s["name"], "address": s["ip"],
                            "state": s["cache"][0], "tags": dict(s["metadata"])})
            return out

    def handle_any(self, method):
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        st = self.server.state
        if path.startswith("/_fake/"):
            return self.control(method, path)
        with st.lock:
            key = "%s %s" % (method, re.sub(r"/servers/(?!detail$)[^/]+(?=/action$|$)", "/servers/{id}", path))
            st.requests[key] = st.requests.get(key, 0) + 1
            latency = st.cfg["latency"]
        if latency:
            time.sleep(latency)
        body = self.body_json() if method in ("POST", "PUT") else None
        f = self.fault_for(method, path, "before")
        if f and self.apply_fault(f):
            return
        if path == "/identity/v3/auth/tokens" and method == "POST":
            return self.issue_token(body)
        if not self.authorized():
            with st.lock:
                st.unauthorized += 1
            return self.send(401, self.server.fixtures.unauthorized,
                             headers={"WWW-Authenticate": 'Keystone uri="http://127.0.0.1/identity"'})
        mv = self.headers.get("OpenStack-API-Version")
        mode = st.cfg["microversion_mode"]
        extra = {}
        if mv and mode == "reject":
            return self.send(406, {"computeFault": {"message": "Version %s is not supported by the API." % mv,
                                                    "code": 406}})
        if mv and mode == "echo" and (path.startswith(COMPUTE) or path.startswith(COMPUTE2)):
            word = mv.split()[-1]
            extra = {"OpenStack-API-Version": "compute " + word,
                     "X-OpenStack-Nova-API-Version": word,
                     "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"}
        for prefix in (COMPUTE, COMPUTE2):
            if path.startswith(prefix):
                sub = path[len(prefix):]
                delay, action = self.server.world.faults.take(method == "POST" and sub == "/servers")
                if delay:
                    time.sleep(delay)
                if action is not None:
                    return self.world_fault(action, extra)
                return self.compute(method, sub, query, body, extra)
        if path == IMAGE + "/v2/images" and method == "GET":
            return self.glance(query)
        self.send(404, self.server.fixtures.not_found)

    # ---- control ------------------------------------------------------------
    def control(self, method, path):
        st = self.server.state
        body = self.body_json() if method == "POST" else None
        with st.lock:
            if path == "/_fake/state":
                out = {
                    "servers": len(st.servers), "boots": st.boots, "posts": st.posts,
                    "tokens_issued": st.tokens_issued, "requests": st.requests,
                    "unauthorized": st.unauthorized, "last_create": st.last_create,
                    "names": sorted(s["name"] for s in st.servers.values()),
                    "addresses": {s["id"]: s["ip"] for s in st.servers.values()}}
                out.update(self.server.world.status())
                return self.send(200, out)
            if path == "/_fake/config" and isinstance(body, dict):
                st.cfg.update(body)
                return self.send(200, st.cfg)
            if path == "/_fake/faults" and isinstance(body, list):
                st.faults.add(body)
                return self.send(200, {"faults": len(st.faults.rules)})
            if path == "/_fake/expire_tokens":
                st.tokens = {t: 0 for t in st.tokens}
                return self.send(200, {"expired": len(st.tokens)})
            if path == "/_fake/seed" and isinstance(body, dict):
                status = body.get("status", "ACTIVE")
                now = time.time() - (3600 if status == "ACTIVE" else 0)
                for i in range(int(body.get("count", 1))):
                    name = body.get("name", "seed")
                    if body.get("count", 1) > 1:
                        name = "%s-%d" % (name, i + 1)
                    sid = self.add_server(name, "1", "70a599e0-31e7-49b7-b260-868f441e862b",
                                          body.get("metadata", {}), now, status, st.new_ip())
                    # Render now, so a timed listing measures the driver, not this fake.
                    self.render(st.servers[sid], now, float(st.cfg["build_time"]))
                return self.send(200, {"servers": len(st.servers)})
            if path == "/_fake/poweroff" and isinstance(body, dict):
                # The guest shut itself down (e.g. its cloudburst lease
                # expired): Nova shows the server SHUTOFF until deleted.
                srv = st.servers.get(body.get("id"))
                if srv is None:
                    return self.send(404, {"error": "no such server"})
                srv["status"] = "SHUTOFF"
                srv.pop("cache", None)
                self.server.world.changed()
                return self.send(200, {"id": srv["id"], "status": "SHUTOFF"})
            if path == "/_fake/reset":
                st.reset()
                self.server.world.reset()
                return self.send(200, {})
        self.send(404, {"error": "unknown control path"})

    # ---- keystone -----------------------------------------------------------
    def issue_token(self, body):
        st, fx = self.server.state, self.server.fixtures
        try:
            ident = body["auth"]["identity"]
            methods = ident["methods"]
            with st.lock:
                cfg = dict(st.cfg)
            if methods == ["password"]:
                user = ident["password"]["user"]
                ok = (user["name"] == cfg["username"] and user["domain"]["name"] == "Default"
                      and user["password"] == cfg["password"])
                proj = body["auth"]["scope"]["project"]
                ok = ok and (proj.get("name") == cfg["project"] or
                             proj.get("id") == "9c4693dce56b493b9b83197d900f7fba")
            elif methods == ["application_credential"]:
                ac = ident["application_credential"]
                ok = ac["id"] == cfg["app_cred_id"] and ac["secret"] == cfg["app_cred_secret"]
            else:
                ok = False
        except (KeyError, TypeError):
            return self.send(400, {"error": {"message": "malformed auth request", "code": 400,
                                             "title": "Bad Request"}})
        if not ok:
            return self.send(401, fx.unauthorized)
        tok = secrets.token_hex(32)
        now = time.time()
        with st.lock:
            expiry = now + float(st.cfg["token_lifetime"])
            st.tokens[tok] = expiry
            st.tokens_issued += 1
        doc = copy.deepcopy(fx.token)
        t = doc["token"]
        t["expires_at"] = iso(expiry)
        t["issued_at"] = iso(now)
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        if not cfg["catalog_image"]:
            t["catalog"] = [svc for svc in t["catalog"] if svc["type"] != "image"]
        for svc in t["catalog"]:
            for ep in svc["endpoints"]:
                if svc["type"] == "compute":
                    ep["url"] = base + (COMPUTE if ep["interface"] == "public" else "/unused-%s" % ep["interface"])
                elif svc["type"] == "image":
                    ep["url"] = base + IMAGE
                else:
                    ep["url"] = base + "/unused/" + svc["type"]
            if svc["type"] == "compute":
                svc["endpoints"].append({"interface": "public", "region": "RegionTwo",
                                         "region_id": "RegionTwo", "id": "fake-two",
                                         "url": base + COMPUTE2})
        self.send(201, doc, headers={"X-Subject-Token": tok, "Vary": "X-Auth-Token"})

    def authorized(self):
        st = self.server.state
        tok = self.headers.get("X-Auth-Token")
        with st.lock:
            exp = st.tokens.get(tok)
        return exp is not None and exp > time.time()

    # ---- nova ---------------------------------------------------------------
    def add_server(self, name, flavor, image, metadata, created, status, ip):
        """status None: BUILD until build_time passed, then ACTIVE; else fixed
        (seeded servers, which run no hooks)."""
        st = self.server.state
        sid = str(uuid.uuid4())
        st.version += 1
        st.servers[sid] = {"id": sid, "name": name, "flavor": flavor, "image": image,
                           "metadata": dict(metadata), "created": created,
                           "ip": ip, "status": status}
        self.server.world.changed()
        return sid

    def render(self, s, now, build_time):
        """One server as JSON text; cached per status (a 10,000-server listing
        must measure the driver, not this fake)."""
        status = s["status"] or ("ACTIVE" if now - s["created"] >= build_time else "BUILD")
        if status == "ACTIVE" and s["status"] is None and not s.get("booted"):
            s["booted"] = True
            self.server.world.booted(s["id"], s["ip"])
        cached = s.get("cache")
        if cached is not None and cached[0] == status:
            return cached[1]
        fx = self.server.fixtures
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        d = dict(fx.server)
        updated = s["created"] + (build_time if status != "BUILD" else 0)
        d.update({
            "id": s["id"], "name": s["name"], "metadata": s["metadata"], "status": status,
            "created": iso(s["created"]).split(".")[0] + "Z", "updated": iso(updated).split(".")[0] + "Z",
            "accessIPv4": "", "accessIPv6": "",
            "addresses": {"private": [{"addr": s["ip"], "version": 4,
                                       "OS-EXT-IPS:type": "fixed",
                                       "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}]},
            "flavor": {"id": s["flavor"], "links": []}, "image": {"id": s["image"], "links": []},
            "links": [{"href": base + COMPUTE + "/servers/" + s["id"], "rel": "self"}],
            "OS-EXT-STS:vm_state": status.lower(),
            "OS-EXT-STS:task_state": "spawning" if status == "BUILD" else None,
            "OS-SRV-USG:launched_at": None if status == "BUILD" else iso(s["created"] + build_time)[:-1],
        })
        text = json.dumps(d)
        s["cache"] = (status, text)
        return text

    def compute(self, method, path, query, body, extra):
        st, fx = self.server.state, self.server.fixtures
        if method == "GET" and path == "/servers/detail":
            return self.list_servers(query, extra)
        if method == "POST" and path == "/servers":
            return self.create_server(body, extra)
        m = re.fullmatch(r"/servers/([^/]+)/action", path)
        if method == "POST" and m:
            return self.server_action(m.group(1), body, extra)
        m = re.fullmatch(r"/servers/([^/]+)", path)
        if method == "DELETE" and m:
            with st.lock:
                gone = st.servers.pop(m.group(1), None)
                st.version += 1
                if gone is not None:
                    self.server.world.terminated(gone["id"], gone["ip"])
            if gone is None:
                return self.send(404, {"itemNotFound": {
                    "message": "Instance %s could not be found." % m.group(1), "code": 404}}, headers=extra)
            return self.send(204, headers=extra)
        if method == "GET" and path == "/flavors":
            return self.send(200, fx.flavors, headers=extra)
        if method == "GET" and path == "/images":
            name = query.get("name", [None])[0]
            imgs = [i for i in fx.images["images"] if name is None or i["name"] == name]
            return self.send(200, {"images": imgs}, headers=extra)
        self.send(404, fx.not_found, headers=extra)

    def server_action(self, sid, body, extra):
        """os-getConsoleOutput: boot noise, then (once ACTIVE) the host key block
        cloud-init prints, with keys derived from the server id."""
        st = self.server.state
        if not isinstance(body, dict) or "os-getConsoleOutput" not in body:
            return self.send(400, {"badRequest": {"message": "unsupported action", "code": 400}},
                             headers=extra)
        with st.lock:
            s = st.servers.get(sid)
            build_time = float(st.cfg["build_time"])
        if s is None:
            return self.send(404, {"itemNotFound": {
                "message": "Instance %s could not be found." % sid, "code": 404}}, headers=extra)
        out = "[    0.000000] Linux version 6.1.0-cloud-amd64\r\ncloud-init[512]: Cloud-init v. 22.4.2 running 'init'\r\n"
        console_dir = st.args.console_dir
        if console_dir and (s["status"] or time.time() - s["created"] >= build_time):
            try:
                with open(os.path.join(console_dir, sid), encoding="utf-8") as f:
                    out += f.read(1 << 16)
            except FileNotFoundError:
                pass
        elif s["status"] or time.time() - s["created"] >= build_time:
            digest = hashlib.sha256(sid.encode()).digest()
            ed = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + digest).decode()
            ec = base64.b64encode(b"\x00\x00\x00\x13ecdsa-sha2-nistp256\x00\x00\x00\x08nistp256"
                                  b"\x00\x00\x00\x41\x04" + digest + digest).decode()
            out += ("ec2: #############################################################\n"
                    "-----BEGIN SSH HOST KEY KEYS-----\n"
                    "ecdsa-sha2-nistp256 %s root@%s\n"
                    "ssh-ed25519 %s root@%s\n"
                    "not a key \x1b[31mline\n"
                    "-----END SSH HOST KEY KEYS-----\n"
                    "ec2: #############################################################\n"
                    % (ec, s["name"], ed, s["name"]))
        self.send(200, {"output": out}, headers=extra)

    def glance(self, query):
        fx = self.server.fixtures
        name = query.get("name", [None])[0]
        doc = dict(fx.glance)
        # Glance also knows the images Nova's samples name (a site has one image service).
        known = fx.glance["images"] + [{"id": i["id"], "name": i["name"], "status": "active"}
                                       for i in fx.images["images"]]
        doc["images"] = [i for i in known if name is None or i["name"] == name]
        self.send(200, doc)

    def list_servers(self, query, extra):
        st = self.server.state
        name_re = query.get("name", [None])[0]
        marker = query.get("marker", [None])[0]
        with st.lock:
            page_max = int(st.cfg["page_max"])
            build_time = float(st.cfg["build_time"])
            try:
                limit = min(int(query.get("limit", [page_max])[0]), page_max)
            except ValueError:
                return self.send(400, {"badRequest": {"message": "limit must be an integer", "code": 400}})
            # The filtered listing is kept while no server comes or goes: the
            # pages of one listing then cost this fake little (a 10,000-server
            # listing must measure the driver).
            if st.listing is None or st.listing[:2] != (name_re, st.version):
                rx = re.compile(name_re) if name_re else None
                items = [s for s in st.servers.values() if rx is None or rx.search(s["name"])]
                st.listing = (name_re, st.version, items, {s["id"]: i for i, s in enumerate(items)})
            items, position = st.listing[2], st.listing[3]
            start = 0
            if marker is not None:
                if marker not in position:
                    return self.send(400, {"badRequest": {"message": "marker [%s] not found" % marker,
                                                          "code": 400}}, headers=extra)
                start = position[marker] + 1
            page = items[start:start + limit]
            now = time.time()
            text = '{"servers": [' + ", ".join(self.render(s, now, build_time) for s in page) + "]"
        if len(page) == limit and page:
            base = "http://127.0.0.1:%d" % self.server.server_address[1]
            text += ', "servers_links": ' + json.dumps([{"rel": "next", "href": "%s%s/servers/detail?limit=%d&marker=%s" % (
                base, COMPUTE, limit, page[-1]["id"])}])
        text += "}"
        f = self.fault_for("GET", "/servers/detail", "after")
        if f and self.apply_fault(f):
            return
        self.send(200, headers=extra, raw=text.encode())

    def create_server(self, body, extra):
        st, fx = self.server.state, self.server.fixtures
        bad = lambda msg: self.send(400, {"badRequest": {"message": msg, "code": 400}}, headers=extra)
        if body is ValueError or not isinstance(body, dict) or not isinstance(body.get("server"), dict):
            return bad("Malformed request body")
        s = body["server"]
        for k in ("name", "flavorRef", "imageRef"):
            if not isinstance(s.get(k), str) or not s[k]:
                return bad("Invalid input for field/attribute %s." % k)
        if s["flavorRef"] not in [f["id"] for f in fx.flavors["flavors"]]:
            return bad("Flavor %s could not be found." % s["flavorRef"])
        known = [i["id"] for i in fx.images["images"]] + [i["id"] for i in fx.glance["images"]]
        if s["imageRef"] not in known:
            return bad("Can not find requested image")
        if "user_data" in s:
            try:
                base64.b64decode(s["user_data"], validate=True)
            except ValueError:
                return bad("Invalid input for field/attribute user_data.")
        lo, hi = int(s.get("min_count", 1)), int(s.get("max_count", s.get("min_count", 1)))
        if lo < 1 or hi < lo:
            return bad("min_count/max_count out of range")
        world = self.server.world
        with st.lock:
            st.posts += 1
            st.last_create = body
            limit = int(st.cfg["quota_instances"])
            room = world.addresses_free(limit - len(st.servers))
            if room < lo:
                # An empty address pool looks like the quota it stands for.
                return self.quota_error(lo, len(st.servers), limit, extra)
            n = min(hi, room)
            now = time.time()
            ids = []
            build_time = float(st.cfg["build_time"])
            for i in range(n):
                name = s["name"] if hi == 1 else "%s-%d" % (s["name"], i + 1)
                ip = world.take_address(st.new_ip)
                ids.append(self.add_server(name, s["flavorRef"], s["imageRef"], s.get("metadata", {}),
                                           now, None, ip))
                self.render(st.servers[ids[-1]], now, build_time)  # ACTIVE at once: on-boot hook
            st.boots += n
        f = self.fault_for("POST", "/servers", "after")
        if f and self.apply_fault(f):
            return
        doc = copy.deepcopy(fx.create)
        doc["server"]["id"] = ids[0]
        doc["server"]["adminPass"] = secrets.token_urlsafe(9)
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        doc["server"]["links"] = [{"href": base + COMPUTE + "/servers/" + ids[0], "rel": "self"}]
        self.send(202, doc, headers=dict(extra, Location=base + COMPUTE + "/servers/" + ids[0]))


def main():
    p = fakebase.make_parser(__doc__, "openstack")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every API call")
    p.add_argument("--token-lifetime", type=float, default=3600.0)
    p.add_argument("--build-time", type=float, default=0.0, help="seconds in BUILD before ACTIVE")
    p.add_argument("--quota-instances", type=int, default=100000)
    p.add_argument("--page-max", type=int, default=1000, help="Nova's max_limit")
    p.add_argument("--microversion-mode", choices=("echo", "ignore", "reject"), default="echo")
    p.add_argument("--password", default="secret-password")
    p.add_argument("--console-dir", help="console text per server id (its real host keys)")
    args = p.parse_args()
    fakebase.run(args, Handler, Fixtures(args.fixtures), State(args), "fake_openstack")


if __name__ == "__main__":
    main()
