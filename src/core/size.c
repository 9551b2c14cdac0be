/* SPDX-License-Identifier: MIT */
/* Sizes people type (core/size.h). */
#include <ctype.h>

#include "core/size.h"

bool ich_parse_size(const char *s, uint64_t *out)
{
	if (!s)
		return false;
	const char *p = s;
	uint64_t ip = 0;
	bool any = false, hex = false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = true;
		p += 2;
		while (isxdigit((unsigned char)*p)) {
			unsigned d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
							       : (unsigned)((*p | 0x20) - 'a' + 10);
			if (ip > (UINT64_MAX - d) / 16)
				return false;
			ip = ip * 16 + d;
			p++;
			any = true;
		}
	} else {
		while (isdigit((unsigned char)*p)) {
			unsigned d = (unsigned)(*p - '0');
			if (ip > (UINT64_MAX - d) / 10)
				return false;
			ip = ip * 10 + d;
			p++;
			any = true;
		}
	}
	if (!any)
		return false;
	/* The fraction as an exact decimal numerator/denominator (at most 9
	 * digits kept), so 1.5M is 1572864 exactly. */
	uint64_t fnum = 0, fden = 1;
	if (*p == '.') {
		if (hex)
			return false;
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		for (; isdigit((unsigned char)*p); p++)
			if (fden < 1000000000u) {
				fnum = fnum * 10 + (uint64_t)(*p - '0');
				fden *= 10;
			}
	}
	unsigned shift = 0;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	default: break;
	}
	if (shift && (*p == 'i' || *p == 'I'))
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return false;
	if (fnum && !shift)
		return false;	/* "1.5" bytes means nothing */
	if (ip > (UINT64_MAX >> shift))
		return false;
	uint64_t v = ip << shift;
	/* fnum < fden <= 1e9 < 2^30, so fnum << 30 fits in 64 bits: scale
	 * by up to 2^30 exactly, the rest of a T after the division. */
	unsigned first = shift < 30 ? shift : 30;
	uint64_t f = ((fnum << first) / fden) << (shift - first);
	if (v > UINT64_MAX - f)
		return false;
	*out = v + f;
	return true;
}

bool ich_parse_number(const char *s, bool hex, uint64_t *out)
{
	if (!s || !*s)
		return false;
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (hex) {
		base = 16;
	}
	/* WinDbg writes 64-bit addresses as 00007ff6`4c1b0000. */
	uint64_t v = 0;
	bool any = false;
	for (; *s; s++) {
		if (*s == '`' && base == 16 && any)
			continue;
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;	/* overflow */
		v = v * (uint64_t)base + (uint64_t)d;
		any = true;
	}
	if (!any)
		return false;
	*out = v;
	return true;
}
