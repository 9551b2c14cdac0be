/* SPDX-License-Identifier: MIT */
/* Runs the walkers above the readers on a fuzzed dump: heaps (every block
 * of every walkable heap) and the kernel model (processes, handles,
 * icpleak).  Errors are expected; crashes, hangs and leaks are not. */
#include <stdlib.h>

#include <icpheap/heap.h>
#include <icpheap/kernel.h>
#include <icpheap/leak.h>
#include <icpheap/pageheap.h>
#include <icpheap/pool.h>
#include <icpheap/triage_heap.h>

#include "fuzz_target.h"

static struct ich_error *count_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	(void)b;
	(*(unsigned long *)arg)++;
	return NULL;
}

/* The run walk (ich_heap_walk_runs, heap -a's; with and without
 * ICH_WALK_BACKEND_RUNS) must hand over the same number of blocks as the
 * per-block walk, each run's kinds in range:
 * abort() otherwise (a finding). */
static struct ich_error *count_run(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	(void)hp;
	if (!r->count || !r->nkinds || r->nkinds > 256)
		abort();
	for (size_t i = 0; i < r->count; i++)
		if (r->kind[i] >= r->nkinds)
			abort();
	*(unsigned long *)arg += r->count;
	return NULL;
}

static void check_runs(struct ich_heaps *h, struct ich_heap *hp)
{
	unsigned long a = 0, b = 0;
	ich_error_destroy(ich_heap_walk(h, hp, count_block, &a));
	ich_error_destroy(ich_heap_walk_runs(h, hp, count_block, count_run, &b, 0));
	if (a != b)
		abort();
	/* with back-end runs too (heap -a --json's walk of NT heaps) */
	unsigned long c = 0;
	ich_error_destroy(ich_heap_walk_runs(h, hp, count_block, count_run, &c, ICH_WALK_BACKEND_RUNS));
	if (a != c)
		abort();
}

static struct ich_error *count_handle(const struct ich_kprocess *p, const struct ich_khandle *h, void *arg)
{
	(void)p;
	(void)h;
	(*(unsigned long *)arg)++;
	return NULL;
}

void ich_fuzz_heaps(struct ich_dump *dump)
{
	struct ich_heaps *h;
	struct ich_error *err = ich_heaps_open(dump, 0, &h);
	if (!err) {
		for (size_t i = 0; i < ich_heaps_count(h); i++)
			check_runs(h, ich_heaps_get(h, i));
		struct ich_heap_size_stat *rows = NULL;
		size_t nrows = 0;
		uint64_t busy = 0;
		ich_error_destroy(ich_heap_stat(h, NULL, ICH_STAT_BY_TOTAL, &rows, &nrows, &busy));
		free(rows);
		ich_heaps_close(h);
	}
	ich_error_destroy(err);
}

void ich_fuzz_kernel(struct ich_dump *dump)
{
	unsigned long n = 0;
	struct ich_kernel *k;
	struct ich_error *err = ich_kernel_open(dump, 0, &k);
	if (err) {
		ich_error_destroy(err);
		return;
	}
	for (size_t i = 0; i < ich_kernel_process_count(k) && i < 64; i++)
		ich_error_destroy(ich_kernel_walk_handles(k, ich_kernel_process(k, i), count_handle, &n, NULL));
	struct ich_icp_result *r;
	if (!(err = ich_kernel_icpleak(k, true, &r)))
		ich_icp_result_free(r);
	ich_error_destroy(err);
	/* poolused's tag tables, and the heaps of the first processes through
	 * their own page tables and PEBs (the kernel-dump heap path). */
	struct ich_pool_usage *pu;
	if (!(err = ich_kernel_pool_usage(k, &pu))) {
		(void)ich_pool_usage_find(pu, "IoCp");
		ich_pool_usage_free(pu);
	}
	ich_error_destroy(err);
	for (size_t i = 0; i < ich_kernel_process_count(k) && i < 8; i++) {
		struct ich_heaps *h;
		if ((err = ich_kernel_process_heaps(k, ich_kernel_process(k, i), 0, &h))) {
			ich_error_destroy(err);
			continue;
		}
		for (size_t j = 0; j < ich_heaps_count(h) && j < 8; j++)
			ich_error_destroy(ich_heap_walk(h, ich_heaps_get(h, j), count_block, &n));
		ich_heaps_close(h);
	}
	ich_kernel_close(k);
}

/*
 * Segment and page heaps, and what the heap commands ask of a heap beyond
 * a walk (the segheap target): committed bytes from the headers before
 * and after a walk (analyze's path), the segment keys and list index,
 * page-heap roots, `!heap -p -a` lookups and allocation stacks (+ust) of
 * a few walked blocks, `!heap -a`'s label fields, free lists and entry
 * headers, then `-l` (leaks) and `-triage` over every heap.  The plain
 * heap target only walks; none of these paths was reached by a target.
 */
#define PICKS 6
struct picks {
	struct ich_heap_block b[PICKS];
	size_t n;
};

static struct ich_error *pick_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct picks *p = arg;
	/* the first blocks of each state, so busy, free and page-heap
	 * blocks all get looked up */
	if (p->n < PICKS && (p->n == 0 || p->b[p->n - 1].state != b->state || p->n < 2))
		p->b[p->n++] = *b;
	return NULL;
}

static void query_blocks(struct ich_heaps *h, struct ich_heap *hp, const struct picks *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct ich_heap_block *b = &p->b[i];
		struct ich_stack s;
		bool found;
		ich_error_destroy(ich_block_stack(h, hp, b, &s, &found));
		struct ich_dph_block d;
		ich_error_destroy(ich_page_heap_find(h, b->user, &d, &found));
		ich_error_destroy(ich_page_heap_find(h, b->user + b->size / 2, &d, &found));
		if (hp->kind == ICH_HEAP_KIND_NT) {
			uint64_t raw, dec;
			ich_error_destroy(ich_heap_entry_header(h, hp, b->header, &raw, &dec));
		}
	}
}

void ich_fuzz_seg_heaps(struct ich_dump *dump)
{
	unsigned long n = 0;
	struct ich_heaps *h;
	struct ich_error *err = ich_heaps_open(dump, 0, &h);
	if (err) {
		ich_error_destroy(err);
		return;
	}
	uint64_t pick_addr = 0;
	for (size_t i = 0; i < ich_heaps_count(h) && i < 16; i++) {
		struct ich_heap *hp = ich_heaps_get(h, i);
		uint64_t c;
		enum ich_commit_source src;
		ich_error_destroy(ich_heap_committed(h, hp, &c, &src));
		uint32_t idx;
		(void)ich_heap_segment_info(h, hp, &idx);
		(void)ich_page_heap_owner(hp);
		if (hp->kind == ICH_HEAP_KIND_PAGE) {
			struct ich_dph_root_info ri;
			ich_error_destroy(ich_page_heap_root(h, hp, &ri));
		}
		if (hp->kind == ICH_HEAP_KIND_NT) {
			struct ich_heap_info info;
			ich_error_destroy(ich_heap_info(h, hp, &info));
			ich_error_destroy(ich_heap_free_list(h, hp, count_block, &n));
			/* NT heaps are the heap target's: walked here only
			 * when light page-heap blocks live in them */
			if (!ich_page_heap_owner(hp))
				continue;
		}
		if (hp->kind == ICH_HEAP_KIND_SEGMENT)
			check_runs(h, hp);
		struct picks p = { .n = 0 };
		ich_error_destroy(ich_heap_walk(h, hp, pick_block, &p));
		ich_error_destroy(ich_heap_committed(h, hp, &c, &src));
		query_blocks(h, hp, &p);
		if (p.n && !pick_addr)
			pick_addr = p.b[p.n - 1].user;
	}
	struct ich_segment_keys k;
	(void)ich_heaps_segment_keys(h, &k);
	uint64_t arr;
	uint32_t entries;
	char why[256];
	if (ich_ust_database(h, &arr, &entries, why, sizeof(why))) {
		struct ich_stack s;
		bool found;
		ich_error_destroy(ich_ust_stack(h, 1, &s, &found));
		ich_error_destroy(ich_ust_stack(h, entries, &s, &found));
	}
	struct ich_leak_result lr;
	if (!(err = ich_heap_leaks(h, &lr)))
		ich_leak_result_free(&lr);
	ich_error_destroy(err);
	struct ich_triage_result tr;
	if (!(err = ich_heap_triage(h, 0, 0, &tr)))
		ich_triage_result_free(&tr);
	ich_error_destroy(err);
	if (pick_addr) {
		if (!(err = ich_heap_triage(h, 0, pick_addr, &tr)))
			ich_triage_result_free(&tr);
		ich_error_destroy(err);
	}
	ich_heaps_close(h);
}
