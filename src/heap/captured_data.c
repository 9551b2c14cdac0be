/* SPDX-License-Identifier: MIT */
/*
 * The captured bytes of a stretch of the process space, in address order,
 * a contiguous stretch at a time: the scans of a module's data (the NT
 * heap's RtlpLFHKey and the segment heap's RtlpHpHeapGlobals in ntdll,
 * the page heap's failure record) look at every aligned position of
 * ntdll's sections.  Each captured stretch is peeked once (in place, no
 * copy) and scanned from there; only the few bytes where a record could
 * straddle two stretches that are adjacent in memory but not in the file
 * (two pages of a kernel dump, two minidump ranges) are copied, once per
 * boundary (issue 12: work proportional to the bytes asked for).
 *
 * Where the next captured byte is: a minidump says it (its memory ranges,
 * sorted once per process and kept in the heaps context); a kernel-dump
 * process is captured page by page, so a missing page is skipped whole.
 */
#include <stdlib.h>
#include <string.h>

#include <icpheap/minidump.h>

#include "heap/heap_internal.h"

#define PAGE 0x1000u

static int range_cmp(const void *a, const void *b)
{
	const struct ich_user_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct ich_error *data_captured_index(const struct ich_minidump *md, struct ich_user_range **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!md->nranges)
		return NULL;
	struct ich_user_range *r = malloc(md->nranges * sizeof(*r));
	if (!r)
		return &ich_enomem;
	size_t m = 0;
	for (size_t i = 0; i < md->nranges; i++) {
		uint64_t s = md->ranges[i].start, z = md->ranges[i].size;
		if (!z)
			continue;
		/* [start, end) as an end clamped below 2^64, kept as size */
		r[m].start = s;
		r[m].size = z > UINT64_MAX - s ? UINT64_MAX - s : z;
		m++;
	}
	qsort(r, m, sizeof(*r), range_cmp);
	/* merge overlapping and adjacent ranges: which one owns a byte is
	 * the address space's business; here only whether it is captured */
	size_t k = 0;
	for (size_t i = 0; i < m; i++) {
		if (k && r[i].start <= r[k - 1].start + r[k - 1].size) {
			uint64_t e = r[i].start + r[i].size, pe = r[k - 1].start + r[k - 1].size;
			if (e > pe)
				r[k - 1].size = e - r[k - 1].start;
			continue;
		}
		r[k++] = r[i];
	}
	*out = r;
	*n = k;
	return NULL;
}

void data_iter_init(struct data_iter *it, struct ich_as *as, const struct ich_user_range *capt,
		    size_t ncapt, bool by_range, uint64_t start, uint64_t end, size_t tail)
{
	it->as = as;
	it->capt = capt;
	it->ncapt = ncapt;
	it->by_range = by_range;
	it->a = start;
	it->end = end > start ? end : start;	/* a wrapped region is empty */
	it->tail = tail < 1 ? 1 : tail > DATA_TAIL_MAX ? DATA_TAIL_MAX : tail;
	it->have_nxt = false;
	it->phase = 2;		/* fetch the first piece */
	it->k = 0;
	it->cur.buf = -1;
	it->nxt.buf = -1;
	it->started = false;
}

/* The first captured range that ends after a (index ncapt: none). */
static size_t capt_find(const struct data_iter *it, uint64_t a)
{
	size_t lo = 0, hi = it->ncapt;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (it->capt[mid].start + it->capt[mid].size <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The end of the page holding a, or end if that comes first. */
static uint64_t page_end(uint64_t a, uint64_t end)
{
	uint64_t last = a | (PAGE - 1);
	return last >= end - 1 ? end : last + 1;
}

/* The next piece: bytes contiguous in memory (in the mapped file, or a
 * copy into it->copy[buf]) at the next captured address. */
static bool gen_piece(struct data_iter *it, struct data_piece *pc, int buf)
{
	while (it->a < it->end) {
		uint64_t a = it->a, lim = it->end;
		if (it->by_range) {
			size_t i = capt_find(it, a);
			if (i == it->ncapt) {
				it->a = it->end;
				return false;
			}
			if (it->capt[i].start > a)
				a = it->capt[i].start;
			if (a >= it->end) {
				it->a = it->end;
				return false;
			}
			uint64_t re = it->capt[i].start + it->capt[i].size;
			if (re < lim)
				lim = re;
			/* a minidump range is one stretch of the file: one peek */
			const uint8_t *p = lim - a <= SIZE_MAX / 2 ? ich_as_peek(it->as, a, (size_t)(lim - a)) : NULL;
			if (p) {
				*pc = (struct data_piece){ a, p, (size_t)(lim - a), -1 };
				it->a = lim;
				return true;
			}
		}
		/* page by page: a kernel-dump process, or a range the file
		 * cuts short or that overlapping ranges split */
		uint64_t pe = page_end(a, lim);
		const uint8_t *p = ich_as_peek(it->as, a, (size_t)(pe - a));
		if (p) {
			*pc = (struct data_piece){ a, p, (size_t)(pe - a), -1 };
			it->a = pe;
			while (it->a < lim) {	/* the next pages, while they follow in the file */
				uint64_t e = page_end(it->a, lim);
				const uint8_t *q = ich_as_peek(it->as, it->a, (size_t)(e - it->a));
				if (q != pc->p + pc->len)
					break;
				pc->len += (size_t)(e - it->a);
				it->a = e;
			}
			return true;
		}
		size_t got = ich_as_read(it->as, a, it->copy[buf], (size_t)(pe - a), NULL);
		/* a minidump range may start again inside this page */
		it->a = got && it->by_range ? a + got : pe;
		if (got) {
			*pc = (struct data_piece){ a, it->copy[buf], got, buf };
			return true;
		}
	}
	return false;
}

bool data_iter_next(struct data_iter *it, struct data_chunk *c)
{
	for (;;) {
		switch (it->phase) {
		case 0: {	/* the current piece, less the starts the bridge takes */
			it->phase = 1;
			uint64_t cend = it->cur.va + it->cur.len;
			bool cont = it->have_nxt && it->nxt.va == cend;
			it->k = cont && it->tail > 1 ? (it->tail - 1 < it->cur.len ? it->tail - 1 : it->cur.len) : 0;
			if (it->cur.len > it->k) {
				*c = (struct data_chunk){ it->cur.va, it->cur.p, it->cur.len, it->cur.len - it->k };
				return true;
			}
			break;
		}
		case 1: {	/* the bridge into the next piece (adjacent in memory) */
			it->phase = 2;
			if (!it->k)
				break;
			uint64_t b = it->cur.va + it->cur.len - it->k, cend = it->cur.va + it->cur.len;
			uint64_t more = it->end - cend < it->tail - 1 ? it->end - cend : it->tail - 1;
			size_t got = ich_as_read(it->as, b, it->bridge, it->k + (size_t)more, NULL);
			if (got) {
				*c = (struct data_chunk){ b, it->bridge, got, got < it->k ? got : it->k };
				return true;
			}
			break;
		}
		default:	/* next piece; the one after it decides the bridge */
			if (it->started) {
				if (!it->have_nxt)
					return false;
				it->cur = it->nxt;
			} else {
				it->started = true;
				if (!gen_piece(it, &it->cur, 0))
					return false;
			}
			it->have_nxt = gen_piece(it, &it->nxt, it->cur.buf == 0 ? 1 : 0);
			it->phase = 0;
			break;
		}
	}
}

void heap_data_iter(struct data_iter *it, struct ich_heaps *h, uint64_t start, uint64_t end, size_t tail)
{
	const struct ich_minidump *md = ich_dump_minidump(h->dump);
	if (md && !h->capt_done) {
		h->capt_done = true;
		/* no memory: page steps, which find every page a range starts */
		ich_error_destroy(data_captured_index(md, &h->capt, &h->ncapt));
	}
	data_iter_init(it, h->as, h->capt, h->ncapt, md && h->capt, start, end, tail);
}
