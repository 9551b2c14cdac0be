/* SPDX-License-Identifier: MIT */
/*
 * Minidump reader.
 *
 * Real dumps: every expected value is a fact from testdata/real/MANIFEST.md
 * (read there by an independent parser), never this reader's output.
 * Builder dumps: every expected value is what the test told the dump
 * builder to write (tests/builder, written from the documented layouts
 * without the reader's code).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/minidump.h>

#include "dumpbuilder.h"

/* ------------------------------------------------------------------ */
/* Real dumps: MANIFEST.md facts                                       */
/* ------------------------------------------------------------------ */

struct tebfact {
	uint32_t tid;
	uint64_t teb;
};

struct realfact {
	const char *file;
	uint32_t version, nstreams, time;
	uint64_t flags;
	const char *streams;		/* non-unused streams, "Name(size), ..." */
	enum ich_arch arch;
	uint16_t cpu_arch;		/* 0 x86, 9 AMD64 */
	unsigned ncpu, product_type;
	uint32_t major, minor, build;
	const char *csd;
	size_t nranges;
	uint64_t captured;
	size_t nmodules;
	const char *modules[4];		/* first module base names */
	uint32_t misc_size, misc_flags, pid;
	bool has_exception;
	uint32_t exc_tid, exc_code;
	uint64_t exc_addr;
	size_t nthreads;
	struct tebfact tebs[3];		/* first threads in list order */
	size_t ntebs;
};

#define M4(a, b, c, d) { a, b, c, d }

static const struct realfact real[] = {
	{ "electron__node-minidump__windows.dmp", 0xa0f1a793, 15, 1476397020, 0x120,
	  "ThreadList(676), ModuleList(6268), FunctionTable(188), MemoryList(804), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152), BreakpadInfo(12), BreakpadAssertionInfo(776)",
	  ICH_ARCH_X64, 9, 2, 1, 10, 0, 14393, "", 50, 202554, 58,
	  M4("electron.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3d7, 10148, true, 6068, 0xc0000005, 0x7ff7215f8da4, 14,
	  { { 6068, 0x6399f75000 }, { 8220, 0x6399f77000 }, { 3324, 0x6399f79000 } }, 3 },
	{ "getsentry__sentry-native__minidump.dmp", 0xa05da793, 15, 1729543080, 0x200000,
	  "ThreadList(244), ModuleList(3676), FunctionTable(624), MemoryList(212), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152), ThreadNames(16), BreakpadInfo(12)",
	  ICH_ARCH_X64, 9, 12, 1, 10, 0, 22621, "", 13, 20798, 34,
	  M4("sentry_example.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3f7, 33180, true, 12996, 0xc0000005, 0x7ffe2c7f0476, 5,
	  { { 12996, 0x319000 }, { 12220, 0x31b000 }, { 29976, 0x31d000 } }, 3 },
	{ "getsentry__symbolicator__windows.dmp", 0xa0f1a793, 13, 1521713273, 0x0,
	  "ThreadList(196), ModuleList(1840), MemoryList(132), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152), BreakpadInfo(12)",
	  ICH_ARCH_X86, 0, 2, 3, 10, 0, 14393, "", 8, 12204, 17,
	  M4("crash.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3f7, 1928, true, 1636, 0xc0000005, 0x2a2a3d, 4,
	  { { 1636, 0xfe8000 }, { 3580, 0xfeb000 }, { 2600, 0xfee000 } }, 3 },
	{ "google__breakpad__minidump2.dmp", 0x5128a793, 9, 1171480435, 0x0,
	  "ThreadList(100), ModuleList(1408), MemoryList(52), Exception(168), SystemInfo(56), MiscInfo(24), BreakpadInfo(12)",
	  ICH_ARCH_X86, 0, 1, 1, 5, 1, 2600, "Service Pack 2", 3, 5884, 13,
	  M4("test_app.exe", "ntdll.dll", "kernel32.dll", "ole32.dll"),
	  24, 0x3, 3932, true, 3060, 0xc0000005, 0x40429e, 2,
	  { { 3060, 0x7ffdf000 }, { 4544, 0x7ffde000 } }, 2 },
	{ "google__breakpad__null_read_av.dmp", 0x61b0a793, 9, 1285797262, 0x0,
	  "ThreadList(100), ModuleList(2812), MemoryList(84), Exception(168), SystemInfo(56), MiscInfo(232), BreakpadInfo(12)",
	  ICH_ARCH_X86, 0, 16, 1, 6, 1, 7600, "", 5, 7128, 26,
	  M4("crashme.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  232, 0xf7, 4308, true, 1192, 0xc0000005, 0x90a6cd, 2,
	  { { 1192, 0x7efdd000 }, { 3372, 0x7efda000 } }, 2 },
	{ "google__breakpad__stack_exhaustion.dmp", 0x61b0a793, 9, 1285798763, 0x0,
	  "ThreadList(100), ModuleList(2812), MemoryList(84), Exception(168), SystemInfo(56), MiscInfo(232), BreakpadInfo(12)",
	  ICH_ARCH_X86, 0, 16, 1, 6, 1, 7600, "", 5, 1041172, 26,
	  M4("crashme.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  232, 0xf7, 5416, true, 5744, 0xc00000fd, 0xdea637, 2,
	  { { 5744, 0x7efdd000 }, { 6040, 0x7efda000 } }, 2 },
	{ "google__breakpad__tiny-exe-fastfail.dmp", 0xa061a793, 12, 1658230053, 0x100,
	  "ThreadList(196), ModuleList(2272), MemoryList(228), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152)",
	  ICH_ARCH_X64, 9, 36, 1, 10, 0, 19042, "", 14, 85224, 21,
	  M4("tiny.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3f7, 41996, true, 24440, 0xc0000409, 0x7ff75355af42, 4,
	  { { 24440, 0xd2de29d000 }, { 36104, 0xd2de29f000 }, { 26620, 0xd2de2a1000 } }, 3 },
	{ "google__breakpad__tiny-exe-with-cet-xsave-x86.dmp", 0xa05da793, 11, 1704299511, 0x200000,
	  "ThreadList(148), ModuleList(2056), MemoryList(100), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152)",
	  ICH_ARCH_X86, 0, 20, 1, 10, 0, 22631, "", 6, 10756, 19,
	  M4("tiny.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3f7, 79528, false, 0, 0, 0, 3,
	  { { 59444, 0x1136000 }, { 159156, 0x113e000 }, { 96548, 0x1142000 } }, 3 },
	{ "google__breakpad__write_av_non_canonical.dmp", 0xa061a793, 13, 1665070164, 0x0,
	  "ThreadList(100), ModuleList(1624), MemoryList(84), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152), BreakpadInfo(12)",
	  ICH_ARCH_X64, 9, 16, 1, 10, 0, 19042, "", 5, 17936, 15,
	  M4("crash.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3f7, 22856, true, 4488, 0xc0000005, 0x7ff738721331, 2,
	  { { 4488, 0x1e34e23000 }, { 12152, 0x1e34e25000 } }, 2 },
	{ "llvm-mirror__lldb__fizzbuzz_no_heap.dmp", 0x61b1a793, 9, 1442353028, 0x1000,
	  "ThreadList(52), ThreadInfoList(76), ModuleList(652), MemoryList(36), Exception(168), SystemInfo(56), MiscInfo(232)",
	  ICH_ARCH_X86, 0, 32, 1, 6, 1, 7601, "Service Pack 1", 2, 2588, 6,
	  M4("fizzbuzz.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  232, 0xf7, 4440, true, 8992, 0xc0000005, 0x164d14, 1,
	  { { 8992, 0x7efdd000 } }, 1 },
	{ "llvm-mirror__lldb__sigsegv.dmp", 0xa0aba793, 12, 1544217486, 0x121,
	  "ThreadList(52), ModuleList(436), MemoryList(244), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152)",
	  ICH_ARCH_X64, 9, 48, 1, 10, 0, 16299, "", 15, 96342, 4,
	  M4("sigsegv.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3f7, 13052, true, 10860, 0xc0000005, 0x7ff7a13110d9, 1,
	  { { 10860, 0xaddac91000 } }, 1 },
	{ "rizinorg__rizin-testbins__calc.dmp", 0xa0f1a793, 13, 1477745027, 0x40000,
	  "ThreadList(244), ModuleList(3028), Token(776), MemoryList(148), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152)",
	  ICH_ARCH_X64, 9, 2, 1, 6, 1, 7601, "Service Pack 1", 9, 19400, 28,
	  M4("calc.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x1d7, 3368, true, 1628, 0x80000003, 0x7776ae10, 5,
	  { { 3428, 0x7fffffde000 }, { 2596, 0x7fffffdc000 }, { 2648, 0x7fffffda000 } }, 3 },
	{ "rust-minidump__rust-minidump__invalid-parameter.dmp", 0xa0eea793, 14, 1537549246, 0x0,
	  "ThreadList(292), ModuleList(3352), MemoryList(164), Exception(168), SystemInfo(56), MiscInfo(1364), SystemMemoryInfo(492), ProcessVmCounters(152), BreakpadInfo(12), BreakpadAssertionInfo(776)",
	  ICH_ARCH_X64, 9, 16, 1, 10, 0, 17134, "", 10, 25568, 31,
	  M4("CrashTest.exe", "ntdll.dll", "kernel32.dll", "KERNELBASE.dll"),
	  1364, 0x3f7, 6256, true, 5896, 0xc000000d, 0x0, 6,
	  { { 5896, 0xfc216fd000 }, { 4944, 0xfc216ff000 }, { 14112, 0xfc21701000 } }, 3 },
};

static const char *base_name(const char *path)
{
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b;
}

static struct ich_dump *open_ok(const char *path)
{
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(path, &d);
	if (err)
		fail_msg("%s", err->message);
	return d;
}

static void check_real_at(const struct realfact *f, const char *path)
{
	struct ich_dump *d = open_ok(path);
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_non_null(md);
	assert_null(ich_dump_kdump(d));
	assert_int_equal(ich_dump_kind(d), ICH_DUMP_MINIDUMP);
	assert_string_equal(ich_dump_kind_name(d), "minidump");
	for (size_t i = 0; i < ich_dump_warning_count(d); i++)
		print_message("%s: warning: %s\n", f->file, ich_dump_warning(d, i));
	assert_int_equal(ich_dump_warning_count(d), 0);

	assert_int_equal(md->version, f->version);
	assert_int_equal(md->number_of_streams, f->nstreams);
	assert_int_equal(md->nstreams, f->nstreams);
	assert_int_equal(md->directory_rva, 0x20);
	assert_int_equal(md->timestamp, f->time);
	assert_int_equal(md->flags, f->flags);

	char list[1024] = "";
	size_t len = 0;
	for (size_t i = 0; i < md->nstreams; i++) {
		if (md->streams[i].type == 0)
			continue;
		const char *name = ich_md_stream_name(md->streams[i].type);
		char unk[16];
		if (!name) {
			snprintf(unk, sizeof(unk), "0x%x", md->streams[i].type);
			name = unk;
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s(%u)",
					len ? ", " : "", name, md->streams[i].size);
	}
	assert_string_equal(list, f->streams);

	assert_true(md->has_system_info);
	assert_int_equal(ich_dump_arch(d), f->arch);
	assert_int_equal(md->system_info.processor_architecture, f->cpu_arch);
	assert_int_equal(md->system_info.number_of_processors, f->ncpu);
	assert_int_equal(md->system_info.product_type, f->product_type);
	assert_int_equal(md->system_info.major_version, f->major);
	assert_int_equal(md->system_info.minor_version, f->minor);
	assert_int_equal(md->system_info.build_number, f->build);
	assert_int_equal(md->system_info.platform_id, 2);	/* "platform=WinNT" */
	assert_non_null(md->system_info.csd_version);
	assert_string_equal(md->system_info.csd_version, f->csd);
	assert_int_equal(ich_dump_build(d), f->build);

	assert_int_equal(md->nranges, f->nranges);
	assert_int_equal(md->captured_bytes, f->captured);
	uint64_t sum = 0;
	for (size_t i = 0; i < md->nranges; i++)
		sum += md->ranges[i].size;
	assert_int_equal(sum, f->captured);

	assert_int_equal(md->nmodules, f->nmodules);
	for (size_t i = 0; i < 4; i++) {
		assert_non_null(md->modules[i].name);
		assert_string_equal(base_name(md->modules[i].name), f->modules[i]);
	}
	assert_ptr_equal(ich_md_find_module(md, f->modules[0]), &md->modules[0]);
	assert_ptr_equal(ich_md_find_module(md, "NTDLL.DLL"), &md->modules[1]);
	assert_null(ich_md_find_module(md, "tdll.dll"));	/* base names only */

	assert_true(md->has_misc_info);
	assert_int_equal(md->misc_info.size_of_info, f->misc_size);
	assert_int_equal(md->misc_info.flags1, f->misc_flags);
	assert_true(md->misc_info.has_pid);
	assert_int_equal(md->misc_info.process_id, f->pid);

	assert_int_equal(md->has_exception, f->has_exception);
	if (f->has_exception) {
		assert_int_equal(md->exception.thread_id, f->exc_tid);
		assert_int_equal(md->exception.code, f->exc_code);
		assert_int_equal(md->exception.address, f->exc_addr);
	}

	assert_int_equal(md->nthreads, f->nthreads);
	for (size_t i = 0; i < f->ntebs; i++) {
		assert_int_equal(md->threads[i].thread_id, f->tebs[i].tid);
		assert_int_equal(md->threads[i].teb, f->tebs[i].teb);
	}

	assert_false(md->wow64);
	assert_false(ich_dump_is_wow64(d));

	/* The address space serves each listed range from its file bytes
	 * (MemoryList RVAs are the file offsets the ranges name). */
	struct ich_as *as = ich_dump_as(d);
	assert_non_null(as);
	assert_int_equal(ich_as_ptr_size(as), f->arch == ICH_ARCH_X86 ? 4 : 8);
	const uint8_t *file = ich_dump_file_data(d);
	for (size_t i = 0; i < md->nranges; i++) {
		const struct ich_md_range *r = &md->ranges[i];
		if (!r->size)
			continue;
		uint8_t b = 0;
		struct ich_read_result res;
		assert_int_equal(ich_as_read(as, r->start + r->size - 1, &b, 1, &res), 1);
		/* overlapping ranges: the first one listed owns the byte */
		size_t owner = i;
		for (size_t j = 0; j < i; j++)
			if (md->ranges[j].start <= r->start + r->size - 1 &&
			    r->start + r->size - 1 - md->ranges[j].start < md->ranges[j].size) {
				owner = j;
				break;
			}
		const struct ich_md_range *o = &md->ranges[owner];
		assert_int_equal(b, file[o->rva + (r->start + r->size - 1 - o->start)]);
	}
	ich_dump_close(d);
}

static void check_real(const struct realfact *f)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", REAL_DIR, f->file);
	check_real_at(f, path);
}

/* The same facts through gzip (the core decompresses before the reader). */
static void test_real_gzip(void **state)
{
	(void)state;
	char gz[512], cmd[1400];
	snprintf(gz, sizeof(gz), "%s/minidump_test_sentry.dmp.gz", BUILD_DIR);
	snprintf(cmd, sizeof(cmd), "gzip -c '%s/%s' > '%s'", REAL_DIR, real[1].file, gz);
	if (system(cmd) != 0)
		skip();
	check_real_at(&real[1], gz);
	struct ich_dump *d = open_ok(gz);
	assert_true(ich_dump_was_gzip(d));
	ich_dump_close(d);
	unlink(gz);
}

static void test_real_minidumps(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
		check_real(&real[i]);
}

/* A thread name from the real ThreadNames stream: sentry-native's has one
 * entry (16 bytes = count + one 12-byte MINIDUMP_THREAD_NAME). */
static void test_real_thread_names(void **state)
{
	(void)state;
	struct ich_dump *d = open_ok(REAL_DIR "/getsentry__sentry-native__minidump.dmp");
	const struct ich_minidump *md = ich_dump_minidump(d);
	size_t named = 0;
	for (size_t i = 0; i < md->nthreads; i++)
		named += md->threads[i].name != NULL;
	assert_int_equal(named, 1);
	ich_dump_close(d);
}

/* Threads sharing one id take that id's names in thread order (the
 * reader keeps a cursor per id: a scan from the first thread of the id
 * for every name was quadratic, found by the minidump fuzz target), and a
 * thread the names list skips stays unnamed.  Forward declarations: the
 * builder helpers are further down. */
static void write_md(struct db_md *b, char **path);
static void done(struct ich_dump *d, char *path);
static void test_thread_names_shared_ids(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_set_thread_stream(b, DB_THREADS_LIST);
	/* ids 7, 5, 7, 7, 5: the fourth (7) has no name */
	static const uint32_t ids[5] = { 7, 5, 7, 7, 5 };
	static const char *const names[5] = { "seven-a", "five-a", "seven-b", NULL, "five-b" };
	for (int i = 0; i < 5; i++)
		db_md_add_thread(b, &(struct db_md_thread){ .id = ids[i], .name = names[i] });
	/* then 3,000 threads of id 0, each named */
	enum { NSAME = 3000 };
	static char same[NSAME][16];
	for (int i = 0; i < NSAME; i++) {
		snprintf(same[i], sizeof(same[i]), "zero-%d", i);
		db_md_add_thread(b, &(struct db_md_thread){ .id = 0, .name = same[i] });
	}
	char *path;
	write_md(b, &path);
	struct ich_dump *d = open_ok(path);
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_int_equal(md->nthreads, 5 + NSAME);
	assert_string_equal(md->threads[0].name, "seven-a");
	assert_string_equal(md->threads[1].name, "five-a");
	assert_string_equal(md->threads[2].name, "seven-b");
	assert_null(md->threads[3].name);
	assert_string_equal(md->threads[4].name, "five-b");
	for (int i = 0; i < NSAME; i++) {
		assert_non_null(md->threads[5 + i].name);
		assert_string_equal(md->threads[5 + i].name, same[i]);
	}
	done(d, path);
	db_md_free(b);
}

static void expect_format_error(const char *path, const char *const *needles)
{
	struct ich_dump *d = NULL;
	clock_t t0 = clock();
	struct ich_error *err = ich_dump_open(path, &d);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_null(d);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_FORMAT);
	for (; *needles; needles++)
		if (!strstr(err->message, *needles))
			fail_msg("\"%s\" lacks \"%s\"", err->message, *needles);
	assert_true(secs < 1.0);
	ich_error_destroy(err);
}

static void test_real_hostile(void **state)
{
	(void)state;
	/* directory RVA 0xffff00 past the end of a 610-byte file */
	expect_format_error(REAL_DIR "/rizinorg__rizin-testbins__npe_r_mdmp.c-364_1.mdmp",
		(const char *const[]){ "npe_r_mdmp", "stream directory", "0xffff00", "past the end", "0x262", NULL });
	/* 1791 streams at 0x400 in a 4447-byte file */
	expect_format_error(REAL_DIR "/rizinorg__rizin-testbins__npe_w_bin_mdmp.c-111_1.mdmp",
		(const char *const[]){ "stream directory", "0x400", "1791 streams", NULL });
	/* Memory64List range of 0x4141414141414141 bytes from BaseRva 0x4c */
	expect_format_error(REAL_DIR "/radareorg__radare2-testbins__trunc_memory64.dmp",
		(const char *const[]){ "Memory64List", "0x4141414141414141", "0x4c", NULL });
}

static void test_stream_names(void **state)
{
	(void)state;
	assert_string_equal(ich_md_stream_name(3), "ThreadList");
	assert_string_equal(ich_md_stream_name(9), "Memory64List");
	assert_string_equal(ich_md_stream_name(16), "MemoryInfoList");
	assert_string_equal(ich_md_stream_name(24), "ThreadNames");
	assert_string_equal(ich_md_stream_name(0x47670001), "BreakpadInfo");
	assert_null(ich_md_stream_name(0x1234567));
}

/* ------------------------------------------------------------------ */
/* Builder dumps: streams the real dumps lack                          */
/* ------------------------------------------------------------------ */

static char *tmp_path(void)
{
	char *p = malloc(256);
	assert_non_null(p);
	snprintf(p, 256, "%s/minidump_test_XXXXXX", BUILD_DIR);
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static void write_md(struct db_md *b, char **path)
{
	*path = tmp_path();
	if (db_md_write(b, *path))
		fail_msg("db_md_write: %s", db_error());
}

static void done(struct ich_dump *d, char *path)
{
	ich_dump_close(d);
	unlink(path);
	free(path);
}

static bool has_warning(struct ich_dump *d, const char *needle)
{
	for (size_t i = 0; i < ich_dump_warning_count(d); i++)
		if (strstr(ich_dump_warning(d, i), needle))
			return true;
	return false;
}

/* Fills [va, va+len) with bytes derived from the address. */
static void pattern(struct db_mem *m, uint64_t va, size_t len, uint8_t salt)
{
	for (size_t i = 0; i < len; i++)
		db_mem_write_u8(m, va + i, (uint8_t)((va + i) * 7 + salt));
}

static void test_build_all_streams(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_set_version_high(b, 0x4249);
	db_md_set_timestamp(b, 0x61234567);
	db_md_set_thread_stream(b, DB_THREADS_EX);
	db_md_set_unused_streams(b, 3);
	db_md_sysinfo(b)->csd_version = "Service Pack 9";
	db_md_sysinfo(b)->product_type = 3;
	db_md_sysinfo(b)->number_of_processors = 8;
	struct db_mem *m = db_md_mem(b);
	pattern(m, 0x7ff000000000, 0x3000, 1);
	pattern(m, 0x20000, 0x1000, 2);
	pattern(m, 0x500000, 0x2000, 3);
	db_md_add_memory(b, 0x7ff000000000, 0x3000, DB_LIST_32);
	db_md_add_memory(b, 0x20000, 0x1000, DB_LIST_32);
	db_md_add_memory(b, 0x500000, 0x2000, DB_LIST_64);
	db_md_add_thread(b, &(struct db_md_thread){ .id = 0x111, .teb = 0x7ff0000a0000,
		.stack_start = 0x7ff000001000, .stack_size = 0x1000, .suspend_count = 2,
		.backing_store_start = 0x123000, .backing_store_size = 0x40, .name = "main thread" });
	db_md_add_thread(b, &(struct db_md_thread){ .id = 0x222, .teb = 0x7ff0000a2000,
		.stack_start = 0x20800, .stack_size = 0x100 });
	db_md_add_module(b, &(struct db_md_module){ .name = "C:\\app\\app.exe", .base = 0x140000000,
		.size = 0x20000, .checksum = 0xabc, .timestamp = 0x5eadbeef,
		.file_version = { 1, 2, 3, 4 }, .product_version = { 5, 6, 7, 8 } });
	db_md_add_module(b, &(struct db_md_module){ .name = "C:\\Windows\\System32\\ntdll.dll",
		.base = 0x7ffb00000000, .size = 0x1f8000, .no_version_info = true });
	db_md_add_unloaded_module(b, &(struct db_md_unloaded_module){ .name = "gone.dll",
		.base = 0x180000000, .size = 0x5000, .checksum = 7, .timestamp = 9 });
	db_md_add_meminfo(b, &(struct db_md_meminfo){ .base = 0x20000, .allocation_base = 0x20000,
		.allocation_protect = 0x4, .region_size = 0x1000, .state = 0x1000, .protect = 0x4,
		.type = 0x20000 });
	db_md_add_meminfo(b, &(struct db_md_meminfo){ .base = 0x21000, .allocation_base = 0,
		.region_size = 0xdf000, .state = 0x10000, .protect = 0x1 });
	db_md_add_handle(b, &(struct db_md_handle){ .handle = 0x44, .type_name = "IoCompletion",
		.object_name = "\\BaseNamedObjects\\port", .attributes = 0, .granted_access = 0x1f0003,
		.handle_count = 2, .pointer_count = 65537 });
	db_md_add_handle(b, &(struct db_md_handle){ .handle = 0x48 });
	db_md_set_exception(b, &(struct db_md_exception){ .thread_id = 0x111, .code = 0xc0000374,
		.flags = 1, .record = 0, .address = 0x7ffb00012345, .number_parameters = 2,
		.information = { 0x11, 0x22 } });
	db_md_set_misc_info(b, &(struct db_md_misc_info){ .size_of_info = 1364, .process_id = 4242,
		.process_create_time = 1600000000, .process_user_time = 3, .process_kernel_time = 4,
		.processor_max_mhz = 3000, .processor_current_mhz = 2900, .processor_mhz_limit = 3000,
		.processor_max_idle_state = 2, .processor_current_idle_state = 1,
		.process_integrity_level = 0x2000, .time_zone_id = 1, .time_zone_bias = -60,
		.time_zone_standard_name = "W. Europe Standard Time",
		.build_string = "19041.1.amd64fre.vb_release.191206-1406", .dbg_bld_str = "dbgcore.amd64fre" });
	db_md_add_comment_a(b, "comment A\nline 2");
	db_md_add_comment_w(b, "comment W \xc3\xa9");
	db_md_add_raw_stream(b, 0x1234567, "raw!", 4);
	char *path;
	write_md(b, &path);
	uint64_t rva64 = db_md_range_rva(b, 2, DB_LIST_64);

	struct ich_dump *d = open_ok(path);
	const struct ich_minidump *md = ich_dump_minidump(d);
	for (size_t i = 0; i < ich_dump_warning_count(d); i++)
		print_message("warning: %s\n", ich_dump_warning(d, i));
	assert_int_equal(ich_dump_warning_count(d), 0);
	assert_int_equal(md->version, 0x4249a793);
	assert_int_equal(md->timestamp, 0x61234567);
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_X64);
	assert_int_equal(ich_dump_build(d), 19045);
	assert_string_equal(md->system_info.csd_version, "Service Pack 9");
	assert_int_equal(md->system_info.product_type, 3);
	assert_int_equal(md->system_info.number_of_processors, 8);
	assert_false(md->wow64);

	/* unknown and unused streams are kept in the directory */
	size_t unused = 0, raw = 0;
	for (size_t i = 0; i < md->nstreams; i++) {
		unused += md->streams[i].type == 0;
		raw += md->streams[i].type == 0x1234567 && md->streams[i].size == 4;
	}
	assert_int_equal(unused, 3);
	assert_int_equal(raw, 1);

	/* ThreadExList + ThreadNames */
	assert_int_equal(md->nthreads, 2);
	assert_int_equal(md->threads[0].thread_id, 0x111);
	assert_int_equal(md->threads[0].teb, 0x7ff0000a0000);
	assert_int_equal(md->threads[0].suspend_count, 2);
	assert_int_equal(md->threads[0].stack_start, 0x7ff000001000);
	assert_int_equal(md->threads[0].stack_size, 0x1000);
	assert_int_equal(md->threads[0].backing_store_start, 0x123000);
	assert_int_equal(md->threads[0].backing_store_size, 0x40);
	assert_int_equal(md->threads[0].context_size, DB_CONTEXT_X64_SIZE);
	assert_string_equal(md->threads[0].name, "main thread");
	assert_null(md->threads[1].name);
	assert_int_equal(md->threads[1].priority_class, 0x20);

	/* modules with VS_FIXEDFILEINFO */
	assert_int_equal(md->nmodules, 2);
	assert_string_equal(md->modules[0].name, "C:\\app\\app.exe");
	assert_int_equal(md->modules[0].base, 0x140000000);
	assert_int_equal(md->modules[0].size, 0x20000);
	assert_int_equal(md->modules[0].checksum, 0xabc);
	assert_int_equal(md->modules[0].timestamp, 0x5eadbeef);
	assert_true(md->modules[0].file_version.valid);
	assert_int_equal(md->modules[0].file_version.major, 1);
	assert_int_equal(md->modules[0].file_version.minor, 2);
	assert_int_equal(md->modules[0].file_version.build, 3);
	assert_int_equal(md->modules[0].file_version.revision, 4);
	assert_int_equal(md->modules[0].product_version.major, 5);
	assert_int_equal(md->modules[0].product_version.revision, 8);
	assert_false(md->modules[1].file_version.valid);
	assert_ptr_equal(ich_md_find_module(md, "app.exe"), &md->modules[0]);
	assert_ptr_equal(ich_md_find_module(md, "ntdll.dll"), &md->modules[1]);

	assert_int_equal(md->nunloaded, 1);
	assert_string_equal(md->unloaded[0].name, "gone.dll");
	assert_int_equal(md->unloaded[0].base, 0x180000000);
	assert_int_equal(md->unloaded[0].size, 0x5000);
	assert_int_equal(md->unloaded[0].checksum, 7);
	assert_int_equal(md->unloaded[0].timestamp, 9);

	assert_int_equal(md->nmeminfo, 2);
	assert_int_equal(md->meminfo[0].base, 0x20000);
	assert_int_equal(md->meminfo[0].allocation_protect, 0x4);
	assert_int_equal(md->meminfo[0].region_size, 0x1000);
	assert_int_equal(md->meminfo[0].state, 0x1000);
	assert_int_equal(md->meminfo[0].type, 0x20000);
	assert_int_equal(md->meminfo[1].base, 0x21000);
	assert_int_equal(md->meminfo[1].region_size, 0xdf000);
	assert_int_equal(md->meminfo[1].state, 0x10000);
	assert_int_equal(md->meminfo[1].protect, 0x1);

	assert_int_equal(md->nhandles, 2);
	assert_int_equal(md->handles[0].handle, 0x44);
	assert_string_equal(md->handles[0].type_name, "IoCompletion");
	assert_string_equal(md->handles[0].object_name, "\\BaseNamedObjects\\port");
	assert_int_equal(md->handles[0].granted_access, 0x1f0003);
	assert_int_equal(md->handles[0].handle_count, 2);
	assert_int_equal(md->handles[0].pointer_count, 65537);
	assert_null(md->handles[1].type_name);
	assert_null(md->handles[1].object_name);

	assert_true(md->has_exception);
	assert_int_equal(md->exception.thread_id, 0x111);
	assert_int_equal(md->exception.code, 0xc0000374);
	assert_int_equal(md->exception.flags, 1);
	assert_int_equal(md->exception.address, 0x7ffb00012345);
	assert_int_equal(md->exception.number_parameters, 2);
	assert_int_equal(md->exception.information[0], 0x11);
	assert_int_equal(md->exception.information[1], 0x22);
	assert_int_equal(md->exception.context_size, DB_CONTEXT_X64_SIZE);

	const struct ich_md_misc_info *mi = &md->misc_info;
	assert_true(md->has_misc_info);
	assert_int_equal(mi->size_of_info, 1364);
	assert_true(mi->has_pid && mi->has_times && mi->has_power && mi->has_timezone &&
		    mi->has_build_strings);
	assert_int_equal(mi->process_id, 4242);
	assert_int_equal(mi->process_create_time, 1600000000);
	assert_int_equal(mi->process_user_time, 3);
	assert_int_equal(mi->process_kernel_time, 4);
	assert_int_equal(mi->processor_max_mhz, 3000);
	assert_int_equal(mi->processor_current_mhz, 2900);
	assert_int_equal(mi->processor_max_idle_state, 2);
	assert_int_equal(mi->processor_current_idle_state, 1);
	assert_int_equal(mi->process_integrity_level, 0x2000);
	assert_int_equal(mi->time_zone_id, 1);
	assert_int_equal(mi->time_zone_bias, -60);
	assert_string_equal(mi->time_zone_standard_name, "W. Europe Standard Time");
	assert_string_equal(mi->build_string, "19041.1.amd64fre.vb_release.191206-1406");
	assert_string_equal(mi->dbg_bld_str, "dbgcore.amd64fre");

	assert_int_equal(md->ncomments, 2);
	assert_string_equal(md->comments[0], "comment A\nline 2");
	assert_string_equal(md->comments[1], "comment W \xc3\xa9");

	/* memory: MemoryList ranges then the Memory64List range, file order */
	assert_int_equal(md->nranges, 3);
	assert_int_equal(md->ranges[0].start, 0x7ff000000000);
	assert_int_equal(md->ranges[0].size, 0x3000);
	assert_int_equal(md->ranges[0].rva, db_md_range_rva(b, 0, DB_LIST_32));
	assert_int_equal(md->ranges[1].start, 0x20000);
	assert_int_equal(md->ranges[2].start, 0x500000);
	assert_int_equal(md->ranges[2].size, 0x2000);
	assert_int_equal(md->ranges[2].rva, rva64);
	assert_int_equal(md->captured_bytes, 0x6000);

	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(ich_as_ptr_size(as), 8);
	static const uint64_t probes[] = { 0x7ff000000000, 0x7ff000002ff0, 0x20000, 0x20ff0,
					   0x500000, 0x501ff0 };
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		uint8_t got[16], want[16];
		db_mem_read(m, probes[i], want, sizeof(want));
		assert_int_equal(ich_as_read(as, probes[i], got, sizeof(got), NULL), 16);
		assert_memory_equal(got, want, 16);
	}
	/* outside every range, and a read running off the end of one */
	struct ich_read_result res;
	uint8_t buf[32];
	assert_int_equal(ich_as_read(as, 0x1000, buf, 8, &res), 0);
	assert_int_equal(res.why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(res.miss_addr, 0x1000);
	assert_int_equal(ich_as_read(as, 0x501ff0, buf, 32, &res), 16);
	assert_int_equal(res.why, ICH_MISS_NOT_CAPTURED);
	assert_int_equal(res.miss_addr, 0x502000);
	done(d, path);
	db_md_free(b);
}

/* Default builder dump: Version high word 0, ThreadList, handles v1, and
 * every MiscInfo size. */
static void test_build_misc_versions(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { 24, 44, 232, 832, 1364 };
	for (size_t k = 0; k < 5; k++) {
		struct db_md *b = db_md_new(DB_ARCH_X86, 6, 1, 7601);
		db_md_set_handle_descriptor_version(b, 1);
		db_md_add_handle(b, &(struct db_md_handle){ .handle = 0x10, .type_name = "Event",
			.object_name = "ev", .handle_count = 3, .pointer_count = 4 });
		db_md_add_thread(b, &(struct db_md_thread){ .id = 7, .teb = 0x7efdd000 });
		db_md_set_misc_info(b, &(struct db_md_misc_info){ .size_of_info = sizes[k],
			.process_id = 99, .processor_max_mhz = 2000, .process_integrity_level = 0x3000,
			.time_zone_bias = 300, .time_zone_standard_name = "EST",
			.build_string = "7601.x86", .dbg_bld_str = "dbg" });
		char *path;
		write_md(b, &path);
		struct ich_dump *d = open_ok(path);
		const struct ich_minidump *md = ich_dump_minidump(d);
		assert_int_equal(md->version, 0xa793);
		assert_int_equal(ich_dump_arch(d), ICH_ARCH_X86);
		assert_int_equal(ich_as_ptr_size(ich_dump_as(d)), 4);
		assert_int_equal(md->nthreads, 1);
		assert_int_equal(md->threads[0].teb, 0x7efdd000);
		assert_int_equal(md->threads[0].backing_store_size, 0);
		assert_int_equal(md->nhandles, 1);
		assert_string_equal(md->handles[0].type_name, "Event");
		assert_string_equal(md->handles[0].object_name, "ev");
		assert_int_equal(md->handles[0].handle_count, 3);
		assert_int_equal(md->handles[0].pointer_count, 4);
		const struct ich_md_misc_info *mi = &md->misc_info;
		assert_int_equal(mi->size_of_info, sizes[k]);
		assert_true(mi->has_pid);
		assert_int_equal(mi->process_id, 99);
		assert_int_equal(mi->has_power, sizes[k] >= 44);
		assert_int_equal(mi->processor_max_mhz, sizes[k] >= 44 ? 2000 : 0);
		assert_int_equal(mi->has_timezone, sizes[k] >= 232);
		assert_int_equal(mi->process_integrity_level, sizes[k] >= 232 ? 0x3000 : 0);
		assert_int_equal(mi->time_zone_bias, sizes[k] >= 232 ? 300 : 0);
		assert_int_equal(mi->has_build_strings, sizes[k] >= 832);
		if (sizes[k] >= 232)
			assert_string_equal(mi->time_zone_standard_name, "EST");
		else
			assert_null(mi->time_zone_standard_name);
		if (sizes[k] >= 832) {
			assert_string_equal(mi->build_string, "7601.x86");
			assert_string_equal(mi->dbg_bld_str, "dbg");
		} else {
			assert_null(mi->build_string);
		}
		done(d, path);
		db_md_free(b);
	}
}

/* ThreadList and ThreadExList both present: the Ex list (a superset) is
 * used whichever comes first. */
static void test_build_both_thread_lists(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_set_thread_stream(b, DB_THREADS_BOTH);
	db_md_add_thread(b, &(struct db_md_thread){ .id = 3, .teb = 0x5000,
		.backing_store_start = 0x8000, .backing_store_size = 0x20 });
	char *path;
	write_md(b, &path);
	struct ich_dump *d = open_ok(path);
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_int_equal(md->nthreads, 1);
	assert_int_equal(md->threads[0].thread_id, 3);
	assert_int_equal(md->threads[0].teb, 0x5000);
	assert_int_equal(md->threads[0].backing_store_start, 0x8000);
	assert_int_equal(md->threads[0].backing_store_size, 0x20);
	done(d, path);
	db_md_free(b);
}

static void test_build_wow64(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_set_wow64(b);
	db_md_add_thread(b, &(struct db_md_thread){ .id = 1, .teb = 0x300000 });
	char *path;
	write_md(b, &path);
	struct ich_dump *d = open_ok(path);
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_true(md->wow64);
	assert_true(ich_dump_is_wow64(d));
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_X64);
	assert_non_null(ich_md_find_module(md, "wow64cpu.dll"));
	done(d, path);
	db_md_free(b);
}

/* Overlapping ranges: the range listed first owns the bytes.  The second
 * range's file copy of the overlap is patched, so the two differ. */
static void test_build_overlap(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(b);
	pattern(m, 0x10000, 0x3000, 5);
	db_md_add_memory(b, 0x10000, 0x2000, DB_LIST_32);
	db_md_add_memory(b, 0x11000, 0x2000, DB_LIST_32);
	db_md_add_memory(b, 0x11800, 0x1000, DB_LIST_64);
	char *path;
	write_md(b, &path);
	uint8_t junk[0x800];
	memset(junk, 0xee, sizeof(junk));
	uint64_t r1 = db_md_range_rva(b, 1, DB_LIST_32);
	assert_int_equal(db_patch_file(path, r1, junk, 0x800), 0);	/* 0x11000..0x117ff */
	struct ich_dump *d = open_ok(path);
	struct ich_as *as = ich_dump_as(d);
	uint8_t got[0x10], want[0x10];
	/* in the overlap: range 0's bytes, not the patched 0xee */
	db_mem_read(m, 0x11400, want, sizeof(want));
	assert_int_equal(ich_as_read(as, 0x11400, got, sizeof(got), NULL), 16);
	assert_memory_equal(got, want, 16);
	/* past range 0: range 1 (patched in 0x11000..0x117ff, intact after) */
	db_mem_read(m, 0x12800, want, sizeof(want));
	assert_int_equal(ich_as_read(as, 0x12800, got, sizeof(got), NULL), 16);
	assert_memory_equal(got, want, 16);
	/* one read across the three */
	uint8_t all[0x3000], exp[0x3000];
	db_mem_read(m, 0x10000, exp, sizeof(exp));
	assert_int_equal(ich_as_read(as, 0x10000, all, sizeof(all), NULL), 0x3000);
	assert_memory_equal(all, exp, sizeof(exp));
	assert_int_equal(ich_dump_minidump(d)->nranges, 3);
	done(d, path);
	db_md_free(b);
}

/* A file cut inside the Memory64List data opens with a warning; what is in
 * the file reads, the rest is ICH_MISS_BEYOND_FILE. */
static void test_build_truncated(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(b);
	pattern(m, 0x600000, 0x4000, 9);
	db_md_add_memory(b, 0x600000, 0x4000, DB_LIST_64);
	char *path;
	write_md(b, &path);
	uint64_t rva = db_md_range_rva(b, 0, DB_LIST_64);
	assert_int_equal(db_truncate_file(path, rva + 0x1800), 0);
	struct ich_dump *d = open_ok(path);
	assert_true(has_warning(d, "past the end of the file"));
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_int_equal(md->nranges, 1);
	assert_int_equal(md->ranges[0].size, 0x4000);
	struct ich_as *as = ich_dump_as(d);
	uint8_t got[0x20], want[0x20];
	db_mem_read(m, 0x6017f0, want, sizeof(want));
	struct ich_read_result res;
	assert_int_equal(ich_as_read(as, 0x6017f0, got, sizeof(got), &res), 0x10);
	assert_memory_equal(got, want, 0x10);
	assert_int_equal(res.why, ICH_MISS_BEYOND_FILE);
	assert_int_equal(res.miss_addr, 0x601800);
	done(d, path);
	db_md_free(b);
}

/* A file cut before its MemoryList and module names still opens. */
static void test_build_truncated_streams(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_add_thread(b, &(struct db_md_thread){ .id = 5, .teb = 0x1000 });
	db_md_add_memory(b, 0x20000, 0x1000, DB_LIST_32);
	char *path;
	write_md(b, &path);
	uint32_t size = 0;
	uint32_t ml = db_md_stream_rva(b, ICH_MD_STREAM_MEMORY_LIST, &size);
	assert_true(ml > 0);
	assert_int_equal(db_truncate_file(path, ml), 0);
	struct ich_dump *d = open_ok(path);
	assert_true(has_warning(d, "MemoryList"));
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_int_equal(md->nranges, 0);
	assert_int_equal(md->nthreads, 1);
	assert_true(md->has_system_info);
	struct ich_read_result res;
	uint8_t x;
	assert_int_equal(ich_as_read(ich_dump_as(d), 0x20000, &x, 1, &res), 0);
	assert_int_equal(res.why, ICH_MISS_NOT_CAPTURED);
	done(d, path);
	db_md_free(b);
}

static void patch32(const char *path, uint64_t off, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	assert_int_equal(db_patch_file(path, off, le, 4), 0);
}

static void patch64(const char *path, uint64_t off, uint64_t v)
{
	patch32(path, off, (uint32_t)v);
	patch32(path, off + 4, (uint32_t)(v >> 32));
}

static void expect_open_error(const char *path, enum ich_error_code code, const char *const *needles)
{
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(path, &d);
	assert_non_null(err);
	assert_null(d);
	assert_int_equal(err->code, code);
	for (; *needles; needles++)
		if (!strstr(err->message, *needles))
			fail_msg("\"%s\" lacks \"%s\"", err->message, *needles);
	ich_error_destroy(err);
}

static void test_build_hostile(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	db_md_add_thread(b, &(struct db_md_thread){ .id = 5, .teb = 0x1000 });
	db_md_add_memory(b, 0x20000, 0x1000, DB_LIST_32);
	db_md_add_memory(b, 0x30000, 0x1000, DB_LIST_64);
	char *path;
	write_md(b, &path);
	uint32_t tl_size, m64_size, ml_size;
	uint32_t tl = db_md_stream_rva(b, ICH_MD_STREAM_THREAD_LIST, &tl_size);
	uint32_t m64 = db_md_stream_rva(b, ICH_MD_STREAM_MEMORY64_LIST, &m64_size);
	uint32_t ml = db_md_stream_rva(b, ICH_MD_STREAM_MEMORY_LIST, &ml_size);
	char *p2 = tmp_path();
	char cmd[1200];

	/* NumberOfStreams past the end of the file */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, p2);
	assert_int_equal(system(cmd), 0);
	patch32(p2, 8, 0x10000000);
	expect_open_error(p2, ICH_ERR_FORMAT,
		(const char *const[]){ "stream directory at 0x20", "268435456 streams", NULL });

	/* bad Version low word */
	assert_int_equal(system(cmd), 0);
	patch32(p2, 4, 0xa794);
	expect_open_error(p2, ICH_ERR_FORMAT, (const char *const[]){ "0x0000a794", "0x4", NULL });

	/* ThreadList count absurd: warning, the stream is cut, the dump opens */
	assert_int_equal(system(cmd), 0);
	patch32(p2, tl, 16774400);
	struct ich_dump *d = open_ok(p2);
	assert_true(has_warning(d, "claims 16774400 entries"));
	assert_true(has_warning(d, "ThreadList"));
	ich_dump_close(d);

	/* MemoryList count neither the stream nor the file can hold: fatal */
	assert_int_equal(system(cmd), 0);
	patch32(p2, ml, 0x7fffffff);
	expect_open_error(p2, ICH_ERR_FORMAT,
		(const char *const[]){ "MemoryList", "2147483647 entries", NULL });

	/* Memory64List range of 2^60 bytes: fatal */
	assert_int_equal(system(cmd), 0);
	patch64(p2, m64 + 16 + 8, 1ull << 60);
	expect_open_error(p2, ICH_ERR_FORMAT,
		(const char *const[]){ "Memory64List", "0x1000000000000000", NULL });

	/* MemoryList range wrapping 2^64 */
	assert_int_equal(system(cmd), 0);
	patch64(p2, ml + 4, 0xfffffffffffff800ull);
	expect_open_error(p2, ICH_ERR_FORMAT, (const char *const[]){ "wraps", NULL });

	/* too short for the header */
	assert_int_equal(system(cmd), 0);
	assert_int_equal(db_truncate_file(p2, 20), 0);
	expect_open_error(p2, ICH_ERR_FORMAT, (const char *const[]){ "32 bytes", NULL });

	unlink(p2);
	free(p2);
	unlink(path);
	free(path);
	db_md_free(b);
}

/* A list whose count is padded to 8 bytes (stream = 8 + n * entry). */
static void test_build_padded_list(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	uint8_t raw[8 + 48] = { 0 };
	raw[0] = 1;				/* NumberOfThreads */
	raw[8] = 0x34; raw[9] = 0x12;		/* ThreadId 0x1234 */
	raw[8 + 16] = 0x00; raw[8 + 17] = 0xd0; raw[8 + 18] = 0x7e;	/* Teb 0x7ed000 */
	db_md_add_raw_stream(b, 0x7777, raw, sizeof(raw));
	char *path;
	write_md(b, &path);
	/* point the builder's (empty) ThreadList entry at the padded body */
	uint32_t rsize = 0, rrva = db_md_stream_rva(b, 0x7777, &rsize);
	assert_int_equal(rsize, sizeof(raw));
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t hdr[32], ent[12];
	assert_int_equal(fread(hdr, 1, 32, f), 32);
	uint32_t nstreams = hdr[8] | hdr[9] << 8, idx = UINT32_MAX;
	for (uint32_t i = 0; i < nstreams; i++) {
		assert_int_equal(fread(ent, 1, 12, f), 12);
		if (ent[0] == 3 && !ent[1] && !ent[2] && !ent[3])
			idx = i;
	}
	fclose(f);
	assert_true(idx != UINT32_MAX);
	patch32(path, 0x20 + 12 * idx + 4, rsize);
	patch32(path, 0x20 + 12 * idx + 8, rrva);
	struct ich_dump *d = open_ok(path);
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_int_equal(md->nthreads, 1);
	assert_int_equal(md->threads[0].thread_id, 0x1234);
	assert_int_equal(md->threads[0].teb, 0x7ed000);
	done(d, path);
	db_md_free(b);
}

/* A stack only in MINIDUMP_THREAD.Stack still reads through the space. */
static void test_build_stack_not_listed(void **state)
{
	(void)state;
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(b);
	pattern(m, 0x90000, 0x1000, 4);
	db_md_add_thread(b, &(struct db_md_thread){ .id = 5, .teb = 0x1000,
		.stack_start = 0x90000, .stack_size = 0x1000, .stack_not_in_list = true });
	char *path;
	write_md(b, &path);
	struct ich_dump *d = open_ok(path);
	assert_int_equal(ich_dump_minidump(d)->nranges, 0);
	uint8_t got[16], want[16];
	db_mem_read(m, 0x90ff0, want, 16);
	assert_int_equal(ich_as_read(ich_dump_as(d), 0x90ff0, got, 16, NULL), 16);
	assert_memory_equal(got, want, 16);
	done(d, path);
	db_md_free(b);
}

/* 20000 handles whose ObjectNameRva all name one 60000-byte string: the
 * names are converted within a budget (a warning says so), quickly. */
static void test_build_shared_long_name(void **state)
{
	(void)state;
	enum { N = 20000, LEN = 30000 };
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	char *name = malloc(LEN + 1);
	assert_non_null(name);
	memset(name, 'x', LEN);
	name[LEN] = 0;
	db_md_add_handle(b, &(struct db_md_handle){ .handle = 4, .object_name = name });
	for (unsigned i = 1; i < N; i++)
		db_md_add_handle(b, &(struct db_md_handle){ .handle = 4 + 4 * i });
	char *path;
	write_md(b, &path);
	free(name);
	uint32_t hsize = 0, hrva = db_md_stream_rva(b, ICH_MD_STREAM_HANDLE_DATA, &hsize);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	uint8_t d0[40];
	assert_int_equal(fseek(f, hrva + 16, SEEK_SET), 0);
	assert_int_equal(fread(d0, 1, 40, f), 40);
	for (unsigned i = 1; i < N; i++) {
		assert_int_equal(fseek(f, hrva + 16 + 40 * (long)i + 12, SEEK_SET), 0);
		assert_int_equal(fwrite(d0 + 12, 1, 4, f), 4);
	}
	fclose(f);
	clock_t t0 = clock();
	struct ich_dump *d = open_ok(path);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_int_equal(md->nhandles, N);
	assert_int_equal(strlen(md->handles[0].object_name), LEN);
	assert_int_equal(strlen(md->handles[1].object_name), LEN);
	assert_null(md->handles[N - 1].object_name);
	assert_true(has_warning(d, "later names are left out"));
	print_message("open with 20000 shared names: %.2f s\n", secs);
	assert_true(secs < 5.0);
	done(d, path);
	db_md_free(b);
}

/* The VmFlags line of the mapping in /proc/self/smaps that holds p, or
 * false when there is none (or no smaps to read). */
static bool vm_flags_of(const void *p, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return false;
	char line[512];
	bool in = false, found = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, n, "%s", line + 8);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* A minidump's mapping carries MADV_HUGEPAGE (reader/file.c
 * ich_file_advise_stream: cold walks read it in huge-page folios, issue
 * 12), and its bytes read as written.  Skipped where the kernel takes no
 * MADV_HUGEPAGE (no THP) or has no smaps. */
static void test_build_stream_advice(void **state)
{
	(void)state;
	size_t probe_len = 4u << 20;
	void *anon = mmap(NULL, probe_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(anon != MAP_FAILED);
	int thp = madvise(anon, probe_len, MADV_HUGEPAGE);
	char flags[512];
	bool smaps = vm_flags_of(anon, flags, sizeof(flags));
	munmap(anon, probe_len);
	if (thp != 0 || !smaps) {
		print_message("no MADV_HUGEPAGE or no /proc/self/smaps here: skipped\n");
		skip();
	}
	struct db_md *b = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	/* 3 MiB of memory: the file spans more than one 2 MiB huge page */
	pattern(db_md_mem(b), 0x7ff600000000ull, 3u << 20, 9);
	db_md_add_memory(b, 0x7ff600000000ull, 3u << 20, DB_LIST_64);
	char *path;
	write_md(b, &path);
	struct ich_dump *d = open_ok(path);
	const uint8_t *data = ich_dump_file_data(d);
	assert_true(ich_dump_file_size(d) > (3u << 20));
	assert_true(vm_flags_of(data, flags, sizeof(flags)));
	if (!strstr(flags, " hg"))
		fail_msg("minidump mapping without MADV_HUGEPAGE: VmFlags:%s", flags);
	/* the last byte of the range reads back as written */
	uint8_t v = 0;
	uint64_t last = 0x7ff600000000ull + (3u << 20) - 1;
	assert_null(ich_as_read_u8(ich_dump_as(d), last, &v));
	assert_int_equal(v, (uint8_t)(last * 7 + 9));
	done(d, path);
	db_md_free(b);
}

#define BUILD_TESTS \
	cmocka_unit_test(test_build_shared_long_name), \
	cmocka_unit_test(test_build_all_streams), \
	cmocka_unit_test(test_build_misc_versions), \
	cmocka_unit_test(test_build_both_thread_lists), \
	cmocka_unit_test(test_build_wow64), \
	cmocka_unit_test(test_build_overlap), \
	cmocka_unit_test(test_build_truncated), \
	cmocka_unit_test(test_build_truncated_streams), \
	cmocka_unit_test(test_build_hostile), \
	cmocka_unit_test(test_build_padded_list), \
	cmocka_unit_test(test_build_stack_not_listed), \
	cmocka_unit_test(test_build_stream_advice),

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_minidumps),
		cmocka_unit_test(test_real_gzip),
		cmocka_unit_test(test_real_thread_names),
		cmocka_unit_test(test_thread_names_shared_ids),
		cmocka_unit_test(test_real_hostile),
		cmocka_unit_test(test_stream_names),
		BUILD_TESTS
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
