/* SPDX-License-Identifier: MIT */
/* heap -p / -l / -triage: the page heap, leak and triage modes of
 * `icpheap heap`, called from cmd_heap.c (heap_pageheap.c, heap_leaks.c,
 * heap_triage.c). */
#ifndef ICPHEAP_CLI_HEAP_EXT_H
#define ICPHEAP_CLI_HEAP_EXT_H

#include <stdbool.h>
#include <stdint.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>

struct ich_json;

struct heap_ext {
	struct ich_dump *dump;
	struct ich_heaps *h;
	struct ich_json *j;	/* NULL: text */
	int w;			/* pointer digits (8 or 16) */
	unsigned unit;		/* heap granularity (8 or 16) */
	bool verbose;
	bool have_heap;
	uint64_t heap;		/* -p -h HANDLE, -triage HEAP */
	bool have_addr;
	uint64_t addr;		/* -p -a ADDR, -triage ADDR */
	bool all;		/* -p -all */
};

int heap_p_list(struct heap_ext *x);	/* -p, -p -h HANDLE, -p -all */
int heap_p_addr(struct heap_ext *x);	/* -p -a ADDR */
extern const char heap_p_help[];	/* -p -? */
void heap_entry_table_header(int w);	/* block table heads (-l, -x) */
int heap_leaks(struct heap_ext *x);	/* -l */
int heap_triage(struct heap_ext *x);	/* -triage [HEAP|ADDR] */

/* The stack frames of a trace, WinDbg's page-heap form ("    %p mod+0x...")
 * or NT-heap form ("        %llx mod+0x%016llx"), or JSON "stack". */
struct ich_stack;
void heap_print_stack(struct heap_ext *x, const struct ich_stack *s, bool nt_form);
void heap_json_stack(struct heap_ext *x, const char *key, const struct ich_stack *s);
/* -flt / -stat: busy blocks of requested sizes [min, max] grouped by
 * allocation stack (JSON "stacks"; text only with -v). */
void heap_stack_groups(struct heap_ext *x, uint64_t min, uint64_t max);

#endif
