/* SPDX-License-Identifier: MIT */
/*
 * Kernel (and process) virtual address spaces of kernel dumps: page walks
 * through the tables rooted at a DirectoryTableBase, done by libaddrxlat
 * (x64 4-level with 2 MiB / 1 GiB pages, x86 PAE, x86 non-PAE with 4 MiB
 * pages, AArch64 with a 4 KiB granule and 48-bit VA).  icpheap only feeds
 * it physical pages.
 *
 * ARM64 (MachineImageType 0xAA64).  libaddrxlat's ADDRXLAT_PTE_AARCH64
 * walks VMSAv8-64 long descriptors (Arm ARM DDI 0487 D8.3: bit 0 valid,
 * bit 1 table/page vs. block, output address 47:12).  Windows on ARM64
 * uses 4 KiB pages and a 48-bit VA; a process's DirectoryTableBase is
 * taken as the physical address of one level-0 table that serves both
 * halves -- user addresses (TTBR0, VA bits 63:48 zero) through entries
 * 0-255 and kernel addresses (TTBR1, bits 63:48 all ones) through 256-511,
 * as the x64 PML4 does.  That is derived, not documented: Connor McGarr,
 * "Windows ARM64 Internals" (connormcgarr.github.io/arm64-windows-internals-basics)
 * describes a self-referencing level-0 entry "like self-reference PML4";
 * the run-time checks (KDBG's OwnerTag, PsActiveProcessHead's list, the
 * kernel model's invariants) confirm or refute it on a real dump.  What
 * is refused, naming the value: a DTB that is not a 4 KiB-aligned table
 * base (bits 11:1 set; TTBR bit 0 is CnP and bits 63:48 the ASID, both
 * dropped), and VAs whose bits 63:48 are neither all zero nor all one
 * (not a 48-bit VA).  Invalid ARM64 PTEs are reported as "not mapped"
 * with their value: Windows's ARM64 software-PTE formats (paged out,
 * transition, prototype) are not documented, so they are not decoded and
 * transition pages are not read.
 *
 * Windows transition PTEs (Valid 0, Prototype bit 10 clear, Transition bit
 * 11 set) still name a frame in RAM, so the page-table pages handed to
 * libaddrxlat are patched to present them as valid.  A failed walk says
 * why: no mapping, paged out, a page-table page missing from the dump.
 * A direct-mapped VA->PA cache keeps repeated reads off the walk, and a
 * region cache (2 MiB / 4 MiB of VA -> its page table or large page)
 * makes a TLB miss one libaddrxlat step instead of a full walk.  The
 * read path in addrspace.h answers inline from two more: the records
 * (struct ich_as_dir_rec, a direct-mapped translation cache of 4 KiB
 * buckets read as a minidump's range records are: the record's pointer
 * and shift in one load, the record, the data; rec_page, rec_region) and
 * behind them a cache by region: a large page lying in one piece of the
 * file (large_flat), or the 4 KiB pages of the region the walk has found
 * in full in the file (page_known), so a random read there is no call
 * (issue 12).  Both only ever hold what the walk here answered, so the
 * walk's rules (transition, prototype, paged out, a missing table or
 * frame, a file cut short) are the only ones.
 *
 * A process's space, once destroyed, is kept by its dump (one spare) and
 * handed to the next process's space of the same dump: `analyze
 * --processes all` opens one per process, one after the other, and
 * allocating, zeroing and freeing ~210 KiB of caches each time made glibc
 * shrink and regrow its heap (brk, a TLB flush and fresh page faults) and
 * rescan every page-table page for transition entries (issue 12).  What
 * depends on the DTB (the TLB, the region cache, the resumable step, the
 * window) is cleared for the new process; what depends only on physical
 * pages of this dump (which table pages hold transition entries, their
 * patched copies) is kept.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include <libkdumpfile/addrxlat.h>

#include "core/endian.h"
#include "reader/kdump_internal.h"
#include "reader/x86_pte.h"

#define PAGE 0x1000u
#define TLB_SIZE 1024u		/* direct-mapped VA page -> PA page */
#define FIX_SLOTS 8		/* patched page-table pages kept around */
#define MEMO_SIZE 4096		/* table blocks known to need (no) patching */
#define PT_BLOCK 0x200u		/* what get_page scans and hands out: 64 entries */
#define PTC_SIZE 4096		/* direct-mapped region cache (8 GiB of 2M regions) */
#define PTC_LOG 64		/* region-cache slots a reuse clears one by one */
#define REG_SLOTS ICH_AS_REG_SLOTS	/* inline region cache (1 GiB of 2M regions) */
#define PAGES_ALIGN 0x200000u	/* its 4 KiB pages' table: one large page */
#define PG_LOG 7		/* pages a slot's takeover clears one by one */
#define REC_SLOTS ICH_AS_DIR_SLOTS	/* inline records (256 MiB of 4 KiB buckets) */
#define REC_SHIFT 12		/* a record's bucket: one 4 KiB page of VA */
#define REC_LOG 256		/* record runs a reuse clears one by one */

enum pt_kind { PT_X64, PT_PAE, PT_X86, PT_ARM64 };

#define ARM64_TTBR_BADDR 0x0000FFFFFFFFF000ull	/* 4 KiB granule, 48-bit PA */

const char *kd_arm64_dtb_refusal(uint64_t dtb)
{
	if (dtb & 0xFFEull)
		return "bits 11:1 are set, so it is not the 4 KiB-aligned level-0 table of a 4 KiB-granule, 48-bit-VA, 4-level walk (the only ARM64 form translated)";
	if (!(dtb & ARM64_TTBR_BADDR))
		return "no table address";
	return NULL;
}

struct tlb_entry {
	uint64_t vpage;		/* VA >> 12, plus 1 (0 = empty) */
	uint64_t ppage;		/* PA >> 12 */
};

struct fix_slot {
	uint64_t pa;		/* page address + 1 (0 = empty) */
	uint8_t buf[PAGE];
};

struct scan_memo {
	uint64_t pa;		/* block address + 1 (0 = empty) */
	bool need_fix;
};

/* Where a 2 MiB (x64, PAE) / 4 MiB (x86) region's walk ends up: its page
 * table (a TLB miss there resumes libaddrxlat's walk at the last level,
 * one addrxlat_step instead of four) or the RAM of the large page it lies
 * in (no walk at all). */
struct pt_cache_entry {
	uint64_t region;	/* va >> region_shift, plus 1 (0 = empty) */
	uint64_t pa;		/* page table, or the region's RAM if large */
	bool large;
	/* large: where the whole region lies in the file when it lies in
	 * one piece (one run of frames, all in the file), else NULL */
	const uint8_t *flat;
	/* not large, x64: the page table's 4 KiB as they lie in the file
	 * (NULL: not all of it in the file, or not x64); translate reads
	 * the region's PTEs from here (x64_pte) */
	const uint8_t *table;
};

struct paging_as {
	struct ich_as as;
	enum pt_kind kind;
	uint64_t dtb;
	addrxlat_ctx_t *ctx;
	addrxlat_cb_t *cb;
	addrxlat_meth_t meth;
	/* set by the get_page callback when a table page is not readable */
	enum ich_miss_reason pt_miss;
	struct tlb_entry tlb[TLB_SIZE];
	struct fix_slot *fix;	/* FIX_SLOTS */
	struct scan_memo memo[MEMO_SIZE];
	unsigned fix_next;
	unsigned region_shift;	/* 21 (x64, PAE) or 22 (x86) */
	unsigned pte_bits;	/* 9 or 10: width of the PTE index */
	struct pt_cache_entry *ptc;	/* PTC_SIZE */
	/* libaddrxlat's state just before it reads a last-level PTE (remain
	 * 2); a resumed walk is this with base = the region's page table */
	addrxlat_step_t pt_step;
	bool have_pt_step;
	/* Streamed reads (page_window): where the last window ended, and how
	 * many windows in a row started there. */
	uint64_t seq_next;
	unsigned seq_run;
	/* A process's space, parked by its dump when destroyed and reused
	 * (the top of this file); the region-cache slots it filled, so a
	 * reuse clears those instead of the whole cache (more than PTC_LOG:
	 * all of it). */
	bool reusable;
	/* get_page's last table block that needed no patching: its address + 1
	 * (0: none) and where it lies in the mapping.  A streamed walk asks
	 * for the same block of its page table for 64 pages in a row; this
	 * spares the file lookup and the memo for all but the first (issue
	 * 12).  Depends only on the dump, so a reuse keeps it. */
	uint64_t gp_pa;
	const uint8_t *gp_page;
	unsigned ptc_nlog;
	uint16_t ptc_log[PTC_LOG];
	/* The inline region cache (struct ich_as_window's reg, addrspace.h
	 * struct ich_as_regions): 2 MiB of 4 KiB page entries (512 slots x
	 * 512 pages x 8 bytes; x86 non-PAE's 4 MiB regions take two slots),
	 * then the slots' keys and large pages (8 KiB), one anonymous
	 * mapping made with the space.  Of the entries only a slot's 4 KiB
	 * is written (and so committed) when a region of 4 KiB pages takes
	 * it.  Kept on reuse (the slots' keys are emptied), with pg_log.
	 * NULL (the mapping failed): every read goes out of line. */
	struct ich_as_regions *rc;
	/* The inline records (struct ich_as_window's dir_rec, addrspace.h
	 * struct ich_as_dir_rec): a direct-mapped translation cache, the
	 * slot of bucket addr >> REC_SHIFT holding the 4 KiB page that the
	 * out-of-line path found in full in the file, or the large page
	 * (its region: 2 MiB, x86 non-PAE 4 MiB) lying in one piece of the
	 * file that it is in (every slot of the region's buckets), so a
	 * random read is the range spaces' record path: the record's
	 * pointer, its shift, the record and the data (issue 12).  The
	 * record's bounds check decides, so a slot another VA has taken
	 * (256 MiB apart) only misses.  In the same mapping as rc, before
	 * it; NULL with it.  rec_log: the runs of slots written (slot, count),
	 * so that a reuse clears those (more than REC_LOG: all of it). */
	struct ich_as_dir_rec *rec;
	unsigned rec_nlog;
	struct rec_run {
		uint16_t slot, n;
	} rec_log[REC_LOG];
	/* Which of a slot's pages are set (not NULL): at most PG_LOG, whose
	 * indexes are idx[0..n), or (n > PG_LOG) any: a slot taken over by
	 * another region clears those, not all 512 (a process touches a few
	 * pages in each of ~100 regions: zeroing 4 KiB for each cost more
	 * than the reads it saved on kb.dmp). */
	struct pg_log {
		uint16_t n;
		uint16_t idx[PG_LOG];
	} pg_log[REG_SLOTS];
};

/* The region cache's slot pc now holds a region. */
static void ptc_filled(struct paging_as *pas, const struct pt_cache_entry *pc)
{
	if (pas->ptc_nlog < PTC_LOG)
		pas->ptc_log[pas->ptc_nlog] = (uint16_t)(pc - pas->ptc);
	if (pas->ptc_nlog <= PTC_LOG)
		pas->ptc_nlog++;
}


/* A large page's region was translated: when its frames lie in the file
 * in one piece (kd_phys_lookup: one run, all of it before end-of-file),
 * remember where, and give it to the inline read path (addrspace.h
 * ich_as_region_get_): a read there then gets the bytes a read through
 * translate would, the same region base plus the same offset. */
static const uint8_t *large_flat(struct paging_as *pas, uint64_t region_pa)
{
	uint64_t off;
	enum ich_miss_reason why;
	uint64_t size = (uint64_t)1 << pas->region_shift;
	if (kd_phys_lookup(pas->as.dump, region_pa, &off, &why) < size)
		return NULL;
	return pas->as.dump->file.data + off;
}

/* The inline cache's regions are 2 MiB (ICH_AS_REG_SHIFT); x86 non-PAE's
 * 4 MiB region is two of them. */
#define REG_SUB(pas) ((pas)->region_shift - ICH_AS_REG_SHIFT)

/* Slots [slot, slot + n) of the records (modulo REC_SLOTS) were written. */
static void rec_logged(struct paging_as *pas, size_t slot, size_t n)
{
	if (pas->rec_nlog < REC_LOG)
		pas->rec_log[pas->rec_nlog] = (struct rec_run){ (uint16_t)slot, (uint16_t)n };
	if (pas->rec_nlog <= REC_LOG)
		pas->rec_nlog++;
}

/* The 4 KiB page at page_va (4 KiB-aligned) lies in full in the file
 * from data: its bucket's record (addrspace.h ich_as_rec_find_). */
static void rec_page(struct paging_as *pas, uint64_t page_va, const uint8_t *data)
{
	if (!pas->rec)
		return;
	size_t slot = (size_t)(page_va >> REC_SHIFT) & (REC_SLOTS - 1);
	struct ich_as_dir_rec *r = &pas->rec[slot];
	if (r->start == page_va && r->data == data && r->len == PAGE)
		return;	/* (a read across its end came out of line) */
	*r = (struct ich_as_dir_rec){ page_va, PAGE - 7, PAGE, data };
	rec_logged(pas, slot, 1);
}

/* The large page region (of 2^region_shift bytes, holding va) lies in
 * one piece of the file from flat: the record of each of its buckets.
 * Nothing when va's record already says so (a read that came out of
 * line for another reason: across the region's end). */
static void rec_region(struct paging_as *pas, uint64_t region, uint64_t va, const uint8_t *flat)
{
	if (!pas->rec)
		return;
	uint64_t size = (uint64_t)1 << pas->region_shift, base = region << pas->region_shift;
	size_t slot = (size_t)(base >> REC_SHIFT) & (REC_SLOTS - 1);
	size_t n = (size_t)(size >> REC_SHIFT);
	const struct ich_as_dir_rec *at = &pas->rec[(va >> REC_SHIFT) & (REC_SLOTS - 1)];
	if (at->start == base && at->data == flat && at->len == size)
		return;
	const struct ich_as_dir_rec r = { base, size - 7, size, flat };
	for (size_t k = 0; k < n; k++)
		pas->rec[(slot + k) & (REC_SLOTS - 1)] = r;
	rec_logged(pas, slot, n);
}

/* A reused space's records emptied (length 0: every read misses). */
static void rec_clear(struct paging_as *pas)
{
	if (!pas->rec)
		return;
	if (pas->rec_nlog > REC_LOG) {
		size_t bytes = REC_SLOTS * sizeof(*pas->rec);
#ifdef MADV_DONTNEED
		if (madvise(pas->rec, bytes, MADV_DONTNEED))
#endif
			memset(pas->rec, 0, bytes);
	} else {
		for (unsigned i = 0; i < pas->rec_nlog; i++)
			for (size_t k = 0; k < pas->rec_log[i].n; k++)
				pas->rec[(pas->rec_log[i].slot + k) & (REC_SLOTS - 1)] =
					(struct ich_as_dir_rec){ 0, 0, 0, NULL };
	}
	pas->rec_nlog = 0;
}

static void reg_fill(struct paging_as *pas, uint64_t region, uint64_t va, const uint8_t *flat)
{
	if (!flat)
		return;
	rec_region(pas, region, va, flat);
	if (!pas->rc)
		return;
	for (uint64_t h = 0; h < (1u << REG_SUB(pas)); h++) {
		uint64_t r = (region << REG_SUB(pas)) + h;
		size_t slot = (size_t)(r % REG_SLOTS);
		pas->rc->key[slot] = r;
		pas->rc->data[slot] = flat + (h << ICH_AS_REG_SHIFT);
	}
}

/* The inline records and region cache, one mapping. */
struct paging_inline {
	struct ich_as_dir_rec rec[REC_SLOTS];
	struct ich_as_regions reg;
};

/* The inline records and cache (struct paging_inline), an anonymous
 * mapping, zero already (every record empty, every entry NULL, pg_log's
 * counts 0), aligned to PAGES_ALIGN (the records and page[] each one
 * large page: one TLB entry each) by trimming a larger one; every slot
 * empty.  NULL when mmap fails. */
static struct paging_inline *regions_alloc(void)
{
	size_t bytes = sizeof(struct paging_inline), len = bytes + PAGES_ALIGN;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	size_t head = (PAGES_ALIGN - (uintptr_t)m % PAGES_ALIGN) % PAGES_ALIGN;
	if (head)
		(void)munmap(m, head);
	size_t tail = (len - head - bytes) / PAGE * PAGE;
	if (tail)
		(void)munmap(m + len - tail, tail);
	struct paging_inline *in = (struct paging_inline *)(void *)(m + head);
#ifdef MADV_HUGEPAGE
	(void)madvise(in, sizeof(in->rec) + sizeof(in->reg.page), MADV_HUGEPAGE);
#endif
	memset(in->reg.key, 0xFF, sizeof(in->reg.key));		/* ICH_AS_REG_EMPTY */
	return in;
}

static void regions_free(struct ich_as_dir_rec *rec)
{
	if (!rec)
		return;
	size_t bytes = sizeof(struct paging_inline);
	(void)munmap(rec, (bytes + PAGE - 1) / PAGE * PAGE);
}

/* The page at va was translated (translate: the page walk's own answer,
 * transition pages included) and all of it lies in the file from page:
 * give it to the inline read path (addrspace.h ich_as_region_get_), which
 * then answers a read there with the bytes a read through translate
 * would.  Only pages read in full from the file get here, so a page that
 * is not valid, whose tables or frame are missing from the dump, or that
 * the file cuts short is never cached: the out-of-line path answers it
 * every time.  A region held as one flat large page is left as it is;
 * a slot holding another region is taken over with its pages cleared. */
static void page_known(struct paging_as *pas, uint64_t va, const uint8_t *page)
{
	struct ich_as_regions *rc = pas->rc;
	if (!rc)
		return;
	uint64_t r = va >> ICH_AS_REG_SHIFT;
	size_t slot = (size_t)(r % REG_SLOTS);
	if (rc->key[slot] == r && rc->data[slot])
		return;
	rec_page(pas, va & ~(uint64_t)(PAGE - 1), page);
	const uint8_t **pages = rc->page + slot * ICH_AS_REG_PAGES;
	struct pg_log *log = &pas->pg_log[slot];
	if (rc->key[slot] != r) {
		if (log->n > PG_LOG)
			memset(pages, 0, sizeof(*pages) * ICH_AS_REG_PAGES);
		else
			for (unsigned i = 0; i < log->n; i++)
				pages[log->idx[i]] = NULL;
		log->n = 0;
		rc->key[slot] = r;
		rc->data[slot] = NULL;
	}
	unsigned i = (unsigned)(va >> 12) % ICH_AS_REG_PAGES;
	if (!pages[i]) {
		if (log->n < PG_LOG)
			log->idx[log->n] = (uint16_t)i;
		if (log->n <= PG_LOG)
			log->n++;
	}
	pages[i] = page;
}

/* Present transition entries as valid; clear PS (bit 7), which in an
 * invalid PTE is part of the Protection field, not a page size. */
static uint64_t fix_entry(uint64_t v)
{
	return (v | 1) & ~(uint64_t)0x80;
}

/* Pages are borrowed from the mapping or a fix slot: nothing to release,
 * but libaddrxlat calls put_page unconditionally. */
static void put_page(const addrxlat_buffer_t *buf)
{
	(void)buf;
}

/* Does the block of a table page at pa (PT_BLOCK bytes at blk) hold a
 * transition entry?  Reading the block is the cost (a table page is cold
 * in the CPU's caches), so the answer is remembered per block.  Blocks,
 * not pages: a walk reads one entry of most table pages it goes through
 * (the upper levels, a page table of a few scattered pages), and a new
 * process's first reads went through ~1,500 table pages on kb.dmp's
 * `analyze --processes all` (249 processes): reading each in full was ~1
 * ms of the command, most of its per-process setup (issue 12). */
static bool needs_fix(struct paging_as *pas, uint64_t pa, const uint8_t *blk)
{
	struct scan_memo *memo = &pas->memo[(pa / PT_BLOCK) % MEMO_SIZE];
	if (memo->pa == pa + 1)
		return memo->need_fix;
	bool need_fix = false;
	if (pas->kind == PT_X86) {
		for (unsigned i = 0; i < PT_BLOCK / 4 && !need_fix; i++) {
			need_fix = ich_x86_pte_is_transition(ich_le32(blk + 4 * i));
		}
	} else {
		for (unsigned i = 0; i < PT_BLOCK / 8 && !need_fix; i++) {
			need_fix = ich_x86_pte_is_transition(ich_le64(blk + 8 * i));
		}
	}
	memo->pa = pa + 1;
	memo->need_fix = need_fix;
	return need_fix;
}

/*
 * libaddrxlat asks for the page holding the entry it reads next
 * (buf->addr) and keeps what it is given in a small cache of its own,
 * reading later entries from there without asking again.  A buffer handed
 * out as it lies in the mapping must therefore hold no transition entry:
 * that is checked for the PT_BLOCK-byte block of the entry only, and that
 * block is all that is handed out (libaddrxlat asks again for an entry
 * outside it).  A block holding a transition entry gets the whole page,
 * patched, from a fix slot, as before.
 */
static addrxlat_status get_page(const addrxlat_cb_t *cb, addrxlat_buffer_t *buf)
{
	struct paging_as *pas = cb->priv;
	struct ich_dump *dump = pas->as.dump;
	uint64_t pa = buf->addr.addr & ~(uint64_t)(PAGE - 1);
	/* no documented ARM64 transition format: its pages go whole, unscanned */
	uint64_t blen = pas->kind == PT_ARM64 ? PAGE : PT_BLOCK;
	uint64_t bpa = buf->addr.addr & ~(blen - 1);
	const uint8_t *page, *blk;
	bool need_fix;
	if (pas->gp_pa == bpa + 1) {
		blk = pas->gp_page;	/* the last one, which needs no patching */
		page = blk - (bpa - pa);
		need_fix = false;
	} else {
		uint64_t off;
		enum ich_miss_reason why;
		if (kd_phys_lookup(dump, pa, &off, &why) < PAGE) {
			pas->pt_miss = why == ICH_MISS_NONE ? ICH_MISS_BEYOND_FILE : why;
			return addrxlat_ctx_err(pas->ctx, ADDRXLAT_ERR_NODATA,
						"page table page 0x%" PRIx64 " not in the dump", pa);
		}
		page = dump->file.data + off;
		blk = page + (bpa - pa);
		need_fix = pas->kind != PT_ARM64 && needs_fix(pas, bpa, blk);
	}
	buf->byte_order = ADDRXLAT_LITTLE_ENDIAN;
	buf->put_page = put_page;
	if (!need_fix) {
		buf->addr.addr = bpa;
		buf->size = blen;
		buf->ptr = blk;
		pas->gp_pa = bpa + 1;
		pas->gp_page = blk;
		return ADDRXLAT_OK;
	}
	buf->addr.addr = pa;
	buf->size = PAGE;
	for (unsigned s = 0; s < FIX_SLOTS; s++) {
		if (pas->fix[s].pa == pa + 1) {
			buf->ptr = pas->fix[s].buf;
			return ADDRXLAT_OK;
		}
	}
	struct fix_slot *slot = &pas->fix[pas->fix_next++ % FIX_SLOTS];
	memcpy(slot->buf, page, PAGE);
	if (pas->kind == PT_X86) {
		for (unsigned i = 0; i < PAGE / 4; i++) {
			uint32_t v = ich_le32(slot->buf + 4 * i);
			if (ich_x86_pte_is_transition(v))
				ich_put_le32(slot->buf + 4 * i, (uint32_t)fix_entry(v));
		}
	} else {
		for (unsigned i = 0; i < PAGE / 8; i++) {
			uint64_t v = ich_le64(slot->buf + 8 * i);
			if (ich_x86_pte_is_transition(v))
				ich_put_le64(slot->buf + 8 * i, fix_entry(v));
		}
	}
	slot->pa = pa + 1;
	buf->ptr = slot->buf;
	return ADDRXLAT_OK;
}

static unsigned long read_caps(const addrxlat_cb_t *cb)
{
	(void)cb;
	return ADDRXLAT_CAPS(ADDRXLAT_KPHYSADDR) | ADDRXLAT_CAPS(ADDRXLAT_MACHPHYSADDR);
}

/*
 * Why a non-valid PTE holds no data (Windows software PTE formats,
 * _MMPTE_SOFTWARE / _MMPTE_PROTOTYPE: Prototype is bit 10 and Transition
 * bit 11 in every format (S11 x64/PAE/x86 headers); the paging-file offset
 * PageFileHigh is bits 32-63 on x64 and PAE and bits 12-31 on 32-bit
 * non-PAE.  A software PTE whose paging-file offset is zero but which has
 * a protection is a demand-zero page (Windows Internals 7th ed., part 1,
 * ch. 5 "Invalid PTEs": "Demand zero ... page file number and offset are
 * 0").  Transition PTEs never get here (fix_entry presents them as valid).
 */
static enum ich_miss_reason invalid_pte_reason(enum pt_kind kind, uint64_t pte)
{
	if (!pte || kind == PT_ARM64)
		return ICH_MISS_NOT_MAPPED;
	if (pte & (1u << 10))
		return ICH_MISS_PROTOTYPE;
	uint64_t offset = kind == PT_X86 ? (pte & 0xFFFFFFFFu) >> 12 : pte >> 32;
	uint64_t protection = (pte >> 5) & 0x1F;
	if (!offset && protection)
		return ICH_MISS_DEMAND_ZERO;
	return ICH_MISS_PAGED_OUT;
}

/* x64: the address bits of a 4 KiB page's PTE, 51:12 (Intel SDM vol. 3
 * table 4-19; libaddrxlat's x86_64 step keeps the same bits: the
 * physical address limit, 52 bits, and the page mask), and the region's
 * page table where it lies in the file, for translate's shortcut. */
#define X64_PTE_ADDR 0x000FFFFFFFFFF000ull

static const uint8_t *x64_table(struct paging_as *pas, uint64_t table_pa)
{
	uint64_t off;
	enum ich_miss_reason why;
	if (pas->kind != PT_X64 || kd_phys_lookup(pas->as.dump, table_pa, &off, &why) < PAGE)
		return NULL;
	return pas->as.dump->file.data + off;
}

/* Translate the page holding va; false with res->why/pte on failure. */
static bool translate(struct paging_as *pas, uint64_t va, uint64_t *pa_page,
		      struct ich_read_result *res)
{
	uint64_t vpage = va >> 12;
	struct tlb_entry *t = &pas->tlb[vpage % TLB_SIZE];
	if (t->vpage == vpage + 1) {
		*pa_page = t->ppage;
		return true;
	}
	uint64_t walk_va = va;
	if (pas->kind == PT_X64) {
		uint64_t top = va >> 47;
		if (top != 0 && top != 0x1FFFF) {
			res->why = ICH_MISS_NONCANONICAL;
			return false;
		}
	} else if (pas->kind == PT_ARM64) {
		/* TTBR0 (bits 63:48 zero) or TTBR1 (all one); both through the
		 * one level-0 table (see the top of this file) */
		uint64_t top = va >> 48;
		if (top != 0 && top != 0xFFFF) {
			res->why = ICH_MISS_NONCANONICAL;
			return false;
		}
		walk_va = va & 0x0000FFFFFFFFFFFFull;
	} else if (va > 0xFFFFFFFFull) {
		res->why = ICH_MISS_NONCANONICAL;
		return false;
	}
	addrxlat_step_t step;
	addrxlat_status st;
	uint64_t region = va >> pas->region_shift;
	struct pt_cache_entry *pc = &pas->ptc[region % PTC_SIZE];
	pas->pt_miss = ICH_MISS_NONE;
	uint64_t in_region = va & (((uint64_t)1 << pas->region_shift) - 1) & ~(uint64_t)(PAGE - 1);
	bool large = false;
	if (pc->region == region + 1 && pc->large) {
		*pa_page = (pc->pa + in_region) >> 12;
		t->vpage = vpage + 1;
		t->ppage = *pa_page;
		reg_fill(pas, region, va, pc->flat);
		return true;
	}
	/* x64, the region's page table known and in the file: a valid PTE,
	 * or a transition one (its frame still in RAM: what get_page's
	 * patched copy makes valid for libaddrxlat), gives the page with
	 * one load instead of a libaddrxlat step (a streamed walk
	 * translates every page it reads this way: ~300 instructions each
	 * through addrxlat_step, issue 12).  Any other PTE goes through
	 * libaddrxlat for the reason it fails. */
	if (pc->region == region + 1 && pc->table) {
		uint64_t pte = ich_le64(pc->table + 8 * (vpage & 511));
		if ((pte & 1) || ich_x86_pte_is_transition(pte)) {
			*pa_page = (pte & X64_PTE_ADDR) >> 12;
			t->vpage = vpage + 1;
			t->ppage = *pa_page;
			return true;
		}
	}
	if (pc->region == region + 1 && pas->have_pt_step) {
		step = pas->pt_step;
		step.base.addr = pc->pa;
		step.idx[0] = 0;
		step.idx[1] = vpage & ((1u << pas->pte_bits) - 1);
		st = ADDRXLAT_OK;
	} else {
		memset(&step, 0, sizeof(step));
		step.ctx = pas->ctx;
		step.sys = NULL;
		step.meth = &pas->meth;
		st = addrxlat_launch(&step, walk_va & ~(uint64_t)(PAGE - 1));
		/* remain 2: base is the page table, the next step reads the
		 * PTE (a large page jumps straight to remain 1). */
		while (st == ADDRXLAT_OK && step.remain > 2)
			st = addrxlat_step(&step);
		if (st == ADDRXLAT_OK && step.remain == 2) {
			pc->region = region + 1;
			pc->large = false;
			pc->flat = NULL;
			pc->pa = step.base.addr;
			pc->table = x64_table(pas, pc->pa);
			ptc_filled(pas, pc);
			if (!pas->have_pt_step) {
				pas->pt_step = step;
				pas->have_pt_step = true;
			}
		}
		/* 2 MiB / 1 GiB (x64, PAE) or 4 MiB (x86) pages are at least
		 * a region: remember where the region lies in RAM. */
		large = st == ADDRXLAT_OK && step.remain < 2;
	}
	while (st == ADDRXLAT_OK && step.remain)
		st = addrxlat_step(&step);
	if (st != ADDRXLAT_OK) {
		if (st == ADDRXLAT_ERR_NOTPRESENT) {
			res->pte = step.raw.pte;
			res->why = invalid_pte_reason(pas->kind, step.raw.pte);
		} else if (st == ADDRXLAT_ERR_NODATA) {
			res->why = pas->pt_miss == ICH_MISS_BEYOND_FILE ? ICH_MISS_BEYOND_FILE
								       : ICH_MISS_PT_NOT_CAPTURED;
		} else if (st == ADDRXLAT_ERR_INVALID) {
			res->why = ICH_MISS_NONCANONICAL;
		} else {
			res->why = ICH_MISS_NOT_MAPPED;
		}
		addrxlat_ctx_clear_err(pas->ctx);
		return false;
	}
	*pa_page = step.base.addr >> 12;
	if (large) {
		pc->region = region + 1;
		pc->large = true;
		pc->table = NULL;
		pc->pa = (*pa_page << 12) - in_region;
		pc->flat = large_flat(pas, pc->pa);
		ptc_filled(pas, pc);
		reg_fill(pas, region, va, pc->flat);
	}
	t->vpage = vpage + 1;
	t->ppage = *pa_page;
	return true;
}

/* At most this many pages past the first in one window (256 KiB). */
#define STREAM_MAX_PAGES 64u
/* The same for a walk that says where it is going (paging_stream): 1 MiB,
 * a window per MiB of a heap segment's chain instead of one per 256 KiB
 * and a ramp of 2, 4, ... pages first (issue 12: each window's start costs
 * the heap walk its lanes' set-up, nt_heap.c sum_lanes). */
#define STREAM_HINT_PAGES 256u

/* The window onto the page holding va, whose byte va lies at file offset
 * off with n bytes readable from there (kd_phys_lookup: runs hold whole
 * pages, so the page's start is in the same run).
 *
 * A walk that streams through a range (a heap's block chain, a segment
 * heap's subsegments) leaves each window at its end.  When this window
 * starts where the last one ended, the pages after it are translated now,
 * as a batch, and the window grows over those whose frames follow in the
 * file (2, 4, ... up to STREAM_MAX_PAGES pages as the streaming goes on):
 * the walk then reads across page boundaries without a translation per
 * page and ich_as_read_ahead can request the lines of the next pages
 * (issue 12).  Random reads never start at the last window's end, so they
 * pay nothing.  A walk that knows where it stops (end, not 0:
 * paging_stream) gets the pages up to there at once, at most
 * STREAM_HINT_PAGES after the first, with no ramp.  The window only ever
 * holds bytes a read of the same address would return (the same
 * translation, the same file bytes). */
static void page_window(struct paging_as *pas, uint64_t va, uint64_t off, uint64_t n, uint64_t end)
{
	struct ich_as *as = &pas->as;
	uint64_t in_page = va & (PAGE - 1);
	uint64_t page = va - in_page;
	uint64_t len = PAGE - in_page < n ? PAGE - in_page : n;
	uint64_t wlen = in_page + len;
	unsigned more = 0;
	if (wlen == PAGE && end > page + PAGE) {
		/* the pages the walk goes on into, whole or in part */
		uint64_t want = (end - page - 1) / PAGE;
		more = want < STREAM_HINT_PAGES ? (unsigned)want : STREAM_HINT_PAGES;
		pas->seq_run = 6;	/* an unhinted read at the end goes on at full size */
	} else if (page == pas->seq_next && wlen == PAGE) {
		if (pas->seq_run < 6)
			pas->seq_run++;
		more = 1u << pas->seq_run;
		if (more > STREAM_MAX_PAGES)
			more = STREAM_MAX_PAGES;
	} else {
		pas->seq_run = 0;
	}
	uint64_t expect = off - in_page + PAGE;
	for (unsigned k = 1; k <= more; k++) {
		uint64_t nva = page + (uint64_t)k * PAGE, ppage, noff;
		struct ich_read_result res;
		enum ich_miss_reason why;
		if (nva < page || !translate(pas, nva, &ppage, &res) ||
		    kd_phys_lookup(as->dump, ppage << 12, &noff, &why) < PAGE)
			break;
		if (noff != expect) {
			/* the page after the window, whole in the file but
			 * elsewhere (a real dump scatters a heap's pages: its
			 * windows are then one page each): kept in the window
			 * for the walk's look-ahead (ich_as_window next) and
			 * for locate, its first lines requested now */
			as->win.next_va = nva;
			as->win.next = as->dump->file.data + noff;
			for (unsigned l = 0; l < 4; l++)
				__builtin_prefetch(as->dump->file.data + noff + 64 * l);
			break;
		}
		/* not given to the inline cache (page_known): the walk
		 * reads these pages through the window; filling them
		 * cost kb.dmp's `analyze --processes all` 3.6 M
		 * instructions and made most takeovers clear the whole
		 * slot (its log overflowed), for reads that a later
		 * random read's own out-of-line call fills anyway */
		wlen += PAGE;
		expect += PAGE;
	}
	pas->seq_next = page + wlen;
	ich_as_set_window(as, page, wlen, as->dump->file.data + off - in_page);
}

/* Where va's byte lies in the file: *off, with the count readable from
 * there returned (0, res->why set, when none: not translated or not in
 * the file); the page given to the inline cache when it is whole in the
 * file.  The page page_window found past a window (ich_as_window next) is
 * not translated again (a walk over scattered frames: one page a window). */
static uint64_t locate(struct paging_as *pas, uint64_t va, uint64_t *off, struct ich_read_result *res)
{
	uint64_t in = va & (PAGE - 1), n;
	const struct ich_as_window *w = &pas->as.win;
	if (w->next && va - in == w->next_va) {
		*off = (uint64_t)(w->next - pas->as.dump->file.data) + in;
		n = PAGE - in;
	} else {
		uint64_t ppage;
		enum ich_miss_reason why;
		if (!translate(pas, va, &ppage, res))
			return 0;
		n = kd_phys_lookup(pas->as.dump, (ppage << 12) | in, off, &why);
		if (!n) {
			res->why = why;
			return 0;
		}
	}
	if (n >= PAGE - in)
		page_known(pas, va, pas->as.dump->file.data + *off - in);
	return n;
}

static size_t paging_read(struct ich_as *as, uint64_t addr, void *buf, size_t len,
			  struct ich_read_result *res)
{
	struct paging_as *pas = (struct paging_as *)as;
	uint8_t *out = buf;
	size_t done = 0;
	res->why = ICH_MISS_NONE;
	while (done < len) {
		uint64_t va = addr + done;
		/* a read across the top of the address space stops there: the
		 * byte after 2^64 - 1 is no address (x86's spaces stop at 4 GiB
		 * in translate); its VA would wrap to page 0, whose bytes the
		 * read would append (x64 and ARM64 map VA 0 in user spaces) */
		if (va < addr) {
			res->why = ICH_MISS_NONCANONICAL;
			break;
		}
		uint64_t in_page = PAGE - (va & (PAGE - 1));
		uint64_t want = len - done < in_page ? len - done : in_page;
		uint64_t off, n = locate(pas, va, &off, res);
		if (!n)
			break;
		page_window(pas, va, off, n, 0);
		if (n > want)
			n = want;
		memcpy(out + done, as->dump->file.data + off, (size_t)n);
		done += (size_t)n;
		if (n < want) {
			res->why = ICH_MISS_BEYOND_FILE;
			break;
		}
	}
	res->nread = done;
	res->miss_addr = addr + done;
	return done;
}

static const void *paging_peek(struct ich_as *as, uint64_t addr, size_t len)
{
	struct paging_as *pas = (struct paging_as *)as;
	/* Pages after the first must follow it in the file (adjacent frames
	 * stored in order); 64 KiB is enough for any structure walkers peek. */
	if (!len || len > 0x10000 || addr + len < addr)
		return NULL;
	struct ich_read_result res;
	const uint8_t *start = NULL;
	uint64_t expect = 0;
	/* by bytes done, not by address: the page after the top one is
	 * address 0 (ich_first_aligned_offset's reason, core/bits.h) */
	for (uint64_t done = 0; done < len;) {
		uint64_t va = addr + done;
		uint64_t want = PAGE - (va & (PAGE - 1));
		if (want > len - done)
			want = len - done;
		uint64_t off = 0, n = locate(pas, va, &off, &res);
		if (n < want || (start && off != expect))
			return NULL;
		if (!start) {
			start = as->dump->file.data + off;
			page_window(pas, va, off, n, 0);
		}
		expect = off + want;
		done += want;
	}
	return start;
}

/* paging_peek for a walk that goes forward from addr to end (ops.stream):
 * the window covers the pages up to end that follow addr's in the file,
 * so bytes that cross into the next page are in it too when that page
 * follows in the file (a header the walk's last window cut). */
static const void *paging_stream(struct ich_as *as, uint64_t addr, size_t len, uint64_t end)
{
	struct paging_as *pas = (struct paging_as *)as;
	if (!len || len > PAGE)
		return paging_peek(as, addr, len);
	struct ich_read_result res;
	uint64_t off, n = locate(pas, addr, &off, &res);
	if (!n)
		return NULL;
	page_window(pas, addr, off, n, end > addr + len ? end : addr + len);
	const void *p = ich_as_window_get(as, addr, len);
	return p ? p : paging_peek(as, addr, len);
}

static void paging_free(struct paging_as *pas)
{
	if (pas->ctx)
		addrxlat_ctx_decref(pas->ctx);
	free(pas->fix);
	free(pas->ptc);
	regions_free(pas->rec);
	free(pas);
}

/* A process's space goes to its dump's spare slot when that is empty
 * (kd_paging_create hands it out again); any other is freed. */
static void paging_destroy(struct ich_as *as)
{
	struct paging_as *pas = (struct paging_as *)as;
	struct kd_priv *p = pas->reusable ? pas->as.dump->priv : NULL;
	if (p && !p->spare) {
		p->spare = pas;
		return;
	}
	paging_free(pas);
}

void kd_paging_drop_spare(struct kd_priv *p)
{
	if (p->spare)
		paging_free(p->spare);
	p->spare = NULL;
}

/* The spare space made ready for another DTB: the DTB's translations
 * dropped, the physical pages' facts (memo, fix) kept. */
static void paging_reuse(struct paging_as *pas)
{
	memset(pas->tlb, 0, sizeof(pas->tlb));
	if (pas->ptc_nlog > PTC_LOG)
		memset(pas->ptc, 0, PTC_SIZE * sizeof(*pas->ptc));
	else
		for (unsigned i = 0; i < pas->ptc_nlog; i++)
			pas->ptc[pas->ptc_log[i]].region = 0;
	pas->ptc_nlog = 0;
	pas->have_pt_step = false;
	pas->seq_next = 0;
	pas->seq_run = 0;
	pas->pt_miss = ICH_MISS_NONE;
	memset(&pas->as.win, 0, sizeof(pas->as.win));
	if (pas->rc)
		memset(pas->rc->key, 0xFF, sizeof(pas->rc->key));	/* ICH_AS_REG_EMPTY */
	rec_clear(pas);
}

static const struct ich_as_ops paging_ops = {
	.read = paging_read,
	.peek = paging_peek,
	.stream = paging_stream,
	.destroy = paging_destroy,
};

struct ich_error *kd_paging_create(struct ich_dump *dump, uint64_t dtb, const char *name,
				   bool process, struct ich_as **ret)
{
	const struct ich_kdump *kd = dump->kd;
	struct kd_priv *priv = dump->priv;
	struct paging_as *pas = NULL;
	if (process && priv && priv->spare) {
		pas = priv->spare;
		priv->spare = NULL;
		paging_reuse(pas);
	} else {
		pas = calloc(1, sizeof(*pas));
		if (!pas)
			return &ich_enomem;
		pas->fix = calloc(FIX_SLOTS, sizeof(*pas->fix));
		pas->ptc = calloc(PTC_SIZE, sizeof(*pas->ptc));
		pas->ctx = addrxlat_ctx_new();
		struct paging_inline *in = regions_alloc();	/* NULL: no inline cache */
		if (in) {
			pas->rec = in->rec;
			pas->rc = &in->reg;
		}
		if (!pas->fix || !pas->ptc || !pas->ctx) {
			paging_free(pas);
			return &ich_enomem;
		}
		pas->cb = addrxlat_ctx_add_cb(pas->ctx);
		if (!pas->cb) {
			paging_free(pas);
			return &ich_enomem;
		}
		pas->cb->priv = pas;
		pas->cb->get_page = get_page;
		pas->cb->read_caps = read_caps;
		pas->as.ops = &paging_ops;
		pas->as.dump = dump;
		pas->reusable = process;
	}
	pas->dtb = dtb;
	snprintf(pas->as.name, sizeof(pas->as.name), "%s", name);
	addrxlat_meth_t *m = &pas->meth;
	m->kind = ADDRXLAT_PGT;
	m->target_as = ADDRXLAT_MACHPHYSADDR;
	m->param.pgt.root.as = ADDRXLAT_MACHPHYSADDR;
	m->param.pgt.pte_mask = 0;
	addrxlat_paging_form_t *pf = &m->param.pgt.pf;
	if (dump->arch == ICH_ARCH_ARM64) {
		const char *why = kd_arm64_dtb_refusal(dtb & ~0xFFFF000000000001ull);
		if (why) {
			paging_destroy(&pas->as);	/* a process's goes back to the spare slot */
			return ich_error_create(ICH_ERR_UNSUPPORTED, "%s: DirectoryTableBase 0x%" PRIx64 ": %s",
						dump->path, dtb, why);
		}
		pas->kind = PT_ARM64;
		pas->as.ptr_size = 8;
		pas->region_shift = 21;
		pas->pte_bits = 9;
		m->param.pgt.root.addr = dtb & ARM64_TTBR_BADDR;	/* ASID 63:48, CnP 0 dropped */
		pf->pte_format = ADDRXLAT_PTE_AARCH64;
		pf->nfields = 5;
		pf->fieldsz[0] = 12; pf->fieldsz[1] = 9; pf->fieldsz[2] = 9;
		pf->fieldsz[3] = 9; pf->fieldsz[4] = 9;
	} else if (kd->is64) {
		/* CR3 bits 0-11 may hold a PCID (the real 19045 dump: 0x1ad002). */
		pas->kind = PT_X64;
		pas->as.ptr_size = 8;
		pas->region_shift = 21;
		pas->pte_bits = 9;
		m->param.pgt.root.addr = dtb & 0x000FFFFFFFFFF000ull;
		pf->pte_format = ADDRXLAT_PTE_X86_64;
		pf->nfields = 5;
		pf->fieldsz[0] = 12; pf->fieldsz[1] = 9; pf->fieldsz[2] = 9;
		pf->fieldsz[3] = 9; pf->fieldsz[4] = 9;
	} else if (kd->pae_enabled) {
		/* PAE CR3 points at a 32-byte aligned PDPT. */
		pas->kind = PT_PAE;
		pas->as.ptr_size = 4;
		pas->region_shift = 21;
		pas->pte_bits = 9;
		m->param.pgt.root.addr = dtb & ~0x1Full;
		pf->pte_format = ADDRXLAT_PTE_IA32_PAE;
		pf->nfields = 4;
		pf->fieldsz[0] = 12; pf->fieldsz[1] = 9; pf->fieldsz[2] = 9; pf->fieldsz[3] = 2;
	} else {
		pas->kind = PT_X86;
		pas->as.ptr_size = 4;
		pas->region_shift = 22;
		pas->pte_bits = 10;
		m->param.pgt.root.addr = dtb & ~0xFFFull;
		pf->pte_format = ADDRXLAT_PTE_IA32;
		pf->nfields = 3;
		pf->fieldsz[0] = 12; pf->fieldsz[1] = 10; pf->fieldsz[2] = 10;
	}
	pas->as.win.reg = pas->rc;
	if (pas->rec) {
		/* (reg too: after a record's miss the inline path asks the
		 * region cache, not a range table; addrspace.h ich_as_get_) */
		ich_as_set_records(&pas->as, pas->rec, REC_SHIFT);	/* (2 MiB-aligned: regions_alloc) */
	}
	*ret = &pas->as;
	return NULL;
}
