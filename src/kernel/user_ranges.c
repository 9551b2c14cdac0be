/* SPDX-License-Identifier: MIT */
/*
 * The user-mode pages a process's page tables hold in this dump: the
 * ranges of present (Valid) and transition (Valid 0, Prototype 0,
 * Transition 1: still in RAM; Windows Internals 7th ed. part 1 ch. 5,
 * "Invalid PTEs") pages below the user/kernel split, walked through
 * physical memory from the process's DirectoryTableBase -- x64 PML4 ->
 * PDPT -> PD -> PT (entries 0-255 of the PML4 are user space), PAE PDPT
 * (entries 0-1) -> PD -> PT, x86 PD (entries 0-511) -> PT; large pages
 * (PS, bit 7) at the PDPT/PD levels (Intel SDM vol. 3 ch. 4).  A table
 * that is not in the dump is skipped: only what the dump holds is listed,
 * so a scan over the ranges (the 24H2 unlisted-heap scan) costs what the
 * dump holds, not the 128 TiB of user address space.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>

#include "core/grow.h"
#include "core/endian.h"
#include "kernel/kernel_internal.h"
#include "reader/x86_pte.h"

#define MAX_RANGES 65536
#define MAX_TABLES 262144	/* page-table pages read: 1 GiB of tables */
/* A 64-bit (x64, PAE) entry's page frame: bits 12..51 */
#define PFN_MASK 0x000FFFFFFFFFF000ull

struct ranges {
	struct ich_user_range *v;
	size_t n, cap;
	size_t tables;
	bool full;
};

static void add(struct ranges *r, uint64_t va, uint64_t len)
{
	if (r->n && r->v[r->n - 1].start + r->v[r->n - 1].size == va) {
		r->v[r->n - 1].size += len;
		return;
	}
	if (r->n == MAX_RANGES) {
		r->full = true;
		return;
	}
	if (!ICH_ARRAY_RESERVE(r->v, r->n, r->cap, 256)) {
		r->full = true;
		return;
	}
	r->v[r->n++] = (struct ich_user_range){ va, len };
}

/* One table page (entries of esize bytes) into buf; false if not in the dump. */
static bool table(struct ich_dump *d, struct ranges *r, uint64_t pa, void *buf, size_t len)
{
	if (r->tables >= MAX_TABLES) {
		r->full = true;
		return false;
	}
	r->tables++;
	return ich_dump_read_phys(d, pa, buf, len, NULL) == len;
}

static uint64_t ent(const uint8_t *b, unsigned i, unsigned esize)
{
	return esize == 8 ? ich_le64(b + (size_t)i * 8) : ich_le32(b + (size_t)i * 4);
}

/* The last level: n PTEs of esize bytes mapping 4 KiB pages from va. */
static void leaf(struct ich_dump *d, struct ranges *r, uint64_t pa, uint64_t va, unsigned n,
		 unsigned esize)
{
	uint8_t b[0x1000];
	if (!table(d, r, pa, b, (size_t)n * esize))
		return;
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = ent(b, i, esize);
		if ((e & 1) || ich_x86_pte_is_transition(e))
			add(r, va + ((uint64_t)i << 12), 0x1000);
	}
}

/* A page directory of 512 8-byte entries (x64, PAE) mapping from va:
 * 2 MiB large pages (PS) or page tables. */
static void directory(struct ich_dump *d, struct ranges *r, const uint8_t *pd, uint64_t va)
{
	for (unsigned i2 = 0; i2 < 512 && !r->full; i2++) {
		uint64_t e2 = ent(pd, i2, 8), va2 = va | ((uint64_t)i2 << 21);
		if (!(e2 & 1))
			continue;
		if (e2 & 0x80)
			add(r, va2, 1ull << 21);
		else
			leaf(d, r, e2 & PFN_MASK, va2, 512, 8);
	}
}

struct ich_error *ich_kernel_user_ranges(struct ich_kernel *k, const struct ich_kprocess *p,
					 struct ich_user_range **out, size_t *n, bool *partial)
{
	struct ich_dump *d = k->dump;
	enum ich_arch arch = ich_dump_arch(d);
	const struct ich_kdump *kd = ich_dump_kdump(d);
	bool pae = arch == ICH_ARCH_X86 && kd && kd->pae_enabled;
	struct ranges r = { 0 };
	uint8_t top[0x1000], mid[0x1000], low[0x1000];
	if (arch == ICH_ARCH_X64) {
		if (table(d, &r, p->dtb & PFN_MASK, top, 256 * 8))
			for (unsigned i4 = 0; i4 < 256 && !r.full; i4++) {
				uint64_t e4 = ent(top, i4, 8);
				if (!(e4 & 1) || !table(d, &r, e4 & PFN_MASK, mid, 0x1000))
					continue;
				for (unsigned i3 = 0; i3 < 512 && !r.full; i3++) {
					uint64_t e3 = ent(mid, i3, 8), va3 = ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30);
					if (!(e3 & 1))
						continue;
					if (e3 & 0x80) {
						add(&r, va3, 1ull << 30);
						continue;
					}
					if (table(d, &r, e3 & PFN_MASK, low, 0x1000))
						directory(d, &r, low, va3);
				}
			}
	} else if (pae) {
		uint8_t pdpt[32];
		if (table(d, &r, p->dtb & ~0x1Full & 0xFFFFFFFFull, pdpt, 32))
			for (unsigned i3 = 0; i3 < 2 && !r.full; i3++) {
				uint64_t e3 = ent(pdpt, i3, 8);
				if ((e3 & 1) && table(d, &r, e3 & PFN_MASK, mid, 0x1000))
					directory(d, &r, mid, (uint64_t)i3 << 30);
			}
	} else if (arch == ICH_ARCH_X86) {
		if (table(d, &r, p->dtb & 0xFFFFF000ull, top, 512 * 4))
			for (unsigned i2 = 0; i2 < 512 && !r.full; i2++) {
				uint64_t e2 = ent(top, i2, 4), va2 = (uint64_t)i2 << 22;
				if (!(e2 & 1))
					continue;
				if (e2 & 0x80)
					add(&r, va2, 1ull << 22);
				else
					leaf(d, &r, e2 & 0xFFFFF000ull, va2, 1024, 4);
			}
	} else {
		return ich_error_create(ICH_ERR_UNSUPPORTED, "%s: user page ranges of %s processes are not listed",
					ich_dump_path(d), ich_arch_name(arch));
	}
	*out = r.v;
	*n = r.n;
	*partial = r.full;
	return NULL;
}
