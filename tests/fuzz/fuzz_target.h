/* SPDX-License-Identifier: MIT */
#ifndef ICPHEAP_FUZZ_TARGET_H
#define ICPHEAP_FUZZ_TARGET_H
#include <stddef.h>
#include <stdint.h>
#include <icpheap/dump.h>

/* Open and exercise one dump image held in memory; never fails. */
int ich_fuzz_one(const uint8_t *data, size_t size);
struct ich_error *ich_fuzz_list_cb(uint64_t e, void *arg);
/* The walkers above the readers (heaps, kernel objects): fuzz_deeper.c. */
void ich_fuzz_deeper(struct ich_dump *dump);
#endif
