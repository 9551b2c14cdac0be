/* SPDX-License-Identifier: MIT */
/* ntheapbuilder: NT heaps laid out in a dumpbuilder memory image from
 * /work/shared/reference/layouts.md (sections 1, 2, 3, 10) only. */
#ifndef NTHEAPBUILDER_H
#define NTHEAPBUILDER_H
#include <stdio.h>
#include "dumpbuilder.h"
/* Builds scenario `name` (arg: block count for "big") and writes the dump
 * and the expectation file.  Returns 0 or -1 (message on stderr). */
int nhb_build(const char *name, unsigned long arg, const char *dmp, const char *expect);
/* Adds one NT heap (layout row "x64-19045" or "x86-19045") at heap_addr,
 * its large blocks at vbase, to md, writing its lines to ex in this
 * builder's .expect format.  Returns 0 or -1. */
int nhb_add_heap(struct db_md *md, FILE *ex, const char *row, uint64_t heap_addr, uint64_t vbase);
#endif
