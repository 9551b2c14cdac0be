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
#include "core/json.h"
#include "core/out.h"
#include "cli/leak_rows.h"
#include "cli/records.h"

#define P(x) (unsigned long long)(x)

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

/* One leak as a JSON object of the "leaks" array, through the writer's
 * fields (pretty writers). */
static struct ich_error *json_leak(const struct ich_leak *l, void *arg)
{
	leak_json_fields(arg, l);
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
		if (ich_json_is_pretty(x->j)) {
			err = ich_leak_scan_each(scan, json_leak, x->j);
		} else {
			struct leak_json_rows *c = leak_json_rows_new(x->j);
			if (!c) {
				ich_leak_scan_free(scan);
				return ich_cli_fail(&ich_enomem);
			}
			err = ich_leak_scan_each(scan, leak_json_compact, c);
			free(c);
		}
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
		struct leak_text_rows t;
		leak_text_rows_init(&t, out, (unsigned)x->w);
		err = ich_leak_scan_each(scan, leak_text_row, &t);
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
