/* SPDX-License-Identifier: MIT */
/*
 * Number formatting for the per-block hot loops (heap -a, -l, JSON): hex
 * and decimal digits written straight into a caller's buffer, without the
 * format-string parsing printf does for every field (issue 12: one line
 * per block over millions of blocks).
 *
 * Hex: all 16 digits at once in an SSE2 register on x86-64 (each byte
 * split into its two nibbles, +'0', +39 more above 9), elsewhere 8 at a
 * time in a 64-bit register (SWAR: nibbles spread to bytes, the same adds
 * and masks); no per-digit loop or table load.  Decimal: two digits at a
 * time from a 200-byte table.  tests/unit/core compares both with snprintf.
 */
#ifndef ICPHEAP_CORE_FMT_H
#define ICPHEAP_CORE_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

/* Copy a string literal (without its NUL) to p and advance p past it: the
 * length comes from the literal, not from a hand count (the block-line and
 * JSON renderers build their lines this way). */
#define ICH_PUT_LIT(p, lit) (memcpy((p), "" lit, sizeof(lit) - 1), (p) += sizeof(lit) - 1)
/* The 8 lowercase hex digits of h in one register: byte k (k = 0 the
 * least significant byte) is the digit of h's nibble k. */
static inline uint64_t ich_hex8_spread(uint32_t h)
{
	uint64_t x = h;
	/* nibble k of h (k = 0 least significant) to byte k of x */
	x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
	x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
	x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
	/* each byte 0..15 -> '0'..'9','a'..'f': +'0', and +39 more for the
	 * bytes above 9 (bit 4 of byte+6 is set exactly for those) */
	uint64_t above9 = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
	return x + 0x3030303030303030ull + above9 * 0x27;
}

/* Digits of v in hex without leading zeros (1 for 0). */
static inline unsigned ich_hex_digits(uint64_t v)
{
	return v ? (unsigned)(67 - __builtin_clzll(v)) / 4 : 1;
}

/* v's 16 hex digits (zero-padded) in text order: *hi the first 8, *lo the
 * last 8, the first digit of each in its lowest byte (little-endian). */
static inline void ich_hex16_text(uint64_t v, uint64_t *hi, uint64_t *lo)
{
#if defined(__SSE2__) && defined(__x86_64__)
	/* bytes of v most significant first; each split into its two
	 * nibbles, interleaved high-low: the 16 digits' values in order */
	__m128i x = _mm_cvtsi64_si128((long long)__builtin_bswap64(v));
	__m128i f = _mm_set1_epi8(0x0F);
	__m128i nib = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(x, 4), f), _mm_and_si128(x, f));
	__m128i above9 = _mm_and_si128(_mm_cmpgt_epi8(nib, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
	__m128i txt = _mm_add_epi8(_mm_add_epi8(nib, _mm_set1_epi8('0')), above9);
	*hi = (uint64_t)_mm_cvtsi128_si64(txt);
	*lo = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(txt, txt));
#else
	*hi = __builtin_bswap64(ich_hex8_spread((uint32_t)(v >> 32)));
	*lo = __builtin_bswap64(ich_hex8_spread((uint32_t)v));
#endif
}

/* ich_hex16_text of two values at once (one register holds both on
 * x86-64): a's digits in ahi and alo, b's in bhi and blo. */
static inline void ich_hex16x2_text(uint64_t a, uint64_t b, uint64_t *ahi, uint64_t *alo, uint64_t *bhi,
				    uint64_t *blo)
{
#if defined(__SSE2__) && defined(__x86_64__)
	__m128i x = _mm_set_epi64x((long long)__builtin_bswap64(b), (long long)__builtin_bswap64(a));
	__m128i f = _mm_set1_epi8(0x0F);
	__m128i h = _mm_and_si128(_mm_srli_epi16(x, 4), f), l = _mm_and_si128(x, f);
	__m128i na = _mm_unpacklo_epi8(h, l), nb = _mm_unpackhi_epi8(h, l);
	__m128i nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'), gap = _mm_set1_epi8('a' - '0' - 10);
	__m128i ta = _mm_add_epi8(_mm_add_epi8(na, zero), _mm_and_si128(_mm_cmpgt_epi8(na, nine), gap));
	__m128i tb = _mm_add_epi8(_mm_add_epi8(nb, zero), _mm_and_si128(_mm_cmpgt_epi8(nb, nine), gap));
	*ahi = (uint64_t)_mm_cvtsi128_si64(ta);
	*alo = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(ta, ta));
	*bhi = (uint64_t)_mm_cvtsi128_si64(tb);
	*blo = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(tb, tb));
#else
	ich_hex16_text(a, ahi, alo);
	ich_hex16_text(b, bhi, blo);
#endif
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ICH_HEX_STORE 1
/* Store the last n (1..16) of the 16 digits hi/lo (ich_hex16_text) at
 * out; out needs room for 16 bytes (bytes past n are scratch).  Little-
 * endian only (the first digit is the register's lowest byte). */
static inline void ich_hex_store(char *out, uint64_t hi, uint64_t lo, unsigned n)
{
	if (n > 8) {
		hi >>= 8 * (16 - n);
		memcpy(out, &hi, 8);
		memcpy(out + n - 8, &lo, 8);
	} else {
		lo >>= 8 * (8 - n);
		memcpy(out, &lo, 8);
	}
}
#endif

/* Lowercase hex of v, zero-padded to at least width digits (width <= 16);
 * returns the number of characters written (no NUL).  out must have room
 * for 16 bytes: the digits are stored 8 at a time straight from registers
 * (a copy through a stack buffer stalled on store forwarding: half of
 * heap -a --json's time), and the bytes past the n returned are scratch. */
static inline size_t ich_fmt_hex(char *out, uint64_t v, unsigned width)
{
	unsigned n = ich_hex_digits(v);
	if (n < width)
		n = width < 16 ? width : 16;
#ifdef ICH_HEX_STORE
	/* the 16 digits as two registers in text order (the first digit in
	 * the lowest byte, which a little-endian store writes first) */
	uint64_t hi, lo;
	ich_hex16_text(v, &hi, &lo);
	ich_hex_store(out, hi, lo, n);
#else
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = n; i-- > 0;) {
		out[i] = digits[v & 0xF];
		v >>= 4;
	}
#endif
	return n;
}

/* Decimal of v; returns the number of characters written (no NUL). */
static inline size_t ich_fmt_u64(char *out, uint64_t v)
{
	static const char pairs[201] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	if (v < 10) {
		out[0] = (char)('0' + v);
		return 1;
	}
	unsigned n = 2;
	for (uint64_t t = v / 100; t; t /= 10)
		n++;
	char *o = out + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		o -= 2;
		memcpy(o, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		o -= 2;
		memcpy(o, pairs + 2 * v, 2);
	} else {
		*--o = (char)('0' + v);
	}
	return n;
}

#endif
