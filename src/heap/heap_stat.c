/* SPDX-License-Identifier: MIT */
/* `!heap -stat`: busy blocks grouped by requested size (an open-addressing
 * table, so ten million blocks with a few thousand sizes stay linear). */
#include <stdlib.h>
#include <string.h>

#include <icpheap/heapmap.h>

#include "heap/heap_internal.h"

bool heap_stat_grow(struct heap_stat_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct ich_heap_size_stat *n = calloc(cap, sizeof(*n));
	if (!n)
		return false;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slot[i].size)
			continue;
		size_t k = (size_t)(t->slot[i].size * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
		while (n[k].size)
			k = (k + 1) & (cap - 1);
		n[k] = t->slot[i];
	}
	free(t->slot);
	t->slot = n;
	t->cap = cap;
	return true;
}

/* The walk callback (walk_emit calls its body inline, heap_internal.h). */
struct ich_error *heap_stat_add(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	if (b->state != ICH_BLOCK_BUSY)
		return NULL;
	return heap_stat_add_n(arg, b->size, 1);
}

static enum ich_heap_stat_order g_order;

static int cmp(const void *a, const void *b)
{
	const struct ich_heap_size_stat *x = a, *y = b;
	uint64_t kx = g_order == ICH_STAT_BY_SIZE ? x->size : g_order == ICH_STAT_BY_COUNT ? x->blocks : x->total;
	uint64_t ky = g_order == ICH_STAT_BY_SIZE ? y->size : g_order == ICH_STAT_BY_COUNT ? y->blocks : y->total;
	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->size > y->size ? -1 : x->size < y->size;
}

/* analyze --format html: the table and, in the same walk, the heap's map */
struct stat_map {
	struct heap_stat_table *t;
	struct ich_heap_map *m;
};

static struct ich_error *stat_map_add(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct stat_map *s = arg;
	ich_heap_map_block(s->m, hp, b);
	return heap_stat_add(hp, b, s->t);
}

/* ich_heap_stat; with maps, each walked heap's map too (maps[i]). */
static struct ich_error *stat_walk(struct ich_heaps *h, struct ich_heap *heap,
				   enum ich_heap_stat_order order,
				   struct ich_heap_size_stat **rows, size_t *nrows,
				   uint64_t *busy_bytes, struct ich_heap_map **maps)
{
	struct heap_stat_table t = { 0 };
	struct ich_error *err = NULL;
	for (size_t i = 0; i < h->nheaps && !err; i++) {
		struct ich_heap *hp = &h->heaps[i];
		if ((heap && hp != heap) || hp->status != ICH_HEAP_OK)
			continue;
		struct stat_map sm = { &t, maps ? ich_heap_map_begin() : NULL };
		if (maps && !sm.m) {
			err = &ich_enomem;
			break;
		}
		err = sm.m ? ich_heap_walk(h, hp, stat_map_add, &sm) : ich_heap_walk(h, hp, heap_stat_add, &t);
		if (sm.m) {
			/* a map that is not exact from its runs: painted by a
			 * second walk (heap_map.c says when) */
			if (!ich_heap_map_end(sm.m, hp))
				ich_error_destroy(ich_heap_walk(h, hp, ich_heap_map_paint, sm.m));
			maps[i] = sm.m;
		}
		/* Over all heaps, one heap that cannot be walked (hp->walked
		 * stays false) must not hide the others: it becomes a problem. */
		if (err && !heap && err != &ich_enomem) {
			heap_problem(hp, hp->address, "heap could not be walked: %s", err->message);
			ich_error_destroy(err);
			err = NULL;
		}
	}
	if (err) {
		free(t.slot);
		return err;
	}
	/* compact the used slots, restoring the sizes */
	size_t n = 0;
	for (size_t i = 0; i < t.cap; i++)
		if (t.slot[i].size) {
			t.slot[n] = t.slot[i];
			t.slot[n++].size--;
		}
	g_order = order;
	if (n)
		qsort(t.slot, n, sizeof(*t.slot), cmp);
	*rows = t.slot ? t.slot : calloc(1, sizeof(**rows));
	*nrows = n;
	*busy_bytes = t.busy;
	return *rows ? NULL : &ich_enomem;
}

struct ich_error *ich_heap_stat(struct ich_heaps *h, struct ich_heap *heap,
				enum ich_heap_stat_order order,
				struct ich_heap_size_stat **rows, size_t *nrows,
				uint64_t *busy_bytes)
{
	return stat_walk(h, heap, order, rows, nrows, busy_bytes, NULL);
}

struct ich_error *ich_heap_stat_maps(struct ich_heaps *h, enum ich_heap_stat_order order,
				     struct ich_heap_size_stat **rows, size_t *nrows,
				     uint64_t *busy_bytes, struct ich_heap_map ***maps)
{
	*maps = calloc(h->nheaps ? h->nheaps : 1, sizeof(**maps));
	if (!*maps)
		return &ich_enomem;
	struct ich_error *err = stat_walk(h, NULL, order, rows, nrows, busy_bytes, *maps);
	if (err) {
		ich_heap_maps_free(*maps, h->nheaps);
		*maps = NULL;
	}
	return err;
}
