/* SPDX-License-Identifier: MIT */
/*
 * mkdump: writes a Windows minidump or kernel crash dump from a compact
 * text description, using the dump builder library.
 *
 * Usage:
 *   mkdump DESCRIPTION OUTPUT        (DESCRIPTION "-" = stdin)
 *   mkdump --big-minidump PATH SIZE [RANGE_SIZE]  (x64 full-memory minidump, see below)
 *   mkdump --big-kernel PATH SIZE [PAGE_SIZE]  (x64 bitmap kernel dump, see below;
 *                                    PAGE_SIZE 2m (default) or 4k)
 * SIZE accepts suffixes k, m, g (powers of 1024).  In the big dumps every
 * 8-byte word of memory holds its own virtual address (dumpbuilder.h).
 *
 * Description format: one command per line; '#' starts a comment line;
 * tokens are separated by blanks; "double quotes" keep blanks (no escapes,
 * so Windows paths need none); key=value options in any order.  Numbers
 * are C literals (0x1f, 31); wherever a number is expected, dtb:NAME
 * gives the DTB of address space NAME (kernel dumps).
 *
 * The first command chooses the dump:
 *   minidump x64|x86|wow64 MAJOR.MINOR.BUILD [version_high=N] [timestamp=N]
 *            [flags=N] [threads=list|ex|both] [unused=N] [handles=1|2]
 *   kernel x64|pae|x86 BUILD type=full|bitmap|kernel|kernel-user|complete|triage|N
 *            [bmp=SDMP|FDMP]
 *
 * Memory commands (minidump: the process image; kernel: the address space
 * selected by `use`, initially the kernel's):
 *   bytes VA HH HH ...            raw bytes (hex, no 0x)
 *   u8|u16|u32|u64|ptr VA V [V..] consecutive values (ptr: pointer size)
 *   fill VA size=N byte=N
 *   ascii VA "text"               bytes plus a NUL
 *   utf16 VA "text"               UTF-16LE plus a NUL
 *
 * Minidump commands:
 *   sysinfo [ncpu=N] [product=N] [csd="..."] [suite=N] [level=N]
 *           [revision=N] [platform=N]
 *   thread ID teb=VA stack=VA+SIZE [name="..."] [suspend=N] [priority=N]
 *          [priorityclass=N] [separate] [backing=VA+SIZE]
 *   module PATH base=VA size=N [version=A.B.C.D] [product=A.B.C.D]
 *          [timestamp=N] [checksum=N] [noversion]
 *   unloaded PATH base=VA size=N [timestamp=N] [checksum=N]
 *   memory VA size=N [fill=BYTE] [list=32|64|both]   (default list=32)
 *   meminfo VA size=N [allocbase=VA] [allocprotect=N] [state=N]
 *           [protect=N] [type=N]
 *   handle VALUE [type="..."] [name="..."] [attributes=N] [access=N]
 *          [handles=N] [pointers=N]
 *   exception thread=ID code=N [flags=N] [address=VA] [record=VA]
 *             [params=N,N,...]
 *   misc size=24|44|232|832|1364 [pid=N] [createtime=N] [usertime=N]
 *        [kerneltime=N] [maxmhz=N] [curmhz=N] [integrity=N] [tzbias=N]
 *        [tzname="..."] [build="..."] [dbgbld="..."] [cookie=N]
 *   comment-a TEXT...   comment-w TEXT...   (rest of the line)
 *   stream TYPE HH HH ...          a stream with raw content
 *
 * Kernel commands:
 *   runs BASE-END ...             physical memory runs in PFNs, END
 *                                 exclusive (before any map)
 *   space NAME                    new process address space
 *   use NAME                      memory commands go to NAME ("kernel")
 *   map VA size=N [page=4k|2m|4m|1g] [space=NAME] [pa=PA]
 *   transition VA [space=NAME]    PTE -> transition PTE (page kept)
 *   pagedout VA pte=N [space=NAME]
 *   exclude PFN                   leave the frame out of a bitmap dump
 *   header [psactiveprocesshead=VA] [psloadedmodulelist=VA] [kdbg=VA]
 *          [pfndb=VA] [ncpu=N] [machine=N] [systemtime=N] [uptime=N]
 *          [product=N] [suite=N] [major=N] [minor=N] [pae=0|1] [dtb=PA]
 *          [comment="..."]
 *   bugcheck CODE P1 P2 P3 P4
 *   triage-block VA size=N        (type=triage) copy kernel VA bytes
 *   triage-section mm|unloaded|prcb|process|thread|stack|kdbg|drivers|pool
 *                  HH HH ...      raw section bytes
 *   triage-info [top=VA] [drivers=N] [options=N]
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumpbuilder.h"

#define MAXTOK 512

struct space {
	char name[64];
	uint64_t dtb;
};

struct ctx {
	const char *file;
	unsigned line;
	struct db_md *md;
	struct db_kd *kd;
	struct db_mem *mem;		/* current target of memory commands */
	struct space spaces[64];
	size_t nspaces;
	char *strings[1024];		/* kept alive until the dump is written */
	size_t nstrings;
};

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 2, 3)))
#endif
static void die(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%u: ", c->file, c->line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static char *keep(struct ctx *c, const char *s)
{
	if (c->nstrings == sizeof(c->strings) / sizeof(c->strings[0]))
		die(c, "too many strings");
	char *p = strdup(s);
	if (!p)
		die(c, "out of memory");
	c->strings[c->nstrings++] = p;
	return p;
}

static uint64_t space_dtb(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nspaces; i++)
		if (!strcmp(c->spaces[i].name, name))
			return c->spaces[i].dtb;
	die(c, "unknown address space '%s'", name);
}

static uint64_t num(struct ctx *c, const char *s)
{
	if (!strncmp(s, "dtb:", 4)) {
		if (!c->kd)
			die(c, "dtb: is only valid in kernel dumps");
		return space_dtb(c, s + 4);
	}
	char *end;
	errno = 0;
	uint64_t v;
	if (*s == '-')
		v = (uint64_t)strtoll(s, &end, 0);
	else
		v = strtoull(s, &end, 0);
	if (errno || end == s)
		die(c, "'%s' is not a number", s);
	uint64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10;
	else if (*end == 'm' || *end == 'M')
		mul = 1ull << 20;
	else if (*end == 'g' || *end == 'G')
		mul = 1ull << 30;
	if (mul != 1)
		end++;
	if (*end)
		die(c, "'%s' is not a number", s);
	return v * mul;
}

/* Splits a line into tokens; quotes keep blanks and are removed. */
static size_t tokenize(char *line, char **tok, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (*p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (n == max)
			break;
		char *out = p;
		tok[n++] = out;
		bool q = false;
		while (*p && (q || !isspace((unsigned char)*p))) {
			if (*p == '"') {
				q = !q;
				p++;
				continue;
			}
			*out++ = *p++;
		}
		if (*p)
			p++;
		*out = 0;
	}
	return n;
}

/* Value of key=... among tok[from..n), or NULL. */
static const char *opt(char **tok, size_t n, size_t from, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = from; i < n; i++)
		if (!strncmp(tok[i], key, kl) && tok[i][kl] == '=')
			return tok[i] + kl + 1;
	return NULL;
}

static bool flag(char **tok, size_t n, size_t from, const char *key)
{
	for (size_t i = from; i < n; i++)
		if (!strcmp(tok[i], key))
			return true;
	return false;
}

static uint64_t optnum(struct ctx *c, char **tok, size_t n, size_t from, const char *key,
		       uint64_t def)
{
	const char *v = opt(tok, n, from, key);
	return v ? num(c, v) : def;
}

static uint64_t reqnum(struct ctx *c, char **tok, size_t n, size_t from, const char *key)
{
	const char *v = opt(tok, n, from, key);
	if (!v)
		die(c, "%s: missing %s=", tok[0], key);
	return num(c, v);
}

/* "VA+SIZE" */
static void range_arg(struct ctx *c, const char *s, uint64_t *va, uint64_t *size)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", s);
	char *plus = strchr(buf, '+');
	if (!plus)
		die(c, "'%s': expected VA+SIZE", s);
	*plus = 0;
	*va = num(c, buf);
	*size = num(c, plus + 1);
}

static void version_arg(struct ctx *c, const char *s, uint16_t v[4])
{
	unsigned a = 0, b = 0, d = 0, e = 0;
	if (sscanf(s, "%u.%u.%u.%u", &a, &b, &d, &e) < 3)
		die(c, "'%s': expected A.B.C[.D]", s);
	v[0] = (uint16_t)a;
	v[1] = (uint16_t)b;
	v[2] = (uint16_t)d;
	v[3] = (uint16_t)e;
}

static void need_md(struct ctx *c, const char *cmd)
{
	if (!c->md)
		die(c, "%s is only valid in a minidump description", cmd);
}

static void need_kd(struct ctx *c, const char *cmd)
{
	if (!c->kd)
		die(c, "%s is only valid in a kernel dump description", cmd);
}

static void check(struct ctx *c, int rc)
{
	if (rc != 0)
		die(c, "%s", db_error());
}

/* Rest of the raw line after the command word. */
static const char *rest_of_line(const char *raw)
{
	while (*raw && isspace((unsigned char)*raw))
		raw++;
	while (*raw && !isspace((unsigned char)*raw))
		raw++;
	while (*raw && isspace((unsigned char)*raw))
		raw++;
	return raw;
}

static void cmd_minidump(struct ctx *c, char **t, size_t n)
{
	if (n < 3)
		die(c, "minidump ARCH MAJOR.MINOR.BUILD");
	unsigned maj, min, build;
	if (sscanf(t[2], "%u.%u.%u", &maj, &min, &build) != 3)
		die(c, "'%s': expected MAJOR.MINOR.BUILD", t[2]);
	bool wow = !strcmp(t[1], "wow64");
	enum db_arch arch;
	if (!strcmp(t[1], "x86"))
		arch = DB_ARCH_X86;
	else if (!strcmp(t[1], "x64") || wow)
		arch = DB_ARCH_X64;
	else
		die(c, "unknown minidump architecture '%s'", t[1]);
	c->md = db_md_new(arch, maj, min, build);
	if (wow)
		db_md_set_wow64(c->md);
	c->mem = db_md_mem(c->md);
	db_md_set_version_high(c->md, (uint16_t)optnum(c, t, n, 3, "version_high", 0));
	db_md_set_timestamp(c->md, (uint32_t)optnum(c, t, n, 3, "timestamp", 0x5F000000));
	if (opt(t, n, 3, "flags"))
		db_md_set_flags(c->md, reqnum(c, t, n, 3, "flags"));
	db_md_set_unused_streams(c->md, (unsigned)optnum(c, t, n, 3, "unused", 0));
	const char *th = opt(t, n, 3, "threads");
	if (th) {
		if (!strcmp(th, "list"))
			db_md_set_thread_stream(c->md, DB_THREADS_LIST);
		else if (!strcmp(th, "ex"))
			db_md_set_thread_stream(c->md, DB_THREADS_EX);
		else if (!strcmp(th, "both"))
			db_md_set_thread_stream(c->md, DB_THREADS_BOTH);
		else
			die(c, "threads=list|ex|both");
	}
	db_md_set_handle_descriptor_version(c->md, (unsigned)optnum(c, t, n, 3, "handles", 2));
}

static void cmd_kernel(struct ctx *c, char **t, size_t n)
{
	if (n < 3)
		die(c, "kernel ARCH BUILD type=...");
	enum db_kd_arch arch;
	if (!strcmp(t[1], "x64"))
		arch = DB_KD_X64;
	else if (!strcmp(t[1], "pae"))
		arch = DB_KD_X86_PAE;
	else if (!strcmp(t[1], "x86"))
		arch = DB_KD_X86;
	else
		die(c, "unknown kernel architecture '%s' (x64, pae, x86)", t[1]);
	const char *ty = opt(t, n, 3, "type");
	uint32_t type;
	if (!ty || !strcmp(ty, "full"))
		type = DB_KD_FULL;
	else if (!strcmp(ty, "bitmap"))
		type = DB_KD_BITMAP;
	else if (!strcmp(ty, "kernel"))
		type = DB_KD_RDMP_KERNEL;
	else if (!strcmp(ty, "kernel-user"))
		type = DB_KD_RDMP_KERNEL_USER;
	else if (!strcmp(ty, "complete"))
		type = DB_KD_RDMP_COMPLETE;
	else if (!strcmp(ty, "triage"))
		type = DB_KD_TRIAGE;
	else
		type = (uint32_t)num(c, ty);
	c->kd = db_kd_new(arch, (uint32_t)num(c, t[2]), type);
	const char *bmp = opt(t, n, 3, "bmp");
	if (bmp && !strcmp(bmp, "FDMP"))
		db_kd_header(c->kd)->bmp_signature = 0x504D4446u;
	else if (bmp && strcmp(bmp, "SDMP"))
		die(c, "bmp=SDMP|FDMP");
	snprintf(c->spaces[0].name, sizeof(c->spaces[0].name), "kernel");
	c->spaces[0].dtb = db_kd_kernel_dtb(c->kd);
	c->nspaces = 1;
	c->mem = db_kd_view(c->kd, c->spaces[0].dtb);
}

static uint64_t current_dtb(struct ctx *c, char **t, size_t n, uint64_t cur)
{
	const char *s = opt(t, n, 2, "space");
	return s ? space_dtb(c, s) : cur;
}

static void run(struct ctx *c, char *raw)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", raw);
	char *t[MAXTOK];
	size_t n = tokenize(copy, t, MAXTOK);
	if (!n || t[0][0] == '#')
		return;
	const char *cmd = t[0];
	static uint64_t cur_dtb;

	if (!strcmp(cmd, "minidump") || !strcmp(cmd, "kernel")) {
		if (c->md || c->kd)
			die(c, "only one minidump/kernel line is allowed");
		if (!strcmp(cmd, "minidump"))
			cmd_minidump(c, t, n);
		else {
			cmd_kernel(c, t, n);
			cur_dtb = db_kd_kernel_dtb(c->kd);
		}
		return;
	}
	if (!c->md && !c->kd)
		die(c, "the first command must be 'minidump' or 'kernel'");

	/* memory commands */
	if (!strcmp(cmd, "bytes") || !strcmp(cmd, "stream")) {
		if (n < 2)
			die(c, "%s needs an address/type", cmd);
		uint64_t a = num(c, t[1]);
		size_t nb = n - 2;
		uint8_t *b = malloc(nb ? nb : 1);
		for (size_t i = 0; i < nb; i++) {
			char *end;
			unsigned long v = strtoul(t[2 + i], &end, 16);
			if (*end || v > 0xFF)
				die(c, "'%s' is not a hex byte", t[2 + i]);
			b[i] = (uint8_t)v;
		}
		if (!strcmp(cmd, "bytes")) {
			db_mem_write(c->mem, a, b, nb);
		} else {
			need_md(c, cmd);
			db_md_add_raw_stream(c->md, (uint32_t)a, b, (uint32_t)nb);
		}
		free(b);
		return;
	}
	if (!strcmp(cmd, "u8") || !strcmp(cmd, "u16") || !strcmp(cmd, "u32") ||
	    !strcmp(cmd, "u64") || !strcmp(cmd, "ptr")) {
		if (n < 3)
			die(c, "%s VA VALUE...", cmd);
		uint64_t a = num(c, t[1]);
		unsigned sz = !strcmp(cmd, "u8") ? 1 : !strcmp(cmd, "u16") ? 2 :
			      !strcmp(cmd, "u32") ? 4 : !strcmp(cmd, "u64") ? 8 :
			      db_mem_ptr_size(c->mem);
		for (size_t i = 2; i < n; i++, a += sz) {
			uint64_t v = num(c, t[i]);
			switch (sz) {
			case 1: db_mem_write_u8(c->mem, a, (uint8_t)v); break;
			case 2: db_mem_write_u16(c->mem, a, (uint16_t)v); break;
			case 4: db_mem_write_u32(c->mem, a, (uint32_t)v); break;
			default: db_mem_write_u64(c->mem, a, v); break;
			}
		}
		return;
	}
	if (!strcmp(cmd, "fill")) {
		if (n < 2)
			die(c, "fill VA size=N byte=N");
		db_mem_fill(c->mem, num(c, t[1]), (uint8_t)reqnum(c, t, n, 2, "byte"),
			    reqnum(c, t, n, 2, "size"));
		return;
	}
	if (!strcmp(cmd, "ascii") || !strcmp(cmd, "utf16")) {
		if (n < 3)
			die(c, "%s VA \"text\"", cmd);
		if (!strcmp(cmd, "ascii"))
			db_mem_write(c->mem, num(c, t[1]), t[2], strlen(t[2]) + 1);
		else
			db_mem_write_utf16(c->mem, num(c, t[1]), t[2], true);
		return;
	}

	/* minidump commands */
	if (!strcmp(cmd, "sysinfo")) {
		need_md(c, cmd);
		struct db_md_sysinfo *si = db_md_sysinfo(c->md);
		si->number_of_processors = (uint8_t)optnum(c, t, n, 1, "ncpu", si->number_of_processors);
		si->product_type = (uint8_t)optnum(c, t, n, 1, "product", si->product_type);
		si->suite_mask = (uint16_t)optnum(c, t, n, 1, "suite", si->suite_mask);
		si->processor_level = (uint16_t)optnum(c, t, n, 1, "level", si->processor_level);
		si->processor_revision = (uint16_t)optnum(c, t, n, 1, "revision", si->processor_revision);
		si->platform_id = (uint32_t)optnum(c, t, n, 1, "platform", si->platform_id);
		if (opt(t, n, 1, "csd"))
			si->csd_version = keep(c, opt(t, n, 1, "csd"));
		return;
	}
	if (!strcmp(cmd, "thread")) {
		need_md(c, cmd);
		if (n < 2)
			die(c, "thread ID ...");
		struct db_md_thread th = { .id = (uint32_t)num(c, t[1]) };
		th.teb = optnum(c, t, n, 2, "teb", 0);
		if (opt(t, n, 2, "stack")) {
			uint64_t va, sz;
			range_arg(c, opt(t, n, 2, "stack"), &va, &sz);
			th.stack_start = va;
			th.stack_size = (uint32_t)sz;
		}
		if (opt(t, n, 2, "backing")) {
			uint64_t va, sz;
			range_arg(c, opt(t, n, 2, "backing"), &va, &sz);
			th.backing_store_start = va;
			th.backing_store_size = (uint32_t)sz;
		}
		th.name = opt(t, n, 2, "name");
		th.suspend_count = (uint32_t)optnum(c, t, n, 2, "suspend", 0);
		th.priority = (uint32_t)optnum(c, t, n, 2, "priority", 0);
		th.priority_class = (uint32_t)optnum(c, t, n, 2, "priorityclass", 0);
		th.stack_not_in_list = flag(t, n, 2, "separate");
		db_md_add_thread(c->md, &th);
		return;
	}
	if (!strcmp(cmd, "module")) {
		need_md(c, cmd);
		if (n < 2)
			die(c, "module PATH base=VA size=N");
		struct db_md_module m = { .name = t[1] };
		m.base = reqnum(c, t, n, 2, "base");
		m.size = (uint32_t)reqnum(c, t, n, 2, "size");
		m.timestamp = (uint32_t)optnum(c, t, n, 2, "timestamp", 0);
		m.checksum = (uint32_t)optnum(c, t, n, 2, "checksum", 0);
		if (opt(t, n, 2, "version"))
			version_arg(c, opt(t, n, 2, "version"), m.file_version);
		if (opt(t, n, 2, "product"))
			version_arg(c, opt(t, n, 2, "product"), m.product_version);
		m.no_version_info = flag(t, n, 2, "noversion");
		db_md_add_module(c->md, &m);
		return;
	}
	if (!strcmp(cmd, "unloaded")) {
		need_md(c, cmd);
		if (n < 2)
			die(c, "unloaded PATH base=VA size=N");
		struct db_md_unloaded_module u = { .name = t[1] };
		u.base = reqnum(c, t, n, 2, "base");
		u.size = (uint32_t)reqnum(c, t, n, 2, "size");
		u.timestamp = (uint32_t)optnum(c, t, n, 2, "timestamp", 0);
		u.checksum = (uint32_t)optnum(c, t, n, 2, "checksum", 0);
		db_md_add_unloaded_module(c->md, &u);
		return;
	}
	if (!strcmp(cmd, "memory")) {
		need_md(c, cmd);
		if (n < 2)
			die(c, "memory VA size=N");
		uint64_t va = num(c, t[1]), size = reqnum(c, t, n, 2, "size");
		if (opt(t, n, 2, "fill"))
			db_mem_fill(c->mem, va, (uint8_t)reqnum(c, t, n, 2, "fill"), size);
		const char *l = opt(t, n, 2, "list");
		enum db_md_list list = DB_LIST_32;
		if (l && !strcmp(l, "64"))
			list = DB_LIST_64;
		else if (l && !strcmp(l, "both"))
			list = DB_LIST_BOTH;
		else if (l && strcmp(l, "32"))
			die(c, "list=32|64|both");
		db_md_add_memory(c->md, va, size, list);
		return;
	}
	if (!strcmp(cmd, "meminfo")) {
		need_md(c, cmd);
		if (n < 2)
			die(c, "meminfo VA size=N ...");
		struct db_md_meminfo mi = { .base = num(c, t[1]) };
		mi.region_size = reqnum(c, t, n, 2, "size");
		mi.allocation_base = optnum(c, t, n, 2, "allocbase", mi.base);
		mi.allocation_protect = (uint32_t)optnum(c, t, n, 2, "allocprotect", 4);
		mi.state = (uint32_t)optnum(c, t, n, 2, "state", 0x1000);
		mi.protect = (uint32_t)optnum(c, t, n, 2, "protect", 4);
		mi.type = (uint32_t)optnum(c, t, n, 2, "type", 0x20000);
		db_md_add_meminfo(c->md, &mi);
		return;
	}
	if (!strcmp(cmd, "handle")) {
		need_md(c, cmd);
		if (n < 2)
			die(c, "handle VALUE ...");
		struct db_md_handle h = { .handle = num(c, t[1]) };
		h.type_name = opt(t, n, 2, "type");
		h.object_name = opt(t, n, 2, "name");
		h.attributes = (uint32_t)optnum(c, t, n, 2, "attributes", 0);
		h.granted_access = (uint32_t)optnum(c, t, n, 2, "access", 0);
		h.handle_count = (uint32_t)optnum(c, t, n, 2, "handles", 1);
		h.pointer_count = (uint32_t)optnum(c, t, n, 2, "pointers", 1);
		db_md_add_handle(c->md, &h);
		return;
	}
	if (!strcmp(cmd, "exception")) {
		need_md(c, cmd);
		struct db_md_exception e = { 0 };
		e.thread_id = (uint32_t)reqnum(c, t, n, 1, "thread");
		e.code = (uint32_t)reqnum(c, t, n, 1, "code");
		e.flags = (uint32_t)optnum(c, t, n, 1, "flags", 0);
		e.address = optnum(c, t, n, 1, "address", 0);
		e.record = optnum(c, t, n, 1, "record", 0);
		const char *p = opt(t, n, 1, "params");
		if (p) {
			char buf[1024];
			snprintf(buf, sizeof(buf), "%s", p);
			for (char *s = strtok(buf, ","); s; s = strtok(NULL, ",")) {
				if (e.number_parameters == 15)
					die(c, "at most 15 exception parameters");
				e.information[e.number_parameters++] = num(c, s);
			}
		}
		db_md_set_exception(c->md, &e);
		return;
	}
	if (!strcmp(cmd, "misc")) {
		need_md(c, cmd);
		struct db_md_misc_info mi = { 0 };
		mi.size_of_info = (uint32_t)reqnum(c, t, n, 1, "size");
		mi.process_id = (uint32_t)optnum(c, t, n, 1, "pid", 0);
		mi.process_create_time = (uint32_t)optnum(c, t, n, 1, "createtime", 0);
		mi.process_user_time = (uint32_t)optnum(c, t, n, 1, "usertime", 0);
		mi.process_kernel_time = (uint32_t)optnum(c, t, n, 1, "kerneltime", 0);
		mi.processor_max_mhz = (uint32_t)optnum(c, t, n, 1, "maxmhz", 0);
		mi.processor_current_mhz = (uint32_t)optnum(c, t, n, 1, "curmhz", 0);
		mi.processor_mhz_limit = mi.processor_max_mhz;
		mi.process_integrity_level = (uint32_t)optnum(c, t, n, 1, "integrity", 0);
		mi.time_zone_bias = (int32_t)optnum(c, t, n, 1, "tzbias", 0);
		mi.time_zone_standard_name = opt(t, n, 1, "tzname");
		mi.build_string = opt(t, n, 1, "build");
		mi.dbg_bld_str = opt(t, n, 1, "dbgbld");
		mi.process_cookie = (uint32_t)optnum(c, t, n, 1, "cookie", 0);
		db_md_set_misc_info(c->md, &mi);
		return;
	}
	if (!strcmp(cmd, "comment-a") || !strcmp(cmd, "comment-w")) {
		need_md(c, cmd);
		const char *text = rest_of_line(raw);
		char buf[4096];
		snprintf(buf, sizeof(buf), "%s", text);
		size_t l = strlen(buf);
		while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			buf[--l] = 0;
		if (!strcmp(cmd, "comment-a"))
			db_md_add_comment_a(c->md, buf);
		else
			db_md_add_comment_w(c->md, buf);
		return;
	}

	/* kernel commands */
	if (!strcmp(cmd, "runs")) {
		need_kd(c, cmd);
		struct db_kd_run runs[40];
		size_t nr = 0;
		for (size_t i = 1; i < n; i++) {
			char buf[128];
			snprintf(buf, sizeof(buf), "%s", t[i]);
			char *dash = strchr(buf, '-');
			if (!dash || nr == 40)
				die(c, "'%s': expected BASE-END", t[i]);
			*dash = 0;
			uint64_t b = num(c, buf), e = num(c, dash + 1);
			if (e <= b)
				die(c, "'%s': empty run", t[i]);
			runs[nr++] = (struct db_kd_run){ b, e - b };
		}
		check(c, db_kd_set_physical_runs(c->kd, runs, nr));
		c->spaces[0].dtb = db_kd_kernel_dtb(c->kd);
		cur_dtb = c->spaces[0].dtb;
		c->mem = db_kd_view(c->kd, cur_dtb);
		return;
	}
	if (!strcmp(cmd, "space")) {
		need_kd(c, cmd);
		if (n < 2 || c->nspaces == 64)
			die(c, "space NAME");
		for (size_t i = 0; i < c->nspaces; i++)
			if (!strcmp(c->spaces[i].name, t[1]))
				die(c, "address space '%s' already exists", t[1]);
		snprintf(c->spaces[c->nspaces].name, sizeof(c->spaces[0].name), "%s", t[1]);
		c->spaces[c->nspaces].dtb = db_kd_new_address_space(c->kd);
		c->nspaces++;
		return;
	}
	if (!strcmp(cmd, "use")) {
		need_kd(c, cmd);
		if (n < 2)
			die(c, "use NAME");
		cur_dtb = space_dtb(c, t[1]);
		c->mem = db_kd_view(c->kd, cur_dtb);
		return;
	}
	if (!strcmp(cmd, "map")) {
		need_kd(c, cmd);
		if (n < 2)
			die(c, "map VA size=N [page=4k|2m|4m|1g]");
		uint64_t dtb = current_dtb(c, t, n, cur_dtb);
		uint64_t va = num(c, t[1]), size = reqnum(c, t, n, 2, "size");
		const char *pg = opt(t, n, 2, "page");
		uint64_t ps = 0x1000;
		if (pg && !strcmp(pg, "2m"))
			ps = 0x200000;
		else if (pg && !strcmp(pg, "4m"))
			ps = 0x400000;
		else if (pg && !strcmp(pg, "1g"))
			ps = 0x40000000;
		else if (pg && strcmp(pg, "4k"))
			die(c, "page=4k|2m|4m|1g");
		if (opt(t, n, 2, "pa"))
			check(c, db_kd_map_phys(c->kd, dtb, va, reqnum(c, t, n, 2, "pa"), size, ps));
		else
			check(c, db_kd_map(c->kd, dtb, va, size, ps));
		return;
	}
	if (!strcmp(cmd, "transition")) {
		need_kd(c, cmd);
		if (n < 2)
			die(c, "transition VA");
		check(c, db_kd_make_transition(c->kd, current_dtb(c, t, n, cur_dtb), num(c, t[1])));
		return;
	}
	if (!strcmp(cmd, "pagedout")) {
		need_kd(c, cmd);
		if (n < 2)
			die(c, "pagedout VA pte=N");
		check(c, db_kd_make_paged_out(c->kd, current_dtb(c, t, n, cur_dtb), num(c, t[1]),
					      reqnum(c, t, n, 2, "pte")));
		return;
	}
	if (!strcmp(cmd, "exclude")) {
		need_kd(c, cmd);
		if (n < 2)
			die(c, "exclude PFN");
		db_kd_exclude_page(c->kd, num(c, t[1]));
		return;
	}
	if (!strcmp(cmd, "header")) {
		need_kd(c, cmd);
		struct db_kd_header *h = db_kd_header(c->kd);
		h->ps_active_process_head = optnum(c, t, n, 1, "psactiveprocesshead", h->ps_active_process_head);
		h->ps_loaded_module_list = optnum(c, t, n, 1, "psloadedmodulelist", h->ps_loaded_module_list);
		h->kd_debugger_data_block = optnum(c, t, n, 1, "kdbg", h->kd_debugger_data_block);
		h->pfn_database = optnum(c, t, n, 1, "pfndb", h->pfn_database);
		h->number_processors = (uint32_t)optnum(c, t, n, 1, "ncpu", h->number_processors);
		h->machine_image_type = (uint32_t)optnum(c, t, n, 1, "machine", h->machine_image_type);
		h->system_time = optnum(c, t, n, 1, "systemtime", h->system_time);
		h->system_up_time = optnum(c, t, n, 1, "uptime", h->system_up_time);
		h->product_type = (uint32_t)optnum(c, t, n, 1, "product", h->product_type);
		h->suite_mask = (uint32_t)optnum(c, t, n, 1, "suite", h->suite_mask);
		h->major_version = (uint32_t)optnum(c, t, n, 1, "major", h->major_version);
		h->minor_version = (uint32_t)optnum(c, t, n, 1, "minor", h->minor_version);
		h->pae_enabled = optnum(c, t, n, 1, "pae", h->pae_enabled) != 0;
		h->directory_table_base = optnum(c, t, n, 1, "dtb", h->directory_table_base);
		if (opt(t, n, 1, "comment"))
			h->comment = keep(c, opt(t, n, 1, "comment"));
		return;
	}
	if (!strcmp(cmd, "bugcheck")) {
		need_kd(c, cmd);
		if (n < 2)
			die(c, "bugcheck CODE P1 P2 P3 P4");
		struct db_kd_header *h = db_kd_header(c->kd);
		h->bugcheck_code = (uint32_t)num(c, t[1]);
		for (size_t i = 0; i < 4; i++)
			h->bugcheck_parameters[i] = 2 + i < n ? num(c, t[2 + i]) : 0;
		return;
	}
	if (!strcmp(cmd, "triage-block")) {
		need_kd(c, cmd);
		if (n < 2)
			die(c, "triage-block VA size=N");
		db_kd_triage_add_block(c->kd, num(c, t[1]), (uint32_t)reqnum(c, t, n, 2, "size"));
		return;
	}
	if (!strcmp(cmd, "triage-section")) {
		need_kd(c, cmd);
		static const char *names[DB_TRIAGE_NSECTIONS] = {
			"mm", "unloaded", "prcb", "process", "thread", "stack", "kdbg",
			"drivers", "pool" };
		if (n < 2)
			die(c, "triage-section NAME HH ...");
		int sec = -1;
		for (int i = 0; i < DB_TRIAGE_NSECTIONS; i++)
			if (!strcmp(t[1], names[i]))
				sec = i;
		if (sec < 0)
			die(c, "unknown triage section '%s'", t[1]);
		size_t nb = n - 2;
		uint8_t *b = malloc(nb ? nb : 1);
		for (size_t i = 0; i < nb; i++) {
			char *end;
			unsigned long v = strtoul(t[2 + i], &end, 16);
			if (*end || v > 0xFF)
				die(c, "'%s' is not a hex byte", t[2 + i]);
			b[i] = (uint8_t)v;
		}
		db_kd_triage_set_section(c->kd, (enum db_kd_triage_section)sec, b, (uint32_t)nb);
		free(b);
		return;
	}
	if (!strcmp(cmd, "triage-info")) {
		need_kd(c, cmd);
		db_kd_triage_set_info(c->kd, optnum(c, t, n, 1, "top", 0),
				      (uint32_t)optnum(c, t, n, 1, "drivers", 0),
				      (uint32_t)optnum(c, t, n, 1, "options", 0xFFFFFFFFu));
		return;
	}
	die(c, "unknown command '%s'", cmd);
}

static uint64_t size_arg(const char *s)
{
	struct ctx c = { .file = "argument" };
	return num(&c, s);
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) &&
	    (!strcmp(argv[1], "--big-minidump") || !strcmp(argv[1], "--big-kernel"))) {
		uint64_t size = size_arg(argv[3]);
		int rc = !strcmp(argv[1], "--big-minidump")
			 ? db_write_big_minidump_ranges(argv[2], size, argc == 5 ? size_arg(argv[4]) : 0)
			 : db_write_big_kernel_pages(argv[2], size,
						     argc == 5 ? size_arg(argv[4]) : 0x200000);
		if (rc != 0) {
			fprintf(stderr, "mkdump: %s\n", db_error());
			return 1;
		}
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr,
			"usage: mkdump DESCRIPTION OUTPUT\n"
			"       mkdump --big-minidump PATH SIZE [RANGE_SIZE]\n"
			"       mkdump --big-kernel PATH SIZE [4k|2m]\n"
			"(the description format is documented in tests/builder/README.md)\n");
		return 2;
	}
	struct ctx c = { .file = argv[1] };
	FILE *f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
	if (!f) {
		fprintf(stderr, "mkdump: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		c.line++;
		run(&c, line);
	}
	if (f != stdin)
		fclose(f);
	if (!c.md && !c.kd)
		die(&c, "empty description");
	int rc = c.md ? db_md_write(c.md, argv[2]) : db_kd_write_file(c.kd, argv[2]);
	if (rc != 0) {
		fprintf(stderr, "mkdump: %s\n", db_error());
		return 1;
	}
	/* Address spaces and their DTBs, for the scripts that use the dump. */
	for (size_t i = 0; c.kd && i < c.nspaces; i++)
		printf("space %s dtb=0x%llx\n", c.spaces[i].name,
		       (unsigned long long)c.spaces[i].dtb);
	db_md_free(c.md);
	db_kd_free(c.kd);
	for (size_t i = 0; i < c.nstrings; i++)
		free(c.strings[i]);
	return 0;
}
