/* SPDX-License-Identifier: MIT */
/*
 * heap-diff: busy-block usage of two dumps of one process, per requested
 * size and per allocation stack, and the growth between them.  One walk
 * per heap per dump feeds two open-addressing tables (size, stack-frames
 * hash); memory is O(distinct sizes + distinct stacks), time linear in
 * the blocks.  Stacks come from ich_block_stack (page heap traces, +ust
 * database), compared by frames: the older and newer dumps' trace entries
 * need not be at the same addresses.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/heapdiff.h>

#include "heap/heap_internal.h"

struct slot {
	uint64_t key;		/* size, or stack hash */
	bool used;
	struct ich_diff_row row;
};

struct table {
	struct slot *v;
	size_t cap, n;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

static uint64_t stack_hash(const struct ich_stack *s)
{
	uint64_t hsh = mix(s->depth + 1);
	for (unsigned i = 0; i < s->depth; i++)
		hsh = mix(hsh ^ s->frames[i]);
	return hsh ? hsh : 1;
}

static bool same_stack(const struct ich_stack *a, const struct ich_stack *b)
{
	return a->depth == b->depth && !memcmp(a->frames, b->frames, a->depth * sizeof(a->frames[0]));
}

static struct ich_diff_row *lookup(struct table *t, uint64_t key, const struct ich_stack *s)
{
	if ((t->n + 1) * 2 > t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		struct slot *nv = calloc(nc, sizeof(*nv));
		if (!nv)
			return NULL;
		for (size_t i = 0; i < t->cap; i++)
			if (t->v[i].used) {
				size_t j = mix(t->v[i].key) & (nc - 1);
				while (nv[j].used)
					j = (j + 1) & (nc - 1);
				nv[j] = t->v[i];
			}
		free(t->v);
		t->v = nv;
		t->cap = nc;
	}
	size_t j = mix(key) & (t->cap - 1);
	while (t->v[j].used) {
		if (t->v[j].key == key && (!s || same_stack(&t->v[j].row.stack, s)))
			return &t->v[j].row;
		j = (j + 1) & (t->cap - 1);
	}
	t->v[j].used = true;
	t->v[j].key = key;
	memset(&t->v[j].row, 0, sizeof(t->v[j].row));
	if (s) {
		t->v[j].row.by_stack = true;
		t->v[j].row.stack = *s;
	} else {
		t->v[j].row.size = key;
	}
	t->n++;
	return &t->v[j].row;
}

struct dctx {
	struct ich_heaps *h;
	struct table *sizes, *stacks;
	bool newer;
	struct ich_diff *d;
};

static struct ich_error *count_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct dctx *c = arg;
	if (b->state != ICH_BLOCK_BUSY)
		return NULL;
	/* the segment's own header block holds the _HEAP / _HEAP_SEGMENT:
	 * heap metadata, not an allocation (as for -l) */
	if (b->layer == ICH_LAYER_BACKEND && b->header == b->segment)
		return NULL;
	struct ich_diff_row *r = lookup(c->sizes, b->size, NULL);
	if (!r)
		return &ich_enomem;
	if (c->newer) {
		r->new_count++;
		r->new_bytes += b->size;
		c->d->new_count++;
		c->d->new_bytes += b->size;
	} else {
		r->old_count++;
		r->old_bytes += b->size;
		c->d->old_count++;
		c->d->old_bytes += b->size;
	}
	struct ich_stack s;
	bool found = false;
	ich_error_destroy(ich_block_stack(c->h, hp, b, &s, &found));
	if (!found)
		return NULL;
	s.entry = 0;	/* matched by frames, not by address */
	s.index = 0;
	r = lookup(c->stacks, stack_hash(&s), &s);
	if (!r)
		return &ich_enomem;
	if (c->newer) {
		r->new_count++;
		r->new_bytes += b->size;
	} else {
		r->old_count++;
		r->old_bytes += b->size;
	}
	return NULL;
}

static struct ich_error *count_dump(struct dctx *c, size_t *skipped)
{
	for (size_t i = 0; i < c->h->nheaps; i++) {
		struct ich_heap *hp = &c->h->heaps[i];
		if (hp->status != ICH_HEAP_OK) {
			(*skipped)++;
			continue;
		}
		struct ich_error *err = ich_heap_walk(c->h, hp, count_cb, c);
		if (err == &ich_enomem)
			return err;
		if (err) {
			(*skipped)++;	/* what was counted stays: partial */
			ich_error_destroy(err);
		}
	}
	return NULL;
}

static int by_growth(const void *a, const void *b)
{
	const struct ich_diff_row *x = a, *y = b;
	if (x->bytes_growth != y->bytes_growth)
		return x->bytes_growth > y->bytes_growth ? -1 : 1;
	if (x->count_growth != y->count_growth)
		return x->count_growth > y->count_growth ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

static struct ich_error *rows_of(struct table *t, struct ich_diff_row **out, size_t *n)
{
	*out = calloc(t->n ? t->n : 1, sizeof(**out));
	if (!*out)
		return &ich_enomem;
	*n = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].used) {
			struct ich_diff_row *r = &(*out)[(*n)++];
			*r = t->v[i].row;
			r->count_growth = (int64_t)(r->new_count - r->old_count);
			r->bytes_growth = (int64_t)(r->new_bytes - r->old_bytes);
		}
	qsort(*out, *n, sizeof(**out), by_growth);
	return NULL;
}

void ich_heap_diff_free(struct ich_diff *d)
{
	free(d->sizes);
	free(d->stacks);
	memset(d, 0, sizeof(*d));
}

struct ich_error *ich_heap_diff(struct ich_heaps *old_h, struct ich_heaps *new_h, struct ich_diff *d)
{
	memset(d, 0, sizeof(*d));
	struct table sizes = { 0 }, stacks = { 0 };
	struct dctx c = { old_h, &sizes, &stacks, false, d };
	struct ich_error *err = count_dump(&c, &d->old_heaps_skipped);
	if (!err) {
		c.h = new_h;
		c.newer = true;
		err = count_dump(&c, &d->new_heaps_skipped);
	}
	if (!err)
		err = rows_of(&sizes, &d->sizes, &d->nsizes);
	if (!err)
		err = rows_of(&stacks, &d->stacks, &d->nstacks);
	free(sizes.v);
	free(stacks.v);
	if (err)
		ich_heap_diff_free(d);
	return err;
}
