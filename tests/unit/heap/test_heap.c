/* SPDX-License-Identifier: MIT */
/*
 * NT heap walker against the ntheapbuilder scenarios
 * (tests/builder/ntheap): every value asserted comes from the scenario's
 * .expect file, written by the builder from what it laid out.
 * argv: pairs DMP EXPECT in the order of scenario_names below.
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

#include "../heap_blocks.h"
#include <icpheap/error.h>
#include <icpheap/heap.h>

static const char *scenario_names[] = { "x64-19045", "x64-14393", "x64-7601", "x86-19045",
	"wow64-19045", "x64-19045-corrupt", "x64-19045-nopeb-array",
	"x64-7601-lfh", "x86-7601-lfh", "x64-19045-corrupt-resync", "x64-19045-corrupt-scan",
	"x86-19045-corrupt-resync", "x86-19045-corrupt-scan" };
#define NSCEN (sizeof scenario_names / sizeof scenario_names[0])
static const char *dmp_path[NSCEN], *exp_path[NSCEN];

struct xblock {
	uint64_t header, user, size, block_size;
	char state[16], layer[16];
	uint64_t container;	/* container= (LFH blocks), 0 when absent */
};
struct xheap {
	uint64_t address;
	uint32_t flags;
	unsigned segments;
	struct xblock *b;	size_t nb;
	uint64_t seg[4][3];	size_t nseg;	/* base, first, last */
	uint64_t ucr[4][2];	size_t nucr;
	uint64_t busy_count, busy_bytes, free_count, free_bytes;
};
struct expect {
	struct xheap h[8];	size_t nh;
	uint64_t corrupt, resync, skipped_from, skipped_to;
	int array_captured;
	uint64_t lfh_key;
	unsigned lfh_key_width;
	int lfh_key_captured;	/* -1: no lfh_key line */
};

static void load(const char *path, struct expect *x)
{
	memset(x, 0, sizeof *x);
	x->array_captured = 1;
	x->lfh_key_captured = -1;
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	struct xheap *h = NULL;
	while (fgets(line, sizeof line, f)) {
		unsigned long long a, b, c, d;
		unsigned fl, n;
		int ac;
		char st[16], ly[16];
		if (sscanf(line, "heap 0x%llx flags=0x%x segments=%u", &a, &fl, &n) == 3) {
			assert_true(x->nh < 8);
			h = &x->h[x->nh++];
			h->address = a;
			h->flags = fl;
			h->segments = n;
		} else if (sscanf(line, "segment base=0x%llx first=0x%llx last=0x%llx", &a, &b, &c) == 3) {
			assert_non_null(h);
			assert_true(h->nseg < 4);
			h->seg[h->nseg][0] = a;
			h->seg[h->nseg][1] = b;
			h->seg[h->nseg++][2] = c;
		} else if (sscanf(line, "ucr 0x%llx size=0x%llx", &a, &b) == 2) {
			assert_non_null(h);
			assert_true(h->nucr < 4);
			h->ucr[h->nucr][0] = a;
			h->ucr[h->nucr++][1] = b;
		} else if (sscanf(line, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%15s layer=%15s",
				  &a, &b, &c, &d, st, ly) == 6) {
			assert_non_null(h);
			h->b = realloc(h->b, (h->nb + 1) * sizeof *h->b);
			struct xblock *xb = &h->b[h->nb++];
			xb->header = a;
			xb->user = b;
			xb->size = c;
			xb->block_size = d;
			strcpy(xb->state, st);
			strcpy(xb->layer, ly);
			const char *ct = strstr(line, " container=0x");
			xb->container = ct ? strtoull(ct + 13, NULL, 16) : 0;
		} else if (sscanf(line, "totals busy_count=%llu busy_bytes=%llu free_count=%llu free_bytes=%llu",
				  &a, &b, &c, &d) == 4) {
			h->busy_count = a;
			h->busy_bytes = b;
			h->free_count = c;
			h->free_bytes = d;
		} else if (sscanf(line, "corrupt 0x%llx", &a) == 1) {
			x->corrupt = a;
		} else if (sscanf(line, "resync 0x%llx", &a) == 1) {
			x->resync = a;
		} else if (sscanf(line, "skipped 0x%llx 0x%llx", &a, &b) == 2) {
			x->skipped_from = a;
			x->skipped_to = b;
		} else if (sscanf(line, "lfh_key 0x%llx width=%u", &a, &n) == 2) {
			x->lfh_key = a;
			x->lfh_key_width = n;
			const char *cp = strstr(line, "captured=");
			x->lfh_key_captured = cp ? cp[9] == '1' : 0;
		} else if (sscanf(line, "peb 0x%llx heaps=%u array_captured=%d", &a, &n, &ac) == 3) {
			x->array_captured = ac;
		}
	}
	fclose(f);
}

static void free_expect(struct expect *x)
{
	for (size_t i = 0; i < x->nh; i++)
		free(x->h[i].b);
}

static const struct expect *g_x;	/* the scenario being checked */

/* Compares heap hh (walked) with xh; skip_after: blocks of segment 0 in
 * [from, to) are not expected (corrupt run). */
static void check_heap(struct ich_heaps *hs, struct ich_heap *hh, const struct xheap *xh,
		       uint64_t corrupt)
{
	struct heap_blocks g = { 0 };
	struct ich_error *err = ich_heap_walk(hs, hh, heap_blocks_collect, &g);
	assert_null(err);
	assert_int_equal(hh->status, ICH_HEAP_OK);
	assert_int_equal(hh->flags, xh->flags);
	assert_int_equal(hh->nsegments, xh->segments);
	assert_int_equal(hh->nsegments, xh->nseg);
	size_t nucr = 0;
	for (size_t i = 0; i < xh->nseg; i++) {
		assert_int_equal(hh->segments[i].base, xh->seg[i][0]);
		assert_int_equal(hh->segments[i].first_entry, xh->seg[i][1]);
		assert_int_equal(hh->segments[i].last_valid_entry, xh->seg[i][2]);
		for (size_t j = 0; j < hh->segments[i].nucr; j++) {
			assert_true(nucr < xh->nucr);
			assert_int_equal(hh->segments[i].ucr[j].address, xh->ucr[nucr][0]);
			assert_int_equal(hh->segments[i].ucr[j].size, xh->ucr[nucr][1]);
			nucr++;
		}
	}
	assert_int_equal(nucr, xh->nucr);
	/* The corrupt entry: reported, listed as corrupt, and every block
	 * after it still listed (the walk resyncs); the totals count it as
	 * corrupt instead of free. */
	const struct xblock *xcorrupt = NULL;
	if (corrupt && hh->address == xh->address && xh->address <= corrupt &&
	    corrupt < xh->address + 0x40000) {
		bool found = false;
		for (size_t i = 0; i < hh->nproblems; i++)
			if (hh->problems[i].address == corrupt)
				found = true;
		assert_true(found);
		assert_true(hh->partial);
		for (size_t i = 0; i < xh->nb; i++)
			if (xh->b[i].header == corrupt)
				xcorrupt = &xh->b[i];
		assert_non_null(xcorrupt);
		const struct ich_heap_block *b = heap_blocks_find(&g, corrupt);
		assert_non_null(b);
		assert_int_equal(b->state, ICH_BLOCK_CORRUPT);
		assert_int_equal(b->block_size, xcorrupt->block_size);
		/* the walk goes on where the .expect says it resyncs */
		if (g_x->resync)
			assert_non_null(heap_blocks_find(&g, g_x->resync));
		if (g_x->skipped_from) {
			char want[96];
			snprintf(want, sizeof want, "skipped 0x%llx bytes 0x%llx-0x%llx",
				 (unsigned long long)(g_x->skipped_to - g_x->skipped_from),
				 (unsigned long long)g_x->skipped_from, (unsigned long long)g_x->skipped_to);
			bool said = false;
			for (size_t i = 0; i < hh->nproblems; i++)
				said |= strstr(hh->problems[i].what, want) != NULL;
			if (!said)
				fail_msg("no problem says \"%s\"", want);
		}
	}
	size_t matched = 0;
	for (size_t i = 0; i < xh->nb; i++) {
		const struct xblock *xb = &xh->b[i];
		const struct ich_heap_block *b = heap_blocks_find(&g, xb->header);
		if (xb == xcorrupt)
			continue;
		/* The segment's own header block (busy, at the segment base, up
		 * to FirstEntry) is listed by the builder as WinDbg shows it; the
		 * walker reports it too (resolved disagreement). */
		if (!b)
			fail_msg("heap 0x%llx: block 0x%llx (%s %s) not reported",
				 (unsigned long long)xh->address, (unsigned long long)xb->header,
				 xb->state, xb->layer);
		matched++;
		assert_int_equal(b->user, xb->user);
		assert_string_equal(ich_block_state_name(b->state), xb->state);
		assert_string_equal(ich_block_layer_name(b->layer), xb->layer);
		assert_int_equal(b->block_size, xb->block_size);
		if (b->state != ICH_BLOCK_INTERNAL)
			assert_int_equal(b->size, xb->size);
		if (xb->container)	/* an LFH block's UserBlocks */
			assert_int_equal(b->segment, xb->container);
	}
	assert_int_equal(g.n, xh->nb);
	bool cfree = xcorrupt && !strcmp(xcorrupt->state, "free");
	bool cbusy = xcorrupt && !strcmp(xcorrupt->state, "busy");
	assert_int_equal(hh->totals.corrupt_count, xcorrupt ? 1 : 0);
	assert_int_equal(hh->totals.busy_count, xh->busy_count - cbusy);
	assert_int_equal(hh->totals.busy_bytes, xh->busy_bytes - (cbusy ? xcorrupt->size : 0));
	assert_int_equal(hh->totals.free_count, xh->free_count - cfree);
	assert_int_equal(hh->totals.free_bytes, xh->free_bytes - (cfree ? xcorrupt->block_size : 0));
	free(g.b);
}

static void run_scenario(size_t k)
{
	struct expect x;
	load(exp_path[k], &x);
	g_x = &x;
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(dmp_path[k], &d);
	if (err)
		fail_msg("%s: %s", scenario_names[k], err->message);
	struct ich_heaps *hs = NULL;
	err = ich_heaps_open(d, 0, &hs);
	if (err)
		fail_msg("%s: %s", scenario_names[k], err->message);
	if (!x.array_captured) {
		/* only PEB.ProcessHeap, with a note */
		assert_int_equal(ich_heaps_count(hs), 1);
		assert_int_equal(ich_heaps_get(hs, 0)->address, x.h[0].address);
		assert_true(ich_heaps_note_count(hs) >= 1);
		check_heap(hs, ich_heaps_get(hs, 0), &x.h[0], 0);
	} else {
		assert_int_equal(ich_heaps_count(hs), x.nh);
		for (size_t i = 0; i < x.nh; i++) {
			struct ich_heap *hh = ich_heaps_get(hs, i);
			assert_int_equal(hh->address, x.h[i].address);
			check_heap(hs, hh, &x.h[i], x.corrupt);
		}
	}
	/* RtlpLFHKey: the low bits the heap gives, all of it when the .expect
	 * says ntdll's .data holding it is captured */
	if (x.lfh_key_captured >= 0) {
		uint64_t key;
		assert_true(ich_heaps_lfh_key(hs, &key));
		if (x.lfh_key_captured) {
			assert_int_equal(ich_heaps_lfh_key_bits(hs), x.lfh_key_width);
			assert_int_equal(key, x.lfh_key);
		} else {
			unsigned bits = ich_heaps_lfh_key_bits(hs);
			assert_true(bits >= 32 && bits < 64);
			assert_int_equal(key & 0xFFFFFFFFu, x.lfh_key & 0xFFFFFFFFu);
		}
	}
	ich_heaps_close(hs);
	ich_dump_close(d);
	free_expect(&x);
}

static void t_x64_19045(void **s) { (void)s; run_scenario(0); }
static void t_x64_14393(void **s) { (void)s; run_scenario(1); }
static void t_x64_7601(void **s) { (void)s; run_scenario(2); }
static void t_x86_19045(void **s) { (void)s; run_scenario(3); }
static void t_wow64_19045(void **s) { (void)s; run_scenario(4); }
static void t_corrupt(void **s) { (void)s; run_scenario(5); }
static void t_nopeb_array(void **s) { (void)s; run_scenario(6); }
static void t_x64_7601_lfh(void **s) { (void)s; run_scenario(7); }
static void t_x86_7601_lfh(void **s) { (void)s; run_scenario(8); }
static void t_corrupt_resync(void **s) { (void)s; run_scenario(9); }
static void t_corrupt_scan(void **s) { (void)s; run_scenario(10); }
static void t_x86_corrupt_resync(void **s) { (void)s; run_scenario(11); }
static void t_x86_corrupt_scan(void **s) { (void)s; run_scenario(12); }

static void t_real_not_captured(void **s)
{
	(void)s;
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(REAL_DIR "/llvm-mirror__lldb__sigsegv.dmp", &d);
	assert_null(err);
	struct ich_heaps *hs = NULL;
	err = ich_heaps_open(d, 0, &hs);
	assert_null(err);
	assert_int_equal(ich_heaps_count(hs), 2);
	for (size_t i = 0; i < 2; i++) {
		struct ich_heap *hh = ich_heaps_get(hs, i);
		assert_int_equal(hh->status, ICH_HEAP_NOT_CAPTURED);
		assert_non_null(strstr(hh->reason, "not captured"));
	}
	ich_heaps_close(hs);
	ich_dump_close(d);
}

int main(int argc, char **argv)
{
	if (argc != 1 + 2 * (int)NSCEN) {
		fprintf(stderr, "usage: test_heap DMP EXPECT ... (%zu pairs)\n", NSCEN);
		return 2;
	}
	for (size_t i = 0; i < NSCEN; i++) {
		dmp_path[i] = argv[1 + 2 * i];
		exp_path[i] = argv[2 + 2 * i];
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_x64_19045),
		cmocka_unit_test(t_x64_14393),
		cmocka_unit_test(t_x64_7601),
		cmocka_unit_test(t_x86_19045),
		cmocka_unit_test(t_wow64_19045),
		cmocka_unit_test(t_corrupt),
		cmocka_unit_test(t_nopeb_array),
		cmocka_unit_test(t_x64_7601_lfh),
		cmocka_unit_test(t_x86_7601_lfh),
		cmocka_unit_test(t_corrupt_resync),
		cmocka_unit_test(t_corrupt_scan),
		cmocka_unit_test(t_x86_corrupt_resync),
		cmocka_unit_test(t_x86_corrupt_scan),
		cmocka_unit_test(t_real_not_captured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
