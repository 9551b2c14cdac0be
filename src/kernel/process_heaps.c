/* SPDX-License-Identifier: MIT */
/*
 * The heaps of one process of a complete or kernel+user kernel dump: the
 * process's own address space from its DirectoryTableBase, the PEB from
 * EPROCESS.Peb (or the 32-bit PEB behind EPROCESS.WoW64Process), then the
 * heap walkers, unchanged, on top of that space (heap_find.c,
 * ich_heaps_open_process).  Kernel-only dumps hold no user pages; that is
 * said once (ich_kernel_user_pages) instead of failing per process.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/heap.h>
#include <icpheap/kdump.h>

#include "core/size.h"
#include "kernel/kernel_internal.h"

struct ich_dump *ich_kernel_dump(const struct ich_kernel *k)
{
	return k->dump;
}

bool ich_kernel_user_pages(const struct ich_kernel *k, const char **why)
{
	const struct ich_kdump *kd = ich_dump_kdump(k->dump);
	const char *w = NULL;
	if (!kd)
		w = "not a kernel dump";
	else switch (kd->dump_type) {
	case ICH_KDUMP_SUMMARY:
	case ICH_KDUMP_HEADER:
	case ICH_KDUMP_TRIAGE:
	case ICH_KDUMP_RDMP_KERNEL:
	case ICH_KDUMP_BITMAP_LIVE:
		w = "a kernel memory dump holds kernel pages only";
		break;
	case ICH_KDUMP_BITMAP_FULL:
		/* 'SDMP' = kernel memory, 'FDMP' = full (layouts.md §7, S3) */
		if (strcmp(kd->bitmap_signature, "FDMP"))
			w = "a kernel bitmap dump ('SDMP') holds kernel pages only";
		break;
	default:
		break;
	}
	if (why)
		*why = w;
	return w == NULL;
}

/* The one parser of a process or thread id, for every command: decimal as
 * ps --json writes it ("5100"), 0x-hex ("0x13ec"), or WinDbg's bare hex
 * Cid when it has hex letters ("13ec", as !process and ~ print it; with
 * WinDbg's ` separator too).  Nothing else: no sign, no spaces. */
bool ich_kernel_parse_pid(const char *s, uint32_t *pid)
{
	if (!s || !*s)
		return false;
	bool letters = false;
	for (const char *p = s; *p; p++)
		letters |= (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F');
	uint64_t v;
	if (!ich_parse_number(s, letters, &v) || v > UINT32_MAX)
		return false;
	*pid = (uint32_t)v;
	return true;
}

const struct ich_kprocess *ich_kernel_find_pid(const struct ich_kernel *k, uint32_t pid)
{
	for (size_t i = 0; i < k->nprocs; i++)
		if (k->procs[i].pid == pid)
			return &k->procs[i];
	return NULL;
}

size_t ich_kernel_find_image(const struct ich_kernel *k, const char *name,
			     const struct ich_kprocess **out, size_t max)
{
	/* ImageFileName keeps 15 characters: compare with the name cut the
	 * same way, case-insensitively as Windows file names. */
	char cut[16];
	snprintf(cut, sizeof(cut), "%.15s", name);
	size_t n = 0;
	for (size_t i = 0; i < k->nprocs; i++)
		if (!strcasecmp(k->procs[i].image, cut)) {
			if (n < max)
				out[n] = &k->procs[i];
			n++;
		}
	return n;
}

struct ich_error *ich_kernel_process_heaps(struct ich_kernel *k, const struct ich_kprocess *p,
					   uint32_t build, struct ich_heaps **ret)
{
	const char *path = ich_dump_path(k->dump);
	const char *why;
	if (!ich_kernel_user_pages(k, &why))
		return ich_error_create(ICH_ERR_UNSUPPORTED, "%s: no user-mode pages in this dump (%s): process heaps need a complete or kernel+user memory dump",
					path, why);
	if (!p->dtb)
		return ich_error_create(ICH_ERR_FAULT, "%s: process %u (%s, EPROCESS 0x%" PRIx64 "): DirectoryTableBase unknown",
					path, p->pid, p->image, p->eprocess);
	bool wow = p->wow64_process != 0;
	uint64_t peb = wow ? p->peb32 : p->peb;
	if (!peb)
		return ich_error_create(ICH_ERR_FAULT, "%s: process %u (%s, EPROCESS 0x%" PRIx64 ") has no %sPEB: a kernel-mode process has no user heaps",
					path, p->pid, p->image, p->eprocess,
					wow ? "32-bit " : "");
	/* CR3 keeps the PCID in bits 0-11 on x64 (Intel SDM vol. 3 §4.10.1);
	 * a PAE PDPT base is 32-byte aligned. */
	enum ich_arch arch = ich_dump_arch(k->dump);
	const struct ich_kdump *kd = ich_dump_kdump(k->dump);
	uint64_t base = p->dtb & ((arch == ICH_ARCH_X86 && kd && kd->pae_enabled) ? ~(uint64_t)0x1F : ~(uint64_t)0xFFF);
	struct ich_heap_process hp = { .own_as = true, .peb = peb, .wow64 = wow, .arch = arch,
				       .build = build ? build : k->build };
	struct ich_error *err = ich_dump_process_as(k->dump, base, &hp.as);
	if (err)
		return ich_error_wrap(err, "process %u (%s): ", p->pid, p->image);
	if (wow)
		snprintf(hp.origin, sizeof(hp.origin), "EWOW64PROCESS 0x%" PRIx64 " of EPROCESS 0x%" PRIx64 " (pid %u)",
			 p->wow64_process, p->eprocess, p->pid);
	else
		snprintf(hp.origin, sizeof(hp.origin), "EPROCESS 0x%" PRIx64 ".Peb (pid %u, DTB 0x%" PRIx64 ")",
			 p->eprocess, p->pid, base);
	/* 24H2 lists only the first heap in PEB.ProcessHeaps: the others are
	 * looked for in the user pages this dump holds for the process */
	struct ich_user_range *ranges = NULL;
	size_t nranges = 0;
	bool cut = false;
	if (hp.build >= 26100) {
		struct ich_error *e = ich_kernel_user_ranges(k, p, &ranges, &nranges, &cut);
		ich_error_destroy(e);
		hp.ranges = ranges;
		hp.nranges = nranges;
	}
	err = ich_heaps_open_process(k->dump, &hp, ret);
	free(ranges);
	(void)cut;	/* past the bounds only the first ranges are scanned */
	if (err)
		return ich_error_wrap(err, "process %u (%s): ", p->pid, p->image);
	return NULL;
}
