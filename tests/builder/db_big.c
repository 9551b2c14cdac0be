/* SPDX-License-Identifier: MIT */
/*
 * Benchmark dumps: all captured memory is present, and every 8-byte word
 * holds its own virtual address, so a reader's results can be verified at
 * any address.  A LIST_ENTRY anywhere in such memory is an empty list
 * (Flink == Blink == its own address), which keeps list walks finite.
 * The metadata is laid out by the ordinary writers (db_md_write,
 * db_kd_write_file); the data is then streamed in 1 MiB writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "db_internal.h"

#define CHUNK (1u << 20)
#define RANGE (64ull << 20)

static int stream_words(const char *path, uint64_t file_off, uint64_t va, uint64_t size)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return db_fail("%s: open: %s", path, strerror(errno));
	uint8_t *buf = db_xmalloc(CHUNK);
	int rc = 0;
	for (uint64_t pos = 0; pos < size && rc == 0; pos += CHUNK) {
		uint64_t n = size - pos < CHUNK ? size - pos : CHUNK;
		for (uint64_t i = 0; i < n; i += 8)
			db_put64(buf + i, va + pos + i);
		rc = db_pwrite_all(fd, buf, (size_t)n, file_off + pos, path);
	}
	free(buf);
	if (close(fd) != 0 && rc == 0)
		rc = db_fail("%s: close: %s", path, strerror(errno));
	return rc;
}

int db_write_big_minidump(const char *path, uint64_t size)
{
	return db_write_big_minidump_ranges(path, size, 0);
}

/* range 0: 64 MiB ranges back to back (the reader merges them into one
 * segment).  Else ranges of that many bytes with a one-page hole in VA
 * after each, so every range stays its own segment: the shape of a real
 * process dump's thousands of ranges (issue 12: open and lookup cost). */
int db_write_big_minidump_ranges(const char *path, uint64_t size, uint64_t range)
{
	if (!size || size % DB_PAGE_SIZE || range % DB_PAGE_SIZE)
		return db_fail("big minidump size 0x%llx and range size 0x%llx must be multiples of 4 KiB (size non-zero)",
			       (unsigned long long)size, (unsigned long long)range);
	uint64_t gap = range ? DB_PAGE_SIZE : 0;
	if (!range)
		range = RANGE;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	size_t nr = 0;
	for (uint64_t off = 0; off < size; off += range, nr++) {
		uint64_t n = size - off < range ? size - off : range;
		db_md_add_memory(md, DB_BIG_MD_BASE + off + nr * gap, n, DB_LIST_64);
	}
	/* The stack sits in the first range: MINIDUMP_THREAD's Stack RVA is
	 * 32-bit, so it must point below 4 GiB. */
	uint32_t stack = size >= 0x20000 ? 0x4000 : (uint32_t)size / 2;
	uint64_t stack_start = DB_BIG_MD_BASE + (size >= 0x20000 ? 0x10000 : 0);
	if (gap) {
		/* inside the first range, so it needs no range of its own
		 * (whose bytes would not be the words of the big data) */
		stack_start = DB_BIG_MD_BASE;
		if (stack > range)
			stack = (uint32_t)range;
	}
	db_md_add_thread(md, &(struct db_md_thread){
		.id = 0x1000, .teb = DB_BIG_MD_BASE, .stack_start = stack_start,
		.stack_size = stack });
	db_md_add_module(md, &(struct db_md_module){
		.name = "C:\\bench\\bench.exe", .base = 0x140000000ull, .size = 0x10000,
		.file_version = { 1, 0, 0, 0 } });
	int rc = db_md_write(md, path);
	for (size_t i = 0; i < nr && rc == 0; i++) {
		uint64_t off = i * range;
		uint64_t n = size - off < range ? size - off : range;
		rc = stream_words(path, db_md_range_rva(md, i, DB_LIST_64),
				  DB_BIG_MD_BASE + off + i * gap, n);
	}
	db_md_free(md);
	return rc;
}

int db_write_big_kernel(const char *path, uint64_t size)
{
	return db_write_big_kernel_pages(path, size, 0x200000);
}

/* The words of [va, va + size) where the page tables of dtb put them in
 * the file just written: one stream per stretch of pages whose frames
 * follow one another in the file. */
static int stream_mapped_words(struct db_kd *kd, const char *path, uint64_t dtb, uint64_t va,
			       uint64_t size)
{
	int rc = 0;
	for (uint64_t o = 0; o < size && rc == 0;) {
		uint64_t off = db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, va + o));
		if (off == UINT64_MAX)
			return db_fail("big kernel dump: 0x%llx is not in the file",
				       (unsigned long long)(va + o));
		uint64_t n = DB_PAGE_SIZE;
		while (o + n < size &&
		       db_kd_pfn_file_offset(kd, db_kd_va_to_pfn(kd, dtb, va + o + n)) == off + n)
			n += DB_PAGE_SIZE;
		rc = stream_words(path, off, va + o, n);
		o += n;
	}
	return rc;
}

int db_write_big_kernel_pages(const char *path, uint64_t size, uint64_t page_size)
{
	if (page_size != 0x1000 && page_size != 0x200000)
		return db_fail("big kernel dump page size 0x%llx: 4 KiB or 2 MiB",
			       (unsigned long long)page_size);
	if (!size || size % 0x200000)
		return db_fail("big kernel dump size 0x%llx must be a non-zero multiple of 2 MiB",
			       (unsigned long long)size);
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_BITMAP);
	/* 4 KiB pages: one page table per 2 MiB, allocated before the
	 * region's frames once the first run is used up */
	uint64_t tables = page_size == 0x1000 ? size / 0x200000 + 2 : 0;
	struct db_kd_run runs[] = {
		{ 0x1, 0x9E },
		{ 0x100, DB_BIG_KD_FIRST_PFN - 0x100 + size / DB_PAGE_SIZE + tables },
	};
	int rc = db_kd_set_physical_runs(kd, runs, 2);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	if (rc == 0)
		rc = db_kd_map(kd, dtb, DB_BIG_KD_VA, size, page_size);
	if (rc == 0 && page_size == 0x200000 &&
	    db_kd_va_to_pfn(kd, dtb, DB_BIG_KD_VA) != DB_BIG_KD_FIRST_PFN)
		rc = db_fail("big kernel dump: data did not start at PFN 0x%llx",
			     (unsigned long long)DB_BIG_KD_FIRST_PFN);
	struct db_kd_header *h = db_kd_header(kd);
	h->ps_active_process_head = DB_BIG_KD_VA + 0x1000;
	h->ps_loaded_module_list = DB_BIG_KD_VA + 0x2000;
	h->bugcheck_code = 0xE2;		/* MANUALLY_INITIATED_CRASH */
	h->comment = "icpheap benchmark dump";
	if (rc == 0)
		rc = db_kd_write_file(kd, path);
	if (rc == 0 && page_size == 0x200000) {
		/* The data frames are contiguous in the bitmap file. */
		uint64_t off = db_kd_pfn_file_offset(kd, DB_BIG_KD_FIRST_PFN);
		uint64_t last = db_kd_pfn_file_offset(kd, DB_BIG_KD_FIRST_PFN +
							 size / DB_PAGE_SIZE - 1);
		if (last - off != size - DB_PAGE_SIZE)
			rc = db_fail("big kernel dump: data frames are not contiguous");
		else
			rc = stream_words(path, off, DB_BIG_KD_VA, size);
	} else if (rc == 0) {
		rc = stream_mapped_words(kd, path, dtb, DB_BIG_KD_VA, size);
	}
	db_kd_free(kd);
	return rc;
}
