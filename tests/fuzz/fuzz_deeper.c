/* SPDX-License-Identifier: MIT */
/* Runs the walkers above the readers on a fuzzed dump. */
#include "fuzz_target.h"

void ich_fuzz_deeper(struct ich_dump *dump)
{
	(void)dump;
}
