/* SPDX-License-Identifier: MIT */
/*
 * Kernel dump reader against dumps laid out here with the dump builder:
 * every expected byte is the one written through the builder, every
 * expected miss reason follows from how the builder was told to lay the
 * page tables out (db_kd_make_transition / make_paged_out / exclude_page,
 * db_truncate_file), never from this reader's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>

#include "dumpbuilder.h"

static char *tmp_path(void)
{
	char *p = malloc(256);
	snprintf(p, 256, "%s/kdump_test_XXXXXX", BUILD_DIR);
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static struct ich_dump *write_open(struct db_kd *kd, char **path)
{
	*path = tmp_path();
	if (db_kd_write_file(kd, *path))
		fail_msg("db_kd_write_file: %s", db_error());
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(*path, &d);
	if (err)
		fail_msg("%s", err->message);
	return d;
}

static void done(struct ich_dump *d, char *path)
{
	ich_dump_close(d);
	unlink(path);
	free(path);
}

static uint64_t rd64(struct ich_as *as, uint64_t va)
{
	uint64_t v = 0;
	struct ich_error *err = ich_as_read_u64(as, va, &v);
	if (err)
		fail_msg("read 0x%llx: %s", (unsigned long long)va, err->message);
	return v;
}

static uint32_t rd32(struct ich_as *as, uint64_t va)
{
	uint32_t v = 0;
	struct ich_error *err = ich_as_read_u32(as, va, &v);
	if (err)
		fail_msg("read 0x%llx: %s", (unsigned long long)va, err->message);
	return v;
}

/* Read 8 bytes that must fail: return the result. */
static struct ich_read_result miss(struct ich_as *as, uint64_t va)
{
	uint8_t b[8];
	struct ich_read_result res;
	memset(&res, 0xff, sizeof(res));
	assert_int_equal(ich_as_read(as, va, b, 8, &res), 0);
	assert_int_equal(res.nread, 0);
	assert_int_equal(res.miss_addr, va);
	return res;
}

static void w64(struct db_kd *kd, uint64_t dtb, uint64_t va, uint64_t v)
{
	if (db_kd_write(kd, dtb, va, &v, 8))
		fail_msg("db_kd_write 0x%llx: %s", (unsigned long long)va, db_error());
}

static void w32(struct db_kd *kd, uint64_t dtb, uint64_t va, uint32_t v)
{
	if (db_kd_write(kd, dtb, va, &v, 4))
		fail_msg("db_kd_write 0x%llx: %s", (unsigned long long)va, db_error());
}

static void map(struct db_kd *kd, uint64_t dtb, uint64_t va, uint64_t size, uint64_t ps)
{
	if (db_kd_map(kd, dtb, va, size, ps))
		fail_msg("db_kd_map 0x%llx: %s", (unsigned long long)va, db_error());
}

/* The inline path of a paged space has two levels (addrspace.h
 * ich_as_get_): the records (a direct-mapped translation cache, one
 * 4 KiB bucket a slot; kdump_paging.c rec_page, rec_region), then the
 * region cache.  These ask one level alone. */
static const uint8_t *rec_get(struct ich_as *as, uint64_t va, size_t n)
{
	const struct ich_as_window *w = (const void *)as;
	return w->dir_pk ? ich_as_rec_find_(w, va, n, NULL) : NULL;
}

static const uint8_t *reg_get(struct ich_as *as, uint64_t va, size_t n)
{
	const struct ich_as_window *w = (const void *)as;
	return ich_as_region_get_(w, va >> ICH_AS_REG_SHIFT, va, n, NULL);
}

/* Every record a paged space holds, against the builder: a 4 KiB page or
 * a whole large page (large bytes) aligned to its size, lim8 its length
 * - 7, in a slot of one of its own buckets, and each of its pages
 * checked (a large one's: its first, its last and the slot's) at the
 * file offset the builder wrote its frame to, all of the page inside the
 * file.  Returns how many slots hold one. */
static unsigned rec_check_all(const struct db_kd *kd, uint64_t dtb, const struct ich_dump *d,
			      struct ich_as *as, uint64_t large)
{
	const struct ich_as_window *w = (const void *)as;
	const uint8_t *file = ich_dump_file_data(d);
	uint64_t fsize = ich_dump_file_size(d);
	assert_non_null(w->dir_rec);
	assert_int_equal(w->dir_shift, 12);
	assert_int_equal(w->dir_pk, (uint64_t)(uintptr_t)w->dir_rec | 7);
	unsigned held = 0;
	for (size_t s = 0; s < ICH_AS_DIR_SLOTS; s++) {
		const struct ich_as_dir_rec *r = &w->dir_rec[s];
		if (!r->len) {
			assert_int_equal(r->lim8, 0);
			continue;
		}
		held++;
		assert_true(r->len == 0x1000 || r->len == large);
		assert_int_equal(r->start & (r->len - 1), 0);
		assert_int_equal(r->lim8, r->len - 7);
		uint64_t nb = r->len >> 12, b = (s - (r->start >> 12)) & (ICH_AS_DIR_SLOTS - 1);
		assert_true(b < nb);
		const uint64_t pages[] = { 0, nb - 1, b };
		for (size_t k = 0; k < 3; k++) {
			uint64_t va = r->start + (pages[k] << 12);
			uint64_t pfn = db_kd_va_to_pfn(kd, dtb, va);
			assert_int_not_equal(pfn, UINT64_MAX);
			uint64_t fo = db_kd_pfn_file_offset(kd, pfn);
			assert_int_not_equal(fo, UINT64_MAX);
			assert_true(fo + 0x1000 <= fsize);
			assert_ptr_equal(r->data + (pages[k] << 12), file + fo);
		}
	}
	return held;
}

#define VA_1G 0xFFFF900000000000ull
#define VA_2M 0xFFFFA00000200000ull
#define VA_4K 0xFFFFB00000000000ull
#define VA_PT 0xFFFFC00000000000ull
#define PAGEFILE_PTE 0x0000123400000080ull

/* x64 bitmap dump: 4K/2M/1G pages, transition, paged out, excluded data
 * frame, excluded page-table page, PCID bits in the DTB, zero-copy peek. */
static struct db_kd *x64_bitmap_kd(uint64_t *dtb)
{
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_BITMAP);
	/* 2 GiB of RAM less the legacy hole, for the 1 GiB page */
	const struct db_kd_run runs[] = { { 1, 0x9e }, { 0x100, 0x7ff00 } };
	assert_int_equal(db_kd_set_physical_runs(kd, runs, 2), 0);
	*dtb = db_kd_kernel_dtb(kd);
	map(kd, *dtb, VA_1G, 0x40000000, 0x40000000);
	w64(kd, *dtb, VA_1G + 0x12345678, 0x1111222233334444ull);
	w64(kd, *dtb, VA_1G + 0x3ffffff8, 0x5555666677778888ull);
	map(kd, *dtb, VA_2M, 0x200000, 0x200000);
	w64(kd, *dtb, VA_2M + 0x1ffff8, 0x2222222222222222ull);
	/* second pages in the same 2 MiB regions (region cache hits) */
	w64(kd, *dtb, VA_1G + 0x12300008, 0x1212121212121212ull);
	w64(kd, *dtb, VA_2M + 0x8, 0x2323232323232323ull);
	map(kd, *dtb, VA_4K, 0x5000, 0x1000);
	for (uint64_t i = 0; i < 5; i++)
		w64(kd, *dtb, VA_4K + i * 0x1000 + 8, 0xA0A0A0A000000000ull + i);
	map(kd, *dtb, VA_PT, 0x1000, 0x1000);
	w64(kd, *dtb, VA_PT, 0x7777777777777777ull);
	assert_int_equal(db_kd_make_transition(kd, *dtb, VA_4K + 0x1000), 0);
	assert_int_equal(db_kd_make_paged_out(kd, *dtb, VA_4K + 0x2000, PAGEFILE_PTE), 0);
	db_kd_exclude_page(kd, db_kd_va_to_pfn(kd, *dtb, VA_4K + 0x3000));
	db_kd_exclude_page(kd, db_kd_pte_address(kd, *dtb, VA_PT) >> 12);
	/* Real Windows PTEs carry NX (bit 63) and working-set bits 52-62:
	 * set them on the valid PTE of VA_4K + 0x4000 and on its PDE. */
	uint64_t pte_pa = db_kd_pte_address(kd, *dtb, VA_4K + 0x4000), pte;
	db_kd_phys_read(kd, pte_pa, &pte, 8);
	pte |= 0xFFF0000000000000ull;
	db_kd_phys_write(kd, pte_pa, &pte, 8);
	db_kd_header(kd)->directory_table_base = *dtb | 2;	/* PCID 2 */
	db_kd_header(kd)->bugcheck_code = 0x139;
	return kd;
}

static void test_x64_bitmap_pages(void **state)
{
	(void)state;
	uint64_t dtb;
	struct db_kd *kd = x64_bitmap_kd(&dtb);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	const struct ich_kdump *k = ich_dump_kdump(d);
	assert_int_equal(k->dump_type, 5);
	assert_int_equal(k->bugcheck_code, 0x139);
	assert_int_equal(k->directory_table_base, dtb | 2);
	assert_string_equal(k->bitmap_signature, "SDMP");
	assert_string_equal(ich_dump_kind_name(d), "kernel bitmap dump (SDMP, kernel)");
	assert_int_equal(k->total_pages, 0x80000);
	assert_false(k->truncated);
	assert_int_equal(ich_dump_warning_count(d), 0);
	struct ich_as *as = ich_dump_as(d);
	/* 1 GiB page: both ends */
	assert_int_equal(rd64(as, VA_1G + 0x12345678), 0x1111222233334444ull);
	assert_int_equal(rd64(as, VA_1G + 0x3ffffff8), 0x5555666677778888ull);
	assert_int_equal(rd64(as, VA_1G + 0x1000), 0);
	assert_int_equal(rd64(as, VA_1G + 0x12300008), 0x1212121212121212ull);
	/* 2 MiB page */
	assert_int_equal(rd64(as, VA_2M + 0x1ffff8), 0x2222222222222222ull);
	assert_int_equal(rd64(as, VA_2M + 0x8), 0x2323232323232323ull);
	/* the physical frames are the builder's */
	uint64_t pv = 0;
	assert_int_equal(ich_dump_read_phys(d, db_kd_va_to_pa(kd, dtb, VA_1G + 0x12300008), &pv, 8, NULL), 8);
	assert_int_equal(pv, 0x1212121212121212ull);
	assert_int_equal(miss(as, VA_2M + 0x200000).why, ICH_MISS_NOT_MAPPED);
	/* 4 KiB pages: valid, transition */
	assert_int_equal(rd64(as, VA_4K + 8), 0xA0A0A0A000000000ull);
	assert_int_equal(rd64(as, VA_4K + 0x1008), 0xA0A0A0A000000001ull);
	assert_int_equal(rd64(as, VA_4K + 0x4008), 0xA0A0A0A000000004ull);
	/* paged out: reason and the page-file PTE */
	struct ich_read_result r = miss(as, VA_4K + 0x2008);
	assert_int_equal(r.why, ICH_MISS_PAGED_OUT);
	assert_int_equal(r.pte, PAGEFILE_PTE);
	/* valid PTE, data frame left out of the bitmap */
	assert_int_equal(miss(as, VA_4K + 0x3008).why, ICH_MISS_NOT_CAPTURED);
	/* the page table of VA_PT is left out */
	assert_int_equal(miss(as, VA_PT).why, ICH_MISS_PT_NOT_CAPTURED);
	/* zero PTE in a captured table */
	r = miss(as, VA_4K + 0x5000);
	assert_int_equal(r.why, ICH_MISS_NOT_MAPPED);
	assert_int_equal(r.pte, 0);
	assert_int_equal(miss(as, 0x0000100000000000ull).why, ICH_MISS_NOT_MAPPED);
	assert_int_equal(miss(as, 0x8000000000000000ull).why, ICH_MISS_NONCANONICAL);
	/* a read that runs from a good page into the paged-out one */
	uint8_t buf[16];
	assert_int_equal(ich_as_read(as, VA_4K + 0x1ff8, buf, 16, &r), 8);
	assert_int_equal(r.why, ICH_MISS_PAGED_OUT);
	assert_int_equal(r.miss_addr, VA_4K + 0x2000);
	/* repeated reads (translation caches) give the same answers */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rd64(as, VA_4K + 0x1008), 0xA0A0A0A000000001ull);
		assert_int_equal(miss(as, VA_4K + 0x2008).why, ICH_MISS_PAGED_OUT);
		assert_int_equal(rd64(as, VA_4K + 0x4008), 0xA0A0A0A000000004ull);
	}
	/* zero copy inside one page; NULL for missing bytes */
	const uint64_t *p = ich_as_peek(as, VA_4K + 8, 8);
	assert_non_null(p);
	assert_int_equal(*p, 0xA0A0A0A000000000ull);
	assert_null(ich_as_peek(as, VA_4K + 0x2008, 8));
	assert_null(ich_as_peek(as, VA_4K + 0x1ff8, 16));	/* into paged out */
	/* across pages: the 1 GiB page's frames follow each other in the file */
	const uint8_t *q = ich_as_peek(as, VA_1G + 0x12345000, 0x2000);
	assert_non_null(q);
	memcpy(&pv, q + 0x678, 8);
	assert_int_equal(pv, 0x1111222233334444ull);
	/* physical read of the 4K page's frame, from the builder's PFN */
	uint64_t v = 0;
	assert_int_equal(ich_dump_read_phys(d, db_kd_va_to_pa(kd, dtb, VA_4K + 0x4008), &v, 8, &r), 8);
	assert_int_equal(v, 0xA0A0A0A000000004ull);
	done(d, path);
	db_kd_free(kd);
}

/* The same dump cut in the middle of the page data. */
static void test_x64_bitmap_truncated(void **state)
{
	(void)state;
	uint64_t dtb;
	struct db_kd *kd = x64_bitmap_kd(&dtb);
	char *path = tmp_path();
	assert_int_equal(db_kd_write_file(kd, path), 0);
	uint64_t pfn4 = db_kd_va_to_pfn(kd, dtb, VA_4K + 0x4000);
	uint64_t cut = db_kd_pfn_file_offset(kd, pfn4);
	assert_true(cut != UINT64_MAX);
	/* the 4K page table and the frames before pfn4 stay in the file */
	assert_true(db_kd_pfn_file_offset(kd, db_kd_pte_address(kd, dtb, VA_4K) >> 12) < cut);
	assert_true(db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, VA_4K)) < cut);
	uint64_t pfn1g = db_kd_va_to_pfn(kd, dtb, VA_1G + 0x3ffffff8);
	assert_true(db_kd_pfn_file_offset(kd, pfn1g) > cut);
	assert_int_equal(db_truncate_file(path, cut), 0);
	struct ich_dump *d = NULL;
	assert_null(ich_dump_open(path, &d));
	const struct ich_kdump *k = ich_dump_kdump(d);
	assert_true(k->truncated);
	assert_true(k->expected_file_size > cut);
	assert_int_equal(ich_dump_warning_count(d), 1);
	char want[64];
	snprintf(want, sizeof(want), "file is 0x%llx bytes", (unsigned long long)cut);
	assert_non_null(strstr(ich_dump_warning(d, 0), want));
	snprintf(want, sizeof(want), "from file offset 0x%llx on", (unsigned long long)cut);
	assert_non_null(strstr(ich_dump_warning(d, 0), want));
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(rd64(as, VA_4K + 8), 0xA0A0A0A000000000ull);
	assert_int_equal(miss(as, VA_4K + 0x4008).why, ICH_MISS_BEYOND_FILE);
	assert_int_equal(miss(as, VA_1G + 0x3ffffff8).why, ICH_MISS_BEYOND_FILE);
	/* still not in the dump at all: excluded frame, paged out */
	assert_int_equal(miss(as, VA_4K + 0x3008).why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(miss(as, VA_4K + 0x2008).why, ICH_MISS_PAGED_OUT);
	struct ich_read_result r;
	uint8_t b[8];
	assert_int_equal(ich_dump_read_phys(d, pfn1g << 12, b, 8, &r), 0);
	assert_int_equal(r.why, ICH_MISS_BEYOND_FILE);
	done(d, path);
	db_kd_free(kd);
}

/* Every frame of a bitmap dump read back through ich_dump_read_phys and
 * checked against the builder's memory and the file offsets it wrote
 * (db_kd_pfn_file_offset), then again with the file cut mid-page: present
 * pages in runs of 1 to 600 frames (a run inside a 64-bit word of the
 * bitmap, across words, across 512-frame blocks, whole words set and
 * clear), the bitmap's last word partial.  kdump.c answers most of these
 * by the rank of the frame's bit (kd_priv rank_cum), the rest by the
 * runs. */
static uint64_t rank_val(uint64_t pfn, unsigned at)
{
	return (pfn * 0x9E3779B97F4A7C15ull) ^ (0x5151000000000000ull | at);
}

static void check_rank_reads(struct db_kd *kd, struct ich_dump *d, uint64_t end_pfn, uint64_t cut)
{
	for (uint64_t pfn = 0; pfn < end_pfn; pfn++) {
		uint64_t off = db_kd_pfn_file_offset(kd, pfn);
		for (unsigned at = 0; at < 0x1000; at += 0xFF8) {
			uint64_t v = 0, want;
			struct ich_read_result r;
			size_t got = ich_dump_read_phys(d, pfn << 12 | at, &v, 8, &r);
			if (off == UINT64_MAX) {
				if (got != 0 || r.why != ICH_MISS_NOT_CAPTURED)
					fail_msg("PFN 0x%llx (not in the file) +0x%x: %zu bytes, reason %d",
						 (unsigned long long)pfn, at, got, (int)r.why);
			} else if (off + at + 8 > cut) {
				if (got != 0 || r.why != ICH_MISS_BEYOND_FILE)
					fail_msg("PFN 0x%llx (past the cut) +0x%x: %zu bytes, reason %d",
						 (unsigned long long)pfn, at, got, (int)r.why);
			} else {
				db_kd_phys_read(kd, pfn << 12 | at, &want, 8);
				if (got != 8 || v != want)
					fail_msg("PFN 0x%llx +0x%x: %zu bytes 0x%llx, want 0x%llx", (unsigned long long)pfn,
						 at, got, (unsigned long long)v, (unsigned long long)want);
			}
		}
		/* three pages from the middle of this one: the bytes up to
		 * the first frame not in the file (or past the cut) */
		static uint8_t buf[0x3000], want[0x3000];
		uint64_t pa = pfn << 12 | 0x800, n = 0;
		while (n < sizeof(buf)) {
			uint64_t q = (pa + n) >> 12, qo = db_kd_pfn_file_offset(kd, q);
			uint64_t in = 0x1000 - ((pa + n) & 0xFFF);
			if (in > sizeof(buf) - n)
				in = sizeof(buf) - n;
			if (qo == UINT64_MAX || qo + ((pa + n) & 0xFFF) >= cut)
				break;
			if (qo + ((pa + n) & 0xFFF) + in > cut)
				in = cut - (qo + ((pa + n) & 0xFFF));
			n += in;
			if (((pa + n) & 0xFFF) && n < sizeof(buf))
				break;	/* (cut inside the page) */
		}
		db_kd_phys_read(kd, pa, want, (size_t)n);
		size_t got = ich_dump_read_phys(d, pa, buf, sizeof(buf), NULL);
		if (got != n || memcmp(buf, want, (size_t)n))
			fail_msg("3 pages from 0x%llx: %zu bytes, want %llu", (unsigned long long)pa, got,
				 (unsigned long long)n);
	}
}

static void test_x64_bitmap_rank(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_BITMAP);
	const struct db_kd_run runs[] = { { 1, 0x5FF }, { 0x800, 0x1C5 } };
	assert_int_equal(db_kd_set_physical_runs(kd, runs, 2), 0);
	/* present and absent stretches by turns from frame 0x100 on */
	static const unsigned lens[] = { 1, 2, 3, 7, 63, 64, 65, 130, 600, 1, 1, 5 };
	uint32_t rs = 77;
	bool on = true;
	unsigned present = 0;
	for (uint64_t pfn = 0x100; pfn < 0x9C5;) {
		rs = rs * 1103515245u + 12345u;
		uint64_t len = lens[(rs >> 8) % (sizeof(lens) / sizeof(lens[0]))];
		for (uint64_t k = 0; k < len && pfn < 0x9C5; k++, pfn++) {
			bool ram = pfn < 0x600 || pfn >= 0x800;
			if (!on || !ram)
				continue;
			for (unsigned at = 0; at < 0x1000; at += 0xFF8) {
				uint64_t v = rank_val(pfn, at);
				db_kd_phys_write(kd, pfn << 12 | at, &v, 8);
			}
			present++;
		}
		on = !on;
	}
	assert_true(present > 0x100);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	/* the last frame written is the bitmap's last bit: a partial word */
	const struct ich_kdump *k = ich_dump_kdump(d);
	assert_true(k->total_pages % 64 != 0);
	check_rank_reads(kd, d, k->total_pages + 0x80, UINT64_MAX);
	ich_dump_close(d);
	/* cut inside a page in the middle of the data */
	uint64_t cut = UINT64_MAX;
	for (uint64_t pfn = 0x880; pfn < 0x9C5 && cut == UINT64_MAX; pfn++)
		cut = db_kd_pfn_file_offset(kd, pfn);
	assert_true(cut != UINT64_MAX);
	cut += 0x804;
	assert_int_equal(db_truncate_file(path, cut), 0);
	assert_null(ich_dump_open(path, &d));
	assert_true(ich_dump_kdump(d)->truncated);
	check_rank_reads(kd, d, ich_dump_kdump(d)->total_pages + 0x80, cut);
	done(d, path);
	db_kd_free(kd);
}

/* A full x64 22621 dump whose RAM is three runs with holes between them:
 * frames 1-0x40, 0x100-0x11f, 0x400-0x40f (0x70 pages of data). */
static struct db_kd *full_holes_kd(void)
{
	struct db_kd *kd = db_kd_new(DB_KD_X64, 22621, DB_KD_FULL);
	const struct db_kd_run runs[] = { { 1, 0x40 }, { 0x100, 0x20 }, { 0x400, 0x10 } };
	assert_int_equal(db_kd_set_physical_runs(kd, runs, 3), 0);
	return kd;
}

/* A full dump whose PhysicalMemoryBlock lists its runs out of PFN order
 * (the builder writes them ascending, as Windows does; the test swaps the
 * first two entries and their page data in the file): every page still
 * reads back as written (kdump.c sorts the runs it derives, and skips the
 * sort when they come in order). */
static void test_x64_full_runs_out_of_order(void **state)
{
	(void)state;
	struct db_kd *kd = full_holes_kd();
	static const uint64_t pfns[] = { 1, 0x20, 0x40, 0x100, 0x11f, 0x400, 0x40f };
	for (size_t i = 0; i < sizeof(pfns) / sizeof(pfns[0]); i++) {
		uint64_t v = rank_val(pfns[i], 0);
		db_kd_phys_write(kd, pfns[i] << 12 | 0x10, &v, 8);
	}
	char *path = tmp_path();
	assert_int_equal(db_kd_write_file(kd, path), 0);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	static uint8_t file[0x2000 + 0x70 * 0x1000];
	assert_int_equal(fread(file, 1, sizeof(file), f), sizeof(file));
	/* runs 0 and 1 (0x98, 0xA8) swapped, and their 0x40 + 0x20 pages */
	uint8_t run0[16], *pages = malloc(0x60 * 0x1000);
	assert_non_null(pages);
	memcpy(run0, file + 0x98, 16);
	memmove(file + 0x98, file + 0xA8, 16);
	memcpy(file + 0xA8, run0, 16);
	memcpy(pages, file + 0x2000 + 0x40 * 0x1000, 0x20 * 0x1000);
	memcpy(pages + 0x20 * 0x1000, file + 0x2000, 0x40 * 0x1000);
	memcpy(file + 0x2000, pages, 0x60 * 0x1000);
	free(pages);
	rewind(f);
	assert_int_equal(fwrite(file, 1, sizeof(file), f), sizeof(file));
	assert_int_equal(fclose(f), 0);
	struct ich_dump *d = NULL;
	assert_null(ich_dump_open(path, &d));
	const struct ich_kdump *k = ich_dump_kdump(d);
	assert_int_equal(k->runs[0].base_page, 0x100);
	assert_int_equal(k->runs[1].base_page, 1);
	for (size_t i = 0; i < sizeof(pfns) / sizeof(pfns[0]); i++) {
		uint64_t v = 0;
		assert_int_equal(ich_dump_read_phys(d, pfns[i] << 12 | 0x10, &v, 8, NULL), 8);
		assert_int_equal(v, rank_val(pfns[i], 0));
	}
	/* run 0's last page reads on into the hole after it, not run 1's */
	struct ich_read_result r;
	uint8_t b[16];
	assert_int_equal(ich_dump_read_phys(d, 0x40ff8, b, 16, &r), 8);
	assert_int_equal(r.why, ICH_MISS_NOT_CAPTURED);
	done(d, path);
	db_kd_free(kd);
}

/* Full dump whose runs leave holes; page data in run order. */
static void test_x64_full_holes(void **state)
{
	(void)state;
	struct db_kd *kd = full_holes_kd();
	uint64_t dtb = db_kd_kernel_dtb(kd);
	map(kd, dtb, VA_4K, 0x1000, 0x1000);
	w64(kd, dtb, VA_4K + 0x10, 0x0123456789abcdefull);
	/* a page in the last run, by physical address */
	if (db_kd_map_phys(kd, dtb, VA_4K + 0x1000, 0x40f000, 0x1000, 0x1000))
		fail_msg("%s", db_error());
	w64(kd, dtb, VA_4K + 0x1ff8, 0xfeedfacecafebeefull);
	uint64_t pv = 0x1122334455667788ull;
	db_kd_phys_write(kd, 0x11ff8, &pv, 8);	/* last bytes of run 0 */
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	const struct ich_kdump *k = ich_dump_kdump(d);
	assert_string_equal(ich_dump_kind_name(d), "kernel full dump");
	assert_int_equal(ich_dump_build(d), 22621);
	assert_int_equal(k->nruns, 3);
	assert_int_equal(k->runs[1].base_page, 0x100);
	assert_int_equal(k->runs[1].page_count, 0x20);
	assert_int_equal(k->runs[2].base_page, 0x400);
	assert_int_equal(k->total_pages, 0x70);
	assert_int_equal(k->first_page_offset, 0x2000);
	assert_int_equal(k->expected_file_size, 0x2000 + 0x70 * 0x1000);
	assert_false(k->truncated);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(rd64(as, VA_4K + 0x10), 0x0123456789abcdefull);
	assert_int_equal(rd64(as, VA_4K + 0x1ff8), 0xfeedfacecafebeefull);
	/* VA_4K's frame is in run 0, the next page's in run 2: not adjacent
	 * in the file, so no zero-copy, but a read crosses fine */
	assert_null(ich_as_peek(as, VA_4K + 0xff8, 16));
	assert_non_null(ich_as_peek(as, VA_4K + 0x10, 8));
	uint64_t two[2];
	assert_null(ich_as_read_exact(as, VA_4K + 0xff8, two, 16));
	/* physical: across the end of run 0 into the hole */
	uint8_t b[16];
	struct ich_read_result r;
	assert_int_equal(ich_dump_read_phys(d, 0x40ff8, b, 16, &r), 8);
	assert_int_equal(r.why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(r.miss_addr, 0x41000);
	assert_int_equal(ich_dump_read_phys(d, 0x200000, b, 8, &r), 0);
	assert_int_equal(r.why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(ich_dump_read_phys(d, 0x0, b, 8, &r), 0);
	assert_int_equal(r.why, ICH_MISS_NOT_CAPTURED);
	uint64_t v;
	assert_int_equal(ich_dump_read_phys(d, 0x11ff8, &v, 8, &r), 8);
	assert_int_equal(v, 0x1122334455667788ull);
	/* file offset of PA 0x40f000: header + runs 0 and 1 + 0xf pages */
	const uint8_t *f = ich_dump_file_data(d);
	memcpy(&v, f + 0x2000 + (0x40 + 0x20 + 0xf) * 0x1000 + 0xff8, 8);
	assert_int_equal(v, 0xfeedfacecafebeefull);
	done(d, path);
	db_kd_free(kd);
}

static void test_x86_pae_pages(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X86_PAE, 7601, DB_KD_FULL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	map(kd, dtb, 0x80200000, 0x200000, 0x200000);
	w32(kd, dtb, 0x803ffffc, 0x2020beef);
	w32(kd, dtb, 0x80200010, 0x2020f00d);
	map(kd, dtb, 0x8a000000, 0x3000, 0x1000);
	w32(kd, dtb, 0x8a000000, 0x11111111);
	w32(kd, dtb, 0x8a001ffc, 0x22222222);
	w32(kd, dtb, 0x8a002000, 0x33333333);
	assert_int_equal(db_kd_make_transition(kd, dtb, 0x8a001000), 0);
	assert_int_equal(db_kd_make_paged_out(kd, dtb, 0x8a002000, 0x4000000000000080ull), 0);
	/* NX (bit 63) on a valid PAE PTE */
	uint64_t pte_pa = db_kd_pte_address(kd, dtb, 0x8a000000), pte;
	db_kd_phys_read(kd, pte_pa, &pte, 8);
	pte |= 1ull << 63;
	db_kd_phys_write(kd, pte_pa, &pte, 8);
	uint64_t proc = db_kd_new_address_space(kd);
	map(kd, proc, 0x00400000, 0x1000, 0x1000);
	w32(kd, proc, 0x00400010, 0x0defaced);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	const struct ich_kdump *k = ich_dump_kdump(d);
	assert_false(k->is64);
	assert_true(k->pae_enabled);
	assert_int_equal(k->first_page_offset, 0x1000);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(ich_as_ptr_size(as), 4);
	assert_int_equal(rd32(as, 0x803ffffc), 0x2020beef);
	assert_int_equal(rd32(as, 0x80200010), 0x2020f00d);
	assert_int_equal(rd32(as, 0x8a000000), 0x11111111);
	assert_int_equal(rd32(as, 0x8a001ffc), 0x22222222);	/* transition */
	struct ich_read_result r = miss(as, 0x8a002000);
	assert_int_equal(r.why, ICH_MISS_PAGED_OUT);
	assert_int_equal(r.pte, 0x4000000000000080ull);
	assert_int_equal(miss(as, 0x8a003000).why, ICH_MISS_NOT_MAPPED);
	assert_int_equal(miss(as, 0x00400010).why, ICH_MISS_NOT_MAPPED);
	assert_int_equal(miss(as, 0x100000000ull).why, ICH_MISS_NONCANONICAL);
	struct ich_as *p;
	assert_null(ich_dump_process_as(d, proc, &p));
	assert_int_equal(rd32(p, 0x00400010), 0x0defaced);
	assert_int_equal(rd32(p, 0x803ffffc), 0x2020beef);	/* kernel half shared */
	ich_as_destroy(p);
	done(d, path);
	db_kd_free(kd);
}

static void test_x86_nonpae_pages(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X86, 2600, DB_KD_FULL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	map(kd, dtb, 0x80800000, 0x400000, 0x400000);
	w32(kd, dtb, 0x80bffffc, 0x4040beef);
	w32(kd, dtb, 0x80800010, 0x4040f00d);
	w32(kd, dtb, 0x809ffffc, 0x33334444);
	w32(kd, dtb, 0x80a00000, 0x11112222);
	map(kd, dtb, 0x8a000000, 0x3000, 0x1000);
	w32(kd, dtb, 0x8a000004, 0x44444444);
	w32(kd, dtb, 0x8a001004, 0x55555555);
	assert_int_equal(db_kd_make_transition(kd, dtb, 0x8a001000), 0);
	assert_int_equal(db_kd_make_paged_out(kd, dtb, 0x8a002000, 0x12345080ull), 0);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	const struct ich_kdump *k = ich_dump_kdump(d);
	assert_false(k->pae_enabled);
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_X86);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(rd32(as, 0x80bffffc), 0x4040beef);	/* 4 MiB page */
	assert_int_equal(rd32(as, 0x80800010), 0x4040f00d);
	/* the region cache holds the 4 MiB page as its two 2 MiB halves
	 * (ICH_AS_REG_SHIFT): both answered inline with the page's bytes, a
	 * read across their border declined there; the records hold the
	 * whole 4 MiB page (every bucket's slot), which answers it */
	const struct ich_as_regions *rc = ((const struct ich_as_window *)(const void *)as)->reg;
	assert_non_null(rc);
	for (uint64_t r = 0x80800000 >> 21; r < (0x80800000 >> 21) + 2; r++)
		assert_int_equal(rc->key[r % ICH_AS_REG_SLOTS], r);
	const uint8_t *lo = ich_as_table_get(as, 0x80800010, 4), *hi = ich_as_table_get(as, 0x80bffffc, 4);
	assert_non_null(lo);
	assert_non_null(hi);
	uint32_t vlo, vhi;
	memcpy(&vlo, lo, 4);
	memcpy(&vhi, hi, 4);
	assert_int_equal(vlo, 0x4040f00d);
	assert_int_equal(vhi, 0x4040beef);
	assert_null(reg_get(as, 0x809ffffc, 8));
	const uint8_t *across = rec_get(as, 0x809ffffc, 8);
	assert_non_null(across);
	assert_ptr_equal(ich_as_table_get(as, 0x809ffffc, 8), across);
	uint64_t v64;
	memcpy(&v64, across, 8);
	assert_int_equal(v64, 0x1111222233334444ull);
	assert_int_equal(rd64(as, 0x809ffffc), 0x1111222233334444ull);
	/* not past the page's end: its last 8 bytes inline, then out of line */
	assert_non_null(rec_get(as, 0x80bffff8, 8));
	for (uint64_t x = 0x80bffff9; x < 0x80c00000; x++)
		assert_null(rec_get(as, x, 8));
	assert_int_equal(rec_check_all(kd, dtb, d, as, 0x400000), 1024);
	assert_int_equal(rd32(as, 0x8a000004), 0x44444444);
	assert_int_equal(rd32(as, 0x8a001004), 0x55555555);	/* transition */
	struct ich_read_result r = miss(as, 0x8a002000);
	assert_int_equal(r.why, ICH_MISS_PAGED_OUT);
	assert_int_equal(r.pte, 0x12345080ull);
	assert_int_equal(miss(as, 0x8a003000).why, ICH_MISS_NOT_MAPPED);
	done(d, path);
	db_kd_free(kd);
}

/* RDMP kinds and FDMP: kind names, data through the ranges. */
/* Every container kind on every arch: the 32-bit bitmap / RDMP / summary
 * header at 0x1000, the 64-bit one at 0x2000 (kdump_phys.c). */
static void test_container_kinds(void **state)
{
	(void)state;
	static const struct { uint32_t type; uint32_t bmp; const char *name; } kinds[] = {
		{ DB_KD_RDMP_KERNEL, 0, "kernel memory dump (RDMP)" },
		{ DB_KD_RDMP_KERNEL_USER, 0, "kernel and user memory dump (RDMP)" },
		{ DB_KD_RDMP_COMPLETE, 0, "complete memory dump (RDMP)" },
		{ DB_KD_BITMAP, 0x504D4446, "kernel bitmap dump (FDMP, full)" },
		{ DB_KD_BITMAP, 0x504D4453, "kernel bitmap dump (SDMP, kernel)" },
		{ DB_KD_SUMMARY, 0, "kernel summary dump" },
	};
	static const enum db_kd_arch arches[] = { DB_KD_X64, DB_KD_X86_PAE, DB_KD_X86 };
	for (size_t a = 0; a < 3; a++) {
		uint64_t va = arches[a] == DB_KD_X64 ? VA_4K : 0x8A000000ull;
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			struct db_kd *kd = db_kd_new(arches[a], 19045, kinds[i].type);
			if (kinds[i].bmp)
				db_kd_header(kd)->bmp_signature = kinds[i].bmp;
			uint64_t dtb = db_kd_kernel_dtb(kd);
			map(kd, dtb, va, 0x2000, 0x1000);
			w64(kd, dtb, va + 0xff8, 0x0102030405060708ull);
			w64(kd, dtb, va + 0x1000, 0x1112131415161718ull);
			char *path;
			struct ich_dump *d = write_open(kd, &path);
			assert_string_equal(ich_dump_kind_name(d), kinds[i].name);
			const struct ich_kdump *k = ich_dump_kdump(d);
			assert_int_equal(k->dump_type, kinds[i].type);
			assert_int_equal(k->is64, arches[a] == DB_KD_X64);
			assert_false(k->truncated);
			assert_int_equal(ich_dump_warning_count(d), 0);
			uint64_t b[2];
			assert_null(ich_as_read_exact(ich_dump_as(d), va + 0xff8, b, 16));
			assert_int_equal(b[0], 0x0102030405060708ull);
			assert_int_equal(b[1], 0x1112131415161718ull);
			/* the data frame is in the file where the builder put it */
			uint64_t pfn = db_kd_va_to_pfn(kd, dtb, va + 0x1000);
			uint64_t off = db_kd_pfn_file_offset(kd, pfn);
			assert_true(off != UINT64_MAX);
			assert_true(off >= k->first_page_offset);
			assert_int_equal(k->expected_file_size, ich_dump_file_size(d));
			done(d, path);
			db_kd_free(kd);
		}
	}
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* data written to a new temporary file: its path */
static char *write_tmp(const uint8_t *data, size_t n)
{
	char *path = tmp_path();
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return path;
}

static struct ich_error *open_bytes(const uint8_t *data, size_t n, char **msg,
				    size_t *nwarn)
{
	char *path = write_tmp(data, n);
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(path, &d);
	*msg = NULL;
	if (err)
		*msg = strdup(err->message);
	else {
		*nwarn = ich_dump_warning_count(d);
		if (*nwarn)
			*msg = strdup(ich_dump_warning(d, *nwarn - 1));
		ich_dump_close(d);
	}
	unlink(path);
	free(path);
	return err;
}

/* Hostile headers: refused (or opened with a warning) with the offset
 * named, never read out of bounds (ASan). */
static void test_hostile_headers(void **state)
{
	(void)state;
	size_t n = 0x4000, nw = 0;
	uint8_t *h = calloc(1, n);
	char *msg;
	struct ich_error *err;
	memcpy(h, "PAGEDU64", 8);
	/* tiny: just the signatures */
	err = open_bytes(h, 8, &msg, &nw);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_FORMAT);
	assert_non_null(strstr(msg, "the file has 0x8"));
	ich_error_destroy(err);
	free(msg);
	/* full dump claiming 0xffffffff runs */
	put32(h + 0x30, 0x8664);
	put32(h + 0xF98, 1);
	put32(h + 0x88, 0xffffffff);
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "0x88"));
	assert_non_null(strstr(msg, "4294967295 runs"));
	ich_error_destroy(err);
	free(msg);
	/* one run of 2^60 pages */
	put32(h + 0x88, 1);
	put64(h + 0xA0, 1ull << 60);
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "run 0"));
	ich_error_destroy(err);
	free(msg);
	/* bitmap dump whose bitmap claims more bits than the file holds */
	put32(h + 0x88, 0);
	put64(h + 0xA0, 0);
	put32(h + 0xF98, 5);
	memcpy(h + 0x2000, "SDMPDUMP", 8);
	put64(h + 0x2020, 0x10000000);		/* FirstPage far past the end */
	put64(h + 0x2030, 1ull << 40);
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "0x2038"));
	ich_error_destroy(err);
	free(msg);
	/* a bitmap of alternating bits filling the file, data past the end:
	 * opens truncated, without a run per set bit */
	put64(h + 0x2030, (n - 0x2038) * 8);
	put64(h + 0x2028, (n - 0x2038) * 4);
	memset(h + 0x2038, 0x55, n - 0x2038);
	err = open_bytes(h, n, &msg, &nw);
	assert_null(err);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "file is 0x4000 bytes"));
	free(msg);
	/* bad BMP signature */
	memcpy(h + 0x2000, "XXXXDUMP", 8);
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "0x2000"));
	ich_error_destroy(err);
	free(msg);
	/* old summary dump (DumpType 2): SUMMARY_DUMP64 at 0x2000; zeros
	 * there are refused, naming the offset */
	memset(h, 0, n);
	memcpy(h, "PAGEDU64", 8);
	put32(h + 0x30, 0x8664);
	put32(h + 0xF98, 2);
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "summary dump: signature at 0x2000"));
	ich_error_destroy(err);
	free(msg);
	/* ... Pages (0x2014) not the bits set in the bitmap at 0x2028 */
	memcpy(h + 0x2000, "SDMPDUMP", 8);
	put32(h + 0x200C, 0x3000);
	put32(h + 0x2010, 64);
	put32(h + 0x2014, 3);
	put32(h + 0x2018, 64);
	h[0x2028] = 0x03;
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "Pages at 0x2014 is 0x3 but the bitmap at 0x2028 has 0x2 bits set"));
	ich_error_destroy(err);
	free(msg);
	/* ... HeaderSize (0x200C) inside the bitmap */
	put32(h + 0x2014, 2);
	put32(h + 0x200C, 0x2000);
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "HeaderSize at 0x200c is 0x2000"));
	ich_error_destroy(err);
	free(msg);
	/* ARM64 full dump: its page tables are walked from DirectoryTableBase,
	 * which here is 0 and then not a 4 KiB table base: refused by name */
	put32(h + 0x30, 0xaa64);
	put32(h + 0xF98, 1);
	err = open_bytes(h, n, &msg, &nw);
	assert_null(err);
	assert_non_null(strstr(msg, "DirectoryTableBase 0x0: no table address"));
	free(msg);
	put32(h + 0x10, 0x1002);
	err = open_bytes(h, n, &msg, &nw);
	assert_null(err);
	assert_non_null(strstr(msg, "DirectoryTableBase 0x1002: bits 11:1 are set"));
	free(msg);
	/* 32-bit bitmap dump: the BMP header is read at 0x1000 (kdump_phys.c);
	 * zeros there are refused, naming the offset */
	memset(h, 0, n);
	memcpy(h, "PAGEDUMP", 8);
	put32(h + 0x20, 0x14c);
	put32(h + 0xF88, 5);
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "signature at 0x1000 is 0x00000000/0x00000000"));
	ich_error_destroy(err);
	free(msg);
	/* 32-bit RDMP (layout derived): a range table past the end of the
	 * file is refused, not read as far as it goes */
	put32(h + 0xF88, 9);
	put32(h + 0x1000, 0x40);
	memcpy(h + 0x1004, "RDMPDUMP", 8);
	put64(h + 0x1010, 0x10000);
	put64(h + 0x1018, 0x11020);
	for (size_t off = 0x1030; off + 16 <= n; off += 16) {
		put64(h + off, 0x100 + (off - 0x1030));
		put64(h + off + 8, 1);
	}
	err = open_bytes(h, n, &msg, &nw);
	assert_non_null(err);
	assert_non_null(strstr(msg, "lies past the end of the file (0x4000 bytes)"));
	ich_error_destroy(err);
	free(msg);
	/* RDMP with a cut range table */
	memset(h, 0, n);
	memcpy(h, "PAGEDU64", 8);
	put32(h + 0x30, 0x8664);
	put32(h + 0xF98, 8);
	memcpy(h + 0x2004, "RDMPDUMP", 8);
	put64(h + 0x2010, 0xffffffffffff0000ull);
	put64(h + 0x2018, 0x3000);
	for (size_t off = 0x2030; off + 16 <= n; off += 16) {
		put64(h + off, 0x100 + (off - 0x2030));
		put64(h + off + 8, 1);
	}
	err = open_bytes(h, n, &msg, &nw);
	assert_null(err);
	/* MetadataSize/FirstPageOffset, the cut table, the short file */
	assert_int_equal(nw, 3);
	free(msg);
	free(h);
}

/* A 64-bit bitmap or RDMP dump whose first page's offset is near 2^64:
 * the pages' offsets (FirstPage + k * 0x1000) would wrap past 2^64 into
 * the file's first bytes, and the header would be read as memory.  They
 * are past the end of the file, with a warning naming the field. */
static void test_first_page_near_2_64(void **state)
{
	(void)state;
	size_t n = 0x4000, nw = 0;
	uint8_t *h = calloc(1, n);
	assert_non_null(h);
	for (int kind = 0; kind < 2; kind++) {
		memset(h, 0, n);
		memcpy(h, "PAGEDU64", 8);
		put32(h + 0x30, 0x8664);
		if (kind == 0) {	/* bitmap: 8 frames present from PFN 0 */
			put32(h + 0xF98, 5);
			memcpy(h + 0x2000, "SDMPDUMP", 8);
			put64(h + 0x2020, 0xFFFFFFFFFFFFF000ull);
			put64(h + 0x2028, 8);
			put64(h + 0x2030, 8);
			h[0x2038] = 0xFF;
		} else {		/* RDMP: PFN 0 and 1, one range */
			put32(h + 0xF98, 8);
			memcpy(h + 0x2004, "RDMPDUMP", 8);
			put64(h + 0x2010, 0x20);
			put64(h + 0x2018, 0xFFFFFFFFFFFFF000ull);
			put64(h + 0x2030, 1);
			put64(h + 0x2038, 8);
		}
		char *path = write_tmp(h, n);
		struct ich_dump *d = NULL;
		assert_null(ich_dump_open(path, &d));
		nw = ich_dump_warning_count(d);
		bool named = false;
		for (size_t i = 0; i < nw; i++)
			named |= strstr(ich_dump_warning(d, i), kind ? "FirstPageOffset at 0x2018" : "FirstPage at 0x2020") != NULL &&
				 strstr(ich_dump_warning(d, i), "past the end of the file") != NULL;
		assert_true(named);
		for (uint64_t pfn = kind; pfn < (kind ? 9u : 8u); pfn++) {
			struct ich_read_result r;
			uint8_t b[8];
			assert_int_equal(ich_dump_read_phys(d, pfn << 12, b, 8, &r), 0);
			assert_int_equal(r.why, ICH_MISS_BEYOND_FILE);
		}
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
	free(h);
}

/* A walk that streams through a range (kdump_paging.c page_window): the
 * window grows over the following pages whose frames follow in the file,
 * never past a frame that does not, nor past a page that cannot be read;
 * every byte read through it is the one the builder wrote; a read that
 * does not continue the last window gets one page.  Layout (x64 full
 * dump, kernel space at VA_ST): pages 0-31 on frames 0x120-0x13f, page 32
 * on frame 0x160 (not after 0x13f in the file), 33-34 on 0x161-0x162 (34
 * a transition page: still readable), 35 paged out. */
#define VA_ST 0xFFFFD00000000000ull
static uint64_t st_val(uint64_t page, uint64_t off)
{
	return 0xC0DE000000000000ull | page << 16 | off;
}

/* An x64 19045 kernel dump of the given type with RAM in runs; *dtb its
 * kernel DTB. */
static struct db_kd *kd_with_runs(uint32_t type, const struct db_kd_run *runs, size_t n, uint64_t *dtb)
{
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, type);
	assert_int_equal(db_kd_set_physical_runs(kd, runs, n), 0);
	*dtb = db_kd_kernel_dtb(kd);
	return kd;
}

/* The streamed tests' dump: x64 full, RAM in two runs (frames 1-0x40,
 * 0x100-0x17f); the kernel pages mapped at VA_ST get their st_val at
 * offsets 0 and 0x800 from st_fill. */
static struct db_kd *st_kd(uint64_t *dtb)
{
	const struct db_kd_run runs[] = { { 1, 0x40 }, { 0x100, 0x80 } };
	return kd_with_runs(DB_KD_FULL, runs, 2, dtb);
}

static void st_fill(struct db_kd *kd, uint64_t dtb, uint64_t npages)
{
	for (uint64_t pg = 0; pg < npages; pg++)
		for (uint64_t off = 0; off < 0x1000; off += 0x800)
			w64(kd, dtb, VA_ST + pg * 0x1000 + off, st_val(pg, off));
}

/* The streamed tests' pages: 0-31 on frames 0x120-0x13f, 32 on frame 0x160
 * (not after 0x13f in the file), 33-34 on 0x161-0x162 (34 a transition
 * page: still readable), 35 paged out; written to a file and opened. */
static struct ich_dump *st_pages_open(struct db_kd *kd, uint64_t dtb, char **path)
{
	if (db_kd_map_phys(kd, dtb, VA_ST, 0x120000, 32 * 0x1000, 0x1000) ||
	    db_kd_map_phys(kd, dtb, VA_ST + 32 * 0x1000, 0x160000, 4 * 0x1000, 0x1000))
		fail_msg("%s", db_error());
	st_fill(kd, dtb, 36);
	assert_int_equal(db_kd_make_transition(kd, dtb, VA_ST + 34 * 0x1000), 0);
	assert_int_equal(db_kd_make_paged_out(kd, dtb, VA_ST + 35 * 0x1000, PAGEFILE_PTE), 0);
	return write_open(kd, path);
}

static void test_x64_streamed_window(void **state)
{
	(void)state;
	uint64_t dtb;
	struct db_kd *kd = st_kd(&dtb);
	char *path;
	struct ich_dump *d = st_pages_open(kd, dtb, &path);
	struct ich_as *as = ich_dump_as(d);
	/* first read: one page */
	assert_int_equal(rd64(as, VA_ST), st_val(0, 0));
	assert_non_null(ich_as_window_get(as, VA_ST + 0xff8, 8));
	assert_null(ich_as_window_get(as, VA_ST + 0x1000, 8));
	/* the next page continues it: pages 1-3 in one window */
	assert_int_equal(rd64(as, VA_ST + 0x1000), st_val(1, 0));
	assert_non_null(ich_as_window_get(as, VA_ST + 0x3ff8, 8));
	assert_null(ich_as_window_get(as, VA_ST + 0x4000, 8));
	/* stream on: every value right, the window never past page 31 */
	for (uint64_t pg = 2; pg < 32; pg++) {
		for (uint64_t off = 0; off < 0x1000; off += 0x800) {
			assert_int_equal(rd64(as, VA_ST + pg * 0x1000 + off), st_val(pg, off));
			assert_null(ich_as_window_get(as, VA_ST + 32 * 0x1000, 8));
		}
	}
	/* a read across pages 30-31 (contiguous frames) is zero-copy */
	const uint8_t *p = ich_as_peek(as, VA_ST + 31 * 0x1000 - 8, 16);
	assert_non_null(p);
	uint64_t v;
	memcpy(&v, p + 8, 8);
	assert_int_equal(v, st_val(31, 0));
	/* page 32 continues the stream: 33 and the transition page 34 join
	 * its window, the paged-out page 35 does not */
	assert_int_equal(rd64(as, VA_ST + 32 * 0x1000), st_val(32, 0));
	assert_non_null(ich_as_window_get(as, VA_ST + 34 * 0x1000 + 0xff8, 8));
	assert_null(ich_as_window_get(as, VA_ST + 35 * 0x1000, 8));
	assert_int_equal(rd64(as, VA_ST + 33 * 0x1000 + 0x800), st_val(33, 0x800));
	assert_int_equal(rd64(as, VA_ST + 34 * 0x1000 + 0x800), st_val(34, 0x800));
	struct ich_read_result r = miss(as, VA_ST + 35 * 0x1000);
	assert_int_equal(r.why, ICH_MISS_PAGED_OUT);
	/* across the non-contiguous frames 31 | 32: a read crosses fine, a
	 * peek does not (not adjacent in the file) */
	uint64_t two[2];
	assert_null(ich_as_read_exact(as, VA_ST + 32 * 0x1000 - 8, two, 16));
	assert_int_equal(two[1], st_val(32, 0));
	/* a read elsewhere (not where the last window ended): one page */
	assert_int_equal(rd64(as, VA_ST + 0x800), st_val(0, 0x800));
	assert_null(ich_as_window_get(as, VA_ST + 0x1000, 8));
	done(d, path);
	db_kd_free(kd);
}

/* A stream that runs into the end of a file cut short: the window grows
 * over the frames that follow in the file (kdump_paging.c page_window),
 * but never past the last page the file holds. */
static void test_x64_streamed_cut(void **state)
{
	(void)state;
	uint64_t dtb;
	struct db_kd *kd = st_kd(&dtb);
	if (db_kd_map_phys(kd, dtb, VA_ST, 0x160000, 32 * 0x1000, 0x1000))
		fail_msg("%s", db_error());
	st_fill(kd, dtb, 32);
	char *path = tmp_path();
	assert_int_equal(db_kd_write_file(kd, path), 0);
	/* frames 0x160.. follow each other in the file; cut after page 20 */
	uint64_t cut = db_kd_pfn_file_offset(kd, 0x160 + 21);
	assert_int_equal(db_kd_pfn_file_offset(kd, 0x160 + 20) + 0x1000, cut);
	assert_int_equal(db_truncate_file(path, cut), 0);
	struct ich_dump *d = NULL;
	assert_null(ich_dump_open(path, &d));
	struct ich_as *as = ich_dump_as(d);
	for (uint64_t pg = 0; pg <= 20; pg++) {
		for (uint64_t off = 0; off < 0x1000; off += 0x800) {
			assert_int_equal(rd64(as, VA_ST + pg * 0x1000 + off), st_val(pg, off));
			assert_null(ich_as_window_get(as, VA_ST + 21 * 0x1000, 8));
		}
	}
	assert_non_null(ich_as_window_get(as, VA_ST + 20 * 0x1000 + 0xff8, 8));
	assert_int_equal(miss(as, VA_ST + 21 * 0x1000).why, ICH_MISS_BEYOND_FILE);
	done(d, path);
	db_kd_free(kd);
}

/* A walk that says where it goes (ich_as_peek_stream, kdump_paging.c
 * paging_stream): the window is set at once over the pages up to the end
 * it gives whose frames follow in the file (no ramp of 2, 4, ... pages),
 * at most 256 after the first, never past a frame that does not follow,
 * and a header cut by a page boundary is read whole when the next frame
 * follows.  Layout of test_x64_streamed_window; then 300 pages on frames
 * that all follow in the file for the bound. */
static void test_x64_stream_hint(void **state)
{
	(void)state;
	uint64_t dtb;
	struct db_kd *kd = st_kd(&dtb);
	char *path;
	struct ich_dump *d = st_pages_open(kd, dtb, &path);
	struct ich_as *as = ich_dump_as(d);
	/* the first peek, end 5 pages and 8 bytes on: pages 0-5 (the sixth
	 * holds the end's last byte), no more */
	const uint8_t *p = ich_as_peek_stream(as, VA_ST, 8, VA_ST + 5 * 0x1000 + 8);
	assert_non_null(p);
	uint64_t v;
	memcpy(&v, p, 8);
	assert_int_equal(v, st_val(0, 0));
	assert_non_null(ich_as_window_get(as, VA_ST + 5 * 0x1000 + 0xff8, 8));
	assert_null(ich_as_window_get(as, VA_ST + 6 * 0x1000, 8));
	/* every value the window gives is the builder's */
	for (uint64_t pg = 0; pg < 6; pg++) {
		const uint8_t *q = ich_as_window_get(as, VA_ST + pg * 0x1000 + 0x800, 8);
		assert_non_null(q);
		memcpy(&v, q, 8);
		assert_int_equal(v, st_val(pg, 0x800));
	}
	/* end past the run: the window stops at page 31 (32's frame does not
	 * follow 31's in the file) */
	assert_non_null(ich_as_peek_stream(as, VA_ST + 7 * 0x1000 + 0x10, 16, VA_ST + 64 * 0x1000));
	assert_non_null(ich_as_window_get(as, VA_ST + 31 * 0x1000 + 0xff8, 8));
	assert_null(ich_as_window_get(as, VA_ST + 32 * 0x1000, 8));
	assert_null(ich_as_window_get(as, VA_ST + 7 * 0x1000 - 8, 8));
	/* a header cut by the boundary of pages 9|10 (frames that follow):
	 * whole, from the window; by 31|32 (frames that do not): no pointer */
	p = ich_as_peek_stream(as, VA_ST + 10 * 0x1000 - 8, 16, VA_ST + 64 * 0x1000);
	assert_non_null(p);
	memcpy(&v, p + 8, 8);
	assert_int_equal(v, st_val(10, 0));
	assert_null(ich_as_peek_stream(as, VA_ST + 32 * 0x1000 - 8, 16, VA_ST + 64 * 0x1000));
	/* page 32 on: 33 and the transition page 34 join, the paged-out 35
	 * does not */
	assert_non_null(ich_as_peek_stream(as, VA_ST + 32 * 0x1000, 8, VA_ST + 64 * 0x1000));
	assert_non_null(ich_as_window_get(as, VA_ST + 34 * 0x1000 + 0xff8, 8));
	assert_null(ich_as_window_get(as, VA_ST + 35 * 0x1000, 8));
	/* the paged-out page itself: no pointer, and a read names why */
	assert_null(ich_as_peek_stream(as, VA_ST + 35 * 0x1000, 8, VA_ST + 64 * 0x1000));
	assert_int_equal(miss(as, VA_ST + 35 * 0x1000).why, ICH_MISS_PAGED_OUT);
	done(d, path);
	db_kd_free(kd);

	/* the bound: 300 pages whose frames all follow in the file, end past
	 * them; the window is the first page and the 256 after it */
	const struct db_kd_run runs[] = { { 1, 0x40 }, { 0x100, 0x180 } };
	kd = kd_with_runs(DB_KD_FULL, runs, 2, &dtb);
	if (db_kd_map_phys(kd, dtb, VA_ST, 0x120000, 300 * 0x1000, 0x1000))
		fail_msg("%s", db_error());
	st_fill(kd, dtb, 300);
	d = write_open(kd, &path);
	as = ich_dump_as(d);
	assert_non_null(ich_as_peek_stream(as, VA_ST + 0x20, 16, VA_ST + 300 * 0x1000));
	assert_non_null(ich_as_window_get(as, VA_ST + 256 * 0x1000 + 0xff8, 8));
	assert_null(ich_as_window_get(as, VA_ST + 257 * 0x1000, 8));
	const uint8_t *q = ich_as_window_get(as, VA_ST + 200 * 0x1000 + 0x800, 8);
	assert_non_null(q);
	memcpy(&v, q, 8);
	assert_int_equal(v, st_val(200, 0x800));
	done(d, path);
	db_kd_free(kd);
}

/* Pages on frames scattered over RAM (db_kd_set_scatter), in a bitmap
 * dump that stores only the frames in use: most pages are a run of their
 * own in the file, the case kdump.c's run index (kd_index_runs) is for.
 * Every value read back is the builder's, through the copying read, the
 * peek and a walk's stream, and a page never written is not captured. */
static void test_x64_scattered_frames(void **state)
{
	(void)state;
	const struct db_kd_run runs[] = { { 1, 0x400 }, { 0x1000, 0x3000 }, { 0x8000, 0x800 } };
	uint64_t dtb;
	struct db_kd *kd = kd_with_runs(DB_KD_BITMAP, runs, 3, &dtb);
	enum { NPG = 700 };
	db_kd_set_scatter(kd, 12345);
	if (db_kd_map(kd, dtb, VA_ST, NPG * 0x1000ull, 0x1000))
		fail_msg("%s", db_error());
	db_kd_set_scatter(kd, 0);
	st_fill(kd, dtb, NPG);
	/* the frames are scattered: few pages follow the one before */
	unsigned follow = 0;
	for (uint64_t pg = 1; pg < NPG; pg++)
		follow += db_kd_va_to_pa(kd, dtb, VA_ST + pg * 0x1000) ==
			  db_kd_va_to_pa(kd, dtb, VA_ST + (pg - 1) * 0x1000) + 0x1000;
	assert_true(follow < NPG / 10);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *as = ich_dump_as(d);
	for (uint64_t pg = NPG; pg-- > 0;) {
		for (uint64_t off = 0; off < 0x1000; off += 0x800) {
			uint64_t va = VA_ST + pg * 0x1000 + off;
			assert_int_equal(rd64(as, va), st_val(pg, off));
			const uint8_t *p = ich_as_peek(as, va, 8);
			assert_non_null(p);
			uint64_t v;
			memcpy(&v, p, 8);
			assert_int_equal(v, st_val(pg, off));
		}
	}
	/* a stream page by page; where the next page lies elsewhere in the
	 * file, the window says where (next_va, next: its bytes) */
	const struct ich_as_window *win = (const struct ich_as_window *)(const void *)as;
	unsigned nexts = 0;
	for (uint64_t pg = 0; pg < NPG; pg++) {
		const uint8_t *p = ich_as_peek_stream(as, VA_ST + pg * 0x1000, 8, VA_ST + NPG * 0x1000ull);
		assert_non_null(p);
		uint64_t v;
		memcpy(&v, p, 8);
		assert_int_equal(v, st_val(pg, 0));
		assert_non_null(ich_as_window_get(as, VA_ST + pg * 0x1000 + 0x800, 8));
		if (pg + 1 < NPG && win->next_va == win->base + win->len) {
			uint64_t npg = (win->next_va - VA_ST) / 0x1000;
			assert_true(npg > pg && npg < NPG && win->next_va == VA_ST + npg * 0x1000);
			memcpy(&v, win->next, 8);
			assert_int_equal(v, st_val(npg, 0));
			memcpy(&v, win->next + 0x800, 8);
			assert_int_equal(v, st_val(npg, 0x800));
			nexts++;
		}
	}
	/* most windows are one page whose next page lies elsewhere */
	assert_true(nexts > NPG / 2);
	assert_int_equal(miss(as, VA_ST + NPG * 0x1000ull).why, ICH_MISS_NOT_MAPPED);
	done(d, path);
	db_kd_free(kd);
}

/* The three read kinds of n (8 or 16) bytes at va, the one that k picks
 * first: ich_as_read gives the wn bytes of want and then misses at va + wn
 * for why; ich_as_read_u64 succeeds with want's first 8 bytes only when wn
 * reaches 8; ich_as_peek gives want when it gives anything, and gives
 * nothing inside one page only where the read missed. */
static void check_read_kinds(struct ich_as *as, uint64_t va, size_t n, const uint8_t *want, size_t wn,
			     enum ich_miss_reason why, int k)
{
	for (int t = 0; t < 3; t++) {
		switch ((k + t) % 3) {
		case 0: {
			uint8_t got[16];
			struct ich_read_result r;
			assert_int_equal(ich_as_read(as, va, got, n, &r), wn);
			assert_memory_equal(got, want, wn);
			if (wn < n) {
				assert_int_equal(r.why, why);
				assert_int_equal(r.miss_addr, va + wn);
			}
			break;
		}
		case 1: {
			uint64_t v = 0;
			struct ich_error *err = ich_as_read_u64(as, va, &v);
			if (wn >= 8) {
				assert_null(err);
				assert_memory_equal(&v, want, 8);
			} else {
				assert_non_null(err);
				ich_error_destroy(err);
			}
			break;
		}
		default: {
			const uint8_t *p = ich_as_peek(as, va, n);
			if (p) {
				assert_int_equal(wn, n);
				assert_memory_equal(p, want, n);
			} else {
				/* inside one page the bytes are one piece */
				assert_true(wn < n || (va >> 12) != ((va + n - 1) >> 12));
			}
			break;
		}
		}
	}
}

/* The inline large-page cache (addrspace.h ich_as_region_get_, filled by
 * kdump_paging.c translate) against the builder's own translation: random
 * reads, in random order so the caches fill in any order, over a 1 GiB
 * page, two 2 MiB pages side by side (their frames not adjacent in the
 * file), a 2 MiB page with one frame left out of the dump (not one piece
 * of the file: never cached inline, its other pages still read), an
 * unmapped gap, and 4 KiB pages that are valid, transition, paged out and
 * left out.  Every byte is db_kd_phys_read at db_kd_va_to_pa; every miss
 * is where and why the layout says; peek agrees with the read. */
#define VA_H (VA_2M + 0x600000)	/* the 2 MiB page with a hole */
static enum ich_miss_reason large_ref_why(uint64_t va)
{
	if (va >= VA_1G && va - VA_1G < 0x40000000)
		return ICH_MISS_NONE;
	if (va >= VA_2M && va - VA_2M < 0x400000)
		return ICH_MISS_NONE;
	if (va >= VA_H && va - VA_H < 0x200000)
		return (va - VA_H) >> 12 == 5 ? ICH_MISS_NOT_CAPTURED : ICH_MISS_NONE;
	if (va >= VA_4K && va - VA_4K < 0x5000) {
		uint64_t pg = (va - VA_4K) >> 12;
		return pg == 2 ? ICH_MISS_PAGED_OUT : pg == 3 ? ICH_MISS_NOT_CAPTURED : ICH_MISS_NONE;
	}
	return ICH_MISS_NOT_MAPPED;
}

static void test_x64_large_inline(void **state)
{
	(void)state;
	uint64_t dtb;
	struct db_kd *kd = x64_bitmap_kd(&dtb);
	map(kd, dtb, VA_2M + 0x200000, 0x200000, 0x200000);
	map(kd, dtb, VA_H, 0x200000, 0x200000);
	srand(37);
	/* recognisable bytes at the places probed */
	const struct { uint64_t base, size; } area[] = {
		{ VA_1G + 0x10000000, 0x400000 }, { VA_1G + 0x3fe00000, 0x200000 },
		{ VA_2M, 0x400000 }, { VA_H, 0x200000 }, { VA_4K, 0x5000 },
	};
	enum { NAREA = sizeof(area) / sizeof(area[0]) };
	for (size_t k = 0; k < NAREA; k++)
		for (uint64_t o = 0; o < area[k].size; o += 0x1000)
			for (uint64_t x = 0; x < 0x1000; x += 0x3f8)
				if (large_ref_why(area[k].base + o + x) == ICH_MISS_NONE)
					w64(kd, dtb, area[k].base + o + x, (area[k].base + o + x) * 0x9E3779B97F4A7C15ull);
	db_kd_exclude_page(kd, db_kd_va_to_pfn(kd, dtb, VA_H + 0x5000));
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *as = ich_dump_as(d);
	const struct ich_as_window *w = (const void *)as;
	assert_non_null(w->reg);
	for (int k = 0; k < 20000; k++) {
		const uint64_t base = area[k % NAREA].base, size = area[k % NAREA].size;
		uint64_t va = base + (uint64_t)rand() % size;
		if (k % 7 == 0)		/* up to a page or region end, or just past one */
			va = (va | 0xfff) - 7 + (uint64_t)(rand() % 16);
		if (k % 11 == 0)
			va = base + size - 8 + (uint64_t)(rand() % 16);
		if (rand() % 2)
			va &= ~(uint64_t)7;
		size_t n = rand() % 3 ? 8 : 16;
		/* the reference */
		uint8_t want[16];
		size_t wn = 0;
		enum ich_miss_reason why = ICH_MISS_NONE;
		for (; wn < n; wn++) {
			why = large_ref_why(va + wn);
			if (why != ICH_MISS_NONE)
				break;
			db_kd_phys_read(kd, db_kd_va_to_pa(kd, dtb, va + wn), &want[wn], 1);
		}
		/* the three read kinds, in turn first */
		check_read_kinds(as, va, n, want, wn, why, k);
	}
	/* the flat 2 MiB pages are cached inline, the one with a hole never
	 * as one piece: only its 4 KiB pages that the file holds (the left
	 * out frame never) */
	const struct ich_as_regions *rc = w->reg;
	for (uint64_t r = VA_2M >> 21; r < (VA_2M >> 21) + 2; r++) {
		assert_int_equal(rc->key[r % ICH_AS_REG_SLOTS], r);
		assert_ptr_equal(rc->data[r % ICH_AS_REG_SLOTS],
				 ich_dump_file_data(d) + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, r << 21)));
	}
	for (uint64_t i = 0; i < ICH_AS_REG_SLOTS; i++)
		if (rc->key[i] == VA_H >> 21) {
			assert_null(rc->data[i]);
			assert_null(rc->page[i * ICH_AS_REG_PAGES + 5]);
		}
	assert_int_equal(rc->key[(VA_H >> 21) % ICH_AS_REG_SLOTS], VA_H >> 21);
	/* the records: 4 KiB pages and 2 MiB pieces (the 1 GiB page's
	 * records are its 2 MiB regions, each checked in one piece of the
	 * file), never the holed page whole nor its left-out frame */
	assert_true(rec_check_all(kd, dtb, d, as, 0x200000) >= 512);
	for (uint64_t o = 0; o < 0x200000; o += 0x1000) {
		const uint8_t *q = rec_get(as, VA_H + o + 0x10, 8);
		if (o == 0x5000)
			assert_null(q);
		else if (q)
			assert_int_equal(w->dir_rec[((VA_H + o) >> 12) % ICH_AS_DIR_SLOTS].len, 0x1000);
	}
	done(d, path);
	db_kd_free(kd);
}

/* Process address spaces built one after the other from one dump reuse
 * the last one destroyed (kdump_paging.c): what belongs to the old DTB
 * (its translations, region cache, window) must not leak into the new
 * one.  Processes A and B map the same user VAs to different frames, with
 * a transition page and a paged-out page at swapped places; A alone maps
 * a second region; the kernel half is shared. */
#define VA_U 0x10000000ull
#define VA_U2 0x7ff00000ull
#define VA_U3 0x200000000ull	/* A: one page in each of 70 regions of 2 MiB */
#define NREG 70
#define VA_UL 0x400000000ull	/* A and B: a 2 MiB page each, other frames */
#define VA_UN 0x30000000ull	/* A: two pages on frames apart; B: the second */
static uint64_t pv(char who, uint64_t page, uint64_t off)
{
	return (uint64_t)(unsigned char)who << 56 | page << 16 | off;
}

/* A space just built: its window holds nothing of another process. */
static struct ich_as *new_process(struct ich_dump *d, uint64_t dtb)
{
	struct ich_as *p;
	assert_null(ich_dump_process_as(d, dtb, &p));
	assert_null(ich_as_window_get(p, VA_U, 8));
	return p;
}

static void read_process(struct ich_as *p, char who)
{
	/* streamed through (windows over several pages), then read again at
	 * random: the same values */
	for (int round = 0; round < 2; round++) {
		for (uint64_t pg = 0; pg < 4; pg++) {
			bool out = (who == 'A' && pg == 2) || (who == 'B' && pg == 1);
			for (uint64_t off = 0; off < 0x1000; off += 0x400) {
				uint64_t va = VA_U + pg * 0x1000 + off;
				if (out || (who == 'B' && pg == 3)) {
					struct ich_read_result r = miss(p, va);
					assert_int_equal(r.why, out ? ICH_MISS_PAGED_OUT : ICH_MISS_NOT_MAPPED);
				} else {
					assert_int_equal(rd64(p, va), pv(who, pg, off));
				}
			}
		}
	}
	if (who == 'A')
		assert_int_equal(rd64(p, VA_U2 + 8), pv('A', 9, 8));
	else
		assert_int_equal(miss(p, VA_U2 + 8).why, ICH_MISS_NOT_MAPPED);
	/* more regions than the reuse clears one by one */
	for (uint64_t i = 0; i < NREG; i++) {
		uint64_t va = VA_U3 + i * 0x200000 + 0x1000 * (i % 3);
		if (who == 'A')
			assert_int_equal(rd64(p, va), pv('A', 100 + i, 0));
		else
			assert_int_equal(miss(p, va).why, ICH_MISS_NOT_MAPPED);
	}
	/* a large page: twice (the second from the inline large-page
	 * cache), the new process must not see the old one's */
	for (int i = 0; i < 2; i++)
		assert_int_equal(rd64(p, VA_UL + 0x1008), pv(who, 200, 8));
	const uint64_t *lp = ich_as_peek(p, VA_UL + 0x1ff008, 8);
	assert_non_null(lp);
	assert_int_equal(*lp, pv(who, 201, 8));
	assert_int_equal(rd64(p, VA_ST), st_val(0, 0));	/* kernel half shared */
	/* the window left on a user page, where the next process's differs
	 * (ich_as_peek_window moves it; the copying reads and ich_as_peek
	 * leave it where it is when the inline cache answers) */
	const uint64_t *wp = ich_as_peek_window(p, VA_U + 0x400, 8);
	assert_non_null(wp);
	assert_int_equal(*wp, pv(who, 0, 0x400));
	assert_non_null(ich_as_window_get(p, VA_U, 8));
}

static void test_x64_process_reuse(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_BITMAP);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	map(kd, dtb, VA_ST, 0x1000, 0x1000);
	w64(kd, dtb, VA_ST, st_val(0, 0));
	uint64_t a = db_kd_new_address_space(kd), b = db_kd_new_address_space(kd);
	map(kd, a, VA_U, 4 * 0x1000, 0x1000);
	map(kd, b, VA_U, 3 * 0x1000, 0x1000);
	map(kd, a, VA_U2, 0x1000, 0x1000);
	map(kd, a, VA_UL, 0x200000, 0x200000);
	map(kd, b, VA_UL, 0x200000, 0x200000);
	w64(kd, a, VA_UL + 0x1008, pv('A', 200, 8));
	w64(kd, b, VA_UL + 0x1008, pv('B', 200, 8));
	w64(kd, a, VA_UL + 0x1ff008, pv('A', 201, 8));
	w64(kd, b, VA_UL + 0x1ff008, pv('B', 201, 8));
	w64(kd, a, VA_U2 + 8, pv('A', 9, 8));
	for (uint64_t i = 0; i < NREG; i++) {
		uint64_t va = VA_U3 + i * 0x200000 + 0x1000 * (i % 3);
		map(kd, a, va, 0x1000, 0x1000);
		w64(kd, a, va, pv('A', 100 + i, 0));
	}
	for (uint64_t pg = 0; pg < 4; pg++)
		for (uint64_t off = 0; off < 0x1000; off += 0x400) {
			w64(kd, a, VA_U + pg * 0x1000 + off, pv('A', pg, off));
			if (pg < 3)
				w64(kd, b, VA_U + pg * 0x1000 + off, pv('B', pg, off));
		}
	/* VA_UN's two pages in A on frames apart (B's page between them),
	 * its second in B too: a stream over A's first page looks at A's
	 * second, which a reused space must forget (its window's next,
	 * which kdump_paging.c locate also answers from) */
	map(kd, a, VA_UN, 0x1000, 0x1000);
	map(kd, b, VA_UN + 0x1000, 0x1000, 0x1000);
	map(kd, a, VA_UN + 0x1000, 0x1000, 0x1000);
	w64(kd, a, VA_UN + 0x1000, pv('A', 300, 0));
	w64(kd, b, VA_UN + 0x1000, pv('B', 300, 0));
	assert_int_equal(db_kd_make_transition(kd, a, VA_U + 0x1000), 0);
	assert_int_equal(db_kd_make_paged_out(kd, a, VA_U + 0x2000, PAGEFILE_PTE), 0);
	assert_int_equal(db_kd_make_transition(kd, b, VA_U + 0x2000), 0);
	assert_int_equal(db_kd_make_paged_out(kd, b, VA_U + 0x1000, PAGEFILE_PTE), 0);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *pa = new_process(d, a);
	read_process(pa, 'A');
	assert_non_null(ich_as_peek_stream(pa, VA_UN, 8, VA_UN + 0x2000));
	assert_null(ich_as_window_get(pa, VA_UN + 0x1000, 8));
	ich_as_destroy(pa);
	/* B is built from A's space (the test is about that path) */
	struct ich_as *pb = new_process(d, b | 5);	/* with a PCID */
	assert_ptr_equal(pb, pa);
	const uint8_t *un = ich_as_peek_stream(pb, VA_UN + 0x1000, 8, VA_UN + 0x2000);
	assert_non_null(un);
	uint64_t unv;
	memcpy(&unv, un, 8);
	assert_int_equal(unv, pv('B', 300, 0));
	assert_non_null(strstr(ich_as_name(pb), "DTB 0x"));
	read_process(pb, 'B');
	ich_as_destroy(pb);
	struct ich_as *pa2 = new_process(d, a);
	read_process(pa2, 'A');
	/* two at once: the second is a new space; both destroyed, one kept */
	struct ich_as *pb2 = new_process(d, b);
	assert_ptr_not_equal(pb2, pa2);
	read_process(pb2, 'B');
	read_process(pa2, 'A');
	ich_as_destroy(pa2);
	ich_as_destroy(pb2);
	done(d, path);
	db_kd_free(kd);
}

/* The inline 4 KiB-page cache (addrspace.h ich_as_region_get_, filled by
 * kdump_paging.c page_known from the page walk's own answers) against the
 * builder's translation, in every paging mode and both kinds of physical
 * memory layout (bitmap: phys -> file through the bitmap; full: through
 * the runs).  Region A holds 4 KiB pages in each state a PTE can be in
 * (pg_state below), its frames in the file in the reverse order of their
 * VAs (so a read that crossed a page inline would read the wrong bytes),
 * its last two pages run into region B's first ones; region C's page
 * table is left out of bitmap dumps; regions D and E take A's and B's
 * cache slots (512 regions on: a slot taken over clears all its pages,
 * A's and D's, or the few it logged, B's and E's); page 9's frame is the last one in the file, which is cut
 * in its middle.  20,000 random reads, each by ich_as_read, read_u64 and
 * peek in turn; every byte is db_kd_phys_read at db_kd_va_to_pa, every
 * miss is where and why the layout says.  Then the cache itself: only
 * pages read in full from the file, at the file position the builder put
 * their frame; and a reused process space reads its own pages. */
enum pg_state {
	PG_NOMAP, PG_VALID, PG_TRANS, PG_PAGED, PG_DZERO, PG_PROTO, PG_ZERO, PG_OUTSIDE,
	PG_EXCL, PG_TRANS_EXCL, PG_CUT, PG_NOPT,
};

struct pg_layout {
	bool bitmap;
	uint64_t rs;		/* region size */
	uint64_t npr;		/* 4 KiB pages a region */
	uint64_t a, b, c, dd, e;	/* regions A, B, C, D, E */
	uint64_t f;		/* 4 pages 256 2 MiB slots after A's */
	uint64_t cut_pa;	/* page 9's frame */
	uint64_t cut;		/* file size after the cut */
};

static enum pg_state pg_state_of(const struct pg_layout *l, uint64_t va)
{
	if (va >= l->a && va - l->a < l->rs) {
		uint64_t pg = (va - l->a) >> 12;
		static const enum pg_state first[] = {
			PG_VALID, PG_TRANS, PG_PAGED, PG_DZERO, PG_PROTO, PG_ZERO, PG_OUTSIDE,
			PG_EXCL, PG_TRANS_EXCL, PG_CUT,
		};
		if (pg < 10) {
			enum pg_state st = first[pg];
			if (!l->bitmap && st == PG_EXCL)
				return PG_VALID;	/* a full dump holds every frame */
			if (!l->bitmap && st == PG_TRANS_EXCL)
				return PG_TRANS;
			if (st == PG_CUT)
				return (va & 0xFFF) < 0x800 ? PG_VALID : PG_CUT;
			return st;
		}
		return pg < 16 || pg >= l->npr - 2 ? PG_VALID : PG_NOMAP;
	}
	if (va >= l->b && va - l->b < 4 * 0x1000)
		return PG_VALID;
	if (va >= l->c && va - l->c < l->rs) {
		if (l->bitmap)
			return PG_NOPT;	/* the whole region: its table is missing */
		return va - l->c < 4 * 0x1000 ? PG_VALID : PG_NOMAP;
	}
	if (va >= l->dd && va - l->dd < 16 * 0x1000)
		return PG_VALID;
	if (va >= l->e && va - l->e < 3 * 0x1000)
		return PG_VALID;
	if (va >= l->f && va - l->f < 4 * 0x1000)
		return PG_VALID;
	return PG_NOMAP;
}

static enum ich_miss_reason pg_why(enum pg_state st)
{
	switch (st) {
	case PG_VALID: case PG_TRANS: return ICH_MISS_NONE;
	case PG_PAGED: return ICH_MISS_PAGED_OUT;
	case PG_DZERO: return ICH_MISS_DEMAND_ZERO;
	case PG_PROTO: return ICH_MISS_PROTOTYPE;
	case PG_OUTSIDE: case PG_EXCL: case PG_TRANS_EXCL: return ICH_MISS_NOT_CAPTURED;
	case PG_CUT: return ICH_MISS_BEYOND_FILE;
	case PG_NOPT: return ICH_MISS_PT_NOT_CAPTURED;
	default: return ICH_MISS_NOT_MAPPED;
	}
}

/* A PTE written as it is (4 bytes on x86 non-PAE, else 8). */
static void set_pte(struct db_kd *kd, uint64_t dtb, uint64_t va, uint64_t v, bool x86)
{
	uint64_t pa = db_kd_pte_address(kd, dtb, va);
	assert_int_not_equal(pa, UINT64_MAX);
	db_kd_phys_write(kd, pa, &v, x86 ? 4 : 8);
}

/* Every word of the page at va: va * a constant, xored with salt. */
static void pg_fill(struct db_kd *kd, uint64_t dtb, uint64_t va, uint64_t salt)
{
	uint64_t buf[512];
	for (unsigned i = 0; i < 512; i++)
		buf[i] = (va + 8 * i) * 0x9E3779B97F4A7C15ull ^ salt;
	db_kd_phys_write(kd, db_kd_va_to_pa(kd, dtb, va), buf, sizeof(buf));
}

static void pg_check_reads(struct db_kd *kd, uint64_t dtb, const struct pg_layout *l,
			   struct ich_as *as)
{
	const struct { uint64_t base, size; } area[] = {
		{ l->a, 16 * 0x1000 },		/* every state */
		{ l->a + 16 * 0x1000, 4 * 0x1000 },	/* PTEs not present */
		{ l->a + l->rs - 2 * 0x1000, 4 * 0x1000 },	/* A's end, B's start */
		{ l->c, 4 * 0x1000 },
		{ l->dd, 8 * 0x1000 },
		{ l->dd + 2 * l->rs, 2 * 0x1000 },	/* no page table at all */
		{ l->e, 4 * 0x1000 },
		{ l->b, 5 * 0x1000 },
		{ l->f, 5 * 0x1000 },	/* A's page entries' index but for bit 8 of the slot */
	};
	enum { NAREA = sizeof(area) / sizeof(area[0]) };
	for (int k = 0; k < 20000; k++) {
		const uint64_t base = area[k % NAREA].base, size = area[k % NAREA].size;
		uint64_t va = base + (uint64_t)rand() % size;
		if (k % 5 == 0)		/* up to a page end, or just past it */
			va = (va | 0xfff) - 7 + (uint64_t)(rand() % 16);
		if (rand() % 2)
			va &= ~(uint64_t)7;
		size_t n = rand() % 3 ? 8 : 16;
		uint8_t want[16];
		size_t wn = 0;
		enum ich_miss_reason why = ICH_MISS_NONE;
		for (; wn < n; wn++) {
			why = pg_why(pg_state_of(l, va + wn));
			if (why != ICH_MISS_NONE)
				break;
			db_kd_phys_read(kd, db_kd_va_to_pa(kd, dtb, va + wn), &want[wn], 1);
		}
		check_read_kinds(as, va, n, want, wn, why, k);
	}
}

/* The cache holds a region's page only where the file holds all of it,
 * at the offset the builder wrote its frame to. */
static void pg_check_cache(struct db_kd *kd, uint64_t dtb, const struct pg_layout *l,
			   const struct ich_as *as, const uint8_t *file)
{
	const struct ich_as_window *w = (const void *)as;
	const struct ich_as_regions *rc = w->reg;
	const uint64_t regions[] = { l->a, l->b, l->c, l->dd, l->e };
	unsigned held = 0;
	/* each 2 MiB of a region (x86 non-PAE's 4 MiB regions: two slots) */
	for (size_t k = 0; k < 5 * (l->rs >> 21); k++) {
		uint64_t base = regions[k / (l->rs >> 21)] + (k % (l->rs >> 21) << 21);
		uint64_t r = base >> 21;
		size_t slot = r % ICH_AS_REG_SLOTS;
		if (rc->key[slot] != r)
			continue;
		held++;
		assert_null(rc->data[slot]);
		for (uint64_t i = 0; i < ICH_AS_REG_PAGES; i++) {
			uint64_t va = base + i * 0x1000;
			enum pg_state st = pg_state_of(l, va);
			const uint8_t *q = rc->page[slot * ICH_AS_REG_PAGES + i];
			if (st != PG_VALID && st != PG_TRANS) {
				assert_null(q);
				continue;
			}
			if (pg_state_of(l, va + 0xFFF) != st)
				assert_null(q);		/* the cut page */
			else if (q)
				assert_ptr_equal(q, file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, va)));
		}
	}
	assert_true(held >= 2);
}

/* Each place the out-of-line path fills the cache from, starting from a
 * slot it must take over: ich_as_read (kdump_paging.c paging_read),
 * read_u64 and peek (paging_peek), a streamed read (over D, whose frames
 * follow one another in the file: the page each out-of-line read starts
 * at, not the pages page_window's batch adds to the window after it).
 * Then a page is answered inline (ich_as_table_get: no call) exactly
 * when the file holds all of it, at the builder's file position. */
static void pg_check_sites(struct db_kd *kd, uint64_t dtb, const struct pg_layout *l,
			   struct ich_as *as, const uint8_t *file, uint64_t salt)
{
	for (int kind = 0; kind < 4; kind++) {
		uint64_t base = kind == 3 ? l->dd : l->a, other = kind == 3 ? l->a : l->dd;
		/* (D: its last 8 pages never read before: pg_check_reads
		 * reads its first 8, whose records the stream then meets) */
		uint64_t n = kind == 3 ? 16 : 18;
		/* the other region takes the slot */
		assert_int_equal(rd64(as, other + 0x10), (other + 0x10) * 0x9E3779B97F4A7C15ull ^ salt);
		assert_null(ich_as_table_get(as, base + 0x10, 8));
		/* kind 3: bit k set when the stream reached page k inside the
		 * window (a page page_window's batch put there: not cached),
		 * clear when the read went out of line (cached) */
		uint64_t batch = 0;
		/* kind 3: bit k set when the stream's read of page k's start
		 * went out of line (no record, not in the window) */
		uint64_t went3 = 0;
		if (kind == 3) {
			for (uint64_t va = base; va < base + n * 0x1000; va += 0x200) {
				if (!(va & 0xFFF) && ich_as_window_get(as, va, 8))
					batch |= 1ull << ((va - base) >> 12);
				else if (!(va & 0xFFF) && !rec_get(as, va, 8))
					went3 |= 1ull << ((va - base) >> 12);
				assert_int_equal(rd64(as, va), va * 0x9E3779B97F4A7C15ull ^ salt);
			}
			/* the stream was given windows of several pages */
			assert_true(batch != 0);
			assert_true(batch != (1ull << n) - 2);
		}
		for (uint64_t k = 0; k < n; k++) {
			uint64_t pg = k < 16 || kind == 3 ? k : l->npr - 18 + k;
			uint64_t va = base + pg * 0x1000 + 0x100, v = 0;
			enum pg_state st = pg_state_of(l, va);
			bool ok = st == PG_VALID || st == PG_TRANS;
			/* the window elsewhere (B's first page), so no read below
			 * is answered from it */
			assert_non_null(ich_as_peek_window(as, l->b + 0x10, 8));
			/* out of line unless its record answers (the region
			 * cache's slot is the other region's) */
			bool went = kind == 3 ? went3 >> pg & 1 : !rec_get(as, va, 8);
			if (kind == 0) {
				struct ich_read_result r;
				assert_int_equal(ich_as_read(as, va, &v, 8, &r), ok ? 8 : 0);
				if (!ok)
					assert_int_equal(r.why, pg_why(st));
			} else if (kind == 1) {
				struct ich_error *e = ich_as_read_u64(as, va, &v);
				assert_true(ok == !e);
				ich_error_destroy(e);
			} else if (kind == 2) {
				const uint8_t *q = ich_as_peek(as, va, 8);
				assert_true(ok == !!q);
				if (q)
					memcpy(&v, q, 8);
			}
			if (ok && kind < 3)
				assert_int_equal(v, va * 0x9E3779B97F4A7C15ull ^ salt);
			assert_non_null(ich_as_peek_window(as, l->b + 0x10, 8));
			/* the region cache: the pages read out of line, never
			 * those the stream met in page_window's batch */
			const uint8_t *q = reg_get(as, va, 8);
			bool full = ok && pg_state_of(l, va | 0xFFF) == st;
			const uint8_t *want = full ? file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, va)) + 0x100 : NULL;
			bool in_batch = pg < 64 && (batch >> pg & 1);
			bool read_out = full && !in_batch;
			if (full && went)
				assert_ptr_equal(q, want);
			else if (!full || in_batch)
				assert_null(q);
			else if (q)
				assert_ptr_equal(q, want);
			/* the records: those pages too; any other answer is
			 * still the page's own bytes (a record from an earlier
			 * read that no other page's has replaced), never one
			 * of a page that is not all in the file */
			const uint8_t *rq = rec_get(as, va, 8), *tq = ich_as_table_get(as, va, 8);
			if (read_out) {
				assert_ptr_equal(rq, want);
				assert_ptr_equal(tq, want);
			} else {
				if (rq || tq)
					assert_non_null(want);
				if (rq)
					assert_ptr_equal(rq, want);
				if (tq)
					assert_ptr_equal(tq, want);
			}
		}
		if (kind == 3) {
			/* D streamed again, its first pages now cached: the
			 * inline answers for those do not keep the stream from
			 * being given windows of several pages again after them
			 * (the first page it does not know is read out of line
			 * and page_window's batch follows) */
			uint64_t again = 0;
			for (uint64_t va = base; va < base + n * 0x1000; va += 0x200) {
				if (!(va & 0xFFF) && ich_as_window_get(as, va, 8))
					again |= 1ull << ((va - base) >> 12);
				/* (as nt_heap.c's walk peeks: moving the window) */
				const uint8_t *q = ich_as_peek_window(as, va, 8);
				assert_non_null(q);
				uint64_t v;
				memcpy(&v, q, 8);
				assert_int_equal(v, va * 0x9E3779B97F4A7C15ull ^ salt);
			}
			assert_true(again != 0);
		}
	}
	/* The window on a hit of the inline cache (addrspace.h): ich_as_peek
	 * and the copying reads leave it where it is (a random read leaves
	 * no store its next one waits on), ich_as_peek_window moves it to
	 * the page (nt_heap.c reads the window after it); the pointer is
	 * the same either way. */
	const struct ich_as_window *w = (const void *)as;
	int hits = 0;
	for (uint64_t pg = 0; pg < 8; pg++) {
		uint64_t va = l->dd + pg * 0x1000 + 0x100, v;	/* D: streamed last */
		const uint8_t *q = ich_as_table_get(as, va, 8);
		if (!q)
			continue;
		assert_non_null(ich_as_peek_window(as, l->b + 0x10, 8));
		uint64_t wb = w->base;
		assert_true(va - wb >= w->len);
		assert_ptr_equal(ich_as_peek(as, va, 8), q);
		assert_int_equal(w->base, wb);
		assert_null(ich_as_read_u64(as, va, &v));
		assert_int_equal(v, va * 0x9E3779B97F4A7C15ull ^ salt);
		assert_int_equal(ich_as_read(as, va, &v, 8, NULL), 8);
		assert_int_equal(w->base, wb);
		assert_ptr_equal(ich_as_peek_window(as, va, 8), q);
		assert_int_equal(w->base, va - 0x100);
		assert_int_equal(w->len, 0x1000);
		assert_ptr_equal(ich_as_window_get(as, va, 8), q);
		hits++;
	}
	assert_true(hits >= 2);
}

static void test_page_inline(void **state)
{
	(void)state;
	const struct { enum db_kd_arch arch; uint32_t build, type; } cases[] = {
		{ DB_KD_X64, 19045, DB_KD_BITMAP }, { DB_KD_X64, 19045, DB_KD_FULL },
		{ DB_KD_X86_PAE, 7601, DB_KD_BITMAP }, { DB_KD_X86_PAE, 7601, DB_KD_FULL },
		{ DB_KD_X86, 2600, DB_KD_BITMAP }, { DB_KD_X86, 2600, DB_KD_FULL },
	};
	srand(41);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		bool x64 = cases[c].arch == DB_KD_X64, x86 = cases[c].arch == DB_KD_X86;
		struct db_kd *kd = db_kd_new(cases[c].arch, cases[c].build, cases[c].type);
		uint64_t dtb = db_kd_kernel_dtb(kd);
		struct pg_layout l = { .bitmap = cases[c].type == DB_KD_BITMAP };
		l.rs = x86 ? 0x400000 : 0x200000;
		l.npr = l.rs / 0x1000;
		l.a = x64 ? 0xFFFFB80000000000ull : 0x90000000ull;
		l.b = l.a + l.rs;
		l.c = l.a + 2 * l.rs;
		/* the region 512 on (x86: before; 512 x 4 MiB on would pass
		 * 4 GiB) takes A's slot */
		l.dd = x86 ? l.a - 512 * l.rs : l.a + 512 * l.rs;
		l.e = l.dd + l.rs;
		l.f = l.a + 256 * 0x200000;
		/* A's pages one by one from the last: frames in reverse order */
		for (uint64_t i = l.npr; i-- > 0;)
			if (i != 9 && pg_state_of(&l, l.a + i * 0x1000) != PG_NOMAP)
				map(kd, dtb, l.a + i * 0x1000, 0x1000, 0x1000);
		map(kd, dtb, l.b, 4 * 0x1000, 0x1000);
		map(kd, dtb, l.c, 4 * 0x1000, 0x1000);
		map(kd, dtb, l.dd, 16 * 0x1000, 0x1000);
		map(kd, dtb, l.e, 3 * 0x1000, 0x1000);
		map(kd, dtb, l.f, 4 * 0x1000, 0x1000);
		/* page 9 at the last frame of RAM: the last page of the file */
		l.cut_pa = 0xFFFF000;
		if (db_kd_map_phys(kd, dtb, l.a + 9 * 0x1000, l.cut_pa, 0x1000, 0x1000))
			fail_msg("%s", db_error());
		for (uint64_t i = 0; i < l.npr; i++)
			if (pg_state_of(&l, l.a + i * 0x1000) != PG_NOMAP)
				pg_fill(kd, dtb, l.a + i * 0x1000, c);
		for (uint64_t i = 8; i < 16; i++)
			pg_fill(kd, dtb, l.dd + i * 0x1000, c);
		for (uint64_t i = 0; i < 8; i++) {
			if (i < 4) {
				pg_fill(kd, dtb, l.b + i * 0x1000, c);
				pg_fill(kd, dtb, l.c + i * 0x1000, c);
			}
			pg_fill(kd, dtb, l.dd + i * 0x1000, c);
			if (i < 3)
				pg_fill(kd, dtb, l.e + i * 0x1000, c);
			if (i < 4)
				pg_fill(kd, dtb, l.f + i * 0x1000, c);
		}
		assert_int_equal(db_kd_make_transition(kd, dtb, l.a + 0x1000), 0);
		assert_int_equal(db_kd_make_paged_out(kd, dtb, l.a + 0x2000,
						      x86 ? 0x12340080ull : PAGEFILE_PTE), 0);
		set_pte(kd, dtb, l.a + 0x3000, 0x80, x86);	/* protection 4, no offset */
		set_pte(kd, dtb, l.a + 0x4000, x86 ? 0xE1000400ull : 0xFFFF8A0000000400ull, x86);
		set_pte(kd, dtb, l.a + 0x5000, 0, x86);
		set_pte(kd, dtb, l.a + 0x6000, (0x70000ull << 12) | 0x63, x86);
		assert_int_equal(db_kd_make_transition(kd, dtb, l.a + 0x8000), 0);
		if (l.bitmap) {
			db_kd_exclude_page(kd, db_kd_va_to_pfn(kd, dtb, l.a + 0x7000));
			db_kd_exclude_page(kd, db_kd_va_to_pfn(kd, dtb, l.a + 0x8000));
			db_kd_exclude_page(kd, db_kd_pte_address(kd, dtb, l.c) >> 12);
		}
		/* two processes: the same user pages, other frames; P's page 1
		 * in transition, Q's page 2 paged out */
		uint64_t pp = db_kd_new_address_space(kd), pq = db_kd_new_address_space(kd);
		const uint64_t u = 0x00400000;
		map(kd, pp, u, 4 * 0x1000, 0x1000);
		map(kd, pq, u, 4 * 0x1000, 0x1000);
		for (uint64_t i = 0; i < 4; i++) {
			pg_fill(kd, pp, u + i * 0x1000, 0x5050);
			pg_fill(kd, pq, u + i * 0x1000, 0x5151);
		}
		assert_int_equal(db_kd_make_transition(kd, pp, u + 0x1000), 0);
		assert_int_equal(db_kd_make_paged_out(kd, pq, u + 0x2000,
						      x86 ? 0x12340080ull : PAGEFILE_PTE), 0);
		char *path = tmp_path();
		if (db_kd_write_file(kd, path))
			fail_msg("db_kd_write_file: %s", db_error());
		l.cut = db_kd_pfn_file_offset(kd, l.cut_pa >> 12) + 0x800;
		assert_int_equal(db_truncate_file(path, l.cut), 0);
		struct ich_dump *d = NULL;
		struct ich_error *err = ich_dump_open(path, &d);
		if (err)
			fail_msg("case %zu: %s", c, err->message);
		struct ich_as *as = ich_dump_as(d);
		const struct ich_as_window *w = (const void *)as;
		assert_non_null(w->reg);
		pg_check_reads(kd, dtb, &l, as);
		pg_check_cache(kd, dtb, &l, as, ich_dump_file_data(d));
		assert_true(rec_check_all(kd, dtb, d, as, l.rs) >= 8);
		pg_check_sites(kd, dtb, &l, as, ich_dump_file_data(d), c);
		rec_check_all(kd, dtb, d, as, l.rs);
		/* a page just read is answered inline (no call), the bytes the
		 * builder wrote; the pages that are not valid never */
		for (uint64_t i = 0; i < 16; i++) {
			uint64_t va = l.a + i * 0x1000 + 0x100;
			uint64_t v = 0;
			struct ich_error *e = ich_as_read_u64(as, va, &v);
			const uint8_t *q = ich_as_table_get(as, va, 8);
			enum pg_state st = pg_state_of(&l, va);
			if (i == 9) {
				/* cut short: read out of line every time */
				assert_null(e);
				assert_null(q);
				assert_int_equal(v, va * 0x9E3779B97F4A7C15ull ^ c);
			} else if (st == PG_VALID || st == PG_TRANS) {
				assert_null(e);
				assert_non_null(q);
				assert_memory_equal(q, &v, 8);
				assert_int_equal(v, va * 0x9E3779B97F4A7C15ull ^ c);
			} else {
				assert_non_null(e);
				ich_error_destroy(e);
				assert_null(q);
			}
		}
		/* a reused process space: Q reads its own pages, not P's */
		for (int round = 0; round < 2; round++) {
			struct ich_as *p;
			assert_null(ich_dump_process_as(d, pp, &p));
			for (int rep = 0; rep < 2; rep++)
				for (uint64_t i = 0; i < 4; i++)
					assert_int_equal(rd64(p, u + i * 0x1000 + 8),
							 (u + i * 0x1000 + 8) * 0x9E3779B97F4A7C15ull ^ 0x5050);
			ich_as_destroy(p);
			struct ich_as *q;
			assert_null(ich_dump_process_as(d, pq, &q));
			assert_ptr_equal(q, p);
			for (int rep = 0; rep < 2; rep++)
				for (uint64_t i = 0; i < 4; i++) {
					uint64_t va = u + i * 0x1000 + 8;
					if (i == 2)
						assert_int_equal(miss(q, va).why, ICH_MISS_PAGED_OUT);
					else
						assert_int_equal(rd64(q, va), va * 0x9E3779B97F4A7C15ull ^ 0x5151);
				}
			assert_int_equal(rd64(q, l.b + 16), (l.b + 16) * 0x9E3779B97F4A7C15ull ^ c);
			ich_as_destroy(q);
		}
		done(d, path);
		db_kd_free(kd);
	}
}

/* The inline records of a paged space (kdump_paging.c rec_page,
 * rec_region, rec_clear): a direct-mapped translation cache whose slot
 * is bucket (va >> 12) mod 65,536, whose own bounds check decides.
 * - Aliasing: two 4 KiB pages 256 MiB apart (one slot), read in turn:
 *   each read gets its own page's bytes, the slot holds the last one
 *   read out of line, and the other's record answers nothing.
 * - A 2 MiB page followed by 4 KiB pages whose frames lie elsewhere in
 *   the file (mapped first: lower frames): every bucket of the large
 *   page holds its record; the 8-byte reads up to its last byte are
 *   answered by it, the ones across its end are not and read the next
 *   page's bytes out of line.  A 4 KiB page's record stops at its end
 *   too (the page after it unmapped).
 * - Reuse: a process space that wrote more runs of records than its log
 *   keeps (kdump_paging.c REC_LOG) and one that wrote a few: the next
 *   process's space starts with every record empty and reads its own
 *   bytes at the same VAs. */
#define REC_P 0xFFFFB00000405000ull	/* its slot none of L's */
#define REC_L 0xFFFFA00000000000ull
#define REC_U 0x10000000ull
#define REC_NU 300u
static void test_records(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_BITMAP);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	const uint64_t P = REC_P, P2 = REC_P + 0x10000000ull;
	map(kd, dtb, REC_L + 0x200000, 0x2000, 0x1000);	/* frames below L's */
	map(kd, dtb, REC_L, 0x200000, 0x200000);
	map(kd, dtb, P, 0x1000, 0x1000);
	map(kd, dtb, P2, 0x1000, 0x1000);
	for (uint64_t o = 0; o < 0x1000; o += 8) {
		w64(kd, dtb, P + o, (P + o) * 0x9E3779B97F4A7C15ull);
		w64(kd, dtb, P2 + o, (P2 + o) * 0x9E3779B97F4A7C15ull);
	}
	for (uint64_t o = 0x1f0000; o < 0x202000; o += 8)
		w64(kd, dtb, REC_L + o, (REC_L + o) * 0x9E3779B97F4A7C15ull);
	uint64_t pa = db_kd_new_address_space(kd), pb = db_kd_new_address_space(kd);
	for (uint64_t i = 0; i < REC_NU; i++) {
		uint64_t va = REC_U + i * 0x2000;	/* a run of records each */
		map(kd, pa, va, 0x1000, 0x1000);
		w64(kd, pa, va + 8, pv('A', i, 8));
		if (i % 2) {
			map(kd, pb, va, 0x1000, 0x1000);
			w64(kd, pb, va + 8, pv('B', i, 8));
		}
	}
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *as = ich_dump_as(d);
	const struct ich_as_window *w = (const void *)as;
	const uint8_t *file = ich_dump_file_data(d);
	assert_non_null(w->dir_rec);
	assert_int_equal((P >> 12) % ICH_AS_DIR_SLOTS, (P2 >> 12) % ICH_AS_DIR_SLOTS);
	const uint8_t *fp = file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, P));
	const uint8_t *fp2 = file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, P2));
	for (int round = 0; round < 6; round++) {
		uint64_t x = round % 2 ? P2 : P, y = round % 2 ? P : P2;
		const uint8_t *fx = round % 2 ? fp2 : fp;
		for (uint64_t o = 0x10; o < 0x1000; o += 0x3f0)
			assert_int_equal(rd64(as, x + o), (x + o) * 0x9E3779B97F4A7C15ull);
		assert_ptr_equal(ich_as_table_get(as, x + 0x10, 8), fx + 0x10);
		/* the slot: the page last read out of line (from round 2
		 * on, the region cache answers both pages inline, so the
		 * slot keeps the one read last before) */
		uint64_t h = w->dir_rec[(x >> 12) % ICH_AS_DIR_SLOTS].start;
		assert_true(h == x || h == y);
		if (round < 2)
			assert_int_equal(h, x);
		uint64_t o2 = h == P ? P2 : P;
		const uint8_t *fh = h == P ? fp : fp2;
		assert_ptr_equal(rec_get(as, h + 0x10, 8), fh + 0x10);
		assert_null(rec_get(as, o2 + 0x10, 8));
		/* the page's last 8 bytes inline, nothing across its end */
		assert_ptr_equal(rec_get(as, h + 0xff8, 8), fh + 0xff8);
		for (uint64_t o = 0xff9; o < 0x1000; o++)
			assert_null(rec_get(as, h + o, 8));
		uint8_t b[16];
		struct ich_read_result r;
		assert_int_equal(ich_as_read(as, x + 0xffc, b, 16, &r), 4);
		assert_int_equal(r.why, ICH_MISS_NOT_MAPPED);
	}
	/* the large page: one read, then every bucket's slot */
	assert_int_equal(rd64(as, REC_L + 0x1f0008), (REC_L + 0x1f0008) * 0x9E3779B97F4A7C15ull);
	const uint8_t *fl = file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, REC_L));
	for (uint64_t b = 0; b < 512; b++) {
		const struct ich_as_dir_rec *r = &w->dir_rec[((REC_L >> 12) + b) % ICH_AS_DIR_SLOTS];
		assert_int_equal(r->start, REC_L);
		assert_int_equal(r->len, 0x200000);
		assert_int_equal(r->lim8, 0x200000 - 7);
		assert_ptr_equal(r->data, fl);
	}
	for (uint64_t va = REC_L + 0x1ffff0; va < REC_L + 0x200008; va++) {
		uint64_t want = 0;
		for (int k = 7; k >= 0; k--) {
			uint64_t a = va + (uint64_t)k, word = a & ~7ull;
			want = want << 8 | (uint8_t)((word * 0x9E3779B97F4A7C15ull) >> (8 * (a & 7)));
		}
		const uint8_t *q = rec_get(as, va, 8);
		if (va + 8 <= REC_L + 0x200000)
			assert_ptr_equal(q, fl + (va - REC_L));
		else if (va < REC_L + 0x200000)
			assert_null(q);		/* across the large page's end */
		else if (q)			/* the next page's own */
			assert_ptr_equal(q, file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, va)) + (va & 0xFFF));
		assert_int_equal(rd64(as, va), want);
		q = ich_as_table_get(as, va, 8);
		if (q) {
			uint64_t v;
			memcpy(&v, q, 8);
			assert_int_equal(v, want);
		}
	}
	assert_true(rec_check_all(kd, dtb, d, as, 0x200000) >= 512 + 2);
	/* reuse: A writes REC_NU runs (more than the log), B starts empty */
	for (int round = 0; round < 2; round++) {
		unsigned nread = round ? 5 : REC_NU;	/* round 1: the log */
		struct ich_as *p;
		assert_null(ich_dump_process_as(d, pa, &p));
		for (uint64_t i = 0; i < nread; i++)
			assert_int_equal(rd64(p, REC_U + i * 0x2000 + 8), pv('A', i, 8));
		assert_true(rec_check_all(kd, pa, d, p, 0x200000) >= nread);
		ich_as_destroy(p);
		struct ich_as *q;
		assert_null(ich_dump_process_as(d, pb, &q));
		assert_ptr_equal(q, p);
		assert_int_equal(rec_check_all(kd, pb, d, q, 0x200000), 0);
		for (uint64_t i = 0; i < nread; i++) {
			uint64_t va = REC_U + i * 0x2000 + 8;
			if (i % 2)
				assert_int_equal(rd64(q, va), pv('B', i, 8));
			else
				assert_int_equal(miss(q, va).why, ICH_MISS_NOT_MAPPED);
		}
		rec_check_all(kd, pb, d, q, 0x200000);
		ich_as_destroy(q);
	}
	done(d, path);
	db_kd_free(kd);
}

/* Transition entries of one page table at the edges of get_page's
 * 512-byte blocks, read by libaddrxlat and by translate's own PTE read (kdump_paging.c: a block with no transition entry goes
 * to libaddrxlat as it lies in the file, one with any goes as the whole
 * page, patched; libaddrxlat keeps what it got and reads later entries
 * from it).  A page table of 4 KiB pages, block 0 free of transition
 * entries, the others holding some at their first and last entry; the
 * pages of block 0 are read first (their block is kept by libaddrxlat),
 * then every page in order and in reverse.  Each page holds its index;
 * a transition page must read as the others do. */
static void check_transition_blocks(enum db_kd_arch arch, uint32_t build, uint64_t va, unsigned per_block,
				    unsigned npages, uint64_t pagefile_pte)
{
	struct db_kd *kd = db_kd_new(arch, build, DB_KD_FULL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	map(kd, dtb, va, (uint64_t)npages * 0x1000, 0x1000);
	for (unsigned i = 0; i < npages; i++)
		w32(kd, dtb, va + i * 0x1000ull + 0x10, 0x7e570000u + i);
	/* block 1's first and last entry, one inside block 3, the table's last */
	const unsigned tr[] = { per_block, 2 * per_block - 1, 3 * per_block + 5, npages - 1 };
	for (size_t t = 0; t < sizeof(tr) / sizeof(tr[0]); t++)
		assert_int_equal(db_kd_make_transition(kd, dtb, va + tr[t] * 0x1000ull), 0);
	/* x64: valid PTEs with the bits that are not the frame's set (NX,
	 * 52-62, PAT, 9-11: translate's own PTE read keeps bits 51:12 only) */
	if (arch == DB_KD_X64) {
		const unsigned hi[] = { 5, per_block + 7, npages - 2 };
		for (size_t t = 0; t < sizeof(hi) / sizeof(hi[0]); t++) {
			uint64_t pte_pa = db_kd_pte_address(kd, dtb, va + hi[t] * 0x1000ull), pte;
			db_kd_phys_read(kd, pte_pa, &pte, 8);
			pte |= 0xFFF0000000000E80ull;
			db_kd_phys_write(kd, pte_pa, &pte, 8);
		}
	}
	/* and one page paged out in block 2: a miss, as before */
	unsigned po = 2 * per_block + 1;
	assert_int_equal(db_kd_make_paged_out(kd, dtb, va + po * 0x1000ull, pagefile_pte), 0);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *as = ich_dump_as(d);
	for (unsigned i = 0; i < per_block; i++)
		assert_int_equal(rd32(as, va + i * 0x1000ull + 0x10), 0x7e570000u + i);
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned k = 0; k < npages; k++) {
			unsigned i = pass ? npages - 1 - k : k;
			if (i == po) {
				assert_int_equal(miss(as, va + i * 0x1000ull + 0x10).why, ICH_MISS_PAGED_OUT);
				continue;
			}
			assert_int_equal(rd32(as, va + i * 0x1000ull + 0x10), 0x7e570000u + i);
		}
	}
	done(d, path);
	db_kd_free(kd);
}

/* Reads at the top of the address space (review3): the last page of the
 * VA (2^64 - 4 KiB on x64 and ARM64, whose page-table walks take it) and
 * page 0 both mapped, with different bytes.  A read across 2^64 gets the
 * last page's bytes and stops there; it must not go on at VA 0 (before
 * the fix, paging_read's va = addr + done wrapped to 0 and appended page
 * 0's bytes: 16 of 16 read).  On x64 a read across the canonical hole
 * (0x00007FFFFFFFFFF8, 16 bytes) stops at 0x0000800000000000 the same
 * way; on 32-bit spaces a read across 4 GiB stops there. */
static void top_read(struct ich_as *as, uint64_t va, uint64_t want_lo)
{
	uint8_t b[16];
	memset(b, 0xEE, sizeof(b));
	struct ich_read_result r;
	assert_int_equal(ich_as_read(as, va, b, 16, &r), 8);
	assert_int_equal(r.nread, 8);
	assert_int_equal(r.why, ICH_MISS_NONCANONICAL);
	assert_int_equal(r.miss_addr, va + 8);
	uint64_t lo;
	memcpy(&lo, b, 8);
	assert_int_equal(lo, want_lo);
	assert_null(ich_as_peek(as, va, 16));
	uint64_t two[2];
	struct ich_error *err = ich_as_read_exact(as, va, two, 16);
	assert_non_null(err);
	ich_error_destroy(err);
}

static void test_top_of_space(void **state)
{
	(void)state;
	static const enum db_kd_arch arches[] = { DB_KD_X64, DB_KD_ARM64, DB_KD_X86_PAE, DB_KD_X86 };
	for (unsigned a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		bool is64 = arches[a] == DB_KD_X64 || arches[a] == DB_KD_ARM64;
		struct db_kd *kd = db_kd_new(arches[a], is64 ? 19045 : 7601, DB_KD_FULL);
		uint64_t dtb = db_kd_kernel_dtb(kd);
		const uint64_t top = is64 ? 0xFFFFFFFFFFFFF000ull : 0xFFFFF000ull;
		map(kd, dtb, top, 0x1000, 0x1000);
		map(kd, dtb, 0, 0x1000, 0x1000);
		w64(kd, dtb, top + 0xFF8, 0x1111111111111111ull);
		w64(kd, dtb, 0, 0x2222222222222222ull);
		if (arches[a] == DB_KD_X64) {
			map(kd, dtb, 0x00007FFFFFFFF000ull, 0x1000, 0x1000);
			w64(kd, dtb, 0x00007FFFFFFFFFF8ull, 0x3333333333333333ull);
		}
		char *path;
		struct ich_dump *d = write_open(kd, &path);
		struct ich_as *as = ich_dump_as(d);
		/* each page alone (and so each in the inline cache) */
		for (int i = 0; i < 2; i++) {
			assert_int_equal(rd64(as, 0), 0x2222222222222222ull);
			assert_int_equal(rd64(as, top + 0xFF8), 0x1111111111111111ull);
			top_read(as, top + 0xFF8, 0x1111111111111111ull);
			if (arches[a] == DB_KD_X64) {
				assert_int_equal(rd64(as, 0x00007FFFFFFFFFF8ull), 0x3333333333333333ull);
				top_read(as, 0x00007FFFFFFFFFF8ull, 0x3333333333333333ull);
			}
		}
		done(d, path);
		db_kd_free(kd);
	}
}

/* x86 non-PAE: a 4 MiB page one of whose frames (in its second 2 MiB
 * half) the bitmap leaves out is never cached inline as a flat page
 * (large_flat: the 4 MiB must lie in one piece of the file); its other
 * pages read right, out of line and then inline, the left-out one is a
 * miss every time, and the pages the inline cache holds are the
 * builder's frames. */
static void test_x86_large_hole(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X86, 2600, DB_KD_BITMAP);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	const uint64_t base = 0x80800000, hole = 0x80b00000;
	map(kd, dtb, base, 0x400000, 0x400000);
	for (uint64_t o = 0; o < 0x400000; o += 0x20000)
		w32(kd, dtb, base + o + 0x10, (uint32_t)(base + o));
	db_kd_exclude_page(kd, db_kd_va_to_pfn(kd, dtb, hole));
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *as = ich_dump_as(d);
	const struct ich_as_regions *rc = ((const struct ich_as_window *)(const void *)as)->reg;
	assert_non_null(rc);
	for (int i = 0; i < 3; i++)
		for (uint64_t o = 0; o < 0x400000; o += 0x20000) {
			uint64_t va = base + o + 0x10;
			if (va - 0x10 == hole)
				assert_int_equal(miss(as, va).why, ICH_MISS_NOT_CAPTURED);
			else
				assert_int_equal(rd32(as, va), (uint32_t)(base + o));
		}
	const uint8_t *file = ich_dump_file_data(d);
	for (uint64_t r = base >> 21; r < (base >> 21) + 2; r++) {
		size_t slot = r % ICH_AS_REG_SLOTS;
		assert_int_equal(rc->key[slot], r);
		assert_null(rc->data[slot]);
		for (uint64_t i = 0; i < ICH_AS_REG_PAGES; i++) {
			uint64_t va = (r << 21) + i * 0x1000;
			const uint8_t *q = rc->page[slot * ICH_AS_REG_PAGES + i];
			if (va == hole || (va - base) % 0x20000)
				assert_null(q);
			else
				assert_ptr_equal(q, file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, va)));
		}
	}
	done(d, path);
	db_kd_free(kd);
}

/* One inline slot taken in turn by a flat 2 MiB page (L) and by a region
 * of 4 KiB pages (S, 512 regions on: the same slot, the same 4 KiB entry
 * indices).  Each takeover must leave the slot answering for the region
 * that took it only: a large page's data dropped when S takes the slot
 * (else S's reads would get L's bytes), S's page entries unreachable
 * while L holds it and cleared (through the slot's log, or whole when it
 * overflows: 16 pages) when S takes it back. */
static void test_slot_large_and_pages(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_FULL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	const uint64_t L = 0xFFFFA00000000000ull, S = L + ((uint64_t)ICH_AS_REG_SLOTS << 21);
	const uint64_t X = 0xFFFFB00000000000ull + (1ull << 21);	/* another slot */
	map(kd, dtb, L, 0x200000, 0x200000);
	map(kd, dtb, S, 0x10000, 0x1000);
	map(kd, dtb, X, 0x1000, 0x1000);
	for (uint64_t o = 0; o < 0x20000; o += 0x800)
		w64(kd, dtb, L + o, L + o);
	for (uint64_t o = 0; o < 0x10000; o += 0x800)
		w64(kd, dtb, S + o, S + o);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *as = ich_dump_as(d);
	const struct ich_as_regions *rc = ((const struct ich_as_window *)(const void *)as)->reg;
	assert_non_null(rc);
	const size_t slot = (L >> 21) % ICH_AS_REG_SLOTS;
	assert_int_equal((S >> 21) % ICH_AS_REG_SLOTS, slot);
	const uint8_t *file = ich_dump_file_data(d);
	for (int round = 0; round < 4; round++) {
		/* S: 2 pages in even rounds (the log), all 16 in odd ones */
		uint64_t send = round % 2 ? 0x10000 : 0x2000;
		for (uint64_t o = 0; o < send; o += 0x800) {
			/* the window on X, so that each page of S is read out
			 * of line (and cached), none through a window
			 * page_window grew over it */
			assert_non_null(ich_as_peek_window(as, X, 8));
			assert_int_equal(rd64(as, S + o), S + o);
		}
		assert_int_equal(rc->key[slot], S >> 21);
		assert_null(rc->data[slot]);
		for (uint64_t o = 0; o < 0x20000; o += 0x800) {
			/* L's bytes at the same offsets are not S's: the
			 * region cache holds S, and L's records (the same
			 * slots: 1 GiB apart) only where S's pages have not
			 * replaced them, with L's bytes */
			assert_null(reg_get(as, L + o, 8));
			const uint8_t *lq = ich_as_table_get(as, L + o, 8);
			if (o < send || round == 0) {	/* (L not read yet) */
				assert_null(lq);
			} else {
				assert_non_null(lq);
				uint64_t v;
				memcpy(&v, lq, 8);
				assert_int_equal(v, L + o);
			}
			const uint8_t *q = ich_as_table_get(as, S + o, 8);
			if (o < send) {
				assert_non_null(q);
				uint64_t v;
				memcpy(&v, q, 8);
				assert_int_equal(v, S + o);
			} else {
				assert_null(q);
			}
		}
		for (uint64_t o = 0; o < 0x20000; o += 0x800)
			assert_int_equal(rd64(as, L + o), L + o);
		assert_int_equal(rc->key[slot], L >> 21);
		assert_ptr_equal(rc->data[slot], file + db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, L)));
		for (uint64_t o = 0; o < 0x10000; o += 0x800)
			assert_null(ich_as_table_get(as, S + o, 8));
	}
	/* S back: none of its earlier pages still answers before it is read */
	assert_non_null(ich_as_peek_window(as, X, 8));
	assert_int_equal(rd64(as, S + 0x8000), S + 0x8000);
	for (uint64_t i = 0; i < ICH_AS_REG_PAGES; i++)
		if (i != 8)
			assert_null(rc->page[slot * ICH_AS_REG_PAGES + i]);
	done(d, path);
	db_kd_free(kd);
}

/* x86 PAE with frames above 4 GiB (36-bit physical addresses): 4 KiB
 * pages (one in transition) and a 2 MiB page there read the builder's
 * bytes, out of line and inline; the 2 MiB page is cached flat at its
 * frame's file offset.  (The x64 PTE shortcut, kdump_paging.c
 * translate, is x64's only: a PAE region keeps no table pointer.) */
static void test_pae_high_frames(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X86_PAE, 7601, DB_KD_BITMAP);
	const struct db_kd_run runs[] = { { 1, 0x9e }, { 0x100, 0x700 }, { 0x100000, 0x800 } };
	assert_int_equal(db_kd_set_physical_runs(kd, runs, 3), 0);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	if (db_kd_map_phys(kd, dtb, 0x90000000, 0x100000000ull, 0x2000, 0x1000) ||
	    db_kd_map_phys(kd, dtb, 0x90200000, 0x100200000ull, 0x200000, 0x200000))
		fail_msg("%s", db_error());
	w32(kd, dtb, 0x90000010, 0xabcd0001);
	w32(kd, dtb, 0x90001ffc, 0xabcd0002);
	w32(kd, dtb, 0x903ffffc, 0xabcd0003);
	w32(kd, dtb, 0x90200000, 0xabcd0004);
	assert_int_equal(db_kd_make_transition(kd, dtb, 0x90001000), 0);
	assert_int_equal(db_kd_va_to_pa(kd, dtb, 0x903ffffc), 0x1003ffffcull);
	char *path;
	struct ich_dump *d = write_open(kd, &path);
	struct ich_as *as = ich_dump_as(d);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rd32(as, 0x90000010), 0xabcd0001);
		assert_int_equal(rd32(as, 0x90001ffc), 0xabcd0002);
		assert_int_equal(rd32(as, 0x903ffffc), 0xabcd0003);
		assert_int_equal(rd32(as, 0x90200000), 0xabcd0004);
	}
	const uint8_t *file = ich_dump_file_data(d);
	const uint8_t *q = ich_as_table_get(as, 0x90001ffc, 4);
	assert_ptr_equal(q, file + db_kd_pfn_file_offset(kd, 0x100001) + 0xffc);
	const struct ich_as_regions *rc = ((const struct ich_as_window *)(const void *)as)->reg;
	assert_ptr_equal(rc->data[(0x90200000 >> 21) % ICH_AS_REG_SLOTS], file + db_kd_pfn_file_offset(kd, 0x100200));
	done(d, path);
	db_kd_free(kd);
}

static void test_transition_blocks(void **state)
{
	(void)state;
	/* (the page-file offset: bits 32-63 on x64 and PAE, 12-31 on x86) */
	check_transition_blocks(DB_KD_X64, 19045, 0xFFFFB00000000000ull, 64, 512, PAGEFILE_PTE);
	check_transition_blocks(DB_KD_X86_PAE, 7601, 0x8a000000, 64, 512, PAGEFILE_PTE);
	check_transition_blocks(DB_KD_X86, 2600, 0x8a000000, 128, 1024, 0x12345080ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x64_bitmap_pages),
		cmocka_unit_test(test_transition_blocks),
		cmocka_unit_test(test_x64_bitmap_truncated),
		cmocka_unit_test(test_x64_full_holes),
		cmocka_unit_test(test_x64_streamed_window),
		cmocka_unit_test(test_x64_process_reuse),
		cmocka_unit_test(test_x64_streamed_cut),
		cmocka_unit_test(test_x64_stream_hint),
		cmocka_unit_test(test_x64_scattered_frames),
		cmocka_unit_test(test_x64_bitmap_rank),
		cmocka_unit_test(test_x64_full_runs_out_of_order),
		cmocka_unit_test(test_x64_large_inline),
		cmocka_unit_test(test_page_inline),
		cmocka_unit_test(test_x86_pae_pages),
		cmocka_unit_test(test_x86_nonpae_pages),
		cmocka_unit_test(test_top_of_space),
		cmocka_unit_test(test_x86_large_hole),
		cmocka_unit_test(test_slot_large_and_pages),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_pae_high_frames),
		cmocka_unit_test(test_container_kinds),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_first_page_near_2_64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
