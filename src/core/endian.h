/* SPDX-License-Identifier: MIT */
/* Little-endian loads from dump bytes (Windows targets are little-endian;
 * the dump may sit at any alignment in the mapping). */
#ifndef ICPHEAP_CORE_ENDIAN_H
#define ICPHEAP_CORE_ENDIAN_H

#include <stdint.h>

static inline uint16_t ich_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t ich_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t ich_le64(const uint8_t *p)
{
	return ich_le32(p) | ((uint64_t)ich_le32(p + 4) << 32);
}

/* Little-endian stores (page-table copies handed back to libaddrxlat as
 * ADDRXLAT_LITTLE_ENDIAN). */
static inline void ich_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void ich_put_le64(uint8_t *p, uint64_t v)
{
	ich_put_le32(p, (uint32_t)v);
	ich_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
