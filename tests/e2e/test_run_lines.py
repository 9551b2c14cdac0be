#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The listing lines of LFH blocks, which heap -a (segment heaps) and
heap -H l -a (NT heaps) write a run at a time (cmd_heap.c entry_run, issue
12: a container's blocks from one line per kind, the header's digits
stored over it), against lines formatted here from heap -a --json's blocks
(header, block_size, size, state): every LFH block's line, in walk order.
Segment-heap LFH lines:
  "        <header, pointer width>: 00000 . <block_size %05x> [10<busy>]"
  " - busy (<size %x>)" or " - free", then " segment-lfh";
NT LFH entries (-H l) the same with " LFH" and no " - free".
x86 dumps give 8-digit headers (ich_run_lines' other width).  A
segment-heap LFH line must come under its subsegment's heading ("Heap
entries for LFH subsegment 0x<subsegment>", the JSON block's subsegment).

usage: test_run_lines.py ICPHEAP DUMP...
"""
import json
import re
import subprocess
import sys

icp, dumps = sys.argv[1], sys.argv[2:]
LINE = re.compile(r"^        ([0-9a-f]+): ")
HEADING = re.compile(r"^    Heap entries for LFH subsegment 0x([0-9a-f]+) ")


def run(args):
    p = subprocess.run([icp] + args, capture_output=True, text=True)
    return p.returncode, p.stdout


def expected(blocks, layer, w):
    out = []
    for b in blocks:
        if b["layer"] != layer:
            continue
        busy = b["state"] == "busy"
        line = "        %0*x: %05x . %05x [%03x]" % (w, int(b["header"], 16), 0, b["block_size"],
                                                     0x101 if busy else 0x100)
        if busy:
            line += " - busy (%x)" % b["size"]
        elif layer == "segment-lfh":
            line += " - free"
        line += " segment-lfh" if layer == "segment-lfh" else " LFH"
        out.append((int(b["subsegment"], 16) if layer == "segment-lfh" else None, line))
    return out


ok, checked = True, {"segment-lfh": 0, "lfh": 0}
for d in dumps:
    rc, out = run(["--json", "heap", "-a", d])
    doc = json.loads(out)
    blocks = [b for h in doc.get("heaps", []) for b in h.get("blocks", [])]
    for layer, args, suffix in (("segment-lfh", ["heap", "-a"], " segment-lfh"), ("lfh", ["heap", "-H", "l", "-a"], " LFH")):
        want_n = sum(1 for b in blocks if b["layer"] == layer)
        if not want_n:
            continue
        rc2, text = run(args + [d])
        lines = text.split("\n")
        heads = [LINE.match(l) for l in lines]
        w = max((len(m.group(1)) for m in heads if m), default=16)
        got, under = [], None
        for l in lines:
            m = HEADING.match(l)
            if m:
                under = int(m.group(1), 16)
            elif LINE.match(l) and l.endswith(suffix):
                got.append((under if layer == "segment-lfh" else None, l))
        want = expected(blocks, layer, w)
        same = got == want
        if not same:
            k = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
            print("%s %s: line %d of %d/%d differs:\n  got:  %r\n  want: %r" % (
                d, " ".join(args), k, len(got), len(want), got[k] if k < len(got) else None,
                want[k] if k < len(want) else None))
        ok = ok and same and rc == rc2
        checked[layer] += len(want)
        print("%s %s: %d %s lines, width %d, same=%s" % (d, " ".join(args), len(want), layer, w, same))
print("checked: %d segment-lfh lines, %d lfh lines" % (checked["segment-lfh"], checked["lfh"]))
sys.exit(0 if ok and checked["segment-lfh"] > 0 and checked["lfh"] > 0 else 1)
