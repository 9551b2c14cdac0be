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
 * compares them byte for byte).  The head up to the
 * header's digits depends on the heap only; everything after the user
 * address's digits (the tail) on size, block_size, unused, state, layer
 * and, when the layer has a where-key, segment.  Both are rendered once
 * and copied: a heap's leaks share the head, and the leaks of a run (an
 * LFH container's) repeat a few tails, so a leak costs two hex
 * conversions and a cache probe (issue 12: each leak went through the
 * field-by-field writer, `--json heap -l` 12.4x a read pass on mid.dmp
 * where text -l was 5.6x).
 */
#define LEAK_TAILS 16
#define LEAK_TAIL_MAX 224	/* the longest tail: 3 x 20 digits, the names, 16 digits: < 200 */
#define LEAK_HEAD_MAX 48	/* {"heap":"0x + 16 digits + ","header":"0x: 41 */
struct leak_tail {
	char text[LEAK_TAIL_MAX + 16];	/* + scratch for ich_fmt_hex's stores */
	size_t len;
	uint64_t size, block_size, unused, segment;
	enum ich_block_state state;
	enum ich_block_layer layer;
	bool valid;
};

struct leak_json_rows {
	struct ich_json *j;
	bool have_head;
	uint64_t heap;
	size_t nhead;
	char head[LEAK_HEAD_MAX + 16];
	struct leak_tail tails[LEAK_TAILS];
};

/* name's text at o, or false when it would pass end (the names are
 * heap_find.c's literals: plain ASCII, nothing to escape). */
static bool put_name(char **o, const char *end, const char *name)
{
	size_t n = strlen(name);
	if ((size_t)(end - *o) < n)
		return false;
	memcpy(*o, name, n);
	*o += n;
	return true;
}

/* b's tail into t (where: its layer's where-key or NULL); false when it
 * would not fit (never with heap_find.c's names). */
static bool leak_tail_render(struct leak_tail *t, const struct ich_heap_block *b, const char *where,
			     uint64_t segment)
{
	char *p = t->text;
	const char *end = t->text + LEAK_TAIL_MAX - 24;	/* room for the digits and closers after a name */
	ICH_PUT_LIT(p, "\",\"size\":");
	p += ich_fmt_u64(p, b->size);
	ICH_PUT_LIT(p, ",\"block_size\":");
	p += ich_fmt_u64(p, b->block_size);
	ICH_PUT_LIT(p, ",\"unused\":");
	p += ich_fmt_u64(p, b->unused);
	ICH_PUT_LIT(p, ",\"state\":\"");
	if (!put_name(&p, end, ich_block_state_name(b->state)))
		return false;
	ICH_PUT_LIT(p, "\",\"layer\":\"");
	if (!put_name(&p, end, ich_block_layer_name(b->layer)))
		return false;
	*p++ = '"';
	if (where) {
		ICH_PUT_LIT(p, ",\"");
		if (!put_name(&p, end, where))
			return false;
		ICH_PUT_LIT(p, "\":\"0x");
		p += ich_fmt_hex(p, segment, 1);
		*p++ = '"';
	}
	*p++ = '}';
	t->len = (size_t)(p - t->text);
	t->size = b->size;
	t->block_size = b->block_size;
	t->unused = b->unused;
	t->segment = segment;
	t->state = b->state;
	t->layer = b->layer;
	t->valid = true;
	return true;
}

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
	const char *where = ich_json_block_where_key(b);
	uint64_t segment = where ? b->segment : 0;	/* in the text only with a where-key */
	uint64_t hsh = (b->size * 31 + b->block_size * 7 + b->unused + segment + (uint64_t)b->state * 5 +
			(uint64_t)b->layer * 13) * 0x9E3779B97F4A7C15ull;
	struct leak_tail *t = &c->tails[hsh >> 60];
	if (!t->valid || t->size != b->size || t->block_size != b->block_size || t->unused != b->unused ||
	    t->segment != segment || t->state != b->state || t->layer != b->layer) {
		if (!leak_tail_render(t, b, where, segment)) {
			t->valid = false;
			leak_json_fields(c->j, l);
			return NULL;
		}
	}
	if (!c->have_head || c->heap != l->heap) {
		char *p = c->head;
		ICH_PUT_LIT(p, "{\"heap\":\"0x");
		p += ich_fmt_hex(p, l->heap, 1);
		ICH_PUT_LIT(p, "\",\"header\":\"0x");
		c->nhead = (size_t)(p - c->head);
		c->heap = l->heap;
		c->have_head = true;
	}
	char *o = ich_json_raw_begin(c->j, LEAK_HEAD_MAX + 16 + 12 + 16 + LEAK_TAIL_MAX), *p = o;
	memcpy(p, c->head, LEAK_HEAD_MAX);	/* fixed size: past nhead is scratch */
	p += c->nhead;
	p += ich_fmt_hex(p, b->header, 1);
	ICH_PUT_LIT(p, "\",\"user\":\"0x");
	p += ich_fmt_hex(p, b->user, 1);
	memcpy(p, t->text, t->len);
	p += t->len;
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
