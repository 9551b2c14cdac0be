/* SPDX-License-Identifier: MIT */
/*
 * Reader benchmark (issue: foundation §10, issue 12).  For each dump given:
 *   - open time (what `icpheap info` pays: headers and indexes only;
 *     median of 9 opens),
 *   - random 8-byte virtual reads per second over the captured memory,
 *     through raw loads from the mapping and through each read kind of
 *     the address space, as ratios to the raw loads of the same round,
 *     with the raw loads' rate beside each ratio (rounds whose raw rate
 *     is off the run's median are dropped and reported), and a second
 *     copy of the raw loop as a control of the measurement itself,
 *   - sequential read of all captured memory (GB/s, from the page cache)
 *     into a buffer at page offsets 0, 64 and 2048.
 * The VA ranges to sample come from the dump itself: minidump ranges, or
 * for kernel dumps the [base, base+size) given on the command line.
 *
 * usage: bench_reader DUMP [VA_BASE VA_SIZE] [-n READS] [-r ROUNDS] [-b]
 * Minidumps: a random read picks a range, every range alike, then an
 * offset in it; with -b a range is picked in proportion to its size (every
 * captured byte alike).  On a dump of a few small ranges and one large
 * one (mid.dmp) the first measures mostly reads of a few L1-resident
 * pages (the instructions of a read), the second reads all over the large
 * range (cache and TLB misses, where the loads of a read overlap).
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A zero the compiler cannot see: "addr[i] + (v & zero)" makes a read's
 * address depend on the value the read before returned (a pointer chase
 * such as a list walk), at the cost of one AND and one ADD in every
 * dependent loop alike. */
static volatile uint64_t zero_source;

/* A round whose raw loads ran more than this fraction off the median raw
 * rate of the run is dropped (the machine's state moves the raw rate by
 * 2x within minutes, mid-margin.md); the dropped rounds' raw rates are
 * printed. */
#define ROUND_TOLERANCE 0.15

enum path { RAW, READ, READ_U64, PEEK, RAW2, NPATH };
static const char *const path_names[NPATH] = {
	"raw loads from the mapping", "ich_as_read (8 bytes)", "ich_as_read_u64", "ich_as_peek",
	"raw loads, second copy",
};

/* One timed pass of n reads through path p.  Every loop has the same
 * shape: the i-th address (a file offset for raw loads, a VA for the
 * others) comes from an array filled before timing, the value read is
 * summed; dep makes the next address depend on the value.  Raw loads are
 * bounds-checked against the file as the reader checks its ranges.
 * Returns CPU seconds; *sum gets the values' sum, *bad the failed reads.
 *
 * Each (path, dep) pair is its own function, not inlined and aligned to
 * 64 bytes (and meson.build builds this file with -falign-loops=64 where
 * the compiler has it): one function holding all the loops placed each
 * at whatever offset the code before it left, and the same machine code
 * (read, u64 and peek: window test, bucket, record, load) measured 0.10
 * apart by its placement (docs/dev-notes/2026-12-01/mid-margin.md).
 * RAW2 is the raw loads' loop again in its own function: its ratio to
 * RAW is the measurement's own spread (1.00 when the two places agree). */
struct pass_in {
	struct ich_as *as;
	const uint8_t *file;
	uint64_t fsize;
	const uint64_t *addr, *foff;
	size_t n;
};

/* name: the loop body_ (a *_BODY_ macro below) expands, given dep (0 or 1) */
#define PASS_FN_(name, dep, body_)							\
static __attribute__((noinline, aligned(64))) double name(const struct pass_in *in, uint64_t *sum, \
							  uint64_t *bad)			\
{											\
	struct ich_as *as = in->as;							\
	const uint8_t *file = in->file;							\
	const uint64_t fsize = in->fsize, *addr = in->addr, *foff = in->foff;		\
	const size_t n = in->n;								\
	/* dep is a constant in each function: the independent loops have no	\
	 * dependence at all (an AND with an unknown zero would make one for	\
	 * the CPU) */									\
	uint64_t z = zero_source, s = 0, nbad = 0, v = 0;				\
	(void)as; (void)file; (void)fsize; (void)addr; (void)foff;			\
	double t0 = bench_cpu();							\
	body_(dep)									\
	double t = bench_cpu() - t0;							\
	*sum = s;									\
	*bad = nbad;									\
	return t;									\
}

#define RAW_BODY_(dep)									\
	for (size_t i = 0; i < n; i++) {						\
		uint64_t o = foff[i] + ((dep) ? (v & z) : 0);				\
		v = 0;									\
		if (o < fsize && fsize - o >= 8)					\
			memcpy(&v, file + o, 8);					\
		else									\
			nbad++;								\
		s += v;									\
	}
#define READ_BODY_(dep)									\
	for (size_t i = 0; i < n; i++) {						\
		uint64_t a = addr[i] + ((dep) ? (v & z) : 0);				\
		v = 0;									\
		if (ich_as_read(as, a, &v, 8, NULL) != 8)				\
			nbad++;								\
		s += v;									\
	}
#define U64_BODY_(dep)									\
	for (size_t i = 0; i < n; i++) {						\
		uint64_t a = addr[i] + ((dep) ? (v & z) : 0);				\
		v = 0;									\
		struct ich_error *e = ich_as_read_u64(as, a, &v);			\
		if (e) {								\
			nbad++;								\
			ich_error_destroy(e);						\
		}									\
		s += v;									\
	}
#define PEEK_BODY_(dep)									\
	for (size_t i = 0; i < n; i++) {						\
		uint64_t a = addr[i] + ((dep) ? (v & z) : 0);				\
		const void *q = ich_as_peek(as, a, 8);					\
		v = 0;									\
		if (q)									\
			memcpy(&v, q, 8);						\
		else									\
			nbad++;								\
		s += v;									\
	}

PASS_FN_(pass_raw_i, 0, RAW_BODY_)
PASS_FN_(pass_raw2_i, 0, RAW_BODY_)
PASS_FN_(pass_read_i, 0, READ_BODY_)
PASS_FN_(pass_u64_i, 0, U64_BODY_)
PASS_FN_(pass_peek_i, 0, PEEK_BODY_)
PASS_FN_(pass_raw_d, 1, RAW_BODY_)
PASS_FN_(pass_raw2_d, 1, RAW_BODY_)
PASS_FN_(pass_read_d, 1, READ_BODY_)
PASS_FN_(pass_u64_d, 1, U64_BODY_)
PASS_FN_(pass_peek_d, 1, PEEK_BODY_)

static double (*const pass_fn[2][NPATH])(const struct pass_in *, uint64_t *, uint64_t *) = {
	{ pass_raw_i, pass_read_i, pass_u64_i, pass_peek_i, pass_raw2_i },
	{ pass_raw_d, pass_read_d, pass_u64_d, pass_peek_d, pass_raw2_d },
};

static double run(enum path p, int dep, const struct pass_in *in, uint64_t *sum, uint64_t *bad)
{
	return pass_fn[dep][p](in, sum, bad);
}

int main(int argc, char **argv)
{
	size_t nrand = 2000000, rounds = 11;
	int by_bytes = 0;
	char *pos[3] = { 0 };
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			nrand = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rounds = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-b"))
			by_bytes = 1;
		else if (npos < 3)
			pos[npos++] = argv[i];
	}
	if (npos != 1 && npos != 3) {
		fprintf(stderr, "usage: %s DUMP [VA_BASE VA_SIZE] [-n READS] [-r ROUNDS] [-b]\n", argv[0]);
		return 2;
	}
	if (!nrand || !rounds)
		return 2;
	struct ich_dump *dump;
	struct ich_error *err;
	double opens[9];
	for (int k = 0; k < 9; k++) {
		double t0 = bench_wall();
		err = ich_dump_open(pos[0], &dump);
		if (err) {
			ich_error_print(err, stderr);
			return 3;
		}
		opens[k] = bench_wall() - t0;
		if (k < 8)
			ich_dump_close(dump);
	}
	double t_open = median(opens, 9);
	struct ich_as *as = ich_dump_as(dump);
	uint64_t base = 0, size = 0;
	const struct ich_minidump *md = ich_dump_minidump(dump);
	int kernel_va = npos == 3;
	if (kernel_va) {
		base = strtoull(pos[1], NULL, 0);
		size = strtoull(pos[2], NULL, 0);
	} else if (md && md->nranges) {
		/* the largest range */
		for (size_t i = 0; i < md->nranges; i++)
			if (md->ranges[i].size > size) {
				base = md->ranges[i].start;
				size = md->ranges[i].size;
			}
	}
	printf("%s: %s, %llu bytes, open %.3f ms (median of 9)\n", pos[0], ich_dump_kind_name(dump),
	       (unsigned long long)ich_dump_file_size(dump), t_open * 1e3);
	if (!as || size < 8) {
		printf("  no memory range to sample\n");
		ich_dump_close(dump);
		return 0;
	}
	const uint8_t *file = ich_dump_file_data(dump);
	uint64_t fsize = ich_dump_file_size(dump);
	/* Random reads: a random range (minidumps: all of them), then a
	 * random aligned offset in it.  The addresses are drawn first, so
	 * every path reads the same ones and the generator is not timed.
	 * The raw loads' file offsets: minidumps from the range's RVA,
	 * kernel dumps from where the address space itself puts the bytes
	 * (a peek, before timing; a VA it cannot peek is drawn again). */
	uint64_t *addr = malloc(nrand * sizeof(*addr));
	uint64_t *foff = malloc(nrand * sizeof(*foff));
	/* -b: cum[i] = bytes of the ranges before range i */
	uint64_t *cum = md && !kernel_va ? malloc((md->nranges + 1) * sizeof(*cum)) : NULL;
	if (!addr || !foff || (md && !kernel_va && !cum))
		return 4;
	if (cum)
		cum[0] = 0;
	for (size_t i = 0; cum && i < md->nranges; i++)
		cum[i + 1] = cum[i] + md->ranges[i].size;
	for (size_t i = 0; i < nrand; i++) {
		uint64_t b = base, s = size, rva = 0;
		if (md && !kernel_va) {
			const struct ich_md_range *r;
			do {
				size_t k = next_rand() % md->nranges;
				if (by_bytes && cum[md->nranges]) {
					/* the last range whose first byte is <= x */
					uint64_t x = next_rand() % cum[md->nranges];
					size_t lo = 0, hi = md->nranges;
					while (hi - lo > 1) {
						size_t m = lo + (hi - lo) / 2;
						if (cum[m] <= x)
							lo = m;
						else
							hi = m;
					}
					k = lo;
				}
				r = &md->ranges[k];
			} while (r->size < 8);
			b = r->start;
			s = r->size;
			rva = r->rva;
		}
		uint64_t o = (next_rand() % s) & ~7ull;
		addr[i] = b + o;
		foff[i] = rva + o;
		if (kernel_va) {
			const uint8_t *q = ich_as_peek(as, addr[i], 8);
			if (!q) {
				i--;
				continue;
			}
			foff[i] = (uint64_t)(q - file);
		}
	}
	uint64_t sum = 0, bad = 0, mismatch = 0;
	double rate[2][NPATH];
	free(cum);
	struct pass_in in = { as, file, fsize, addr, foff, nrand };
	printf("  random 8-byte reads: %zu%s, the same addresses for each path, CPU time, %zu rounds\n"
	       "  (each round: every path once, warm, in an order rotated each round; ratio = path /\n"
	       "  raw loads of the same round; a round whose raw loads ran more than %.0f%% off the\n"
	       "  median raw rate is dropped; figures: median of the rounds kept, (min..max))\n",
	       nrand, by_bytes && md && !kernel_va ? " (ranges by size: -b)" : "", rounds,
	       ROUND_TOLERANCE * 100);
	for (int dep = 0; dep < 2; dep++) {
		double *rt = malloc(rounds * NPATH * sizeof(*rt));
		double *ratio = malloc(rounds * NPATH * sizeof(*ratio));
		double *raw_rt = malloc(rounds * sizeof(*raw_rt));
		double *kept = malloc(rounds * sizeof(*kept));
		if (!rt || !ratio || !raw_rt || !kept)
			return 4;
		uint64_t s0 = 0, b;
		/* a first pass of each path faults the pages and warms the
		 * page tables for all paths alike */
		for (int p = 0; p < NPATH; p++)
			run((enum path)p, dep, &in, &s0, &b);
		for (size_t r = 0; r < rounds; r++) {
			double t[NPATH];
			uint64_t sums[NPATH];
			for (int k = 0; k < NPATH; k++) {
				int p = (int)((r + (size_t)k) % NPATH);
				t[p] = run((enum path)p, dep, &in, &sums[p], &b);
				bad += b;
			}
			for (int p = 0; p < NPATH; p++) {
				if (sums[p] != sums[RAW])
					mismatch++;
				sum += sums[p];
				rt[p * rounds + r] = (double)nrand / t[p] / 1e6;
				ratio[p * rounds + r] = t[RAW] / t[p];
			}
			raw_rt[r] = rt[RAW * rounds + r];
		}
		/* the rounds kept: raw rate within the tolerance of the median */
		memcpy(kept, raw_rt, rounds * sizeof(*kept));
		double raw_med = median(kept, rounds);
		size_t nk = 0;
		char dropped[512] = "";
		size_t dl = 0;
		for (size_t r = 0; r < rounds; r++) {
			double off = raw_rt[r] > raw_med ? raw_rt[r] - raw_med : raw_med - raw_rt[r];
			if (off <= ROUND_TOLERANCE * raw_med) {
				/* compact the kept rounds to the front of each row */
				for (int p = 0; p < NPATH; p++) {
					rt[p * rounds + nk] = rt[p * rounds + r];
					ratio[p * rounds + nk] = ratio[p * rounds + r];
				}
				nk++;
			} else if (dl < sizeof(dropped) - 16) {
				dl += (size_t)snprintf(dropped + dl, sizeof(dropped) - dl, " %.1f", raw_rt[r]);
			}
		}
		if (!nk) {	/* (an even count's median between two far rounds) */
			nk = rounds;
			snprintf(dropped, sizeof(dropped), " none: no round was near the median, all kept");
		}
		printf("  %s reads (%s):\n", dep ? "dependent" : "independent",
		       dep ? "each address depends on the value read before" : "values summed");
		printf("    rounds kept %zu of %zu (raw median %.2f M/s; dropped, raw M/s:%s)\n", nk, rounds,
		       raw_med, nk == rounds ? " none" : dropped);
		double raw_k = median(&rt[RAW * rounds], nk);
		double med[NPATH];
		for (int p = 0; p < NPATH; p++) {
			double lo = ratio[p * rounds], hi = lo;
			for (size_t r = 1; r < nk; r++) {
				double x = ratio[p * rounds + r];
				lo = x < lo ? x : lo;
				hi = x > hi ? x : hi;
			}
			rate[dep][p] = median(&rt[p * rounds], nk);
			med[p] = median(&ratio[p * rounds], nk);
			printf("    %-28s %7.2f M/s", path_names[p], rate[dep][p]);
			if (p != RAW)
				printf("  = %.2f of raw loads (%.2f..%.2f), raw %.2f M/s", med[p], lo, hi, raw_k);
			printf("\n");
		}
		/* one line for scripts */
		printf("    summary %s raw %.2f read %.3f u64 %.3f peek %.3f raw2 %.3f kept %zu/%zu\n",
		       dep ? "dep" : "indep", raw_k, med[READ], med[READ_U64], med[PEEK], med[RAW2], nk,
		       rounds);
		free(rt);
		free(ratio);
		free(raw_rt);
		free(kept);
	}
	printf("  failed reads %" PRIu64 ", rounds whose sum differs from the raw loads' %" PRIu64 "\n",
	       bad, mismatch);
	free(addr);
	free(foff);
	/* Sequential read of all captured memory in 1 MiB pieces, into a
	 * buffer at three placements in its page (page aligned, +64, +2048:
	 * the copy's speed depends on the placement through 4 KiB aliasing),
	 * each as a ratio to a plain pass over the same mapped bytes (one
	 * load per 64-byte line) measured right before it in the same round;
	 * median of the rounds.  Kernel dumps: the pass goes over the file
	 * pages the address space puts the span at (looked up before timing). */
	size_t chunk = 1u << 20;
	uint8_t *mem = aligned_alloc(4096, chunk + 4096);
	size_t placements[3] = { 0, 64, 2048 };
	size_t nr = md && !kernel_va ? md->nranges : 1;
	size_t npages = kernel_va ? (size_t)(size / 4096) : 0;
	const uint8_t **pages = calloc(npages ? npages : 1, sizeof(*pages));
	if (!mem || !pages)
		return 4;
	for (size_t i = 0; i < npages; i++)
		pages[i] = ich_as_peek(as, base + i * 4096, 4096);
	double *ratio = malloc(rounds * sizeof(*ratio)), *gbs = malloc(rounds * sizeof(*gbs));
	if (!ratio || !gbs)
		return 4;
	for (int k = 0; k < 3; k++) {
		uint8_t *buf = mem + placements[k];
		uint64_t total = 0, xs = 0;
		for (size_t round = 0; round < rounds; round++) {
			double t0 = bench_cpu();
			for (size_t r = 0; r < nr && !kernel_va; r++) {
				uint64_t rva = md->ranges[r].rva, s = md->ranges[r].size;
				for (uint64_t o = 0; o + 8 <= s && rva + o + 8 <= fsize; o += 64) {
					uint64_t v;
					memcpy(&v, file + rva + o, 8);
					sum += v;
				}
			}
			for (size_t i = 0; i < npages; i++)
				for (size_t o = 0; pages[i] && o < 4096; o += 64) {
					uint64_t v;
					memcpy(&v, pages[i] + o, 8);
					sum += v;
				}
			double t_pass = bench_cpu() - t0;
			total = 0;
			t0 = bench_cpu();
			for (size_t r = 0; r < nr; r++) {
				uint64_t b = md && !kernel_va ? md->ranges[r].start : base;
				uint64_t s = md && !kernel_va ? md->ranges[r].size : size;
				for (uint64_t off = 0; off < s; off += chunk) {
					size_t n = s - off < chunk ? (size_t)(s - off) : chunk;
					size_t got = ich_as_read(as, b + off, buf, n, NULL);
					total += got;
					xs ^= got ? buf[got - 1] : 0;	/* keep the copy alive */
				}
			}
			double t_seq = bench_cpu() - t0;
			ratio[round] = t_seq / t_pass;
			gbs[round] = (double)total / t_seq / 1e9;
		}
		printf("  sequential ich_as_read into a buffer at page offset %4zu: %.2f GB/s (%.3f GiB, x=%u), %.2f x the read pass\n",
		       placements[k], median(gbs, rounds), (double)total / (1u << 30), (unsigned)xs,
		       median(ratio, rounds));
	}
	printf("  (checksum %" PRIu64 ")\n", sum);
	free(ratio);
	free(gbs);
	free(pages);
	free(mem);
	ich_dump_close(dump);
	return 0;
}
