/* SPDX-License-Identifier: MIT */
/*
 * A heap's map (heapmap.h), collected during a walk the caller does anyway
 * (analyze's: ich_heap_stat_maps), so analyze --format html draws every
 * heap without walking it again.
 *
 * The rows are the heap's first segments.  The walkers record a segment
 * (heap->segments) before they emit its blocks, so a block is painted as
 * it comes into the row that holds it.  A block no row holds yet (a heap
 * with no segment records: its one row spans every non-large block, known
 * only at the end) is kept as a run of its class instead: a block that
 * starts inside the class's last run or where it ends extends it, unless
 * it starts a page (segments start and end on one).  The end paints the
 * runs: a run paints the columns its blocks would (a block's columns are
 * rounded outwards, so two touching blocks' columns meet or overlap).
 * Where that is not certain the map asks for a second walk that paints
 * block by block, and ich_heap_stat_maps does it: a row of more than 1 TiB
 * (its columns are rounded down), a row edge inside a run (a block across
 * it: corrupt), overlapping rows, segment records that changed, more runs
 * than the memory allowed.
 */
#include <stdlib.h>
#include <string.h>

#include <icpheap/heapmap.h>

#include "heap/heap_internal.h"

#define MAX_RUNS (4u << 20)	/* 64 MiB of runs, then a second walk */
#define PAGE 0x1000u

struct run {
	uint64_t lo, hi;	/* hi: UINT64_MAX when a block's end wraps */
};

struct heap_map_runs {
	size_t seen;		/* heap->segments looked at for rows */
	/* the last block's row and column: a block with its header in
	 * [ca0, ca1) that ends by ce paints column cx of row cr alone */
	struct ich_heap_map_row *cr;
	uint64_t ca0, ca1, ce;
	size_t cx;
	uint64_t lo, hi;	/* the span of the kept blocks whose end does not wrap */
	struct run *r[ICH_MAP_NCLASSES];
	size_t n[ICH_MAP_NCLASSES], cap[ICH_MAP_NCLASSES];
	size_t total;
	bool overflow;
};

static void paint(struct ich_heap_map_row *r, uint64_t a, uint64_t end, enum ich_heap_map_class c)
{
	uint64_t span = r->hi - r->lo;
	if (end > r->hi)
		end = r->hi;
	if (a < r->lo)
		a = r->lo;
	if (end <= a)
		end = a + 1;
	/* Columns by 128-bit-safe arithmetic: offsets are < 2^48 in practice,
	 * but a hostile segment may claim more; divide first when large. */
	size_t x0 = span > (1ull << 40) ? (size_t)((a - r->lo) / (span / ICH_HEAP_MAP_COLS + 1)) :
		    (size_t)((a - r->lo) * ICH_HEAP_MAP_COLS / span);
	size_t x1 = span > (1ull << 40) ? (size_t)((end - r->lo) / (span / ICH_HEAP_MAP_COLS + 1)) :
		    (size_t)(((end - r->lo) * ICH_HEAP_MAP_COLS + span - 1) / span);
	if (x0 >= ICH_HEAP_MAP_COLS)
		x0 = ICH_HEAP_MAP_COLS - 1;
	if (x1 > ICH_HEAP_MAP_COLS)
		x1 = ICH_HEAP_MAP_COLS;
	if (x1 <= x0)
		x1 = x0 + 1;
	for (size_t x = x0; x < x1; x++)
		if (r->col[x] < c)
			r->col[x] = (uint8_t)c;
}

static enum ich_heap_map_class class_of(const struct ich_heap_block *b)
{
	switch (b->state) {
	case ICH_BLOCK_CORRUPT: return ICH_MAP_CORRUPT;
	case ICH_BLOCK_INTERNAL: return ICH_MAP_INTERNAL;
	case ICH_BLOCK_FREE: return ICH_MAP_FREE;
	case ICH_BLOCK_BUSY:
	default:
		return b->layer == ICH_LAYER_LFH || b->layer == ICH_LAYER_SEG_LFH ? ICH_MAP_LFH : ICH_MAP_BUSY;
	}
}

static bool is_large(const struct ich_heap_block *b)
{
	return b->layer == ICH_LAYER_VIRTUAL || b->layer == ICH_LAYER_SEG_LARGE;
}

/* [header, header + size), at least a byte; *wraps when the end wraps
 * (the block then runs to the end of its row). */
static uint64_t block_end(const struct ich_heap_block *b, bool *wraps)
{
	uint64_t e = b->header + (b->block_size ? b->block_size : 1);
	*wraps = e < b->header;
	return *wraps ? UINT64_MAX : e;
}

struct ich_heap_map *ich_heap_map_begin(void)
{
	struct ich_heap_map *m = calloc(1, sizeof(*m));
	if (m && !(m->runs = calloc(1, sizeof(*m->runs)))) {
		free(m);
		return NULL;
	}
	if (m)
		m->runs->lo = UINT64_MAX;
	return m;
}

static void add_run(struct heap_map_runs *R, enum ich_heap_map_class c, uint64_t a, uint64_t e)
{
	if (R->overflow)
		return;
	size_t n = R->n[c];
	struct run *last = n ? &R->r[c][n - 1] : NULL;
	if (last && a >= last->lo && a <= last->hi && (a & (PAGE - 1))) {
		if (e > last->hi)
			last->hi = e;
		return;
	}
	if (n == R->cap[c]) {
		size_t cap = R->cap[c] ? R->cap[c] * 2 : 64;
		struct run *nr = R->total + cap - R->cap[c] > MAX_RUNS ? NULL : realloc(R->r[c], cap * sizeof(*nr));
		if (!nr) {
			R->overflow = true;
			return;
		}
		R->total += cap - R->cap[c];
		R->r[c] = nr;
		R->cap[c] = cap;
	}
	R->r[c][R->n[c]++] = (struct run){ a, e };
}

/* The first row holding a (rows are searched in order, as blocks are). */
static struct ich_heap_map_row *row_of(struct ich_heap_map *m, uint64_t a)
{
	for (size_t i = 0; i < m->nrows; i++)
		if (a >= m->rows[i].lo && a < m->rows[i].hi)
			return &m->rows[i];
	return NULL;
}

void ich_heap_map_block(struct ich_heap_map *m, const struct ich_heap *heap, const struct ich_heap_block *b)
{
	if (is_large(b)) {
		m->nlarge_total++;
		if (m->nlarge < ICH_HEAP_MAP_LARGE)
			m->large[m->nlarge++] = (struct ich_heap_map_large){ b->header, b->block_size,
									     b->state == ICH_BLOCK_BUSY };
		return;
	}
	enum ich_heap_map_class c = class_of(b);
	if (c == ICH_MAP_CORRUPT)
		m->ncorrupt++;
	struct heap_map_runs *R = m->runs;
	if (!R)
		return;
	/* the segments recorded since the last block: rows */
	for (; R->seen < heap->nsegments && m->nrows < ICH_HEAP_MAP_ROWS; R->seen++) {
		const struct ich_heap_segment *s = &heap->segments[R->seen];
		if (s->last_valid_entry <= s->base)
			continue;
		m->rows[m->nrows].lo = s->base;
		m->rows[m->nrows++].hi = s->last_valid_entry;
	}
	bool wraps;
	uint64_t e = block_end(b, &wraps);
	if (R->cr && b->header >= R->ca0 && b->header < R->ca1 && e <= R->ce) {
		if (R->cr->col[R->cx] < c)	/* what paint would do, without dividing */
			R->cr->col[R->cx] = (uint8_t)c;
		return;
	}
	struct ich_heap_map_row *r = row_of(m, b->header);
	if (r) {
		paint(r, b->header, e, c);
		uint64_t span = r->hi - r->lo;
		bool first = true;	/* no earlier row overlaps this one */
		for (struct ich_heap_map_row *q = m->rows; q < r && first; q++)
			first = q->hi <= r->lo || q->lo >= r->hi;
		R->cr = NULL;
		if (span <= (1ull << 40) && first) {
			/* column x holds the addresses a with
			 * floor((a - lo) * COLS / span) == x; a block from there
			 * that ends by lo + floor((x + 1) * span / COLS) ends in it */
			uint64_t x = (b->header - r->lo) * ICH_HEAP_MAP_COLS / span;
			R->cr = r;
			R->cx = (size_t)x;
			R->ca0 = r->lo + (x * span + ICH_HEAP_MAP_COLS - 1) / ICH_HEAP_MAP_COLS;
			R->ca1 = r->lo + ((x + 1) * span + ICH_HEAP_MAP_COLS - 1) / ICH_HEAP_MAP_COLS;
			R->ce = r->lo + (x + 1) * span / ICH_HEAP_MAP_COLS;
		}
		return;
	}
	if (!wraps) {
		if (b->header < R->lo)
			R->lo = b->header;
		if (e > R->hi)
			R->hi = e;
	}
	add_run(R, c, b->header, e);
}

/* The rows from the heap's segments (their uncommitted ranges painted),
 * or one row over the kept blocks' span; the columns cleared unless keep.
 * False when the rows painted during the walk are not the segments'. */
static bool make_rows(struct ich_heap_map *m, const struct ich_heap *heap, bool keep)
{
	size_t n = 0;
	bool same = true;
	for (size_t i = 0; i < heap->nsegments && n < ICH_HEAP_MAP_ROWS; i++) {
		const struct ich_heap_segment *s = &heap->segments[i];
		if (s->last_valid_entry <= s->base)
			continue;
		struct ich_heap_map_row *r = &m->rows[n];
		if (n < m->nrows && (r->lo != s->base || r->hi != s->last_valid_entry))
			same = false;
		if (!keep || n >= m->nrows)
			memset(r->col, 0, sizeof(r->col));
		r->lo = s->base;
		r->hi = s->last_valid_entry;
		for (size_t u = 0; u < s->nucr; u++) {
			uint64_t e = s->ucr[u].address + s->ucr[u].size;
			paint(r, s->ucr[u].address, e < s->ucr[u].address ? UINT64_MAX : e, ICH_MAP_UNCOMMITTED);
		}
		n++;
	}
	if (n < m->nrows)
		same = false;
	m->nrows = n;
	if (!n && m->runs && m->runs->hi > m->runs->lo) {
		memset(&m->rows[0], 0, sizeof(m->rows[0]));
		m->rows[0].lo = m->runs->lo;
		m->rows[0].hi = m->runs->hi;
		m->nrows = 1;
	}
	return same;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Can the runs be painted as wholes?  No row over 1 TiB, no two rows
 * overlapping, no row edge strictly inside a run. */
static bool runs_paintable(const struct ich_heap_map *m)
{
	const struct heap_map_runs *R = m->runs;
	if (R->overflow)
		return false;
	for (size_t i = 0; i < m->nrows; i++) {
		const struct ich_heap_map_row *r = &m->rows[i];
		if (r->hi - r->lo > (1ull << 40))
			return false;
		for (size_t j = 0; j < i; j++)
			if (r->lo < m->rows[j].hi && m->rows[j].lo < r->hi)
				return false;
	}
	uint64_t edge[2 * ICH_HEAP_MAP_ROWS];
	size_t ne = 0;
	for (size_t i = 0; i < m->nrows; i++) {
		edge[ne++] = m->rows[i].lo;
		edge[ne++] = m->rows[i].hi;
	}
	qsort(edge, ne, sizeof(edge[0]), u64_cmp);
	for (int c = 0; c < ICH_MAP_NCLASSES; c++)
		for (size_t k = 0; k < R->n[c]; k++) {
			const struct run *u = &R->r[c][k];
			size_t lo = 0, hi = ne;	/* the first edge above the run's start */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (edge[mid] <= u->lo)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < ne && edge[lo] < u->hi)
				return false;
		}
	return true;
}

static void runs_free(struct heap_map_runs *R)
{
	if (!R)
		return;
	for (int c = 0; c < ICH_MAP_NCLASSES; c++)
		free(R->r[c]);
	free(R);
}

void heap_map_rows(struct ich_heap_map *m, const struct ich_heap *heap)
{
	make_rows(m, heap, false);
	runs_free(m->runs);
	m->runs = NULL;
}

bool ich_heap_map_end(struct ich_heap_map *m, const struct ich_heap *heap)
{
	if (!(m->runs && make_rows(m, heap, true) && runs_paintable(m))) {
		heap_map_rows(m, heap);	/* clean rows for the second walk */
		return false;
	}
	for (int c = 0; c < ICH_MAP_NCLASSES; c++)
		for (size_t k = 0; k < m->runs->n[c]; k++) {
			const struct run *u = &m->runs->r[c][k];
			struct ich_heap_map_row *r = row_of(m, u->lo);
			if (r)
				paint(r, u->lo, u->hi, (enum ich_heap_map_class)c);
		}
	runs_free(m->runs);
	m->runs = NULL;
	return true;
}

struct ich_error *ich_heap_map_paint(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg)
{
	(void)heap;
	struct ich_heap_map *m = arg;
	if (is_large(b))
		return NULL;
	bool wraps;
	uint64_t e = block_end(b, &wraps);
	struct ich_heap_map_row *r = row_of(m, b->header);
	if (r)
		paint(r, b->header, e, class_of(b));
	return NULL;
}

void ich_heap_map_free(struct ich_heap_map *m)
{
	if (!m)
		return;
	runs_free(m->runs);
	free(m);
}

void ich_heap_maps_free(struct ich_heap_map **maps, size_t n)
{
	for (size_t i = 0; maps && i < n; i++)
		ich_heap_map_free(maps[i]);
	free(maps);
}
