/* SPDX-License-Identifier: MIT */
/*
 * A heap drawn to scale, as data: per segment a row of
 * ICH_HEAP_MAP_COLS columns, each holding the most telling class of the
 * bytes it covers (corrupt > busy > LFH > internal > free > uncommitted),
 * and the large blocks end to end.  Built block by block during a walk
 * the caller does anyway (ich_heap_stat_maps: analyze's one walk), so a
 * renderer (analyze --format html) draws it without walking the heap
 * again.  The map costs O(segments x columns), not O(blocks).
 */
#ifndef ICPHEAP_HEAPMAP_H
#define ICPHEAP_HEAPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/heap.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ICH_HEAP_MAP_COLS 900
#define ICH_HEAP_MAP_ROWS 64		/* segments drawn per heap */
#define ICH_HEAP_MAP_LARGE 256		/* large blocks kept per heap */

enum ich_heap_map_class {
	ICH_MAP_NONE,		/* nothing described there */
	ICH_MAP_UNCOMMITTED,
	ICH_MAP_FREE,
	ICH_MAP_INTERNAL,	/* front-end containers, metadata */
	ICH_MAP_LFH,		/* a busy LFH block */
	ICH_MAP_BUSY,
	ICH_MAP_CORRUPT,
	ICH_MAP_NCLASSES
};

struct ich_heap_map_row {
	uint64_t lo, hi;		/* [lo, hi): the segment */
	uint8_t col[ICH_HEAP_MAP_COLS];	/* enum ich_heap_map_class */
};

struct ich_heap_map_large {
	uint64_t address, size;
	bool busy;
};

struct heap_map_runs;

struct ich_heap_map {
	struct ich_heap_map_row rows[ICH_HEAP_MAP_ROWS];
	size_t nrows;
	struct ich_heap_map_large large[ICH_HEAP_MAP_LARGE];
	size_t nlarge, nlarge_total;	/* kept, and seen */
	uint64_t ncorrupt;		/* corrupt blocks outside the large ones */
	struct heap_map_runs *runs;	/* private: the blocks during the walk */
};

/* An empty map, for one heap's walk. */
struct ich_heap_map *ich_heap_map_begin(void);
/* One block of the heap's walk (the walk callback's heap and block). */
void ich_heap_map_block(struct ich_heap_map *m, const struct ich_heap *heap, const struct ich_heap_block *b);
/* After the walk: the rows (heap's segments, or for a heap with none one
 * row over every non-large block) painted.  False when the map needs a
 * second walk with ich_heap_map_paint as its callback to be exact
 * (ich_heap_stat_maps does it): see heap_map.c. */
bool ich_heap_map_end(struct ich_heap_map *m, const struct ich_heap *heap);
/* The second walk's callback (arg: the map). */
struct ich_error *ich_heap_map_paint(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg);
void ich_heap_map_free(struct ich_heap_map *m);

/* ich_heap_stat over every heap (heap.h), and in the same walk each heap's
 * map: (*maps)[i] for heap i of ich_heaps_get, NULL for a heap not walked
 * (free with ich_heap_maps_free(*maps, ich_heaps_count(h))). */
struct ich_error *ich_heap_stat_maps(struct ich_heaps *h, enum ich_heap_stat_order order,
				     struct ich_heap_size_stat **rows, size_t *nrows,
				     uint64_t *busy_bytes, struct ich_heap_map ***maps);
void ich_heap_maps_free(struct ich_heap_map **maps, size_t n);

#ifdef __cplusplus
}
#endif
#endif
