/* SPDX-License-Identifier: MIT */
/*
 * Reader benchmark (issue: foundation §10).  For each dump given:
 *   - open time (what `icpheap info` pays: headers and indexes only),
 *   - random 8-byte virtual reads per second over the captured memory,
 *   - sequential read of all captured memory (GB/s, from the page cache).
 * The VA ranges to sample come from the dump itself: minidump ranges, or
 * for kernel dumps the [base, base+size) given on the command line.
 *
 * usage: bench_reader DUMP [VA_BASE VA_SIZE]
 * Dumps with deterministic content (mkdump --big-*: each 8-byte word holds
 * its own address) are also verified while reading.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include <icpheap/addrspace.h>
#include <icpheap/dump.h>
#include <icpheap/minidump.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
	/* xorshift64*: cheap, so the benchmark measures the reader */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DUMP [VA_BASE VA_SIZE]\n", argv[0]);
		return 2;
	}
	double t0 = bench_wall();
	struct ich_dump *dump;
	struct ich_error *err = ich_dump_open(argv[1], &dump);
	if (err) {
		ich_error_print(err, stderr);
		return 3;
	}
	double t_open = bench_wall() - t0;
	struct ich_as *as = ich_dump_as(dump);
	uint64_t base = 0, size = 0;
	const struct ich_minidump *md = ich_dump_minidump(dump);
	if (argc >= 4) {
		base = strtoull(argv[2], NULL, 0);
		size = strtoull(argv[3], NULL, 0);
	} else if (md && md->nranges) {
		/* the largest range */
		for (size_t i = 0; i < md->nranges; i++)
			if (md->ranges[i].size > size) {
				base = md->ranges[i].start;
				size = md->ranges[i].size;
			}
	}
	printf("%s: %s, %llu bytes, open %.4f s\n", argv[1], ich_dump_kind_name(dump),
	       (unsigned long long)ich_dump_file_size(dump), t_open);
	if (!as || size < 8) {
		printf("  no memory range to sample\n");
		ich_dump_close(dump);
		return 0;
	}
	/* Random reads: a random range (minidumps: all of them), then a
	 * random aligned offset in it.  The addresses are drawn first, so
	 * every path reads the same ones and the generator is not timed. */
	const size_t nrand = 4000000;
	uint64_t *addr = malloc(nrand * sizeof(*addr));
	uint64_t *foff = malloc(nrand * sizeof(*foff));	/* minidumps: file offset */
	if (!addr || !foff)
		return 4;
	for (size_t i = 0; i < nrand; i++) {
		uint64_t b = base, s = size, rva = 0;
		if (md && argc < 4) {
			const struct ich_md_range *r;
			do
				r = &md->ranges[next_rand() % md->nranges];
			while (r->size < 8);
			b = r->start;
			s = r->size;
			rva = r->rva;
		}
		uint64_t o = (next_rand() % s) & ~7ull;
		addr[i] = b + o;
		foff[i] = rva + o;
	}
	const uint8_t *file = ich_dump_file_data(dump);
	uint64_t fsize = ich_dump_file_size(dump);
	uint64_t sum = 0, bad = 0;
	double rate[4] = { 0 };
	const char *names[4] = { "raw loads from the mapping", "ich_as_read (8 bytes)",
				 "ich_as_read_u64", "ich_as_peek" };
	/* Each path twice: the first run faults the pages in, the second is
	 * reported (page cache and page tables warm for all paths alike). */
	for (int path = 0; path < 4; path++) {
		if (path == 0 && (!md || argc >= 4))
			continue;	/* kernel VA: no raw offset without translation */
		for (int pass = 0; pass < 2; pass++) {
			t0 = bench_wall();
			for (size_t i = 0; i < nrand; i++) {
				uint64_t v = 0;
				if (path == 0) {
					if (foff[i] + 8 <= fsize)
						memcpy(&v, file + foff[i], 8);
				} else if (path == 1) {
					if (ich_as_read(as, addr[i], &v, 8, NULL) != 8)
						bad++;
				} else if (path == 2) {
					struct ich_error *e = ich_as_read_u64(as, addr[i], &v);
					if (e) {
						bad++;
						ich_error_destroy(e);
					}
				} else {
					const void *p = ich_as_peek(as, addr[i], 8);
					if (p)
						memcpy(&v, p, 8);
					else
						bad++;
				}
				sum += v;
			}
			rate[path] = (double)nrand / (bench_wall() - t0) / 1e6;
		}
	}
	printf("  random 8-byte reads (%zu, the same addresses for each path; %" PRIu64 " failed):\n", nrand, bad);
	for (int path = 0; path < 4; path++) {
		if (rate[path] <= 0)
			continue;
		printf("    %-28s %7.2f M/s", names[path], rate[path]);
		if (path && rate[0] > 0)
			printf("  = %.2f of raw loads", rate[path] / rate[0]);
		printf("\n");
	}
	free(addr);
	free(foff);
	/* Sequential read of all captured memory in 1 MiB pieces, into a
	 * buffer at three placements in its page (page aligned, +64, +2048:
	 * the copy's speed depends on the placement through 4 KiB aliasing),
	 * each as a ratio to a plain pass over the same mapped bytes (one
	 * load per 64-byte line) measured right before it. */
	size_t chunk = 1u << 20;
	uint8_t *mem = aligned_alloc(4096, chunk + 4096);
	size_t placements[3] = { 0, 64, 2048 };
	size_t nr = md && argc < 4 ? md->nranges : 1;
	for (int k = 0; k < 3; k++) {
		uint8_t *buf = mem + placements[k];
		double t_pass = 0;
		if (md && argc < 4) {
			t0 = bench_wall();
			for (size_t r = 0; r < nr; r++) {
				uint64_t rva = md->ranges[r].rva, s = md->ranges[r].size;
				for (uint64_t o = 0; o + 8 <= s && rva + o + 8 <= fsize; o += 64) {
					uint64_t v;
					memcpy(&v, file + rva + o, 8);
					sum += v;
				}
			}
			t_pass = bench_wall() - t0;
		}
		uint64_t total = 0, xs = 0;
		t0 = bench_wall();
		for (size_t r = 0; r < nr; r++) {
			uint64_t b = md && argc < 4 ? md->ranges[r].start : base;
			uint64_t s = md && argc < 4 ? md->ranges[r].size : size;
			for (uint64_t off = 0; off < s; off += chunk) {
				size_t n = s - off < chunk ? (size_t)(s - off) : chunk;
				size_t got = ich_as_read(as, b + off, buf, n, NULL);
				total += got;
				xs ^= got ? buf[got - 1] : 0;	/* keep the copy alive */
			}
		}
		double t_seq = bench_wall() - t0;
		printf("  sequential ich_as_read into a buffer at page offset %4zu: %.2f GB/s (%.2f GiB in %.3f s, x=%u)",
		       placements[k], (double)total / t_seq / 1e9, (double)total / (1u << 30), t_seq, (unsigned)xs);
		if (t_pass > 0)
			printf(", %.2f x the read pass", t_seq / t_pass);
		printf("\n");
	}
	printf("  (checksum %" PRIu64 ")\n", sum);
	free(mem);
	ich_dump_close(dump);
	return 0;
}
