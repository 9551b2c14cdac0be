/* SPDX-License-Identifier: MIT */
/*
 * The built-in layout rows.  THE place to add a Windows build: add a row to
 * `rows` below (reuse a field group when the structures did not change, or
 * add a group), citing the source.  Sources are the ids of
 * ../shared/reference/layouts.md §0:
 *   S1  can1357/selene (PDB-generated x64 headers), S6 ntdiff/headers
 *   (pdbex per build), S7 Vergilius via yuzhupeng/notebook, S11
 *   novafacing/vergilius-rs (ntoskrnl PDB types, x86+x64, 7600-22631),
 *   S2 MemProcFS (walking code, read only).
 * "derived" rows are analogies that no source confirms.
 */
#include "types/layout_internal.h"

#define FV(field, value) { ICH_F_##field, value }
#define END { ICH_F_COUNT, 0 }

/* ---- ntdll: TEB/PEB (layouts.md §1: same in every build 6.0-22631, S1, S11) */
static const struct field_value peb_x64[] = {
	FV(TEB_PROCESS_ENVIRONMENT_BLOCK, 0x60), FV(PEB_PROCESS_HEAP, 0x30),
	FV(PEB_NT_GLOBAL_FLAG, 0xBC), FV(PEB_NUMBER_OF_HEAPS, 0xE8),
	FV(PEB_MAXIMUM_NUMBER_OF_HEAPS, 0xEC), FV(PEB_PROCESS_HEAPS, 0xF0),
	/* PEB.Ldr: S1 (_PEB, every column); PEB_LDR_DATA / LDR_DATA_TABLE_ENTRY:
	 * a pdbex dump of _PEB_LDR_DATA64 (0x58 bytes) and
	 * _LDR_DATA_TABLE_ENTRY64 in a public header (find_string id
	 * 33116935708: InLoadOrderModuleList 0x10, DllBase 0x30, SizeOfImage
	 * 0x40, FullDllName 0x48, BaseDllName 0x58); the same prefix since NT
	 * 5 (the Vergilius 21H2 _PEB_LDR_DATA quoted in id 3537458535) */
	FV(PEB_LDR, 0x18), FV(PEB_LDR_DATA_IN_LOAD_ORDER_MODULE_LIST, 0x10),
	FV(LDR_DATA_TABLE_ENTRY_DLL_BASE, 0x30), FV(LDR_DATA_TABLE_ENTRY_SIZE_OF_IMAGE, 0x40),
	FV(LDR_DATA_TABLE_ENTRY_FULL_DLL_NAME, 0x48), FV(LDR_DATA_TABLE_ENTRY_BASE_DLL_NAME, 0x58),
	END,
};
static const struct field_value peb_x86[] = {
	FV(TEB_PROCESS_ENVIRONMENT_BLOCK, 0x30), FV(PEB_PROCESS_HEAP, 0x18),
	FV(PEB_NT_GLOBAL_FLAG, 0x68), FV(PEB_NUMBER_OF_HEAPS, 0x88),
	FV(PEB_MAXIMUM_NUMBER_OF_HEAPS, 0x8C), FV(PEB_PROCESS_HEAPS, 0x90),
	/* PEB32.Ldr 0x0C: S1 (_PEB32, every column); x86 PEB_LDR_DATA and
	 * LDR_DATA_TABLE_ENTRY with Vergilius offset comments in a public
	 * header (find_string id 45557486390: InLoadOrderModuleList 0xc,
	 * DllBase 0x18, SizeOfImage 0x20, FullDllName 0x24, BaseDllName 0x2c);
	 * also the 32-bit list of a WOW64 process's PEB32 */
	FV(PEB_LDR, 0x0C), FV(PEB_LDR_DATA_IN_LOAD_ORDER_MODULE_LIST, 0x0C),
	FV(LDR_DATA_TABLE_ENTRY_DLL_BASE, 0x18), FV(LDR_DATA_TABLE_ENTRY_SIZE_OF_IMAGE, 0x20),
	FV(LDR_DATA_TABLE_ENTRY_FULL_DLL_NAME, 0x24), FV(LDR_DATA_TABLE_ENTRY_BASE_DLL_NAME, 0x2C),
	END,
};

/* ---- ntdll: _HEAP (layouts.md §2 table, corrected columns) */
/* x64 Win7 7601: S11 (kernel copy, = ntdll per S6); sizeof derived */
static const struct field_value heap_x64_7601[] = {
	FV(HEAP_FLAGS, 0x70), FV(HEAP_FORCE_FLAGS, 0x74), FV(HEAP_ENCODE_FLAG_MASK, 0x7C),
	FV(HEAP_ENCODING, 0x80), FV(HEAP_POINTER_KEY, 0x90), FV(HEAP_SIGNATURE, 0xA0),
	FV(HEAP_UCR_LIST, 0xF8), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0x118),
	FV(HEAP_SEGMENT_LIST, 0x128), FV(HEAP_BLOCKS_INDEX, 0x140), FV(HEAP_UCR_INDEX, 0x148),
	FV(HEAP_FREE_LISTS, 0x158), FV(HEAP_FRONT_END_HEAP, 0x178),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0x182), FV(HEAP_COUNTERS, 0x188), FV(HEAP_SIZEOF, 0x208),
	/* label block of !heap -a: a Vergilius-format x64 Win7 _HEAP in a public file (find_string id
	 * 1249407306: MaximumTagIndex 0xea, TagEntries 0xf0, PseudoTagEntries 0x150,
	 * LockVariable 0x168); the fields before them follow Signature 0xA0 in order */
	FV(HEAP_SEGMENT_RESERVE, 0xA8), FV(HEAP_SEGMENT_COMMIT, 0xB0),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0xB8),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0xC0), FV(HEAP_TOTAL_FREE_SIZE, 0xC8),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0xD0), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0xD8),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0xE8), FV(HEAP_MAXIMUM_TAG_INDEX, 0xEA),
	FV(HEAP_TAG_ENTRIES, 0xF0), FV(HEAP_PSEUDO_TAG_ENTRIES, 0x150),
	FV(HEAP_LOCK_VARIABLE, 0x168), END,
};
/* x64 8.0-1511 (9200-10586): S6 8.1, S11 */
static const struct field_value heap_x64_9200[] = {
	FV(HEAP_FLAGS, 0x70), FV(HEAP_FORCE_FLAGS, 0x74), FV(HEAP_ENCODE_FLAG_MASK, 0x7C),
	FV(HEAP_ENCODING, 0x80), FV(HEAP_SIGNATURE, 0x98),
	FV(HEAP_UCR_LIST, 0xF0), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0x110),
	FV(HEAP_SEGMENT_LIST, 0x120), FV(HEAP_BLOCKS_INDEX, 0x138), FV(HEAP_UCR_INDEX, 0x140),
	FV(HEAP_FREE_LISTS, 0x150), FV(HEAP_FRONT_END_HEAP, 0x170),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0x17A), FV(HEAP_COUNTERS, 0x210), FV(HEAP_SIZEOF, 0x298),
	/* label block of !heap -a: S1 (selene _HEAP: the 1607, 2004, 20H2
	 * and Win11 columns agree); 8.x: the same prefix (Signature 0x98, UCRList 0xF0,
	 * FreeLists 0x150 as in S6 8.1), not read field by field */
	FV(HEAP_SEGMENT_RESERVE, 0xA0), FV(HEAP_SEGMENT_COMMIT, 0xA8),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0xB0),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0xB8), FV(HEAP_TOTAL_FREE_SIZE, 0xC0),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0xC8), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0xD0),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0xE0), FV(HEAP_MAXIMUM_TAG_INDEX, 0xE2),
	FV(HEAP_TAG_ENTRIES, 0xE8), FV(HEAP_PSEUDO_TAG_ENTRIES, 0x148),
	FV(HEAP_LOCK_VARIABLE, 0x160), END,
};
/* x64 1607-1803 (14393-17134): S1 1607, S11 */
static const struct field_value heap_x64_14393[] = {
	FV(HEAP_FLAGS, 0x70), FV(HEAP_FORCE_FLAGS, 0x74), FV(HEAP_ENCODE_FLAG_MASK, 0x7C),
	FV(HEAP_ENCODING, 0x80), FV(HEAP_SIGNATURE, 0x98),
	FV(HEAP_UCR_LIST, 0xF0), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0x110),
	FV(HEAP_SEGMENT_LIST, 0x120), FV(HEAP_BLOCKS_INDEX, 0x138), FV(HEAP_UCR_INDEX, 0x140),
	FV(HEAP_FREE_LISTS, 0x150), FV(HEAP_FRONT_END_HEAP, 0x178),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0x182), FV(HEAP_COUNTERS, 0x218), FV(HEAP_SIZEOF, 0x2A0),
	/* label block of !heap -a: S1 (selene _HEAP: the 1607, 2004, 20H2
	 * and Win11 columns agree); 8.x: the same prefix (Signature 0x98, UCRList 0xF0,
	 * FreeLists 0x150 as in S6 8.1), not read field by field */
	FV(HEAP_SEGMENT_RESERVE, 0xA0), FV(HEAP_SEGMENT_COMMIT, 0xA8),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0xB0),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0xB8), FV(HEAP_TOTAL_FREE_SIZE, 0xC0),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0xC8), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0xD0),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0xE0), FV(HEAP_MAXIMUM_TAG_INDEX, 0xE2),
	FV(HEAP_TAG_ENTRIES, 0xE8), FV(HEAP_PSEUDO_TAG_ENTRIES, 0x148),
	FV(HEAP_LOCK_VARIABLE, 0x160), END,
};
/* x64 1809+ (17763-22631): S6 1809, S1, S11 */
static const struct field_value heap_x64_17763[] = {
	FV(HEAP_FLAGS, 0x70), FV(HEAP_FORCE_FLAGS, 0x74), FV(HEAP_ENCODE_FLAG_MASK, 0x7C),
	FV(HEAP_ENCODING, 0x80), FV(HEAP_SIGNATURE, 0x98),
	FV(HEAP_UCR_LIST, 0xF0), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0x110),
	FV(HEAP_SEGMENT_LIST, 0x120), FV(HEAP_BLOCKS_INDEX, 0x138), FV(HEAP_UCR_INDEX, 0x140),
	FV(HEAP_FREE_LISTS, 0x150), FV(HEAP_FRONT_END_HEAP, 0x198),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0x1A2), FV(HEAP_COUNTERS, 0x238), FV(HEAP_SIZEOF, 0x2C0),
	/* label block of !heap -a: S1 (selene _HEAP: the 1607, 2004, 20H2
	 * and Win11 columns agree); 8.x: the same prefix (Signature 0x98, UCRList 0xF0,
	 * FreeLists 0x150 as in S6 8.1), not read field by field */
	FV(HEAP_SEGMENT_RESERVE, 0xA0), FV(HEAP_SEGMENT_COMMIT, 0xA8),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0xB0),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0xB8), FV(HEAP_TOTAL_FREE_SIZE, 0xC0),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0xC8), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0xD0),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0xE0), FV(HEAP_MAXIMUM_TAG_INDEX, 0xE2),
	FV(HEAP_TAG_ENTRIES, 0xE8), FV(HEAP_PSEUDO_TAG_ENTRIES, 0x148),
	FV(HEAP_LOCK_VARIABLE, 0x160), END,
};
/* x86 Win7: S6, S11 */
static const struct field_value heap_x86_7601[] = {
	FV(HEAP_FLAGS, 0x40), FV(HEAP_FORCE_FLAGS, 0x44), FV(HEAP_ENCODE_FLAG_MASK, 0x4C),
	FV(HEAP_ENCODING, 0x50), FV(HEAP_POINTER_KEY, 0x58), FV(HEAP_SIGNATURE, 0x64),
	FV(HEAP_UCR_LIST, 0x90), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0xA0),
	FV(HEAP_SEGMENT_LIST, 0xA8), FV(HEAP_BLOCKS_INDEX, 0xB8), FV(HEAP_UCR_INDEX, 0xBC),
	FV(HEAP_FREE_LISTS, 0xC4), FV(HEAP_FRONT_END_HEAP, 0xD4),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0xDA), FV(HEAP_COUNTERS, 0xDC), FV(HEAP_SIZEOF, 0x138),
	/* label block of !heap -a: derived: the x86 8.0+ offsets + 4 for
	 * Win7's PointerKey at 0x58 (S6 anchors: UCRList 0x90 and FreeLists 0xC4 are
	 * the 8.0+ 0x8C and 0xC0 + 4) */
	FV(HEAP_SEGMENT_RESERVE, 0x68), FV(HEAP_SEGMENT_COMMIT, 0x6C),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0x70),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0x74), FV(HEAP_TOTAL_FREE_SIZE, 0x78),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0x7C), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0x80),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0x88), FV(HEAP_MAXIMUM_TAG_INDEX, 0x8A),
	FV(HEAP_TAG_ENTRIES, 0x8C), FV(HEAP_PSEUDO_TAG_ENTRIES, 0xC0),
	FV(HEAP_LOCK_VARIABLE, 0xCC), END,
};
/* x86 8.0-1511: S6 8.1 and 1507, S11 */
static const struct field_value heap_x86_9200[] = {
	FV(HEAP_FLAGS, 0x40), FV(HEAP_FORCE_FLAGS, 0x44), FV(HEAP_ENCODE_FLAG_MASK, 0x4C),
	FV(HEAP_ENCODING, 0x50), FV(HEAP_SIGNATURE, 0x60),
	FV(HEAP_UCR_LIST, 0x8C), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0x9C),
	FV(HEAP_SEGMENT_LIST, 0xA4), FV(HEAP_BLOCKS_INDEX, 0xB4), FV(HEAP_UCR_INDEX, 0xB8),
	FV(HEAP_FREE_LISTS, 0xC0), FV(HEAP_FRONT_END_HEAP, 0xD0),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0xD6), FV(HEAP_COUNTERS, 0x1E0), FV(HEAP_SIZEOF, 0x248),
	/* label block of !heap -a: S6 x86 _HEAP 2004+ (ref 8228449482);
	 * 8.x-1803: the same prefix (Signature 0x60, UCRList 0x8C, FreeLists 0xC0),
	 * not read field by field */
	FV(HEAP_SEGMENT_RESERVE, 0x64), FV(HEAP_SEGMENT_COMMIT, 0x68),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0x6C),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0x70), FV(HEAP_TOTAL_FREE_SIZE, 0x74),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0x78), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0x7C),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0x84), FV(HEAP_MAXIMUM_TAG_INDEX, 0x86),
	FV(HEAP_TAG_ENTRIES, 0x88), FV(HEAP_PSEUDO_TAG_ENTRIES, 0xBC),
	FV(HEAP_LOCK_VARIABLE, 0xC8), END,
};
/* x86 1607-1803: S6 1607, S11 */
static const struct field_value heap_x86_14393[] = {
	FV(HEAP_FLAGS, 0x40), FV(HEAP_FORCE_FLAGS, 0x44), FV(HEAP_ENCODE_FLAG_MASK, 0x4C),
	FV(HEAP_ENCODING, 0x50), FV(HEAP_SIGNATURE, 0x60),
	FV(HEAP_UCR_LIST, 0x8C), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0x9C),
	FV(HEAP_SEGMENT_LIST, 0xA4), FV(HEAP_BLOCKS_INDEX, 0xB4), FV(HEAP_UCR_INDEX, 0xB8),
	FV(HEAP_FREE_LISTS, 0xC0), FV(HEAP_FRONT_END_HEAP, 0xD4),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0xDA), FV(HEAP_COUNTERS, 0x1E4), FV(HEAP_SIZEOF, 0x248),
	/* label block of !heap -a: S6 x86 _HEAP 2004+ (ref 8228449482);
	 * 8.x-1803: the same prefix (Signature 0x60, UCRList 0x8C, FreeLists 0xC0),
	 * not read field by field */
	FV(HEAP_SEGMENT_RESERVE, 0x64), FV(HEAP_SEGMENT_COMMIT, 0x68),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0x6C),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0x70), FV(HEAP_TOTAL_FREE_SIZE, 0x74),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0x78), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0x7C),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0x84), FV(HEAP_MAXIMUM_TAG_INDEX, 0x86),
	FV(HEAP_TAG_ENTRIES, 0x88), FV(HEAP_PSEUDO_TAG_ENTRIES, 0xBC),
	FV(HEAP_LOCK_VARIABLE, 0xC8), END,
};
/* x86 1809+: S6 1809, S7 (22H2), S11 */
static const struct field_value heap_x86_17763[] = {
	FV(HEAP_FLAGS, 0x40), FV(HEAP_FORCE_FLAGS, 0x44), FV(HEAP_ENCODE_FLAG_MASK, 0x4C),
	FV(HEAP_ENCODING, 0x50), FV(HEAP_SIGNATURE, 0x60),
	FV(HEAP_UCR_LIST, 0x8C), FV(HEAP_VIRTUAL_ALLOCD_BLOCKS, 0x9C),
	FV(HEAP_SEGMENT_LIST, 0xA4), FV(HEAP_BLOCKS_INDEX, 0xB4), FV(HEAP_UCR_INDEX, 0xB8),
	FV(HEAP_FREE_LISTS, 0xC0), FV(HEAP_FRONT_END_HEAP, 0xE4),
	FV(HEAP_FRONT_END_HEAP_TYPE, 0xEA), FV(HEAP_COUNTERS, 0x1F4), FV(HEAP_SIZEOF, 0x258),
	/* label block of !heap -a: S6 x86 _HEAP 2004+ (ref 8228449482);
	 * 8.x-1803: the same prefix (Signature 0x60, UCRList 0x8C, FreeLists 0xC0),
	 * not read field by field */
	FV(HEAP_SEGMENT_RESERVE, 0x64), FV(HEAP_SEGMENT_COMMIT, 0x68),
	FV(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, 0x6C),
	FV(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, 0x70), FV(HEAP_TOTAL_FREE_SIZE, 0x74),
	FV(HEAP_MAXIMUM_ALLOCATION_SIZE, 0x78), FV(HEAP_PROCESS_HEAPS_LIST_INDEX, 0x7C),
	FV(HEAP_NEXT_AVAILABLE_TAG_INDEX, 0x84), FV(HEAP_MAXIMUM_TAG_INDEX, 0x86),
	FV(HEAP_TAG_ENTRIES, 0x88), FV(HEAP_PSEUDO_TAG_ENTRIES, 0xBC),
	FV(HEAP_LOCK_VARIABLE, 0xC8), END,
};

/* ---- ntdll: _HEAP_SEGMENT, _HEAP_ENTRY, large blocks, UCRs (layouts.md §2;
 * S1 x64, S7/S6 x86, S11 both arches for every build 6.0-22631) */
static const struct field_value seg_x64[] = {
	FV(HEAP_SEGMENT_SIGNATURE, 0x10), FV(HEAP_SEGMENT_FLAGS, 0x14),
	FV(HEAP_SEGMENT_LIST_ENTRY, 0x18), FV(HEAP_SEGMENT_HEAP, 0x28),
	FV(HEAP_SEGMENT_BASE_ADDRESS, 0x30), FV(HEAP_SEGMENT_NUMBER_OF_PAGES, 0x38),
	FV(HEAP_SEGMENT_FIRST_ENTRY, 0x40), FV(HEAP_SEGMENT_LAST_VALID_ENTRY, 0x48),
	FV(HEAP_SEGMENT_UNCOMMITTED_PAGES, 0x50), FV(HEAP_SEGMENT_UNCOMMITTED_RANGES, 0x54),
	FV(HEAP_SEGMENT_UCR_SEGMENT_LIST, 0x60),
	FV(HEAP_ENTRY_SIZEOF, 16), FV(HEAP_ENTRY_SMALL_HEADER, 8),
	FV(VIRTUAL_ALLOC_ENTRY_COMMIT_SIZE, 0x20), FV(VIRTUAL_ALLOC_ENTRY_RESERVE_SIZE, 0x28),
	FV(VIRTUAL_ALLOC_ENTRY_BUSY_BLOCK, 0x30), FV(VIRTUAL_ALLOC_ENTRY_SIZEOF, 0x40),
	FV(UCR_DESCRIPTOR_SEGMENT_ENTRY, 0x10), FV(UCR_DESCRIPTOR_ADDRESS, 0x20),
	FV(UCR_DESCRIPTOR_SIZE, 0x28), END,
};
static const struct field_value seg_x86[] = {
	FV(HEAP_SEGMENT_SIGNATURE, 0x08), FV(HEAP_SEGMENT_FLAGS, 0x0C),
	FV(HEAP_SEGMENT_LIST_ENTRY, 0x10), FV(HEAP_SEGMENT_HEAP, 0x18),
	FV(HEAP_SEGMENT_BASE_ADDRESS, 0x1C), FV(HEAP_SEGMENT_NUMBER_OF_PAGES, 0x20),
	FV(HEAP_SEGMENT_FIRST_ENTRY, 0x24), FV(HEAP_SEGMENT_LAST_VALID_ENTRY, 0x28),
	FV(HEAP_SEGMENT_UNCOMMITTED_PAGES, 0x2C), FV(HEAP_SEGMENT_UNCOMMITTED_RANGES, 0x30),
	FV(HEAP_SEGMENT_UCR_SEGMENT_LIST, 0x38),
	FV(HEAP_ENTRY_SIZEOF, 8), FV(HEAP_ENTRY_SMALL_HEADER, 0),
	FV(VIRTUAL_ALLOC_ENTRY_COMMIT_SIZE, 0x10), FV(VIRTUAL_ALLOC_ENTRY_RESERVE_SIZE, 0x14),
	FV(VIRTUAL_ALLOC_ENTRY_BUSY_BLOCK, 0x18), FV(VIRTUAL_ALLOC_ENTRY_SIZEOF, 0x20),
	FV(UCR_DESCRIPTOR_SEGMENT_ENTRY, 0x08), FV(UCR_DESCRIPTOR_ADDRESS, 0x10),
	FV(UCR_DESCRIPTOR_SIZE, 0x14), END,
};

/* ---- ntdll: LFH (layouts.md §3) */
/* Windows 7: S2, S6 Win7 x86, S11 7601; no EncodedOffsets/bitmap */
static const struct field_value lfh_x64_7601[] = {
	FV(HEAP_SUBSEGMENT_USER_BLOCKS, 0x08), FV(HEAP_SUBSEGMENT_AGGREGATE_EXCHG, 0x10),
	FV(HEAP_SUBSEGMENT_BLOCK_SIZE, 0x18), FV(HEAP_SUBSEGMENT_BLOCK_COUNT, 0x1C),
	FV(USERDATA_HEADER_SUBSEGMENT, 0), FV(USERDATA_HEADER_SIGNATURE, 0x18),
	FV(USERDATA_HEADER_SIZEOF, 0x20), END,
};
static const struct field_value lfh_x86_7601[] = {
	FV(LFH_HEAP_HEAP, 0x24),
	FV(HEAP_SUBSEGMENT_USER_BLOCKS, 0x04), FV(HEAP_SUBSEGMENT_AGGREGATE_EXCHG, 0x08),
	FV(HEAP_SUBSEGMENT_BLOCK_SIZE, 0x10), FV(HEAP_SUBSEGMENT_BLOCK_COUNT, 0x14),
	FV(USERDATA_HEADER_SUBSEGMENT, 0), FV(USERDATA_HEADER_SIGNATURE, 0x0C),
	FV(USERDATA_HEADER_SIZEOF, 0x10), END,
};
/* Windows 8+: S1 x64 Win10 (= S6 8.1 x64); S6 x86 Win8/8.1/1507/1809 */
static const struct field_value lfh_x64_9200[] = {
	FV(LFH_HEAP_HEAP, 0x18),
	FV(HEAP_SUBSEGMENT_USER_BLOCKS, 0x08), FV(HEAP_SUBSEGMENT_AGGREGATE_EXCHG, 0x20),
	FV(HEAP_SUBSEGMENT_BLOCK_SIZE, 0x24), FV(HEAP_SUBSEGMENT_BLOCK_COUNT, 0x28),
	FV(USERDATA_HEADER_SUBSEGMENT, 0), FV(USERDATA_HEADER_SIGNATURE, 0x14),
	FV(USERDATA_HEADER_ENCODED_OFFSETS, 0x18), FV(USERDATA_HEADER_BUSY_BITMAP, 0x20),
	FV(USERDATA_HEADER_SIZEOF, 0x38), END,
};
static const struct field_value lfh_x86_9200[] = {
	FV(LFH_HEAP_HEAP, 0x0C),
	FV(HEAP_SUBSEGMENT_USER_BLOCKS, 0x04), FV(HEAP_SUBSEGMENT_AGGREGATE_EXCHG, 0x10),
	FV(HEAP_SUBSEGMENT_BLOCK_SIZE, 0x14), FV(HEAP_SUBSEGMENT_BLOCK_COUNT, 0x18),
	FV(USERDATA_HEADER_SUBSEGMENT, 0), FV(USERDATA_HEADER_SIGNATURE, 0x0C),
	FV(USERDATA_HEADER_ENCODED_OFFSETS, 0x10), FV(USERDATA_HEADER_BUSY_BITMAP, 0x14),
	FV(USERDATA_HEADER_SIZEOF, 0x20), END,
};

/* ---- ntdll: segment heap (layouts.md §4).  Shared by every segment-heap
 * group: _HEAP_PAGE_SEGMENT, _HEAP_PAGE_RANGE_DESCRIPTOR,
 * _HEAP_VS_SUBSEGMENT, _HEAP_VS_CHUNK_HEADER, _HEAP_LFH_SUBSEGMENT,
 * _HEAP_LARGE_ALLOC_DATA, RtlpHpHeapGlobals.  x64: S1 (1607/2004/20H2/
 * Windows 11 columns agree for every field used here), S11 18362-22631.
 * Descriptor UnusedBytes: S1 +0x4 (2004+; 1607 had +0x6).  MemStats
 * (_HEAP_RUNTIME_MEMORY_STATS: TotalReservedPages 0, TotalCommittedPages 8):
 * S1 +0x80 in 2004, 20H2 and Windows 11; x86 not read (absent).  x86: S11 kernel
 * 18362-19045, S6 1507/1809/1903 ntdll; the x86 page segment's descriptor
 * array is 256 x 0x10 bytes (🔶 from the x64 DescArray[256] overlay). */
#define SEGHEAP_COMMON_X64 \
	FV(HEAP_PAGE_SEGMENT_SIGNATURE, 0x10), FV(HEAP_PAGE_SEGMENT_SIZEOF, 0x2000), \
	FV(PAGE_RANGE_DESCRIPTOR_UNUSED_BYTES, 0x4), FV(PAGE_RANGE_DESCRIPTOR_RANGE_FLAGS, 0x18), \
	FV(PAGE_RANGE_DESCRIPTOR_UNIT_SIZE, 0x1F), FV(PAGE_RANGE_DESCRIPTOR_SIZEOF, 0x20), \
	FV(HEAP_VS_SUBSEGMENT_SIZE, 0x20), FV(HEAP_VS_SUBSEGMENT_SIGNATURE, 0x22), \
	FV(HEAP_VS_SUBSEGMENT_SIZEOF, 0x28), FV(HEAP_VS_CHUNK_HEADER_SIZEOF, 0x10), \
	FV(HEAP_LFH_SUBSEGMENT_FREE_COUNT, 0x20), \
	FV(HEAP_LFH_SUBSEGMENT_BLOCK_COUNT, 0x22), FV(HEAP_LFH_SUBSEGMENT_BLOCK_OFFSETS, 0x28), \
	FV(HEAP_LFH_SUBSEGMENT_BLOCK_BITMAP, 0x30), \
	FV(HEAP_LARGE_ALLOC_DATA_VIRTUAL_ADDRESS, 0x18), FV(HEAP_LARGE_ALLOC_DATA_ALLOCATED_PAGES, 0x20), \
	FV(RTL_HP_HEAP_GLOBALS_LFH_KEY, 0x8)
#define SEGHEAP_COMMON_X86 \
	FV(HEAP_PAGE_SEGMENT_SIGNATURE, 0x8), FV(HEAP_PAGE_SEGMENT_SIZEOF, 0x1000), \
	FV(PAGE_RANGE_DESCRIPTOR_UNUSED_BYTES, 0x4), FV(PAGE_RANGE_DESCRIPTOR_RANGE_FLAGS, 0xC), \
	FV(PAGE_RANGE_DESCRIPTOR_UNIT_SIZE, 0xF), FV(PAGE_RANGE_DESCRIPTOR_SIZEOF, 0x10), \
	FV(HEAP_VS_SUBSEGMENT_SIZE, 0x14), FV(HEAP_VS_SUBSEGMENT_SIGNATURE, 0x16), \
	FV(HEAP_VS_SUBSEGMENT_SIZEOF, 0x18), FV(HEAP_VS_CHUNK_HEADER_SIZEOF, 0x8), \
	FV(HEAP_LFH_SUBSEGMENT_FREE_COUNT, 0x10), \
	FV(HEAP_LFH_SUBSEGMENT_BLOCK_COUNT, 0x12), FV(HEAP_LFH_SUBSEGMENT_BLOCK_OFFSETS, 0x18), \
	FV(HEAP_LFH_SUBSEGMENT_BLOCK_BITMAP, 0x20), \
	FV(HEAP_LARGE_ALLOC_DATA_VIRTUAL_ADDRESS, 0xC), FV(HEAP_LARGE_ALLOC_DATA_ALLOCATED_PAGES, 0x10), \
	FV(RTL_HP_HEAP_GLOBALS_LFH_KEY, 0x4)
/* _SEGMENT_HEAP + _HEAP_SEG_CONTEXT, x64 2004/20H2 column (S1; S11 kernel
 * 18362-19045).  Also used, derived, for ntdll 16299-18362 (x64 ntdll
 * 1709-1903 was not read; the 18362 kernel copy equals this column). */
static const struct field_value segheap_x64_19041[] = {
	FV(SEGMENT_HEAP_SIGNATURE, 0x10), FV(SEGMENT_HEAP_GLOBAL_FLAGS, 0x14),
	FV(SEGMENT_HEAP_PROCESS_HEAP_LIST_INDEX, 0x1C),
	FV(SEGMENT_HEAP_LARGE_ALLOC_METADATA, 0x48), FV(SEGMENT_HEAP_LARGE_RESERVED_PAGES, 0x58),
	FV(SEGMENT_HEAP_LARGE_COMMITTED_PAGES, 0x60), FV(SEGMENT_HEAP_SEG_CONTEXTS, 0x100),
	FV(SEGMENT_HEAP_MEM_STATS, 0x80),
	FV(HEAP_SEG_CONTEXT_UNIT_SHIFT, 0x8), FV(HEAP_SEG_CONTEXT_FIRST_DESCRIPTOR_INDEX, 0xA),
	FV(HEAP_SEG_CONTEXT_SEGMENT_LIST_HEAD, 0x48), FV(HEAP_SEG_CONTEXT_SEGMENT_COUNT, 0x58),
	FV(HEAP_SEG_CONTEXT_SIZEOF, 0xC0), SEGHEAP_COMMON_X64, END,
};
/* Windows 11 column (S1 "Windows 11"; S11 22000, 22621, 22631): SegContexts
 * moves to 0x140.  26100 uses it too, derived (no 26100 layout was found). */
static const struct field_value segheap_x64_22000[] = {
	FV(SEGMENT_HEAP_SIGNATURE, 0x10), FV(SEGMENT_HEAP_GLOBAL_FLAGS, 0x14),
	FV(SEGMENT_HEAP_PROCESS_HEAP_LIST_INDEX, 0x1C),
	FV(SEGMENT_HEAP_LARGE_ALLOC_METADATA, 0x48), FV(SEGMENT_HEAP_LARGE_RESERVED_PAGES, 0x58),
	FV(SEGMENT_HEAP_LARGE_COMMITTED_PAGES, 0x60), FV(SEGMENT_HEAP_SEG_CONTEXTS, 0x140),
	FV(SEGMENT_HEAP_MEM_STATS, 0x80),
	FV(HEAP_SEG_CONTEXT_UNIT_SHIFT, 0x8), FV(HEAP_SEG_CONTEXT_FIRST_DESCRIPTOR_INDEX, 0xA),
	FV(HEAP_SEG_CONTEXT_SEGMENT_LIST_HEAD, 0x48), FV(HEAP_SEG_CONTEXT_SEGMENT_COUNT, 0x58),
	FV(HEAP_SEG_CONTEXT_SIZEOF, 0xC0), SEGHEAP_COMMON_X64, END,
};
/* x86 ntdll 1809 and 1903 (S6 Win10_1809_RS5 / Win10_1903_19H1 x86 ntdll
 * _SEGMENT_HEAP.h): the OLD _HEAP_SEG_CONTEXT, 0x50 bytes, SegmentListHead
 * at +0x14.  (1903 moves LfhContext; nothing used here.)  Also used,
 * derived, for 16299/17134. */
static const struct field_value segheap_x86_17763[] = {
	FV(SEGMENT_HEAP_SIGNATURE, 0x8), FV(SEGMENT_HEAP_GLOBAL_FLAGS, 0xC),
	FV(SEGMENT_HEAP_LARGE_ALLOC_METADATA, 0x50), FV(SEGMENT_HEAP_LARGE_RESERVED_PAGES, 0x58),
	FV(SEGMENT_HEAP_LARGE_COMMITTED_PAGES, 0x5C), FV(SEGMENT_HEAP_SEG_CONTEXTS, 0x60),
	FV(HEAP_SEG_CONTEXT_UNIT_SHIFT, 0x4), FV(HEAP_SEG_CONTEXT_FIRST_DESCRIPTOR_INDEX, 0x6),
	FV(HEAP_SEG_CONTEXT_SEGMENT_LIST_HEAD, 0x14), FV(HEAP_SEG_CONTEXT_SEGMENT_COUNT, 0x1C),
	FV(HEAP_SEG_CONTEXT_SIZEOF, 0x50), SEGHEAP_COMMON_X86, END,
};
/* x86 2004+: the NEW _HEAP_SEG_CONTEXT, 0x80 bytes (S11 kernel 18362-19045,
 * S6 kernel 18282).  x86 ntdll 2004+ was not read: derived from the kernel
 * copy (layouts.md §9); the walker probes the OLD layout too. */
static const struct field_value segheap_x86_19041[] = {
	FV(SEGMENT_HEAP_SIGNATURE, 0x8), FV(SEGMENT_HEAP_GLOBAL_FLAGS, 0xC),
	FV(SEGMENT_HEAP_LARGE_ALLOC_METADATA, 0x44), FV(SEGMENT_HEAP_LARGE_RESERVED_PAGES, 0x4C),
	FV(SEGMENT_HEAP_LARGE_COMMITTED_PAGES, 0x50), FV(SEGMENT_HEAP_SEG_CONTEXTS, 0x100),
	FV(HEAP_SEG_CONTEXT_UNIT_SHIFT, 0x4), FV(HEAP_SEG_CONTEXT_FIRST_DESCRIPTOR_INDEX, 0x6),
	FV(HEAP_SEG_CONTEXT_SEGMENT_LIST_HEAD, 0x44), FV(HEAP_SEG_CONTEXT_SEGMENT_COUNT, 0x4C),
	FV(HEAP_SEG_CONTEXT_SIZEOF, 0x80), SEGHEAP_COMMON_X86, END,
};

/* ---- ntoskrnl: _EPROCESS (layouts.md §8 per-build table, S11; Win7 x86
 * also S6).  UniqueProcessId is always ActiveProcessLinks - pointer size. */
#define EP(pid, links, ppid, peb, ot, image, dtb) \
	FV(EPROCESS_UNIQUE_PROCESS_ID, pid), FV(EPROCESS_ACTIVE_PROCESS_LINKS, links), \
	FV(EPROCESS_INHERITED_FROM_UNIQUE_PROCESS_ID, ppid), FV(EPROCESS_PEB, peb), \
	FV(EPROCESS_OBJECT_TABLE, ot), FV(EPROCESS_IMAGE_FILE_NAME, image), \
	FV(EPROCESS_DIRECTORY_TABLE_BASE, dtb)
/* EPROCESS.WoW64Process (x64 only; x86 kernels run no WOW64): a pointer to
 * a structure whose first member is the process's 32-bit PEB -- _WOW64_PROCESS
 * {Wow64} on Windows 7, _EWOW64PROCESS {Peb, Machine, NtdllType} from Windows
 * 8 (S1 _EWOW64PROCESS-using _EPROCESS; EWOW64PROCESS.Peb at +0 in every
 * public header found: ntdiff/Vergilius-derived "EWOW64PROCESS" dumps).
 * Offsets: S1 (selene _EPROCESS.WoW64Process) 0x428 for 1607 and 0x580 for
 * 2004/20H2/Windows 11; 0x320 for 7601 from a public Win7 x64 EPROCESS
 * excerpt (RundownProtect 0x178, Wow64Process 0x320, Flags2 0x43C).  For
 * 9200-18362 the field follows ObjectTable and DebugPort (ObjectTable +
 * 0x10) as in the two S1 columns; derived for 9200, 10240, 15063, 18362.
 * The WOW64 walk confirms at run time: the 32-bit PEB must list heaps whose
 * signatures check out. */
#define WOW(off) FV(EPROCESS_WOW64_PROCESS, off)
static const struct field_value ep_x64_7601[] = { EP(0x180, 0x188, 0x290, 0x338, 0x200, 0x2E0, 0x28), WOW(0x320), END };
static const struct field_value ep_x64_9200[] = { EP(0x2E0, 0x2E8, 0x3D0, 0x3E8, 0x408, 0x438, 0x28), WOW(0x418), END };
static const struct field_value ep_x64_10240[] = { EP(0x2E8, 0x2F0, 0x3E0, 0x3F8, 0x418, 0x448, 0x28), WOW(0x428), END };
static const struct field_value ep_x64_10586[] = { EP(0x2E8, 0x2F0, 0x3E0, 0x3F8, 0x418, 0x450, 0x28), WOW(0x428), END };
static const struct field_value ep_x64_15063[] = { EP(0x2E0, 0x2E8, 0x3E0, 0x3F8, 0x418, 0x450, 0x28), WOW(0x428), END };
static const struct field_value ep_x64_18362[] = { EP(0x2E8, 0x2F0, 0x3E8, 0x3F8, 0x418, 0x450, 0x28), WOW(0x428), END };
static const struct field_value ep_x64_19041[] = { EP(0x440, 0x448, 0x540, 0x550, 0x570, 0x5A8, 0x28), WOW(0x580), END };
/* 26100 (Windows 11 24H2): the EPROCESS moved (KPROCESS shrank).  Cited,
 * public files found with find_string (ids, no repository names given):
 *   68618506331 a build-profile table for "windows-11-26100" (and 26200):
 *     UniqueProcessId 0x1D0, ActiveProcessLinks 0x1D8,
 *     InheritedProcessId 0x2D0, Peb 0x2E0, ObjectTable 0x300,
 *     Wow64Process 0x310, ImageFileName 0x338;
 *   49744919934 "WINDOWS 11 24H2 KERNEL OFFSETS ... from PDB symbols":
 *     UniqueProcessId 0x1D0, ActiveProcessLinks 0x1D8, ImageFileName
 *     0x338, Peb 0x2E0, DirectoryTableBase 0x28 (KPROCESS at 0);
 *   66635292232 "generated ... from 10.0.26100.1742-x64.yml":
 *     _EPROCESS.ObjectTable 0x300;
 *   53041513813 (build >= 26100): ActiveProcessLinks 0x1d8,
 *     ImageFileName 0x338, ObjectTable 0x300.
 * WoW64Process = ObjectTable + 0x10, the pattern of every S1 column.
 * Confirmed at run time (process.c: the first process must be System, pid
 * 4; the WOW64 walk needs a 32-bit PEB whose heaps check out). */
static const struct field_value ep_x64_26100[] = {
	EP(0x1D0, 0x1D8, 0x2D0, 0x2E0, 0x300, 0x338, 0x28), WOW(0x310), END,
};
static const struct field_value ep_x86_7601[] = { EP(0xB4, 0xB8, 0x140, 0x1A8, 0xF4, 0x16C, 0x18), END };
static const struct field_value ep_x86_9200[] = { EP(0xB4, 0xB8, 0x134, 0x140, 0x150, 0x170, 0x18), END };
static const struct field_value ep_x86_10240[] = { EP(0xB4, 0xB8, 0x138, 0x144, 0x154, 0x170, 0x18), END };
static const struct field_value ep_x86_10586[] = { EP(0xB4, 0xB8, 0x138, 0x144, 0x154, 0x174, 0x18), END };
static const struct field_value ep_x86_15063[] = { EP(0xB4, 0xB8, 0x140, 0x14C, 0x15C, 0x17C, 0x18), END };
static const struct field_value ep_x86_19041[] = { EP(0xE4, 0xE8, 0x170, 0x17C, 0x18C, 0x1AC, 0x18), END };

/* ---- ntoskrnl: objects (layouts.md §8: OBJECT_HEADER S1/S11 x64 7600-22631,
 * S6/S11 x86; OBJECT_TYPE S1/S11/S6; KQUEUE S1/S11/S6).  HANDLE_TABLE.
 * TableCode at +0 before 9200 and +8 from 9200 (S11, S6). */
#define OBJ_X64 \
	FV(OBJECT_HEADER_POINTER_COUNT, 0), FV(OBJECT_HEADER_HANDLE_COUNT, 0x8), \
	FV(OBJECT_HEADER_TYPE_INDEX, 0x18), FV(OBJECT_HEADER_INFO_MASK, 0x1A), \
	FV(OBJECT_HEADER_BODY, 0x30), \
	FV(OBJECT_TYPE_TYPE_LIST, 0), FV(OBJECT_TYPE_NAME, 0x10), FV(OBJECT_TYPE_INDEX, 0x28), \
	FV(OBJECT_TYPE_TOTAL_NUMBER_OF_OBJECTS, 0x2C), FV(OBJECT_TYPE_TOTAL_NUMBER_OF_HANDLES, 0x30), \
	FV(OBJECT_TYPE_HIGH_WATER_NUMBER_OF_OBJECTS, 0x34), \
	FV(OBJECT_TYPE_HIGH_WATER_NUMBER_OF_HANDLES, 0x38), \
	FV(KQUEUE_SIGNAL_STATE, 0x4), FV(KQUEUE_ENTRY_LIST_HEAD, 0x18), \
	FV(KQUEUE_CURRENT_COUNT, 0x28), FV(KQUEUE_MAXIMUM_COUNT, 0x2C), \
	FV(KQUEUE_THREAD_LIST_HEAD, 0x30), FV(KQUEUE_SIZEOF, 0x40)
#define OBJ_X86 \
	FV(OBJECT_HEADER_POINTER_COUNT, 0), FV(OBJECT_HEADER_HANDLE_COUNT, 0x4), \
	FV(OBJECT_HEADER_TYPE_INDEX, 0xC), FV(OBJECT_HEADER_INFO_MASK, 0xE), \
	FV(OBJECT_HEADER_BODY, 0x18), \
	FV(OBJECT_TYPE_TYPE_LIST, 0), FV(OBJECT_TYPE_NAME, 0x8), FV(OBJECT_TYPE_INDEX, 0x14), \
	FV(OBJECT_TYPE_TOTAL_NUMBER_OF_OBJECTS, 0x18), FV(OBJECT_TYPE_TOTAL_NUMBER_OF_HANDLES, 0x1C), \
	FV(OBJECT_TYPE_HIGH_WATER_NUMBER_OF_OBJECTS, 0x20), \
	FV(OBJECT_TYPE_HIGH_WATER_NUMBER_OF_HANDLES, 0x24), \
	FV(KQUEUE_SIGNAL_STATE, 0x4), FV(KQUEUE_ENTRY_LIST_HEAD, 0x10), \
	FV(KQUEUE_CURRENT_COUNT, 0x18), FV(KQUEUE_MAXIMUM_COUNT, 0x1C), \
	FV(KQUEUE_THREAD_LIST_HEAD, 0x20), FV(KQUEUE_SIZEOF, 0x28)
static const struct field_value obj_x64_7601[] = { OBJ_X64, FV(HANDLE_TABLE_TABLE_CODE, 0), END };
static const struct field_value obj_x64_9200[] = { OBJ_X64, FV(HANDLE_TABLE_TABLE_CODE, 8), END };
static const struct field_value obj_x86_7601[] = { OBJ_X86, FV(HANDLE_TABLE_TABLE_CODE, 0), END };
static const struct field_value obj_x86_9200[] = { OBJ_X86, FV(HANDLE_TABLE_TABLE_CODE, 8), END };

#define NT(arch, build, label, src, derived, ...) \
	{ "ntdll", arch, build, label, src, derived, { __VA_ARGS__, NULL } }
#define KR(arch, build, label, src, derived, ...) \
	{ "ntoskrnl", arch, build, label, src, derived, { __VA_ARGS__, NULL } }
#define X64 ICH_ARCH_X64
#define X86 ICH_ARCH_X86

const struct row_def ich_builtin_rows[] = {
	NT(X64, 7600, "Windows 7 / 7 SP1", "S11 7600/7601 x64; S6 x64 Win7-era _HEAP; S2", false, peb_x64, heap_x64_7601, seg_x64, lfh_x64_7601),
	NT(X64, 9200, "Windows 8", "S11 9200 (kernel copy of _HEAP); S6 8.1", false, peb_x64, heap_x64_9200, seg_x64, lfh_x64_9200),
	NT(X64, 9600, "Windows 8.1", "S6 Win8.1 x64 ntdll ALL_SORTED.h; S11 9600", false, peb_x64, heap_x64_9200, seg_x64, lfh_x64_9200),
	NT(X64, 10240, "Windows 10 1507", "S11 10240 (same _HEAP as S6 8.1)", false, peb_x64, heap_x64_9200, seg_x64, lfh_x64_9200),
	NT(X64, 14393, "Windows 10 1607", "S1 Win10 1607; S11 14393", false, peb_x64, heap_x64_14393, seg_x64, lfh_x64_9200),
	NT(X64, 15063, "Windows 10 1703", "S11 15063", false, peb_x64, heap_x64_14393, seg_x64, lfh_x64_9200),
	NT(X64, 16299, "Windows 10 1709", "S11 16299; segment heap derived from the 2004 column (x64 ntdll 1709-1903 not read)", false, peb_x64, heap_x64_14393, seg_x64, lfh_x64_9200, segheap_x64_19041),
	NT(X64, 17134, "Windows 10 1803", "S11 17134; segment heap derived from the 2004 column (x64 ntdll 1709-1903 not read)", false, peb_x64, heap_x64_14393, seg_x64, lfh_x64_9200, segheap_x64_19041),
	NT(X64, 17763, "Windows 10 1809", "S6 Win10 1809 x64 ntdll; S11 17763; segment heap derived from the 2004 column (x64 ntdll 1709-1903 not read)", false, peb_x64, heap_x64_17763, seg_x64, lfh_x64_9200, segheap_x64_19041),
	NT(X64, 18362, "Windows 10 1903/1909", "S11 18362; segment heap: S11 18362 kernel copy = the 2004 column (ntdll not read)", false, peb_x64, heap_x64_17763, seg_x64, lfh_x64_9200, segheap_x64_19041),
	NT(X64, 19041, "Windows 10 2004-22H2", "S1 2004/20H2; S11 19041, 19045; segment heap S1 2004/20H2, S11 18362-19045", false, peb_x64, heap_x64_17763, seg_x64, lfh_x64_9200, segheap_x64_19041),
	NT(X64, 22000, "Windows 11 21H2", "S11 22000; S1 Windows 11; segment heap S1 Windows 11, S11 22000-22631", false, peb_x64, heap_x64_17763, seg_x64, lfh_x64_9200, segheap_x64_22000),
	NT(X64, 22621, "Windows 11 22H2/23H2", "S11 22621.382, 22631.2428; segment heap S1 Windows 11, S11 22000-22631", false, peb_x64, heap_x64_17763, seg_x64, lfh_x64_9200, segheap_x64_22000),
	NT(X64, 26100, "Windows 11 24H2", "derived: the 22621 _HEAP by analogy, not confirmed for 26100 (no PDB-derived 26100 ntdll _HEAP found; a 2025 post on a 24H2 kernel, r0keb.github.io/posts/Windows-Kernel-Pool-Internals, quotes a Vergilius x64 _HEAP with these offsets, its build not named); segment heap: the 22631 layout, derived (no 26100 layout found); 26100 signature constant 0 and LFH shift from S2", true, peb_x64, heap_x64_17763, seg_x64, lfh_x64_9200, segheap_x64_22000),
	NT(X86, 7600, "Windows 7 / 7 SP1", "S6 Win7_SP1 x86 ntdll ALL_SORTED.h; S11 7600/7601", false, peb_x86, heap_x86_7601, seg_x86, lfh_x86_7601),
	NT(X86, 9200, "Windows 8", "S11 9200 (kernel copy); S6 Win8 x86", false, peb_x86, heap_x86_9200, seg_x86, lfh_x86_9200),
	NT(X86, 9600, "Windows 8.1", "S6 Win8.1 x86 ntdll; S11 9600", false, peb_x86, heap_x86_9200, seg_x86, lfh_x86_9200),
	NT(X86, 10240, "Windows 10 1507", "S6 Win10 1507 x86 ntdll; S11 10240", false, peb_x86, heap_x86_9200, seg_x86, lfh_x86_9200),
	NT(X86, 14393, "Windows 10 1607", "S6 Win10 1607 x86 ntdll; S11 14393", false, peb_x86, heap_x86_14393, seg_x86, lfh_x86_9200),
	NT(X86, 15063, "Windows 10 1703", "S11 15063", false, peb_x86, heap_x86_14393, seg_x86, lfh_x86_9200),
	NT(X86, 16299, "Windows 10 1709", "S11 16299; segment heap derived: the OLD context of 1809", false, peb_x86, heap_x86_14393, seg_x86, lfh_x86_9200, segheap_x86_17763),
	NT(X86, 17134, "Windows 10 1803", "S11 17134; segment heap derived: the OLD context of 1809", false, peb_x86, heap_x86_14393, seg_x86, lfh_x86_9200, segheap_x86_17763),
	NT(X86, 17763, "Windows 10 1809", "S6 Win10 1809 x86 ntdll; S11 17763; segment heap S6 1809 x86 ntdll (OLD context)", false, peb_x86, heap_x86_17763, seg_x86, lfh_x86_9200, segheap_x86_17763),
	NT(X86, 18362, "Windows 10 1903/1909", "S11 18362; segment heap S6 1903 x86 ntdll (OLD context)", false, peb_x86, heap_x86_17763, seg_x86, lfh_x86_9200, segheap_x86_17763),
	NT(X86, 19041, "Windows 10 2004-22H2", "S7 Vergilius 22H2 _HEAP; S11 19041, 19045; segment heap derived: NEW context from S11 x86 kernel 18362-19045 (x86 ntdll 2004+ not read)", false, peb_x86, heap_x86_17763, seg_x86, lfh_x86_9200, segheap_x86_19041),
	NT(X86, 22000, "Windows 11 21H2 (WOW64)", "derived: x86 19041 row by analogy (Windows 11 has no x86 kernel; WOW64 ntdll not read); segment heap derived as for x86 19041", true, peb_x86, heap_x86_17763, seg_x86, lfh_x86_9200, segheap_x86_19041),
	NT(X86, 22621, "Windows 11 22H2/23H2 (WOW64)", "derived: x86 19041 row by analogy; segment heap derived as for x86 19041", true, peb_x86, heap_x86_17763, seg_x86, lfh_x86_9200, segheap_x86_19041),
	NT(X86, 26100, "Windows 11 24H2 (WOW64)", "derived: x86 19041 row by analogy; segment heap derived as for x86 19041", true, peb_x86, heap_x86_17763, seg_x86, lfh_x86_9200, segheap_x86_19041),

	KR(X64, 7600, "Windows 7", "S11 7600/7601 x64", false, ep_x64_7601, obj_x64_7601),
	KR(X64, 9200, "Windows 8/8.1", "S11 9200, 9600 x64", false, ep_x64_9200, obj_x64_9200),
	KR(X64, 10240, "Windows 10 1507", "S11 10240 x64", false, ep_x64_10240, obj_x64_9200),
	KR(X64, 10586, "Windows 10 1511/1607", "S11 10586, 14393 x64", false, ep_x64_10586, obj_x64_9200),
	KR(X64, 15063, "Windows 10 1703-1809", "S11 15063, 16299, 17134, 17763 x64", false, ep_x64_15063, obj_x64_9200),
	KR(X64, 18362, "Windows 10 1903/1909", "S11 18362 x64", false, ep_x64_18362, obj_x64_9200),
	KR(X64, 19041, "Windows 10 2004-22H2, 11 21H2-23H2", "S11 19041, 19045, 22000, 22621, 22631 x64; S1", false, ep_x64_19041, obj_x64_9200),
	KR(X64, 26100, "Windows 11 24H2", "EPROCESS: four public 26100 offset tables (find_string ids 68618506331, 49744919934, 66635292232, 53041513813; see ep_x64_26100); OBJECT_HEADER, OBJECT_TYPE, HANDLE_TABLE, KQUEUE: derived, the 9200-22631 layout (no 26100 source found), confirmed at run time by the object-type checks", true, ep_x64_26100, obj_x64_9200),
	KR(X86, 7600, "Windows 7", "S11 7600/7601 x86; S6 Win7 x86", false, ep_x86_7601, obj_x86_7601),
	KR(X86, 9200, "Windows 8/8.1", "S11 9200, 9600 x86", false, ep_x86_9200, obj_x86_9200),
	KR(X86, 10240, "Windows 10 1507", "S11 10240 x86", false, ep_x86_10240, obj_x86_9200),
	KR(X86, 10586, "Windows 10 1511/1607", "S11 10586, 14393 x86", false, ep_x86_10586, obj_x86_9200),
	KR(X86, 15063, "Windows 10 1703-1909", "S11 15063-18362 x86", false, ep_x86_15063, obj_x86_9200),
	KR(X86, 19041, "Windows 10 2004-22H2", "S11 19041, 19045 x86", false, ep_x86_19041, obj_x86_9200),
};
const size_t ich_builtin_row_count = sizeof(ich_builtin_rows) / sizeof(ich_builtin_rows[0]);
