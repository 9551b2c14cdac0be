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

/* The three heaps, PEB and ProcessHeaps array of the normal scenarios
 * (README.md, "Common layout"; layout "x64-19045", "x64-14393",
 * "x64-7601" or "x86-19045") written into m, a process address space such
 * as a kernel dump's db_kd_view; no TEB, thread or module.  fn gets every
 * committed range (the caller maps it); runb_blocks (0 = 12) sets the
 * number of blocks in heap 0's run B.  The heap lines of the .expect
 * format go to ex.  Returns the PEB address (the 32-bit PEB for x86), or
 * 0 for an unknown layout. */
typedef void nhb_capture_fn(void *arg, uint64_t va, uint64_t size);
uint64_t nhb_write_process(struct db_mem *m, const char *layout, FILE *ex, unsigned runb_blocks,
			   nhb_capture_fn *fn, void *arg);
/* The "big N" heap (one x64 19045 heap at 0x10000000, N alternating busy
 * 0x40 / free 0x20 blocks, bulk-written) with its PEB at 0x7F000000, into
 * m; for benchmarks.  Returns the PEB. */
uint64_t nhb_write_big_process(struct db_mem *m, unsigned long nblocks, FILE *ex,
			       nhb_capture_fn *fn, void *arg);
#endif
