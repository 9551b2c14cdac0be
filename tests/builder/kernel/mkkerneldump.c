/* SPDX-License-Identifier: MIT */
/*
 * mkkerneldump SCENARIO OUT.dmp OUT.expect [OUT.heaps]
 *
 * Writes a kernel crash dump holding the kernel objects of SCENARIO
 * (x64-19045-full-typelist, x64-19045-bitmap-notypelist, x64-7601-full,
 * x86pae-19041-full, x64-19045-corrupt, x64-19045-kdbg-encoded, big) and the
 * expectation file describing what was laid out.
 *
 * .expect format (one fact a line, "key value" or "kind 0xADDR key=value ...";
 * numbers in hex with 0x, counts decimal; lines starting with # are comments):
 *   scenario NAME / arch x64|x86pae / build N / dump_type N
 *   cookie 0xNN                  ObHeaderCookie (0x0 before Windows 10)
 *   type_lists yes|no            FLG_MAINTAIN_OBJECT_TYPELIST
 *   kdbg 0xADDR KDBG|encoded     KdDebuggerDataBlock and its state
 *   ps_active_process_head 0xADDR
 *   type_type 0xADDR             body of the "Type" type (*ObpTypeObjectType)
 *   type 0xBODY index=N name=NAME objects=N handles=N list=yes|no
 *   process 0xEPROCESS pid=N ppid=N name="IMAGE" dtb=0x.. object_table=0x..
 *           peb=0x.. handles=N table_code=0x.. level=0|1
 *                                only processes reachable from the list head,
 *                                in list order; handles = readable handles
 *   process_list complete|loop
 *   handle pid=N value=0xH object=0xBODY header=0xHDR type=NAME access=0xA
 *          attributes=N          every readable handle (not for "big")
 *   handles_lost pid=N page=N count=N   handles on an unreadable table page
 *   icp 0xKQUEUE queued=N list=N complete=yes|no maximum=N current=N
 *       threads=N name=NAME|- found=yes|no hidden_holders=N
 *       holders=PID:0xH,...|-    queued = Header.SignalState; list = entries
 *                                reachable on EntryListHead (complete=no:
 *                                the list does not lead back to its head);
 *                                found = whether !icpleak can see it (type
 *                                list, or a visible handle); holders =
 *                                handles in reachable processes on readable
 *                                pages, hidden_holders = the others
 *   icpleak source=type_list|handle_tables deepest=0xKQUEUE queued=N
 */
#include <stdio.h>
#include <time.h>

#include "kobjbuilder.h"

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s SCENARIO OUT.dmp OUT.expect [OUT.heaps]\n", argv[0]);
		return 2;
	}
	return kb_build_scenario_heaps(argv[1], argv[2], argv[3], argc == 5 ? argv[4] : NULL) == 0 ? 0 : 1;
}
