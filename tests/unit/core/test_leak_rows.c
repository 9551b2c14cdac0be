/* SPDX-License-Identifier: MIT */
/*
 * heap -l's leak renderers (src/cli/leak_rows.c) against independent
 * renderings, byte for byte:
 *  - a text row (leak_text_row: the columns after User kept from the row
 *    before when the leak shares what they show) against the row printf
 *    makes of the same leak: "%0*llx" Entry, User, Heap and Segment,
 *    "%8llx" Size, PrevSize ("-" for LFH and page-heap blocks) and Unused,
 *    and the Flags words of WinDbg's -x table ("busy", "busy extra",
 *    "busy extra fill", "LFH;busy": the windbg-output samples heap-l__* and
 *    heap-a__*; "virtual" and "page-heap" are icpheap's);
 *  - a compact JSON leak (leak_json_compact: a head per heap, a cache of
 *    tails) against the field-by-field writer (leak_json_fields).
 * The leaks come in sequences where each differs from the one before in
 * exactly one field (heap, segment, block_size, prev_size, unused, layer,
 * flags, size, state, header/user), at both address widths, and with
 * more distinct tails than the JSON cache has slots: a cache that keys on
 * too little repeats the row before and fails.  No builder dump has
 * neighbouring leaks that differ only in heap, layer or flags (leak-scan
 * note, 2026-12-01), so this is where those keys are checked.
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

#include "cli/leak_rows.h"
#include "core/json.h"
#include "core/out.h"

/* records.c's ich_json_failure (not used here) reads the CLI's last
 * error from cli_util.c, which this test does not link. */
const char *ich_cli_last_error(const char **code)
{
	(void)code;
	return NULL;
}

#define P(x) (unsigned long long)(x)

/* The row printf makes of l (width w): the reference. */
static int ref_row(char *o, size_t cap, const struct ich_leak *l, int w)
{
	const struct ich_heap_block *b = &l->block;
	char prev[32], words[64] = "";
	if (b->layer == ICH_LAYER_LFH || b->layer == ICH_LAYER_PAGE_HEAP)
		snprintf(prev, sizeof(prev), "%8s", "-");
	else
		snprintf(prev, sizeof(prev), "%8llx", P(b->prev_size));
	if (b->layer == ICH_LAYER_LFH) {
		strcat(words, "LFH;busy ");
	} else {
		strcat(words, "busy ");
		if (b->layer != ICH_LAYER_PAGE_HEAP && (b->flags & 0x02))
			strcat(words, "extra ");
		if (b->layer != ICH_LAYER_PAGE_HEAP && (b->flags & 0x04))
			strcat(words, "fill ");
		if (b->layer == ICH_LAYER_VIRTUAL)
			strcat(words, "virtual ");
		if (b->layer == ICH_LAYER_PAGE_HEAP)
			strcat(words, "page-heap ");
	}
	return snprintf(o, cap, "%0*llx  %0*llx  %0*llx  %0*llx  %8llx  %s  %8llx  %s\n", w, P(b->header), w,
			P(b->user), w, P(l->heap), w, P(b->segment), P(b->block_size), prev, P(b->unused), words);
}

/* Two texts the same; on a difference, the lines around it. */
static void same_text(const char *x, size_t nx, const char *y, size_t ny, const char *what)
{
	if (nx != ny || memcmp(x, y, nx)) {
		size_t k = 0;
		while (k < nx && k < ny && x[k] == y[k])
			k++;
		size_t from = k > 200 ? k - 200 : 0;
		print_error("%s: first difference at byte %zu:\n  got  %.300s\n  want %.300s\n", what, k, x + from,
			    y + from);
	}
	assert_int_equal(nx, ny);
	assert_memory_equal(x, y, nx);
}

/* The leaks as rows (leak_text_row) and as printf rows; compared. */
static void check_text(const struct ich_leak *v, size_t n, int w)
{
	char *got = NULL, *want = NULL;
	size_t ngot = 0, nwant = 0;
	FILE *f = open_memstream(&got, &ngot), *g = open_memstream(&want, &nwant);
	assert_non_null(f);
	assert_non_null(g);
	struct ich_out *out = malloc(sizeof(*out));
	assert_non_null(out);
	ich_out_init(out, f);
	struct leak_text_rows t;
	leak_text_rows_init(&t, out, (unsigned)w);
	for (size_t i = 0; i < n; i++) {
		assert_null(leak_text_row(&v[i], &t));
		char row[512];
		int k = ref_row(row, sizeof(row), &v[i], w);
		assert_true(k > 0 && (size_t)k < sizeof(row));
		fwrite(row, 1, (size_t)k, g);
	}
	ich_out_flush(out);
	free(out);
	fclose(f);
	fclose(g);
	same_text(got, ngot, want, nwant, w == 16 ? "rows (x64)" : "rows (x86)");
	free(got);
	free(want);
}

/* The leaks as compact objects (leak_json_compact) and through the
 * field-by-field writer, each into an array of a compact writer. */
static void check_json(const struct ich_leak *v, size_t n)
{
	char *text[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	for (int m = 0; m < 2; m++) {
		FILE *f = open_memstream(&text[m], &len[m]);
		assert_non_null(f);
		struct ich_json *j = malloc(sizeof(*j));
		assert_non_null(j);
		ich_json_init(j, f, false);
		ich_json_begin_array(j, NULL);
		struct leak_json_rows *c = leak_json_rows_new(j);
		assert_non_null(c);
		for (size_t i = 0; i < n; i++) {
			if (m == 0)
				assert_null(leak_json_compact(&v[i], c));
			else
				leak_json_fields(j, &v[i]);
		}
		free(c);
		ich_json_end_array(j);
		ich_json_finish(j);
		fclose(f);
		free(j);
	}
	same_text(text[0], len[0], text[1], len[1], "json");
	free(text[0]);
	free(text[1]);
}

static const enum ich_block_layer layers[] = {
	ICH_LAYER_BACKEND, ICH_LAYER_LFH,	  ICH_LAYER_VIRTUAL,	   ICH_LAYER_SEG_VS,
	ICH_LAYER_SEG_LFH, ICH_LAYER_SEG_BACKEND, ICH_LAYER_SEG_LARGE, ICH_LAYER_PAGE_HEAP,
};
#define NLAYERS (sizeof(layers) / sizeof(layers[0]))

/* Leak pairs: a base leak, then one that differs from it in field f
 * only, for every field, layer and flag pattern; then the base again. */
static size_t one_field_apart(struct ich_leak *v, size_t cap, bool x64)
{
	uint64_t hi = x64 ? 0x1c3a0000000ull : 0x00a40000;
	size_t n = 0;
	for (size_t li = 0; li < NLAYERS; li++)
		for (unsigned fl = 0; fl < 8; fl++)
			for (unsigned f = 0; f < 10; f++) {
				struct ich_leak a = {
					.heap = hi,
					.block = { .header = hi + 0x1150 + 0x40 * n, .user = hi + 0x1160 + 0x40 * n,
						   .size = 0x18, .block_size = 0x30, .unused = 0x18, .prev_size = 0x30,
						   .segment = hi + 0x1000, .flags = (uint8_t)(1 | fl << 1),
						   .state = ICH_BLOCK_BUSY, .layer = layers[li] },
				};
				struct ich_leak b = a;
				b.block.header += 0x30;
				b.block.user += 0x30;
				switch (f) {
				case 0: b.heap += 0x100000; break;
				case 1: b.block.segment += 0x10000; break;
				case 2: b.block.block_size += 0x10; break;
				case 3: b.block.prev_size += 0x10; break;
				case 4: b.block.unused -= 8; break;
				case 5: b.block.layer = layers[(li + 1) % NLAYERS]; break;
				case 6: b.block.flags ^= 0x02; break;	/* extra */
				case 7: b.block.flags ^= 0x04; break;	/* fill */
				case 8: b.block.size -= 8; break;	/* JSON only */
				case 9: b.block.state = ICH_BLOCK_FREE; break;	/* JSON only */
				}
				assert_true(n + 3 <= cap);
				v[n++] = a;
				v[n++] = b;
				a.block.header += 0x60;
				a.block.user += 0x60;
				v[n++] = a;
			}
	return n;
}

/* Neighbours one field apart: the three keys no builder dump exercises
 * (heap, layer, flags) and every other the row or the object shows. */
static void test_one_field_apart(void **state)
{
	(void)state;
	enum { CAP = 8 * 8 * 10 * 3 };
	struct ich_leak *v = calloc(CAP, sizeof(*v));
	assert_non_null(v);
	for (int x64 = 0; x64 < 2; x64++) {
		size_t n = one_field_apart(v, CAP, x64);
		check_text(v, n, x64 ? 16 : 8);
		check_json(v, n);
	}
	free(v);
}

/* Many distinct tails, met in a random order: each field drawn on its
 * own from two or three values, so tails that differ in one field only
 * meet in the JSON cache's 16 slots (evictions and collisions); and the
 * widest numbers. */
static void test_many_tails(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct ich_leak *v = calloc(N, sizeof(*v));
	assert_non_null(v);
	uint64_t r = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < N; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		uint64_t q = r >> 8;	/* one bit or digit a field */
		struct ich_heap_block b = {
			.header = 0x7ff000000000ull + 0x100 * i, .user = 0x7ff000000010ull + 0x100 * i,
			.size = 0x18 + (q & 1) * 8, .block_size = 0x30 + (q >> 1 & 1) * 16,
			.unused = 0x18 + (q >> 2 & 1) * 8, .prev_size = (q >> 3 & 1) * 16,
			.segment = 0x7ff000000000ull + (q >> 4 & 1) * 0x100000, .flags = (uint8_t)(1 | (q >> 5 & 3) << 1),
			.state = q >> 7 & 1 ? ICH_BLOCK_BUSY : ICH_BLOCK_FREE, .layer = layers[(q >> 8) % NLAYERS],
		};
		if (q % 97 == 0) {	/* the widest numbers */
			b.size = b.block_size = b.unused = b.prev_size = UINT64_MAX;
			b.header = b.user = b.segment = UINT64_MAX - 15;
		}
		v[i] = (struct ich_leak){ .heap = 0x7ff000000000ull + (q >> 12 & 1) * 0x10000000, .block = b };
	}
	check_text(v, N, 16);
	check_json(v, N);
	free(v);
}

/* Leaks that differ in one field only, drawn from many values (the
 * others fixed): with a cache slot chosen by hashing, tails one field
 * apart meet in a slot only for some differences, so each field goes
 * through many (a compare that leaves the field out then copies the
 * wrong tail). */
static void test_one_field_many_values(void **state)
{
	(void)state;
	enum { N = 4000 };
	struct ich_leak *v = calloc(N, sizeof(*v));
	assert_non_null(v);
	uint64_t r = 0x2545F4914F6CDD1Dull;
	for (unsigned f = 0; f < 7; f++) {
		for (size_t i = 0; i < N; i++) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			uint64_t q = r >> 11;
			struct ich_heap_block b = {
				.header = 0x1c3a0001150ull + 0x40 * i, .user = 0x1c3a0001160ull + 0x40 * i,
				.size = 0x18, .block_size = 0x30, .unused = 0x18, .prev_size = 0x30,
				.segment = 0x1c3a0000000ull, .flags = 1, .state = ICH_BLOCK_BUSY,
				.layer = ICH_LAYER_BACKEND,
			};
			uint64_t heap = 0x1c3a0000000ull;
			switch (f) {
			case 0: b.size = q % 4096; break;
			case 1: b.block_size = q % 65536; break;
			case 2: b.unused = q % 4096; break;
			case 3: b.segment = 0x1c3a0000000ull + (q % 4096) * 0x10000; break;
			case 4: b.state = (enum ich_block_state)(q % 5); break;	/* 4: no name */
			case 5: b.layer = (enum ich_block_layer)(q % 9); break;	/* 8: no name */
			case 6: heap += (q % 64) * 0x10000000; break;
			}
			v[i] = (struct ich_leak){ .heap = heap, .block = b };
		}
		check_text(v, N, 16);
		check_json(v, N);
	}
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_field_apart),
		cmocka_unit_test(test_many_tails),
		cmocka_unit_test(test_one_field_many_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
