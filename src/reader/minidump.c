/* SPDX-License-Identifier: MIT */
/*
 * User-mode minidumps (MDMP).  Layouts: Microsoft minidumpapiset.h and the
 * MINIDUMP_* documentation (learn.microsoft.com, "minidumpapiset.h").
 *
 * Every stream is bounds-checked against the file.  What is fatal
 * (ICH_ERR_FORMAT naming the offset and what was wrong): a bad header, a
 * stream directory that does not fit the file, and memory lists no
 * truncation can explain (a count neither the stream nor the file can hold,
 * a Memory64 range of 2^48 bytes or more, a range wrapping 2^64).  What is a
 * warning: a corrupt optional stream (cut to what fits, or skipped), and a
 * file cut short (streams past end-of-file are skipped, memory ranges keep
 * what the file holds and read ICH_MISS_BEYOND_FILE for the rest), so that
 * `info` still prints everything the file does hold.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/grow.h"
#include "core/utf.h"
#include "core/endian.h"
#include "reader/reader.h"

#define MDMP_SIGNATURE 0x504D444Du	/* "MDMP" */
#define MDMP_VERSION 0xA793u		/* low word of Version */
#define MAX_STREAMS 4096		/* dbghelp writes a few dozen */


const char *ich_md_stream_name(uint32_t type)
{
	static const char *const names[] = {
		"UnusedStream", "ReservedStream0", "ReservedStream1", "ThreadList",
		"ModuleList", "MemoryList", "Exception", "SystemInfo", "ThreadExList",
		"Memory64List", "CommentStreamA", "CommentStreamW", "HandleData",
		"FunctionTable", "UnloadedModuleList", "MiscInfo", "MemoryInfoList",
		"ThreadInfoList", "HandleOperationList", "Token", "JavaScriptData",
		"SystemMemoryInfo", "ProcessVmCounters", "IptTrace", "ThreadNames",
	};
	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	switch (type) {
	/* Windows CE streams (minidumpapiset.h) */
	case 0x8000: return "ceStreamNull";
	case 0x8001: return "ceStreamSystemInfo";
	case 0x8002: return "ceStreamException";
	case 0x8003: return "ceStreamModuleList";
	case 0x8004: return "ceStreamProcessList";
	case 0x8005: return "ceStreamThreadList";
	case 0x8006: return "ceStreamThreadContextList";
	case 0x8007: return "ceStreamThreadCallStackList";
	case 0x8008: return "ceStreamMemoryVirtualList";
	case 0x8009: return "ceStreamMemoryPhysicalList";
	case 0x800A: return "ceStreamBucketParameters";
	case 0x800B: return "ceStreamProcessModuleMap";
	case 0x800C: return "ceStreamDiagnosisList";
	/* Breakpad / Crashpad (breakpad minidump_format.h, crashpad
	 * minidump_extensions.h) */
	case 0x43500001: return "CrashpadInfo";
	case 0x47670001: return "BreakpadInfo";
	case 0x47670002: return "BreakpadAssertionInfo";
	case 0x47670003: return "BreakpadLinuxCpuInfo";
	case 0x47670004: return "BreakpadLinuxProcStatus";
	case 0x47670005: return "BreakpadLinuxLsbRelease";
	case 0x47670006: return "BreakpadLinuxCmdLine";
	case 0x47670007: return "BreakpadLinuxEnviron";
	case 0x47670008: return "BreakpadLinuxAuxv";
	case 0x47670009: return "BreakpadLinuxMaps";
	case 0x4767000A: return "BreakpadLinuxDsoDebug";
	}
	return NULL;
}

struct ctx {
	struct ich_dump *dump;
	struct ich_minidump *md;
	const uint8_t *data;
	uint64_t size;
	/* UTF-16 bytes md_string may still convert: thousands of handles or
	 * modules naming one long string would otherwise cost
	 * entries * 64 KiB; real dumps use a few hundred KiB at most.  16 MiB plus the file size. */
	uint64_t string_budget;
	bool budget_warned;
};

/* Bytes [off, off+len) inside the file? */
static bool in_file(const struct ctx *c, uint64_t off, uint64_t len)
{
	return off <= c->size && len <= c->size - off;
}

static char *stream_label(uint32_t idx, uint32_t type, char *buf, size_t n)
{
	const char *name = ich_md_stream_name(type);
	if (name)
		snprintf(buf, n, "stream %u (%s)", idx, name);
	else
		snprintf(buf, n, "stream %u (type 0x%x)", idx, type);
	return buf;
}

/* A MINIDUMP_STRING (ULONG32 Length in bytes, then UTF-16) at rva, or NULL
 * with a warning naming where. */
#define STRING_BUDGET(file_size) ((uint64_t)(16u << 20) + (uint64_t)(file_size))

static char *md_string(struct ctx *c, uint64_t rva, const char *what)
{
	if (!in_file(c, rva, 4)) {
		ich_dump_warn(c->dump, "%s: string RVA 0x%" PRIx64 " is outside the file (0x%" PRIx64 " bytes)",
			      what, rva, c->size);
		return NULL;
	}
	uint32_t len = ich_le32(c->data + rva);
	/* Names are paths and object names: a UNICODE_STRING holds at most
	 * 65534 bytes.  The cap also keeps many entries pointing at one huge
	 * "string" from costing file-size work each. */
	if (len > 65534) {
		ich_dump_warn(c->dump, "%s: string at 0x%" PRIx64 " claims %u bytes; read as 65534",
			      what, rva, len);
		len = 65534;
	}
	if (!in_file(c, rva + 4, len)) {
		ich_dump_warn(c->dump, "%s: string at 0x%" PRIx64 " claims %u bytes, the file ends at 0x%" PRIx64,
			      what, rva, len, c->size);
		len = (uint32_t)(c->size - (rva + 4));
	}
	if (len > c->string_budget) {
		if (!c->budget_warned)
			ich_dump_warn(c->dump, "%s: string at 0x%" PRIx64 ": the dump's strings exceed 0x%" PRIx64 " bytes in all; this and later names are left out",
				      what, rva, STRING_BUDGET(c->size));
		c->budget_warned = true;
		return NULL;
	}
	c->string_budget -= len;
	return ich_utf16le_to_utf8(c->data + rva + 4, len);
}

/*
 * Check that a stream holding count entries of esize bytes after a header
 * of hsize bytes fits both the stream and the file.  Returns false (with a
 * warning) when it does not; *count is then cut to what fits.
 */
static bool check_array(struct ctx *c, const char *label, const struct ich_md_stream *s,
			uint64_t hsize, uint64_t esize, uint64_t *count)
{
	uint64_t avail_stream = s->size > hsize ? (s->size - hsize) / esize : 0;
	uint64_t avail_file = c->size > s->rva + hsize ? (c->size - s->rva - hsize) / esize : 0;
	uint64_t room = avail_stream < avail_file ? avail_stream : avail_file;
	if (*count <= room)
		return true;
	ich_dump_warn(c->dump, "%s at 0x%x claims %" PRIu64 " entries, %s has room for %" PRIu64 "; using %" PRIu64,
		      label, s->rva, *count, avail_file < avail_stream ? "the file" : "the stream",
		      room, room);
	*count = room;
	return false;
}


/*
 * Memory lists: a DataSize smaller than the count implies is only warned
 * about and the descriptors are read as far as the file holds them, so a
 * forged range is judged by its own fields; a count the stream's DataSize
 * covers but the file does not is a truncated file (warned, cut to what is
 * there).  A count that neither the stream nor the file can hold is absurd:
 * no truncation explains it, and the memory cannot be located.
 */
static struct ich_error *check_memory_array(struct ctx *c, const char *label,
					    const struct ich_md_stream *s,
					    uint64_t hsize, uint64_t esize, uint64_t *count)
{
	uint64_t room_stream = s->size > hsize ? (s->size - hsize) / esize : 0;
	uint64_t room_file = c->size > s->rva + hsize ? (c->size - s->rva - hsize) / esize : 0;
	if (*count > room_stream && *count > room_file)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: %s at 0x%x claims %" PRIu64 " entries, the stream (DataSize %u) and the file (0x%" PRIx64 " bytes) have room for %" PRIu64,
			c->dump->path, label, s->rva, *count, s->size, c->size,
			room_stream > room_file ? room_stream : room_file);
	if (*count > room_stream)
		ich_dump_warn(c->dump, "%s at 0x%x: DataSize %u is too small for %" PRIu64 " entries",
			      label, s->rva, s->size, *count);
	if (*count > room_file) {
		ich_dump_warn(c->dump, "%s at 0x%x claims %" PRIu64 " entries, the file (truncated?) has room for %" PRIu64 "; using %" PRIu64,
			      label, s->rva, *count, room_file, room_file);
		*count = room_file;
	}
	return NULL;
}

/*
 * Offset of the first entry of a count-prefixed list (ThreadList,
 * ModuleList, MemoryList): 4, or 8 when the writer padded the count to 8
 * bytes (some non-dbghelp writers do; LLVM's minidump reader accepts it the
 * same way: the stream is exactly 4 bytes longer than count entries).
 */
static uint64_t list_start(const struct ich_md_stream *s, uint64_t n, uint64_t esize)
{
	return (uint64_t)s->size == 8 + n * esize ? 8 : 4;
}

static struct ich_error *parse_system_info(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 32 || !in_file(c, s->rva, 32)) {
		ich_dump_warn(c->dump, "%s at 0x%x is %u bytes, too small for MINIDUMP_SYSTEM_INFO", label, s->rva, s->size);
		return NULL;
	}
	const uint8_t *p = c->data + s->rva;
	struct ich_md_system_info *si = &c->md->system_info;
	si->processor_architecture = ich_le16(p);
	si->processor_level = ich_le16(p + 2);
	si->processor_revision = ich_le16(p + 4);
	si->number_of_processors = p[6];
	si->product_type = p[7];
	si->major_version = ich_le32(p + 8);
	si->minor_version = ich_le32(p + 12);
	si->build_number = ich_le32(p + 16);
	si->platform_id = ich_le32(p + 20);
	si->suite_mask = ich_le16(p + 28);
	si->csd_version = md_string(c, ich_le32(p + 24), "SystemInfo CSDVersion");
	c->md->has_system_info = true;
	return NULL;
}

static struct ich_error *parse_misc_info(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 24 || !in_file(c, s->rva, 24)) {
		ich_dump_warn(c->dump, "%s at 0x%x is %u bytes, too small for MINIDUMP_MISC_INFO", label, s->rva, s->size);
		return NULL;
	}
	const uint8_t *p = c->data + s->rva;
	struct ich_md_misc_info *m = &c->md->misc_info;
	uint32_t n = ich_le32(p);	/* SizeOfInfo gives the version */
	if (n > s->size)
		n = s->size;
	if (!in_file(c, s->rva, n))
		n = (uint32_t)(c->size - s->rva);
	m->size_of_info = ich_le32(p);
	m->flags1 = ich_le32(p + 4);
	/* MINIDUMP_MISC1_* flags say which fields are valid. */
	m->has_pid = (m->flags1 & 0x1) != 0;
	m->process_id = ich_le32(p + 8);
	m->has_times = (m->flags1 & 0x2) != 0;
	m->process_create_time = ich_le32(p + 12);
	m->process_user_time = ich_le32(p + 16);
	m->process_kernel_time = ich_le32(p + 20);
	if (n >= 44) {	/* MINIDUMP_MISC_INFO_2 */
		m->has_power = (m->flags1 & 0x4) != 0;
		m->processor_max_mhz = ich_le32(p + 24);
		m->processor_current_mhz = ich_le32(p + 28);
		m->processor_mhz_limit = ich_le32(p + 32);
		m->processor_max_idle_state = ich_le32(p + 36);
		m->processor_current_idle_state = ich_le32(p + 40);
	}
	if (n >= 232) {	/* MINIDUMP_MISC_INFO_3: TIME_ZONE_INFORMATION at 60 */
		m->process_integrity_level = ich_le32(p + 44);
		m->has_timezone = (m->flags1 & 0x40) != 0;
		m->time_zone_id = ich_le32(p + 56);
		m->time_zone_bias = (int32_t)ich_le32(p + 60);
		m->time_zone_standard_name = ich_utf16le_to_utf8(p + 64, 64);
	}
	if (n >= 832) {	/* MINIDUMP_MISC_INFO_4: BuildString[260], DbgBldStr[40] */
		m->has_build_strings = (m->flags1 & 0x100) != 0;
		m->build_string = ich_utf16le_to_utf8(p + 232, 520);
		m->dbg_bld_str = ich_utf16le_to_utf8(p + 752, 80);
	}
	c->md->has_misc_info = true;
	return NULL;
}

static struct ich_error *parse_threads(struct ctx *c, const struct ich_md_stream *s, const char *label, bool ex)
{
	if (c->md->threads && !ex)
		return NULL;	/* ThreadExList seen first: it has everything */
	if (s->size < 4 || !in_file(c, s->rva, 4)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its count", label, s->rva);
		return NULL;
	}
	uint64_t esize = ex ? 64 : 48;
	uint64_t n = ich_le32(c->data + s->rva);
	uint64_t hsize = list_start(s, n, esize);
	check_array(c, label, s, hsize, esize, &n);
	struct ich_md_thread *t = calloc(n ? n : 1, sizeof(*t));
	if (!t)
		return &ich_enomem;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + hsize + i * esize;
		t[i].thread_id = ich_le32(p);
		t[i].suspend_count = ich_le32(p + 4);
		t[i].priority_class = ich_le32(p + 8);
		t[i].priority = ich_le32(p + 12);
		t[i].teb = ich_le64(p + 16);
		t[i].stack_start = ich_le64(p + 24);
		t[i].stack_size = ich_le32(p + 32);
		t[i].stack_rva = ich_le32(p + 36);
		t[i].context_size = ich_le32(p + 40);
		t[i].context_rva = ich_le32(p + 44);
		if (ex) {
			t[i].backing_store_start = ich_le64(p + 48);
			t[i].backing_store_size = ich_le32(p + 56);
		}
	}
	if (c->md->threads) {
		free(c->md->threads);
	}
	c->md->threads = t;
	c->md->nthreads = (size_t)n;
	return NULL;
}

static void version_from(const uint8_t *p, struct ich_md_version *v)
{
	/* VS_FIXEDFILEINFO: dwSignature 0xFEEF04BD, then *VersionMS/LS */
	v->valid = ich_le32(p) == 0xFEEF04BDu;
	uint32_t ms = ich_le32(p + 8), ls = ich_le32(p + 12);
	v->major = (uint16_t)(ms >> 16);
	v->minor = (uint16_t)ms;
	v->build = (uint16_t)(ls >> 16);
	v->revision = (uint16_t)ls;
}

static struct ich_error *parse_modules(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 4 || !in_file(c, s->rva, 4)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its count", label, s->rva);
		return NULL;
	}
	uint64_t n = ich_le32(c->data + s->rva);
	/* MINIDUMP_MODULE is 108 bytes (packed to 4) */
	uint64_t hsize = list_start(s, n, 108);
	check_array(c, label, s, hsize, 108, &n);
	struct ich_md_module *m = calloc(n ? n : 1, sizeof(*m));
	if (!m)
		return &ich_enomem;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + hsize + i * 108;
		m[i].base = ich_le64(p);
		m[i].size = ich_le32(p + 8);
		m[i].checksum = ich_le32(p + 12);
		m[i].timestamp = ich_le32(p + 16);
		char what[64];
		snprintf(what, sizeof(what), "module %" PRIu64 " name", i);
		m[i].name = md_string(c, ich_le32(p + 20), what);
		version_from(p + 24, &m[i].file_version);
		/* product version: dwProductVersionMS/LS at +16/+20 */
		struct ich_md_version pv;
		version_from(p + 24 + 8, &pv);
		pv.valid = m[i].file_version.valid;
		m[i].product_version = pv;
	}
	c->md->modules = m;
	c->md->nmodules = (size_t)n;
	return NULL;
}

static struct ich_error *parse_unloaded(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 12 || !in_file(c, s->rva, 12)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its header", label, s->rva);
		return NULL;
	}
	const uint8_t *h = c->data + s->rva;
	uint32_t hsize = ich_le32(h), esize = ich_le32(h + 4);
	uint64_t n = ich_le32(h + 8);
	if (hsize < 12 || esize < 24) {
		ich_dump_warn(c->dump, "%s at 0x%x: header size %u / entry size %u are too small", label, s->rva, hsize, esize);
		return NULL;
	}
	check_array(c, label, s, hsize, esize, &n);
	struct ich_md_unloaded_module *u = calloc(n ? n : 1, sizeof(*u));
	if (!u)
		return &ich_enomem;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + hsize + i * esize;
		u[i].base = ich_le64(p);
		u[i].size = ich_le32(p + 8);
		u[i].checksum = ich_le32(p + 12);
		u[i].timestamp = ich_le32(p + 16);
		u[i].name = md_string(c, ich_le32(p + 20), "unloaded module name");
	}
	c->md->unloaded = u;
	c->md->nunloaded = (size_t)n;
	return NULL;
}

static struct ich_error *parse_meminfo(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 16 || !in_file(c, s->rva, 16)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its header", label, s->rva);
		return NULL;
	}
	const uint8_t *h = c->data + s->rva;
	uint32_t hsize = ich_le32(h), esize = ich_le32(h + 4);
	uint64_t n = ich_le64(h + 8);
	if (hsize < 16 || esize < 48) {
		ich_dump_warn(c->dump, "%s at 0x%x: header size %u / entry size %u are too small", label, s->rva, hsize, esize);
		return NULL;
	}
	check_array(c, label, s, hsize, esize, &n);
	struct ich_md_meminfo *m = calloc(n ? n : 1, sizeof(*m));
	if (!m)
		return &ich_enomem;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + hsize + i * esize;
		m[i].base = ich_le64(p);
		m[i].allocation_base = ich_le64(p + 8);
		m[i].allocation_protect = ich_le32(p + 16);
		m[i].region_size = ich_le64(p + 24);
		m[i].state = ich_le32(p + 32);
		m[i].protect = ich_le32(p + 36);
		m[i].type = ich_le32(p + 40);
	}
	c->md->meminfo = m;
	c->md->nmeminfo = (size_t)n;
	return NULL;
}

static struct ich_error *parse_handles(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 16 || !in_file(c, s->rva, 16)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its header", label, s->rva);
		return NULL;
	}
	const uint8_t *h = c->data + s->rva;
	uint32_t hsize = ich_le32(h), esize = ich_le32(h + 4);
	uint64_t n = ich_le32(h + 8);
	/* MINIDUMP_HANDLE_DESCRIPTOR is 32 bytes, _2 is 40 */
	if (hsize < 16 || esize < 32) {
		ich_dump_warn(c->dump, "%s at 0x%x: header size %u / descriptor size %u are too small", label, s->rva, hsize, esize);
		return NULL;
	}
	check_array(c, label, s, hsize, esize, &n);
	struct ich_md_handle *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return &ich_enomem;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + hsize + i * esize;
		v[i].handle = ich_le64(p);
		uint32_t tn = ich_le32(p + 8), on = ich_le32(p + 12);
		v[i].type_name = tn ? md_string(c, tn, "handle type name") : NULL;
		v[i].object_name = on ? md_string(c, on, "handle object name") : NULL;
		v[i].attributes = ich_le32(p + 16);
		v[i].granted_access = ich_le32(p + 20);
		v[i].handle_count = ich_le32(p + 24);
		v[i].pointer_count = ich_le32(p + 28);
	}
	c->md->handles = v;
	c->md->nhandles = (size_t)n;
	return NULL;
}

static struct ich_error *parse_exception(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 168 || !in_file(c, s->rva, 168)) {
		ich_dump_warn(c->dump, "%s at 0x%x is %u bytes, MINIDUMP_EXCEPTION_STREAM needs 168", label, s->rva, s->size);
		return NULL;
	}
	const uint8_t *p = c->data + s->rva;
	struct ich_md_exception *e = &c->md->exception;
	e->thread_id = ich_le32(p);
	e->code = ich_le32(p + 8);
	e->flags = ich_le32(p + 12);
	e->record = ich_le64(p + 16);
	e->address = ich_le64(p + 24);
	e->number_parameters = ich_le32(p + 32);
	for (int i = 0; i < 15; i++)
		e->information[i] = ich_le64(p + 40 + 8 * i);
	e->context_size = ich_le32(p + 160);
	e->context_rva = ich_le32(p + 164);
	c->md->has_exception = true;
	return NULL;
}

struct tid_index {
	uint32_t tid;
	uint32_t thread;	/* index into md->threads */
	uint32_t next;		/* first entry of a run of one tid: where
				 * its first thread without a name may be */
};

static int cmp_tid_index(const void *a, const void *b)
{
	const struct tid_index *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->thread < y->thread ? -1 : x->thread > y->thread;
}

/*
 * Names are matched to threads through a sorted index: a linear scan per
 * name was quadratic, and a fuzzed dump with thousands of threads and
 * names took seconds (found by the minidump fuzz target).  Each run of
 * one thread id keeps a cursor past its named threads: a scan from the
 * run's start for every name was quadratic again in threads sharing one
 * id (a 787 KB fuzzed dump, thousands of threads of one id and as many
 * names: 3.5 s under ASan; found by the minidump fuzz target too).
 */
static struct ich_error *parse_thread_names(struct ctx *c, const struct ich_md_stream *s, const char *label)
{
	if (s->size < 4 || !in_file(c, s->rva, 4)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its count", label, s->rva);
		return NULL;
	}
	uint64_t n = ich_le32(c->data + s->rva);
	/* MINIDUMP_THREAD_NAME: ULONG ThreadId, RVA64 (packed: 12 bytes) */
	check_array(c, label, s, 4, 12, &n);
	size_t nt = c->md->nthreads;
	if (!n || !nt)
		return NULL;
	struct tid_index *idx = malloc(nt * sizeof(*idx));
	if (!idx)
		return &ich_enomem;
	for (size_t t = 0; t < nt; t++)
		idx[t] = (struct tid_index){ c->md->threads[t].thread_id, (uint32_t)t, 0 };
	qsort(idx, nt, sizeof(*idx), cmp_tid_index);
	for (size_t t = 0; t < nt; t++)
		idx[t].next = (uint32_t)t;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + 4 + i * 12;
		uint32_t tid = ich_le32(p);
		uint64_t rva = ich_le64(p + 4);
		size_t lo = 0, hi = nt;	/* first entry with idx.tid >= tid */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (idx[mid].tid < tid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == nt || idx[lo].tid != tid)
			continue;
		/* The first thread of that id without a name, in thread order
		 * (a name whose string is unreadable leaves it unnamed, and
		 * the next name of that id goes to it). */
		size_t j = idx[lo].next;
		while (j < nt && idx[j].tid == tid && c->md->threads[idx[j].thread].name)
			j++;
		idx[lo].next = (uint32_t)j;
		if (j < nt && idx[j].tid == tid)
			c->md->threads[idx[j].thread].name = md_string(c, rva, "thread name");
	}
	free(idx);
	return NULL;
}

/* CommentStreamA: 8-bit text in an unknown code page, NUL-terminated.
 * Line breaks and tabs are kept; other control bytes and non-ASCII bytes
 * (code page unknown) become '?', so the result is valid UTF-8. */
static char *comment_a_dup(const uint8_t *p, size_t n)
{
	size_t len = 0;
	while (len < n && p[len])
		len++;
	char *t = malloc(len + 1);
	if (!t)
		return NULL;
	for (size_t i = 0; i < len; i++)
		t[i] = (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'
			? (char)p[i] : '?';
	t[len] = 0;
	return t;
}

static struct ich_error *add_comment(struct ctx *c, const struct ich_md_stream *s, bool wide)
{
	uint64_t n = s->size;
	if (!in_file(c, s->rva, n))
		n = s->rva < c->size ? c->size - s->rva : 0;
	char *txt = wide ? ich_utf16le_to_utf8(c->data + s->rva, (size_t)n)
			 : comment_a_dup(c->data + s->rva, (size_t)n);
	if (!txt)
		return &ich_enomem;
	char **v = realloc(c->md->comments, (c->md->ncomments + 1) * sizeof(*v));
	if (!v) {
		free(txt);
		return &ich_enomem;
	}
	c->md->comments = v;
	v[c->md->ncomments++] = txt;
	return NULL;
}

/* Memory ranges.  Unlike optional streams, absurd memory lists are fatal:
 * a dump whose memory cannot be located cannot be analysed honestly. */
struct rangevec {
	struct ich_va_range *v;
	size_t n, cap;
};

static bool range_push(struct rangevec *rv, uint64_t start, uint64_t size, uint64_t rva)
{
	if (!ICH_ARRAY_RESERVE(rv->v, rv->n, rv->cap, 64))
		return false;
	rv->v[rv->n++] = (struct ich_va_range){ start, size, rva };
	return true;
}

/* One warning for all the ranges of a list whose data the file cuts short
 * (a truncated full dump can have thousands). */
static void warn_cut(struct ctx *c, const char *label, uint64_t ncut, uint64_t first,
		     uint64_t first_start, uint64_t first_off, uint64_t bytes_missing)
{
	if (ncut)
		ich_dump_warn(c->dump, "%s: %" PRIu64 " ranges run past the end of the file (0x%" PRIx64 " bytes), first range %" PRIu64 " at 0x%" PRIx64 " (data at file offset 0x%" PRIx64 "); 0x%" PRIx64 " bytes are missing",
			      label, ncut, c->size, first, first_start, first_off, bytes_missing);
}

static struct ich_error *parse_memory_list(struct ctx *c, const struct ich_md_stream *s,
					   const char *label, struct rangevec *rv)
{
	if (s->size < 4 || !in_file(c, s->rva, 4)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its count; no memory from it",
			      label, s->rva);
		return NULL;
	}
	uint64_t n = ich_le32(c->data + s->rva);
	uint64_t hsize = list_start(s, n, 16);
	struct ich_error *err = check_memory_array(c, label, s, hsize, 16, &n);
	if (err)
		return err;
	uint64_t ncut = 0, first = 0, first_start = 0, first_off = 0, missing = 0;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + hsize + i * 16;
		uint64_t start = ich_le64(p), size = ich_le32(p + 8), rva = ich_le32(p + 12);
		if (size && start + size - 1 < start)
			return ich_error_create(ICH_ERR_FORMAT,
				"%s: %s at 0x%x: range %" PRIu64 " at 0x%" PRIx64 " + 0x%" PRIx64 " wraps past the end of the address space",
				c->dump->path, label, s->rva, i, start, size);
		if (!in_file(c, rva, size)) {
			if (!ncut++) {
				first = i;
				first_start = start;
				first_off = rva;
			}
			missing += rva >= c->size ? size : size - (c->size - rva);
		}
		if (!range_push(rv, start, size, rva))
			return &ich_enomem;
		c->md->captured_bytes += size;
	}
	warn_cut(c, label, ncut, first, first_start, first_off, missing);
	return NULL;
}

/* Real ranges are at most a few GiB and lie below the 48-bit (57-bit with
 * LA57) user address limit; a size at or above 2^48 is forged. */
#define MAX_RANGE_SIZE (1ull << 48)

static struct ich_error *parse_memory64_list(struct ctx *c, const struct ich_md_stream *s,
					     const char *label, struct rangevec *rv)
{
	if (s->size < 16 || !in_file(c, s->rva, 16)) {
		ich_dump_warn(c->dump, "%s at 0x%x is too small for its header; no memory from it",
			      label, s->rva);
		return NULL;
	}
	uint64_t n = ich_le64(c->data + s->rva);
	uint64_t base = ich_le64(c->data + s->rva + 8);
	struct ich_error *err = check_memory_array(c, label, s, 16, 16, &n);
	if (err)
		return err;
	uint64_t off = base;
	uint64_t ncut = 0, first = 0, first_start = 0, first_off = 0, missing = 0;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = c->data + s->rva + 16 + i * 16;
		uint64_t start = ich_le64(p), size = ich_le64(p + 8);
		if (size >= MAX_RANGE_SIZE || off > UINT64_MAX - size)
			return ich_error_create(ICH_ERR_FORMAT,
				"%s: %s at 0x%x: range %" PRIu64 " at 0x%" PRIx64 " claims 0x%" PRIx64 " bytes from file offset 0x%" PRIx64 "; the file is 0x%" PRIx64 " bytes",
				c->dump->path, label, s->rva, i, start, size, off, c->size);
		if (size && start + size - 1 < start)
			return ich_error_create(ICH_ERR_FORMAT,
				"%s: %s at 0x%x: range %" PRIu64 " at 0x%" PRIx64 " + 0x%" PRIx64 " wraps past the end of the address space",
				c->dump->path, label, s->rva, i, start, size);
		if (!in_file(c, off, size)) {
			if (!ncut++) {
				first = i;
				first_start = start;
				first_off = off;
			}
			missing += off >= c->size ? size : size - (c->size - off);
		}
		if (!range_push(rv, start, size, off))
			return &ich_enomem;
		c->md->captured_bytes += size;
		off += size;
	}
	warn_cut(c, label, ncut, first, first_start, first_off, missing);
	return NULL;
}

static bool md_probe(const uint8_t *data, uint64_t size)
{
	return size >= 4 && ich_le32(data) == MDMP_SIGNATURE;
}

static struct ich_error *md_open(struct ich_dump *dump)
{
	struct ctx c = { dump, NULL, dump->file.data, dump->file.size,
			 STRING_BUDGET(dump->file.size), false };
	if (c.size < 32)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: minidump header needs 32 bytes, the file has %" PRIu64, dump->path, c.size);
	uint32_t version = ich_le32(c.data + 4);
	if ((version & 0xFFFF) != MDMP_VERSION)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: minidump Version 0x%08x at offset 0x4: the low word must be 0xa793",
			dump->path, version);
	struct ich_minidump *md = calloc(1, sizeof(*md));
	if (!md)
		return &ich_enomem;
	dump->md = md;
	c.md = md;
	md->version = version;
	md->number_of_streams = ich_le32(c.data + 8);
	md->directory_rva = ich_le32(c.data + 12);
	md->timestamp = ich_le32(c.data + 20);
	md->flags = ich_le64(c.data + 24);
	dump->kind = ICH_DUMP_MINIDUMP;
	dump->kind_name = "minidump";
	/* before the stream directory (often at the file's end) and the
	 * ranges are touched: their faults then read huge-page folios */
	ich_file_advise_stream(&dump->file);
	uint64_t nstreams = md->number_of_streams, dir = md->directory_rva;
	if (!in_file(&c, dir, 0))
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: stream directory at 0x%" PRIx64 " (header offset 0xc) is past the end of the file (0x%" PRIx64 " bytes)",
			dump->path, dir, c.size);
	if (nstreams > MAX_STREAMS && in_file(&c, dir, nstreams * 12))
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: stream directory at 0x%" PRIx64 " claims %" PRIu64 " streams; more than %u is not a minidump writer's",
			dump->path, dir, nstreams, MAX_STREAMS);
	if (!in_file(&c, dir, nstreams * 12))
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: stream directory at 0x%" PRIx64 " claims %" PRIu64 " streams (%" PRIu64 " bytes); the file has room for %" PRIu64,
			dump->path, dir, nstreams, nstreams * 12, (c.size - dir) / 12);
	md->streams = calloc(nstreams ? nstreams : 1, sizeof(*md->streams));
	if (!md->streams)
		return &ich_enomem;
	md->nstreams = (size_t)nstreams;
	for (uint64_t i = 0; i < nstreams; i++) {
		const uint8_t *p = c.data + dir + i * 12;
		md->streams[i].type = ich_le32(p);
		md->streams[i].size = ich_le32(p + 4);
		md->streams[i].rva = ich_le32(p + 8);
	}
	/* SystemInfo first (arch decides pointer size), then threads (names
	 * attach to them), then the rest in directory order. */
	struct rangevec rv = { 0 };
	struct ich_error *err = NULL;
	char label[64];
	for (int pass = 0; pass < 3 && !err; pass++) {
		for (size_t i = 0; i < md->nstreams && !err; i++) {
			const struct ich_md_stream *s = &md->streams[i];
			stream_label((uint32_t)i, s->type, label, sizeof(label));
			bool is_sys = s->type == ICH_MD_STREAM_SYSTEM_INFO;
			bool is_thr = s->type == ICH_MD_STREAM_THREAD_LIST || s->type == ICH_MD_STREAM_THREAD_EX_LIST;
			if ((pass == 0) != is_sys || (pass == 1) != is_thr)
				continue;
			if (s->type != 0 && s->size && !in_file(&c, s->rva, 1)) {
				/* A truncated file: what is inside it stays usable. */
				ich_dump_warn(dump, "%s at 0x%x (%u bytes) is outside the file (0x%" PRIx64 " bytes); skipped",
					      label, s->rva, s->size, c.size);
				continue;
			}
			switch (s->type) {
			case ICH_MD_STREAM_SYSTEM_INFO:
				if (!md->has_system_info)
					err = parse_system_info(&c, s, label);
				break;
			case ICH_MD_STREAM_THREAD_LIST: err = parse_threads(&c, s, label, false); break;
			case ICH_MD_STREAM_THREAD_EX_LIST: err = parse_threads(&c, s, label, true); break;
			case ICH_MD_STREAM_MODULE_LIST:
				if (!md->modules)
					err = parse_modules(&c, s, label);
				break;
			case ICH_MD_STREAM_UNLOADED_MODULE_LIST:
				if (!md->unloaded)
					err = parse_unloaded(&c, s, label);
				break;
			case ICH_MD_STREAM_MEMORY_LIST: err = parse_memory_list(&c, s, label, &rv); break;
			case ICH_MD_STREAM_MEMORY64_LIST: err = parse_memory64_list(&c, s, label, &rv); break;
			case ICH_MD_STREAM_MEMORY_INFO_LIST:
				if (!md->meminfo)
					err = parse_meminfo(&c, s, label);
				break;
			case ICH_MD_STREAM_HANDLE_DATA:
				if (!md->handles)
					err = parse_handles(&c, s, label);
				break;
			case ICH_MD_STREAM_EXCEPTION:
				if (!md->has_exception)
					err = parse_exception(&c, s, label);
				break;
			case ICH_MD_STREAM_MISC_INFO:
				if (!md->has_misc_info)
					err = parse_misc_info(&c, s, label);
				break;
			case ICH_MD_STREAM_THREAD_NAMES: err = parse_thread_names(&c, s, label); break;
			case ICH_MD_STREAM_COMMENT_A: err = add_comment(&c, s, false); break;
			case ICH_MD_STREAM_COMMENT_W: err = add_comment(&c, s, true); break;
			default: break;	/* kept in md->streams, listed by info */
			}
		}
	}
	if (err) {
		free(rv.v);
		return err;
	}
	md->ranges = calloc(rv.n ? rv.n : 1, sizeof(*md->ranges));
	if (!md->ranges) {
		free(rv.v);
		return &ich_enomem;
	}
	for (size_t i = 0; i < rv.n; i++)
		md->ranges[i] = (struct ich_md_range){ rv.v[i].start, rv.v[i].size, rv.v[i].file_off };
	md->nranges = rv.n;
	/* Thread stacks the lists do not cover (a writer may store a stack
	 * only in its MINIDUMP_THREAD.Stack, as rust-minidump also accepts):
	 * appended last, so listed ranges own every byte they cover and
	 * stacks only fill gaps.  Not counted in md->ranges. */
	for (size_t i = 0; i < md->nthreads; i++) {
		const struct ich_md_thread *t = &md->threads[i];
		if (t->stack_size && t->stack_rva && in_file(&c, t->stack_rva, t->stack_size) &&
		    t->stack_start + t->stack_size - 1 >= t->stack_start &&
		    !range_push(&rv, t->stack_start, t->stack_size, t->stack_rva)) {
			free(rv.v);
			return &ich_enomem;
		}
	}

	/* Arch and WOW64: a 64-bit writer dumping a 32-bit process records
	 * AMD64 and loads wow64.dll / wow64cpu.dll into the process. */
	switch (md->system_info.processor_architecture) {
	case 0: dump->arch = ICH_ARCH_X86; break;
	case 9: dump->arch = ICH_ARCH_X64; break;
	case 12: dump->arch = ICH_ARCH_ARM64; break;
	case 5: dump->arch = ICH_ARCH_ARM; break;
	case 6: dump->arch = ICH_ARCH_IA64; break;
	default: dump->arch = ICH_ARCH_UNKNOWN; break;
	}
	if (!md->has_system_info)
		ich_dump_warn(dump, "no SystemInfo stream: architecture and Windows build unknown");
	dump->build = md->system_info.build_number;
	if (dump->arch == ICH_ARCH_X64 &&
	    (ich_md_find_module(md, "wow64.dll") || ich_md_find_module(md, "wow64cpu.dll")))
		md->wow64 = dump->wow64 = true;
	unsigned ptr = dump->arch == ICH_ARCH_X86 || dump->arch == ICH_ARCH_ARM ? 4 : 8;
	err = ich_range_as_create(dump, ptr, "minidump memory", rv.v, rv.n, &dump->as);
	free(rv.v);
	return err;
}

static void md_close(struct ich_dump *dump)
{
	struct ich_minidump *md = dump->md;
	if (!md)
		return;
	free(md->system_info.csd_version);
	free(md->misc_info.time_zone_standard_name);
	free(md->misc_info.build_string);
	free(md->misc_info.dbg_bld_str);
	for (size_t i = 0; i < md->nthreads; i++)
		free(md->threads[i].name);
	free(md->threads);
	for (size_t i = 0; i < md->nmodules; i++)
		free(md->modules[i].name);
	free(md->modules);
	for (size_t i = 0; i < md->nunloaded; i++)
		free(md->unloaded[i].name);
	free(md->unloaded);
	free(md->ranges);
	free(md->meminfo);
	for (size_t i = 0; i < md->nhandles; i++) {
		free(md->handles[i].type_name);
		free(md->handles[i].object_name);
	}
	free(md->handles);
	for (size_t i = 0; i < md->ncomments; i++)
		free(md->comments[i]);
	free(md->comments);
	free(md->streams);
	free(md);
	dump->md = NULL;
}

const struct ich_md_module *ich_md_find_module(const struct ich_minidump *md,
					       const char *base_name)
{
	size_t bl = strlen(base_name);
	for (size_t i = 0; i < md->nmodules; i++) {
		const char *n = md->modules[i].name;
		if (!n)
			continue;
		size_t l = strlen(n);
		if (l >= bl && !strcasecmp(n + l - bl, base_name) &&
		    (l == bl || n[l - bl - 1] == '\\' || n[l - bl - 1] == '/'))
			return &md->modules[i];
	}
	return NULL;
}

const struct ich_reader_ops ich_minidump_ops = {
	.name = "minidump",
	.probe = md_probe,
	.open = md_open,
	.close = md_close,
};
