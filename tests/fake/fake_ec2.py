#!/usr/bin/env python3
"""fake_ec2: a stateful fake of the EC2 Query API (and IMDSv2) on loopback.

Python 3 standard library only. It listens on 127.0.0.1 (ephemeral port,
written to --port-file and printed as "PORT <n>"), and:

- VERIFIES every EC2 request's AWS SigV4 signature with its own, independent
  implementation (hmac/hashlib) and rejects bad ones with the real AuthFailure
  / SignatureDoesNotMatch error documents;
- keeps STATE: RunInstances creates instances (ClientToken idempotency,
  MinCount/MaxCount, TagSpecifications, UserData, spot options), they appear
  in DescribeInstances (tag filters, MaxResults/NextToken pagination), move
  pending -> running after --pending-describes listings, and after
  TerminateInstances go shutting-down -> terminated -> gone;
- builds every reply from the REAL recorded EC2 responses under
  --fixtures (tests/fixtures/ec2): the recorded instance items are the
  templates, filled with the state; private addresses come from 127.0.0.0/8;
- injects faults through POST /_control (JSON): error codes (quota,
  throttling, auth, ...), HTTP 5xx, a dropped connection after the call was
  processed ("lost response"), malformed or truncated XML; --latency-ms delays
  every call (benchmarks);
- serves IMDSv2 (PUT /latest/api/token, GET /latest/meta-data/iam/
  security-credentials/[role]) whose temporary credentials the EC2 side
  accepts (with their session token) until they expire or are revoked.

GET /_state returns the state as JSON for test assertions.

The end-to-end options every fake shares (tests/fake/fakebase.py):
--address-pool, --on-boot, --on-terminate, --state-file, --fault, --control.
Here a RunInstances that finds fewer free addresses than MinCount (or less
--capacity) gets InsufficientInstanceCapacity; a "quota" fault gets
InstanceLimitExceeded, "throttle" RequestLimitExceeded (503), "error"
InternalError (500). An instance "becomes running" when a listing moves it
from pending to running and "is terminated" by TerminateInstances (or a spot
interruption); the state file lists instances neither shutting down nor
terminated, with their tags.
"""

import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

sys.dont_write_bytecode = True  # never write into the (read-only) source tree
import fakebase  # noqa: E402  (tests/fake/fakebase.py)

RECORDED = "deltacloud-vcr-aws/extracted/test_0005_must_allow_to_create_a_new_instance_if_instance_supported"
RECORDED_AUTH = "deltacloud-vcr-aws/extracted/test_0001_must_throw_error_when_wrong_credentials/001-DescribeAvailabilityZones.response.xml"

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}


def strip_ns(elem):
    for e in elem.iter():
        if isinstance(e.tag, str) and e.tag.startswith("{"):
            e.tag = e.tag.split("}", 1)[1]
    return elem


class Templates:
    """Format strings made from the recorded responses."""

    def __init__(self, fixtures):
        base = os.path.join(fixtures, RECORDED)
        run = strip_ns(ET.parse(os.path.join(base, "001-RunInstances.response.xml")).getroot())
        desc = strip_ns(ET.parse(os.path.join(base, "002-DescribeInstances.response.xml")).getroot())
        term = strip_ns(ET.parse(os.path.join(base, "031-TerminateInstances.response.xml")).getroot())
        err = strip_ns(ET.parse(os.path.join(fixtures, RECORDED_AUTH)).getroot())
        self.run_item = self._instance_template(run.find("instancesSet/item"))
        self.desc_item = self._instance_template(
            desc.find("reservationSet/item/instancesSet/item"))
        group = desc.find("reservationSet/item/groupSet")
        self.group_set = ET.tostring(group, encoding="unicode")
        t = term.find("instancesSet/item")
        t.find("instanceId").text = "@instanceId@"
        t.find("currentState/code").text = "@cur_code@"
        t.find("currentState/name").text = "@cur_name@"
        t.find("previousState/code").text = "@prev_code@"
        t.find("previousState/name").text = "@prev_name@"
        self.term_item = self._fmt(ET.tostring(t, encoding="unicode"))
        err.find("Errors/Error/Code").text = "@code@"
        err.find("Errors/Error/Message").text = "@message@"
        err.find("RequestID").text = "@request_id@"
        self.error = self._fmt('<?xml version="1.0" encoding="UTF-8"?>\n' +
                               ET.tostring(err, encoding="unicode"))

    @staticmethod
    def _fmt(text):
        text = text.replace("{", "{{").replace("}", "}}")
        return re.sub(r"@([a-z_A-Z]+)@", r"{\1}", text)

    def _instance_template(self, item):
        def setf(path, name):
            e = item.find(path)
            if e is None:
                parent_path, _, tag = path.rpartition("/")
                parent = item.find(parent_path) if parent_path else item
                e = ET.SubElement(parent, tag)
            e.text = "@%s@" % name
            for c in list(e):
                e.remove(c)
        setf("instanceId", "instanceId")
        setf("imageId", "imageId")
        setf("instanceState/code", "state_code")
        setf("instanceState/name", "state_name")
        setf("privateDnsName", "privateDnsName")
        setf("dnsName", "dnsName")
        setf("keyName", "keyName")
        setf("amiLaunchIndex", "amiLaunchIndex")
        setf("instanceType", "instanceType")
        setf("launchTime", "launchTime")
        setf("placement/availabilityZone", "zone")
        setf("privateIpAddress", "privateIpAddress")
        setf("ipAddress", "ipAddress")
        setf("clientToken", "clientToken")
        for drop in ("stateReason", "reason"):
            e = item.find(drop)
            if e is not None:
                item.remove(e)
        ET.SubElement(item, "extra").text = "@extra@"
        text = ET.tostring(item, encoding="unicode")
        text = text.replace("<extra>@extra@</extra>", "@extra@")
        return self._fmt(text)


class Fake:
    def __init__(self, args, world):
        self.args = args
        self.world = world
        self.lock = threading.RLock()
        self.t = Templates(args.fixtures)
        self.instances = {}          # id -> dict
        self.order = []              # ids in creation order
        self.tokens = {}             # client token -> (reservation id, [ids])
        self.reservations = {}       # reservation id -> owner
        self.counter = 0
        self.calls = {}
        self.faults = []
        self.last_params = {}
        self.auth_failures = 0
        self.creds = {}              # access key -> {"secret", "token", "expires"}
        for c in args.cred:
            key, _, secret = c.partition(":")
            self.creds[key] = {"secret": secret, "token": None, "expires": None}
        self.imds_tokens = set()
        self.imds_issued = 0
        self.latency = args.latency_ms / 1000.0

    # ---- helpers -------------------------------------------------------------
    def request_id(self):
        return str(uuid.uuid4())

    def error_xml(self, code, message):
        return self.t.error.format(code=escape(code), message=escape(message),
                                   request_id=self.request_id())

    def take_fault(self, action):
        with self.lock:
            for f in self.faults:
                if f.get("action", "*") in ("*", action) and f.get("times", 1) > 0:
                    f["times"] = f.get("times", 1) - 1
                    if f["times"] <= 0:
                        self.faults.remove(f)
                    return dict(f)
        return None

    # ---- SigV4 verification --------------------------------------------------
    def verify(self, method, path, query, headers, body):
        """Returns None if the signature verifies, else (status, code, message)."""
        auth = headers.get("Authorization")
        if not auth:
            return (401, "AuthFailure", "AWS was not able to validate the provided access credentials")
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
                         r" ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})", auth.strip())
        if not m:
            return (400, "IncompleteSignature", "Authorization header is malformed")
        key, date8, region, service, signed, signature = m.groups()
        cred = self.creds.get(key)
        if cred is None:
            return (401, "AuthFailure", "AWS was not able to validate the provided access credentials")
        if cred["expires"] is not None and time.time() >= cred["expires"]:
            return (400, "ExpiredToken", "The security token included in the request is expired")
        if cred["token"] is not None and headers.get("X-Amz-Security-Token") != cred["token"]:
            return (401, "AuthFailure", "AWS was not able to validate the provided access credentials")
        if region != self.args.region or service != "ec2":
            return (403, "SignatureDoesNotMatch",
                    "Credential should be scoped to a valid region and service")
        amz_date = headers.get("X-Amz-Date", "")
        try:
            t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return (400, "IncompleteSignature", "X-Amz-Date is missing or malformed")
        if abs(time.time() - t.timestamp()) > 300 or amz_date[:8] != date8:
            return (400, "RequestExpired", "Request has expired")
        names = signed.split(";")
        if "host" not in names or names != sorted(names):
            return (403, "SignatureDoesNotMatch", "host must be signed; SignedHeaders must be sorted")
        canon_headers = ""
        for n in names:
            values = headers.get_all(n)
            if values is None:
                return (403, "SignatureDoesNotMatch", "signed header %s is missing" % n)
            canon_headers += n + ":" + ",".join(" ".join(v.split()) for v in values) + "\n"
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        cq = "&".join(sorted(urllib.parse.quote(k, safe="-_.~") + "=" +
                             urllib.parse.quote(v, safe="-_.~") for k, v in pairs))
        creq = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), cq, canon_headers,
                          signed, hashlib.sha256(body).hexdigest()])
        scope = "%s/%s/%s/aws4_request" % (date8, region, service)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + cred["secret"]).encode()
        for part in (date8, region, service, "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, signature):
            return (403, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method. Consult the service "
                    "documentation for details.")
        return None

    # ---- state ---------------------------------------------------------------
    def advance(self):
        """One listing's worth of time: pending -> running, shutting-down -> terminated -> gone."""
        now = time.time()
        for iid in list(self.order):
            i = self.instances[iid]
            i["age"] += 1
            if i["state"] == "pending" and (i["age"] >= self.args.pending_describes or
                                            now - i["created"] >= self.args.pending_seconds):
                i["state"] = "running"
                self.world.booted(iid, i["ip"])
            elif i["state"] == "shutting-down":
                i["state"] = "terminated"
                i["gone_in"] = self.args.terminated_listings
            elif i["state"] == "terminated":
                i["gone_in"] -= 1
                if i["gone_in"] <= 0:
                    del self.instances[iid]
                    self.order.remove(iid)

    def new_instance(self, params, index, reservation, ip=None):
        self.counter += 1
        n = self.counter
        self.world.changed()
        iid = "i-%017x" % (0xcb0000000 + n)
        tags = {}
        for k, v in params.items():
            m = re.fullmatch(r"TagSpecification\.(\d+)\.Tag\.(\d+)\.Key", k)
            if m and params.get("TagSpecification.%s.ResourceType" % m.group(1)) == "instance":
                tags[v] = params.get("TagSpecification.%s.Tag.%s.Value" % m.groups(), "")
        return {
            "id": iid, "image": params.get("ImageId", ""), "type": params.get("InstanceType", "m1.small"),
            "state": "pending", "age": 0, "created": time.time(), "index": index,
            "ip": ip or "127.%d.%d.%d" % ((n >> 16) & 255, (n >> 8) & 255, (n & 255) or 1),
            "token": params.get("ClientToken", ""), "key": params.get("KeyName", ""),
            "tags": tags, "reservation": reservation,
            "spot": params.get("InstanceMarketOptions.MarketType") == "spot",
            "launch": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "user_data": params.get("UserData", ""),
        }

    def render(self, i, template):
        # Rendered items are cached per instance and state (listing 10,000
        # instances must cost the fake little next to --latency-ms).
        key = (id(template), i["state"], i.get("interrupted", False))
        cached = i.get("_xml")
        if cached is not None and cached[0] == key:
            return cached[1]
        xml = self._render(i, template)
        i["_xml"] = (key, xml)
        return xml

    def _render(self, i, template):
        extra = ""
        if i["tags"]:
            extra += "<tagSet>" + "".join(
                "<item><key>%s</key><value>%s</value></item>" % (escape(k), escape(v))
                for k, v in sorted(i["tags"].items())) + "</tagSet>"
        if i["spot"]:
            extra += "<instanceLifecycle>spot</instanceLifecycle>"
        if i.get("interrupted"):
            extra += ("<stateReason><code>Server.SpotInstanceTermination</code>"
                      "<message>Server.SpotInstanceTermination: Spot instance termination</message>"
                      "</stateReason>")
        elif i["state"] in ("shutting-down", "terminated"):
            extra += ("<stateReason><code>Client.UserInitiatedShutdown</code>"
                      "<message>Client.UserInitiatedShutdown: User initiated shutdown</message>"
                      "</stateReason>")
        running = i["state"] == "running"
        return template.format(
            instanceId=i["id"], imageId=escape(i["image"]), state_code=STATE_CODES[i["state"]],
            state_name=i["state"],
            privateDnsName="ip-%s.ec2.internal" % i["ip"].replace(".", "-") if running else "",
            dnsName="", keyName=escape(i["key"]), amiLaunchIndex=i["index"],
            instanceType=escape(i["type"]), launchTime=i["launch"], zone=self.args.region + "a",
            privateIpAddress=i["ip"] if running else "", ipAddress="",
            clientToken=escape(i["token"]), extra=extra)

    # ---- actions -------------------------------------------------------------
    def run_instances(self, p, ns):
        try:
            lo, hi = int(p.get("MinCount", "")), int(p.get("MaxCount", ""))
        except ValueError:
            return 400, self.error_xml("MissingParameter", "MinCount and MaxCount are required")
        if not p.get("ImageId"):
            return 400, self.error_xml("MissingParameter", "The request must contain the parameter ImageId")
        if lo < 1 or hi < lo:
            return 400, self.error_xml("InvalidParameterValue", "MinCount/MaxCount out of range")
        with self.lock:
            self.last_params = dict(p)
            token = p.get("ClientToken", "")
            if token and token in self.tokens:
                res, ids = self.tokens[token]
            else:
                live = sum(1 for i in self.instances.values() if i["state"] in ("pending", "running"))
                room = self.world.addresses_free(self.args.capacity - live)
                if room < lo:
                    return 500, self.error_xml(
                        "InsufficientInstanceCapacity",
                        "We currently do not have sufficient %s capacity in the Availability Zone "
                        "you requested." % p.get("InstanceType", ""))
                k = min(hi, room)
                res = "r-%08x" % (len(self.reservations) + 1)
                self.reservations[res] = True
                ids = []
                for idx in range(k):
                    inst = self.new_instance(p, idx, res, self.world.take_address(lambda: None))
                    self.instances[inst["id"]] = inst
                    self.order.append(inst["id"])
                    ids.append(inst["id"])
                if token:
                    self.tokens[token] = (res, ids)
            items = "".join(self.render(self.instances[i], self.t.run_item)
                            for i in ids if i in self.instances)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<RunInstancesResponse xmlns="%s">'
                "<requestId>%s</requestId><reservationId>%s</reservationId><ownerId>293787749884</ownerId>"
                "%s<instancesSet>%s</instancesSet></RunInstancesResponse>"
                % (ns, self.request_id(), res, self.t.group_set, items))
        return 200, body

    def filters(self, p):
        out = []
        for k, v in p.items():
            m = re.fullmatch(r"Filter\.(\d+)\.Name", k)
            if m:
                vals = [p[x] for x in sorted(p) if re.fullmatch(r"Filter\.%s\.Value\.\d+" % m.group(1), x)]
                out.append((v, set(vals)))
        return out

    @staticmethod
    def matches(i, flt):
        for name, vals in flt:
            if name.startswith("tag:"):
                if i["tags"].get(name[4:]) not in vals:
                    return False
            elif name == "tag-key":
                if not vals & set(i["tags"]):
                    return False
            elif name == "instance-state-name":
                if i["state"] not in vals:
                    return False
            elif name == "instance-id":
                if i["id"] not in vals:
                    return False
            elif name == "client-token":
                if i["token"] not in vals:
                    return False
        return True

    def describe_instances(self, p, ns):
        ids = [p[k] for k in sorted(p) if re.fullmatch(r"InstanceId\.\d+", k)]
        max_results = p.get("MaxResults")
        if max_results is not None:
            if ids:
                return 400, self.error_xml("InvalidParameterCombination",
                                           "The parameter instancesSet cannot be used with the parameter maxResults")
            try:
                max_results = int(max_results)
            except ValueError:
                max_results = -1
            if not 5 <= max_results <= 1000:
                return 400, self.error_xml("InvalidParameterValue",
                                           "Value ( %s ) for parameter maxResults is invalid. Expecting a value "
                                           "between 5 and 1000." % p.get("MaxResults"))
        offset = 0
        token = p.get("NextToken")
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])
            except (ValueError, IndexError, UnicodeDecodeError):
                return 400, self.error_xml("InvalidParameterValue", "The specified token is not valid")
        flt = self.filters(p)
        with self.lock:
            if not token:
                self.advance()
            for i in ids:
                if i not in self.instances:
                    return 400, self.error_xml("InvalidInstanceID.NotFound",
                                               "The instance ID '%s' does not exist" % i)
            chosen = [iid for iid in self.order
                      if (not ids or iid in ids) and self.matches(self.instances[iid], flt)]
            page = chosen[offset:offset + max_results] if max_results else chosen
            nxt = ""
            if max_results and offset + max_results < len(chosen):
                nxt = base64.urlsafe_b64encode(("page:%d:%s" % (offset + max_results,
                                                                 secrets.token_hex(8))).encode()).decode()
            by_res = {}
            for iid in page:
                by_res.setdefault(self.instances[iid]["reservation"], []).append(iid)
            res_xml = "".join(
                "<item><reservationId>%s</reservationId><ownerId>293787749884</ownerId>%s"
                "<instancesSet>%s</instancesSet></item>"
                % (r, self.t.group_set, "".join(self.render(self.instances[i], self.t.desc_item) for i in iids))
                for r, iids in by_res.items())
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="%s">'
                "<requestId>%s</requestId><reservationSet>%s</reservationSet>%s</DescribeInstancesResponse>"
                % (ns, self.request_id(), res_xml, "<nextToken>%s</nextToken>" % nxt if nxt else ""))
        return 200, body

    def terminate_instances(self, p, ns):
        keys = [k for k in p if re.fullmatch(r"InstanceId\.\d+", k)]
        ids = [p[k] for k in sorted(keys, key=lambda x: int(x.split(".")[1]))]
        if not ids:
            return 400, self.error_xml("MissingParameter", "The request must contain the parameter InstanceId")
        if len(ids) > 1000:
            return 400, self.error_xml("InvalidParameterValue", "at most 1000 instance ids per call")
        with self.lock:
            missing = [i for i in ids if i not in self.instances]
            if missing:
                if len(missing) == 1:
                    msg = "The instance ID '%s' does not exist" % missing[0]
                else:
                    msg = "The instance IDs '%s' do not exist" % ", ".join(missing)
                return 400, self.error_xml("InvalidInstanceID.NotFound", msg)
            items = ""
            for iid in ids:
                i = self.instances[iid]
                prev = i["state"]
                if prev in ("pending", "running", "stopping", "stopped"):
                    i["state"] = "shutting-down"
                    self.world.terminated(iid, i["ip"])
                items += self.t.term_item.format(instanceId=iid, cur_code=STATE_CODES[i["state"]],
                                                 cur_name=i["state"], prev_code=STATE_CODES[prev],
                                                 prev_name=prev)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<TerminateInstancesResponse xmlns="%s">'
                "<requestId>%s</requestId><instancesSet>%s</instancesSet></TerminateInstancesResponse>"
                % (ns, self.request_id(), items))
        return 200, body

    def snapshot(self):
        """The live instances (neither shutting down nor terminated), for the --state-file."""
        with self.lock:
            return [{"id": i["id"], "name": i["tags"].get("Name", i["tags"].get("cloudburst-node", "")),
                     "address": i["ip"],
                     "state": i["state"], "tags": dict(i["tags"])}
                    for i in (self.instances[x] for x in self.order)
                    if i["state"] not in ("shutting-down", "terminated")]

    def state_json(self):
        with self.lock:
            return dict(self.world.status(), **{
                "instances": [{"id": i["id"], "state": i["state"], "tags": i["tags"], "token": i["token"],
                               "index": i["index"], "ip": i["ip"], "spot": i["spot"],
                               "user_data": i["user_data"], "type": i["type"], "image": i["image"]}
                              for i in (self.instances[x] for x in self.order)],
                "created": self.counter, "calls": dict(self.calls), "last_params": self.last_params,
                "auth_failures": self.auth_failures, "imds_issued": self.imds_issued,
                "faults_left": len(self.faults),
            })

    def control(self, cmd):
        with self.lock:
            if "fault" in cmd:
                self.faults.append(dict(cmd["fault"]))
            if cmd.get("clear_faults"):
                self.faults.clear()
            if "latency_ms" in cmd:
                self.latency = cmd["latency_ms"] / 1000.0
            if "pending_describes" in cmd:
                self.args.pending_describes = int(cmd["pending_describes"])
            if "capacity" in cmd:
                self.args.capacity = int(cmd["capacity"])
            if cmd.get("interrupt_spot"):
                # EC2 reclaims every running spot instance (a capacity event)
                for i in self.instances.values():
                    if i["spot"] and i["state"] in ("pending", "running"):
                        i["state"] = "shutting-down"
                        i["interrupted"] = True
                        self.world.terminated(i["id"], i["ip"])
            if cmd.get("expire_temporary"):
                for c in self.creds.values():
                    if c["token"] is not None:
                        c["expires"] = time.time() - 1
            if "add_instance" in cmd:
                spec = cmd["add_instance"]
                p = {"ImageId": spec.get("image", "ami-foreign"), "InstanceType": spec.get("type", "m1.small"),
                     "ClientToken": spec.get("token", "")}
                for n, (k, v) in enumerate(spec.get("tags", {}).items(), 1):
                    p["TagSpecification.1.ResourceType"] = "instance"
                    p["TagSpecification.1.Tag.%d.Key" % n] = k
                    p["TagSpecification.1.Tag.%d.Value" % n] = v
                inst = self.new_instance(p, spec.get("index", 0), "r-foreign")
                self.instances[inst["id"]] = inst
                self.order.append(inst["id"])
        return {"ok": True}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonEC2"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.fake.args.verbose:
            sys.stderr.write("fake_ec2: " + (fmt % args) + "\n")

    def reply(self, status, body, ctype="text/xml;charset=UTF-8", extra=None):
        self.server.fake.world.flush(self.server.fake.snapshot)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1 << 20:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    # ---- IMDSv2 ----------------------------------------------------------
    def imds(self, method):
        fake = self.server.fake
        if method == "PUT" and self.path == "/latest/api/token":
            self.read_body()
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.reply(400, "", "text/plain")
            tok = secrets.token_urlsafe(32)
            with fake.lock:
                fake.imds_tokens.add(tok)
            return self.reply(200, tok, "text/plain")
        if method != "GET":
            return self.reply(405, "", "text/plain")
        if self.headers.get("X-aws-ec2-metadata-token") not in fake.imds_tokens:
            return self.reply(401, "", "text/plain")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path == prefix:
            return self.reply(200, fake.args.imds_role, "text/plain")
        if self.path == prefix + fake.args.imds_role:
            key = "ASIA" + secrets.token_hex(8).upper()
            secret = secrets.token_urlsafe(30)
            token = base64.b64encode(secrets.token_bytes(96)).decode()
            expires = time.time() + fake.args.imds_expiry
            with fake.lock:
                fake.creds[key] = {"secret": secret, "token": token, "expires": expires}
                fake.imds_issued += 1
            doc = {"Code": "Success", "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "Type": "AWS-HMAC", "AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
                   "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))}
            return self.reply(200, json.dumps(doc, indent=2), "text/plain")
        return self.reply(404, "", "text/plain")

    def do_PUT(self):
        if self.path.startswith("/latest/"):
            return self.imds("PUT")
        self.reply(405, "", "text/plain")

    def do_GET(self):
        fake = self.server.fake
        if self.path.startswith("/latest/"):
            return self.imds("GET")
        if self.path == "/_state":
            return self.reply(200, json.dumps(fake.state_json()), "application/json")
        self.reply(400, fake.error_xml("InvalidAction", "use POST with a form body"))

    def do_POST(self):
        fake = self.server.fake
        body = self.read_body()
        if self.path == "/_control":
            return self.reply(200, json.dumps(fake.control(json.loads(body or b"{}"))),
                              "application/json")
        path, _, query = self.path.partition("?")
        try:
            params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            params = {}
        action = params.get("Action", "")
        with fake.lock:
            fake.calls[action] = fake.calls.get(action, 0) + 1
        if fake.latency > 0:
            time.sleep(fake.latency)
        bad = fake.verify("POST", path, query, self.headers, body)
        if bad is not None:
            with fake.lock:
                fake.auth_failures += 1
            return self.reply(bad[0], fake.error_xml(bad[1], bad[2]))
        delay, world_fault = fake.world.faults.take(action == "RunInstances")
        if delay:
            time.sleep(delay)
        if world_fault == "drop":
            return fakebase.drop_connection(self)
        if world_fault is not None:
            status, code, msg = {
                "throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
                "error": (500, "InternalError", "An internal error has occurred"),
                "quota": (400, "InstanceLimitExceeded",
                          "Your quota allows for 0 more running instance(s). You requested at least 1"),
            }[world_fault]
            return self.reply(status, fake.error_xml(code, msg))
        fault = fake.take_fault(action)
        if fault is not None and fault.get("kind", "error") != "drop_after" and fault.get("kind") != "truncate":
            kind = fault.get("kind", "error")
            if kind == "error":
                return self.reply(int(fault.get("status", 400)),
                                  fake.error_xml(fault["code"], fault.get("message", fault["code"])))
            if kind == "status":
                return self.reply(int(fault.get("status", 500)), fault.get("body", ""), "text/plain")
            if kind == "malformed":
                return self.reply(int(fault.get("status", 200)), fault.get("body", "<oops"))
            if kind == "drop":
                self.close_connection = True
                return None
        version = params.get("Version", "2016-11-15")
        ns = "http://ec2.amazonaws.com/doc/%s/" % version
        handlers = {"RunInstances": fake.run_instances, "DescribeInstances": fake.describe_instances,
                    "TerminateInstances": fake.terminate_instances}
        h = handlers.get(action)
        if h is None:
            return self.reply(400, fake.error_xml("InvalidAction",
                                                  "The action %s is not valid for this web service." % action))
        status, out = h(params, ns)
        if fault is not None and fault.get("kind") == "drop_after":
            # the call took effect, but the client never hears about it
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        if fault is not None and fault.get("kind") == "truncate":
            out = out[: len(out) // 2]
        self.reply(status, out)


def main():
    ap = fakebase.make_parser(__doc__, "ec2")
    ap.add_argument("--cred", action="append", default=[], help="KEYID:SECRET accepted (repeatable)")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--pending-describes", type=int, default=2,
                    help="listings after which a pending instance is running")
    ap.add_argument("--pending-seconds", type=float, default=3600.0,
                    help="seconds after which a pending instance is running")
    ap.add_argument("--terminated-listings", type=int, default=2,
                    help="listings a terminated instance stays visible")
    ap.add_argument("--capacity", type=int, default=100000, help="instances that may be live at once")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every EC2 call")
    ap.add_argument("--imds-role", default="cloudburst-node-role")
    ap.add_argument("--imds-expiry", type=float, default=3600.0, help="lifetime of IMDS credentials (s)")
    args = ap.parse_args()

    srv = fakebase.FakeServer(("127.0.0.1", 0), Handler)
    srv.fake = Fake(args, fakebase.World(args, "fake_ec2"))
    srv.world = srv.fake.world
    fakebase.serve(srv, args.port_file, announce=True)


if __name__ == "__main__":
    main()
