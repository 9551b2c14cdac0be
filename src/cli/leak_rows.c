/* SPDX-License-Identifier: MIT */
/*
 * heap -l's leaks as rows of the -x table and as compact JSON objects
 * (leak_rows.h), without printf or the field-by-field writer per leak:
 * a dump whose blocks are all unreferenced lists millions (issue 12).
 * The columns are heap_leaks.c's table (the modern WinDbg !heap -l
 * sample's -x table, x64 widths from the -x samples).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/leak_rows.h"
#include "cli/records.h"
#include "core/fmt.h"
#include "core/json.h"
#include "core/out.h"

static size_t put_lit(char *o, const char *s)
{
	size_t n = strlen(s);
	memcpy(o, s, n);
	return n;
}

/* The Flags column's words at o; returns their length. */
static size_t words(const struct ich_heap_block *b, char *o)
{
	if (b->layer == ICH_LAYER_LFH)
		return put_lit(o, "LFH;busy ");
	size_t n = put_lit(o, "busy ");
	if ((b->flags & 0x02) && b->layer != ICH_LAYER_PAGE_HEAP)
		n += put_lit(o + n, "extra ");
	if ((b->flags & 0x04) && b->layer != ICH_LAYER_PAGE_HEAP)
		n += put_lit(o + n, "fill ");
	if (b->layer == ICH_LAYER_VIRTUAL)
		n += put_lit(o + n, "virtual ");
	else if (b->layer == ICH_LAYER_PAGE_HEAP)
		n += put_lit(o + n, "page-heap ");
	return n;
}

/* v in hex right-aligned in width columns, space-padded (printf %8llx);
 * o needs room for width + 16 bytes. */
static size_t hex_sp(char *o, uint64_t v, unsigned width)
{
	unsigned n = ich_hex_digits(v), pad = n < width ? width - n : 0;
	memset(o, ' ', 8);	/* width is 8 here; a wider pad is set below */
	if (pad > 8)
		memset(o, ' ', pad);
	return pad + ich_fmt_hex(o + pad, v, 1);
}
/*
 * A compact leak object is
 *   {"heap":"0x<heap>","header":"0x<header>","user":"0x<user>","size":..,
 *    "block_size":..,"unused":..,"state":"..","layer":".."[,"<where>":"0x<segment>"]}
 * leak_json_fields' fields in its order (e2e-json-compact-leaks parses
 * the two renderings of heap -l to the same document; test_leak_rows
 * compares them byte for byte).  The head up to the header's digits
 * depends on the heap only: rendered once per heap and copied.  The text
 * after the user address's digits is a compact block object's tail,
 * taken from the block renderer's tail cache (records.c), so a leak costs
 * two hex conversions and a cache probe (issue 12: each leak went through
 * the field-by-field writer, `--json heap -l` 12.4x a read pass on
 * mid.dmp where text -l was 5.6x).
 */
#define LEAK_HEAD_MAX 48	/* {"heap":"0x + 16 digits + ","header":"0x: 41 */
struct leak_json_rows {
	struct ich_json *j;
	bool have_head;
	uint64_t heap;
	size_t nhead;
	char head[LEAK_HEAD_MAX + 16];
};

void leak_json_fields(struct ich_json *j, const struct ich_leak *l)
{
	ich_json_begin_object(j, NULL);
	ich_json_addr(j, "heap", l->heap);
	ich_json_block_fields(j, &l->block);	/* the block record */
	ich_json_end_object(j);
}

struct leak_json_rows *leak_json_rows_new(struct ich_json *j)
{
	struct leak_json_rows *c = calloc(1, sizeof(*c));
	if (c)
		c->j = j;
	return c;
}

struct ich_error *leak_json_compact(const struct ich_leak *l, void *arg)
{
	struct leak_json_rows *c = arg;
	const struct ich_heap_block *b = &l->block;
	if (!c->have_head || c->heap != l->heap) {
		char *p = c->head;
		ICH_PUT_LIT(p, "{\"heap\":\"0x");
		p += ich_fmt_hex(p, l->heap, 1);
		ICH_PUT_LIT(p, "\",\"header\":\"0x");
		c->nhead = (size_t)(p - c->head);
		c->heap = l->heap;
		c->have_head = true;
	}
	char *o = ich_json_raw_begin(c->j, LEAK_HEAD_MAX + 16 + 12 + 16 + ICH_JSON_BLOCK_TAIL_ROOM), *p = o;
	memcpy(p, c->head, LEAK_HEAD_MAX);	/* fixed size: past nhead is scratch */
	p += c->nhead;
	p += ich_fmt_hex(p, b->header, 1);
	ICH_PUT_LIT(p, "\",\"user\":\"0x");
	p += ich_fmt_hex(p, b->user, 1);
	p = ich_json_block_tail_put(p, b);
	ich_json_raw_end(c->j, (size_t)(p - o));
	return NULL;
}

void leak_text_rows_init(struct leak_text_rows *t, struct ich_out *out, unsigned w)
{
	memset(t, 0, sizeof(*t));
	t->out = out;
	t->w = w;
}

/* The columns after User ("  Heap  Segment  Size  PrevSize  Unused
 * Flags\n") of leak l into t->tail. */
static void text_tail(struct leak_text_rows *t, const struct ich_leak *l)
{
	const struct ich_heap_block *b = &l->block;
	unsigned w = t->w;
	char *o = t->tail;
	o += put_lit(o, "  ");
	o += ich_fmt_hex(o, l->heap, w);
	o += put_lit(o, "  ");
	o += ich_fmt_hex(o, b->segment, w);
	o += put_lit(o, "  ");
	o += hex_sp(o, b->block_size, 8);
	o += put_lit(o, "  ");
	if (b->layer == ICH_LAYER_LFH || b->layer == ICH_LAYER_PAGE_HEAP)
		o += put_lit(o, "       -");
	else
		o += hex_sp(o, b->prev_size, 8);
	o += put_lit(o, "  ");
	o += hex_sp(o, b->unused, 8);
	o += put_lit(o, "  ");
	o += words(b, o);
	*o++ = '\n';
	t->ntail = (size_t)(o - t->tail);
	t->have = true;
	t->heap = l->heap;
	t->segment = b->segment;
	t->block_size = b->block_size;
	t->prev_size = b->prev_size;
	t->unused = b->unused;
	t->layer = b->layer;
	t->flags = b->flags;
}

/* One leak as a line of the -x table, without printf, through one
 * buffered writer: the columns after User are kept from the row before
 * when the leak shares what they show (heap, segment, block_size,
 * prev_size, unused, layer and flags: the blocks of one run, an LFH
 * container's), so most rows format two addresses. */
struct ich_error *leak_text_row(const struct ich_leak *l, void *arg)
{
	struct leak_text_rows *t = arg;
	const struct ich_heap_block *b = &l->block;
	if (!t->have || t->heap != l->heap || t->segment != b->segment || t->block_size != b->block_size ||
	    t->prev_size != b->prev_size || t->unused != b->unused || t->layer != b->layer || t->flags != b->flags)
		text_tail(t, l);
	char *line = ich_out_room(t->out, 192), *o = line;
	o += ich_fmt_hex(o, b->header, t->w);
	o += put_lit(o, "  ");
	o += ich_fmt_hex(o, b->user, t->w);
	memcpy(o, t->tail, t->ntail);
	o += t->ntail;
	ich_out_commit(t->out, (size_t)(o - line));
	return NULL;
}
