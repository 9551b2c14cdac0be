/* SPDX-License-Identifier: MIT */
/* ARM64 scenarios (tests/builder/arm64/README.md): minidumps (a64md.c),
 * a kernel dump (kb_arm64.c). */
#ifndef A64BUILDER_H
#define A64BUILDER_H
#include <stdbool.h>
#include "dumpbuilder.h"
/* Writes minidump scenario `name` ("arm64-19045", "arm64-19045-badfp")
 * and its expectation file.  Returns 0 or -1 (message on stderr). */
int a64_minidump(const char *name, const char *dmp, const char *expect);
/* Writes the kernel dump scenario `name` ("arm64-19045-full-heaps"), its
 * kobjbuilder .expect and the processes' heaps (ntheap .expect format per
 * process).  Returns 0 or -1 (message on stderr). */
int a64_kernel(const char *name, const char *dmp, const char *expect, const char *heaps);
#endif
