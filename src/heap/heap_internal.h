/* SPDX-License-Identifier: MIT */
/* Internal state of the heap walkers (src/heap). */
#ifndef ICPHEAP_HEAP_INTERNAL_H
#define ICPHEAP_HEAP_INTERNAL_H

#include <icpheap/heap.h>

#include "reader/reader.h"

/* The mapped file's bytes at [off, off + size), or NULL when there is no
 * mapped file or it does not hold all of them (a captured range or thread
 * context the file cuts short). */
static inline const uint8_t *ich_heap_file_span(const struct ich_dump *dump, uint64_t off, uint64_t size)
{
	const uint8_t *file = ich_dump_file_data(dump);
	uint64_t fsize = ich_dump_file_size(dump);
	if (!file || off > fsize || size > fsize - off)
		return NULL;
	return file + off;
}

#define NT_HEAP_SIGNATURE 0xEEFFEEFFu	/* _HEAP.Signature */
#define SEGMENT_SIGNATURE 0xFFEEFFEEu	/* _HEAP_SEGMENT.SegmentSignature */
#define SEGHEAP_SIGNATURE 0xDDEEDDEEu	/* _SEGMENT_HEAP.Signature */
#define USERBLOCKS_SIGNATURE 0xF0E0D0C0u
#define HEAP_ENCODE_FLAG_MAKE_ENCODING_ENABLED 0x00100000u

/* _HEAP_ENTRY.Flags (heap.h values; windbg-output README §13) */
#define HE_BUSY 0x01
#define HE_EXTRA_PRESENT 0x02
#define HE_FILL_PATTERN 0x04
#define HE_VIRTUAL_ALLOC 0x08
#define HE_LAST_ENTRY 0x10

/*
 * The offsets the NT heap walker reads, copied once from a layout row and
 * checked when the row is chosen (src/kernel's struct kofs; MemProcFS
 * VMM_OFFSET_* in vmm/vmm.h): the walker reads o->heap_signature, never a
 * raw row->off[] index.  -1 = absent in this build (optional fields only:
 * a missing required field rejects the row, naming the field).
 */
struct ntofs {
	/* TEB / PEB (layouts.md §1) */
	int32_t teb_peb, peb_process_heap, peb_global_flag, peb_nheaps, peb_max_heaps, peb_heaps;
	/* _HEAP (§2) */
	int32_t heap_flags, heap_force_flags, heap_encode_flag_mask, heap_encoding, heap_signature,
		heap_ucr_list, heap_virtual_allocd_blocks, heap_segment_list, heap_blocks_index,
		heap_free_lists, heap_front_end_heap, heap_front_end_heap_type, heap_sizeof;
	/* _HEAP: what !heap -a prints (label block); all optional */
	int32_t heap_segment_reserve, heap_segment_commit, heap_decommit_block, heap_decommit_total,
		heap_total_free_size, heap_max_allocation, heap_list_index, heap_next_tag,
		heap_max_tag, heap_tag_entries, heap_pseudo_tag_entries, heap_lock_variable;
	/* _HEAP_SEGMENT */
	int32_t seg_flags, seg_signature, seg_list_entry, seg_pages, seg_first_entry, seg_last_valid_entry,
		seg_uncommitted_pages, seg_ucr_list;
	/* _HEAP_ENTRY, _HEAP_VIRTUAL_ALLOC_ENTRY, _HEAP_UCR_DESCRIPTOR */
	int32_t entry_sizeof, entry_small_header;
	int32_t va_commit, va_reserve, va_busy_block, va_sizeof;
	int32_t ucr_segment_entry, ucr_address, ucr_size;
	/* LFH (§3): _HEAP_SUBSEGMENT, _HEAP_USERDATA_HEADER */
	int32_t ss_user_blocks, ss_aggregate, ss_block_size, ss_block_count;
	int32_t ud_subsegment, ud_signature, ud_encoded_offsets, ud_busy_bitmap, ud_sizeof;
	bool lfh_bitmap;		/* Win8+ UserBlocks: EncodedOffsets + BusyBitmap */
	const char *lfh_missing;	/* LFH field the row lacks (LFH not walked), or NULL */
};

/* What the heap finder needs (TEB/PEB): NULL or the missing field's name. */
const char *ntofs_fill_peb(const struct ich_layout *row, struct ntofs *o);
/* Everything the heap walker needs: NULL, or the name of the first
 * required field the row lacks.  LFH fields are required only to walk the
 * front end (o->lfh_missing). */
const char *ntofs_fill(const struct ich_layout *row, struct ntofs *o);
struct seg_state;

struct ich_heaps {
	struct ich_dump *dump;
	const struct ich_layouts *layouts;	/* the registry the rows come from */
	struct ntofs peb_o;	/* from row */
	struct ich_as *as;	/* the process space (32-bit view for WOW64) */
	struct ich_as *as32;	/* owned 4-byte-pointer view, WOW64 only */
	struct ich_as *owned_as;	/* process space of a kernel dump (destroyed on close) */
	unsigned ptr;		/* 4 or 8 */
	enum ich_arch arch;	/* of the heaps: X86 for WOW64 */
	uint32_t build;
	const struct ich_layout *row;
	uint64_t peb;
	bool have_global_flag;
	uint32_t global_flag;
	bool lfh_key_known;
	bool lfh_key_full;	/* all bits (x64: found in ntdll's data) */
	unsigned lfh_key_low_bits;	/* recovered from the heap: 32 (Win8+ UserBlocks, x86), 40 (Win7 x64 headers) */
	uint64_t lfh_key;
	struct ich_heap *heaps;	size_t nheaps;
	struct ntofs *ofs;	/* per heap: from heaps[i].layout */
	struct seg_state *seg;	/* segment heaps (segment_heap.c), NULL if none */
	struct ust_cache *ust;	/* the +ust database once looked for (stack_trace.c) */
	char **notes;		size_t nnotes;
	/* the process's modules (process_modules.c): the minidump's list or
	 * the loader's (PEB.Ldr) for a kernel-dump process */
	struct ich_heap_module *mods;	size_t nmods;
	const char *mods_origin;
	/* kernel-dump process: the user pages the dump holds (24H2 scan) */
	struct ich_user_range *uranges;	size_t nuranges;
	/* minidump: its memory ranges sorted and merged, once
	 * (captured_data.c: where the next captured byte is) */
	struct ich_user_range *capt;	size_t ncapt;
	bool capt_done;
	/* ntdll's writable sections, parsed once (ntdll_data.c) */
	struct ntdll_sections *ntdll_secs;
};

void heaps_note(struct ich_heaps *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void heap_problem(struct ich_heap *heap, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A decoded _HEAP_ENTRY small header. */
struct heap_entry {
	uint16_t size;		/* in units (16 x64, 8 x86) */
	uint8_t flags;
	uint8_t small_tag;	/* checksum byte */
	uint16_t prev_size;
	uint8_t segment_offset;
	uint8_t unused;
	bool checksum_ok;
	uint64_t raw, decoded;	/* the small header as stored and decoded */
};

/* heap_find.c: room for one more heap: h->heaps and its parallel h->ofs
 * grow by one, the new slot (index h->nheaps, not yet counted) zeroed with its
 * address set.  The caller counts it (h->nheaps++) once it keeps it. */
struct ich_error *heaps_add_slot(struct ich_heaps *h, uint64_t addr);
/* nt_heap.c */
struct ich_error *nt_heap_validate(struct ich_heaps *h, struct ich_heap *heap,
				   const struct ntofs *o, char *why, size_t whylen);
/* lfh.c: walk one UserBlocks container (the user area of a busy internal
 * back-end block); returns false when it is not a UserBlocks. */
struct walk_ctx;
bool lfh_walk_userblocks(struct walk_ctx *w, uint64_t ub, uint64_t ub_size);
/* lfh.c: recover RtlpLFHKey from the heap's UserBlocks (Win8+). */
void lfh_recover_key(struct ich_heaps *h, struct ich_heap *heap,
		     const uint64_t *ubs, size_t nubs);

/* process_modules.c: fill h->mods from the minidump or from PEB.Ldr
 * (h->peb, h->row set; WOW64: the 32-bit PEB's list); ntdll of the
 * heaps' bitness (WOW64: the 32-bit one). */
void heap_modules_from_minidump(struct ich_heaps *h);
void heap_modules_from_ldr(struct ich_heaps *h);
bool heap_ntdll(const struct ich_heaps *h, uint64_t *base, uint64_t *size);
void heap_modules_free(struct ich_heaps *h);

/* ntdll_data.c: ntdll's writable sections (from its PE headers in the
 * dump), parsed on first use and kept in h; n 0 with why when they
 * cannot be found.  NULL only when out of memory. */
#define NTDLL_MAX_SECTIONS 16
struct ntdll_section {
	char name[9];
	uint64_t address, size;
};
struct ntdll_sections {
	size_t n;
	struct ntdll_section sec[NTDLL_MAX_SECTIONS];
	char why[160];
};
const struct ntdll_sections *ntdll_writable_sections(struct ich_heaps *h);

/* captured_data.c: the captured bytes of [start, end) of an address
 * space in address order, a chunk at a time.  A chunk is len bytes at p
 * (in the mapped file, or a copy where a record could straddle two
 * stretches adjacent in memory but not in the file) for the addresses
 * from va; a scan tries the positions p[0 .. starts): each position of
 * the region is in exactly one chunk's starts, in address order, and from
 * a position o the chunk holds the bytes p[o .. len) that follow it in the
 * region without a gap in the capture, at least tail of them where the
 * capture has them (tail at most DATA_TAIL_MAX). */
#define DATA_TAIL_MAX 0x800u
struct data_chunk {
	uint64_t va;
	const uint8_t *p;
	size_t len, starts;
};
struct data_piece {
	uint64_t va;
	const uint8_t *p;
	size_t len;
	int buf;	/* it->copy[buf], or -1: in the mapped file */
};
struct data_iter {
	struct ich_as *as;
	const struct ich_user_range *capt;	size_t ncapt;
	bool by_range;		/* capt says where captured bytes are; else page steps */
	uint64_t a, end;
	size_t tail, k;
	struct data_piece cur, nxt;
	bool have_nxt, started;
	int phase;
	uint8_t copy[2][0x1000];
	uint8_t bridge[2 * DATA_TAIL_MAX];
};
/* capt: sorted, disjoint, non-adjacent ranges of captured addresses (by_range
 * true), or none: the space is captured in whole 4 KiB pages (kernel dump). */
void data_iter_init(struct data_iter *it, struct ich_as *as, const struct ich_user_range *capt,
		    size_t ncapt, bool by_range, uint64_t start, uint64_t end, size_t tail);
bool data_iter_next(struct data_iter *it, struct data_chunk *c);
/* A minidump's memory ranges as capt for data_iter_init (malloc'd). */
struct ich_minidump;
struct ich_error *data_captured_index(const struct ich_minidump *md, struct ich_user_range **out, size_t *n);
/* data_iter_init over the heaps' process space (h->capt built once). */
void heap_data_iter(struct data_iter *it, struct ich_heaps *h, uint64_t start, uint64_t end, size_t tail);
/* The offset in a chunk of its first address that lies a multiple of
 * step (a power of two) from origin. */
static inline size_t data_first(const struct data_chunk *c, uint64_t origin, unsigned step)
{
	uint64_t r = (c->va - origin) % step;
	return r ? (size_t)(step - r) : 0;
}
/* After lfh_recover_key: the full 64-bit RtlpLFHKey from ntdll's data. */
void lfh_find_full_key(struct ich_heaps *h);

/* nt_heap.c: the run of back-end blocks a walk with ICH_WALK_BACKEND_RUNS
 * holds back until it ends (be_block, be_flush). */
#define BE_RUN_MAX 1024u
#define BE_RUN_KINDS 16u
struct be_run {
	struct ich_heap_block_run r;	/* count 0: none held */
	uint8_t kind[BE_RUN_MAX];
	struct ich_heap_block_kind kinds[BE_RUN_KINDS];
	uint32_t kcount[BE_RUN_KINDS];
	uint8_t last;			/* the last block's kind */
	uint64_t next;			/* where the next block must be */
};

struct walk_ctx {
	struct ich_heaps *h;
	struct ich_heap *heap;
	const struct ntofs *o;
	ich_heap_block_fn *fn;
	void *arg;
	struct ich_error *err;	/* from fn: stops the walk */
	unsigned unit;		/* 16 or 8 */
	uint64_t key;		/* decoded encoding key (0 = none) */
	/* nt_heap.c: the back-end headers the LFH key pre-pass read, kept
	 * so the listing pass decodes them from memory instead of following
	 * the chain through the dump a second time (issue 12).  rec holds
	 * the small headers as stored, in walk order; an entry's address is
	 * the one before it plus that one's Size, except where a run starts
	 * (runs: a segment's first entry, a jump over an uncommitted or
	 * unreadable range or a resync).  8 bytes an entry: the record's
	 * page faults were a tenth of heap -a --json's CPU at 16. */
	uint64_t *rec;
	size_t nrec, cap_rec, rec_cur, rec_end;
	struct rec_run *runs;
	size_t nruns, cap_runs, run_cur;
	uint64_t rec_next;	/* pre-pass: where the last recorded entry's chain
				 * goes on (0: a run starts) */
	uint64_t rec_addr;	/* listing: the address of rec[rec_cur] */
	bool recording;
	bool no_lfh_cb;		/* ICH_WALK_NO_LFH_BLOCKS: fn not called for LFH blocks */
	/* ich_heap_walk_runs: gets the runs of blocks the walker has (an LFH
	 * container's) instead of fn getting them one by one; NULL: none */
	ich_heap_run_fn *run_fn;
	/* ICH_WALK_BACKEND_RUNS (with run_fn, no light page heap): back-end
	 * blocks as runs too; NULL: one by one */
	struct be_run *be;
};
struct rec_run {
	size_t at;		/* index in rec of the run's first entry */
	uint64_t addr;		/* its address */
};

/* nt_heap.c: the heap's entry encoding key (0 = none) */
struct ich_error *encoding_key(struct walk_ctx *w, uint64_t *key);

/* A decoded small header's checksum: SmallTagIndex = Size lo ^ Size hi ^
 * Flags (S2 VmmHeap_GetEntryDecoded), i.e. its four low bytes XOR to 0.
 * The one test: entry_decode's, and the summing walk's and pre-pass's
 * in-place loops (nt_heap.c). */
static inline bool entry_tag_ok(uint64_t d)
{
	uint32_t x = (uint32_t)d;
	x ^= x >> 16;
	x ^= x >> 8;
	return !(uint8_t)x;
}

/* The one _HEAP_ENTRY small-header decoder (the back-end walk, free lists,
 * !heap -i, the unreadable-range resync): raw is the 8 bytes at
 * +entry_small_header as stored, key the heap's Encoding (0 = none).
 * Inline: it runs once per back-end block (issue 12). */
static inline void entry_decode(uint64_t raw, uint64_t key, struct heap_entry *he)
{
	uint64_t d = raw ^ key;
	he->raw = raw;
	he->decoded = d;
	he->size = (uint16_t)d;
	he->flags = (uint8_t)(d >> 16);
	he->small_tag = (uint8_t)(d >> 24);
	he->prev_size = (uint16_t)(d >> 32);
	he->segment_offset = (uint8_t)(d >> 48);
	he->unused = (uint8_t)(d >> 56);
	he->checksum_ok = entry_tag_ok(d);
}

/* heap_map.c: the rows of a map (as ich_heap_map_end) without painting
 * its runs; a second walk with ich_heap_map_paint paints block by block
 * (the unit test compares the two). */
struct ich_heap_map;
void heap_map_rows(struct ich_heap_map *m, const struct ich_heap *heap);

/* stack_trace.c */
struct ust_cache;
void ust_cache_free(struct ich_heaps *h);

/* page_heap.c */
bool page_heap_probe(struct ich_heaps *h, struct ich_heap *heap);
struct ich_error *page_heaps_complete(struct ich_heaps *h, uint64_t process_heap,
				      void (*classify_fn)(struct ich_heaps *, size_t));
struct ich_error *page_heap_walk(struct ich_heaps *h, struct ich_heap *heap,
				 ich_heap_block_fn *fn, void *arg);
void page_heap_light(struct ich_heaps *h, const struct ich_heap *heap, struct ich_heap_block *b);

/* heap_stat.c: `!heap -stat`'s table (busy blocks grouped by requested
 * size; open addressing, size + 1 in .size marks a used slot).  The walk
 * callback heap_stat_add is known here so the walkers call its body
 * directly (no indirect call per block) and may add a run of equal-sized
 * blocks at once (heap_stat_add_n; issue 12). */
struct heap_stat_table {
	struct ich_heap_size_stat *slot;
	size_t cap, used;
	uint64_t busy;
};
bool heap_stat_grow(struct heap_stat_table *t);
ich_heap_block_fn heap_stat_add;

/* count busy blocks of requested size size */
static inline struct ich_error *heap_stat_add_n(struct heap_stat_table *t, uint64_t size, uint64_t count)
{
	t->busy += size * count;
	if ((t->used + 1) * 2 > t->cap && !heap_stat_grow(t))
		return &ich_enomem;
	uint64_t key = size + 1;
	size_t k = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (t->cap - 1);
	while (t->slot[k].size && t->slot[k].size != key)
		k = (k + 1) & (t->cap - 1);
	if (!t->slot[k].size) {
		t->slot[k].size = key;
		t->used++;
	}
	t->slot[k].blocks += count;
	t->slot[k].total += size * count;
	return NULL;
}

/* The walk's callback on b: heap_stat_add's body inline, any other
 * callback through its pointer. */
static inline struct ich_error *walk_call(struct walk_ctx *w, const struct ich_heap_block *b)
{
	if (w->fn == heap_stat_add)
		return b->state == ICH_BLOCK_BUSY ? heap_stat_add_n(w->arg, b->size, 1) : NULL;
	return w->fn(w->heap, b, w->arg);
}

/* Count the block in the heap's totals and hand it to the walk's callback
 * (the light page heap's view of busy blocks first, page_heap.c).  Inline:
 * every block of every layer passes here (issue 12). */
static inline __attribute__((always_inline)) struct ich_error *walk_emit(struct walk_ctx *w,
								   const struct ich_heap_block *b)
{
	struct ich_heap_block light;
	if (w->heap->dph_owner && b->state == ICH_BLOCK_BUSY) {
		light = *b;
		page_heap_light(w->h, w->heap, &light);
		b = &light;
	}
	struct ich_heap_totals *t = &w->heap->totals;
	switch (b->state) {
	case ICH_BLOCK_BUSY:
		t->busy_count++;
		t->busy_bytes += b->size;
		if (b->layer == ICH_LAYER_LFH)
			t->lfh_blocks++;
		break;
	case ICH_BLOCK_FREE:
		t->free_count++;
		t->free_bytes += b->block_size;
		if (b->layer == ICH_LAYER_BACKEND) {
			t->backend_free_count++;
			t->backend_free_bytes += b->block_size;
		}
		break;
	case ICH_BLOCK_INTERNAL:
		t->internal_count++;
		break;
	case ICH_BLOCK_CORRUPT:
		t->corrupt_count++;
		break;
	}
	if (!w->fn || w->err)
		return w->err;
	w->err = walk_call(w, b);
	return w->err;
}
/* Count count blocks like b in the heap's totals (as walk_emit counts
 * each). */
static inline void walk_count(struct walk_ctx *w, const struct ich_heap_block *b, uint64_t count)
{
	struct ich_heap_totals *t = &w->heap->totals;
	switch (b->state) {
	case ICH_BLOCK_BUSY:
		t->busy_count += count;
		t->busy_bytes += b->size * count;
		if (b->layer == ICH_LAYER_LFH)
			t->lfh_blocks += count;
		break;
	case ICH_BLOCK_FREE:
		t->free_count += count;
		t->free_bytes += b->block_size * count;
		if (b->layer == ICH_LAYER_BACKEND) {
			t->backend_free_count += count;
			t->backend_free_bytes += b->block_size * count;
		}
		break;
	case ICH_BLOCK_INTERNAL:
		t->internal_count += count;
		break;
	case ICH_BLOCK_CORRUPT:
		t->corrupt_count += count;
		break;
	}
}
/* walk_emit for a run of count blocks that are alike but for their
 * addresses (b: the first): for walks that only sum blocks up (w->fn NULL,
 * or -stat's heap_stat_add: one table update per run), on a heap that is no
 * light page heap's (page_heap_light looks at every block). */
static inline struct ich_error *walk_emit_run(struct walk_ctx *w, const struct ich_heap_block *b, uint64_t count)
{
	walk_count(w, b, count);
	if (w->fn != heap_stat_add || w->err || b->state != ICH_BLOCK_BUSY)
		return w->err;
	w->err = heap_stat_add_n(w->arg, b->size, count);
	return w->err;
}
/* Whether the walk hands runs of blocks to a run callback (a light page
 * heap's blocks go one by one: page_heap_light looks at each). */
static inline bool walk_runs(const struct walk_ctx *w)
{
	return w->run_fn && w->fn && !w->err && !w->heap->dph_owner;
}
/* A run (walk_runs true) counted in the totals, kcount[k] its blocks of
 * kind k, and handed to the run callback. */
static inline struct ich_error *walk_emit_blocks(struct walk_ctx *w, const struct ich_heap_block_run *r,
						 const uint32_t *kcount)
{
	struct ich_heap_block b;
	for (unsigned k = 0; k < r->nkinds; k++) {
		ich_heap_run_kind_block(r, k, &b);
		walk_count(w, &b, kcount[k]);
	}
	if (w->err || !r->count)
		return w->err;
	w->err = w->run_fn(w->heap, r, w->arg);
	return w->err;
}
/* nt_heap.c: read and decode the back-end entry at e. */
struct ich_error *nt_heap_read_entry(struct walk_ctx *w, uint64_t e, struct heap_entry *he);
/* nt_unreadable.c: the entry at e cannot be read.  Record the unreadable
 * range (with the reason from the address space) and find the block chain
 * again after the unreadable page, before end (the next uncommitted range
 * or LastValidEntry).  Returns the entry to resume at, or 0. */
uint64_t nt_heap_unreadable(struct walk_ctx *w, uint64_t e, uint64_t end);
void heap_unreadable_free(struct ich_heap *heap);

#endif
