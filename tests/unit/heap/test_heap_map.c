/* SPDX-License-Identifier: MIT */
/*
 * The heap map collected during a walk (src/heap/heap_map.c, heapmap.h):
 * on every builder scenario given, each heap's map from the walk's runs
 * (one walk) is the map painted block by block by a second walk (what
 * analyze --format html did before: a walk per heap for the map), row by
 * row and column by column; the large blocks and the corrupt count agree;
 * and the single walk suffices (no second walk) on the scenarios that are
 * not corrupt.
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

static void test_maps(void **state)
{
	(void)state;
	size_t heaps = 0, one_walk = 0, painted = 0;
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
			ich_error_destroy(ich_heap_walk(h, hp, feed, b));
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
			ich_heap_map_free(a);
			ich_heap_map_free(b);
		}
		ich_heaps_close(h);
		ich_dump_close(dump);
	}
	printf("%zu heaps: %zu maps from one walk; %zu painted columns compared\n", heaps, one_walk, painted);
	assert_true(heaps >= (size_t)g_n);
	assert_true(painted > 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DMP...\n", argv[0]);
		return 2;
	}
	g_paths = argv + 1;
	g_n = argc - 1;
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_maps) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
