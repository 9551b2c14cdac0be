/* SPDX-License-Identifier: MIT */
/*
 * NT heap walker tests on a small x64 19045 heap laid out here with the dump
 * builder from layouts.md §1-3 (1809+ column): encoded entries with
 * checksums, a free block, an uncommitted range, a large block, two LFH
 * UserBlocks with encoded offsets and busy bitmaps, and a corrupted entry.
 * The independent scenario builder (tests/builder/ntheap) covers more
 * builds and arches; this one pins the walker's core answers.
 *
 * argv[1] (optional): also write the dump there (the README's sample).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/layout.h>

#include "dumpbuilder.h"
#include "../heap_blocks.h"

#define H 0x000001c3a0000000ull		/* heap */
#define V 0x000001c3b0000000ull		/* large block */
#define PEB 0x000000b2c1a3f000ull
#define TEB 0x000000b2c1a40000ull
#define KEY 0x1122334455667788ull	/* _HEAP.Encoding small header */
#define LFHKEY 0x9c6e4dd0u		/* RtlpLFHKey (low 32 bits) */
#define LFH (H + 0x800)			/* _LFH_HEAP */
#define UCR_AT (H + 0xC000)
#define UCR_SIZE 0x4000ull

struct block {
	uint64_t header, size, block_size;	/* size = requested */
	int state;				/* 0 busy, 1 free, 2 internal */
};

static const char *out_path;
static bool ntdll_image;	/* build(): also lay out ntdll's headers and .data */
static bool second_heap;	/* build(): a second heap the PEB does not list */
/* build(): the heap's committed bytes in two memory ranges split at
 * H + SPLIT_AT, the upper one first in the file, so the two LFH
 * containers' UserBlocks are not contiguous in the file */
static bool split_heap;
#define SPLIT_AT 0x2400ull
/* build(): the first LFH container is lfh_varied's instead */
static bool varied_container;
static uint16_t ntdll_build_no = 19041;	/* build(): ntdll's file version build */
#define H2 (H + 0x100000)
#define NTDLL 0x7ffb0b120000ull
#define FULLKEY 0x5d2c6b3a9c6e4dd0ull	/* RtlpLFHKey, low half = LFHKEY */
static struct block expect[512];
static size_t nexpect;
static uint64_t corrupt_at;

static void put_entry(struct db_mem *m, uint64_t e, uint16_t units, uint8_t flags,
		      uint16_t prev, uint8_t unused)
{
	uint8_t b[8];
	b[0] = (uint8_t)units;
	b[1] = (uint8_t)(units >> 8);
	b[2] = flags;
	b[3] = b[0] ^ b[1] ^ b[2];	/* SmallTagIndex checksum */
	b[4] = (uint8_t)prev;
	b[5] = (uint8_t)(prev >> 8);
	b[6] = 0;
	b[7] = unused;
	uint64_t v;
	memcpy(&v, b, 8);
	db_mem_write_u64(m, e + 8, v ^ KEY);
}

static void lfh_container(struct db_mem *m, uint64_t e, uint64_t ub_bytes, uint32_t stride,
			  uint32_t count, uint32_t busy, uint8_t unused, uint64_t subseg)
{
	uint64_t ub = e + 16;
	db_mem_write_u64(m, ub + 0x00, subseg);			/* SubSegment */
	db_mem_write_u32(m, ub + 0x14, 0xF0E0D0C0);		/* Signature */
	uint32_t first = 0x40;
	db_mem_write_u32(m, ub + 0x18, (first | stride << 16) ^ (uint32_t)ub ^ (uint32_t)LFH ^ LFHKEY);
	db_mem_write_u64(m, ub + 0x20, count);			/* BusyBitmap.SizeOfBitMap */
	db_mem_write_u64(m, ub + 0x28, ub + 0x30);		/* .Buffer -> BitmapData */
	db_mem_write_u16(m, subseg + 0x24, (uint16_t)(stride / 16));	/* BlockSize */
	db_mem_write_u16(m, subseg + 0x28, (uint16_t)count);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t blk = ub + first + (uint64_t)i * stride;
		if (i < busy) {
			uint8_t bits = db_mem_read_u16(m, ub + 0x30 + i / 8) & 0xFF;
			db_mem_write_u8(m, ub + 0x30 + i / 8, (uint8_t)(bits | 1u << (i % 8)));
			db_mem_write_u8(m, blk + 0xF, (uint8_t)(0x80 | unused));
			expect[nexpect++] = (struct block){ blk, stride - unused, stride, 0 };
		} else {
			expect[nexpect++] = (struct block){ blk, 0, stride, 1 };
		}
	}
	(void)ub_bytes;
}

/*
 * A large container for the run route (ich_heap_walk_runs): 1263 blocks
 * of stride 0x10 (more than lfh.c's RUN_MAX of 1024 per run), the bitmap
 * before FirstAllocationOffset 0x100.  Block i is free when i % 3 == 0,
 * with UnusedBytes (i * 7) & 0xFF (any byte: a free block's is not
 * checked), else busy with 0x80 | (i % 64) (more than the stride for
 * i % 64 > 16: clamped); block 700 is busy without the front-end bit (a
 * problem).  The kinds (busy bit, UnusedBytes) pass 256 in the first 1024
 * blocks.  ub_bytes must hold 0x100 + 1263 * 0x10.
 */
#define VARIED_COUNT 1263u
static void lfh_varied(struct db_mem *m, uint64_t e, uint64_t subseg)
{
	uint64_t ub = e + 16;
	uint32_t first = 0x100, stride = 0x10;
	db_mem_write_u64(m, ub + 0x00, subseg);
	db_mem_write_u32(m, ub + 0x14, 0xF0E0D0C0);
	db_mem_write_u32(m, ub + 0x18, (first | stride << 16) ^ (uint32_t)ub ^ (uint32_t)LFH ^ LFHKEY);
	db_mem_write_u64(m, ub + 0x20, VARIED_COUNT);
	db_mem_write_u64(m, ub + 0x28, ub + 0x30);
	db_mem_write_u16(m, subseg + 0x24, (uint16_t)(stride / 16));
	db_mem_write_u16(m, subseg + 0x28, (uint16_t)VARIED_COUNT);
	uint8_t bits[(VARIED_COUNT + 7) / 8] = { 0 };
	for (uint32_t i = 0; i < VARIED_COUNT; i++) {
		uint64_t blk = ub + first + (uint64_t)i * stride;
		if (i % 3 == 0) {
			db_mem_write_u8(m, blk + 0xF, (uint8_t)(i * 7));
		} else {
			bits[i / 8] |= (uint8_t)(1u << (i % 8));
			db_mem_write_u8(m, blk + 0xF, (uint8_t)(i == 700 ? 0x05 : 0x80 | (i % 64)));
		}
	}
	db_mem_write(m, ub + 0x30, bits, sizeof(bits));
}

/* TEB/PEB listing one heap, and the x64 1809+ _HEAP header (with its own
 * _HEAP_SEGMENT spanning seg_bytes, encoded entries, LFH front end); the
 * UCR list and VirtualAllocdBlocks start empty. */
static void write_heap_header(struct db_mem *m, uint64_t seg_bytes)
{
	db_mem_write_u64(m, TEB + 0x60, PEB);
	db_mem_write_u64(m, PEB + 0x30, H);
	db_mem_write_u32(m, PEB + 0xE8, 1);
	db_mem_write_u32(m, PEB + 0xEC, 16);
	db_mem_write_u64(m, PEB + 0xF0, PEB + 0x800);
	db_mem_write_u64(m, PEB + 0x800, H);
	db_mem_write_u32(m, H + 0x10, 0xFFEEFFEE);
	db_mem_write_u64(m, H + 0x18, H + 0x120);		/* SegmentListEntry */
	db_mem_write_u64(m, H + 0x20, H + 0x120);
	db_mem_write_u64(m, H + 0x120, H + 0x18);		/* SegmentList */
	db_mem_write_u64(m, H + 0x128, H + 0x18);
	db_mem_write_u64(m, H + 0x28, H);			/* Heap */
	db_mem_write_u64(m, H + 0x30, H);			/* BaseAddress */
	db_mem_write_u32(m, H + 0x38, (uint32_t)(seg_bytes / 0x1000));	/* NumberOfPages */
	db_mem_write_u64(m, H + 0x40, H + 0x1000);		/* FirstEntry */
	db_mem_write_u64(m, H + 0x48, H + seg_bytes);		/* LastValidEntry */
	db_mem_write_u64(m, H + 0x60, H + 0x60);		/* UCRSegmentList */
	db_mem_write_u64(m, H + 0x68, H + 0x60);
	db_mem_write_u64(m, H + 0x110, H + 0x110);		/* VirtualAllocdBlocks */
	db_mem_write_u64(m, H + 0x118, H + 0x110);
	db_mem_write_u32(m, H + 0x70, 0x2);			/* Flags */
	db_mem_write_u32(m, H + 0x7C, 0x00100000);		/* EncodeFlagMask */
	db_mem_write_u64(m, H + 0x88, KEY);			/* Encoding small header */
	db_mem_write_u32(m, H + 0x98, 0xEEFFEEFF);		/* Signature */
	db_mem_write_u64(m, H + 0x198, LFH);			/* FrontEndHeap */
	db_mem_write_u8(m, H + 0x1A2, 2);			/* FrontEndHeapType */
	db_mem_write_u64(m, LFH + 0x18, H);			/* _LFH_HEAP.Heap */
	/* the label block of !heap -a (S1 _HEAP: SegmentReserve 0xA0 ...
	 * LockVariable 0x160), values as in the windbg-output heap-a sample */
	db_mem_write_u64(m, H + 0xA0, 0x100000);		/* SegmentReserve */
	db_mem_write_u64(m, H + 0xA8, 0x2000);			/* SegmentCommit */
	db_mem_write_u64(m, H + 0xB0, 0x100);			/* DeCommitFreeBlockThreshold */
	db_mem_write_u64(m, H + 0xB8, 0x1000);			/* DeCommitTotalFreeThreshold */
	db_mem_write_u64(m, H + 0xC8, 0x7ffffffdefffull);	/* MaximumAllocationSize */
	db_mem_write_u16(m, H + 0xD0, 1);			/* ProcessHeapsListIndex */
	db_mem_write_u64(m, H + 0x160, H + 0x2c0);		/* LockVariable */
	db_mem_write_u64(m, H + 0x150, H + 0x150);		/* FreeLists (empty) */
	db_mem_write_u64(m, H + 0x158, H + 0x150);
}

/* Link the free entries (ascending size, as ntdll keeps FreeLists) through
 * _HEAP_FREE_ENTRY.FreeList at +0x10 and set _HEAP.TotalFreeSize (0xC0,
 * units) to their sum. */
static void link_free_list(struct db_mem *m, const uint64_t *e, const uint64_t *units, size_t n)
{
	uint64_t prev = H + 0x150, total = 0;
	for (size_t i = 0; i < n; i++) {
		db_mem_write_u64(m, prev == H + 0x150 ? prev : prev, e[i] + 0x10);	/* prev.Flink */
		db_mem_write_u64(m, e[i] + 0x10 + 8, prev);				/* Blink */
		prev = e[i] + 0x10;
		total += units[i];
	}
	db_mem_write_u64(m, prev, H + 0x150);
	db_mem_write_u64(m, H + 0x158, prev);
	db_mem_write_u64(m, H + 0xC0, total);
}

/*
 * ntdll's image as far as the key search needs it (Microsoft PE/COFF
 * specification): MZ with e_lfanew 0x80, "PE\0\0", NumberOfSections 2,
 * SizeOfOptionalHeader 0xF0, then .text (read/execute) and .data
 * (read/write, IMAGE_SCN_MEM_WRITE 0x80000000).  .data holds RtlpLFHKey
 * (FULLKEY) among decoys: a qword with the same low half but a zero high
 * half, and unrelated values; .text holds the low half with another high
 * half, which must be ignored (not writable).
 */
static void write_ntdll_image(struct db_md *md, struct db_mem *m)
{
	db_mem_write_u8(m, NTDLL, 'M');
	db_mem_write_u8(m, NTDLL + 1, 'Z');
	db_mem_write_u32(m, NTDLL + 0x3C, 0x80);
	db_mem_write_u32(m, NTDLL + 0x80, 0x00004550);		/* "PE\0\0" */
	db_mem_write_u16(m, NTDLL + 0x84, 0x8664);		/* Machine */
	db_mem_write_u16(m, NTDLL + 0x86, 2);			/* NumberOfSections */
	db_mem_write_u16(m, NTDLL + 0x94, 0xF0);		/* SizeOfOptionalHeader */
	uint64_t sec = NTDLL + 0x80 + 24 + 0xF0;
	db_mem_write(m, sec, ".text\0\0\0", 8);
	db_mem_write_u32(m, sec + 8, 0x1000);			/* VirtualSize */
	db_mem_write_u32(m, sec + 12, 0x1000);			/* VirtualAddress */
	db_mem_write_u32(m, sec + 36, 0x60000020);		/* code, execute, read */
	db_mem_write(m, sec + 40, ".data\0\0\0", 8);
	db_mem_write_u32(m, sec + 40 + 8, 0x1000);
	db_mem_write_u32(m, sec + 40 + 12, 0x3000);
	db_mem_write_u32(m, sec + 40 + 36, 0xC0000040);		/* data, read, write */
	db_mem_write_u64(m, NTDLL + 0x1800, 0x1111111100000000ull | LFHKEY);	/* .text: ignored */
	db_mem_write_u64(m, NTDLL + 0x3040, LFHKEY);		/* high half 0: not a key */
	db_mem_write_u64(m, NTDLL + 0x3128, FULLKEY);
	db_mem_write_u64(m, NTDLL + 0x3130, 0x0123456789abcdefull);
	db_md_add_memory(md, NTDLL, 0x1000, DB_LIST_64);
	db_md_add_memory(md, NTDLL + 0x1000, 0x1000, DB_LIST_64);
	db_md_add_memory(md, NTDLL + 0x3000, 0x1000, DB_LIST_64);
}

/*
 * A second heap that PEB.ProcessHeaps does not list (24H2, x64dbg#3478):
 * x64 1809+ _HEAP header (layouts.md §2), no entry encoding
 * (EncodeFlagMask 0), one segment of one page: the header block up to
 * FirstEntry (0x800) and one free block.
 */
static void put_plain(struct db_mem *m, uint64_t e, uint16_t units, uint8_t flags, uint16_t prev, uint8_t unused)
{
	uint8_t b[8] = { (uint8_t)units, (uint8_t)(units >> 8), flags, 0,
			 (uint8_t)prev, (uint8_t)(prev >> 8), 0, unused };
	b[3] = b[0] ^ b[1] ^ b[2];
	db_mem_write(m, e + 8, b, 8);
}

static void write_unlisted_heap(struct db_md *md, struct db_mem *m)
{
	db_mem_write_u32(m, H2 + 0x10, 0xFFEEFFEE);
	db_mem_write_u64(m, H2 + 0x18, H2 + 0x120);
	db_mem_write_u64(m, H2 + 0x20, H2 + 0x120);
	db_mem_write_u64(m, H2 + 0x120, H2 + 0x18);
	db_mem_write_u64(m, H2 + 0x128, H2 + 0x18);
	db_mem_write_u64(m, H2 + 0x28, H2);
	db_mem_write_u64(m, H2 + 0x30, H2);
	db_mem_write_u32(m, H2 + 0x38, 1);
	db_mem_write_u64(m, H2 + 0x40, H2 + 0x800);
	db_mem_write_u64(m, H2 + 0x48, H2 + 0x1000);
	db_mem_write_u64(m, H2 + 0x60, H2 + 0x60);
	db_mem_write_u64(m, H2 + 0x68, H2 + 0x60);
	db_mem_write_u64(m, H2 + 0x110, H2 + 0x110);
	db_mem_write_u64(m, H2 + 0x118, H2 + 0x110);
	db_mem_write_u32(m, H2 + 0x70, 0x1002);
	db_mem_write_u32(m, H2 + 0x98, 0xEEFFEEFF);
	put_plain(m, H2, 0x80, 0x01, 0, 0x10);
	put_plain(m, H2 + 0x800, 0x80, 0x00, 0x80, 0);
	db_md_add_memory(md, H2, 0x1000, DB_LIST_64);
}

/* The dump written to a new file named from tmpl (mkstemp's XXXXXX) and
 * freed; returns the path. */
static char *write_temp(struct db_md *md, const char *tmpl)
{
	char *path = strdup(tmpl);
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(db_md_write(md, path), 0);
	db_md_free(md);
	return path;
}

/* corrupt: 0 none; 1 entry 2's SmallTagIndex broken (its Size intact);
 * 2 entry 2's whole small header overwritten (Size unusable). */
static char *build(int corrupt)
{
	nexpect = 0;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	/* TEB / PEB (layouts.md §1) */
	write_heap_header(m, 0x10000);
	/* uncommitted pages (corrupt 3: more than the segment's pages) */
	db_mem_write_u32(m, H + 0x50, corrupt == 3 ? 0x100000 : 4);
	db_mem_write_u32(m, H + 0x54, 1);
	/* UCR descriptor linked through SegmentEntry into UCRSegmentList */
	uint64_t ucr = H + 0x900;
	db_mem_write_u64(m, H + 0x60, ucr + 0x10);
	db_mem_write_u64(m, H + 0x68, ucr + 0x10);
	db_mem_write_u64(m, ucr + 0x10, H + 0x60);
	db_mem_write_u64(m, ucr + 0x18, H + 0x60);
	db_mem_write_u64(m, ucr + 0x20, UCR_AT);
	db_mem_write_u64(m, ucr + 0x28, UCR_SIZE);
	/* Back-end entries from FirstEntry up to the UCR */
	uint64_t e = H + 0x1000, prev = 0;
	struct { uint16_t units; uint8_t flags; uint8_t unused; int state; } seq[] = {
		{ 0x10, 0x01, 0x18, 0 },	/* 0x100 bytes, requested 0xe8 */
		{ 0x20, 0x00, 0x00, 1 },	/* free 0x200 */
		{ 0x04, 0x03, 0x11, 0 },	/* busy extra, requested 0x2f */
		{ 0x100, 0x09, 0x10, 2 },	/* LFH container, stride 0x20 */
		{ 0x80, 0x09, 0x10, 2 },	/* LFH container, stride 0x30 */
		{ 0x08, 0x01, 0x20, 0 },	/* busy, requested 0x60 */
	};
	if (varied_container)
		seq[3].units = 0x600;	/* lfh_varied: 0x10 + 0x100 + 1263 * 0x10 bytes */
	if (corrupt == 4)
		seq[2].units = 0x200;	/* 0x2000 bytes from H + 0x1300: page H + 0x2000 never written (not captured) */
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		uint64_t bs = (uint64_t)seq[i].units * 16;
		put_entry(m, e, seq[i].units, seq[i].flags, (uint16_t)prev, seq[i].unused);
		expect[nexpect++] = (struct block){ e, seq[i].state == 1 ? 0 : bs - seq[i].unused, bs, seq[i].state };
		if (i == 3 && varied_container)
			lfh_varied(m, e, H + 0xA00);
		else if (i == 3)
			lfh_container(m, e, bs - 16, 0x20, 100, 10, 0x12, H + 0xA00);
		if (i == 4)
			lfh_container(m, e, bs - 16, 0x30, 30, 5, 0x10, H + 0xA80);
		if (i == 2 && corrupt == 1) {
			corrupt_at = e;
			db_mem_write_u8(m, e + 8 + 3, 0x5a ^ (uint8_t)(KEY >> 24));	/* wrong checksum */
		}
		if (i == 2 && (corrupt == 2 || corrupt == 4)) {
			corrupt_at = e;
			db_mem_write_u64(m, e + 8, 0xdeadbeefcafef00dull);
		}
		prev = seq[i].units;
		e += bs;
	}
	/* one free block fills the rest up to the UCR */
	uint16_t rest = (uint16_t)((UCR_AT - e) / 16);
	put_entry(m, e, rest, 0x00, (uint16_t)prev, 0);
	expect[nexpect++] = (struct block){ e, 0, (uint64_t)rest * 16, 1 };
	uint64_t fe[2] = { H + 0x1100, e }, fu[2] = { 0x20, rest };
	link_free_list(m, fe, fu, 2);
	/* Large block: BusyBlock.Size = CommitSize - requested (heap source) */
	db_mem_write_u64(m, H + 0x110, V);
	db_mem_write_u64(m, H + 0x118, V);
	db_mem_write_u64(m, V, H + 0x110);
	db_mem_write_u64(m, V + 8, H + 0x110);
	db_mem_write_u64(m, V + 0x20, 0x21000);
	db_mem_write_u64(m, V + 0x28, 0x21000);
	put_entry(m, V + 0x30 - 0, 0xFF0, 0x01, 0, 0);
	/* put_entry writes at e+8: the BusyBlock small header is at V+0x38 */
	/* listed by its _HEAP_ENTRY, the BusyBlock at +0x30 (layouts.md §2) */
	expect[nexpect++] = (struct block){ V + 0x30, 0x21000 - 0xFF0, 0x21000, 0 };
	if (ntdll_image)
		write_ntdll_image(md, m);
	if (second_heap)
		write_unlisted_heap(md, m);
	if (split_heap) {
		db_md_add_memory(md, H + SPLIT_AT, UCR_AT - H - SPLIT_AT, DB_LIST_64);
		db_md_add_memory(md, H, SPLIT_AT, DB_LIST_64);
	} else if (corrupt == 4) {
		/* page H + 0x2000 (inside the corrupt block) not captured */
		db_md_add_memory(md, H, 0x2000, DB_LIST_64);
		db_md_add_memory(md, H + 0x3000, UCR_AT - H - 0x3000, DB_LIST_64);
	} else {
		db_md_add_memory(md, H, UCR_AT - H, DB_LIST_64);
	}
	db_md_add_memory(md, H + 0x10000 - 0x10, 0, DB_LIST_64);
	db_md_add_memory(md, V, 0x1000, DB_LIST_64);
	db_md_add_memory(md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(md, &t);
	struct db_md_module exe = { .name = "C:\\app\\leaky.exe", .base = 0x7ff6a1200000,
				    .size = 0x20000, .file_version = { 1, 0, 0, 1 } };
	db_md_add_module(md, &exe);
	struct db_md_misc_info mi = { .size_of_info = 1364, .process_id = 0x1f4 };
	db_md_set_misc_info(md, &mi);
	struct db_md_exception ex = { .thread_id = 0x1a4, .code = 0xc0000374, .address = 0x7ffb0b1ff2a9 };
	db_md_set_exception(md, &ex);
	struct db_md_module nt = { .name = "C:\\Windows\\System32\\ntdll.dll", .base = 0x7ffb0b120000,
				   .size = 0x1f8000, .file_version = { 10, 0, ntdll_build_no, 3636 } };
	db_md_add_module(md, &nt);
	char *path = strdup("/tmp/icpheap-hmodel-XXXXXX");
	int fd = mkstemp(path);
	close(fd);
	assert_int_equal(db_md_write(md, path), 0);
	/* the bundled sample: the clean heap with ntdll's image (full RtlpLFHKey) */
	if (out_path && !corrupt && ntdll_image)
		assert_int_equal(db_md_write(md, out_path), 0);
	db_md_free(md);
	return path;
}

struct seen {
	struct ich_heap_block b[512];
	size_t n;
};

static struct ich_error *collect(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct seen *s = arg;
	if (s->n < 512)
		s->b[s->n++] = *b;
	return NULL;
}

/* Walk hp again and check it gives the blocks and problems of the first
 * walk s.  The first walk of an LFH heap recovers RtlpLFHKey in a pre-pass
 * and lists the back end from the headers that pass kept (nt_heap.c
 * loop_entry, issue 12); this one, with the key known, reads every header
 * from the dump: the two must agree block for block. */
static void check_second_walk(struct ich_heaps *h, struct ich_heap *hp, const struct seen *s)
{
	size_t nproblems = hp->nproblems;
	struct seen *s2 = calloc(1, sizeof(*s2));
	assert_non_null(s2);
	assert_null(ich_heap_walk(h, hp, collect, s2));
	assert_int_equal(s2->n, s->n);
	for (size_t i = 0; i < s->n; i++) {
		assert_int_equal(s2->b[i].header, s->b[i].header);
		assert_int_equal(s2->b[i].block_size, s->b[i].block_size);
		assert_int_equal(s2->b[i].size, s->b[i].size);
		assert_int_equal(s2->b[i].state, s->b[i].state);
		assert_int_equal(s2->b[i].layer, s->b[i].layer);
	}
	assert_int_equal(hp->nproblems, nproblems);
	free(s2);
}

static const struct ich_heap_block *find(struct seen *s, uint64_t header)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->b[i].header == header)
			return &s->b[i];
	return NULL;
}

static void test_walk(void **state)
{
	(void)state;
	char *path = build(false);
	struct ich_dump *d;
	assert_null(ich_dump_open(path, &d));
	struct ich_heaps *h;
	struct ich_error *err = ich_heaps_open(d, 0, &h);
	if (err)
		fail_msg("%s", err->message);
	assert_int_equal(ich_heaps_count(h), 1);
	struct ich_heap *hp = ich_heaps_get(h, 0);
	assert_int_equal(hp->address, H);
	assert_int_equal(hp->status, ICH_HEAP_OK);
	assert_int_equal(hp->layout->build_min, 19041);
	assert_true(hp->lfh);
	struct seen s = { .n = 0 };
	assert_null(ich_heap_walk(h, hp, collect, &s));
	uint64_t key;
	assert_true(ich_heaps_lfh_key(h, &key));
	assert_int_equal((uint32_t)key, LFHKEY);
	assert_int_equal(ich_heaps_lfh_key_bits(h), 32);	/* ntdll's data not in this dump */
	assert_int_equal(s.n, nexpect);
	uint64_t busy_bytes = 0, free_bytes = 0, busy = 0, nfree = 0;
	for (size_t i = 0; i < nexpect; i++) {
		const struct ich_heap_block *b = find(&s, expect[i].header);
		if (!b)
			fail_msg("block 0x%llx not reported", (unsigned long long)expect[i].header);
		assert_int_equal(b->block_size, expect[i].block_size);
		assert_int_equal(b->size, expect[i].size);
		assert_int_equal(b->state, expect[i].state == 0 ? ICH_BLOCK_BUSY :
				 expect[i].state == 1 ? ICH_BLOCK_FREE : ICH_BLOCK_INTERNAL);
		if (expect[i].state == 0) {
			busy++;
			busy_bytes += expect[i].size;
		} else if (expect[i].state == 1) {
			nfree++;
			free_bytes += expect[i].block_size;
		}
	}
	assert_int_equal(hp->totals.busy_count, busy);
	assert_int_equal(hp->totals.busy_bytes, busy_bytes);
	assert_int_equal(hp->totals.free_count, nfree);
	assert_int_equal(hp->totals.free_bytes, free_bytes);
	assert_int_equal(hp->totals.virtual_blocks, 1);
	assert_int_equal(hp->totals.ucr_count, 1);
	assert_int_equal(hp->nsegments, 1);
	assert_int_equal(hp->segments[0].nucr, 1);
	assert_int_equal(hp->segments[0].ucr[0].address, UCR_AT);
	assert_int_equal(hp->nproblems, 0);
	assert_false(hp->partial);
	/* the LFH user pointer is the block + 16; the large block's after the
	 * 0x40-byte VIRTUAL_ALLOC_ENTRY */
	assert_int_equal(find(&s, V + 0x30)->user, V + 0x40);
	assert_int_equal(find(&s, V + 0x30)->segment, V);
	assert_int_equal(find(&s, V + 0x30)->layer, ICH_LAYER_VIRTUAL);
	check_second_walk(h, hp, &s);
	ich_heaps_close(h);
	ich_dump_close(d);
	unlink(path);
	free(path);
}

/* build(corrupt)'s dump opened and its heap walked (blocks into s);
 * walked_close undoes it. */
struct walked {
	char *path;
	struct ich_dump *d;
	struct ich_heaps *h;
	struct ich_heap *hp;
	struct seen s;
};

static void walked_open(struct walked *w, int corrupt)
{
	w->path = build(corrupt);
	assert_null(ich_dump_open(w->path, &w->d));
	assert_null(ich_heaps_open(w->d, 0, &w->h));
	w->hp = ich_heaps_get(w->h, 0);
	w->s.n = 0;
	assert_null(ich_heap_walk(w->h, w->hp, collect, &w->s));
}

static void walked_close(struct walked *w)
{
	ich_heaps_close(w->h);
	ich_dump_close(w->d);
	unlink(w->path);
	free(w->path);
}

/* Does one of hp's problems (at address at, unless at is 0) hold both a
 * and b (b NULL: only a)? */
static bool has_problem(const struct ich_heap *hp, uint64_t at, const char *a, const char *b)
{
	for (size_t i = 0; i < hp->nproblems; i++)
		if ((!at || hp->problems[i].address == at) && strstr(hp->problems[i].what, a) &&
		    (!b || strstr(hp->problems[i].what, b)))
			return true;
	return false;
}

/* The walk goes on past a corrupt entry: it is listed as corrupt, every
 * block after it is listed as laid out, and the totals say one block could
 * not be vouched for.  mode 1: the entry's Size is intact and the next entry
 * links back to it, so the walk continues right after it; mode 2: its
 * header is garbage, so the walk scans forward to the next entry whose
 * checksum and PreviousSize link hold, and reports the skipped range. */
static void check_corrupt(int mode)
{
	static struct walked w;
	walked_open(&w, mode);
	struct ich_heaps *h = w.h;
	struct ich_heap *hp = w.hp;
	struct seen *sp = &w.s;
	assert_true(hp->partial);
	assert_true(hp->nproblems >= 1);
	assert_int_equal(hp->problems[0].address, corrupt_at);
	assert_non_null(strstr(hp->problems[0].what, "checksum"));
	const struct ich_heap_block *cb = find(sp, corrupt_at);
	assert_non_null(cb);
	assert_int_equal(cb->state, ICH_BLOCK_CORRUPT);
	assert_int_equal(cb->block_size, 0x40);	/* up to the LFH container */
	assert_int_equal(has_problem(hp, 0, "skipped 0x40 bytes", NULL), mode == 2);
	/* every other block, before and after it, as laid out */
	uint64_t busy = 0, nfree = 0;
	for (size_t i = 0; i < nexpect; i++) {
		if (expect[i].header == corrupt_at)
			continue;
		const struct ich_heap_block *b = find(sp, expect[i].header);
		if (!b)
			fail_msg("block 0x%llx not reported after the corrupt entry", (unsigned long long)expect[i].header);
		assert_int_equal(b->block_size, expect[i].block_size);
		assert_int_equal(b->size, expect[i].size);
		assert_int_equal(b->state, expect[i].state == 0 ? ICH_BLOCK_BUSY :
				 expect[i].state == 1 ? ICH_BLOCK_FREE : ICH_BLOCK_INTERNAL);
		busy += expect[i].state == 0;
		nfree += expect[i].state == 1;
	}
	assert_int_equal(sp->n, nexpect);
	assert_int_equal(hp->totals.corrupt_count, 1);
	assert_int_equal(hp->totals.busy_count, busy);
	assert_int_equal(hp->totals.free_count, nfree);
	check_second_walk(h, hp, sp);
	walked_close(&w);
}

static void test_corrupt(void **state)
{
	(void)state;
	check_corrupt(1);
}

static void test_corrupt_resync_scan(void **state)
{
	(void)state;
	check_corrupt(2);
}

/* A corrupt entry (its whole small header garbage) whose block spans a
 * page the dump did not capture: the scan for the next entry stops at the
 * page instead of stepping through it unit by unit, the gap is recorded
 * with its reason, and the walk finds the chain again after it (nt_heap.c
 * resync, nt_unreadable.c).  Before, the scan went on through the
 * uncaptured page (a failed read a unit: 2^36 of them for a segment whose
 * LastValidEntry lies 2^40 bytes on) and nothing said the heap was
 * partial. */
static void test_corrupt_before_uncaptured(void **state)
{
	(void)state;
	static struct walked w;
	walked_open(&w, 4);
	struct ich_heap *hp = w.hp;
	uint64_t e3 = H + 0x1300 + 0x2000;	/* the entry after the corrupt one */
	assert_int_equal(hp->nunreadable, 1);
	assert_int_equal(hp->unreadable[0].address, H + 0x2000);
	assert_int_equal(hp->unreadable[0].end, e3);
	assert_true(hp->unreadable[0].resynced);
	assert_int_equal(hp->unreadable[0].why, ICH_MISS_NOT_CAPTURED);
	assert_true(hp->partial);
	assert_true(has_problem(hp, H + 0x1300, "skipped 0xd00 bytes", "before memory that cannot be read"));
	/* the chain after the gap: the two LFH containers, the busy block
	 * and the free block up to the UCR */
	assert_non_null(find(&w.s, e3));
	assert_non_null(find(&w.s, e3 + 0x1000));
	assert_non_null(find(&w.s, e3 + 0x1800));
	assert_non_null(find(&w.s, e3 + 0x1880));
	walked_close(&w);
}

/* A segment whose UncommittedPages exceeds its NumberOfPages: a problem
 * names both, and the committed total does not go below zero (it wrapped
 * to ~2^64 before: span - UncommittedPages * 0x1000). */
static void test_uncommitted_past_pages(void **state)
{
	(void)state;
	static struct walked w;
	walked_open(&w, 3);
	assert_true(has_problem(w.hp, 0, "UncommittedPages 0x100000 exceeds NumberOfPages", NULL));
	assert_true(w.hp->totals.committed <= w.hp->totals.reserved);
	walked_close(&w);
}

/*
 * Typed layouts: a --layout row that lacks a field the walker needs is
 * rejected naming the field (never read at address - 1), and rows loaded
 * into one registry do not leak into another (or the default).
 */
static struct ich_layouts *registry_with(const char *text)
{
	char p[] = "/tmp/icpheap-hmodel-layout-XXXXXX";
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct ich_layouts *reg;
	assert_null(ich_layouts_create(&reg));
	struct ich_error *err = ich_layouts_load_file(reg, p);
	if (err)
		fail_msg("%s", err->message);
	unlink(p);
	return reg;
}

static bool has_note(struct ich_heaps *h, const char *a, const char *b)
{
	for (size_t i = 0; i < ich_heaps_note_count(h); i++)
		if (strstr(ich_heaps_note(h, i), a) && (!b || strstr(ich_heaps_note(h, i), b)))
			return true;
	return false;
}

static void test_layout_missing_field(void **state)
{
	(void)state;
	char *path = build(false);
	struct ich_dump *d;
	assert_null(ich_dump_open(path, &d));
	struct ich_heaps *h;

	/* PEB: without TEB.ProcessEnvironmentBlock nothing can be found */
	struct ich_layouts *reg = registry_with("[ntdll x64 19041 \"no TEB\"]\nbase = ntdll x64 19041\n"
						"TEB.ProcessEnvironmentBlock = -1\n");
	struct ich_error *err = ich_heaps_open_with(d, 0, reg, &h);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_LAYOUT);
	assert_non_null(strstr(err->message, "TEB.ProcessEnvironmentBlock"));
	ich_error_destroy(err);
	ich_layouts_destroy(reg);

	/* _HEAP: the build's row lacks HEAP.Encoding: rejected by name, the
	 * next row (same layout, 18362) is used instead */
	reg = registry_with("[ntdll x64 19041 \"no Encoding\"]\nbase = ntdll x64 19041\nHEAP.Encoding = -1\n");
	assert_null(ich_heaps_open_with(d, 0, reg, &h));
	struct ich_heap *hp = ich_heaps_get(h, 0);
	assert_int_equal(hp->status, ICH_HEAP_OK);
	assert_true(hp->layout_fallback);
	assert_true(has_note(h, "has no HEAP.Encoding", NULL));
	ich_heaps_close(h);
	ich_layouts_destroy(reg);

	/* LFH: a row without the busy bitmap walks the back end only and says why */
	reg = registry_with("[ntdll x64 19041 \"no bitmap\"]\nbase = ntdll x64 19041\n"
			    "HEAP_USERDATA_HEADER.BusyBitmap = -1\n");
	assert_null(ich_heaps_open_with(d, 0, reg, &h));
	hp = ich_heaps_get(h, 0);
	assert_false(hp->layout_fallback);
	assert_true(has_note(h, "HEAP_USERDATA_HEADER.BusyBitmap", "not walked"));
	struct seen s = { .n = 0 };
	assert_null(ich_heap_walk(h, hp, collect, &s));
	for (size_t i = 0; i < s.n; i++)
		assert_int_not_equal(s.b[i].layer, ICH_LAYER_LFH);
	ich_heaps_close(h);
	ich_layouts_destroy(reg);

	/* the default registry never saw those rows */
	assert_null(ich_heaps_open(d, 0, &h));
	assert_false(ich_heaps_get(h, 0)->layout_fallback);
	assert_int_equal(ich_heaps_note_count(h) > 0, 1);
	assert_false(has_note(h, "has no", NULL));
	ich_heaps_close(h);
	ich_dump_close(d);
	unlink(path);
	free(path);
}

/* x64: the UserBlocks give RtlpLFHKey's low half; the full 64-bit value is
 * the one qword of ntdll's writable data with that low half. */
/* The key, also with the containers' bytes not contiguous in the file
 * (split: lfh_recover_key scores the candidate keys byte by byte, not in
 * place). */
static void test_lfh_key_64(void **state)
{
	(void)state;
	for (int split = 0; split < 2; split++) {
		ntdll_image = true;
		split_heap = split;
		char *path = build(0);
		ntdll_image = false;
		split_heap = false;
		struct ich_dump *d;
		assert_null(ich_dump_open(path, &d));
		struct ich_heaps *h;
		assert_null(ich_heaps_open(d, 0, &h));
		struct ich_heap *hp = ich_heaps_get(h, 0);
		assert_null(ich_heap_walk(h, hp, NULL, NULL));
		uint64_t key;
		assert_true(ich_heaps_lfh_key(h, &key));
		assert_int_equal(ich_heaps_lfh_key_bits(h), 64);
		assert_int_equal(key, FULLKEY);
		ich_heaps_close(h);
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
}

/* 24H2: the PEB lists one heap; the second is found by its header in the
 * captured memory, validated like a listed heap, and marked unlisted.
 * Before 24H2 the PEB's list is taken as complete. */
static void test_unlisted_heap_24h2(void **state)
{
	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		second_heap = true;
		ntdll_build_no = pass ? 26100 : 19041;
		char *path = build(0);
		second_heap = false;
		ntdll_build_no = 19041;
		struct ich_dump *d;
		assert_null(ich_dump_open(path, &d));
		struct ich_heaps *h;
		assert_null(ich_heaps_open(d, 0, &h));
		if (!pass) {
			assert_int_equal(ich_heaps_count(h), 1);
		} else {
			assert_int_equal(ich_heaps_count(h), 2);
			struct ich_heap *hp = ich_heaps_get(h, 1);
			assert_int_equal(hp->address, H2);
			assert_int_equal(hp->status, ICH_HEAP_OK);
			assert_true(hp->unlisted);
			assert_false(ich_heaps_get(h, 0)->unlisted);
			assert_int_equal(hp->flags, 0x1002);
			struct seen s = { .n = 0 };
			assert_null(ich_heap_walk(h, hp, collect, &s));
			assert_int_equal(s.n, 2);	/* its header block and the free block */
			assert_non_null(find(&s, H2 + 0x800));
			assert_int_equal(find(&s, H2 + 0x800)->state, ICH_BLOCK_FREE);
			assert_true(has_note(h, "not in PEB.ProcessHeaps", "3478"));
			/* the first heap's own segment header is not taken for a heap */
		}
		ich_heaps_close(h);
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
}

/*
 * Windows 7 x64 LFH (no bitmap): _HEAP x64 7601 column (layouts.md §2:
 * Encoding 0x80, Signature 0xA0, VirtualAllocdBlocks 0x118, SegmentList
 * 0x128, FrontEndHeap 0x178, FrontEndHeapType 0x182), Win7
 * _HEAP_SUBSEGMENT x64 (§3: UserBlocks 8, BlockSize 0x18, BlockCount 0x1C)
 * and _HEAP_USERDATA_HEADER (SubSegment 0, Signature 0x18, size 0x20, the
 * blocks right after it).  Block busy/free from UnusedBytes (S5): 0x80 |
 * unused count when busy; free blocks 0x80 or 0.
 */
#define H7 0x0000000000350000ull
#define PEB7 0x000007fffffd3000ull
#define TEB7 0x000007fffffde000ull
#define KEY7 0x00000000a1b2c3d4ull << 8

static void put_entry7(struct db_mem *m, uint64_t e, uint16_t units, uint8_t flags, uint16_t prev, uint8_t unused)
{
	uint8_t b[8] = { (uint8_t)units, (uint8_t)(units >> 8), flags, 0,
			 (uint8_t)prev, (uint8_t)(prev >> 8), 0, unused };
	b[3] = b[0] ^ b[1] ^ b[2];
	uint64_t v;
	memcpy(&v, b, 8);
	db_mem_write_u64(m, e + 8, v ^ (KEY7));
}

static char *build_win7(void)
{
	nexpect = 0;
	struct db_md *md = db_md_new(DB_ARCH_X64, 6, 1, 7601);
	struct db_mem *m = db_md_mem(md);
	db_mem_write_u64(m, TEB7 + 0x60, PEB7);
	db_mem_write_u64(m, PEB7 + 0x30, H7);
	db_mem_write_u32(m, PEB7 + 0xE8, 1);
	db_mem_write_u32(m, PEB7 + 0xEC, 16);
	db_mem_write_u64(m, PEB7 + 0xF0, PEB7 + 0x800);
	db_mem_write_u64(m, PEB7 + 0x800, H7);
	uint64_t seg_bytes = 0x8000;
	db_mem_write_u32(m, H7 + 0x10, 0xFFEEFFEE);
	db_mem_write_u64(m, H7 + 0x18, H7 + 0x128);		/* SegmentListEntry */
	db_mem_write_u64(m, H7 + 0x20, H7 + 0x128);
	db_mem_write_u64(m, H7 + 0x128, H7 + 0x18);		/* SegmentList */
	db_mem_write_u64(m, H7 + 0x130, H7 + 0x18);
	db_mem_write_u64(m, H7 + 0x28, H7);
	db_mem_write_u64(m, H7 + 0x30, H7);
	db_mem_write_u32(m, H7 + 0x38, (uint32_t)(seg_bytes / 0x1000));
	db_mem_write_u64(m, H7 + 0x40, H7 + 0x1000);		/* FirstEntry */
	db_mem_write_u64(m, H7 + 0x48, H7 + seg_bytes);	/* LastValidEntry */
	db_mem_write_u64(m, H7 + 0x60, H7 + 0x60);		/* UCRSegmentList (empty) */
	db_mem_write_u64(m, H7 + 0x68, H7 + 0x60);
	db_mem_write_u64(m, H7 + 0x118, H7 + 0x118);		/* VirtualAllocdBlocks (empty) */
	db_mem_write_u64(m, H7 + 0x120, H7 + 0x118);
	db_mem_write_u32(m, H7 + 0x70, 0x2);			/* Flags */
	db_mem_write_u32(m, H7 + 0x7C, 0x00100000);		/* EncodeFlagMask */
	db_mem_write_u64(m, H7 + 0x88, KEY7);			/* Encoding small header */
	db_mem_write_u32(m, H7 + 0xA0, 0xEEFFEEFF);		/* Signature */
	db_mem_write_u64(m, H7 + 0x178, H7 + 0x800);		/* FrontEndHeap */
	db_mem_write_u8(m, H7 + 0x182, 2);			/* FrontEndHeapType = LFH */
	uint64_t e = H7 + 0x1000, prev = 0;
	/* a busy block, an LFH container (0x400 bytes), a busy block, free rest */
	put_entry7(m, e, 0x10, 0x01, 0, 0x18);
	expect[nexpect++] = (struct block){ e, 0x100 - 0x18, 0x100, 0 };
	prev = 0x10;
	e += 0x100;
	put_entry7(m, e, 0x40, 0x09, (uint16_t)prev, 0x10);
	expect[nexpect++] = (struct block){ e, 0x400 - 0x10, 0x400, 2 };
	uint64_t ub = e + 16, subseg = H7 + 0xA00;
	db_mem_write_u64(m, ub, subseg);			/* SubSegment */
	db_mem_write_u32(m, ub + 0x18, 0xF0E0D0C0);		/* Signature */
	db_mem_write_u64(m, subseg + 0x08, ub);			/* UserBlocks */
	db_mem_write_u16(m, subseg + 0x18, 3);			/* BlockSize: stride 0x30 */
	db_mem_write_u16(m, subseg + 0x1C, 20);			/* BlockCount */
	for (uint32_t i = 0; i < 20; i++) {
		uint64_t blk = ub + 0x20 + (uint64_t)i * 0x30;
		if (i % 3 != 2) {
			uint8_t unused = (uint8_t)(0x10 + i % 5);
			db_mem_write_u8(m, blk + 0xF, (uint8_t)(0x80 | unused));
			expect[nexpect++] = (struct block){ blk, 0x30 - unused, 0x30, 0 };
		} else {
			db_mem_write_u8(m, blk + 0xF, i % 2 ? 0x80 : 0x00);
			expect[nexpect++] = (struct block){ blk, 0, 0x30, 1 };
		}
	}
	prev = 0x40;
	e += 0x400;
	put_entry7(m, e, 0x08, 0x01, (uint16_t)prev, 0x20);
	expect[nexpect++] = (struct block){ e, 0x80 - 0x20, 0x80, 0 };
	prev = 0x08;
	e += 0x80;
	uint16_t rest = (uint16_t)((H7 + seg_bytes - e) / 16);
	put_entry7(m, e, rest, 0x00, (uint16_t)prev, 0);
	expect[nexpect++] = (struct block){ e, 0, (uint64_t)rest * 16, 1 };
	db_md_add_memory(md, H7, seg_bytes, DB_LIST_64);
	db_md_add_memory(md, PEB7, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB7, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB7 };
	db_md_add_thread(md, &t);
	struct db_md_module nt = { .name = "C:\\Windows\\System32\\ntdll.dll", .base = 0x77b00000,
				   .size = 0x1a9000, .file_version = { 6, 1, 7601, 24545 } };
	db_md_add_module(md, &nt);
	return write_temp(md, "/tmp/icpheap-hmodel7-XXXXXX");
}

static void test_win7_lfh(void **state)
{
	(void)state;
	char *path = build_win7();
	struct ich_dump *d;
	assert_null(ich_dump_open(path, &d));
	struct ich_heaps *h;
	struct ich_error *err = ich_heaps_open(d, 0, &h);
	if (err)
		fail_msg("%s", err->message);
	struct ich_heap *hp = ich_heaps_get(h, 0);
	if (hp->status != ICH_HEAP_OK)
		fail_msg("%s", hp->reason);
	assert_int_equal(hp->layout->build_min, 7600);
	assert_true(hp->lfh);
	struct seen s = { .n = 0 };
	assert_null(ich_heap_walk(h, hp, collect, &s));
	assert_int_equal(hp->nproblems, 0);
	assert_int_equal(s.n, nexpect);
	uint64_t lfh_busy = 0, lfh_free = 0;
	for (size_t i = 0; i < nexpect; i++) {
		const struct ich_heap_block *b = find(&s, expect[i].header);
		if (!b)
			fail_msg("block 0x%llx not reported", (unsigned long long)expect[i].header);
		assert_int_equal(b->block_size, expect[i].block_size);
		assert_int_equal(b->size, expect[i].size);
		assert_int_equal(b->state, expect[i].state == 0 ? ICH_BLOCK_BUSY :
				 expect[i].state == 1 ? ICH_BLOCK_FREE : ICH_BLOCK_INTERNAL);
		if (b->layer == ICH_LAYER_LFH) {
			assert_int_equal(b->segment, H7 + 0x1100 + 16);	/* its container */
			lfh_busy += b->state == ICH_BLOCK_BUSY;
			lfh_free += b->state == ICH_BLOCK_FREE;
		}
	}
	assert_int_equal(lfh_busy, 14);
	assert_int_equal(lfh_free, 6);
	assert_int_equal(hp->totals.lfh_blocks, 14);
	/* A second walk learns nothing new: it must not repeat the first
	 * walk's notes (each walk used to append the key note again). */
	size_t nnotes = ich_heaps_note_count(h);
	bool key_note = false;
	for (size_t i = 0; i < nnotes; i++)
		key_note |= strstr(ich_heaps_note(h, i), "RtlpLFHKey") != NULL;
	assert_true(key_note);
	struct seen s2 = { .n = 0 };
	assert_null(ich_heap_walk(h, hp, collect, &s2));
	assert_int_equal(s2.n, s.n);
	assert_int_equal(ich_heaps_note_count(h), nnotes);
	ich_heaps_close(h);
	ich_dump_close(d);
	unlink(path);
	free(path);
}

/*
 * x86 heaps (layouts.md §1-2 x86 1809+ column; entries 8 bytes, unit 8),
 * native x86 or in a WOW64 process (32-bit TEB = TEB64 + 0x2000, whose
 * ProcessEnvironmentBlock is the 32-bit PEB; x86 rows, 4-byte pointers).
 */
#define H32 0x00d40000u
#define V32 0x02a00000u
#define PEB32 0x7efde000u
#define TEB64 0x7efdb000u
#define KEY32 0x0badf00d13572468ull

static void put_entry32(struct db_mem *m, uint64_t e, uint16_t units, uint8_t flags,
			uint16_t prev, uint8_t unused)
{
	uint8_t b[8] = { (uint8_t)units, (uint8_t)(units >> 8), flags, 0,
			 (uint8_t)prev, (uint8_t)(prev >> 8), 0, unused };
	b[3] = b[0] ^ b[1] ^ b[2];
	uint64_t v;
	memcpy(&v, b, 8);
	db_mem_write_u64(m, e, v ^ KEY32);
}

/* The x86 heap build_x86 and build_lanes32 share: the PEB (at teb32's
 * +0x30) listing one heap at H32, one segment from FirstEntry H32 + 0x800
 * whose top half (from H32 + 0x8000) is one uncommitted range. */
static void x86_heap(struct db_mem *m, uint64_t teb32)
{
	db_mem_write_u32(m, teb32 + 0x30, PEB32);
	db_mem_write_u32(m, PEB32 + 0x18, H32);
	db_mem_write_u32(m, PEB32 + 0x88, 1);
	db_mem_write_u32(m, PEB32 + 0x8C, 16);
	db_mem_write_u32(m, PEB32 + 0x90, PEB32 + 0x800);
	db_mem_write_u32(m, PEB32 + 0x800, H32);
	db_mem_write_u32(m, H32 + 0x08, 0xFFEEFFEE);
	db_mem_write_u32(m, H32 + 0x10, H32 + 0xA4);		/* SegmentListEntry */
	db_mem_write_u32(m, H32 + 0x14, H32 + 0xA4);
	db_mem_write_u32(m, H32 + 0xA4, H32 + 0x10);		/* SegmentList */
	db_mem_write_u32(m, H32 + 0xA8, H32 + 0x10);
	db_mem_write_u32(m, H32 + 0x1C, H32);
	db_mem_write_u32(m, H32 + 0x20, 16);
	db_mem_write_u32(m, H32 + 0x24, H32 + 0x800);		/* FirstEntry */
	db_mem_write_u32(m, H32 + 0x28, H32 + 0x10000);		/* LastValidEntry */
	db_mem_write_u32(m, H32 + 0x2C, 8);
	/* the top half is one uncommitted range (x86 _HEAP_UCR_DESCRIPTOR:
	 * SegmentEntry +8, Address +0x10, Size +0x14) */
	db_mem_write_u32(m, H32 + 0x38, H32 + 0x608);
	db_mem_write_u32(m, H32 + 0x3C, H32 + 0x608);
	db_mem_write_u32(m, H32 + 0x608, H32 + 0x38);
	db_mem_write_u32(m, H32 + 0x60C, H32 + 0x38);
	db_mem_write_u32(m, H32 + 0x610, H32 + 0x8000);
	db_mem_write_u32(m, H32 + 0x614, 0x8000);
	db_mem_write_u32(m, H32 + 0x40, 0x2);
	db_mem_write_u32(m, H32 + 0x4C, 0x00100000);
	db_mem_write_u64(m, H32 + 0x50, KEY32);
	db_mem_write_u32(m, H32 + 0x60, 0xEEFFEEFF);
}

static char *build_x86(bool wow64)
{
	nexpect = 0;
	struct db_md *md = db_md_new(wow64 ? DB_ARCH_X64 : DB_ARCH_X86, 10, 0, 19045);
	if (wow64)
		db_md_set_wow64(md);
	struct db_mem *m = db_md_mem(md);
	uint64_t teb32 = TEB64 + (wow64 ? 0x2000 : 0);
	x86_heap(m, teb32);
	/* one large block */
	db_mem_write_u32(m, H32 + 0x9C, V32);
	db_mem_write_u32(m, H32 + 0xA0, V32);
	db_mem_write_u32(m, V32, H32 + 0x9C);
	db_mem_write_u32(m, V32 + 4, H32 + 0x9C);
	db_mem_write_u32(m, V32 + 0x10, 0x11000);		/* CommitSize */
	db_mem_write_u32(m, V32 + 0x14, 0x11000);
	put_entry32(m, V32 + 0x18, 0xFE0, 0x01, 0, 0);		/* Size = unused bytes */
	expect[nexpect++] = (struct block){ V32 + 0x18, 0x11000 - 0xFE0, 0x11000, 0 };	/* BusyBlock */
	uint64_t e = H32 + 0x800, prev = 0;
	struct { uint16_t units; uint8_t flags; uint8_t unused; int state; } seq[] = {
		{ 0x20, 0x01, 0x0C, 0 }, { 0x10, 0x00, 0, 1 }, { 0x08, 0x01, 0x18, 0 },
	};
	for (size_t i = 0; i < 3; i++) {
		uint64_t bs = (uint64_t)seq[i].units * 8;
		put_entry32(m, e, seq[i].units, seq[i].flags, (uint16_t)prev, seq[i].unused);
		expect[nexpect++] = (struct block){ e, seq[i].state ? 0 : bs - seq[i].unused, bs, seq[i].state };
		prev = seq[i].units;
		e += bs;
	}
	uint16_t rest = (uint16_t)((H32 + 0x8000 - e) / 8);
	put_entry32(m, e, rest, 0, (uint16_t)prev, 0);
	expect[nexpect++] = (struct block){ e, 0, (uint64_t)rest * 8, 1 };
	db_md_add_memory(md, H32, 0x8000, DB_LIST_64);
	db_md_add_memory(md, V32, 0x1000, DB_LIST_64);
	db_md_add_memory(md, PEB32, 0x1000, DB_LIST_64);
	db_md_add_memory(md, teb32, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x2a0, .teb = TEB64 };
	db_md_add_thread(md, &t);
	struct db_md_module nt = { .name = wow64 ? "C:\\Windows\\SysWOW64\\ntdll.dll" : "C:\\Windows\\System32\\ntdll.dll",
				   .base = 0x77a00000, .size = 0x1a0000, .file_version = { 10, 0, 19041, 3636 } };
	db_md_add_module(md, &nt);
	return write_temp(md, "/tmp/icpheap-hmodel32-XXXXXX");
}

static void check_x86(bool wow64)
{
	char *path = build_x86(wow64);
	struct ich_dump *d;
	assert_null(ich_dump_open(path, &d));
	assert_int_equal(ich_dump_is_wow64(d), wow64);
	struct ich_heaps *h;
	struct ich_error *err = ich_heaps_open(d, 0, &h);
	if (err)
		fail_msg("%s", err->message);
	assert_int_equal(ich_heaps_ptr_size(h), 4);
	assert_int_equal(ich_heaps_count(h), 1);
	struct ich_heap *hp = ich_heaps_get(h, 0);
	assert_int_equal(hp->address, H32);
	if (hp->status != ICH_HEAP_OK)
		fail_msg("%s", hp->reason);
	assert_int_equal(hp->layout->arch, ICH_ARCH_X86);
	struct seen s = { .n = 0 };
	assert_null(ich_heap_walk(h, hp, collect, &s));
	assert_int_equal(s.n, nexpect);
	for (size_t i = 0; i < nexpect; i++) {
		const struct ich_heap_block *b = find(&s, expect[i].header);
		if (!b)
			fail_msg("block 0x%llx not reported", (unsigned long long)expect[i].header);
		assert_int_equal(b->block_size, expect[i].block_size);
		assert_int_equal(b->size, expect[i].size);
	}
	assert_int_equal(find(&s, V32 + 0x18)->user, V32 + 0x20);
	assert_int_equal(find(&s, V32 + 0x18)->segment, V32);
	assert_int_equal(find(&s, H32 + 0x800)->user, H32 + 0x808);
	assert_int_equal(hp->nproblems, 0);
	ich_heaps_close(h);
	ich_dump_close(d);
	unlink(path);
	free(path);
}

static void test_x86(void **state)
{
	(void)state;
	check_x86(false);
}

static void test_wow64(void **state)
{
	(void)state;
	check_x86(true);
}

/*
 * The summing walks (issue 12): ich_heap_walk without a callback and
 * ich_heap_stat take an LFH container's blocks as counts from its busy
 * bitmap (lfh.c lfh_counted) and, while RtlpLFHKey is unknown, walk the
 * back end once and the containers after it (nt_heap.c walk_deferred).
 * They must give what a block-by-block walk gives: the same totals,
 * problems in the same order, unreadable ranges, notes, and -stat rows.
 *
 * build_mix(mode): one 0x20000-byte segment, entries from FirstEntry:
 * busy 0x100, busy 0x100 with the UnusedBytes escape 0x3F (requested
 * 0x80), [mode 1: a busy 0x40 whose checksum fails], container C0
 * (stride 0x20, 100 blocks, 40 busy with UnusedBytes 0x10..0x16: seven
 * requested sizes, and one 0x3F: more than the stride; mode 2: block 7
 * busy in the bitmap without the front-end bit), free 0x200, busy blocks
 * up to H + 0x4000, a busy 0x1000 at H + 0x4000 (mode 4: that page not
 * captured: the chain is found again at H + 0x5000), 20 busy 0x40 (the
 * resync confirms 16), container C1 (stride 0x30, 30 blocks, 12 busy),
 * a busy 0x40 (mode 16: its PreviousSize wrong), [mode 8: a busy 0x40
 * whose checksum fails], a free block to the end.
 */
#define MIX_SEG 0x20000ull
static char *build_win7(void);
static char *build_x86(bool wow64);

/* The walker tests' own dumps the summing and option walks are checked on
 * too: clean, corrupt, resync by scan; Windows 7 LFH; x86 (8-byte
 * entries) and WOW64. */
#define NWALKER 6
static const char *const walker_label[NWALKER] = { "clean", "corrupt", "corrupt scan", "win7", "x86", "wow64" };
static char *build_walker(int k)
{
	return k < 3 ? build(k) : k == 3 ? build_win7() : build_x86(k == 5);
}

static char *build_mix(int mode)
{
	nexpect = 0;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	write_heap_header(m, MIX_SEG);
	uint64_t e = H + 0x1000, prev = 0;
#define MIX_PUT(units, flags, unused) do { \
		put_entry(m, e, (units), (flags), (uint16_t)prev, (unused)); \
		prev = (units); \
		e += (uint64_t)(units) * 16; \
	} while (0)
	MIX_PUT(0x10, 0x01, 0x18);
	/* UnusedBytes 0x3F: the count is in PreviousBlockPrivateData (0x80) */
	db_mem_write_u16(m, e, 0x80);
	MIX_PUT(0x10, 0x01, 0x3F);
	if (mode & 1) {
		db_mem_write_u8(m, e + 8 + 3, 0x5a ^ (uint8_t)(KEY >> 24));
		e += 0x40;	/* (prev stays: the next entry links to the bad one) */
		put_entry(m, e - 0x40, 0x04, 0x01, (uint16_t)prev, 0x10);
		db_mem_write_u8(m, e - 0x40 + 8 + 3, 0x5a ^ (uint8_t)(KEY >> 24));
		prev = 0x04;
	}
	uint64_t c0 = e;
	MIX_PUT(0x100, 0x09, 0x10);
	lfh_container(m, c0, 0x1000 - 16, 0x20, 100, 40, 0x10, H + 0xA00);
	for (uint32_t i = 0; i < 40; i++)	/* seven requested sizes */
		db_mem_write_u8(m, c0 + 16 + 0x40 + (uint64_t)i * 0x20 + 0xF, (uint8_t)(0x80 | (0x10 + i % 7)));
	/* UnusedBytes past the stride (counted as the whole block unused) */
	db_mem_write_u8(m, c0 + 16 + 0x40 + 39 * 0x20 + 0xF, 0xBF);
	if (mode & 2)
		db_mem_write_u8(m, c0 + 16 + 0x40 + 7 * 0x20 + 0xF, 0x17);
	MIX_PUT(0x20, 0x00, 0x00);
	while (e + 0x100 <= H + 0x4000)
		MIX_PUT(0x10, 0x01, 0x20);
	if (e < H + 0x4000)
		MIX_PUT((uint16_t)((H + 0x4000 - e) / 16), 0x01, 0x08);
	MIX_PUT(0x100, 0x01, 0x30);	/* the page at H + 0x4000 */
	for (int i = 0; i < 20; i++)	/* enough for the resync to confirm */
		MIX_PUT(0x04, 0x01, 0x18);
	uint64_t c1 = e;
	MIX_PUT(0x80, 0x09, 0x10);
	lfh_container(m, c1, 0x800 - 16, 0x30, 30, 12, 0x11, H + 0xA80);
	if (mode & 16)	/* checksum good, PreviousSize wrong */
		prev = 0x07;
	MIX_PUT(0x04, 0x01, 0x10);
	if (mode & 8) {
		put_entry(m, e, 0x04, 0x01, (uint16_t)prev, 0x10);
		db_mem_write_u8(m, e + 8 + 3, 0x5a ^ (uint8_t)(KEY >> 24));
		prev = 0x04;
		e += 0x40;
	}
	MIX_PUT((uint16_t)((H + MIX_SEG - e) / 16), 0x00, 0x00);
#undef MIX_PUT
	if (mode & 4) {
		db_md_add_memory(md, H, 0x4000, DB_LIST_64);
		db_md_add_memory(md, H + 0x5000, MIX_SEG - 0x5000, DB_LIST_64);
	} else {
		db_md_add_memory(md, H, MIX_SEG, DB_LIST_64);
	}
	db_md_add_memory(md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(md, &t);
	return write_temp(md, "/tmp/icpheap-hmodel-XXXXXX");
}

/* busy blocks by requested size, as a block-by-block walk sees them */
struct by_size {
	struct ich_heap_size_stat row[1024];
	size_t n;
	uint64_t busy;
};

static struct ich_error *count_size(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct by_size *t = arg;
	if (b->state != ICH_BLOCK_BUSY)
		return NULL;
	t->busy += b->size;
	size_t i = 0;
	while (i < t->n && t->row[i].size != b->size)
		i++;
	if (i == t->n) {
		assert_true(t->n < 1024);
		t->row[t->n++] = (struct ich_heap_size_stat){ .size = b->size };
	}
	t->row[i].blocks++;
	t->row[i].total += b->size;
	return NULL;
}

/* What a walk left in the heaps: totals, problems, unreadable ranges, notes. */
static void same_heaps(struct ich_heaps *a, struct ich_heaps *b, const char *what)
{
	assert_int_equal(ich_heaps_count(a), ich_heaps_count(b));
	for (size_t i = 0; i < ich_heaps_count(a); i++) {
		struct ich_heap *x = ich_heaps_get(a, i), *y = ich_heaps_get(b, i);
		if (memcmp(&x->totals, &y->totals, sizeof(x->totals)))
			fail_msg("%s: heap %zu: totals differ (busy %llu/%llu bytes %llu/%llu free %llu/%llu)", what, i,
				 (unsigned long long)x->totals.busy_count, (unsigned long long)y->totals.busy_count,
				 (unsigned long long)x->totals.busy_bytes, (unsigned long long)y->totals.busy_bytes,
				 (unsigned long long)x->totals.free_count, (unsigned long long)y->totals.free_count);
		assert_int_equal(x->partial, y->partial);
		if (x->nproblems != y->nproblems)
			fail_msg("%s: heap %zu: %zu vs %zu problems", what, i, x->nproblems, y->nproblems);
		for (size_t p = 0; p < x->nproblems; p++) {
			assert_int_equal(x->problems[p].address, y->problems[p].address);
			assert_string_equal(x->problems[p].what, y->problems[p].what);
		}
		assert_int_equal(x->nunreadable, y->nunreadable);
		for (size_t u = 0; u < x->nunreadable; u++) {
			const struct ich_heap_unreadable *ux = &x->unreadable[u], *uy = &y->unreadable[u];
			assert_int_equal(ux->address, uy->address);
			assert_int_equal(ux->end, uy->end);
			assert_int_equal(ux->resynced, uy->resynced);
			assert_int_equal(ux->page, uy->page);
			assert_int_equal(ux->why, uy->why);
			assert_int_equal(ux->pte, uy->pte);
		}
	}
	/* the notes, in order (heaps_note says each once: a walk that finds
	 * a fact again, e.g. a Windows 7 key not recovered, adds nothing) */
	size_t nna = ich_heaps_note_count(a), nnb = ich_heaps_note_count(b);
	if (nna != nnb) {
		for (size_t n = 0; n < nna; n++)
			print_message("a: %s\n", ich_heaps_note(a, n));
		for (size_t n = 0; n < nnb; n++)
			print_message("b: %s\n", ich_heaps_note(b, n));
		fail_msg("%s: %zu vs %zu notes", what, nna, nnb);
	}
	for (size_t n = 0; n < nna; n++)
		assert_string_equal(ich_heaps_note(a, n), ich_heaps_note(b, n));
	uint64_t ka = 0, kb = 0;
	assert_int_equal(ich_heaps_lfh_key(a, &ka), ich_heaps_lfh_key(b, &kb));
	assert_int_equal(ka, kb);
}

/* The block-by-block walk of every heap (fresh: RtlpLFHKey unknown), then
 * the summing walks on fresh heaps and again with the key known. */
static void check_summing_walks(struct ich_dump *d, const char *label)
{
	struct ich_heaps *ref, *sum, *st;
	assert_null(ich_heaps_open(d, 0, &ref));
	assert_null(ich_heaps_open(d, 0, &sum));
	assert_null(ich_heaps_open(d, 0, &st));
	struct by_size *bs = calloc(1, sizeof(*bs));
	assert_non_null(bs);
	for (size_t i = 0; i < ich_heaps_count(ref); i++) {
		struct ich_heap *hp = ich_heaps_get(ref, i);
		if (hp->status == ICH_HEAP_OK)
			ich_error_destroy(ich_heap_walk(ref, hp, count_size, bs));
	}
	for (size_t i = 0; i < ich_heaps_count(sum); i++) {
		struct ich_heap *hp = ich_heaps_get(sum, i);
		if (hp->status == ICH_HEAP_OK)
			ich_error_destroy(ich_heap_walk(sum, hp, NULL, NULL));
	}
	char what[128];
	snprintf(what, sizeof(what), "%s: walk without a callback, key unknown", label);
	same_heaps(ref, sum, what);
	/* again on the same heaps: the key known, no deferral */
	for (size_t i = 0; i < ich_heaps_count(sum); i++) {
		struct ich_heap *hp = ich_heaps_get(sum, i);
		if (hp->status == ICH_HEAP_OK)
			ich_error_destroy(ich_heap_walk(sum, hp, NULL, NULL));
	}
	snprintf(what, sizeof(what), "%s: walk without a callback, key known", label);
	same_heaps(ref, sum, what);
	/* -stat: runs (key unknown), then again (key known) */
	for (int pass = 0; pass < 2; pass++) {
		struct ich_heap_size_stat *rows = NULL;
		size_t nrows = 0;
		uint64_t busy = 0;
		assert_null(ich_heap_stat(st, NULL, ICH_STAT_BY_SIZE, &rows, &nrows, &busy));
		snprintf(what, sizeof(what), "%s: ich_heap_stat pass %d", label, pass);
		same_heaps(ref, st, what);
		assert_int_equal(busy, bs->busy);
		assert_int_equal(nrows, bs->n);
		for (size_t r = 0; r < nrows; r++) {
			size_t k = 0;
			while (k < bs->n && bs->row[k].size != rows[r].size)
				k++;
			if (k == bs->n)
				fail_msg("%s: size 0x%llx not seen block by block", what, (unsigned long long)rows[r].size);
			assert_int_equal(rows[r].blocks, bs->row[k].blocks);
			assert_int_equal(rows[r].total, bs->row[k].total);
		}
		free(rows);
	}
	free(bs);
	ich_heaps_close(ref);
	ich_heaps_close(sum);
	ich_heaps_close(st);
}

static void test_summing_walks(void **state)
{
	(void)state;
	for (int mode = 0; mode < 32; mode++) {
		char *path = build_mix(mode);
		struct ich_dump *d;
		assert_null(ich_dump_open(path, &d));
		char label[32];
		snprintf(label, sizeof(label), "mix mode %d", mode);
		check_summing_walks(d, label);
		/* the scenario is what it says: counts, problems, the gap */
		struct ich_heaps *h;
		assert_null(ich_heaps_open(d, 0, &h));
		struct ich_heap *hp = ich_heaps_get(h, 0);
		assert_null(ich_heap_walk(h, hp, NULL, NULL));
		uint64_t lfh = 40 + 12;
		if (hp->totals.lfh_blocks != lfh)
			fail_msg("mode %d: %llu LFH blocks", mode, (unsigned long long)hp->totals.lfh_blocks);
		/* the key from the containers a pre-pass finds: not C1 past the gap */
		bool noted = false;
		for (size_t n = 0; n < ich_heaps_note_count(h); n++)
			noted |= strstr(ich_heaps_note(h, n), (mode & 4) ? "recovered from 1 LFH UserBlocks" :
					"recovered from 2 LFH UserBlocks") != NULL;
		if (!noted)
			fail_msg("mode %d: note %s", mode, ich_heaps_note_count(h) ? ich_heaps_note(h, 0) : "none");
		assert_int_equal(hp->nunreadable, (mode & 4) ? 1 : 0);
		size_t nbad = 0, nfe = 0, nprev = 0;
		for (size_t p = 0; p < hp->nproblems; p++) {
			nbad += strstr(hp->problems[p].what, "checksum fails") != NULL;
			nfe += strstr(hp->problems[p].what, "lacks the front-end bit") != NULL;
			nprev += strstr(hp->problems[p].what, "PreviousSize 0x7 does not match") != NULL;
		}
		if (nbad != (size_t)!!(mode & 1) + !!(mode & 8) || nfe != !!(mode & 2) || nprev != !!(mode & 16)) {
			for (size_t p = 0; p < hp->nproblems; p++)
				print_message("problem %zu: %s\n", p, hp->problems[p].what);
			fail_msg("mode %d: %zu checksum, %zu front-end, %zu PreviousSize problems", mode, nbad, nfe, nprev);
		}
		/* the UnusedBytes escape: requested 0x80 of the second block */
		struct by_size *bs = calloc(1, sizeof(*bs));
		assert_non_null(bs);
		assert_null(ich_heap_walk(h, hp, count_size, bs));
		bool escape = false;
		for (size_t r = 0; r < bs->n; r++)
			escape |= bs->row[r].size == 0x80;
		assert_true(escape);
		free(bs);
		ich_heaps_close(h);
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
	for (int k = 0; k < NWALKER; k++) {
		char *path = build_walker(k);
		struct ich_dump *d;
		assert_null(ich_dump_open(path, &d));
		check_summing_walks(d, walker_label[k]);
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
}

/* Every block a walk hands its callback, in order (grown as needed). */
struct blocks {
	struct ich_heap_block *v;
	size_t n, cap;
};

static struct ich_error *keep_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct blocks *s = arg;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->n++] = *b;
	return NULL;
}

static void same_block(const struct ich_heap_block *x, const struct ich_heap_block *y, const char *what, size_t i)
{
	if (x->header != y->header || x->user != y->user || x->size != y->size || x->block_size != y->block_size ||
	    x->unused != y->unused || x->prev_size != y->prev_size || x->segment != y->segment ||
	    x->flags != y->flags || x->state != y->state || x->layer != y->layer)
		fail_msg("%s: block %zu differs (header 0x%llx / 0x%llx)", what, i, (unsigned long long)x->header,
			 (unsigned long long)y->header);
}

/*
 * ich_heap_walk_opt (the `heap -a` text walks) against the whole walk on
 * fresh heaps (RtlpLFHKey unknown): per heap, ICH_WALK_SEGMENTS_ONLY must
 * give the whole walk's segments and uncommitted ranges and nothing else,
 * then ICH_WALK_NO_LFH_BLOCKS the whole walk's blocks less the LFH ones,
 * in order, and the same totals, problems, unreadable ranges, notes and
 * key; then the no-LFH walk again with the key known.  Returns the number
 * of LFH blocks the callback did not see.
 */
static size_t check_walk_options(struct ich_dump *d, const char *label)
{
	struct ich_heaps *ref, *opt;
	assert_null(ich_heaps_open(d, 0, &ref));
	assert_null(ich_heaps_open(d, 0, &opt));
	size_t nheaps = ich_heaps_count(ref), skipped = 0;
	struct blocks *full = calloc(nheaps ? nheaps : 1, sizeof(*full));
	assert_non_null(full);
	for (size_t i = 0; i < nheaps; i++) {
		struct ich_heap *hp = ich_heaps_get(ref, i);
		if (hp->status == ICH_HEAP_OK)
			ich_error_destroy(ich_heap_walk(ref, hp, keep_block, &full[i]));
	}
	char what[160];
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nheaps; i++) {
			struct ich_heap *r = ich_heaps_get(ref, i), *hp = ich_heaps_get(opt, i);
			if (hp->status != ICH_HEAP_OK || hp->kind != ICH_HEAP_KIND_NT)
				continue;
			struct blocks got = { 0 };
			if (!pass) {
				snprintf(what, sizeof(what), "%s: heap %zu segments only", label, i);
				ich_error_destroy(ich_heap_walk_opt(opt, hp, keep_block, &got, ICH_WALK_SEGMENTS_ONLY));
				if (got.n || hp->walked)
					fail_msg("%s: %zu blocks, walked %d", what, got.n, hp->walked);
				struct ich_heap_totals zero;
				memset(&zero, 0, sizeof(zero));
				assert_memory_equal(&hp->totals, &zero, sizeof(zero));
				if (hp->nsegments != r->nsegments)
					fail_msg("%s: %zu segments, the whole walk %zu", what, hp->nsegments, r->nsegments);
				for (size_t k = 0; k < hp->nsegments; k++) {
					const struct ich_heap_segment *x = &hp->segments[k], *y = &r->segments[k];
					if (x->base != y->base || x->flags != y->flags || x->first_entry != y->first_entry ||
					    x->last_valid_entry != y->last_valid_entry || x->pages != y->pages ||
					    x->uncommitted_pages != y->uncommitted_pages || x->nucr != y->nucr)
						fail_msg("%s: segment %zu differs", what, k);
					for (size_t u = 0; u < x->nucr; u++)
						if (x->ucr[u].address != y->ucr[u].address || x->ucr[u].size != y->ucr[u].size)
							fail_msg("%s: segment %zu range %zu differs", what, k, u);
				}
			}
			snprintf(what, sizeof(what), "%s: heap %zu no LFH blocks, pass %d", label, i, pass);
			ich_error_destroy(ich_heap_walk_opt(opt, hp, keep_block, &got, ICH_WALK_NO_LFH_BLOCKS));
			size_t k = 0, lfh = 0;
			for (size_t j = 0; j < full[i].n; j++) {
				if (full[i].v[j].layer == ICH_LAYER_LFH) {
					lfh++;
					continue;
				}
				if (k >= got.n)
					fail_msg("%s: %zu blocks, the whole walk has more", what, got.n);
				same_block(&got.v[k], &full[i].v[j], what, k);
				k++;
			}
			if (k != got.n)
				fail_msg("%s: %zu blocks, the whole walk less its LFH blocks %zu", what, got.n, k);
			if (!pass)
				skipped += lfh;
			free(got.v);
		}
		snprintf(what, sizeof(what), "%s: no-LFH walks, pass %d", label, pass);
		same_heaps(ref, opt, what);
	}
	for (size_t i = 0; i < nheaps; i++)
		free(full[i].v);
	free(full);
	ich_heaps_close(ref);
	ich_heaps_close(opt);
	return skipped;
}

/* check on build_mix's dump in each of its 32 modes and on each walker's
 * dump: it returns mix_want on every mix, walker_want[k] on walker k. */
static void check_built_dumps(size_t (*check)(struct ich_dump *, const char *), size_t mix_want,
			      const size_t walker_want[NWALKER])
{
	for (int mode = 0; mode < 32; mode++) {
		char *path = build_mix(mode);
		struct ich_dump *d;
		assert_null(ich_dump_open(path, &d));
		char label[32];
		snprintf(label, sizeof(label), "mix mode %d", mode);
		assert_int_equal(check(d, label), mix_want);
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
	for (int k = 0; k < NWALKER; k++) {
		char *path = build_walker(k);
		struct ich_dump *d;
		assert_null(ich_dump_open(path, &d));
		assert_int_equal(check(d, walker_label[k]), walker_want[k]);
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
}

static void test_walk_options(void **state)
{
	(void)state;
	/* the callback missed exactly the LFH blocks the builders put
	 * there: build_mix's two containers' 100 + 30 blocks (its
	 * lfh_container calls), build()'s two containers (100 + 30),
	 * build_win7()'s 20 blocks, none on x86/WOW64 */
	static const size_t lfh[NWALKER] = { 130, 130, 130, 20, 0, 0 };
	check_built_dumps(check_walk_options, 100 + 30, lfh);
}

static int write_big(const char *path, uint64_t nblocks);
/* write_big's back-end blocks: busy 0x01 / free as the benchmark has them
 * (0), or busy with Flags 0x01, 0x03, 0x05, 0x07 and free in turn (1:
 * kinds that differ only in Flags) */
static int big_flag_mix;

/* A run callback's runs expanded into blocks (heap_blocks.h
 * heap_run_block: the documented meaning of struct ich_heap_block_run, not
 * ich_heap_run_block), with what the runs looked like. */
struct runs_got {
	struct blocks b;
	size_t nruns, nrun_blocks, max_kinds, max_count;
	size_t nbe, nberuns;	/* back-end blocks that came in runs, the runs */
};

static struct ich_error *runs_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	return keep_block(hp, b, &((struct runs_got *)arg)->b);
}

static struct ich_error *runs_keep(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	struct runs_got *g = arg;
	if (!r->count || !r->nkinds || r->nkinds > 256)
		fail_msg("heap 0x%llx: a run of %zu blocks with %u kinds", (unsigned long long)hp->address, r->count,
			 r->nkinds);
	for (size_t i = 0; i < r->count; i++) {
		unsigned k = r->kind[i];
		if (k >= r->nkinds)
			fail_msg("run block %zu: kind %u of %u", i, k, r->nkinds);
		struct ich_heap_block b = heap_run_block(r, i);
		keep_block(hp, &b, &g->b);
	}
	/* a back-end run (ICH_WALK_BACKEND_RUNS): 2..1024 blocks, <= 16 kinds */
	if (r->tmpl.layer == ICH_LAYER_BACKEND) {
		if (r->count < 2 || r->count > 1024 || r->nkinds > 16)
			fail_msg("heap 0x%llx: a back-end run of %zu blocks with %u kinds",
				 (unsigned long long)hp->address, r->count, r->nkinds);
		g->nbe += r->count;
		g->nberuns++;
	}
	g->nruns++;
	g->nrun_blocks += r->count;
	if (r->nkinds > g->max_kinds)
		g->max_kinds = r->nkinds;
	if (r->count > g->max_count)
		g->max_count = r->count;
	return NULL;
}

/*
 * ich_heap_walk_runs (heap -a --json's walk) against the per-block walk
 * on fresh heaps: per NT heap, the same blocks in the same order field by
 * field, and the same totals, problems, unreadable ranges, notes and key
 * (same_heaps); pass 0 with RtlpLFHKey unknown, pass 1 known, pass 2 with
 * ICH_WALK_NO_LFH_BLOCKS (no run then: the blocks less the LFH ones), pass
 * 3 with ICH_WALK_BACKEND_RUNS (back-end blocks in runs too; none before).
 * Returns what the runs of pass 0 looked like, and nbe: pass 3's back-end
 * blocks in runs.
 */
static struct runs_got check_walk_runs(struct ich_dump *d, const char *label)
{
	struct ich_heaps *ref, *opt;
	assert_null(ich_heaps_open(d, 0, &ref));
	assert_null(ich_heaps_open(d, 0, &opt));
	size_t nheaps = ich_heaps_count(ref);
	struct blocks *full = calloc(nheaps ? nheaps : 1, sizeof(*full));
	assert_non_null(full);
	for (size_t i = 0; i < nheaps; i++) {
		struct ich_heap *hp = ich_heaps_get(ref, i);
		if (hp->status == ICH_HEAP_OK)
			ich_error_destroy(ich_heap_walk(ref, hp, keep_block, &full[i]));
	}
	struct runs_got first = { 0 };
	char what[160];
	for (int pass = 0; pass < 4; pass++) {
		for (size_t i = 0; i < nheaps; i++) {
			struct ich_heap *hp = ich_heaps_get(opt, i);
			if (hp->status != ICH_HEAP_OK)
				continue;
			struct runs_got g = { 0 };
			snprintf(what, sizeof(what), "%s: heap %zu runs, pass %d", label, i, pass);
			ich_error_destroy(ich_heap_walk_runs(opt, hp, runs_block, runs_keep, &g,
							     pass == 2 ? ICH_WALK_NO_LFH_BLOCKS :
							     pass == 3 ? ICH_WALK_BACKEND_RUNS : 0));
			size_t k = 0;
			for (size_t j = 0; j < full[i].n; j++) {
				if (pass == 2 && full[i].v[j].layer == ICH_LAYER_LFH)
					continue;
				if (k >= g.b.n)
					fail_msg("%s: %zu blocks, the per-block walk has more", what, g.b.n);
				same_block(&g.b.v[k], &full[i].v[j], what, k);
				k++;
			}
			if (k != g.b.n)
				fail_msg("%s: %zu blocks, the per-block walk %zu", what, g.b.n, k);
			if (pass == 2 && g.nruns)
				fail_msg("%s: %zu runs with ICH_WALK_NO_LFH_BLOCKS", what, g.nruns);
			if (pass < 3 && g.nbe)
				fail_msg("%s: %zu back-end blocks in runs without ICH_WALK_BACKEND_RUNS", what, g.nbe);
			if (pass == 3) {
				first.nbe += g.nbe;
				first.nberuns += g.nberuns;
			}
			if (!pass) {
				first.nruns += g.nruns;
				first.nrun_blocks += g.nrun_blocks;
				if (g.max_kinds > first.max_kinds)
					first.max_kinds = g.max_kinds;
				if (g.max_count > first.max_count)
					first.max_count = g.max_count;
			}
			free(g.b.v);
		}
		snprintf(what, sizeof(what), "%s: run walks, pass %d", label, pass);
		same_heaps(ref, opt, what);
	}
	for (size_t i = 0; i < nheaps; i++)
		free(full[i].v);
	free(full);
	ich_heaps_close(ref);
	ich_heaps_close(opt);
	return first;
}

/*
 * A walk stopped by its callback (review3): fn or the run callback
 * returns &ich_stop, or an error, at its j-th call.  The walk must hand
 * over nothing after that call, its blocks must be the first ones of the
 * whole walk (the per-block walk's order), it returns NULL for &ich_stop
 * and the error itself otherwise, and the heap's totals count exactly the
 * blocks handed over (walk_emit and walk_emit_blocks count a block or a
 * run before its callback sees it: a stopping run is counted whole, and
 * nothing after it).  With ICH_WALK_BACKEND_RUNS a back-end run is held
 * back until it ends (nt_heap.c be_block, be_start, be_flush): a stop in
 * the run callback or in fn for the block that ended the run must end
 * the walk there too, the held run counted once.  Stop points: every
 * call up to 48, then about 150 spread over the rest, and the last.
 */
struct stop_cb {
	struct blocks b;
	size_t calls, stop_at;	/* 1-based; 0: never */
	struct ich_error *stop;
	bool after;		/* a call after the stop */
};

static struct ich_error *stop_call(struct stop_cb *s)
{
	return ++s->calls == s->stop_at ? s->stop : NULL;
}

static struct ich_error *stop_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct stop_cb *s = arg;
	if (s->stop_at && s->calls >= s->stop_at) {
		s->after = true;
		return NULL;
	}
	keep_block(hp, b, &s->b);
	return stop_call(s);
}

static struct ich_error *stop_run(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	struct stop_cb *s = arg;
	if (s->stop_at && s->calls >= s->stop_at) {
		s->after = true;
		return NULL;
	}
	for (size_t i = 0; i < r->count; i++) {
		struct ich_heap_block b = heap_run_block(r, i);
		keep_block(hp, &b, &s->b);
	}
	return stop_call(s);
}

static uint64_t totals_blocks(const struct ich_heap *hp)
{
	const struct ich_heap_totals *t = &hp->totals;
	return t->busy_count + t->free_count + t->internal_count + t->corrupt_count;
}

/* Returns the back-end runs the option gave on d (for the caller's check
 * that the stops met some). */
static size_t check_walk_stops(struct ich_dump *d, const char *label)
{
	struct ich_heaps *h;
	assert_null(ich_heaps_open(d, 0, &h));
	size_t nbe = 0;
	char what[192];
	for (size_t i = 0; i < ich_heaps_count(h); i++) {
		struct ich_heap *hp = ich_heaps_get(h, i);
		if (hp->status != ICH_HEAP_OK || hp->kind != ICH_HEAP_KIND_NT)
			continue;
		struct blocks full = { 0 };
		assert_null(ich_heap_walk(h, hp, keep_block, &full));
		assert_int_equal(totals_blocks(hp), full.n);
		for (int opt = 0; opt < 2; opt++) {
			unsigned opts = opt ? ICH_WALK_BACKEND_RUNS : 0;
			struct stop_cb all = { 0 };
			assert_null(ich_heap_walk_runs(h, hp, stop_block, stop_run, &all, opts));
			assert_int_equal(all.b.n, full.n);
			if (opt) {
				struct runs_got g = { 0 };
				assert_null(ich_heap_walk_runs(h, hp, runs_block, runs_keep, &g, opts));
				nbe += g.nberuns;
				free(g.b.v);
			}
			size_t prev = 0;
			for (size_t k = 1; k <= 48 + 150; k++) {
				size_t j = k <= 48 ? k : 48 + (k - 48) * (all.calls > 48 ? all.calls - 48 : 0) / 150;
				if (j <= prev || j > all.calls)
					continue;
				prev = j;
				for (int kind = 0; kind < 2; kind++) {
					struct ich_error *stop = kind ? ich_error_create(ICH_ERR_FORMAT, "stop at %zu", j) : &ich_stop;
					struct stop_cb s = { .stop_at = j, .stop = stop };
					snprintf(what, sizeof(what), "%s: heap %zu, %s, %s at call %zu of %zu", label, i,
						 opt ? "back-end runs" : "LFH runs", kind ? "error" : "ich_stop", j, all.calls);
					struct ich_error *err = ich_heap_walk_runs(h, hp, stop_block, stop_run, &s, opts);
					if (err != (kind ? stop : NULL))
						fail_msg("%s: the walk returned %p, not %p", what, (void *)err, (void *)(kind ? stop : NULL));
					if (s.after || s.calls != j)
						fail_msg("%s: %zu calls%s", what, s.calls, s.after ? ", some after the stop" : "");
					if (s.b.n > full.n)
						fail_msg("%s: %zu blocks, the whole walk %zu", what, s.b.n, full.n);
					for (size_t k = 0; k < s.b.n; k++)
						same_block(&s.b.v[k], &full.v[k], what, k);
					if (totals_blocks(hp) != s.b.n)
						fail_msg("%s: totals count %llu blocks, %zu handed over", what,
							 (unsigned long long)totals_blocks(hp), s.b.n);
					if (kind)
						ich_error_destroy(stop);
					free(s.b.v);
				}
			}
			free(all.b.v);
		}
		free(full.v);
	}
	ich_heaps_close(h);
	return nbe;
}

static size_t walk_run_blocks(struct ich_dump *d, const char *label)
{
	return check_walk_runs(d, label).nrun_blocks;
}

static void test_walk_runs(void **state)
{
	(void)state;
	/* build_mix's two containers' 100 + 30 blocks came as runs, and
	 * build()'s two containers; Windows 7's LFH (no bitmap) and
	 * x86/WOW64 (no containers) have none */
	static const size_t lfh[NWALKER] = { 130, 130, 130, 0, 0, 0 };
	check_built_dumps(walk_run_blocks, 100 + 30, lfh);
	/* a container past RUN_MAX blocks and 256 kinds, and one with a
	 * busy block lacking the front-end bit (lfh_varied); then the same
	 * heap with its containers not contiguous in the file (the run route
	 * then goes block by block: no span) */
	for (int split = 0; split < 2; split++) {
		varied_container = true;
		split_heap = split;
		char *path = build(0);
		varied_container = false;
		split_heap = false;
		struct ich_dump *d;
		assert_null(ich_dump_open(path, &d));
		struct runs_got g = check_walk_runs(d, split ? "varied, split" : "varied");
		if (!split) {
			assert_int_equal(g.nrun_blocks, VARIED_COUNT + 30);
			/* split by RUN_MAX and by the 257th kind: more runs
			 * than containers, none longer than 1024, 256 kinds */
			assert_true(g.nruns >= 4);
			assert_true(g.max_count <= 1024);
			assert_int_equal(g.max_kinds, 256);
		}
		ich_dump_close(d);
		unlink(path);
		free(path);
	}
	/* back-end runs: the benchmark heap (write_big) of 20000 blocks: 8
	 * containers of 2045 - 8 LFH blocks, then 3640 back-end blocks of
	 * 0x100 bytes, busy or free, PreviousSize 0x100 but for the first
	 * (after a container) and the free tail: all but the first in runs */
	for (big_flag_mix = 0; big_flag_mix < 2; big_flag_mix++) {
		char big[] = "/tmp/icpheap-hmodel-bigruns-XXXXXX";
		int fd = mkstemp(big);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(write_big(big, 20000), 0);
		struct ich_dump *d;
		assert_null(ich_dump_open(big, &d));
		struct runs_got g = check_walk_runs(d, big_flag_mix ? "big 20000, flags" : "big 20000");
		if (big_flag_mix)
			assert_true(check_walk_stops(d, "big 20000, flags") >= 4);
		assert_int_equal(g.nrun_blocks, 8 * (2045 - 8));
		assert_int_equal(g.nbe, 20000 - 8 * 2045 - 1);
		/* in as few runs as RUN_MAX allows: a kind change (busy,
		 * free, Flags) does not end a run */
		assert_int_equal(g.nberuns, (g.nbe + 1023) / 1024);
		ich_dump_close(d);
		unlink(big);
	}
	big_flag_mix = 0;
}

/*
 * Long committed runs for the summing walk's lanes (nt_heap.c sum_lanes:
 * a run of 16 KiB or more is walked as several chains started near its
 * quarters, joined only where each lands exactly on the next one's start).
 * One x64 segment of 256 KiB of small entries, busy or free at random;
 * the mode adds:
 *   1  fake entries: inside busy blocks' data, a header with a good
 *      checksum followed by a second one linked to it by PreviousSize, so
 *      a lane may start off the chain;
 *   2  PreviousSize wrong on about one entry in five (a lane's start may be
 *      such an entry);
 *   4  a bad checksum on about one entry in 300, UnusedBytes escapes
 *      (0x3F, the count in PreviousBlockPrivateData) and internal entries;
 *   8  PreviousSize wrong on the first entry at or after each quarter of the
 *      run, where the first walk's lanes start (SUM_LANES 4: the lane
 *      before lands on it, and the join must stop there);
 *  16  a fake pair at each quarter instead (inside a busy block: the lane
 *      starts off the chain, the lane before steps over its start; the
 *      fake's PreviousSize is the holding block's Size, so only the step
 *      over, not the PreviousSize check, tells it is off the chain);
 *  32  PreviousSize wrong on the first entry at or after the middle of each
 *      lane but the third, whose entry there claims a Size past the end of
 *      the run instead (where every lane is stepped side by side: each lane
 *      must stop there itself, and a lane that is dropped has its sums
 *      taken back up to there), and UnusedBytes larger than the block on
 *      about one busy entry in 50 (a busy block counts no requested bytes
 *      then);
 *  64  entries whose Size ends them just past the end of the run, where
 *      the walk goes by lanes and where by one chain, by turns: the first
 *      entry at or after the middle of the second lane (one unit past:
 *      lanes_fast and lane_step meet it), then the first at or after
 *      LANE_PRE / 2 into the walk that goes on after it (a few units,
 *      under 0x100 bytes, past: sum_span's first stretch), and again
 *      while the run is long enough for lanes, a few units past in the
 *      lane and one unit in the chain (x64: four entries, x86: two);
 *      their blocks hold no fake pair, so the block walk resyncs to the
 *      next entry, where the summing walk starts again (the entries'
 *      addresses: lanes_past).
 * With lanes_split, the first walk's lanes are over the first part, and
 * the entries of its last quarter, the last lane's, are 1 or 2 units
 * (the last lane is the last to reach its end, which lane_step meets),
 * or with mode 128 24 units and more (the first to: lanes_fast meets it).
 * The walk without a callback must leave what the block-by-block walk does
 * (check_summing_walks).
 */
#define LANE_SEG 0x40000ull
#define LANE_PRE 0x2000u	/* nt_heap.c SUM_LANES_PRE */
#define LANE_MIN 0x4000u	/* nt_heap.c SUM_LANES_MIN */
static uint64_t lanes_past[4];	/* fill_lanes' mode 64 entries */
static size_t nlanes_past;
/* build_lanes, build_lanes32: 0, or the segment's bytes are given as two
 * memory ranges split at the first entry at or after lanes_split (which
 * is set to it), the decoy page (LANE_DECOY, LANE_DECOY32) between them
 * in the file: the reader's window for the first part ends there, inside
 * the run. */
static uint64_t lanes_split;
static uint32_t lane_rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* The run [e0, end) filled as the header comment says (unit 16: x64, the
 * header at +8; unit 8: x86, the header at +0). */
static void fill_lanes(struct db_mem *m, unsigned unit, uint64_t e0, uint64_t end, int mode, uint32_t r)
{
	uint64_t hoff = unit == 16 ? 8 : 0, last = end - unit;
	uint64_t e = e0, prev = 0x100;
	/* The first walk goes by one chain over LANE_PRE bytes, to the first
	 * entry past e0 + LANE_PRE - (header offset + 8), then in lanes from
	 * there (lanes_at); q: the next quarter of that, where a lane starts */
	uint64_t lanes_at = 0;
	unsigned q = 1, mq = 0;
	/* mode 64: where the summing walk starts again after each entry
	 * placed (walk_at), and its lanes then (walk_lanes, 0 until known) */
	uint64_t walk_at = e0, walk_lanes = 0;
	nlanes_past = 0;
#define QUARTER_OF(at, k) ((at) + ((last - (at)) / 4 * (k) + unit - 1) / unit * unit)
#define QUARTER(k) QUARTER_OF(lanes_at, k)
#define MIDLANE(k) (QUARTER(k) + (last - lanes_at) / 8)
#define PUT(at, units, flags, prev, unused) (unit == 16 ? put_entry(m, (at), (units), (flags), (prev), (unused)) \
					       : put_entry32(m, (at), (units), (flags), (prev), (unused)))
	while (e < end) {
		if (!lanes_at && e > e0 + LANE_PRE - (hoff + 8))
			lanes_at = e;
		if (!lanes_at)
			q = 1;	/* (no quarter before the lanes start) */
		if (!walk_lanes && e > walk_at + LANE_PRE - (hoff + 8))
			walk_lanes = e;
		uint64_t left = (end - e) / unit;
		uint16_t units = (uint16_t)(lane_rnd(&r) % 8 == 0 ? 8 + lane_rnd(&r) % 40 : 1 + lane_rnd(&r) % 6);
		if (lanes_split && lanes_at && e < lanes_split && e >= lanes_at + (lanes_split - lanes_at) / 4 * 3)
			units = (uint16_t)((mode & 128) ? 24 + lane_rnd(&r) % 24 : 1 + lane_rnd(&r) % 2);
		bool at_q = lanes_at && q < 4 && e >= QUARTER(q);
		bool over_q = lanes_at && q < 4 && !at_q && e + units * unit > QUARTER(q);
		uint64_t fake_at = 0;
		if ((mode & 16) && q < 4 && (at_q || over_q)) {
			/* a busy block holding the quarter and 3 units past it */
			uint64_t qa = QUARTER(q) > e ? QUARTER(q) : e + unit;
			units = (uint16_t)((qa - e) / unit + 3 + lane_rnd(&r) % 4);
			fake_at = qa;
		}
		if (units > left || left - units < 2)
			units = (uint16_t)left;
		uint64_t bytes = (uint64_t)units * unit;
		bool busy = fake_at ? true : lane_rnd(&r) % 2;
		uint8_t flags = busy ? 0x01 : 0x00, unused = 0;
		if (busy)
			unused = (uint8_t)(8 + lane_rnd(&r) % (bytes > 0x30 ? 0x30 : bytes - 7));
		if (busy && unit == 16 && (mode & 4) && lane_rnd(&r) % 97 == 0) {
			unused = 0x3F;	/* the count in PreviousBlockPrivateData */
			db_mem_write_u16(m, e, (uint16_t)(bytes - 4));
		}
		if (busy && (mode & 4) && lane_rnd(&r) % 211 == 0)
			flags = 0x09;	/* internal (no UserBlocks signature: not LFH) */
		uint16_t pv = (uint16_t)prev;
		if ((mode & 2) && lane_rnd(&r) % 5 == 0)
			pv = (uint16_t)(pv + 1 + lane_rnd(&r) % 3);
		if ((mode & 8) && at_q)
			pv = (uint16_t)(pv + 1);
		uint16_t put_units = units;
		if ((mode & 32) && lanes_at && mq < 4 && e >= MIDLANE(mq)) {
			if (mq == 2)
				put_units = 0xFFFF;	/* past the run's end */
			else
				pv = (uint16_t)(pv + 1);
			mq++;
		}
		bool past = false;
		if ((mode & 64) && nlanes_past < 4 && units < left) {
			/* sum_run_span's lanes: its first span long enough, and
			 * what follows the one chain's stretch */
			bool lanes = end - walk_at >= LANE_PRE + LANE_MIN + hoff + 8 && walk_lanes &&
				     end - walk_lanes >= LANE_MIN + hoff + 8;
			if (nlanes_past % 2 ? e >= walk_at + LANE_PRE / 2 :
			    lanes && e >= QUARTER_OF(walk_lanes, 1) + (last - walk_lanes) / 8) {
				/* one unit past (the check's edge) for the first and
				 * the fourth, a few for the second and the third */
				unsigned over = nlanes_past % 3 ? 2 + lane_rnd(&r) % (0x100 / unit - 2) : 1;
				put_units = (uint16_t)((end - e) / unit + over);
				lanes_past[nlanes_past++] = e;
				past = true;
				walk_at = e + bytes;
				walk_lanes = 0;
			}
		}
		if ((mode & 32) && busy && unused != 0x3F && lane_rnd(&r) % 50 == 0)
			unused = (uint8_t)(bytes + 1 + lane_rnd(&r) % 8 < 0x3F ? bytes + 1 + lane_rnd(&r) % 8 : 0x3E);
		PUT(e, put_units, flags, pv, unused);
		if ((mode & 4) && lane_rnd(&r) % 300 == 0)
			db_mem_write_u8(m, e + hoff + 3, (uint8_t)lane_rnd(&r));	/* checksum byte */
		if ((mode & 1) && busy && units >= 4 && !past && lane_rnd(&r) % 2) {
			/* a fake pair in the block's data: 1 unit, then one linked to it */
			PUT(e + unit, 1, 0x01, (uint16_t)(1 + lane_rnd(&r) % 4), 0x08);
			PUT(e + 2 * unit, (uint16_t)(1 + lane_rnd(&r) % 30), (uint8_t)(lane_rnd(&r) % 2), 1, 0x08);
		}
		if (fake_at && fake_at + 3 * unit <= e + bytes) {
			/* PreviousSize as the lane before would have it when it
			 * steps over: the holding block's Size */
			PUT(fake_at, 1, 0x01, units, 0x08);
			PUT(fake_at + unit, (uint16_t)(1 + lane_rnd(&r) % 30), 0x00, 1, 0x08);
		}
		if (at_q || fake_at)
			q++;
		prev = units;
		e += bytes;
	}
#undef QUARTER_OF
#undef QUARTER
#undef MIDLANE
#undef PUT
}

#define LANE_DECOY (H + 0x1000000)	/* pages no heap holds */
#define LANE_DECOY32 (H32 + 0x100000)

/* lanes_split's entry found on the chain from e0, and the decoy page
 * filled with entries a lane that read on past the first part's end
 * would take for the chain's next ones: 2-unit busy entries, the first
 * linked by PreviousSize to the entry before the split. */
static void split_lanes(struct db_mem *m, unsigned unit, uint64_t e0, uint64_t decoy)
{
	uint64_t hoff = unit == 16 ? 8 : 0, key = unit == 16 ? KEY : KEY32, e = e0;
	uint16_t prev = 0;
	while (e < lanes_split) {
		prev = (uint16_t)(db_mem_read_u64(m, e + hoff) ^ key);
		e += (uint64_t)prev * unit;
	}
	lanes_split = e;
	for (uint64_t o = 0; o < 0x1000; o += 2 * unit) {
		if (unit == 16)
			put_entry(m, decoy + o, 2, 0x01, o ? 2 : prev, 8);
		else
			put_entry32(m, decoy + o, 2, 0x01, o ? 2 : prev, 8);
	}
}

static char *build_lanes(int mode, uint32_t seed)
{
	nexpect = 0;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	write_heap_header(m, LANE_SEG);
	fill_lanes(m, 16, H + 0x1000, H + LANE_SEG, mode, seed);
	if (lanes_split) {
		split_lanes(m, 16, H + 0x1000, LANE_DECOY);
		db_md_add_memory(md, H, lanes_split - H, DB_LIST_64);
		db_md_add_memory(md, LANE_DECOY, 0x1000, DB_LIST_64);
		db_md_add_memory(md, lanes_split, H + LANE_SEG - lanes_split, DB_LIST_64);
	} else {
		db_md_add_memory(md, H, LANE_SEG, DB_LIST_64);
	}
	db_md_add_memory(md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(md, &t);
	return write_temp(md, "/tmp/icpheap-hmodel-lanes-XXXXXX");
}

/* The same on x86: build_x86's heap with its committed half (0x7800
 * bytes of 8-byte units) filled by fill_lanes, no large block. */
static char *build_lanes32(int mode, uint32_t seed)
{
	nexpect = 0;
	struct db_md *md = db_md_new(DB_ARCH_X86, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	x86_heap(m, TEB64);
	db_mem_write_u32(m, H32 + 0x9C, H32 + 0x9C);		/* VirtualAllocdBlocks: empty */
	db_mem_write_u32(m, H32 + 0xA0, H32 + 0x9C);
	fill_lanes(m, 8, H32 + 0x800, H32 + 0x8000, mode, seed);
	if (lanes_split) {
		split_lanes(m, 8, H32 + 0x800, LANE_DECOY32);
		db_md_add_memory(md, H32, lanes_split - H32, DB_LIST_64);
		db_md_add_memory(md, LANE_DECOY32, 0x1000, DB_LIST_64);
		db_md_add_memory(md, lanes_split, H32 + 0x8000 - lanes_split, DB_LIST_64);
	} else {
		db_md_add_memory(md, H32, 0x8000, DB_LIST_64);
	}
	db_md_add_memory(md, PEB32, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB64, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x2a0, .teb = TEB64 };
	db_md_add_thread(md, &t);
	struct db_md_module nt = { .name = "C:\\Windows\\System32\\ntdll.dll",
				   .base = 0x77a00000, .size = 0x1a0000, .file_version = { 10, 0, 19041, 3636 } };
	db_md_add_module(md, &nt);
	return write_temp(md, "/tmp/icpheap-hmodel-lanes32-XXXXXX");
}

static void test_summing_lanes(void **state)
{
	(void)state;
	static const int modes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 8 | 1, 16 | 1, 16 | 4, 8 | 4, 32, 32 | 16, 32 | 1,
				     64, 64 | 1, 64 | 2, 64 | 4 };
	size_t lanes_be = 0, lanes_stop_runs = 0;
	for (int x86 = 0; x86 < 2; x86++)
	for (size_t mi = 0; mi < sizeof(modes) / sizeof(modes[0]); mi++) {
		int mode = modes[mi];
		for (uint32_t seed = 1; seed <= 4; seed++) {
			uint32_t rs = seed * 7919u + (uint32_t)mode;
			char *path = x86 ? build_lanes32(mode, rs) : build_lanes(mode, rs);
			struct ich_dump *d;
			assert_null(ich_dump_open(path, &d));
			char label[48];
			snprintf(label, sizeof(label), "lanes %s mode %d seed %u", x86 ? "x86" : "x64", mode, seed);
			check_summing_walks(d, label);
			/* back-end runs among random sizes, wrong PreviousSizes,
			 * bad checksums and internal entries (check_walk_runs'
			 * pass 3: the per-block walk's blocks) */
			lanes_be += check_walk_runs(d, label).nbe;
			/* stopped walks there (seed 1 of the modes with problems) */
			if (seed == 1 && (mode & 6))
				lanes_stop_runs += check_walk_stops(d, label);
			/* the scenario: a clean heap walks clean; modes 2 and 8
			 * report problems (4 may not: few entries on x86) */
			struct ich_heaps *h;
			assert_null(ich_heaps_open(d, 0, &h));
			struct ich_heap *hp = ich_heaps_get(h, 0);
			assert_null(ich_heap_walk(h, hp, NULL, NULL));
			uint64_t n = hp->totals.busy_count + hp->totals.free_count;
			if (n < (x86 ? 500u : 2000u))
				fail_msg("%s: %llu entries", label, (unsigned long long)n);
			if (!(mode & 110) && hp->nproblems)
				fail_msg("%s: %zu problems", label, hp->nproblems);
			if (((mode & 98) || (mode & 24) == 8) && !hp->nproblems)
				fail_msg("%s: no problem", label);
			/* mode 64 alone (fake pairs lie off the chain): each entry
			 * placed is one the block walk says runs past the run's
			 * end, its block corrupt; there is room for two in lanes
			 * and two in the one chain on x64, one of each on x86 */
			if ((mode & ~1) == 64) {
				assert_int_equal(nlanes_past, x86 ? 2 : 4);
				assert_int_equal(hp->totals.corrupt_count, nlanes_past);
				for (size_t k = 0; k < nlanes_past; k++) {
					size_t p = 0;
					while (p < hp->nproblems && (hp->problems[p].address != lanes_past[k] ||
								     !strstr(hp->problems[p].what, " units runs past ")))
						p++;
					if (p == hp->nproblems)
						fail_msg("%s: no problem at 0x%llx", label,
							 (unsigned long long)lanes_past[k]);
				}
			}
			ich_heaps_close(h);
			ich_dump_close(d);
			unlink(path);
			free(path);
		}
	}
	/* random sizes still put some equal-sized neighbours in a row */
	print_message("lanes: %zu back-end blocks in runs; %zu back-end runs in the heaps of the stopped walks\n", lanes_be,
		      lanes_stop_runs);
	assert_true(lanes_be > 0);
	assert_true(lanes_stop_runs > 0);
}

/*
 * The summing walk where the reader's window ends inside a run, not at
 * its end (build_lanes' lanes_split): the first part long enough for
 * lanes, its last lane reaching the split.  The run's limit is further
 * on, so only the last lane's bound (the last header the span holds)
 * stops it there; the bytes that follow in the mapping are the decoy's
 * entries, linked to the chain, which a lane that read on would count
 * and then go on from where they end, off the real chain.
 */
static void test_summing_split_window(void **state)
{
	(void)state;
	static const int modes[] = { 0, 1, 128, 128 | 1 };
	for (int x86 = 0; x86 < 2; x86++)
	for (size_t mi = 0; mi < sizeof(modes) / sizeof(modes[0]); mi++) {
		int mode = modes[mi];
		for (uint32_t seed = 1; seed <= 4; seed++) {
			uint32_t rs = seed * 104729u + (uint32_t)mode;
			/* the first part long enough for LANE_PRE and lanes
			 * (x86: 0x6800 bytes at least of the run's 0x7800) */
			lanes_split = x86 ? H32 + 0x7000 : H + LANE_SEG / 2;
			char *path = x86 ? build_lanes32(mode, rs) : build_lanes(mode, rs);
			uint64_t at = lanes_split, decoy = x86 ? LANE_DECOY32 : LANE_DECOY;
			lanes_split = 0;
			struct ich_dump *d;
			assert_null(ich_dump_open(path, &d));
			char label[64];
			snprintf(label, sizeof(label), "split window %s mode %d seed %u", x86 ? "x86" : "x64", mode, seed);
			/* the scenario: the window over the first part ends at the
			 * split entry, and the decoy's bytes come next in the file */
			struct ich_as *as = ich_dump_as(d);
			assert_non_null(ich_as_peek_window(as, at - 8, 8));
			const struct ich_as_window *w = (const void *)as;
			assert_int_equal(w->base + w->len, at);
			const uint8_t *after = w->data + w->len;
			assert_ptr_equal(ich_as_peek(as, decoy, 8), after);
			check_summing_walks(d, label);
			/* and the walk goes over the split clean (the block walk
			 * too: check_summing_walks) */
			struct ich_heaps *h;
			assert_null(ich_heaps_open(d, 0, &h));
			struct ich_heap *hp = ich_heaps_get(h, 0);
			assert_null(ich_heap_walk(h, hp, NULL, NULL));
			if (hp->nproblems)
				fail_msg("%s: %zu problems: %s", label, hp->nproblems, hp->problems[0].what);
			uint64_t n = hp->totals.busy_count + hp->totals.free_count;
			if (n < (x86 ? 500u : 2000u))
				fail_msg("%s: %llu entries", label, (unsigned long long)n);
			ich_heaps_close(h);
			ich_dump_close(d);
			unlink(path);
			free(path);
		}
	}
}

/*
 * Benchmark dump (issue: NT heap §6): one x64 19045 heap of about 1 GiB
 * with `nblocks` blocks: LFH containers of 0x10000 bytes with 0x20-byte
 * blocks (2045 per container, half of them busy) fill the first quarter,
 * 0x100-byte back-end blocks the rest.
 */
static int write_big(const char *path, uint64_t nblocks)
{
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	uint64_t lfh_blocks = nblocks * 8 / 10, lfh_per = 2045;
	uint64_t ncont = (lfh_blocks + lfh_per - 1) / lfh_per;
	uint64_t backend = nblocks > ncont * lfh_per ? nblocks - ncont * lfh_per : 0;
	uint64_t seg_bytes = 0x1000 + ncont * 0x10000 + backend * 0x100 + 0x10000;
	seg_bytes = (seg_bytes + 0xFFFF) & ~0xFFFFull;
	write_heap_header(m, seg_bytes);
	uint64_t e = H + 0x1000, prev = 0;
	for (uint64_t c = 0; c < ncont; c++) {
		put_entry(m, e, 0x1000, 0x09, (uint16_t)prev, 0x10);
		uint64_t ub = e + 16, ss = V + (c % 64) * 0x40;	/* SubSegments outside the segment */
		uint32_t first = 0x40 + 0x100, stride = 0x20;	/* header + 256-byte bitmap */
		db_mem_write_u64(m, ub, ss);
		db_mem_write_u32(m, ub + 0x14, 0xF0E0D0C0);
		db_mem_write_u32(m, ub + 0x18, (first | stride << 16) ^ (uint32_t)ub ^ (uint32_t)LFH ^ LFHKEY);
		db_mem_write_u64(m, ub + 0x20, lfh_per - 8);
		db_mem_write_u64(m, ub + 0x28, ub + 0x30);
		db_mem_write_u16(m, ss + 0x24, 2);
		db_mem_fill(m, ub + 0x30, 0x55, (lfh_per - 8) / 8);	/* every other block busy */
		for (uint64_t i = 0; i < lfh_per - 8; i += 2)
			db_mem_write_u8(m, ub + first + i * stride + 0xF, 0x80 | 0x18);
		prev = 0x1000;
		e += 0x10000;
	}
	for (uint64_t i = 0; i < backend; i++) {
		static const uint8_t mix[5] = { 0x01, 0x03, 0x05, 0x07, 0x00 };
		put_entry(m, e, 0x10, big_flag_mix ? mix[i % 5] : i % 7 == 3 ? 0x00 : 0x01, (uint16_t)prev, 0x20);
		prev = 0x10;
		e += 0x100;
	}
	uint16_t rest = (uint16_t)((H + seg_bytes - e) / 16);
	put_entry(m, e, rest, 0, (uint16_t)prev, 0);
	db_md_add_memory(md, H, seg_bytes, DB_LIST_64);
	db_md_add_memory(md, V, 0x1000, DB_LIST_64);
	db_md_add_memory(md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB, 0x1000, DB_LIST_64);
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB };
	db_md_add_thread(md, &t);
	int rc = db_md_write(md, path);
	db_md_free(md);
	printf("%s: heap of 0x%llx bytes, %llu LFH containers, %llu back-end blocks\n", path,
	       (unsigned long long)seg_bytes, (unsigned long long)ncont, (unsigned long long)backend);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--big"))
		return write_big(argv[2], strtoull(argv[3], NULL, 0)) ? 1 : 0;
	out_path = argc > 1 ? argv[1] : NULL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_corrupt_resync_scan),
		cmocka_unit_test(test_uncommitted_past_pages),
		cmocka_unit_test(test_corrupt_before_uncaptured),
		cmocka_unit_test(test_summing_walks),
		cmocka_unit_test(test_summing_lanes),
		cmocka_unit_test(test_summing_split_window),
		cmocka_unit_test(test_walk_options),
		cmocka_unit_test(test_walk_runs),
		cmocka_unit_test(test_layout_missing_field),
		cmocka_unit_test(test_lfh_key_64),
		cmocka_unit_test(test_win7_lfh),
		cmocka_unit_test(test_unlisted_heap_24h2),
		cmocka_unit_test(test_x86),
		cmocka_unit_test(test_wow64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
