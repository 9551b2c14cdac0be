/* SPDX-License-Identifier: MIT */
/*
 * Benchmark input for the segment-heap walker: one x64 19045 segment heap
 * (layouts.md §4: SegContexts 0x100, _HEAP_SEG_CONTEXT 0xC0, 1 MiB page
 * segments of 256 descriptors) with about N blocks.  This is a load
 * generator written alongside the walker, NOT the independent test builder
 * (tests/builder/segheap): it proves speed and memory, not correctness.
 *
 * Per page segment: descriptors 0-1 the header, then 15 LFH subsegments of
 * 16 pages (BlockSize 0x20, 2030 blocks, every other one busy), then a free
 * range of 14 pages.  Segment 0 trades its first LFH subsegment for a VS
 * subsegment (busy / free / busy chunks) and has one backend range; one
 * large allocation hangs off LargeAllocMetadata.  HeapKey and LfhKey are in
 * an "ntdll.dll" module's data (RtlpHpHeapGlobals).
 *
 * usage: mksegheap OUT.dmp N [nontdll]   (nontdll: no ntdll module, so
 * LfhKey must be recovered from the LFH subsegments)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpbuilder.h"

#define PEB 0x7F000000ull
#define HEAPS 0x7F010000ull
#define TEB 0x7F020000ull
#define H 0x10000000ull
#define LARGE_NODE 0x10100000ull
#define NTDLL 0x7FF800000000ull
#define SEGS 0x20000000ull
#define HEAPKEY 0x1122334455667788ull
#define LFHKEY 0x5A17C3E9u
#define C26 0xA2E64EADA2E64EADull

static void desc(struct db_mem *m, uint64_t seg, unsigned r, unsigned units, uint8_t flags, uint32_t unused)
{
	uint64_t d = seg + (uint64_t)r * 0x20;
	db_mem_write_u32(m, d + 4, unused);
	db_mem_write_u8(m, d + 0x18, flags);
	db_mem_write_u8(m, d + 0x1F, (uint8_t)units);
}

static void lfh_sub(struct db_mem *m, uint64_t sub)
{
	const uint32_t bc = 2030, bs = 0x20, fo = 0x230;
	db_mem_write_u16(m, sub + 0x20, bc / 2);	/* FreeCount */
	db_mem_write_u16(m, sub + 0x22, bc);
	db_mem_write_u32(m, sub + 0x28, (bs | fo << 16) ^ LFHKEY ^ ((uint32_t)sub >> 12));
	db_mem_fill(m, sub + 0x30, 0x11, bc / 4);	/* blocks 0, 2, 4... busy */
	db_mem_write_u8(m, sub + 0x30 + bc / 4, 0x01);	/* bc % 4 == 2: block bc-2 busy */
}

static void vs_chunk(struct db_mem *m, uint64_t sub, uint64_t c, uint32_t size, uint32_t prev, bool busy)
{
	uint64_t s = ((uint64_t)(size >> 4) << 16) | ((uint64_t)(prev >> 4) << 32) | ((uint64_t)busy << 48);
	db_mem_write_u64(m, c, s ^ c ^ HEAPKEY);
	if (busy)
		db_mem_write_u64(m, c + 8, (uint8_t)(((c - sub) >> 12) ^ c ^ HEAPKEY));
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s OUT.dmp N [nontdll]\n", argv[0]);
		return 2;
	}
	uint64_t n = strtoull(argv[2], NULL, 0), per = 15 * 2030;
	uint64_t nseg = (n + per - 1) / per;
	if (!nseg)
		nseg = 1;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	db_mem_write_u64(m, TEB + 0x60, PEB);
	db_mem_write_u64(m, PEB + 0x30, H);
	db_mem_write_u32(m, PEB + 0xE8, 1);
	db_mem_write_u32(m, PEB + 0xEC, 16);
	db_mem_write_u64(m, PEB + 0xF0, HEAPS);
	db_mem_write_u64(m, HEAPS, H);
	db_mem_write_u32(m, H + 0x10, 0xDDEEDDEE);
	db_mem_write_u16(m, H + 0x1C, 1);
	uint64_t ctx0 = H + 0x100, ctx1 = H + 0x1C0;
	db_mem_write_u8(m, ctx0 + 8, 12);
	db_mem_write_u8(m, ctx0 + 0xA, 2);
	db_mem_write_u8(m, ctx1 + 8, 16);
	db_mem_write_u8(m, ctx1 + 0xA, 1);
	db_mem_write_u64(m, ctx1 + 0x48, ctx1 + 0x48);
	db_mem_write_u64(m, ctx1 + 0x50, ctx1 + 0x48);
	uint64_t head = ctx0 + 0x48, prev = head;
	for (uint64_t k = 0; k < nseg; k++) {
		uint64_t seg = SEGS + k * 0x100000;
		db_mem_write_u64(m, prev, seg);			/* prev.Flink */
		db_mem_write_u64(m, seg + 8, prev);		/* Blink */
		db_mem_write_u64(m, seg + 0x10, seg ^ ctx0 ^ HEAPKEY ^ C26);
		unsigned r = 2;
		for (unsigned i = 0; i < 15; i++, r += 16) {
			uint64_t sub = seg + ((uint64_t)r << 12);
			if (k == 0 && i == 0) {
				desc(m, seg, r, 16, 0x0F, 0);
				db_mem_write_u16(m, sub + 0x20, 0x1000);
				db_mem_write_u16(m, sub + 0x22, 0x1000 ^ 0x2BED);
				vs_chunk(m, sub, sub + 0x30, 0x100, 0, true);
				vs_chunk(m, sub, sub + 0x130, 0x2000, 0x100, false);
				vs_chunk(m, sub, sub + 0x2130, 0x10000 - 0x2130, 0x2000, true);
			} else {
				desc(m, seg, r, 16, 0x0B, 0);
				lfh_sub(m, sub);
			}
		}
		if (k == 0) {
			desc(m, seg, r, 4, 0x03, 0x123);
			desc(m, seg, r + 4, 10, 0x00, 0);
		} else {
			desc(m, seg, r, 14, 0x00, 0);
		}
		db_md_add_memory(md, seg, 0x100000, DB_LIST_64);
		prev = seg;
	}
	db_mem_write_u64(m, prev, head);
	db_mem_write_u64(m, head + 8, prev);
	db_mem_write_u64(m, H + 0x48, LARGE_NODE);
	db_mem_write_u64(m, LARGE_NODE + 0x18, 0x30000000ull | 0x123);
	db_mem_write_u64(m, LARGE_NODE + 0x20, 5ull << 12);
	db_mem_write_u64(m, NTDLL + 0x1800, HEAPKEY);
	db_mem_write_u64(m, NTDLL + 0x1808, LFHKEY);
	db_md_add_memory(md, H, 0x1000, DB_LIST_64);
	db_md_add_memory(md, LARGE_NODE, 0x1000, DB_LIST_64);
	db_md_add_memory(md, NTDLL, 0x2000, DB_LIST_64);
	db_md_add_memory(md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(md, HEAPS, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(md, &t);
	struct db_md_module mod = { .name = "C:\\Windows\\System32\\ntdll.dll", .base = NTDLL, .size = 0x2000,
				    .file_version = { 10, 0, 19045, 1 } };
	if (argc == 3)
		db_md_add_module(md, &mod);
	int rc = db_md_write(md, argv[1]);
	db_md_free(md);
	printf("%s: %llu page segments, %llu LFH blocks (+3 VS chunks, 1 backend, 1 large)\n", argv[1],
	       (unsigned long long)nseg, (unsigned long long)(nseg * per - 2030));
	return rc ? 1 : 0;
}
