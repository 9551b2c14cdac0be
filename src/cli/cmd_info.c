/* SPDX-License-Identifier: MIT */
/*
 * icpheap info [--json] [-v] [-r] DUMP|DIR...
 *
 * What a triager reads first, in the spirit of WinDbg's vertarget,
 * .lastevent, ~ and lm: format, OS, process, exception, threads, modules,
 * memory; for kernel dumps the bugcheck and the header's kernel pointers.
 * Several dumps: one section each ("==> path <==" like head(1)); in JSON
 * always one array with one object per dump (schema: icpheap(1), JSON
 * SCHEMAS, "info").  One bad dump never stops the others; the exit code is
 * the worst.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>
#include <icpheap/minidump.h>
#include <icpheap/triage.h>

#include "cli/cli.h"
#include "cli/cli_layout.h"
#include "cli/parse_options.h"
#include "cli/records.h"
#include "core/json.h"

struct info_opts {
	bool recursive;		/* -r */
};

static const struct ich_option info_options[] = {
	{ 0, "json", ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, json), NULL,
	  "one JSON array, one object per dump (schema: icpheap(1))", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	{ 'v', "verbose", ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, verbose), NULL,
	  "also list memory ranges, memory regions and handles", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	ICH_OPTION_BOOL('r', NULL, struct info_opts, recursive,
			"walk folders recursively (dumps are recognised by content)"),
	ICH_OPTION_END,
};

/* ---- Names for well-known numbers ------------------------------------ */

/* schemas/info.schema.json */
#define ICH_SCHEMA_INFO "icpheap.info/1"

/* NTSTATUS and bug check names come from the library (icpheap/triage.h),
 * the same table analyze uses. */
static const char *ntstatus_name(uint32_t code)
{
	return ich_ntstatus_name(code);
}

static const char *bugcheck_name(uint32_t code)
{
	static char buf[64];
	return ich_bugcheck_name(code, buf, sizeof(buf));
}

/* MINIDUMP_TYPE bits (minidumpapiset.h), without the "MiniDump" prefix. */
static const char *const md_flag_names[] = {
	"WithDataSegs", "WithFullMemory", "WithHandleData", "FilterMemory",
	"ScanMemory", "WithUnloadedModules", "WithIndirectlyReferencedMemory",
	"FilterModulePaths", "WithProcessThreadData", "WithPrivateReadWriteMemory",
	"WithoutOptionalData", "WithFullMemoryInfo", "WithThreadInfo",
	"WithCodeSegs", "WithoutAuxiliaryState", "WithFullAuxiliaryState",
	"WithPrivateWriteCopyMemory", "IgnoreInaccessibleMemory",
	"WithTokenInformation", "WithModuleHeaders", "FilterTriage",
	"WithAvxXStateContext", "WithIptTrace", "ScanInaccessiblePartialPages",
	"FilterWriteCombinedMemory",
};
#define N_MD_FLAGS (sizeof(md_flag_names) / sizeof(md_flag_names[0]))

/*
 * Stream names as printed by info: MINIDUMP_STREAM_TYPE (minidumpapiset.h)
 * without the "Stream" suffix, then those written by Breakpad / Crashpad
 * (their minidump_format.h), then whatever the reader knows.
 */
static const char *const md_stream_names[] = {
	"Unused", "Reserved0", "Reserved1", "ThreadList", "ModuleList",
	"MemoryList", "Exception", "SystemInfo", "ThreadExList", "Memory64List",
	"CommentA", "CommentW", "HandleData", "FunctionTable",
	"UnloadedModuleList", "MiscInfo", "MemoryInfoList", "ThreadInfoList",
	"HandleOperationList", "Token", "JavaScriptData", "SystemMemoryInfo",
	"ProcessVmCounters", "IptTrace", "ThreadNames",
};

static const char *stream_name(uint32_t type)
{
	if (type < sizeof(md_stream_names) / sizeof(md_stream_names[0]))
		return md_stream_names[type];
	switch (type) {
	case 0x47670001: return "BreakpadInfo";
	case 0x47670002: return "BreakpadAssertionInfo";
	case 0x47670003: return "LinuxCpuInfo";
	case 0x47670004: return "LinuxProcStatus";
	case 0x47670005: return "LinuxLsbRelease";
	case 0x47670006: return "LinuxCmdLine";
	case 0x47670007: return "LinuxEnviron";
	case 0x47670008: return "LinuxAuxv";
	case 0x47670009: return "LinuxMaps";
	case 0x4767000a: return "LinuxDsoDebug";
	case 0x43500001: return "CrashpadInfo";
	}
	return ich_md_stream_name(type);
}

static const char *product_type_name(uint32_t t)
{
	switch (t) {	/* VER_NT_* */
	case 1: return "workstation";
	case 2: return "domain controller";
	case 3: return "server";
	}
	return NULL;
}

static const char *machine_name(uint32_t m)
{
	switch (m) {	/* IMAGE_FILE_MACHINE_* */
	case 0x14c: return "x86";
	case 0x8664: return "x64";
	case 0xaa64: return "arm64";
	case 0x1c4: return "arm";
	case 0x200: return "ia64";
	}
	return NULL;
}

/* ---- Small formatting helpers ---------------------------------------- */

/* "2016-10-13 22:17:00 UTC"; "" for 0. */
static const char *fmt_time(int64_t t, char *buf, size_t n)
{
	buf[0] = '\0';
	if (t <= 0)
		return buf;
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm))
		strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

/* FILETIME (100 ns since 1601) to time_t; 0 when out of range. */
static int64_t filetime_to_unix(uint64_t ft)
{
	const uint64_t epoch_diff = 11644473600ull;	/* 1601 -> 1970, seconds */
	uint64_t s = ft / 10000000u;
	if (s <= epoch_diff || s - epoch_diff > (uint64_t)INT32_MAX * 4)
		return 0;
	return (int64_t)(s - epoch_diff);
}

/* WinDbg lm style: 00007ff7`215e0000 for 64-bit, 0040f000 for 32-bit. */
static const char *fmt_ptr(uint64_t v, bool ptr64, char *buf, size_t n)
{
	if (ptr64)
		snprintf(buf, n, "%08" PRIx64 "`%08" PRIx64, v >> 32, v & 0xffffffffu);
	else
		snprintf(buf, n, "%08" PRIx64, v);
	return buf;
}

/* Strings from the dump may hold anything; keep the terminal sane. */
static void put_str(FILE *f, const char *s)
{
	if (!s)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

static const char *base_name(const char *path)
{
	if (!path)
		return NULL;
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b;
}

static void fmt_version(const struct ich_md_version *v, char *buf, size_t n)
{
	if (v->valid)
		snprintf(buf, n, "%u.%u.%u.%u", v->major, v->minor, v->build, v->revision);
	else
		buf[0] = '\0';
}

/* Address width of the tables: the OS's (a WOW64 dump lists 64-bit
 * modules and TEBs next to the 32-bit ones). */
static bool md_ptr64(const struct ich_dump *d)
{
	enum ich_arch a = ich_dump_arch(d);
	return a == ICH_ARCH_X64 || a == ICH_ARCH_ARM64 || a == ICH_ARCH_IA64;
}

/* ---- Memory info and handle summaries -------------------------------- */

struct meminfo_sum {
	uint64_t commit, reserve, free;		/* by State */
	uint64_t image, mapped, priv;		/* by Type (committed or reserved) */
};

static void meminfo_summary(const struct ich_minidump *md, struct meminfo_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < md->nmeminfo; i++) {
		const struct ich_md_meminfo *m = &md->meminfo[i];
		switch (m->state) {	/* MEM_COMMIT, MEM_RESERVE, MEM_FREE */
		case 0x1000: s->commit += m->region_size; break;
		case 0x2000: s->reserve += m->region_size; break;
		case 0x10000: s->free += m->region_size; break;
		default: break;
		}
		switch (m->type) {	/* MEM_IMAGE, MEM_MAPPED, MEM_PRIVATE */
		case 0x1000000: s->image += m->region_size; break;
		case 0x40000: s->mapped += m->region_size; break;
		case 0x20000: s->priv += m->region_size; break;
		default: break;
		}
	}
}

struct type_count {
	const char *type;	/* borrowed from the dump; NULL = unnamed */
	size_t count;
};

/* Handles counted by type name, most frequent first.  Returns a malloc'd
 * array (NULL with *n = 0 when there are none or memory runs out). */
static int cmp_type_count(const void *a, const void *b)
{
	const struct type_count *x = a, *y = b;
	if (!x->type != !y->type)
		return x->type ? -1 : 1;	/* unnamed last */
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->type ? x->type : "", y->type ? y->type : "");
}

static struct type_count *handle_summary(const struct ich_minidump *md, size_t *n)
{
	*n = 0;
	if (!md->nhandles)
		return NULL;
	struct type_count *tc = calloc(md->nhandles, sizeof(*tc));
	if (!tc)
		return NULL;
	for (size_t i = 0; i < md->nhandles; i++) {
		const char *t = md->handles[i].type_name;
		size_t k;
		for (k = 0; k < *n; k++)
			if ((!t && !tc[k].type) || (t && tc[k].type && !strcmp(t, tc[k].type)))
				break;
		if (k == *n) {
			tc[k].type = t;
			(*n)++;
		}
		tc[k].count++;
	}
	qsort(tc, *n, sizeof(*tc), cmp_type_count);
	return tc;
}

/* ---- Minidump: text -------------------------------------------------- */

static const char *md_image(const struct ich_minidump *md)
{
	return md->nmodules ? md->modules[0].name : NULL;
}

static void md_text(const struct ich_dump *d, FILE *f, bool verbose)
{
	const struct ich_minidump *md = ich_dump_minidump(d);
	bool p64 = md_ptr64(d);
	char tb[64], a1[32], a2[32];

	fprintf(f, "Format:      minidump (MDMP version 0x%08" PRIx32 ", %" PRIu32 " streams), %" PRIu64 " bytes, gzip: %s\n",
		md->version, md->number_of_streams, ich_dump_file_size(d),
		ich_dump_was_gzip(d) ? "yes" : "no");
	fprintf(f, "Written:     %s (time stamp %" PRIu32 ")\n", md->timestamp ?
		fmt_time(md->timestamp, tb, sizeof(tb)) : "unknown", md->timestamp);
	fprintf(f, "Dump flags:  0x%" PRIx64, md->flags);
	if (md->flags == 0) {
		fputs(" (Normal)", f);
	} else {
		const char *sep = " (";
		for (size_t b = 0; b < 64; b++) {
			if (!(md->flags & ((uint64_t)1 << b)))
				continue;
			if (b < N_MD_FLAGS)
				fprintf(f, "%s%s", sep, md_flag_names[b]);
			else
				fprintf(f, "%s0x%" PRIx64, sep, (uint64_t)1 << b);
			sep = "|";
		}
		fputc(')', f);
	}
	fputc('\n', f);

	fprintf(f, "Arch:        %s%s", ich_arch_name(ich_dump_arch(d)),
		ich_dump_is_wow64(d) ? " (WOW64: 32-bit process on 64-bit Windows)" : "");
	if (md->has_system_info)
		fprintf(f, ", %u processors", md->system_info.number_of_processors);
	fputc('\n', f);

	if (md->has_system_info) {
		const struct ich_md_system_info *si = &md->system_info;
		const char *rel = ich_cli_release_name(si->build_number);
		const char *pt = product_type_name(si->product_type);
		fprintf(f, "OS:          Windows %" PRIu32 ".%" PRIu32 ".%" PRIu32,
			si->major_version, si->minor_version, si->build_number);
		if (rel)
			fprintf(f, " (%s)", rel);
		if (pt)
			fprintf(f, ", %s", pt);
		else
			fprintf(f, ", product type %u", si->product_type);
		fprintf(f, ", platform %s\n", si->platform_id == 2 ? "WinNT" : "unknown");
		if (si->csd_version && si->csd_version[0]) {
			fputs("CSD:         ", f);
			put_str(f, si->csd_version);
			fputc('\n', f);
		}
	} else {
		fputs("OS:          unknown (no SystemInfo stream)\n", f);
	}
	if (md->has_misc_info && md->misc_info.has_build_strings && md->misc_info.build_string &&
	    md->misc_info.build_string[0]) {
		fputs("Build:       ", f);
		put_str(f, md->misc_info.build_string);
		fputc('\n', f);
	}

	const char *image = md_image(md);
	fputs("Process:     ", f);
	if (md->has_misc_info && md->misc_info.has_pid)
		fprintf(f, "pid %" PRIu32 " (0x%" PRIx32 ")", md->misc_info.process_id,
			md->misc_info.process_id);
	else
		fputs("pid unknown", f);
	if (image) {
		fputs(", ", f);
		put_str(f, base_name(image));
	}
	fputc('\n', f);
	if (md->has_misc_info && md->misc_info.has_times) {
		const struct ich_md_misc_info *mi = &md->misc_info;
		fprintf(f, "Times:       started %s, user %" PRIu32 " s, kernel %" PRIu32 " s\n",
			fmt_time(mi->process_create_time, tb, sizeof(tb)),
			mi->process_user_time, mi->process_kernel_time);
	}

	if (md->has_exception) {
		const struct ich_md_exception *e = &md->exception;
		const char *n = ntstatus_name(e->code);
		struct ich_crash crash;
		ich_crash_read((struct ich_dump *)d, &crash);
		char where[ICH_MODULE_NAME_MAX + 32] = "";
		if (crash.has_module)
			snprintf(where, sizeof(where), " (%s)", crash.location);
		fprintf(f, "Exception:   0x%08" PRIx32 "%s%s at 0x%" PRIx64 "%s, thread %" PRIu32 " (0x%" PRIx32 ")\n",
			e->code, n ? " " : "", n ? n : "", e->address, where, e->thread_id, e->thread_id);
		if (crash.has_fast_fail)
			fprintf(f, "             fast fail: %s (code %u)\n",
				ich_fast_fail_name(crash.fast_fail) ? ich_fast_fail_name(crash.fast_fail) : "unknown",
				crash.fast_fail);
		uint32_t np = e->number_parameters < 15 ? e->number_parameters : 15;
		if ((e->code == 0xc0000005 || e->code == 0xc0000006) && np >= 2) {
			const char *op = e->information[0] == 0 ? "read from" :
					 e->information[0] == 1 ? "write to" :
					 e->information[0] == 8 ? "execute at" : "access to";
			fprintf(f, "             %s 0x%" PRIx64 "\n", op, e->information[1]);
		}
		if (np) {
			fputs("             parameters:", f);
			for (uint32_t i = 0; i < np; i++)
				fprintf(f, " 0x%" PRIx64, e->information[i]);
			fputc('\n', f);
		}
		if (crash.has_arm64_context)
			fprintf(f, "             context: ARM64 pc 0x%" PRIx64 " sp 0x%" PRIx64 " fp 0x%" PRIx64
				" lr 0x%" PRIx64 " cpsr 0x%08" PRIx32 "\n", crash.arm64_pc, crash.arm64_sp,
				crash.arm64_fp, crash.arm64_lr, crash.arm64_cpsr);
	} else {
		fputs("Exception:   none recorded\n", f);
	}

	fprintf(f, "Memory:      %zu ranges, %" PRIu64 " bytes captured\n", md->nranges, md->captured_bytes);
	if (md->nmeminfo) {
		struct meminfo_sum s;
		meminfo_summary(md, &s);
		fprintf(f, "Regions:     %zu (MemoryInfoList): committed %" PRIu64 ", reserved %" PRIu64
			", free %" PRIu64 " bytes; image %" PRIu64 ", mapped %" PRIu64 ", private %" PRIu64 "\n",
			md->nmeminfo, s.commit, s.reserve, s.free, s.image, s.mapped, s.priv);
	}
	if (md->nhandles) {
		size_t nt = 0;
		struct type_count *tc = handle_summary(md, &nt);
		fprintf(f, "Handles:     %zu", md->nhandles);
		for (size_t i = 0; i < nt; i++) {
			fputs(i ? ", " : ": ", f);
			put_str(f, tc[i].type ? tc[i].type : "(no type)");
			fprintf(f, " %zu", tc[i].count);
		}
		fputc('\n', f);
		free(tc);
	}
	for (size_t i = 0; i < md->ncomments; i++) {
		fputs("Comment:     ", f);
		put_str(f, md->comments[i]);
		fputc('\n', f);
	}

	/* Streams: everything the directory holds, unused entries counted. */
	size_t unused = 0, unknown = 0;
	fprintf(f, "Streams:     ");
	const char *sep = "";
	for (size_t i = 0; i < md->nstreams; i++) {
		const struct ich_md_stream *s = &md->streams[i];
		if (s->type == 0) {
			unused++;
			continue;
		}
		const char *n = stream_name(s->type);
		if (n)
			fprintf(f, "%s%s(%" PRIu32 ")", sep, n, s->size);
		else
			fprintf(f, "%s0x%" PRIx32 "(%" PRIu32 ")", sep, s->type, s->size), unknown++;
		sep = ", ";
	}
	if (unused)
		fprintf(f, "%s%zu unused", sep, unused);
	fputc('\n', f);
	if (unknown)
		fprintf(f, "             %zu of unknown type\n", unknown);

	/* Threads, WinDbg ~ style: '#' marks the exception thread. */
	fprintf(f, "\nThreads: %zu\n", md->nthreads);
	if (md->nthreads)
		fprintf(f, "     tid   (hex)  %-*s  %-*s  suspend  name\n",
			p64 ? 17 : 8, "TEB", p64 ? 35 : 17, "stack (captured)");
	for (size_t i = 0; i < md->nthreads; i++) {
		const struct ich_md_thread *t = &md->threads[i];
		char a3[32];
		bool ev = md->has_exception && md->exception.thread_id == t->thread_id;
		fprintf(f, "%c %6" PRIu32 " %7" PRIx32 "  %s  %s-%s  %7" PRIu32,
			ev ? '#' : ' ', t->thread_id, t->thread_id,
			fmt_ptr(t->teb, p64, a1, sizeof(a1)),
			fmt_ptr(t->stack_start, p64, a2, sizeof(a2)),
			fmt_ptr(t->stack_start + t->stack_size, p64, a3, sizeof(a3)),
			t->suspend_count);
		if (t->name && t->name[0]) {
			fputs("  ", f);
			put_str(f, t->name);
		}
		fputc('\n', f);
	}

	/* Modules, WinDbg lm style. */
	fprintf(f, "\nModules: %zu\n", md->nmodules);
	if (md->nmodules)
		fprintf(f, "%-*s %-*s   %-20s %-16s %s\n", p64 ? 17 : 8, "start",
			p64 ? 17 : 8, "end", "module name", "file version", "path");
	for (size_t i = 0; i < md->nmodules; i++) {
		const struct ich_md_module *m = &md->modules[i];
		char ver[48];
		fmt_version(&m->file_version, ver, sizeof(ver));
		fprintf(f, "%s %s   ", fmt_ptr(m->base, p64, a1, sizeof(a1)),
			fmt_ptr(m->base + m->size, p64, a2, sizeof(a2)));
		const char *bn = base_name(m->name);
		int w = 0;
		if (bn) {
			put_str(f, bn);
			w = (int)strlen(bn);
		}
		fprintf(f, "%*s %-16s ", w < 20 ? 20 - w : 0, "", ver);
		put_str(f, m->name);
		fputc('\n', f);
	}
	if (md->nunloaded) {
		fprintf(f, "\nUnloaded modules: %zu\n", md->nunloaded);
		for (size_t i = 0; i < md->nunloaded; i++) {
			const struct ich_md_unloaded_module *m = &md->unloaded[i];
			fprintf(f, "%s %s   ", fmt_ptr(m->base, p64, a1, sizeof(a1)),
				fmt_ptr(m->base + m->size, p64, a2, sizeof(a2)));
			put_str(f, m->name);
			fputc('\n', f);
		}
	}

	if (verbose) {
		fprintf(f, "\nMemory ranges: %zu\n", md->nranges);
		for (size_t i = 0; i < md->nranges; i++) {
			const struct ich_md_range *r = &md->ranges[i];
			fprintf(f, "  %s-%s  %10" PRIu64 " bytes at file offset 0x%" PRIx64 "\n",
				fmt_ptr(r->start, p64, a1, sizeof(a1)),
				fmt_ptr(r->start + r->size, p64, a2, sizeof(a2)), r->size, r->rva);
		}
		if (md->nmeminfo) {
			fprintf(f, "\nMemory regions: %zu\n", md->nmeminfo);
			fprintf(f, "  %-*s %-*s %-*s  state     protect   type\n", p64 ? 17 : 8, "base",
				p64 ? 17 : 8, "end", p64 ? 17 : 8, "allocation");
			for (size_t i = 0; i < md->nmeminfo; i++) {
				const struct ich_md_meminfo *m = &md->meminfo[i];
				char a3[32];
				fprintf(f, "  %s %s %s  %08" PRIx32 "  %08" PRIx32 "  %08" PRIx32 "\n",
					fmt_ptr(m->base, p64, a1, sizeof(a1)),
					fmt_ptr(m->base + m->region_size, p64, a2, sizeof(a2)),
					fmt_ptr(m->allocation_base, p64, a3, sizeof(a3)),
					m->state, m->protect, m->type);
			}
		}
		if (md->nhandles) {
			fprintf(f, "\nHandles: %zu\n", md->nhandles);
			for (size_t i = 0; i < md->nhandles; i++) {
				const struct ich_md_handle *h = &md->handles[i];
				fprintf(f, "  0x%-6" PRIx64 " %-20s access 0x%08" PRIx32, h->handle,
					h->type_name ? h->type_name : "", h->granted_access);
				if (h->object_name && h->object_name[0]) {
					fputs("  ", f);
					put_str(f, h->object_name);
				}
				fputc('\n', f);
			}
		}
	}
}

/* ---- Minidump: JSON -------------------------------------------------- */

static void json_code(struct ich_json *j, uint32_t code, const char *name)
{
	char hex[16];
	snprintf(hex, sizeof(hex), "0x%08" PRIx32, code);
	ich_json_u64(j, "code", code);
	ich_json_string(j, "code_hex", hex);
	ich_json_string(j, "name", name);
}

/* JSON times are RFC 3339 UTC ("2016-10-13T22:17:00Z"); text keeps the
 * readable form. */
static void json_time(struct ich_json *j, const char *key, int64_t t)
{
	char tb[64];
	time_t tt = (time_t)t;
	struct tm tm;
	if (t > 0 && gmtime_r(&tt, &tm) && strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ", &tm))
		ich_json_string(j, key, tb);
	else
		ich_json_null(j, key);
}

static void md_json(const struct ich_dump *d, struct ich_json *j)
{
	const struct ich_minidump *md = ich_dump_minidump(d);
	ich_json_begin_object(j, "minidump");
	ich_json_u64(j, "version", md->version);
	ich_json_u64(j, "number_of_streams", md->number_of_streams);
	ich_json_u64(j, "timestamp", md->timestamp);
	json_time(j, "time", md->timestamp);
	ich_json_u64(j, "flags", md->flags);
	ich_json_begin_array(j, "flag_names");
	for (size_t b = 0; b < N_MD_FLAGS; b++)
		if (md->flags & ((uint64_t)1 << b))
			ich_json_string(j, NULL, md_flag_names[b]);
	ich_json_end_array(j);

	ich_json_begin_array(j, "streams");
	for (size_t i = 0; i < md->nstreams; i++) {
		const struct ich_md_stream *s = &md->streams[i];
		ich_json_begin_object(j, NULL);
		ich_json_u64(j, "type", s->type);
		ich_json_string(j, "name", s->type ? stream_name(s->type) : "Unused");
		ich_json_u64(j, "size", s->size);
		ich_json_u64(j, "rva", s->rva);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);

	if (md->has_system_info) {
		const struct ich_md_system_info *si = &md->system_info;
		ich_json_begin_object(j, "system_info");
		ich_json_u64(j, "processor_architecture", si->processor_architecture);
		ich_json_u64(j, "processor_level", si->processor_level);
		ich_json_u64(j, "processor_revision", si->processor_revision);
		ich_json_u64(j, "number_of_processors", si->number_of_processors);
		ich_json_u64(j, "product_type", si->product_type);
		ich_json_string(j, "product_type_name", product_type_name(si->product_type));
		ich_json_u64(j, "major_version", si->major_version);
		ich_json_u64(j, "minor_version", si->minor_version);
		ich_json_u64(j, "build_number", si->build_number);
		ich_json_u64(j, "platform_id", si->platform_id);
		ich_json_u64(j, "suite_mask", si->suite_mask);
		ich_json_string(j, "csd_version", si->csd_version ? si->csd_version : "");
		ich_json_end_object(j);
	} else {
		ich_json_null(j, "system_info");
	}

	if (md->has_misc_info) {
		const struct ich_md_misc_info *mi = &md->misc_info;
		ich_json_begin_object(j, "misc_info");
		ich_json_u64(j, "size_of_info", mi->size_of_info);
		ich_json_u64(j, "flags1", mi->flags1);
		if (mi->has_pid)
			ich_json_u64(j, "process_id", mi->process_id);
		else
			ich_json_null(j, "process_id");
		if (mi->has_times) {
			ich_json_u64(j, "process_create_time", mi->process_create_time);
			ich_json_u64(j, "process_user_time", mi->process_user_time);
			ich_json_u64(j, "process_kernel_time", mi->process_kernel_time);
		} else {
			ich_json_null(j, "process_create_time");
			ich_json_null(j, "process_user_time");
			ich_json_null(j, "process_kernel_time");
		}
		if (mi->has_power) {
			ich_json_u64(j, "processor_max_mhz", mi->processor_max_mhz);
			ich_json_u64(j, "processor_current_mhz", mi->processor_current_mhz);
		} else {
			ich_json_null(j, "processor_max_mhz");
			ich_json_null(j, "processor_current_mhz");
		}
		if (mi->has_timezone) {
			ich_json_string(j, "time_zone_standard_name", mi->time_zone_standard_name);
			ich_json_i64(j, "time_zone_bias", mi->time_zone_bias);
		} else {
			ich_json_null(j, "time_zone_standard_name");
			ich_json_null(j, "time_zone_bias");
		}
		ich_json_string(j, "build_string", mi->has_build_strings ? mi->build_string : NULL);
		ich_json_string(j, "dbg_bld_str", mi->has_build_strings ? mi->dbg_bld_str : NULL);
		ich_json_end_object(j);
	} else {
		ich_json_null(j, "misc_info");
	}

	ich_json_begin_object(j, "process");
	if (md->has_misc_info && md->misc_info.has_pid)
		ich_json_u64(j, "pid", md->misc_info.process_id);
	else
		ich_json_null(j, "pid");
	ich_json_string(j, "image", base_name(md_image(md)));
	ich_json_string(j, "image_path", md_image(md));
	json_time(j, "create_time", md->has_misc_info && md->misc_info.has_times ?
		  md->misc_info.process_create_time : 0);
	ich_json_end_object(j);

	/* The shared exception record (records.h), as analyze writes it. */
	struct ich_crash crash;
	ich_crash_read((struct ich_dump *)d, &crash);	/* reads memory: needs the non-const dump */
	ich_json_exception(j, "exception", &crash);
	if (crash.has_arm64_context) {
		/* ARM64_NT_CONTEXT of the exception (src/triage/crash.c) */
		ich_json_begin_object(j, "arm64_context");
		ich_json_addr(j, "context_flags", crash.arm64_context_flags);
		ich_json_addr(j, "cpsr", crash.arm64_cpsr);
		ich_json_addr(j, "pc", crash.arm64_pc);
		ich_json_addr(j, "sp", crash.arm64_sp);
		ich_json_addr(j, "fp", crash.arm64_fp);
		ich_json_addr(j, "lr", crash.arm64_lr);
		ich_json_end_object(j);
	}

	ich_json_begin_array(j, "threads");
	for (size_t i = 0; i < md->nthreads; i++) {
		const struct ich_md_thread *t = &md->threads[i];
		ich_json_begin_object(j, NULL);
		ich_json_u64(j, "id", t->thread_id);
		ich_json_addr(j, "teb", t->teb);
		ich_json_addr(j, "stack_start", t->stack_start);
		ich_json_addr(j, "stack_end", t->stack_start + t->stack_size);
		ich_json_u64(j, "stack_size", t->stack_size);
		ich_json_u64(j, "suspend_count", t->suspend_count);
		ich_json_u64(j, "priority_class", t->priority_class);
		ich_json_u64(j, "priority", t->priority);
		ich_json_string(j, "name", t->name);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);

	ich_json_begin_array(j, "modules");
	for (size_t i = 0; i < md->nmodules; i++) {
		const struct ich_md_module *m = &md->modules[i];
		char fv[48], pv[48];
		fmt_version(&m->file_version, fv, sizeof(fv));
		fmt_version(&m->product_version, pv, sizeof(pv));
		ich_json_begin_object(j, NULL);
		ich_json_addr(j, "base", m->base);
		ich_json_addr(j, "end", m->base + m->size);
		ich_json_u64(j, "size", m->size);
		ich_json_string(j, "name", base_name(m->name));
		ich_json_string(j, "path", m->name);
		ich_json_string(j, "file_version", fv[0] ? fv : NULL);
		ich_json_string(j, "product_version", pv[0] ? pv : NULL);
		ich_json_u64(j, "timestamp", m->timestamp);
		ich_json_u64(j, "checksum", m->checksum);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);

	ich_json_begin_array(j, "unloaded_modules");
	for (size_t i = 0; i < md->nunloaded; i++) {
		const struct ich_md_unloaded_module *m = &md->unloaded[i];
		ich_json_begin_object(j, NULL);
		ich_json_addr(j, "base", m->base);
		ich_json_addr(j, "end", m->base + m->size);
		ich_json_u64(j, "size", m->size);
		ich_json_string(j, "name", m->name);
		ich_json_u64(j, "timestamp", m->timestamp);
		ich_json_u64(j, "checksum", m->checksum);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);

	struct meminfo_sum s;
	meminfo_summary(md, &s);
	ich_json_begin_object(j, "memory");
	ich_json_u64(j, "ranges", md->nranges);
	ich_json_u64(j, "bytes", md->captured_bytes);
	ich_json_u64(j, "regions", md->nmeminfo);
	ich_json_u64(j, "committed", s.commit);
	ich_json_u64(j, "reserved", s.reserve);
	ich_json_u64(j, "free", s.free);
	ich_json_u64(j, "image", s.image);
	ich_json_u64(j, "mapped", s.mapped);
	ich_json_u64(j, "private", s.priv);
	ich_json_end_object(j);

	size_t nt = 0;
	struct type_count *tc = handle_summary(md, &nt);
	ich_json_begin_object(j, "handles");
	ich_json_u64(j, "count", md->nhandles);
	ich_json_begin_array(j, "by_type");
	for (size_t i = 0; i < nt; i++) {
		ich_json_begin_object(j, NULL);
		ich_json_string(j, "type", tc[i].type);
		ich_json_u64(j, "count", tc[i].count);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);
	ich_json_end_object(j);
	free(tc);

	ich_json_begin_array(j, "comments");
	for (size_t i = 0; i < md->ncomments; i++)
		ich_json_string(j, NULL, md->comments[i]);
	ich_json_end_array(j);
	ich_json_end_object(j);
}

/* ---- Kernel dump: text ----------------------------------------------- */

/* Windows pre-fills DUMP_HEADER with the dword 'PAGE' and leaves the
 * Comment so when nobody wrote one (the real 19045 and 19041 dumps). */
static bool is_page_filler(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] != "PAGE"[i % 4])
			return false;
	return true;
}

static void kd_text(const struct ich_dump *d, FILE *f, bool verbose)
{
	const struct ich_kdump *k = ich_dump_kdump(d);
	char tb[64];
	const char *tn = ich_kdump_type_name(k->dump_type);
	const char *mn = machine_name(k->machine_image_type);

	fprintf(f, "Format:      %s (%s, DumpType %" PRIu32 " %s", ich_dump_kind_name(d),
		k->is64 ? "PAGEDU64" : "PAGEDUMP", k->dump_type, tn ? tn : "unknown");
	if (k->bitmap_signature[0] && !strstr(ich_dump_kind_name(d), k->bitmap_signature))
		fprintf(f, ", %s", k->bitmap_signature);
	fprintf(f, "), %" PRIu64 " bytes, gzip: %s\n", ich_dump_file_size(d),
		ich_dump_was_gzip(d) ? "yes" : "no");
	fprintf(f, "Arch:        %s", ich_arch_name(ich_dump_arch(d)));
	if (mn)
		fprintf(f, " (MachineImageType 0x%" PRIx32 ")", k->machine_image_type);
	else
		fprintf(f, " (MachineImageType 0x%" PRIx32 ", unknown)", k->machine_image_type);
	if (!k->is64)
		fprintf(f, ", PAE %s", k->pae_enabled ? "on" : "off");
	fprintf(f, ", %" PRIu32 " processors\n", k->number_processors);

	uint32_t build = ich_dump_build(d);
	const char *rel = ich_cli_release_name(build);
	const char *pt = product_type_name(k->product_type);
	fprintf(f, "OS:          Windows build %" PRIu32, build);
	if (rel)
		fprintf(f, " (%s)", rel);
	fprintf(f, ", MajorVersion 0x%" PRIx32 " (%s)", k->major_version,
		k->major_version == 0xf ? "free" : k->major_version == 0xc ? "checked" : "?");
	if (pt)
		fprintf(f, ", %s", pt);
	fputc('\n', f);
	if (k->system_time)
		fprintf(f, "System time: %s\n", fmt_time(filetime_to_unix(k->system_time), tb, sizeof(tb)));
	if (k->system_up_time)
		fprintf(f, "Up time:     %" PRIu64 " s\n", k->system_up_time / 10000000u);

	const char *bn = bugcheck_name(k->bugcheck_code);
	fprintf(f, "Bugcheck:    0x%" PRIx32 "%s%s%s (0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ")\n",
		k->bugcheck_code, bn ? " " : "", bn ? bn : "",
		"",
		k->bugcheck_parameters[0], k->bugcheck_parameters[1],
		k->bugcheck_parameters[2], k->bugcheck_parameters[3]);
	if (k->exception_code || k->exception_address) {
		const char *n = ntstatus_name(k->exception_code);
		fprintf(f, "Exception:   0x%08" PRIx32 "%s%s at 0x%" PRIx64 "\n", k->exception_code,
			n ? " " : "", n ? n : "", k->exception_address);
	}
	fprintf(f, "DirectoryTableBase:  0x%" PRIx64 "\n", k->directory_table_base);
	fprintf(f, "PfnDataBase:         0x%" PRIx64 "\n", k->pfn_database);
	fprintf(f, "PsLoadedModuleList:  0x%" PRIx64 "\n", k->ps_loaded_module_list);
	fprintf(f, "PsActiveProcessHead: 0x%" PRIx64 "\n", k->ps_active_process_head);
	fprintf(f, "KdDebuggerDataBlock: 0x%" PRIx64 "\n", k->kd_debugger_data_block);
	if (k->comment[0] && !is_page_filler(k->comment)) {
		fputs("Comment:     ", f);
		put_str(f, k->comment);
		fputc('\n', f);
	}

	fprintf(f, "Dump space:  required 0x%" PRIx64 " bytes, file 0x%" PRIx64 " bytes\n",
		k->required_dump_space, ich_dump_file_size(d));
	if (k->nruns) {
		uint64_t pages = 0;
		for (size_t i = 0; i < k->nruns; i++)
			pages += k->runs[i].page_count;
		fprintf(f, "Physical memory: %zu runs, %" PRIu64 " pages (%" PRIu64 " MiB)\n",
			k->nruns, pages, (pages * 4096 + (1u << 19)) >> 20);
		size_t show = verbose || k->nruns <= 16 ? k->nruns : 16;
		fputs("  runs:", f);
		for (size_t i = 0; i < show; i++)
			fprintf(f, "%s [0x%" PRIx64 "+0x%" PRIx64 "]", i ? "," : "",
				k->runs[i].base_page, k->runs[i].page_count);
		if (show < k->nruns)
			fprintf(f, " ... (%zu more; -v lists all)", k->nruns - show);
		fputc('\n', f);
	}
	if (k->total_pages || k->present_pages)
		fprintf(f, "Pages:       %" PRIu64 " described, %" PRIu64 " present in the file (%" PRIu64 " MiB)\n",
			k->total_pages, k->present_pages, (k->present_pages * 4096 + (1u << 19)) >> 20);

	if (k->has_triage) {
		const struct ich_kdump_triage *t = &k->triage;
		fprintf(f, "Triage:      SizeOfDump 0x%" PRIx32 ", %" PRIu32 " drivers, %" PRIu32
			" data blocks (%" PRIu64 " bytes of kernel VA), TopOfStack 0x%" PRIx64 "\n",
			t->size_of_dump, t->driver_count, t->data_blocks_count, t->data_block_bytes,
			t->top_of_stack);
		fprintf(f, "  offsets:   Context 0x%" PRIx32 ", Exception 0x%" PRIx32 ", Mm 0x%" PRIx32
			", UnloadedDrivers 0x%" PRIx32 ", Prcb 0x%" PRIx32 ", Process 0x%" PRIx32
			", Thread 0x%" PRIx32 ", CallStack 0x%" PRIx32 " (0x%" PRIx32 " bytes)"
			", DriverList 0x%" PRIx32 ", StringPool 0x%" PRIx32 " (0x%" PRIx32 " bytes)"
			", DebuggerData 0x%" PRIx32 " (0x%" PRIx32 " bytes), DataBlocks 0x%" PRIx32 "\n",
			t->context_offset, t->exception_offset, t->mm_offset,
			t->unloaded_drivers_offset, t->prcb_offset, t->process_offset,
			t->thread_offset, t->call_stack_offset, t->size_of_call_stack,
			t->driver_list_offset, t->string_pool_offset, t->string_pool_size,
			t->debugger_data_offset, t->debugger_data_size, t->data_blocks_offset);
		if (verbose)
			fprintf(f, "  other:     ServicePackBuild 0x%" PRIx32 ", ValidOffset 0x%" PRIx32
				", BrokenDriverOffset 0x%" PRIx32 ", TriageOptions 0x%" PRIx32 "\n",
				t->service_pack_build, t->valid_offset, t->broken_driver_offset,
				t->triage_options);
	}
	if (k->truncated) {
		double pct = k->expected_file_size ?
			100.0 * (double)ich_dump_file_size(d) / (double)k->expected_file_size : 0;
		fprintf(f, "Truncated:   yes: the file has 0x%" PRIx64 " of 0x%" PRIx64 " bytes (%.3g%%); memory past the end cannot be read\n",
			ich_dump_file_size(d), k->expected_file_size, pct);
	}
}

/* ---- Kernel dump: JSON ----------------------------------------------- */

static void kd_json(const struct ich_dump *d, struct ich_json *j)
{
	const struct ich_kdump *k = ich_dump_kdump(d);
	ich_json_begin_object(j, "kernel");
	ich_json_string(j, "signature", k->is64 ? "PAGEDU64" : "PAGEDUMP");
	ich_json_bool(j, "is64", k->is64);
	ich_json_u64(j, "major_version", k->major_version);
	ich_json_u64(j, "minor_version", k->minor_version);
	ich_json_u64(j, "dump_type", k->dump_type);
	ich_json_string(j, "dump_type_name", ich_kdump_type_name(k->dump_type));
	ich_json_string(j, "bitmap_signature", k->bitmap_signature[0] ? k->bitmap_signature : NULL);
	ich_json_u64(j, "machine_image_type", k->machine_image_type);
	ich_json_u64(j, "number_processors", k->number_processors);
	ich_json_bool(j, "pae_enabled", k->pae_enabled);
	ich_json_u64(j, "product_type", k->product_type);
	ich_json_u64(j, "suite_mask", k->suite_mask);

	ich_json_begin_object(j, "bugcheck");
	const char *bn = bugcheck_name(k->bugcheck_code);
	char name[64];
	if (bn)
		snprintf(name, sizeof(name), "%s", bn);
	json_code(j, k->bugcheck_code, bn ? name : NULL);
	ich_json_begin_array(j, "parameters");
	for (int i = 0; i < 4; i++)
		ich_json_addr(j, NULL, k->bugcheck_parameters[i]);
	ich_json_end_array(j);
	ich_json_end_object(j);

	ich_json_begin_object(j, "exception");
	json_code(j, k->exception_code, ntstatus_name(k->exception_code));
	ich_json_addr(j, "address", k->exception_address);
	ich_json_end_object(j);

	ich_json_addr(j, "directory_table_base", k->directory_table_base);
	ich_json_addr(j, "pfn_database", k->pfn_database);
	ich_json_addr(j, "ps_loaded_module_list", k->ps_loaded_module_list);
	ich_json_addr(j, "ps_active_process_head", k->ps_active_process_head);
	ich_json_addr(j, "kd_debugger_data_block", k->kd_debugger_data_block);
	ich_json_u64(j, "required_dump_space", k->required_dump_space);
	ich_json_u64(j, "system_time_raw", k->system_time);
	json_time(j, "system_time", filetime_to_unix(k->system_time));
	ich_json_u64(j, "system_up_time_seconds", k->system_up_time / 10000000u);
	ich_json_u64(j, "mini_dump_fields", k->mini_dump_fields);
	ich_json_u64(j, "writer_status", k->writer_status);
	ich_json_u64(j, "kd_secondary_version", k->kd_secondary_version);
	ich_json_u64(j, "attributes", k->attributes);
	ich_json_u64(j, "boot_id", k->boot_id);
	ich_json_string(j, "comment", is_page_filler(k->comment) ? "" : k->comment);

	ich_json_begin_object(j, "physical_memory");
	ich_json_begin_array(j, "runs");
	uint64_t run_pages = 0;
	for (size_t i = 0; i < k->nruns; i++) {
		ich_json_begin_object(j, NULL);
		ich_json_u64(j, "base_page", k->runs[i].base_page);
		ich_json_u64(j, "page_count", k->runs[i].page_count);
		ich_json_end_object(j);
		run_pages += k->runs[i].page_count;
	}
	ich_json_end_array(j);
	ich_json_u64(j, "run_pages", run_pages);
	ich_json_u64(j, "total_pages", k->total_pages);
	ich_json_u64(j, "present_pages", k->present_pages);
	ich_json_u64(j, "first_page_offset", k->first_page_offset);
	ich_json_end_object(j);

	if (k->has_triage) {
		const struct ich_kdump_triage *t = &k->triage;
		ich_json_begin_object(j, "triage");
		ich_json_u64(j, "service_pack_build", t->service_pack_build);
		ich_json_u64(j, "size_of_dump", t->size_of_dump);
		ich_json_u64(j, "valid_offset", t->valid_offset);
		ich_json_u64(j, "context_offset", t->context_offset);
		ich_json_u64(j, "exception_offset", t->exception_offset);
		ich_json_u64(j, "mm_offset", t->mm_offset);
		ich_json_u64(j, "unloaded_drivers_offset", t->unloaded_drivers_offset);
		ich_json_u64(j, "prcb_offset", t->prcb_offset);
		ich_json_u64(j, "process_offset", t->process_offset);
		ich_json_u64(j, "thread_offset", t->thread_offset);
		ich_json_u64(j, "call_stack_offset", t->call_stack_offset);
		ich_json_u64(j, "size_of_call_stack", t->size_of_call_stack);
		ich_json_u64(j, "driver_list_offset", t->driver_list_offset);
		ich_json_u64(j, "driver_count", t->driver_count);
		ich_json_u64(j, "string_pool_offset", t->string_pool_offset);
		ich_json_u64(j, "string_pool_size", t->string_pool_size);
		ich_json_u64(j, "broken_driver_offset", t->broken_driver_offset);
		ich_json_u64(j, "triage_options", t->triage_options);
		ich_json_addr(j, "top_of_stack", t->top_of_stack);
		ich_json_u64(j, "debugger_data_offset", t->debugger_data_offset);
		ich_json_u64(j, "debugger_data_size", t->debugger_data_size);
		ich_json_u64(j, "data_blocks_offset", t->data_blocks_offset);
		ich_json_u64(j, "data_blocks_count", t->data_blocks_count);
		ich_json_u64(j, "data_block_bytes", t->data_block_bytes);
		ich_json_end_object(j);
	} else {
		ich_json_null(j, "triage");
	}
	ich_json_bool(j, "truncated", k->truncated);
	ich_json_u64(j, "expected_file_size", k->expected_file_size);
	ich_json_end_object(j);
}

/* ---- One dump -------------------------------------------------------- */

static void common_json(const struct ich_dump *d, struct ich_json *j)
{
	uint32_t build = ich_dump_build(d);
	ich_json_string(j, "path", ich_dump_path(d));
	ich_json_bool(j, "ok", true);
	ich_json_string(j, "format", ich_dump_kind(d) == ICH_DUMP_MINIDUMP ? "minidump" : "kernel");
	ich_json_string(j, "kind", ich_dump_kind_name(d));
	ich_json_bool(j, "gzip", ich_dump_was_gzip(d));
	ich_json_u64(j, "file_size", ich_dump_file_size(d));
	ich_json_string(j, "arch", ich_arch_name(ich_dump_arch(d)));
	ich_json_bool(j, "wow64", ich_dump_is_wow64(d));
	ich_json_u64(j, "build", build);
	ich_json_string(j, "release", build ? ich_cli_release_name(build) : NULL);
}

static void warnings_json(const struct ich_dump *d, struct ich_json *j)
{
	ich_json_begin_array(j, "warnings");
	for (size_t i = 0; i < ich_dump_warning_count(d); i++)
		ich_json_string(j, NULL, ich_dump_warning(d, i));
	ich_json_end_array(j);
}

static void warnings_text(const struct ich_dump *d, FILE *f)
{
	size_t n = ich_dump_warning_count(d);
	if (n)
		fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		fputs("warning: ", f);
		put_str(f, ich_dump_warning(d, i));
		fputc('\n', f);
	}
}

/* Report one dump; returns its exit code. */
static int info_one(const char *path, bool json, bool verbose, bool header,
		    bool first, struct ich_json *j)
{
	if (!json) {
		if (header)
			printf("%s==> %s <==\n", first ? "" : "\n", path);
	}
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(path, &d);
	if (err) {
		if (json) {
			ich_json_begin_object(j, NULL);
			ich_json_string(j, "schema", ICH_SCHEMA_INFO);
			ich_json_string(j, "path", path);
			ich_json_bool(j, "ok", false);
			ich_json_begin_object(j, "error");
			ich_json_string(j, "code", ich_error_code_name(err->code));
			ich_json_string(j, "message", err->message);
			ich_json_end_object(j);
			ich_json_end_object(j);
		} else {
			fputs("error: ", stdout);
			put_str(stdout, err->message);
			fputc('\n', stdout);
		}
		fflush(stdout);	/* keep stdout and stderr in order on a terminal */
		return ich_cli_fail(err);
	}
	if (json) {
		ich_json_begin_object(j, NULL);
		ich_json_string(j, "schema", ICH_SCHEMA_INFO);
		common_json(d, j);
		if (ich_dump_minidump(d))
			md_json(d, j);
		else
			ich_json_null(j, "minidump");
		if (ich_dump_kdump(d))
			kd_json(d, j);
		else
			ich_json_null(j, "kernel");
		warnings_json(d, j);
		ich_json_end_object(j);
	} else {
		if (ich_dump_minidump(d))
			md_text(d, stdout, verbose);
		else if (ich_dump_kdump(d))
			kd_text(d, stdout, verbose);
		warnings_text(d, stdout);
	}
	ich_dump_close(d);
	return ICH_EXIT_OK;
}

static int cmd_info(void *opts, int nargs, char **args, const struct ich_cli_global *g)
{
	const struct info_opts *o = opts;
	bool json = g->json, verbose = g->verbose, recursive = o->recursive;
	int n = 0;
	char **paths = ich_cli_expand_dumps(args, nargs, recursive, &n);
	if (!paths)
		return ICH_EXIT_INTERNAL;
	int worst = ICH_EXIT_OK;
	struct ich_json j;
	memset(&j, 0, sizeof(j));
	if (json) {
		ich_json_init(&j, stdout, true);
		ich_json_begin_array(&j, NULL);
	}
	bool header = n > 1 || nargs > 1;
	for (int i = 0; i < n; i++)
		worst = ich_cli_worst(worst, info_one(paths[i], json, verbose, header, i == 0, &j));
	if (n == 0) {
		fputs("icpheap info: no dumps found\n", stderr);
		worst = ich_cli_worst(worst, ICH_EXIT_DUMP);
	}
	if (json) {
		ich_json_end_array(&j);
		ich_json_finish(&j);
	}
	ich_cli_free_paths(paths);
	return worst;
}

const struct ich_cli_command ich_cmd_info = {
	.name = "info",
	.summary = "what a triager reads first: OS, process, exception, threads, modules, bugcheck",
	.synopsis = "[--json] [-v] [-r] DUMP|DIR...",
	.description = "  What a triager reads first (WinDbg vertarget, .lastevent, ~, lm):\n"
		       "  format, OS build, process, exception, threads, modules, memory, handles;\n"
		       "  for kernel dumps the bugcheck, kernel pointers and physical memory.\n",
	.options = info_options,
	.min_args = 1,
	.max_args = -1,
	.opts_size = sizeof(struct info_opts),
	.run = cmd_info,
};
