/* SPDX-License-Identifier: MIT */
/*
 * icpheap icpleak [HandleFlag] [--all] [--json] DUMP...
 *
 * WinDbg's !icpleak (kdexts): examine every I/O completion object and show
 * the one with the most queued entries; with HandleFlag non-zero also every
 * process holding a handle to it.  No verbatim !icpleak output exists in
 * any public source (reference/windbg-output README §12), so the text
 * follows the style of the kdexts object commands: 16-digit (x64) or
 * 8-digit (x86) addresses without 0x, hex counts of handles/access, decimal
 * queue depths, and a "Cid" column as !process prints it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/dump.h>
#include <icpheap/kernel.h>
#include <icpheap/minidump.h>

#include "cli/cli.h"
#include "cli/parse_options.h"
#include "core/json.h"
#include "cli/records.h"

struct icpleak_opts {
	bool all;		/* --all */
};

static const struct ich_option icpleak_options[] = {
	ICH_OPTION_BOOL(0, "all", struct icpleak_opts, all, "list every IoCompletion object, deepest queue first"),
	ICH_OPTION_END,
};

static void print_holders(const struct ich_icp_object *o, int w)
{
	for (size_t i = 0; i < o->nholders; i++) {
		const struct ich_icp_holder *h = &o->holders[i];
		printf("    Cid: %04x  Image: %-15s  Handle: %04" PRIx64 "  GrantedAccess: %08x\n",
		       h->pid, h->process, h->handle, h->access);
	}
	(void)w;
}

static void print_object_row(const struct ich_icp_object *o, int w)
{
	printf("%0*" PRIx64 "  %10d  %8d  %7" PRIu64 "%s%s\n", w, o->address, o->queued,
	       o->maximum, o->threads, o->problem[0] ? "  ! " : "", o->problem);
}

static void text_report(struct ich_kernel *k, const struct ich_icp_result *r,
			bool handles, bool all, int w, bool verbose)
{
	const struct ich_ktype *t = r->type;
	printf("IoCompletion object type %0*" PRIx64 " (index %#x): %u objects, %u handles; type list %s\n",
	       w, t->address, t->index, t->objects, t->handles,
	       t->list_maintained ? "maintained" : "NOT maintained");
	if (r->source == ICH_ICP_HANDLE_TABLES)
		printf("Type lists are not maintained (FLG_MAINTAIN_OBJECT_TYPELIST is off): WinDbg's !icpleak stops here.\n"
		       "icpheap found the objects through every process's handle table instead;\n"
		       "objects that no process holds a handle to cannot be seen this way.\n");
	printf("%zu IoCompletion objects examined%s.\n", r->nobjects,
	       r->partial ? " (partial: some memory could not be read)" : "");
	if (verbose)
		for (size_t i = 0; i < ich_kernel_note_count(k); i++)
			printf("note: %s\n", ich_kernel_note(k, i));
	for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
		printf("warning: %s\n", ich_kernel_warning(k, i));
	if (!r->nobjects) {
		printf("No IoCompletion objects found.\n");
		return;
	}
	printf("\n%-*s  %10s  %8s  %7s\n", w, "Object", "Queued", "Maximum", "Threads");
	size_t n = all ? r->nobjects : 1;
	for (size_t i = 0; i < n; i++) {
		print_object_row(&r->objects[i], w);
		/* not a WinDbg line: the pool the queued packets hold, from
		 * their pool headers (compare with icpheap poolused) */
		const struct ich_icp_object *po = &r->objects[i];
		if (verbose && (po->pool_blocks || po->pool_unknown))
			printf("    pool: %" PRIu64 " bytes in %" PRIu64 " packets' pool blocks, tag '%s'%s%s\n",
			       po->pool_bytes, po->pool_blocks, po->pool_tag,
			       po->pool_tags_mixed ? " (and others)" : "",
			       po->pool_unknown ? " (some packets without a readable pool header)" : "");
		if (handles && (all || i == 0)) {
			if (r->objects[i].nholders)
				print_holders(&r->objects[i], w);
			else
				printf("    (no process holds a handle to it)\n");
		}
	}
	if (!all)
		printf("\nThe object with the largest number of queued entries is %0*" PRIx64 " (%d entries).\n",
		       w, r->objects[0].address, r->objects[0].queued);
	if (handles && !r->holders_complete)
		printf("Holder list is partial: some handle tables could not be read.\n");
}

static void json_report(struct ich_json *j, struct ich_kernel *k,
			const struct ich_icp_result *r, bool handles)
{
	ich_json_icp_type(j, "type", r->type);
	ich_json_string(j, "source", ich_icp_source_name(r->source));
	ich_json_bool(j, "partial", r->partial);
	if (r->nobjects)
		ich_json_addr(j, "max", r->objects[0].address);
	else
		ich_json_null(j, "max");
	ich_json_begin_array(j, "objects");
	for (size_t i = 0; i < r->nobjects; i++)
		ich_json_icp_object(j, &r->objects[i], handles);
	ich_json_end_array(j);
	ich_json_begin_array(j, "warnings");
	for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
		ich_json_string(j, NULL, ich_kernel_warning(k, i));
	ich_json_end_array(j);
}

/* A user-mode dump cannot answer; say what it can offer. */
static struct ich_error *minidump_refusal(struct ich_dump *dump)
{
	const struct ich_minidump *md = ich_dump_minidump(dump);
	size_t n = 0;
	for (size_t i = 0; md && i < md->nhandles; i++)
		if (md->handles[i].type_name && !strcmp(md->handles[i].type_name, "IoCompletion"))
			n++;
	if (md && md->nhandles)
		return ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: a user-mode minidump holds no kernel objects: queue depths need a kernel dump (its HandleData lists %zu IoCompletion handles: icpheap handles -t IoCompletion)",
			ich_dump_path(dump), n);
	return ich_error_create(ICH_ERR_UNSUPPORTED,
		"%s: a user-mode minidump holds no kernel objects: queue depths need a kernel dump",
		ich_dump_path(dump));
}

struct icp_args {
	bool handles, all;
	const struct ich_cli_global *g;
};

/* Text: the message on stderr; JSON: also the error document. */
static int fail(struct ich_json *j, const char *path, struct ich_error *err)
{
	int rc = ich_cli_fail(err);
	return j ? ich_json_failure(j, ICH_SCHEMA_ICPLEAK, path, rc) : rc;
}

static int run_one(const char *path, struct ich_json *j, void *arg)
{
	const struct icp_args *a = arg;
	bool handles = a->handles, all = a->all;
	const struct ich_cli_global *g = a->g;
	struct ich_dump *dump;
	struct ich_error *err = ich_dump_open(path, &dump);
	if (err)
		return fail(j, path, err);
	if (ich_dump_kind(dump) != ICH_DUMP_KERNEL) {
		err = minidump_refusal(dump);
		ich_dump_close(dump);
		return fail(j, path, err);
	}
	struct ich_kernel *k;
	err = ich_kernel_open(dump, g->build, &k);
	if (err) {
		ich_dump_close(dump);
		return fail(j, path, err);
	}
	struct ich_icp_result *r;
	err = ich_kernel_icpleak(k, handles, &r);
	if (err) {
		for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
			fprintf(stderr, "icpheap icpleak: warning: %s\n", ich_kernel_warning(k, i));
		ich_kernel_close(k);
		ich_dump_close(dump);
		return fail(j, path, err);
	}
	int w = ich_as_ptr_size(ich_dump_as(dump)) == 4 ? 8 : 16;
	if (j) {
		ich_json_begin_object(j, NULL);
		ich_json_string(j, "schema", ICH_SCHEMA_ICPLEAK);
		ich_json_string(j, "path", path);
		json_report(j, k, r, handles);
		ich_json_end_object(j);
	} else {
		text_report(k, r, handles, all, w, g->verbose);
	}
	ich_icp_result_free(r);
	ich_kernel_close(k);
	ich_dump_close(dump);
	return ICH_EXIT_OK;
}

static int cmd_icpleak(void *opts, int nargs, char **args, const struct ich_cli_global *g)
{
	const struct icpleak_opts *o = opts;
	bool handles = false;
	/* HandleFlag: a number before the dumps, as in `!icpleak 1`
	 * (options may come anywhere: `icpleak 1 --all DUMP`). */
	uint64_t flag;
	if (nargs > 1 && ich_cli_parse_u64(args[0], true, &flag)) {
		handles = flag != 0;
		args++;
		nargs--;
	}
	struct icp_args a = { handles, o->all, g };
	return ich_cli_each_dump(args, nargs, g->json, run_one, &a);
}

const struct ich_cli_command ich_cmd_icpleak = {
	.name = "icpleak",
	.summary = "the I/O completion queue with the most entries (!icpleak) [kernel dumps]",
	.synopsis = "[HandleFlag] [--all] [--json] DUMP...",
	.description = "  Find the I/O completion object with the most queued entries (!icpleak).\n"
		       "  HandleFlag: non-zero: also list every process with a handle to it.\n"
		       "  Objects come from the IoCompletion type list when the system maintains\n"
		       "  type lists, else from every process's handle table (said in the output).\n",
	.options = icpleak_options,
	.min_args = 1,
	.max_args = -1,
	.opts_size = sizeof(struct icpleak_opts),
	.run = cmd_icpleak,
};
