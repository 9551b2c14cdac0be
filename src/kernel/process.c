/* SPDX-License-Identifier: MIT */
/*
 * Processes from PsActiveProcessHead.  The EPROCESS row is confirmed before
 * it is trusted: the first process is System (pid 4, "System"), pids are
 * multiples of 4, and the list closes.  If the build's row fails, the other
 * ntoskrnl rows of the arch are tried, then the layout-free discovery of
 * layouts.md §8 (UniqueProcessId sits right before ActiveProcessLinks in
 * every build; ImageFileName is found by scanning System for "System").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "kernel/kernel_internal.h"

#define MAX_PROCESSES 65536	/* bound for hostile lists */

struct walk {
	struct ich_kernel *k;
	struct ich_kprocess *procs;
	size_t n, cap;
	struct ich_error *err;
};

/* Read the EPROCESS fields the tools need; one read of the span. */
static struct ich_error *read_process(struct ich_kernel *k, uint64_t ep,
				      struct ich_kprocess *p)
{
	const struct kofs *o = &k->o;
	memset(p, 0, sizeof(*p));
	p->eprocess = ep;
	uint64_t v;
	struct ich_error *err = ich_as_read_ptr(k->as, ep + (uint64_t)o->ep_pid, &v);
	if (err)
		return err;
	p->pid = (uint32_t)v;
	if (o->ep_ppid >= 0 && ich_error_ok(ich_as_read_ptr(k->as, ep + (uint64_t)o->ep_ppid, &v)))
		p->ppid = (uint32_t)v;
	uint8_t name[15];
	if (o->ep_image >= 0 && ich_as_read(k->as, ep + (uint64_t)o->ep_image, name, 15, NULL) == 15) {
		size_t i;
		for (i = 0; i < 15 && name[i]; i++)
			p->image[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? (char)name[i] : '?';
		p->image[i] = '\0';
	}
	/* DirectoryTableBase is a ULONG_PTR; on PAE it is a 32-bit physical
	 * address of the PDPT. */
	if (o->ep_dtb >= 0)
		(void)ich_error_destroy(ich_as_read_ptr(k->as, ep + (uint64_t)o->ep_dtb, &p->dtb));
	if (o->ep_object_table >= 0)
		(void)ich_error_destroy(ich_as_read_ptr(k->as, ep + (uint64_t)o->ep_object_table, &p->object_table));
	if (o->ep_peb >= 0)
		(void)ich_error_destroy(ich_as_read_ptr(k->as, ep + (uint64_t)o->ep_peb, &p->peb));
	/* WOW64: WoW64Process points at a structure whose first member is
	 * the 32-bit PEB (layout_table.c, EPROCESS.WoW64Process). */
	uint64_t wow = 0;
	if (o->ep_wow64 >= 0)
		(void)ich_error_destroy(ich_as_read_ptr(k->as, ep + (uint64_t)o->ep_wow64, &wow));
	if (wow) {
		uint32_t peb32 = 0;
		p->wow64_process = wow;
		(void)ich_error_destroy(ich_as_read_u32(k->as, wow, &peb32));
		p->peb32 = peb32;
	}
	return NULL;
}

static struct ich_error *collect(uint64_t entry, void *arg)
{
	struct walk *w = arg;
	if (!ICH_ARRAY_RESERVE(w->procs, w->n, w->cap, 64))
		return &ich_enomem;
	uint64_t ep = entry - (uint64_t)w->k->o.ep_links;
	struct ich_error *err = read_process(w->k, ep, &w->procs[w->n]);
	if (err)
		return ich_error_wrap(err, "EPROCESS 0x%" PRIx64 ": ", ep);
	w->n++;
	return NULL;
}

/* Does the current offset set describe the first process as System? */
static bool looks_like_system(struct ich_kernel *k, uint64_t first_entry)
{
	struct ich_kprocess p;
	if (k->o.ep_links < 0 || k->o.ep_pid < 0)
		return false;
	struct ich_error *err = read_process(k, first_entry - (uint64_t)k->o.ep_links, &p);
	if (err) {
		ich_error_destroy(err);
		return false;
	}
	/* An ImageFileName that is not captured (triage dumps) cannot refute
	 * the row; pid 4 alone then decides, and the list walk confirms. */
	return p.pid == 4 && (!strcmp(p.image, "System") || !p.image[0]);
}

/* Layout-free discovery (layouts.md §8 🔶): try ActiveProcessLinks offsets
 * for which the pointer before it reads 4, then find "System" nearby. */
static bool discover(struct ich_kernel *k, uint64_t first_entry)
{
	uint8_t buf[0x800];
	for (int32_t links = (int32_t)k->ptr * 4; links < 0x800; links += (int32_t)k->ptr) {
		uint64_t ep = first_entry - (uint64_t)links, v;
		struct ich_error *err = ich_as_read_ptr(k->as, ep + (uint64_t)links - k->ptr, &v);
		if (err) {
			ich_error_destroy(err);
			continue;
		}
		if (v != 4)
			continue;
		size_t n = ich_as_read(k->as, ep, buf, sizeof(buf), NULL);
		for (size_t i = (size_t)links; i + 7 <= n; i++) {
			if (!memcmp(buf + i, "System\0", 7)) {
				k->o.ep_links = links;
				k->o.ep_pid = links - (int32_t)k->ptr;
				k->o.ep_image = (int32_t)i;
				kernel_note(k, "EPROCESS layout discovered without the type table: UniqueProcessId 0x%x, ActiveProcessLinks 0x%x, ImageFileName 0x%zx (other fields unknown)",
					    k->o.ep_pid, links, i);
				k->o.ep_ppid = k->o.ep_peb = k->o.ep_object_table = k->o.ep_wow64 = -1;
				return true;
			}
		}
	}
	return false;
}

struct ich_error *kernel_load_processes(struct ich_kernel *k)
{
	uint64_t head = k->ps_active_process_head, first;
	if (!head)
		return ich_error_create(ICH_ERR_FAULT, "no PsActiveProcessHead in the dump header or KDBG");
	struct ich_error *err = ich_as_read_ptr(k->as, head, &first);
	if (err)
		return ich_error_wrap(err, "cannot list processes: PsActiveProcessHead 0x%" PRIx64 ": ", head);
	if (first == head)
		return ich_error_create(ICH_ERR_FORMAT, "PsActiveProcessHead 0x%" PRIx64 " is an empty list", head);
	/* A list entry that is not in the dump cannot tell layouts apart: say
	 * what is missing instead of blaming the layout (triage dumps hold
	 * only a few pages of kernel memory). */
	uint64_t probe;
	err = ich_as_read_ptr(k->as, first, &probe);
	if (err)
		return ich_error_wrap(err, "cannot list processes: the first process's ActiveProcessLinks at 0x%" PRIx64 " (from PsActiveProcessHead 0x%" PRIx64 "): ",
				      first, head);
	if (k->o.ep_links >= 0 && k->o.ep_pid >= 0) {
		uint64_t pid;
		err = ich_as_read_ptr(k->as, first - (uint64_t)k->o.ep_links + (uint64_t)k->o.ep_pid, &pid);
		if (err)
			return ich_error_wrap(err, "cannot list processes: the first process's UniqueProcessId (EPROCESS 0x%" PRIx64 " + 0x%x, %s row): ",
					      first - (uint64_t)k->o.ep_links, k->o.ep_pid, k->row->label);
	}
	if (!looks_like_system(k, first)) {
		const struct ich_layout *cand[32];
		size_t nc = ich_layout_candidates("ntoskrnl", ich_dump_arch(k->dump), k->build, cand, 32);
		bool found = false;
		for (size_t i = 0; i < nc && !found; i++) {
			if (cand[i] == k->row)
				continue;
			struct kofs saved = k->o;
			const struct ich_layout *saved_row = k->row;
			k->row = cand[i];
			/* reload offsets only for the EPROCESS fields */
			struct kofs probe;
			memset(&probe, 0, sizeof(probe));
			probe.ep_pid = ich_layout_off(cand[i], ICH_F_EPROCESS_UNIQUE_PROCESS_ID);
			probe.ep_links = ich_layout_off(cand[i], ICH_F_EPROCESS_ACTIVE_PROCESS_LINKS);
			probe.ep_ppid = ich_layout_off(cand[i], ICH_F_EPROCESS_INHERITED_FROM_UNIQUE_PROCESS_ID);
			probe.ep_peb = ich_layout_off(cand[i], ICH_F_EPROCESS_PEB);
			probe.ep_object_table = ich_layout_off(cand[i], ICH_F_EPROCESS_OBJECT_TABLE);
			probe.ep_image = ich_layout_off(cand[i], ICH_F_EPROCESS_IMAGE_FILE_NAME);
			probe.ep_dtb = ich_layout_off(cand[i], ICH_F_EPROCESS_DIRECTORY_TABLE_BASE);
			k->o.ep_pid = probe.ep_pid;
			k->o.ep_links = probe.ep_links;
			k->o.ep_ppid = probe.ep_ppid;
			k->o.ep_peb = probe.ep_peb;
			k->o.ep_object_table = probe.ep_object_table;
			k->o.ep_image = probe.ep_image;
			k->o.ep_dtb = probe.ep_dtb;
			k->o.ep_wow64 = ich_layout_off(cand[i], ICH_F_EPROCESS_WOW64_PROCESS);
			if (looks_like_system(k, first)) {
				kernel_note(k, "EPROCESS: the row for build %u did not fit (first process is not System/4); row \"%s\" does and is used",
					    k->build, cand[i]->label);
				k->row = saved_row;	/* other structures keep the build's row */
				found = true;
			} else {
				k->o = saved;
				k->row = saved_row;
			}
		}
		if (!found && !discover(k, first))
			return ich_error_create(ICH_ERR_LAYOUT,
				"no EPROCESS layout fits: the first process at list entry 0x%" PRIx64 " is not System (pid 4) under any known row",
				first);
	}
	struct walk w = { .k = k };
	size_t count = 0;
	err = ich_as_list_walk(k->as, head, MAX_PROCESSES, true, collect, &w, &count);
	if (err == &ich_enomem) {
		free(w.procs);
		return err;
	}
	if (err) {
		k->procs_partial = true;
		kernel_warn(k, "process list incomplete after %zu processes: %s", w.n, err->message);
		ich_error_destroy(err);
	}
	k->procs = w.procs;
	k->nprocs = w.n;
	size_t odd = 0;
	for (size_t i = 0; i < w.n; i++)
		if (w.procs[i].pid % 4)
			odd++;
	if (odd)
		kernel_warn(k, "%zu processes have a pid that is not a multiple of 4: the EPROCESS layout may be wrong", odd);
	return NULL;
}
