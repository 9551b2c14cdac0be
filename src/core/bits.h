/* SPDX-License-Identifier: MIT */
/* Bit counting the x86-64 baseline has no instruction for; alignment. */
#ifndef ICPHEAP_CORE_BITS_H
#define ICPHEAP_CORE_BITS_H

#include <stdint.h>

/* Population count of x (no POPCNT in the x86-64 baseline: the builtin
 * is a libgcc call there). */
static inline unsigned ich_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/*
 * The offset, in a captured range starting at start, of its first address
 * that is a multiple of step (a power of two).  Scans of a range go by
 * offsets below its size, not by addresses: (start + step - 1) and
 * (a + step) wrap past 2^64 for a range at the top of the address space,
 * and a scan by addresses then ran on past the range (fuzzing found it in
 * the stack trace database's scan: a read past the mapped file).
 */
static inline uint64_t ich_first_aligned_offset(uint64_t start, unsigned step)
{
	return (0 - start) & (uint64_t)(step - 1);
}

/* a + b, or UINT64_MAX where it would wrap past 2^64: the end of a range
 * that reaches the top of the address space (as an exclusive end it
 * leaves out the top byte, which holds no pointer). */
static inline uint64_t ich_add_sat(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

#endif
