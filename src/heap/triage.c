/* SPDX-License-Identifier: MIT */
/*
 * `!heap -triage` without symbols.  The !heap documentation says -triage
 * is the way to validate LFH corruption; what is checked here:
 *
 *  - every heap's walk (the walkers' own problems: checksums, lists,
 *    UserBlocks headers and their Signature 0xF0E0D0C0 / EncodedOffsets,
 *    segment-heap VS and LFH checks when that walker runs);
 *  - every Win8+ LFH block: its encoded header must decode to its own
 *    UserBlocks (layouts.md §3 Algorithm B step 5, from S5 syringe
 *    heaptypes.py: x64 ((Heap ^ LFHKey ^ (E >> 4)) & 0xFFFFFFFF ^ enc) >> 12,
 *    x86 (Heap ^ LFHKey ^ (E >> 3) ^ enc) >> 13 give the EntryOffset back to
 *    the UserBlocks, in heap units); and the busy bitmap must agree with
 *    the UnusedBytes front-end bit 0x80 both ways (a block the bitmap calls
 *    free while its UnusedBytes says allocated is reported too);
 *  - the heap failure ntdll recorded (RtlpHeapFailureInfo, a
 *    HEAP_FAILURE_INFORMATION: layouts-x64-selene.json; x86 members from
 *    radare2-gsoc-windows Win7x86 _HEAP_FAILURE_INFORMATION.h), found by
 *    shape in ntdll's writable sections (a WinDbg sample prints "Stack
 *    trace at 0x00007ffbf6b318f8", inside ntdll: the record is ntdll data),
 *    then in any captured memory: Version 1..15, StructureSize plausible,
 *    FailureType < 0x40, and HeapAddress one of the process's heaps.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/minidump.h>
#include <icpheap/triage_heap.h>

#include "core/endian.h"
#include "core/bits.h"
#include "core/grow.h"
#include "heap/heap_internal.h"

/* HEAP_FAILURE_TYPE, in order (❓: the order is from memory; the names
 * agree with WinDbg's "Error type: HEAP_FAILURE_BLOCK_NOT_BUSY" and
 * "HEAP_FAILURE_FREELISTS_CORRUPTION" in the samples).  Printed with the
 * number, so a wrong name can be told. */
static const char *const failure_names[] = {
	"HEAP_FAILURE_INTERNAL", "HEAP_FAILURE_UNKNOWN", "HEAP_FAILURE_GENERIC",
	"HEAP_FAILURE_ENTRY_CORRUPTION", "HEAP_FAILURE_MULTIPLE_ENTRIES_CORRUPTION",
	"HEAP_FAILURE_VIRTUAL_BLOCK_CORRUPTION", "HEAP_FAILURE_BUFFER_OVERRUN",
	"HEAP_FAILURE_BUFFER_UNDERRUN", "HEAP_FAILURE_BLOCK_NOT_BUSY",
	"HEAP_FAILURE_INVALID_ARGUMENT", "HEAP_FAILURE_USAGE_AFTER_FREE",
	"HEAP_FAILURE_CROSS_HEAP_OPERATION", "HEAP_FAILURE_FREELISTS_CORRUPTION",
	"HEAP_FAILURE_LISTENTRY_CORRUPTION", "HEAP_FAILURE_LFH_BITMAP_MISMATCH",
	"HEAP_FAILURE_SEGMENT_LFH_BITMAP_CORRUPTION", "HEAP_FAILURE_SEGMENT_LFH_DOUBLE_FREE",
	"HEAP_FAILURE_VS_SUBSEGMENT_CORRUPTION", "HEAP_FAILURE_NULL_HEAP",
	"HEAP_FAILURE_ALLOCATION_LIMIT", "HEAP_FAILURE_COMMIT_LIMIT",
	"HEAP_FAILURE_INVALID_ALLOCATION_TYPE",
};

struct tctx {
	struct ich_heaps *h;
	struct ich_triage_result *r;
	uint64_t addr;
	bool found_addr;
	struct ich_error *err;
	uint64_t last_ub;	/* LFH blocks of one container come together */
	/* header-decoding results of the current UserBlocks: the formula is
	 * trusted for a container only when at least one of its blocks
	 * decodes back to it (the S5 formula is not confirmed for every build,
	 * and a container whose headers all fail says "cannot tell", not
	 * "every block corrupt") */
	uint64_t heap_addr;
	size_t ok, nbad, unreadable;
	struct { uint64_t header, off, want; } bad[512];
	size_t containers_undecodable;
};

static void flush_ub(struct tctx *t);

static void finding(struct ich_triage_result *r, uint64_t heap, uint64_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void finding(struct ich_triage_result *r, uint64_t heap, uint64_t at, const char *fmt, ...)
{
	if (r->nfindings >= 100000)
		return;
	if (!ICH_ARRAY_PUSH_ROOM(r->findings, r->nfindings))
		return;
	struct ich_heap_finding *n = &r->findings[r->nfindings++];
	n->heap = heap;
	n->address = at;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(n->what, sizeof(n->what), fmt, ap);
	va_end(ap);
}

static struct ich_error *lfh_check(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct tctx *t = arg;
	struct ich_heaps *h = t->h;
	t->r->blocks_checked++;
	if (b->layer != ICH_LAYER_LFH)
		return NULL;
	t->r->lfh_blocks_checked++;
	if (b->segment != t->last_ub) {
		flush_ub(t);
		t->last_ub = b->segment;
		t->heap_addr = hp->address;
		t->r->userblocks_checked++;
	}
	/* bitmap free, UnusedBytes says the front end allocated it */
	if (b->state == ICH_BLOCK_FREE && (b->flags & 0x80) && (b->flags & 0x3F))
		finding(t->r, hp->address, b->header,
			"LFH block %" PRIx64 " is free in the UserBlocks bitmap but its UnusedBytes 0x%02x says busy (count 0x%x)",
			b->header, b->flags, b->flags & 0x3F);
	if (!h->lfh_key_known || b->segment == 0 || b->segment >= b->header)
		return NULL;
	const struct ntofs *o = &h->ofs[hp - h->heaps];
	if (!o->lfh_bitmap)
		return NULL;	/* Win7 LFH: decoded by the walker itself */
	uint32_t enc = 0;
	/* the encoded DWORD: SubSegmentCode, after PreviousBlockPrivateData on
	 * x64 (the small header at +8), first on x86 */
	struct ich_error *e = ich_as_read_u32(h->as, b->header + (uint64_t)o->entry_small_header, &enc);
	if (e) {
		ich_error_destroy(e);
		return NULL;
	}
	uint32_t key = (uint32_t)h->lfh_key;
	uint64_t off;
	unsigned unit = h->ptr == 8 ? 16 : 8;
	if (h->ptr == 8)
		off = ((((uint32_t)hp->address ^ key ^ (uint32_t)(b->header >> 4)) & 0xFFFFFFFFu) ^ enc) >> 12;
	else
		off = ((uint32_t)hp->address ^ key ^ (uint32_t)(b->header >> 3) ^ enc) >> 13;
	uint64_t want = (b->header - b->segment) / unit;
	if (off == want)
		t->ok++;
	else if (t->nbad < sizeof(t->bad) / sizeof(t->bad[0]))
	{
		t->bad[t->nbad].header = b->header;
		t->bad[t->nbad].off = off;
		t->bad[t->nbad++].want = want;
	}
	return NULL;
}

static void flush_ub(struct tctx *t)
{
	if (t->ok) {
		for (size_t i = 0; i < t->nbad; i++)
			finding(t->r, t->heap_addr, t->bad[i].header,
				"LFH block %" PRIx64 ": its encoded header decodes to EntryOffset 0x%" PRIx64 " units, not 0x%" PRIx64 " back to its UserBlocks %" PRIx64 " (%zu blocks of the container decode right: this header was overwritten)",
				t->bad[i].header, t->bad[i].off, t->bad[i].want, t->last_ub, t->ok);
	} else if (t->nbad) {
		t->containers_undecodable++;
	}
	t->ok = t->nbad = 0;
}

static struct ich_error *addr_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct tctx *t = arg;
	(void)hp;
	if (t->addr >= b->header && t->addr - b->header < b->block_size &&
	    !(b->state == ICH_BLOCK_INTERNAL && b->layer == ICH_LAYER_BACKEND)) {
		t->found_addr = true;
		return &ich_stop;
	}
	return NULL;
}

struct fblock {
	uint64_t addr;
	bool found;
	struct ich_heap_block b;
};

static struct ich_error *fblock_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	struct fblock *f = arg;
	(void)hp;
	if (f->addr >= b->header && f->addr - b->header < (b->block_size ? b->block_size : 1) &&
	    !(b->state == ICH_BLOCK_INTERNAL && b->layer == ICH_LAYER_BACKEND && hp->lfh)) {
		f->found = true;
		f->b = *b;
		return &ich_stop;
	}
	return NULL;
}

static bool is_heap(struct ich_heaps *h, uint64_t a)
{
	for (size_t i = 0; i < h->nheaps; i++)
		if (h->heaps[i].address == a && a)
			return true;
	return false;
}

/* Does a HEAP_FAILURE_INFORMATION sit at va (data at p, len bytes)?
 * Inline, the Version test first: it runs at every pointer-aligned
 * address of ntdll's data and of the captured memory. */
static inline bool failure_at(struct ich_heaps *h, const struct ich_dph_layout *L, const uint8_t *p, size_t len)
{
	uint32_t ver = ich_le32(p + L->hfi_version);
	if (ver - 1u > 14u || len < L->hfi_stack_trace + 32u * h->ptr)
		return false;
	uint32_t size = ich_le32(p + L->hfi_structure_size);
	uint32_t type = ich_le32(p + L->hfi_failure_type);
	uint64_t heap = h->ptr == 8 ? ich_le64(p + L->hfi_heap_address) : ich_le32(p + L->hfi_heap_address);
	return size >= L->hfi_stack_trace && size <= 0x4000 && type < 0x40 && is_heap(h, heap);
}

static void fill_failure(struct ich_heaps *h, const struct ich_dph_layout *L, uint64_t va, const uint8_t *p,
			 struct ich_heap_failure *f, const char *where)
{
	unsigned ps = h->ptr;
#define RP(o) (ps == 8 ? ich_le64(p + (o)) : ich_le32(p + (o)))
	f->found = true;
	f->record = va;
	f->where = where;
	f->version = ich_le32(p + L->hfi_version);
	f->structure_size = ich_le32(p + L->hfi_structure_size);
	f->type = ich_le32(p + L->hfi_failure_type);
	f->type_name = f->type < sizeof(failure_names) / sizeof(failure_names[0]) ? failure_names[f->type] : NULL;
	f->heap = RP(L->hfi_heap_address);
	f->address = RP(L->hfi_address);
	f->param1 = RP(L->hfi_param1);
	f->param2 = RP(L->hfi_param2);
	f->param3 = RP(L->hfi_param3);
	f->previous_block = RP(L->hfi_previous_block);
	f->next_block = RP(L->hfi_next_block);
	f->stack_at = va + L->hfi_stack_trace;
	memset(&f->stack, 0, sizeof(f->stack));
	for (unsigned i = 0; i < 32; i++) {
		uint64_t fr = RP(L->hfi_stack_trace + i * ps);
		if (!fr)
			break;
		f->stack.frames[f->stack.depth++] = fr;
	}
#undef RP
}

static void find_failure(struct ich_heaps *h, struct ich_heap_failure *f)
{
	const struct ich_dph_layout *L = ich_dph_layout_for(h->arch);
	const struct ich_minidump *md = ich_dump_minidump(h->dump);
	if (!L || !md || !ich_dump_file_data(h->dump))
		return;
	const struct ntdll_sections *secs = ntdll_writable_sections(h);
	size_t need = L->hfi_stack_trace + 32u * h->ptr;
	struct data_iter it;
	for (size_t s = 0; secs && s < secs->n && !f->found; s++) {
		const struct ntdll_section *sec = &secs->sec[s];
		struct data_chunk c;
		heap_data_iter(&it, h, sec->address, sec->address + sec->size, need);
		while (data_iter_next(&it, &c)) {
			for (size_t o = data_first(&c, sec->address, h->ptr); o < c.starts && o + need <= c.len; o += h->ptr) {
				if (failure_at(h, L, c.p + o, need)) {
					fill_failure(h, L, c.va + o, c.p + o, f, "ntdll's writable data");
					return;
				}
			}
		}
	}
	/* elsewhere in the captured memory (a pointer to a record, a copy) */
	for (size_t r = 0; r < md->nranges && !f->found; r++) {
		const struct ich_md_range *rg = &md->ranges[r];
		const uint8_t *d = ich_heap_file_span(h->dump, rg->rva, rg->size);
		if (!d || rg->size < need)
			continue;
		/* by offset in the range (ich_first_aligned_offset: why) */
		for (uint64_t o = ich_first_aligned_offset(rg->start, h->ptr); o + need <= rg->size; o += h->ptr) {
			const uint8_t *p = d + o;
			if (failure_at(h, L, p, need)) {
				fill_failure(h, L, rg->start + o, p, f, "captured memory outside ntdll");
				return;
			}
		}
	}
}

void ich_triage_result_free(struct ich_triage_result *r)
{
	free(r->findings);
	memset(r, 0, sizeof(*r));
}

struct ich_error *ich_heap_triage(struct ich_heaps *h, uint64_t heap, uint64_t addr, struct ich_triage_result *r)
{
	memset(r, 0, sizeof(*r));
	static const struct tctx zero;
	struct tctx t = zero;
	t.h = h;
	t.r = r;
	t.addr = addr;
	size_t matched = 0;
	for (size_t i = 0; i < h->nheaps; i++) {
		struct ich_heap *hp = &h->heaps[i];
		if (heap && hp->address != heap)
			continue;
		if (hp->status != ICH_HEAP_OK) {
			if (heap)
				finding(r, hp->address, hp->address, "%s", hp->reason);
			continue;
		}
		if (addr) {
			t.found_addr = false;
			ich_error_destroy(ich_heap_walk(h, hp, addr_cb, &t));
			if (!t.found_addr)
				continue;
		}
		matched++;
		r->heaps_checked++;
		struct ich_error *err = ich_heap_walk(h, hp, lfh_check, &t);
		flush_ub(&t);
		t.last_ub = 0;
		if (err == &ich_enomem)
			return err;
		if (err) {
			finding(r, hp->address, hp->address, "walk stopped: %s", err->message);
			ich_error_destroy(err);
		}
		for (size_t p = 0; p < hp->nproblems; p++)
			finding(r, hp->address, hp->problems[p].address, "%s", hp->problems[p].what);
	}
	if ((heap || addr) && !matched) {
		return ich_error_create(ICH_ERR_NOT_FOUND, heap ? "-triage: 0x%" PRIx64 " is not a heap of this process"
							     : "-triage: no heap block holds 0x%" PRIx64,
					heap ? heap : addr);
	}
	r->lfh_containers_undecodable = t.containers_undecodable;
	find_failure(h, &r->failure);
	if (r->failure.found && r->failure.address) {
		struct fblock fb = { r->failure.address, false, { 0 } };
		for (size_t i = 0; i < h->nheaps && !fb.found; i++) {
			struct ich_heap *hp = &h->heaps[i];
			if (hp->status != ICH_HEAP_OK)
				continue;
			ich_error_destroy(ich_heap_walk(h, hp, fblock_cb, &fb));
			if (fb.found)
				r->failure.block_heap = hp->address;
		}
		r->failure.have_block = fb.found;
		r->failure.block = fb.b;
	}
	return NULL;
}
