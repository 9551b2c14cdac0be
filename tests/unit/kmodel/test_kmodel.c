/* SPDX-License-Identifier: MIT */
/*
 * Kernel-model tests on a small x64 19045 kernel laid out here with the
 * dump builder from layouts.md §7-8 (KDBG, EPROCESS 19041+ column,
 * OBJECT_HEADER with cookie-encoded TypeIndex, CREATOR_INFO type lists,
 * level-0 and level-1 handle tables, KQUEUE with real entry lists).  The
 * independent scenario builder (tests/builder/kernel) covers more builds;
 * this one pins the icpleak answers both routes must give.
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

#include <icpheap/dump.h>
#include <icpheap/kernel.h>

#include "dumpbuilder.h"

#define KBASE 0xffffc00000000000ull
#define COOKIE 0x5a
/* layouts.md §8, x64 19041-22631 */
#define EP_PID 0x440
#define EP_LINKS 0x448
#define EP_PPID 0x540
#define EP_OT 0x570
#define EP_NAME 0x5A8
#define OH_TYPE_INDEX 0x18
#define OH_INFO_MASK 0x1A
#define OH_BODY 0x30
#define CI_SIZE 0x20
#define OT_NAME 0x10
#define OT_INDEX 0x28
#define KQ_SIGNAL 0x4
#define KQ_ENTRIES 0x18
#define KQ_MAX 0x2C
#define KQ_THREADS 0x30

struct scen {
	struct db_kd *kd;
	struct db_mem *m;
	uint64_t next;		/* bump allocator in KBASE */
	uint64_t type_type, types_list;
	uint64_t iocomp_type;
	uint64_t head;		/* PsActiveProcessHead */
};

static uint64_t kalloc(struct scen *s, uint64_t size)
{
	uint64_t a = s->next;
	s->next += (size + 0xF) & ~0xFull;
	return a;
}

static void list_init(struct db_mem *m, uint64_t head)
{
	db_mem_write_u64(m, head, head);
	db_mem_write_u64(m, head + 8, head);
}

static void list_append(struct db_mem *m, uint64_t head, uint64_t e)
{
	uint64_t last = db_mem_read_u64(m, head + 8);
	db_mem_write_u64(m, e, head);
	db_mem_write_u64(m, e + 8, last);
	db_mem_write_u64(m, last, e);
	db_mem_write_u64(m, head + 8, e);
}

/* An object with CREATOR_INFO: returns the body; node = CREATOR_INFO.TypeList */
static uint64_t new_object(struct scen *s, uint8_t type_index, uint64_t body_size, uint64_t *node)
{
	uint64_t ci = kalloc(s, CI_SIZE + OH_BODY + body_size);
	uint64_t hdr = ci + CI_SIZE, body = hdr + OH_BODY;
	db_mem_write_u8(s->m, hdr + OH_INFO_MASK, 0x01);
	/* Windows 10+: TypeIndex ^ (BYTE)(hdr >> 8) ^ ObHeaderCookie */
	db_mem_write_u8(s->m, hdr + OH_TYPE_INDEX, (uint8_t)(type_index ^ (uint8_t)(hdr >> 8) ^ COOKIE));
	if (node)
		*node = ci;
	return body;
}

static uint64_t new_type(struct scen *s, const char *name, uint8_t index)
{
	uint64_t node;
	uint64_t body = new_object(s, 2, 0xD0, &node);	/* "Type" is index 2 */
	uint64_t str = kalloc(s, 64);
	size_t n = db_mem_write_utf16(s->m, str, name, false);
	db_mem_write_u16(s->m, body + OT_NAME, (uint16_t)n);
	db_mem_write_u16(s->m, body + OT_NAME + 2, (uint16_t)n);
	db_mem_write_u64(s->m, body + OT_NAME + 8, str);
	db_mem_write_u8(s->m, body + OT_INDEX, index);
	list_init(s->m, body);	/* its own TypeList */
	if (s->types_list)
		list_append(s->m, s->types_list, node);
	return body;
}

/* One process with n handles to objs (handle values 4, 8, ...). */
static uint64_t new_process(struct scen *s, uint32_t pid, const char *name,
			    const uint64_t *objs, size_t n, const uint32_t *access)
{
	uint64_t ep = new_object(s, 7, 0x800, NULL);	/* Process type index 7 */
	db_mem_write_u64(s->m, ep + EP_PID, pid);
	db_mem_write_u64(s->m, ep + EP_PPID, 4);
	db_mem_write(s->m, ep + EP_NAME, name, strlen(name));
	list_append(s->m, s->head, ep + EP_LINKS);
	uint64_t ht = kalloc(s, 0x80);
	db_mem_write_u64(s->m, ep + EP_OT, ht);
	/* entries: 256 per 4 KiB page, entry 0 of a page unused */
	size_t pages = (n + 254) / 255;
	uint64_t table[8];
	for (size_t p = 0; p < pages; p++) {
		s->next = (s->next + 0xFFF) & ~0xFFFull;
		table[p] = kalloc(s, 0x1000);
	}
	for (size_t i = 0; i < n; i++) {
		size_t idx = i + 1 + i / 255;	/* skip entry 0 of each page */
		uint64_t e = table[idx / 256] + (idx % 256) * 16;
		uint64_t hdr = objs[i] - OH_BODY;
		/* x64 >= 9600: ObjectPointerBits at bit 20 (= header >> 4),
		 * Unlocked bit 0 (layouts.md §8) */
		db_mem_write_u64(s->m, e, (hdr << 16) | 1);
		db_mem_write_u64(s->m, e + 8, access[i]);
	}
	uint64_t code;
	if (pages == 1) {
		code = table[0];	/* level 0 */
	} else {
		s->next = (s->next + 0xFFF) & ~0xFFFull;
		uint64_t dir = kalloc(s, 0x1000);
		for (size_t p = 0; p < pages; p++)
			db_mem_write_u64(s->m, dir + 8 * p, table[p]);
		code = dir | 1;		/* level 1 */
	}
	db_mem_write_u64(s->m, ht + 8, code);	/* TableCode at +8 from 9200 */
	return ep;
}

static uint64_t new_queue(struct scen *s, int depth, int signal, bool typelist)
{
	uint64_t node;
	uint64_t q = new_object(s, 0x25, 0x40, &node);	/* IoCompletion index 0x25 */
	db_mem_write_u8(s->m, q, 4);			/* QueueObject */
	db_mem_write_u32(s->m, q + KQ_SIGNAL, (uint32_t)signal);
	db_mem_write_u32(s->m, q + KQ_MAX, 4);
	list_init(s->m, q + KQ_ENTRIES);
	list_init(s->m, q + KQ_THREADS);
	for (int i = 0; i < depth; i++)
		list_append(s->m, q + KQ_ENTRIES, kalloc(s, 0x50));
	if (typelist)
		list_append(s->m, s->iocomp_type, node);
	return q;
}

struct expect {
	uint64_t deep, mid, mismatch;
	uint64_t p1, p2;
};

/* A kernel with KDBG, an empty process list and the Type, Process, Event
 * and IoCompletion types.  Returns the KDBG address. */
static uint64_t new_kernel(struct scen *s, uint32_t dump_type)
{
	memset(s, 0, sizeof(*s));
	s->kd = db_kd_new(DB_KD_X64, 19045, dump_type);
	db_kd_set_automap(s->kd, true);
	s->m = db_kd_view(s->kd, db_kd_kernel_dtb(s->kd));
	s->next = KBASE + 0x10000;
	/* KDBG: OwnerTag 'KDBG' at 0x10; PsActiveProcessHead 0x50 and
	 * ObpTypeObjectType 0xA0 hold addresses of the variables (§7) */
	uint64_t kdbg = kalloc(s, 0x400), vars = kalloc(s, 0x40);
	db_mem_write_u32(s->m, kdbg + 0x10, 0x4742444B);
	s->head = vars;
	list_init(s->m, s->head);
	db_mem_write_u64(s->m, kdbg + 0x50, s->head);
	db_mem_write_u64(s->m, kdbg + 0xA0, vars + 0x10);
	s->type_type = new_type(s, "Type", 2);
	s->types_list = s->type_type;
	list_append(s->m, s->types_list, s->type_type - OH_BODY - CI_SIZE);
	db_mem_write_u64(s->m, vars + 0x10, s->type_type);
	new_type(s, "Process", 7);
	new_type(s, "Event", 0x10);
	s->iocomp_type = new_type(s, "IoCompletion", 0x25);
	return kdbg;
}

static char *build(bool typelist, struct expect *x)
{
	struct scen s;
	uint64_t kdbg = new_kernel(&s, 1);
	uint64_t event = new_object(&s, 0x10, 0x18, NULL);
	x->deep = new_queue(&s, 300, 300, typelist);
	x->mid = new_queue(&s, 17, 17, typelist);
	x->mismatch = new_queue(&s, 3, 5, typelist);
	uint64_t orphan = new_queue(&s, 1, 1, typelist);	/* no handle */
	(void)orphan;
	uint64_t sys_objs[1] = { event };
	uint32_t acc1[1] = { 0x1f0003 };
	new_process(&s, 4, "System", sys_objs, 1, acc1);
	/* p1: 300 handles (level-1 table), the deep queue at handle 0x4b0 */
	uint64_t o1[300];
	uint32_t a1[300];
	for (int i = 0; i < 300; i++) {
		o1[i] = event;
		a1[i] = 0x100000;
	}
	o1[299] = x->deep;
	a1[299] = 0x1f0003;
	o1[10] = x->mismatch;
	x->p1 = new_process(&s, 0x1f4, "leaky.exe", o1, 300, a1);
	uint64_t o2[2] = { x->mid, x->deep };
	uint32_t a2[2] = { 0x1f0003, 0x2 };
	x->p2 = new_process(&s, 0x208, "server.exe", o2, 2, a2);
	struct db_kd_header *h = db_kd_header(s.kd);
	h->ps_active_process_head = s.head;
	h->kd_debugger_data_block = kdbg;
	char *path = strdup("/tmp/icpheap-kmodel-XXXXXX");
	int fd = mkstemp(path);
	close(fd);
	assert_int_equal(db_kd_write_file(s.kd, path), 0);
	db_kd_free(s.kd);
	return path;
}

static void check_model(bool typelist)
{
	struct expect x;
	char *path = build(typelist, &x);
	struct ich_dump *d;
	assert_null(ich_dump_open(path, &d));
	struct ich_kernel *k;
	struct ich_error *err = ich_kernel_open(d, 0, &k);
	if (err)
		fail_msg("%s", err->message);
	assert_int_equal(ich_kernel_process_count(k), 3);
	assert_int_equal(ich_kernel_process(k, 0)->pid, 4);
	assert_string_equal(ich_kernel_process(k, 0)->image, "System");
	assert_int_equal(ich_kernel_process(k, 1)->eprocess, x.p1);
	assert_string_equal(ich_kernel_process(k, 2)->image, "server.exe");
	assert_false(ich_kernel_processes_partial(k));
	assert_int_equal(ich_kernel_type_count(k), 4);
	assert_int_equal(ich_kernel_header_cookie(k), COOKIE);
	const struct ich_ktype *t = ich_kernel_find_type(k, "IoCompletion");
	assert_non_null(t);
	assert_int_equal(t->index, 0x25);
	assert_int_equal(t->list_maintained, typelist);
	struct ich_icp_result *r;
	assert_null(ich_kernel_icpleak(k, true, &r));
	assert_int_equal(r->source, typelist ? ICH_ICP_TYPE_LIST : ICH_ICP_HANDLE_TABLES);
	/* the orphan queue (no handle) is only visible through the type list */
	assert_int_equal(r->nobjects, typelist ? 4 : 3);
	const struct ich_icp_object *top = &r->objects[0];
	assert_int_equal(top->address, x.deep);
	assert_int_equal(top->queued, 300);
	assert_int_equal(top->list_length, 300);
	assert_int_equal(top->maximum, 4);
	assert_int_equal(top->threads, 0);
	assert_string_equal(top->problem, "");
	assert_int_equal(top->nholders, 2);
	bool seen1 = false, seen2 = false;
	for (size_t i = 0; i < top->nholders; i++) {
		if (top->holders[i].pid == 0x1f4) {
			/* entry 300 sits on the second page (entry 0 skipped):
			 * index 301 -> handle 301*4 */
			assert_int_equal(top->holders[i].handle, 301 * 4);
			assert_int_equal(top->holders[i].access, 0x1f0003);
			seen1 = true;
		}
		if (top->holders[i].pid == 0x208) {
			assert_int_equal(top->holders[i].handle, 8);
			assert_int_equal(top->holders[i].access, 0x2);
			seen2 = true;
		}
	}
	assert_true(seen1 && seen2);
	assert_int_equal(r->objects[1].address, x.mid);
	assert_int_equal(r->objects[1].queued, 17);
	const struct ich_icp_object *mm = NULL;
	for (size_t i = 0; i < r->nobjects; i++)
		if (r->objects[i].address == x.mismatch)
			mm = &r->objects[i];
	assert_non_null(mm);
	assert_int_equal(mm->queued, 5);
	assert_int_equal(mm->list_length, 3);
	assert_non_null(strstr(mm->problem, "SignalState says 5"));
	ich_icp_result_free(r);
	ich_kernel_close(k);
	ich_dump_close(d);
	if (getenv("ICH_KEEP_DUMP"))
		printf("kept %s\n", path);	/* for looking at the CLI output */
	else
		unlink(path);
	free(path);
}

static void test_type_list(void **state)
{
	(void)state;
	check_model(true);
}

static void test_handle_tables(void **state)
{
	(void)state;
	check_model(false);
}

/*
 * Benchmark dump (issue: icpleak §4): nproc processes with hpp handles
 * each and nq IoCompletion objects (depth i % 50, one of 5000); typelist
 * selects the route icpleak takes.
 */
static int write_big(const char *path, int nproc, int hpp, int nq, bool typelist)
{
	struct scen s;
	uint64_t kdbg = new_kernel(&s, 5);
	uint64_t *q = calloc((size_t)nq, sizeof(*q));
	for (int i = 0; i < nq; i++)
		q[i] = new_queue(&s, i == nq / 2 ? 5000 : i % 50, i == nq / 2 ? 5000 : i % 50, typelist);
	uint64_t event = new_object(&s, 0x10, 0x18, NULL);
	uint64_t *objs = calloc((size_t)hpp, sizeof(*objs));
	uint32_t *acc = calloc((size_t)hpp, sizeof(*acc));
	for (int p = 0; p < nproc; p++) {
		for (int i = 0; i < hpp; i++) {
			/* every 20th handle is an IoCompletion port */
			objs[i] = i % 20 == 0 ? q[(p * 7 + i) % nq] : event;
			if (i == 1 && p % 500 == 1)
				objs[i] = q[nq / 2];	/* the deep queue has holders */
			acc[i] = 0x1f0003;
		}
		char name[16];
		snprintf(name, sizeof(name), "proc%d.exe", p);
		new_process(&s, p == 0 ? 4 : (uint32_t)(8 + 4 * p), p == 0 ? "System" : name, objs, (size_t)hpp, acc);
	}
	struct db_kd_header *h = db_kd_header(s.kd);
	h->ps_active_process_head = s.head;
	h->kd_debugger_data_block = kdbg;
	int rc = db_kd_write_file(s.kd, path);
	db_kd_free(s.kd);
	free(q);
	free(objs);
	free(acc);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--big"))
		return write_big(argv[2], 2000, 100, 10000, !strcmp(argv[3], "typelist")) ? 1 : 0;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_list),
		cmocka_unit_test(test_handle_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
