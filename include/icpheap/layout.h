/* SPDX-License-Identifier: MIT */
/*
 * The PDB-free type table: structure layouts as data, one row per
 * (module, arch, first build), looked up as "the nearest build at or below
 * the dump's build".  Rows live in src/types/layout_table.c (every row
 * names its source); more can be loaded at run time with --layout FILE.
 * Walkers confirm a row against invariants in the dump before trusting it
 * and try the other candidates when it fails.
 */
#ifndef ICPHEAP_LAYOUT_H
#define ICPHEAP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <icpheap/dump.h>
#include <icpheap/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(enum suffix, "Struct.Field" as in the PDB).  Offsets are in bytes from
 * the start of the named structure; SIZEOF entries are structure sizes. */
#define ICH_LAYOUT_FIELDS(X) \
	/* ntdll: TEB / PEB */ \
	X(TEB_PROCESS_ENVIRONMENT_BLOCK, "TEB.ProcessEnvironmentBlock") \
	X(PEB_PROCESS_HEAP, "PEB.ProcessHeap") \
	X(PEB_NT_GLOBAL_FLAG, "PEB.NtGlobalFlag") \
	X(PEB_NUMBER_OF_HEAPS, "PEB.NumberOfHeaps") \
	X(PEB_MAXIMUM_NUMBER_OF_HEAPS, "PEB.MaximumNumberOfHeaps") \
	X(PEB_PROCESS_HEAPS, "PEB.ProcessHeaps") \
	/* ntdll: the loader's module list (PEB.Ldr) */ \
	X(PEB_LDR, "PEB.Ldr") \
	X(PEB_LDR_DATA_IN_LOAD_ORDER_MODULE_LIST, "PEB_LDR_DATA.InLoadOrderModuleList") \
	X(LDR_DATA_TABLE_ENTRY_DLL_BASE, "LDR_DATA_TABLE_ENTRY.DllBase") \
	X(LDR_DATA_TABLE_ENTRY_SIZE_OF_IMAGE, "LDR_DATA_TABLE_ENTRY.SizeOfImage") \
	X(LDR_DATA_TABLE_ENTRY_FULL_DLL_NAME, "LDR_DATA_TABLE_ENTRY.FullDllName") \
	X(LDR_DATA_TABLE_ENTRY_BASE_DLL_NAME, "LDR_DATA_TABLE_ENTRY.BaseDllName") \
	/* ntdll: _HEAP */ \
	X(HEAP_FLAGS, "HEAP.Flags") \
	X(HEAP_FORCE_FLAGS, "HEAP.ForceFlags") \
	X(HEAP_ENCODE_FLAG_MASK, "HEAP.EncodeFlagMask") \
	X(HEAP_ENCODING, "HEAP.Encoding") \
	X(HEAP_POINTER_KEY, "HEAP.PointerKey") \
	X(HEAP_SIGNATURE, "HEAP.Signature") \
	X(HEAP_UCR_LIST, "HEAP.UCRList") \
	X(HEAP_VIRTUAL_ALLOCD_BLOCKS, "HEAP.VirtualAllocdBlocks") \
	X(HEAP_SEGMENT_LIST, "HEAP.SegmentList") \
	X(HEAP_BLOCKS_INDEX, "HEAP.BlocksIndex") \
	X(HEAP_UCR_INDEX, "HEAP.UCRIndex") \
	X(HEAP_FREE_LISTS, "HEAP.FreeLists") \
	X(HEAP_FRONT_END_HEAP, "HEAP.FrontEndHeap") \
	X(HEAP_FRONT_END_HEAP_TYPE, "HEAP.FrontEndHeapType") \
	X(HEAP_COUNTERS, "HEAP.Counters") \
	X(HEAP_SIZEOF, "sizeof(HEAP)") \
	/* ntdll: _HEAP fields !heap -a prints (label block) */ \
	X(HEAP_SEGMENT_RESERVE, "HEAP.SegmentReserve") \
	X(HEAP_SEGMENT_COMMIT, "HEAP.SegmentCommit") \
	X(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, "HEAP.DeCommitFreeBlockThreshold") \
	X(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, "HEAP.DeCommitTotalFreeThreshold") \
	X(HEAP_TOTAL_FREE_SIZE, "HEAP.TotalFreeSize") \
	X(HEAP_MAXIMUM_ALLOCATION_SIZE, "HEAP.MaximumAllocationSize") \
	X(HEAP_PROCESS_HEAPS_LIST_INDEX, "HEAP.ProcessHeapsListIndex") \
	X(HEAP_NEXT_AVAILABLE_TAG_INDEX, "HEAP.NextAvailableTagIndex") \
	X(HEAP_MAXIMUM_TAG_INDEX, "HEAP.MaximumTagIndex") \
	X(HEAP_TAG_ENTRIES, "HEAP.TagEntries") \
	X(HEAP_PSEUDO_TAG_ENTRIES, "HEAP.PseudoTagEntries") \
	X(HEAP_LOCK_VARIABLE, "HEAP.LockVariable") \
	/* ntdll: _HEAP_SEGMENT */ \
	X(HEAP_SEGMENT_SIGNATURE, "HEAP_SEGMENT.SegmentSignature") \
	X(HEAP_SEGMENT_FLAGS, "HEAP_SEGMENT.SegmentFlags") \
	X(HEAP_SEGMENT_LIST_ENTRY, "HEAP_SEGMENT.SegmentListEntry") \
	X(HEAP_SEGMENT_HEAP, "HEAP_SEGMENT.Heap") \
	X(HEAP_SEGMENT_BASE_ADDRESS, "HEAP_SEGMENT.BaseAddress") \
	X(HEAP_SEGMENT_NUMBER_OF_PAGES, "HEAP_SEGMENT.NumberOfPages") \
	X(HEAP_SEGMENT_FIRST_ENTRY, "HEAP_SEGMENT.FirstEntry") \
	X(HEAP_SEGMENT_LAST_VALID_ENTRY, "HEAP_SEGMENT.LastValidEntry") \
	X(HEAP_SEGMENT_UNCOMMITTED_PAGES, "HEAP_SEGMENT.NumberOfUnCommittedPages") \
	X(HEAP_SEGMENT_UNCOMMITTED_RANGES, "HEAP_SEGMENT.NumberOfUnCommittedRanges") \
	X(HEAP_SEGMENT_UCR_SEGMENT_LIST, "HEAP_SEGMENT.UCRSegmentList") \
	/* ntdll: entries, large blocks, UCRs */ \
	X(HEAP_ENTRY_SIZEOF, "sizeof(HEAP_ENTRY)") \
	X(HEAP_ENTRY_SMALL_HEADER, "HEAP_ENTRY.Size") \
	X(VIRTUAL_ALLOC_ENTRY_COMMIT_SIZE, "HEAP_VIRTUAL_ALLOC_ENTRY.CommitSize") \
	X(VIRTUAL_ALLOC_ENTRY_RESERVE_SIZE, "HEAP_VIRTUAL_ALLOC_ENTRY.ReserveSize") \
	X(VIRTUAL_ALLOC_ENTRY_BUSY_BLOCK, "HEAP_VIRTUAL_ALLOC_ENTRY.BusyBlock") \
	X(VIRTUAL_ALLOC_ENTRY_SIZEOF, "sizeof(HEAP_VIRTUAL_ALLOC_ENTRY)") \
	X(UCR_DESCRIPTOR_SEGMENT_ENTRY, "HEAP_UCR_DESCRIPTOR.SegmentEntry") \
	X(UCR_DESCRIPTOR_ADDRESS, "HEAP_UCR_DESCRIPTOR.Address") \
	X(UCR_DESCRIPTOR_SIZE, "HEAP_UCR_DESCRIPTOR.Size") \
	/* ntdll: LFH (front end) */ \
	X(LFH_HEAP_HEAP, "LFH_HEAP.Heap") \
	X(HEAP_SUBSEGMENT_USER_BLOCKS, "HEAP_SUBSEGMENT.UserBlocks") \
	X(HEAP_SUBSEGMENT_AGGREGATE_EXCHG, "HEAP_SUBSEGMENT.AggregateExchg") \
	X(HEAP_SUBSEGMENT_BLOCK_SIZE, "HEAP_SUBSEGMENT.BlockSize") \
	X(HEAP_SUBSEGMENT_BLOCK_COUNT, "HEAP_SUBSEGMENT.BlockCount") \
	X(USERDATA_HEADER_SUBSEGMENT, "HEAP_USERDATA_HEADER.SubSegment") \
	X(USERDATA_HEADER_SIGNATURE, "HEAP_USERDATA_HEADER.Signature") \
	X(USERDATA_HEADER_ENCODED_OFFSETS, "HEAP_USERDATA_HEADER.EncodedOffsets") \
	X(USERDATA_HEADER_BUSY_BITMAP, "HEAP_USERDATA_HEADER.BusyBitmap") \
	X(USERDATA_HEADER_SIZEOF, "sizeof(HEAP_USERDATA_HEADER)") \
	/* ntdll: segment heap (layouts.md §4; walked by src/heap/segment_heap.c) */ \
	X(SEGMENT_HEAP_SIGNATURE, "SEGMENT_HEAP.Signature") \
	X(SEGMENT_HEAP_GLOBAL_FLAGS, "SEGMENT_HEAP.GlobalFlags") \
	X(SEGMENT_HEAP_PROCESS_HEAP_LIST_INDEX, "SEGMENT_HEAP.ProcessHeapListIndex") \
	X(SEGMENT_HEAP_LARGE_ALLOC_METADATA, "SEGMENT_HEAP.LargeAllocMetadata") \
	X(SEGMENT_HEAP_LARGE_RESERVED_PAGES, "SEGMENT_HEAP.LargeReservedPages") \
	X(SEGMENT_HEAP_LARGE_COMMITTED_PAGES, "SEGMENT_HEAP.LargeCommittedPages") \
	X(SEGMENT_HEAP_SEG_CONTEXTS, "SEGMENT_HEAP.SegContexts") \
	X(SEGMENT_HEAP_MEM_STATS, "SEGMENT_HEAP.MemStats") \
	X(HEAP_SEG_CONTEXT_UNIT_SHIFT, "HEAP_SEG_CONTEXT.UnitShift") \
	X(HEAP_SEG_CONTEXT_FIRST_DESCRIPTOR_INDEX, "HEAP_SEG_CONTEXT.FirstDescriptorIndex") \
	X(HEAP_SEG_CONTEXT_SEGMENT_LIST_HEAD, "HEAP_SEG_CONTEXT.SegmentListHead") \
	X(HEAP_SEG_CONTEXT_SEGMENT_COUNT, "HEAP_SEG_CONTEXT.SegmentCount") \
	X(HEAP_SEG_CONTEXT_SIZEOF, "sizeof(HEAP_SEG_CONTEXT)") \
	X(HEAP_PAGE_SEGMENT_SIGNATURE, "HEAP_PAGE_SEGMENT.Signature") \
	X(HEAP_PAGE_SEGMENT_SIZEOF, "sizeof(HEAP_PAGE_SEGMENT)") \
	X(PAGE_RANGE_DESCRIPTOR_UNUSED_BYTES, "HEAP_PAGE_RANGE_DESCRIPTOR.UnusedBytes") \
	X(PAGE_RANGE_DESCRIPTOR_RANGE_FLAGS, "HEAP_PAGE_RANGE_DESCRIPTOR.RangeFlags") \
	X(PAGE_RANGE_DESCRIPTOR_UNIT_SIZE, "HEAP_PAGE_RANGE_DESCRIPTOR.UnitSize") \
	X(PAGE_RANGE_DESCRIPTOR_SIZEOF, "sizeof(HEAP_PAGE_RANGE_DESCRIPTOR)") \
	X(HEAP_VS_SUBSEGMENT_SIZE, "HEAP_VS_SUBSEGMENT.Size") \
	X(HEAP_VS_SUBSEGMENT_SIGNATURE, "HEAP_VS_SUBSEGMENT.Signature") \
	X(HEAP_VS_SUBSEGMENT_SIZEOF, "sizeof(HEAP_VS_SUBSEGMENT)") \
	X(HEAP_VS_CHUNK_HEADER_SIZEOF, "sizeof(HEAP_VS_CHUNK_HEADER)") \
	X(HEAP_LFH_SUBSEGMENT_FREE_COUNT, "HEAP_LFH_SUBSEGMENT.FreeCount") \
	X(HEAP_LFH_SUBSEGMENT_BLOCK_COUNT, "HEAP_LFH_SUBSEGMENT.BlockCount") \
	X(HEAP_LFH_SUBSEGMENT_BLOCK_OFFSETS, "HEAP_LFH_SUBSEGMENT.BlockOffsets") \
	X(HEAP_LFH_SUBSEGMENT_BLOCK_BITMAP, "HEAP_LFH_SUBSEGMENT.BlockBitmap") \
	X(HEAP_LARGE_ALLOC_DATA_VIRTUAL_ADDRESS, "HEAP_LARGE_ALLOC_DATA.VirtualAddress") \
	X(HEAP_LARGE_ALLOC_DATA_ALLOCATED_PAGES, "HEAP_LARGE_ALLOC_DATA.AllocatedPages") \
	X(RTL_HP_HEAP_GLOBALS_LFH_KEY, "RTL_HP_HEAP_GLOBALS.LfhKey") \
	/* ntoskrnl: _EPROCESS / _KPROCESS */ \
	X(EPROCESS_DIRECTORY_TABLE_BASE, "EPROCESS.Pcb.DirectoryTableBase") \
	X(EPROCESS_UNIQUE_PROCESS_ID, "EPROCESS.UniqueProcessId") \
	X(EPROCESS_ACTIVE_PROCESS_LINKS, "EPROCESS.ActiveProcessLinks") \
	X(EPROCESS_INHERITED_FROM_UNIQUE_PROCESS_ID, "EPROCESS.InheritedFromUniqueProcessId") \
	X(EPROCESS_PEB, "EPROCESS.Peb") \
	X(EPROCESS_OBJECT_TABLE, "EPROCESS.ObjectTable") \
	X(EPROCESS_IMAGE_FILE_NAME, "EPROCESS.ImageFileName") \
	X(EPROCESS_WOW64_PROCESS, "EPROCESS.WoW64Process") \
	X(HANDLE_TABLE_TABLE_CODE, "HANDLE_TABLE.TableCode") \
	/* ntoskrnl: objects */ \
	X(OBJECT_HEADER_POINTER_COUNT, "OBJECT_HEADER.PointerCount") \
	X(OBJECT_HEADER_HANDLE_COUNT, "OBJECT_HEADER.HandleCount") \
	X(OBJECT_HEADER_TYPE_INDEX, "OBJECT_HEADER.TypeIndex") \
	X(OBJECT_HEADER_INFO_MASK, "OBJECT_HEADER.InfoMask") \
	X(OBJECT_HEADER_BODY, "OBJECT_HEADER.Body") \
	X(OBJECT_TYPE_TYPE_LIST, "OBJECT_TYPE.TypeList") \
	X(OBJECT_TYPE_NAME, "OBJECT_TYPE.Name") \
	X(OBJECT_TYPE_INDEX, "OBJECT_TYPE.Index") \
	X(OBJECT_TYPE_TOTAL_NUMBER_OF_OBJECTS, "OBJECT_TYPE.TotalNumberOfObjects") \
	X(OBJECT_TYPE_TOTAL_NUMBER_OF_HANDLES, "OBJECT_TYPE.TotalNumberOfHandles") \
	X(OBJECT_TYPE_HIGH_WATER_NUMBER_OF_OBJECTS, "OBJECT_TYPE.HighWaterNumberOfObjects") \
	X(OBJECT_TYPE_HIGH_WATER_NUMBER_OF_HANDLES, "OBJECT_TYPE.HighWaterNumberOfHandles") \
	X(KQUEUE_SIGNAL_STATE, "KQUEUE.Header.SignalState") \
	X(KQUEUE_ENTRY_LIST_HEAD, "KQUEUE.EntryListHead") \
	X(KQUEUE_CURRENT_COUNT, "KQUEUE.CurrentCount") \
	X(KQUEUE_MAXIMUM_COUNT, "KQUEUE.MaximumCount") \
	X(KQUEUE_THREAD_LIST_HEAD, "KQUEUE.ThreadListHead") \
	X(KQUEUE_SIZEOF, "sizeof(KQUEUE)")

enum ich_field {
#define ICH_X(e, n) ICH_F_##e,
	ICH_LAYOUT_FIELDS(ICH_X)
#undef ICH_X
	ICH_F_COUNT
};

struct ich_layout {
	const char *module;	/* "ntdll" or "ntoskrnl" */
	enum ich_arch arch;	/* X86, X64, or ARM64 (derived aliases of the x64 rows) */
	uint32_t build_min;	/* first build the row applies to */
	const char *label;	/* "Windows 10 2004-22H2" */
	const char *source;	/* where the numbers come from */
	bool derived;		/* by analogy, not read in a source */
	int32_t off[ICH_F_COUNT];	/* -1: absent in this build */
};

/* Field name ("HEAP.Signature"), or NULL. */
const char *ich_field_name(enum ich_field f);
/* Field by name; ICH_F_COUNT when unknown. */
enum ich_field ich_field_by_name(const char *name);
static inline int32_t ich_layout_off(const struct ich_layout *row, enum ich_field f)
{
	return row && f < ICH_F_COUNT ? row->off[f] : -1;
}

/* The first of need[0..n) that row lacks (its "Struct.Field" name), or
 * NULL when the row has them all.  Walkers check their required fields
 * with it when a row is chosen, so a --layout row that lacks one is a
 * layout error naming the field, never a read at address - 1. */
const char *ich_layout_missing(const struct ich_layout *row, const enum ich_field *need, size_t n);

/*
 * A layout registry: the built-in rows plus rows loaded with --layout.
 * Openers take one (ich_heaps_open_with), so rows loaded for one analysis
 * are not process-global state; NULL means the built-in rows only.
 */
struct ich_layouts;
struct ich_error *ich_layouts_create(struct ich_layouts **ret);
void ich_layouts_destroy(struct ich_layouts *reg);
/* Load rows from a text file (format in icpheap(1), LAYOUT FILE FORMAT).
 * A loaded row replaces a row with the same module/arch/build. */
struct ich_error *ich_layouts_load_file(struct ich_layouts *reg, const char *path);
/* The row with the greatest build_min <= build for module/arch, or NULL
 * (build below the oldest row). */
const struct ich_layout *ich_layouts_find(const struct ich_layouts *reg, const char *module,
					  enum ich_arch arch, uint32_t build);
/* Every row of module/arch: the chosen one first, then the others by
 * distance in builds.  Returns the number stored (at most max). */
size_t ich_layouts_candidates(const struct ich_layouts *reg, const char *module, enum ich_arch arch,
			      uint32_t build, const struct ich_layout **out, size_t max);
void ich_layouts_print_table(const struct ich_layouts *reg, FILE *f, bool json);

/* The default registry: what the entry points below (and the CLI's
 * --layout) use.  Openers without a registry argument use it too. */
struct ich_layouts *ich_layouts_default(void);
const struct ich_layout *ich_layout_find(const char *module, enum ich_arch arch,
					 uint32_t build);
size_t ich_layout_candidates(const char *module, enum ich_arch arch, uint32_t build,
			     const struct ich_layout **out, size_t max);
struct ich_error *ich_layout_load_file(const char *path);
/* Forget rows loaded into the default registry (tests). */
void ich_layout_reset(void);

/* `icpheap types`: every row; as JSON when json. */
void ich_layout_print_table(FILE *f, bool json);
/* One line for --version. */
const char *ich_layout_coverage(void);
/* "Windows 10 22H2" for 19045; NULL when unknown. */
const char *ich_windows_release_name(uint32_t build);

#ifdef __cplusplus
}
#endif
#endif
