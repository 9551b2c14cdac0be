/* SPDX-License-Identifier: MIT */
/*
 * icpheap handles [-t TYPE] [PID] [--json] DUMP...
 *
 * Kernel dumps: every handle of every process (or of PID), decoded from the
 * handle tables, with the object type by name.  User-mode minidumps: the
 * HandleData stream (the process's own handles, as the writer captured them).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/dump.h>
#include <icpheap/kernel.h>
#include <icpheap/minidump.h>

#include "cli/cli.h"
#include "cli/parse_options.h"
#include "core/json.h"
#include "cli/records.h"

struct hopts {
	const char *type;
	bool have_pid;
	uint32_t pid;
	struct ich_json *j;
	int w;
};

static const struct ich_option handles_options[] = {
	ICH_OPTION_STRING('t', "type", struct hopts, type, "TYPE",
			  "only objects of this type (e.g. IoCompletion)"),
	ICH_OPTION_END,
};

struct hctx {
	struct ich_kernel *k;
	const struct hopts *o;
	uint64_t count;
	const struct ich_kprocess *last;
};

static struct ich_error *print_handle(const struct ich_kprocess *p,
				      const struct ich_khandle *h, void *arg)
{
	struct hctx *c = arg;
	const struct ich_ktype *t = ich_kernel_type_by_index(c->k, h->type_index);
	const char *tname = t ? t->name : "?";
	if (c->o->type && strcasecmp(c->o->type, tname))
		return NULL;
	c->count++;
	if (c->o->j) {
		struct ich_json *j = c->o->j;
		ich_json_begin_object(j, NULL);
		ich_json_u64(j, "pid", p->pid);
		ich_json_string(j, "process", p->image);
		ich_json_addr(j, "handle", h->handle);
		ich_json_addr(j, "object", h->object);
		ich_json_string(j, "type", tname);
		ich_json_u64(j, "access", h->access);
		ich_json_end_object(j);
		return NULL;
	}
	if (c->last != p) {
		printf("PROCESS %0*" PRIx64 "  Cid: %04x  Image: %s\n", c->o->w, p->eprocess, p->pid, p->image);
		c->last = p;
	}
	printf("  %04" PRIx64 ": Object: %0*" PRIx64 "  GrantedAccess: %08x  Type: %s\n",
	       h->handle, c->o->w, h->object, h->access, tname);
	return NULL;
}

/* Text: the message on stderr; JSON: also the error document. */
static int fail(struct ich_json *j, const char *path, struct ich_error *err)
{
	int rc = ich_cli_fail(err);
	return j ? ich_json_failure(j, ICH_SCHEMA_HANDLES, path, rc) : rc;
}

static void begin_doc(struct ich_json *j, const char *path)
{
	ich_json_begin_object(j, NULL);
	ich_json_string(j, "schema", ICH_SCHEMA_HANDLES);
	ich_json_string(j, "path", path);
}

static int kernel_handles(struct ich_dump *dump, const struct hopts *o, const struct ich_cli_global *g)
{
	struct ich_kernel *k;
	struct ich_error *err = ich_kernel_open(dump, g->build, &k);
	if (err)
		return fail(o->j, ich_dump_path(dump), err);
	if (o->j)
		begin_doc(o->j, ich_dump_path(dump));
	if (o->type && !ich_kernel_find_type(k, o->type))
		fprintf(stderr, "icpheap handles: warning: no object type named \"%s\" (%zu types known)\n",
			o->type, ich_kernel_type_count(k));
	struct hctx c = { k, o, 0, NULL };
	bool partial = false, found = !o->have_pid;
	if (o->j)
		ich_json_begin_array(o->j, "handles");
	for (size_t i = 0; i < ich_kernel_process_count(k); i++) {
		const struct ich_kprocess *p = ich_kernel_process(k, i);
		if (o->have_pid && p->pid != o->pid)
			continue;
		found = true;
		err = ich_kernel_walk_handles(k, p, print_handle, &c, &partial);
		if (err)
			break;
	}
	int rc = err ? ich_cli_fail(err) : ICH_EXIT_OK;
	if (o->j) {
		ich_json_end_array(o->j);
		ich_json_u64(o->j, "count", c.count);
		ich_json_bool(o->j, "partial", partial);
		if (err) {	/* the walk stopped: what it listed, and why it stopped */
			const char *code = NULL, *msg = ich_cli_last_error(&code);
			ich_json_error_obj(o->j, "error", code, msg);
		}
		ich_json_end_object(o->j);
	} else {
		for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
			printf("warning: %s\n", ich_kernel_warning(k, i));
		printf("%" PRIu64 " handles%s\n", c.count, partial ? " (partial: some table pages unreadable)" : "");
	}
	ich_kernel_close(k);
	if (err)
		return rc;
	if (!found) {
		fprintf(stderr, "icpheap handles: %s: no process with Cid %x\n", ich_dump_path(dump), o->pid);
		return ICH_EXIT_USAGE;
	}
	return ICH_EXIT_OK;
}

static int minidump_handles(struct ich_dump *dump, const struct hopts *o)
{
	const struct ich_minidump *md = ich_dump_minidump(dump);
	if (!md->nhandles)
		return fail(o->j, ich_dump_path(dump), ich_error_create(ICH_ERR_NOT_FOUND,
			"%s: this minidump has no HandleData stream (write it with MiniDumpWithHandleData)",
			ich_dump_path(dump)));
	uint64_t count = 0;
	if (o->j) {
		begin_doc(o->j, ich_dump_path(dump));
		ich_json_begin_array(o->j, "handles");
	}
	for (size_t i = 0; i < md->nhandles; i++) {
		const struct ich_md_handle *h = &md->handles[i];
		const char *tname = h->type_name ? h->type_name : "?";
		if (o->type && strcasecmp(o->type, tname))
			continue;
		count++;
		if (o->j) {
			ich_json_begin_object(o->j, NULL);
			ich_json_addr(o->j, "handle", h->handle);
			ich_json_string(o->j, "type", tname);
			ich_json_string(o->j, "name", h->object_name);
			ich_json_u64(o->j, "access", h->granted_access);
			ich_json_u64(o->j, "handle_count", h->handle_count);
			ich_json_u64(o->j, "pointer_count", h->pointer_count);
			ich_json_end_object(o->j);
		} else {
			printf("  %04" PRIx64 ": GrantedAccess: %08x  Type: %-16s %s\n", h->handle,
			       h->granted_access, tname, h->object_name ? h->object_name : "");
		}
	}
	if (o->j) {
		ich_json_end_array(o->j);
		ich_json_u64(o->j, "count", count);
		ich_json_end_object(o->j);
	} else {
		printf("%" PRIu64 " handles (from the minidump's HandleData stream)\n", count);
		if (o->type && !strcasecmp(o->type, "IoCompletion"))
			printf("Queue depths of I/O completion ports need a kernel dump (icpheap icpleak).\n");
	}
	return ICH_EXIT_OK;
}

static int cmd_handles(void *opts, int nargs, char **args, const struct ich_cli_global *g)
{
	struct hopts o = *(const struct hopts *)opts;
	bool json = g->json;
	/* [PID] DUMP...: a first argument that is a process id, when a dump
	 * follows it. */
	uint32_t pid;
	if (nargs > 1 && ich_kernel_parse_pid(args[0], &pid)) {
		o.have_pid = true;
		o.pid = pid;
		args++;
		nargs--;
	}
	int worst = ICH_EXIT_OK, ndumps = nargs;
	struct ich_json js;
	if (json) {
		ich_json_init(&js, stdout, true);
		o.j = &js;
		if (ndumps > 1)
			ich_json_begin_array(o.j, NULL);
	}
	for (int i = 0; i < nargs; i++) {
		if (!json && ndumps > 1)
			printf("%s==> %s <==\n", i > 0 ? "\n" : "", args[i]);
		fflush(stdout);
		struct ich_dump *dump;
		struct ich_error *err = ich_dump_open(args[i], &dump);
		if (err) {
			worst = ich_cli_worst(worst, fail(o.j, args[i], err));
			continue;
		}
		o.w = ich_dump_as(dump) && ich_as_ptr_size(ich_dump_as(dump)) == 4 ? 8 : 16;
		int rc = ich_dump_kind(dump) == ICH_DUMP_KERNEL ? kernel_handles(dump, &o, g)
							       : minidump_handles(dump, &o);
		worst = ich_cli_worst(worst, rc);
		ich_dump_close(dump);
	}
	if (o.j) {
		if (ndumps > 1)
			ich_json_end_array(o.j);
		ich_json_finish(o.j);
	}
	return worst;
}

const struct ich_cli_command ich_cmd_handles = {
	.name = "handles",
	.summary = "handles of a kernel dump's processes, or a minidump's HandleData",
	.synopsis = "[-t TYPE] [PID] [--json] DUMP...",
	.description = "  List handles: from every process's handle table in a kernel dump, or\n"
		       "  from the HandleData stream of a minidump.  PID is decimal (as JSON\n"
		       "  writes it), 0x-hex, or WinDbg's hex Cid when it has letters (1f4).\n",
	.options = handles_options,
	.min_args = 1,
	.max_args = -1,
	.opts_size = sizeof(struct hopts),
	.run = cmd_handles,
};
