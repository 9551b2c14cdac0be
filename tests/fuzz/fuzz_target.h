/* SPDX-License-Identifier: MIT */
#ifndef ICPHEAP_FUZZ_TARGET_H
#define ICPHEAP_FUZZ_TARGET_H
#include <stddef.h>
#include <stdint.h>
#include <icpheap/dump.h>

/* One fuzz target: exercise one input held in memory; never fails. */
typedef int ich_fuzz_fn(const uint8_t *data, size_t size);
struct ich_fuzz_target {
	const char *name;
	ich_fuzz_fn *fn;
};
/* Every target, NULL-terminated (fuzz_targets.c). */
extern const struct ich_fuzz_target ich_fuzz_targets[];

/* Open and exercise one dump image with every walker ("all"). */
int ich_fuzz_one(const uint8_t *data, size_t size);
struct ich_error *ich_fuzz_list_cb(uint64_t e, void *arg);
/* The walkers above the readers: fuzz_deeper.c. */
void ich_fuzz_heaps(struct ich_dump *dump);
void ich_fuzz_kernel(struct ich_dump *dump);
void ich_fuzz_seg_heaps(struct ich_dump *dump);
#endif
