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
 *        bench_kheaps --list-touched OUT DUMP
 *        bench_kheaps --sum REPS DUMP
 * The second form writes the file offset of every committed page of every
 * process's heap segments (the pages `analyze --processes all` walks) to OUT
 * for `bench_readpass pages` (a read pass over only those bytes) and exits.
 * The third opens the dump and its kernel model once, then walks every
 * process's heaps REPS times as `analyze --processes all` does (the
 * summing walk: no callback) and prints the CPU time of the fastest and
 * the median repetition: the walk alone, warm, without a process's start,
 * page-table faults and exit (issue 12: what decided the kernel walk's
 * changes on a VM where whole runs of the same binary differ by 10%).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include <icpheap/addrspace.h>
#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/kernel.h>

/* The dump at path and its kernel model; false, the error printed, when
 * either fails. */
static bool open_kernel(const char *path, struct ich_dump **d, struct ich_kernel **k)
{
	struct ich_error *err = ich_dump_open(path, d);
	if (!err && (err = ich_kernel_open(*d, 0, k)))
		ich_dump_close(*d);
	if (err) {
		ich_error_print(err, stderr);
		ich_error_destroy(err);
		return false;
	}
	return true;
}

/* The pages the heap walks of every process touch, as file offsets. */
static int list_touched(const char *out, const char *path)
{
	struct ich_dump *d;
	struct ich_kernel *k;
	if (!open_kernel(path, &d, &k))
		return 3;
	struct ich_error *err = NULL;
	FILE *o = fopen(out, "wb");
	if (!o) {
		perror(out);
		return 3;
	}
	const uint8_t *base = ich_dump_file_data(d);
	unsigned long long pages = 0, unmapped = 0;
	for (size_t i = 0; i < ich_kernel_process_count(k); i++) {
		const struct ich_kprocess *p = ich_kernel_process(k, i);
		struct ich_heaps *hs;
		struct ich_as *as;
		if (!p->peb || ich_dump_arch(d) != ICH_ARCH_X64)
			continue;	/* (the bench dump: x64, no WOW64) */
		if ((err = ich_kernel_process_heaps(k, p, 0, &hs))) {
			ich_error_destroy(err);
			continue;
		}
		if ((err = ich_dump_process_as(d, p->dtb & ~0xFFFull, &as))) {
			ich_error_destroy(err);
			ich_heaps_close(hs);
			continue;
		}
		for (size_t h = 0; h < ich_heaps_count(hs); h++) {
			struct ich_heap *hp = ich_heaps_get(hs, h);
			if (hp->status != ICH_HEAP_OK || (err = ich_heap_walk(hs, hp, NULL, NULL))) {
				ich_error_destroy(err);
				continue;
			}
			for (size_t s = 0; s < hp->nsegments; s++) {
				const struct ich_heap_segment *sg = &hp->segments[s];
				for (uint64_t va = sg->base & ~0xFFFull; va < sg->last_valid_entry; va += 0x1000) {
					bool ucr = false;
					for (size_t u = 0; u < sg->nucr; u++)
						ucr |= va >= sg->ucr[u].address && va - sg->ucr[u].address < sg->ucr[u].size;
					const uint8_t *q = ucr ? NULL : ich_as_peek(as, va, 0x1000);
					if (!q) {
						unmapped += !ucr;
						continue;
					}
					uint64_t off = (uint64_t)(q - base);
					fwrite(&off, 8, 1, o);
					pages++;
				}
			}
		}
		ich_as_destroy(as);
		ich_heaps_close(hs);
	}
	fclose(o);
	printf("%llu pages (%.1f MB of the %.1f MB file) listed; %llu committed pages not in the dump\n", pages,
	       (double)pages * 4096 / 1e6, (double)ich_dump_file_size(d) / 1e6, unmapped);
	ich_kernel_close(k);
	ich_dump_close(d);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* --sum: every process's heaps walked reps times with no callback. */
static int sum_walks(int reps, const char *path)
{
	struct ich_dump *d;
	struct ich_kernel *k;
	if (!open_kernel(path, &d, &k))
		return 3;
	struct ich_error *err = NULL;
	double *t = calloc((size_t)reps, sizeof(*t));
	if (!t)
		return 3;
	unsigned long long busy = 0, blocks = 0;
	for (int r = 0; r < reps; r++) {
		double c0 = bench_cpu();
		busy = blocks = 0;
		for (size_t i = 0; i < ich_kernel_process_count(k); i++) {
			const struct ich_kprocess *p = ich_kernel_process(k, i);
			struct ich_heaps *hs;
			if ((!p->peb && !p->peb32) || (err = ich_kernel_process_heaps(k, p, 0, &hs))) {
				ich_error_destroy(err);
				err = NULL;
				continue;
			}
			for (size_t h = 0; h < ich_heaps_count(hs); h++) {
				struct ich_heap *hp = ich_heaps_get(hs, h);
				ich_error_destroy(ich_heap_walk(hs, hp, NULL, NULL));
				busy += hp->totals.busy_count;
				blocks += hp->totals.busy_count + hp->totals.free_count;
			}
			ich_heaps_close(hs);
		}
		t[r] = (bench_cpu() - c0) * 1e3;
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp_double);
	printf("summing walks of every heap: %llu blocks (%llu busy), %d repetitions: CPU min %.2f ms, median %.2f ms\n",
	       blocks, busy, reps, t[0], t[reps / 2]);
	free(t);
	ich_kernel_close(k);
	ich_dump_close(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--list-touched"))
		return list_touched(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "--sum") && atoi(argv[2]) > 0)
		return sum_walks(atoi(argv[2]), argv[3]);
	if (argc != 2) {
		fprintf(stderr, "usage: %s DUMP\n       %s --list-touched OUT DUMP\n       %s --sum REPS DUMP\n", argv[0],
			argv[0], argv[0]);
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
		if (!open_kernel(argv[1], &d, &k))
			return 3;
		struct ich_error *err = NULL;
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
	/* analyze --processes 10: every process ranked by the committed bytes
	 * its heap headers give (ich_heap_committed, no block walk), then the
	 * top 10 walked in full */
	for (int pass = 0; pass < 2; pass++) {
		w0 = bench_wall();
		c0 = bench_cpu();
		struct ich_dump *d;
		struct ich_kernel *k;
		if (!open_kernel(argv[1], &d, &k))
			return 3;
		struct ich_error *err = NULL;
		size_t n = ich_kernel_process_count(k), nr = 0, walked_heaps = 0, from_headers = 0, heaps = 0;
		struct rank { uint64_t committed; const struct ich_kprocess *p; } *r = calloc(n ? n : 1, sizeof(*r));
		for (size_t i = 0; r && i < n; i++) {
			const struct ich_kprocess *p = ich_kernel_process(k, i);
			struct ich_heaps *hs;
			if ((!p->peb && !p->peb32) || (err = ich_kernel_process_heaps(k, p, 0, &hs))) {
				ich_error_destroy(err);
				continue;
			}
			r[nr] = (struct rank){ 0, p };
			for (size_t h = 0; h < ich_heaps_count(hs); h++, heaps++) {
				uint64_t c = 0;
				enum ich_commit_source src;
				if (ich_error_ok(ich_heap_committed(hs, ich_heaps_get(hs, h), &c, &src))) {
					r[nr].committed += c;
					from_headers += src == ICH_COMMIT_HEADERS;
				}
			}
			nr++;
			ich_heaps_close(hs);
		}
		/* the top 10 (a selection; order among them does not matter here) */
		unsigned long long blocks = 0;
		for (size_t t = 0; t < 10 && t < nr; t++) {
			size_t best = t;
			for (size_t j = t + 1; j < nr; j++)
				if (r[j].committed > r[best].committed)
					best = j;
			struct rank tmp = r[t];
			r[t] = r[best];
			r[best] = tmp;
			struct ich_heaps *hs;
			if ((err = ich_kernel_process_heaps(k, r[t].p, 0, &hs))) {
				ich_error_destroy(err);
				continue;
			}
			for (size_t h = 0; h < ich_heaps_count(hs); h++, walked_heaps++)
				ich_error_destroy(ich_heap_walk(hs, ich_heaps_get(hs, h), bench_count_block, &blocks));
			ich_heaps_close(hs);
		}
		free(r);
		ich_kernel_close(k);
		ich_dump_close(d);
		double t = bench_wall() - w0, tc = bench_cpu() - c0;
		printf("rank pass %d: %zu processes ranked (%zu of %zu heaps from their headers), top 10 walked (%zu heaps, %llu blocks) in %.3f s wall, %.3f s CPU; %.2fx the read pass (wall), %.2fx (CPU)\n",
		       pass, nr, from_headers, heaps, walked_heaps, blocks, t, tc, t / rd, tc / rd_cpu);
	}
	static const char *const mem[] = { "VmHWM", "RssAnon" };
	bench_print_memory(mem, 2);
	return 0;
}
