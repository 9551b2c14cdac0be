/* SPDX-License-Identifier: MIT */
/*
 * The NT heap walker's offsets (struct ntofs), filled once from a layout
 * row and checked there: a required field the row lacks (a --layout row
 * written by hand, a derived row) rejects the row with the field's name,
 * instead of the walker reading at address - 1 (issue 8, "typed layouts").
 * The offsets themselves and their sources are in src/types/layout_table.c.
 */
#include <stddef.h>

#include "heap/heap_internal.h"

enum need { OPTIONAL, REQUIRED, LFH_ANY, LFH_BITMAP };

struct ofs_def {
	enum ich_field field;
	size_t member;		/* offsetof(struct ntofs, ...) */
	enum need need;
};

#define D(f, m, n) { ICH_F_##f, offsetof(struct ntofs, m), n }

static const struct ofs_def peb_defs[] = {
	D(TEB_PROCESS_ENVIRONMENT_BLOCK, teb_peb, REQUIRED),
	D(PEB_PROCESS_HEAP, peb_process_heap, REQUIRED),
	/* without these only PEB.ProcessHeap is listed */
	D(PEB_NT_GLOBAL_FLAG, peb_global_flag, OPTIONAL),
	D(PEB_NUMBER_OF_HEAPS, peb_nheaps, OPTIONAL),
	D(PEB_MAXIMUM_NUMBER_OF_HEAPS, peb_max_heaps, OPTIONAL),
	D(PEB_PROCESS_HEAPS, peb_heaps, OPTIONAL),
};

static const struct ofs_def heap_defs[] = {
	D(HEAP_FLAGS, heap_flags, REQUIRED),
	D(HEAP_FORCE_FLAGS, heap_force_flags, REQUIRED),
	D(HEAP_ENCODE_FLAG_MASK, heap_encode_flag_mask, REQUIRED),
	D(HEAP_ENCODING, heap_encoding, REQUIRED),
	D(HEAP_SIGNATURE, heap_signature, REQUIRED),
	D(HEAP_UCR_LIST, heap_ucr_list, OPTIONAL),
	D(HEAP_VIRTUAL_ALLOCD_BLOCKS, heap_virtual_allocd_blocks, REQUIRED),
	D(HEAP_SEGMENT_LIST, heap_segment_list, REQUIRED),
	D(HEAP_BLOCKS_INDEX, heap_blocks_index, OPTIONAL),
	D(HEAP_FREE_LISTS, heap_free_lists, OPTIONAL),
	/* no front end known: the heap is walked as back end only */
	D(HEAP_FRONT_END_HEAP, heap_front_end_heap, OPTIONAL),
	D(HEAP_FRONT_END_HEAP_TYPE, heap_front_end_heap_type, OPTIONAL),
	D(HEAP_SIZEOF, heap_sizeof, OPTIONAL),
	D(HEAP_SEGMENT_RESERVE, heap_segment_reserve, OPTIONAL),
	D(HEAP_SEGMENT_COMMIT, heap_segment_commit, OPTIONAL),
	D(HEAP_DECOMMIT_FREE_BLOCK_THRESHOLD, heap_decommit_block, OPTIONAL),
	D(HEAP_DECOMMIT_TOTAL_FREE_THRESHOLD, heap_decommit_total, OPTIONAL),
	D(HEAP_TOTAL_FREE_SIZE, heap_total_free_size, OPTIONAL),
	D(HEAP_MAXIMUM_ALLOCATION_SIZE, heap_max_allocation, OPTIONAL),
	D(HEAP_PROCESS_HEAPS_LIST_INDEX, heap_list_index, OPTIONAL),
	D(HEAP_NEXT_AVAILABLE_TAG_INDEX, heap_next_tag, OPTIONAL),
	D(HEAP_MAXIMUM_TAG_INDEX, heap_max_tag, OPTIONAL),
	D(HEAP_TAG_ENTRIES, heap_tag_entries, OPTIONAL),
	D(HEAP_PSEUDO_TAG_ENTRIES, heap_pseudo_tag_entries, OPTIONAL),
	D(HEAP_LOCK_VARIABLE, heap_lock_variable, OPTIONAL),
	D(HEAP_SEGMENT_FLAGS, seg_flags, OPTIONAL),
	D(HEAP_SEGMENT_SIGNATURE, seg_signature, REQUIRED),
	D(HEAP_SEGMENT_LIST_ENTRY, seg_list_entry, REQUIRED),
	D(HEAP_SEGMENT_NUMBER_OF_PAGES, seg_pages, REQUIRED),
	D(HEAP_SEGMENT_FIRST_ENTRY, seg_first_entry, REQUIRED),
	D(HEAP_SEGMENT_LAST_VALID_ENTRY, seg_last_valid_entry, REQUIRED),
	D(HEAP_SEGMENT_UNCOMMITTED_PAGES, seg_uncommitted_pages, REQUIRED),
	D(HEAP_SEGMENT_UCR_SEGMENT_LIST, seg_ucr_list, REQUIRED),
	D(HEAP_ENTRY_SIZEOF, entry_sizeof, REQUIRED),
	D(HEAP_ENTRY_SMALL_HEADER, entry_small_header, REQUIRED),
	D(VIRTUAL_ALLOC_ENTRY_COMMIT_SIZE, va_commit, REQUIRED),
	D(VIRTUAL_ALLOC_ENTRY_RESERVE_SIZE, va_reserve, REQUIRED),
	D(VIRTUAL_ALLOC_ENTRY_BUSY_BLOCK, va_busy_block, REQUIRED),
	D(VIRTUAL_ALLOC_ENTRY_SIZEOF, va_sizeof, REQUIRED),
	D(UCR_DESCRIPTOR_SEGMENT_ENTRY, ucr_segment_entry, REQUIRED),
	D(UCR_DESCRIPTOR_ADDRESS, ucr_address, REQUIRED),
	D(UCR_DESCRIPTOR_SIZE, ucr_size, REQUIRED),
	/* LFH: needed to walk the front end (both generations) */
	D(HEAP_SUBSEGMENT_BLOCK_SIZE, ss_block_size, LFH_ANY),
	D(USERDATA_HEADER_SUBSEGMENT, ud_subsegment, LFH_ANY),
	D(USERDATA_HEADER_SIGNATURE, ud_signature, LFH_ANY),
	D(USERDATA_HEADER_SIZEOF, ud_sizeof, LFH_ANY),
	D(HEAP_SUBSEGMENT_USER_BLOCKS, ss_user_blocks, OPTIONAL),
	D(HEAP_SUBSEGMENT_AGGREGATE_EXCHG, ss_aggregate, OPTIONAL),
	D(HEAP_SUBSEGMENT_BLOCK_COUNT, ss_block_count, OPTIONAL),
	/* Win8+ only: their absence means a Windows 7 LFH (no bitmap) */
	D(USERDATA_HEADER_ENCODED_OFFSETS, ud_encoded_offsets, LFH_BITMAP),
	D(USERDATA_HEADER_BUSY_BITMAP, ud_busy_bitmap, LFH_BITMAP),
};

static const char *fill(const struct ich_layout *row, struct ntofs *o, const struct ofs_def *d, size_t n)
{
	const char *missing = NULL;
	for (size_t i = 0; i < n; i++) {
		int32_t v = ich_layout_off(row, d[i].field);
		*(int32_t *)((char *)o + d[i].member) = v;
		if (v < 0 && d[i].need == REQUIRED && !missing)
			missing = ich_field_name(d[i].field);
	}
	return missing;
}

const char *ntofs_fill_peb(const struct ich_layout *row, struct ntofs *o)
{
	return fill(row, o, peb_defs, sizeof(peb_defs) / sizeof(peb_defs[0]));
}

const char *ntofs_fill(const struct ich_layout *row, struct ntofs *o)
{
	const char *missing = ntofs_fill_peb(row, o);
	const char *m2 = fill(row, o, heap_defs, sizeof(heap_defs) / sizeof(heap_defs[0]));
	if (!missing)
		missing = m2;
	o->lfh_missing = NULL;
	for (size_t i = 0; i < sizeof(heap_defs) / sizeof(heap_defs[0]) && !o->lfh_missing; i++)
		if (heap_defs[i].need == LFH_ANY && ich_layout_off(row, heap_defs[i].field) < 0)
			o->lfh_missing = ich_field_name(heap_defs[i].field);
	/* A row with only one of the two Win8+ fields is inconsistent. */
	bool enc = o->ud_encoded_offsets >= 0, bm = o->ud_busy_bitmap >= 0;
	if (enc != bm && !o->lfh_missing)
		o->lfh_missing = ich_field_name(enc ? ICH_F_USERDATA_HEADER_BUSY_BITMAP
						    : ICH_F_USERDATA_HEADER_ENCODED_OFFSETS);
	o->lfh_bitmap = enc && bm;
	/* Windows 7 LFH: the walk needs BlockCount too */
	if (!o->lfh_bitmap && !o->lfh_missing && o->ss_block_count < 0)
		o->lfh_missing = ich_field_name(ICH_F_HEAP_SUBSEGMENT_BLOCK_COUNT);
	return missing;
}
