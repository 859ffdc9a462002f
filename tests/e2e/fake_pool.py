#!/usr/bin/env python3
"""A stand-in HTCondor pool for the daemon's tests: condor_q, condor_status,
condor_drain and condor_advertise backed by a state directory, answering in the
formats real HTCondor 25.0 tools print (see tests/fixtures/htcondor/real-pool-25.0).

HTCondor is not packaged in Debian, so the daemon tests cannot run a real pool;
this keeps the pool's STATE honest instead: jobs come from $CB_FAKE_POOL/jobs.json
(a list of job ads), slots from $CB_FAKE_POOL/slots/*.json (one list of slot ads
per node, written by the test or by the node stand-in), startd daemon ads from
$CB_FAKE_POOL/startds/*.json. condor_drain marks a node's startd as draining
there. Constraints and -af expressions are evaluated by a small ClassAd
evaluator (literals, attribute references, comparison, =?=/=!=, &&, ||, !,
arithmetic, parentheses) with HTCondor's three-valued logic.

Invoked through symlinks or as `fake_pool.py TOOL ARGS...`. Every call is
appended to $CB_FAKE_POOL/calls.log. $CB_FAKE_POOL/down makes every tool fail
like a dead pool (rc 1, nothing on stdout).
"""
import fcntl
import glob
import json
import os
import re
import sys
import time

UNDEF = object()


class ClassAdError(Exception):
    pass


TOKEN = re.compile(r'\s*(?:(\d+\.\d*|\d+)|("(?:[^"\\]|\\.)*")|(=\?=|=!=|==|!=|<=|>=|&&|\|\||[<>!()+\-*/])|([A-Za-z_][A-Za-z0-9_.]*))')


def tokenize(s):
    pos, out = 0, []
    s = s.rstrip()
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise ClassAdError("cannot parse expression at: %r" % s[pos:])
        num, string, op, ident = m.groups()
        if num is not None:
            out.append(("num", float(num) if "." in num else int(num)))
        elif string is not None:
            out.append(("str", bytes(string[1:-1], "utf-8").decode("unicode_escape")))
        elif op is not None:
            out.append(("op", op))
        else:
            out.append(("id", ident))
        pos = m.end()
    return out


class Parser:
    PREC = [["||"], ["&&"], ["==", "!=", "=?=", "=!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "/"]]

    def __init__(self, tokens):
        self.t, self.i = tokens, 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def parse(self, level=0):
        if level == len(self.PREC):
            return self.unary()
        left = self.parse(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.PREC[level]:
            op = self.t[self.i][1]
            self.i += 1
            left = ("bin", op, left, self.parse(level + 1))
        return left

    def unary(self):
        kind, val = self.peek()
        if kind == "op" and val in ("!", "-"):
            self.i += 1
            return ("un", val, self.unary())
        if kind == "op" and val == "(":
            self.i += 1
            e = self.parse()
            if self.peek() != ("op", ")"):
                raise ClassAdError("missing )")
            self.i += 1
            return e
        if kind in ("num", "str"):
            self.i += 1
            return ("lit", val)
        if kind == "id":
            self.i += 1
            low = val.lower()
            if low == "true":
                return ("lit", True)
            if low == "false":
                return ("lit", False)
            if low == "undefined":
                return ("lit", UNDEF)
            return ("ref", val)
        raise ClassAdError("unexpected token %r" % (val,))


def lookup(ad, name):
    low = name.lower()
    for prefix in ("my.", "target."):
        if low.startswith(prefix):
            low = low[len(prefix):]
    for k, v in ad.items():
        if k.lower() == low:
            return v
    return UNDEF


def same(a, b):
    if a is UNDEF or b is UNDEF:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b  # =?= is case-sensitive for strings
    return type(a) == type(b) and a == b


def ev(node, ad):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ref":
        v = lookup(ad, node[1])
        if isinstance(v, str) and v.startswith("\\/Expr(") and v.endswith(")\\/"):
            return evaluate(v[7:-3], ad)
        return v
    if kind == "un":
        v = ev(node[2], ad)
        if v is UNDEF:
            return UNDEF
        return (not v) if node[1] == "!" else -v
    op, a = node[1], ev(node[2], ad)
    if op == "&&":
        if a is False:
            return False
        b = ev(node[3], ad)
        if b is False:
            return False
        return UNDEF if (a is UNDEF or b is UNDEF) else bool(a and b)
    if op == "||":
        if a is True:
            return True
        b = ev(node[3], ad)
        if b is True:
            return True
        return UNDEF if (a is UNDEF or b is UNDEF) else bool(a or b)
    b = ev(node[3], ad)
    if op == "=?=":
        return same(a, b)
    if op == "=!=":
        return not same(a, b)
    if a is UNDEF or b is UNDEF:
        return UNDEF
    if isinstance(a, str) and isinstance(b, str) and op in ("==", "!="):
        eq = a.lower() == b.lower()  # == on strings ignores case in ClassAds
        return eq if op == "==" else not eq
    return {"==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
            ">": lambda: a > b, ">=": lambda: a >= b, "+": lambda: a + b, "-": lambda: a - b,
            "*": lambda: a * b, "/": lambda: a / b if b else UNDEF}[op]()


def evaluate(expr, ad):
    p = Parser(tokenize(expr))
    tree = p.parse()
    if p.i != len(p.t):
        raise ClassAdError("trailing tokens in %r" % expr)
    return ev(tree, ad)


def fmt_af(v):
    if v is UNDEF:
        return "undefined"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def state_dir():
    d = os.environ.get("CB_FAKE_POOL")
    if not d:
        sys.exit("fake_pool: CB_FAKE_POOL is not set")
    return d


def load_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def slot_ads(d):
    ads = []
    for path in sorted(glob.glob(os.path.join(d, "slots", "*.json"))):
        ads.extend(load_json(path, []))
    return ads


def startd_ads(d):
    ads = []
    for path in sorted(glob.glob(os.path.join(d, "startds", "*.json"))):
        ads.append(load_json(path, {}))
    return ads


def take(args, flag):
    if flag in args:
        i = args.index(flag)
        val = args[i + 1]
        del args[i:i + 2]
        return val
    return None


def condor_q(d, args):
    args = list(args)
    take(args, "-pool")
    take(args, "-name")
    constraint = take(args, "-constraint") or "true"
    for f in ("-allusers", "-global"):
        if f in args:
            args.remove(f)
    jobs = [j for j in load_json(os.path.join(d, "jobs.json"), []) if evaluate(constraint, j) is True]
    if "-totals" in args:
        idle = sum(1 for j in jobs if j.get("JobStatus") == 1)
        run = sum(1 for j in jobs if j.get("JobStatus") == 2)
        held = sum(1 for j in jobs if j.get("JobStatus") == 5)
        stamp = time.strftime("%m/%d/%y %H:%M:%S")
        print("\n\n-- Schedd: fake : <127.0.0.1:9618?... @ %s" % stamp)
        line = "%d jobs; 0 completed, 0 removed, %d idle, %d running, %d held, 0 suspended" % (len(jobs), idle, run, held)
        print("Total for query: %s " % line)
        print("Total for all users: %s" % line)
        print()
        return 0
    if args and args[0] == "-af:t":
        exprs = args[1:]
        for j in jobs:
            print("\t".join(fmt_af(evaluate(e, j)) for e in exprs))
        return 0
    sys.stderr.write("fake_pool: condor_q: unsupported arguments %r\n" % (args,))
    return 99


def condor_status(d, args):
    args = list(args)
    take(args, "-pool")
    constraint = take(args, "-constraint") or "true"
    attrs = take(args, "-attributes")
    startd = "-startd" in args
    if startd:
        args.remove("-startd")
    if args != ["-json"]:
        sys.stderr.write("fake_pool: condor_status: unsupported arguments %r\n" % (args,))
        return 99
    ads = startd_ads(d) if startd else slot_ads(d)
    ads = [a for a in ads if evaluate(constraint, a) is True]
    if attrs:
        want = [a.strip().lower() for a in attrs.split(",")]
        ads = [{k: v for k, v in a.items() if k.lower() in want} for a in ads]
    if ads:  # real condor_status prints nothing, not [], when no ad matches
        print(json.dumps(ads, indent=2))
    return 0


def condor_drain(d, args):
    args = list(args)
    take(args, "-pool")
    cancel = "-cancel" in args
    target = args[-1]
    machine = target.split("@")[-1]
    for path in glob.glob(os.path.join(d, "startds", "*.json")):
        ad = load_json(path, {})
        if ad.get("Machine") == machine or ad.get("Name") == target:
            ad["Draining"] = not cancel
            ad["DrainReason"] = "cloudburst" if not cancel else None
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                json.dump(ad, f)
            os.replace(path + ".tmp", path)
            print("Sent request to %s %s" % ("cancel draining on" if cancel else "drain", target))
            return 0
    sys.stderr.write("ERROR: Failed to send request to %s: can't find address\n" % target)
    return 1


def condor_advertise(d, args):
    """Keep the last ad of each command, as the collector would (the nodes'
    lease check reads it back)."""
    args = list(args)
    take(args, "-pool")
    if len(args) != 2 or args[0] != "UPDATE_AD_GENERIC":
        sys.stderr.write("fake_pool: condor_advertise: unsupported arguments %r\n" % (args,))
        return 99
    with open(args[1], encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(d, "controller.ad.tmp"), "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(os.path.join(d, "controller.ad.tmp"), os.path.join(d, "controller.ad"))
    return 0


def main(argv):
    tool = os.path.basename(argv[0])
    args = argv[1:]
    if tool == "fake_pool.py":
        tool, args = args[0], args[1:]
    d = state_dir()
    with open(os.path.join(d, "calls.log"), "a", encoding="utf-8") as log:
        log.write(" | ".join([tool] + args) + "\n")
    if os.path.exists(os.path.join(d, "down")):
        sys.stderr.write("Error: Couldn't contact the condor_collector on 127.0.0.1:9618.\n")
        return 1
    # pool_sim.py (the end-to-end test's negotiator) changes the same files.
    lockf = open(os.path.join(d, "lock"), "a", encoding="utf-8")
    fcntl.flock(lockf, fcntl.LOCK_EX)
    try:
        if tool == "condor_q":
            return condor_q(d, args)
        if tool == "condor_status":
            return condor_status(d, args)
        if tool == "condor_drain":
            return condor_drain(d, args)
        if tool == "condor_advertise":
            return condor_advertise(d, args)
    except ClassAdError as e:
        sys.stderr.write("fake_pool: %s: %s\n" % (tool, e))
        return 99
    sys.stderr.write("fake_pool: unknown tool %s\n" % tool)
    return 99


if __name__ == "__main__":
    sys.exit(main(sys.argv))
