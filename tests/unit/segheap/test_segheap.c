/* SPDX-License-Identifier: MIT */
/*
 * The segment-heap walker against the independent segment-heap builder's
 * scenarios (tests/builder/segheap, written from layouts.md §4 and its own
 * cited sources, never from src/heap).  Every value asserted comes from the
 * scenario's .expect file: block by block (header, user, requested size,
 * block size, state, layer, in walk order), the totals and that they agree
 * with the blocks, the page segments and their uncommitted ranges,
 * MemStats and ProcessHeapListIndex, the keys and the route that found the
 * LfhKey, and the problems (address per kind).  The totals-only and
 * -stat routes of the walk must agree with the block-by-block one
 * (heap_paths.h).
 * argv: NAME DMP EXPECT triples.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <icpheap/addrspace.h>

#include <icpheap/dump.h>
#include <icpheap/error.h>
#include <icpheap/heap.h>

#include "../heap_blocks.h"
#include "../heap_paths.h"

#define MAXS 16
static int nscen;
static const char *names[MAXS], *dmp_path[MAXS], *exp_path[MAXS];

struct xblock {
	uint64_t header, user, size, block_size;
	char state[16], layer[24];
};
struct xseg {
	uint64_t base, first, last;
	int bad_sig;
	uint64_t ucr[8][2];	size_t nucr;
};
struct xheap {
	uint64_t address;
	struct xseg seg[8];	size_t nseg;
	uint64_t prob[8];	size_t nprob;
	uint64_t busy_count, busy_bytes, free_count, free_bytes, internal_count, corrupt_count,
		large_count, blocks;
	int have_mem;
	uint64_t res_pages, com_pages, list_index;
	struct xblock *b;	size_t nb;
};
struct expect {
	struct xheap h[4];	size_t nh;
	uint64_t heap_key, lfh_key;
	int globals_captured;
	struct xblock *blocks;	size_t nblocks;
};

static uint64_t field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	if (!p)
		return UINT64_MAX;
	return strtoull(p + strlen(key), NULL, 0);
}

static void load(const char *path, struct expect *x)
{
	memset(x, 0, sizeof(*x));
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	struct xheap *h = NULL;
	struct xseg *s = NULL;
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		if (sscanf(line, "heap 0x%llx", &a) == 1) {
			assert_true(x->nh < 4);
			h = &x->h[x->nh++];
			h->address = a;
			s = NULL;
		} else if (!strncmp(line, "segment ", 8)) {
			assert_true(h && h->nseg < 8);
			s = &h->seg[h->nseg++];
			s->base = field(line, "base=");
			s->first = field(line, "first=");
			s->last = field(line, "last=");
			s->bad_sig = strstr(line, "signature=bad") != NULL;
		} else if (sscanf(line, "uncommitted 0x%llx", &a) == 1) {
			assert_true(s && s->nucr < 8);
			s->ucr[s->nucr][0] = a;
			s->ucr[s->nucr++][1] = field(line, "size=");
		} else if (sscanf(line, "problem 0x%llx", &a) == 1) {
			assert_true(h && h->nprob < 8);
			h->prob[h->nprob++] = a;
		} else if (!strncmp(line, "totals ", 7)) {
			h->busy_count = field(line, "busy_count=");
			h->busy_bytes = field(line, "busy_bytes=");
			h->free_count = field(line, "free_count=");
			h->free_bytes = field(line, "free_bytes=");
			h->internal_count = field(line, "internal_count=");
			h->corrupt_count = field(line, "corrupt_count=");
			h->large_count = field(line, "large_count=");
			h->blocks = field(line, "blocks=");
		} else if (!strncmp(line, "memstats ", 9)) {
			h->have_mem = 1;
			h->res_pages = field(line, "reserved_pages=");
			h->com_pages = field(line, "committed_pages=");
			h->list_index = field(line, "list_index=");
		} else if (!strncmp(line, "keys ", 5)) {
			x->heap_key = field(line, "heap_key=");
			x->lfh_key = field(line, " lfh_key=");
			x->globals_captured = (int)field(line, "globals_captured=");
		} else if (!strncmp(line, "block ", 6)) {
			if (x->nblocks == cap) {
				cap = cap ? cap * 2 : 1024;
				x->blocks = realloc(x->blocks, cap * sizeof(*x->blocks));
				assert_non_null(x->blocks);
			}
			struct xblock *b = &x->blocks[x->nblocks++];
			b->header = field(line, "header=");
			b->user = field(line, "user=");
			b->size = field(line, " size=");
			b->block_size = field(line, "block_size=");
			assert_int_equal(sscanf(strstr(line, "state="), "state=%15s", b->state), 1);
			assert_int_equal(sscanf(strstr(line, "layer="), "layer=%23s", b->layer), 1);
		}
	}
	fclose(f);
	/* block lines come heap by heap; totals.blocks says how many each */
	size_t at = 0;
	for (size_t i = 0; i < x->nh; i++) {
		x->h[i].b = x->blocks + at;
		x->h[i].nb = x->h[i].blocks;
		at += x->h[i].blocks;
	}
	assert_int_equal(at, x->nblocks);
}

static bool note_has(struct ich_heaps *h, const char *what)
{
	for (size_t i = 0; i < ich_heaps_note_count(h); i++)
		if (strstr(ich_heaps_note(h, i), what))
			return true;
	return false;
}

static void check_scenario(int k)
{
	struct expect x;
	load(exp_path[k], &x);
	struct ich_dump *d;
	struct ich_heaps *h;
	struct ich_error *err = ich_dump_open(dmp_path[k], &d);
	if (!err)
		err = ich_heaps_open(d, 0, &h);
	if (err)
		fail_msg("%s: %s", names[k], err->message);
	for (size_t i = 0; i < x.nh; i++) {
		const struct xheap *xh = &x.h[i];
		struct ich_heap *hp = ich_heaps_find(h, xh->address);
		if (!hp)
			fail_msg("%s: heap 0x%" PRIx64 " not found", names[k], xh->address);
		assert_int_equal(hp->kind, ICH_HEAP_KIND_SEGMENT);
		if (hp->status != ICH_HEAP_OK)
			fail_msg("%s: %s", names[k], hp->reason);
		/* the callback, totals-only, -stat and run routes agree (issue 12) */
		struct heap_blocks s;
		err = heap_paths_check(h, hp, &s);
		if (err)
			fail_msg("%s: walk: %s", names[k], err->message);
		/* block by block, in walk order */
		size_t n = s.n < xh->nb ? s.n : xh->nb;
		for (size_t j = 0; j < n; j++) {
			const struct ich_heap_block *b = &s.b[j];
			const struct xblock *e = &xh->b[j];
			if (b->header != e->header || b->user != e->user || b->size != e->size ||
			    b->block_size != e->block_size || strcmp(ich_block_state_name(b->state), e->state) ||
			    strcmp(ich_block_layer_name(b->layer), e->layer))
				fail_msg("%s heap 0x%" PRIx64 " block %zu: walker header=0x%" PRIx64 " user=0x%" PRIx64 " size=%" PRIu64
					 " block_size=%" PRIu64 " %s %s; expected header=0x%" PRIx64 " user=0x%" PRIx64 " size=%" PRIu64
					 " block_size=%" PRIu64 " %s %s", names[k], xh->address, j, b->header, b->user, b->size,
					 b->block_size, ich_block_state_name(b->state), ich_block_layer_name(b->layer), e->header,
					 e->user, e->size, e->block_size, e->state, e->layer);
		}
		if (s.n != xh->nb)
			fail_msg("%s heap 0x%" PRIx64 ": %zu blocks walked, %zu expected", names[k], xh->address, s.n, xh->nb);
		/* totals, and that they agree with the blocks */
		const struct ich_heap_totals *t = &hp->totals;
		assert_int_equal(t->busy_count, xh->busy_count);
		assert_int_equal(t->busy_bytes, xh->busy_bytes);
		assert_int_equal(t->free_count, xh->free_count);
		assert_int_equal(t->free_bytes, xh->free_bytes);
		assert_int_equal(t->internal_count, xh->internal_count);
		assert_int_equal(t->corrupt_count, xh->corrupt_count);
		assert_int_equal(t->virtual_blocks, xh->large_count);
		uint64_t busy = 0, busy_bytes = 0, freeb = 0;
		for (size_t j = 0; j < s.n; j++) {
			busy += s.b[j].state == ICH_BLOCK_BUSY;
			busy_bytes += s.b[j].state == ICH_BLOCK_BUSY ? s.b[j].size : 0;
			freeb += s.b[j].state == ICH_BLOCK_FREE ? s.b[j].block_size : 0;
		}
		assert_int_equal(busy, t->busy_count);
		assert_int_equal(busy_bytes, t->busy_bytes);
		assert_int_equal(freeb, t->free_bytes);
		/* page segments (a segment with a bad signature is not walked) */
		size_t good = 0;
		for (size_t g = 0; g < xh->nseg; g++) {
			const struct xseg *xs = &xh->seg[g];
			if (xs->bad_sig)
				continue;
			assert_true(good < hp->nsegments);
			const struct ich_heap_segment *sg = &hp->segments[good++];
			assert_int_equal(sg->base, xs->base);
			assert_int_equal(sg->first_entry, xs->first);
			assert_int_equal(sg->last_valid_entry, xs->last);
			assert_int_equal(sg->nucr, xs->nucr);
			for (size_t u = 0; u < xs->nucr; u++) {
				assert_int_equal(sg->ucr[u].address, xs->ucr[u][0]);
				assert_int_equal(sg->ucr[u].size, xs->ucr[u][1]);
			}
		}
		assert_int_equal(hp->nsegments, good);
		/* problems: one per expected (address) */
		assert_int_equal(hp->nproblems, xh->nprob);
		for (size_t p = 0; p < xh->nprob; p++) {
			bool found = false;
			for (size_t q = 0; q < hp->nproblems; q++)
				found |= hp->problems[q].address == xh->prob[p];
			if (!found)
				fail_msg("%s: no problem reported at 0x%" PRIx64, names[k], xh->prob[p]);
		}
		assert_int_equal(hp->partial, xh->nprob > 0);
		if (xh->have_mem) {
			assert_int_equal(t->reserved, xh->res_pages * 4096);
			assert_int_equal(t->committed, xh->com_pages * 4096);
			uint32_t li;
			assert_true(ich_heap_segment_info(h, hp, &li));
			assert_int_equal(li, xh->list_index);
		}
		free(s.b);
	}
	struct ich_segment_keys keys;
	assert_true(ich_heaps_segment_keys(h, &keys));
	assert_true(keys.heap_key_known && keys.lfh_key_known);
	assert_int_equal(keys.heap_key, x.heap_key);
	assert_int_equal(keys.lfh_key, x.lfh_key);
	/* which route found LfhKey */
	assert_true(note_has(h, x.globals_captured ? "from RtlpHpHeapGlobals" : "recovered from"));
	ich_heaps_close(h);
	ich_dump_close(d);
	free(x.blocks);
}

static void test_scenarios(void **state)
{
	(void)state;
	for (int k = 0; k < nscen; k++) {
		size_t full0 = heap_paths_full_kind_runs;
		heap_paths_longest_run = 0;
		check_scenario(k);
		/* the -kinds scenarios' segment E (tests/builder/segheap):
		 * the comparison above met runs ended by the 257th kind (each
		 * resets the walker's kind map: two per route, and more than
		 * one per walk) and runs ended by their length (over 1024
		 * blocks of few kinds), so it checked both splits */
		if (strstr(names[k], "-kinds")) {
			size_t full = heap_paths_full_kind_runs - full0;
			print_message("%s: %zu runs with 256 kinds, longest run %zu\n", names[k], full,
				      heap_paths_longest_run);
			assert_true(full >= 2);
			assert_int_equal(heap_paths_longest_run, 1024);
		}
	}
	/* the run route (heap_paths.h) had LFH subsegments to hand over as
	 * runs: the comparison was not vacuous */
	print_message("%zu blocks came as runs\n", heap_paths_run_blocks);
	if (nscen)
		assert_true(heap_paths_run_blocks > 0);
}

/* The first segment heap of the x64-19045 scenario, walked: its virt
 * total and its _SEGMENT_HEAP.LargeReservedPages (+0x58 in the builder's
 * x64 19045 row, tests/builder/segheap/README.md "Layout rows"). */
static void large_walk(const char *path, uint64_t *addr, uint64_t *virt, uint64_t *rp, uint64_t *file_off,
		       bool *problem)
{
	struct ich_dump *d;
	struct ich_heaps *h;
	assert_null(ich_dump_open(path, &d));
	assert_null(ich_heaps_open(d, 0, &h));
	struct ich_heap *hp = NULL;
	for (size_t i = 0; i < ich_heaps_count(h) && !hp; i++)
		if (ich_heaps_get(h, i)->kind == ICH_HEAP_KIND_SEGMENT)
			hp = ich_heaps_get(h, i);
	assert_non_null(hp);
	assert_null(ich_heap_walk(h, hp, NULL, NULL));
	*addr = hp->address;
	*virt = hp->totals.virt;
	const uint8_t *q = ich_as_peek(ich_dump_as(d), hp->address + 0x58, 8);
	assert_non_null(q);
	memcpy(rp, q, 8);
	*file_off = (uint64_t)(q - ich_dump_file_data(d));
	*problem = false;
	for (size_t i = 0; i < hp->nproblems; i++)
		*problem |= hp->problems[i].address == hp->address &&
			    strstr(hp->problems[i].what, "are not page counts") != NULL;
	ich_heaps_close(h);
	ich_dump_close(d);
}

/* LargeReservedPages of 2^40 is not a page count (times the page size it
 * wrapped the totals): a problem at the heap, and the large pages left
 * out of virt -- the heap's large blocks still walked (e66f3e6). */
static void test_large_pages_bound(void **state)
{
	(void)state;
	int k = -1;
	for (int i = 0; i < nscen && k < 0; i++)
		if (!strcmp(names[i], "x64-19045"))
			k = i;
	if (k < 0)
		skip();
	uint64_t a0, virt0, rp0, off0, a1, virt1, rp1, off1;
	bool prob0, prob1;
	large_walk(dmp_path[k], &a0, &virt0, &rp0, &off0, &prob0);
	assert_false(prob0);
	assert_true(rp0 > 0 && virt0 >= rp0 * 0x1000);
	FILE *f = fopen(dmp_path[k], "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0 && (uint64_t)n >= off0 + 8);
	uint8_t *buf = malloc((size_t)n);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	uint64_t bad = (uint64_t)1 << 40;
	memcpy(buf + off0, &bad, 8);
	char tmp[] = "/tmp/icpheap-seglarge-XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, (size_t)n), n);
	close(fd);
	free(buf);
	large_walk(tmp, &a1, &virt1, &rp1, &off1, &prob1);
	unlink(tmp);
	assert_int_equal(a1, a0);
	assert_int_equal(rp1, bad);
	assert_true(prob1);
	assert_int_equal(virt1, virt0 - rp0 * 0x1000);
}

int main(int argc, char **argv)
{
	for (int i = 1; i + 2 < argc && nscen < MAXS; i += 3) {
		names[nscen] = argv[i];
		dmp_path[nscen] = argv[i + 1];
		exp_path[nscen++] = argv[i + 2];
	}
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_scenarios), cmocka_unit_test(test_large_pages_bound) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
