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

/*
 * Arrays that carry a count but no capacity (the public result arrays:
 * a heap's problems, a segment's UCRs, ...), grown one element at a time.
 * Their capacity is implied by the count: the smallest power of two >= n
 * (ich_array_pow2_cap), so ICH_ARRAY_PUSH_ROOM(v, n) makes room for v[n]
 * by doubling when n is 0 or a power of two, with the same meaning of
 * true and false as ICH_ARRAY_RESERVE.  Growing by one instead copied the
 * array at every add, O(n^2) bytes (glibc often grows in place; ASan's
 * realloc never does: 90 s of one sanitizer test).  Whoever allocates
 * such an array otherwise allocates ich_array_pow2_cap(n) elements.
 * The growth is ICH_ARRAY_RESERVE's, from a capacity of n (full).
 */
#define ICH_ARRAY_PUSH_ROOM(v, n) \
	(((n) & ((n) - 1)) != 0 || ich_array_grow_(&(v), &(size_t){ (n) }, sizeof(*(v)), 1))

/* The implied capacity of an array of n elements grown by
 * ICH_ARRAY_PUSH_ROOM (n itself when it overflows). */
size_t ich_array_pow2_cap(size_t n);

/* ICH_ARRAY_RESERVE's growth: *arrayp is the array pointer (any object
 * pointer type: read and written with memcpy, so no pointer is accessed
 * through another type's lvalue). */
bool ich_array_grow_(void *arrayp, size_t *cap, size_t elem, size_t first);

#endif
