#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""32-bit kernel dumps in bitmap ('FDMP' / 'SDMP') and RDMP (/ka, /f)
containers, PAE and non-PAE, laid out by the kobjbuilder (kb_kind32.c): the
x86 heaps scenario's processes and heaps, read through the BMP / RDMP header
at 0x1000.  Facts come from the builder's .heaps files, never from
icpheap's own output.  Then hostile variants made here by truncating or
patching copies: each must be refused (or read as partial) with a message
naming the offset and the value.

usage: test_kernel32.py ICPHEAP KERNEL_ONLY.dmp (DMP HEAPS)...
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# expect(): the e2e tests' one check() (assertions unchanged)
from e2echeck import FAILS, check as expect  # noqa: E402

icpheap, kernel_only = sys.argv[1:3]
pairs = list(zip(sys.argv[3::2], sys.argv[4::2]))


def run(*args):
    r = subprocess.run([icpheap, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def load_heaps(path):
    procs, cur = {}, None
    for line in open(path):
        t = line.split()
        if not t:
            continue
        if t[0] == "process":
            kv = dict(x.split("=", 1) for x in t[1:])
            cur = {"pid": int(kv["pid"]), "heaps": [], "lost": [], "busy": 0}
            procs[cur["pid"]] = cur
        elif t[0] == "heap":
            cur["heaps"].append(int(t[1], 16))
        elif t[0] == "unreadable":
            kv = dict(x.split("=", 1) for x in t[1:])
            cur["lost"].append((int(kv["page"], 16), kv["why"]))
    return procs


# DumpType and bitmap signature the builder wrote, from the file name
kinds = {"fdmp": (5, "FDMP"), "sdmp": (5, "SDMP"), "rdmpk": (8, "RDMP"),
         "rdmpku": (9, "RDMP"), "rdmpf": (10, "RDMP")}

for dmp, heaps in pairs:
    name = os.path.basename(dmp)
    kind = name.split("-")[3].split(".")[0]
    pae = name.startswith("kernel-x86pae-")
    app = load_heaps(heaps)[5100]
    # info: the container as laid out
    rc, out, err = run("info", "--json", dmp)
    k = json.loads(out)[0]["kernel"] if rc == 0 else {}
    expect(rc == 0 and k.get("is64") is False and k.get("pae_enabled") == pae and
           k.get("dump_type") == kinds[kind][0] and k.get("bitmap_signature") == kinds[kind][1] and
           not k.get("truncated") and not json.loads(out)[0]["warnings"],
           f"{name}: info --json: exit {rc} {k} {err.strip()}")
    # heap --pid: every heap of the builder listed
    rc, out, err = run("heap", "--pid", "5100", dmp)
    expect(rc == 0, f"{name}: heap --pid 5100: exit {rc} ({err.strip()})")
    listed = {l.split()[0] for l in out.splitlines() if l.strip().endswith("NT Heap")}
    expect(listed == {f"{h:x}" for h in app["heaps"]},
           f"{name}: heaps listed {sorted(listed)} != builder's {[hex(h) for h in app['heaps']]}")
    # every unreadable range named with its reason; no problems
    rc, out, err = run("heap", "-v", "--json", "--pid", "5100", dmp)
    doc = json.loads(out) if rc == 0 else {"heaps": []}
    named = {(int(u["page"], 16), u["reason"]) for h in doc["heaps"] for u in h.get("unreadable", [])}
    expect(rc == 0 and named == set(app["lost"]),
           f"{name}: unreadable pages {sorted(named)} != builder's {sorted(app['lost'])} (exit {rc})")
    expect(all(not h["problems"] for h in doc["heaps"]), f"{name}: problems on readable heaps")
    # analyze: the per-process heap table
    rc, out, err = run("analyze", "--json", "-q", "--processes", "all", dmp)
    d = json.loads(out)
    d = d["dumps"][0] if "dumps" in d else d
    rows = [p for p in d.get("process_heaps", {}).get("processes", []) if "error" not in p]
    expect([p["pid"] for p in rows] == [5100] and rows[0]["heaps"] == len(app["heaps"]) and
           rows[0]["partial"] and rows[0]["unreadable_ranges"] == len(app["lost"]),
           f"{name}: analyze process_heaps rows {rows}")

# the 32-bit kernel-only bitmap ('SDMP'): processes yes, heaps: one line
rc, out, err = run("ps", "--json", kernel_only)
expect(rc == 0 and 868 in {p["pid"] for p in json.loads(out)["processes"]},
       f"SDMP: ps --json: exit {rc} {err.strip()}")
rc, out, err = run("heap", "--pid", "868", kernel_only)
lines = [l for l in err.splitlines() if l.strip()]
expect(rc == 3 and len(lines) == 1 and "no user-mode pages" in lines[0] and "'SDMP'" in lines[0],
       f"SDMP: heap --pid 868: exit {rc}, stderr {err!r}")

# hostile copies of the PAE bitmap and the /ka RDMP file
fdmp = next(d for d, _ in pairs if "x86pae-19041-fdmp" in d)
rdmp = next(d for d, _ in pairs if "x86pae-19041-rdmpku" in d)
tmp = tempfile.mkdtemp(prefix="icpheap-k32-")


def variant(src, tag, size=None, patches=()):
    p = os.path.join(tmp, tag + ".dmp")
    shutil.copyfile(src, p)
    with open(p, "r+b") as f:
        for off, data in patches:
            f.seek(off)
            f.write(data)
        if size is not None:
            f.truncate(size)
    return p


def refused(path, *needles):
    rc, out, err = run("ps", path)
    expect(rc != 0 and all(n in err for n in needles), f"{os.path.basename(path)}: exit {rc}, {err!r}")


try:
    with open(fdmp, "rb") as f:
        hdr = f.read(0x1040)
    present, bits = struct.unpack_from("<QQ", hdr, 0x1028)
    first = struct.unpack_from("<Q", hdr, 0x1020)[0]
    # TotalPresentPages != bits set
    refused(variant(fdmp, "bm-count", patches=[(0x1028, struct.pack("<Q", present + 1))]),
            "TotalPresentPages at 0x1028 is %#x" % (present + 1), "has %#x bits set" % present)
    # a bitmap longer than the file
    refused(variant(fdmp, "bm-bits", patches=[(0x1030, struct.pack("<Q", 1 << 28))]),
            "the bitmap at 0x1038 claims 0x10000000 bits")
    # page data inside the bitmap
    refused(variant(fdmp, "bm-first", patches=[(0x1020, struct.pack("<Q", 0x1000))]),
            "FirstPage at 0x1020 is 0x1000")
    # the bitmap promises more pages than the file holds: partial, said so
    cut = first + 0x1000 * 16
    p = variant(fdmp, "bm-trunc", size=cut)
    rc, out, err = run("info", "--json", p)
    k = json.loads(out)[0]
    expect(k["kernel"]["truncated"] and k["kernel"]["expected_file_size"] == first + 0x1000 * present and
           any(("file is %#x bytes" % cut) in w and ("promises %#x" % (first + 0x1000 * present)) in w
               for w in k["warnings"]),
           f"bm-trunc: info {k['kernel'].get('truncated')} {k['warnings']}")
    rc, out, err = run("ps", p)
    expect(rc == 3 and "beyond the end of the (truncated) dump file" in err, f"bm-trunc: ps exit {rc} {err!r}")
    # RDMP: the range table runs past the end of the file
    refused(variant(rdmp, "rd-ranges", size=0x1048),
            "range 1 at 0x1040 lies past the end of the file (0x1048 bytes)")
    # RDMP: MetadataSize / FirstPageOffset disagree
    with open(rdmp, "rb") as f:
        rh = f.read(0x1030)
    meta, rfirst = struct.unpack_from("<QQ", rh, 0x1010)
    refused(variant(rdmp, "rd-meta", patches=[(0x1010, struct.pack("<Q", meta - 0x10))]),
            "MetadataSize at 0x1010 is %#x" % (meta - 0x10), "FirstPageOffset at 0x1018 is %#x" % rfirst)
    refused(variant(rdmp, "rd-marker", patches=[(0x1000, struct.pack("<I", 0x41))]),
            "Marker at 0x1000 is 0x41")
    # RDMP: overlapping ranges (range 1 starts inside range 0)
    pfn0, n0 = struct.unpack_from("<QQ", open(rdmp, "rb").read(0x1040), 0x1030)
    refused(variant(rdmp, "rd-order", patches=[(0x1040, struct.pack("<Q", pfn0 + n0 - 1))]),
            "range 1 at 0x1040", "not after the previous range")
finally:
    shutil.rmtree(tmp)

print("FAILED" if FAILS else "ok", len(FAILS))
sys.exit(1 if FAILS else 0)
