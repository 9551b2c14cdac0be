/* SPDX-License-Identifier: MIT */
/*
 * NT heap scenarios laid out from /work/shared/reference/layouts.md only
 * (never from src/heap or src/types), so the builder and the walker check
 * each other.  Offsets: see struct nhb_lay and the tables below; each
 * cites the layouts.md section it comes from.
 */
#include "ntheapbuilder.h"
#include "nhb_crash.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* layouts.md section 2 (_HEAP table, _HEAP_SEGMENT table, _HEAP_ENTRY,
 * _HEAP_VIRTUAL_ALLOC_ENTRY, _HEAP_UCR_DESCRIPTOR) and section 3
 * (_HEAP_USERDATA_HEADER, _HEAP_SUBSEGMENT, _LFH_HEAP.Heap). */
struct nhb_lay {
	unsigned ps, unit;
	/* _HEAP */
	uint32_t flags, force, encmask, encoding, pointerkey, signature;
	uint32_t ucrlist, vab, seglist, feh, feht, heap_size;
	/* _HEAP_SEGMENT */
	uint32_t s_sig, s_flags, s_listentry, s_heap, s_base, s_pages, s_first,
		 s_last, s_ucpages, s_ucranges, s_ucrlist;
	/* _HEAP_UCR_DESCRIPTOR */
	uint32_t u_seg, u_addr, u_size, u_sizeof;
	/* _HEAP_VIRTUAL_ALLOC_ENTRY */
	uint32_t v_commit, v_reserve, v_busy, v_sizeof;
	/* _HEAP_USERDATA_HEADER (Win8+) */
	uint32_t ub_sig, ub_encoff, ub_bitmap, ub_bitmapdata;
	/* _HEAP_SUBSEGMENT (Win8+) */
	uint32_t ss_userblocks, ss_blocksize, ss_blockcount;
	/* _LFH_HEAP.Heap */
	uint32_t lfh_heap;
	/* PEB/TEB (section 1) */
	uint32_t teb_peb, peb_heap, peb_nheaps, peb_maxheaps, peb_heaps;
	bool lfh;
	uint32_t build;
	/* Win7 LFH (layouts.md section 3 "_HEAP_SUBSEGMENT Win7", Win7
	 * _HEAP_USERDATA_HEADER): no bitmap, blocks from the header on */
	bool win7;
	uint32_t lfh_heap7;	/* Win7 _LFH_HEAP.Heap, 0 = not written */
	uint32_t ub7_hdr, ub7_sig, ub7_sizeindex, ss7_depth, ss7_blocksize, ss7_blockcount;
};

#define SEG64 .s_sig = 0x10, .s_flags = 0x14, .s_listentry = 0x18, .s_heap = 0x28, \
	.s_base = 0x30, .s_pages = 0x38, .s_first = 0x40, .s_last = 0x48, \
	.s_ucpages = 0x50, .s_ucranges = 0x54, .s_ucrlist = 0x60, \
	.u_seg = 0x10, .u_addr = 0x20, .u_size = 0x28, .u_sizeof = 0x30, \
	.v_commit = 0x20, .v_reserve = 0x28, .v_busy = 0x30, .v_sizeof = 0x40, \
	.ub_sig = 0x14, .ub_encoff = 0x18, .ub_bitmap = 0x20, .ub_bitmapdata = 0x30, \
	.ss_userblocks = 0x8, .ss_blocksize = 0x24, .ss_blockcount = 0x28, \
	.lfh_heap = 0x18, .teb_peb = 0x60, .peb_heap = 0x30, .peb_nheaps = 0xE8, \
	.peb_maxheaps = 0xEC, .peb_heaps = 0xF0, .ps = 8, .unit = 16
#define SEG86 .s_sig = 0x8, .s_flags = 0xC, .s_listentry = 0x10, .s_heap = 0x18, \
	.s_base = 0x1C, .s_pages = 0x20, .s_first = 0x24, .s_last = 0x28, \
	.s_ucpages = 0x2C, .s_ucranges = 0x30, .s_ucrlist = 0x38, \
	.u_seg = 0x8, .u_addr = 0x10, .u_size = 0x14, .u_sizeof = 0x18, \
	.v_commit = 0x10, .v_reserve = 0x14, .v_busy = 0x18, .v_sizeof = 0x20, \
	.ub_sig = 0xC, .ub_encoff = 0x10, .ub_bitmap = 0x14, .ub_bitmapdata = 0x1C, \
	.ss_userblocks = 0x4, .ss_blocksize = 0x14, .ss_blockcount = 0x18, \
	.lfh_heap = 0xC, .teb_peb = 0x30, .peb_heap = 0x18, .peb_nheaps = 0x88, \
	.peb_maxheaps = 0x8C, .peb_heaps = 0x90, .ps = 4, .unit = 8

/* x64 1809+ column */
static const struct nhb_lay lay_x64_19045 = { SEG64, .flags = 0x70, .force = 0x74,
	.encmask = 0x7C, .encoding = 0x80, .signature = 0x98, .ucrlist = 0xF0,
	.vab = 0x110, .seglist = 0x120, .feh = 0x198, .feht = 0x1A2,
	.heap_size = 0x2C0, .lfh = true, .build = 19045 };
/* x64 1607-1803 column */
static const struct nhb_lay lay_x64_14393 = { SEG64, .flags = 0x70, .force = 0x74,
	.encmask = 0x7C, .encoding = 0x80, .signature = 0x98, .ucrlist = 0xF0,
	.vab = 0x110, .seglist = 0x120, .feh = 0x178, .feht = 0x182,
	.heap_size = 0x2A0, .lfh = true, .build = 14393 };
/* x64 Win7 7601 column (PointerKey 0x90) */
static const struct nhb_lay lay_x64_7601 = { SEG64, .flags = 0x70, .force = 0x74,
	.encmask = 0x7C, .encoding = 0x80, .pointerkey = 0x90, .signature = 0xA0,
	.ucrlist = 0xF8, .vab = 0x118, .seglist = 0x128, .feh = 0x178, .feht = 0x182,
	.heap_size = 0x208, .lfh = false, .build = 7601 };
/* x64 Win7 7601 column with an LFH (Win7 UserBlocks).  _LFH_HEAP.Heap is
 * not in layouts.md for Win7 x64 (lfh_heap 0: not written). */
static const struct nhb_lay lay_x64_7601_lfh = { SEG64, .flags = 0x70, .force = 0x74,
	.encmask = 0x7C, .encoding = 0x80, .pointerkey = 0x90, .signature = 0xA0,
	.ucrlist = 0xF8, .vab = 0x118, .seglist = 0x128, .feh = 0x178, .feht = 0x182,
	.heap_size = 0x208, .lfh = true, .build = 7601, .lfh_heap7 = 0, .win7 = true,
	.ub7_hdr = 0x20, .ub7_sig = 0x18, .ub7_sizeindex = 0x10, .ss7_depth = 0x10,
	.ss7_blocksize = 0x18, .ss7_blockcount = 0x1C };
/* x86 Win7 7601 column (section 2 table, all S6/S11), _LFH_HEAP.Heap 0x24
 * (section 3, S6 Win7 x86 _LFH_HEAP). */
static const struct nhb_lay lay_x86_7601_lfh = { SEG86, .flags = 0x40, .force = 0x44,
	.encmask = 0x4C, .encoding = 0x50, .pointerkey = 0x58, .signature = 0x64,
	.ucrlist = 0x90, .vab = 0xA0, .seglist = 0xA8, .feh = 0xD4, .feht = 0xDA,
	.heap_size = 0x138, .lfh = true, .build = 7601, .lfh_heap7 = 0x24, .win7 = true,
	.ub7_hdr = 0x10, .ub7_sig = 0xC, .ub7_sizeindex = 8, .ss7_depth = 8,
	.ss7_blocksize = 0x10, .ss7_blockcount = 0x14 };
/* x86 1809+ column */
static const struct nhb_lay lay_x86_19045 = { SEG86, .flags = 0x40, .force = 0x44,
	.encmask = 0x4C, .encoding = 0x50, .signature = 0x60, .ucrlist = 0x8C,
	.vab = 0x9C, .seglist = 0xA4, .feh = 0xE4, .feht = 0xEA,
	.heap_size = 0x258, .lfh = true, .build = 19045 };

#define RTLP_LFH_KEY 0x5A17C3E9u	/* our RtlpLFHKey (S5 convention) */
/* Win7 RtlpLFHKey: pointer-sized (S5 reads ntdll!RtlpLFHKey as uint64 on
 * x64); the x64 value has bits above 40 set, which the block headers do
 * not reveal (only its low 40 bits reach them). */
#define RTLP_LFH_KEY7_X64 0x5C3A91E27D4B16F9ull
#define RTLP_LFH_KEY7_X86 0x7D4B16F9u
/* Corruption modes of heap 0's run A (block nblocks/2). */
enum cmode { C_NONE, C_FREE_CHECKSUM, C_RESYNC, C_SCAN };

struct ctx {
	const struct nhb_lay *L;
	struct db_md *md;		/* minidump scenarios; NULL for nhb_write_process */
	nhb_capture_fn *capture_fn;	/* nhb_write_process: committed ranges */
	void *capture_arg;
	unsigned runb_blocks;		/* blocks in heap 0's run B (12; more for kernel scenarios) */
	struct db_mem *m;
	FILE *ex;
	uint64_t key;		/* small-header encoding key */
	uint64_t heap;
	uint64_t lfh;		/* _LFH_HEAP address or 0 */
	uint64_t aux;		/* next free slot in the header block (UCRs, subsegments) */
	uint64_t busy_count, busy_bytes, free_count, free_bytes;
	bool corrupt_next;	/* break the checksum of the next free block */
	uint64_t corrupt_at;
	unsigned rnd;
	uint64_t lfh_key7;	/* Win7 RtlpLFHKey */
	uint64_t internal_count, corrupt_count;
};

/* A committed range: captured in the minidump, or handed to the caller
 * (who maps it in a process address space). */
static void capture(struct ctx *c, uint64_t va, uint64_t size)
{
	if (c->md)
		db_md_add_memory(c->md, va, size, DB_LIST_64);
	else if (c->capture_fn)
		c->capture_fn(c->capture_arg, va, size);
}

static unsigned rnd(struct ctx *c)
{
	c->rnd = c->rnd * 1103515245u + 12345u;
	return (c->rnd >> 16) & 0x7FFF;
}

static uint64_t up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static void wptr(struct ctx *c, uint64_t va, uint64_t v)
{
	if (c->L->ps == 8)
		db_mem_write_u64(c->m, va, v);
	else
		db_mem_write_u32(c->m, va, (uint32_t)v);
}

static void list_init(struct ctx *c, uint64_t head)
{
	wptr(c, head, head);
	wptr(c, head + c->L->ps, head);
}

/* Insert node at the tail of the list head. */
static void list_add(struct ctx *c, uint64_t head, uint64_t node)
{
	unsigned ps = c->L->ps;
	uint64_t last = c->L->ps == 8 ? db_mem_read_u64(c->m, head + ps)
				       : db_mem_read_u32(c->m, head + ps);
	wptr(c, node, head);
	wptr(c, node + ps, last);
	wptr(c, last, node);
	wptr(c, head + ps, node);
}

/* The encoded small header (section 2 _HEAP_ENTRY; Algorithm A step 2). */
static void put_entry(struct ctx *c, uint64_t e, uint16_t size, uint8_t flags,
		      uint16_t prev, uint8_t segoff, uint8_t unused, bool bad)
{
	uint8_t b[8];
	b[0] = (uint8_t)size;
	b[1] = (uint8_t)(size >> 8);
	b[2] = flags;
	b[3] = (uint8_t)(b[0] ^ b[1] ^ b[2]);
	if (bad)
		b[3] ^= 0x5A;
	b[4] = (uint8_t)prev;
	b[5] = (uint8_t)(prev >> 8);
	b[6] = segoff;
	b[7] = unused;
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	v ^= c->key;
	uint64_t at = e + (c->L->unit == 16 ? 8 : 0);
	db_mem_write_u32(c->m, at, (uint32_t)v);
	db_mem_write_u32(c->m, at + 4, (uint32_t)(v >> 32));
}

static void expect_block(struct ctx *c, uint64_t hdr, uint64_t user, uint64_t size,
			 uint64_t bsize, const char *state, const char *layer)
{
	fprintf(c->ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=%s\n",
		(unsigned long long)hdr, (unsigned long long)user,
		(unsigned long long)size, (unsigned long long)bsize, state, layer);
	if (!strcmp(state, "busy")) {
		c->busy_count++;
		c->busy_bytes += size;
	} else if (!strcmp(state, "free")) {
		c->free_count++;
		c->free_bytes += bsize;
	} else if (!strcmp(state, "internal")) {
		c->internal_count++;
	} else if (!strcmp(state, "corrupt")) {
		c->corrupt_count++;
	}
}

/* The LFH block lines carry the UserBlocks they live in. */
static void expect_lfh(struct ctx *c, uint64_t b, uint64_t size, uint64_t stride, bool busy,
		       uint64_t ub)
{
	unsigned u = c->L->unit;
	fprintf(c->ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=lfh container=0x%llx\n",
		(unsigned long long)b, (unsigned long long)(b + u), (unsigned long long)size,
		(unsigned long long)stride, busy ? "busy" : "free", (unsigned long long)ub);
	if (busy) {
		c->busy_count++;
		c->busy_bytes += size;
	} else {
		c->free_count++;
		c->free_bytes += stride;
	}
}

/* A back-end run of blocks: [start, end).  Returns nothing; the cursor
 * state is kept in *cur / *prev. */
struct run {
	uint64_t cur, end;
	uint16_t prev;
	uint8_t segidx;
};

static uint64_t emit(struct ctx *c, struct run *r, uint64_t bsize, uint8_t flags,
		     uint64_t req, const char *state, bool bad)
{
	unsigned u = c->L->unit;
	uint64_t e = r->cur;
	uint8_t unused = (flags & 1) ? (uint8_t)(bsize - req) : 0;
	put_entry(c, e, (uint16_t)(bsize / u), flags, r->prev, r->segidx, unused, bad);
	if (bad)
		c->corrupt_at = e;
	r->prev = (uint16_t)(bsize / u);
	r->cur += bsize;
	/* free blocks: size 0 */
	expect_block(c, e, e + u, (flags & 1) ? req : 0, bsize, state, "backend");
	return e + u;
}

static uint64_t busy(struct ctx *c, struct run *r, uint64_t req, uint8_t extra)
{
	uint64_t bs = up(req + c->L->unit, c->L->unit);
	if (bs - req >= 0x3F)
		bs -= c->L->unit;
	uint64_t user = emit(c, r, bs, (uint8_t)(0x01 | extra), req, "busy", false);
	db_mem_fill(c->m, user, (uint8_t)(0x41 + rnd(c) % 26), req);
	return user;
}

static void freeblk(struct ctx *c, struct run *r, uint64_t bsize)
{
	bool bad = c->corrupt_next;
	c->corrupt_next = false;
	emit(c, r, bsize, 0, 0, "free", bad);
}

/* Fills the rest of the run with one free block (the last entry before a
 * UCR or the segment end). */
static void close_run(struct ctx *c, struct run *r)
{
	if (r->cur < r->end)
		freeblk(c, r, r->end - r->cur);
}

/* An LFH UserBlocks container (section 3, Algorithm B). */
static void lfh_container(struct ctx *c, struct run *r, unsigned units, unsigned count,
			  unsigned seed)
{
	const struct nhb_lay *L = c->L;
	unsigned u = L->unit;
	uint64_t stride = (uint64_t)units * u;
	uint64_t bitmap_bytes = up((count + 7) / 8, 8);
	/* FirstAllocationOffset = BitmapData + bitmap bytes (rounded to 8), rounded to 16 */
	uint64_t fao = up(L->ub_bitmapdata + bitmap_bytes, 16);
	uint64_t ubsize = fao + count * stride;
	uint64_t bs = up(ubsize + u, u);
	uint64_t e = r->cur;
	uint64_t ub = e + u;
	put_entry(c, e, (uint16_t)(bs / u), 0x09, r->prev, r->segidx, (uint8_t)(bs - ubsize), false);
	r->prev = (uint16_t)(bs / u);
	r->cur += bs;
	expect_block(c, e, ub, ubsize, bs, "internal", "backend");
	/* _HEAP_SUBSEGMENT in the header block */
	uint64_t ss = c->aux;
	c->aux += 0x40;
	wptr(c, ss + L->ss_userblocks, ub);
	db_mem_write_u16(c->m, ss + L->ss_blocksize, (uint16_t)units);
	db_mem_write_u16(c->m, ss + L->ss_blockcount, (uint16_t)count);
	wptr(c, ub, ss);
	db_mem_write_u32(c->m, ub + L->ub_sig, 0xF0E0D0C0u);
	uint32_t off = (uint32_t)(fao | stride << 16);
	off ^= (uint32_t)ub ^ (uint32_t)c->lfh ^ RTLP_LFH_KEY;
	db_mem_write_u32(c->m, ub + L->ub_encoff, off);
	wptr(c, ub + L->ub_bitmap, count);
	wptr(c, ub + L->ub_bitmap + L->ps, ub + L->ub_bitmapdata);
	for (unsigned i = 0; i < count; i++) {
		uint64_t b = ub + fao + i * stride;
		bool isbusy = ((i * 7 + seed) % 5) != 0;
		if (isbusy) {
			uint64_t cnt = u + (i + seed) % (stride - u < 0x30 ? stride - u : 0x30);
			uint64_t req = stride - cnt;
			db_mem_write_u8(c->m, b + u - 1, (uint8_t)(0x80 | cnt));
			uint64_t bm = ub + L->ub_bitmapdata + i / 8;
			uint8_t cur = 0;
			db_mem_read(c->m, bm, &cur, 1);
			db_mem_write_u8(c->m, bm, (uint8_t)(cur | (1u << (i % 8))));
			db_mem_fill(c->m, b + u, 0x6C, req);
			expect_lfh(c, b, req, stride, true, ub);
		} else {
			expect_lfh(c, b, 0, stride, false, ub);
		}
	}
}

/* A Win7 LFH UserBlocks container (layouts.md section 3: Win7
 * _HEAP_SUBSEGMENT and _HEAP_USERDATA_HEADER; Algorithm B step 6).  No
 * bitmap: block i at UserBlocks + header + i*stride; each block's
 * _HEAP_ENTRY is the front-end header of S5 (arizvisa/syringe
 * lib/ndk/heaptypes.py, _HEAP_ENTRY __fe_encode): x64 low 40 bits of the
 * qword at +8 = ((E ^ Heap) >> 4) ^ (SubSegment >> 4) ^ RtlpLFHKey, bytes
 * +0xD..+0xF unencoded; x86 dword at +0 = SubSegment ^ (E >> 3) ^
 * RtlpLFHKey ^ Heap, +4..+7 unencoded.  UnusedBytes (+0xF / +7): busy 0x80 |
 * count (count = stride - requested, header included), free 0x80. */
static void lfh_container7(struct ctx *c, struct run *r, unsigned units, unsigned count,
			   unsigned seed)
{
	const struct nhb_lay *L = c->L;
	unsigned u = L->unit;
	uint64_t stride = (uint64_t)units * u;
	uint64_t ubsize = L->ub7_hdr + count * stride;
	uint64_t bs = up(ubsize + u, u);
	uint64_t e = r->cur;
	uint64_t ub = e + u;
	put_entry(c, e, (uint16_t)(bs / u), 0x09, r->prev, r->segidx, (uint8_t)(bs - ubsize), false);
	r->prev = (uint16_t)(bs / u);
	r->cur += bs;
	expect_block(c, e, ub, ubsize, bs, "internal", "backend");
	uint64_t ss = c->aux;
	c->aux += 0x40;
	wptr(c, ss + L->ss_userblocks, ub);
	db_mem_write_u16(c->m, ss + L->ss7_blocksize, (uint16_t)units);
	db_mem_write_u16(c->m, ss + L->ss7_blockcount, (uint16_t)count);
	wptr(c, ub, ss);
	db_mem_write_u8(c->m, ub + L->ub7_sizeindex, (uint8_t)units);
	db_mem_write_u32(c->m, ub + L->ub7_sig, 0xF0E0D0C0u);
	unsigned nfree = 0;
	for (unsigned i = 0; i < count; i++) {
		uint64_t b = ub + L->ub7_hdr + i * stride;
		bool isbusy = ((i * 7 + seed) % 5) != 0;
		uint64_t req = 0;
		uint8_t unused = 0x80;
		if (isbusy) {
			uint64_t cnt = u + (i + seed) % (stride - u < 0x30 ? stride - u : 0x30);
			req = stride - cnt;
			unused = (uint8_t)(0x80 | cnt);
			db_mem_fill(c->m, b + u, 0x6D, req);
		} else {
			nfree++;
		}
		if (L->ps == 8) {
			uint64_t enc = (((b ^ c->heap) >> 4) ^ (ss >> 4) ^ c->lfh_key7) & 0xFFFFFFFFFFull;
			enc |= (uint64_t)unused << 56;
			db_mem_write_u64(c->m, b + 8, enc);
		} else {
			uint32_t enc = (uint32_t)(ss ^ (b >> 3) ^ c->lfh_key7 ^ c->heap);
			db_mem_write_u32(c->m, b, enc);
			db_mem_write_u8(c->m, b + 7, unused);
		}
		expect_lfh(c, b, req, stride, isbusy, ub);
	}
	db_mem_write_u16(c->m, ss + L->ss7_depth, (uint16_t)nfree);	/* AggregateExchg.Depth */
}

/* Heap 0 run A, block nblocks/2, in the -corrupt-resync / -corrupt-scan
 * scenarios (issue 8 "walk on past a corrupt entry").  RESYNC: a busy
 * block whose checksum is wrong but whose Size is right; the next entry
 * checks out (checksum and PreviousSize).  SCAN: a busy block whose whole
 * small header is garbage (Size 0xFFF0, beyond the segment); the walker
 * must scan forward for the next entry with a valid checksum whose
 * PreviousSize chain holds.  The builder makes sure that no unit inside
 * the skipped block decodes with a valid checksum. */
static void corrupt_entry(struct ctx *c, struct run *r, enum cmode mode)
{
	unsigned u = c->L->unit;
	uint64_t e = r->cur;
	c->corrupt_at = e;
	if (mode == C_RESYNC) {
		uint64_t req = 0x80, bs = up(req + u, u);
		put_entry(c, e, (uint16_t)(bs / u), 0x01, r->prev, r->segidx, (uint8_t)(bs - req), true);
		db_mem_fill(c->m, e + u, 0x52, req);
		r->prev = (uint16_t)(bs / u);
		r->cur += bs;
		expect_block(c, e, e + u, 0, bs, "corrupt", "backend");
		fprintf(c->ex, "corrupt 0x%llx\nresync 0x%llx\n", (unsigned long long)e,
			(unsigned long long)r->cur);
		return;
	}
	uint64_t bs = u == 16 ? 0x200 : 0x100;
	put_entry(c, e, 0xFFF0, 0x01, 0x1234, 0x77, 0x3E, true);
	for (uint8_t fillb = 0x53;; fillb++) {
		db_mem_fill(c->m, e + u, fillb, bs - u);
		bool clean = true;
		for (uint64_t p = e + u; p < e + bs && clean; p += u) {
			uint64_t at = p + (u == 16 ? 8 : 0);
			uint64_t v = (uint64_t)db_mem_read_u32(c->m, at) |
				     (uint64_t)db_mem_read_u32(c->m, at + 4) << 32;
			v ^= c->key;
			uint8_t b0 = (uint8_t)v, b1 = (uint8_t)(v >> 8), b2 = (uint8_t)(v >> 16),
				b3 = (uint8_t)(v >> 24);
			if ((uint8_t)(b0 ^ b1 ^ b2) == b3)
				clean = false;
		}
		if (clean)
			break;
	}
	r->prev = (uint16_t)(bs / u);
	r->cur += bs;
	expect_block(c, e, e + u, 0, bs, "corrupt", "backend");
	fprintf(c->ex, "corrupt 0x%llx\nskipped 0x%llx 0x%llx\nresync 0x%llx\n", (unsigned long long)e,
		(unsigned long long)e, (unsigned long long)r->cur, (unsigned long long)r->cur);
}

static void large(struct ctx *c, uint64_t v, uint64_t req)
{
	const struct nhb_lay *L = c->L;
	uint64_t commit = up(req + L->v_sizeof, DB_PAGE_SIZE);
	list_add(c, c->heap + L->vab, v);
	wptr(c, v + L->v_commit, commit);
	wptr(c, v + L->v_reserve, commit);
	put_entry(c, v + L->v_busy, (uint16_t)(commit - req), 0x01, 0, 0, 0, false);
	db_mem_fill(c->m, v + L->v_sizeof, 0x4C, req);
	capture(c, v, commit);
	/* requested = CommitSize - BusyBlock.Size (section 10, heap source) */
	expect_block(c, v, v + L->v_sizeof, req, commit, "busy", "virtual");
}

struct segplan {
	uint64_t base, size;	/* reserved */
	uint64_t ucr_at, ucr_size;	/* one UCR inside, or ucr_size 0 */
};

/* Writes the _HEAP_SEGMENT fields at seg (section 2). */
static void segment(struct ctx *c, uint64_t seg, const struct segplan *p, uint64_t first)
{
	const struct nhb_lay *L = c->L;
	db_mem_write_u32(c->m, seg + L->s_sig, 0xFFEEFFEEu);
	db_mem_write_u32(c->m, seg + L->s_flags, 0);
	list_add(c, c->heap + L->seglist, seg + L->s_listentry);
	wptr(c, seg + L->s_heap, c->heap);
	wptr(c, seg + L->s_base, p->base);
	db_mem_write_u32(c->m, seg + L->s_pages, (uint32_t)(p->size / DB_PAGE_SIZE));
	wptr(c, seg + L->s_first, first);
	wptr(c, seg + L->s_last, p->base + p->size);
	db_mem_write_u32(c->m, seg + L->s_ucpages, (uint32_t)(p->ucr_size / DB_PAGE_SIZE));
	db_mem_write_u32(c->m, seg + L->s_ucranges, p->ucr_size ? 1 : 0);
	list_init(c, seg + L->s_ucrlist);
	fprintf(c->ex, "segment base=0x%llx first=0x%llx last=0x%llx\n",
		(unsigned long long)p->base, (unsigned long long)first,
		(unsigned long long)(p->base + p->size));
	if (p->ucr_size) {
		uint64_t d = c->aux;
		c->aux += up(L->u_sizeof, 16);
		list_add(c, c->heap + L->ucrlist, d);
		list_add(c, seg + L->s_ucrlist, d + L->u_seg);
		wptr(c, d + L->u_addr, p->ucr_at);
		wptr(c, d + L->u_size, p->ucr_size);
		fprintf(c->ex, "ucr 0x%llx size=0x%llx\n", (unsigned long long)p->ucr_at,
			(unsigned long long)p->ucr_size);
		capture(c, p->base, p->ucr_at - p->base);
		if (p->ucr_at + p->ucr_size < p->base + p->size)
			capture(c, p->ucr_at + p->ucr_size, p->base + p->size - p->ucr_at - p->ucr_size);
	} else {
		capture(c, p->base, p->size);
	}
}

/* Populates one run with a mix of busy / free blocks (and LFH containers). */
static void fill_run(struct ctx *c, struct run *r, unsigned nblocks, bool lfh, enum cmode corrupt_mid)
{
	unsigned u = c->L->unit;
	for (unsigned i = 0; i < nblocks; i++) {
		if (lfh && i == 2 && c->L->win7)
			lfh_container7(c, r, 0x30 / u * (u == 16 ? 1 : 2) + 0, 24, 1);
		else if (lfh && i == 2)
			lfh_container(c, r, 0x30 / u * (u == 16 ? 1 : 2) + 0, 24, 1);
		if (lfh && i == 5 && c->L->win7)
			lfh_container7(c, r, 0x80 / u, 12, 3);
		else if (lfh && i == 5)
			lfh_container(c, r, 0x80 / u, 12, 3);
		if ((corrupt_mid == C_RESYNC || corrupt_mid == C_SCAN) && i == nblocks / 2) {
			corrupt_entry(c, r, corrupt_mid);
			continue;
		}
		if (corrupt_mid == C_FREE_CHECKSUM && i == nblocks / 2)
			c->corrupt_next = true;
		if (i % 3 == 2 || c->corrupt_next)
			freeblk(c, r, (uint64_t)u * (2 + i % 5));
		else
			busy(c, r, 0x18 + (uint64_t)(rnd(c) % 0x200), (i % 7 == 3) ? 0x02 : (i % 11 == 4) ? 0x04 : 0);
	}
}

/* One heap: segment 0 = the heap itself (header block, run A, UCR, run B),
 * optionally a second segment, and `nlarge` large blocks. */
static void heap(struct ctx *c, uint64_t H, uint32_t flags, bool lfh, bool two_segs,
		 uint64_t vbase, enum cmode corrupt)
{
	const struct nhb_lay *L = c->L;
	unsigned u = L->unit;
	c->heap = H;
	c->busy_count = c->busy_bytes = c->free_count = c->free_bytes = 0;
	c->internal_count = c->corrupt_count = 0;
	c->key = ((uint64_t)rnd(c) << 48) ^ ((uint64_t)rnd(c) << 33) ^ ((uint64_t)rnd(c) << 17) ^ rnd(c);
	if (L->ps == 4)
		c->key &= 0xFFFFFFFFu;
	c->key ^= 0x1F2E3D4C5B6A7988ull & (L->ps == 4 ? 0xFFFFFFFFu : ~0ull);
	fprintf(c->ex, "heap 0x%llx flags=0x%x segments=%d\n", (unsigned long long)H, flags,
		two_segs ? 2 : 1);
	db_mem_write_u32(c->m, H + L->flags, flags);
	db_mem_write_u32(c->m, H + L->force, 0);
	db_mem_write_u32(c->m, H + L->encmask, 0x00100000u);
	db_mem_write_u64(c->m, H + L->encoding + (L->ps == 8 ? 8 : 0), c->key);
	if (L->ps == 4)
		db_mem_write_u32(c->m, H + L->encoding + 4, 0);
	if (L->pointerkey)
		wptr(c, H + L->pointerkey, 0x3C5A9E11D2F0B7A5ull);
	db_mem_write_u32(c->m, H + L->signature, 0xEEFFEEFFu);
	list_init(c, H + L->ucrlist);
	list_init(c, H + L->vab);
	list_init(c, H + L->seglist);
	/* header block: 0x800 bytes (x64) / 0x400 (x86); the _HEAP, then our
	 * UCR descriptors and subsegments from heap_size up. */
	uint64_t hdr_bs = L->ps == 8 ? 0x800 : 0x400;
	c->aux = H + up(L->heap_size, 0x40);
	struct segplan p0 = { H, 0x40000, H + 0x10000, 0x20000 };
	segment(c, H, &p0, H + hdr_bs);
	struct run r = { H, H + 0x10000, 0, 0 };
	emit(c, &r, hdr_bs, 0x01, hdr_bs - u, "busy", false);
	c->lfh = 0;
	if (lfh && L->lfh) {
		/* _LFH_HEAP in a busy back-end block */
		uint64_t req = L->ps == 8 ? 0xD00 : 0x800;
		uint64_t bs = up(req + u, u);
		c->lfh = r.cur + u;
		emit(c, &r, bs, 0x01, req, "busy", false);
		uint32_t lh = L->win7 ? L->lfh_heap7 : L->lfh_heap;
		if (lh)
			wptr(c, c->lfh + lh, H);
		wptr(c, H + L->feh, c->lfh);
		db_mem_write_u8(c->m, H + L->feht, 2);
	}
	fill_run(c, &r, 30, lfh && L->lfh, corrupt);
	close_run(c, &r);
	struct run r2 = { p0.ucr_at + p0.ucr_size, p0.base + p0.size, 0, 0 };
	fill_run(c, &r2, two_segs && c->runb_blocks ? c->runb_blocks : 12, false, C_NONE);
	close_run(c, &r2);
	if (two_segs) {
		uint64_t S = H + 0x100000;
		struct segplan p1 = { S, 0x20000, S + 0x8000, 0x18000 };
		uint64_t first = S + up(0x70 + u, u);	/* header block covers _HEAP_SEGMENT */
		if (L->ps == 4)
			first = S + up(0x40 + u, u);
		segment(c, S, &p1, first);
		struct run r3 = { S, S + 0x8000, 0, 1 };
		emit(c, &r3, first - S, 0x01, first - S - u, "busy", false);
		fill_run(c, &r3, 15, false, C_NONE);
		close_run(c, &r3);
	}
	large(c, vbase, 0x20000 + 0x123);
	large(c, vbase + 0x100000, 0x41000 - 0x10);
	fprintf(c->ex, "totals busy_count=%llu busy_bytes=%llu free_count=%llu free_bytes=%llu",
		(unsigned long long)c->busy_count, (unsigned long long)c->busy_bytes,
		(unsigned long long)c->free_count, (unsigned long long)c->free_bytes);
	if (corrupt == C_RESYNC || corrupt == C_SCAN || L->win7)
		fprintf(c->ex, " internal_count=%llu corrupt_count=%llu",
			(unsigned long long)c->internal_count, (unsigned long long)c->corrupt_count);
	fputc('\n', c->ex);
}

/* Win7 LFH scenarios: ntdll's image header (Microsoft PE/COFF
 * specification: MZ, e_lfanew, PE, FILE_HEADER, OptionalHeader, section
 * table) and the .data page holding RtlpLFHKey (its place in .data is a
 * choice; the rest of the page is pseudo-random pointer-sized values). */
static void ntdll_image(struct ctx *c, uint64_t base, uint32_t size, uint64_t key_at)
{
	bool pe64 = c->L->ps == 8;
	uint64_t nt = base + 0x80, oh = nt + 0x18;
	uint16_t opt = pe64 ? 0xF0 : 0xE0;
	uint32_t data_rva = (uint32_t)((key_at - base) & ~0xFFFull);
	db_mem_write_u16(c->m, base, 0x5A4D);
	db_mem_write_u32(c->m, base + 0x3C, 0x80);
	db_mem_write_u32(c->m, nt, 0x00004550);
	db_mem_write_u16(c->m, nt + 4, pe64 ? 0x8664 : 0x014C);
	db_mem_write_u16(c->m, nt + 6, 2);
	db_mem_write_u16(c->m, nt + 0x14, opt);
	db_mem_write_u16(c->m, nt + 0x16, 0x2022);
	db_mem_write_u16(c->m, oh, pe64 ? 0x20B : 0x10B);
	if (pe64)
		db_mem_write_u64(c->m, oh + 0x18, base);
	else
		db_mem_write_u32(c->m, oh + 0x1C, (uint32_t)base);
	db_mem_write_u32(c->m, oh + 0x20, 0x1000);
	db_mem_write_u32(c->m, oh + 0x24, 0x200);
	db_mem_write_u32(c->m, oh + 0x38, size);
	uint64_t sec = oh + opt;
	db_mem_write(c->m, sec, ".text", 5);
	db_mem_write_u32(c->m, sec + 8, data_rva - 0x1000);
	db_mem_write_u32(c->m, sec + 0xC, 0x1000);
	db_mem_write_u32(c->m, sec + 0x24, 0x60000020u);
	db_mem_write(c->m, sec + 40, ".data", 5);
	db_mem_write_u32(c->m, sec + 40 + 8, 0x4000);
	db_mem_write_u32(c->m, sec + 40 + 0xC, data_rva);
	db_mem_write_u32(c->m, sec + 40 + 0x24, 0xC0000040u);
	uint64_t page = key_at & ~0xFFFull;
	for (uint64_t a = page; a < page + 0x1000; a += c->L->ps)
		wptr(c, a, ((uint64_t)rnd(c) << 45) ^ ((uint64_t)rnd(c) << 30) ^ ((uint64_t)rnd(c) << 15) ^ rnd(c));
	wptr(c, key_at, c->lfh_key7);
	db_md_add_memory(c->md, base, 0x1000, DB_LIST_64);
	db_md_add_memory(c->md, page, 0x1000, DB_LIST_64);
	fprintf(c->ex, "lfh_key 0x%llx width=%u address=0x%llx captured=1\n",
		(unsigned long long)c->lfh_key7, c->L->ps * 8, (unsigned long long)key_at);
}

/* "big N": one x64 19045 heap whose segment 0 holds ~N back-end blocks
 * (alternating 0x30-byte busy blocks and 0x20-byte free blocks), written
 * into one staging buffer and copied with a single db_mem_write. */
static void big_heap(struct ctx *c, uint64_t H, unsigned long n)
{
	const struct nhb_lay *L = c->L;
	c->heap = H;
	c->key = 0x1F2E3D4C5B6A7988ull;
	uint64_t hdr_bs = 0x800, per = 0x40 + 0x20;
	uint64_t size = up(hdr_bs + (n / 2 + 1) * per + 0x1000, 0x10000);
	fprintf(c->ex, "heap 0x%llx flags=0x2 segments=1\n", (unsigned long long)H);
	db_mem_write_u32(c->m, H + L->flags, 2);
	db_mem_write_u32(c->m, H + L->encmask, 0x00100000u);
	db_mem_write_u64(c->m, H + L->encoding + 8, c->key);
	db_mem_write_u32(c->m, H + L->signature, 0xEEFFEEFFu);
	list_init(c, H + L->ucrlist);
	list_init(c, H + L->vab);
	list_init(c, H + L->seglist);
	c->aux = H + up(L->heap_size, 0x40);
	struct segplan p = { H, size, 0, 0 };
	segment(c, H, &p, H + hdr_bs);
	struct run r = { H, H + size, 0, 0 };
	emit(c, &r, hdr_bs, 0x01, hdr_bs - 16, "busy", false);
	uint64_t start = r.cur, len = size - (start - H);
	uint8_t *buf = calloc(1, len);
	if (!buf)
		abort();
	uint16_t prev = (uint16_t)(hdr_bs / 16);
	uint64_t off = 0;
	for (unsigned long i = 0; off + per <= len - 0x100 && i < n; i++) {
		bool b = (i % 2) == 0;
		uint64_t bs = b ? 0x40 : 0x20, req = 0x28;
		uint64_t v = (uint64_t)(bs / 16) | (uint64_t)(b ? 1 : 0) << 16;
		v |= (uint64_t)((uint8_t)(bs / 16) ^ (b ? 1 : 0)) << 24;
		v |= (uint64_t)prev << 32 | (uint64_t)(b ? bs - req : 0) << 56;
		v ^= c->key;
		memcpy(buf + off + 8, &v, 8);	/* little-endian host */
		uint64_t e = start + off;
		fprintf(c->ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=backend\n",
			(unsigned long long)e, (unsigned long long)(e + 16),
			(unsigned long long)(b ? req : 0), (unsigned long long)bs, b ? "busy" : "free");
		if (b) {
			c->busy_count++;
			c->busy_bytes += req;
		} else {
			c->free_count++;
			c->free_bytes += bs;
		}
		prev = (uint16_t)(bs / 16);
		off += bs;
	}
	db_mem_write(c->m, start, buf, len);
	free(buf);
	r.cur = start + off;
	r.prev = prev;
	close_run(c, &r);
	fprintf(c->ex, "totals busy_count=%llu busy_bytes=%llu free_count=%llu free_bytes=%llu\n",
		(unsigned long long)c->busy_count, (unsigned long long)c->busy_bytes,
		(unsigned long long)c->free_count, (unsigned long long)c->free_bytes);
}

/* One NT heap (the layout of heap 1 of the normal scenarios: Flags 0x1002,
 * one segment with a UCR, two LFH containers, two large blocks at vbase)
 * written into another builder's minidump and expectation file; used by
 * the segment-heap builder for processes that hold both kinds. */
int nhb_add_heap(struct db_md *md, FILE *ex, const char *row, uint64_t heap_addr, uint64_t vbase)
{
	const struct nhb_lay *L = !strcmp(row, "x64-19045") ? &lay_x64_19045
				: !strcmp(row, "x86-19045") ? &lay_x86_19045 : NULL;
	if (!L) {
		fprintf(stderr, "nhb_add_heap: unknown layout row %s\n", row);
		return -1;
	}
	struct ctx c = { .L = L, .md = md, .m = db_md_mem(md), .ex = ex, .rnd = 0x2468ACEu };
	heap(&c, heap_addr, 0x1002, true, false, vbase, C_NONE);
	fprintf(ex, "lfh_key 0x%x width=32 captured=0\n", RTLP_LFH_KEY);
	return 0;
}

int nhb_build(const char *name, unsigned long arg, const char *dmp, const char *expect)
{
	const struct nhb_lay *L = NULL;
	bool wow = false, noarray = false, big = false;
	enum cmode corrupt = C_NONE;
	/* Crash scenarios (nhb_crash.c): x64-19045-crash-MODE, heaps 0 and 1
	 * both with a resync corrupt entry. */
	const char *crash = NULL;
	if (!strncmp(name, "x64-19045-crash-", 16) && nhb_crash_mode_known(name + 16)) {
		crash = name + 16;
		L = &lay_x64_19045, corrupt = C_RESYNC;
	} else if (!strcmp(name, "x64-19045"))
		L = &lay_x64_19045;
	else if (!strcmp(name, "big"))
		L = &lay_x64_19045, big = true;
	else if (!strcmp(name, "x64-19045-corrupt"))
		L = &lay_x64_19045, corrupt = C_FREE_CHECKSUM;
	else if (!strcmp(name, "x64-19045-corrupt-resync"))
		L = &lay_x64_19045, corrupt = C_RESYNC;
	else if (!strcmp(name, "x64-19045-corrupt-scan"))
		L = &lay_x64_19045, corrupt = C_SCAN;
	else if (!strcmp(name, "x86-19045-corrupt-resync"))
		L = &lay_x86_19045, corrupt = C_RESYNC;
	else if (!strcmp(name, "x86-19045-corrupt-scan"))
		L = &lay_x86_19045, corrupt = C_SCAN;
	else if (!strcmp(name, "x64-7601-lfh"))
		L = &lay_x64_7601_lfh;
	else if (!strcmp(name, "x86-7601-lfh"))
		L = &lay_x86_7601_lfh;
	else if (!strcmp(name, "x64-19045-nopeb-array"))
		L = &lay_x64_19045, noarray = true;
	else if (!strcmp(name, "x64-14393"))
		L = &lay_x64_14393;
	else if (!strcmp(name, "x64-7601"))
		L = &lay_x64_7601;
	else if (!strcmp(name, "x86-19045"))
		L = &lay_x86_19045;
	else if (!strcmp(name, "wow64-19045"))
		L = &lay_x86_19045, wow = true;
	if (!L) {
		fprintf(stderr, "mkheapdump: unknown scenario %s\n", name);
		return -1;
	}
	uint32_t major = L->build == 7601 ? 6 : 10, minor = L->build == 7601 ? 1 : 0;
	struct ctx c = { .L = L, .rnd = 0x1234567u ^ (unsigned)strlen(name), .runb_blocks = 12 };
	c.lfh_key7 = L->ps == 8 ? RTLP_LFH_KEY7_X64 : RTLP_LFH_KEY7_X86;
	/* the new scenarios must not change the pseudo-random sequence of the
	 * old ones: the Win7-LFH and resync names have their own seeds */
	if (L->win7 || corrupt == C_RESYNC || corrupt == C_SCAN)
		c.rnd ^= 0x9E3779B9u;
	c.md = db_md_new(wow || L->ps == 8 ? DB_ARCH_X64 : DB_ARCH_X86, major, minor, L->build);
	if (wow)
		db_md_set_wow64(c.md);
	c.m = db_md_mem(c.md);
	c.ex = fopen(expect, "w");
	if (!c.ex) {
		perror(expect);
		return -1;
	}
	fprintf(c.ex, "# mkheapdump %s: see tests/builder/ntheap/README.md\n", name);
	uint64_t heaps[3] = { 0x00A40000, 0x01230000, 0x02810000 };
	uint64_t corrupt_at[2] = { 0, 0 };
	unsigned nheaps = 3;
	if (big) {
		heaps[0] = 0x10000000;
		nheaps = 1;
		big_heap(&c, heaps[0], arg ? arg : 100000);
	} else {
		heap(&c, heaps[0], 0x2, true, true, 0x05000000, corrupt);
		corrupt_at[0] = c.corrupt_at;
		heap(&c, heaps[1], 0x1002, true, false, 0x06000000, crash ? corrupt : C_NONE);
		corrupt_at[1] = c.corrupt_at;
		heap(&c, heaps[2], 0x1002, false, false, 0x07000000, false);
	}
	/* PEB, ProcessHeaps array, TEB (section 1) */
	uint64_t PEB = 0x7F000000, ARR = 0x7F010000, TEB = 0x7F020000;
	if (wow) {
		/* TEB64 at TEB; TEB32 at TEB+0x2000 -> PEB32 */
		uint64_t PEB64 = 0x7F030000;
		db_mem_write_u64(c.m, TEB + 0x60, PEB64);
		db_mem_write_u64(c.m, TEB + 0x30, TEB);
		db_mem_write_u32(c.m, TEB + DB_WOW64_TEB32_OFFSET + L->teb_peb, (uint32_t)PEB);
		db_md_add_memory(c.md, TEB, 0x4000, DB_LIST_64);
		db_md_add_memory(c.md, PEB64, 0x1000, DB_LIST_64);
	} else {
		wptr(&c, TEB + L->teb_peb, PEB);
		wptr(&c, TEB + (L->ps == 8 ? 0x30 : 0x18), TEB);
		db_md_add_memory(c.md, TEB, 0x2000, DB_LIST_64);
	}
	wptr(&c, PEB + L->peb_heap, heaps[0]);
	db_mem_write_u32(c.m, PEB + L->peb_nheaps, nheaps);
	db_mem_write_u32(c.m, PEB + L->peb_maxheaps, 16);
	wptr(&c, PEB + L->peb_heaps, ARR);
	for (unsigned i = 0; i < nheaps; i++)
		wptr(&c, ARR + i * L->ps, heaps[i]);
	db_md_add_memory(c.md, PEB, 0x1000, DB_LIST_64);
	if (!noarray)
		db_md_add_memory(c.md, ARR, 0x1000, DB_LIST_64);
	fprintf(c.ex, "peb 0x%llx heaps=%u array_captured=%d\n", (unsigned long long)PEB, nheaps,
		noarray ? 0 : 1);
	if (corrupt == C_FREE_CHECKSUM)
		fprintf(c.ex, "corrupt 0x%llx\n", (unsigned long long)c.corrupt_at);
	if (L->lfh && !L->win7 && !big)
		fprintf(c.ex, "lfh_key 0x%x width=32 captured=0\n", RTLP_LFH_KEY);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	if (crash) {
		struct nhb_crash_in ci = { .md = c.md, .ex = c.ex, .heaps = { heaps[0], heaps[1] },
					   .corrupt = { corrupt_at[0], corrupt_at[1] } };
		nhb_crash(&ci, crash, &t);
	} else {
		db_md_add_thread(c.md, &t);
	}
	if (!wow) {
		struct db_md_module nt = { .name = "C:\\Windows\\System32\\ntdll.dll",
			.base = L->ps == 8 ? 0x7ffb0b120000ull : 0x77A20000ull,
			.size = 0x1f8000, .file_version = { (uint16_t)major, (uint16_t)minor,
							   (uint16_t)L->build, 1 } };
		db_md_add_module(c.md, &nt);
		if (L->win7)
			ntdll_image(&c, nt.base, nt.size, nt.base + (L->ps == 8 ? 0x1411E8 : 0x10D1E8));
	}
	fclose(c.ex);
	int rc = db_md_write(c.md, dmp);
	if (rc)
		fprintf(stderr, "mkheapdump: %s\n", db_error());
	db_md_free(c.md);
	return rc;
}

uint64_t nhb_write_process(struct db_mem *m, const char *layout, FILE *ex, unsigned runb_blocks,
			   nhb_capture_fn *fn, void *arg)
{
	const struct nhb_lay *L = NULL;
	if (!strcmp(layout, "x64-19045"))
		L = &lay_x64_19045;
	else if (!strcmp(layout, "x64-14393"))
		L = &lay_x64_14393;
	else if (!strcmp(layout, "x64-7601"))
		L = &lay_x64_7601;
	else if (!strcmp(layout, "x86-19045"))
		L = &lay_x86_19045;
	if (!L) {
		fprintf(stderr, "nhb_write_process: unknown layout %s\n", layout);
		return 0;
	}
	struct ctx c = { .L = L, .m = m, .ex = ex, .capture_fn = fn, .capture_arg = arg,
			 .rnd = 0x7654321u ^ (unsigned)strlen(layout),
			 .runb_blocks = runb_blocks ? runb_blocks : 12 };
	uint64_t heaps[3] = { 0x00A40000, 0x01230000, 0x02810000 };
	c.lfh_key7 = L->ps == 8 ? RTLP_LFH_KEY7_X64 : RTLP_LFH_KEY7_X86;
	heap(&c, heaps[0], 0x2, true, true, 0x05000000, C_NONE);
	heap(&c, heaps[1], 0x1002, true, false, 0x06000000, C_NONE);
	heap(&c, heaps[2], 0x1002, false, false, 0x07000000, C_NONE);
	uint64_t PEB = 0x7F000000, ARR = 0x7F010000;
	wptr(&c, PEB + L->peb_heap, heaps[0]);
	db_mem_write_u32(c.m, PEB + L->peb_nheaps, 3);
	db_mem_write_u32(c.m, PEB + L->peb_maxheaps, 16);
	wptr(&c, PEB + L->peb_heaps, ARR);
	for (unsigned i = 0; i < 3; i++)
		wptr(&c, ARR + i * L->ps, heaps[i]);
	capture(&c, PEB, 0x1000);
	capture(&c, ARR, 0x1000);
	fprintf(ex, "peb 0x%llx heaps=3 array_captured=1\n", (unsigned long long)PEB);
	return PEB;
}

uint64_t nhb_write_big_process(struct db_mem *m, unsigned long nblocks, FILE *ex,
			       nhb_capture_fn *fn, void *arg)
{
	struct ctx c = { .L = &lay_x64_19045, .m = m, .ex = ex, .capture_fn = fn, .capture_arg = arg,
			 .rnd = 0x55AA55u };
	uint64_t H = 0x10000000;
	big_heap(&c, H, nblocks);
	uint64_t PEB = 0x7F000000, ARR = 0x7F010000;
	const struct nhb_lay *L = c.L;
	wptr(&c, PEB + L->peb_heap, H);
	db_mem_write_u32(c.m, PEB + L->peb_nheaps, 1);
	db_mem_write_u32(c.m, PEB + L->peb_maxheaps, 16);
	wptr(&c, PEB + L->peb_heaps, ARR);
	wptr(&c, ARR, H);
	capture(&c, PEB, 0x1000);
	capture(&c, ARR, 0x1000);
	return PEB;
}
