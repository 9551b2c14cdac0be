/* SPDX-License-Identifier: MIT */
/*
 * `!heap -l`: busy heap blocks that nothing in the process refers to,
 * found as a garbage collector would (src/heap/leak.c).
 */
#ifndef ICPHEAP_LEAK_H
#define ICPHEAP_LEAK_H

#include <stddef.h>
#include <stdint.h>

#include <icpheap/heap.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ich_leak {
	uint64_t heap;
	struct ich_heap_block block;
};

struct ich_leak_result {
	struct ich_leak *leaks;	size_t nleaks;	/* in address order */
	uint64_t busy_blocks, busy_bytes;	/* blocks considered */
	uint64_t root_bytes;		/* captured memory scanned as roots */
	uint64_t block_bytes;		/* reachable busy blocks scanned */
	uint64_t context_bytes;		/* thread contexts scanned */
	size_t heaps_walked, heaps_skipped;
};

/*
 * Walk every walkable heap (ich_heap_walk: every layer its walker emits),
 * take the busy blocks, and mark every block reachable from the roots:
 * captured memory outside the heaps (stacks, TEBs, PEB, module images,
 * other private memory) and the threads' register contexts; a reached
 * block's user data is scanned in turn (a worklist).  Any aligned
 * pointer-sized value inside a block's user range [user, user+size)
 * reaches it (interior pointers count).  Free blocks, heap segments, large
 * blocks' headers and page-heap metadata are not roots.  The unreached
 * busy blocks are the leaks.  Free r with ich_leak_result_free.
 */
struct ich_error *ich_heap_leaks(struct ich_heaps *h, struct ich_leak_result *r);
void ich_leak_result_free(struct ich_leak_result *r);

/*
 * The same in two steps, for a caller that writes the leaks out as they
 * come (`heap -l`: no record kept per leak).  ich_heap_leak_scan walks,
 * marks and fills r's counts (nleaks included; r->leaks stays NULL); the
 * scan keeps each candidate's user range and a kind number (the rest of
 * its record, shared with the blocks like it).  ich_leak_scan_each calls
 * fn with each leak's full record, in the order ich_heap_leaks lists
 * them, rebuilt from the first walk's range and kind; an error from fn
 * ends it and is returned.  When the first walk's kinds grew too many
 * (past 4096 and an eighth of the candidates) it walks the heaps again
 * instead, and a second walk that does not give the first one's blocks
 * is an error (ICH_ERR_INTERNAL), never a different list.  Free s with
 * ich_leak_scan_free (NULL is fine).
 */
struct ich_leak_scan;
typedef struct ich_error *ich_leak_fn(const struct ich_leak *l, void *arg);
struct ich_error *ich_heap_leak_scan(struct ich_heaps *h, struct ich_leak_scan **s, struct ich_leak_result *r);
struct ich_error *ich_leak_scan_each(struct ich_leak_scan *s, ich_leak_fn *fn, void *arg);
void ich_leak_scan_free(struct ich_leak_scan *s);

#ifdef __cplusplus
}
#endif
#endif
