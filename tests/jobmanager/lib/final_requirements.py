#!/usr/bin/env python3
"""Print what HTCondor would make of a recorded condor_submit call, for the
jobmanager-cloud Perl tests: the final Requirements of a submit description
(submit-language assignments read in order, self-references such as
$(Requirements:True) expanded as condor_submit does, then the
APPEND_REQ_VANILLA knob ANDed on as "(req) && (append)"), and its value
against a cloud slot and a site slot.

usage: final_requirements.py SUBMIT_FILE ENV_FILE
output: three lines: "final <expr>", "cloud <value>", "site <value>"
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htcondor_config as hc  # noqa: E402

SLOTS = {
    "cloud": hc.Ad(IsCloudNode="true", OpSys=hc.Literal("LINUX"), Arch=hc.Literal("X86_64"),
                   HasCVMFS="true", Memory="16000"),
    "site": hc.Ad(OpSys=hc.Literal("LINUX"), Arch=hc.Literal("X86_64"), HasCVMFS="true",
                  Memory="16000"),
}


def main(submit_path, env_path):
    with open(submit_path, encoding="utf-8") as f:
        lines = f.read(1 << 20).split("\n")
    # Only Requirements matters here; other commands cannot change it.
    req_lines = [l for l in lines if re.match(r"\s*requirements\s*=", l, re.I)]
    cfg = hc.Config().read(submit_path, "\n".join(req_lines))
    final = cfg.get("Requirements") or "true"
    with open(env_path, encoding="utf-8") as f:
        env = dict(l.split("=", 1) for l in f.read().split("\n") if "=" in l)
    append = env.get("_CONDOR_APPEND_REQ_VANILLA") or env.get("_CONDOR_APPEND_REQUIREMENTS")
    if append:
        final = f"({final}) && ({append})"
    print("final " + final)
    job = hc.Ad(Requirements=final)
    for name, slot in SLOTS.items():
        print(f"{name} {hc._string(hc.evaluate('MY.Requirements', job, slot))}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip().split("\n")[-2], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
