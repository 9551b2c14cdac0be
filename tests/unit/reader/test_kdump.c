/* SPDX-License-Identifier: MIT */
/*
 * Kernel dump reader tests.  Facts come from MANIFEST.md (real dumps, read
 * by an independent parser) and from tests/builder/README.md (builder
 * samples, checked there by the builder's own Python page walker), never
 * from this reader's output.
 *
 * argv: the builder sample dumps, in the order of sample_names below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>

static const char *sample_names[] = {
	"kernel_x64_full", "kernel_x64_bitmap", "kernel_x64_rdmp",
	"kernel_x86_pae", "kernel_x86", "kernel_x64_triage",
};
#define NSAMPLES (sizeof(sample_names) / sizeof(sample_names[0]))
static const char *sample_path[NSAMPLES];

static struct ich_dump *open_sample(const char *name)
{
	for (size_t i = 0; i < NSAMPLES; i++)
		if (!strcmp(sample_names[i], name)) {
			struct ich_dump *d = NULL;
			struct ich_error *err = ich_dump_open(sample_path[i], &d);
			if (err)
				fail_msg("%s: %s", name, err->message);
			return d;
		}
	fail_msg("no sample %s", name);
	return NULL;
}

static uint64_t rd64(struct ich_as *as, uint64_t va)
{
	uint64_t v = 0;
	struct ich_error *err = ich_as_read_u64(as, va, &v);
	if (err)
		fail_msg("read 0x%llx: %s", (unsigned long long)va, err->message);
	return v;
}

static uint32_t rd32(struct ich_as *as, uint64_t va)
{
	uint32_t v = 0;
	struct ich_error *err = ich_as_read_u32(as, va, &v);
	if (err)
		fail_msg("read 0x%llx: %s", (unsigned long long)va, err->message);
	return v;
}

static enum ich_miss_reason miss(struct ich_as *as, uint64_t va)
{
	uint8_t b[8];
	struct ich_read_result res;
	assert_int_equal(ich_as_read(as, va, b, 8, &res), 0);
	return res.why;
}

/* MANIFEST: the first 16 KiB of a full 19045 dump. */
static void test_real_truncated_header(void **state)
{
	(void)state;
	struct ich_dump *d;
	assert_null(ich_dump_open(REAL_DIR "/WerWolv__ImHex-Patterns__dmp64.hexpat.bin", &d));
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_non_null(kd);
	assert_true(kd->is64);
	assert_int_equal(kd->major_version, 0xf);
	assert_int_equal(kd->minor_version, 19045);
	assert_int_equal(kd->machine_image_type, 0x8664);
	assert_int_equal(kd->number_processors, 4);
	assert_int_equal(kd->bugcheck_code, 0x5454414d);
	assert_int_equal(kd->bugcheck_parameters[0], 0x4e4f4f4d);
	assert_int_equal(kd->bugcheck_parameters[1], 0x534c4f53);
	assert_int_equal(kd->bugcheck_parameters[2], 0x4e4f4f4d);
	assert_int_equal(kd->bugcheck_parameters[3], 0x534c4f53);
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_X64);
	assert_int_equal(ich_dump_build(d), 19045);
	assert_string_equal(ich_dump_kind_name(d), "kernel full dump");
	assert_int_equal(ich_dump_file_size(d), 0x4000);
	assert_int_equal(kd->directory_table_base, 0x1ad002);
	assert_int_equal(kd->pfn_database, 0xffffec0000000000ull);
	assert_int_equal(kd->ps_loaded_module_list, 0xfffff8071ec422b0ull);
	assert_int_equal(kd->ps_active_process_head, 0xfffff8071ec360a0ull);
	assert_int_equal(kd->kd_debugger_data_block, 0xffffc509c480b080ull);
	assert_int_equal(kd->dump_type, 1);
	assert_int_equal(kd->required_dump_space, 0x7fe88000);
	assert_int_equal(kd->nruns, 5);
	assert_int_equal(kd->total_pages, 523910);
	assert_int_equal(kd->runs[0].base_page, 0x2);
	assert_int_equal(kd->runs[0].page_count, 0x9e);
	assert_int_equal(kd->runs[1].base_page, 0x100);
	assert_int_equal(kd->runs[1].page_count, 0x251);
	assert_int_equal(kd->runs[3].base_page, 0xdbb8);
	assert_int_equal(kd->runs[3].page_count, 0x1fb7);
	assert_int_equal(kd->runs[2].base_page, 0x3d8);
	assert_int_equal(kd->runs[2].page_count, 0xd7df);
	assert_int_equal(kd->runs[4].base_page, 0xfbff);
	assert_int_equal(kd->runs[4].page_count, 0x70401);
	assert_true(kd->truncated);
	assert_int_equal(kd->expected_file_size, 0x7fe88000);
	assert_true(ich_dump_warning_count(d) >= 1);
	assert_non_null(strstr(ich_dump_warning(d, 0), "0x4000"));
	assert_non_null(strstr(ich_dump_warning(d, 0), "0x7fe88000"));
	/* runs 0 and 1 start at 0x2000: pages 2..0x3 are in the file */
	uint64_t pv;
	struct ich_read_result pres;
	assert_int_equal(ich_dump_read_phys(d, 0x3ff8, &pv, 8, &pres), 8);
	assert_int_equal(ich_dump_read_phys(d, 0x4000, &pv, 8, &pres), 0);
	assert_int_equal(pres.why, ICH_MISS_BEYOND_FILE);
	assert_int_equal(ich_dump_read_phys(d, 0x1000, &pv, 8, &pres), 0);
	assert_int_equal(pres.why, ICH_MISS_NOT_CAPTURED);	/* below run 0 */
	/* The DTB page (pa 0x1ad000) is in run 2 but beyond the file. */
	uint8_t b[8];
	struct ich_read_result res;
	assert_int_equal(ich_dump_read_phys(d, 0x1ad000, b, 8, &res), 0);
	assert_int_equal(res.why, ICH_MISS_BEYOND_FILE);
	/* Any kernel VA: its page tables are missing for the same reason. */
	assert_int_equal(ich_as_read(ich_dump_as(d), 0xfffff8071ec360a0ull, b, 8, &res), 0);
	assert_int_equal(res.why, ICH_MISS_BEYOND_FILE);
	ich_dump_close(d);
}

/* MANIFEST: the real 19041 triage dump. */
static void test_real_triage(void **state)
{
	(void)state;
	struct ich_dump *d;
	assert_null(ich_dump_open(REAL_DIR "/rizinorg__rizin-testbins__triage_x64.dmp", &d));
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_int_equal(kd->major_version, 0xf);
	assert_int_equal(kd->minor_version, 19041);
	assert_int_equal(kd->machine_image_type, 0x8664);
	assert_string_equal(ich_dump_kind_name(d), "kernel triage dump");
	assert_int_equal(ich_dump_file_size(d), 0x160ab4);
	assert_int_equal(kd->bugcheck_parameters[1], 0xfffff8048b58334cull);
	assert_int_equal(kd->bugcheck_parameters[2], 0xffff850429891ee8ull);
	assert_int_equal(kd->pfn_database, 0xfffff8047c6fc500ull);
	assert_int_equal(kd->ps_loaded_module_list, 0xfffff8047c62a390ull);
	assert_int_equal(kd->ps_active_process_head, 0xfffff8047c61e200ull);
	assert_int_equal(kd->number_processors, 16);
	assert_int_equal(kd->bugcheck_code, 0x1000007e);
	assert_int_equal(kd->bugcheck_parameters[0], 0xffffffffc0000005ull);
	assert_int_equal(kd->bugcheck_parameters[3], 0xffff850429891720ull);
	assert_int_equal(kd->directory_table_base, 0x1ad000);
	assert_int_equal(kd->kd_debugger_data_block, 0xfffff8047c600b20ull);
	assert_int_equal(kd->dump_type, 4);
	assert_int_equal(kd->required_dump_space, 0x197915);
	assert_true(kd->has_triage);
	assert_false(kd->truncated);	/* SizeOfDump 0x13a28c <= file size */
	const struct ich_kdump_triage *t = &kd->triage;
	assert_int_equal(t->service_pack_build, 0);
	assert_int_equal(t->broken_driver_offset, 0);
	assert_int_equal(t->size_of_dump, 0x13a28c);
	assert_int_equal(t->valid_offset, 0x13a288);
	assert_int_equal(t->context_offset, 0x348);
	assert_int_equal(t->exception_offset, 0xf00);
	assert_int_equal(t->mm_offset, 0x2080);
	assert_int_equal(t->unloaded_drivers_offset, 0x20d0);
	assert_int_equal(t->prcb_offset, 0x21b8);
	assert_int_equal(t->process_offset, 0xd0b8);
	assert_int_equal(t->thread_offset, 0xdaf8);
	assert_int_equal(t->call_stack_offset, 0xe390);
	assert_int_equal(t->size_of_call_stack, 0x2118);
	assert_int_equal(t->driver_list_offset, 0x10828);
	assert_int_equal(t->driver_count, 0x97);
	assert_int_equal(t->string_pool_offset, 0x15d18);
	assert_int_equal(t->string_pool_size, 0x3720);
	assert_int_equal(t->triage_options, 0xffffffff);
	assert_int_equal(t->top_of_stack, 0xffff850429890ee8ull);
	assert_int_equal(t->debugger_data_offset, 0x104a8);
	assert_int_equal(t->debugger_data_size, 0x380);
	assert_int_equal(t->data_blocks_offset, 0x19438);
	assert_int_equal(t->data_blocks_count, 1831);
	assert_int_equal(t->data_block_bytes, 1153874);
	assert_non_null(ich_dump_as(d));
	/* No page tables in a triage dump. */
	struct ich_as *pas;
	struct ich_error *err = ich_dump_process_as(d, 0x1ad000, &pas);
	assert_non_null(err);
	ich_error_destroy(err);
	ich_dump_close(d);
}

static void test_x64_full(void **state)
{
	(void)state;
	struct ich_dump *d = open_sample("kernel_x64_full");
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_X64);
	assert_int_equal(ich_dump_build(d), 19045);
	assert_int_equal(kd->bugcheck_code, 0x1e);
	assert_int_equal(kd->bugcheck_parameters[0], 0xc0000005);
	assert_int_equal(kd->number_processors, 2);
	assert_string_equal(kd->comment, "icpheap x64 full sample");
	assert_int_equal(kd->nruns, 2);
	assert_false(kd->truncated);
	struct ich_as *as = ich_dump_as(d);
	/* 2 MiB page */
	assert_int_equal(rd64(as, 0xfffff80000000000ull), 0x4b4b4b4b4b4b4b4bull);
	/* empty list head points to itself */
	assert_int_equal(rd64(as, 0xfffff80000100000ull), 0xfffff80000100000ull);
	/* a read crossing two 4 KiB pages */
	uint8_t b[16];
	assert_null(ich_as_read_exact(as, 0xffffa00000001ff8ull, b, 16));
	for (int i = 0; i < 16; i++)
		assert_int_equal(b[i], i + 1);
	assert_int_equal(rd64(as, 0xffffa00000002000ull), 0x100f0e0d0c0b0a09ull);
	uint64_t v;
	assert_int_equal(ich_dump_read_phys(d, 0x8ff8, &v, 8, NULL), 8);
	assert_int_equal(v, 0x0807060504030201ull);
	/* unmapped and non-canonical addresses */
	assert_int_equal(miss(as, 0xfffff90000000000ull), ICH_MISS_NOT_MAPPED);
	assert_int_equal(miss(as, 0x0000800000000000ull), ICH_MISS_NONCANONICAL);
	/* the process address space, from its DTB */
	struct ich_as *p;
	assert_null(ich_dump_process_as(d, 0xb000, &p));
	assert_int_equal(rd64(p, 0x7ff00000), 0x7573657231ull);
	assert_int_equal(rd64(p, 0x7ff00008), 0xb000);
	char s[32] = {0};
	assert_null(ich_as_read_exact(p, 0x7ff01000, s, 18));
	assert_string_equal(s, "user page of proc1");
	assert_int_equal(rd64(p, 0xfffff80000000000ull), 0x4b4b4b4b4b4b4b4bull);
	/* the kernel space does not see the user page */
	assert_int_equal(miss(as, 0x7ff00000), ICH_MISS_NOT_MAPPED);
	ich_as_destroy(p);
	ich_dump_close(d);
}

static void test_x64_bitmap(void **state)
{
	(void)state;
	struct ich_dump *d = open_sample("kernel_x64_bitmap");
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_int_equal(kd->dump_type, 5);
	assert_string_equal(kd->bitmap_signature, "SDMP");
	assert_int_equal(kd->present_pages, 529);
	assert_int_equal(kd->total_pages, 0x4000);
	assert_int_equal(kd->first_page_offset, 0x3000);
	assert_int_equal(kd->bugcheck_code, 0xe2);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(rd64(as, 0xffffc00000000000ull), 0x1111111111111111ull);
	/* transition PTE: the frame is still in RAM and in the dump */
	assert_int_equal(rd64(as, 0xffffc00000001000ull), 0x2222222222222222ull);
	/* paged out: the PTE says so and is reported */
	uint8_t b[8];
	struct ich_read_result res;
	assert_int_equal(ich_as_read(as, 0xffffc00000002000ull, b, 8, &res), 0);
	assert_int_equal(res.why, ICH_MISS_PAGED_OUT);
	assert_int_equal(res.pte, 0x12345600000080ull);
	/* valid PTE, frame excluded from the bitmap */
	assert_int_equal(miss(as, 0xffffc00000003000ull), ICH_MISS_NOT_CAPTURED);
	struct ich_error *err = ich_as_read_u64(as, 0xffffc00000003000ull, (uint64_t *)b);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "not captured"));
	ich_error_destroy(err);
	struct ich_as *p;
	assert_null(ich_dump_process_as(d, 0xf000, &p));
	assert_int_equal(rd64(p, 0x10000), 0xabcdef0123456789ull);
	ich_as_destroy(p);
	ich_dump_close(d);
}

static void test_x64_rdmp(void **state)
{
	(void)state;
	struct ich_dump *d = open_sample("kernel_x64_rdmp");
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_int_equal(kd->dump_type, 8);
	assert_int_equal(kd->bugcheck_code, 0x161);
	assert_int_equal(kd->first_page_offset, 0x3000);
	assert_int_equal(kd->present_pages, 8 + 0x200);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(rd64(as, 0xffffd00000001000ull), 0x5555555555555555ull);
	assert_int_equal(rd64(as, 0xfffff80000100000ull), 0xfffff80000100000ull);
	ich_dump_close(d);
}

static void test_x86_pae(void **state)
{
	(void)state;
	struct ich_dump *d = open_sample("kernel_x86_pae");
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_false(kd->is64);
	assert_true(kd->pae_enabled);
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_X86);
	assert_int_equal(ich_dump_build(d), 7601);
	assert_int_equal(kd->bugcheck_code, 0xd1);
	assert_int_equal(kd->bugcheck_parameters[0], 0x1c);
	assert_int_equal(kd->bugcheck_parameters[3], 0x8a001000);
	assert_int_equal(kd->kd_debugger_data_block, 0x80110000);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(ich_as_ptr_size(as), 4);
	assert_int_equal(rd32(as, 0x80100000), 0x80100000);
	assert_int_equal(rd32(as, 0x80100004), 0x80100000);
	assert_int_equal(rd32(as, 0x8a000000), 0xfeedface);
	assert_int_equal(rd32(as, 0x8a001000), 0x0badc0de);	/* transition */
	uint64_t ptr;
	assert_null(ich_as_read_ptr(as, 0x80100000, &ptr));
	assert_int_equal(ptr, 0x80100000);
	struct ich_as *p;
	assert_null(ich_dump_process_as(d, 0x9000, &p));
	assert_int_equal(rd32(p, 0x10000), 0x12345678);
	ich_as_destroy(p);
	ich_dump_close(d);
}

static void test_x86_nonpae(void **state)
{
	(void)state;
	struct ich_dump *d = open_sample("kernel_x86");
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_false(kd->pae_enabled);
	assert_int_equal(kd->bugcheck_code, 0x7f);
	assert_int_equal(ich_dump_build(d), 2600);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(rd32(as, 0x80400000), 0x00905a4d);	/* 4 MiB page */
	assert_int_equal(rd32(as, 0x80500000), 0x80500000);
	assert_int_equal(rd32(as, 0x8a000000), 0xdeadbeef);
	struct ich_as *p;
	assert_null(ich_dump_process_as(d, 0x4000, &p));
	assert_int_equal(rd32(p, 0x400000), 0x0abcdef0);
	ich_as_destroy(p);
	ich_dump_close(d);
}

static void test_x64_triage_sample(void **state)
{
	(void)state;
	struct ich_dump *d = open_sample("kernel_x64_triage");
	const struct ich_kdump *kd = ich_dump_kdump(d);
	assert_int_equal(kd->triage.data_blocks_count, 2);
	assert_int_equal(kd->triage.driver_count, 0x97);
	struct ich_as *as = ich_dump_as(d);
	assert_int_equal(rd64(as, 0xfffff8047c600b20ull), 0x1111111111111111ull);
	assert_int_equal(rd64(as, 0xfffff8047c600b28ull), 0x2222222222222222ull);
	char s[20] = {0};
	assert_null(ich_as_read_exact(as, 0xfffff8047c601000ull, s, 17));
	assert_string_equal(s, "triage block two");
	assert_int_equal(miss(as, 0xfffff8047c600b30ull), ICH_MISS_NOT_CAPTURED);
	ich_dump_close(d);
}

int main(int argc, char **argv)
{
	if (argc != 1 + (int)NSAMPLES) {
		fprintf(stderr, "usage: %s", argv[0]);
		for (size_t i = 0; i < NSAMPLES; i++)
			fprintf(stderr, " %s.dmp", sample_names[i]);
		fputc('\n', stderr);
		return 2;
	}
	for (size_t i = 0; i < NSAMPLES; i++)
		sample_path[i] = argv[i + 1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_truncated_header),
		cmocka_unit_test(test_real_triage),
		cmocka_unit_test(test_x64_full),
		cmocka_unit_test(test_x64_bitmap),
		cmocka_unit_test(test_x64_rdmp),
		cmocka_unit_test(test_x86_pae),
		cmocka_unit_test(test_x86_nonpae),
		cmocka_unit_test(test_x64_triage_sample),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
