/* SPDX-License-Identifier: MIT */
/*
 * The heap problem nearest to the crash (issue 11: "the heap problem
 * nearest to the faulting address or referenced from the crashing stack
 * is named first").  For one walked heap with problems, in order of how
 * strongly it ties the problem to the crash:
 *
 *   fault-in-block  the faulting address lies in a problem block: the
 *                   block the walker lists as corrupt (its run up to where
 *                   the walk resumed) or the block at a problem address;
 *   fault-near      it lies in this heap (a walked block or a segment's
 *                   range), the nearest problem so many bytes away;
 *   stack-block     a word of the crashing thread's captured stack, from
 *                   the context's stack pointer up, points into a problem
 *                   block (innermost slot first);
 *   stack-heap      a stack word points into one of the heap's segments.
 *
 * The faulting address is what the instruction touched when the exception
 * says so (EXCEPTION_RECORD.ExceptionInformation[1] of c0000005 and
 * c0000006, winnt.h EXCEPTION_RECORD documentation), else the exception
 * address.  Addresses in the first 64 KiB (never mapped on Windows: the
 * NULL-pointer region) relate to nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/addrspace.h>
#include <icpheap/heap.h>
#include <icpheap/triage.h>

#include "core/endian.h"

#define NULL_REGION 0x10000u		/* MmLowestUserAddress: 64 KiB */
#define STACK_MAX_BYTES (256u * 1024)	/* words scanned above the stack pointer */
#define MAX_PROBLEM_BLOCKS 4096

struct pblock {
	uint64_t lo, hi;
};

struct collect {
	const uint64_t *probs;		/* problem addresses, sorted */
	size_t nprobs;
	struct pblock *blocks;		/* problem blocks, in walk order */
	size_t n;
	bool has_fault;
	uint64_t fault;
	bool fault_in_heap;		/* a walked block contains it */
	bool fault_in_problem;
	uint64_t fault_problem;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_block(const void *a, const void *b)
{
	const struct pblock *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool is_problem(const struct collect *k, uint64_t a)
{
	return bsearch(&a, k->probs, k->nprobs, sizeof(*k->probs), cmp_u64) != NULL;
}

static struct ich_error *on_block(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg)
{
	(void)heap;
	struct collect *k = arg;
	uint64_t lo = b->header, size = b->block_size ? b->block_size : 1;
	uint64_t hi = lo + size < lo ? UINT64_MAX : lo + size;
	bool problem = b->state == ICH_BLOCK_CORRUPT || is_problem(k, lo);
	if (problem && k->n < MAX_PROBLEM_BLOCKS)
		k->blocks[k->n++] = (struct pblock){ lo, hi };
	if (k->has_fault && lo <= k->fault && k->fault < hi) {
		k->fault_in_heap = true;
		if (problem && !k->fault_in_problem) {
			k->fault_in_problem = true;
			k->fault_problem = lo;
		}
	}
	return NULL;
}

static bool in_segments(const struct ich_heap *heap, uint64_t a)
{
	for (size_t s = 0; s < heap->nsegments; s++) {
		const struct ich_heap_segment *sg = &heap->segments[s];
		if (sg->base <= a && a < sg->last_valid_entry)
			return true;
	}
	return false;
}

/* The problem block holding v (blocks sorted by lo), or NULL. */
static const struct pblock *block_of(const struct collect *k, uint64_t v)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->blocks[mid].lo <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Blocks may nest (an LFH block inside its corrupt container): look
	 * back a little for one that holds v. */
	for (size_t i = lo, n = 0; i > 0 && n < 8; i--, n++)
		if (k->blocks[i - 1].lo <= v && v < k->blocks[i - 1].hi)
			return &k->blocks[i - 1];
	return NULL;
}

/* The frame whose part of the stack holds slot: the last frame whose stack
 * pointer is at or below it (frames go up the stack). */
static int frame_of(const struct ich_crash *c, uint64_t slot)
{
	int f = 0;
	for (size_t i = 0; i < c->nframes; i++)
		if (c->frames[i].sp <= slot)
			f = (int)i;
	return f;
}

static void frame_name(const struct ich_crash *c, int f, char *buf, size_t n)
{
	const struct ich_frame *fr = &c->frames[f];
	if (fr->has_module)
		snprintf(buf, n, "frame %d (%s+0x%" PRIx64 ")", f, fr->module, fr->offset);
	else
		snprintf(buf, n, "frame %d (0x%" PRIx64 ")", f, fr->pc);
}

/* Scan the crashing thread's stack for words pointing into a problem block
 * (wins) or into the heap's segments. */
static void scan_stack(struct ich_as *as, unsigned word, const struct ich_heap *heap,
		       const struct collect *k, const struct ich_crash *c, struct ich_crash_link *out)
{
	if (!c->nframes || !c->stack_end || !word)
		return;
	uint64_t sp = c->frames[0].sp, end = c->stack_end;
	if (sp < c->stack_start || sp >= end)
		sp = c->stack_start;
	sp -= sp % word;
	if (end - sp > STACK_MAX_BYTES)
		end = sp + STACK_MAX_BYTES;
	uint8_t buf[4096];
	bool heap_ref = false;
	uint64_t heap_slot = 0, heap_value = 0;
	for (uint64_t at = sp; at < end;) {
		size_t want = end - at < sizeof(buf) ? (size_t)(end - at) : sizeof(buf);
		struct ich_read_result rr;
		size_t got = ich_as_read(as, at, buf, want, &rr);
		if (got < word) {
			at += want;	/* a hole in the captured stack */
			continue;
		}
		for (size_t i = 0; i + word <= got; i += word) {
			uint64_t v = word == 8 ? ich_le64(buf + i) : ich_le32(buf + i);
			if (v < NULL_REGION)
				continue;
			const struct pblock *b = block_of(k, v);
			if (b) {
				out->relation = ICH_REL_STACK_BLOCK;
				out->problem = b->lo;
				out->slot = at + i;
				out->value = v;
				out->frame = frame_of(c, at + i);
				out->key = at + i - sp;
				char fn[96];
				frame_name(c, out->frame, fn, sizeof(fn));
				snprintf(out->reason, sizeof(out->reason),
					 "referenced from %s: the stack slot at 0x%" PRIx64 " holds 0x%" PRIx64
					 ", inside the problem block at 0x%" PRIx64, fn, out->slot, v, b->lo);
				return;
			}
			if (!heap_ref && in_segments(heap, v)) {
				heap_ref = true;
				heap_slot = at + i;
				heap_value = v;
			}
		}
		at += got - got % word;
	}
	if (heap_ref) {
		out->relation = ICH_REL_STACK_HEAP;
		out->slot = heap_slot;
		out->value = heap_value;
		out->frame = frame_of(c, heap_slot);
		out->key = heap_slot - sp;
		char fn[96];
		frame_name(c, out->frame, fn, sizeof(fn));
		snprintf(out->reason, sizeof(out->reason),
			 "its heap is referenced from %s: the stack slot at 0x%" PRIx64 " holds 0x%" PRIx64,
			 fn, heap_slot, heap_value);
	}
}

void ich_crash_link_heap(struct ich_heaps *h, struct ich_heap *heap, struct ich_as *as,
			 const struct ich_crash *c, struct ich_crash_link *out)
{
	memset(out, 0, sizeof(*out));
	if (!c || !c->present || c->bugcheck || !heap || !heap->nproblems)
		return;
	struct collect k = { 0 };
	const char *what = "the exception address";
	if (c->access != ICH_ACCESS_NONE) {
		k.fault = c->access_address;
		what = c->access == ICH_ACCESS_WRITE ? "the write target" :
		       c->access == ICH_ACCESS_READ ? "the read target" : "the execute target";
	} else {
		k.fault = c->address;
	}
	k.has_fault = k.fault >= NULL_REGION;
	uint64_t *probs = malloc(heap->nproblems * sizeof(*probs));
	k.blocks = malloc(MAX_PROBLEM_BLOCKS * sizeof(*k.blocks));
	if (!probs || !k.blocks) {
		free(probs);
		free(k.blocks);
		return;
	}
	for (size_t i = 0; i < heap->nproblems; i++)
		probs[i] = heap->problems[i].address;
	size_t nprobs = heap->nproblems;
	qsort(probs, nprobs, sizeof(*probs), cmp_u64);
	k.probs = probs;
	k.nprobs = nprobs;
	/* One more walk of this heap: the blocks at the problems and the one
	 * holding the faulting address.  It recomputes the same problems. */
	struct ich_error *err = ich_heap_walk(h, heap, on_block, &k);
	if (err && err != &ich_stop)
		ich_error_destroy(err);
	qsort(k.blocks, k.n, sizeof(*k.blocks), cmp_block);

	if (k.has_fault && k.fault_in_problem) {
		out->relation = ICH_REL_FAULT_IN_BLOCK;
		out->fault = k.fault;
		out->problem = k.fault_problem;
		snprintf(out->reason, sizeof(out->reason),
			 "contains the faulting address 0x%" PRIx64 " (%s): in the problem block at 0x%" PRIx64,
			 k.fault, what, k.fault_problem);
	} else if (k.has_fault && (k.fault_in_heap || in_segments(heap, k.fault))) {
		uint64_t best = probs[0], dist = UINT64_MAX;
		for (size_t i = 0; i < nprobs; i++) {
			uint64_t d = probs[i] > k.fault ? probs[i] - k.fault : k.fault - probs[i];
			if (d < dist) {
				dist = d;
				best = probs[i];
			}
		}
		out->relation = ICH_REL_FAULT_NEAR;
		out->fault = k.fault;
		out->problem = best;
		out->distance = dist;
		out->key = dist;
		snprintf(out->reason, sizeof(out->reason),
			 "nearest to the faulting address 0x%" PRIx64 " (%s), which lies in this heap "
			 "0x%" PRIx64 " bytes %s the problem at 0x%" PRIx64,
			 k.fault, what, dist, k.fault < best ? "before" : "after", best);
	} else {
		unsigned word = ich_heaps_ptr_size(h);
		scan_stack(as, word ? word : c->stack_word, heap, &k, c, out);
	}
	free(probs);
	free(k.blocks);
}
