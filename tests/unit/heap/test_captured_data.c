/* SPDX-License-Identifier: MIT */
/*
 * The captured-data iterator (src/heap/captured_data.c) on dumps laid out
 * here with the dump builder: which addresses are captured, and where,
 * is decided below, and every chunk is checked against that layout and
 * against the bytes the builder wrote (a pattern of the address), not
 * against the reader.
 *   - a minidump: ranges with gaps, two ranges adjacent in memory but not
 *     in the file (a record straddling them), a range starting inside a
 *     page, overlapping ranges (no one stretch of the file: copied), a
 *     section the capture ends inside, a range running past the region,
 *     a module with no captured byte;
 *   - a kernel dump: pages in adjacent frames (one stretch), a page in
 *     another frame (a straddling record), an unmapped page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/minidump.h>

#include "dumpbuilder.h"
#include "heap/heap_internal.h"

static uint8_t pat(uint64_t va)
{
	return (uint8_t)(va * 7 + (va >> 9) + 1);
}

static char *tmp_path(void)
{
	char *p = malloc(256);
	assert_non_null(p);
	snprintf(p, 256, "%s/captured_test_XXXXXX", BUILD_DIR);
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static struct ich_dump *open_dump(const char *path)
{
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(path, &d);
	if (err)
		fail_msg("%s", err->message);
	return d;
}

/* What the layout says: the captured runs (adjacent ranges merged). */
struct run {
	uint64_t start, end;
};

static uint64_t run_end(const struct run *r, size_t n, uint64_t va)
{
	for (size_t i = 0; i < n; i++)
		if (va >= r[i].start && va < r[i].end)
			return r[i].end;
	return 0;
}

struct seen {
	size_t chunks, in_file, copies;
	uint64_t starts;
};

/* Every position of [start, end) the runs hold is a start of exactly one
 * chunk, in address order; from each start the chunk holds the pattern's
 * bytes up to tail of them, or up to the end of the run (and the region)
 * when that comes first, and never beyond it. */
static struct seen check(struct ich_dump *d, struct ich_as *as, const struct ich_user_range *capt, size_t ncapt,
			 bool by_range, uint64_t start, uint64_t end, size_t tail, const struct run *runs, size_t nruns)
{
	const uint8_t *file = ich_dump_file_data(d);
	uint64_t fsize = ich_dump_file_size(d);
	struct data_iter *it = malloc(sizeof(*it));
	assert_non_null(it);
	data_iter_init(it, as, capt, ncapt, by_range, start, end, tail);
	struct data_chunk c;
	struct seen s = { 0 };
	uint64_t next = start;
	while (data_iter_next(it, &c)) {
		s.chunks++;
		if (c.p >= file && c.p < file + fsize)
			s.in_file++;
		else
			s.copies++;
		assert_true(c.starts > 0 && c.starts <= c.len);
		assert_true(c.va >= next);
		/* nothing the layout holds was skipped */
		for (uint64_t v = next; v < c.va; v++)
			assert_int_equal(run_end(runs, nruns, v), 0);
		for (size_t o = 0; o < c.starts; o++) {
			uint64_t va = c.va + o, re = run_end(runs, nruns, va);
			assert_true(re != 0);
			if (re > end)
				re = end;
			size_t avail = c.len - o, want = re - va < tail ? (size_t)(re - va) : tail;
			assert_true(avail >= want);
			assert_true(avail <= re - va);
			for (size_t i = 0; i < avail; i++)
				if (c.p[o + i] != pat(va + i))
					fail_msg("byte 0x%llx (start 0x%llx): 0x%02x, the dump holds 0x%02x",
						 (unsigned long long)(va + i), (unsigned long long)va, c.p[o + i], pat(va + i));
		}
		s.starts += c.starts;
		next = c.va + c.starts;
	}
	for (uint64_t v = next; v < end; v++)
		assert_int_equal(run_end(runs, nruns, v), 0);
	free(it);
	return s;
}

#define MB 0x7FF800000000ull	/* the module */
#define MB2 0x7FF900000000ull	/* a module with nothing captured */

static void test_minidump_ranges(void **state)
{
	(void)state;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	for (uint64_t va = MB; va < MB + 0x11000; va++)
		db_mem_write_u8(m, va, pat(va));
	for (uint64_t va = MB2; va < MB2 + 0x4000; va++)
		db_mem_write_u8(m, va, pat(va));
	db_md_add_memory(md, MB + 0x1000, 0x2000, DB_LIST_64);	/* A */
	db_md_add_memory(md, MB + 0x3000, 0x800, DB_LIST_32);	/* B: after A in memory, not in the file */
	db_md_add_memory(md, MB + 0x3900, 0x100, DB_LIST_32);	/* C: starts inside a page, after a gap */
	db_md_add_memory(md, MB + 0x5000, 0x1000, DB_LIST_64);	/* D: a section [0x5000, 0x7000) ends after it */
	db_md_add_memory(md, MB + 0xF000, 0x2000, DB_LIST_64);	/* E: runs past the region */
	db_md_add_memory(md, MB + 0xA000, 0x800, DB_LIST_32);	/* X and Y overlap: X owns */
	db_md_add_memory(md, MB + 0xA400, 0x800, DB_LIST_32);	/* [0xA400, 0xA800), no one peek */
	char *path = tmp_path();
	if (db_md_write(md, path))
		fail_msg("db_md_write: %s", db_error());
	db_md_free(md);
	struct ich_dump *d = open_dump(path);
	struct ich_user_range *capt;
	size_t ncapt;
	assert_null(data_captured_index(ich_dump_minidump(d), &capt, &ncapt));
	/* A and B merge: captured is captured, whichever range owns it */
	assert_int_equal(ncapt, 5);
	assert_int_equal(capt[0].start, MB + 0x1000);
	assert_int_equal(capt[0].size, 0x2800);
	struct ich_as *as = ich_dump_as(d);
	const struct run runs[] = {
		{ MB + 0x1000, MB + 0x3800 }, { MB + 0x3900, MB + 0x3A00 },
		{ MB + 0x5000, MB + 0x6000 }, { MB + 0xA000, MB + 0xAC00 }, { MB + 0xF000, MB + 0x11000 },
	};
	const size_t nr = sizeof(runs) / sizeof(runs[0]);
	/* the whole module, a record of 0x40 bytes */
	struct seen s = check(d, as, capt, ncapt, true, MB, MB + 0x10000, 0x40, runs, nr);
	assert_int_equal(s.starts, 0x2800 + 0x100 + 0x1000 + 0xC00 + 0x1000);
	/* A, the bridge A|B, B, C, D, X+Y (a copy), E */
	assert_int_equal(s.chunks, 7);
	assert_int_equal(s.copies, 2);
	/* qwords: the bridge holds 7 bytes each side */
	s = check(d, as, capt, ncapt, true, MB, MB + 0x10000, 8, runs, nr);
	assert_int_equal(s.copies, 2);
	/* one byte at a time: no bridge */
	s = check(d, as, capt, ncapt, true, MB, MB + 0x10000, 1, runs, nr);
	assert_int_equal(s.copies, 1);
	assert_int_equal(s.chunks, 6);
	/* a section the capture ends inside: one chunk, cut at 0x6000 */
	s = check(d, as, capt, ncapt, true, MB + 0x5000, MB + 0x7000, 0x150, runs, nr);
	assert_int_equal(s.chunks, 1);
	assert_int_equal(s.starts, 0x1000);
	/* a region starting inside A and ending inside B */
	s = check(d, as, capt, ncapt, true, MB + 0x2F80, MB + 0x3010, 0x40, runs, nr);
	assert_int_equal(s.starts, 0x90);
	/* the gap between D and X, and a module with nothing captured */
	s = check(d, as, capt, ncapt, true, MB + 0x6000, MB + 0xA000, 0x40, runs, nr);
	assert_int_equal(s.chunks, 0);
	s = check(d, as, capt, ncapt, true, MB2, MB2 + 0x4000, 0x40, runs, nr);
	assert_int_equal(s.chunks, 0);
	/* an empty and a wrapped region */
	s = check(d, as, capt, ncapt, true, MB + 0x2000, MB + 0x2000, 0x40, runs, nr);
	assert_int_equal(s.chunks, 0);
	s = check(d, as, capt, ncapt, true, MB + 0x2000, 0x1000, 0x40, runs, nr);
	assert_int_equal(s.chunks, 0);
	/* page steps (as for a kernel dump) over the page-aligned part */
	s = check(d, as, NULL, 0, false, MB, MB + 0x3000, 0x40, runs, nr);
	assert_int_equal(s.chunks, 1);
	assert_int_equal(s.copies, 0);
	free(capt);
	ich_dump_close(d);
	unlink(path);
	free(path);
}

#define KV 0xFFFFB00000000000ull

static void test_kernel_pages(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_FULL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	/* pages 0 and 1 in adjacent frames, page 2 in a far one, page 3
	 * not mapped, page 4 in another */
	const uint64_t pa[5] = { 0x2000000, 0x2001000, 0x3000000, 0, 0x4000000 };
	for (unsigned i = 0; i < 5; i++) {
		if (!pa[i])
			continue;
		if (db_kd_map_phys(kd, dtb, KV + i * 0x1000ull, pa[i], 0x1000, 0x1000))
			fail_msg("db_kd_map_phys: %s", db_error());
		uint8_t b[0x1000];
		for (unsigned k = 0; k < 0x1000; k++)
			b[k] = pat(KV + i * 0x1000ull + k);
		if (db_kd_write(kd, dtb, KV + i * 0x1000ull, b, sizeof(b)))
			fail_msg("db_kd_write: %s", db_error());
	}
	char *path = tmp_path();
	if (db_kd_write_file(kd, path))
		fail_msg("db_kd_write_file: %s", db_error());
	db_kd_free(kd);
	struct ich_dump *d = open_dump(path);
	struct ich_as *as = ich_dump_as(d);
	const struct run runs[] = { { KV, KV + 0x3000 }, { KV + 0x4000, KV + 0x5000 } };
	struct seen s = check(d, as, NULL, 0, false, KV, KV + 0x5000, 0x100, runs, 2);
	assert_int_equal(s.starts, 0x4000);
	/* pages 0-1 as one stretch, the bridge 1|2, page 2, page 4 */
	assert_int_equal(s.chunks, 4);
	assert_int_equal(s.copies, 1);
	assert_int_equal(s.in_file, 3);
	/* a region ending inside page 2: the bridge stops there */
	s = check(d, as, NULL, 0, false, KV + 0x1F00, KV + 0x2010, 0x100, runs, 2);
	assert_int_equal(s.starts, 0x110);
	ich_dump_close(d);
	unlink(path);
	free(path);
}

/* Through a process's heaps context (argv[1]: the segheap builder's
 * x64-19045 scenario): ntdll's writable sections parsed once and kept, and
 * the iterator over .data finding what the builder captured of it, the
 * page of RtlpHpHeapGlobals.  Values from tests/builder/segheap/shb.c:
 * ntdll at 0x7FFB2F870000, .data at RVA 0x16A000 of 0xB000 bytes (the
 * only section with IMAGE_SCN_MEM_WRITE), globals at .data+0x8C0, their
 * page captured. */
static const char *g_segheap;

static void test_heaps_sections(void **state)
{
	(void)state;
	if (!g_segheap)
		skip();
	struct ich_dump *d = open_dump(g_segheap);
	struct ich_heaps *h = NULL;
	struct ich_error *err = ich_heaps_open(d, 0, &h);
	if (err)
		fail_msg("%s", err->message);
	const struct ntdll_sections *s = ntdll_writable_sections(h);
	assert_non_null(s);
	assert_ptr_equal(ntdll_writable_sections(h), s);	/* parsed once */
	assert_int_equal(s->n, 1);
	assert_string_equal(s->sec[0].name, ".data");
	assert_int_equal(s->sec[0].address, 0x7FFB2F870000ull + 0x16A000);
	assert_int_equal(s->sec[0].size, 0xB000);
	struct data_iter *it = malloc(sizeof(*it));
	assert_non_null(it);
	struct data_chunk c;
	size_t n = 0;
	heap_data_iter(it, h, s->sec[0].address, s->sec[0].address + s->sec[0].size, 8);
	while (data_iter_next(it, &c)) {
		n++;
		assert_int_equal(c.va, 0x7FFB2F870000ull + 0x16A000);
		assert_int_equal(c.starts, 0x1000);
		assert_int_equal(c.len, 0x1000);
	}
	assert_int_equal(n, 1);
	free(it);
	ich_heaps_close(h);
	ich_dump_close(d);
}

int main(int argc, char **argv)
{
	g_segheap = argc > 1 ? argv[1] : NULL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minidump_ranges),
		cmocka_unit_test(test_kernel_pages),
		cmocka_unit_test(test_heaps_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
