/* SPDX-License-Identifier: MIT */
/*
 * Kernel objects without PDBs: processes, object types, object headers,
 * handle tables and I/O completion queues, read from a kernel dump through
 * its page tables.  Layouts come from the type table (module "ntoskrnl")
 * and are confirmed at run time (System is pid 4; the process list closes;
 * the "Type" type names itself).  Every walk is bounded and cycle-safe; what
 * cannot be read becomes a note and a partial result, never a guess.
 */
#ifndef ICPHEAP_KERNEL_H
#define ICPHEAP_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/dump.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_kernel;

/* Open the kernel model of a kernel dump.  build: 0 = the dump's build.
 * Fails with ICH_ERR_UNSUPPORTED for user-mode dumps and ICH_ERR_FAULT
 * (naming what is missing) when the process list cannot be read at all. */
struct ich_error *ich_kernel_open(struct ich_dump *dump, uint32_t build,
				  struct ich_kernel **ret);
void ich_kernel_close(struct ich_kernel *k);
/* The dump the model was opened on. */
struct ich_dump *ich_kernel_dump(const struct ich_kernel *k);

/* How the model was built (layout row, KDBG state, cookie recovery...);
 * for verbose output. */
size_t ich_kernel_note_count(const struct ich_kernel *k);
const char *ich_kernel_note(const struct ich_kernel *k, size_t i);
/* Problems met (corrupt lists, unreadable pages): results are partial. */
size_t ich_kernel_warning_count(const struct ich_kernel *k);
const char *ich_kernel_warning(const struct ich_kernel *k, size_t i);

struct ich_kprocess {
	uint64_t eprocess;
	uint32_t pid, ppid;
	char image[16];			/* EPROCESS.ImageFileName (15 chars) */
	uint64_t dtb;			/* Pcb.DirectoryTableBase */
	uint64_t object_table;		/* _HANDLE_TABLE * */
	uint64_t peb;
	uint64_t wow64_process;		/* EPROCESS.WoW64Process (0: native) */
	uint64_t peb32;			/* WOW64: the 32-bit PEB (from it) */
};

/* --- processes' user-mode heaps (complete / kernel+user dumps) --- */
struct ich_heaps;	/* <icpheap/heap.h> */
/* Does the dump hold user-mode pages at all?  False (and *why, may be
 * NULL, says which kind of dump) for kernel-only dumps. */
bool ich_kernel_user_pages(const struct ich_kernel *k, const char **why);
/* Parse a process or thread id, the one rule of every command: decimal
 * (as ps --json prints it), hex with 0x, or WinDbg's bare hex Cid when it
 * has hex letters ("1f4"). */
bool ich_kernel_parse_pid(const char *s, uint32_t *pid);
const struct ich_kprocess *ich_kernel_find_pid(const struct ich_kernel *k, uint32_t pid);
/* Processes whose ImageFileName (15 chars) matches name, case-insensitively;
 * returns how many match, stores at most max. */
size_t ich_kernel_find_image(const struct ich_kernel *k, const char *name,
			     const struct ich_kprocess **out, size_t max);
/* The user-mode pages of p that this dump holds: the present and
 * transition pages of its page tables below the user/kernel split, as
 * merged ranges (malloc'd, free with free()); *partial when a bound
 * (65,536 ranges, 1 GiB of tables) cut the list short.  Tables not in the
 * dump are skipped. */
struct ich_error *ich_kernel_user_ranges(struct ich_kernel *k, const struct ich_kprocess *p,
					 struct ich_user_range **out, size_t *n, bool *partial);
/* The heaps of p through its own DirectoryTableBase and PEB (WOW64: the
 * 32-bit PEB).  build 0 = the kernel's.  Close with ich_heaps_close. */
struct ich_error *ich_kernel_process_heaps(struct ich_kernel *k, const struct ich_kprocess *p,
					   uint32_t build, struct ich_heaps **ret);

/* All processes from PsActiveProcessHead, in list order. */
size_t ich_kernel_process_count(const struct ich_kernel *k);
const struct ich_kprocess *ich_kernel_process(const struct ich_kernel *k, size_t i);
/* True if the process list could not be walked to its end. */
bool ich_kernel_processes_partial(const struct ich_kernel *k);

struct ich_ktype {
	uint64_t address;		/* _OBJECT_TYPE body */
	uint32_t index;
	char name[64];
	uint32_t objects, handles, high_objects, high_handles;
	uint64_t type_list;		/* address of _OBJECT_TYPE.TypeList */
	bool list_maintained;		/* TypeList is not empty */
};

/* Object types (from ObpTypeObjectType's type list); may be empty with a
 * warning when the Type type cannot be found. */
size_t ich_kernel_type_count(const struct ich_kernel *k);
const struct ich_ktype *ich_kernel_type(const struct ich_kernel *k, size_t i);
const struct ich_ktype *ich_kernel_find_type(const struct ich_kernel *k, const char *name);
const struct ich_ktype *ich_kernel_type_by_index(const struct ich_kernel *k, uint32_t index);
/* How ObHeaderCookie was found (0 and "not used" before Windows 10). */
uint8_t ich_kernel_header_cookie(const struct ich_kernel *k);

struct ich_khandle {
	uint64_t handle;		/* handle value (multiple of 4) */
	uint64_t object;		/* object body */
	uint64_t header;		/* _OBJECT_HEADER */
	uint32_t type_index;		/* decoded */
	uint32_t access;		/* granted access */
	uint32_t attributes;
};

typedef struct ich_error *ich_khandle_fn(const struct ich_kprocess *p,
					 const struct ich_khandle *h, void *arg);
/* Every handle of p (levels 0, 1, 2).  Unreadable pages of the table are
 * skipped with a warning (*partial set); fn may return &ich_stop. */
struct ich_error *ich_kernel_walk_handles(struct ich_kernel *k,
					  const struct ich_kprocess *p,
					  ich_khandle_fn *fn, void *arg,
					  bool *partial);

/* --- I/O completion queues (!icpleak) --- */
struct ich_icp_holder {
	uint32_t pid;
	char process[16];
	uint64_t handle;
	uint32_t access;
};

struct ich_icp_object {
	uint64_t address;		/* KQUEUE (IoCompletion object body) */
	int32_t queued;			/* Header.SignalState */
	uint64_t list_length;		/* entries on EntryListHead (counted) */
	bool list_complete;		/* the count reached the head */
	int32_t maximum;		/* MaximumCount */
	int32_t current;		/* CurrentCount */
	uint64_t threads;		/* threads on ThreadListHead */
	struct ich_icp_holder *holders;	size_t nholders;
	/* Pool held by the queued packets, from the _POOL_HEADER in front of
	 * each packet on EntryListHead (BlockSize x 16 bytes x64, x 8 x86):
	 * the per-queue view to compare with !poolused's tag totals. */
	uint64_t pool_bytes;		/* sum of the packets' pool blocks */
	uint64_t pool_blocks;		/* packets whose pool header checked out */
	uint64_t pool_unknown;		/* packets without a readable/plausible header */
	char pool_tag[5];		/* tag of the first packet ("" none) */
	bool pool_tags_mixed;		/* not every packet has that tag */
	char problem[160];		/* mismatch / unreadable, or "" */
};

enum ich_icp_source { ICH_ICP_TYPE_LIST, ICH_ICP_HANDLE_TABLES };

struct ich_icp_result {
	const struct ich_ktype *type;	/* the IoCompletion type */
	enum ich_icp_source source;
	struct ich_icp_object *objects;	/* sorted by queued, deepest first */
	size_t nobjects;
	bool partial;
	bool holders_complete;		/* every process's table was walked */
};

/* Find every IoCompletion object (type list, else handle tables) and, with
 * holders, every process holding a handle to each. */
struct ich_error *ich_kernel_icpleak(struct ich_kernel *k, bool holders,
				     struct ich_icp_result **ret);
void ich_icp_result_free(struct ich_icp_result *r);
const char *ich_icp_source_name(enum ich_icp_source s);

#ifdef __cplusplus
}
#endif
#endif
