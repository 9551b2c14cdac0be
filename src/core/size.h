/* SPDX-License-Identifier: MIT */
/*
 * One parser for sizes people type: the CLI's --fail-on heap-committed>SIZE
 * and the ICPHEAP_GZIP_MAX environment variable (reader/file.c) read them
 * the same way; and one for the numbers (addresses, ids).
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

/*
 * A number as WinDbg and JSON write them: "0x"-prefixed hex, else hex when
 * hex is true (WinDbg's bare hex), else decimal; in hex WinDbg's `
 * separator (00007ff6`4c1b0000) after the first digit.  No sign, no
 * spaces.  False on anything else or on overflow.  The CLI's numbers and
 * the library's process ids (ich_kernel_parse_pid) are read by it.
 */
bool ich_parse_number(const char *s, bool hex, uint64_t *out);

#endif
