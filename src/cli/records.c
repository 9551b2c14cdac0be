/* SPDX-License-Identifier: MIT */
/* JSON (and text) writers for the shared records (records.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/records.h"

static void code_fields(struct ich_json *j, uint32_t code, const char *name)
{
	char hex[16];
	snprintf(hex, sizeof(hex), "0x%08" PRIx32, code);
	ich_json_u64(j, "code", code);
	ich_json_string(j, "code_hex", hex);
	ich_json_string(j, "name", name && *name ? name : NULL);
}

void ich_json_exception(struct ich_json *j, const char *key, const struct ich_crash *c)
{
	if (!c->present || c->bugcheck) {
		ich_json_null(j, key);
		return;
	}
	ich_json_begin_object(j, key);
	ich_json_u64(j, "thread_id", c->thread_id);
	code_fields(j, c->code, c->name);
	ich_json_u64(j, "flags", c->flags);
	ich_json_addr(j, "record", c->record);
	ich_json_addr(j, "address", c->address);
	ich_json_begin_array(j, "parameters");
	for (uint32_t i = 0; i < c->nparams; i++)
		ich_json_addr(j, NULL, c->params[i]);
	ich_json_end_array(j);
	ich_json_string(j, "location", c->location);
	ich_json_string(j, "module", c->has_module ? c->module : NULL);
	if (c->has_module)
		ich_json_addr(j, "module_offset", c->module_offset);
	else
		ich_json_null(j, "module_offset");
	const char *acc = ich_access_name(c->access);
	if (acc) {
		ich_json_begin_object(j, "access");
		ich_json_string(j, "kind", acc);
		ich_json_addr(j, "address", c->access_address);
		ich_json_end_object(j);
	} else {
		ich_json_null(j, "access");
	}
	if (c->has_fast_fail) {
		ich_json_begin_object(j, "fast_fail");
		ich_json_u64(j, "code", c->fast_fail);
		ich_json_string(j, "name", ich_fast_fail_name(c->fast_fail));
		ich_json_end_object(j);
	} else {
		ich_json_null(j, "fast_fail");
	}
	ich_json_end_object(j);
}

void ich_json_bugcheck(struct ich_json *j, const char *key, const struct ich_crash *c)
{
	if (!c->present || !c->bugcheck) {
		ich_json_null(j, key);
		return;
	}
	ich_json_begin_object(j, key);
	code_fields(j, c->code, c->name);
	ich_json_begin_array(j, "parameters");
	for (uint32_t i = 0; i < c->nparams && i < 4; i++)
		ich_json_addr(j, NULL, c->params[i]);
	ich_json_end_array(j);
	ich_json_end_object(j);
}

const char *ich_frame_location(const struct ich_frame *fr, char *buf, size_t n)
{
	if (fr->has_module)
		snprintf(buf, n, "%s+0x%" PRIx64, fr->module, fr->offset);
	else
		snprintf(buf, n, "0x%" PRIx64, fr->pc);
	return buf;
}

void ich_json_stack(struct ich_json *j, const char *key, const struct ich_crash *c)
{
	if (!c->present || c->bugcheck) {
		ich_json_null(j, key);
		return;
	}
	ich_json_begin_object(j, key);
	ich_json_u64(j, "thread_id", c->thread_id);
	ich_json_begin_array(j, "frames");
	for (size_t i = 0; i < c->nframes; i++) {
		const struct ich_frame *fr = &c->frames[i];
		char loc[96];
		ich_json_begin_object(j, NULL);
		ich_json_u64(j, "index", i);
		ich_json_addr(j, "pc", fr->pc);
		ich_json_addr(j, "sp", fr->sp);
		ich_json_string(j, "trust", ich_frame_trust_name(fr->trust));
		ich_json_string(j, "module", fr->has_module ? fr->module : NULL);
		if (fr->has_module)
			ich_json_addr(j, "offset", fr->offset);
		else
			ich_json_null(j, "offset");
		ich_json_string(j, "location", ich_frame_location(fr, loc, sizeof(loc)));
		ich_json_end_object(j);
	}
	ich_json_end_array(j);
	ich_json_string(j, "note", c->stack_note[0] ? c->stack_note : NULL);
	ich_json_end_object(j);
}

void ich_json_finding(struct ich_json *j, const char *key, const struct ich_finding *f,
		      const char *dump_path)
{
	ich_json_begin_object(j, key);
	ich_json_string(j, "kind", f->kind);
	ich_json_string(j, "severity", ich_severity_name(f->severity));
	ich_json_string(j, "message", f->message);
	ich_json_string(j, "fingerprint", f->fingerprint);
	ich_json_bool(j, "fails", f->fails);
	ich_json_bool(j, "new", !f->in_baseline);
	ich_json_begin_object(j, "location");
	ich_json_string(j, "dump", dump_path);
	if (f->has_heap)
		ich_json_addr(j, "heap", f->heap);
	else
		ich_json_null(j, "heap");
	if (f->has_address)
		ich_json_addr(j, "address", f->address);
	else
		ich_json_null(j, "address");
	ich_json_string(j, "module", f->has_module ? f->module : NULL);
	if (f->has_module) {
		char loc[96];
		ich_json_addr(j, "offset", f->offset);
		snprintf(loc, sizeof(loc), "%s+0x%" PRIx64, f->module, f->offset);
		ich_json_string(j, "module_offset", loc);
	} else {
		ich_json_null(j, "offset");
		ich_json_null(j, "module_offset");
	}
	ich_json_end_object(j);
	if (f->code) {
		char hex[16];
		snprintf(hex, sizeof(hex), "0x%08" PRIx32, f->code);
		ich_json_u64(j, "code", f->code);
		ich_json_string(j, "code_hex", hex);
	}
	if (f->count)
		ich_json_u64(j, "count", f->count);
	ich_json_end_object(j);
}

void ich_json_error_obj(struct ich_json *j, const char *key, const char *type, const char *message)
{
	ich_json_begin_object(j, key);
	ich_json_string(j, "code", type);
	ich_json_string(j, "message", message);
	ich_json_end_object(j);
}

void ich_json_error(struct ich_json *j, const char *key, const struct ich_error *err)
{
	ich_json_error_obj(j, key, ich_error_code_name(err->code), err->message);
}

void ich_text_stack(FILE *f, const struct ich_crash *c, const char *indent)
{
	for (size_t i = 0; i < c->nframes; i++) {
		char loc[96];
		const struct ich_frame *fr = &c->frames[i];
		fprintf(f, "%s#%-2zu %-40s (%s)\n", indent, i, ich_frame_location(fr, loc, sizeof(loc)),
			ich_frame_trust_name(fr->trust));
	}
	if (c->stack_note[0])
		fprintf(f, "%s(%s)\n", indent, c->stack_note);
}
