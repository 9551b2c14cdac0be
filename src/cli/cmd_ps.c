/* SPDX-License-Identifier: MIT */
/*
 * icpheap ps [--json] DUMP...  — processes of a kernel dump (in the spirit
 * of `!process 0 0`): EPROCESS, Cid, parent, DirectoryTableBase,
 * ObjectTable, image.
 */
#include <inttypes.h>
#include <stdio.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>
#include <icpheap/kernel.h>

#include "cli/cli.h"
#include "cli/parse_options.h"
#include "core/json.h"
#include "cli/records.h"

/* CR3 on x64 holds the PCID in bits 0-11 when CR4.PCIDE is set (Intel SDM
 * vol. 3, 4.10.1): the table base is the rest.  A PAE PDPT base is 32-byte
 * aligned (bits 0-4 unused); non-PAE x86 CR3 keeps flags in bits 0-11. */
static bool has_pcid(struct ich_dump *dump)
{
	return ich_dump_arch(dump) == ICH_ARCH_X64;
}

static uint64_t table_base(struct ich_dump *dump, uint64_t dtb)
{
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	if (ich_dump_arch(dump) == ICH_ARCH_X86 && kd && kd->pae_enabled)
		return dtb & ~(uint64_t)0x1F;
	return dtb & ~(uint64_t)0xFFF;
}

struct ps_opts {
	char unused;
};

static const struct ich_option ps_options[] = {
	ICH_OPTION_END,
};

/* Text: the message on stderr; JSON: also the error document. */
static int fail(struct ich_json *j, const char *path, struct ich_error *err)
{
	int rc = ich_cli_fail(err);
	return j ? ich_json_failure(j, ICH_SCHEMA_PS, path, rc) : rc;
}

static int run_one(const char *path, struct ich_json *j, void *arg)
{
	const struct ich_cli_global *g = arg;
	struct ich_dump *dump;
	struct ich_error *err = ich_dump_open(path, &dump);
	if (err)
		return fail(j, path, err);
	struct ich_kernel *k;
	err = ich_kernel_open(dump, g->build, &k);
	if (err) {
		ich_dump_close(dump);
		return fail(j, path, err);
	}
	int w = ich_as_ptr_size(ich_dump_as(dump)) == 4 ? 8 : 16;
	size_t n = ich_kernel_process_count(k);
	if (j) {
		ich_json_begin_object(j, NULL);
		ich_json_string(j, "schema", ICH_SCHEMA_PS);
		ich_json_string(j, "path", path);
		ich_json_bool(j, "partial", ich_kernel_processes_partial(k));
		ich_json_begin_array(j, "processes");
		for (size_t i = 0; i < n; i++) {
			const struct ich_kprocess *p = ich_kernel_process(k, i);
			ich_json_begin_object(j, NULL);
			ich_json_addr(j, "eprocess", p->eprocess);
			ich_json_u64(j, "pid", p->pid);
			ich_json_u64(j, "ppid", p->ppid);
			ich_json_string(j, "image", p->image);
			ich_json_addr(j, "dtb", p->dtb);
			ich_json_addr(j, "table_base", table_base(dump, p->dtb));
			if (has_pcid(dump))
				ich_json_u64(j, "pcid", p->dtb & 0xFFF);
			ich_json_addr(j, "object_table", p->object_table);
			ich_json_addr(j, "peb", p->peb);
			ich_json_end_object(j);
		}
		ich_json_end_array(j);
		ich_json_begin_array(j, "warnings");
		for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
			ich_json_string(j, NULL, ich_kernel_warning(k, i));
		ich_json_end_array(j);
		ich_json_end_object(j);
	} else {
		if (g->verbose)
			for (size_t i = 0; i < ich_kernel_note_count(k); i++)
				printf("note: %s\n", ich_kernel_note(k, i));
		for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
			printf("warning: %s\n", ich_kernel_warning(k, i));
		bool pcid = has_pcid(dump);
		printf("%-*s  %6s  %6s  %-*s  %s%-*s  %s\n", w, "EPROCESS", "Cid", "Parent",
		       w, "DirBase", pcid ? "PCID  " : "", w, "ObjectTable", "Image");
		for (size_t i = 0; i < n; i++) {
			const struct ich_kprocess *p = ich_kernel_process(k, i);
			char pc[16] = "";
			if (pcid)
				snprintf(pc, sizeof(pc), "%4" PRIx64 "  ", p->dtb & 0xFFF);
			printf("%0*" PRIx64 "  %6x  %6x  %0*" PRIx64 "  %s%0*" PRIx64 "  %s\n", w,
			       p->eprocess, p->pid, p->ppid, w, table_base(dump, p->dtb), pc, w,
			       p->object_table, p->image);
		}
		printf("%zu processes%s\n", n,
		       ich_kernel_processes_partial(k) ? " (list incomplete)" : "");
	}
	ich_kernel_close(k);
	ich_dump_close(dump);
	return ICH_EXIT_OK;
}

static int cmd_ps(void *opts, int nargs, char **args, const struct ich_cli_global *g)
{
	(void)opts;
	return ich_cli_each_dump(args, nargs, g->json, run_one, (void *)g);
}

const struct ich_cli_command ich_cmd_ps = {
	.name = "ps",
	.summary = "processes of a kernel dump",
	.synopsis = "[--json] DUMP...",
	.description = "  List the processes of a kernel dump (PsActiveProcessHead).\n",
	.options = ps_options,
	.min_args = 1,
	.max_args = -1,
	.opts_size = sizeof(struct ps_opts),
	.run = cmd_ps,
};
