/* SPDX-License-Identifier: MIT */
/*
 * Minidump writer.  Every structure follows Microsoft's minidumpapiset.h
 * (the MINIDUMP_* reference pages on learn.microsoft.com), which is packed
 * to 4 bytes (pshpack4.h): e.g. MINIDUMP_THREAD_NAME is 12 bytes and
 * MINIDUMP_MEMORY_LIST's descriptors start at offset 4.  Sizes used here:
 *   MINIDUMP_HEADER 32, MINIDUMP_DIRECTORY 12, MINIDUMP_THREAD 48,
 *   MINIDUMP_THREAD_EX 64, MINIDUMP_MODULE 108 (VS_FIXEDFILEINFO 52 at
 *   +24), MINIDUMP_UNLOADED_MODULE 24 (list header 12),
 *   MINIDUMP_MEMORY_DESCRIPTOR 16, MINIDUMP_MEMORY_DESCRIPTOR64 16
 *   (list header 16), MINIDUMP_MEMORY_INFO 48 (list header 16),
 *   MINIDUMP_HANDLE_DESCRIPTOR 32 / _2 40 (stream header 16),
 *   MINIDUMP_EXCEPTION_STREAM 168, MINIDUMP_SYSTEM_INFO 56,
 *   MINIDUMP_MISC_INFO 24 / _2 44 / _3 232 / _4 832 / _5 1364,
 *   MINIDUMP_THREAD_NAME 12.
 * (Cross-checked against breakpad's minidump_format.h, which mirrors them.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "db_internal.h"

#define MD_SIGNATURE 0x504D444Du	/* 'MDMP' */
#define MD_VERSION 0xA793u		/* MINIDUMP_VERSION */

enum {
	ST_UNUSED = 0,
	ST_THREAD_LIST = 3,
	ST_MODULE_LIST = 4,
	ST_MEMORY_LIST = 5,
	ST_EXCEPTION = 6,
	ST_SYSTEM_INFO = 7,
	ST_THREAD_EX_LIST = 8,
	ST_MEMORY64_LIST = 9,
	ST_COMMENT_A = 10,
	ST_COMMENT_W = 11,
	ST_HANDLE_DATA = 12,
	ST_UNLOADED_MODULE_LIST = 14,
	ST_MISC_INFO = 15,
	ST_MEMORY_INFO_LIST = 16,
	ST_THREAD_NAMES = 24,
};

/* CONTEXT_FULL: x86 CONTEXT_i386|CONTROL|INTEGER|SEGMENTS = 0x10007;
 * AMD64 CONTEXT_AMD64|CONTROL|INTEGER|FLOATING_POINT = 0x10000B (winnt.h). */
#define CONTEXT_FULL_X86 0x00010007u
#define CONTEXT_FULL_X64 0x0010000Bu
/* ContextFlags is at offset 0 of the x86 CONTEXT and at 0x30 of AMD64's. */
#define CONTEXT_FLAGS_OFF_X86 0x0
#define CONTEXT_FLAGS_OFF_X64 0x30

struct blob {
	uint8_t *data;
	uint32_t size;
};

struct thread {
	struct db_md_thread t;
	char *name;
	struct blob context;
};

struct range {
	uint64_t va, size;
	enum db_md_list list;
	uint64_t rva32, rva64;		/* after write */
};

struct stream {
	uint32_t type;
	struct blob data;		/* raw streams */
	char *text;			/* comments */
};

struct fixup {
	size_t off;			/* where the u32 RVA goes in meta */
	size_t range;			/* which range */
	bool list64;
	uint64_t delta;			/* plus this */
};

struct db_md {
	enum db_arch arch;
	struct db_mem *mem;
	uint16_t version_high;
	uint32_t timestamp;
	bool flags_set;
	uint64_t flags;
	unsigned unused_streams;
	enum db_md_thread_stream thread_stream;
	struct db_md_sysinfo si;
	char *csd_copy;
	bool wow64;

	struct thread *threads;		size_t nthreads;
	struct db_md_module *modules;	size_t nmodules;
	struct db_md_unloaded_module *unloaded;	size_t nunloaded;
	struct range *ranges;		size_t nranges;
	struct db_md_meminfo *meminfo;	size_t nmeminfo;
	unsigned handle_version;
	struct db_md_handle *handles;	size_t nhandles;
	bool has_exception;
	struct db_md_exception exc;
	struct blob exc_context;
	bool has_misc;
	struct db_md_misc_info misc;
	struct stream *streams;		size_t nstreams;	/* comments, raw */

	/* after write */
	struct { uint32_t type, size, rva; } *dir;
	size_t ndir;
};

#define PUSH(arr, n, v) do { \
	(arr) = db_grow((arr), (n), sizeof(*(arr))); \
	(arr)[(n)++] = (v); \
} while (0)

static uint32_t context_size(const struct db_md *md)
{
	/* WOW64 dumps from a 64-bit writer store AMD64 contexts. */
	return md->arch == DB_ARCH_X86 ? DB_CONTEXT_X86_SIZE : DB_CONTEXT_X64_SIZE;
}

static struct blob make_context(const struct db_md *md, const void *ctx, uint32_t size)
{
	struct blob b;
	if (ctx) {
		b.size = size ? size : context_size(md);
		b.data = db_xmalloc(b.size);
		memcpy(b.data, ctx, b.size);
		return b;
	}
	b.size = context_size(md);
	b.data = db_xcalloc(1, b.size);
	if (md->arch == DB_ARCH_X86)
		db_put32(b.data + CONTEXT_FLAGS_OFF_X86, CONTEXT_FULL_X86);
	else
		db_put32(b.data + CONTEXT_FLAGS_OFF_X64, CONTEXT_FULL_X64);
	return b;
}

struct db_md *db_md_new(enum db_arch arch, uint32_t major, uint32_t minor,
			uint32_t build)
{
	if (arch != DB_ARCH_X86 && arch != DB_ARCH_X64)
		db_die("db_md_new: architecture %d", (int)arch);
	struct db_md *md = db_xcalloc(1, sizeof(*md));
	md->arch = arch;
	md->mem = db_mem_new(arch == DB_ARCH_X86 ? 4 : 8);
	md->timestamp = 0x5F000000u;
	md->thread_stream = DB_THREADS_LIST;
	md->handle_version = 2;
	md->si.processor_architecture = (uint16_t)arch;
	md->si.processor_level = 6;
	md->si.processor_revision = 0x9E0A;
	md->si.number_of_processors = 4;
	md->si.product_type = 1;
	md->si.major_version = major;
	md->si.minor_version = minor;
	md->si.build_number = build;
	md->si.platform_id = 2;
	md->si.csd_version = "";
	md->si.suite_mask = 0x100;
	/* CPU_INFORMATION.X86CpuInfo.VendorId "GenuineIntel" (cpuid 0: ebx,
	 * edx, ecx) for x86; ProcessorFeatures stay 0 for AMD64. */
	if (arch == DB_ARCH_X86) {
		memcpy(md->si.cpu, "GenuineIntel", 12);
		db_put32(md->si.cpu + 12, 0x000906EA);
	}
	return md;
}

void db_md_free(struct db_md *md)
{
	if (!md)
		return;
	db_mem_free(md->mem);
	for (size_t i = 0; i < md->nthreads; i++) {
		free(md->threads[i].name);
		free(md->threads[i].context.data);
	}
	free(md->threads);
	for (size_t i = 0; i < md->nmodules; i++) {
		free((char *)md->modules[i].name);
		free((void *)md->modules[i].cv_record);
	}
	free(md->modules);
	for (size_t i = 0; i < md->nunloaded; i++)
		free((char *)md->unloaded[i].name);
	free(md->unloaded);
	free(md->ranges);
	free(md->meminfo);
	for (size_t i = 0; i < md->nhandles; i++) {
		free((char *)md->handles[i].type_name);
		free((char *)md->handles[i].object_name);
	}
	free(md->handles);
	free(md->exc_context.data);
	free((char *)md->misc.time_zone_standard_name);
	free((char *)md->misc.time_zone_daylight_name);
	free((char *)md->misc.build_string);
	free((char *)md->misc.dbg_bld_str);
	for (size_t i = 0; i < md->nstreams; i++) {
		free(md->streams[i].data.data);
		free(md->streams[i].text);
	}
	free(md->streams);
	free(md->dir);
	free(md->csd_copy);
	free(md);
}

struct db_mem *db_md_mem(struct db_md *md) { return md->mem; }
void db_md_set_version_high(struct db_md *md, uint16_t high) { md->version_high = high; }
void db_md_set_timestamp(struct db_md *md, uint32_t t) { md->timestamp = t; }
void db_md_set_flags(struct db_md *md, uint64_t flags)
{
	md->flags = flags;
	md->flags_set = true;
}
void db_md_set_unused_streams(struct db_md *md, unsigned n) { md->unused_streams = n; }
void db_md_set_thread_stream(struct db_md *md, enum db_md_thread_stream w) { md->thread_stream = w; }
struct db_md_sysinfo *db_md_sysinfo(struct db_md *md) { return &md->si; }
bool db_md_is_wow64(const struct db_md *md) { return md->wow64; }

static char *dup_or_null(const char *s)
{
	return s ? db_xstrdup(s) : NULL;
}

void db_md_add_module(struct db_md *md, const struct db_md_module *m)
{
	struct db_md_module c = *m;
	c.name = db_xstrdup(m->name ? m->name : "");
	if (m->cv_record && m->cv_size) {
		void *cv = db_xmalloc(m->cv_size);
		memcpy(cv, m->cv_record, m->cv_size);
		c.cv_record = cv;
	} else {
		c.cv_record = NULL;
		c.cv_size = 0;
	}
	PUSH(md->modules, md->nmodules, c);
}

void db_md_set_wow64(struct db_md *md)
{
	if (md->arch != DB_ARCH_X64)
		db_die("db_md_set_wow64: the dump must be DB_ARCH_X64");
	md->wow64 = true;
	db_mem_set_ptr_size(md->mem, 4);
	static const struct { const char *name; uint64_t base; uint32_t size; } mods[] = {
		{ "C:\\Windows\\System32\\ntdll.dll", 0x7FFB2F870000ull, 0x1F8000 },
		{ "C:\\Windows\\System32\\wow64.dll", 0x7FFB2E0F0000ull, 0x59000 },
		{ "C:\\Windows\\System32\\wow64win.dll", 0x7FFB2DF10000ull, 0x84000 },
		{ "C:\\Windows\\System32\\wow64cpu.dll", 0x77A10000ull, 0xA000 },
		{ "C:\\Windows\\SysWOW64\\ntdll.dll", 0x77A20000ull, 0x1A4000 },
	};
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		struct db_md_module m = {
			.name = mods[i].name, .base = mods[i].base, .size = mods[i].size,
			.timestamp = 0x5E8C2A10u, .checksum = 0x1F0000u + (uint32_t)i,
			.file_version = { (uint16_t)md->si.major_version,
					  (uint16_t)md->si.minor_version,
					  (uint16_t)md->si.build_number, 0 },
		};
		db_md_add_module(md, &m);
	}
}

void db_md_add_thread(struct db_md *md, const struct db_md_thread *t)
{
	struct thread th = { .t = *t };
	th.name = dup_or_null(t->name);
	th.t.name = NULL;
	th.t.context = NULL;
	th.context = make_context(md, t->context, t->context_size);
	if (!th.t.priority_class)
		th.t.priority_class = 0x20;
	PUSH(md->threads, md->nthreads, th);
	if (md->wow64 && t->teb) {
		/* _TEB64.WowTebOffset +0x180C, _TEB32.WowTebOffset +0xFDC,
		 * _TEB32.NtTib.Self +0x18 (selene layouts, 1607..Win11). */
		uint64_t teb32 = t->teb + DB_WOW64_TEB32_OFFSET;
		db_mem_write_u32(md->mem, t->teb + 0x180C, DB_WOW64_TEB32_OFFSET);
		db_mem_write_u32(md->mem, teb32 + 0xFDC, (uint32_t)-(int32_t)DB_WOW64_TEB32_OFFSET);
		db_mem_write_u32(md->mem, teb32 + 0x18, (uint32_t)teb32);
	}
}

void db_md_add_unloaded_module(struct db_md *md, const struct db_md_unloaded_module *u)
{
	struct db_md_unloaded_module c = *u;
	c.name = db_xstrdup(u->name ? u->name : "");
	PUSH(md->unloaded, md->nunloaded, c);
}

void db_md_add_memory(struct db_md *md, uint64_t va, uint64_t size, enum db_md_list list)
{
	if (!(list & DB_LIST_BOTH))
		db_die("db_md_add_memory: bad list %d", (int)list);
	struct range r = { .va = va, .size = size, .list = list,
			   .rva32 = UINT64_MAX, .rva64 = UINT64_MAX };
	PUSH(md->ranges, md->nranges, r);
}

void db_md_add_meminfo(struct db_md *md, const struct db_md_meminfo *mi)
{
	PUSH(md->meminfo, md->nmeminfo, *mi);
}

void db_md_set_handle_descriptor_version(struct db_md *md, unsigned version)
{
	if (version != 1 && version != 2)
		db_die("handle descriptor version %u", version);
	md->handle_version = version;
}

void db_md_add_handle(struct db_md *md, const struct db_md_handle *h)
{
	struct db_md_handle c = *h;
	c.type_name = dup_or_null(h->type_name);
	c.object_name = dup_or_null(h->object_name);
	PUSH(md->handles, md->nhandles, c);
}

void db_md_set_exception(struct db_md *md, const struct db_md_exception *e)
{
	free(md->exc_context.data);
	md->exc = *e;
	if (md->exc.number_parameters > 15)
		db_die("exception with %u parameters (max 15)", md->exc.number_parameters);
	md->exc_context = make_context(md, e->context, e->context_size);
	md->exc.context = NULL;
	md->has_exception = true;
}

void db_md_set_misc_info(struct db_md *md, const struct db_md_misc_info *mi)
{
	static const uint32_t sizes[] = { 24, 44, 232, 832, 1364 };
	bool ok = false;
	for (size_t i = 0; i < 5; i++)
		ok |= mi->size_of_info == sizes[i];
	if (!ok)
		db_die("misc info size %u (24, 44, 232, 832 or 1364)", mi->size_of_info);
	free((char *)md->misc.time_zone_standard_name);
	free((char *)md->misc.time_zone_daylight_name);
	free((char *)md->misc.build_string);
	free((char *)md->misc.dbg_bld_str);
	md->misc = *mi;
	md->misc.time_zone_standard_name = dup_or_null(mi->time_zone_standard_name);
	md->misc.time_zone_daylight_name = dup_or_null(mi->time_zone_daylight_name);
	md->misc.build_string = dup_or_null(mi->build_string);
	md->misc.dbg_bld_str = dup_or_null(mi->dbg_bld_str);
	md->has_misc = true;
}

void db_md_add_comment_a(struct db_md *md, const char *text)
{
	struct stream s = { .type = ST_COMMENT_A, .text = db_xstrdup(text) };
	PUSH(md->streams, md->nstreams, s);
}

void db_md_add_comment_w(struct db_md *md, const char *utf8)
{
	struct stream s = { .type = ST_COMMENT_W, .text = db_xstrdup(utf8) };
	PUSH(md->streams, md->nstreams, s);
}

void db_md_add_raw_stream(struct db_md *md, uint32_t type, const void *data, uint32_t size)
{
	struct stream s = { .type = type };
	s.data.size = size;
	s.data.data = db_xmalloc(size);
	if (size)
		memcpy(s.data.data, data, size);
	PUSH(md->streams, md->nstreams, s);
}

/* ---- writing ---------------------------------------------------------- */

struct writer {
	struct db_md *md;
	struct db_buf b;
	struct fixup *fix;
	size_t nfix;
	size_t dir_off;
	size_t ndir;
};

/* Directory entry: Location covers the stream's fixed part only; the
 * strings and contexts it points to follow it (as dbghelp lays them). */
static void dir_entry(struct writer *w, uint32_t type, size_t start, size_t len)
{
	struct db_md *md = w->md;
	uint8_t *e = w->b.p + w->dir_off + 12 * w->ndir;
	uint32_t size = (uint32_t)len;
	db_put32(e, type);
	db_put32(e + 4, size);
	db_put32(e + 8, (uint32_t)start);
	md->dir = db_grow(md->dir, md->ndir, sizeof(*md->dir));
	md->dir[md->ndir].type = type;
	md->dir[md->ndir].size = size;
	md->dir[md->ndir].rva = (uint32_t)start;
	md->ndir++;
	w->ndir++;
}

/* MINIDUMP_STRING: ULONG32 Length (bytes, without the terminator) then
 * WCHAR Buffer[] with a terminating NUL, as dbghelp writes it. */
static uint32_t put_string(struct writer *w, const char *utf8)
{
	size_t n;
	uint16_t *u = db_utf8_to_utf16(utf8, &n);
	size_t off = db_buf_reserve(&w->b, 4 + 2 * (n + 1), 4);
	db_put32(w->b.p + off, (uint32_t)(2 * n));
	for (size_t i = 0; i <= n; i++)
		db_put16(w->b.p + off + 4 + 2 * i, u[i]);
	free(u);
	return (uint32_t)off;
}

static void add_fixup(struct writer *w, size_t off, size_t range, bool list64, uint64_t delta)
{
	w->fix = db_grow(w->fix, w->nfix, sizeof(*w->fix));
	w->fix[w->nfix++] = (struct fixup){ off, range, list64, delta };
}

/* The range holding [va, va+size), preferring MemoryList; SIZE_MAX if none. */
static size_t covering_range(const struct db_md *md, uint64_t va, uint64_t size, bool *list64)
{
	for (int pass = 0; pass < 2; pass++) {
		enum db_md_list want = pass == 0 ? DB_LIST_32 : DB_LIST_64;
		for (size_t i = 0; i < md->nranges; i++) {
			const struct range *r = &md->ranges[i];
			if ((r->list & want) && va >= r->va && va + size <= r->va + r->size) {
				*list64 = pass == 1;
				return i;
			}
		}
	}
	return SIZE_MAX;
}

static void write_threads(struct writer *w, bool ex)
{
	struct db_md *md = w->md;
	size_t esz = ex ? 64 : 48;
	size_t start = db_buf_reserve(&w->b, 4 + esz * md->nthreads, 4);
	db_put32(w->b.p + start, (uint32_t)md->nthreads);
	for (size_t i = 0; i < md->nthreads; i++) {
		const struct thread *th = &md->threads[i];
		size_t e = start + 4 + esz * i;
		uint8_t *p = w->b.p + e;
		db_put32(p + 0, th->t.id);
		db_put32(p + 4, th->t.suspend_count);
		db_put32(p + 8, th->t.priority_class);
		db_put32(p + 12, th->t.priority);
		db_put64(p + 16, th->t.teb);
		db_put64(p + 24, th->t.stack_start);	/* Stack.StartOfMemoryRange */
		db_put32(p + 32, th->t.stack_size);	/* Stack.Memory.DataSize */
		if (th->t.stack_size) {
			bool l64 = false;
			size_t r = covering_range(md, th->t.stack_start, th->t.stack_size, &l64);
			if (r != SIZE_MAX)
				add_fixup(w, e + 36, r, l64, th->t.stack_start - md->ranges[r].va);
			/* (stack_not_in_list blobs are appended below) */
		}
		if (ex) {
			db_put64(p + 48, th->t.backing_store_start);
			db_put32(p + 56, th->t.backing_store_size);
		}
	}
	for (size_t i = 0; i < md->nthreads; i++) {
		const struct thread *th = &md->threads[i];
		size_t e = start + 4 + esz * i;
		size_t c = db_buf_append(&w->b, th->context.data, th->context.size, 16);
		db_put32(w->b.p + e + 40, th->context.size);	/* ThreadContext */
		db_put32(w->b.p + e + 44, (uint32_t)c);
		bool l64;
		if (th->t.stack_size &&
		    covering_range(md, th->t.stack_start, th->t.stack_size, &l64) == SIZE_MAX) {
			size_t s = db_buf_reserve(&w->b, th->t.stack_size, 16);
			db_mem_read(md->mem, th->t.stack_start, w->b.p + s, th->t.stack_size);
			db_put32(w->b.p + e + 36, (uint32_t)s);
		}
		if (ex && th->t.backing_store_size) {
			size_t s = db_buf_reserve(&w->b, th->t.backing_store_size, 16);
			db_mem_read(md->mem, th->t.backing_store_start, w->b.p + s,
				    th->t.backing_store_size);
			db_put32(w->b.p + e + 60, (uint32_t)s);
		}
	}
	dir_entry(w, ex ? ST_THREAD_EX_LIST : ST_THREAD_LIST, start, 4 + esz * md->nthreads);
}

static void write_thread_names(struct writer *w)
{
	struct db_md *md = w->md;
	size_t n = 0;
	for (size_t i = 0; i < md->nthreads; i++)
		n += md->threads[i].name != NULL;
	size_t start = db_buf_reserve(&w->b, 4 + 12 * n, 4);
	db_put32(w->b.p + start, (uint32_t)n);
	size_t k = 0;
	for (size_t i = 0; i < md->nthreads; i++) {
		if (!md->threads[i].name)
			continue;
		size_t e = start + 4 + 12 * k++;
		db_put32(w->b.p + e, md->threads[i].t.id);
	}
	size_t end = w->b.len;
	k = 0;
	for (size_t i = 0; i < md->nthreads; i++) {
		if (!md->threads[i].name)
			continue;
		uint32_t rva = put_string(w, md->threads[i].name);
		db_put64(w->b.p + start + 4 + 12 * k++ + 4, rva);	/* RVA64 */
	}
	/* The directory size covers the list only, not the strings. */
	dir_entry(w, ST_THREAD_NAMES, start, end - start);
}

static void put_version(uint8_t *p, const uint16_t v[4])
{
	db_put32(p, ((uint32_t)v[0] << 16) | v[1]);
	db_put32(p + 4, ((uint32_t)v[2] << 16) | v[3]);
}

static void write_modules(struct writer *w)
{
	struct db_md *md = w->md;
	size_t start = db_buf_reserve(&w->b, 4 + 108 * md->nmodules, 4);
	db_put32(w->b.p + start, (uint32_t)md->nmodules);
	size_t end = w->b.len;
	for (size_t i = 0; i < md->nmodules; i++) {
		const struct db_md_module *m = &md->modules[i];
		size_t e = start + 4 + 108 * i;
		uint32_t name = put_string(w, m->name);
		uint32_t cv = 0;
		if (m->cv_size)
			cv = (uint32_t)db_buf_append(&w->b, m->cv_record, m->cv_size, 4);
		uint8_t *p = w->b.p + e;
		db_put64(p + 0, m->base);
		db_put32(p + 8, m->size);
		db_put32(p + 12, m->checksum);
		db_put32(p + 16, m->timestamp);
		db_put32(p + 20, name);
		if (!m->no_version_info) {
			/* VS_FIXEDFILEINFO at +24 (verrsrc.h). */
			const uint16_t *pv = m->product_version;
			bool pv0 = !pv[0] && !pv[1] && !pv[2] && !pv[3];
			db_put32(p + 24, 0xFEEF04BDu);		/* dwSignature */
			db_put32(p + 28, 0x00010000u);		/* dwStrucVersion */
			put_version(p + 32, m->file_version);	/* dwFileVersionMS/LS */
			put_version(p + 40, pv0 ? m->file_version : pv);
			db_put32(p + 48, 0x3F);			/* dwFileFlagsMask */
			db_put32(p + 56, 0x40004);		/* dwFileOS VOS_NT_WINDOWS32 */
			db_put32(p + 60, 2);			/* dwFileType VFT_DLL */
		}
		db_put32(p + 76, m->cv_size);			/* CvRecord */
		db_put32(p + 80, cv);
	}
	dir_entry(w, ST_MODULE_LIST, start, end - start);
}

static void write_unloaded(struct writer *w)
{
	struct db_md *md = w->md;
	size_t start = db_buf_reserve(&w->b, 12 + 24 * md->nunloaded, 4);
	db_put32(w->b.p + start, 12);
	db_put32(w->b.p + start + 4, 24);
	db_put32(w->b.p + start + 8, (uint32_t)md->nunloaded);
	size_t end = w->b.len;
	for (size_t i = 0; i < md->nunloaded; i++) {
		const struct db_md_unloaded_module *u = &md->unloaded[i];
		uint32_t name = put_string(w, u->name);
		uint8_t *p = w->b.p + start + 12 + 24 * i;
		db_put64(p, u->base);
		db_put32(p + 8, u->size);
		db_put32(p + 12, u->checksum);
		db_put32(p + 16, u->timestamp);
		db_put32(p + 20, name);
	}
	dir_entry(w, ST_UNLOADED_MODULE_LIST, start, end - start);
}

static void write_sysinfo(struct writer *w)
{
	struct db_md *md = w->md;
	size_t start = db_buf_reserve(&w->b, 56, 4);
	uint8_t *p = w->b.p + start;
	db_put16(p, md->si.processor_architecture);
	db_put16(p + 2, md->si.processor_level);
	db_put16(p + 4, md->si.processor_revision);
	p[6] = md->si.number_of_processors;
	p[7] = md->si.product_type;
	db_put32(p + 8, md->si.major_version);
	db_put32(p + 12, md->si.minor_version);
	db_put32(p + 16, md->si.build_number);
	db_put32(p + 20, md->si.platform_id);
	db_put16(p + 28, md->si.suite_mask);
	memcpy(p + 32, md->si.cpu, 24);
	dir_entry(w, ST_SYSTEM_INFO, start, 56);
	uint32_t csd = put_string(w, md->si.csd_version ? md->si.csd_version : "");
	db_put32(w->b.p + start + 24, csd);
}

static void put_wstr_fixed(uint8_t *p, const char *utf8, size_t max_units)
{
	if (!utf8)
		return;
	size_t n;
	uint16_t *u = db_utf8_to_utf16(utf8, &n);
	if (n > max_units - 1)
		n = max_units - 1;
	for (size_t i = 0; i < n; i++)
		db_put16(p + 2 * i, u[i]);
	free(u);
}

static void write_misc(struct writer *w)
{
	const struct db_md_misc_info *mi = &w->md->misc;
	uint32_t sz = mi->size_of_info;
	size_t start = db_buf_reserve(&w->b, sz, 4);
	uint8_t *p = w->b.p + start;
	uint32_t flags = mi->flags1;
	if (!flags) {
		/* MINIDUMP_MISC1_*: PROCESS_ID 1, PROCESS_TIMES 2,
		 * PROCESSOR_POWER_INFO 4, PROCESS_INTEGRITY 0x10,
		 * TIMEZONE 0x40, BUILDSTRING 0x100, PROCESS_COOKIE 0x200. */
		flags = 0x1 | 0x2;
		if (sz >= 44)
			flags |= 0x4;
		if (sz >= 232)
			flags |= 0x10 | 0x40;
		if (sz >= 832)
			flags |= 0x100;
		if (sz >= 1364)
			flags |= 0x200;
	}
	db_put32(p, sz);
	db_put32(p + 4, flags);
	db_put32(p + 8, mi->process_id);
	db_put32(p + 12, mi->process_create_time);
	db_put32(p + 16, mi->process_user_time);
	db_put32(p + 20, mi->process_kernel_time);
	if (sz >= 44) {
		db_put32(p + 24, mi->processor_max_mhz);
		db_put32(p + 28, mi->processor_current_mhz);
		db_put32(p + 32, mi->processor_mhz_limit);
		db_put32(p + 36, mi->processor_max_idle_state);
		db_put32(p + 40, mi->processor_current_idle_state);
	}
	if (sz >= 232) {
		db_put32(p + 44, mi->process_integrity_level);
		db_put32(p + 48, mi->process_execute_flags);
		db_put32(p + 52, mi->protected_process);
		db_put32(p + 56, mi->time_zone_id);
		/* TIME_ZONE_INFORMATION at 60: Bias, StandardName[32] (+4),
		 * StandardDate (+68), StandardBias (+84), DaylightName[32]
		 * (+88), DaylightDate (+152), DaylightBias (+168). */
		db_put32(p + 60, (uint32_t)mi->time_zone_bias);
		put_wstr_fixed(p + 64, mi->time_zone_standard_name, 32);
		put_wstr_fixed(p + 148, mi->time_zone_daylight_name, 32);
	}
	if (sz >= 832) {
		put_wstr_fixed(p + 232, mi->build_string, 260);	/* BuildString */
		put_wstr_fixed(p + 752, mi->dbg_bld_str, 40);	/* DbgBldStr */
	}
	if (sz >= 1364) {
		/* XSTATE_CONFIG_FEATURE_MSC_INFO at 832 (528 bytes) left 0
		 * except its SizeOfInfo; ProcessCookie at 1360. */
		db_put32(p + 832, 528);
		db_put32(p + 1360, mi->process_cookie);
	}
	dir_entry(w, ST_MISC_INFO, start, sz);
}

static void write_exception(struct writer *w)
{
	const struct db_md_exception *e = &w->md->exc;
	size_t start = db_buf_reserve(&w->b, 168, 4);
	uint8_t *p = w->b.p + start;
	db_put32(p, e->thread_id);
	db_put32(p + 8, e->code);
	db_put32(p + 12, e->flags);
	db_put64(p + 16, e->record);
	db_put64(p + 24, e->address);
	db_put32(p + 32, e->number_parameters);
	for (unsigned i = 0; i < 15; i++)
		db_put64(p + 40 + 8 * i, e->information[i]);
	dir_entry(w, ST_EXCEPTION, start, 168);
	size_t c = db_buf_append(&w->b, w->md->exc_context.data, w->md->exc_context.size, 16);
	db_put32(w->b.p + start + 160, w->md->exc_context.size);
	db_put32(w->b.p + start + 164, (uint32_t)c);
}

static void write_handles(struct writer *w)
{
	struct db_md *md = w->md;
	uint32_t dsz = md->handle_version == 1 ? 32 : 40;
	size_t start = db_buf_reserve(&w->b, 16 + dsz * md->nhandles, 4);
	db_put32(w->b.p + start, 16);
	db_put32(w->b.p + start + 4, dsz);
	db_put32(w->b.p + start + 8, (uint32_t)md->nhandles);
	size_t end = w->b.len;
	for (size_t i = 0; i < md->nhandles; i++) {
		const struct db_md_handle *h = &md->handles[i];
		uint32_t tn = h->type_name ? put_string(w, h->type_name) : 0;
		uint32_t on = h->object_name ? put_string(w, h->object_name) : 0;
		uint8_t *p = w->b.p + start + 16 + dsz * i;
		db_put64(p, h->handle);
		db_put32(p + 8, tn);
		db_put32(p + 12, on);
		db_put32(p + 16, h->attributes);
		db_put32(p + 20, h->granted_access);
		db_put32(p + 24, h->handle_count);
		db_put32(p + 28, h->pointer_count);
	}
	dir_entry(w, ST_HANDLE_DATA, start, end - start);
}

static void write_meminfo(struct writer *w)
{
	struct db_md *md = w->md;
	size_t start = db_buf_reserve(&w->b, 16 + 48 * md->nmeminfo, 4);
	db_put32(w->b.p + start, 16);
	db_put32(w->b.p + start + 4, 48);
	db_put64(w->b.p + start + 8, md->nmeminfo);
	for (size_t i = 0; i < md->nmeminfo; i++) {
		const struct db_md_meminfo *m = &md->meminfo[i];
		uint8_t *p = w->b.p + start + 16 + 48 * i;
		db_put64(p, m->base);
		db_put64(p + 8, m->allocation_base);
		db_put32(p + 16, m->allocation_protect);
		db_put64(p + 24, m->region_size);
		db_put32(p + 32, m->state);
		db_put32(p + 36, m->protect);
		db_put32(p + 40, m->type);
	}
	dir_entry(w, ST_MEMORY_INFO_LIST, start, 16 + 48 * md->nmeminfo);
}

static void write_other_streams(struct writer *w)
{
	struct db_md *md = w->md;
	for (size_t i = 0; i < md->nstreams; i++) {
		const struct stream *s = &md->streams[i];
		size_t start;
		if (s->type == ST_COMMENT_A) {
			start = db_buf_append(&w->b, s->text, strlen(s->text) + 1, 4);
		} else if (s->type == ST_COMMENT_W) {
			size_t n;
			uint16_t *u = db_utf8_to_utf16(s->text, &n);
			start = db_buf_reserve(&w->b, 2 * (n + 1), 4);
			for (size_t k = 0; k <= n; k++)
				db_put16(w->b.p + start + 2 * k, u[k]);
			free(u);
		} else {
			start = db_buf_append(&w->b, s->data.data, s->data.size, 4);
		}
		dir_entry(w, s->type, start, w->b.len - start);
	}
}

static bool any_list(const struct db_md *md, enum db_md_list l)
{
	for (size_t i = 0; i < md->nranges; i++)
		if (md->ranges[i].list & l)
			return true;
	return false;
}

/* Writes the captured bytes of one range at file_off.  Only pages present
 * in the image are written; the rest stays a hole (reads as zeros). */
static int write_range_data(struct db_md *md, int fd, const char *path,
			    uint64_t va, uint64_t size, uint64_t file_off)
{
	uint64_t pos = 0;
	while (pos < size) {
		uint64_t a = va + pos;
		uint64_t n = DB_PAGE_SIZE - (a & (DB_PAGE_SIZE - 1));
		if (n > size - pos)
			n = size - pos;
		const uint8_t *pg = db_mem_page(md->mem, a);
		if (pg && !db_is_zero(pg + (a & (DB_PAGE_SIZE - 1)), (size_t)n)) {
			if (db_pwrite_all(fd, pg + (a & (DB_PAGE_SIZE - 1)), (size_t)n,
					  file_off + pos, path) != 0)
				return -1;
		}
		pos += n;
	}
	return 0;
}

int db_md_write(struct db_md *md, const char *path)
{
	struct writer w = { .md = md };
	free(md->dir);
	md->dir = NULL;
	md->ndir = 0;

	/* Stacks not covered by any captured range go to MemoryList, as
	 * MiniDumpNormal captures them. */
	for (size_t i = 0; i < md->nthreads; i++) {
		const struct db_md_thread *t = &md->threads[i].t;
		bool l64;
		if (t->stack_size && !t->stack_not_in_list &&
		    covering_range(md, t->stack_start, t->stack_size, &l64) == SIZE_MAX)
			db_md_add_memory(md, t->stack_start, t->stack_size, DB_LIST_32);
	}
	bool has32 = any_list(md, DB_LIST_32), has64 = any_list(md, DB_LIST_64);

	size_t nstreams = 0;
	nstreams += (md->thread_stream & DB_THREADS_LIST) ? 1 : 0;
	nstreams += (md->thread_stream & DB_THREADS_EX) ? 1 : 0;
	bool names = false;
	for (size_t i = 0; i < md->nthreads; i++)
		names |= md->threads[i].name != NULL;
	nstreams += names;
	nstreams += 1;				/* ModuleList */
	nstreams += md->nunloaded ? 1 : 0;
	nstreams += 1;				/* SystemInfo */
	nstreams += md->has_misc;
	nstreams += md->has_exception;
	nstreams += md->nhandles ? 1 : 0;
	nstreams += md->nmeminfo ? 1 : 0;
	nstreams += md->nstreams;
	nstreams += has32;
	nstreams += has64;
	size_t ndir_total = nstreams + md->unused_streams;

	db_buf_reserve(&w.b, 32, 1);
	w.dir_off = db_buf_reserve(&w.b, 12 * ndir_total, 4);

	if (md->thread_stream & DB_THREADS_LIST)
		write_threads(&w, false);
	if (md->thread_stream & DB_THREADS_EX)
		write_threads(&w, true);
	if (names)
		write_thread_names(&w);
	write_modules(&w);
	if (md->nunloaded)
		write_unloaded(&w);
	write_sysinfo(&w);
	if (md->has_misc)
		write_misc(&w);
	if (md->has_exception)
		write_exception(&w);
	if (md->nhandles)
		write_handles(&w);
	if (md->nmeminfo)
		write_meminfo(&w);
	write_other_streams(&w);

	/* MemoryList: count + descriptors {Start u64, DataSize u32, Rva u32}. */
	size_t ml = 0, n32 = 0, n64 = 0;
	if (has32) {
		for (size_t i = 0; i < md->nranges; i++)
			n32 += (md->ranges[i].list & DB_LIST_32) != 0;
		ml = db_buf_reserve(&w.b, 4 + 16 * n32, 4);
		db_put32(w.b.p + ml, (uint32_t)n32);
		size_t k = 0;
		for (size_t i = 0; i < md->nranges; i++) {
			const struct range *r = &md->ranges[i];
			if (!(r->list & DB_LIST_32))
				continue;
			if (r->size > UINT32_MAX)
				db_die("MemoryList range at 0x%llx is larger than 4 GiB",
				       (unsigned long long)r->va);
			uint8_t *p = w.b.p + ml + 4 + 16 * k;
			db_put64(p, r->va);
			db_put32(p + 8, (uint32_t)r->size);
			add_fixup(&w, ml + 4 + 16 * k + 12, i, false, 0);
			k++;
		}
		dir_entry(&w, ST_MEMORY_LIST, ml, 4 + 16 * n32);
	}
	/* Memory64List: NumberOfMemoryRanges u64, BaseRva u64, then
	 * {StartOfMemoryRange u64, DataSize u64}; data contiguous from BaseRva
	 * in descriptor order. */
	size_t m64 = 0;
	if (has64) {
		for (size_t i = 0; i < md->nranges; i++)
			n64 += (md->ranges[i].list & DB_LIST_64) != 0;
		m64 = db_buf_reserve(&w.b, 16 + 16 * n64, 4);
		db_put64(w.b.p + m64, n64);
		size_t k = 0;
		for (size_t i = 0; i < md->nranges; i++) {
			const struct range *r = &md->ranges[i];
			if (!(r->list & DB_LIST_64))
				continue;
			db_put64(w.b.p + m64 + 16 + 16 * k, r->va);
			db_put64(w.b.p + m64 + 16 + 16 * k + 8, r->size);
			k++;
		}
		dir_entry(&w, ST_MEMORY64_LIST, m64, 16 + 16 * n64);
	}
	/* UnusedStream entries stay zero (type 0, size 0, rva 0). */

	/* Data placement: MemoryList data, then Memory64 data. */
	uint64_t pos = (w.b.len + 15) & ~(uint64_t)15;
	for (size_t i = 0; i < md->nranges; i++) {
		struct range *r = &md->ranges[i];
		r->rva32 = r->rva64 = UINT64_MAX;
		if (r->list & DB_LIST_32) {
			r->rva32 = pos;
			pos += r->size;
		}
	}
	uint64_t base64 = pos;
	for (size_t i = 0; i < md->nranges; i++) {
		struct range *r = &md->ranges[i];
		if (r->list & DB_LIST_64) {
			r->rva64 = pos;
			pos += r->size;
		}
	}
	uint64_t file_size = pos;
	if (has64)
		db_put64(w.b.p + m64 + 8, base64);
	for (size_t i = 0; i < w.nfix; i++) {
		const struct fixup *f = &w.fix[i];
		const struct range *r = &md->ranges[f->range];
		uint64_t rva = (f->list64 ? r->rva64 : r->rva32) + f->delta;
		/* MINIDUMP_LOCATION_DESCRIPTOR.Rva is 32-bit. */
		if (rva > UINT32_MAX)
			db_die("data of the range at 0x%llx lands at file offset 0x%llx, beyond "
			       "what a 32-bit RVA can reach; add it earlier",
			       (unsigned long long)r->va, (unsigned long long)rva);
		db_put32(w.b.p + f->off, (uint32_t)rva);
	}

	/* MINIDUMP_HEADER. */
	uint64_t flags = md->flags;
	if (!md->flags_set) {
		flags = 0;
		if (has64)
			flags |= 0x2;		/* MiniDumpWithFullMemory */
		if (md->nhandles)
			flags |= 0x4;		/* MiniDumpWithHandleData */
		if (md->nunloaded)
			flags |= 0x20;		/* MiniDumpWithUnloadedModules */
		if (md->nmeminfo)
			flags |= 0x800;		/* MiniDumpWithFullMemoryInfo */
	}
	uint8_t *h = w.b.p;
	db_put32(h, MD_SIGNATURE);
	db_put32(h + 4, ((uint32_t)md->version_high << 16) | MD_VERSION);
	db_put32(h + 8, (uint32_t)ndir_total);
	db_put32(h + 12, (uint32_t)w.dir_off);
	db_put32(h + 16, 0);			/* CheckSum */
	db_put32(h + 20, md->timestamp);
	db_put64(h + 24, flags);

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc = -1;
	if (fd < 0) {
		db_fail("%s: open: %s", path, strerror(errno));
		goto out;
	}
	if (ftruncate(fd, (off_t)file_size) != 0) {
		db_fail("%s: ftruncate to %llu: %s", path,
			(unsigned long long)file_size, strerror(errno));
		goto out_close;
	}
	if (db_pwrite_all(fd, w.b.p, w.b.len, 0, path) != 0)
		goto out_close;
	for (size_t i = 0; i < md->nranges; i++) {
		const struct range *r = &md->ranges[i];
		if (r->rva32 != UINT64_MAX &&
		    write_range_data(md, fd, path, r->va, r->size, r->rva32) != 0)
			goto out_close;
		if (r->rva64 != UINT64_MAX &&
		    write_range_data(md, fd, path, r->va, r->size, r->rva64) != 0)
			goto out_close;
	}
	rc = 0;
out_close:
	if (close(fd) != 0 && rc == 0)
		rc = db_fail("%s: close: %s", path, strerror(errno));
out:
	free(w.b.p);
	free(w.fix);
	return rc;
}

uint64_t db_md_range_rva(const struct db_md *md, size_t i, enum db_md_list list)
{
	if (i >= md->nranges)
		return UINT64_MAX;
	return list == DB_LIST_64 ? md->ranges[i].rva64 : md->ranges[i].rva32;
}

uint32_t db_md_stream_rva(const struct db_md *md, uint32_t type, uint32_t *size)
{
	for (size_t i = 0; i < md->ndir; i++) {
		if (md->dir[i].type == type) {
			if (size)
				*size = md->dir[i].size;
			return md->dir[i].rva;
		}
	}
	if (size)
		*size = 0;
	return 0;
}
