/* SPDX-License-Identifier: MIT */
/* Sections of the analyze report: shared state and the section runner. */
#ifndef ICPHEAP_CLI_ANALYZE_SECTIONS_H
#define ICPHEAP_CLI_ANALYZE_SECTIONS_H

#include <icpheap/dump.h>
#include <icpheap/triage.h>

#include "cli/analyze.h"
#include "core/json.h"

#define ICH_REPORT_MAX_NOTES 64

struct ich_report {
	const struct ich_analyze_opts *opts;
	FILE *text;			/* text mode: where the section writes */
	struct ich_json *json;		/* JSON mode: inside the section object */
	FILE *html;			/* HTML mode: heap maps and tables */
	char notes[ICH_REPORT_MAX_NOTES][200];	/* what could not be analysed */
	size_t nnotes;
	struct ich_finding findings[ICH_REPORT_MAX_NOTES];	/* kind, severity, where */
	size_t nfindings;
	const char *image;		/* process image (fingerprints) */
	const struct ich_crash *crash;	/* the dump's crash record (ranking) */
	bool partial;
	/* The heap (user) or kernel-object section's own status, and what to
	 * do when the dump lacks the memory. */
	enum ich_status heap_status;
	char advice[200];
	void *ctx;			/* the kind-specific model (heaps, kernel) */
};

typedef enum ich_status ich_section_fn(struct ich_dump *dump, struct ich_report *r);

void ich_report_note(struct ich_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add a finding of kind (ICH_FINDING_*) with a printf message; the caller
 * fills the location fields of the returned record, then calls
 * ich_report_finding_done with the detail that identifies it (for the
 * fingerprint).  NULL when the table is full (the count still grows). */
struct ich_finding *ich_report_finding(struct ich_report *r, const char *kind,
				       enum ich_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ich_report_finding_done(struct ich_report *r, struct ich_finding *f, const char *detail);
/* Run fn as a section titled title (JSON key key), timing it. */
void ich_report_section(struct ich_report *r, const char *title, const char *key,
			ich_section_fn *fn, struct ich_dump *dump);

/* analyze_html.c: one heap's address-range map (SVG) and the top
 * allocations table, written into r->html. */
struct ich_heap;
struct ich_heap_size_stat;
struct ich_heap_map;
void ich_html_heap_map(FILE *f, const struct ich_heap *heap, const struct ich_heap_map *m);
void ich_html_top_table(FILE *f, const struct ich_heap_size_stat *rows, size_t n, uint64_t busy);
void ich_html_text(FILE *f, const char *s);
/* The dump's section: verdict, findings, crash and stack, then maps. */
void ich_html_dump_section(FILE *f, const char *path, const struct ich_analyze_outcome *o,
			   const char *maps);

/* analyze_user.c / analyze_kernel.c */
void ich_report_user_sections(struct ich_dump *dump, struct ich_report *r);
void ich_report_kernel_sections(struct ich_dump *dump, struct ich_report *r);
/* analyze_process.c: the heaps of every process of a kernel dump. */
struct ich_kernel;
void ich_report_process_heaps(struct ich_dump *dump, struct ich_report *r, struct ich_kernel *k);

#endif
