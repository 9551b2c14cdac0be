/* SPDX-License-Identifier: MIT */
/*
 * Bug check scenarios (README.md "Bug check scenarios"): a loaded-module
 * list, a bug check whose documented faulting-address parameter lies in a
 * driver, the processor context at the header's ContextRecord and a kernel
 * stack.  Written from public documentation only, never from src/:
 *   KLDR_DATA_TABLE_ENTRY (Vergilius-generated type dumps, x64: InLoadOrder
 *     Links 0, DllBase 0x30, EntryPoint 0x38, SizeOfImage 0x40, FullDllName
 *     0x48, BaseDllName 0x58; x86 with 4-byte pointers: DllBase 0x18,
 *     EntryPoint 0x1c, SizeOfImage 0x20, FullDllName 0x24, BaseDllName
 *     0x2c); UNICODE_STRING {Length, MaximumLength, Buffer at 8 / 4};
 *   PsLoadedModuleList: the list head kb lays out (KDBG + 0x48, header);
 *   bug check 0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL (learn.microsoft.com/
 *     windows-hardware/drivers/debugger/bug-check-0xd1--driver-irql-not-
 *     less-or-equal): P1 memory referenced, P2 IRQL, P3 0 read / 1 write,
 *     P4 the address that referenced memory;
 *   CONTEXT: AMD64 ContextFlags 0x30 (CONTEXT_AMD64 0x00100000), Rsp 0x98,
 *     Rbp 0xa0, Rip 0xf8; x86 ContextFlags 0 (CONTEXT_i386 0x00010000), Ebp
 *     0xb4, Eip 0xb8, Esp 0xc4 (google/breakpad minidump_cpu_amd64.h,
 *     minidump_cpu_x86.h).
 * The module images are not in the dump (no MZ page), so the x64 callers
 * are found by a stack scan; the x86 stack has a frame-pointer chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kobjbuilder.h"

struct kmod {
	const char *name;
	uint64_t base;
	uint32_t size;
};

struct kmods {
	bool x64;
	struct kmod mods[3];
	uint64_t entries;	/* KLDR_DATA_TABLE_ENTRYs and their strings */
	uint64_t stack;		/* the kernel stack */
	uint64_t sp, fp, pc;
	uint64_t ret[2];	/* return addresses on the stack */
	uint64_t params[4];
	uint8_t ctx[0x4d0];
};

static struct kmods g;	/* one scenario per process (mkkerneldump) */

static void map(struct kb *b, uint64_t va, uint64_t size)
{
	if (db_kd_map(kb_kd(b), kb_kernel_dtb(b), va & ~0xFFFull, ((va & 0xFFF) + size + 0xFFF) & ~0xFFFull,
		      0x1000) != 0) {
		fprintf(stderr, "kb_modules: map 0x%llx: %s\n", (unsigned long long)va, db_error());
		abort();
	}
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void hook(struct kb *b, void *arg)
{
	(void)arg;
	struct db_mem *m = kb_mem(b);
	unsigned ps = g.x64 ? 8 : 4;
	uint64_t head = kb_ps_loaded_module_list(b);
	/* Entries 0x100 apart in one page, each name right after its entry. */
	map(b, g.entries, 0x1000);
	uint64_t prev = head;
	for (unsigned i = 0; i < 3; i++) {
		uint64_t e = g.entries + 0x100 * i, name = e + 0xc0;
		db_mem_write_ptr(m, prev, e);			/* prev.Flink */
		db_mem_write_ptr(m, e + ps, prev);		/* e.Blink */
		db_mem_write_ptr(m, e + (g.x64 ? 0x30 : 0x18), g.mods[i].base);
		db_mem_write_ptr(m, e + (g.x64 ? 0x38 : 0x1c), g.mods[i].base + 0x1000);
		db_mem_write_u32(m, e + (g.x64 ? 0x40 : 0x20), g.mods[i].size);
		size_t n = strlen(g.mods[i].name);
		for (size_t k = 0; k < n; k++)
			db_mem_write_u16(m, name + 2 * k, (uint16_t)g.mods[i].name[k]);
		uint64_t us = e + (g.x64 ? 0x58 : 0x2c);	/* BaseDllName */
		db_mem_write_u16(m, us, (uint16_t)(2 * n));
		db_mem_write_u16(m, us + 2, (uint16_t)(2 * n + 2));
		db_mem_write_ptr(m, us + ps, name);
		prev = e;
	}
	db_mem_write_ptr(m, prev, head);			/* last.Flink */
	db_mem_write_ptr(m, head + ps, prev);			/* head.Blink */
	/* The kernel stack: two return addresses (x64: found by the scan; x86:
	 * linked by saved EBPs, the second link ending the chain with 0). */
	map(b, g.stack, 0x2000);
	if (g.x64) {
		db_mem_write_u64(m, g.sp + 0x28, g.ret[0]);
		db_mem_write_u64(m, g.sp + 0x80, g.ret[1]);
	} else {
		db_mem_write_u32(m, g.fp, (uint32_t)(g.fp + 0x40));
		db_mem_write_u32(m, g.fp + 4, (uint32_t)g.ret[0]);
		db_mem_write_u32(m, g.fp + 0x40, 0);
		db_mem_write_u32(m, g.fp + 0x44, (uint32_t)g.ret[1]);
	}
	struct db_kd_header *h = db_kd_header(kb_kd(b));
	h->bugcheck_code = 0xD1;
	memcpy(h->bugcheck_parameters, g.params, sizeof(g.params));
	memset(g.ctx, 0, sizeof(g.ctx));
	if (g.x64) {
		put_le(g.ctx + 0x30, 0x0010000Bu, 4);
		put_le(g.ctx + 0x98, g.sp, 8);
		put_le(g.ctx + 0xa0, g.fp, 8);
		put_le(g.ctx + 0xf8, g.pc, 8);
		h->context = g.ctx;
		h->context_size = 0x4d0;
	} else {
		put_le(g.ctx, 0x00010007u, 4);
		put_le(g.ctx + 0xb4, g.fp, 4);
		put_le(g.ctx + 0xb8, g.pc, 4);
		put_le(g.ctx + 0xc4, g.sp, 4);
		h->context = g.ctx;
		h->context_size = 0x2cc;
	}
}

void kb_modules(struct kb *b)
{
	memset(&g, 0, sizeof(g));
	uint64_t kbase = kb_kernbase(b);
	g.x64 = kbase > 0xFFFFFFFFull;
	if (g.x64) {
		g.mods[0] = (struct kmod){ "ntoskrnl.exe", kbase, 0x1046000 };
		g.mods[1] = (struct kmod){ "hal.dll", 0xFFFFF80510000000ull, 0x100000 };
		g.mods[2] = (struct kmod){ "crashdrv.sys", 0xFFFFF80520000000ull, 0x20000 };
		g.entries = 0xFFFFF80530000000ull;
		g.stack = 0xFFFFD000AB000000ull;
	} else {
		g.mods[0] = (struct kmod){ "ntoskrnl.exe", kbase, 0xA00000 };
		g.mods[1] = (struct kmod){ "hal.dll", 0x81000000ull, 0x80000 };
		g.mods[2] = (struct kmod){ "crashdrv.sys", 0x8F000000ull, 0x10000 };
		g.entries = 0x8F800000ull;
		g.stack = 0x9F000000ull;
	}
	g.sp = g.stack + 0x100;
	g.fp = g.stack + 0x140;
	g.pc = g.mods[2].base + 0x1a2b;			/* crashdrv.sys+0x1a2b */
	g.ret[0] = g.mods[0].base + 0x3f1234;		/* ntoskrnl.exe+0x3f1234 */
	g.ret[1] = g.mods[1].base + 0x5678;		/* hal.dll+0x5678 */
	g.params[0] = 0x10;				/* memory referenced */
	g.params[1] = 2;				/* DISPATCH_LEVEL */
	g.params[2] = 1;				/* write */
	g.params[3] = g.pc;				/* the address that referenced memory */
	kb_set_write_hook(b, hook, NULL);
}

int kb_modules_expect(struct kb *b, const char *expect)
{
	(void)b;
	FILE *f = fopen(expect, "a");
	if (!f) {
		perror(expect);
		return -1;
	}
	fprintf(f, "bugcheck 0xd1 fault_param=4 location=crashdrv.sys+0x1a2b\n");
	for (unsigned i = 0; i < 3; i++)
		fprintf(f, "module %s base=0x%llx size=0x%x\n", g.mods[i].name,
			(unsigned long long)g.mods[i].base, g.mods[i].size);
	fprintf(f, "context pc=0x%llx sp=0x%llx fp=0x%llx\n", (unsigned long long)g.pc,
		(unsigned long long)g.sp, (unsigned long long)g.fp);
	fprintf(f, "frame 0 crashdrv.sys+0x1a2b context\n");
	fprintf(f, "frame 1 ntoskrnl.exe+0x3f1234 %s\n", g.x64 ? "scan" : "frame-pointer");
	fprintf(f, "frame 2 hal.dll+0x5678 %s\n", g.x64 ? "scan" : "frame-pointer");
	return fclose(f) ? -1 : 0;
}
