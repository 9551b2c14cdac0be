/* SPDX-License-Identifier: MIT */
/*
 * Page-heap scenario builder, core: processes (PEB, TEBs, stacks, contexts,
 * modules, memory info), the +ust stack trace database, NT heaps and page
 * heaps.  Offsets: phb_lay.h (each names its source); algorithms and
 * choices: README.md.  Never derived from src/heap or src/types.
 */
#include "phb_core.h"

#include <stdlib.h>
#include <string.h>

uint64_t phb_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

uint32_t phb_rand(struct phb_proc *P)
{
	P->rnd = P->rnd * 1103515245u + 12345u;
	return (P->rnd >> 8) & 0xFFFFFF;
}

void phb_wptr(struct phb_proc *P, uint64_t va, uint64_t v)
{
	if (P->L->ps == 8)
		db_mem_write_u64(P->m, va, v);
	else
		db_mem_write_u32(P->m, va, (uint32_t)v);
}

uint64_t phb_rptr(struct phb_proc *P, uint64_t va)
{
	return P->L->ps == 8 ? db_mem_read_u64(P->m, va) : db_mem_read_u32(P->m, va);
}

void phb_list_init(struct phb_proc *P, uint64_t head)
{
	phb_wptr(P, head, head);
	phb_wptr(P, head + P->L->ps, head);
}

/* Inserts node at the tail of the circular LIST_ENTRY list at head. */
void phb_list_add(struct phb_proc *P, uint64_t head, uint64_t node)
{
	unsigned ps = P->L->ps;
	uint64_t last = phb_rptr(P, head + ps);
	phb_wptr(P, node, head);
	phb_wptr(P, node + ps, last);
	phb_wptr(P, last, node);
	phb_wptr(P, head + ps, node);
}

static void die(const char *what)
{
	fprintf(stderr, "mkpageheapdump: %s\n", what);
	abort();
}

/* ---------------------------------------------------------------- process */

void phb_begin(struct phb_proc *P, const struct phb_lay *L, bool wow, uint32_t build,
	       FILE *ex, const char *name)
{
	memset(P, 0, sizeof *P);
	P->L = L;
	P->wow = wow;
	P->ex = ex;
	P->rnd = 0x9E3779B9u;
	for (const char *s = name; *s; s++)
		P->rnd = P->rnd * 31 + (uint8_t)*s;
	P->md = db_md_new(wow || L->x64 ? DB_ARCH_X64 : DB_ARCH_X86, 10, 0, build);
	if (wow)
		db_md_set_wow64(P->md);
	P->m = db_md_mem(P->md);
	fprintf(ex, "# mkpageheapdump %s: see tests/builder/pageheap/README.md\n", name);
	fprintf(ex, "scenario %s arch=%s build=%u\n", name, wow ? "wow64" : L->x64 ? "x64" : "x86",
		build);
}

void phb_region(struct phb_proc *P, uint64_t base, uint64_t size, uint32_t state,
		uint32_t protect, uint32_t type, bool capture)
{
	if (P->nregions == PHB_MAX)
		die("too many regions");
	P->regions[P->nregions++] = (struct phb_region){ base, size, state, protect, type, capture,
		false, -1 };
}

void phb_heapmem(struct phb_proc *P, uint64_t base, uint64_t size, uint32_t protect, bool capture)
{
	phb_region(P, base, size, 0x1000, protect, 0x20000, capture);
	P->regions[P->nregions - 1].heapmem = true;
}

#define MEM_COMMIT 0x1000u
#define MEM_RESERVE 0x2000u
#define MEM_PRIVATE 0x20000u
#define MEM_IMAGE 0x1000000u
#define PAGE_NOACCESS 0x01u
#define PAGE_READONLY 0x02u
#define PAGE_READWRITE 0x04u
#define PAGE_EXECUTE_READ 0x20u

void phb_private(struct phb_proc *P, uint64_t base, uint64_t size)
{
	phb_region(P, base, size, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE, true);
}

/* A module: MZ/PE headers (enough for a reader that checks them), a code
 * part and a writable data part in the last quarter of the image; the
 * whole image is captured (as a full-memory dump does). */
unsigned phb_module(struct phb_proc *P, const char *path, uint64_t base, uint32_t size)
{
	if (P->nmods == 12)
		die("too many modules");
	const char *s = strrchr(path, '\\');
	struct phb_mod *M = &P->mods[P->nmods];
	/* size 0: a module the WOW64 writer already listed (SysWOW64 ntdll,
	 * dumpbuilder.h db_md_set_wow64): capture its image only */
	bool listed = size == 0;
	if (listed)
		size = 0x1A4000;
	M->name = s ? s + 1 : path;
	M->base = base;
	M->size = size;
	M->data = base + phb_up(size * 3 / 4, 0x1000);
	bool x64 = P->L->x64;
	db_mem_write_u16(P->m, base, 0x5A4D);			/* "MZ" */
	db_mem_write_u32(P->m, base + 0x3C, 0x80);		/* e_lfanew */
	db_mem_write_u32(P->m, base + 0x80, 0x4550);		/* "PE\0\0" */
	db_mem_write_u16(P->m, base + 0x84, x64 ? 0x8664 : 0x14C);
	db_mem_write_u16(P->m, base + 0x94, x64 ? 0xF0 : 0xE0);	/* SizeOfOptionalHeader */
	db_mem_write_u16(P->m, base + 0x98, x64 ? 0x20B : 0x10B);	/* Magic */
	db_mem_write_u32(P->m, base + 0x98 + 0x38, size);	/* SizeOfImage */
	phb_region(P, base, 0x1000, MEM_COMMIT, PAGE_READONLY, MEM_IMAGE, true);
	phb_region(P, base + 0x1000, M->data - base - 0x1000, MEM_COMMIT, PAGE_EXECUTE_READ,
		   MEM_IMAGE, true);
	phb_region(P, M->data, base + size - M->data, MEM_COMMIT, PAGE_READWRITE, MEM_IMAGE, true);
	struct db_md_module dm = { .name = path, .base = base, .size = size,
		.timestamp = 0x5F000000u + P->nmods, .file_version = { 10, 0, 19041, 1 } };
	if (!listed)
		db_md_add_module(P->md, &dm);
	fprintf(P->ex, "module name=%s base=0x%llx size=0x%x data=0x%llx\n", M->name,
		(unsigned long long)base, size, (unsigned long long)M->data);
	return P->nmods++;
}

void phb_thread(struct phb_proc *P, uint32_t id, uint64_t teb, uint64_t limit, uint64_t base,
		const struct phb_regs *r)
{
	const struct phb_lay *L = P->L;
	/* WOW64: the dump's contexts are AMD64 (the 64-bit writer); the 32-bit
	 * TEB sits at TEB64 + 0x2000 (dumpbuilder.h). */
	const struct phb_lay *CL = P->wow ? &phb_x64 : L;
	uint64_t teb32 = P->wow ? teb + DB_WOW64_TEB32_OFFSET : teb;
	phb_wptr(P, teb32 + L->teb_stackbase, base);
	phb_wptr(P, teb32 + L->teb_stacklimit, limit);
	phb_wptr(P, teb32 + L->teb_self, teb32);
	phb_wptr(P, teb32 + L->teb_peb, P->peb);
	if (P->wow) {
		db_mem_write_u64(P->m, teb + phb_x64.teb_self, teb);
		db_mem_write_u64(P->m, teb + phb_x64.teb_peb, P->peb - 0x1000);	/* PEB64 */
		phb_private(P, teb, 0x4000);
	} else {
		phb_private(P, teb, 0x2000);
	}
	phb_private(P, limit, base - limit);
	uint8_t ctx[0x4D0];
	memset(ctx, 0, sizeof ctx);
#define PUTR(off, v) do { uint64_t v_ = (v); memcpy(ctx + (off), &v_, CL->ps); } while (0)
	uint32_t fl = CL->c_full;
	memcpy(ctx + CL->c_flags, &fl, 4);
	PUTR(CL->c_sp, r->sp);
	PUTR(CL->c_pc, r->pc);
	PUTR(CL->c_ax, r->ax);
	PUTR(CL->c_bx, r->bx);
	PUTR(CL->c_cx, r->cx);
	PUTR(CL->c_dx, r->dx);
	PUTR(CL->c_si, r->si);
	PUTR(CL->c_di, r->di);
	PUTR(CL->c_bp, r->bp);
#undef PUTR
	if (P->nthreads == 16)
		die("too many threads");
	uint64_t *rg = P->regs[P->nthreads++];
	rg[0] = r->sp; rg[1] = r->pc; rg[2] = r->ax; rg[3] = r->bx; rg[4] = r->cx;
	rg[5] = r->dx; rg[6] = r->si; rg[7] = r->di; rg[8] = r->bp;
	struct db_md_thread t = { .id = id, .teb = teb, .stack_start = r->sp & ~0xFull,
		.stack_size = (uint32_t)(base - (r->sp & ~0xFull)), .context = ctx,
		.context_size = CL->c_size };
	db_md_add_thread(P->md, &t);
	fprintf(P->ex, "thread id=0x%x teb=0x%llx stack_base=0x%llx stack_limit=0x%llx sp=0x%llx pc=0x%llx\n",
		id, (unsigned long long)teb32, (unsigned long long)base, (unsigned long long)limit,
		(unsigned long long)r->sp, (unsigned long long)r->pc);
}

void phb_peb(struct phb_proc *P, uint64_t peb, uint64_t process_heap, uint32_t ntgf,
	     uint64_t array)
{
	const struct phb_lay *L = P->L;
	P->peb = peb;
	P->heaps_array = array;
	phb_wptr(P, peb + L->peb_heap, process_heap);
	db_mem_write_u32(P->m, peb + L->peb_ntgf, ntgf);
	db_mem_write_u32(P->m, peb + L->peb_maxheaps, 16);
	phb_wptr(P, peb + L->peb_heaps, array);
	phb_private(P, peb, 0x1000);
	phb_private(P, array, 0x1000);
	if (P->wow) {
		/* PEB64 one page below; TEB64+0x60 is written by phb_thread
		 * callers through teb_peb of the x64 layout. */
		phb_private(P, peb - 0x1000, 0x1000);
	}
	fprintf(P->ex, "peb 0x%llx process_heap=0x%llx ntglobalflag=0x%x heaps_array=0x%llx\n",
		(unsigned long long)peb, (unsigned long long)process_heap, ntgf,
		(unsigned long long)array);
}

static int region_cmp(const void *a, const void *b)
{
	const struct phb_region *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

int phb_finish(struct phb_proc *P, const char *dmp)
{
	const struct phb_lay *L = P->L;
	db_mem_write_u32(P->m, P->peb + L->peb_nheaps, P->nheaps);
	for (unsigned i = 0; i < P->nheaps; i++)
		phb_wptr(P, P->heaps_array + i * L->ps, P->heaps[i]);
	qsort(P->regions, P->nregions, sizeof P->regions[0], region_cmp);
	int captured = 0;
	for (unsigned i = 0; i < P->nregions; i++) {
		struct phb_region *r = &P->regions[i];
		r->index = r->capture ? captured++ : -1;
		if (i && r->base < P->regions[i - 1].base + P->regions[i - 1].size)
			die("overlapping regions");
		struct db_md_meminfo mi = { .base = r->base, .allocation_base = r->base,
			.allocation_protect = r->protect ? r->protect : PAGE_READWRITE,
			.region_size = r->size, .state = r->state, .protect = r->protect,
			.type = r->type };
		db_md_add_meminfo(P->md, &mi);
		if (r->capture)
			db_md_add_memory(P->md, r->base, r->size, DB_LIST_64);
	}
	int rc = db_md_write(P->md, dmp);
	if (rc)
		fprintf(stderr, "mkpageheapdump: %s\n", db_error());
	if (!rc && P->post)
		rc = P->post(P, dmp);
	db_md_free(P->md);
	return rc;
}

/* ---------------------------------------------------------- stack traces */

void phb_ust_db(struct phb_proc *P, uint64_t db, uint64_t size, uint64_t anchor)
{
	const struct phb_lay *L = P->L;
	P->db = db;
	P->db_top = db + size;
	/* 37 buckets after the fixed part; entries from LowerMemoryStart up,
	 * EntryIndexArray at the top, indexed [-1 .. -N] (WRK stktrace.h). */
	P->db_lower = phb_up(db + L->d_buckets + 37 * L->d_bucket_size, 0x10);
	phb_wptr(P, db + L->d_lowerstart, P->db_lower);
	db_mem_write_u8(P->m, db + L->d_precommitted, 0);
	phb_wptr(P, db + L->d_commitbase, db);
	phb_wptr(P, db + L->d_indexarray, P->db_top);
	db_mem_write_u32(P->m, db + L->d_nbuckets, 37);
	if (anchor)
		phb_wptr(P, anchor, db);
	phb_private(P, db, size);
}

int phb_stack(struct phb_proc *P, const struct phb_frame *frames, unsigned n)
{
	if (P->nstacks == 64 || n > 32)
		die("too many stacks / frames");
	int id = (int)P->nstacks++;
	P->stacks[id].f = frames;
	P->stacks[id].n = n;
	const struct phb_lay *L = P->L;
	uint64_t e = 0;
	if (P->db) {
		unsigned index = ++P->ntraces;
		e = P->db_lower;
		P->db_lower += phb_up(L->t_size, 0x10);
		db_mem_write_u16(P->m, e + L->t_count, 1);	/* TraceCount:11, BlockDepth:5 */
		db_mem_write_u16(P->m, e + L->t_indexhigh, 0);
		db_mem_write_u16(P->m, e + L->t_index, (uint16_t)index);
		db_mem_write_u16(P->m, e + L->t_depth, (uint16_t)n);
		P->db_entries[index - 1] = e;
		P->trace_stack[index - 1] = id;
		phb_wptr(P, P->db_top - (uint64_t)index * L->ps, e);
		/* hash chain: bucket index % 37, newest first */
		uint64_t bucket = P->db + L->d_buckets + (index % 37) * L->d_bucket_size;
		phb_wptr(P, e + L->t_hash, phb_rptr(P, bucket));
		phb_wptr(P, bucket, e);
	}
	P->stacks[id].entry = e;
	fprintf(P->ex, "stack id=%d entry=0x%llx index=%u depth=%u\n", id, (unsigned long long)e,
		P->db ? P->ntraces : 0, n);
	for (unsigned i = 0; i < n; i++) {
		const struct phb_frame *f = &frames[i];
		uint64_t a = f->mod < 0 ? f->off : P->mods[f->mod].base + f->off;
		if (e)
			phb_wptr(P, e + L->t_bt + (uint64_t)i * L->ps, a);
		if (f->mod < 0)
			fprintf(P->ex, "frame stack=%d n=%u addr=0x%llx module=- offset=- text=0x%llx\n",
				id, i, (unsigned long long)a, (unsigned long long)a);
		else
			fprintf(P->ex, "frame stack=%d n=%u addr=0x%llx module=%s offset=0x%llx text=%s+0x%llx\n",
				id, i, (unsigned long long)a, P->mods[f->mod].name,
				(unsigned long long)f->off, P->mods[f->mod].name,
				(unsigned long long)f->off);
	}
	return id;
}

uint64_t phb_stack_entry(struct phb_proc *P, int id)
{
	return id < 0 ? 0 : P->stacks[id].entry;
}

/* Bumps TraceCount of the trace used by one more allocation. */
static void trace_use(struct phb_proc *P, int id)
{
	uint64_t e = phb_stack_entry(P, id);
	if (!e)
		return;
	uint16_t v = db_mem_read_u16(P->m, e + P->L->t_count);
	uint16_t cnt = (uint16_t)((v & 0x7FF) + 1);
	db_mem_write_u16(P->m, e + P->L->t_count, (uint16_t)((v & ~0x7FFu) | (cnt & 0x7FF)));
}

void phb_ust_finish(struct phb_proc *P)
{
	const struct phb_lay *L = P->L;
	if (!P->db)
		return;
	/* the first trace_use call started each count at 1 + uses: undo the
	 * initial 1 so TraceCount = number of allocations recorded */
	for (unsigned i = 0; i < P->ntraces; i++) {
		uint64_t e = P->db_entries[i];
		uint16_t v = db_mem_read_u16(P->m, e + L->t_count);
		if ((v & 0x7FF) > 1)
			db_mem_write_u16(P->m, e + L->t_count, (uint16_t)(v - 1));
	}
	phb_wptr(P, P->db + L->d_nextlower, P->db_lower);
	phb_wptr(P, P->db + L->d_nextupper, P->db_top - (uint64_t)(P->ntraces + 1) * L->ps);
	phb_wptr(P, P->db + L->d_lowerlimit, phb_up(P->db_lower, 0x1000));
	phb_wptr(P, P->db + L->d_upperlimit, P->db_top - 0x1000);
	db_mem_write_u32(P->m, P->db + L->d_added, P->ntraces);
	db_mem_write_u32(P->m, P->db + L->d_lookedup, P->ntraces);
	db_mem_write_u32(P->m, P->db + L->d_nallocated, P->ntraces);
	fprintf(P->ex, "ust db=0x%llx entries=%u index_array=0x%llx\n", (unsigned long long)P->db,
		P->ntraces, (unsigned long long)P->db_top);
}

/* ---------------------------------------------------------------- blocks */

static struct phb_block *add_block(struct phb_proc *P)
{
	if (P->nblocks == PHB_MAX * 2)
		die("too many blocks");
	struct phb_block *b = &P->blocks[P->nblocks++];
	memset(b, 0, sizeof *b);
	b->alloc_stack = b->free_stack = -1;
	return b;
}

struct phb_block *phb_find_user(struct phb_proc *P, uint64_t user)
{
	for (unsigned i = 0; i < P->nblocks; i++)
		if (P->blocks[i].user == user)
			return &P->blocks[i];
	die("no block with that user address");
	return NULL;
}

/* ---------------------------------------------------------------- NT heap */

/* The encoded small header (layouts.md section 2 _HEAP_ENTRY, Algorithm A). */
static bool corrupt_next;

static void put_entry(struct phb_proc *P, struct phb_nt *N, uint64_t e, uint16_t size,
		      uint8_t flags, uint16_t prev, uint8_t unused)
{
	uint8_t b[8];
	b[0] = (uint8_t)size;
	b[1] = (uint8_t)(size >> 8);
	b[2] = flags;
	b[3] = (uint8_t)(b[0] ^ b[1] ^ b[2]);
	if (corrupt_next)
		b[3] ^= 0x5A;
	corrupt_next = false;
	b[4] = (uint8_t)prev;
	b[5] = (uint8_t)(prev >> 8);
	b[6] = 0;
	b[7] = unused;
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	v ^= N->key;
	uint64_t at = e + (P->L->unit == 16 ? 8 : 0);
	db_mem_write_u32(P->m, at, (uint32_t)v);
	db_mem_write_u32(P->m, at + 4, (uint32_t)(v >> 32));
}

void phb_nt_begin(struct phb_proc *P, struct phb_nt *N, uint64_t H, uint32_t flags,
		  uint64_t size, bool ust)
{
	const struct phb_lay *L = P->L;
	memset(N, 0, sizeof *N);
	N->heap = H;
	N->ust = ust;
	N->key = ((uint64_t)phb_rand(P) << 40) ^ ((uint64_t)phb_rand(P) << 20) ^ phb_rand(P);
	N->key ^= 0x1F2E3D4C5B6A7988ull;
	if (L->ps == 4)
		N->key &= 0xFFFFFFFFu;
	db_mem_write_u32(P->m, H + L->h_flags, flags);
	db_mem_write_u32(P->m, H + L->h_force, 0);
	db_mem_write_u32(P->m, H + L->h_encmask, 0x00100000u);
	db_mem_write_u64(P->m, H + L->h_encoding + (L->ps == 8 ? 8 : 0), N->key);
	if (L->ps == 4)
		db_mem_write_u32(P->m, H + L->h_encoding + 4, 0);
	db_mem_write_u32(P->m, H + L->h_sig, 0xEEFFEEFFu);
	phb_list_init(P, H + L->h_ucrlist);
	phb_list_init(P, H + L->h_vab);
	phb_list_init(P, H + L->h_seglist);
	/* segment 0 = the heap */
	uint64_t hdr = L->ps == 8 ? 0x800 : 0x400;
	db_mem_write_u32(P->m, H + L->s_sig, 0xFFEEFFEEu);
	phb_list_add(P, H + L->h_seglist, H + L->s_listentry);
	phb_wptr(P, H + L->s_heap, H);
	phb_wptr(P, H + L->s_base, H);
	db_mem_write_u32(P->m, H + L->s_pages, (uint32_t)(size / 0x1000));
	phb_wptr(P, H + L->s_first, H + hdr);
	phb_wptr(P, H + L->s_last, H + size);
	phb_list_init(P, H + L->s_ucrlist);
	phb_heapmem(P, H, size, PAGE_READWRITE, true);
	P->heaps[P->nheaps++] = H;
	fprintf(P->ex, "heap 0x%llx type=nt flags=0x%x segments=1 ust=%d\n", (unsigned long long)H,
		flags, ust ? 1 : 0);
	fprintf(P->ex, "segment base=0x%llx first=0x%llx last=0x%llx\n", (unsigned long long)H,
		(unsigned long long)(H + hdr), (unsigned long long)(H + size));
	/* the segment header block (holds _HEAP) */
	put_entry(P, N, H, (uint16_t)(hdr / L->unit), 0x01, 0, (uint8_t)L->unit);
	struct phb_block *b = add_block(P);
	*b = (struct phb_block){ .header = H, .user = H + L->unit, .size = hdr - L->unit,
		.bsize = hdr, .heap = H, .state = "busy", .layer = "backend", .meta = true,
		.alloc_stack = -1, .free_stack = -1 };
	N->cur = H + hdr;
	N->end = H + size;
	N->prev = (uint16_t)(hdr / L->unit);
}

uint64_t phb_nt_busy(struct phb_proc *P, struct phb_nt *N, uint64_t req, int stack,
		     uint8_t fill)
{
	const struct phb_lay *L = P->L;
	unsigned u = L->unit;
	bool extra = N->ust && stack >= 0;
	uint64_t bs = phb_up(req + u + (extra ? L->extra_size : 0), u);
	if (bs == u)
		bs += u;
	uint64_t e = N->cur;
	if (e + bs > N->end)
		die("NT segment full");
	uint8_t flags = (uint8_t)(0x01 | (extra ? 0x02 : 0));
	put_entry(P, N, e, (uint16_t)(bs / u), flags, N->prev, (uint8_t)(bs - req));
	db_mem_fill(P->m, e + u, fill, req);
	unsigned index = 0;
	if (extra) {
		/* _HEAP_ENTRY_EXTRA in the block's last unit (RtlpGetExtraStuffPointer) */
		index = (unsigned)stack + 1;
		db_mem_write_u16(P->m, e + bs - L->extra_size, (uint16_t)index);
		trace_use(P, stack);
	}
	N->prev = (uint16_t)(bs / u);
	N->cur += bs;
	struct phb_block *b = add_block(P);
	*b = (struct phb_block){ .header = e, .user = e + u, .size = req, .bsize = bs,
		.heap = N->heap, .state = "busy", .layer = "backend", .alloc_stack = extra ? stack : -1,
		.free_stack = -1, .trace_index = index };
	return e + u;
}

void phb_nt_free(struct phb_proc *P, struct phb_nt *N, uint64_t bsize, uint8_t fill)
{
	const struct phb_lay *L = P->L;
	uint64_t e = N->cur;
	if (e + bsize > N->end || bsize % L->unit || !bsize)
		die("bad free block");
	put_entry(P, N, e, (uint16_t)(bsize / L->unit), 0, N->prev, 0);
	/* free blocks hold FreeList links in their first user bytes; we fill
	 * the rest */
	if (bsize > 3 * L->unit)
		db_mem_fill(P->m, e + 3 * L->unit, fill, bsize - 3 * L->unit);
	N->prev = (uint16_t)(bsize / L->unit);
	N->cur += bsize;
	struct phb_block *b = add_block(P);
	*b = (struct phb_block){ .header = e, .user = e + L->unit, .size = 0, .bsize = bsize,
		.heap = N->heap, .state = "free", .layer = "backend", .alloc_stack = -1,
		.free_stack = -1 };
}

/* LFH (layouts.md section 3, Algorithm B).  The _LFH_HEAP and the
 * _HEAP_SUBSEGMENTs live in the process's private scratch region. */
uint64_t phb_nt_lfh(struct phb_proc *P, struct phb_nt *N, unsigned stride, unsigned count,
		    const uint64_t *busy, uint64_t *users, bool encode)
{
	const struct phb_lay *L = P->L;
	unsigned u = L->unit;
	if (!N->lfh) {
		N->lfh = P->priv_cur;
		P->priv_cur += L->ps == 8 ? 0xD00 : 0x800;
		phb_wptr(P, N->lfh + L->lfh_heap, N->heap);
		phb_wptr(P, N->heap + L->h_feh, N->lfh);
		db_mem_write_u8(P->m, N->heap + L->h_feht, 2);
	}
	uint64_t bitmap_bytes = phb_up((count + 7) / 8, 8);
	uint64_t fao = phb_up(L->ub_bitmapdata + bitmap_bytes, 16);
	uint64_t ubsize = fao + (uint64_t)count * stride;
	uint64_t bs = phb_up(ubsize + u, u);
	uint64_t e = N->cur, ub = e + u;
	if (e + bs > N->end)
		die("NT segment full (LFH)");
	put_entry(P, N, e, (uint16_t)(bs / u), 0x09, N->prev, (uint8_t)(bs - ubsize));
	N->prev = (uint16_t)(bs / u);
	N->cur += bs;
	struct phb_block *cb = add_block(P);
	*cb = (struct phb_block){ .header = e, .user = ub, .size = ubsize, .bsize = bs,
		.heap = N->heap, .state = "internal", .layer = "backend", .meta = true,
		.alloc_stack = -1, .free_stack = -1 };
	uint64_t ss = P->priv_cur;
	P->priv_cur += 0x40;
	phb_wptr(P, ss + L->ss_userblocks, ub);
	db_mem_write_u16(P->m, ss + L->ss_blocksize, (uint16_t)(stride / u));
	db_mem_write_u16(P->m, ss + L->ss_blockcount, (uint16_t)count);
	phb_wptr(P, ub, ss);
	db_mem_write_u32(P->m, ub + L->ub_sig, 0xF0E0D0C0u);
	uint32_t off = (uint32_t)(fao | (uint64_t)stride << 16);
	off ^= (uint32_t)ub ^ (uint32_t)N->lfh ^ RTLP_LFH_KEY;
	db_mem_write_u32(P->m, ub + L->ub_encoff, off);
	phb_wptr(P, ub + L->ub_bitmap, count);
	phb_wptr(P, ub + L->ub_bitmap + L->ps, ub + L->ub_bitmapdata);
	for (unsigned i = 0; i < count; i++) {
		uint64_t blk = ub + fao + (uint64_t)i * stride;
		users[i] = blk + u;
		if (encode) {
			/* S5: decoded = (Heap ^ LFHKey ^ (E >> 4|3)) ^ enc;
			 * EntryOffset (units from UserBlocks) = decoded >> 12|13 */
			uint32_t eo = (uint32_t)((blk - ub) / u);
			uint32_t mask = L->x64 ? (uint32_t)(N->heap ^ RTLP_LFH_KEY ^ (blk >> 4))
					       : (uint32_t)(N->heap ^ RTLP_LFH_KEY ^ (blk >> 3));
			uint32_t enc = mask ^ (eo << (L->x64 ? 12 : 13));
			db_mem_write_u32(P->m, blk + (L->x64 ? 8 : 0), enc);
		}
		struct phb_block *b = add_block(P);
		if (busy[i]) {
			uint64_t cnt = stride - busy[i];
			db_mem_write_u8(P->m, blk + u - 1, (uint8_t)(0x80 | cnt));
			uint64_t bm = ub + L->ub_bitmapdata + i / 8;
			uint8_t cur = 0;
			db_mem_read(P->m, bm, &cur, 1);
			db_mem_write_u8(P->m, bm, (uint8_t)(cur | (1u << (i % 8))));
			db_mem_fill(P->m, blk + u, 0x6C, busy[i]);
			*b = (struct phb_block){ .header = blk, .user = blk + u, .size = busy[i],
				.bsize = stride, .heap = N->heap, .state = "busy", .layer = "lfh",
				.alloc_stack = -1, .free_stack = -1 };
		} else {
			*b = (struct phb_block){ .header = blk, .user = blk + u, .size = 0,
				.bsize = stride, .heap = N->heap, .state = "free", .layer = "lfh",
				.alloc_stack = -1, .free_stack = -1 };
		}
	}
	return ub;
}

uint64_t phb_nt_virtual(struct phb_proc *P, struct phb_nt *N, uint64_t v, uint64_t req,
			int stack)
{
	const struct phb_lay *L = P->L;
	uint64_t commit = phb_up(req + L->v_size, 0x1000);
	phb_list_add(P, N->heap + L->h_vab, v);
	phb_wptr(P, v + L->v_commit, commit);
	phb_wptr(P, v + L->v_reserve, commit);
	bool extra = N->ust && stack >= 0;
	/* BusyBlock.Size = CommitSize - requested (layouts.md section 10) */
	put_entry(P, N, v + L->v_busy, (uint16_t)(commit - req), (uint8_t)(0x01 | (extra ? 0x02 : 0)),
		  0, 0);
	if (extra) {
		db_mem_write_u16(P->m, v + L->v_extra, (uint16_t)(stack + 1));
		trace_use(P, stack);
	}
	db_mem_fill(P->m, v + L->v_size, 0x4C, req);
	phb_heapmem(P, v, commit, PAGE_READWRITE, true);
	struct phb_block *b = add_block(P);
	*b = (struct phb_block){ .header = v, .user = v + L->v_size, .size = req, .bsize = commit,
		.heap = N->heap, .state = "busy", .layer = "virtual",
		.alloc_stack = extra ? stack : -1, .free_stack = -1,
		.trace_index = extra ? (unsigned)stack + 1 : 0 };
	return v + L->v_size;
}

uint64_t phb_nt_busy_corrupt(struct phb_proc *P, struct phb_nt *N, uint64_t req, uint8_t fill)
{
	corrupt_next = true;
	uint64_t u = phb_nt_busy(P, N, req, -1, fill);
	P->blocks[P->nblocks - 1].corrupt = true;
	return u;
}

void phb_nt_end(struct phb_proc *P, struct phb_nt *N)
{
	if (N->cur < N->end)
		phb_nt_free(P, N, N->end - N->cur, 0);
}

/* -------------------------------------------------------------- page heap */

void phb_dph_begin(struct phb_proc *P, struct phb_dph *D, uint64_t handle, uint64_t normal,
		   uint32_t flags, bool light, uint64_t va_base, uint64_t va_size)
{
	const struct phb_lay *L = P->L;
	memset(D, 0, sizeof *D);
	D->handle = handle;
	D->root = handle + 0x1000;
	D->normal = normal;
	D->flags = flags;
	D->light = light;
	D->extra = DPH_EXTRA_STACK_TRACES | (light ? 0 : DPH_EXTRA_PAGE_HEAP);
	D->va_base = D->next_va = va_base;
	D->va_end = va_base + va_size;
	/* page 1: a fake _HEAP filled with DPH_FILL whose Flags and ForceFlags
	 * carry HEAP_FLAG_PAGE_ALLOCS (ReactOS RtlpPageHeapCreate,
	 * RtlpDphPointerFromHandle) */
	db_mem_fill(P->m, handle, DPH_FILL, 0x1000);
	db_mem_write_u32(P->m, handle + L->h_flags, flags | HEAP_FLAG_PAGE_ALLOCS);
	db_mem_write_u32(P->m, handle + L->h_force, flags | HEAP_FLAG_PAGE_ALLOCS);
	phb_heapmem(P, handle, 0x1000, PAGE_READONLY, true);
	/* page 2..: root + node pool (DPH_POOL_SIZE), then the lock */
	uint64_t R = D->root;
	db_mem_write_u32(P->m, R + L->r_sig, DPH_SIGNATURE);
	db_mem_write_u32(P->m, R + L->r_flags, flags);
	phb_wptr(P, R + L->r_crit, R + DPH_POOL_SIZE);
	phb_list_init(P, R + L->r_avail);
	db_mem_write_u32(P->m, R + L->r_extra, D->extra);
	db_mem_write_u32(P->m, R + L->r_seed, 0x1234ABCDu ^ (uint32_t)handle);
	phb_wptr(P, R + L->r_normal, normal);
	D->next_node = R + phb_up(L->r_size, 0x10);
	/* table header: BalancedRoot.Parent points to itself (RtlInitializeGenericTableAvl) */
	phb_wptr(P, R + L->r_busy + L->bl_parent, R + L->r_busy);
	phb_heapmem(P, handle + 0x1000, DPH_POOL_SIZE + 0x1000, PAGE_READWRITE, true);
	/* pool node and virtual storage node (RtlpPageHeapCreate) */
	uint64_t pn = D->next_node;
	D->next_node += L->n_size;
	phb_wptr(P, pn + L->n_virt, R);
	phb_wptr(P, pn + L->n_vsize, DPH_POOL_SIZE);
	phb_wptr(P, R + L->r_poolhead, pn);
	phb_wptr(P, R + L->r_pooltail, pn);
	db_mem_write_u32(P->m, R + L->r_npools, 1);
	phb_wptr(P, R + L->r_npoolbytes, DPH_POOL_SIZE);
	if (!light) {
		uint64_t vn = D->next_node;
		D->next_node += L->n_size;
		phb_wptr(P, vn + L->n_virt, va_base);
		phb_wptr(P, vn + L->n_vsize, va_size);
		phb_wptr(P, R + L->r_vhead, vn);
		phb_wptr(P, R + L->r_vtail, vn);
		db_mem_write_u32(P->m, R + L->r_nvranges, 1);
		phb_wptr(P, R + L->r_nvbytes, va_size);
	}
}

static uint64_t dph_node(struct phb_proc *P, struct phb_dph *D)
{
	uint64_t n = D->next_node;
	D->next_node += P->L->n_size;
	if (D->next_node > D->root + DPH_POOL_SIZE)
		die("DPH node pool full");
	return n;
}

/* Full page heap block geometry (ReactOS RtlpPageHeapAllocate; user
 * alignment 16 on x64 / 8 on x86): access = round_up(req + sizeof info,
 * page), virt = access + one guard page, user = virt + access - actual. */
static uint64_t dph_place(struct phb_proc *P, struct phb_dph *D, uint64_t req, int stack,
			  bool freed, int free_stack, bool captured, bool *reserved)
{
	const struct phb_lay *L = P->L;
	uint64_t actual = phb_up(req, L->ps == 8 ? 16 : 8);
	uint64_t access = phb_up(req + L->i_size, 0x1000);
	uint64_t vsize = access + 0x1000;
	uint64_t V = D->next_va;
	if (V + vsize > D->va_end)
		die("DPH virtual range full");
	D->next_va += vsize;
	uint64_t U = V + access - actual;
	uint64_t node = dph_node(P, D);
	phb_wptr(P, node + L->n_user, U);
	phb_wptr(P, node + L->n_virt, V);
	phb_wptr(P, node + L->n_vsize, vsize);
	phb_wptr(P, node + L->n_asize, access);
	phb_wptr(P, node + L->n_req, req);
	phb_wptr(P, node + L->n_actual, actual);
	/* busy: the node's StackTrace is the allocation trace; freed: the free
	 * trace (the block information keeps the allocation trace) */
	phb_wptr(P, node + L->n_trace, phb_stack_entry(P, freed ? free_stack : stack));
	uint64_t I = U - L->i_size;
	db_mem_write_u32(P->m, I + L->i_start, freed ? DPH_START_FREE : DPH_START_BUSY);
	phb_wptr(P, I + L->i_heap, D->root);
	phb_wptr(P, I + L->i_req, req);
	phb_wptr(P, I + L->i_actual, access);
	phb_wptr(P, I + L->i_trace, phb_stack_entry(P, stack));
	db_mem_write_u32(P->m, I + L->i_end, freed ? DPH_END_FREE : DPH_END_BUSY);
	db_mem_fill(P->m, U, DPH_PAGE_INFIX, req);
	db_mem_fill(P->m, U + req, DPH_PAGE_SUFFIX, V + access - (U + req));
	trace_use(P, stack);
	if (freed)
		trace_use(P, free_stack);
	if (!freed) {
		phb_heapmem(P, V, access, PAGE_READWRITE, true);
		phb_heapmem(P, V + access, 0x1000, PAGE_NOACCESS, false);
	} else {
		/* a freed block's pages are PAGE_NOACCESS; `captured` puts
		 * their bytes in the dump anyway (the test reads the
		 * allocation trace from the block information) */
		phb_heapmem(P, V, access, PAGE_NOACCESS, captured);
		phb_heapmem(P, V + access, 0x1000, PAGE_NOACCESS, false);
	}
	(void)reserved;
	struct phb_block *b = add_block(P);
	*b = (struct phb_block){ .header = I, .user = U, .size = req, .bsize = vsize,
		.heap = D->handle, .state = freed ? "free" : "busy", .layer = "page-heap",
		.kind = "full", .node = node, .virt = V, .vsize = vsize, .access = access,
		.alloc_stack = (freed && !captured) ? -1 : stack,
		.free_stack = freed ? free_stack : -1 };
	if (freed) {
		D->freed[D->nfree] = P->nblocks - 1;
		D->free_node[D->nfree++] = node;
	} else {
		D->busy[D->nbusy] = P->nblocks - 1;
		D->busy_node[D->nbusy++] = node;
	}
	return U;
}

uint64_t phb_dph_alloc(struct phb_proc *P, struct phb_dph *D, uint64_t req, int stack)
{
	return dph_place(P, D, req, stack, false, -1, true, NULL);
}

uint64_t phb_dph_free(struct phb_proc *P, struct phb_dph *D, uint64_t req, int alloc_stack,
		      int free_stack, bool captured)
{
	return dph_place(P, D, req, alloc_stack, true, free_stack, captured, NULL);
}

/* Light page heap block: an NT block of the normal heap whose user data
 * starts with a DPH_BLOCK_INFORMATION; the caller's data follows it, then
 * DPH_NORMAL_SUFFIX bytes up to the next 16-byte boundary plus 16. */
uint64_t phb_dph_light(struct phb_proc *P, struct phb_dph *D, struct phb_nt *N, uint64_t req,
		       int stack, bool freed, uint64_t queue)
{
	const struct phb_lay *L = P->L;
	uint64_t pad = phb_up(req, 16) - req + 16;
	bool ust = N->ust;
	N->ust = false;
	uint64_t nu = phb_nt_busy(P, N, L->i_size + req + pad, -1, 0);
	N->ust = ust;
	struct phb_block *nb = &P->blocks[P->nblocks - 1];
	uint64_t I = nu, U = nu + L->i_size;
	db_mem_write_u32(P->m, I + L->i_start, freed ? DPH_LIGHT_START_FREE : DPH_LIGHT_START_BUSY);
	phb_wptr(P, I + L->i_heap, D->root);
	phb_wptr(P, I + L->i_req, req);
	phb_wptr(P, I + L->i_actual, L->i_size + req + pad);
	phb_wptr(P, I + L->i_trace, phb_stack_entry(P, stack));
	db_mem_write_u32(P->m, I + L->i_end, freed ? DPH_LIGHT_END_FREE : DPH_LIGHT_END_BUSY);
	db_mem_fill(P->m, U, freed ? DPH_FREE_FILL : 0x5E, req);
	db_mem_fill(P->m, U + req, DPH_NORMAL_SUFFIX, pad);
	if (freed)
		phb_list_add(P, queue, I + L->i_queue);
	trace_use(P, stack);
	/* the NT view of the block is replaced by the page-heap view */
	uint64_t nt_user = nb->user, nt_size = nb->size, hdr = nb->header, bs = nb->bsize;
	*nb = (struct phb_block){ .header = hdr, .user = U, .size = req, .bsize = bs,
		.heap = D->handle, .state = freed ? "free" : "busy", .layer = "page-heap",
		.kind = "light", .node = nt_user, .virt = N->heap, .vsize = nt_size,
		.alloc_stack = freed ? -1 : stack, .free_stack = freed ? stack : -1 };
	if (freed)
		D->freed[D->nfree++] = P->nblocks - 1;
	else
		D->busy[D->nbusy++] = P->nblocks - 1;
	return U;
}

struct avl_build {
	struct phb_proc *P;
	uint64_t *nodes;
};

/* Links nodes[lo..hi) as a balanced subtree; returns (root node, height). */
static uint64_t avl_link(struct avl_build *A, int lo, int hi, uint64_t parent, int *height)
{
	const struct phb_lay *L = A->P->L;
	if (lo >= hi) {
		*height = 0;
		return 0;
	}
	int mid = (lo + hi) / 2;
	uint64_t n = A->nodes[mid];
	int hl, hr;
	uint64_t l = avl_link(A, lo, mid, n, &hl);
	uint64_t r = avl_link(A, mid + 1, hi, n, &hr);
	phb_wptr(A->P, n + L->bl_parent, parent);
	phb_wptr(A->P, n + L->bl_left, l);
	phb_wptr(A->P, n + L->bl_right, r);
	db_mem_write_u8(A->P->m, n + L->bl_balance, (uint8_t)(int8_t)(hr - hl));
	*height = 1 + (hl > hr ? hl : hr);
	return n;
}

static int u64cmp_user;
static struct phb_proc *sort_P;
static int node_cmp(const void *a, const void *b)
{
	uint64_t x = phb_rptr(sort_P, *(const uint64_t *)a + sort_P->L->n_user);
	uint64_t y = phb_rptr(sort_P, *(const uint64_t *)b + sort_P->L->n_user);
	(void)u64cmp_user;
	return x < y ? -1 : x > y;
}

void phb_dph_end(struct phb_proc *P, struct phb_dph *D)
{
	const struct phb_lay *L = P->L;
	uint64_t R = D->root;
	uint64_t busy_bytes = 0, busy_access = 0, free_bytes = 0;
	if (!D->light) {
		/* BusyNodesTable: every busy node, keyed by pUserAllocation
		 * (ReactOS RtlpDphPlaceOnBusyList); the tree hangs off
		 * BalancedRoot.RightChild */
		uint64_t nodes[64];
		memcpy(nodes, D->busy_node, D->nbusy * sizeof nodes[0]);
		sort_P = P;
		qsort(nodes, D->nbusy, sizeof nodes[0], node_cmp);
		struct avl_build A = { P, nodes };
		int h;
		uint64_t top = avl_link(&A, 0, (int)D->nbusy, R + L->r_busy, &h);
		phb_wptr(P, R + L->r_busy + L->bl_right, top);
		db_mem_write_u32(P->m, R + L->r_busy + L->avl_count, D->nbusy);
		db_mem_write_u32(P->m, R + L->r_busy + L->avl_depth, (uint32_t)h);
		for (unsigned i = 0; i < D->nbusy; i++) {
			busy_bytes += phb_rptr(P, D->busy_node[i] + L->n_vsize);
			busy_access += phb_rptr(P, D->busy_node[i] + L->n_asize);
		}
		/* freed nodes: pFreeAllocationListHead, linked by pNextAlloc,
		 * NULL-terminated (RtlpDphPlaceOnFreeList) */
		for (unsigned i = 0; i < D->nfree; i++) {
			uint64_t n = D->free_node[i];
			phb_wptr(P, n + L->n_next, i + 1 < D->nfree ? D->free_node[i + 1] : 0);
			free_bytes += phb_rptr(P, n + L->n_vsize);
		}
		phb_wptr(P, R + L->r_fhead, D->nfree ? D->free_node[0] : 0);
		phb_wptr(P, R + L->r_ftail, D->nfree ? D->free_node[D->nfree - 1] : 0);
		phb_wptr(P, R + L->r_nodetoalloc, D->nbusy ? D->busy_node[D->nbusy - 1] : 0);
	}
	db_mem_write_u32(P->m, R + L->r_nbusy, D->light ? 0 : D->nbusy);
	phb_wptr(P, R + L->r_nbusybytes, busy_bytes);
	phb_wptr(P, R + L->r_nbusyaccess, busy_access);
	db_mem_write_u32(P->m, R + L->r_nfree, D->light ? 0 : D->nfree);
	phb_wptr(P, R + L->r_nfreebytes, free_bytes);
	fprintf(P->ex, "dph handle=0x%llx root=0x%llx normal=0x%llx flags=0x%x extra=0x%x kind=%s busy=%u free=%u\n",
		(unsigned long long)D->handle, (unsigned long long)R, (unsigned long long)D->normal,
		D->flags | HEAP_FLAG_PAGE_ALLOCS, D->extra, D->light ? "light" : "full", D->nbusy,
		D->nfree);
}

void phb_print_by_stack(struct phb_proc *P)
{
	for (unsigned s = 0; s < P->nstacks; s++) {
		uint64_t n = 0, bytes = 0;
		for (unsigned i = 0; i < P->nblocks; i++) {
			const struct phb_block *b = &P->blocks[i];
			if (!strcmp(b->state, "busy") && b->alloc_stack == (int)s) {
				n++;
				bytes += b->size;
			}
		}
		if (n)
			fprintf(P->ex, "by_stack stack=%u count=%llu bytes=%llu\n", s,
				(unsigned long long)n, (unsigned long long)bytes);
	}
}

void phb_dph_list(struct phb_proc *P, uint64_t head, struct phb_dph **d, unsigned n)
{
	phb_list_init(P, head);
	for (unsigned i = 0; i < n; i++)
		phb_list_add(P, head, d[i]->root + P->L->r_next);
	fprintf(P->ex, "dph_list head=0x%llx count=%u\n", (unsigned long long)head, n);
}

/* ----------------------------------------------------------------- output */

void phb_print_blocks(struct phb_proc *P)
{
	for (unsigned i = 0; i < P->nblocks; i++) {
		const struct phb_block *b = &P->blocks[i];
		fprintf(P->ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=%s heap=0x%llx",
			(unsigned long long)b->header, (unsigned long long)b->user,
			(unsigned long long)b->size, (unsigned long long)b->bsize, b->state,
			b->layer, (unsigned long long)b->heap);
		if (b->kind && !strcmp(b->kind, "full"))
			fprintf(P->ex, " kind=full node=0x%llx virt=0x%llx virt_size=0x%llx access=0x%llx",
				(unsigned long long)b->node, (unsigned long long)b->virt,
				(unsigned long long)b->vsize, (unsigned long long)b->access);
		else if (b->kind)
			fprintf(P->ex, " kind=light normal=0x%llx nt_user=0x%llx nt_size=%llu",
				(unsigned long long)b->virt, (unsigned long long)b->node,
				(unsigned long long)b->vsize);
		if (b->meta)
			fprintf(P->ex, " meta=1");
		if (b->corrupt)
			fprintf(P->ex, " corrupt=1");
		if (b->trace_index)
			fprintf(P->ex, " trace_index=%u", b->trace_index);
		if (b->alloc_stack >= 0)
			fprintf(P->ex, " alloc_stack=%d", b->alloc_stack);
		if (b->free_stack >= 0)
			fprintf(P->ex, " free_stack=%d", b->free_stack);
		fputc('\n', P->ex);
	}
}

void phb_expect_leak(struct phb_proc *P, uint64_t user)
{
	if (P->ndeclared == 64)
		die("too many declared leaks");
	P->declared_leaks[P->ndeclared++] = user;
}

static bool candidate(const struct phb_block *b)
{
	return !strcmp(b->state, "busy") && !b->meta && b->size;
}

static int hit(struct phb_proc *P, uint64_t v)
{
	for (unsigned i = 0; i < P->nblocks; i++) {
		const struct phb_block *b = &P->blocks[i];
		if (candidate(b) && v >= b->user && v < b->user + b->size)
			return (int)i;
	}
	return -1;
}

static void mark(struct phb_proc *P, uint64_t v, unsigned *work, unsigned *nwork)
{
	int i = hit(P, v);
	if (i >= 0 && !P->blocks[i].reachable) {
		P->blocks[i].reachable = true;
		work[(*nwork)++] = (unsigned)i;
	}
}

static void scan(struct phb_proc *P, uint64_t lo, uint64_t hi, unsigned *work, unsigned *nwork)
{
	unsigned ps = P->L->ps;
	for (uint64_t a = phb_up(lo, ps); a + ps <= hi; a += ps)
		mark(P, phb_rptr(P, a), work, nwork);
}

void phb_print_leaks(struct phb_proc *P)
{
	static unsigned work[PHB_MAX * 2];
	unsigned nwork = 0;
	for (unsigned i = 0; i < P->nblocks; i++)
		P->blocks[i].reachable = false;
	for (unsigned i = 0; i < P->nregions; i++) {
		const struct phb_region *r = &P->regions[i];
		if (r->capture && !r->heapmem)
			scan(P, r->base, r->base + r->size, work, &nwork);
	}
	for (unsigned t = 0; t < P->nthreads; t++)
		for (unsigned k = 0; k < 9; k++)
			mark(P, P->wow ? (uint32_t)P->regs[t][k] : P->regs[t][k], work, &nwork);
	while (nwork) {
		const struct phb_block *b = &P->blocks[work[--nwork]];
		scan(P, b->user, b->user + b->size, work, &nwork);
	}
	unsigned n = 0;
	for (unsigned i = 0; i < P->nblocks; i++) {
		const struct phb_block *b = &P->blocks[i];
		if (!candidate(b) || b->reachable)
			continue;
		bool declared = false;
		for (unsigned k = 0; k < P->ndeclared; k++)
			declared |= P->declared_leaks[k] == b->user;
		if (!declared) {
			fprintf(stderr, "mkpageheapdump: block 0x%llx is leaked but not declared\n",
				(unsigned long long)b->user);
			abort();
		}
		fprintf(P->ex, "leak user=0x%llx size=%llu heap=0x%llx layer=%s\n",
			(unsigned long long)b->user, (unsigned long long)b->size,
			(unsigned long long)b->heap, b->layer);
		n++;
	}
	if (n != P->ndeclared) {
		fprintf(stderr, "mkpageheapdump: %u blocks declared leaked, %u found\n", P->ndeclared, n);
		abort();
	}
	fprintf(P->ex, "leaks count=%u\n", n);
}
