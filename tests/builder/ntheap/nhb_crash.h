/* SPDX-License-Identifier: MIT */
/* Crash scenarios of the NT heap builder (nhb_crash.c, README.md "Crash
 * scenarios"). */
#ifndef NHB_CRASH_H
#define NHB_CRASH_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "dumpbuilder.h"

struct nhb_crash_in {
	struct db_md *md;
	FILE *ex;
	uint64_t heaps[2];	/* heap 0 and heap 1 */
	uint64_t corrupt[2];	/* their corrupt entries */
};
/* "fault-in-corrupt", "fault-near", "stack-ref", "elsewhere" */
bool nhb_crash_mode_known(const char *mode);
/* Gives thread t its stack and context, adds it, adds app.exe and the
 * exception, and writes the crash lines of the .expect. */
void nhb_crash(const struct nhb_crash_in *in, const char *mode, struct db_md_thread *t);
#endif
