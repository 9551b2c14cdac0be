/* SPDX-License-Identifier: MIT */
/* kb_segheap.c: segment heaps + PEB.Ldr in a kernel scenario's process. */
#ifndef KB_SEGHEAP_H
#define KB_SEGHEAP_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "kobjbuilder.h"
/* x64 process proc whose PEB (with the ntheap builder's heaps) is at peb:
 * two segment heaps appended to ProcessHeaps, ntdll with
 * RtlpHpHeapGlobals, a PEB.Ldr list; states: one segment-heap page in
 * transition.  Lines to hx (the .heaps file). */
void kb_add_segment_heaps(struct kb *b, int proc, uint64_t peb, bool states, FILE *hx);
/* A 32-bit loader list in the PEB32 at peb32 of WOW64 process proc. */
void kb_add_ldr32(struct kb *b, int proc, uint64_t peb32, FILE *hx);
#endif
