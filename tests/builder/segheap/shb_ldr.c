/* SPDX-License-Identifier: MIT */
/*
 * The loader's module list of a process (for processes inside kernel
 * dumps, which have no minidump module list: the walker must find ntdll,
 * and so RtlpHpHeapGlobals, through PEB.Ldr).  Offsets, from public
 * sources only (never from src/heap or src/types):
 *   PEB.Ldr: x64 0x18, PEB32 0x0C -- layouts-x64-selene.json (_PEB and
 *     _PEB32, every column).
 *   x64 _PEB_LDR_DATA (0x58 bytes): InLoadOrderModuleList 0x10,
 *     InMemoryOrderModuleList 0x20, InInitializationOrderModuleList 0x30;
 *     _LDR_DATA_TABLE_ENTRY: InLoadOrderLinks 0, InMemoryOrderLinks 0x10,
 *     InInitializationOrderLinks 0x20, DllBase 0x30, EntryPoint 0x38,
 *     SizeOfImage 0x40, FullDllName 0x48, BaseDllName 0x58 -- a pdbex
 *     dump (_PEB_LDR_DATA64 / _LDR_DATA_TABLE_ENTRY64) in a public header
 *     (find_string hit 33116935708).
 *   x86: InLoadOrderModuleList 0xc, InMemoryOrderModuleList 0x14,
 *     InInitializationOrderModuleList 0x1c; entry links 0 / 8 / 0x10,
 *     DllBase 0x18, EntryPoint 0x1c, SizeOfImage 0x20, FullDllName 0x24,
 *     BaseDllName 0x2c -- Vergilius-style offset comments in a public
 *     header (find_string hit 45557486390).
 *   UNICODE_STRING: Length, MaximumLength, Buffer at the pointer size.
 */
#include "segheapbuilder.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct ldr_lay {
	uint32_t peb_ldr, in_load, in_mem, in_init;
	uint32_t e_load, e_mem, e_init, e_base, e_entry, e_size, e_full, e_name, e_sizeof;
};
static const struct ldr_lay ldr64 = { 0x18, 0x10, 0x20, 0x30, 0, 0x10, 0x20, 0x30, 0x38, 0x40,
				      0x48, 0x58, 0x120 };
static const struct ldr_lay ldr32 = { 0x0C, 0x0C, 0x14, 0x1C, 0, 8, 0x10, 0x18, 0x1C, 0x20,
				      0x24, 0x2C, 0xA8 };

static void wp(struct db_mem *m, unsigned ps, uint64_t va, uint64_t v)
{
	if (ps == 8)
		db_mem_write_u64(m, va, v);
	else
		db_mem_write_u32(m, va, (uint32_t)v);
}

/* A circular LIST_ENTRY list: head, then nodes[0..n) in order. */
static void link_list(struct db_mem *m, unsigned ps, uint64_t head, const uint64_t *nodes, unsigned n)
{
	uint64_t prev = head;
	for (unsigned i = 0; i < n; i++) {
		wp(m, ps, prev, nodes[i]);		/* prev.Flink */
		wp(m, ps, nodes[i] + ps, prev);		/* node.Blink */
		prev = nodes[i];
	}
	wp(m, ps, prev, head);
	wp(m, ps, head + ps, prev);
}

static void ustr(struct db_mem *m, unsigned ps, uint64_t at, uint64_t buf, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		db_mem_write_u16(m, buf + 2 * i, (uint16_t)(unsigned char)s[i]);
	db_mem_write_u16(m, buf + 2 * n, 0);
	db_mem_write_u16(m, at, (uint16_t)(2 * n));
	db_mem_write_u16(m, at + 2, (uint16_t)(2 * n + 2));
	wp(m, ps, at + ps, buf);
}

int shb_write_ldr(struct db_mem *m, unsigned ps, uint64_t peb, uint64_t at,
		  const struct shb_module *mods, unsigned n, FILE *ex, shb_capture_fn *fn, void *arg)
{
	const struct ldr_lay *L = ps == 8 ? &ldr64 : &ldr32;
	if (n > 8)
		return -1;
	uint64_t data = at, entries = at + 0x100, strings = entries + 8ull * L->e_sizeof;
	uint64_t load[8], mem[8], init[8];
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = entries + (uint64_t)i * L->e_sizeof;
		load[i] = e + L->e_load;
		mem[i] = e + L->e_mem;
		init[i] = e + L->e_init;
		wp(m, ps, e + L->e_base, mods[i].base);
		wp(m, ps, e + L->e_entry, mods[i].base + 0x1000);
		db_mem_write_u32(m, e + L->e_size, (uint32_t)mods[i].size);
		const char *base_name = strrchr(mods[i].path, '\\');
		base_name = base_name ? base_name + 1 : mods[i].path;
		ustr(m, ps, e + L->e_full, strings, mods[i].path);
		strings += 2 * strlen(mods[i].path) + 2;
		ustr(m, ps, e + L->e_name, strings, base_name);
		strings += 2 * strlen(base_name) + 2;
		strings = (strings + 7) & ~7ull;
		fprintf(ex, "module base=0x%llx size=0x%llx wow64=%d path=%s\n",
			(unsigned long long)mods[i].base, (unsigned long long)mods[i].size, ps == 4,
			mods[i].path);
	}
	db_mem_write_u32(m, data, ps == 8 ? 0x58 : 0x30);	/* Length */
	db_mem_write_u8(m, data + 4, 1);			/* Initialized */
	link_list(m, ps, data + L->in_load, load, n);
	link_list(m, ps, data + L->in_mem, mem, n);
	link_list(m, ps, data + L->in_init, init, n);
	wp(m, ps, peb + L->peb_ldr, data);
	if (fn)
		fn(arg, at, strings - at);
	fprintf(ex, "ldr 0x%llx entries=%u\n", (unsigned long long)data, n);
	return 0;
}
