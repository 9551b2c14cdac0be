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

#include <stdio.h>
/* A committed range the caller must make readable (map it). */
typedef void shb_capture_fn(void *arg, uint64_t va, uint64_t size);
/* Where an image was laid out. */
struct shb_image {
	uint64_t base, size;
	uint64_t data, data_size;	/* its writable .data section */
};
/* The two segment heaps of the normal scenarios (heap 0: three page
 * segments and three large blocks; heap 1: one segment), plus ntdll's
 * image (PE header, .data with RtlpHpHeapGlobals), written into m, a
 * process address space such as a kernel dump's db_kd_view, for layout
 * "x64-19045", "x64-22631" or "x64-26100".  They are appended to the
 * ProcessHeaps array of the PEB at peb (NumberOfHeaps grows by 2).  Lines
 * in this builder's .expect format go to ex; fn gets every committed
 * range; *ntdll (may be NULL) says where ntdll went.  Returns 0 or -1. */
int shb_write_process(struct db_mem *m, const char *layout, uint64_t peb, FILE *ex,
		      shb_capture_fn *fn, void *arg, struct shb_image *ntdll);

/* shb_ldr.c: the loader's module list of a process -- PEB.Ldr ->
 * PEB_LDR_DATA.InLoadOrderModuleList (and InMemoryOrderModuleList) ->
 * LDR_DATA_TABLE_ENTRY {DllBase, SizeOfImage, FullDllName, BaseDllName}
 * -- for pointer size ps (4: a 32-bit PEB, also a WOW64 process's PEB32)
 * at `at` (one page is enough for a few modules).  One `module` line per
 * entry goes to ex.  Returns 0 or -1. */
struct shb_module {
	const char *path;	/* FullDllName; BaseDllName is its last component */
	uint64_t base, size;
};
int shb_write_ldr(struct db_mem *m, unsigned ps, uint64_t peb, uint64_t at,
		  const struct shb_module *mods, unsigned n, FILE *ex, shb_capture_fn *fn, void *arg);
#endif
