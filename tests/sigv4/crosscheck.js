// crosscheck.js: signs generated requests with the official AWS JavaScript
// SDK signer (@smithy/signature-v4 + @aws-crypto/sha256-js, installed by
// tests/sigv4/crosscheck.sh into $top_builddir/tests/node) and prints one JSON
// line per request: the request as our signer takes it, and the SDK's
// Authorization header (header mode) or X-Amz-Signature (presigned URL).
// test_sigv4_crosscheck then signs the same requests with providers/ec2/sigv4.c
// and compares. Usage: node crosscheck.js NODE_MODULES_DIR COUNT SEED
"use strict";
const path = require("path");
const modules = process.argv[2];
const count = parseInt(process.argv[3] || "400", 10);
let seed = parseInt(process.argv[4] || "20261122", 10) >>> 0;
const { SignatureV4 } = require(path.join(modules, "@smithy/signature-v4"));
const { Sha256 } = require(path.join(modules, "@aws-crypto/sha256-js"));

// Small deterministic PRNG (mulberry32) so a failure can be reproduced.
function rnd() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
const WILD = UNRESERVED + " /+=&%:;,!*'()@$?#[]\u00e9\u00df\u4e2d\ud83d\ude00";
function str(alphabet, lo, hi) {
  const chars = Array.from(alphabet);
  let s = "";
  for (let i = int(lo, hi); i > 0; i--) s += pick(chars);
  return s;
}

function ec2Body(action) {
  const p = [["Action", action], ["Version", "2016-11-15"]];
  if (action === "RunInstances") {
    p.push(["ImageId", "ami-" + str("0123456789abcdef", 8, 17)], ["InstanceType", pick(["m5.large", "c5.xlarge", "t3.micro"])],
      ["MinCount", "1"], ["MaxCount", String(int(1, 1000))], ["ClientToken", "b-" + str("abcdef0123456789-", 4, 40)],
      ["TagSpecification.1.ResourceType", "instance"], ["TagSpecification.1.Tag.1.Key", "cloudburst-pool"],
      ["TagSpecification.1.Tag.1.Value", str(UNRESERVED, 1, 20)],
      ["UserData", Buffer.from(str(WILD, 0, 300)).toString("base64")]);
    if (rnd() < 0.5) p.push(["InstanceMarketOptions.MarketType", "spot"]);
  } else if (action === "DescribeInstances") {
    p.push(["Filter.1.Name", "tag:cloudburst-pool"], ["Filter.1.Value.1", str(UNRESERVED, 1, 20)], ["MaxResults", "1000"]);
    if (rnd() < 0.5) p.push(["NextToken", Buffer.from(str(WILD, 10, 200)).toString("base64")]);
  } else {
    for (let i = int(1, 20); i > 0; i--) p.push(["InstanceId." + i, "i-" + str("0123456789abcdef", 17, 17)]);
  }
  return p.map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
}

async function main() {
  const out = [];
  for (let n = 0; n < count; n++) {
    const region = pick(["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"]);
    const service = rnd() < 0.7 ? "ec2" : pick(["sts", "iam", "service"]);
    const creds = { accessKeyId: pick(["AKIDEXAMPLE", "ASIA" + str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16)]),
                    secretAccessKey: str(UNRESERVED + "/+", 40, 40) };
    if (rnd() < 0.4) creds.sessionToken = Buffer.from(str(WILD, 20, 400)).toString("base64");
    const presign = rnd() < 0.2;
    const ec2 = !presign && rnd() < 0.5;
    const method = ec2 ? "POST" : pick(["GET", "GET", "PUT", "DELETE", "POST", "HEAD"]);
    const host = pick(["ec2." + region + ".amazonaws.com", "127.0.0.1:" + int(1024, 65535), "example.amazonaws.com"]);
    let pathStr = "/";
    if (!ec2 && rnd() < 0.7) {
      const segs = [];
      for (let i = int(1, 5); i > 0; i--) segs.push(pick([str(UNRESERVED, 1, 12), str(UNRESERVED, 1, 12), ".", "..", ""]));
      pathStr = "/" + segs.join("/") + (rnd() < 0.3 ? "/" : "");
    }
    const query = {};
    if (!ec2) {
      for (let i = int(0, 6); i > 0; i--) {
        const k = str(WILD, 1, 10);
        if (k.toLowerCase().startsWith("x-amz-")) continue;
        query[k] = rnd() < 0.2 ? [str(WILD, 0, 12), str(WILD, 0, 12)] : str(WILD, 0, 20);
      }
    }
    const headers = { host };
    const used = new Set(["host"]);
    if (ec2) headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
    for (let i = int(0, 5); i > 0; i--) {
      const name = pick(["X-Custom-", "My-Header", "Content-Language", "X-Trace-", "Accept"]) + str(UNRESERVED.slice(0, 62), 0, 4);
      if (used.has(name.toLowerCase()) || (presign && name.toLowerCase().startsWith("x-amz-"))) continue;
      used.add(name.toLowerCase());
      headers[name] = pick(["", " "]) + str(UNRESERVED + "  \t/=,;:\"", 0, 30) + pick(["", "  "]);
    }
    let body;
    if (ec2) body = ec2Body(pick(["RunInstances", "DescribeInstances", "TerminateInstances"]));
    else if (method === "PUT" || (method === "POST" && rnd() < 0.7)) body = str(WILD, 0, 500);
    const date = new Date(Date.UTC(int(2015, 2030), int(0, 11), int(1, 28), int(0, 23), int(0, 59), int(0, 59)));
    const applyChecksum = !presign && rnd() < 0.3;
    const signer = new SignatureV4({ credentials: creds, region, service, sha256: Sha256, uriEscapePath: true, applyChecksum });
    const req = { method, protocol: "https:", hostname: host.split(":")[0], path: pathStr, query,
                  headers: Object.assign({}, headers), body };
    const rawQuery = [];
    for (const [k, v] of Object.entries(query)) {
      for (const one of Array.isArray(v) ? v : [v]) rawQuery.push(encodeURIComponent(k) + "=" + encodeURIComponent(one));
    }
    const expires = int(1, 604800);
    const c = { method, path: pathStr, query: rawQuery.join("&"), headers: Object.entries(headers), body: body === undefined ? null : body,
                region, service, key: creds.accessKeyId, secret: creds.secretAccessKey, token: creds.sessionToken || null,
                date: date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""), checksum: applyChecksum,
                presign, expires };
    if (presign) {
      const signed = await signer.presign(req, { signingDate: date, expiresIn: expires });
      c.sdk_signature = signed.query["X-Amz-Signature"];
    } else {
      const signed = await signer.sign(req, { signingDate: date });
      c.sdk_authorization = signed.headers["authorization"];
    }
    out.push(JSON.stringify(c));
  }
  process.stdout.write(out.join("\n") + "\n");
}
main().catch((e) => { console.error(e); process.exit(99); });
