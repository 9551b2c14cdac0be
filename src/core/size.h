/* SPDX-License-Identifier: MIT */
/*
 * One parser for sizes people type: the CLI's --fail-on heap-committed>SIZE
 * and the ICPHEAP_GZIP_MAX environment variable (reader/file.c) read them
 * the same way.
 */
#ifndef ICPHEAP_CORE_SIZE_H
#define ICPHEAP_CORE_SIZE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * "65536", "0x10000", "64K", "1.5M", "2G", "1T", "64KiB", "64KB": bytes.
 * Decimal with an optional fraction, or 0x-hex (no fraction); then an
 * optional K, M, G or T in binary units (KiB...), optionally followed by
 * "i" and/or "B"; a bare "B" is allowed.  A fraction needs a unit ("1.5"
 * bytes means nothing).  False on anything else or on overflow.
 */
bool ich_parse_size(const char *s, uint64_t *out);

#endif
