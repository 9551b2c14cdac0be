/* SPDX-License-Identifier: MIT */
#ifndef ICPHEAP_CORE_GROW_H
#define ICPHEAP_CORE_GROW_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Doubling arrays.  ICH_ARRAY_RESERVE(v, n, cap, first) makes room for
 * element n of the array v, which has cap elements allocated: true when
 * v[n] may be written.  The first allocation holds `first` elements and
 * each growth doubles; false when out of memory or when the size would
 * overflow size_t, with v and cap unchanged (what failing means is the
 * caller's: a walk stops recording, a list says it is full, ...).  The
 * common case, room already there, is one compare at the call site.
 */
#define ICH_ARRAY_RESERVE(v, n, cap, first) \
	((n) < (cap) || ich_array_grow_(&(v), &(cap), sizeof(*(v)), (first)))

/* ICH_ARRAY_RESERVE's growth: *arrayp is the array pointer (any object
 * pointer type: read and written with memcpy, so no pointer is accessed
 * through another type's lvalue). */
bool ich_array_grow_(void *arrayp, size_t *cap, size_t elem, size_t first);

#endif
