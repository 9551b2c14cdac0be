/* SPDX-License-Identifier: MIT */
/*
 * The segment heap walker (layouts.md §4, Algorithm C; S2 MemProcFS
 * VmmHeap_Initialize3264_SegmentHeap / VmmHeapAlloc_Seg*, read only; the
 * cautions of §10).  For both _HEAP_SEG_CONTEXTs of a heap: page segments
 * from SegmentListHead (signature identity checked), page-range
 * descriptors from FirstDescriptorIndex, then per range:
 *   RangeFlags 0x0F  VS subsegment: chunks (busy and free), size chain
 *   RangeFlags 0x0B  LFH subsegment: blocks from the 2-bit BlockBitmap
 *   RangeFlags 3     a page-range ("backend") allocation
 *   RangeFlags 2/0   a free page range, committed / uncommitted
 * then the large allocations of the RB tree at LargeAllocMetadata.
 *
 * Keys without symbols: HeapKey = page-segment Signature ^ segment ^
 * context ^ C (the identity of step 2 solved for the key), confirmed on a
 * second segment; LfhKey from RtlpHpHeapGlobals (the pointer-sized word
 * after HeapKey in ntdll's image) or, when that page is not captured,
 * recovered from the LFH subsegments themselves.  The route taken is a
 * heap note.
 *
 * Encodings not in layouts.md, from S10 (github.com/shanepowell/
 * DbgHelpUtils, segment_heap.cpp decode_vs_check_header, read with the
 * search tools): the VS chunk's Sizes (qword x64 / dword x86) are XORed
 * with chunk ^ HeapKey, EncodedSegmentPageOffset with the low bytes of the
 * chunk address and HeapKey, and the UnusedBytes bit is plain.  The requested size of a VS chunk or LFH block whose
 * "unused bytes" bit is set is its size less the WORD at its end
 * (M. V. Yason, Windows 10 Segment Heap Internals, BH USA 2016; §10).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/minidump.h>

#include "core/bits.h"
#include "core/endian.h"
#include "core/grow.h"
#include "heap/heap_internal.h"
#include "heap/segment_heap.h"

#define PAGE 0x1000u
#define MAX_PAGE_SEGMENTS 65536		/* per context: 64 GiB of 1 MiB segments */
#define MAX_LARGE_NODES (1u << 22)
#define MAX_TREE_DEPTH 128		/* a red-black tree of 2^22 nodes is < 45 deep */
#define MAX_KEY_SAMPLES 64
#define NDESC 256			/* descriptors per page segment (§4 DescArray[256]) */

/* RangeFlags of a range's first descriptor (S2 dispatches on 0x0F/0x0B/3;
 * S10 DbgHelpUtils page_range_flags_utils: bits LFH_SUBSEGMENT 1,
 * COMMITTED 2, ALLOCATED 4, FIRST 8): a free range is 0x02 when committed,
 * 0 when not (then it is address space, not a block). */
#define RF_COMMITTED 0x02
#define RF_LFH 0x0B
#define RF_VS 0x0F
#define RF_BACKEND 0x03
#define RF_FREE_COMMITTED 0x02
#define RF_FREE 0x00

/* ------------------------------------------------------------ offsets */

static const struct {
	enum ich_field f;
	size_t at;
	bool optional;
} segofs_fields[] = {
#define R(f, m) { ICH_F_##f, offsetof(struct segofs, m), false }
#define O(f, m) { ICH_F_##f, offsetof(struct segofs, m), true }
	R(SEGMENT_HEAP_SIGNATURE, sig), R(SEGMENT_HEAP_GLOBAL_FLAGS, global_flags),
	O(SEGMENT_HEAP_PROCESS_HEAP_LIST_INDEX, list_index),
	R(SEGMENT_HEAP_LARGE_ALLOC_METADATA, large_meta), R(SEGMENT_HEAP_LARGE_RESERVED_PAGES, large_reserved),
	R(SEGMENT_HEAP_LARGE_COMMITTED_PAGES, large_committed), R(SEGMENT_HEAP_SEG_CONTEXTS, seg_contexts),
	O(SEGMENT_HEAP_MEM_STATS, mem_stats),
	R(HEAP_SEG_CONTEXT_UNIT_SHIFT, ctx_unit_shift), R(HEAP_SEG_CONTEXT_FIRST_DESCRIPTOR_INDEX, ctx_fdi),
	R(HEAP_SEG_CONTEXT_SEGMENT_LIST_HEAD, ctx_list_head), R(HEAP_SEG_CONTEXT_SEGMENT_COUNT, ctx_seg_count),
	R(HEAP_SEG_CONTEXT_SIZEOF, ctx_size),
	R(HEAP_PAGE_SEGMENT_SIGNATURE, ps_sig), R(HEAP_PAGE_SEGMENT_SIZEOF, ps_size),
	R(PAGE_RANGE_DESCRIPTOR_UNUSED_BYTES, prd_unused), R(PAGE_RANGE_DESCRIPTOR_RANGE_FLAGS, prd_flags),
	R(PAGE_RANGE_DESCRIPTOR_UNIT_SIZE, prd_unit_size), R(PAGE_RANGE_DESCRIPTOR_SIZEOF, prd_size),
	R(HEAP_VS_SUBSEGMENT_SIZE, vs_size), R(HEAP_VS_SUBSEGMENT_SIGNATURE, vs_sig),
	R(HEAP_VS_SUBSEGMENT_SIZEOF, vs_sizeof), R(HEAP_VS_CHUNK_HEADER_SIZEOF, vs_chunk_hdr),
	R(HEAP_LFH_SUBSEGMENT_FREE_COUNT, lfh_free_count), R(HEAP_LFH_SUBSEGMENT_BLOCK_COUNT, lfh_block_count), R(HEAP_LFH_SUBSEGMENT_BLOCK_OFFSETS, lfh_block_offsets),
	R(HEAP_LFH_SUBSEGMENT_BLOCK_BITMAP, lfh_bitmap),
	R(HEAP_LARGE_ALLOC_DATA_VIRTUAL_ADDRESS, lad_va), R(HEAP_LARGE_ALLOC_DATA_ALLOCATED_PAGES, lad_pages),
	R(RTL_HP_HEAP_GLOBALS_LFH_KEY, globals_lfh_key),
#undef R
#undef O
};

struct ich_error *segofs_fill(const struct ich_layout *row, unsigned ptr, struct segofs *o)
{
	memset(o, 0, sizeof(*o));
	o->ptr = ptr;
	for (size_t i = 0; i < sizeof(segofs_fields) / sizeof(segofs_fields[0]); i++) {
		int32_t v = ich_layout_off(row, segofs_fields[i].f);
		if (v < 0 && !segofs_fields[i].optional)
			return ich_error_create(ICH_ERR_LAYOUT, "layout row \"%s\" (%s %u) has no %s, which the segment-heap walker needs",
						row ? row->label : "(none)", row ? row->module : "ntdll",
						row ? row->build_min : 0, ich_field_name(segofs_fields[i].f));
		*(int32_t *)((char *)o + segofs_fields[i].at) = v;
	}
	return NULL;
}

/* ------------------------------------------------------------ decoding */

uint64_t seg_signature_const(uint32_t build)
{
	return build >= 26100 ? 0 : 0xA2E64EADA2E64EADull;
}

uint32_t lfh_offsets_shift(uint64_t subseg, uint32_t build)
{
	/* §10: ((DWORD)subseg) >> 12 before 26100, (DWORD)(subseg >> 12) from 26100 */
	return build >= 26100 ? (uint32_t)(subseg >> 12) : (uint32_t)subseg >> 12;
}

void lfh_offsets_decode(uint32_t encoded, uint64_t subseg, uint32_t lfh_key, uint32_t build,
			uint16_t *block_size, uint16_t *first_offset)
{
	uint32_t d = encoded ^ lfh_key ^ lfh_offsets_shift(subseg, build);
	*block_size = (uint16_t)d;
	*first_offset = (uint16_t)(d >> 16);
}

bool lfh_offsets_plausible(uint16_t block_size, uint16_t first_offset, uint32_t block_count,
			   uint64_t range_len, unsigned bitmap_off, unsigned unit)
{
	/* S2: BlockSize < 0xFF8 and FirstBlockOffset inside the range; also
	 * the blocks start after the bitmap (2 bits per block) and fit. */
	if (block_size < unit || block_size >= 0xFF8 || block_size % 8)
		return false;
	if (!block_count || first_offset % 8)
		return false;
	uint64_t bitmap_end = bitmap_off + ((uint64_t)block_count * 2 + 7) / 8;
	if (first_offset < bitmap_end || first_offset > bitmap_end + 0x400)
		return false;
	return (uint64_t)first_offset + (uint64_t)block_count * block_size <= range_len;
}

size_t lfh_key_recover(const struct lfh_sample *s, size_t n, uint32_t build, unsigned bitmap_off,
		       unsigned unit, uint32_t *key)
{
	if (!n)
		return 0;
	size_t survivors = 0;
	uint64_t best_slack = UINT64_MAX;
	uint32_t sh0 = lfh_offsets_shift(s[0].subseg, build);
	uint64_t bitmap_end = bitmap_off + ((uint64_t)s[0].block_count * 2 + 7) / 8;
	for (uint32_t bs = unit; bs < 0xFF8; bs += unit) {
		for (uint64_t fo = (bitmap_end + 7) & ~7ull; fo <= bitmap_end + 0x400 && fo < 0x10000; fo += 8) {
			if (fo + (uint64_t)s[0].block_count * bs > s[0].range_len)
				break;
			uint32_t cand = s[0].encoded ^ sh0 ^ (bs | (uint32_t)fo << 16);
			uint64_t slack = 0;
			bool ok = true;
			for (size_t i = 0; i < n && ok; i++) {
				uint16_t b, f;
				lfh_offsets_decode(s[i].encoded, s[i].subseg, cand, build, &b, &f);
				ok = lfh_offsets_plausible(b, f, s[i].block_count, s[i].range_len, bitmap_off, unit);
				/* score: the gap between the bitmap's end and the
				 * first block (blocks follow the bitmap), then the
				 * room left after the last block */
				if (ok)
					slack += ((uint64_t)f - bitmap_off - ((uint64_t)s[i].block_count * 2 + 7) / 8) << 32 |
						 (s[i].range_len - f - (uint64_t)s[i].block_count * b);
			}
			if (!ok)
				continue;
			survivors++;
			if (slack < best_slack) {
				best_slack = slack;
				*key = cand;
			}
		}
	}
	return survivors;
}

/* ------------------------------------------------- per-process state */

struct seg_heap_info {
	uint64_t address;
	const struct ich_layout *row;
	struct segofs o;
};

struct seg_state {
	struct seg_heap_info *heaps;	size_t nheaps;
	bool keys_done;
	bool heap_key_known;
	uint64_t heap_key, sig_const;
	bool lfh_key_known;
	uint32_t lfh_key;
	const char *heap_key_route, *lfh_key_route;
};

static struct seg_state *state(struct ich_heaps *h)
{
	if (!h->seg)
		h->seg = calloc(1, sizeof(*h->seg));
	return h->seg;
}

void seg_state_free(struct ich_heaps *h)
{
	if (!h->seg)
		return;
	free(h->seg->heaps);
	free(h->seg);
	h->seg = NULL;
}

static const struct seg_heap_info *info_of(struct ich_heaps *h, uint64_t heap)
{
	if (!h->seg)
		return NULL;
	for (size_t i = 0; i < h->seg->nheaps; i++)
		if (h->seg->heaps[i].address == heap)
			return &h->seg->heaps[i];
	return NULL;
}

static uint64_t ctx_addr(const struct segofs *o, uint64_t heap, unsigned i)
{
	return heap + (uint64_t)o->seg_contexts + (uint64_t)i * (uint64_t)o->ctx_size;
}

/* A context's shape under o: UnitShift and FirstDescriptorIndex plausible,
 * SegmentListHead a consistent list head. */
static bool ctx_plausible(struct ich_heaps *h, const struct segofs *o, uint64_t ctx,
			  char *why, size_t whylen)
{
	uint8_t us, fdi;
	uint64_t head = ctx + (uint64_t)o->ctx_list_head, flink, blink;
	struct ich_error *err = ich_as_read_u8(h->as, ctx + (uint64_t)o->ctx_unit_shift, &us);
	if (!err)
		err = ich_as_read_u8(h->as, ctx + (uint64_t)o->ctx_fdi, &fdi);
	if (!err)
		err = ich_as_read_ptr(h->as, head, &flink);
	if (err) {
		snprintf(why, whylen, "%s", err->message);
		ich_error_destroy(err);
		return false;
	}
	if (us < 12 || us > 24 || fdi == 0) {
		snprintf(why, whylen, "HEAP_SEG_CONTEXT 0x%" PRIx64 ": UnitShift %u / FirstDescriptorIndex %u are not plausible",
			 ctx, us, fdi);
		return false;
	}
	if (flink == head)
		return true;	/* empty */
	if (flink & (PAGE - 1)) {
		snprintf(why, whylen, "HEAP_SEG_CONTEXT 0x%" PRIx64 ": SegmentListHead.Flink 0x%" PRIx64 " is not a page segment (not page-aligned)",
			 ctx, flink);
		return false;
	}
	err = ich_as_read_ptr(h->as, flink + o->ptr, &blink);
	if (err || blink != head) {
		snprintf(why, whylen, "HEAP_SEG_CONTEXT 0x%" PRIx64 ": page segment 0x%" PRIx64 "'s Blink does not point back to SegmentListHead",
			 ctx, flink);
		ich_error_destroy(err);
		return false;
	}
	return true;
}

void seg_heap_classify(struct ich_heaps *h, struct ich_heap *heap)
{
	heap->kind = ICH_HEAP_KIND_SEGMENT;
	struct seg_state *st = state(h);
	if (!st) {
		heap->status = ICH_HEAP_BAD_LAYOUT;
		snprintf(heap->reason, sizeof(heap->reason), "heap 0x%" PRIx64 ": out of memory", heap->address);
		return;
	}
	/* The build's row first, then the others of the arch (x86 1809/1903
	 * ntdll have the OLD _HEAP_SEG_CONTEXT, 2004+ the NEW one: probing
	 * the candidates tries both). */
	const struct ich_layout *cand[40];
	size_t nc = ich_layouts_candidates(h->layouts, "ntdll", h->arch, h->build, cand, 40);
	char first_why[200] = "", why[200] = "";
	for (size_t i = 0; i < nc; i++) {
		struct segofs o;
		struct ich_error *err = segofs_fill(cand[i], h->ptr, &o);
		if (err) {
			snprintf(why, sizeof(why), "%s", err->message);
			ich_error_destroy(err);
		} else {
			uint32_t sig = 0, gf = 0;
			err = ich_as_read_u32(h->as, heap->address + (uint64_t)o.sig, &sig);
			if (!err)
				err = ich_as_read_u32(h->as, heap->address + (uint64_t)o.global_flags, &gf);
			if (err) {
				snprintf(why, sizeof(why), "%s", err->message);
				ich_error_destroy(err);
			} else if (sig != SEGHEAP_SIGNATURE) {
				snprintf(why, sizeof(why), "SEGMENT_HEAP.Signature at +0x%x is 0x%08x", o.sig, sig);
			} else if (ctx_plausible(h, &o, ctx_addr(&o, heap->address, 0), why, sizeof(why)) &&
				   ctx_plausible(h, &o, ctx_addr(&o, heap->address, 1), why, sizeof(why))) {
				struct seg_heap_info *n = realloc(st->heaps, (st->nheaps + 1) * sizeof(*n));
				if (!n)
					break;
				st->heaps = n;
				n[st->nheaps++] = (struct seg_heap_info){ heap->address, cand[i], o };
				heap->layout = cand[i];
				heap->layout_fallback = i > 0;
				heap->flags = gf;
				heap->status = ICH_HEAP_OK;
				if (i > 0)
					heaps_note(h, "segment heap 0x%" PRIx64 ": the row for build %u failed (%s); row \"%s\" (%u) passes and is used",
						   heap->address, h->build, first_why, cand[i]->label, cand[i]->build_min);
				return;
			}
		}
		if (i == 0)
			snprintf(first_why, sizeof(first_why), "%s", why);
	}
	heap->status = ICH_HEAP_BAD_LAYOUT;
	snprintf(heap->reason, sizeof(heap->reason), "segment heap 0x%" PRIx64 ": no ntdll layout row fits (build %u row: %s)",
		 heap->address, h->build, first_why[0] ? first_why : "no row for this build");
}

/* ------------------------------------------------------ memory access */

/* A range's bytes: zero-copy when the dump holds them contiguously, else
 * a copy of what is readable (n = readable prefix). */
struct view {
	const uint8_t *p;
	uint8_t *owned;
	uint64_t base, n;
};

static void view_open(struct ich_heaps *h, uint64_t base, uint64_t len, struct view *v)
{
	v->base = base;
	v->owned = NULL;
	v->p = ich_as_peek(h->as, base, (size_t)len);
	v->n = v->p ? len : 0;
	if (v->p || !len || len > (64u << 20))
		return;
	v->owned = malloc((size_t)len);
	if (!v->owned)
		return;
	struct ich_read_result res;
	v->n = ich_as_read(h->as, base, v->owned, (size_t)len, &res);
	v->p = v->owned;
}


static void view_close(struct view *v)
{
	free(v->owned);
	memset(v, 0, sizeof(*v));
}

static bool view_has(const struct view *v, uint64_t a, uint64_t len)
{
	return a >= v->base && len <= v->n && a - v->base <= v->n - len;
}

static const uint8_t *view_at(const struct view *v, uint64_t a) { return v->p + (a - v->base); }

/* ---------------------------------------------------------------- keys */

struct seg_ref {
	uint64_t seg, ctx, sig;
};

/* Page segments of one context (the first max). */
struct seg_list {
	struct ich_heaps *h;
	const struct segofs *o;
	uint64_t ctx;
	struct seg_ref *v;	size_t n, max;
};

static struct ich_error *seg_list_cb(uint64_t node, void *arg)
{
	struct seg_list *l = arg;
	if (l->n >= l->max)
		return &ich_stop;
	uint64_t sig = 0;
	struct ich_error *err = ich_as_read_ptr(l->h->as, node + (uint64_t)l->o->ps_sig, &sig);
	ich_error_destroy(err);
	l->v[l->n++] = (struct seg_ref){ node, l->ctx, sig };
	return NULL;
}

static bool vs_key_check(struct ich_heaps *h, const struct segofs *o, uint64_t seg, unsigned unit_shift,
			 unsigned fdi, uint64_t key, bool *any);

/* Every walkable segment heap's first page segments. */
static size_t gather_segments(struct ich_heaps *h, struct seg_ref *v, size_t max)
{
	struct seg_state *st = h->seg;
	size_t n = 0;
	for (size_t i = 0; i < st->nheaps && n < max; i++) {
		for (unsigned c = 0; c < 2 && n < max; c++) {
			uint64_t ctx = ctx_addr(&st->heaps[i].o, st->heaps[i].address, c);
			struct seg_list l = { h, &st->heaps[i].o, ctx, v + n, 0, max - n < 8 ? max - n : 8 };
			ich_error_destroy(ich_as_list_walk(h->as, ctx + (uint64_t)st->heaps[i].o.ctx_list_head,
							   l.max + 1, true, seg_list_cb, &l, NULL));
			n += l.n;
		}
	}
	return n;
}

/* LFH subsegments of every segment heap, for checking / recovering LfhKey. */
static size_t gather_lfh(struct ich_heaps *h, const struct seg_ref *segs, size_t nsegs,
			 struct lfh_sample *out, size_t max)
{
	size_t n = 0;
	for (size_t s = 0; s < nsegs && n < max; s++) {
		const struct seg_heap_info *hi = NULL;
		for (size_t i = 0; i < h->seg->nheaps && !hi; i++)
			for (unsigned c = 0; c < 2; c++)
				if (ctx_addr(&h->seg->heaps[i].o, h->seg->heaps[i].address, c) == segs[s].ctx)
					hi = &h->seg->heaps[i];
		if (!hi)
			continue;
		const struct segofs *o = &hi->o;
		uint8_t us = 0, fdi = 0;
		struct ich_error *e0 = ich_as_read_u8(h->as, segs[s].ctx + (uint64_t)o->ctx_unit_shift, &us);
		if (!e0)
			e0 = ich_as_read_u8(h->as, segs[s].ctx + (uint64_t)o->ctx_fdi, &fdi);
		if (e0 || us < 12 || us > 24) {
			ich_error_destroy(e0);
			continue;
		}
		struct view v;
		view_open(h, segs[s].seg, (uint64_t)NDESC * (uint64_t)o->prd_size, &v);
		for (unsigned r = fdi; r < NDESC && n < max;) {
			uint64_t d = segs[s].seg + (uint64_t)r * (uint64_t)o->prd_size;
			if (!view_has(&v, d, (uint64_t)o->prd_size))
				break;
			uint8_t flags = view_at(&v, d + (uint64_t)o->prd_flags)[0] & 0x1F;
			uint8_t u = view_at(&v, d + (uint64_t)o->prd_unit_size)[0];
			if (!u || r + u > NDESC)
				break;
			if (flags == RF_LFH) {
				uint64_t sub = segs[s].seg + ((uint64_t)r << us);
				uint32_t enc;
				uint16_t bc;
				struct ich_error *e1 = ich_as_read_u32(h->as, sub + (uint64_t)o->lfh_block_offsets, &enc);
				struct ich_error *e2 = e1 ? NULL : ich_as_read_u16(h->as, sub + (uint64_t)o->lfh_block_count, &bc);
				if (!e1 && !e2)
					out[n++] = (struct lfh_sample){ sub, (uint64_t)u << us, enc, bc };
				ich_error_destroy(e1);
				ich_error_destroy(e2);
			}
			r += u;
		}
		view_close(&v);
	}
	return n;
}

static bool lfh_key_fits(const struct lfh_sample *s, size_t n, uint32_t key, uint32_t build,
			 unsigned bitmap_off, unsigned unit)
{
	for (size_t i = 0; i < n; i++) {
		uint16_t b, f;
		lfh_offsets_decode(s[i].encoded, s[i].subseg, key, build, &b, &f);
		if (!lfh_offsets_plausible(b, f, s[i].block_count, s[i].range_len, bitmap_off, unit))
			return false;
	}
	return true;
}

/* ntdll's image (the SysWOW64 copy for WOW64 heaps), from the process's
 * module list (process_modules.c: the minidump's, or PEB.Ldr's). */
static bool find_ntdll(struct ich_heaps *h, uint64_t *base, uint64_t *size)
{
	return heap_ntdll(h, base, size);
}

/* The first position from a (below lim, in steps of ptr) whose
 * pointer-sized word is key, or lim. */
static size_t find_word(const uint8_t *p, size_t a, size_t lim, unsigned ptr, uint64_t key)
{
	if (ptr == 8) {
		for (; a < lim; a += 8)
			if (ich_le64(p + a) == key)
				return a;
	} else {
		for (; a < lim; a += 4)
			if (ich_le32(p + a) == (uint32_t)key)
				return a;
	}
	return lim;
}

static void keys_ensure(struct ich_heaps *h)
{
	struct seg_state *st = h->seg;
	if (st->keys_done)
		return;
	st->keys_done = true;
	struct seg_ref segs[MAX_KEY_SAMPLES];
	size_t n = gather_segments(h, segs, MAX_KEY_SAMPLES);
	if (!n) {
		heaps_note(h, "segment heaps: no page segment is captured; HeapKey unknown");
		return;
	}
	/* HeapKey = Signature ^ segment ^ context ^ C; the value most
	 * segments agree on. */
	uint64_t mask = h->ptr == 8 ? UINT64_MAX : 0xFFFFFFFFu;
	st->sig_const = seg_signature_const(h->build) & mask;
	size_t best = 0, agree = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = (segs[i].sig ^ segs[i].seg ^ segs[i].ctx ^ st->sig_const) & mask;
		size_t a = 0;
		for (size_t j = 0; j < n; j++)
			a += ((segs[j].sig ^ segs[j].seg ^ segs[j].ctx ^ st->sig_const) & mask) == k;
		if (a > agree) {
			agree = a;
			best = i;
		}
	}
	st->heap_key = (segs[best].sig ^ segs[best].seg ^ segs[best].ctx ^ st->sig_const) & mask;
	st->heap_key_known = true;
	/* The constant C changed in 26100; the VS chunk headers tell which
	 * one the key must be solved with. */
	const struct seg_heap_info *hi0 = &st->heaps[0];
	for (size_t i = 0; i < n; i++) {
		const struct seg_heap_info *hi = NULL;
		for (size_t x = 0; x < st->nheaps && !hi; x++)
			for (unsigned c = 0; c < 2; c++)
				if (ctx_addr(&st->heaps[x].o, st->heaps[x].address, c) == segs[i].ctx)
					hi = &st->heaps[x];
		if (!hi)
			continue;
		uint8_t us = 12, fdi = 1;
		ich_error_destroy(ich_as_read_u8(h->as, segs[i].ctx + (uint64_t)hi->o.ctx_unit_shift, &us));
		ich_error_destroy(ich_as_read_u8(h->as, segs[i].ctx + (uint64_t)hi->o.ctx_fdi, &fdi));
		bool any = false;
		if (vs_key_check(h, &hi->o, segs[i].seg, us, fdi, st->heap_key, &any) || !any)
			continue;
		uint64_t other = seg_signature_const(h->build >= 26100 ? 0 : 26100) & mask;
		uint64_t k2 = st->heap_key ^ st->sig_const ^ other;
		if (vs_key_check(h, &hi->o, segs[i].seg, us, fdi, k2, &any)) {
			heaps_note(h, "segment heaps: VS chunk headers decode with the page-segment constant 0x%" PRIx64 " (not build %u's 0x%" PRIx64 "); using it",
				   other, h->build, st->sig_const);
			st->sig_const = other;
			st->heap_key = k2;
		}
		break;
	}
	(void)hi0;
	if (agree >= 2)
		heaps_note(h, "segment heaps: HeapKey 0x%0*" PRIx64 " from page segment 0x%" PRIx64 "'s signature, confirmed on %zu other segment%s",
			   (int)h->ptr * 2, st->heap_key, segs[best].seg, agree - 1, agree == 2 ? "" : "s");
	else
		heaps_note(h, "segment heaps: HeapKey 0x%0*" PRIx64 " from page segment 0x%" PRIx64 "'s signature (not confirmed: no second segment agrees)",
			   (int)h->ptr * 2, st->heap_key, segs[best].seg);
	if (agree < n)
		heaps_note(h, "segment heaps: %zu of %zu page segments do not agree on HeapKey (reported by the walk)", n - agree, n);

	/* LfhKey: RtlpHpHeapGlobals = { HeapKey, LfhKey } in ntdll's data. */
	struct lfh_sample samples[MAX_KEY_SAMPLES];
	size_t ns = gather_lfh(h, segs, n, samples, MAX_KEY_SAMPLES);
	const struct segofs *o = &hi0->o;
	unsigned unit = h->ptr == 8 ? 16 : 8;
	uint64_t nb, nsz;
	bool scanned = false;
	if (find_ntdll(h, &nb, &nsz) && nsz && nsz <= (64u << 20)) {
		/* every captured stretch of the image once, in place; a
		 * position needs HeapKey and the LfhKey after it */
		size_t need = h->ptr * 2u;
		if ((size_t)o->globals_lfh_key + 4 > need)
			need = (size_t)o->globals_lfh_key + 4;
		struct data_iter it;
		struct data_chunk c;
		heap_data_iter(&it, h, nb & ~(uint64_t)(PAGE - 1), nb + nsz, need);
		while (!st->lfh_key_known && data_iter_next(&it, &c)) {
			size_t lim = c.len < need ? 0 : c.len - need + 1;
			if (lim > c.starts)
				lim = c.starts;
			for (size_t a = data_first(&c, 0, h->ptr); a < lim; a += h->ptr) {
				scanned = true;
				a = find_word(c.p, a, lim, h->ptr, st->heap_key);
				if (a >= lim)
					break;
				uint32_t cand = (uint32_t)ich_le32(c.p + a + (size_t)o->globals_lfh_key);
				if (ns && !lfh_key_fits(samples, ns, cand, h->build, (unsigned)o->lfh_bitmap, unit))
					continue;
				st->lfh_key = cand;
				st->lfh_key_known = true;
				heaps_note(h, "segment heaps: LfhKey 0x%08x from RtlpHpHeapGlobals at 0x%" PRIx64 " in ntdll's data (next to HeapKey)%s",
					   cand, c.va + a, ns ? "; it decodes every LFH subsegment" : "; not checked: no LFH subsegment");
				break;
			}
		}
	}
	if (st->lfh_key_known || !ns) {
		if (!st->lfh_key_known)
			heaps_note(h, "segment heaps: LfhKey not found%s; no LFH subsegment needs it",
				   scanned ? " in ntdll's data" : " (ntdll's data is not in the dump)");
		return;
	}
	uint32_t key = 0;
	size_t surv = lfh_key_recover(samples, ns, h->build, (unsigned)o->lfh_bitmap, unit, &key);
	if (!surv) {
		heaps_note(h, "segment heaps: LfhKey not found%s, and no candidate decodes all %zu LFH subsegments: LFH blocks are not listed",
			   scanned ? " in ntdll's data" : " (ntdll's data is not in the dump)", ns);
		return;
	}
	st->lfh_key = key;
	st->lfh_key_known = true;
	if (surv == 1)
		heaps_note(h, "segment heaps: LfhKey 0x%08x recovered from %zu LFH subsegment%s (the only candidate that decodes every one to a plausible BlockSize/FirstBlockOffset)%s",
			   key, ns, ns == 1 ? "" : "s", scanned ? "; no captured page of ntdll holds HeapKey (RtlpHpHeapGlobals not in the dump)" : "; ntdll's data is not in the dump");
	else
		heaps_note(h, "segment heaps: LfhKey 0x%08x recovered from %zu LFH subsegment%s: %zu candidates decode every one; the tightest fit was chosen (ambiguous)%s",
			   key, ns, ns == 1 ? "" : "s", surv, scanned ? "" : "; ntdll's data is not in the dump");
}

/* ---------------------------------------------------------------- walk */

struct seg_walk {
	struct walk_ctx w;
	const struct segofs *o;
	struct seg_state *st;
	unsigned unit;			/* VS granule: 16 x64, 8 x86 */
	/* Totals only (no callback) or -stat's table: the LFH and VS loops
	 * count blocks in registers instead of building a block record per
	 * block (issue 12); stat is the table when the callback is -stat's. */
	bool bulk;
	struct heap_stat_table *stat;
	/* Walked views not yet released (adjacent ones merged): one madvise
	 * per few MiB instead of one per range. */
	const uint8_t *rel_p;
	size_t rel_n;
};

static bool emit(struct seg_walk *s, const struct ich_heap_block *b)
{
	return walk_emit(&s->w, b) != NULL;
}

/* Release the pending walked views' pages (see view_close_release). */
static void release_flush(struct seg_walk *s)
{
	if (s->rel_n && s->w.h->dump)
		ich_file_release(&s->w.h->dump->file, s->rel_p, s->rel_n);
	s->rel_p = NULL;
	s->rel_n = 0;
}

/* Done with a range: a zero-copy view's pages leave the resident set, so
 * walking a heap of any size keeps RSS to about one range plus RELEASE_BATCH
 * (issue 8: RSS well below the dump size).  Views that follow each other
 * in the file are released together: each madvise flushes the TLB, which
 * per 64 KiB range was ~7% of a walk's time (issue 12). */
#define RELEASE_BATCH (4u << 20)
static void view_close_release(struct seg_walk *s, struct view *v)
{
	if (v->p && !v->owned) {
		if (s->rel_n && s->rel_p + s->rel_n != v->p)
			release_flush(s);
		if (!s->rel_n)
			s->rel_p = v->p;
		s->rel_n += (size_t)v->n;
		if (s->rel_n >= RELEASE_BATCH)
			release_flush(s);
	}
	free(v->owned);
	memset(v, 0, sizeof(*v));
}

/* Does the first chunk of some VS subsegment of this segment decode with
 * key?  *any: there was a VS subsegment to try. */
static bool vs_key_check(struct ich_heaps *h, const struct segofs *o, uint64_t seg, unsigned unit_shift,
			 unsigned fdi, uint64_t key, bool *any)
{
	*any = false;
	struct view v;
	view_open(h, seg, (uint64_t)NDESC * (uint64_t)o->prd_size, &v);
	bool ok = false;
	for (unsigned r = fdi; r < NDESC && !*any;) {
		uint64_t d = seg + (uint64_t)r * (uint64_t)o->prd_size;
		if (!view_has(&v, d, (uint64_t)o->prd_size))
			break;
		uint8_t flags = view_at(&v, d + (uint64_t)o->prd_flags)[0] & 0x1F;
		uint8_t u = view_at(&v, d + (uint64_t)o->prd_unit_size)[0];
		if (!u || r + u > NDESC)
			break;
		if (flags == RF_VS) {
			uint64_t sub = seg + ((uint64_t)r << unit_shift), len = (uint64_t)u << unit_shift;
			unsigned hs = (unsigned)o->vs_chunk_hdr;
			uint64_t c = (sub + (uint64_t)o->vs_sizeof + hs - 1) & ~(uint64_t)(hs - 1);
			uint8_t raw[16];
			struct ich_read_result res;
			if (hs <= sizeof(raw) && ich_as_read(h->as, c, raw, hs, &res) == hs) {
				*any = true;
				struct vs_chunk vc;
				vs_chunk_decode(raw, c, key, o->ptr, &vc);
				ok = vc.size >= hs && c + vc.size <= sub + len && vc.prev_size == 0;
			}
		}
		r += u;
	}
	view_close(&v);
	return ok;
}

static void walk_vs(struct seg_walk *s, uint64_t seg, uint64_t sub, uint64_t len)
{
	struct ich_heap *heap = s->w.heap;
	const struct segofs *o = s->o;
	uint16_t size, sig;
	struct ich_error *err = ich_as_read_u16(s->w.h->as, sub + (uint64_t)o->vs_size, &size);
	if (!err)
		err = ich_as_read_u16(s->w.h->as, sub + (uint64_t)o->vs_sig, &sig);
	if (err) {
		heap_problem(heap, sub, "VS subsegment header not readable: %s", err->message);
		ich_error_destroy(err);
		return;
	}
	if (!vs_subsegment_sig_ok(size, sig))
		heap_problem(heap, sub, "VS subsegment signature fails: Size 0x%04x ^ Signature 0x%04x (FullCommit masked) is not 0x2bed",
			     size, sig & 0x7FFF);
	if (!s->st->heap_key_known) {
		heap_problem(heap, sub, "VS subsegment not walked: HeapKey unknown");
		return;
	}
	unsigned hs = (unsigned)o->vs_chunk_hdr;
	/* Offsets into the subsegment, not addresses: one that ends at 2^64
	 * has sub + len == 0, and an address bound would skip its chunks
	 * without a word. */
	uint64_t end = sub + len;
	uint64_t off = ((sub + (uint64_t)o->vs_sizeof + hs - 1) & ~(uint64_t)(hs - 1)) - sub;
	struct view v;
	view_open(s->w.h, sub, len, &v);
	uint32_t prev = 0;
	while (off <= len && len - off >= hs) {
		uint64_t c = sub + off;
		if (!view_has(&v, c, hs)) {
			heap_problem(heap, c, "VS chunk header not captured in this dump; rest of the subsegment (0x%" PRIx64 " bytes) not listed",
				     len - off);
			break;
		}
		struct vs_chunk vc;
		vs_chunk_decode(view_at(&v, c), c, s->st->heap_key, o->ptr, &vc);
		const char *bad = NULL;
		char why[128];
		bool bad_size = vc.size < hs || vc.size > len - off;
		if (bad_size)
			;
		else if (vc.prev_size != prev) {
			snprintf(why, sizeof(why), "UnsafePrevSize 0x%x does not match the previous chunk's size 0x%x",
				 vc.prev_size, prev);
			bad = why;
		} else if (vc.allocated) {
			/* The page of the chunk in its page segment (the builder,
			 * after S10) or in its subsegment (an exploit write-up):
			 * no cited source settles it, so either is accepted. */
			uint8_t in_seg = (uint8_t)((c - seg) >> 12), in_sub = (uint8_t)((c - sub) >> 12);
			if (vc.page_offset != in_seg && vc.page_offset != in_sub) {
				snprintf(why, sizeof(why), "EncodedSegmentPageOffset decodes to 0x%02x, expected 0x%02x (page of the chunk in its page segment)",
					 vc.page_offset, in_seg);
				bad = why;
			}
		}
		if (bad_size) {
			heap_problem(heap, c, "VS chunk header decodes to size 0x%x (subsegment ends at 0x%" PRIx64 "): not a chunk; rest of the subsegment (0x%" PRIx64 " bytes) not listed",
				     vc.size, end, len - off);
			struct ich_heap_block b = {
				.header = c, .user = c + hs, .block_size = len - off, .segment = sub,
				.state = ICH_BLOCK_CORRUPT, .layer = ICH_LAYER_SEG_VS,
			};
			emit(s, &b);
			break;
		}
		struct ich_heap_block b = {
			.header = c, .user = c + hs, .block_size = vc.size, .prev_size = vc.prev_size,
			.segment = sub, .layer = ICH_LAYER_SEG_VS, .flags = vc.allocated ? 1 : 0,
		};
		if (bad) {
			heap_problem(heap, c, "VS chunk: %s", bad);
			b.state = ICH_BLOCK_CORRUPT;
		} else if (vc.allocated) {
			uint64_t unused = 0;
			if (vc.unused_present && view_has(&v, c + vc.size - 2, 2))
				unused = unused_trailer((uint16_t)ich_le16(view_at(&v, c + vc.size - 2)), true);
			if (unused > vc.size - hs) {
				heap_problem(heap, c, "VS chunk: unused byte count 0x%" PRIx64 " exceeds the chunk's user size 0x%x",
					     unused, vc.size - hs);
				unused = 0;
			}
			b.state = ICH_BLOCK_BUSY;
			b.size = vc.size - hs - unused;
			b.unused = vc.size - b.size;
		} else {
			b.state = ICH_BLOCK_FREE;
			b.unused = vc.size;
		}
		if (emit(s, &b))
			break;
		prev = vc.size;
		off += vc.size;
	}
	view_close_release(s, &v);
}

/* Blocks i .. i + 31's bitmap entries (2 bits each; i < bc, a multiple
 * of 4) as one word, the entries past bc cleared; bits holds
 * (bc * 2 + 7) / 8 bytes. */
static inline uint64_t lfh_bitmap_word(const uint8_t *bits, uint32_t bc, uint32_t i)
{
	/* all 32 blocks below bc (every word but a subsegment's last):
	 * bytes i / 4 .. i / 4 + 7, inside the bitmap, nothing to clear */
	if (bc - i >= 32)
		return ich_le64(bits + i / 4);
	uint64_t bmlen = ((uint64_t)bc * 2 + 7) / 8, at = i / 4, wd;
	if (bmlen - at >= 8) {
		wd = ich_le64(bits + at);
	} else {
		wd = 0;
		for (uint64_t k = 0; k < bmlen - at; k++)
			wd |= (uint64_t)bits[at + k] << (8 * k);
	}
	if (bc - i < 32)
		wd &= ((uint64_t)1 << (2 * (bc - i))) - 1;
	return wd;
}

/* How many of the bc blocks have their busy bit (bit 0 of the entry) set. */
static uint32_t lfh_busy_count(const uint8_t *bits, uint32_t bc)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < bc; i += 32)
		n += ich_popcount64(lfh_bitmap_word(bits, bc, i) & 0x5555555555555555ull);
	return n;
}

/*
 * The lines of the trailers (a block's last 2 bytes) of the blocks
 * LFH_AHEAD bytes past blocks i .. i + 31 (blk0 the first block, bs
 * apart) requested now, none lim or more bytes past blk0 (lim: at most
 * the view's bytes from blk0): with each bitmap word (lfh_bulk, lfh_runs'
 * word path), as a trailer load is the walks' only read of block memory,
 * and without this each stalled (perf: ~60% of lfh_bulk's loop, a third
 * of lfh_runs') where a read pass streams.  A line apart, or a block apart
 * for blocks of a line or more (a block's other lines are not read).
 */
#define LFH_AHEAD 1536u
static inline void lfh_prefetch_trailers(const struct view *v, uint64_t blk0, uint32_t i, uint32_t bs,
					 uint64_t lim)
{
	uint64_t o = (uint64_t)i * bs + LFH_AHEAD + bs - 2, e = o + 32ull * bs;
	uint64_t step = bs < 64 ? 64 : bs;
	if (e > lim)
		e = lim;
	for (; o < e; o += step)
		__builtin_prefetch(view_at(v, blk0 + o));
}

/* An LFH subsegment's blocks counted into the totals (and -stat's table)
 * without a block record each: the 2-bit BlockBitmap is read 32 blocks at
 * a time, busy blocks counted by population count, and only a busy block
 * whose "unused bytes" bit is set is read (its trailer), in address order
 * as the per-block loop below reads them (same problems, same order). */
static void lfh_bulk(struct seg_walk *s, const struct view *v, const uint8_t *bits, uint32_t bc,
		     uint64_t blk0, uint16_t bs)
{
	struct ich_heap *heap = s->w.heap;
	uint64_t nbusy = 0, nfull = 0, unused_sum = 0;
	/* the prefetches' bound: the blocks' end, or the view's if it ends
	 * first */
	uint64_t pf_lim = (uint64_t)bc * bs, in_view = view_has(v, blk0, 0) ? v->n - (blk0 - v->base) : 0;
	if (pf_lim > in_view)
		pf_lim = in_view;
	for (uint32_t i = 0; i < bc && !s->w.err; i += 32) {
		uint64_t wd = lfh_bitmap_word(bits, bc, i);
		lfh_prefetch_trailers(v, blk0, i, bs, pf_lim);
		uint64_t busy = wd & 0x5555555555555555ull;
		uint64_t trail = (wd >> 1) & busy;
		unsigned nb = ich_popcount64(busy);
		nbusy += nb;
		nfull += nb - ich_popcount64(trail);
		for (; trail; trail &= trail - 1) {
			uint64_t blk = blk0 + (uint64_t)(i + (unsigned)__builtin_ctzll(trail) / 2) * bs;
			uint64_t unused = 0;
			if (view_has(v, blk + bs - 2, 2)) {
				unused = unused_trailer((uint16_t)ich_le16(view_at(v, blk + bs - 2)), false);
				if (unused > bs) {
					heap_problem(heap, blk, "LFH block: unused byte count 0x%" PRIx64 " exceeds BlockSize 0x%x", unused, bs);
					unused = 0;
				}
			}
			unused_sum += unused;
			if (!unused)
				nfull++;
			else if (s->stat && (s->w.err = heap_stat_add_n(s->stat, bs - unused, 1)))
				break;
		}
	}
	if (s->stat && nfull && !s->w.err)
		s->w.err = heap_stat_add_n(s->stat, bs, nfull);
	struct ich_heap_totals *t = &heap->totals;
	t->busy_count += nbusy;
	t->busy_bytes += nbusy * bs - unused_sum;
	t->free_count += bc - nbusy;
	t->free_bytes += (bc - nbusy) * bs;
}

/*
 * An LFH subsegment's blocks as runs for a run callback (walk_runs): the
 * per-block loop of walk_lfh, with each block's state, size and unused as
 * an index into the kinds met so far (a kind: busy, and a busy block's
 * unused bytes) instead of a block record and a callback each.  A run ends
 * after RUN_MAX blocks or before a block that would be a 257th kind;
 * problems are recorded for the same blocks in the same order as the loop
 * records them.
 */
#define RUN_MAX 1024u

/* The kinds of the run being built: busy << 16 | unused, + 1 (0: an empty
 * slot), to a kind by open addressing. */
struct run_kinds {
	unsigned nk;
	/* The kinds of a free block (key 1) and of a busy one with no
	 * unused bytes (key 0x10001), -1 until made: a block whose bitmap
	 * entry has no trailer bit has one of those two keys and takes its
	 * kind from here, without the probe (most blocks of a subsegment;
	 * issue 12).  Forgotten with the map at a 257th kind. */
	int k_free, k_busy0;
	struct ich_heap_block_kind kinds[256];
	uint32_t kcount[256];
	struct {
		uint32_t key;
		uint8_t k;
	} kmap[512];
};

/* Block blk's kind (bitmap entry st): its trailer read when st says it has
 * one, the kind looked up or made, the block counted in kcount and its
 * problem recorded; -1 (nothing done) when it would be a 257th kind. */
static inline __attribute__((always_inline)) int run_kind(struct run_kinds *rk, struct ich_heap *heap,
							   const struct view *v, bool all_in, unsigned st,
							   uint64_t blk, uint32_t bs)
{
	uint64_t unused = 0;
	bool bad = false;
	if ((st & 3) == 3 && (all_in || view_has(v, blk + bs - 2, 2))) {
		unused = unused_trailer((uint16_t)ich_le16(view_at(v, blk + bs - 2)), false);
		bad = unused > bs;
	}
	uint32_t key = ((st & 1u) << 16 | (uint32_t)(bad ? 0 : unused)) + 1;
	size_t slot = (key * 0x9E3779B1u) >> 23;
	while (rk->kmap[slot].key && rk->kmap[slot].key != key)
		slot = (slot + 1) & 511;
	if (!rk->kmap[slot].key) {
		if (rk->nk == 256)
			return -1;
		rk->kmap[slot].key = key;
		rk->kmap[slot].k = (uint8_t)rk->nk;
		rk->kcount[rk->nk] = 0;
		struct ich_heap_block_kind *kd = &rk->kinds[rk->nk++];
		if (st & 1) {
			kd->state = ICH_BLOCK_BUSY;
			kd->flags = 1;
			kd->unused = bad ? 0 : unused;
			kd->size = bs - kd->unused;
		} else {
			kd->state = ICH_BLOCK_FREE;
			kd->flags = 0;
			kd->size = 0;
			kd->unused = bs;
		}
	}
	int k = rk->kmap[slot].k;
	if (key == 1)
		rk->k_free = k;
	else if (key == 0x10001)
		rk->k_busy0 = k;
	if (bad)
		heap_problem(heap, blk, "LFH block: unused byte count 0x%" PRIx64 " exceeds BlockSize 0x%x", unused, bs);
	rk->kcount[k]++;
	return k;
}

/* The even bits of x (bits 0, 2, .., 62) as bits 0..31. */
static inline uint32_t even_bits(uint64_t x)
{
	x &= 0x5555555555555555ull;
	x = (x | x >> 1) & 0x3333333333333333ull;
	x = (x | x >> 2) & 0x0F0F0F0F0F0F0F0Full;
	x = (x | x >> 4) & 0x00FF00FF00FF00FFull;
	x = (x | x >> 8) & 0x0000FFFF0000FFFFull;
	x = (x | x >> 16) & 0x00000000FFFFFFFFull;
	return (uint32_t)x;
}

/* Bit j of m (j < 8) as byte j of the result: 1 or 0. */
static inline uint64_t bits_to_bytes(unsigned m)
{
	/* byte j: bit j of m in place (0 or 1 << j) */
	uint64_t y = ((uint64_t)(m & 0xFF) * 0x0101010101010101ull) & 0x8040201008040201ull;
	/* a byte's bit 7 set when it is not 0 (no carry leaves a byte) */
	return ((((y & 0x7F7F7F7F7F7F7F7Full) + 0x7F7F7F7F7F7F7F7Full) | y) >> 7) & 0x0101010101010101ull;
}

static void lfh_runs(struct seg_walk *s, const struct view *v, const uint8_t *bits, uint32_t bc, uint64_t sub,
		     uint64_t blk0, uint32_t bs)
{
	struct ich_heap *heap = s->w.heap;
	uint8_t kind[RUN_MAX];
	struct run_kinds rk;
	rk.nk = 0;
	rk.k_free = rk.k_busy0 = -1;
	memset(rk.kmap, 0, sizeof(rk.kmap));
	struct ich_heap_block_run r = {
		.tmpl = { .header = blk0, .user = blk0, .block_size = bs, .segment = sub, .layer = ICH_LAYER_SEG_LFH },
		.stride = bs, .kind = kind, .kinds = rk.kinds,
	};
	/* The blocks given k_free and k_busy0 in this run, counted in
	 * registers and added to kcount when the run ends (kcount[k]++ per
	 * block is a load and a store to one place: each block waited for
	 * the last one's store, a fifth of this loop in perf; issue 12). */
	uint32_t n_free = 0, n_busy0 = 0;
	/* every block's trailer in the view: no check per block */
	bool all_in = bs >= 2 && view_has(v, blk0, (uint64_t)bc * bs);
	uint64_t pf_lim = (uint64_t)bc * bs;
	for (uint32_t i = 0; i < bc;) {
		if (rk.nk == 256) {
			memset(rk.kmap, 0, sizeof(rk.kmap));
			rk.nk = 0;
			rk.k_free = rk.k_busy0 = -1;
		}
		/* a run from i0: up to RUN_MAX blocks, or before a 257th kind */
		uint32_t i0 = i, lim = bc - i0 < RUN_MAX ? bc : i0 + RUN_MAX;
		while (i < lim) {
			if (!(i & 31) && all_in) {
				lfh_prefetch_trailers(v, blk0, i, bs, pf_lim);
				/*
				 * 32 blocks from one bitmap word: the blocks
				 * without a trailer are free or busy with 0
				 * unused, both kinds already made (or none of
				 * the word's blocks needs it), so their kind
				 * bytes are set 8 at a time from the busy bits
				 * and they are counted by population count; the
				 * blocks with a trailer then go through
				 * run_kind in address order, as the per-block
				 * loop below takes them (the same kinds in the
				 * same order, the same problems, the same
				 * split before a 257th kind).
				 */
				if (lim - i >= 32) {
					uint64_t wd = lfh_bitmap_word(bits, bc, i);
					uint32_t mb = even_bits(wd), mt = mb & even_bits(wd >> 1);
					if ((mb == 0xFFFFFFFFu || rk.k_free >= 0) && ((mb & ~mt) == 0 || rk.k_busy0 >= 0)) {
						uint8_t *kp = kind + (i - i0);
						uint64_t kf = (uint64_t)(uint8_t)rk.k_free * 0x0101010101010101ull;
						uint64_t kx = (uint8_t)rk.k_free ^ (uint8_t)rk.k_busy0;
						for (unsigned q = 0; q < 4; q++) {
							/* byte j of kb is block 8q + j's kind:
							 * stored little-endian, so in block order
							 * on any host */
							ich_put_le64(kp + 8 * q, kf ^ bits_to_bytes(mb >> (8 * q)) * kx);
						}
						unsigned jn = 32;
						for (uint32_t t = mt; t; t &= t - 1) {
							unsigned j = (unsigned)__builtin_ctz(t);
							int k = run_kind(&rk, heap, v, true, 3, blk0 + (uint64_t)(i + j) * bs, bs);
							if (k < 0) {
								jn = j;
								break;
							}
							kp[j] = (uint8_t)k;
						}
						uint32_t m = jn == 32 ? 0xFFFFFFFFu : (1u << jn) - 1;
						n_busy0 += ich_popcount64(mb & ~mt & m);
						n_free += ich_popcount64(~mb & m);
						i += jn;
						if (jn < 32)
							break;
						continue;
					}
				}
			}
			unsigned st = lfh_bitmap_bits(bits, i);
			if ((st & 3) != 3) {
				int k = st & 1 ? rk.k_busy0 : rk.k_free;
				if (k >= 0) {
					kind[i - i0] = (uint8_t)k;
					n_busy0 += st & 1;
					n_free += (st & 1) ^ 1;
					i++;
					continue;
				}
			}
			int k = run_kind(&rk, heap, v, all_in, st, blk0 + (uint64_t)i * bs, bs);
			if (k < 0)
				break;
			kind[i - i0] = (uint8_t)k;
			i++;
		}
		if (n_free)
			rk.kcount[rk.k_free] += n_free;
		if (n_busy0)
			rk.kcount[rk.k_busy0] += n_busy0;
		n_free = n_busy0 = 0;
		r.tmpl.header = r.tmpl.user = blk0 + (uint64_t)i0 * bs;
		r.count = i - i0;
		r.nkinds = rk.nk;
		if (walk_emit_blocks(&s->w, &r, rk.kcount))
			return;
		memset(rk.kcount, 0, rk.nk * sizeof(rk.kcount[0]));
	}
}

static void walk_lfh(struct seg_walk *s, uint64_t sub, uint64_t len)
{
	struct ich_heap *heap = s->w.heap;
	const struct segofs *o = s->o;
	if (!s->st->lfh_key_known) {
		heap_problem(heap, sub, "LFH subsegment not walked: LfhKey unknown");
		return;
	}
	struct view v;
	view_open(s->w.h, sub, len, &v);
	if (!view_has(&v, sub, (uint64_t)o->lfh_bitmap)) {
		heap_problem(heap, sub, "LFH subsegment header not captured in this dump");
		view_close(&v);
		return;
	}
	uint32_t bc = (uint32_t)ich_le16(view_at(&v, sub + (uint64_t)o->lfh_block_count));
	uint32_t enc = (uint32_t)ich_le32(view_at(&v, sub + (uint64_t)o->lfh_block_offsets));
	uint16_t bs, fo;
	lfh_offsets_decode(enc, sub, s->st->lfh_key, s->w.h->build, &bs, &fo);
	unsigned unit = s->unit;
	if (!lfh_offsets_plausible(bs, fo, bc, len, (unsigned)o->lfh_bitmap, unit)) {
		heap_problem(heap, sub, "LFH subsegment: BlockOffsets decode to BlockSize 0x%x FirstBlockOffset 0x%x for %u blocks in 0x%" PRIx64 " bytes: not plausible",
			     bs, fo, bc, len);
		struct ich_heap_block b = { .header = sub, .user = sub, .block_size = len, .segment = sub,
					    .state = ICH_BLOCK_CORRUPT, .layer = ICH_LAYER_SEG_LFH };
		emit(s, &b);
		view_close(&v);
		return;
	}
	uint64_t bm = sub + (uint64_t)o->lfh_bitmap, bmlen = ((uint64_t)bc * 2 + 7) / 8;
	if (!view_has(&v, bm, bmlen)) {
		heap_problem(heap, sub, "LFH subsegment BlockBitmap not captured in this dump");
		view_close(&v);
		return;
	}
	const uint8_t *bits = view_at(&v, bm);
	/* The bitmap against BlockCount: the entry after the last block (when
	 * the bitmap has room for it before FirstBlockOffset) must be clear,
	 * and FreeCount must count the clear entries. */
	uint32_t clear = bc - lfh_busy_count(bits, bc);
	uint16_t free_count = (uint16_t)ich_le16(view_at(&v, sub + (uint64_t)o->lfh_free_count));
	bool spare_set = bm + bc / 4 < sub + fo && view_has(&v, bm + bc / 4, 1) &&
			 ((view_at(&v, bm + bc / 4)[0] >> ((bc % 4) * 2)) & 3);
	if (spare_set || free_count != clear)
		heap_problem(heap, sub, "LFH bitmap does not match the block count: %u of %u entries clear, FreeCount %u%s",
			     clear, bc, free_count, spare_set ? ", an entry past BlockCount is set" : "");
	if (s->bulk) {
		lfh_bulk(s, &v, bits, bc, sub + fo, bs);
		view_close_release(s, &v);
		return;
	}
	if (walk_runs(&s->w)) {
		lfh_runs(s, &v, bits, bc, sub, sub + fo, bs);
		view_close_release(s, &v);
		return;
	}
	uint64_t blk = sub + fo;
	for (uint32_t i = 0; i < bc; i++, blk += bs) {
		unsigned st = lfh_bitmap_bits(bits, i);
		struct ich_heap_block b = { .header = blk, .user = blk, .block_size = bs,
					    .segment = sub, .layer = ICH_LAYER_SEG_LFH };
		if (st & 1) {
			uint64_t unused = 0;
			if ((st & 2) && view_has(&v, blk + bs - 2, 2)) {
				unused = unused_trailer((uint16_t)ich_le16(view_at(&v, blk + bs - 2)), false);
				if (unused > bs) {
					heap_problem(heap, blk, "LFH block: unused byte count 0x%" PRIx64 " exceeds BlockSize 0x%x", unused, bs);
					unused = 0;
				}
			}
			b.state = ICH_BLOCK_BUSY;
			b.flags = 1;
			b.size = bs - unused;
			b.unused = unused;
		} else {
			b.state = ICH_BLOCK_FREE;
			b.unused = bs;
		}
		if (emit(s, &b))
			break;
	}
	view_close_release(s, &v);
}

/* One page segment: signature, then its descriptors. */
static void walk_page_segment(struct seg_walk *s, uint64_t seg, uint64_t ctx, unsigned us, unsigned fdi)
{
	struct ich_heaps *h = s->w.h;
	struct ich_heap *heap = s->w.heap;
	const struct segofs *o = s->o;
	uint64_t mask = h->ptr == 8 ? UINT64_MAX : 0xFFFFFFFFu;
	uint64_t sig;
	struct ich_error *err = ich_as_read_ptr(h->as, seg + (uint64_t)o->ps_sig, &sig);
	if (err) {
		heap_problem(heap, seg, "page segment not readable: %s", err->message);
		ich_error_destroy(err);
		return;
	}
	if (s->st->heap_key_known && ((sig ^ seg ^ ctx ^ s->st->heap_key ^ s->st->sig_const) & mask)) {
		heap_problem(heap, seg, "page segment signature 0x%0*" PRIx64 " fails the check (Signature ^ segment ^ context ^ HeapKey ^ 0x%" PRIx64 " is not 0)",
			     (int)h->ptr * 2, sig, s->st->sig_const);
		return;
	}
	uint64_t seg_len = (uint64_t)NDESC << us;
	struct ich_heap_totals *t = &heap->totals;
	t->reserved += seg_len;
	struct ich_heap_segment *ns = realloc(heap->segments, (heap->nsegments + 1) * sizeof(*ns));
	if (ns) {
		heap->segments = ns;
		ns[heap->nsegments++] = (struct ich_heap_segment){
			.base = seg, .first_entry = seg + ((uint64_t)fdi << us),
			.last_valid_entry = seg + seg_len, .pages = (uint32_t)(seg_len / PAGE),
		};
	}
	/* The descriptor array itself is committed metadata, not a block. */
	t->committed += (uint64_t)fdi << us;
	struct ich_heap_segment *hs = ns ? &heap->segments[heap->nsegments - 1] : NULL;
	struct view v;
	view_open(h, seg, (uint64_t)NDESC * (uint64_t)o->prd_size, &v);
	for (unsigned r = fdi; r < NDESC;) {
		uint64_t d = seg + (uint64_t)r * (uint64_t)o->prd_size;
		uint64_t range = seg + ((uint64_t)r << us);
		if (!view_has(&v, d, (uint64_t)o->prd_size)) {
			heap_problem(heap, d, "page range descriptor %u not captured in this dump; rest of the segment not listed", r);
			break;
		}
		/* x86 keeps CommittedPageCount/Key in the same DWORD (§4): mask */
		uint8_t flags = view_at(&v, d + (uint64_t)o->prd_flags)[0] & 0x1F;
		unsigned u = view_at(&v, d + (uint64_t)o->prd_unit_size)[0];
		if (!u || r + u > NDESC) {
			heap_problem(heap, d, "page range descriptor %u: UnitSize %u runs %s the segment's %u descriptors; rest of the segment (0x%" PRIx64 " bytes) not listed",
				     r, u, u ? "past" : "(0) inside", NDESC, ((uint64_t)(NDESC - r)) << us);
			struct ich_heap_block b = { .header = d, .user = range,
						    .block_size = ((uint64_t)(NDESC - r)) << us, .segment = seg,
						    .state = ICH_BLOCK_CORRUPT, .layer = ICH_LAYER_SEG_BACKEND };
			emit(s, &b);
			break;
		}
		uint64_t len = (uint64_t)u << us;
		if (flags & RF_COMMITTED)
			t->committed += len;
		/* Blocks of the page-range layer are keyed by their descriptor
		 * (the range's metadata, as a _HEAP_ENTRY is an NT block's);
		 * user = the range.  A VS or LFH subsegment is listed as one
		 * internal container before its chunks/blocks. */
		if (flags == RF_VS || flags == RF_LFH) {
			struct ich_heap_block b = { .header = d, .user = range, .block_size = len, .segment = seg,
						    .state = ICH_BLOCK_INTERNAL, .layer = ICH_LAYER_SEG_BACKEND };
			if (emit(s, &b))
				break;
			if (flags == RF_VS)
				walk_vs(s, seg, range, len);
			else
				walk_lfh(s, range, len);
		} else if (flags == RF_BACKEND) {
			uint32_t unused = (uint32_t)ich_le32(view_at(&v, d + (uint64_t)o->prd_unused));
			struct ich_heap_block b = { .header = d, .user = range, .block_size = len,
						    .segment = seg, .layer = ICH_LAYER_SEG_BACKEND,
						    .state = ICH_BLOCK_BUSY, .flags = 1 };
			if (unused >= len) {
				heap_problem(heap, range, "page range: UnusedBytes 0x%x is not below its size 0x%" PRIx64, unused, len);
				b.state = ICH_BLOCK_CORRUPT;
			} else {
				b.size = len - unused;
				b.unused = unused;
			}
			emit(s, &b);
		} else if (flags == RF_FREE_COMMITTED) {
			struct ich_heap_block b = { .header = d, .user = range, .block_size = len, .unused = len,
						    .segment = seg, .layer = ICH_LAYER_SEG_BACKEND, .state = ICH_BLOCK_FREE };
			emit(s, &b);
		} else if (flags == RF_FREE) {
			/* uncommitted address space: kept as the segment's UCR */
			if (hs && ICH_ARRAY_PUSH_ROOM(hs->ucr, hs->nucr)) {
				hs->ucr[hs->nucr++] = (struct ich_heap_ucr){ range, len };
				hs->uncommitted_pages += (uint32_t)(len / PAGE);
				t->ucr_count++;
			}
		} else {
			heap_problem(heap, d, "page range descriptor %u: RangeFlags 0x%02x is none of VS (0x0f), LFH (0x0b), backend (0x03), free (0x02, 0)", r, flags);
			struct ich_heap_block b = { .header = d, .user = range, .block_size = len,
						    .segment = seg, .layer = ICH_LAYER_SEG_BACKEND, .state = ICH_BLOCK_CORRUPT };
			emit(s, &b);
		}
		if (s->w.err)
			break;
		r += u;
	}
	view_close_release(s, &v);
}

struct ps_list {
	uint64_t *v;	size_t n;
};

static struct ich_error *ps_cb(uint64_t node, void *arg)
{
	struct ps_list *l = arg;
	if (!ICH_ARRAY_PUSH_ROOM(l->v, l->n))
		return &ich_enomem;
	l->v[l->n++] = node;
	return NULL;
}

/* In-order walk of the large-allocation RB tree (bounded, cycle-safe:
 * depth and node count are capped, each node visited at most once). */
static void walk_large(struct seg_walk *s)
{
	struct ich_heaps *h = s->w.h;
	struct ich_heap *heap = s->w.heap;
	const struct segofs *o = s->o;
	uint64_t tree = heap->address + (uint64_t)o->large_meta, root, min;
	struct ich_error *err = ich_as_read_ptr(h->as, tree, &root);
	if (!err)
		err = ich_as_read_ptr(h->as, tree + h->ptr, &min);
	if (err) {
		heap_problem(heap, tree, "LargeAllocMetadata not readable: %s", err->message);
		ich_error_destroy(err);
		return;
	}
	if (min & 1) {
		/* RTL_RB_TREE.Encoded: the encoding of the links is not
		 * documented in any cited source (layouts.md §9). */
		heap_problem(heap, tree, "LargeAllocMetadata is an encoded RB tree (Min bit 0 set): large allocations not listed");
		return;
	}
	uint64_t stack[MAX_TREE_DEPTH];
	size_t sp = 0, visited = 0;
	uint64_t node = root, last = 0;
	uint64_t page_mask = ~(uint64_t)0xFFFF;
	while ((node || sp) && !s->w.err) {
		while (node) {
			if (sp >= MAX_TREE_DEPTH) {
				heap_problem(heap, node, "large-allocation tree deeper than %d: a cycle or corruption; rest not listed", MAX_TREE_DEPTH);
				return;
			}
			stack[sp++] = node;
			uint64_t left;
			if ((err = ich_as_read_ptr(h->as, node, &left))) {
				heap_problem(heap, node, "large-allocation tree node not readable: %s", err->message);
				ich_error_destroy(err);
				sp--;
				left = 0;
				node = 0;
				break;
			}
			node = left;
		}
		if (!sp)
			break;
		node = stack[--sp];
		if (++visited > MAX_LARGE_NODES) {
			heap_problem(heap, node, "more than %u large allocations: rest not listed", MAX_LARGE_NODES);
			return;
		}
		if (node <= last && last) {
			heap_problem(heap, node, "large-allocation tree is not in address order at node 0x%" PRIx64 " (a cycle?): rest not listed", node);
			return;
		}
		last = node;
		uint64_t va, pages_raw, right;
		err = ich_as_read_ptr(h->as, node + (uint64_t)o->lad_va, &va);
		if (!err)
			err = ich_as_read_ptr(h->as, node + (uint64_t)o->lad_pages, &pages_raw);
		if (!err)
			err = ich_as_read_ptr(h->as, node + h->ptr, &right);
		if (err) {
			heap_problem(heap, node, "large allocation entry not readable: %s", err->message);
			ich_error_destroy(err);
			node = 0;
			continue;
		}
		uint64_t unused = va & 0xFFFF, addr = va & page_mask & (h->ptr == 8 ? UINT64_MAX : 0xFFFFFFFFu);
		uint64_t pages = pages_raw >> 12;
		uint64_t bytes = pages * PAGE;
		/* keyed by its _HEAP_LARGE_ALLOC_DATA (the block's metadata) */
		struct ich_heap_block b = { .header = node, .user = addr, .block_size = bytes,
					    .segment = node, .layer = ICH_LAYER_SEG_LARGE, .flags = 1 };
		if (!pages || !addr || pages > ((uint64_t)1 << (h->ptr == 8 ? 35 : 20)) || unused >= bytes) {
			heap_problem(heap, node, "large allocation at 0x%" PRIx64 ": AllocatedPages 0x%" PRIx64 " / UnusedBytes 0x%" PRIx64 " are not a valid size",
				     addr, pages, unused);
			b.state = ICH_BLOCK_CORRUPT;
		} else {
			b.state = ICH_BLOCK_BUSY;
			b.size = bytes - unused;
			b.unused = unused;
			heap->totals.virtual_blocks++;
		}
		emit(s, &b);
		node = right;
	}
}

struct ich_error *seg_heap_walk(struct ich_heaps *h, struct ich_heap *heap,
				ich_heap_block_fn *fn, ich_heap_run_fn *run_fn, void *arg)
{
	const struct seg_heap_info *hi = info_of(h, heap->address);
	if (!hi)
		return ich_error_create(ICH_ERR_INTERNAL, "segment heap 0x%" PRIx64 " was not classified", heap->address);
	keys_ensure(h);
	struct seg_walk s = { .w = { .h = h, .heap = heap, .fn = fn, .arg = arg, .unit = h->ptr == 8 ? 16 : 8,
				     .run_fn = run_fn },
			      .o = &hi->o, .st = h->seg, .unit = h->ptr == 8 ? 16 : 8,
			      .bulk = !heap->dph_owner && (!fn || fn == heap_stat_add),
			      .stat = fn == heap_stat_add ? arg : NULL };
	for (unsigned c = 0; c < 2 && !s.w.err; c++) {
		uint64_t ctx = ctx_addr(&hi->o, heap->address, c);
		uint8_t us = 0, fdi = 0;
		struct ich_error *err = ich_as_read_u8(h->as, ctx + (uint64_t)hi->o.ctx_unit_shift, &us);
		if (!err)
			err = ich_as_read_u8(h->as, ctx + (uint64_t)hi->o.ctx_fdi, &fdi);
		if (err) {
			heap_problem(heap, ctx, "HEAP_SEG_CONTEXT %u not readable: %s", c, err->message);
			ich_error_destroy(err);
			continue;
		}
		struct ps_list l = { 0 };
		err = ich_as_list_walk(h->as, ctx + (uint64_t)hi->o.ctx_list_head, MAX_PAGE_SEGMENTS, true, ps_cb, &l, NULL);
		if (err == &ich_enomem) {
			free(l.v);
			return err;
		}
		if (err) {
			heap_problem(heap, ctx, "HEAP_SEG_CONTEXT %u segment list: %s", c, err->message);
			ich_error_destroy(err);
		}
		for (size_t i = 0; i < l.n && !s.w.err; i++)
			walk_page_segment(&s, l.v[i], ctx, us, fdi);
		free(l.v);
	}
	release_flush(&s);
	if (!s.w.err) {
		walk_large(&s);
		uint64_t rp = 0, cp = 0;
		if (ich_error_ok(ich_as_read_ptr(h->as, heap->address + (uint64_t)hi->o.large_reserved, &rp)) &&
		    ich_error_ok(ich_as_read_ptr(h->as, heap->address + (uint64_t)hi->o.large_committed, &cp))) {
			/* page counts bounded as mem_stats' (below 2^36
			 * pages): a larger one is not a count, and times PAGE
			 * it wrapped the totals */
			if (rp >= ((uint64_t)1 << 36) || cp >= ((uint64_t)1 << 36)) {
				heap_problem(heap, heap->address, "large blocks' page counts 0x%" PRIx64 " reserved / 0x%" PRIx64 " committed are not page counts: left out of the totals", rp, cp);
			} else {
				heap->totals.reserved += rp * PAGE;
				heap->totals.committed += cp * PAGE;
				heap->totals.virt += rp * PAGE;
			}
		}
		/* The heap's own page counts (_HEAP_RUNTIME_MEMORY_STATS, S1
		 * x64 2004+) are what the -s table shows when captured; the
		 * sums above stand in otherwise. */
		uint64_t tr, tc;
		if (seg_heap_mem_stats(h, heap, &tr, &tc)) {
			heap->totals.reserved = tr;
			heap->totals.committed = tc;
		}
	}
	heap->walked = true;
	if (s.w.err == &ich_stop)
		return NULL;
	return s.w.err;
}

/* ------------------------------------------------------------- public */

bool ich_heaps_segment_keys(const struct ich_heaps *h, struct ich_segment_keys *k)
{
	memset(k, 0, sizeof(*k));
	if (!h->seg || !h->seg->keys_done)
		return false;
	k->heap_key_known = h->seg->heap_key_known;
	k->heap_key = h->seg->heap_key;
	k->lfh_key_known = h->seg->lfh_key_known;
	k->lfh_key = h->seg->lfh_key;
	return true;
}

bool seg_heap_mem_stats(struct ich_heaps *h, const struct ich_heap *heap, uint64_t *reserved,
			uint64_t *committed)
{
	const struct seg_heap_info *hi = heap->kind == ICH_HEAP_KIND_SEGMENT ? info_of(h, heap->address) : NULL;
	uint64_t tr, tc;
	if (!hi || hi->o.mem_stats < 0 ||
	    !ich_error_ok(ich_as_read_u64(h->as, heap->address + (uint64_t)hi->o.mem_stats, &tr)) ||
	    !ich_error_ok(ich_as_read_u64(h->as, heap->address + (uint64_t)hi->o.mem_stats + 8, &tc)) ||
	    !tr || tc > tr || tr >= ((uint64_t)1 << 36))
		return false;
	*reserved = tr * PAGE;
	*committed = tc * PAGE;
	return true;
}

bool ich_heap_segment_info(const struct ich_heaps *h, const struct ich_heap *heap, uint32_t *list_index)
{
	if (heap->kind != ICH_HEAP_KIND_SEGMENT || !h->seg)
		return false;
	for (size_t i = 0; i < h->seg->nheaps; i++) {
		const struct seg_heap_info *hi = &h->seg->heaps[i];
		if (hi->address != heap->address)
			continue;
		uint16_t idx;
		struct ich_error *err = hi->o.list_index >= 0
			? ich_as_read_u16(h->as, heap->address + (uint64_t)hi->o.list_index, &idx)
			: ich_error_create(ICH_ERR_LAYOUT, "no ProcessHeapListIndex");
		if (err) {
			ich_error_destroy(err);
			return false;
		}
		*list_index = idx;
		return true;
	}
	return false;
}
