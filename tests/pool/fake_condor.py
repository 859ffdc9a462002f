#!/usr/bin/env python3
"""Fake condor_q / condor_status / condor_drain for the pool adapter tests.

Usage (through the small wrappers next to this file):
    fake_condor.py TOOL ARGS...

The case file named by $FAKE_CONDOR_CASE lists the calls the adapter may make,
each with the EXACT argument vector expected and what to replay:

    call condor_q              # starts a call of this tool
    arg -allusers              # one argument per line, in order (text after "arg ")
    stdout real-pool-25.0/12_condor_q_af_j.out   # file under tests/fixtures/htcondor
    stdout-head 3000 real-pool-25.0/20_condor_status_json.out  # first N bytes only
    stderr real-pool-25.0/60_pool_down_condor_q.err
    stderr-text -- Failed to fetch ads from: ...   # literal stderr line
    rc 1                       # exit status (default 0)
    hang                       # after writing, sleep until killed
    end

A call whose arguments match no entry is a test failure: the fake prints the
unexpected vector on stderr and exits 99, so the adapter reports an error and
the test sees it. Every invocation is appended to $FAKE_CONDOR_LOG (one line,
tool and arguments joined by " | ") when that is set.
"""
import os
import sys
import time


def load_case(path):
    calls, cur = [], None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            word, _, rest = line.partition(" ")
            if word == "call":
                cur = {"tool": rest.strip(), "args": [], "out": [], "err": [], "rc": 0,
                       "hang": False}
            elif cur is None:
                raise SystemExit("fake_condor: %s: '%s' outside a call" % (path, line))
            elif word == "arg":
                cur["args"].append(rest)
            elif word == "stdout":
                cur["out"].append(("file", rest.strip(), None))
            elif word == "stdout-head":
                n, _, name = rest.strip().partition(" ")
                cur["out"].append(("file", name.strip(), int(n)))
            elif word == "stderr":
                cur["err"].append(("file", rest.strip(), None))
            elif word == "stderr-text":
                cur["err"].append(("text", rest + "\n", None))
            elif word == "rc":
                cur["rc"] = int(rest)
            elif word == "hang":
                cur["hang"] = True
            elif word == "end":
                calls.append(cur)
                cur = None
            else:
                raise SystemExit("fake_condor: %s: unknown directive '%s'" % (path, word))
    return calls


def emit(stream, parts, fixtures):
    for kind, what, limit in parts:
        if kind == "text":
            stream.write(what.encode())
            continue
        with open(os.path.join(fixtures, what), "rb") as f:
            data = f.read()
        stream.write(data if limit is None else data[:limit])
    stream.flush()


def main():
    tool, args = sys.argv[1], sys.argv[2:]
    log = os.environ.get("FAKE_CONDOR_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(" | ".join([tool] + args) + "\n")
    case = os.environ.get("FAKE_CONDOR_CASE")
    if not case:
        sys.stderr.write("fake %s: FAKE_CONDOR_CASE is not set\n" % tool)
        return 99
    fixtures = os.path.join(os.environ["top_srcdir"], "tests", "fixtures", "htcondor")
    for call in load_case(case):
        if call["tool"] == tool and call["args"] == args:
            emit(sys.stdout.buffer, call["out"], fixtures)
            emit(sys.stderr.buffer, call["err"], fixtures)
            if call["hang"]:
                while True:
                    time.sleep(60)
            return call["rc"]
    sys.stderr.write("fake %s: unexpected arguments: %r\n" % (tool, args))
    return 99


if __name__ == "__main__":
    sys.exit(main())
