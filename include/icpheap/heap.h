/* SPDX-License-Identifier: MIT */
/*
 * Process heaps of a user-mode dump, without PDBs.  Heaps are found from
 * the PEB (via a thread's TEB; the 32-bit PEB for WOW64 processes), their
 * layout row is chosen by build and confirmed at run time (signatures, the
 * segment-list identity, the first entry's checksum), and NT heaps are
 * walked: back-end segments (entries decoded and checksummed, PreviousSize
 * chains, uncommitted ranges skipped), large (VirtualAlloc'd) blocks, and
 * the Windows 8+ LFH front end.  A corrupt entry stops only its own run;
 * it becomes a problem, and the heap result is marked partial.
 */
#ifndef ICPHEAP_HEAP_H
#define ICPHEAP_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/dump.h>
#include <icpheap/layout.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_heaps;

enum ich_heap_kind {
	ICH_HEAP_KIND_NT,
	ICH_HEAP_KIND_SEGMENT,	/* _SEGMENT_HEAP (signature 0xDDEEDDEE) */
	ICH_HEAP_KIND_PAGE,	/* page heap (DPH root, signature 0xFFEEDDCC) */
	ICH_HEAP_KIND_UNKNOWN,	/* header unreadable or signature unknown */
};

enum ich_heap_status {
	ICH_HEAP_OK,
	ICH_HEAP_NOT_CAPTURED,	/* header not in the dump */
	ICH_HEAP_BAD_LAYOUT,	/* no layout row passes the checks */
	ICH_HEAP_NOT_WALKED,	/* kind not walked by this version */
};

/*
 * The shared block vocabulary of every walker (NT, segment, page heap).
 * Names (ich_block_state_name / ich_block_layer_name) are the JSON words.
 */
enum ich_block_state {
	ICH_BLOCK_BUSY,
	ICH_BLOCK_FREE,		/* includes a freed page-heap block */
	ICH_BLOCK_INTERNAL,	/* heap metadata / front-end container */
	ICH_BLOCK_CORRUPT,	/* header fails its checks; listed, not vouched for */
};
enum ich_block_layer {
	ICH_LAYER_BACKEND,	/* NT back end */
	ICH_LAYER_LFH,		/* NT low-fragmentation front end */
	ICH_LAYER_VIRTUAL,	/* NT VirtualAllocdBlocks */
	ICH_LAYER_SEG_VS,	/* segment heap variable-size subsegment chunk */
	ICH_LAYER_SEG_LFH,	/* segment heap LFH subsegment block */
	ICH_LAYER_SEG_BACKEND,	/* segment heap page-range (backend) allocation */
	ICH_LAYER_SEG_LARGE,	/* segment heap large allocation */
	ICH_LAYER_PAGE_HEAP,	/* page heap (DPH) block */
};

struct ich_heap_block {
	uint64_t header;	/* _HEAP_ENTRY (virtual: the BusyBlock, as -flt shows it) */
	uint64_t user;		/* user pointer */
	uint64_t size;		/* requested bytes (0 for free blocks) */
	uint64_t block_size;	/* bytes, header included (virtual: CommitSize) */
	uint64_t unused;	/* block_size - size */
	uint64_t prev_size;	/* bytes, back end only */
	uint64_t segment;	/* owning segment (back end), UserBlocks (LFH),
				 * _HEAP_VIRTUAL_ALLOC_ENTRY (virtual) */
	uint8_t flags;		/* _HEAP_ENTRY.Flags (decoded) */
	enum ich_block_state state;
	enum ich_block_layer layer;
};

struct ich_heap_ucr {
	uint64_t address, size;
};

struct ich_heap_segment {
	uint64_t base;		/* the _HEAP_SEGMENT */
	uint32_t flags;		/* SegmentFlags (NT heaps) */
	uint64_t first_entry, last_valid_entry;
	uint32_t pages, uncommitted_pages;
	struct ich_heap_ucr *ucr;	size_t nucr;
};

/* A part of a heap that cannot be read from this dump (page paged out,
 * demand-zero, not captured...): not corruption.  The blocks in
 * [address, end) are unknown; with resynced the walk found the block chain
 * again at end, else end is the end of the run (next uncommitted range or
 * the segment's LastValidEntry). */
struct ich_heap_unreadable {
	uint64_t address;	/* the block header that could not be read */
	uint64_t end;
	bool resynced;
	uint64_t page;		/* the first page that could not be read */
	enum ich_miss_reason why;
	uint64_t pte;		/* PTE value when known */
};

struct ich_heap_problem {
	uint64_t address;
	char what[192];
};

/* Summary figures: the `!heap -s` row. */
struct ich_heap_totals {
	uint64_t reserved, committed, virt;	/* bytes */
	uint64_t busy_count, busy_bytes;	/* requested bytes of busy blocks */
	uint64_t free_count, free_bytes;	/* all layers */
	uint64_t backend_free_count, backend_free_bytes;	/* free lists (the -s columns) */
	uint64_t internal_count;
	uint64_t corrupt_count;		/* listed as corrupt: not vouched for */
	uint64_t ucr_count, virtual_blocks;
	uint64_t lfh_blocks;
};

struct ich_heap {
	uint64_t address;
	enum ich_heap_kind kind;
	enum ich_heap_status status;
	char reason[224];		/* why not OK */
	const struct ich_layout *layout;	/* row used (NT heaps) */
	bool layout_fallback;		/* not the build's row */
	bool unlisted;			/* not in PEB.ProcessHeaps: found by its
					 * header in the captured memory (24H2) */
	uint32_t flags, force_flags;
	bool lfh;			/* FrontEndHeapType == 2 */
	uint64_t front_end;		/* FrontEndHeap (the _LFH_HEAP) */
	/* Filled by ich_heap_walk: */
	bool walked, partial;
	struct ich_heap_segment *segments;	size_t nsegments;
	struct ich_heap_problem *problems;	size_t nproblems;
	struct ich_heap_unreadable *unreadable;	size_t nunreadable;	/* sets partial */
	struct ich_heap_totals totals;
	/* Page heap (src/heap/page_heap.c): for kind PAGE, the _DPH_HEAP_ROOT
	 * (handle + one page); for an NT heap that is a page heap's
	 * NormalHeap (where light page-heap blocks live), that page heap. */
	uint64_t dph_root;
	uint64_t dph_owner;
};

/* Find the heaps of a minidump (build 0 = from the dump).  Fails when the
 * PEB cannot be found at all (not captured, kernel dump...). */
struct ich_error *ich_heaps_open(struct ich_dump *dump, uint32_t build,
				 struct ich_heaps **ret);
/* The same with the layout rows of registry layouts (NULL: built-in rows
 * only); ich_heaps_open uses ich_layouts_default().  A row lacking a field
 * the walker needs is rejected with the field's name. */
struct ich_error *ich_heaps_open_with(struct ich_dump *dump, uint32_t build,
				      const struct ich_layouts *layouts, struct ich_heaps **ret);
void ich_heaps_close(struct ich_heaps *h);

/*
 * The heaps of a process whose PEB is already known: a process of a
 * complete or kernel+user kernel dump (ich_kernel_process_heaps builds
 * this from the EPROCESS).  as is the process's own address space (its
 * DirectoryTableBase); with wow64 the heaps are read through the 32-bit
 * PEB given in peb, with 4-byte pointers.  Every walker runs unchanged on
 * top of that space.
 */
struct ich_heap_process {
	struct ich_as *as;	/* the process space (native pointer size) */
	bool own_as;		/* ich_heaps_close (or a failed open) destroys it */
	uint64_t peb;		/* native PEB, or the 32-bit PEB with wow64 */
	bool wow64;
	enum ich_arch arch;	/* native arch of the space */
	uint32_t build;		/* ntdll build (the kernel's) */
	char origin[96];	/* where the PEB came from, for the notes */
	/* The user pages the dump holds for the process (its page tables'
	 * present and transition pages, ich_kernel_user_ranges), copied: the
	 * 24H2 scan for heaps PEB.ProcessHeaps does not list looks only
	 * there.  NULL: no scan. */
	const struct ich_user_range *ranges;
	size_t nranges;
};
struct ich_error *ich_heaps_open_process(struct ich_dump *dump, const struct ich_heap_process *p,
					 struct ich_heaps **ret);

/*
 * The process's modules as the heap walkers see them (where ntdll's data
 * is): a minidump's module list, or for a kernel-dump process the
 * loader's list from PEB.Ldr (InLoadOrderModuleList; a WOW64 process's
 * 32-bit PEB's list, whose entries have wow64 set).  name is the full
 * path when it could be read (else the base name, else "").
 */
struct ich_heap_module {
	char *name;
	uint64_t base, size;
	bool wow64;		/* a 32-bit image of a WOW64 process */
};
size_t ich_heaps_module_count(const struct ich_heaps *h);
const struct ich_heap_module *ich_heaps_module(const struct ich_heaps *h, size_t i);
/* "the minidump's module list", "the PEB's loader list (PEB.Ldr)", ... or "none" */
const char *ich_heaps_modules_origin(const struct ich_heaps *h);

size_t ich_heaps_count(const struct ich_heaps *h);
struct ich_heap *ich_heaps_get(struct ich_heaps *h, size_t i);
/* The heap at address, or NULL. */
struct ich_heap *ich_heaps_find(struct ich_heaps *h, uint64_t address);
/* Notes: where the heap list came from, layout choices, LFH key recovery. */
size_t ich_heaps_note_count(const struct ich_heaps *h);
const char *ich_heaps_note(const struct ich_heaps *h, size_t i);
unsigned ich_heaps_ptr_size(const struct ich_heaps *h);
/* PEB.NtGlobalFlag (heap debugging aids), when read. */
bool ich_heaps_global_flag(const struct ich_heaps *h, uint32_t *flag);
/* The RtlpLFHKey recovered from UserBlocks (after a walk), if any. */
bool ich_heaps_lfh_key(const struct ich_heaps *h, uint64_t *key);
/* How much of it is known: 0 (not recovered), 32 (the low half, from the
 * UserBlocks' EncodedOffsets), 64 (x64: the whole variable, found in
 * ntdll's writable data by its low half). */
unsigned ich_heaps_lfh_key_bits(const struct ich_heaps *h);

/*
 * The heap's committed bytes without walking its blocks when its headers
 * say it (NT heap: the segments' NumberOfPages - NumberOfUnCommittedPages
 * and the large blocks' CommitSize; segment heap: MemStats) -- the value
 * ich_heap_walk reports from the same fields; otherwise (page heap, no
 * MemStats, a header that does not check out) the heap is walked.  After
 * a walk, the walk's figure.  *source says which.
 */
enum ich_commit_source { ICH_COMMIT_HEADERS, ICH_COMMIT_WALK };
struct ich_error *ich_heap_committed(struct ich_heaps *h, struct ich_heap *heap, uint64_t *committed,
				     enum ich_commit_source *source);

typedef struct ich_error *ich_heap_block_fn(const struct ich_heap *heap,
					    const struct ich_heap_block *b, void *arg);
/*
 * Walk one NT heap: every block in address order per segment, then the
 * large blocks.  fn may be NULL (to compute totals and problems only) and
 * may return &ich_stop.  Totals, segments and problems are (re)computed.
 */
struct ich_error *ich_heap_walk(struct ich_heaps *h, struct ich_heap *heap,
				ich_heap_block_fn *fn, void *arg);
/*
 * ich_heap_walk with parts left out (issue 12: `heap -a` text asked for a
 * whole walk to print a heap's segments, and for every LFH block only to
 * drop it).  NT heaps only; a segment or page heap is walked in full.
 *   ICH_WALK_SEGMENTS_ONLY: the segment list and each segment's
 *     uncommitted ranges (what ich_heap_walk fills in segments), and
 *     nothing else: no block, fn not called, totals zero, only the segment
 *     list's problems; walked stays false.
 *   ICH_WALK_NO_LFH_BLOCKS: fn is not called for LFH (front-end) blocks;
 *     they are counted in the totals and checked (their problems reported)
 *     as by ich_heap_walk, so totals, problems and notes are the same.
 *   ICH_WALK_BACKEND_RUNS (ich_heap_walk_runs with a run callback): NT
 *     back-end blocks come as runs too where they form one: two or more
 *     busy or free blocks of one block size in a row, each at the one
 *     before plus that size, each with that size as its PreviousSize
 *     (the run's tmpl.prev_size), at most 1024 blocks and 16 kinds a run;
 *     every other back-end block goes to fn.  Same blocks, order, totals
 *     and problems as without it (test_walk_runs).
 */
enum { ICH_WALK_SEGMENTS_ONLY = 1u << 0, ICH_WALK_NO_LFH_BLOCKS = 1u << 1, ICH_WALK_BACKEND_RUNS = 1u << 2 };
struct ich_error *ich_heap_walk_opt(struct ich_heaps *h, struct ich_heap *heap,
				    ich_heap_block_fn *fn, void *arg, unsigned opts);

/*
 * A run of blocks handed over at once (issue 12: an LFH container's
 * blocks, rendered from one template instead of one callback each).
 * Block i (i < count) is tmpl with
 *   header = tmpl.header + i * stride, user = tmpl.user + i * stride,
 *   and state, flags, size, unused from kinds[kind[i]];
 * block_size, prev_size, segment and layer are tmpl's for every block
 * (tmpl's own state, flags, size and unused mean nothing).  nkinds <= 256.
 * ich_heap_run_block expands one block.
 */
struct ich_heap_block_kind {
	uint64_t size, unused;
	enum ich_block_state state;
	uint8_t flags;
};
struct ich_heap_block_run {
	struct ich_heap_block tmpl;
	uint64_t stride;
	size_t count;
	const uint8_t *kind;
	const struct ich_heap_block_kind *kinds;
	unsigned nkinds;
};
/* The run's block kind k (k < nkinds) on tmpl: tmpl with kinds[k]'s
 * state, flags, size and unused (header and user: tmpl's). */
static inline void ich_heap_run_kind_block(const struct ich_heap_block_run *r, unsigned k, struct ich_heap_block *b)
{
	*b = r->tmpl;
	b->size = r->kinds[k].size;
	b->unused = r->kinds[k].unused;
	b->state = r->kinds[k].state;
	b->flags = r->kinds[k].flags;
}
static inline void ich_heap_run_block(const struct ich_heap_block_run *r, size_t i, struct ich_heap_block *b)
{
	ich_heap_run_kind_block(r, r->kind[i], b);
	b->header = r->tmpl.header + (uint64_t)i * r->stride;
	b->user = r->tmpl.user + (uint64_t)i * r->stride;
}
typedef struct ich_error *ich_heap_run_fn(const struct ich_heap *heap, const struct ich_heap_block_run *r,
					  void *arg);
/*
 * ich_heap_walk_opt with an optional run callback: where the walker has
 * a run of blocks (NT and segment-heap LFH containers; NT back-end blocks
 * with ICH_WALK_BACKEND_RUNS), run_fn gets it
 * instead of fn getting its blocks one by one; every other block goes to
 * fn.  The blocks, their order and the totals, problems and notes are
 * those of ich_heap_walk_opt(h, heap, fn, arg, opts) (test_walk_options
 * compares them); run_fn NULL is ich_heap_walk_opt.  fn must be set when
 * run_fn is.  A run is counted in the totals before run_fn sees it, so
 * when run_fn stops the walk (an error or &ich_stop) the totals include
 * the whole run.
 */
struct ich_error *ich_heap_walk_runs(struct ich_heaps *h, struct ich_heap *heap, ich_heap_block_fn *fn,
				     ich_heap_run_fn *run_fn, void *arg, unsigned opts);

/*
 * The _HEAP fields WinDbg's !heap -a prints in its label block (NT heaps).
 * A field the layout row lacks, or the dump did not capture, has its
 * have_ bit clear (ICH_HI_*).  List heads are addresses inside the _HEAP.
 */
enum {
	ICH_HI_RESERVE = 1u << 0, ICH_HI_COMMIT = 1u << 1, ICH_HI_DECOMMIT_BLOCK = 1u << 2,
	ICH_HI_DECOMMIT_TOTAL = 1u << 3, ICH_HI_TOTAL_FREE = 1u << 4, ICH_HI_MAX_ALLOC = 1u << 5,
	ICH_HI_LOCK = 1u << 6, ICH_HI_TAGS = 1u << 7, ICH_HI_TAG_ENTRIES = 1u << 8,
	ICH_HI_PSEUDO_TAGS = 1u << 9, ICH_HI_FREE_LISTS = 1u << 10, ICH_HI_LIST_INDEX = 1u << 11,
};
struct ich_heap_info {
	unsigned have;			/* ICH_HI_* bits */
	uint64_t segment_reserve, segment_commit;
	uint64_t decommit_block_thres, decommit_total_thres;
	uint64_t total_free_size;	/* in granularity units, as stored */
	uint64_t max_allocation_size;
	uint64_t lock_variable;		/* _HEAP.LockVariable (a pointer) */
	uint32_t next_tag_index, max_tag_index;
	uint64_t tag_entries, pseudo_tag_entries;	/* pointers (0: no tagging) */
	uint32_t process_heaps_list_index;
	uint64_t virtual_alloc_list, ucr_list;	/* list heads (addresses) */
	uint64_t free_lists, free_lists_flink, free_lists_blink;
};
struct ich_error *ich_heap_info(struct ich_heaps *h, const struct ich_heap *heap,
				struct ich_heap_info *out);
/* The free blocks on _HEAP.FreeLists in list order (bounded, cycle-safe),
 * each as a back-end free block; an entry that fails its checks ends the
 * list with an error naming it. */
struct ich_error *ich_heap_free_list(struct ich_heaps *h, struct ich_heap *heap,
				     ich_heap_block_fn *fn, void *arg);
/* The small header of the NT heap entry at entry, as stored (raw) and
 * decoded with the heap's Encoding (what !heap -i shows as "Header content"). */
struct ich_error *ich_heap_entry_header(struct ich_heaps *h, const struct ich_heap *heap,
					uint64_t entry, uint64_t *raw, uint64_t *decoded);

/* `!heap -stat`: busy blocks grouped by requested size. */
struct ich_heap_size_stat {
	uint64_t size, blocks, total;	/* requested size, block count, bytes */
};
enum ich_heap_stat_order {
	ICH_STAT_BY_TOTAL,	/* -grp S (default): total bytes */
	ICH_STAT_BY_SIZE,	/* -grp A: allocation size */
	ICH_STAT_BY_COUNT,	/* -grp B: block count */
};
/*
 * Walk heap (or every walkable heap when heap is NULL) and group the busy
 * blocks by requested size, sorted by order.  *rows is malloc'd (free it);
 * *busy_bytes receives the sum of all busy requested bytes.  Heaps that
 * cannot be walked are skipped; with heap NULL, a heap whose walk fails is
 * left with walked == false and the failure as a problem.  The walk also
 * fills every heap's totals, segments and problems (as ich_heap_walk).
 */
struct ich_error *ich_heap_stat(struct ich_heaps *h, struct ich_heap *heap,
				enum ich_heap_stat_order order,
				struct ich_heap_size_stat **rows, size_t *nrows,
				uint64_t *busy_bytes);

/*
 * Segment heaps (_SEGMENT_HEAP): the process-wide keys found without
 * symbols (known after the first segment-heap walk; the notes say which
 * route found them), and a heap's _SEGMENT_HEAP.ProcessHeapListIndex
 * (false when the layout row has no such field or it is not captured).
 */
struct ich_segment_keys {
	bool heap_key_known, lfh_key_known;
	uint64_t heap_key;	/* RtlpHpHeapGlobals.HeapKey */
	uint32_t lfh_key;	/* RtlpHpHeapGlobals.LfhKey (low 32 bits) */
};
bool ich_heaps_segment_keys(const struct ich_heaps *h, struct ich_segment_keys *k);
bool ich_heap_segment_info(const struct ich_heaps *h, const struct ich_heap *heap,
			   uint32_t *list_index);

const char *ich_block_state_name(enum ich_block_state s);
const char *ich_block_layer_name(enum ich_block_layer l);

#ifdef __cplusplus
}
#endif
#endif
