/* SPDX-License-Identifier: MIT */
/*
 * Busy blocks grouped by allocation stack, for heap -flt and -stat: page
 * heap traces and +ust database traces (src/heap/stack_trace.c).  WinDbg
 * prints no such table (with +ust its -flt adds a symbol line per entry,
 * which needs symbols), so the text goes in -v; JSON always has it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/pageheap.h>

#include "cli/cli.h"
#include "cli/heap_ext.h"
#include "core/json.h"

#define P(x) (unsigned long long)(x)

struct group {
	struct ich_stack s;
	uint64_t blocks, bytes;
};

struct gctx {
	struct heap_ext *x;
	uint64_t min, max;
	struct group *g;	size_t n, cap;
	uint64_t without, with;
	struct ich_error *err;
};

static struct ich_error *group_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct gctx *c = arg;
	if (b->state != ICH_BLOCK_BUSY || b->size < c->min || b->size > c->max)
		return NULL;
	struct ich_stack s;
	bool found = false;
	struct ich_error *err = ich_block_stack(c->x->h, hp, b, &s, &found);
	ich_error_destroy(err);
	if (!found) {
		c->without++;
		return NULL;
	}
	c->with++;
	/* entries are unique per stack in the database: group by entry */
	for (size_t i = 0; i < c->n; i++)
		if (c->g[i].s.entry == s.entry) {
			c->g[i].blocks++;
			c->g[i].bytes += b->size;
			return NULL;
		}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		if (nc > 100000)
			return NULL;
		struct group *n = realloc(c->g, nc * sizeof(*n));
		if (!n)
			return &ich_enomem;
		c->g = n;
		c->cap = nc;
	}
	c->g[c->n++] = (struct group){ s, 1, b->size };
	return NULL;
}

static int by_bytes(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return x->bytes > y->bytes ? -1 : x->bytes < y->bytes ? 1 : (x->s.entry > y->s.entry) - (x->s.entry < y->s.entry);
}

void heap_stack_groups(struct heap_ext *x, uint64_t min, uint64_t max)
{
	if (!x->j && !x->verbose)
		return;
	struct gctx c = { .x = x, .min = min, .max = max };
	for (size_t i = 0; i < ich_heaps_count(x->h); i++) {
		struct ich_heap *hp = ich_heaps_get(x->h, i);
		if (hp->status != ICH_HEAP_OK || (x->have_heap && hp->address != x->heap))
			continue;
		ich_error_destroy(ich_heap_walk(x->h, hp, group_cb, &c));
	}
	if (c.n)	/* qsort(NULL, 0, ...) is undefined (UBSan) */
		qsort(c.g, c.n, sizeof(*c.g), by_bytes);
	uint64_t arr;
	uint32_t n;
	char why[256] = "";
	bool db = ich_ust_database(x->h, &arr, &n, why, sizeof(why));
	if (x->j) {
		ich_json_begin_array(x->j, "stacks");
		for (size_t i = 0; i < c.n; i++) {
			ich_json_begin_object(x->j, NULL);
			ich_json_addr(x->j, "entry", c.g[i].s.entry);
			ich_json_u64(x->j, "index", c.g[i].s.index);
			ich_json_u64(x->j, "blocks", c.g[i].blocks);
			ich_json_u64(x->j, "bytes", c.g[i].bytes);
			heap_json_stack(x, "frames", &c.g[i].s);
			ich_json_end_object(x->j);
		}
		ich_json_end_array(x->j);
		ich_json_u64(x->j, "blocks_without_stack", c.without);
		if (!db)
			ich_json_string(x->j, "stack_note", why);
	} else {
		printf("\nAllocation stacks of these busy blocks: %zu stacks for %llu blocks, %llu blocks without one\n",
		       c.n, P(c.with), P(c.without));
		if (!db)
			printf("    (%s)\n", why);
		else
			printf("    (+ust stack trace database: EntryIndexArray top %llx, %u entries)\n", P(arr), n);
		for (size_t i = 0; i < c.n; i++) {
			printf("    %llu blocks, %llx bytes - stack trace %llx (index %u):\n", P(c.g[i].blocks),
			       P(c.g[i].bytes), P(c.g[i].s.entry), c.g[i].s.index);
			heap_print_stack(x, &c.g[i].s, true);
		}
	}
	free(c.g);
}
