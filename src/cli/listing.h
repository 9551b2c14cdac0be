/* SPDX-License-Identifier: MIT */
/*
 * The block lines of heap -a/-h/-f (NT and segment heaps) and -H l's LFH
 * entries, built without printf (issue 12: one line per block over
 * millions), one block at a time or a run of blocks at a time
 * (ich_heap_walk_runs); tests/unit/core/test_listing.c compares the two.
 */
#ifndef ICPHEAP_CLI_LISTING_H
#define ICPHEAP_CLI_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/heap.h>

#include "core/fmt.h"
#include "core/out.h"

/* The most a block line takes in the writer (with the 16-byte digit
 * stores' scratch and the layer suffix's fixed-size copy). */
#define ICH_LINE_ROOM 192

/* "        %0*llx: %05llx . %05llx [%03x]" at o (the start of every entry
 * line of -a/-h/-f, NT and segment heaps); returns its length.  o needs
 * room for 64 bytes (ich_fmt_hex stores 16 at a time). */
static inline size_t ich_entry_head(char *o, int w, uint64_t header, uint64_t prev_size, uint64_t block_size,
				    unsigned flags)
{
	char *p = o;
	ICH_PUT_LIT(p, "        ");
	p += ich_fmt_hex(p, header, (unsigned)w);
	ICH_PUT_LIT(p, ": ");
	p += ich_fmt_hex(p, prev_size, 5);
	ICH_PUT_LIT(p, " . ");
	p += ich_fmt_hex(p, block_size, 5);
	ICH_PUT_LIT(p, " [");
	p += ich_fmt_hex(p, 0x100u | flags, 3);
	*p++ = ']';
	return (size_t)(p - o);
}

/* A line at o (room: ICH_LINE_ROOM) for b, w pointer digits; returns its
 * length. */
typedef size_t ich_line_fn(char *o, int w, const struct ich_heap_block *b);
/* An NT LFH entry's line (-H l). */
ich_line_fn ich_lfh_line;
/* A segment-heap block's line. */
ich_line_fn ich_seg_line;

/* Whether ich_run_lines can write the run: w is 8 or 16 and every header
 * of the run has at most w digits (else the caller goes block by block). */
bool ich_run_lines_ok(int w, const struct ich_heap_block_run *r);
/* The run's lines into out, as line() writes them block by block. */
void ich_run_lines(struct ich_out *out, int w, const struct ich_heap_block_run *r, ich_line_fn *line);

#endif
