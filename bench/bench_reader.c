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

#include <icpheap/dump.h>
#include <icpheap/minidump.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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
	double t0 = now();
	struct ich_dump *dump;
	struct ich_error *err = ich_dump_open(argv[1], &dump);
	if (err) {
		ich_error_print(err, stderr);
		return 3;
	}
	double t_open = now() - t0;
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
	 * random aligned offset in it. */
	const size_t nrand = 5000000;
	uint64_t sum = 0, bad = 0;
	t0 = now();
	for (size_t i = 0; i < nrand; i++) {
		uint64_t b = base, s = size;
		if (md && argc < 4) {
			const struct ich_md_range *r = &md->ranges[next_rand() % md->nranges];
			b = r->start;
			s = r->size;
			if (s < 8)
				continue;
		}
		uint64_t a = b + ((next_rand() % s) & ~7ull);
		uint64_t v;
		if (ich_as_read(as, a, &v, 8, NULL) != 8)
			bad++;
		else if (v != a)
			sum++;
	}
	double t_rand = now() - t0;
	printf("  random 8-byte reads: %.2f M/s (%zu reads, %" PRIu64 " failed, %" PRIu64 " content mismatches)\n",
	       (double)nrand / t_rand / 1e6, nrand, bad, sum);
	/* Sequential read of all captured memory in 1 MiB pieces. */
	size_t chunk = 1u << 20;
	uint8_t *buf = malloc(chunk);
	uint64_t total = 0, xs = 0;
	t0 = now();
	size_t nr = md && argc < 4 ? md->nranges : 1;
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
	double t_seq = now() - t0;
	printf("  sequential read: %.2f GB/s (%.2f GiB in %.3f s, x=%u)\n",
	       (double)total / t_seq / 1e9, (double)total / (1u << 30), t_seq, (unsigned)xs);
	free(buf);
	ich_dump_close(dump);
	return 0;
}
