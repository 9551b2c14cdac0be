#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ARM64 minidumps end to end (info, analyze, heap, types), against the
tests/builder/arm64 scenarios and their .expect files (written by the
builder from what it laid out, not from icpheap's output).

The ARM64 kernel dump (AArch64 page tables): info, ps, handles, icpleak
and heap --pid against the kobjbuilder .expect and the .heaps file; a
DirectoryTableBase the reader cannot walk is refused by name.

usage: test_arm64.py ICPHEAP SCHEMAS_DIR DMP EXPECT DMP-BADFP EXPECT-BADFP
                     KDMP KEXPECT KHEAPS
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schemacheck  # noqa: E402
from e2echeck import FAILS, PASSED, check  # noqa: E402

ICP, SCHEMAS, DMP, EXP, BDMP, BEXP, KDMP, KEXP, KHEAPS = sys.argv[1:10]


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

# ---- the ARM64 kernel dump
kx = {"procs": [], "icp": []}
for line in open(KEXP):
    w = line.split()
    if w and w[0] == "process":
        kv = dict(t.split("=", 1) for t in w[2:] if "=" in t)
        kx["procs"].append((int(kv["pid"]), kv["name"].strip('"'), int(kv["handles"])))
    elif w and w[0] == "icp":
        kv = dict(t.split("=", 1) for t in w[2:] if "=" in t)
        kx["icp"].append((int(w[1], 16), int(kv["queued"])))
rc, out, err = run("info", KDMP)
check(rc == 0 and re.search(r"^Arch:\s+arm64 \(MachineImageType 0xaa64\)", out, re.M) is not None,
      "info: Arch arm64 (MachineImageType 0xaa64)")
check("not addressable" not in out + err, "info: kernel memory is addressable")
rc, out, err = run("ps", "--json", KDMP)
check(rc == 0, "ps exits 0 (%d: %s)" % (rc, err))
ps = json.loads(out)["processes"] if rc == 0 else []
check([(p["pid"], p["image"]) for p in ps] == [(p, n) for p, n, _ in kx["procs"]],
      "ps: the builder's processes in list order")
for pid, name, nh in kx["procs"]:
    rc, out, err = run("handles", "--json", str(pid), KDMP)
    doc = json.loads(out) if rc == 0 else {}
    hs = doc.get("handles") if isinstance(doc, dict) else None
    if hs is None and isinstance(doc, dict):
        hs = [h for p in doc.get("processes", []) for h in p.get("handles", [])]
    check(rc == 0 and len(hs or []) == nh, "handles %d: %d handles (got %s, rc %d)" % (pid, nh, len(hs or []), rc))
rc, out, err = run("icpleak", "--json", KDMP)
objs = {int(o["address"], 16): o["queued"] for o in json.loads(out)["objects"]} if rc in (0, 1) else {}
for addr, q in kx["icp"]:
    check(objs.get(addr) == q, "icpleak: queue %x holds %d packets (got %s)" % (addr, q, objs.get(addr)))
# heap --pid: every heap of heapapp.exe with the .heaps totals
hx = []
for line in open(KHEAPS):
    w = line.split()
    if w and w[0] == "heap":
        hx.append({"address": int(w[1], 16)})
    elif w and w[0] == "totals":
        hx[-1].update(dict((k, int(v)) for k, v in (kv.split("=") for kv in w[1:])))
rc, out, err = run("heap", "-s", "--json", "--pid", "5100", KDMP)
check(rc == 0, "heap -s --pid 5100 exits 0 (%d: %s)" % (rc, err))
got = {int(h["address"], 16): h for h in json.loads(out)["heaps"]} if rc == 0 else {}
for h in hx:
    t = got.get(h["address"], {}).get("totals", {})
    check(all(t.get(k) == h[k] for k in ("busy_count", "busy_bytes", "free_count", "free_bytes")),
          "heap --pid 5100: heap %x totals %s" % (h["address"], t))
    check(got.get(h["address"], {}).get("layout", "").startswith("ntdll arm64 "), "heap --pid uses an arm64 row")
rc, out, err = run("heap", "-s", "--process", "HEAPAPP.EXE", KDMP)
check(rc == 0 and all(re.search(r"^%016x " % h["address"], out, re.M) for h in hx), "heap -s --process HEAPAPP.EXE")
# refusal: DirectoryTableBase (DUMP_HEADER64 +0x10) with bit 1 set
import tempfile
data = bytearray(open(KDMP, "rb").read())
data[0x10] |= 0x02
with tempfile.NamedTemporaryFile(suffix=".dmp", delete=False) as f:
    f.write(data)
    bad = f.name
try:
    rc, out, err = run("info", bad)
    check(re.search(r"DirectoryTableBase 0x[0-9a-f]*1002: bits 11:1 are set", out + err) is not None,
          "info names the DirectoryTableBase it cannot walk")
    rc, out, err = run("ps", bad)
    check(rc != 0 and rc != 1, "ps on an unwalkable ARM64 DTB fails (rc %d)" % rc)
finally:
    os.unlink(bad)

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
