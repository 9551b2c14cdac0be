/* SPDX-License-Identifier: MIT */
/*
 * Choosing a process of a kernel memory dump on the command line
 * (--pid PID, --process NAME) and opening its heaps; a minidump is its own
 * process.  Shared by heap and analyze.
 */
#ifndef ICPHEAP_CLI_PROCESS_H
#define ICPHEAP_CLI_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>
#include <icpheap/kernel.h>

struct ich_cli_process_sel {
	const char *pid;	/* --pid argument, or NULL */
	const char *name;	/* --process argument, or NULL */
};

/* Check --pid PID / --process NAME (the command's option table fills sel):
 * not both, a PID that parses.  Returns -1 when fine, else an exit code
 * (message printed as "icpheap CMD: ..."). */
int ich_cli_check_process_sel(const char *cmd, const struct ich_cli_process_sel *sel);

/* Open the heaps the command line asks for: a minidump's own, or the
 * selected process of a kernel dump (*k is then the kernel model, to be
 * closed after the heaps; NULL for minidumps).  Returns -1 on success,
 * else an exit code (message printed). */
int ich_cli_open_heaps(struct ich_dump *dump, uint32_t build, const struct ich_cli_process_sel *sel,
		       struct ich_heaps **h, struct ich_kernel **k);

#endif
