#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The crashing thread's stack, recovered without symbols (analyze, info).

Writes its own x64 minidump, from Microsoft's documented formats and not
from icpheap's code: MINIDUMP_* streams (minidumpapiset.h), a PE32+ header
whose exception directory points at RUNTIME_FUNCTION entries and
UNWIND_INFO (learn.microsoft.com/cpp/build/exception-handling-x64), a
CONTEXT (AMD64: ContextFlags 0x30, Rsp 0x98, Rbp 0xa0, Rip 0xf8) and a
stack laid out by hand:

  app.exe (image in the dump)      0x140000000, size 0x4000
    A  0x1000-0x1100  prolog: push rbp (offset 1); sub rsp,0x20 (offset 5)
    B  0x2000-0x2100  prolog: sub rsp,0x100 (UWOP_ALLOC_LARGE, offset 7)
  lib.dll (no image in the dump)   0x7ff800000000, size 0x10000

  RSP0 = 0x11000; the crash is at app.exe+0x1010 (after A's prolog)
  0x11008  lib.dll+0x9999   a decoy: a scan would take it, the unwind not
  0x11020  saved rbp
  0x11028  app.exe+0x2050   A returns into B
  0x11130  lib.dll+0x3000   B returns into lib.dll (found by B's unwind)
  0x11140  lib.dll+0x4444   lib.dll has no unwind data here: found by scan

Expected frames: #0 app.exe+0x1010 context, #1 app.exe+0x2050 cfi,
#2 lib.dll+0x3000 cfi, #3 lib.dll+0x4444 scan, and nothing else.

usage: test_stack.py ICPHEAP
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

ICP = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2echeck import FAILS, PASSED, check  # noqa: E402


APP, LIB = 0x140000000, 0x7ff800000000
STACK_LO, STACK_HI = 0x11000, 0x11200


def pe_image():
    img = bytearray(0x4000)
    img[0:2] = b"MZ"
    struct.pack_into("<I", img, 0x3c, 0x80)
    img[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HH", img, 0x84, 0x8664, 0)          # Machine, NumberOfSections
    opt = 0x80 + 24
    struct.pack_into("<H", img, opt, 0x20b)                # PE32+
    struct.pack_into("<I", img, opt + 108, 16)             # NumberOfRvaAndSizes
    struct.pack_into("<II", img, opt + 112 + 3 * 8, 0x3000, 24)   # exception directory
    struct.pack_into("<III", img, 0x3000, 0x1000, 0x1100, 0x3100)
    struct.pack_into("<III", img, 0x300c, 0x2000, 0x2100, 0x3110)
    # UNWIND_INFO A: version 1, prolog 5, 2 codes; codes in reverse order.
    img[0x3100:0x3108] = bytes([0x01, 5, 2, 0, 5, 0x32, 1, 0x50])   # ALLOC_SMALL 3 (0x20); PUSH_NONVOL rbp
    # UNWIND_INFO B: prolog 7, 2 slots: ALLOC_LARGE info 0, size/8 = 0x20.
    img[0x3110:0x3118] = bytes([0x01, 7, 2, 0, 7, 0x01, 0x20, 0x00])
    return bytes(img)


def stack_bytes():
    st = bytearray(STACK_HI - STACK_LO)
    put = lambda addr, v: struct.pack_into("<Q", st, addr - STACK_LO, v)
    put(0x11008, LIB + 0x9999)
    put(0x11020, 0x11180)
    put(0x11028, APP + 0x2050)
    put(0x11130, LIB + 0x3000)
    put(0x11140, LIB + 0x4444)
    return bytes(st)


def context():
    c = bytearray(0x4d0)
    struct.pack_into("<I", c, 0x30, 0x0010000b)    # CONTEXT_AMD64 | CONTROL | INTEGER | FLOATING_POINT
    struct.pack_into("<Q", c, 0x98, STACK_LO)      # Rsp
    struct.pack_into("<Q", c, 0xa0, 0x11180)       # Rbp
    struct.pack_into("<Q", c, 0xf8, APP + 0x1010)  # Rip
    return bytes(c)


def minidump():
    blobs = []   # (bytes) appended after the directory; returns rva

    out = bytearray()
    nstreams = 5
    hdr_size, dir_size = 32, 12 * nstreams
    data = bytearray()
    base = hdr_size + dir_size

    def add(b, align=8):
        while (base + len(data)) % align:
            data.append(0)
        rva = base + len(data)
        data.extend(b)
        return rva

    def mdstring(s):
        u = s.encode("utf-16-le")
        return add(struct.pack("<I", len(u)) + u + b"\0\0", 4)

    ctx_rva = add(context())
    stack_rva = add(stack_bytes())
    img_rva = add(pe_image())
    app_name, lib_name = mdstring("C:\\app\\app.exe"), mdstring("C:\\app\\lib.dll")
    threads = struct.pack("<I", 1) + struct.pack("<IIIIQQIIII", 7, 0, 0x20, 0, 0x7ffde000,
                                                  STACK_LO, STACK_HI - STACK_LO, stack_rva,
                                                  len(context()), ctx_rva)
    def module(b, size, name):
        return struct.pack("<QIIII", b, size, 0, 0, name) + bytes(52) + bytes(16) + bytes(16)
    modules = struct.pack("<I", 2) + module(APP, 0x4000, app_name) + module(LIB, 0x10000, lib_name)
    mem = struct.pack("<I", 2) + struct.pack("<QII", STACK_LO, STACK_HI - STACK_LO, stack_rva) + \
        struct.pack("<QII", APP, 0x4000, img_rva)
    exc = struct.pack("<II", 7, 0) + struct.pack("<IIQQII", 0xc0000005, 0, 0, APP + 0x1010, 2, 0) + \
        struct.pack("<15Q", 0, 0x10, *([0] * 13)) + struct.pack("<II", len(context()), ctx_rva)
    sysinfo = struct.pack("<HHHBBIIIIIHH", 9, 6, 0, 4, 1, 10, 0, 19045, 2, 0, 0, 0) + bytes(24)
    streams = [(3, add(threads, 4), len(threads)), (4, add(modules, 4), len(modules)),
               (5, add(mem, 4), len(mem)), (6, add(exc, 4), len(exc)), (7, add(sysinfo, 4), len(sysinfo))]
    out += struct.pack("<IIIIIIQ", 0x504d444d, 0xa793, nstreams, hdr_size, 0, 0, 0)
    for t, rva, size in streams:
        out += struct.pack("<III", t, size, rva)
    out += data
    return bytes(out)


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "unwind.dmp")
    with open(path, "wb") as f:
        f.write(minidump())
    r = subprocess.run([ICP, "analyze", "-q", "--jsonl", path], capture_output=True, text=True, timeout=60)
    check(r.stdout.strip() != "", "analyze printed a report (%r)" % r.stderr[:200])
    d = json.loads(r.stdout) if r.stdout.strip() else {}
    e = d.get("exception") or {}
    check(e.get("location") == "app.exe+0x1010", "crash located in app.exe (%s)" % e.get("location"))
    check(e.get("access") == {"kind": "read", "address": "0x10"}, "read from 0x10 (%s)" % e.get("access"))
    frames = [(f["location"], f["trust"]) for f in (d.get("stack") or {}).get("frames", [])]
    want = [("app.exe+0x1010", "context"), ("app.exe+0x2050", "cfi"), ("lib.dll+0x3000", "cfi"),
            ("lib.dll+0x4444", "scan")]
    check(frames == want, "frames %s" % frames)
    # The same dump without the image: every caller comes from the scan,
    # which takes the decoy first.
    raw = bytearray(minidump())
    i = raw.find(b"MZ")
    raw[i:i + 2] = b"XX"
    with open(path, "wb") as f:
        f.write(bytes(raw))
    r = subprocess.run([ICP, "analyze", "-q", "--jsonl", path], capture_output=True, text=True, timeout=60)
    d = json.loads(r.stdout)
    frames = [(f["location"], f["trust"]) for f in d["stack"]["frames"]]
    check(frames[:2] == [("app.exe+0x1010", "context"), ("lib.dll+0x9999", "scan")],
          "without unwind data: scan, decoy first (%s)" % frames[:3])
    check(all(t == "scan" for _, t in frames[1:]), "without unwind data: all scanned")
    r = subprocess.run([ICP, "info", path], capture_output=True, text=True, timeout=60)
    check("(app.exe+0x1010)" in r.stdout, "info names app.exe+0x1010")

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
