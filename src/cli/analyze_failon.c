/* SPDX-License-Identifier: MIT */
/*
 * analyze --fail-on (which findings make exit code 1) and --baseline
 * (fingerprints already known from a previous report).
 *
 * --fail-on takes a comma-separated list that replaces the default:
 *   none | corruption | exception[=CODE[,CODE...]] | bugcheck | no-heap-data
 *   | icp-queue>N | icp-queue>=N | heap-committed>SIZE | heap-committed>=SIZE
 * CODE is an NTSTATUS code (c0000374, 0xc0000374) or its name
 * (STATUS_HEAP_CORRUPTION, HEAP_CORRUPTION); codes after exception= are
 * separated by commas like the terms (a bare code continues the list).
 * SIZE is core/size.h's (bytes, 0x-hex, K/M/G/T binary units; 1.5M allowed).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/analyze.h"
#include "core/size.h"

#define ACCEPTED "accepted: none, corruption, exception[=CODE,...], bugcheck, no-heap-data, " \
		 "icp-queue>N, icp-queue>=N, heap-committed>SIZE, heap-committed>=SIZE " \
		 "(CODE: c0000374 or STATUS_HEAP_CORRUPTION; SIZE: 65536, 64K, 1.5M, 2G); " \
		 "quote the list in a shell: --fail-on 'icp-queue>1000'"

void ich_fail_on_default(struct ich_fail_on *f)
{
	memset(f, 0, sizeof(*f));
	f->corruption = true;
	f->exception_codes[f->nexception_codes++] = 0xc0000374;	/* STATUS_HEAP_CORRUPTION */
	f->exception_codes[f->nexception_codes++] = 0xc0000409;	/* STATUS_STACK_BUFFER_OVERRUN (fast fail) */
	f->icp_queue = true;
	f->icp_queue_max = 10000;
}


static bool parse_code(const char *s, uint32_t *code)
{
	if (ich_ntstatus_code(s, code))
		return true;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	size_t n = strlen(p);
	if (n == 0 || n > 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	*code = (uint32_t)strtoul(p, NULL, 16);
	return true;
}

/* "icp-queue>N" / ">=": the threshold after the operator. */
static bool threshold(const char *tok, const char *name, bool size, bool *on, bool *ge,
		      uint64_t *max, char *err, size_t errlen, bool *matched)
{
	size_t n = strlen(name);
	if (strncmp(tok, name, n) || (tok[n] != '>' && tok[n] != '=' && tok[n] != '<' && tok[n] != '\0'))
		return true;
	*matched = true;
	const char *p = tok + n;
	bool g = false;
	if (p[0] == '>' && p[1] == '=') {
		g = true;
		p += 2;
	} else if (p[0] == '>') {
		p += 1;
	} else {
		snprintf(err, errlen, "'%s': %s needs '>' or '>=' and a %s; %s", tok, name,
			 size ? "size" : "number", ACCEPTED);
		return false;
	}
	uint64_t v;
	bool ok = size ? ich_parse_size(p, &v) : ich_cli_parse_u64(p, false, &v);
	if (!ok) {
		snprintf(err, errlen, "'%s': '%s' is not a %s; %s", tok, p,
			 size ? "size" : "number", ACCEPTED);
		return false;
	}
	*on = true;
	*ge = g;
	*max = v;
	return true;
}

bool ich_fail_on_parse(const char *spec, struct ich_fail_on *f, char *err, size_t errlen)
{
	struct ich_fail_on r;
	memset(&r, 0, sizeof(r));
	if (!*spec) {
		snprintf(err, errlen, "empty list (use 'none' to never fail on findings); %s", ACCEPTED);
		return false;
	}
	char *copy = strdup(spec);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	bool ok = true, in_codes = false, saw_none = false, saw_other = false;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t code;
		bool matched = false;
		if (!*tok)
			continue;
		if (in_codes && strchr(tok, '>') == NULL && strcmp(tok, "corruption") &&
		    strcmp(tok, "none") && strcmp(tok, "bugcheck") && strcmp(tok, "no-heap-data") &&
		    strncmp(tok, "exception", 9) && parse_code(tok, &code)) {
			if (r.nexception_codes >= ICH_FAIL_MAX_CODES) {
				snprintf(err, errlen, "more than %d exception codes", ICH_FAIL_MAX_CODES);
				ok = false;
			} else {
				r.exception_codes[r.nexception_codes++] = code;
			}
			continue;
		}
		in_codes = false;
		if (!strcmp(tok, "none")) {
			saw_none = true;
			continue;
		}
		saw_other = true;
		if (!strcmp(tok, "corruption") || !strcmp(tok, "heap-corruption")) {
			r.corruption = true;
		} else if (!strcmp(tok, "bugcheck")) {
			r.bugcheck = true;
		} else if (!strcmp(tok, "no-heap-data")) {
			r.no_heap_data = true;
		} else if (!strcmp(tok, "exception")) {
			r.exception_any = true;
		} else if (!strncmp(tok, "exception=", 10)) {
			if (!parse_code(tok + 10, &code)) {
				snprintf(err, errlen, "'%s': '%s' is not an exception code; %s", tok, tok + 10, ACCEPTED);
				ok = false;
			} else if (r.nexception_codes < ICH_FAIL_MAX_CODES) {
				r.exception_codes[r.nexception_codes++] = code;
				in_codes = true;
			}
		} else {
			ok = threshold(tok, "icp-queue", false, &r.icp_queue, &r.icp_queue_ge,
				       &r.icp_queue_max, err, errlen, &matched);
			if (ok && !matched)
				ok = threshold(tok, "heap-committed", true, &r.heap_committed,
					       &r.heap_committed_ge, &r.heap_committed_max, err, errlen, &matched);
			if (ok && !matched) {
				snprintf(err, errlen, "unknown term '%s'; %s", tok, ACCEPTED);
				ok = false;
			}
		}
	}
	free(copy);
	if (ok && saw_none && saw_other) {
		snprintf(err, errlen, "'none' cannot be combined with other terms");
		ok = false;
	}
	if (ok && !saw_none && !saw_other) {
		snprintf(err, errlen, "empty list (use 'none' to never fail on findings); %s", ACCEPTED);
		ok = false;
	}
	if (ok)
		*f = r;
	return ok;
}

bool ich_fail_on_over(bool enabled, bool ge, uint64_t max, uint64_t v)
{
	return enabled && (ge ? v >= max : v > max);
}

bool ich_fail_on_matches(const struct ich_fail_on *f, const struct ich_finding *fd)
{
	if (!strcmp(fd->kind, ICH_FINDING_HEAP_CORRUPTION))
		return f->corruption;
	if (!strcmp(fd->kind, ICH_FINDING_BUGCHECK))
		return f->bugcheck;
	if (!strcmp(fd->kind, ICH_FINDING_NO_HEAP_DATA))
		return f->no_heap_data;
	if (!strcmp(fd->kind, ICH_FINDING_EXCEPTION)) {
		if (f->exception_any)
			return true;
		for (size_t i = 0; i < f->nexception_codes; i++)
			if (f->exception_codes[i] == fd->code)
				return true;
		return false;
	}
	if (!strcmp(fd->kind, ICH_FINDING_ICP_QUEUE))
		return ich_fail_on_over(f->icp_queue, f->icp_queue_ge, f->icp_queue_max, fd->count);
	if (!strcmp(fd->kind, ICH_FINDING_HEAP_COMMITTED))
		return ich_fail_on_over(f->heap_committed, f->heap_committed_ge, f->heap_committed_max, fd->count);
	return false;
}

/* ---- --baseline --------------------------------------------------------- */

/* Every "fingerprint":"<16 hex>" in the file: a JSONL report from
 * `analyze --jsonl` (or a --json document; both carry the same finding
 * objects).  A file with none is an error: it is probably not a report
 * (e.g. a dump passed by mistake). */
static int cmp_fp(const void *a, const void *b)
{
	return strcmp(a, b);
}

struct ich_error *ich_baseline_load(const char *path, struct ich_baseline *b)
{
	memset(b, 0, sizeof(*b));
	FILE *f = fopen(path, "r");
	if (!f)
		return ich_error_os(errno, path, "cannot open the baseline");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	/* A report starts with '{' (a JSONL line or the --json document); a
	 * dump starts with "MDMP" / "PAGE" or the gzip magic. */
	int first = ' ';
	while (first == ' ' || first == '\n' || first == '\r' || first == '\t')
		first = fgetc(f);
	bool any_json = first == '{';
	if (first != EOF)
		ungetc(first, f);
	while (any_json && (len = getline(&line, &cap, f)) > 0) {
		const char *key = "\"fingerprint\"";
		for (char *p = strstr(line, key); p; p = strstr(p + 1, key)) {
			char *q = p + strlen(key);
			while (*q == ' ' || *q == ':')
				q++;
			if (*q != '"')
				continue;
			q++;
			size_t k = 0;
			while (k < 16 && isxdigit((unsigned char)q[k]))
				k++;
			if (k != 16 || q[16] != '"')
				continue;
			if (b->n == alloc) {
				size_t na = alloc ? 2 * alloc : 64;
				void *nv = realloc(b->fp, na * sizeof(*b->fp));
				if (!nv) {
					free(line);
					fclose(f);
					ich_baseline_free(b);
					return &ich_enomem;
				}
				b->fp = nv;
				alloc = na;
			}
			memcpy(b->fp[b->n], q, 16);
			b->fp[b->n][16] = '\0';
			b->n++;
		}
	}
	free(line);
	fclose(f);
	/* Sorted once, so every finding is looked up by binary search. */
	if (b->n)
		qsort(b->fp, b->n, sizeof(*b->fp), cmp_fp);
	if (!any_json && first != EOF)	/* an empty report (no dumps) is fine */
		return ich_error_create(ICH_ERR_INVALID_ARG,
					"%s: not a JSONL report from `icpheap analyze --jsonl` (--baseline takes a previous report, not a dump)",
					path);
	return NULL;
}

bool ich_baseline_has(const struct ich_baseline *b, const char *fp)
{
	if (!b || !b->n)
		return false;
	return bsearch(fp, b->fp, b->n, sizeof(*b->fp), cmp_fp) != NULL;
}

void ich_baseline_free(struct ich_baseline *b)
{
	free(b->fp);
	b->fp = NULL;
	b->n = 0;
}

const char *ich_human_size(uint64_t v, char *buf, size_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	if (v < 1024) {
		snprintf(buf, n, "%" PRIu64 " byte%s", v, v == 1 ? "" : "s");
		return buf;
	}
	double d = (double)v;
	int u = -1;
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	snprintf(buf, n, d < 10 ? "%.1f %s" : "%.0f %s", d, units[u]);
	return buf;
}
