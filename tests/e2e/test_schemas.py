#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The JSON Schemas shipped in schemas/ hold for real output.

info: schemas/info.schema.json is what gen_schemas.py writes from the shape
the man page documents (jsoncheck.INFO_SCHEMA), and `info --json` on every
bundled dump (real, hostile, the sample) validates against it; every object
names its schema.  (analyze's schemas are checked in test_analyze.py.)

One vocabulary for ids: a PID as JSON writes it (decimal) is accepted by
the commands that take one (handles), as are 0x-hex and WinDbg's hex Cid.

usage: test_schemas.py ICPHEAP TESTDATA_DIR SCHEMAS_DIR [KERNEL_DUMP]
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_schemas  # noqa: E402
import schemacheck  # noqa: E402

ICP, TD, SCHEMAS = sys.argv[1:4]
KDUMP = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
FAILS, PASSED = [], [0]


def check(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILS.append(what)
        print("FAIL:", what)


shipped = open(os.path.join(SCHEMAS, "info.schema.json")).read()
check(shipped == gen_schemas.text(), "schemas/info.schema.json is up to date (run tests/e2e/gen_schemas.py schemas)")
schema = schemacheck.load(os.path.join(SCHEMAS, "info.schema.json"))
real = os.path.join(TD, "real")
paths = [os.path.join(real, n) for n in sorted(os.listdir(real)) if not n.endswith(".md")]
paths.append(os.path.join(TD, "sample", "x64-19045.dmp"))
r = subprocess.run([ICP, "info", "--json"] + paths, capture_output=True, text=True, timeout=120)
doc = json.loads(r.stdout)
errs = schemacheck.validate(doc, schema)
check(not errs, "info --json of %d dumps validates: %s" % (len(paths), errs[:5]))
check(len(doc) == len(paths) and all(d["schema"] == "icpheap.info/1" for d in doc), "every object names its schema")
# One dump: still one array (the man page's shape).
r = subprocess.run([ICP, "info", "--json", paths[-1]], capture_output=True, text=True, timeout=60)
one = json.loads(r.stdout)
check(not schemacheck.validate(one, schema), "info --json of one dump validates (%s)" % type(one).__name__)
if KDUMP:
    ps = json.loads(subprocess.run([ICP, "ps", "--json", KDUMP], capture_output=True, text=True).stdout)
    procs = [p for p in ps["processes"] if p["pid"] > 9]
    check(procs, "the kernel scenario has processes")
    for p in procs[:2]:
        for arg in (str(p["pid"]), "0x%x" % p["pid"]):
            r = subprocess.run([ICP, "handles", "--json", arg, KDUMP], capture_output=True, text=True)
            got = json.loads(r.stdout) if r.returncode == 0 else {}
            check(r.returncode == 0 and got.get("handles") and all(h["pid"] == p["pid"] for h in got["handles"]),
                  "handles %s (pid %d from ps --json) selects that process (%d %s)"
                  % (arg, p["pid"], r.returncode, r.stderr[:100]))
print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
