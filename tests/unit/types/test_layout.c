/* SPDX-License-Identifier: MIT */
/*
 * Type-table tests: lookups pick the nearest row at or below the build,
 * and a dozen offsets match ../shared/reference/layouts.md by hand (the
 * values below were copied from layouts.md's tables, not from the table
 * under test).  Also the --layout file loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <icpheap/layout.h>

static int32_t at(const char *m, enum ich_arch a, uint32_t b, enum ich_field f)
{
	const struct ich_layout *r = ich_layout_find(m, a, b);
	assert_non_null(r);
	return ich_layout_off(r, f);
}

static void test_lookup(void **state)
{
	(void)state;
	const struct ich_layout *r = ich_layout_find("ntdll", ICH_ARCH_X64, 19044);
	assert_non_null(r);
	assert_int_equal(r->build_min, 19041);
	r = ich_layout_find("ntdll", ICH_ARCH_X64, 30000);
	assert_int_equal(r->build_min, 26100);
	assert_true(r->derived);
	assert_null(ich_layout_find("ntdll", ICH_ARCH_X64, 2600));	/* older than any row */
	/* ARM64: the x64 row's offsets, marked derived (src/types/layout.c) */
	const struct ich_layout *a = ich_layout_find("ntdll", ICH_ARCH_ARM64, 19041);
	assert_non_null(a);
	assert_int_equal(a->build_min, 19041);
	assert_true(a->derived);
	assert_int_equal(a->off[ICH_F_HEAP_SIGNATURE], ich_layout_find("ntdll", ICH_ARCH_X64, 19041)->off[ICH_F_HEAP_SIGNATURE]);
	assert_null(ich_layout_find("ntdll", ICH_ARCH_ARM, 19041));
	const struct ich_layout *c[64];
	size_t n = ich_layout_candidates("ntdll", ICH_ARCH_X86, 17134, c, 64);
	assert_true(n >= 10);
	assert_int_equal(c[0]->build_min, 17134);
	/* nearest next: 16299 or 17763 before far rows */
	assert_true(c[1]->build_min == 16299 || c[1]->build_min == 17763);
}

/* layouts.md §2 _HEAP table (FrontEndHeap row, Signature row). */
static void test_heap_offsets(void **state)
{
	(void)state;
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 19045, ICH_F_HEAP_FRONT_END_HEAP), 0x198);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 14393, ICH_F_HEAP_FRONT_END_HEAP), 0x178);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 10240, ICH_F_HEAP_FRONT_END_HEAP), 0x170);
	assert_int_equal(at("ntdll", ICH_ARCH_X86, 19045, ICH_F_HEAP_FRONT_END_HEAP), 0xE4);
	assert_int_equal(at("ntdll", ICH_ARCH_X86, 10240, ICH_F_HEAP_FRONT_END_HEAP_TYPE), 0xD6);
	assert_int_equal(at("ntdll", ICH_ARCH_X86, 7601, ICH_F_HEAP_SIGNATURE), 0x64);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 7601, ICH_F_HEAP_SIGNATURE), 0xA0);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 9600, ICH_F_HEAP_SIGNATURE), 0x98);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 7601, ICH_F_HEAP_POINTER_KEY), 0x90);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 19041, ICH_F_HEAP_POINTER_KEY), -1);
	assert_int_equal(at("ntdll", ICH_ARCH_X86, 17763, ICH_F_HEAP_COUNTERS), 0x1F4);
	/* §2 _HEAP_SEGMENT and §1 PEB */
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 19041, ICH_F_HEAP_SEGMENT_UCR_SEGMENT_LIST), 0x60);
	assert_int_equal(at("ntdll", ICH_ARCH_X86, 19041, ICH_F_HEAP_SEGMENT_FIRST_ENTRY), 0x24);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 22621, ICH_F_PEB_PROCESS_HEAPS), 0xF0);
	assert_int_equal(at("ntdll", ICH_ARCH_X86, 22621, ICH_F_PEB_NUMBER_OF_HEAPS), 0x88);
	/* §3 LFH */
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 19041, ICH_F_USERDATA_HEADER_ENCODED_OFFSETS), 0x18);
	assert_int_equal(at("ntdll", ICH_ARCH_X86, 9600, ICH_F_USERDATA_HEADER_BUSY_BITMAP), 0x14);
	assert_int_equal(at("ntdll", ICH_ARCH_X64, 7601, ICH_F_USERDATA_HEADER_ENCODED_OFFSETS), -1);
}

/* layouts.md §8 per-build EPROCESS table and object structures. */
static void test_kernel_offsets(void **state)
{
	(void)state;
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 19041, ICH_F_EPROCESS_UNIQUE_PROCESS_ID), 0x440);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 19045, ICH_F_EPROCESS_IMAGE_FILE_NAME), 0x5A8);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X86, 19041, ICH_F_EPROCESS_UNIQUE_PROCESS_ID), 0xE4);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 7601, ICH_F_EPROCESS_OBJECT_TABLE), 0x200);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 17763, ICH_F_EPROCESS_ACTIVE_PROCESS_LINKS), 0x2E8);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 18362, ICH_F_EPROCESS_ACTIVE_PROCESS_LINKS), 0x2F0);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X86, 14393, ICH_F_EPROCESS_IMAGE_FILE_NAME), 0x174);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X86, 7601, ICH_F_KQUEUE_ENTRY_LIST_HEAD), 0x10);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 19041, ICH_F_KQUEUE_ENTRY_LIST_HEAD), 0x18);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 7601, ICH_F_HANDLE_TABLE_TABLE_CODE), 0);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 9600, ICH_F_HANDLE_TABLE_TABLE_CODE), 8);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X86, 19041, ICH_F_OBJECT_HEADER_BODY), 0x18);
	assert_int_equal(at("ntoskrnl", ICH_ARCH_X64, 22621, ICH_F_OBJECT_TYPE_INDEX), 0x28);
}

/* In every built-in row, UniqueProcessId == ActiveProcessLinks - pointer
 * size (layouts.md §8), and every x86/x64 ntdll row has the fields the
 * heap walker needs. */
static void test_consistency(void **state)
{
	(void)state;
	enum ich_arch arches[] = { ICH_ARCH_X86, ICH_ARCH_X64 };
	for (int a = 0; a < 2; a++) {
		const struct ich_layout *c[64];
		size_t n = ich_layout_candidates("ntoskrnl", arches[a], 19041, c, 64);
		assert_true(n >= 6);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(ich_layout_off(c[i], ICH_F_EPROCESS_UNIQUE_PROCESS_ID),
					 ich_layout_off(c[i], ICH_F_EPROCESS_ACTIVE_PROCESS_LINKS) - (a ? 8 : 4));
		n = ich_layout_candidates("ntdll", arches[a], 19041, c, 64);
		assert_true(n >= 13);
		static const enum ich_field need[] = {
			ICH_F_HEAP_SIGNATURE, ICH_F_HEAP_SEGMENT_LIST, ICH_F_HEAP_ENCODING,
			ICH_F_HEAP_VIRTUAL_ALLOCD_BLOCKS, ICH_F_HEAP_SEGMENT_FIRST_ENTRY,
			ICH_F_PEB_PROCESS_HEAPS, ICH_F_TEB_PROCESS_ENVIRONMENT_BLOCK,
		};
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
				assert_true(ich_layout_off(c[i], need[k]) >= 0);
			assert_true(ich_layout_off(c[i], ICH_F_HEAP_FRONT_END_HEAP_TYPE) <
				    ich_layout_off(c[i], ICH_F_HEAP_SIZEOF));
		}
	}
	assert_int_equal(ich_field_by_name("HEAP.Signature"), ICH_F_HEAP_SIGNATURE);
	assert_int_equal(ich_field_by_name("nope"), ICH_F_COUNT);
	assert_string_equal(ich_windows_release_name(19045), "Windows 10 22H2");
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/icpheap-layout-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_loader(void **state)
{
	(void)state;
	char *p = write_tmp("# a user row\n"
			    "[ntdll x64 26100 \"24H2 measured\"]\n"
			    "base = ntdll x64 22621\n"
			    "source = my WinDbg session\n"
			    "HEAP.Signature = 0x9c\n"
			    "HEAP.PointerKey = -1\n");
	assert_null(ich_layout_load_file(p));
	const struct ich_layout *r = ich_layout_find("ntdll", ICH_ARCH_X64, 26100);
	assert_string_equal(r->label, "24H2 measured");
	assert_string_equal(r->source, "my WinDbg session");
	assert_int_equal(ich_layout_off(r, ICH_F_HEAP_SIGNATURE), 0x9c);
	assert_int_equal(ich_layout_off(r, ICH_F_HEAP_FRONT_END_HEAP), 0x198);	/* from base */
	unlink(p);
	free(p);
	ich_layout_reset();
	assert_int_equal(ich_layout_off(ich_layout_find("ntdll", ICH_ARCH_X64, 26100), ICH_F_HEAP_SIGNATURE), 0x98);

	const char *bad[] = {
		"HEAP.Signature = 1\n",				/* before a header */
		"[ntdll arm 1 \"x\"]\n",			/* arch */
		"[ntdll x64 1 \"x\"]\nHEAP.Nope = 1\n",		/* field */
		"[ntdll x64 1 \"x\"]\nHEAP.Signature = zz\n",	/* value */
		"[ntdll x64 1 \"x\"]\nbase = ntdll x64 5\n",	/* base row */
	};
	const char *line[] = { ":1:", ":1:", ":2:", ":2:", ":2:" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = write_tmp(bad[i]);
		struct ich_error *err = ich_layout_load_file(p);
		assert_non_null(err);
		assert_non_null(strstr(err->message, line[i]));
		ich_error_destroy(err);
		unlink(p);
		free(p);
	}
	struct ich_error *err = ich_layout_load_file("/nonexistent/layout.txt");
	assert_non_null(err);
	ich_error_destroy(err);
}

static uint64_t build_dist(const struct ich_layout *r, uint32_t build)
{
	return r->build_min > build ? r->build_min - build : build - r->build_min;
}

/* ich_layout_candidates (one gathering pass and a stable sort since issue
 * 12): the build's own row first, then every other row of the module and
 * arch once, nearest build first; a shorter max gives a prefix of the
 * full list (a nearer row displaces a farther one when the list is full). */
static void test_candidates_order(void **state)
{
	(void)state;
	static const char *const mods[] = { "ntdll", "ntoskrnl" };
	static const enum ich_arch arches[] = { ICH_ARCH_X86, ICH_ARCH_X64, ICH_ARCH_ARM64 };
	static const uint32_t builds[] = { 0, 2600, 7601, 9600, 14393, 17763, 18362, 19045, 22631, 26100, 40000 };
	for (size_t m = 0; m < 2; m++) {
		for (size_t a = 0; a < 3; a++) {
			const struct ich_layout *all0[64];
			size_t n0 = ich_layout_candidates(mods[m], arches[a], 0, all0, 64);
			assert_true(n0 < 64);
			for (size_t b = 0; b < sizeof(builds) / sizeof(builds[0]); b++) {
				const struct ich_layout *c[64];
				size_t n = ich_layout_candidates(mods[m], arches[a], builds[b], c, 64);
				assert_int_equal(n, n0);	/* the same rows at any build */
				const struct ich_layout *own = ich_layout_find(mods[m], arches[a], builds[b]);
				size_t start = own ? 1 : 0;
				if (own)
					assert_ptr_equal(c[0], own);
				for (size_t i = 0; i < n; i++) {
					for (size_t j = 0; j < i; j++)
						assert_ptr_not_equal(c[i], c[j]);
					bool in0 = false;
					for (size_t j = 0; j < n0; j++)
						in0 |= c[i] == all0[j];
					assert_true(in0);
					if (i > start)
						assert_true(build_dist(c[i - 1], builds[b]) <= build_dist(c[i], builds[b]));
				}
				for (size_t max = 0; max <= n; max++) {
					const struct ich_layout *p[64];
					size_t k = ich_layout_candidates(mods[m], arches[a], builds[b], p, max);
					assert_int_equal(k, max);
					for (size_t i = 0; i < k; i++)
						assert_ptr_equal(p[i], c[i]);
				}
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_candidates_order),
		cmocka_unit_test(test_heap_offsets),
		cmocka_unit_test(test_kernel_offsets),
		cmocka_unit_test(test_consistency),
		cmocka_unit_test(test_loader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
