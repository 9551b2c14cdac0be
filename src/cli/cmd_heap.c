/* SPDX-License-Identifier: MIT */
/*
 * icpheap heap [OPTIONS] DUMP — WinDbg's !heap on the process heaps of a
 * user-mode dump.  Layouts of the text follow the verbatim samples in
 * ../shared/reference/windbg-output (README §1 -s, §3 list, §4 -a, §7-8
 * -x/-flt/-stat, §10 -i); where WinDbg needs symbols icpheap cannot have
 * (LFH key, termination on corruption) the line says so instead.
 *
 *   (none)            heap list             -s [HEAP]        summary table
 *   -a|-h [HEAP]      entries               -m [HEAP]        segments
 *   -f [HEAP]         free blocks           -i ADDR          one block in detail
 *   -x [-v] ADDR      block holding ADDR    -v               validate
 *   -flt s SIZE | -flt r MIN MAX            -stat [-h HEAP] [-grp A|B|S] [MAX]
 *   -srch [-b|-w|-d|-q] PATTERN
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/minidump.h>

#include "cli/cli.h"
#include "core/bits.h"
#include "cli/heap_ext.h"
#include "cli/listing.h"
#include "cli/cli_process.h"
#include "cli/parse_options.h"
#include "core/fmt.h"
#include "core/json.h"
#include "core/out.h"
#include "cli/records.h"

/*
 * !heap -?: the extension's own short help.  Its first lines are WinDbg's
 * (windbg-output heap-help sample, cut off after "-triage"); the rest lists
 * icpheap's options in the same shape, since the original text is unknown.
 */
static const char heap_help[] =
"Platform dependent usage:             \n"
"THIS EXTENSION SUPPORTS THE SEGMENT HEAP AND THE NT HEAP\n"
"run !heap with no parameter to list all heaps and their type\n"
"Commands that work with the new heap and the old heap:\n"
"  -s        displays summary information for the specified heap(s).\n"
"            type !heap -s -? for detailed options\n"
"  -triage   automatically searches for failures in the process's heaps.\n"
"            if a heap handle is specified as an argument, that heap is\n"
"            examined; otherwise, all the heaps are examined.\n"
"  -x [-v] address   the heap block containing address (-v: pointers to it)\n"
"  -i address        one block in detail; -i heap sets the heap context\n"
"  -stat [-h heap [-grp A|B|S [MaxDisplay]]]   allocations grouped by size\n"
"  -flt s size | -flt r min max                 busy blocks of those sizes\n"
"  -srch [-b|-w|-d|-q] pattern                  busy blocks holding pattern\n"
"  -p [-h heap|-a address|-all]                 page heap\n"
"  -l        leaked (unreachable) busy blocks\n"
"Commands that work with the NT heap:\n"
"  -a|-h [heap]      every entry (-a adds free lists and segments)\n"
"  -H l [heap]       every entry including the LFH entries\n"
"  -f|-m [heap]      free blocks | segments\n"
"  -v [heap]         validate (0 or no heap: every heap)\n"
"A heap given as 0 means every heap.  Breakpoints (-b -B -E -D -e -d) need a\n"
"live process; tag tables (-t -T -g) and per-entry stacks (-k) are refused\n"
"with the reason.\n";

static const char heap_s_help[] =
"!heap -s [SummaryOptions] [StatHeapAddress]\n"
"  SummaryOptions (case-insensitive):\n"
"  -v              validate every block of the heaps summarized\n"
"  -b BucketSize   busy blocks grouped in buckets of BucketSize bytes\n"
"  -d DumpBlockSize  list the busy blocks of at least DumpBlockSize bytes\n"
"  -a              every block of the heaps summarized\n"
"  -c              with -a: the first bytes of each busy block\n"
"  -h heap         the summary of that heap (0: every heap)\n";

enum mode { M_LIST, M_SUMMARY, M_ENTRIES, M_SEGMENTS, M_FREE, M_INFO, M_FIND,
	    M_FILTER, M_STAT, M_SEARCH, M_VALIDATE,
	    M_PAGE_LIST, M_PAGE_ADDR, M_PAGE_HELP, M_LEAKS, M_TRIAGE,
	    M_HELP, M_SUMMARY_HELP, M_TAGS };

struct opts {
	enum mode mode;
	bool json, verbose_find;
	bool lfh_entries;	/* -H l: LFH entries in the -a/-h text */
	bool verbose;		/* -v / --verbose given as a global option */
	bool have_heap;
	uint64_t heap;		/* -s/-a/-h/-m/-f/-stat -h HEAP, -p -h */
	bool page_all;		/* -p -all */
	bool triage_target;	/* -triage HEAP|ADDR (in addr) */
	uint64_t addr;		/* -i, -x */
	uint64_t min, max;	/* -flt */
	char grp;		/* S, A, B */
	unsigned stat_max;
	unsigned pattern_width;	/* 1, 2, 4, 8 or 0 = string */
	uint8_t pattern[256];
	size_t pattern_len;
	const char *dump;
	/* -s SummaryOptions (!heap docs): -v -b BucketSize -d DumpBlockSize -a -c */
	bool sum_validate, sum_all, sum_contents;
	uint64_t sum_bucket, sum_dump_size;
	bool all_zero;		/* the heap was given as 0: every heap */
	bool have_addr, have_pos;
	uint64_t pos;		/* a bare address (!heap ADDR -x) */
	const char *tag_opt;	/* -t -T -g -k */
	struct ich_cli_process_sel sel;	/* --pid, --process */
};

struct ctx {
	struct opts *o;
	struct ich_dump *dump;
	struct ich_heaps *h;
	int w;			/* pointer digits */
	unsigned unit;
	struct ich_json *j;
	bool verbose;		/* global -v */
};

#define P(x) (unsigned long long)(x)

/* ---------------------------------------------------------------- list */

/* Ranges the dump cannot show (paged out, demand-zero...): not corruption. */
static void print_unreadable(const struct ich_heap *hp, int w)
{
	for (size_t i = 0; i < hp->nunreadable; i++) {
		const struct ich_heap_unreadable *u = &hp->unreadable[i];
		printf("    UNREADABLE %0*llx - %0*llx: page %0*llx %s", w, P(u->address), w, P(u->end), w,
		       P(u->page), ich_miss_reason_str(u->why));
		if (u->pte)
			printf(" (PTE %llx)", P(u->pte));
		printf("%s\n", u->resynced ? "" : "; the rest of the run is unknown");
	}
}

static size_t notes_shown;

/* Notes not printed yet (the walks add some: segment-heap key routes). */
static void print_notes(struct ctx *c)
{
	for (size_t i = notes_shown; i < ich_heaps_note_count(c->h); i++)
		printf("note: %s\n", ich_heaps_note(c->h, i));
	notes_shown = ich_heaps_note_count(c->h);
}

static void print_unwalkable(struct ctx *c)
{
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (hp->status != ICH_HEAP_OK)
			printf("%s\n", hp->reason);
	}
}

static struct ich_error *json_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	ich_json_block(arg, b);
	return NULL;
}

static bool selected(struct ctx *c, const struct ich_heap *hp)
{
	return !c->o->have_heap || hp->address == c->o->heap;
}

/* Walk every selected, walkable heap once (totals, problems). */
static int walk_all(struct ctx *c, ich_heap_block_fn *fn, void *arg)
{
	int rc = ICH_EXIT_OK;
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp) || hp->status != ICH_HEAP_OK)
			continue;
		struct ich_error *err = ich_heap_walk(c->h, hp, fn, arg);
		if (err) {
			rc = ich_cli_worst(rc, ich_cli_fail(err));
		}
	}
	return rc;
}

static int do_list(struct ctx *c)
{
	if (c->j) {
		ich_json_begin_array(c->j, "heaps");
		for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
			ich_json_begin_object(c->j, NULL);
			ich_json_heap_head(c->j, ich_heaps_get(c->h, i));
			ich_json_end_object(c->j);
		}
		ich_json_end_array(c->j);
		return ICH_EXIT_OK;
	}
	printf("        Heap Address      NT/Segment Heap\n\n");
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		printf("%20llx%21s\n", P(hp->address),
		       hp->kind == ICH_HEAP_KIND_SEGMENT ? "Segment Heap" :
		       hp->kind == ICH_HEAP_KIND_NT ? "NT Heap" :
		       hp->kind == ICH_HEAP_KIND_PAGE ? "Page Heap" : "(not captured)");
	}
	print_unwalkable(c);
	return ICH_EXIT_OK;
}

/* ------------------------------------------------------------- summary */

/*
 * The segment-heap table WinDbg prints before the NT banner (windbg-output
 * README §2; the only capture is a PDF table, so the columns and values
 * are WinDbg's but the widths are icpheap's): Heap Address (no leading
 * zeros), Signature, Global Flags, Process Heap List Index, Total Reserved
 * and Total Committed Bytes (K), decimal.
 */
static void print_segment_table(struct ctx *c)
{
	size_t n = 0;
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp) || hp->kind != ICH_HEAP_KIND_SEGMENT || hp->status != ICH_HEAP_OK)
			continue;
		if (!n++) {
			printf("                                          Process      Total          Total\n");
			printf("    Heap Address Signature Global Flags Heap List Index Reserved Bytes (K) Committed Bytes (K)\n");
		}
		uint32_t idx;
		if (!ich_heap_segment_info(c->h, hp, &idx))
			idx = (uint32_t)i + 1;	/* position in PEB.ProcessHeaps */
		printf("%16llx  %08x %12x %15u %18llu %19llu\n", P(hp->address), 0xDDEEDDEEu, hp->flags, idx,
		       P(hp->totals.reserved / 1024), P(hp->totals.committed / 1024));
		if (hp->partial)
			printf("    (partial: %zu problems, see heap -v)\n", hp->nproblems);
	}
}

static int do_entries(struct ctx *c, bool free_only);
static void print_problems(struct ich_heap *hp, int w);

struct bucket_ctx {
	struct ctx *c;
	uint64_t *count, *bytes;
	size_t n;
	bool header;
};

/* -s -b: busy blocks in buckets of BucketSize bytes; -s -d: busy blocks of
 * DumpBlockSize bytes or more, one -flt row each.  WinDbg's text for these
 * was not found (windbg-output README §1): the shapes are icpheap's. */
static struct ich_error *bucket_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct bucket_ctx *k = arg;
	struct ctx *c = k->c;
	if (b->state != ICH_BLOCK_BUSY)
		return NULL;
	if (k->count) {
		size_t i = (size_t)(b->size / c->o->sum_bucket);
		if (i >= k->n)
			i = k->n - 1;
		k->count[i]++;
		k->bytes[i] += b->size;
		return NULL;
	}
	if (b->size < c->o->sum_dump_size)
		return NULL;
	if (!k->header) {
		k->header = true;
		printf("    _HEAP @ %llx: busy blocks of 0x%llx bytes or more\n", P(hp->address), P(c->o->sum_dump_size));
	}
	printf("        %0*llx %04llx %04llx  [%02x]   %0*llx    %05llx - (busy)\n", c->w, P(b->header),
	       P(b->block_size / c->unit), P(b->prev_size / c->unit), 0u,	/* as -flt */
	       c->w, P(b->user), P(b->size));
	return NULL;
}

/* The -s SummaryOptions after the table: -v, -b, -d, -a (-c). */
static int summary_options(struct ctx *c, int rc)
{
	const struct opts *o = c->o;
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp) || hp->status != ICH_HEAP_OK)
			continue;
		if (o->sum_validate) {
			printf("Validating heap %0*llx: %zu problems\n", c->w, P(hp->address), hp->nproblems);
			print_problems(hp, c->w);
			if (hp->nproblems)
				rc = ich_cli_worst(rc, ICH_EXIT_FINDINGS);
		}
		if (o->sum_bucket) {
			enum { NB = 64 };
			uint64_t count[NB] = { 0 }, bytes[NB] = { 0 };
			struct bucket_ctx k = { c, count, bytes, NB, false };
			struct ich_error *err = ich_heap_walk(c->h, hp, bucket_cb, &k);
			if (err) {
				rc = ich_cli_worst(rc, ich_cli_fail(err));
				continue;
			}
			printf(" heap @ %0*llx: busy blocks by size, buckets of 0x%llx bytes\n", c->w, P(hp->address),
			       P(o->sum_bucket));
			for (size_t b = 0; b < NB; b++) {
				if (!count[b])
					continue;
				if (b == NB - 1)
					printf("    %8llx -      ...: %llu blocks, 0x%llx bytes\n", P(b * o->sum_bucket),
					       P(count[b]), P(bytes[b]));
				else
					printf("    %8llx - %8llx: %llu blocks, 0x%llx bytes\n", P(b * o->sum_bucket),
					       P((b + 1) * o->sum_bucket - 1), P(count[b]), P(bytes[b]));
			}
		}
		if (o->sum_dump_size) {
			struct bucket_ctx k = { c, NULL, NULL, 0, false };
			struct ich_error *err = ich_heap_walk(c->h, hp, bucket_cb, &k);
			if (err)
				rc = ich_cli_worst(rc, ich_cli_fail(err));
		}
	}
	if (o->sum_all)
		rc = ich_cli_worst(rc, do_entries(c, false));
	return rc;
}

static int do_summary(struct ctx *c)
{
	int rc = walk_all(c, NULL, NULL);
	if (c->j) {
		ich_json_begin_array(c->j, "heaps");
		for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
			struct ich_heap *hp = ich_heaps_get(c->h, i);
			if (!selected(c, hp))
				continue;
			ich_json_begin_object(c->j, NULL);
			ich_json_heap_head(c->j, hp);
			ich_json_heap_tail(c->j, hp);
			ich_json_end_object(c->j);
		}
		ich_json_end_array(c->j);
		return rc;
	}
	bool x64 = c->w == 16;
	const char *pad = x64 ? "        " : "";
	int rule = x64 ? 85 : 77;
	print_segment_table(c);
	printf("\n\n");
	for (int i = 0; i < 120; i++)
		putchar('*');
	printf("\n%46s%s\n", "", "NT HEAP STATS BELOW");
	for (int i = 0; i < 120; i++)
		putchar('*');
	putchar('\n');
	uint32_t gf;
	if (ich_heaps_global_flag(c->h, &gf) && (gf & 0x1000)) {
		printf("NtGlobalFlag enables following debugging aids for new heaps:\n");
		printf("    stack back traces\n");
	}
	uint64_t key;
	/* WinDbg: "0x%016I64x" on x64, "0x%08x" on x86 (windbg-output §1.2);
	 * when only the low half is known (x64 key not found in ntdll's data)
	 * the line says so. */
	if (ich_heaps_lfh_key(c->h, &key) && ich_heaps_lfh_key_bits(c->h) == 64 && x64)
		printf("LFH Key                   : 0x%016llx\n", P(key));
	else if (ich_heaps_lfh_key(c->h, &key) && !x64)
		printf("LFH Key                   : 0x%08llx\n", P(key & 0xFFFFFFFFu));
	else if (ich_heaps_lfh_key(c->h, &key))
		printf("LFH Key                   : 0x%0*llx (low %u bits, recovered from the LFH)\n",
		       (int)ich_heaps_lfh_key_bits(c->h) / 4, P(key), ich_heaps_lfh_key_bits(c->h));
	else
		printf("LFH Key                   : unknown (no symbols; recovered only from LFH UserBlocks)\n");
	printf("Termination on corruption : unknown (needs ntdll symbols)\n");
	printf("%s  Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast \n", pad);
	printf("%s                    (k)     (k)    (k)     (k) length      blocks cont. heap \n", pad);
	for (int i = 0; i < rule; i++)
		putchar('-');
	putchar('\n');
	size_t shown = 0;
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp) || hp->status != ICH_HEAP_OK || hp->kind != ICH_HEAP_KIND_NT)
			continue;
		const struct ich_heap_totals *t = &hp->totals;
		/* Free (k) is _HEAP.TotalFreeSize, as -a's "Total Free Size"
		 * (the two agree); the walked free blocks when it is unknown */
		uint64_t free_bytes = t->backend_free_bytes;
		struct ich_heap_info in;
		struct ich_error *ierr = ich_heap_info(c->h, hp, &in);
		if (!ierr && (in.have & ICH_HI_TOTAL_FREE))
			free_bytes = in.total_free_size * c->unit;
		ich_error_destroy(ierr);
		printf("%0*llx %08x %7llu %6llu %6llu %6llu %5llu %5llu %4llu %6x   %s\n", c->w,
		       P(hp->address), hp->flags, P(t->reserved / 1024), P(t->committed / 1024),
		       P(t->virt / 1024), P(free_bytes / 1024), P(t->backend_free_count), P(t->ucr_count),
		       P(t->virtual_blocks), 0, hp->lfh ? "LFH" : "   ");
		if (t->committed && free_bytes * 100 / t->committed >= 30)
			printf("    External fragmentation  %llu %% (%llu free blocks)\n",
			       P(free_bytes * 100 / t->committed), P(t->backend_free_count));
		if (hp->partial && c->o->verbose)	/* not a WinDbg line */
			printf("    (partial: %zu problems, %zu unreadable ranges, see heap -v)\n", hp->nproblems,
			       hp->nunreadable);
		shown++;
	}
	if (!shown)
		printf("No heaps to display.\n");
	for (int i = 0; i < rule; i++)
		putchar('-');
	putchar('\n');
	print_unwalkable(c);
	return summary_options(c, rc);
}

/* ------------------------------------------------------------- entries */

struct entries_ctx {
	struct ctx *c;
	uint64_t segment;
	int seg_index;
	const struct ich_heap_segment *seg;
	size_t next_ucr;
	bool free_only;
	/* the listing's lines (text): one buffered writer, no stdio call per
	 * block (issue 12); flushed before anything else prints */
	struct ich_out *out;
};

static void print_ucrs_before(struct entries_ctx *e, uint64_t upto)
{
	while (e->seg && e->next_ucr < e->seg->nucr && e->seg->ucr[e->next_ucr].address < upto) {
		ich_out_printf(e->out, "        %0*llx:      %08llx      - uncommitted bytes.\n", e->c->w,
			       P(e->seg->ucr[e->next_ucr].address), P(e->seg->ucr[e->next_ucr].size));
		e->next_ucr++;
	}
}

static struct ich_error *entry_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct entries_ctx *e = arg;
	struct ctx *c = e->c;
	if (e->free_only && b->state != ICH_BLOCK_FREE)
		return NULL;
	/* JSON: every block of every layer (LFH busy and free blocks with
	 * their container, large blocks by their BusyBlock). */
	if (c->j)
		return json_block(hp, b, c->j);
	/* Text: WinDbg's -a/-h show an LFH container as one Internal block;
	 * -H l lists its entries after it. */
	if (b->layer == ICH_LAYER_LFH && !c->o->lfh_entries)
		return NULL;
	if (b->layer == ICH_LAYER_VIRTUAL) {
		print_ucrs_before(e, UINT64_MAX);
		e->seg = NULL;
		ich_out_printf(e->out, "    Virtual block: %0*llx - %0*llx (size %0*llx) - busy (%llx)\n", c->w,
			       P(b->segment), c->w, P(b->segment + b->block_size), c->w, P(b->block_size), P(b->size));
		return NULL;
	}
	if (b->layer == ICH_LAYER_LFH) {
		char *o = ich_out_room(e->out, ICH_LINE_ROOM);
		ich_out_commit(e->out, ich_lfh_line(o, c->w, b));
		return NULL;
	}
	if (b->segment != e->segment) {
		print_ucrs_before(e, UINT64_MAX);
		e->segment = b->segment;
		e->seg_index = -1;
		e->seg = NULL;
		for (size_t s = 0; s < hp->nsegments; s++)
			if (hp->segments[s].base == b->segment) {
				e->seg_index = (int)s;
				e->seg = &hp->segments[s];
			}
		e->next_ucr = 0;
		ich_out_printf(e->out, "\n    Heap entries for Segment%02d in Heap %0*llx\n", e->seg_index, c->w,
			       P(hp->address));
		ich_out_printf(e->out, "                 address: psize . size  flags   state (requested size)\n");
	}
	print_ucrs_before(e, b->header);
	/* "        %0*llx: %05llx . %05llx [%03x] - busy (%llx)[ Internal ]",
	 * built without printf: one line per block over millions (issue 12).
	 * A free entry ends at its flags, as in WinDbg's -a (windbg-output
	 * heap-a x64 sample: "000002b0a3b90850: 00110 . 01770 [100]"). */
	char *o = ich_out_room(e->out, 160), *p = o;
	p += ich_entry_head(p, c->w, b->header, b->prev_size, b->block_size, b->flags);
	if (b->state == ICH_BLOCK_CORRUPT) {
		ICH_PUT_LIT(p, " - corrupt (header fails its checks; see heap -v)");
	} else if (b->state != ICH_BLOCK_FREE) {
		ICH_PUT_LIT(p, " - busy (");
		p += ich_fmt_hex(p, b->size, 1);
		*p++ = ')';
		if (b->state == ICH_BLOCK_INTERNAL)
			ICH_PUT_LIT(p, " Internal ");
	}
	*p++ = '\n';
	ich_out_commit(e->out, (size_t)(p - o));
	/* -s -a -c: the contents of each busy block (its first 16 bytes):
	 * "            %0*llx " and " %02x" per byte */
	if (c->o->sum_contents && b->state == ICH_BLOCK_BUSY) {
		static const char hx[] = "0123456789abcdef";
		uint8_t buf[16];
		size_t n = b->size < 16 ? (size_t)b->size : 16;
		n = ich_as_read(ich_dump_as(c->dump), b->user, buf, n, NULL);
		o = ich_out_room(e->out, 128);
		p = o;
		ICH_PUT_LIT(p, "            ");
		p += ich_fmt_hex(p, b->user, (unsigned)c->w);
		*p++ = ' ';
		for (size_t k = 0; k < n; k++) {
			*p++ = ' ';
			*p++ = hx[buf[k] >> 4];
			*p++ = hx[buf[k] & 0xF];
		}
		*p++ = '\n';
		ich_out_commit(e->out, (size_t)(p - o));
	}
	return NULL;
}

/* One FreeLists entry, as WinDbg's -a prints it under "FreeList[ 00 ]". */
static struct ich_error *freelist_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct ctx *c = arg;
	printf("        %0*llx: %05llx . %05llx [%x] - free\n", c->w, P(b->header), P(b->prev_size),
	       P(b->block_size), 0x100u | b->flags);
	return NULL;
}

/*
 * The heap header of !heap -a/-h (windbg-output heap-a x64 sample, README
 * §4): the label block (values from the _HEAP fields, %08x; Max.
 * Allocation Size and Lock Variable at pointer width; list heads without
 * leading zeros), the uncommitted ranges, FreeList[ 00 ] with its entries,
 * then one SegmentNN block per segment (its address and First Entry are
 * printed truncated to 32 bits, as WinDbg does, 8 digits on x86).
 */
static void print_heap_head(struct ctx *c, size_t index, struct ich_heap *hp)
{
	printf("Index   Address  Name      Debugging options enabled\n");
	/* x64: no leading zeros (heap-a x64 sample); x86: 8 digits (heap-h
	 * x86 sample, the old index list) */
	printf("%3zu:   %0*llx \n", index + 1, c->w == 16 ? 0 : 8, P(hp->address));
	for (size_t s = 0; s < hp->nsegments; s++) {
		const struct ich_heap_segment *sg = &hp->segments[s];
		printf("    Segment at %0*llx to %0*llx (%08llx bytes committed)\n", c->w, P(sg->base),
		       c->w, P(sg->base + (uint64_t)sg->pages * 0x1000),
		       P((uint64_t)(sg->pages - sg->uncommitted_pages) * 0x1000));
	}
	struct ich_heap_info in;
	struct ich_error *err = ich_heap_info(c->h, hp, &in);
	ich_error_destroy(err);
	char v[40];
#define FIELD(bit, fmt, val) (snprintf(v, sizeof(v), (in.have & (bit)) ? fmt : "(not captured)", val), v)
	printf("    Flags:                %08x\n", hp->flags);
	printf("    ForceFlags:           %08x\n", hp->force_flags);
	printf("    Granularity:          %u bytes\n", c->unit);
	if (c->o->verbose)
		printf("    Layout:               ntdll %s %u (%s)%s%s\n", ich_arch_name(hp->layout->arch),
		       hp->layout->build_min, hp->layout->label, hp->layout_fallback ? " [fallback]" : "",
		       hp->layout->derived ? " [derived]" : "");
	printf("    Segment Reserve:      %s\n", FIELD(ICH_HI_RESERVE, "%08llx", P(in.segment_reserve)));
	printf("    Segment Commit:       %s\n", FIELD(ICH_HI_COMMIT, "%08llx", P(in.segment_commit)));
	printf("    DeCommit Block Thres: %s\n", FIELD(ICH_HI_DECOMMIT_BLOCK, "%08llx", P(in.decommit_block_thres)));
	printf("    DeCommit Total Thres: %s\n", FIELD(ICH_HI_DECOMMIT_TOTAL, "%08llx", P(in.decommit_total_thres)));
	printf("    Total Free Size:      %s\n", FIELD(ICH_HI_TOTAL_FREE, "%08llx", P(in.total_free_size)));
	printf("    Max. Allocation Size: %s\n", FIELD(ICH_HI_MAX_ALLOC, c->w == 16 ? "%016llx" : "%08llx",
							  P(in.max_allocation_size)));
	printf("    Lock Variable at:     %s\n", FIELD(ICH_HI_LOCK, c->w == 16 ? "%016llx" : "%08llx", P(in.lock_variable)));
	printf("    Next TagIndex:        %s\n", FIELD(ICH_HI_TAGS, "%04llx", P(in.next_tag_index)));
	printf("    Maximum TagIndex:     %s\n", FIELD(ICH_HI_TAGS, "%04llx", P(in.max_tag_index)));
	printf("    Tag Entries:          %s\n", FIELD(ICH_HI_TAG_ENTRIES, "%08llx", P(in.tag_entries)));
	printf("    PsuedoTag Entries:    %s\n", FIELD(ICH_HI_PSEUDO_TAGS, "%08llx", P(in.pseudo_tag_entries)));
#undef FIELD
	printf("    Virtual Alloc List:   %llx\n", P(in.virtual_alloc_list));
	printf("    Uncommitted ranges:   %llx\n", P(in.ucr_list));
	for (size_t s = 0; s < hp->nsegments; s++)
		for (size_t u = 0; u < hp->segments[s].nucr; u++)
			printf("            %llx: %08llx  (%llu bytes)\n", P(hp->segments[s].ucr[u].address),
			       P(hp->segments[s].ucr[u].size), P(hp->segments[s].ucr[u].size));
	if (in.have & ICH_HI_FREE_LISTS) {
		printf("    FreeList[ 00 ] at %0*llx: %0*llx . %0*llx  \n", c->w, P(in.free_lists), c->w,
		       P(in.free_lists_flink), c->w, P(in.free_lists_blink));
		err = ich_heap_free_list(c->h, hp, freelist_cb, c);
		if (err && c->o->verbose)	/* not a WinDbg line */
			printf("        (free list: %s)\n", err->message);
		ich_error_destroy(err);
	}
	for (size_t s = 0; s < hp->nsegments; s++) {
		const struct ich_heap_segment *sg = &hp->segments[s];
		size_t nucr = sg->nucr;
		printf("\n    Segment%02zu at %08llx:\n", s, P(sg->base & 0xFFFFFFFFu));
		printf("        Flags:           %08x\n", sg->flags);
		printf("        Base:            %llx\n", P(sg->base));
		printf("        First Entry:     %08llx\n", P(sg->first_entry & 0xFFFFFFFFu));
		printf("        Last Entry:      %llx\n", P(sg->last_valid_entry));
		printf("        Total Pages:     %08x\n", sg->pages);
		printf("        Total UnCommit:  %08x\n", sg->uncommitted_pages);
		/* _HEAP_SEGMENT has had no LargestUnCommittedRange since Vista;
		 * WinDbg prints 0 (heap-a x64 sample, with one UCR present) */
		printf("        Largest UnCommit:%08x\n", 0u);
		printf("        UnCommitted Ranges: (%zu)\n", nucr);
	}
}

/* Segment heaps under -a/-h: WinDbg's list shape, one line per block of
 * every layer (VS, LFH, backend ranges, large), the layer named. */
static void print_seg_heap_head(struct ctx *c, size_t index, struct ich_heap *hp)
{
	printf("Index   Address  Name      Debugging options enabled\n");
	printf("%3zu:   %llx \n", index + 1, P(hp->address));
	printf("    Segment heap (signature ddeeddee), Global Flags %08x, %u-byte granularity\n", hp->flags, c->unit);
	for (size_t s = 0; s < hp->nsegments; s++) {
		const struct ich_heap_segment *sg = &hp->segments[s];
		printf("    Page segment at %016llx to %016llx\n", P(sg->base), P(sg->last_valid_entry));
	}
	printf("    Total Reserved:       %08llx\n", P(hp->totals.reserved));
	printf("    Total Committed:      %08llx\n", P(hp->totals.committed));
	printf("    Large allocations:    %llu\n", P(hp->totals.virtual_blocks));
}

static struct ich_error *seg_entry_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct entries_ctx *e = arg;
	struct ctx *c = e->c;
	if (e->free_only && b->state != ICH_BLOCK_FREE)
		return NULL;
	if (b->segment != e->segment && b->layer != ICH_LAYER_SEG_LARGE) {
		e->segment = b->segment;
		ich_out_printf(e->out, "\n    Heap entries for %s 0x%llx in Heap %0*llx\n",
			       b->layer == ICH_LAYER_SEG_VS ? "VS subsegment" : b->layer == ICH_LAYER_SEG_LFH ? "LFH subsegment" : "page segment",
			       P(b->segment), c->w, P(hp->address));
		ich_out_printf(e->out, "                 address: psize . size  flags   state (requested size)\n");
	}
	char *o = ich_out_room(e->out, ICH_LINE_ROOM);
	ich_out_commit(e->out, ich_seg_line(o, c->w, b));
	return NULL;
}

/* entry_cb's lines of an NT heap's run (LFH entries, -H l). */
static struct ich_error *entry_run_cb(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	struct entries_ctx *e = arg;
	if (r->tmpl.layer != ICH_LAYER_LFH || !e->c->o->lfh_entries || e->free_only || !ich_run_lines_ok(e->c->w, r)) {
		for (size_t i = 0; i < r->count; i++) {
			struct ich_heap_block b;
			ich_heap_run_block(r, i, &b);
			entry_cb(hp, &b, arg);
		}
		return NULL;
	}
	ich_run_lines(e->out, e->c->w, r, ich_lfh_line);
	return NULL;
}

/* seg_entry_cb's lines of a segment heap's run (an LFH subsegment's). */
static struct ich_error *seg_entry_run_cb(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	struct entries_ctx *e = arg;
	if (e->free_only || !ich_run_lines_ok(e->c->w, r) || r->tmpl.layer == ICH_LAYER_SEG_LARGE) {
		for (size_t i = 0; i < r->count; i++) {
			struct ich_heap_block b;
			ich_heap_run_block(r, i, &b);
			seg_entry_cb(hp, &b, arg);
		}
		return NULL;
	}
	/* the subsegment's heading, as seg_entry_cb prints it before its
	 * first block (the run's blocks share segment and layer) */
	struct ich_heap_block b;
	ich_heap_run_block(r, 0, &b);
	if (b.segment != e->segment) {
		seg_entry_cb(hp, &b, arg);
		if (r->count == 1)
			return NULL;
		struct ich_heap_block_run rest = *r;
		rest.tmpl.header += r->stride;
		rest.tmpl.user += r->stride;
		rest.kind++;
		rest.count--;
		ich_run_lines(e->out, e->c->w, &rest, ich_seg_line);
		return NULL;
	}
	ich_run_lines(e->out, e->c->w, r, ich_seg_line);
	return NULL;
}

static void print_problems(struct ich_heap *hp, int w)
{
	for (size_t p = 0; p < hp->nproblems; p++)
		printf("    HEAP PROBLEM at %0*llx: %s\n", w, P(hp->problems[p].address), hp->problems[p].what);
	print_unreadable(hp, w);
}

static int do_entries(struct ctx *c, bool free_only)
{
	int rc = ICH_EXIT_OK;
	struct ich_out *out = c->j ? NULL : malloc(sizeof(*out));
	if (!c->j && !out)
		return ich_cli_fail(&ich_enomem);
	if (out)
		ich_out_init(out, stdout);
	if (c->j)
		ich_json_begin_array(c->j, "heaps");
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp))
			continue;
		if (c->j) {
			ich_json_begin_object(c->j, NULL);
			ich_json_heap_head(c->j, hp);
			if (hp->status == ICH_HEAP_OK)
				ich_json_begin_array(c->j, "blocks");
		}
		if (hp->status != ICH_HEAP_OK) {
			if (c->j)
				ich_json_end_object(c->j);
			else
				printf("%s\n", hp->reason);
			continue;
		}
		struct entries_ctx e = { .c = c, .seg_index = -1, .free_only = free_only, .out = out };
		/* first a walk for the header figures, then the listing (JSON
		 * writes the figures after the blocks: one walk).  An NT heap's
		 * header needs only its segments; its text listing shows an LFH
		 * container as one block, so its LFH blocks are counted but not
		 * handed to entry_cb unless -H l lists them (issue 12). */
		bool seg = hp->kind == ICH_HEAP_KIND_SEGMENT;
		struct ich_error *err = c->j ? NULL : ich_heap_walk_opt(c->h, hp, NULL, NULL, ICH_WALK_SEGMENTS_ONLY);
		if (!err && !c->j)
			(seg ? print_seg_heap_head : print_heap_head)(c, i, hp);
		/* JSON with every block: the writer is the walk's callback
		 * (entry_cb would only pass each block on), and an LFH
		 * container's blocks come as runs (issue 12) */
		if (!err && c->j && !free_only)
			err = ich_heap_walk_runs(c->h, hp, ich_json_block_cb, ich_json_block_run_cb, c->j,
						 ICH_WALK_BACKEND_RUNS);
		else if (!err)
			err = ich_heap_walk_runs(c->h, hp, seg && !c->j ? seg_entry_cb : entry_cb,
						 c->j ? NULL : seg ? seg_entry_run_cb : entry_run_cb, &e,
						 !c->j && !c->o->lfh_entries ? ICH_WALK_NO_LFH_BLOCKS : 0);
		if (!c->j) {
			print_ucrs_before(&e, UINT64_MAX);
			ich_out_flush(out);
			print_problems(hp, c->w);
		}
		if (c->j) {
			ich_json_end_array(c->j);
			ich_json_heap_tail(c->j, hp);
			ich_json_end_object(c->j);
		}
		if (err)
			rc = ich_cli_worst(rc, ich_cli_fail(err));
	}
	if (c->j)
		ich_json_end_array(c->j);
	free(out);
	return rc;
}

static int do_segments(struct ctx *c)
{
	int rc = walk_all(c, NULL, NULL);
	if (c->j)
		return do_summary(c);
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp))
			continue;
		if (hp->status != ICH_HEAP_OK) {
			printf("%s\n", hp->reason);
			continue;
		}
		printf("Heap %0*llx\n", c->w, P(hp->address));
		for (size_t s = 0; s < hp->nsegments; s++) {
			const struct ich_heap_segment *sg = &hp->segments[s];
			printf("    Segment%02zu at %llx:\n", s, P(sg->base));
			printf("        Base:            %llx\n", P(sg->base));
			printf("        First Entry:     %llx\n", P(sg->first_entry));
			printf("        Last Entry:      %llx\n", P(sg->last_valid_entry));
			printf("        Total Pages:     %08x\n", sg->pages);
			printf("        Total UnCommit:  %08x\n", sg->uncommitted_pages);
			printf("        UnCommitted Ranges: (%zu)\n", sg->nucr);
		}
	}
	return rc;
}

/* --------------------------------------------------------- find (-x/-i) */

struct find_ctx {
	uint64_t addr;
	bool found;
	struct ich_heap_block b;
	uint64_t heap;
	/* neighbours, for -i */
	struct ich_heap_block prev, next;
	bool have_prev, want_next, have_next;
};

static struct ich_error *find_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct find_ctx *f = arg;
	if (f->want_next) {
		if (b->layer == f->b.layer) {
			f->next = *b;
			f->have_next = true;
		}
		return &ich_stop;
	}
	/* LFH blocks lie inside an internal block: keep looking inside it */
	/* a large block spans from its VIRTUAL_ALLOC_ENTRY (.segment) */
	/* segment-heap page ranges and large blocks are keyed by metadata that
	 * lies elsewhere (descriptor, _HEAP_LARGE_ALLOC_DATA): their extent is
	 * the user range; a VS/LFH subsegment is a container, like LFH's */
	uint64_t start = b->layer == ICH_LAYER_VIRTUAL ? b->segment :
			 b->layer == ICH_LAYER_SEG_BACKEND || b->layer == ICH_LAYER_SEG_LARGE ? b->user : b->header;
	/* by offset: a block that ends at 2^64 has start + block_size == 0 */
	bool in = f->addr >= start && f->addr - start < b->block_size;
	bool container = b->state == ICH_BLOCK_INTERNAL &&
			 ((hp->lfh && b->layer == ICH_LAYER_BACKEND) || b->layer == ICH_LAYER_SEG_BACKEND);
	if (in && !container) {
		f->found = true;
		f->b = *b;
		f->heap = hp->address;
		f->want_next = true;
		return NULL;
	}
	if (in)
		return NULL;
	if (b->layer == ICH_LAYER_BACKEND && b->header < f->addr) {
		f->prev = *b;
		f->have_prev = true;
	}
	return NULL;
}

static bool find_block(struct ctx *c, uint64_t addr, struct find_ctx *f)
{
	memset(f, 0, sizeof(*f));
	f->addr = addr;
	for (size_t i = 0; i < ich_heaps_count(c->h) && !f->found; i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (hp->status != ICH_HEAP_OK)
			continue;
		f->have_prev = false;
		ich_error_destroy(ich_heap_walk(c->h, hp, find_cb, f));
	}
	return f->found;
}

static void flags_words(const struct ich_heap_block *b, char *out, size_t n)
{
	out[0] = '\0';
	if (b->layer == ICH_LAYER_LFH) {
		snprintf(out, n, "LFH;%s ", b->state == ICH_BLOCK_BUSY ? "busy" : "free");
		return;
	}
	if (b->state == ICH_BLOCK_FREE) {
		snprintf(out, n, "free ");
		return;
	}
	if (b->state == ICH_BLOCK_CORRUPT) {
		snprintf(out, n, "corrupt ");
		return;
	}
	strncat(out, "busy ", n - strlen(out) - 1);
	if (b->flags & 0x02)
		strncat(out, "extra ", n - strlen(out) - 1);
	if (b->flags & 0x04)
		strncat(out, "fill ", n - strlen(out) - 1);
	if (b->layer == ICH_LAYER_VIRTUAL)
		strncat(out, "virtual ", n - strlen(out) - 1);
	if (b->layer >= ICH_LAYER_SEG_VS && b->layer <= ICH_LAYER_SEG_LARGE) {
		strncat(out, ich_block_layer_name(b->layer), n - strlen(out) - 1);
		strncat(out, " ", n - strlen(out) - 1);
	}
	if (b->state == ICH_BLOCK_INTERNAL)
		strncat(out, " internal", n - strlen(out) - 1);
}

/* -x -v: every captured pointer-sized, aligned value inside the block. */
static void search_pointers(struct ctx *c, uint64_t lo, uint64_t hi)
{
	const struct ich_minidump *md = ich_dump_minidump(c->dump);
	struct ich_as *as = ich_dump_as(c->dump);
	unsigned ps = ich_heaps_ptr_size(c->h);
	printf("\nSearch VM for address range %0*llx - %0*llx : ", c->w, P(lo), c->w, P(hi));
	size_t hits = 0;
	for (size_t r = 0; md && r < md->nranges && hits < 1000; r++) {
		const struct ich_md_range *rg = &md->ranges[r];
		uint8_t buf[4096];
		/* by offset in the range (ich_first_aligned_offset: why) */
		for (uint64_t o = ich_first_aligned_offset(rg->start, ps); o + ps <= rg->size && hits < 1000;) {
			uint64_t a = rg->start + o;
			size_t want = rg->size - o < sizeof(buf) ? (size_t)(rg->size - o) : sizeof(buf);
			size_t got = ich_as_read(as, a, buf, want, NULL);
			if (got < ps)
				break;
			for (size_t k = 0; k + ps <= got; k += ps) {
				uint64_t v = 0;
				memcpy(&v, buf + k, ps);
				if (v >= lo && v <= hi) {
					printf("%0*llx (%0*llx), ", c->w, P(a + k), c->w, P(v));
					hits++;
				}
			}
			o += got & ~(size_t)(ps - 1);
		}
	}
	putchar('\n');
}

/* The found block as JSON ({heap, block}); true when JSON output. */
static bool json_found(struct ctx *c, const struct find_ctx *f)
{
	if (!c->j)
		return false;
	ich_json_addr(c->j, "heap", f->heap);
	ich_json_begin_object(c->j, "block");
	ich_json_block_fields(c->j, &f->b);
	ich_json_end_object(c->j);
	return true;
}

static int do_find(struct ctx *c)
{
	struct find_ctx f;
	if (!find_block(c, c->o->addr, &f)) {
		if (c->j) {
			ich_json_null(c->j, "block");
			return ICH_EXIT_OK;
		}
		printf("No heap block contains %llx (searched %zu heaps", P(c->o->addr), ich_heaps_count(c->h));
		size_t bad = 0;
		for (size_t i = 0; i < ich_heaps_count(c->h); i++)
			bad += ich_heaps_get(c->h, i)->status != ICH_HEAP_OK;
		printf("%s).\n", bad ? "; some heaps could not be walked" : "");
		print_unwalkable(c);
		return ICH_EXIT_OK;
	}
	if (json_found(c, &f))
		return ICH_EXIT_OK;
	char words[64];
	flags_words(&f.b, words, sizeof(words));
	heap_entry_table_header(c->w);
	char prev[16];
	if (f.b.layer == ICH_LAYER_LFH || f.b.layer == ICH_LAYER_SEG_LFH || f.b.layer == ICH_LAYER_SEG_LARGE ||
	    f.b.layer == ICH_LAYER_SEG_BACKEND)
		/* WinDbg: "-" in the middle of the column (heap-x core-analyzer
		 * LFH sample: "       2c0      -            f  LFH;busy ") */
		snprintf(prev, sizeof(prev), "%s", "    -   ");
	else
		snprintf(prev, sizeof(prev), "%8llx", P(f.b.prev_size));
	printf("%0*llx  %0*llx  %0*llx  %0*llx  %8llx  %s  %8llx  %s\n", c->w, P(f.b.header), c->w,
	       P(f.b.user), c->w, P(f.heap), c->w, P(f.b.segment), P(f.b.block_size), prev,
	       P(f.b.unused), words);
	/* -v: pointers into entry .. entry+size-1 (heap-x x86 -x -v sample:
	 * "00246c40 - 00246e3f" for the 0x200-byte entry at 00246c40) */
	if (c->o->verbose_find)
		search_pointers(c, f.b.header, f.b.header + f.b.block_size - 1);
	return ICH_EXIT_OK;
}

static int do_info(struct ctx *c)
{
	/* -i HEAP: WinDbg sets the heap context (windbg-output heap-i sample);
	 * each icpheap run stands alone, so the line is all there is to say */
	if (ich_heaps_find(c->h, c->o->addr) && !c->j) {
		printf("Heap context set to the heap 0x%0*llx\n", c->w, P(c->o->addr));
		return ICH_EXIT_OK;
	}
	struct find_ctx f;
	if (!find_block(c, c->o->addr, &f)) {
		printf("No heap block entry at %llx.\n", P(c->o->addr));
		print_unwalkable(c);
		return ICH_EXIT_OK;
	}
	if (json_found(c, &f))
		return ICH_EXIT_OK;
	char words[64];
	flags_words(&f.b, words, sizeof(words));
	/* windbg-output heap-i (Windows Internals 7, PDF-converted: the
	 * labels and values are WinDbg's, the padding is not reliable) */
	struct ich_heap *hp = ich_heaps_find(c->h, f.heap);
	uint64_t raw = 0, dec = 0;
	bool nt_entry = hp && hp->kind == ICH_HEAP_KIND_NT &&
			(f.b.layer == ICH_LAYER_BACKEND || f.b.layer == ICH_LAYER_VIRTUAL);
	if (nt_entry) {
		struct ich_error *err = ich_heap_entry_header(c->h, hp, f.b.header, &raw, &dec);
		nt_entry = !err;
		ich_error_destroy(err);
	}
	printf("Detailed information for block entry %0*llx\n", c->w, P(f.b.header));
	printf("Assumed heap       : 0x%0*llx (Use !heap -i NewHeapHandle to change)\n", c->w, P(f.heap));
	if (nt_entry)
		printf("Header content     : 0x%08X 0x%08X (decoded : 0x%08X 0x%08X)\n", (unsigned)raw,
		       (unsigned)(raw >> 32), (unsigned)dec, (unsigned)(dec >> 32));
	if (nt_entry && f.b.layer == ICH_LAYER_BACKEND)	/* SegmentOffset: byte 6 */
		printf("Owning segment     : 0x%0*llx (offset %u)\n", c->w, P(f.b.segment), (unsigned)(dec >> 48) & 0xFF);
	else
		printf("Owning segment     : 0x%0*llx\n", c->w, P(f.b.segment));
	printf("Block Flags        : 0x%x (%s)\n", f.b.flags, words);
	printf("Total block size   : 0x%llx units (0x%llx bytes)\n", P(f.b.block_size / c->unit), P(f.b.block_size));
	printf("Requested size     : 0x%llx bytes (unused 0x%llx bytes)\n", P(f.b.size), P(f.b.unused));
	if (f.b.layer == ICH_LAYER_BACKEND) {
		printf("Previous block size: 0x%llx units (0x%llx bytes)\n", P(f.b.prev_size / c->unit), P(f.b.prev_size));
		/* the CRC is the SmallTagIndex byte (Size lo ^ Size hi ^ Flags) */
		if (nt_entry)
			printf("Block CRC          : %s - 0x%02x\n", f.b.state == ICH_BLOCK_CORRUPT ? "FAILED" : "OK",
			       (unsigned)(dec >> 24) & 0xFF);
		if (f.have_prev)
			printf("Previous block     : 0x%0*llx\n", c->w, P(f.prev.header));
		if (f.have_next)
			printf("Next block         : 0x%0*llx\n", c->w, P(f.next.header));
	}
	if (c->o->verbose)
		printf("Layer              : %s\n", ich_block_layer_name(f.b.layer));
	return ICH_EXIT_OK;
}

/* ------------------------------------------------------ filter, search */

struct filt_ctx {
	struct ctx *c;
	uint64_t heap;
	bool search;
	size_t count;
	bool header_done;	/* -flt: column header printed for this heap */
};

static void filt_heap_header(struct filt_ctx *f, const struct ich_heap *hp, const char *head)
{
	if (f->heap != hp->address) {
		f->heap = hp->address;
		printf("    _HEAP @ %llx\n%s", P(hp->address), head);
	}
}

static struct ich_error *filt_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct filt_ctx *f = arg;
	struct ctx *c = f->c;
	if (b->state != ICH_BLOCK_BUSY || b->size < c->o->min || b->size > c->o->max)
		return NULL;
	f->count++;
	if (c->j)
		return json_block(hp, b, c->j);
	/* the column header once per heap with matches; x86 has its own
	 * (windbg-output README §6) */
	if (!f->header_done) {
		f->header_done = true;
		fputs(c->w == 16 ? "              HEAP_ENTRY Size Prev Flags            UserPtr UserSize - state\n"
				 : "      HEAP_ENTRY Size Prev Flags    UserPtr UserSize - state\n", stdout);
	}
	printf("        %0*llx %04llx %04llx  [%02x]   %0*llx    %05llx - (busy%s)\n", c->w, P(b->header),
	       P(b->block_size / c->unit), P(b->prev_size / c->unit),
	       /* every -flt (and -p -a) row of the samples, back end, LFH and
	        * VirtualAlloc alike, shows Flags [00] (50 rows, windbg-output) */
	       0u, c->w, P(b->user), P(b->size),
	       b->layer == ICH_LAYER_VIRTUAL ? " VirtualAlloc" : "");
	return NULL;
}

/* Allocation stacks of the busy blocks (heap_stacks.c). */
static void stack_groups(struct ctx *c, uint64_t min, uint64_t max)
{
	struct heap_ext x = { c->dump, c->h, c->j, c->w, c->unit, c->verbose, c->o->have_heap, c->o->heap,
			      false, 0, false };
	heap_stack_groups(&x, min, max);
}

static int do_filter(struct ctx *c)
{
	struct filt_ctx f = { c, 0, false, 0, false };
	if (c->j)
		ich_json_begin_array(c->j, "blocks");
	/* "_HEAP @" for every heap, matches or not (golang-cgo -flt sample) */
	int rc = ICH_EXIT_OK;
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp) || hp->status != ICH_HEAP_OK)
			continue;
		if (!c->j)
			printf("    _HEAP @ %llx\n", P(hp->address));
		f.header_done = false;
		struct ich_error *err = ich_heap_walk(c->h, hp, filt_cb, &f);
		if (err)
			rc = ich_cli_worst(rc, ich_cli_fail(err));
	}
	if (c->j) {
		ich_json_end_array(c->j);
		ich_json_u64(c->j, "count", f.count);
	} else {
		print_unwalkable(c);
	}
	stack_groups(c, c->o->min, c->o->max);	/* heap_stacks.c: -v / JSON */
	return rc;
}

static struct ich_error *srch_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct filt_ctx *f = arg;
	struct ctx *c = f->c;
	const struct opts *o = c->o;
	if (b->state != ICH_BLOCK_BUSY || b->size < o->pattern_len || b->size > (64u << 20))
		return NULL;
	uint8_t *buf = malloc(b->size);
	if (!buf)
		return &ich_enomem;
	size_t got = ich_as_read(ich_dump_as(c->dump), b->user, buf, b->size, NULL);
	size_t step = o->pattern_width ? o->pattern_width : 1;
	bool hit = false;
	for (size_t k = 0; k + o->pattern_len <= got && !hit; k += step)
		hit = !memcmp(buf + k, o->pattern, o->pattern_len);
	free(buf);
	if (!hit)
		return NULL;
	f->count++;
	if (c->j)
		return json_block(hp, b, c->j);
	f->heap = 0;
	filt_heap_header(f, hp, "   in HEAP_ENTRY: Size : Prev Flags - UserPtr UserSize - state\n");
	printf("        %0*llX: %04llX : %04llX [%02X] - %0*llX (%0*llX) - (busy)\n", c->w, P(b->header),
	       P(b->block_size / c->unit), P(b->prev_size / c->unit), b->flags, c->w, P(b->user),
	       c->w, P(b->size));
	return NULL;
}

static int do_search(struct ctx *c)
{
	struct filt_ctx f = { c, 0, true, 0, false };
	if (c->j)
		ich_json_begin_array(c->j, "blocks");
	int rc = walk_all(c, srch_cb, &f);
	if (c->j)
		ich_json_end_array(c->j);
	return rc;
}

/* ---------------------------------------------------------------- stat */

static int do_stat(struct ctx *c)
{
	int rc = ICH_EXIT_OK;
	if (c->j)
		ich_json_begin_array(c->j, "heaps");
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp))
			continue;
		if (hp->status != ICH_HEAP_OK) {
			if (!c->j)
				printf("%s\n", hp->reason);
			continue;
		}
		struct ich_heap_size_stat *rows = NULL;
		size_t nrows = 0;
		uint64_t busy = 0;
		enum ich_heap_stat_order ord = c->o->grp == 'A' ? ICH_STAT_BY_SIZE :
					       c->o->grp == 'B' ? ICH_STAT_BY_COUNT : ICH_STAT_BY_TOTAL;
		struct ich_error *err = ich_heap_stat(c->h, hp, ord, &rows, &nrows, &busy);
		if (err) {
			rc = ich_cli_worst(rc, ich_cli_fail(err));
			continue;
		}
		size_t show = nrows < c->o->stat_max ? nrows : c->o->stat_max;
		const char *grp = ich_stat_group_by(ord);
		if (c->j) {
			ich_json_begin_object(c->j, NULL);
			ich_json_addr(c->j, "address", hp->address);
			ich_json_stat_table(c->j, ord, busy, rows, show);
			ich_json_end_object(c->j);
		} else {
			/* -stat -h 0 (every heap): each table is introduced by
			 * this line (windbg-output heap-stat ru-windbg-notes) */
			if (c->o->all_zero)
				printf("Allocations statistics for\n");
			printf(" heap @ %0*llx\n", c->w, P(hp->address));
			printf("group-by: %s max-display: %u\n", grp, c->o->stat_max);
			printf("    size     #blocks     total     ( %%) (percent of total busy bytes)\n");
			for (size_t r = 0; r < show; r++)
				printf("    %llx %llx - %llx  (%.2f)\n", P(rows[r].size), P(rows[r].blocks),
				       P(rows[r].total),
				       busy ? 100.0 * (double)rows[r].total / (double)busy : 0.0);
		}
		free(rows);
	}
	if (c->j)
		ich_json_end_array(c->j);
	else
		print_unwalkable(c);
	stack_groups(c, 0, UINT64_MAX);	/* heap_stacks.c: -v / JSON */
	return rc;
}

/* ------------------------------------------------------------ validate */

static int do_validate(struct ctx *c)
{
	int rc = walk_all(c, NULL, NULL);
	size_t total = 0;
	if (c->j)
		ich_json_begin_array(c->j, "heaps");
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		if (!selected(c, hp))
			continue;
		total += hp->nproblems;
		if (c->j) {
			ich_json_begin_object(c->j, NULL);
			ich_json_heap_head(c->j, hp);
			ich_json_heap_tail(c->j, hp);
			ich_json_end_object(c->j);
			continue;
		}
		if (hp->status != ICH_HEAP_OK) {
			printf("%s\n", hp->reason);
			continue;
		}
		/* what the analysis rests on that no source confirms (24H2) */
		if (hp->layout && hp->layout->derived)
			printf("note: heap %llx uses the layout row \"%s\" (%u), derived: %s\n", P(hp->address),
			       hp->layout->label, hp->layout->build_min, hp->layout->source);
		if (hp->unlisted)
			printf("note: heap %llx is not in PEB.ProcessHeaps; found by its header in the captured memory\n",
			       P(hp->address));
		/* -s and -a print _HEAP.TotalFreeSize; say when the walk disagrees */
		struct ich_heap_info in;
		struct ich_error *ierr = hp->kind == ICH_HEAP_KIND_NT ? ich_heap_info(c->h, hp, &in) : NULL;
		if (hp->kind == ICH_HEAP_KIND_NT && !ierr && (in.have & ICH_HI_TOTAL_FREE) &&
		    in.total_free_size * c->unit != hp->totals.backend_free_bytes)
			printf("note: heap %llx: _HEAP.TotalFreeSize is 0x%llx units, the free back-end blocks walked are 0x%llx units\n",
			       P(hp->address), P(in.total_free_size), P(hp->totals.backend_free_bytes / c->unit));
		ich_error_destroy(ierr);
		printf("Validating heap %0*llx: %zu problems", c->w, P(hp->address), hp->nproblems);
		if (hp->totals.corrupt_count)
			printf(", %llu blocks not vouched for (listed as corrupt)", P(hp->totals.corrupt_count));
		putchar('\n');
		print_problems(hp, c->w);
	}
	if (c->j)
		ich_json_end_array(c->j);
	else
		printf("%zu problems found.\n", total);
	return total ? ich_cli_worst(rc, ICH_EXIT_FINDINGS) : rc;
}

/* -t -T -g (tag tables) and -k (stacks per entry): refused with the reason. */
static int do_tags(struct ctx *c)
{
	const char *a = c->o->tag_opt;
	if (!strcmp(a, "-k")) {
		fprintf(stderr, "icpheap heap: -k is not available: WinDbg prints it for x86 targets from the "
			"stack trace database; heap -flt/-stat -v group the busy blocks by allocation stack instead\n");
		return ICH_EXIT_USAGE;
	}
	size_t tagged = 0, nt = 0;
	for (size_t i = 0; i < ich_heaps_count(c->h); i++) {
		struct ich_heap *hp = ich_heaps_get(c->h, i);
		struct ich_heap_info in;
		if (hp->kind != ICH_HEAP_KIND_NT || hp->status != ICH_HEAP_OK || !selected(c, hp))
			continue;
		nt++;
		struct ich_error *err = ich_heap_info(c->h, hp, &in);
		ich_error_destroy(err);
		if (!err && (in.tag_entries || in.pseudo_tag_entries))
			tagged++;
	}
	if (!tagged)
		fprintf(stderr, "icpheap heap: %s: no heap has tag tables (Tag Entries and PsuedoTag Entries are 0 "
			"in all %zu NT heaps; heap -a shows them): there is nothing to list\n", a, nt);
	else
		fprintf(stderr, "icpheap heap: %s: %zu heaps have tag tables, but reading them is not supported "
			"(HEAP_TAG_ENTRY / HEAP_PSEUDO_TAG_ENTRY are not in the type table)\n", a, tagged);
	return ICH_EXIT_USAGE;
}

/* ------------------------------------------------------------- options */

/*
 * !heap's options in one table (parse_options.h, ICH_CMD_WINDBG): each
 * word is matched whole (-s, -stat, -flt), and the callbacks take the
 * option's own arguments the way !heap does -- an optional heap after
 * -s/-a/-h/-m/-f/-v, the SummaryOptions after -s, -flt s SIZE | r MIN MAX,
 * -p -h HEAP | -a ADDR | -all | -?.  The dump is the last argument
 * (ICH_CMD_DUMP_LAST), so an optional value never takes it.
 */

static bool hexarg(const char *s, uint64_t *v)
{
	return ich_cli_parse_u64(s, true, v);
}

static int bad(struct ich_parse *p, const char *msg, const char *arg)
{
	return ich_parse_error(p, "%s%s%s", msg, arg ? " " : "", arg ? arg : "");
}

/* [HEAP]: the next argument when it is a hex number. */
static void opt_heap(struct ich_parse *p, struct opts *o)
{
	const char *n = ich_parse_peek(p);
	if (n && n[0] != '-' && hexarg(n, &o->heap)) {
		o->have_heap = true;
		ich_parse_take(p);
	}
}

/* The argument k places after the next (0: the next), if it may be taken. */
static const char *peek_n(const struct ich_parse *p, int k)
{
	for (int j = 0; j <= k; j++) {
		int idx = p->next + j;
		if (p->dashdash || idx >= p->argc || (p->reserved && idx == p->reserved) ||
		    !strcmp(p->argv[idx], "--"))
			return NULL;
	}
	return p->argv[p->next + k];
}

/* -s [SummaryOptions] [HEAP]: -v, -bBucketSize, -dDumpBlockSize, -a, -c
 * (case-insensitive), -h HEAP, -? */
static int summary_opts(struct ich_parse *p, struct opts *o)
{
	const char *so;
	while ((so = ich_parse_peek(p)) && so[0] == '-') {
		char k = (char)(so[1] | 0x20);
		if (!strcmp(so, "-?")) {
			o->mode = M_SUMMARY_HELP;
		} else if (k == 'v' && !so[2]) {
			o->sum_validate = true;
		} else if (k == 'a' && !so[2]) {
			o->sum_all = true;
		} else if (k == 'c' && !so[2]) {
			o->sum_contents = true;
		} else if ((k == 'b' || k == 'd') && (so[2] || peek_n(p, 1))) {
			ich_parse_take(p);
			const char *num = so[2] ? so + 2 : ich_parse_peek(p);
			uint64_t v;
			if (!hexarg(num, &v) || !v)
				return bad(p, k == 'b' ? "-s -b needs a bucket size" : "-s -d needs a block size", num);
			if (k == 'b')
				o->sum_bucket = v;
			else
				o->sum_dump_size = v;
			if (so[2])
				continue;
		} else if (k == 'h' && !so[2] && peek_n(p, 1)) {
			ich_parse_take(p);
			if (!hexarg(ich_parse_peek(p), &o->heap))
				return bad(p, "-s -h needs a heap address", ich_parse_peek(p));
			o->have_heap = true;
		} else {
			break;
		}
		ich_parse_take(p);
	}
	return -1;
}

/* -s -a -h -m -f [HEAP]; -stat -h HEAP */
static int cb_list(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)arg;
	struct opts *o = p->opts;
	char l = opt->short_name;
	if (l == 'h' && o->mode == M_STAT) {
		const char *n = ich_parse_take(p);
		if (!n || !hexarg(n, &o->heap))
			return bad(p, "-stat -h needs a heap address", NULL);
		o->have_heap = true;
		return -1;
	}
	o->mode = l == 's' ? M_SUMMARY : l == 'm' ? M_SEGMENTS : l == 'f' ? M_FREE : M_ENTRIES;
	if (l == 's') {
		int rc = summary_opts(p, o);
		if (rc >= 0)
			return rc;
	}
	opt_heap(p, o);
	return -1;
}

/* -H l [HEAP]: every entry including the LFH ones (!heap docs) */
static int cb_H(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	const char *n = ich_parse_peek(p);
	if (!n || strcmp(n, "l"))
		return bad(p, "-H needs l (-H l: entries including LFH entries)", NULL);
	ich_parse_take(p);
	o->mode = M_ENTRIES;
	o->lfh_entries = true;
	opt_heap(p, o);
	return -1;
}

/* -x [-v] ADDR, -i ADDR (the address may also come first: !heap ADDR -x) */
static int cb_find(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)arg;
	struct opts *o = p->opts;
	o->mode = opt->short_name == 'x' ? M_FIND : M_INFO;
	const char *n = ich_parse_peek(p);
	if (n && !strcmp(n, "-v")) {
		o->verbose_find = true;
		ich_parse_take(p);
	}
	n = ich_parse_peek(p);
	if (n && hexarg(n, &o->addr)) {
		o->have_addr = true;
		ich_parse_take(p);
	}
	return -1;
}

/* -v [HEAP]: validate; after -x: pointers to the block */
static int cb_v(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	if (o->mode == M_FIND) {
		o->verbose_find = true;
	} else {
		o->mode = M_VALIDATE;
		opt_heap(p, o);
	}
	return -1;
}

static int cb_help(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	o->mode = o->mode == M_SUMMARY ? M_SUMMARY_HELP : M_HELP;
	return -1;
}

/* -t -T -g -k: tag tables and stacks; do_tags says why not */
static int cb_tags(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)arg;
	struct opts *o = p->opts;
	o->tag_opt = opt->short_name == 't' ? "-t" : opt->short_name == 'T' ? "-T" :
		     opt->short_name == 'g' ? "-g" : "-k";
	o->mode = M_TAGS;
	return -1;
}

/* -flt s SIZE | -flt r MIN MAX */
static int cb_flt(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	o->mode = M_FILTER;
	if (!peek_n(p, 1))
		return bad(p, "-flt needs s SIZE or r MIN MAX", NULL);
	const char *k = ich_parse_take(p);
	if (!strcmp(k, "s")) {
		const char *n = ich_parse_take(p);
		if (!hexarg(n, &o->min))
			return bad(p, "-flt s: bad size", n);
		o->max = o->min;
	} else if (!strcmp(k, "r")) {
		if (!peek_n(p, 1) || !hexarg(peek_n(p, 0), &o->min) || !hexarg(peek_n(p, 1), &o->max))
			return bad(p, "-flt r needs MIN MAX", NULL);
		ich_parse_take(p);
		ich_parse_take(p);
	} else {
		return bad(p, "-flt: expected s or r, got", k);
	}
	return -1;
}

static int cb_stat(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	((struct opts *)p->opts)->mode = M_STAT;
	return -1;
}

/* -grp A|B|S (with -stat) */
static int cb_grp(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	const char *n = ich_parse_peek(p);
	if (!n || !n[0] || !strchr("ABSabs", n[0]) || n[1])
		return bad(p, "-grp needs A, B or S", NULL);
	o->grp = (char)(ich_parse_take(p)[0] & ~0x20);
	return -1;
}

/* -srch [-b|-w|-d|-q] PATTERN */
static int cb_srch(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	o->mode = M_SEARCH;
	unsigned width = 0;
	const char *n = ich_parse_peek(p);
	if (n && (!strcmp(n, "-b") || !strcmp(n, "-w") || !strcmp(n, "-d") || !strcmp(n, "-q"))) {
		char k = ich_parse_take(p)[1];
		width = k == 'b' ? 1 : k == 'w' ? 2 : k == 'd' ? 4 : 8;
	}
	const char *pat = ich_parse_take(p);
	if (!pat)
		return bad(p, "-srch needs a pattern", NULL);
	uint64_t v;
	if (!width && hexarg(pat, &v))
		width = 8;	/* WinDbg: a number is a pointer-sized value */
	if (width) {
		if (!hexarg(pat, &v))
			return bad(p, "-srch: bad number", pat);
		if (width == 8 && o->pattern_width == 0 && v <= 0xFFFFFFFFu)
			width = 4;
		memcpy(o->pattern, &v, width);
		o->pattern_len = width;
		o->pattern_width = width;
	} else {
		o->pattern_len = strlen(pat) < sizeof(o->pattern) ? strlen(pat) : sizeof(o->pattern);
		memcpy(o->pattern, pat, o->pattern_len);
	}
	return -1;
}

/* heap_pageheap.c: -p, -p -h HEAP, -p -a ADDR, -p -all, -p -? */
static int cb_p(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	o->mode = M_PAGE_LIST;
	const char *n = ich_parse_peek(p);
	if (n && !strcmp(n, "-?")) {
		o->mode = M_PAGE_HELP;
		ich_parse_take(p);
	} else if (n && !strcmp(n, "-all")) {
		o->page_all = true;
		ich_parse_take(p);
	} else if (n && (!strcmp(n, "-h") || !strcmp(n, "-a"))) {
		bool addr = ich_parse_take(p)[1] == 'a';
		const char *v = ich_parse_take(p);
		if (!v || !hexarg(v, addr ? &o->addr : &o->heap))
			return bad(p, addr ? "-p -a needs an address" : "-p -h needs a heap handle", NULL);
		if (addr)
			o->mode = M_PAGE_ADDR;
		else
			o->have_heap = true;
	}
	return -1;
}

static int cb_l(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	((struct opts *)p->opts)->mode = M_LEAKS;
	return -1;
}

/* heap_triage.c: -triage [HEAP|ADDR] (a heap address, else a block address) */
static int cb_triage(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	(void)arg;
	struct opts *o = p->opts;
	o->mode = M_TRIAGE;
	const char *n = ich_parse_peek(p);
	if (n && n[0] != '-' && hexarg(n, &o->addr)) {
		o->triage_target = true;
		ich_parse_take(p);
	}
	return -1;
}

static int cb_live(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)arg;
	return ich_parse_error(p, "-%c is not available offline: %s", opt->short_name,
			       "breakpoints and heap tagging (-b, -B, -E, -D, -e, -d) act on a live process");
}

/* A bare number: -stat's MaxDisplay, else an address given before its
 * option (!heap ADDR -x, !heap HEAP -a). */
static int heap_positional(struct ich_parse *p, const char *a)
{
	struct opts *o = p->opts;
	if (isdigit((unsigned char)a[0]) && o->mode == M_STAT)
		o->stat_max = (unsigned)strtoul(a, NULL, 16);
	else if (a[0] != '-' && !o->have_pos && hexarg(a, &o->pos))
		o->have_pos = true;
	else
		return ich_parse_error(p, "unexpected argument '%s'", a);
	return -1;
}

static void heap_init(void *opts)
{
	struct opts *o = opts;
	o->grp = 'S';
	o->stat_max = 20;
}

#define H(c, fn, argh, help) ICH_OPTION_CB((c), NULL, ICH_ARG_NONE, (argh), (fn), (help), 0)
#define W(name, fn, argh, help) ICH_OPTION_CB(0, (name), ICH_ARG_NONE, (argh), (fn), (help), ICH_OPTF_ONE_DASH)

static const struct ich_option heap_options[] = {
	H('s', cb_list, "[-v|-a|-c|-b N|-d N|-h HEAP] [HEAP]", "summary table (-s -? lists its options)"),
	H('a', cb_list, "[HEAP]", "entries by segment, free lists"),
	H('h', cb_list, "[HEAP]", "entries by segment"),
	H('H', cb_H, "l [HEAP]", "entries including the LFH entries"),
	H('m', cb_list, "[HEAP]", "segments"),
	H('f', cb_list, "[HEAP]", "free blocks"),
	H('i', cb_find, "ADDR", "one block in detail (a heap address: the heap)"),
	H('x', cb_find, "[-v] ADDR", "block containing ADDR (-v: pointers to it)"),
	W("flt", cb_flt, "s SIZE | r MIN MAX", "busy blocks of SIZE / in a size range"),
	W("stat", cb_stat, "[-h HEAP] [-grp A|B|S] [MAX]", "allocations grouped by size"),
	W("grp", cb_grp, "A|B|S", "-stat grouping: allocation size, block size, total"),
	W("srch", cb_srch, "[-b|-w|-d|-q] PATTERN", "search busy blocks"),
	H('v', cb_v, "[HEAP]", "validate every heap (exit 1 on corruption)"),
	H('?', cb_help, NULL, "!heap's own short help"),
	H('p', cb_p, "[-h HEAP|-a ADDR|-all|-?]", "page heap: heaps, blocks, block + stack"),
	H('l', cb_l, NULL, "leaked (unreachable) busy blocks"),
	W("triage", cb_triage, "[HEAP|ADDR]", "LFH block headers, bitmaps; the recorded heap failure"),
	ICH_OPTION_CB('t', NULL, ICH_ARG_NONE, NULL, cb_tags, "tag tables: refused with the reason", ICH_OPTF_MORE),
	ICH_OPTION_CB('T', NULL, ICH_ARG_NONE, NULL, cb_tags, "pseudo-tag tables: refused with the reason",
		      ICH_OPTF_MORE),
	ICH_OPTION_CB('g', NULL, ICH_ARG_NONE, NULL, cb_tags, "global tags: refused with the reason", ICH_OPTF_MORE),
	ICH_OPTION_CB('k', NULL, ICH_ARG_NONE, NULL, cb_tags, "per-entry stacks: refused with the reason",
		      ICH_OPTF_MORE),
	ICH_OPTION_CB('b', NULL, ICH_ARG_NONE, NULL, cb_live, "breakpoint: needs a live process (exit 2)",
		      ICH_OPTF_MORE),
	ICH_OPTION_CB('B', NULL, ICH_ARG_NONE, NULL, cb_live, "breakpoint: needs a live process (exit 2)",
		      ICH_OPTF_MORE),
	ICH_OPTION_CB('E', NULL, ICH_ARG_NONE, NULL, cb_live, "heap tagging: needs a live process (exit 2)",
		      ICH_OPTF_MORE),
	ICH_OPTION_CB('D', NULL, ICH_ARG_NONE, NULL, cb_live, "heap tagging: needs a live process (exit 2)",
		      ICH_OPTF_MORE),
	ICH_OPTION_CB('e', NULL, ICH_ARG_NONE, NULL, cb_live, "heap tagging: needs a live process (exit 2)",
		      ICH_OPTF_MORE),
	ICH_OPTION_CB('d', NULL, ICH_ARG_NONE, NULL, cb_live, "heap tagging: needs a live process (exit 2)",
		      ICH_OPTF_MORE),
	ICH_OPTION_STRING(0, "pid", struct opts, sel.pid, "PID",
			  "complete / kernel+user dump: the process (decimal or 0x-hex)"),
	ICH_OPTION_STRING(0, "process", struct opts, sel.name, "NAME",
			  "complete / kernel+user dump: the process by image name"),
	ICH_OPTION_END,
};

#undef H
#undef W

/* What the options mean together, once all are read. */
static int heap_finish(struct opts *o)
{
	if (o->mode == M_FIND || o->mode == M_INFO) {
		if (!o->have_addr && !o->have_pos)
			return ich_cli_usage_error("heap", "%s needs an address", o->mode == M_FIND ? "-x" : "-i");
		if (!o->have_addr)
			o->addr = o->pos;
	} else if (o->have_pos && !o->have_heap) {
		o->heap = o->pos;
		o->have_heap = true;
	}
	/* a heap given as 0 means every heap (!heap -s 0, -stat -h 0, -v 0) */
	if (o->have_heap && o->heap == 0) {
		o->have_heap = false;
		o->all_zero = true;
	}
	return -1;
}

static int cmd_heap(void *opts, int nargs, char **args, const struct ich_cli_global *g)
{
	struct opts o = *(struct opts *)opts;
	(void)nargs;	/* exactly 1: the dump */
	o.dump = args[0];
	o.json = g->json;
	o.verbose = g->verbose;
	struct ich_cli_process_sel sel = o.sel;
	int rc = ich_cli_check_process_sel("heap", &sel);
	if (rc >= 0)
		return rc;
	rc = heap_finish(&o);
	if (rc >= 0)
		return rc;
	if (o.mode == M_PAGE_HELP) {
		fputs(heap_p_help, stdout);
		return ICH_EXIT_OK;
	}
	if (o.mode == M_HELP || o.mode == M_SUMMARY_HELP) {
		fputs(o.mode == M_HELP ? heap_help : heap_s_help, stdout);
		return ICH_EXIT_OK;
	}
	struct ich_dump *dump;
	struct ich_error *err = ich_dump_open(o.dump, &dump);
	if (err) {
		rc = ich_cli_fail(err);
		return o.json ? ich_json_failure(NULL, ICH_SCHEMA_HEAP, o.dump, rc) : rc;
	}
	struct ich_heaps *h;
	struct ich_kernel *kern;
	rc = ich_cli_open_heaps(dump, g->build, &sel, &h, &kern);
	if (rc >= 0) {
		ich_dump_close(dump);
		return o.json ? ich_json_failure(NULL, ICH_SCHEMA_HEAP, o.dump, rc) : rc;
	}
	struct ctx c = { &o, dump, h, ich_heaps_ptr_size(h) == 8 ? 16 : 8,
			 ich_heaps_ptr_size(h) == 8 ? 16u : 8u, NULL, g->verbose };
	struct ich_json js;
	if (o.json) {
		ich_json_init(&js, stdout, true);
		c.j = &js;
		ich_json_begin_object(c.j, NULL);
		ich_json_string(c.j, "schema", ICH_SCHEMA_HEAP);
		ich_json_string(c.j, "path", o.dump);
	}
	if (g->verbose && !o.json)
		print_notes(&c);
	switch (o.mode) {
	case M_LIST: rc = do_list(&c); break;
	case M_SUMMARY: rc = do_summary(&c); break;
	case M_ENTRIES: rc = do_entries(&c, false); break;
	case M_FREE: rc = do_entries(&c, true); break;
	case M_SEGMENTS: rc = do_segments(&c); break;
	case M_FIND: rc = do_find(&c); break;
	case M_INFO: rc = do_info(&c); break;
	case M_FILTER: rc = do_filter(&c); break;
	case M_SEARCH: rc = do_search(&c); break;
	case M_STAT: rc = do_stat(&c); break;
	case M_VALIDATE: rc = do_validate(&c); break;
	case M_PAGE_HELP: case M_HELP: case M_SUMMARY_HELP: break;
	case M_TAGS: rc = do_tags(&c); break;
	case M_PAGE_LIST: case M_PAGE_ADDR: case M_LEAKS: case M_TRIAGE: {
		struct heap_ext x = { dump, h, c.j, c.w, c.unit, g->verbose, o.have_heap, o.heap,
				      o.mode == M_PAGE_ADDR, o.addr, o.page_all };
		if (o.mode == M_TRIAGE && o.triage_target) {
			/* a heap's address names the heap, any other a block */
			bool is_heap = ich_heaps_find(h, o.addr) != NULL;
			x.have_heap = is_heap;
			x.heap = o.addr;
			x.have_addr = !is_heap;
		}
		rc = o.mode == M_PAGE_LIST ? heap_p_list(&x) : o.mode == M_PAGE_ADDR ? heap_p_addr(&x) :
		     o.mode == M_TRIAGE ? heap_triage(&x) : heap_leaks(&x);
		break;
	}
	}
	if (g->verbose && !o.json)
		print_notes(&c);	/* those the walks added */
	if (o.json) {
		ich_json_begin_array(c.j, "notes");
		for (size_t i = 0; i < ich_heaps_note_count(h); i++)
			ich_json_string(c.j, NULL, ich_heaps_note(h, i));
		ich_json_end_array(c.j);
		ich_json_end_object(c.j);
		ich_json_finish(c.j);
	}
	/* Nothing could be walked: the dump cannot answer this command. */
	size_t ok = 0;
	for (size_t i = 0; i < ich_heaps_count(h); i++)
		ok += ich_heaps_get(h, i)->status == ICH_HEAP_OK;
	if (!ok && o.mode != M_LIST)
		rc = ich_cli_worst(rc, ICH_EXIT_DUMP);
	if (o.have_heap && !ich_heaps_find(h, o.heap)) {
		fprintf(stderr, "icpheap heap: %llx is not one of the %zu heaps in the PEB's list\n", P(o.heap),
			ich_heaps_count(h));
		rc = ich_cli_worst(rc, ICH_EXIT_USAGE);
	}
	ich_heaps_close(h);
	ich_kernel_close(kern);
	ich_dump_close(dump);
	return rc;
}

const struct ich_cli_command ich_cmd_heap = {
	.name = "heap",
	.summary = "WinDbg !heap on a user-mode dump's NT heaps",
	.synopsis = "[OPTIONS] [--pid PID | --process NAME] DUMP",
	.description = "  WinDbg !heap on a user-mode dump (NT and segment heaps, every layer), or on\n"
		       "  one process of a complete / kernel+user memory dump (--pid, --process).\n"
		       "  No option: the heap list.  A heap given as 0 means every heap.\n",
	.footer = "  -b -B -E -D -e -d need a live process (exit 2); -t -T -g -k are refused\n"
		  "  with the reason (heap --help -v lists them).\n",
	.options = heap_options,
	.flags = ICH_CMD_WINDBG | ICH_CMD_DUMP_LAST,
	.min_args = 1,
	.max_args = 1,
	.opts_size = sizeof(struct opts),
	.init = heap_init,
	.positional = heap_positional,
	.run = cmd_heap,
};
