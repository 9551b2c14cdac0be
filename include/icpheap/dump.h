/* SPDX-License-Identifier: MIT */
/*
 * Opening a Windows dump.  One handle for every format: user-mode minidumps
 * (MDMP) and kernel crash dumps (PAGEDUMP / PAGEDU64), plain or gzipped.
 * The file is mmapped, never read whole.
 */
#ifndef ICPHEAP_DUMP_H
#define ICPHEAP_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/addrspace.h>
#include <icpheap/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_dump;
struct ich_minidump;	/* <icpheap/minidump.h> */
struct ich_kdump;	/* <icpheap/kdump.h> */

enum ich_dump_kind {
	ICH_DUMP_MINIDUMP = 1,	/* user-mode MDMP */
	ICH_DUMP_KERNEL,	/* PAGEDUMP / PAGEDU64 */
};

enum ich_arch {
	ICH_ARCH_UNKNOWN = 0,
	ICH_ARCH_X86,
	ICH_ARCH_X64,
	ICH_ARCH_ARM64,
	ICH_ARCH_ARM,
	ICH_ARCH_IA64,
};

const char *ich_arch_name(enum ich_arch arch);	/* "x86", "x64", ... */

/* Is this file a dump icpheap recognises (by content, not name)?  Reads
 * only the first bytes (and the gzip header).  Never fails: false on any
 * error. */
bool ich_dump_probe_file(const char *path);

/*
 * Open a dump.  Errors name the file and, for format errors, the offset.
 * A dump that opens with problems (e.g. a file shorter than its header
 * promises) opens anyway and lists the problems as warnings.
 */
struct ich_error *ich_dump_open(const char *path, struct ich_dump **ret);
void ich_dump_close(struct ich_dump *dump);

const char *ich_dump_path(const struct ich_dump *dump);
enum ich_dump_kind ich_dump_kind(const struct ich_dump *dump);
/* "minidump", "kernel full dump", "kernel bitmap dump", ... */
const char *ich_dump_kind_name(const struct ich_dump *dump);
enum ich_arch ich_dump_arch(const struct ich_dump *dump);
/* Windows build number (e.g. 19045); 0 when unknown. */
uint32_t ich_dump_build(const struct ich_dump *dump);
/* True for a 32-bit process written by a 64-bit writer (WOW64). */
bool ich_dump_is_wow64(const struct ich_dump *dump);
/* True if the input was gzip-compressed. */
bool ich_dump_was_gzip(const struct ich_dump *dump);
/* Size of the (decompressed) file in bytes. */
uint64_t ich_dump_file_size(const struct ich_dump *dump);
/* Raw file bytes (decompressed); for format-specific code and tests. */
const uint8_t *ich_dump_file_data(const struct ich_dump *dump);

/* Problems found while opening (truncation, skipped streams, ...). */
size_t ich_dump_warning_count(const struct ich_dump *dump);
const char *ich_dump_warning(const struct ich_dump *dump, size_t i);
/* Record a warning (printf-style); used by readers and walkers. */
void ich_dump_warn(struct ich_dump *dump, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Format-specific parsed data; NULL when the dump is of the other kind. */
const struct ich_minidump *ich_dump_minidump(const struct ich_dump *dump);
const struct ich_kdump *ich_dump_kdump(const struct ich_dump *dump);

/*
 * The dump's main virtual address space: the process for a minidump, kernel
 * VA for a kernel dump.  Owned by the dump.  NULL when the dump has no
 * memory that can be addressed (e.g. a truncated header).
 */
struct ich_as *ich_dump_as(struct ich_dump *dump);

/*
 * Address space of a process in a kernel dump, from its DirectoryTableBase
 * (user memory is present in complete / kernel+user dumps).  The caller
 * destroys it with ich_as_destroy, before closing the dump (the dump keeps
 * the last one destroyed, to build the next process's from it, so a dump
 * and the spaces made from it are used from one thread at a time).
 */
struct ich_error *ich_dump_process_as(struct ich_dump *dump, uint64_t dtb,
				      struct ich_as **ret);
void ich_as_destroy(struct ich_as *as);

/* Physical read (kernel dumps only); same result contract as ich_as_read. */
size_t ich_dump_read_phys(struct ich_dump *dump, uint64_t paddr, void *buf,
			  size_t len, struct ich_read_result *res);

#ifdef __cplusplus
}
#endif
#endif
