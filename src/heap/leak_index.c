/* SPDX-License-Identifier: MIT */
/*
 * The block lookup of `heap -l` (see leak_index.h): the sorted array of
 * candidates (the walk's own when it is in address order), a page bitmap
 * and a chunk table over it, sized from the candidates' count and span
 * once, after the walk.
 */
#include <stdlib.h>
#include <string.h>

#include "heap/leak_index.h"

/* At most 2^23 bits (1 MiB) of bitmap: a sparse address space gets
 * coarser pages, never a bigger table. */
#define MAX_BITS (UINT64_C(1) << 23)

void leak_index_free(struct leak_index *x)
{
	free(x->bits);
	free(x->first);
	memset(x, 0, sizeof(*x));
}

static void set_bits(uint64_t *bits, uint64_t p0, uint64_t p1)
{
	/* bits [p0, p1] */
	uint64_t w0 = p0 >> 6, w1 = p1 >> 6;
	uint64_t m0 = ~UINT64_C(0) << (p0 & 63), m1 = ~UINT64_C(0) >> (63 - (p1 & 63));
	if (w0 == w1) {
		bits[w0] |= m0 & m1;
		return;
	}
	bits[w0] |= m0;
	for (uint64_t w = w0 + 1; w < w1; w++)
		bits[w] = ~UINT64_C(0);
	bits[w1] |= m1;
}

struct ich_error *leak_index_build(struct leak_index *x, const struct leak_cand *c, size_t n)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->n = n;
	if (!n) {
		/* one clear bit: every lookup stops at the bitmap */
		x->bits = calloc(1, sizeof(*x->bits));
		return x->bits ? NULL : &ich_enomem;
	}
	x->lo = c[0].user;
	x->span = c[n - 1].last - x->lo;
	x->pshift = 12;
	while ((x->span >> x->pshift) >= MAX_BITS)
		x->pshift++;
	/* the chunk table: at most max(n, 2^16) entries (4 bytes each) */
	uint64_t max_chunks = n > 65536 ? n : 65536;
	x->cshift = 16;
	while ((x->span >> x->cshift) >= max_chunks)
		x->cshift++;
	x->nchunks = (x->span >> x->cshift) + 1;
	x->bits = calloc((size_t)((x->span >> x->pshift) >> 6) + 1, sizeof(*x->bits));
	x->first = malloc((size_t)(x->nchunks + 1) * sizeof(*x->first));
	if (!x->bits || !x->first) {
		leak_index_free(x);
		return &ich_enomem;
	}
	for (size_t i = 0; i < n; i++)
		set_bits(x->bits, (c[i].user - x->lo) >> x->pshift, (c[i].last - x->lo) >> x->pshift);
	/* the blocks' ends rise with their starts (disjoint, sorted): one
	 * pass over both */
	size_t i = 0;
	for (uint64_t k = 0; k < x->nchunks; k++) {
		uint64_t start = k << x->cshift;
		while (i < n && c[i].last - x->lo < start)
			i++;
		x->first[k] = (uint32_t)i;
	}
	x->first[x->nchunks] = (uint32_t)n;
	return NULL;
}

struct lblock {
	uint64_t user, last;
	uint64_t walk_index;
};

static int block_cmp(const void *a, const void *b)
{
	const struct lblock *x = a, *y = b;
	return x->user < y->user ? -1 : x->user > y->user;
}

struct ich_error *leak_order_build(struct leak_order *o, struct leak_cand *cand, size_t n, bool unsorted,
				   bool overlap)
{
	memset(o, 0, sizeof(*o));
	o->unsorted = unsorted;
	if (!unsorted && !overlap) {
		/* the usual case: the walk order is the address order */
		o->sorted = cand;
		o->ns = n;
		return NULL;
	}
	/* heaps out of order, or overlapping blocks (a corrupt walk): sort
	 * (only when out of order) and keep the first of overlapping blocks */
	struct lblock *t = malloc((n ? n : 1) * sizeof(*t));
	if (!t)
		return &ich_enomem;
	for (size_t i = 0; i < n; i++)
		t[i] = (struct lblock){ cand[i].user, cand[i].last, i };
	if (unsorted)
		qsort(t, n, sizeof(t[0]), block_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && t[i].user <= t[k - 1].last)
			continue;
		t[k++] = t[i];
	}
	o->ns = k;
	o->sorted = malloc((k ? k : 1) * sizeof(*o->sorted));
	o->walk_of = malloc((k ? k : 1) * sizeof(*o->walk_of));
	if (!o->sorted || !o->walk_of) {
		free(t);
		leak_order_free(o, cand);
		return &ich_enomem;
	}
	for (size_t i = 0; i < k; i++) {
		o->sorted[i] = (struct leak_cand){ t[i].user, t[i].last };
		o->walk_of[i] = (uint32_t)t[i].walk_index;
	}
	free(t);
	return NULL;
}

void leak_order_free(struct leak_order *o, const struct leak_cand *cand)
{
	if (o->sorted != cand)
		free(o->sorted);
	free(o->walk_of);
	memset(o, 0, sizeof(*o));
}

struct ich_error *leak_order_settle(const struct leak_order *o, size_t n, const uint8_t *marked, uint8_t *wmark,
				    uint32_t **slot, size_t *nleaks)
{
	*slot = NULL;
	*nleaks = 0;
	memset(wmark, LEAK_DROPPED, n);
	for (size_t i = 0; i < o->ns; i++) {
		wmark[o->walk_of[i]] = marked[i];
		*nleaks += marked[i] == LEAK_UNREACHED;
	}
	if (!o->unsorted)
		return NULL;	/* the walk order is the address order */
	/* the list is in address order, as the sorted array */
	uint32_t *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		return &ich_enomem;
	uint32_t k = 0;
	for (size_t i = 0; i < o->ns; i++)
		if (marked[i] == LEAK_UNREACHED)
			s[o->walk_of[i]] = k++;
	*slot = s;
	return NULL;
}
