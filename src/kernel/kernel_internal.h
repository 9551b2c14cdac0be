/* SPDX-License-Identifier: MIT */
/* Internal state of the kernel model (src/kernel). */
#ifndef ICPHEAP_KERNEL_INTERNAL_H
#define ICPHEAP_KERNEL_INTERNAL_H

#include <icpheap/kernel.h>
#include <icpheap/layout.h>

/* Handle-table entry formats (layouts.md §8, "Object header from an entry"). */
enum kh_format {
	KH_X64_WIN81,	/* x64 >= 9600: hdr = 0xFFFF000000000000 | (q0 >> 16) */
	KH_X64_WIN8,	/* x64 9200: hdr = 0xFFFFF80000000000 | (q0 >> 19) */
	KH_X64_WIN7,	/* x64 7600/7601: hdr = q0 & ~7 */
	KH_X86,		/* x86: hdr = d0 & ~7 */
};

/* The offsets the walkers use, copied once from the type-table row so the
 * walking code reads like the Windows structures. -1 = absent. */
struct kofs {
	int32_t ep_pid, ep_links, ep_ppid, ep_peb, ep_object_table, ep_image, ep_dtb;
	int32_t ep_wow64;			/* EPROCESS.WoW64Process (x64) */
	int32_t ht_table_code;
	int32_t oh_pointer_count, oh_handle_count, oh_type_index, oh_info_mask, oh_body;
	int32_t ci_size, ni_size;		/* CREATOR_INFO / NAME_INFO sizes */
	int32_t opt_size[8];			/* optional header size per InfoMask bit */
	int32_t ot_type_list, ot_name, ot_index, ot_total_objects, ot_total_handles;
	int32_t ot_high_objects, ot_high_handles;
	int32_t kq_signal_state, kq_entry_list, kq_current, kq_maximum, kq_thread_list;
	bool cookie_encoded;			/* TypeIndex ^ cookie ^ (hdr >> 8) (Win10+) */
	enum kh_format handle_format;
};

struct ich_kernel {
	struct ich_dump *dump;
	struct ich_as *as;		/* kernel VA */
	unsigned ptr;			/* 4 or 8 */
	uint32_t build;
	const struct ich_layout *row;
	struct kofs o;

	uint64_t kdbg;			/* KDDEBUGGER_DATA64 address, 0 if unusable */
	uint64_t ps_active_process_head;
	uint64_t obp_type_object_type;	/* value of the variable (Type type body) */

	struct ich_kprocess *procs;
	size_t nprocs;
	bool procs_partial;

	struct ich_ktype *types;
	size_t ntypes;
	uint8_t cookie;
	bool cookie_known;

	char **notes;	size_t nnotes;
	char **warnings; size_t nwarnings;
	int32_t ep_realigned;	/* EPROCESS fields moved from the row (types.c) */
};

void kernel_note(struct ich_kernel *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kernel_warn(struct ich_kernel *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* object.c */
uint64_t kobj_header(const struct ich_kernel *k, uint64_t body);
uint64_t kobj_body(const struct ich_kernel *k, uint64_t header);
/* Decoded type index of the object whose header is at hdr. */
struct ich_error *kobj_type_index(struct ich_kernel *k, uint64_t hdr, uint32_t *index);
/* Address of optional header `bit` (InfoMask bit) or 0 when absent. */
struct ich_error *kobj_optional_header(struct ich_kernel *k, uint64_t hdr,
				       uint8_t bit, uint64_t *addr);

/* process.c / types.c */
struct ich_error *kernel_load_processes(struct ich_kernel *k);
struct ich_error *kernel_load_types(struct ich_kernel *k);

#endif
