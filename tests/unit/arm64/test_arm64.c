/* SPDX-License-Identifier: MIT */
/*
 * ARM64 minidumps against the tests/builder/arm64 scenarios: every value
 * asserted comes from the scenario's .expect, written by the builder from
 * what it laid out (ARM64_NT_CONTEXT, frame records, the ntheap builder's
 * heaps).  argv: DMP EXPECT (arm64-19045), DMP EXPECT (arm64-19045-badfp),
 * DMP HEAPS (the kernel dump arm64-19045-full-heaps and its .heaps file).
 *
 * The kernel dump's processes, handles and IoCompletion queues are checked
 * by the kernel test (tests/unit/kernel, --big mode) against its .expect;
 * here: the AArch64 page walk (kernel and process), heap --pid's heaps
 * block by block, and the refusals (a DirectoryTableBase that is not a
 * 4 KiB table base, a VA that is not 48-bit).
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
#include <icpheap/error.h>
#include <icpheap/heap.h>
#include <icpheap/addrspace.h>
#include <icpheap/kdump.h>
#include <icpheap/kernel.h>
#include <icpheap/layout.h>
#include <icpheap/minidump.h>
#include <icpheap/triage.h>

#include "../heap_blocks.h"

static const char *dmp[2], *exp_path[2], *kdmp, *kheaps, *rdmp, *rheaps;

struct xframe { char where[96], trust[32]; };
struct xblock { uint64_t header, user, size, block_size; char state[96], layer[32]; };
struct xheap {
	uint64_t address;
	struct xblock *b; size_t nb;
	uint64_t busy_count, busy_bytes, free_count, free_bytes;
};
struct expect {
	uint64_t address, far, pc, sp, fp, lr;
	uint32_t cpsr, flags;
	struct xframe f[32]; size_t nf;
	struct xheap h[4]; size_t nh;
};

static void load(const char *path, struct expect *x)
{
	memset(x, 0, sizeof(*x));
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	struct xheap *h = NULL;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, c, d, e;
		unsigned u, v, n;
		char s1[96], s2[32];
		if (sscanf(line, "exception code=0x%x address=0x%llx access=write far=0x%llx", &u, &a, &b) == 3) {
			x->address = a;
			x->far = b;
		} else if (sscanf(line, "context pc=0x%llx sp=0x%llx fp=0x%llx lr=0x%llx cpsr=0x%x flags=0x%x",
				  &a, &b, &c, &d, &u, &v) == 6) {
			x->pc = a, x->sp = b, x->fp = c, x->lr = d, x->cpsr = u, x->flags = v;
		} else if (sscanf(line, "frame %u %95s %31s", &n, s1, s2) == 3) {
			assert_int_equal(n, x->nf);
			strcpy(x->f[x->nf].where, s1);
			strcpy(x->f[x->nf++].trust, s2);
		} else if (sscanf(line, "heap 0x%llx flags=0x%x", &a, &u) == 2) {
			assert_true(x->nh < 4);
			h = &x->h[x->nh++];
			h->address = a;
		} else if (sscanf(line, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%95s layer=%31s",
				  &a, &b, &c, &d, s1, s2) == 6) {
			assert_non_null(h);
			h->b = realloc(h->b, (h->nb + 1) * sizeof(*h->b));
			struct xblock *xb = &h->b[h->nb++];
			xb->header = a, xb->user = b, xb->size = c, xb->block_size = d;
			snprintf(xb->state, sizeof(xb->state), "%s", s1);
			snprintf(xb->layer, sizeof(xb->layer), "%s", s2);
		} else if (sscanf(line, "totals busy_count=%llu busy_bytes=%llu free_count=%llu free_bytes=%llu",
				  &a, &b, &c, &e) == 4) {
			assert_non_null(h);
			h->busy_count = a, h->busy_bytes = b, h->free_count = c, h->free_bytes = e;
		}
	}
	fclose(f);
	assert_true(x->nh > 0);
}

static void free_expect(struct expect *x)
{
	for (size_t i = 0; i < x->nh; i++)
		free(x->h[i].b);
}

static void check_crash(struct ich_dump *d, const struct expect *x, const char *note)
{
	struct ich_crash c;
	ich_crash_read(d, &c);
	assert_true(c.present);
	assert_int_equal(c.code, 0xC0000005u);
	assert_int_equal(c.address, x->address);
	assert_int_equal(c.access, ICH_ACCESS_WRITE);
	assert_int_equal(c.access_address, x->far);
	assert_true(c.has_arm64_context);
	assert_int_equal(c.arm64_pc, x->pc);
	assert_int_equal(c.arm64_sp, x->sp);
	assert_int_equal(c.arm64_fp, x->fp);
	assert_int_equal(c.arm64_lr, x->lr);
	assert_int_equal(c.arm64_cpsr, x->cpsr);
	assert_int_equal(c.arm64_context_flags, x->flags);
	if (c.nframes != x->nf)
		fail_msg("%zu frames, the builder laid out %zu (note: %s)", c.nframes, x->nf, c.stack_note);
	for (size_t i = 0; i < x->nf; i++) {
		char where[128];
		snprintf(where, sizeof(where), "%s+0x%llx", c.frames[i].module,
			 (unsigned long long)c.frames[i].offset);
		assert_true(c.frames[i].has_module);
		/* module names compare case-insensitively (KERNELBASE.dll) */
		if (strcasecmp(where, x->f[i].where))
			fail_msg("frame %zu: %s, expected %s", i, where, x->f[i].where);
		assert_string_equal(ich_frame_trust_name(c.frames[i].trust), x->f[i].trust);
	}
	if (note)
		assert_non_null(strstr(c.stack_note, note));
	else
		assert_string_equal(c.stack_note, "");
}

static void check_heap_list(struct ich_heaps *hs, const struct expect *x)
{
	assert_int_equal(ich_heaps_count(hs), x->nh);
	for (size_t i = 0; i < x->nh; i++) {
		struct ich_heap *hh = ich_heaps_get(hs, i);
		const struct xheap *xh = &x->h[i];
		assert_int_equal(hh->address, xh->address);
		struct heap_blocks g = { 0 };
		assert_null(ich_heap_walk(hs, hh, heap_blocks_collect, &g));
		assert_int_equal(hh->status, ICH_HEAP_OK);
		assert_int_equal(hh->nproblems, 0);
		/* the ARM64 row: an alias of the x64 19045 row, marked derived */
		assert_non_null(hh->layout);
		assert_int_equal(hh->layout->arch, ICH_ARCH_ARM64);
		assert_true(hh->layout->derived);
		assert_non_null(strstr(hh->layout->source, "ARM64 (derived"));
		for (size_t k = 0; k < xh->nb; k++) {
			const struct xblock *xb = &xh->b[k];
			const struct ich_heap_block *b = heap_blocks_find(&g, xb->header);
			if (!b)
				fail_msg("heap 0x%llx: block 0x%llx not reported", (unsigned long long)xh->address,
					 (unsigned long long)xb->header);
			assert_int_equal(b->user, xb->user);
			assert_string_equal(ich_block_state_name(b->state), xb->state);
			assert_string_equal(ich_block_layer_name(b->layer), xb->layer);
			assert_int_equal(b->block_size, xb->block_size);
			if (b->state != ICH_BLOCK_INTERNAL)
				assert_int_equal(b->size, xb->size);
		}
		assert_int_equal(g.n, xh->nb);
		assert_int_equal(hh->totals.busy_count, xh->busy_count);
		assert_int_equal(hh->totals.busy_bytes, xh->busy_bytes);
		assert_int_equal(hh->totals.free_count, xh->free_count);
		assert_int_equal(hh->totals.free_bytes, xh->free_bytes);
		free(g.b);
	}
}

static void check_heaps(struct ich_dump *d, const struct expect *x)
{
	struct ich_heaps *hs = NULL;
	struct ich_error *err = ich_heaps_open(d, 0, &hs);
	if (err)
		fail_msg("%s", err->message);
	check_heap_list(hs, x);
	ich_heaps_close(hs);
}

static void t_minidump(void **s)
{
	(void)s;
	struct expect x;
	load(exp_path[0], &x);
	assert_true(x.nf > 0);
	struct ich_dump *d = NULL;
	assert_null(ich_dump_open(dmp[0], &d));
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_ARM64);
	assert_string_equal(ich_arch_name(ich_dump_arch(d)), "arm64");
	const struct ich_minidump *md = ich_dump_minidump(d);
	assert_non_null(md);
	assert_int_equal(md->system_info.processor_architecture, 12);
	assert_int_equal(md->nthreads, 2);
	assert_int_equal(md->threads[0].context_size, 0x390);
	check_crash(d, &x, NULL);
	check_heaps(d, &x);
	ich_dump_close(d);
	free_expect(&x);
}

static void t_badfp(void **s)
{
	(void)s;
	struct expect x;
	load(exp_path[1], &x);
	struct ich_dump *d = NULL;
	assert_null(ich_dump_open(dmp[1], &d));
	check_crash(d, &x, "links to 0xa1c0f00100, not above it");
	ich_dump_close(d);
	free_expect(&x);
}

/* The whole of a built dump, to patch a copy of it. */
static uint8_t *load_dump(const char *path, long *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*n = ftell(f);
	rewind(f);
	uint8_t *buf = malloc((size_t)*n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)*n, f), (size_t)*n);
	fclose(f);
	return buf;
}

/* An ARM64 dump whose exception context lacks CONTEXT_ARM64 is refused
 * for the stack, naming the size and flags; frame 0 is not invented. */
static void t_not_arm64_context(void **s)
{
	(void)s;
	long n;
	uint8_t *buf = load_dump(dmp[0], &n);
	struct ich_dump *d = NULL;
	assert_null(ich_dump_open(dmp[0], &d));
	uint32_t rva = ich_dump_minidump(d)->exception.context_rva;
	ich_dump_close(d);
	memset(buf + rva, 0, 4);	/* ContextFlags = 0 */
	char path[] = "/tmp/icpheap-arm64-ctx-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *o = fdopen(fd, "wb");
	assert_int_equal(fwrite(buf, 1, (size_t)n, o), (size_t)n);
	fclose(o);
	free(buf);
	assert_null(ich_dump_open(path, &d));
	struct ich_crash c;
	ich_crash_read(d, &c);
	assert_true(c.present);
	assert_false(c.has_arm64_context);
	assert_int_equal(c.nframes, 0);
	assert_non_null(strstr(c.stack_note, "is not an ARM64_NT_CONTEXT"));
	assert_non_null(strstr(c.stack_note, "ContextFlags 0x0"));
	ich_dump_close(d);
	remove(path);
}

/* The ARM64 kernel dump: the AArch64 walk reaches the kernel objects
 * (ich_kernel_open), and heapapp.exe's heaps through its own table. */
static void kernel_heaps(const char *path, const char *heaps_path, bool full)
{
	struct expect x;
	load(heaps_path, &x);
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(path, &d);
	if (err)
		fail_msg("%s", err->message);
	assert_int_equal(ich_dump_arch(d), ICH_ARCH_ARM64);
	assert_int_equal(ich_dump_kdump(d)->machine_image_type, 0xAA64);
	assert_non_null(ich_dump_as(d));
	for (size_t i = 0; i < ich_dump_warning_count(d); i++)
		print_message("  warning: %s\n", ich_dump_warning(d, i));
	assert_int_equal(ich_dump_warning_count(d), 0);
	struct ich_kernel *k = NULL;
	err = ich_kernel_open(d, 0, &k);
	if (err)
		fail_msg("ich_kernel_open: %s", err->message);
	assert_int_equal(ich_kernel_process_count(k), 5);
	const struct ich_kprocess *p = ich_kernel_find_pid(k, 5100);
	assert_non_null(p);
	struct ich_heaps *hs = NULL;
	err = ich_kernel_process_heaps(k, p, 0, &hs);
	if (err)
		fail_msg("pid 5100: %s", err->message);
	assert_int_equal(ich_heaps_ptr_size(hs), 8);
	check_heap_list(hs, &x);
	ich_heaps_close(hs);
	if (!full) {
		ich_kernel_close(k);
		ich_dump_close(d);
		free_expect(&x);
		return;
	}
	/* a VA that is neither TTBR0's (63:48 zero) nor TTBR1's (all one) */
	uint8_t b[8];
	struct ich_read_result r;
	assert_int_equal(ich_as_read(ich_dump_as(d), 0x0001000000000000ull, b, 8, &r), 0);
	assert_int_equal(r.why, ICH_MISS_NONCANONICAL);
	/* a process table base with bits 11:1 set is refused, naming it */
	struct ich_as *pas = NULL;
	err = ich_dump_process_as(d, 0x12345002ull, &pas);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "DirectoryTableBase 0x12345002"));
	assert_non_null(strstr(err->message, "bits 11:1"));
	ich_error_destroy(err);
	ich_kernel_close(k);
	ich_dump_close(d);
	free_expect(&x);
}

static void t_kernel_heaps(void **s)
{
	(void)s;
	kernel_heaps(kdmp, kheaps, true);
}

/* The same content as an RDMP kernel+user dump. */
static void t_kernel_rdmp_heaps(void **s)
{
	(void)s;
	kernel_heaps(rdmp, rheaps, false);
}

/* The header's DirectoryTableBase (0x10 in DUMP_HEADER64) with bit 1 set:
 * the dump opens with a warning naming the field and value, kernel
 * memory is not addressable, and the kernel model says so. */
static void t_kernel_bad_dtb(void **s)
{
	(void)s;
	long n;
	uint8_t *buf = load_dump(kdmp, &n);
	buf[0x10] |= 0x02;
	char path[] = "/tmp/icpheap-arm64-dtb-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *o = fdopen(fd, "wb");
	assert_int_equal(fwrite(buf, 1, (size_t)n, o), (size_t)n);
	fclose(o);
	free(buf);
	struct ich_dump *d = NULL;
	assert_null(ich_dump_open(path, &d));
	assert_null(ich_dump_as(d));
	bool said = false;
	for (size_t i = 0; i < ich_dump_warning_count(d); i++)
		said |= strstr(ich_dump_warning(d, i), "DirectoryTableBase 0x") != NULL &&
			strstr(ich_dump_warning(d, i), "bits 11:1 are set") != NULL;
	assert_true(said);
	struct ich_kernel *k = NULL;
	struct ich_error *err = ich_kernel_open(d, 0, &k);
	assert_non_null(err);
	ich_error_destroy(err);
	ich_dump_close(d);
	remove(path);
}

/* The type table lists an ARM64 twin of every x64 row, derived. */
static void t_layout_rows(void **s)
{
	(void)s;
	const struct ich_layout *a = ich_layout_find("ntdll", ICH_ARCH_ARM64, 19045);
	const struct ich_layout *x = ich_layout_find("ntdll", ICH_ARCH_X64, 19045);
	assert_non_null(a);
	assert_non_null(x);
	assert_int_equal(a->build_min, x->build_min);
	assert_true(a->derived);
	for (int f = 0; f < ICH_F_COUNT; f++)
		assert_int_equal(a->off[f], x->off[f]);
	assert_non_null(strstr(a->source, x->source));
	/* ntoskrnl 19041+: EPROCESS from the ARM64 PDB-derived header (0x190
	 * below x64: KPROCESS is 0x2A8 bytes on ARM64), the rest aliased */
	const struct ich_layout *k = ich_layout_find("ntoskrnl", ICH_ARCH_ARM64, 19045);
	const struct ich_layout *kx = ich_layout_find("ntoskrnl", ICH_ARCH_X64, 19045);
	assert_non_null(k);
	assert_int_equal(k->off[ICH_F_EPROCESS_UNIQUE_PROCESS_ID], 0x2B0);
	assert_int_equal(k->off[ICH_F_EPROCESS_IMAGE_FILE_NAME], 0x418);
	assert_int_equal(k->off[ICH_F_EPROCESS_PEB], kx->off[ICH_F_EPROCESS_PEB] - 0x190);
	assert_int_equal(k->off[ICH_F_EPROCESS_DIRECTORY_TABLE_BASE], 0x28);
	assert_int_equal(k->off[ICH_F_KQUEUE_ENTRY_LIST_HEAD], kx->off[ICH_F_KQUEUE_ENTRY_LIST_HEAD]);
	assert_non_null(strstr(k->source, "Win10_20H1_18885/ARM64"));
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: test_arm64 DMP EXPECT DMP-BADFP EXPECT-BADFP KDMP KHEAPS RDMP RHEAPS\n");
		return 2;
	}
	rdmp = argv[7], rheaps = argv[8];
	dmp[0] = argv[1], exp_path[0] = argv[2], dmp[1] = argv[3], exp_path[1] = argv[4];
	kdmp = argv[5], kheaps = argv[6];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_minidump),
		cmocka_unit_test(t_badfp),
		cmocka_unit_test(t_not_arm64_context),
		cmocka_unit_test(t_layout_rows),
		cmocka_unit_test(t_kernel_heaps),
		cmocka_unit_test(t_kernel_rdmp_heaps),
		cmocka_unit_test(t_kernel_bad_dtb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
