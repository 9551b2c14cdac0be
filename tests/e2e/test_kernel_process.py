#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""heap --pid / --process on kernel memory dumps laid out by the kobjbuilder
(*-heaps scenarios; the heaps inside are the ntheap builder's, and in
heapapp.exe also the segment-heap builder's two segment heaps, whose keys
the walker must find through PEB.Ldr -> ntdll -> RtlpHpHeapGlobals).  Facts come
from the builder's .heaps file (process list, heap addresses, unreadable
pages), never from icpheap's own output.

usage: test_kernel_process.py ICPHEAP FULL.dmp FULL.heaps KERNEL_ONLY.dmp
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# expect(): the e2e tests' one check() (assertions unchanged)
from e2echeck import FAILS, check as expect  # noqa: E402

icpheap, full, heaps, kernel_only = sys.argv[1:5]


def run(*args):
    r = subprocess.run([icpheap, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


procs = {}
cur = None
for line in open(heaps):
    t = line.split()
    if not t:
        continue
    if t[0] == "process":
        kv = dict(x.split("=", 1) for x in t[1:])
        cur = {"pid": int(kv["pid"]), "wow64": kv["wow64"] == "1", "heaps": [], "lost": [],
               "seg": {}, "modules": []}
        procs[cur["pid"]] = cur
    elif t[0] == "heap":
        cur["heaps"].append(int(t[1], 16))
        if "kind=segment" in t:
            cur["seg"][int(t[1], 16)] = []
    elif t[0] == "block" and cur["heaps"] and cur["heaps"][-1] in cur["seg"]:
        kv = dict(x.split("=", 1) for x in t[1:])
        cur["seg"][cur["heaps"][-1]].append((int(kv["header"], 16), int(kv["user"], 16), int(kv["size"]),
                                             int(kv["block_size"]), kv["state"], kv["layer"]))
    elif t[0] == "module":
        kv = dict(x.split("=", 1) for x in t[1:])
        cur["modules"].append((int(kv["base"], 16), kv["path"]))
    elif t[0] == "unreadable":
        kv = dict(x.split("=", 1) for x in t[1:])
        cur["lost"].append((int(kv["page"], 16), kv["why"]))

app = procs[5100]
# the heap list, by decimal pid, hex pid, WinDbg's bare hex Cid and name
# (ps --json numbers; the one pid rule of every command)
for sel in (["--pid", "5100"], ["--pid", "0x13ec"], ["--pid", "13ec"], ["--process", "HeapApp.exe"],
            ["--pid=5100"]):
    rc, out, err = run("heap", *sel, full)
    expect(rc == 0, f"heap {sel}: exit {rc} ({err.strip()})")
    for h in app["heaps"]:
        expect(f"{h:x}" in out, f"heap {sel}: heap {h:#x} not listed")
# JSON validate: every unreadable page named with its reason, no problems
rc, out, err = run("heap", "-v", "--json", "--pid", "5100", full)
expect(rc == 0, f"heap -v --pid 5100: exit {rc} (unreadable pages are not corruption)")
doc = json.loads(out)
named = {(int(u["page"], 16), u["reason"]) for h in doc["heaps"] for u in h.get("unreadable", [])}
expect(named == set(app["lost"]), f"unreadable pages {sorted(named)} != builder's {sorted(app['lost'])}")
expect(all(not h["problems"] for h in doc["heaps"]), "problems reported on readable heaps")
# every segment-heap block of heapapp, in walk order (heap -a --json)
expect(len(app["seg"]) == 2, f"builder lists {len(app['seg'])} segment heaps in heapapp")
rc, out, err = run("heap", "-a", "--json", "--pid", "5100", full)
expect(rc == 0, f"heap -a --json --pid 5100: exit {rc} ({err.strip()})")
doc = json.loads(out)
byaddr = {int(h["address"], 16): h for h in doc["heaps"]}
for addr, want in app["seg"].items():
    h = byaddr.get(addr)
    expect(h is not None and h["kind"] == "segment", f"segment heap {addr:#x} not listed as one")
    if not h:
        continue
    got = [(int(b["header"], 16), int(b["user"], 16), b["size"], b["block_size"], b["state"], b["layer"])
           for b in h["blocks"]]
    diff = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    expect(len(got) == len(want) and not diff,
           f"segment heap {addr:#x}: {len(got)} blocks vs builder's {len(want)}; first difference {diff[:1]}")
    expect(not h["problems"] and not h["partial"], f"segment heap {addr:#x}: problems {h['problems'][:2]}")
notes = " ".join(doc.get("notes", []))
expect("from RtlpHpHeapGlobals" in notes and "PEB.Ldr" in notes,
       f"keys not found through PEB.Ldr -> ntdll -> RtlpHpHeapGlobals: {notes[:400]}")
# text -v names the pages too
rc, out, err = run("heap", "-v", "--pid", "5100", full)
for page, why in app["lost"]:
    expect(any("UNREADABLE" in l and f"{page:016x}" in l for l in out.splitlines()),
           f"heap -v text: page {page:#x} ({why}) not named")
# WOW64 process: 32-bit heaps (8-digit addresses)
rc, out, err = run("heap", "-s", "--pid", "5200", full)
expect(rc == 0 and "00a40000 " in out, f"heap -s --pid 5200 (WOW64): exit {rc}: {out[-300:]} {err}")
# a kernel-only dump says so in one line
rc, out, err = run("heap", "--pid", "868", kernel_only)
lines = [l for l in err.splitlines() if l.strip()]
expect(rc == 3 and len(lines) == 1 and "no user-mode pages" in lines[0],
       f"kernel-only dump: exit {rc}, stderr {err!r}")
# usage errors
for args, what in ((["heap", full], "no process chosen"),
                   (["heap", "--pid", "99999", full], "unknown pid"),
                   (["heap", "--process", "svchost.exe", full], "ambiguous name"),
                   (["heap", "--pid", "12ab", full], "unknown pid (bare hex 0x12ab)"),
                   (["heap", "--pid", "12x", full], "bad pid"),
                   (["heap", "--pid", "4", "--process", "x", full], "both")):
    rc, out, err = run(*args)
    expect(rc == 2 and err.strip(), f"{what}: exit {rc}, stderr {err!r}")
rc, out, err = run("heap", "--pid", "12ab", full)
expect("no process with pid 4779 (0x12ab)" in err, f"--pid 12ab is WinDbg's hex Cid: {err!r}")
rc, out, err = run("heap", "--pid", "12x", full)
expect("--pid '12x': expected a decimal process id or 0x-hex" in err, f"--pid 12x: {err!r}")
# System has no PEB: a dump-level answer, not a crash
rc, out, err = run("heap", "--pid", "4", full)
expect(rc == 3 and "no PEB" in err, f"System: exit {rc}, {err!r}")

# ps: the table base and the PCID apart (heapapp's DTB carries PCID 5 in the
# builder; heap --pid above had to mask it)
rc, out, err = run("ps", "--json", full)
ps = {p["pid"]: p for p in json.loads(out)["processes"]}
a = ps[5100]
expect(int(a["dtb"], 16) & 0xFFF == 5 and a["pcid"] == 5 and
       int(a["table_base"], 16) == int(a["dtb"], 16) & ~0xFFF,
       f"ps --json pid 5100: dtb {a['dtb']} table_base {a.get('table_base')} pcid {a.get('pcid')}")
rc, out, err = run("ps", full)
line = [l for l in out.splitlines() if l.rstrip().endswith("heapapp.exe")]
expect(line and f"{int(a['dtb'], 16) & ~0xFFF:016x}" in line[0] and line[0].split()[4] == "5",
       f"ps text: heapapp line {line}")
# icpleak 1 --all (the order the usage line shows) and type names in any case
rc1, out1, err1 = run("icpleak", "1", "--all", full)
rc2, out2, err2 = run("icpleak", "--all", "1", full)
expect(rc1 == 0 and out1 == out2 and out1.count("\n") > 5, f"icpleak 1 --all: exit {rc1} {err1!r}")
rc1, out1, _ = run("handles", "-t", "iocompletion", full)
rc2, out2, _ = run("handles", "-t", "IoCompletion", full)
expect(rc1 == 0 and out1 == out2 and "IoCompletion" in out1, "handles -t iocompletion differs from -t IoCompletion")

# analyze: the per-process heap table, sorted by committed bytes; busy bytes
# of the WOW64 process (no unreadable page) = the builder's totals;
# --fail-on heap-committed applies per process
busy = {}
cur = None
for line in open(heaps):
    t = line.split()
    if t and t[0] == "process":
        cur = int(t[1].split("=")[1])
    elif t and t[0] == "totals":
        busy[cur] = busy.get(cur, 0) + int(dict(x.split("=") for x in t[1:])["busy_bytes"])
rc, out, err = run("analyze", "--json", "-q", "--processes", "all", full)
doc = json.loads(out)
d = doc["dumps"][0] if "dumps" in doc else doc
ph = d.get("process_heaps", {})
rows = ph.get("processes", [])
ok_rows = [p for p in rows if "error" not in p]
expect([p["pid"] for p in ok_rows][:2] and set(p["pid"] for p in ok_rows) == {5100, 5200},
       f"analyze process_heaps rows: {[(p['pid'], p.get('error')) for p in rows]}")
expect(all(ok_rows[i]["committed"] >= ok_rows[i + 1]["committed"] for i in range(len(ok_rows) - 1)),
       "process_heaps not sorted by committed")
by = {p["pid"]: p for p in ok_rows}
if 5200 in by:
    expect(by[5200]["busy_bytes"] == busy[5200] and by[5200]["heaps"] == 3 and by[5200]["wow64"],
           f"wowapp busy {by[5200]['busy_bytes']} != builder {busy[5200]}")
if 5100 in by:
    expect(by[5100]["busy_bytes"] < busy[5100] and by[5100]["partial"] and by[5100]["unreadable_ranges"] == 2,
           f"heapapp row {by[5100]}")
# --processes 1: only the top process is walked; the other is ranked by the
# committed bytes its heap headers give, which equal the walked figure
rc, out, err = run("analyze", "--json", "-q", "--processes", "1", full)
d1 = json.loads(out)
d1 = d1["dumps"][0] if "dumps" in d1 else d1
rows1 = [p for p in d1["process_heaps"]["processes"] if "error" not in p]
expect([p["pid"] for p in rows1] == [p["pid"] for p in ok_rows],
       f"--processes 1 order {[p['pid'] for p in rows1]} != --processes all {[p['pid'] for p in ok_rows]}")
expect(rows1 and rows1[0]["walked"] and all(not p["walked"] and "busy_bytes" not in p for p in rows1[1:]),
       f"--processes 1: walked flags {[(p['pid'], p.get('walked')) for p in rows1]}")
expect(all(p["committed"] == by[p["pid"]]["committed"] for p in rows1 if p["pid"] in by),
       f"--processes 1 committed {[(p['pid'], p['committed']) for p in rows1]} != walked "
       f"{[(p, by[p]['committed']) for p in by]}")
rc, out, err = run("analyze", "--json", "-q", "--fail-on", "heap-committed>1000000", full)
doc = json.loads(out)
d = doc["dumps"][0] if "dumps" in doc else doc
hc = [f for f in d["findings"] if f["kind"] == "heap-committed"]
expect(rc == 1 and len(hc) == 2, f"--fail-on heap-committed>1000000: exit {rc}, {len(hc)} findings")
rc, out, err = run("analyze", "-q", kernel_only)
expect("no user-mode pages in this dump" in out, "analyze on a kernel-only dump: no one-line note")

print("FAILED" if FAILS else "ok", len(FAILS))
sys.exit(1 if FAILS else 0)
