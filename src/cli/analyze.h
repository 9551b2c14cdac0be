/* SPDX-License-Identifier: MIT */
/* `icpheap analyze`: the per-dump report (analyze_report.c) and the batch
 * driver (cmd_analyze.c) that runs it for many dumps in isolated processes. */
#ifndef ICPHEAP_CLI_ANALYZE_H
#define ICPHEAP_CLI_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"

enum ich_out_mode { ICH_OUT_TEXT, ICH_OUT_JSON, ICH_OUT_JSONL };

/* Thresholds that turn observations into findings (exit code 1). */
struct ich_fail_on {
	bool corruption;		/* any heap corruption / inconsistency */
	bool icp_queue;			/* an IoCompletion queue deeper than ... */
	uint64_t icp_queue_max;
	bool heap_committed;		/* a heap committing more than ... bytes */
	uint64_t heap_committed_max;
};

struct ich_analyze_opts {
	enum ich_out_mode mode;
	bool verbose;
	uint32_t build;			/* --build override, 0 = from the dump */
	struct ich_fail_on fail_on;
	unsigned stat_top;		/* rows of the -stat table (10) */
};

/* One-line outcome of a dump, for the batch summary table. */
struct ich_analyze_outcome {
	int exit_code;			/* 0, 1, 3 or 4 */
	char kind[48];			/* "minidump", "kernel bitmap dump", ... */
	char build[16];
	char verdict[16];		/* "ok", "findings", "unreadable", "crashed" */
	char top[224];			/* top finding, or why unreadable */
	double seconds;
};

/* Analyse one dump and write its report to out in opts->mode.  Never
 * aborts on a bad dump: the report says what could not be done. */
void ich_analyze_one(const char *path, const struct ich_analyze_opts *opts,
		     FILE *out, struct ich_analyze_outcome *outcome);

#endif
