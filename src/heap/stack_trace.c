/* SPDX-License-Identifier: MIT */
/*
 * Allocation stack traces without symbols.
 *
 * _RTL_STACK_TRACE_ENTRY (offsets: src/types/dph_layout.c): the page heap
 * points at one from each _DPH_HEAP_BLOCK.StackTrace and each
 * _DPH_BLOCK_INFORMATION.StackTrace; the user-mode stack trace database
 * (+ust, FLG_USER_STACK_TRACE_DB 0x1000) holds them for NT-heap blocks,
 * whose _HEAP_ENTRY_EXTRA.AllocatorBackTraceIndex names one by index.
 *
 * Finding the database without symbols (ntdll!RtlpStackTraceDataBase needs
 * them): WRK base/ntos/inc/stktrace.h (selfrender/Windows-Server-2003)
 * describes STACK_TRACE_DATABASE.EntryIndexArray as "Indexed by [-1 ..
 * -NumberOfEntriesAdded]": a pointer array growing down from the top of the
 * database reservation whose slot -i holds the entry with Index i.  So the
 * array is recognised by its shape: a pointer-aligned slot whose value is a
 * captured _RTL_STACK_TRACE_ENTRY with Index 1 and a sane Depth, the slot
 * below it an entry with Index 2, and so on.  The scan runs over captured
 * memory only when PEB.NtGlobalFlag has 0x1000, and stops at the first
 * array that holds.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/minidump.h>
#include <icpheap/pageheap.h>

#include "core/endian.h"
#include "core/bits.h"
#include "heap/heap_internal.h"

#define FLG_USER_STACK_TRACE_DB 0x1000u

struct ich_error *ich_stack_read(struct ich_heaps *h, uint64_t entry, struct ich_stack *s)
{
	const struct ich_dph_layout *L = ich_dph_layout_for(h->arch);
	memset(s, 0, sizeof(*s));
	s->entry = entry;
	if (!L)
		return ich_error_create(ICH_ERR_UNSUPPORTED, "no stack trace layout for this architecture");
	uint16_t idx = 0, depth = 0;
	struct ich_error *err;
	if ((err = ich_as_read_u16(h->as, entry + L->ste_index, &idx)) ||
	    (err = ich_as_read_u16(h->as, entry + L->ste_depth, &depth)))
		return ich_error_wrap(err, "_RTL_STACK_TRACE_ENTRY 0x%" PRIx64 ": ", entry);
	if (depth > L->ste_max_depth)
		return ich_error_create(ICH_ERR_FORMAT, "_RTL_STACK_TRACE_ENTRY 0x%" PRIx64 ": Depth %u exceeds the %u frames the entry holds",
					entry, depth, L->ste_max_depth);
	s->index = idx;
	for (unsigned i = 0; i < depth; i++) {
		if ((err = ich_as_read_ptr(h->as, entry + L->ste_backtrace + (uint64_t)i * h->ptr, &s->frames[i])))
			return ich_error_wrap(err, "_RTL_STACK_TRACE_ENTRY 0x%" PRIx64 " frame %u: ", entry, i);
		s->depth = i + 1;
	}
	return NULL;
}

bool ich_frame_module(struct ich_dump *dump, uint64_t addr, char *out, size_t n, uint64_t *offset)
{
	const struct ich_minidump *md = ich_dump_minidump(dump);
	if (n)
		out[0] = '\0';
	for (size_t i = 0; md && i < md->nmodules; i++) {
		const struct ich_md_module *m = &md->modules[i];
		if (addr < m->base || addr - m->base >= m->size || !m->name)
			continue;
		const char *b = m->name, *p;
		for (p = m->name; *p; p++)
			if (*p == '\\' || *p == '/')
				b = p + 1;
		size_t len = strlen(b);
		const char *dot = strrchr(b, '.');
		if (dot && dot != b)
			len = (size_t)(dot - b);
		snprintf(out, n, "%.*s", (int)len, b);
		*offset = addr - m->base;
		return true;
	}
	return false;
}

/* --------------------------------------------------------- ust database */

static bool entry_with_index(struct ich_heaps *h, const struct ich_dph_layout *L, uint64_t e, uint32_t want)
{
	if (!e || (e & (h->ptr - 1)))
		return false;
	uint16_t idx, depth;
	struct ich_error *e1 = ich_as_read_u16(h->as, e + L->ste_index, &idx);
	struct ich_error *e2 = e1 ? NULL : ich_as_read_u16(h->as, e + L->ste_depth, &depth);
	ich_error_destroy(e1);
	ich_error_destroy(e2);
	return !e1 && !e2 && idx == (uint16_t)want && depth >= 1 && depth <= L->ste_max_depth;
}

static uint64_t load_ptr(const uint8_t *p, unsigned ptr)
{
	return ptr == 8 ? ich_le64(p) : ich_le32(p);
}

struct ust_cache {
	bool found;
	uint64_t array;
	uint32_t entries;
	char why[256];
};

void ust_cache_free(struct ich_heaps *h)
{
	free(h->ust);
	h->ust = NULL;
}

static bool ust_scan(struct ich_heaps *h, uint64_t *array, uint32_t *entries, char *why, size_t whylen);

bool ich_ust_database(struct ich_heaps *h, uint64_t *array, uint32_t *entries, char *why, size_t whylen)
{
	if (!h->ust) {
		struct ust_cache *c = calloc(1, sizeof(*c));
		if (!c) {
			snprintf(why, whylen, "out of memory");
			return false;
		}
		c->found = ust_scan(h, &c->array, &c->entries, c->why, sizeof(c->why));
		h->ust = c;
	}
	*array = h->ust->array;
	*entries = h->ust->entries;
	snprintf(why, whylen, "%s", h->ust->why);
	return h->ust->found;
}

static bool ust_scan(struct ich_heaps *h, uint64_t *array, uint32_t *entries, char *why, size_t whylen)
{
	const struct ich_dph_layout *L = ich_dph_layout_for(h->arch);
	const struct ich_minidump *md = ich_dump_minidump(h->dump);
	if (!L || !md) {
		snprintf(why, whylen, "no stack trace layout for this dump");
		return false;
	}
	/* The page heap keeps its traces in the same database, so it may
	 * exist without +ust: look in either case, say which when not found. */
	bool ust = h->have_global_flag && (h->global_flag & FLG_USER_STACK_TRACE_DB);
	unsigned ps = h->ptr;
	for (size_t r = 0; r < md->nranges; r++) {
		const struct ich_md_range *rg = &md->ranges[r];
		const uint8_t *d = ich_heap_file_span(h->dump, rg->rva, rg->size);
		if (!d || rg->size < ps)
			continue;
		/* slot -1 is the highest slot of the array: A - ps; o is the
		 * slot's offset in the range (ich_first_aligned_offset, core/bits.h:
		 * why not its address) */
		for (uint64_t o = ich_first_aligned_offset(rg->start, ps); o + ps <= rg->size; o += ps) {
			uint64_t a = rg->start + o;
			uint64_t v = load_ptr(d + o, ps);
			if (!v || (v & (ps - 1)) || !entry_with_index(h, L, v, 1))
				continue;
			/* count consecutive slots below */
			uint32_t n = 1;
			while (n < 0xFFFF) {
				if ((uint64_t)n * ps > o)
					break;
				uint64_t e = load_ptr(d + (o - (uint64_t)n * ps), ps);
				if (!entry_with_index(h, L, e, n + 1))
					break;
				n++;
			}
			/* one lone slot pointing at an Index-1 entry could be any
			 * pointer to the first trace (a _DPH_HEAP_BLOCK.StackTrace,
			 * a block header): want two, or the slot above to be no
			 * entry at all (the array's top). */
			if (n < 2)
				continue;
			*array = a + ps;
			*entries = n;
			return true;
		}
	}
	if (ust)
		snprintf(why, whylen, "PEB.NtGlobalFlag has +ust (0x1000) but no stack trace database (its EntryIndexArray) was found in the captured memory");
	else
		snprintf(why, whylen, "the process ran without user-mode stack trace collection (PEB.NtGlobalFlag %s +ust 0x1000) and no stack trace database was found: no allocation stacks",
			 h->have_global_flag ? "lacks" : "unreadable;");
	return false;
}

struct ich_error *ich_ust_stack(struct ich_heaps *h, uint32_t index, struct ich_stack *s, bool *found)
{
	*found = false;
	uint64_t array;
	uint32_t n;
	char why[256];
	if (!index || !ich_ust_database(h, &array, &n, why, sizeof(why)) || index > n)
		return NULL;
	uint64_t e;
	struct ich_error *err = ich_as_read_ptr(h->as, array - (uint64_t)index * h->ptr, &e);
	if (err)
		return err;
	if ((err = ich_stack_read(h, e, s)))
		return err;
	*found = true;
	return NULL;
}

struct ich_error *ich_ust_block_stack(struct ich_heaps *h, const struct ich_heap_block *b,
				      struct ich_stack *s, bool *found)
{
	*found = false;
	const struct ich_dph_layout *L = ich_dph_layout_for(h->arch);
	if (!L)
		return NULL;
	/* WRK heap.c RtlpGetExtraStuffPointer: a large block's _HEAP_ENTRY_EXTRA
	 * is the ExtraStuff member of its _HEAP_VIRTUAL_ALLOC_ENTRY (after the
	 * LIST_ENTRY: +0x10 x64, +8 x86; CommitSize follows at 0x20 / 0x10,
	 * layouts.md §2); a back-end block's is its last allocation unit,
	 * present when the entry has HEAP_ENTRY_EXTRA_PRESENT (0x02). */
	uint64_t extra;
	if (b->layer == ICH_LAYER_VIRTUAL && b->segment)
		extra = b->segment + 2ull * h->ptr;
	else if (b->layer == ICH_LAYER_BACKEND && (b->flags & HE_EXTRA_PRESENT) && b->block_size >= L->extra_sizeof)
		extra = b->header + b->block_size - L->extra_sizeof;
	else
		return NULL;
	uint16_t idx = 0;
	struct ich_error *err = ich_as_read_u16(h->as, extra + L->extra_backtrace_index, &idx);
	if (err)
		return err;
	return ich_ust_stack(h, idx, s, found);
}

struct ich_error *ich_block_stack(struct ich_heaps *h, const struct ich_heap *heap, const struct ich_heap_block *b,
				  struct ich_stack *s, bool *found)
{
	*found = false;
	const struct ich_dph_layout *L = ich_dph_layout_for(h->arch);
	if (!L)
		return NULL;
	uint64_t entry = 0;
	struct ich_error *err = NULL;
	if (b->layer == ICH_LAYER_PAGE_HEAP) {
		/* full page heap: the _DPH_HEAP_BLOCK node (b->segment) holds the
		 * allocation trace of a busy block, the free trace of a freed one;
		 * light: the _DPH_BLOCK_INFORMATION before the user data */
		if (heap->kind == ICH_HEAP_KIND_PAGE)
			err = ich_as_read_ptr(h->as, b->segment + L->node_stack_trace, &entry);
		else
			err = ich_as_read_ptr(h->as, b->user - L->bi_sizeof + L->bi_stack_trace, &entry);
		if (err || !entry)
			return err;
		if ((err = ich_stack_read(h, entry, s)))
			return err;
		*found = true;
		return NULL;
	}
	return ich_ust_block_stack(h, b, s, found);
}
