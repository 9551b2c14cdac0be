/* SPDX-License-Identifier: MIT */
/* libFuzzer entry point: one executable per target, the target chosen at
 * build time by ICH_FUZZ_TARGET (a name in the ich_fuzz_targets table). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ich_fuzz_fn *target;
	if (!target) {
		for (const struct ich_fuzz_target *t = ich_fuzz_targets; t->name; t++)
			if (!strcmp(t->name, ICH_FUZZ_TARGET))
				target = t->fn;
		if (!target)
			abort();
	}
	return target(data, size);
}
