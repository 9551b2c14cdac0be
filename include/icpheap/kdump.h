/* SPDX-License-Identifier: MIT */
/*
 * Parsed header of a kernel crash dump (DUMP_HEADER32 'PAGE'/'DUMP',
 * DUMP_HEADER64 'PAGE'/'DU64').  Layouts: ../shared/reference/layouts.md §7
 * (kdmp-parser, volatility3 crash.json / crash64.json).
 */
#ifndef ICPHEAP_KDUMP_H
#define ICPHEAP_KDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/dump.h>

#ifdef __cplusplus
extern "C" {
#endif

/* DUMP_HEADER DumpType values. */
enum ich_kdump_type {
	ICH_KDUMP_FULL = 1,
	ICH_KDUMP_SUMMARY = 2,		/* old summary dump */
	ICH_KDUMP_HEADER = 3,
	ICH_KDUMP_TRIAGE = 4,		/* small memory dump */
	ICH_KDUMP_BITMAP_FULL = 5,	/* BMP: 'SDMP' kernel / 'FDMP' full */
	ICH_KDUMP_BITMAP_LIVE = 6,	/* live kernel bitmap (22H2+) */
	ICH_KDUMP_RDMP_KERNEL = 8,	/* .dump /k */
	ICH_KDUMP_RDMP_KERNEL_USER = 9,	/* .dump /ka */
	ICH_KDUMP_RDMP_COMPLETE = 10,	/* .dump /f */
};
const char *ich_kdump_type_name(uint32_t dump_type);

struct ich_kdump_run {
	uint64_t base_page;
	uint64_t page_count;
};

struct ich_kdump_triage {
	uint32_t service_pack_build, size_of_dump, valid_offset;
	uint32_t context_offset, exception_offset, mm_offset;
	uint32_t unloaded_drivers_offset, prcb_offset, process_offset;
	uint32_t thread_offset, call_stack_offset, size_of_call_stack;
	uint32_t driver_list_offset, driver_count;
	uint32_t string_pool_offset, string_pool_size;
	uint32_t broken_driver_offset, triage_options;
	uint64_t top_of_stack;
	uint32_t debugger_data_offset, debugger_data_size;
	uint32_t data_blocks_offset, data_blocks_count;
	uint64_t data_block_bytes;	/* kernel VA bytes in the data blocks */
};

struct ich_kdump {
	bool is64;			/* DUMP_HEADER64 */
	uint32_t major_version, minor_version;	/* minor = build number */
	uint64_t directory_table_base;
	uint64_t pfn_database;
	uint64_t ps_loaded_module_list;
	uint64_t ps_active_process_head;
	uint32_t machine_image_type;	/* 0x14c x86, 0x8664 x64, 0xaa64 arm64 */
	uint32_t number_processors;
	uint32_t bugcheck_code;
	uint64_t bugcheck_parameters[4];
	uint64_t kd_debugger_data_block;
	bool pae_enabled;		/* 32-bit only */
	uint32_t dump_type;		/* enum ich_kdump_type */
	uint64_t required_dump_space;
	uint64_t system_time;		/* FILETIME */
	uint64_t system_up_time;
	uint32_t mini_dump_fields;
	uint32_t product_type, suite_mask;
	uint32_t writer_status;
	uint8_t kd_secondary_version;
	uint32_t attributes, boot_id;
	char comment[129];		/* printable part of Comment */

	/* Exception record from the header. */
	uint32_t exception_code;
	uint64_t exception_address;

	/* Physical memory layout. */
	struct ich_kdump_run *runs;	size_t nruns;	/* full dumps */
	uint64_t total_pages;		/* pages the header describes */
	uint64_t present_pages;		/* pages whose data is in the file */
	uint64_t first_page_offset;	/* file offset of the first page */
	char bitmap_signature[5];	/* "SDMP", "FDMP", "RDMP" or "" */

	bool has_triage;	struct ich_kdump_triage triage;

	/* Truncation: file shorter than the header promises. */
	bool truncated;
	uint64_t expected_file_size;
};

#ifdef __cplusplus
}
#endif
#endif
