/* SPDX-License-Identifier: MIT */
/*
 * Segment-heap walk benchmark (issue 8): walks every heap of a dump twice
 * (cold, warm), reads the dump file once sequentially with read(2) in the
 * same run, and prints blocks/s, the walk time as a ratio of that read
 * pass, and the process's memory (VmHWM; RssFile = dump pages the walk
 * touched through the mapping; RssAnon = what icpheap allocated).
 * Make a dump with: build/bench/mksegheap OUT.dmp 5200000
 *
 * usage: bench_segheap DUMP
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include <icpheap/dump.h>
#include <icpheap/heap.h>

/* CPU time of this process: on a shared machine (the development box runs
 * ~9 jobs on 2 cores) wall time measures the neighbours, CPU time the walk. */
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
	double walk = 0, walk_cpu = 0;
	unsigned long long n = 0;
	for (int pass = 0; pass < 2; pass++) {
		n = 0;
		double t0 = bench_wall(), c0 = bench_cpu();
		for (size_t i = 0; i < ich_heaps_count(h); i++)
			ich_error_destroy(ich_heap_walk(h, ich_heaps_get(h, i), bench_count_block, &n));
		walk = bench_wall() - t0;
		walk_cpu = bench_cpu() - c0;
		printf("walk pass %d: %llu blocks in %.3f s wall = %.1f M blocks/s; %.3f s CPU = %.1f M blocks/CPU-s\n",
		       pass, n, walk, (double)n / walk / 1e6, walk_cpu, (double)n / walk_cpu / 1e6);
	}
	/* one sequential read pass over the whole file, same run */
	int fd = open(argv[1], O_RDONLY);
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	unsigned long long bytes = 0;
	double t0 = bench_wall(), c0 = bench_cpu();
	ssize_t r;
	while (fd >= 0 && buf && (r = read(fd, buf, bufsz)) > 0)
		bytes += (unsigned long long)r;
	double rd = bench_wall() - t0, rd_cpu = bench_cpu() - c0;
	if (fd >= 0)
		close(fd);
	free(buf);
	printf("read pass: %llu bytes in %.3f s wall = %.2f GB/s; %.3f s CPU\n", bytes, rd, (double)bytes / rd / 1e9, rd_cpu);
	printf("warm walk / read pass = %.2f wall, %.2f CPU\n", walk / rd, walk_cpu / rd_cpu);
	static const char *const mem[] = { "VmHWM", "RssAnon", "RssFile" };
	bench_print_memory(mem, 3);
	ich_heaps_close(h);
	ich_dump_close(d);
	return 0;
}
