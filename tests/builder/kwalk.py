#!/usr/bin/env python3
# Independent kernel-dump reader (Python) used to check the builder: parses
# DUMP_HEADER64/32, full/bitmap/RDMP page placement and walks x64/PAE/x86 page
# tables by hand.  Usage: kwalk.py FILE x64|pae|x86 VA[@DTB] ...
import struct,sys
class K:
    def __init__(s,path):
        s.d=open(path,'rb').read(); d=s.d
        s.is64 = d[4:8]==b'DU64'
        if s.is64:
            s.dtb,=struct.unpack_from('<Q',d,0x10); s.type,=struct.unpack_from('<I',d,0xf98)
            n,=struct.unpack_from('<I',d,0x88); s.runs=[struct.unpack_from('<QQ',d,0x98+16*i) for i in range(n)]
        else:
            s.dtb,=struct.unpack_from('<I',d,0x10); s.type,=struct.unpack_from('<I',d,0xf88)
            n,=struct.unpack_from('<I',d,0x64); s.runs=[struct.unpack_from('<II',d,0x6c+8*i) for i in range(n)]
        if s.type==5:
            s.first,s.total,s.pages=struct.unpack_from('<QQQ',d,0x2020)
            s.bm=d[0x2038:0x2038+(s.pages+7)//8]
        if s.type>=8:
            meta,s.first=struct.unpack_from('<QQ',d,0x2010); s.ranges=[]
            off=0x2030
            while True:
                p,c=struct.unpack_from('<QQ',d,off); off+=16
                if not p: break
                s.ranges.append((p,c))
    def off(s,pa):
        pfn=pa>>12; idx=0
        if s.type==1:
            for b,c in s.runs:
                if b<=pfn<b+c: return (0x2000 if s.is64 else 0x1000)+0x1000*(idx+pfn-b)+(pa&0xfff)
                idx+=c
            return None
        if s.type==5:
            if pfn>=s.pages or not (s.bm[pfn//8]>>(pfn%8))&1: return None
            idx=sum((s.bm[p//8]>>(p%8))&1 for p in range(pfn))
            return s.first+0x1000*idx+(pa&0xfff)
        for b,c in s.ranges:
            if b<=pfn<b+c: return s.first+0x1000*(idx+pfn-b)+(pa&0xfff)
            idx+=c
    def rp(s,pa,n):
        o=s.off(pa); 
        if o is None: raise Exception('pa %x absent'%pa)
        return int.from_bytes(s.d[o:o+n],'little')
    def walk(s,mode,dtb,va):
        am=0x000ffffffffff000
        if mode=='x86':
            e=s.rp((dtb&~0xfff)+4*((va>>22)&0x3ff),4)
            if not e&1: return None,e
            if e&0x80: return (e&0xffc00000)|(va&0x3fffff),e
            e=s.rp((e&0xfffff000)+4*((va>>12)&0x3ff),4)
            return ((e&0xfffff000)|(va&0xfff) if e&1 else None),e
        if mode=='pae':
            e=s.rp((dtb&~0x1f)+8*((va>>30)&3),8)
            if not e&1: return None,e
            t=e&am
        else:
            e=s.rp((dtb&am)+8*((va>>39)&0x1ff),8)
            if not e&1: return None,e
            e=s.rp((e&am)+8*((va>>30)&0x1ff),8)
            if not e&1: return None,e
            if e&0x80: return (e&am&~0x3fffffff)|(va&0x3fffffff),e
            t=e&am
        e=s.rp(t+8*((va>>21)&0x1ff),8)
        if not e&1: return None,e
        if e&0x80: return (e&am&~0x1fffff)|(va&0x1fffff),e
        e=s.rp((e&am)+8*((va>>12)&0x1ff),8)
        return ((e&am)|(va&0xfff) if e&1 else None),e
def main():
    k=K(sys.argv[1]); mode=sys.argv[2]
    print('type',k.type,'dtb',hex(k.dtb),'runs',[(hex(a),hex(b)) for a,b in k.runs], 'size',len(k.d))
    for a in sys.argv[3:]:
        dtb=k.dtb
        if '@' in a: a,dd=a.split('@'); dtb=int(dd,0)
        va=int(a,0); pa,e=k.walk(mode,dtb,va)
        if pa is None: print(' va',hex(va),'not valid, pte',hex(e)); continue
        if k.off(pa) is None: print(' va',hex(va),'pa',hex(pa),'frame not in the dump'); continue
        print(' va',hex(va),'pa',hex(pa),'u64',hex(k.rp(pa,8)) if mode=='x64' else hex(k.rp(pa,4)))

if __name__ == '__main__':
    main()
