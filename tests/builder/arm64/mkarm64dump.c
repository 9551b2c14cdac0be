/* SPDX-License-Identifier: MIT */
/* mkarm64dump SCENARIO OUT.dmp OUT.expect [OUT.heaps]
 * (tests/builder/arm64/README.md): minidump scenarios take two outputs,
 * the kernel dump scenario three. */
#include <stdio.h>
#include <string.h>
#include "a64builder.h"

int main(int argc, char **argv)
{
	if (argc == 5)
		return a64_kernel(argv[1], argv[2], argv[3], argv[4]) ? 1 : 0;
	if (argc != 4) {
		fprintf(stderr, "usage: mkarm64dump SCENARIO OUT.dmp OUT.expect [OUT.heaps]\n");
		return 2;
	}
	return a64_minidump(argv[1], argv[2], argv[3]) ? 1 : 0;
}
