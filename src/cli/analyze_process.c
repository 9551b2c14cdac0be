/* SPDX-License-Identifier: MIT */
/*
 * analyze on complete / kernel+user kernel dumps: the heaps of every
 * process (pid, image, heaps, committed, busy bytes, problems), sorted by
 * committed bytes, the top --processes N with one row per heap.  Every
 * process is ranked by the committed bytes its heap headers give
 * (ich_heap_committed: segment headers / MemStats, no block walk); only
 * the top N are walked in full (busy bytes, problems).  Each
 * process's heaps are read through its own address space
 * (ich_kernel_process_heaps, src/kernel/process_heaps.c); --fail-on
 * heap-committed>SIZE applies per process.  A kernel-only dump says so in
 * one line.  Hooked from analyze_kernel.c (ich_report_process_heaps).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/heap.h>
#include <icpheap/kernel.h>

#include "cli/analyze_sections.h"
#include "cli/records.h"

struct prow {
	const struct ich_kprocess *p;
	bool full;		/* every heap walked (busy bytes, problems known) */
	size_t from_headers;	/* heaps whose committed came from their headers */
	size_t nheaps, walked;
	uint64_t committed, busy_bytes, busy_count;
	size_t problems, unreadable;
	bool partial;
	char error[200];	/* heaps not readable: why */
	const char *error_code;	/* ... and its ich_error_code_name */
	struct hrow { uint64_t address, committed, busy_bytes; size_t problems, unreadable; bool partial; } *h;
};

struct pctx {
	struct ich_kernel *k;
	struct prow *rows;
	size_t nrows;
};

static int by_committed(const void *a, const void *b)
{
	const struct prow *x = a, *y = b;
	if (x->committed != y->committed)
		return x->committed < y->committed ? 1 : -1;
	return x->p->pid < y->p->pid ? -1 : x->p->pid > y->p->pid;
}

/* One process's heaps: with full, walk every heap for its totals;
 * without, only the committed bytes (from the heap headers where they
 * say it, ich_heap_committed). */
static void process_row(struct ich_kernel *k, struct prow *row, uint32_t build, bool full)
{
	struct ich_heaps *hs;
	free(row->h);
	const struct ich_kprocess *p = row->p;
	*row = (struct prow){ .p = p, .full = full };
	struct ich_error *err = ich_kernel_process_heaps(k, row->p, build, &hs);
	if (err) {
		/* the table names the process and the dump already */
		const char *m = err->message, *at = strstr(m, ich_dump_path(ich_kernel_dump(k)));
		if (at)
			m = at + strlen(ich_dump_path(ich_kernel_dump(k)));
		while (*m == ':' || *m == ' ')
			m++;
		snprintf(row->error, sizeof(row->error), "%s", m);
		row->error_code = ich_error_code_name(err->code);
		ich_error_destroy(err);
		return;
	}
	row->nheaps = ich_heaps_count(hs);
	row->h = calloc(row->nheaps ? row->nheaps : 1, sizeof(*row->h));
	for (size_t i = 0; i < row->nheaps; i++) {
		struct ich_heap *hp = ich_heaps_get(hs, i);
		struct hrow *hr = row->h ? &row->h[i] : NULL;
		if (hr)
			hr->address = hp->address;
		if (hp->status != ICH_HEAP_OK) {
			row->partial = true;
			continue;
		}
		if (!full) {
			uint64_t c;
			enum ich_commit_source src;
			err = ich_heap_committed(hs, hp, &c, &src);
			if (err) {
				row->partial = true;
				ich_error_destroy(err);
				continue;
			}
			row->committed += c;
			row->from_headers += src == ICH_COMMIT_HEADERS;
			if (hr)
				hr->committed = c;
			continue;
		}
		err = ich_heap_walk(hs, hp, NULL, NULL);
		if (err) {
			row->partial = true;
			row->problems++;
			ich_error_destroy(err);
			continue;
		}
		row->walked++;
		const struct ich_heap_totals *t = &hp->totals;
		row->committed += t->committed;
		row->busy_bytes += t->busy_bytes;
		row->busy_count += t->busy_count;
		row->problems += hp->nproblems;
		row->unreadable += hp->nunreadable;
		row->partial |= hp->partial;
		if (hr)
			*hr = (struct hrow){ hp->address, t->committed, t->busy_bytes, hp->nproblems,
					     hp->nunreadable, hp->partial };
	}
	ich_heaps_close(hs);
}

static enum ich_status sec_process_heaps(struct ich_dump *dump, struct ich_report *r)
{
	struct pctx *c = r->ctx;
	struct ich_kernel *k = c->k;
	const char *why;
	if (!ich_kernel_user_pages(k, &why)) {
		if (r->text)
			fprintf(r->text, "no user-mode pages in this dump (%s): process heaps need a complete or kernel+user memory dump\n", why);
		if (r->json)
			ich_json_error_obj(r->json, "error", ich_error_code_name(ICH_ERR_FAULT), why);
		return ICH_STATUS_SKIPPED;
	}
	size_t n = ich_kernel_process_count(k);
	c->rows = calloc(n ? n : 1, sizeof(*c->rows));
	if (!c->rows)
		return ICH_STATUS_FAILED;
	unsigned top = r->opts->processes ? r->opts->processes : 10;
	bool all = top == UINT32_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct ich_kprocess *p = ich_kernel_process(k, i);
		if (!p->peb && !p->peb32)
			continue;	/* System, Registry, minimal processes: no user heaps */
		struct prow *row = &c->rows[c->nrows++];
		row->p = p;
		process_row(k, row, r->opts->build, all);
	}
	qsort(c->rows, c->nrows, sizeof(*c->rows), by_committed);
	if (!all) {
		/* the top N by the headers' committed bytes, walked in full;
		 * their walked figures re-rank them among themselves */
		size_t nfull = c->nrows < top ? c->nrows : top;
		for (size_t i = 0; i < nfull; i++)
			process_row(k, &c->rows[i], r->opts->build, true);
		qsort(c->rows, nfull, sizeof(*c->rows), by_committed);
	}
	size_t failed = 0, partial = 0;
	const struct ich_fail_on *fo = &r->opts->fail_on;
	char a[32], b[32];
	if (r->text)
		fprintf(r->text, "%8s  %-15s  %5s  %11s  %11s  %8s  %s\n", "Pid", "Image", "Heaps",
			"Committed", "Busy", "Problems", "");
	if (r->json)
		ich_json_begin_array(r->json, "processes");
	for (size_t i = 0; i < c->nrows; i++) {
		struct prow *row = &c->rows[i];
		const struct ich_kprocess *p = row->p;
		failed += row->error[0] != 0;
		partial += row->partial;
		bool detail = top == UINT32_MAX || i < top;
		if (r->text) {
			if (row->error[0])
				fprintf(r->text, "%8u  %-15s  %5s  %11s  %11s  %8s  %s\n", p->pid, p->image, "-", "-", "-", "-",
					row->error);
			else if (!row->full)	/* below the top N: committed only */
				fprintf(r->text, "%8u  %-15s  %5zu  %11s  %11s  %8s  %snot walked%s\n", p->pid, p->image,
					row->nheaps, ich_human_size(row->committed, a, sizeof(a)), "-", "-",
					p->wow64_process ? "WOW64 " : "", row->partial ? " (partial)" : "");
			else
				fprintf(r->text, "%8u  %-15s  %5zu  %11s  %11s  %8zu  %s%s\n", p->pid, p->image, row->nheaps,
					ich_human_size(row->committed, a, sizeof(a)),
					ich_human_size(row->busy_bytes, b, sizeof(b)), row->problems,
					p->wow64_process ? "WOW64 " : "",
					row->unreadable ? "partial: unreadable pages" : row->partial ? "partial" : "");
			if (detail && !row->error[0] && row->full)
				for (size_t h = 0; h < row->nheaps && row->h; h++)
					fprintf(r->text, "%8s  heap %0*" PRIx64 "  committed %s  busy %s  problems %zu%s\n", "",
						p->wow64_process || ich_dump_arch(dump) == ICH_ARCH_X86 ? 8 : 16,
						row->h[h].address, ich_human_size(row->h[h].committed, a, sizeof(a)),
						ich_human_size(row->h[h].busy_bytes, b, sizeof(b)), row->h[h].problems,
						row->h[h].unreadable ? "  (unreadable pages)" : "");
		}
		if (r->json) {
			ich_json_begin_object(r->json, NULL);
			ich_json_u64(r->json, "pid", p->pid);
			ich_json_string(r->json, "image", p->image);
			ich_json_addr(r->json, "eprocess", p->eprocess);
			ich_json_bool(r->json, "wow64", p->wow64_process != 0);
			if (row->error[0]) {
				ich_json_error_obj(r->json, "error", row->error_code, row->error);
			} else if (!row->full) {
				ich_json_u64(r->json, "heaps", row->nheaps);
				ich_json_u64(r->json, "committed", row->committed);
				ich_json_bool(r->json, "walked", false);
				ich_json_u64(r->json, "committed_from_headers", row->from_headers);
				ich_json_bool(r->json, "partial", row->partial);
			} else {
				ich_json_u64(r->json, "heaps", row->nheaps);
				ich_json_u64(r->json, "committed", row->committed);
				ich_json_bool(r->json, "walked", true);
				ich_json_u64(r->json, "busy_count", row->busy_count);
				ich_json_u64(r->json, "busy_bytes", row->busy_bytes);
				ich_json_u64(r->json, "problems", row->problems);
				ich_json_u64(r->json, "unreadable_ranges", row->unreadable);
				ich_json_bool(r->json, "partial", row->partial);
				if (detail && row->h) {
					ich_json_begin_array(r->json, "heap_rows");
					for (size_t h = 0; h < row->nheaps; h++) {
						ich_json_begin_object(r->json, NULL);
						ich_json_addr(r->json, "address", row->h[h].address);
						ich_json_u64(r->json, "committed", row->h[h].committed);
						ich_json_u64(r->json, "busy_bytes", row->h[h].busy_bytes);
						ich_json_u64(r->json, "problems", row->h[h].problems);
						ich_json_u64(r->json, "unreadable_ranges", row->h[h].unreadable);
						ich_json_end_object(r->json);
					}
					ich_json_end_array(r->json);
				}
			}
			ich_json_end_object(r->json);
		}
		if (!row->error[0] &&
		    ich_fail_on_over(fo->heap_committed, fo->heap_committed_ge, fo->heap_committed_max, row->committed)) {
			struct ich_finding *f = ich_report_finding(r, ICH_FINDING_HEAP_COMMITTED, ICH_SEV_WARNING,
				"process %u (%s) commits %s in %zu heaps (threshold %s%s)", p->pid, p->image,
				ich_human_size(row->committed, a, sizeof(a)), row->nheaps,
				fo->heap_committed_ge ? ">=" : ">", ich_human_size(fo->heap_committed_max, b, sizeof(b)));
			if (f) {
				f->count = row->committed;
				/* the image, not the pid, identifies it across runs */
				char d[64];
				snprintf(d, sizeof(d), "process %s", p->image);
				ich_report_finding_done(r, f, d);
			}
		}
		if (row->full && row->problems) {
			struct ich_finding *f = ich_report_finding(r, ICH_FINDING_HEAP_CORRUPTION, ICH_SEV_ERROR,
				"process %u (%s): %zu heap problems", p->pid, p->image, row->problems);
			if (f) {
				f->count = row->problems;
				char d[64];
				snprintf(d, sizeof(d), "process %s heaps", p->image);
				ich_report_finding_done(r, f, d);
			}
		}
	}
	if (r->json)
		ich_json_end_array(r->json);
	if (r->text)
		fprintf(r->text, "%zu processes with a PEB; %zu without readable heaps; %zu partial; %s walked and shown per heap%s\n",
			c->nrows, failed, partial, all ? "all" : "the top by committed bytes",
			all || c->nrows <= top ? "" : " (the others ranked by their heap headers' committed bytes)");
	for (size_t i = 0; i < c->nrows; i++)
		free(c->rows[i].h);
	free(c->rows);
	c->rows = NULL;
	return failed || partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
}

void ich_report_process_heaps(struct ich_dump *dump, struct ich_report *r, struct ich_kernel *k)
{
	if (!k)
		return;
	struct pctx c = { k, NULL, 0 };
	void *saved = r->ctx;
	r->ctx = &c;
	ich_report_section(r, "Process heaps", "process_heaps", sec_process_heaps, dump);
	r->ctx = saved;
}

bool ich_analyze_parse_processes(const char *s, unsigned *out)
{
	if (!strcmp(s, "all")) {
		*out = UINT32_MAX;
		return true;
	}
	uint64_t v;
	if (!ich_cli_parse_u64(s, false, &v) || v == 0 || v >= UINT32_MAX)
		return false;
	*out = (unsigned)v;
	return true;
}
