/* SPDX-License-Identifier: MIT */
/*
 * Test helper shared by the heap unit tests: collect every block a walk
 * reports, find one by the header address a builder's .expect uses, and
 * expand a run callback's run into its blocks.
 */
#ifndef ICPHEAP_TEST_HEAP_BLOCKS_H
#define ICPHEAP_TEST_HEAP_BLOCKS_H

#include <stdint.h>
#include <stdlib.h>

#include <icpheap/heap.h>

struct heap_blocks {
	struct ich_heap_block *b;	size_t n, cap;
};

/* ich_heap_walk callback: appends the block (arg: struct heap_blocks). */
static inline struct ich_error *heap_blocks_collect(const struct ich_heap *hp,
						    const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct heap_blocks *s = arg;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct ich_heap_block *nb = realloc(s->b, cap * sizeof(*nb));
		if (!nb)
			return &ich_enomem;
		s->b = nb;
		s->cap = cap;
	}
	s->b[s->n++] = *b;
	return NULL;
}

/*
 * The block whose header is at header.  The builders' .expect key a large
 * block by its VIRTUAL_ALLOC_ENTRY; the walker lists it by its _HEAP_ENTRY
 * (BusyBlock, as WinDbg's -flt does) and keeps the entry in .segment.
 */
static inline const struct ich_heap_block *heap_blocks_find(const struct heap_blocks *s,
							     uint64_t header)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->b[i].header == header ||
		    (s->b[i].layer == ICH_LAYER_VIRTUAL && s->b[i].segment == header))
			return &s->b[i];
	return NULL;
}

/* Block i of run r, from struct ich_heap_block_run's documented meaning
 * (icpheap/heap.h), not from ich_heap_run_block: the template with the
 * header and user addresses i strides on and kind r->kind[i]'s state,
 * flags, size and unused bytes.  The caller checks r->kind[i] <
 * r->nkinds first. */
static inline struct ich_heap_block heap_run_block(const struct ich_heap_block_run *r, size_t i)
{
	const struct ich_heap_block_kind *k = &r->kinds[r->kind[i]];
	struct ich_heap_block b = r->tmpl;
	b.header = r->tmpl.header + i * r->stride;
	b.user = r->tmpl.user + i * r->stride;
	b.state = k->state;
	b.flags = k->flags;
	b.size = k->size;
	b.unused = k->unused;
	return b;
}

#endif
