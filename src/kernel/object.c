/* SPDX-License-Identifier: MIT */
/*
 * Object headers (layouts.md §8): body <-> header, optional headers by
 * InfoMask, and the TypeIndex, which Windows 10+ stores XORed with
 * ObHeaderCookie and the second byte of the header address.
 */
#include <inttypes.h>

#include "kernel/kernel_internal.h"

uint64_t kobj_header(const struct ich_kernel *k, uint64_t body)
{
	return body - (uint64_t)k->o.oh_body;
}

uint64_t kobj_body(const struct ich_kernel *k, uint64_t header)
{
	return header + (uint64_t)k->o.oh_body;
}

struct ich_error *kobj_type_index(struct ich_kernel *k, uint64_t hdr, uint32_t *index)
{
	uint8_t raw;
	struct ich_error *err = ich_as_read_u8(k->as, hdr + (uint64_t)k->o.oh_type_index, &raw);
	if (err)
		return err;
	if (k->o.cookie_encoded)
		raw = (uint8_t)(raw ^ (uint8_t)(hdr >> 8) ^ k->cookie);
	*index = raw;
	return NULL;
}

struct ich_error *kobj_optional_header(struct ich_kernel *k, uint64_t hdr,
				       uint8_t bit, uint64_t *addr)
{
	uint8_t mask;
	struct ich_error *err = ich_as_read_u8(k->as, hdr + (uint64_t)k->o.oh_info_mask, &mask);
	if (err)
		return err;
	if (!(mask & (1u << bit))) {
		*addr = 0;
		return NULL;
	}
	/* The header with bit b lies below the object header by the sizes of
	 * every present optional header with a bit <= b. */
	uint64_t off = 0;
	for (uint8_t b = 0; b <= bit; b++)
		if (mask & (1u << b))
			off += (uint64_t)k->o.opt_size[b];
	*addr = hdr - off;
	return NULL;
}
