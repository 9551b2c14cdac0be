/* SPDX-License-Identifier: MIT */
/*
 * The NT heap back end (layouts.md §2, Algorithm A; S2 VmmHeap_*):
 * segments from _HEAP.SegmentList, entries decoded with _HEAP.Encoding
 * when EncodeFlagMask says so, the SmallTagIndex checksum verified on
 * every entry, PreviousSize chains checked, uncommitted ranges skipped,
 * large blocks from VirtualAllocdBlocks.
 *
 * Requested sizes: back-end and LFH blocks keep "block size - requested"
 * (header included) in UnusedBytes (layouts.md §10).  Large blocks follow
 * the heap source (WRK RtlAllocateHeap, ReactOS RtlpGetSizeOfBigBlock):
 * BusyBlock.Size holds CommitSize - requested, in bytes; MemProcFS
 * subtracts sizeof(_HEAP_VIRTUAL_ALLOC_ENTRY) once more, which the heap
 * source contradicts, so icpheap does not.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/endian.h"
#include "heap/heap_internal.h"
#include "heap/segment_heap.h"

#define MAX_SEGMENTS 4096
#define MAX_UCRS 65536
#define MAX_VIRTUAL_BLOCKS 1000000
#define PAGE 0x1000u

struct ich_error *nt_heap_validate(struct ich_heaps *h, struct ich_heap *heap,
				   const struct ntofs *o, char *why, size_t whylen)
{
	why[0] = '\0';
	uint32_t sig;
	struct ich_error *err = ich_as_read_u32(h->as, heap->address + (uint64_t)o->heap_signature, &sig);
	if (err)
		return err;
	if (sig != NT_HEAP_SIGNATURE) {
		snprintf(why, whylen, "HEAP.Signature at +0x%x is 0x%08x, not 0xeeffeeff",
			 o->heap_signature, sig);
		return NULL;
	}
	/* The heap is its own first segment: SegmentList.Flink points at
	 * heap + SegmentListEntry (layouts.md §2, recommended validation). */
	uint64_t flink;
	if ((err = ich_as_read_ptr(h->as, heap->address + (uint64_t)o->heap_segment_list, &flink)))
		return err;
	uint64_t want = heap->address + (uint64_t)o->seg_list_entry;
	if (flink != want) {
		snprintf(why, whylen, "HEAP.SegmentList.Flink at +0x%x is 0x%" PRIx64 ", expected 0x%" PRIx64,
			 o->heap_segment_list, flink, want);
		return NULL;
	}
	/* VirtualAllocdBlocks is a list head: an empty one points at itself,
	 * a non-empty one at a readable entry. */
	uint64_t va = heap->address + (uint64_t)o->heap_virtual_allocd_blocks, vflink;
	if ((err = ich_as_read_ptr(h->as, va, &vflink)))
		return err;
	if (vflink != va) {
		uint64_t blink;
		struct ich_error *e2 = ich_as_read_ptr(h->as, vflink + h->ptr, &blink);
		bool ok = !e2 && blink == va;
		ich_error_destroy(e2);
		if (!ok && vflink == 0) {
			snprintf(why, whylen, "HEAP.VirtualAllocdBlocks at +0x%x is a NULL list", o->heap_virtual_allocd_blocks);
			return NULL;
		}
	}
	uint32_t flags, force, efm;
	if ((err = ich_as_read_u32(h->as, heap->address + (uint64_t)o->heap_flags, &flags)) ||
	    (err = ich_as_read_u32(h->as, heap->address + (uint64_t)o->heap_force_flags, &force)) ||
	    (err = ich_as_read_u32(h->as, heap->address + (uint64_t)o->heap_encode_flag_mask, &efm)))
		return err;
	heap->flags = flags;
	heap->force_flags = force;
	uint8_t fet = 0;
	uint64_t fe = 0;
	if (o->heap_front_end_heap_type >= 0)
		ich_error_destroy(ich_as_read_u8(h->as, heap->address + (uint64_t)o->heap_front_end_heap_type, &fet));
	if (o->heap_front_end_heap >= 0)
		ich_error_destroy(ich_as_read_ptr(h->as, heap->address + (uint64_t)o->heap_front_end_heap, &fe));
	heap->lfh = fet == 2 && fe;	/* 2 = LFH (S2) */
	heap->front_end = heap->lfh ? fe : 0;
	return NULL;
}

/* Encoding key: the small header of _HEAP.Encoding (8 bytes at +8 of the
 * 16-byte x64 entry, the whole 8-byte x86 entry), used when
 * EncodeFlagMask has HEAP_ENCODE_FLAG_MAKE_ENCODING_ENABLED. */
struct ich_error *encoding_key(struct walk_ctx *w, uint64_t *key)
{
	uint32_t efm;
	const struct ntofs *o = w->o;
	struct ich_error *err = ich_as_read_u32(w->h->as, w->heap->address + (uint64_t)o->heap_encode_flag_mask, &efm);
	if (err)
		return err;
	*key = 0;
	if (!(efm & HEAP_ENCODE_FLAG_MAKE_ENCODING_ENABLED))
		return NULL;
	return ich_as_read_u64(w->h->as, w->heap->address + (uint64_t)o->heap_encoding +
			       (uint64_t)o->entry_small_header, key);
}

/* The entry at e, decoded; false when its small header is not in the dump.
 * The header is looked at in place when the dump holds it contiguously
 * (ich_as_peek_window: the window follows the walk, ich_as_read_ahead
 * works in it), so the walk copies nothing per block. */
static bool entry_at(struct walk_ctx *w, uint64_t e, struct heap_entry *he)
{
	/* Each entry's address comes from the header before it, a chain of
	 * loads the CPU cannot run ahead of: keep the next 2 KiB requested,
	 * as a read pass streams them (issue 12). */
	ich_as_read_ahead(w->h->as, e, 2048);
	uint64_t a = e + (uint64_t)w->o->entry_small_header;
	const uint8_t *p = ich_as_peek_window(w->h->as, a, 8);
	uint8_t buf[8];
	if (!p) {
		if (ich_as_read(w->h->as, a, buf, 8, NULL) != 8)
			return false;
		p = buf;
	}
	entry_decode(ich_le64(p), w->key, he);
	return true;
}

/* Read and decode the entry at e (an error names what is missing). */
static struct ich_error *read_entry(struct walk_ctx *w, uint64_t e, struct heap_entry *he)
{
	if (entry_at(w, e, he))
		return NULL;
	uint64_t raw;
	struct ich_error *err = ich_as_read_u64(w->h->as, e + (uint64_t)w->o->entry_small_header, &raw);
	if (err)
		return err;
	entry_decode(raw, w->key, he);
	return NULL;
}

struct ich_error *nt_heap_read_entry(struct walk_ctx *w, uint64_t e, struct heap_entry *he)
{
	return read_entry(w, e, he);
}

/* At most this many headers kept from the pre-pass (8 bytes each); past
 * it, the listing pass reads the rest from the dump as usual. */
#define MAX_REC (1u << 20)

/* Pre-pass: keep the entry at e (raw: its small header as stored). */
static void rec_push(struct walk_ctx *w, uint64_t e, uint64_t raw)
{
	if (!w->recording || w->nrec >= MAX_REC)
		return;
	if (!ICH_ARRAY_RESERVE(w->rec, w->nrec, w->cap_rec, 4096)) {
		w->recording = false;
		return;
	}
	if (e != w->rec_next) {
		if (!ICH_ARRAY_RESERVE(w->runs, w->nruns, w->cap_runs, 64)) {
			w->recording = false;
			return;
		}
		w->runs[w->nruns++] = (struct rec_run){ w->nrec, e };
	}
	w->rec[w->nrec++] = raw;
	w->rec_next = e + (uint64_t)(uint16_t)(raw ^ w->key) * w->unit;
}

/* Listing: the cursor at rec[i] (a segment's first, a run's start). */
static void rec_seek(struct walk_ctx *w, size_t i)
{
	w->rec_cur = i;
	while (w->run_cur < w->nruns && w->runs[w->run_cur].at < i)
		w->run_cur++;
	if (w->run_cur < w->nruns && w->runs[w->run_cur].at == i)
		w->rec_addr = w->runs[w->run_cur].addr;
}

/* Listing: the cursor one entry on. */
static inline void rec_step(struct walk_ctx *w)
{
	uint64_t size = (uint16_t)(w->rec[w->rec_cur] ^ w->key);
	w->rec_cur++;
	if (w->run_cur + 1 < w->nruns && w->runs[w->run_cur + 1].at == w->rec_cur)
		w->rec_addr = w->runs[++w->run_cur].addr;
	else
		w->rec_addr += size * w->unit;
}

/* The walk loop's entry at e: from the pre-pass's record when it has e
 * (the listing pass), else read (and recorded during the pre-pass).  The
 * walk of a segment only moves forward, so the record is a cursor. */
static struct ich_error *loop_entry(struct walk_ctx *w, uint64_t e, struct heap_entry *he)
{
	while (w->rec_cur < w->rec_end && w->rec_addr < e)
		rec_step(w);
	if (w->rec_cur < w->rec_end && w->rec_addr == e) {
		entry_decode(w->rec[w->rec_cur], w->key, he);
		rec_step(w);
		return NULL;
	}
	struct ich_error *err = read_entry(w, e, he);
	if (!err)
		rec_push(w, e, he->raw);
	return err;
}

struct ucr_collect {
	struct walk_ctx *w;
	struct ich_heap_segment *seg;
};

static struct ich_error *ucr_cb(uint64_t node, void *arg)
{
	struct ucr_collect *c = arg;
	const struct ntofs *o = c->w->o;
	uint64_t d = node - (uint64_t)o->ucr_segment_entry, a, s;
	struct ich_error *err = ich_as_read_ptr(c->w->h->as, d + (uint64_t)o->ucr_address, &a);
	if (!err)
		err = ich_as_read_ptr(c->w->h->as, d + (uint64_t)o->ucr_size, &s);
	if (err)
		return err;
	if (!ICH_ARRAY_PUSH_ROOM(c->seg->ucr, c->seg->nucr))
		return &ich_enomem;
	c->seg->ucr[c->seg->nucr++] = (struct ich_heap_ucr){ a, s };
	return NULL;
}

static int ucr_cmp(const void *a, const void *b)
{
	const struct ich_heap_ucr *x = a, *y = b;
	return x->address < y->address ? -1 : x->address > y->address;
}

/* LFH containers found in this heap's back end, for key recovery. */
struct ub_list {
	uint64_t *v;
	uint64_t *size;
	size_t n;
};

/*
 * A walk that only sums blocks up (no callback, or -stat's) and does not know
 * RtlpLFHKey yet goes over the back end once: the LFH containers it meets
 * wait here until the walk of every segment has found them all and the key
 * is recovered from them (lfh_recover_key), then they are walked.  The
 * totals are sums (order-free); the problems the containers' walks report
 * are put back where the one-pass order (a pre-pass for the key, then the
 * listing) has them: after the first `pos` of the back end's (issue 12:
 * the back-end chain read once, not twice).
 */
struct deferred_ub {
	uint64_t ub, size;
	size_t pos;	/* back-end problems reported before it */
	bool for_key;	/* one the pre-pass would have found (not past an unreadable entry in its run) */
};
struct deferred {
	struct deferred_ub *v;
	size_t n, cap;
	bool failed;	/* out of memory: the walk fails with ich_enomem */
	uint64_t skip_until;	/* the pre-pass skips the rest of a run after an unreadable entry */
};

static void defer_ub(struct deferred *d, struct ich_heap *heap, uint64_t ub, uint64_t size, uint64_t at)
{
	if (!ICH_ARRAY_RESERVE(d->v, d->n, d->cap, 64)) {
		d->failed = true;
		return;
	}
	d->v[d->n++] = (struct deferred_ub){ ub, size, heap->nproblems, at >= d->skip_until };
}

/*
 * The entry at c (he: decoded by the caller) checks out as a resync point:
 * checksum good, size within the run, and the entry after it either ends
 * the run or is itself good with a PreviousSize equal to this entry's
 * Size (the chain holds).
 */
static bool resync_point(struct walk_ctx *w, uint64_t c, const struct heap_entry *he, uint64_t limit)
{
	struct heap_entry nx;
	if (!he->checksum_ok || !he->size)
		return false;
	/* sizes against what is left (c + size can wrap past 2^64) */
	if ((uint64_t)he->size * w->unit > limit - c)
		return false;
	uint64_t n = c + (uint64_t)he->size * w->unit;
	if (n == limit)
		return true;
	return entry_at(w, n, &nx) && nx.checksum_ok && nx.size && nx.prev_size == he->size;
}

/*
 * After a bad entry at e (he: its decoded header, NULL if unreadable):
 * where the walk goes on (*next, at most limit).  When the decoded size is
 * plausible and the entry it leads to checks out with a PreviousSize equal
 * to it, the walk continues there (returns true: only this entry is
 * suspect).  Otherwise it scans forward, one unit at a time, for the next
 * entry that checks out (resync_point) and returns false (a range was
 * skipped); with none, *next = limit.  *unreadable: the scan stopped at
 * *next because it cannot be read.
 */
static bool resync(struct walk_ctx *w, uint64_t e, const struct heap_entry *he, uint64_t limit,
		   uint64_t *next, bool *unreadable)
{
	*unreadable = false;
	unsigned unit = w->unit;
	if (he && he->size && (uint64_t)he->size * unit <= limit - e) {
		uint64_t n = e + (uint64_t)he->size * unit;
		struct heap_entry nx;
		if (n < limit && entry_at(w, n, &nx) && nx.prev_size == he->size && resync_point(w, n, &nx, limit)) {
			*next = n;
			return true;
		}
	}
	/* By offset from e (past the top address comes 0).  An unreadable
	 * candidate ends the scan there: the walk goes on at it, and the
	 * unreadable path records the gap and searches a bounded number of
	 * pages after it (nt_unreadable.c).  Stepping unit by unit through
	 * a segment's uncaptured pages cost a failed read each: 2^36 for a
	 * LastValidEntry 2^40 bytes on. */
	for (uint64_t o = unit; o < limit - e; o += unit) {
		uint64_t c = e + o;
		struct heap_entry t;
		if (!entry_at(w, c, &t)) {
			*next = c;
			*unreadable = true;
			return false;
		}
		if (resync_point(w, c, &t, limit)) {
			*next = c;
			return false;
		}
	}
	*next = limit;
	return false;
}

/* The span of a committed run [e, limit) the in-place loops (sum_run,
 * collect_run) read: the reader's window (the stretch its last lookup
 * found contiguous in the file: a minidump range, or a kernel dump's
 * pages from e's on that follow it in the file, up to limit), moved to e
 * by a small peek that says where the walk goes (ich_as_peek_stream) when
 * it is elsewhere; no large peek, which a kernel dump's reader would
 * answer by translating page after page whether or not the walk gets
 * there.  Returns the byte of e, *end the
 * span's end (at most limit), *next (next not NULL) the bytes after it
 * when the reader knows them to lie elsewhere (struct ich_as_window next)
 * and the run goes on; NULL when e's header cannot be read. */
static inline __attribute__((always_inline)) const uint8_t *
run_span(struct walk_ctx *w, uint64_t e, uint64_t limit, uint64_t *end, const uint8_t **next)
{
	struct ich_as *as = w->h->as;
	unsigned hdr = (unsigned)w->o->entry_small_header + 8;
	const uint8_t *p0 = ich_as_window_get(as, e, hdr);
	if (!p0 && (!ich_as_peek_stream(as, e, hdr, limit) || !(p0 = ich_as_window_get(as, e, hdr))))
		return NULL;
	const struct ich_as_window *win = (const struct ich_as_window *)(const void *)as;
	uint64_t wend = win->base + win->len;
	*end = wend < limit ? wend : limit;
	if (next)
		*next = win->next_va == wend && wend < limit ? win->next : NULL;
	return p0;
}

/* A loop's sums added to the heap's totals (free entries here are the
 * back end's). */
static inline void add_sums(struct walk_ctx *w, uint64_t busy_n, uint64_t busy_b, uint64_t free_n, uint64_t free_b)
{
	struct ich_heap_totals *t = &w->heap->totals;
	t->busy_count += busy_n;
	t->busy_bytes += busy_b;
	t->free_count += free_n;
	t->free_bytes += free_b;
	t->backend_free_count += free_n;
	t->backend_free_bytes += free_b;
}

/* sum_run's loop over [e, end) at p (the byte of address start), one
 * copy for each pointer size (x64: 16-byte units, the UnusedBytes escape)
 * and with -stat's table (stat) or without, so the loop tests neither per
 * entry.  Per entry (issue 12): the running sums are kept in locals and
 * added to the heap's totals once (a counter in memory is a store and a
 * reload per entry); the checks that end the loop are folded into few
 * tests.  Each entry's address comes from the entry before it (the chain
 * of loads: load, key, size, add), so the size is a shift, not a
 * multiply.  (Measured on the kernel bench dump: the loop is bound by
 * that chain and the memory, ~4.6 ns an entry with no checks at all and
 * ~5 ns with them; counting busy and free entries without a branch was
 * no faster.) */
static inline __attribute__((always_inline)) uint64_t
sum_span(struct walk_ctx *w, const uint8_t *p, uint64_t start, uint64_t e, uint64_t end, const uint8_t *nx,
	 uint64_t limit, uint64_t *prev_units, bool *prev_known, const bool x64, const bool stat, const bool cross_on)
{
	const unsigned shift = x64 ? 4 : 3;
	unsigned hoff = (unsigned)w->o->entry_small_header;
	if (end < e || end - e < hoff + 8)
		return e;
	uint64_t last = end - (hoff + 8);	/* the last address whose header the span holds */
	uint64_t key = w->key, ahead = e;
	uint64_t busy_n = 0, busy_b = 0, free_n = 0, free_b = 0, e_in = e;
	/* PreviousSize is checked against the entry before; for the first
	 * entry with none known, against its own (always equal) */
	uint64_t pu = *prev_known ? *prev_units : (uint16_t)((ich_le64(p + (e - start) + hoff) ^ key) >> 32);
	/* The lines requested ahead go on past the span into the page after
	 * it when the reader knows where that lies (nx: a kernel dump's
	 * frames scattered, each span one page), as a read pass streams on
	 * (issue 12: each page's chain began with a miss); cross: the next
	 * of those not yet requested.  (An integer address: nx - end need not
	 * point into the mapping.)  A copy of its own (cross_on), so the
	 * loop over a long span is the one it was. */
	uint64_t cross = end;
	while (e <= last) {
		/* the chain's next headers requested ahead, as entry_at does */
		uint64_t aend = e + 2048 < last ? e + 2048 : last;
		for (; ahead < aend; ahead += 64)
			__builtin_prefetch(p + (ahead - start) + hoff);
		if (cross_on)
			for (; cross < e + 2048; cross += 64)
				__builtin_prefetch((const void *)((uintptr_t)nx - end + hoff + cross));
		uint64_t d = ich_le64(p + (e - start) + hoff) ^ key;
		uint64_t size = (uint16_t)d, bsize = size << shift;
		/* Size 0 or past the run's limit: bsize - 1 wraps or exceeds */
		if (!entry_tag_ok(d) || bsize - 1 >= limit - e || (uint16_t)(d >> 32) != pu)
			break;
		uint8_t flags = (uint8_t)(d >> 16), unused = (uint8_t)(d >> 56);
		if (flags & HE_BUSY) {
			/* one walk_segment looks at itself: a VirtualAlloc'd
			 * (internal) entry, or x64's UnusedBytes escape */
			if ((flags & HE_VIRTUAL_ALLOC) || (x64 && unused >= 0x3F))
				break;
			uint64_t req = bsize - (unused <= bsize ? unused : bsize);
			busy_n++;
			busy_b += req;
			/* the entry stays counted when the table fails, as
			 * walk_emit counts before the callback; the walk ends */
			if (stat && (w->err = heap_stat_add_n(w->arg, req, 1)))
				break;
		} else {
			free_n++;
			free_b += bsize;
		}
		pu = size;
		e += bsize;
	}
	add_sums(w, busy_n, busy_b, free_n, free_b);
	if (e != e_in) {	/* an entry went by (sizes are not 0) */
		*prev_units = pu;
		*prev_known = true;
	}
	return e;
}

/*
 * The chain of loads in several lanes (issue 12).  sum_span follows one
 * chain, each header's address from the header before it, so the CPU
 * waits on every load in turn: on the kernel bench dump (48-byte entries on
 * average) it ran at ~5 ns an entry where a read pass streams the same
 * bytes at ~3.6 ns an entry's worth.  A long span is
 * cut into SUM_LANES pieces, each started at an entry found near its
 * quarter (lane_start: checksum and Size good, and the entry after it
 * links back to it), and the lanes are walked side by side, one entry of
 * each per step, so their loads overlap.  A start found this way may not
 * be an entry of the chain (user data can look like one); the result is
 * still the one-chain walk's, because from any entry the chain is
 * determined: the lane before must land exactly on the next lane's start
 * (and that start's PreviousSize must match the Size the lane before
 * ended with) for the next lane's sums to count.  When it steps over the
 * start instead, the rest of the span is walked from where it is by the
 * one chain; when it stops at an entry that fails a check, that is where
 * the one chain would stop, and the later lanes are dropped.
 */
#define SUM_LANES 4
#define SUM_LANES_MIN 0x4000u	/* shorter spans: one chain */
#define SUM_LANES_PRE 0x2000u	/* walked by the one chain before lanes start */

struct sum_lane {
	uint64_t start, e, bound, pu, ahead;
	uint64_t busy_n, busy_b, free_n, free_b;
	uint64_t first_prev;	/* the start entry's own PreviousSize */
};

/* An entry in [from, from + 64 units) (on e0's lattice) that looks like
 * one of the chain: checksum and Size good, within the run, and the entry
 * after it (inside the span) good and linked back by PreviousSize. */
static inline bool lane_start(const uint8_t *p, uint64_t start, unsigned hoff, uint64_t key, unsigned shift,
			      uint64_t e0, uint64_t from, uint64_t last, uint64_t limit, uint64_t *at,
			      uint64_t *first_prev)
{
	uint64_t unit = (uint64_t)1 << shift;
	from = e0 + ((from - e0 + unit - 1) & ~(unit - 1));
	for (uint64_t c = from, n = 0; c <= last && n < 64; c += unit, n++) {
		uint64_t d = ich_le64(p + (c - start) + hoff) ^ key;
		uint64_t size = (uint16_t)d, bsize = size << shift;
		if (!entry_tag_ok(d) || bsize - 1 >= limit - c || bsize > last - c)
			continue;
		uint64_t d2 = ich_le64(p + (c + bsize - start) + hoff) ^ key;
		if (!entry_tag_ok(d2) || !(uint16_t)d2 || (uint16_t)(d2 >> 32) != size)
			continue;
		*at = c;
		*first_prev = (uint16_t)(d >> 32);
		return true;
	}
	return false;
}

/* One entry of a lane: false, and nothing changed, when it is one the
 * lane stops at (a check fails, or walk_segment must look at it). */
static inline __attribute__((always_inline)) bool
lane_step(const uint8_t *p, uint64_t start, unsigned hoff, uint64_t key, const bool x64, uint64_t limit,
	  uint64_t last, uint64_t *e, uint64_t *pu, uint64_t *ahead, uint64_t *busy_n, uint64_t *busy_b,
	  uint64_t *free_n, uint64_t *free_b)
{
	const unsigned shift = x64 ? 4 : 3;
	uint64_t le = *e;
	uint64_t aend = le + 2048 < last ? le + 2048 : last;
	for (uint64_t a = *ahead; a < aend; a += 64) {
		__builtin_prefetch(p + (a - start) + hoff);
		*ahead = a + 64;
	}
	uint64_t d = ich_le64(p + (le - start) + hoff) ^ key;
	uint64_t size = (uint16_t)d, bsize = size << shift;
	uint8_t flags = (uint8_t)(d >> 16), unused = (uint8_t)(d >> 56);
	if (!entry_tag_ok(d) || bsize - 1 >= limit - le || (uint16_t)(d >> 32) != *pu ||
	    ((flags & HE_BUSY) && ((flags & HE_VIRTUAL_ALLOC) || (x64 && unused >= 0x3F))))
		return false;
	if (flags & HE_BUSY) {
		(*busy_n)++;
		*busy_b += bsize - (unused <= bsize ? unused : bsize);
	} else {
		(*free_n)++;
		*free_b += bsize;
	}
	*pu = size;
	*e = le + bsize;
	return true;
}

/* Prefetch distance of the lanes' loop: each step requests the line this
 * far past each lane's entry (about the 2 KiB that entry_at and sum_span
 * keep requested; one request an entry covers every line where entries
 * are under a line apart, and where they are further apart only their
 * header lines are read). */
#define LANE_AHEAD 2048u

/* The fast part of sum_lanes: the four lanes stepped side by side, one
 * entry of each a step, until one of them reaches its bound or an entry
 * it must stop at.  The lanes' positions are offsets from the span's
 * start and the four lanes' sums are kept together, in registers, with
 * one prefetch an entry at a fixed distance (issue 12: lane_step's loop,
 * each lane's sums its own, the lanes' state through pointers and a
 * prefetch loop an entry, spent 58 instructions an entry on the kernel
 * bench dump, ~60% of `analyze --processes all`).  The lanes' state is
 * written back for lane_step to go on with. */
struct lanes_fast {
	uint64_t busy_n, busy_b, free_n, free_b;
};

static inline __attribute__((always_inline)) void
lanes_fast(const uint8_t *p, uint64_t start, unsigned hoff, uint64_t key, const bool x64, uint64_t limit,
	   struct sum_lane *ln, struct lanes_fast *f)
{
	const unsigned shift = x64 ? 4 : 3;
	const uint8_t *q = p + hoff;	/* q + o: the header of the entry at start + o */
	uint64_t lim = limit - start;
	uint64_t o0 = ln[0].e - start, o1 = ln[1].e - start, o2 = ln[2].e - start, o3 = ln[3].e - start;
	uint64_t u0 = ln[0].pu, u1 = ln[1].pu, u2 = ln[2].pu, u3 = ln[3].pu;
	const uint64_t b0 = ln[0].bound - start, b1 = ln[1].bound - start, b2 = ln[2].bound - start,
		       b3 = ln[3].bound - start;
	uint64_t bn = 0, bb = 0, fn = 0, fb = 0;
	for (;;) {
		/* lane_step's checks, in its order; the bound first (past
		 * the last lane's is past the span) */
#define LANE_STEP(k)                                                                                    \
	do {                                                                                            \
		if (o##k >= b##k)                                                                       \
			goto out;                                                                       \
		uint64_t d = ich_le64(q + o##k) ^ key;                                                  \
		uint64_t sz = (uint64_t)(uint16_t)d << shift;                                           \
		if (!entry_tag_ok(d) || sz - 1 >= lim - o##k || (uint16_t)(d >> 32) != u##k)           \
			goto out;                                                                       \
		if ((d >> 16) & HE_BUSY) {                                                              \
			uint64_t un = d >> 56;                                                          \
			if (((d >> 16) & HE_VIRTUAL_ALLOC) || (x64 && un >= 0x3F))                      \
				goto out;                                                               \
			bn++;                                                                           \
			bb += sz - (un <= sz ? un : sz);                                                \
		} else {                                                                                \
			fn++;                                                                           \
			fb += sz;                                                                       \
		}                                                                                       \
		u##k = (uint16_t)d;                                                                     \
		o##k += sz;                                                                             \
		__builtin_prefetch((const void *)((uintptr_t)q + o##k + LANE_AHEAD));                   \
	} while (0)
		LANE_STEP(0);
		LANE_STEP(1);
		LANE_STEP(2);
		LANE_STEP(3);
#undef LANE_STEP
	}
out:
	ln[0].e = o0 + start, ln[1].e = o1 + start, ln[2].e = o2 + start, ln[3].e = o3 + start;
	ln[0].pu = u0, ln[1].pu = u1, ln[2].pu = u2, ln[3].pu = u3;
	ln[0].ahead = ln[0].e, ln[1].ahead = ln[1].e, ln[2].ahead = ln[2].e, ln[3].ahead = ln[3].e;
	f->busy_n = bn;
	f->busy_b = bb;
	f->free_n = fn;
	f->free_b = fb;
}

/* lanes_fast out of line, one copy for each pointer size: its loop's
 * registers then do not depend on what the span's other loops around it
 * hold (inlined, an unrelated change to sum_span moved mid.dmp heap -s's
 * lanes 11.26 M -> 11.47 M instructions, callgrind). */
static __attribute__((noinline)) void lanes_fast64(const uint8_t *p, uint64_t start, unsigned hoff, uint64_t key,
						  uint64_t limit, struct sum_lane *ln, struct lanes_fast *f)
{
	lanes_fast(p, start, hoff, key, true, limit, ln, f);
}

static __attribute__((noinline)) void lanes_fast32(const uint8_t *p, uint64_t start, unsigned hoff, uint64_t key,
						  uint64_t limit, struct sum_lane *ln, struct lanes_fast *f)
{
	lanes_fast(p, start, hoff, key, false, limit, ln, f);
}

/* The sums of lane ln's entries from its start to where it is, walked
 * again: a lane the join drops is where the fast part left it, and the
 * fast part's sums are all the lanes' together. */
static inline void lane_rewalk(const uint8_t *p, uint64_t start, unsigned hoff, uint64_t key, const bool x64,
			       uint64_t limit, uint64_t last, struct sum_lane ln, struct sum_lane *out)
{
	memset(out, 0, sizeof(*out));
	out->e = out->ahead = ln.start;
	out->pu = ln.first_prev;
	while (out->e < ln.e &&
	       lane_step(p, start, hoff, key, x64, limit, last, &out->e, &out->pu, &out->ahead, &out->busy_n,
			 &out->busy_b, &out->free_n, &out->free_b))
		;
}

/* The span [e, end) in lanes; for a summing walk without -stat's table (a
 * lane that is dropped would have added its rows to it already).  Same
 * contract as sum_span. */
static inline __attribute__((always_inline)) uint64_t
sum_lanes(struct walk_ctx *w, const uint8_t *p, uint64_t start, uint64_t e, uint64_t end, uint64_t limit,
	  uint64_t *prev_units, bool *prev_known, const bool x64)
{
	const unsigned shift = x64 ? 4 : 3;
	unsigned hoff = (unsigned)w->o->entry_small_header;
	uint64_t last = end - (hoff + 8), key = w->key, e_in = e;
	struct sum_lane ln[SUM_LANES];
	memset(ln, 0, sizeof(ln));
	unsigned nl = 1;
	ln[0].start = ln[0].e = ln[0].ahead = e;
	ln[0].pu = *prev_known ? *prev_units : (uint16_t)((ich_le64(p + (e - start) + hoff) ^ key) >> 32);
	ln[0].first_prev = ln[0].pu;
	for (unsigned k = 1; k < SUM_LANES; k++) {
		uint64_t at, fp;
		if (!lane_start(p, start, hoff, key, shift, e, e + (last - e) / SUM_LANES * k, last, limit, &at, &fp) ||
		    at <= ln[nl - 1].e)
			continue;
		ln[nl - 1].bound = at;
		ln[nl].start = ln[nl].e = ln[nl].ahead = at;
		ln[nl].pu = ln[nl].first_prev = fp;
		nl++;
	}
	ln[nl - 1].bound = last + 1;
	struct lanes_fast f = { 0, 0, 0, 0 };
	if (nl == SUM_LANES)
		(x64 ? lanes_fast64 : lanes_fast32)(p, start, hoff, key, limit, ln, &f);
	/* The lanes finished and joined in order, as the one chain would have
	 * gone: each lane is run to its end (or where it stops) only once the
	 * lanes before it have joined up to its start, so no lane runs on
	 * once it is known to be dropped. */
	struct sum_lane *cur = &ln[0];
	bool rest = false;	/* it stepped over the next start: one chain on */
	unsigned joined = 0;	/* lanes 0 .. joined - 1 are the chain's */
	for (unsigned k = 0;; k++) {
		cur = &ln[k];
		while (cur->e < cur->bound &&
		       lane_step(p, start, hoff, key, x64, limit, last, &cur->e, &cur->pu, &cur->ahead, &cur->busy_n,
				 &cur->busy_b, &cur->free_n, &cur->free_b))
			;
		add_sums(w, cur->busy_n, cur->busy_b, cur->free_n, cur->free_b);
		joined = k + 1;
		if (k + 1 == nl || cur->e < cur->bound)
			break;	/* the span's end, or an entry the one chain stops at too */
		if (cur->e != ln[k + 1].start) {
			rest = true;
			break;
		}
		if (ln[k + 1].first_prev != cur->pu)
			break;	/* stops at the next start: PreviousSize does not link */
	}
	if (f.busy_n + f.free_n) {
		/* the fast part's sums, less those of the lanes dropped (the
		 * join stopped before them: each is where the fast part left it) */
		for (unsigned k = joined; k < nl; k++) {
			struct sum_lane again;
			lane_rewalk(p, start, hoff, key, x64, limit, last, ln[k], &again);
			f.busy_n -= again.busy_n;
			f.busy_b -= again.busy_b;
			f.free_n -= again.free_n;
			f.free_b -= again.free_b;
		}
		add_sums(w, f.busy_n, f.busy_b, f.free_n, f.free_b);
	}
	if (cur->e != e_in) {
		*prev_units = cur->pu;
		*prev_known = true;
	}
	if (rest)
		return sum_span(w, p, start, cur->e, end, NULL, limit, prev_units, prev_known, x64, false, false);
	return cur->e;
}

/* sum_span over a span the reader knows the page after (nx), out of line:
 * the copies for long spans stay as they were. */
static __attribute__((noinline)) uint64_t sum_span_cross(struct walk_ctx *w, const uint8_t *p, uint64_t start,
							  uint64_t e, uint64_t end, const uint8_t *nx, uint64_t limit,
							  uint64_t *prev_units, bool *prev_known, bool x64)
{
	return x64 ? sum_span(w, p, start, e, end, nx, limit, prev_units, prev_known, true, false, true)
		   : sum_span(w, p, start, e, end, nx, limit, prev_units, prev_known, false, false, true);
}

/* sum_run's work on one span: [e, *end) of the window run_span gives,
 * *end set (e returned, *end untouched, when e's header is not in the
 * dump).  first: the span sum_run starts with. */
static inline __attribute__((always_inline)) uint64_t
sum_run_span(struct walk_ctx *w, uint64_t e, uint64_t limit, uint64_t *prev_units, bool *prev_known,
	     const bool first, uint64_t *end_out)
{
	uint64_t end;
	const uint8_t *nx;
	const uint8_t *p0 = run_span(w, e, limit, &end, &nx);
	if (!p0)
		return e;
	*end_out = end;
	unsigned hoff = (unsigned)w->o->entry_small_header;
	bool stat = w->fn == heap_stat_add, x64 = w->unit == 16;
	uint64_t start = e, hoff8 = hoff + 8;	/* start: the address of p0 */
	/* the one chain first (SUM_LANES_PRE): lanes pay off on runs that go
	 * on, not on heaps where the walk stops every few entries (each
	 * lane's start costs a search, with loads far apart); a span after
	 * the first goes on from a chain that did not stop */
	if (!stat && end > e && end - e >= (first ? SUM_LANES_PRE : 0) + SUM_LANES_MIN + hoff8) {
		if (first) {
			uint64_t pre = e + SUM_LANES_PRE;
			e = x64 ? sum_span(w, p0, start, e, pre, NULL, limit, prev_units, prev_known, true, false, false)
				: sum_span(w, p0, start, e, pre, NULL, limit, prev_units, prev_known, false, false, false);
			if (e + hoff8 <= pre)
				return e;	/* stopped at an entry walk_segment must see */
		}
		if (end > e && end - e >= SUM_LANES_MIN + hoff8)	/* (an entry may reach past end) */
			return x64 ? sum_lanes(w, p0, start, e, end, limit, prev_units, prev_known, true)
				   : sum_lanes(w, p0, start, e, end, limit, prev_units, prev_known, false);
	}
	if (x64)
		return stat ? sum_span(w, p0, start, e, end, NULL, limit, prev_units, prev_known, true, true, false)
		     : nx   ? sum_span_cross(w, p0, start, e, end, nx, limit, prev_units, prev_known, true)
			    : sum_span(w, p0, start, e, end, NULL, limit, prev_units, prev_known, true, false, false);
	return stat ? sum_span(w, p0, start, e, end, NULL, limit, prev_units, prev_known, false, true, false)
	     : nx   ? sum_span_cross(w, p0, start, e, end, nx, limit, prev_units, prev_known, false)
		    : sum_span(w, p0, start, e, end, NULL, limit, prev_units, prev_known, false, false, false);
}

/* sum_run_span compiled for the first span and for those after it */
static __attribute__((noinline)) uint64_t sum_first_span(struct walk_ctx *w, uint64_t e, uint64_t limit,
							  uint64_t *prev_units, bool *prev_known, uint64_t *end)
{
	return sum_run_span(w, e, limit, prev_units, prev_known, true, end);
}

static __attribute__((noinline)) uint64_t sum_next_span(struct walk_ctx *w, uint64_t e, uint64_t limit,
							 uint64_t *prev_units, bool *prev_known, uint64_t *end)
{
	return sum_run_span(w, e, limit, prev_units, prev_known, false, end);
}

static uint64_t sum_run(struct walk_ctx *w, uint64_t e, uint64_t limit, uint64_t *prev_units, bool *prev_known)
{
	uint64_t hoff8 = (uint64_t)w->o->entry_small_header + 8;
	/* Span after span (a kernel dump's windows) while the chain goes on
	 * past each span's end: its entries are walked here, not by
	 * walk_segment, which would move the window for the one entry whose
	 * header a span cuts (issue 12). */
	for (bool first = true;; first = false) {
		uint64_t end = 0;
		e = first ? sum_first_span(w, e, limit, prev_units, prev_known, &end)
			  : sum_next_span(w, e, limit, prev_units, prev_known, &end);
		/* no span; stopped at an entry (its header wholly in the
		 * span), an error from -stat's table, or the run's end */
		if (!end || e + hoff8 <= end || w->err || e >= limit || end >= limit)
			return e;
	}
}

/*
 * The LFH key pre-pass (walk_segment's collect_only: no callback, no
 * problems, no totals) over the plain entries of a committed run [e,
 * limit): headers read in place from the reader's window as sum_run
 * reads them, each recorded (loop_entry's record, which the listing pass
 * replays) exactly as loop_entry would record it.  It stops, returning the
 * entry's address, at the first entry walk_segment must look at itself:
 * one that fails the checksum or Size checks (resync), a busy entry with
 * HE_VIRTUAL_ALLOC (a container is looked for there), the end of the
 * window's span; that entry then goes through loop_entry as before (issue
 * 12: the pre-pass read each header through entry_at's peek, the -a --json
 * walk's largest cost after the JSON itself).
 */
static uint64_t collect_run(struct walk_ctx *w, uint64_t e, uint64_t limit)
{
	uint64_t end;
	const uint8_t *p0 = run_span(w, e, limit, &end, NULL);
	if (!p0)
		return e;
	unsigned hoff = (unsigned)w->o->entry_small_header, unit = w->unit;
	uint64_t start = e, ahead = e, key = w->key;
	while (e <= end && end - e >= hoff + 8) {
		for (; ahead < e + 2048 && ahead < end; ahead += 64)
			__builtin_prefetch(p0 + (ahead - start));
		uint64_t raw = ich_le64(p0 + (e - start) + hoff), d = raw ^ key;
		uint64_t size = (uint16_t)d, bsize = size * unit;
		uint8_t flags = (uint8_t)(d >> 16);
		if (!entry_tag_ok(d) || !size || bsize > limit - e ||
		    ((flags & HE_BUSY) && (flags & HE_VIRTUAL_ALLOC)))
			break;
		rec_push(w, e, raw);
		e += bsize;
	}
	return e;
}

/* Walk the entries of one segment. */
/* ICH_WALK_BACKEND_RUNS: the run held back goes to the run callback (a run
 * of one block to fn, as without the option). */
static struct ich_error *be_flush(struct walk_ctx *w)
{
	struct be_run *p = w->be;
	if (!p || !p->r.count)
		return NULL;
	struct ich_error *err;
	if (p->r.count == 1) {
		struct ich_heap_block b;
		ich_heap_run_block(&p->r, 0, &b);
		err = walk_emit(w, &b);
	} else {
		err = walk_emit_blocks(w, &p->r, p->kcount);
	}
	p->r.count = 0;
	p->r.nkinds = 0;
	return err;
}

/* be_block's slow half: b does not continue the run held back with one of
 * its kinds; the run goes, then b starts the next one or goes to fn. */
static __attribute__((noinline)) struct ich_error *be_start(struct walk_ctx *w, const struct ich_heap_block *b,
							     bool can)
{
	struct be_run *p = w->be;
	struct ich_heap_block_run *r = &p->r;
	if (can && r->count && r->count < BE_RUN_MAX && b->block_size == r->stride && b->header == p->next &&
	    r->nkinds < BE_RUN_KINDS) {
		/* a new kind: its index is nkinds unless the run has it */
		unsigned k = 0;
		while (k < r->nkinds && (p->kinds[k].state != b->state || p->kinds[k].flags != b->flags ||
					 p->kinds[k].size != b->size || p->kinds[k].unused != b->unused))
			k++;
		if (k == r->nkinds) {
			p->kinds[k] = (struct ich_heap_block_kind){
				.size = b->size, .unused = b->unused, .state = b->state, .flags = b->flags };
			p->kcount[k] = 0;
			r->nkinds++;
		}
		p->last = (uint8_t)k;
		p->kind[r->count++] = (uint8_t)k;
		p->kcount[k]++;
		p->next += r->stride;
		return NULL;
	}
	struct ich_error *err = be_flush(w);
	if (err)
		return err;
	if (!can)
		return walk_emit(w, b);
	r->tmpl = *b;
	r->stride = b->block_size;
	r->kind = p->kind;
	r->kinds = p->kinds;
	p->kinds[0] = (struct ich_heap_block_kind){ .size = b->size, .unused = b->unused, .state = b->state,
						    .flags = b->flags };
	p->kcount[0] = 1;
	p->kind[0] = 0;
	p->last = 0;
	p->next = b->header + b->block_size;
	r->nkinds = 1;
	r->count = 1;
	return NULL;
}

/*
 * A listed back-end block (walk_emit's place in walk_segment).  With
 * ICH_WALK_BACKEND_RUNS: b joins the run held back when it continues it
 * (same block size, right after the run's last block, PreviousSize that
 * size, a kind the run has or room for one more), else the run goes and b
 * starts the next one, or goes to fn when it cannot be in a run (internal,
 * corrupt, PreviousSize not its own size).  Segment, layer and user -
 * header are the same for every block walk_segment lists (one segment at
 * a time: the run goes at its end).  Issue 12: a back-end block cost
 * heap -a --json ~180 renderer instructions one by one, ~64 in a run.
 * Inline, with the two common cases first: b cannot be in a run and none
 * is held, or b continues the run with the kind of the block before.
 */
static inline __attribute__((always_inline)) struct ich_error *be_block(struct walk_ctx *w,
									 const struct ich_heap_block *b)
{
	struct be_run *p = w->be;
	if (!p)
		return walk_emit(w, b);
	struct ich_heap_block_run *r = &p->r;
	bool can = (b->state == ICH_BLOCK_BUSY || b->state == ICH_BLOCK_FREE) && b->prev_size == b->block_size;
	/* no run held and b cannot start one: as without the option (a heap
	 * of varied sizes, page.dmp's, pays this test only) */
	if (!can && !r->count)
		return walk_emit(w, b);
	const struct ich_heap_block_kind *lk = &p->kinds[p->last];
	if (can && b->header == p->next && b->block_size == r->stride && r->count && r->count < BE_RUN_MAX &&
	    lk->state == b->state && lk->flags == b->flags && lk->size == b->size && lk->unused == b->unused) {
		p->kind[r->count++] = p->last;
		p->kcount[p->last]++;
		p->next += r->stride;
		return NULL;
	}
	return be_start(w, b, can);
}

static struct ich_error *walk_segment_entries(struct walk_ctx *w, struct ich_heap_segment *seg,
					      struct ub_list *ubs, bool collect_only, struct deferred *defer);

/* One segment's entries; a back-end run held back goes before the walk
 * goes on (virtual blocks, deferred containers, the next segment). */
static struct ich_error *walk_segment(struct walk_ctx *w, struct ich_heap_segment *seg,
				      struct ub_list *ubs, bool collect_only, struct deferred *defer)
{
	struct ich_error *err = walk_segment_entries(w, seg, ubs, collect_only, defer);
	struct ich_error *ferr = be_flush(w);
	return err ? err : ferr;
}

static struct ich_error *walk_segment_entries(struct walk_ctx *w, struct ich_heap_segment *seg,
					      struct ub_list *ubs, bool collect_only, struct deferred *defer)
{
	unsigned unit = w->unit;
	uint64_t e = seg->first_entry, prev_units = 0;
	/* The segment (and the heap) header is itself a busy block: its
	 * _HEAP_ENTRY at the segment base spans up to FirstEntry.  WinDbg lists
	 * it first (windbg-output heap-a sample), so start there when that
	 * entry checks out. */
	struct heap_entry he0;
	struct ich_error *e0 = read_entry(w, seg->base, &he0);
	if (!e0 && he0.checksum_ok && he0.size &&
	    seg->base + (uint64_t)he0.size * unit == seg->first_entry)
		e = seg->base;
	ich_error_destroy(e0);
	bool prev_known = false;
	/* only sums wanted, no header record to keep or replay: sum_run */
	bool summing = !collect_only && (!w->fn || w->fn == heap_stat_add) && !w->heap->dph_owner &&
		       !w->recording && w->rec_cur >= w->rec_end;
	size_t next_ucr = 0;
	uint64_t guard = 0, max_steps = (seg->last_valid_entry - e) / unit + 1;
	while (e < seg->last_valid_entry && guard++ < max_steps) {
		/* Skip uncommitted ranges: the walk resumes at their end. */
		while (next_ucr < seg->nucr && seg->ucr[next_ucr].address + seg->ucr[next_ucr].size <= e)
			next_ucr++;
		if (next_ucr < seg->nucr && seg->ucr[next_ucr].address <= e) {
			e = seg->ucr[next_ucr].address + seg->ucr[next_ucr].size;
			prev_known = false;
			continue;
		}
		/* A run of committed entries ends at the next uncommitted range
		 * or at LastValidEntry. */
		uint64_t limit = next_ucr < seg->nucr ? seg->ucr[next_ucr].address : seg->last_valid_entry;
		if (limit > seg->last_valid_entry)
			limit = seg->last_valid_entry;
		if (summing) {
			e = sum_run(w, e, limit, &prev_units, &prev_known);
			if (w->err)
				return w->err;
			if (e >= limit)
				continue;
		} else if (collect_only) {
			/* (the pre-pass keeps no PreviousSize link: it
			 * reports nothing) */
			e = collect_run(w, e, limit);
			if (e >= limit)
				continue;
		}
		struct heap_entry he;
		struct ich_error *err = loop_entry(w, e, &he);
		bool bad = false, readable = !err;
		if (err) {
			ich_error_destroy(err);
			/* Paged out, demand-zero, not captured: not corruption.
			 * Name the range (nt_unreadable.c) and go on where the
			 * chain is found again, else at the end of the run. */
			uint64_t resume = collect_only ? 0 : nt_heap_unreadable(w, e, limit);
			if (defer && resume)
				defer->skip_until = limit;
			e = resume ? resume : limit;
			prev_known = false;
			continue;
		} else if (!he.checksum_ok) {
			if (!collect_only)
				heap_problem(w->heap, e, "entry checksum fails (decoded Size 0x%x Flags 0x%02x SmallTagIndex 0x%02x)",
					     he.size, he.flags, he.small_tag);
			bad = true;
		} else if (he.size == 0 || (uint64_t)he.size * unit > limit - e) {
			if (!collect_only)
				heap_problem(w->heap, e, "entry size 0x%x units runs past %s 0x%" PRIx64,
					     he.size, limit == seg->last_valid_entry ? "the segment's LastValidEntry" :
					     "the start of an uncommitted range", limit);
			bad = true;
		}
		if (bad) {
			uint64_t next;
			/* stopped: resync met memory it cannot read; the walk
			 * goes on there, and the unreadable path says why */
			bool stopped;
			bool linked = resync(w, e, readable ? &he : NULL, limit, &next, &stopped);
			if (!collect_only && !linked)
				heap_problem(w->heap, e, stopped ?
					     "skipped 0x%" PRIx64 " bytes 0x%" PRIx64 "-0x%" PRIx64 ": no entry there checks out before memory that cannot be read" :
					     next < limit ?
					     "skipped 0x%" PRIx64 " bytes 0x%" PRIx64 "-0x%" PRIx64 ": the walk resumes at the next entry whose checksum and PreviousSize link check out" :
					     "skipped 0x%" PRIx64 " bytes 0x%" PRIx64 "-0x%" PRIx64 ": no entry there checks out (up to the next uncommitted range or the segment end)",
					     next - e, e, next);
			/* Listed as corrupt: the walk cannot vouch for it. */
			struct ich_heap_block cb = {
				.header = e, .user = e + unit, .block_size = next - e,
				.prev_size = readable ? (uint64_t)he.prev_size * unit : 0,
				.segment = seg->base, .flags = readable ? he.flags : 0,
				.state = ICH_BLOCK_CORRUPT, .layer = ICH_LAYER_BACKEND,
			};
			if (!collect_only && (err = be_block(w, &cb)))
				return err;
			prev_known = linked;
			prev_units = readable ? he.size : 0;
			e = next;
			continue;
		}
		if (!collect_only && prev_known && he.prev_size != prev_units)
			heap_problem(w->heap, e, "PreviousSize 0x%x does not match the previous entry's Size 0x%" PRIx64,
				     he.prev_size, prev_units);
		uint64_t bsize = (uint64_t)he.size * unit;
		struct ich_heap_block b = {
			.header = e, .user = e + unit, .block_size = bsize,
			.prev_size = (uint64_t)he.prev_size * unit, .segment = seg->base,
			.flags = he.flags, .layer = ICH_LAYER_BACKEND,
		};
		if (he.flags & HE_BUSY) {
			uint64_t unused = he.unused;
			/* UnusedBytes 0x3f and up: the count no longer fits; on x64
			 * it is kept in PreviousBlockPrivateData (S5 comment ❓). */
			if (unused >= 0x3F && unit == 16) {
				uint16_t ext;
				if (ich_error_ok(ich_as_read_u16(w->h->as, e, &ext)) && ext < bsize)
					unused = ext;
			}
			if (unused > bsize)
				unused = bsize;
			b.unused = unused;
			b.size = bsize - unused;
			bool internal = (he.flags & HE_VIRTUAL_ALLOC) != 0;
			b.state = internal ? ICH_BLOCK_INTERNAL : ICH_BLOCK_BUSY;
			if (internal && w->heap->lfh) {
				uint32_t sig;
				struct ich_error *e2 = ich_as_read_u32(w->h->as, e + unit + (uint64_t)w->o->ud_signature, &sig);
				if (!e2 && sig == USERBLOCKS_SIGNATURE && ubs) {
					/* two arrays of one count: a doubling that
					 * the second refuses is repeated, harmlessly,
					 * at the same count next time */
					if (ICH_ARRAY_PUSH_ROOM(ubs->v, ubs->n) &&
					    ICH_ARRAY_PUSH_ROOM(ubs->size, ubs->n)) {
						ubs->v[ubs->n] = e + unit;
						ubs->size[ubs->n++] = bsize - unit;
					}
				}
				ich_error_destroy(e2);
			}
		} else {
			b.state = ICH_BLOCK_FREE;
			b.unused = bsize;
			b.size = 0;
		}
		if (!collect_only && (err = be_block(w, &b)))
			return err;
		if (!collect_only && b.state == ICH_BLOCK_INTERNAL && w->heap->lfh && ubs &&
		    ubs->n && ubs->v[ubs->n - 1] == e + unit) {
			if (defer)
				defer_ub(defer, w->heap, e + unit, bsize - unit, e);
			else
				lfh_walk_userblocks(w, e + unit, bsize - unit);
		}
		if (w->err)
			return w->err;
		prev_units = he.size;
		prev_known = true;
		e += bsize;
	}
	return NULL;
}

struct seg_collect {
	struct walk_ctx *w;
};

static struct ich_error *seg_cb(uint64_t node, void *arg)
{
	struct walk_ctx *w = ((struct seg_collect *)arg)->w;
	struct ich_heap *heap = w->heap;
	const struct ntofs *o = w->o;
	uint64_t s = node - (uint64_t)o->seg_list_entry;
	uint32_t sig, pages = 0, ucp = 0;
	uint64_t first, last;
	struct ich_error *err = ich_as_read_u32(w->h->as, s + (uint64_t)o->seg_signature, &sig);
	if (!err)
		err = ich_as_read_ptr(w->h->as, s + (uint64_t)o->seg_first_entry, &first);
	if (!err)
		err = ich_as_read_ptr(w->h->as, s + (uint64_t)o->seg_last_valid_entry, &last);
	if (!err)
		err = ich_as_read_u32(w->h->as, s + (uint64_t)o->seg_pages, &pages);
	if (!err)
		err = ich_as_read_u32(w->h->as, s + (uint64_t)o->seg_uncommitted_pages, &ucp);
	if (err) {
		heap_problem(heap, s, "segment header not readable: %s", err->message);
		ich_error_destroy(err);
		return NULL;
	}
	if (sig != SEGMENT_SIGNATURE) {
		heap_problem(heap, s, "segment signature 0x%08x is not 0xffeeffee", sig);
		return NULL;
	}
	if (first < s || last <= first || last - first > (1ull << 40)) {
		heap_problem(heap, s, "segment FirstEntry 0x%" PRIx64 " / LastValidEntry 0x%" PRIx64 " are inconsistent", first, last);
		return NULL;
	}
	if (ucp > pages) {
		/* the committed total would go below zero (span - ucp pages);
		 * heap_commit.c's quick path refuses the same segment */
		heap_problem(heap, s, "segment UncommittedPages 0x%x exceeds NumberOfPages 0x%x", ucp, pages);
		ucp = pages;
	}
	if (heap->nsegments >= MAX_SEGMENTS)
		return ich_error_create(ICH_ERR_FORMAT, "more than %d segments", MAX_SEGMENTS);
	struct ich_heap_segment *ns = realloc(heap->segments, (heap->nsegments + 1) * sizeof(*ns));
	if (!ns)
		return &ich_enomem;
	heap->segments = ns;
	struct ich_heap_segment *seg = &ns[heap->nsegments++];
	memset(seg, 0, sizeof(*seg));
	seg->base = s;
	seg->first_entry = first;
	seg->last_valid_entry = last;
	seg->pages = pages;
	seg->uncommitted_pages = ucp;
	if (o->seg_flags >= 0)
		ich_error_destroy(ich_as_read_u32(w->h->as, s + (uint64_t)o->seg_flags, &seg->flags));
	struct ucr_collect uc = { w, seg };
	err = ich_as_list_walk(w->h->as, s + (uint64_t)o->seg_ucr_list,
			       MAX_UCRS, true, ucr_cb, &uc, NULL);
	if (err == &ich_enomem)
		return err;
	if (err) {
		heap_problem(heap, s, "segment's uncommitted-range list: %s", err->message);
		ich_error_destroy(err);
	}
	if (seg->nucr)
		qsort(seg->ucr, seg->nucr, sizeof(*seg->ucr), ucr_cmp);
	return NULL;
}

static struct ich_error *virtual_cb(uint64_t node, void *arg)
{
	struct walk_ctx *w = arg;
	const struct ntofs *o = w->o;
	uint64_t commit, reserve;
	struct ich_error *err = ich_as_read_ptr(w->h->as, node + (uint64_t)o->va_commit, &commit);
	if (!err)
		err = ich_as_read_ptr(w->h->as, node + (uint64_t)o->va_reserve, &reserve);
	struct heap_entry he;
	if (!err)
		err = read_entry(w, node + (uint64_t)o->va_busy_block, &he);
	if (err) {
		heap_problem(w->heap, node, "large block not readable: %s", err->message);
		ich_error_destroy(err);
		return NULL;
	}
	/* On large blocks Size holds the unused byte count (S2, WRK); the
	 * checksum is computed over it like any entry. */
	if (!he.checksum_ok)
		heap_problem(w->heap, node, "large block header checksum fails");
	struct ich_heap_totals *t = &w->heap->totals;
	t->virtual_blocks++;
	t->reserved += reserve;
	t->committed += commit;
	t->virt += reserve;
	uint64_t unused = he.size <= commit ? he.size : 0;
	/* Keyed by its _HEAP_ENTRY (the BusyBlock), as WinDbg's -flt lists it
	 * (windbg-output heap-flt-s x86 VirtualAlloc sample: entry 035cb018 =
	 * VIRTUAL_ALLOC_ENTRY 035cb000 + 0x18); the entry itself is .segment. */
	struct ich_heap_block b = {
		.header = node + (uint64_t)o->va_busy_block,
		.user = node + (uint64_t)o->va_sizeof, .segment = node,
		.block_size = commit, .size = commit - unused, .unused = unused,
		.flags = he.flags, .state = ICH_BLOCK_BUSY, .layer = ICH_LAYER_VIRTUAL,
	};
	return walk_emit(w, &b);
}

/*
 * The deferred containers (struct deferred): RtlpLFHKey from those the
 * pre-pass would have found, then each walked, its problems moved to its
 * place among the back end's.  heap_problem keeps the first 10000; so
 * does the merge (the first 10000 of the merged order hold at most the
 * first 10000 of either list).
 */
#define MAX_PROBLEMS 10000
static struct ich_error *walk_deferred(struct walk_ctx *w, struct deferred *d)
{
	struct ich_heap *heap = w->heap;
	uint64_t *keyv = malloc((d->n ? d->n : 1) * sizeof(*keyv));
	if (!keyv || d->failed) {
		free(keyv);
		return &ich_enomem;
	}
	size_t nkey = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].for_key)
			keyv[nkey++] = d->v[i].ub;
	lfh_recover_key(w->h, heap, keyv, nkey);
	free(keyv);
	/* the back end's problems aside; the containers' own from 0 */
	struct ich_heap_problem *back = heap->problems;
	size_t nback = heap->nproblems;
	heap->problems = NULL;
	heap->nproblems = 0;
	size_t *end = malloc((d->n ? d->n : 1) * sizeof(*end));
	if (!end) {
		free(back);
		return &ich_enomem;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (!w->err)
			lfh_walk_userblocks(w, d->v[i].ub, d->v[i].size);
		end[i] = heap->nproblems;
	}
	struct ich_heap_problem *lfh = heap->problems;
	size_t nlfh = heap->nproblems;
	size_t total = nback + nlfh > MAX_PROBLEMS ? MAX_PROBLEMS : nback + nlfh;
	/* the implied capacity of k <= total problems (ICH_ARRAY_PUSH_ROOM) */
	struct ich_heap_problem *m = nlfh ? malloc(ich_array_pow2_cap(total) * sizeof(*m)) : NULL;
	if (nlfh && !m) {
		free(end);
		free(lfh);
		heap->problems = back;
		heap->nproblems = nback;
		return &ich_enomem;
	}
	if (!nlfh) {
		heap->problems = back;
		heap->nproblems = nback;
	} else {
		size_t k = 0, bi = 0, li = 0;
		for (size_t i = 0; i < d->n && k < total; i++) {
			for (; bi < d->v[i].pos && bi < nback && k < total; bi++)
				m[k++] = back[bi];
			for (; li < end[i] && k < total; li++)
				m[k++] = lfh[li];
		}
		for (; bi < nback && k < total; bi++)
			m[k++] = back[bi];
		free(back);
		free(lfh);
		heap->problems = m;
		heap->nproblems = k;
	}
	free(end);
	return w->err;
}

struct ich_error *ich_heap_walk(struct ich_heaps *h, struct ich_heap *heap,
				ich_heap_block_fn *fn, void *arg)
{
	return ich_heap_walk_opt(h, heap, fn, arg, 0);
}

struct ich_error *ich_heap_walk_opt(struct ich_heaps *h, struct ich_heap *heap,
				    ich_heap_block_fn *fn, void *arg, unsigned opts)
{
	return ich_heap_walk_runs(h, heap, fn, NULL, arg, opts);
}

struct ich_error *ich_heap_walk_runs(struct ich_heaps *h, struct ich_heap *heap, ich_heap_block_fn *fn,
				     ich_heap_run_fn *run_fn, void *arg, unsigned opts)
{
	if (!fn)
		run_fn = NULL;
	if (heap->kind == ICH_HEAP_KIND_PAGE && heap->status == ICH_HEAP_OK)
		return page_heap_walk(h, heap, fn, arg);
	if (heap->status != ICH_HEAP_OK)
		return ich_error_create(heap->status == ICH_HEAP_NOT_CAPTURED ? ICH_ERR_FAULT : ICH_ERR_UNSUPPORTED,
					"%s", heap->reason);
	/* start over */
	heap->walked = false;
	for (size_t s = 0; s < heap->nsegments; s++)
		free(heap->segments[s].ucr);
	free(heap->segments);
	free(heap->problems);
	heap_unreadable_free(heap);
	heap->segments = NULL;
	heap->problems = NULL;
	heap->nsegments = heap->nproblems = 0;
	heap->partial = false;
	memset(&heap->totals, 0, sizeof(heap->totals));
	if (heap->kind == ICH_HEAP_KIND_SEGMENT)
		return seg_heap_walk(h, heap, fn, run_fn, arg);	/* segment_heap.c */
	const struct ntofs *o = &h->ofs[heap - h->heaps];
	struct walk_ctx w = { .h = h, .heap = heap, .o = o, .fn = fn, .arg = arg, .unit = h->ptr == 8 ? 16 : 8,
			      .no_lfh_cb = (opts & ICH_WALK_NO_LFH_BLOCKS) != 0, .run_fn = run_fn };
	struct be_run be;
	be.r.count = 0;
	be.r.stride = 0;
	be.r.nkinds = 0;
	be.last = 0;
	be.next = 0;
	if ((opts & ICH_WALK_BACKEND_RUNS) && walk_runs(&w))
		w.be = &be;
	struct ich_error *err = encoding_key(&w, &w.key);
	if (err)
		return ich_error_wrap(err, "heap 0x%" PRIx64 ": Encoding: ", heap->address);
	struct seg_collect sc = { &w };
	err = ich_as_list_walk(h->as, heap->address + (uint64_t)o->heap_segment_list,
			       MAX_SEGMENTS, true, seg_cb, &sc, NULL);
	if (err == &ich_enomem)
		return err;
	if (err) {
		heap_problem(heap, heap->address, "segment list: %s", err->message);
		ich_error_destroy(err);
		err = NULL;
	}
	if (opts & ICH_WALK_SEGMENTS_ONLY)
		return NULL;	/* walked stays false: no blocks, no totals */
	/* First pass over the LFH containers recovers RtlpLFHKey (Win8+);
	 * a walk that only sums blocks up defers the containers instead. */
	struct ub_list ubs = { 0 };
	size_t *rec_seg = NULL;	/* where each segment's record starts */
	bool need_key = heap->lfh && !o->lfh_missing && o->lfh_bitmap && !h->lfh_key_known;
	struct deferred defer = { 0 };
	/* (with no callback for LFH blocks, a deferred container's blocks
	 * reach no callback out of order either) */
	bool deferring = need_key && (!fn || fn == heap_stat_add || w.no_lfh_cb);
	if (need_key && !deferring) {
		rec_seg = calloc(heap->nsegments + 1, sizeof(*rec_seg));
		w.recording = rec_seg != NULL;
		for (size_t s = 0; s < heap->nsegments; s++) {
			if (rec_seg)
				rec_seg[s] = w.nrec;
			w.rec_next = 0;	/* a segment starts a run (no entry is at 0) */
			walk_segment(&w, &heap->segments[s], &ubs, true, NULL);
		}
		if (rec_seg)
			rec_seg[heap->nsegments] = w.nrec;
		w.recording = false;
		lfh_recover_key(h, heap, ubs.v, ubs.n);
		free(ubs.v);
		free(ubs.size);
		memset(&ubs, 0, sizeof(ubs));
	}
	struct ich_heap_totals *t = &heap->totals;
	for (size_t s = 0; s < heap->nsegments && !w.err; s++) {
		struct ich_heap_segment *seg = &heap->segments[s];
		uint64_t span = (uint64_t)seg->pages * PAGE;
		t->reserved += span;
		t->committed += span - (uint64_t)seg->uncommitted_pages * PAGE;
		/* Virt: the reserve less a trailing uncommitted range (never
		 * touched address space), the closest reading of WinDbg's
		 * column the samples allow (windbg-output README §1.2). */
		uint64_t tail = 0;
		for (size_t u = 0; u < seg->nucr; u++)
			if (seg->ucr[u].address + seg->ucr[u].size >= seg->last_valid_entry)
				tail = seg->ucr[u].size;
		t->virt += span > tail ? span - tail : 0;
		t->ucr_count += seg->nucr;
		w.rec_end = rec_seg ? rec_seg[s + 1] : 0;
		rec_seek(&w, rec_seg ? rec_seg[s] : 0);
		defer.skip_until = 0;
		err = walk_segment(&w, seg, &ubs, false, deferring ? &defer : NULL);
		if (err && err != &ich_stop)
			break;
		err = NULL;
	}
	if (deferring && !w.err && !err)
		err = walk_deferred(&w, &defer);
	free(defer.v);
	free(ubs.v);
	free(ubs.size);
	free(rec_seg);
	free(w.rec);
	free(w.runs);
	w.rec = NULL;
	w.runs = NULL;
	w.rec_cur = w.rec_end = 0;
	if (!w.err && !err) {
		err = ich_as_list_walk(h->as, heap->address + (uint64_t)o->heap_virtual_allocd_blocks,
				       MAX_VIRTUAL_BLOCKS, true, virtual_cb, &w, NULL);
		if (err && err != &ich_enomem && err != w.err) {
			heap_problem(heap, heap->address, "large-block list: %s", err->message);
			ich_error_destroy(err);
			err = NULL;
		}
	}
	heap->walked = true;
	if (w.err == &ich_stop)
		return NULL;
	return w.err ? w.err : err;
}
