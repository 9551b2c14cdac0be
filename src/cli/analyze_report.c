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
#include "cli/records.h"

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

struct ich_finding *ich_report_finding(struct ich_report *r, const char *kind,
				       enum ich_severity sev, const char *fmt, ...)
{
	if (r->nfindings >= ICH_REPORT_MAX_NOTES)
		return NULL;
	struct ich_finding *f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof(*f));
	snprintf(f->kind, sizeof(f->kind), "%s", kind);
	f->severity = sev;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return f;
}

/* Fingerprint, --fail-on and --baseline for a filled-in finding. */
void ich_report_finding_done(struct ich_report *r, struct ich_finding *f, const char *detail)
{
	if (!f)
		return;
	ich_finding_fingerprint(f, r->image, detail);
	f->fails = ich_fail_on_matches(&r->opts->fail_on, f);
	f->in_baseline = ich_baseline_has(r->opts->baseline, f->fingerprint);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '\\');
	const char *t = strrchr(p, '/');
	if (t > s)
		s = t;
	return s ? s + 1 : p;
}

/* The `info` essentials and the crash record, as text and JSON. */
static void essentials(struct ich_dump *dump, struct ich_report *r, struct ich_crash *crash)
{
	const struct ich_minidump *md = ich_dump_minidump(dump);
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	FILE *t = r->text;
	struct ich_json *j = r->json;
	char hs[32];
	const char *arch = ich_dump_arch(dump) == ICH_ARCH_UNKNOWN ? "unknown" : ich_arch_name(ich_dump_arch(dump));
	if (t) {
		fprintf(t, "Dump:       %s%s, %s%s, %s\n", ich_dump_kind_name(dump),
			ich_dump_was_gzip(dump) ? " (gzip)" : "", arch,
			ich_dump_is_wow64(dump) ? " (WOW64 process)" : "",
			ich_human_size(ich_dump_file_size(dump), hs, sizeof(hs)));
	}
	if (j) {
		ich_json_string(j, "kind", ich_dump_kind_name(dump));
		ich_json_string(j, "arch", arch);
		ich_json_bool(j, "wow64", ich_dump_is_wow64(dump));
		ich_json_bool(j, "gzip", ich_dump_was_gzip(dump));
		ich_json_u64(j, "build", ich_dump_build(dump));
	}
	ich_crash_read(dump, crash);
	if (md) {
		const struct ich_md_system_info *si = &md->system_info;
		if (md->has_system_info) {
			if (t)
				fprintf(t, "Windows:    %u.%u.%u%s%s, %u processor%s, product type %u\n",
					si->major_version, si->minor_version, si->build_number,
					si->csd_version && *si->csd_version ? " " : "",
					si->csd_version ? si->csd_version : "",
					si->number_of_processors, si->number_of_processors == 1 ? "" : "s",
					si->product_type);
			if (j) {
				char v[48];
				snprintf(v, sizeof(v), "%u.%u.%u", si->major_version,
					 si->minor_version, si->build_number);
				ich_json_string(j, "os_version", v);
				ich_json_u64(j, "processors", si->number_of_processors);
			}
		}
		const char *image = md->nmodules ? base_name(md->modules[0].name ? md->modules[0].name : "?") : "?";
		r->image = image;
		if (t) {
			fputs("Process:    ", t);
			if (md->has_misc_info && md->misc_info.has_pid)
				fprintf(t, "pid %u, ", md->misc_info.process_id);
			fprintf(t, "image %s, %zu thread%s, %zu module%s\n", image, md->nthreads,
				md->nthreads == 1 ? "" : "s", md->nmodules, md->nmodules == 1 ? "" : "s");
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
		if (crash->present) {
			char desc[200];
			ich_crash_describe(crash, desc, sizeof(desc));
			if (t) {
				fprintf(t, "Exception:  %s, thread %u (0x%x)\n", desc, crash->thread_id, crash->thread_id);
				fprintf(t, "Stack:      thread %u, %zu frame%s recovered without symbols\n", crash->thread_id,
					crash->nframes, crash->nframes == 1 ? "" : "s");
				ich_text_stack(t, crash, "            ");
			}
		}
		if (j) {
			ich_json_exception(j, "exception", crash);
			ich_json_stack(j, "stack", crash);
		}
		if (t)
			fprintf(t, "Memory:     %zu range%s, %s captured\n", md->nranges, md->nranges == 1 ? "" : "s",
				ich_human_size(md->captured_bytes, hs, sizeof(hs)));
	}
	if (kd) {
		char desc[200];
		ich_crash_describe(crash, desc, sizeof(desc));
		if (t) {
			fprintf(t, "Windows:    build %u, %u processor%s\n", kd->minor_version,
				kd->number_processors, kd->number_processors == 1 ? "" : "s");
			fprintf(t, "Bugcheck:   %s\n", desc);
			for (int i = 0; i < 4; i++)
				if (crash->param_location[i][0])
					fprintf(t, "            parameter %d 0x%" PRIx64 " is %s\n", i + 1,
						crash->params[i], crash->param_location[i]);
			if (crash->nframes) {
				fprintf(t, "Stack:      %zu frame%s recovered without symbols (%zu loaded module%s)\n",
					crash->nframes, crash->nframes == 1 ? "" : "s", crash->nmodules,
					crash->nmodules == 1 ? "" : "s");
				ich_text_stack(t, crash, "            ");
			} else if (crash->stack_note[0]) {
				fprintf(t, "Stack:      none: %s\n", crash->stack_note);
			}
		}
		if (j) {
			ich_json_u64(j, "processors", kd->number_processors);
			ich_json_bugcheck(j, "bugcheck", crash);
			ich_json_stack(j, "stack", crash);
		}
	}
	for (size_t i = 0; i < ich_dump_warning_count(dump); i++) {
		ich_report_note(r, "%s", ich_dump_warning(dump, i));
	}
}

static void section_header(struct ich_report *r, const char *title,
			   enum ich_status st, double secs)
{
	if (!r->text)
		return;
	fprintf(r->text, "\n--- %s (%s)", title, ich_status_name(st));
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
	enum ich_status st = fn(dump, r);
	if (r->json) {
		ich_json_string(r->json, "status", ich_status_name(st));
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
	if (st == ICH_STATUS_PARTIAL || st == ICH_STATUS_FAILED)
		r->partial = true;
}

int ich_analyze_exit_code(const struct ich_analyze_outcome *o)
{
	switch (o->verdict) {
	case ICH_VERDICT_UNREADABLE: return ICH_EXIT_DUMP;
	case ICH_VERDICT_TIMEOUT:
	case ICH_VERDICT_CRASHED: return ICH_EXIT_INTERNAL;
	default: break;
	}
	for (size_t i = 0; i < o->nfindings; i++)
		if (o->findings[i].fails && !o->findings[i].in_baseline)
			return ICH_EXIT_FINDINGS;
	return ICH_EXIT_OK;
}

static void outcome_top(struct ich_analyze_outcome *o)
{
	/* The first finding that fails, else the first finding. */
	const struct ich_finding *top = NULL;
	for (size_t i = 0; i < o->nfindings && !top; i++)
		if (o->findings[i].fails)
			top = &o->findings[i];
	if (!top && o->nfindings)
		top = &o->findings[0];
	if (top)
		snprintf(o->top, sizeof(o->top), "%s", top->message);
}

/* Where a finding goes: the crash first, then the heap findings related
 * to it (the problem block holding the faulting address, the heap it lies
 * in, a problem block the crashing stack points to, a heap it points to;
 * each by distance or innermost slot), then the rest in the order the
 * sections made them. */
static unsigned rank_group(const struct ich_finding *f)
{
	if (!strcmp(f->kind, ICH_FINDING_EXCEPTION) || !strcmp(f->kind, ICH_FINDING_BUGCHECK))
		return 0;
	switch (f->relation) {
	case ICH_REL_FAULT_IN_BLOCK: return 1;
	case ICH_REL_FAULT_NEAR: return 2;
	case ICH_REL_STACK_BLOCK: return 3;
	case ICH_REL_STACK_HEAP: return 4;
	case ICH_REL_NONE: break;
	}
	return 5;
}

static void rank_findings(struct ich_report *r)
{
	/* A stable insertion sort: a handful of findings. */
	for (size_t i = 1; i < r->nfindings; i++) {
		struct ich_finding t = r->findings[i];
		unsigned g = rank_group(&t);
		size_t j = i;
		while (j > 0) {
			const struct ich_finding *p = &r->findings[j - 1];
			unsigned pg = rank_group(p);
			if (pg < g || (pg == g && (g == 0 || g == 5 || p->relation_key <= t.relation_key)))
				break;
			r->findings[j] = *p;
			j--;
		}
		r->findings[j] = t;
	}
}

void ich_analyze_one(const char *path, const struct ich_analyze_opts *opts,
		     FILE *out, struct ich_analyze_outcome *o)
{
	double t0 = now();
	struct ich_report r;
	memset(&r, 0, sizeof(r));
	r.opts = opts;
	r.heap_status = ICH_STATUS_SKIPPED;
	struct ich_json json;
	bool json_mode = opts->mode == ICH_OUT_JSON || opts->mode == ICH_OUT_JSONL;
	if (opts->mode == ICH_OUT_TEXT) {
		r.text = out;
		fprintf(out, "==> %s <==\n", path);
	} else if (json_mode) {
		ich_json_init(&json, out, opts->mode == ICH_OUT_JSON);
		r.json = &json;
		ich_json_begin_object(&json, NULL);
		ich_json_string(&json, "schema", ICH_SCHEMA_ANALYZE_DUMP);
		ich_json_string(&json, "path", path);
	}
	char *maps = NULL;
	size_t maps_len = 0;
	if (opts->mode == ICH_OUT_HTML)
		r.html = open_memstream(&maps, &maps_len);
	struct ich_dump *dump = NULL;
	struct ich_error *err = ich_dump_open(path, &dump);
	if (err) {
		o->verdict = ICH_VERDICT_UNREADABLE;
		o->exit_code = ICH_EXIT_DUMP;
		snprintf(o->kind, sizeof(o->kind), "?");
		snprintf(o->top, sizeof(o->top), "%s", err->message);
		if (r.text)
			fprintf(out, "Unreadable: %s\n\nVerdict: unreadable\n\n", err->message);
		else if (json_mode) {
			ich_json_begin_array(&json, "findings");
			ich_json_end_array(&json);
			ich_json_string(&json, "verdict", "unreadable");
			ich_json_u64(&json, "exit_code", (uint64_t)o->exit_code);
			ich_json_error(&json, "error", err);
			ich_json_end_object(&json);
			ich_json_finish(&json);
		}
		ich_error_destroy(err);
		o->seconds = now() - t0;
		if (r.html) {
			fclose(r.html);
			ich_html_dump_section(out, path, o, maps);
			free(maps);
		}
		return;
	}
	snprintf(o->kind, sizeof(o->kind), "%s", ich_dump_kind_name(dump));
	snprintf(o->build, sizeof(o->build), "%u", ich_dump_build(dump));
	struct ich_crash *crash = &o->crash;
	essentials(dump, &r, crash);
	snprintf(o->image, sizeof(o->image), "%s", r.image ? r.image : "");
	/* The crash is the first finding. */
	if (crash->present) {
		struct ich_finding *f = ich_report_finding(&r, "", ICH_SEV_NOTE, "x");
		if (f) {
			ich_crash_finding(crash, r.image, f);
			f->fails = ich_fail_on_matches(&opts->fail_on, f);
			f->in_baseline = ich_baseline_has(opts->baseline, f->fingerprint);
		}
	}
	r.crash = crash;
	if (ich_dump_kind(dump) == ICH_DUMP_MINIDUMP)
		ich_report_user_sections(dump, &r);
	else
		ich_report_kernel_sections(dump, &r);
	rank_findings(&r);

	bool no_data = r.heap_status == ICH_STATUS_NO_DATA || r.heap_status == ICH_STATUS_FAILED;
	if (no_data) {
		struct ich_finding *f = ich_report_finding(&r, ICH_FINDING_NO_HEAP_DATA, ICH_SEV_NOTE,
			"%s: %s", ich_dump_kind(dump) == ICH_DUMP_MINIDUMP ? "heaps not analysed" :
			"kernel objects not analysed", r.advice);
		ich_report_finding_done(&r, f, "");
	}
	o->has_heap_status = true;
	o->heap_status = r.heap_status;
	snprintf(o->advice, sizeof(o->advice), "%s", no_data ? r.advice : "");
	/* Findings other than no-heap-data make the verdict "findings". */
	size_t real = 0;
	for (size_t i = 0; i < r.nfindings; i++)
		real += strcmp(r.findings[i].kind, ICH_FINDING_NO_HEAP_DATA) != 0;
	o->verdict = real ? ICH_VERDICT_FINDINGS : no_data ? ICH_VERDICT_NO_HEAP_DATA : ICH_VERDICT_OK;
	o->nfindings_total = r.nfindings;
	o->nfindings = r.nfindings < ICH_OUTCOME_MAX_FINDINGS ? r.nfindings : ICH_OUTCOME_MAX_FINDINGS;
	memcpy(o->findings, r.findings, o->nfindings * sizeof(o->findings[0]));
	o->exit_code = ich_analyze_exit_code(o);
	outcome_top(o);
	if (!o->top[0] && r.nnotes)
		snprintf(o->top, sizeof(o->top), "%s", r.notes[0]);
	const char *verdict = ich_verdict_name(o->verdict);
	if (r.text) {
		if (r.nnotes && (!opts->quiet || opts->verbose)) {
			fputs("\n--- Not analysed / notes ---\n", out);
			for (size_t i = 0; i < r.nnotes; i++)
				fprintf(out, " - %s\n", r.notes[i]);
		}
		if (r.nfindings) {
			fputs("\n--- Findings ---\n", out);
			for (size_t i = 0; i < r.nfindings; i++) {
				const struct ich_finding *f = &r.findings[i];
				fprintf(out, " [%s] %s: %s (%s%s)\n", ich_severity_name(f->severity), f->kind,
					f->message, f->fingerprint,
					f->fails ? (f->in_baseline ? ", in baseline" : ", fails") : "");
				if (f->rank_reason[0])
					fprintf(out, "     crash: %s\n", f->rank_reason);
			}
		}
		fprintf(out, "\nVerdict: %s (heaps: %s, exit %d)\n", verdict,
			ich_status_name(r.heap_status), o->exit_code);
		if (no_data)
			fprintf(out, "Next:    %s\n", r.advice);
		fputc('\n', out);
	} else if (json_mode) {
		ich_json_begin_array(&json, "findings");
		for (size_t i = 0; i < r.nfindings; i++)
			ich_json_finding(&json, NULL, &r.findings[i], path);
		ich_json_end_array(&json);
		ich_json_begin_array(&json, "notes");
		for (size_t i = 0; i < r.nnotes; i++)
			ich_json_string(&json, NULL, r.notes[i]);
		ich_json_end_array(&json);
		ich_json_bool(&json, "partial", r.partial);
		ich_json_string(&json, "heap_status", ich_status_name(r.heap_status));
		ich_json_string(&json, "advice", no_data ? r.advice : NULL);
		ich_json_string(&json, "verdict", verdict);
		ich_json_u64(&json, "exit_code", (uint64_t)o->exit_code);
		ich_json_end_object(&json);
		ich_json_finish(&json);
	}
	ich_dump_close(dump);
	o->seconds = now() - t0;
	if (r.html) {
		fclose(r.html);
		ich_html_dump_section(out, path, o, maps);
		free(maps);
	}
}
