/* SPDX-License-Identifier: MIT */
/*
 * Parsed contents of a user-mode minidump (MDMP).  Filled once at open;
 * strings are UTF-8 (converted from the dump's UTF-16).  Layouts:
 * Microsoft's minidumpapiset.h / MINIDUMP_* documentation.
 */
#ifndef ICPHEAP_MINIDUMP_H
#define ICPHEAP_MINIDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/dump.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MINIDUMP_STREAM_TYPE values used by icpheap. */
enum {
	ICH_MD_STREAM_THREAD_LIST = 3,
	ICH_MD_STREAM_MODULE_LIST = 4,
	ICH_MD_STREAM_MEMORY_LIST = 5,
	ICH_MD_STREAM_EXCEPTION = 6,
	ICH_MD_STREAM_SYSTEM_INFO = 7,
	ICH_MD_STREAM_THREAD_EX_LIST = 8,
	ICH_MD_STREAM_MEMORY64_LIST = 9,
	ICH_MD_STREAM_COMMENT_A = 10,
	ICH_MD_STREAM_COMMENT_W = 11,
	ICH_MD_STREAM_HANDLE_DATA = 12,
	ICH_MD_STREAM_FUNCTION_TABLE = 13,
	ICH_MD_STREAM_UNLOADED_MODULE_LIST = 14,
	ICH_MD_STREAM_MISC_INFO = 15,
	ICH_MD_STREAM_MEMORY_INFO_LIST = 16,
	ICH_MD_STREAM_THREAD_INFO_LIST = 17,
	ICH_MD_STREAM_HANDLE_OPERATION_LIST = 18,
	ICH_MD_STREAM_TOKEN = 19,
	ICH_MD_STREAM_SYSTEM_MEMORY_INFO = 21,
	ICH_MD_STREAM_PROCESS_VM_COUNTERS = 22,
	ICH_MD_STREAM_THREAD_NAMES = 24,
};

/* Name of a stream type ("ThreadList"), or NULL when unknown. */
const char *ich_md_stream_name(uint32_t type);

struct ich_md_stream {
	uint32_t type;
	uint32_t size;
	uint32_t rva;
};

struct ich_md_system_info {
	uint16_t processor_architecture;	/* PROCESSOR_ARCHITECTURE_* */
	uint16_t processor_level;
	uint16_t processor_revision;
	uint8_t number_of_processors;
	uint8_t product_type;		/* 1 workstation, 2 DC, 3 server */
	uint32_t major_version, minor_version, build_number;
	uint32_t platform_id;
	uint16_t suite_mask;
	char *csd_version;		/* service pack string, may be "" */
};

struct ich_md_misc_info {
	uint32_t size_of_info;		/* 24 (v1), 44 (v2), 232 (v3), 832 (v4), 1364 (v5) */
	uint32_t flags1;
	bool has_pid, has_times, has_power, has_timezone, has_build_strings;
	uint32_t process_id;
	uint32_t process_create_time;	/* time_t */
	uint32_t process_user_time, process_kernel_time;	/* seconds */
	uint32_t processor_max_mhz, processor_current_mhz, processor_mhz_limit;
	uint32_t processor_max_idle_state, processor_current_idle_state;
	uint32_t process_integrity_level;
	uint32_t time_zone_id;
	int32_t time_zone_bias;
	char *time_zone_standard_name;
	char *build_string;		/* v4+ */
	char *dbg_bld_str;		/* v4+ */
};

struct ich_md_thread {
	uint32_t thread_id;
	uint32_t suspend_count;
	uint32_t priority_class, priority;
	uint64_t teb;
	uint64_t stack_start;		/* StartOfMemoryRange */
	uint32_t stack_size;
	uint32_t stack_rva;
	uint32_t context_rva, context_size;
	uint64_t backing_store_start;	/* ThreadExList only */
	uint32_t backing_store_size;
	char *name;			/* ThreadNames stream, may be NULL */
};

struct ich_md_version {
	uint16_t major, minor, build, revision;	/* from VS_FIXEDFILEINFO */
	bool valid;				/* dwSignature == 0xFEEF04BD */
};

struct ich_md_module {
	uint64_t base;
	uint32_t size;
	uint32_t checksum;
	uint32_t timestamp;
	char *name;			/* full path as written */
	struct ich_md_version file_version;
	struct ich_md_version product_version;
};

struct ich_md_unloaded_module {
	uint64_t base;
	uint32_t size, checksum, timestamp;
	char *name;
};

/* One captured memory range (MemoryList or Memory64List), in file order. */
struct ich_md_range {
	uint64_t start;
	uint64_t size;
	uint64_t rva;			/* file offset of the data */
};

struct ich_md_meminfo {
	uint64_t base, allocation_base;
	uint32_t allocation_protect;
	uint64_t region_size;
	uint32_t state, protect, type;	/* MEM_COMMIT..., PAGE_..., MEM_IMAGE... */
};

struct ich_md_handle {
	uint64_t handle;
	char *type_name;		/* may be NULL */
	char *object_name;		/* may be NULL */
	uint32_t attributes, granted_access, handle_count, pointer_count;
};

struct ich_md_exception {
	uint32_t thread_id;
	uint32_t code;
	uint32_t flags;
	uint64_t record;
	uint64_t address;
	uint32_t number_parameters;
	uint64_t information[15];
	uint32_t context_rva, context_size;
};

struct ich_minidump {
	uint32_t version;		/* full Version field (low word 0xA793) */
	uint32_t number_of_streams;
	uint32_t directory_rva;
	uint32_t timestamp;
	uint64_t flags;

	struct ich_md_stream *streams;	size_t nstreams;

	bool has_system_info;	struct ich_md_system_info system_info;
	bool has_misc_info;	struct ich_md_misc_info misc_info;
	bool has_exception;	struct ich_md_exception exception;
	bool wow64;		/* 32-bit process, 64-bit writer */

	struct ich_md_thread *threads;	size_t nthreads;
	struct ich_md_module *modules;	size_t nmodules;
	struct ich_md_unloaded_module *unloaded;	size_t nunloaded;
	struct ich_md_range *ranges;	size_t nranges;	/* file order */
	uint64_t captured_bytes;
	struct ich_md_meminfo *meminfo;	size_t nmeminfo;
	struct ich_md_handle *handles;	size_t nhandles;
	char **comments;	size_t ncomments;
};

/* The module whose name ends in base_name (case-insensitive), or NULL. */
const struct ich_md_module *ich_md_find_module(const struct ich_minidump *md,
					       const char *base_name);

#ifdef __cplusplus
}
#endif
#endif
