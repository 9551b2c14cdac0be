/* SPDX-License-Identifier: MIT */
/*
 * The heap map collected during a walk (src/heap/heap_map.c, heapmap.h):
 * on every builder scenario given, each heap's map from the walk's runs
 * (one walk) is the map painted block by block by a second walk (what
 * analyze --format html did before: a walk per heap for the map), row by
 * row and column by column; the large blocks and the corrupt count agree
 * with the reference's and with counts the test takes from the blocks
 * itself; and the single walk suffices (no second walk) on the scenarios
 * that are not corrupt.  No scenario needs the second walk (87 heaps, 87 maps
 * from one walk), so test_second_walk makes it needed with a heap built
 * in memory: a segment edge inside a run, a segment record that changed,
 * overlapping segments.
 * argv: DMP... (a name with "corrupt" may need the second walk).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/heapmap.h>

#include "heap/heap_internal.h"

static char **g_paths;
static int g_n;

static struct ich_error *feed(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg)
{
	ich_heap_map_block(arg, heap, b);
	return NULL;
}

/* The reference's feed: also the large and corrupt blocks counted here,
 * from the blocks themselves (the map's own counts are checked against
 * these, not only against another map). */
struct counted {
	struct ich_heap_map *m;
	size_t large, corrupt;
	struct ich_heap_map_large first[ICH_HEAP_MAP_LARGE];
};

static struct ich_error *feed_count(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg)
{
	struct counted *c = arg;
	ich_heap_map_block(c->m, heap, b);
	if (b->layer == ICH_LAYER_VIRTUAL || b->layer == ICH_LAYER_SEG_LARGE) {
		if (c->large < ICH_HEAP_MAP_LARGE)
			c->first[c->large] = (struct ich_heap_map_large){ b->header, b->block_size,
									   b->state == ICH_BLOCK_BUSY };
		c->large++;
	} else if (b->state == ICH_BLOCK_CORRUPT) {
		c->corrupt++;
	}
	return NULL;
}

static void test_maps(void **state)
{
	(void)state;
	size_t heaps = 0, one_walk = 0, painted = 0, larges = 0, corrupts = 0;
	for (int d = 0; d < g_n; d++) {
		struct ich_dump *dump = NULL;
		struct ich_error *err = ich_dump_open(g_paths[d], &dump);
		if (err)
			fail_msg("%s: %s", g_paths[d], err->message);
		struct ich_heaps *h = NULL;
		err = ich_heaps_open(dump, 0, &h);
		if (err)
			fail_msg("%s: %s", g_paths[d], err->message);
		bool corrupt = strstr(g_paths[d], "corrupt") != NULL;
		for (size_t i = 0; i < ich_heaps_count(h); i++) {
			struct ich_heap *hp = ich_heaps_get(h, i);
			if (hp->status != ICH_HEAP_OK)
				continue;
			/* the one walk: runs */
			struct ich_heap_map *a = ich_heap_map_begin();
			assert_non_null(a);
			ich_error_destroy(ich_heap_walk(h, hp, feed, a));
			bool exact = ich_heap_map_end(a, hp);
			if (!exact)
				ich_error_destroy(ich_heap_walk(h, hp, ich_heap_map_paint, a));
			/* the reference: the same rows, every block painted */
			struct ich_heap_map *b = ich_heap_map_begin();
			assert_non_null(b);
			struct counted *cnt = calloc(1, sizeof(*cnt));
			assert_non_null(cnt);
			cnt->m = b;
			ich_error_destroy(ich_heap_walk(h, hp, feed_count, cnt));
			heap_map_rows(b, hp);
			ich_error_destroy(ich_heap_walk(h, hp, ich_heap_map_paint, b));
			heaps++;
			one_walk += exact;
			if (!exact && !corrupt)
				fail_msg("%s heap 0x%llx: the map needed a second walk", g_paths[d],
					 (unsigned long long)hp->address);
			assert_int_equal(a->nrows, b->nrows);
			for (size_t r = 0; r < a->nrows; r++) {
				assert_int_equal(a->rows[r].lo, b->rows[r].lo);
				assert_int_equal(a->rows[r].hi, b->rows[r].hi);
				for (size_t x = 0; x < ICH_HEAP_MAP_COLS; x++) {
					if (a->rows[r].col[x] != b->rows[r].col[x])
						fail_msg("%s heap 0x%llx row %zu column %zu: %u from the runs, %u block by block",
							 g_paths[d], (unsigned long long)hp->address, r, x,
							 a->rows[r].col[x], b->rows[r].col[x]);
					painted += a->rows[r].col[x] > ICH_MAP_UNCOMMITTED;
				}
			}
			assert_int_equal(a->nlarge, b->nlarge);
			assert_int_equal(a->nlarge_total, b->nlarge_total);
			assert_int_equal(a->ncorrupt, b->ncorrupt);
			assert_memory_equal(a->large, b->large, a->nlarge * sizeof(a->large[0]));
			assert_int_equal(a->nlarge_total, cnt->large);
			assert_int_equal(a->nlarge, cnt->large < ICH_HEAP_MAP_LARGE ? cnt->large : ICH_HEAP_MAP_LARGE);
			assert_int_equal(a->ncorrupt, cnt->corrupt);
			for (size_t k = 0; k < a->nlarge; k++) {
				assert_int_equal(a->large[k].address, cnt->first[k].address);
				assert_int_equal(a->large[k].size, cnt->first[k].size);
				assert_int_equal(a->large[k].busy, cnt->first[k].busy);
			}
			larges += cnt->large;
			corrupts += cnt->corrupt;
			free(cnt);
			ich_heap_map_free(a);
			ich_heap_map_free(b);
		}
		ich_heaps_close(h);
		ich_dump_close(dump);
	}
	printf("%zu heaps: %zu maps from one walk; %zu painted columns compared; %zu large and %zu corrupt blocks counted\n",
	       heaps, one_walk, painted, larges, corrupts);
	assert_true(heaps >= (size_t)g_n);
	assert_true(painted > 0);
}

/* The maps of blocks fed as a walk would (the heap's segment records
 * during the walk: walk_seg[0..walk_nseg)), then finished with
 * ich_heap_map_end (and its second walk when it asks for one), against
 * the reference: heap_map_rows, every block painted.  Returns whether
 * the one walk sufficed. */
static bool one_walk_vs_reference(struct ich_heap *hp, struct ich_heap_segment *walk_seg, size_t walk_nseg,
				  const struct ich_heap_block *v, size_t n)
{
	struct ich_heap_segment *seg = hp->segments;
	size_t nseg = hp->nsegments;
	struct ich_heap_map *a = ich_heap_map_begin(), *b = ich_heap_map_begin();
	assert_non_null(a);
	assert_non_null(b);
	hp->segments = walk_seg;
	hp->nsegments = walk_nseg;
	for (size_t i = 0; i < n; i++)
		ich_heap_map_block(a, hp, &v[i]);
	hp->segments = seg;
	hp->nsegments = nseg;
	bool exact = ich_heap_map_end(a, hp);
	if (!exact)
		for (size_t i = 0; i < n; i++)
			assert_null(ich_heap_map_paint(hp, &v[i], a));
	heap_map_rows(b, hp);
	for (size_t i = 0; i < n; i++)
		assert_null(ich_heap_map_paint(hp, &v[i], b));
	assert_int_equal(a->nrows, b->nrows);
	size_t painted = 0;
	for (size_t r = 0; r < a->nrows; r++) {
		assert_int_equal(a->rows[r].lo, b->rows[r].lo);
		assert_int_equal(a->rows[r].hi, b->rows[r].hi);
		assert_memory_equal(a->rows[r].col, b->rows[r].col, ICH_HEAP_MAP_COLS);
		for (size_t x = 0; x < ICH_HEAP_MAP_COLS; x++)
			painted += a->rows[r].col[x] > ICH_MAP_UNCOMMITTED;
	}
	assert_true(painted > 0);
	ich_heap_map_free(a);
	ich_heap_map_free(b);
	return exact;
}

/* The second walk, which no builder scenario needs: blocks kept as runs
 * (no segment recorded yet during the walk) with a segment's edge inside
 * a run, two overlapping segments, a segment record that changed after
 * the walk painted by it.  The map must say it is not exact and, after
 * the second walk, be the block-by-block map (rows cleaned of what the
 * first walk painted). */
static void test_second_walk(void **state)
{
	(void)state;
	enum { N = 512 };
	struct ich_heap_block *v = calloc(N, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < N; i++)
		v[i] = (struct ich_heap_block){ .header = 0x10000 + 0x100 * i, .user = 0x10010 + 0x100 * i,
						.size = 0x80, .block_size = 0x100, .segment = 0x10000,
						.state = i % 3 ? ICH_BLOCK_BUSY : ICH_BLOCK_FREE,
						.layer = ICH_LAYER_BACKEND };
	struct ich_heap_ucr ucr = { 0x30000, 0x8000 };
	struct ich_heap_segment seg[2] = {
		{ .base = 0x10080, .last_valid_entry = 0x38000, .ucr = &ucr, .nucr = 1 },
		{ .base = 0x20000, .last_valid_entry = 0x40000 },
	};
	struct ich_heap hp = { .address = 0x10000, .kind = ICH_HEAP_KIND_NT, .status = ICH_HEAP_OK,
			       .segments = seg, .nsegments = 1 };
	/* a row edge (0x10080) inside the run of busy blocks from 0x10000 */
	assert_false(one_walk_vs_reference(&hp, seg, 0, v, N));
	/* the segment from the first block on, recorded before the blocks
	 * (as the walkers do): one walk suffices */
	seg[0].base = 0x10000;
	assert_true(one_walk_vs_reference(&hp, seg, 1, v, N));
	/* recorded only after the blocks, no edge inside a run: the runs
	 * are painted, one walk */
	assert_true(one_walk_vs_reference(&hp, seg, 0, v, N));
	/* the record read during the walk (the blocks painted into its row)
	 * is not the one the heap ends with */
	struct ich_heap_segment walk_seg = { .base = 0x8000, .last_valid_entry = 0x40000 };
	assert_false(one_walk_vs_reference(&hp, &walk_seg, 1, v, N));
	/* overlapping rows: the second walk again */
	hp.nsegments = 2;
	assert_false(one_walk_vs_reference(&hp, seg, 2, v, N));
	free(v);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DMP...\n", argv[0]);
		return 2;
	}
	g_paths = argv + 1;
	g_n = argc - 1;
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_maps), cmocka_unit_test(test_second_walk) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
