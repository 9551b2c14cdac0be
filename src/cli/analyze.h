/* SPDX-License-Identifier: MIT */
/* `icpheap analyze`: the per-dump report (analyze_report.c), the batch
 * driver (cmd_analyze.c) that runs it for many dumps in isolated processes,
 * --fail-on and --baseline (analyze_failon.c) and the whole-batch formats
 * (analyze_formats.c: JSON document, SARIF, JUnit, Markdown). */
#ifndef ICPHEAP_CLI_ANALYZE_H
#define ICPHEAP_CLI_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <icpheap/triage.h>

#include "cli/cli.h"

/* Schema names of the documents analyze writes (schemas/ in the repo). */
#define ICH_SCHEMA_ANALYZE "icpheap.analyze/3"		/* --json: the whole batch */
#define ICH_SCHEMA_ANALYZE_DUMP "icpheap.analyze.dump/3"	/* one dump: --jsonl lines */

enum ich_out_mode {
	ICH_OUT_TEXT, ICH_OUT_JSON, ICH_OUT_JSONL, ICH_OUT_SARIF, ICH_OUT_JUNIT,
	ICH_OUT_MARKDOWN, ICH_OUT_HTML,
};

#define ICH_FAIL_MAX_CODES 16

/* What turns a finding into exit code 1 (--fail-on; the list replaces the
 * default). */
struct ich_fail_on {
	bool corruption;		/* heap-corruption findings */
	bool exception_any;		/* every exception finding */
	uint32_t exception_codes[ICH_FAIL_MAX_CODES];	/* or these codes */
	size_t nexception_codes;
	bool bugcheck;			/* a kernel dump's bug check */
	bool no_heap_data;		/* a dump without usable heap memory */
	bool icp_queue;			/* an IoCompletion queue deeper than ... */
	bool icp_queue_ge;		/* >= instead of > */
	uint64_t icp_queue_max;
	bool heap_committed;		/* a heap committing more than ... bytes */
	bool heap_committed_ge;
	uint64_t heap_committed_max;
};

/* The default: what a heap and I/O-completion triage tool promises. */
void ich_fail_on_default(struct ich_fail_on *f);
/* Parse a --fail-on list; on error writes the message (with the accepted
 * forms) to err and returns false. */
bool ich_fail_on_parse(const char *spec, struct ich_fail_on *f, char *err, size_t errlen);
/* Does the list name this finding? */
bool ich_fail_on_matches(const struct ich_fail_on *f, const struct ich_finding *fd);
/* Thresholds: is v over the icp-queue / heap-committed limit? */
bool ich_fail_on_over(bool enabled, bool ge, uint64_t max, uint64_t v);

/* --baseline FILE: fingerprints of a previous JSONL (or JSON) report. */
struct ich_baseline {
	char (*fp)[17];
	size_t n;
};
struct ich_error *ich_baseline_load(const char *path, struct ich_baseline *b);
bool ich_baseline_has(const struct ich_baseline *b, const char *fp);
void ich_baseline_free(struct ich_baseline *b);

struct ich_analyze_opts {
	enum ich_out_mode mode;		/* TEXT, JSON (one object), JSONL */
	bool verbose;
	bool quiet;
	uint32_t build;			/* --build override, 0 = from the dump */
	struct ich_fail_on fail_on;
	const struct ich_baseline *baseline;
	unsigned stat_top;		/* rows of the -stat table (10) */
	const char *heap_baseline;	/* --heap-baseline OLD.dmp: heap growth section */
	unsigned processes;		/* --processes: kernel dumps, processes shown heap by
					 * heap (0 = 10, UINT32_MAX = all) */
};

#define ICH_OUTCOME_MAX_FINDINGS 16

/* The outcome of one dump: everything the batch summary and the whole-
 * batch formats need (a fixed-size record: the child process writes it
 * to a file the parent reads). */
struct ich_analyze_outcome {
	int exit_code;			/* 0, 1, 3 or 4 */
	enum ich_verdict verdict;
	enum ich_status heap_status;	/* the heap (or kernel-object) section */
	bool has_heap_status;
	char kind[48];			/* "minidump", "kernel bitmap dump", ... */
	char build[16];
	char image[ICH_MODULE_NAME_MAX];
	char top[256];			/* top finding, or why unreadable */
	char advice[200];		/* what to do next (no-heap-data) */
	double seconds;
	struct ich_crash crash;
	size_t nfindings, nfindings_total;
	struct ich_finding findings[ICH_OUTCOME_MAX_FINDINGS];
};

/* Analyse one dump and write its report to out in opts->mode (TEXT or a
 * JSON object for JSON/JSONL; nothing for the whole-batch formats).
 * Never aborts on a bad dump: the report says what could not be done. */
void ich_analyze_one(const char *path, const struct ich_analyze_opts *opts,
		     FILE *out, struct ich_analyze_outcome *outcome);

/* Per-dump exit code from the outcome (verdict, findings that fail). */
int ich_analyze_exit_code(const struct ich_analyze_outcome *o);

/* Whole-batch renderers (analyze_formats.c). */
struct ich_batch_item {
	const char *path;
	const struct ich_analyze_outcome *out;
};
void ich_render_sarif(FILE *f, const struct ich_batch_item *items, size_t n);
void ich_render_junit(FILE *f, const struct ich_batch_item *items, size_t n);
void ich_render_markdown(FILE *f, const struct ich_batch_item *items, size_t n, int exit_code);

/* --format html (analyze_html.c): the page around the per-dump sections
 * the children write (ich_analyze_one in HTML mode). */
void ich_render_html_head(FILE *f);
void ich_render_html_tail(FILE *f, const struct ich_batch_item *items, size_t n, int exit_code);

/* --processes N|all (analyze_process.c). */
bool ich_analyze_parse_processes(const char *s, unsigned *out);

/* Human-readable size ("1.5 MiB", "412 bytes"). */
const char *ich_human_size(uint64_t bytes, char *buf, size_t n);

#endif
