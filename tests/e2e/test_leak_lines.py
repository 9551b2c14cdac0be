#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""heap -l's table rows (src/cli/heap_leaks.c text_leak, which copies the
columns after User from the last row when the block shares them: issue
12) against sources that format each block on its own:
  - heap -l --json's leaks, in the same order: Entry = header, User,
    Heap, Segment, Size = block_size, Unused, and the layer's word
    ("LFH;busy", "virtual", "page-heap");
  - heap -a's entry line of the same header, where there is one (NT back
    end, segment heap): "<header>: <prev_size> . <block_size> [1<flags>]":
    PrevSize = prev_size, and "extra" / "fill" exactly when the flags have
    0x02 / 0x04.
Every dump must give rows; the whole run must check some PrevSize and
some rows whose neighbours differ only in PrevSize or Unused (so a row
copied when it should not be shows).

usage: test_leak_lines.py ICPHEAP DUMP...
"""
import json
import re
import subprocess
import sys

icp, dumps = sys.argv[1], sys.argv[2:]
ENTRY = re.compile(r"^\s+([0-9a-f]+): ([0-9a-f]+) \. ([0-9a-f]+) \[([0-9a-f]{3})\]")


def run(args):
    p = subprocess.run([icp] + args, capture_output=True, text=True)
    return p.stdout


fails = []
rows_total = prev_checked = near_twins = 0
for d in dumps:
    doc = json.loads(run(["--json", "heap", "-l", d]))
    leaks = doc.get("leaks", [])
    text = run(["heap", "-l", d]).splitlines()
    try:
        start = next(i for i, l in enumerate(text) if l.startswith("-----")) + 1
    except StopIteration:
        if leaks:
            fails.append("%s: no table" % d)
        continue
    rows = []
    for l in text[start:]:
        if not l.strip():
            break
        rows.append(l)
    if len(rows) != len(leaks):
        fails.append("%s: %d rows, %d leaks in --json" % (d, len(rows), len(leaks)))
        continue
    entries = {}
    for l in run(["heap", "-a", d]).splitlines():
        m = ENTRY.match(l)
        if m:
            entries[int(m.group(1), 16)] = (int(m.group(2), 16), int(m.group(4), 16) & 0xFF)
    prev = None
    for row, lk in zip(rows, leaks):
        rows_total += 1
        f = row.split()
        entry, user, heap, seg, size, psize, unused = f[:7]
        words = f[7:]
        want = [("Entry", int(entry, 16), int(lk["header"], 16)),
                ("User", int(user, 16), int(lk["user"], 16)),
                ("Heap", int(heap, 16), int(lk["heap"], 16)),
                ("Size", int(size, 16), lk["block_size"]),
                ("Unused", int(unused, 16), lk["unused"])]
        where = [k for k in lk if k not in ("heap", "header", "user", "size", "block_size", "unused", "state", "layer")]
        if where:
            want.append(("Segment", int(seg, 16), int(lk[where[0]], 16)))
        for name, got, exp in want:
            if got != exp:
                fails.append("%s: row %r: %s %#x, --json says %#x" % (d, row, name, got, exp))
        layer = lk["layer"]
        if (layer == "lfh") != (words[:1] == ["LFH;busy"]):
            fails.append("%s: row %r: layer %s" % (d, row, layer))
        if (layer == "virtual") != ("virtual" in words):
            fails.append("%s: row %r: layer %s" % (d, row, layer))
        if (layer == "page-heap") != ("page-heap" in words):
            fails.append("%s: row %r: layer %s" % (d, row, layer))
        hdr = int(lk["header"], 16)
        if layer in ("lfh", "page-heap"):
            if psize != "-":
                fails.append("%s: row %r: PrevSize for a %s block" % (d, row, layer))
        elif hdr in entries:
            ps, flags = entries[hdr]
            prev_checked += 1
            if psize == "-" or int(psize, 16) != ps:
                fails.append("%s: row %r: PrevSize, heap -a says %#x" % (d, row, ps))
            if ("extra" in words) != bool(flags & 2) or ("fill" in words) != bool(flags & 4):
                fails.append("%s: row %r: flags, heap -a says %#x" % (d, row, flags))
        key = (lk["heap"], lk.get(where[0]) if where else None, lk["block_size"], layer)
        if prev and prev[0] == key and prev[1] != (psize, lk["unused"]):
            near_twins += 1
        prev = (key, (psize, lk["unused"]))

print("%d rows, %d PrevSize checked against heap -a, %d rows differing from the one before only in PrevSize/Unused"
      % (rows_total, prev_checked, near_twins))
if not rows_total or not prev_checked or not near_twins:
    fails.append("the dumps did not give rows of every kind to check")
for f in fails[:30]:
    print("FAIL", f)
sys.exit(1 if fails else 0)
