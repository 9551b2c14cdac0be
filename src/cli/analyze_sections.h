/* SPDX-License-Identifier: MIT */
/* Sections of the analyze report: shared state and the section runner. */
#ifndef ICPHEAP_CLI_ANALYZE_SECTIONS_H
#define ICPHEAP_CLI_ANALYZE_SECTIONS_H

#include <icpheap/dump.h>

#include "cli/analyze.h"
#include "core/json.h"

#define ICH_REPORT_MAX_NOTES 64

enum ich_section_status {
	ICH_SECTION_COMPLETE,
	ICH_SECTION_PARTIAL,
	ICH_SECTION_FAILED,
	ICH_SECTION_SKIPPED,
};

struct ich_report {
	const struct ich_analyze_opts *opts;
	FILE *text;			/* text mode: where the section writes */
	struct ich_json *json;		/* JSON mode: inside the section object */
	char notes[ICH_REPORT_MAX_NOTES][200];	/* what could not be analysed */
	size_t nnotes;
	char findings[ICH_REPORT_MAX_NOTES][200];	/* over the thresholds */
	size_t nfindings;
	bool partial;
	bool unanalysable;		/* nothing of substance could be done */
	void *ctx;			/* the kind-specific model (heaps, kernel) */
};

typedef enum ich_section_status ich_section_fn(struct ich_dump *dump, struct ich_report *r);

const char *ich_section_status_name(enum ich_section_status s);
void ich_report_note(struct ich_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ich_report_finding(struct ich_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Run fn as a section titled title (JSON key key), timing it. */
void ich_report_section(struct ich_report *r, const char *title, const char *key,
			ich_section_fn *fn, struct ich_dump *dump);

/* analyze_user.c / analyze_kernel.c */
void ich_report_user_sections(struct ich_dump *dump, struct ich_report *r);
void ich_report_kernel_sections(struct ich_dump *dump, struct ich_report *r);

#endif
