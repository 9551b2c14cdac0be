/* SPDX-License-Identifier: MIT */
/*
 * What WinDbg's !heap -a prints about an NT heap besides its entries: the
 * label block (_HEAP.SegmentReserve ... LockVariable, layouts in
 * src/types/layout_table.c), the FreeLists list (windbg-output heap-a x64
 * sample: "FreeList[ 00 ] at <head>: <Flink> . <Blink>", then each free
 * entry), and one entry's header as stored and decoded (!heap -i).
 */
#include <inttypes.h>
#include <string.h>

#include "heap/heap_internal.h"

#define MAX_FREE_LIST 1000000

static const struct ntofs *heap_ofs(struct ich_heaps *h, const struct ich_heap *heap)
{
	return &h->ofs[heap - h->heaps];
}

static bool rd(struct ich_heaps *h, uint64_t a, int32_t off, unsigned size, uint64_t *v)
{
	if (off < 0)
		return false;
	uint8_t b[8] = { 0 };
	if (ich_as_read(h->as, a + (uint64_t)off, b, size, NULL) != size)
		return false;
	uint64_t x = 0;
	for (unsigned i = 0; i < size; i++)
		x |= (uint64_t)b[i] << (8 * i);
	*v = x;
	return true;
}

struct ich_error *ich_heap_info(struct ich_heaps *h, const struct ich_heap *heap,
				struct ich_heap_info *out)
{
	memset(out, 0, sizeof(*out));
	if (heap->kind != ICH_HEAP_KIND_NT || heap->status != ICH_HEAP_OK)
		return ich_error_create(ICH_ERR_UNSUPPORTED, "heap 0x%" PRIx64 " is not a walkable NT heap", heap->address);
	const struct ntofs *o = heap_ofs(h, heap);
	uint64_t a = heap->address, v;
	unsigned p = h->ptr;
	/* SIZE_T fields are pointer-sized (layouts.md §2 sources) */
	if (rd(h, a, o->heap_segment_reserve, p, &out->segment_reserve))
		out->have |= ICH_HI_RESERVE;
	if (rd(h, a, o->heap_segment_commit, p, &out->segment_commit))
		out->have |= ICH_HI_COMMIT;
	if (rd(h, a, o->heap_decommit_block, p, &out->decommit_block_thres))
		out->have |= ICH_HI_DECOMMIT_BLOCK;
	if (rd(h, a, o->heap_decommit_total, p, &out->decommit_total_thres))
		out->have |= ICH_HI_DECOMMIT_TOTAL;
	if (rd(h, a, o->heap_total_free_size, p, &out->total_free_size))
		out->have |= ICH_HI_TOTAL_FREE;
	if (rd(h, a, o->heap_max_allocation, p, &out->max_allocation_size))
		out->have |= ICH_HI_MAX_ALLOC;
	if (rd(h, a, o->heap_lock_variable, p, &out->lock_variable))
		out->have |= ICH_HI_LOCK;
	uint64_t nt = 0, mt = 0;
	if (rd(h, a, o->heap_next_tag, 2, &nt) && rd(h, a, o->heap_max_tag, 2, &mt)) {
		out->next_tag_index = (uint32_t)nt;
		out->max_tag_index = (uint32_t)mt;
		out->have |= ICH_HI_TAGS;
	}
	if (rd(h, a, o->heap_tag_entries, p, &out->tag_entries))
		out->have |= ICH_HI_TAG_ENTRIES;
	if (rd(h, a, o->heap_pseudo_tag_entries, p, &out->pseudo_tag_entries))
		out->have |= ICH_HI_PSEUDO_TAGS;
	if (rd(h, a, o->heap_list_index, 2, &v)) {
		out->process_heaps_list_index = (uint32_t)v;
		out->have |= ICH_HI_LIST_INDEX;
	}
	out->virtual_alloc_list = a + (uint64_t)o->heap_virtual_allocd_blocks;
	out->ucr_list = o->heap_ucr_list >= 0 ? a + (uint64_t)o->heap_ucr_list : 0;
	if (o->heap_free_lists >= 0) {
		out->free_lists = a + (uint64_t)o->heap_free_lists;
		if (rd(h, out->free_lists, 0, p, &out->free_lists_flink) &&
		    rd(h, out->free_lists, (int32_t)p, p, &out->free_lists_blink))
			out->have |= ICH_HI_FREE_LISTS;
	}
	return NULL;
}

struct free_walk {
	struct walk_ctx *w;
};

/* A FreeLists node is the LIST_ENTRY right after the free entry's
 * _HEAP_ENTRY (_HEAP_FREE_ENTRY.FreeList: +0x10 x64, +8 x86). */
static struct ich_error *free_node(uint64_t node, void *arg)
{
	struct walk_ctx *w = ((struct free_walk *)arg)->w;
	uint64_t e = node - w->unit, raw;
	struct ich_error *err = ich_as_read_u64(w->h->as, e + (uint64_t)w->o->entry_small_header, &raw);
	if (err)
		return ich_error_wrap(err, "free list entry 0x%" PRIx64 ": ", e);
	struct heap_entry he;
	entry_decode(raw, w->key, &he);
	if (!he.checksum_ok || he.size == 0)
		return ich_error_create(ICH_ERR_FORMAT, "free list entry 0x%" PRIx64 ": header checksum fails (decoded Size 0x%x Flags 0x%02x)",
					e, he.size, he.flags);
	struct ich_heap_block b = {
		.header = e, .user = e + w->unit, .block_size = (uint64_t)he.size * w->unit,
		.prev_size = (uint64_t)he.prev_size * w->unit, .flags = he.flags,
		.unused = (uint64_t)he.size * w->unit, .state = ICH_BLOCK_FREE, .layer = ICH_LAYER_BACKEND,
	};
	return w->fn ? w->fn(w->heap, &b, w->arg) : NULL;
}

struct ich_error *ich_heap_free_list(struct ich_heaps *h, struct ich_heap *heap,
				     ich_heap_block_fn *fn, void *arg)
{
	if (heap->kind != ICH_HEAP_KIND_NT || heap->status != ICH_HEAP_OK)
		return ich_error_create(ICH_ERR_UNSUPPORTED, "heap 0x%" PRIx64 " is not a walkable NT heap", heap->address);
	const struct ntofs *o = heap_ofs(h, heap);
	if (o->heap_free_lists < 0)
		return ich_error_create(ICH_ERR_LAYOUT, "the layout row has no HEAP.FreeLists");
	struct walk_ctx w = { .h = h, .heap = heap, .o = o, .fn = fn, .arg = arg, .unit = h->ptr == 8 ? 16 : 8 };
	struct ich_error *err = encoding_key(&w, &w.key);
	if (err)
		return err;
	struct free_walk fw = { &w };
	return ich_as_list_walk(h->as, heap->address + (uint64_t)o->heap_free_lists, MAX_FREE_LIST, true,
				free_node, &fw, NULL);
}

struct ich_error *ich_heap_entry_header(struct ich_heaps *h, const struct ich_heap *heap,
					uint64_t entry, uint64_t *raw, uint64_t *decoded)
{
	if (heap->kind != ICH_HEAP_KIND_NT || heap->status != ICH_HEAP_OK)
		return ich_error_create(ICH_ERR_UNSUPPORTED, "heap 0x%" PRIx64 " is not a walkable NT heap", heap->address);
	const struct ntofs *o = heap_ofs(h, heap);
	struct walk_ctx w = { .h = h, .heap = (struct ich_heap *)heap, .o = o, .fn = NULL, .arg = NULL, .unit = h->ptr == 8 ? 16 : 8 };
	struct ich_error *err = encoding_key(&w, &w.key);
	if (!err)
		err = ich_as_read_u64(h->as, entry + (uint64_t)o->entry_small_header, raw);
	if (err)
		return err;
	struct heap_entry he;
	entry_decode(*raw, w.key, &he);
	*decoded = he.decoded;
	return NULL;
}
