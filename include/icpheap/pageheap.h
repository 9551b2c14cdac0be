/* SPDX-License-Identifier: MIT */
/*
 * Page heap (DPH, "gflags +hpa"), allocation stack traces (the page heap's
 * own and the +ust stack trace database), found without PDBs.
 *
 * A page heap's handle points to a fake _HEAP page (filled with 0xEE, its
 * Flags and ForceFlags carrying HEAP_FLAG_PAGE_ALLOCS 0x01000000) and the
 * _DPH_HEAP_ROOT (signature 0xFFEEDDCC) is the next page.  Busy blocks are
 * the nodes of the root's BusyNodesTable AVL tree; freed blocks (kept
 * inaccessible to catch use-after-free) are on pFreeAllocationListHead.
 * "Light" page-heap blocks live in the root's NormalHeap, an NT heap, each
 * prefixed by a _DPH_BLOCK_INFORMATION stamped 0xABCDAAAA (busy) or
 * 0xABCDAAA9 (freed).  Sources: src/heap/page_heap.c and
 * src/types/dph_layout.c.
 */
#ifndef ICPHEAP_PAGEHEAP_H
#define ICPHEAP_PAGEHEAP_H

#include <stdbool.h>
#include <stdint.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ICH_DPH_SIGNATURE 0xFFEEDDCCu
#define ICH_HEAP_FLAG_PAGE_ALLOCS 0x01000000u
/* _DPH_BLOCK_INFORMATION stamps: full page heap, light ("normal") page heap;
 * a freed block's stamps are one less. */
#define ICH_DPH_START_FULL 0xABCDBBBBu
#define ICH_DPH_END_FULL 0xDCBABBBBu
#define ICH_DPH_START_LIGHT 0xABCDAAAAu
#define ICH_DPH_END_LIGHT 0xDCBAAAAAu
#define ICH_DPH_FILL_SUFFIX 0xD0u	/* after the user data, to the page end */
#define ICH_DPH_FILL_INFIX 0xC0u	/* light blocks: between size and end stamp */
/* _DPH_HEAP_ROOT.ExtraFlags (heappagi.h PAGE_HEAP_*) */
#define ICH_DPH_ENABLE_PAGE_HEAP 0x0001u
#define ICH_DPH_COLLECT_STACK_TRACES 0x0002u

/* The named offsets of the page heap and stack trace structures for one
 * architecture (rows and their sources: src/types/dph_layout.c). */
struct ich_dph_layout {
	enum ich_arch arch;
	unsigned ptr;
	const char *source;
	/* _DPH_HEAP_ROOT */
	uint32_t root_signature, root_heap_flags, root_virtual_storage_head,
		 root_n_virtual_storage_ranges, root_n_virtual_storage_bytes,
		 root_busy_nodes_table, root_n_busy, root_busy_committed,
		 root_free_head, root_n_free, root_free_committed,
		 root_node_pool_head, root_n_node_pools, root_next_heap,
		 root_extra_flags, root_normal_heap, root_create_stack_trace, root_sizeof;
	/* _RTL_AVL_TABLE / _RTL_BALANCED_LINKS */
	uint32_t avl_root_right_child, avl_n_elements, links_left, links_right, links_sizeof;
	/* _DPH_HEAP_BLOCK */
	uint32_t node_next_alloc, node_user, node_virtual_block, node_virtual_size,
		 node_access_size, node_requested, node_actual, node_user_value,
		 node_user_flags, node_stack_trace, node_sizeof;
	/* _DPH_BLOCK_INFORMATION */
	uint32_t bi_start_stamp, bi_heap, bi_requested, bi_actual, bi_trace_index,
		 bi_stack_trace, bi_end_stamp, bi_sizeof;
	/* _RTL_STACK_TRACE_ENTRY */
	uint32_t ste_trace_count, ste_index, ste_depth, ste_backtrace, ste_max_depth;
	/* _HEAP_ENTRY_EXTRA (the last bytes of a block with the EXTRA flag) */
	uint32_t extra_backtrace_index, extra_sizeof;
	/* _HEAP_FAILURE_INFORMATION */
	uint32_t hfi_version, hfi_structure_size, hfi_failure_type, hfi_heap_address,
		 hfi_address, hfi_param1, hfi_param2, hfi_param3, hfi_previous_block,
		 hfi_next_block, hfi_stack_trace;
};

/* The row for arch (X86 or X64), or NULL. */
const struct ich_dph_layout *ich_dph_layout_for(enum ich_arch arch);

/* One page-heap block, busy or freed. */
struct ich_dph_block {
	uint64_t heap;		/* heap handle (fake _HEAP page) */
	uint64_t root;		/* _DPH_HEAP_ROOT */
	uint64_t node;		/* _DPH_HEAP_BLOCK; 0 for a light block */
	uint64_t user;		/* pUserAllocation */
	uint64_t size;		/* nUserRequestedSize */
	uint64_t virt, virt_size;	/* pVirtualBlock, nVirtualBlockSize */
	uint64_t trace;		/* _RTL_STACK_TRACE_ENTRY: allocation (busy) or free (freed) stack; 0 = none */
	uint64_t nt_heap, nt_header;	/* light: the NormalHeap and its _HEAP_ENTRY */
	/* A freed full-page block whose first page is still in the dump: its
	 * _DPH_BLOCK_INFORMATION (stamped 0xABCDBBBA) keeps the allocation
	 * trace while the node holds the free trace.  0 = not readable. */
	uint64_t alloc_trace;
	bool busy, light;
};

/* The page-heap block holding addr (its user range, or for a full-page
 * block its whole virtual block): *found says whether there is one. */
struct ich_error *ich_page_heap_find(struct ich_heaps *h, uint64_t addr,
				     struct ich_dph_block *b, bool *found);
/* Page heap details of a heap of kind PAGE: root, NormalHeap, ExtraFlags,
 * busy and freed counts as the root records them. */
struct ich_dph_root_info {
	uint64_t root, normal_heap;
	uint32_t extra_flags, heap_flags;
	uint32_t n_busy, n_free, n_virtual_ranges;
	uint64_t busy_committed, free_committed, virtual_bytes;
};
struct ich_error *ich_page_heap_root(struct ich_heaps *h, const struct ich_heap *heap,
				     struct ich_dph_root_info *out);
/* The page heap whose NormalHeap is heap (0 when none). */
uint64_t ich_page_heap_owner(const struct ich_heap *heap);

/* ------------------------------------------------------------------ stacks */

#define ICH_STACK_MAX 64
struct ich_stack {
	uint64_t entry;		/* _RTL_STACK_TRACE_ENTRY */
	uint32_t index;		/* its Index */
	unsigned depth;
	uint64_t frames[ICH_STACK_MAX];
};

/* Read one _RTL_STACK_TRACE_ENTRY (Depth bounded by the structure's 32). */
struct ich_error *ich_stack_read(struct ich_heaps *h, uint64_t entry, struct ich_stack *s);

/*
 * The user-mode stack trace database (+ust), found without symbols by
 * its shape: the EntryIndexArray that STACK_TRACE_DATABASE keeps,
 * "indexed by [-1 .. -NumberOfEntriesAdded]" (WRK base/ntos/inc/stktrace.h),
 * whose slot -i points to an _RTL_STACK_TRACE_ENTRY with Index i.  Returns
 * false (and a reason) when the dump holds none.
 */
bool ich_ust_database(struct ich_heaps *h, uint64_t *entry_index_array,
		      uint32_t *entries, char *why, size_t whylen);
/* The trace of an NT-heap block (its _HEAP_ENTRY_EXTRA
 * AllocatorBackTraceIndex; the block must carry the EXTRA flag). */
struct ich_error *ich_ust_block_stack(struct ich_heaps *h, const struct ich_heap_block *b,
				      struct ich_stack *s, bool *found);
/* The allocation stack of any block a walk gives: page heap (the node's
 * or the block information's trace), NT back end with +ust (the database
 * index in its _HEAP_ENTRY_EXTRA).  *found false when it has none. */
struct ich_error *ich_block_stack(struct ich_heaps *h, const struct ich_heap *heap,
				  const struct ich_heap_block *b, struct ich_stack *s, bool *found);
/* The trace with this database index. */
struct ich_error *ich_ust_stack(struct ich_heaps *h, uint32_t index, struct ich_stack *s,
				bool *found);

/* "module+0xOFFSET" (module base name without extension) for addr, from
 * the dump's module list; false (and out = "") when in no module. */
bool ich_frame_module(struct ich_dump *dump, uint64_t addr, char *out, size_t n,
		      uint64_t *offset);

#ifdef __cplusplus
}
#endif
#endif
