/* SPDX-License-Identifier: MIT */
/*
 * kobjbuilder (prefix kb_): Windows kernel objects laid out in a dumpbuilder
 * kernel address space -- KDDEBUGGER_DATA64, EPROCESS list, object types,
 * object headers (cookie-encoded TypeIndex, optional headers), handle
 * tables (levels 0 and 1, per-build entry encodings) and IoCompletion
 * objects (_KQUEUE with queued _IO_MINI_COMPLETION_PACKET_USER entries).
 *
 * Written from /work/shared/reference/layouts.md sections 7 and 8 only; the
 * offset table is in kb.c (struct kb_lay), each value citing layouts.md.  It
 * never reads icpheap's src/kernel or src/types, so builder and walker check
 * each other.
 *
 * Usage: kb_new, then kb_type (the "Type" type first), kb_process (System
 * first), kb_object / kb_iocompletion, kb_handle; kb_write lays out what is
 * left (headers, type lists, process list, handle tables, KDBG), writes the
 * dump and the .expect file (format: README.md in this folder).
 */
#ifndef KOBJBUILDER_H
#define KOBJBUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "dumpbuilder.h"

struct kb;

struct kb_opts {
	uint8_t cookie;		/* ObHeaderCookie (Windows 10+ only) */
	bool type_lists;	/* FLG_MAINTAIN_OBJECT_TYPELIST: every object
				 * gets CREATOR_INFO linked into its type's
				 * TypeList; else only type objects are */
	bool kdbg_encoded;	/* x64: KDBG written encoded (OwnerTag not 'KDBG') */
	bool no_handle_lines;	/* .expect: per-process counts only (big) */
	uint32_t seed;		/* address jitter */
	uint64_t ram_pages;	/* physical memory size in pages (0: default) */
	unsigned ep_shift;	/* EPROCESS fields after Pcb moved by this many
				 * bytes from the build's row: a layout no row
				 * describes (the walker's fallback must cope) */
};

struct kb *kb_new(enum db_kd_arch arch, uint32_t build, uint32_t dump_type,
		  const struct kb_opts *opts, const char *scenario);
void kb_free(struct kb *b);
struct db_kd *kb_kd(struct kb *b);

/* Object types: the first call must be "Type".  Returns the type id. */
int kb_type(struct kb *b, const char *name, uint32_t index);
/* An object of type `type` with a body of body_size bytes.  extra_infomask:
 * optional headers besides CREATOR_INFO (0x02 NAME_INFO needs name, 0x04,
 * 0x08 ...).  Returns the object id. */
int kb_object(struct kb *b, int type, uint32_t body_size, uint8_t extra_infomask,
	      const char *name, uint8_t dispatcher_type);
/* A process (EPROCESS object of type "Process"), linked at the end of the
 * active process list.  Returns the process id (index). */
int kb_process(struct kb *b, uint32_t pid, uint32_t ppid, const char *image);
int kb_process_object(const struct kb *b, int proc);
/* The build kb_new was given. */
uint32_t kb_build(const struct kb *b);
/* The process's DirectoryTableBase (its own address space). */
uint64_t kb_process_dtb(const struct kb *b, int proc);
/* x64: PCID bits (0-11) in EPROCESS.Pcb.DirectoryTableBase. */
void kb_process_set_pcid(struct kb *b, int proc, unsigned pcid);
/* EPROCESS.Peb (user address; what lives there is the caller's business). */
void kb_process_set_peb(struct kb *b, int proc, uint64_t peb);
/* x64: EPROCESS.WoW64Process -> a new EWOW64PROCESS whose Peb (+0) is
 * peb32.  Returns the EWOW64PROCESS address. */
uint64_t kb_process_set_wow64(struct kb *b, int proc, uint64_t peb32);
uint32_t kb_process_pid(const struct kb *b, int proc);
/* An IoCompletion object: `depth` packets on EntryListHead; SignalState =
 * depth + signal_delta; nthreads fake nodes on ThreadListHead. */
int kb_iocompletion(struct kb *b, int type, uint32_t depth, int32_t signal_delta,
		    int32_t maximum, uint32_t nthreads, const char *name);
/* A handle in proc's table; returns its value (index * 4). */
uint32_t kb_handle(struct kb *b, int proc, int obj, uint32_t access, unsigned attrs);
/* Leaves n free entries in proc's table. */
void kb_handle_gap(struct kb *b, int proc, unsigned n);

/* Corruptions (kb_write applies them). */
void kb_corrupt_process_loop(struct kb *b, int from_proc, int to_proc);
void kb_corrupt_handle_page(struct kb *b, int proc, unsigned page);
/* IoCompletion list: packet `at` (0-based) gets Flink = unmapped address
 * (to_packet < 0) or the address of packet to_packet (a cycle). */
void kb_corrupt_icp_list(struct kb *b, int obj, uint32_t at, int to_packet);

int kb_write(struct kb *b, const char *dmp, const char *expect);

/* Called by kb_write after the KDBG, PsLoadedModuleList (an empty list) and
 * the header's fields are laid out, before the file is written: a scenario
 * adds what kb does not know (kb_modules.c: loaded modules, bug check,
 * context, kernel stack).  Accessors for it: */
typedef void kb_write_hook(struct kb *b, void *arg);
void kb_set_write_hook(struct kb *b, kb_write_hook *fn, void *arg);
struct db_mem *kb_mem(struct kb *b);		/* the kernel address space */
uint64_t kb_kernel_dtb(const struct kb *b);
uint64_t kb_kernbase(const struct kb *b);
uint64_t kb_ps_loaded_module_list(const struct kb *b);	/* the list head */

/* kb_modules.c: a loaded-module list (ntoskrnl.exe, hal.dll, crashdrv.sys)
 * linked from PsLoadedModuleList, bug check 0xD1 whose fourth parameter is
 * inside crashdrv.sys, a CONTEXT at the header's ContextRecord and a kernel
 * stack holding return addresses (README.md "Bug check scenarios").
 * kb_modules_expect appends the facts to the .expect. */
void kb_modules(struct kb *b);
int kb_modules_expect(struct kb *b, const char *expect);

/* Scenarios: x64-19045-full-typelist, x64-19045-bitmap-notypelist,
 * x64-7601-full, x86pae-19041-full, x64-19045-corrupt,
 * x64-19045-kdbg-encoded, big.  Returns 0 or -1 (message on stderr). */
int kb_build_scenario(const char *name, const char *dmp, const char *expect);
/* Same, with the processes' heap expectations written to heaps (scenarios
 * *-heaps; NULL for the others). */
int kb_build_scenario_heaps(const char *name, const char *dmp, const char *expect,
			    const char *heaps);

/* kb_kind32.c: a 32-bit container variant name (x86pae|x86-19041-KIND
 * [-heaps], KIND fdmp, sdmp, rdmpk, rdmpku, rdmpf, summary): its arch, DumpType,
 * bitmap signature (0 for RDMP) and whether it has heaps. */
bool kb_kind32(const char *name, enum db_kd_arch *arch, uint32_t *dump_type,
	       uint32_t *bmp_signature, bool *heaps);

#endif
