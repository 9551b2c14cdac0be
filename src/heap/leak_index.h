/* SPDX-License-Identifier: MIT */
/*
 * The block lookup of `heap -l` (src/heap/leak.c): which candidate block,
 * if any, holds an address.  The candidates are sorted by user address and
 * do not overlap; a candidate is only its user range [user, last] (16
 * bytes: the scan needs nothing else, issue 12).
 *
 * A lookup is a range test, then one bit of a page bitmap (is any block
 * on this page?), then a chunk table that narrows the search to the
 * blocks ending inside the address's chunk, and a search among those
 * (a guess from the address's offset in the chunk, widened by doubling
 * steps, then binary).  Most scanned words point nowhere near a block and
 * stop at the first or second test.
 *
 * Every table is indexed by the address's offset from the first block
 * (d = v - lo, d <= span), so no address arithmetic can wrap: a block
 * may end at the top of the address space (last = UINT64_MAX).
 */
#ifndef ICPHEAP_HEAP_LEAK_INDEX_H
#define ICPHEAP_HEAP_LEAK_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/error.h>

struct leak_cand {
	uint64_t user, last;	/* user range [user, last]; last >= user */
};

#define LEAK_NONE SIZE_MAX

/* A candidate's mark (leak.c: per sorted block, then per walk index). */
enum { LEAK_UNREACHED, LEAK_REACHED, LEAK_SCANNED, LEAK_DROPPED };

/*
 * The lookup's array from the candidates in walk order (leak.c step 2).
 * unsorted: some candidate starts below the one before it; overlap: some
 * starts at or before the end of the one before.  Neither: the walk order
 * is the address order, sorted = cand and walk_of = NULL.  Else a sorted
 * copy (sorted only when unsorted) keeping the first of overlapping
 * blocks, and walk_of[i] the walk index of sorted[i].
 */
struct leak_order {
	struct leak_cand *sorted;
	uint32_t *walk_of;
	size_t ns;
	bool unsorted;
};
struct ich_error *leak_order_build(struct leak_order *o, struct leak_cand *cand, size_t n, bool unsorted,
				   bool overlap);
void leak_order_free(struct leak_order *o, const struct leak_cand *cand);
/*
 * A sorted copy's marks (marked[i] for sorted[i]) by walk index into
 * wmark[n] (LEAK_DROPPED for an overlap left out), the number of leaks
 * (LEAK_UNREACHED) in *nleaks, and when unsorted each leak's place in the
 * address-ordered list of leaks by walk index in *slot (NULL otherwise;
 * the caller frees it).
 */
struct ich_error *leak_order_settle(const struct leak_order *o, size_t n, const uint8_t *marked, uint8_t *wmark,
				    uint32_t **slot, size_t *nleaks);

struct leak_index {
	const struct leak_cand *c;
	size_t n;
	uint64_t lo, span;	/* c[0].user, c[n-1].last - c[0].user */
	uint64_t *bits;		/* bit p: some block on offset page p */
	unsigned pshift;	/* page of the bitmap: 1 << pshift bytes */
	unsigned cshift;	/* chunk of the table: 1 << cshift bytes */
	/* first[k]: the first block with last - lo >= k << cshift (n when
	 * none); k in [0, nchunks], first[nchunks] = n */
	uint32_t *first;
	uint64_t nchunks;
};

/* Index the n candidates c (sorted by user, disjoint, n < UINT32_MAX);
 * c must outlive the index.  NULL or &ich_enomem. */
struct ich_error *leak_index_build(struct leak_index *x, const struct leak_cand *c, size_t n);
void leak_index_free(struct leak_index *x);

/* The candidate whose [user, last] holds v, or LEAK_NONE. */
static inline size_t leak_index_find(const struct leak_index *x, uint64_t v)
{
	uint64_t d = v - x->lo;
	if (d > x->span)
		return LEAK_NONE;
	uint64_t p = d >> x->pshift;
	if (!((x->bits[p >> 6] >> (p & 63)) & 1))
		return LEAK_NONE;
	uint64_t k = d >> x->cshift;
	/* blocks before first[k] end before the chunk starts (before v);
	 * blocks after first[k + 1] start after it ends (after v) */
	size_t i = x->first[k], j = x->first[k + 1];
	if (j >= x->n)
		j = x->n - 1;	/* n >= 1: the bit was set */
	const struct leak_cand *c = x->c;
	if (c[i].user > v)
		return LEAK_NONE;
	/* the answer is the last block in [i, j] starting at or before v:
	 * a is the first in [i + 1, j + 1) starting after v (b if none) */
	size_t a = i + 1, b = j + 1;
	if (b - a > 8) {
		/* the blocks of a chunk are mostly alike: guess from v's
		 * offset in the chunk (scaled to 32 bits; b - a < 2^32), then
		 * widen by doubling steps from the guess until the range holds
		 * the answer (a plain binary search over a chunk's hundreds of
		 * blocks was ~ten dependent cache misses, issue 12) */
		uint64_t in = d - (k << x->cshift);
		uint64_t off = x->cshift >= 32 ? in >> (x->cshift - 32) : in << (32 - x->cshift);
		size_t guess = a + (size_t)((off * (uint64_t)(b - a)) >> 32);
		if (c[guess].user <= v) {
			size_t known = guess, step = 1;	/* c[known].user <= v */
			for (;;) {
				size_t at = known + step;
				if (at >= b)
					break;
				if (c[at].user > v) {
					b = at;
					break;
				}
				known = at;
				step <<= 1;
			}
			a = known + 1;
		} else {
			size_t above = guess, step = 1;	/* c[above].user > v */
			while (above - a >= step) {
				size_t at = above - step;
				if (c[at].user <= v) {
					a = at + 1;
					break;
				}
				above = at;
				step <<= 1;
			}
			b = above;
		}
	}
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (c[mid].user <= v)
			a = mid + 1;
		else
			b = mid;
	}
	return v <= c[a - 1].last ? a - 1 : LEAK_NONE;
}

/* leak.c, for tests: when set, ich_heap_leak_scan keeps no kinds and
 * ich_leak_scan_each walks the heaps again (the path of a dump whose
 * blocks have too many kinds), so test_leaks compares the two. */
extern bool leak_no_kinds;
/* leak.c, for tests: the kinds are dropped when a new one would make more
 * than this many plus an eighth of the candidates so far (KINDS_BASE,
 * 4096); a small value drops them in the middle of the first walk, which
 * no dump of the tests does at 4096 (test_leaks sets it). */
extern size_t leak_kinds_base;

#endif
