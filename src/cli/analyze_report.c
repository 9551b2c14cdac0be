/* SPDX-License-Identifier: MIT */
/*
 * The per-dump report of `icpheap analyze`.  Sections are gathered from the
 * library (dump info, heaps, kernel objects) and rendered as text (WinDbg
 * style blocks where a section reproduces a WinDbg command) or as one JSON
 * document (schema "icpheap.analyze/1", documented in the man page).
 *
 * Every section says whether it is complete, partial, failed or skipped,
 * and why; the outcome carries the exit code: 0 nothing found, 1 findings
 * over the --fail-on thresholds, 3 the dump could not be read or analysed.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>
#include <icpheap/minidump.h>

#include "cli/analyze.h"
#include "cli/analyze_sections.h"
#include "core/json.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ich_report_note(struct ich_report *r, const char *fmt, ...)
{
	if (r->nnotes >= ICH_REPORT_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
}

void ich_report_finding(struct ich_report *r, const char *fmt, ...)
{
	if (r->nfindings >= ICH_REPORT_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->findings[r->nfindings++], sizeof(r->findings[0]), fmt, ap);
	va_end(ap);
}

const char *ich_section_status_name(enum ich_section_status s)
{
	switch (s) {
	case ICH_SECTION_COMPLETE: return "complete";
	case ICH_SECTION_PARTIAL: return "partial";
	case ICH_SECTION_FAILED: return "failed";
	case ICH_SECTION_SKIPPED: return "skipped";
	}
	return "?";
}

static const char *exception_name(uint32_t code)
{
	switch (code) {
	case 0xc0000005: return "EXCEPTION_ACCESS_VIOLATION";
	case 0xc0000409: return "STATUS_STACK_BUFFER_OVERRUN (fail fast)";
	case 0xc00000fd: return "EXCEPTION_STACK_OVERFLOW";
	case 0x80000003: return "EXCEPTION_BREAKPOINT";
	case 0xc000000d: return "STATUS_INVALID_PARAMETER";
	case 0xc0000374: return "STATUS_HEAP_CORRUPTION";
	case 0xc0000094: return "EXCEPTION_INT_DIVIDE_BY_ZERO";
	case 0xc000001d: return "EXCEPTION_ILLEGAL_INSTRUCTION";
	case 0xe06d7363: return "C++ exception";
	}
	return NULL;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '\\');
	const char *t = strrchr(p, '/');
	if (t > s)
		s = t;
	return s ? s + 1 : p;
}

/* The `info` essentials, as text and JSON. */
static void essentials(struct ich_dump *dump, struct ich_report *r)
{
	const struct ich_minidump *md = ich_dump_minidump(dump);
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	FILE *t = r->text;
	struct ich_json *j = r->json;
	const char *arch = ich_dump_arch(dump) == ICH_ARCH_UNKNOWN ? "unknown" : ich_arch_name(ich_dump_arch(dump));
	if (t) {
		fprintf(t, "Dump:       %s%s, %s%s, %llu bytes\n", ich_dump_kind_name(dump),
			ich_dump_was_gzip(dump) ? " (gzip)" : "", arch,
			ich_dump_is_wow64(dump) ? " (WOW64 process)" : "",
			(unsigned long long)ich_dump_file_size(dump));
	}
	if (j) {
		ich_json_string(j, "kind", ich_dump_kind_name(dump));
		ich_json_string(j, "arch", arch);
		ich_json_bool(j, "wow64", ich_dump_is_wow64(dump));
		ich_json_bool(j, "gzip", ich_dump_was_gzip(dump));
		ich_json_u64(j, "build", ich_dump_build(dump));
	}
	if (md) {
		const struct ich_md_system_info *si = &md->system_info;
		if (md->has_system_info) {
			if (t)
				fprintf(t, "Windows:    %u.%u.%u%s%s, %u processors, product type %u\n",
					si->major_version, si->minor_version, si->build_number,
					si->csd_version && *si->csd_version ? " " : "",
					si->csd_version ? si->csd_version : "",
					si->number_of_processors, si->product_type);
			if (j) {
				char v[48];
				snprintf(v, sizeof(v), "%u.%u.%u", si->major_version,
					 si->minor_version, si->build_number);
				ich_json_string(j, "os_version", v);
				ich_json_u64(j, "processors", si->number_of_processors);
			}
		}
		const char *image = md->nmodules ? base_name(md->modules[0].name ? md->modules[0].name : "?") : "?";
		if (t) {
			fputs("Process:    ", t);
			if (md->has_misc_info && md->misc_info.has_pid)
				fprintf(t, "pid %u, ", md->misc_info.process_id);
			fprintf(t, "image %s, %zu threads, %zu modules\n", image, md->nthreads, md->nmodules);
		}
		if (j) {
			if (md->has_misc_info && md->misc_info.has_pid)
				ich_json_u64(j, "pid", md->misc_info.process_id);
			ich_json_string(j, "image", image);
			ich_json_u64(j, "threads", md->nthreads);
			ich_json_u64(j, "modules", md->nmodules);
			ich_json_u64(j, "memory_ranges", md->nranges);
			ich_json_u64(j, "memory_bytes", md->captured_bytes);
		}
		if (md->has_exception) {
			const struct ich_md_exception *e = &md->exception;
			const char *name = exception_name(e->code);
			if (t)
				fprintf(t, "Exception:  %08x%s%s at %0*" PRIx64 ", thread %x\n", e->code,
					name ? " " : "", name ? name : "",
					ich_dump_arch(dump) == ICH_ARCH_X86 ? 8 : 16, e->address,
					e->thread_id);
			if (j) {
				ich_json_begin_object(j, "exception");
				ich_json_addr(j, "code", e->code);
				ich_json_string(j, "name", name);
				ich_json_addr(j, "address", e->address);
				ich_json_u64(j, "thread", e->thread_id);
				ich_json_end_object(j);
			}
		}
		if (t)
			fprintf(t, "Memory:     %zu ranges, %llu bytes captured\n", md->nranges,
				(unsigned long long)md->captured_bytes);
	}
	if (kd) {
		if (t) {
			fprintf(t, "Windows:    build %u, %u processors\n", kd->minor_version,
				kd->number_processors);
			fprintf(t, "Bugcheck:   %08x (%016" PRIx64 ", %016" PRIx64 ", %016" PRIx64 ", %016" PRIx64 ")\n",
				kd->bugcheck_code, kd->bugcheck_parameters[0],
				kd->bugcheck_parameters[1], kd->bugcheck_parameters[2],
				kd->bugcheck_parameters[3]);
		}
		if (j) {
			ich_json_u64(j, "processors", kd->number_processors);
			ich_json_begin_object(j, "bugcheck");
			ich_json_addr(j, "code", kd->bugcheck_code);
			ich_json_begin_array(j, "parameters");
			for (int i = 0; i < 4; i++)
				ich_json_addr(j, NULL, kd->bugcheck_parameters[i]);
			ich_json_end_array(j);
			ich_json_end_object(j);
		}
	}
	for (size_t i = 0; i < ich_dump_warning_count(dump); i++) {
		ich_report_note(r, "%s", ich_dump_warning(dump, i));
	}
}

static void section_header(struct ich_report *r, const char *title,
			   enum ich_section_status st, double secs)
{
	if (!r->text)
		return;
	fprintf(r->text, "\n--- %s (%s)", title, ich_section_status_name(st));
	if (r->opts->verbose)
		fprintf(r->text, " [%.3f s]", secs);
	fputs(" ---\n", r->text);
}

void ich_report_section(struct ich_report *r, const char *title, const char *key,
			ich_section_fn *fn, struct ich_dump *dump)
{
	double t0 = now();
	/* Text is rendered into a buffer so the header can carry the status. */
	char *buf = NULL;
	size_t len = 0;
	FILE *saved = r->text;
	if (saved)
		r->text = open_memstream(&buf, &len);
	if (r->json)
		ich_json_begin_object(r->json, key);
	enum ich_section_status st = fn(dump, r);
	if (r->json) {
		ich_json_string(r->json, "status", ich_section_status_name(st));
		if (r->opts->verbose)
			ich_json_double(r->json, "seconds", now() - t0);
		ich_json_end_object(r->json);
	}
	if (saved) {
		fclose(r->text);
		r->text = saved;
		section_header(r, title, st, now() - t0);
		if (buf)
			fputs(buf, saved);
	}
	free(buf);
	if (st == ICH_SECTION_PARTIAL || st == ICH_SECTION_FAILED)
		r->partial = true;
}

void ich_analyze_one(const char *path, const struct ich_analyze_opts *opts,
		     FILE *out, struct ich_analyze_outcome *o)
{
	double t0 = now();
	struct ich_report r;
	memset(&r, 0, sizeof(r));
	r.opts = opts;
	struct ich_json json;
	if (opts->mode == ICH_OUT_TEXT) {
		r.text = out;
		fprintf(out, "==> %s <==\n", path);
	} else {
		ich_json_init(&json, out, opts->mode == ICH_OUT_JSON);
		r.json = &json;
		ich_json_begin_object(&json, NULL);
		ich_json_string(&json, "schema", "icpheap.analyze/1");
		ich_json_string(&json, "path", path);
	}
	struct ich_dump *dump = NULL;
	struct ich_error *err = ich_dump_open(path, &dump);
	if (err) {
		o->exit_code = ich_cli_exit_code(err);
		snprintf(o->kind, sizeof(o->kind), "?");
		snprintf(o->verdict, sizeof(o->verdict), "unreadable");
		snprintf(o->top, sizeof(o->top), "%s", err->message);
		if (r.text)
			fprintf(out, "Unreadable: %s\n", err->message);
		else {
			ich_json_string(&json, "verdict", "unreadable");
			ich_json_u64(&json, "exit_code", (uint64_t)o->exit_code);
			ich_json_string(&json, "error", err->message);
			ich_json_end_object(&json);
			ich_json_finish(&json);
		}
		ich_error_destroy(err);
		o->seconds = now() - t0;
		if (r.text)
			fputc('\n', out);
		return;
	}
	snprintf(o->kind, sizeof(o->kind), "%s", ich_dump_kind_name(dump));
	snprintf(o->build, sizeof(o->build), "%u", ich_dump_build(dump));
	essentials(dump, &r);
	if (ich_dump_kind(dump) == ICH_DUMP_MINIDUMP)
		ich_report_user_sections(dump, &r);
	else
		ich_report_kernel_sections(dump, &r);

	/* Verdict: findings over thresholds win; a dump whose main sections
	 * could not run at all is "unanalysable" (3). */
	o->exit_code = r.nfindings ? ICH_EXIT_FINDINGS :
		       r.unanalysable ? ICH_EXIT_DUMP : ICH_EXIT_OK;
	snprintf(o->verdict, sizeof(o->verdict), "%s",
		 r.nfindings ? "findings" : r.unanalysable ? "unanalysable" :
		 r.partial ? "ok-partial" : "ok");
	snprintf(o->top, sizeof(o->top), "%s",
		 r.nfindings ? r.findings[0] : r.nnotes ? r.notes[0] : "");
	if (r.text) {
		if (r.nnotes) {
			fputs("\n--- Not analysed / notes ---\n", out);
			for (size_t i = 0; i < r.nnotes; i++)
				fprintf(out, " - %s\n", r.notes[i]);
		}
		fprintf(out, "\nVerdict: %s", o->verdict);
		for (size_t i = 0; i < r.nfindings; i++)
			fprintf(out, "%s%s", i ? "; " : ": ", r.findings[i]);
		fputs("\n\n", out);
	} else {
		ich_json_begin_array(&json, "findings");
		for (size_t i = 0; i < r.nfindings; i++)
			ich_json_string(&json, NULL, r.findings[i]);
		ich_json_end_array(&json);
		ich_json_begin_array(&json, "not_analysed");
		for (size_t i = 0; i < r.nnotes; i++)
			ich_json_string(&json, NULL, r.notes[i]);
		ich_json_end_array(&json);
		ich_json_bool(&json, "partial", r.partial);
		ich_json_string(&json, "verdict", o->verdict);
		ich_json_u64(&json, "exit_code", (uint64_t)o->exit_code);
		ich_json_end_object(&json);
		ich_json_finish(&json);
	}
	ich_dump_close(dump);
	o->seconds = now() - t0;
}
