/* SPDX-License-Identifier: MIT */
/* Unit tests for the core helpers: errors, UTF-16, JSON, the range address
 * space (overlap resolution, binary search, truncation) and list walks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "core/bits.h"
#include "core/fmt.h"
#include "core/grow.h"
#include "core/json.h"
#include "core/out.h"
#include "core/size.h"
#include "core/strbuf.h"
#include "core/utf.h"
#include "reader/reader.h"

static void test_error_messages(void **state)
{
	(void)state;
	struct ich_error *err = ich_error_create(ICH_ERR_FORMAT, "stream %d at 0x%x", 7, 0x1c0);
	assert_int_equal(err->code, ICH_ERR_FORMAT);
	assert_string_equal(err->message, "stream 7 at 0x1c0");
	err = ich_error_wrap(err, "%s: ", "a.dmp");
	assert_string_equal(err->message, "a.dmp: stream 7 at 0x1c0");
	ich_error_destroy(err);
	err = ich_error_os(2, "x.dmp", "cannot open");
	assert_int_equal(err->code, ICH_ERR_OS);
	assert_int_equal(err->errnum, 2);
	assert_string_equal(err->path, "x.dmp");
	assert_non_null(strstr(err->message, "x.dmp: cannot open: "));
	ich_error_destroy(err);
	ich_error_destroy(&ich_enomem);	/* static: must be a no-op */
	assert_string_equal(ich_enomem.message, "out of memory");
}

static void test_utf16(void **state)
{
	(void)state;
	/* "Aé€😀" = 41 00, e9 00, ac 20, 3d d8 00 de */
	const uint8_t s[] = {0x41, 0, 0xe9, 0, 0xac, 0x20, 0x3d, 0xd8, 0x00, 0xde, 0, 0, 0x42, 0};
	char *u = ich_utf16le_to_utf8(s, sizeof(s));
	assert_string_equal(u, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	free(u);
	/* lone high surrogate then 'x' -> U+FFFD x */
	const uint8_t bad[] = {0x00, 0xd8, 0x78, 0x00};
	u = ich_utf16le_to_utf8(bad, sizeof(bad));
	assert_string_equal(u, "\xef\xbf\xbdx");
	free(u);
	/* odd length: trailing byte dropped */
	u = ich_utf16le_to_utf8((const uint8_t *)"a\0b", 3);
	assert_string_equal(u, "a");
	free(u);
}

static void test_strbuf(void **state)
{
	(void)state;
	struct ich_strbuf sb;
	ich_strbuf_init(&sb);
	for (int i = 0; i < 100; i++)
		ich_strbuf_appendf(&sb, "%02d,", i);
	char *s = ich_strbuf_take(&sb);
	assert_int_equal(strlen(s), 300);
	assert_memory_equal(s + 297, "99,", 3);
	free(s);
}

static void test_json(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ich_json j;
	ich_json_init(&j, f, false);
	ich_json_begin_object(&j, NULL);
	ich_json_addr(&j, "address", 0x2083F1F0000ull);
	ich_json_string(&j, "name", "a\"b\\c\n");
	ich_json_begin_array(&j, "list");
	ich_json_u64(&j, NULL, 1);
	ich_json_bool(&j, NULL, true);
	ich_json_null(&j, NULL);
	ich_json_end_array(&j);
	ich_json_begin_array(&j, "empty");
	ich_json_end_array(&j);
	ich_json_end_object(&j);
	fclose(f);
	assert_string_equal(buf,
		"{\"address\":\"0x2083f1f0000\",\"name\":\"a\\\"b\\\\c\\n\","
		"\"list\":[1,true,null],\"empty\":[]}");
	free(buf);
}

/* The writer's buffer (json.c): none until the first byte, given back when
 * the outermost value closes and by ich_json_finish, and a writer goes on
 * with a second document after either; a document past the buffer's size
 * comes out whole. */
static void test_json_buffer(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ich_json j;
	ich_json_init(&j, f, false);
	assert_null(j.buf);
	ich_json_begin_array(&j, NULL);
	assert_non_null(j.buf);
	ich_json_end_array(&j);
	assert_null(j.buf);
	ich_json_finish(&j);	/* (the newline, with no buffer) */
	assert_null(j.buf);
	ich_json_begin_object(&j, NULL);
	ich_json_u64(&j, "n", 7);
	ich_json_end_object(&j);
	assert_null(j.buf);
	/* a raw value first: the slow path allocates */
	char *p = ich_json_raw_begin(&j, 4);
	assert_non_null(j.buf);
	memcpy(p, "true", 4);
	ich_json_raw_end(&j, 4);
	ich_json_finish(&j);
	assert_null(j.buf);
	/* a long array: several buffers' worth */
	ich_json_begin_array(&j, NULL);
	for (unsigned i = 0; i < 3 * ICH_JSON_BUF / 8; i++)
		ich_json_u64(&j, NULL, 1000000);
	ich_json_end_array(&j);
	ich_json_finish(&j);
	fclose(f);
	size_t n = 3 * ICH_JSON_BUF / 8;
	assert_int_equal(len, strlen("[]\n{\"n\":7}true\n") + 2 + n * 7 + (n - 1) + 1);
	assert_memory_equal(buf, "[]\n{\"n\":7}true\n[1000000,1000000,", 30);
	assert_memory_equal(buf + len - 10, ",1000000]\n", 10);
	free(buf);
}

/* --pretty: two spaces per level, ": " after keys, empty containers stay
 * "[]"; the expected text is written out by hand. */
static void test_json_pretty(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ich_json j;
	ich_json_init(&j, f, true);
	ich_json_begin_object(&j, NULL);
	ich_json_i64(&j, "neg", -42);
	ich_json_begin_array(&j, "list");
	ich_json_begin_object(&j, NULL);
	ich_json_addr(&j, "a", 0);
	ich_json_end_object(&j);
	ich_json_end_array(&j);
	ich_json_begin_array(&j, "empty");
	ich_json_end_array(&j);
	ich_json_end_object(&j);
	ich_json_finish(&j);
	fclose(f);
	assert_string_equal(buf,
		"{\n  \"neg\": -42,\n  \"list\": [\n    {\n      \"a\": \"0x0\"\n    }\n  ],\n"
		"  \"empty\": []\n}\n");
	free(buf);
	/* the CLI's switch: without --pretty a pretty writer is compact */
	buf = NULL;
	f = open_memstream(&buf, &len);
	ich_json_allow_pretty(false);
	ich_json_init(&j, f, true);
	ich_json_begin_array(&j, NULL);
	ich_json_u64(&j, NULL, UINT64_MAX);
	ich_json_i64(&j, NULL, INT64_MIN);
	ich_json_addr(&j, NULL, UINT64_MAX);
	ich_json_end_array(&j);
	ich_json_allow_pretty(true);
	fclose(f);
	assert_string_equal(buf, "[18446744073709551615,-9223372036854775808,\"0xffffffffffffffff\"]");
	free(buf);
}

/* Strings longer than the writer's buffer, with escapes scattered through
 * them, come out whole and in order (escape by runs, flush mid-string). */
static void test_json_long_strings(void **state)
{
	(void)state;
	size_t n = 3 * ICH_JSON_BUF + 123;
	char *s = malloc(n + 1);
	char *want = malloc(6 * n + 16);
	assert_non_null(s);
	assert_non_null(want);
	size_t w = 0;
	want[w++] = '[';
	want[w++] = '"';
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);
		if (i % 9973 == 5)
			c = '"';
		else if (i % 7919 == 3)
			c = 0x01;
		else if (i % 10007 == 1)
			c = '\\';
		s[i] = c;
		if (c == '"' || c == '\\') {
			want[w++] = '\\';
			want[w++] = c;
		} else if (c == 0x01) {
			memcpy(want + w, "\\u0001", 6);
			w += 6;
		} else {
			want[w++] = c;
		}
	}
	s[n] = '\0';
	memcpy(want + w, "\",\"x\"]\n", 7);
	w += 7;
	want[w] = '\0';
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct ich_json *j = malloc(sizeof(*j));
	assert_non_null(j);
	ich_json_init(j, f, false);
	ich_json_begin_array(j, NULL);
	ich_json_string(j, NULL, s);
	ich_json_string(j, NULL, "x");
	ich_json_end_array(j);
	ich_json_finish(j);
	fclose(f);
	assert_int_equal(len, w);
	assert_memory_equal(buf, want, w);
	free(buf);
	free(j);
	free(s);
	free(want);
}

/* A fake dump whose "file" is a buffer: byte at file offset i is (i & 0xff). */
static struct ich_dump *fake_dump(size_t size)
{
	struct ich_dump *d = calloc(1, sizeof(*d));
	uint8_t *data = malloc(size);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)i;
	d->file.data = data;
	d->file.size = size;
	return d;
}

static void free_fake(struct ich_dump *d)
{
	free((void *)d->file.data);
	free(d);
}

static void test_range_as_overlaps(void **state)
{
	(void)state;
	struct ich_dump *d = fake_dump(0x1000);
	/* Range 0 [0x1000,0x1100) at file 0x100; range 1 overlaps it
	 * [0x1080,0x1200) at file 0x400: range 0 (listed first) owns
	 * 0x1080..0x10ff, range 1 fills 0x1100..0x11ff from file 0x480. */
	struct ich_va_range r[] = {
		{ 0x1000, 0x100, 0x100 },
		{ 0x1080, 0x180, 0x400 },
		{ 0x5000, 0x10, 0xff8 },	/* runs past EOF at 0x1000 */
	};
	struct ich_as *as;
	assert_null(ich_range_as_create(d, 8, "test", r, 3, &as));
	uint8_t b[0x200];
	struct ich_read_result res;
	assert_int_equal(ich_as_read(as, 0x10f0, b, 0x20, &res), 0x20);
	assert_int_equal(b[0], 0xf0);		/* file 0x1f0 */
	assert_int_equal(b[0x10], 0x80);	/* file 0x480 */
	/* gap before 0x1000 */
	assert_int_equal(ich_as_read(as, 0xff0, b, 0x20, &res), 0);
	assert_int_equal(res.why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(res.miss_addr, 0xff0);
	/* end of the second range */
	assert_int_equal(ich_as_read(as, 0x11f0, b, 0x20, &res), 0x10);
	assert_int_equal(res.why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(res.miss_addr, 0x1200);
	/* truncated range: 8 bytes in the file, then beyond EOF */
	assert_int_equal(ich_as_read(as, 0x5000, b, 0x10, &res), 8);
	assert_int_equal(res.why, ICH_MISS_BEYOND_FILE);
	assert_int_equal(b[0], 0xf8);
	/* peek inside one segment, not across the truncation */
	const uint8_t *p = ich_as_peek(as, 0x1000, 0x10);
	assert_non_null(p);
	assert_int_equal(p[0], 0x00);
	assert_null(ich_as_peek(as, 0x5000, 0x10));
	uint32_t v32;
	assert_null(ich_as_read_u32(as, 0x1004, &v32));
	assert_int_equal(v32, 0x07060504);
	struct ich_error *err = ich_as_read_u32(as, 0x2000, &v32);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_FAULT);
	assert_string_equal(err->message, "0x2000 not captured in this dump");
	ich_error_destroy(err);
	ich_as_destroy(as);
	free_fake(d);
}

/* Many ranges, random lookups agree with a linear reference. */
static void test_range_as_many(void **state)
{
	(void)state;
	struct ich_dump *d = fake_dump(0x10000);
	enum { N = 500 };
	struct ich_va_range r[N];
	srand(7);
	for (int i = 0; i < N; i++) {
		r[i].start = (uint64_t)(rand() % 0x8000) * 0x10;
		r[i].size = (uint64_t)(rand() % 64 + 1) * 8;
		r[i].file_off = (uint64_t)(rand() % 0xf000);
	}
	struct ich_as *as;
	assert_null(ich_range_as_create(d, 8, "t", r, N, &as));
	for (int k = 0; k < 20000; k++) {
		uint64_t a = (uint64_t)(rand() % 0x81000);
		int owner = -1;
		for (int i = 0; i < N; i++)
			if (a >= r[i].start && a < r[i].start + r[i].size) {
				owner = i;
				break;
			}
		uint8_t b;
		size_t n = ich_as_read(as, a, &b, 1, NULL);
		if (owner < 0) {
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(n, 1);
			assert_int_equal(b, (uint8_t)(r[owner].file_off + (a - r[owner].start)));
		}
	}
	ich_as_destroy(as);
	free_fake(d);
}

/* The inline window (addrspace.h) against a byte-by-byte reference: reads
 * of 1..24 bytes, typed reads and peeks at random places, so reads that
 * start in the last segment's window and run past its end, into a gap, a
 * neighbour or the end of the file take the slow path and stop where the
 * reference says. */
static int owner_of(const struct ich_va_range *r, size_t n, uint64_t a, uint64_t fsize)
{
	for (size_t i = 0; i < n; i++)
		if (a >= r[i].start && a - r[i].start < r[i].size)
			return r[i].file_off + (a - r[i].start) < fsize ? (int)i : -2;
	return -1;
}

static void test_range_as_window(void **state)
{
	(void)state;
	const uint64_t fsize = 0x3000;
	struct ich_dump *d = fake_dump(fsize);
	enum { N = 40 };
	struct ich_va_range r[N];
	srand(11);
	uint64_t at = 0x10000;
	for (int i = 0; i < N; i++) {
		/* disjoint, some touching (contiguous VA, different file), the
		 * last ones running past the end of the file */
		at += (rand() % 3 == 0) ? 0 : (uint64_t)(rand() % 64);
		r[i].start = at;
		r[i].size = (uint64_t)(rand() % 96 + 1);
		r[i].file_off = i >= N - 3 ? fsize - 40 + (uint64_t)i : (uint64_t)(rand() % 0x2000);
		at += r[i].size;
	}
	struct ich_as *as;
	assert_null(ich_range_as_create(d, 8, "t", r, N, &as));
	for (int k = 0; k < 50000; k++) {
		uint64_t a = 0x10000 - 8 + (uint64_t)(rand() % (int)(at - 0x10000 + 16));
		size_t len = (size_t)(rand() % 24 + 1);
		uint8_t b[24];
		struct ich_read_result res;
		size_t n = ich_as_read(as, a, b, len, &res);
		size_t want = 0;
		int o = 0;
		while (want < len && (o = owner_of(r, N, a + want, fsize)) >= 0) {
			assert_true(want < n);
			assert_int_equal(b[want], (uint8_t)(r[o].file_off + (a + want - r[o].start)));
			want++;
		}
		assert_int_equal(n, want);
		assert_int_equal(res.nread, want);
		assert_int_equal(res.miss_addr, a + want);
		if (want < len)
			assert_int_equal(res.why, o == -2 ? ICH_MISS_BEYOND_FILE : ICH_MISS_NOT_CAPTURED);
		uint32_t v;
		struct ich_error *err = ich_as_read_u32(as, a, &v);
		if (want >= 4) {
			assert_null(err);
			assert_int_equal(v, (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		} else if (len >= 4) {
			assert_non_null(err);
			ich_error_destroy(err);
		} else {
			ich_error_destroy(err);
		}
		const uint8_t *p = ich_as_peek(as, a, len);
		if (p) {
			assert_int_equal(want, len);
			assert_memory_equal(p, b, len);
		}
	}
	ich_as_destroy(as);
	free_fake(d);
}

/* The inline range-table lookup of addrspace.h (issue 12) against naive
 * linear searches: ich_as_table_index on sorted arrays of 1..80 entries
 * (every edge: below the first start, on each start, one before it, past
 * the last), then ich_as_table_get over spaces built from random, unsorted,
 * overlapping ranges (the first listed owns a byte), some touching in VA
 * with or without contiguous file bytes, some cut by the end of the file:
 * a hit must point at exactly the owner's file bytes for all n bytes, and
 * a miss must be a request some byte of which is unowned, past the file,
 * or in a different piece of the file (a read straddling two ranges). */
static size_t naive_index(const uint64_t *s, size_t n, uint64_t a)
{
	size_t i = 0;
	for (size_t k = 0; k < n; k++)
		if (s[k] <= a)
			i = k;
	return i;
}

/* file offset of byte a (first listed range owns it), or -1 unowned, -2
 * owned but past the end of the file */
static int64_t naive_owner(const struct ich_va_range *r, size_t n, uint64_t a, uint64_t fsize)
{
	int i = owner_of(r, n, a, fsize);
	return i < 0 ? i : (int64_t)(r[i].file_off + (a - r[i].start));
}

static void test_range_as_table(void **state)
{
	(void)state;
	srand(23);
	uint64_t st[80];
	for (size_t n = 1; n <= 80; n++) {
		uint64_t at = (uint64_t)(rand() % 16);
		for (size_t i = 0; i < n; i++) {
			at += (uint64_t)(rand() % 40 + 1);
			st[i] = at;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t probes[] = { st[i], st[i] - 1, st[i] + 1 };
			for (int k = 0; k < 3; k++)
				assert_int_equal(ich_as_table_index(st, n, probes[k]),
						 naive_index(st, n, probes[k]));
		}
		assert_int_equal(ich_as_table_index(st, n, 0), 0);
		assert_int_equal(ich_as_table_index(st, n, UINT64_MAX), n - 1);
		for (int k = 0; k < 200; k++) {
			uint64_t a = (uint64_t)(rand() % (int)(at + 50));
			assert_int_equal(ich_as_table_index(st, n, a), naive_index(st, n, a));
		}
	}

	const uint64_t fsize = 0x4000;
	struct ich_dump *d = fake_dump(fsize);
	struct ich_as *as;
	uint8_t b[32];
	/* no ranges: an empty table, every read misses */
	assert_null(ich_range_as_create(d, 8, "t", NULL, 0, &as));
	assert_null(ich_as_table_get(as, 0, 1));
	assert_null(ich_as_peek(as, 0x1000, 8));
	struct ich_read_result res;
	assert_int_equal(ich_as_read(as, 0x1000, b, 8, &res), 0);
	assert_int_equal(res.why, ICH_MISS_NOT_CAPTURED);
	ich_as_destroy(as);
	/* one range: its edges */
	struct ich_va_range one = { 0x7000, 0x100, 0x200 };
	assert_null(ich_range_as_create(d, 8, "t", &one, 1, &as));
	assert_ptr_equal(ich_as_table_get(as, 0x7000, 8), d->file.data + 0x200);
	assert_ptr_equal(ich_as_table_get(as, 0x70f8, 8), d->file.data + 0x2f8);
	assert_ptr_equal(ich_as_table_get(as, 0x70ff, 1), d->file.data + 0x2ff);
	assert_null(ich_as_table_get(as, 0x70f9, 8));
	assert_null(ich_as_table_get(as, 0x7100, 1));
	assert_null(ich_as_table_get(as, 0x6fff, 1));
	assert_null(ich_as_table_get(as, 0x6ff8, 16));
	ich_as_destroy(as);
	/* two ranges touching in VA, not in the file: a straddling read is
	 * not one piece of the file, so the inline path declines it and the
	 * out-of-line read copies both parts */
	struct ich_va_range two[] = { { 0x8000, 0x10, 0x100 }, { 0x8010, 0x10, 0x300 } };
	assert_null(ich_range_as_create(d, 8, "t", two, 2, &as));
	assert_null(ich_as_table_get(as, 0x800c, 8));
	assert_int_equal(ich_as_read(as, 0x800c, b, 8, &res), 8);
	assert_int_equal(b[3], 0x0f);
	assert_int_equal(b[4], 0x00);		/* file 0x300 */
	uint64_t v64;
	assert_null(ich_as_read_u64(as, 0x800c, &v64));
	assert_int_equal(v64, 0x030201000f0e0d0cull);
	ich_as_destroy(as);

	enum { N = 60 };
	struct ich_va_range r[N];
	for (int round = 0; round < 20; round++) {
		size_t n = (size_t)(rand() % N) + 1;
		for (size_t i = 0; i < n; i++) {
			r[i].start = 0x10000 + (uint64_t)(rand() % 0x800);
			r[i].size = (uint64_t)(rand() % 0x60 + 1);
			r[i].file_off = (uint64_t)(rand() % (int)fsize);
			if (i && rand() % 3 == 0) {
				/* touching the one before, in VA (and half the
				 * time in the file: merged into one segment) */
				r[i].start = r[i - 1].start + r[i - 1].size;
				if (rand() % 2)
					r[i].file_off = r[i - 1].file_off + r[i - 1].size;
			}
		}
		assert_null(ich_range_as_create(d, 8, "t", r, n, &as));
		for (int k = 0; k < 4000; k++) {
			uint64_t a = 0x10000 - 8 + (uint64_t)(rand() % 0x880);
			size_t len = (size_t)(rand() % 24 + 1);
			int64_t f0 = naive_owner(r, n, a, fsize);
			bool whole = f0 >= 0;
			for (size_t j = 1; whole && j < len; j++)
				whole = naive_owner(r, n, a + j, fsize) == f0 + (int64_t)j;
			const uint8_t *p = ich_as_table_get(as, a, len);
			if (whole)
				assert_ptr_equal(p, d->file.data + f0);
			else
				assert_null(p);
			/* the whole inline path (window, then table) agrees
			 * with the copying read */
			size_t got = ich_as_read(as, a, b, len, NULL);
			p = ich_as_peek(as, a, len);
			if (whole) {
				assert_int_equal(got, len);
				assert_ptr_equal(p, d->file.data + f0);
			} else {
				assert_null(p);
			}
		}
		ich_as_destroy(as);
	}
	free_fake(d);
}

/* The range table's directory (addrspace.h, range_as.c build_dir, issue
 * 12) against the naive references above, on spaces whose ranges sit in
 * clusters anywhere in the 64-bit VA (so buckets of 1 byte up to 2^52
 * and more): packed clusters of tiny ranges (buckets where more than two
 * segments start: crowded, binary search), sparse ones, ranges at 0 and
 * running into 2^64, listed sorted or shuffled.  Probes: every segment's
 * edges, every bucket's first byte and the one before it, random
 * addresses near the ranges and anywhere, 0 and the top of the VA.  The
 * inline lookup must find every request that one segment holds in the
 * file (a hit: the owner's bytes) and nothing else; inside the directory
 * ich_as_dir_index is the naive lower bound.  Then the window: a copying
 * read leaves it, ich_as_peek moves it to the segment it found. */
static uint64_t rand64(void)
{
	uint64_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 16 | (uint64_t)(rand() & 0xffff);
	return v;
}

/* File bytes of segment x (its span) inside bucket B (addresses B <<
 * dir_shift on), by brute force (bytes counted through their last one:
 * nothing wraps at 2^64). */
static uint64_t naive_overlap(const struct ich_as_window *w, uint64_t B, size_t x)
{
	uint64_t first = B << w->dir_shift;
	uint64_t last = first + (((uint64_t)1 << w->dir_shift) - 1);
	if (last < first)
		last = UINT64_MAX;
	uint64_t s = w->tab_start[x], len = w->tab_span[x].len;
	if (!len || s > last || s + (len - 1) < first)
		return 0;
	uint64_t a = s > first ? s : first, e = s + (len - 1) < last ? s + (len - 1) : last;
	return e - a + 1;
}

/* Whether some segment has file bytes in bucket B. */
static bool naive_covered(const struct ich_as_window *w, uint64_t B)
{
	for (size_t x = 0; x < w->tab_n; x++)
		if (naive_overlap(w, B, x))
			return true;
	return false;
}

/* Bucket B's record (struct ich_as_dir_rec, in its slot) is one segment's
 * span exactly, lim8 its length - 7 or 0, and the segment is one with the
 * most file bytes in the bucket over all segments (segment want, the
 * bucket's index, when no segment has any). */
static void rec_check(const struct ich_as_window *w, uint64_t B, size_t want)
{
	const struct ich_as_dir_rec *rc = &w->dir_rec[B & (ICH_AS_DIR_SLOTS - 1)];
	uint64_t most = 0;
	size_t best = want;
	for (size_t x = 0; x < w->tab_n; x++) {
		uint64_t in = naive_overlap(w, B, x);
		if (in > most) {
			most = in;
			best = x;
		}
	}
	size_t x = naive_index(w->tab_start, w->tab_n, rc->start);
	assert_int_equal(rc->start, w->tab_start[x]);
	assert_int_equal(rc->len, w->tab_span[x].len);
	assert_ptr_equal(rc->data, w->tab_span[x].data);
	assert_int_equal(rc->lim8, rc->len >= 8 ? rc->len - 7 : 0);
	if (most)
		assert_int_equal(naive_overlap(w, B, x), most);
	else
		assert_int_equal(x, best);
}

/* The slot's record alone (ich_as_rec_find_), for one request: NULL or
 * exactly the owner's bytes (f0: naive_owner of a, whole: all len bytes
 * are one piece of the file), and a hit whenever the record's segment
 * holds all len bytes: for the constant 8 of the typed reads (one
 * compare, lim8) and for a length known only at run time (two compares).
 * Returns 1 when the record answered. */
static int rec_probe(const struct ich_as_window *w, const uint8_t *file, uint64_t a, size_t len,
		     int64_t f0, bool whole)
{
	const struct ich_as_dir_rec *rc = &w->dir_rec[ich_as_dir_slot(w, a)];
	uint64_t o = a - rc->start;
	const uint8_t *p = ich_as_rec_find_(w, a, len, NULL);
	if (p) {
		assert_true(whole);
		assert_ptr_equal(p, file + f0);
	} else {
		assert_false(o < rc->len && len <= rc->len - o);
	}
	const uint8_t *p8 = ich_as_rec_find_(w, a, 8, NULL);
	bool in8 = o < rc->len && rc->len - o >= 8;
	if (in8)
		assert_ptr_equal(p8, rc->data + o);
	else
		assert_null(p8);
	return p != NULL;
}

/* range_as.c build_dir: at least this many buckets when the span allows,
 * and never more than the slots */
#define DIR_FLOOR 16384u
static uint64_t dir_cap(size_t n)
{
	uint64_t cap = 4 * (uint64_t)n > DIR_FLOOR ? 4 * (uint64_t)n : DIR_FLOOR;
	return cap < ICH_AS_DIR_SLOTS ? cap : ICH_AS_DIR_SLOTS;
}

/* The directory's shape: the buckets from the first segment's to the
 * last byte's within dir_cap, the smallest shift of at least
 * ICH_AS_DIR_REC_LOG2 that allows, dir_pk the records' address and that
 * shift minus ICH_AS_DIR_REC_LOG2; each bucket where a segment has file bytes the
 * naive lower bound of its first byte, crowded exactly when more than
 * two segments start inside it, and its record (rec_check); every other
 * bucket's slot never written (zero: a record that declines every read).
 * Returns whether some bucket is crowded; *lo gets the first segment's
 * bucket, *nb the buckets from it to the last byte's. */
static bool dir_check(const struct ich_as_window *w, uint64_t last_byte, uint64_t *lo, uint64_t *nb)
{
	uint64_t cap = dir_cap(w->tab_n), s0 = w->tab_start[0];
	unsigned k = ICH_AS_DIR_REC_LOG2;
	while ((last_byte >> k) - (s0 >> k) >= cap)
		k++;
	assert_int_equal(w->dir_shift, k);
	assert_int_equal(w->dir_pk, (uint64_t)(uintptr_t)w->dir_rec | (k - ICH_AS_DIR_REC_LOG2));
	*lo = s0 >> k;
	*nb = (last_byte >> k) - *lo + 1;	/* <= cap: k's loop */
	bool crowded = false;
	for (uint64_t B = *lo; B - *lo < *nb; B++) {
		size_t sl = (size_t)(B & (ICH_AS_DIR_SLOTS - 1));
		if (!naive_covered(w, B)) {
			const struct ich_as_dir_rec *rc = &w->dir_rec[sl];
			assert_int_equal(w->dir[sl], 0);
			assert_int_equal(rc->start | rc->lim8 | rc->len, 0);
			assert_null(rc->data);
			continue;
		}
		uint64_t first = B << w->dir_shift;
		size_t want = naive_index(w->tab_start, w->tab_n, first), c = 0;
		for (size_t x = want + 1; x < w->tab_n && w->tab_start[x] - first < (uint64_t)1 << w->dir_shift; x++)
			c++;
		assert_int_equal(w->dir[sl] & ~ICH_AS_DIR_CROWDED, want);
		assert_int_equal((w->dir[sl] & ICH_AS_DIR_CROWDED) != 0, c > 2);
		crowded |= c > 2;
		rec_check(w, B, want);
	}
	return crowded;
}

static void test_range_as_dir(void **state)
{
	(void)state;
	const uint64_t fsize = 0x4000;
	struct ich_dump *d = fake_dump(fsize);
	enum { N = 160 };
	struct ich_va_range r[N];
	srand(31);
	int crowded_rounds = 0, wide_rounds = 0, fine_rounds = 0, win_stays = 0, win_moves = 0;
	long rec_hits = 0;
	for (int round = 0; round < 40; round++) {
		size_t n = 0;
		int nclusters = rand() % 5 + 1;
		for (int c = 0; c < nclusters && n < N; c++) {
			uint64_t base;
			switch (rand() % 5) {
			case 0: base = 0; break;
			case 1: base = UINT64_MAX - (uint64_t)(rand() % 0x3000); break;
			case 2: base = rand64() >> (rand() % 40); break;
			default: base = rand64(); break;
			}
			bool packed = rand() % 2;
			size_t m = (size_t)(rand() % 60) + 1;
			uint64_t at = base;
			for (size_t k = 0; k < m && n < N; k++) {
				uint64_t gap = packed ? (uint64_t)(rand() % 0x20)
						      : (uint64_t)rand() << (rand() % 24);
				if (at + gap < at)
					break;
				at += gap;
				struct ich_va_range *x = &r[n++];
				x->start = at;
				x->size = (uint64_t)(rand() % 0x40) + 1;
				x->file_off = (uint64_t)(rand() % (int)(fsize + 0x20));
				if (k && rand() % 4 == 0)	/* continues the one before in the file */
					x->file_off = r[n - 2].file_off + r[n - 2].size;
				if (at + x->size < at)
					break;
				at += x->size;
			}
		}
		if (rand() % 3 == 0)
			for (size_t i = n - 1; i > 0; i--) {
				size_t j = (size_t)rand() % (i + 1);
				struct ich_va_range t = r[i];
				r[i] = r[j];
				r[j] = t;
			}
		struct ich_as *as;
		assert_null(ich_range_as_create(d, 8, "t", r, n, &as));
		const struct ich_as_window *w = (const void *)as;
		assert_true(w->tab_n > 0);
		assert_non_null(w->dir_rec);
		assert_int_equal(w->tab_start[w->tab_n], UINT64_MAX);
		assert_int_equal(w->tab_span[w->tab_n + 1].len, 0);
		uint64_t last_byte = 0;	/* of the ranges, as range_end clamps them */
		for (size_t i = 0; i < n; i++) {
			uint64_t e = r[i].start + r[i].size < r[i].start ? UINT64_MAX : r[i].start + r[i].size;
			last_byte = e - 1 > last_byte ? e - 1 : last_byte;
		}
		uint64_t lo, nb;	/* the ranges' buckets */
		bool crowded = dir_check(w, last_byte, &lo, &nb);
		crowded_rounds += crowded;
		wide_rounds += w->dir_shift >= 40;
		fine_rounds += w->dir_shift == ICH_AS_DIR_REC_LOG2;
		/* probes */
		uint64_t pr[64];
		for (int k = 0; k < 2500; k++) {
			size_t np = 0;
			const struct ich_va_range *x = &r[(size_t)rand() % n];
			uint64_t j = (uint64_t)rand() % (nb + 1);
			switch (k % 5) {
			case 0:
				pr[np++] = x->start;
				pr[np++] = x->start - 1;
				pr[np++] = x->start + x->size - 1;
				pr[np++] = x->start + x->size;
				pr[np++] = x->start + x->size - 8;
				break;
			case 1:
				pr[np++] = (lo + j) << w->dir_shift;
				pr[np++] = ((lo + j) << w->dir_shift) - 1;
				break;
			case 2:
				pr[np++] = x->start + (uint64_t)(rand() % 0x60) - 0x10;
				break;
			case 3:
				pr[np++] = rand64();
				break;
			default:
				pr[np++] = 0;
				pr[np++] = UINT64_MAX;
				pr[np++] = UINT64_MAX - 7;
				pr[np++] = UINT64_MAX - (uint64_t)(rand() % 0x100);
				break;
			}
			for (size_t q = 0; q < np; q++) {
				uint64_t a = pr[q];
				size_t len = rand() % 3 ? 8 : (size_t)(rand() % 24) + 1;
				int64_t f0 = naive_owner(r, n, a, fsize);
				/* the reader ends a range that runs into 2^64 at
				 * UINT64_MAX (range_end): that byte is no one's */
				bool whole = f0 >= 0 && a + len - 1 >= a && a + len - 1 != UINT64_MAX;
				for (size_t b = 1; whole && b < len; b++)
					whole = naive_owner(r, n, a + b, fsize) == f0 + (int64_t)b;
				const uint8_t *p = ich_as_table_get(as, a, len);
				if (whole)
					assert_ptr_equal(p, d->file.data + f0);
				else
					assert_null(p);
				rec_hits += rec_probe(w, d->file.data, a, len, f0, whole);
				/* the one-compare form (constant n <= 8) declines
				 * a segment's last bytes; the table then answers */
				bool whole8 = len == 8 ? whole : false;
				for (size_t b = 0; len != 8 && f0 >= 0 && b < 8; b++) {
					int64_t fb = naive_owner(r, n, a + b, fsize);
					whole8 = a + 7 >= a && a + 7 != UINT64_MAX && fb == f0 + (int64_t)b;
					if (!whole8)
						break;
				}
				p = ich_as_table_get(as, a, 8);
				if (whole8)
					assert_ptr_equal(p, d->file.data + f0);
				else
					assert_null(p);
				bool whole1 = f0 >= 0 && a != UINT64_MAX;
				p = ich_as_table_get(as, a, 1);
				if (whole1)
					assert_ptr_equal(p, d->file.data + f0);
				else
					assert_null(p);
				/* in a bucket where a segment has file bytes */
				uint64_t bucket = a >> w->dir_shift;
				if (bucket - lo < nb && a != UINT64_MAX &&
				    naive_covered(w, bucket))
					assert_int_equal(ich_as_dir_index(w, ich_as_dir_slot(w, a), a),
							 naive_index(w->tab_start, w->tab_n, a));
			}
		}
		/* the window (addrspace.h ich_as_table_get): a copying read
		 * or an ich_as_peek that its bucket's record answers leaves
		 * it where it is, one that only the table answers moves it to
		 * its segment, ich_as_peek_window moves it on every hit.  What
		 * they return is the owner's bytes whatever the window does,
		 * and a pointer ich_as_peek gave stays right after the window
		 * has moved (lifetime: until the dump is closed). */
		uint64_t wr = 0x9E3779B97F4A7C15ull * (uint64_t)(round + 1);	/* own generator:
					  the layouts' rand() sequence stays as it was */
		for (size_t i = 0; i + 1 < w->tab_n && i < 64; i++) {
			uint64_t s0 = w->tab_start[i], l0 = w->tab_span[i].len;
			if (l0 < 8)
				continue;
			for (int t = 0; t < 6; t++) {
				wr ^= wr << 13;
				wr ^= wr >> 7;
				wr ^= wr << 17;
				size_t j = (size_t)(wr % w->tab_n);
				uint64_t sj = w->tab_start[j], lj = w->tab_span[j].len;
				if (j == i || lj < 8)
					continue;
				uint64_t a = sj + (wr >> 32) % (lj - 7);
				const uint8_t *want = w->tab_span[j].data + (a - sj);
				bool by_rec = ich_as_rec_find_(w, a, 8, NULL) != NULL;
				const uint8_t *p0 = ich_as_peek_window(as, s0, 8);
				assert_ptr_equal(p0, w->tab_span[i].data);
				assert_int_equal(w->base, s0);
				assert_int_equal(w->len, l0);
				uint64_t v = 0;
				uint8_t b8[8];
				switch (t % 3) {
				case 0:
					assert_ptr_equal(ich_as_peek(as, a, 8), want);
					break;
				case 1:
					assert_null(ich_as_read_u64(as, a, &v));
					assert_memory_equal(&v, want, 8);
					break;
				default:
					assert_int_equal(ich_as_read(as, a, b8, 8, NULL), 8);
					assert_memory_equal(b8, want, 8);
					break;
				}
				if (by_rec) {
					assert_int_equal(w->base, s0);
					assert_int_equal(w->len, l0);
					win_stays++;
				} else {
					assert_int_equal(w->base, sj);
					assert_int_equal(w->len, lj);
					assert_ptr_equal(w->data, w->tab_span[j].data);
					assert_int_equal(w->lim8, lj - 7);
					assert_ptr_equal(ich_as_window_get(as, a, 8), want);
					win_moves++;
				}
				/* ich_as_peek_window: moved on the record's hit too */
				assert_ptr_equal(ich_as_peek_window(as, a, 8), want);
				assert_int_equal(w->base, sj);
				assert_int_equal(w->len, lj);
				/* ich_as_peek_stream (a range space has no stream op):
				 * the same pointer and the same window, whatever the
				 * end it is given */
				assert_ptr_equal(ich_as_peek_stream(as, s0, 8, s0 + 0x100000), p0);
				assert_ptr_equal(ich_as_peek_stream(as, a, 8, a + 8), want);
				assert_int_equal(w->base, sj);
				assert_int_equal(w->len, lj);
				assert_ptr_equal(p0, w->tab_span[i].data);
				assert_memory_equal(p0, d->file.data + (w->tab_span[i].data - d->file.data), 8);
			}
		}
		/* the window's one-compare test (constant 8: o < lim8) is
		 * the exact bound: every 8-byte read (and 4, 1) around the
		 * ends of the segment a peek put it on, against the span */
		for (size_t i = 0; i < w->tab_n && i < 8; i++) {
			uint64_t s0 = w->tab_start[i], l = w->tab_span[i].len;
			if (!l || !ich_as_peek_window(as, s0, 1))
				continue;
			assert_int_equal(w->base, s0);
			assert_int_equal(w->lim8, l >= 8 ? l - 7 : 0);
			for (uint64_t o = 0; o < 24; o++) {
				uint64_t offs[] = { o, l - 12 + o, s0 - 12 + o };
				for (int q = 0; q < 3; q++) {
					uint64_t a = q == 2 ? offs[q] : s0 + offs[q], ao = a - s0;
					const uint8_t *p = ich_as_window_get(as, a, 8);
					if (ao < l && l - ao >= 8)
						assert_ptr_equal(p, w->tab_span[i].data + ao);
					else
						assert_null(p);
					/* (and the two-compare test of other
					 * lengths: exact too, nt_heap.c reads
					 * the window itself) */
					p = ich_as_window_get(as, a, 4);
					if (ao < l && l - ao >= 4)
						assert_ptr_equal(p, w->tab_span[i].data + ao);
					else
						assert_null(p);
					p = ich_as_window_get(as, a, 1);
					if (ao < l)
						assert_ptr_equal(p, w->tab_span[i].data + ao);
					else
						assert_null(p);
				}
			}
		}
		ich_as_destroy(as);
	}
	/* 5,000 segments: the 4 x segments cap, not the DIR_FLOOR floor */
	{
		enum { M = 5000 };
		struct ich_va_range *big = malloc(M * sizeof(*big));
		uint64_t at = 0x7ff000000000;
		for (size_t i = 0; i < M; i++) {
			at += (uint64_t)(rand() % 0x30) + (i % 97 == 0 ? 0x100000 : 1);
			big[i] = (struct ich_va_range){ at, (uint64_t)(rand() % 0x20) + 1,
							(uint64_t)(rand() % (int)fsize) };
			at += big[i].size;
		}
		struct ich_as *as;
		assert_null(ich_range_as_create(d, 8, "t", big, M, &as));
		const struct ich_as_window *w = (const void *)as;
		assert_true(w->tab_n > DIR_FLOOR / 4);
		uint64_t lo, nb;
		dir_check(w, at - 1, &lo, &nb);
		for (int k = 0; k < 20000; k++) {
			const struct ich_va_range *x = &big[(size_t)rand() % M];
			uint64_t a = x->start + (uint64_t)(rand() % (int)x->size);
			if (naive_owner(big, M, a, fsize) >= 0)
				assert_ptr_equal(ich_as_table_get(as, a, 1),
						 d->file.data + naive_owner(big, M, a, fsize));
		}
		ich_as_destroy(as);
		free(big);
	}
	/* the rounds covered what they are for */
	assert_true(rec_hits >= 5000);
	assert_true(crowded_rounds >= 5);
	assert_true(wide_rounds >= 5);
	assert_true(fine_rounds >= 1);
	assert_true(win_stays >= 1000);
	assert_true(win_moves >= 1000);
	free_fake(d);
}

/* The inline lookup of a space with a directory (addrspace.h ich_as_get_,
 * issue 12) on mid.dmp's layout: a 110 MiB range (here 16 KiB of it in
 * the file), a 4 KiB range 256 MiB after its start, two pages far below
 * (one segment) and a third page after them, contiguous in VA but not in
 * the file.
 * - With DIR_FLOOR buckets every range is the record of the buckets its
 *   bytes are in, the 4 KiB one too (with 4,096 buckets it shared the big
 *   one's): an 8-byte read anywhere in a range is a record hit.
 * - The order: the bucket's record, then the window, then the index and
 *   the table (a hit of the table moves the window there).  Seen through
 *   a window set on purpose over bytes that are not the range's (no
 *   reader does that): a read the record answers gives the record's
 *   bytes, one the record declines the window's.  ich_as_peek_window
 *   asks the window first (the walkers' streams).
 * - What goes out of line with a constant length (ich_as_read of 8, the
 *   typed reads) goes through a copy of the caller's bytes: those not
 *   read stay as they were, *out too when the read fails. */
/* More segments than DIR_FLOOR / 4: the buckets are at most the
 * directory's slots (4 x segments would be more), so no two of the
 * ranges' buckets share a slot.  20,000 ranges of 16 bytes, 232 apart:
 * 72,500 buckets of 64 bytes would be within 4 x 20,000; 65,536 slots
 * allow 128-byte buckets, each range alone in its bucket, the record of
 * its slot: every range's bytes are a record hit. */
static void test_range_as_dir_slots(void **state)
{
	(void)state;
	enum { N = 20000 };
	const uint64_t fsize = 16 * N, base = 0x7ff600000000ull;
	struct ich_dump *d = fake_dump(fsize);
	struct ich_va_range *r = malloc(N * sizeof(*r));
	assert_non_null(r);
	for (size_t i = 0; i < N; i++)
		r[i] = (struct ich_va_range){ base + 232 * i, 16, 16 * (uint64_t)(N - 1 - i) };
	struct ich_as *as;
	assert_null(ich_range_as_create(d, 8, "t", r, N, &as));
	const struct ich_as_window *w = (const void *)as;
	assert_int_equal(w->tab_n, N);
	assert_int_equal(w->dir_shift, 7);
	/* (so the ranges' buckets are at most the slots) */
	assert_true(((r[N - 1].start + 15) >> 7) - (r[0].start >> 7) < ICH_AS_DIR_SLOTS);
	for (size_t i = 0; i < N; i++) {
		const uint8_t *want = d->file.data + r[i].file_off;
		assert_ptr_equal(ich_as_rec_find_(w, r[i].start, 8, NULL), want);
		assert_ptr_equal(ich_as_rec_find_(w, r[i].start + 8, 8, NULL), want + 8);
		assert_null(ich_as_rec_find_(w, r[i].start + 9, 8, NULL));
		assert_null(ich_as_table_get(as, r[i].start + 16, 1));
		assert_ptr_equal(ich_as_peek(as, r[i].start + 3, 8), want + 3);
	}
	ich_as_destroy(as);
	free(r);
	free_fake(d);
}

static void test_range_as_lookup_order(void **state)
{
	(void)state;
	const uint64_t fsize = 0x8000;
	struct ich_dump *d = fake_dump(fsize);
	const uint8_t *f = d->file.data;
	const struct ich_va_range r[] = {
		{ 0xb2c1a3f000, 0x1000, 0x0 },     { 0xb2c1a40000, 0x1000, 0x1000 },
		{ 0xb2c1a41000, 0x1000, 0x3000 },  { 0x1c3a0000000, 0x6df0000, 0x4000 },
		{ 0x1c3b0000000, 0x1000, 0x2000 },
	};
	const uint64_t big = r[3].start, small = r[4].start;
	struct ich_as *as;
	assert_null(ich_range_as_create(d, 8, "t", r, 5, &as));
	const struct ich_as_window *w = (const void *)as;
	assert_int_equal(w->tab_n, 4);	/* the first two pages are one segment */
	assert_int_equal(w->dir_shift, 27);	/* 128 MiB buckets (512 MiB with 4,096) */
	long hits = 0;
	for (size_t i = 0; i < 5; i++) {
		if (i == 2)	/* (not mid.dmp's: shares the bucket of the two
				 * pages before it, their segment is its record) */
			continue;
		uint64_t inf = r[i].size < fsize - r[i].file_off ? r[i].size : fsize - r[i].file_off;
		for (uint64_t o = 0; o + 8 <= inf; o += 8) {
			uint64_t a = r[i].start + o;
			assert_true((a >> w->dir_shift) - (w->tab_start[0] >> w->dir_shift) < ICH_AS_DIR_SLOTS);
			assert_ptr_equal(ich_as_rec_find_(w, a, 8, NULL), f + r[i].file_off + o);
			hits++;
		}
	}
	assert_int_equal(hits, (0x2000 + 0x4000 + 0x1000) / 8);
	/* The directory's tables are mapped, and only the slots of buckets
	 * where a segment has bytes are written: here five buckets' slots,
	 * a few of the 512 + 64 pages (all of them were written before, 576
	 * KiB and ~100 page faults an open, issue 12). */
	{
		size_t pg = (size_t)sysconf(_SC_PAGESIZE), resident = 0;
		const size_t lens[2] = { ICH_AS_DIR_SLOTS * sizeof(struct ich_as_dir_rec),
					 ICH_AS_DIR_SLOTS * sizeof(uint32_t) };
		const void *maps[2] = { w->dir_rec, w->dir };
		for (int m = 0; m < 2; m++) {
			size_t np = lens[m] / pg;
			unsigned char *vec = malloc(np);
			assert_non_null(vec);
			assert_int_equal((uintptr_t)maps[m] % pg, 0);
			assert_int_equal(mincore((void *)(uintptr_t)maps[m], lens[m], vec), 0);
			for (size_t i = 0; i < np; i++)
				resident += vec[i] & 1;
			free(vec);
		}
		assert_true(resident >= 2);
		assert_true(resident <= 8);
	}

	/* record first: the window claims the big range's first 0x100 bytes
	 * lie at the file's last 0x100 */
	uint64_t v = 0;
	uint8_t b8[8];
	ich_as_set_window(as, big, 0x100, f + fsize - 0x100);
	assert_ptr_equal(ich_as_peek(as, big + 0x10, 8), f + 0x4010);
	assert_null(ich_as_read_u64(as, big + 0x10, &v));
	assert_memory_equal(&v, f + 0x4010, 8);
	assert_int_equal(ich_as_read(as, big + 0x10, b8, 8, NULL), 8);
	assert_memory_equal(b8, f + 0x4010, 8);
	assert_int_equal(w->base, big);	/* the record's hits left it */
	assert_ptr_equal(w->data, f + fsize - 0x100);
	assert_ptr_equal(ich_as_peek_window(as, big + 0x10, 8), f + fsize - 0x100 + 0x10);
	/* then the window: a 4-byte read in the 4 KiB range's last 7 bytes,
	 * which the record's one compare declines (lim8) and the table
	 * would answer */
	uint32_t u = 0;
	ich_as_set_window(as, small, 0x1000, f + 0x6000);
	assert_null(ich_as_read_u32(as, small + 0xffc, &u));
	assert_memory_equal(&u, f + 0x6ffc, 4);
	assert_ptr_equal(ich_as_peek(as, small + 0xffa, 4), f + 0x6ffa);
	/* then the table, which moves the window to the segment */
	ich_as_set_window(as, big, 0x100, f + 0x4000);
	assert_null(ich_as_read_u32(as, small + 0xffc, &u));
	assert_memory_equal(&u, f + 0x2ffc, 4);
	assert_int_equal(w->base, small);
	assert_int_equal(w->len, 0x1000);
	assert_ptr_equal(w->data, f + 0x2000);

	/* out of line through a copy: across the third page's start (two
	 * segments: read whole, by range_read) */
	const uint64_t seam = r[2].start - 4;
	uint8_t want[8];
	memcpy(want, f + 0x1ffc, 4);
	memcpy(want + 4, f + 0x3000, 4);
	assert_int_equal(ich_as_read(as, seam, b8, 8, NULL), 8);
	assert_memory_equal(b8, want, 8);
	v = 0;
	assert_null(ich_as_read_u64(as, seam, &v));
	assert_memory_equal(&v, want, 8);
	/* past the 4 KiB range's end: 4 bytes read, the caller's other 4
	 * kept; a typed read that fails keeps *out */
	struct ich_read_result res;
	memset(b8, 0xA5, sizeof(b8));
	assert_int_equal(ich_as_read(as, small + 0xffc, b8, 8, &res), 4);
	assert_int_equal(res.nread, 4);
	assert_int_equal(res.why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(res.miss_addr, small + 0x1000);
	assert_memory_equal(b8, f + 0x2ffc, 4);
	for (int k = 4; k < 8; k++)
		assert_int_equal(b8[k], 0xA5);
	v = 0xA5A5A5A5A5A5A5A5ull;
	struct ich_error *e = ich_as_read_u64(as, small + 0xffc, &v);
	assert_non_null(e);
	ich_error_destroy(e);
	assert_int_equal(v, 0xA5A5A5A5A5A5A5A5ull);
	u = 0x5A5A5A5A;
	e = ich_as_read_u32(as, small + 0xffe, &u);
	assert_non_null(e);
	ich_error_destroy(e);
	assert_int_equal(u, 0x5A5A5A5A);
	uint16_t h = 0x1234;
	e = ich_as_read_u16(as, small + 0x1000, &h);
	assert_non_null(e);
	ich_error_destroy(e);
	assert_int_equal(h, 0x1234);
	uint8_t c = 0x77;
	e = ich_as_read_u8(as, small - 1, &c);
	assert_non_null(e);
	ich_error_destroy(e);
	assert_int_equal(c, 0x77);
	ich_as_destroy(as);
	free_fake(d);
}

/* Ranges listed sorted and disjoint take the one-pass build (no sweep):
 * the same segments as the sweep builds from the same ranges listed in
 * another order (disjoint, so the order owns nothing), joined where they
 * continue each other in VA and file. */
static void test_range_as_sorted(void **state)
{
	(void)state;
	const uint64_t fsize = 0x8000;
	struct ich_dump *d = fake_dump(fsize);
	enum { N = 300 };
	struct ich_va_range r[N], shuf[N];
	srand(29);
	for (int round = 0; round < 10; round++) {
		uint64_t at = 0x20000;
		for (int i = 0; i < N; i++) {
			int kind = rand() % 4;
			if (i && kind == 0) {		/* continues the last one in VA and file */
				r[i].start = at;
				r[i].file_off = r[i - 1].file_off + r[i - 1].size;
			} else {			/* touching in VA only, or after a gap */
				r[i].start = at + (kind == 1 ? 0 : (uint64_t)(rand() % 64));
				r[i].file_off = (uint64_t)(rand() % 0x7000);
			}
			r[i].size = (uint64_t)(rand() % 80);	/* some empty */
			at = r[i].start + r[i].size;
		}
		/* the last range runs past the end of the file */
		r[N - 1].file_off = fsize - 8;
		r[N - 1].size = 32;
		at = r[N - 1].start + 32;
		memcpy(shuf, r, sizeof(r));
		for (int i = N - 1; i > 0; i--) {
			int j = rand() % (i + 1);
			struct ich_va_range t = shuf[i];
			shuf[i] = shuf[j];
			shuf[j] = t;
		}
		struct ich_as *a, *b;
		assert_null(ich_range_as_create(d, 8, "t", r, N, &a));
		assert_null(ich_range_as_create(d, 8, "t", shuf, N, &b));
		const struct ich_as_window *wa = (const void *)a, *wb = (const void *)b;
		assert_int_equal(wa->tab_n, wb->tab_n);
		assert_true(wa->tab_n < N);		/* some were joined */
		for (size_t i = 0; i < wa->tab_n; i++) {
			assert_int_equal(wa->tab_start[i], wb->tab_start[i]);
			assert_int_equal(wa->tab_span[i].len, wb->tab_span[i].len);
			assert_ptr_equal(wa->tab_span[i].data, wb->tab_span[i].data);
		}
		for (int k = 0; k < 3000; k++) {
			uint64_t x = 0x20000 - 8 + (uint64_t)(rand() % (int)(at - 0x20000 + 16));
			size_t len = (size_t)(rand() % 40 + 1);
			uint8_t ba[40], bb[40];
			struct ich_read_result ra, rb;
			size_t na = ich_as_read(a, x, ba, len, &ra), nb = ich_as_read(b, x, bb, len, &rb);
			assert_int_equal(na, nb);
			assert_memory_equal(ba, bb, na);
			assert_int_equal(ra.why, rb.why);
			assert_int_equal(ra.miss_addr, rb.miss_addr);
		}
		ich_as_destroy(a);
		ich_as_destroy(b);
		/* then ranges listed after them that they cover (as the
		 * minidump reader appends thread stacks), inside one range or
		 * over two touching ones; in odd rounds the last one sticks
		 * out into a hole (the sweep then builds it): every byte read
		 * as the first listed range that holds it says */
		struct ich_va_range x[N + 20];
		memcpy(x, r, sizeof(r));
		size_t nx = N;
		while (nx < N + 20) {
			const struct ich_va_range *o = &r[rand() % (N - 1)];
			if (o->size < 2)
				continue;
			uint64_t off = (uint64_t)(rand() % (int)o->size);
			uint64_t len = (uint64_t)(rand() % (int)(o->size - off)) + 1;
			if (nx == N + 19 && round % 2)
				len = o->size - off + 100;	/* past the range */
			x[nx++] = (struct ich_va_range){ o->start + off, len, (uint64_t)(rand() % 0x7000) };
		}
		assert_null(ich_range_as_create(d, 8, "t", x, nx, &a));
		for (int k = 0; k < 3000; k++) {
			uint64_t va = 0x20000 - 8 + (uint64_t)(rand() % (int)(at - 0x20000 + 16));
			uint8_t byte;
			size_t got = ich_as_read(a, va, &byte, 1, NULL);
			int64_t f = naive_owner(x, nx, va, fsize);
			if (f >= 0) {
				assert_int_equal(got, 1);
				assert_int_equal(byte, (uint8_t)f);
			} else {
				assert_int_equal(got, 0);
			}
		}
		ich_as_destroy(a);
	}
	free_fake(d);
}

/* List walks over a memory image built in the fake file. */
static struct ich_error *count_cb(uint64_t e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return NULL;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_list_walk(void **state)
{
	(void)state;
	struct ich_dump *d = fake_dump(0x1000);
	uint8_t *m = (uint8_t *)d->file.data;
	memset(m, 0, 0x1000);
	/* VA 0x10000 maps file 0.  Head at 0x10000, nodes at 0x10100,0x10200,0x10300. */
	uint64_t head = 0x10000, n1 = 0x10100, n2 = 0x10200, n3 = 0x10300;
	put64(m + 0x000, n1); put64(m + 0x008, n3);
	put64(m + 0x100, n2); put64(m + 0x108, head);
	put64(m + 0x200, n3); put64(m + 0x208, n1);
	put64(m + 0x300, head); put64(m + 0x308, n2);
	struct ich_va_range r = { 0x10000, 0x1000, 0 };
	struct ich_as *as;
	assert_null(ich_range_as_create(d, 8, "t", &r, 1, &as));
	int c = 0;
	size_t cnt;
	assert_null(ich_as_list_walk(as, head, 100, true, count_cb, &c, &cnt));
	assert_int_equal(c, 3);
	assert_int_equal(cnt, 3);
	/* bound too small */
	c = 0;
	struct ich_error *err = ich_as_list_walk(as, head, 2, true, count_cb, &c, &cnt);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_FORMAT);
	ich_error_destroy(err);
	/* broken Blink on n2 */
	put64(m + 0x208, n3);
	err = ich_as_list_walk(as, head, 100, true, count_cb, &c, &cnt);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "Blink"));
	ich_error_destroy(err);
	/* a cycle that excludes the head: n3 -> n1; without Blink checks the
	 * walk must still end with a cycle error long before the bound */
	put64(m + 0x300, n1);
	c = 0;
	err = ich_as_list_walk(as, head, 1000000, false, count_cb, &c, &cnt);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "cycle"));
	assert_true(c < 20);
	ich_error_destroy(err);
	/* Flink into missing memory */
	put64(m + 0x300, 0x99990000);
	err = ich_as_list_walk(as, head, 100, false, count_cb, &c, &cnt);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_FAULT);
	ich_error_destroy(err);
	ich_as_destroy(as);
	free_fake(d);
}

/* gzip input: small results in memory, large ones through a temp file;
 * both must give back exactly the bytes that were compressed. */
static void check_gzip_roundtrip(size_t size)
{
	char path[] = "/tmp/icpheap-test-gz-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	gzFile g = gzopen(path, "wb1");
	assert_non_null(g);
	uint8_t block[4096];
	for (size_t off = 0; off < size; off += sizeof(block)) {
		for (size_t i = 0; i < sizeof(block); i++)
			block[i] = (uint8_t)((off + i) * 7 >> 3);
		size_t n = size - off < sizeof(block) ? size - off : sizeof(block);
		assert_int_equal(gzwrite(g, block, (unsigned)n), (int)n);
	}
	gzclose(g);
	struct ich_file f;
	assert_null(ich_file_map(path, &f));
	assert_true(f.gzip);
	assert_int_equal(f.size, size);
	for (size_t i = 0; i < size; i += 4093)
		assert_int_equal(f.data[i], (uint8_t)(i * 7 >> 3));
	assert_int_equal(f.data[size - 1], (uint8_t)((size - 1) * 7 >> 3));
	ich_file_unmap(&f);
	unlink(path);
}

static void test_gzip(void **state)
{
	(void)state;
	check_gzip_roundtrip(100000);		/* in memory */
	check_gzip_roundtrip(20u << 20);	/* > 16 MiB: temp file */
	/* corrupt gzip: a clear error naming the file */
	char path[] = "/tmp/icpheap-test-badgz-XXXXXX";
	int fd = mkstemp(path);
	const uint8_t junk[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff};
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	struct ich_file f;
	struct ich_error *err = ich_file_map(path, &f);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_FORMAT);
	assert_non_null(strstr(err->message, path));
	ich_error_destroy(err);
	unlink(path);
	/* a missing file */
	err = ich_file_map("/nonexistent/x.dmp", &f);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_OS);
	ich_error_destroy(err);
}

/* ich_error_catch takes exactly the code asked for; ich_error_ok consumes
 * any error (LeakSanitizer in the sanitizer build checks nothing leaks). */
/* core/size.h: the one size parser (--fail-on heap-committed>SIZE and
 * ICPHEAP_GZIP_MAX); values worked out by hand. */
static void test_parse_size(void **state)
{
	(void)state;
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "65536", 65536 }, { "0x10000", 65536 }, { "0X1f", 31 },
		{ "64K", 65536 }, { "64k", 65536 }, { "64KiB", 65536 }, { "64KB", 65536 },
		{ "1.5M", 1572864 }, { "2G", 2147483648ull }, { "1T", 1099511627776ull },
		{ "1.5T", 1649267441664ull }, { "0x10K", 16384 }, { "100B", 100 },
		{ "0.5K", 512 }, { "18446744073709551615", UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1234;
		assert_true(ich_parse_size(ok[i].s, &v));
		assert_int_equal(v, ok[i].v);
	}
	static const char *const bad[] = {
		"", "K", "1.5", "0x1.5K", "12Q", "-1", "1 K", "18446744073709551616",
		"16777216T", "0x", "1.K", "64KK",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 1234;
		assert_false(ich_parse_size(bad[i], &v));
		assert_int_equal(v, 1234);
	}
	assert_false(ich_parse_size(NULL, NULL));
}

/* core/size.h: the numbers the CLI reads (addresses, counts) and the pid
 * parser builds on; values worked out by hand. */
static void test_parse_number(void **state)
{
	(void)state;
	static const struct { const char *s; bool hex; uint64_t v; } ok[] = {
		{ "0", false, 0 }, { "500", false, 500 }, { "0500", false, 500 }, { "500", true, 0x500 },
		{ "0x1f4", false, 0x1f4 }, { "0X1F4", false, 0x1f4 }, { "1f4", true, 0x1f4 },
		{ "00007ff6`4c1b0000", true, 0x7ff64c1b0000ull }, { "0x7ff6`4c1b0000", false, 0x7ff64c1b0000ull },
		{ "18446744073709551615", false, UINT64_MAX }, { "ffffffffffffffff", true, UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 1234;
		assert_true(ich_parse_number(ok[i].s, ok[i].hex, &v));
		assert_int_equal(v, ok[i].v);
	}
	static const struct { const char *s; bool hex; } bad[] = {
		{ "", false }, { "0x", false }, { "1f4", false }, { "`12", true }, { "12`3", false },
		{ "-1", false }, { "+1", false }, { " 1", false }, { "1 ", false }, { "0x1g", false },
		{ "18446744073709551616", false }, { "10000000000000000", true },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 1234;
		assert_false(ich_parse_number(bad[i].s, bad[i].hex, &v));
		assert_int_equal(v, 1234);
	}
	assert_false(ich_parse_number(NULL, false, NULL));
}

static void test_error_catch(void **state)
{
	(void)state;
	struct ich_error *err = ich_error_create(ICH_ERR_FAULT, "0x1000 not captured");
	assert_false(ich_error_catch(&err, ICH_ERR_NOMEM));
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_FAULT);
	assert_true(ich_error_catch(&err, ICH_ERR_FAULT));
	assert_null(err);
	assert_false(ich_error_catch(&err, ICH_ERR_FAULT));	/* NULL stays NULL */
	struct ich_error *nomem = &ich_enomem;
	assert_false(ich_error_catch(&nomem, ICH_ERR_FAULT));
	assert_ptr_equal(nomem, &ich_enomem);
	assert_true(ich_error_ok(NULL));
	assert_false(ich_error_ok(ich_error_create(ICH_ERR_FORMAT, "bad")));
	assert_false(ich_error_ok(&ich_enomem));
}

/* ich_fmt_hex / ich_fmt_u64 (and ich_hex16x2_text + ich_hex_store) against
 * snprintf (an independent formatter): every digit count, every width,
 * nibble values 0-f in every position and pseudo-random values;
 * ich_fmt_hex and ich_hex_store write nothing outside their 16-byte room,
 * ich_fmt_u64 nothing past the characters returned. */
static void check_fmt(uint64_t v)
{
	char want[64], got[64];
	for (unsigned w = 0; w <= 17; w++) {
		unsigned ww = w > 16 ? 16 : w;
		int n = snprintf(want, sizeof(want), "%0*llx", (int)ww, (unsigned long long)v);
		memset(got, '#', sizeof(got));
		size_t m = ich_fmt_hex(got + 8, v, w);
		assert_int_equal(m, (size_t)n);
		assert_memory_equal(got + 8, want, m);
		for (size_t k = 0; k < 8; k++)
			assert_int_equal(got[k], '#');
		for (size_t k = 8 + 16; k < sizeof(got); k++)
			assert_int_equal(got[k], '#');
	}
#ifdef ICH_HEX_STORE
	/* the two-at-once digits (heap -a --json's header and user) with
	 * v's partner on either side, stored at v's and the partner's own
	 * digit counts */
	uint64_t pair[2][2] = { { v, ~v }, { v >> 5 ^ 0x5A5A5A5A5A5A5A5Aull, v } };
	for (size_t i = 0; i < 2; i++) {
		uint64_t t[4];
		ich_hex16x2_text(pair[i][0], pair[i][1], &t[0], &t[1], &t[2], &t[3]);
		for (size_t k = 0; k < 2; k++) {
			unsigned nd = ich_hex_digits(pair[i][k]);
			int n = snprintf(want, sizeof(want), "%llx", (unsigned long long)pair[i][k]);
			assert_int_equal(nd, (unsigned)n);
			memset(got, '#', sizeof(got));
			ich_hex_store(got + 8, t[2 * k], t[2 * k + 1], nd);
			assert_memory_equal(got + 8, want, nd);
			for (size_t q = 0; q < 8; q++)
				assert_int_equal(got[q], '#');
			for (size_t q = 8 + 16; q < sizeof(got); q++)
				assert_int_equal(got[q], '#');
		}
	}
#endif
	int n = snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	memset(got, '#', sizeof(got));
	size_t m = ich_fmt_u64(got, v);
	assert_int_equal(m, (size_t)n);
	assert_memory_equal(got, want, m);
	for (size_t k = m; k < sizeof(got); k++)
		assert_int_equal(got[k], '#');
}

/* ICH_ARRAY_RESERVE: the first allocation holds `first`, each growth
 * doubles and keeps the elements; a size past size_t fails and leaves the
 * array and its capacity as they were. */
static void test_array_reserve(void **state)
{
	(void)state;
	struct { uint32_t a, b; } *v = NULL;
	size_t n = 0, cap = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		size_t before = cap;
		assert_true(ICH_ARRAY_RESERVE(v, n, cap, 16));
		if (n < before)
			assert_int_equal(cap, before);	/* room was there: nothing moved */
		else
			assert_int_equal(cap, before ? 2 * before : 16);
		v[n].a = i;
		v[n++].b = ~i;
	}
	assert_int_equal(cap, 1024);
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(v[i].a, i);
		assert_int_equal(v[i].b, ~i);
	}
	/* a capacity whose double times the element size is past SIZE_MAX */
	void *keep = v;
	size_t huge = SIZE_MAX / sizeof(*v) / 2 + 1;
	assert_false(ICH_ARRAY_RESERVE(v, huge, huge, 16));
	assert_ptr_equal(v, keep);
	assert_int_equal(huge, SIZE_MAX / sizeof(*v) / 2 + 1);
	/* a capacity whose double wraps */
	size_t wrap = SIZE_MAX / 2 + 1;
	assert_false(ICH_ARRAY_RESERVE(v, wrap, wrap, 16));
	assert_int_equal(wrap, SIZE_MAX / 2 + 1);
	free(v);
}

/* ICH_ARRAY_PUSH_ROOM: an array with a count and no capacity doubles at
 * 0 and at every power of two and nowhere else, keeps its elements, and
 * always has room for the implied capacity (ASan checks each write;
 * glibc's usable size is checked too); the growth fails without touching
 * the array when the doubled size would pass size_t. */
static void test_array_push_room(void **state)
{
	(void)state;
	assert_int_equal(ich_array_pow2_cap(0), 1);
	assert_int_equal(ich_array_pow2_cap(1), 1);
	assert_int_equal(ich_array_pow2_cap(3), 4);
	assert_int_equal(ich_array_pow2_cap(1024), 1024);
	assert_int_equal(ich_array_pow2_cap(1025), 2048);
	assert_int_equal(ich_array_pow2_cap(SIZE_MAX), SIZE_MAX);
	struct elem { uint64_t a; uint32_t b; } *v = NULL;
	/* between two powers of two there is room: an array on the stack
	 * that any growth would hand to realloc stays where it is */
	struct elem on_stack[8], *sv = on_stack;
	for (size_t k = 5; k < 8; k++) {
		assert_true(ICH_ARRAY_PUSH_ROOM(sv, k));
		assert_ptr_equal(sv, on_stack);
	}
	size_t n = 0;
	for (uint32_t i = 0; i < 5000; i++) {
		assert_true(ICH_ARRAY_PUSH_ROOM(v, n));
#ifdef __GLIBC__
		assert_true(malloc_usable_size(v) >= ich_array_pow2_cap(n + 1) * sizeof(*v));
#endif
		v[n].a = i;
		v[n++].b = ~i;
	}
	for (uint32_t i = 0; i < 5000; i++) {
		assert_int_equal(v[i].a, i);
		assert_int_equal(v[i].b, ~i);
	}
	struct elem *keep = v;
	assert_false(ICH_ARRAY_PUSH_ROOM(v, SIZE_MAX / 2 + 1));	/* 2n wraps */
	assert_false(ICH_ARRAY_PUSH_ROOM(v, (size_t)1 << 60));	/* 2n x 16 bytes wraps */
	assert_ptr_equal(v, keep);
	free(v);
}

static void test_fmt(void **state)
{
	(void)state;
	/* the portable 8-digit path (the SSE2 one replaces it on x86-64) */
	for (uint64_t h = 0x0123u, k = 0; k < 70000; k++, h = h * 2654435761u + 0x9E37u) {
		char want[16];
		uint64_t txt = ich_hex8_spread((uint32_t)h);
		snprintf(want, sizeof(want), "%08x", (unsigned)(uint32_t)h);
		for (unsigned d = 0; d < 8; d++)	/* byte d: nibble d's digit */
			assert_int_equal((char)(txt >> (8 * d)), want[7 - d]);
	}
	check_fmt(0);
	check_fmt(UINT64_MAX);
	for (unsigned shift = 0; shift < 64; shift++) {
		check_fmt(1ull << shift);
		check_fmt((1ull << shift) - 1);
		for (uint64_t d = 0; d < 16; d++)
			check_fmt(d << (shift & ~3u));
	}
	for (uint64_t p = 1, k = 0; k < 20; k++, p *= 10) {	/* decimal digit-count edges */
		check_fmt(p);
		check_fmt(p - 1);
		check_fmt(p + 1);
	}
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_fmt(x);
		check_fmt(x >> (i % 64));
	}
}

/* The line writer: bytes printed to the FILE before it come first, the
 * writer's lines in order, a printf longer than its whole buffer intact,
 * then the FILE's own output again; through a descriptor (tmpfile: write
 * after fflush) and without one (open_memstream: fwrite). */
static void check_out(FILE *f, char **mem, size_t *memlen)
{
	size_t big = ICH_OUT_BUF * 2 + 123;
	char *want = malloc(big + 20000 * 16 + 4096), *w = want;
	char *s = malloc(big + 1);
	assert_non_null(want);
	assert_non_null(s);
	memset(s, 'x', big);
	s[big] = '\0';
	fprintf(f, "before\n");
	w += sprintf(w, "before\n");
	struct ich_out *o = malloc(sizeof(*o));
	assert_non_null(o);
	ich_out_init(o, f);
	for (unsigned i = 0; i < 20000; i++) {	/* past the buffer a few times */
		char *p = ich_out_room(o, 32);
		size_t n = (size_t)sprintf(p, "line %u\n", i);
		ich_out_commit(o, n);
		w += sprintf(w, "line %u\n", i);
	}
	ich_out_printf(o, "<%s>\n", s);
	w += sprintf(w, "<%s>\n", s);
	ich_out_printf(o, "%d\n", 42);
	w += sprintf(w, "%d\n", 42);
	ich_out_flush(o);
	fprintf(f, "after\n");
	w += sprintf(w, "after\n");
	fflush(f);
	size_t wl = (size_t)(w - want);
	if (mem) {
		assert_int_equal(*memlen, wl);
		assert_memory_equal(*mem, want, wl);
	} else {
		rewind(f);
		char *got = malloc(wl + 16);
		assert_non_null(got);
		assert_int_equal(fread(got, 1, wl + 16, f), wl);
		assert_memory_equal(got, want, wl);
		free(got);
	}
	free(o);
	free(s);
	free(want);
}

static void test_out(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_true(fileno(f) >= 0);
	check_out(f, NULL, NULL);
	fclose(f);
	char *buf = NULL;
	size_t len = 0;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	check_out(f, &buf, &len);
	fclose(f);
	free(buf);
}

/* ich_first_aligned_offset: the first multiple of step in a range, as an
 * offset, also for ranges at the top of the address space (where start +
 * step - 1 wraps to a small address). */
static void test_first_aligned_offset(void **state)
{
	(void)state;
	assert_int_equal(ich_first_aligned_offset(0x1000, 8), 0);
	assert_int_equal(ich_first_aligned_offset(0x1001, 8), 7);
	assert_int_equal(ich_first_aligned_offset(0x1007, 8), 1);
	assert_int_equal(ich_first_aligned_offset(0x1006, 4), 2);
	assert_int_equal(ich_first_aligned_offset(0, 4), 0);
	assert_int_equal(ich_first_aligned_offset(0xFFFFFFFFFFFFFF00ull, 8), 0);
	assert_int_equal(ich_first_aligned_offset(0xFFFFFFFFFFFFFFF9ull, 8), 7);
	assert_int_equal(ich_first_aligned_offset(0xFFFFFFFFFFFFFFFDull, 4), 3);
	assert_int_equal(ich_first_aligned_offset(0xFFFFFFFFFFFFFFFFull, 8), 1);
	for (uint64_t start = 0xFFFFFFFFFFFFFFF0ull; start != 0; start++) {
		uint64_t o = ich_first_aligned_offset(start, 8);
		assert_true(o < 8);
		assert_int_equal((start + o) & 7, 0);
	}
	/* ich_add_sat: a range's end, UINT64_MAX where it reaches the top */
	assert_int_equal(ich_add_sat(0x1000, 0x2000), 0x3000);
	assert_int_equal(ich_add_sat(0xFFFFFFFFFFFFF000ull, 0xFFF), 0xFFFFFFFFFFFFFFFFull);
	assert_int_equal(ich_add_sat(0xFFFFFFFFFFFFF000ull, 0x1000), UINT64_MAX);
	assert_int_equal(ich_add_sat(0xFFFFFFFFFFFFFF00ull, 0x10000), UINT64_MAX);
	assert_int_equal(ich_add_sat(UINT64_MAX, 0), UINT64_MAX);
	assert_int_equal(ich_add_sat(0, UINT64_MAX), UINT64_MAX);
}

/*
 * ich_file_write to a pipe: a small write leaves the pipe's capacity
 * alone, the first write of half a writer's buffer or more grows it to
 * 1 MiB where the system allows it (root, or pipe-max-size 1 MiB or
 * more), and the reader gets every byte in order.
 */
static void test_out_pipe(void **state)
{
	(void)state;
#if defined(F_GETPIPE_SZ)
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	/* a number no earlier test wrote to (out.c remembers the last one) */
	int wfd = fcntl(fds[1], F_DUPFD, 200);
	assert_true(wfd >= 200);
	close(fds[1]);
	int before = fcntl(wfd, F_GETPIPE_SZ);
	assert_true(before > 0);
	size_t total = 100 + ICH_OUT_BUF + 5000;
	uint8_t *buf = malloc(total);
	assert_non_null(buf);
	for (size_t i = 0; i < total; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 9));
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(wfd);
		size_t got = 0;
		bool ok = true;
		uint8_t r[4096];
		ssize_t n;
		while ((n = read(fds[0], r, sizeof(r))) > 0) {
			for (ssize_t k = 0; k < n; k++, got++)
				ok &= got < total && r[k] == buf[got];
		}
		_exit(n == 0 && ok && got == total ? 0 : 1);
	}
	close(fds[0]);
	FILE *f = fdopen(wfd, "w");
	assert_non_null(f);
	ich_file_write(f, (const char *)buf, 100);
	assert_int_equal(fcntl(wfd, F_GETPIPE_SZ), before);
	ich_file_write(f, (const char *)buf + 100, ICH_OUT_BUF);
	int after = fcntl(wfd, F_GETPIPE_SZ);
	long max = 0;
	FILE *m = fopen("/proc/sys/fs/pipe-max-size", "r");
	if (m) {
		if (fscanf(m, "%ld", &max) != 1)
			max = 0;
		fclose(m);
	}
	if (before >= 1 << 20)
		assert_int_equal(after, before);
	else if (geteuid() == 0 || max >= 1 << 20)
		assert_int_equal(after, 1 << 20);
	else
		assert_int_equal(after, before);
	ich_file_write(f, (const char *)buf + 100 + ICH_OUT_BUF, 5000);
	assert_int_equal(fclose(f), 0);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(buf);
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_number),
		cmocka_unit_test(test_error_catch),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_array_reserve),
		cmocka_unit_test(test_array_push_room),
		cmocka_unit_test(test_out),
		cmocka_unit_test(test_out_pipe),
		cmocka_unit_test(test_first_aligned_offset),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_buffer),
		cmocka_unit_test(test_json_pretty),
		cmocka_unit_test(test_json_long_strings),
		cmocka_unit_test(test_range_as_overlaps),
		cmocka_unit_test(test_range_as_many),
		cmocka_unit_test(test_range_as_window),
		cmocka_unit_test(test_range_as_table),
		cmocka_unit_test(test_range_as_dir),
		cmocka_unit_test(test_range_as_lookup_order),
		cmocka_unit_test(test_range_as_dir_slots),
		cmocka_unit_test(test_range_as_sorted),
		cmocka_unit_test(test_list_walk),
		cmocka_unit_test(test_gzip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
