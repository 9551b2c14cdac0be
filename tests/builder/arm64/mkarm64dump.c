/* SPDX-License-Identifier: MIT */
/* mkarm64dump SCENARIO OUT.dmp OUT.expect  (tests/builder/arm64/README.md) */
#include <stdio.h>
#include <string.h>
#include "a64builder.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: mkarm64dump SCENARIO OUT.dmp OUT.expect\n");
		return 2;
	}
	return a64_minidump(argv[1], argv[2], argv[3]) ? 1 : 0;
}
