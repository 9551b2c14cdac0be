/* SPDX-License-Identifier: MIT */
/*
 * The kernel model: opening it picks the ntoskrnl layout row for the dump's
 * build, reads KDDEBUGGER_DATA64, and loads the process list and the object
 * types (each confirmed at run time; see process.c and types.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/kdump.h>

#include "kernel/kernel_internal.h"

/* KDDEBUGGER_DATA64 (layouts.md §7, S4 kdbg.json): 64-bit fields on both
 * arches; each holds the address of a kernel variable. */
#define KDBG_OWNER_TAG 0x10
#define KDBG_TAG 0x4742444Bu	/* 'KDBG' */
#define KDBG_PS_ACTIVE_PROCESS_HEAD 0x50
#define KDBG_OBP_TYPE_OBJECT_TYPE 0xA0

static void add_msg(char ***list, size_t *n, const char *fmt, va_list ap)
{
	if (*n >= 500)
		return;	/* a hostile dump must not make us collect millions */
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		return;
	char **l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l) {
		free(m);
		return;
	}
	*list = l;
	l[(*n)++] = m;
}

void kernel_note(struct ich_kernel *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_msg(&k->notes, &k->nnotes, fmt, ap);
	va_end(ap);
}

void kernel_warn(struct ich_kernel *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_msg(&k->warnings, &k->nwarnings, fmt, ap);
	va_end(ap);
}

/* Copy the row's offsets into the walker's struct; the only place that
 * knows the type table's field names. */
static void load_offsets(struct ich_kernel *k, const struct ich_layout *row)
{
	struct kofs *o = &k->o;
#define F(dst, field) (o->dst = ich_layout_off(row, field))
	F(ep_pid, ICH_F_EPROCESS_UNIQUE_PROCESS_ID);
	F(ep_links, ICH_F_EPROCESS_ACTIVE_PROCESS_LINKS);
	F(ep_ppid, ICH_F_EPROCESS_INHERITED_FROM_UNIQUE_PROCESS_ID);
	F(ep_peb, ICH_F_EPROCESS_PEB);
	F(ep_object_table, ICH_F_EPROCESS_OBJECT_TABLE);
	F(ep_image, ICH_F_EPROCESS_IMAGE_FILE_NAME);
	F(ep_dtb, ICH_F_EPROCESS_DIRECTORY_TABLE_BASE);
	F(ep_wow64, ICH_F_EPROCESS_WOW64_PROCESS);
	F(ht_table_code, ICH_F_HANDLE_TABLE_TABLE_CODE);
	F(oh_pointer_count, ICH_F_OBJECT_HEADER_POINTER_COUNT);
	F(oh_handle_count, ICH_F_OBJECT_HEADER_HANDLE_COUNT);
	F(oh_type_index, ICH_F_OBJECT_HEADER_TYPE_INDEX);
	F(oh_info_mask, ICH_F_OBJECT_HEADER_INFO_MASK);
	F(oh_body, ICH_F_OBJECT_HEADER_BODY);
	F(ot_type_list, ICH_F_OBJECT_TYPE_TYPE_LIST);
	F(ot_name, ICH_F_OBJECT_TYPE_NAME);
	F(ot_index, ICH_F_OBJECT_TYPE_INDEX);
	F(ot_total_objects, ICH_F_OBJECT_TYPE_TOTAL_NUMBER_OF_OBJECTS);
	F(ot_total_handles, ICH_F_OBJECT_TYPE_TOTAL_NUMBER_OF_HANDLES);
	F(ot_high_objects, ICH_F_OBJECT_TYPE_HIGH_WATER_NUMBER_OF_OBJECTS);
	F(ot_high_handles, ICH_F_OBJECT_TYPE_HIGH_WATER_NUMBER_OF_HANDLES);
	F(kq_signal_state, ICH_F_KQUEUE_SIGNAL_STATE);
	F(kq_entry_list, ICH_F_KQUEUE_ENTRY_LIST_HEAD);
	F(kq_current, ICH_F_KQUEUE_CURRENT_COUNT);
	F(kq_maximum, ICH_F_KQUEUE_MAXIMUM_COUNT);
	F(kq_thread_list, ICH_F_KQUEUE_THREAD_LIST_HEAD);
#undef F
	/* Optional object headers, nearest the header first by InfoMask bit
	 * (layouts.md §8): creator 0x20/0x10, name 0x20/0x10, handle
	 * 0x10/0x8, quota 0x20/0x10, process 0x10/0x8, audit/extended
	 * 0x10/0x8, padding 4/4. */
	static const int32_t x64[8] = { 0x20, 0x20, 0x10, 0x20, 0x10, 0x10, 4, 0 };
	static const int32_t x86[8] = { 0x10, 0x10, 0x08, 0x10, 0x08, 0x08, 4, 0 };
	memcpy(o->opt_size, k->ptr == 8 ? x64 : x86, sizeof(o->opt_size));
	o->ci_size = o->opt_size[0];
	o->ni_size = o->opt_size[1];
	/* TypeIndex is XORed with ObHeaderCookie and the header address byte
	 * from Windows 10 on (layouts.md §8, S2). */
	o->cookie_encoded = k->build >= 10240;
	/* Handle-entry format by build (layouts.md §8, S1/S2/S6/S11). */
	if (k->ptr == 4)
		o->handle_format = KH_X86;
	else if (k->build >= 9600)
		o->handle_format = KH_X64_WIN81;
	else if (k->build >= 9200)
		o->handle_format = KH_X64_WIN8;
	else
		o->handle_format = KH_X64_WIN7;
}

/* Read KDDEBUGGER_DATA64; on failure fall back to the dump header. */
static void read_kdbg(struct ich_kernel *k, const struct ich_kdump *kd)
{
	k->ps_active_process_head = kd->ps_active_process_head;
	uint64_t kdbg = kd->kd_debugger_data_block;
	uint32_t tag = 0;
	struct ich_error *err = kdbg ? ich_as_read_u32(k->as, kdbg + KDBG_OWNER_TAG, &tag) : NULL;
	if (!kdbg) {
		kernel_warn(k, "the dump header has no KdDebuggerDataBlock; using the header's PsActiveProcessHead");
		return;
	}
	if (err) {
		kernel_warn(k, "KdDebuggerDataBlock at 0x%" PRIx64 " is unreadable (%s); using the header's PsActiveProcessHead",
			    kdbg, err->message);
		ich_error_destroy(err);
		return;
	}
	if (tag != KDBG_TAG) {
		/* Encoded KDBG (x64 Win8+): decoding needs KiWaitNever,
		 * KiWaitAlways and KdpDataBlockEncoded, which are symbols. */
		kernel_warn(k, "KdDebuggerDataBlock at 0x%" PRIx64 " is encoded (OwnerTag 0x%08x, not 'KDBG') and cannot be decoded without symbols; using the header's PsActiveProcessHead and PsLoadedModuleList",
			    kdbg, tag);
		return;
	}
	k->kdbg = kdbg;
	uint64_t v;
	/* KDDEBUGGER_DATA64 keeps 64-bit fields on x86 too; a 32-bit kernel
	 * may store them sign-extended (0xffffffff8xxxxxxx), so only the low
	 * 32 bits are an address there. */
	uint64_t mask = k->ptr == 4 ? 0xFFFFFFFFull : UINT64_MAX;
	if (!(err = ich_as_read_u64(k->as, kdbg + KDBG_PS_ACTIVE_PROCESS_HEAD, &v)) && (v &= mask)) {
		if (v != k->ps_active_process_head && k->ps_active_process_head)
			kernel_warn(k, "KDBG PsActiveProcessHead 0x%" PRIx64 " differs from the header's 0x%" PRIx64 "; using KDBG",
				    v, k->ps_active_process_head);
		k->ps_active_process_head = v;
	}
	ich_error_destroy(err);
	uint64_t var = 0;
	err = ich_as_read_u64(k->as, kdbg + KDBG_OBP_TYPE_OBJECT_TYPE, &var);
	var &= mask;
	if (!err && var)
		err = ich_as_read_ptr(k->as, var, &k->obp_type_object_type);
	if (err) {
		kernel_warn(k, "ObpTypeObjectType (from KDBG 0x%" PRIx64 ") is unreadable: %s",
			    kdbg, err->message);
		ich_error_destroy(err);
	}
	kernel_note(k, "KDBG at 0x%" PRIx64 ": PsActiveProcessHead 0x%" PRIx64 ", ObpTypeObjectType -> 0x%" PRIx64,
		    kdbg, k->ps_active_process_head, k->obp_type_object_type);
}

struct ich_error *ich_kernel_open(struct ich_dump *dump, uint32_t build,
				  struct ich_kernel **ret)
{
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	if (!kd)
		return ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: a user-mode %s holds no kernel objects: processes, handle tables and I/O completion queues need a kernel dump",
			ich_dump_path(dump), ich_dump_kind_name(dump));
	struct ich_as *as = ich_dump_as(dump);
	if (!as)
		return ich_error_create(ICH_ERR_FAULT,
			"%s: the %s holds no addressable kernel memory",
			ich_dump_path(dump), ich_dump_kind_name(dump));
	struct ich_kernel *k = calloc(1, sizeof(*k));
	if (!k)
		return &ich_enomem;
	k->dump = dump;
	k->as = as;
	k->ptr = ich_as_ptr_size(as);
	k->build = build ? build : ich_dump_build(dump);
	k->row = ich_layout_find("ntoskrnl", ich_dump_arch(dump), k->build);
	if (!k->row) {
		struct ich_error *err = ich_error_create(ICH_ERR_LAYOUT,
			"%s: no ntoskrnl layout for %s build %u (see `icpheap types`; add one with --layout)",
			ich_dump_path(dump), ich_arch_name(ich_dump_arch(dump)), k->build);
		ich_kernel_close(k);
		return err;
	}
	load_offsets(k, k->row);
	kernel_note(k, "ntoskrnl layout: %s %s (row %u)%s", ich_arch_name(k->row->arch), k->row->label,
		    k->row->build_min,
		    k->row->derived && k->row->arch == ICH_ARCH_ARM64
			    ? (strstr(k->row->source, "ARM64 EPROCESS:")
				       ? ", ARM64: EPROCESS from a PDB-derived ARM64 header, the other structures derived from the x64 row; confirmed by the run-time checks"
				       : ", derived: the x64 row's offsets (no ARM64 ntoskrnl source); confirmed by the run-time checks")
			    : "");
	read_kdbg(k, kd);
	struct ich_error *err = kernel_load_processes(k);
	if (err) {
		ich_kernel_close(k);
		return ich_error_wrap(err, "%s: ", ich_dump_path(dump));
	}
	err = kernel_load_types(k);
	if (err) {
		/* Types are needed for icpleak but not for ps: keep going. */
		kernel_warn(k, "object types unavailable: %s", err->message);
		ich_error_destroy(err);
	}
	*ret = k;
	return NULL;
}

void ich_kernel_close(struct ich_kernel *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nnotes; i++)
		free(k->notes[i]);
	for (size_t i = 0; i < k->nwarnings; i++)
		free(k->warnings[i]);
	free(k->notes);
	free(k->warnings);
	free(k->procs);
	free(k->types);
	free(k);
}

size_t ich_kernel_note_count(const struct ich_kernel *k) { return k->nnotes; }
const char *ich_kernel_note(const struct ich_kernel *k, size_t i) { return i < k->nnotes ? k->notes[i] : NULL; }
size_t ich_kernel_warning_count(const struct ich_kernel *k) { return k->nwarnings; }
const char *ich_kernel_warning(const struct ich_kernel *k, size_t i) { return i < k->nwarnings ? k->warnings[i] : NULL; }
size_t ich_kernel_process_count(const struct ich_kernel *k) { return k->nprocs; }
const struct ich_kprocess *ich_kernel_process(const struct ich_kernel *k, size_t i) { return i < k->nprocs ? &k->procs[i] : NULL; }
bool ich_kernel_processes_partial(const struct ich_kernel *k) { return k->procs_partial; }
size_t ich_kernel_type_count(const struct ich_kernel *k) { return k->ntypes; }
const struct ich_ktype *ich_kernel_type(const struct ich_kernel *k, size_t i) { return i < k->ntypes ? &k->types[i] : NULL; }
uint8_t ich_kernel_header_cookie(const struct ich_kernel *k) { return k->cookie; }

/* Type names match case-insensitively, as WinDbg's do (!handle 0 f
 * iocompletion). */
const struct ich_ktype *ich_kernel_find_type(const struct ich_kernel *k, const char *name)
{
	for (size_t i = 0; i < k->ntypes; i++)
		if (!strcasecmp(k->types[i].name, name))
			return &k->types[i];
	return NULL;
}

const struct ich_ktype *ich_kernel_type_by_index(const struct ich_kernel *k, uint32_t index)
{
	for (size_t i = 0; i < k->ntypes; i++)
		if (k->types[i].index == index)
			return &k->types[i];
	return NULL;
}
