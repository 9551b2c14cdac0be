#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Stack recovery without symbols, part 2: the x86 frame-pointer (EBP
chain) walk and the x64 epilog.

Writes its own minidumps from the documented formats, not from icpheap's
code: MINIDUMP_* streams (minidumpapiset.h); CONTEXT x86 (ContextFlags 0,
CONTEXT_i386 0x00010000, Ebp 0xb4, Eip 0xb8, Esp 0xc4, size 0x2cc) and
AMD64 (ContextFlags 0x30, Rsp 0x98, Rip 0xf8, size 0x4d0) as
google/breakpad minidump_cpu_x86.h / minidump_cpu_amd64.h give them; a
PE32+ header with RUNTIME_FUNCTION / UNWIND_INFO
(learn.microsoft.com/cpp/build/exception-handling-x64) and code bytes for
an epilog of the only legal form (learn.microsoft.com/cpp/build/
prolog-and-epilog: add rsp,N; pops; ret).  Encodings from the Intel SDM:
48 83 C4 ib = add rsp,imm8; 5B = pop rbx; C3 = ret.

x86 (app.exe 0x400000, lib.dll 0x10000000, neither image captured;
stack 0x30000-0x30400; ESP 0x30000, EBP 0x30040, EIP app.exe+0x1100):
  0x30010  lib.dll+0x9999  decoy: a scan takes it, the EBP chain does not
  0x30040  0x30080 / app.exe+0x2222    link 1
  0x30080  0x30100 / lib.dll+0x3333    link 2
  0x30100  0x300c0 / lib.dll+0x4444    link 3: its saved EBP goes down
  0x30120  app.exe+0x5555  found by the scan once the chain is broken
Expected: context, frame-pointer x3, scan.  With link 1's return address
made garbage (0x12345), the chain is refused from the start: the scan
takes the decoy first and every caller is "scan".

x64 (app.exe 0x140000000 image captured, lib.dll 0x7ff800000000 not):
  C 0x1200-0x1300: prolog push rbx (offset 1), sub rsp,0x28 (offset 5);
    epilog at 0x1280: 48 83 C4 28 / 5B / C3
  B 0x2000-0x2100: prolog sub rsp,0x100 (offset 7)
  E1: RIP = C+0x84 (the pop, after the add), RSP 0x11000:
      0x11000 saved rbx, 0x11008 app.exe+0x2050 (into B),
      0x11030 lib.dll+0x7777 where an unwind that ignores the epilog
      (undoing the 0x28 again) would look, 0x11110 lib.dll+0x3000 (B's
      return), 0x11140 lib.dll+0x4444 (scan).
  E3: RIP = C+0x85 (the ret), RSP 0x11008; decoy lib.dll+0x8888 at 0x11038.
Expected both: context app.exe+C, cfi app.exe+0x2050, cfi lib.dll+0x3000,
scan lib.dll+0x4444.

usage: test_stack_fp.py ICPHEAP
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


def minidump(arch, ctx, stack_lo, stack, modules, images, exc_addr):
    """arch 0 (x86) or 9 (AMD64); modules [(base, size, name)]; images
    [(base, bytes)] captured besides the stack."""
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

    ctx_rva = add(ctx)
    stack_rva = add(stack)
    img_rvas = [(b, add(img), len(img)) for b, img in images]
    names = [mdstring(n) for _, _, n in modules]
    threads = struct.pack("<I", 1) + struct.pack("<IIIIQQIIII", 7, 0, 0x20, 0, 0x7ffde000,
                                                  stack_lo, len(stack), stack_rva, len(ctx), ctx_rva)
    mods = struct.pack("<I", len(modules))
    for (b, size, _), name in zip(modules, names):
        mods += struct.pack("<QIIII", b, size, 0, 0, name) + bytes(52) + bytes(16) + bytes(16)
    mem = struct.pack("<I", 1 + len(img_rvas)) + struct.pack("<QII", stack_lo, len(stack), stack_rva)
    for b, rva, size in img_rvas:
        mem += struct.pack("<QII", b, size, rva)
    exc = struct.pack("<II", 7, 0) + struct.pack("<IIQQII", 0xc0000005, 0, 0, exc_addr, 2, 0) + \
        struct.pack("<15Q", 0, 0x10, *([0] * 13)) + struct.pack("<II", len(ctx), ctx_rva)
    sysinfo = struct.pack("<HHHBBIIIIIHH", arch, 6, 0, 4, 1, 10, 0, 19045, 2, 0, 0, 0) + bytes(24)
    streams = [(3, add(threads, 4), len(threads)), (4, add(mods, 4), len(mods)),
               (5, add(mem, 4), len(mem)), (6, add(exc, 4), len(exc)), (7, add(sysinfo, 4), len(sysinfo))]
    out = bytearray(struct.pack("<IIIIIIQ", 0x504d444d, 0xa793, nstreams, hdr_size, 0, 0, 0))
    for t, rva, size in streams:
        out += struct.pack("<III", t, size, rva)
    return bytes(out + data)


def frames_of(tmp, name, dump):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(dump)
    r = subprocess.run([ICP, "analyze", "-q", "--jsonl", path], capture_output=True, text=True, timeout=60)
    d = json.loads(r.stdout) if r.stdout.strip() else {}
    return [(f["location"], f["trust"]) for f in (d.get("stack") or {}).get("frames", [])]


# ---- x86: the EBP chain --------------------------------------------------
APP32, LIB32 = 0x400000, 0x10000000
LO32 = 0x30000


def x86_dump(bad_first_link=False):
    st = bytearray(0x400)
    put = lambda a, v: struct.pack_into("<I", st, a - LO32, v)
    put(0x30010, LIB32 + 0x9999)
    put(0x30040, 0x30080)
    put(0x30044, 0x12345 if bad_first_link else APP32 + 0x2222)
    put(0x30080, 0x30100)
    put(0x30084, LIB32 + 0x3333)
    put(0x30100, 0x300c0)
    put(0x30104, LIB32 + 0x4444)
    put(0x30120, APP32 + 0x5555)
    ctx = bytearray(0x2cc)
    struct.pack_into("<I", ctx, 0, 0x00010007)     # CONTEXT_i386 | CONTROL | INTEGER | SEGMENTS
    struct.pack_into("<I", ctx, 0xb4, 0x30040)     # Ebp
    struct.pack_into("<I", ctx, 0xb8, APP32 + 0x1100)  # Eip
    struct.pack_into("<I", ctx, 0xc4, LO32)        # Esp
    mods = [(APP32, 0x10000, "C:\\app\\app.exe"), (LIB32, 0x10000, "C:\\app\\lib.dll")]
    return minidump(0, bytes(ctx), LO32, bytes(st), mods, [], APP32 + 0x1100)


# ---- x64: a crash inside an epilog ---------------------------------------
APP, LIB = 0x140000000, 0x7ff800000000
LO64 = 0x10f00


def pe_image():
    img = bytearray(0x4000)
    img[0:2] = b"MZ"
    struct.pack_into("<I", img, 0x3c, 0x80)
    img[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HH", img, 0x84, 0x8664, 0)
    opt = 0x80 + 24
    struct.pack_into("<H", img, opt, 0x20b)
    struct.pack_into("<I", img, opt + 108, 16)
    struct.pack_into("<II", img, opt + 112 + 3 * 8, 0x3000, 24)        # exception directory
    struct.pack_into("<III", img, 0x3000, 0x1200, 0x1300, 0x3100)      # C
    struct.pack_into("<III", img, 0x300c, 0x2000, 0x2100, 0x3110)      # B
    # C: version 1, prolog 5, 2 codes: @5 ALLOC_SMALL info 4 (0x28), @1 PUSH_NONVOL rbx (3)
    img[0x3100:0x3108] = bytes([0x01, 5, 2, 0, 5, 0x42, 1, 0x30])
    # B: prolog 7, ALLOC_LARGE info 0, size/8 = 0x20 (0x100)
    img[0x3110:0x3118] = bytes([0x01, 7, 2, 0, 7, 0x01, 0x20, 0x00])
    img[0x1200:0x1206] = bytes([0x53, 0x48, 0x83, 0xec, 0x28, 0x90])   # push rbx; sub rsp,0x28
    img[0x1280:0x1286] = bytes([0x48, 0x83, 0xc4, 0x28, 0x5b, 0xc3])   # add rsp,0x28; pop rbx; ret
    return bytes(img)


def x64_dump(rip, rsp):
    st = bytearray(0x300)
    put = lambda a, v: struct.pack_into("<Q", st, a - LO64, v)
    put(0x11000, 0xabc)
    put(0x11008, APP + 0x2050)
    put(0x11030, LIB + 0x7777)
    put(0x11038, LIB + 0x8888)
    put(0x11110, LIB + 0x3000)
    put(0x11140, LIB + 0x4444)
    ctx = bytearray(0x4d0)
    struct.pack_into("<I", ctx, 0x30, 0x0010000b)
    struct.pack_into("<Q", ctx, 0x98, rsp)
    struct.pack_into("<Q", ctx, 0xf8, rip)
    mods = [(APP, 0x4000, "C:\\app\\app.exe"), (LIB, 0x10000, "C:\\app\\lib.dll")]
    return minidump(9, bytes(ctx), LO64, bytes(st), mods, [(APP, pe_image())], rip)


with tempfile.TemporaryDirectory() as tmp:
    fr = frames_of(tmp, "x86.dmp", x86_dump())
    want = [("app.exe+0x1100", "context"), ("app.exe+0x2222", "frame-pointer"),
            ("lib.dll+0x3333", "frame-pointer"), ("lib.dll+0x4444", "frame-pointer"),
            ("app.exe+0x5555", "scan")]
    check(fr == want, "x86 EBP chain: %s" % fr)
    fr = frames_of(tmp, "x86-bad.dmp", x86_dump(bad_first_link=True))
    check(fr[:2] == [("app.exe+0x1100", "context"), ("lib.dll+0x9999", "scan")],
          "x86 chain refused (return address outside modules): scan, decoy first (%s)" % fr[:3])
    check(all(t == "scan" for _, t in fr[1:]), "x86 chain refused: all scanned (%s)" % fr)
    want = [("app.exe+0x2050", "cfi"), ("lib.dll+0x3000", "cfi"), ("lib.dll+0x4444", "scan")]
    fr = frames_of(tmp, "epilog-pop.dmp", x64_dump(APP + 0x1284, 0x11000))
    check(fr == [("app.exe+0x1284", "context")] + want, "x64 crash at the epilog's pop: %s" % fr)
    fr = frames_of(tmp, "epilog-ret.dmp", x64_dump(APP + 0x1285, 0x11008))
    check(fr == [("app.exe+0x1285", "context")] + want, "x64 crash at the epilog's ret: %s" % fr)
    # The same function body outside the epilog (RIP at the nop after the
    # prolog, RSP as the prolog left it) unwinds with the unwind codes.
    fr = frames_of(tmp, "body.dmp", x64_dump(APP + 0x1205, 0x11000 - 0x28))
    check(fr == [("app.exe+0x1205", "context")] + want, "x64 crash in the body: %s" % fr)

print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
sys.exit(1 if FAILS else 0)
