/* SPDX-License-Identifier: MIT */
/*
 * icpheap heap-diff [--json] [-n MAX] OLD.dmp NEW.dmp — what grew between
 * two dumps of one process (UMDH's comparison without its logs): busy
 * blocks per requested size and per allocation stack, each with the count
 * and bytes in each dump and the growth, sorted by bytes grown.  No WinDbg
 * command prints this; the layout is icpheap's own (man page).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/dump.h>
#include <icpheap/heapdiff.h>

#include "cli/cli.h"
#include "cli/parse_options.h"
#include "cli/heap_ext.h"
#include "core/json.h"
#include "cli/records.h"

#define P(x) (unsigned long long)(x)

struct diff_opts {
	unsigned max;		/* -n: rows per table (0: all) */
};

static void diff_init(void *opts)
{
	((struct diff_opts *)opts)->max = 20;
}

static const struct ich_option diff_options[] = {
	ICH_OPTION_UINT('n', NULL, struct diff_opts, max, "MAX", 0, 0,
			"rows shown per table (default 20, 0 = all)"),
	ICH_OPTION_END,
};

/* a signed growth in hex, as the byte columns: "+110", "-20", "0" */
static const char *sx(int64_t v, char *buf, size_t n)
{
	if (v > 0)
		snprintf(buf, n, "+%llx", P(v));
	else if (v < 0)
		snprintf(buf, n, "-%llx", P(-(uint64_t)v));
	else
		snprintf(buf, n, "0");
	return buf;
}

static void text_row(struct heap_ext *x, const struct ich_diff_row *r)
{
	char a[32], b[32];
	if (r->by_stack)
		printf("%12s bytes %9s blocks  (%llx blocks, %llx bytes -> %llx blocks, %llx bytes)\n",
		       sx(r->bytes_growth, a, sizeof(a)), sx(r->count_growth, b, sizeof(b)), P(r->old_count),
		       P(r->old_bytes), P(r->new_count), P(r->new_bytes));
	else
		printf("%10llx %10llx %12llx %10llx %12llx %10s %14s\n", P(r->size), P(r->old_count),
		       P(r->old_bytes), P(r->new_count), P(r->new_bytes), sx(r->count_growth, a, sizeof(a)),
		       sx(r->bytes_growth, b, sizeof(b)));
	if (r->by_stack)
		heap_print_stack(x, &r->stack, true);
}

static int cmd_heap_diff(void *opts, int nargs, char **paths, const struct ich_cli_global *g)
{
	(void)nargs;	/* exactly 2 (min_args = max_args) */
	bool json = g->json;
	unsigned long max = ((const struct diff_opts *)opts)->max;
	struct ich_dump *d[2] = { NULL, NULL };
	struct ich_heaps *h[2] = { NULL, NULL };
	int rc = ICH_EXIT_OK;
	for (int k = 0; k < 2 && rc == ICH_EXIT_OK; k++) {
		struct ich_error *err = ich_dump_open(paths[k], &d[k]);
		if (!err)
			err = ich_heaps_open(d[k], g->build, &h[k]);
		if (err) {
			rc = ich_cli_fail(err);
			if (json)
				ich_json_failure(NULL, ICH_SCHEMA_HEAP_DIFF, paths[k], rc);
		}
	}
	struct ich_diff df;
	if (rc == ICH_EXIT_OK) {
		struct ich_error *err = ich_heap_diff(h[0], h[1], &df);
		if (err) {
			rc = ich_cli_fail(err);
			if (json)
				ich_json_failure(NULL, ICH_SCHEMA_HEAP_DIFF, paths[1], rc);
		}
	}
	if (rc == ICH_EXIT_OK) {
		struct ich_json js;
		struct heap_ext x = { d[1], h[1], NULL, ich_heaps_ptr_size(h[1]) == 8 ? 16 : 8,
				      ich_heaps_ptr_size(h[1]) == 8 ? 16u : 8u, g->verbose, false, 0, false, 0, false };
		size_t ns = max && df.nsizes > max ? max : df.nsizes;
		size_t nk = max && df.nstacks > max ? max : df.nstacks;
		if (json) {
			ich_json_init(&js, stdout, true);
			x.j = &js;
			ich_json_begin_object(x.j, NULL);
			ich_json_string(x.j, "schema", ICH_SCHEMA_HEAP_DIFF);
			ich_json_string(x.j, "old", paths[0]);
			ich_json_string(x.j, "new", paths[1]);
			ich_json_diff_totals(x.j, &df);
			ich_json_begin_array(x.j, "sizes");
			for (size_t i = 0; i < ns; i++)
				ich_json_diff_row(x.j, d[1], &df.sizes[i]);
			ich_json_end_array(x.j);
			ich_json_begin_array(x.j, "stacks");
			for (size_t i = 0; i < nk; i++)
				ich_json_diff_row(x.j, d[1], &df.stacks[i]);
			ich_json_end_array(x.j);
			ich_json_end_object(x.j);
			ich_json_finish(x.j);
		} else {
			printf("heap-diff %s -> %s\n", paths[0], paths[1]);
			char a[32], b[32];
			printf("busy blocks: %llx (%llx bytes) -> %llx (%llx bytes): %s blocks, %s bytes (hex)\n",
			       P(df.old_count), P(df.old_bytes), P(df.new_count), P(df.new_bytes),
			       sx((int64_t)(df.new_count - df.old_count), a, sizeof(a)),
			       sx((int64_t)(df.new_bytes - df.old_bytes), b, sizeof(b)));
			if (df.old_heaps_skipped || df.new_heaps_skipped)
				printf("(partial: %zu heaps of the old dump and %zu of the new could not be walked in full)\n",
				       df.old_heaps_skipped, df.new_heaps_skipped);
			printf("\nBy allocation size (%zu of %zu sizes, by bytes grown):\n", ns, df.nsizes);
			printf("      size  old count    old bytes  new count    new bytes     +count         +bytes\n");
			for (size_t i = 0; i < ns; i++)
				text_row(&x, &df.sizes[i]);
			if (df.nstacks) {
				printf("\nBy allocation stack (%zu of %zu stacks, by bytes grown):\n", nk, df.nstacks);
				for (size_t i = 0; i < nk; i++)
					text_row(&x, &df.stacks[i]);
			} else {
				printf("\n(no allocation stacks in these dumps: no page heap traces, no +ust database)\n");
			}
		}
		if (df.new_bytes > df.old_bytes)
			rc = ICH_EXIT_FINDINGS;
		ich_heap_diff_free(&df);
	}
	for (int k = 0; k < 2; k++) {
		ich_heaps_close(h[k]);
		ich_dump_close(d[k]);
	}
	return rc;
}

const struct ich_cli_command ich_cmd_heap_diff = {
	.name = "heap-diff",
	.summary = "heap growth between two dumps of one process (per size and per stack)",
	.synopsis = "[--json] [-n MAX] OLD.dmp NEW.dmp",
	.description = "  Busy heap blocks of two dumps of one process compared per requested size\n"
		       "  and per allocation stack (page heap or +ust traces): count and bytes in\n"
		       "  each, growth, sorted by bytes grown.  Exit status 1 when the busy bytes grew.\n",
	.options = diff_options,
	.min_args = 2,
	.max_args = 2,
	.args_missing = "exactly two dumps are needed (OLD.dmp NEW.dmp)",
	.opts_size = sizeof(struct diff_opts),
	.init = diff_init,
	.run = cmd_heap_diff,
};
