/* SPDX-License-Identifier: MIT */
/*
 * The crash record: what the dump says killed the process (the minidump
 * exception stream) or the system (the kernel dump's bug check), where
 * (module+offset from the dump's module list), and the crashing thread's
 * stack, recovered without symbols.
 *
 * Stack recovery, in the order minidump-stackwalk (rust-minidump) and
 * Breakpad's stackwalker try it and with the same trust words:
 *   context  frame 0, the instruction pointer of the exception context;
 *   cfi      x64 only: the caller found by virtually unwinding the frame
 *            with the module's RUNTIME_FUNCTION (.pdata) and UNWIND_INFO,
 *            when that part of the image is in the dump (full-memory
 *            dumps); format and algorithm from Microsoft's "x64 exception
 *            handling" (learn.microsoft.com/cpp/build/exception-handling-x64);
 *            A crash inside an epilog is unwound by simulating the rest of
 *            the epilog from the bytes at RIP (same document, "Unwind
 *            procedure"; the only legal epilog forms are listed in
 *            learn.microsoft.com/cpp/build/prolog-and-epilog: `add rsp,N`
 *            or `lea rsp,N[FPReg]`, 8-byte pops, then `ret` or a `jmp`);
 *   frame-pointer  x86 only: the saved EBP chain ([ebp] = the caller's
 *            EBP, [ebp+4] = the return address), the stack walk x86
 *            debuggers use when there is no FPO data (Breakpad's
 *            stackwalker_x86.cc "frame pointer" trust), each link checked:
 *            EBP inside the captured stack, above the current ESP and
 *            increasing, the return address inside a module's code;
 *   scan     otherwise the next stack word, upwards from the stack pointer,
 *            that points into a module's code (past its PE headers).
 *   frame-pointer  ARM64 only: the caller read from the frame record
 *            chain.  Windows ARM64 code keeps x29 (Fp) pointing at the
 *            innermost {saved Fp, saved Lr} pair (Microsoft, "Overview of
 *            ARM64 ABI conventions": the frame pointer "must point to the
 *            previous {x29, x30} pair on the stack"; AAPCS64 section 6.2.3
 *            "The Frame Pointer"), so the caller's pc is [Fp+8], its Fp
 *            [Fp] and its Sp Fp+16.  Like rust-minidump's frame-pointer
 *            unwinder (minidump-unwind/src/arm64.rs) every frame is taken
 *            for a normal (non-leaf) one: a leaf function that saved no
 *            frame record makes the walk skip its caller, not go wrong.
 *            ARM64 .pdata (packed/xdata unwind codes) is not interpreted.
 * Scanned frames can be false positives (a stale return address or a
 * function pointer left on the stack); the label says so.
 *
 * Thread context layouts: CONTEXT for AMD64 and x86 as Breakpad documents
 * them (google/breakpad src/google_breakpad/common/minidump_cpu_amd64.h,
 * minidump_cpu_x86.h): AMD64 ContextFlags 0x30 (CONTEXT_AMD64 0x00100000),
 * Rax..R15 from 0x78 in register-number order, Rip 0xf8; x86 ContextFlags
 * 0 (CONTEXT_i386 0x00010000), Ebp 0xb4, Eip 0xb8, Esp 0xc4.  ARM64:
 * winnt.h ARM64_NT_CONTEXT (learn.microsoft.com/windows/win32/api/winnt/
 * ns-winnt-arm64_nt_context), 0x390 bytes, as Breakpad's MDRawContextARM64
 * (src/google_breakpad/common/minidump_cpu_arm64.h) lays it out:
 * ContextFlags 0 (CONTEXT_ARM64 0x00400000), Cpsr 4, X0..X28 from 8, Fp
 * 0xf0, Lr 0xf8, Sp 0x100, Pc 0x108, V[32] from 0x110.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/addrspace.h>
#include <icpheap/kdump.h>
#include <icpheap/minidump.h>
#include <icpheap/triage.h>

#include "core/endian.h"

#define SCAN_MAX_WORDS 16384	/* 128 KiB of stack on x64 */
#define MAX_RUNTIME_FUNCTIONS (1u << 22)
#define MAX_CHAIN 32
#define PE_HEADERS 0x1000	/* return addresses are never in the headers page */

/* ARM64_NT_CONTEXT (see above) */
#define ARM64_CONTEXT_FLAG 0x00400000u
#define ARM64_CTX_CPSR 0x4
#define ARM64_CTX_FP 0xf0
#define ARM64_CTX_LR 0xf8
#define ARM64_CTX_SP 0x100
#define ARM64_CTX_PC 0x108
#define ARM64_CTX_MIN 0x110	/* through Pc; V[] and the debug registers are not read */

struct mod {
	uint64_t base, end;
	const char *name;		/* base name, inside the minidump's strings */
	/* .pdata, found on first use */
	bool pdata_tried, pdata_ok;
	uint32_t pdata_rva, pdata_count;
};

struct walker {
	struct ich_as *as;
	unsigned ptr;			/* 4 or 8 */
	struct mod *mods;		/* sorted by base */
	size_t nmods;
	uint64_t stack_lo, stack_hi;	/* captured stack of the thread */
	bool arm64;			/* the dump is ARM64: ARM64_NT_CONTEXT */
};

static const char *base_name(const char *p)
{
	if (!p)
		return "?";
	const char *s = strrchr(p, '\\');
	const char *t = strrchr(p, '/');
	if (t > s)
		s = t;
	return s ? s + 1 : p;
}

static int cmp_mod(const void *a, const void *b)
{
	const struct mod *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

/* The module holding addr, by binary search (modules do not overlap; a
 * dump that says they do gets the lower one). */
static struct mod *find_mod(struct walker *w, uint64_t addr)
{
	size_t lo = 0, hi = w->nmods;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->mods[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct mod *m = &w->mods[lo - 1];
	return addr < m->end ? m : NULL;
}

static bool rd32(struct walker *w, uint64_t a, uint32_t *v)
{
	uint8_t b[4];
	struct ich_read_result r;
	if (ich_as_read(w->as, a, b, 4, &r) != 4)
		return false;
	*v = ich_le32(b);
	return true;
}

static bool rdptr(struct walker *w, uint64_t a, uint64_t *v)
{
	uint8_t b[8];
	struct ich_read_result r;
	if (ich_as_read(w->as, a, b, w->ptr, &r) != w->ptr)
		return false;
	*v = w->ptr == 8 ? ich_le64(b) : ich_le32(b);
	return true;
}

static void set_frame(struct walker *w, struct ich_frame *f, uint64_t pc, uint64_t sp,
		      enum ich_frame_trust trust)
{
	memset(f, 0, sizeof(*f));
	f->pc = pc;
	f->sp = sp;
	f->trust = trust;
	struct mod *m = find_mod(w, pc);
	if (m) {
		f->has_module = true;
		snprintf(f->module, sizeof(f->module), "%s", m->name);
		f->offset = pc - m->base;
	}
}

/* Find the module's exception directory (PE32+ optional header,
 * DataDirectory[IMAGE_DIRECTORY_ENTRY_EXCEPTION = 3]); PE/COFF spec,
 * learn.microsoft.com/windows/win32/debug/pe-format. */
static bool find_pdata(struct walker *w, struct mod *m)
{
	if (m->pdata_tried)
		return m->pdata_ok;
	m->pdata_tried = true;
	uint32_t v, lfanew, rva, size;
	if (!rd32(w, m->base, &v) || (v & 0xffff) != 0x5a4d)		/* "MZ" */
		return false;
	if (!rd32(w, m->base + 0x3c, &lfanew) || lfanew > 0x1000)
		return false;
	if (!rd32(w, m->base + lfanew, &v) || v != 0x00004550)		/* "PE\0\0" */
		return false;
	uint64_t opt = m->base + lfanew + 24;
	uint32_t ndirs;
	if (!rd32(w, opt, &v) || (v & 0xffff) != 0x20b)		/* PE32+ */
		return false;
	if (!rd32(w, opt + 108, &ndirs) || ndirs < 4)
		return false;
	if (!rd32(w, opt + 112 + 3 * 8, &rva) || !rd32(w, opt + 112 + 3 * 8 + 4, &size))
		return false;
	if (!rva || !size || size % 12 || size / 12 > MAX_RUNTIME_FUNCTIONS ||
	    (uint64_t)rva + size > m->end - m->base)
		return false;
	m->pdata_rva = rva;
	m->pdata_count = size / 12;
	m->pdata_ok = true;
	return true;
}

/* RUNTIME_FUNCTION {BeginAddress, EndAddress, UnwindData} holding rva. */
static bool lookup_function(struct walker *w, struct mod *m, uint32_t rva,
			    uint32_t *begin, uint32_t *end, uint32_t *unwind)
{
	uint32_t lo = 0, hi = m->pdata_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t e = m->base + m->pdata_rva + (uint64_t)mid * 12;
		uint32_t b, en, u;
		if (!rd32(w, e, &b) || !rd32(w, e + 4, &en) || !rd32(w, e + 8, &u))
			return false;
		if (rva < b)
			hi = mid;
		else if (rva >= en)
			lo = mid + 1;
		else {
			*begin = b;
			*end = en;
			*unwind = u;
			return true;
		}
	}
	return false;
}

/*
 * Is RIP inside an epilog?  The code stream from RIP on must match the
 * trailing part of a legal epilog (learn.microsoft.com/cpp/build/
 * prolog-and-epilog, "Epilog code"): optionally `add rsp,imm8/imm32`
 * (REX.W 83 /0, REX.W 81 /0) or `lea rsp,disp[FPReg]` (REX.W 8D, mod 01/10,
 * reg 100) when the function has a frame register, then zero or more
 * 8-byte pops (58+r, REX.B 41 58+r), then `ret` (C3, F3 C3) or a jmp:
 * E9/EB to outside the function (a tail call) or FF /4 with mod 00.  When
 * it matches, the rest of the epilog is simulated into regs and rip (the
 * "Unwind procedure" of learn.microsoft.com/cpp/build/
 * exception-handling-x64): returns true.  Encodings: Intel SDM vol. 2.
 */
#define EPILOG_MAX_BYTES 64

static bool unwind_epilog(struct walker *w, struct mod *m, uint32_t begin, uint32_t end,
			  uint8_t frame_reg, uint64_t regs[16], uint64_t *rip)
{
	uint8_t code[EPILOG_MAX_BYTES];
	struct ich_read_result rr;
	size_t n = ich_as_read(w->as, *rip, code, sizeof(code), &rr);
	if (n < 1)
		return false;
	uint64_t r[16];
	memcpy(r, regs, sizeof(r));
	size_t i = 0;
	/* add rsp, imm / lea rsp, disp[FPReg] */
	if (i + 4 <= n && (code[i] & 0xf8) == 0x48 && code[i + 1] == 0x83 && code[i + 2] == 0xc4) {
		r[4] += (uint64_t)(int64_t)(int8_t)code[i + 3];
		i += 4;
	} else if (i + 7 <= n && (code[i] & 0xf8) == 0x48 && code[i + 1] == 0x81 && code[i + 2] == 0xc4) {
		r[4] += (uint64_t)(int64_t)(int32_t)ich_le32(code + i + 3);
		i += 7;
	} else if (i + 3 <= n && frame_reg && (code[i] & 0xfa) == 0x48 && code[i + 1] == 0x8d &&
		   ((code[i + 2] >> 3) & 7) == 4 && (code[i + 2] & 7) != 4 &&
		   ((code[i + 2] >> 6) == 1 || (code[i + 2] >> 6) == 2)) {
		uint8_t mod = code[i + 2] >> 6;
		unsigned reg = (code[i + 2] & 7) | ((code[i] & 1) ? 8u : 0u);
		if (reg != frame_reg)
			return false;
		size_t len = mod == 1 ? 4 : 7;
		if (i + len > n)
			return false;
		int64_t disp = mod == 1 ? (int8_t)code[i + 3] : (int32_t)ich_le32(code + i + 3);
		r[4] = r[reg] + (uint64_t)disp;
		i += len;
	}
	/* pops */
	for (unsigned k = 0; k < 16; k++) {
		unsigned reg;
		if (i < n && code[i] >= 0x58 && code[i] <= 0x5f) {
			reg = code[i] - 0x58u;
			i += 1;
		} else if (i + 2 <= n && code[i] == 0x41 && code[i + 1] >= 0x58 && code[i + 1] <= 0x5f) {
			reg = code[i + 1] - 0x58u + 8;
			i += 2;
		} else {
			break;
		}
		uint64_t v;
		if (!rdptr(w, r[4], &v))
			return false;
		r[reg] = v;
		r[4] += 8;
	}
	/* ret / jmp */
	bool done = false;
	if (i < n && code[i] == 0xc3)
		done = true;
	else if (i + 2 <= n && code[i] == 0xf3 && code[i + 1] == 0xc3)
		done = true;
	else if (i + 5 <= n && code[i] == 0xe9) {
		uint64_t t = *rip + i + 5 + (uint64_t)(int64_t)(int32_t)ich_le32(code + i + 1);
		done = t < m->base + begin || t >= m->base + end;
	} else if (i + 2 <= n && code[i] == 0xeb) {
		uint64_t t = *rip + i + 2 + (uint64_t)(int64_t)(int8_t)code[i + 1];
		done = t < m->base + begin || t >= m->base + end;
	} else {
		size_t j = i + ((i < n && (code[i] & 0xf0) == 0x40) ? 1 : 0);	/* REX */
		done = j + 2 <= n && code[j] == 0xff && (code[j + 1] >> 6) == 0 &&
		       ((code[j + 1] >> 3) & 7) == 4;
	}
	if (!done)
		return false;
	uint64_t ret;
	if (!rdptr(w, r[4], &ret))
		return false;
	r[4] += 8;
	memcpy(regs, r, sizeof(r));
	*rip = ret;
	return true;
}

/*
 * Virtually unwind one x64 frame: regs[16] (RAX..R15 numbering) and *rip
 * become the caller's.  Returns false when the unwind data cannot be read
 * or makes no sense; the caller then scans.
 */
static bool unwind_x64(struct walker *w, uint64_t regs[16], uint64_t *rip)
{
	struct mod *m = find_mod(w, *rip);
	if (!m || !find_pdata(w, m))
		return false;
	uint32_t rva = (uint32_t)(*rip - m->base), begin, end, unwind;
	if (!lookup_function(w, m, rva, &begin, &end, &unwind)) {
		/* A leaf function has no entry: the return address is at RSP. */
		uint64_t ret;
		if (!rdptr(w, regs[4], &ret))
			return false;
		regs[4] += 8;
		*rip = ret;
		return true;
	}
	uint32_t in_func = rva - begin;
	bool primary = true;
	/* Past the prolog, RIP may be in an epilog: then the unwind codes do
	 * not describe the state (part of the frame is already gone). */
	{
		uint32_t head;
		if ((uint64_t)(unwind & ~1u) + 4 <= m->end - m->base &&
		    rd32(w, m->base + (unwind & ~1u), &head)) {
			uint8_t prolog = (head >> 8) & 0xff, freg = (head >> 24) & 0xf;
			if (in_func >= prolog && unwind_epilog(w, m, begin, end, freg, regs, rip))
				return true;
		}
	}
	for (int depth = 0; depth < MAX_CHAIN; depth++) {
		uint64_t ui = m->base + (unwind & ~1u);
		uint32_t head;
		if ((uint64_t)(unwind & ~1u) + 4 > m->end - m->base || !rd32(w, ui, &head))
			return false;
		uint8_t ver = head & 7, flags = (head >> 3) & 0x1f;
		uint8_t ncodes = (head >> 16) & 0xff;
		uint8_t freg = (head >> 24) & 0xf, foff = (head >> 28) & 0xf;
		if (ver != 1 && ver != 2)
			return false;
		for (unsigned i = 0; i < ncodes;) {
			uint32_t slot;
			if (!rd32(w, ui + 4 + 2 * i, &slot))
				return false;
			uint8_t code_off = slot & 0xff, op = (slot >> 8) & 0xf, info = (slot >> 12) & 0xf;
			/* Operations of a prolog not yet executed are skipped. */
			bool applies = !primary || code_off <= in_func;
			unsigned used = 1;
			uint32_t arg = 0;
			uint64_t v;
			switch (op) {
			case 0:	/* UWOP_PUSH_NONVOL */
				if (applies) {
					if (!rdptr(w, regs[4], &v))
						return false;
					regs[info] = v;
					regs[4] += 8;
				}
				break;
			case 1:	/* UWOP_ALLOC_LARGE */
				used = info == 0 ? 2 : 3;
				if (!rd32(w, ui + 4 + 2 * (i + 1), &arg))
					return false;
				if (applies)
					regs[4] += info == 0 ? (uint64_t)(arg & 0xffff) * 8 : arg;
				break;
			case 2:	/* UWOP_ALLOC_SMALL */
				if (applies)
					regs[4] += (uint64_t)info * 8 + 8;
				break;
			case 3:	/* UWOP_SET_FPREG */
				if (applies)
					regs[4] = regs[freg] - (uint64_t)foff * 16;
				break;
			case 4:	/* UWOP_SAVE_NONVOL */
			case 5:	/* UWOP_SAVE_NONVOL_FAR */
				used = op == 4 ? 2 : 3;
				if (!rd32(w, ui + 4 + 2 * (i + 1), &arg))
					return false;
				if (applies) {
					uint64_t off = op == 4 ? (uint64_t)(arg & 0xffff) * 8 : arg;
					if (!rdptr(w, regs[4] + off, &v))
						return false;
					regs[info] = v;
				}
				break;
			case 6:	/* UWOP_EPILOG (version 2) / UWOP_SAVE_XMM (v1) */
			case 8:	/* UWOP_SAVE_XMM128 */
				used = 2;
				break;
			case 7:	/* UWOP_SPARE / UWOP_SAVE_XMM_FAR (v1) */
			case 9:	/* UWOP_SAVE_XMM128_FAR */
				used = 3;
				break;
			case 10: /* UWOP_PUSH_MACHFRAME: an interrupt frame */
				if (applies) {
					uint64_t sp = regs[4] + (info ? 8 : 0), nrip, nrsp;
					if (!rdptr(w, sp, &nrip) || !rdptr(w, sp + 24, &nrsp))
						return false;
					*rip = nrip;
					regs[4] = nrsp;
					return true;
				}
				break;
			default:
				return false;
			}
			i += used;
		}
		if (!(flags & 0x4))	/* UNW_FLAG_CHAININFO */
			break;
		/* The chained RUNTIME_FUNCTION follows the (even) code array. */
		uint64_t chained = ui + 4 + 2 * (((uint64_t)ncodes + 1) & ~1ull);
		uint32_t cb;
		if (!rd32(w, chained, &cb) || !rd32(w, chained + 8, &unwind))
			return false;
		primary = false;
		(void)cb;
	}
	uint64_t ret;
	if (!rdptr(w, regs[4], &ret))
		return false;
	regs[4] += 8;
	*rip = ret;
	return true;
}

/* Code of a module: past its PE headers (return addresses never point
 * there). */
static bool code_address(struct walker *w, uint64_t v)
{
	struct mod *m = find_mod(w, v);
	return m && v - m->base >= PE_HEADERS;
}

/* x86: does EBP hold a frame-pointer link worth following?  EBP aligned,
 * at or above ESP, inside the captured stack with room for [ebp] and
 * [ebp+4], and [ebp+4] a return address into a module's code. */
static bool fp_link(struct walker *w, uint64_t ebp, uint64_t esp)
{
	uint64_t ret;
	if (!ebp || ebp % 4 || ebp < esp || ebp < w->stack_lo || ebp + 8 > w->stack_hi)
		return false;
	return rdptr(w, ebp + 4, &ret) && code_address(w, ret);
}

/* The next stack word at or above *sp that points into a module's code. */
static bool scan_next(struct walker *w, uint64_t *sp, uint64_t *pc, uint64_t *slot)
{
	for (unsigned n = 0; n < SCAN_MAX_WORDS && *sp + w->ptr <= w->stack_hi; n++) {
		uint64_t v, at = *sp;
		*sp += w->ptr;
		if (at < w->stack_lo || !rdptr(w, at, &v))
			continue;
		if (code_address(w, v)) {
			*pc = v;
			*slot = at;
			return true;
		}
	}
	return false;
}

/*
 * ARM64: frame 0 from the context, then the {Fp, Lr} frame record chain.
 * A record must lie inside the captured stack, 8-aligned, above the
 * previous one (stacks grow down, so the walk is bounded and cannot
 * cycle) and name a return address inside a module.  Where the chain
 * breaks (a record outside the stack or unreadable, an address outside
 * every module) the rest is scanned as on x64; a chain that ends with
 * Fp 0 (the outermost frame) ends the walk.
 */
static void walk_stack_arm64(struct walker *w, struct ich_crash *c, const uint8_t *ctx)
{
	uint64_t pc = ich_le64(ctx + ARM64_CTX_PC), sp = ich_le64(ctx + ARM64_CTX_SP);
	uint64_t fp = ich_le64(ctx + ARM64_CTX_FP);
	w->ptr = 8;
	if (!pc) {
		pc = c->address;
		snprintf(c->stack_note, sizeof(c->stack_note),
			 "the context's Pc is 0; frame 0 is the exception address");
	}
	set_frame(w, &c->frames[c->nframes++], pc, sp, ICH_FRAME_CONTEXT);
	bool chain = true;
	while (chain && c->nframes < ICH_CRASH_MAX_FRAMES) {
		if (!fp)
			return;		/* the outermost frame record */
		uint64_t cfp, cpc;
		if ((fp & 7) || fp < sp || fp < w->stack_lo || fp + 16 > w->stack_hi ||
		    !rdptr(w, fp, &cfp) || !rdptr(w, fp + 8, &cpc) || !find_mod(w, cpc)) {
			if (!c->stack_note[0])
				snprintf(c->stack_note, sizeof(c->stack_note),
					 "the frame-pointer chain stops at Fp 0x%" PRIx64
					 " (outside the captured stack, unreadable, or no module at its return address); the rest is scanned",
					 fp);
			chain = false;
			break;
		}
		set_frame(w, &c->frames[c->nframes++], cpc, fp + 16, ICH_FRAME_FP);
		sp = fp + 16;
		if (cfp && cfp <= fp) {
			if (!c->stack_note[0])
				snprintf(c->stack_note, sizeof(c->stack_note),
					 "the frame record at 0x%" PRIx64 " links to 0x%" PRIx64
					 ", not above it; the rest is scanned", fp, cfp);
			chain = false;
			break;
		}
		fp = cfp;
	}
	uint64_t scan_sp = sp;
	while (!chain && c->nframes < ICH_CRASH_MAX_FRAMES) {
		uint64_t spc, slot;
		if (!scan_next(w, &scan_sp, &spc, &slot))
			break;
		set_frame(w, &c->frames[c->nframes++], spc, slot, ICH_FRAME_SCAN);
	}
}

static void walk_stack(struct walker *w, struct ich_crash *c, const uint8_t *ctx,
		       size_t ctx_size)
{
	if (w->arm64) {
		if (ctx_size < ARM64_CTX_MIN || !(ich_le32(ctx) & ARM64_CONTEXT_FLAG)) {
			snprintf(c->stack_note, sizeof(c->stack_note),
				 "the exception context (%zu bytes, ContextFlags 0x%x) is not an ARM64_NT_CONTEXT (0x%x bytes, flag 0x%x)",
				 ctx_size, ctx_size >= 4 ? ich_le32(ctx) : 0, 0x390u, ARM64_CONTEXT_FLAG);
			return;
		}
		c->has_arm64_context = true;
		c->arm64_context_flags = ich_le32(ctx);
		c->arm64_cpsr = ich_le32(ctx + ARM64_CTX_CPSR);
		c->arm64_fp = ich_le64(ctx + ARM64_CTX_FP);
		c->arm64_lr = ich_le64(ctx + ARM64_CTX_LR);
		c->arm64_sp = ich_le64(ctx + ARM64_CTX_SP);
		c->arm64_pc = ich_le64(ctx + ARM64_CTX_PC);
		walk_stack_arm64(w, c, ctx);
		if (c->nframes == 1 && !c->stack_note[0])
			snprintf(c->stack_note, sizeof(c->stack_note),
				 "no frame record or return address into a module was found on the captured stack");
		return;
	}
	uint64_t regs[16] = { 0 }, rip;
	bool x64 = false;
	if (ctx_size >= 0x100 && (ich_le32(ctx + 0x30) & 0x00100000)) {
		x64 = true;
		w->ptr = 8;
		for (int i = 0; i < 16; i++)
			regs[i] = ich_le64(ctx + 0x78 + 8 * i);
		rip = ich_le64(ctx + 0xf8);
	} else if (ctx_size >= 0xcc && (ich_le32(ctx) & 0x00010000)) {
		w->ptr = 4;
		regs[4] = ich_le32(ctx + 0xc4);
		regs[5] = ich_le32(ctx + 0xb4);
		rip = ich_le32(ctx + 0xb8);
	} else {
		snprintf(c->stack_note, sizeof(c->stack_note),
			 "the exception context (%zu bytes) is neither an AMD64 nor an x86 CONTEXT", ctx_size);
		return;
	}
	if (!rip) {
		/* Some writers leave the context's instruction pointer empty;
		 * the exception address is where the thread was. */
		rip = c->address;
		snprintf(c->stack_note, sizeof(c->stack_note),
			 "the context's instruction pointer is 0; frame 0 is the exception address");
	}
	set_frame(w, &c->frames[c->nframes++], rip, regs[4], ICH_FRAME_CONTEXT);
	uint64_t scan_sp = regs[4];
	bool cfi_ok = x64;
	uint64_t ebp = regs[5];
	while (c->nframes < ICH_CRASH_MAX_FRAMES) {
		if (!x64 && fp_link(w, ebp, regs[4])) {
			/* [ebp] = the caller's EBP, [ebp+4] = the return address. */
			uint64_t next_ebp = 0, ret = 0;
			rdptr(w, ebp, &next_ebp);
			rdptr(w, ebp + 4, &ret);
			regs[4] = ebp + 8;
			scan_sp = regs[4];
			set_frame(w, &c->frames[c->nframes++], ret, regs[4], ICH_FRAME_FP);
			rip = ret;
			/* A saved EBP of 0 marks the thread's first frame: the
			 * walk ends.  One that does not go up is garbage: later
			 * frames come from the scan. */
			if (!next_ebp)
				break;
			ebp = next_ebp > ebp ? next_ebp : 0;
			continue;
		}
		if (cfi_ok) {
			uint64_t r2[16], rip2 = rip;
			memcpy(r2, regs, sizeof(r2));
			if (unwind_x64(w, r2, &rip2) && r2[4] > regs[4] && rip2 &&
			    find_mod(w, rip2)) {
				memcpy(regs, r2, sizeof(r2));
				rip = rip2;
				scan_sp = regs[4];
				set_frame(w, &c->frames[c->nframes++], rip, regs[4], ICH_FRAME_CFI);
				continue;
			}
		}
		uint64_t pc, slot;
		if (!scan_next(w, &scan_sp, &pc, &slot))
			break;
		set_frame(w, &c->frames[c->nframes++], pc, slot, ICH_FRAME_SCAN);
		/* Continue from the caller's view: RSP just above the slot. */
		rip = pc;
		regs[4] = slot + w->ptr;
		cfi_ok = x64;
	}
	if (c->nframes == 1 && !c->stack_note[0])
		snprintf(c->stack_note, sizeof(c->stack_note),
			 "no return address into a module was found on the captured stack");
}

static void md_crash(struct ich_dump *dump, const struct ich_minidump *md, struct ich_crash *c)
{
	const struct ich_md_exception *e = &md->exception;
	c->present = true;
	c->code = e->code;
	const char *n = ich_ntstatus_name(e->code);
	snprintf(c->name, sizeof(c->name), "%s", n ? n : "");
	c->thread_id = e->thread_id;
	c->flags = e->flags;
	c->record = e->record;
	c->address = e->address;
	c->nparams = e->number_parameters < 15 ? e->number_parameters : 15;
	memcpy(c->params, e->information, sizeof(c->params));

	struct walker w = { .as = ich_dump_as(dump), .ptr = 8,
			    .arm64 = ich_dump_arch(dump) == ICH_ARCH_ARM64 };
	if (w.as)
		w.ptr = ich_as_ptr_size(w.as);
	w.mods = calloc(md->nmodules + 1, sizeof(*w.mods));
	for (size_t i = 0; w.mods && i < md->nmodules; i++) {
		const struct ich_md_module *m = &md->modules[i];
		if (!m->size || m->base + m->size < m->base)
			continue;
		w.mods[w.nmods].base = m->base;
		w.mods[w.nmods].end = m->base + m->size;
		w.mods[w.nmods].name = base_name(m->name);
		w.nmods++;
	}
	if (w.nmods)
		qsort(w.mods, w.nmods, sizeof(*w.mods), cmp_mod);

	struct mod *m = find_mod(&w, e->address);
	if (m) {
		c->has_module = true;
		snprintf(c->module, sizeof(c->module), "%s", m->name);
		c->module_offset = e->address - m->base;
		snprintf(c->location, sizeof(c->location), "%s+0x%" PRIx64, c->module, c->module_offset);
	} else {
		snprintf(c->location, sizeof(c->location), "0x%" PRIx64, e->address);
	}
	if ((e->code == 0xc0000005 || e->code == 0xc0000006) && c->nparams >= 2) {
		/* EXCEPTION_RECORD.ExceptionInformation[0]: 0 read, 1 write,
		 * 8 DEP (execute); [1] the address (winnt.h EXCEPTION_RECORD docs). */
		c->access = e->information[0] == 0 ? ICH_ACCESS_READ :
			    e->information[0] == 1 ? ICH_ACCESS_WRITE :
			    e->information[0] == 8 ? ICH_ACCESS_EXECUTE : ICH_ACCESS_NONE;
		c->access_address = e->information[1];
	}
	if (e->code == 0xc0000409 && c->nparams >= 1 && e->information[0] <= 0xffffffffu) {
		c->has_fast_fail = true;
		c->fast_fail = (uint32_t)e->information[0];
	}

	/* The stack: the exception context and the thread's captured stack. */
	const struct ich_md_thread *t = NULL;
	for (size_t i = 0; i < md->nthreads; i++)
		if (md->threads[i].thread_id == e->thread_id)
			t = &md->threads[i];
	uint64_t fsize = ich_dump_file_size(dump);
	const uint8_t *data = ich_dump_file_data(dump);
	uint32_t crva = e->context_rva, csize = e->context_size;
	if (!csize && t) {
		crva = t->context_rva;
		csize = t->context_size;
	}
	if (!w.as || !data) {
		snprintf(c->stack_note, sizeof(c->stack_note), "the dump has no memory to read a stack from");
	} else if (!csize || (uint64_t)crva + csize > fsize) {
		snprintf(c->stack_note, sizeof(c->stack_note),
			 "the exception context (rva 0x%x, %u bytes) is not in the file", crva, csize);
	} else {
		if (t) {
			w.stack_lo = t->stack_start;
			w.stack_hi = t->stack_start + t->stack_size;
			c->stack_start = w.stack_lo;
			c->stack_end = w.stack_hi;
		}
		if (!t || !t->stack_size)
			snprintf(c->stack_note, sizeof(c->stack_note),
				 "the stack of thread %u is not captured", e->thread_id);
		walk_stack(&w, c, data + crva, csize);
		c->stack_word = w.ptr;
	}
	free(w.mods);
}

/* ---- Kernel dumps: the bug check located, and the stack ---------------- */

/*
 * KLDR_DATA_TABLE_ENTRY, the node of PsLoadedModuleList (the loaded kernel
 * modules, in load order): InLoadOrderLinks 0, DllBase 0x30 / 0x18,
 * SizeOfImage 0x40 / 0x20, BaseDllName (UNICODE_STRING) 0x58 / 0x2c, x64 /
 * x86.  x64 from the Vergilius-generated type dumps (a copy with offsets:
 * find_string "struct _KLDR_DATA_TABLE_ENTRY", id 27530909992: DllBase
 * 0x30, SizeOfImage 0x40, FullDllName 0x48, BaseDllName 0x58, sizeof
 * 0xa0); x86 from the same member list (InLoadOrderLinks, ExceptionTable,
 * ExceptionTableSize, GpValue, NonPagedDebugInfo, DllBase, EntryPoint,
 * SizeOfImage, FullDllName, BaseDllName, as the public ntddk-style
 * declarations give it) with 4-byte pointers: 8 + 4 * 4 = 0x18, 0x1c, 0x20,
 * 0x24 + 8 = 0x2c.  The list head: KDDEBUGGER_DATA64.PsLoadedModuleList
 * (KDBG + 0x48, layouts.md §7 / S4) when the KDBG is plain, else the dump
 * header's (DUMP_HEADER64 0x20, DUMP_HEADER32 0x18; layouts.md §6, S3/S4).
 */
#define KMOD_MAX 2048
#define KDBG_OWNER_TAG 0x10
#define KDBG_PS_LOADED_MODULE_LIST 0x48
/* DUMP_HEADER64.ContextRecord 0x348, DUMP_HEADER32.ContextRecord 0x320
 * (layouts.md §6, S3/S4): the processor context at the bug check. */
#define KD_CONTEXT64 0x348
#define KD_CONTEXT32 0x320
/* KERNEL_STACK_SIZE (wdm.h): 0x6000 on x64, 12 KiB on x86.  The thread's
 * real bounds (KTHREAD StackBase/StackLimit) are not read; the scan stops
 * there or where the memory ends. */
#define KSTACK64 0x6000
#define KSTACK32 0x3000

struct kmods {
	struct walker *w;
	char (*names)[ICH_MODULE_NAME_MAX];
	struct ich_as *as;
};

static struct ich_error *on_kmod(uint64_t entry, void *arg)
{
	struct kmods *k = arg;
	struct walker *w = k->w;
	if (w->nmods >= KMOD_MAX)
		return &ich_stop;
	bool x64 = w->ptr == 8;
	uint64_t base;
	uint32_t size;
	if (!rdptr(w, entry + (x64 ? 0x30 : 0x18), &base) || !rd32(w, entry + (x64 ? 0x40 : 0x20), &size))
		return NULL;	/* an unreadable entry names nothing; the walk goes on */
	if (!size || base + size < base)
		return NULL;
	char *name = NULL;
	struct ich_error *err = ich_as_read_unicode_string(k->as, entry + (x64 ? 0x58 : 0x2c), &name);
	if (err) {
		ich_error_destroy(err);
		name = NULL;
	}
	snprintf(k->names[w->nmods], ICH_MODULE_NAME_MAX, "%s", name && *name ? base_name(name) : "?");
	free(name);
	w->mods[w->nmods].base = base;
	w->mods[w->nmods].end = base + size;
	w->mods[w->nmods].name = k->names[w->nmods];
	w->nmods++;
	return NULL;
}

/* The parameter that holds the address of the faulting instruction, by bug
 * check (Microsoft Bug Check Code Reference, learn.microsoft.com/windows-
 * hardware/drivers/debugger/bug-check-code-reference2, one page per code:
 * 0xA and 0xD1 "Parameter 4: address that referenced memory"; 0x1E, 0x3B,
 * 0x7E, 0x8E "Parameter 2: the address of the instruction / where the
 * exception occurred"; 0x50, 0xD5, 0xD6 "Parameter 3: address which
 * referenced memory"; 0xC5 "Parameter 4"), or -1. */
static int fault_param_of(uint32_t code)
{
	switch (code & ~0x10000000u) {
	case 0x0a: case 0xd1: case 0xc5: return 3;
	case 0x1e: case 0x3b: case 0x7e: case 0x8e: return 1;
	case 0x50: case 0xd5: case 0xd6: return 2;
	}
	return -1;
}

static uint64_t kd_module_list(struct walker *w, const struct ich_kdump *kd)
{
	uint64_t kdbg = kd->kd_debugger_data_block, head = kd->ps_loaded_module_list;
	uint32_t tag;
	uint64_t v;
	if (kdbg && rd32(w, kdbg + KDBG_OWNER_TAG, &tag) && tag == 0x4742444Bu &&	/* 'KDBG' */
	    rd32(w, kdbg + KDBG_PS_LOADED_MODULE_LIST, &tag)) {
		uint32_t hi = 0;
		rd32(w, kdbg + KDBG_PS_LOADED_MODULE_LIST + 4, &hi);
		/* 64-bit fields on x86 too, possibly sign-extended */
		v = w->ptr == 4 ? tag : ((uint64_t)hi << 32 | tag);
		if (v)
			head = v;
	}
	return head;
}

static void kd_crash(struct ich_dump *dump, const struct ich_kdump *kd, struct ich_crash *c)
{
	c->fault_param = -1;
	struct ich_as *as = ich_dump_as(dump);
	if (!as) {
		snprintf(c->stack_note, sizeof(c->stack_note), "the dump has no memory to read the module list from");
		return;
	}
	struct walker w = { .as = as, .ptr = ich_as_ptr_size(as) };
	w.mods = calloc(KMOD_MAX, sizeof(*w.mods));
	char (*names)[ICH_MODULE_NAME_MAX] = calloc(KMOD_MAX, sizeof(*names));
	if (!w.mods || !names) {
		free(w.mods);
		free(names);
		return;
	}
	uint64_t head = kd_module_list(&w, kd);
	struct kmods k = { &w, names, as };
	struct ich_error *err = head ? ich_as_list_walk(as, head, KMOD_MAX, true, on_kmod, &k, NULL)
				     : ich_error_create(ICH_ERR_FORMAT, "no PsLoadedModuleList in the header or KDBG");
	if (err) {
		snprintf(c->stack_note, sizeof(c->stack_note), "loaded module list at 0x%" PRIx64 "%s%s",
			 head, w.nmods ? " (partly read): " : ": ", err->message);
		ich_error_destroy(err);
	}
	c->nmodules = w.nmods;
	if (w.nmods)
		qsort(w.mods, w.nmods, sizeof(*w.mods), cmp_mod);
	/* The parameters that are code addresses of a module. */
	uint64_t mask = w.ptr == 4 ? 0xFFFFFFFFull : UINT64_MAX;
	for (int i = 0; i < 4; i++) {
		struct mod *m = find_mod(&w, c->params[i] & mask);
		if (m)
			snprintf(c->param_location[i], sizeof(c->param_location[i]), "%s+0x%" PRIx64,
				 m->name, (c->params[i] & mask) - m->base);
	}
	/* The faulting address: the parameter the bug check documents, else
	 * the header's exception record, if it lies in a module. */
	int fp = fault_param_of(c->code);
	uint64_t fault = 0;
	if (fp >= 0 && c->param_location[fp][0]) {
		c->fault_param = fp;
		fault = c->params[fp] & mask;
	} else if (kd->exception_address && find_mod(&w, kd->exception_address & mask)) {
		fault = kd->exception_address & mask;
	}
	if (fault) {
		struct mod *m = find_mod(&w, fault);
		c->address = fault;
		c->has_module = true;
		snprintf(c->module, sizeof(c->module), "%s", m->name);
		c->module_offset = fault - m->base;
		snprintf(c->location, sizeof(c->location), "%s+0x%" PRIx64, c->module, c->module_offset);
	}
	/* The stack: the context record of the header, walked like a user
	 * thread's, over KERNEL_STACK_SIZE above the stack pointer. */
	const uint8_t *data = ich_dump_file_data(dump);
	uint64_t fsize = ich_dump_file_size(dump);
	uint64_t off = kd->is64 ? KD_CONTEXT64 : KD_CONTEXT32;
	/* ARM64: the header holds an ARM64_NT_CONTEXT (0x390 bytes), read as
	 * such -- its 0x98 is X18, not Rsp */
	bool a64 = ich_dump_arch(dump) == ICH_ARCH_ARM64;
	w.arm64 = a64;
	uint64_t csize = a64 ? 0x390 : kd->is64 ? 0x4d0 : 0x2cc;
	if (!data || off + csize > fsize) {
		if (!c->stack_note[0])
			snprintf(c->stack_note, sizeof(c->stack_note), "the header's context record is not in the file");
	} else {
		const uint8_t *ctx = data + off;
		uint64_t sp = a64 ? ich_le64(ctx + ARM64_CTX_SP) : kd->is64 ? ich_le64(ctx + 0x98) : ich_le32(ctx + 0xc4);
		w.stack_lo = sp;
		w.stack_hi = sp + (kd->is64 ? KSTACK64 : KSTACK32);
		c->stack_start = w.stack_lo;
		c->stack_end = w.stack_hi;
		if (!sp) {
			if (!c->stack_note[0])
				snprintf(c->stack_note, sizeof(c->stack_note), "the header's context record is empty");
		} else {
			char note[sizeof(c->stack_note)];
			snprintf(note, sizeof(note), "%s", c->stack_note);
			c->stack_note[0] = 0;
			walk_stack(&w, c, ctx, (size_t)csize);
			c->stack_word = w.ptr;
			if (note[0])
				snprintf(c->stack_note, sizeof(c->stack_note), "%s", note);
		}
	}
	free(w.mods);
	free(names);
}

void ich_crash_read(struct ich_dump *dump, struct ich_crash *c)
{
	memset(c, 0, sizeof(*c));
	c->fault_param = -1;
	const struct ich_minidump *md = ich_dump_minidump(dump);
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	if (md && md->has_exception) {
		md_crash(dump, md, c);
	} else if (kd) {
		c->present = true;
		c->bugcheck = true;
		c->code = kd->bugcheck_code;
		char nb[64];
		const char *n = ich_bugcheck_name(kd->bugcheck_code, nb, sizeof(nb));
		snprintf(c->name, sizeof(c->name), "%s", n ? n : "");
		c->nparams = 4;
		for (int i = 0; i < 4; i++)
			c->params[i] = kd->bugcheck_parameters[i];
		snprintf(c->location, sizeof(c->location), "bug check 0x%x", kd->bugcheck_code);
		kd_crash(dump, kd, c);
	}
}

void ich_crash_describe(const struct ich_crash *c, char *buf, size_t n)
{
	if (!c->present) {
		snprintf(buf, n, "no exception recorded");
		return;
	}
	if (c->bugcheck) {
		int k = snprintf(buf, n, "bug check 0x%08x%s%s (0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ")",
				 c->code, c->name[0] ? " " : "", c->name, c->params[0], c->params[1],
				 c->params[2], c->params[3]);
		if (c->has_module && k > 0 && (size_t)k < n)
			snprintf(buf + k, n - (size_t)k, " at %s", c->location);
		return;
	}
	int k = snprintf(buf, n, "%08x%s%s at %s", c->code, c->name[0] ? " " : "", c->name, c->location);
	if (k < 0 || (size_t)k >= n)
		return;
	const char *acc = ich_access_name(c->access);
	if (acc)
		snprintf(buf + k, n - (size_t)k, ": %s %s 0x%" PRIx64,
			 acc, c->access == ICH_ACCESS_EXECUTE ? "at" : c->access == ICH_ACCESS_READ ? "from" : "to",
			 c->access_address);
	else if (c->has_fast_fail) {
		const char *ff = ich_fast_fail_name(c->fast_fail);
		if (ff)
			snprintf(buf + k, n - (size_t)k, ": %s (fast-fail code %u)", ff, c->fast_fail);
		else
			snprintf(buf + k, n - (size_t)k, ": fast-fail code %u", c->fast_fail);
	}
}
