/* SPDX-License-Identifier: MIT */
/*
 * NT heap scenarios laid out from /work/shared/reference/layouts.md only
 * (never from src/heap or src/types), so the builder and the walker check
 * each other.  Offsets: see struct nhb_lay and the tables below; each
 * cites the layouts.md section it comes from.
 */
#include "ntheapbuilder.h"

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
/* x86 1809+ column */
static const struct nhb_lay lay_x86_19045 = { SEG86, .flags = 0x40, .force = 0x44,
	.encmask = 0x4C, .encoding = 0x50, .signature = 0x60, .ucrlist = 0x8C,
	.vab = 0x9C, .seglist = 0xA4, .feh = 0xE4, .feht = 0xEA,
	.heap_size = 0x258, .lfh = true, .build = 19045 };

#define RTLP_LFH_KEY 0x5A17C3E9u	/* our RtlpLFHKey (S5 convention) */

struct ctx {
	const struct nhb_lay *L;
	struct db_md *md;
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
};

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
	put_entry(c, e, (uint16_t)(bs / u), 0x09, r->prev, r->segidx, (uint8_t)(bs - u - ubsize), false);
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
			expect_block(c, b, b + u, req, stride, "busy", "lfh");
		} else {
			expect_block(c, b, b + u, 0, stride, "free", "lfh");
		}
	}
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
	db_md_add_memory(c->md, v, commit, DB_LIST_64);
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
		db_md_add_memory(c->md, p->base, p->ucr_at - p->base, DB_LIST_64);
		if (p->ucr_at + p->ucr_size < p->base + p->size)
			db_md_add_memory(c->md, p->ucr_at + p->ucr_size,
					 p->base + p->size - p->ucr_at - p->ucr_size, DB_LIST_64);
	} else {
		db_md_add_memory(c->md, p->base, p->size, DB_LIST_64);
	}
}

/* Populates one run with a mix of busy / free blocks (and LFH containers). */
static void fill_run(struct ctx *c, struct run *r, unsigned nblocks, bool lfh, bool corrupt_mid)
{
	unsigned u = c->L->unit;
	for (unsigned i = 0; i < nblocks; i++) {
		if (lfh && i == 2)
			lfh_container(c, r, 0x30 / u * (u == 16 ? 1 : 2) + 0, 24, 1);
		if (lfh && i == 5)
			lfh_container(c, r, 0x80 / u, 12, 3);
		if (corrupt_mid && i == nblocks / 2)
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
		 uint64_t vbase, bool corrupt)
{
	const struct nhb_lay *L = c->L;
	unsigned u = L->unit;
	c->heap = H;
	c->busy_count = c->busy_bytes = c->free_count = c->free_bytes = 0;
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
		wptr(c, c->lfh + L->lfh_heap, H);
		wptr(c, H + L->feh, c->lfh);
		db_mem_write_u8(c->m, H + L->feht, 2);
	}
	fill_run(c, &r, 30, lfh && L->lfh, corrupt);
	close_run(c, &r);
	struct run r2 = { p0.ucr_at + p0.ucr_size, p0.base + p0.size, 0, 0 };
	fill_run(c, &r2, 12, false, false);
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
		fill_run(c, &r3, 15, false, false);
		close_run(c, &r3);
	}
	large(c, vbase, 0x20000 + 0x123);
	large(c, vbase + 0x100000, 0x41000 - 0x10);
	fprintf(c->ex, "totals busy_count=%llu busy_bytes=%llu free_count=%llu free_bytes=%llu\n",
		(unsigned long long)c->busy_count, (unsigned long long)c->busy_bytes,
		(unsigned long long)c->free_count, (unsigned long long)c->free_bytes);
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

int nhb_build(const char *name, unsigned long arg, const char *dmp, const char *expect)
{
	const struct nhb_lay *L = NULL;
	bool wow = false, corrupt = false, noarray = false, big = false;
	if (!strcmp(name, "x64-19045"))
		L = &lay_x64_19045;
	else if (!strcmp(name, "big"))
		L = &lay_x64_19045, big = true;
	else if (!strcmp(name, "x64-19045-corrupt"))
		L = &lay_x64_19045, corrupt = true;
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
	struct ctx c = { .L = L, .rnd = 0x1234567u ^ (unsigned)strlen(name) };
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
	unsigned nheaps = 3;
	if (big) {
		heaps[0] = 0x10000000;
		nheaps = 1;
		big_heap(&c, heaps[0], arg ? arg : 100000);
	} else {
		heap(&c, heaps[0], 0x2, true, true, 0x05000000, corrupt);
		heap(&c, heaps[1], 0x1002, true, false, 0x06000000, false);
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
	if (corrupt)
		fprintf(c.ex, "corrupt 0x%llx\n", (unsigned long long)c.corrupt_at);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(c.md, &t);
	if (!wow) {
		struct db_md_module nt = { .name = "C:\\Windows\\System32\\ntdll.dll",
			.base = L->ps == 8 ? 0x7ffb0b120000ull : 0x77A20000ull,
			.size = 0x1f8000, .file_version = { (uint16_t)major, (uint16_t)minor,
							   (uint16_t)L->build, 1 } };
		db_md_add_module(c.md, &nt);
	}
	fclose(c.ex);
	int rc = db_md_write(c.md, dmp);
	if (rc)
		fprintf(stderr, "mkheapdump: %s\n", db_error());
	db_md_free(c.md);
	return rc;
}
