/* SPDX-License-Identifier: MIT */
/*
 * heap -triage [HEAP|ADDR] (src/heap/triage.c does the work).  No sample of
 * WinDbg's -triage output exists (windbg-output README §9), so findings use
 * the -v wording ("    HEAP PROBLEM at ADDR: ..."); a recorded heap failure
 * prints WinDbg's heap-error banner as the samples show it (README §9,
 * heap-s__insightengineering-doublefree_x64_win11-22621_via-mex-mheap.txt):
 * the 62-star box, "Heap address:  %p", "Error address: %p", "Error type:
 * NAME", then "Stack trace at 0x%016I64x" and "    %p: module+0x..".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <icpheap/triage_heap.h>

#include "cli/cli.h"
#include "cli/heap_ext.h"
#include "core/json.h"
#include "cli/records.h"

#define P(x) (unsigned long long)(x)

static void banner(void)
{
	printf("**************************************************************\n");
	printf("*                                                            *\n");
	printf("*                  HEAP ERROR DETECTED                       *\n");
	printf("*                                                            *\n");
	printf("**************************************************************\n");
}

int heap_triage(struct heap_ext *x)
{
	struct ich_triage_result r;
	struct ich_error *err = ich_heap_triage(x->h, x->have_heap ? x->heap : 0, x->have_addr ? x->addr : 0, &r);
	if (err)
		return ich_cli_fail(err);
	const struct ich_heap_failure *f = &r.failure;
	if (x->j) {
		ich_json_u64(x->j, "heaps_checked", r.heaps_checked);
		ich_json_u64(x->j, "blocks_checked", r.blocks_checked);
		ich_json_u64(x->j, "lfh_blocks_checked", r.lfh_blocks_checked);
		ich_json_u64(x->j, "userblocks_checked", r.userblocks_checked);
		ich_json_u64(x->j, "userblocks_headers_undecodable", r.lfh_containers_undecodable);
		ich_json_begin_array(x->j, "findings");
		for (size_t i = 0; i < r.nfindings; i++)
			ich_json_problem(x->j, true, r.findings[i].heap, r.findings[i].address, r.findings[i].what);
		ich_json_end_array(x->j);
		if (!f->found) {
			ich_json_null(x->j, "failure");
		} else {
			ich_json_begin_object(x->j, "failure");
			ich_json_addr(x->j, "record", f->record);
			ich_json_u64(x->j, "version", f->version);
			ich_json_u64(x->j, "type", f->type);
			ich_json_string(x->j, "type_name", f->type_name);
			ich_json_addr(x->j, "heap", f->heap);
			ich_json_addr(x->j, "address", f->address);
			ich_json_addr(x->j, "param1", f->param1);
			ich_json_addr(x->j, "param2", f->param2);
			ich_json_addr(x->j, "param3", f->param3);
			ich_json_addr(x->j, "previous_block", f->previous_block);
			ich_json_addr(x->j, "next_block", f->next_block);
			ich_json_string(x->j, "found_in", f->where);
			heap_json_stack(x, "stack", &f->stack);
			if (f->have_block) {
				ich_json_begin_object(x->j, "block");
				ich_json_addr(x->j, "heap", f->block_heap);
				ich_json_block_fields(x->j, &f->block);	/* the block record */
				ich_json_end_object(x->j);
			} else {
				ich_json_null(x->j, "block");
			}
			ich_json_end_object(x->j);
		}
	} else {
		if (f->found) {
			banner();
			printf("\nDetails:\n\n");
			printf("Heap address:  %0*llx\n", x->w, P(f->heap));
			printf("Error address: %0*llx\n", x->w, P(f->address));
			if (f->type_name)
				printf("Error type: %s\n", f->type_name);
			else
				printf("Error type: %u\n", f->type);
			if (f->have_block)
				printf("Block:       %0*llx (user %0*llx, %llx bytes requested, %s, %s) in heap %llx\n", x->w,
				       P(f->block.header), x->w, P(f->block.user), P(f->block.size),
				       ich_block_state_name(f->block.state), ich_block_layer_name(f->block.layer),
				       P(f->block_heap));
			printf("\n\nStack trace:\nStack trace at 0x%016llx\n", P(f->stack_at));
			for (unsigned i = 0; i < f->stack.depth; i++) {
				char mod[128];
				uint64_t off = 0;
				printf("    %0*llx:", x->w, P(f->stack.frames[i]));
				if (ich_frame_module(x->dump, f->stack.frames[i], mod, sizeof(mod), &off))
					printf(" %s+0x%llx", mod, P(off));
				putchar('\n');
			}
			putchar('\n');
			if (x->verbose)
				printf("(HEAP_FAILURE_INFORMATION at %llx, version %u, in %s; type %u; params %llx %llx %llx)\n",
				       P(f->record), f->version, f->where, f->type, P(f->param1), P(f->param2), P(f->param3));
		}
		for (size_t i = 0; i < r.nfindings; i++)
			printf("    HEAP PROBLEM at %0*llx (heap %llx): %s\n", x->w, P(r.findings[i].address),
			       P(r.findings[i].heap), r.findings[i].what);
		if (r.lfh_containers_undecodable)
			printf("    (%zu LFH UserBlocks: no block header decodes back to its container with the known formula; their headers were not checked)\n",
			       r.lfh_containers_undecodable);
		printf("Triage: %zu heaps, %zu blocks (%zu LFH blocks in %zu UserBlocks) checked: %zu problems; %s\n",
		       r.heaps_checked, r.blocks_checked, r.lfh_blocks_checked, r.userblocks_checked, r.nfindings,
		       f->found ? "a heap failure is recorded" : "no heap failure record found");
	}
	int rc = r.nfindings || f->found ? ICH_EXIT_FINDINGS : ICH_EXIT_OK;
	ich_triage_result_free(&r);
	return rc;
}
