/* SPDX-License-Identifier: MIT */
/*
 * One JSON writer per shared record, used by every command that shows the
 * record (info and analyze): the exception, the crashing stack, a finding,
 * an error.  The keys are documented in icpheap(1) and schemas/.
 */
#ifndef ICPHEAP_CLI_RECORDS_H
#define ICPHEAP_CLI_RECORDS_H

#include <icpheap/error.h>
#include <icpheap/heap.h>
#include <icpheap/heapdiff.h>
#include <icpheap/kernel.h>
#include <icpheap/pageheap.h>
#include <icpheap/triage.h>

#include "core/json.h"

/* "exception": {thread_id, code, code_hex, name, flags, record, address,
 * parameters, location, module, module_offset, access, fast_fail}; null
 * when the dump records none. */
void ich_json_exception(struct ich_json *j, const char *key, const struct ich_crash *c);
/* "bugcheck": {code, code_hex, name, parameters}. */
void ich_json_bugcheck(struct ich_json *j, const char *key, const struct ich_crash *c);
/* "stack": {thread_id, frames: [{index, pc, sp, trust, module, offset,
 * location}], note}. */
void ich_json_stack(struct ich_json *j, const char *key, const struct ich_crash *c);
/* Where a finding is, as people name it: "module+0xoffset", "heap
 * 0x...", "0x..." (the finding's module_offset in JSON, SARIF's logical
 * location); NULL when it has no location. */
const char *ich_finding_location(const struct ich_finding *f, char *buf, size_t n);
/* One finding object (inside an array: key NULL). */
/* A finding's message, with why it ranks next to the crash when it does
 * ("...; crash: contains the faulting address 0x..."): what SARIF, JUnit,
 * Markdown and HTML show. */
const char *ich_finding_text(const struct ich_finding *f, char *buf, size_t n);
void ich_json_finding(struct ich_json *j, const char *key, const struct ich_finding *f,
		      const char *dump_path);
/* The one error shape: {"code": ich_error_code_name, "message": ...} (as info writes it). */
void ich_json_error_obj(struct ich_json *j, const char *key, const char *type, const char *message);
void ich_json_error(struct ich_json *j, const char *key, const struct ich_error *err);
/*
 * The heap records heap --json and analyze --json share.
 *
 * A heap's status in the one status vocabulary (ich_status_name:
 * "complete", "partial", "no-data", "failed"; "skipped" is for analyze's
 * sections): walked (or, for the heap list, read) in full, walked with
 * parts unreadable, header not in the dump, no layout fits / not walkable.
 */
enum ich_status ich_heap_status(const struct ich_heap *hp);
/* address, kind, status (+ reason when not walkable), flags (a number),
 * layout, lfh, unlisted: the heap list row. */
void ich_json_heap_head(struct ich_json *j, const struct ich_heap *hp);
/* segments, totals, problems, unreadable, partial: the rest of `heap -s`. */
void ich_json_heap_tail(struct ich_json *j, const struct ich_heap *hp);
/* A block's fields (header, user, size, block_size, unused, state, layer,
 * and where it lives) into an open object. */
void ich_json_block_fields(struct ich_json *j, const struct ich_heap_block *b);
/* The most ich_json_block_tail_put stores past p (its fixed-size moves
 * included). */
#define ICH_JSON_BLOCK_TAIL_ROOM 208
/* A compact block object's text after the user address's digits
 * (","size":..  up to the closing brace) at p, from the block renderer's
 * tail cache; returns the end.  For a caller that writes the head itself
 * (heap -l --json's leaks: the heap's address first). */
char *ich_json_block_tail_put(char *p, const struct ich_heap_block *b);
/* The block as one object (an array element): compact writers get it
 * rendered in one go, pretty ones through ich_json_block_fields. */
void ich_json_block(struct ich_json *j, const struct ich_heap_block *b);
/* ich_json_block as a heap walk's callback (arg: the writer), so a walk
 * that lists every block calls the writer directly (issue 12). */
struct ich_error *ich_json_block_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg);
/* The run's blocks as ich_json_block writes them one by one (the same
 * bytes), from one tail per kind (issue 12); and as a walk's run
 * callback (ich_heap_walk_runs; arg: the writer). */
void ich_json_block_run(struct ich_json *j, const struct ich_heap_block_run *r);
/* Which build of ich_json_block_run's x64 loop runs: 0 chosen by the CPU
 * (AVX2 where it has it) at the next run, 1 the x86-64 baseline, 2 AVX2.
 * Returns the path set before (0: none chosen yet); -1 (nothing
 * changed) for a path out of range, and for 2 when the CPU or the build
 * lacks AVX2.  For tests (both builds against one expected text). */
int ich_json_run_path(int path);
struct ich_error *ich_json_block_run_cb(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg);
/* The -stat table into an open object: group_by, busy_bytes, sizes: [{size,
 * blocks, total}] (heap -stat per heap, analyze's heap_stat section). */
const char *ich_stat_group_by(enum ich_heap_stat_order ord);
void ich_json_stat_table(struct ich_json *j, enum ich_heap_stat_order ord, uint64_t busy_bytes,
			 const struct ich_heap_size_stat *rows, size_t n);
/* A heap problem {heap (with_heap), address, what} in an array: heap -s/-v
 * per heap, heap -triage findings, analyze's heap_validation. */
void ich_json_problem(struct ich_json *j, bool with_heap, uint64_t heap, uint64_t address, const char *what);

/* Stack frames [{address, module, offset}] (module null and no offset
 * outside the dump's modules); s NULL writes null. */
void ich_json_frames(struct ich_json *j, const char *key, struct ich_dump *dump, const struct ich_stack *s);
/* heap-diff: the totals (old/new counts and bytes, growth, heaps skipped)
 * into an open object, and one row {size | frames, old_count, old_bytes,
 * new_count, new_bytes, count_growth, bytes_growth} in an array
 * (heap-diff --json and analyze's heap_growth). */
void ich_json_diff_totals(struct ich_json *j, const struct ich_diff *df);
void ich_json_diff_row(struct ich_json *j, struct ich_dump *dump, const struct ich_diff_row *r);

/* !icpleak: the IoCompletion type {address, index, total_objects,
 * total_handles, type_list_maintained} and one object {address, queued,
 * entry_list_length, maximum, threads, pool_bytes, pool_blocks, pool_tag?,
 * pool_unknown_packets?, problem?, holders?: [{pid, process, handle,
 * access}]} (icpleak --json and analyze's icpleak section). */
void ich_json_icp_type(struct ich_json *j, const char *key, const struct ich_ktype *t);
void ich_json_icp_object(struct ich_json *j, const struct ich_icp_object *o, bool holders);

/*
 * The schema names, one per command (schemas/<command>.schema.json):
 * every JSON document names its own in "schema" (an array of documents,
 * one per dump, names it in each element).  The version goes up when a
 * documented key changes meaning or name.
 */
#define ICH_SCHEMA_HEAP "icpheap.heap/1"
#define ICH_SCHEMA_HEAP_DIFF "icpheap.heap-diff/1"
#define ICH_SCHEMA_ICPLEAK "icpheap.icpleak/1"
#define ICH_SCHEMA_PS "icpheap.ps/1"
#define ICH_SCHEMA_HANDLES "icpheap.handles/1"
#define ICH_SCHEMA_POOLUSED "icpheap.poolused/1"
/* (types: src/types/layout.c writes "icpheap.types/1") */

/*
 * The one error document of every command in --json mode, for a dump the
 * command could not answer: {"schema", "path", "error": {"code",
 * "message"}} with the error ich_cli_fail reported last (src/cli/cli_util.c
 * keeps it).  j NULL: a document of its own on stdout.  Returns rc.
 */
int ich_json_failure(struct ich_json *j, const char *schema, const char *path, int rc);
/* The error ich_cli_fail reported last (code name and message), or NULL. */
const char *ich_cli_last_error(const char **code);

/* Text: the stack, one frame a line ("#0 electron.exe+0xe8da4 (context)"). */
void ich_text_stack(FILE *f, const struct ich_crash *c, const char *indent);
/* "module+0xoffset" of a frame, or its address. */
const char *ich_frame_location(const struct ich_frame *fr, char *buf, size_t n);

#endif
