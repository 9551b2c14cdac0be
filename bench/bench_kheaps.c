/* SPDX-License-Identifier: MIT */
/*
 * Heaps of every process of a kernel memory dump (issue 10): the work of
 * `analyze --processes all` (kernel model, each process's address space,
 * PEB, every heap walked) against one plain read pass over the same file,
 * in the same run.  Make the dump with:
 *   build/tests/builder/kernel/mkkerneldump bench-heaps OUT.dmp OUT.expect OUT.heaps
 * (250 processes, 249 with a 21,000-block heap = 5.2 M blocks;
 * bench-heaps:NPROC:NBLOCKS).
 *
 * usage: bench_kheaps DUMP
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/kernel.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DUMP\n", argv[0]);
		return 2;
	}
	/* one sequential read pass over the file (xor of every qword) */
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		perror(argv[1]);
		return 3;
	}
	double w0 = bench_wall(), c0 = bench_cpu();
	const uint64_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	uint64_t x = 0;
	for (size_t i = 0; i < (size_t)st.st_size / 8; i++)
		x ^= m[i];
	double rd = bench_wall() - w0, rd_cpu = bench_cpu() - c0;
	munmap((void *)m, (size_t)st.st_size);
	close(fd);
	printf("read pass: %.1f MB in %.3f s wall, %.3f s CPU (xor %llx)\n", (double)st.st_size / 1e6, rd,
	       rd_cpu, (unsigned long long)x);
	for (int pass = 0; pass < 2; pass++) {
		w0 = bench_wall();
		c0 = bench_cpu();
		struct ich_dump *d;
		struct ich_kernel *k;
		struct ich_error *err = ich_dump_open(argv[1], &d);
		if (!err)
			err = ich_kernel_open(d, 0, &k);
		if (err) {
			ich_error_print(err, stderr);
			return 3;
		}
		unsigned long long blocks = 0;
		size_t procs = 0, heaps = 0, failed = 0;
		for (size_t i = 0; i < ich_kernel_process_count(k); i++) {
			const struct ich_kprocess *p = ich_kernel_process(k, i);
			if (!p->peb && !p->peb32)
				continue;
			struct ich_heaps *hs;
			err = ich_kernel_process_heaps(k, p, 0, &hs);
			if (err) {
				failed++;
				ich_error_destroy(err);
				continue;
			}
			procs++;
			for (size_t h = 0; h < ich_heaps_count(hs); h++, heaps++)
				ich_error_destroy(ich_heap_walk(hs, ich_heaps_get(hs, h), bench_count_block, &blocks));
			ich_heaps_close(hs);
		}
		ich_kernel_close(k);
		ich_dump_close(d);
		double t = bench_wall() - w0, tc = bench_cpu() - c0;
		printf("pass %d: %zu processes (%zu failed), %zu heaps, %llu blocks in %.3f s wall, %.3f s CPU = %.1f M blocks/s; %.2fx the read pass (wall), %.2fx (CPU)\n",
		       pass, procs, failed, heaps, blocks, t, tc, (double)blocks / t / 1e6, t / rd, tc / rd_cpu);
	}
	static const char *const mem[] = { "VmHWM", "RssAnon" };
	bench_print_memory(mem, 2);
	return 0;
}
