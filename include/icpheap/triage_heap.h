/* SPDX-License-Identifier: MIT */
/*
 * `!heap -triage`: the checks -v does not make (every LFH block's encoded
 * header against its UserBlocks, bitmap against UnusedBytes both ways,
 * segment-heap walker findings) and ntdll's recorded heap failure
 * (HEAP_FAILURE_INFORMATION), found without symbols.  src/heap/triage.c.
 */
#ifndef ICPHEAP_TRIAGE_HEAP_H
#define ICPHEAP_TRIAGE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/heap.h>
#include <icpheap/pageheap.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_heap_finding {
	uint64_t heap, address;
	char what[224];
};

struct ich_heap_failure {
	bool found;
	uint64_t record;	/* the HEAP_FAILURE_INFORMATION */
	uint32_t version, structure_size, type;
	const char *type_name;	/* "HEAP_FAILURE_BLOCK_NOT_BUSY"...; NULL if unknown */
	uint64_t heap, address, param1, param2, param3, previous_block, next_block;
	uint64_t stack_at;	/* address of its StackTrace array */
	struct ich_stack stack;
	bool have_block;	/* the block around address */
	uint64_t block_heap;
	struct ich_heap_block block;
	const char *where;	/* how it was found */
};

struct ich_triage_result {
	struct ich_heap_finding *findings;	size_t nfindings;
	size_t heaps_checked, lfh_blocks_checked, userblocks_checked, blocks_checked;
	/* UserBlocks none of whose block headers decode back to them with the
	 * S5 formula: the header check could not be made there (not reported
	 * as corruption) */
	size_t lfh_containers_undecodable;
	struct ich_heap_failure failure;
};

/* Triage every walkable heap, or only the heap at `heap` (nonzero), or only
 * the heap holding the block at `addr` (nonzero).  Free r with
 * ich_triage_result_free. */
struct ich_error *ich_heap_triage(struct ich_heaps *h, uint64_t heap, uint64_t addr,
				  struct ich_triage_result *r);
void ich_triage_result_free(struct ich_triage_result *r);

#ifdef __cplusplus
}
#endif
#endif
