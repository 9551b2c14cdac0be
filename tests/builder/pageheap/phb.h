/* SPDX-License-Identifier: MIT */
/* pageheapbuilder: page heap (DPH), +ust, leak, triage, heap-failure and
 * heap-diff scenarios laid out from public layouts only (see README.md in
 * this folder for every source); never from src/heap or src/types. */
#ifndef PAGEHEAPBUILDER_H
#define PAGEHEAPBUILDER_H
#include <stdint.h>

/* Builds scenario `name` and writes the dump and its expectation file.
 * Returns 0 or -1 (message on stderr).  `phb_scenarios` lists the names. */
int phb_build(const char *name, const char *dmp, const char *expect);
/* The benchmark dump: one x64 NT heap with `blocks` back-end blocks in a
 * segment of about `bytes` bytes (written in bulk); the expectation file
 * holds summary lines only (see README.md). */
int phb_build_big(uint64_t bytes, uint64_t blocks, const char *dmp, const char *expect);
extern const char *const phb_scenarios[];
#endif
