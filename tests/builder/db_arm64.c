/* SPDX-License-Identifier: MIT */
/*
 * AArch64 translation table descriptors for the kernel dump writer
 * (db_kdump.c, DB_KD_ARM64), from the Arm Architecture Reference Manual
 * for A-profile (DDI 0487), D8.3 "Translation table descriptor formats"
 * (VMSAv8-64, stage 1, 4 KiB granule, 48-bit output address):
 *   bit 0      valid;
 *   bit 1      at levels 0-2: 1 = table descriptor, 0 = block descriptor
 *              (level 1: 1 GiB, level 2: 2 MiB; no level-0 block with a
 *              4 KiB granule); at level 3: 1 = page descriptor (0 is
 *              reserved, treated as invalid);
 *   47:12      next-level table address / output address;
 *   lower attributes of blocks and pages: AttrIndx 4:2 (MAIR_EL1 index),
 *              AP[2:1] 7:6 (AP[1] = EL0 access, AP[2] = read-only), SH 9:8
 *              (3 = inner shareable), AF 10 (access flag), nG 11;
 *   upper attributes: PXN 53, UXN 54.
 * The geometry is the x64 one: four levels of 512 entries indexed by VA
 * bits 47:39, 38:30, 29:21, 20:12.  The kernel half (VA bits 63:48 all
 * ones, level-0 indexes 256-511) lives in the same level-0 table as the
 * user half, shared by every process, as on x64 (Windows's ARM64 layout:
 * derived, see tests/builder/arm64/README.md).
 */
#include "db_internal.h"

#define A64_VALID 0x1ull
#define A64_TABLE_OR_PAGE 0x2ull
#define A64_ADDR 0x0000FFFFFFFFF000ull
#define A64_AP_EL0 (1ull << 6)
#define A64_SH_INNER (3ull << 8)
#define A64_AF (1ull << 10)
#define A64_NG (1ull << 11)
#define A64_PXN (1ull << 53)
#define A64_UXN (1ull << 54)

uint64_t db_a64_table_entry(uint64_t pa)
{
	return (pa & A64_ADDR) | A64_VALID | A64_TABLE_OR_PAGE;
}

uint64_t db_a64_leaf_entry(uint64_t pa, bool page, bool user)
{
	uint64_t v = (pa & A64_ADDR) | A64_VALID | (page ? A64_TABLE_OR_PAGE : 0) | A64_AF | A64_SH_INNER;
	/* user pages: EL0 read/write, not executable at EL1, not global;
	 * kernel pages: EL1 only, not executable at EL0 */
	return v | (user ? A64_AP_EL0 | A64_PXN | A64_NG : A64_UXN);
}

bool db_a64_is_block(uint64_t e, unsigned lvl)
{
	return (e & A64_VALID) && lvl >= 1 && lvl <= 2 && !(e & A64_TABLE_OR_PAGE);
}

uint64_t db_a64_addr(uint64_t e)
{
	return e & A64_ADDR;
}
