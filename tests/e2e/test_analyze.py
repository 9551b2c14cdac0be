#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of `icpheap analyze` (issue: one-shot triage).

Facts come from testdata/real/MANIFEST.md (no real dump captures a whole
heap; the FUZZED / HAND-MADE files are hostile) and from the analyze
schema in the man page (ANALYZE_SCHEMA below mirrors it), never from
icpheap's own output.

usage: test_analyze.py ICPHEAP TESTDATA_DIR
"""
import json
import os
import re
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsoncheck  # noqa: E402

ICP, TD = sys.argv[1], sys.argv[2]
REAL = os.path.join(TD, "real")
FAILS = []
PASSED = [0]

ADDR_OBJ = {"address": "addr", "status": "str", "flags?": "addr", "reserved?": "int",
            "committed?": "int", "busy_count?": "int", "busy_bytes?": "int",
            "free_count?": "int", "free_bytes?": "int", "virtual_blocks?": "int",
            "lfh?": "bool", "reason?": "str"}
SECTION = {"status": "str", "seconds?": "num", "error?": "str"}
ANALYZE_SCHEMA = {
    "schema": "str", "path": "str", "kind?": "str", "arch?": "str", "wow64?": "bool",
    "gzip?": "bool", "build?": "int", "os_version?": "str", "processors?": "int",
    "pid?": "int", "image?": "str", "threads?": "int", "modules?": "int",
    "memory_ranges?": "int", "memory_bytes?": "int",
    "exception?": {"code": "addr", "name": ("str", None), "address": "addr", "thread": "int"},
    "bugcheck?": {"code": "addr", "parameters": ["addr"]},
    "heaps?": dict(SECTION, **{"heaps?": [ADDR_OBJ]}),
    "heap_stat?": dict(SECTION, **{"busy_bytes?": "int",
                                  "top?": [{"size": "int", "blocks": "int", "total": "int"}]}),
    "heap_validation?": dict(SECTION, **{"problems?": [{"heap": "addr", "address": "addr", "what": "str"}]}),
    "processes?": dict(SECTION, **{"count?": "int", "warnings?": ["str"]}),
    "icpleak?": dict(SECTION, **{"type?": "addr", "type_objects?": "int", "type_handles?": "int",
                                "type_list_maintained?": "bool", "source?": "str",
                                "objects_found?": "int", "top?": ["any"]}),
    "findings?": ["str"], "not_analysed?": ["str"], "partial?": "bool",
    "verdict": "str", "exit_code": "int", "error?": "str",
}


def check(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILS.append(what)
        print("FAIL:", what)


def run(*args, **kw):
    return subprocess.run([ICP, *args], capture_output=True, text=True, timeout=120, **kw)


def manifest_kinds():
    """dump name -> 'hostile' or 'real' from MANIFEST.md."""
    kinds, name = {}, None
    for line in open(os.path.join(REAL, "MANIFEST.md"), encoding="utf-8"):
        if line.startswith("## "):
            name = line[3:].strip()
        elif name and line.startswith("- kind:"):
            kinds[name] = "hostile" if ("FUZZED" in line or "HAND-MADE" in line) else "real"
    return kinds


kinds = manifest_kinds()
dumps = sorted(kinds)
check(len(dumps) == 18, "MANIFEST lists 18 dumps (%d)" % len(dumps))

# 1. The folder, as JSON lines: one line per dump, in sorted order, every
# line valid against the schema; MANIFEST.md itself is skipped (not a dump).
r = run("analyze", "-q", "--jsonl", REAL)
lines = [l for l in r.stdout.splitlines() if l.strip()]
check(len(lines) == len(dumps), "--jsonl gives one line per dump (%d)" % len(lines))
docs = []
for l in lines:
    try:
        docs.append(json.loads(l))
    except ValueError as e:
        check(False, "--jsonl line is JSON: %s" % e)
for d in docs:
    errs = jsoncheck.check(d, ANALYZE_SCHEMA)
    check(not errs, "schema of %s: %s" % (d.get("path"), errs[:3]))
names = [os.path.basename(d["path"]) for d in docs]
check(names == dumps, "dumps in sorted order")
# No real dump captures a whole heap, and hostile files are refused: the
# batch exits 3 (worst code), with a reason per dump.
check(r.returncode == 3, "folder exit code 3 (%d)" % r.returncode)
for d in docs:
    n = os.path.basename(d["path"])
    if kinds.get(n) == "hostile":
        check(d["verdict"] == "unreadable" and d["exit_code"] == 3 and d.get("error"),
              "%s refused with an error" % n)
    else:
        check(d["verdict"] in ("unanalysable",) and d["exit_code"] == 3,
              "%s: cannot be analysed (verdict %s)" % (n, d["verdict"]))
        check(d.get("not_analysed"), "%s says what could not be analysed" % n)
sig = [d for d in docs if d["path"].endswith("llvm-mirror__lldb__sigsegv.dmp")][0]
# MANIFEST: heaps 0x2083f1f0000 and 0x2083d170000, neither captured.
check(any("0x2083f1f0000" in s and "not captured" in s for s in sig["not_analysed"]),
      "sigsegv: heap 0x2083f1f0000 reported not captured")
check(any("0x2083d170000" in s and "not captured" in s for s in sig["not_analysed"]),
      "sigsegv: heap 0x2083d170000 reported not captured")
check(sig.get("exception", {}).get("address") == "0x7ff7a13110d9", "sigsegv: exception address")
check(sig.get("pid") == 13052, "sigsegv: pid")
tri = [d for d in docs if d["path"].endswith("triage_x64.dmp")][0]
check(tri.get("bugcheck", {}).get("code") == "0x1000007e", "triage: bugcheck code")
check(tri.get("processors") == 16, "triage: processors")

# 2. Text: a summary line that counts each outcome; -j 1 and -j 2 agree
# byte for byte (reports in input order whatever finishes first).
r1 = run("analyze", "-j", "1", REAL)
r2 = run("analyze", "-j", "2", REAL)
check(r1.stdout == r2.stdout, "-j 1 and -j 2 give the same report")
nhostile = sum(1 for k in kinds.values() if k == "hostile")
m = re.search(r"^(\d+) dumps: (\d+) ok, (\d+) with findings, (\d+) unreadable or not analysable, (\d+) internal errors$",
              r1.stdout, re.M)
check(m is not None, "summary line present")
if m:
    check(int(m.group(1)) == 18 and int(m.group(4)) == 18 and int(m.group(5)) == 0,
          "summary counts: %s" % m.group(0))
check("\r" not in r1.stderr, "no progress line when stderr is not a terminal")
for n in dumps:
    check(("==> %s <==" % os.path.join(REAL, n)) in r1.stdout or n == "", "text section for %s" % n)

# 3. --out writes the same report atomically; no temporary file is left.
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "report.json")
    r = run("analyze", "-q", "--jsonl", "--out", out, REAL)
    check(os.path.exists(out) and open(out).read().splitlines() == lines, "--out content")
    check(sorted(os.listdir(tmp)) == ["report.json"], "--out leaves no temporary file")
    # a folder that does not exist for --out: usage error, nothing written
    r = run("analyze", "--out", os.path.join(tmp, "nodir", "x.json"), REAL)
    check(r.returncode == 2, "--out into a missing folder: exit 2 (%d)" % r.returncode)

# 4. Isolation: a dump whose analysis hangs (a FIFO nobody writes) is
# stopped by --timeout; the other dumps are still reported.
with tempfile.TemporaryDirectory() as tmp:
    fifo = os.path.join(tmp, "hang.dmp")
    os.mkfifo(fifo)
    good = os.path.join(REAL, "llvm-mirror__lldb__sigsegv.dmp")
    r = run("analyze", "-q", "--jsonl", "--timeout", "1", "-j", "2", fifo, good)
    ds = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    check(len(ds) == 2 and ds[0]["verdict"] == "crashed" and ds[1]["verdict"] == "unanalysable",
          "timeout isolates the hanging dump (%s)" % [d.get("verdict") for d in ds])
    check(r.returncode == 4, "worst code 4 with a stopped analysis (%d)" % r.returncode)

# 4b. --out atomicity under a kill: SIGTERM while a dump hangs leaves
# neither the report nor a temporary file; children are stopped too.
import signal
import time
with tempfile.TemporaryDirectory() as tmp:
    fifo = os.path.join(tmp, "hang.dmp")
    os.mkfifo(fifo)
    out = os.path.join(tmp, "out", "r.txt")
    os.mkdir(os.path.dirname(out))
    p = subprocess.Popen([ICP, "analyze", "-q", "--out", out, fifo], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    check(p.returncode != 0, "killed analyze exits non-zero")
    check(os.listdir(os.path.dirname(out)) == [], "killed --out leaves no file (%s)" % os.listdir(os.path.dirname(out)))
    # release the child blocked on the FIFO, if any
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass

# 5. Usage errors.
for args in (["analyze"], ["analyze", "--fail-on", "bogus", REAL], ["analyze", "-j", "0", REAL],
             ["analyze", "--fail-on", "icp-queue>x", REAL]):
    r = run(*args)
    check(r.returncode == 2, "%s: exit 2 (%d)" % (" ".join(args[1:]), r.returncode))

# 6. The hostile files alone, fast.
hostile = [os.path.join(REAL, n) for n, k in kinds.items() if k == "hostile"]
r = run("analyze", "-q", *hostile)
check(r.returncode == 3, "hostile files: exit 3")

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
