/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer for --json output.  Addresses are written
 * as "0x..." lowercase hex strings (the documented schema convention).
 * Keys are passed with each value; pass NULL inside arrays.  A key must not
 * change while the writer is in use (keys are string literals: the writer
 * remembers the ones it has checked by address).
 *
 * Output is buffered in the writer itself (ICH_JSON_BUF bytes, one write
 * per flush) and strings are escaped by runs, so `heap -a --json` over
 * millions of blocks runs at memory speed instead of one stdio call per
 * character (issue 12).  The buffer is flushed when it fills, when the
 * outermost value is closed and by ich_json_finish/ich_json_flush: nothing
 * else may write to the FILE while a document is open.
 *
 * Compact output by default; pretty (two-space indentation) when the
 * writer is created with pretty and the process allows it: the CLI allows
 * it only with --pretty (ich_json_allow_pretty), so machine consumers get
 * compact documents and people ask for the indented form.
 */
#ifndef ICPHEAP_CORE_JSON_H
#define ICPHEAP_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/write_ahead.h"

#define ICH_JSON_MAX_DEPTH 32
/* 256 KiB: a write(2) costs ~0.2 us here, and 64 KiB writes were 5% of
 * seg.dmp's `--json heap -a` (4,672 for 306 MB); the buffer still fits
 * the L2 cache it is written in (issue 12).  As ICH_OUT_BUF (out.h). */
#define ICH_JSON_BUF 262144

struct ich_json {
	FILE *f;
	bool pretty;
	int depth;
	bool first[ICH_JSON_MAX_DEPTH];
	size_t len;			/* bytes pending in buf (ICH_JSON_BUF while
					 * buf is NULL: the first byte goes
					 * through the slow path, which sets it) */
	/* Keys seen, by address: the same few keys come back for every
	 * block, and a known one is copied without scanning it again. */
	struct {
		const char *key;
		uint32_t len;		/* of text */
		char text[28];		/* "key": ready to copy (28 bytes) */
	} keys[64];			/* 64: json.c's hash and probe */
	/* ICH_JSON_BUF bytes, allocated when the first byte is written and
	 * freed when the outermost value is closed or by ich_json_finish (a
	 * 256 KiB array in the struct made every
	 * function with a writer on its stack touch 64 stack pages, the
	 * compiler's stack-clash probes: `info` took 48 more page faults). */
	char *buf;
	/* where the lines requested ahead of the writer end (write_ahead.h) */
	uintptr_t ahead;
};

/* Whether ich_json_init's pretty is honoured (default true; main.c sets it
 * from --pretty so every command's JSON follows one switch). */
void ich_json_allow_pretty(bool allow);

void ich_json_init(struct ich_json *j, FILE *f, bool pretty);
void ich_json_begin_object(struct ich_json *j, const char *key);
void ich_json_end_object(struct ich_json *j);
void ich_json_begin_array(struct ich_json *j, const char *key);
void ich_json_end_array(struct ich_json *j);
void ich_json_string(struct ich_json *j, const char *key, const char *s);	/* NULL -> null */
void ich_json_u64(struct ich_json *j, const char *key, uint64_t v);
void ich_json_i64(struct ich_json *j, const char *key, int64_t v);
void ich_json_double(struct ich_json *j, const char *key, double v);
void ich_json_bool(struct ich_json *j, const char *key, bool v);
void ich_json_null(struct ich_json *j, const char *key);
void ich_json_addr(struct ich_json *j, const char *key, uint64_t addr);	/* "0x..." */
/* Write what is buffered to the FILE (and fflush it). */
void ich_json_flush(struct ich_json *j);
/* After the outermost value: newline, then flush; the buffer is freed
 * (the writer may start another document). */
void ich_json_finish(struct ich_json *j);

/*
 * A value the caller renders itself, for hot loops (one object per heap
 * block, issue 12): ich_json_raw_begin writes the separator before a value
 * (no key) and returns where up to max bytes may go (max <= ICH_JSON_BUF);
 * ich_json_raw_end keeps the n the caller wrote.  The caller's bytes must
 * be one complete compact JSON value, so only for writers that are not
 * pretty (ich_json_is_pretty), whose nested values are indented.  It saves
 * the per-field calls, each of which reloads and stores the buffer
 * position (a chain through memory the CPU cannot overlap).
 */
static inline bool ich_json_is_pretty(const struct ich_json *j) { return j->pretty; }
char *ich_json_raw_begin_slow(struct ich_json *j, size_t max);
static inline char *ich_json_raw_begin(struct ich_json *j, size_t max)
{
	/* inline for the common case (a compact writer with room): the
	 * call was 8% of a segment heap's -a --json */
	if (j->pretty || ICH_JSON_BUF - j->len < max + 1)
		return ich_json_raw_begin_slow(j, max);
	if (j->depth > 0 && !j->first[j->depth])
		j->buf[j->len++] = ',';
	j->first[j->depth] = false;
	j->ahead = ich_write_ahead(j->ahead, j->buf + j->len);
	return j->buf + j->len;
}
static inline void ich_json_raw_end(struct ich_json *j, size_t n) { j->len += n; }
/* Room for max more bytes (max <= ICH_JSON_BUF) at buf + len, with no
 * separator: for a caller that writes a run of values after
 * ich_json_raw_begin (their commas its own) and keeps len itself. */
char *ich_json_raw_room(struct ich_json *j, size_t max);

#endif
