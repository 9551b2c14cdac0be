/* SPDX-License-Identifier: MIT */
/*
 * `!heap -l`: leaked heap blocks by reachability (a mark phase of a
 * conservative garbage collector).  The !heap documentation describes the
 * command as a garbage-collector algorithm over busy blocks not referenced
 * anywhere in the process address space (windbg-docs, !heap -l); layouts.md
 * §6 gives the suggested implementation, followed here:
 *
 *  1. Every walkable heap is walked once through ich_heap_walk (NT back
 *     end, LFH, large blocks, page heap, and whatever later walkers emit);
 *     busy blocks are collected, and every block's whole extent, every NT
 *     segment and every page-heap metadata area become "heap memory",
 *     which is never a root.
 *  2. The blocks are sorted by user address once; a hash from 64 KiB
 *     chunk to the run of blocks overlapping that chunk narrows a lookup
 *     to a few blocks, then a binary search finds the one whose
 *     [user, user+size) holds the value (interior pointers count).
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
 *
 * Work is linear in the bytes scanned; memory is O(blocks + chunks).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/leak.h>
#include <icpheap/minidump.h>
#include <icpheap/pageheap.h>

#include "core/grow.h"
#include "core/endian.h"
#include "heap/heap_internal.h"

#define CHUNK_SHIFT 16
#define CHUNK_MASK ((UINT64_C(1) << CHUNK_SHIFT) - 1)

struct lblock {
	uint64_t user, end;	/* [user, end): end > user */
	uint64_t walk_index;	/* into gc.full */
};

struct range {
	uint64_t lo, hi;
};

struct ranges {
	struct range *v;
	size_t n, cap;
};

struct bucket {
	uint64_t key;		/* chunk + 1; 0 = empty */
	uint32_t lo, hi;	/* blocks [lo, hi) overlap the chunk */
};

/* gc.marked[] */
enum { UNREACHED, REACHED, SCANNED };

struct gc {
	struct ich_heaps *h;
	struct lblock *b;	size_t nb, capb;
	bool unsorted;		/* the walks gave b out of address order */
	/* walk order: each candidate as the leak record it would be (so the
	 * leaks are these records, compacted in place: no second copy) */
	struct ich_leak *full;
	struct ranges ex;	/* heap memory: not roots */
	struct bucket *tab;	size_t tabmask;
	uint64_t min_user, max_end;
	uint8_t *marked;	/* UNREACHED / REACHED / SCANNED per block */
	size_t sweep;		/* the block the sweep is at */
	uint32_t *work;		size_t nwork;	/* reached blocks behind the sweep */
	unsigned ps;
	struct ich_error *err;
};

static struct ich_error *add_range(struct ranges *r, uint64_t lo, uint64_t hi)
{
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

static struct ich_error *collect_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct gc *g = arg;
	/* heap memory: back-end and LFH blocks lie in the NT segments (added
	 * whole after the walk); a large block spans its
	 * _HEAP_VIRTUAL_ALLOC_ENTRY + CommitSize; other layers their extent */
	if (b->layer != ICH_LAYER_BACKEND && b->layer != ICH_LAYER_LFH) {
		uint64_t lo = b->layer == ICH_LAYER_VIRTUAL && b->segment && b->segment <= b->header ? b->segment
												  : b->header;
		struct ich_error *err = add_range(&g->ex, lo, lo + b->block_size);
		if (err)
			return err;
	}
	/* candidates: busy blocks with user data (a zero-byte block holds
	 * nothing a pointer could point into) */
	if (b->state != ICH_BLOCK_BUSY || !b->size)
		return NULL;
	/* the segment's own header block (the _HEAP_ENTRY at the segment base
	 * that holds the _HEAP / _HEAP_SEGMENT): heap metadata, not a leak */
	if (b->layer == ICH_LAYER_BACKEND && b->header == b->segment)
		return NULL;
	if (g->nb == g->capb) {
		size_t nc = g->capb ? g->capb * 2 : 4096;
		struct lblock *n = realloc(g->b, nc * sizeof(*n));
		if (!n)
			return &ich_enomem;
		g->b = n;
		struct ich_leak *f = realloc(g->full, nc * sizeof(*f));
		if (!f)
			return &ich_enomem;
		g->full = f;
		g->capb = nc;
	}
	struct ich_leak *l = &g->full[g->nb];
	l->block = *b;
	/* a light page-heap block belongs to its page heap */
	l->heap = hp->dph_owner && b->layer == ICH_LAYER_PAGE_HEAP ? hp->dph_owner : hp->address;
	if (g->nb && b->user < g->b[g->nb - 1].user)
		g->unsorted = true;
	g->b[g->nb] = (struct lblock){ b->user, b->user + b->size, g->nb };
	g->nb++;
	return NULL;
}

/* Page-heap metadata: the handle page, the root page and its initial node
 * pool (heappage.c: 2 * PAGE_SIZE + POOL_SIZE 0x4000 at the handle), and
 * every node pool on pNodePoolListHead (each described by a node's
 * pVirtualBlock / nVirtualBlockSize).  _DPH_HEAP_BLOCK nodes point at
 * their blocks, so they must not count as references. */
static struct ich_error *page_heap_metadata(struct gc *g, const struct ich_heap *hp)
{
	const struct ich_dph_layout *L = ich_dph_layout_for(g->h->arch);
	struct ich_error *err = add_range(&g->ex, hp->address, hp->address + 2 * 0x1000 + 0x4000);
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
		if (sz < (1ull << 32) && (err = add_range(&g->ex, va, va + sz)))
			break;
		if ((e = ich_as_read_ptr(g->h->as, node + L->node_next_alloc, &node)))
			break;
	}
	ich_error_destroy(e);
	return err;
}

static int block_cmp(const void *a, const void *b)
{
	const struct lblock *x = a, *y = b;
	return x->user < y->user ? -1 : x->user > y->user;
}

static size_t hash_chunk(uint64_t c)
{
	c ^= c >> 29;
	c *= 0xbf58476d1ce4e5b9ull;
	c ^= c >> 32;
	return (size_t)c;
}

static struct bucket *bucket_for(struct gc *g, uint64_t chunk, bool insert)
{
	size_t i = hash_chunk(chunk) & g->tabmask;
	for (;;) {
		struct bucket *bk = &g->tab[i];
		if (bk->key == chunk + 1)
			return bk;
		if (!bk->key) {
			if (!insert)
				return NULL;
			bk->key = chunk + 1;
			bk->lo = UINT32_MAX;
			bk->hi = 0;
			return bk;
		}
		i = (i + 1) & g->tabmask;
	}
}

static struct ich_error *build_index(struct gc *g)
{
	/* one walk gives a heap's blocks in address order (collect_cb
	 * noticed when not): sort only when the heaps' runs are out of order */
	if (g->unsorted)
		qsort(g->b, g->nb, sizeof(g->b[0]), block_cmp);
	/* drop overlaps (a corrupt walk): keep the first of overlapping
	 * blocks; count the chunks the rest cover, in the same pass */
	size_t o = 0;
	uint64_t chunks = 0;
	for (size_t i = 0; i < g->nb; i++) {
		if (o && g->b[i].user < g->b[o - 1].end)
			continue;
		uint64_t span = ((g->b[i].end - 1) >> CHUNK_SHIFT) - (g->b[i].user >> CHUNK_SHIFT) + 1;
		if (span > (1u << 20))
			span = 1u << 20;	/* a block over 64 GiB: only its first 64 GiB are indexed */
		chunks += span;
		g->b[o++] = g->b[i];
	}
	g->nb = o;
	size_t cap = 64;
	while (cap < chunks * 2 + 64)
		cap <<= 1;
	g->tab = calloc(cap, sizeof(*g->tab));
	if (!g->tab)
		return &ich_enomem;
	g->tabmask = cap - 1;
	struct bucket *last = NULL;	/* sorted blocks: runs of them share a chunk */
	uint64_t last_c = 0;
	for (size_t i = 0; i < g->nb; i++) {
		uint64_t c0 = g->b[i].user >> CHUNK_SHIFT, c1 = (g->b[i].end - 1) >> CHUNK_SHIFT;
		if (c1 - c0 >= (1u << 20))
			c1 = c0 + (1u << 20) - 1;
		for (uint64_t c = c0; c <= c1; c++) {
			struct bucket *bk = last && c == last_c ? last : bucket_for(g, c, true);
			last = bk;
			last_c = c;
			if (bk->lo > i)
				bk->lo = (uint32_t)i;
			if (bk->hi < i + 1)
				bk->hi = (uint32_t)(i + 1);
		}
	}
	if (g->nb) {
		g->min_user = g->b[0].user;
		g->max_end = g->b[g->nb - 1].end;
	}
	g->marked = calloc(g->nb ? g->nb : 1, 1);
	g->work = malloc((g->nb ? g->nb : 1) * sizeof(*g->work));
	if (!g->marked || !g->work)
		return &ich_enomem;
	return NULL;
}

/* v is in [min_user, max_end) (scan_bytes tested it). */
static inline void reach(struct gc *g, uint64_t v)
{
	struct bucket *bk = bucket_for(g, v >> CHUNK_SHIFT, false);
	if (!bk)
		return;
	/* lo becomes the first block in [lo, hi) that starts after v */
	size_t lo = bk->lo, hi = bk->hi;
	if (hi - lo > 8) {
		/* the blocks of a chunk are mostly alike: guess from v's offset
		 * in the chunk, then widen by doubling steps from the guess
		 * until the range holds the answer (a binary search over a
		 * chunk's hundreds of blocks was ~ten dependent cache misses in
		 * g->b, ~40% of scan_bytes in perf on the page-heap builder's
		 * big dump, issue 12) */
		size_t guess = lo + (size_t)(((v & CHUNK_MASK) * (uint64_t)(hi - lo)) >> CHUNK_SHIFT);
		if (g->b[guess].user <= v) {
			size_t known = guess, step = 1;	/* b[known].user <= v */
			for (;;) {
				size_t at = known + step;
				if (at >= hi)
					break;
				if (g->b[at].user > v) {
					hi = at;
					break;
				}
				known = at;
				step <<= 1;
			}
			lo = known + 1;
		} else {
			size_t above = guess, step = 1;	/* b[above].user > v */
			while (above - lo >= step) {
				size_t at = above - step;
				if (g->b[at].user <= v) {
					lo = at + 1;
					break;
				}
				above = at;
				step <<= 1;
			}
			hi = above;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->b[mid].user <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return;
	size_t i = lo - 1;
	if (v >= g->b[i].end || g->marked[i] != UNREACHED)
		return;
	g->marked[i] = REACHED;
	if (i < g->sweep)	/* behind the sweep: scanned from the worklist */
		g->work[g->nwork++] = (uint32_t)i;
}

static void scan_bytes(struct gc *g, const uint8_t *p, uint64_t va, uint64_t len)
{
	unsigned ps = g->ps;
	uint64_t skip = (ps - (va & (ps - 1))) & (ps - 1);
	if (skip >= len)
		return;
	p += skip;
	len -= skip;
	/* most words point nowhere near a block: the range test inline,
	 * with the bounds in registers (reach's stores could alias g) */
	uint64_t lo = g->min_user, span = g->max_end - g->min_user;
	if (ps == 8) {
		for (uint64_t k = 0; k + 8 <= len; k += 8) {
			uint64_t v = ich_le64(p + k);
			if (v - lo < span)
				reach(g, v);
		}
	} else {
		for (uint64_t k = 0; k + 4 <= len; k += 4) {
			uint64_t v = ich_le32(p + k);
			if (v - lo < span)
				reach(g, v);
		}
	}
}

/* Scan [va, va+len) of captured data at p, minus heap memory. */
static void scan_root_range(struct gc *g, const uint8_t *p, uint64_t va, uint64_t len, uint64_t *scanned)
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
	uint64_t at = va, end = va + len;
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
static void scan_block(struct gc *g, size_t i, uint64_t *scanned)
{
	uint8_t buf[65536];
	const struct lblock *b = &g->b[i];
	g->marked[i] = SCANNED;
	uint64_t len = b->end - b->user, at = b->user;
	const uint8_t *p = ich_as_peek(g->h->as, at, (size_t)len);
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
static void mark(struct gc *g, uint64_t *scanned)
{
	for (g->sweep = 0; g->sweep < g->nb; g->sweep++) {
		if (g->marked[g->sweep] != REACHED)
			continue;
		scan_block(g, g->sweep, scanned);
		while (g->nwork)
			scan_block(g, g->work[--g->nwork], scanned);
	}
}

void ich_leak_result_free(struct ich_leak_result *r)
{
	free(r->leaks);
	memset(r, 0, sizeof(*r));
}

struct ich_error *ich_heap_leaks(struct ich_heaps *h, struct ich_leak_result *r)
{
	memset(r, 0, sizeof(*r));
	const struct ich_minidump *md = ich_dump_minidump(h->dump);
	if (!md || !ich_dump_file_data(h->dump))
		return ich_error_create(ICH_ERR_UNSUPPORTED, "%s: leak detection reads a user-mode minidump's captured memory",
					ich_dump_path(h->dump));
	struct gc g = { .h = h, .ps = h->ptr };
	struct ich_error *err = NULL;
	for (size_t i = 0; i < h->nheaps && !err; i++) {
		struct ich_heap *hp = &h->heaps[i];
		if (hp->status != ICH_HEAP_OK) {
			r->heaps_skipped++;
			continue;
		}
		err = ich_heap_walk(h, hp, collect_cb, &g);
		if (err == &ich_enomem)
			break;
		if (err) {	/* partial: what was collected stays; the heap is reported */
			heap_problem(hp, hp->address, "walk for -l stopped: %s", err->message);
			ich_error_destroy(err);
			err = NULL;
		}
		r->heaps_walked++;
		for (size_t s = 0; s < hp->nsegments && !err; s++)
			err = add_range(&g.ex, hp->segments[s].base,
					hp->segments[s].base + (uint64_t)hp->segments[s].pages * 0x1000);
		if (!err && hp->kind == ICH_HEAP_KIND_PAGE)
			err = page_heap_metadata(&g, hp);
		/* the _HEAP header itself (segment 0 starts there for NT heaps) */
		if (!err && hp->kind == ICH_HEAP_KIND_NT && hp->layout)
			err = add_range(&g.ex, hp->address,
					hp->address + (uint64_t)ich_layout_off(hp->layout, ICH_F_HEAP_SIZEOF));
	}
	if (!err && g.nb > UINT32_MAX - 1)
		err = ich_error_create(ICH_ERR_UNSUPPORTED, "more than 4 G busy blocks");
	if (!err) {
		merge_ranges(&g.ex);
		err = build_index(&g);
	}
	if (!err) {
		r->busy_blocks = g.nb;
		for (size_t i = 0; i < g.nb; i++)
			r->busy_bytes += g.b[i].end - g.b[i].user;	/* the block's size */
		/* roots: captured memory outside the heaps (the sweep is at 0:
		 * they only mark) */
		for (size_t i = 0; i < md->nranges; i++) {
			const struct ich_md_range *rg = &md->ranges[i];
			const uint8_t *d = ich_heap_file_span(h->dump, rg->rva, rg->size);
			if (!d)
				continue;
			scan_root_range(&g, d, rg->start, rg->size, &r->root_bytes);
		}
		/* roots: the threads' register contexts */
		for (size_t i = 0; i < md->nthreads; i++) {
			const struct ich_md_thread *t = &md->threads[i];
			const uint8_t *d = ich_heap_file_span(h->dump, t->context_rva, t->context_size);
			if (!t->context_size || !d)
				continue;
			scan_bytes(&g, d, 0, t->context_size);
			r->context_bytes += t->context_size;
		}
		mark(&g, &r->block_bytes);
		if (!g.unsorted) {
			/* b is in walk order (overlaps dropped keep it so): the
			 * leaks move down within full, which becomes the result */
			size_t k = 0;
			for (size_t i = 0; i < g.nb; i++)
				if (g.marked[i] == UNREACHED) {
					if (k != g.b[i].walk_index)
						g.full[k] = g.full[g.b[i].walk_index];
					k++;
				}
			r->leaks = g.full;
			r->nleaks = k;
			g.full = NULL;
			if (k && k < g.capb / 2) {	/* give back what the reached blocks held */
				struct ich_leak *fit = realloc(r->leaks, k * sizeof(*fit));
				if (fit)
					r->leaks = fit;
			}
			if (!r->leaks && !(r->leaks = calloc(1, sizeof(*r->leaks))))
				err = &ich_enomem;
		} else {
			size_t nleak = 0;
			for (size_t i = 0; i < g.nb; i++)
				nleak += g.marked[i] == UNREACHED;
			r->leaks = calloc(nleak ? nleak : 1, sizeof(*r->leaks));
			if (!r->leaks)
				err = &ich_enomem;
			for (size_t i = 0; r->leaks && i < g.nb; i++)
				if (g.marked[i] == UNREACHED)
					r->leaks[r->nleaks++] = g.full[g.b[i].walk_index];
		}
	}
	free(g.b);
	free(g.full);
	free(g.ex.v);
	free(g.tab);
	free(g.marked);
	free(g.work);
	if (err)
		ich_leak_result_free(r);
	return err;
}
