/* SPDX-License-Identifier: MIT */
/*
 * A heap's committed bytes from its headers, without walking its blocks
 * (analyze --processes N ranks every process of a complete dump by
 * committed bytes and walks only the top N in full):
 *   NT heap: the _HEAP_SEGMENT headers on _HEAP.SegmentList --
 *     (NumberOfPages - NumberOfUnCommittedPages) x 4 KiB each (layouts.md
 *     §2 _HEAP_SEGMENT table: S1, S7, S11) -- plus CommitSize of each
 *     _HEAP_VIRTUAL_ALLOC_ENTRY on _HEAP.VirtualAllocdBlocks (§2, S1):
 *     the same sums ich_heap_walk makes (nt_heap.c), from the same
 *     fields, so the two agree wherever the headers check out.
 *   Segment heap: _SEGMENT_HEAP.MemStats.TotalCommittedPages (S1 x64
 *     2004+ _HEAP_RUNTIME_MEMORY_STATS), which the walk reports too.
 *   Otherwise (a page heap, a segment heap whose row has no MemStats, a
 *     header that does not check out): the heap is walked.
 * _HEAP.Counters.TotalMemoryCommitted (S1 _HEAP_COUNTERS +8) was not
 * used: it is kept by the heap manager, not derived from the segments the
 * walk reports, so a ranking by it could disagree with the walked rows.
 */
#include <inttypes.h>

#include "heap/heap_internal.h"
#include "heap/segment_heap.h"

#define PAGE 0x1000u
#define MAX_SEGMENTS 4096
#define MAX_VIRTUAL_BLOCKS 1000000

struct quick {
	struct ich_heaps *h;
	const struct ntofs *o;
	uint64_t committed;
	bool bad;		/* a header did not check out: walk instead */
};

static struct ich_error *seg_cb(uint64_t node, void *arg)
{
	struct quick *q = arg;
	const struct ntofs *o = q->o;
	uint64_t s = node - (uint64_t)o->seg_list_entry, first, last;
	uint32_t sig, pages, ucp;
	if (!ich_error_ok(ich_as_read_u32(q->h->as, s + (uint64_t)o->seg_signature, &sig)) ||
	    !ich_error_ok(ich_as_read_ptr(q->h->as, s + (uint64_t)o->seg_first_entry, &first)) ||
	    !ich_error_ok(ich_as_read_ptr(q->h->as, s + (uint64_t)o->seg_last_valid_entry, &last)) ||
	    !ich_error_ok(ich_as_read_u32(q->h->as, s + (uint64_t)o->seg_pages, &pages)) ||
	    !ich_error_ok(ich_as_read_u32(q->h->as, s + (uint64_t)o->seg_uncommitted_pages, &ucp)) ||
	    sig != SEGMENT_SIGNATURE || first < s || last <= first || last - first > (1ull << 40) ||
	    ucp > pages) {
		q->bad = true;
		return &ich_stop;
	}
	q->committed += ((uint64_t)pages - ucp) * PAGE;
	return NULL;
}

static struct ich_error *virtual_cb(uint64_t node, void *arg)
{
	struct quick *q = arg;
	uint64_t commit;
	if (!ich_error_ok(ich_as_read_ptr(q->h->as, node + (uint64_t)q->o->va_commit, &commit))) {
		q->bad = true;
		return &ich_stop;
	}
	q->committed += commit;
	return NULL;
}

static bool nt_quick(struct ich_heaps *h, struct ich_heap *heap, uint64_t *out)
{
	struct quick q = { h, &h->ofs[heap - h->heaps], 0, false };
	struct ich_error *err = ich_as_list_walk(h->as, heap->address + (uint64_t)q.o->heap_segment_list,
						 MAX_SEGMENTS, true, seg_cb, &q, NULL);
	if (!err && !q.bad)
		err = ich_as_list_walk(h->as, heap->address + (uint64_t)q.o->heap_virtual_allocd_blocks,
				       MAX_VIRTUAL_BLOCKS, true, virtual_cb, &q, NULL);
	bool ok = !err && !q.bad;
	ich_error_destroy(err);
	if (ok)
		*out = q.committed;
	return ok;
}

struct ich_error *ich_heap_committed(struct ich_heaps *h, struct ich_heap *heap, uint64_t *committed,
				     enum ich_commit_source *source)
{
	if (heap->walked) {
		*committed = heap->totals.committed;
		*source = ICH_COMMIT_WALK;
		return NULL;
	}
	if (heap->status == ICH_HEAP_OK) {
		if (heap->kind == ICH_HEAP_KIND_NT && nt_quick(h, heap, committed)) {
			*source = ICH_COMMIT_HEADERS;
			return NULL;
		}
		uint64_t reserved;
		if (heap->kind == ICH_HEAP_KIND_SEGMENT && seg_heap_mem_stats(h, heap, &reserved, committed)) {
			*source = ICH_COMMIT_HEADERS;
			return NULL;
		}
	}
	/* no header says it: walk (fails for a heap that is not OK) */
	struct ich_error *err = ich_heap_walk(h, heap, NULL, NULL);
	if (err)
		return err;
	*committed = heap->totals.committed;
	*source = ICH_COMMIT_WALK;
	return NULL;
}
