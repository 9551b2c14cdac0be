#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Kernel dumps: the bug check located as module+offset, and a stack
(issue 11).

Runs `analyze` on the kernel builder's bug check scenarios
(tests/builder/kernel/kb_modules.c: a PsLoadedModuleList of ntoskrnl.exe,
hal.dll and crashdrv.sys; bug check 0xD1 whose fourth parameter, "the
address that referenced memory", is crashdrv.sys+0x1a2b; the processor
context at the header's ContextRecord; a kernel stack holding two return
addresses, linked by saved EBPs on x86).  The facts come from each
scenario's .expect (`bugcheck`, `module`, `frame` lines, written by the
builder), never from icpheap's output.

usage: test_kernel_crash.py ICPHEAP SCHEMAS [NAME DUMP EXPECT]...
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schemacheck  # noqa: E402

ICP, SCHEMAS = sys.argv[1], sys.argv[2]
from e2echeck import FAILS, PASSED, check  # noqa: E402


schema = schemacheck.load(os.path.join(SCHEMAS, "analyze-dump.schema.json"))
rest = sys.argv[3:]
for i in range(0, len(rest) - 2, 3):
    name, dmp, exp = rest[i:i + 3]
    bug, mods, frames = {}, [], []
    for line in open(exp):
        w = line.split()
        if w and w[0] == "bugcheck":
            bug = dict(x.split("=", 1) for x in w[2:])
            bug["code"] = int(w[1], 16)
        elif w and w[0] == "module":
            mods.append(w[1])
        elif w and w[0] == "frame":
            frames.append((w[2], w[3]))
    r = subprocess.run([ICP, "analyze", "-q", "--jsonl", dmp], capture_output=True, text=True, timeout=120)
    d = json.loads(r.stdout)
    errs = schemacheck.validate(d, schema)
    check(not errs, "%s: JSONL validates (%s)" % (name, errs[:2]))
    b = d.get("bugcheck") or {}
    check(b.get("code") == bug["code"], "%s: bug check 0x%x" % (name, bug["code"]))
    check(b.get("location") == bug["location"], "%s: location %s (%s)" % (name, bug["location"], b.get("location")))
    k = int(bug["fault_param"]) - 1
    locs = b.get("parameter_locations") or []
    check(len(locs) == 4 and locs[k] == bug["location"] and all(l is None for j, l in enumerate(locs) if j != k),
          "%s: only parameter %d is in a module (%s)" % (name, k + 1, locs))
    check(b.get("modules") == len(mods), "%s: %d loaded modules read (%s)" % (name, len(mods), b.get("modules")))
    got = [(f["location"], f["trust"]) for f in (d.get("stack") or {}).get("frames", [])]
    check(got == frames, "%s: stack %s (got %s)" % (name, frames, got))
    f0 = d["findings"][0] if d.get("findings") else {}
    check(f0.get("kind") == "bugcheck" and f0["location"]["module_offset"] == bug["location"],
          "%s: the bug check finding is located (%s)" % (name, f0.get("location")))
    t = subprocess.run([ICP, "analyze", "-q", dmp], capture_output=True, text=True, timeout=120).stdout
    check(("at %s" % bug["location"]) in t and ("#1  %s" % frames[1][0]) in t,
          "%s: text names the location and the stack" % name)

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
