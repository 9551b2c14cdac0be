/* SPDX-License-Identifier: MIT */
/*
 * heap -p: WinDbg's page heap queries on a dump, without symbols.
 *
 *   -p            the page heaps (with their normal heaps)
 *   -p -h HANDLE  one page heap's blocks     -p -all   every page heap's blocks
 *   -p -a ADDR    the block holding ADDR (page heap or NT heap) and its stack
 *
 * Text of -p -a follows the samples heap-p-a__* in
 * ../shared/reference/windbg-output (README §7): "    address %p found in",
 * "    _DPH_HEAP_ROOT @ %I64x", the "in busy allocation (  DPH_HEAP_BLOCK:"
 * header with the node address and ':' ending at column 40 then 17-wide
 * columns, "in free-ed allocation" with column 43, frames "    %p
 * mod+0x%0*I64x" (page heap) or "        %I64x mod+0x%016I64x" (NT heap).
 * WinDbg prints module!symbol+0x...; with no symbols the honest form is
 * module+0xOFFSET (WinDbg itself prints that for a module without symbols,
 * e.g. "exsec32+0x0000000000005631" in the Outlook sample).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <icpheap/pageheap.h>

#include "cli/cli.h"
#include "cli/heap_ext.h"
#include "core/json.h"
#include "cli/records.h"

#define P(x) (unsigned long long)(x)

const char heap_p_help[] =
"icpheap heap -p: page heap (gflags +hpa / +ust) queries on a dump\n"
"  -p             list the page heaps and their normal heaps\n"
"  -p -h HANDLE   the blocks of one page heap (busy, then freed)\n"
"  -p -all        the blocks of every page heap\n"
"  -p -a ADDR     the block holding ADDR: page heap (busy or freed, requested\n"
"                 size, allocation or free stack) or NT heap (with the +ust\n"
"                 allocation stack when the dump has a stack trace database)\n"
"  Frames print as module+0xOFFSET from the dump's module list (no symbols).\n";

void heap_print_stack(struct heap_ext *x, const struct ich_stack *s, bool nt_form)
{
	for (unsigned i = 0; i < s->depth; i++) {
		char mod[128];
		uint64_t off = 0;
		bool in = ich_frame_module(x->dump, s->frames[i], mod, sizeof(mod), &off);
		if (nt_form)
			printf("        %llx", P(s->frames[i]));
		else
			printf("    %0*llx", x->w, P(s->frames[i]));
		if (in)
			printf(" %s+0x%0*llx", mod, nt_form ? 16 : x->w, P(off));
		putchar('\n');
	}
}

void heap_json_stack(struct heap_ext *x, const char *key, const struct ich_stack *s)
{
	ich_json_frames(x->j, key, x->dump, s);	/* records.c */
}

static const char *extra_flag_words(uint32_t f, char *out, size_t n)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		/* heappagi.h PAGE_HEAP_* (Windows Server 2003 base/ntos/rtl) */
		{ 0x0001, "ENABLE_PAGE_HEAP" }, { 0x0002, "COLLECT_STACK_TRACES" },
		{ 0x0004, "NO_UNCOMMIT" }, { 0x0008, "NO_LOCK_CHECKS" },
		{ 0x0010, "CATCH_BACKWARD_OVERRUNS" }, { 0x0020, "UNALIGNED_ALLOCATIONS" },
		{ 0x0040, "USE_SIZE_RANGE" }, { 0x0080, "USE_DLL_RANGE" },
		{ 0x0100, "USE_RANDOM_DECISION" }, { 0x0200, "USE_DLL_NAMES" },
		{ 0x0400, "USE_FAULT_INJECTION" }, { 0x0800, "PROTECT_META_DATA" },
		{ 0x1000, "CHECK_NO_SERIALIZE_ACCESS" }, { 0x2000, "NO_SYNC_CHECKS" },
		{ 0x4000, "USE_READONLY" },
	};
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit) {
			strncat(out, names[i].name, n - strlen(out) - 1);
			strncat(out, " ", n - strlen(out) - 1);
		}
	return out;
}

/* ------------------------------------------------------------- -p list */

struct list_ctx {
	struct heap_ext *x;
	size_t busy, freed;
	bool freed_header;
};

static struct ich_error *list_block(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	struct list_ctx *l = arg;
	struct heap_ext *x = l->x;
	if (b->layer != ICH_LAYER_PAGE_HEAP)
		return NULL;
	bool busy = b->state == ICH_BLOCK_BUSY;
	busy ? l->busy++ : l->freed++;
	if (x->j) {
		ich_json_begin_object(x->j, NULL);
		ich_json_addr(x->j, "node", b->segment);
		ich_json_addr(x->j, "user", b->user);
		ich_json_u64(x->j, "size", b->size);
		ich_json_addr(x->j, "virt", b->header);
		ich_json_u64(x->j, "virt_size", b->block_size);
		ich_json_string(x->j, "state", ich_block_state_name(b->state));
		ich_json_end_object(x->j);
		return NULL;
	}
	if (busy) {
		if (l->busy == 1)
			printf("    busy allocations (  DPH_HEAP_BLOCK:         UserAddr         UserSize -         VirtAddr         VirtSize)\n");
		printf("%40llx:%17llx%17llx -%17llx%17llx\n", P(b->segment), P(b->user), P(b->size), P(b->header),
		       P(b->block_size));
	} else {
		if (!l->freed_header)
			printf("    free-ed allocations (  DPH_HEAP_BLOCK:         VirtAddr         VirtSize)\n");
		l->freed_header = true;
		printf("%43llx:%17llx%17llx\n", P(b->segment), P(b->header), P(b->block_size));
	}
	return NULL;
}

int heap_p_list(struct heap_ext *x)
{
	int rc = ICH_EXIT_OK;
	size_t npage = 0;
	uint32_t gf = 0;
	bool have_gf = ich_heaps_global_flag(x->h, &gf);
	if (x->j) {
		if (have_gf)
			ich_json_u64(x->j, "global_flag", gf);
		uint64_t arr;
		uint32_t n;
		char why[256];
		if (ich_ust_database(x->h, &arr, &n, why, sizeof(why))) {
			ich_json_begin_object(x->j, "stack_trace_database");
			ich_json_addr(x->j, "index_array", arr);
			ich_json_u64(x->j, "entries", n);
			ich_json_end_object(x->j);
		} else {
			ich_json_null(x->j, "stack_trace_database");
			ich_json_string(x->j, "stack_note", why);
		}
		ich_json_begin_array(x->j, "page_heaps");
	} else {
		/* gflags names of FLG_HEAP_PAGE_ALLOCS 0x02000000 and
		 * FLG_USER_STACK_TRACE_DB 0x1000 */
		if (have_gf && (gf & 0x02001000u)) {
			printf("    Active GlobalFlag bits:\n");
			if (gf & 0x1000u)
				printf("        ust - Create user mode stack trace database\n");
			if (gf & 0x02000000u)
				printf("        hpa - Place heap allocations at ends of pages\n");
			putchar('\n');
		}
		printf("    active heaps:\n\n");
	}
	for (size_t i = 0; i < ich_heaps_count(x->h); i++) {
		struct ich_heap *hp = ich_heaps_get(x->h, i);
		if (hp->kind != ICH_HEAP_KIND_PAGE || hp->status != ICH_HEAP_OK)
			continue;
		if (x->have_heap && hp->address != x->heap)
			continue;
		npage++;
		struct ich_dph_root_info ri;
		struct ich_error *err = ich_page_heap_root(x->h, hp, &ri);
		if (err) {
			rc = ich_cli_worst(rc, ich_cli_fail(err));
			continue;
		}
		char words[512];
		extra_flag_words(ri.extra_flags, words, sizeof(words));
		bool blocks = x->all || x->have_heap;
		if (x->j) {
			ich_json_begin_object(x->j, NULL);
			ich_json_addr(x->j, "address", hp->address);
			ich_json_addr(x->j, "root", ri.root);
			ich_json_addr(x->j, "normal_heap", ri.normal_heap);
			ich_json_u64(x->j, "extra_flags", ri.extra_flags);
			ich_json_bool(x->j, "full_page", (ri.extra_flags & ICH_DPH_ENABLE_PAGE_HEAP) != 0);
			ich_json_u64(x->j, "busy_allocations", ri.n_busy);
			ich_json_u64(x->j, "freed_allocations", ri.n_free);
		} else {
			printf("    + %llx\n        %s\n", P(hp->address), words[0] ? words : "(no page heap options)");
			if (ri.normal_heap)
				printf("      NormalHeap - %llx\n", P(ri.normal_heap));
			if (x->verbose)
				printf("      _DPH_HEAP_ROOT @ %llx: %u busy, %u free-ed allocations\n", P(ri.root), ri.n_busy,
				       ri.n_free);
		}
		if (blocks) {
			struct list_ctx l = { x, 0, 0, false };
			if (x->j)
				ich_json_begin_array(x->j, "blocks");
			err = ich_heap_walk(x->h, hp, list_block, &l);
			if (x->j)
				ich_json_end_array(x->j);
			if (err)
				rc = ich_cli_worst(rc, ich_cli_fail(err));
			if (!x->j)
				for (size_t p = 0; p < hp->nproblems; p++)
					printf("    HEAP PROBLEM at %0*llx: %s\n", x->w, P(hp->problems[p].address),
					       hp->problems[p].what);
		}
		if (x->j)
			ich_json_end_object(x->j);
		else
			putchar('\n');
	}
	if (x->j) {
		ich_json_end_array(x->j);
	} else if (!npage) {
		printf("    (no page heap in this dump: no heap handle is followed by a _DPH_HEAP_ROOT page, signature 0xffeeddcc)\n");
	}
	return rc;
}

/* ------------------------------------------------------------- -p -a */

struct nt_find {
	uint64_t addr;
	bool found;
	struct ich_heap_block b;
	uint64_t heap;
};

static struct ich_error *nt_find_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct nt_find *f = arg;
	if (f->addr < b->header || f->addr - b->header >= b->block_size)
		return NULL;
	/* an LFH container (internal back-end block): look inside it */
	if (b->state == ICH_BLOCK_INTERNAL && hp->lfh && b->layer == ICH_LAYER_BACKEND)
		return NULL;
	f->found = true;
	f->b = *b;
	f->heap = hp->address;
	return &ich_stop;
}

static const char *nt_state(const struct ich_heap_block *b)
{
	if (b->layer == ICH_LAYER_PAGE_HEAP)
		return b->state == ICH_BLOCK_BUSY ? "busy" : "free DelayedFree";
	if (b->state == ICH_BLOCK_FREE)
		return "free";
	if (b->layer == ICH_LAYER_VIRTUAL)
		return "busy VirtualAlloc";
	return b->state == ICH_BLOCK_INTERNAL ? "busy internal" : "busy";
}

static void json_found_common(struct heap_ext *x, const char *kind, uint64_t heap)
{
	ich_json_addr(x->j, "address", x->addr);
	ich_json_bool(x->j, "found", true);
	ich_json_string(x->j, "heap_kind", kind);
	ich_json_addr(x->j, "heap", heap);
}

int heap_p_addr(struct heap_ext *x)
{
	struct ich_dph_block d;
	bool found = false;
	struct ich_error *err = ich_page_heap_find(x->h, x->addr, &d, &found);
	if (err)
		return ich_cli_fail(err);
	if (found && !d.light) {
		struct ich_stack s;
		bool have_stack = false;
		struct ich_error *serr = NULL;
		if (d.trace) {
			serr = ich_stack_read(x->h, d.trace, &s);
			have_stack = !serr;
		}
		if (x->j) {
			json_found_common(x, "page", d.heap);
			ich_json_addr(x->j, "root", d.root);
			ich_json_begin_object(x->j, "block");
			ich_json_addr(x->j, "node", d.node);
			ich_json_addr(x->j, "user", d.user);
			ich_json_u64(x->j, "size", d.size);
			ich_json_addr(x->j, "virt", d.virt);
			ich_json_u64(x->j, "virt_size", d.virt_size);
			ich_json_string(x->j, "state", d.busy ? "busy" : "free");
			ich_json_string(x->j, "layer", "page-heap");
			if (x->addr >= d.user && x->addr - d.user < d.size)
				ich_json_u64(x->j, "offset", x->addr - d.user);
			else
				ich_json_null(x->j, "offset");
			ich_json_end_object(x->j);
			ich_json_string(x->j, "stack_kind", d.busy ? "allocation" : "free");
			heap_json_stack(x, "stack", have_stack ? &s : NULL);
			if (serr)
				ich_json_string(x->j, "stack_note", serr->message);
			ich_error_destroy(serr);
			if (!d.busy) {
				/* a freed block: also who allocated it, when its block
				 * information is still in the dump */
				struct ich_stack as;
				struct ich_error *aerr = d.alloc_trace ? ich_stack_read(x->h, d.alloc_trace, &as) : NULL;
				heap_json_stack(x, "alloc_stack", d.alloc_trace && !aerr ? &as : NULL);
				ich_error_destroy(aerr);
			}
			return ICH_EXIT_OK;
		}
		printf("    address %0*llx found in\n", x->w, P(x->addr));
		printf("    _DPH_HEAP_ROOT @ %llx\n", P(d.root));
		if (d.busy) {
			printf("    in busy allocation (  DPH_HEAP_BLOCK:         UserAddr         UserSize -         VirtAddr         VirtSize)\n");
			printf("%40llx:%17llx%17llx -%17llx%17llx\n", P(d.node), P(d.user), P(d.size), P(d.virt),
			       P(d.virt_size));
		} else {
			printf("    in free-ed allocation (  DPH_HEAP_BLOCK:         VirtAddr         VirtSize)\n");
			printf("%43llx:%17llx%17llx\n", P(d.node), P(d.virt), P(d.virt_size));
		}
		if (have_stack)
			heap_print_stack(x, &s, false);
		if (x->verbose) {
			if (x->addr >= d.user && x->addr - d.user < d.size)
				printf("    (address is at offset 0x%llx of the %llx-byte user block%s)\n", P(x->addr - d.user),
				       P(d.size), d.busy ? "" : " that was freed");
			else
				printf("    (address is outside the %llx-byte user block %llx, in its page-heap guard area)\n",
				       P(d.size), P(d.user));
			if (!d.busy)
				printf("    (requested size of the freed block: %llx; the stack above is the free stack)\n",
				       P(d.size));
			if (serr)
				printf("    (stack trace 0x%llx: %s)\n", P(d.trace), serr->message);
			else if (!d.trace)
				printf("    (no stack trace recorded: COLLECT_STACK_TRACES off?)\n");
			if (!d.busy) {
				struct ich_stack as;
				struct ich_error *aerr = d.alloc_trace ? ich_stack_read(x->h, d.alloc_trace, &as) : NULL;
				if (d.alloc_trace && !aerr) {
					printf("    (allocation stack, from the freed block's _DPH_BLOCK_INFORMATION:)\n");
					heap_print_stack(x, &as, false);
				} else {
					printf("    (no allocation stack: the freed block's pages are not in the dump)\n");
				}
				ich_error_destroy(aerr);
			}
		}
		ich_error_destroy(serr);
		return ICH_EXIT_OK;
	}
	/* NT heap (or a light page-heap block inside a normal heap) */
	struct nt_find f = { x->addr, false, { 0 }, 0 };
	for (size_t i = 0; i < ich_heaps_count(x->h) && !f.found; i++) {
		struct ich_heap *hp = ich_heaps_get(x->h, i);
		if (hp->status != ICH_HEAP_OK || hp->kind == ICH_HEAP_KIND_PAGE)
			continue;
		ich_error_destroy(ich_heap_walk(x->h, hp, nt_find_cb, &f));
	}
	if (!f.found) {
		if (x->j) {
			ich_json_addr(x->j, "address", x->addr);
			ich_json_bool(x->j, "found", false);
			return ICH_EXIT_OK;
		}
		printf("    address %0*llx not found in any heap block (%zu heaps searched, page heaps included)\n", x->w,
		       P(x->addr), ich_heaps_count(x->h));
		return ICH_EXIT_OK;
	}
	struct ich_stack s;
	bool have_stack = false;
	char why[256] = "";
	struct ich_error *serr = NULL;
	if (found && d.light) {
		if (d.trace) {
			serr = ich_stack_read(x->h, d.trace, &s);
			have_stack = !serr;
		} else {
			snprintf(why, sizeof(why), "the light page-heap block records no stack trace");
		}
	} else {
		serr = ich_ust_block_stack(x->h, &f.b, &s, &have_stack);
		if (!serr && !have_stack) {
			uint64_t arr;
			uint32_t n;
			if (!(f.b.flags & 0x02) && f.b.layer == ICH_LAYER_BACKEND)
				snprintf(why, sizeof(why), "the block has no _HEAP_ENTRY_EXTRA (flag 0x02), so no stack trace index");
			else if (!ich_ust_database(x->h, &arr, &n, why, sizeof(why)))
				;
			else
				snprintf(why, sizeof(why), "no allocation stack for this block in the stack trace database");
		}
	}
	if (serr) {
		snprintf(why, sizeof(why), "%s", serr->message);
		ich_error_destroy(serr);
	}
	const struct ich_heap_block *b = &f.b;
	if (x->j) {
		json_found_common(x, found && d.light ? "nt-light-page-heap" : "nt", f.heap);
		if (found && d.light)
			ich_json_addr(x->j, "page_heap", d.heap);
		/* the block record, with a light page-heap block's requested size */
		struct ich_heap_block shown = *b;
		if (found && d.light)
			shown.size = d.size;
		ich_json_begin_object(x->j, "block");
		ich_json_block_fields(x->j, &shown);
		if (x->addr >= b->user)
			ich_json_u64(x->j, "offset", x->addr - b->user);
		else
			ich_json_null(x->j, "offset");
		ich_json_end_object(x->j);
		ich_json_string(x->j, "stack_kind", "allocation");
		heap_json_stack(x, "stack", have_stack ? &s : NULL);
		if (!have_stack)
			ich_json_string(x->j, "stack_note", why);
		return ICH_EXIT_OK;
	}
	printf("    address %0*llx found in\n", x->w, P(x->addr));
	printf("    _HEAP @ %llx\n", P(f.heap));
	if (x->w == 16)
		printf("              HEAP_ENTRY Size Prev Flags            UserPtr UserSize - state\n");
	else
		printf("      HEAP_ENTRY Size Prev Flags    UserPtr UserSize - state\n");
	/* Flags: [00] in every sample of this form (windbg-output README §7.1) */
	printf("        %0*llx %04llx %04llx  [%02x]   %0*llx    %05llx - (%s)\n", x->w, P(b->header),
	       P(b->block_size / x->unit), P(b->prev_size / x->unit), 0u, x->w, P(b->user),
	       P(found && d.light ? d.size : b->size), nt_state(b));
	if (have_stack)
		heap_print_stack(x, &s, true);
	else if (x->verbose)
		printf("        (no allocation stack: %s)\n", why);
	return ICH_EXIT_OK;
}
