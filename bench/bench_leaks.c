/* SPDX-License-Identifier: MIT */
/*
 * heap -l and heap-diff at scale (issue 9).  Prints, in one run on one
 * dump: a plain read pass over every captured byte (xor of every qword,
 * from the mapped file), the leak finder (ich_heap_leaks: walk, sort,
 * roots, worklist) with the bytes it scanned and MB/s, heap-diff of the
 * dump against itself (ich_heap_diff: two walks), and the ratios to the
 * read pass.  Peak RSS last.
 * Make a dump with: mkpageheapdump big 1g 5000000 big.dmp big.expect
 * (tests/builder/pageheap).
 *
 * usage: bench_leaks DUMP
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/heapdiff.h>
#include <icpheap/leak.h>
#include <icpheap/minidump.h>

/* CPU time of this process: the machine is shared, so wall time measures
 * the neighbours; the ratios use CPU time (wall time is printed too). */
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
	const struct ich_minidump *md = ich_dump_minidump(d);
	const unsigned char *file = ich_dump_file_data(d);
	uint64_t fsize = ich_dump_file_size(d), bytes = 0, x = 0;
	double t0 = bench_cpu(), w0 = bench_wall();
	for (size_t i = 0; i < md->nranges; i++) {
		const struct ich_md_range *r = &md->ranges[i];
		if (r->rva > fsize || r->size > fsize - r->rva)
			continue;
		for (uint64_t k = 0; k + 8 <= r->size; k += 8) {
			uint64_t v;
			memcpy(&v, file + r->rva + k, 8);
			x ^= v;
		}
		bytes += r->size;
	}
	double t_read = bench_cpu() - t0, w_read = bench_wall() - w0;
	printf("read pass: %.1f MB in %.3f s CPU (%.3f s wall) = %.0f MB/s (xor %llx)\n", (double)bytes / 1e6, t_read,
	       w_read, (double)bytes / 1e6 / t_read, (unsigned long long)x);
	struct ich_leak_result r;
	t0 = bench_cpu();
	w0 = bench_wall();
	struct ich_error *err = ich_heap_leaks(h, &r);
	double t_leak = bench_cpu() - t0, w_leak = bench_wall() - w0;
	if (err) {
		ich_error_print(err, stderr);
		return 3;
	}
	uint64_t scanned = r.root_bytes + r.block_bytes + r.context_bytes;
	printf("heap -l: %llu busy blocks, %zu leaked, scanned %.1f MB (roots %.1f, blocks %.1f) in %.3f s CPU (%.3f s wall) = %.0f MB/s scanned, %.0f MB/s of the dump; %.2fx the read pass time\n",
	       (unsigned long long)r.busy_blocks, r.nleaks, (double)scanned / 1e6, (double)r.root_bytes / 1e6,
	       (double)r.block_bytes / 1e6, t_leak, w_leak, (double)scanned / 1e6 / t_leak,
	       (double)bytes / 1e6 / t_leak, t_leak / t_read);
	ich_leak_result_free(&r);
	struct ich_diff df;
	t0 = bench_cpu();
	w0 = bench_wall();
	err = ich_heap_diff(h, h, &df);
	double t_diff = bench_cpu() - t0, w_diff = bench_wall() - w0;
	if (err) {
		ich_error_print(err, stderr);
		return 3;
	}
	printf("heap-diff (the dump against itself, 2 walks): %llu + %llu blocks, %zu sizes, %zu stacks in %.3f s CPU (%.3f s wall) = %.1f M blocks/s; %.2fx the read pass time\n",
	       (unsigned long long)df.old_count, (unsigned long long)df.new_count, df.nsizes, df.nstacks, t_diff, w_diff,
	       (double)(df.old_count + df.new_count) / 1e6 / t_diff, t_diff / t_read);
	ich_heap_diff_free(&df);
	static const char *const mem[] = { "VmHWM", "RssAnon" };
	bench_print_memory(mem, 2);
	ich_heaps_close(h);
	ich_dump_close(d);
	return 0;
}
