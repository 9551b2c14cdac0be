/* SPDX-License-Identifier: MIT */
/* mkpageheapdump SCENARIO OUT.dmp OUT.expect
 * mkpageheapdump big SIZE BLOCKS OUT.dmp OUT.expect   (SIZE with k/m/g)
 * mkpageheapdump --list */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phb.h"

static unsigned long long num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	default: break;
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (unsigned i = 0; phb_scenarios[i]; i++)
			puts(phb_scenarios[i]);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "big"))
		return phb_build_big(num(argv[2]), num(argv[3]), argv[4], argv[5]) ? 1 : 0;
	if (argc != 4) {
		fprintf(stderr, "usage: mkpageheapdump SCENARIO OUT.dmp OUT.expect\n"
				"       mkpageheapdump big SIZE BLOCKS OUT.dmp OUT.expect\n"
				"       mkpageheapdump --list\n");
		return 2;
	}
	return phb_build(argv[1], argv[2], argv[3]) ? 1 : 0;
}
