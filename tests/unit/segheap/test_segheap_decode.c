/* SPDX-License-Identifier: MIT */
/*
 * Segment-heap decoding primitives (src/heap/segment_heap.h) against
 * values worked out by hand from ../shared/reference/layouts.md §4/§10:
 * VS chunk headers (x64 and x86 bit layouts, Sizes XOR chunk ^ HeapKey,
 * the page-offset byte XOR the low bytes),
 * LFH BlockOffsets (the shift changes in 26100), the 2-bit BlockBitmap
 * (a busy block may read 3), the VS subsegment signature with FullCommit
 * set, the page-segment constant, LfhKey recovery, and the named offset
 * struct's missing-field error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <icpheap/error.h>
#include <icpheap/layout.h>

#include "heap/segment_heap.h"

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_vs_x64(void **state)
{
	(void)state;
	uint64_t chunk = 0x1F0A3C2040, key = 0x0123456789ABCDEFull;
	/* UnsafeSize 0x13 units (0x130 bytes), UnsafePrevSize 0x8 (0x80),
	 * Allocated 1, MemoryCost 0; page offset 2 with UnusedBytes set */
	uint64_t sizes = (0x13ull << 16) | (0x8ull << 32) | (1ull << 48);
	/* AllocatedChunkBits: page offset byte ^ (u8)chunk ^ (u8)key, the
	 * UnusedBytes bit (8) plain (S10 decode_vs_check_header) */
	uint64_t bits = (uint8_t)(0x2 ^ (uint8_t)chunk ^ (uint8_t)key) | 0x100;
	uint8_t raw[16];
	put(raw, sizes ^ chunk ^ key, 8);
	put(raw + 8, bits, 8);
	struct vs_chunk vc;
	vs_chunk_decode(raw, chunk, key, 8, &vc);
	assert_int_equal(vc.size, 0x130);
	assert_int_equal(vc.prev_size, 0x80);
	assert_true(vc.allocated);
	assert_int_equal(vc.page_offset, 2);
	assert_true(vc.unused_present);
	/* the wrong key does not give the same sizes */
	vs_chunk_decode(raw, chunk, key ^ 0x10000, 8, &vc);
	assert_int_not_equal(vc.size, 0x130);
}

static void test_vs_x86(void **state)
{
	(void)state;
	uint32_t chunk = 0x00A41230, key = 0x5EED1234;
	/* x86 DWORD {MemoryCost:1, UnsafeSize:15 @1, UnsafePrevSize:15 @16,
	 * Allocated:1 @31}, 8-byte units: size 0x20 units = 0x100 bytes */
	uint32_t sizes = (0x20u << 1) | (0x6u << 16) | (1u << 31);
	uint8_t raw[8];
	put(raw, sizes ^ chunk ^ key, 4);
	put(raw + 4, (uint8_t)(0x1u ^ (uint8_t)chunk ^ (uint8_t)key), 4);
	struct vs_chunk vc;
	vs_chunk_decode(raw, chunk, key, 4, &vc);
	assert_int_equal(vc.size, 0x100);
	assert_int_equal(vc.prev_size, 0x30);
	assert_true(vc.allocated);
	assert_int_equal(vc.page_offset, 1);
	assert_false(vc.unused_present);
}

static void test_lfh_shift(void **state)
{
	(void)state;
	uint64_t sub = 0x123456000ull;	/* above 4 GiB: the two shifts differ */
	assert_int_equal(lfh_offsets_shift(sub, 19045), 0x23456);
	assert_int_equal(lfh_offsets_shift(sub, 26100), 0x123456);
	uint32_t key = 0xC0FFEE11, plain = 0x50u | (0x40u << 16);
	uint16_t bs, fo;
	lfh_offsets_decode(plain ^ key ^ 0x23456, sub, key, 22631, &bs, &fo);
	assert_int_equal(bs, 0x50);
	assert_int_equal(fo, 0x40);
	lfh_offsets_decode(plain ^ key ^ 0x123456, sub, key, 26100, &bs, &fo);
	assert_int_equal(bs, 0x50);
	assert_int_equal(fo, 0x40);
}

static void test_bitmap(void **state)
{
	(void)state;
	/* blocks 0..3: busy(1), free(0), busy+unused(3), "unused" without
	 * busy (2) -> 0b10_11_00_01 */
	uint8_t bm[1] = { 0x01 | (0x3 << 4) | (0x2 << 6) };
	assert_int_equal(lfh_bitmap_bits(bm, 0) & 1, 1);
	assert_int_equal(lfh_bitmap_bits(bm, 1) & 1, 0);
	assert_int_equal(lfh_bitmap_bits(bm, 2), 3);
	assert_int_equal(lfh_bitmap_bits(bm, 2) & 1, 1);	/* busy, not == 1 */
	assert_int_equal(lfh_bitmap_bits(bm, 3) & 1, 0);
}

static void test_vs_signature(void **state)
{
	(void)state;
	uint16_t size = 0x0FF0, sig = (uint16_t)(size ^ 0x2BED);
	assert_true(vs_subsegment_sig_ok(size, sig));
	assert_true(vs_subsegment_sig_ok(size, (uint16_t)(sig | 0x8000)));	/* FullCommit */
	assert_false(vs_subsegment_sig_ok(size, (uint16_t)(sig ^ 1)));
}

static void test_constant(void **state)
{
	(void)state;
	assert_true(seg_signature_const(19045) == 0xA2E64EADA2E64EADull);
	assert_true(seg_signature_const(22631) == 0xA2E64EADA2E64EADull);
	assert_true(seg_signature_const(26100) == 0);
}

static void test_key_recover(void **state)
{
	(void)state;
	const uint32_t key = 0x9A3F17C5;
	/* three LFH subsegments of 0x10000 bytes (x64: BlockBitmap at 0x30) */
	struct { uint64_t sub; uint16_t bs, fo, bc; } t[] = {
		/* FirstBlockOffset = 0x30 + bitmap bytes (2 bits a block) */
		{ 0x7FF610020000ull, 0x30, 0x170, 0x500 },
		{ 0x7FF610040000ull, 0x100, 0x70, 0xFF },
		{ 0x7FF610061000ull, 0x1F0, 0x50, 0x80 },
	};
	struct lfh_sample s[3];
	for (int i = 0; i < 3; i++) {
		uint32_t plain = t[i].bs | ((uint32_t)t[i].fo << 16);
		s[i] = (struct lfh_sample){ t[i].sub, 0x10000,
			plain ^ key ^ lfh_offsets_shift(t[i].sub, 19045), t[i].bc };
		assert_true(lfh_offsets_plausible(t[i].bs, t[i].fo, t[i].bc, 0x10000, 0x30, 16));
	}
	uint32_t got = 0;
	size_t n = lfh_key_recover(s, 3, 19045, 0x30, 16, &got);
	assert_true(n >= 1);
	assert_int_equal(got, key);
}

static void test_segofs(void **state)
{
	(void)state;
	struct segofs o;
	const struct ich_layout *row = ich_layout_find("ntdll", ICH_ARCH_X64, 19045);
	assert_non_null(row);
	assert_null(segofs_fill(row, 8, &o));
	assert_int_equal(o.seg_contexts, 0x100);	/* layouts.md §4, 2004/20H2 column */
	row = ich_layout_find("ntdll", ICH_ARCH_X64, 22631);
	assert_null(segofs_fill(row, 8, &o));
	assert_int_equal(o.seg_contexts, 0x140);	/* Windows 11 column */
	row = ich_layout_find("ntdll", ICH_ARCH_X86, 17763);
	assert_null(segofs_fill(row, 4, &o));
	assert_int_equal(o.ctx_list_head, 0x14);	/* OLD _HEAP_SEG_CONTEXT */
	row = ich_layout_find("ntdll", ICH_ARCH_X86, 19041);
	assert_null(segofs_fill(row, 4, &o));
	assert_int_equal(o.ctx_list_head, 0x44);	/* NEW */
	/* a row without segment-heap fields (Windows 7): a layout error naming the field */
	row = ich_layout_find("ntdll", ICH_ARCH_X64, 7601);
	struct ich_error *err = segofs_fill(row, 8, &o);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_LAYOUT);
	assert_non_null(strstr(err->message, "SEGMENT_HEAP.Signature"));
	ich_error_destroy(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vs_x64), cmocka_unit_test(test_vs_x86),
		cmocka_unit_test(test_lfh_shift), cmocka_unit_test(test_bitmap),
		cmocka_unit_test(test_vs_signature), cmocka_unit_test(test_constant),
		cmocka_unit_test(test_key_recover), cmocka_unit_test(test_segofs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
