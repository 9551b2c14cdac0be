/* SPDX-License-Identifier: MIT */
/*
 * The compact block object of heap -a --json (src/cli/records.c
 * json_block_compact: addresses' digits from one register, the rest of the
 * object from a cache of rendered tails) against the field-by-field writer
 * (ich_json_block_fields through the generic json.c calls), byte for byte.
 * The block sequences are built to catch a cache that keys on too little:
 * neighbours that differ in exactly one field the text shows (size,
 * block_size, unused, segment, state, layer), more distinct tails than the
 * cache has slots, out-of-range states and layers, the longest tails, and
 * addresses of every digit count with header and user on either side of a
 * digit-count boundary.
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

#include "cli/records.h"
#include "core/json.h"

/* records.c's ich_json_failure (not used here) reads the CLI's last
 * error from cli_util.c, which this test does not link. */
const char *ich_cli_last_error(const char **code)
{
	(void)code;
	return NULL;
}

/* A compact writer into memory: one array, its text read back at the end. */
struct sink {
	char *text;
	size_t len;
	FILE *f;
	struct ich_json *j;
};

static void sink_open(struct sink *s)
{
	s->text = NULL;
	s->len = 0;
	s->f = open_memstream(&s->text, &s->len);
	assert_non_null(s->f);
	s->j = malloc(sizeof(*s->j));
	assert_non_null(s->j);
	ich_json_init(s->j, s->f, false);
	ich_json_begin_array(s->j, NULL);
}

static void sink_close(struct sink *s)
{
	ich_json_end_array(s->j);
	ich_json_finish(s->j);
	fclose(s->f);
	free(s->j);
}

/* Two sinks' texts the same, byte for byte; on a difference the text
 * around its first byte is shown, each named. */
static void same_text(const struct sink *x, const struct sink *y, const char *xname, const char *yname)
{
	if (x->len != y->len || memcmp(x->text, y->text, x->len)) {
		size_t k = 0;
		while (k < x->len && k < y->len && x->text[k] == y->text[k])
			k++;
		size_t from = k > 120 ? k - 120 : 0;
		print_error("first difference at byte %zu:\n  %-8s %.240s\n  %-8s %.240s\n", k, xname,
			    x->text + from, yname, y->text + from);
	}
	assert_int_equal(x->len, y->len);
	assert_memory_equal(x->text, y->text, x->len);
}

/* The renderings of the blocks as one array each (ich_json_block, the
 * walk callback ich_json_block_cb, the field-by-field writer); compared
 * as text. */
static void check_blocks(const struct ich_heap_block *v, size_t n)
{
	struct sink a, b, c;
	sink_open(&a);
	sink_open(&b);
	sink_open(&c);
	for (size_t i = 0; i < n; i++) {
		ich_json_block(a.j, &v[i]);
		ich_json_begin_object(b.j, NULL);
		ich_json_block_fields(b.j, &v[i]);
		ich_json_end_object(b.j);
		assert_null(ich_json_block_cb(NULL, &v[i], c.j));
	}
	sink_close(&a);
	sink_close(&b);
	sink_close(&c);
	same_text(&c, &a, "callback:", "compact:");
	free(c.text);
	same_text(&a, &b, "compact:", "fields:");
	free(a.text);
	free(b.text);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Neighbours differing in one shown field each, over every state and
 * layer (and one past each range). */
static void test_one_field_apart(void **state)
{
	(void)state;
	enum { N = 4096 };
	struct ich_heap_block *v = calloc(N, sizeof(*v));
	assert_non_null(v);
	size_t n = 0;
	for (unsigned s = 0; s <= 4; s++)
		for (unsigned l = 0; l <= 8; l++) {
			struct ich_heap_block b = {
				.header = 0x1c3a0001150, .user = 0x1c3a0001160, .size = 8, .block_size = 32,
				.unused = 24, .segment = 0x1c3a0001010,
				.state = (enum ich_block_state)s, .layer = (enum ich_block_layer)l,
			};
			for (unsigned f = 0; f < 8; f++) {
				v[n++] = b;
				struct ich_heap_block c = b;
				switch (f) {
				case 0: c.size++; break;
				case 1: c.block_size += 16; break;
				case 2: c.unused--; break;
				case 3: c.segment += 0x10000; break;	/* shown only with a where-key */
				case 4: c.state = (enum ich_block_state)((s + 1) % 5); break;
				case 5: c.layer = (enum ich_block_layer)((l + 1) % 9); break;
				case 6: c.header += 32; c.user += 32; break;	/* tail unchanged */
				case 7: c.flags ^= 0x80; c.prev_size += 16; break;	/* not shown */
				}
				v[n++] = c;
				v[n++] = b;
			}
		}
	/* 40 values of one field, the rest fixed, twice over: more keys than
	 * the cache has slots, so two of them share a slot (pigeonhole) and
	 * differ only in that field */
	for (unsigned f = 0; f < 6; f++)
		for (unsigned k = 0; k < 80; k++) {
			struct ich_heap_block b = {
				.header = 0x7ff000001000ull + 16 * k, .user = 0x7ff000001010ull + 16 * k,
				.size = 8, .block_size = 32, .unused = 24, .segment = 0x7ff000000000ull,
				.state = ICH_BLOCK_BUSY, .layer = ICH_LAYER_BACKEND,
			};
			unsigned x = k % 40;
			switch (f) {
			case 0: b.size = x; break;
			case 1: b.block_size = 16 * x; break;
			case 2: b.unused = x; break;
			case 3: b.segment += 0x10000ull * x; break;
			case 4: b.state = (enum ich_block_state)(x % 5); b.layer = (enum ich_block_layer)(x / 5); break;
			case 5: b.layer = (enum ich_block_layer)(x % 9); b.state = (enum ich_block_state)(x / 9); break;
			}
			v[n++] = b;
		}
	assert_true(n <= N);
	check_blocks(v, n);
	free(v);
}

/* Many distinct tails (evictions), the longest tails, every address digit
 * count with header/user across a digit-count boundary. */
static void test_tails_and_addresses(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct ich_heap_block *v = calloc(N, sizeof(*v));
	assert_non_null(v);
	size_t n = 0;
	for (unsigned d = 0; d <= 64; d += 4) {
		uint64_t a = d == 64 ? UINT64_MAX : (d ? (1ull << d) - 16 : 0);
		v[n++] = (struct ich_heap_block){ .header = a, .user = a + 16, .size = UINT64_MAX,
						  .block_size = UINT64_MAX, .unused = UINT64_MAX,
						  .segment = UINT64_MAX, .state = ICH_BLOCK_INTERNAL,
						  .layer = ICH_LAYER_SEG_BACKEND };
		v[n++] = (struct ich_heap_block){ .header = a ? a - 1 : 0, .user = a + 1, .size = 0,
						  .block_size = 0, .unused = 0, .segment = 0,
						  .state = ICH_BLOCK_CORRUPT, .layer = ICH_LAYER_VIRTUAL };
	}
	while (n < N) {
		uint64_t r = next_rand(), r2 = next_rand();
		unsigned shift = (unsigned)(r & 63);
		struct ich_heap_block b = {
			.header = r2 >> shift, .user = (r2 >> shift) + (r & 0x10 ? 16 : 8),
			.size = (r >> 8) & 0xF ? (r >> 12) & 0x3F : next_rand(),
			.block_size = (r >> 20) & 0x3 ? 32u << ((r >> 22) & 7) : next_rand() >> (r & 63),
			.unused = (r >> 26) & 0x1F,
			.segment = (r >> 31) & 1 ? 0x7ff000000000ull + ((r >> 32) & 7) * 0x10000 : next_rand(),
			.state = (enum ich_block_state)((r >> 36) % 5),
			.layer = (enum ich_block_layer)((r >> 40) % 9),
		};
		v[n++] = b;
	}
	check_blocks(v, n);
	free(v);
}

/*
 * Runs (ich_json_block_run, heap -a --json's LFH containers): the same
 * bytes as the run's blocks written one by one through the field-by-field
 * writer and through ich_json_block, in compact and pretty writers, with
 * single blocks between runs (the commas).  Block i of a run is expanded
 * here from struct ich_heap_block_run's documented meaning.
 */
struct run_case {
	struct ich_heap_block tmpl;
	uint64_t stride;
	size_t count;
	uint8_t *kind;
	struct ich_heap_block_kind *kinds;
	unsigned nkinds;
};

static void run_expand(const struct run_case *c, size_t i, struct ich_heap_block *b)
{
	*b = c->tmpl;
	b->header = c->tmpl.header + i * c->stride;
	b->user = c->tmpl.user + i * c->stride;
	const struct ich_heap_block_kind *k = &c->kinds[c->kind[i]];
	b->state = k->state;
	b->flags = k->flags;
	b->size = k->size;
	b->unused = k->unused;
}

static void check_runs(const struct run_case *v, size_t n, bool pretty)
{
	struct sink a, b, c;
	sink_open(&a);
	sink_open(&b);
	sink_open(&c);
	if (pretty) {
		a.j->pretty = b.j->pretty = c.j->pretty = true;
	}
	for (size_t r = 0; r < n; r++) {
		const struct run_case *rc = &v[r];
		struct ich_heap_block_run run = { .tmpl = rc->tmpl, .stride = rc->stride, .count = rc->count,
						  .kind = rc->kind, .kinds = rc->kinds, .nkinds = rc->nkinds };
		if (r % 2)
			assert_null(ich_json_block_run_cb(NULL, &run, a.j));
		else
			ich_json_block_run(a.j, &run);
		for (size_t i = 0; i < rc->count; i++) {
			struct ich_heap_block blk;
			run_expand(rc, i, &blk);
			ich_json_begin_object(b.j, NULL);
			ich_json_block_fields(b.j, &blk);
			ich_json_end_object(b.j);
			ich_json_block(c.j, &blk);
		}
		/* a single block between runs every third run */
		if (r % 3 == 1) {
			struct ich_heap_block one = { .header = 0x10 * r, .user = 0x10 * r + 0x10, .size = r,
						      .block_size = 0x20, .state = ICH_BLOCK_BUSY };
			ich_json_block(a.j, &one);
			ich_json_begin_object(b.j, NULL);
			ich_json_block_fields(b.j, &one);
			ich_json_end_object(b.j);
			ich_json_block(c.j, &one);
		}
	}
	sink_close(&a);
	sink_close(&b);
	sink_close(&c);
	same_text(&a, &c, "runs:", "blocks:");
	free(c.text);
	same_text(&a, &b, "runs:", "fields:");
	free(a.text);
	free(b.text);
}

static void test_runs(void **state)
{
	(void)state;
	enum { NRUNS = 2000, KIND_ROOM = 1 << 20 };
	struct run_case *v = calloc(NRUNS, sizeof(*v));
	uint8_t *kind_pool = malloc(KIND_ROOM);
	struct ich_heap_block_kind *kinds = calloc(256, sizeof(*kinds));
	assert_non_null(v);
	assert_non_null(kind_pool);
	assert_non_null(kinds);
	/* 256 kinds: busy of every unused 0..63 and the longest sizes, free,
	 * internal, corrupt, and states past the range */
	for (unsigned k = 0; k < 256; k++) {
		struct ich_heap_block_kind *kd = &kinds[k];
		kd->flags = (uint8_t)k;
		switch (k % 8) {
		case 0: case 1: case 2: case 3:
			kd->state = ICH_BLOCK_BUSY;
			kd->unused = k % 64;
			kd->size = 0x40 - kd->unused;
			break;
		case 4: case 5:
			kd->state = ICH_BLOCK_FREE;
			kd->unused = 0x40;
			break;
		case 6:
			kd->state = (enum ich_block_state)(k % 5);
			kd->size = k < 128 ? UINT64_MAX : k;
			kd->unused = UINT64_MAX - k;
			break;
		case 7:
			kd->state = ICH_BLOCK_INTERNAL;
			kd->size = (uint64_t)k << 40;
			break;
		}
	}
	size_t nr = 0, used = 0;
#define ADD_RUN(h, u, st, cnt, nk, pick)                                                   \
	do {                                                                               \
		assert_true(nr < NRUNS && used + (cnt) <= KIND_ROOM);                      \
		struct run_case *rc_ = &v[nr++];                                           \
		rc_->tmpl = (struct ich_heap_block){ .header = (h), .user = (u), .block_size = 0x40, \
						     .segment = 0x7ff000000000ull + nr,            \
						     .layer = (enum ich_block_layer)(nr % 10) };    \
		rc_->stride = (st);                                                        \
		rc_->count = (cnt);                                                        \
		rc_->kind = kind_pool + used;                                              \
		rc_->kinds = kinds;                                                        \
		rc_->nkinds = (nk);                                                        \
		for (size_t i_ = 0; i_ < (cnt); i_++)                                      \
			rc_->kind[i_] = (uint8_t)((pick) % (nk));                          \
		used += (cnt);                                                             \
	} while (0)
	/* every digit-count transition: header and user across 16^d within
	 * the run (user ahead of the header by 16, or equal), strides small
	 * to 0x1000, mixed kinds */
	static const uint64_t strides[] = { 8, 0x10, 0x30, 0x1000 };
	for (unsigned d = 1; d < 16; d++) {
		uint64_t edge = 1ull << (4 * d);
		for (unsigned s = 0; s < 4; s++) {
			uint64_t st = strides[s];
			uint64_t h = edge > 5 * st ? edge - 5 * st : 0;
			ADD_RUN(h, h + 16, st, 12, 4, i_ * 7 + d);
			ADD_RUN(h, h, st, 12, 2, i_ / 3);
			ADD_RUN(h + 3, h + 3 + 8, st, 12, 256, next_rand());
		}
	}
	/* the high 32 bits change inside the run, the digit count does not
	 * (header and user cross at different blocks) */
	ADD_RUN(0x1ffffffc0ull, 0x1ffffffd0ull, 0x10, 8, 3, i_);
	ADD_RUN(0x7fffffffff0ull, 0x80000000000ull, 0x10, 5, 2, i_);
	ADD_RUN(0x1c3afffff00ull, 0x1c3afffff10ull, 0x40, 12, 256, next_rand());
	ADD_RUN(0x100000000ull, 0x100000010ull, 0x100000000ull, 6, 2, i_);
	/* carry through a digit boundary one block at a time */
	ADD_RUN(0xfff0, 0x10000, 0x10, 4, 2, i_);
	ADD_RUN(0xffff0, 0xfffff, 1, 40, 3, i_);
	/* wrap past 2^64 (the digits shrink), maximal strides, stride 0 */
	ADD_RUN(UINT64_MAX - 0x25, UINT64_MAX - 0x15, 0x10, 6, 5, i_);
	ADD_RUN(0, 0x10, 1ull << 60, 17, 7, i_);
	ADD_RUN(1, 1, 1ull << 63, 3, 3, i_);
	ADD_RUN(UINT64_MAX, 0, UINT64_MAX, 5, 2, i_);
	ADD_RUN(0x1234, 0x1244, 0, 5, 2, i_);
	/* runs of 1, of every layer, every kind */
	for (unsigned k = 0; k < 256; k++)
		ADD_RUN(0x1c3a0001000ull + 0x40 * k, 0x1c3a0001010ull + 0x40 * k, 0x40, 1, 256, k);
	/* long runs: the writer's buffer fills inside them (and 256 kinds
	 * share the tail cache's 16 slots) */
	ADD_RUN(0x1c3a0100000ull, 0x1c3a0100010ull, 0x20, 5000, 2, next_rand() & 1);
	ADD_RUN(0x7ffe0000, 0x7ffe0008, 0x18, 3333, 256, next_rand());
	ADD_RUN(0x1c3a0200000ull, 0x1c3a0200010ull, 0x30, 1024, 256, i_);
	/* header and user the same address (a segment heap's LFH: the x64
	 * loop writes two blocks a turn), odd and even counts, the buffer
	 * filling inside them */
	ADD_RUN(0x1c3a0300000ull, 0x1c3a0300000ull, 0x10, 4999, 3, next_rand());
	ADD_RUN(0x1c3a0400008ull, 0x1c3a0400008ull, 0x40, 3000, 256, next_rand());
	ADD_RUN(0x1c3afffffe0ull, 0x1c3afffffe0ull, 0x10, 7, 2, i_);
	/* random runs */
	while (nr < 600) {
		uint64_t r = next_rand();
		unsigned shift = (unsigned)(r & 63);
		uint64_t h = next_rand() >> shift;
		size_t cnt = 1 + (size_t)((r >> 8) % 300);
		unsigned nk = 1 + (unsigned)((r >> 20) % 256);
		ADD_RUN(h, h + ((r >> 30) & 1 ? 16 : 0), ((r >> 32) & 0xFF) * 8, cnt, nk, next_rand());
	}
#undef ADD_RUN
	/* the x64 loop's two builds, each asked for by name (the one the
	 * CPU picks is the default, and the other would go untested) */
	assert_true(ich_json_run_path(1) >= 0);
	check_runs(v, nr, false);
	int was = ich_json_run_path(2);
	if (was >= 0) {
		assert_int_equal(was, 1);	/* the baseline was the one set */
		check_runs(v, nr, false);
		assert_int_equal(ich_json_run_path(0), 2);
	} else {
		print_message("AVX2 build of the run loop not available here: only the baseline tested\n");
		assert_int_equal(ich_json_run_path(0), 1);
	}
	assert_int_equal(ich_json_run_path(3), -1);
	assert_int_equal(ich_json_run_path(-1), -1);
	check_runs(v, nr, false);
	check_runs(v, nr, true);
	/* an empty run writes nothing */
	struct ich_heap_block_run empty = { .count = 0 };
	struct sink e;
	sink_open(&e);
	ich_json_block_run(e.j, &empty);
	sink_close(&e);
	assert_string_equal(e.text, "[]\n");
	free(e.text);
	free(v);
	free(kind_pool);
	free(kinds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_field_apart),
		cmocka_unit_test(test_tails_and_addresses),
		cmocka_unit_test(test_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
