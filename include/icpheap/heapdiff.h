/* SPDX-License-Identifier: MIT */
/*
 * Heap growth between two dumps of one process (UMDH without the tracing):
 * busy blocks per requested size and per allocation stack in each, and the
 * growth.  src/heap/heap_diff.c.
 */
#ifndef ICPHEAP_HEAPDIFF_H
#define ICPHEAP_HEAPDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/heap.h>
#include <icpheap/pageheap.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_diff_row {
	uint64_t size;			/* by size: the requested size */
	bool by_stack;			/* a per-stack row (size unused) */
	struct ich_stack stack;		/* by stack: the frames (from the newer dump if in both) */
	uint64_t old_count, old_bytes, new_count, new_bytes;
	int64_t count_growth, bytes_growth;
};

struct ich_diff {
	struct ich_diff_row *sizes;	size_t nsizes;	/* sorted by bytes grown, then size */
	struct ich_diff_row *stacks;	size_t nstacks;	/* sorted by bytes grown; empty without stacks */
	uint64_t old_count, old_bytes, new_count, new_bytes;
	size_t old_heaps_skipped, new_heaps_skipped;
};

/* Walk every walkable heap of both dumps (busy blocks only; freed page-heap
 * blocks are not busy) and compare.  Stacks are matched by their frames,
 * so the two dumps need not share trace-database addresses. */
struct ich_error *ich_heap_diff(struct ich_heaps *old_h, struct ich_heaps *new_h, struct ich_diff *d);
void ich_heap_diff_free(struct ich_diff *d);

#ifdef __cplusplus
}
#endif
#endif
