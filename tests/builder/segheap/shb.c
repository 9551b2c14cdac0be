/* SPDX-License-Identifier: MIT */
/*
 * Segment-heap scenarios laid out from /work/shared/reference/layouts.md
 * (section 1 PEB/TEB, section 4 segment heap + Algorithm C, section 10
 * cautions) and the public sources named in README.md next to this file:
 *   S1  can1357/selene (layouts-x64-selene.json): x64 offsets;
 *   S2  ufrisk/MemProcFS vmm/vmmheap.c, vmmwininit.c: the walk, the
 *       page-segment signature constant (0 from 26100), the LFH shift;
 *   S6  ntdiff/headers: x86 ntdll 1809/1903 _SEGMENT_HEAP and the OLD
 *       _HEAP_SEG_CONTEXT; Win10_20H1_18885/x86 ntdll
 *       _HEAP_PAGE_RANGE_DESCRIPTOR (RangeFlagBits:5 + CommittedPageCount:3),
 *       _HEAP_VS_CHUNK_HEADER (x86 bitfields), _RTLP_HP_HEAP_GLOBALS;
 *   S10 shanepowell/DbgHelpUtils: page_range_flags_utils.h (RangeFlags
 *       values), heap_page_segment.cpp (x86 signature constant
 *       0xA2E64EAD), heap_vs_entry.cpp / segment_heap.cpp (VS header and
 *       page-offset decoding), segment_heap_utils.cpp (unused-bytes
 *       trailer), heap_lfh_subsegment.cpp (block iteration),
 *       large_alloc_entry.cpp, page_range_descriptor.cpp (backend
 *       UnusedBytes);
 *   S11 novafacing/vergilius-rs (via layouts.md): kernel copies.
 * Nothing here is taken from src/heap or src/types.
 */
#include "segheapbuilder.h"
#include "ntheapbuilder.h"	/* the independent NT-heap builder, for mixed processes */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Layout table (one row per scenario family)
 * ------------------------------------------------------------------- */
struct shb_lay {
	unsigned ps;			/* pointer size */
	uint32_t major, minor, build;
	/* PEB / TEB (layouts.md section 1) */
	uint32_t teb_peb, teb_self, peb_heap, peb_nheaps, peb_maxheaps, peb_heaps;
	/* _SEGMENT_HEAP */
	uint32_t h_sig, h_gflags, h_listindex, h_memstats;	/* 0 = not written */
	uint32_t h_large, h_large_res, h_large_com, h_segctx, h_segctx_size;
	uint32_t h_vsctx, h_lfhctx, h_vs_sublist;		/* h_vs_sublist 0 = not linked */
	/* _HEAP_SEG_CONTEXT */
	uint32_t c_mask, c_unitshift, c_ppus, c_firstdesc, c_maxalloc;
	uint32_t c_lfhctx, c_vsctx, c_heap, c_seglist, c_segcount, c_freeranges;
	/* _HEAP_PAGE_SEGMENT / _HEAP_PAGE_RANGE_DESCRIPTOR */
	uint32_t ps_sig, d_size, d_unused, d_extra, d_flags, d_unitsize;
	/* _HEAP_VS_SUBSEGMENT / _HEAP_VS_CHUNK_HEADER */
	uint32_t vs_commitbm, vs_size, vs_sig, vs_first, ch_size, ch_unit;
	/* _HEAP_LFH_SUBSEGMENT */
	uint32_t l_free, l_count, l_offsets, l_bitmap;
	/* _HEAP_LARGE_ALLOC_DATA */
	uint32_t la_va, la_pages, la_size;
	/* RtlpHpHeapGlobals.LfhKey offset */
	uint32_t g_lfhkey;
	uint64_t sig_const;		/* page-segment signature constant */
	bool shift26100;		/* LFH EncodedData shift (u32)(ss >> 12) */
	bool old_ctx;			/* x86 1809/1903 OLD _HEAP_SEG_CONTEXT */
	const char *ctx_name;
};

#define PEB64 .teb_peb = 0x60, .teb_self = 0x30, .peb_heap = 0x30, .peb_nheaps = 0xE8, \
	.peb_maxheaps = 0xEC, .peb_heaps = 0xF0, .ps = 8
#define PEB32 .teb_peb = 0x30, .teb_self = 0x18, .peb_heap = 0x18, .peb_nheaps = 0x88, \
	.peb_maxheaps = 0x8C, .peb_heaps = 0x90, .ps = 4
/* x64 common: _HEAP_SEG_CONTEXT (S1 2004+/Win11, S11 18362-22631),
 * page segment, descriptor (S1 2004+ and the TDC0471/windows-defs
 * Vergilius header), VS (S1, S11), LFH subsegment (S1), large (S1),
 * MemStats at 0x80 (S1 _SEGMENT_HEAP.MemStats, _HEAP_RUNTIME_MEMORY_STATS
 * TotalReservedPages 0 / TotalCommittedPages 8), ProcessHeapListIndex
 * 0x1C (S1 2004+), VsContext.SubsegmentList +0x20 (S1 _HEAP_VS_CONTEXT). */
#define X64COMMON PEB64, .h_sig = 0x10, .h_gflags = 0x14, .h_listindex = 0x1C, \
	.h_memstats = 0x80, .h_large = 0x48, .h_large_res = 0x58, .h_large_com = 0x60, \
	.h_segctx_size = 0xC0, .h_vs_sublist = 0x20, \
	.c_mask = 0, .c_unitshift = 8, .c_ppus = 9, .c_firstdesc = 0xA, .c_maxalloc = 0x10, \
	.c_lfhctx = 0x18, .c_vsctx = 0x20, .c_heap = 0x38, .c_seglist = 0x48, \
	.c_segcount = 0x58, .c_freeranges = 0x60, \
	.ps_sig = 0x10, .d_size = 0x20, .d_unused = 4, .d_extra = 8, .d_flags = 0x18, \
	.d_unitsize = 0x1F, \
	.vs_commitbm = 0x10, .vs_size = 0x20, .vs_sig = 0x22, .vs_first = 0x30, .ch_size = 0x10, \
	.ch_unit = 16, \
	.l_free = 0x20, .l_count = 0x22, .l_offsets = 0x28, .l_bitmap = 0x30, \
	.la_va = 0x18, .la_pages = 0x20, .la_size = 0x28, .g_lfhkey = 8
/* x86 common: page segment Signature 8 (S11), descriptor 0x10 bytes with
 * RangeFlags byte 0xC (RangeFlagBits:5, CommittedPageCount:3) and UnitSize
 * 0xF (S6 18885 ntdll, S11), VS subsegment (S6 1507/1903 ntdll, S11), VS
 * chunk header 8 bytes (S6 18885 ntdll), LFH subsegment (S6 1507/1809
 * ntdll, S11), large alloc data (S2, S6), RtlpHpHeapGlobals.LfhKey +4
 * (S6 18885 ntdll). */
#define X86COMMON PEB32, .h_sig = 8, .h_gflags = 0xC, \
	.ps_sig = 8, .d_size = 0x10, .d_unused = 4, .d_extra = 8, .d_flags = 0xC, \
	.d_unitsize = 0xF, \
	.vs_commitbm = 8, .vs_size = 0x14, .vs_sig = 0x16, .vs_first = 0x18, .ch_size = 8, \
	.ch_unit = 8, \
	.l_free = 0x10, .l_count = 0x12, .l_offsets = 0x18, .l_bitmap = 0x20, \
	.la_va = 0xC, .la_pages = 0x10, .la_size = 0x14, .g_lfhkey = 4
/* NEW x86 _HEAP_SEG_CONTEXT (0x80 bytes; S6 kernel 18282, S11 18362-19045). */
#define X86NEWCTX .h_segctx_size = 0x80, .c_mask = 0, .c_unitshift = 4, .c_ppus = 5, \
	.c_firstdesc = 6, .c_maxalloc = 0xC, .c_lfhctx = 0x14, .c_vsctx = 0x18, .c_heap = 0x24, \
	.c_seglist = 0x44, .c_segcount = 0x4C, .c_freeranges = 0x50
/* OLD x86 _HEAP_SEG_CONTEXT (0x50 bytes; S6 ntdll 1809 and 1903). */
#define X86OLDCTX .h_segctx_size = 0x50, .c_mask = 0, .c_unitshift = 4, .c_ppus = 5, \
	.c_firstdesc = 6, .c_maxalloc = 0xC, .c_lfhctx = 0x3C, .c_vsctx = 0x40, .c_heap = 0x4C, \
	.c_seglist = 0x14, .c_segcount = 0x1C, .c_freeranges = 0x20

#define SIGC64 0xA2E64EADA2E64EADull	/* S2 qwSignatureStaticKey, S10 */
#define SIGC32 0xA2E64EADull		/* S10 heap_page_segment.cpp (x86) */

/* x64 2004/20H2 (19041-19045): _SEGMENT_HEAP column "2004/20H2" (S1, S11). */
static const struct shb_lay lay_x64_19045 = { X64COMMON, .major = 10, .build = 19045,
	.h_segctx = 0x100, .h_vsctx = 0x280, .h_lfhctx = 0x340,
	.sig_const = SIGC64, .ctx_name = "new" };
/* x64 Windows 11 22000-22631: column "Win11" (S1, S11 22000/22621/22631). */
static const struct shb_lay lay_x64_22631 = { X64COMMON, .major = 10, .build = 22631,
	.h_segctx = 0x140, .h_vsctx = 0x2C0, .h_lfhctx = 0x380,
	.sig_const = SIGC64, .ctx_name = "new" };
/* x64 24H2 26100: structure offsets = the Win11 column (no 26100 layout
 * source was found: assumption, see README); signature constant 0 and the
 * LFH shift (u32)(ss >> 12) from S2 (layouts.md section 10). */
static const struct shb_lay lay_x64_26100 = { X64COMMON, .major = 10, .build = 26100,
	.h_segctx = 0x140, .h_vsctx = 0x2C0, .h_lfhctx = 0x380,
	.sig_const = 0, .shift26100 = true, .ctx_name = "new" };
/* x86 ntdll 1903 (18362): _SEGMENT_HEAP S6 1903 column, OLD context. */
static const struct shb_lay lay_x86_18362 = { X86COMMON, X86OLDCTX, .major = 10,
	.build = 18362, .h_large = 0x50, .h_large_res = 0x58, .h_large_com = 0x5C,
	.h_segctx = 0x60, .h_vsctx = 0x124, .h_lfhctx = 0x168,
	.sig_const = SIGC32, .old_ctx = true, .ctx_name = "old" };
/* x86 ntdll 1809 (17763): _SEGMENT_HEAP S6 1809 column (LfhContext 0x164,
 * sizeof 0x3A4), OLD context. */
static const struct shb_lay lay_x86_17763 = { X86COMMON, X86OLDCTX, .major = 10,
	.build = 17763, .h_large = 0x50, .h_large_res = 0x58, .h_large_com = 0x5C,
	.h_segctx = 0x60, .h_vsctx = 0x124, .h_lfhctx = 0x164,
	.sig_const = SIGC32, .old_ctx = true, .ctx_name = "old" };
/* x86 ntdll 2004+ (19045): the kernel layout (S11 18362-19045), NEW
 * context.  x86 ntdll 2004+ _SEGMENT_HEAP itself was not read (README). */
static const struct shb_lay lay_x86_19045 = { X86COMMON, X86NEWCTX, .major = 10,
	.build = 19045, .h_large = 0x44, .h_large_res = 0x4C, .h_large_com = 0x50,
	.h_segctx = 0x100, .h_vsctx = 0x200, .h_lfhctx = 0x2C0,
	.sig_const = SIGC32, .ctx_name = "new" };

/* RangeFlags values (S2 VmmHeapAlloc_SegRangeDescriptor: 0x0F VS, 0x0B LFH,
 * 3 "large"; S10 page_range_flags_utils.h: LFH_SUBSEGMENT 1, COMMITTED 2,
 * ALLOCATED 4, FIRST 8; 3 = BACKEND_SUBSEGMENT, 2 = FREE). */
#define RF_VS 0x0F
#define RF_LFH 0x0B
#define RF_BACKEND 0x03
#define RF_FREE_COMMITTED 0x02
#define RF_FREE 0x00
/* TreeSignature of an allocated range descriptor: value from memory
 * (Yason, BH USA 2016), not confirmed by a source read here. */
#define TREE_SIGNATURE 0xCCDDCCDDu

/* ---------------------------------------------------------------------
 * Builder state
 * ------------------------------------------------------------------- */
struct ctx {
	const struct shb_lay *L;
	struct db_md *md;		/* minidump scenarios; NULL for shb_write_process */
	shb_capture_fn *capture_fn;	/* shb_write_process: committed ranges */
	void *capture_arg;
	struct db_mem *m;
	FILE *ex;
	bool quiet;		/* unvouched segment: its blocks are not listed */
	bool big;		/* no per-block lines (big N) */
	bool top;		/* "-top": heap 1 has a page segment in the last MiB of the address space */
	uint64_t heap_key, lfh_key;
	uint64_t H;		/* current heap */
	uint64_t ctxaddr;	/* current _HEAP_SEG_CONTEXT */
	unsigned ci;		/* its index */
	uint64_t busy_count, busy_bytes, free_count, free_bytes, internal_count,
		 corrupt_count, large_count, nblocks;
	uint64_t reserved_pages, committed_pages;
	unsigned rnd;
	/* corruption knobs (x64-19045-corrupt) */
	uint64_t corrupt_vs_chunk;	/* index+1 of the VS chunk to break, in the next VS subsegment */
	bool corrupt_lfh_next;		/* break the next LFH subsegment's bitmap */
	unsigned corrupt_lfh_unused;	/* n: the n-th next LFH subsegment gets trailers past BlockSize */
	/* free page ranges of the current context (for FreePageRanges) */
	uint64_t freedesc[64];
	unsigned nfree;
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

static uint64_t rptr(struct ctx *c, uint64_t va)
{
	return c->L->ps == 8 ? db_mem_read_u64(c->m, va) : db_mem_read_u32(c->m, va);
}

static void list_init(struct ctx *c, uint64_t head)
{
	wptr(c, head, head);
	wptr(c, head + c->L->ps, head);
}

static void list_add(struct ctx *c, uint64_t head, uint64_t node)
{
	unsigned ps = c->L->ps;
	uint64_t last = rptr(c, head + ps);
	wptr(c, node, head);
	wptr(c, node + ps, last);
	wptr(c, last, node);
	wptr(c, head + ps, node);
}

/* A committed range: captured in the minidump, or handed to the caller
 * (who maps it in a process address space of a kernel dump). */
static void capture(struct ctx *c, uint64_t va, uint64_t size)
{
	uint64_t a = va & ~0xFFFull, len = up(va + size, 0x1000) - a;
	if (c->md)
		db_md_add_memory(c->md, a, len, DB_LIST_64);
	else if (c->capture_fn)
		c->capture_fn(c->capture_arg, a, len);
}

/* Application data: letters, so a user block never starts with a small
 * pointer-sized value (S10 reads 0x10/0x40 there as front padding). */
static void fill_user(struct ctx *c, uint64_t va, uint64_t n)
{
	if (!n)
		return;
	uint8_t b = (uint8_t)('A' + rnd(c) % 26);
	if (n <= 0x200) {
		db_mem_fill(c->m, va, b, n);
	} else {	/* big blocks: the first and last 0x100 bytes */
		db_mem_fill(c->m, va, b, 0x100);
		db_mem_fill(c->m, va + n - 0x100, b, 0x100);
	}
}

static void expect_block(struct ctx *c, uint64_t hdr, uint64_t user, uint64_t size,
			 uint64_t bsize, const char *state, const char *layer, uint64_t container,
			 const char *extra)
{
	if (c->quiet)
		return;	/* unvouched segment: neither listed nor counted */
	c->nblocks++;
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
	if (c->big)
		return;
	fprintf(c->ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=%s",
		(unsigned long long)hdr, (unsigned long long)user, (unsigned long long)size,
		(unsigned long long)bsize, state, layer);
	if (container)
		fprintf(c->ex, " container=0x%llx", (unsigned long long)container);
	if (extra)
		fprintf(c->ex, " %s", extra);
	fputc('\n', c->ex);
}

/* ---------------------------------------------------------------------
 * RB trees (RTL_RB_TREE {Root, Min|Encoded}; RTL_BALANCED_NODE {Left,
 * Right, ParentValue}; S6 x86 18885 and S1): a balanced tree over nodes
 * sorted by address, all black, Encoded = 0.
 * ------------------------------------------------------------------- */
static uint64_t rb_build(struct ctx *c, const uint64_t *n, int lo, int hi, uint64_t parent)
{
	if (lo > hi)
		return 0;
	int mid = (lo + hi) / 2;
	unsigned ps = c->L->ps;
	wptr(c, n[mid], rb_build(c, n, lo, mid - 1, n[mid]));
	wptr(c, n[mid] + ps, rb_build(c, n, mid + 1, hi, n[mid]));
	wptr(c, n[mid] + 2 * ps, parent);
	return n[mid];
}

static void rb_tree(struct ctx *c, uint64_t tree, const uint64_t *nodes, unsigned count)
{
	wptr(c, tree, count ? rb_build(c, nodes, 0, (int)count - 1, 0) : 0);
	wptr(c, tree + c->L->ps, count ? nodes[0] : 0);
}

/* ---------------------------------------------------------------------
 * VS subsegments (Algorithm C step 5; S10 heap_vs_subsegment.cpp)
 * ------------------------------------------------------------------- */
/* EncodedSegmentPageOffset = the chunk's page distance from the start of
 * its VS subsegment, XORed with the low bytes of the chunk address and
 * HeapKey (S10 segment_heap.cpp decodes the byte that way; the distance is
 * to the VS subsegment: a kernel segment-heap write-up (find_string hit
 * 55835463398, "page distance to the start of the VS subsegment") and an
 * HEVD exploit's locateVsSubSegment (hit 12122099449: subsegment = chunk -
 * (offset << 12) & ~0xfff).  The first version of this builder measured it
 * from the page segment; the walker's check caught it.) */
static void vs_chunk_header(struct ctx *c, uint64_t ch, uint64_t vs, uint64_t size,
			    uint64_t prev, bool busy, bool unused_flag)
{
	const struct shb_lay *L = c->L;
	uint8_t pageoff = (uint8_t)(((ch & ~0xFFFull) - vs) >> 12);
	uint32_t bits = (uint32_t)((uint8_t)(pageoff ^ (uint8_t)ch ^ (uint8_t)c->heap_key)) |
			(unused_flag ? 0x100u : 0);
	if (L->ps == 8) {
		/* MemoryCost 0:16, UnsafeSize 16:16, UnsafePrevSize 32:16, Allocated 48:8 */
		uint64_t s = ((size >> 4) << 16) | ((prev >> 4) << 32) | ((uint64_t)busy << 48);
		db_mem_write_u64(c->m, ch, s ^ ch ^ c->heap_key);
	} else {
		/* MemoryCost:1, UnsafeSize:15 @1, UnsafePrevSize:15 @16, Allocated:1 @31 */
		uint32_t s = (uint32_t)(((size >> 3) << 1) | ((prev >> 3) << 16) | ((uint32_t)busy << 31));
		db_mem_write_u32(c->m, ch, s ^ (uint32_t)ch ^ (uint32_t)c->heap_key);
	}
	if (busy)
		db_mem_write_u32(c->m, ch + L->ps, bits);	/* AllocatedChunkBits */
	/* free chunks: +8/+4 is the free-tree node; left zero (not linked) */
}

/* Unused-bytes trailer in the last WORD of a block (S1
 * _HEAP_VS_UNUSED_BYTES_INFO / _HEAP_LFH_UNUSED_BYTES_INFO; S10
 * segment_heap_utils.cpp read_extra_data): OneByteUnused (bit 15) when one
 * byte is unused, else the count. */
static void unused_trailer(struct ctx *c, uint64_t end, uint64_t unused)
{
	if (unused == 1)
		db_mem_write_u8(c->m, end - 1, 0x80);
	else
		db_mem_write_u16(c->m, end - 2, (uint16_t)unused);
}

struct vs_opts {
	uint64_t big_at;	/* chunk index + 1 of one busy chunk crossing pages */
	uint64_t big_size;
};

static void vs_subsegment(struct ctx *c, uint64_t vs, uint64_t len,
			  const struct vs_opts *o)
{
	const struct shb_lay *L = c->L;
	unsigned u = L->ch_unit, hdr = L->ch_size;
	uint64_t minc = 2 * hdr;
	if (L->h_vs_sublist)
		list_add(c, c->H + L->h_vsctx + L->h_vs_sublist, vs);
	uint64_t pages = len >> 12;
	db_mem_write_u64(c->m, vs + L->vs_commitbm, pages >= 64 ? ~0ull : ((1ull << pages) - 1));
	uint16_t size = (uint16_t)(len >> 4);	/* S10: Size << 4 = subsegment bytes */
	db_mem_write_u16(c->m, vs + L->vs_size, size);
	/* Signature = Size ^ 0x2BED in bits 0-14, FullCommit bit 15 set
	 * (layouts.md section 10: the walker must mask it). */
	db_mem_write_u16(c->m, vs + L->vs_sig, (uint16_t)(((size ^ 0x2BED) & 0x7FFF) | 0x8000));
	static const unsigned sizes[] = { 0x30, 0x50, 0x90, 0x110, 0x40, 0x210, 0x70, 0x20,
					  0x130, 0x60, 0x3F0, 0x80 };
	/* By offset in the subsegment (vs is page-aligned, so offsets and
	 * addresses share their page offsets): the "-top" scenario's
	 * subsegment ends at 2^64, where vs + len is 0. */
	uint64_t co = L->vs_first, prev = 0;
	unsigned i = 0;
	while (co < len) {
		uint64_t cur = vs + co;
		uint64_t page_end = (co & ~0xFFFull) + 0x1000;
		if (page_end > len)
			page_end = len;
		uint64_t rem = page_end - co;
		uint64_t want = (uint64_t)sizes[i % 12] / (16 / u);
		bool busy = (i % 4) != 3;
		uint64_t s;
		if (o && o->big_at == i + 1 && co + o->big_size + minc <= len) {
			s = o->big_size;
			uint64_t off = (co + s) & 0xFFF;
			if (off && 0x1000 - off < minc)
				s += 0x1000 - off;
			if (co + s > len || len - (co + s) < minc)
				s = len - co;
			busy = true;
		} else if (!busy && i % 8 == 7 && len - page_end >= 0x1000) {
			s = rem + 0x1000;	/* a free chunk spanning a page boundary */
		} else if (want >= rem || rem - want < minc) {
			s = rem;
		} else {
			s = want;
		}
		uint64_t unused = 0, req = 0;
		if (busy) {
			unsigned k = i % 5;
			uint64_t room = s - hdr;
			unused = k == 0 ? 0 : k == 1 ? 1 : 2 + (i * 7) % 0x30;
			if (unused >= room)
				unused = room - 1;
			req = room - unused;
		}
		bool bad = c->corrupt_vs_chunk && c->corrupt_vs_chunk == i + 1;
		vs_chunk_header(c, cur, vs, s, bad ? prev + 3 * u : prev, busy, unused != 0);
		if (busy) {
			fill_user(c, cur + hdr, req);
			if (unused)
				unused_trailer(c, cur + s, unused);
		}
		if (bad) {
			expect_block(c, cur, cur + hdr, 0, s, "corrupt", "segment-vs", vs, NULL);
			if (!c->quiet)
				fprintf(c->ex, "problem 0x%llx kind=vs-bad-prev-size\ncorrupt 0x%llx\n",
					(unsigned long long)cur, (unsigned long long)cur);
		} else if (busy) {
			expect_block(c, cur, cur + hdr, req, s, "busy", "segment-vs", vs, NULL);
		} else {
			expect_block(c, cur, cur + hdr, 0, s, "free", "segment-vs", vs, NULL);
		}
		prev = s;
		co += s;
		i++;
	}
	c->corrupt_vs_chunk = 0;
}

/* ---------------------------------------------------------------------
 * LFH subsegments (Algorithm C step 6, section 10 BlockBitmap; S10
 * heap_lfh_subsegment.cpp, heap_lfh_entry.cpp)
 * ------------------------------------------------------------------- */
static uint32_t lfh_shift(const struct ctx *c, uint64_t ss)
{
	return c->L->shift26100 ? (uint32_t)(ss >> 12) : ((uint32_t)ss >> 12);
}

/* The pattern of an LFH subsegment's blocks (README: -kinds, segment E). */
enum lfh_pattern { LFH_USUAL, LFH_WIDE, LFH_SPLIT };

/* wide: the "-kinds" scenarios' subsegment of large blocks (BlockSize >
 * 0x100), where the unused counts of busy blocks with a trailer spread over
 * 2..BlockSize-2 (a permutation of that range every BlockSize-3 blocks)
 * instead of 2..0x41: hundreds of distinct (busy, unused) pairs in one
 * subsegment.  Trailers are written as for the other subsegments. */
static void lfh_subsegment(struct ctx *c, uint64_t ss, uint64_t len, unsigned bsize, unsigned seed,
			   enum lfh_pattern pat)
{
	bool wide = pat == LFH_WIDE;
	const struct shb_lay *L = c->L;
	uint64_t count = (len - L->l_bitmap) / bsize, bm_bytes = 0, fbo = 0;
	for (int pass = 0; pass < 2; pass++) {
		/* one spare bitmap entry past BlockCount */
		bm_bytes = up(((count + 1) * 2 + 7) / 8, 8);
		fbo = up(L->l_bitmap + bm_bytes, 16);
		count = (len - fbo) / bsize;
	}
	bool bad = c->corrupt_lfh_next;
	c->corrupt_lfh_next = false;
	/* corrupt: the first two busy blocks with a trailer in each of the
	 * first two bitmap words (32 entries each) get a count past BlockSize:
	 * a walk reading a bitmap word at a time meets one pair in the word it
	 * reads entry by entry (the first) and one in a word it takes whole */
	bool bad_unused = c->corrupt_lfh_unused == 1;
	if (c->corrupt_lfh_unused)
		c->corrupt_lfh_unused--;
	unsigned nbad[2] = { 0, 0 };
	/* split: the start of the last, partial bitmap word, and the trailer
	 * blocks before it so far */
	uint64_t split_at = count & ~31ull, ntrail = 0;
	unsigned nfree = 0;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t b = ss + fbo + i * bsize;
		/* wide: the first 64 blocks busy (a run whose first free
		 * block comes after whole bitmap words without one) */
		bool busy = (wide && i < 64) || ((i * 7 + seed) % 5) != 0;
		bool has_unused = busy && (wide ? (i % 7) != 3 : (i % 3) == 1);
		uint64_t unused = 0;
		if (pat == LFH_SPLIT) {
			/* entry 0 of each word free, entry 1 busy without a
			 * trailer, the rest with a trailer: counts 2..255 in
			 * turn before the last (partial) word, so the blocks
			 * before it have exactly 256 distinct (state, unused)
			 * pairs, and 256, 257, ... in it: the 257th pair is
			 * its third block */
			busy = i % 32 != 0;
			has_unused = i % 32 > 1;
			if (has_unused)
				unused = i < split_at ? 2 + ntrail++ % 254 : 256 + (i - split_at);
		} else if (has_unused && wide)
			unused = (i % 11 == 1) ? 1 : 2 + (i * 37 + seed) % (bsize - 3);
		else if (has_unused)
			unused = (i % 9 == 1) ? 1 : 2 + (i * 5 + seed) % (bsize - 2 < 0x40 ? bsize - 2 : 0x40);
		uint8_t bits = (uint8_t)((busy ? 1 : 0) | (has_unused ? 2 : 0));
		uint64_t bmb = ss + L->l_bitmap + (i >> 2);
		uint8_t cur = 0;
		db_mem_read(c->m, bmb, &cur, 1);
		db_mem_write_u8(c->m, bmb, (uint8_t)(cur | bits << ((i & 3) * 2)));
		if (busy && has_unused && bad_unused && i < 64 && nbad[i / 32] < 2) {
			nbad[i / 32]++;
			/* a count the block cannot hold: the block is listed
			 * busy with no unused bytes, and a problem at it */
			fill_user(c, b, bsize);
			unused_trailer(c, b + bsize, bsize + 1 + i % 7);
			expect_block(c, b, b, bsize, bsize, "busy", "segment-lfh", ss, NULL);
			if (!c->quiet)
				fprintf(c->ex, "problem 0x%llx kind=lfh-bad-unused\n", (unsigned long long)b);
		} else if (busy) {
			uint64_t req = bsize - unused;
			fill_user(c, b, req);
			if (unused)
				unused_trailer(c, b + bsize, unused);
			expect_block(c, b, b, req, bsize, "busy", "segment-lfh", ss, NULL);
		} else {
			nfree++;
			expect_block(c, b, b, 0, bsize, "free", "segment-lfh", ss, NULL);
		}
	}
	if (bad) {
		/* bitmap inconsistent with the block count: a busy bit for the
		 * entry past BlockCount, and FreeCount that disagrees */
		uint64_t bmb = ss + L->l_bitmap + (count >> 2);
		uint8_t cur = 0;
		db_mem_read(c->m, bmb, &cur, 1);
		db_mem_write_u8(c->m, bmb, (uint8_t)(cur | 1u << ((count & 3) * 2)));
		nfree += 3;
		if (!c->quiet)
			fprintf(c->ex, "problem 0x%llx kind=lfh-bitmap-mismatch\n", (unsigned long long)ss);
	}
	db_mem_write_u16(c->m, ss + L->l_free, (uint16_t)nfree);
	db_mem_write_u16(c->m, ss + L->l_count, (uint16_t)count);
	uint32_t enc = ((uint32_t)bsize | (uint32_t)fbo << 16) ^ (uint32_t)c->lfh_key ^ lfh_shift(c, ss);
	db_mem_write_u32(c->m, ss + L->l_offsets, enc);
}

/* ---------------------------------------------------------------------
 * Page segments (Algorithm C steps 1-4)
 * ------------------------------------------------------------------- */
enum rkind { R_END, R_VS, R_LFH, R_BACKEND, R_FREEC, R_VSBIG, R_LFHWIDE, R_LFHSPLIT };
struct rplan {
	enum rkind kind;
	unsigned units;
	unsigned arg;		/* LFH, LFHWIDE: block size; BACKEND: unused bytes; VSBIG: big chunk size */
};

static const unsigned ctx_shift[2] = { 12, 16 };	/* 4 KiB / 64 KiB units */

static unsigned first_desc(const struct shb_lay *L, unsigned ci)
{
	/* the descriptor array (256 descriptors) occupies the first units */
	uint64_t bytes = 256ull * L->d_size;
	return (unsigned)((bytes + (1ull << ctx_shift[ci]) - 1) >> ctx_shift[ci]);
}

static void put_desc(struct ctx *c, uint64_t seg, unsigned r, uint8_t flags, uint8_t unit_size,
		     unsigned pages)
{
	const struct shb_lay *L = c->L;
	uint64_t d = seg + (uint64_t)r * L->d_size;
	uint8_t f = flags;
	/* x86: CommittedPageCount:3 shares the byte (S6 18885): set on allocated
	 * ranges so that a walker that does not mask 0x1F sees other values */
	if (L->ps == 4 && (flags & 1))
		f = (uint8_t)(flags | (pages > 7 ? 7 : pages) << 5);
	db_mem_write_u8(c->m, d + L->d_flags, f);
	db_mem_write_u8(c->m, d + L->d_unitsize, unit_size);
}

static void page_segment(struct ctx *c, uint64_t seg, const struct rplan *plan, bool bad_sig)
{
	const struct shb_lay *L = c->L;
	unsigned sh = ctx_shift[c->ci];
	unsigned fd = first_desc(L, c->ci);
	list_add(c, c->ctxaddr + L->c_seglist, seg);
	uint64_t sig = seg ^ c->ctxaddr ^ c->heap_key ^ L->sig_const;
	if (bad_sig)
		sig ^= 0x5A5A00005A5Aull;
	wptr(c, seg + L->ps_sig, sig);
	capture(c, seg, 256ull * L->d_size);
	c->reserved_pages += (256ull << sh) >> 12;
	c->committed_pages += (256ull * L->d_size + 0xFFF) >> 12;
	if (!c->big)
		fprintf(c->ex, "segment base=0x%llx first=0x%llx last=0x%llx context=%u unit_shift=%u first_index=%u%s\n",
			(unsigned long long)seg, (unsigned long long)(seg + ((uint64_t)fd << sh)),
			(unsigned long long)(seg + (256ull << sh)), c->ci, sh, fd,
			bad_sig ? " signature=bad" : "");
	if (bad_sig) {
		fprintf(c->ex, "problem 0x%llx kind=bad-page-segment-signature\n", (unsigned long long)seg);
		c->quiet = true;
	}
	unsigned r = fd;
	for (const struct rplan *p = plan; r < 256; p++) {
		unsigned n = p->kind == R_END ? 256 - r : p->units;
		if (n > 255)
			n = 255;
		uint64_t a = seg + ((uint64_t)r << sh), len = (uint64_t)n << sh;
		uint64_t d = seg + (uint64_t)r * L->d_size;
		uint8_t flags = RF_FREE;
		switch (p->kind) {
		case R_VS: case R_VSBIG: flags = RF_VS; break;
		case R_LFH: case R_LFHWIDE: case R_LFHSPLIT: flags = RF_LFH; break;
		case R_BACKEND: flags = RF_BACKEND; break;
		case R_FREEC: flags = RF_FREE_COMMITTED; break;
		case R_END: flags = RF_FREE; break;
		}
		put_desc(c, seg, r, flags, (uint8_t)n, (unsigned)(len >> 12));
		for (unsigned k = 1; k < n; k++)
			put_desc(c, seg, r + k, 0, (uint8_t)k, 0);	/* UnitOffset */
		if (flags != RF_FREE) {
			capture(c, a, len);
			c->committed_pages += len >> 12;
		}
		char extra[40];
		switch (p->kind) {
		case R_VS: case R_VSBIG: {
			expect_block(c, d, a, 0, len, "internal", "segment-backend", 0, "subsegment=vs");
			struct vs_opts o = { p->kind == R_VSBIG ? 3 : 0, p->arg };
			vs_subsegment(c, a, len, &o);
			break;
		}
		case R_LFH: case R_LFHWIDE: case R_LFHSPLIT:
			expect_block(c, d, a, 0, len, "internal", "segment-backend", 0, "subsegment=lfh");
			lfh_subsegment(c, a, len, p->arg, r,
				       p->kind == R_LFHWIDE ? LFH_WIDE : p->kind == R_LFHSPLIT ? LFH_SPLIT : LFH_USUAL);
			break;
		case R_BACKEND:
			db_mem_write_u32(c->m, d, TREE_SIGNATURE);
			db_mem_write_u32(c->m, d + L->d_unused, p->arg);
			fill_user(c, a, len - p->arg);
			snprintf(extra, sizeof extra, "unused=%u", p->arg);
			expect_block(c, d, a, len - p->arg, len, "busy", "segment-backend", 0, extra);
			break;
		case R_FREEC:
			c->freedesc[c->nfree++] = d;
			expect_block(c, d, a, 0, len, "free", "segment-backend", 0, NULL);
			break;
		case R_END:
			c->freedesc[c->nfree++] = d;
			if (!c->quiet && !c->big)
				fprintf(c->ex, "uncommitted 0x%llx size=0x%llx\n", (unsigned long long)a,
					(unsigned long long)len);
			break;
		}
		r += n;
		if (p->kind == R_END)
			break;
	}
	c->quiet = false;
}

/* One _HEAP_SEG_CONTEXT (i = 0 or 1) with its page segments. */
struct segspec {
	uint64_t base;
	const struct rplan *plan;
	bool bad_sig;
};

static unsigned context(struct ctx *c, unsigned ci, const struct segspec *segs, unsigned nseg)
{
	const struct shb_lay *L = c->L;
	uint64_t cx = c->H + L->h_segctx + ci * L->h_segctx_size;
	c->ci = ci;
	c->ctxaddr = cx;
	c->nfree = 0;
	unsigned sh = ctx_shift[ci];
	uint64_t segsize = 256ull << sh;
	wptr(c, cx + L->c_mask, ~(segsize - 1));
	db_mem_write_u8(c->m, cx + L->c_unitshift, (uint8_t)sh);
	db_mem_write_u8(c->m, cx + L->c_ppus, (uint8_t)(sh - 12));
	db_mem_write_u8(c->m, cx + L->c_firstdesc, (uint8_t)first_desc(L, ci));
	/* MaxAllocationSize: value from memory (Yason 2016), not used by the walk */
	db_mem_write_u32(c->m, cx + L->c_maxalloc, ci == 0 ? 0x7F000u : 0x7F0000u);
	wptr(c, cx + L->c_lfhctx, c->H + L->h_lfhctx);
	wptr(c, cx + L->c_vsctx, c->H + L->h_vsctx);
	wptr(c, cx + L->c_heap, c->H);
	list_init(c, cx + L->c_seglist);
	for (unsigned i = 0; i < nseg; i++)
		page_segment(c, segs[i].base, segs[i].plan, segs[i].bad_sig);
	wptr(c, cx + L->c_segcount, nseg);
	rb_tree(c, cx + L->c_freeranges, c->freedesc, c->nfree);
	return nseg;
}

/* ---------------------------------------------------------------------
 * Large allocations (Algorithm C step 7; S10 large_alloc_entry.cpp)
 * ------------------------------------------------------------------- */
struct lplan {
	uint64_t va, pages, unused;
};

static void large_allocs(struct ctx *c, uint64_t meta, const struct lplan *lp, unsigned n)
{
	const struct shb_lay *L = c->L;
	uint64_t nodes[8], res = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t node = meta + i * up(L->la_size, 16);
		nodes[i] = node;
		wptr(c, node + L->la_va, lp[i].va | lp[i].unused);
		/* ExtraPresent 0, GuardPageCount 0, AllocatedPages at bit 12 */
		wptr(c, node + L->la_pages, lp[i].pages << 12);
		uint64_t size = lp[i].pages << 12;
		fill_user(c, lp[i].va, size - lp[i].unused);
		capture(c, lp[i].va, size);
		res += lp[i].pages;
	}
	if (n)
		capture(c, meta, n * up(L->la_size, 16));
	rb_tree(c, c->H + L->h_large, nodes, n);
	wptr(c, c->H + L->h_large_res, res);
	wptr(c, c->H + L->h_large_com, res);
	c->reserved_pages += res;
	c->committed_pages += res;
	for (unsigned i = 0; i < n; i++) {
		uint64_t size = lp[i].pages << 12;
		c->large_count++;
		expect_block(c, nodes[i], lp[i].va, size - lp[i].unused, size, "busy", "segment-large",
			     0, NULL);
	}
}

/* ---------------------------------------------------------------------
 * Heaps
 * ------------------------------------------------------------------- */
static void heap_begin(struct ctx *c, uint64_t H, uint32_t gflags)
{
	const struct shb_lay *L = c->L;
	c->H = H;
	c->busy_count = c->busy_bytes = c->free_count = c->free_bytes = 0;
	c->internal_count = c->corrupt_count = c->large_count = c->nblocks = 0;
	c->reserved_pages = c->committed_pages = 1;	/* the _SEGMENT_HEAP page */
	db_mem_write_u32(c->m, H + L->h_sig, 0xDDEEDDEEu);
	db_mem_write_u32(c->m, H + L->h_gflags, gflags);
	if (L->h_vs_sublist)
		list_init(c, H + L->h_vsctx + L->h_vs_sublist);
	capture(c, H, 0x1000);
}

static void heap_end(struct ctx *c, unsigned list_index)
{
	const struct shb_lay *L = c->L;
	if (L->h_listindex)
		db_mem_write_u16(c->m, c->H + L->h_listindex, (uint16_t)list_index);
	if (L->h_memstats) {
		db_mem_write_u64(c->m, c->H + L->h_memstats, c->reserved_pages);
		db_mem_write_u64(c->m, c->H + L->h_memstats + 8, c->committed_pages);
	}
	fprintf(c->ex, "totals busy_count=%llu busy_bytes=%llu free_count=%llu free_bytes=%llu internal_count=%llu corrupt_count=%llu large_count=%llu blocks=%llu\n",
		(unsigned long long)c->busy_count, (unsigned long long)c->busy_bytes,
		(unsigned long long)c->free_count, (unsigned long long)c->free_bytes,
		(unsigned long long)c->internal_count, (unsigned long long)c->corrupt_count,
		(unsigned long long)c->large_count, (unsigned long long)c->nblocks);
	if (L->h_memstats)
		fprintf(c->ex, "memstats reserved_pages=%llu committed_pages=%llu list_index=%u\n",
			(unsigned long long)c->reserved_pages, (unsigned long long)c->committed_pages,
			list_index);
}

static void heap_line(struct ctx *c, uint64_t H, uint32_t gflags, unsigned nseg)
{
	fprintf(c->ex, "heap 0x%llx flags=0x%x segments=%u kind=segment signature=0xddeeddee context=%s\n",
		(unsigned long long)H, gflags, nseg, c->L->ctx_name);
}

/* Range plans.  Units are 4 KiB in context 0, 64 KiB in context 1. */
static struct rplan seg_a[] = {
	{ R_VS, 4, 0 }, { R_LFH, 1, 0 }, { R_LFH, 2, 0 }, { R_BACKEND, 3, 0x123 },
	{ R_FREEC, 2, 0 }, { R_BACKEND, 1, 0 }, { R_VS, 8, 0 }, { R_END, 0, 0 } };
static struct rplan seg_b[] = {
	{ R_LFH, 1, 0 }, { R_LFH, 1, 0 }, { R_VS, 2, 0 }, { R_BACKEND, 5, 0x7FF },
	{ R_END, 0, 0 } };
static struct rplan seg_c[] = {
	{ R_BACKEND, 2, 0x1F0 }, { R_LFH, 1, 0 }, { R_VSBIG, 1, 0 }, { R_FREEC, 1, 0 },
	{ R_END, 0, 0 } };
static struct rplan seg_d[] = {
	{ R_VS, 2, 0 }, { R_LFH, 1, 0 }, { R_BACKEND, 2, 0x10 }, { R_END, 0, 0 } };
/* "-kinds" scenarios only: heap 1's context-1 segment E.  A 64 KiB LFH
 * subsegment of small blocks (over 1024 blocks, few kinds), a 1.25 MiB
 * one of 0x400-byte blocks (0x200 on x86) with the wide unused spread
 * (over 512 distinct (busy, unused) pairs), and a 320 KiB one of the same
 * sizes whose 257th pair comes in its last, partial bitmap word. */
/* "-top" scenarios only: heap 1's second context-0 segment, at
 * 0xFFFFFFFFFFF00000, whose last range is a VS subsegment ending at 2^64
 * (an end address there is 0: a walker bound by addresses lists none of
 * its chunks). */
static struct rplan seg_top[] = {
	{ R_BACKEND, 2, 0x10 }, { R_FREEC, 0, 0 }, { R_VS, 64, 0 }, { R_END, 0, 0 } };
static struct rplan seg_e[] = {
	{ R_LFH, 1, 0 }, { R_LFHWIDE, 20, 0 }, { R_LFHSPLIT, 5, 0 }, { R_END, 0, 0 } };

/* LFH block sizes in bytes (x64; halved on x86) per plan slot. */
static void set_sizes(const struct shb_lay *L)
{
	unsigned d = L->ps == 8 ? 1 : 2;
	seg_a[1].arg = 0x20 / d;	/* 0x20: blocks never cross a page */
	seg_a[2].arg = 0x50 / d;	/* 0x50: some blocks cross pages */
	seg_b[0].arg = 0x100 / d;
	seg_b[1].arg = 0x30 / d;
	seg_c[1].arg = 0x400 / d;
	seg_c[2].arg = 0x1810 / d;	/* one busy VS chunk crossing pages */
	seg_d[1].arg = 0x40 / d;
	seg_e[0].arg = 0x20 / d;
	seg_e[1].arg = 0x400 / d;	/* > 0x100 on both: unused up to 0x3FE / 0x1FE */
	seg_e[2].arg = 0x400 / d;	/* room for unused counts up to 256 + 31 */
	/* -top: the free range up to the VS subsegment, which ends the segment */
	seg_top[1].units = 256 - first_desc(L, 0) - seg_top[0].units - seg_top[2].units;
}

/* ---------------------------------------------------------------------
 * ntdll image: a minimal PE header (Microsoft PE/COFF specification) with
 * .text/.rdata/.data sections, and RtlpHpHeapGlobals {HeapKey, LfhKey}
 * (S1, S6 18885 x86) inside .data.
 * ------------------------------------------------------------------- */
struct ntdll {
	uint64_t base;
	uint32_t size, data_rva, data_size, globals_off;
};

static void pe_header(struct ctx *c, const struct ntdll *n)
{
	bool pe64 = c->L->ps == 8;
	uint64_t b = n->base, nt = b + 0x80;
	db_mem_write_u16(c->m, b, 0x5A4D);		/* MZ */
	db_mem_write_u32(c->m, b + 0x3C, 0x80);	/* e_lfanew */
	db_mem_write_u32(c->m, nt, 0x00004550);	/* PE\0\0 */
	db_mem_write_u16(c->m, nt + 4, pe64 ? 0x8664 : 0x014C);
	db_mem_write_u16(c->m, nt + 6, 3);		/* NumberOfSections */
	uint16_t opt = pe64 ? 0xF0 : 0xE0;
	db_mem_write_u16(c->m, nt + 0x14, opt);
	db_mem_write_u16(c->m, nt + 0x16, 0x2022);	/* DLL | EXECUTABLE | LARGE_ADDRESS_AWARE */
	uint64_t oh = nt + 0x18;
	db_mem_write_u16(c->m, oh, pe64 ? 0x20B : 0x10B);
	if (pe64)
		db_mem_write_u64(c->m, oh + 0x18, b);
	else
		db_mem_write_u32(c->m, oh + 0x1C, (uint32_t)b);
	db_mem_write_u32(c->m, oh + 0x20, 0x1000);	/* SectionAlignment */
	db_mem_write_u32(c->m, oh + 0x24, 0x200);	/* FileAlignment */
	db_mem_write_u32(c->m, oh + 0x38, n->size);	/* SizeOfImage */
	db_mem_write_u32(c->m, oh + 0x3C, 0x400);	/* SizeOfHeaders */
	uint64_t sec = oh + opt;
	struct { const char *name; uint32_t rva, size, ch; } s[3] = {
		{ ".text", 0x1000, n->data_rva - 0x40000 - 0x1000, 0x60000020u },
		{ ".rdata", n->data_rva - 0x40000, 0x40000, 0x40000040u },
		{ ".data", n->data_rva, n->data_size, 0xC0000040u },
	};
	for (int i = 0; i < 3; i++) {
		uint64_t e = sec + 40ull * i;
		db_mem_write(c->m, e, s[i].name, strlen(s[i].name));
		db_mem_write_u32(c->m, e + 8, s[i].size);
		db_mem_write_u32(c->m, e + 0xC, s[i].rva);
		db_mem_write_u32(c->m, e + 0x10, up(s[i].size, 0x200));
		db_mem_write_u32(c->m, e + 0x14, 0x400 + s[i].rva);
		db_mem_write_u32(c->m, e + 0x24, s[i].ch);
	}
	capture(c, b, 0x1000);
}

static void globals(struct ctx *c, const struct ntdll *n, bool captured)
{
	uint64_t page = n->base + n->data_rva + (n->globals_off & ~0xFFFu);
	uint64_t g = n->base + n->data_rva + n->globals_off;
	/* the rest of the .data page: pseudo-random pointer-sized values */
	for (uint64_t a = page; a < page + 0x1000; a += c->L->ps)
		wptr(c, a, ((uint64_t)rnd(c) << 45) ^ ((uint64_t)rnd(c) << 30) ^ ((uint64_t)rnd(c) << 15) ^ rnd(c));
	wptr(c, g, c->heap_key);
	if (c->L->ps == 8)
		db_mem_write_u64(c->m, g + c->L->g_lfhkey, c->lfh_key);
	else
		db_mem_write_u32(c->m, g + c->L->g_lfhkey, (uint32_t)c->lfh_key);
	if (captured)
		capture(c, page, 0x1000);
	fprintf(c->ex, "keys heap_key=0x%llx lfh_key=0x%llx lfh_key_stored=0x%llx globals=0x%llx globals_captured=%d signature_constant=0x%llx lfh_shift=%s\n",
		(unsigned long long)c->heap_key, (unsigned long long)(uint32_t)c->lfh_key,
		(unsigned long long)(c->L->ps == 8 ? c->lfh_key : (uint32_t)c->lfh_key),
		(unsigned long long)g, captured ? 1 : 0, (unsigned long long)c->L->sig_const,
		c->L->shift26100 ? "addr_shift_then_truncate" : "truncate_then_shift");
}

/* ---------------------------------------------------------------------
 * Scenarios
 * ------------------------------------------------------------------- */
const char *const shb_scenarios[] = {
	"x64-19045", "x64-19045-nokey", "x64-22631", "x64-26100", "x64-26100-unlisted",
	"x64-19045-mixed", "x64-19045-top", "x86-17763",
	"x86-18362", "x86-19045",
	"wow64-19045", "x64-19045-corrupt", "x64-19045-kinds", "x86-19045-kinds", "big", NULL };

static int process(struct ctx *c, const char *name, bool wow, bool corrupt, bool nokey,
		   bool unlisted, bool mixed, bool kinds)
{
	const struct shb_lay *L = c->L;
	bool x64 = L->ps == 8;
	uint64_t H0 = x64 ? 0x25A3B000000ull : 0x03000000, H1 = x64 ? 0x25A4B000000ull : 0x08000000;
	set_sizes(L);
	struct ntdll nt = x64 ? (struct ntdll){ 0x7FFB2F870000ull, 0x1F8000, 0x16A000, 0xB000, 0x8C0 }
			      : (struct ntdll){ 0x77A20000ull, 0x1A4000, 0x127000, 0x6000, 0x4A0 };
	(void)name;
	/* heap 0: two context-0 segments, one context-1 segment, large blocks */
	heap_line(c, H0, 0, 3);
	heap_begin(c, H0, 0);
	struct segspec s0[2] = { { H0 + 0x100000, seg_a, false }, { H0 + 0x200000, seg_b, corrupt } };
	if (corrupt) {
		c->corrupt_vs_chunk = 5;	/* fifth chunk of seg A's first VS subsegment */
		c->corrupt_lfh_next = true;	/* seg A's first LFH subsegment */
		c->corrupt_lfh_unused = 2;	/* seg A's second LFH subsegment */
	}
	context(c, 0, s0, 2);
	struct segspec s1[1] = { { H0 + 0x1000000, seg_c, false } };
	context(c, 1, s1, 1);
	uint64_t lv = H0 + 0x4000000;
	struct lplan lp[3] = { { lv, 0x21, 0x7F0 }, { lv + 0x100000, 0x100, 0x1000 },
			       { lv + 0x200000, 0x81, 0 } };
	large_allocs(c, H0 + 0x3F00000, lp, 3);
	heap_end(c, 1);
	/* mixed: an NT heap between the two segment heaps (tests/builder/ntheap),
	 * its lines in ProcessHeaps order */
	uint64_t NT = 0x00A40000;
	if (mixed && nhb_add_heap(c->md, c->ex, x64 ? "x64-19045" : "x86-19045", NT, 0x05000000))
		return -1;
	/* heap 1: one context-0 segment, empty context 1, no large blocks */
	heap_line(c, H1, 0, (kinds ? 2 : 1) + (c->top ? 1 : 0));
	if (unlisted)	/* 24H2: ProcessHeaps holds only the first heap (x64dbg#3478) */
		fprintf(c->ex, "unlisted 0x%llx\n", (unsigned long long)H1);
	heap_begin(c, H1, 0);
	struct segspec s2[2] = { { H1 + 0x100000, seg_d, false }, { 0xFFFFFFFFFFF00000ull, seg_top, false } };
	context(c, 0, s2, c->top ? 2 : 1);
	/* -kinds: context 1 with segment E (16 MiB aligned, like seg C) */
	struct segspec s3[1] = { { H1 + 0x1000000, seg_e, false } };
	context(c, 1, kinds ? s3 : NULL, kinds ? 1 : 0);
	large_allocs(c, 0, NULL, 0);
	heap_end(c, mixed ? 3 : 2);
	globals(c, &nt, !nokey);
	pe_header(c, &nt);
	/* PEB, ProcessHeaps, TEB (layouts.md section 1) */
	uint64_t PEB = 0x7F000000, ARR = 0x7F010000, TEB = 0x7F020000;
	if (wow) {
		uint64_t P64 = 0x7F030000;
		db_mem_write_u64(c->m, TEB + 0x60, P64);
		db_mem_write_u64(c->m, TEB + 0x30, TEB);
		db_mem_write_u32(c->m, TEB + DB_WOW64_TEB32_OFFSET + L->teb_peb, (uint32_t)PEB);
		db_md_add_memory(c->md, TEB, 0x4000, DB_LIST_64);
		db_md_add_memory(c->md, P64, 0x1000, DB_LIST_64);
	} else {
		wptr(c, TEB + L->teb_peb, PEB);
		wptr(c, TEB + L->teb_self, TEB);
		db_md_add_memory(c->md, TEB, 0x2000, DB_LIST_64);
	}
	unsigned listed = unlisted ? 1 : mixed ? 3 : 2;
	wptr(c, PEB + L->peb_heap, H0);
	db_mem_write_u32(c->m, PEB + L->peb_nheaps, listed);
	db_mem_write_u32(c->m, PEB + L->peb_maxheaps, 16);
	wptr(c, PEB + L->peb_heaps, ARR);
	wptr(c, ARR, H0);
	if (mixed) {
		wptr(c, ARR + L->ps, NT);
		wptr(c, ARR + 2 * L->ps, H1);
	} else if (!unlisted) {
		wptr(c, ARR + L->ps, H1);
	}
	db_md_add_memory(c->md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(c->md, ARR, 0x1000, DB_LIST_64);
	fprintf(c->ex, "peb 0x%llx heaps=%u array_captured=1\n", (unsigned long long)PEB, listed);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(c->md, &t);
	if (!wow) {
		struct db_md_module m = { .name = "C:\\Windows\\System32\\ntdll.dll", .base = nt.base,
			.size = nt.size, .file_version = { (uint16_t)L->major, (uint16_t)L->minor,
							   (uint16_t)L->build, 1 } };
		db_md_add_module(c->md, &m);
	}
	return 0;
}

/* big N: one x64 19045 heap whose context-1 segments (16 MiB, 64 KiB
 * units) are filled with 64 KiB LFH subsegments of 16-byte blocks and,
 * every 16th range, a VS subsegment of 0x40-byte chunks, until at least N
 * blocks are written.  Each range is built in a staging buffer and copied
 * with one db_mem_write. */
static void big(struct ctx *c, unsigned long n)
{
	const struct shb_lay *L = c->L;
	uint64_t H = 0x25A3B000000ull;
	c->big = n > 200000;
	fprintf(c->ex, "big blocks>=%lu per_block_lines=%d\n", n, c->big ? 0 : 1);
	unsigned nseg = 0;
	const uint64_t units_per_seg = 255, ulen = 0x10000;
	/* LFH geometry for 16-byte blocks in 64 KiB: bitmap 1024 bytes */
	const uint64_t bsize = 0x10, fbo = up(L->l_bitmap + 1024, 16), count = (ulen - fbo) / bsize;
	/* ranges needed: LFH ranges hold `count` blocks, VS ranges (every
	 * 16th) 1023 chunks (0x50, then 0x40 each, from +0x30) */
	uint64_t need = 0, acc = 0;
	for (unsigned rr = 1; acc < n; rr = rr == units_per_seg ? 1 : rr + 1, need++)
		acc += (rr % 16) == 0 ? 1023 : count;
	nseg = (unsigned)((need + units_per_seg - 1) / units_per_seg);
	heap_line(c, H, 0, nseg);
	heap_begin(c, H, 0);
	c->ci = 1;
	c->ctxaddr = H + L->h_segctx + L->h_segctx_size;
	/* context 0: empty */
	uint64_t cx0 = H + L->h_segctx;
	db_mem_write_u8(c->m, cx0 + L->c_unitshift, 12);
	db_mem_write_u8(c->m, cx0 + L->c_firstdesc, (uint8_t)first_desc(L, 0));
	wptr(c, cx0 + L->c_mask, ~0xFFFFFull);
	wptr(c, cx0 + L->c_heap, H);
	list_init(c, cx0 + L->c_seglist);
	uint64_t cx = c->ctxaddr;
	wptr(c, cx + L->c_mask, ~0xFFFFFFull);
	db_mem_write_u8(c->m, cx + L->c_unitshift, 16);
	db_mem_write_u8(c->m, cx + L->c_ppus, 4);
	db_mem_write_u8(c->m, cx + L->c_firstdesc, (uint8_t)first_desc(L, 1));
	wptr(c, cx + L->c_heap, H);
	list_init(c, cx + L->c_seglist);
	uint8_t *buf = malloc(ulen);
	if (!buf)
		abort();
	uint64_t written = 0;
	for (unsigned s = 0; s < nseg; s++) {
		uint64_t seg = H + 0x1000000ull * (s + 1);
		list_add(c, cx + L->c_seglist, seg);
		wptr(c, seg + L->ps_sig, seg ^ cx ^ c->heap_key ^ L->sig_const);
		c->reserved_pages += 4096;
		c->committed_pages += 2;
		fprintf(c->ex, "segment base=0x%llx first=0x%llx last=0x%llx context=1 unit_shift=16 first_index=1\n",
			(unsigned long long)seg, (unsigned long long)(seg + ulen),
			(unsigned long long)(seg + 0x1000000));
		unsigned r;
		for (r = 1; r < 256 && need; r++, need--) {
			uint64_t a = seg + r * ulen, d = seg + r * L->d_size;
			bool vs = (r % 16) == 0;
			db_mem_write_u8(c->m, d + L->d_flags, vs ? RF_VS : RF_LFH);
			db_mem_write_u8(c->m, d + L->d_unitsize, 1);
			memset(buf, 0, ulen);
			if (!c->big)
				fprintf(c->ex, "block header=0x%llx user=0x%llx size=0 block_size=%llu state=internal layer=segment-backend subsegment=%s\n",
					(unsigned long long)d, (unsigned long long)a, (unsigned long long)ulen,
					vs ? "vs" : "lfh");
			uint64_t b_busy = 0, b_free = 0, bytes_busy = 0, bytes_free = 0;
			if (!vs) {
				unsigned nfree = 0;
				for (uint64_t i = 0; i < count; i++) {
					unsigned k = (unsigned)(i % 8);
					uint8_t bits = k == 7 ? 0 : k == 3 ? 3 : 1;
					buf[L->l_bitmap + (i >> 2)] |= (uint8_t)(bits << ((i & 3) * 2));
					if (bits == 3) {
						uint16_t un = (uint16_t)(2 + i % 6);
						memcpy(buf + fbo + i * bsize + bsize - 2, &un, 2);
						b_busy++, bytes_busy += bsize - un;
					} else if (bits == 1) {
						buf[fbo + i * bsize] = 'B';
						b_busy++, bytes_busy += bsize;
					} else {
						nfree++;
						b_free++, bytes_free += bsize;
					}
					if (!c->big)
						fprintf(c->ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=segment-lfh container=0x%llx\n",
							(unsigned long long)(a + fbo + i * bsize),
							(unsigned long long)(a + fbo + i * bsize),
							(unsigned long long)(bits == 3 ? bsize - (2 + i % 6) : bits ? bsize : 0),
							(unsigned long long)bsize, bits ? "busy" : "free",
							(unsigned long long)a);
				}
				uint16_t v16 = (uint16_t)nfree;
				memcpy(buf + L->l_free, &v16, 2);
				v16 = (uint16_t)count;
				memcpy(buf + L->l_count, &v16, 2);
				uint32_t enc = ((uint32_t)bsize | (uint32_t)fbo << 16) ^ (uint32_t)c->lfh_key ^
					       lfh_shift(c, a);
				memcpy(buf + L->l_offsets, &enc, 4);
			} else {
				uint16_t size = (uint16_t)(ulen >> 4), sig = (uint16_t)(((size ^ 0x2BED) & 0x7FFF) | 0x8000);
				memcpy(buf + L->vs_size, &size, 2);
				memcpy(buf + L->vs_sig, &sig, 2);
				uint64_t bm = 0xFFFF;
				memcpy(buf + L->vs_commitbm, &bm, 8);
				uint64_t off = L->vs_first, prev = 0;
				unsigned i = 0;
				while (off < ulen) {
					uint64_t sz = off == L->vs_first ? 0x50 : 0x40;
					bool busy = (i % 4) != 3;
					uint64_t ch = a + off;
					uint64_t sv = ((sz >> 4) << 16) | ((prev >> 4) << 32) | ((uint64_t)busy << 48);
					sv ^= ch ^ c->heap_key;
					memcpy(buf + off, &sv, 8);
					if (busy) {
						uint32_t bits = (uint8_t)((uint8_t)((ch - a) >> 12) ^ (uint8_t)ch ^
									  (uint8_t)c->heap_key);
						memcpy(buf + off + 8, &bits, 4);
						buf[off + 0x10] = 'V';
						b_busy++, bytes_busy += sz - 0x10;
					} else {
						b_free++, bytes_free += sz;
					}
					if (!c->big)
						fprintf(c->ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=segment-vs container=0x%llx\n",
							(unsigned long long)ch, (unsigned long long)(ch + 0x10),
							(unsigned long long)(busy ? sz - 0x10 : 0),
							(unsigned long long)sz, busy ? "busy" : "free",
							(unsigned long long)a);
					prev = sz;
					off += sz;
					i++;
				}
			}
			db_mem_write(c->m, a, buf, ulen);
			c->busy_count += b_busy, c->busy_bytes += bytes_busy;
			c->free_count += b_free, c->free_bytes += bytes_free;
			c->internal_count++;
			c->nblocks += b_busy + b_free + 1;
			written += b_busy + b_free;
			c->committed_pages += 16;
		}
		if (r < 256) {	/* the rest of the last segment: one free uncommitted range */
			db_mem_write_u8(c->m, seg + r * L->d_size + L->d_flags, RF_FREE);
			db_mem_write_u8(c->m, seg + r * L->d_size + L->d_unitsize, (uint8_t)(256 - r));
			if (!c->big)
				fprintf(c->ex, "uncommitted 0x%llx size=0x%llx\n", (unsigned long long)(seg + r * ulen),
					(unsigned long long)((256 - r) * ulen));
		}
		capture(c, seg, (uint64_t)r * ulen);
	}
	free(buf);
	wptr(c, cx + L->c_segcount, nseg);
	fprintf(c->ex, "big written_blocks=%llu segments=%u\n", (unsigned long long)written, nseg);
	heap_end(c, 1);
	struct ntdll nt = { 0x7FFB2F870000ull, 0x1F8000, 0x16A000, 0xB000, 0x8C0 };
	globals(c, &nt, true);
	pe_header(c, &nt);
	uint64_t PEB = 0x7F000000, ARR = 0x7F010000, TEB = 0x7F020000;
	wptr(c, TEB + L->teb_peb, PEB);
	wptr(c, TEB + L->teb_self, TEB);
	db_md_add_memory(c->md, TEB, 0x2000, DB_LIST_64);
	wptr(c, PEB + L->peb_heap, H);
	db_mem_write_u32(c->m, PEB + L->peb_nheaps, 1);
	db_mem_write_u32(c->m, PEB + L->peb_maxheaps, 16);
	wptr(c, PEB + L->peb_heaps, ARR);
	wptr(c, ARR, H);
	db_md_add_memory(c->md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(c->md, ARR, 0x1000, DB_LIST_64);
	fprintf(c->ex, "peb 0x%llx heaps=1 array_captured=1\n", (unsigned long long)PEB);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(c->md, &t);
	struct db_md_module m = { .name = "C:\\Windows\\System32\\ntdll.dll", .base = nt.base,
		.size = nt.size, .file_version = { 10, 0, 19045, 1 } };
	db_md_add_module(c->md, &m);
}

int shb_build(const char *name, unsigned long arg, const char *dmp, const char *expect)
{
	const struct shb_lay *L = NULL;
	bool wow = false, corrupt = false, nokey = false, isbig = false, unlisted = false,
	     mixed = false, kinds = false, top = false;
	if (!strcmp(name, "x64-19045"))
		L = &lay_x64_19045;
	else if (!strcmp(name, "x64-19045-nokey"))
		L = &lay_x64_19045, nokey = true;
	else if (!strcmp(name, "x64-19045-corrupt"))
		L = &lay_x64_19045, corrupt = true;
	else if (!strcmp(name, "x64-22631"))
		L = &lay_x64_22631;
	else if (!strcmp(name, "x64-26100"))
		L = &lay_x64_26100;
	else if (!strcmp(name, "x64-19045-mixed"))
		L = &lay_x64_19045, mixed = true;
	else if (!strcmp(name, "x64-26100-unlisted"))
		L = &lay_x64_26100, unlisted = true;
	else if (!strcmp(name, "x64-19045-kinds"))
		L = &lay_x64_19045, kinds = true;
	else if (!strcmp(name, "x64-19045-top"))
		L = &lay_x64_19045, top = true;
	else if (!strcmp(name, "x86-19045-kinds"))
		L = &lay_x86_19045, kinds = true;
	else if (!strcmp(name, "x86-18362"))
		L = &lay_x86_18362;
	else if (!strcmp(name, "x86-19045"))
		L = &lay_x86_19045;
	else if (!strcmp(name, "x86-17763"))
		L = &lay_x86_17763;
	else if (!strcmp(name, "wow64-19045"))
		L = &lay_x86_19045, wow = true;
	else if (!strcmp(name, "big"))
		L = &lay_x64_19045, isbig = true;
	if (!L) {
		fprintf(stderr, "mksegheapdump: unknown scenario %s\n", name);
		return -1;
	}
	struct ctx c = { .L = L, .rnd = 0x5E6A11u ^ (unsigned)strlen(name) * 7919u };
	/* keys: fixed per scenario family (the process-wide RtlpHpHeapGlobals) */
	c.heap_key = L->ps == 8 ? 0x9C3B5A7E1D2F4061ull : 0x6B1E4D29u;
	c.lfh_key = L->ps == 8 ? 0x3E8C1F6A52B7D049ull : 0x52B7D049u;
	c.top = top;
	c.md = db_md_new(wow || L->ps == 8 ? DB_ARCH_X64 : DB_ARCH_X86, L->major, L->minor, L->build);
	if (wow)
		db_md_set_wow64(c.md);
	c.m = db_md_mem(c.md);
	c.ex = fopen(expect, "w");
	if (!c.ex) {
		perror(expect);
		db_md_free(c.md);
		return -1;
	}
	fprintf(c.ex, "# mksegheapdump %s: see tests/builder/segheap/README.md\n", name);
	fprintf(c.ex, "scenario %s arch=%s build=%u context=%s\n", name,
		wow ? "wow64" : L->ps == 8 ? "x64" : "x86", L->build, L->ctx_name);
	int rc = 0;
	if (isbig)
		big(&c, arg ? arg : 100000);
	else
		rc = process(&c, name, wow, corrupt, nokey, unlisted, mixed, kinds);
	fclose(c.ex);
	if (!rc)
		rc = db_md_write(c.md, dmp);
	if (rc)
		fprintf(stderr, "mksegheapdump: %s\n", db_error());
	db_md_free(c.md);
	return rc;
}

/* ---------------------------------------------------------------------
 * The two segment heaps of the x64/x86 scenarios, ntdll's image with
 * RtlpHpHeapGlobals, appended to an existing process's PEB.ProcessHeaps
 * (a kernel dump's process, whose NT heaps the ntheap builder wrote).
 * ------------------------------------------------------------------- */
int shb_write_process(struct db_mem *m, const char *layout, uint64_t peb, FILE *ex,
		      shb_capture_fn *fn, void *arg, struct shb_image *ntdll)
{
	const struct shb_lay *L = NULL;
	if (!strcmp(layout, "x64-19045"))
		L = &lay_x64_19045;
	else if (!strcmp(layout, "x64-22631"))
		L = &lay_x64_22631;
	else if (!strcmp(layout, "x64-26100"))
		L = &lay_x64_26100;
	if (!L) {
		fprintf(stderr, "shb_write_process: unknown layout %s (x64 rows only)\n", layout);
		return -1;
	}
	struct ctx c = { .L = L, .m = m, .ex = ex, .capture_fn = fn, .capture_arg = arg,
			 .rnd = 0x5E6A11u ^ (unsigned)strlen(layout) * 104729u };
	c.heap_key = 0x9C3B5A7E1D2F4061ull;
	c.lfh_key = 0x3E8C1F6A52B7D049ull;
	set_sizes(L);
	/* heap addresses: away from the ntheap builder's (0xA40000-0x7FFFFFF,
	 * PEB 0x7F000000) */
	uint64_t H0 = 0x25A3B000000ull, H1 = 0x25A4B000000ull;
	struct ntdll nt = { 0x7FFB2F870000ull, 0x1F8000, 0x16A000, 0xB000, 0x8C0 };
	/* PEB.NumberOfHeaps / ProcessHeaps (layouts.md section 1) as the
	 * caller left them: the new heaps go after the listed ones */
	uint32_t n = db_mem_read_u32(m, peb + L->peb_nheaps);
	uint32_t max = db_mem_read_u32(m, peb + L->peb_maxheaps);
	uint64_t arr = rptr(&c, peb + L->peb_heaps);
	if (!arr || n + 2 > max) {
		fprintf(stderr, "shb_write_process: PEB 0x%llx has no room in ProcessHeaps (%u of %u)\n",
			(unsigned long long)peb, n, max);
		return -1;
	}
	heap_line(&c, H0, 0, 3);
	heap_begin(&c, H0, 0);
	struct segspec s0[2] = { { H0 + 0x100000, seg_a, false }, { H0 + 0x200000, seg_b, false } };
	context(&c, 0, s0, 2);
	struct segspec s1[1] = { { H0 + 0x1000000, seg_c, false } };
	context(&c, 1, s1, 1);
	uint64_t lv = H0 + 0x4000000;
	struct lplan lp[3] = { { lv, 0x21, 0x7F0 }, { lv + 0x100000, 0x100, 0x1000 },
			       { lv + 0x200000, 0x81, 0 } };
	large_allocs(&c, H0 + 0x3F00000, lp, 3);
	heap_end(&c, n + 1);
	heap_line(&c, H1, 0, 1);
	heap_begin(&c, H1, 0);
	struct segspec s2[1] = { { H1 + 0x100000, seg_d, false } };
	context(&c, 0, s2, 1);
	context(&c, 1, NULL, 0);
	large_allocs(&c, 0, NULL, 0);
	heap_end(&c, n + 2);
	globals(&c, &nt, true);
	pe_header(&c, &nt);
	wptr(&c, arr + (uint64_t)n * L->ps, H0);
	wptr(&c, arr + (uint64_t)(n + 1) * L->ps, H1);
	db_mem_write_u32(m, peb + L->peb_nheaps, n + 2);
	fprintf(ex, "peb 0x%llx heaps=%u array_captured=1\n", (unsigned long long)peb, n + 2);
	if (ntdll) {
		ntdll->base = nt.base;
		ntdll->size = nt.size;
		ntdll->data = nt.base + nt.data_rva;
		ntdll->data_size = nt.data_size;
	}
	return 0;
}
