#!/usr/bin/env python3
"""jobmanager-cloud: the HTCondor-CE route files (new and old syntax) and the
schedd transform/submit-requirement file, read as HTCondor configuration.

For each file and each mode of its documented one-line switch: the file
parses (macros, @= blocks, continuations); every name listed is defined;
route and transform bodies use known commands and never EVALSET the
requirements; the cloud route/transform adds (TARGET.IsCloudNode =?= true)
exactly once and keeps the job's requirements in parentheses; then sample
jobs are routed and their final requirements evaluated against a cloud slot
and a site slot.  The submit requirement is evaluated for jobs that fit the
largest flavor and jobs that do not.

Exit status as automake's test driver expects: 0 pass, 1 fail, 99 error.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # never write __pycache__ into the source tree
sys.path.insert(0, os.path.join(HERE, "lib"))
import htcondor_config as hc  # noqa: E402

TOP = os.environ.get("top_srcdir") or os.path.normpath(os.path.join(HERE, "..", ".."))
JM = os.path.join(TOP, "jobmanager")
NEW_ROUTES = os.path.join(JM, "htcondor-ce", "90-cloudburst-routes.conf")
OLD_ROUTES = os.path.join(JM, "htcondor-ce", "90-cloudburst-routes-old.conf")
SCHEDD = os.path.join(JM, "schedd", "90-cloudburst-transforms.conf")
MAN_PAGE = os.path.join(TOP, "man", "jobmanager-cloud.7")
README = os.path.join(TOP, "docs", "jobmanager-cloud.md")

CLOUD = re.compile(r"\(\s*TARGET\.IsCloudNode\s*=\?=\s*true\s*\)", re.I)
KEEP_OFF = re.compile(r"\(\s*TARGET\.IsCloudNode\s*=!=\s*true\s*\)", re.I)

checks = 0
failures = []


def check(cond, what):
    global checks
    checks += 1
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


# Sample jobs (as they reach the router or schedd) and slots.
JOBS = {
    # own requirements with a top-level ||: they must stay one operand
    "cloud job": hc.Ad(WantCloudNode="true",
                       Requirements='TARGET.HasCVMFS =?= true || TARGET.OpSys == "WINDOWS"',
                       RequestCpus="4", RequestMemory="8000", RequestDisk="1000000"),
    "cloud job needing a GPU": hc.Ad(WantCloudNode="true", Requirements="TARGET.HasGPU =?= true"),
    "ordinary job": hc.Ad(Requirements='TARGET.OpSys == "LINUX"'),
    "job saying WantCloudNode = false": hc.Ad(WantCloudNode="false", Requirements="true"),
}
SLOTS = {
    "cloud slot": hc.Ad(IsCloudNode="true", OpSys=hc.Literal("LINUX"), HasCVMFS="true"),
    "site slot": hc.Ad(OpSys=hc.Literal("LINUX"), HasCVMFS="true"),
}
# Where each job may run, per mode.
EXPECT = {
    "transparent or exclusive": {
        "cloud job": {"cloud slot"},
        "cloud job needing a GPU": set(),
        "ordinary job": {"cloud slot", "site slot"},
        "job saying WantCloudNode = false": {"cloud slot", "site slot"},
    },
    "keep-off": {
        "cloud job": {"cloud slot"},
        "cloud job needing a GPU": set(),
        "ordinary job": {"site slot"},
        "job saying WantCloudNode = false": {"site slot"},
    },
}


def switch_variants(path):
    """The documented one-line switch: {mode: file text with that line}."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    start = next(i for i, l in enumerate(lines) if "The mode switch is this one line" in l)
    variants, i = {}, start + 1
    while lines[i].startswith("#"):
        m = re.match(r"#\s+([a-z -]+):\s+(\S.*)$", lines[i])
        if m:
            variants[m.group(1).strip()] = m.group(2).strip()
        i += 1
    active = lines[i].strip()
    check(active == variants.get("transparent or exclusive"),
          f"{os.path.basename(path)}: the active switch line is the documented default")
    # Docs and files in step: every switch line is spelled out, as is, in
    # the man page and in the README section.
    with open(MAN_PAGE, encoding="utf-8") as f:
        man_lines = {l[4:].strip() for l in f.read().split("\n") if l.startswith(".Dl ")}
    with open(README, encoding="utf-8") as f:
        readme = f.read()
    for mode, line in variants.items():
        check(line in man_lines, f"{os.path.basename(path)}: man page shows the {mode} line {line!r}")
        check(f"`{line}`" in readme, f"{os.path.basename(path)}: README shows the {mode} line")
    out = {}
    for mode, line in variants.items():
        text = lines[:]
        text[i] = line
        out[mode] = "\n".join(text)
    check(set(out) == set(EXPECT), f"{os.path.basename(path)}: switch documents {sorted(out)}")
    return out


def where_job_runs(requirements, job):
    ad = hc.Ad(**{k: v for k, v in job.items()})
    ad["Requirements"] = requirements
    return {name for name, slot in SLOTS.items()
            if hc.evaluate("MY.Requirements", ad, slot) is True}


def check_transform_body(label, body, where):
    cmds = hc.parse_transform(body, where)
    check(not any(c == "EVALSET" and a.split()[0].lower() == "requirements" for c, a in cmds),
          f"{label}: never EVALSET Requirements")
    sets = [a.split(None, 1)[1] for c, a in cmds if c == "SET" and a.split()[0].lower() == "requirements"]
    for expr in sets:
        check(expr.count("$(MY.Requirements)") == 1
              and expr.replace(" ", "").startswith("($(MY.Requirements))&&"),
              f"{label}: SET Requirements keeps $(MY.Requirements) once, in parentheses, first")
        check(hc.parens_balanced(expr.replace("$(MY.Requirements)", "true")),
              f"{label}: SET Requirements has balanced parentheses")
    return cmds, sets


def apply_transform(cmds, job):
    """REQUIREMENTS decides; SET Requirements splices the job's text."""
    req = next((a for c, a in cmds if c == "REQUIREMENTS"), "true")
    if hc.evaluate(req, job) is not True:
        return None
    out = hc.Ad(**{k: v for k, v in job.items()})
    for c, a in cmds:
        if c == "SET":
            attr, expr = a.split(None, 1)
            if attr.lower() == "requirements":
                expr = expr.replace("$(MY.Requirements)", job.lookup("Requirements"))
            out[attr] = expr
    return out


def new_routes(mode, text):
    label = f"new routes [{mode}]"
    cfg = hc.Config().read(NEW_ROUTES, text)
    names = cfg.get("JOB_ROUTER_ROUTE_NAMES").split()
    check(len(names) == 2 and names[0] == "Cloudburst_Cloud",
          f"{label}: JOB_ROUTER_ROUTE_NAMES lists the cloud route first: {names}")
    routes = {}
    for name in names:
        key = "JOB_ROUTER_ROUTE_" + name
        check(cfg.has(key), f"{label}: {key} is defined")
        body = cfg.get(key, expand=False)
        stray = [m for m in cfg.unknown_macros(key) if not m.upper().startswith(("MY.", "TARGET."))]
        check(not stray, f"{label}: {name} uses no undefined config macros {stray}")
        cmds, sets = check_transform_body(f"{label} {name}", body, cfg.where[key.upper()])
        check(any(c == "UNIVERSE" and a.upper() in ("VANILLA", "5") for c, a in cmds),
              f"{label}: {name} routes to the vanilla universe")
        n_cloud = sum(len(CLOUD.findall(s)) for s in sets)
        n_off = sum(len(KEEP_OFF.findall(s)) for s in sets)
        if name == "Cloudburst_Cloud":
            check(n_cloud == 1 and n_off == 0, f"{label}: {name} adds the cloud clause exactly once")
        elif name == "Cloudburst_KeepOff":
            check(n_off == 1 and n_cloud == 0, f"{label}: {name} adds the keep-off clause exactly once")
        else:
            check(n_cloud == 0 and n_off == 0 and not sets, f"{label}: {name} leaves requirements alone")
        routes[name] = cmds
    # Every route the switch can name is defined, used or not.
    for name in ("Cloudburst_Cloud", "Cloudburst_Local", "Cloudburst_KeepOff"):
        check(cfg.has("JOB_ROUTER_ROUTE_" + name), f"{label}: route {name} is defined")
    for jname, job in JOBS.items():
        routed = None
        matching = [n for n in names if apply_transform(routes[n], job) is not None]
        check(len(matching) == 1, f"{label}: {jname} matches exactly one route {matching}")
        routed = apply_transform(routes[matching[0]], job)
        got = where_job_runs(routed.lookup("Requirements"), job)
        check(got == EXPECT[mode][jname], f"{label}: {jname} may run on {sorted(got)}")


def old_routes(mode, text):
    label = f"old routes [{mode}]"
    cfg = hc.Config().read(OLD_ROUTES, text)
    check(cfg.get("JOB_ROUTER_USE_DEPRECATED_ROUTER_ENTRIES") == "True",
          f"{label}: the old syntax is switched on")
    check(not cfg.unknown_macros("JOB_ROUTER_ENTRIES"), f"{label}: entries use only defined macros")
    entries = hc.parse_old_entries(cfg.get("JOB_ROUTER_ENTRIES"), cfg.where["JOB_ROUTER_ENTRIES"])
    names = [e.get("name", "").strip('"') for e in entries]
    check(names == ["Cloudburst_Cloud", "Cloudburst_Local"], f"{label}: entries {names}")
    check(cfg.get("JOB_ROUTER_ROUTE_NAMES").split() == names,
          f"{label}: JOB_ROUTER_ROUTE_NAMES enables the entries in order")
    for e, name in zip(entries, names):
        check(e.get("targetuniverse") == "5", f"{label}: {name} routes to the vanilla universe")
        check("eval_set_requirements" not in e, f"{label}: {name} never eval_set_Requirements")
        setreq = e.get("set_requirements", "")
        check(hc.parens_balanced(setreq), f"{label}: {name} set_Requirements balanced")
        n_cloud, n_off = len(CLOUD.findall(setreq)), len(KEEP_OFF.findall(setreq))
        if name == "Cloudburst_Cloud":
            check(n_cloud == 1 and n_off == 0, f"{label}: {name} adds the cloud clause exactly once")
        else:
            want = 1 if mode == "keep-off" else 0
            check(n_cloud == 0 and n_off == want,
                  f"{label}: {name} adds the keep-off clause {want} time(s)")
        check(e.get("copy_requirements") == '"CloudburstOrigRequirements"',
              f"{label}: {name} keeps the original requirements")
    for jname, job in JOBS.items():
        # In an entry's Requirements the incoming job is TARGET.
        matching = [e for e in entries if hc.evaluate(e["requirements"], hc.Ad(), job) is True]
        check(len(matching) == 1, f"{label}: {jname} matches exactly one entry")
        e = matching[0]
        routed = hc.Ad(**{k: v for k, v in job.items()})
        routed[e["copy_requirements"].strip('"')] = job.lookup("Requirements")
        got = where_job_runs(e["set_requirements"], routed)
        check(got == EXPECT[mode][jname], f"{label}: {jname} may run on {sorted(got)}")


def schedd(mode, text):
    label = f"schedd [{mode}]"
    cfg = hc.Config().read(SCHEDD, text)
    names = cfg.get("JOB_TRANSFORM_NAMES").split()
    check(names[0] == "Cloudburst_Cloud", f"{label}: JOB_TRANSFORM_NAMES = {names}")
    xforms = []
    for name in names:
        key = "JOB_TRANSFORM_" + name
        check(cfg.has(key), f"{label}: {key} is defined")
        cmds, sets = check_transform_body(f"{label} {name}", cfg.get(key, expand=False),
                                          cfg.where[key.upper()])
        n_cloud = sum(len(CLOUD.findall(s)) for s in sets)
        n_off = sum(len(KEEP_OFF.findall(s)) for s in sets)
        if name == "Cloudburst_Cloud":
            check(n_cloud == 1 and n_off == 0, f"{label}: {name} adds the cloud clause exactly once")
        else:
            check(n_off == 1 and n_cloud == 0, f"{label}: {name} adds the keep-off clause exactly once")
        xforms.append(cmds)
    for jname, job in JOBS.items():
        ad = job
        for cmds in xforms:            # every matching transform, in order
            out = apply_transform(cmds, ad)
            ad = out if out is not None else ad
        got = where_job_runs(ad.lookup("Requirements"), job)
        check(got == EXPECT[mode][jname], f"{label}: {jname} may run on {sorted(got)}")

    # Submit requirement: cloud jobs that no flavor can hold are refused.
    check("CloudburstFits" in cfg.get("SUBMIT_REQUIREMENT_NAMES").split(),
          f"{label}: SUBMIT_REQUIREMENT_NAMES lists CloudburstFits")
    for knob in ("SUBMIT_REQUIREMENT_CloudburstFits", "SUBMIT_REQUIREMENT_CloudburstFits_REASON"):
        check(not cfg.unknown_macros(knob), f"{label}: {knob} uses only defined macros")
    expr = cfg.get("SUBMIT_REQUIREMENT_CloudburstFits")
    reason = cfg.get("SUBMIT_REQUIREMENT_CloudburstFits_REASON")
    cpus, mem = int(cfg.get("CLOUDBURST_MAX_CPUS")), int(cfg.get("CLOUDBURST_MAX_MEMORY_MB"))
    disk = int(cfg.get("CLOUDBURST_MAX_DISK_KB"))
    schedd_ad = hc.Ad(Name=hc.Literal("schedd"))
    cases = [
        ("largest cloud job", dict(WantCloudNode="true", RequestCpus=str(cpus),
                                   RequestMemory=str(mem), RequestDisk=str(disk)), True),
        ("cloud job, one CPU too many", dict(WantCloudNode="true", RequestCpus=str(cpus + 1),
                                              RequestMemory="1000", RequestDisk="1000"), False),
        ("cloud job, too much memory", dict(WantCloudNode="true", RequestCpus="1",
                                             RequestMemory=str(mem + 1), RequestDisk="1000"), False),
        ("cloud job, too much disk", dict(WantCloudNode="true", RequestCpus="1",
                                           RequestMemory="1000", RequestDisk=str(disk + 1)), False),
        ("cloud job with an expression for memory",
         dict(WantCloudNode="true", RequestCpus="2", RequestMemory="RequestCpus * 2000",
              RequestDisk="1000"), True),
        ("huge ordinary job", dict(RequestCpus="128", RequestMemory="1000000",
                                   RequestDisk="1000000000"), True),
    ]
    for cname, attrs, ok in cases:
        job = hc.Ad(**attrs)
        check(hc.evaluate(expr, schedd_ad, job) is ok,
              f"{label}: CloudburstFits {'accepts' if ok else 'refuses'} {cname}")
        if not ok:
            text = hc.evaluate(reason, schedd_ad, job)
            check(isinstance(text, str) and f"at most {cpus} CPUs" in text
                  and f"{mem} MB" in text and "\n" not in text
                  and f"requests {hc.evaluate('TARGET.RequestCpus', schedd_ad, job)} CPUs" in text,
                  f"{label}: reason says the limits and the request: {text!r}")


def parser_self_test():
    """The checker rejects what HTCondor would: so its passes mean something."""
    bad = [
        ("X @=end\nSET a b\n", "never closed"),
        ("NOT AN ASSIGNMENT\n", "not a NAME = value"),
        ("X = a \\", "continuation at end of file"),
    ]
    for text, msg in bad:
        try:
            hc.Config().read("self-test.conf", text)
            check(False, f"parser refuses {text!r}")
        except hc.ConfigError as e:
            check(msg in str(e) and "self-test.conf:1" in str(e), f"parser refuses {text!r}: {e}")
    cfg = hc.Config().read("t", "A = x\nA = $(A) y\nB = $(C:dflt) $(A)\n")
    check(cfg.get("B") == "dflt x y", "parser: self-reference and default expand")
    try:
        hc.parse_transform("SETT Requirements true", "t:1")
        check(False, "transform parser refuses an unknown command")
    except hc.ConfigError:
        check(True, "transform parser refuses an unknown command")
    check(not hc.parens_balanced("(a) || b)"), "parens: an extra ')' is unbalanced")
    check(hc.parens_balanced('(a == ")")'), "parens: a ')' inside a string does not count")
    check(hc.evaluate("(x || y) && (TARGET.IsCloudNode =?= true)", hc.Ad(x="true"),
                      hc.Ad()) is False, "evaluator: =?= on a missing attribute is false")
    check(hc.evaluate("undefined_attr ?: 7", hc.Ad()) == 7, "evaluator: ?: default")
    check(hc.evaluate("x || y && false", hc.Ad(x="true", y="true")) is True,
          "evaluator: && binds tighter than ||")


def main():
    try:
        parser_self_test()
        for mode, text in switch_variants(NEW_ROUTES).items():
            new_routes(mode, text)
        for mode, text in switch_variants(OLD_ROUTES).items():
            old_routes(mode, text)
        for mode, text in switch_variants(SCHEDD).items():
            schedd(mode, text)
    except (hc.ConfigError, hc.ClassAdError, OSError, StopIteration) as e:
        print(f"ERROR {type(e).__name__}: {e}")
        return 99
    print(f"{checks} checks, {len(failures)} failed")
    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
