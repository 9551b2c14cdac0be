/* SPDX-License-Identifier: MIT */
#include "core/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool ich_array_grow_(void *arrayp, size_t *cap, size_t elem, size_t first)
{
	size_t nc = *cap ? *cap * 2 : first;
	if (nc <= *cap || elem == 0 || nc > SIZE_MAX / elem)
		return false;
	void *old;
	memcpy(&old, arrayp, sizeof(old));
	void *nv = realloc(old, nc * elem);
	if (!nv)
		return false;
	memcpy(arrayp, &nv, sizeof(nv));
	*cap = nc;
	return true;
}

size_t ich_array_pow2_cap(size_t n)
{
	size_t c = 1;
	while (c < n && c <= SIZE_MAX / 2)
		c *= 2;
	return c < n ? n : c;
}
