/* SPDX-License-Identifier: MIT */
/*
 * Page-heap scenarios (README.md describes each layout and its .expect).
 */
#include <stdlib.h>
#include <string.h>

#include "phb.h"
#include "phb_core.h"

const char *const phb_scenarios[] = {
	"dph-x64", "dph-x86", "dph-wow64", "dph-light-x64", "dph-light-x86", "ust-x64", "ust-x86",
	"leak-x64", "triage-lfh-x64", "failure-x64", "diff-old-x64", "diff-new-x64", NULL,
};

enum { M_APP, M_NTDLL, M_KBASE, M_VERIFIER, M_MYLIB };

/* Modules, PEB, the scratch region and the stack trace database shared by
 * every scenario of one architecture. */
struct layout {
	uint64_t peb, heaps_array, priv, db, teb0, teb1, stk0, stk0_size, stk1, stk1_size;
};

static const struct layout X64 = {
	.peb = 0xD56A3D0000ull, .heaps_array = 0xD56A3E0000ull, .priv = 0xD56A400000ull,
	.db = 0x21CE0000000ull, .teb0 = 0xD56A3D2000ull, .teb1 = 0xD56A3D6000ull,
	.stk0 = 0xD56A200000ull, .stk0_size = 0x6000, .stk1 = 0xD56A300000ull, .stk1_size = 0x4000,
};
static const struct layout X86 = {
	.peb = 0x7EFDE000u, .heaps_array = 0x00290000u, .priv = 0x002A0000u,
	.db = 0x05000000u, .teb0 = 0x7EFD8000u, .teb1 = 0x7EFD2000u,
	.stk0 = 0x00180000u, .stk0_size = 0x6000, .stk1 = 0x00280000u, .stk1_size = 0x4000,
};

static void modules(struct phb_proc *P)
{
	if (P->L->x64) {
		phb_module(P, "C:\\test\\app.exe", 0x7FF78B900000ull, 0x20000);
		phb_module(P, "C:\\Windows\\System32\\ntdll.dll", 0x7FFEA2200000ull, 0x40000);
		phb_module(P, "C:\\Windows\\System32\\KERNELBASE.dll", 0x7FFE9F000000ull, 0x30000);
		phb_module(P, "C:\\Windows\\System32\\verifier.dll", 0x7FFE7C3E0000ull, 0x20000);
		phb_module(P, "C:\\test\\mylib.dll", 0x7FFE68C80000ull, 0x40000);
	} else {
		phb_module(P, "C:\\test\\app.exe", 0x00400000u, 0x20000);
		if (P->wow)
			phb_module(P, "C:\\Windows\\SysWOW64\\ntdll.dll", 0x77A20000u, 0);
		else
			phb_module(P, "C:\\Windows\\System32\\ntdll.dll", 0x77A20000u, 0x40000);
		phb_module(P, P->wow ? "C:\\Windows\\SysWOW64\\KERNELBASE.dll"
				     : "C:\\Windows\\System32\\KERNELBASE.dll", 0x76F00000u, 0x30000);
		phb_module(P, P->wow ? "C:\\Windows\\SysWOW64\\verifier.dll"
				     : "C:\\Windows\\System32\\verifier.dll", 0x6FE00000u, 0x20000);
		phb_module(P, "C:\\test\\mylib.dll", 0x10000000u, 0x40000);
	}
}

static const struct layout *lay_of(struct phb_proc *P) { return P->L->x64 ? &X64 : &X86; }

/* Common start: modules, the scratch region, optionally the trace DB
 * (anchor in ntdll's data, as RtlpStackTraceDataBase would be). */
static void common(struct phb_proc *P, bool db)
{
	const struct layout *Y = lay_of(P);
	modules(P);
	P->priv = P->priv_cur = Y->priv;
	phb_private(P, Y->priv, 0x4000);
	if (db)
		phb_ust_db(P, Y->db, 0x20000, P->mods[M_NTDLL].data + 0x100);
}

/* The standard stacks (frames in several modules, one outside any). */
static const struct phb_frame S_ALLOC1[] = {
	{ M_NTDLL, 0x3825b }, { M_NTDLL, 0x29745 }, { M_NTDLL, 0x273d4 }, { M_MYLIB, 0x777d },
	{ M_MYLIB, 0x12a35 }, { M_MYLIB, 0x15d34 }, { M_APP, 0x1a2b }, { M_KBASE, 0x17034 },
	{ M_NTDLL, 0x2651 },
};
static const struct phb_frame S_ALLOC2[] = {
	{ M_VERIFIER, 0x9e6b }, { M_NTDLL, 0x3825b }, { M_NTDLL, 0x29745 }, { M_APP, 0x1c40 },
	{ M_APP, 0x1234 }, { M_KBASE, 0x17034 },
};
static const struct phb_frame S_ALLOC3_64[] = {
	{ M_NTDLL, 0x3825b }, { M_MYLIB, 0x2100 }, { -1, 0x00007FF600001234ull }, { M_APP, 0x1100 },
};
static const struct phb_frame S_ALLOC3_32[] = {
	{ M_NTDLL, 0x3825b }, { M_MYLIB, 0x2100 }, { -1, 0x00C01234u }, { M_APP, 0x1100 },
};
static const struct phb_frame S_FREE1[] = {
	{ M_VERIFIER, 0xb162 }, { M_NTDLL, 0x34f09 }, { M_NTDLL, 0x1fda6 }, { M_MYLIB, 0x85ce },
	{ M_APP, 0x1d00 },
};
static const struct phb_frame S_FREE2[] = {
	{ M_VERIFIER, 0xb162 }, { M_NTDLL, 0x34f09 }, { M_APP, 0x1e00 },
};
#define NF(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

struct stacks { int a1, a2, a3, f1, f2; };

static void std_stacks(struct phb_proc *P, struct stacks *S)
{
	S->a1 = phb_stack(P, S_ALLOC1, NF(S_ALLOC1));
	S->a2 = phb_stack(P, S_ALLOC2, NF(S_ALLOC2));
	S->a3 = P->L->x64 ? phb_stack(P, S_ALLOC3_64, NF(S_ALLOC3_64))
			  : phb_stack(P, S_ALLOC3_32, NF(S_ALLOC3_32));
	S->f1 = phb_stack(P, S_FREE1, NF(S_FREE1));
	S->f2 = phb_stack(P, S_FREE2, NF(S_FREE2));
}

static uint64_t code(struct phb_proc *P, int mod, uint64_t off) { return P->mods[mod].base + off; }

/* A `find` line: what `!heap -p -a addr` must answer. */
static void find(struct phb_proc *P, uint64_t addr, uint64_t user)
{
	struct phb_block *b = phb_find_user(P, user);
	if (addr >= b->user)
		fprintf(P->ex, "find addr=0x%llx heap=0x%llx user=0x%llx offset=0x%llx state=%s layer=%s\n",
			(unsigned long long)addr, (unsigned long long)b->heap,
			(unsigned long long)b->user, (unsigned long long)(addr - b->user), b->state,
			b->layer);
	else
		fprintf(P->ex, "find addr=0x%llx heap=0x%llx user=0x%llx offset=-0x%llx state=%s layer=%s\n",
			(unsigned long long)addr, (unsigned long long)b->heap,
			(unsigned long long)b->user, (unsigned long long)(b->user - addr), b->state,
			b->layer);
}

/* ------------------------------------------------ scenarios 1 and 2: full DPH */

static int dph_full(const char *name, const struct phb_lay *L, bool wow, const char *dmp,
		    FILE *ex)
{
	struct phb_proc P;
	phb_begin(&P, L, wow, 19045, ex, name);
	const struct layout *Y = lay_of(&P);
	common(&P, true);
	struct stacks S;
	std_stacks(&P, &S);
	bool x64 = L->x64;
	uint64_t H1 = x64 ? 0x21CE0330000ull : 0x03D70000u;
	uint64_t N1 = x64 ? 0x21CE0440000ull : 0x03E70000u;
	uint64_t H2 = x64 ? 0x21CE0550000ull : 0x04170000u;
	uint64_t N2 = x64 ? 0x21CE0660000ull : 0x04270000u;
	uint64_t VA1 = x64 ? 0x21CC85A0000ull : 0x06700000u;
	uint64_t VA2 = x64 ? 0x21CC8700000ull : 0x06900000u;
	struct phb_dph D1, D2;
	struct phb_nt n1, n2;
	phb_peb(&P, Y->peb, H1, FLG_HEAP_PAGE_ALLOCS, Y->heaps_array);
	/* page heap 1 = the process heap */
	phb_dph_begin(&P, &D1, H1, N1, 0x2, false, VA1, 0x40000);
	uint64_t b2 = phb_dph_alloc(&P, &D1, 0x18, S.a2);
	uint64_t b3 = phb_dph_alloc(&P, &D1, 0x1, S.a3);
	uint64_t b1 = phb_dph_alloc(&P, &D1, 0x4010, S.a1);
	uint64_t f1 = phb_dph_free(&P, &D1, 0x100, S.a2, S.f1, true);
	uint64_t b4 = phb_dph_alloc(&P, &D1, 0x2FF0, S.a2);
	uint64_t f2 = phb_dph_free(&P, &D1, 0x2000, S.a1, S.f2, false);
	uint64_t b5 = phb_dph_alloc(&P, &D1, 0xFC1, S.a3);
	uint64_t b6 = phb_dph_alloc(&P, &D1, 0x7, S.a1);
	uint64_t f3 = phb_dph_free(&P, &D1, 0x30, S.a3, S.f1, true);
	phb_nt_begin(&P, &n1, N1, 0x2, 0x10000, false);
	uint64_t nb1 = phb_nt_busy(&P, &n1, 0x48, -1, 0x41);
	phb_nt_free(&P, &n1, 0x40, 0);
	uint64_t nb2 = phb_nt_busy(&P, &n1, 0x100, -1, 0x42);
	phb_nt_end(&P, &n1);
	/* page heap 2 (HeapCreate; not the process heap) */
	phb_dph_begin(&P, &D2, H2, N2, 0x1002, false, VA2, 0x20000);
	uint64_t c1 = phb_dph_alloc(&P, &D2, 0x80, S.a2);
	uint64_t c2 = phb_dph_alloc(&P, &D2, 0x1234, S.a1);
	uint64_t g1 = phb_dph_free(&P, &D2, 0x40, S.a3, S.f2, true);
	phb_nt_begin(&P, &n2, N2, 0x1002, 0x10000, false);
	uint64_t nb3 = phb_nt_busy(&P, &n2, 0x30, -1, 0x43);
	phb_nt_end(&P, &n2);
	phb_dph_end(&P, &D1);
	phb_dph_end(&P, &D2);
	struct phb_dph *list[2] = { &D1, &D2 };
	phb_dph_list(&P, P.mods[M_VERIFIER].data + 0x40, list, 2);
	/* references (leak roots and chains) */
	unsigned ps = L->ps;
	uint64_t base0 = Y->stk0 + Y->stk0_size, base1 = Y->stk1 + Y->stk1_size;
	uint64_t sp0 = base0 - 0x1000, sp1 = base1 - 0x800;
	phb_wptr(&P, sp0 + 0x40, b1);				/* stack -> b1 */
	phb_wptr(&P, b1, b4 + 0x10);				/* b1 -> b4 (interior) */
	phb_wptr(&P, P.mods[M_MYLIB].data + 0x200, b3);		/* module data -> b3 */
	phb_wptr(&P, f1 + 2 * ps, b5);				/* only a freed block -> b5 */
	phb_wptr(&P, sp1 + 0x10, b6);				/* stack -> b6 */
	phb_wptr(&P, P.mods[M_APP].data + 0x80, nb1);		/* module data -> nb1 */
	phb_wptr(&P, sp1 + 0x20, c1);				/* stack -> c1 */
	phb_wptr(&P, f3, c2);					/* freed block -> c2 */
	phb_wptr(&P, sp0 + 0x08, code(&P, M_APP, 0x1a30));	/* a return address */
	struct phb_regs r0 = { .sp = sp0, .pc = code(&P, M_APP, 0x2434), .cx = b2, .ax = 0x4010,
		.bp = sp0 + 0x80 };
	struct phb_regs r1 = { .sp = sp1, .pc = code(&P, M_NTDLL, 0x9d3f4), .bx = 0x7 };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, base0, &r0);
	phb_thread(&P, 0x2c0, Y->teb1, Y->stk1, base1, &r1);
	/* the crash: an overrun of b1 into its guard page */
	struct db_md_exception e = { .thread_id = 0x1a4, .code = 0xC0000005u,
		.address = code(&P, M_APP, 0x2434), .number_parameters = 2,
		.information = { 1, b1 + 0x4010 } };
	db_md_set_exception(P.md, &e);
	fprintf(ex, "exception code=0xc0000005 address=0x%llx access=0x%llx\n",
		(unsigned long long)e.address, (unsigned long long)(b1 + 0x4010));
	phb_ust_finish(&P);
	phb_print_blocks(&P);
	find(&P, b1 + 0x10, b1);
	find(&P, b1 + 0x4010, b1);		/* the guard page (the crash address) */
	find(&P, b1 - 0x20, b1);		/* inside the DPH_BLOCK_INFORMATION */
	find(&P, b4, b4);
	find(&P, f1 + 8, f1);			/* freed, pages captured */
	find(&P, f2 + 0x1FF0, f2);		/* freed, pages not in the dump */
	find(&P, c2 + 0x1233, c2);		/* second page heap */
	find(&P, nb1 + 4, nb1);			/* normal heap block */
	phb_expect_leak(&P, b5);
	phb_expect_leak(&P, nb2);
	phb_expect_leak(&P, c2);
	phb_expect_leak(&P, nb3);
	phb_print_leaks(&P);
	(void)b2; (void)g1;
	return phb_finish(&P, dmp);
}

/* ------------------------------------------------------- scenario 5: leaks */

static int leak_x64(const char *name, const char *dmp, FILE *ex)
{
	struct phb_proc P;
	const struct phb_lay *L = &phb_x64;
	phb_begin(&P, L, false, 19045, ex, name);
	const struct layout *Y = &X64;
	common(&P, false);
	uint64_t H = 0x1E74A550000ull, H2 = 0x1E74A600000ull, PRIV = 0x1E74A800000ull;
	phb_peb(&P, Y->peb, H, 0, Y->heaps_array);
	phb_private(&P, PRIV, 0x1000);
	struct phb_nt N, N2;
	phb_nt_begin(&P, &N, H, 0x2, 0x20000, false);
	uint64_t A = phb_nt_busy(&P, &N, 0x40, -1, 0x11);
	uint64_t B = phb_nt_busy(&P, &N, 0x80, -1, 0x12);
	uint64_t C = phb_nt_busy(&P, &N, 0x100, -1, 0x13);
	uint64_t D = phb_nt_busy(&P, &N, 0x60, -1, 0x14);
	uint64_t E = phb_nt_busy(&P, &N, 0x50, -1, 0x15);
	uint64_t F = phb_nt_busy(&P, &N, 0x70, -1, 0x16);
	uint64_t G = phb_nt_busy(&P, &N, 0x90, -1, 0x17);
	uint64_t Hh = phb_nt_busy(&P, &N, 0x200, -1, 0x18);
	uint64_t L1 = phb_nt_busy(&P, &N, 0x30, -1, 0x19);
	uint64_t L2 = phb_nt_busy(&P, &N, 0x30, -1, 0x1A);
	uint64_t X = N.cur + L->unit;		/* the free block's user area */
	phb_nt_free(&P, &N, 0x100, 0x1B);
	uint64_t L3 = phb_nt_busy(&P, &N, 0x58, -1, 0x1C);
	uint64_t L4 = phb_nt_busy(&P, &N, 0x20, -1, 0x1D);
	uint64_t L8 = phb_nt_busy(&P, &N, 0x40, -1, 0x1E);
	uint64_t K = phb_nt_busy(&P, &N, 0x48, -1, 0x1F);
	uint64_t T = phb_nt_busy(&P, &N, 0x38, -1, 0x20);
	uint64_t L7 = phb_nt_busy(&P, &N, 0x40, -1, 0x21);
	static const uint64_t lfh_busy[8] = { 0x28, 0, 0x20, 0x18, 0x28, 0, 0x10, 0 };
	uint64_t lu[8];
	phb_nt_lfh(&P, &N, 0x30, 8, lfh_busy, lu, false);
	phb_nt_free(&P, &N, 0x60, 0x22);
	uint64_t V1 = phb_nt_virtual(&P, &N, 0x1E74A700000ull, 0x30000, -1);
	uint64_t V2 = phb_nt_virtual(&P, &N, 0x1E74A780000ull, 0x21000, -1);
	phb_nt_end(&P, &N);
	phb_nt_begin(&P, &N2, H2, 0x1002, 0x10000, false);
	uint64_t M1 = phb_nt_busy(&P, &N2, 0x40, -1, 0x23);
	uint64_t M2 = phb_nt_busy(&P, &N2, 0x40, -1, 0x24);
	/* a chain that runs backwards in memory: each block reached only
	 * from the one after it (a mark phase that visits blocks in address
	 * order must still scan M4 and M3 after M5) */
	uint64_t M3 = phb_nt_busy(&P, &N2, 0x40, -1, 0x25);
	uint64_t M4 = phb_nt_busy(&P, &N2, 0x50, -1, 0x26);
	uint64_t M5 = phb_nt_busy(&P, &N2, 0x60, -1, 0x27);
	phb_nt_end(&P, &N2);
	unsigned ps = L->ps;
	uint64_t base0 = Y->stk0 + Y->stk0_size, base1 = Y->stk1 + Y->stk1_size;
	uint64_t sp0 = base0 - 0x1000, sp1 = base1 - 0x800;
	/* roots */
	phb_wptr(&P, sp0 + 0x48, A);				/* stack */
	phb_wptr(&P, P.mods[M_APP].data + 0x100, C);		/* module data */
	phb_wptr(&P, PRIV + 0x18, D);				/* other private memory */
	phb_wptr(&P, sp1 + 0x30, E);				/* stack -> E -> F -> G */
	phb_wptr(&P, E + ps, F);
	phb_wptr(&P, F + 4 * ps, G);
	phb_wptr(&P, G + 2 * ps, V1 + 0x1000);			/* chain into a virtual block (interior) */
	phb_wptr(&P, V1 + 0x2000, M2 + 0x20);			/* ... into the second heap (interior) */
	phb_wptr(&P, sp0 + 0x60, Hh + 0x18);			/* interior pointer */
	phb_wptr(&P, PRIV + 0x60, M5);				/* private -> M5 -> M4 -> M3 */
	phb_wptr(&P, M5 + 2 * ps, M4 + 8);
	phb_wptr(&P, M4 + ps, M3);
	phb_wptr(&P, L1, L2);					/* leaked cycle */
	phb_wptr(&P, L2 + ps, L1);
	phb_wptr(&P, X + 0x40, L3);				/* only a free block -> L3 */
	phb_wptr(&P, sp0 + 0x70, L8 - L->unit);			/* a header address, not user data */
	phb_wptr(&P, Y->stk0 + 0x100, K);			/* below sp: still in the captured stack */
	phb_wptr(&P, Y->teb0 + 0x1480, T);			/* TEB TLS slot */
	phb_wptr(&P, P.mods[M_MYLIB].data + 0x10, lu[0] + 8);	/* module data -> LFH (interior) */
	phb_wptr(&P, C + 0x10, lu[3]);				/* C -> LFH block */
	phb_wptr(&P, PRIV + 0x40, lu[4]);			/* private -> LFH block */
	phb_wptr(&P, lu[5], L7);				/* a free LFH block -> L7 */
	phb_wptr(&P, sp0 + 0x10, H + 0x100);			/* the segment header block's data */
	phb_wptr(&P, sp0 + 0x08, code(&P, M_APP, 0x1a30));
	struct phb_regs r0 = { .sp = sp0, .pc = code(&P, M_APP, 0x2000) };
	struct phb_regs r1 = { .sp = sp1, .pc = code(&P, M_NTDLL, 0x9d3f4), .bx = B };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, base0, &r0);
	phb_thread(&P, 0x2c0, Y->teb1, Y->stk1, base1, &r1);
	phb_print_blocks(&P);
	fprintf(ex, "reach user=0x%llx via=stack\n", (unsigned long long)A);
	fprintf(ex, "reach user=0x%llx via=register\n", (unsigned long long)B);
	fprintf(ex, "reach user=0x%llx via=module\n", (unsigned long long)C);
	fprintf(ex, "reach user=0x%llx via=private\n", (unsigned long long)D);
	fprintf(ex, "reach user=0x%llx via=stack\n", (unsigned long long)E);
	fprintf(ex, "reach user=0x%llx via=chain\n", (unsigned long long)F);
	fprintf(ex, "reach user=0x%llx via=chain\n", (unsigned long long)G);
	fprintf(ex, "reach user=0x%llx via=chain,interior\n", (unsigned long long)V1);
	fprintf(ex, "reach user=0x%llx via=chain,interior\n", (unsigned long long)M2);
	fprintf(ex, "reach user=0x%llx via=interior\n", (unsigned long long)Hh);
	fprintf(ex, "reach user=0x%llx via=private\n", (unsigned long long)M5);
	fprintf(ex, "reach user=0x%llx via=chain,backwards,interior\n", (unsigned long long)M4);
	fprintf(ex, "reach user=0x%llx via=chain,backwards\n", (unsigned long long)M3);
	fprintf(ex, "reach user=0x%llx via=stack-below-sp\n", (unsigned long long)K);
	fprintf(ex, "reach user=0x%llx via=teb\n", (unsigned long long)T);
	fprintf(ex, "reach user=0x%llx via=module,interior\n", (unsigned long long)lu[0]);
	fprintf(ex, "reach user=0x%llx via=chain\n", (unsigned long long)lu[3]);
	fprintf(ex, "reach user=0x%llx via=private\n", (unsigned long long)lu[4]);
	phb_expect_leak(&P, L1);
	phb_expect_leak(&P, L2);
	phb_expect_leak(&P, L3);
	phb_expect_leak(&P, L4);
	phb_expect_leak(&P, L8);
	phb_expect_leak(&P, L7);
	phb_expect_leak(&P, lu[2]);
	phb_expect_leak(&P, lu[6]);
	phb_expect_leak(&P, V2);
	phb_expect_leak(&P, M1);
	phb_print_leaks(&P);
	return phb_finish(&P, dmp);
}


/* ------------------------------------------------ scenario 3: light DPH */

static int dph_light(const char *name, const struct phb_lay *L, const char *dmp, FILE *ex)
{
	struct phb_proc P;
	phb_begin(&P, L, false, 19045, ex, name);
	const struct layout *Y = lay_of(&P);
	common(&P, true);
	struct stacks S;
	std_stacks(&P, &S);
	uint64_t H = L->x64 ? 0x21CE0330000ull : 0x03D70000u, N = L->x64 ? 0x21CE0440000ull : 0x03E70000u;
	phb_peb(&P, Y->peb, H, FLG_HEAP_PAGE_ALLOCS, Y->heaps_array);
	struct phb_dph D;
	struct phb_nt n;
	/* the delayed free queue head (RtlpDphDelayedFreeQueue) in verifier's data */
	uint64_t queue = P.mods[M_VERIFIER].data + 0x80;
	phb_list_init(&P, queue);
	phb_dph_begin(&P, &D, H, N, 0x2, true, 0, 0);
	phb_nt_begin(&P, &n, N, 0x2, 0x10000, false);
	uint64_t a = phb_dph_light(&P, &D, &n, 0x20, S.a1, false, 0);
	uint64_t b = phb_dph_light(&P, &D, &n, 0x100, S.a2, false, 0);
	uint64_t f1 = phb_dph_light(&P, &D, &n, 0x40, S.f1, true, queue);
	phb_nt_free(&P, &n, 0x80, 0);
	uint64_t c = phb_dph_light(&P, &D, &n, 0x7, S.a3, false, 0);
	uint64_t f2 = phb_dph_light(&P, &D, &n, 0x123, S.f2, true, queue);
	uint64_t d = phb_dph_light(&P, &D, &n, 0x1000, S.a1, false, 0);
	/* three light blocks of one size in a row: NT blocks of one block
	 * size whose PreviousSize is that size, which a walk of a plain NT
	 * heap hands over as a back-end run (heap -a --json); a light page
	 * heap's go one by one, each as its page-heap view */
	uint64_t e[3];
	for (int i = 0; i < 3; i++)
		e[i] = phb_dph_light(&P, &D, &n, 0x30, S.a2, false, 0);
	phb_nt_end(&P, &n);
	phb_dph_end(&P, &D);
	struct phb_dph *list[1] = { &D };
	phb_dph_list(&P, P.mods[M_VERIFIER].data + 0x40, list, 1);
	fprintf(ex, "dph_free_queue head=0x%llx count=2\n", (unsigned long long)queue);
	uint64_t base0 = Y->stk0 + Y->stk0_size, base1 = Y->stk1 + Y->stk1_size;
	uint64_t sp0 = base0 - 0x1000, sp1 = base1 - 0x800;
	phb_wptr(&P, sp0 + 0x40, a);
	phb_wptr(&P, a + 8, c + 4);			/* interior, chain */
	phb_wptr(&P, f1 + 0x10, b);			/* only a delay-freed block -> b */
	phb_wptr(&P, P.mods[M_APP].data + 0x20, d);
	for (int i = 0; i < 3; i++)
		phb_wptr(&P, P.mods[M_APP].data + 0x28 + 8 * (uint64_t)i, e[i]);
	struct phb_regs r0 = { .sp = sp0, .pc = code(&P, M_APP, 0x2434) };
	struct phb_regs r1 = { .sp = sp1, .pc = code(&P, M_NTDLL, 0x9d3f4) };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, base0, &r0);
	phb_thread(&P, 0x2c0, Y->teb1, Y->stk1, base1, &r1);
	phb_ust_finish(&P);
	phb_print_blocks(&P);
	find(&P, a + 0x10, a);
	find(&P, f2 + 0x100, f2);
	find(&P, d + 0xFFF, d);
	phb_expect_leak(&P, b);
	phb_print_leaks(&P);
	return phb_finish(&P, dmp);
}

/* ------------------------------------------------- scenario 4: NT + ust */

static const struct phb_frame S_UST4[] = {
	{ M_NTDLL, 0x2a2b1 }, { M_NTDLL, 0x3f0e2 }, { M_KBASE, 0x2c1f }, { M_MYLIB, 0x3344 },
	{ M_APP, 0x1500 },
};

static int ust(const char *name, const struct phb_lay *L, const char *dmp, FILE *ex)
{
	struct phb_proc P;
	phb_begin(&P, L, false, 19045, ex, name);
	const struct layout *Y = lay_of(&P);
	common(&P, true);
	struct stacks S;
	std_stacks(&P, &S);
	int s4 = phb_stack(&P, S_UST4, NF(S_UST4));
	bool x64 = L->x64;
	uint64_t H = x64 ? 0x1E74A550000ull : 0x00A40000u, H2 = x64 ? 0x1E74A600000ull : 0x01230000u;
	phb_peb(&P, Y->peb, H, FLG_USER_STACK_TRACE_DB, Y->heaps_array);
	struct phb_nt n, n2;
	/* HEAP_CAPTURE_STACK_BACKTRACES 0x08000000 in the heap flags (❓) */
	phb_nt_begin(&P, &n, H, 0x08000002, 0x20000, true);
	uint64_t a = phb_nt_busy(&P, &n, 0x30, S.a1, 0x31);
	phb_nt_busy(&P, &n, 0x30, S.a1, 0x32);
	phb_nt_busy(&P, &n, 0x100, S.a2, 0x33);
	phb_nt_free(&P, &n, 0x60, 0);
	phb_nt_busy(&P, &n, 0x1234, S.a3, 0x34);
	phb_nt_busy(&P, &n, 0x30, S.a1, 0x35);
	phb_nt_busy(&P, &n, 0x58, s4, 0x36);
	phb_nt_busy(&P, &n, 0x8, s4, 0x37);
	phb_nt_virtual(&P, &n, x64 ? 0x1E74A700000ull : 0x05100000u, 0x30000, S.a2);
	phb_nt_end(&P, &n);
	/* a heap without +ust: its blocks carry no trace index */
	phb_nt_begin(&P, &n2, H2, 0x1002, 0x10000, false);
	phb_nt_busy(&P, &n2, 0x40, -1, 0x38);
	phb_nt_end(&P, &n2);
	uint64_t base0 = Y->stk0 + Y->stk0_size, base1 = Y->stk1 + Y->stk1_size;
	struct phb_regs r0 = { .sp = base0 - 0x1000, .pc = code(&P, M_APP, 0x2434), .bx = a };
	struct phb_regs r1 = { .sp = base1 - 0x800, .pc = code(&P, M_NTDLL, 0x9d3f4) };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, base0, &r0);
	phb_thread(&P, 0x2c0, Y->teb1, Y->stk1, base1, &r1);
	phb_ust_finish(&P);
	phb_print_blocks(&P);
	phb_print_by_stack(&P);
	find(&P, a + 0x2F, a);
	return phb_finish(&P, dmp);
}

/* ------------------------------------------- scenario 6: corrupt LFH */

static int triage_lfh(const char *name, const char *dmp, FILE *ex)
{
	struct phb_proc P;
	const struct phb_lay *L = &phb_x64;
	phb_begin(&P, L, false, 19045, ex, name);
	const struct layout *Y = &X64;
	common(&P, false);
	uint64_t H = 0x1E74A550000ull;
	phb_peb(&P, Y->peb, H, 0, Y->heaps_array);
	struct phb_nt n;
	phb_nt_begin(&P, &n, H, 0x2, 0x20000, false);
	phb_nt_busy(&P, &n, 0x40, -1, 0x11);
	static const uint64_t busy1[16] = { 0x28, 0x20, 0x18, 0, 0x20, 0x20, 0, 0x28,
					    0x10, 0x20, 0, 0x28, 0x18, 0, 0x20, 0x28 };
	uint64_t u1[16], u2[8];
	uint64_t ub1 = phb_nt_lfh(&P, &n, 0x30, 16, busy1, u1, true);
	phb_nt_busy(&P, &n, 0x80, -1, 0x12);
	static const uint64_t busy2[8] = { 0x70, 0, 0x60, 0x70, 0x68, 0, 0x50, 0x70 };
	uint64_t ub2 = phb_nt_lfh(&P, &n, 0x80, 8, busy2, u2, true);
	phb_nt_end(&P, &n);
	/* (1) block 2 of container 1: the bitmap says busy, UnusedBytes was
	 * zeroed (reads as free) */
	uint64_t c1 = u1[2] - L->unit;
	db_mem_write_u8(P.m, c1 + L->unit - 1, 0);
	/* (2) block 4 of container 1 overruns by 12 bytes into block 5's
	 * header: PreviousBlockPrivateData and the encoded dword are 0x41 */
	db_mem_fill(P.m, u1[4], 0x41, 0x20);
	uint64_t c2 = u1[5] - L->unit;
	db_mem_fill(P.m, c2, 0x41, 12);
	/* (3) block 1 of container 2 is free in the bitmap but its
	 * UnusedBytes says busy (0x80 | 0x10) */
	uint64_t c3 = u2[1] - L->unit;
	db_mem_write_u8(P.m, c3 + L->unit - 1, 0x90);
	for (unsigned i = 0; i < P.nblocks; i++) {
		struct phb_block *b = &P.blocks[i];
		if (b->header == c1 || b->header == c2 || b->header == c3)
			b->corrupt = true;
	}
	struct phb_regs r0 = { .sp = Y->stk0 + Y->stk0_size - 0x1000, .pc = code(&P, M_APP, 0x2434) };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, Y->stk0 + Y->stk0_size, &r0);
	phb_print_blocks(&P);
	fprintf(ex, "lfh_key 0x%x\n", RTLP_LFH_KEY);
	fprintf(ex, "userblocks 0x%llx stride=0x30 count=16 heap=0x%llx\n", (unsigned long long)ub1,
		(unsigned long long)H);
	fprintf(ex, "userblocks 0x%llx stride=0x80 count=8 heap=0x%llx\n", (unsigned long long)ub2,
		(unsigned long long)H);
	fprintf(ex, "triage heap=0x%llx block=0x%llx user=0x%llx finding=bitmap-busy-unusedbytes-free\n",
		(unsigned long long)H, (unsigned long long)c1, (unsigned long long)u1[2]);
	fprintf(ex, "triage heap=0x%llx block=0x%llx user=0x%llx finding=bad-encoded-header\n",
		(unsigned long long)H, (unsigned long long)c2, (unsigned long long)u1[5]);
	fprintf(ex, "triage heap=0x%llx block=0x%llx user=0x%llx finding=bitmap-free-unusedbytes-busy\n",
		(unsigned long long)H, (unsigned long long)c3, (unsigned long long)u2[1]);
	fprintf(ex, "triage findings=3\n");
	return phb_finish(&P, dmp);
}

/* -------------------------------------- scenario 7: heap failure record */

static const struct phb_frame S_FAIL[] = {
	{ M_NTDLL, 0xa3f0 }, { M_NTDLL, 0x3c1e2 }, { M_NTDLL, 0x1fda6 }, { M_KBASE, 0x1f00 },
	{ M_MYLIB, 0x85ce }, { M_APP, 0x1d00 },
};

static int failure(const char *name, const char *dmp, FILE *ex)
{
	struct phb_proc P;
	const struct phb_lay *L = &phb_x64;
	phb_begin(&P, L, false, 19045, ex, name);
	const struct layout *Y = &X64;
	common(&P, false);
	int sf = phb_stack(&P, S_FAIL, NF(S_FAIL));
	uint64_t H = 0x1E74A550000ull, H2 = 0x1E74A600000ull;
	phb_peb(&P, Y->peb, H, 0, Y->heaps_array);
	struct phb_nt n, n2;
	phb_nt_begin(&P, &n, H, 0x2, 0x10000, false);
	phb_nt_begin(&P, &n2, H2, 0x1002, 0x10000, false);
	phb_nt_busy(&P, &n2, 0x40, -1, 0x21);
	phb_nt_end(&P, &n2);
	phb_nt_busy(&P, &n, 0x40, -1, 0x11);
	uint64_t prev = n.cur;
	phb_nt_busy(&P, &n, 0x70, -1, 0x12);
	uint64_t bad = n.cur;
	phb_nt_busy_corrupt(&P, &n, 0x50, 0x13);
	uint64_t next = n.cur;
	phb_nt_busy(&P, &n, 0x30, -1, 0x14);
	phb_nt_end(&P, &n);
	/* RtlpHeapFailureInfo in ntdll's data (selene _HEAP_FAILURE_INFORMATION,
	 * 2004+ column) */
	uint64_t R = P.mods[M_NTDLL].data + 0x400;
	db_mem_write_u32(P.m, R + 0x0, 1);		/* Version (❓) */
	db_mem_write_u32(P.m, R + 0x4, 0x6D0);		/* StructureSize = sizeof */
	db_mem_write_u32(P.m, R + 0x8, 3);		/* heap_failure_entry_corruption */
	db_mem_write_u64(P.m, R + 0x10, H);		/* HeapAddress */
	db_mem_write_u64(P.m, R + 0x18, bad);		/* Address */
	db_mem_write_u64(P.m, R + 0x38, prev);		/* PreviousBlock */
	db_mem_write_u64(P.m, R + 0x40, next);		/* NextBlock */
	for (unsigned i = 0; i < NF(S_FAIL); i++)
		db_mem_write_u64(P.m, R + 0x58 + 8 * i, P.mods[S_FAIL[i].mod].base + S_FAIL[i].off);
	db_mem_write_u32(P.m, R + 0x160, 0xC0000374u);	/* ExceptionRecord.ExceptionCode */
	struct phb_regs r0 = { .sp = Y->stk0 + Y->stk0_size - 0x1000,
		.pc = code(&P, M_NTDLL, S_FAIL[0].off) };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, Y->stk0 + Y->stk0_size, &r0);
	/* the WER-style exception: STATUS_HEAP_CORRUPTION with the record's
	 * address as its parameter (RtlReportCriticalFailure(0xC0000374,
	 * &RtlpHeapFailureInfo)) */
	struct db_md_exception e = { .thread_id = 0x1a4, .code = 0xC0000374u,
		.address = code(&P, M_NTDLL, S_FAIL[0].off), .number_parameters = 1,
		.information = { R } };
	db_md_set_exception(P.md, &e);
	phb_print_blocks(&P);
	fprintf(ex, "exception code=0xc0000374 address=0x%llx param0=0x%llx\n",
		(unsigned long long)e.address, (unsigned long long)R);
	fprintf(ex, "failure record=0x%llx version=1 size=0x6d0 type=3 type_name=heap_failure_entry_corruption heap=0x%llx address=0x%llx previous=0x%llx next=0x%llx stack=%d\n",
		(unsigned long long)R, (unsigned long long)H, (unsigned long long)bad,
		(unsigned long long)prev, (unsigned long long)next, sf);
	fprintf(ex, "corrupt 0x%llx\n", (unsigned long long)bad);
	return phb_finish(&P, dmp);
}

/* ------------------------------------------ scenario 8: heap diff pair */

struct dspec { uint64_t size; int stack; unsigned old_n, new_n; };
static const struct phb_frame S_DIFF4[] = {
	{ M_NTDLL, 0x3825b }, { M_MYLIB, 0x9a10 }, { M_APP, 0x1700 },
};
/* stack ids: 0..4 = std_stacks, 5 = S_DIFF4 */
static const struct dspec DIFF[] = {
	{ 0x20, 0, 5, 50 }, { 0x100, 1, 2, 2 }, { 0x40, 2, 3, 1 }, { 0x300, 5, 0, 4 },
	{ 0x20, 1, 1, 1 }, { 0x1000, 0, 1, 3 },
};

static int diff(const char *name, bool is_new, const char *dmp, FILE *ex)
{
	struct phb_proc P;
	const struct phb_lay *L = &phb_x64;
	phb_begin(&P, L, false, 19045, ex, name);
	const struct layout *Y = &X64;
	common(&P, true);
	struct stacks S;
	std_stacks(&P, &S);
	phb_stack(&P, S_DIFF4, NF(S_DIFF4));
	uint64_t H = 0x1E74A550000ull;
	phb_peb(&P, Y->peb, H, FLG_USER_STACK_TRACE_DB, Y->heaps_array);
	struct phb_nt n;
	phb_nt_begin(&P, &n, H, 0x08000002, 0x40000, true);
	unsigned nspec = (unsigned)(sizeof DIFF / sizeof DIFF[0]);
	for (unsigned k = 0; k < nspec; k++) {
		unsigned cnt = is_new ? DIFF[k].new_n : DIFF[k].old_n;
		for (unsigned i = 0; i < cnt; i++) {
			phb_nt_busy(&P, &n, DIFF[k].size, DIFF[k].stack, (uint8_t)(0x30 + k));
			if (i % 4 == 3)
				phb_nt_free(&P, &n, 0x40, 0);
		}
	}
	phb_nt_end(&P, &n);
	struct phb_regs r0 = { .sp = Y->stk0 + Y->stk0_size - 0x1000, .pc = code(&P, M_APP, 0x2434) };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, Y->stk0 + Y->stk0_size, &r0);
	phb_ust_finish(&P);
	phb_print_blocks(&P);
	phb_print_by_stack(&P);
	/* diff rows (in both files): per requested size, then per stack,
	 * over busy non-meta blocks; sorted by bytes grown (descending), then
	 * size / stack ascending */
	struct row { uint64_t key, oc, ob, nc, nb; } rows[16];
	for (int pass = 0; pass < 2; pass++) {
		unsigned nr = 0;
		for (unsigned k = 0; k < nspec; k++) {
			uint64_t key = pass == 0 ? DIFF[k].size : (uint64_t)DIFF[k].stack;
			unsigned r = 0;
			while (r < nr && rows[r].key != key)
				r++;
			if (r == nr)
				rows[nr++] = (struct row){ key, 0, 0, 0, 0 };
			rows[r].oc += DIFF[k].old_n;
			rows[r].ob += DIFF[k].old_n * DIFF[k].size;
			rows[r].nc += DIFF[k].new_n;
			rows[r].nb += DIFF[k].new_n * DIFF[k].size;
		}
		for (unsigned i = 0; i < nr; i++)
			for (unsigned j = i + 1; j < nr; j++) {
				int64_t gi = (int64_t)(rows[i].nb - rows[i].ob), gj = (int64_t)(rows[j].nb - rows[j].ob);
				if (gj > gi || (gj == gi && rows[j].key < rows[i].key)) {
					struct row t = rows[i];
					rows[i] = rows[j];
					rows[j] = t;
				}
			}
		for (unsigned i = 0; i < nr; i++)
			fprintf(ex, "%s %s=%s%llx old_count=%llu old_bytes=%llu new_count=%llu new_bytes=%llu grow_count=%lld grow_bytes=%lld\n",
				pass == 0 ? "diff_size" : "diff_stack", pass == 0 ? "size" : "stack",
				pass == 0 ? "0x" : "", (unsigned long long)rows[i].key,
				(unsigned long long)rows[i].oc, (unsigned long long)rows[i].ob,
				(unsigned long long)rows[i].nc, (unsigned long long)rows[i].nb,
				(long long)(rows[i].nc - rows[i].oc), (long long)(rows[i].nb - rows[i].ob));
	}
	return phb_finish(&P, dmp);
}

int phb_build(const char *name, const char *dmp, const char *expect)
{
	FILE *ex = fopen(expect, "w");
	if (!ex) {
		perror(expect);
		return -1;
	}
	int rc;
	if (!strcmp(name, "dph-x64"))
		rc = dph_full(name, &phb_x64, false, dmp, ex);
	else if (!strcmp(name, "dph-x86"))
		rc = dph_full(name, &phb_x86, false, dmp, ex);
	else if (!strcmp(name, "dph-wow64"))
		rc = dph_full(name, &phb_x86, true, dmp, ex);
	else if (!strcmp(name, "leak-x64"))
		rc = leak_x64(name, dmp, ex);
	else if (!strcmp(name, "dph-light-x64"))
		rc = dph_light(name, &phb_x64, dmp, ex);
	else if (!strcmp(name, "dph-light-x86"))
		rc = dph_light(name, &phb_x86, dmp, ex);
	else if (!strcmp(name, "ust-x64"))
		rc = ust(name, &phb_x64, dmp, ex);
	else if (!strcmp(name, "ust-x86"))
		rc = ust(name, &phb_x86, dmp, ex);
	else if (!strcmp(name, "triage-lfh-x64"))
		rc = triage_lfh(name, dmp, ex);
	else if (!strcmp(name, "failure-x64"))
		rc = failure(name, dmp, ex);
	else if (!strcmp(name, "diff-old-x64"))
		rc = diff(name, false, dmp, ex);
	else if (!strcmp(name, "diff-new-x64"))
		rc = diff(name, true, dmp, ex);
	else {
		fprintf(stderr, "mkpageheapdump: unknown scenario %s\n", name);
		rc = -1;
	}
	if (fclose(ex) != 0 && rc == 0)
		rc = -1;
	return rc;
}

/* ------------------------------------------------ scenario 9: big (bench) */

/* Entry j of the big heap: free (0x40 bytes) when j % 8 == 7, else busy
 * with requested size BIG_REQ[j % 6]; busy blocks are numbered b = 0, 1, …
 * and form chains of 16 (block b's first qword points to block b+1, at
 * its user address + 8 when b % 3 == 0); chain c (= b / 16) is reachable
 * from the roots table iff c % 10 != 0. */
static const uint64_t BIG_REQ[6] = { 0x18, 0x48, 0x88, 0xC8, 0x108, 0x148 };
#define BIG_HEAP 0x20000000000ull
#define BIG_ROOTS 0x1F000000000ull

struct big {
	uint64_t seg, blocks, nbusy, nfree, busy_bytes, free_bytes, leaked, leaked_bytes, end;
	uint64_t key;
};

static uint64_t big_bsize(uint64_t j, bool *busy, uint64_t *req)
{
	*busy = j % 8 != 7;
	*req = *busy ? BIG_REQ[j % 6] : 0;
	return *busy ? phb_up(*req + 16, 16) : 0x40;
}

static int big_post(struct phb_proc *P, const char *dmp)
{
	struct big *B = P->post_arg;
	int ri = -1;
	for (unsigned i = 0; i < P->nregions; i++)
		if (P->regions[i].base == BIG_HEAP)
			ri = P->regions[i].index;
	uint64_t off0 = db_md_range_rva(P->md, (size_t)ri, DB_LIST_64);
	FILE *f = fopen(dmp, "r+b");
	if (!f || ri < 0 || off0 == UINT64_MAX) {
		fprintf(stderr, "mkpageheapdump: big: cannot reopen %s\n", dmp);
		if (f)
			fclose(f);
		return -1;
	}
	const size_t CH = 1u << 20;
	uint8_t *buf = malloc(CH + 0x10000);
	if (!buf)
		abort();
	uint64_t e = BIG_HEAP + 0x800, b = 0, lcg = 0x853C49E6748FEA9Bull;
	size_t fill = 0;
	uint16_t prev = 0x80;
	if (fseeko(f, (off_t)(off0 + 0x800), SEEK_SET) != 0)
		abort();
	/* the blocks, then free blocks of at most 0xFF000 bytes up to the
	 * segment end (an NT block's Size is 16 bits of units) */
	uint64_t seg_end = BIG_HEAP + B->seg;
	for (uint64_t j = 0; e < seg_end; j++) {
		bool busy;
		uint64_t req, bs;
		bool tail = j >= B->blocks;
		if (!tail) {
			bs = big_bsize(j, &busy, &req);
		} else {
			busy = false;
			req = 0;
			bs = seg_end - e < 0xFF000 ? seg_end - e : 0xFF000;
		}
		uint8_t *p = buf + fill;
		size_t n = (size_t)(tail ? 16 : bs);
		memset(p, 0, n);
		uint8_t h[8];
		uint16_t units = (uint16_t)(bs / 16);
		h[0] = (uint8_t)units;
		h[1] = (uint8_t)(units >> 8);
		h[2] = busy ? 1 : 0;
		h[3] = (uint8_t)(h[0] ^ h[1] ^ h[2]);
		h[4] = (uint8_t)prev;
		h[5] = (uint8_t)(prev >> 8);
		h[6] = 0;
		h[7] = (uint8_t)(busy ? bs - req : 0);
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = (v << 8) | h[k];
		v ^= B->key;
		memcpy(p + 8, &v, 8);	/* little-endian host (as db_big.c) */
		if (busy) {
			for (uint64_t q = 16; q + 8 <= 16 + req; q += 8) {
				lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
				uint64_t w = (lcg >> 8) | 0x5A00000000000000ull;
				memcpy(p + q, &w, 8);
			}
			bool last_busy = b + 1 >= B->nbusy;
			if (b % 16 != 15 && !last_busy) {
				bool nb;
				uint64_t nreq, nbs = big_bsize(j + 1, &nb, &nreq);
				uint64_t nxt = e + bs + (nb ? 0 : nbs);
				uint64_t target = nxt + 16 + (b % 3 == 0 ? 8 : 0);
				memcpy(p + 16, &target, 8);
			}
			b++;
		}
		prev = (uint16_t)(bs / 16);
		fill += n;
		if (tail || fill >= CH) {
			if (fwrite(buf, 1, fill, f) != fill)
				abort();
			fill = 0;
		}
		e += bs;
		if (tail && fseeko(f, (off_t)(off0 + (e - BIG_HEAP)), SEEK_SET) != 0)
			abort();
	}
	if (fill && fwrite(buf, 1, fill, f) != fill)
		abort();
	free(buf);
	return fclose(f) ? -1 : 0;
}

int phb_build_big(uint64_t bytes, uint64_t blocks, const char *dmp, const char *expect)
{
	struct big B = { .blocks = blocks };
	uint64_t len = 0x800;
	for (uint64_t j = 0; j < blocks; j++) {
		bool busy;
		uint64_t req, bs = big_bsize(j, &busy, &req);
		len += bs;
		if (busy) {
			B.nbusy++;
			B.busy_bytes += req;
		} else {
			B.nfree++;
			B.free_bytes += bs;
		}
	}
	B.seg = phb_up(bytes > len + 0x1000 ? bytes : len + 0x1000, 0x10000);
	B.end = BIG_HEAP + len;
	uint64_t nchains = (B.nbusy + 15) / 16;
	for (uint64_t c = 0; c < nchains; c += 10) {
		/* chain c is leaked: its blocks b = 16c .. min(16c+15, nbusy-1) */
		uint64_t first = c * 16, last = first + 16 > B.nbusy ? B.nbusy : first + 16;
		B.leaked += last - first;
	}
	FILE *ex = fopen(expect, "w");
	if (!ex) {
		perror(expect);
		return -1;
	}
	static struct phb_proc P;
	phb_begin(&P, &phb_x64, false, 19045, ex, "big");
	const struct layout *Y = &X64;
	common(&P, false);
	phb_peb(&P, Y->peb, BIG_HEAP, 0, Y->heaps_array);
	struct phb_nt N;
	phb_nt_begin(&P, &N, BIG_HEAP, 0x2, B.seg, false);
	B.key = N.key;
	/* roots: one pointer per reachable chain (its first block's user
	 * address); a leaked chain's slot holds a non-pointer */
	uint64_t rsize = phb_up(nchains * 8, 0x1000);
	phb_private(&P, BIG_ROOTS, rsize);
	uint64_t e = BIG_HEAP + 0x800, b = 0, leaked_bytes = 0;
	fprintf(ex, "big heap=0x%llx segment_size=0x%llx entries=%llu busy=%llu free=%llu busy_bytes=%llu free_bytes=%llu chains=%llu leaked=%llu roots=0x%llx\n",
		(unsigned long long)BIG_HEAP, (unsigned long long)B.seg, (unsigned long long)blocks,
		(unsigned long long)B.nbusy, (unsigned long long)B.nfree,
		(unsigned long long)B.busy_bytes, (unsigned long long)B.free_bytes,
		(unsigned long long)nchains, (unsigned long long)B.leaked,
		(unsigned long long)BIG_ROOTS);
	unsigned printed = 0;
	for (uint64_t j = 0; j < blocks; j++) {
		bool busy;
		uint64_t req, bs = big_bsize(j, &busy, &req);
		if (j < 16)
			fprintf(ex, "block header=0x%llx user=0x%llx size=%llu block_size=%llu state=%s layer=backend heap=0x%llx\n",
				(unsigned long long)e, (unsigned long long)(e + 16),
				(unsigned long long)req, (unsigned long long)bs, busy ? "busy" : "free",
				(unsigned long long)BIG_HEAP);
		if (busy) {
			uint64_t c = b / 16;
			if (b % 16 == 0)
				db_mem_write_u64(P.m, BIG_ROOTS + c * 8,
						 c % 10 ? e + 16 : 0x5A5A5A5A00000000ull | c);
			if (c % 10 == 0) {
				leaked_bytes += req;
				if (printed < 64) {
					fprintf(ex, "leak user=0x%llx size=%llu heap=0x%llx layer=backend\n",
						(unsigned long long)(e + 16), (unsigned long long)req,
						(unsigned long long)BIG_HEAP);
					printed++;
				}
			}
			b++;
		}
		e += bs;
	}
	fprintf(ex, "leaks count=%llu bytes=%llu listed=%u\n", (unsigned long long)B.leaked,
		(unsigned long long)leaked_bytes, printed);
	uint64_t base0 = Y->stk0 + Y->stk0_size;
	struct phb_regs r0 = { .sp = base0 - 0x1000, .pc = code(&P, M_APP, 0x2434) };
	phb_thread(&P, 0x1a4, Y->teb0, Y->stk0, base0, &r0);
	P.post = big_post;
	P.post_arg = &B;
	int rc = phb_finish(&P, dmp);
	if (fclose(ex) != 0)
		rc = -1;
	return rc;
}
