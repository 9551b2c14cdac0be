/* SPDX-License-Identifier: MIT */
/* Runs the walkers above the readers on a fuzzed dump: heaps (every block
 * of every walkable heap) and the kernel model (processes, handles,
 * icpleak).  Errors are expected; crashes, hangs and leaks are not. */
#include <stdlib.h>

#include <icpheap/heap.h>
#include <icpheap/kernel.h>
#include <icpheap/pool.h>

#include "fuzz_target.h"

static struct ich_error *count_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	(void)b;
	(*(unsigned long *)arg)++;
	return NULL;
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
	unsigned long n = 0;
	struct ich_heaps *h;
	struct ich_error *err = ich_heaps_open(dump, 0, &h);
	if (!err) {
		for (size_t i = 0; i < ich_heaps_count(h); i++)
			ich_error_destroy(ich_heap_walk(h, ich_heaps_get(h, i), count_block, &n));
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
