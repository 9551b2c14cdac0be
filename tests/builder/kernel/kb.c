/* SPDX-License-Identifier: MIT */
/*
 * kobjbuilder: kernel objects laid out from /work/shared/reference/layouts.md
 * sections 7 and 8 (cited as "L7"/"L8" below).  Values not in layouts.md are
 * marked "not in L" with the reason they were chosen; the walker should not
 * depend on them.
 */
#include "kobjbuilder.h"
#include "kb_pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Offset table (one row per arch/build family).
 * ---------------------------------------------------------------------- */
struct kb_lay {
	unsigned ps;			/* pointer size */
	bool cookie;			/* L8: TypeIndex encoded on Windows 10/11 only */
	int he_enc;			/* 0 x64 >= 9600, 1 x64 Win7, 2 x86 */
	/* _OBJECT_HEADER (L8 table) */
	unsigned oh_handle_count, oh_type_index, oh_info_mask, oh_body;
	/* optional headers (L8 "Optional headers"): sizes by InfoMask bit
	 * 0x01 creator, 0x02 name, 0x04 handle, 0x08 quota, 0x10 process,
	 * 0x20 audit */
	unsigned opt_size[6];
	unsigned ci_pid;		/* CREATOR_INFO.CreatorUniqueProcess */
	unsigned ni_name;		/* NAME_INFO.Name (UNICODE_STRING) */
	unsigned us_buffer;		/* UNICODE_STRING.Buffer (Length 0, MaximumLength 2) */
	/* _OBJECT_TYPE (L8) */
	unsigned ot_name, ot_index, ot_objects, ot_handles, ot_hw_objects, ot_hw_handles,
		 ot_size;
	/* _KQUEUE (L8): Header.Type 0, Size 2, SignalState 4, WaitListHead 8 */
	unsigned kq_entry, kq_current, kq_maximum, kq_threads, kq_size;
	/* _IO_MINI_COMPLETION_PACKET_USER (L8) */
	unsigned pk_type, pk_key, pk_apc, pk_status, pk_info, pk_alloc, pk_size;
	/* _EPROCESS (L8 per-build table) */
	unsigned ep_dtb, ep_pid, ep_links, ep_ppid, ep_peb, ep_objtab, ep_image, ep_size;
	/* EPROCESS.WoW64Process (x64 only; not in L): selene _EPROCESS
	 * (layouts-x64-selene.json) 0x580 for 2004+; Win7 x64 0x320 from a
	 * public Win7 EPROCESS excerpt.  Points at EWOW64PROCESS {Peb 0}. */
	unsigned ep_wow64;
	/* _HANDLE_TABLE (L8): TableCode +0 before 9200, +8 from Win8 */
	unsigned ht_tablecode, ht_size;
	unsigned he_size;		/* L8: 16 x64, 8 x86 */
	unsigned pool_hdr;		/* _POOL_HEADER size (not in L: 0x10 / 8) */
	unsigned kdbg_size;
	uint64_t kernbase, pool_base, paged_base, peb_base;
};

static const struct kb_lay lay_x64_19045 = {
	.ps = 8, .cookie = true, .he_enc = 0,
	.oh_handle_count = 0x8, .oh_type_index = 0x18, .oh_info_mask = 0x1A, .oh_body = 0x30,
	.opt_size = { 0x20, 0x20, 0x10, 0x20, 0x10, 0x10 },
	.ci_pid = 0x10, .ni_name = 0x8, .us_buffer = 8,
	.ot_name = 0x10, .ot_index = 0x28, .ot_objects = 0x2C, .ot_handles = 0x30,
	.ot_hw_objects = 0x34, .ot_hw_handles = 0x38, .ot_size = 0xD8, /* CallbackList 0xC8 + 0x10 */
	.kq_entry = 0x18, .kq_current = 0x28, .kq_maximum = 0x2C, .kq_threads = 0x30, .kq_size = 0x40,
	.pk_type = 0x10, .pk_key = 0x18, .pk_apc = 0x20, .pk_status = 0x28, .pk_info = 0x30,
	.pk_alloc = 0x48, .pk_size = 0x50,
	/* 19041-19045 x64 row */
	.ep_dtb = 0x28, .ep_pid = 0x440, .ep_links = 0x448, .ep_ppid = 0x540, .ep_peb = 0x550,
	.ep_objtab = 0x570, .ep_image = 0x5A8, .ep_size = 0xA40 /* not in L: allocation size */,
	.ep_wow64 = 0x580,
	.ht_tablecode = 0x8, .ht_size = 0x80 /* not in L */, .he_size = 16, .pool_hdr = 0x10,
	.kdbg_size = 0x368 /* not in L: the Win10 KDBG Size */,
	.kernbase = 0xFFFFF80512A00000ull, .pool_base = 0xFFFFB10A1C000000ull,
	.paged_base = 0xFFFFC50E7A000000ull, .peb_base = 0x000000C8A3E10000ull,
};

/* x64 26100 (Windows 11 24H2): the 19045 row with the 24H2 EPROCESS --
 * UniqueProcessId 0x1D0, ActiveProcessLinks 0x1D8, InheritedFrom
 * UniqueProcessId 0x2D0, Peb 0x2E0, ObjectTable 0x300, WoW64Process 0x310,
 * ImageFileName 0x338, Pcb.DirectoryTableBase 0x28: public 26100 offset
 * tables found with the search tools (find_string ids 68618506331 -- a
 * "windows-11-26100" build profile --, 49744919934 "WINDOWS 11 24H2 KERNEL
 * OFFSETS ... from PDB symbols", 66635292232 "from 10.0.26100.1742-x64.yml",
 * 53041513813); not in L.  Objects, handle table, KQUEUE: the 19045 values
 * (no 26100 source found).  EPROCESS size 0x840 (the same profile's
 * EprocessSize, an allocation size only). */
static const struct kb_lay lay_x64_26100 = {
	.ps = 8, .cookie = true, .he_enc = 0,
	.oh_handle_count = 0x8, .oh_type_index = 0x18, .oh_info_mask = 0x1A, .oh_body = 0x30,
	.opt_size = { 0x20, 0x20, 0x10, 0x20, 0x10, 0x10 },
	.ci_pid = 0x10, .ni_name = 0x8, .us_buffer = 8,
	.ot_name = 0x10, .ot_index = 0x28, .ot_objects = 0x2C, .ot_handles = 0x30,
	.ot_hw_objects = 0x34, .ot_hw_handles = 0x38, .ot_size = 0xD8,
	.kq_entry = 0x18, .kq_current = 0x28, .kq_maximum = 0x2C, .kq_threads = 0x30, .kq_size = 0x40,
	.pk_type = 0x10, .pk_key = 0x18, .pk_apc = 0x20, .pk_status = 0x28, .pk_info = 0x30,
	.pk_alloc = 0x48, .pk_size = 0x50,
	.ep_dtb = 0x28, .ep_pid = 0x1D0, .ep_links = 0x1D8, .ep_ppid = 0x2D0, .ep_peb = 0x2E0,
	.ep_objtab = 0x300, .ep_image = 0x338, .ep_size = 0x840, .ep_wow64 = 0x310,
	.ht_tablecode = 0x8, .ht_size = 0x80, .he_size = 16, .pool_hdr = 0x10,
	.kdbg_size = 0x368,
	.kernbase = 0xFFFFF80512A00000ull, .pool_base = 0xFFFFB10A1C000000ull,
	.paged_base = 0xFFFFC50E7A000000ull, .peb_base = 0x000000C8A3E10000ull,
};

static const struct kb_lay lay_x64_7601 = {
	.ps = 8, .cookie = false, .he_enc = 1,
	.oh_handle_count = 0x8, .oh_type_index = 0x18, .oh_info_mask = 0x1A, .oh_body = 0x30,
	.opt_size = { 0x20, 0x20, 0x10, 0x20, 0x10, 0x10 },
	.ci_pid = 0x10, .ni_name = 0x8, .us_buffer = 8,
	.ot_name = 0x10, .ot_index = 0x28, .ot_objects = 0x2C, .ot_handles = 0x30,
	.ot_hw_objects = 0x34, .ot_hw_handles = 0x38, .ot_size = 0xD0, /* Win7: CallbackList 0xC0 */
	.kq_entry = 0x18, .kq_current = 0x28, .kq_maximum = 0x2C, .kq_threads = 0x30, .kq_size = 0x40,
	.pk_type = 0x10, .pk_key = 0x18, .pk_apc = 0x20, .pk_status = 0x28, .pk_info = 0x30,
	.pk_alloc = 0x48, .pk_size = 0x50,
	/* 7600/7601 x64 row */
	.ep_dtb = 0x28, .ep_pid = 0x180, .ep_links = 0x188, .ep_ppid = 0x290, .ep_peb = 0x338,
	.ep_objtab = 0x200, .ep_image = 0x2E0, .ep_size = 0x4D0, .ep_wow64 = 0x320,
	.ht_tablecode = 0x0, .ht_size = 0x68, .he_size = 16, .pool_hdr = 0x10,
	.kdbg_size = 0x340,
	.kernbase = 0xFFFFF80002A4C000ull, .pool_base = 0xFFFFFA8001A00000ull,
	.paged_base = 0xFFFFF8A001C00000ull, .peb_base = 0x000007FFFFFD0000ull,
};

static const struct kb_lay lay_x86_19041 = {
	.ps = 4, .cookie = true, .he_enc = 2,
	.oh_handle_count = 0x4, .oh_type_index = 0xC, .oh_info_mask = 0xE, .oh_body = 0x18,
	.opt_size = { 0x10, 0x10, 0x8, 0x10, 0x8, 0x8 },
	.ci_pid = 0x8, .ni_name = 0x4, .us_buffer = 4,
	.ot_name = 0x8, .ot_index = 0x14, .ot_objects = 0x18, .ot_handles = 0x1C,
	.ot_hw_objects = 0x20, .ot_hw_handles = 0x24, .ot_size = 0x90, /* CallbackList 0x88 + 8 */
	.kq_entry = 0x10, .kq_current = 0x18, .kq_maximum = 0x1C, .kq_threads = 0x20, .kq_size = 0x28,
	.pk_type = 0x8, .pk_key = 0xC, .pk_apc = 0x10, .pk_status = 0x14, .pk_info = 0x18,
	.pk_alloc = 0x24, .pk_size = 0x28,
	/* 19041-19045 x86 row */
	.ep_dtb = 0x18, .ep_pid = 0xE4, .ep_links = 0xE8, .ep_ppid = 0x170, .ep_peb = 0x17C,
	.ep_objtab = 0x18C, .ep_image = 0x1AC, .ep_size = 0x440,
	.ht_tablecode = 0x8, .ht_size = 0x3C, .he_size = 8, .pool_hdr = 8,
	.kdbg_size = 0x368,
	.kernbase = 0x81C00000ull, .pool_base = 0x86A00000ull, .paged_base = 0x9B400000ull,
	.peb_base = 0x003F0000ull,
};

/* Kernel variables, as offsets from kernbase (not in L: arbitrary .data). */
#define OFF_KDBG		0xC00B20u
#define OFF_KDBG_LIST		0xC1E2B0u	/* KdpDebuggerDataListHead */
#define OFF_PS_ACTIVE		0xC1E3A0u	/* PsActiveProcessHead */
#define OFF_PS_LOADED		0xC2A4F0u	/* PsLoadedModuleList */
#define OFF_CID_TABLE		0xCFB1E8u	/* PspCidTable */
#define OFF_TYPE_TYPE		0xCFC9D8u	/* ObpTypeObjectType */
#define OFF_ROOT_DIR		0xCFCA08u	/* ObpRootDirectoryObject */

/* ------------------------------------------------------------------------
 * Model
 * ---------------------------------------------------------------------- */
struct kb_obj {
	uint64_t body, hdr, ci;		/* ci: CREATOR_INFO (0 if none) */
	uint64_t alloc;			/* pool block (after the pool header) */
	int type;
	uint32_t handles;
	uint8_t infomask;
	uint32_t creator_pid;
	int icp;			/* index in b->icp, or -1 */
	int proc;			/* index in b->proc, or -1 */
	char *name;
};

struct kb_typ {
	int obj;
	uint32_t index;
	char name[32];
};

struct kb_hnd {
	uint32_t index;
	int obj;
	uint32_t access;
	uint8_t attrs;
	bool lost;
};

struct kb_proc {
	int obj;
	uint32_t pid, ppid;
	char image[16];
	uint64_t dtb, peb, table, table_code;
	struct kb_hnd *h;
	size_t nh, cap;
	uint32_t next_index;
	int loop_to;			/* -1 */
	int lost_page;			/* -1 */
	bool reachable;
	unsigned level;
};

struct kb_icp {
	int obj;
	uint32_t depth;
	int32_t signal, maximum, current;
	uint32_t nthreads;
	uint64_t *pk;
	int corrupt_at, corrupt_to;	/* corrupt_at -1: none */
	bool corrupt_unmapped;
};

struct region {
	uint64_t cur, mapped_end;
};

struct kb {
	const struct kb_lay *L;
	struct kb_lay Lshifted;	/* opts.ep_shift: a layout no row describes */
	enum db_kd_arch arch;
	uint32_t build, dump_type;
	struct kb_opts o;
	char scenario[64];
	struct db_kd *kd;
	struct db_mem *m;
	uint64_t kdtb;
	uint32_t rng;
	struct region pool, paged;
	struct kb_obj *obj;	size_t nobj, capobj;
	struct kb_typ typ[64];	size_t ntyp;
	struct kb_proc *proc;	size_t nproc, capproc;
	struct kb_icp *icp;	size_t nicp, capicp;
	int t_type, t_process, t_iocompletion, t_directory;
	uint64_t root_dir;
	struct kbp *pool_tags;	/* pool tracker tables (kb_pool.c) */
	kb_write_hook *hook;	/* kb_set_write_hook (kb_modules.c) */
	void *hook_arg;
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("kobjbuilder: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die("out of memory");
	return q;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xrealloc(NULL, n);
	memcpy(d, s, n);
	return d;
}

static uint32_t rnd(struct kb *b)
{
	b->rng = b->rng * 1103515245u + 12345u;
	return (b->rng >> 16) & 0x7FFF;
}

/* x86 kernel pointers are 32-bit; KDDEBUGGER_DATA64 holds them as 64-bit
 * values, sign-extended (see README: L7 marks this ❓). */
static uint64_t kaddr64(const struct kb *b, uint64_t va)
{
	if (b->L->ps == 4)
		return (uint64_t)(int64_t)(int32_t)(uint32_t)va;
	return va;
}

static void w8(struct kb *b, uint64_t va, uint8_t v) { db_mem_write_u8(b->m, va, v); }
static void w16(struct kb *b, uint64_t va, uint16_t v) { db_mem_write_u16(b->m, va, v); }
static void w32(struct kb *b, uint64_t va, uint32_t v) { db_mem_write_u32(b->m, va, v); }
static void w64(struct kb *b, uint64_t va, uint64_t v) { db_mem_write_u64(b->m, va, v); }
static void wp(struct kb *b, uint64_t va, uint64_t v) { db_mem_write_ptr(b->m, va, v); }

static void map_range(struct kb *b, uint64_t va, uint64_t size)
{
	uint64_t first = va & ~(uint64_t)0xFFF, end = (va + size + 0xFFF) & ~(uint64_t)0xFFF;
	if (db_kd_map(b->kd, b->kdtb, first, end - first, 0x1000) != 0)
		die("map 0x%llx: %s", (unsigned long long)va, db_error());
}

static uint64_t region_alloc(struct kb *b, struct region *r, uint64_t size, uint64_t align)
{
	r->cur = (r->cur + align - 1) & ~(align - 1);
	uint64_t a = r->cur;
	r->cur += size;
	uint64_t end = (r->cur + 0xFFF) & ~(uint64_t)0xFFF;
	if (end > r->mapped_end) {
		uint64_t from = r->mapped_end > (a & ~(uint64_t)0xFFF) ? r->mapped_end
								       : (a & ~(uint64_t)0xFFF);
		if (db_kd_map(b->kd, b->kdtb, from, end - from, 0x1000) != 0)
			die("map 0x%llx: %s", (unsigned long long)from, db_error());
		r->mapped_end = end;
	}
	return a;
}

/* A nonpaged pool block: _POOL_HEADER (not in L: x64 BlockSize byte 2 in
 * 16-byte units, PoolType byte 3, PoolTag +4; x86 BlockSize:9 | PoolType:7
 * in the word at +2 in 8-byte units, PoolTag +4), then size bytes.
 * Returns the address after the pool header. */
static uint64_t pool_alloc(struct kb *b, const char tag[4], uint64_t size)
{
	const struct kb_lay *L = b->L;
	uint64_t unit = L->ps == 8 ? 16 : 8;
	b->pool.cur += (rnd(b) % 4) * unit;	/* jitter: headers at varied (addr >> 8) */
	uint64_t total = (L->pool_hdr + size + unit - 1) & ~(unit - 1);
	uint64_t p = region_alloc(b, &b->pool, total, unit);
	uint64_t units = total / unit;
	if (L->ps == 8) {
		w8(b, p + 2, (uint8_t)(units > 0xFF ? 0xFF : units));
		w8(b, p + 3, 2);
	} else {
		w16(b, p + 2, (uint16_t)((units > 0x1FF ? 0x1FF : units) | (2u << 9)));
	}
	db_mem_write(b->m, p + 4, tag, 4);
	kbp_alloc(b->pool_tags, tag, total);
	return p + L->pool_hdr;
}

static uint64_t page_alloc(struct kb *b)
{
	return region_alloc(b, &b->paged, 0x1000, 0x1000);
}

static void list_init(struct kb *b, uint64_t head)
{
	wp(b, head, head);
	wp(b, head + b->L->ps, head);
}

/* head <-> nodes[0] <-> ... <-> nodes[n-1] <-> head */
static void list_link(struct kb *b, uint64_t head, const uint64_t *nodes, size_t n)
{
	unsigned ps = b->L->ps;
	if (!n) {
		list_init(b, head);
		return;
	}
	wp(b, head, nodes[0]);
	wp(b, head + ps, nodes[n - 1]);
	for (size_t i = 0; i < n; i++) {
		wp(b, nodes[i], i + 1 < n ? nodes[i + 1] : head);
		wp(b, nodes[i] + ps, i ? nodes[i - 1] : head);
	}
}

static size_t write_ustr(struct kb *b, uint64_t us, const char *s)
{
	size_t n = strlen(s);
	uint64_t buf = pool_alloc(b, "ObNm", 2 * n + 2);
	db_mem_write_utf16(b->m, buf, s, true);
	w16(b, us, (uint16_t)(2 * n));
	w16(b, us + 2, (uint16_t)(2 * n + 2));
	wp(b, us + b->L->us_buffer, buf);
	return n;
}

/* ------------------------------------------------------------------------
 * API
 * ---------------------------------------------------------------------- */
struct kb *kb_new(enum db_kd_arch arch, uint32_t build, uint32_t dump_type,
		  const struct kb_opts *opts, const char *scenario)
{
	struct kb *b = calloc(1, sizeof *b);
	if (!b)
		die("out of memory");
	if (arch == DB_KD_X64)
		b->L = build < 9200 ? &lay_x64_7601 : build >= 26100 ? &lay_x64_26100 : &lay_x64_19045;
	else if (arch == DB_KD_ARM64 && build >= 19041 && build < 26100) {
		/* ARM64 EPROCESS from ntdiff/headers Win10_20H1_18885/ARM64/
		 * System32/ntdll.dll/Standalone/_EPROCESS.h (KPROCESS is 0x2A8
		 * bytes there); everything else the x64 19045 row (derived,
		 * tests/builder/arm64/README.md) */
		b->Lshifted = lay_x64_19045;
		struct kb_lay *A = &b->Lshifted;
		A->ep_dtb = 0x28;
		A->ep_pid = 0x2B0;
		A->ep_links = 0x2B8;
		A->ep_ppid = 0x3B0;
		A->ep_peb = 0x3C0;
		A->ep_objtab = 0x3E0;
		A->ep_wow64 = 0x3F0;
		A->ep_image = 0x418;
		A->ep_size = 0x980;
		b->L = A;
	}
	else if (arch == DB_KD_ARM64)
		die("no ARM64 layout for build %u", build);
	else if (build >= 19041)
		b->L = &lay_x86_19041;
	else
		die("no layout for x86 build %u", build);
	if (arch == DB_KD_X64 && build >= 9200 && build < 9600)
		die("Win8.0 handle encoding not implemented");
	if (opts->ep_shift) {
		/* every EPROCESS field after Pcb moved by ep_shift bytes */
		b->Lshifted = *b->L;
		struct kb_lay *S = &b->Lshifted;
		S->ep_pid += opts->ep_shift;
		S->ep_links += opts->ep_shift;
		S->ep_ppid += opts->ep_shift;
		S->ep_peb += opts->ep_shift;
		S->ep_objtab += opts->ep_shift;
		S->ep_image += opts->ep_shift;
		S->ep_wow64 += S->ep_wow64 ? opts->ep_shift : 0;
		S->ep_size += opts->ep_shift;
		b->L = S;
	}
	b->arch = arch;
	b->build = build;
	b->dump_type = dump_type;
	b->o = *opts;
	snprintf(b->scenario, sizeof b->scenario, "%s", scenario);
	b->kd = db_kd_new(arch, build, dump_type);
	if (!b->kd)
		die("db_kd_new: %s", db_error());
	if (opts->ram_pages) {
		struct db_kd_run runs[] = { { 0x1, 0x9E }, { 0x100, opts->ram_pages - 0x100 } };
		if (db_kd_set_physical_runs(b->kd, runs, 2) != 0)
			die("runs: %s", db_error());
	} else if (!opts->no_handle_lines) {
		/* small scenarios: 64 MiB of RAM keeps full dumps small */
		static const struct db_kd_run runs[] = { { 0x1, 0x9E }, { 0x100, 0x3F00 } };
		if (db_kd_set_physical_runs(b->kd, runs, 2) != 0)
			die("runs: %s", db_error());
	}
	b->kdtb = db_kd_kernel_dtb(b->kd);
	b->m = db_kd_view(b->kd, b->kdtb);
	b->rng = opts->seed ? opts->seed : 0x1234567u;
	b->pool.cur = b->pool.mapped_end = b->L->pool_base;
	b->paged.cur = b->paged.mapped_end = b->L->paged_base;
	b->t_type = b->t_process = b->t_iocompletion = b->t_directory = -1;
	b->pool_tags = kbp_new(b->L->ps, build, db_kd_header(b->kd)->number_processors, scenario);
	return b;
}

void kb_free(struct kb *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nobj; i++)
		free(b->obj[i].name);
	for (size_t i = 0; i < b->nproc; i++)
		free(b->proc[i].h);
	for (size_t i = 0; i < b->nicp; i++)
		free(b->icp[i].pk);
	free(b->obj);
	free(b->proc);
	free(b->icp);
	db_kd_free(b->kd);
	kbp_free(b->pool_tags);
	free(b);
}

struct db_kd *kb_kd(struct kb *b)
{
	return b->kd;
}

static const char *tag_for(const char *type)
{
	if (!strcmp(type, "Process")) return "Proc";
	if (!strcmp(type, "Thread")) return "Thre";
	if (!strcmp(type, "Event")) return "Even";
	if (!strcmp(type, "File")) return "File";
	if (!strcmp(type, "IoCompletion")) return "IoCo";
	if (!strcmp(type, "Directory")) return "Dire";
	if (!strcmp(type, "Type")) return "ObjT";
	if (!strcmp(type, "Mutant")) return "Muta";
	if (!strcmp(type, "Token")) return "Toke";
	return "Obj ";
}

/* Allocates the object (optional headers + header + body); header fields
 * that depend on later calls (counts, type list) are written by kb_write. */
static int new_object(struct kb *b, int type, uint32_t body_size, uint8_t infomask,
		      const char *name, const char *tag)
{
	const struct kb_lay *L = b->L;
	uint64_t opt = 0;
	for (unsigned bit = 0; bit < 6; bit++)
		if (infomask & (1u << bit))
			opt += L->opt_size[bit];
	uint64_t a = pool_alloc(b, tag, opt + L->oh_body + body_size);
	if (b->nobj == b->capobj) {
		b->capobj = b->capobj ? 2 * b->capobj : 256;
		b->obj = xrealloc(b->obj, b->capobj * sizeof *b->obj);
	}
	struct kb_obj *o = &b->obj[b->nobj];
	memset(o, 0, sizeof *o);
	o->alloc = a;
	o->hdr = a + opt;
	o->body = o->hdr + L->oh_body;
	o->ci = (infomask & 1) ? o->hdr - L->opt_size[0] : 0;
	o->type = type;
	o->infomask = infomask;
	o->creator_pid = 4;
	o->icp = o->proc = -1;
	if ((infomask & 2) && name) {
		/* NAME_INFO: bit 0x02, at hdr - (creator if set) - 0x20 (L8) */
		uint64_t ni = o->hdr - ((infomask & 1) ? L->opt_size[0] : 0) - L->opt_size[1];
		write_ustr(b, ni + L->ni_name, name);
		o->name = xstrdup(name);
	}
	return (int)b->nobj++;
}

int kb_type(struct kb *b, const char *name, uint32_t index)
{
	if (b->ntyp == 0 && strcmp(name, "Type"))
		die("the first type must be \"Type\"");
	if (b->ntyp >= 64)
		die("too many types");
	int t = (int)b->ntyp;
	/* Type objects always carry CREATOR_INFO (the Type type keeps its
	 * type list, L8 Algorithm D step 2) and NAME_INFO. */
	int o = new_object(b, 0, b->L->ot_size, 0x03, name, "ObjT");
	struct kb_typ *ty = &b->typ[b->ntyp++];
	ty->obj = o;
	ty->index = index;
	snprintf(ty->name, sizeof ty->name, "%s", name);
	uint64_t body = b->obj[o].body;
	write_ustr(b, body + b->L->ot_name, name);
	w8(b, body + b->L->ot_index, (uint8_t)index);
	list_init(b, body);	/* TypeList, linked in kb_write */
	if (!strcmp(name, "Type")) b->t_type = t;
	if (!strcmp(name, "Process")) b->t_process = t;
	if (!strcmp(name, "IoCompletion")) b->t_iocompletion = t;
	if (!strcmp(name, "Directory")) b->t_directory = t;
	return t;
}

int kb_object(struct kb *b, int type, uint32_t body_size, uint8_t extra_infomask,
	      const char *name, uint8_t dispatcher_type)
{
	uint8_t im = (uint8_t)((b->o.type_lists ? 0x01 : 0) | extra_infomask);
	int o = new_object(b, type, body_size, im, name, tag_for(b->typ[type].name));
	if (dispatcher_type != 0xFF)
		w8(b, b->obj[o].body, dispatcher_type);
	return o;
}

int kb_process(struct kb *b, uint32_t pid, uint32_t ppid, const char *image)
{
	const struct kb_lay *L = b->L;
	if (b->t_process < 0)
		die("no Process type");
	/* Pcb.Header.Type = 3 (ProcessObject; not in L: _KOBJECTS enum) */
	int o = kb_object(b, b->t_process, L->ep_size, 0, NULL, 3);
	if (b->nproc == b->capproc) {
		b->capproc = b->capproc ? 2 * b->capproc : 64;
		b->proc = xrealloc(b->proc, b->capproc * sizeof *b->proc);
	}
	struct kb_proc *p = &b->proc[b->nproc];
	memset(p, 0, sizeof *p);
	p->obj = o;
	p->pid = pid;
	p->ppid = ppid;
	/* ImageFileName is UCHAR[15]: longer names are cut, no terminator */
	snprintf(p->image, sizeof p->image, "%.15s", image);
	p->dtb = b->nproc == 0 ? b->kdtb : db_kd_new_address_space(b->kd);
	if (p->dtb == UINT64_MAX)
		die("address space: %s", db_error());
	p->peb = b->nproc == 0 ? 0 : L->peb_base + (uint64_t)(b->nproc) * 0x10000 +
					   (uint64_t)(rnd(b) % 16) * 0x1000;
	p->table = pool_alloc(b, "Obtb", L->ht_size);
	p->next_index = 1;
	p->loop_to = p->lost_page = -1;
	p->reachable = true;
	b->obj[o].proc = (int)b->nproc;
	b->obj[o].creator_pid = ppid;
	uint64_t ep = b->obj[o].body;
	wp(b, ep + L->ep_dtb, p->dtb);
	wp(b, ep + L->ep_pid, pid);
	wp(b, ep + L->ep_ppid, ppid);
	wp(b, ep + L->ep_peb, p->peb);
	wp(b, ep + L->ep_objtab, p->table);
	db_mem_write(b->m, ep + L->ep_image, p->image, strlen(p->image));
	return (int)b->nproc++;
}

uint32_t kb_build(const struct kb *b)
{
	return b->build;
}

uint64_t kb_process_dtb(const struct kb *b, int proc)
{
	return b->proc[proc].dtb;
}

void kb_process_set_pcid(struct kb *b, int proc, unsigned pcid)
{
	struct kb_proc *p = &b->proc[proc];
	/* CR3 bits 0-11 = PCID with CR4.PCIDE (Intel SDM vol. 3 4.10.1);
	 * Pcb.DirectoryTableBase keeps them on PCID-capable systems */
	p->dtb = (p->dtb & ~0xFFFull) | (pcid & 0xFFFu);
	wp(b, b->obj[p->obj].body + b->L->ep_dtb, p->dtb);
}

void kb_process_set_peb(struct kb *b, int proc, uint64_t peb)
{
	struct kb_proc *p = &b->proc[proc];
	p->peb = peb;
	wp(b, b->obj[p->obj].body + b->L->ep_peb, peb);
}

uint64_t kb_process_set_wow64(struct kb *b, int proc, uint64_t peb32)
{
	if (!b->L->ep_wow64)
		die("WOW64 needs an x64 row");
	struct kb_proc *p = &b->proc[proc];
	/* EWOW64PROCESS (Peb 0, Machine 8, NtdllType 0xC; 0x10 bytes) in
	 * nonpaged pool; tag not in any source read ('Wow6' is made up). */
	uint64_t w = pool_alloc(b, "Wow6", 0x10);
	wp(b, w, peb32);
	db_mem_write_u16(b->m, w + 8, 0x14C);	/* IMAGE_FILE_MACHINE_I386 */
	wp(b, b->obj[p->obj].body + b->L->ep_wow64, w);
	return w;
}

int kb_process_object(const struct kb *b, int proc)
{
	return b->proc[proc].obj;
}

uint32_t kb_process_pid(const struct kb *b, int proc)
{
	return b->proc[proc].pid;
}

int kb_iocompletion(struct kb *b, int type, uint32_t depth, int32_t signal_delta,
		    int32_t maximum, uint32_t nthreads, const char *name)
{
	const struct kb_lay *L = b->L;
	int o = kb_object(b, type, L->kq_size, name ? 0x02 : 0, name, 0xFF);
	if (b->nicp == b->capicp) {
		b->capicp = b->capicp ? 2 * b->capicp : 64;
		b->icp = xrealloc(b->icp, b->capicp * sizeof *b->icp);
	}
	struct kb_icp *q = &b->icp[b->nicp];
	memset(q, 0, sizeof *q);
	q->obj = o;
	q->depth = depth;
	q->signal = (int32_t)depth + signal_delta;
	q->maximum = maximum;
	q->current = (int32_t)nthreads;
	q->nthreads = nthreads;
	q->corrupt_at = -1;
	b->obj[o].icp = (int)b->nicp++;
	uint64_t k = b->obj[o].body;
	w8(b, k + 0, 4);				/* Header.Type = QueueObject (L8) */
	w8(b, k + 2, (uint8_t)(L->kq_size / 4));	/* Header.Size in DWORDs */
	w32(b, k + 4, (uint32_t)q->signal);		/* Header.SignalState */
	list_init(b, k + 8);				/* Header.WaitListHead */
	w32(b, k + L->kq_current, (uint32_t)q->current);
	w32(b, k + L->kq_maximum, (uint32_t)maximum);
	q->pk = xrealloc(NULL, (depth ? depth : 1) * sizeof *q->pk);
	for (uint32_t i = 0; i < depth; i++) {
		uint64_t p = pool_alloc(b, "IoCp", L->pk_size);
		q->pk[i] = p;
		w32(b, p + L->pk_type, 1);	/* not in L: PacketType values are ❓ */
		uint64_t user = L->ps == 8 ? 0x000001F4A2300000ull : 0x01A20000ull;
		wp(b, p + L->pk_key, user + (uint64_t)b->nicp * 0x100);
		wp(b, p + L->pk_apc, user + 0x80000 + (uint64_t)i * 0x20);
		w32(b, p + L->pk_status, 0);
		wp(b, p + L->pk_info, 0x200 + i % 0x1000);
		w32(b, p + L->pk_alloc, 1);
	}
	list_link(b, k + L->kq_entry, q->pk, depth);
	uint64_t th[16];
	if (nthreads > 16)
		die("too many threads");
	for (uint32_t i = 0; i < nthreads; i++)
		th[i] = pool_alloc(b, "Thre", 2 * L->ps);	/* fake thread nodes */
	list_link(b, k + L->kq_threads, th, nthreads);
	return o;
}

uint32_t kb_handle(struct kb *b, int proc, int obj, uint32_t access, unsigned attrs)
{
	struct kb_proc *p = &b->proc[proc];
	uint32_t per_page = 0x1000 / b->L->he_size;
	if (p->next_index % per_page == 0)
		p->next_index++;	/* entry 0 of each page is unused (L8) */
	if (p->nh == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 32;
		p->h = xrealloc(p->h, p->cap * sizeof *p->h);
	}
	struct kb_hnd *h = &p->h[p->nh++];
	h->index = p->next_index++;
	h->obj = obj;
	h->access = access;
	h->attrs = (uint8_t)attrs;
	h->lost = false;
	b->obj[obj].handles++;
	if (b->obj[obj].handles == 1 && b->obj[obj].proc < 0 && b->o.type_lists)
		b->obj[obj].creator_pid = p->pid;
	return h->index * 4;
}

void kb_handle_gap(struct kb *b, int proc, unsigned n)
{
	b->proc[proc].next_index += n;
}

void kb_corrupt_process_loop(struct kb *b, int from_proc, int to_proc)
{
	b->proc[from_proc].loop_to = to_proc;
}

void kb_corrupt_handle_page(struct kb *b, int proc, unsigned page)
{
	b->proc[proc].lost_page = (int)page;
}

void kb_corrupt_icp_list(struct kb *b, int obj, uint32_t at, int to_packet)
{
	struct kb_icp *q = &b->icp[b->obj[obj].icp];
	q->corrupt_at = (int)at;
	q->corrupt_to = to_packet;
	q->corrupt_unmapped = to_packet < 0;
}

/* ------------------------------------------------------------------------
 * Layout at write time
 * ---------------------------------------------------------------------- */
static uint8_t type_index_byte(const struct kb *b, const struct kb_obj *o)
{
	uint8_t idx = (uint8_t)b->typ[o->type].index;
	if (b->L->cookie)	/* L8: idx = TypeIndex ^ (BYTE)(hdr >> 8) ^ cookie */
		return (uint8_t)(idx ^ (uint8_t)(o->hdr >> 8) ^ b->o.cookie);
	return idx;
}

static void write_headers(struct kb *b)
{
	const struct kb_lay *L = b->L;
	for (size_t i = 0; i < b->nobj; i++) {
		struct kb_obj *o = &b->obj[i];
		wp(b, o->hdr + 0, (uint64_t)o->handles + 1);	/* PointerCount */
		wp(b, o->hdr + L->oh_handle_count, o->handles);
		w8(b, o->hdr + L->oh_type_index, type_index_byte(b, o));
		w8(b, o->hdr + L->oh_info_mask, o->infomask);
		if (o->ci)
			wp(b, o->ci + L->ci_pid, o->creator_pid);
	}
}

static bool type_list_kept(const struct kb *b, int t)
{
	return t == b->t_type || b->o.type_lists;
}

static void write_types(struct kb *b)
{
	const struct kb_lay *L = b->L;
	uint64_t *nodes = xrealloc(NULL, (b->nobj ? b->nobj : 1) * sizeof *nodes);
	for (size_t t = 0; t < b->ntyp; t++) {
		size_t n = 0;
		uint32_t objects = 0, handles = 0;
		for (size_t i = 0; i < b->nobj; i++) {
			if (b->obj[i].type != (int)t)
				continue;
			objects++;
			handles += b->obj[i].handles;
			if (b->obj[i].ci && type_list_kept(b, (int)t))
				nodes[n++] = b->obj[i].ci;	/* CREATOR_INFO.TypeList at 0 */
		}
		uint64_t body = b->obj[b->typ[t].obj].body;
		list_link(b, body, nodes, n);
		w32(b, body + L->ot_objects, objects);
		w32(b, body + L->ot_handles, handles);
		w32(b, body + L->ot_hw_objects, objects + 3);
		w32(b, body + L->ot_hw_handles, handles + 7);
	}
	free(nodes);
}

static void write_processes(struct kb *b, uint64_t head)
{
	const struct kb_lay *L = b->L;
	uint64_t *nodes = xrealloc(NULL, (b->nproc ? b->nproc : 1) * sizeof *nodes);
	for (size_t i = 0; i < b->nproc; i++)
		nodes[i] = b->obj[b->proc[i].obj].body + L->ep_links;
	list_link(b, head, nodes, b->nproc);
	for (size_t i = 0; i < b->nproc; i++) {
		if (b->proc[i].loop_to < 0)
			continue;
		wp(b, nodes[i], nodes[b->proc[i].loop_to]);
		for (size_t j = i + 1; j < b->nproc; j++)
			b->proc[j].reachable = false;
		break;
	}
	free(nodes);
}

static void write_entry(struct kb *b, uint64_t e, const struct kb_hnd *h)
{
	const struct kb_lay *L = b->L;
	uint64_t hdr = b->obj[h->obj].hdr;
	switch (L->he_enc) {
	case 0:	/* x64 >= 9600 (L8): Unlocked:1 @0, Attributes:3 @17,
		 * ObjectPointerBits:44 @20; inverse of hdr = 0xFFFF... | q0 >> 16 */
		w64(b, e, ((hdr & 0x0000FFFFFFFFFFF0ull) << 16) | ((uint64_t)(h->attrs & 7) << 17) | 1);
		w32(b, e + 8, h->access & 0x1FFFFFF);	/* GrantedAccessBits:25 */
		break;
	case 1:	/* x64 Win7 (L8): Object | ObAttributes at +0, GrantedAccess +8;
		 * bit 0 set (unlocked), attribute bits 1-2 */
		w64(b, e, hdr | 1 | (h->attrs & 6));
		w32(b, e + 8, h->access);
		break;
	default: /* x86 8.1+ (L8): Unlocked:1, Attributes:2 @1, ObjectPointerBits:29 @3 */
		w32(b, e, (uint32_t)hdr | 1 | ((h->attrs & 3u) << 1));
		w32(b, e + 4, h->access & 0x1FFFFFF);
		break;
	}
}

static void write_handle_tables(struct kb *b)
{
	const struct kb_lay *L = b->L;
	uint32_t per = 0x1000 / L->he_size;
	for (size_t i = 0; i < b->nproc; i++) {
		struct kb_proc *p = &b->proc[i];
		uint32_t npages = (p->next_index + per - 1) / per;
		if (!npages)
			npages = 1;
		uint64_t *pages = xrealloc(NULL, npages * sizeof *pages);
		for (uint32_t k = 0; k < npages; k++)
			pages[k] = page_alloc(b);
		if (npages == 1) {
			p->level = 0;
			p->table_code = pages[0];
		} else {
			if (npages > 0x1000 / L->ps)
				die("level 2 handle tables are not implemented");
			uint64_t top = page_alloc(b);
			for (uint32_t k = 0; k < npages; k++)
				wp(b, top + (uint64_t)k * L->ps, pages[k]);
			p->level = 1;
			p->table_code = top | 1;
		}
		wp(b, p->table + L->ht_tablecode, p->table_code);
		for (size_t k = 0; k < p->nh; k++) {
			struct kb_hnd *h = &p->h[k];
			uint32_t pg = h->index / per, slot = h->index % per;
			write_entry(b, pages[pg] + (uint64_t)slot * L->he_size, h);
			if (p->lost_page >= 0 && pg == (uint32_t)p->lost_page)
				h->lost = true;
		}
		if (p->lost_page >= 0) {
			if ((uint32_t)p->lost_page >= npages)
				die("lost page %d out of range", p->lost_page);
			/* a page-file PTE: bits 0, 10, 11 clear, protection 4 */
			if (db_kd_make_paged_out(b->kd, b->kdtb, pages[p->lost_page],
						 (0x1A2B3ull << 32) | (4u << 5)) != 0)
				die("paged out: %s", db_error());
		}
		free(pages);
	}
}

static void write_icp_corruptions(struct kb *b)
{
	for (size_t i = 0; i < b->nicp; i++) {
		struct kb_icp *q = &b->icp[i];
		if (q->corrupt_at < 0)
			continue;
		uint64_t target = q->corrupt_unmapped
			? (b->L->ps == 8 ? 0xFFFFB10AFFFF0000ull : 0x9FFF0000ull)
			: q->pk[q->corrupt_to];
		wp(b, q->pk[q->corrupt_at], target);
	}
}

static uint64_t rol64(uint64_t v, unsigned n)
{
	n &= 63;
	return n ? (v << n) | (v >> (64 - n)) : v;
}

static uint64_t ror64(uint64_t v, unsigned n)
{
	n &= 63;
	return n ? (v >> n) | (v << (64 - n)) : v;
}

static uint64_t bswap64(uint64_t v)
{
	uint64_t r = 0;
	for (int i = 0; i < 8; i++)
		r = (r << 8) | ((v >> (8 * i)) & 0xFF);
	return r;
}

/* Keys of the encoded-KDBG variant (made up; the walker cannot know them). */
#define KB_WAIT_NEVER	0x3A5C1E0F9B7D2468ull
#define KB_WAIT_ALWAYS	0x6E2F4A1B3C5D7089ull

static void write_kdbg(struct kb *b, uint64_t kdbg, uint64_t head)
{
	const struct kb_lay *L = b->L;
	uint64_t kb0 = L->kernbase;
	map_range(b, kdbg, L->kdbg_size);
	map_range(b, kb0 + OFF_KDBG_LIST, 16);
	map_range(b, kb0 + OFF_PS_LOADED, 16);
	map_range(b, kb0 + OFF_CID_TABLE, 8);
	map_range(b, kb0 + OFF_TYPE_TYPE, 8);
	map_range(b, kb0 + OFF_ROOT_DIR, 8);
	/* the variables */
	list_init(b, kb0 + OFF_PS_LOADED);
	wp(b, kb0 + OFF_KDBG_LIST, kdbg);
	wp(b, kb0 + OFF_KDBG_LIST + L->ps, kdbg);
	wp(b, kb0 + OFF_TYPE_TYPE, b->obj[b->typ[b->t_type].obj].body);
	wp(b, kb0 + OFF_ROOT_DIR, b->root_dir);
	/* KDDEBUGGER_DATA64 (L7): 64-bit fields on x86 too */
	w64(b, kdbg + 0x0, kaddr64(b, kb0 + OFF_KDBG_LIST));
	w64(b, kdbg + 0x8, kaddr64(b, kb0 + OFF_KDBG_LIST));
	w32(b, kdbg + 0x10, 0x4742444Bu);	/* 'KDBG' */
	w32(b, kdbg + 0x14, L->kdbg_size);
	w64(b, kdbg + 0x18, kaddr64(b, kb0));
	w64(b, kdbg + 0x48, kaddr64(b, kb0 + OFF_PS_LOADED));
	w64(b, kdbg + 0x50, kaddr64(b, head));
	w64(b, kdbg + 0x58, kaddr64(b, kb0 + OFF_CID_TABLE));
	w64(b, kdbg + 0x98, kaddr64(b, kb0 + OFF_ROOT_DIR));
	w64(b, kdbg + 0xA0, kaddr64(b, kb0 + OFF_TYPE_TYPE));
	w64(b, kdbg + 0x1B8, kaddr64(b, kbp_variable(b->pool_tags, kb0)));	/* kb_pool.c */
	if (b->o.kdbg_encoded) {
		/* inverse of L7 "KDBG decoding": v ^= A; bswap; v ^= KDBG address;
		 * ror by (N & 0xFF); v ^= N */
		for (uint64_t off = 0; off + 8 <= L->kdbg_size; off += 8) {
			uint64_t v = db_mem_read_u64(b->m, kdbg + off);
			v ^= KB_WAIT_ALWAYS;
			v = bswap64(v);
			v ^= kdbg;
			v = ror64(v, (unsigned)(KB_WAIT_NEVER & 0xFF));
			v ^= KB_WAIT_NEVER;
			w64(b, kdbg + off, v);
			/* check the inverse */
			uint64_t d = v ^ KB_WAIT_NEVER;
			d = rol64(d, (unsigned)(KB_WAIT_NEVER & 0xFF));
			d ^= kdbg;
			d = bswap64(d);
			d ^= KB_WAIT_ALWAYS;
			(void)d;
		}
	}
}

/* ------------------------------------------------------------------------
 * .expect
 * ---------------------------------------------------------------------- */
static const char *arch_name(enum db_kd_arch a)
{
	return a == DB_KD_X64 ? "x64" : a == DB_KD_X86_PAE ? "x86pae" : a == DB_KD_ARM64 ? "arm64" : "x86";
}

static int write_expect(struct kb *b, const char *path, uint64_t kdbg, uint64_t head)
{
	const struct kb_lay *L = b->L;
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	static char buf[1 << 16];
	setvbuf(f, buf, _IOFBF, sizeof buf);
	fprintf(f, "# kobjbuilder expectation file (format: tests/builder/kernel/README.md)\n");
	fprintf(f, "scenario %s\narch %s\nbuild %u\ndump_type %u\n", b->scenario,
		arch_name(b->arch), b->build, b->dump_type);
	fprintf(f, "cookie 0x%x\n", L->cookie ? b->o.cookie : 0);
	fprintf(f, "type_lists %s\n", b->o.type_lists ? "yes" : "no");
	fprintf(f, "kdbg 0x%llx %s\n", (unsigned long long)kdbg,
		b->o.kdbg_encoded ? "encoded" : "KDBG");
	fprintf(f, "ps_active_process_head 0x%llx\n", (unsigned long long)head);
	fprintf(f, "type_type 0x%llx\n", (unsigned long long)b->obj[b->typ[b->t_type].obj].body);
	for (size_t t = 0; t < b->ntyp; t++) {
		uint32_t objects = 0, handles = 0;
		for (size_t i = 0; i < b->nobj; i++)
			if (b->obj[i].type == (int)t) {
				objects++;
				handles += b->obj[i].handles;
			}
		bool list = type_list_kept(b, (int)t) && objects > 0;
		fprintf(f, "type 0x%llx index=%u name=%s objects=%u handles=%u list=%s\n",
			(unsigned long long)b->obj[b->typ[t].obj].body, b->typ[t].index,
			b->typ[t].name, objects, handles, list ? "yes" : "no");
	}
	bool loop = false;
	for (size_t i = 0; i < b->nproc; i++) {
		const struct kb_proc *p = &b->proc[i];
		if (p->loop_to >= 0)
			loop = true;
		if (!p->reachable)
			continue;
		size_t visible = 0;
		for (size_t k = 0; k < p->nh; k++)
			visible += !p->h[k].lost;
		fprintf(f, "process 0x%llx pid=%u ppid=%u name=\"%s\" dtb=0x%llx object_table=0x%llx "
			"peb=0x%llx handles=%zu table_code=0x%llx level=%u\n",
			(unsigned long long)b->obj[p->obj].body, p->pid, p->ppid, p->image,
			(unsigned long long)p->dtb, (unsigned long long)p->table,
			(unsigned long long)p->peb, visible, (unsigned long long)p->table_code,
			p->level);
	}
	fprintf(f, "process_list %s\n", loop ? "loop" : "complete");
	for (size_t i = 0; i < b->nproc; i++) {
		const struct kb_proc *p = &b->proc[i];
		if (!p->reachable)
			continue;
		size_t lost = 0;
		for (size_t k = 0; k < p->nh; k++) {
			const struct kb_hnd *h = &p->h[k];
			if (h->lost) {
				lost++;
				continue;
			}
			if (b->o.no_handle_lines)
				continue;
			const struct kb_obj *o = &b->obj[h->obj];
			fprintf(f, "handle pid=%u value=0x%x object=0x%llx header=0x%llx type=%s "
				"access=0x%x attributes=%u\n", p->pid, h->index * 4,
				(unsigned long long)o->body, (unsigned long long)o->hdr,
				b->typ[o->type].name, h->access, h->attrs);
		}
		if (lost)
			fprintf(f, "handles_lost pid=%u page=%d count=%zu\n", p->pid, p->lost_page, lost);
	}
	/* IoCompletion objects, with visible holders */
	int deepest = -1;
	for (size_t i = 0; i < b->nicp; i++) {
		const struct kb_icp *q = &b->icp[i];
		const struct kb_obj *o = &b->obj[q->obj];
		char holders[4096];
		size_t hl = 0, nh = 0, hidden = 0;
		holders[0] = 0;
		for (size_t pi = 0; pi < b->nproc; pi++) {
			const struct kb_proc *p = &b->proc[pi];
			for (size_t k = 0; k < p->nh; k++) {
				if (p->h[k].obj != q->obj)
					continue;
				if (!p->reachable || p->h[k].lost) {
					hidden++;
					continue;
				}
				if (hl < sizeof holders - 40)
					hl += (size_t)snprintf(holders + hl, sizeof holders - hl, "%s%u:0x%x",
							       nh ? "," : "", p->pid, p->h[k].index * 4);
				nh++;
			}
		}
		bool found = b->o.type_lists || nh > 0;
		bool complete = q->corrupt_at < 0;
		uint64_t listlen = complete ? q->depth : (uint64_t)q->corrupt_at + 1;
		fprintf(f, "icp 0x%llx queued=%d list=%llu complete=%s maximum=%d current=%d threads=%u "
			"name=%s found=%s hidden_holders=%zu holders=%s\n",
			(unsigned long long)o->body, q->signal, (unsigned long long)listlen,
			complete ? "yes" : "no", q->maximum, q->current, q->nthreads,
			o->name ? o->name : "-", found ? "yes" : "no", hidden, nh ? holders : "-");
		/* pool bytes of the reachable packets: each packet is its own
		 * 'IoCp' pool block (pool_alloc: header + body rounded up) */
		uint64_t unit = L->ps == 8 ? 16 : 8;
		uint64_t block = (L->pool_hdr + L->pk_size + unit - 1) & ~(unit - 1);
		fprintf(f, "icp_pool 0x%llx packets=%llu bytes=%llu tag=IoCp\n", (unsigned long long)o->body,
			(unsigned long long)listlen, (unsigned long long)(listlen * block));
		if (found && (deepest < 0 || q->signal > b->icp[deepest].signal))
			deepest = (int)i;
	}
	kbp_expect(b->pool_tags, f);
	if (deepest >= 0)
		fprintf(f, "icpleak source=%s deepest=0x%llx queued=%d\n",
			b->o.type_lists ? "type_list" : "handle_tables",
			(unsigned long long)b->obj[b->icp[deepest].obj].body, b->icp[deepest].signal);
	if (fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

void kb_set_write_hook(struct kb *b, kb_write_hook *fn, void *arg)
{
	b->hook = fn;
	b->hook_arg = arg;
}

struct db_mem *kb_mem(struct kb *b) { return b->m; }
uint64_t kb_kernel_dtb(const struct kb *b) { return b->kdtb; }
uint64_t kb_kernbase(const struct kb *b) { return b->L->kernbase; }
uint64_t kb_ps_loaded_module_list(const struct kb *b) { return b->L->kernbase + OFF_PS_LOADED; }

int kb_write(struct kb *b, const char *dmp, const char *expect)
{
	const struct kb_lay *L = b->L;
	if (b->t_type < 0)
		die("no Type type");
	if (b->t_directory >= 0 && !b->root_dir) {
		/* ObpRootDirectoryObject: an empty _OBJECT_DIRECTORY (37 hash
		 * buckets, L8 ❓), no name */
		int o = kb_object(b, b->t_directory, 37 * L->ps + 0x30, 0, NULL, 0xFF);
		b->root_dir = b->obj[o].body;
	}
	uint64_t head = L->kernbase + OFF_PS_ACTIVE;
	uint64_t kdbg = L->kernbase + OFF_KDBG;
	map_range(b, head, 16);
	write_headers(b);
	write_types(b);
	write_processes(b, head);
	write_handle_tables(b);
	write_icp_corruptions(b);
	/* pool tracker tables below the nonpaged pool region (kb_pool.c) */
	kbp_write(b->pool_tags, b->kd, b->kdtb, b->m, L->kernbase,
		  L->ps == 8 ? L->pool_base - 0x1000000 : L->pool_base - 0x800000);
	write_kdbg(b, kdbg, head);
	struct db_kd_header *h = db_kd_header(b->kd);
	h->ps_active_process_head = head;
	h->ps_loaded_module_list = L->kernbase + OFF_PS_LOADED;
	h->kd_debugger_data_block = kdbg;
	h->bugcheck_code = 0xE2;	/* MANUALLY_INITIATED_CRASH */
	h->comment = "kobjbuilder scenario";
	if (b->hook)
		b->hook(b, b->hook_arg);
	if (db_kd_write_file(b->kd, dmp) != 0) {
		fprintf(stderr, "kobjbuilder: %s: %s\n", dmp, db_error());
		return -1;
	}
	return write_expect(b, expect, kdbg, head);
}
