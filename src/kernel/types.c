/* SPDX-License-Identifier: MIT */
/*
 * Object types without symbols (layouts.md §8, Algorithm D):
 * T = *ObpTypeObjectType (from KDBG) is the "Type" type; the Type type
 * always keeps its type list (ReactOS obinit.c: MaintainTypeList = TRUE),
 * whose nodes are the CREATOR_INFO.TypeList of every type object, so
 * body = node + sizeof(CREATOR_INFO) + Body.  On Windows 10+ the header
 * cookie is recovered from T's own header: cookie = raw ^ (hdr >> 8) ^ index.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel_internal.h"

#define MAX_TYPES 256	/* TypeIndex is a byte */

struct type_walk {
	struct ich_kernel *k;
	struct ich_ktype *types;
	size_t n;
};

static struct ich_error *read_type(struct ich_kernel *k, uint64_t body, struct ich_ktype *t)
{
	const struct kofs *o = &k->o;
	memset(t, 0, sizeof(*t));
	t->address = body;
	uint8_t idx;
	struct ich_error *err = ich_as_read_u8(k->as, body + (uint64_t)o->ot_index, &idx);
	if (err)
		return err;
	t->index = idx;
	char *name = NULL;
	err = ich_as_read_unicode_string(k->as, body + (uint64_t)o->ot_name, &name);
	if (err)
		return err;
	snprintf(t->name, sizeof(t->name), "%s", name);
	free(name);
	/* Statistics are optional: a field not captured stays 0; any other
	 * error is passed up. */
	uint32_t v;
	if (!(err = ich_as_read_u32(k->as, body + (uint64_t)o->ot_total_objects, &v)))
		t->objects = v;
	else if (!ich_error_catch(&err, ICH_ERR_FAULT))
		return err;
	if (!(err = ich_as_read_u32(k->as, body + (uint64_t)o->ot_total_handles, &v)))
		t->handles = v;
	else if (!ich_error_catch(&err, ICH_ERR_FAULT))
		return err;
	if (o->ot_high_objects >= 0) {
		if (!(err = ich_as_read_u32(k->as, body + (uint64_t)o->ot_high_objects, &v)))
			t->high_objects = v;
		else if (!ich_error_catch(&err, ICH_ERR_FAULT))
			return err;
	}
	if (o->ot_high_handles >= 0) {
		if (!(err = ich_as_read_u32(k->as, body + (uint64_t)o->ot_high_handles, &v)))
			t->high_handles = v;
		else if (!ich_error_catch(&err, ICH_ERR_FAULT))
			return err;
	}
	t->type_list = body + (uint64_t)o->ot_type_list;
	uint64_t flink = 0;
	if (!(err = ich_as_read_ptr(k->as, t->type_list, &flink)))
		t->list_maintained = flink != t->type_list && flink != 0;
	else if (!ich_error_catch(&err, ICH_ERR_FAULT))
		return err;
	return NULL;
}

static struct ich_error *collect_type(uint64_t node, void *arg)
{
	struct type_walk *w = arg;
	if (w->n >= MAX_TYPES)
		return ich_error_create(ICH_ERR_FORMAT, "more than %d object types", MAX_TYPES);
	uint64_t body = node + (uint64_t)w->k->o.ci_size + (uint64_t)w->k->o.oh_body;
	struct ich_error *err = read_type(w->k, body, &w->types[w->n]);
	if (err) {
		kernel_warn(w->k, "object type at 0x%" PRIx64 " unreadable: %s", body, err->message);
		ich_error_destroy(err);
		return NULL;
	}
	w->n++;
	return NULL;
}

/*
 * The EPROCESS fields sit at the row's offsets from ActiveProcessLinks, so
 * pid 4 and "System" were found -- but the object header in front of the
 * computed EPROCESS is not a Process's: every field after Pcb moved by the
 * same amount (a build whose KPROCESS grew or shrank, as 24H2's did,
 * without a row for it).  The true EPROCESS is the object body whose
 * header decodes to "Process" (OBJECT_HEADER.Body); KPROCESS (and its
 * DirectoryTableBase) stays at the body's start.  Look for it within
 * 0x400 bytes on either side, shift every EPROCESS field after Pcb by the
 * distance, reload the process list and say so.  The row's offsets
 * themselves are kept for every other structure.
 */
static bool realign_eprocess(struct ich_kernel *k, uint32_t process_index, uint32_t seen)
{
	uint64_t ep = k->procs[0].eprocess;
	for (int32_t d = 8; d <= 0x400; d += 8) {
		for (int sign = 1; sign >= -1; sign -= 2) {
			int32_t delta = sign * d;	/* true EPROCESS = ep - delta */
			uint32_t idx;
			struct ich_error *err = kobj_type_index(k, kobj_header(k, ep - (uint64_t)(int64_t)delta), &idx);
			if (err) {
				ich_error_destroy(err);
				continue;
			}
			if (idx != process_index)
				continue;
			struct kofs saved = k->o;
			struct ich_kprocess *saved_procs = k->procs;
			size_t saved_n = k->nprocs;
			int32_t *f[] = { &k->o.ep_pid, &k->o.ep_links, &k->o.ep_ppid, &k->o.ep_peb,
					 &k->o.ep_object_table, &k->o.ep_image, &k->o.ep_wow64 };
			for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
				if (*f[i] >= 0)
					*f[i] += delta;
			k->procs = NULL;
			k->nprocs = 0;
			err = kernel_load_processes(k);
			bool ok = !err && k->nprocs && k->procs[0].pid == 4 &&
				  ich_error_ok(kobj_type_index(k, kobj_header(k, k->procs[0].eprocess), &idx)) &&
				  idx == process_index;
			ich_error_destroy(err);
			if (!ok) {
				free(k->procs);
				k->o = saved;
				k->procs = saved_procs;
				k->nprocs = saved_n;
				continue;
			}
			free(saved_procs);
			k->ep_realigned = delta;
			kernel_warn(k, "EPROCESS layout: the row \"%s\" (%u) finds System at EPROCESS 0x%" PRIx64 ", whose object header decodes to type index %u, not Process (%u); the object of type Process is 0x%x bytes %s (0x%" PRIx64 "): every EPROCESS field after Pcb is taken as moved by %+d bytes (UniqueProcessId 0x%x, ActiveProcessLinks 0x%x, Peb 0x%x, ObjectTable 0x%x, ImageFileName 0x%x)",
				    k->row->label, k->row->build_min, ep, seen, process_index,
				    (unsigned)d, sign > 0 ? "lower" : "higher", k->procs[0].eprocess, delta,
				    k->o.ep_pid, k->o.ep_links, k->o.ep_peb, k->o.ep_object_table, k->o.ep_image);
			kernel_note(k, "object header decoding confirmed after the EPROCESS realignment: System's EPROCESS 0x%" PRIx64 " is of type Process (index %u)",
				    k->procs[0].eprocess, process_index);
			return true;
		}
	}
	return false;
}

struct ich_error *kernel_load_types(struct ich_kernel *k)
{
	uint64_t T = k->obp_type_object_type;
	if (!T)
		return ich_error_create(ICH_ERR_NOT_FOUND,
			"ObpTypeObjectType is not known (no decoded KDBG)");
	struct ich_ktype tt;
	struct ich_error *err = read_type(k, T, &tt);
	if (err)
		return ich_error_wrap(err, "the Type object type at 0x%" PRIx64 ": ", T);
	if (strcmp(tt.name, "Type"))
		return ich_error_create(ICH_ERR_LAYOUT,
			"the object at ObpTypeObjectType 0x%" PRIx64 " is named \"%s\", not \"Type\": the _OBJECT_TYPE layout does not fit",
			T, tt.name);
	uint64_t hdr = kobj_header(k, T);
	if (k->o.cookie_encoded) {
		uint8_t raw;
		err = ich_as_read_u8(k->as, hdr + (uint64_t)k->o.oh_type_index, &raw);
		if (err)
			return ich_error_wrap(err, "the Type type's object header 0x%" PRIx64 ": ", hdr);
		k->cookie = (uint8_t)(raw ^ (uint8_t)(hdr >> 8) ^ (uint8_t)tt.index);
		k->cookie_known = true;
		kernel_note(k, "ObHeaderCookie 0x%02x recovered from the \"Type\" type's header at 0x%" PRIx64 " (raw TypeIndex 0x%02x, index %u)",
			    k->cookie, hdr, raw, tt.index);
	}
	struct type_walk w = { .k = k };
	w.types = calloc(MAX_TYPES, sizeof(*w.types));
	if (!w.types)
		return &ich_enomem;
	err = ich_as_list_walk(k->as, tt.type_list, MAX_TYPES, true, collect_type, &w, NULL);
	if (err == &ich_enomem) {
		free(w.types);
		return err;
	}
	if (err) {
		kernel_warn(k, "object type list incomplete: %s", err->message);
		ich_error_destroy(err);
	}
	k->types = w.types;
	k->ntypes = w.n;
	/* Cross-check the cookie on a second object: System's EPROCESS must
	 * decode to the "Process" type. */
	const struct ich_ktype *proc = ich_kernel_find_type(k, "Process");
	if (proc && k->nprocs) {
		uint32_t idx;
		err = kobj_type_index(k, kobj_header(k, k->procs[0].eprocess), &idx);
		if (!err && idx != proc->index && realign_eprocess(k, proc->index, idx))
			return NULL;
		if (!err && idx != proc->index)
			kernel_warn(k, "System's EPROCESS decodes to type index %u, but \"Process\" has index %u: object header decoding is suspect",
				    idx, proc->index);
		else if (!err)
			kernel_note(k, "object header decoding confirmed: System's EPROCESS is of type Process (index %u)", idx);
		ich_error_destroy(err);
	}
	return NULL;
}
