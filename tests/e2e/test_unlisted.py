#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""24H2 heaps the PEB does not list (x64dbg/x64dbg#3478): on the independent
segment-heap builder's x64-26100-unlisted scenario, `heap --json` lists every
heap of the .expect, those after an `unlisted` line with "unlisted": true
and the others without it.

usage: test_unlisted.py ICPHEAP DUMP EXPECT
"""
import json
import subprocess
import sys

icp, dump, expect = sys.argv[1:4]
heaps, unlisted = [], set()
for line in open(expect):
    f = line.split()
    if f and f[0] == "heap":
        heaps.append(int(f[1], 16))
    elif f and f[0] == "unlisted":
        unlisted.add(int(f[1], 16))
doc = json.loads(subprocess.run([icp, "--json", "heap", dump], capture_output=True,
                                text=True, check=True).stdout)
got = {int(h["address"], 16): h.get("unlisted", False) for h in doc["heaps"]}
want = {a: a in unlisted for a in heaps}
ok = bool(unlisted) and got == want
print("want %s\ngot  %s" % ({hex(k): v for k, v in want.items()}, {hex(k): v for k, v in got.items()}))
sys.exit(0 if ok else 1)
