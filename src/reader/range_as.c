/* SPDX-License-Identifier: MIT */
/*
 * Range address space: VA ranges backed by file bytes (minidump MemoryList /
 * Memory64List, kernel triage data blocks).  Built once into sorted,
 * non-overlapping segments.  The inline path of addrspace.h finds a
 * read's segment through a bucket directory (the
 * bucket's record: one load, one compare; else the bucket's index and two
 * compares; build_dir), and what it declines (gaps, reads across
 * segments, bytes past end-of-file) comes here: a binary search (O(log n))
 * that says why.
 *
 * Overlaps (they occur in real dumps, e.g. a stack also listed as a data
 * range) are resolved deterministically: the range listed first in the dump
 * owns the bytes, later ones only fill gaps.  Implemented as a sweep over
 * range boundaries with a min-heap of active ranges keyed by dump order;
 * ranges that come sorted and disjoint (the usual case) skip the sweep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "reader/reader.h"

/* The directory's two tables, ICH_AS_DIR_SLOTS entries each, mapped
 * rather than allocated: their pages are zero until written, and
 * build_dir writes only the slots of buckets where a segment has bytes,
 * so a small dump costs a few pages, not 2.25 MiB (a heap allocation
 * of that size may come back used and need clearing). */
#define DIR_BYTES ((size_t)ICH_AS_DIR_SLOTS * sizeof(uint32_t))
#define DIR_REC_BYTES ((size_t)ICH_AS_DIR_SLOTS * sizeof(struct ich_as_dir_rec))

struct range_as {
	struct ich_as as;
	struct ich_va_range *seg;	/* sorted, non-overlapping */
	uint64_t *starts;		/* seg[i].start, dense for the search */
	struct ich_as_span *span;	/* seg[i]'s bytes in the file */
	uint32_t *dir;			/* the inline lookup's directory, */
	struct ich_as_dir_rec *dir_rec;	/* its slots' records (mapped) */
	size_t nseg;
	const uint8_t *data;
	uint64_t file_size;
};

struct event {
	uint64_t pos;
	size_t idx;
	int is_end;
};

static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	/* ends before starts at the same position: [a,b) then [b,c) */
	if (x->is_end != y->is_end)
		return x->is_end ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Min-heap of range indices. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;
	h[i] = v;
	while (i > 0 && h[(i - 1) / 2] > h[i]) {
		size_t p = (i - 1) / 2, t = h[p];
		h[p] = h[i];
		h[i] = t;
		i = p;
	}
}

static void heap_pop(size_t *h, size_t *n)
{
	h[0] = h[--(*n)];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < *n && h[l] < h[m])
			m = l;
		if (r < *n && h[r] < h[m])
			m = r;
		if (m == i)
			break;
		size_t t = h[m];
		h[m] = h[i];
		h[i] = t;
		i = m;
	}
}

static uint64_t range_end(const struct ich_va_range *r)
{
	/* Clamp ranges that would wrap past 2^64. */
	return r->start + r->size < r->start ? UINT64_MAX : r->start + r->size;
}

/* Is [x, end) inside the segments built so far (VA-contiguous ones
 * together)?  Looks at 64 segments at most: a longer answer is "no". */
static bool covered(const struct range_as *ras, uint64_t x, uint64_t end)
{
	if (!ras->nseg || ras->seg[0].start > x)
		return false;
	size_t lo = 0, hi = ras->nseg;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ras->seg[mid].start <= x)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i < ras->nseg && k < 64; i++, k++) {
		const struct ich_va_range *s = &ras->seg[i];
		if (s->start > x)
			return false;	/* a hole before this segment */
		if (end - s->start <= s->size)
			return true;
		x = s->start + s->size;
	}
	return false;
}

/* The sweep's result without the sweep when the ranges allow it (see
 * build_segments); false (ras->seg freed, nseg 0) when they do not.  On
 * allocation failure true with ras->seg NULL. */
static bool try_sorted(struct range_as *ras, const struct ich_va_range *in, size_t n, size_t m)
{
	ras->seg = malloc(m * sizeof(*ras->seg));
	if (!ras->seg)
		return true;
	uint64_t prev_end = 0;
	bool in_prefix = true;
	for (size_t i = 0; i < n; i++) {
		if (!in[i].size)
			continue;
		uint64_t x = in[i].start, end = range_end(&in[i]);
		if (end == x)
			goto no;
		if (in_prefix && (!ras->nseg || x >= prev_end)) {
			struct ich_va_range *prev = ras->nseg ? &ras->seg[ras->nseg - 1] : NULL;
			if (prev && prev->start + prev->size == x &&
			    prev->file_off + prev->size == in[i].file_off)
				prev->size += end - x;
			else
				ras->seg[ras->nseg++] = (struct ich_va_range){ x, end - x, in[i].file_off };
			prev_end = end;
			continue;
		}
		/* past the sorted prefix: only ranges that add nothing */
		in_prefix = false;
		if (!covered(ras, x, end))
			goto no;
	}
	return true;
no:
	free(ras->seg);
	ras->seg = NULL;
	ras->nseg = 0;
	return false;
}

static struct ich_error *build_segments(struct range_as *ras,
					const struct ich_va_range *in, size_t n)
{
	/* The usual dump lists its ranges sorted and disjoint, then (the
	 * minidump reader appends them) thread stacks that those ranges
	 * already hold.  Then the sweep's segments are the sorted ranges
	 * themselves, joined where they continue each other in VA and file,
	 * and a later range that the segments before it cover entirely owns
	 * no byte: the sort of 2n events (most of a 4,000-range open, issue
	 * 12) is skipped.  Anything else -- unsorted, overlapping where a
	 * later range adds bytes, a range clamped to nothing at 2^64 -- goes
	 * through the sweep, which gives the same segments in every case. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (in[i].size)
			m++;
	if (m == 0)
		return NULL;
	if (try_sorted(ras, in, n, m))
		return ras->seg ? NULL : &ich_enomem;
	struct event *ev = malloc(2 * m * sizeof(*ev));
	size_t *heap = malloc(m * sizeof(*heap));
	bool *ended = calloc(n, sizeof(*ended));
	ras->seg = malloc(2 * m * sizeof(*ras->seg));
	if (!ev || !heap || !ended || !ras->seg) {
		free(ev);
		free(heap);
		free(ended);
		return &ich_enomem;
	}
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		if (!in[i].size)
			continue;
		ev[ne++] = (struct event){ in[i].start, i, 0 };
		ev[ne++] = (struct event){ range_end(&in[i]), i, 1 };
	}
	qsort(ev, ne, sizeof(*ev), event_cmp);
	size_t nh = 0;
	for (size_t e = 0; e < ne;) {
		uint64_t x = ev[e].pos;
		for (; e < ne && ev[e].pos == x; e++) {
			if (ev[e].is_end)
				ended[ev[e].idx] = true;
			else
				heap_push(heap, &nh, ev[e].idx);
		}
		while (nh && ended[heap[0]])
			heap_pop(heap, &nh);
		if (!nh || e == ne)
			continue;
		const struct ich_va_range *owner = &in[heap[0]];
		uint64_t next = ev[e].pos;
		uint64_t foff = owner->file_off + (x - owner->start);
		struct ich_va_range *prev = ras->nseg ? &ras->seg[ras->nseg - 1] : NULL;
		if (prev && prev->start + prev->size == x &&
		    prev->file_off + prev->size == foff) {
			prev->size += next - x;	/* contiguous in VA and file */
		} else {
			ras->seg[ras->nseg++] = (struct ich_va_range){ x, next - x, foff };
		}
	}
	free(ev);
	free(heap);
	free(ended);
	return NULL;
}

/* Index of the last segment with start <= addr, or SIZE_MAX (the
 * lookup the inline path of addrspace.h makes, ich_as_table_index). */
static size_t find_seg(struct range_as *ras, uint64_t addr)
{
	if (ras->nseg == 0 || ras->starts[0] > addr)
		return SIZE_MAX;
	return ich_as_table_index(ras->starts, ras->nseg, addr);
}

/* Make segment i the window (its bytes that are in the file: span[i]). */
static void window_on(struct range_as *ras, size_t i)
{
	if (ras->span[i].len)
		ich_as_set_window(&ras->as, ras->starts[i], ras->span[i].len, ras->span[i].data);
}

static size_t range_read(struct ich_as *as, uint64_t addr, void *buf, size_t len,
			 struct ich_read_result *res)
{
	struct range_as *ras = (struct range_as *)as;
	uint8_t *out = buf;
	size_t done = 0;
	res->why = ICH_MISS_NONE;
	res->pte = 0;
	/* (a read of more than 0 bytes that one segment holds in the file
	 * comes here only from a space without a directory, build_dir: the
	 * inline path of addrspace.h answers it; this loop copies it then) */
	size_t i = find_seg(ras, addr);
	while (done < len) {
		uint64_t a = addr + done;
		if (i == SIZE_MAX || i >= ras->nseg || a < ras->seg[i].start ||
		    a - ras->seg[i].start >= ras->seg[i].size) {
			res->why = ICH_MISS_NOT_CAPTURED;
			break;
		}
		const struct ich_va_range *s = &ras->seg[i];
		uint64_t off = a - s->start;
		uint64_t avail = s->size - off;
		uint64_t want = len - done < avail ? len - done : avail;
		uint64_t foff = s->file_off + off;
		if (foff >= ras->file_size) {
			res->why = ICH_MISS_BEYOND_FILE;
			break;
		}
		uint64_t infile = ras->file_size - foff;
		uint64_t n = want < infile ? want : infile;
		memcpy(out + done, ras->data + foff, (size_t)n);
		done += (size_t)n;
		window_on(ras, i);
		if (n < want) {
			res->why = ICH_MISS_BEYOND_FILE;
			break;
		}
		i++;	/* next segment may start right here */
	}
	res->nread = done;
	res->miss_addr = addr + done;
	return done;
}

static const void *range_peek(struct ich_as *as, uint64_t addr, size_t len)
{
	struct range_as *ras = (struct range_as *)as;
	size_t i = find_seg(ras, addr);
	if (i == SIZE_MAX)
		return NULL;
	const struct ich_va_range *s = &ras->seg[i];
	uint64_t off = addr - s->start;
	if (off >= s->size || s->size - off < len)
		return NULL;
	uint64_t foff = s->file_off + off;
	if (foff > ras->file_size || ras->file_size - foff < len)
		return NULL;
	window_on(ras, i);
	return ras->data + foff;
}

static void range_destroy(struct ich_as *as)
{
	struct range_as *ras = (struct range_as *)as;
	free(ras->seg);
	free(ras->starts);
	free(ras->span);
	if (ras->dir)
		munmap(ras->dir, DIR_BYTES);
	if (ras->dir_rec)
		munmap(ras->dir_rec, DIR_REC_BYTES);
	free(ras);
}

static const struct ich_as_ops range_as_ops = {
	.read = range_read,
	.peek = range_peek,
	.destroy = range_destroy,
};

/* The fewest buckets build_dir allows the span: a range is answered by
 * its bucket's record (one load, one compare) only in the buckets where
 * it has the most bytes, so a small range near a large one needs buckets
 * smaller than the distance between them (mid.dmp: a 4 KiB range 256 MiB
 * after the start of a 110 MiB one shared its 512 MiB bucket with 4,096
 * buckets and took the window and the table, a quarter of bench_reader's
 * reads; with 16,384 it has its own 128 MiB bucket, issue 12). */
#define DIR_FLOOR 16384u

/* Fill bucket B's slot: dir, the last segment starting at or before
 * its first byte (*i, moved forward; none: 0) marked crowded when more
 * than two segments start inside the bucket, and the record of the
 * segment with the most file bytes in the bucket (segment *i when none
 * starts inside: no count needed).  Returns whether one starts
 * inside. */
static bool fill_bucket(struct range_as *ras, unsigned k, uint64_t B, size_t *i)
{
	const uint64_t *start = ras->starts;
	size_t n = ras->nseg;
	uint64_t first = B << k;
	uint64_t last = first + (((uint64_t)1 << k) - 1);	/* B <= 2^64 - 1 >> k */
	while (*i + 1 < n && start[*i + 1] <= first)
		(*i)++;
	/* segments starting inside the bucket, after *i (they start past
	 * first; segment 0 may start inside too, then *i is 0 and it is
	 * the bucket's index) */
	size_t c = 0;
	for (size_t x = *i + 1; x < n && start[x] <= last && c <= 2; x++)
		c++;
	size_t slot = (size_t)(B & (ICH_AS_DIR_SLOTS - 1));
	ras->dir[slot] = (uint32_t)*i | (c > 2 ? ICH_AS_DIR_CROWDED : 0);
	size_t best = *i;
	if (c) {
		uint64_t most = 0;
		for (size_t x = *i; x < n && start[x] <= last; x++) {
			uint64_t a = start[x] > first ? start[x] : first;
			/* span[x] ends at or below 2^64 - 1: no wrap */
			uint64_t e = start[x] + ras->span[x].len;
			uint64_t in = e > a ? (e - 1 < last ? e - 1 : last) - a + 1 : 0;
			if (in > most) {
				most = in;
				best = x;
			}
		}
	}
	uint64_t len = ras->span[best].len;
	ras->dir_rec[slot] = (struct ich_as_dir_rec){ start[best], len >= 8 ? len - 7 : 0, len,
						      ras->span[best].data };
	return c != 0;
}

/* The directory of the inline lookup (struct ich_as_window in
 * addrspace.h): the VA cut into buckets of 2^shift bytes, the smallest
 * shift that keeps the buckets from the first segment's to the last
 * one's within max(DIR_FLOOR, 4 x segments), at most ICH_AS_DIR_SLOTS,
 * each in its own slot.  The slots of buckets where some segment has
 * bytes in the file are filled (fill_bucket); a run of buckets inside
 * one segment where nothing else starts is copied from the first.  Work
 * and pages written: the segments plus their buckets, not the span.
 * Index and mark share 32 bits: a table of 2^31 - 2 segments or more
 * gets no directory (dir_rec NULL: every read takes the out-of-line
 * path). */
static struct ich_error *build_dir(struct range_as *ras, unsigned *shift)
{
	const uint64_t *start = ras->starts;
	size_t n = ras->nseg;
	*shift = 0;
	if (!n || n >= ICH_AS_DIR_CROWDED - 2)
		return NULL;
	/* the last segment's last byte; segment sizes are > 0 and clamped
	 * to 2^64 (range_end), so this does not wrap */
	uint64_t last = ras->seg[n - 1].start + (ras->seg[n - 1].size - 1);
	uint64_t cap = 4 * (uint64_t)n > DIR_FLOOR ? 4 * (uint64_t)n : DIR_FLOOR;
	if (cap > ICH_AS_DIR_SLOTS)
		cap = ICH_AS_DIR_SLOTS;
	unsigned k = ICH_AS_DIR_REC_LOG2;
	while ((last >> k) - (start[0] >> k) >= cap)	/* ends by k = 63 */
		k++;
	void *d = mmap(NULL, DIR_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *r = mmap(NULL, DIR_REC_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d == MAP_FAILED || r == MAP_FAILED) {
		if (d != MAP_FAILED)
			munmap(d, DIR_BYTES);
		if (r != MAP_FAILED)
			munmap(r, DIR_REC_BYTES);
		return &ich_enomem;
	}
	ras->dir = d;
	ras->dir_rec = r;
	uint64_t lastB = last >> k;
	size_t i = 0, x = 0;
	uint64_t B = start[0] >> k;
	for (;;) {
		/* the next segment with file bytes in bucket B or after it */
		while (x < n && (!ras->span[x].len || (start[x] + (ras->span[x].len - 1)) >> k < B))
			x++;
		if (x == n)
			break;
		if (start[x] >> k > B)
			B = start[x] >> k;
		bool starts_inside = fill_bucket(ras, k, B, &i);
		/* The buckets after B inside segment i's bytes and before the
		 * one where segment i + 1 starts have the same index and
		 * record (none when a segment starts inside B): most of a
		 * large range's buckets, a copy each instead of the search
		 * and the count. */
		uint64_t to = B;
		if (!starts_inside && ras->span[i].len && start[i] <= B << k) {
			to = (start[i] + (ras->span[i].len - 1)) >> k;
			if (i + 1 < n && (start[i + 1] >> k) - 1 < to)
				to = (start[i + 1] >> k) - 1;
		}
		if (to < B)	/* (cannot be: segment i has bytes in B) */
			to = B;
		size_t from = (size_t)(B & (ICH_AS_DIR_SLOTS - 1));
		for (uint64_t b = B + 1; b <= to; b++) {
			size_t sl = (size_t)(b & (ICH_AS_DIR_SLOTS - 1));
			ras->dir[sl] = ras->dir[from];
			ras->dir_rec[sl] = ras->dir_rec[from];
		}
		if (to >= lastB)
			break;
		B = to + 1;
	}
	*shift = k;
	return NULL;
}

struct ich_error *ich_range_as_create(struct ich_dump *dump, unsigned ptr_size,
				      const char *name,
				      const struct ich_va_range *ranges,
				      size_t n, struct ich_as **ret)
{
	struct range_as *ras = calloc(1, sizeof(*ras));
	if (!ras)
		return &ich_enomem;
	ras->as.ops = &range_as_ops;
	ras->as.ptr_size = ptr_size;
	ras->as.dump = dump;
	snprintf(ras->as.name, sizeof(ras->as.name), "%s", name);
	ras->data = dump->file.data;
	ras->file_size = dump->file.size;
	struct ich_error *err = build_segments(ras, ranges, n);
	if (!err && ras->nseg) {
		/* two padding entries after the segments (addrspace.h) */
		ras->starts = malloc((ras->nseg + 2) * sizeof(*ras->starts));
		ras->span = malloc((ras->nseg + 2) * sizeof(*ras->span));
		if (!ras->starts || !ras->span)
			err = &ich_enomem;
		for (size_t i = 0; !err && i < ras->nseg; i++) {
			/* the inline lookup needs no file check: a span holds
			 * only the segment's bytes that the file has */
			const struct ich_va_range *sg = &ras->seg[i];
			ras->starts[i] = sg->start;
			ras->span[i] = (struct ich_as_span){ 0, ras->data };
			if (sg->file_off < ras->file_size) {
				uint64_t infile = ras->file_size - sg->file_off;
				ras->span[i].len = sg->size < infile ? sg->size : infile;
				ras->span[i].data = ras->data + sg->file_off;
			}
		}
		for (size_t i = ras->nseg; !err && i < ras->nseg + 2; i++) {
			ras->starts[i] = UINT64_MAX;
			ras->span[i] = (struct ich_as_span){ 0, ras->data };
		}
		unsigned shift = 0;
		if (!err)
			err = build_dir(ras, &shift);
		if (!err)
			ich_as_set_table(&ras->as, ras->starts, ras->span, ras->nseg, ras->dir,
					 ras->dir_rec, shift);
	}
	if (err) {
		range_destroy(&ras->as);
		return err;
	}
	*ret = &ras->as;
	return NULL;
}
