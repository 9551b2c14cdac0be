/* SPDX-License-Identifier: MIT */
/*
 * Layout lookup, the --layout file loader and the `types` listing.  Built-in
 * rows (layout_table.c) are expanded once into struct ich_layout; rows
 * loaded from files are kept beside them and win on the same key.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "types/layout_internal.h"

static const char *const field_names[ICH_F_COUNT] = {
#define ICH_X(e, n) n,
	ICH_LAYOUT_FIELDS(ICH_X)
#undef ICH_X
};

const char *ich_field_name(enum ich_field f)
{
	return f < ICH_F_COUNT ? field_names[f] : NULL;
}

enum ich_field ich_field_by_name(const char *name)
{
	for (int f = 0; f < ICH_F_COUNT; f++)
		if (!strcmp(field_names[f], name))
			return (enum ich_field)f;
	return ICH_F_COUNT;
}

static struct ich_layout *builtin;	/* expanded ich_builtin_rows (immutable once built) */
static size_t nbuiltin;			/* the table's rows, then their ARM64 aliases */

/*
 * ARM64 rows.  Every x64 row gets an ARM64 twin with the same offsets,
 * marked derived.  The one PDB-derived ARM64 source found with the search
 * tools is ntdiff/headers Win10_20H1_18885/ARM64 (a 20H1 insider build):
 * its ntdll ALL_SORTED.h has _HEAP (Flags 0x70, EncodeFlagMask 0x7C,
 * Encoding 0x80, Signature 0x98, UCRList 0xF0, VirtualAllocdBlocks 0x110,
 * SegmentList 0x120, BlocksIndex 0x138, FreeLists 0x150, FrontEndHeap
 * 0x198, FrontEndHeapType 0x1A2, Counters 0x238, size 0x2C0), _HEAP_ENTRY
 * (0x10 bytes, Size +8, Flags +0xA, PreviousSize +0xC, UnusedBytes +0xF)
 * and _HEAP_VIRTUAL_ALLOC_ENTRY (BusyBlock +0x30, 0x40 bytes) exactly as
 * the x64 19041 row has them; EPROCESS differs (below).  Other builds have
 * no ARM64 source.  Why the heap structures agree: they are built
 * from pointers, LIST_ENTRYs and fixed-width integers, which have the same
 * size and alignment in the x64 and ARM64 MSVC ABIs (Microsoft, "Overview
 * of ARM64 ABI conventions", Alignment: the same natural alignment as
 * x64); ReactOS (reactos/reactos pull request 9020, "Fix packing leak and
 * ARM64 heap layouts") makes ARM64 "use the same Win64 heap metadata
 * layout that AMD64 already used".  For ntoskrnl the KPROCESS part of
 * EPROCESS holds architecture-specific fields, so these rows are weaker:
 * the kernel model tries every candidate row and its layout-free
 * discovery, and the heap walkers' runtime invariants (signatures,
 * checksums, list links) reject a wrong row as for x64.
 */
#define ARM64_ALIAS_SOURCE "ARM64 (derived: the x64 row's offsets, see src/types/layout.c) <- "

/*
 * Where an ARM64 PDB-derived header was found, its offsets replace the
 * alias's.  ntdiff/headers Win10_20H1_18885/ARM64/System32/ntdll.dll/
 * Standalone/_EPROCESS.h (a 20H1 insider build): KPROCESS is 0x2A8 bytes on
 * ARM64 (0x438 on x64 2004), DirectoryTableBase stays at 0x28, and every
 * EPROCESS field the kernel model reads sits 0x190 lower than on x64
 * 19041: UniqueProcessId 0x2B0, ActiveProcessLinks 0x2B8,
 * InheritedFromUniqueProcessId 0x3B0, Peb 0x3C0, ObjectTable 0x3E0,
 * WoW64Process 0x3F0, ImageFileName 0x418.  They go into the alias of the
 * x64 19041 row (2004 to 23H2); Windows 11's ARM64 KPROCESS is not
 * confirmed by a source, so those builds rest on the run-time checks.
 */
static const struct {
	uint32_t build_min;
	enum ich_field field;
	int32_t off;
} arm64_cited[] = {
	{ 19041, ICH_F_EPROCESS_DIRECTORY_TABLE_BASE, 0x28 },
	{ 19041, ICH_F_EPROCESS_UNIQUE_PROCESS_ID, 0x2B0 },
	{ 19041, ICH_F_EPROCESS_ACTIVE_PROCESS_LINKS, 0x2B8 },
	{ 19041, ICH_F_EPROCESS_INHERITED_FROM_UNIQUE_PROCESS_ID, 0x3B0 },
	{ 19041, ICH_F_EPROCESS_PEB, 0x3C0 },
	{ 19041, ICH_F_EPROCESS_OBJECT_TABLE, 0x3E0 },
	{ 19041, ICH_F_EPROCESS_WOW64_PROCESS, 0x3F0 },
	{ 19041, ICH_F_EPROCESS_IMAGE_FILE_NAME, 0x418 },
};
#define ARM64_CITED_SOURCE "ARM64 EPROCESS: ntdiff/headers Win10_20H1_18885/ARM64 _EPROCESS.h; the rest derived (the x64 row's offsets, see src/types/layout.c) <- "

static char *alias_source(const char *prefix, const char *x64_source)
{
	size_t n = strlen(prefix) + strlen(x64_source) + 1;
	char *s = malloc(n);
	if (!s)
		abort();
	snprintf(s, n, "%s%s", prefix, x64_source);
	return s;
}

/*
 * A registry: the built-in rows plus rows loaded from files.  Openers take
 * one, so two analyses in one process (or a test) can use different
 * --layout rows; NULL means the built-in rows only.  The old ich_layout_*
 * entry points use one default registry (the CLI loads --layout into it).
 */
struct ich_layouts {
	struct ich_layout *loaded;	/* rows from --layout files */
	size_t nloaded;
};

static struct ich_layouts default_registry;

struct ich_layouts *ich_layouts_default(void)
{
	return &default_registry;
}

struct ich_error *ich_layouts_create(struct ich_layouts **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? NULL : &ich_enomem;
}

static void free_loaded(struct ich_layouts *reg)
{
	for (size_t i = 0; i < reg->nloaded; i++) {
		free((char *)reg->loaded[i].module);
		free((char *)reg->loaded[i].label);
		free((char *)reg->loaded[i].source);
	}
	free(reg->loaded);
	reg->loaded = NULL;
	reg->nloaded = 0;
}

void ich_layouts_destroy(struct ich_layouts *reg)
{
	if (!reg || reg == &default_registry)
		return;
	free_loaded(reg);
	free(reg);
}

static void expand_builtin(void)
{
	if (builtin)
		return;
	size_t nx64 = 0;
	for (size_t i = 0; i < ich_builtin_row_count; i++)
		nx64 += ich_builtin_rows[i].arch == ICH_ARCH_X64;
	struct ich_layout *rows = calloc(ich_builtin_row_count + nx64, sizeof(*rows));
	if (!rows)
		abort();	/* a few KiB at start-up */
	for (size_t i = 0; i < ich_builtin_row_count; i++) {
		const struct row_def *d = &ich_builtin_rows[i];
		struct ich_layout *r = &rows[i];
		r->module = d->module;
		r->arch = d->arch;
		r->build_min = d->build_min;
		r->label = d->label;
		r->source = d->source;
		r->derived = d->derived;
		for (int f = 0; f < ICH_F_COUNT; f++)
			r->off[f] = -1;
		for (size_t g = 0; g < 8 && d->groups[g]; g++)
			for (const struct field_value *fv = d->groups[g]; fv->field != ICH_F_COUNT; fv++)
				r->off[fv->field] = fv->value;
	}
	size_t n = ich_builtin_row_count;
	for (size_t i = 0; i < ich_builtin_row_count; i++) {
		if (rows[i].arch != ICH_ARCH_X64)
			continue;
		rows[n] = rows[i];
		rows[n].arch = ICH_ARCH_ARM64;
		rows[n].derived = true;
		bool cited = false;
		for (size_t k = 0; k < sizeof(arm64_cited) / sizeof(arm64_cited[0]); k++)
			if (!strcmp(rows[n].module, "ntoskrnl") && rows[n].build_min == arm64_cited[k].build_min) {
				rows[n].off[arm64_cited[k].field] = arm64_cited[k].off;
				cited = true;
			}
		rows[n].source = alias_source(cited ? ARM64_CITED_SOURCE : ARM64_ALIAS_SOURCE, rows[i].source);
		n++;
	}
	nbuiltin = n;
	builtin = rows;
}

static size_t nloaded_of(const struct ich_layouts *reg)
{
	return reg ? reg->nloaded : 0;
}

/* Iterate all rows: loaded ones first so they shadow built-ins. */
static const struct ich_layout *row_at(const struct ich_layouts *reg, size_t i)
{
	expand_builtin();
	size_t nl = nloaded_of(reg);
	if (i < nl)
		return &reg->loaded[i];
	i -= nl;
	return i < nbuiltin ? &builtin[i] : NULL;
}

static bool shadowed(const struct ich_layouts *reg, size_t i, const struct ich_layout *r)
{
	/* a built-in row with the same key as a loaded row is hidden */
	size_t nl = nloaded_of(reg);
	if (i < nl)
		return false;
	for (size_t j = 0; j < nl; j++)
		if (!strcmp(reg->loaded[j].module, r->module) && reg->loaded[j].arch == r->arch &&
		    reg->loaded[j].build_min == r->build_min)
			return true;
	return false;
}

const struct ich_layout *ich_layouts_find(const struct ich_layouts *reg, const char *module,
					  enum ich_arch arch, uint32_t build)
{
	const struct ich_layout *best = NULL;
	const struct ich_layout *r;
	for (size_t i = 0; (r = row_at(reg, i)); i++) {
		if (shadowed(reg, i, r) || strcmp(r->module, module) || r->arch != arch || r->build_min > build)
			continue;
		if (!best || r->build_min > best->build_min)
			best = r;
	}
	return best;
}

/* How far r's first build is from build, either way. */
static uint64_t build_dist(const struct ich_layout *r, uint32_t build)
{
	return r->build_min > build ? r->build_min - build : build - r->build_min;
}

size_t ich_layouts_candidates(const struct ich_layouts *reg, const char *module, enum ich_arch arch,
			      uint32_t build, const struct ich_layout **out, size_t max)
{
	size_t n = 0;
	const struct ich_layout *first = ich_layouts_find(reg, module, arch, build);
	if (first && n < max)
		out[n++] = first;
	/* The rest by distance in builds, ties in row order: the matching
	 * rows gathered in one pass (row order), then a stable insertion
	 * sort by distance.  (It was a selection over every row per pick, a
	 * strcmp each: 1-2% of analyze --processes all on a kernel dump with
	 * 249 processes, issue 12.) */
	const struct ich_layout *r;
	size_t start = n;
	for (size_t i = 0; (r = row_at(reg, i)); i++) {
		if (r == first || shadowed(reg, i, r) || strcmp(r->module, module) || r->arch != arch)
			continue;
		uint64_t dist = build_dist(r, build);
		if (n == max) {
			/* full: r displaces the farthest kept row, when nearer */
			if (n == start)
				break;
			if (build_dist(out[n - 1], build) <= dist)
				continue;
			n--;
		}
		size_t k = n;
		for (; k > start && build_dist(out[k - 1], build) > dist; k--)
			out[k] = out[k - 1];
		out[k] = r;
		n++;
	}
	return n;
}

const struct ich_layout *ich_layout_find(const char *module, enum ich_arch arch, uint32_t build)
{
	return ich_layouts_find(&default_registry, module, arch, build);
}

size_t ich_layout_candidates(const char *module, enum ich_arch arch, uint32_t build,
			     const struct ich_layout **out, size_t max)
{
	return ich_layouts_candidates(&default_registry, module, arch, build, out, max);
}

void ich_layout_reset(void)
{
	free_loaded(&default_registry);
}

const char *ich_layout_missing(const struct ich_layout *row, const enum ich_field *need, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ich_layout_off(row, need[i]) < 0)
			return ich_field_name(need[i]);
	return NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool parse_arch(const char *s, enum ich_arch *a)
{
	if (!strcasecmp(s, "x64") || !strcasecmp(s, "amd64"))
		*a = ICH_ARCH_X64;
	else if (!strcasecmp(s, "x86") || !strcasecmp(s, "i386"))
		*a = ICH_ARCH_X86;
	else if (!strcasecmp(s, "arm64") || !strcasecmp(s, "aarch64"))
		*a = ICH_ARCH_ARM64;
	else
		return false;
	return true;
}

static bool parse_num(const char *s, long long *v)
{
	char *end;
	errno = 0;
	*v = strtoll(s, &end, 0);
	return !errno && end != s && !*trim(end);
}

/*
 * Format (icpheap(1), LAYOUT FILE FORMAT):
 *   # comment
 *   [MODULE ARCH BUILD "label"]      MODULE ntdll|ntoskrnl, ARCH x86|x64
 *   base = MODULE ARCH BUILD         optional: start from that row's values
 *   source = free text               where the numbers come from
 *   derived = yes|no
 *   Struct.Field = OFFSET            decimal or 0x hex; -1 = absent
 */
struct ich_error *ich_layouts_load_file(struct ich_layouts *reg, const char *path)
{
	if (!reg)
		return ich_error_create(ICH_ERR_INVALID_ARG, "%s: no layout registry to load into", path);
	FILE *f = fopen(path, "r");
	if (!f)
		return ich_error_os(errno, path, "cannot open layout file");
	char line[1024];
	unsigned lineno = 0;
	struct ich_layout cur;
	bool have = false;
	struct ich_error *err = NULL;
	struct ich_layout *rows = NULL;
	size_t nrows = 0;
	for (;;) {
		bool eof = !fgets(line, sizeof(line), f);
		char *s = eof ? NULL : trim(line);
		if (!eof)
			lineno++;
		if (eof || *s == '[') {
			if (have) {
				struct ich_layout *nr = realloc(rows, (nrows + 1) * sizeof(*nr));
				if (!nr) {
					err = &ich_enomem;
					break;
				}
				rows = nr;
				rows[nrows++] = cur;
				have = false;
			}
			if (eof)
				break;
			char module[32], arch[16];
			unsigned build;
			int consumed = 0;
			if (sscanf(s, "[%31s %15s %u%n", module, arch, &build, &consumed) != 3 ||
			    (strcmp(module, "ntdll") && strcmp(module, "ntoskrnl"))) {
				err = ich_error_create(ICH_ERR_INVALID_ARG,
					"%s:%u: expected [ntdll|ntoskrnl x86|x64 BUILD \"label\"]", path, lineno);
				break;
			}
			memset(&cur, 0, sizeof(cur));
			if (!parse_arch(arch, &cur.arch)) {
				err = ich_error_create(ICH_ERR_INVALID_ARG, "%s:%u: unknown arch \"%s\" (x86, x64 or arm64)",
						       path, lineno, arch);
				break;
			}
			cur.module = strdup(module);
			cur.build_min = build;
			char *q1 = strchr(s + consumed, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
			cur.label = q1 && q2 ? strndup(q1 + 1, (size_t)(q2 - q1 - 1)) : strdup("user row");
			cur.source = strdup(path);
			for (int i = 0; i < ICH_F_COUNT; i++)
				cur.off[i] = -1;
			have = true;
			continue;
		}
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq || !have) {
			err = ich_error_create(ICH_ERR_INVALID_ARG,
				"%s:%u: %s", path, lineno,
				have ? "expected NAME = VALUE" : "a [module arch build] header must come first");
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		if (!strcmp(key, "source")) {
			free((char *)cur.source);
			cur.source = strdup(val);
		} else if (!strcmp(key, "derived")) {
			cur.derived = !strcasecmp(val, "yes") || !strcmp(val, "1") || !strcasecmp(val, "true");
		} else if (!strcmp(key, "base")) {
			char module[32], arch[16];
			unsigned build;
			enum ich_arch a;
			const struct ich_layout *b;
			if (sscanf(val, "%31s %15s %u", module, arch, &build) != 3 || !parse_arch(arch, &a) ||
			    !(b = ich_layouts_find(reg, module, a, build))) {
				err = ich_error_create(ICH_ERR_INVALID_ARG,
					"%s:%u: base \"%s\": no such row (MODULE ARCH BUILD)", path, lineno, val);
				break;
			}
			memcpy(cur.off, b->off, sizeof(cur.off));
		} else {
			enum ich_field fld = ich_field_by_name(key);
			long long v;
			if (fld == ICH_F_COUNT) {
				err = ich_error_create(ICH_ERR_INVALID_ARG,
					"%s:%u: unknown field \"%s\" (icpheap types lists them)", path, lineno, key);
				break;
			}
			if (!parse_num(val, &v) || v < -1 || v > 0x100000) {
				err = ich_error_create(ICH_ERR_INVALID_ARG,
					"%s:%u: bad offset \"%s\" for %s", path, lineno, val, key);
				break;
			}
			cur.off[fld] = (int32_t)v;
		}
	}
	fclose(f);
	if (err) {
		if (have) {
			free((char *)cur.module);
			free((char *)cur.label);
			free((char *)cur.source);
		}
		for (size_t i = 0; i < nrows; i++) {
			free((char *)rows[i].module);
			free((char *)rows[i].label);
			free((char *)rows[i].source);
		}
		free(rows);
		return err;
	}
	if (!nrows) {
		/* A file with no rows: realloc(NULL, 0) would allocate a byte that
		 * nobody keeps (a leak found by the layout fuzz target). */
		free(rows);
		return NULL;
	}
	struct ich_layout *all = realloc(reg->loaded, (reg->nloaded + nrows) * sizeof(*all));
	if (!all) {
		for (size_t i = 0; i < nrows; i++) {
			free((char *)rows[i].module);
			free((char *)rows[i].label);
			free((char *)rows[i].source);
		}
		free(rows);
		return &ich_enomem;
	}
	/* newer files first: they shadow older ones on the same key */
	memmove(all + nrows, all, reg->nloaded * sizeof(*all));
	memcpy(all, rows, nrows * sizeof(*all));
	reg->loaded = all;
	reg->nloaded += nrows;
	free(rows);
	return NULL;
}

struct ich_error *ich_layout_load_file(const char *path)
{
	return ich_layouts_load_file(&default_registry, path);
}

void ich_layout_print_table(FILE *f, bool json)
{
	ich_layouts_print_table(&default_registry, f, json);
}

void ich_layouts_print_table(const struct ich_layouts *reg, FILE *f, bool json)
{
	const struct ich_layout *r;
	if (json) {
		struct ich_json j;
		ich_json_init(&j, f, true);
		/* schemas/types.schema.json */
		ich_json_begin_object(&j, NULL);
		ich_json_string(&j, "schema", "icpheap.types/1");
		ich_json_begin_array(&j, "layouts");
		for (size_t i = 0; (r = row_at(reg, i)); i++) {
			if (shadowed(reg, i, r))
				continue;
			ich_json_begin_object(&j, NULL);
			ich_json_string(&j, "module", r->module);
			ich_json_string(&j, "arch", ich_arch_name(r->arch));
			ich_json_u64(&j, "build", r->build_min);
			ich_json_string(&j, "label", r->label);
			ich_json_string(&j, "source", r->source);
			ich_json_bool(&j, "derived", r->derived);
			ich_json_bool(&j, "loaded", i < nloaded_of(reg));
			ich_json_begin_object(&j, "fields");
			for (int fld = 0; fld < ICH_F_COUNT; fld++)
				if (r->off[fld] >= 0)
					ich_json_u64(&j, field_names[fld], (uint64_t)r->off[fld]);
			ich_json_end_object(&j);
			ich_json_end_object(&j);
		}
		ich_json_end_array(&j);
		ich_json_end_object(&j);
		ich_json_finish(&j);
		return;
	}
	for (size_t i = 0; (r = row_at(reg, i)); i++) {
		if (shadowed(reg, i, r))
			continue;
		fprintf(f, "%-8s %-3s %5u+  %s%s%s\n         source: %s\n", r->module,
			ich_arch_name(r->arch), r->build_min, r->label,
			r->derived ? "  [derived]" : "", i < nloaded_of(reg) ? "  [loaded]" : "", r->source);
		int col = 0;
		for (int fld = 0; fld < ICH_F_COUNT; fld++) {
			if (r->off[fld] < 0)
				continue;
			char cell[80];
			snprintf(cell, sizeof(cell), "%s=0x%x", field_names[fld], (unsigned)r->off[fld]);
			if (col + (int)strlen(cell) + 2 > 100) {
				fputc('\n', f);
				col = 0;
			}
			col += fprintf(f, "%s%s", col ? "  " : "         ", cell);
		}
		fputs("\n\n", f);
	}
}

const char *ich_layout_coverage(void)
{
	return "ntdll x86/x64: 7600-7601, 9200, 9600, 10240, 14393, 15063, 16299, 17134, 17763, 18362, 19041-19045, "
	       "22000, 22621/22631, 26100 (derived); ntoskrnl x64: 7600-22631 (+26100 derived), x86: 7600-19045";
}

const char *ich_windows_release_name(uint32_t build)
{
	static const struct { uint32_t build; const char *name; } names[] = {
		{ 2600, "Windows XP" }, { 3790, "Windows Server 2003 / XP x64" },
		{ 6000, "Windows Vista" }, { 6001, "Windows Vista SP1 / Server 2008" },
		{ 6002, "Windows Vista SP2 / Server 2008 SP2" }, { 7600, "Windows 7" },
		{ 7601, "Windows 7 SP1 / Server 2008 R2 SP1" }, { 9200, "Windows 8 / Server 2012" },
		{ 9600, "Windows 8.1 / Server 2012 R2" }, { 10240, "Windows 10 1507" },
		{ 10586, "Windows 10 1511" }, { 14393, "Windows 10 1607 / Server 2016" },
		{ 15063, "Windows 10 1703" }, { 16299, "Windows 10 1709" },
		{ 17134, "Windows 10 1803" }, { 17763, "Windows 10 1809 / Server 2019" },
		{ 18362, "Windows 10 1903" }, { 18363, "Windows 10 1909" },
		{ 19041, "Windows 10 2004" }, { 19042, "Windows 10 20H2" },
		{ 19043, "Windows 10 21H1" }, { 19044, "Windows 10 21H2" },
		{ 19045, "Windows 10 22H2" }, { 20348, "Windows Server 2022" },
		{ 22000, "Windows 11 21H2" }, { 22621, "Windows 11 22H2" },
		{ 22631, "Windows 11 23H2" }, { 26100, "Windows 11 24H2 / Server 2025" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].build == build)
			return names[i].name;
	return NULL;
}
