/* SPDX-License-Identifier: MIT */
/* mksegheapdump SCENARIO OUT.dmp OUT.expect   (or: mksegheapdump big N OUT.dmp OUT.expect) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "segheapbuilder.h"

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "big"))
		return shb_build("big", strtoul(argv[2], NULL, 0), argv[3], argv[4]) ? 1 : 0;
	if (argc != 4) {
		fprintf(stderr, "usage: mksegheapdump SCENARIO OUT.dmp OUT.expect | big N OUT.dmp OUT.expect\nscenarios:");
		for (const char *const *s = shb_scenarios; *s; s++)
			fprintf(stderr, " %s", *s);
		fputc('\n', stderr);
		return 2;
	}
	return shb_build(argv[1], 0, argv[2], argv[3]) ? 1 : 0;
}
