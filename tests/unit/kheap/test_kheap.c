/* SPDX-License-Identifier: MIT */
/*
 * Heaps of processes inside kernel memory dumps, against the kobjbuilder
 * *-heaps scenarios.  The heaps were written by the ntheap builder into
 * each process's own address space; the .heaps file lists, per process,
 * the builder's heaps, segments, UCRs and every block, and the page states
 * the scenario applied (transition: must read; paged out / demand-zero:
 * unreadable).  For an unreadable page the expected range is derived from
 * the builder's block list: it starts at the first back-end header on the
 * page and the walk resumes at the first header after it.
 * In the x64 scenarios heapapp.exe also holds the segment-heap builder's
 * two segment heaps, found through PEB.ProcessHeaps, their keys through
 * ntdll's RtlpHpHeapGlobals, and ntdll through the loader's list
 * (PEB.Ldr): every segment-heap block is checked in walk order, with the
 * totals, page segments, uncommitted ranges, MemStats, list index and
 * keys, as tests/unit/segheap does for the minidump scenarios; the module
 * list (both the x64 one and the WOW64 process's 32-bit one) is checked
 * entry by entry.
 * argv: pairs DMP HEAPS (any number up to MAXSCEN), then a kernel-only
 * dump.  Each pair is one test named after the dump file.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <icpheap/dump.h>

#include "../heap_blocks.h"
#include <icpheap/error.h>
#include <icpheap/heap.h>
#include <icpheap/kernel.h>

#define MAXSCEN 16
static const char *dmp_path[MAXSCEN], *heaps_path[MAXSCEN], *kernel_only_path;

struct xblock {
	uint64_t header, user, size, block_size;
	char state[16], layer[24];
};
struct xseg {
	uint64_t base, first, last;
	uint64_t ucr[8][2];	size_t nucr;
};
struct xheap {
	uint64_t address;
	uint32_t flags;
	unsigned segments;
	struct xblock *b;	size_t nb;
	uint64_t busy_count, busy_bytes, free_count, free_bytes;
	/* segment heaps (kind=segment): the segheap builder's lines */
	bool seg;
	struct xseg sg[8];	size_t nsg;
	uint64_t internal_count, corrupt_count, large_count;
	bool have_mem;
	uint64_t res_pages, com_pages, list_index;
};
struct xmod {
	uint64_t base, size;
	int wow64;
	char path[128];
};
struct xpage {
	uint64_t page;
	char why[32];		/* "" = transition (readable) */
};
struct xproc {
	uint32_t pid;
	bool wow64;
	uint64_t peb;
	struct xheap h[8];	size_t nh;
	struct xpage pg[8];	size_t npg;
	struct xmod mod[8];	size_t nmod;
	bool have_keys;
	uint64_t heap_key, lfh_key;
	uint64_t unlisted[4];	size_t nunlisted;	/* 24H2: not in PEB.ProcessHeaps */
};
struct xnote {
	uint32_t pid;
	char text[160];
};
struct expect {
	struct xproc p[4];	size_t np;
	struct xnote note[4];	size_t nnote;	/* notes a process's heaps must carry */
};

static uint64_t field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? strtoull(p + strlen(key), NULL, 0) : UINT64_MAX;
}

static void load(const char *path, struct expect *x)
{
	memset(x, 0, sizeof *x);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512];
	struct xproc *p = NULL;
	struct xheap *h = NULL;
	struct xseg *sg = NULL;
	while (fgets(line, sizeof line, f)) {
		unsigned long long a, b, c, d;
		unsigned fl, n, pid;
		int wow;
		char st[32], ly[24];
		if (sscanf(line, "process pid=%u layout=%15s wow64=%d", &pid, ly, &wow) == 3) {
			assert_true(x->np < 4);
			p = &x->p[x->np++];
			p->pid = pid;
			p->wow64 = wow;
			h = NULL;
		} else if (sscanf(line, "heap 0x%llx flags=0x%x segments=%u", &a, &fl, &n) == 3) {
			assert_non_null(p);
			assert_true(p->nh < 8);
			h = &p->h[p->nh++];
			h->address = a;
			h->flags = fl;
			h->segments = n;
			h->seg = strstr(line, "kind=segment") != NULL;
			sg = NULL;
		} else if (!strncmp(line, "segment base=", 13)) {
			assert_true(h && h->nsg < 8);
			sg = &h->sg[h->nsg++];
			sg->base = field(line, "base=");
			sg->first = field(line, "first=");
			sg->last = field(line, "last=");
		} else if (sscanf(line, "uncommitted 0x%llx", &a) == 1) {
			assert_true(sg && sg->nucr < 8);
			sg->ucr[sg->nucr][0] = a;
			sg->ucr[sg->nucr++][1] = field(line, "size=");
		} else if (!strncmp(line, "memstats ", 9)) {
			h->have_mem = true;
			h->res_pages = field(line, "reserved_pages=");
			h->com_pages = field(line, "committed_pages=");
			h->list_index = field(line, "list_index=");
		} else if (!strncmp(line, "keys ", 5)) {
			p->have_keys = true;
			p->heap_key = field(line, "heap_key=");
			p->lfh_key = field(line, " lfh_key=");
		} else if (sscanf(line, "note pid=%u", &pid) == 1) {
			assert_true(x->nnote < 4);
			struct xnote *nt = &x->note[x->nnote++];
			nt->pid = pid;
			const char *t = strchr(line + 9, ' ');
			assert_non_null(t);
			snprintf(nt->text, sizeof nt->text, "%s", t + 1);
			nt->text[strcspn(nt->text, "\n")] = '\0';
		} else if (sscanf(line, "unlisted 0x%llx", &a) == 1) {
			assert_true(p && p->nunlisted < 4);
			p->unlisted[p->nunlisted++] = a;
		} else if (!strncmp(line, "module ", 7)) {
			assert_true(p && p->nmod < 8);
			struct xmod *m = &p->mod[p->nmod++];
			m->base = field(line, "base=");
			m->size = field(line, "size=");
			m->wow64 = (int)field(line, "wow64=");
			const char *pp = strstr(line, "path=");
			assert_non_null(pp);
			snprintf(m->path, sizeof m->path, "%s", pp + 5);
			m->path[strcspn(m->path, "\n")] = '\0';
		} else if (sscanf(line, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%15s layer=%23s",
				  &a, &b, &c, &d, st, ly) == 6) {
			assert_non_null(h);
			h->b = realloc(h->b, (h->nb + 1) * sizeof *h->b);
			struct xblock *xb = &h->b[h->nb++];
			*xb = (struct xblock){ a, b, c, d, "", "" };
			strcpy(xb->state, st);
			strcpy(xb->layer, ly);
		} else if (sscanf(line, "totals busy_count=%llu busy_bytes=%llu free_count=%llu free_bytes=%llu",
				  &a, &b, &c, &d) == 4) {
			h->busy_count = a;
			h->busy_bytes = b;
			h->free_count = c;
			h->free_bytes = d;
			if (h->seg) {
				h->internal_count = field(line, "internal_count=");
				h->corrupt_count = field(line, "corrupt_count=");
				h->large_count = field(line, "large_count=");
			}
		} else if (sscanf(line, "peb 0x%llx", &a) == 1) {
			p->peb = a;
		} else if (sscanf(line, "transition page=0x%llx", &a) == 1) {
			assert_true(p->npg < 8);
			p->pg[p->npg++] = (struct xpage){ a, "" };
		} else if (sscanf(line, "unreadable page=0x%llx why=%31s", &a, st) == 2) {
			assert_true(p->npg < 8);
			p->pg[p->npg] = (struct xpage){ a, "" };
			strcpy(p->pg[p->npg++].why, st);
		}
	}
	fclose(f);
}

static void free_expect(struct expect *x)
{
	for (size_t i = 0; i < x->np; i++)
		for (size_t j = 0; j < x->p[i].nh; j++)
			free(x->p[i].h[j].b);
}

/* The unreadable page holding header, or NULL. */
static const struct xpage *lost_page(const struct xproc *p, uint64_t header)
{
	for (size_t i = 0; i < p->npg; i++)
		if (p->pg[i].why[0] && header >= p->pg[i].page && header < p->pg[i].page + 0x1000)
			return &p->pg[i];
	return NULL;
}

/* First back-end header of xh at or after a. */
static uint64_t first_header_from(const struct xheap *xh, uint64_t a)
{
	uint64_t best = UINT64_MAX;
	for (size_t i = 0; i < xh->nb; i++)
		if (!strcmp(xh->b[i].layer, "backend") && xh->b[i].header >= a && xh->b[i].header < best)
			best = xh->b[i].header;
	return best;
}

static void check_heap(struct ich_heaps *hs, struct ich_heap *hh, const struct xproc *p,
		       const struct xheap *xh)
{
	struct heap_blocks g = { 0 };
	assert_null(ich_heap_walk(hs, hh, heap_blocks_collect, &g));
	assert_int_equal(hh->status, ICH_HEAP_OK);
	assert_int_equal(hh->flags, xh->flags);
	assert_int_equal(hh->nsegments, xh->segments);
	assert_int_equal(hh->nproblems, 0);	/* unreadable is not corruption */
	size_t lost = 0, npages = 0;
	for (size_t i = 0; i < xh->nb; i++) {
		const struct xblock *xb = &xh->b[i];
		const struct ich_heap_block *b = heap_blocks_find(&g, xb->header);
		if (lost_page(p, xb->header)) {
			if (b)
				fail_msg("pid %u heap 0x%llx: block 0x%llx lies on an unreadable page but is reported",
					 p->pid, (unsigned long long)xh->address, (unsigned long long)xb->header);
			lost++;
			continue;
		}
		if (!b)
			fail_msg("pid %u heap 0x%llx: block 0x%llx (%s %s) not reported", p->pid,
				 (unsigned long long)xh->address, (unsigned long long)xb->header, xb->state, xb->layer);
		assert_int_equal(b->user, xb->user);
		assert_string_equal(ich_block_state_name(b->state), xb->state);
		assert_string_equal(ich_block_layer_name(b->layer), xb->layer);
		assert_int_equal(b->block_size, xb->block_size);
		if (b->state != ICH_BLOCK_INTERNAL)
			assert_int_equal(b->size, xb->size);
	}
	assert_int_equal(g.n + lost, xh->nb);
	/* every unreadable page of this heap is named, with its reason */
	for (size_t k = 0; k < p->npg; k++) {
		const struct xpage *pg = &p->pg[k];
		uint64_t first = first_header_from(xh, pg->page);
		if (!pg->why[0] || first >= pg->page + 0x1000)
			continue;	/* transition, or not this heap's page */
		npages++;
		uint64_t resume = first_header_from(xh, pg->page + 0x1000);
		bool found = false;
		for (size_t u = 0; u < hh->nunreadable; u++) {
			const struct ich_heap_unreadable *r = &hh->unreadable[u];
			if (r->page != pg->page)
				continue;
			found = true;
			assert_int_equal(r->address, first);
			assert_true(r->resynced);
			assert_int_equal(r->end, resume);
			assert_string_equal(ich_miss_reason_name(r->why), pg->why);
		}
		if (!found)
			fail_msg("pid %u heap 0x%llx: unreadable page 0x%llx not named", p->pid,
				 (unsigned long long)xh->address, (unsigned long long)pg->page);
	}
	assert_int_equal(hh->nunreadable, npages);
	assert_int_equal(hh->partial, npages > 0);
	if (!npages) {
		assert_int_equal(hh->totals.busy_count, xh->busy_count);
		assert_int_equal(hh->totals.busy_bytes, xh->busy_bytes);
		assert_int_equal(hh->totals.free_count, xh->free_count);
		assert_int_equal(hh->totals.free_bytes, xh->free_bytes);
	}
	free(g.b);
}

/* A segment heap: every block in walk order, as tests/unit/segheap. */
static void check_seg_heap(struct ich_heaps *hs, struct ich_heap *hp, const struct xproc *p,
			   const struct xheap *xh)
{
	assert_int_equal(hp->kind, ICH_HEAP_KIND_SEGMENT);
	if (hp->status != ICH_HEAP_OK)
		fail_msg("pid %u: %s", p->pid, hp->reason);
	struct heap_blocks g = { 0 };
	struct ich_error *err = ich_heap_walk(hs, hp, heap_blocks_collect, &g);
	if (err)
		fail_msg("pid %u heap 0x%" PRIx64 ": walk: %s", p->pid, xh->address, err->message);
	size_t n = g.n < xh->nb ? g.n : xh->nb;
	for (size_t j = 0; j < n; j++) {
		const struct ich_heap_block *b = &g.b[j];
		const struct xblock *e = &xh->b[j];
		if (b->header != e->header || b->user != e->user || b->size != e->size ||
		    b->block_size != e->block_size || strcmp(ich_block_state_name(b->state), e->state) ||
		    strcmp(ich_block_layer_name(b->layer), e->layer))
			fail_msg("pid %u heap 0x%" PRIx64 " block %zu: walker header=0x%" PRIx64 " user=0x%" PRIx64 " size=%" PRIu64
				 " block_size=%" PRIu64 " %s %s; expected header=0x%" PRIx64 " user=0x%" PRIx64 " size=%" PRIu64
				 " block_size=%" PRIu64 " %s %s", p->pid, xh->address, j, b->header, b->user, b->size,
				 b->block_size, ich_block_state_name(b->state), ich_block_layer_name(b->layer), e->header,
				 e->user, e->size, e->block_size, e->state, e->layer);
	}
	if (g.n != xh->nb)
		fail_msg("pid %u heap 0x%" PRIx64 ": %zu blocks walked, %zu expected", p->pid, xh->address, g.n, xh->nb);
	const struct ich_heap_totals *t = &hp->totals;
	assert_int_equal(t->busy_count, xh->busy_count);
	assert_int_equal(t->busy_bytes, xh->busy_bytes);
	assert_int_equal(t->free_count, xh->free_count);
	assert_int_equal(t->free_bytes, xh->free_bytes);
	assert_int_equal(t->internal_count, xh->internal_count);
	assert_int_equal(t->corrupt_count, xh->corrupt_count);
	assert_int_equal(t->virtual_blocks, xh->large_count);
	assert_int_equal(hp->nsegments, xh->nsg);
	for (size_t s = 0; s < xh->nsg; s++) {
		const struct ich_heap_segment *sg = &hp->segments[s];
		assert_int_equal(sg->base, xh->sg[s].base);
		assert_int_equal(sg->first_entry, xh->sg[s].first);
		assert_int_equal(sg->last_valid_entry, xh->sg[s].last);
		assert_int_equal(sg->nucr, xh->sg[s].nucr);
		for (size_t u = 0; u < xh->sg[s].nucr; u++) {
			assert_int_equal(sg->ucr[u].address, xh->sg[s].ucr[u][0]);
			assert_int_equal(sg->ucr[u].size, xh->sg[s].ucr[u][1]);
		}
	}
	assert_int_equal(hp->nproblems, 0);
	assert_false(hp->partial);
	if (xh->have_mem) {
		assert_int_equal(t->reserved, xh->res_pages * 4096);
		assert_int_equal(t->committed, xh->com_pages * 4096);
		uint32_t li;
		assert_true(ich_heap_segment_info(hs, hp, &li));
		assert_int_equal(li, xh->list_index);
	}
	free(g.b);
}

static bool note_has(struct ich_heaps *h, const char *what)
{
	for (size_t i = 0; i < ich_heaps_note_count(h); i++)
		if (strstr(ich_heaps_note(h, i), what))
			return true;
	return false;
}

/* The loader's list as the builder laid it out, entry by entry. */
static void check_modules(struct ich_heaps *hs, const struct xproc *p)
{
	if (!p->nmod)
		return;
	assert_int_equal(ich_heaps_module_count(hs), p->nmod);
	assert_non_null(strstr(ich_heaps_modules_origin(hs), p->wow64 ? "PEB32.Ldr" : "(PEB.Ldr)"));
	for (size_t i = 0; i < p->nmod; i++) {
		const struct ich_heap_module *m = ich_heaps_module(hs, i);
		assert_non_null(m);
		assert_int_equal(m->base, p->mod[i].base);
		assert_int_equal(m->size, p->mod[i].size);
		assert_int_equal(m->wow64, p->mod[i].wow64);
		assert_string_equal(m->name, p->mod[i].path);
	}
}

static void run_scenario(size_t k)
{
	struct expect x;
	load(heaps_path[k], &x);
	assert_true(x.np >= 1);
	struct ich_dump *d;
	assert_null(ich_dump_open(dmp_path[k], &d));
	struct ich_kernel *kern;
	assert_null(ich_kernel_open(d, 0, &kern));
	assert_true(ich_kernel_user_pages(kern, NULL));
	for (size_t i = 0; i < x.np; i++) {
		const struct xproc *p = &x.p[i];
		const struct ich_kprocess *kp = ich_kernel_find_pid(kern, p->pid);
		assert_non_null(kp);
		assert_int_equal(kp->wow64_process != 0, p->wow64);
		if (p->wow64)
			assert_int_equal(kp->peb32, p->peb);
		else
			assert_int_equal(kp->peb, p->peb);
		struct ich_heaps *hs;
		struct ich_error *err = ich_kernel_process_heaps(kern, kp, 0, &hs);
		if (err)
			fail_msg("pid %u: %s", p->pid, err->message);
		assert_int_equal(ich_heaps_ptr_size(hs), p->wow64 || ich_dump_arch(d) == ICH_ARCH_X86 ? 4 : 8);
		assert_int_equal(ich_heaps_count(hs), p->nh);
		/* committed from the heap headers alone (no walk: what analyze
		 * ranks processes by), then the walk must report the same */
		uint64_t quick[8];
		for (size_t j = 0; j < p->nh; j++) {
			struct ich_heap *hh = ich_heaps_get(hs, j);
			enum ich_commit_source src;
			assert_null(ich_heap_committed(hs, hh, &quick[j], &src));
			assert_int_equal(src, ICH_COMMIT_HEADERS);
			assert_false(hh->walked);
		}
		for (size_t j = 0; j < p->nh; j++) {
			struct ich_heap *hh = ich_heaps_get(hs, j);
			assert_int_equal(hh->address, p->h[j].address);
			/* a heap PEB.ProcessHeaps leaves out (24H2) is found by the
			 * scan of the user pages the dump holds, and marked */
			bool unlisted = false;
			for (size_t u = 0; u < p->nunlisted; u++)
				unlisted |= p->unlisted[u] == hh->address;
			assert_int_equal(hh->unlisted, unlisted);
			if (p->h[j].seg)
				check_seg_heap(hs, hh, p, &p->h[j]);
			else
				check_heap(hs, hh, p, &p->h[j]);
		}
		for (size_t j = 0; j < p->nh; j++) {
			struct ich_heap *hh = ich_heaps_get(hs, j);
			if (hh->totals.committed != quick[j])
				fail_msg("pid %u heap 0x%" PRIx64 ": committed from the headers 0x%" PRIx64 ", walked 0x%" PRIx64,
					 p->pid, hh->address, quick[j], hh->totals.committed);
			assert_true(quick[j] > 0);
		}
		check_modules(hs, p);
		/* the notes the builder expects for this process (a bounded
		 * scan that stopped); without one, no scan may have stopped */
		bool noted = false;
		for (size_t n = 0; n < x.nnote; n++)
			if (x.note[n].pid == p->pid) {
				noted = true;
				if (!note_has(hs, x.note[n].text))
					fail_msg("pid %u: no note \"%s\"", p->pid, x.note[n].text);
			}
		if (!noted)
			assert_false(note_has(hs, "stopped after"));
		if (p->have_keys) {
			/* found the real way: ntdll through PEB.Ldr, then
			 * RtlpHpHeapGlobals in its .data next to HeapKey */
			struct ich_segment_keys keys;
			assert_true(ich_heaps_segment_keys(hs, &keys));
			assert_true(keys.heap_key_known && keys.lfh_key_known);
			assert_int_equal(keys.heap_key, p->heap_key);
			assert_int_equal(keys.lfh_key, p->lfh_key);
			assert_true(note_has(hs, "from RtlpHpHeapGlobals"));
		}
		ich_heaps_close(hs);
	}
	/* System has no PEB: a clear error, not a crash */
	const struct ich_kprocess *sys = ich_kernel_find_pid(kern, 4);
	assert_non_null(sys);
	struct ich_heaps *hs = NULL;
	struct ich_error *err = ich_kernel_process_heaps(kern, sys, 0, &hs);
	assert_non_null(err);
	assert_non_null(strstr(err->message, "no PEB"));
	ich_error_destroy(err);
	/* by name, case-insensitively */
	const struct ich_kprocess *m[4];
	assert_int_equal(ich_kernel_find_image(kern, "HEAPAPP.EXE", m, 4), 1);
	assert_int_equal(m[0]->pid, 5100);
	assert_int_equal(ich_kernel_find_image(kern, "svchost.exe", m, 4), 2);
	ich_kernel_close(kern);
	ich_dump_close(d);
	free_expect(&x);
}

static void test_scenario(void **s) { run_scenario(*(size_t *)*s); }

static void test_kernel_only(void **s)
{
	(void)s;
	struct ich_dump *d;
	assert_null(ich_dump_open(kernel_only_path, &d));
	struct ich_kernel *kern;
	assert_null(ich_kernel_open(d, 0, &kern));
	const char *why = NULL;
	assert_false(ich_kernel_user_pages(kern, &why));
	assert_non_null(why);
	const struct ich_kprocess *p = ich_kernel_find_pid(kern, 868);
	assert_non_null(p);
	struct ich_heaps *hs = NULL;
	struct ich_error *err = ich_kernel_process_heaps(kern, p, 0, &hs);
	assert_non_null(err);
	assert_int_equal(err->code, ICH_ERR_UNSUPPORTED);
	assert_non_null(strstr(err->message, "no user-mode pages"));
	ich_error_destroy(err);
	ich_kernel_close(kern);
	ich_dump_close(d);
}

static void test_parse_pid(void **s)
{
	(void)s;
	uint32_t pid;
	assert_true(ich_kernel_parse_pid("5100", &pid));
	assert_int_equal(pid, 5100);
	assert_true(ich_kernel_parse_pid("0x13ec", &pid));
	assert_int_equal(pid, 5100);
	/* WinDbg's bare hex Cid: hex when it has hex letters */
	pid = 0;
	assert_true(ich_kernel_parse_pid("13ec", &pid));
	assert_int_equal(pid, 5100);
	assert_true(ich_kernel_parse_pid("13EC", &pid));
	assert_int_equal(pid, 5100);
	assert_true(ich_kernel_parse_pid("1`f4", &pid));
	assert_int_equal(pid, 0x1f4);
	assert_true(ich_kernel_parse_pid("0X1F4", &pid));
	assert_int_equal(pid, 0x1f4);
	/* digits only: decimal, as JSON writes it */
	assert_true(ich_kernel_parse_pid("0500", &pid));
	assert_int_equal(pid, 500);
	assert_true(ich_kernel_parse_pid("4294967295", &pid));
	assert_int_equal(pid, 4294967295u);
	/* refused; *pid untouched */
	pid = 7;
	assert_false(ich_kernel_parse_pid("-4", &pid));
	assert_false(ich_kernel_parse_pid("+4", &pid));
	assert_false(ich_kernel_parse_pid(" 12", &pid));
	assert_false(ich_kernel_parse_pid("12 ", &pid));
	assert_false(ich_kernel_parse_pid("", &pid));
	assert_false(ich_kernel_parse_pid(NULL, &pid));
	assert_false(ich_kernel_parse_pid("0x", &pid));
	assert_false(ich_kernel_parse_pid("`1f", &pid));
	assert_false(ich_kernel_parse_pid("12x", &pid));
	assert_false(ich_kernel_parse_pid("4294967296", &pid));
	assert_false(ich_kernel_parse_pid("0x1ffffffff", &pid));
	assert_false(ich_kernel_parse_pid("fffffffff", &pid));
	assert_int_equal(pid, 7);
}

int main(int argc, char **argv)
{
	size_t n = argc >= 4 ? (size_t)(argc - 2) / 2 : 0;
	if (argc < 4 || (argc - 2) % 2 || n > MAXSCEN) {
		fprintf(stderr, "usage: %s (DMP HEAPS)x1..%d KERNEL_ONLY_DMP\n", argv[0], MAXSCEN);
		return 2;
	}
	static size_t idx[MAXSCEN];
	static char names[MAXSCEN][96];
	struct CMUnitTest tests[MAXSCEN + 2];
	for (size_t i = 0; i < n; i++) {
		dmp_path[i] = argv[1 + 2 * i];
		heaps_path[i] = argv[2 + 2 * i];
		idx[i] = i;
		const char *base = strrchr(dmp_path[i], '/');
		snprintf(names[i], sizeof names[i], "%s", base ? base + 1 : dmp_path[i]);
		tests[i] = (struct CMUnitTest){ names[i], test_scenario, NULL, NULL, &idx[i] };
	}
	kernel_only_path = argv[argc - 1];
	tests[n] = (struct CMUnitTest)cmocka_unit_test(test_kernel_only);
	tests[n + 1] = (struct CMUnitTest)cmocka_unit_test(test_parse_pid);
	return _cmocka_run_group_tests("kheap", tests, n + 2, NULL, NULL);
}
