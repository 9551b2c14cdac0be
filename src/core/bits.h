/* SPDX-License-Identifier: MIT */
/* Bit counting the x86-64 baseline has no instruction for. */
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

#endif
