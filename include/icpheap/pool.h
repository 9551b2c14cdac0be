/* SPDX-License-Identifier: MIT */
/*
 * Pool usage by tag (WinDbg's !poolused) from a kernel dump without PDBs:
 * the pool tracker table that KDDEBUGGER_DATA64.PoolTrackTable points to
 * (processor 0's table) plus, when they can be found, the other processors'
 * tables (nt!ExPoolTagTables), summed per tag.  The _POOL_TRACKER_TABLE
 * layout is data (src/types/pool_layout.c, one row per arch and first
 * build, each citing its source) and is confirmed against the table before
 * anything is reported; the table size (nt!PoolTrackTableSize, not in
 * KDBG) is inferred from the table itself.  See src/kernel/pool.c.
 */
#ifndef ICPHEAP_POOL_H
#define ICPHEAP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/dump.h>
#include <icpheap/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_kernel;

/* One _POOL_TRACKER_TABLE layout: offsets and widths (4 or 8 bytes) of the
 * counters.  Rows and sources: src/types/pool_layout.c. */
struct ich_pool_tracker_layout {
	enum ich_arch arch;
	uint32_t build_min;		/* first build the row applies to */
	const char *label;		/* "x64 Windows 10 2004-22H2" */
	const char *source;		/* where the offsets come from */
	bool derived;			/* by analogy: no source shows this build */
	uint32_t size;			/* sizeof(_POOL_TRACKER_TABLE) */
	uint32_t key;			/* Key (ULONG, the tag) */
	uint32_t np_allocs, np_frees, np_bytes;
	uint32_t p_allocs, p_frees, p_bytes;
	uint8_t count_width;		/* Allocs/Frees: 4 (ULONG) or 8 */
	uint8_t bytes_width;		/* Bytes: 4 or 8 (SIZE_T, or ULONGLONG) */
};

/* The row for (arch, build): the nearest first build at or below it. */
const struct ich_pool_tracker_layout *ich_pool_layout_for(enum ich_arch arch, uint32_t build);
/* Every row (for the fallback search and `icpheap types`). */
size_t ich_pool_layout_count(void);
const struct ich_pool_tracker_layout *ich_pool_layout(size_t i);

/* Usage of one tag, summed over the tables read. */
struct ich_pool_tag {
	uint32_t key;			/* the tag as the ULONG Key */
	char tag[5];			/* 4 chars, non-printable as '.' */
	uint64_t np_allocs, np_frees, np_bytes;	/* nonpaged */
	uint64_t p_allocs, p_frees, p_bytes;	/* paged */
};

struct ich_pool_usage {
	uint64_t kdbg_field;		/* address of KDBG.PoolTrackTable */
	uint64_t table_variable;	/* &nt!PoolTrackTable (the KDBG value) */
	uint64_t table;			/* nt!PoolTrackTable (processor 0's table) */
	uint64_t entries;		/* PoolTrackTableSize: 2^k + 1 (last = overflow) */
	const struct ich_pool_tracker_layout *layout;	/* the row confirmed */
	uint32_t processors;		/* from the dump header */
	uint64_t tag_tables;		/* nt!ExPoolTagTables if found, else 0 */
	uint32_t tables;		/* tables summed (1 + other processors') */
	struct ich_pool_tag *tags;	/* every non-empty key, sorted by tag */
	size_t ntags;
	struct ich_pool_tag overflow;	/* the overflow entry (index entries-1) */
	uint64_t unreadable_entries;	/* entries on pages the dump lacks */
	bool partial;			/* unreadable entries, or tables missing */
	char *notes[16];		/* how it was found (for -v) */
	size_t nnotes;
	char *warnings[16];		/* why it is partial */
	size_t nwarnings;
};

/* Read the tag table.  ICH_ERR_UNSUPPORTED when KDBG cannot be used (absent
 * or encoded), ICH_ERR_FAULT when the table is not in the dump, and
 * ICH_ERR_FORMAT naming the entry's address and the failed check when no
 * layout row fits the table. */
struct ich_error *ich_kernel_pool_usage(struct ich_kernel *k, struct ich_pool_usage **ret);
void ich_pool_usage_free(struct ich_pool_usage *u);
/* The entry for tag (4 chars), or NULL. */
const struct ich_pool_tag *ich_pool_usage_find(const struct ich_pool_usage *u, const char *tag);

/* WinDbg's TagString: '?' one character, '*' any number; without '*' the
 * pattern must be 4 characters (shorter ones are padded with spaces as
 * tags are).  Case-sensitive.  False for a malformed pattern. */
bool ich_pool_tag_pattern_ok(const char *pattern);
bool ich_pool_tag_match(const char *pattern, const char tag[4]);

/* The tracker table's hash of a tag for a table of mask+1 buckets (see
 * src/kernel/pool.c for its source). */
uint32_t ich_pool_tag_hash(uint32_t key, uint64_t mask);
/* The older (WRK POOLTAG_HASH) one, tried when no size fits the first. */
uint32_t ich_pool_tag_hash_wrk(uint32_t key, uint64_t mask);

#ifdef __cplusplus
}
#endif
#endif
