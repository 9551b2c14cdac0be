/* SPDX-License-Identifier: MIT */
/*
 * Number formatting for the per-block hot loops (heap -a, JSON): hex and
 * decimal digits written straight into a caller's buffer, without the
 * format-string parsing printf does for every field (issue 12: one line
 * per block over millions of blocks).
 */
#ifndef ICPHEAP_CORE_FMT_H
#define ICPHEAP_CORE_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of v, zero-padded to at least width digits (width <= 16);
 * returns the number of characters written (no NUL). */
static inline size_t ich_fmt_hex(char *out, uint64_t v, unsigned width)
{
	static const char digits[] = "0123456789abcdef";
	unsigned n = v ? (unsigned)(67 - __builtin_clzll(v)) / 4 : 1;
	if (n < width)
		n = width < 16 ? width : 16;
	for (unsigned i = n; i-- > 0;) {
		out[i] = digits[v & 0xF];
		v >>= 4;
	}
	return n;
}

/* Decimal of v; returns the number of characters written (no NUL). */
static inline size_t ich_fmt_u64(char *out, uint64_t v)
{
	unsigned n = 1;
	for (uint64_t t = v; t >= 10; t /= 10)
		n++;
	for (unsigned i = n; i-- > 0;) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return n;
}

#endif
