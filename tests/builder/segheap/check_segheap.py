#!/usr/bin/env python3
# Self-test of the segment-heap scenarios: an independent reader, written
# from /work/shared/reference/layouts.md (section 1 PEB/TEB, section 4
# segment heap and Algorithm C, section 10 cautions) and the minidump
# documentation (MINIDUMP_DIRECTORY, MINIDUMP_MEMORY64_LIST,
# MINIDUMP_MODULE, MINIDUMP_THREAD), walks every scenario's dump and checks
# that what it decodes is exactly what the .expect file says: every block
# (header, user, requested size, block size, state, layer), the totals, the
# keys, the problems.  It shares no code with the C builder.
#
# usage: check_segheap.py MKSEGHEAPDUMP SCENARIO...
import bisect, os, struct, subprocess, sys, tempfile

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print('FAIL:', what)


class Dump:
    def __init__(self, path):
        d = self.d = open(path, 'rb').read()
        sig, ver, n, dr = struct.unpack_from('<IIII', d, 0)
        assert sig == 0x504D444D, 'not a minidump'
        self.streams = {}
        for i in range(n):
            t, sz, rva = struct.unpack_from('<III', d, dr + 12 * i)
            self.streams.setdefault(t, (sz, rva))
        self.ranges = []           # (start, size, file offset)
        if 9 in self.streams:      # Memory64ListStream
            _, r = self.streams[9]
            nr, base = struct.unpack_from('<QQ', d, r)
            off = base
            for i in range(nr):
                va, size = struct.unpack_from('<QQ', d, r + 16 + 16 * i)
                self.ranges.append((va, size, off))
                off += size
        self.ranges.sort()
        self.modules = []
        if 4 in self.streams:
            _, r = self.streams[4]
            nm, = struct.unpack_from('<I', d, r)
            for i in range(nm):
                base, size, _, _, nrva = struct.unpack_from('<QIIII', d, r + 4 + 108 * i)
                l, = struct.unpack_from('<I', d, nrva)
                self.modules.append((base, size, d[nrva + 4:nrva + 4 + l].decode('utf-16le')))
        _, r = self.streams[3]
        self.teb, = struct.unpack_from('<Q', d, r + 4 + 16)

        self.starts = [r[0] for r in self.ranges]

    def find(self, va):
        i = bisect.bisect_right(self.starts, va) - 1
        # ranges may overlap: look back a few
        for j in range(i, max(i - 4, -1), -1):
            s, size, o = self.ranges[j]
            if s <= va < s + size:
                return s, size, o
        return None

    def present(self, va):
        return self.find(va) is not None

    def read(self, va, n):
        out = b''
        while n:
            r = self.find(va)
            if r is None:
                raise KeyError('0x%x not in the dump' % va)
            s, size, o = r
            k = min(n, s + size - va)
            out += self.d[o + va - s:o + va - s + k]
            va += k
            n -= k
        return out

    def u8(self, va): return self.read(va, 1)[0]
    def u16(self, va): return struct.unpack('<H', self.read(va, 2))[0]
    def u32(self, va): return struct.unpack('<I', self.read(va, 4))[0]
    def u64(self, va): return struct.unpack('<Q', self.read(va, 8))[0]


# Offsets per layout, from layouts.md section 4 (x64: S1/S11 columns; x86:
# S6 ntdll 1903 OLD context, S11 kernel NEW context) -- re-typed here, not
# shared with shb.c.
X64 = dict(ps=8, sig=0x10, large=0x48, ctxsize=0xC0, unitshift=8, firstdesc=0xA,
           seglist=0x48, pssig=0x10, dsize=0x20, dflags=0x18, dunit=0x1F, dunused=4,
           vssize=0x20, vssig=0x22, vsfirst=0x30, ch=0x10, lcount=0x22, lfree=0x20,
           loffs=0x28, lbitmap=0x30, lava=0x18, lapages=0x20, const=0xA2E64EADA2E64EAD,
           teb_peb=0x60, peb_n=0xE8, peb_arr=0xF0, globals_lfh=8)
X86 = dict(ps=4, sig=8, ctxsize=0x80, unitshift=4, firstdesc=6, seglist=0x44, pssig=8,
           dsize=0x10, dflags=0xC, dunit=0xF, dunused=4, vssize=0x14, vssig=0x16, vsfirst=0x18,
           ch=8, lcount=0x12, lfree=0x10, loffs=0x18, lbitmap=0x20, lava=0xC, lapages=0x10,
           const=0xA2E64EAD, teb_peb=0x30, peb_n=0x88, peb_arr=0x90, globals_lfh=4)
LAYOUTS = {
    'x64-19045': dict(X64, segctx=0x100, build=19045),
    'x64-22631': dict(X64, segctx=0x140, build=22631),
    'x64-26100': dict(X64, segctx=0x140, build=26100, const=0),
    'x86-18362': dict(X86, segctx=0x60, ctxsize=0x50, seglist=0x14, large=0x50, build=18362),
    'x86-19045': dict(X86, segctx=0x100, large=0x44, build=19045),
    'x86-17763': dict(X86, segctx=0x60, ctxsize=0x50, seglist=0x14, large=0x50, build=17763),
}


def layout_for(scen):
    if scen.startswith('wow64-'):
        return LAYOUTS['x86-19045'], True
    for k in LAYOUTS:
        if scen.startswith(k):
            return LAYOUTS[k], False
    if scen == 'big':
        return LAYOUTS['x64-19045'], False
    raise KeyError(scen)


class Walker:
    def __init__(self, dump, L, wow):
        self.D, self.L, self.wow = dump, L, wow
        self.ps = L['ps']
        self.mask = (1 << (8 * self.ps)) - 1

    def ptr(self, va):
        return self.D.u64(va) if self.ps == 8 else self.D.u32(va)

    def heaps(self):
        teb = self.D.teb + (0x2000 if self.wow else 0)
        peb = self.ptr(teb + self.L['teb_peb'])
        n = self.D.u32(peb + self.L['peb_n'])
        arr = self.ptr(peb + self.L['peb_arr'])
        return peb, [self.ptr(arr + i * self.ps) for i in range(n)]

    def contexts(self, H):
        for ci in range(2):
            cx = H + self.L['segctx'] + ci * self.L['ctxsize']
            yield ci, cx

    def segments(self, cx):
        head = cx + self.L['seglist']
        e, seen = self.ptr(head), 0
        while e != head and seen < 64:
            yield e
            e = self.ptr(e)
            seen += 1

    def recover_heap_key(self, seg, cx):
        return (self.ptr(seg + self.L['pssig']) ^ seg ^ cx ^ self.L['const']) & self.mask

    def lfh_shift(self, ss):
        if self.L['build'] >= 26100:
            return (ss >> 12) & 0xFFFFFFFF
        return (ss & 0xFFFFFFFF) >> 12

    def trailer(self, end):
        w = self.D.u16(end - 2)
        if w & 0x8000:
            return 1
        return w & 0x3FFF

    def walk_heap(self, H, heap_key, lfh_key):
        """Yields ('block', tuple) and ('problem', addr, kind) records."""
        L, D = self.L, self.D
        out, problems = [], []
        for ci, cx in self.contexts(H):
            sh = D.u8(cx + L['unitshift'])
            fd = D.u8(cx + L['firstdesc'])
            for seg in self.segments(cx):
                if self.recover_heap_key(seg, cx) != heap_key:
                    problems.append((seg, 'bad-page-segment-signature'))
                    continue
                r = fd
                while r < 256:
                    d = seg + r * L['dsize']
                    flags = D.u8(d + L['dflags'])
                    if self.ps == 4:
                        flags &= 0x1F
                    n = D.u8(d + L['dunit'])
                    if n == 0:
                        problems.append((d, 'zero-unit-size'))
                        break
                    a, ln = seg + (r << sh), n << sh
                    if flags == 0x0F:
                        out.append((d, a, 0, ln, 'internal', 'segment-backend'))
                        self.walk_vs(seg, a, ln, heap_key, out, problems)
                    elif flags == 0x0B:
                        out.append((d, a, 0, ln, 'internal', 'segment-backend'))
                        self.walk_lfh(a, ln, lfh_key, out, problems)
                    elif flags == 0x03:
                        un = D.u32(d + L['dunused'])
                        out.append((d, a, ln - un, ln, 'busy', 'segment-backend'))
                    elif flags == 0x02:
                        out.append((d, a, 0, ln, 'free', 'segment-backend'))
                    r += n
        # large blocks: in-order walk of the RB tree at LargeAllocMetadata
        root = self.ptr(H + L['large'])
        stack, node, seen = [], root, 0
        while (stack or node) and seen < 10000:
            if node:
                stack.append(node)
                node = self.ptr(node)
                continue
            node = stack.pop()
            seen += 1
            va = self.ptr(node + L['lava'])
            pages = self.ptr(node + L['lapages']) >> 12
            un = va & 0xFFFF
            out.append((node, va & ~0xFFFF & self.mask, (pages << 12) - un, pages << 12,
                        'busy', 'segment-large'))
            node = self.ptr(node + self.ps)
        return out, problems

    def walk_vs(self, seg, vs, ln, key, out, problems):
        L, D = self.L, self.D
        size = D.u16(vs + L['vssize'])
        sig = D.u16(vs + L['vssig']) & 0x7FFF      # FullCommit masked (section 10)
        if size ^ sig != 0x2BED:
            problems.append((vs, 'vs-bad-signature'))
            return
        ch, end, prev, hdr = vs + L['vsfirst'], vs + ln, 0, L['ch']
        while ch < end:
            if self.ps == 8:
                v = D.u64(ch) ^ ch ^ key
                sz, pv, busy = ((v >> 16) & 0xFFFF) << 4, ((v >> 32) & 0xFFFF) << 4, (v >> 48) & 1
            else:
                v = D.u32(ch) ^ (ch & 0xFFFFFFFF) ^ key
                sz, pv, busy = ((v >> 1) & 0x7FFF) << 3, ((v >> 16) & 0x7FFF) << 3, v >> 31
            if sz < 2 * hdr or ch + sz > end:
                problems.append((ch, 'vs-bad-size'))
                return
            if pv != prev:
                problems.append((ch, 'vs-bad-prev-size'))
                out.append((ch, ch + hdr, 0, sz, 'corrupt', 'segment-vs'))
            elif busy:
                bits = D.u32(ch + self.ps)
                po = (bits & 0xFF) ^ (ch & 0xFF) ^ (key & 0xFF)
                # page distance from the VS subsegment (README "VS subsegments")
                check(po == ((ch - vs) >> 12) & 0xFF, 'VS chunk 0x%x page offset' % ch)
                un = self.trailer(ch + sz) if bits & 0x100 else 0
                out.append((ch, ch + hdr, sz - hdr - un, sz, 'busy', 'segment-vs'))
            else:
                out.append((ch, ch + hdr, 0, sz, 'free', 'segment-vs'))
            prev = sz
            ch += sz

    def walk_lfh(self, ss, ln, key, out, problems):
        L, D = self.L, self.D
        enc = D.u32(ss + L['loffs']) ^ (key & 0xFFFFFFFF) ^ self.lfh_shift(ss)
        bs, fbo = enc & 0xFFFF, enc >> 16
        if not (bs and bs < 0xFF8 and fbo < ln):
            problems.append((ss, 'lfh-bad-offsets'))
            return
        count = D.u16(ss + L['lcount'])
        nfree = 0
        for i in range(count):
            b = ss + fbo + i * bs
            bits = (D.u8(ss + L['lbitmap'] + (i >> 2)) >> ((i & 3) * 2)) & 3
            if bits & 1:
                un = self.trailer(b + bs) if bits & 2 else 0
                if un > bs:
                    # more unused bytes than the block holds: listed
                    # busy with none, and a problem
                    problems.append((b, 'lfh-bad-unused'))
                    un = 0
                out.append((b, b, bs - un, bs, 'busy', 'segment-lfh'))
            else:
                nfree += 1
                out.append((b, b, 0, bs, 'free', 'segment-lfh'))
        extra = (D.u8(ss + L['lbitmap'] + (count >> 2)) >> ((count & 3) * 2)) & 3
        if nfree != D.u16(ss + L['lfree']) or extra:
            problems.append((ss, 'lfh-bitmap-mismatch'))


def parse_expect(path):
    heaps, cur, keys, peb, unlisted = [], None, {}, None, []
    for line in open(path):
        w = line.split()
        if not w or w[0].startswith('#'):
            continue
        kv = dict(x.split('=', 1) for x in w[1:] if '=' in x)
        if w[0] == 'heap':
            cur = dict(addr=int(w[1], 16), blocks=[], problems=[], totals=None, segs=[],
                       nt=kv.get('kind') != 'segment')
            heaps.append(cur)
        elif w[0] == 'segment':
            cur['segs'].append(int(kv['base'], 16))
        elif w[0] == 'block':
            cur['blocks'].append((int(kv['header'], 16), int(kv['user'], 16), int(kv['size']),
                                  int(kv['block_size']), kv['state'], kv['layer']))
        elif w[0] == 'problem':
            cur['problems'].append((int(w[1], 16), kv['kind']))
        elif w[0] == 'totals':
            cur['totals'] = {k: int(v) for k, v in kv.items()}
        elif w[0] == 'keys':
            keys.update(kv)
        elif w[0] == 'lfh_key':     # the NT heap of a mixed process (ntheap format)
            keys['nt_lfh_key'] = w[1]
        elif w[0] == 'peb':
            peb = (int(w[1], 16), int(kv['heaps']))
        elif w[0] == 'unlisted':
            unlisted.append(int(w[1], 16))
    return heaps, keys, peb, unlisted


def totals_of(blocks):
    t = dict(busy_count=0, busy_bytes=0, free_count=0, free_bytes=0, internal_count=0,
             corrupt_count=0, large_count=0, blocks=len(blocks))
    for b in blocks:
        if b[4] == 'busy':
            t['busy_count'] += 1
            t['busy_bytes'] += b[2]
        elif b[4] == 'free':
            t['free_count'] += 1
            t['free_bytes'] += b[3]
        else:
            t[b[4] + '_count'] += 1
        if b[5] == 'segment-large':
            t['large_count'] += 1
    return t


def verify(mk, scen, tmp, n=None):
    dmp, exp = os.path.join(tmp, scen + '.dmp'), os.path.join(tmp, scen + '.expect')
    args = [mk, scen, dmp, exp] if n is None else [mk, scen, str(n), dmp, exp]
    subprocess.run(args, check=True)
    D = Dump(dmp)
    L, wow = layout_for(scen)
    W = Walker(D, L, wow)
    heaps, keys, peb, unlisted = parse_expect(exp)
    pebva, hl = W.heaps()
    check((pebva, len(hl)) == peb, '%s: PEB/heap count %r vs %r' % (scen, (pebva, len(hl)), peb))
    check([h['addr'] for h in heaps if h['addr'] not in unlisted] == hl, '%s: heap list' % scen)
    for u in unlisted:     # not in ProcessHeaps, but a segment heap header is there
        check(u not in hl and D.u32(u + L['sig']) == 0xDDEEDDEE, '%s: unlisted heap %#x' % (scen, u))
    # HeapKey: from the first page segment, the same on every good one
    H0 = hl[0]
    cx0, seg0 = next((cx, sg) for _, cx in W.contexts(H0) for sg in W.segments(cx))
    heap_key = W.recover_heap_key(seg0, cx0)
    check(heap_key == int(keys['heap_key'], 16), '%s: HeapKey %#x' % (scen, heap_key))
    lfh_key = int(keys['lfh_key'], 16)
    g = int(keys['globals'], 16)
    check(D.present(g) == (keys['globals_captured'] == '1'), '%s: globals page presence' % scen)
    if D.present(g):
        check(W.ptr(g) == heap_key, '%s: RtlpHpHeapGlobals.HeapKey' % scen)
        check(D.u32(g + L['globals_lfh']) == lfh_key, '%s: RtlpHpHeapGlobals.LfhKey' % scen)
        # the globals lie in ntdll's .data (PE section table)
        nt = [m for m in D.modules if m[2].lower().endswith('ntdll.dll') and m[0] <= g < m[0] + m[1]]
        check(len(nt) == 1, '%s: globals inside an ntdll module' % scen)
        if nt:
            b = nt[0][0]
            e = b + D.u32(b + 0x3C)
            nsec, opt = D.u16(e + 6), D.u16(e + 0x14)
            secs = [(D.read(e + 0x18 + opt + 40 * i, 8).rstrip(b'\0'), D.u32(e + 0x18 + opt + 40 * i + 12),
                     D.u32(e + 0x18 + opt + 40 * i + 8), D.u32(e + 0x18 + opt + 40 * i + 0x24)) for i in range(nsec)]
            check(any(n == b'.data' and b + rva <= g < b + rva + sz and ch & 0x80000000
                      for n, rva, sz, ch in secs), '%s: globals in writable .data' % scen)
    for h in heaps:
        if h['nt']:     # an NT heap (x64-19045-mixed): the ntheap checker's reader
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'ntheap'))
            import check_ntheap
            NW = check_ntheap.NtWalker(D, check_ntheap.ROWS['x64-19045' if L['ps'] == 8 else 'x86-19045'],
                                      wow, int(keys['nt_lfh_key'], 16))
            blocks = [b[:6] for b in NW.walk(h['addr'])[0]]
            check(sorted(blocks) == sorted(h['blocks']), '%s NT heap %#x: %d decoded blocks vs %d' % (
                scen, h['addr'], len(blocks), len(h['blocks'])))
            t = totals_of(blocks)
            check(all(t[k] == v for k, v in h['totals'].items()), '%s NT heap %#x: totals %r vs %r' % (
                scen, h['addr'], t, h['totals']))
            continue
        blocks, problems = W.walk_heap(h['addr'], heap_key, lfh_key)
        check(sorted(blocks) == sorted(h['blocks']) or (n is not None and n > 200000),
              '%s heap %#x: %d decoded blocks vs %d in .expect; first difference %r' % (
                  scen, h['addr'], len(blocks), len(h['blocks']),
                  sorted(set(blocks) ^ set(h['blocks']))[:3]))
        check(sorted(problems) == sorted(h['problems']),
              '%s heap %#x: problems %r vs %r' % (scen, h['addr'], problems, h['problems']))
        t = totals_of(blocks)
        check(t == h['totals'], '%s heap %#x: totals %r vs %r' % (scen, h['addr'], t, h['totals']))
    return D


def main():
    mk, scens = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        for s in scens:
            verify(mk, s, tmp)
            print('ok', s)
        verify(mk, 'big', tmp, 20000)
        print('ok big 20000')
    if FAILS:
        print('%d failures' % len(FAILS))
        sys.exit(1)


if __name__ == '__main__':
    main()
