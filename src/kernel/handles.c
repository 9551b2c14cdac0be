/* SPDX-License-Identifier: MIT */
/*
 * Handle tables (layouts.md §8): TableCode's low 2 bits give the level;
 * level 0 is one page of entries (16 bytes on x64, 8 on x86; entry 0 of
 * each page unused), level 1 a page of pointers to entry pages, level 2 one
 * more level.  handle = (page * entries_per_page + i) * 4.
 */
#include <inttypes.h>
#include <string.h>

#include "core/endian.h"
#include "kernel/kernel_internal.h"

#define PAGE 4096u

struct hwalk {
	struct ich_kernel *k;
	const struct ich_kprocess *p;
	ich_khandle_fn *fn;
	void *arg;
	bool *partial;
};

/* Decode one entry into h; false for a free entry. */
static bool decode_entry(const struct ich_kernel *k, const uint8_t *e, struct ich_khandle *h)
{
	uint64_t q0 = k->ptr == 8 ? ich_le64(e) : ich_le32(e);
	uint64_t q1 = k->ptr == 8 ? ich_le64(e + 8) : ich_le32(e + 4);
	uint64_t hdr;
	switch (k->o.handle_format) {
	case KH_X64_WIN81:
		/* ObjectPointerBits:44 at bit 20 (S6 8.1 x64) = header >> 4;
		 * sign-extend from the kernel half. */
		hdr = (0xFFFF000000000000ull | (q0 >> 16)) & ~0xFull;
		if ((hdr & 0x000007FFFFFFFF00ull) == 0)
			return false;
		h->attributes = (uint32_t)((q0 >> 17) & 7);
		break;
	case KH_X64_WIN8:
		hdr = (0xFFFFF80000000000ull | (q0 >> 19)) & ~7ull;
		if ((q0 >> 19) == 0)
			return false;
		h->attributes = (uint32_t)((q0 >> 1) & 3);
		break;
	case KH_X64_WIN7:
		if (q0 == 0)
			return false;
		hdr = q0 & ~7ull;
		h->attributes = (uint32_t)(q0 & 7);
		break;
	case KH_X86:
	default:
		if ((q0 & ~7ull) == 0)
			return false;
		hdr = q0 & ~7ull;
		h->attributes = (uint32_t)(q0 & 7);
		break;
	}
	/* A free x86/Win7 entry holds the next free handle index, a small
	 * number, not a kernel address. */
	if (k->ptr == 4 ? hdr < 0x80000000ull : hdr < 0xFFFF800000000000ull)
		return false;
	h->header = hdr;
	h->object = kobj_body(k, hdr);
	h->access = (uint32_t)(q1 & 0x01FFFFFF);	/* GrantedAccessBits:25 */
	return true;
}

static struct ich_error *walk_entry_page(struct hwalk *w, uint64_t page, uint64_t page_index)
{
	struct ich_kernel *k = w->k;
	unsigned esize = k->ptr == 8 ? 16 : 8;
	unsigned per_page = PAGE / esize;
	uint8_t buf[PAGE];
	struct ich_read_result res;
	if (ich_as_read(k->as, page, buf, PAGE, &res) != PAGE) {
		*w->partial = true;
		kernel_warn(k, "pid %u: handle table page 0x%" PRIx64 " %s", w->p->pid, page,
			    ich_miss_reason_str(res.why));
		return NULL;
	}
	for (unsigned i = 1; i < per_page; i++) {
		struct ich_khandle h;
		memset(&h, 0, sizeof(h));
		if (!decode_entry(k, buf + i * esize, &h))
			continue;
		h.handle = (page_index * per_page + i) * 4;
		struct ich_error *err = kobj_type_index(k, h.header, &h.type_index);
		if (err) {
			/* The object header is not in the dump: report the
			 * handle with an unknown type. */
			ich_error_destroy(err);
			h.type_index = UINT32_MAX;
		}
		err = w->fn(w->p, &h, w->arg);
		if (err)
			return err;
	}
	return NULL;
}

/* Walk a page of pointers (level >= 1). */
static struct ich_error *walk_level(struct hwalk *w, uint64_t page, int level, uint64_t base_index)
{
	struct ich_kernel *k = w->k;
	if (level == 0)
		return walk_entry_page(w, page, base_index);
	unsigned nptr = PAGE / k->ptr;
	uint8_t buf[PAGE];
	struct ich_read_result res;
	if (ich_as_read(k->as, page, buf, PAGE, &res) != PAGE) {
		*w->partial = true;
		kernel_warn(k, "pid %u: handle table level-%d page 0x%" PRIx64 " %s", w->p->pid,
			    level, page, ich_miss_reason_str(res.why));
		return NULL;
	}
	/* pages below this one: entry pages per pointer at this level */
	uint64_t span = level == 1 ? 1 : nptr;
	for (unsigned i = 0; i < nptr; i++) {
		uint64_t v = k->ptr == 8 ? ich_le64(buf + i * 8) : ich_le32(buf + i * 4);
		if (!v)
			continue;
		struct ich_error *err = walk_level(w, v & ~7ull, level - 1,
						   base_index + i * span);
		if (err)
			return err;
	}
	return NULL;
}

struct ich_error *ich_kernel_walk_handles(struct ich_kernel *k,
					  const struct ich_kprocess *p,
					  ich_khandle_fn *fn, void *arg,
					  bool *partial)
{
	bool dummy = false;
	if (!partial)
		partial = &dummy;
	if (!p->object_table || k->o.ht_table_code < 0)
		return NULL;	/* exiting process or unknown layout: no handles */
	uint64_t code;
	struct ich_error *err = ich_as_read_ptr(k->as, p->object_table + (uint64_t)k->o.ht_table_code, &code);
	if (err) {
		*partial = true;
		kernel_warn(k, "pid %u: handle table 0x%" PRIx64 " unreadable: %s", p->pid,
			    p->object_table, err->message);
		ich_error_destroy(err);
		return NULL;
	}
	int level = (int)(code & 3);
	if (level == 3) {
		*partial = true;
		kernel_warn(k, "pid %u: handle table 0x%" PRIx64 " has an invalid level 3 (TableCode 0x%" PRIx64 ")",
			    p->pid, p->object_table, code);
		return NULL;
	}
	struct hwalk w = { k, p, fn, arg, partial };
	err = walk_level(&w, code & ~7ull, level, 0);
	if (err == &ich_stop)
		err = NULL;
	return err;
}
