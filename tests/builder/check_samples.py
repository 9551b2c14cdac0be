#!/usr/bin/env python3
# Builds every sample with mkdump and checks the facts listed in README.md
# with the independent Python readers (mdinfo.py, kwalk.py), so the facts
# other engineers assert in their tests stay true.
# Usage: check_samples.py MKDUMP SAMPLES_DIR
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kwalk  # noqa: E402
import mdinfo  # noqa: E402

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def build(mkdump, samples, tmp, name):
    out = os.path.join(tmp, name + '.dmp')
    r = subprocess.run([mkdump, os.path.join(samples, name + '.txt'), out],
                       capture_output=True, text=True)
    check(r.returncode == 0, '%s: mkdump failed: %s' % (name, r.stderr))
    return out, r.stdout


def has(lines, text, name):
    check(any(text in l for l in lines), '%s: no line containing %r' % (name, text))


def kv(k, mode, va, dtb=None, size=8):
    pa, pte = k.walk(mode, k.dtb if dtb is None else dtb, va)
    if pa is None or k.off(pa) is None:
        return None, pte, pa
    return k.rp(pa, size), pte, pa


def main():
    mkdump, samples = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        p, _ = build(mkdump, samples, tmp, 'x64_19045')
        L = mdinfo.describe(p)
        n = 'x64_19045'
        has(L, 'version=0x4a61a793 streams=16 dir=0x20 time=0x65a0b1c2 flags=0x826', n)
        has(L, 'sysinfo arch=9 level=6 rev=0x9e0a ncpu=8 product=1 os=10.0.19045', n)
        has(L, 'thread id=0x1a4 suspend=0 prioclass=0x20 teb=0x7ff5e000 stack=0x50000+0x2000', n)
        has(L, 'thread id=0x1b8 suspend=1', n)
        has(L, 'thread id=0x2c0', n)
        has(L, "threadname 0x1b8 'worker #1'", n)
        has(L, 'ver=10.0.19041.3570 C:\\Windows\\System32\\KERNEL32.DLL', n)
        has(L, 'unloaded 0x7ffb20000000+0x1e4000', n)
        has(L, 'memory64 0x20000000+0x3000', n)
        has(L, 'memory32 0x20001000+0x1000', n)
        has(L, "handle 0x4 type='Event' name='\\\\BaseNamedObjects\\\\icpheap-test' attr=0x0 access=0x1f0003 handles=2 pointers=65537 (desc 40 bytes)", n)
        has(L, "exception tid=0x1a4 code=0xc0000005 flags=0x0 addr=0x7ff6d2a11234 params=['0x1', '0x0']", n)
        has(L, 'misc size=1364 flags=0x357 pid=0x1f2c', n)
        has(L, 'comment W: ünïcödé', n)
        has(L, 'type=0x1234567 size=4', n)
        d = open(p, 'rb').read()
        check(d.count(bytes.fromhex('deadbeef')) >= 2, n + ': de ad be ef bytes')

        p, _ = build(mkdump, samples, tmp, 'x86_7601')
        L = mdinfo.describe(p)
        n = 'x86_7601'
        has(L, "os=6.1.7601 platform=2 csd='Service Pack 1'", n)
        has(L, 'ctx=0x2cc@', n)
        has(L, 'ver=6.1.7601.24545 C:\\Windows\\SYSTEM32\\ntdll.dll', n)
        has(L, "(desc 32 bytes)", n)
        has(L, 'misc size=44 flags=0x7 pid=0x9f0', n)
        has(L, 'exception tid=0xe10 code=0x80000003', n)

        p, _ = build(mkdump, samples, tmp, 'wow64_19045')
        L = mdinfo.describe(p)
        n = 'wow64_19045'
        has(L, 'sysinfo arch=9', n)
        has(L, 'C:\\Windows\\SysWOW64\\ntdll.dll', n)
        has(L, 'module 0x77a10000+0xa000', n)
        has(L, 'teb=0xfe9000', n)

        p, out = build(mkdump, samples, tmp, 'kernel_x64_full')
        n = 'kernel_x64_full'
        check('space proc1 dtb=0xb000' in out, n + ': proc1 DTB')
        k = kwalk.K(p)
        check(k.type == 1 and k.dtb == 0x1000, n + ': type/dtb')
        check(len(k.d) == 33161216, n + ': size')
        check(kv(k, 'x64', 0xfffff80000000000)[0] == 0x4b4b4b4b4b4b4b4b, n + ': 2M page')
        check(kv(k, 'x64', 0xfffff80000000000)[2] == 0x200000, n + ': 2M pa')
        check(kv(k, 'x64', 0xfffff80000100000)[0] == 0xfffff80000100000, n + ': list head')
        check(kv(k, 'x64', 0xffffa00000002000)[0] == 0x100f0e0d0c0b0a09, n + ': bytes')
        check(kv(k, 'x64', 0x7ff00008, 0xb000)[0] == 0xb000, n + ': proc1 dtb word')
        check(kv(k, 'x64', 0x7ff00000, 0xb000)[2] == 0xf000, n + ': proc1 pa')
        check(kv(k, 'x64', 0xfffff80000000000, 0xb000)[0] == 0x4b4b4b4b4b4b4b4b, n + ': shared')

        p, out = build(mkdump, samples, tmp, 'kernel_x64_bitmap')
        n = 'kernel_x64_bitmap'
        check('space proc1 dtb=0xf000' in out, n + ': proc1 DTB')
        k = kwalk.K(p)
        check(k.type == 5 and k.pages == 0x4000 and k.total == 529 and k.first == 0x3000,
              n + ': BMP header')
        check(kv(k, 'x64', 0xffffc00000000000)[0] == 0x1111111111111111, n + ': page 0')
        v, pte, pa = kv(k, 'x64', 0xffffc00000001000)
        check(pa is None and pte == 0x8880, n + ': transition PTE')
        check(k.rp(0x8000, 8) == 0x2222222222222222, n + ': transition frame')
        v, pte, pa = kv(k, 'x64', 0xffffc00000002000)
        check(pa is None and pte == 0x12345600000080, n + ': paged-out PTE')
        v, pte, pa = kv(k, 'x64', 0xffffc00000003000)
        check(pa == 0xa000 and v is None, n + ': excluded frame')
        check(kv(k, 'x64', 0x10000, 0xf000)[0] == 0xabcdef0123456789, n + ': proc1')

        p, _ = build(mkdump, samples, tmp, 'kernel_x64_rdmp')
        n = 'kernel_x64_rdmp'
        k = kwalk.K(p)
        check(k.type == 8 and k.ranges == [(1, 8), (0x200, 0x200)] and k.first == 0x3000,
              n + ': RDMP ranges')
        check(kv(k, 'x64', 0xffffd00000001000)[0] == 0x5555555555555555, n + ': data')

        p, out = build(mkdump, samples, tmp, 'kernel_x86_pae')
        n = 'kernel_x86_pae'
        check('space proc1 dtb=0x9000' in out, n + ': proc1 DTB')
        k = kwalk.K(p)
        check(not k.is64 and k.d[0x5c] == 1, n + ': PaeEnabled')
        check(kv(k, 'pae', 0x8a000000, size=4)[0] == 0xfeedface, n + ': 4K')
        check(kv(k, 'pae', 0x80100000, size=4)[0] == 0x80100000, n + ': 2M')
        v, pte, pa = kv(k, 'pae', 0x8a001000, size=4)
        check(pa is None and pte == 0x8880 and k.rp(0x8000, 4) == 0x0badc0de, n + ': transition')
        check(kv(k, 'pae', 0x10000, 0x9000, 4)[0] == 0x12345678, n + ': proc1')

        p, out = build(mkdump, samples, tmp, 'kernel_x86')
        n = 'kernel_x86'
        check('space proc1 dtb=0x4000' in out, n + ': proc1 DTB')
        k = kwalk.K(p)
        check(not k.is64 and k.d[0x5c] == 0, n + ': PaeEnabled 0')
        check(kv(k, 'x86', 0x80400000, size=4)[:3:2] == (0x00905a4d, 0x400000), n + ': 4M page')
        check(kv(k, 'x86', 0x8a000000, size=4)[0] == 0xdeadbeef, n + ': 4K')
        check(kv(k, 'x86', 0x400000, 0x4000, 4)[0] == 0x0abcdef0, n + ': proc1')

        p, _ = build(mkdump, samples, tmp, 'kernel_x64_triage')
        n = 'kernel_x64_triage'
        import struct
        d = open(p, 'rb').read()
        check(struct.unpack_from('<I', d, 0xf98)[0] == 4, n + ': DumpType 4')
        tri = struct.unpack_from('<18IQ', d, 0x2000)
        check(tri[1] == 0x20d8 and tri[2] == 0x20d4 and d[0x20d4:0x20d8] == b'TRGD', n + ': TRGD')
        check(tri[8] == 0x2080 and d[0x2080:0x2088] == b'EPROCESS', n + ': ProcessOffset')
        check(tri[14] == 0x2088 and tri[15] == 5, n + ': string pool')
        check(tri[13] == 0x97 and tri[17] == 0xffffffff and tri[18] == 0xffff850429890ee8, n + ': info')
        bo, nb = struct.unpack_from('<II', d, 0x2078)
        check(bo == 0x2090 and nb == 2, n + ': data blocks')
        a, o, sz = struct.unpack_from('<QII', d, bo + 16)
        check(a == 0xfffff8047c601000 and d[o:o + sz] == b'triage block two\0', n + ': block 2')
        check(len(d) == 0x20d8, n + ': size')

    for f in failures:
        print('FAIL', f)
    print('%d failures' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
