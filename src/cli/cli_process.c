/* SPDX-License-Identifier: MIT */
/* --pid / --process: a process of a kernel memory dump (cli_process.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_process.h"
#include "cli/parse_options.h"

int ich_cli_check_process_sel(const char *cmd, const struct ich_cli_process_sel *sel)
{
	if (sel->pid && sel->name)
		return ich_cli_usage_error(cmd, "give --pid or --process, not both");
	uint32_t pid;
	if (sel->pid && !ich_kernel_parse_pid(sel->pid, &pid))
		return ich_cli_usage_error(cmd, "--pid '%s': expected a decimal process id or 0x-hex", sel->pid);
	return -1;
}

int ich_cli_open_heaps(struct ich_dump *dump, uint32_t build, const struct ich_cli_process_sel *sel,
		       struct ich_heaps **h, struct ich_kernel **k)
{
	*k = NULL;
	bool want = sel && (sel->pid || sel->name);
	if (ich_dump_kind(dump) != ICH_DUMP_KERNEL) {
		if (want) {
			return ich_cli_fail(ich_error_create(ICH_ERR_INVALID_ARG,
				"%s: --pid/--process choose a process of a kernel memory dump; this %s is one process already",
				ich_dump_path(dump), ich_dump_kind_name(dump)));
		}
		struct ich_error *err = ich_heaps_open(dump, build, h);
		return err ? ich_cli_fail(err) : -1;
	}
	struct ich_kernel *kern;
	struct ich_error *err = ich_kernel_open(dump, build, &kern);
	if (err)
		return ich_cli_fail(err);
	const char *why;
	if (!ich_kernel_user_pages(kern, &why)) {
		err = ich_error_create(ICH_ERR_FAULT,
			"%s: no user-mode pages in this dump (%s): process heaps need a complete or kernel+user memory dump",
			ich_dump_path(dump), why);
		ich_kernel_close(kern);
		return ich_cli_fail(err);
	}
	if (!want) {
		err = ich_error_create(ICH_ERR_INVALID_ARG,
			"%s is a %s: choose a process with --pid PID or --process NAME (icpheap ps lists them)",
			ich_dump_path(dump), ich_dump_kind_name(dump));
		ich_kernel_close(kern);
		return ich_cli_fail(err);
	}
	const struct ich_kprocess *p = NULL;
	if (sel->pid) {
		uint32_t pid = 0;
		(void)ich_kernel_parse_pid(sel->pid, &pid);
		p = ich_kernel_find_pid(kern, pid);
		if (!p) {
			err = ich_error_create(ICH_ERR_INVALID_ARG,
				"%s: no process with pid %u (0x%x) in the process list (%zu processes%s)",
				ich_dump_path(dump), pid, pid, ich_kernel_process_count(kern),
				ich_kernel_processes_partial(kern) ? ", list incomplete" : "");
			ich_kernel_close(kern);
			return ich_cli_fail(err);
		}
	} else {
		const struct ich_kprocess *m[8];
		size_t n = ich_kernel_find_image(kern, sel->name, m, 8);
		if (n != 1) {
			char pids[128] = "";
			size_t len = 0;
			for (size_t i = 0; i < n && i < 8 && len < sizeof(pids); i++)
				len += (size_t)snprintf(pids + len, sizeof(pids) - len, " %u", m[i]->pid);
			err = !n ? ich_error_create(ICH_ERR_INVALID_ARG, "%s: no process named %s", ich_dump_path(dump),
						    sel->name)
				 : ich_error_create(ICH_ERR_INVALID_ARG,
						    "%s: %zu processes are named %s; choose one with --pid:%s%s",
						    ich_dump_path(dump), n, sel->name, pids, n > 8 ? " ..." : "");
			ich_kernel_close(kern);
			return ich_cli_fail(err);
		}
		p = m[0];
	}
	err = ich_kernel_process_heaps(kern, p, build, h);
	if (err) {
		ich_kernel_close(kern);
		return ich_cli_fail(err);
	}
	*k = kern;
	return -1;
}
