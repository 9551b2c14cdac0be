/* SPDX-License-Identifier: MIT */
/*
 * ARM64 user-mode minidumps, laid out from documented formats only:
 *   - the minidump container: Microsoft minidumpapiset.h (through the
 *     dumpbuilder's db_md_*); MINIDUMP_SYSTEM_INFO.ProcessorArchitecture
 *     12 = PROCESSOR_ARCHITECTURE_ARM64 (winnt.h; MicrosoftDocs/win32
 *     pull request 1191 "Add architecture const for ARM64");
 *   - the thread and exception contexts: winnt.h ARM64_NT_CONTEXT
 *     (learn.microsoft.com/windows/win32/api/winnt/ns-winnt-arm64_nt_context),
 *     0x390 bytes: ContextFlags +0, Cpsr +4, X0..X28 +8.., Fp +0xF0,
 *     Lr +0xF8, Sp +0x100, Pc +0x108, V[32] +0x110, Fpcr +0x310, Fpsr
 *     +0x314, Bcr/Bvr/Wcr/Wvr +0x318..+0x390; CONTEXT_ARM64 0x00400000,
 *     CONTROL|INTEGER|FLOATING_POINT = 0x00400007 (Breakpad
 *     minidump_cpu_arm64.h MD_CONTEXT_ARM64_FULL has the same values);
 *   - frame records: AAPCS64 section 6.2.3 "The Frame Pointer" and
 *     Microsoft "Overview of ARM64 ABI conventions" (x29 points at the
 *     previous {x29, x30} pair);
 *   - the NT heaps: the ntheap builder's x64 19045 content, unchanged.
 *     The heap structures are pointers, LIST_ENTRYs and fixed-width
 *     integers, whose size and alignment the x64 and ARM64 MSVC ABIs share
 *     (Microsoft, "Overview of ARM64 ABI conventions"; ReactOS pull request
 *     9020 makes ARM64 "use the same Win64 heap metadata layout that AMD64
 *     already used"); ntdiff/headers Win10_20H1_18885/ARM64 ntdll
 *     ALL_SORTED.h has _HEAP, _HEAP_ENTRY and _HEAP_VIRTUAL_ALLOC_ENTRY
 *     exactly as x64 2004 (README.md).
 * The TEB prefix (NT_TIB, 7 pointers; ClientId, ActiveRpcHandle,
 * ThreadLocalStoragePointer; ProcessEnvironmentBlock at +0x60, Self at
 * +0x30) is made of pointers only and so is the same as x64's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a64builder.h"
#include "ntheapbuilder.h"

#define ARM64_CONTEXT_SIZE 0x390u
#define CONTEXT_ARM64_FULL 0x00400007u
#define PROCESSOR_ARCHITECTURE_ARM64 12

#define APP_BASE 0x7FF612340000ull
#define APP_SIZE 0x20000u
#define NTDLL_BASE 0x7FFB0B120000ull	/* as the ntheap scenarios */
#define NTDLL_SIZE 0x1F8000u
#define KB_BASE 0x7FFB08000000ull
#define KB_SIZE 0x300000u
#define TEB1 0x7F020000ull
#define TEB2 0x7F022000ull
#define STACK1 0x000000A1C0F00000ull	/* exception thread: [STACK1, +0x4000) */
#define STACK2 0x000000A1C1000000ull
#define STACK_SIZE 0x4000u
#define FAR 0x00000000DEAD0010ull	/* the faulting data address */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An ARM64_NT_CONTEXT with the integer and control registers set. */
static void context(uint8_t ctx[ARM64_CONTEXT_SIZE], uint64_t pc, uint64_t sp, uint64_t fp,
		    uint64_t lr, uint32_t cpsr)
{
	memset(ctx, 0, ARM64_CONTEXT_SIZE);
	put32(ctx + 0x0, CONTEXT_ARM64_FULL);
	put32(ctx + 0x4, cpsr);
	for (int i = 0; i < 29; i++)		/* X0..X28: recognisable values */
		put64(ctx + 0x8 + 8 * i, 0x1000000000000000ull + (uint64_t)i);
	put64(ctx + 0xF0, fp);
	put64(ctx + 0xF8, lr);
	put64(ctx + 0x100, sp);
	put64(ctx + 0x108, pc);
	put32(ctx + 0x310, 0x03000000);		/* Fpcr: a plausible value */
}

static void capture(void *arg, uint64_t va, uint64_t size)
{
	db_md_add_memory(arg, va, size, DB_LIST_64);
}

int a64_minidump(const char *name, const char *dmp, const char *expect)
{
	bool badfp = !strcmp(name, "arm64-19045-badfp");
	if (!badfp && strcmp(name, "arm64-19045")) {
		fprintf(stderr, "a64_minidump: unknown scenario %s\n", name);
		return -1;
	}
	FILE *ex = fopen(expect, "w");
	if (!ex) {
		perror(expect);
		return -1;
	}
	/* db_md_new knows x86/x64 only; every context below is given
	 * explicitly, so only SystemInfo says ARM64. */
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_sysinfo(md)->processor_architecture = PROCESSOR_ARCHITECTURE_ARM64;
	db_md_sysinfo(md)->processor_level = 0x8;		/* ARMv8 */
	db_md_sysinfo(md)->processor_revision = 0x0D0B;
	memset(db_md_sysinfo(md)->cpu, 0, sizeof(db_md_sysinfo(md)->cpu));
	struct db_mem *m = db_md_mem(md);
	fprintf(ex, "# mkarm64dump %s: see tests/builder/arm64/README.md\n", name);
	fprintf(ex, "arch processor_architecture=12 build=19045\n");

	/* the heaps: the ntheap builder's x64 19045 process (heaps, PEB,
	 * ProcessHeaps), written into this dump's memory */
	uint64_t peb = nhb_write_process(m, "x64-19045", ex, 0, capture, md);
	if (!peb) {
		fclose(ex);
		db_md_free(md);
		return -1;
	}
	for (uint64_t teb = TEB1; teb <= TEB2; teb += TEB2 - TEB1) {
		db_mem_write_u64(m, teb + 0x30, teb);	/* NtTib.Self */
		db_mem_write_u64(m, teb + 0x60, peb);	/* ProcessEnvironmentBlock */
		db_md_add_memory(md, teb, 0x2000, DB_LIST_64);
	}

	/* The exception thread's stack: four frame records, innermost at
	 * STACK1+0x180, each {caller's Fp, return address}; the outermost
	 * links to 0.  badfp: the second record links below itself. */
	struct { uint64_t at, next, ret; const char *mod; uint64_t off; } rec[] = {
		{ STACK1 + 0x180, STACK1 + 0x200, APP_BASE + 0x2050, "app.exe", 0x2050 },
		{ STACK1 + 0x200, STACK1 + 0x300, KB_BASE + 0x3000, "kernelbase.dll", 0x3000 },
		{ STACK1 + 0x300, STACK1 + 0x400, NTDLL_BASE + 0x4444, "ntdll.dll", 0x4444 },
		{ STACK1 + 0x400, 0, NTDLL_BASE + 0x5000, "ntdll.dll", 0x5000 },
	};
	if (badfp)
		rec[1].next = STACK1 + 0x100;
	for (size_t i = 0; i < 4; i++) {
		db_mem_write_u64(m, rec[i].at, rec[i].next);
		db_mem_write_u64(m, rec[i].at + 8, rec[i].ret);
	}
	/* a stale return address into kernelbase above the second record:
	 * what a scan finds once the chain breaks (badfp) */
	db_mem_write_u64(m, STACK1 + 0x260, KB_BASE + 0x7777);
	uint64_t pc = APP_BASE + 0x1234, sp = STACK1 + 0x100;
	uint8_t c1[ARM64_CONTEXT_SIZE], c2[ARM64_CONTEXT_SIZE];
	/* Lr holds a stale value: the walk reads the frame record, as
	 * rust-minidump's frame-pointer unwinder does */
	context(c1, pc, sp, rec[0].at, APP_BASE + 0x1111, 0x80000000u);
	context(c2, NTDLL_BASE + 0x9A0, STACK2 + 0x3F00, STACK2 + 0x3F80, NTDLL_BASE + 0x6000, 0x60000000u);
	db_md_add_memory(md, STACK1, STACK_SIZE, DB_LIST_64);
	db_md_add_memory(md, STACK2, STACK_SIZE, DB_LIST_64);
	struct db_md_thread t1 = { .id = 0x1a4, .teb = TEB1, .stack_start = STACK1, .stack_size = STACK_SIZE,
				   .context = c1, .context_size = ARM64_CONTEXT_SIZE };
	struct db_md_thread t2 = { .id = 0x2b8, .teb = TEB2, .stack_start = STACK2, .stack_size = STACK_SIZE,
				   .context = c2, .context_size = ARM64_CONTEXT_SIZE, .name = "worker" };
	db_md_add_thread(md, &t1);
	db_md_add_thread(md, &t2);

	struct db_md_module mods[] = {
		{ .name = "C:\\app\\app.exe", .base = APP_BASE, .size = APP_SIZE,
		  .file_version = { 1, 2, 3, 4 } },
		{ .name = "C:\\Windows\\System32\\ntdll.dll", .base = NTDLL_BASE, .size = NTDLL_SIZE,
		  .file_version = { 10, 0, 19045, 1 } },
		{ .name = "C:\\Windows\\System32\\KERNELBASE.dll", .base = KB_BASE, .size = KB_SIZE,
		  .file_version = { 10, 0, 19045, 1 } },
	};
	for (size_t i = 0; i < 3; i++)
		db_md_add_module(md, &mods[i]);

	/* An access violation: a write to FAR (ExceptionInformation[0] 1 =
	 * write, [1] the address, EXCEPTION_RECORD documentation). */
	struct db_md_exception e = { .thread_id = 0x1a4, .code = 0xC0000005, .address = pc,
				     .number_parameters = 2, .information = { 1, FAR },
				     .context = c1, .context_size = ARM64_CONTEXT_SIZE };
	db_md_set_exception(md, &e);
	fprintf(ex, "exception code=0xc0000005 address=0x%llx access=write far=0x%llx\n",
		(unsigned long long)pc, (unsigned long long)FAR);
	fprintf(ex, "context pc=0x%llx sp=0x%llx fp=0x%llx lr=0x%llx cpsr=0x80000000 flags=0x%x\n",
		(unsigned long long)pc, (unsigned long long)sp, (unsigned long long)rec[0].at,
		(unsigned long long)(APP_BASE + 0x1111), CONTEXT_ARM64_FULL);
	fprintf(ex, "frame 0 app.exe+0x1234 context\n");
	size_t nrec = badfp ? 2 : 4;
	for (size_t i = 0; i < nrec; i++)
		fprintf(ex, "frame %zu %s+0x%llx frame-pointer\n", i + 1, rec[i].mod,
			(unsigned long long)rec[i].off);
	if (badfp) {
		/* scanned upwards from the broken record's Sp (STACK1+0x210):
		 * the stale address at +0x260, then the return addresses of
		 * the records at +0x300 and +0x400 */
		fprintf(ex, "frame 3 kernelbase.dll+0x7777 scan\n");
		fprintf(ex, "frame 4 ntdll.dll+0x4444 scan\n");
		fprintf(ex, "frame 5 ntdll.dll+0x5000 scan\n");
	}
	fclose(ex);
	int rc = db_md_write(md, dmp);
	if (rc)
		fprintf(stderr, "mkarm64dump: %s\n", db_error());
	db_md_free(md);
	return rc;
}
