/* SPDX-License-Identifier: MIT */
/*
 * Page heap (DPH): finding page heaps without symbols and walking their
 * blocks.  Facts used (sources read with the search tools, no code copied):
 *
 *  - Windows Server 2003 base/ntos/rtl/heappage.c (selfrender/Windows-
 *    Server-2003): DPH_HEAP_SIGNATURE 0xFFEEDDCC; the heap handle is a fake
 *    retail HEAP page "filled with 0xEEEEEEEE except for the Heap->Flags and
 *    Heap->ForceFlags fields, which we must set to include our
 *    HEAP_FLAG_PAGE_ALLOCS flag"; HeapRoot = handle + PAGE_SIZE
 *    (HEAP_HANDLE_FROM_ROOT subtracts PAGE_SIZE).
 *  - ReactOS sdk/lib/rtl/heappage.c: RtlpDphPointerFromHandle accepts a
 *    handle when ForceFlags has HEAP_FLAG_PAGE_ALLOCS and the next page's
 *    Signature is DPH_SIGNATURE; busy nodes go in BusyNodesTable with
 *    &Node->pUserAllocation as the element (the node is the AVL node);
 *    freed nodes are appended to pFreeAllocationListHead/Tail through
 *    pNextAlloc; the stamps 0xABCDBBBB/0xABCDBBBA (start) and
 *    0xDCBABBBB/0xDCBABBBA (end), suffix fill 0xD0, infix 0xC0.
 *  - Light ("normal") page heap stamps 0xABCDAAAA busy / 0xABCDAAA9 freed:
 *    the DbgHelpUtils dph_entry.h constants StampAllocNormalPageMode /
 *    StampFreeNormalPageMode (layouts.md S10's walker).
 *  - Offsets: src/types/dph_layout.c.
 *
 * Every node read is bounded by the root's own counts (plus slack) and
 * by a visited budget, so a looping or shredded tree ends with a problem,
 * not a hang.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/pageheap.h>

#include "heap/heap_internal.h"

#define PAGE 0x1000u
#define MAX_DPH_NODES 50000000u	/* visited budget for one heap */

static struct ich_error *rd32(struct ich_heaps *h, uint64_t a, uint32_t *v)
{
	return ich_as_read_u32(h->as, a, v);
}

static struct ich_error *rdp(struct ich_heaps *h, uint64_t a, uint64_t *v)
{
	return ich_as_read_ptr(h->as, a, v);
}

static bool rdp_ok(struct ich_heaps *h, uint64_t a, uint64_t *v)
{
	struct ich_error *e = rdp(h, a, v);
	ich_error_destroy(e);
	return !e;
}

static const struct ich_dph_layout *dl(const struct ich_heaps *h)
{
	return ich_dph_layout_for(h->arch);
}

/* Is heap (an unclassified handle) a page heap?  Sets kind PAGE. */
bool page_heap_probe(struct ich_heaps *h, struct ich_heap *heap)
{
	const struct ich_dph_layout *L = dl(h);
	if (!L || !h->row)
		return false;
	uint32_t sig = 0, flags = 0, force = 0;
	struct ich_error *e = rd32(h, heap->address + PAGE + L->root_signature, &sig);
	if (e) {
		ich_error_destroy(e);
		return false;
	}
	if (sig != ICH_DPH_SIGNATURE)
		return false;
	int32_t fo = ich_layout_off(h->row, ICH_F_HEAP_FLAGS);
	int32_t ffo = ich_layout_off(h->row, ICH_F_HEAP_FORCE_FLAGS);
	struct ich_error *e1 = fo >= 0 ? rd32(h, heap->address + (uint64_t)fo, &flags) : NULL;
	struct ich_error *e2 = ffo >= 0 ? rd32(h, heap->address + (uint64_t)ffo, &force) : NULL;
	bool ok = !e1 && !e2 && ((flags | force) & ICH_HEAP_FLAG_PAGE_ALLOCS);
	ich_error_destroy(e1);
	ich_error_destroy(e2);
	if (!ok) {
		heaps_note(h, "heap 0x%" PRIx64 ": 0xffeeddcc one page after the handle, but the fake _HEAP's Flags/ForceFlags lack HEAP_FLAG_PAGE_ALLOCS: not taken as a page heap",
			   heap->address);
		return false;
	}
	heap->kind = ICH_HEAP_KIND_PAGE;
	heap->status = ICH_HEAP_OK;
	heap->layout = h->row;
	heap->flags = flags;
	heap->force_flags = force;
	heap->dph_root = heap->address + PAGE;
	return true;
}

static struct ich_error *append_heap(struct ich_heaps *h, uint64_t addr, size_t *index)
{
	for (size_t i = 0; i < h->nheaps; i++)
		if (h->heaps[i].address == addr) {
			*index = i;
			return NULL;
		}
	struct ich_error *err = heaps_add_slot(h, addr);
	if (err)
		return err;
	*index = h->nheaps++;
	return NULL;
}

/*
 * After the PEB's list is classified: PEB.ProcessHeap is added when it is a
 * page heap the list lacks (a page heap need not be in ProcessHeaps), and
 * every page heap's NormalHeap is added (when missing) and marked as
 * belonging to it.  classify_fn classifies a newly added heap.
 */
struct ich_error *page_heaps_complete(struct ich_heaps *h, uint64_t process_heap,
				      void (*classify_fn)(struct ich_heaps *, size_t))
{
	const struct ich_dph_layout *L = dl(h);
	if (!L)
		return NULL;
	struct ich_error *err;
	if (process_heap && !ich_heaps_find(h, process_heap)) {
		struct ich_heap probe = { .address = process_heap };
		if (page_heap_probe(h, &probe)) {
			size_t i;
			if ((err = append_heap(h, process_heap, &i)))
				return err;
			h->heaps[i] = probe;
			heaps_note(h, "page heap 0x%" PRIx64 " (PEB.ProcessHeap) is not in PEB.ProcessHeaps; listed from the PEB",
				   process_heap);
		}
	}
	/* Every root is on the process's page-heap list through NextHeap (a
	 * LIST_ENTRY; heappage.c keeps "a list of all page heaps in the
	 * process to support APIs like GetProcessHeaps"; its head,
	 * RtlpDphPageHeapList, is a global of ntdll/verifier): page heaps the
	 * PEB does not name are found by following it from one that it does.
	 * Each entry is checked (0xFFEEDDCC, and the fake _HEAP page before
	 * it) before it is taken; the head fails that check and is skipped. */
	for (size_t i = 0, n0 = h->nheaps; i < n0; i++) {
		if (h->heaps[i].kind != ICH_HEAP_KIND_PAGE)
			continue;
		uint64_t start = h->heaps[i].dph_root + L->root_next_heap, cur = start;
		for (unsigned k = 0; k < 4096; k++) {
			uint64_t next = 0;
			if ((err = rdp(h, cur, &next))) {
				ich_error_destroy(err);
				break;
			}
			if (!next || next == start)
				break;
			cur = next;
			uint64_t root = cur - L->root_next_heap, handle = root - PAGE;
			if (ich_heaps_find(h, handle))
				continue;
			struct ich_heap probe = { .address = handle };
			if (!page_heap_probe(h, &probe))
				continue;	/* the list head (or garbage) */
			size_t j;
			if ((err = append_heap(h, handle, &j)))
				return err;
			h->heaps[j] = probe;
			heaps_note(h, "page heap 0x%" PRIx64 " found on the page-heap list (NextHeap) of root 0x%" PRIx64,
				   handle, h->heaps[i].dph_root);
		}
	}
	for (size_t i = 0; i < h->nheaps; i++) {
		if (h->heaps[i].kind != ICH_HEAP_KIND_PAGE)
			continue;
		uint64_t root = h->heaps[i].dph_root, normal = 0, handle = h->heaps[i].address;
		err = rdp(h, root + L->root_normal_heap, &normal);
		if (err) {
			heaps_note(h, "page heap 0x%" PRIx64 ": NormalHeap unreadable (%s)", handle, err->message);
			ich_error_destroy(err);
			continue;
		}
		if (!normal || normal == handle)
			continue;
		size_t j;
		bool had = ich_heaps_find(h, normal) != NULL;
		if ((err = append_heap(h, normal, &j)))
			return err;
		if (!had)
			classify_fn(h, j);
		h->heaps[j].dph_owner = handle;
		heaps_note(h, "page heap 0x%" PRIx64 ": root 0x%" PRIx64 ", NormalHeap 0x%" PRIx64 "%s", handle, root,
			   normal, had ? "" : " (not in PEB.ProcessHeaps; added)");
	}
	return NULL;
}

uint64_t ich_page_heap_owner(const struct ich_heap *heap)
{
	return heap->dph_owner;
}

struct ich_error *ich_page_heap_root(struct ich_heaps *h, const struct ich_heap *heap,
				     struct ich_dph_root_info *o)
{
	const struct ich_dph_layout *L = dl(h);
	if (heap->kind != ICH_HEAP_KIND_PAGE || !L)
		return ich_error_create(ICH_ERR_UNSUPPORTED, "heap 0x%" PRIx64 " is not a page heap", heap->address);
	memset(o, 0, sizeof(*o));
	uint64_t r = o->root = heap->dph_root;
	struct ich_error *err;
	uint32_t sig;
	if ((err = rd32(h, r + L->root_signature, &sig)) || (err = rd32(h, r + L->root_heap_flags, &o->heap_flags)) ||
	    (err = rd32(h, r + L->root_extra_flags, &o->extra_flags)) ||
	    (err = rdp(h, r + L->root_normal_heap, &o->normal_heap)) ||
	    (err = rd32(h, r + L->root_n_busy, &o->n_busy)) || (err = rd32(h, r + L->root_n_free, &o->n_free)) ||
	    (err = rd32(h, r + L->root_n_virtual_storage_ranges, &o->n_virtual_ranges)) ||
	    (err = rdp(h, r + L->root_busy_committed, &o->busy_committed)) ||
	    (err = rdp(h, r + L->root_free_committed, &o->free_committed)) ||
	    (err = rdp(h, r + L->root_n_virtual_storage_bytes, &o->virtual_bytes)))
		return ich_error_wrap(err, "page heap 0x%" PRIx64 ": _DPH_HEAP_ROOT 0x%" PRIx64 ": ", heap->address, r);
	return NULL;
}

/* ----------------------------------------------------------- node walk */

typedef struct ich_error *dph_node_fn(struct ich_heaps *h, struct ich_heap *heap,
				      const struct ich_dph_block *b, void *arg);

static struct ich_error *read_node(struct ich_heaps *h, const struct ich_dph_layout *L, struct ich_heap *heap,
				   uint64_t node, bool busy, struct ich_dph_block *b)
{
	memset(b, 0, sizeof(*b));
	b->heap = heap->address;
	b->root = heap->dph_root;
	b->node = node;
	b->busy = busy;
	struct ich_error *err;
	if ((err = rdp(h, node + L->node_user, &b->user)) || (err = rdp(h, node + L->node_requested, &b->size)) ||
	    (err = rdp(h, node + L->node_virtual_block, &b->virt)) ||
	    (err = rdp(h, node + L->node_virtual_size, &b->virt_size)) ||
	    (err = rdp(h, node + L->node_stack_trace, &b->trace)))
		return err;
	return NULL;
}

/* A node that cannot be a page-heap block (user range outside its virtual
 * block, sizes beyond the address space): not vouched for. */
static const char *node_insane(const struct ich_dph_block *b, unsigned ptr)
{
	uint64_t top = ptr == 4 ? 0x100000000ull : 0x800000000000ull;
	if (b->virt_size == 0 || b->virt_size > top || b->virt >= top || b->virt + b->virt_size > top)
		return "virtual block size out of range";
	/* (as offsets in the block: user + size can wrap past 2^64) */
	if (b->busy && (b->user < b->virt || b->size > b->virt_size || b->user - b->virt > b->virt_size - b->size))
		return "user range outside its virtual block";
	return NULL;
}

struct node_walk {
	struct ich_heaps *h;
	struct ich_heap *heap;
	const struct ich_dph_layout *L;
	dph_node_fn *fn;
	void *arg;
	uint64_t visited;
};

static struct ich_error *emit_node(struct node_walk *nw, uint64_t node, bool busy)
{
	struct ich_dph_block b;
	struct ich_error *err = read_node(nw->h, nw->L, nw->heap, node, busy, &b);
	if (err) {
		heap_problem(nw->heap, node, "_DPH_HEAP_BLOCK 0x%" PRIx64 " unreadable: %s", node, err->message);
		ich_error_destroy(err);
		return NULL;
	}
	const char *why = node_insane(&b, nw->h->ptr);
	if (why) {
		heap_problem(nw->heap, node, "_DPH_HEAP_BLOCK 0x%" PRIx64 " (%s): %s", node, busy ? "busy" : "freed", why);
		return NULL;
	}
	return nw->fn(nw->h, nw->heap, &b, nw->arg);
}

/* In-order walk of BusyNodesTable (ascending user address). */
static struct ich_error *walk_busy(struct node_walk *nw, uint32_t n_busy)
{
	const struct ich_dph_layout *L = nw->L;
	struct ich_heaps *h = nw->h;
	uint64_t table = nw->heap->dph_root + L->root_busy_nodes_table, root = 0;
	struct ich_error *err = rdp(h, table + L->avl_root_right_child, &root);
	if (err)
		return ich_error_wrap(err, "page heap 0x%" PRIx64 ": BusyNodesTable: ", nw->heap->address);
	uint64_t stack[128];
	size_t sp = 0;
	uint64_t cur = root, budget = (uint64_t)n_busy + 64, seen = 0;
	while ((cur || sp) && seen <= budget) {
		while (cur) {
			if (sp == sizeof(stack) / sizeof(stack[0])) {
				heap_problem(nw->heap, cur, "BusyNodesTable deeper than 128 levels at 0x%" PRIx64 ": walk stopped (AVL trees of any real size are < 64 deep)",
					     cur);
				return NULL;
			}
			stack[sp++] = cur;
			uint64_t left = 0;
			if ((err = rdp(h, cur + L->links_left, &left))) {
				heap_problem(nw->heap, cur, "AVL node 0x%" PRIx64 " unreadable: %s", cur, err->message);
				ich_error_destroy(err);
				sp--;
				left = 0;
				cur = 0;
				break;
			}
			cur = left;
		}
		if (!sp)
			break;
		cur = stack[--sp];
		seen++;
		if ((err = emit_node(nw, cur, true)))
			return err;
		uint64_t right = 0;
		if ((err = rdp(h, cur + L->links_right, &right))) {
			heap_problem(nw->heap, cur, "AVL node 0x%" PRIx64 " unreadable: %s", cur, err->message);
			ich_error_destroy(err);
			right = 0;
		}
		cur = right;
	}
	if (seen > budget)
		heap_problem(nw->heap, nw->heap->dph_root, "BusyNodesTable holds more nodes than nBusyAllocations %u (a loop?): walk stopped",
			     n_busy);
	else if (seen != n_busy)
		heap_problem(nw->heap, nw->heap->dph_root, "BusyNodesTable has %" PRIu64 " nodes, nBusyAllocations says %u",
			     seen, n_busy);
	nw->visited += seen;
	return NULL;
}

static struct ich_error *walk_freed(struct node_walk *nw, uint32_t n_free)
{
	const struct ich_dph_layout *L = nw->L;
	uint64_t cur = 0, seen = 0;
	struct ich_error *err = rdp(nw->h, nw->heap->dph_root + L->root_free_head, &cur);
	if (err)
		return ich_error_wrap(err, "page heap 0x%" PRIx64 ": pFreeAllocationListHead: ", nw->heap->address);
	while (cur && seen <= (uint64_t)n_free + 64) {
		seen++;
		if ((err = emit_node(nw, cur, false)))
			return err;
		uint64_t next = 0;
		if ((err = rdp(nw->h, cur + L->node_next_alloc, &next))) {
			heap_problem(nw->heap, cur, "freed node 0x%" PRIx64 " unreadable: %s", cur, err->message);
			ich_error_destroy(err);
			break;
		}
		cur = next;
	}
	if (cur)
		heap_problem(nw->heap, nw->heap->dph_root, "free allocation list longer than nFreeAllocations %u (a loop?): walk stopped",
			     n_free);
	else if (seen != n_free)
		heap_problem(nw->heap, nw->heap->dph_root, "free allocation list has %" PRIu64 " nodes, nFreeAllocations says %u",
			     seen, n_free);
	return NULL;
}

static struct ich_error *dph_each_node(struct ich_heaps *h, struct ich_heap *heap, dph_node_fn *fn, void *arg)
{
	const struct ich_dph_layout *L = dl(h);
	struct ich_dph_root_info ri;
	struct ich_error *err = ich_page_heap_root(h, heap, &ri);
	if (err)
		return err;
	if (ri.n_busy > MAX_DPH_NODES || ri.n_free > MAX_DPH_NODES)
		return ich_error_create(ICH_ERR_FORMAT, "page heap 0x%" PRIx64 ": _DPH_HEAP_ROOT 0x%" PRIx64 " counts %u busy / %u freed blocks: not believable",
					heap->address, ri.root, ri.n_busy, ri.n_free);
	struct node_walk nw = { h, heap, L, fn, arg, 0 };
	if ((err = walk_busy(&nw, ri.n_busy)))
		return err;
	return walk_freed(&nw, ri.n_free);
}

/* ----------------------------------------------------- ich_heap_walk */

static struct ich_error *walk_node_cb(struct ich_heaps *h, struct ich_heap *heap,
				      const struct ich_dph_block *d, void *arg)
{
	(void)h;
	(void)heap;
	struct walk_ctx *w = arg;
	struct ich_heap_block b = { 0 };
	b.header = d->virt;
	b.user = d->user;
	b.size = d->busy ? d->size : 0;
	b.block_size = d->virt_size;
	b.unused = b.block_size - b.size;
	b.segment = d->node;
	b.state = d->busy ? ICH_BLOCK_BUSY : ICH_BLOCK_FREE;
	b.layer = ICH_LAYER_PAGE_HEAP;
	return walk_emit(w, &b);
}

struct ich_error *page_heap_walk(struct ich_heaps *h, struct ich_heap *heap, ich_heap_block_fn *fn, void *arg)
{
	heap->walked = false;
	for (size_t s = 0; s < heap->nsegments; s++)
		free(heap->segments[s].ucr);
	free(heap->segments);
	free(heap->problems);
	heap->segments = NULL;
	heap->problems = NULL;
	heap->nsegments = heap->nproblems = 0;
	heap->partial = false;
	memset(&heap->totals, 0, sizeof(heap->totals));
	struct ich_dph_root_info ri;
	struct ich_error *err = ich_page_heap_root(h, heap, &ri);
	if (err)
		return err;
	heap->totals.reserved = ri.virtual_bytes;
	heap->totals.committed = ri.busy_committed + ri.free_committed;
	struct walk_ctx w = { .h = h, .heap = heap, .o = NULL, .fn = fn, .arg = arg, .unit = h->ptr == 8 ? 16 : 8 };
	err = dph_each_node(h, heap, walk_node_cb, &w);
	heap->walked = true;
	if (err == &ich_stop || w.err == &ich_stop)
		return NULL;
	return err;
}

/*
 * Light page-heap blocks inside a page heap's NormalHeap: the NT block's
 * user data starts with a _DPH_BLOCK_INFORMATION stamped 0xABCDAAAA (busy)
 * or 0xABCDAAA9 (freed, held back in the delayed-free queue while still
 * busy to the NT heap).  The block is re-described as the page-heap block
 * the program sees: user = after the block information, size = its
 * RequestedSize.  Called for every busy block of such a heap.
 */
void page_heap_light(struct ich_heaps *h, const struct ich_heap *heap, struct ich_heap_block *b)
{
	const struct ich_dph_layout *L = dl(h);
	if (!L || !heap->dph_owner || b->state != ICH_BLOCK_BUSY || b->size < L->bi_sizeof)
		return;
	uint32_t stamp = 0, end = 0;
	uint64_t req = 0;
	struct ich_error *e = rd32(h, b->user + L->bi_start_stamp, &stamp);
	if (!e)
		e = rd32(h, b->user + L->bi_end_stamp, &end);
	if (!e)
		e = rdp(h, b->user + L->bi_requested, &req);
	if (e) {
		ich_error_destroy(e);
		return;
	}
	bool busy = stamp == ICH_DPH_START_LIGHT && end == ICH_DPH_END_LIGHT;
	bool freed = stamp == ICH_DPH_START_LIGHT - 1 && end == ICH_DPH_END_LIGHT - 1;
	if ((!busy && !freed) || req > b->size - L->bi_sizeof)
		return;
	b->user += L->bi_sizeof;
	b->size = busy ? req : 0;
	b->unused = b->block_size - b->size;
	b->layer = ICH_LAYER_PAGE_HEAP;
	if (freed)
		b->state = ICH_BLOCK_FREE;
}

/* ---------------------------------------------------- ich_page_heap_find */

struct find_ctx {
	uint64_t addr;
	bool found;
	struct ich_dph_block *out;
	const struct ich_dph_layout *L;
};

static struct ich_error *find_node_cb(struct ich_heaps *h, struct ich_heap *heap,
				      const struct ich_dph_block *b, void *arg)
{
	(void)h;
	(void)heap;
	struct find_ctx *f = arg;
	if (f->addr >= b->virt && f->addr - b->virt < b->virt_size) {
		*f->out = *b;
		f->found = true;
		return &ich_stop;
	}
	return NULL;
}

static struct ich_error *find_light_cb(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg)
{
	struct find_ctx *f = arg;
	if (b->layer != ICH_LAYER_PAGE_HEAP || f->addr < b->header || f->addr - b->header >= b->block_size)
		return NULL;
	struct ich_dph_block *o = f->out;
	memset(o, 0, sizeof(*o));
	o->heap = heap->dph_owner;
	o->nt_heap = heap->address;
	o->nt_header = b->header;
	o->user = b->user;
	o->virt = b->header;
	o->virt_size = b->block_size;
	o->busy = b->state == ICH_BLOCK_BUSY;
	o->light = true;
	o->size = b->size;
	f->found = true;
	return &ich_stop;
}

struct ich_error *ich_page_heap_find(struct ich_heaps *h, uint64_t addr, struct ich_dph_block *b, bool *found)
{
	*found = false;
	const struct ich_dph_layout *L = dl(h);
	if (!L)
		return NULL;
	struct find_ctx f = { addr, false, b, L };
	for (size_t i = 0; i < h->nheaps && !f.found; i++) {
		struct ich_heap *hp = &h->heaps[i];
		if (hp->kind != ICH_HEAP_KIND_PAGE || hp->status != ICH_HEAP_OK)
			continue;
		struct ich_error *err = dph_each_node(h, hp, find_node_cb, &f);
		if (err && err != &ich_stop)
			return err;
	}
	for (size_t i = 0; i < h->nheaps && !f.found; i++) {
		struct ich_heap *hp = &h->heaps[i];
		if (!hp->dph_owner || hp->status != ICH_HEAP_OK)
			continue;
		struct ich_error *err = ich_heap_walk(h, hp, find_light_cb, &f);
		if (err && err != &ich_stop)
			return err;
	}
	if (f.found && b->light) {
		/* the light block's own header: requested size (also when freed),
		 * its stack trace, its page heap root */
		uint64_t bi = b->user - L->bi_sizeof;
		(void)rdp_ok(h, bi + L->bi_requested, &b->size);
		(void)rdp_ok(h, bi + L->bi_stack_trace, &b->trace);
		(void)rdp_ok(h, bi + L->bi_heap, &b->root);
	}
	if (f.found && !b->light && !b->busy && b->user >= L->bi_sizeof) {
		/* ReactOS/WS03 heappage.c: freeing re-stamps the block
		 * information (start 0xABCDBBBA) and leaves its StackTrace, the
		 * allocation trace; the pages are often decommitted (then not in
		 * the dump) */
		uint64_t bi = b->user - L->bi_sizeof, st = 0;
		uint32_t stamp = 0;
		struct ich_error *e = rd32(h, bi + L->bi_start_stamp, &stamp);
		ich_error_destroy(e);
		if (!e && stamp == ICH_DPH_START_FULL - 1 && rdp_ok(h, bi + L->bi_stack_trace, &st))
			b->alloc_trace = st;
	}
	*found = f.found;
	return NULL;
}
