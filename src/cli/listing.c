/* SPDX-License-Identifier: MIT */
/* Block lines of the heap listings (listing.h). */
#include <stdio.h>
#include <string.h>

#include "cli/listing.h"
#include "core/write_ahead.h"

/* An LFH entry's line (-H l) at o; returns its length.  No PreviousSize
 * (WinDbg's -x shows "-"): "        %0*llx: %05x . %05llx [%03x]" with 0
 * for it, then " - busy (%llx) LFH" or " LFH". */
size_t ich_lfh_line(char *o, int w, const struct ich_heap_block *b)
{
	char *p = o;
	p += ich_entry_head(p, w, b->header, 0, b->block_size, b->state == ICH_BLOCK_BUSY ? 1u : 0u);
	if (b->state == ICH_BLOCK_BUSY) {
		ICH_PUT_LIT(p, " - busy (");
		p += ich_fmt_hex(p, b->size, 1);
		*p++ = ')';
	}
	ICH_PUT_LIT(p, " LFH\n");
	return (size_t)(p - o);
}

/* A segment-heap listing line at o; returns its length. */
size_t ich_seg_line(char *o, int w, const struct ich_heap_block *b)
{
	/* "        %0*llx: %05llx . %05llx [%03x]", the state
	 * (" - free", " - busy (%llx)", " - busy (%llx) Internal ",
	 * " - corrupt"), " %s\n" the layer: built without printf (issue 12) */
	char *p = o;
	p += ich_entry_head(p, w, b->header, b->prev_size, b->block_size, b->flags);
	switch (b->state) {
	case ICH_BLOCK_FREE:
		ICH_PUT_LIT(p, " - free");
		break;
	case ICH_BLOCK_BUSY:
	case ICH_BLOCK_INTERNAL:
		ICH_PUT_LIT(p, " - busy (");
		p += ich_fmt_hex(p, b->size, 1);
		*p++ = ')';
		if (b->state == ICH_BLOCK_INTERNAL)
			ICH_PUT_LIT(p, " Internal ");
		break;
	case ICH_BLOCK_CORRUPT:
		ICH_PUT_LIT(p, " - corrupt");
		break;
	}
	/* " %s\n" with the layer's name, from a table (a strlen and a copy
	 * call per block before) */
	static struct {
		size_t len;
		char text[24];
	} sfx[ICH_LAYER_PAGE_HEAP + 2];	/* the last: any other value */
	static bool sfx_ready;
	if (!sfx_ready) {
		for (unsigned l = 0; l < sizeof(sfx) / sizeof(sfx[0]); l++) {
			int n = snprintf(sfx[l].text, sizeof(sfx[l].text), " %s\n",
					 ich_block_layer_name((enum ich_block_layer)l));
			sfx[l].len = n > 0 && (size_t)n < sizeof(sfx[l].text) ? (size_t)n : 0;
		}
		sfx_ready = true;
	}
	unsigned l = (unsigned)b->layer <= ICH_LAYER_PAGE_HEAP ? (unsigned)b->layer : ICH_LAYER_PAGE_HEAP + 1;
	memcpy(p, sfx[l].text, sizeof(sfx[l].text));
	p += sfx[l].len;
	return (size_t)(p - o);
}

/*
 * A run of blocks (ich_heap_walk_runs: an LFH container's) as the lines
 * line() writes one by one (ich_run_lines): each kind's line is built once, then every
 * block's line is a copy of its kind's with the header's digits stored
 * over the kind's, at the same place (the header is the only field of a
 * line that changes within a run: its width is c->w digits, and a run
 * whose headers would not fit in them goes line by line).  Issue 12: the
 * four hex conversions and the call per line were most of heap -a's time
 * on segment heaps.  The kinds' lines are static: the CLI prints on one
 * thread.
 */
static char run_line[256][ICH_LINE_ROOM];
static uint32_t run_line_len[256];

void ich_run_lines(struct ich_out *out, int w, const struct ich_heap_block_run *r, ich_line_fn *line)
{
	struct ich_heap_block b;
	for (unsigned k = 0; k < r->nkinds; k++) {
		ich_heap_run_kind_block(r, k, &b);
		run_line_len[k] = (uint32_t)line(run_line[k], w, &b);
	}
	char *p = ich_out_room(out, ICH_LINE_ROOM);
	const char *lim = out->buf + ICH_OUT_BUF - ICH_LINE_ROOM;
	/* the run's fields in locals: the line stores (char) may alias
	 * them, and were reloading them every line */
	uint64_t hdr = r->tmpl.header, stride = r->stride;
	const uint8_t *kind = r->kind;
	size_t count = r->count;
	uintptr_t pf = (uintptr_t)p;
	for (size_t i = 0; i < count; i++, hdr += stride) {
		if (p > lim) {
			out->len = (size_t)(p - out->buf);
			p = ich_out_room(out, ICH_LINE_ROOM);
			pf = (uintptr_t)p;
		}
		pf = ich_write_ahead(pf, p);
		unsigned k = kind[i];
		uint32_t len = run_line_len[k];
		/* 96 bytes always (a block's line is ~70), the rest of the
		 * room for a longer one */
		memcpy(p, run_line[k], 96);
		if (len > 96)
			memcpy(p + 96, run_line[k] + 96, ICH_LINE_ROOM - 96);
		/* "        " then the header's w (8 or 16) digits */
		uint64_t hi, lo;
		ich_hex16_text(hdr, &hi, &lo);
		if (w == 16)
			memcpy(p + 8, &hi, 8);
		memcpy(p + w, &lo, 8);
		p += len;
	}
	out->len = (size_t)(p - out->buf);
}

bool ich_run_lines_ok(int w, const struct ich_heap_block_run *r)
{
	uint64_t first = r->tmpl.header, last = first + (uint64_t)(r->count - 1) * r->stride;
	if ((w != 8 && w != 16) || !r->count || (r->count > 1 && r->stride > UINT64_MAX / (r->count - 1)))
		return false;
	return w == 16 || (last >= first && last <= 0xFFFFFFFFu);
}
