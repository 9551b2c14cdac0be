/* SPDX-License-Identifier: MIT */
/*
 * Page heap, stack traces and -l on small processes laid out here with the
 * dump builder from the documented layouts (Windows Server 2003 heappage.c
 * / heappagi.h, ReactOS heappage.c, the PDB-derived _DPH_* members; the
 * offsets are written as literal numbers below, not taken from the
 * walker's table):
 *
 *  x64 19045: a full page heap that is PEB.ProcessHeap but not in
 *  PEB.ProcessHeaps; nine busy blocks in a BusyNodesTable AVL tree
 *  (balanced, built here) and two freed blocks on the free list; stack
 *  traces with frames in three modules.  For -l the blocks are referenced
 *  so that the answer is known: A from the thread stack, B only from inside
 *  A (an interior pointer into B), G from a register of the thread context,
 *  H from app.exe's data, I from private memory, J only from G; C is
 *  referenced by nothing, D and E only by each other (a cycle), F only from
 *  the memory of a freed block.  Leaks: C, D, E, F.
 *
 *  x86 19045: a light page heap (ExtraFlags 0x2: no ENABLE_PAGE_HEAP) whose
 *  NormalHeap is an NT heap with a busy light block (0xABCDAAAA) and a
 *  freed one held in the delayed-free queue (0xABCDAAA9), and one full
 *  page-heap block.
 *
 * argv[1] (optional): a directory to write the dumps to (the e2e golden).
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
#include <icpheap/heap.h>
#include <icpheap/heapdiff.h>
#include <icpheap/leak.h>
#include <icpheap/pageheap.h>
#include <icpheap/triage_heap.h>

#include "dumpbuilder.h"

static const char *out_dir;
static int nbusy_built = 10;	/* heap-diff's "old" dump has fewer */

/* ------------------------------------------------------------ x64 model */

#define D 0x000001f0a0000000ull		/* page heap handle (fake _HEAP page) */
#define R (D + 0x1000)			/* _DPH_HEAP_ROOT */
#define POOL (D + 0x2000)		/* node pool: _DPH_HEAP_BLOCK nodes, 0x80 each */
#define VS 0x000001f0a0100000ull	/* virtual blocks, 0x2000 apart */
#define ST 0x000001f0a0800000ull	/* _RTL_STACK_TRACE_ENTRY records */
#define PEB 0x000000b2c1a3f000ull
#define TEB 0x000000b2c1a40000ull
#define STK 0x000000b2c1b00000ull	/* thread stack */
#define PRIV 0x000001f0b0000000ull	/* other private memory */
#define NTDLL 0x00007ffb0b120000ull
#define VERIFIER 0x00007ffb01000000ull
#define APP 0x00007ff6a1200000ull
#define APPDATA (APP + 0x3000)

enum { A, B, C, Dd, E, F, G, H, I, J, NBUSY };
static const uint64_t sizes[NBUSY] = { 0x40, 0x100, 0x30, 0x50, 0x60, 0x20, 0x80, 0x10, 0x70, 0x90 };

struct pblock {
	uint64_t node, user, size, virt, trace;
	bool busy;
};
static struct pblock busy[NBUSY], freed[2];

static uint64_t node_at(int k) { return POOL + 0x80ull * (uint64_t)k; }

static void write_trace(struct db_mem *m, uint64_t at, uint16_t index, const uint64_t *frames, unsigned n)
{
	/* _RTL_STACK_TRACE_ENTRY x64: HashChain 0, TraceCount 8, IndexHigh 0xA,
	 * Index 0xC, Depth 0xE, BackTrace[32] 0x10 (ntdiff Vista x64) */
	db_mem_write_u64(m, at, 0);
	db_mem_write_u16(m, at + 8, 1);
	db_mem_write_u16(m, at + 0xC, index);
	db_mem_write_u16(m, at + 0xE, (uint16_t)n);
	for (unsigned i = 0; i < n; i++)
		db_mem_write_u64(m, at + 0x10 + 8ull * i, frames[i]);
}

/* builds the balanced AVL subtree over busy[lo..hi), returns its root node */
static uint64_t avl(struct db_mem *m, int lo, int hi, uint64_t parent)
{
	if (lo >= hi)
		return 0;
	int mid = (lo + hi) / 2;
	uint64_t n = busy[mid].node;
	db_mem_write_u64(m, n + 0x0, parent);		/* Parent */
	db_mem_write_u64(m, n + 0x8, avl(m, lo, mid, n));	/* LeftChild */
	db_mem_write_u64(m, n + 0x10, avl(m, mid + 1, hi, n));	/* RightChild */
	return n;
}

static void put_busy(struct db_mem *m, struct db_md *md, int k, int node_index, uint64_t trace)
{
	struct pblock *b = &busy[k];
	b->node = node_at(node_index);
	b->size = sizes[k];
	b->virt = VS + 0x2000ull * (uint64_t)k;
	b->user = b->virt + 0x1000 - b->size;	/* ends at the guard page */
	b->trace = trace;
	b->busy = true;
	/* _DPH_HEAP_BLOCK x64: pUserAllocation 0x20, pVirtualBlock 0x28,
	 * nVirtualBlockSize 0x30, nVirtualAccessSize 0x38, nUserRequestedSize
	 * 0x40, nUserActualSize 0x48, StackTrace 0x60 */
	db_mem_write_u64(m, b->node + 0x20, b->user);
	db_mem_write_u64(m, b->node + 0x28, b->virt);
	db_mem_write_u64(m, b->node + 0x30, 0x2000);
	db_mem_write_u64(m, b->node + 0x38, 0x1000);
	db_mem_write_u64(m, b->node + 0x40, b->size);
	db_mem_write_u64(m, b->node + 0x48, b->size);
	db_mem_write_u64(m, b->node + 0x60, trace);
	/* the page: 0xD0 suffix fill after nothing (block ends at the page
	 * end), _DPH_BLOCK_INFORMATION just before the user data */
	uint64_t bi = b->user - 0x40;
	db_mem_fill(m, b->virt, 0, 0x1000);
	db_mem_write_u32(m, bi + 0x0, 0xABCDBBBB);
	db_mem_write_u64(m, bi + 0x8, R);
	db_mem_write_u64(m, bi + 0x10, b->size);
	db_mem_write_u64(m, bi + 0x18, b->size);
	db_mem_write_u64(m, bi + 0x30, trace);
	db_mem_write_u32(m, bi + 0x3C, 0xDCBABBBB);
	db_md_add_memory(md, b->virt, 0x1000, DB_LIST_64);	/* the guard page is not captured */
}

static char *path_for(const char *name)
{
	char *path;
	if (out_dir) {
		path = malloc(strlen(out_dir) + strlen(name) + 2);
		sprintf(path, "%s/%s", out_dir, name);
		return path;
	}
	path = strdup("/tmp/icpheap-pageheap-XXXXXX");
	int fd = mkstemp(path);
	close(fd);
	return path;
}

static char *build_x64(void)
{
	struct db_md *md = db_md_new(DB_ARCH_X64, 10, 0, 19045);
	struct db_mem *m = db_md_mem(md);
	/* TEB.ProcessEnvironmentBlock 0x60; PEB.ProcessHeap 0x30, NtGlobalFlag
	 * 0xBC (+hpa 0x02000000 | +ust 0x1000), NumberOfHeaps 0xE8 = 0 */
	db_mem_write_u64(m, TEB + 0x60, PEB);
	db_mem_write_u64(m, PEB + 0x30, D);
	db_mem_write_u32(m, PEB + 0xBC, 0x02001000);
	db_mem_write_u32(m, PEB + 0xE8, 0);
	db_mem_write_u32(m, PEB + 0xEC, 16);
	db_mem_write_u64(m, PEB + 0xF0, PEB + 0x800);
	/* fake _HEAP page: 0xEE fill, Flags 0x70 / ForceFlags 0x74 with
	 * HEAP_FLAG_PAGE_ALLOCS (heappage.c RtlpDphCreateHeap) */
	db_mem_fill(m, D, 0xEE, 0x1000);
	db_mem_write_u32(m, D + 0x70, 0x01000002);
	db_mem_write_u32(m, D + 0x74, 0x01000000);
	/* stack traces: allocation stacks through verifier into app.exe */
	uint64_t alloc_frames[] = { VERIFIER + 0x39f, NTDLL + 0x8825b, APP + 0x1046 };
	uint64_t free_frames[] = { VERIFIER + 0xc2, NTDLL + 0x44f09, APP + 0x2222, 0x12345678 };
	write_trace(m, ST, 1, alloc_frames, 3);
	write_trace(m, ST + 0x110, 2, free_frames, 4);
	/* busy blocks in nodes 0..9 (node order differs from address order) */
	for (int k = 0; k < NBUSY; k++)
		put_busy(m, md, k, (k * 7) % NBUSY, ST);
	/* freed blocks: nodes 10, 11; virtual blocks after the busy ones */
	for (int k = 0; k < 2; k++) {
		struct pblock *f = &freed[k];
		f->node = node_at(10 + k);
		f->virt = VS + 0x2000ull * (uint64_t)(NBUSY + k);
		f->size = k ? 0x18 : 0x200;
		f->user = f->virt + 0x1000 - f->size;
		f->trace = ST + 0x110;
		db_mem_write_u64(m, f->node + 0x0, k ? 0 : node_at(11));	/* pNextAlloc */
		db_mem_write_u64(m, f->node + 0x20, f->user);
		db_mem_write_u64(m, f->node + 0x28, f->virt);
		db_mem_write_u64(m, f->node + 0x30, 0x2000);
		db_mem_write_u64(m, f->node + 0x40, f->size);
		db_mem_write_u64(m, f->node + 0x60, f->trace);
	}
	/* freed block 0's memory is captured and holds the only pointer to F */
	db_mem_write_u64(m, freed[0].user + 0x10, busy[F].user);
	db_md_add_memory(md, freed[0].virt, 0x1000, DB_LIST_64);
	/* references among blocks: A -> B (interior), D <-> E, G -> J */
	db_mem_write_u64(m, busy[A].user + 0x8, busy[B].user + 0x18);
	db_mem_write_u64(m, busy[Dd].user, busy[E].user);
	db_mem_write_u64(m, busy[E].user + 0x20, busy[Dd].user + 4);
	db_mem_write_u64(m, busy[G].user + 0x78, busy[J].user);
	/* misaligned or past-the-end values reach nothing: C's end, C - 1 */
	db_mem_write_u64(m, busy[A].user + 0x10, busy[C].user + busy[C].size);
	db_mem_write_u64(m, busy[A].user + 0x18, busy[C].virt);
	/* _DPH_HEAP_ROOT x64 (layouts.md §5): Signature 0, HeapFlags 4,
	 * BusyNodesTable 0x38 (BalancedRoot.RightChild 0x48,
	 * NumberGenericTableElements 0x64), nBusyAllocations 0xA8,
	 * pFreeAllocationListHead 0xB8, Tail 0xC0, nFreeAllocations 0xC8,
	 * pNodePoolListHead 0x118, nNodePools 0x128, ExtraFlags 0x148,
	 * NormalHeap 0x150 */
	db_mem_write_u32(m, R + 0x0, 0xFFEEDDCC);
	db_mem_write_u32(m, R + 0x4, 0x2);
	db_mem_write_u64(m, R + 0x38 + 0x10, avl(m, 0, nbusy_built, R + 0x38));
	db_mem_write_u32(m, R + 0x38 + 0x2C, (uint32_t)nbusy_built);
	db_mem_write_u32(m, R + 0xA8, (uint32_t)nbusy_built);
	db_mem_write_u64(m, R + 0xB0, 0x2000ull * NBUSY);
	db_mem_write_u64(m, R + 0xB8, node_at(10));
	db_mem_write_u64(m, R + 0xC0, node_at(11));
	db_mem_write_u32(m, R + 0xC8, 2);
	db_mem_write_u64(m, R + 0xD0, 0x4000);
	db_mem_write_u64(m, R + 0x30, 0x100000);
	db_mem_write_u32(m, R + 0x28, 1);
	db_mem_write_u32(m, R + 0x148, 0x3);	/* ENABLE_PAGE_HEAP | COLLECT_STACK_TRACES */
	db_mem_write_u64(m, R + 0x150, 0);
	db_md_add_memory(md, D, 0x6000, DB_LIST_64);
	db_md_add_memory(md, ST, 0x1000, DB_LIST_64);
	/* roots: the stack (whole captured range) points at A; private memory
	 * at I; app.exe's data at H; RBX (CONTEXT +0x90) at G */
	db_mem_write_u64(m, STK + 0xF00, busy[A].user);
	db_mem_write_u64(m, PRIV + 0x40, busy[I].user + busy[I].size - 1);
	db_mem_write_u64(m, APPDATA + 0x100, busy[H].user);
	/* a recorded heap failure (HEAP_FAILURE_INFORMATION x64, selene
	 * columns 2004+: Version 0, StructureSize 4, FailureType 8,
	 * HeapAddress 0x10, Address 0x18, StackTrace[32] 0x58) in private
	 * memory: block-not-busy on the freed block 0 */
	uint64_t hfi = PRIV + 0x200;
	db_mem_write_u32(m, hfi + 0x0, 1);
	db_mem_write_u32(m, hfi + 0x4, 0x6d0);
	db_mem_write_u32(m, hfi + 0x8, 8);
	db_mem_write_u64(m, hfi + 0x10, D);
	db_mem_write_u64(m, hfi + 0x18, freed[0].user);
	db_mem_write_u64(m, hfi + 0x58, NTDLL + 0x1575);
	db_mem_write_u64(m, hfi + 0x60, APP + 0x97d0);
	db_md_add_memory(md, PRIV, 0x1000, DB_LIST_64);
	db_md_add_memory(md, APPDATA, 0x1000, DB_LIST_64);
	db_md_add_memory(md, PEB, 0x1000, DB_LIST_64);
	db_md_add_memory(md, TEB, 0x1000, DB_LIST_64);
	uint8_t ctx[0x4D0] = { 0 };
	ctx[0x30] = 0x0B;	/* ContextFlags CONTEXT_FULL (0x10000B) */
	ctx[0x32] = 0x10;
	uint64_t g = busy[G].user + 0x10;
	memcpy(ctx + 0x90, &g, 8);	/* Rbx */
	struct db_md_thread t = { .id = 0x1a4, .teb = TEB, .stack_start = STK, .stack_size = 0x1000,
				  .context = ctx, .context_size = sizeof(ctx) };
	db_md_add_thread(md, &t);
	struct db_md_module mods[] = {
		{ .name = "C:\\app\\app.exe", .base = APP, .size = 0x20000, .file_version = { 1, 0, 0, 1 } },
		{ .name = "C:\\Windows\\System32\\ntdll.dll", .base = NTDLL, .size = 0x1f8000,
		  .file_version = { 10, 0, 19041, 3636 } },
		{ .name = "C:\\Windows\\System32\\verifier.dll", .base = VERIFIER, .size = 0x80000,
		  .file_version = { 10, 0, 19041, 1 } },
	};
	for (size_t i = 0; i < 3; i++)
		db_md_add_module(md, &mods[i]);
	char *path = path_for(nbusy_built == NBUSY ? "pageheap-x64.dmp" : "pageheap-x64-old.dmp");
	assert_int_equal(db_md_write(md, path), 0);
	db_md_free(md);
	return path;
}

static struct ich_heaps *open_heaps(const char *path, struct ich_dump **d)
{
	assert_null(ich_dump_open(path, d));
	struct ich_heaps *h = NULL;
	struct ich_error *err = ich_heaps_open(*d, 0, &h);
	if (err)
		fail_msg("%s", err->message);
	return h;
}

struct seen {
	struct ich_heap_block b[64];
	size_t n;
};

static struct ich_error *collect(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct seen *s = arg;
	if (s->n < 64)
		s->b[s->n++] = *b;
	return NULL;
}

static void test_x64_walk(void **state)
{
	(void)state;
	char *path = build_x64();
	struct ich_dump *d;
	struct ich_heaps *h = open_heaps(path, &d);
	assert_int_equal(ich_heaps_count(h), 1);
	struct ich_heap *hp = ich_heaps_get(h, 0);
	assert_int_equal(hp->address, D);
	assert_int_equal(hp->kind, ICH_HEAP_KIND_PAGE);
	assert_int_equal(hp->status, ICH_HEAP_OK);
	struct seen s = { .n = 0 };
	assert_null(ich_heap_walk(h, hp, collect, &s));
	assert_int_equal(hp->nproblems, 0);
	assert_int_equal(s.n, NBUSY + 2);
	/* busy blocks in address order (AVL in-order), then the freed list */
	for (int k = 0; k < NBUSY; k++) {
		assert_int_equal(s.b[k].state, ICH_BLOCK_BUSY);
		assert_int_equal(s.b[k].layer, ICH_LAYER_PAGE_HEAP);
		assert_int_equal(s.b[k].user, busy[k].user);
		assert_int_equal(s.b[k].size, busy[k].size);
		assert_int_equal(s.b[k].header, busy[k].virt);
		assert_int_equal(s.b[k].block_size, 0x2000);
		assert_int_equal(s.b[k].segment, busy[k].node);
	}
	for (int k = 0; k < 2; k++) {
		assert_int_equal(s.b[NBUSY + k].state, ICH_BLOCK_FREE);
		assert_int_equal(s.b[NBUSY + k].user, freed[k].user);
		assert_int_equal(s.b[NBUSY + k].size, 0);
	}
	assert_int_equal(hp->totals.busy_count, NBUSY);
	assert_int_equal(hp->totals.free_count, 2);
	uint64_t bytes = 0;
	for (int k = 0; k < NBUSY; k++)
		bytes += sizes[k];
	assert_int_equal(hp->totals.busy_bytes, bytes);

	/* -p -a: busy (inside, and in the guard page), freed */
	struct ich_dph_block b;
	bool found;
	assert_null(ich_page_heap_find(h, busy[B].user + 0x18, &b, &found));
	assert_true(found);
	assert_true(b.busy);
	assert_int_equal(b.node, busy[B].node);
	assert_int_equal(b.root, R);
	assert_int_equal(b.heap, D);
	assert_int_equal(b.size, 0x100);
	assert_int_equal(b.virt, busy[B].virt);
	assert_int_equal(b.trace, ST);
	struct ich_stack st;
	assert_null(ich_stack_read(h, b.trace, &st));
	assert_int_equal(st.depth, 3);
	assert_int_equal(st.frames[0], VERIFIER + 0x39f);
	assert_int_equal(st.frames[2], APP + 0x1046);
	char mod[64];
	uint64_t off;
	assert_true(ich_frame_module(d, st.frames[1], mod, sizeof(mod), &off));
	assert_string_equal(mod, "ntdll");
	assert_int_equal(off, 0x8825b);
	assert_true(ich_frame_module(d, st.frames[0], mod, sizeof(mod), &off));
	assert_string_equal(mod, "verifier");
	assert_false(ich_frame_module(d, 0x12345678, mod, sizeof(mod), &off));
	assert_null(ich_page_heap_find(h, busy[C].virt + 0x1800, &b, &found));	/* guard page */
	assert_true(found);
	assert_int_equal(b.node, busy[C].node);
	assert_null(ich_page_heap_find(h, freed[1].user + 4, &b, &found));
	assert_true(found);
	assert_false(b.busy);
	assert_int_equal(b.node, freed[1].node);
	assert_int_equal(b.size, 0x18);
	assert_int_equal(b.trace, ST + 0x110);
	assert_null(ich_stack_read(h, b.trace, &st));
	assert_int_equal(st.depth, 4);
	assert_int_equal(st.index, 2);
	assert_null(ich_page_heap_find(h, VS - 0x10, &b, &found));
	assert_false(found);
	ich_heaps_close(h);
	ich_dump_close(d);
	if (!out_dir)
		unlink(path);
	free(path);
}

static void test_x64_leaks(void **state)
{
	(void)state;
	char *path = build_x64();
	struct ich_dump *d;
	struct ich_heaps *h = open_heaps(path, &d);
	struct ich_leak_result r;
	struct ich_error *err = ich_heap_leaks(h, &r);
	if (err)
		fail_msg("%s", err->message);
	assert_int_equal(r.busy_blocks, NBUSY);
	assert_int_equal(r.nleaks, 4);
	const int want[] = { C, Dd, E, F };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r.leaks[i].heap, D);
		assert_int_equal(r.leaks[i].block.user, busy[want[i]].user);
		assert_int_equal(r.leaks[i].block.size, busy[want[i]].size);
		assert_int_equal(r.leaks[i].block.layer, ICH_LAYER_PAGE_HEAP);
	}
	assert_true(r.root_bytes > 0);
	assert_true(r.context_bytes == 0x4D0);
	ich_leak_result_free(&r);
	ich_heaps_close(h);
	ich_dump_close(d);
	if (!out_dir)
		unlink(path);
	free(path);
}

static void test_x64_triage(void **state)
{
	(void)state;
	char *path = build_x64();
	struct ich_dump *d;
	struct ich_heaps *h = open_heaps(path, &d);
	struct ich_triage_result r;
	struct ich_error *err = ich_heap_triage(h, 0, 0, &r);
	if (err)
		fail_msg("%s", err->message);
	assert_int_equal(r.nfindings, 0);
	assert_int_equal(r.heaps_checked, 1);
	assert_int_equal(r.blocks_checked, NBUSY + 2);
	const struct ich_heap_failure *f = &r.failure;
	assert_true(f->found);
	assert_int_equal(f->record, PRIV + 0x200);
	assert_int_equal(f->type, 8);
	assert_string_equal(f->type_name, "HEAP_FAILURE_BLOCK_NOT_BUSY");
	assert_int_equal(f->heap, D);
	assert_int_equal(f->address, freed[0].user);
	assert_int_equal(f->stack.depth, 2);
	assert_int_equal(f->stack.frames[1], APP + 0x97d0);
	assert_int_equal(f->stack_at, PRIV + 0x200 + 0x58);
	assert_true(f->have_block);
	assert_int_equal(f->block_heap, D);
	assert_int_equal(f->block.state, ICH_BLOCK_FREE);
	assert_int_equal(f->block.header, freed[0].virt);
	ich_triage_result_free(&r);
	/* -triage HEAP on something that is not a heap */
	err = ich_heap_triage(h, 0x1234000, 0, &r);
	assert_non_null(err);
	ich_error_destroy(err);
	ich_heaps_close(h);
	ich_dump_close(d);
	if (!out_dir)
		unlink(path);
	free(path);
}

/* heap-diff: the same process with blocks A..G (old) and A..J (new) */
static void test_x64_diff(void **state)
{
	(void)state;
	nbusy_built = 7;
	char *old_path = build_x64();
	nbusy_built = NBUSY;
	char *new_path = build_x64();
	struct ich_dump *od, *nd;
	struct ich_heaps *oh = open_heaps(old_path, &od), *nh = open_heaps(new_path, &nd);
	struct ich_diff df;
	struct ich_error *err = ich_heap_diff(oh, nh, &df);
	if (err)
		fail_msg("%s", err->message);
	uint64_t old_bytes = 0, new_bytes = 0;
	for (int k = 0; k < NBUSY; k++) {
		new_bytes += sizes[k];
		if (k < 7)
			old_bytes += sizes[k];
	}
	assert_int_equal(df.old_count, 7);
	assert_int_equal(df.new_count, NBUSY);
	assert_int_equal(df.old_bytes, old_bytes);
	assert_int_equal(df.new_bytes, new_bytes);
	assert_int_equal(df.nsizes, NBUSY);	/* all sizes differ */
	/* grown most: J 0x90, then I 0x70, then H 0x10; the rest unchanged */
	assert_int_equal(df.sizes[0].size, 0x90);
	assert_int_equal(df.sizes[0].bytes_growth, 0x90);
	assert_int_equal(df.sizes[0].count_growth, 1);
	assert_int_equal(df.sizes[0].old_count, 0);
	assert_int_equal(df.sizes[1].size, 0x70);
	assert_int_equal(df.sizes[2].size, 0x10);
	assert_int_equal(df.sizes[3].bytes_growth, 0);
	/* one stack for every block (the allocation trace at ST) */
	assert_int_equal(df.nstacks, 1);
	assert_int_equal(df.stacks[0].old_count, 7);
	assert_int_equal(df.stacks[0].new_count, NBUSY);
	assert_int_equal(df.stacks[0].bytes_growth, 0x90 + 0x70 + 0x10);
	assert_int_equal(df.stacks[0].stack.depth, 3);
	assert_int_equal(df.stacks[0].stack.frames[2], APP + 0x1046);
	ich_heap_diff_free(&df);
	ich_heaps_close(oh);
	ich_heaps_close(nh);
	ich_dump_close(od);
	ich_dump_close(nd);
	if (!out_dir) {
		unlink(old_path);
		unlink(new_path);
	}
	free(old_path);
	free(new_path);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		out_dir = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x64_walk),
		cmocka_unit_test(test_x64_leaks),
		cmocka_unit_test(test_x64_triage),
		cmocka_unit_test(test_x64_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
