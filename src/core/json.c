/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "core/json.h"
#include "core/out.h"

static bool pretty_allowed = true;

void ich_json_allow_pretty(bool allow)
{
	pretty_allowed = allow;
}

void ich_json_init(struct ich_json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->pretty = pretty && pretty_allowed;
	j->depth = 0;
	j->buf = NULL;
	j->len = ICH_JSON_BUF;	/* no room: the first write allocates */
	j->ahead = 0;
	memset(j->keys, 0, sizeof(j->keys));
	memset(j->first, 0, sizeof(j->first));
	j->first[0] = true;
}

/* Where the writers' buffers come from when malloc fails: the library
 * has no way to report a failed allocation here, so they share this one
 * (only a second writer open at the same time could spoil it). */
static char json_fallback[ICH_JSON_BUF];

/* The writer's buffer given back (when a document is complete). */
static void release(struct ich_json *j)
{
	if (j->buf != json_fallback)
		free(j->buf);
	j->buf = NULL;
	j->len = ICH_JSON_BUF;
}

/* The buffer to the FILE, after what the FILE holds (core/out.c); a
 * writer with no buffer gets one. */
static void drain(struct ich_json *j)
{
	if (!j->buf) {
		j->buf = malloc(ICH_JSON_BUF);
		if (!j->buf)
			j->buf = json_fallback;
		j->len = 0;
		j->ahead = (uintptr_t)j->buf;
		return;
	}
	ich_file_write(j->f, j->buf, j->len);
	j->len = 0;
	j->ahead = (uintptr_t)j->buf;
}

void ich_json_flush(struct ich_json *j)
{
	if (j->buf)	/* (no buffer: nothing written since it was freed) */
		drain(j);
	fflush(j->f);
}

/* Room for n more bytes (n <= ICH_JSON_BUF); returns where to write them. */
static inline char *room(struct ich_json *j, size_t n)
{
	if (ICH_JSON_BUF - j->len < n)
		drain(j);
	return j->buf + j->len;
}

static void put(struct ich_json *j, const char *s, size_t n)
{
	if (ICH_JSON_BUF - j->len < n) {
		drain(j);
		if (n >= ICH_JSON_BUF) {
			fwrite(s, 1, n, j->f);
			return;
		}
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static inline void putc_(struct ich_json *j, char c)
{
	*room(j, 1) = c;
	j->len++;
}

static void indent(struct ich_json *j)
{
	static const char spaces[] = "\n                                                                ";
	if (!j->pretty)
		return;
	size_t n = 1 + 2 * (size_t)j->depth;
	if (n > sizeof(spaces) - 1) {
		put(j, spaces, sizeof(spaces) - 1);
		for (size_t k = sizeof(spaces) - 1; k < n; k++)
			putc_(j, ' ');
		return;
	}
	put(j, spaces, n);
}

/* Bytes a JSON string cannot hold as they are (RFC 8259 §7): '"', '\\'
 * and the controls below 0x20; 0 ends the string.  Everything else, UTF-8
 * included, is copied.  A table: one load per byte of the scan. */
static const uint8_t stop_byte[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* '"' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,	/* '\\' */
};

static void write_str(struct ich_json *j, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)str;
	putc_(j, '"');
	for (;;) {
		/* the longest run of bytes that go out unchanged: one copy */
		const unsigned char *run = p;
		while (!stop_byte[*p])
			p++;
		if (p > run)
			put(j, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		char *o = room(j, 6);
		switch (*p) {
		case '"': o[0] = '\\'; o[1] = '"'; j->len += 2; break;
		case '\\': o[0] = '\\'; o[1] = '\\'; j->len += 2; break;
		case '\n': o[0] = '\\'; o[1] = 'n'; j->len += 2; break;
		case '\r': o[0] = '\\'; o[1] = 'r'; j->len += 2; break;
		case '\t': o[0] = '\\'; o[1] = 't'; j->len += 2; break;
		default:
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 0xF];
			j->len += 6;
		}
		p++;
	}
	putc_(j, '"');
}

/* A key or string of at most this many bytes that needs no escaping is
 * written with one copy into reserved room. */
#define SHORT_STR 64
#define KEY_SLOTS 64	/* = the size of struct ich_json's keys[] */
#define KEY_PROBES 4
_Static_assert(sizeof(((struct ich_json *)0)->keys) / sizeof(((struct ich_json *)0)->keys[0]) == KEY_SLOTS,
	       "KEY_SLOTS follows struct ich_json");

/* Length of s if it is short and needs no escape, else SIZE_MAX. */
static inline size_t plain_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	while (!stop_byte[p[n]] && n < SHORT_STR)
		n++;
	return p[n] == '\0' ? n : SIZE_MAX;
}

/* Separator, indentation and key before a value; returns where the value
 * goes, with room for at least `value` more bytes. */
static inline char *prefix_room(struct ich_json *j, const char *key, size_t value)
{
	if (j->depth > 0) {
		if (!j->first[j->depth])
			putc_(j, ',');
		indent(j);
	}
	j->first[j->depth] = false;
	if (!key)
		return room(j, value);
	/* Literals sit a few bytes apart: hash the whole address, then probe
	 * a few slots.  A direct-mapped table thrashed: with ASLR moving the
	 * literals, two of a block's keys shared a slot in some runs and
	 * every block re-scanned them (heap -a --json 2.6x to 6.6x heap -s
	 * from run to run, issue 12). */
	size_t h0 = (size_t)(((uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ull) >> 58), slot = h0;
	for (size_t k = 0; k < KEY_PROBES; k++) {
		size_t s = (h0 + k) & (KEY_SLOTS - 1);
		if (j->keys[s].key == key || !j->keys[s].key) {
			slot = s;
			break;
		}
	}
	if (j->keys[slot].key != key) {
		size_t n = plain_len(key);
		if (n > sizeof(j->keys[slot].text) - 4) {
			/* long or in need of escapes: the general path */
			write_str(j, key);
			if (j->pretty)
				put(j, ": ", 2);
			else
				putc_(j, ':');
			return room(j, value);
		}
		char *t = j->keys[slot].text;
		memset(t, ' ', sizeof(j->keys[slot].text));
		t[0] = '"';
		memcpy(t + 1, key, n);
		t[n + 1] = '"';
		t[n + 2] = ':';
		j->keys[slot].key = key;
		j->keys[slot].len = (uint32_t)(n + 3 + (j->pretty ? 1 : 0));
	}
	/* a fixed-size copy (the text is space-padded), then count what
	 * belongs to the key */
	char *o = room(j, sizeof(j->keys[slot].text) + value);
	memcpy(o, j->keys[slot].text, sizeof(j->keys[slot].text));
	j->len += j->keys[slot].len;
	return o + j->keys[slot].len;
}

static void prefix(struct ich_json *j, const char *key)
{
	prefix_room(j, key, 0);
}

static void open_(struct ich_json *j, const char *key, char c)
{
	prefix(j, key);
	putc_(j, c);
	if (j->depth + 1 < ICH_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct ich_json *j, char c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	putc_(j, c);
	/* the outermost value is complete: let it out, and the buffer go */
	if (j->depth == 0) {
		drain(j);
		release(j);
	}
}

void ich_json_begin_object(struct ich_json *j, const char *key) { open_(j, key, '{'); }
void ich_json_end_object(struct ich_json *j) { close_(j, '}'); }
void ich_json_begin_array(struct ich_json *j, const char *key) { open_(j, key, '['); }
void ich_json_end_array(struct ich_json *j) { close_(j, ']'); }

void ich_json_string(struct ich_json *j, const char *key, const char *s)
{
	if (!s) {
		char *o = prefix_room(j, key, 4);
		memcpy(o, "null", 4);
		j->len += 4;
		return;
	}
	size_t n = plain_len(s);
	if (n != SIZE_MAX) {
		char *o = prefix_room(j, key, n + 2);
		o[0] = '"';
		memcpy(o + 1, s, n);
		o[n + 1] = '"';
		j->len += n + 2;
		return;
	}
	prefix(j, key);
	write_str(j, s);
}

void ich_json_u64(struct ich_json *j, const char *key, uint64_t v)
{
	char *o = prefix_room(j, key, 20);
	j->len += ich_fmt_u64(o, v);
}

void ich_json_i64(struct ich_json *j, const char *key, int64_t v)
{
	char *o = prefix_room(j, key, 21);
	size_t n = 0;
	uint64_t m = (uint64_t)v;
	if (v < 0) {
		o[n++] = '-';
		m = 0 - m;
	}
	j->len += n + ich_fmt_u64(o + n, m);
}

void ich_json_double(struct ich_json *j, const char *key, double v)
{
	prefix(j, key);
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%.6g", v);
	if (n > 0)
		put(j, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void ich_json_bool(struct ich_json *j, const char *key, bool v)
{
	prefix(j, key);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void ich_json_null(struct ich_json *j, const char *key)
{
	prefix(j, key);
	put(j, "null", 4);
}

void ich_json_addr(struct ich_json *j, const char *key, uint64_t addr)
{
	char *o = prefix_room(j, key, 20);
	o[0] = '"';
	o[1] = '0';
	o[2] = 'x';
	size_t n = 3 + ich_fmt_hex(o + 3, addr, 1);
	o[n++] = '"';
	j->len += n;
}

char *ich_json_raw_begin_slow(struct ich_json *j, size_t max)
{
	return prefix_room(j, NULL, max);
}

char *ich_json_raw_room(struct ich_json *j, size_t max)
{
	return room(j, max);
}

void ich_json_finish(struct ich_json *j)
{
	if (j->buf)
		putc_(j, '\n');
	else
		ich_file_write(j->f, "\n", 1);	/* (no buffer for one byte) */
	ich_json_flush(j);
	release(j);
}
