/* SPDX-License-Identifier: MIT */
/*
 * _POOL_TRACKER_TABLE (one pool tag's counters in nt!PoolTrackTable), one
 * row per (arch, first build).  Sources, read with the search tools (no
 * code copied):
 *  [N1] ntdiff/headers Win10_1511_TS2/x64/System32/ntoskrnl.exe/Standalone/
 *       _POOL_TRACKER_TABLE.h (pdbex): Key 0, NonPagedAllocs 4, NonPagedFrees
 *       8 (ULONG), NonPagedBytes 0x10 (ULONG64), PagedAllocs 0x18, PagedFrees
 *       0x1C, PagedBytes 0x20; size 0x28.  A Vergilius-format x64 header
 *       (find_string "_POOL_TRACKER_TABLE", id 1348771123) agrees, and so does
 *       the WRK's base/ntos/ex/pool.h (ULONG counts, SIZE_T bytes).
 *  [G]  an sdkgen PDB-generated header listing the offsets per build (find_string
 *       "_POOL_TRACKER_TABLE", id 41916966993): Windows 10 1607 = [N1];
 *       2004, 20H2 and Windows 11: Key 0, NonPagedBytes 8, NonPagedAllocs
 *       0x10, NonPagedFrees 0x18, PagedBytes 0x20, PagedAllocs 0x28,
 *       PagedFrees 0x30 (all 8 bytes); Windows 11 adds AvailableLimit[2]
 *       0x38 and LimitInfo 0x48 (size 0x50).
 *  [V]  TDC0471/windows-defs structs/_POOL_TRACKER_TABLE.h (Vergilius
 *       format): the 0x38-byte x64 layout of [G].
 *  [C]  a C# binding generated from the Windows 11 ntoskrnl PDB (find_string id
 *       13784722845, namespace ntoskrnlib.Win11): the 0x50-byte layout of [G].
 *  [X7] Vergilius-format x86 headers (find_string ids 1654340687, 7318837090,
 *       6804520851): Key, NonPagedAllocs, NonPagedFrees, NonPagedBytes,
 *       PagedAllocs, PagedFrees, PagedBytes, all ULONG; size 0x1C.
 *  [N3] ntdiff/headers Win10_XXXX_21292/x86/System32/ntoskrnl.exe/Standalone/
 *       _POOL_TRACKER_TABLE.h: Key 0, NonPagedBytes 4 (ULONG), NonPagedAllocs
 *       8, NonPagedFrees 0x10 (ULONG64), PagedBytes 0x18 (ULONG), PagedAllocs
 *       0x20, PagedFrees 0x28 (ULONG64), AvailableLimit 0x30, LimitInfo 0x38;
 *       size 0x40.
 *  [N2] ntdiff/headers Win10_20H1_18885/ARM64/System32/ntoskrnl.exe/Standalone/
 *       _POOL_TRACKER_TABLE.h: ARM64 has the x64 0x38 layout of [G].
 *  [D]  decompiled ntoskrnl builds (find_string "ExPoolTagTables = ") index the
 *       table with strides 40, 56 and 80 (x64) and 28 (x86): a 56-byte build
 *       that still allocates the table with MiAllocatePoolPages (before
 *       the 19H1 heap-backed pool) shows the 0x38 layout predates 2004.
 * Where no source names the build, the row is marked derived and the
 * walker (src/kernel/pool.c) confirms it against the table, trying the
 * other rows of the arch when it does not fit.
 */
#include <stddef.h>

#include <icpheap/pool.h>

/* x64 ULONG counts, SIZE_T bytes ([N1]) */
#define X64_0x28 .size = 0x28, .key = 0, .np_allocs = 4, .np_frees = 8, .np_bytes = 0x10, \
	.p_allocs = 0x18, .p_frees = 0x1C, .p_bytes = 0x20, .count_width = 4, .bytes_width = 8
/* x64 ULONG64 everything, bytes first ([G], [V]); 0x50 adds the limit fields ([G], [C]) */
#define X64_WIDE .key = 0, .np_bytes = 8, .np_allocs = 0x10, .np_frees = 0x18, \
	.p_bytes = 0x20, .p_allocs = 0x28, .p_frees = 0x30, .count_width = 8, .bytes_width = 8
/* x86 all ULONG ([X7]) */
#define X86_0x1C .size = 0x1C, .key = 0, .np_allocs = 4, .np_frees = 8, .np_bytes = 0xC, \
	.p_allocs = 0x10, .p_frees = 0x14, .p_bytes = 0x18, .count_width = 4, .bytes_width = 4
/* x86 ULONG bytes, ULONG64 counts ([N3]); the 0x30 row is [N3] without the
 * limit fields, as the x64 0x38 row is the 0x50 row without them */
#define X86_WIDE .key = 0, .np_bytes = 4, .np_allocs = 8, .np_frees = 0x10, \
	.p_bytes = 0x18, .p_allocs = 0x20, .p_frees = 0x28, .count_width = 8, .bytes_width = 4

static const struct ich_pool_tracker_layout rows[] = {
	{ .arch = ICH_ARCH_X64, .build_min = 7600, .label = "x64 Windows 7 - 10 1607 (0x28)",
	  .source = "ntdiff/headers Win10_1511_TS2 x64 _POOL_TRACKER_TABLE.h; sdkgen 1607 column; WRK pool.h",
	  X64_0x28 },
	{ .arch = ICH_ARCH_X64, .build_min = 15063, .label = "x64 Windows 10 1703-1909 (0x38)",
	  .source = "derived: the 0x38 layout of 2004 (sdkgen, TDC0471/windows-defs); decompiled pre-19H1 builds index 56-byte entries",
	  .derived = true, .size = 0x38, X64_WIDE },
	{ .arch = ICH_ARCH_X64, .build_min = 19041, .label = "x64 Windows 10 2004-22H2 (0x38)",
	  .source = "sdkgen _POOL_TRACKER_TABLE 2004/20H2 columns; TDC0471/windows-defs structs/_POOL_TRACKER_TABLE.h",
	  .size = 0x38, X64_WIDE },
	{ .arch = ICH_ARCH_X64, .build_min = 22000, .label = "x64 Windows 11 21H2-23H2 (0x50)",
	  .source = "sdkgen _POOL_TRACKER_TABLE Windows 11 column; ntoskrnlib.Win11 _POOL_TRACKER_TABLE (Size 80)",
	  .size = 0x50, X64_WIDE },
	{ .arch = ICH_ARCH_X64, .build_min = 26100, .label = "x64 Windows 11 24H2 (0x50)",
	  .source = "derived: the Windows 11 0x50 layout (sdkgen, ntoskrnlib.Win11); decompiled builds index 80-byte entries",
	  .derived = true, .size = 0x50, X64_WIDE },
	{ .arch = ICH_ARCH_ARM64, .build_min = 19041, .label = "ARM64 Windows 10 2004-22H2 (0x38)",
	  .source = "ntdiff/headers Win10_20H1_18885/ARM64/System32/ntoskrnl.exe/Standalone/_POOL_TRACKER_TABLE.h (a 20H1 insider build; = the x64 0x38 layout)",
	  .size = 0x38, X64_WIDE },
	{ .arch = ICH_ARCH_ARM64, .build_min = 22000, .label = "ARM64 Windows 11 (0x50)",
	  .source = "derived: the x64 Windows 11 0x50 layout (sdkgen, ntoskrnlib.Win11), as ARM64 18885 equals x64 2004",
	  .derived = true, .size = 0x50, X64_WIDE },
	{ .arch = ICH_ARCH_X86, .build_min = 7600, .label = "x86 Windows 7 - 10 1607 (0x1C)",
	  .source = "Vergilius-format x86 _POOL_TRACKER_TABLE (0x1c); WRK pool.h with 4-byte SIZE_T",
	  X86_0x1C },
	{ .arch = ICH_ARCH_X86, .build_min = 15063, .label = "x86 Windows 10 1703-20H2 (0x30)",
	  .source = "derived: ntdiff/headers Win10_XXXX_21292 x86 _POOL_TRACKER_TABLE.h without AvailableLimit/LimitInfo",
	  .derived = true, .size = 0x30, X86_WIDE },
	{ .arch = ICH_ARCH_X86, .build_min = 21292, .label = "x86 Windows 10 21H1+ (0x40)",
	  .source = "ntdiff/headers Win10_XXXX_21292 x86 _POOL_TRACKER_TABLE.h",
	  .size = 0x40, X86_WIDE },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

const struct ich_pool_tracker_layout *ich_pool_layout_for(enum ich_arch arch, uint32_t build)
{
	const struct ich_pool_tracker_layout *best = NULL;
	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].arch == arch && rows[i].build_min <= build &&
		    (!best || rows[i].build_min > best->build_min))
			best = &rows[i];
	return best;
}

size_t ich_pool_layout_count(void) { return NROWS; }
const struct ich_pool_tracker_layout *ich_pool_layout(size_t i) { return i < NROWS ? &rows[i] : NULL; }
