/* SPDX-License-Identifier: MIT */
/*
 * User-mode sections of `icpheap analyze`: every heap with its `!heap -s`
 * row, the top allocation sizes by total bytes (`!heap -stat`, all heaps),
 * and the validation pass (corrupt entries, broken lists).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/heap.h>
#include <icpheap/heapdiff.h>
#include <icpheap/heapmap.h>

#include "cli/analyze_sections.h"
#include "cli/records.h"

struct uctx {
	struct ich_heaps *h;
	struct ich_error *err;
	size_t walked;
	/* One walk per heap feeds all three sections: totals and problems
	 * land in each heap, the size groups here. */
	struct ich_heap_size_stat *rows;
	size_t nrows;
	uint64_t busy;
	struct ich_heap_map **maps;	/* --format html: each heap's map, from that walk */
	struct ich_error *stat_err;
	size_t not_captured;		/* heaps whose header is not in the dump */
};

#define P(x) (unsigned long long)(x)

static enum ich_status sec_heaps(struct ich_dump *dump, struct ich_report *r)
{
	(void)dump;
	struct uctx *u = r->ctx;
	if (!u->h) {
		if (r->text)
			fprintf(r->text, "cannot find the heaps: %s\n", u->err->message);
		if (r->json)
			ich_json_error(r->json, "error", u->err);
		return ICH_STATUS_FAILED;
	}
	int w = ich_heaps_ptr_size(u->h) == 8 ? 16 : 8;
	bool partial = false;
	u->stat_err = r->html ? ich_heap_stat_maps(u->h, ICH_STAT_BY_TOTAL, &u->rows, &u->nrows, &u->busy, &u->maps)
			      : ich_heap_stat(u->h, NULL, ICH_STAT_BY_TOTAL, &u->rows, &u->nrows, &u->busy);
	if (u->stat_err) {
		if (r->text)
			fprintf(r->text, "%s\n", u->stat_err->message);
		if (r->json)
			ich_json_error(r->json, "error", u->stat_err);
		return ICH_STATUS_FAILED;
	}
	bool header = false;
	if (r->json)
		ich_json_begin_array(r->json, "heaps");
	for (size_t i = 0; i < ich_heaps_count(u->h); i++) {
		struct ich_heap *hp = ich_heaps_get(u->h, i);
		if (hp->status != ICH_HEAP_OK) {
			partial = true;
			ich_report_note(r, "%s", hp->reason);
			if (hp->status == ICH_HEAP_NOT_CAPTURED)
				u->not_captured++;
			if (r->json) {	/* the heap record heap --json writes */
				ich_json_begin_object(r->json, NULL);
				ich_json_heap_head(r->json, hp);
				ich_json_end_object(r->json);
			}
			continue;
		}
		if (!hp->walked) {
			ich_report_note(r, "heap 0x%" PRIx64 ": %s", hp->address,
					hp->nproblems ? hp->problems[0].what : "could not be walked");
			partial = true;
			continue;
		}
		u->walked++;
		partial |= hp->partial;
		const struct ich_heap_totals *t = &hp->totals;
		if (r->text && !header) {
			fprintf(r->text, "%*sHeap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Fast  Busy blocks (bytes)\n",
				w == 16 ? 10 : 2, "");
			header = true;
		}
		if (r->text)
			fprintf(r->text, "%0*llx %08x %7llu %6llu %6llu %6llu %5llu %5llu %4llu   %s  %llu (%llu)%s\n", w,
				P(hp->address), hp->flags, P(t->reserved / 1024), P(t->committed / 1024),
				P(t->virt / 1024), P(t->backend_free_bytes / 1024), P(t->backend_free_count), P(t->ucr_count),
				P(t->virtual_blocks), hp->lfh ? "LFH" : "   ", P(t->busy_count), P(t->busy_bytes),
				hp->partial ? "  partial" : "");
		if (r->json) {	/* the `heap -s --json` record */
			ich_json_begin_object(r->json, NULL);
			ich_json_heap_head(r->json, hp);
			ich_json_heap_tail(r->json, hp);
			ich_json_end_object(r->json);
		}
		const struct ich_fail_on *fo = &r->opts->fail_on;
		if (ich_fail_on_over(fo->heap_committed, fo->heap_committed_ge, fo->heap_committed_max, t->committed)) {
			char a[32], b[32];
			struct ich_finding *f = ich_report_finding(r, ICH_FINDING_HEAP_COMMITTED, ICH_SEV_WARNING,
				"heap 0x%" PRIx64 " commits %s (threshold %s%s)", hp->address,
				ich_human_size(t->committed, a, sizeof(a)), fo->heap_committed_ge ? ">=" : ">",
				ich_human_size(fo->heap_committed_max, b, sizeof(b)));
			if (f) {
				f->has_heap = true;
				f->heap = hp->address;
				f->count = t->committed;
				/* The heap's index, not its address, identifies it across runs. */
				char d[32];
				snprintf(d, sizeof(d), "heap index %zu", i);
				ich_report_finding_done(r, f, d);
			}
		}
	}
	if (r->json)
		ich_json_end_array(r->json);
	if (r->opts->verbose && r->text)
		for (size_t i = 0; i < ich_heaps_note_count(u->h); i++)
			fprintf(r->text, "note: %s\n", ich_heaps_note(u->h, i));
	if (!u->walked) {
		if (r->text)
			fprintf(r->text, "no heap could be walked (see below)\n");
		return ICH_STATUS_FAILED;
	}
	return partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
}

/* The sections after the heaps one read its walk; without one they are
 * skipped, saying so. */
static bool heaps_walked(struct ich_report *r)
{
	const struct uctx *u = r->ctx;
	if (u->h && u->walked)
		return true;
	if (r->text)
		fprintf(r->text, "skipped: no heap could be walked\n");
	return false;
}

static enum ich_status sec_stat(struct ich_dump *dump, struct ich_report *r)
{
	(void)dump;
	struct uctx *u = r->ctx;
	if (!heaps_walked(r))
		return ICH_STATUS_SKIPPED;
	const struct ich_heap_size_stat *rows = u->rows;
	size_t n = u->nrows;
	uint64_t busy = u->busy;
	size_t show = n < r->opts->stat_top ? n : r->opts->stat_top;
	if (r->text) {
		fprintf(r->text, "group-by: %s max-display: %u (all heaps)\n", ich_stat_group_by(ICH_STAT_BY_TOTAL),
			r->opts->stat_top);
		fprintf(r->text, "    size     #blocks     total     ( %%) (percent of total busy bytes)\n");
		for (size_t i = 0; i < show; i++)
			fprintf(r->text, "    %llx %llx - %llx  (%.2f)\n", P(rows[i].size), P(rows[i].blocks),
				P(rows[i].total), busy ? 100.0 * (double)rows[i].total / (double)busy : 0.0);
	}
	if (r->html) {
		for (size_t i = 0; i < ich_heaps_count(u->h); i++) {
			struct ich_heap *hp = ich_heaps_get(u->h, i);
			if (hp->status == ICH_HEAP_OK && hp->walked && u->maps)
				ich_html_heap_map(r->html, hp, u->maps[i]);
		}
		ich_html_top_table(r->html, rows, show, busy);
	}
	if (r->json)	/* the -stat table record heap -stat --json writes */
		ich_json_stat_table(r->json, ICH_STAT_BY_TOTAL, busy, rows, show);
	/* "complete" only when every heap was walked through (issue 8: a
	 * heap left out makes the all-heaps table partial). */
	for (size_t i = 0; i < ich_heaps_count(u->h); i++) {
		const struct ich_heap *hp = ich_heaps_get(u->h, i);
		if (hp->status != ICH_HEAP_OK || !hp->walked || hp->partial)
			return ICH_STATUS_PARTIAL;
	}
	return ICH_STATUS_COMPLETE;
}

static enum ich_status sec_validate(struct ich_dump *dump, struct ich_report *r)
{
	struct uctx *u = r->ctx;
	if (!heaps_walked(r))
		return ICH_STATUS_SKIPPED;
	size_t total = 0;
	if (r->json)
		ich_json_begin_array(r->json, "problems");
	for (size_t i = 0; i < ich_heaps_count(u->h); i++) {
		struct ich_heap *hp = ich_heaps_get(u->h, i);
		if (hp->status != ICH_HEAP_OK)
			continue;
		/* the walks above recorded the problems */
		for (size_t p = 0; p < hp->nproblems; p++) {
			total++;
			if (r->text && total <= 50)
				fprintf(r->text, "heap %llx: %llx: %s\n", P(hp->address), P(hp->problems[p].address),
					hp->problems[p].what);
			if (r->json)
				ich_json_problem(r->json, true, hp->address, hp->problems[p].address, hp->problems[p].what);
		}
	}
	if (r->json)
		ich_json_end_array(r->json);
	if (r->text)
		fprintf(r->text, "%zu problem%s found%s\n", total, total == 1 ? "" : "s",
			total > 50 ? " (first 50 shown)" : "");
	/* One finding per heap with problems, named by its first problem. */
	for (size_t i = 0; i < ich_heaps_count(u->h); i++) {
		struct ich_heap *hp = ich_heaps_get(u->h, i);
		if (hp->status != ICH_HEAP_OK || !hp->nproblems)
			continue;
		struct ich_finding *f = ich_report_finding(r, ICH_FINDING_HEAP_CORRUPTION, ICH_SEV_ERROR,
			"heap 0x%" PRIx64 ": %zu problem%s (first at 0x%" PRIx64 ": %s)", hp->address,
			hp->nproblems, hp->nproblems == 1 ? "" : "s", hp->problems[0].address,
			hp->problems[0].what);
		if (f) {
			f->has_heap = true;
			f->heap = hp->address;
			f->has_address = true;
			f->address = hp->problems[0].address;
			f->count = hp->nproblems;
			char d[240];
			snprintf(d, sizeof(d), "heap index {%zu}: %s", i, hp->problems[0].what);
			ich_report_finding_done(r, f, d);
			/* How it relates to the crash: the findings are ranked
			 * by it once every section has run. */
			struct ich_crash_link link;
			ich_crash_link_heap(u->h, hp, ich_dump_as(dump), r->crash, &link);
			f->relation = link.relation;
			f->relation_key = link.key;
			snprintf(f->rank_reason, sizeof(f->rank_reason), "%s", link.reason);
		}
	}
	return ICH_STATUS_COMPLETE;
}

/* --heap-baseline OLD.dmp: what grew since that dump of the same process
 * (heap-diff, src/heap/heap_diff.c): the totals and the top sizes and
 * stacks by bytes grown. */
static enum ich_status sec_growth(struct ich_dump *dump, struct ich_report *r)
{
	(void)dump;
	struct uctx *u = r->ctx;
	if (!heaps_walked(r))
		return ICH_STATUS_SKIPPED;
	struct ich_dump *od = NULL;
	struct ich_heaps *oh = NULL;
	struct ich_error *err = ich_dump_open(r->opts->heap_baseline, &od);
	if (!err)
		err = ich_heaps_open(od, r->opts->build, &oh);
	struct ich_diff df;
	if (!err)
		err = ich_heap_diff(oh, u->h, &df);
	if (err) {
		if (r->text)
			fprintf(r->text, "--heap-baseline %s: %s\n", r->opts->heap_baseline, err->message);
		if (r->json)
			ich_json_error(r->json, "error", err);
		ich_error_destroy(err);
		ich_heaps_close(oh);
		ich_dump_close(od);
		return ICH_STATUS_FAILED;
	}
	size_t ns = df.nsizes < 5 ? df.nsizes : 5, nk = df.nstacks < 3 ? df.nstacks : 3;
	if (r->text) {
		fprintf(r->text, "since %s: busy blocks %llu -> %llu, bytes %llu -> %llu (%+lld)\n", r->opts->heap_baseline,
			P(df.old_count), P(df.new_count), P(df.old_bytes), P(df.new_bytes),
			(long long)(df.new_bytes - df.old_bytes));
		for (size_t i = 0; i < ns && df.sizes[i].bytes_growth > 0; i++)
			fprintf(r->text, "    size %llx: %llu -> %llu blocks, %+lld bytes\n", P(df.sizes[i].size),
				P(df.sizes[i].old_count), P(df.sizes[i].new_count), (long long)df.sizes[i].bytes_growth);
		for (size_t i = 0; i < nk && df.stacks[i].bytes_growth > 0; i++) {
			fprintf(r->text, "    stack %zu: %llu -> %llu blocks, %+lld bytes; frames", i + 1,
				P(df.stacks[i].old_count), P(df.stacks[i].new_count), (long long)df.stacks[i].bytes_growth);
			for (unsigned k = 0; k < df.stacks[i].stack.depth && k < 8; k++)
				fprintf(r->text, " %llx", P(df.stacks[i].stack.frames[k]));
			fputc('\n', r->text);
		}
	}
	if (r->json) {
		/* heap-diff --json's records: the totals, the top rows by bytes grown */
		ich_json_string(r->json, "baseline", r->opts->heap_baseline);
		ich_json_diff_totals(r->json, &df);
		ich_json_begin_array(r->json, "sizes");
		for (size_t i = 0; i < ns; i++)
			ich_json_diff_row(r->json, dump, &df.sizes[i]);
		ich_json_end_array(r->json);
		ich_json_begin_array(r->json, "stacks");
		for (size_t i = 0; i < nk; i++)
			ich_json_diff_row(r->json, dump, &df.stacks[i]);
		ich_json_end_array(r->json);
	}
	bool partial = df.old_heaps_skipped || df.new_heaps_skipped;
	ich_heap_diff_free(&df);
	ich_heaps_close(oh);
	ich_dump_close(od);
	return partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
}

void ich_report_user_sections(struct ich_dump *dump, struct ich_report *r)
{
	struct uctx u = { 0 };
	u.err = ich_heaps_open(dump, r->opts->build, &u.h);
	if (u.err)
		ich_report_note(r, "heaps: %s", u.err->message);
	r->ctx = &u;
	ich_report_section(r, "Heaps (!heap -s)", "heaps", sec_heaps, dump);
	ich_report_section(r, "Top allocations by total size (!heap -stat, all heaps)", "heap_stat", sec_stat, dump);
	ich_report_section(r, "Heap validation (!heap -v)", "heap_validation", sec_validate, dump);
	if (r->opts->heap_baseline)
		ich_report_section(r, "Heap growth since the baseline dump (heap-diff)", "heap_growth", sec_growth, dump);
	/* --build N that did not get its own row is said on stderr, -v or not
	 * (the run would otherwise look like it used build N's layout). */
	for (size_t i = 0; u.h && r->opts->build && i < ich_heaps_count(u.h); i++) {
		const struct ich_heap *hp = ich_heaps_get(u.h, i);
		if (!hp->layout || (!hp->layout_fallback && hp->layout->build_min <= r->opts->build))
			continue;
		char msg[200];
		snprintf(msg, sizeof(msg), "--build %u: heap 0x%" PRIx64 " uses the layout row \"%s\" (from build %u)%s",
			 r->opts->build, hp->address, hp->layout->label, hp->layout->build_min,
			 hp->layout_fallback ? ", the row for that build did not fit" : "");
		ich_report_note(r, "%s", msg);
		if (!r->opts->quiet)
			fprintf(stderr, "icpheap analyze: note: %s: %s\n", ich_dump_path(dump), msg);
		break;
	}
	/* The section's own status and, without heap data, what to do. */
	static const char capture[] = "capture a full-memory dump (procdump -ma PID, or WER LocalDumps DumpType=2)";
	if (u.walked) {
		r->heap_status = r->partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
	} else if ((u.err && u.err->code == ICH_ERR_FAULT) ||
		   (u.h && u.not_captured && u.not_captured == ich_heaps_count(u.h))) {
		r->heap_status = ICH_STATUS_NO_DATA;
		snprintf(r->advice, sizeof(r->advice), "the dump does not hold the process heaps; %s", capture);
	} else {
		r->heap_status = ICH_STATUS_FAILED;
		if (u.err && u.err->code == ICH_ERR_LAYOUT)
			snprintf(r->advice, sizeof(r->advice),
				 "no heap layout for this Windows build (icpheap types lists them; --layout FILE adds one)");
		else
			snprintf(r->advice, sizeof(r->advice), "the heaps could not be read (see the notes); %s", capture);
	}
	r->ctx = NULL;
	if (u.h)
		ich_heap_maps_free(u.maps, ich_heaps_count(u.h));
	ich_heaps_close(u.h);
	ich_error_destroy(u.err);
	ich_error_destroy(u.stat_err);
	free(u.rows);
}
