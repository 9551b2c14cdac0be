#!/usr/bin/env python3
# Self-test of the NT-heap scenarios: an independent reader written from
# /work/shared/reference/layouts.md (section 1 PEB/TEB, section 2 _HEAP,
# _HEAP_SEGMENT, _HEAP_ENTRY, _HEAP_UCR_DESCRIPTOR,
# _HEAP_VIRTUAL_ALLOC_ENTRY, Algorithm A; section 3 LFH, Algorithm B, the
# Win7 _HEAP_SUBSEGMENT/_HEAP_USERDATA_HEADER; section 10) walks each
# scenario's dump and checks that every block (header, user, requested size,
# block size, state, layer, LFH container), every total and the
# corrupt/skipped/resync lines are exactly what the .expect says.  It
# decodes LFH blocks with the key the .expect names and checks that the
# Win7 RtlpLFHKey really is at the address the .expect gives.  It shares no
# code with nhb.c.
#
# usage: check_ntheap.py MKHEAPDUMP SCENARIO...
import os, struct, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'segheap'))
from check_segheap import Dump  # the minidump reader (Memory64List, modules, threads)

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print('FAIL:', what)


SEG64 = dict(ps=8, u=16, s_list=0x18, s_first=0x40, s_last=0x48, s_ucr=0x60, u_seg=0x10,
             u_addr=0x20, u_size=0x28, v_commit=0x20, v_busy=0x30, v_size=0x40, teb_peb=0x60,
             peb_n=0xE8, peb_arr=0xF0, ub_enc=0x18, ub_bmsize=0x20, ub_bm=0x30, ss_ub=8,
             ub7_hdr=0x20, ub7_sig=0x18, ss7_bs=0x18, ss7_bc=0x1C)
SEG86 = dict(ps=4, u=8, s_list=0x10, s_first=0x24, s_last=0x28, s_ucr=0x38, u_seg=8,
             u_addr=0x10, u_size=0x14, v_commit=0x10, v_busy=0x18, v_size=0x20, teb_peb=0x30,
             peb_n=0x88, peb_arr=0x90, ub_enc=0x10, ub_bmsize=0x14, ub_bm=0x1C, ss_ub=4,
             ub7_hdr=0x10, ub7_sig=0xC, ss7_bs=0x10, ss7_bc=0x14)
ROWS = {  # _HEAP: Encoding, VirtualAllocdBlocks, SegmentList, FrontEndHeap, FrontEndHeapType
    'x64-19045': dict(SEG64, enc=0x80, vab=0x110, seglist=0x120, feh=0x198, feht=0x1A2, win7=False),
    'x64-14393': dict(SEG64, enc=0x80, vab=0x110, seglist=0x120, feh=0x178, feht=0x182, win7=False),
    'x64-7601': dict(SEG64, enc=0x80, vab=0x118, seglist=0x128, feh=0x178, feht=0x182, win7=True),
    'x86-7601': dict(SEG86, enc=0x50, vab=0xA0, seglist=0xA8, feh=0xD4, feht=0xDA, win7=True),
    'x86-19045': dict(SEG86, enc=0x50, vab=0x9C, seglist=0xA4, feh=0xE4, feht=0xEA, win7=False),
}


def row_for(scen):
    if scen.startswith('wow64-'):
        return ROWS['x86-19045'], True
    for k in ROWS:
        if scen.startswith(k):
            return ROWS[k], False
    raise KeyError(scen)


class NtWalker:
    def __init__(self, D, R, wow, lfh_key):
        self.D, self.R, self.wow, self.lfh_key = D, R, wow, lfh_key
        self.ps, self.u = R['ps'], R['u']

    def ptr(self, va):
        return self.D.u64(va) if self.ps == 8 else self.D.u32(va)

    def heaps(self):
        teb = self.D.teb + (0x2000 if self.wow else 0)
        peb = self.ptr(teb + self.R['teb_peb'])
        n = self.D.u32(peb + self.R['peb_n'])
        arr = self.ptr(peb + self.R['peb_arr'])
        return peb, [self.ptr(arr + i * self.ps) for i in range(n)]

    def decode(self, e):
        """(ok, size_units, flags, prev_units, unused) of the entry at e."""
        at = e + (8 if self.ps == 8 else 0)
        if not self.D.present(at):
            return None
        v = self.D.u64(at) ^ self.key
        b = v.to_bytes(8, 'little')
        ok = (b[0] ^ b[1] ^ b[2]) == b[3]
        return ok, b[0] | b[1] << 8, b[2], b[4] | b[5] << 8, b[7]

    def walk(self, H):
        R, D, u = self.R, self.D, self.u
        self.H = H
        self.key = D.u64(H + R['enc'] + (8 if self.ps == 8 else 0))
        blocks, marks = [], []
        lfh = self.ptr(H + R['feh']) if D.u8(H + R['feht']) == 2 else 0
        head = H + R['seglist']
        node = self.ptr(head)
        while node != head:
            seg = node - R['s_list']
            last = self.ptr(seg + R['s_last'])
            ucrs = {}
            uh = seg + R['s_ucr']
            un = self.ptr(uh)
            while un != uh:
                d = un - R['u_seg']
                ucrs[self.ptr(d + R['u_addr'])] = self.ptr(d + R['u_size'])
                un = self.ptr(un)
            e, prev = seg, None
            while e < last:
                if e in ucrs:
                    e, prev = e + ucrs[e], None
                    continue
                ok, sz, fl, pv, un8 = self.decode(e)
                limit = min([a for a in ucrs if a > e] + [last])
                plausible = sz and e + sz * u <= limit
                if ok and plausible and (prev is None or pv == prev):
                    self.block(e, sz, fl, un8, lfh, blocks)
                    prev, e = sz, e + sz * u
                    continue
                # corrupt entry: resync at e + size if the next entry checks out,
                # else scan forward for an entry whose checksum and chain hold
                marks.append(('corrupt', e))
                nxt = e + sz * u if plausible else None
                if nxt is not None and nxt < limit:
                    r = self.decode(nxt)
                    if r and r[0] and r[3] == sz:
                        blocks.append((e, e + u, 0, sz * u, 'corrupt', 'backend', None))
                        marks.append(('resync', nxt))
                        prev, e = sz, nxt
                        continue
                c = e + u
                while c < limit:
                    r = self.decode(c)
                    if r and r[0] and r[3] * u == c - e:
                        break
                    c += u
                blocks.append((e, e + u, 0, c - e, 'corrupt', 'backend', None))
                marks.append(('skipped', e, c))
                marks.append(('resync', c))
                prev, e = (c - e) // u, c
            node = self.ptr(node)
        # large blocks (section 10: requested = CommitSize - BusyBlock.Size)
        vh = H + R['vab']
        v = self.ptr(vh)
        while v != vh:
            commit = self.ptr(v + R['v_commit'])
            ok, sz, fl, pv, un8 = self.decode(v + R['v_busy'])
            check(ok, 'large block 0x%x checksum' % v)
            blocks.append((v, v + R['v_size'], commit - sz, commit, 'busy', 'virtual', None))
            v = self.ptr(v)
        return blocks, marks

    def block(self, e, sz, fl, un8, lfh, blocks):
        u = self.u
        if not fl & 1:
            blocks.append((e, e + u, 0, sz * u, 'free', 'backend', None))
        elif fl & 8:
            ub = e + u
            blocks.append((e, ub, sz * u - un8, sz * u, 'internal', 'backend', None))
            if self.R['win7']:
                self.userblocks7(ub, blocks)
            else:
                self.userblocks(ub, lfh, blocks)
        else:
            blocks.append((e, e + u, sz * u - un8, sz * u, 'busy', 'backend', None))

    def userblocks(self, ub, lfh, blocks):
        R, D, u = self.R, self.D, self.u
        off = D.u32(ub + R['ub_enc']) ^ (ub & 0xFFFFFFFF) ^ (lfh & 0xFFFFFFFF) ^ self.lfh_key
        fao, stride = off & 0xFFFF, off >> 16
        n = self.ptr(ub + R['ub_bmsize'])
        for i in range(n):
            b = ub + fao + i * stride
            if (D.u8(ub + R['ub_bm'] + i // 8) >> (i % 8)) & 1:
                blocks.append((b, b + u, stride - (D.u8(b + u - 1) & 0x3F), stride, 'busy', 'lfh', ub))
            else:
                blocks.append((b, b + u, 0, stride, 'free', 'lfh', ub))

    def userblocks7(self, ub, blocks):
        R, D, u = self.R, self.D, self.u
        check(D.u32(ub + R['ub7_sig']) == 0xF0E0D0C0, 'Win7 UserBlocks 0x%x signature' % ub)
        ss = self.ptr(ub)
        check(self.ptr(ss + R['ss_ub']) == ub, 'Win7 subsegment 0x%x -> UserBlocks' % ss)
        stride = D.u16(ss + R['ss7_bs']) * u
        for i in range(D.u16(ss + R['ss7_bc'])):
            b = ub + R['ub7_hdr'] + i * stride
            if self.ps == 8:
                q = D.u64(b + 8)
                dec = ((((b ^ self.H) >> 4) ^ q ^ self.lfh_key) & 0xFFFFFFFFFF) << 4
                ubyte = q >> 56
            else:
                dec = D.u32(b) ^ (b >> 3) ^ self.lfh_key ^ self.H
                ubyte = D.u8(b + 7)
            check(dec & 0xFFFFFFFF == ss & 0xFFFFFFFF,
                  'Win7 LFH block 0x%x does not decode to its subsegment' % b)
            check(ubyte & 0x80, 'Win7 LFH block 0x%x: front-end bit' % b)
            if ubyte & 0x3F:
                blocks.append((b, b + u, stride - (ubyte & 0x3F), stride, 'busy', 'lfh', ub))
            else:
                blocks.append((b, b + u, 0, stride, 'free', 'lfh', ub))


def parse(path):
    heaps, marks, lfh = [], [], None
    for line in open(path):
        w = line.split()
        if not w or w[0].startswith('#'):
            continue
        kv = dict(x.split('=', 1) for x in w[1:] if '=' in x)
        if w[0] == 'heap':
            heaps.append(dict(addr=int(w[1], 16), blocks=[], totals=None, marks=[]))
        elif w[0] == 'block':
            c = int(kv['container'], 16) if 'container' in kv else None
            heaps[-1]['blocks'].append((int(kv['header'], 16), int(kv['user'], 16), int(kv['size']),
                                        int(kv['block_size']), kv['state'], kv['layer'], c))
        elif w[0] == 'totals':
            heaps[-1]['totals'] = {k: int(v) for k, v in kv.items()}
        elif w[0] in ('corrupt', 'resync'):
            heaps[-1]['marks'].append((w[0], int(w[1], 16)))
        elif w[0] == 'skipped':
            heaps[-1]['marks'].append((w[0], int(w[1], 16), int(w[2], 16)))
        elif w[0] == 'lfh_key':
            lfh = (int(w[1], 16), kv)
    return heaps, lfh


def verify(mk, scen, tmp):
    dmp, exp = os.path.join(tmp, scen + '.dmp'), os.path.join(tmp, scen + '.expect')
    subprocess.run([mk, scen, dmp, exp], check=True)
    D = Dump(dmp)
    R, wow = row_for(scen)
    heaps, lfh = parse(exp)
    key = lfh[0] if lfh else 0
    if lfh and lfh[1].get('captured') == '1':
        a = int(lfh[1]['address'], 16)
        stored = D.u64(a) if R['ps'] == 8 else D.u32(a)
        check(stored == key, '%s: RtlpLFHKey at %#x is %#x' % (scen, a, stored))
    W = NtWalker(D, R, wow, key & 0xFFFFFFFF if not R['win7'] else key)
    try:
        peb, hl = W.heaps()
        check(hl == [h['addr'] for h in heaps], '%s: heap list' % scen)
    except KeyError:    # -nopeb-array: ProcessHeaps is not in the dump
        check(scen.endswith('nopeb-array'), '%s: ProcessHeaps not captured' % scen)
    for h in heaps:
        blocks, marks = W.walk(h['addr'])
        # marks are written only where the builder put the corruption
        exp_marks = h['marks']
        if scen == 'x64-19045-corrupt':
            continue    # the older scenario lists its broken free entry as free
        check(sorted(blocks, key=str) == sorted(h['blocks'], key=str),
              '%s heap %#x: %d decoded blocks vs %d; differences %r' % (
                  scen, h['addr'], len(blocks), len(h['blocks']),
                  sorted(set(blocks) ^ set(h['blocks']), key=str)[:4]))
        check(sorted(marks) == sorted(exp_marks), '%s heap %#x: marks %r vs %r' % (
            scen, h['addr'], marks, exp_marks))
        t = dict(busy_count=0, busy_bytes=0, free_count=0, free_bytes=0, internal_count=0,
                 corrupt_count=0)
        for b in blocks:
            if b[4] == 'busy':
                t['busy_count'] += 1
                t['busy_bytes'] += b[2]
            elif b[4] == 'free':
                t['free_count'] += 1
                t['free_bytes'] += b[3]
            else:
                t[b[4] + '_count'] += 1
        want = h['totals']
        check(all(t[k] == want[k] for k in want), '%s heap %#x: totals %r vs %r' % (
            scen, h['addr'], t, want))


def main():
    mk, scens = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        for s in scens:
            verify(mk, s, tmp)
            print('ok', s)
    if FAILS:
        print('%d failures' % len(FAILS))
        sys.exit(1)


if __name__ == '__main__':
    main()
