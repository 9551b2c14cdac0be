/* SPDX-License-Identifier: MIT */
/*
 * Tests of the dump builder itself.  Expected values are computed by hand
 * from the format documentation (offsets cited next to each check), and
 * kernel dumps are checked by a page-table walk written here, separately
 * from db_kdump.c's own walker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpbuilder.h"

/* ---- helpers ------------------------------------------------------------ */

struct file {
	uint8_t *p;
	size_t n;
};

static char tmpdir[256];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/icpheap-builder-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	static char buf[4][400];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static struct file slurp(const char *path)
{
	struct file f = { 0 };
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	f.n = (size_t)ftell(fp);
	fseek(fp, 0, SEEK_SET);
	f.p = malloc(f.n ? f.n : 1);
	assert_non_null(f.p);
	assert_int_equal(fread(f.p, 1, f.n, fp), f.n);
	fclose(fp);
	return f;
}

/* Reads n bytes at off without loading a (sparse, large) file. */
static void pread_file(const char *path, uint64_t off, void *buf, size_t n)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseeko(fp, (off_t)off, SEEK_SET), 0);
	assert_int_equal(fread(buf, 1, n, fp), n);
	fclose(fp);
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* MINIDUMP_STRING at rva as ASCII (test strings are ASCII). */
static void md_string(const struct file *f, uint32_t rva, char *out, size_t max)
{
	uint32_t len = le32(f->p + rva);
	size_t i;
	for (i = 0; i < len / 2 && i + 1 < max; i++)
		out[i] = (char)le16(f->p + rva + 4 + 2 * i);
	out[i] = 0;
	/* dbghelp terminates the buffer with a NUL WCHAR not counted in Length */
	assert_int_equal(le16(f->p + rva + 4 + len), 0);
}

/* Directory lookup: returns the RVA of the stream, its size in *size. */
static uint32_t md_stream(const struct file *f, uint32_t type, uint32_t *size)
{
	uint32_t n = le32(f->p + 8), dir = le32(f->p + 12);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = f->p + dir + 12 * i;
		if (le32(e) == type) {
			*size = le32(e + 4);
			return le32(e + 8);
		}
	}
	fail_msg("stream type %u not found", type);
	return 0;
}

/* ---- memory image ------------------------------------------------------- */

static void t_mem_sparse(void **state)
{
	(void)state;
	struct db_mem *m = db_mem_new(8);
	/* A multi-GiB zero fill allocates nothing. */
	db_mem_fill(m, 0x100000000ull, 0, 16ull << 30);
	assert_int_equal(db_mem_page_count(m), 0);
	/* A write across a page boundary lands in two pages. */
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	db_mem_write(m, 0x10000ffcull, b, 8);
	assert_int_equal(db_mem_page_count(m), 2);
	assert_int_equal(db_mem_read_u32(m, 0x10000ffcull), 0x04030201u);
	assert_int_equal(db_mem_read_u32(m, 0x10001000ull), 0x08070605u);
	assert_int_equal(db_mem_read_u64(m, 0x20000000ull), 0);	/* never written */
	db_mem_write_ptr(m, 0x3000, 0x1122334455667788ull);
	assert_int_equal(db_mem_read_u64(m, 0x3000), 0x1122334455667788ull);
	db_mem_set_ptr_size(m, 4);
	db_mem_write_ptr(m, 0x3000, 0xAABBCCDDEEFF0011ull);
	/* 4-byte pointer: only the low dword changes */
	assert_int_equal(db_mem_read_u64(m, 0x3000), 0x11223344EEFF0011ull);
	db_mem_fill(m, 0x5ff0, 0xAB, 0x20);
	assert_int_equal(db_mem_read_u32(m, 0x5ff0), 0xABABABABu);
	assert_int_equal(db_mem_read_u32(m, 0x600c), 0xABABABABu);
	assert_int_equal(db_mem_read_u32(m, 0x6010), 0);
	size_t n = db_mem_write_utf16(m, 0x7000, "Ab\xc3\xa9", true);
	assert_int_equal(n, 8);
	assert_int_equal(db_mem_read_u16(m, 0x7004), 0xE9);
	/* many pages: the hash table grows */
	for (uint64_t i = 0; i < 5000; i++)
		db_mem_write_u64(m, 0x7f0000000000ull + i * 0x1000 * 7, i);
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(db_mem_read_u64(m, 0x7f0000000000ull + i * 0x1000 * 7), i);
	db_mem_free(m);
}

/* ---- minidumps ---------------------------------------------------------- */

/* The smallest interesting dump: one x64 thread, nothing else.  Layout by
 * hand (db_md_write's documented order, 4-byte alignment of streams,
 * 16-byte alignment of contexts and of the memory data):
 *   0x000 MINIDUMP_HEADER (32)
 *   0x020 directory: 4 entries x 12 = 0x30 -> 0x050
 *   0x050 ThreadList: 4 + 48 = 52 -> 0x084
 *   0x090 CONTEXT (0x4D0) -> 0x560
 *   0x560 ModuleList: 4 -> 0x564
 *   0x564 SystemInfo: 56 -> 0x59C; CSD MINIDUMP_STRING "" 6 bytes -> 0x5A2
 *   0x5A4 MemoryList: 4 + 16 = 20 -> 0x5B8
 *   0x5C0 stack bytes (0x100) -> file size 0x6C0 */
static void t_md_minimal_layout(void **state)
{
	(void)state;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_set_version_high(md, 0x1234);
	db_md_set_timestamp(md, 0x61626364);
	db_mem_write_u64(db_md_mem(md), 0x50080, 0xFEEDFACECAFEBEEFull);
	db_md_add_thread(md, &(struct db_md_thread){ .id = 0x1a4, .teb = 0x7ff5e000,
			 .stack_start = 0x50000, .stack_size = 0x100 });
	const char *p = path_of("minimal.dmp");
	assert_int_equal(db_md_write(md, p), 0);
	struct file f = slurp(p);
	assert_int_equal(f.n, 0x6C0);
	assert_memory_equal(f.p, "MDMP", 4);
	assert_int_equal(le32(f.p + 4), 0x1234A793u);	/* Version: high | MINIDUMP_VERSION */
	assert_int_equal(le32(f.p + 8), 4);		/* NumberOfStreams */
	assert_int_equal(le32(f.p + 12), 0x20);		/* StreamDirectoryRva */
	assert_int_equal(le32(f.p + 20), 0x61626364);	/* TimeDateStamp */
	assert_int_equal(le64(f.p + 24), 0);		/* Flags: MiniDumpNormal */
	static const uint32_t want[4][3] = {
		{ 3, 52, 0x50 }, { 4, 4, 0x560 }, { 7, 56, 0x564 }, { 5, 20, 0x5A4 } };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(le32(f.p + 0x20 + 12 * i), want[i][0]);
		assert_int_equal(le32(f.p + 0x24 + 12 * i), want[i][1]);
		assert_int_equal(le32(f.p + 0x28 + 12 * i), want[i][2]);
	}
	/* MINIDUMP_THREAD at 0x54 */
	const uint8_t *t = f.p + 0x54;
	assert_int_equal(le32(f.p + 0x50), 1);
	assert_int_equal(le32(t), 0x1a4);
	assert_int_equal(le32(t + 8), 0x20);		/* PriorityClass default */
	assert_int_equal(le64(t + 16), 0x7ff5e000);	/* Teb */
	assert_int_equal(le64(t + 24), 0x50000);	/* Stack.StartOfMemoryRange */
	assert_int_equal(le32(t + 32), 0x100);		/* Stack.Memory.DataSize */
	assert_int_equal(le32(t + 36), 0x5C0);		/* Stack.Memory.Rva */
	assert_int_equal(le32(t + 40), 0x4D0);		/* ThreadContext.DataSize */
	assert_int_equal(le32(t + 44), 0x90);		/* ThreadContext.Rva */
	assert_int_equal(le32(f.p + 0x90 + 0x30), 0x10000B);	/* AMD64 ContextFlags */
	/* SystemInfo */
	const uint8_t *si = f.p + 0x564;
	assert_int_equal(le16(si), 9);			/* PROCESSOR_ARCHITECTURE_AMD64 */
	assert_int_equal(si[6], 4);			/* NumberOfProcessors */
	assert_int_equal(si[7], 1);			/* ProductType */
	assert_int_equal(le32(si + 8), 10);
	assert_int_equal(le32(si + 12), 0);
	assert_int_equal(le32(si + 16), 19045);
	assert_int_equal(le32(si + 20), 2);		/* VER_PLATFORM_WIN32_NT */
	assert_int_equal(le32(si + 24), 0x59C);		/* CSDVersionRva */
	assert_int_equal(le32(f.p + 0x59C), 0);		/* empty string */
	/* MemoryList: the auto-added stack range */
	assert_int_equal(le32(f.p + 0x5A4), 1);
	assert_int_equal(le64(f.p + 0x5A8), 0x50000);
	assert_int_equal(le32(f.p + 0x5B0), 0x100);
	assert_int_equal(le32(f.p + 0x5B4), 0x5C0);
	assert_int_equal(le64(f.p + 0x5C0 + 0x80), 0xFEEDFACECAFEBEEFull);
	free(f.p);
	db_md_free(md);
}

static void t_md_streams(void **state)
{
	(void)state;
	struct db_md *md = db_md_new(DB_ARCH_X86, 6, 1, 7601);
	struct db_mem *m = db_md_mem(md);
	assert_int_equal(db_mem_ptr_size(m), 4);
	db_md_sysinfo(md)->csd_version = "Service Pack 1";
	db_md_set_handle_descriptor_version(md, 1);
	db_md_set_thread_stream(md, DB_THREADS_BOTH);
	db_md_set_unused_streams(md, 3);
	db_mem_fill(m, 0x12e000, 0x11, 0x1000);
	db_md_add_thread(md, &(struct db_md_thread){ .id = 7, .teb = 0x7ffdf000,
			 .stack_start = 0x12e000, .stack_size = 0x1000, .name = "T7" });
	db_md_add_thread(md, &(struct db_md_thread){ .id = 8, .teb = 0x7ffdd000 });
	db_md_add_module(md, &(struct db_md_module){ .name = "C:\\a\\b.dll", .base = 0x10000000,
			 .size = 0x5000, .checksum = 0xC0FFEE, .timestamp = 0x4CE7B8F7,
			 .file_version = { 6, 1, 7601, 24545 } });
	db_md_add_module(md, &(struct db_md_module){ .name = "C:\\x.exe", .base = 0x400000,
			 .size = 0x1000, .no_version_info = true });
	db_md_add_unloaded_module(md, &(struct db_md_unloaded_module){ .name = "old.dll",
			 .base = 0x20000000, .size = 0x3000, .timestamp = 5 });
	db_mem_write_u32(m, 0x30000, 0xAAAA0001);
	db_mem_write_u32(m, 0x31000, 0xBBBB0002);
	db_md_add_memory(md, 0x30000, 0x2000, DB_LIST_64);
	db_md_add_memory(md, 0x31000, 0x1000, DB_LIST_BOTH);	/* overlaps the first */
	db_md_add_handle(md, &(struct db_md_handle){ .handle = 0x44, .type_name = "IoCompletion",
			 .granted_access = 0x1f0003, .handle_count = 1, .pointer_count = 3 });
	db_md_add_meminfo(md, &(struct db_md_meminfo){ .base = 0x30000, .allocation_base = 0x30000,
			 .allocation_protect = 4, .region_size = 0x2000, .state = 0x1000,
			 .protect = 4, .type = 0x20000 });
	db_md_set_exception(md, &(struct db_md_exception){ .thread_id = 7, .code = 0xC0000005,
			 .address = 0x401000, .number_parameters = 2, .information = { 1, 0x1234 } });
	db_md_set_misc_info(md, &(struct db_md_misc_info){ .size_of_info = 232, .process_id = 0x9f0,
			 .time_zone_standard_name = "UTC" });
	db_md_add_comment_a(md, "hello");
	db_md_add_comment_w(md, "wide");
	db_md_add_raw_stream(md, 0x1234567, "\x01\x02\x03", 3);
	const char *p = path_of("streams.dmp");
	assert_int_equal(db_md_write(md, p), 0);
	struct file f = slurp(p);
	uint32_t sz, r;
	char s[64];

	/* 15 streams (ThreadList, ThreadExList, ThreadNames, ModuleList,
	 * UnloadedModuleList, SystemInfo, MiscInfo, Exception, HandleData,
	 * MemoryInfoList, CommentA, CommentW, 0x1234567, MemoryList,
	 * Memory64List) + 3 UnusedStream entries; flags: WithFullMemory 2 |
	 * WithHandleData 4 | WithUnloadedModules 0x20 | WithFullMemoryInfo 0x800 */
	assert_int_equal(le32(f.p + 8), 18);
	assert_int_equal(le64(f.p + 24), 0x826);
	assert_int_equal(le32(f.p + 12 + 0) , 0x20);
	assert_int_equal(le32(f.p + 0x20 + 12 * 17), 0);	/* last entry unused */
	assert_int_equal(le32(f.p + 0x20 + 12 * 14), 9);	/* Memory64List last real */

	r = md_stream(&f, 3, &sz);				/* ThreadList */
	assert_int_equal(sz, 4 + 2 * 48);
	assert_int_equal(le32(f.p + r + 4 + 48 + 40), 0x2CC);	/* x86 CONTEXT size */
	assert_int_equal(le32(f.p + le32(f.p + r + 4 + 44)), 0x10007);	/* CONTEXT_FULL x86 */
	r = md_stream(&f, 8, &sz);				/* ThreadExList */
	assert_int_equal(sz, 4 + 2 * 64);
	assert_int_equal(le32(f.p + r + 4 + 64), 8);		/* second thread id */
	r = md_stream(&f, 24, &sz);				/* ThreadNames */
	assert_int_equal(sz, 4 + 12);				/* 12-byte entries (pack 4) */
	assert_int_equal(le32(f.p + r), 1);
	assert_int_equal(le32(f.p + r + 4), 7);
	md_string(&f, (uint32_t)le64(f.p + r + 8), s, sizeof(s));
	assert_string_equal(s, "T7");

	r = md_stream(&f, 4, &sz);				/* ModuleList */
	assert_int_equal(sz, 4 + 2 * 108);
	const uint8_t *mo = f.p + r + 4;
	assert_int_equal(le64(mo), 0x10000000);
	assert_int_equal(le32(mo + 8), 0x5000);
	assert_int_equal(le32(mo + 12), 0xC0FFEE);
	assert_int_equal(le32(mo + 16), 0x4CE7B8F7);
	md_string(&f, le32(mo + 20), s, sizeof(s));
	assert_string_equal(s, "C:\\a\\b.dll");
	assert_int_equal(le32(mo + 24), 0xFEEF04BDu);		/* VS_FIXEDFILEINFO.dwSignature */
	assert_int_equal(le32(mo + 32), 0x00060001u);		/* dwFileVersionMS 6.1 */
	assert_int_equal(le32(mo + 36), (7601u << 16) | 24545u);	/* dwFileVersionLS */
	assert_int_equal(le32(mo + 108 + 24), 0);		/* no version info */

	r = md_stream(&f, 14, &sz);				/* UnloadedModuleList */
	assert_int_equal(le32(f.p + r), 12);
	assert_int_equal(le32(f.p + r + 4), 24);
	assert_int_equal(le32(f.p + r + 8), 1);
	assert_int_equal(le64(f.p + r + 12), 0x20000000);
	md_string(&f, le32(f.p + r + 12 + 20), s, sizeof(s));
	assert_string_equal(s, "old.dll");

	r = md_stream(&f, 7, &sz);				/* SystemInfo */
	assert_int_equal(le16(f.p + r), 0);			/* PROCESSOR_ARCHITECTURE_INTEL */
	assert_int_equal(le32(f.p + r + 16), 7601);
	md_string(&f, le32(f.p + r + 24), s, sizeof(s));
	assert_string_equal(s, "Service Pack 1");
	assert_memory_equal(f.p + r + 32, "GenuineIntel", 12);

	r = md_stream(&f, 12, &sz);				/* HandleData, v1 */
	assert_int_equal(le32(f.p + r), 16);
	assert_int_equal(le32(f.p + r + 4), 32);
	assert_int_equal(le32(f.p + r + 8), 1);
	assert_int_equal(sz, 16 + 32);
	assert_int_equal(le64(f.p + r + 16), 0x44);
	md_string(&f, le32(f.p + r + 24), s, sizeof(s));
	assert_string_equal(s, "IoCompletion");
	assert_int_equal(le32(f.p + r + 28), 0);		/* no object name */
	assert_int_equal(le32(f.p + r + 36), 0x1f0003);
	assert_int_equal(le32(f.p + r + 44), 3);		/* PointerCount */

	r = md_stream(&f, 16, &sz);				/* MemoryInfoList */
	assert_int_equal(le32(f.p + r), 16);
	assert_int_equal(le32(f.p + r + 4), 48);
	assert_int_equal(le64(f.p + r + 8), 1);
	assert_int_equal(le64(f.p + r + 16 + 24), 0x2000);	/* RegionSize */
	assert_int_equal(le32(f.p + r + 16 + 32), 0x1000);	/* State */
	assert_int_equal(le32(f.p + r + 16 + 40), 0x20000);	/* Type */

	r = md_stream(&f, 6, &sz);				/* Exception */
	assert_int_equal(sz, 168);
	assert_int_equal(le32(f.p + r), 7);
	assert_int_equal(le32(f.p + r + 8), 0xC0000005u);
	assert_int_equal(le64(f.p + r + 24), 0x401000);
	assert_int_equal(le32(f.p + r + 32), 2);
	assert_int_equal(le64(f.p + r + 48), 0x1234);
	assert_int_equal(le32(f.p + r + 160), 0x2CC);

	r = md_stream(&f, 15, &sz);				/* MiscInfo v3 */
	assert_int_equal(sz, 232);
	assert_int_equal(le32(f.p + r), 232);
	assert_int_equal(le32(f.p + r + 4), 0x57);		/* ID|TIMES|POWER|INTEGRITY|TIMEZONE */
	assert_int_equal(le32(f.p + r + 8), 0x9f0);
	assert_int_equal(le16(f.p + r + 64), 'U');		/* TimeZone.StandardName */

	r = md_stream(&f, 10, &sz);
	assert_int_equal(sz, 6);
	assert_string_equal((const char *)f.p + r, "hello");
	r = md_stream(&f, 11, &sz);
	assert_int_equal(sz, 10);
	assert_int_equal(le16(f.p + r), 'w');
	r = md_stream(&f, 0x1234567, &sz);
	assert_int_equal(sz, 3);
	assert_memory_equal(f.p + r, "\x01\x02\x03", 3);

	/* MemoryList: the 0x31000 range, then the stack (auto-added) */
	r = md_stream(&f, 5, &sz);
	assert_int_equal(le32(f.p + r), 2);
	assert_int_equal(le64(f.p + r + 4), 0x31000);
	assert_int_equal(le32(f.p + le32(f.p + r + 16)), 0xBBBB0002u);
	assert_int_equal(le64(f.p + r + 20), 0x12e000);
	assert_int_equal(f.p[le32(f.p + r + 32) + 0xfff], 0x11);
	/* Memory64List: both ranges, data contiguous from BaseRva */
	r = md_stream(&f, 9, &sz);
	assert_int_equal(sz, 16 + 2 * 16);
	assert_int_equal(le64(f.p + r), 2);
	uint64_t base = le64(f.p + r + 8);
	assert_int_equal(le64(f.p + r + 16), 0x30000);
	assert_int_equal(le64(f.p + r + 24), 0x2000);
	assert_int_equal(le64(f.p + r + 32), 0x31000);
	assert_int_equal(le32(f.p + base), 0xAAAA0001u);
	assert_int_equal(le32(f.p + base + 0x1000), 0xBBBB0002u);
	assert_int_equal(le32(f.p + base + 0x2000), 0xBBBB0002u);
	assert_int_equal(base + 0x3000, f.n);
	assert_int_equal(db_md_range_rva(md, 0, DB_LIST_64), base);
	assert_int_equal(db_md_range_rva(md, 0, DB_LIST_32), UINT64_MAX);
	free(f.p);
	db_md_free(md);
}

static void t_md_misc_sizes(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { 24, 44, 232, 832, 1364 };
	for (int i = 0; i < 5; i++) {
		struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 22631);
		db_md_set_misc_info(md, &(struct db_md_misc_info){ .size_of_info = sizes[i],
				    .build_string = "22621.1.amd64fre", .process_cookie = 0xC00C1E });
		const char *p = path_of("misc.dmp");
		assert_int_equal(db_md_write(md, p), 0);
		struct file f = slurp(p);
		uint32_t sz, r = md_stream(&f, 15, &sz);
		assert_int_equal(sz, sizes[i]);
		assert_int_equal(le32(f.p + r), sizes[i]);
		if (sizes[i] >= 832)
			assert_int_equal(le16(f.p + r + 232), '2');	/* BuildString */
		if (sizes[i] == 1364)
			assert_int_equal(le32(f.p + r + 1360), 0xC00C1E);	/* ProcessCookie */
		free(f.p);
		db_md_free(md);
	}
}

static void t_md_wow64(void **state)
{
	(void)state;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_set_wow64(md);
	assert_true(db_md_is_wow64(md));
	assert_int_equal(db_mem_ptr_size(db_md_mem(md)), 4);
	db_md_add_thread(md, &(struct db_md_thread){ .id = 1, .teb = 0xfe9000 });
	/* TEB64.WowTebOffset (+0x180C) and TEB32.WowTebOffset (+0xFDC) */
	assert_int_equal(db_mem_read_u32(db_md_mem(md), 0xfe9000 + 0x180C), 0x2000);
	assert_int_equal(db_mem_read_u32(db_md_mem(md), 0xfeb000 + 0xFDC), 0xFFFFE000u);
	assert_int_equal(db_mem_read_u32(db_md_mem(md), 0xfeb000 + 0x18), 0xfeb000);
	const char *p = path_of("wow.dmp");
	assert_int_equal(db_md_write(md, p), 0);
	struct file f = slurp(p);
	uint32_t sz, r = md_stream(&f, 7, &sz);
	assert_int_equal(le16(f.p + r), 9);			/* AMD64 */
	r = md_stream(&f, 4, &sz);
	assert_int_equal(le32(f.p + r), 5);
	bool sys32 = false, syswow = false, cpu = false;
	for (int i = 0; i < 5; i++) {
		char s[80];
		md_string(&f, le32(f.p + r + 4 + 108 * i + 20), s, sizeof(s));
		sys32 |= !strcmp(s, "C:\\Windows\\System32\\ntdll.dll");
		syswow |= !strcmp(s, "C:\\Windows\\SysWOW64\\ntdll.dll");
		cpu |= !strcmp(s, "C:\\Windows\\System32\\wow64cpu.dll");
	}
	assert_true(sys32 && syswow && cpu);
	r = md_stream(&f, 3, &sz);
	assert_int_equal(le32(f.p + r + 4 + 40), 0x4D0);	/* AMD64 context */
	free(f.p);
	db_md_free(md);
}

static void t_md_sparse(void **state)
{
	(void)state;
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_mem_write_u64(db_md_mem(md), 0x10000000ull + (700ull << 20), 0x0123456789ABCDEFull);
	db_md_add_memory(md, 0x10000000ull, 1ull << 30, DB_LIST_64);
	const char *p = path_of("sparse.dmp");
	assert_int_equal(db_md_write(md, p), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	uint64_t base = db_md_range_rva(md, 0, DB_LIST_64);
	assert_int_equal((uint64_t)st.st_size, base + (1ull << 30));
	assert_true((uint64_t)st.st_blocks * 512 < (4ull << 20));	/* holes */
	uint8_t b[8];
	pread_file(p, base + (700ull << 20), b, 8);
	assert_int_equal(le64(b), 0x0123456789ABCDEFull);
	/* corruption helpers */
	assert_int_equal(db_patch_file(p, 0, "XDMP", 4), 0);
	pread_file(p, 0, b, 4);
	assert_memory_equal(b, "XDMP", 4);
	assert_int_equal(db_truncate_file(p, 100), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 100);
	db_md_free(md);
}

/* ---- kernel dumps: an independent reader ------------------------------- */

struct kfile {
	const char *path;
	bool is64;
	uint32_t type;
	uint64_t dtb;
	/* full: runs; bitmap: bitmap; rdmp: ranges */
	uint64_t nruns, runs[64][2];
	uint64_t first_page, pages;
	uint8_t *bitmap;
	uint64_t nranges, ranges[64][2];
};

static void kopen(struct kfile *k, const char *path)
{
	uint8_t h[0x2040];
	memset(k, 0, sizeof(*k));
	k->path = path;
	pread_file(path, 0, h, 0x1000);
	assert_memory_equal(h, "PAGE", 4);
	k->is64 = !memcmp(h + 4, "DU64", 4);
	if (k->is64) {
		pread_file(path, 0, h, 0x2040);
		k->dtb = le64(h + 0x10);
		k->type = le32(h + 0xF98);
		k->nruns = le32(h + 0x88);
		for (uint64_t i = 0; i < k->nruns; i++) {
			k->runs[i][0] = le64(h + 0x98 + 16 * i);
			k->runs[i][1] = le64(h + 0xA0 + 16 * i);
		}
	} else {
		assert_memory_equal(h + 4, "DUMP", 4);
		k->dtb = le32(h + 0x10);
		k->type = le32(h + 0xF88);
		k->nruns = le32(h + 0x64);
		for (uint64_t i = 0; i < k->nruns; i++) {
			k->runs[i][0] = le32(h + 0x6C + 8 * i);
			k->runs[i][1] = le32(h + 0x70 + 8 * i);
		}
	}
	if (k->type == 5) {
		assert_true(!memcmp(h + 0x2000, "SDMP", 4) || !memcmp(h + 0x2000, "FDMP", 4));
		assert_memory_equal(h + 0x2004, "DUMP", 4);
		k->first_page = le64(h + 0x2020);
		k->pages = le64(h + 0x2030);
		k->bitmap = malloc((k->pages + 7) / 8);
		pread_file(path, 0x2038, k->bitmap, (k->pages + 7) / 8);
	} else if (k->type >= 8) {
		assert_int_equal(le32(h + 0x2000), 0x40);
		assert_memory_equal(h + 0x2004, "RDMP", 4);
		assert_memory_equal(h + 0x2008, "DUMP", 4);
		uint64_t meta = le64(h + 0x2010);
		k->first_page = le64(h + 0x2018);
		/* kdmp-parser's consistency rule */
		assert_int_equal(meta - 0x20, k->first_page - 0x2040);
		uint8_t *m = malloc(meta);
		pread_file(path, 0x2030, m, meta - 0x10);
		for (uint64_t off = 0; off + 16 <= meta - 0x10; off += 16) {
			if (!le64(m + off))
				break;
			k->ranges[k->nranges][0] = le64(m + off);
			k->ranges[k->nranges][1] = le64(m + off + 8);
			k->nranges++;
		}
		free(m);
	}
}

/* File offset of physical address pa, or UINT64_MAX if absent. */
static uint64_t kphys(const struct kfile *k, uint64_t pa)
{
	uint64_t pfn = pa >> 12, idx = 0;
	if (k->type == 1) {
		for (uint64_t i = 0; i < k->nruns; i++) {
			if (pfn >= k->runs[i][0] && pfn < k->runs[i][0] + k->runs[i][1])
				return (k->is64 ? 0x2000 : 0x1000) +
				       0x1000 * (idx + pfn - k->runs[i][0]) + (pa & 0xfff);
			idx += k->runs[i][1];
		}
		return UINT64_MAX;
	}
	if (k->type == 5) {
		if (pfn >= k->pages || !(k->bitmap[pfn / 8] & (1 << (pfn % 8))))
			return UINT64_MAX;
		for (uint64_t p = 0; p < pfn; p++)
			idx += (k->bitmap[p / 8] >> (p % 8)) & 1;
		return k->first_page + 0x1000 * idx + (pa & 0xfff);
	}
	for (uint64_t i = 0; i < k->nranges; i++) {
		if (pfn >= k->ranges[i][0] && pfn < k->ranges[i][0] + k->ranges[i][1])
			return k->first_page + 0x1000 * (idx + pfn - k->ranges[i][0]) + (pa & 0xfff);
		idx += k->ranges[i][1];
	}
	return UINT64_MAX;
}

static uint64_t kread_phys(const struct kfile *k, uint64_t pa, unsigned size)
{
	uint64_t off = kphys(k, pa);
	assert_true(off != UINT64_MAX);
	uint8_t b[8] = { 0 };
	pread_file(k->path, off, b, size);
	return size == 4 ? le32(b) : le64(b);
}

enum kmode { K_X64, K_PAE, K_X86 };

/* Hand-written walk (Intel SDM vol. 3A §4.3-4.5).  Returns the physical
 * address, or UINT64_MAX if a level is not present.  *pte gets the last
 * entry read. */
static uint64_t kwalk(const struct kfile *k, enum kmode mode, uint64_t dtb, uint64_t va,
		      uint64_t *pte)
{
	uint64_t e;
	if (mode == K_X86) {
		e = kread_phys(k, (dtb & ~0xfffull) + 4 * ((va >> 22) & 0x3ff), 4);
		*pte = e;
		if (!(e & 1))
			return UINT64_MAX;
		if (e & 0x80)
			return (e & 0xffc00000ull) | (va & 0x3fffff);
		e = kread_phys(k, (e & 0xfffff000ull) + 4 * ((va >> 12) & 0x3ff), 4);
		*pte = e;
		return (e & 1) ? (e & 0xfffff000ull) | (va & 0xfff) : UINT64_MAX;
	}
	const uint64_t am = 0x000ffffffffff000ull;
	uint64_t table;
	if (mode == K_PAE) {
		e = kread_phys(k, (dtb & ~0x1full) + 8 * ((va >> 30) & 3), 8);
		*pte = e;
		if (!(e & 1))
			return UINT64_MAX;
		table = e & am;
	} else {
		e = kread_phys(k, (dtb & am) + 8 * ((va >> 39) & 0x1ff), 8);
		*pte = e;
		if (!(e & 1))
			return UINT64_MAX;
		e = kread_phys(k, (e & am) + 8 * ((va >> 30) & 0x1ff), 8);
		*pte = e;
		if (!(e & 1))
			return UINT64_MAX;
		if (e & 0x80)
			return (e & am & ~0x3fffffffull) | (va & 0x3fffffff);
		table = e & am;
	}
	e = kread_phys(k, table + 8 * ((va >> 21) & 0x1ff), 8);
	*pte = e;
	if (!(e & 1))
		return UINT64_MAX;
	if (e & 0x80)
		return (e & am & ~0x1fffffull) | (va & 0x1fffff);
	e = kread_phys(k, (e & am) + 8 * ((va >> 12) & 0x1ff), 8);
	*pte = e;
	return (e & 1) ? (e & am) | (va & 0xfff) : UINT64_MAX;
}

static uint64_t kread_va(const struct kfile *k, enum kmode mode, uint64_t dtb, uint64_t va,
			 unsigned size)
{
	uint64_t pte;
	uint64_t pa = kwalk(k, mode, dtb, va, &pte);
	assert_true(pa != UINT64_MAX);
	return kread_phys(k, pa, size);
}

static void t_kd_x64_full_pages(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_FULL);
	/* 1 GiB pages need a GiB-aligned GiB of RAM: runs up to 2 GiB. */
	struct db_kd_run runs[] = { { 0x1, 0x9E }, { 0x100, 0x80000 - 0x100 } };
	assert_int_equal(db_kd_set_physical_runs(kd, runs, 2), 0);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	assert_int_equal(dtb, 0x1000);		/* first frame of the first run */
	assert_int_equal(db_kd_map(kd, dtb, 0xfffff80000000000ull, 0x200000, 0x200000), 0);
	assert_int_equal(db_kd_map(kd, dtb, 0xffffa00000000000ull, 0x3000, 0x1000), 0);
	assert_int_equal(db_kd_map(kd, dtb, 0xffffe00000000000ull, 0x40000000, 0x40000000), 0);
	/* misaligned or conflicting requests fail */
	assert_int_equal(db_kd_map(kd, dtb, 0xfffff80000001000ull, 0x1000, 0x200000), -1);
	assert_int_equal(db_kd_map(kd, dtb, 0xfffff80000001000ull, 0x1000, 0x1000), -1);
	struct db_mem *v = db_kd_view(kd, dtb);
	db_mem_write_u64(v, 0xfffff80000123458ull, 0x2222222222222222ull);
	db_mem_write_u64(v, 0xffffa00000001ffcull, 0x3333333344444444ull);	/* crosses a page */
	db_mem_write_u64(v, 0xffffe0003ffffff8ull, 0x5555555555555555ull);
	assert_int_equal(db_mem_read_u64(v, 0xffffa00000001ffcull), 0x3333333344444444ull);
	uint64_t pfn1g = db_kd_va_to_pfn(kd, dtb, 0xffffe00000000000ull);
	assert_int_equal(pfn1g % 0x40000, 0);
	db_kd_header(kd)->bugcheck_code = 0x1e;
	db_kd_header(kd)->bugcheck_parameters[0] = 0xc0000005;
	db_kd_header(kd)->ps_active_process_head = 0xfffff80000100000ull;
	db_kd_header(kd)->comment = "hello";
	const char *p = path_of("full64.dmp");
	assert_int_equal(db_kd_write_file(kd, p), 0);

	uint8_t h[0x2000];
	pread_file(p, 0, h, sizeof(h));
	assert_memory_equal(h, "PAGEDU64", 8);
	assert_int_equal(le32(h + 0x8), 0xF);
	assert_int_equal(le32(h + 0xC), 19045);
	assert_int_equal(le64(h + 0x10), 0x1000);
	assert_int_equal(le64(h + 0x28), 0xfffff80000100000ull);
	assert_int_equal(le32(h + 0x30), 0x8664);
	assert_int_equal(le32(h + 0x38), 0x1e);
	assert_int_equal(le64(h + 0x40), 0xc0000005);
	assert_int_equal(le32(h + 0x88), 2);			/* NumberOfRuns */
	assert_int_equal(le64(h + 0x90), 0x9E + 0x80000 - 0x100);	/* NumberOfPages */
	assert_int_equal(le32(h + 0xF98), 1);			/* DumpType */
	assert_string_equal((const char *)h + 0xFB0, "hello");
	assert_memory_equal(h + 0x1100, "PAGE", 4);		/* unused header bytes */
	assert_memory_equal(h + 0x2000 - 4, "PAGE", 4);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal((uint64_t)st.st_size, 0x2000 + 0x1000ull * (0x9E + 0x80000 - 0x100));
	assert_int_equal(le64(h + 0xFA0), (uint64_t)st.st_size);	/* RequiredDumpSpace */
	assert_true((uint64_t)st.st_blocks * 512 < (8ull << 20));

	struct kfile k;
	kopen(&k, p);
	uint64_t pte;
	assert_int_equal(kread_va(&k, K_X64, k.dtb, 0xfffff80000123458ull, 8), 0x2222222222222222ull);
	assert_int_equal(kread_va(&k, K_X64, k.dtb, 0xffffa00000001ffcull, 4), 0x44444444);
	assert_int_equal(kread_va(&k, K_X64, k.dtb, 0xffffa00000002000ull, 4), 0x33333333);
	assert_int_equal(kread_va(&k, K_X64, k.dtb, 0xffffe0003ffffff8ull, 8), 0x5555555555555555ull);
	/* the 2 MiB and 1 GiB entries have PS set */
	kwalk(&k, K_X64, k.dtb, 0xfffff80000000000ull, &pte);
	assert_true(pte & 0x80);
	kwalk(&k, K_X64, k.dtb, 0xffffe00000000000ull, &pte);
	assert_true(pte & 0x80);
	assert_int_equal((pte >> 12) & 0xffffffffffull, pfn1g);
	assert_int_equal(kwalk(&k, K_X64, k.dtb, 0xffffb00000000000ull, &pte), UINT64_MAX);
	db_kd_free(kd);
}

static void t_kd_x64_bitmap_ptes(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_BITMAP);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	uint64_t proc = db_kd_new_address_space(kd);
	const uint64_t base = 0xffffc00000000000ull;
	/* kernel mapping made after the process exists is visible in it */
	assert_int_equal(db_kd_map(kd, dtb, base, 0x4000, 0x1000), 0);
	assert_int_equal(db_kd_map(kd, proc, 0x10000, 0x1000, 0x1000), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(db_kd_write(kd, dtb, base + 0x1000u * (unsigned)i,
					     &(uint64_t){ 0x1111111111111111ull * (unsigned)(i + 1) }, 8), 0);
	assert_int_equal(db_kd_write(kd, proc, 0x10000, "user", 4), 0);
	uint64_t pfn1 = db_kd_va_to_pfn(kd, dtb, base + 0x1000);
	uint64_t pfn2 = db_kd_va_to_pfn(kd, dtb, base + 0x2000);
	uint64_t pfn3 = db_kd_va_to_pfn(kd, dtb, base + 0x3000);
	assert_int_equal(db_kd_make_transition(kd, dtb, base + 0x1000), 0);
	assert_int_equal(db_kd_make_paged_out(kd, dtb, base + 0x2000, 0x1234560000080ull), 0);
	assert_int_equal(db_kd_make_paged_out(kd, dtb, base + 0x3000, 0x801), -1);	/* valid bit */
	db_kd_exclude_page(kd, pfn3);
	/* transition pages still read through the builder */
	uint64_t v = 0;
	assert_int_equal(db_kd_read(kd, dtb, base + 0x1000, &v, 8), 0);
	assert_int_equal(v, 0x2222222222222222ull);
	assert_int_equal(db_kd_read(kd, dtb, base + 0x2000, &v, 8), -1);
	assert_int_equal(db_kd_read(kd, dtb, 0x10000, &v, 4), -1);	/* user VA not in kernel DTB */
	/* automap: a write to unmapped user memory maps 4 KiB pages */
	db_kd_set_automap(kd, true);
	db_mem_write_u64(db_kd_view(kd, proc), 0x20ffc, 0x9999999988888888ull);
	db_kd_set_automap(kd, false);
	assert_true(db_kd_va_to_pa(kd, proc, 0x20000) != UINT64_MAX);
	assert_true(db_kd_va_to_pa(kd, proc, 0x21000) != UINT64_MAX);
	assert_int_equal(db_kd_va_to_pa(kd, proc, 0x22000), UINT64_MAX);
	/* a frame shared by two address spaces, and a frame only written
	 * physically: both are in use, so both are in the bitmap */
	uint64_t pfn0 = db_kd_va_to_pfn(kd, dtb, base);
	assert_int_equal(db_kd_map_phys(kd, proc, 0x30000, pfn0 << 12, 0x1000, 0x1000), 0);
	db_kd_phys_write(kd, 0xF000000, "phys", 4);
	const char *p = path_of("bitmap64.dmp");
	assert_int_equal(db_kd_write_file(kd, p), 0);

	struct kfile k;
	kopen(&k, p);
	assert_int_equal(k.type, 5);
	assert_int_equal(k.pages, 0x10000);			/* end of the last default run */
	assert_int_equal(k.first_page % 0x1000, 0);
	uint64_t pte;
	assert_int_equal(kread_va(&k, K_X64, k.dtb, base, 8), 0x1111111111111111ull);
	assert_int_equal(kread_va(&k, K_X64, proc, base, 8), 0x1111111111111111ull);
	assert_int_equal(kread_va(&k, K_X64, proc, 0x10000, 4), le32((const uint8_t *)"user"));
	assert_int_equal(kread_va(&k, K_X64, proc, 0x20ffc, 4), 0x88888888u);
	assert_int_equal(kread_va(&k, K_X64, proc, 0x30000, 8), 0x1111111111111111ull);
	assert_int_equal(kread_phys(&k, 0xF000000, 4), le32((const uint8_t *)"phys"));
	assert_int_equal(kread_va(&k, K_X64, proc, 0x21000, 4), 0x99999999u);
	/* user pages have U/S at every level */
	kwalk(&k, K_X64, proc, 0x10000, &pte);
	assert_true(pte & 4);
	/* transition PTE: Valid 0, Prototype 0, Transition 1, same PFN */
	assert_int_equal(kwalk(&k, K_X64, k.dtb, base + 0x1000, &pte), UINT64_MAX);
	assert_int_equal(pte & 1, 0);
	assert_int_equal(pte & 0x400, 0);
	assert_int_equal(pte & 0x800, 0x800);
	assert_int_equal((pte >> 12) & 0xfffffffffull, pfn1);
	assert_int_equal(kread_phys(&k, pfn1 << 12, 8), 0x2222222222222222ull);
	/* paged-out PTE as given, frame gone from the bitmap */
	kwalk(&k, K_X64, k.dtb, base + 0x2000, &pte);
	assert_int_equal(pte, 0x1234560000080ull);
	assert_int_equal(kphys(&k, pfn2 << 12), UINT64_MAX);
	/* excluded frame: still mapped, not in the dump */
	assert_int_equal(kphys(&k, pfn3 << 12), UINT64_MAX);
	assert_int_equal(db_kd_pfn_file_offset(kd, pfn3), UINT64_MAX);
	assert_int_equal(db_kd_pfn_file_offset(kd, pfn1), kphys(&k, pfn1 << 12));
	free(k.bitmap);
	db_kd_free(kd);
}

static void t_kd_rdmp(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_RDMP_KERNEL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	assert_int_equal(db_kd_map(kd, dtb, 0xfffff80000000000ull, 0x400000, 0x200000), 0);
	assert_int_equal(db_kd_map(kd, dtb, 0xffffd00000000000ull, 0x2000, 0x1000), 0);
	db_mem_write_u64(db_kd_view(kd, dtb), 0xfffff800003ffff8ull, 0x77);
	db_mem_write_u64(db_kd_view(kd, dtb), 0xffffd00000001000ull, 0x88);
	const char *p = path_of("rdmp.dmp");
	assert_int_equal(db_kd_write_file(kd, p), 0);
	struct kfile k;
	kopen(&k, p);
	assert_int_equal(k.type, 8);
	assert_true(k.nranges >= 2);
	assert_int_equal(kread_va(&k, K_X64, k.dtb, 0xfffff800003ffff8ull, 8), 0x77);
	assert_int_equal(kread_va(&k, K_X64, k.dtb, 0xffffd00000001000ull, 8), 0x88);
	db_kd_free(kd);
}

static void t_kd_x86_pae(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X86_PAE, 7601, DB_KD_FULL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	uint64_t proc = db_kd_new_address_space(kd);
	assert_int_equal(db_kd_map(kd, dtb, 0x80000000, 0x200000, 0x200000), 0);
	assert_int_equal(db_kd_map(kd, dtb, 0x8a000000, 0x2000, 0x1000), 0);
	assert_int_equal(db_kd_map(kd, proc, 0x10000, 0x1000, 0x1000), 0);
	assert_int_equal(db_kd_map(kd, dtb, 0x40000000, 0x40000000, 0x40000000), -1);	/* no 1G under PAE */
	struct db_mem *kv = db_kd_view(kd, dtb);
	assert_int_equal(db_mem_ptr_size(kv), 4);
	db_mem_write_u32(kv, 0x801ffffc, 0xfeedface);
	db_mem_write_u32(kv, 0x8a001000, 0x0badc0de);
	db_mem_write_u32(db_kd_view(kd, proc), 0x10000, 0x12345678);
	db_kd_header(kd)->ps_active_process_head = 0x80100000;
	db_kd_header(kd)->kd_debugger_data_block = 0x80110000;
	const char *p = path_of("pae.dmp");
	assert_int_equal(db_kd_write_file(kd, p), 0);
	uint8_t h[0x1000];
	pread_file(p, 0, h, sizeof(h));
	assert_memory_equal(h, "PAGEDUMP", 8);
	assert_int_equal(le32(h + 0x10), (uint32_t)dtb);
	assert_int_equal(le32(h + 0x1C), 0x80100000);		/* PsActiveProcessHead */
	assert_int_equal(le32(h + 0x20), 0x14C);
	assert_int_equal(h[0x5C], 1);				/* PaeEnabled */
	assert_int_equal(le32(h + 0x60), 0x80110000);		/* KdDebuggerDataBlock */
	assert_int_equal(le32(h + 0x64), 2);			/* NumberOfRuns */
	assert_int_equal(le32(h + 0x6C), 1);
	assert_int_equal(le32(h + 0x70), 0x9E);
	assert_int_equal(le32(h + 0xF88), 1);			/* DumpType */
	assert_memory_equal(h + 0x900, "PAGE", 4);
	struct kfile k;
	kopen(&k, p);
	uint64_t pte;
	assert_int_equal(kread_va(&k, K_PAE, k.dtb, 0x801ffffc, 4), 0xfeedface);
	kwalk(&k, K_PAE, k.dtb, 0x80000000, &pte);
	assert_true(pte & 0x80);
	assert_int_equal(kread_va(&k, K_PAE, k.dtb, 0x8a001000, 4), 0x0badc0de);
	assert_int_equal(kread_va(&k, K_PAE, proc, 0x8a001000, 4), 0x0badc0de);
	assert_int_equal(kread_va(&k, K_PAE, proc, 0x10000, 4), 0x12345678);
	assert_int_equal(kwalk(&k, K_PAE, k.dtb, 0x10000, &pte), UINT64_MAX);
	/* PDPTEs carry only P besides the address (bits 1-2, 5-8 reserved) */
	uint64_t pdpte = kread_phys(&k, (dtb & ~0x1full) + 8 * 2, 8);
	assert_int_equal(pdpte & 0xfff, 1);
	db_kd_free(kd);
}

static void t_kd_x86(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X86, 2600, DB_KD_FULL);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	assert_int_equal(db_kd_map(kd, dtb, 0x80400000, 0x400000, 0x400000), 0);
	assert_int_equal(db_kd_map(kd, dtb, 0x8a000000, 0x1000, 0x1000), 0);
	assert_int_equal(db_kd_map(kd, dtb, 0x80000000, 0x200000, 0x200000), -1);	/* no 2M */
	uint64_t proc = db_kd_new_address_space(kd);
	assert_int_equal(db_kd_map(kd, proc, 0x400000, 0x1000, 0x1000), 0);
	struct db_mem *kv = db_kd_view(kd, dtb);
	db_mem_write_u32(kv, 0x807ffffc, 0x11223344);
	db_mem_write_u32(kv, 0x8a000ffc, 0xdeadbeef);
	db_mem_write_u32(db_kd_view(kd, proc), 0x400000, 0x0abcdef0);
	assert_int_equal(db_kd_make_transition(kd, dtb, 0x8a000000), 0);
	const char *p = path_of("x86.dmp");
	assert_int_equal(db_kd_write_file(kd, p), 0);
	uint8_t h[0x100];
	pread_file(p, 0, h, sizeof(h));
	assert_int_equal(h[0x5C], 0);				/* PaeEnabled */
	struct kfile k;
	kopen(&k, p);
	uint64_t pte;
	assert_int_equal(kread_va(&k, K_X86, k.dtb, 0x807ffffc, 4), 0x11223344);
	kwalk(&k, K_X86, k.dtb, 0x80400000, &pte);
	assert_true(pte & 0x80);
	assert_int_equal(kread_va(&k, K_X86, proc, 0x807ffffc, 4), 0x11223344);
	assert_int_equal(kread_va(&k, K_X86, proc, 0x400000, 4), 0x0abcdef0);
	assert_int_equal(kwalk(&k, K_X86, k.dtb, 0x8a000ffc, &pte), UINT64_MAX);
	assert_int_equal(pte & 0xc01, 0x800);			/* transition, 32-bit PTE */
	assert_int_equal(kread_phys(&k, (pte & 0xfffff000) + 0xffc, 4), 0xdeadbeef);
	db_kd_free(kd);
}

static void t_kd_triage(void **state)
{
	(void)state;
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19041, DB_KD_TRIAGE);
	uint64_t dtb = db_kd_kernel_dtb(kd);
	assert_int_equal(db_kd_map(kd, dtb, 0xfffff8047c600000ull, 0x2000, 0x1000), 0);
	struct db_mem *v = db_kd_view(kd, dtb);
	db_mem_write_u64(v, 0xfffff8047c600ff8ull, 0x1111111111111111ull);
	db_mem_write_u64(v, 0xfffff8047c601000ull, 0x2222222222222222ull);
	db_kd_triage_add_block(kd, 0xfffff8047c600ff8ull, 16);	/* crosses a page */
	db_kd_triage_add_block(kd, 0xfffff8047c700000ull, 8);	/* unmapped: zeros */
	db_kd_triage_set_section(kd, DB_TRIAGE_PROCESS, "EPROCESS", 8);
	db_kd_triage_set_section(kd, DB_TRIAGE_STRING_POOL, "POOL!", 5);
	db_kd_triage_set_info(kd, 0xffff850429890ee8ull, 0x97, 0xFFFFFFFFu);
	const char *p = path_of("triage.dmp");
	assert_int_equal(db_kd_write_file(kd, p), 0);
	struct file f = slurp(p);
	assert_int_equal(le32(f.p + 0xF98), 4);
	const uint8_t *t = f.p + 0x2000;
	/* sections in order after the 0x80-byte TRIAGE_DUMP64, 8-aligned */
	assert_int_equal(le32(t + 0x20), 0x2080);		/* ProcessOffset */
	assert_memory_equal(f.p + 0x2080, "EPROCESS", 8);
	assert_int_equal(le32(t + 0x38), 0x2088);		/* StringPoolOffset */
	assert_int_equal(le32(t + 0x3C), 5);
	assert_int_equal(le32(t + 0x14), 0);			/* no Mm section */
	assert_int_equal(le32(t + 0xC), 0x348);
	assert_int_equal(le32(t + 0x10), 0xF00);
	assert_int_equal(le32(t + 0x34), 0x97);
	assert_int_equal(le64(t + 0x48), 0xffff850429890ee8ull);
	uint32_t bo = le32(t + 0x78);
	assert_int_equal(bo, 0x2090);
	assert_int_equal(le32(t + 0x7C), 2);
	assert_int_equal(le64(f.p + bo), 0xfffff8047c600ff8ull);
	assert_int_equal(le32(f.p + bo + 12), 16);
	uint32_t d0 = le32(f.p + bo + 8);
	assert_int_equal(d0, 0x2090 + 32);
	assert_int_equal(le64(f.p + d0), 0x1111111111111111ull);
	assert_int_equal(le64(f.p + d0 + 8), 0x2222222222222222ull);
	assert_int_equal(le64(f.p + le32(f.p + bo + 24)), 0);
	uint32_t valid = le32(t + 0x8);
	assert_memory_equal(f.p + valid, "TRGD", 4);
	assert_int_equal(le32(t + 0x4), valid + 4);
	assert_int_equal(f.n, valid + 4);
	free(f.p);
	db_kd_free(kd);
}

/* The header of the real Windows 10 19045 full dump in testdata/real
 * (first 16 KiB of a dump written by Windows, see MANIFEST.md): every dword
 * that Windows left as the 'PAGE' filler must be 'PAGE' in ours and every
 * dword it wrote must be written in ours, given the same number of runs and
 * no comment.  This checks the header against Windows itself. */
static void t_kd_header_vs_real(void **state)
{
	(void)state;
#ifdef REAL_DIR
	const char *real = REAL_DIR "/WerWolv__ImHex-Patterns__dmp64.hexpat.bin";
	FILE *fp = fopen(real, "rb");
	if (!fp) {
		skip();
		return;
	}
	uint8_t rh[0x2000];
	assert_int_equal(fread(rh, 1, sizeof(rh), fp), sizeof(rh));
	fclose(fp);
	struct db_kd *kd = db_kd_new(DB_KD_X64, 19045, DB_KD_FULL);
	struct db_kd_run runs[5];
	assert_int_equal(le32(rh + 0x88), 5);
	for (int i = 0; i < 5; i++) {
		runs[i].base_page = le64(rh + 0x98 + 16 * i);
		runs[i].page_count = le64(rh + 0xA0 + 16 * i);
	}
	assert_int_equal(db_kd_set_physical_runs(kd, runs, 5), 0);
	struct db_kd_header *h = db_kd_header(kd);
	h->bugcheck_code = le32(rh + 0x38);
	for (int i = 0; i < 4; i++)
		h->bugcheck_parameters[i] = le64(rh + 0x40 + 8 * i);
	h->pfn_database = le64(rh + 0x18);
	h->ps_loaded_module_list = le64(rh + 0x20);
	h->ps_active_process_head = le64(rh + 0x28);
	h->kd_debugger_data_block = le64(rh + 0x80);
	h->directory_table_base = le64(rh + 0x10);
	h->system_time = le64(rh + 0xFA8);
	h->system_up_time = le64(rh + 0x1030);
	const char *p = path_of("likereal.dmp");
	assert_int_equal(db_kd_write_file(kd, p), 0);
	uint8_t mh[0x2000];
	pread_file(p, 0, mh, sizeof(mh));
	for (unsigned off = 0; off < 0x2000; off += 4) {
		bool rp = !memcmp(rh + off, "PAGE", 4), mp = !memcmp(mh + off, "PAGE", 4);
		if (rp != mp)
			fail_msg("header dword at 0x%x: Windows %s, builder %s", off,
				 rp ? "left 'PAGE'" : "wrote it", mp ? "left 'PAGE'" : "wrote it");
	}
	/* the fixed fields agree byte for byte (context record excepted) */
	assert_memory_equal(mh, rh, 0x348);
	assert_memory_equal(mh + 0xF98, rh + 0xF98, 0x10B8 - 0xF98 - 0x68);
	assert_int_equal(le64(mh + 0xFA0), le64(rh + 0xFA0));	/* RequiredDumpSpace */
	db_kd_free(kd);
#else
	skip();
#endif
}

static void t_big(void **state)
{
	(void)state;
	const char *p = path_of("big.dmp");
	uint64_t size = 0x1000000;			/* 16 MiB: 1 range */
	assert_int_equal(db_write_big_minidump(p, size), 0);
	struct file f = slurp(p);
	uint32_t sz, r = md_stream(&f, 9, &sz);
	uint64_t base = le64(f.p + r + 8);
	assert_int_equal(le64(f.p + r), 1);
	assert_int_equal(le64(f.p + r + 16), DB_BIG_MD_BASE);
	assert_int_equal(le64(f.p + r + 24), size);
	for (uint64_t off = 0; off < size; off += 0x10008)
		assert_int_equal(le64(f.p + base + off), DB_BIG_MD_BASE + off);
	assert_int_equal(base + size, f.n);
	free(f.p);

	/* 5 ranges of 12 KiB (the last 4 KiB), a 4 KiB VA hole after each */
	p = path_of("bigr.dmp");
	assert_int_equal(db_write_big_minidump_ranges(p, 0xd000, 0x3000), 0);
	f = slurp(p);
	r = md_stream(&f, 9, &sz);
	base = le64(f.p + r + 8);
	assert_int_equal(le64(f.p + r), 5);
	for (uint64_t i = 0, foff = base; i < 5; i++) {
		uint64_t va = le64(f.p + r + 16 + 16 * i), n = le64(f.p + r + 24 + 16 * i);
		assert_int_equal(va, DB_BIG_MD_BASE + i * 0x4000);
		assert_int_equal(n, i < 4 ? 0x3000 : 0x1000);
		assert_int_equal(le64(f.p + foff), va);
		assert_int_equal(le64(f.p + foff + n - 8), va + n - 8);
		foff += n;
	}
	free(f.p);

	p = path_of("bigk.dmp");
	assert_int_equal(db_write_big_kernel(p, 0x800000), 0);
	struct kfile k;
	kopen(&k, p);
	assert_int_equal(k.type, 5);
	for (uint64_t off = 0; off < 0x800000; off += 0x7ff8)
		assert_int_equal(kread_va(&k, K_X64, k.dtb, DB_BIG_KD_VA + off, 8), DB_BIG_KD_VA + off);
	uint64_t pte;
	assert_int_equal(kwalk(&k, K_X64, k.dtb, DB_BIG_KD_VA, &pte) >> 12, DB_BIG_KD_FIRST_PFN);
	free(k.bitmap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_mem_sparse),
		cmocka_unit_test(t_md_minimal_layout),
		cmocka_unit_test(t_md_streams),
		cmocka_unit_test(t_md_misc_sizes),
		cmocka_unit_test(t_md_wow64),
		cmocka_unit_test(t_md_sparse),
		cmocka_unit_test(t_kd_x64_full_pages),
		cmocka_unit_test(t_kd_x64_bitmap_ptes),
		cmocka_unit_test(t_kd_rdmp),
		cmocka_unit_test(t_kd_x86_pae),
		cmocka_unit_test(t_kd_x86),
		cmocka_unit_test(t_kd_triage),
		cmocka_unit_test(t_kd_header_vs_real),
		cmocka_unit_test(t_big),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
