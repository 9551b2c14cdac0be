#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The walk goes on past a corrupt entry (issue 8): on the independent
builder's x64-19045-corrupt scenario, every block after the corrupt one is
found by `heap -x` (the .expect names the corrupt entry and lists the blocks
after it), the corrupt entry is listed with state "corrupt" by
`heap -a --json`, and the totals count it.

usage: test_corrupt_walk.py ICPHEAP DUMP EXPECT
"""
import json
import subprocess
import sys

icp, dump, expect = sys.argv[1:4]
corrupt = None
blocks = []
heap = None
for line in open(expect):
    f = line.split()
    if not f or f[0].startswith("#"):
        continue
    if f[0] == "heap":
        heap = int(f[1], 16)
    elif f[0] == "corrupt":
        corrupt = int(f[1], 16)
    elif f[0] == "block":
        kv = dict(x.split("=", 1) for x in f[1:])
        blocks.append((heap, int(kv["header"], 16), int(kv["user"], 16), kv["state"], kv["layer"]))
assert corrupt is not None, "no corrupt line in " + expect
failed = 0
idx = [i for i, b in enumerate(blocks) if b[1] == corrupt][0]
after = [b for b in blocks[idx + 1:idx + 40] if b[0] == blocks[idx][0] and b[4] == "backend"]
for hp, header, user, state, layer in after[:10]:
    r = subprocess.run([icp, "heap", "-x", "%x" % user, dump], capture_output=True, text=True)
    rows = r.stdout.splitlines()
    ok = r.returncode == 0 and len(rows) == 3 and rows[2].split()[0] == "%016x" % header
    if not ok:
        failed += 1
        print("FAIL -x %x: want entry %016x\n%s%s" % (user, header, r.stdout, r.stderr))
doc = json.loads(subprocess.run([icp, "--json", "heap", "-a", "%x" % blocks[idx][0], dump],
                                capture_output=True, text=True).stdout)
h = doc["heaps"][0]
listed = {int(b["header"], 16): b["state"] for b in h["blocks"]}
if listed.get(corrupt) != "corrupt" or h["totals"]["corrupt_count"] != 1:
    failed += 1
    print("FAIL corrupt entry %x listed as %r, corrupt_count %r" % (corrupt, listed.get(corrupt),
                                                                  h["totals"]["corrupt_count"]))
missing = [b for b in blocks if b[0] == blocks[idx][0] and b[1] != corrupt and b[1] not in listed
           and b[4] != "virtual"]
if missing:
    failed += 1
    print("FAIL %d blocks of the heap not listed, first %x" % (len(missing), missing[0][1]))
print("%d blocks checked after the corrupt entry, %d failed" % (len(after[:10]), failed))
sys.exit(1 if failed else 0)
