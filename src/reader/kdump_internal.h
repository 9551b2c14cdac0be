/* SPDX-License-Identifier: MIT */
/* Shared state of the kernel-dump reader files (kdump*.c). */
#ifndef ICPHEAP_KDUMP_INTERNAL_H
#define ICPHEAP_KDUMP_INTERNAL_H

#include "reader/reader.h"

/* A block of the rank index (kd_priv rank_cum): 512 frames, the bitmap's
 * 8 words of them (one cache line). */
#define KD_RANK_BLK_SHIFT 9
#define KD_RANK_BLK_WORDS 8u

/* PFNs [pfn, pfn+count) are stored from file offset file_off. */
struct kd_run {
	uint64_t pfn, count, file_off;
};

struct kd_priv {
	struct kd_run *runs;	/* sorted by pfn, built once at open */
	size_t nruns, cap;
	/* The runs by 2 MiB block of physical memory (kd_index_runs): the
	 * runs that start below block b's first frame are runs[0 ..
	 * blk_first[b]), for b up to nblk + 1 (the runs all start in blocks
	 * below nblk: the last two entries are nruns), so a lookup searches
	 * only its block's runs.  NULL: no index (a PFN space too large for
	 * it), the search is over all. */
	uint32_t *blk_first;
	uint64_t nblk;
	/* Bitmap dumps (SDMP/FDMP): the page of the k-th bit set is at
	 * rank_first + 0x1000 k, so a frame's file offset is the count of
	 * bits set before it (its rank).  rank_cum[b] counts those below
	 * PFN 512 b, for the blocks of the bitmap's rank_words whole 64-bit
	 * words at rank_bm (in the mapping); the words of pfn's block before
	 * its own, and its own below it, give the rest (kd_phys_lookup).
	 * NULL: no rank index (another format, or a bitmap too large). */
	uint64_t *rank_cum;
	const uint8_t *rank_bm;
	uint64_t rank_words, rank_first;
	/* Bitmap dumps cut short: runs stop where the file ends (so a hostile
	 * bitmap cannot make more runs than the file has pages); a set bit at
	 * or after beyond_pfn is a page promised but not in the file. */
	const uint8_t *bitmap;	/* NULL unless truncated bitmap dump */
	uint64_t bitmap_bits, beyond_pfn;
	/* A destroyed process address space kept for the next one
	 * (kdump_paging.c); freed at close. */
	struct paging_as *spare;
};

/* Physical address -> file offset; returns the contiguous byte count (0
 * with *why set when the frame is not in the file). */
uint64_t kd_phys_lookup(const struct ich_dump *dump, uint64_t pa, uint64_t *file_off,
			enum ich_miss_reason *why);

/* kdump_paging.c: a VA space through the page tables rooted at dtb; a
 * process's (process true) is the dump's spare one when there is one, and
 * becomes the spare when destroyed.  kd_paging_drop_spare frees it. */
struct ich_error *kd_paging_create(struct ich_dump *dump, uint64_t dtb, const char *name,
				   bool process, struct ich_as **ret);
void kd_paging_drop_spare(struct kd_priv *p);

/* kdump_phys.c: appends PFNs [pfn, pfn+n) at file offset off (merging
 * with the last run when contiguous); false when out of memory. */
bool kd_add_run(struct kd_priv *p, uint64_t pfn, uint64_t n, uint64_t off);
/* kdump_phys.c: bitmap (SDMP/FDMP) and RDMP dumps, 64- and 32-bit: the
 * runs of p and kd->first_page_offset / present_pages / total_pages /
 * expected_file_size. */
struct ich_error *kd_phys_bitmap(struct ich_dump *dump, struct kd_priv *p);
struct ich_error *kd_phys_rdmp(struct ich_dump *dump, struct kd_priv *p);
/* kdump_phys.c: DumpType 2 summary dumps (SUMMARY_DUMP32 / 64). */
struct ich_error *kd_phys_summary(struct ich_dump *dump, struct kd_priv *p);
/* ARM64: why a DirectoryTableBase (a TTBR value) cannot be walked, or
 * NULL when it can (kdump_paging.c). */
const char *kd_arm64_dtb_refusal(uint64_t dtb);

/* kdump_triage.c: TRIAGE_DUMP64 and its data blocks as a VA range space. */
struct ich_error *kd_triage_open(struct ich_dump *dump);

#endif
