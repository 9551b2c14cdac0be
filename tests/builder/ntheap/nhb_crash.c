/* SPDX-License-Identifier: MIT */
/*
 * Crash scenarios on top of the corrupt NT heaps (README.md, "Crash
 * scenarios"): the crashing thread 0x1a4 gets a captured stack, an AMD64
 * CONTEXT and an access-violation exception whose target this file
 * chooses, relative to the corrupt entries the heap builder made.  Written
 * from the documented formats only:
 *   CONTEXT (AMD64): ContextFlags 0x30 = CONTEXT_AMD64|CONTROL|INTEGER
 *     (0x0010000B), Rsp 0x98, Rbp 0xa0, Rip 0xf8, size 0x4d0 (winnt.h;
 *     google/breakpad src/google_breakpad/common/minidump_cpu_amd64.h);
 *   EXCEPTION_RECORD of STATUS_ACCESS_VIOLATION: ExceptionInformation[0]
 *     1 = write, [1] = the address written (winnt.h EXCEPTION_RECORD docs).
 * The .expect gets one line per scenario saying which heap the analysis
 * must name first and why:
 *   crash mode=M code=0xc0000005 access=write target=0x... rip=0x... rsp=0x...
 *   crash_first heap=0x... relation=R [slot=0x...] [frame=N]
 *   crash_order heap=0x... heap=0x...
 */
#include <stdio.h>
#include <string.h>

#include "nhb_crash.h"

#define STACK_LO 0x7E000000ull
#define STACK_SIZE 0x2000u
#define RSP (STACK_LO + 0x100)
#define APP 0x140000000ull	/* app.exe: listed, image not captured */
#define APP_SIZE 0x20000u
#define RIP (APP + 0x1234)
#define RET1 (APP + 0x5678)	/* frame 1's return address, at RSP+0x38 */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

bool nhb_crash_mode_known(const char *mode)
{
	return !strcmp(mode, "fault-in-corrupt") || !strcmp(mode, "fault-near") ||
	       !strcmp(mode, "stack-ref") || !strcmp(mode, "elsewhere");
}

void nhb_crash(const struct nhb_crash_in *in, const char *mode, struct db_md_thread *t)
{
	struct db_mem *m = db_md_mem(in->md);
	uint64_t target = 0x10;		/* a NULL-pointer write: no heap */
	/* The heaps' corrupt entries: heap 0 = in->heaps[0], heap 1 = [1]. */
	uint64_t c0 = in->corrupt[0], c1 = in->corrupt[1];
	db_mem_fill(m, STACK_LO, 0, STACK_SIZE);
	db_mem_write_u64(m, RSP + 0x38, RET1);
	const char *first = NULL, *extra = "";
	char extrabuf[96];
	uint64_t first_heap = in->heaps[1], second_heap = in->heaps[0];
	if (!strcmp(mode, "fault-in-corrupt")) {
		/* Inside heap 1's corrupt block (user bytes, past its header). */
		target = c1 + 0x18;
		first = "fault-in-block";
	} else if (!strcmp(mode, "fault-near")) {
		/* In heap 1's run A, 0x200 bytes past its corrupt entry (a valid
		 * block after the resynced one), not in the corrupt block. */
		target = c1 + 0x200;
		first = "fault-near";
	} else if (!strcmp(mode, "stack-ref")) {
		/* Frame 0's locals point into heap 0 (its segment, a valid
		 * block's area far from the corrupt entry); frame 1's (above the
		 * return address at RSP+0x38) into heap 1's corrupt block: a
		 * problem block outranks a mere heap reference. */
		db_mem_write_u64(m, RSP + 0x10, in->heaps[0] + 0x30100);
		db_mem_write_u64(m, RSP + 0x48, c1 + 0x10);
		first = "stack-block";
		snprintf(extrabuf, sizeof(extrabuf), " slot=0x%llx frame=1 second_relation=stack-heap",
			 (unsigned long long)(RSP + 0x48));
		extra = extrabuf;
	} else {
		/* elsewhere: nothing on the stack or at the target relates: the
		 * heaps stay in their order. */
		first_heap = in->heaps[0];
		second_heap = in->heaps[1];
		first = "none";
	}
	(void)c0;
	uint8_t ctx[0x4d0];
	memset(ctx, 0, sizeof(ctx));
	put_le(ctx + 0x30, 0x0010000Bu, 4);
	put_le(ctx + 0x98, RSP, 8);
	put_le(ctx + 0xa0, RSP + 0x200, 8);
	put_le(ctx + 0xf8, RIP, 8);
	t->stack_start = STACK_LO;
	t->stack_size = STACK_SIZE;
	t->context = ctx;
	t->context_size = sizeof(ctx);
	db_md_add_thread(in->md, t);
	struct db_md_module app = { .name = "C:\\app\\app.exe", .base = APP, .size = APP_SIZE,
				    .file_version = { 1, 0, 0, 0 } };
	db_md_add_module(in->md, &app);
	struct db_md_exception e = { .thread_id = t->id, .code = 0xc0000005u, .address = RIP,
				     .number_parameters = 2, .context = ctx,
				     .context_size = sizeof(ctx) };
	e.information[0] = 1;
	e.information[1] = target;
	db_md_set_exception(in->md, &e);
	fprintf(in->ex, "crash mode=%s code=0xc0000005 access=write target=0x%llx rip=0x%llx rsp=0x%llx\n",
		mode, (unsigned long long)target, (unsigned long long)RIP, (unsigned long long)RSP);
	fprintf(in->ex, "crash_first heap=0x%llx relation=%s%s\n", (unsigned long long)first_heap, first, extra);
	fprintf(in->ex, "crash_order heap=0x%llx heap=0x%llx\n", (unsigned long long)first_heap,
		(unsigned long long)second_heap);
}
