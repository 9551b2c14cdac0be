/* SPDX-License-Identifier: MIT */
/*
 * heap -l: leaked blocks (src/heap/leak.c does the work).  Text follows the
 * modern WinDbg sample heap-l__allinone-codeframework-cppresourceleaks_x86.txt
 * (windbg-output README §8): "Searching the memory for potential unreachable
 * busy blocks.", "Heap %p" per heap, "Scanning VM ...", "Scanning references
 * from %d busy blocks (%d MBytes) ....", the -x table (x64 widths from the
 * -x samples), a blank line and "%d potential unreachable blocks were
 * detected.".  The older docs sample ends "%d leaks detected." instead.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/leak.h>

#include "cli/cli.h"
#include "cli/heap_ext.h"
#include "core/fmt.h"
#include "core/json.h"
#include "core/out.h"
#include "cli/records.h"

#define P(x) (unsigned long long)(x)

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

/* The column heads and rule of WinDbg's block table (!heap -l, !heap -x). */
void heap_entry_table_header(int w)
{
	if (w == 16) {
		printf("Entry             User              Heap              Segment               Size  PrevSize  Unused    Flags\n");
		for (int i = 0; i < 109; i++)
			putchar('-');
	} else {
		printf("Entry     User      Heap      Segment       Size  PrevSize  Unused    Flags\n");
		for (int i = 0; i < 77; i++)
			putchar('-');
	}
	putchar('\n');
}

/* One leak as a JSON object of the "leaks" array. */
static struct ich_error *json_leak(const struct ich_leak *l, void *arg)
{
	struct ich_json *j = arg;
	ich_json_begin_object(j, NULL);
	ich_json_addr(j, "heap", l->heap);
	ich_json_block_fields(j, &l->block);	/* the block record */
	ich_json_end_object(j);
	return NULL;
}

struct text_lines {
	struct ich_out *out;
	unsigned w;
	/* the line after the User column, kept from the last leak: the
	 * blocks of one run (an LFH container's) share heap, segment, sizes
	 * and flags, so most lines copy it instead of formatting five
	 * numbers again */
	bool have;
	uint64_t heap, segment, block_size, prev_size, unused;
	enum ich_block_layer layer;
	uint8_t flags;
	size_t ntail;
	char tail[160];
};

/* The columns after User ("  Heap  Segment  Size  PrevSize  Unused
 * Flags\n") of leak l into t->tail. */
static void text_tail(struct text_lines *t, const struct ich_leak *l)
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
 * buffered writer: a dump whose blocks are all unreferenced prints
 * millions (issue 12). */
static struct ich_error *text_leak(const struct ich_leak *l, void *arg)
{
	struct text_lines *t = arg;
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

int heap_leaks(struct heap_ext *x)
{
	struct ich_leak_result r;
	struct ich_leak_scan *scan;
	if (!x->j) {
		printf("Searching the memory for potential unreachable busy blocks.\n");
		for (size_t i = 0; i < ich_heaps_count(x->h); i++) {
			struct ich_heap *hp = ich_heaps_get(x->h, i);
			if (hp->status == ICH_HEAP_OK)
				printf("Heap %0*llx\n", x->w, P(hp->address));
		}
		printf("Scanning VM ...\n");
		fflush(stdout);
	}
	/* the scan keeps each block's user range only; the leaks' records
	 * come from a second walk, written out as they come */
	struct ich_error *err = ich_heap_leak_scan(x->h, &scan, &r);
	if (err)
		return ich_cli_fail(err);
	if (x->j) {
		ich_json_u64(x->j, "busy_blocks", r.busy_blocks);
		ich_json_u64(x->j, "busy_bytes", r.busy_bytes);
		ich_json_u64(x->j, "root_bytes_scanned", r.root_bytes);
		ich_json_u64(x->j, "block_bytes_scanned", r.block_bytes);
		ich_json_u64(x->j, "heaps_walked", r.heaps_walked);
		ich_json_u64(x->j, "heaps_skipped", r.heaps_skipped);
		ich_json_u64(x->j, "leak_count", r.nleaks);
		ich_json_begin_array(x->j, "leaks");
		err = ich_leak_scan_each(scan, json_leak, x->j);
		ich_json_end_array(x->j);
	} else {
		printf("Scanning references from %llu busy blocks (%llu MBytes) ....\n", P(r.busy_blocks),
		       P(r.busy_bytes >> 20));
		heap_entry_table_header(x->w);
		struct ich_out *out = malloc(sizeof(*out));
		if (!out) {
			ich_leak_scan_free(scan);
			return ich_cli_fail(&ich_enomem);
		}
		ich_out_init(out, stdout);
		struct text_lines t = { .out = out, .w = (unsigned)x->w };
		err = ich_leak_scan_each(scan, text_leak, &t);
		ich_out_flush(out);
		free(out);
		if (!err) {
			printf("\n%zu potential unreachable blocks were detected.\n", r.nleaks);
			if (x->verbose)
				printf("(scanned %llu bytes of roots outside the heaps, %llu bytes of thread contexts, %llu bytes of reachable blocks; %zu heaps walked, %zu not walkable)\n",
				       P(r.root_bytes), P(r.context_bytes), P(r.block_bytes), r.heaps_walked,
				       r.heaps_skipped);
		}
	}
	ich_leak_scan_free(scan);
	if (err)
		return ich_cli_fail(err);
	return r.nleaks ? ICH_EXIT_FINDINGS : ICH_EXIT_OK;
}
