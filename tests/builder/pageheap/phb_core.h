/* SPDX-License-Identifier: MIT */
/* Internal interface of the page-heap scenario builder (phb_core.c writes
 * processes, stack traces, NT heaps and page heaps; phb_scen.c lays out the
 * scenarios with them). */
#ifndef PHB_CORE_H
#define PHB_CORE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dumpbuilder.h"
#include "phb_lay.h"

#define PHB_MAX 256

struct phb_mod {
	const char *name;	/* short name, e.g. "ntdll.dll" */
	uint64_t base, data;	/* image base; start of its writable data page(s) */
	uint32_t size;
};

/* One frame: module index (or -1) and offset (or absolute address). */
struct phb_frame {
	int mod;
	uint64_t off;
};

/* A heap block as the .expect lists it (and the leak / diff computations
 * use it). */
struct phb_block {
	uint64_t header, user, size, bsize, heap;
	const char *state;	/* busy / free / internal */
	const char *layer;	/* page-heap / backend / lfh / virtual */
	const char *kind;	/* full / light or NULL */
	uint64_t node, virt, vsize, access;
	int alloc_stack, free_stack;	/* stack ids or -1 */
	unsigned trace_index;	/* +ust index of NT blocks or 0 */
	bool meta;		/* heap metadata (segment header block) */
	bool corrupt;		/* laid out broken on purpose */
	bool reachable;
};

struct phb_region {
	uint64_t base, size;
	uint32_t state, protect, type;
	bool capture;
	bool heapmem;		/* heap memory / metadata: not a leak root */
	int index;		/* Memory64List index (set by phb_finish) */
};

struct phb_nt {
	uint64_t heap, cur, end, lfh, aux, key;
	uint16_t prev;
	bool ust;
};

struct phb_dph {
	uint64_t handle, root, normal, pool, next_node, next_va, va_base, va_end;
	uint32_t flags, extra;
	bool light, process_heap;
	unsigned busy[64], nbusy, freed[64], nfree;	/* indexes into P->blocks */
	uint64_t busy_node[64], free_node[64];
};

struct phb_proc {
	const struct phb_lay *L;
	struct db_md *md;
	struct db_mem *m;
	FILE *ex;
	bool wow;
	uint32_t rnd;
	struct phb_mod mods[12];
	unsigned nmods;
	struct phb_region regions[PHB_MAX];
	unsigned nregions;
	struct phb_block blocks[PHB_MAX * 2];
	unsigned nblocks;
	/* stack trace database */
	uint64_t db, db_lower, db_top, db_entries[64];
	unsigned ntraces;
	int trace_stack[64];	/* stack id of each trace index */
	/* stacks defined so far */
	struct { const struct phb_frame *f; unsigned n; uint64_t entry; } stacks[64];
	unsigned nstacks;
	/* a private scratch region for the LFH heap structures etc. */
	uint64_t priv, priv_cur;
	uint64_t peb, heaps_array;
	uint64_t heaps[8];
	unsigned nheaps;
	uint64_t regs[16][9];	/* thread registers (leak roots) */
	unsigned nthreads;
	uint64_t declared_leaks[64];
	unsigned ndeclared;
	/* called by phb_finish after the dump is written (before md is
	 * freed); `index` of each captured region = its Memory64 index */
	int (*post)(struct phb_proc *P, const char *dmp);
	void *post_arg;
};

uint64_t phb_up(uint64_t v, uint64_t a);
uint32_t phb_rand(struct phb_proc *P);
void phb_wptr(struct phb_proc *P, uint64_t va, uint64_t v);
uint64_t phb_rptr(struct phb_proc *P, uint64_t va);
void phb_list_init(struct phb_proc *P, uint64_t head);
void phb_list_add(struct phb_proc *P, uint64_t head, uint64_t node);

/* Process skeleton. */
void phb_begin(struct phb_proc *P, const struct phb_lay *L, bool wow, uint32_t build,
	       FILE *ex, const char *name);
unsigned phb_module(struct phb_proc *P, const char *path, uint64_t base, uint32_t size);
void phb_region(struct phb_proc *P, uint64_t base, uint64_t size, uint32_t state,
		uint32_t protect, uint32_t type, bool capture);
void phb_private(struct phb_proc *P, uint64_t base, uint64_t size);
/* Captured (or not) heap memory: never a leak root. */
void phb_heapmem(struct phb_proc *P, uint64_t base, uint64_t size, uint32_t protect, bool capture);
/* Thread with TEB, captured stack [limit, base) and a context; regs:
 * sp, pc, ax, bx, cx, dx, si, di, bp. */
struct phb_regs { uint64_t sp, pc, ax, bx, cx, dx, si, di, bp; };
void phb_thread(struct phb_proc *P, uint32_t id, uint64_t teb, uint64_t limit, uint64_t base,
		const struct phb_regs *r);
void phb_peb(struct phb_proc *P, uint64_t peb, uint64_t process_heap, uint32_t ntgf,
	     uint64_t array);
int phb_finish(struct phb_proc *P, const char *dmp);

/* Stack traces: the _STACK_TRACE_DATABASE at db (reserved size bytes; a
 * pointer to it is stored at `anchor`, e.g. in ntdll's data). */
void phb_ust_db(struct phb_proc *P, uint64_t db, uint64_t size, uint64_t anchor);
/* Defines stack `frames` (n frames); returns its id (the +ust trace index
 * is id+1 when a database exists). */
int phb_stack(struct phb_proc *P, const struct phb_frame *frames, unsigned n);
uint64_t phb_stack_entry(struct phb_proc *P, int id);
void phb_ust_finish(struct phb_proc *P);

/* NT heaps (1809+ layout). */
void phb_nt_begin(struct phb_proc *P, struct phb_nt *N, uint64_t heap, uint32_t flags,
		  uint64_t size, bool ust);
uint64_t phb_nt_busy(struct phb_proc *P, struct phb_nt *N, uint64_t req, int stack,
		     uint8_t fill);
void phb_nt_free(struct phb_proc *P, struct phb_nt *N, uint64_t bsize, uint8_t fill);
/* LFH container: `busy[i]` requested size or 0 (free) for each of count
 * blocks of `stride` bytes; user addresses returned in users[]. encode:
 * write the S5 encoded block headers.  Returns UserBlocks. */
uint64_t phb_nt_lfh(struct phb_proc *P, struct phb_nt *N, unsigned stride, unsigned count,
		    const uint64_t *busy, uint64_t *users, bool encode);
uint64_t phb_nt_virtual(struct phb_proc *P, struct phb_nt *N, uint64_t va, uint64_t req,
			int stack);
void phb_nt_end(struct phb_proc *P, struct phb_nt *N);
/* A busy back-end block whose encoded header has a broken checksum. */
uint64_t phb_nt_busy_corrupt(struct phb_proc *P, struct phb_nt *N, uint64_t req, uint8_t fill);
struct phb_block *phb_find_user(struct phb_proc *P, uint64_t user);

/* Page heaps. */
void phb_dph_begin(struct phb_proc *P, struct phb_dph *D, uint64_t handle, uint64_t normal,
		   uint32_t flags, bool light, uint64_t va_base, uint64_t va_size);
uint64_t phb_dph_alloc(struct phb_proc *P, struct phb_dph *D, uint64_t req, int stack);
/* A freed full-page-heap block; captured: whether its pages are in the dump. */
uint64_t phb_dph_free(struct phb_proc *P, struct phb_dph *D, uint64_t req, int alloc_stack,
		      int free_stack, bool captured);
/* Light page heap: a block in the normal heap N carrying a
 * DPH_BLOCK_INFORMATION; freed = on the delayed free queue `queue`. */
uint64_t phb_dph_light(struct phb_proc *P, struct phb_dph *D, struct phb_nt *N, uint64_t req,
		       int stack, bool freed, uint64_t queue);
void phb_dph_end(struct phb_proc *P, struct phb_dph *D);
/* Links the roots' NextHeap entries into the list at head. */
void phb_dph_list(struct phb_proc *P, uint64_t head, struct phb_dph **d, unsigned n);

/* Expectation output helpers. */
void phb_print_blocks(struct phb_proc *P);
/* `by_stack` lines: busy blocks carrying a trace, grouped by stack. */
void phb_print_by_stack(struct phb_proc *P);
/* The scenario says which blocks it laid out to be leaked ... */
void phb_expect_leak(struct phb_proc *P, uint64_t user);
/* ... and this computes the leak set from the image (roots: captured
 * non-heap memory and thread registers; transitive over busy blocks;
 * interior pointers count), checks it equals the declared set (abort
 * otherwise) and prints the leak lines. */
void phb_print_leaks(struct phb_proc *P);
#endif
