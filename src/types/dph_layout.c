/* SPDX-License-Identifier: MIT */
/*
 * Page heap (DPH), stack trace and heap-failure structure offsets, one
 * named row per architecture.  These structures kept their shape from
 * Windows 7 to Windows 11, so one row per arch serves every build the
 * NT heap rows cover; the walker still checks every value it reads.
 *
 * Sources (read with the search tools; no code copied):
 *  [L] layouts.md §5 / S1 (can1357/selene, PDB-derived, x64 Win10 1607..Win11):
 *      _DPH_HEAP_ROOT, _DPH_BLOCK_INFORMATION, _HEAP_ENTRY_EXTRA,
 *      _HEAP_FAILURE_INFORMATION (layouts-x64-selene.json).
 *  [R] radareorg/radare2-gsoc-windows structs/parsed/Win10x64/_DPH_HEAP_BLOCK.h,
 *      structs/parsed/Win7x86/{_DPH_HEAP_BLOCK,_DPH_HEAP_ROOT,
 *      _DPH_BLOCK_INFORMATION,_HEAP_ENTRY_EXTRA,_HEAP_FAILURE_INFORMATION}.h
 *      (PDB-derived member lists; x86 offsets follow from 4-byte pointers
 *      and SIZE_T, checked against the x64 offsets of [L]).
 *  [O] reactos/reactos sdk/lib/rtl/heappage.c: the same DPH_HEAP_ROOT /
 *      DPH_HEAP_BLOCK / DPH_BLOCK_INFORMATION member order; busy nodes are
 *      inserted in BusyNodesTable with &Node->pUserAllocation as the element
 *      (so each AVL node is the _DPH_HEAP_BLOCK itself, links first).
 *  [N] ntdiff/headers WinVista/x64/System32/ntdll.dll/Standalone/
 *      _RTL_STACK_TRACE_ENTRY.h: HashChain 0, TraceCount:11|BlockDepth:5 8,
 *      IndexHigh 0xA, Index 0xC, Depth 0xE, BackTrace[32] 0x10 (size 0x110).
 *      x86 (🔶 derived: 4-byte HashChain): 4, 8, 0xA, 0xC.
 *  RTL_AVL_TABLE / RTL_BALANCED_LINKS: BalancedRoot (Parent, LeftChild,
 *      RightChild, Balance) first; the tree hangs off BalancedRoot.RightChild
 *      (ReactOS sdk/lib/rtl/avlsupp.c); NumberGenericTableElements after
 *      OrderedPointer and WhichOrderedElement — x64 0x2C, x86 0x18, which
 *      puts NodeToAllocate at 0xA0 / 0x58 as [L] and [R] say.
 */
#include <stddef.h>

#include <icpheap/pageheap.h>

static const struct ich_dph_layout rows[] = {
	{
		.arch = ICH_ARCH_X64, .ptr = 8,
		.source = "layouts.md §5 (S1 selene) + radare2-gsoc-windows Win10x64 _DPH_HEAP_BLOCK + ntdiff Vista x64 _RTL_STACK_TRACE_ENTRY",
		.root_signature = 0x0, .root_heap_flags = 0x4, .root_virtual_storage_head = 0x18,
		.root_n_virtual_storage_ranges = 0x28, .root_n_virtual_storage_bytes = 0x30,
		.root_busy_nodes_table = 0x38, .root_n_busy = 0xA8, .root_busy_committed = 0xB0,
		.root_free_head = 0xB8, .root_n_free = 0xC8, .root_free_committed = 0xD0,
		.root_node_pool_head = 0x118, .root_n_node_pools = 0x128, .root_next_heap = 0x138,
		.root_extra_flags = 0x148, .root_normal_heap = 0x150, .root_create_stack_trace = 0x158,
		.root_sizeof = 0x168,
		.avl_root_right_child = 0x10, .avl_n_elements = 0x2C,
		.links_left = 0x8, .links_right = 0x10, .links_sizeof = 0x20,
		.node_next_alloc = 0x0, .node_user = 0x20, .node_virtual_block = 0x28,
		.node_virtual_size = 0x30, .node_access_size = 0x38, .node_requested = 0x40,
		.node_actual = 0x48, .node_user_value = 0x50, .node_user_flags = 0x58,
		.node_stack_trace = 0x60, .node_sizeof = 0x80,
		.bi_start_stamp = 0x0, .bi_heap = 0x8, .bi_requested = 0x10, .bi_actual = 0x18,
		.bi_trace_index = 0x20, .bi_stack_trace = 0x30, .bi_end_stamp = 0x3C, .bi_sizeof = 0x40,
		.ste_trace_count = 0x8, .ste_index = 0xC, .ste_depth = 0xE, .ste_backtrace = 0x10,
		.ste_max_depth = 32,
		.extra_backtrace_index = 0x0, .extra_sizeof = 0x10,
		/* [L] columns 2004/20H2/Win11; 1607 has StackTrace at 0x68 */
		.hfi_version = 0x0, .hfi_structure_size = 0x4, .hfi_failure_type = 0x8,
		.hfi_heap_address = 0x10, .hfi_address = 0x18, .hfi_param1 = 0x20, .hfi_param2 = 0x28,
		.hfi_param3 = 0x30, .hfi_previous_block = 0x38, .hfi_next_block = 0x40,
		.hfi_stack_trace = 0x58,
	},
	{
		.arch = ICH_ARCH_X86, .ptr = 4,
		.source = "radare2-gsoc-windows Win7x86 _DPH_* / _HEAP_ENTRY_EXTRA / _HEAP_FAILURE_INFORMATION (member lists; offsets derived)",
		.root_signature = 0x0, .root_heap_flags = 0x4, .root_virtual_storage_head = 0x10,
		.root_n_virtual_storage_ranges = 0x18, .root_n_virtual_storage_bytes = 0x1C,
		.root_busy_nodes_table = 0x20, .root_n_busy = 0x5C, .root_busy_committed = 0x60,
		.root_free_head = 0x64, .root_n_free = 0x6C, .root_free_committed = 0x70,
		.root_node_pool_head = 0x94, .root_n_node_pools = 0x9C, .root_next_heap = 0xA4,
		.root_extra_flags = 0xAC, .root_normal_heap = 0xB4, .root_create_stack_trace = 0xB8,
		.root_sizeof = 0xC0,
		.avl_root_right_child = 0x8, .avl_n_elements = 0x18,
		.links_left = 0x4, .links_right = 0x8, .links_sizeof = 0x10,
		.node_next_alloc = 0x0, .node_user = 0x10, .node_virtual_block = 0x14,
		.node_virtual_size = 0x18, .node_access_size = 0x1C, .node_requested = 0x20,
		.node_actual = 0x24, .node_user_value = 0x28, .node_user_flags = 0x2C,
		.node_stack_trace = 0x30, .node_sizeof = 0x40,
		.bi_start_stamp = 0x0, .bi_heap = 0x4, .bi_requested = 0x8, .bi_actual = 0xC,
		.bi_trace_index = 0x10, .bi_stack_trace = 0x18, .bi_end_stamp = 0x1C, .bi_sizeof = 0x20,
		.ste_trace_count = 0x4, .ste_index = 0x8, .ste_depth = 0xA, .ste_backtrace = 0xC,
		.ste_max_depth = 32,
		.extra_backtrace_index = 0x0, .extra_sizeof = 0x8,
		.hfi_version = 0x0, .hfi_structure_size = 0x4, .hfi_failure_type = 0x8,
		.hfi_heap_address = 0xC, .hfi_address = 0x10, .hfi_param1 = 0x14, .hfi_param2 = 0x18,
		.hfi_param3 = 0x1C, .hfi_previous_block = 0x20, .hfi_next_block = 0x24,
		.hfi_stack_trace = 0x38,
	},
};

const struct ich_dph_layout *ich_dph_layout_for(enum ich_arch arch)
{
	/* ARM64 uses the x64 row: the same pointer-built structures with the
	 * same x64/ARM64 MSVC alignment (derived; see the ARM64 note in
	 * src/types/layout.c). */
	if (arch == ICH_ARCH_ARM64)
		arch = ICH_ARCH_X64;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].arch == arch)
			return &rows[i];
	return NULL;
}
