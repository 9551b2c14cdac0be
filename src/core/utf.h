/* SPDX-License-Identifier: MIT */
#ifndef ICPHEAP_CORE_UTF_H
#define ICPHEAP_CORE_UTF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Convert nbytes of UTF-16LE (stops early at a NUL unit) to malloc'd UTF-8.
 * Unpaired surrogates become U+FFFD; an odd trailing byte is dropped.
 * Returns NULL only when out of memory.
 */
char *ich_utf16le_to_utf8(const uint8_t *p, size_t nbytes);

/* Copy at most n bytes of an 8-bit string, stopping at NUL; non-printable
 * bytes become '?'.  Returns malloc'd string or NULL on OOM. */
char *ich_ascii_dup(const uint8_t *p, size_t n);

#endif
