#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The heap problem nearest to the crash is named first (issue 11).

Runs `analyze` on the NT heap builder's crash scenarios
(tests/builder/ntheap/nhb_crash.c: heaps 0xa40000 and 0x1230000 both
corrupt, an access violation whose write target, or whose stack, relates
to one of them).  What to expect comes from each scenario's .expect,
written by the builder from where it put the target and the stack words
(never from icpheap's output):

  crash_first heap=H relation=R [slot=S frame=N second_relation=R2]
  crash_order heap=H1 heap=H2

Checks, in every format a CI reads: the crash finding first, then the
heap-corruption findings in crash_order; the first carries crash_relation R
and a rank_reason that names the faulting address / the stack slot and
frame; JSON valid against the shipped schema; SARIF results, JUnit
failures, Markdown and HTML list the findings in the same order.

usage: test_crash_rank.py ICPHEAP SCHEMAS [NAME DUMP EXPECT]...
"""
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schemacheck  # noqa: E402

ICP, SCHEMAS = sys.argv[1], sys.argv[2]
from e2echeck import FAILS, PASSED, check  # noqa: E402


def run(*args):
    return subprocess.run([ICP, *args], capture_output=True, text=True, timeout=120)


def expect_of(path):
    e = {}
    for line in open(path):
        w = line.split()
        if w and w[0] in ("crash", "crash_first"):
            e[w[0]] = dict(x.split("=", 1) for x in w[1:])
        elif w and w[0] == "crash_order":
            e["order"] = [x.split("=", 1)[1] for x in w[1:]]
    return e


dump_schema = schemacheck.load(os.path.join(SCHEMAS, "analyze-dump.schema.json"))

rest = sys.argv[3:]
for i in range(0, len(rest) - 2, 3):
    name, dmp, exp = rest[i:i + 3]
    ex = expect_of(exp)
    first = ex["crash_first"]
    order = ex["order"]
    r = run("analyze", "-q", "--jsonl", dmp)
    d = json.loads(r.stdout)
    errs = schemacheck.validate(d, dump_schema)
    check(not errs, "%s: JSONL validates (%s)" % (name, errs[:2]))
    fs = d["findings"]
    check(fs and fs[0]["kind"] == "exception", "%s: the crash is the first finding" % name)
    check(d["exception"]["access"] == {"kind": "write", "address": ex["crash"]["target"]},
          "%s: write target %s (%s)" % (name, ex["crash"]["target"], d["exception"].get("access")))
    fps = [f["fingerprint"] for f in fs]
    check(len(set(fps)) == len(fps), "%s: every finding has its own fingerprint (%s)" % (name, fps))
    heaps = [f["location"]["heap"] for f in fs if f["kind"] == "heap-corruption"]
    check(heaps == order, "%s: heap findings in order %s (got %s)" % (name, order, heaps))
    hf = [f for f in fs if f["kind"] == "heap-corruption"]
    rel = first["relation"]
    if rel == "none":
        check(all("crash_relation" not in f for f in hf), "%s: no relation claimed" % name)
    else:
        check(hf[0].get("crash_relation") == rel,
              "%s: first heap finding relation %s (got %s)" % (name, rel, hf[0].get("crash_relation")))
        why = hf[0].get("rank_reason", "")
        if rel.startswith("fault"):
            check(ex["crash"]["target"] in why, "%s: the reason names the faulting address (%s)" % (name, why))
        if rel == "fault-in-block":
            check(why.startswith("contains the faulting address"), "%s: 'contains' (%s)" % (name, why))
        if rel.startswith("stack"):
            check(first["slot"] in why and ("frame %s" % first["frame"]) in why,
                  "%s: the reason names slot %s and frame %s (%s)" % (name, first["slot"], first["frame"], why))
        if "second_relation" in first:
            check(hf[1].get("crash_relation") == first["second_relation"],
                  "%s: second heap finding relation %s (got %s)" % (name, first["second_relation"],
                                                                    hf[1].get("crash_relation")))
    # text: the same order, the reason under the first heap finding
    t = run("analyze", "-q", dmp).stdout
    lines = [l for l in t.splitlines() if "heap-corruption: heap 0x" in l]
    theaps = [re.search(r"heap (0x[0-9a-f]+):", l).group(1) for l in lines]
    check(theaps == order, "%s: text order %s" % (name, theaps))
    if rel != "none":
        after = t.split(lines[0], 1)[1].splitlines()[1] if lines else ""
        check(after.strip().startswith("crash: "), "%s: text gives the reason (%r)" % (name, after))
    # SARIF: results in the same order
    s = json.loads(run("analyze", "-q", "--format", "sarif", dmp).stdout)
    res = s["runs"][0]["results"]
    srules = [x["ruleId"] for x in res]
    sheaps = [re.search(r"heap (0x[0-9a-f]+):", x["message"]["text"]).group(1)
              for x in res if x["ruleId"] == "heap-corruption"]
    check(srules[0] == "exception" and sheaps == order, "%s: SARIF order %s %s" % (name, srules, sheaps))
    if rel != "none":
        check("crash: " in [x for x in res if x["ruleId"] == "heap-corruption"][0]["message"]["text"],
              "%s: SARIF message carries the reason" % name)
    # JUnit: failures in the same order
    root = ET.fromstring(run("analyze", "-q", "--format", "junit", dmp).stdout)
    jheaps = [re.search(r"heap (0x[0-9a-f]+):", f.get("message")).group(1)
              for f in root.iter("failure") if f.get("type") == "heap-corruption"]
    check(jheaps == order, "%s: JUnit order %s" % (name, jheaps))
    # Markdown and HTML: first mention order
    for fmt in ("markdown", "html"):
        out = run("analyze", "-q", "--format", fmt, dmp).stdout
        pos = [out.find("heap %s:" % h) for h in order]
        check(all(p >= 0 for p in pos) and pos == sorted(pos), "%s: %s order (%s)" % (name, fmt, pos))

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
