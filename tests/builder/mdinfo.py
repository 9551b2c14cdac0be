#!/usr/bin/env python3
# Independent minidump dumper (Python, struct-based, written from the
# MINIDUMP_* documentation) used to check the builder's output by eye and
# to derive the sample facts in README.md.  Usage: mdinfo.py FILE
import struct, sys

def describe(path):
    """One line per fact, as printed by main()."""
    d = open(path, 'rb').read()
    out = []
    sig, ver, n, dr, ck, ts, fl = struct.unpack_from('<IIIIIIQ', d, 0)
    out.append('header sig=%#x version=%#x streams=%d dir=%#x time=%#x flags=%#x size=%d'
          % (sig, ver, n, dr, ts, fl, len(d)))
    dirs = {}
    for i in range(n):
        t, sz, rva = struct.unpack_from('<III', d, dr + 12 * i)
        out.append('  dir[%d] type=%#x size=%d rva=%#x' % (i, t, sz, rva))
        dirs.setdefault(t, (sz, rva))

    def mstr(r):
        l, = struct.unpack_from('<I', d, r)
        return d[r + 4:r + 4 + l].decode('utf-16le')

    if 7 in dirs:
        sz, r = dirs[7]
        a = struct.unpack_from('<HHHBBIIIII', d, r)
        out.append('sysinfo arch=%d level=%d rev=%#x ncpu=%d product=%d os=%d.%d.%d platform=%d csd=%r'
              % (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], mstr(a[9])))
    for st, esz in ((3, 48), (8, 64)):
        if st in dirs:
            sz, r = dirs[st]
            nt, = struct.unpack_from('<I', d, r)
            for i in range(nt):
                f = struct.unpack_from('<IIIIQQIIII', d, r + 4 + 48 * 0 + esz * i)
                out.append('thread%s id=%#x suspend=%d prioclass=%#x teb=%#x stack=%#x+%#x@%#x ctx=%#x@%#x'
                      % ('ex' if st == 8 else '', f[0], f[1], f[2], f[4], f[5], f[6], f[7], f[8], f[9]))
    if 24 in dirs:
        sz, r = dirs[24]
        nn, = struct.unpack_from('<I', d, r)
        for i in range(nn):
            tid, rv = struct.unpack_from('<IQ', d, r + 4 + 12 * i)
            out.append('threadname %#x %r' % (tid, mstr(rv)))
    if 4 in dirs:
        sz, r = dirs[4]
        nm, = struct.unpack_from('<I', d, r)
        for i in range(nm):
            e = r + 4 + 108 * i
            base, size, ck, ts, nrva = struct.unpack_from('<QIIII', d, e)
            vs = struct.unpack_from('<13I', d, e + 24)
            v = '%d.%d.%d.%d' % (vs[2] >> 16, vs[2] & 0xffff, vs[3] >> 16, vs[3] & 0xffff) if vs[0] == 0xfeef04bd else '-'
            out.append('module %#x+%#x ts=%#x ck=%#x ver=%s %s' % (base, size, ts, ck, v, mstr(nrva)))
    if 14 in dirs:
        sz, r = dirs[14]
        hs, es, ne = struct.unpack_from('<III', d, r)
        for i in range(ne):
            base, size, ck, ts, nrva = struct.unpack_from('<QIIII', d, r + hs + es * i)
            out.append('unloaded %#x+%#x ts=%#x %s' % (base, size, ts, mstr(nrva)))
    if 5 in dirs:
        sz, r = dirs[5]
        nr, = struct.unpack_from('<I', d, r)
        for i in range(nr):
            st, ds, rva = struct.unpack_from('<QII', d, r + 4 + 16 * i)
            out.append('memory32 %#x+%#x @%#x first=%s' % (st, ds, rva, d[rva:rva + 8].hex()))
    if 9 in dirs:
        sz, r = dirs[9]
        nr, base = struct.unpack_from('<QQ', d, r)
        for i in range(nr):
            st, ds = struct.unpack_from('<QQ', d, r + 16 + 16 * i)
            out.append('memory64 %#x+%#x @%#x first=%s' % (st, ds, base, d[base:base + 8].hex()))
            base += ds
    if 12 in dirs:
        sz, r = dirs[12]
        hs, ds, nd, _ = struct.unpack_from('<IIII', d, r)
        for i in range(nd):
            h = struct.unpack_from('<QIIIIII', d, r + hs + ds * i)
            out.append('handle %#x type=%r name=%r attr=%#x access=%#x handles=%d pointers=%d (desc %d bytes)'
                  % (h[0], mstr(h[1]) if h[1] else None, mstr(h[2]) if h[2] else None, h[3], h[4], h[5], h[6], ds))
    if 16 in dirs:
        sz, r = dirs[16]
        hs, es, ne = struct.unpack_from('<IIQ', d, r)
        for i in range(ne):
            m = struct.unpack_from('<QQIIQIII', d, r + hs + es * i)
            out.append('meminfo base=%#x allocbase=%#x size=%#x state=%#x protect=%#x type=%#x' % (m[0], m[1], m[4], m[5], m[6], m[7]))
    if 6 in dirs:
        sz, r = dirs[6]
        e = struct.unpack_from('<IIIIQQI', d, r)
        params = struct.unpack_from('<%dQ' % e[6], d, r + 40)
        out.append('exception tid=%#x code=%#x flags=%#x addr=%#x params=%s' % (e[0], e[2], e[3], e[5], [hex(x) for x in params]))
    if 15 in dirs:
        sz, r = dirs[15]
        m = struct.unpack_from('<6I', d, r)
        out.append('misc size=%d flags=%#x pid=%#x' % (m[0], m[1], m[2]))
    for t in (10, 11):
        if t in dirs:
            sz, r = dirs[t]
            out.append('comment%s %r' % ('A' if t == 10 else 'W', d[r:r + sz].decode('latin1' if t == 10 else 'utf-16le')))
    return out


if __name__ == '__main__':
    for line in describe(sys.argv[1]):
        print(line)
