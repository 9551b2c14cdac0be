#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""heap -a --json renders each block two ways: compact writers get the
object in one go (cmd_heap.c json_block_compact, issue 12), pretty writers
through the field-by-field writer (json_block_fields).  On every dump
given, both outputs must parse to the same document, the compact one must
carry no whitespace outside strings, and blocks must be there to compare.
With --leaks the same for heap -l --json's leaks (heap_leaks.c:
json_leak_compact against json_leak_fields).

usage: test_json_compact.py [--leaks] ICPHEAP DUMP...
"""
import json
import subprocess
import sys

args = sys.argv[1:]
leaks = args[:1] == ["--leaks"]
if leaks:
    args = args[1:]
icp, dumps = args[0], args[1:]
cmd = ["heap", "-l"] if leaks else ["heap", "-a"]
ok, blocks = True, 0
for d in dumps:
    runs = {}
    for mode in ("compact", "pretty"):
        argv = [icp, "--json"] + (["--pretty"] if mode == "pretty" else []) + cmd + [d]
        p = subprocess.run(argv, capture_output=True, text=True)
        runs[mode] = (p.returncode, p.stdout)
    (rc_c, out_c), (rc_p, out_p) = runs["compact"], runs["pretty"]
    doc_c, doc_p = json.loads(out_c), json.loads(out_p)
    if leaks:
        n = len(doc_c.get("leaks", []))
    else:
        n = sum(len(h.get("blocks", [])) for h in doc_c.get("heaps", []))
    blocks += n
    # compact: one line (the final newline aside) and no ": " / ", "
    compact_ok = out_c.count("\n") == 1 and json.dumps(doc_c, separators=(",", ":")) + "\n" == out_c
    same = rc_c == rc_p and doc_c == doc_p
    print("%s: %d blocks, exit %d/%d, same=%s, compact=%s" % (d, n, rc_c, rc_p, same, compact_ok))
    ok = ok and same and compact_ok
sys.exit(0 if ok and blocks > 0 else 1)
