/* SPDX-License-Identifier: MIT */
/*
 * Segment heaps and loader lists in the processes of the kernel *-heaps
 * scenarios (issue 10): heapapp.exe gets, besides the ntheap builder's NT
 * heaps, the segment-heap builder's two segment heaps (tests/builder/segheap,
 * shb_write_process) and ntdll's image with RtlpHpHeapGlobals, and a
 * PEB.Ldr list naming ntdll, so the walker must find the keys the way it
 * would in a real complete dump (no minidump module list); a segment-heap
 * page is put in transition (still in RAM: must read).  wowapp.exe gets a
 * 32-bit loader list in its PEB32 (SysWOW64\ntdll.dll).  Kept out of
 * kb_scen.c so the other kernel-builder users' edits do not collide.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kb_segheap.h"
#include "segheapbuilder.h"

void kb_add_segment_heaps(struct kb *b, int proc, uint64_t peb, bool states, FILE *hx)
{
	struct db_kd *kd = kb_kd(b);
	struct db_kd_space sm = { kd, kb_process_dtb(b, proc) };
	struct db_mem *m = db_kd_view(kd, sm.dtb);
	struct shb_image nt;
	db_kd_set_automap(kd, true);
	/* 24H2 (26100): its segment-heap row, and PEB.ProcessHeaps lists only
	 * the first heap (x64dbg/x64dbg#3478): the second segment heap is
	 * left out of it, to be found by the walker's scan of the process's
	 * user pages */
	bool v24h2 = kb_build(b) >= 26100;
	uint32_t listed = db_mem_read_u32(m, peb + 0xE8);	/* PEB.NumberOfHeaps (layouts.md §1) */
	if (shb_write_process(m, v24h2 ? "x64-26100" : "x64-19045", peb, hx, db_kd_map_range_cb, &sm, &nt))
		abort();
	if (v24h2) {
		db_mem_write_u32(m, peb + 0xE8, listed + 1);
		db_mem_write_u64(m, db_mem_read_u64(m, peb + 0xF0) + 8ull * (listed + 1), 0);
		fprintf(hx, "unlisted 0x%llx\n", 0x25A4B000000ull);
	}
	/* the loader's list: the image, ntdll, kernel32 (bases of a typical
	 * 19045 process; only ntdll's contents matter here) */
	struct shb_module mods[3] = {
		{ "C:\\Apps\\heapapp.exe", 0x7FF6A1230000ull, 0x2D000 },
		{ "C:\\Windows\\SYSTEM32\\ntdll.dll", nt.base, nt.size },
		{ "C:\\Windows\\System32\\KERNEL32.DLL", 0x7FFB2E9B0000ull, 0xBD000 },
	};
	if (shb_write_ldr(m, 8, peb, 0x7F040000, mods, 3, hx, db_kd_map_range_cb, &sm))
		abort();
	db_kd_set_automap(kd, false);
	if (states) {
		/* heap 0's first page segment (its descriptor array) in transition */
		uint64_t tr = 0x25A3B100000ull;
		if (db_kd_make_transition(kd, sm.dtb, tr)) {
			fprintf(stderr, "kobjbuilder: segment-heap transition page: %s\n", db_error());
			abort();
		}
		fprintf(hx, "transition page=0x%llx\n", (unsigned long long)tr);
	}
}

void kb_add_ldr32(struct kb *b, int proc, uint64_t peb32, FILE *hx)
{
	struct db_kd *kd = kb_kd(b);
	struct db_kd_space sm = { kd, kb_process_dtb(b, proc) };
	struct db_mem *m = db_kd_view(kd, sm.dtb);
	unsigned ps = db_mem_ptr_size(m);
	db_mem_set_ptr_size(m, 4);
	struct shb_module mods[3] = {
		{ "C:\\Apps\\wowapp.exe", 0x00400000, 0x1B000 },
		{ "C:\\Windows\\SysWOW64\\ntdll.dll", 0x77A20000, 0x1A4000 },
		{ "C:\\Windows\\SysWOW64\\KERNEL32.DLL", 0x76D10000, 0xF0000 },
	};
	db_kd_set_automap(kd, true);
	if (shb_write_ldr(m, 4, peb32, 0x7F040000, mods, 3, hx, db_kd_map_range_cb, &sm))
		abort();
	db_kd_set_automap(kd, false);
	db_mem_set_ptr_size(m, ps);
}
