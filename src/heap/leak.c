/* SPDX-License-Identifier: MIT */
/*
 * `!heap -l`: leaked heap blocks by reachability (a mark phase of a
 * conservative garbage collector).  The !heap documentation describes the
 * command as a garbage-collector algorithm over busy blocks not referenced
 * anywhere in the process address space (windbg-docs, !heap -l); layouts.md
 * §6 gives the suggested implementation, followed here:
 *
 *  1. Every walkable heap is walked through ich_heap_walk (NT back
 *     end, LFH, large blocks, page heap, and whatever later walkers emit);
 *     busy blocks are collected, and every block's whole extent, every NT
 *     segment and every page-heap metadata area become "heap memory",
 *     which is never a root.
 *  2. Each candidate is kept as its user range only (16 bytes: what the
 *     scan needs; the record a leak is printed from is walked again in
 *     step 5).  The walks give a heap's blocks in address order, so the
 *     candidates are usually sorted and disjoint already and serve as
 *     the lookup's array as they are; otherwise (heaps out of address
 *     order, overlapping blocks of a corrupt walk) a sorted copy is made
 *     and the first of overlapping blocks kept.  The lookup
 *     (leak_index.h): a range test, a page bitmap, a chunk table, then a
 *     search among the few blocks of the chunk (interior pointers count).
 *  3. Roots: every captured range of the dump outside heap memory (thread
 *     stacks in full, TEBs, the PEB, module images, other private memory)
 *     and every thread's CONTEXT record, scanned as aligned pointer-sized
 *     values straight from the mapped file.
 *  4. The roots mark the blocks they reach; then one sweep over the blocks
 *     in address order scans each reached block's user data the same way.
 *     A block reached from a later one (behind the sweep) goes on a
 *     worklist scanned at once; one reached ahead is only marked, and the
 *     sweep gets to it.  Unmarked busy blocks are the leaks.  (A worklist
 *     alone, popped last-in first-out, visits the blocks in no particular
 *     order; the sweep reads most of them in address order, as the
 *     mapping lies, issue 12.)
 *  5. Each unmarked candidate's block record is handed out: rebuilt from
 *     its user range and its kind (below), in the first walk's order.  A
 *     candidate's record is its user range plus a few fields (header
 *     offset, block_size, unused, prev_size, segment, flags, layer) that
 *     most blocks share with many others (the blocks of one size in one
 *     segment or container): the first walk keeps each distinct set once
 *     (a "kind") and a 4-byte kind number per candidate, so the leaks'
 *     records come from the walk that found them, without walking the
 *     heaps again (issue 12: the second walk was a third of -l's
 *     instructions on a page-heap dump where a tenth of the blocks leak,
 *     and 35% on mid.dmp where all do).  When the kinds grow past an
 *     eighth of the candidates (plus 4096), they are dropped and the
 *     heaps are walked again instead, each unmarked candidate's record
 *     handed out as it comes (checked against the first walk's range: a
 *     walk that differs is an error, never a wrong list; a heap none of
 *     whose candidates leaked is not walked again).  An 80-byte record
 *     per candidate kept from the first walk cost more in page faults
 *     (45-50% of -l's CPU in the kernel) than walking twice.
 *
 * Work is linear in the bytes scanned; memory is O(blocks + chunks):
 * 16 + 4 + 1 (+ 4 for the worklist, touched only as far as it is used)
 * bytes per candidate on the usual path, and the kinds.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/leak.h>
#include <icpheap/minidump.h>
#include <icpheap/pageheap.h>

#include "core/grow.h"
#include "core/endian.h"
#include "core/bits.h"
#include "heap/heap_internal.h"
#include "heap/leak_index.h"

struct range {
	uint64_t lo, hi;
};

struct ranges {
	struct range *v;
	size_t n, cap;
};

/* What a candidate's block record holds beyond its user range and its
 * heap (state: busy, as every candidate; size: from the range, except
 * for a range clipped at the top of the address space). */
struct leak_kind {
	uint64_t delta;		/* user - header */
	uint64_t block_size, unused, prev_size, segment;
	uint64_t top_size;	/* the size when the range ends at UINT64_MAX, else 0 */
	uint8_t flags;
	uint8_t layer;		/* enum ich_block_layer */
};

/* Past this many kinds (+ an eighth of the candidates) the kinds are
 * dropped and the leaks' records come from a second walk. */
#define KINDS_BASE 4096u
#define KIND_NONE UINT32_MAX

bool leak_no_kinds;
size_t leak_kinds_base = KINDS_BASE;

struct ich_leak_scan {
	struct ich_heaps *h;
	/* every candidate, in walk order */
	struct leak_cand *cand;	size_t n, capc;
	/* each candidate's kind (kind_of[w]: an index in kinds), while
	 * kinds_on; the kinds by their fields through an open-addressed
	 * table of indices (nslots a power of two, KIND_NONE: empty) */
	bool kinds_on;
	uint32_t *kind_of;	size_t capk;
	struct leak_kind *kinds;	size_t nkinds, capkinds;
	uint32_t *slots;	size_t nslots;
	bool unsorted;		/* one starts below the one before it */
	bool overlap;		/* one starts at or before the end of the one before */
	/* the lookup's array: cand itself when sorted and disjoint, else a
	 * sorted copy without overlaps (leak_index.h) */
	struct leak_order o;
	uint8_t *marked;	/* LEAK_UNREACHED / LEAK_REACHED / LEAK_SCANNED per sorted block */
	uint8_t *wmark;		/* per walk index (LEAK_DROPPED: an overlap left out) */
	uint32_t *slot;		/* heaps out of order: walk index -> place in the
				 * address-ordered list of leaks */
	size_t nleaks;
	struct ranges ex;	/* heap memory: not roots */
	struct leak_index ix;
	size_t sweep;		/* the block the sweep is at */
	uint32_t *work;		size_t nwork;	/* reached blocks behind the sweep */
	unsigned ps;
	/* the second walk (ich_leak_scan_each) */
	size_t k;		/* candidates seen */
	size_t emitted;		/* leaks handed out */
	/* per heap: the candidates after its first walk (heap i's are
	 * [heap_end[i - 1], heap_end[i])); a heap without a leak is not
	 * walked again */
	size_t *heap_end;
	struct ich_error *cb_err;
	ich_leak_fn *fn;
	void *arg;
	struct ich_leak *buf;	/* with slot: the leaks, put in address order */
};

/* [lo, lo + len) added (its end saturated at the top of the address
 * space: a range there would wrap and be dropped) */
static struct ich_error *add_range(struct ranges *r, uint64_t lo, uint64_t len)
{
	uint64_t hi = ich_add_sat(lo, len);
	if (hi <= lo)
		return NULL;
	/* blocks arrive in address order: grow the last range when they touch */
	if (r->n && lo >= r->v[r->n - 1].lo && lo <= r->v[r->n - 1].hi) {
		if (hi > r->v[r->n - 1].hi)
			r->v[r->n - 1].hi = hi;
		return NULL;
	}
	if (!ICH_ARRAY_RESERVE(r->v, r->n, r->cap, 256))
		return &ich_enomem;
	r->v[r->n++] = (struct range){ lo, hi };
	return NULL;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void merge_ranges(struct ranges *r)
{
	if (!r->n)
		return;
	bool sorted = true;
	for (size_t i = 1; i < r->n && sorted; i++)
		sorted = r->v[i - 1].lo <= r->v[i].lo;
	if (!sorted)
		qsort(r->v, r->n, sizeof(r->v[0]), range_cmp);
	size_t o = 0;
	for (size_t i = 1; i < r->n; i++) {
		if (r->v[i].lo <= r->v[o].hi) {
			if (r->v[i].hi > r->v[o].hi)
				r->v[o].hi = r->v[i].hi;
		} else {
			r->v[++o] = r->v[i];
		}
	}
	r->n = o + 1;
}

/* A busy block with user data (a zero-byte block holds nothing a pointer
 * could point into), other than an NT segment's own header block (the
 * _HEAP_ENTRY at the segment base that holds the _HEAP / _HEAP_SEGMENT:
 * heap metadata, not a leak).  Both walks ask the same. */
static inline bool is_candidate(const struct ich_heap_block *b)
{
	return b->state == ICH_BLOCK_BUSY && b->size && !(b->layer == ICH_LAYER_BACKEND && b->header == b->segment);
}

/* The block's last user byte; a range past the top of the address space
 * ends there. */
static inline uint64_t last_of(const struct ich_heap_block *b)
{
	uint64_t last = b->user + (b->size - 1);
	return last < b->user ? UINT64_MAX : last;
}

/* A light page-heap block belongs to its page heap. */
static inline uint64_t owner_of(const struct ich_heap *hp, const struct ich_heap_block *b)
{
	return hp->dph_owner && b->layer == ICH_LAYER_PAGE_HEAP ? hp->dph_owner : hp->address;
}

static void kinds_drop(struct ich_leak_scan *g)
{
	g->kinds_on = false;
	free(g->kind_of);
	free(g->kinds);
	free(g->slots);
	g->kind_of = NULL;
	g->kinds = NULL;
	g->slots = NULL;
	g->capk = g->nkinds = g->capkinds = g->nslots = 0;
}

static inline bool kind_eq(const struct leak_kind *a, const struct leak_kind *b)
{
	return a->delta == b->delta && a->block_size == b->block_size && a->unused == b->unused &&
	       a->prev_size == b->prev_size && a->segment == b->segment && a->top_size == b->top_size &&
	       a->flags == b->flags && a->layer == b->layer;
}

static inline size_t kind_hash(const struct leak_kind *k, size_t mask)
{
	/* one multiply: the fields that vary most (sizes, segment) spread
	 * by small odd factors, the product's high bits taken */
	uint64_t x = k->delta + k->block_size * 31 + k->unused * 7 + k->prev_size * 131 + k->segment + k->top_size +
		     ((uint64_t)k->flags << 8 | k->layer) * 8191;
	return (size_t)((x * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* The table of slots at twice its size, the kinds put back. */
static bool kinds_rehash(struct ich_leak_scan *g)
{
	size_t ns = g->nslots ? g->nslots * 2 : 1024;
	uint32_t *s = malloc(ns * sizeof(*s));
	if (!s)
		return false;
	memset(s, 0xff, ns * sizeof(*s));	/* KIND_NONE */
	for (size_t i = 0; i < g->nkinds; i++) {
		size_t at = kind_hash(&g->kinds[i], ns - 1);
		while (s[at] != KIND_NONE)
			at = (at + 1) & (ns - 1);
		s[at] = (uint32_t)i;
	}
	free(g->slots);
	g->slots = s;
	g->nslots = ns;
	return true;
}

/* kind_find past the first slot: the probe on from at, and k added when
 * new; KIND_NONE when the kinds were dropped (too many, or out of
 * memory: the second walk serves). */
static __attribute__((noinline)) uint32_t kind_find_on(struct ich_leak_scan *g, const struct leak_kind *k, size_t at)
{
	size_t mask = g->nslots - 1;
	for (;; at = (at + 1) & mask) {
		uint32_t i = g->slots[at];
		if (i == KIND_NONE)
			break;
		if (kind_eq(&g->kinds[i], k))
			return i;
	}
	if (g->nkinds >= leak_kinds_base + g->n / 8 || !ICH_ARRAY_RESERVE(g->kinds, g->nkinds, g->capkinds, 256)) {
		kinds_drop(g);
		return KIND_NONE;
	}
	uint32_t i = (uint32_t)g->nkinds++;
	g->kinds[i] = *k;
	g->slots[at] = i;
	if (g->nkinds * 2 > g->nslots && !kinds_rehash(g)) {
		kinds_drop(g);
		return KIND_NONE;
	}
	return i;
}

/* k's index among the kinds (added when new): inline while k is in its
 * first slot (most lookups: the table is at most half full). */
static inline uint32_t kind_find(struct ich_leak_scan *g, const struct leak_kind *k)
{
	size_t at = kind_hash(k, g->nslots - 1);
	uint32_t i = g->slots[at];
	if (i != KIND_NONE && kind_eq(&g->kinds[i], k))
		return i;
	return kind_find_on(g, k, at);
}

/* Candidate g->n's kind k (before it is counted). */
static inline void kind_put(struct ich_leak_scan *g, const struct leak_kind *k)
{
	if (!g->kinds_on)
		return;
	uint32_t i = kind_find(g, k);
	if (i == KIND_NONE)
		return;
	if (!ICH_ARRAY_RESERVE(g->kind_of, g->n, g->capk, 4096)) {
		kinds_drop(g);
		return;
	}
	g->kind_of[g->n] = i;
}

/* The kind of a candidate block with last user byte last. */
static inline struct leak_kind kind_of_block(const struct ich_heap_block *b, uint64_t last)
{
	return (struct leak_kind){ .delta = b->user - b->header, .block_size = b->block_size, .unused = b->unused,
				   .prev_size = b->prev_size, .segment = b->segment,
				   .top_size = last == UINT64_MAX ? b->size : 0, .flags = b->flags,
				   .layer = (uint8_t)b->layer };
}

static struct ich_error *collect_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct ich_leak_scan *g = arg;
	/* heap memory: back-end and LFH blocks lie in the NT segments (added
	 * whole after the walk); a large block spans its
	 * _HEAP_VIRTUAL_ALLOC_ENTRY + CommitSize; other layers their extent */
	if (b->layer != ICH_LAYER_BACKEND && b->layer != ICH_LAYER_LFH) {
		uint64_t lo = b->layer == ICH_LAYER_VIRTUAL && b->segment && b->segment <= b->header ? b->segment
												  : b->header;
		struct ich_error *err = add_range(&g->ex, lo, b->block_size);
		if (err)
			return err;
	}
	if (!is_candidate(b))
		return NULL;
	if (!ICH_ARRAY_RESERVE(g->cand, g->n, g->capc, 4096))
		return &ich_enomem;
	uint64_t last = last_of(b);
	if (g->n) {
		const struct leak_cand *prev = &g->cand[g->n - 1];
		if (b->user < prev->user)
			g->unsorted = true;
		if (b->user <= prev->last)
			g->overlap = true;
	}
	if (g->kinds_on) {
		struct leak_kind k = kind_of_block(b, last);
		kind_put(g, &k);
	}
	g->cand[g->n++] = (struct leak_cand){ b->user, last };
	return NULL;
}

/* A run of blocks (an LFH container's, ich_heap_walk_runs): what
 * collect_cb does for each of its blocks, without the walker's call and
 * record per block.  Heap memory: a run whose blocks tile it (block_size
 * >= stride) is one range, the union add_range would make of its blocks;
 * the layers whose rules look at more than a block's kind (back end:
 * the segment header block; virtual: its entry) go block by block. */
static struct ich_error *collect_run(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	struct ich_leak_scan *g = arg;
	const struct ich_heap_block *t = &r->tmpl;
	struct ich_error *err = NULL;
	if (t->layer == ICH_LAYER_BACKEND || t->layer == ICH_LAYER_VIRTUAL) {
		for (size_t i = 0; i < r->count && !err; i++) {
			struct ich_heap_block b;
			ich_heap_run_block(r, i, &b);
			err = collect_cb(hp, &b, g);
		}
		return err;
	}
	if (!r->count)
		return NULL;
	if (t->layer != ICH_LAYER_LFH) {
		uint64_t span = (uint64_t)(r->count - 1), lo = t->header;
		if (r->stride && t->block_size >= r->stride && lo <= UINT64_MAX - t->block_size &&
		    span <= (UINT64_MAX - lo - t->block_size) / r->stride) {
			err = add_range(&g->ex, lo, span * r->stride + t->block_size);
		} else {
			for (size_t i = 0; i < r->count && !err; i++) {
				uint64_t h = lo + (uint64_t)i * r->stride;
				err = add_range(&g->ex, h, t->block_size);
			}
		}
		if (err)
			return err;
	}
	/* the run's kinds as candidates' kinds, looked up once each (the
	 * last byte only matters at the top of the address space, where
	 * the kind is looked up per block) */
	uint32_t kmap[256];
	for (unsigned k = 0; k < r->nkinds && k < 256; k++)
		kmap[k] = KIND_NONE;
	for (size_t i = 0; i < r->count; i++) {
		const struct ich_heap_block_kind *k = &r->kinds[r->kind[i]];
		if (k->state != ICH_BLOCK_BUSY || !k->size)
			continue;
		if (!ICH_ARRAY_RESERVE(g->cand, g->n, g->capc, 4096))
			return &ich_enomem;
		uint64_t user = t->user + (uint64_t)i * r->stride, last = user + (k->size - 1);
		if (last < user)
			last = UINT64_MAX;
		if (g->n) {
			const struct leak_cand *prev = &g->cand[g->n - 1];
			if (user < prev->user)
				g->unsorted = true;
			if (user <= prev->last)
				g->overlap = true;
		}
		if (g->kinds_on) {
			uint8_t ki = r->kind[i];
			if (last != UINT64_MAX && ki < r->nkinds && kmap[ki] != KIND_NONE) {
				if (ICH_ARRAY_RESERVE(g->kind_of, g->n, g->capk, 4096))
					g->kind_of[g->n] = kmap[ki];
				else
					kinds_drop(g);
			} else {
				struct ich_heap_block b;
				ich_heap_run_block(r, i, &b);
				struct leak_kind kd = kind_of_block(&b, last);
				kind_put(g, &kd);
				if (g->kinds_on && last != UINT64_MAX && ki < r->nkinds)
					kmap[ki] = g->kind_of[g->n];
			}
		}
		g->cand[g->n++] = (struct leak_cand){ user, last };
	}
	return NULL;
}

/* Page-heap metadata: the handle page, the root page and its initial node
 * pool (heappage.c: 2 * PAGE_SIZE + POOL_SIZE 0x4000 at the handle), and
 * every node pool on pNodePoolListHead (each described by a node's
 * pVirtualBlock / nVirtualBlockSize).  _DPH_HEAP_BLOCK nodes point at
 * their blocks, so they must not count as references. */
static struct ich_error *page_heap_metadata(struct ich_leak_scan *g, const struct ich_heap *hp)
{
	const struct ich_dph_layout *L = ich_dph_layout_for(g->h->arch);
	struct ich_error *err = add_range(&g->ex, hp->address, 2 * 0x1000 + 0x4000);
	if (err || !L)
		return err;
	uint64_t node = 0;
	uint32_t n = 0;
	struct ich_error *e = ich_as_read_ptr(g->h->as, hp->dph_root + L->root_node_pool_head, &node);
	if (!e)
		e = ich_as_read_u32(g->h->as, hp->dph_root + L->root_n_node_pools, &n);
	for (uint32_t i = 0; !e && node && i < n && i < 100000; i++) {
		uint64_t va = 0, sz = 0;
		if ((e = ich_as_read_ptr(g->h->as, node + L->node_virtual_block, &va)) ||
		    (e = ich_as_read_ptr(g->h->as, node + L->node_virtual_size, &sz)))
			break;
		if (sz < (1ull << 32) && (err = add_range(&g->ex, va, sz)))
			break;
		if ((e = ich_as_read_ptr(g->h->as, node + L->node_next_alloc, &node)))
			break;
	}
	ich_error_destroy(e);
	return err;
}

/* The lookup's array, sorted and disjoint, and the index over it. */
static struct ich_error *build_index(struct ich_leak_scan *g)
{
	struct ich_error *err = leak_order_build(&g->o, g->cand, g->n, g->unsorted, g->overlap);
	if (err)
		return err;
	size_t ns = g->o.ns;
	g->marked = calloc(ns ? ns : 1, 1);
	g->work = malloc((ns ? ns : 1) * sizeof(*g->work));
	if (g->o.sorted != g->cand)
		g->wmark = malloc(g->n ? g->n : 1);
	if (!g->marked || !g->work || (g->o.sorted != g->cand && !g->wmark))
		return &ich_enomem;
	return leak_index_build(&g->ix, g->o.sorted, ns);
}

static inline void reach(struct ich_leak_scan *g, uint64_t v)
{
	size_t i = leak_index_find(&g->ix, v);
	if (i == LEAK_NONE || g->marked[i] != LEAK_UNREACHED)
		return;
	g->marked[i] = LEAK_REACHED;
	if (i < g->sweep)	/* behind the sweep: scanned from the worklist */
		g->work[g->nwork++] = (uint32_t)i;
}

static void scan_bytes(struct ich_leak_scan *g, const uint8_t *p, uint64_t va, uint64_t len)
{
	unsigned ps = g->ps;
	uint64_t skip = (ps - (va & (ps - 1))) & (ps - 1);
	if (skip >= len)
		return;
	p += skip;
	len -= skip;
	/* most words point nowhere near a block: the range test inline,
	 * with the bounds in registers (reach's stores could alias g) */
	uint64_t lo = g->ix.lo, span = g->ix.span;
	if (ps == 8) {
		for (uint64_t k = 0; k + 8 <= len; k += 8) {
			uint64_t v = ich_le64(p + k);
			if (v - lo <= span)
				reach(g, v);
		}
	} else {
		for (uint64_t k = 0; k + 4 <= len; k += 4) {
			uint64_t v = ich_le32(p + k);
			if (v - lo <= span)
				reach(g, v);
		}
	}
}

/* Scan [va, va+len) of captured data at p, minus heap memory. */
static void scan_root_range(struct ich_leak_scan *g, const uint8_t *p, uint64_t va, uint64_t len, uint64_t *scanned)
{
	const struct ranges *ex = &g->ex;
	/* first exclusion ending after va */
	size_t lo = 0, hi = ex->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ex->v[mid].hi <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* (a range reaching the top of the address space: its end, va + len,
	 * would be 0 and the range skipped) */
	uint64_t at = va, end = ich_add_sat(va, len);
	for (size_t i = lo; at < end; i++) {
		uint64_t stop = i < ex->n && ex->v[i].lo < end ? ex->v[i].lo : end;
		if (stop > at) {
			scan_bytes(g, p + (at - va), at, stop - at);
			*scanned += stop - at;
		}
		if (i >= ex->n || ex->v[i].lo >= end)
			break;
		at = ex->v[i].hi > at ? ex->v[i].hi : at;
	}
}

/* Scan reached block i's user data (in place when the dump holds it in
 * one piece, else through a buffer). */
static void scan_block(struct ich_leak_scan *g, size_t i, uint64_t *scanned)
{
	uint8_t buf[65536];
	const struct leak_cand *b = &g->o.sorted[i];
	g->marked[i] = LEAK_SCANNED;
	uint64_t len = b->last - b->user + 1, at = b->user;
	const uint8_t *p = len ? ich_as_peek(g->h->as, at, (size_t)len) : NULL;
	if (p && len == (size_t)len) {
		scan_bytes(g, p, at, len);
		*scanned += len;
		return;
	}
	while (len) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		size_t got = ich_as_read(g->h->as, at, buf, want, NULL);
		if (got < g->ps)
			break;
		got &= ~(size_t)(g->ps - 1);
		scan_bytes(g, buf, at, got);
		*scanned += got;
		at += got;
		len -= got;
	}
}

/* Every reached block scanned: the sweep in address order, and at each
 * step the blocks it reached behind itself. */
static void mark(struct ich_leak_scan *g, uint64_t *scanned)
{
	for (g->sweep = 0; g->sweep < g->o.ns; g->sweep++) {
		if (g->marked[g->sweep] != LEAK_REACHED)
			continue;
		scan_block(g, g->sweep, scanned);
		while (g->nwork)
			scan_block(g, g->work[--g->nwork], scanned);
	}
}

/* The marks by walk index, and (heaps out of order) each leak's place in
 * the address-ordered list; the scan's own arrays are freed. */
static struct ich_error *settle(struct ich_leak_scan *g)
{
	struct ich_error *err = NULL;
	if (g->o.sorted == g->cand) {
		g->nleaks = 0;
		for (size_t i = 0; i < g->n; i++)
			g->nleaks += g->marked[i] == LEAK_UNREACHED;
		g->wmark = g->marked;	/* walk index = sorted position */
		g->marked = NULL;
	} else {
		err = leak_order_settle(&g->o, g->n, g->marked, g->wmark, &g->slot, &g->nleaks);
	}
	leak_order_free(&g->o, g->cand);
	leak_index_free(&g->ix);
	free(g->marked);
	free(g->work);
	free(g->ex.v);
	g->marked = NULL;
	g->work = NULL;
	g->ex.v = NULL;
	return err;
}

void ich_leak_scan_free(struct ich_leak_scan *g)
{
	if (!g)
		return;
	leak_order_free(&g->o, g->cand);
	free(g->cand);
	free(g->marked);
	free(g->wmark);
	free(g->slot);
	free(g->ex.v);
	leak_index_free(&g->ix);
	free(g->work);
	free(g->buf);
	free(g->heap_end);
	kinds_drop(g);
	free(g);
}

struct ich_error *ich_heap_leak_scan(struct ich_heaps *h, struct ich_leak_scan **out, struct ich_leak_result *r)
{
	memset(r, 0, sizeof(*r));
	*out = NULL;
	const struct ich_minidump *md = ich_dump_minidump(h->dump);
	if (!md || !ich_dump_file_data(h->dump))
		return ich_error_create(ICH_ERR_UNSUPPORTED, "%s: leak detection reads a user-mode minidump's captured memory",
					ich_dump_path(h->dump));
	struct ich_leak_scan *g = calloc(1, sizeof(*g));
	if (!g)
		return &ich_enomem;
	g->h = h;
	g->ps = h->ptr;
	g->kinds_on = !leak_no_kinds && kinds_rehash(g);
	struct ich_error *err = NULL;
	g->heap_end = calloc(h->nheaps ? h->nheaps : 1, sizeof(*g->heap_end));
	if (!g->heap_end)
		err = &ich_enomem;
	for (size_t i = 0; i < h->nheaps && !err; i++) {
		struct ich_heap *hp = &h->heaps[i];
		if (hp->status != ICH_HEAP_OK) {
			g->heap_end[i] = g->n;
			r->heaps_skipped++;
			continue;
		}
		err = ich_heap_walk_runs(h, hp, collect_cb, collect_run, g, 0);
		g->heap_end[i] = g->n;
		if (err == &ich_enomem)
			break;
		if (err) {	/* partial: what was collected stays; the heap is reported */
			heap_problem(hp, hp->address, "walk for -l stopped: %s", err->message);
			ich_error_destroy(err);
			err = NULL;
		}
		r->heaps_walked++;
		for (size_t s = 0; s < hp->nsegments && !err; s++)
			err = add_range(&g->ex, hp->segments[s].base, (uint64_t)hp->segments[s].pages * 0x1000);
		if (!err && hp->kind == ICH_HEAP_KIND_PAGE)
			err = page_heap_metadata(g, hp);
		/* the _HEAP header itself (segment 0 starts there for NT heaps) */
		if (!err && hp->kind == ICH_HEAP_KIND_NT && hp->layout)
			err = add_range(&g->ex, hp->address, (uint64_t)ich_layout_off(hp->layout, ICH_F_HEAP_SIZEOF));
	}
	if (!err && g->n > UINT32_MAX - 1)
		err = ich_error_create(ICH_ERR_UNSUPPORTED, "more than 4 G busy blocks");
	if (!err) {
		merge_ranges(&g->ex);
		err = build_index(g);
	}
	if (g->kinds_on) {	/* the table is for the walk only */
		free(g->slots);
		g->slots = NULL;
		g->nslots = 0;
	}
	if (!err) {
		r->busy_blocks = g->o.ns;
		for (size_t i = 0; i < g->o.ns; i++)
			r->busy_bytes += g->o.sorted[i].last - g->o.sorted[i].user + 1;	/* the block's size */
		/* roots: captured memory outside the heaps (the sweep is at 0:
		 * they only mark) */
		for (size_t i = 0; i < md->nranges; i++) {
			const struct ich_md_range *rg = &md->ranges[i];
			const uint8_t *d = ich_heap_file_span(h->dump, rg->rva, rg->size);
			if (!d)
				continue;
			scan_root_range(g, d, rg->start, rg->size, &r->root_bytes);
		}
		/* roots: the threads' register contexts */
		for (size_t i = 0; i < md->nthreads; i++) {
			const struct ich_md_thread *t = &md->threads[i];
			const uint8_t *d = ich_heap_file_span(h->dump, t->context_rva, t->context_size);
			if (!t->context_size || !d)
				continue;
			scan_bytes(g, d, 0, t->context_size);
			r->context_bytes += t->context_size;
		}
		mark(g, &r->block_bytes);
		err = settle(g);
	}
	if (err) {
		ich_leak_scan_free(g);
		memset(r, 0, sizeof(*r));
		return err;
	}
	r->nleaks = g->nleaks;
	*out = g;
	return NULL;
}

static struct ich_error *emit_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct ich_leak_scan *g = arg;
	if (!is_candidate(b))
		return NULL;
	size_t w = g->k++;
	if (w >= g->n || g->cand[w].user != b->user || g->cand[w].last != last_of(b))
		return g->cb_err = ich_error_create(ICH_ERR_INTERNAL,
						    "heap 0x%" PRIx64 ": the second walk for -l gave block 0x%" PRIx64
						    " where the first gave %s",
						    hp->address, b->user, w >= g->n ? "no more" : "another");
	if (g->wmark[w] != LEAK_UNREACHED)
		return NULL;
	struct ich_leak l = { .heap = owner_of(hp, b), .block = *b };
	g->emitted++;
	if (g->buf) {
		g->buf[g->slot[w]] = l;
		return NULL;
	}
	return g->cb_err = g->fn(&l, g->arg);
}

/* A run's blocks in the second walk: only its candidates are made into
 * block records. */
static struct ich_error *emit_run(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	bool by_kind = r->tmpl.layer != ICH_LAYER_BACKEND;	/* is_candidate from the kind alone */
	for (size_t i = 0; i < r->count; i++) {
		const struct ich_heap_block_kind *k = &r->kinds[r->kind[i]];
		if (by_kind && (k->state != ICH_BLOCK_BUSY || !k->size))
			continue;
		struct ich_heap_block b;
		ich_heap_run_block(r, i, &b);
		struct ich_error *err = emit_cb(hp, &b, arg);
		if (err)
			return err;
	}
	return NULL;
}

/* Hand out the leak at walk index w of heap hp, rebuilt from its user
 * range and its kind. */
static struct ich_error *emit_kind(struct ich_leak_scan *g, const struct ich_heap *hp, size_t w)
{
	const struct leak_cand *c = &g->cand[w];
	const struct leak_kind *k = &g->kinds[g->kind_of[w]];
	struct ich_leak l = { .block = {
		.header = c->user - k->delta,
		.user = c->user,
		.size = k->top_size ? k->top_size : c->last - c->user + 1,
		.block_size = k->block_size,
		.unused = k->unused,
		.prev_size = k->prev_size,
		.segment = k->segment,
		.flags = k->flags,
		.state = ICH_BLOCK_BUSY,	/* every candidate is */
		.layer = (enum ich_block_layer)k->layer,
	} };
	l.heap = owner_of(hp, &l.block);
	g->emitted++;
	if (g->buf) {
		g->buf[g->slot[w]] = l;
		return NULL;
	}
	return g->fn(&l, g->arg);
}

/* The leaks from the candidates' kinds, in walk order (no second walk). */
static struct ich_error *emit_kinds(struct ich_leak_scan *g)
{
	struct ich_heaps *h = g->h;
	size_t w = 0;
	for (size_t i = 0; i < h->nheaps; i++) {
		const struct ich_heap *hp = &h->heaps[i];
		for (size_t end = g->heap_end[i]; w < end; w++) {
			if (g->wmark[w] != LEAK_UNREACHED)
				continue;
			struct ich_error *err = emit_kind(g, hp, w);
			if (err)
				return err;
		}
	}
	g->k = w;
	return NULL;
}

struct ich_error *ich_leak_scan_each(struct ich_leak_scan *g, ich_leak_fn *fn, void *arg)
{
	struct ich_heaps *h = g->h;
	g->k = 0;
	g->emitted = 0;
	g->cb_err = NULL;
	g->fn = fn;
	g->arg = arg;
	free(g->buf);
	g->buf = NULL;
	if (g->slot && !(g->buf = malloc((g->nleaks ? g->nleaks : 1) * sizeof(*g->buf))))
		return &ich_enomem;
	struct ich_error *err = NULL;
	if (g->kinds_on) {
		err = emit_kinds(g);
		if (err)
			g->cb_err = err;
	}
	for (size_t i = 0; i < h->nheaps && !err && !g->kinds_on; i++) {
		struct ich_heap *hp = &h->heaps[i];
		if (hp->status != ICH_HEAP_OK)
			continue;
		size_t start = i ? g->heap_end[i - 1] : 0, end = g->heap_end[i];
		if (g->k != start) {
			err = ich_error_create(ICH_ERR_INTERNAL, "heap 0x%" PRIx64 ": the second walk for -l is at block %zu, the heap's start at %zu",
					       hp->address, g->k, start);
			break;
		}
		bool any = false;
		for (size_t w = start; w < end && !any; w++)
			any = g->wmark[w] == LEAK_UNREACHED;
		if (!any) {
			/* nothing to list: its first walk's state stays */
			g->k = end;
			continue;
		}
		err = ich_heap_walk_runs(h, hp, emit_cb, emit_run, g, 0);
		if (g->cb_err) {	/* the walk stopped for it (and returns it) */
			err = g->cb_err == &ich_stop ? NULL : g->cb_err;
			break;
		}
		if (err && err != &ich_enomem) {
			/* as the first walk: the same stop, reported the same */
			heap_problem(hp, hp->address, "walk for -l stopped: %s", err->message);
			ich_error_destroy(err);
			err = NULL;
		}
	}
	if (g->cb_err == &ich_stop)
		return NULL;
	if (!err && g->k != g->n)
		err = ich_error_create(ICH_ERR_INTERNAL, "the second walk for -l gave %zu blocks where the first gave %zu",
				       g->k, g->n);
	if (!err && g->emitted != g->nleaks)
		err = ich_error_create(ICH_ERR_INTERNAL, "the second walk for -l found %zu of the %zu leaks", g->emitted,
				       g->nleaks);
	for (size_t i = 0; !err && g->buf && i < g->nleaks; i++)
		err = fn(&g->buf[i], arg);
	if (err == &ich_stop)
		err = NULL;
	free(g->buf);
	g->buf = NULL;
	return err;
}

void ich_leak_result_free(struct ich_leak_result *r)
{
	free(r->leaks);
	memset(r, 0, sizeof(*r));
}

static struct ich_error *keep_leak(const struct ich_leak *l, void *arg)
{
	struct ich_leak_result *r = arg;
	r->leaks[r->nleaks++] = *l;
	return NULL;
}

struct ich_error *ich_heap_leaks(struct ich_heaps *h, struct ich_leak_result *r)
{
	struct ich_leak_scan *g;
	struct ich_error *err = ich_heap_leak_scan(h, &g, r);
	if (err)
		return err;
	size_t n = r->nleaks;
	r->leaks = malloc((n ? n : 1) * sizeof(*r->leaks));
	r->nleaks = 0;
	if (!r->leaks)
		err = &ich_enomem;
	else
		err = ich_leak_scan_each(g, keep_leak, r);
	ich_leak_scan_free(g);
	if (err)
		ich_leak_result_free(r);
	return err;
}
