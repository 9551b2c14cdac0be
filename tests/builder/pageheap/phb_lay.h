/* SPDX-License-Identifier: MIT */
/*
 * Structure offsets used by the page-heap scenario builder.  Every value
 * names its source (ids are explained in README.md "Sources"):
 *   L1   /work/shared/reference/layouts.md section 1 (PEB/TEB)
 *   L2   layouts.md section 2 (_HEAP 1809+ columns, _HEAP_SEGMENT,
 *        _HEAP_ENTRY, _HEAP_VIRTUAL_ALLOC_ENTRY), section 3 (LFH)
 *   SEL  layouts-x64-selene.json (can1357/selene, PDB-derived, x64):
 *        _DPH_HEAP_ROOT, _DPH_BLOCK_INFORMATION, _HEAP_FAILURE_INFORMATION
 *   PDX  pdbex dumps of Windows 10 ntdll (ntdiff/headers style):
 *        x86 _DPH_HEAP_ROOT, _RTL_AVL_TABLE, _RTL_BALANCED_LINKS,
 *        _DPH_HEAP_BLOCK, _DPH_BLOCK_INFORMATION, _STACK_TRACE_DATABASE,
 *        _RTL_STACK_TRACE_ENTRY; x64 _STACK_TRACE_DATABASE,
 *        _RTL_STACK_TRACE_ENTRY
 *   NTL  ntoskrnlib.Win11.ntdll C# layouts (PDB-derived): x64
 *        _DPH_HEAP_BLOCK
 *   NTD  ntdiff/headers Win10_1809_RS5/x64 ntdll _HEAP_ENTRY_EXTRA
 *   WNT  winnt.h CONTEXT (AMD64 / i386) register offsets
 */
#ifndef PHB_LAY_H
#define PHB_LAY_H
#include <stdbool.h>
#include <stdint.h>

struct phb_lay {
	unsigned ps, unit;	/* pointer size; heap allocation unit */
	bool x64;
	/* TEB/PEB (L1; NtTib StackBase/StackLimit/Self from NT_TIB) */
	uint32_t teb_stackbase, teb_stacklimit, teb_self, teb_peb;
	uint32_t peb_heap, peb_ntgf, peb_nheaps, peb_maxheaps, peb_heaps;
	/* _HEAP 1809+ (L2) */
	uint32_t h_flags, h_force, h_encmask, h_encoding, h_sig, h_ucrlist, h_vab,
		 h_seglist, h_feh, h_feht, h_size;
	/* _HEAP_SEGMENT (L2) */
	uint32_t s_sig, s_flags, s_listentry, s_heap, s_base, s_pages, s_first, s_last,
		 s_ucpages, s_ucranges, s_ucrlist;
	/* _HEAP_VIRTUAL_ALLOC_ENTRY (L2): ExtraStuff, CommitSize, ReserveSize, BusyBlock */
	uint32_t v_extra, v_commit, v_reserve, v_busy, v_size;
	/* _HEAP_ENTRY_EXTRA size (NTD: 0x10 x64; 8 x86 by the same layout with
	 * a 4-byte Settable) */
	uint32_t extra_size;
	/* _HEAP_USERDATA_HEADER, _HEAP_SUBSEGMENT, _LFH_HEAP.Heap (L2 section 3) */
	uint32_t ub_sig, ub_encoff, ub_bitmap, ub_bitmapdata, ss_userblocks, ss_blocksize,
		 ss_blockcount, lfh_heap;
	/* _DPH_HEAP_ROOT (SEL x64, PDX x86) */
	uint32_t r_sig, r_flags, r_crit, r_vhead, r_vtail, r_nvranges, r_nvbytes, r_busy,
		 r_nodetoalloc, r_nbusy, r_nbusybytes, r_fhead, r_ftail, r_nfree, r_nfreebytes,
		 r_avail, r_navail, r_navailbytes, r_unhead, r_untail, r_nunused, r_nbusyaccess,
		 r_poolhead, r_pooltail, r_npools, r_npoolbytes, r_next, r_extra, r_seed,
		 r_normal, r_createtrace, r_firstthread, r_size;
	/* _RTL_AVL_TABLE / _RTL_BALANCED_LINKS (PDX x86; x64 = same fields
	 * with 8-byte pointers, consistent with SEL BusyNodesTable 0x38 ->
	 * NodeToAllocate 0xA0) */
	uint32_t bl_parent, bl_left, bl_right, bl_balance, avl_count, avl_depth, avl_size;
	/* _DPH_HEAP_BLOCK (NTL x64, PDX x86) */
	uint32_t n_next, n_user, n_virt, n_vsize, n_asize, n_req, n_actual, n_uvalue,
		 n_uflags, n_trace, n_adjacency, n_region, n_size;
	/* _DPH_BLOCK_INFORMATION (SEL x64, PDX x86) */
	uint32_t i_start, i_heap, i_req, i_actual, i_queue, i_trace, i_end, i_size;
	/* _RTL_STACK_TRACE_ENTRY (PDX both) */
	uint32_t t_hash, t_count, t_indexhigh, t_index, t_depth, t_bt, t_size;
	/* _STACK_TRACE_DATABASE (PDX both) */
	uint32_t d_lowerstart, d_precommitted, d_commitbase, d_lowerlimit, d_upperlimit,
		 d_nextlower, d_nextupper, d_lookedup, d_added, d_indexarray, d_nallocated,
		 d_navailable, d_nbuckets, d_buckets, d_bucket_size;
	/* CONTEXT (WNT) */
	uint32_t c_size, c_flags, c_full, c_sp, c_pc, c_ax, c_bx, c_cx, c_dx, c_si, c_di, c_bp;
};

static const struct phb_lay phb_x64 = {
	.ps = 8, .unit = 16, .x64 = true,
	.teb_stackbase = 0x8, .teb_stacklimit = 0x10, .teb_self = 0x30, .teb_peb = 0x60,
	.peb_heap = 0x30, .peb_ntgf = 0xBC, .peb_nheaps = 0xE8, .peb_maxheaps = 0xEC,
	.peb_heaps = 0xF0,
	.h_flags = 0x70, .h_force = 0x74, .h_encmask = 0x7C, .h_encoding = 0x80,
	.h_sig = 0x98, .h_ucrlist = 0xF0, .h_vab = 0x110, .h_seglist = 0x120,
	.h_feh = 0x198, .h_feht = 0x1A2, .h_size = 0x2C0,
	.s_sig = 0x10, .s_flags = 0x14, .s_listentry = 0x18, .s_heap = 0x28, .s_base = 0x30,
	.s_pages = 0x38, .s_first = 0x40, .s_last = 0x48, .s_ucpages = 0x50,
	.s_ucranges = 0x54, .s_ucrlist = 0x60,
	.v_extra = 0x10, .v_commit = 0x20, .v_reserve = 0x28, .v_busy = 0x30, .v_size = 0x40,
	.extra_size = 0x10,
	.ub_sig = 0x14, .ub_encoff = 0x18, .ub_bitmap = 0x20, .ub_bitmapdata = 0x30,
	.ss_userblocks = 0x8, .ss_blocksize = 0x24, .ss_blockcount = 0x28, .lfh_heap = 0x18,
	.r_sig = 0x0, .r_flags = 0x4, .r_crit = 0x8, .r_vhead = 0x18, .r_vtail = 0x20,
	.r_nvranges = 0x28, .r_nvbytes = 0x30, .r_busy = 0x38, .r_nodetoalloc = 0xA0,
	.r_nbusy = 0xA8, .r_nbusybytes = 0xB0, .r_fhead = 0xB8, .r_ftail = 0xC0,
	.r_nfree = 0xC8, .r_nfreebytes = 0xD0, .r_avail = 0xD8, .r_navail = 0xE8,
	.r_navailbytes = 0xF0, .r_unhead = 0xF8, .r_untail = 0x100, .r_nunused = 0x108,
	.r_nbusyaccess = 0x110, .r_poolhead = 0x118, .r_pooltail = 0x120, .r_npools = 0x128,
	.r_npoolbytes = 0x130, .r_next = 0x138, .r_extra = 0x148, .r_seed = 0x14C,
	.r_normal = 0x150, .r_createtrace = 0x158, .r_firstthread = 0x160, .r_size = 0x168,
	.bl_parent = 0x0, .bl_left = 0x8, .bl_right = 0x10, .bl_balance = 0x18,
	.avl_count = 0x2C, .avl_depth = 0x30, .avl_size = 0x68,
	.n_next = 0x0, .n_user = 0x20, .n_virt = 0x28, .n_vsize = 0x30, .n_asize = 0x38,
	.n_req = 0x40, .n_actual = 0x48, .n_uvalue = 0x50, .n_uflags = 0x58, .n_trace = 0x60,
	.n_adjacency = 0x68, .n_region = 0x78, .n_size = 0x80,
	.i_start = 0x0, .i_heap = 0x8, .i_req = 0x10, .i_actual = 0x18, .i_queue = 0x20,
	.i_trace = 0x30, .i_end = 0x3C, .i_size = 0x40,
	.t_hash = 0x0, .t_count = 0x8, .t_indexhigh = 0xA, .t_index = 0xC, .t_depth = 0xE,
	.t_bt = 0x10, .t_size = 0x110,
	.d_lowerstart = 0x78, .d_precommitted = 0x80, .d_commitbase = 0x88,
	.d_lowerlimit = 0x90, .d_upperlimit = 0x98, .d_nextlower = 0xA0, .d_nextupper = 0xA8,
	.d_lookedup = 0xB0, .d_added = 0xB4, .d_indexarray = 0xB8, .d_nallocated = 0xC0,
	.d_navailable = 0xC4, .d_nbuckets = 0x2D0, .d_buckets = 0x2D8, .d_bucket_size = 0x10,
	.c_size = 0x4D0, .c_flags = 0x30, .c_full = 0x10000B, .c_sp = 0x98, .c_pc = 0xF8,
	.c_ax = 0x78, .c_bx = 0x90, .c_cx = 0x80, .c_dx = 0x88, .c_si = 0xA8, .c_di = 0xB0,
	.c_bp = 0xA0,
};

static const struct phb_lay phb_x86 = {
	.ps = 4, .unit = 8, .x64 = false,
	.teb_stackbase = 0x4, .teb_stacklimit = 0x8, .teb_self = 0x18, .teb_peb = 0x30,
	.peb_heap = 0x18, .peb_ntgf = 0x68, .peb_nheaps = 0x88, .peb_maxheaps = 0x8C,
	.peb_heaps = 0x90,
	.h_flags = 0x40, .h_force = 0x44, .h_encmask = 0x4C, .h_encoding = 0x50,
	.h_sig = 0x60, .h_ucrlist = 0x8C, .h_vab = 0x9C, .h_seglist = 0xA4,
	.h_feh = 0xE4, .h_feht = 0xEA, .h_size = 0x258,
	.s_sig = 0x8, .s_flags = 0xC, .s_listentry = 0x10, .s_heap = 0x18, .s_base = 0x1C,
	.s_pages = 0x20, .s_first = 0x24, .s_last = 0x28, .s_ucpages = 0x2C,
	.s_ucranges = 0x30, .s_ucrlist = 0x38,
	.v_extra = 0x8, .v_commit = 0x10, .v_reserve = 0x14, .v_busy = 0x18, .v_size = 0x20,
	.extra_size = 0x8,
	.ub_sig = 0xC, .ub_encoff = 0x10, .ub_bitmap = 0x14, .ub_bitmapdata = 0x1C,
	.ss_userblocks = 0x4, .ss_blocksize = 0x14, .ss_blockcount = 0x18, .lfh_heap = 0xC,
	.r_sig = 0x0, .r_flags = 0x4, .r_crit = 0x8, .r_vhead = 0x10, .r_vtail = 0x14,
	.r_nvranges = 0x18, .r_nvbytes = 0x1C, .r_busy = 0x20, .r_nodetoalloc = 0x58,
	.r_nbusy = 0x5C, .r_nbusybytes = 0x60, .r_fhead = 0x64, .r_ftail = 0x68,
	.r_nfree = 0x6C, .r_nfreebytes = 0x70, .r_avail = 0x74, .r_navail = 0x7C,
	.r_navailbytes = 0x80, .r_unhead = 0x84, .r_untail = 0x88, .r_nunused = 0x8C,
	.r_nbusyaccess = 0x90, .r_poolhead = 0x94, .r_pooltail = 0x98, .r_npools = 0x9C,
	.r_npoolbytes = 0xA0, .r_next = 0xA4, .r_extra = 0xAC, .r_seed = 0xB0,
	.r_normal = 0xB4, .r_createtrace = 0xB8, .r_firstthread = 0xBC, .r_size = 0xC0,
	.bl_parent = 0x0, .bl_left = 0x4, .bl_right = 0x8, .bl_balance = 0xC,
	.avl_count = 0x18, .avl_depth = 0x1C, .avl_size = 0x38,
	.n_next = 0x0, .n_user = 0x10, .n_virt = 0x14, .n_vsize = 0x18, .n_asize = 0x1C,
	.n_req = 0x20, .n_actual = 0x24, .n_uvalue = 0x28, .n_uflags = 0x2C, .n_trace = 0x30,
	.n_adjacency = 0x34, .n_region = 0x3C, .n_size = 0x40,
	.i_start = 0x0, .i_heap = 0x4, .i_req = 0x8, .i_actual = 0xC, .i_queue = 0x10,
	.i_trace = 0x18, .i_end = 0x1C, .i_size = 0x20,
	.t_hash = 0x0, .t_count = 0x4, .t_indexhigh = 0x6, .t_index = 0x8, .t_depth = 0xA,
	.t_bt = 0xC, .t_size = 0x8C,
	.d_lowerstart = 0x40, .d_precommitted = 0x44, .d_commitbase = 0x48,
	.d_lowerlimit = 0x4C, .d_upperlimit = 0x50, .d_nextlower = 0x54, .d_nextupper = 0x58,
	.d_lookedup = 0x5C, .d_added = 0x60, .d_indexarray = 0x64, .d_nallocated = 0x68,
	.d_navailable = 0x6C, .d_nbuckets = 0x178, .d_buckets = 0x17C, .d_bucket_size = 0x8,
	.c_size = 0x2CC, .c_flags = 0x0, .c_full = 0x10007, .c_sp = 0xC4, .c_pc = 0xB8,
	.c_ax = 0xB0, .c_bx = 0xA4, .c_cx = 0xAC, .c_dx = 0xA8, .c_si = 0xA0, .c_di = 0x9C,
	.c_bp = 0xB4,
};

/* Constants (README "Constants"): heappage.c / heappagi.h (Windows Server
 * 2003 source, as the issue quotes them; the same values are defined in
 * ReactOS lib/rtl/heappage.c). */
#define DPH_SIGNATURE 0xFFEEDDCCu
#define HEAP_FLAG_PAGE_ALLOCS 0x01000000u
#define DPH_FILL 0xEEu			/* DPH_FILL 0xEEEEEEEE over the fake _HEAP page */
#define DPH_START_BUSY 0xABCDBBBBu
#define DPH_START_FREE 0xABCDBBBAu
#define DPH_END_BUSY 0xDCBABBBBu
#define DPH_END_FREE 0xDCBABBBAu
#define DPH_LIGHT_START_BUSY 0xABCDAAAAu
#define DPH_LIGHT_START_FREE 0xABCDAAA9u
#define DPH_LIGHT_END_BUSY 0xDCBAAAAAu
#define DPH_LIGHT_END_FREE 0xDCBAAAA9u
#define DPH_PAGE_SUFFIX 0xD0u		/* DPH_FILL_SUFFIX: page-heap bytes after user data */
#define DPH_PAGE_INFIX 0xC0u		/* DPH_FILL_INFIX: fresh page-heap user data */
#define DPH_NORMAL_SUFFIX 0xA0u		/* light page heap: bytes after user data */
#define DPH_FREE_FILL 0xF0u		/* light page heap: data of a delay-freed block */
#define DPH_POOL_SIZE 0x4000u		/* root page + node pool */
#define DPH_EXTRA_PAGE_HEAP 0x1u	/* ExtraFlags: full page heap (heappagi.h PAGE_HEAP_ENABLE_PAGE_HEAP) */
#define DPH_EXTRA_STACK_TRACES 0x2u	/* ExtraFlags: collect stack traces */
#define FLG_USER_STACK_TRACE_DB 0x1000u
#define FLG_HEAP_PAGE_ALLOCS 0x02000000u
#define RTLP_LFH_KEY 0x5A17C3E9u	/* same value as tests/builder/ntheap */
#endif
