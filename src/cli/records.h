/* SPDX-License-Identifier: MIT */
/*
 * One JSON writer per shared record, used by every command that shows the
 * record (info and analyze): the exception, the crashing stack, a finding,
 * an error.  The keys are documented in icpheap(1) and schemas/.
 */
#ifndef ICPHEAP_CLI_RECORDS_H
#define ICPHEAP_CLI_RECORDS_H

#include <icpheap/error.h>
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
/* One finding object (inside an array: key NULL). */
void ich_json_finding(struct ich_json *j, const char *key, const struct ich_finding *f,
		      const char *dump_path);
/* The one error shape: {"code": ich_error_code_name, "message": ...} (as info writes it). */
void ich_json_error_obj(struct ich_json *j, const char *key, const char *type, const char *message);
void ich_json_error(struct ich_json *j, const char *key, const struct ich_error *err);
/* Text: the stack, one frame a line ("#0 electron.exe+0xe8da4 (context)"). */
void ich_text_stack(FILE *f, const struct ich_crash *c, const char *indent);
/* "module+0xoffset" of a frame, or its address. */
const char *ich_frame_location(const struct ich_frame *fr, char *buf, size_t n);

#endif
