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
#endif
