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

#include <icpheap/dump.h>
#include <icpheap/heap.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct ich_error *count(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	(void)b;
	(*(unsigned long long *)arg)++;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DUMP\n", argv[0]);
		return 2;
	}
	struct ich_dump *d;
	struct ich_heaps *h;
	struct ich_error *err = ich_dump_open(argv[1], &d);
	if (!err)
		err = ich_heaps_open(d, 0, &h);
	if (err) {
		ich_error_print(err, stderr);
		return 3;
	}
	for (int pass = 0; pass < 2; pass++) {
		unsigned long long n = 0;
		double t0 = now();
		for (size_t i = 0; i < ich_heaps_count(h); i++)
			ich_error_destroy(ich_heap_walk(h, ich_heaps_get(h, i), count, &n));
		double t = now() - t0;
		printf("pass %d: %llu blocks in %.3f s = %.1f M blocks/s\n", pass, n, t, (double)n / t / 1e6);
	}
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM", 5) || !strncmp(line, "RssAnon", 7) || !strncmp(line, "RssFile", 7))
			fputs(line, stdout);
	if (f)
		fclose(f);
	ich_heaps_close(h);
	ich_dump_close(d);
	return 0;
}
