/* SPDX-License-Identifier: MIT */
/*
 * kobjbuilder scenarios (see README.md in this folder for what each holds).
 *
 * Object type indices: L8 leaves them ❓ ("object-type index numbers of
 * Type/IoCompletion per build" is an open item).  The values below are the
 * ones commonly shown by `!object \ObjectTypes` on those builds (quoted
 * from memory of public listings, not from a cited source); the walker
 * must find them by name through the Type type's list, so only their
 * consistency inside a dump matters.
 */
#include "../db_internal.h"
#include "kobjbuilder.h"
#include "kb_segheap.h"
#include "ntheapbuilder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct idx {
	uint32_t type, directory, token, job, process, thread, event, mutant,
		 iocompletion, file;
};
/* 19041-19045 (x64 and x86) */
static const struct idx idx_19041 = { 2, 3, 5, 6, 7, 8, 0x10, 0x11, 0x23, 0x25 };
/* 7600/7601 */
static const struct idx idx_7601 = { 2, 3, 5, 6, 7, 8, 0x0C, 0x0E, 0x1B, 0x1C };

struct types {
	int type, directory, token, job, process, thread, event, mutant, iocompletion, file;
};

static void make_types(struct kb *b, const struct idx *ix, struct types *t)
{
	t->type = kb_type(b, "Type", ix->type);
	t->directory = kb_type(b, "Directory", ix->directory);
	t->token = kb_type(b, "Token", ix->token);
	t->job = kb_type(b, "Job", ix->job);
	t->process = kb_type(b, "Process", ix->process);
	t->thread = kb_type(b, "Thread", ix->thread);
	t->event = kb_type(b, "Event", ix->event);
	t->mutant = kb_type(b, "Mutant", ix->mutant);
	t->iocompletion = kb_type(b, "IoCompletion", ix->iocompletion);
	t->file = kb_type(b, "File", ix->file);
}

/* Body sizes (not in L except KQUEUE; allocation sizes only). */
static uint32_t sz_thread(bool x64) { return x64 ? 0x898 : 0x3C0; }
static uint32_t sz_event(bool x64) { return x64 ? 0x18 : 0x10; }	/* KEVENT */
static uint32_t sz_file(bool x64) { return x64 ? 0xD8 : 0x80; }	/* FILE_OBJECT */
static uint32_t sz_mutant(bool x64) { return x64 ? 0x38 : 0x20; }

/* access masks (winnt.h) */
#define PROCESS_ALL_ACCESS	0x1FFFFFu
#define PROCESS_QUERY_LIMITED	0x1000u
#define THREAD_ALL_ACCESS	0x1FFFFFu
#define EVENT_ALL_ACCESS	0x1F0003u
#define EVENT_MODIFY_SYNC	0x100002u
#define FILE_GENERIC_RW		0x12019Fu
#define MUTANT_ALL_ACCESS	0x1F0001u
#define IOCP_ALL_ACCESS		0x1F0003u
#define IOCP_MODIFY_STATE	0x000002u

struct pdef {
	uint32_t pid, ppid;
	const char *name;
	unsigned threads, events, files;
};

static const struct pdef std_procs[] = {
	{ 4, 0, "System", 4, 6, 3 },
	{ 388, 4, "smss.exe", 2, 3, 1 },
	{ 508, 496, "csrss.exe", 3, 8, 2 },
	{ 580, 496, "wininit.exe", 2, 4, 1 },
	{ 712, 580, "services.exe", 3, 12, 2 },
	{ 728, 580, "lsass.exe", 4, 14, 3 },
	{ 868, 712, "svchost.exe", 5, 20, 4 },
	{ 1012, 712, "svchost.exe", 3, 9, 2 },
	{ 3920, 712, "SearchIndexer.exe", 6, 16, 5 },	/* 17 chars: cut to 15 */
	{ 6840, 5216, "leakysrv.exe", 2, 300, 2 },	/* > 255 handles: level 1 (x86: 600) */
	{ 7012, 6840, "iocpclient.exe", 2, 5, 1 },
	{ 4480, 4412, "explorer.exe", 8, 25, 6 },
};
#define NSTD (sizeof std_procs / sizeof std_procs[0])

enum { P_SYSTEM, P_SMSS, P_CSRSS, P_WININIT, P_SERVICES, P_LSASS, P_SVC1, P_SVC2,
       P_SEARCH, P_LEAKY, P_CLIENT, P_EXPLORER };

static int find_proc(const int *procs, uint32_t pid)
{
	for (size_t i = 0; i < NSTD; i++)
		if (std_procs[i].pid == pid)
			return procs[i];
	return -1;
}

/* The standard set: 12 processes, ~500 handles, IoCompletion objects of
 * depth 0, 3, 17, 250, 5000 (deepest, two holders), 7 with SignalState 9
 * (mismatch), 3 with no handle (type lists only) and 1 named. */
static void std_scenario(struct kb *b, const struct idx *ix, bool x64, bool corrupt)
{
	struct types t;
	make_types(b, ix, &t);
	int procs[NSTD];
	for (size_t i = 0; i < NSTD; i++)
		procs[i] = kb_process(b, std_procs[i].pid, std_procs[i].ppid, std_procs[i].name);
	/* Per-process objects: threads, events, files, a token; handles to
	 * them and to the parent process. */
	for (size_t i = 0; i < NSTD; i++) {
		const struct pdef *d = &std_procs[i];
		int p = procs[i];
		int tok = kb_object(b, t.token, x64 ? 0x4A0 : 0x2C0, 0, NULL, 0xFF);
		kb_handle(b, p, tok, 0x8, 0);
		for (unsigned k = 0; k < d->threads; k++) {
			int th = kb_object(b, t.thread, sz_thread(x64), 0, NULL, 6);
			kb_handle(b, p, th, THREAD_ALL_ACCESS, 0);
		}
		int par = find_proc(procs, d->ppid);
		if (par >= 0)
			kb_handle(b, p, kb_process_object(b, par), PROCESS_QUERY_LIMITED, 0);
		for (unsigned k = 0; k < d->files; k++) {
			int fo = kb_object(b, t.file, sz_file(x64), 0, NULL, 5);
			kb_handle(b, p, fo, FILE_GENERIC_RW, 0);
		}
		if (i == P_SVC1)
			kb_handle_gap(b, p, 5);	/* closed handles: free entries */
		/* x86 has 512 entries a page: leakysrv needs > 511 handles there */
		unsigned nev = (!x64 && i == P_LEAKY) ? 600 : d->events;
		for (unsigned k = 0; k < nev; k++) {
			int ev = kb_object(b, t.event, sz_event(x64), k % 7 == 3 ? 0x08 : 0,
					   NULL, (uint8_t)(k & 1));
			kb_handle(b, p, ev, k % 2 ? EVENT_MODIFY_SYNC : EVENT_ALL_ACCESS,
				  (x64 && k % 5 == 2) ? 2u : 0u);
		}
		if (i == P_CSRSS || i == P_SERVICES) {
			int mu = kb_object(b, t.mutant, sz_mutant(x64), 0x02, "SM0:508:304:WilStaging_02", 2);
			kb_handle(b, p, mu, MUTANT_ALL_ACCESS, 0);
		}
	}
	/* System holds full-access handles to smss and csrss. */
	kb_handle(b, procs[P_SYSTEM], kb_process_object(b, procs[P_SMSS]), PROCESS_ALL_ACCESS, 0);
	kb_handle(b, procs[P_SYSTEM], kb_process_object(b, procs[P_CSRSS]), PROCESS_ALL_ACCESS, 0);

	int ic = t.iocompletion;
	int qa = kb_iocompletion(b, ic, 0, 0, 4, 2, NULL);
	int qb = kb_iocompletion(b, ic, 3, 0, 2, 0, NULL);
	int qc = kb_iocompletion(b, ic, 17, 0, 0, 1, "IocpSharedPort");
	int qd = kb_iocompletion(b, ic, 250, 0, 8, 4, NULL);
	int qe = kb_iocompletion(b, ic, 5000, 0, 8, 3, NULL);
	int qf = kb_iocompletion(b, ic, 7, 2, 1, 0, NULL);	/* SignalState 9, list 7 */
	(void)kb_iocompletion(b, ic, 3, 0, 2, 0, NULL);	/* no handle */
	kb_handle(b, procs[P_SVC1], qa, IOCP_ALL_ACCESS, 0);
	kb_handle(b, procs[P_EXPLORER], qa, IOCP_ALL_ACCESS, 0);
	kb_handle(b, procs[P_LSASS], qb, IOCP_ALL_ACCESS, 0);
	kb_handle(b, procs[P_SVC2], qc, IOCP_ALL_ACCESS, 0);
	kb_handle(b, procs[P_SERVICES], qc, IOCP_MODIFY_STATE, 0);
	kb_handle(b, procs[P_SEARCH], qd, IOCP_ALL_ACCESS, 0);
	kb_handle(b, procs[P_LEAKY], qe, IOCP_ALL_ACCESS, 0);	/* index > 300: page 1 */
	kb_handle(b, procs[P_CLIENT], qe, IOCP_MODIFY_STATE, 0);
	kb_handle(b, procs[P_EXPLORER], qf, IOCP_ALL_ACCESS, 0);
	if (corrupt) {
		int qh = kb_iocompletion(b, ic, 20, 0, 2, 0, NULL);
		int qi = kb_iocompletion(b, ic, 12, 0, 2, 0, NULL);
		kb_handle(b, procs[P_SVC1], qh, IOCP_ALL_ACCESS, 0);
		kb_handle(b, procs[P_LSASS], qi, IOCP_ALL_ACCESS, 0);
		kb_corrupt_icp_list(b, qh, 10, -1);	/* packet 10 -> unmapped */
		kb_corrupt_icp_list(b, qi, 11, 3);	/* packet 11 -> packet 3: cycle */
		kb_corrupt_process_loop(b, procs[P_LEAKY], procs[P_LSASS]);
		kb_corrupt_handle_page(b, procs[P_LEAKY], 0);
	}
}

/* ---- processes with user-mode heaps (complete / kernel+user dumps) ----
 * The heaps are the ntheap builder's (tests/builder/ntheap, nhb_write_process),
 * written into the process's own address space; every committed range is
 * mapped with fresh frames. */
/* Heaps of layout (ntheap builder name) in proc's space; wow: the 32-bit
 * PEB is reached through EPROCESS.WoW64Process, EPROCESS.Peb is a PEB64
 * address with nothing behind it. */
static uint64_t heap_process(struct kb *b, int proc, const char *layout, bool wow, unsigned runb,
			     FILE *hx)
{
	struct db_kd *kd = kb_kd(b);
	struct db_kd_space mc = { kd, kb_process_dtb(b, proc) };
	struct db_mem *m = db_kd_view(kd, mc.dtb);
	fprintf(hx, "process pid=%u layout=%s wow64=%d\n", kb_process_pid(b, proc), layout, wow);
	db_kd_set_automap(kd, true);
	uint64_t peb = nhb_write_process(m, layout, hx, runb, db_kd_map_range_cb, &mc);
	db_kd_set_automap(kd, false);
	if (!peb)
		abort();
	if (wow) {
		kb_process_set_peb(b, proc, 0x7F030000);
		kb_process_set_wow64(b, proc, peb);
	} else {
		kb_process_set_peb(b, proc, peb);
	}
	return peb;
}

/* Page states in heap 0's run B (0xA70000..., about 0x7000 bytes of
 * blocks with 150 blocks): a transition page (still in RAM: must read),
 * a paged-out page and a demand-zero page (both unreadable; the walk
 * must name them and find the chain again on the next page).  The
 * demand-zero page holding heap headers is artificial (a real one was
 * never touched); it exercises the reason, not a real-world case. */
static void page_states(struct kb *b, int proc, FILE *hx)
{
	struct db_kd *kd = kb_kd(b);
	uint64_t dtb = kb_process_dtb(b, proc);
	uint64_t tr = 0xA71000, po = 0xA73000, dz = 0xA75000;
	/* PageFileHigh: bits 32-63 (x64, PAE), bits 12-31 (non-PAE x86)
	 * (Windows Internals 7th ed. part 1 ch. 5, "Invalid PTEs") */
	const struct db_kd_header *kh = db_kd_header(kd);
	uint64_t pf = kh->machine_image_type == 0x14C && !kh->pae_enabled ? 0x2C1ull << 12 : 0x2C1ull << 32;
	if (db_kd_make_transition(kd, dtb, tr) || db_kd_make_paged_out(kd, dtb, po, pf | (4u << 5)) ||
	    db_kd_make_paged_out(kd, dtb, dz, 4u << 5)) {
		fprintf(stderr, "kobjbuilder: page states: %s\n", db_error());
		abort();
	}
	fprintf(hx, "transition page=0x%llx\n", (unsigned long long)tr);
	fprintf(hx, "unreadable page=0x%llx why=paged_out\n", (unsigned long long)po);
	fprintf(hx, "unreadable page=0x%llx why=demand_zero\n", (unsigned long long)dz);
}

/* The standard set plus heapapp.exe 5100 (native heaps, with page states)
 * and, on x64, wowapp.exe 5200 (WOW64, x86 heaps); returns heapapp's
 * process index. */
static int heaps_scenario(struct kb *b, bool x64, bool states, FILE *hx)
{
	std_scenario(b, &idx_19041, x64, false);
	int app = kb_process(b, 5100, 4480, "heapapp.exe");
	uint64_t peb = heap_process(b, app, x64 ? "x64-19045" : "x86-19045", false, 150, hx);
	if (states)
		page_states(b, app, hx);
	if (x64)
		kb_add_segment_heaps(b, app, peb, states, hx);	/* kb_segheap.c */
	if (x64)
		kb_process_set_pcid(b, app, 0x5);	/* the walker must mask it */
	if (x64) {
		int wow = kb_process(b, 5200, 4480, "wowapp.exe");
		uint64_t peb32 = heap_process(b, wow, "x86-19045", true, 0, hx);
		kb_add_ldr32(b, wow, peb32, hx);	/* kb_segheap.c */
	}
	return app;
}

/* A hostile page table in heapapp.exe's space (pid 5100): PML4 entry 8
 * (user VA 0x400`00000000, above its heaps) -> a PDPT whose 512 entries are all 1 GiB
 * user pages (PS) at physical 0 -- 512 GiB of "present" user memory
 * that is one 1 GiB frame range (Intel SDM vol. 3 4.5: a PDPTE with
 * PS=1 maps a 1 GiB page).  The 24H2 scan for heaps beyond
 * PEB.ProcessHeaps (src/heap/heap_find.c) reads one address per 64 KiB
 * of the process's present user ranges: 2^23 here, past its bound of
 * 2^22, where it must stop and say so (heaps line "note"). */
static void huge_user_range(struct kb *b, int app, FILE *hx)
{
	struct db_kd *kd = kb_kd(b);
	uint64_t pml4 = kb_process_dtb(b, app) & ~0xFFFull;
	uint64_t pdpt_pfn = db_kd_alloc_frame(kd);
	if (pdpt_pfn == UINT64_MAX)
		abort();
	uint8_t e[8];
	for (unsigned i = 0; i < 512; i++) {
		db_put64(e, 0x0ull | 0x1 | 0x2 | 0x4 | 0x80);	/* P RW US PS, frame 0 */
		db_kd_phys_write(kd, (pdpt_pfn << 12) + i * 8, e, 8);
	}
	db_put64(e, (pdpt_pfn << 12) | 0x1 | 0x2 | 0x4);
	db_kd_phys_write(kd, pml4 + 8 * 8, e, 8);
	fprintf(hx, "note pid=%u the scan for heaps beyond PEB.ProcessHeaps stopped after 4194304 addresses\n", kb_process_pid(b, app));
}

/* Benchmark: nproc processes (System + bench%04d.exe), each with one big
 * heap of nblocks blocks (ntheap builder's "big" heap); .expect as usual,
 * heap lines to hx. */
static void bench_heaps_scenario(struct kb *b, unsigned nproc, unsigned long nblocks, bool scatter, FILE *hx)
{
	struct types t;
	make_types(b, &idx_19041, &t);
	kb_process(b, 4, 0, "System");
	char name[32];
	for (unsigned i = 1; i < nproc; i++) {
		snprintf(name, sizeof name, "bench%04u.exe", i);
		int p = kb_process(b, 1000 + 4 * i, 4, name);
		struct db_kd *kd = kb_kd(b);
		struct db_kd_space mc = { kd, kb_process_dtb(b, p) };
		fprintf(hx, "process pid=%u layout=x64-19045 wow64=0\n", 1000 + 4 * i);
		db_kd_set_automap(kd, true);
		db_kd_set_scatter(kd, scatter ? 0x5CA77E5u + i : 0);
		uint64_t peb = nhb_write_big_process(db_kd_view(kd, mc.dtb), nblocks, hx, db_kd_map_range_cb, &mc);
		db_kd_set_scatter(kd, 0);
		db_kd_set_automap(kd, false);
		kb_process_set_peb(b, p, peb);
	}
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* 2,000 processes, 200,000 handles, 10,000 IoCompletion objects. */
static void big_scenario(struct kb *b)
{
	struct types t;
	make_types(b, &idx_19041, &t);
	enum { NP = 2000, NQ = 10000, NFILES = 4000, PER = 100 };
	static int procs[NP];
	char name[32];
	uint32_t s = 42;
	for (int i = 0; i < NP; i++) {
		if (i == 0) {
			procs[i] = kb_process(b, 4, 0, "System");
			continue;
		}
		snprintf(name, sizeof name, "worker%04d.exe", i);
		procs[i] = kb_process(b, 400 + 4u * (uint32_t)i, i < 10 ? 4 : 400 + 4u * (uint32_t)(i / 10),
				      name);
	}
	static unsigned count[NP];
	for (int q = 0; q < NQ; q++) {
		uint32_t depth = q == 7777 ? 5000 : lcg(&s) % 40;
		int o = kb_iocompletion(b, t.iocompletion, depth, 0, (int32_t)(lcg(&s) % 8), lcg(&s) % 3, NULL);
		int owner = 1 + q % (NP - 1);
		if (q == 7777)
			owner = 1500;
		kb_handle(b, procs[owner], o, IOCP_ALL_ACCESS, 0);
		count[owner]++;
		if (q % 5 == 0 || q == 7777) {
			int second = q == 7777 ? 1501 : 1 + (owner + 17) % (NP - 1);
			kb_handle(b, procs[second], o, IOCP_MODIFY_STATE, 0);
			count[second]++;
		}
	}
	static int files[NFILES];
	for (int f = 0; f < NFILES; f++)
		files[f] = kb_object(b, t.file, sz_file(true), 0, NULL, 5);
	for (int i = 0; i < NP; i++) {
		int p = procs[i];
		unsigned k = 0;
		while (count[i] < PER) {
			if (k++ % 2) {
				int ev = kb_object(b, t.event, sz_event(true), 0, NULL, 1);
				kb_handle(b, p, ev, EVENT_ALL_ACCESS, 0);
			} else {
				kb_handle(b, p, files[lcg(&s) % NFILES], FILE_GENERIC_RW, 0);
			}
			count[i]++;
		}
	}
}

int kb_build_scenario(const char *name, const char *dmp, const char *expect)
{
	return kb_build_scenario_heaps(name, dmp, expect, NULL);
}

int kb_build_scenario_heaps(const char *name, const char *dmp, const char *expect,
			    const char *heaps)
{
	struct kb_opts o = { .cookie = 0x5A, .type_lists = true, .seed = 0x1234567u };
	struct kb *b = NULL;
	struct { enum db_kd_arch arch; uint32_t type, sig; bool heaps; } k32;
	bool want_heaps = strstr(name, "-heaps") != NULL || !strncmp(name, "bench-heaps", 11);
	if (want_heaps != (heaps != NULL)) {
		fprintf(stderr, "kobjbuilder: scenario %s %s a heaps output file\n", name,
			want_heaps ? "needs" : "has no");
		return -1;
	}
	FILE *hx = NULL;
	if (heaps && !(hx = fopen(heaps, "w"))) {
		perror(heaps);
		return -1;
	}
	if (hx)
		fprintf(hx, "# kobjbuilder %s: processes' heaps (tests/builder/ntheap/README.md format per process)\n", name);
	if (!strcmp(name, "x64-19045-full-heaps")) {
		o.seed = 5100;
		b = kb_new(DB_KD_X64, 19045, DB_KD_FULL, &o, name);
		heaps_scenario(b, true, true, hx);
	} else if (!strcmp(name, "x64-26100-full-heaps")) {
		/* 24H2: the x64 heaps scenario on the 26100 EPROCESS, the second
		 * segment heap not in PEB.ProcessHeaps (kb_segheap.c) */
		o.seed = 26102;
		b = kb_new(DB_KD_X64, 26100, DB_KD_FULL, &o, name);
		heaps_scenario(b, true, true, hx);
	} else if (!strcmp(name, "x64-26100-full-heaps-hugeuser")) {
		/* the same, and 512 GiB of hostile 1 GiB user pages (huge_user_range) */
		o.seed = 26102;
		b = kb_new(DB_KD_X64, 26100, DB_KD_FULL, &o, name);
		huge_user_range(b, heaps_scenario(b, true, true, hx), hx);
	} else if (!strcmp(name, "x64-19045-rdmp-heaps")) {
		o.seed = 5109;
		b = kb_new(DB_KD_X64, 19045, DB_KD_RDMP_KERNEL_USER, &o, name);
		heaps_scenario(b, true, false, hx);
	} else if (!strcmp(name, "x86pae-19041-full-heaps")) {
		o.cookie = 0xC3;
		o.seed = 5186;
		b = kb_new(DB_KD_X86_PAE, 19041, DB_KD_FULL, &o, name);
		heaps_scenario(b, false, true, hx);
	} else if (kb_kind32(name, &k32.arch, &k32.type, &k32.sig, &k32.heaps)) {
		/* the two scenarios above as 32-bit bitmap / RDMP files */
		o.cookie = 0xC3;
		o.seed = k32.heaps ? 5186 : 86;
		b = kb_new(k32.arch, 19041, k32.type, &o, name);
		if (k32.sig)
			db_kd_header(kb_kd(b))->bmp_signature = k32.sig;
		if (k32.heaps)
			heaps_scenario(b, false, true, hx);
		else
			std_scenario(b, &idx_19041, false, false);
	} else if (!strncmp(name, "bench-heaps", 11)) {
		/* bench-heaps[-scatter][:NPROC:NBLOCKS] (default 250 x 21000: 249 heaps,
		 * 5.2 M blocks), a full ('FDMP') bitmap dump with 1.5 GiB of RAM;
		 * -scatter: the heaps' pages on frames taken at random, as in a
		 * real dump (without it each heap's frames follow in the file) */
		unsigned np = 250;
		unsigned long nb = 21000;
		bool scatter = !strncmp(name + 11, "-scatter", 8);
		const char *arg = name + 11 + (scatter ? 8 : 0);
		if (*arg == ':')
			sscanf(arg + 1, "%u:%lu", &np, &nb);
		o.type_lists = false;
		o.no_handle_lines = true;
		o.seed = 250;
		o.ram_pages = 0x60000;
		b = kb_new(DB_KD_X64, 19045, DB_KD_BITMAP, &o, name);
		db_kd_header(kb_kd(b))->bmp_signature = 0x504D4446u;	/* 'FDMP' */
		bench_heaps_scenario(b, np, nb, scatter, hx);
	} else if (!strcmp(name, "x64-19045-full-typelist")) {
		b = kb_new(DB_KD_X64, 19045, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, true, false);
	} else if (!strcmp(name, "x64-19045-bitmap-notypelist")) {
		o.type_lists = false;
		o.cookie = 0xB7;
		o.seed = 77;
		b = kb_new(DB_KD_X64, 19045, DB_KD_BITMAP, &o, name);
		std_scenario(b, &idx_19041, true, false);
	} else if (!strcmp(name, "x64-26100-full")) {
		/* Windows 11 24H2: the EPROCESS of the cited 26100 offsets (kb.c) */
		o.seed = 26100;
		b = kb_new(DB_KD_X64, 26100, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, true, false);
	} else if (!strcmp(name, "x64-26100-shifted")) {
		/* the same, every EPROCESS field 0x40 bytes further: no row fits */
		o.seed = 26101;
		o.ep_shift = 0x40;
		b = kb_new(DB_KD_X64, 26100, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, true, false);
	} else if (!strcmp(name, "x64-7601-full")) {
		o.type_lists = false;
		o.seed = 7601;
		b = kb_new(DB_KD_X64, 7601, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_7601, true, false);
	} else if (!strcmp(name, "x86pae-19041-full")) {
		o.cookie = 0xC3;
		o.seed = 86;
		b = kb_new(DB_KD_X86_PAE, 19041, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, false, false);
	} else if (!strcmp(name, "x64-19045-corrupt")) {
		o.seed = 666;
		b = kb_new(DB_KD_X64, 19045, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, true, true);
	} else if (!strcmp(name, "x64-19045-pool-badtag") || !strcmp(name, "x64-19045-pool-overflow") ||
		   !strcmp(name, "x64-19045-pool-oldlayout") || !strcmp(name, "x64-19045-pool-top")) {
		/* the standard scenario with a corrupt or old-layout pool
		 * tracker table, or its variable in the address space's last
		 * MiB (kb_pool.c); bitmap dumps keep them small */
		o.seed = 1010;
		b = kb_new(DB_KD_X64, 19045, DB_KD_BITMAP, &o, name);
		std_scenario(b, &idx_19041, true, false);
	} else if (!strcmp(name, "x64-19045-kdbg-encoded")) {
		o.kdbg_encoded = true;
		o.seed = 99;
		b = kb_new(DB_KD_X64, 19045, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, true, false);
	} else if (!strcmp(name, "x64-19045-bugcheck")) {
		/* kb_modules.c: module list, bug check 0xD1 in crashdrv.sys,
		 * context and kernel stack */
		o.seed = 0xD1;
		b = kb_new(DB_KD_X64, 19045, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, true, false);
		kb_modules(b);
	} else if (!strcmp(name, "x86pae-19041-bugcheck")) {
		o.cookie = 0xC3;
		o.seed = 0xD186;
		b = kb_new(DB_KD_X86_PAE, 19041, DB_KD_FULL, &o, name);
		std_scenario(b, &idx_19041, false, false);
		kb_modules(b);
	} else if (!strcmp(name, "big")) {
		o.type_lists = false;
		o.no_handle_lines = true;
		o.seed = 2000;
		b = kb_new(DB_KD_X64, 19045, DB_KD_BITMAP, &o, name);
		big_scenario(b);
	} else {
		fprintf(stderr, "kobjbuilder: unknown scenario %s\n", name);
		if (hx)
			fclose(hx);
		return -1;
	}
	int r = kb_write(b, dmp, expect);
	if (!r && strstr(name, "-bugcheck"))
		r = kb_modules_expect(b, expect);
	kb_free(b);
	if (hx && fclose(hx))
		r = -1;
	return r;
}
