/* SPDX-License-Identifier: MIT */
/*
 * heap -a's block lines a run at a time (src/cli/listing.c ich_run_lines:
 * one line per kind, the header's digits stored over it) against the same
 * lines written block by block (ich_seg_line / ich_lfh_line, the per-block
 * path), byte for byte, through the buffered writer: 16- and 8-digit
 * headers, a run whose headers cross 2^32 (the first eight of sixteen
 * digits change inside it), 256 kinds of every state and layer, the
 * longest fields, strides 0 to 2^40, runs of one block and runs long
 * enough that the writer flushes inside them.  ich_run_lines_ok: a run
 * whose headers do not fit 8 digits (or wrap) goes block by block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/listing.h"

struct sink {
	char *text;
	size_t len;
	FILE *f;
	struct ich_out *out;
};

static void sink_open(struct sink *s)
{
	s->text = NULL;
	s->len = 0;
	s->f = open_memstream(&s->text, &s->len);
	assert_non_null(s->f);
	s->out = malloc(sizeof(*s->out));
	assert_non_null(s->out);
	ich_out_init(s->out, s->f);
}

static void sink_close(struct sink *s)
{
	ich_out_flush(s->out);
	fclose(s->f);
	free(s->out);
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct ich_heap_block_kind kinds[256];
static uint8_t kind_of[1 << 16];

/* Block i of r, from struct ich_heap_block_run's documented meaning. */
static void expand(const struct ich_heap_block_run *r, size_t i, struct ich_heap_block *b)
{
	*b = r->tmpl;
	b->header = r->tmpl.header + i * r->stride;
	b->user = r->tmpl.user + i * r->stride;
	b->state = r->kinds[r->kind[i]].state;
	b->flags = r->kinds[r->kind[i]].flags;
	b->size = r->kinds[r->kind[i]].size;
	b->unused = r->kinds[r->kind[i]].unused;
}

/* The runs (and a line written block by block between two of them, as
 * a heading would be) through ich_run_lines and through line() per
 * block. */
static void check(const struct ich_heap_block_run *v, size_t n, int w, ich_line_fn *line)
{
	struct sink a, b;
	sink_open(&a);
	sink_open(&b);
	for (size_t r = 0; r < n; r++) {
		assert_true(ich_run_lines_ok(w, &v[r]));
		ich_run_lines(a.out, w, &v[r], line);
		for (size_t i = 0; i < v[r].count; i++) {
			struct ich_heap_block blk;
			expand(&v[r], i, &blk);
			char *o = ich_out_room(b.out, ICH_LINE_ROOM);
			ich_out_commit(b.out, line(o, w, &blk));
		}
		if (r % 3 == 2) {
			ich_out_printf(a.out, "-- %zu --\n", r);
			ich_out_printf(b.out, "-- %zu --\n", r);
		}
	}
	sink_close(&a);
	sink_close(&b);
	if (a.len != b.len || memcmp(a.text, b.text, a.len)) {
		size_t k = 0;
		while (k < a.len && k < b.len && a.text[k] == b.text[k])
			k++;
		size_t from = k > 100 ? k - 100 : 0;
		print_error("w %d: first difference at byte %zu:\n  runs:      %.200s\n  per block: %.200s\n", w, k,
			    a.text + from, b.text + from);
	}
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.text, b.text, a.len);
	assert_true(a.len > 0);
	free(a.text);
	free(b.text);
}

static void test_run_lines(void **state)
{
	(void)state;
	for (unsigned k = 0; k < 256; k++) {
		struct ich_heap_block_kind *kd = &kinds[k];
		kd->state = (enum ich_block_state)(k % 5);	/* 4: out of range */
		kd->flags = (uint8_t)k;
		kd->size = k % 7 == 6 ? UINT64_MAX - k : (uint64_t)k * 0x11;
		kd->unused = k & 0x3F;
	}
	for (size_t i = 0; i < sizeof(kind_of); i++)
		kind_of[i] = (uint8_t)next_rand();
	enum { N = 64 };
	struct ich_heap_block_run v[N];
	for (int w = 8; w <= 16; w += 8) {
		for (int which = 0; which < 2; which++) {
			ich_line_fn *line = which ? ich_lfh_line : ich_seg_line;
			size_t n = 0;
			uint64_t top = w == 16 ? UINT64_MAX : 0xFFFFFFFFu;
#define RUN(h, st, cnt, nk, ly, bs, prev)                                                   \
	do {                                                                               \
		assert_true(n < N);                                                        \
		v[n] = (struct ich_heap_block_run){                                        \
			.tmpl = { .header = (h), .user = (h) + 16, .block_size = (bs),     \
				  .prev_size = (prev), .segment = 0x1000,                   \
				  .layer = (enum ich_block_layer)(ly) },                   \
			.stride = (st), .count = (cnt), .kind = kind_of + 97 * n,          \
			.kinds = kinds + (256 - (nk)), .nkinds = (nk) };                   \
		n++;                                                                       \
	} while (0)
			/* every run has the 256 kinds (kind_of: random bytes) */
			RUN(0x1c3a0001000ull & top, 0x20, 300, 256, ICH_LAYER_SEG_LFH, 0x20, 0);
			RUN(0x7ffe0000, 0x10, 1, 256, ICH_LAYER_LFH, 0x10, 0);
			RUN(0x100, 0, 17, 256, ICH_LAYER_SEG_VS, 0x40, 0x30);
			/* every layer and one past, longest fields */
			for (unsigned l = 0; l <= 8; l++)
				RUN(0x12345670 + l, 0x30, 40, 256, l, UINT64_MAX, UINT64_MAX);
			/* the top of the digits: 0xffff... - a few strides */
			RUN(top - 0x30 * 9, 0x30, 10, 256, ICH_LAYER_SEG_LFH, 0x30, 0);
			/* long: the writer flushes inside it */
			RUN(0x20000000, 0x10, 5000, 256, ICH_LAYER_SEG_LFH, 0x10, 0);
			if (w == 16) {
				/* across 2^32 and 2^40: the first digits change
				 * inside the run */
				RUN(0xFFFFFF00ull, 0x40, 20, 256, ICH_LAYER_SEG_LFH, 0x40, 0);
				RUN(0xFFFFFFFFC0ull, 0x10, 20, 256, ICH_LAYER_LFH, 0x10, 0);
				RUN(0x100000000ull, 1ull << 40, 20, 256, ICH_LAYER_LFH, 0x10, 0);
			}
#undef RUN
			check(v, n, w, line);
		}
	}
}

static void test_run_lines_ok(void **state)
{
	(void)state;
	uint8_t k0[4] = { 0 };
	struct ich_heap_block_run r = { .tmpl = { .header = 0xFFFFFF00u }, .stride = 0x40, .count = 4,
					.kind = k0, .kinds = kinds, .nkinds = 1 };
	assert_true(ich_run_lines_ok(8, &r));	/* last 0xffffffc0 */
	r.count = 5;	/* last 0x100000000: 9 digits */
	assert_false(ich_run_lines_ok(8, &r));
	assert_true(ich_run_lines_ok(16, &r));
	r.tmpl.header = UINT64_MAX - 0x10;	/* wraps */
	r.count = 2;
	assert_false(ich_run_lines_ok(8, &r));
	r.stride = UINT64_MAX;	/* count * stride overflows */
	r.count = 3;
	assert_false(ich_run_lines_ok(16, &r));
	r.count = 0;
	assert_false(ich_run_lines_ok(16, &r));
	r.count = 1;
	assert_false(ich_run_lines_ok(12, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_lines),
		cmocka_unit_test(test_run_lines_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
