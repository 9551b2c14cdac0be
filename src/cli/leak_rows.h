/* SPDX-License-Identifier: MIT */
/*
 * heap -l's leaks as rows of the -x table and as compact JSON objects,
 * each rendered without printf or the field-by-field writer (issue 12: a
 * dump whose blocks are all unreferenced lists millions).  heap_leaks.c
 * drives them; tests/unit/core/test_leak_rows.c checks each against an
 * independent rendering (printf, and the generic JSON writer).
 */
#ifndef ICPHEAP_CLI_LEAK_ROWS_H
#define ICPHEAP_CLI_LEAK_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/leak.h>

struct ich_out;
struct ich_json;

/* A row is Entry, User, then the columns after User ("  Heap  Segment
 * Size  PrevSize  Unused  Flags\n"), copied from the row before when the
 * leak shares what they show (the blocks of one run: heap, segment,
 * sizes and flags), else formatted and kept. */
struct leak_text_rows {
	struct ich_out *out;
	unsigned w;		/* address width: 8 or 16 */
	bool have;
	uint64_t heap, segment, block_size, prev_size, unused;
	enum ich_block_layer layer;
	uint8_t flags;
	size_t ntail;
	char tail[160];
};
void leak_text_rows_init(struct leak_text_rows *t, struct ich_out *out, unsigned w);
/* One leak as a row (an ich_leak_fn; arg: the struct leak_text_rows). */
struct ich_error *leak_text_row(const struct ich_leak *l, void *arg);

/* One leak as a JSON object of the "leaks" array, through the writer's
 * fields (any writer; pretty ones take this). */
void leak_json_fields(struct ich_json *j, const struct ich_leak *l);

/* Compact writers: the object rendered in one go, from the heap's head
 * and a cache of tails (leak_rows.c).  Allocate with leak_json_rows_new
 * (about 4 KiB), free with free(). */
struct leak_json_rows;
struct leak_json_rows *leak_json_rows_new(struct ich_json *j);
/* An ich_leak_fn; arg: the struct leak_json_rows. */
struct ich_error *leak_json_compact(const struct ich_leak *l, void *arg);

#endif
