/* SPDX-License-Identifier: MIT */
/*
 * kb_pool: pool tracker tables (what !poolused reads), written from these
 * sources only (searched with find_string / read_file; never from
 * icpheap's src/kernel/pool.c):
 *  - KDDEBUGGER_DATA64.PoolTrackTable at +0x1B8 holds &nt!PoolTrackTable
 *    (the public wdbgexts.h field list: ULONG64 fields from the 0x18-byte
 *    header on, PoolTrackTable after MmResidentAvailablePages).  kb.c
 *    writes that field.
 *  - Table: 2^k buckets + 1 overflow entry; bucket of a tag = mask &
 *    (r ^ (r >> 32)), r = 40543 * Key (64-bit), linear probing (decompiled
 *    ExpInitializePoolTrackerTable / ExpInsertPoolTracker, find_string
 *    "ExPoolTagTables = " and "PoolTrackTable;"; ReactOS expool.c
 *    ExpComputeHashForTag).  The table starts on a page boundary (it is a
 *    page allocation).
 *  - ExPoolTagTables[0] = PoolTrackTable, ExPoolTagTables[n] = processor n's
 *    table with the same keys at the same indices (ExCreatePoolTagTable,
 *    decompiled).  Where ExPoolTagTables sits in ntoskrnl's data is made up
 *    here (within 1 MB of PoolTrackTable, which icpheap searches).
 *  - _POOL_TRACKER_TABLE layouts: x64 before 1703 0x28 (ntdiff/headers
 *    Win10_1511_TS2 x64: ULONG Allocs/Frees, ULONG64 Bytes); x64 2004-22H2
 *    0x38 (TDC0471/windows-defs, sdkgen 2004 column: Bytes, Allocs, Frees as
 *    ULONG64, nonpaged from +8, paged from +0x20); x86 Windows 7 0x1C (all
 *    ULONG, Vergilius-format x86 header); x86 19041: 0x30, the ntdiff 21292
 *    x86 layout (ULONG Bytes, ULONG64 Allocs/Frees) without its limit
 *    fields -- derived, no source shows 19041.
 */
#include "kb_pool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAXTAGS 256
#define MAXCPU 8
#define OFF_EX_POOL_TAG_TABLES 0xC41E40u	/* made up: near PoolTrackTable */

struct lay {
	unsigned size, key, npa, npf, npb, pa, pf, pb, cw, bw;
};
static const struct lay x64_old = { 0x28, 0, 4, 8, 0x10, 0x18, 0x1C, 0x20, 4, 8 };
static const struct lay x64_wide = { 0x38, 0, 0x10, 0x18, 8, 0x28, 0x30, 0x20, 8, 8 };
/* Windows 11: the 0x38 fields + AvailableLimit[2] 0x38, LimitInfo 0x48 (sdkgen Windows 11
 * column, ntoskrnlib.Win11); 26100 by analogy (derived) */
static const struct lay x64_w11 = { 0x50, 0, 0x10, 0x18, 8, 0x28, 0x30, 0x20, 8, 8 };
static const struct lay x86_old = { 0x1C, 0, 4, 8, 0xC, 0x10, 0x14, 0x18, 4, 4 };
static const struct lay x86_wide = { 0x30, 0, 8, 0x10, 4, 0x20, 0x28, 0x18, 8, 4 };

struct tagrec {
	char tag[4];
	uint64_t v[6];			/* npa, npf, npb, pa, pf, pb: totals */
	uint64_t cpu[MAXCPU][6];	/* per processor (wrapping) */
	uint64_t index;
};

struct kbp {
	unsigned ps;
	uint32_t build, ncpu;
	const struct lay *L;
	unsigned k;
	bool tag_tables;		/* write ExPoolTagTables */
	bool top;			/* *-pool-top: the variable at KBP_POOL_TOP_VARIABLE */
	int corrupt;			/* 0, 1 bad tag, 2 frees > allocs */
	struct tagrec t[MAXTAGS];
	size_t nt;
	uint64_t overflow[6];
	/* after kbp_write */
	uint64_t var, tables[MAXCPU], ex_tables;
	long bad;			/* corrupt entry's tag index, -1 */
	uint64_t hole;			/* a table page left out of the dump, 0 none */
	uint64_t hole_entries;		/* entries touching it */
};

struct kbp *kbp_new(unsigned ps, uint32_t build, uint32_t processors, const char *scenario)
{
	struct kbp *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->ps = ps;
	p->build = build;
	p->ncpu = processors < 1 ? 1 : processors > MAXCPU ? MAXCPU : processors;
	if (ps == 8)
		p->L = build >= 22000 ? &x64_w11 : build >= 15063 ? &x64_wide : &x64_old;
	else
		p->L = build >= 15063 ? &x86_wide : &x86_old;
	/* bucket counts: 512 (a small machine's table), 256 (x86), 64 on the Win7 one */
	p->k = build < 9200 ? 6 : ps == 4 ? 8 : 9;
	/* *-pool-oldlayout: a 19045 dump whose table has the pre-1703 0x28 entries,
	 * so the build's row does not fit and the walker must find the one that does */
	if (ps == 8 && strstr(scenario, "pool-oldlayout"))
		p->L = &x64_old;
	p->top = ps == 8 && strstr(scenario, "pool-top") != NULL;
	p->tag_tables = strncmp(scenario, "x64-7601", 8) != 0 && !p->top;
	p->corrupt = strstr(scenario, "pool-badtag") ? 1 : strstr(scenario, "pool-overflow") ? 2 : 0;
	p->bad = -1;
	return p;
}

uint64_t kbp_variable(const struct kbp *p, uint64_t kernbase)
{
	return p->top ? KBP_POOL_TOP_VARIABLE : kernbase + KBP_OFF_POOL_TRACK_TABLE;
}

void kbp_free(struct kbp *p)
{
	free(p);
}

static struct tagrec *tag_get(struct kbp *p, const char tag[4])
{
	for (size_t i = 0; i < p->nt; i++)
		if (!memcmp(p->t[i].tag, tag, 4))
			return &p->t[i];
	if (p->nt >= MAXTAGS)
		abort();
	struct tagrec *t = &p->t[p->nt++];
	memset(t, 0, sizeof(*t));
	memcpy(t->tag, tag, 4);
	return t;
}

void kbp_alloc(struct kbp *p, const char tag[4], uint64_t bytes)
{
	struct tagrec *t = tag_get(p, tag);
	t->v[0]++;
	t->v[2] += bytes;
}

static uint32_t key_of(const char tag[4])
{
	return (uint32_t)(uint8_t)tag[0] | (uint32_t)(uint8_t)tag[1] << 8 |
	       (uint32_t)(uint8_t)tag[2] << 16 | (uint32_t)(uint8_t)tag[3] << 24;
}

static uint64_t bucket(uint32_t key, uint64_t mask)
{
	uint64_t r = (uint64_t)40543 * key;
	return (r ^ (r >> 32)) & mask;
}

/* A made-up history: frees of earlier blocks and paged-pool tags, so every
 * counter and both pools are exercised. */
static void history(struct kbp *p)
{
	unsigned unit = p->ps == 8 ? 16 : 8;
	size_t nrec = p->nt;
	for (size_t i = 0; i < nrec; i++) {
		struct tagrec *t = &p->t[i];
		uint64_t freed = 3 + (uint64_t)(key_of(t->tag) % 7);
		t->v[0] += freed;	/* allocated and freed again: bytes unchanged */
		t->v[1] += freed;
	}
	static const struct { const char *tag; uint64_t npa, npf, npsz, pa, pf, psz; } extra[] = {
		{ "CM31", 0, 0, 0, 140, 20, 0x40 },
		{ "MmSt", 0, 0, 0, 57, 57, 0x180 },	/* all freed: no bytes */
		{ "Ntfx", 12, 4, 0x90, 33, 10, 0x110 },
		{ "Io  ", 3, 0, 0x30, 0, 0, 0 },
		{ "Toke", 0, 0, 0, 9, 2, 0x2A0 },
		{ "Irp ", 200, 180, 0x118, 0, 0, 0 },
		{ "Even", 40, 38, 0x40, 0, 0, 0 },
		{ "Pool", 1, 0, 0x8000, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		struct tagrec *t = tag_get(p, extra[i].tag);
		t->v[0] += extra[i].npa;
		t->v[1] += extra[i].npf;
		t->v[2] += (extra[i].npa - extra[i].npf) * ((extra[i].npsz + unit - 1) / unit * unit);
		t->v[3] += extra[i].pa;
		t->v[4] += extra[i].pf;
		t->v[5] += (extra[i].pa - extra[i].pf) * ((extra[i].psz + unit - 1) / unit * unit);
	}
	/* overflow bucket: tags that found no free slot (made-up counts) */
	p->overflow[0] = 2;
	p->overflow[1] = 1;
	p->overflow[2] = 4 * unit;
}

/* Spread each tag's totals over the processors: processor 0 allocates
 * most, processor 1 frees (its Frees exceed its Allocs and its Bytes go
 * below zero, as on a real machine), processor 2 allocates a third. */
static void spread(struct kbp *p)
{
	uint32_t n = p->tag_tables ? p->ncpu : 1;
	for (size_t i = 0; i < p->nt; i++) {
		struct tagrec *t = &p->t[i];
		memset(t->cpu, 0, sizeof(t->cpu));
		for (int pool = 0; pool < 2; pool++) {
			uint64_t a = t->v[3 * pool], f = t->v[3 * pool + 1], b = t->v[3 * pool + 2];
			uint64_t out = a - f, blk = out ? b / out : 0x40;
			uint64_t *c0 = t->cpu[0] + 3 * pool, *c1 = t->cpu[n > 1] + 3 * pool,
				 *c2 = t->cpu[n > 2 ? 2 : 0] + 3 * pool;
			uint64_t a2 = n > 2 ? a / 3 : 0;
			c0[0] += a - a2;
			c0[2] += b + f * blk - a2 * blk;
			c2[0] += a2;
			c2[2] += a2 * blk;
			c1[1] += f;
			c1[2] -= f * blk;
		}
	}
}

static void put(uint8_t *buf, unsigned off, unsigned w, uint64_t v)
{
	for (unsigned i = 0; i < w; i++)
		buf[off + i] = (uint8_t)(v >> (8 * i));
}

static void map(struct db_kd *kd, uint64_t kdtb, uint64_t va, uint64_t size)
{
	uint64_t first = va & ~0xFFFull, end = (va + size + 0xFFF) & ~0xFFFull;
	if (db_kd_map(kd, kdtb, first, end - first, 0x1000) != 0) {
		fprintf(stderr, "kb_pool: map 0x%llx: %s\n", (unsigned long long)va, db_error());
		abort();
	}
}

static void wptr(struct kbp *p, struct db_mem *m, uint64_t va, uint64_t v)
{
	uint8_t b[8];
	put(b, 0, p->ps, v);
	db_mem_write(m, va, b, p->ps);
}

void kbp_write(struct kbp *p, struct db_kd *kd, uint64_t kdtb, struct db_mem *m,
	       uint64_t kernbase, uint64_t table_base)
{
	const struct lay *L = p->L;
	uint64_t n = 1ull << p->k, mask = n - 1;
	history(p);
	spread(p);
	/* indices: global table, by hash with linear probing */
	bool *used = calloc(n, 1);
	if (!used)
		abort();
	for (size_t i = 0; i < p->nt; i++) {
		uint64_t b = bucket(key_of(p->t[i].tag), mask);
		while (used[b])
			b = (b + 1) & mask;
		used[b] = true;
		p->t[i].index = b;
	}
	uint32_t badkey = 0x01C2A5E3u;	/* corrupt 1: a key that is no tag */
	uint64_t badidx = 0;
	if (p->corrupt == 1) {
		badidx = bucket(badkey, mask);
		while (used[badidx])
			badidx = (badidx + 1) & mask;
		used[badidx] = true;
	}
	if (p->corrupt == 2) {
		/* corrupt 2: Ntfx's nonpaged frees exceed its allocs in the sum */
		for (size_t i = 0; i < p->nt; i++)
			if (!memcmp(p->t[i].tag, "Ntfx", 4)) {
				p->t[i].cpu[p->tag_tables && p->ncpu > 1][1] += p->t[i].v[0] + 5;
				p->bad = (long)i;
			}
	}
	free(used);
	uint32_t ntab = p->tag_tables ? p->ncpu : 1;
	uint64_t bytes = (uint64_t)L->size * (n + 1);
	uint8_t *buf = calloc(1, bytes);
	if (!buf)
		abort();
	for (uint32_t c = 0; c < ntab; c++) {
		memset(buf, 0, bytes);
		uint64_t va = table_base + (uint64_t)c * 0x100000;
		p->tables[c] = va;
		/* x86 scenario: the last processor's table (never used by a
		 * tag, see spread) misses its second page in the dump */
		uint64_t hole = p->ps == 4 && ntab > 3 && c == ntab - 1 && bytes > 0x2000 ? va + 0x1000 : 0;
		if (hole) {
			map(kd, kdtb, va, 0x1000);
			map(kd, kdtb, hole + 0x1000, bytes - 0x2000);
			p->hole = hole;
			for (uint64_t i = 0; i <= n; i++) {
				uint64_t a = va + i * L->size;
				p->hole_entries += a < hole + 0x1000 && a + L->size > hole;
			}
		} else {
			map(kd, kdtb, va, bytes);
		}
		for (size_t i = 0; i < p->nt; i++) {
			const struct tagrec *t = &p->t[i];
			const uint64_t *v = t->cpu[c];
			if (c > 0 && !v[0] && !v[1] && !v[2] && !v[3] && !v[4] && !v[5])
				continue;	/* this processor never used the tag */
			uint8_t *e = buf + t->index * L->size;
			put(e, L->key, 4, key_of(t->tag));
			put(e, L->npa, L->cw, v[0]);
			put(e, L->npf, L->cw, v[1]);
			put(e, L->npb, L->bw, v[2]);
			put(e, L->pa, L->cw, v[3]);
			put(e, L->pf, L->cw, v[4]);
			put(e, L->pb, L->bw, v[5]);
		}
		if (c == 0) {
			uint8_t *o = buf + n * L->size;	/* overflow entry: Key 0 */
			put(o, L->npa, L->cw, p->overflow[0]);
			put(o, L->npf, L->cw, p->overflow[1]);
			put(o, L->npb, L->bw, p->overflow[2]);
			if (p->corrupt == 1) {
				uint8_t *e = buf + badidx * L->size;
				put(e, L->key, 4, badkey);
				put(e, L->npa, L->cw, 1);
				put(e, L->npb, L->bw, 0x40);
			}
		}
		if (hole) {
			db_mem_write(m, va, buf, 0x1000);
			db_mem_write(m, hole + 0x1000, buf + 0x2000, bytes - 0x2000);
		} else {
			db_mem_write(m, va, buf, bytes);
		}
	}
	free(buf);
	if (p->corrupt == 1)
		p->bad = (long)badidx;
	p->var = kbp_variable(p, kernbase);
	map(kd, kdtb, p->var, p->ps);
	wptr(p, m, p->var, p->tables[0]);
	if (p->tag_tables) {
		p->ex_tables = kernbase + OFF_EX_POOL_TAG_TABLES;
		map(kd, kdtb, p->ex_tables, (uint64_t)(ntab + 1) * p->ps);
		for (uint32_t c = 0; c <= ntab; c++)
			wptr(p, m, p->ex_tables + (uint64_t)c * p->ps, c < ntab ? p->tables[c] : 0);
	}
}

void kbp_expect(const struct kbp *p, FILE *f)
{
	const struct lay *L = p->L;
	uint64_t n = 1ull << p->k;
	fprintf(f, "pool_table variable=0x%llx table=0x%llx entries=%llu entry_size=0x%x processors=%u "
		"tag_tables=%s%llx partial=%s\n",
		(unsigned long long)p->var, (unsigned long long)p->tables[0], (unsigned long long)(n + 1),
		L->size, p->ncpu, p->tag_tables ? "0x" : "none/",
		(unsigned long long)p->ex_tables, (p->tag_tables || p->ncpu == 1) && !p->hole ? "no" : "yes");
	fprintf(f, "pool_unreadable entries=%llu page=0x%llx\n", (unsigned long long)p->hole_entries,
		(unsigned long long)p->hole);
	for (size_t i = 0; i < p->nt; i++) {
		const struct tagrec *t = &p->t[i];
		fprintf(f, "pool_tag %.4s index=%llu np_allocs=%llu np_frees=%llu np_bytes=%llu "
			"p_allocs=%llu p_frees=%llu p_bytes=%llu\n", t->tag, (unsigned long long)t->index,
			(unsigned long long)t->v[0], (unsigned long long)t->v[1], (unsigned long long)t->v[2],
			(unsigned long long)t->v[3], (unsigned long long)t->v[4], (unsigned long long)t->v[5]);
	}
	fprintf(f, "pool_overflow np_allocs=%llu np_frees=%llu np_bytes=%llu\n",
		(unsigned long long)p->overflow[0], (unsigned long long)p->overflow[1],
		(unsigned long long)p->overflow[2]);
	if (p->corrupt == 1)
		fprintf(f, "pool_error entry=%ld address=0x%llx check=key\n", p->bad,
			(unsigned long long)(p->tables[0] + (uint64_t)p->bad * L->size));
	else if (p->corrupt == 2 && p->bad >= 0) {
		uint64_t idx = p->t[p->bad].index;
		fprintf(f, "pool_error entry=%llu address=0x%llx check=NonPagedFrees\n",
			(unsigned long long)idx, (unsigned long long)(p->tables[0] + idx * L->size));
	}
}
