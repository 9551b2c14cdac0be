/* SPDX-License-Identifier: MIT */
/* segheapbuilder: Windows segment heaps (_SEGMENT_HEAP, signature
 * 0xDDEEDDEE) laid out in a full-memory minidump from
 * /work/shared/reference/layouts.md sections 1, 4 and 10 and the public
 * sources cited in tests/builder/segheap/README.md -- never from src/heap
 * or src/types, so the builder and the walker check each other. */
#ifndef SEGHEAPBUILDER_H
#define SEGHEAPBUILDER_H
#include "dumpbuilder.h"
/* Builds scenario `name` (arg: block count for "big") and writes the dump
 * and its expectation file.  Returns 0, or -1 with a message on stderr. */
int shb_build(const char *name, unsigned long arg, const char *dmp, const char *expect);
/* The scenario names, NULL-terminated (for the CLI's usage text). */
extern const char *const shb_scenarios[];
#endif
