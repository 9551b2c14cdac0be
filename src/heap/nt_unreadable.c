/* SPDX-License-Identifier: MIT */
/*
 * Unreadable parts of an NT heap segment.  In a kernel memory dump a
 * committed heap page can be paged out, demand-zero or left out of the
 * dump; the back end's block chain (each entry's Size leads to the next)
 * breaks there.  That is not corruption: the range is recorded with the
 * reason the address space gives, and the chain is found again on the
 * next readable page.
 *
 * Finding the chain again: every entry of a back-end run is decoded with
 * the heap key and carries the SmallTagIndex checksum (layouts.md §2,
 * Algorithm A).  A candidate header at a granularity-aligned address on
 * the next readable page is accepted when the chain starting there reaches
 * the end of the run exactly, or holds RESYNC_CONFIRM entries in a row
 * that all pass the checksum, PreviousSize agreeing with the previous
 * entry's Size (a false start passes each check with probability 1/256).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "core/grow.h"
#include "heap/heap_internal.h"

#define PAGE 0x1000u
#define RESYNC_CONFIRM 16
#define RESYNC_PAGES 64		/* pages searched after the gap (a large free block
				 * can span many) */

void heap_unreadable_free(struct ich_heap *heap)
{
	free(heap->unreadable);
	heap->unreadable = NULL;
	heap->nunreadable = 0;
}

/* Does a chain of valid entries start at c and hold until end? */
static bool chain_holds(struct walk_ctx *w, uint64_t c, uint64_t end)
{
	uint64_t e = c;
	uint16_t prev = 0;
	for (unsigned n = 0; n < RESYNC_CONFIRM; n++) {
		if (e == end)
			return n > 0;
		struct heap_entry he;
		struct ich_error *err = nt_heap_read_entry(w, e, &he);
		if (err) {
			ich_error_destroy(err);
			return n >= 2;	/* the next gap: as far as can be told */
		}
		if (!he.checksum_ok || !he.size || (uint64_t)he.size * w->unit > end - e)
			return false;
		if (n && he.prev_size != prev)
			return false;
		prev = he.size;
		e += (uint64_t)he.size * w->unit;
	}
	return true;
}

uint64_t nt_heap_unreadable(struct walk_ctx *w, uint64_t e, uint64_t end)
{
	struct ich_heap *heap = w->heap;
	heap->partial = true;
	/* The reason: re-read the small header with the full result. */
	struct ich_read_result res = { 0 };
	uint8_t b[8];
	uint64_t at = e + (uint64_t)w->o->entry_small_header;
	(void)ich_as_read(w->h->as, at, b, sizeof(b), &res);
	uint64_t page = (res.why != ICH_MISS_NONE ? res.miss_addr : at) & ~(uint64_t)(PAGE - 1);
	uint64_t found = 0;
	/* the pages after page's, by offset from it below end - page (so
	 * none past end or the top of the address space) */
	uint64_t room = page < end ? end - page : 0;
	for (uint64_t o = PAGE; o <= (uint64_t)RESYNC_PAGES * PAGE && o < room && !found; o += PAGE) {
		uint64_t p = page + o;
		uint8_t probe;
		if (ich_as_read(w->h->as, p, &probe, 1, NULL) != 1)
			continue;	/* this page is missing too */
		for (uint64_t c = p; c - p < PAGE && c < end; c += w->unit)
			if (chain_holds(w, c, end)) {
				found = c;
				break;
			}
	}
	if (heap->nunreadable < 10000) {
		if (ICH_ARRAY_PUSH_ROOM(heap->unreadable, heap->nunreadable)) {
			heap->unreadable[heap->nunreadable++] = (struct ich_heap_unreadable){
				.address = e, .end = found ? found : end, .resynced = found != 0,
				.page = page, .why = res.why == ICH_MISS_NONE ? ICH_MISS_NOT_CAPTURED : res.why,
				.pte = res.pte,
			};
		}
	}
	return found;
}
