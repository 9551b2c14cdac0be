#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden-output tests: run icpheap with the arguments in golden/CASES on a
dump and compare stdout byte for byte with the hand-checked golden file.
Also checks the heap --json shapes against the man page's heap schema.

usage: test_golden.py ICPHEAP DUMP GOLDEN_DIR [--dump NAME PATH ...]

A CASES line is "golden | arguments" (run on DUMP) or "golden | arguments |
NAME" (run on the dump given as --dump NAME PATH, e.g. an ntheapbuilder
scenario).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsoncheck  # noqa: E402

icp, dump, gdir = sys.argv[1:4]
rest = sys.argv[4:]
dumps = {rest[k + 1]: rest[k + 2] for k in range(0, len(rest) - 2, 3) if rest[k] == "--dump"}
passed = failed = 0
for line in open(os.path.join(gdir, "CASES")):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    parts = [x.strip() for x in line.split("|")]
    gold, args = parts[0], parts[1]
    target = dumps[parts[2]] if len(parts) > 2 else dump
    r = subprocess.run([icp, *args.split(), target], capture_output=True, text=True, timeout=60)
    want = open(os.path.join(gdir, gold)).read()
    if r.returncode == 0 and r.stdout == want:
        passed += 1
    else:
        failed += 1
        print("FAIL %s (exit %d)\n--- want\n%s--- got\n%s%s" % (gold, r.returncode, want, r.stdout, r.stderr))

# The heap document's shape: jsoncheck.HEAP_DOC (schemas/heap.schema.json).
TOP = jsoncheck.HEAP_DOC
for args in (["heap", "-s"], ["heap", "-a"], ["heap", "-flt", "s", "20"], ["heap", "-x", "1c3a0001700"]):
    r = subprocess.run([icp, "--json", *args, dump], capture_output=True, text=True, timeout=60)
    try:
        doc = json.loads(r.stdout)
        errs = jsoncheck.check(doc, TOP)
    except ValueError as e:
        errs = [str(e)]
    if errs:
        failed += 1
        print("FAIL json %s: %s" % (" ".join(args), errs[:5]))
    else:
        passed += 1
# -a --json lists every block of the sample: 7 back-end + 130 LFH (busy and
# free, each with its container) + 1 large block keyed by its BusyBlock
# (tests/unit/hmodel/test_hmodel.c lays out exactly these: strides 0x20 x 100
# blocks with 10 busy, 0x30 x 30 with 5 busy; the large block at
# 0x1c3b0000000 + 0x30).
doc = json.loads(subprocess.run([icp, "--json", "heap", "-a", dump], capture_output=True,
                                text=True).stdout)
blocks = doc["heaps"][0]["blocks"]
lfh = [b for b in blocks if b["layer"] == "lfh"]
virt = [b for b in blocks if b["layer"] == "virtual"]
ok = (len(blocks) == 138 and len(lfh) == 130 and doc["heaps"][0]["totals"]["busy_count"] == 19
      and sum(b["state"] == "busy" for b in lfh) == 15
      and {b["container"] for b in lfh} == {"0x1c3a0001350", "0x1c3a0002350"}
      and len(virt) == 1 and virt[0]["header"] == "0x1c3b0000030"
      and virt[0]["virtual_alloc_entry"] == "0x1c3b0000000")
passed += ok
failed += not ok
if not ok:
    print("FAIL -a --json: %d blocks, %d lfh" % (len(blocks), len(lfh)))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
