/* SPDX-License-Identifier: MIT */
/* x86/x64 page-table entry bits both the kernel-dump reader's page walks
 * (kdump_paging.c) and the user-range lister (kernel/user_ranges.c) read. */
#ifndef ICPHEAP_READER_X86_PTE_H
#define ICPHEAP_READER_X86_PTE_H

#include <stdbool.h>
#include <stdint.h>

/* A transition PTE: Valid (bit 0) clear, Prototype (bit 10) clear,
 * Transition (bit 11) set -- the page is still in RAM at the PFN the entry
 * holds (Windows Internals 7th ed. part 1 ch. 5, "Invalid PTEs"). */
static inline bool ich_x86_pte_is_transition(uint64_t v)
{
	return !(v & 1) && (v & (1u << 11)) && !(v & (1u << 10));
}

#endif
