/* SPDX-License-Identifier: MIT */
/*
 * Kernel triage (small memory) dumps, DumpType 4: a TRIAGE_DUMP64 at file
 * offset 0x2000 after the DUMP_HEADER64, and data blocks that hold pieces
 * of kernel virtual memory ({VA u64, file offset u32, size u32}).  There
 * are no page tables: the blocks become a VA range space.  Field offsets
 * were located in the real 19041 triage dump (testdata/real, MANIFEST
 * facts from an independent parser): ServicePackBuild 0 ... TopOfStack
 * 0x48, DebuggerDataOffset 0x70, DebuggerDataSize 0x74, DataBlocksOffset
 * 0x78, DataBlocksCount 0x7C.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "core/endian.h"
#include "reader/kdump_internal.h"

#define TRIAGE 0x2000u
#define MAX_BLOCKS 1000000u


struct ich_error *kd_triage_open(struct ich_dump *dump)
{
	const uint8_t *d = dump->file.data;
	uint64_t size = dump->file.size;
	struct ich_kdump *kd = dump->kd;
	if (!kd->is64)
		return ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: 32-bit triage dumps (TRIAGE_DUMP32) are not supported", dump->path);
	if (size < TRIAGE + 0x80)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: triage dump: TRIAGE_DUMP64 at 0x2000 needs 0x80 bytes, the file has 0x%" PRIx64,
			dump->path, size);
	const uint8_t *t = d + TRIAGE;
	struct ich_kdump_triage *tr = &kd->triage;
	/* the first 18 ULONGs, in struct order */
	uint32_t *fields[] = {
		&tr->service_pack_build, &tr->size_of_dump, &tr->valid_offset,
		&tr->context_offset, &tr->exception_offset, &tr->mm_offset,
		&tr->unloaded_drivers_offset, &tr->prcb_offset, &tr->process_offset,
		&tr->thread_offset, &tr->call_stack_offset, &tr->size_of_call_stack,
		&tr->driver_list_offset, &tr->driver_count, &tr->string_pool_offset,
		&tr->string_pool_size, &tr->broken_driver_offset, &tr->triage_options,
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*fields[i] = ich_le32(t + 4 * i);
	tr->top_of_stack = ich_le64(t + 0x48);
	tr->debugger_data_offset = ich_le32(t + 0x70);
	tr->debugger_data_size = ich_le32(t + 0x74);
	tr->data_blocks_offset = ich_le32(t + 0x78);
	tr->data_blocks_count = ich_le32(t + 0x7C);
	kd->has_triage = true;
	kd->expected_file_size = tr->size_of_dump;
	if (tr->size_of_dump > size) {
		kd->truncated = true;
		ich_dump_warn(dump, "file is 0x%" PRIx64 " bytes, the triage header promises 0x%x; data from file offset 0x%" PRIx64 " on is missing",
			      size, tr->size_of_dump, size);
	}
	uint64_t n = tr->data_blocks_count, off = tr->data_blocks_offset;
	if (n > MAX_BLOCKS || off > size || n * 16 > size - off)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: triage dump: %" PRIu64 " data blocks at 0x%" PRIx64 " do not fit in the file (0x%" PRIx64 " bytes)",
			dump->path, n, off, size);
	struct ich_va_range *r = calloc(n ? n : 1, sizeof(*r));
	if (!r)
		return &ich_enomem;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *b = d + off + 16 * i;
		r[i].start = ich_le64(b);
		r[i].file_off = ich_le32(b + 8);
		r[i].size = ich_le32(b + 12);
		tr->data_block_bytes += r[i].size;
		if (r[i].file_off + r[i].size > size)
			ich_dump_warn(dump, "triage data block %" PRIu64 " (0x%" PRIx64 "+0x%" PRIx64 ") at file offset 0x%" PRIx64 " runs past the end of the file",
				      i, r[i].start, r[i].size, r[i].file_off);
	}
	struct ich_error *err = ich_range_as_create(dump, 8, "kernel VA (triage data blocks)", r, (size_t)n, &dump->as);
	free(r);
	return err;
}
