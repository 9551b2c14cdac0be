/* SPDX-License-Identifier: MIT */
/*
 * 32-bit kernel-dump container variants of the x86 scenarios: the same
 * kernel objects and heaps as x86pae-19041-full(-heaps), written as a
 * bitmap or RDMP file (dumpbuilder db_kdump.c: the BMP / RDMP header at
 * 0x1000 after DUMP_HEADER32).
 *
 * Names: ARCH-19041-KIND[-heaps], ARCH = x86pae (PAE) or x86 (non-PAE),
 * KIND = fdmp (DumpType 5, 'FDMP': full bitmap), sdmp (5, 'SDMP': kernel
 * bitmap), rdmpk (8, .dump /k), rdmpku (9, .dump /ka), rdmpf (0xA, .dump
 * /f), summary (2, SUMMARY_DUMP32: the Windows 7-era kernel dump).
 * "full" is the existing DumpType 1 scenario (not handled here).
 */
#include "kobjbuilder.h"

#include <string.h>

bool kb_kind32(const char *name, enum db_kd_arch *arch, uint32_t *dump_type,
	       uint32_t *bmp_signature, bool *heaps)
{
	static const struct {
		const char *kind;
		uint32_t type, sig;
	} kinds[] = {
		{ "fdmp", DB_KD_BITMAP, 0x504D4446u },	/* 'FDMP' */
		{ "sdmp", DB_KD_BITMAP, 0x504D4453u },	/* 'SDMP' */
		{ "rdmpk", DB_KD_RDMP_KERNEL, 0 },
		{ "rdmpku", DB_KD_RDMP_KERNEL_USER, 0 },
		{ "rdmpf", DB_KD_RDMP_COMPLETE, 0 },
		{ "summary", DB_KD_SUMMARY, 0 },	/* DumpType 2, SUMMARY_DUMP32 */
	};
	const char *rest;
	if (!strncmp(name, "x86pae-19041-", 13)) {
		*arch = DB_KD_X86_PAE;
		rest = name + 13;
	} else if (!strncmp(name, "x86-19041-", 10)) {
		*arch = DB_KD_X86;
		rest = name + 10;
	} else {
		return false;
	}
	size_t n = strlen(rest);
	*heaps = n > 6 && !strcmp(rest + n - 6, "-heaps");
	if (*heaps)
		n -= 6;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strlen(kinds[i].kind) == n && !strncmp(rest, kinds[i].kind, n)) {
			*dump_type = kinds[i].type;
			*bmp_signature = kinds[i].sig;
			return true;
		}
	}
	return false;
}
