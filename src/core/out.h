/* SPDX-License-Identifier: MIT */
/*
 * A buffered text writer for commands that print one line per heap block
 * (heap -a/-h/-f, -l): lines are built in the writer's own buffer with
 * ich_fmt_hex and friends, and the buffer goes out in 256 KiB blocks, so a
 * listing of millions of blocks costs no stdio call per line (issue 12).
 *
 * The writer owns the FILE's output while it holds bytes: anything else
 * printed to the same FILE must come after ich_out_flush.  (Output printed
 * to the FILE before the writer's first bytes is flushed ahead of them:
 * ich_file_write flushes the FILE first.)
 */
#ifndef ICPHEAP_CORE_OUT_H
#define ICPHEAP_CORE_OUT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/write_ahead.h"

/* as ICH_JSON_BUF (json.h): why 256 KiB */
#define ICH_OUT_BUF 262144

struct ich_out {
	FILE *f;
	size_t len;		/* bytes pending in buf */
	uintptr_t ahead;	/* where the lines requested ahead end (write_ahead.h) */
	char buf[ICH_OUT_BUF];
};

/* Write n bytes to f after what f has buffered: with write(2) when f has a
 * descriptor (no copy into stdio's buffer), else fwrite.  A failed write
 * drops the rest, as stdio would.  The first write of ICH_OUT_BUF / 2
 * bytes or more to a descriptor that is a pipe grows the pipe to 1 MiB
 * where the system allows it (out.c: why). */
void ich_file_write(FILE *f, const char *p, size_t n);

void ich_out_init(struct ich_out *o, FILE *f);
/* The pending bytes to the FILE (then other output may follow). */
void ich_out_flush(struct ich_out *o);
/* printf into the writer (for the rare lines of a listing). */
void ich_out_printf(struct ich_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Room for n more bytes (n <= ICH_OUT_BUF): where to write them; then
 * ich_out_commit with the number actually written. */
static inline char *ich_out_room(struct ich_out *o, size_t n)
{
	if (ICH_OUT_BUF - o->len < n)
		ich_out_flush(o);
	o->ahead = ich_write_ahead(o->ahead, o->buf + o->len);
	return o->buf + o->len;
}

static inline void ich_out_commit(struct ich_out *o, size_t n)
{
	o->len += n;
}

#endif
