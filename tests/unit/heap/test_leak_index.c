/* SPDX-License-Identifier: MIT */
/*
 * The block lookup of heap -l (src/heap/leak_index.h): every answer of
 * leak_index_find against a plain search over the same candidates (binary,
 * itself checked against a linear scan on the small sets),
 * on random candidate sets of every shape the walks give or a corrupt dump
 * could: adjacent blocks (one ends where the next starts), one-byte
 * blocks, runs of equal blocks (the guess lands exactly), blocks spread
 * over the whole 64-bit space (the bitmap's and the chunk table's coarse
 * settings), a block ending at the top of the address space, and a single
 * block.  The probes: each block's first and last byte, one past its end,
 * the bytes just before it (where its header lies), chunk and page
 * boundaries, and random values inside and outside the span.
 *
 * And the step before it (leak_order_build / leak_order_settle): from
 * candidates in walk order, out of address order and overlapping, the
 * sorted array keeps the first of overlapping blocks (in address order),
 * maps each back to its walk index, and the marks come back by walk
 * index with the left-out ones LEAK_DROPPED and the leaks numbered in
 * address order; against a stable sort and a plain pass here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "heap/leak_index.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: a fixed sequence per seed, so a failure repeats */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The reference: a plain binary search for the last block starting at or
 * before v, checked against a linear scan on small sets. */
static size_t naive(const struct leak_cand *c, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c[mid].user <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t r = lo && v <= c[lo - 1].last ? lo - 1 : LEAK_NONE;
	if (n <= 200) {
		size_t lin = LEAK_NONE;
		for (size_t i = 0; i < n; i++)
			if (c[i].user <= v && v <= c[i].last)
				lin = i;
		assert_int_equal(r, lin);
	}
	return r;
}

static unsigned long long probes;

static void check(const struct leak_index *x, const struct leak_cand *c, size_t n, uint64_t v)
{
	size_t want = naive(c, n, v), got = leak_index_find(x, v);
	probes++;
	if (want != got)
		fail_msg("v=0x%llx: index says %lld, a linear search %lld (n=%zu)", (unsigned long long)v,
			 got == LEAK_NONE ? -1LL : (long long)got, want == LEAK_NONE ? -1LL : (long long)want, n);
}

/* Every probe of the header's list against the naive answer. */
static void check_all(const struct leak_cand *c, size_t n)
{
	struct leak_index x;
	assert_null(leak_index_build(&x, c, n));
	for (size_t i = 0; i < n; i++) {
		uint64_t u = c[i].user, l = c[i].last;
		const uint64_t vs[] = { u, l, u + (l - u) / 2, l + 1, u - 1, u - 8, u - 16, u - 0x10 + 8, l - 7 };
		for (size_t k = 0; k < sizeof(vs) / sizeof(vs[0]); k++)
			check(&x, c, n, vs[k]);
	}
	if (n) {
		uint64_t lo = c[0].user, span = c[n - 1].last - lo;
		for (unsigned k = 0; k < 64; k++) {
			/* chunk and page boundaries of the index's own grid */
			uint64_t at = lo + ((uint64_t)k << x.cshift), pg = lo + ((uint64_t)k << x.pshift);
			check(&x, c, n, at);
			check(&x, c, n, at - 1);
			check(&x, c, n, pg);
			check(&x, c, n, pg - 1);
		}
		for (unsigned k = 0; k < 2000; k++) {
			check(&x, c, n, lo + (span ? rnd() % span : 0));
			check(&x, c, n, rnd());
		}
		check(&x, c, n, lo + span);
		check(&x, c, n, lo + span + 1);
	}
	check(&x, c, n, 0);
	check(&x, c, n, UINT64_MAX);
	leak_index_free(&x);
}

enum shape { DENSE, ADJACENT, ALIKE, SPARSE, TOP, MIXED };

/* n sorted disjoint candidates of a shape. */
static struct leak_cand *make(enum shape s, size_t n)
{
	struct leak_cand *c = calloc(n ? n : 1, sizeof(*c));
	assert_non_null(c);
	uint64_t at = s == TOP ? UINT64_MAX - n * 0x100 : 0x10000 + (rnd() & 0xffff0);
	for (size_t i = 0; i < n; i++) {
		uint64_t size, gap;
		switch (s) {
		case DENSE: size = 1 + rnd() % 0x200; gap = 8 + (rnd() % 4) * 8; break;
		case ADJACENT: size = 1 + rnd() % 0x40; gap = 0; break;
		case ALIKE: size = 0x20; gap = 0x10; break;
		case SPARSE: size = 1 + rnd() % 0x100000; gap = rnd() % (UINT64_MAX / (2 * (n + 1))); break;
		case TOP: size = 1 + rnd() % 0x80; gap = rnd() % 0x40; break;
		default:
			size = rnd() % 4 == 0 ? 1 + rnd() % 0x40000 : 1 + rnd() % 0x100;
			gap = rnd() % 8 == 0 ? rnd() % 0x10000000 : (rnd() % 3 == 0 ? 0 : rnd() % 0x40);
			break;
		}
		c[i].user = at;
		c[i].last = at + size - 1;
		at = c[i].last + 1 + gap;
	}
	if (s == TOP && n) {
		/* the last block ends at the top of the address space */
		c[n - 1].last = UINT64_MAX;
	}
	return c;
}

static void test_random_sets(void **state)
{
	(void)state;
	const size_t sizes[] = { 0, 1, 2, 3, 9, 10, 17, 100, 1000, 5000, 70000 };
	for (int s = DENSE; s <= MIXED; s++)
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			rng_state = (uint64_t)s * 1000 + k;
			size_t n = sizes[k];
			struct leak_cand *c = make((enum shape)s, n);
			check_all(c, n);
			free(c);
		}
	assert_true(probes > 1000000);
}

/* One block over the whole space but its first byte, and one of the
 * whole space: the span is 2^64 - 1 and the tables at their coarsest. */
static void test_whole_space(void **state)
{
	(void)state;
	struct leak_cand a[] = { { 1, UINT64_MAX } };
	check_all(a, 1);
	struct leak_cand b[] = { { 0, UINT64_MAX } };
	check_all(b, 1);
	struct leak_cand c[] = { { 0, 0 }, { 1, 1 }, { UINT64_MAX - 1, UINT64_MAX - 1 }, { UINT64_MAX, UINT64_MAX } };
	check_all(c, 4);
}

/* Many blocks in one chunk and few elsewhere: the guess from the offset
 * in the chunk is far off and the doubling steps find the answer. */
static void test_skewed_chunk(void **state)
{
	(void)state;
	rng_state = 42;
	size_t n = 4000;
	struct leak_cand *c = calloc(n, sizeof(*c));
	assert_non_null(c);
	uint64_t at = 0x7ff000000000;
	for (size_t i = 0; i < n; i++) {
		/* the first 3,900 in 0x8000 bytes, the rest 1 MiB apart */
		uint64_t size = i < 3900 ? 8 : 0x100;
		c[i].user = at;
		c[i].last = at + size - 1;
		at = c[i].last + 1 + (i < 3900 ? 0 : 0x100000);
	}
	check_all(c, n);
	free(c);
}

static int by_user_walk(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;	/* {user, last, walk} */
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[2] < y[2] ? -1 : x[2] > y[2];
}

/* n candidates in walk order: runs in address order (a heap's segments),
 * the runs shuffled, some blocks overlapping their neighbours (no two
 * start at the same address: which of those a sort keeps is its choice). */
static struct leak_cand *walk_order(size_t n, bool shuffle, unsigned overlap_pct)
{
	struct leak_cand *c = calloc(n ? n : 1, sizeof(*c));
	assert_non_null(c);
	uint64_t at = 0x100000;
	for (size_t i = 0; i < n; i++) {
		uint64_t size = 0x10 + (rnd() % 8) * 0x10;
		c[i].user = at;
		c[i].last = at + size - 1;
		if (rnd() % 100 < overlap_pct)
			c[i].last += 0x18 + rnd() % 0x100;	/* runs over the next ones */
		at += size + 0x10 * (rnd() % 3);
	}
	if (shuffle && n > 1) {
		/* cut into runs, reverse the runs' order */
		struct leak_cand *t = calloc(n, sizeof(*t));
		assert_non_null(t);
		size_t cut = 1 + rnd() % (n - 1), k = 0;
		for (size_t i = cut; i < n; i++)
			t[k++] = c[i];
		for (size_t i = 0; i < cut; i++)
			t[k++] = c[i];
		free(c);
		c = t;
	}
	return c;
}

static void check_order(struct leak_cand *c, size_t n)
{
	bool unsorted = false, overlap = false;
	for (size_t i = 1; i < n; i++) {
		unsorted |= c[i].user < c[i - 1].user;
		overlap |= c[i].user <= c[i - 1].last;
	}
	/* the reference: a stable sort, then the first of overlaps kept */
	uint64_t(*t)[3] = calloc(n ? n : 1, sizeof(*t));
	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		t[i][0] = c[i].user;
		t[i][1] = c[i].last;
		t[i][2] = i;
	}
	qsort(t, n, sizeof(*t), by_user_walk);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || t[i][0] > t[k - 1][1])
			memcpy(t[k++], t[i], sizeof(*t));
	struct leak_order o;
	assert_null(leak_order_build(&o, c, n, unsorted, overlap));
	assert_int_equal(o.ns, k);
	if (!unsorted && !overlap) {
		assert_ptr_equal(o.sorted, c);
		assert_null(o.walk_of);
		free(t);
		leak_order_free(&o, c);
		return;
	}
	for (size_t i = 0; i < k; i++) {
		assert_int_equal(o.sorted[i].user, t[i][0]);
		assert_int_equal(o.sorted[i].last, t[i][1]);
		assert_int_equal(o.walk_of[i], t[i][2]);
	}
	/* the index over the copy agrees with a plain search too */
	check_all(o.sorted, o.ns);
	/* marks back by walk index */
	uint8_t *marked = malloc(k + 1), *wmark = malloc(n + 1);
	assert_non_null(marked);
	assert_non_null(wmark);
	size_t want_leaks = 0;
	for (size_t i = 0; i < k; i++) {
		marked[i] = rnd() % 2 ? LEAK_UNREACHED : LEAK_SCANNED;
		want_leaks += marked[i] == LEAK_UNREACHED;
	}
	uint32_t *slot = NULL;
	size_t nleaks = 99;
	assert_null(leak_order_settle(&o, n, marked, wmark, &slot, &nleaks));
	assert_int_equal(nleaks, want_leaks);
	uint8_t *seen = calloc(n + 1, 1);
	assert_non_null(seen);
	size_t rank = 0;
	for (size_t i = 0; i < k; i++) {
		size_t w = (size_t)t[i][2];
		seen[w] = 1;
		assert_int_equal(wmark[w], marked[i]);
		if (marked[i] == LEAK_UNREACHED && unsorted) {
			assert_non_null(slot);
			assert_int_equal(slot[w], rank);
		}
		rank += marked[i] == LEAK_UNREACHED;
	}
	for (size_t w = 0; w < n; w++)
		if (!seen[w])
			assert_int_equal(wmark[w], LEAK_DROPPED);
	if (!unsorted)
		assert_null(slot);
	free(seen);
	free(slot);
	free(marked);
	free(wmark);
	free(t);
	leak_order_free(&o, c);
}

static void test_order(void **state)
{
	(void)state;
	const size_t sizes[] = { 0, 1, 2, 5, 40, 700, 5000 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (int shuffle = 0; shuffle < 2; shuffle++)
			for (unsigned pct = 0; pct <= 30; pct += 15) {
				rng_state = 7000 + k * 10 + (unsigned)shuffle * 3 + pct;
				struct leak_cand *c = walk_order(sizes[k], shuffle, pct);
				check_order(c, sizes[k]);
				free(c);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_sets),
		cmocka_unit_test(test_whole_space),
		cmocka_unit_test(test_skewed_chunk),
		cmocka_unit_test(test_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
