/* SPDX-License-Identifier: MIT */
/*
 * Targeted mutation test of the segment-heap walker: the metadata of a
 * builder scenario (the _SEGMENT_HEAP header with its contexts, every page
 * segment's descriptor array, every VS chunk header and LFH subsegment
 * header, every large-allocation node) is damaged a few bytes at a time
 * and every heap walked again.  The walk must end (bounded, cycle-safe),
 * never read outside the dump (ASan build), and every block it lists must
 * lie inside the dump's address space as a sane range; a damaged heap is
 * reported partial or with corrupt blocks, never a crash.  LFH blocks'
 * unused-bytes trailers and bitmaps are damaged too, and each damaged
 * heap is walked by the callback, totals-only and -stat routes, which
 * must agree (heap_paths.h: the bulk LFH path against the per-block one).
 * usage: test_segheap_mutate DUMP [ITERATIONS]
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/error.h>
#include <icpheap/heap.h>

#include "reader/reader.h"

#include "../heap_blocks.h"
#include "../heap_paths.h"

static const char *dump_path;
static unsigned iterations = 300;

struct region {
	uint64_t off, len;
};
struct regions {
	struct region *v;	size_t n, cap;
	const uint8_t *file;	uint64_t size;
	struct ich_as *as;
	unsigned nlfh;
};

static void add_region(struct regions *r, uint64_t va, uint64_t len)
{
	const uint8_t *p = ich_as_peek(r->as, va, (size_t)len);
	if (!p || p < r->file || (uint64_t)(p - r->file) + len > r->size)
		return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		assert_non_null(r->v);
	}
	r->v[r->n++] = (struct region){ (uint64_t)(p - r->file), len };
}

static struct ich_error *gather(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct regions *r = arg;
	switch (b->layer) {
	case ICH_LAYER_SEG_VS:
		add_region(r, b->header, 16);
		break;
	case ICH_LAYER_SEG_BACKEND:
		add_region(r, b->header, 32);		/* the descriptor */
		if (b->state == ICH_BLOCK_INTERNAL)
			add_region(r, b->user, 0x40);	/* subsegment header */
		break;
	case ICH_LAYER_SEG_LFH:
		/* a busy block's last WORD (its unused-bytes trailer, when
		 * the bitmap says so) and the bitmap before the first block:
		 * every 7th block, so metadata still gets most flips */
		if (b->state == ICH_BLOCK_BUSY && r->nlfh++ % 7 == 0) {
			add_region(r, b->header + b->block_size - 2, 2);
			if (b->segment + 0x40 < b->header)
				add_region(r, b->segment + 0x40, b->header - b->segment - 0x40 < 0x100
								 ? b->header - b->segment - 0x40 : 0x100);
		}
		break;
	case ICH_LAYER_SEG_LARGE:
		add_region(r, b->header, 0x28);
		break;
	default:
		break;
	}
	return NULL;
}

struct sanity {
	uint64_t blocks;
};

static struct ich_error *sane(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct sanity *s = arg;
	s->blocks++;
	/* a listed block never wraps the address space */
	assert_true(b->user + b->block_size >= b->user || b->block_size == 0);
	assert_true(b->state != ICH_BLOCK_BUSY || b->size <= b->block_size);
	return NULL;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_mutate(void **state)
{
	(void)state;
	struct ich_dump *d;
	struct ich_heaps *h;
	assert_null(ich_dump_open(dump_path, &d));
	assert_null(ich_heaps_open(d, 0, &h));
	struct regions r = { .file = d->file.data, .size = d->file.size, .as = ich_dump_as(d) };
	for (size_t i = 0; i < ich_heaps_count(h); i++) {
		struct ich_heap *hp = ich_heaps_get(h, i);
		if (hp->kind != ICH_HEAP_KIND_SEGMENT || hp->status != ICH_HEAP_OK)
			continue;
		add_region(&r, hp->address, 0x400);	/* header and contexts */
		assert_null(ich_heap_walk(h, hp, gather, &r));
		for (size_t s = 0; s < hp->nsegments; s++)
			add_region(&r, hp->segments[s].base, 0x2000);
	}
	assert_true(r.n > 10);
	uint8_t *img = malloc((size_t)r.size);
	assert_non_null(img);
	uint64_t total = 0;
	for (unsigned it = 0; it < iterations; it++) {
		memcpy(img, r.file, (size_t)r.size);
		unsigned flips = 1 + (unsigned)(rnd() % 4);
		for (unsigned f = 0; f < flips; f++) {
			const struct region *g = &r.v[rnd() % r.n];
			uint64_t at = g->off + rnd() % g->len;
			switch (rnd() % 3) {
			case 0: img[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
			case 1: img[at] = (uint8_t)rnd(); break;
			default: img[at] = 0xFF; break;
			}
		}
		int fd = memfd_create("segheap-mutate", MFD_CLOEXEC);
		assert_true(fd >= 0);
		assert_true(write(fd, img, (size_t)r.size) == (ssize_t)r.size);
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct ich_dump *md;
		struct ich_heaps *mh;
		struct ich_error *derr = ich_dump_open(path, &md);
		bool opened = !derr;
		ich_error_destroy(derr);
		if (opened) {
			struct ich_error *err = ich_heaps_open(md, 0, &mh);
			if (!err) {
				for (size_t i = 0; i < ich_heaps_count(mh); i++) {
					/* the four routes of the walk agree on the
					 * damaged heap too (heap_paths.h) */
					struct ich_heap *hp = ich_heaps_get(mh, i);
					struct heap_blocks bl;
					struct sanity s = { 0 };
					if (hp->status == ICH_HEAP_OK) {
						ich_error_destroy(heap_paths_check(mh, hp, &bl));
						for (size_t j = 0; j < bl.n; j++)
							sane(hp, &bl.b[j], &s);
						free(bl.b);
					} else {
						ich_error_destroy(ich_heap_walk(mh, hp, sane, &s));
					}
					total += s.blocks;
				}
				ich_heaps_close(mh);
			}
			ich_error_destroy(err);
			ich_dump_close(md);
		}
		close(fd);
	}
	print_message("%u mutated dumps, %" PRIu64 " blocks walked, %zu of them also as runs\n", iterations, total,
		      heap_paths_run_blocks);
	free(img);
	free(r.v);
	ich_heaps_close(h);
	ich_dump_close(d);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	dump_path = argv[1];
	if (argc > 2)
		iterations = (unsigned)strtoul(argv[2], NULL, 0);
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_mutate) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
