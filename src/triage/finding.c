/* SPDX-License-Identifier: MIT */
/*
 * Findings: the one record every output renders (text, JSON, SARIF, JUnit,
 * Markdown), with a fingerprint that names the problem, not the run.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <icpheap/triage.h>

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	/* A separator, so ("ab","c") and ("a","bc") differ. */
	h ^= 0x1f;
	h *= 0x100000001b3ull;
	return h;
}

/* detail with every "0x..." / bare hex run of 4+ digits and every decimal
 * number replaced by '#', lower-cased: addresses and counts that change
 * from dump to dump do not change the fingerprint.  A part in braces
 * ("{3}") is an identity the caller vouches is stable across runs (a heap's
 * index in the PEB's list): it is kept as it is, so two heaps whose first
 * problems read alike still get two fingerprints. */
static void normalize(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (const char *p = in; *p && o + 2 < n;) {
		if (*p == '{') {
			while (*p && *p != '}' && o + 2 < n)
				out[o++] = *p++;
			continue;
		}
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
			p += 2;
			while (isxdigit((unsigned char)*p))
				p++;
			out[o++] = '#';
			continue;
		}
		size_t k = 0;
		while (isxdigit((unsigned char)p[k]))
			k++;
		bool digit = isdigit((unsigned char)*p);
		if (k >= 4 || digit) {
			bool has_digit = false;
			for (size_t i = 0; i < k; i++)
				has_digit |= isdigit((unsigned char)p[i]) != 0;
			if (has_digit) {
				p += k ? k : 1;
				out[o++] = '#';
				continue;
			}
		}
		out[o++] = (char)tolower((unsigned char)*p++);
	}
	out[o] = '\0';
}

void ich_finding_fingerprint(struct ich_finding *f, const char *image, const char *detail)
{
	char norm[256], num[64];
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv1a(h, f->kind);
	/* Image names are case-insensitive on Windows. */
	char img[ICH_MODULE_NAME_MAX];
	snprintf(img, sizeof(img), "%s", image ? image : "");
	for (char *p = img; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	h = fnv1a(h, img);
	snprintf(num, sizeof(num), "%08x", f->code);
	h = fnv1a(h, num);
	if (f->has_module) {
		char mod[ICH_MODULE_NAME_MAX];
		snprintf(mod, sizeof(mod), "%s", f->module);
		for (char *p = mod; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(num, sizeof(num), "+%" PRIx64, f->offset);
		h = fnv1a(h, mod);
		h = fnv1a(h, num);
	}
	normalize(detail ? detail : "", norm, sizeof(norm));
	h = fnv1a(h, norm);
	snprintf(f->fingerprint, sizeof(f->fingerprint), "%016" PRIx64, h);
}

/* Codes that mean heap or memory-safety trouble: errors.  Breakpoints,
 * C++ exceptions and the rest: warnings (the process still died). */
static enum ich_severity crash_severity(const struct ich_crash *c)
{
	if (c->bugcheck)
		return (c->code & ~0x10000000u) == 0xe2 || c->code == 0x161 ? ICH_SEV_NOTE : ICH_SEV_ERROR;
	switch (c->code) {
	case 0xc0000005: case 0xc0000006: case 0xc00000fd: case 0xc0000374:
	case 0xc0000409: case 0xc0000602: case 0xc000001d: case 0xc0000096:
	case 0xc0000420: case 0xc0000017:
		return ICH_SEV_ERROR;
	}
	return ICH_SEV_WARNING;
}

void ich_crash_finding(const struct ich_crash *c, const char *image, struct ich_finding *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->kind, sizeof(f->kind), "%s", c->bugcheck ? ICH_FINDING_BUGCHECK : ICH_FINDING_EXCEPTION);
	f->severity = crash_severity(c);
	f->code = c->code;
	char desc[200];
	ich_crash_describe(c, desc, sizeof(desc));
	snprintf(f->message, sizeof(f->message), "%s", desc);
	if (!c->bugcheck) {
		f->has_address = true;
		f->address = c->address;
	}
	if (c->has_module) {
		f->has_module = true;
		snprintf(f->module, sizeof(f->module), "%s", c->module);
		f->offset = c->module_offset;
	}
	/* The fast-fail code and access kind are part of what went wrong;
	 * the accessed address is not (it moves). */
	char detail[96];
	snprintf(detail, sizeof(detail), "%s%s%s", c->has_fast_fail ? "fast-fail " : "",
		 c->has_fast_fail ? (ich_fast_fail_name(c->fast_fail) ? ich_fast_fail_name(c->fast_fail) : "?") : "",
		 ich_access_name(c->access) ? ich_access_name(c->access) : "");
	ich_finding_fingerprint(f, image, detail);
}
