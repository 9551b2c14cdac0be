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
#include <string.h>

#include <icpheap/leak.h>

#include "cli/cli.h"
#include "cli/heap_ext.h"
#include "core/json.h"
#include "cli/records.h"

#define P(x) (unsigned long long)(x)

static void words(const struct ich_heap_block *b, char *out, size_t n)
{
	if (b->layer == ICH_LAYER_LFH) {
		snprintf(out, n, "LFH;busy ");
		return;
	}
	snprintf(out, n, "busy %s%s%s", (b->flags & 0x02) && b->layer != ICH_LAYER_PAGE_HEAP ? "extra " : "",
		 (b->flags & 0x04) && b->layer != ICH_LAYER_PAGE_HEAP ? "fill " : "",
		 b->layer == ICH_LAYER_VIRTUAL ? "virtual " : b->layer == ICH_LAYER_PAGE_HEAP ? "page-heap " : "");
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

int heap_leaks(struct heap_ext *x)
{
	struct ich_leak_result r;
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
	struct ich_error *err = ich_heap_leaks(x->h, &r);
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
		for (size_t i = 0; i < r.nleaks; i++) {
			const struct ich_heap_block *b = &r.leaks[i].block;
			ich_json_begin_object(x->j, NULL);
			ich_json_addr(x->j, "heap", r.leaks[i].heap);
			ich_json_block_fields(x->j, b);	/* the block record */
			ich_json_end_object(x->j);
		}
		ich_json_end_array(x->j);
	} else {
		printf("Scanning references from %llu busy blocks (%llu MBytes) ....\n", P(r.busy_blocks),
		       P(r.busy_bytes >> 20));
		heap_entry_table_header(x->w);
		for (size_t i = 0; i < r.nleaks; i++) {
			const struct ich_heap_block *b = &r.leaks[i].block;
			char prev[16], fl[64];
			if (b->layer == ICH_LAYER_LFH || b->layer == ICH_LAYER_PAGE_HEAP)
				snprintf(prev, sizeof(prev), "%8s", "-");
			else
				snprintf(prev, sizeof(prev), "%8llx", P(b->prev_size));
			words(b, fl, sizeof(fl));
			printf("%0*llx  %0*llx  %0*llx  %0*llx  %8llx  %s  %8llx  %s\n", x->w, P(b->header), x->w,
			       P(b->user), x->w, P(r.leaks[i].heap), x->w, P(b->segment), P(b->block_size), prev,
			       P(b->unused), fl);
		}
		printf("\n%zu potential unreachable blocks were detected.\n", r.nleaks);
		if (x->verbose)
			printf("(scanned %llu bytes of roots outside the heaps, %llu bytes of thread contexts, %llu bytes of reachable blocks; %zu heaps walked, %zu not walkable)\n",
			       P(r.root_bytes), P(r.context_bytes), P(r.block_bytes), r.heaps_walked, r.heaps_skipped);
	}
	int rc = r.nleaks ? ICH_EXIT_FINDINGS : ICH_EXIT_OK;
	ich_leak_result_free(&r);
	return rc;
}
