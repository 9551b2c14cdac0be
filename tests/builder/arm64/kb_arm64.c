/* SPDX-License-Identifier: MIT */
/*
 * ARM64 kernel dump scenario (tests/builder/arm64/README.md): a complete
 * memory dump (DUMP_HEADER64, MachineImageType 0xAA64 =
 * IMAGE_FILE_MACHINE_ARM64, PE/COFF specification "Machine Types") whose
 * page tables the dumpbuilder writes in the AArch64 long-descriptor format
 * (db_kdump.c, DB_KD_ARM64), with a few processes, their handle tables,
 * IoCompletion queues with packets and one process with NT heaps.
 *
 * The kernel objects are the kobjbuilder's (tests/builder/kernel); for
 * DB_KD_ARM64 it takes EPROCESS from the ARM64 PDB-derived header in
 * ntdiff/headers (Win10_20H1_18885/ARM64) and the rest from its x64 19045
 * row, *derived* for ARM64 (object header, handle table, KQUEUE and list
 * structures are pointer-built; see README.md).  The heaps are the ntheap builder's x64
 * 19045 process, as in the ARM64 minidump (a64md.c says why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a64builder.h"
#include "kobjbuilder.h"
#include "ntheapbuilder.h"

/* object type indexes: 19041-19045 (the kobjbuilder's idx_19041) */
enum { IX_TYPE = 2, IX_DIRECTORY = 3, IX_TOKEN = 5, IX_JOB = 6, IX_PROCESS = 7, IX_THREAD = 8,
       IX_EVENT = 0x10, IX_MUTANT = 0x11, IX_IOCOMPLETION = 0x23, IX_FILE = 0x25 };

/* access masks (winnt.h) */
#define PROCESS_QUERY_LIMITED	0x1000u
#define THREAD_ALL_ACCESS	0x1FFFFFu
#define EVENT_ALL_ACCESS	0x1F0003u
#define IOCP_ALL_ACCESS		0x1F0003u
#define IOCP_MODIFY_STATE	0x000002u

int a64_kernel(const char *name, const char *dmp, const char *expect, const char *heaps)
{
	/* the same content as a complete dump and as an RDMP kernel+user
	 * dump (the container kinds the reader handles as on x64) */
	bool rdmp = !strcmp(name, "arm64-19045-rdmp-heaps");
	if (!rdmp && strcmp(name, "arm64-19045-full-heaps")) {
		fprintf(stderr, "a64_kernel: unknown scenario %s\n", name);
		return -1;
	}
	FILE *hx = fopen(heaps, "w");
	if (!hx) {
		perror(heaps);
		return -1;
	}
	fprintf(hx, "# mkarm64dump %s: processes' heaps (tests/builder/ntheap/README.md format per process)\n",
		name);
	struct kb_opts o = { .cookie = 0x5A, .type_lists = true, .seed = rdmp ? 0xA641 : 0xA640 };
	struct kb *b = kb_new(DB_KD_ARM64, 19045, rdmp ? DB_KD_RDMP_KERNEL_USER : DB_KD_FULL, &o, name);
	int t_type = kb_type(b, "Type", IX_TYPE);
	(void)t_type;
	kb_type(b, "Directory", IX_DIRECTORY);
	int t_token = kb_type(b, "Token", IX_TOKEN);
	kb_type(b, "Job", IX_JOB);
	kb_type(b, "Process", IX_PROCESS);
	int t_thread = kb_type(b, "Thread", IX_THREAD);
	int t_event = kb_type(b, "Event", IX_EVENT);
	kb_type(b, "Mutant", IX_MUTANT);
	int t_icp = kb_type(b, "IoCompletion", IX_IOCOMPLETION);
	kb_type(b, "File", IX_FILE);

	static const struct { uint32_t pid, ppid; const char *name; unsigned threads, events; } pd[] = {
		{ 4, 0, "System", 3, 4 },
		{ 388, 4, "smss.exe", 1, 2 },
		{ 868, 388, "svchost.exe", 2, 6 },
		{ 2200, 868, "iocpsrv.exe", 2, 9 },
		{ 5100, 868, "heapapp.exe", 1, 3 },
	};
	int proc[5];
	for (int i = 0; i < 5; i++)
		proc[i] = kb_process(b, pd[i].pid, pd[i].ppid, pd[i].name);
	for (int i = 0; i < 5; i++) {
		int tok = kb_object(b, t_token, 0x4A0, 0, NULL, 0xFF);
		kb_handle(b, proc[i], tok, 0x8, 0);
		for (unsigned k = 0; k < pd[i].threads; k++)
			kb_handle(b, proc[i], kb_object(b, t_thread, 0x898, 0, NULL, 6), THREAD_ALL_ACCESS, 0);
		for (unsigned k = 0; k < pd[i].events; k++)
			kb_handle(b, proc[i], kb_object(b, t_event, 0x18, 0, NULL, (uint8_t)(k & 1)),
				  EVENT_ALL_ACCESS, 0);
		if (i > 0)
			kb_handle(b, proc[i], kb_process_object(b, proc[i - 1]), PROCESS_QUERY_LIMITED, 0);
	}
	/* IoCompletion queues: 40 packets (two holders), 3, 0 (named) */
	int qa = kb_iocompletion(b, t_icp, 40, 0, 4, 2, NULL);
	int qb = kb_iocompletion(b, t_icp, 3, 0, 2, 0, NULL);
	int qc = kb_iocompletion(b, t_icp, 0, 0, 1, 1, "Arm64Port");
	kb_handle(b, proc[3], qa, IOCP_ALL_ACCESS, 0);
	kb_handle(b, proc[4], qa, IOCP_MODIFY_STATE, 0);
	kb_handle(b, proc[2], qb, IOCP_ALL_ACCESS, 0);
	kb_handle(b, proc[2], qc, IOCP_ALL_ACCESS, 0);

	/* heapapp.exe: the ntheap builder's three heaps in its own space */
	struct db_kd *kd = kb_kd(b);
	struct db_kd_space mc = { kd, kb_process_dtb(b, proc[4]) };
	struct db_mem *m = db_kd_view(kd, mc.dtb);
	fprintf(hx, "process pid=%u layout=x64-19045 wow64=0\n", pd[4].pid);
	db_kd_set_automap(kd, true);
	uint64_t peb = nhb_write_process(m, "x64-19045", hx, 0, db_kd_map_range_cb, &mc);
	db_kd_set_automap(kd, false);
	if (!peb)
		abort();
	kb_process_set_peb(b, proc[4], peb);
	int r = kb_write(b, dmp, expect);
	kb_free(b);
	if (fclose(hx))
		r = -1;
	return r;
}
