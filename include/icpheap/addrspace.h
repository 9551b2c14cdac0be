/* SPDX-License-Identifier: MIT */
/*
 * Virtual address spaces: the one door through which walkers read dump
 * memory.  A minidump's space is its captured ranges; a kernel dump's is
 * kernel VA translated through the dump's page tables (libaddrxlat); a
 * process space in a complete dump uses that process's DirectoryTableBase.
 *
 * A read never fails silently: it says how many bytes it got and, for the
 * first missing byte, why.
 */
#ifndef ICPHEAP_ADDRSPACE_H
#define ICPHEAP_ADDRSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <icpheap/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_as;

/* The read path below is a few instructions that must land in the caller:
 * a call would cost more than the read (issue 12).  GCC stopped inlining
 * ich_as_read and ich_as_peek into the walkers when the range directory
 * made them longer, so they say so. */
#if defined(__GNUC__)
#define ICH_AS_INLINE_ static inline __attribute__((always_inline))
#else
#define ICH_AS_INLINE_ static inline
#endif

/* A range of user-mode virtual addresses [start, start + size). */
struct ich_user_range {
	uint64_t start, size;
};

/* Why a byte could not be read. */
enum ich_miss_reason {
	ICH_MISS_NONE = 0,	/* everything was read */
	ICH_MISS_NOT_CAPTURED,	/* the dump does not hold this memory */
	ICH_MISS_NOT_MAPPED,	/* no valid mapping in the page tables */
	ICH_MISS_PAGED_OUT,	/* PTE says the page is in a paging file */
	ICH_MISS_BEYOND_FILE,	/* the dump promises it, but the file is cut short */
	ICH_MISS_NONCANONICAL,	/* not a canonical address for the arch */
	ICH_MISS_PT_NOT_CAPTURED, /* a page-table page is not in the dump */
	ICH_MISS_DEMAND_ZERO,	/* software PTE with no paging-file offset:
				 * committed, never touched (reads as zero
				 * once touched; no data in any dump) */
	ICH_MISS_PROTOTYPE,	/* PTE refers to a prototype PTE (shared or
				 * section page; not resolved offline) */
};

struct ich_read_result {
	size_t nread;			/* bytes read from the start of the request */
	enum ich_miss_reason why;	/* why byte nread could not be read */
	uint64_t miss_addr;		/* address of that byte */
	uint64_t pte;			/* PTE value involved, when known (else 0) */
};

/* Human-readable reason, e.g. "not captured in this dump". */
const char *ich_miss_reason_str(enum ich_miss_reason why);
/* One-word name for JSON: "not_captured", "paged_out", "demand_zero"... */
const char *ich_miss_reason_name(enum ich_miss_reason why);

/* Pointer size in bytes of this address space: 4 or 8. */
unsigned ich_as_ptr_size(const struct ich_as *as);
/* Short description: "minidump memory", "kernel VA (DTB 0x1ad000)". */
const char *ich_as_name(const struct ich_as *as);

/*
 * The window: a stretch of the address space that lies contiguously in the
 * mapped file, bytes [base, base + len) at data.  It is the first member
 * of every address space, and the readers move it to the range (minidump)
 * or page (kernel dump) their last out-of-line lookup or
 * ich_as_peek_window resolved, so the walkers' small
 * reads of nearby headers below are a bounds check and a load, inline,
 * with no call and no copy (issue 12).  len 0: no window yet.
 */
struct ich_as_span {
	uint64_t len;		/* bytes of the segment in the file (0: none) */
	const uint8_t *data;	/* where its first byte lies in the mapping */
};

/* The inline region cache of a kernel dump's space (struct ich_as_window's
 * reg): VA regions of 2 MiB (addr >> ICH_AS_REG_SHIFT; x86 non-PAE's 4 MiB
 * regions are two of them), direct-mapped to ICH_AS_REG_SLOTS slots.  Slot
 * s holds region key[s] (ICH_AS_REG_EMPTY: none): a large page whose bytes
 * lie in one piece of the file (data[s]: its first byte in the mapping),
 * or, data[s] NULL, a region of 4 KiB pages whose entries are
 * page[(s << 9) + i]: where the region's page i starts in the mapping, or
 * NULL (not known, or not readable).  page[] comes first and is indexed
 * by (addr >> 12) & (ICH_AS_REG_SLOTS * 512 - 1), which is that entry:
 * its load needs only the address, not the slot's (one dependent load
 * fewer), and key, data and page are one base and three offsets (issue
 * 12: a random 4 KiB read was ~49 instructions). */
#define ICH_AS_REG_SHIFT 21
#define ICH_AS_REG_SLOTS 512u
#define ICH_AS_REG_PAGES 512u		/* 4 KiB pages a region */
#define ICH_AS_REG_EMPTY UINT64_MAX	/* never addr >> 21 */
struct ich_as_regions {
	const uint8_t *page[ICH_AS_REG_SLOTS * ICH_AS_REG_PAGES];
	uint64_t key[ICH_AS_REG_SLOTS];
	const uint8_t *data[ICH_AS_REG_SLOTS];
};

/* A bucket's record of the range directory (struct ich_as_window): one
 * segment, its start and its bytes in the file, len, at data; lim8 =
 * len - 7 (0 when len < 8),
 * so a read of at most 8 bytes at offset o lies inside it when o < lim8:
 * one compare.  32 bytes, two to a cache line. */
struct ich_as_dir_rec {
	uint64_t start;
	uint64_t lim8;
	uint64_t len;
	const uint8_t *data;
};

struct ich_as_window {
	uint64_t base;
	uint64_t len;
	const uint8_t *data;
	uint64_t lim8;		/* len - 7, 0 when len < 8: an 8-byte read at
				 * offset o is inside when o < lim8 (one
				 * compare: the window test of a read it
				 * misses costs 5 instructions, issue 12) */
	uint64_t ahead;		/* ich_as_read_ahead: requested up to here */
	/* The bytes of VA next_va to the end of its page, in the mapping,
	 * when a reader found them elsewhere in the file than after a
	 * window that ended there (a kernel dump's next page on a frame of
	 * its own: kdump_paging.c page_window); NULL: none.  They stay right
	 * while the space lives (a VA's bytes do not move), so a window
	 * that ends at next_va, however it got there, goes on at next: a
	 * walk requests its next lines across the cut (nt_heap.c
	 * sum_span).  Not moved with the window: a hit that moves it stores
	 * nothing more. */
	uint64_t next_va;
	const uint8_t *next;
	/* The space's range table, for spaces that are a list of ranges
	 * (minidumps, triage dumps): segment i starts at tab_start[i]
	 * (sorted ascending, segments disjoint) and its bytes that the file
	 * holds are tab_span[i].  Both arrays have two more entries after
	 * the tab_n segments: start UINT64_MAX, span length 0 (they end the
	 * directory's steps below and never hold a byte).  tab_n 0: no
	 * table. */
	const uint64_t *tab_start;
	const struct ich_as_span *tab_span;
	size_t tab_n;
	/* The table's directory: the VA cut into buckets of 2^dir_shift
	 * bytes, bucket B = addr >> dir_shift, which lives in slot B &
	 * (ICH_AS_DIR_SLOTS - 1) of dir and dir_rec.  The buckets from the
	 * first segment's to the last one's are at most ICH_AS_DIR_SLOTS
	 * (range_as.c build_dir), so no two of them share a slot; an address
	 * outside them shares a slot with one inside, where the bounds
	 * checks below decline it (no segment holds it).  A slot is a
	 * direct-mapped table's, not a range's, so the lookup needs no base
	 * and no count: one load of dir_pk (below), then the record
	 * (issue 12: each load of the space's fields a random read made
	 * cost ~0.05 of raw loads on mid.dmp; nine loads a read were ~0.5,
	 * six ~0.6, docs/dev-notes/2026-12-02/dir-slots.md).
	 * dir[s]: the last segment that starts at or before its bucket's
	 * first byte, so a read its record (below) does not hold finds its
	 * segment with one load and at most two compares (no binary search:
	 * its log2(n) dependent loads and compares were what separated a
	 * random read from a raw load, issue 12).  A bucket in which more
	 * than two segments start is marked ICH_AS_DIR_CROWDED: there the
	 * lookup is the binary search.  Only the buckets where a segment
	 * has bytes in the file are filled; the others stay zero (segment
	 * 0, a record of length 0), which the bounds checks decline, so a
	 * small dump touches a few pages of the tables, not all of them.
	 * dir_rec NULL (dir_pk 0): no directory (a table too large for
	 * one, or a kernel space whose records could not be mapped); then
	 * nothing is looked up in the table inline.  A kernel dump's space
	 * (reg below set, no range table: tab_n 0, dir NULL) has dir_rec
	 * only, dir_shift 12: a direct-mapped translation cache, slot
	 * (addr >> 12) mod ICH_AS_DIR_SLOTS holding the 4 KiB page, or the
	 * large page's 2 MiB (x86 non-PAE 4 MiB) region in one piece of the
	 * file, that the out-of-line path translated there
	 * (kdump_paging.c rec_page, rec_region); what its record declines
	 * goes to the window, then the region cache, never to dir. */
	const uint32_t *dir;
	/* dir_rec[s]: the segment with the most bytes in slot s's bucket
	 * itself (struct ich_as_dir_rec), so that a read inside it, the
	 * usual case, is the slot number, one load of its record and one
	 * compare, no dependent loads of the index, the two steps and the
	 * table after it (issue 12: ~26 instructions a random read instead
	 * of ~44; on 4,224 ranges ~0.4 -> ~0.6 of raw loads, docs/dev-notes/
	 * 2026-12-01/mdmp-read.md).  The copying reads and ich_as_peek ask
	 * it before the window (ich_as_get_).  What the record declines
	 * (another segment of the bucket, a read in a segment's last 7
	 * bytes through the one-compare form, a read across its end) goes
	 * to the window, then dir, the two steps and the table. */
	const struct ich_as_dir_rec *dir_rec;
	unsigned dir_shift;
	/* What the inline lookup reads of the directory, in one load:
	 * dir_rec's address (page-aligned) ORed with dir_shift -
	 * ICH_AS_DIR_REC_LOG2, the shift that gives a record's byte offset
	 * (ich_as_rec_find_); 0 when dir_rec is NULL.  One load fewer a
	 * read than the pointer and the shift apart (mid.dmp: ~0.55 ->
	 * ~0.65 of raw loads in dir-slots.md's experiment). */
	uint64_t dir_pk;
	/* Spaces translated through page tables (kernel dumps): the VA
	 * regions the out-of-line path has translated (struct
	 * ich_as_regions): a large page (2 MiB, 1 GiB, 4 MiB) whose bytes lie
	 * in one piece of the file, or the 4 KiB pages of the region it has
	 * found in the file (their start in the mapping, by page index), so
	 * a random read there is a load and a compare (large) or two loads
	 * and a compare (4 KiB) instead of a call, the TLB, the region cache
	 * and the physical run search (issue 12).  The second level after
	 * the records (dir_rec): 1 GiB of VA against their 256 MiB.  reg
	 * NULL: none; reg set: a paged space, which has no range table, so
	 * the inline path's record miss asks this, not dir. */
	const struct ich_as_regions *reg;
};

#define ICH_AS_DIR_CROWDED 0x80000000u
/* Slots of the directory (a power of two): the buckets of a space's
 * ranges are at most this many.  Its tables are mapped, not filled, so
 * the slots no range uses cost no memory. */
#define ICH_AS_DIR_SLOTS 65536u

/* log2 of sizeof(struct ich_as_dir_rec); a bucket is at least that many
 * bytes, so the record's offset in dir_rec is one shift and one AND of
 * the address (ich_as_rec_find_). */
#define ICH_AS_DIR_REC_LOG2 5

/* The directory slot of addr's bucket. */
ICH_AS_INLINE_ size_t ich_as_dir_slot(const struct ich_as_window *w, uint64_t addr)
{
	return (size_t)(addr >> w->dir_shift) & (ICH_AS_DIR_SLOTS - 1);
}

/* p, which points into the mapping, is not NULL: after inlining, the
 * caller's test of a hit's pointer then goes (one branch fewer a read). */
#if defined(__GNUC__)
#define ICH_AS_NONNULL_(p) do { if (!(p)) __builtin_unreachable(); } while (0)
#else
#define ICH_AS_NONNULL_(p) ((void)(p))
#endif

/* The bytes [addr, addr + n) inside the window, or NULL. */
ICH_AS_INLINE_ const uint8_t *ich_as_window_get(const struct ich_as *as,
					       uint64_t addr, size_t n)
{
	const struct ich_as_window *w = (const struct ich_as_window *)(const void *)as;
	uint64_t o = addr - w->base;
	if (__builtin_constant_p(n) && n == 8 ? o < w->lim8 : o < w->len && n <= w->len - o) {
		const uint8_t *p = w->data + o;
		ICH_AS_NONNULL_(p);
		return p;
	}
	return NULL;
}

/* Move the window *to to [base, base + len) at data. */
ICH_AS_INLINE_ void ich_as_window_to_(struct ich_as_window *to, uint64_t base, uint64_t len,
				     const uint8_t *data)
{
	to->base = base;
	to->len = len;
	to->data = data;
	to->lim8 = len >= 8 ? len - 7 : 0;
}

/* A hit of the inline lookup: byte o of the stretch [base, base + len) at
 * data (a segment of the range table, a large page, a 4 KiB page), where
 * the window moves when to is not NULL (the peeks that move it; the
 * copying reads pass NULL and store nothing).  The one place the lookup's
 * three kinds of hit move the window. */
ICH_AS_INLINE_ const uint8_t *ich_as_hit_(struct ich_as_window *to, uint64_t base, uint64_t len,
					  const uint8_t *data, uint64_t o)
{
	if (to)
		ich_as_window_to_(to, base, len, data);
	const uint8_t *p = data + o;
	ICH_AS_NONNULL_(p);
	return p;
}

/* Index of the last entry of the sorted start[0..n) that is <= addr, or 0
 * when there is none (the caller's bounds check then fails: addr -
 * start[0] wraps).  n > 0.  Branch-free: the loop runs log2(n) times
 * whatever addr is, each step a compare and a conditional move. */
static inline size_t ich_as_table_index(const uint64_t *start, size_t n, uint64_t addr)
{
	const uint64_t *b = start;
	while (n > 1) {
		size_t half = n / 2;
		b = b[half] <= addr ? b + half : b;
		n -= half;
	}
	return (size_t)(b - start);
}

/* Index of the segment that may hold addr: the last one that starts at or
 * before it, 0 when none does, or up to two past the last segment when
 * addr is UINT64_MAX (the padding entries: length 0); s is addr's slot
 * (ich_as_dir_slot), w->dir_rec not NULL.  Whatever it answers, the
 * caller's bounds check decides: the directory can only make a lookup
 * slower (a miss the out-of-line path then answers), never read a wrong
 * byte -- so a slot that is not addr's bucket's (addr outside the
 * ranges' buckets) or that was never filled (a bucket without a
 * segment's bytes) is harmless. */
ICH_AS_INLINE_ size_t ich_as_dir_index(const struct ich_as_window *w, size_t s, uint64_t addr)
{
	uint32_t d = w->dir[s];
	size_t i = d & ~ICH_AS_DIR_CROWDED;
	if (d & ICH_AS_DIR_CROWDED)
		i = ich_as_table_index(w->tab_start, w->tab_n, addr);
	/* at most two segments start inside a bucket that is not crowded;
	 * compare and add, no branch */
	i += w->tab_start[i + 1] <= addr;
	i += w->tab_start[i + 1] <= addr;
	return i;
}

/* The bytes [addr, addr + n) if a large page or a 4 KiB page in w's
 * region cache holds them all, else NULL; r is addr's region, addr >>
 * ICH_AS_REG_SHIFT.
 * A hit moves the window *to there when to is not NULL.
 *
 * A 4 KiB page that starts where the window ends is answered here too.
 * The first session's version left it to the out-of-line path, so that a
 * walk streaming forward over pages known here would still get its window
 * grown by page_window (kdump_paging.c) instead of moved one page at a
 * time; that check was 5 instructions and a load of every 4 KiB read.
 * Since page_window's batch no longer fills this cache, a stream's pages
 * known here are those where an earlier out-of-line read started, and a
 * stream that meets one goes on out of line at the first page after it
 * that is not known, where page_window grows the window again
 * (test_kdump_build test_page_inline: D streamed a second time). */
ICH_AS_INLINE_ const uint8_t *ich_as_region_get_(const struct ich_as_window *w, uint64_t r, uint64_t addr,
						 size_t n, struct ich_as_window *to)
{
	const struct ich_as_regions *c = w->reg;
	if (!c)
		return NULL;
	size_t s = (size_t)(r & (ICH_AS_REG_SLOTS - 1));
	if (c->key[s] != r)
		return NULL;
	const uint8_t *data = c->data[s];
	uint64_t o;
	if (data) {
		o = addr & (((uint64_t)1 << ICH_AS_REG_SHIFT) - 1);
		/* (for a constant n one compare of o with a constant) */
		if (n > (uint64_t)1 << ICH_AS_REG_SHIFT || o > ((uint64_t)1 << ICH_AS_REG_SHIFT) - n)
			return NULL;
		return ich_as_hit_(to, addr - o, (uint64_t)1 << ICH_AS_REG_SHIFT, data, o);
	}
	/* a region of 4 KiB pages */
	data = c->page[(addr >> 12) & (ICH_AS_REG_SLOTS * ICH_AS_REG_PAGES - 1)];
	o = addr & 0xFFF;
	if (!data || n > 0x1000 || o > 0x1000 - n)
		return NULL;
	return ich_as_hit_(to, addr - o, 0x1000, data, o);
}

/* Whether a read of n bytes at offset o of record r lies inside it: for
 * n known at compile time and at most 8 (the typed reads, the walkers'
 * header reads) one compare with lim8, which declines a read in the
 * record's last 7 bytes that the general form would take (the caller
 * then asks the table); for other n the two compares that do not wrap. */
ICH_AS_INLINE_ bool ich_as_rec_holds_(const struct ich_as_dir_rec *r, uint64_t o, size_t n)
{
	if (__builtin_constant_p(n) && n >= 1 && n <= 8)
		return o < r->lim8;
	return o < r->len && n <= r->len - o;
}

/* The bytes [addr, addr + n) if the record of addr's slot holds them
 * all, else NULL.  w->dir_pk not 0.  A hit moves the window *to there
 * when to is not NULL.  The record's place comes from the address and
 * dir_pk alone: a shift (x86 takes its count's low 6 bits, so dir_pk
 * serves as it is) and an AND give the byte offset (no slot number, no
 * multiply), another AND the table. */
ICH_AS_INLINE_ const uint8_t *ich_as_rec_find_(const struct ich_as_window *w,
					       uint64_t addr, size_t n, struct ich_as_window *to)
{
	uint64_t pk = w->dir_pk;
	uint64_t off = (addr >> (pk & 63)) & ((uint64_t)(ICH_AS_DIR_SLOTS - 1) << ICH_AS_DIR_REC_LOG2);
	const struct ich_as_dir_rec *r =
		(const struct ich_as_dir_rec *)(uintptr_t)((pk & ~(uint64_t)0xFFF) + off);
	uint64_t o = addr - r->start;
	if (!ich_as_rec_holds_(r, o, n))
		return NULL;
	return ich_as_hit_(to, r->start, r->len, r->data, o);
}

/* The bytes [addr, addr + n) if the segment that the index of addr's
 * slot and its two steps find holds them all in the file, else NULL.
 * w->dir_rec not NULL.  A hit moves the window *to there when to is not
 * NULL. */
ICH_AS_INLINE_ const uint8_t *ich_as_dir_find_(const struct ich_as_window *w,
					       uint64_t addr, size_t n, struct ich_as_window *to)
{
	size_t i = ich_as_dir_index(w, ich_as_dir_slot(w, addr), addr);
	uint64_t start = w->tab_start[i], o = addr - start;
	const struct ich_as_span *sp = &w->tab_span[i];
	if (o < sp->len && n <= sp->len - o)
		return ich_as_hit_(to, start, sp->len, sp->data, o);
	return NULL;
}

/* What the inline lookup asks after the records declined addr
 * (w->dir_pk not 0): a paged space's region cache (reg set: a large page
 * or a 4 KiB page), else a range space's index of addr's slot, its two
 * steps and the table (a range space with records has dir too).  The
 * test is of reg, not dir: the same answer, and GCC then hoists it
 * better in the walkers (callgrind, mid.dmp heap -s: 35.72 M
 * instructions against 36.03 M).  A hit moves the window *to_reg (the
 * region cache) or *to_tab (the table) there when not NULL. */
ICH_AS_INLINE_ const uint8_t *ich_as_after_rec_(const struct ich_as_window *w, uint64_t addr,
						size_t n, struct ich_as_window *to_tab,
						struct ich_as_window *to_reg)
{
	if (w->reg)
		return ich_as_region_get_(w, addr >> ICH_AS_REG_SHIFT, addr, n, to_reg);
	return ich_as_dir_find_(w, addr, n, to_tab);
}

/* The bytes [addr, addr + n) if one segment of the range table holds them
 * all in the file, else NULL (not in the table, straddling two segments,
 * past the end of the file: the out-of-line path then says why); in a
 * paged space the same from its bucket's record, then one large page or
 * 4 KiB page of the region cache.  With a directory: the bucket's record,
 * then the bucket's index, its two steps and the table.  A hit moves the
 * window *to there when to is not NULL; a hit that only the table gave
 * (the bucket's record declined it) moves *to_tab there when to_tab is
 * not NULL. */
ICH_AS_INLINE_ const uint8_t *ich_as_table_find_(const struct ich_as_window *w, uint64_t addr,
						 size_t n, struct ich_as_window *to,
						 struct ich_as_window *to_tab)
{
	if (!w->dir_pk)
		return ich_as_region_get_(w, addr >> ICH_AS_REG_SHIFT, addr, n, to);
	const uint8_t *p = ich_as_rec_find_(w, addr, n, to);
	return p ? p : ich_as_after_rec_(w, addr, n, to_tab, to);
}

/* The directory or region-cache lookup alone, without the window test
 * (the tests use it to see what the directory answers), moving the
 * window as the copying reads and ich_as_peek do (ich_as_get_): a hit of a
 * bucket's record or of the region cache
 * (kernel dumps) leaves the window where it is, so a random read leaves
 * no store that the next one's window test waits on, and the walkers'
 * nearby reads keep the window ich_as_peek_window put them in (issue
 * 12).  A hit that only the table gave moves the window to its segment:
 * the window is then a segment the records do not answer (a small range
 * that shares its bucket with a larger one), where the next reads are
 * the window's one compare instead of the index, two steps and the
 * table (bench/README.md "Random peeks on minidumps"). */
ICH_AS_INLINE_ const uint8_t *ich_as_table_get(struct ich_as *as, uint64_t addr, size_t n)
{
	struct ich_as_window *w = (struct ich_as_window *)(void *)as;
	return ich_as_table_find_(w, addr, n, NULL, w);
}

/* The inline part of every read but ich_as_peek_window.  A space with a
 * range directory: the bucket's record, then the window, then the
 * bucket's index and the table (ich_as_table_get's moves).  The record
 * comes first because a random read is usually its hit: bucket number,
 * one load, one compare, the bytes -- with the window first, a random
 * mix of window hits and record hits was a branch mispredicted on about
 * a read in four, and a window miss its test's instructions (issue 12,
 * docs/dev-notes/2026-12-01/mid-read2.md).  A paged space (kernel
 * dumps) the same with the region cache (large pages, 4 KiB pages) in
 * place of the index and the table: a random read is the same record
 * path (k4k.dmp ~0.42 -> ~0.55 of raw loads, docs/dev-notes/2026-12-02/
 * kread3.md).  Without records (their mapping failed): the window, then
 * the region cache. */
ICH_AS_INLINE_ const uint8_t *ich_as_get_(struct ich_as *as, uint64_t addr, size_t n)
{
	struct ich_as_window *w = (struct ich_as_window *)(void *)as;
	const uint8_t *p;
	if (w->dir_pk) {
		p = ich_as_rec_find_(w, addr, n, NULL);
		if (p)
			return p;
		p = ich_as_window_get(as, addr, n);
		return p ? p : ich_as_after_rec_(w, addr, n, w, NULL);
	}
	p = ich_as_window_get(as, addr, n);
	return p ? p : ich_as_region_get_(w, addr >> ICH_AS_REG_SHIFT, addr, n, NULL);
}

/* The same, moving the window to the segment, large page or 4 KiB page
 * found by every hit (what ich_as_peek_window does: a walker that peeks
 * at a header then reads the window itself, nt_heap.c sum_run, and
 * ich_as_read_ahead works in the window). */
ICH_AS_INLINE_ const uint8_t *ich_as_get_move_(struct ich_as *as, uint64_t addr, size_t n)
{
	const uint8_t *p = ich_as_window_get(as, addr, n);
	if (p)
		return p;
	struct ich_as_window *w = (struct ich_as_window *)(void *)as;
	return ich_as_table_find_(w, addr, n, w, w);
}

/* Hint that the n bytes from addr are about to be read by a walk that goes
 * forward and chains from one header to the next (each address decoded
 * from the one before, loads the CPU cannot run ahead of): keeps their
 * cache lines requested, as a read pass would stream them (issue 12).
 * Only inside the window; nothing is read or faulted in. */
static inline void ich_as_read_ahead(struct ich_as *as, uint64_t addr, size_t n)
{
	struct ich_as_window *w = (struct ich_as_window *)(void *)as;
	if (w->ahead < addr || w->ahead - addr > n)
		w->ahead = addr;
	for (; w->ahead - addr < n; w->ahead += 64) {
		const uint8_t *p = ich_as_window_get(as, w->ahead, 1);
		if (!p)
			break;
		__builtin_prefetch(p);
	}
}

/* Out-of-line paths, taken when the window does not hold the bytes. */
size_t ich_as_read_slow(struct ich_as *as, uint64_t addr, void *buf, size_t len,
			struct ich_read_result *res);
const void *ich_as_peek_slow(struct ich_as *as, uint64_t addr, size_t len);
const void *ich_as_peek_stream_slow(struct ich_as *as, uint64_t addr, size_t len, uint64_t end);
ICH_MUST_CHECK struct ich_error *ich_as_read_exact_slow(struct ich_as *as, uint64_t addr,
							void *buf, size_t len);

ICH_AS_INLINE_ uint64_t ich_as_load_le_(const uint8_t *p, size_t n)
{
	/* Windows targets are little-endian: one unaligned load on a
	 * little-endian host, a byte swap on a big-endian one. */
	uint64_t v = 0;
	if (n == 8) {
		memcpy(&v, p, 8);
	} else if (n == 4) {
		uint32_t x;
		memcpy(&x, p, 4);
		v = x;
	} else if (n == 2) {
		uint16_t x;
		memcpy(&x, p, 2);
		v = x;
	} else {
		return p[0];
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v) >> (64 - 8 * n);
#endif
	return v;
}

/* ich_as_read of a constant length up to 8 and the typed reads below go
 * out of line through a copy of the caller's bytes, which reads them
 * before they are filled (to give back unchanged what was not read): GCC
 * then says a caller's variable may be used uninitialized, which here is
 * only copied out and back. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

/*
 * Read up to len bytes at addr.  Stops at the first byte that cannot be
 * read; res (may be NULL) says how far it got and why.  Returns res->nread.
 */
ICH_AS_INLINE_ size_t ich_as_read(struct ich_as *as, uint64_t addr, void *buf,
				 size_t len, struct ich_read_result *res)
{
	const uint8_t *p = ich_as_get_(as, addr, len);
	if (!p || !len) {
		if (__builtin_constant_p(len) && len <= 8) {
			/* Through a copy of the caller's bytes (those past
			 * nread stay as they were): buf's address then never
			 * reaches an out-of-line call, so a caller's local
			 * (a pointer, a header word) can live in a register
			 * instead of a store and a load every read (issue
			 * 12: the two stores of bench_reader's read loop). */
			uint8_t tmp[8];
			memcpy(tmp, buf, len);
			size_t r = ich_as_read_slow(as, addr, tmp, len, res);
			memcpy(buf, tmp, len);
			return r;
		}
		return ich_as_read_slow(as, addr, buf, len, res);
	}
	memcpy(buf, p, len);
	if (res) {
		res->nread = len;
		res->why = ICH_MISS_NONE;
		res->miss_addr = addr + len;
		res->pte = 0;
	}
	return len;
}

/*
 * Zero-copy access: return a pointer to len contiguous bytes at addr if the
 * dump holds them contiguously in the mapped file, else NULL (use
 * ich_as_read then).  Valid until the dump is closed.
 *
 * The window moves as for the copying reads (ich_as_get_): not on
 * the usual hit, so a random peek leaves no store that the next one's
 * window test waits on (issue 12: moving it on every hit kept peek at
 * ~0.4 of raw loads on minidumps).  A walker that reads the window after
 * a peek (nt_heap.c) or keeps it ahead of a walk (ich_as_read_ahead)
 * uses ich_as_peek_window.
 */
ICH_AS_INLINE_ const void *ich_as_peek(struct ich_as *as, uint64_t addr, size_t len)
{
	const uint8_t *p = ich_as_get_(as, addr, len);
	return p ? p : ich_as_peek_slow(as, addr, len);
}

/*
 * ich_as_peek (same pointer, same lifetime), and on a hit the window is
 * moved to the stretch the lookup found addr in (the minidump segment,
 * the large page, the 4 KiB page and those streamed after it), so that
 * ich_as_window_get and ich_as_read_ahead work there until the next
 * lookup that moves it.  For walks that stay in one stretch of memory (a
 * heap segment's entries, nt_heap.c); random reads are faster with
 * ich_as_peek.
 */
ICH_AS_INLINE_ const void *ich_as_peek_window(struct ich_as *as, uint64_t addr, size_t len)
{
	const uint8_t *p = ich_as_get_move_(as, addr, len);
	return p ? p : ich_as_peek_slow(as, addr, len);
}

/*
 * ich_as_peek_window for a walk that goes on forward from addr to end (a
 * heap segment's chain of entries up to its next uncommitted range): when
 * the window does not hold addr, the reader may set it over the bytes up
 * to end that lie contiguous in the file at once, where it would
 * otherwise grow it by steps as the walk comes back for more (kernel
 * dumps: a translation batch per window, kdump_paging.c page_window).
 * end is a hint: the window never holds bytes a read would not return.
 */
ICH_AS_INLINE_ const void *ich_as_peek_stream(struct ich_as *as, uint64_t addr, size_t len, uint64_t end)
{
	const uint8_t *p = ich_as_window_get(as, addr, len);
	return p ? p : ich_as_peek_stream_slow(as, addr, len, end);
}

/* Read exactly len bytes or fail with ICH_ERR_FAULT and a message naming
 * the missing address and the reason ("0x... not captured in this dump"). */
ICH_MUST_CHECK ICH_AS_INLINE_ struct ich_error *ich_as_read_exact(struct ich_as *as, uint64_t addr,
						  void *buf, size_t len)
{
	const uint8_t *p = ich_as_get_(as, addr, len);
	if (!p)
		return ich_as_read_exact_slow(as, addr, buf, len);
	memcpy(buf, p, len);
	return NULL;
}

/* Little-endian typed reads (Windows targets are little-endian).  *out is
 * changed only on success.  The slow paths are out of line and get a
 * local copy of *out, not out (see ich_as_read). */
ICH_MUST_CHECK struct ich_error *ich_as_read_u8_slow(struct ich_as *as, uint64_t addr, uint8_t *out);
ICH_MUST_CHECK struct ich_error *ich_as_read_u16_slow(struct ich_as *as, uint64_t addr, uint16_t *out);
ICH_MUST_CHECK struct ich_error *ich_as_read_u32_slow(struct ich_as *as, uint64_t addr, uint32_t *out);
ICH_MUST_CHECK struct ich_error *ich_as_read_u64_slow(struct ich_as *as, uint64_t addr, uint64_t *out);
#define ICH_AS_TYPED_READ_(name, type, n)					\
ICH_MUST_CHECK ICH_AS_INLINE_ struct ich_error *name(struct ich_as *as, uint64_t addr, type *out) \
{										\
	const uint8_t *p = ich_as_get_(as, addr, n);				\
	if (!p) {								\
		/* through a local, as ich_as_read: out's address never	\
		 * reaches a call, so the caller's variable can stay in a	\
		 * register */							\
		type v_ = *out;							\
		struct ich_error *err_ = name##_slow(as, addr, &v_);		\
		*out = v_;	/* (its old value on failure) */		\
		return err_;							\
	}									\
	*out = (type)ich_as_load_le_(p, n);					\
	return NULL;								\
}
ICH_AS_TYPED_READ_(ich_as_read_u8, uint8_t, 1)
ICH_AS_TYPED_READ_(ich_as_read_u16, uint16_t, 2)
ICH_AS_TYPED_READ_(ich_as_read_u32, uint32_t, 4)
ICH_AS_TYPED_READ_(ich_as_read_u64, uint64_t, 8)
#undef ICH_AS_TYPED_READ_
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
/* Pointer of the space's size, zero-extended. */
ICH_MUST_CHECK struct ich_error *ich_as_read_ptr(struct ich_as *as, uint64_t addr, uint64_t *out);

/* Read a UTF-16LE string of at most max_bytes bytes at addr (stops at a NUL
 * unit) and return it as malloc'd UTF-8.  Unpaired surrogates become U+FFFD. */
ICH_MUST_CHECK struct ich_error *ich_as_read_utf16(struct ich_as *as, uint64_t addr,
				    size_t max_bytes, char **out);
/* Read a UNICODE_STRING (Length, MaximumLength, Buffer) at addr. */
ICH_MUST_CHECK struct ich_error *ich_as_read_unicode_string(struct ich_as *as, uint64_t addr,
					     char **out);

/*
 * Walk a LIST_ENTRY list whose head is at head: call fn for every entry
 * address (the address of the LIST_ENTRY in each node, not the head).
 * At most max entries; a Flink that revisits an entry (cycle), fails to
 * read, or a Blink that does not point back (when check_blink) ends the walk
 * with an ICH_ERR_FORMAT/ICH_ERR_FAULT error naming the entry.  fn may
 * return &ich_stop to end the walk early (then the walk returns NULL).
 * *count (may be NULL) receives the number of entries visited.
 */
typedef struct ich_error *ich_list_fn(uint64_t entry, void *arg);
ICH_MUST_CHECK struct ich_error *ich_as_list_walk(struct ich_as *as, uint64_t head,
				   size_t max, bool check_blink,
				   ich_list_fn *fn, void *arg, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
