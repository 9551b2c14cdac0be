/* SPDX-License-Identifier: MIT */
/*
 * Finding the heaps: TEB -> PEB -> ProcessHeap / NumberOfHeaps /
 * ProcessHeaps[] (layouts.md §1; S2 checks ProcessHeaps[0] == ProcessHeap
 * and NumberOfHeaps <= MaximumNumberOfHeaps).  WOW64 processes keep a
 * 32-bit TEB 0x2000 bytes after the 64-bit one (the dump builder's source
 * note; widely documented, not confirmed by a cited PDB source) whose
 * ProcessEnvironmentBlock is the 32-bit PEB, read with the x86 rows.
 * Nothing is guessed: what is not captured is reported as such.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/minidump.h>

#include "core/endian.h"
#include "core/grow.h"
#include "heap/heap_internal.h"
#include "heap/segment_heap.h"

#define MAX_HEAPS 4096	/* MaximumNumberOfHeaps grows in 16s; real processes have < 100 */

void heaps_note(struct ich_heaps *h, const char *fmt, ...)
{
	if (h->nnotes >= 200)
		return;
	char *m = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	/* A walk repeated on the same heap (heap -s after a pre-pass, a second
	 * command on one model) finds the same facts again: say each once. */
	for (size_t i = 0; i < h->nnotes; i++)
		if (strcmp(h->notes[i], m) == 0) {
			free(m);
			return;
		}
	if (!ICH_ARRAY_PUSH_ROOM(h->notes, h->nnotes)) {
		free(m);
		return;
	}
	h->notes[h->nnotes++] = m;
}

void heap_problem(struct ich_heap *heap, uint64_t addr, const char *fmt, ...)
{
	heap->partial = true;
	if (heap->nproblems >= 10000)
		return;	/* a shredded heap must not exhaust memory */
	if (!ICH_ARRAY_PUSH_ROOM(heap->problems, heap->nproblems))
		return;
	struct ich_heap_problem *p = &heap->problems[heap->nproblems++];
	p->address = addr;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
}

/* A 4-byte-pointer view of a 64-bit process space (WOW64 heaps). */
struct as32 {
	struct ich_as as;
	struct ich_as *inner;
};

/* The view shares the inner space's window (same addresses, same bytes). */
static size_t as32_read(struct ich_as *as, uint64_t addr, void *buf, size_t len,
			struct ich_read_result *res)
{
	struct ich_as *inner = ((struct as32 *)as)->inner;
	size_t n = ich_as_read(inner, addr, buf, len, res);
	as->win = inner->win;
	return n;
}

static const void *as32_peek(struct ich_as *as, uint64_t addr, size_t len)
{
	struct ich_as *inner = ((struct as32 *)as)->inner;
	const void *p = ich_as_peek(inner, addr, len);
	as->win = inner->win;
	return p;
}

static void as32_destroy(struct ich_as *as)
{
	free(as);
}

static const struct ich_as_ops as32_ops = { .read = as32_read, .peek = as32_peek, .destroy = as32_destroy };

static uint64_t rdptr(struct ich_heaps *h, uint64_t a, struct ich_error **err)
{
	uint64_t v = 0;
	*err = ich_as_read_ptr(h->as, a, &v);
	return v;
}

struct ich_error *heaps_add_slot(struct ich_heaps *h, uint64_t addr)
{
	struct ich_heap *n = realloc(h->heaps, (h->nheaps + 1) * sizeof(*n));
	if (!n)
		return &ich_enomem;
	h->heaps = n;
	struct ntofs *o = realloc(h->ofs, (h->nheaps + 1) * sizeof(*o));	/* parallel to heaps */
	if (!o)
		return &ich_enomem;
	h->ofs = o;
	memset(&n[h->nheaps], 0, sizeof(*n));
	memset(&o[h->nheaps], 0, sizeof(*o));
	n[h->nheaps].address = addr;
	return NULL;
}

/* Look at one heap's header: kind and layout (and its offsets, *o). */
static void classify(struct ich_heaps *h, struct ich_heap *heap, struct ntofs *o)
{
	if (page_heap_probe(h, heap))	/* page_heap.c: handle + one page */
		return;
	/* _HEAP_SEGMENT.SegmentSignature / _SEGMENT_HEAP.Signature: at +0x10
	 * on x64, +0x8 on x86 (layouts.md §1, S2) */
	uint32_t sig;
	uint64_t at = heap->address + (h->ptr == 8 ? 0x10 : 0x8);
	struct ich_read_result res;
	uint8_t b[4];
	if (ich_as_read(h->as, at, b, 4, &res) != 4) {
		heap->kind = ICH_HEAP_KIND_UNKNOWN;
		heap->status = ICH_HEAP_NOT_CAPTURED;
		snprintf(heap->reason, sizeof(heap->reason), "heap 0x%" PRIx64 ": header not captured in this dump (0x%" PRIx64 ": %s)",
			 heap->address, res.miss_addr, ich_miss_reason_str(res.why));
		return;
	}
	sig = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
	if (sig == SEGHEAP_SIGNATURE) {
		seg_heap_classify(h, heap);	/* segment_heap.c */
		return;
	}
	if (sig != SEGMENT_SIGNATURE) {
		heap->kind = ICH_HEAP_KIND_UNKNOWN;
		heap->status = ICH_HEAP_BAD_LAYOUT;
		snprintf(heap->reason, sizeof(heap->reason), "heap 0x%" PRIx64 ": signature 0x%08x at 0x%" PRIx64 " is neither an NT heap (0xffeeffee) nor a segment heap (0xddeeddee)",
			 heap->address, sig, at);
		return;
	}
	heap->kind = ICH_HEAP_KIND_NT;
	/* The build's row first, then the others: use the first that passes. */
	const struct ich_layout *cand[40];
	size_t nc = ich_layouts_candidates(h->layouts, "ntdll", h->arch, h->build, cand, 40);
	char first_why[160] = "", why[160];
	for (size_t i = 0; i < nc; i++) {
		/* A row that lacks a field the walker needs is a layout error
		 * naming the field, not a read at heap - 1. */
		const char *missing = ntofs_fill(cand[i], o);
		struct ich_error *err = NULL;
		if (missing)
			snprintf(why, sizeof(why), "row \"%s\" (%u) has no %s", cand[i]->label,
				 cand[i]->build_min, missing);
		else
			err = nt_heap_validate(h, heap, o, why, sizeof(why));
		if (err) {	/* header unreadable under this row */
			snprintf(why, sizeof(why), "%s", err->message);
			ich_error_destroy(err);
		} else if (!why[0]) {
			heap->layout = cand[i];
			heap->layout_fallback = i > 0;
			heap->status = ICH_HEAP_OK;
			if (i > 0)
				heaps_note(h, "heap 0x%" PRIx64 ": the row for build %u failed (%s); row \"%s\" (%u) passes and is used",
					   heap->address, h->build, first_why, cand[i]->label, cand[i]->build_min);
			if (o->lfh_missing && heap->lfh)
				heaps_note(h, "heap 0x%" PRIx64 ": row \"%s\" has no %s: the LFH front end is not walked",
					   heap->address, cand[i]->label, o->lfh_missing);
			return;
		}
		if (i == 0)
			snprintf(first_why, sizeof(first_why), "%s", why);
	}
	heap->status = ICH_HEAP_BAD_LAYOUT;
	snprintf(heap->reason, sizeof(heap->reason), "heap 0x%" PRIx64 ": no ntdll layout row fits (build %u row: %s)",
		 heap->address, h->build, first_why[0] ? first_why : "no row for this build");
}

/* page_heap.c adds heaps after the list is classified (a page heap only
 * PEB.ProcessHeap names, a page heap's NormalHeap): h->ofs grows with it. */
static void classify_at(struct ich_heaps *h, size_t i)
{
	classify(h, &h->heaps[i], &h->ofs[i]);
}

static struct ich_error *add_heap(struct ich_heaps *h, uint64_t addr)
{
	for (size_t i = 0; i < h->nheaps; i++)
		if (h->heaps[i].address == addr)
			return NULL;
	struct ich_heap *n = realloc(h->heaps, (h->nheaps + 1) * sizeof(*n));
	if (!n)
		return &ich_enomem;
	h->heaps = n;
	memset(&n[h->nheaps], 0, sizeof(*n));
	n[h->nheaps].address = addr;
	h->nheaps++;
	return NULL;
}

static uint32_t ntdll_build(const struct ich_minidump *md, uint32_t fallback, bool wow64)
{
	/* ntdll's file version gives the build more precisely than
	 * SystemInfo on some dumps; for WOW64 take the SysWOW64 copy. */
	for (size_t i = 0; i < md->nmodules; i++) {
		const char *n = md->modules[i].name;
		if (!n || !md->modules[i].file_version.valid)
			continue;
		size_t l = strlen(n);
		if (l < 9 || strcasecmp(n + l - 9, "ntdll.dll"))
			continue;
		bool is_wow = strstr(n, "SysWOW64") || strstr(n, "syswow64") || strstr(n, "SYSWOW64");
		if (wow64 != is_wow)
			continue;
		if (md->modules[i].file_version.build)
			return md->modules[i].file_version.build;
	}
	return fallback;
}

/*
 * Windows 11 24H2 keeps only the first heap in PEB.ProcessHeaps
 * (x64dbg/x64dbg pull request #3478: "From Windows 11 24H2, no all heap
 * information exists in the PEB (only the first heap is stored)"; it then
 * follows "the process heap descriptor", a structure no source we could
 * read describes, so its linkage is not followed here).  Instead every
 * 64 KiB-aligned address of the captured memory (heaps are reserved with
 * the allocation granularity) whose header signature is an NT heap's or a
 * segment heap's is tried as a heap; it is kept only when it passes the
 * same checks as a listed heap (layout row validation: _HEAP.Signature,
 * the SegmentList identity), and a note says it was found this way.
 */
#define HEAP_SCAN_MAX 4096
/* Probes (one 4-byte read each) a process's scan makes at most: 2^22
 * steps of 64 KiB are 256 GiB of held memory.  A kernel dump's user
 * ranges come from the process's page tables, and a crafted table whose
 * 1 GiB entries all point at one page claims 128 TiB: ~2^31 probes, a
 * minute per process (an audit of issue 12's hostile inputs). */
#define HEAP_PROBE_MAX (1u << 22)
/* Try the 64 KiB-aligned addresses of [start, start + held) as heaps;
 * *probes counts the addresses read. */
static struct ich_error *scan_range(struct ich_heaps *h, uint64_t start, uint64_t held, size_t *tried,
				    size_t *found, size_t *probes)
{
	uint64_t at = h->ptr == 8 ? 0x10 : 0x8;	/* SegmentSignature / Signature (classify) */
	uint64_t a = (start + 0xFFFF) & ~0xFFFFull;
	uint64_t end = start + held;
	if (end < start)
		end = UINT64_MAX;	/* wraps: clip at the top */
	for (; a + 0x1000 <= end && a >= start && *tried < HEAP_SCAN_MAX && *probes < HEAP_PROBE_MAX; a += 0x10000) {
		(*probes)++;
		/* a copying read: an address the dump does not hold is most
		 * of them in a hostile space, and needs no error object */
		uint8_t b[4];
		if (ich_as_read(h->as, a + at, b, 4, NULL) != 4)
			continue;
		uint32_t sig = ich_le32(b);
		if (sig != SEGMENT_SIGNATURE && sig != SEGHEAP_SIGNATURE)
			continue;
		bool listed = false;
		for (size_t i = 0; i < h->nheaps; i++)
			listed |= h->heaps[i].address == a;
		if (listed)
			continue;
		(*tried)++;
		struct ich_error *err = heaps_add_slot(h, a);
		if (err)
			return err;
		struct ich_heap *n = h->heaps;
		size_t notes = h->nnotes;
		classify(h, &n[h->nheaps], &h->ofs[h->nheaps]);
		if (n[h->nheaps].status != ICH_HEAP_OK) {
			/* not a heap (another segment, stray data): drop it and
			 * any note its classification made */
			while (h->nnotes > notes)
				free(h->notes[--h->nnotes]);
			continue;
		}
		n[h->nheaps].unlisted = true;
		h->nheaps++;
		(*found)++;
		heaps_note(h, "heap 0x%" PRIx64 " is not in PEB.ProcessHeaps: found by its header in the captured memory (24H2 lists only the first heap, x64dbg/x64dbg#3478)", a);
	}
	return NULL;
}

static struct ich_error *find_unlisted_heaps(struct ich_heaps *h)
{
	const struct ich_minidump *md = ich_dump_minidump(h->dump);
	size_t found = 0, tried = 0, probes = 0;
	struct ich_error *err = NULL;
	if (md) {
		/* Only the bytes the file holds are scanned: a range that claims
		 * more than the file has (a truncated or hostile dump: 4,080
		 * ranges of 4 GiB in a 141 KB file, found by the heap fuzz
		 * target) must not cost a probe per 64 KiB of what it claims. */
		uint64_t fsize = ich_dump_file_size(h->dump);
		for (size_t r = 0; r < md->nranges && tried < HEAP_SCAN_MAX && !err; r++) {
			const struct ich_md_range *mr = &md->ranges[r];
			if (mr->rva >= fsize)
				continue;
			uint64_t held = fsize - mr->rva < mr->size ? fsize - mr->rva : mr->size;
			err = scan_range(h, mr->start, held, &tried, &found, &probes);
		}
	} else if (h->uranges) {
		/* a kernel-dump process: the present / transition user pages of
		 * its page tables (ich_kernel_user_ranges) */
		for (size_t r = 0; r < h->nuranges && tried < HEAP_SCAN_MAX && !err; r++)
			err = scan_range(h, h->uranges[r].start, h->uranges[r].size, &tried, &found, &probes);
	} else {
		return NULL;
	}
	if (err)
		return err;
	if (probes >= HEAP_PROBE_MAX)
		heaps_note(h, "the scan for heaps beyond PEB.ProcessHeaps stopped after %u addresses (%" PRIu64 " GiB of captured memory): the rest was not looked at",
			   HEAP_PROBE_MAX, (uint64_t)HEAP_PROBE_MAX * 0x10000 >> 30);
	if (!found)
		heaps_note(h, "build %u: no heap beyond PEB.ProcessHeaps was found in the captured memory (24H2 may list only the first heap, x64dbg/x64dbg#3478)",
			   h->build);
	return NULL;
}

/* A 32-bit view of the process space for WOW64 heaps. */
static struct ich_error *wow64_view(struct ich_heaps *h)
{
	struct as32 *v = calloc(1, sizeof(*v));
	if (!v)
		return &ich_enomem;
	v->as.ops = &as32_ops;
	v->as.ptr_size = 4;
	v->as.dump = h->dump;
	v->inner = h->as;
	snprintf(v->as.name, sizeof(v->as.name), "WOW64 32-bit view");
	h->as32 = &v->as;
	h->as = &v->as;
	h->ptr = 4;
	h->arch = ICH_ARCH_X86;
	return NULL;
}

static struct ich_error *heaps_from_peb(struct ich_heaps *h);

struct ich_error *ich_heaps_open(struct ich_dump *dump, uint32_t build, struct ich_heaps **ret)
{
	return ich_heaps_open_with(dump, build, ich_layouts_default(), ret);
}

struct ich_error *ich_heaps_open_with(struct ich_dump *dump, uint32_t build,
				      const struct ich_layouts *layouts, struct ich_heaps **ret)
{
	const struct ich_minidump *md = ich_dump_minidump(dump);
	if (!md)
		return ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: process heaps are read from user-mode minidumps, or from a kernel dump with --pid/--process; this is a %s",
			ich_dump_path(dump), ich_dump_kind_name(dump));
	struct ich_as *as = ich_dump_as(dump);
	if (!as)
		return ich_error_create(ICH_ERR_FAULT, "%s: the minidump holds no memory", ich_dump_path(dump));
	struct ich_heaps *h = calloc(1, sizeof(*h));
	if (!h)
		return &ich_enomem;
	h->dump = dump;
	h->layouts = layouts;
	h->as = as;
	h->ptr = ich_as_ptr_size(as);
	h->arch = ich_dump_arch(dump);
	bool wow = ich_dump_is_wow64(dump);
	if (wow) {
		struct ich_error *err = wow64_view(h);
		if (err) {
			ich_heaps_close(h);
			return err;
		}
	}
	h->build = build ? build : ntdll_build(md, ich_dump_build(dump), wow);
	h->row = ich_layouts_find(layouts, "ntdll", h->arch, h->build);
	if (!h->row) {
		struct ich_error *err = ich_error_create(ICH_ERR_LAYOUT,
			"%s: no ntdll layout for %s build %u (icpheap types lists the table; --layout adds rows)",
			ich_dump_path(dump), ich_arch_name(h->arch), h->build);
		ich_heaps_close(h);
		return err;
	}
	const char *missing = ntofs_fill_peb(h->row, &h->peb_o);
	if (missing) {
		struct ich_error *err = ich_error_create(ICH_ERR_LAYOUT,
			"%s: ntdll layout row \"%s\" (%s %u) has no %s, which finding the heaps needs",
			ich_dump_path(dump), h->row->label, ich_arch_name(h->arch), h->row->build_min, missing);
		ich_heaps_close(h);
		return err;
	}
	const struct ntofs *o = &h->peb_o;
	if (h->arch != ICH_ARCH_X86 && h->arch != ICH_ARCH_X64 && h->arch != ICH_ARCH_ARM64) {
		struct ich_error *err = ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: heaps of %s processes are not supported", ich_dump_path(dump), ich_arch_name(h->arch));
		ich_heaps_close(h);
		return err;
	}
	/* TEB -> PEB: try each thread until one TEB is captured. */
	struct ich_error *err = NULL;
	char tried[256] = "";
	for (size_t i = 0; i < md->nthreads && !h->peb; i++) {
		uint64_t teb = md->threads[i].teb + (wow ? 0x2000 : 0);
		uint64_t peb = rdptr(h, teb + (uint64_t)o->teb_peb, &err);
		if (err) {
			if (!tried[0])
				snprintf(tried, sizeof(tried), "%s", err->message);
			ich_error_destroy(err);
			continue;
		}
		h->peb = peb;
		heaps_note(h, "PEB 0x%" PRIx64 " from thread %u's %sTEB 0x%" PRIx64, peb,
			   md->threads[i].thread_id, wow ? "32-bit " : "", teb);
	}
	if (!h->peb) {
		err = ich_error_create(ICH_ERR_FAULT,
			"%s: no thread's TEB is captured in this dump, so the PEB and the heap list cannot be found (%s)",
			ich_dump_path(dump), tried[0] ? tried : "no threads");
		ich_heaps_close(h);
		return err;
	}
	heap_modules_from_minidump(h);
	if ((err = heaps_from_peb(h))) {
		ich_heaps_close(h);
		return err;
	}
	*ret = h;
	return NULL;
}

struct ich_error *ich_heaps_open_process(struct ich_dump *dump, const struct ich_heap_process *p,
					 struct ich_heaps **ret)
{
	struct ich_heaps *h = calloc(1, sizeof(*h));
	if (!h) {
		if (p->own_as)
			ich_as_destroy(p->as);
		return &ich_enomem;
	}
	h->dump = dump;
	h->layouts = ich_layouts_default();
	h->as = p->as;
	h->owned_as = p->own_as ? p->as : NULL;
	h->ptr = ich_as_ptr_size(p->as);
	h->arch = p->arch;
	h->build = p->build;
	struct ich_error *err = NULL;
	if (p->wow64 && (err = wow64_view(h))) {
		ich_heaps_close(h);
		return err;
	}
	h->row = ich_layouts_find(h->layouts, "ntdll", h->arch, h->build);
	if (!h->row) {
		err = ich_error_create(ICH_ERR_LAYOUT,
			"%s: no ntdll layout for %s build %u (icpheap types lists the table; --layout adds rows)",
			ich_dump_path(dump), ich_arch_name(h->arch), h->build);
		ich_heaps_close(h);
		return err;
	}
	const char *missing = ntofs_fill_peb(h->row, &h->peb_o);
	if (missing) {
		err = ich_error_create(ICH_ERR_LAYOUT,
			"%s: ntdll layout row \"%s\" (%s %u) has no %s, which finding the heaps needs",
			ich_dump_path(dump), h->row->label, ich_arch_name(h->arch), h->row->build_min, missing);
		ich_heaps_close(h);
		return err;
	}
	if (h->arch != ICH_ARCH_X86 && h->arch != ICH_ARCH_X64 && h->arch != ICH_ARCH_ARM64) {
		err = ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: heaps of %s processes are not supported", ich_dump_path(dump), ich_arch_name(h->arch));
		ich_heaps_close(h);
		return err;
	}
	h->peb = p->peb;
	if (!h->peb) {
		err = ich_error_create(ICH_ERR_FAULT, "%s: %s has no %sPEB (a kernel-only process?)",
				       ich_dump_path(dump), p->origin, p->wow64 ? "32-bit " : "");
		ich_heaps_close(h);
		return err;
	}
	heaps_note(h, "%sPEB 0x%" PRIx64 " from %s", p->wow64 ? "32-bit " : "", h->peb, p->origin);
	if (p->nranges && (h->uranges = malloc(p->nranges * sizeof(*h->uranges)))) {
		memcpy(h->uranges, p->ranges, p->nranges * sizeof(*h->uranges));
		h->nuranges = p->nranges;
	}
	/* no minidump module list here: the loader's own list gives ntdll */
	heap_modules_from_ldr(h);
	if ((err = heaps_from_peb(h))) {
		ich_heaps_close(h);
		return err;
	}
	*ret = h;
	return NULL;
}

/* The heap list from the PEB (h->peb and h->peb_o set), then each heap's
 * kind and layout.  On failure the caller closes h. */
static struct ich_error *heaps_from_peb(struct ich_heaps *h)
{
	struct ich_dump *dump = h->dump;
	const struct ntofs *o = &h->peb_o;
	struct ich_error *err = NULL;
	uint64_t process_heap = rdptr(h, h->peb + (uint64_t)o->peb_process_heap, &err);
	if (err)
		return ich_error_wrap(err, "%s: PEB 0x%" PRIx64 " cannot be read: PEB.ProcessHeap at ",
				      ich_dump_path(dump), h->peb);
	uint32_t gf = 0, nheaps = 0, maxheaps = 0;
	/* Optional: NtGlobalFlag only labels the heap debugging aids. */
	if (o->peb_global_flag >= 0 &&
	    ich_error_ok(ich_as_read_u32(h->as, h->peb + (uint64_t)o->peb_global_flag, &gf))) {
		h->have_global_flag = true;
		h->global_flag = gf;
	}
	uint64_t array = 0;
	struct ich_error *e1 = NULL, *e2 = NULL, *e3 = NULL;
	bool have_list = o->peb_nheaps >= 0 && o->peb_max_heaps >= 0 && o->peb_heaps >= 0;
	if (have_list) {
		e1 = ich_as_read_u32(h->as, h->peb + (uint64_t)o->peb_nheaps, &nheaps);
		e2 = ich_as_read_u32(h->as, h->peb + (uint64_t)o->peb_max_heaps, &maxheaps);
		e3 = ich_as_read_ptr(h->as, h->peb + (uint64_t)o->peb_heaps, &array);
	} else {
		heaps_note(h, "layout row \"%s\" has no PEB.ProcessHeaps/NumberOfHeaps: only PEB.ProcessHeap is listed",
			   h->row->label);
	}
	bool listed = false;
	if (have_list && !e1 && !e2 && !e3 && nheaps && nheaps <= maxheaps && nheaps <= MAX_HEAPS) {
		uint64_t first;
		err = ich_as_read_ptr(h->as, array, &first);
		if (err) {
			heaps_note(h, "PEB.ProcessHeaps array 0x%" PRIx64 " (%u heaps) is not captured in this dump: only PEB.ProcessHeap 0x%" PRIx64 " is known",
				   array, nheaps, process_heap);
			ich_error_destroy(err);
		} else {
			if (first != process_heap)
				heaps_note(h, "ProcessHeaps[0] 0x%" PRIx64 " differs from PEB.ProcessHeap 0x%" PRIx64, first, process_heap);
			for (uint32_t i = 0; i < nheaps; i++) {
				uint64_t a;
				err = ich_as_read_ptr(h->as, array + (uint64_t)i * h->ptr, &a);
				if (err) {
					heaps_note(h, "ProcessHeaps[%u] at 0x%" PRIx64 " not captured: %u of %u heaps listed",
						   i, array + (uint64_t)i * h->ptr, i, nheaps);
					ich_error_destroy(err);
					break;
				}
				if (a && (err = add_heap(h, a))) {
					ich_error_destroy(e1);
					ich_error_destroy(e2);
					ich_error_destroy(e3);
					return err;
				}
			}
			listed = true;
			heaps_note(h, "heap list: PEB.ProcessHeaps 0x%" PRIx64 " (NumberOfHeaps %u)", array, nheaps);
		}
	} else if (!e1 && !e2 && (nheaps > maxheaps || nheaps > MAX_HEAPS)) {
		heaps_note(h, "PEB.NumberOfHeaps %u / MaximumNumberOfHeaps %u are inconsistent: using PEB.ProcessHeap only",
			   nheaps, maxheaps);
	}
	ich_error_destroy(e1);
	ich_error_destroy(e2);
	ich_error_destroy(e3);
	if (!listed && process_heap && (err = add_heap(h, process_heap)))
		return err;
	if (h->nheaps && !(h->ofs = calloc(h->nheaps, sizeof(*h->ofs))))
		return &ich_enomem;
	for (size_t i = 0; i < h->nheaps; i++)
		classify(h, &h->heaps[i], &h->ofs[i]);
	if ((err = page_heaps_complete(h, process_heap, classify_at)))
		return err;
	if (h->build >= 26100 && (err = find_unlisted_heaps(h)))
		return err;
	return NULL;
}

void ich_heaps_close(struct ich_heaps *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nheaps; i++) {
		for (size_t s = 0; s < h->heaps[i].nsegments; s++)
			free(h->heaps[i].segments[s].ucr);
		free(h->heaps[i].segments);
		free(h->heaps[i].problems);
		heap_unreadable_free(&h->heaps[i]);
	}
	free(h->heaps);
	free(h->ofs);
	seg_state_free(h);
	ust_cache_free(h);
	for (size_t i = 0; i < h->nnotes; i++)
		free(h->notes[i]);
	free(h->notes);
	heap_modules_free(h);
	free(h->uranges);
	free(h->capt);
	free(h->ntdll_secs);
	if (h->as32)
		h->as32->ops->destroy(h->as32);
	if (h->owned_as)
		ich_as_destroy(h->owned_as);
	free(h);
}

size_t ich_heaps_count(const struct ich_heaps *h) { return h->nheaps; }
struct ich_heap *ich_heaps_get(struct ich_heaps *h, size_t i) { return i < h->nheaps ? &h->heaps[i] : NULL; }
size_t ich_heaps_note_count(const struct ich_heaps *h) { return h->nnotes; }
const char *ich_heaps_note(const struct ich_heaps *h, size_t i) { return i < h->nnotes ? h->notes[i] : NULL; }
unsigned ich_heaps_ptr_size(const struct ich_heaps *h) { return h->ptr; }

struct ich_heap *ich_heaps_find(struct ich_heaps *h, uint64_t address)
{
	for (size_t i = 0; i < h->nheaps; i++)
		if (h->heaps[i].address == address)
			return &h->heaps[i];
	return NULL;
}

bool ich_heaps_global_flag(const struct ich_heaps *h, uint32_t *flag)
{
	if (h->have_global_flag)
		*flag = h->global_flag;
	return h->have_global_flag;
}

unsigned ich_heaps_lfh_key_bits(const struct ich_heaps *h)
{
	if (!h->lfh_key_known)
		return 0;
	if (h->lfh_key_full)
		return h->ptr == 8 ? 64 : 32;
	return h->lfh_key_low_bits ? h->lfh_key_low_bits : 32;
}

bool ich_heaps_lfh_key(const struct ich_heaps *h, uint64_t *key)
{
	if (h->lfh_key_known)
		*key = h->lfh_key;
	return h->lfh_key_known;
}

const char *ich_block_state_name(enum ich_block_state s)
{
	switch (s) {
	case ICH_BLOCK_BUSY: return "busy";
	case ICH_BLOCK_FREE: return "free";
	case ICH_BLOCK_INTERNAL: return "internal";
	case ICH_BLOCK_CORRUPT: return "corrupt";
	}
	return "unknown";
}

const char *ich_block_layer_name(enum ich_block_layer l)
{
	switch (l) {
	case ICH_LAYER_BACKEND: return "backend";
	case ICH_LAYER_LFH: return "lfh";
	case ICH_LAYER_VIRTUAL: return "virtual";
	case ICH_LAYER_SEG_VS: return "segment-vs";
	case ICH_LAYER_SEG_LFH: return "segment-lfh";
	case ICH_LAYER_SEG_BACKEND: return "segment-backend";
	case ICH_LAYER_SEG_LARGE: return "segment-large";
	case ICH_LAYER_PAGE_HEAP: return "page-heap";
	}
	return "unknown";
}
