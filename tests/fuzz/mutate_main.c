/* SPDX-License-Identifier: MIT */
/*
 * Deterministic mutation test: every seed dump given on the command line is
 * mutated ITER times (byte flips, interesting 32-bit values written over
 * header fields, truncation) with a fixed seed and run through the fuzz
 * target.  In the sanitizer build any out-of-bounds read, leak or UB is a
 * failure; in every build a hang is (meson's timeout).
 *
 * usage: fuzz_mutate [--target NAME] ITER FILE...
 * (NAME from the ich_fuzz_targets table; default "all")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	/* Test seeds are small files; reading them whole is fine here. */
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
	if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*len = n > 0 ? (size_t)n : 0;
	return p;
}

static void mutate(uint8_t *p, size_t *len)
{
	static const uint32_t interesting[] = {
		0, 1, 0x7f, 0x80, 0xff, 0x1000, 0xffff, 0x10000, 0x7fffffff,
		0x80000000, 0xfffffffe, 0xffffffff,
	};
	size_t n = *len;
	if (!n)
		return;
	int kind = (int)(next_rand() % 4);
	/* Bias towards the first 8 KiB: headers and directories live there. */
	size_t lim = n < 0x2000 || next_rand() % 2 ? (n < 0x2000 ? n : 0x2000) : n;
	size_t at = (size_t)(next_rand() % lim);
	switch (kind) {
	case 0:
		p[at] ^= (uint8_t)(1u << (next_rand() % 8));
		break;
	case 1:
		if (at + 4 <= n) {
			uint32_t v = interesting[next_rand() % (sizeof(interesting) / sizeof(interesting[0]))];
			memcpy(p + at, &v, 4);
		}
		break;
	case 2:
		p[at] = (uint8_t)next_rand();
		break;
	case 3:
		*len = at;	/* truncate */
		break;
	}
}

int main(int argc, char **argv)
{
	ich_fuzz_fn *target = ich_fuzz_one;
	int a = 1;
	if (argc > 2 && !strcmp(argv[1], "--target")) {
		target = NULL;
		for (const struct ich_fuzz_target *t = ich_fuzz_targets; t->name; t++)
			if (!strcmp(t->name, argv[2]))
				target = t->fn;
		if (!target) {
			fprintf(stderr, "%s: no fuzz target named %s\n", argv[0], argv[2]);
			return 2;
		}
		a = 3;
	}
	if (argc < a + 2) {
		fprintf(stderr, "usage: %s [--target NAME] ITER FILE...\n", argv[0]);
		return 2;
	}
	long iter = strtol(argv[a], NULL, 10);
	size_t total = 0;
	for (int f = a + 1; f < argc; f++) {
		size_t len;
		uint8_t *seed = slurp(argv[f], &len);
		if (!seed) {
			fprintf(stderr, "cannot read %s\n", argv[f]);
			return 1;
		}
		target(seed, len);
		uint8_t *buf = malloc(len ? len : 1);
		for (long i = 0; i < iter; i++) {
			memcpy(buf, seed, len);
			size_t l = len;
			int nmut = 1 + (int)(next_rand() % 4);
			for (int m = 0; m < nmut; m++)
				mutate(buf, &l);
			target(buf, l);
			total++;
		}
		free(buf);
		free(seed);
	}
	printf("%zu mutated dumps processed without a crash\n", total);
	return 0;
}
