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
	assert_int_equal(c.len, a.len);
	assert_memory_equal(c.text, a.text, a.len);
	free(c.text);
	assert_int_equal(a.len, b.len);
	if (memcmp(a.text, b.text, a.len)) {
		size_t k = 0;
		while (a.text[k] == b.text[k])
			k++;
		size_t from = k > 120 ? k - 120 : 0;
		print_error("first difference at byte %zu:\n  compact: %.200s\n  fields:  %.200s\n", k, a.text + from,
			    b.text + from);
	}
	assert_memory_equal(a.text, b.text, a.len);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_field_apart),
		cmocka_unit_test(test_tails_and_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
