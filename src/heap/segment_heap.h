/* SPDX-License-Identifier: MIT */
/*
 * The segment heap (_SEGMENT_HEAP, signature 0xDDEEDDEE) walker's private
 * interface: the named offset struct filled from a type-table row, the
 * process-wide keys, and the pure decoding primitives (unit-tested on
 * their own).  Layouts and the walk: ../shared/reference/layouts.md §4,
 * Algorithm C, with the cautions of §10.
 */
#ifndef ICPHEAP_SEGMENT_HEAP_H
#define ICPHEAP_SEGMENT_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/heap.h>
#include <icpheap/layout.h>

#include "core/endian.h"

/* The offsets the segment-heap walker uses, copied once from the row (the
 * only place that knows the type table's field names).  Every field but
 * list_index and mem_stats is required: a row without one is a layout error naming it. */
struct segofs {
	int32_t sig, global_flags, list_index;		/* _SEGMENT_HEAP */
	int32_t large_meta, large_reserved, large_committed, seg_contexts, mem_stats;
	int32_t ctx_unit_shift, ctx_fdi, ctx_list_head, ctx_seg_count, ctx_size;	/* _HEAP_SEG_CONTEXT */
	int32_t ps_sig, ps_size;			/* _HEAP_PAGE_SEGMENT */
	int32_t prd_unused, prd_flags, prd_unit_size, prd_size;	/* _HEAP_PAGE_RANGE_DESCRIPTOR */
	int32_t vs_size, vs_sig, vs_sizeof, vs_chunk_hdr;	/* _HEAP_VS_SUBSEGMENT / chunk header */
	int32_t lfh_free_count, lfh_block_count, lfh_block_offsets, lfh_bitmap;	/* _HEAP_LFH_SUBSEGMENT */
	int32_t lad_va, lad_pages;			/* _HEAP_LARGE_ALLOC_DATA */
	int32_t globals_lfh_key;			/* RtlpHpHeapGlobals */
	unsigned ptr;					/* 4 or 8 */
};

/* The unused-byte trailer (the last WORD of a VS chunk or LFH block whose
 * "unused bytes" bit is set; S1 _HEAP_VS_UNUSED_BYTES_INFO 13-bit count,
 * _HEAP_LFH_UNUSED_BYTES_INFO 14-bit count, bit 15 = exactly one byte). */
static inline unsigned unused_trailer(uint16_t w, bool vs)
{
	return (w & 0x8000) ? 1 : w & (vs ? 0x1FFF : 0x3FFF);
}

/* _SEGMENT_HEAP.MemStats {TotalReservedPages, TotalCommittedPages} (S1
 * x64 2004+ _HEAP_RUNTIME_MEMORY_STATS) in bytes, when the row has it and
 * the values are plausible; what the walk reports as reserved/committed. */
struct ich_heaps;
bool seg_heap_mem_stats(struct ich_heaps *h, const struct ich_heap *heap, uint64_t *reserved,
			uint64_t *committed);

/* Fill o from row; ICH_ERR_LAYOUT naming the first missing field. */
struct ich_error *segofs_fill(const struct ich_layout *row, unsigned ptr, struct segofs *o);

/* Page-segment signature constant (layouts.md §4 step 2, S2
 * qwSignatureStaticKey): 0xA2E64EADA2E64EAD before 26100, 0 from 26100. */
uint64_t seg_signature_const(uint32_t build);

/* VS chunk header, decoded (layouts.md §4 _HEAP_VS_CHUNK_HEADER). */
struct vs_chunk {
	uint32_t size, prev_size;	/* bytes */
	bool allocated;
	uint8_t page_offset;		/* EncodedSegmentPageOffset, decoded */
	bool unused_present;		/* UnusedBytes bit */
};
/* raw: the header's 16 (x64) / 8 (x86) bytes; ptr 8 or 4.  Inline: it
 * runs once per VS chunk (issue 12). */
static inline void vs_chunk_decode(const uint8_t *raw, uint64_t chunk, uint64_t heap_key, unsigned ptr,
				   struct vs_chunk *out)
{
	if (ptr == 8) {
		/* Sizes qword {MemoryCost:16, UnsafeSize:16, UnsafePrevSize:16,
		 * Allocated:8}, units of 16 bytes; the second qword carries
		 * EncodedSegmentPageOffset:8, UnusedBytes:1 (S1) */
		uint64_t s = ich_le64(raw) ^ chunk ^ heap_key;
		out->size = (uint32_t)((s >> 16) & 0xFFFF) << 4;
		out->prev_size = (uint32_t)((s >> 32) & 0xFFFF) << 4;
		out->allocated = (s >> 48) & 1;
	} else {
		/* x86: one DWORD {MemoryCost:1, UnsafeSize:15, UnsafePrevSize:15,
		 * Allocated:1}, units of 8 bytes (S2, S6 1507 x86) */
		uint32_t s = (uint32_t)ich_le32(raw) ^ (uint32_t)(chunk ^ heap_key);
		out->size = ((s >> 1) & 0x7FFF) << 3;
		out->prev_size = ((s >> 16) & 0x7FFF) << 3;
		out->allocated = (s >> 31) & 1;
	}
	/* AllocatedChunkBits: only the EncodedSegmentPageOffset byte is
	 * encoded, with the low bytes of the chunk address and HeapKey; the
	 * UnusedBytes bit is plain (S10 DbgHelpUtils
	 * segment_heap::decode_vs_check_header) */
	const uint8_t *b = raw + (ptr == 8 ? 8 : 4);
	out->page_offset = (uint8_t)(b[0] ^ (uint8_t)chunk ^ (uint8_t)heap_key);
	out->unused_present = b[1] & 1;
}

/* LFH subsegment BlockOffsets: BlockSize (low WORD) and FirstBlockOffset
 * (high WORD) of EncodedData ^ LfhKey ^ shift (shift per build, §10). */
void lfh_offsets_decode(uint32_t encoded, uint64_t subseg, uint32_t lfh_key, uint32_t build,
			uint16_t *block_size, uint16_t *first_offset);
uint32_t lfh_offsets_shift(uint64_t subseg, uint32_t build);

/* 2 bits per block: bit 0 busy, bit 1 "unused bytes present" (§10). */
static inline unsigned lfh_bitmap_bits(const uint8_t *bitmap, uint32_t i)
{
	return (bitmap[i >> 2] >> ((i & 3) * 2)) & 3;
}

/* The VS subsegment signature check, FullCommit (bit 15) masked (§10). */
static inline bool vs_subsegment_sig_ok(uint16_t size, uint16_t sig)
{
	return ((size ^ (sig & 0x7FFF)) & 0xFFFF) == 0x2BED;
}

/* Plausible LFH offsets for a subsegment of range_len bytes with
 * block_count blocks (used to check a key and to recover one). */
bool lfh_offsets_plausible(uint16_t block_size, uint16_t first_offset, uint32_t block_count,
			   uint64_t range_len, unsigned bitmap_off, unsigned unit);

/* One LFH subsegment's recovery sample. */
struct lfh_sample {
	uint64_t subseg, range_len;
	uint32_t encoded, block_count;
};
/* Recover the 32-bit LfhKey from samples: the candidate that decodes every
 * sample plausibly.  Returns the number of surviving candidates (the key is
 * the one whose first blocks sit closest after the bitmaps), 0 when none. */
size_t lfh_key_recover(const struct lfh_sample *s, size_t n, uint32_t build, unsigned bitmap_off,
		       unsigned unit, uint32_t *key);

struct ich_heaps;
/* heap_find.c -> segment_heap.c: layout and status of a segment heap. */
void seg_heap_classify(struct ich_heaps *h, struct ich_heap *heap);
/* ich_heap_walk for kind SEGMENT. */
struct ich_error *seg_heap_walk(struct ich_heaps *h, struct ich_heap *heap,
				ich_heap_block_fn *fn, ich_heap_run_fn *run_fn, void *arg);
void seg_state_free(struct ich_heaps *h);

#endif
