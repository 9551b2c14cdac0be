#!/usr/bin/env python3
# Independent check of the page-heap scenarios: decodes each written dump
# with struct (from the MINIDUMP_* documentation and the layouts cited in
# README.md, not from the C builder) and checks it against the facts in
# its .expect file.  Usage: check_pageheap.py BUILDDIR NAME...
import struct
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


class Dump:
    def __init__(self, path):
        d = self.d = open(path, 'rb').read()
        sig, ver, n, dr = struct.unpack_from('<IIII', d, 0)
        check(sig == 0x504D444D, '%s: bad signature' % path)
        self.dirs = {}
        for i in range(n):
            t, sz, rva = struct.unpack_from('<III', d, dr + 12 * i)
            self.dirs.setdefault(t, (sz, rva))
        self.ranges = []
        if 9 in self.dirs:
            _, r = self.dirs[9]
            nr, base = struct.unpack_from('<QQ', d, r)
            for i in range(nr):
                st, ds = struct.unpack_from('<QQ', d, r + 16 + 16 * i)
                self.ranges.append((st, ds, base))
                base += ds
        self.ranges.sort()
        self.modules = []
        if 4 in self.dirs:
            _, r = self.dirs[4]
            nm, = struct.unpack_from('<I', d, r)
            for i in range(nm):
                base, size = struct.unpack_from('<QI', d, r + 4 + 108 * i)
                self.modules.append((base, size))
        self.threads = []
        if 3 in self.dirs:
            _, r = self.dirs[3]
            nt, = struct.unpack_from('<I', d, r)
            for i in range(nt):
                f = struct.unpack_from('<IIIIQQIIII', d, r + 4 + 48 * i)
                self.threads.append({'id': f[0], 'teb': f[4], 'ctx': d[f[9]:f[9] + f[8]]})
        self.arch = struct.unpack_from('<H', d, self.dirs[7][1])[0] if 7 in self.dirs else None

    def present(self, va, n=1):
        for st, ds, off in self.ranges:
            if st <= va and va + n <= st + ds:
                return True
        return False

    def read(self, va, n):
        for st, ds, off in self.ranges:
            if st <= va and va + n <= st + ds:
                return self.d[off + va - st:off + va - st + n]
        raise KeyError('0x%x+%d not captured' % (va, n))

    def u8(self, va): return self.read(va, 1)[0]
    def u16(self, va): return struct.unpack('<H', self.read(va, 2))[0]
    def u32(self, va): return struct.unpack('<I', self.read(va, 4))[0]
    def u64(self, va): return struct.unpack('<Q', self.read(va, 8))[0]


def parse_expect(path):
    out = []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        w = line.split()
        kv = {}
        for t in w[1:]:
            if '=' in t:
                k, v = t.split('=', 1)
                kv[k] = v
            else:
                kv.setdefault('_', []).append(t)
        out.append((w[0], kv))
    return out


def num(s):
    return int(s, 0)


# Offsets (README.md "Sources"): x64 / x86
LAY = {
    8: dict(h_flags=0x70, h_force=0x74, h_enc=0x88, unit=16, r_busy=0x38, r_fhead=0xB8,
            r_next=0x138, r_normal=0x150, bl_left=8, bl_right=0x10, n_user=0x20, n_virt=0x28,
            n_vsize=0x30, n_asize=0x38, n_req=0x40, n_trace=0x60, i_size=0x40, i_start=0,
            i_heap=8, i_req=0x10, i_trace=0x30, i_end=0x3C, t_index=0xC, t_depth=0xE, t_bt=0x10,
            d_index=0xB8, d_commit=0x88, s_first=0x40, s_last=0x48, v_commit=0x20,
            ub_bitmap=0x20, ub_bitmapdata=0x30, teb_base=8, teb_limit=0x10,
            regs=(0x78, 0x80, 0x88, 0x90, 0x98, 0xA0, 0xA8, 0xB0, 0xF8)),
    4: dict(h_flags=0x40, h_force=0x44, h_enc=0x50, unit=8, r_busy=0x20, r_fhead=0x64,
            r_next=0xA4, r_normal=0xB4, bl_left=4, bl_right=8, n_user=0x10, n_virt=0x14,
            n_vsize=0x18, n_asize=0x1C, n_req=0x20, n_trace=0x30, i_size=0x20, i_start=0,
            i_heap=4, i_req=8, i_trace=0x18, i_end=0x1C, t_index=8, t_depth=0xA, t_bt=0xC,
            d_index=0x64, d_commit=0x48, s_first=0x24, s_last=0x28, v_commit=0x10,
            ub_bitmap=0x14, ub_bitmapdata=0x1C, teb_base=4, teb_limit=8,
            regs=(0xB0, 0xAC, 0xA8, 0xA4, 0xC4, 0xB4, 0xA0, 0x9C, 0xB8)),
}


def check_scenario(bdir, name):
    D = Dump('%s/%s.dmp' % (bdir, name))
    E = parse_expect('%s/%s.expect' % (bdir, name))
    head = E[0][1]
    arch = head['arch']
    ps = 8 if arch == 'x64' else 4
    Ly = LAY[ps]
    ptr = D.u64 if ps == 8 else D.u32
    who = name
    mods = [kv for k, kv in E if k == 'module']
    stacks = {num(kv['id']): kv for k, kv in E if k == 'stack'}
    frames = [kv for k, kv in E if k == 'frame']
    blocks = [kv for k, kv in E if k == 'block']
    dphs = [kv for k, kv in E if k == 'dph']
    ust = [kv for k, kv in E if k == 'ust']
    # modules: listed in the dump (WOW64 lists SysWOW64 ntdll itself)
    for m in mods:
        check(any(b == num(m['base']) for b, s in D.modules),
              '%s: module %s not in the module list' % (who, m['name']))
        check(D.read(num(m['base']), 2) == b'MZ', '%s: module %s image not captured' % (who, m['name']))

    def modof(a):
        for m in mods:
            b = num(m['base'])
            if b <= a < b + num(m['size']):
                return m['name'], a - b
        return None, None

    # stacks and the trace database
    for f in frames:
        a = num(f['addr'])
        mn, off = modof(a)
        if f['module'] == '-':
            check(mn is None, '%s: frame %s is inside %s' % (who, f['addr'], mn))
        else:
            check(mn == f['module'] and off == num(f['offset']),
                  '%s: frame %s is %s+%s, expect says %s' % (who, f['addr'], mn, off, f['text']))
        e = num(stacks[num(f['stack'])]['entry'])
        if e:
            check(ptr(e + Ly['t_bt'] + ps * num(f['n'])) == a,
                  '%s: stack %s frame %s: BackTrace differs' % (who, f['stack'], f['n']))
    for u in ust:
        db = num(u['db'])
        check(ptr(db + Ly['d_commit']) == db, '%s: db CommitBase != db' % who)
        top = ptr(db + Ly['d_index'])
        check(top == num(u['index_array']), '%s: EntryIndexArray' % who)
        for sid, s in stacks.items():
            idx = num(s['index'])
            if not idx:
                continue
            e = num(s['entry'])
            check(ptr(top - ps * idx) == e, '%s: EntryIndexArray[-%d] != entry' % (who, idx))
            check(D.u16(e + Ly['t_index']) == idx and D.u16(e + Ly['t_depth']) == num(s['depth']),
                  '%s: trace entry %d Index/Depth' % (who, idx))

    def stack_entry(sid):
        return num(stacks[int(sid)]['entry'])

    # page heaps
    for dp in dphs:
        h, root = num(dp['handle']), num(dp['root'])
        check(root == h + 0x1000, '%s: root != handle + page' % who)
        check(D.u32(h + Ly['h_flags']) & 0x01000000 and D.u32(h + Ly['h_force']) & 0x01000000,
              '%s: fake heap flags' % who)
        check(D.u32(root) == 0xFFEEDDCC, '%s: DPH signature' % who)
        check(ptr(root + Ly['r_normal']) == num(dp['normal']), '%s: NormalHeap' % who)
        mine = [b for b in blocks if b['layer'] == 'page-heap' and num(b['heap']) == h]
        if dp['kind'] == 'full':
            # in-order walk of BusyNodesTable (BalancedRoot.RightChild)
            seen, stack, n = [], [], ptr(root + Ly['r_busy'] + Ly['bl_right'])
            guard = 0
            while (stack or n) and guard < 1000:
                guard += 1
                while n:
                    stack.append(n)
                    n = ptr(n + Ly['bl_left'])
                n = stack.pop()
                seen.append(n)
                n = ptr(n + Ly['bl_right'])
            busy = sorted((b for b in mine if b['state'] == 'busy'), key=lambda b: num(b['user']))
            check([ptr(x + Ly['n_user']) for x in seen] == [num(b['user']) for b in busy],
                  '%s: AVL busy nodes of %s differ' % (who, dp['handle']))
            freed, n, guard = [], ptr(root + Ly['r_fhead']), 0
            while n and guard < 1000:
                freed.append(n)
                n = ptr(n)
                guard += 1
            fb = [b for b in mine if b['state'] == 'free']
            check(sorted(ptr(x + Ly['n_user']) for x in freed) == sorted(num(b['user']) for b in fb),
                  '%s: free list of %s differs' % (who, dp['handle']))
            for b in mine:
                node = num(b['node'])
                check(ptr(node + Ly['n_virt']) == num(b['virt']) and
                      ptr(node + Ly['n_vsize']) == num(b['virt_size']) and
                      ptr(node + Ly['n_asize']) == num(b['access']) and
                      ptr(node + Ly['n_req']) == num(b['size']),
                      '%s: node %s fields' % (who, b['node']))
                u = num(b['user'])
                check(num(b['virt']) <= u - Ly['i_size'] and
                      u + num(b['size']) <= num(b['virt']) + num(b['access']),
                      '%s: block %s outside its access range' % (who, b['user']))
                tr = b.get('free_stack') if b['state'] == 'free' else b.get('alloc_stack')
                if tr is not None:
                    check(ptr(node + Ly['n_trace']) == stack_entry(tr), '%s: node trace %s' % (who, b['user']))
                info = u - Ly['i_size']
                if D.present(info, Ly['i_size']):
                    busy_ = b['state'] == 'busy'
                    check(D.u32(info) == (0xABCDBBBB if busy_ else 0xABCDBBBA) and
                          D.u32(info + Ly['i_end']) == (0xDCBABBBB if busy_ else 0xDCBABBBA),
                          '%s: stamps of %s' % (who, b['user']))
                    check(ptr(info + Ly['i_req']) == num(b['size']), '%s: RequestedSize %s' % (who, b['user']))
                    if 'alloc_stack' in b:
                        check(ptr(info + Ly['i_trace']) == stack_entry(b['alloc_stack']),
                              '%s: block info trace %s' % (who, b['user']))
                    end = num(b['virt']) + num(b['access'])
                    if busy_ and u + num(b['size']) < end:
                        check(D.read(u + num(b['size']), end - u - num(b['size'])) ==
                              b'\xd0' * (end - u - num(b['size'])), '%s: suffix fill %s' % (who, b['user']))
                else:
                    check(b['state'] == 'free' and 'alloc_stack' not in b,
                          '%s: %s not captured but expect gives an alloc stack' % (who, b['user']))
        else:
            for b in mine:
                info = num(b['user']) - Ly['i_size']
                busy_ = b['state'] == 'busy'
                check(D.u32(info) == (0xABCDAAAA if busy_ else 0xABCDAAA9) and
                      D.u32(info + Ly['i_end']) == (0xDCBAAAAA if busy_ else 0xDCBAAAA9),
                      '%s: light stamps of %s' % (who, b['user']))
                check(num(b['nt_user']) == info, '%s: light nt_user' % who)
    for k, kv in E:
        if k == 'dph_list':
            head_ = num(kv['head'])
            n, cnt = ptr(head_), 0
            while n != head_ and cnt < 100:
                check(D.u32(n - Ly['r_next']) == 0xFFEEDDCC, '%s: dph list node' % who)
                n, cnt = ptr(n), cnt + 1
            check(cnt == num(kv['count']), '%s: dph list count %d' % (who, cnt))

    # NT heaps: decode every back-end entry of each segment
    heaps = [kv for k, kv in E if k == 'heap']
    segs = [kv for k, kv in E if k == 'segment']
    unit = Ly['unit']
    for h, s in zip(heaps, segs):
        H = num(h['_'][0])
        key = D.u64(H + Ly['h_enc']) if ps == 8 else D.u32(H + Ly['h_enc'])
        e, last = H, num(s['last'])
        got = []
        broken = {num(b['header']) for b in blocks if 'corrupt' in b}
        for k2, kv2 in E:
            if k2 == 'corrupt':
                broken.add(num(kv2['_'][0]))
        while e < last:
            raw = D.u64(e + (8 if ps == 8 else 0)) ^ key
            b = raw.to_bytes(8, 'little')
            if e in broken:
                check(b[3] != b[0] ^ b[1] ^ b[2], '%s: 0x%x should be corrupt' % (who, e))
            else:
                check(b[3] == b[0] ^ b[1] ^ b[2], '%s: checksum at 0x%x' % (who, e))
            size = (b[0] | b[1] << 8) * unit
            if size == 0:
                failures.append('%s: zero size at 0x%x' % (who, e))
                break
            got.append((e, size, b[2], b[7]))
            e += size
        exp = [b for b in blocks if num(b['heap']) == H and b['layer'] == 'backend']
        light = {num(b['header']): b for b in blocks if b.get('kind') == 'light' and num(b['normal']) == H}
        exph = {num(b['header']): b for b in exp}
        exph.update(light)
        check(sorted(exph) == [g[0] for g in got], '%s: heap 0x%x entries differ' % (who, H))
        for ent, size, fl, unused in got:
            b = exph.get(ent)
            if not b:
                continue
            check(num(b['block_size']) == size, '%s: 0x%x size' % (who, ent))
            if b.get('kind') == 'light':
                check(fl & 1 and size - unused == num(b['nt_size']), '%s: light NT block 0x%x' % (who, ent))
            elif b['state'] == 'busy':
                check(fl & 1 and size - unused == num(b['size']), '%s: busy 0x%x' % (who, ent))
                if 'trace_index' in b:
                    check(fl & 2 and D.u16(ent + size - (16 if ps == 8 else 8)) == num(b['trace_index']),
                          '%s: trace index of 0x%x' % (who, ent))
            elif b['state'] == 'internal':
                check(fl & 9 == 9, '%s: container 0x%x' % (who, ent))
                ub = ent + unit
                check(D.u32(ub + (0x14 if ps == 8 else 0xC)) == 0xF0E0D0C0, '%s: UserBlocks sig' % who)
            else:
                check(not fl & 1, '%s: free 0x%x' % (who, ent))
    # LFH blocks: the bitmap bit of each expected block
    for b in blocks:
        if b['layer'] != 'lfh':
            continue
        hdr = num(b['header'])
        cont = [c for c in blocks if c['state'] == 'internal' and
                num(c['user']) <= hdr < num(c['header']) + num(c['block_size'])]
        if len(cont) != 1:
            failures.append('%s: no container for 0x%x' % (who, hdr))
            continue
        ub = num(cont[0]['user'])
        bmdata = ptr(ub + Ly['ub_bitmap'] + ps)
        nbits = ptr(ub + Ly['ub_bitmap'])
        # block index from the stride (blocks of one container are equal)
        sib = sorted(num(c['header']) for c in blocks if c['layer'] == 'lfh' and
                     num(cont[0]['user']) <= num(c['header']) < num(cont[0]['header']) + num(cont[0]['block_size']))
        i = sib.index(hdr)
        check(nbits == len(sib), '%s: bitmap size' % who)
        bit = (D.u8(bmdata + i // 8) >> (i % 8)) & 1
        if 'corrupt' not in b:
            check(bit == (1 if b['state'] == 'busy' else 0), '%s: LFH bit of 0x%x' % (who, hdr))
    # virtual blocks
    for b in blocks:
        if b['layer'] == 'virtual':
            v = num(b['header'])
            check(ptr(v + Ly['v_commit']) == num(b['block_size']), '%s: virtual commit' % who)
    # threads
    for k, kv in E:
        if k == 'thread':
            teb = num(kv['teb'])
            check(ptr(teb + Ly['teb_base']) == num(kv['stack_base']) and
                  ptr(teb + Ly['teb_limit']) == num(kv['stack_limit']), '%s: TEB stack' % who)
    # find lines: the address is inside the block's range
    for k, kv in E:
        if k != 'find':
            continue
        a = num(kv['addr'])
        b = [x for x in blocks if x['user'] == kv['user']][0]
        if b.get('kind') == 'full':
            check(num(b['virt']) <= a < num(b['virt']) + num(b['virt_size']), '%s: find %s' % (who, kv['addr']))
        else:
            check(num(b['header']) <= a < num(b['header']) + num(b['block_size']), '%s: find %s' % (who, kv['addr']))
    # leaks, computed here independently of the builder's own computation
    leaks = [kv for k, kv in E if k == 'leak']
    if any(k == 'leaks' for k, kv in E):
        heapmem = []
        for s in segs:
            heapmem.append((num(s['base']), num(s['last'])))
        for b in blocks:
            if b['layer'] == 'virtual':
                heapmem.append((num(b['header']), num(b['header']) + num(b['block_size'])))
            if b.get('kind') == 'full':
                heapmem.append((num(b['virt']), num(b['virt']) + num(b['virt_size'])))
        for dp in dphs:
            heapmem.append((num(dp['handle']), num(dp['handle']) + 0x6000))
        cand = [(num(b['user']), num(b['size'])) for b in blocks
                if b['state'] == 'busy' and 'meta' not in b and num(b['size'])]
        cand.sort()
        starts = [c[0] for c in cand]
        import bisect
        reach = set()
        work = []

        def mark(v):
            i = bisect.bisect_right(starts, v) - 1
            if i >= 0 and v < cand[i][0] + cand[i][1] and i not in reach:
                reach.add(i)
                work.append(i)

        for st, ds, off in D.ranges:
            for lo, hi in sorted(heapmem):
                pass
            a = st
            while a + ps <= st + ds:
                if not any(lo <= a < hi for lo, hi in heapmem):
                    mark(struct.unpack_from('<Q' if ps == 8 else '<I', D.d, off + a - st)[0])
                a += ps
        for t in D.threads:
            # x86 CONTEXT: 4-byte registers; WOW64 dumps hold AMD64 contexts
            cps = 4 if arch == 'x86' else 8
            for o in Ly['regs'] if arch != 'wow64' else LAY[8]['regs']:
                if o + cps <= len(t['ctx']):
                    v = struct.unpack_from('<Q' if cps == 8 else '<I', t['ctx'], o)[0]
                    mark(v & (0xFFFFFFFF if ps == 4 else ~0))
        while work:
            i = work.pop()
            u, n = cand[i]
            for a in range(u, u + n - ps + 1, ps):
                mark(ptr(a))
        got = sorted(cand[i][0] for i in range(len(cand)) if i not in reach)
        check(got == sorted(num(x['user']) for x in leaks),
              '%s: leaks differ: computed %s' % (who, [hex(x) for x in got]))


def check_big(bdir, name):
    import bisect
    D = Dump('%s/%s.dmp' % (bdir, name))
    E = parse_expect('%s/%s.expect' % (bdir, name))
    big = [kv for k, kv in E if k == 'big'][0]
    H, seg, n = num(big['heap']), num(big['segment_size']), num(big['entries'])
    key = D.u64(H + 0x88)
    e, ents = H, []
    while e < H + seg:
        b = (D.u64(e + 8) ^ key).to_bytes(8, 'little')
        if b[3] != b[0] ^ b[1] ^ b[2] or not (b[0] | b[1] << 8):
            failures.append('%s: bad entry at 0x%x' % (name, e))
            return
        size = (b[0] | b[1] << 8) * 16
        ents.append((e, size, b[2] & 1, size - b[7] if b[2] & 1 else 0))
        e += size
    body = ents[1:1 + n]
    busy = [x for x in body if x[2]]
    check(len(body) == n and len(busy) == num(big['busy']) and
          sum(x[3] for x in busy) == num(big['busy_bytes']) and
          len(body) - len(busy) == num(big['free']), '%s: entry counts' % name)
    check(all(not x[2] for x in ents[1 + n:]), '%s: tail not free' % name)
    for k, kv in E:
        if k == 'block':
            x = [t for t in ents if t[0] == num(kv['header'])]
            check(x and x[0][1] == num(kv['block_size']) and x[0][3] == num(kv['size']),
                  '%s: block %s' % (name, kv['header']))
    cand = [(x[0] + 16, x[3]) for x in busy]
    starts = [c[0] for c in cand]
    reach, work = set(), []

    def scan(buf):
        for (v,) in struct.iter_unpack('<Q', buf[:len(buf) // 8 * 8]):
            if H <= v < H + seg:
                i = bisect.bisect_right(starts, v) - 1
                if i >= 0 and v < cand[i][0] + cand[i][1] and i not in reach:
                    reach.add(i)
                    work.append(i)

    for st, ds, off in D.ranges:
        if st + ds <= H or st >= H + seg:
            scan(D.d[off:off + ds])
    while work:
        u, sz = cand[work.pop()]
        scan(D.read(u, sz))
    leaked = {cand[i][0] for i in range(len(cand)) if i not in reach}
    total = [kv for k, kv in E if k == 'leaks'][0]
    check(len(leaked) == num(total['count']), '%s: %d leaked, expect %s' % (name, len(leaked), total['count']))
    for k, kv in E:
        if k == 'leak':
            check(num(kv['user']) in leaked, '%s: %s not leaked' % (name, kv['user']))


def main():
    bdir = sys.argv[1]
    for name in sys.argv[2:]:
        try:
            if name.startswith('big'):
                check_big(bdir, name)
            else:
                check_scenario(bdir, name)
        except Exception as e:  # a decode error is a failure, with its cause
            failures.append('%s: %r' % (name, e))
    for f in failures:
        print('FAIL', f)
    print('%d scenarios, %d failures' % (len(sys.argv) - 2, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
