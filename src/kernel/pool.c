/* SPDX-License-Identifier: MIT */
/*
 * Pool usage by tag (!poolused) from the pool tracker tables.
 *
 * Where the tables are (sources read with the search tools, no code copied):
 *  - KDDEBUGGER_DATA64.PoolTrackTable holds &nt!PoolTrackTable at +0x1B8 on
 *    both arches (the public wdbgexts.h KDDEBUGGER_DATA64 field list: every
 *    field is a ULONG64, so the offset does not depend on the arch; it
 *    agrees with MmPageSize at +0x138 and PoolTrackTable at +0x1B8 in a
 *    documented Windows 10 KDBG dump, find_string "PoolTrackTable;").  The
 *    old kdexts !poolused reads the table through the same field
 *    (GetNtDebuggerDataPtrValue(PoolTrackTable)).
 *  - The table size, nt!PoolTrackTableSize, is not in KDBG.  Decompiled
 *    ExpInitializePoolTrackerTable (find_string "ExPoolTagTables = ") picks
 *    a power of two 2^k (4096, 512 on small machines, a registry value
 *    rounded down, at least 64), sets PoolTrackTableMask = 2^k - 1 and
 *    PoolTrackTableSize = 2^k + 1: the last entry is the overflow bucket.
 *    Here k is inferred from the table (infer_size below).
 *  - Tags sit where the hash puts them, with linear probing: bucket =
 *    mask & (r ^ (r >> 32)), r = 40543 * Key as a 64-bit product
 *    (decompiled ExpInsertPoolTracker / ExpAllocateBigPool, find_string
 *    "PoolTrackTable;"; ReactOS ntoskrnl/mm/ARM3/expool.c
 *    ExpComputeHashForTag says the same).
 *  - Processor n > 0 counts in its own table, ExPoolTagTables[n]
 *    (ExCreatePoolTagTable at processor start, find_string
 *    "ExCreatePoolTagTable("); ExPoolTagTables[0] = PoolTrackTable.  A
 *    per-processor slot takes its Key from the global table's same index
 *    before counting, so a tag's usage is the sum over the tables at one
 *    index.  ExAddPrivateDataToCrashDump adds every ExPoolTagTables[i] to
 *    crash dumps.  ExPoolTagTables is not in KDBG: it is looked for near
 *    nt!PoolTrackTable (find_tag_tables); when it is not found on a
 *    multi-processor dump, the figures are processor 0's and partial.
 *
 * Layout rows: src/types/pool_layout.c.  A row is used only if the table
 * fits it (check_table): keys where the hash puts them, printable tags,
 * empty entries all zero, and per tag (summed over all processors)
 * 0 <= Allocs - Frees, Bytes >= 0, Bytes = 0 exactly when nothing is
 * outstanding and at least one pool block (16 x64 / 8 x86 bytes) per
 * outstanding allocation.  Counters wrap (32-bit ones on busy machines),
 * so the checks use differences modulo the field width.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/kdump.h>
#include <icpheap/pool.h>

#include "core/bits.h"
#include "kernel/kernel_internal.h"

#define KDBG_POOL_TRACK_TABLE 0x1B8
#define KMIN 6			/* 64 buckets: the smallest table */
#define KMAX 18			/* 262144 buckets: larger ones are refused */
#define MAX_TABLES 64		/* per-processor tables summed at most */
#define TAG_TABLES_WINDOW (1u << 20)	/* searched each side of &PoolTrackTable */

static void add_msg(char **list, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_msg(char **list, size_t *n, const char *fmt, ...)
{
	if (*n >= 16)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) >= 0)
		list[(*n)++] = m;
	va_end(ap);
}
#define NOTE(u, ...) add_msg((u)->notes, &(u)->nnotes, __VA_ARGS__)
#define WARN(u, ...) add_msg((u)->warnings, &(u)->nwarnings, __VA_ARGS__)

uint32_t ich_pool_tag_hash(uint32_t key, uint64_t mask)
{
	uint64_t r = (uint64_t)40543 * key;
	return (uint32_t)((r ^ (r >> 32)) & mask);
}

/* The older hash: the WRK's POOLTAG_HASH (base/ntos/ex/pool.c, find_string
 * "#define POOLTAG_HASH"), 40543 * (((b0 << 2 ^ b1) << 2 ^ b2) << 2 ^ b3) >> 2;
 * a decompiled x86 ExpInsertPoolTracker uses it too.  Tried when no size
 * fits the newer hash (a build between the two is not named by a source). */
uint32_t ich_pool_tag_hash_wrk(uint32_t key, uint64_t mask)
{
	uint32_t b0 = key & 0xFF, b1 = (key >> 8) & 0xFF, b2 = (key >> 16) & 0xFF, b3 = key >> 24;
	uint32_t v = ((((b0 << 2) ^ b1) << 2 ^ b2) << 2) ^ b3;
	return (uint32_t)(((40543u * v) >> 2) & mask);
}

static void tag_chars(uint32_t key, char out[5])
{
	for (int i = 0; i < 4; i++) {
		unsigned c = (key >> (8 * i)) & 0xFF;
		out[i] = c >= 0x20 && c < 0x7F ? (char)c : '.';
	}
	out[4] = 0;
}

/* Printable ASCII, trailing NULs allowed (a tag shorter than 4 chars); the
 * top bit of the last byte is PROTECTED_POOL and is not part of the tag. */
static bool key_printable(uint32_t key)
{
	bool end = false;
	for (int i = 0; i < 4; i++) {
		unsigned c = (key >> (8 * i)) & 0xFF;
		if (i == 3)
			c &= 0x7F;
		if (c == 0 && i > 0) {
			end = true;
			continue;
		}
		if (end || c < 0x20 || c >= 0x7F)
			return false;
	}
	return true;
}

/* ---- reading one table's entries ------------------------------------ */

struct entry {
	uint32_t key;
	bool readable;
	uint64_t v[6];		/* np_allocs, np_frees, np_bytes, p_allocs, p_frees, p_bytes */
};

static uint64_t load(const uint8_t *p, unsigned w)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Entry i of the table at base; unreadable entries come back !readable. */
static void read_entry(struct ich_as *as, const struct ich_pool_tracker_layout *L,
		       uint64_t base, uint64_t i, struct entry *e)
{
	uint8_t buf[0x80];
	memset(e, 0, sizeof(*e));
	if (L->size > sizeof(buf))
		return;
	if (ich_as_read(as, base + i * L->size, buf, L->size, NULL) != L->size)
		return;
	e->readable = true;
	e->key = (uint32_t)load(buf + L->key, 4);
	const uint32_t off[6] = { L->np_allocs, L->np_frees, L->np_bytes,
				  L->p_allocs, L->p_frees, L->p_bytes };
	const unsigned w[6] = { L->count_width, L->count_width, L->bytes_width,
				L->count_width, L->count_width, L->bytes_width };
	for (int f = 0; f < 6; f++)
		e->v[f] = load(buf + off[f], w[f]);
}

/* Keys of entries [0, n] of a table; key_ok[i] false where unreadable.
 * Pages that failed once are not read again. */
static void read_keys(struct ich_as *as, const struct ich_pool_tracker_layout *L,
		      uint64_t base, uint64_t n, uint32_t *keys, bool *key_ok)
{
	uint64_t bad_page = UINT64_MAX;
	for (uint64_t i = 0; i <= n; i++) {
		uint64_t a = base + i * L->size + L->key;
		keys[i] = 0;
		key_ok[i] = false;
		if ((a >> 12) == bad_page)
			continue;
		uint8_t b[4];
		if (ich_as_read(as, a, b, 4, NULL) != 4) {	/* no error object per miss */
			bad_page = a >> 12;
			continue;
		}
		keys[i] = (uint32_t)load(b, 4);
		key_ok[i] = true;
	}
}

/* Is every readable key in [0, n) reachable from its hash bucket over
 * occupied slots (linear probing, mask n - 1)?  *bad: the first that is not. */
static bool probe_consistent(const uint32_t *keys, const bool *ok, uint64_t n, int hash,
			     uint64_t *bad)
{
	uint64_t mask = n - 1;
	for (uint64_t i = 0; i < n; i++) {
		if (!ok[i] || !keys[i])
			continue;
		uint64_t j = hash ? ich_pool_tag_hash_wrk(keys[i], mask) : ich_pool_tag_hash(keys[i], mask);
		for (uint64_t steps = 0; j != i; steps++, j = (j + 1) & mask) {
			if ((ok[j] && !keys[j]) || steps > n) {
				*bad = i;
				return false;
			}
		}
	}
	return true;
}

/* The table size: the largest 2^k (KMIN <= k <= KMAX) whose overflow entry
 * (index 2^k) is readable and under whose mask every key is where the hash
 * puts it.  A too-small k passes too (its keys are a prefix), so the largest
 * wins; a too-large one takes memory past the table, whose zeros or data
 * break the probe chains of about half the keys. */
static bool infer_size(const uint32_t *keys, const bool *ok, int kmax, int hash, uint64_t *n_out,
		       size_t *nkeys, uint64_t *bad_index)
{
	*bad_index = UINT64_MAX;
	for (int k = kmax; k >= KMIN; k--) {
		uint64_t n = 1ull << k, bad;
		if (!ok[n])
			continue;
		size_t cnt = 0;
		for (uint64_t i = 0; i < n; i++)
			cnt += ok[i] && keys[i];
		if (!cnt)
			continue;
		if (!probe_consistent(keys, ok, n, hash, &bad)) {
			if (*bad_index == UINT64_MAX || bad < *bad_index)
				*bad_index = bad;
			continue;
		}
		*n_out = n;
		*nkeys = cnt;
		return true;
	}
	return false;
}

/* ---- per-processor tables (nt!ExPoolTagTables) ----------------------- */

/* Does the table at t hold only keys the global table holds at the same
 * index (or none)?  It must be readable somewhere. */
static bool is_tag_table(struct ich_as *as, const struct ich_pool_tracker_layout *L, uint64_t t,
			 const uint32_t *gkeys, uint64_t n)
{
	bool any = false;
	uint64_t bad_page = UINT64_MAX;
	for (uint64_t i = 0; i <= n; i++) {
		uint64_t a = t + i * L->size + L->key;
		if ((a >> 12) == bad_page)
			continue;
		uint8_t b[4];
		if (ich_as_read(as, a, b, 4, NULL) != 4) {
			bad_page = a >> 12;
			continue;
		}
		uint32_t v = (uint32_t)load(b, 4);
		any = true;
		if (v && v != gkeys[i] && i < n)
			return false;
	}
	return any;
}

/* Look for ExPoolTagTables: an array of pointers in the kernel's data
 * whose element 0 is PoolTrackTable and whose next processors-1 elements
 * are page-aligned tag tables (ExCreatePoolTagTable allocates them with
 * MmAllocateIndependentPages).  Searched in the 1 MB each side of
 * &PoolTrackTable: an assumption about where the linker put the two
 * variables, not a documented fact; when it fails the result says so. */
static uint64_t find_tag_tables(struct ich_kernel *k, const struct ich_pool_tracker_layout *L,
				uint64_t var, uint64_t table, const uint32_t *gkeys, uint64_t n,
				uint32_t ncpu, uint64_t *tables)
{
	unsigned ps = k->ptr;
	/* The window's pages counted from lo, not compared with an end
	 * address: near 2^64, var + the window wraps (nothing searched) or
	 * the page after the top one is 0 (2^52 pages searched). */
	uint64_t lo = var > TAG_TABLES_WINDOW ? (var - TAG_TABLES_WINDOW) & ~0xFFFull : 0;
	uint64_t pages = (ich_add_sat(var, TAG_TABLES_WINDOW) - lo + 0xFFF) >> 12;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t page = lo + (i << 12);
		const uint8_t *p = ich_as_peek(k->as, page, 0x1000);
		if (!p)
			continue;
		for (unsigned off = 0; off + ps <= 0x1000; off += ps) {
			uint64_t slot = page + off;
			if (slot == var || load(p + off, ps) != table)
				continue;
			bool good = true;
			for (uint32_t c = 1; c < ncpu && good; c++) {
				uint64_t t = 0;
				struct ich_error *err = ich_as_read_ptr(k->as, slot + (uint64_t)c * ps, &t);
				if (err) {
					ich_error_destroy(err);
					good = false;
					break;
				}
				good = t && t != table && !(t & 0xFFF) && is_tag_table(k->as, L, t, gkeys, n);
				tables[c] = t;
			}
			if (good)
				return slot;
		}
	}
	return 0;
}

/* ---- checking a layout against the table ----------------------------- */

struct sums {
	uint32_t key;
	uint64_t v[6];
	bool any;		/* some table's entry was readable */
	bool all;		/* every table's entry was readable */
};

static const char *const field_names[6] = {
	"NonPagedAllocs", "NonPagedFrees", "NonPagedBytes", "PagedAllocs", "PagedFrees", "PagedBytes",
};

static uint64_t wmask(unsigned w) { return w >= 8 ? UINT64_MAX : (1ull << (8 * w)) - 1; }
static int64_t as_signed(uint64_t v, unsigned w)
{
	if (w >= 8)
		return (int64_t)v;
	uint64_t sign = 1ull << (8 * w - 1);
	return (int64_t)((v ^ sign) - sign);
}

/* The first per-tag invariant broken by s (summed over every processor's
 * table), written to msg; false if none. */
static bool sum_broken(const struct ich_pool_tracker_layout *L, unsigned unit,
		       const struct sums *s, char *msg, size_t len)
{
	for (int pool = 0; pool < 2; pool++) {
		const uint64_t *v = s->v + 3 * pool;
		int64_t out = as_signed((v[0] - v[1]) & wmask(L->count_width), L->count_width);
		int64_t bytes = as_signed(v[2], L->bytes_width);
		const char *name = pool ? "Paged" : "NonPaged";
		if (out < 0) {
			snprintf(msg, len, "%sFrees %" PRIu64 " > %sAllocs %" PRIu64, name, v[1], name, v[0]);
			return true;
		}
		if (bytes < 0) {
			snprintf(msg, len, "%sBytes %" PRId64 " is negative", name, bytes);
			return true;
		}
		if ((out == 0) != (bytes == 0)) {
			snprintf(msg, len, "%" PRId64 " %s allocations outstanding but %sBytes %" PRId64,
				 out, name, name, bytes);
			return true;
		}
		if (out > 0 && (uint64_t)bytes / unit < (uint64_t)out) {
			snprintf(msg, len, "%sBytes %" PRId64 " is less than %" PRId64 " outstanding blocks of %u bytes",
				 name, bytes, out, unit);
			return true;
		}
	}
	return false;
}

struct candidate {
	const struct ich_pool_tracker_layout *L;
	uint64_t n;			/* 2^k */
	size_t nkeys;
	uint32_t *keys;			/* global table's keys [0, n] */
	bool wrk_hash;			/* keys placed by the WRK's POOLTAG_HASH */
	bool *key_ok;
	char why[320];			/* refused: the failed check */
};

static void candidate_free(struct candidate *c)
{
	free(c->keys);
	free(c->key_ok);
	c->keys = NULL;
	c->key_ok = NULL;
}

/* Size and structural checks of one row against the global table. */
static bool try_row(struct ich_kernel *k, struct candidate *c, uint64_t table)
{
	const struct ich_pool_tracker_layout *L = c->L;
	/* Only sizes whose overflow entry can be read are candidates: find
	 * the largest first, so a 513-entry table costs 513 key reads, not
	 * 2^KMAX. */
	int kmax = KMIN - 1;
	for (int kk = KMAX; kk >= KMIN && kmax < KMIN; kk--) {
		uint8_t b[4];
		if (ich_as_read(k->as, table + (1ull << kk) * L->size + L->key, b, 4, NULL) == 4)
			kmax = kk;
	}
	if (kmax < KMIN) {
		snprintf(c->why, sizeof(c->why),
			 "the table at 0x%" PRIx64 " has no readable overflow entry for any size 2^k+1 (k = %d..%d): not in the dump",
			 table, KMIN, KMAX);
		return false;
	}
	uint64_t nmax = 1ull << kmax;
	c->keys = calloc(nmax + 1, sizeof(*c->keys));
	c->key_ok = calloc(nmax + 1, sizeof(*c->key_ok));
	if (!c->keys || !c->key_ok) {
		snprintf(c->why, sizeof(c->why), "out of memory");
		return false;
	}
	read_keys(k->as, L, table, nmax, c->keys, c->key_ok);
	if (!c->key_ok[0] && !c->key_ok[1ull << KMIN]) {
		snprintf(c->why, sizeof(c->why), "the table at 0x%" PRIx64 " is not in the dump", table);
		return false;
	}
	uint64_t bad, bad_wrk;
	c->wrk_hash = false;
	if (!infer_size(c->keys, c->key_ok, kmax, 0, &c->n, &c->nkeys, &bad) &&
	    !(c->wrk_hash = infer_size(c->keys, c->key_ok, kmax, 1, &c->n, &c->nkeys, &bad_wrk))) {
		if (bad != UINT64_MAX)
			snprintf(c->why, sizeof(c->why),
				 "entry %" PRIu64 " at 0x%" PRIx64 " (Key 0x%08x): no table size 2^k+1 (k = %d..%d) puts this key where the tag hash does",
				 bad, table + bad * L->size, c->keys[bad], KMIN, KMAX);
		else
			snprintf(c->why, sizeof(c->why),
				 "the table at 0x%" PRIx64 " holds no tag in any readable table size 2^k+1 (k = %d..%d)",
				 table, KMIN, KMAX);
		return false;
	}
	for (uint64_t i = 0; i < c->n; i++) {
		if (c->key_ok[i] && c->keys[i] && !key_printable(c->keys[i])) {
			snprintf(c->why, sizeof(c->why),
				 "entry %" PRIu64 " at 0x%" PRIx64 ": Key 0x%08x is not a printable tag",
				 i, table + i * L->size, c->keys[i]);
			return false;
		}
	}
	return true;
}

/* Read and sum every table at every index, checking empty entries. */
static bool sum_tables(struct ich_kernel *k, struct candidate *c, const uint64_t *tables,
		       uint32_t ntables, struct sums *sums, uint64_t *unreadable, bool check_sums,
		       unsigned unit)
{
	const struct ich_pool_tracker_layout *L = c->L;
	const uint64_t masks[6] = { wmask(L->count_width), wmask(L->count_width), wmask(L->bytes_width),
				    wmask(L->count_width), wmask(L->count_width), wmask(L->bytes_width) };
	*unreadable = 0;
	for (uint64_t i = 0; i <= c->n; i++) {
		struct sums *s = &sums[i];
		memset(s, 0, sizeof(*s));
		s->key = c->keys[i];
		s->all = true;
		for (uint32_t t = 0; t < ntables; t++) {
			struct entry e;
			read_entry(k->as, L, tables[t], i, &e);
			if (!e.readable) {
				(*unreadable)++;
				s->all = false;
				continue;
			}
			s->any = true;
			bool empty = e.key == 0 && i < c->n;
			for (int f = 0; f < 6; f++) {
				if (empty && e.v[f]) {
					snprintf(c->why, sizeof(c->why),
						 "entry %" PRIu64 " at 0x%" PRIx64 " (table %u): Key 0 but %s %" PRIu64 " (an empty entry must be all zero)",
						 i, tables[t] + i * L->size, t, field_names[f], e.v[f]);
					return false;
				}
				s->v[f] = (s->v[f] + e.v[f]) & masks[f];
			}
		}
		char msg[200];
		/* a sum missing a processor's entry proves nothing */
		if (check_sums && i < c->n && s->key && s->all && sum_broken(L, unit, s, msg, sizeof(msg))) {
			char tag[5];
			tag_chars(s->key, tag);
			snprintf(c->why, sizeof(c->why), "entry %" PRIu64 " at 0x%" PRIx64 " (tag '%s'): %s%s",
				 i, tables[0] + i * L->size, tag, msg,
				 ntables > 1 ? " (summed over the processors' tables)" : "");
			return false;
		}
	}
	return true;
}

static int cmp_tag(const void *a, const void *b)
{
	const struct ich_pool_tag *x = a, *y = b;
	return memcmp(x->tag, y->tag, 4) ? memcmp(x->tag, y->tag, 4)
					 : (x->key < y->key ? -1 : x->key > y->key);
}

void ich_pool_usage_free(struct ich_pool_usage *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nnotes; i++)
		free(u->notes[i]);
	for (size_t i = 0; i < u->nwarnings; i++)
		free(u->warnings[i]);
	free(u->tags);
	free(u);
}

struct ich_error *ich_kernel_pool_usage(struct ich_kernel *k, struct ich_pool_usage **ret)
{
	struct ich_dump *dump = k->dump;
	const char *path = ich_dump_path(dump);
	*ret = NULL;
	if (!k->kdbg)
		return ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: KDDEBUGGER_DATA64 is missing or encoded, so nt!PoolTrackTable cannot be found without symbols",
			path);
	uint64_t mask = k->ptr == 4 ? 0xFFFFFFFFull : UINT64_MAX;
	uint64_t field = k->kdbg + KDBG_POOL_TRACK_TABLE, var = 0, table = 0;
	struct ich_error *err = ich_as_read_u64(k->as, field, &var);
	if (err)
		return ich_error_wrap(err, "%s: KDBG.PoolTrackTable at 0x%" PRIx64 ": ", path, field);
	var &= mask;
	if (!var)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: KDBG.PoolTrackTable at 0x%" PRIx64 " is 0: this kernel does not say where its pool tag table is",
			path, field);
	if ((err = ich_as_read_ptr(k->as, var, &table)))
		return ich_error_wrap(err, "%s: nt!PoolTrackTable at 0x%" PRIx64 " (from KDBG): ", path, var);
	if (!table)
		return ich_error_create(ICH_ERR_NOT_FOUND,
			"%s: nt!PoolTrackTable at 0x%" PRIx64 " is NULL: pool tagging is not enabled", path, var);

	struct ich_pool_usage *u = calloc(1, sizeof(*u));
	if (!u)
		return &ich_enomem;
	u->kdbg_field = field;
	u->table_variable = var;
	u->table = table;
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	u->processors = kd && kd->number_processors ? kd->number_processors : 1;
	enum ich_arch arch = ich_dump_arch(dump);
	unsigned unit = k->ptr == 8 ? 16 : 8;	/* POOL_BLOCK_SIZE: the smallest block */

	/* Candidate rows: the build's first, then the others of the arch. */
	const struct ich_pool_tracker_layout *order[16];
	size_t norder = 0;
	const struct ich_pool_tracker_layout *mine = ich_pool_layout_for(arch, k->build);
	if (mine)
		order[norder++] = mine;
	for (size_t i = ich_pool_layout_count(); i-- > 0 && norder < 16;) {
		const struct ich_pool_tracker_layout *L = ich_pool_layout(i);
		if (L->arch == arch && L != mine)
			order[norder++] = L;
	}
	if (!norder) {
		ich_pool_usage_free(u);
		return ich_error_create(ICH_ERR_LAYOUT, "%s: no _POOL_TRACKER_TABLE layout for %s",
					path, ich_arch_name(arch));
	}

	char first_why[320] = "";
	struct ich_error *result = NULL;
	for (size_t r = 0; r < norder; r++) {
		struct candidate c = { .L = order[r] };
		uint64_t tables[MAX_TABLES] = { table };
		uint32_t ntables = 1;
		uint64_t tag_tables = 0;
		bool ok = try_row(k, &c, table);
		uint32_t ncpu = u->processors;
		if (ok && ncpu > 1) {
			if (ncpu > MAX_TABLES)
				ncpu = MAX_TABLES;
			tag_tables = find_tag_tables(k, c.L, var, table, c.keys, c.n, ncpu, tables);
			if (tag_tables)
				ntables = ncpu;
		}
		struct sums *sums = NULL;
		uint64_t unreadable = 0;
		if (ok) {
			sums = calloc(c.n + 1, sizeof(*sums));
			if (!sums) {
				candidate_free(&c);
				ich_pool_usage_free(u);
				return &ich_enomem;
			}
			/* Per-tag sums are only meaningful over all processors. */
			bool all = ntables == u->processors;
			ok = sum_tables(k, &c, tables, ntables, sums, &unreadable, all, unit);
		}
		if (!ok) {
			if (!first_why[0])
				snprintf(first_why, sizeof(first_why), "%s", c.why);
			if (r == 0 || !result)
				NOTE(u, "_POOL_TRACKER_TABLE row \"%s\" refused: %s", c.L->label, c.why);
			free(sums);
			candidate_free(&c);
			continue;
		}
		/* This row fits. */
		u->layout = c.L;
		u->entries = c.n + 1;
		u->tag_tables = tag_tables;
		u->tables = ntables;
		u->unreadable_entries = unreadable;
		NOTE(u, "KDBG.PoolTrackTable 0x%" PRIx64 " -> nt!PoolTrackTable 0x%" PRIx64 " -> table 0x%" PRIx64,
		     field, var, table);
		NOTE(u, "_POOL_TRACKER_TABLE row \"%s\"%s (entry 0x%x bytes; %s)", c.L->label,
		     c.L->derived ? " (derived, confirmed by the table's invariants)" : "", c.L->size, c.L->source);
		if (r > 0)
			NOTE(u, "the row for build %u did not fit (%s); the row \"%s\" does", k->build, first_why,
			     c.L->label);
		NOTE(u, "table size inferred: %" PRIu64 " entries (2^%d + 1, last = overflow; nt!PoolTrackTableSize is not in KDBG), %zu tags; tag hash: %s",
		     u->entries, __builtin_ctzll(c.n), c.nkeys,
		     c.wrk_hash ? "the WRK's POOLTAG_HASH" : "40543 * Key ^ high dword");
		if (ntables > 1)
			NOTE(u, "nt!ExPoolTagTables found at 0x%" PRIx64 ": %u processors' tables summed",
			     tag_tables, ntables);
		if (u->processors > 1 && ntables == 1) {
			u->partial = true;
			WARN(u, "the other %u processors' tag tables (nt!ExPoolTagTables, not in KDBG) were not found near nt!PoolTrackTable: counts are processor 0's only",
			     u->processors - 1);
		}
		if (unreadable) {
			u->partial = true;
			WARN(u, "%" PRIu64 " tracker entries are on pages this dump does not hold", unreadable);
		}
		u->tags = calloc(c.nkeys ? c.nkeys : 1, sizeof(*u->tags));
		if (!u->tags) {
			free(sums);
			candidate_free(&c);
			ich_pool_usage_free(u);
			return &ich_enomem;
		}
		for (uint64_t i = 0; i <= c.n; i++) {
			struct ich_pool_tag *t;
			if (i == c.n)
				t = &u->overflow;
			else if (sums[i].key && u->ntags < c.nkeys)
				t = &u->tags[u->ntags++];
			else
				continue;
			t->key = sums[i].key;
			tag_chars(t->key, t->tag);
			t->np_allocs = sums[i].v[0];
			t->np_frees = sums[i].v[1];
			t->np_bytes = sums[i].v[2];
			t->p_allocs = sums[i].v[3];
			t->p_frees = sums[i].v[4];
			t->p_bytes = sums[i].v[5];
		}
		qsort(u->tags, u->ntags, sizeof(*u->tags), cmp_tag);
		free(sums);
		candidate_free(&c);
		*ret = u;
		return NULL;
	}
	result = ich_error_create(ICH_ERR_FORMAT,
		"%s: the pool tag table does not fit any _POOL_TRACKER_TABLE layout for %s build %u: %s",
		path, ich_arch_name(arch), k->build, first_why);
	ich_pool_usage_free(u);
	return result;
}

const struct ich_pool_tag *ich_pool_usage_find(const struct ich_pool_usage *u, const char *tag)
{
	char want[4] = { ' ', ' ', ' ', ' ' };
	for (size_t i = 0; i < 4 && tag[i]; i++)
		want[i] = tag[i];
	for (size_t i = 0; i < u->ntags; i++)
		if (!memcmp(u->tags[i].tag, want, 4))
			return &u->tags[i];
	return NULL;
}

/* ---- TagString (WinDbg: '?' one char, '*' any) ----------------------- */

bool ich_pool_tag_pattern_ok(const char *p)
{
	size_t n = strlen(p);
	if (!n || n > 32)
		return false;
	return strchr(p, '*') || n <= 4;
}

static bool match(const char *p, const char *t, size_t tn)
{
	if (!*p)
		return tn == 0;
	if (*p == '*') {
		for (size_t i = 0; i <= tn; i++)
			if (match(p + 1, t + i, tn - i))
				return true;
		return false;
	}
	if (!tn)
		return false;
	if (*p != '?' && *p != *t)
		return false;
	return match(p + 1, t + 1, tn - 1);
}

bool ich_pool_tag_match(const char *pattern, const char tag[4])
{
	if (!strchr(pattern, '*') && strlen(pattern) < 4) {
		/* a short tag is padded with spaces, as the kernel's tags are */
		char p[5] = "    ";
		memcpy(p, pattern, strlen(pattern));
		return match(p, tag, 4);
	}
	return match(pattern, tag, 4);
}
