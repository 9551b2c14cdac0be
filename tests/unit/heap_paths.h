/* SPDX-License-Identifier: MIT */
/*
 * Test helper: a heap walked by the three routes a walker may take (issue
 * 12) must give one answer.  The callback route (every block handed to a
 * collecting callback) is the reference; the totals-only route (no
 * callback: `heap -s`, `-v`) and the `-stat` route (ich_heap_stat, whose
 * callback the walkers run inline and may feed a run of equal-sized
 * blocks at once) must give the same totals and problems, and -stat's
 * size groups must be the busy blocks of the callback route grouped by
 * requested size.  The run route (ich_heap_walk_runs, issue 12: an LFH
 * container's blocks handed over as one run) must give the callback
 * route's blocks in the same order, and the same totals and problems.
 */
#ifndef ICPHEAP_TEST_HEAP_PATHS_H
#define ICPHEAP_TEST_HEAP_PATHS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/heap.h>

#include "heap_blocks.h"

struct heap_snapshot {
	struct ich_heap_totals totals;
	struct ich_heap_problem *problems;	size_t nproblems;
	bool walked, partial;
};

static inline void heap_snapshot_take(const struct ich_heap *hp, struct heap_snapshot *s)
{
	s->totals = hp->totals;
	s->nproblems = hp->nproblems;
	s->problems = NULL;
	if (hp->nproblems) {
		s->problems = malloc(hp->nproblems * sizeof(*s->problems));
		assert_non_null(s->problems);
		memcpy(s->problems, hp->problems, hp->nproblems * sizeof(*s->problems));
	}
	s->walked = hp->walked;
	s->partial = hp->partial;
}

/* hp's totals and problems (address and text, in order) are a's. */
static inline void heap_snapshot_check(const struct ich_heap *hp, const struct heap_snapshot *a,
				       const char *route)
{
	if (memcmp(&hp->totals, &a->totals, sizeof(a->totals)))
		fail_msg("heap 0x%" PRIx64 ": the %s route's totals differ from the callback route's "
			 "(busy %" PRIu64 "/%" PRIu64 " bytes %" PRIu64 "/%" PRIu64 " free %" PRIu64 "/%" PRIu64 ")",
			 hp->address, route, hp->totals.busy_count, a->totals.busy_count, hp->totals.busy_bytes,
			 a->totals.busy_bytes, hp->totals.free_count, a->totals.free_count);
	if (hp->nproblems != a->nproblems)
		fail_msg("heap 0x%" PRIx64 ": the %s route reports %zu problems, the callback route %zu",
			 hp->address, route, hp->nproblems, a->nproblems);
	for (size_t i = 0; i < a->nproblems; i++)
		if (hp->problems[i].address != a->problems[i].address ||
		    strcmp(hp->problems[i].what, a->problems[i].what))
			fail_msg("heap 0x%" PRIx64 ": %s route problem %zu is \"%s\" at 0x%" PRIx64 ", callback route's \"%s\" at 0x%" PRIx64,
				 hp->address, route, i, hp->problems[i].what, hp->problems[i].address,
				 a->problems[i].what, a->problems[i].address);
	assert_int_equal(hp->walked, a->walked);
	assert_int_equal(hp->partial, a->partial);
}

static int heap_paths_cmp_size(const void *x, const void *y)
{
	const struct ich_heap_size_stat *a = x, *b = y;
	return a->size < b->size ? -1 : a->size > b->size;
}

/* The run route: runs expanded into blocks (heap_run_block, from the
 * documented meaning of struct ich_heap_block_run). */
struct heap_runs {
	struct heap_blocks blocks;
	size_t nruns, nrun_blocks;
};
/* blocks the run route handed over as runs, over every heap_paths_check;
 * of those runs, how many had 256 kinds (a walker ends a run before a
 * 257th kind) and the longest */
static size_t heap_paths_run_blocks, heap_paths_full_kind_runs, heap_paths_longest_run;

static inline struct ich_error *heap_runs_block(const struct ich_heap *hp, const struct ich_heap_block *b,
						void *arg)
{
	return heap_blocks_collect(hp, b, &((struct heap_runs *)arg)->blocks);
}

static inline struct ich_error *heap_runs_collect(const struct ich_heap *hp, const struct ich_heap_block_run *r,
						  void *arg)
{
	struct heap_runs *s = arg;
	if (!r->count || !r->nkinds || r->nkinds > 256)
		fail_msg("heap 0x%" PRIx64 ": a run of %zu blocks with %u kinds", hp->address, r->count, r->nkinds);
	for (size_t i = 0; i < r->count; i++) {
		unsigned k = r->kind[i];
		if (k >= r->nkinds)
			fail_msg("heap 0x%" PRIx64 ": run block %zu has kind %u of %u", hp->address, i, k, r->nkinds);
		struct ich_heap_block b = heap_run_block(r, i);
		struct ich_error *err = heap_blocks_collect(hp, &b, &s->blocks);
		if (err)
			return err;
	}
	s->nruns++;
	s->nrun_blocks += r->count;
	heap_paths_full_kind_runs += r->nkinds == 256;
	if (r->count > heap_paths_longest_run)
		heap_paths_longest_run = r->count;
	return NULL;
}

static inline bool heap_paths_same_block(const struct ich_heap_block *x, const struct ich_heap_block *y)
{
	return x->header == y->header && x->user == y->user && x->size == y->size &&
	       x->block_size == y->block_size && x->unused == y->unused && x->prev_size == y->prev_size &&
	       x->segment == y->segment && x->flags == y->flags && x->state == y->state && x->layer == y->layer;
}

/* hp walked by the run route (opts as the reference's walk) gives ref's
 * blocks in order, totals and problems; returns how many came in runs. */
static inline size_t heap_runs_check(struct ich_heaps *h, struct ich_heap *hp, const struct heap_blocks *ref,
				     const struct heap_snapshot *snap, struct ich_error *ref_err, unsigned opts)
{
	struct heap_runs rr;
	memset(&rr, 0, sizeof(rr));
	struct ich_error *e2 = ich_heap_walk_runs(h, hp, heap_runs_block, heap_runs_collect, &rr, opts);
	assert_int_equal(e2 == NULL, ref_err == NULL);
	ich_error_destroy(e2);
	heap_snapshot_check(hp, snap, "run");
	size_t n = rr.blocks.n < ref->n ? rr.blocks.n : ref->n;
	for (size_t i = 0; i < n; i++)
		if (!heap_paths_same_block(&rr.blocks.b[i], &ref->b[i]))
			fail_msg("heap 0x%" PRIx64 ": the run route's block %zu (header 0x%" PRIx64 " size %" PRIu64
				 " state %d) is not the callback route's (header 0x%" PRIx64 " size %" PRIu64 " state %d)",
				 hp->address, i, rr.blocks.b[i].header, rr.blocks.b[i].size, (int)rr.blocks.b[i].state,
				 ref->b[i].header, ref->b[i].size, (int)ref->b[i].state);
	if (rr.blocks.n != ref->n)
		fail_msg("heap 0x%" PRIx64 ": the run route gives %zu blocks, the callback route %zu", hp->address,
			 rr.blocks.n, ref->n);
	free(rr.blocks.b);
	heap_paths_run_blocks += rr.nrun_blocks;
	return rr.nrun_blocks;
}

/*
 * Walk hp by the four routes and check they agree (see the top).  The
 * callback route's blocks are returned in *blocks (free ->b) for the
 * caller's own checks.  Returns the callback route's walk error (the other
 * routes must fail alike).
 */
static inline struct ich_error *heap_paths_check(struct ich_heaps *h, struct ich_heap *hp,
						 struct heap_blocks *blocks)
{
	memset(blocks, 0, sizeof(*blocks));
	struct ich_error *err = ich_heap_walk(h, hp, heap_blocks_collect, blocks);
	struct heap_snapshot ref;
	heap_snapshot_take(hp, &ref);
	struct ich_error *e2 = ich_heap_walk(h, hp, NULL, NULL);
	assert_int_equal(e2 == NULL, err == NULL);
	ich_error_destroy(e2);
	heap_snapshot_check(hp, &ref, "totals-only");
	struct ich_heap_size_stat *rows = NULL;
	size_t nrows = 0;
	uint64_t busy = 0;
	e2 = ich_heap_stat(h, hp, ICH_STAT_BY_SIZE, &rows, &nrows, &busy);
	assert_int_equal(e2 == NULL, err == NULL);
	if (!e2) {
		heap_snapshot_check(hp, &ref, "-stat");
		/* the expected groups, from the callback route's blocks */
		struct ich_heap_size_stat *x = calloc(blocks->n + 1, sizeof(*x));
		assert_non_null(x);
		size_t nx = 0;
		uint64_t xbusy = 0;
		for (size_t i = 0; i < blocks->n; i++) {
			const struct ich_heap_block *b = &blocks->b[i];
			if (b->state != ICH_BLOCK_BUSY)
				continue;
			xbusy += b->size;
			size_t j = 0;
			while (j < nx && x[j].size != b->size)
				j++;
			if (j == nx)
				x[nx++].size = b->size;
			x[j].blocks++;
			x[j].total += b->size;
		}
		qsort(x, nx, sizeof(*x), heap_paths_cmp_size);
		qsort(rows, nrows, sizeof(*rows), heap_paths_cmp_size);
		assert_int_equal(busy, xbusy);
		assert_int_equal(nrows, nx);
		for (size_t j = 0; j < nx; j++) {
			if (rows[j].size != x[j].size || rows[j].blocks != x[j].blocks || rows[j].total != x[j].total)
				fail_msg("heap 0x%" PRIx64 ": -stat row %zu is size %" PRIu64 " x %" PRIu64 " = %" PRIu64
					 ", the blocks give size %" PRIu64 " x %" PRIu64 " = %" PRIu64, hp->address, j,
					 rows[j].size, rows[j].blocks, rows[j].total, x[j].size, x[j].blocks, x[j].total);
		}
		free(x);
		free(rows);
	}
	ich_error_destroy(e2);
	heap_runs_check(h, hp, blocks, &ref, err, 0);
	free(ref.problems);
	return err;
}

#endif
