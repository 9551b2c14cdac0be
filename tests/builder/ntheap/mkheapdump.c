/* SPDX-License-Identifier: MIT */
/* mkheapdump SCENARIO OUT.dmp OUT.expect   (or: mkheapdump big N OUT.dmp OUT.expect) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ntheapbuilder.h"

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "big"))
		return nhb_build("big", strtoul(argv[2], NULL, 0), argv[3], argv[4]) ? 1 : 0;
	if (argc != 4) {
		fprintf(stderr, "usage: mkheapdump SCENARIO OUT.dmp OUT.expect | big N OUT.dmp OUT.expect\n");
		return 2;
	}
	return nhb_build(argv[1], 0, argv[2], argv[3]) ? 1 : 0;
}
