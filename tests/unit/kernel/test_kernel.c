/* SPDX-License-Identifier: MIT */
/*
 * Kernel-object walker (src/kernel) against the kobjbuilder scenarios
 * (tests/builder/kernel).  Every value asserted comes from the scenario's
 * .expect file, written by the builder from what it laid out (format: top
 * of tests/builder/kernel/mkkerneldump.c).
 * argv: pairs DMP EXPECT in the order of scenario_names, then a user-mode
 * minidump (must give ICH_ERR_UNSUPPORTED).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <icpheap/dump.h>
#include <icpheap/error.h>
#include <icpheap/kernel.h>

#include "core/grow.h"

static const char *default_names[] = { "x64-19045-full-typelist",
	"x64-19045-bitmap-notypelist", "x64-7601-full", "x86pae-19041-full",
	"x64-19045-corrupt", "x64-19045-kdbg-encoded" };
#define NSCEN (sizeof default_names / sizeof default_names[0])
/* --scenarios NAME DMP EXPECT ...: other kobjbuilder scenarios by name */
#define MAXSCEN 16
static const char *scenario_names[MAXSCEN];
static const char *dmp_path[MAXSCEN], *exp_path[MAXSCEN];
static const char *minidump_path;

struct xtype {
	uint64_t addr;
	uint32_t index, objects, handles;
	char name[64];
	bool list;
};
struct xproc {
	uint64_t ep, dtb, ot, peb, table_code;
	uint32_t pid, ppid;
	char name[16];
	size_t handles;
	unsigned level;
};
struct xhandle {
	uint32_t pid;
	uint64_t value, object, header;
	char type[64];
	uint32_t access, attrs;
};
struct xholder {
	uint32_t pid;
	uint64_t handle;
};
struct xicp {
	uint64_t addr, list;
	uint64_t pool_packets, pool_bytes;	/* icp_pool line */
	char pool_tag[8];
	int32_t queued, maximum, current;
	uint32_t threads;
	bool complete, found;
	size_t hidden;
	struct xholder h[16];
	size_t nh;
};
struct expect {
	char arch[16];
	uint32_t build;
	unsigned cookie;
	bool type_lists, kdbg_encoded, loop;
	uint64_t type_type;
	struct xtype t[64];	size_t nt;
	/* doubling arrays (core/grow.h): the big scenario has 10,000
	 * IoCompletion records of ~330 bytes, which growing by one copied
	 * 16 GB (ASan's realloc always copies: 90 s of the sanitizer run) */
	struct xproc *p;	size_t np, capp;
	struct xhandle *h;	size_t nh, caph;
	struct xicp *q;		size_t nq, capq;
	uint32_t lost_pid;
	size_t lost_count;
	char source[32];
	uint64_t deepest;
	int32_t deepest_queued;
};

static void load(const char *path, struct expect *x)
{
	memset(x, 0, sizeof *x);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char line[8192];
	while (fgets(line, sizeof line, f)) {
		unsigned long long a, b, c, d, e;
		unsigned u1, u2, u3, u4;
		int i1, i2, i3;
		char s1[64], s2[64], s3[64], s4[4096];
		size_t z1;
		if (sscanf(line, "arch %15s", x->arch) == 1)
			continue;
		if (sscanf(line, "build %u", &x->build) == 1)
			continue;
		if (sscanf(line, "cookie 0x%x", &x->cookie) == 1)
			continue;
		if (sscanf(line, "type_lists %63s", s1) == 1) {
			x->type_lists = !strcmp(s1, "yes");
			continue;
		}
		if (sscanf(line, "kdbg 0x%llx %63s", &a, s1) == 2) {
			x->kdbg_encoded = !strcmp(s1, "encoded");
			continue;
		}
		if (sscanf(line, "type_type 0x%llx", &a) == 1) {
			x->type_type = a;
			continue;
		}
		if (sscanf(line, "type 0x%llx index=%u name=%63s objects=%u handles=%u list=%63s",
			   &a, &u1, s1, &u2, &u3, s2) == 6) {
			assert_true(x->nt < 64);
			struct xtype *t = &x->t[x->nt++];
			t->addr = a;
			t->index = u1;
			strcpy(t->name, s1);
			t->objects = u2;
			t->handles = u3;
			t->list = !strcmp(s2, "yes");
			continue;
		}
		if (sscanf(line, "process 0x%llx pid=%u ppid=%u name=\"%15[^\"]\" dtb=0x%llx "
			   "object_table=0x%llx peb=0x%llx handles=%zu table_code=0x%llx level=%u",
			   &a, &u1, &u2, s1, &b, &c, &d, &z1, &e, &u3) == 10) {
			assert_true(ICH_ARRAY_RESERVE(x->p, x->np, x->capp, 64));
			struct xproc *p = &x->p[x->np++];
			p->ep = a;
			p->pid = u1;
			p->ppid = u2;
			strcpy(p->name, s1);
			p->dtb = b;
			p->ot = c;
			p->peb = d;
			p->handles = z1;
			p->table_code = e;
			p->level = u3;
			continue;
		}
		if (sscanf(line, "process_list %63s", s1) == 1) {
			x->loop = !strcmp(s1, "loop");
			continue;
		}
		if (sscanf(line, "handle pid=%u value=0x%llx object=0x%llx header=0x%llx type=%63s "
			   "access=0x%x attributes=%u", &u1, &a, &b, &c, s1, &u2, &u3) == 7) {
			assert_true(ICH_ARRAY_RESERVE(x->h, x->nh, x->caph, 256));
			struct xhandle *h = &x->h[x->nh++];
			h->pid = u1;
			h->value = a;
			h->object = b;
			h->header = c;
			strcpy(h->type, s1);
			h->access = u2;
			h->attrs = u3;
			continue;
		}
		if (sscanf(line, "handles_lost pid=%u page=%u count=%zu", &u1, &u2, &z1) == 3) {
			x->lost_pid = u1;
			x->lost_count = z1;
			continue;
		}
		if (sscanf(line, "icp 0x%llx queued=%d list=%llu complete=%63s maximum=%d current=%d "
			   "threads=%u name=%63s found=%63s hidden_holders=%zu holders=%4095s",
			   &a, &i1, &b, s1, &i2, &i3, &u4, s2, s3, &z1, s4) == 11) {
			assert_true(ICH_ARRAY_RESERVE(x->q, x->nq, x->capq, 64));
			struct xicp *q = &x->q[x->nq++];
			memset(q, 0, sizeof *q);
			q->addr = a;
			q->queued = i1;
			q->list = b;
			q->complete = !strcmp(s1, "yes");
			q->maximum = i2;
			q->current = i3;
			q->threads = u4;
			q->found = !strcmp(s3, "yes");
			q->hidden = z1;
			if (strcmp(s4, "-")) {
				char *save = NULL;
				for (char *tok = strtok_r(s4, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
					assert_true(q->nh < 16);
					assert_int_equal(sscanf(tok, "%u:0x%llx", &u1, &a), 2);
					q->h[q->nh].pid = u1;
					q->h[q->nh++].handle = a;
				}
			}
			continue;
		}
		{
			unsigned long long pk, by;
			char tag[8];
			if (sscanf(line, "icp_pool 0x%llx packets=%llu bytes=%llu tag=%7s", &a, &pk, &by, tag) == 4) {
				for (size_t q = 0; q < x->nq; q++)
					if (x->q[q].addr == a) {
						x->q[q].pool_packets = pk;
						x->q[q].pool_bytes = by;
						strcpy(x->q[q].pool_tag, tag);
					}
				continue;
			}
		}
		if (sscanf(line, "icpleak source=%31s deepest=0x%llx queued=%d", x->source, &a, &i1) == 3) {
			x->deepest = a;
			x->deepest_queued = i1;
			continue;
		}
	}
	fclose(f);
}

static void free_expect(struct expect *x)
{
	free(x->p);
	free(x->h);
	free(x->q);
}

static const struct xtype *xtype_by_name(const struct expect *x, const char *name)
{
	for (size_t i = 0; i < x->nt; i++)
		if (!strcmp(x->t[i].name, name))
			return &x->t[i];
	return NULL;
}

struct got {
	struct ich_khandle *h;
	size_t n, cap;
};

static struct ich_error *collect(const struct ich_kprocess *p, const struct ich_khandle *h, void *arg)
{
	(void)p;
	struct got *g = arg;
	assert_true(ICH_ARRAY_RESERVE(g->h, g->n, g->cap, 256));
	g->h[g->n++] = *h;
	return NULL;
}

static void print_diag(struct ich_kernel *k)
{
	for (size_t i = 0; i < ich_kernel_note_count(k); i++)
		print_message("  note: %s\n", ich_kernel_note(k, i));
	for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
		print_message("  warning: %s\n", ich_kernel_warning(k, i));
}

static void check_processes(struct ich_kernel *k, const struct expect *x)
{
	size_t n = ich_kernel_process_count(k);
	if (n != x->np)
		print_diag(k);
	assert_int_equal(n, x->np);
	for (size_t i = 0; i < n; i++) {
		const struct ich_kprocess *p = ich_kernel_process(k, i);
		const struct xproc *e = &x->p[i];
		assert_int_equal(p->eprocess, e->ep);
		assert_int_equal(p->pid, e->pid);
		assert_int_equal(p->ppid, e->ppid);
		assert_string_equal(p->image, e->name);
		assert_int_equal(p->dtb, e->dtb);
		assert_int_equal(p->object_table, e->ot);
		assert_int_equal(p->peb, e->peb);
	}
	assert_int_equal(ich_kernel_processes_partial(k), x->loop);
}

static void check_types(struct ich_kernel *k, const struct expect *x)
{
	if (x->build >= 10000)
		assert_int_equal(ich_kernel_header_cookie(k), x->cookie);
	size_t n = ich_kernel_type_count(k);
	if (n != x->nt)
		print_diag(k);
	assert_int_equal(n, x->nt);
	for (size_t i = 0; i < x->nt; i++) {
		const struct xtype *e = &x->t[i];
		const struct ich_ktype *t = ich_kernel_find_type(k, e->name);
		if (!t)
			fail_msg("type %s not found", e->name);
		assert_int_equal(t->address, e->addr);
		assert_int_equal(t->index, e->index);
		assert_int_equal(t->objects, e->objects);
		assert_int_equal(t->handles, e->handles);
		assert_int_equal(t->list_maintained, e->list);
		assert_ptr_equal(ich_kernel_type_by_index(k, e->index), t);
	}
	const struct ich_ktype *tt = ich_kernel_find_type(k, "Type");
	assert_non_null(tt);
	assert_int_equal(tt->address, x->type_type);
}

static void check_handles(struct ich_kernel *k, const struct expect *x)
{
	bool attrs_known = !strcmp(x->arch, "x64") && x->build >= 9600;
	for (size_t i = 0; i < ich_kernel_process_count(k); i++) {
		const struct ich_kprocess *p = ich_kernel_process(k, i);
		const struct xproc *e = &x->p[i];
		struct got g = { 0 };
		bool partial = false;
		struct ich_error *err = ich_kernel_walk_handles(k, p, collect, &g, &partial);
		if (err)
			fail_msg("pid %u: %s", p->pid, err->message);
		assert_int_equal(partial, x->lost_count && p->pid == x->lost_pid);
		if (g.n != e->handles)
			fail_msg("pid %u: %zu handles, expected %zu", p->pid, g.n, e->handles);
		/* every expected handle of this pid, by value */
		size_t seen = 0;
		for (size_t j = 0; j < x->nh; j++) {
			const struct xhandle *xh = &x->h[j];
			if (xh->pid != p->pid)
				continue;
			seen++;
			const struct ich_khandle *h = NULL;
			for (size_t m = 0; m < g.n && !h; m++)
				if (g.h[m].handle == xh->value)
					h = &g.h[m];
			if (!h)
				fail_msg("pid %u: handle 0x%llx not reported", p->pid,
					 (unsigned long long)xh->value);
			assert_int_equal(h->object, xh->object);
			assert_int_equal(h->header, xh->header);
			const struct xtype *t = xtype_by_name(x, xh->type);
			assert_non_null(t);
			assert_int_equal(h->type_index, t->index);
			assert_int_equal(h->access, xh->access);
			if (attrs_known)
				assert_int_equal(h->attributes, xh->attrs);
		}
		if (x->nh)	/* big: counts only */
			assert_int_equal(seen, e->handles);
		free(g.h);
	}
}

static void check_icpleak(struct ich_kernel *k, const struct expect *x, bool corrupt)
{
	struct ich_icp_result *r = NULL;
	struct ich_error *err = ich_kernel_icpleak(k, true, &r);
	if (err) {
		print_diag(k);
		fail_msg("icpleak: %s", err->message);
	}
	assert_non_null(r);
	assert_non_null(r->type);
	assert_string_equal(r->type->name, "IoCompletion");
	assert_int_equal(r->type->address, xtype_by_name(x, "IoCompletion")->addr);
	assert_string_equal(ich_icp_source_name(r->source), x->source);
	assert_int_equal(r->source, x->type_lists ? ICH_ICP_TYPE_LIST : ICH_ICP_HANDLE_TABLES);
	size_t nfound = 0;
	for (size_t i = 0; i < x->nq; i++)
		nfound += x->q[i].found;
	assert_int_equal(r->nobjects, nfound);
	assert_true(r->nobjects > 0);
	assert_int_equal(r->objects[0].address, x->deepest);
	assert_int_equal(r->objects[0].queued, x->deepest_queued);
	for (size_t i = 1; i < r->nobjects; i++)
		assert_true(r->objects[i - 1].queued >= r->objects[i].queued);
	assert_int_equal(r->holders_complete, !corrupt);
	for (size_t i = 0; i < x->nq; i++) {
		const struct xicp *e = &x->q[i];
		const struct ich_icp_object *o = NULL;
		for (size_t j = 0; j < r->nobjects && !o; j++)
			if (r->objects[j].address == e->addr)
				o = &r->objects[j];
		if (!e->found) {
			assert_null(o);
			continue;
		}
		if (!o)
			fail_msg("IoCompletion 0x%llx not reported", (unsigned long long)e->addr);
		assert_int_equal(o->queued, e->queued);
		assert_int_equal(o->maximum, e->maximum);
		assert_int_equal(o->current, e->current);
		assert_int_equal(o->threads, e->threads);
		assert_int_equal(o->list_complete, e->complete);
		if (e->complete && e->pool_tag[0]) {
			/* pool bytes from the packets' pool headers = the
			 * builder's pool blocks of the reachable packets */
			assert_int_equal(o->pool_bytes, e->pool_bytes);
			assert_int_equal(o->pool_blocks, e->pool_packets);
			assert_int_equal(o->pool_unknown, 0);
			if (e->pool_packets) {
				assert_string_equal(o->pool_tag, e->pool_tag);
				assert_false(o->pool_tags_mixed);
			}
		}
		if (e->complete) {
			assert_int_equal(o->list_length, e->list);
			/* SignalState disagreeing with the list is reported */
			if ((uint64_t)(int64_t)e->queued != e->list)
				assert_true(o->problem[0] != 0);
			else
				assert_string_equal(o->problem, "");
		} else {
			assert_true(o->problem[0] != 0);
		}
		if (o->nholders != e->nh)
			fail_msg("IoCompletion 0x%llx: %zu holders, expected %zu",
				 (unsigned long long)e->addr, o->nholders, e->nh);
		for (size_t h = 0; h < e->nh; h++) {
			bool ok = false;
			for (size_t m = 0; m < o->nholders; m++)
				if (o->holders[m].pid == e->h[h].pid && o->holders[m].handle == e->h[h].handle)
					ok = true;
			if (!ok)
				fail_msg("IoCompletion 0x%llx: holder %u:0x%llx missing",
					 (unsigned long long)e->addr, e->h[h].pid,
					 (unsigned long long)e->h[h].handle);
		}
	}
	ich_icp_result_free(r);
}

static void open_kernel(size_t s, struct expect *x, struct ich_dump **d, struct ich_kernel **k)
{
	load(exp_path[s], x);
	struct ich_error *err = ich_dump_open(dmp_path[s], d);
	if (err)
		fail_msg("%s: %s", dmp_path[s], err->message);
	err = ich_kernel_open(*d, 0, k);
	/* x86pae-19041-full writes the KDDEBUGGER_DATA64 pointer fields
	 * sign-extended (0xFFFFFFFF8xxxxxxx); layouts.md section 7 marks x86
	 * use of KDDEBUGGER_DATA64 as unsure, so the walker keeps the low 32
	 * bits on x86 (resolved disagreement). */
	if (err)
		fail_msg("%s: ich_kernel_open: %s", scenario_names[s], err->message);
}

static void test_scenario(void **state)
{
	size_t s = *(size_t *)*state;
	struct expect x;
	struct ich_dump *d = NULL;
	struct ich_kernel *k = NULL;
	open_kernel(s, &x, &d, &k);
	bool corrupt = strstr(scenario_names[s], "corrupt") != NULL;
	check_processes(k, &x);
	if (x.kdbg_encoded) {
		/* KDBG not decodable without symbols: the process list comes
		 * from the dump header; types and !icpleak may be unavailable,
		 * but whatever is reported must match. */
		if (ich_kernel_type_count(k) > 0) {
			check_types(k, &x);
			check_handles(k, &x);
			check_icpleak(k, &x, corrupt);
		} else {
			assert_true(ich_kernel_warning_count(k) > 0);
			struct ich_icp_result *r = NULL;
			struct ich_error *err = ich_kernel_icpleak(k, true, &r);
			if (err)
				ich_error_destroy(err);
			else
				ich_icp_result_free(r);
		}
	} else {
		check_types(k, &x);
		check_handles(k, &x);
		check_icpleak(k, &x, corrupt);
	}
	if (corrupt)
		assert_true(ich_kernel_warning_count(k) > 0);
	/* x64-26100-shifted: every EPROCESS field 0x40 past the 26100 row;
	 * the processes above matched the builder's only because the walker
	 * found the true EPROCESS by its object header and said so */
	bool shifted = strstr(scenario_names[s], "shifted") != NULL, said = false;
	for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
		said |= strstr(ich_kernel_warning(k, i), "taken as moved by +64 bytes") != NULL;
	assert_int_equal(said, shifted);
	ich_kernel_close(k);
	ich_dump_close(d);
	free_expect(&x);
}

static void test_minidump_unsupported(void **state)
{
	(void)state;
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(minidump_path, &d);
	assert_null(err);
	struct ich_kernel *k = NULL;
	err = ich_kernel_open(d, 0, &k);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_UNSUPPORTED);
	assert_null(k);
	ich_error_destroy(err);
	ich_dump_close(d);
}

/* The real triage dump has no physical memory: either ich_kernel_open fails
 * or it opens with warnings (partial process list) and !icpleak fails with a
 * clear message -- never a crash. */
static void test_real_triage(void **state)
{
	(void)state;
	struct ich_dump *d = NULL;
	struct ich_error *err = ich_dump_open(REAL_DIR "/rizinorg__rizin-testbins__triage_x64.dmp", &d);
	if (err) {
		assert_non_null(err->message);
		ich_error_destroy(err);
		return;
	}
	struct ich_kernel *k = NULL;
	err = ich_kernel_open(d, 0, &k);
	if (err) {
		assert_true(strlen(err->message) > 10);
		print_message("  triage dump: %s: %s\n", ich_error_code_name(err->code), err->message);
		ich_error_destroy(err);
		ich_dump_close(d);
		return;
	}
	assert_true(ich_kernel_warning_count(k) > 0);
	assert_true(ich_kernel_processes_partial(k));
	struct ich_icp_result *r = NULL;
	err = ich_kernel_icpleak(k, true, &r);
	assert_non_null(err);
	assert_true(strlen(err->message) > 10);
	print_message("  triage dump: %s: %s\n", ich_error_code_name(err->code), err->message);
	ich_error_destroy(err);
	ich_kernel_close(k);
	ich_dump_close(d);
}

/* big: 2,000 processes, 200,000 handles, 10,000 queues (argv: --big DMP EXPECT) */
static const char *big_dmp, *big_exp;

static void test_big(void **state)
{
	(void)state;
	struct expect x;
	load(big_exp, &x);
	struct ich_dump *d = NULL;
	struct ich_kernel *k = NULL;
	struct ich_error *err = ich_dump_open(big_dmp, &d);
	if (err)
		fail_msg("%s", err->message);
	err = ich_kernel_open(d, 0, &k);
	if (err)
		fail_msg("%s", err->message);
	check_processes(k, &x);
	check_handles(k, &x);	/* per-process counts (no handle lines) */
	check_icpleak(k, &x, false);
	ich_kernel_close(k);
	ich_dump_close(d);
	free_expect(&x);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--big")) {
		big_dmp = argv[2];
		big_exp = argv[3];
		const struct CMUnitTest big[] = { cmocka_unit_test(test_big) };
		return cmocka_run_group_tests_name("kernel-big", big, NULL, NULL);
	}
	if (argc >= 5 && !strcmp(argv[1], "--scenarios") && (argc - 2) % 3 == 0 &&
	    (argc - 2) / 3 <= MAXSCEN) {
		size_t n = (size_t)(argc - 2) / 3;
		static size_t nidx[MAXSCEN];
		struct CMUnitTest named[MAXSCEN];
		for (size_t i = 0; i < n; i++) {
			scenario_names[i] = argv[2 + 3 * i];
			dmp_path[i] = argv[3 + 3 * i];
			exp_path[i] = argv[4 + 3 * i];
			nidx[i] = i;
			named[i] = (struct CMUnitTest){ scenario_names[i], test_scenario, NULL, NULL, &nidx[i] };
		}
		return _cmocka_run_group_tests("kernel-scenarios", named, n, NULL, NULL);
	}
	if (argc != 2 + 2 * (int)NSCEN) {
		fprintf(stderr, "usage: %s (DMP EXPECT)x%zu MINIDUMP\n", argv[0], NSCEN);
		return 2;
	}
	static size_t idx[NSCEN];
	struct CMUnitTest tests[NSCEN + 2];
	for (size_t i = 0; i < NSCEN; i++) {
		scenario_names[i] = default_names[i];
		dmp_path[i] = argv[1 + 2 * i];
		exp_path[i] = argv[2 + 2 * i];
		idx[i] = i;
		tests[i] = (struct CMUnitTest){ scenario_names[i], test_scenario, NULL, NULL, &idx[i] };
	}
	minidump_path = argv[1 + 2 * NSCEN];
	tests[NSCEN] = (struct CMUnitTest)cmocka_unit_test(test_minidump_unsupported);
	tests[NSCEN + 1] = (struct CMUnitTest)cmocka_unit_test(test_real_triage);
	return _cmocka_run_group_tests("kernel", tests, NSCEN + 2, NULL, NULL);
}
