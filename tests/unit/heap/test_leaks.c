/* SPDX-License-Identifier: MIT */
/*
 * heap -l's result (src/heap/leak.c) on every builder scenario given,
 * checked against what the test derives from a walk of its own:
 *  - the candidates: the walk's busy blocks with user data, less each NT
 *    segment's own header block; sorted (stable: walk order on ties) with
 *    the first of overlapping blocks kept.  busy_blocks and busy_bytes
 *    are that set's count and bytes.
 *  - the leaks are some of those candidates, listed in ascending address
 *    order, disjoint, each with its own heap (a light page-heap block: its
 *    page heap) and, field by field, the block record the test's walk
 *    gave for it (leak.c rebuilds a leak's record from its user range and
 *    a kind kept by the first walk, or walks the heap again).
 *  - closure: every candidate that is not a leak was reached and so
 *    scanned; no aligned pointer-sized word of its user data (as far as
 *    the dump holds it) points into a leak (found here by a plain binary
 *    search).  A lookup that misses a reference leaves its target unmarked
 *    and fails this.
 *  - the two-step API (ich_heap_leak_scan + ich_leak_scan_each) lists the
 *    same leaks as ich_heap_leaks, and its count says how many.  That is
 *    not a second opinion: ich_heap_leaks is those two calls (leak.c), so
 *    what it checks is that a second scan over the same open heaps gives
 *    the same answer (nothing left over from the first), that the count
 *    is what ich_leak_scan_each hands over, and that one scan can be
 *    listed twice.  The independent checks are the ones above.  The
 *    second scan keeps no kinds (leak_no_kinds), so its leaks come from a
 *    second walk: the two ways to a leak's record agree field by field.
 *    Further scans drop the kinds in the middle of the first walk
 *    (leak_kinds_base set small: no dump here has the 4096 kinds that
 *    drop them in use), and list the same leaks.
 * The scenarios must include heaps whose walks are out of address order
 * (counted and asserted), so the lookup's sorted copy and the
 * address-ordered list are exercised.  None has overlapping blocks (a
 * corrupt walk's): test_leak_index checks that path on random sets.
 * argv: DMP...
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
#include <icpheap/leak.h>

#include "heap/heap_internal.h"
#include "heap/leak_index.h"

static char **g_paths;
static int g_n;

struct cand {
	uint64_t user, size, owner;
	size_t walk;
	bool leak;
	struct ich_heap_block b;	/* as the walk gave it */
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static struct ich_error *collect(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct cands *c = arg;
	if (b->state != ICH_BLOCK_BUSY || !b->size || (b->layer == ICH_LAYER_BACKEND && b->header == b->segment))
		return NULL;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	uint64_t owner = hp->dph_owner && b->layer == ICH_LAYER_PAGE_HEAP ? hp->dph_owner : hp->address;
	c->v[c->n] = (struct cand){ b->user, b->size, owner, c->n, false, *b };
	c->n++;
	return NULL;
}

static int by_user_then_walk(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	return x->walk < y->walk ? -1 : x->walk > y->walk;
}

/* The kept candidate holding v, or NULL. */
static struct cand *holding(struct cands *k, uint64_t v)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->v[mid].user <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	struct cand *c = &k->v[lo - 1];
	return v - c->user < c->size ? c : NULL;
}

/* Field by field: a struct copy need not copy padding (clang's does not),
 * so memcmp over the struct compares indeterminate bytes. */
static void assert_same_leak(const struct ich_leak *a, const struct ich_leak *b)
{
	assert_int_equal(a->heap, b->heap);
	assert_int_equal(a->block.header, b->block.header);
	assert_int_equal(a->block.user, b->block.user);
	assert_int_equal(a->block.size, b->block.size);
	assert_int_equal(a->block.block_size, b->block.block_size);
	assert_int_equal(a->block.unused, b->block.unused);
	assert_int_equal(a->block.prev_size, b->block.prev_size);
	assert_int_equal(a->block.segment, b->block.segment);
	assert_int_equal(a->block.flags, b->block.flags);
	assert_int_equal(a->block.state, b->block.state);
	assert_int_equal(a->block.layer, b->block.layer);
}

static struct ich_error *keep(const struct ich_leak *l, void *arg)
{
	struct ich_leak_result *r = arg;
	r->leaks[r->nleaks++] = *l;
	return NULL;
}

static void test_leaks(void **state)
{
	(void)state;
	size_t dumps = 0, unsorted = 0, overlapping = 0, leaks = 0, reached = 0, words = 0;
	for (int d = 0; d < g_n; d++) {
		struct ich_dump *dump = NULL;
		struct ich_error *err = ich_dump_open(g_paths[d], &dump);
		if (err)
			fail_msg("%s: %s", g_paths[d], err->message);
		struct ich_heaps *h = NULL;
		err = ich_heaps_open(dump, 0, &h);
		if (err)
			fail_msg("%s: %s", g_paths[d], err->message);
		struct ich_leak_result r;
		err = ich_heap_leaks(h, &r);
		if (err && err->code == ICH_ERR_UNSUPPORTED) {	/* not a minidump */
			ich_error_destroy(err);
			ich_heaps_close(h);
			ich_dump_close(dump);
			continue;
		}
		if (err)
			fail_msg("%s: %s", g_paths[d], err->message);
		dumps++;
		/* the candidates, from the test's own walk */
		struct cands all = { 0 };
		for (size_t i = 0; i < ich_heaps_count(h); i++) {
			struct ich_heap *hp = ich_heaps_get(h, i);
			if (hp->status == ICH_HEAP_OK)
				ich_error_destroy(ich_heap_walk(h, hp, collect, &all));
		}
		bool out_of_order = false;
		for (size_t i = 1; i < all.n; i++)
			out_of_order |= all.v[i].user < all.v[i - 1].user;
		unsorted += out_of_order;
		qsort(all.v, all.n, sizeof(all.v[0]), by_user_then_walk);
		struct cands kept = { calloc(all.n + 1, sizeof(struct cand)), 0, all.n };
		assert_non_null(kept.v);
		bool ties = false, dropped = false;
		uint64_t bytes = 0;
		for (size_t i = 0; i < all.n; i++) {
			if (kept.n) {
				const struct cand *p = &kept.v[kept.n - 1];
				ties |= all.v[i].user == p->user;
				if (all.v[i].user - p->user < p->size) {
					dropped = true;
					continue;
				}
			}
			kept.v[kept.n++] = all.v[i];
			bytes += all.v[i].size;
		}
		overlapping += dropped;
		/* equal start addresses: which one a sort keeps is the sort's
		 * choice; the count is the same either way */
		assert_int_equal(r.busy_blocks, kept.n);
		if (!ties)
			assert_int_equal(r.busy_bytes, bytes);
		/* the leaks: kept candidates, ascending, disjoint, own heap */
		for (size_t i = 0; i < r.nleaks; i++) {
			const struct ich_leak *l = &r.leaks[i];
			if (i)
				assert_true(l->block.user > r.leaks[i - 1].block.user + r.leaks[i - 1].block.size - 1);
			struct cand *c = holding(&kept, l->block.user);
			if (!c || c->user != l->block.user)
				fail_msg("%s: leak 0x%llx is not a candidate", g_paths[d], (unsigned long long)l->block.user);
			if (!ties) {
				assert_int_equal(c->size, l->block.size);
				struct ich_leak want = { .heap = c->owner, .block = c->b };
				assert_same_leak(l, &want);
			}
			assert_int_equal(c->owner, l->heap);
			assert_false(c->leak);
			c->leak = true;
		}
		leaks += r.nleaks;
		/* closure: what was reached points at no leak */
		unsigned ps = ich_heaps_ptr_size(h);
		for (size_t i = 0; i < kept.n; i++) {
			if (kept.v[i].leak)
				continue;
			reached++;
			uint64_t at = kept.v[i].user, len = kept.v[i].size;
			uint8_t buf[4096];
			while (len) {
				size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
				size_t got = ich_as_read(h->as, at, buf, want, NULL);
				for (size_t o = (ps - (at & (ps - 1))) & (ps - 1); o + ps <= got; o += ps) {
					uint64_t v = 0;
					for (unsigned b = 0; b < ps; b++)
						v |= (uint64_t)buf[o + b] << (8 * b);
					const struct cand *t = holding(&kept, v);
					words++;
					if (t && t->leak)
						fail_msg("%s: block 0x%llx (not a leak) holds 0x%llx at 0x%llx: leak 0x%llx is reachable",
							 g_paths[d], (unsigned long long)kept.v[i].user, (unsigned long long)v,
							 (unsigned long long)(at + o), (unsigned long long)t->user);
				}
				if (got < want)
					break;
				at += got;
				len -= got;
			}
		}
		/* the two-step API: the same list (a second scan of the same
		 * heaps; ich_heap_leaks is these calls, see the top) */
		struct ich_leak_scan *s = NULL;
		struct ich_leak_result r2;
		leak_no_kinds = true;	/* the records from a second walk */
		err = ich_heap_leak_scan(h, &s, &r2);
		leak_no_kinds = false;
		if (err)
			fail_msg("%s: %s", g_paths[d], err->message);
		assert_null(r2.leaks);
		assert_int_equal(r2.nleaks, r.nleaks);
		assert_int_equal(r2.busy_blocks, r.busy_blocks);
		assert_int_equal(r2.block_bytes, r.block_bytes);
		assert_int_equal(r2.root_bytes, r.root_bytes);
		r2.leaks = calloc(r.nleaks + 1, sizeof(*r2.leaks));
		assert_non_null(r2.leaks);
		size_t want = r2.nleaks;
		r2.nleaks = 0;
		assert_null(ich_leak_scan_each(s, keep, &r2));
		assert_int_equal(r2.nleaks, want);
		for (size_t i = 0; i < r.nleaks; i++)
			assert_same_leak(&r2.leaks[i], &r.leaks[i]);
		/* and again from the same scan */
		r2.nleaks = 0;
		assert_null(ich_leak_scan_each(s, keep, &r2));
		assert_int_equal(r2.nleaks, want);
		ich_leak_scan_free(s);
		/* kinds dropped in the middle of the first walk (too many:
		 * past leak_kinds_base + an eighth of the candidates so far,
		 * which no dump here reaches at its 4096): the records of the
		 * candidates before the drop and after it from the second
		 * walk, the same list */
		static const size_t bases[] = { 1, 3, 9, 40 };
		for (size_t bi = 0; bi < sizeof(bases) / sizeof(bases[0]); bi++) {
			size_t keep_base = leak_kinds_base;
			struct ich_leak *v = r2.leaks;	/* (the scan clears r2) */
			leak_kinds_base = bases[bi];
			err = ich_heap_leak_scan(h, &s, &r2);
			leak_kinds_base = keep_base;
			if (err)
				fail_msg("%s: %s", g_paths[d], err->message);
			assert_null(r2.leaks);
			assert_int_equal(r2.nleaks, r.nleaks);
			r2.leaks = v;
			r2.nleaks = 0;
			assert_null(ich_leak_scan_each(s, keep, &r2));
			assert_int_equal(r2.nleaks, want);
			for (size_t i = 0; i < r.nleaks; i++)
				assert_same_leak(&r2.leaks[i], &r.leaks[i]);
			ich_leak_scan_free(s);
		}
		ich_leak_result_free(&r2);
		ich_leak_result_free(&r);
		free(all.v);
		free(kept.v);
		ich_heaps_close(h);
		ich_dump_close(dump);
	}
	print_message("%zu dumps, %zu with heaps out of address order, %zu with overlapping blocks; %zu leaks, %zu reached blocks, %zu words checked\n",
		      dumps, unsorted, overlapping, leaks, reached, words);
	assert_true(dumps > 0);
	assert_true(unsorted > 0);
	assert_true(leaks > 0 && reached > 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DMP...\n", argv[0]);
		return 2;
	}
	g_paths = argv + 1;
	g_n = argc - 1;
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_leaks) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
