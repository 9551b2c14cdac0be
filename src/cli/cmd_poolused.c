/* SPDX-License-Identifier: MIT */
/*
 * icpheap poolused [-t TAG] [-f FLAGS] [--json] DUMP...  — pool usage by tag
 * from a kernel dump's pool tracker tables, as WinDbg's `!poolused [Flags
 * [TagString]]` prints it.  The column format and the flags follow the
 * !poolused documentation (learn.microsoft.com debuggercmds/-poolused: bit
 * 0 verbose, bit 1 sort by nonpaged, bit 2 sort by paged, its sample
 * output) and the old kdexts !poolused source (find_string
 * "DECLARE_API( poolused )"; read for the format, nothing copied).
 * Without pooltag.txt, no tag description follows the numbers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/dump.h>
#include <icpheap/kernel.h>
#include <icpheap/pool.h>

#include "cli/cli.h"
#include "cli/parse_options.h"
#include "core/json.h"
#include "cli/records.h"

enum { F_VERBOSE = 1, F_NONPAGED = 2, F_PAGED = 4, F_SESSION = 8 };

struct opts {
	const struct ich_cli_global *g;
	unsigned flags;
	const char *tag;	/* NULL: every tag */
	bool verbose;		/* -v: the notes */
};

/* -f FLAGS: WinDbg's hex Flags */
static int cb_flags(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	struct opts *o = p->opts;
	char *end;
	unsigned long v = strtoul(arg, &end, 16);
	if (!*arg || *end || v > 0xF)
		return ich_parse_error(p, "-f %s: FLAGS is a hex number of bits 1, 2, 4", arg);
	o->flags = (unsigned)v;
	return -1;
}

static const struct ich_option poolused_options[] = {
	ICH_OPTION_STRING('t', NULL, struct opts, tag, "TAG",
			  "only tags matching TAG ('?' one char, '*' any; case-sensitive)"),
	ICH_OPTION_CB('f', NULL, ICH_ARG_REQUIRED, "FLAGS", cb_flags,
		      "WinDbg's Flags (hex): 1 allocs/frees/diff columns, 2 sort by\n"
		      "nonpaged bytes, 4 sort by paged bytes (2 and 4 exclude each other)", 0),
	{ 'v', NULL, ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, verbose), NULL,
	  "how the table was found (layout row, size, processors)", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	ICH_OPTION_END,
};

static unsigned sort_flags;

static int cmp_rows(const void *a, const void *b)
{
	const struct ich_pool_tag *x = *(const struct ich_pool_tag *const *)a;
	const struct ich_pool_tag *y = *(const struct ich_pool_tag *const *)b;
	if (sort_flags & F_NONPAGED && x->np_bytes != y->np_bytes)
		return x->np_bytes > y->np_bytes ? -1 : 1;
	if (sort_flags & F_PAGED && x->p_bytes != y->p_bytes)
		return x->p_bytes > y->p_bytes ? -1 : 1;
	return memcmp(x->tag, y->tag, 4);
}

static void json_pool(struct ich_json *j, const char *name, uint64_t allocs, uint64_t frees,
		      uint64_t bytes)
{
	ich_json_begin_object(j, name);
	ich_json_u64(j, "allocs", allocs);
	ich_json_u64(j, "frees", frees);
	ich_json_i64(j, "outstanding", (int64_t)(allocs - frees));
	ich_json_u64(j, "bytes", bytes);
	ich_json_end_object(j);
}

static void json_tag(struct ich_json *j, const char *name, const struct ich_pool_tag *t)
{
	ich_json_begin_object(j, name);
	ich_json_string(j, "tag", t->tag);
	ich_json_addr(j, "key", t->key);
	json_pool(j, "nonpaged", t->np_allocs, t->np_frees, t->np_bytes);
	json_pool(j, "paged", t->p_allocs, t->p_frees, t->p_bytes);
	ich_json_end_object(j);
}

/* Counts print as WinDbg's %8ld: the difference as a signed 32-bit value. */
static long l32(uint64_t v) { return (long)(int32_t)(uint32_t)v; }

/* Text: the message on stderr; JSON: also the error document. */
static int fail(struct ich_json *j, const char *path, struct ich_error *err)
{
	int rc = ich_cli_fail(err);
	return j ? ich_json_failure(j, ICH_SCHEMA_POOLUSED, path, rc) : rc;
}

static int run_one(const char *path, struct ich_json *j, void *arg)
{
	const struct opts *o = arg;
	struct ich_dump *dump;
	struct ich_error *err = ich_dump_open(path, &dump);
	if (err)
		return fail(j, path, err);
	struct ich_kernel *k;
	if ((err = ich_kernel_open(dump, o->g->build, &k))) {
		ich_dump_close(dump);
		return fail(j, path, err);
	}
	struct ich_pool_usage *u;
	if ((err = ich_kernel_pool_usage(k, &u))) {
		ich_kernel_close(k);
		ich_dump_close(dump);
		return fail(j, path, err);
	}
	/* rows: matching tags; WinDbg's summary leaves out tags using no bytes */
	const struct ich_pool_tag **rows = calloc(u->ntags ? u->ntags : 1, sizeof(*rows));
	if (!rows) {
		ich_pool_usage_free(u);
		ich_kernel_close(k);
		ich_dump_close(dump);
		return ich_cli_fail(&ich_enomem);
	}
	size_t n = 0;
	struct ich_pool_tag total = { .tag = "" };
	for (size_t i = 0; i < u->ntags; i++) {
		const struct ich_pool_tag *t = &u->tags[i];
		if (o->tag && !ich_pool_tag_match(o->tag, t->tag))
			continue;
		if (!(o->flags & F_VERBOSE) && !j && !t->np_bytes && !t->p_bytes)
			continue;
		rows[n++] = t;
		total.np_allocs += t->np_allocs;
		total.np_frees += t->np_frees;
		total.np_bytes += t->np_bytes;
		total.p_allocs += t->p_allocs;
		total.p_frees += t->p_frees;
		total.p_bytes += t->p_bytes;
	}
	sort_flags = o->flags;
	qsort(rows, n, sizeof(*rows), cmp_rows);
	const char *sort = o->flags & F_NONPAGED ? "nonpaged" : o->flags & F_PAGED ? "paged" : "tag";
	if (j) {
		ich_json_begin_object(j, NULL);
		ich_json_string(j, "schema", ICH_SCHEMA_POOLUSED);
		ich_json_string(j, "path", path);
		ich_json_string(j, "arch", ich_arch_name(ich_dump_arch(dump)));
		ich_json_u64(j, "build", ich_dump_build(dump));
		ich_json_addr(j, "kdbg_pool_track_table", u->kdbg_field);
		ich_json_addr(j, "pool_track_table_variable", u->table_variable);
		ich_json_addr(j, "pool_track_table", u->table);
		ich_json_u64(j, "entries", u->entries);
		ich_json_begin_object(j, "layout");
		ich_json_string(j, "label", u->layout->label);
		ich_json_u64(j, "entry_size", u->layout->size);
		ich_json_bool(j, "derived", u->layout->derived);
		ich_json_string(j, "source", u->layout->source);
		ich_json_end_object(j);
		ich_json_u64(j, "processors", u->processors);
		ich_json_u64(j, "tables", u->tables);
		if (u->tag_tables)
			ich_json_addr(j, "tag_tables", u->tag_tables);
		else
			ich_json_null(j, "tag_tables");
		ich_json_bool(j, "partial", u->partial);
		ich_json_u64(j, "unreadable_entries", u->unreadable_entries);
		ich_json_string(j, "sort", sort);
		if (o->tag)
			ich_json_string(j, "filter", o->tag);
		else
			ich_json_null(j, "filter");
		ich_json_begin_array(j, "tags");
		for (size_t i = 0; i < n; i++)
			json_tag(j, NULL, rows[i]);
		ich_json_end_array(j);
		ich_json_begin_object(j, "total");
		json_pool(j, "nonpaged", total.np_allocs, total.np_frees, total.np_bytes);
		json_pool(j, "paged", total.p_allocs, total.p_frees, total.p_bytes);
		ich_json_end_object(j);
		json_tag(j, "overflow", &u->overflow);
		ich_json_begin_array(j, "warnings");
		for (size_t i = 0; i < u->nwarnings; i++)
			ich_json_string(j, NULL, u->warnings[i]);
		ich_json_end_array(j);
		ich_json_end_object(j);
	} else {
		if (o->verbose)
			for (size_t i = 0; i < u->nnotes; i++)
				printf("note: %s\n", u->notes[i]);
		for (size_t i = 0; i < u->nwarnings; i++)
			printf("warning: %s\n", u->warnings[i]);
		printf("   Sorting by %s\n", o->flags & F_NONPAGED ? " NonPaged Pool Consumed"
				       : o->flags & F_PAGED ? " Paged Pool Consumed" : " Tag");
		printf("\n  Pool Used:\n");
		if (!(o->flags & F_VERBOSE)) {
			printf("            NonPaged            Paged\n");
			printf(" Tag    Allocs     Used    Allocs     Used\n");
			for (size_t i = 0; i < n; i++) {
				const struct ich_pool_tag *t = rows[i];
				printf(" %.4s %8ld %8" PRIu64 "  %8ld %8" PRIu64 "\n", t->tag,
				       l32(t->np_allocs - t->np_frees), t->np_bytes,
				       l32(t->p_allocs - t->p_frees), t->p_bytes);
			}
			printf(" TOTAL    %8ld %8" PRIu64 "  %8ld %8" PRIu64 "\n",
			       l32(total.np_allocs - total.np_frees), total.np_bytes,
			       l32(total.p_allocs - total.p_frees), total.p_bytes);
		} else {
			printf("            NonPaged                    Paged\n");
			printf(" Tag    Allocs    Frees     Diff     Used   Allocs    Frees     Diff     Used\n");
			const struct ich_pool_tag *all[1] = { &total };
			for (size_t i = 0; i <= n; i++) {
				const struct ich_pool_tag *t = i < n ? rows[i] : all[0];
				printf(" %-4s %8ld %8ld %8ld %8" PRIu64 " %8ld %8ld %8ld %8" PRIu64 "\n",
				       i < n ? t->tag : "TOTAL",
				       l32(t->np_allocs), l32(t->np_frees), l32(t->np_allocs - t->np_frees),
				       t->np_bytes, l32(t->p_allocs), l32(t->p_frees),
				       l32(t->p_allocs - t->p_frees), t->p_bytes);
			}
		}
	}
	int rc = ICH_EXIT_OK;
	free(rows);
	ich_pool_usage_free(u);
	ich_kernel_close(k);
	ich_dump_close(dump);
	return rc;
}

static int cmd_poolused(void *opts, int nargs, char **args, const struct ich_cli_global *g)
{
	struct opts o = *(const struct opts *)opts;
	o.g = g;
	o.verbose = g->verbose;
	bool json = g->json;
	if ((o.flags & (F_NONPAGED | F_PAGED)) == (F_NONPAGED | F_PAGED)) {
		return ich_cli_usage_error("poolused", "flags 2 (sort by nonpaged) and 4 (sort by paged) cannot be used together");
	}
	if (o.flags & F_SESSION) {
		return ich_cli_usage_error("poolused", "flag 8 (session pool) is not supported: the session pool's table is not in KDBG");
	}
	if (o.tag && !ich_pool_tag_pattern_ok(o.tag)) {
		return ich_cli_usage_error("poolused", "-t %s: a tag is 1-4 characters, or a pattern with '*'", o.tag);
	}
	return ich_cli_each_dump(args, nargs, json, run_one, &o);
}

const struct ich_cli_command ich_cmd_poolused = {
	.name = "poolused",
	.summary = "pool usage by tag of a kernel dump (!poolused)",
	.synopsis = "[-t TAG] [-f FLAGS] [--json] DUMP...",
	.description = "  Pool usage by tag from the pool tracker table of a kernel dump\n"
		       "  (WinDbg's !poolused [Flags [TagString]]).\n",
	.options = poolused_options,
	.min_args = 1,
	.max_args = -1,
	.opts_size = sizeof(struct opts),
	.run = cmd_poolused,
};
