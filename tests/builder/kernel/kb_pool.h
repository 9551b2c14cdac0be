/* SPDX-License-Identifier: MIT */
/*
 * kb_pool: the pool tracker tables of a kobjbuilder dump (WinDbg's
 * !poolused data) -- every pool_alloc of the scenario tallied by tag, plus
 * a made-up history of freed and paged allocations, spread over the
 * processors' tables.  Written from the sources cited in kb_pool.c, not
 * from icpheap's src/kernel/pool.c.
 */
#ifndef KB_POOL_H
#define KB_POOL_H

#include <stdint.h>
#include <stdio.h>

#include "dumpbuilder.h"

struct kbp;

/* arch_ps 4 or 8; build selects the _POOL_TRACKER_TABLE layout; scenario
 * names the variant (x64-7601-*: no ExPoolTagTables; *-pool-badtag,
 * *-pool-overflow: a corrupt table; *-pool-oldlayout: 0x28 entries on a
 * 19045 dump). */
struct kbp *kbp_new(unsigned ps, uint32_t build, uint32_t processors, const char *scenario);
void kbp_free(struct kbp *p);
/* One nonpaged pool block of `bytes` (header included) tagged tag. */
void kbp_alloc(struct kbp *p, const char tag[4], uint64_t bytes);
/* Lay the tables out: &nt!PoolTrackTable at kernbase + KBP_OFF_POOL_TRACK_TABLE
 * (what KDDEBUGGER_DATA64.PoolTrackTable, +0x1B8, holds). */
#define KBP_OFF_POOL_TRACK_TABLE 0xC3F1A8u
/* &nt!PoolTrackTable: kernbase + KBP_OFF_POOL_TRACK_TABLE, or in the
 * *-pool-top scenario KBP_POOL_TOP_VARIABLE, in the last MiB of the
 * address space below its 1 MiB search window's top (no ExPoolTagTables:
 * the search for them runs through the top page). */
#define KBP_POOL_TOP_VARIABLE 0xFFFFFFFFFFEFF1A8ull
uint64_t kbp_variable(const struct kbp *p, uint64_t kernbase);
void kbp_write(struct kbp *p, struct db_kd *kd, uint64_t kdtb, struct db_mem *m,
	       uint64_t kernbase, uint64_t table_base);
/* pool_* lines of the .expect file (README.md in this folder). */
void kbp_expect(const struct kbp *p, FILE *f);

#endif
