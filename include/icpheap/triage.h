/* SPDX-License-Identifier: MIT */
/*
 * Triage records shared by every command: the names of Windows numbers
 * (NTSTATUS, bug check and fast-fail codes), the verdict and status
 * vocabulary, the crash record (exception or bug check, located as
 * module+offset, with the crashing thread's stack recovered without
 * symbols) and the finding record with its fingerprint.  The CLI renders
 * these as text, JSON, SARIF, JUnit and Markdown; it owns no names itself.
 */
#ifndef ICPHEAP_TRIAGE_H
#define ICPHEAP_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/dump.h>
#include <icpheap/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Names ------------------------------------------------------------ */

/* ntstatus.h symbol of an exception / NTSTATUS code ("STATUS_ACCESS_VIOLATION",
 * "STATUS_HEAP_CORRUPTION"), or NULL when the code is not in the table. */
const char *ich_ntstatus_name(uint32_t code);
/* Code of an ntstatus.h symbol (with or without "STATUS_", any case); false
 * when the name is not in the table. */
bool ich_ntstatus_code(const char *name, uint32_t *code);
/* Bug check name ("KMODE_EXCEPTION_NOT_HANDLED"); the 0x10000000 bit marks
 * the "_M" variant of the same check, whose name ends in "_M".  Writes into
 * buf; returns NULL when the code is not in the table. */
const char *ich_bugcheck_name(uint32_t code, char *buf, size_t n);
/* FAST_FAIL_* code name (winnt.h) for the first parameter of a
 * STATUS_STACK_BUFFER_OVERRUN raised by __fastfail, or NULL. */
const char *ich_fast_fail_name(uint64_t code);

/* ---- Verdicts and statuses (one vocabulary, documented in icpheap(1)) -- */

enum ich_verdict {
	ICH_VERDICT_OK,			/* analysed, nothing found */
	ICH_VERDICT_FINDINGS,		/* at least one finding */
	ICH_VERDICT_NO_HEAP_DATA,	/* valid dump without the memory the analysis needs */
	ICH_VERDICT_UNREADABLE,		/* not a dump icpheap can open, or no such file */
	ICH_VERDICT_TIMEOUT,		/* the analysis ran past --timeout and was stopped */
	ICH_VERDICT_CRASHED,		/* the analysis itself died (a bug in icpheap) */
};
const char *ich_verdict_name(enum ich_verdict v);	/* "ok", "no-heap-data", ... */

/* The status of a section (heaps, kernel objects) or of one heap. */
enum ich_status {
	ICH_STATUS_COMPLETE,	/* everything was read and walked */
	ICH_STATUS_PARTIAL,	/* some of it could not be read; what was read is reported */
	ICH_STATUS_NO_DATA,	/* the dump does not hold the memory needed */
	ICH_STATUS_FAILED,	/* the memory is there but could not be understood */
	ICH_STATUS_SKIPPED,	/* not attempted (depends on a section that failed) */
};
const char *ich_status_name(enum ich_status s);	/* "complete", "no-data", ... */

/* ---- The crash record --------------------------------------------------- */

/* How a stack frame was found (the trust levels minidump-stackwalk prints). */
enum ich_frame_trust {
	ICH_FRAME_CONTEXT,	/* the instruction pointer of the exception context */
	ICH_FRAME_CFI,		/* unwound with the module's .pdata / UNWIND_INFO */
	ICH_FRAME_SCAN,		/* a stack word that points into a module */
	ICH_FRAME_FP,		/* frame-pointer chain: x86 saved EBP; ARM64 {Fp, Lr} records */
};
const char *ich_frame_trust_name(enum ich_frame_trust t);	/* "context", "cfi", "scan", "frame-pointer" */

#define ICH_CRASH_MAX_FRAMES 32
#define ICH_MODULE_NAME_MAX 64

struct ich_frame {
	uint64_t pc;			/* instruction (frame 0) or return address */
	uint64_t sp;			/* stack pointer of the frame, or the scanned slot */
	enum ich_frame_trust trust;
	bool has_module;
	char module[ICH_MODULE_NAME_MAX];	/* base name, "electron.exe" */
	uint64_t offset;		/* pc - module base */
};

enum ich_access { ICH_ACCESS_NONE, ICH_ACCESS_READ, ICH_ACCESS_WRITE, ICH_ACCESS_EXECUTE };
const char *ich_access_name(enum ich_access a);	/* "read", "write", "execute" */

struct ich_crash {
	bool present;			/* false: the dump records no exception / bug check */
	bool bugcheck;			/* a kernel dump's bug check, not an exception */
	uint32_t code;
	char name[64];			/* STATUS_... or the bug check name; "" unknown */
	uint32_t thread_id;		/* exceptions only */
	uint32_t flags;
	uint64_t record;		/* ExceptionRecord (a nested record's address) */
	uint64_t address;		/* faulting instruction (exceptions) */
	uint32_t nparams;
	uint64_t params[15];
	/* Where: the module holding address, as base name + offset. */
	bool has_module;
	char module[ICH_MODULE_NAME_MAX];
	uint64_t module_offset;
	char location[ICH_MODULE_NAME_MAX + 24];	/* "electron.exe+0xe8da4" or "0x7ff7..." */
	/* c0000005 / c0000006: what the instruction tried. */
	enum ich_access access;
	uint64_t access_address;
	/* c0000409 raised by __fastfail: the FAST_FAIL_* code (parameter 0). */
	bool has_fast_fail;
	uint32_t fast_fail;
	/* The crashing thread's stack, innermost first. */
	struct ich_frame frames[ICH_CRASH_MAX_FRAMES];
	size_t nframes;
	char stack_note[160];		/* why the stack is short or missing; "" */
	/* The crashing thread's captured stack [stack_start, stack_end) and
	 * its word size (4 or 8), for callers that look at what the stack
	 * points to (ich_crash_link_heap); 0 when not captured. */
	uint64_t stack_start, stack_end;
	unsigned stack_word;
	/* ARM64 exception context (ARM64_NT_CONTEXT): the registers a triager
	 * reads first; has_arm64_context false for other architectures. */
	bool has_arm64_context;
	uint32_t arm64_context_flags, arm64_cpsr;
	uint64_t arm64_pc, arm64_sp, arm64_fp, arm64_lr;
	/* Bug checks: the parameters that lie in a loaded module (from the
	 * kernel's PsLoadedModuleList), "crashdrv.sys+0x1a2b", else "";
	 * fault_param is the parameter the bug check documents as the
	 * faulting instruction's address (0-3), or -1. */
	char param_location[4][ICH_MODULE_NAME_MAX + 24];
	int fault_param;
	size_t nmodules;		/* loaded modules read (kernel dumps) */
};

/*
 * Read the crash record of a dump: the minidump's exception stream (with
 * the faulting module, the access kind, the fast-fail code and the stack)
 * or the kernel dump's bug check.  out->present is false when there is
 * none.  Never fails on a bad dump: what could not be read is said in
 * out->stack_note.
 */
void ich_crash_read(struct ich_dump *dump, struct ich_crash *out);

/* The one-line description: "c0000005 STATUS_ACCESS_VIOLATION at
 * electron.exe+0xe8da4: write to 0x0" (no trailing newline). */
void ich_crash_describe(const struct ich_crash *c, char *buf, size_t n);

/* ---- Findings ----------------------------------------------------------- */

enum ich_severity { ICH_SEV_ERROR, ICH_SEV_WARNING, ICH_SEV_NOTE };
const char *ich_severity_name(enum ich_severity s);	/* "error", "warning", "note" */

/* Finding kinds (rule ids in SARIF). */
#define ICH_FINDING_EXCEPTION "exception"		/* the process crashed with ... */
#define ICH_FINDING_BUGCHECK "bugcheck"			/* the system stopped with ... */
#define ICH_FINDING_HEAP_CORRUPTION "heap-corruption"	/* !heap -v problems */
#define ICH_FINDING_HEAP_COMMITTED "heap-committed"	/* a heap over --fail-on heap-committed>N */
#define ICH_FINDING_ICP_QUEUE "icp-queue"		/* an IoCompletion queue over icp-queue>N */
#define ICH_FINDING_NO_HEAP_DATA "no-heap-data"		/* the dump lacks the heap memory */

/* How a heap finding relates to the crash (why it is named first):
 * ranked in this order, then the findings with none in list order. */
enum ich_crash_relation {
	ICH_REL_NONE,
	ICH_REL_FAULT_IN_BLOCK,		/* the faulting address lies in a problem block */
	ICH_REL_FAULT_NEAR,		/* it lies in the heap, near a problem */
	ICH_REL_STACK_BLOCK,		/* the crashing stack points into a problem block */
	ICH_REL_STACK_HEAP,		/* the crashing stack points into the heap */
};
/* "fault-in-block", "fault-near", "stack-block", "stack-heap", NULL for none */
const char *ich_crash_relation_name(enum ich_crash_relation r);

struct ich_finding {
	char kind[24];
	enum ich_severity severity;
	char message[256];
	uint32_t code;			/* exception / bug check code, else 0 */
	uint64_t count;			/* heap problems, queued entries, bytes; 0 n/a */
	bool has_heap;
	uint64_t heap;
	bool has_address;
	uint64_t address;
	bool has_module;
	char module[ICH_MODULE_NAME_MAX];
	uint64_t offset;
	char fingerprint[17];		/* 16 hex digits */
	bool fails;			/* --fail-on names it */
	bool in_baseline;		/* --baseline already had this fingerprint */
	/* Its relation to the crash (heap findings; ich_crash_link_heap). */
	enum ich_crash_relation relation;
	uint64_t relation_key;		/* orders findings of one relation */
	char rank_reason[256];		/* "contains the faulting address 0x..." */
};

/*
 * Set f->fingerprint from what identifies the problem independently of
 * where and when it is analysed: the kind, the process image, the code,
 * the module+offset and detail with every hexadecimal number removed (so
 * heap addresses that move with ASLR do not change it); a part of detail
 * in braces is kept verbatim (a stable identity such as a heap's index).
 * Never the dump's
 * path, size or time.  FNV-1a 64.
 */
void ich_finding_fingerprint(struct ich_finding *f, const char *image, const char *detail);

/* The finding a crash record makes (severity by code: heap and memory-
 * safety failures are errors). */
void ich_crash_finding(const struct ich_crash *c, const char *image, struct ich_finding *f);

/* ---- The heap problem nearest to the crash (src/triage/crash_link.c) ---- */

struct ich_heaps;
struct ich_heap;
struct ich_as;

struct ich_crash_link {
	enum ich_crash_relation relation;	/* ICH_REL_NONE: no relation found */
	uint64_t problem;	/* the problem entry it is about (0 for stack-heap) */
	uint64_t fault;		/* FAULT_*: the faulting address */
	uint64_t distance;	/* FAULT_NEAR: bytes between fault and problem */
	int frame;		/* STACK_*: the frame whose stack holds the slot */
	uint64_t slot, value;	/* STACK_*: the stack slot and what it holds */
	uint64_t key;		/* orders links of one relation (distance, slot) */
	char reason[256];	/* "contains the faulting address 0x10 (write target)" */
};

/*
 * Relate one walked heap with problems to the crash record of the same
 * dump: does a problem block (the walker's corrupt run, or the block at a
 * problem address) contain the faulting address (the access target of
 * c0000005/c0000006, else the exception address); does that address lie in
 * the heap near a problem; does a word of the crashing thread's captured
 * stack point into a problem block, or into the heap's segments.  Walks
 * the heap once more (ich_heap_walk) when there is something to look for.
 * as is the dump's address space (for the stack words).  Never fails: what
 * cannot be read gives no relation.
 */
void ich_crash_link_heap(struct ich_heaps *h, struct ich_heap *heap, struct ich_as *as,
			 const struct ich_crash *c, struct ich_crash_link *out);

#ifdef __cplusplus
}
#endif
#endif
