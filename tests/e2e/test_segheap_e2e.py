#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Segment heaps end to end, against the independent segment-heap builder's
.expect files (tests/builder/segheap): `heap -a --json` lists every block of
every layer with the state, layer, requested and block size the .expect
gives (and the key naming where it lives); `heap -v` and `analyze` report
the corrupt scenario's problems at the .expect's addresses and exit 1 /
say "partial".

usage: test_segheap_e2e.py ICPHEAP (NAME DMP EXPECT)...
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2echeck import FAILS, PASSED, check  # noqa: E402

icp = sys.argv[1]
triples = [sys.argv[i:i + 3] for i in range(2, len(sys.argv), 3)]


def expect(path):
    heaps, cur, probs = [], None, []
    for line in open(path):
        w = line.split()
        if not w or w[0].startswith("#"):
            continue
        kv = dict(x.split("=", 1) for x in w[1:] if "=" in x)
        if w[0] == "heap":
            cur = {"address": w[1], "blocks": [], "totals": None}
            heaps.append(cur)
        elif w[0] == "totals":
            cur["totals"] = {k: int(v) for k, v in kv.items()}
        elif w[0] == "problem":
            probs.append(w[1])
        elif w[0] == "block":
            cur.setdefault("pending", []).append(kv)
    blocks = [b for h in heaps for b in h.pop("pending", [])]
    for h in heaps:        # block lines come heap by heap
        n = h["totals"]["blocks"]
        h["blocks"], blocks = blocks[:n], blocks[n:]
    return heaps, probs


WHERE = {"segment-vs": "subsegment", "segment-lfh": "subsegment",
         "segment-backend": "segment", "segment-large": "large_alloc_data"}
for name, dmp, exp in triples:
    heaps, probs = expect(exp)
    r = subprocess.run([icp, "--json", "heap", "-a", dmp], capture_output=True, text=True, timeout=120)
    doc = json.loads(r.stdout)
    got = {h["address"]: h for h in doc["heaps"]}
    for h in heaps:
        g = got.get(h["address"])
        check(g is not None and g["kind"] == "segment" and g["status"] in ("complete", "partial"),
              "%s: heap %s walked" % (name, h["address"]))
        if not g:
            continue
        gb = g["blocks"]
        check(len(gb) == len(h["blocks"]), "%s %s: %d blocks listed, %d expected" %
              (name, h["address"], len(gb), len(h["blocks"])))
        bad = [(x, y) for x, y in zip(gb, h["blocks"])
               if (x["header"], x["user"], x["size"], x["block_size"], x["state"], x["layer"]) !=
               (y["header"], y["user"], int(y["size"]), int(y["block_size"]), y["state"], y["layer"])]
        check(not bad, "%s %s: first differing block %s" % (name, h["address"], bad[:1]))
        check(all(WHERE[x["layer"]] in x for x in gb), "%s: every block names where it lives" % name)
        t = g["totals"]
        check((t["busy_count"], t["busy_bytes"], t["free_count"], t["free_bytes"], t["corrupt_count"]) ==
              tuple(h["totals"][k] for k in ("busy_count", "busy_bytes", "free_count", "free_bytes",
                                             "corrupt_count")), "%s %s: totals" % (name, h["address"]))
    # -x on a block that ends at 2^64 (the "-top" scenario's last VS
    # chunk): its end address is 0, so a search by end address misses it
    top = [b for h in heaps for b in h["blocks"] if int(b["header"], 16) + int(b["block_size"]) == 1 << 64]
    check(bool(top) == name.endswith("-top"), "%s: %d blocks end at 2^64" % (name, len(top)))
    for b in top:
        x = subprocess.run([icp, "--json", "heap", "-x", b["user"], dmp], capture_output=True, text=True,
                           timeout=120)
        found = json.loads(x.stdout).get("block") or {}
        check(x.returncode == 0 and found.get("header") == b["header"],
              "%s: heap -x %s finds the block at %s (got %s)" % (name, b["user"], b["header"], found.get("header")))
    v = subprocess.run([icp, "heap", "-v", dmp], capture_output=True, text=True, timeout=120)
    check(v.returncode == (1 if probs else 0), "%s: heap -v exit %d" % (name, v.returncode))
    for p in probs:
        check(("HEAP PROBLEM at %016x" % int(p, 16)) in v.stdout, "%s: -v reports %s" % (name, p))
    if probs:
        a = subprocess.run([icp, "--json", "analyze", dmp], capture_output=True, text=True, timeout=120)
        check('"partial"' in a.stdout and a.returncode != 0,
              "%s: analyze says partial and exits non-zero (%d)" % (name, a.returncode))
print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
