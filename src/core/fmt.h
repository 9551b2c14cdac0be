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
#include <string.h>

/* Lowercase hex of v, zero-padded to at least width digits (width <= 16);
 * returns the number of characters written (no NUL). */
static inline size_t ich_fmt_hex(char *out, uint64_t v, unsigned width)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;
	do {
		tmp[15 - n++] = digits[v & 0xF];
		v >>= 4;
	} while (v);
	while (n < width && n < 16)
		tmp[15 - n++] = '0';
	memcpy(out, tmp + 16 - n, n);
	return n;
}

/* Decimal of v; returns the number of characters written (no NUL). */
static inline size_t ich_fmt_u64(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[19 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(out, tmp + 20 - n, n);
	return n;
}

#endif
