#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ARM64 minidumps end to end (info, analyze, heap, types), against the
tests/builder/arm64 scenarios and their .expect files (written by the
builder from what it laid out, not from icpheap's output).

usage: test_arm64.py ICPHEAP SCHEMAS_DIR DMP EXPECT DMP-BADFP EXPECT-BADFP
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schemacheck  # noqa: E402

ICP, SCHEMAS, DMP, EXP, BDMP, BEXP = sys.argv[1:7]
FAILS, PASSED = [], [0]


def check(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILS.append(what)
        print("FAIL:", what)


def run(*args):
    p = subprocess.run([ICP] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def expect(path):
    x = {"frames": [], "heaps": []}
    for line in open(path):
        w = line.split()
        if not w:
            continue
        if w[0] == "frame":
            x["frames"].append((w[2], w[3]))
        elif w[0] == "context":
            x["context"] = dict(kv.split("=") for kv in w[1:])
        elif w[0] == "exception":
            x["exception"] = dict(kv.split("=") for kv in w[1:])
        elif w[0] == "heap":
            x["heaps"].append({"address": int(w[1], 16)})
        elif w[0] == "totals":
            x["heaps"][-1].update(dict((k, int(v)) for k, v in (kv.split("=") for kv in w[1:])))
    return x


X, BX = expect(EXP), expect(BEXP)

# info: text
rc, out, err = run("info", DMP)
check(rc == 0, "info exits 0 (%d: %s)" % (rc, err))
check(re.search(r"^Arch:\s+arm64,", out, re.M) is not None, "info says Arch: arm64")
c = X["context"]
want = "context: ARM64 pc %s sp %s fp %s lr %s cpsr 0x%08x" % (c["pc"], c["sp"], c["fp"], c["lr"], int(c["cpsr"], 16))
check(want in out, "info prints the ARM64 context line: " + want)
check("write to %s" % X["exception"]["far"] in out, "info names the faulting address (write to FAR)")

# info: JSON, schema, the context object
rc, out, err = run("info", "--json", DMP)
doc = json.loads(out)
schema = schemacheck.load(os.path.join(SCHEMAS, "info.schema.json"))
errs = schemacheck.validate(doc, schema)
check(not errs, "info --json validates against info.schema.json: %s" % errs[:3])
md = doc[0]["minidump"]
check(doc[0]["arch"] == "arm64", "info --json arch arm64")
check(md["system_info"]["processor_architecture"] == 12, "ProcessorArchitecture 12")
ctx = md.get("arm64_context") or {}
for k in ("pc", "sp", "fp", "lr"):
    check(ctx.get(k) == c[k], "arm64_context.%s = %s (got %s)" % (k, c[k], ctx.get(k)))
check(ctx.get("context_flags") == c["flags"], "arm64_context.context_flags")

# analyze --json: frames and trust words as laid out
for dmp, x in ((DMP, X), (BDMP, BX)):
    rc, out, err = run("analyze", "--json", dmp)
    check(rc == 0, "analyze %s exits 0 (%d)" % (os.path.basename(dmp), rc))
    d = json.loads(out)["dumps"][0]
    got = [(f["location"].lower(), f["trust"]) for f in d["stack"]["frames"]]
    want = [(w.lower(), t) for w, t in x["frames"]]
    check(got == want, "%s frames %s == %s" % (os.path.basename(dmp), got, want))
    check(d["arch"] == "arm64", "analyze arch arm64")
rc, out, err = run("analyze", BDMP)
check("(frame-pointer)" in out and "(scan)" in out, "analyze text labels frame-pointer and scan frames")
check("links to 0xa1c0f00100, not above it" in out, "analyze says where the frame-pointer chain broke")

# heap -s: every heap, with the builder's totals (JSON; the text is !heap -s)
rc, out, err = run("heap", "-s", DMP)
check(rc == 0, "heap -s exits 0 (%d: %s)" % (rc, err))
for h in X["heaps"]:
    check(re.search(r"^%016x " % h["address"], out, re.M) is not None, "heap -s lists heap %x" % h["address"])
hs = {int(h["address"], 16): h for h in json.loads(run("heap", "-s", "--json", DMP)[1])["heaps"]}
for h in X["heaps"]:
    t = hs.get(h["address"], {}).get("totals", {})
    check(all(t.get(k) == h[k] for k in ("busy_count", "busy_bytes", "free_count", "free_bytes")),
          "heap -s --json: heap %x totals %s" % (h["address"], t))
    check(hs.get(h["address"], {}).get("layout", "").startswith("ntdll arm64 "), "heap %x uses an arm64 row" % h["address"])
# the derived ARM64 row is said where !heap -v has no such line
rc, out, err = run("heap", "-v", DMP)
check("derived: ARM64 (derived" in out, "heap -v notes the derived ARM64 layout row")

# types lists the ARM64 rows, marked derived
rc, out, err = run("types", "--json")
rows = json.loads(out)["layouts"]
a64 = [r for r in rows if r["arch"] == "arm64"]
x64 = [r for r in rows if r["arch"] == "x64"]
check(len(a64) == len(x64) and a64, "types: an arm64 row per x64 row (%d / %d)" % (len(a64), len(x64)))
check(all(r["derived"] for r in a64), "types: every arm64 row is derived")

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
