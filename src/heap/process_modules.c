/* SPDX-License-Identifier: MIT */
/*
 * The process's module list, one view for both kinds of dump: a
 * minidump's MINIDUMP_MODULE_LIST, or, for a process inside a complete or
 * kernel+user kernel dump, the loader's own list (PEB.Ldr ->
 * PEB_LDR_DATA.InLoadOrderModuleList -> LDR_DATA_TABLE_ENTRY {DllBase,
 * SizeOfImage, FullDllName, BaseDllName}; offsets in the layout table,
 * src/types/layout_table.c, with their sources).  A WOW64 process's list
 * is the one of its 32-bit PEB (its own LDR_DATA_TABLE_ENTRY32 entries:
 * SysWOW64\ntdll.dll and the other 32-bit images).  The walkers that need
 * ntdll's data (the segment heap's HeapKey/LfhKey in RtlpHpHeapGlobals,
 * the full RtlpLFHKey, the page heap's failure record) ask heap_ntdll and
 * never see where the list came from.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/minidump.h>

#include "heap/heap_internal.h"

#define MAX_LDR_MODULES 4096	/* processes load hundreds of images, not thousands */

static bool add_module(struct ich_heaps *h, const char *name, uint64_t base, uint64_t size, bool wow)
{
	struct ich_heap_module *m = realloc(h->mods, (h->nmods + 1) * sizeof(*m));
	if (!m)
		return false;
	h->mods = m;
	char *n = strdup(name ? name : "");
	if (!n)
		return false;
	m[h->nmods++] = (struct ich_heap_module){ .name = n, .base = base, .size = size, .wow64 = wow };
	return true;
}

void heap_modules_from_minidump(struct ich_heaps *h)
{
	const struct ich_minidump *md = ich_dump_minidump(h->dump);
	if (!md)
		return;
	for (size_t i = 0; i < md->nmodules; i++) {
		const char *n = md->modules[i].name;
		/* a minidump of a WOW64 process lists both bitnesses; the
		 * 32-bit system images live in SysWOW64 */
		bool wow = n && strcasestr(n, "syswow64") != NULL;
		if (!add_module(h, n, md->modules[i].base, md->modules[i].size, wow))
			return;
	}
	h->mods_origin = "the minidump's module list";
}

struct ldr_walk {
	struct ich_heaps *h;
	const struct ich_layout *row;
	int32_t base, size, full, name;
	bool wow;
	size_t unnamed;
};

static struct ich_error *ldr_entry(uint64_t entry, void *arg)
{
	/* InLoadOrderLinks is the first member of LDR_DATA_TABLE_ENTRY, so
	 * the list entry is the entry's address. */
	struct ldr_walk *w = arg;
	struct ich_heaps *h = w->h;
	uint64_t base = 0;
	uint32_t size = 0;
	struct ich_error *err = ich_as_read_ptr(h->as, entry + (uint64_t)w->base, &base);
	if (!err)
		err = ich_as_read_u32(h->as, entry + (uint64_t)w->size, &size);
	if (err)
		return ich_error_wrap(err, "LDR_DATA_TABLE_ENTRY 0x%" PRIx64 ": ", entry);
	char *name = NULL;
	if (w->full >= 0) {
		struct ich_error *e = ich_as_read_unicode_string(h->as, entry + (uint64_t)w->full, &name);
		if (e == &ich_enomem)
			return e;
		if (e) {
			ich_error_destroy(e);
			name = NULL;
		}
	}
	if ((!name || !name[0]) && w->name >= 0) {
		/* FullDllName unreadable: BaseDllName is enough to match ntdll */
		free(name);
		name = NULL;
		struct ich_error *e = ich_as_read_unicode_string(h->as, entry + (uint64_t)w->name, &name);
		if (e == &ich_enomem)
			return e;
		if (e) {
			ich_error_destroy(e);
			name = NULL;
		}
	}
	if (name && !name[0]) {
		free(name);
		name = NULL;
	}
	if (!name)
		w->unnamed++;
	bool ok = add_module(h, name, base, size, w->wow);
	free(name);
	return ok ? NULL : &ich_enomem;
}

void heap_modules_from_ldr(struct ich_heaps *h)
{
	const struct ich_layout *row = h->row;
	int32_t o_ldr = ich_layout_off(row, ICH_F_PEB_LDR);
	int32_t o_list = ich_layout_off(row, ICH_F_PEB_LDR_DATA_IN_LOAD_ORDER_MODULE_LIST);
	struct ldr_walk w = {
		.h = h, .row = row, .wow = h->as32 != NULL,
		.base = ich_layout_off(row, ICH_F_LDR_DATA_TABLE_ENTRY_DLL_BASE),
		.size = ich_layout_off(row, ICH_F_LDR_DATA_TABLE_ENTRY_SIZE_OF_IMAGE),
		.full = ich_layout_off(row, ICH_F_LDR_DATA_TABLE_ENTRY_FULL_DLL_NAME),
		.name = ich_layout_off(row, ICH_F_LDR_DATA_TABLE_ENTRY_BASE_DLL_NAME),
	};
	if (o_ldr < 0 || o_list < 0 || w.base < 0 || w.size < 0 || (w.full < 0 && w.name < 0)) {
		heaps_note(h, "layout row \"%s\" has no PEB.Ldr / LDR_DATA_TABLE_ENTRY fields: the module list (ntdll's data) is not read",
			   row->label);
		return;
	}
	uint64_t ldr = 0;
	struct ich_error *err = ich_as_read_ptr(h->as, h->peb + (uint64_t)o_ldr, &ldr);
	if (err || !ldr) {
		heaps_note(h, "PEB.Ldr at 0x%" PRIx64 " %s: no module list, so ntdll's data cannot be found",
			   h->peb + (uint64_t)o_ldr, err ? err->message : "is NULL");
		ich_error_destroy(err);
		return;
	}
	uint64_t head = ldr + (uint64_t)o_list;
	size_t n = 0;
	/* Bounded and cycle-safe (ich_as_list_walk: Brent on the Flinks, each
	 * Blink checked against the entry before it). */
	err = ich_as_list_walk(h->as, head, MAX_LDR_MODULES, true, ldr_entry, &w, &n);
	if (err == &ich_enomem)
		return;
	if (err) {
		heaps_note(h, "%sPEB.Ldr module list 0x%" PRIx64 ": %s; %zu module%s read before that",
			   w.wow ? "32-bit " : "", head, err->message, h->nmods, h->nmods == 1 ? "" : "s");
		ich_error_destroy(err);
	} else {
		heaps_note(h, "module list: %sPEB.Ldr 0x%" PRIx64 " InLoadOrderModuleList, %zu module%s",
			   w.wow ? "32-bit " : "", ldr, n, n == 1 ? "" : "s");
	}
	if (w.unnamed)
		heaps_note(h, "%zu loader entr%s whose FullDllName and BaseDllName cannot be read",
			   w.unnamed, w.unnamed == 1 ? "y has no name:" : "ies have no name:");
	h->mods_origin = w.wow ? "the 32-bit PEB's loader list (PEB32.Ldr)" : "the PEB's loader list (PEB.Ldr)";
}

bool heap_ntdll(const struct ich_heaps *h, uint64_t *base, uint64_t *size)
{
	bool want_wow = h->as32 != NULL;
	for (size_t i = 0; i < h->nmods; i++) {
		const char *n = h->mods[i].name;
		size_t l = strlen(n);
		if (l < 9 || strcasecmp(n + l - 9, "ntdll.dll") || (l > 9 && n[l - 10] != '\\' && n[l - 10] != '/'))
			continue;
		if (h->mods[i].wow64 != want_wow)
			continue;
		*base = h->mods[i].base;
		*size = h->mods[i].size;
		return true;
	}
	return false;
}

void heap_modules_free(struct ich_heaps *h)
{
	for (size_t i = 0; i < h->nmods; i++)
		free(h->mods[i].name);
	free(h->mods);
	h->mods = NULL;
	h->nmods = 0;
}

size_t ich_heaps_module_count(const struct ich_heaps *h)
{
	return h->nmods;
}

const struct ich_heap_module *ich_heaps_module(const struct ich_heaps *h, size_t i)
{
	return i < h->nmods ? &h->mods[i] : NULL;
}

const char *ich_heaps_modules_origin(const struct ich_heaps *h)
{
	return h->mods_origin ? h->mods_origin : "none";
}
