/* SPDX-License-Identifier: MIT */
/*
 * Heap-walk benchmark (issue: NT heap §6): walks every heap of a dump and
 * prints blocks/s and the process's memory: VmHWM (peak RSS, which counts
 * the mmapped dump pages the walk touched), RssFile and RssAnon (memory
 * icpheap itself allocated — the walk keeps no copy of the heap).
 * Make a dump with: build/tests/unit/hmodel/test_hmodel --big OUT N
 *
 * usage: bench_heap DUMP
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include <icpheap/dump.h>
#include <icpheap/heap.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DUMP\n", argv[0]);
		return 2;
	}
	struct ich_dump *d;
	struct ich_heaps *h;
	if (bench_open_heaps(argv[1], &d, &h))
		return 3;
	for (int pass = 0; pass < 2; pass++) {
		unsigned long long n = 0;
		double t0 = bench_wall();
		for (size_t i = 0; i < ich_heaps_count(h); i++)
			ich_error_destroy(ich_heap_walk(h, ich_heaps_get(h, i), bench_count_block, &n));
		double t = bench_wall() - t0;
		printf("pass %d: %llu blocks in %.3f s = %.1f M blocks/s\n", pass, n, t, (double)n / t / 1e6);
	}
	static const char *const mem[] = { "VmHWM", "RssAnon", "RssFile" };
	bench_print_memory(mem, 3);
	ich_heaps_close(h);
	ich_dump_close(d);
	return 0;
}
