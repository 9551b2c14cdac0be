#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""icpheap poolused against the kobjbuilder scenarios' pool tracker tables.

The figures come from the scenario's .expect file (pool_tag lines, written
by tests/builder/kernel/kb_pool.c from what it laid out); the column format
from the !poolused documentation's sample ("   Sorting by  Tag", " Tag
Allocs     Used    Allocs     Used", rows " %4s %8d %8d  %8d %8d").

usage: test_poolused.py ICPHEAP SCHEMAS_DIR GOOD_DMP GOOD_EXPECT
                        PARTIAL_DMP PARTIAL_EXPECT BADTAG_DMP BADTAG_EXPECT
                        OVERFLOW_DMP OVERFLOW_EXPECT
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schemacheck  # noqa: E402
from e2echeck import FAILS, PASSED, check  # noqa: E402

ICP, SCHEMAS = sys.argv[1:3]
GOOD, GOOD_X, PART, PART_X, BAD, BAD_X, OVF, OVF_X = sys.argv[3:11]


def run(*args):
    return subprocess.run([ICP] + list(args), capture_output=True, text=True, timeout=60)


def expect(path):
    tags, icp_bytes, err = {}, 0, None
    for line in open(path):
        if line.startswith("pool_tag "):
            tag = line[9:13]
            kv = dict(x.split("=") for x in line[14:].split())
            tags[tag] = {k: int(v) for k, v in kv.items()}
        elif line.startswith("icp_pool "):
            icp_bytes += int(re.search(r"bytes=(\d+)", line).group(1))
        elif line.startswith("pool_error "):
            err = dict(x.split("=") for x in line.split()[1:])
    return tags, icp_bytes, err


def rows(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^ (.{4}) +(-?\d+) +(\d+)  +(-?\d+) +(\d+)$", line)
        if m and m.group(1) != "TOTA":
            out[m.group(1)] = tuple(int(m.group(i)) for i in range(2, 6))
    return out


tags, icp_bytes, _ = expect(GOOD_X)
want = {t: (v["np_allocs"] - v["np_frees"], v["np_bytes"], v["p_allocs"] - v["p_frees"], v["p_bytes"])
        for t, v in tags.items() if v["np_bytes"] or v["p_bytes"]}

# text, sorted by tag: the documentation's header and the builder's figures
r = run("poolused", GOOD)
check(r.returncode == 0, "poolused exits 0 (%d %s)" % (r.returncode, r.stderr[:200]))
lines = r.stdout.splitlines()
check(lines[:5] == ["   Sorting by  Tag", "", "  Pool Used:", "            NonPaged            Paged",
                    " Tag    Allocs     Used    Allocs     Used"], "header as WinDbg's: %r" % lines[:5])
got = rows(r.stdout)
check(got == want, "every tag using bytes, with the builder's figures (%d vs %d rows)" % (len(got), len(want)))
order = [l[1:5] for l in lines[5:] if not l.startswith(" TOTAL")]
check(order == sorted(order), "rows sorted by tag")
zero = [t for t, v in tags.items() if not v["np_bytes"] and not v["p_bytes"]]
check(zero and not any(z in got for z in zero), "tags with no bytes are left out of the summary (%s)" % zero)
tot = re.search(r"^ TOTAL    +(-?\d+) +(\d+)  +(-?\d+) +(\d+)$", r.stdout, re.M)
check(tot and int(tot.group(2)) == sum(v[1] for v in want.values())
      and int(tot.group(4)) == sum(v[3] for v in want.values()), "TOTAL sums the rows")
check(got.get("IoCp", (0, 0))[1] == icp_bytes and icp_bytes > 0,
      "'IoCp' bytes equal the queued packets' pool blocks (%s vs %d)" % (got.get("IoCp"), icp_bytes))

# -t: one tag, wildcards
r = run("poolused", "-t", "IoCp", GOOD)
check(set(rows(r.stdout)) == {"IoCp"}, "-t IoCp: only IoCp")
r = run("poolused", "-t", "Io*", GOOD)
check(set(rows(r.stdout)) == {t for t in want if t.startswith("Io")}, "-t Io*: the Io tags (%s)" % set(rows(r.stdout)))
r = run("poolused", "-t", "?oC?", GOOD)
check(set(rows(r.stdout)) == {t for t in want if t[1:3] == "oC"}, "-t ?oC?")
r = run("poolused", "-t", "iocp", GOOD)
check(r.returncode == 0 and not rows(r.stdout), "-t is case-sensitive, as WinDbg's TagString")

# sort flags 2 and 4
r = run("poolused", "-f", "2", GOOD)
np = [v[1] for v in rows(r.stdout).values()]
check(r.stdout.startswith("   Sorting by  NonPaged Pool Consumed") and np == sorted(np, reverse=True),
      "-f 2 sorts by nonpaged bytes")
r = run("poolused", "-f", "4", GOOD)
got4 = list(rows(r.stdout).values())
check([v[3] for v in got4] == sorted((v[3] for v in got4), reverse=True), "-f 4 sorts by paged bytes")
r = run("poolused", "-f", "1", "-t", "Ntfx", GOOD)
n = tags["Ntfx"]
check(" Ntfx %8d %8d %8d %8d %8d %8d %8d %8d" % (n["np_allocs"], n["np_frees"], n["np_allocs"] - n["np_frees"],
                                                 n["np_bytes"], n["p_allocs"], n["p_frees"],
                                                 n["p_allocs"] - n["p_frees"], n["p_bytes"]) in r.stdout,
      "-f 1: allocs, frees, diff and used of both pools")
check(run("poolused", "-f", "6", GOOD).returncode == 2, "-f 6 (2 and 4 together) is a usage error")
check(run("poolused", "-t", "IoCpX", GOOD).returncode == 2, "-t with 5 chars and no '*' is a usage error")

# JSON: schema and figures
r = run("poolused", "--json", GOOD)
doc = json.loads(r.stdout)
schema = schemacheck.load(os.path.join(SCHEMAS, "poolused.schema.json"))
check(not schemacheck.validate(doc, schema), "poolused --json validates: %s" % schemacheck.validate(doc, schema)[:3])
check(doc["schema"] == "icpheap.poolused/1", "names its schema")
jt = {t["tag"]: t for t in doc["tags"]}
check(set(jt) == set(tags), "JSON lists every tag, also those with no bytes")
check(all(jt[t]["nonpaged"]["allocs"] == v["np_allocs"] and jt[t]["nonpaged"]["frees"] == v["np_frees"]
          and jt[t]["paged"]["bytes"] == v["p_bytes"] for t, v in tags.items()), "JSON figures are the builder's")
check(doc["partial"] is False and doc["tables"] == doc["processors"], "all processors' tables summed")
r = run("poolused", "--json", PART, GOOD)
both = json.loads(r.stdout)
check(isinstance(both, list) and len(both) == 2 and not schemacheck.validate(both, schema),
      "two dumps: an array that validates")
check(both[0]["partial"] is True and both[0]["warnings"] and both[0]["tag_tables"] is None,
      "Windows 7 scenario without ExPoolTagTables: partial, with a warning")

# a corrupt table: refused with the entry's address and the check, exit 3, no crash
for path, xp, words in ((BAD, BAD_X, "not a printable tag"), (OVF, OVF_X, "NonPagedFrees")):
    _, _, err = expect(xp)
    r = run("poolused", path)
    check(r.returncode == 3 and err and err["address"] in r.stderr and words in r.stderr and not r.stdout,
          "%s: exit 3 naming %s and '%s' (%d %s)" % (os.path.basename(path), err and err["address"], words,
                                                   r.returncode, r.stderr.strip()[:200]))

# analyze: the tracker's 'IoCp' bytes next to the queued packets' pool headers
r = run("analyze", "--json", GOOD)
try:
    a = json.loads(r.stdout)
    d = a["dumps"][0] if "dumps" in a else a
    pt = d["icpleak"]["pool_tracker"]
except (ValueError, KeyError, IndexError) as e:
    pt = {}
    print("analyze --json:", e, r.stderr[:200])
check(pt.get("tag") == "IoCp" and pt.get("nonpaged_bytes") == icp_bytes
      and pt.get("queued_packets_bytes") == icp_bytes and pt.get("partial") is False,
      "analyze: tracker 'IoCp' bytes = queued packets' pool bytes = %d (%s)" % (icp_bytes, pt))
r = run("analyze", GOOD)
check(re.search(r"^pool tag 'IoCp' \(pool tracker table, !poolused\): .* nonpaged in %d allocations; queued packets' pool headers: .* in %d blocks$"
                % (tags["IoCp"]["np_allocs"] - tags["IoCp"]["np_frees"], icp_bytes // (icp_bytes // (tags["IoCp"]["np_allocs"] - tags["IoCp"]["np_frees"]))),
                r.stdout, re.M), "analyze text: the tracker line next to the queue")

# --json on a corrupt table: the one error document, code "format"
r = run("poolused", "--json", OVF)
try:
    e = json.loads(r.stdout)
except ValueError:
    e = {}
check(r.returncode == 3 and e.get("schema") == "icpheap.poolused/1" and e.get("error", {}).get("code") == "format"
      and not schemacheck.validate(e, schema), "--json on a corrupt table: the error document (%s)" % e)

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
