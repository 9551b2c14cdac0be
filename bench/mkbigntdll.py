#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mkbigntdll.py IN OUT SIZE [data]: a copy of minidump IN whose ntdll image is SIZE
bytes, every byte of it captured (a Memory64 range appended after the
dump's own ranges, which keep the bytes they hold; the rest random).
DATA: also make ntdll's last section (.data) run to the end of the image."""
import os, struct, sys
src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
grow_data = len(sys.argv) > 4
b = bytearray(open(src, 'rb').read())
nstreams, dir_rva = struct.unpack_from('<II', b, 8)
streams = {}
for i in range(nstreams):
    t, sz, rva = struct.unpack_from('<III', b, dir_rva + 12 * i)
    streams.setdefault(t, (i, sz, rva))
# ranges: (va, size, file offset)
ranges = []
if 5 in streams:
    _, _, rva = streams[5]
    n, = struct.unpack_from('<I', b, rva)
    for k in range(n):
        va, sz, r = struct.unpack_from('<QII', b, rva + 4 + 16 * k)
        ranges.append((va, sz, r))
m64 = []
_, _, rva64 = streams[9]
n64, base = struct.unpack_from('<QQ', b, rva64)
off = base
for k in range(n64):
    va, sz = struct.unpack_from('<QQ', b, rva64 + 16 + 16 * k)
    m64.append((va, sz, off))
    ranges.append((va, sz, off))
    off += sz
def foff(va):
    for s, z, o in ranges:
        if s <= va < s + z:
            return o + (va - s)
    raise SystemExit('0x%x not captured' % va)
# ntdll in the module list
_, _, mrva = streams[4]
nm, = struct.unpack_from('<I', b, mrva)
nt = None
for k in range(nm):
    e = mrva + 4 + 108 * k
    mb, ms, _, _, namerva = struct.unpack_from('<QIIII', b, e)
    ln, = struct.unpack_from('<I', b, namerva)
    name = b[namerva + 4:namerva + 4 + ln].decode('utf-16le')
    if name.lower().endswith('\\ntdll.dll'):
        nt = (e, mb)
e, ntbase = nt
struct.pack_into('<I', b, e + 8, size)
if grow_data:
    lfanew, = struct.unpack_from('<I', b, foff(ntbase + 0x3C))
    pe = foff(ntbase + lfanew)
    nsec, = struct.unpack_from('<H', b, pe + 6)
    opt, = struct.unpack_from('<H', b, pe + 20)
    last = pe + 24 + opt + 40 * (nsec - 1)
    rva, = struct.unpack_from('<I', b, last + 12)
    if rva >= size:
        raise SystemExit('SIZE 0x%x: the last section starts at 0x%x' % (size, rva))
    struct.pack_into('<I', b, last + 8, size - rva)
    print('section %s rva 0x%x size 0x%x' % (bytes(b[last:last + 8]).rstrip(b'\0').decode(), rva, size - rva))
# the new Memory64List at the end: old ranges, then the image
while len(b) % 16:
    b.append(0)
new_rva = len(b)
descs = m64 + [(ntbase, size, None)]
hdr = struct.pack('<QQ', len(descs), new_rva + 16 + 16 * len(descs))
for va, sz, _ in descs:
    hdr += struct.pack('<QQ', va, sz)
b += hdr
for va, sz, o in m64:
    b += b[o:o + sz]
b += os.urandom(size)
i, sz, _ = streams[9]
struct.pack_into('<II', b, dir_rva + 12 * i + 4, 16 + 16 * len(descs), new_rva)
open(dst, 'wb').write(b)
print('%s: ntdll 0x%x size 0x%x, %d bytes' % (dst, ntbase, size, len(b)))
