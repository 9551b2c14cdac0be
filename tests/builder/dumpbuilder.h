/* SPDX-License-Identifier: MIT */
/*
 * dumpbuilder: writes Windows minidumps and kernel crash dumps laid out the
 * way Windows lays them out, from the documented formats only:
 *   - minidumps: Microsoft minidumpapiset.h / MINIDUMP_* documentation;
 *   - kernel dumps: /work/shared/reference/layouts.md section 7
 *     (DUMP_HEADER64/32, BMP 'SDMP'/'FDMP', RDMP), Intel SDM vol. 3 ch. 4
 *     (x64 4-level, PAE 3-level, 32-bit 2-level paging).
 * It never uses icpheap's reader code, so the two check each other.
 *
 * Conventions
 *   - Functions returning int return 0 on success and -1 on failure; the
 *     message (naming the address/offset and what was wrong) is then in
 *     db_error().  Functions returning void cannot fail except by running
 *     out of memory, which aborts (this is a test tool).
 *   - Writes through a kernel view (db_kd_view) to an unmapped address
 *     print the address and abort(): that is a bug in the scenario code,
 *     and failing loudly is the useful behaviour in a test.
 *   - All integers are written little-endian.
 *   - Memory never written reads as zero.
 */
#ifndef DUMPBUILDER_H
#define DUMPBUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Message describing the last failure of a db_* call in this thread. */
const char *db_error(void);

/* ------------------------------------------------------------------------
 * Memory image: a sparse, page-granular (4 KiB) virtual address space.
 * Used directly as the memory of a minidump, and as a "view" type over a
 * kernel address space (db_kd_view), so that scenario code (NT heaps,
 * kernel objects) can be written once against struct db_mem.
 * ---------------------------------------------------------------------- */
struct db_mem;

#define DB_PAGE_SIZE 0x1000u

/* A standalone sparse image; ptr_size (4 or 8) is used by db_mem_write_ptr
 * and db_mem_read_ptr. */
struct db_mem *db_mem_new(unsigned ptr_size);
/* Frees a standalone image.  Do not free images owned by a db_md or the
 * views returned by db_kd_view (their owner frees them). */
void db_mem_free(struct db_mem *mem);

unsigned db_mem_ptr_size(const struct db_mem *mem);
void db_mem_set_ptr_size(struct db_mem *mem, unsigned ptr_size);

void db_mem_write(struct db_mem *mem, uint64_t va, const void *data, size_t len);
/* Fills len bytes with byte.  Filling with 0 an area never written
 * allocates nothing, so multi-GiB zero ranges are free. */
void db_mem_fill(struct db_mem *mem, uint64_t va, uint8_t byte, uint64_t len);
void db_mem_write_u8(struct db_mem *mem, uint64_t va, uint8_t v);
void db_mem_write_u16(struct db_mem *mem, uint64_t va, uint16_t v);
void db_mem_write_u32(struct db_mem *mem, uint64_t va, uint32_t v);
void db_mem_write_u64(struct db_mem *mem, uint64_t va, uint64_t v);
/* Writes v with the image's pointer size (4: truncated to 32 bits). */
void db_mem_write_ptr(struct db_mem *mem, uint64_t va, uint64_t v);
/* UTF-8 in, UTF-16LE out (no terminator written unless with_nul). Returns
 * the number of bytes written. */
size_t db_mem_write_utf16(struct db_mem *mem, uint64_t va, const char *utf8,
			  bool with_nul);

/* Reading back.  Bytes never written read as 0. */
void db_mem_read(const struct db_mem *mem, uint64_t va, void *buf, size_t len);
uint16_t db_mem_read_u16(const struct db_mem *mem, uint64_t va);
uint32_t db_mem_read_u32(const struct db_mem *mem, uint64_t va);
uint64_t db_mem_read_u64(const struct db_mem *mem, uint64_t va);
uint64_t db_mem_read_ptr(const struct db_mem *mem, uint64_t va);

/* Standalone images only: true if the page holding va was ever written
 * (with non-zero data or explicitly); number of such pages. */
bool db_mem_page_present(const struct db_mem *mem, uint64_t va);
size_t db_mem_page_count(const struct db_mem *mem);

/* ------------------------------------------------------------------------
 * Minidumps (MDMP)
 * ---------------------------------------------------------------------- */

/* MINIDUMP_SYSTEM_INFO.ProcessorArchitecture values (winnt.h
 * PROCESSOR_ARCHITECTURE_INTEL / _AMD64). */
enum db_arch {
	DB_ARCH_X86 = 0,
	DB_ARCH_X64 = 9,
};

/* CONTEXT sizes (winnt.h): x86 CONTEXT 0x2CC, AMD64 CONTEXT 0x4D0. */
#define DB_CONTEXT_X86_SIZE 0x2CCu
#define DB_CONTEXT_X64_SIZE 0x4D0u

/* Which memory list(s) a range goes to. */
enum db_md_list {
	DB_LIST_32 = 1,		/* MemoryListStream (5): descriptors with RVA */
	DB_LIST_64 = 2,		/* Memory64ListStream (9): BaseRva + sizes */
	DB_LIST_BOTH = 3,
};

/* Which thread stream(s) are written. */
enum db_md_thread_stream {
	DB_THREADS_LIST = 1,	/* ThreadListStream (3), MINIDUMP_THREAD */
	DB_THREADS_EX = 2,	/* ThreadExListStream (8), MINIDUMP_THREAD_EX */
	DB_THREADS_BOTH = 3,
};

struct db_md;

/* A new minidump for a process of the given architecture running on
 * Windows major.minor.build.  Defaults: header Version 0xA793 with high
 * word 0; TimeDateStamp 0x5F000000; SystemInfo with 4 CPUs, product type 1
 * (VER_NT_WORKSTATION), PlatformId 2 (VER_PLATFORM_WIN32_NT), CSD "";
 * threads in ThreadListStream; handle descriptors v2; no MiscInfo. */
struct db_md *db_md_new(enum db_arch arch, uint32_t major, uint32_t minor,
			uint32_t build);
void db_md_free(struct db_md *md);

/* The process memory (owned by md).  Pointer size: 4 for x86 and WOW64. */
struct db_mem *db_md_mem(struct db_md *md);

/* MINIDUMP_HEADER.Version: low word is always MINIDUMP_VERSION 0xA793; the
 * high word is implementation-specific (dbghelp puts its build number). */
void db_md_set_version_high(struct db_md *md, uint16_t high);
void db_md_set_timestamp(struct db_md *md, uint32_t time_date_stamp);
/* MINIDUMP_HEADER.Flags (MINIDUMP_TYPE).  If never set, the builder
 * computes: 0x2 WithFullMemory if a Memory64List is written, 0x4
 * WithHandleData if handles, 0x800 WithFullMemoryInfo if MemoryInfoList,
 * 0x1000 WithThreadInfo never. */
void db_md_set_flags(struct db_md *md, uint64_t flags);
/* Number of extra directory entries of type UnusedStream (0) appended to
 * the directory, as dbghelp reserves them. */
void db_md_set_unused_streams(struct db_md *md, unsigned n);
void db_md_set_thread_stream(struct db_md *md, enum db_md_thread_stream which);

struct db_md_sysinfo {
	uint16_t processor_architecture;	/* enum db_arch by default */
	uint16_t processor_level;		/* default 6 */
	uint16_t processor_revision;		/* default 0x9E0A */
	uint8_t number_of_processors;		/* default 4 */
	uint8_t product_type;			/* default 1 */
	uint32_t major_version, minor_version, build_number;
	uint32_t platform_id;			/* default 2 */
	const char *csd_version;		/* UTF-8; default "" */
	uint16_t suite_mask;			/* default 0x100 (VER_SUITE_SINGLEUSERTS) */
	/* CPU_INFORMATION: x86 VendorId/VersionInformation/FeatureInformation/
	 * AMDExtendedCpuFeatures, or ProcessorFeatures[2]; 24 raw bytes. */
	uint8_t cpu[24];
};
/* The SystemInfo fields (owned by md; edit in place before db_md_write).
 * Strings must outlive the db_md_write call. */
struct db_md_sysinfo *db_md_sysinfo(struct db_md *md);

/* WOW64 (32-bit process written by a 64-bit writer): SystemInfo stays
 * AMD64; db_md_mem's pointer size becomes 4; adds the modules
 *   C:\Windows\System32\ntdll.dll  base 0x7FFB2F870000 size 0x1F8000
 *   C:\Windows\System32\wow64.dll  base 0x7FFB2E0F0000 size 0x59000
 *   C:\Windows\System32\wow64win.dll base 0x7FFB2DF10000 size 0x84000
 *   C:\Windows\System32\wow64cpu.dll base 0x77A10000 size 0xA000
 *   C:\Windows\SysWOW64\ntdll.dll  base 0x77A20000 size 0x1A4000
 * (file version major.minor.build.0 of the dump).  Thread contexts are
 * AMD64 CONTEXTs (0x4D0) as a 64-bit writer stores them.  TEBs given to
 * db_md_add_thread are the 64-bit TEBs; the 32-bit TEB is at TEB64 +
 * DB_WOW64_TEB32_OFFSET, and when the thread's TEB is added the builder
 * writes TEB64.WowTebOffset (+0x180C) = 0x2000, TEB32.WowTebOffset
 * (+0xFDC) = -0x2000 and TEB32.NtTib.Self (+0x18) = TEB32 (offsets: selene
 * _TEB64/_TEB32 for 1607..Win11 in layouts-x64-selene.json; the value
 * 0x2000 is the widely documented WOW64 TEB distance, not confirmed by a
 * cited source here).  Call before adding threads. */
#define DB_WOW64_TEB32_OFFSET 0x2000u
void db_md_set_wow64(struct db_md *md);
bool db_md_is_wow64(const struct db_md *md);

struct db_md_thread {
	uint32_t id;
	uint32_t suspend_count;
	uint32_t priority_class;	/* default 0x20 if 0 (NORMAL_PRIORITY_CLASS) */
	uint32_t priority;
	uint64_t teb;
	/* Stack: MINIDUMP_THREAD.Stack.  The bytes come from db_md_mem.  If no
	 * range added with db_md_add_memory covers [stack_start, +stack_size),
	 * the stack is added to MemoryList (as MiniDumpNormal does) unless
	 * stack_not_in_list, in which case its bytes are a separate blob. */
	uint64_t stack_start;
	uint32_t stack_size;
	bool stack_not_in_list;
	/* Thread context; NULL = a zeroed CONTEXT of the arch's size with
	 * ContextFlags set to CONTEXT_FULL of that arch.  context_size 0 =
	 * the arch's size. */
	const void *context;
	uint32_t context_size;
	/* ThreadExList only: BackingStore (IA-64 register backing store). */
	uint64_t backing_store_start;
	uint32_t backing_store_size;
	/* If non-NULL, the thread appears in ThreadNamesStream (24). */
	const char *name;
};
/* Strings and blobs are copied. */
void db_md_add_thread(struct db_md *md, const struct db_md_thread *t);

struct db_md_module {
	const char *name;		/* full path, UTF-8 */
	uint64_t base;
	uint32_t size;
	uint32_t checksum;
	uint32_t timestamp;
	/* VS_FIXEDFILEINFO (dwSignature 0xFEEF04BD, dwStrucVersion 0x10000):
	 * major, minor, build, revision.  All zero with !no_version_info still
	 * writes the signature.  product_version all zero = file_version. */
	uint16_t file_version[4];
	uint16_t product_version[4];
	bool no_version_info;		/* whole VS_FIXEDFILEINFO zero */
	/* Optional CodeView record (e.g. "RSDS" + GUID + age + pdb name). */
	const void *cv_record;
	uint32_t cv_size;
};
void db_md_add_module(struct db_md *md, const struct db_md_module *m);

struct db_md_unloaded_module {
	const char *name;
	uint64_t base;
	uint32_t size, checksum, timestamp;
};
void db_md_add_unloaded_module(struct db_md *md,
			       const struct db_md_unloaded_module *u);

/* Captures [va, va+size) of db_md_mem into the chosen list(s), in call
 * order (file order = call order).  Overlapping and duplicate ranges are
 * allowed on purpose.  Data is read from the image at db_md_write time. */
void db_md_add_memory(struct db_md *md, uint64_t va, uint64_t size,
		      enum db_md_list list);

/* MINIDUMP_MEMORY_INFO (48 bytes). */
struct db_md_meminfo {
	uint64_t base, allocation_base;
	uint32_t allocation_protect;
	uint64_t region_size;
	uint32_t state, protect, type;
};
void db_md_add_meminfo(struct db_md *md, const struct db_md_meminfo *mi);

/* HandleDataStream: descriptor version 1 = MINIDUMP_HANDLE_DESCRIPTOR (32
 * bytes), 2 = MINIDUMP_HANDLE_DESCRIPTOR_2 (40 bytes). */
void db_md_set_handle_descriptor_version(struct db_md *md, unsigned version);
struct db_md_handle {
	uint64_t handle;
	const char *type_name;		/* NULL = RVA 0 */
	const char *object_name;	/* NULL = RVA 0 */
	uint32_t attributes, granted_access, handle_count, pointer_count;
};
void db_md_add_handle(struct db_md *md, const struct db_md_handle *h);

/* ExceptionStream: MINIDUMP_EXCEPTION_STREAM with MINIDUMP_EXCEPTION. */
struct db_md_exception {
	uint32_t thread_id;
	uint32_t code, flags;
	uint64_t record, address;
	uint32_t number_parameters;	/* <= 15 */
	uint64_t information[15];
	const void *context;		/* NULL = zeroed arch CONTEXT */
	uint32_t context_size;
};
void db_md_set_exception(struct db_md *md, const struct db_md_exception *e);

/* MiscInfoStream.  size_of_info selects the structure: 24
 * MINIDUMP_MISC_INFO, 44 _2, 232 _3, 832 _4, 1364 _5.  Fields beyond the
 * chosen size are ignored.  flags1 0 = computed from the size
 * (PROCESS_ID|PROCESS_TIMES, +PROCESSOR_POWER_INFO for >=44,
 * +PROCESS_INTEGRITY|TIMEZONE for >=232, +BUILDSTRING for >=832). */
struct db_md_misc_info {
	uint32_t size_of_info;
	uint32_t flags1;
	uint32_t process_id;
	uint32_t process_create_time, process_user_time, process_kernel_time;
	uint32_t processor_max_mhz, processor_current_mhz, processor_mhz_limit;
	uint32_t processor_max_idle_state, processor_current_idle_state;
	uint32_t process_integrity_level, process_execute_flags;
	uint32_t protected_process, time_zone_id;
	int32_t time_zone_bias;
	const char *time_zone_standard_name;	/* <= 31 chars */
	const char *time_zone_daylight_name;
	const char *build_string;		/* <= 259 chars (v4+) */
	const char *dbg_bld_str;		/* <= 39 chars (v4+) */
	/* v5: XSTATE_CONFIG_FEATURE_MSC_INFO left zero; ProcessCookie: */
	uint32_t process_cookie;
};
void db_md_set_misc_info(struct db_md *md, const struct db_md_misc_info *mi);

/* CommentStreamA (10, raw bytes + NUL) and CommentStreamW (11, UTF-16LE +
 * NUL).  Any number of each. */
void db_md_add_comment_a(struct db_md *md, const char *text);
void db_md_add_comment_w(struct db_md *md, const char *utf8);
/* Any stream with raw content (e.g. an unknown type 0x1234567). */
void db_md_add_raw_stream(struct db_md *md, uint32_t type, const void *data,
			  uint32_t size);

/* Writes the minidump.  Layout: header (0x20) | directory | stream bodies
 * (ThreadList/ThreadExList, ThreadNames, ModuleList, UnloadedModuleList,
 * SystemInfo, MiscInfo, Exception, HandleData, MemoryInfoList, comments,
 * raw streams, MemoryList) | MemoryList data | Memory64List descriptors and
 * data last.  Zero pages of Memory64List data are left as holes (sparse). */
int db_md_write(struct db_md *md, const char *path);

/* File offset where the data of the i-th range given to db_md_add_memory
 * starts in the list `list` (DB_LIST_32 or DB_LIST_64); valid after
 * db_md_write; UINT64_MAX if that range is not in that list. */
uint64_t db_md_range_rva(const struct db_md *md, size_t i, enum db_md_list list);
/* Directory RVA / stream location of the first stream of a type, after
 * db_md_write (0 if absent). */
uint32_t db_md_stream_rva(const struct db_md *md, uint32_t type, uint32_t *size);

/* ------------------------------------------------------------------------
 * Corruption helpers for tests.
 * ---------------------------------------------------------------------- */
int db_patch_file(const char *path, uint64_t off, const void *bytes, size_t n);
int db_truncate_file(const char *path, uint64_t size);

/* ------------------------------------------------------------------------
 * Kernel crash dumps ('PAGE' 'DU64' / 'PAGE' 'DUMP')
 * ---------------------------------------------------------------------- */
enum db_kd_arch {
	DB_KD_X64 = 1,		/* 4-level paging, 4K/2M/1G pages */
	DB_KD_X86_PAE = 2,	/* PAE 3-level paging, 4K/2M pages */
	DB_KD_X86 = 3,		/* 32-bit 2-level paging, 4K/4M pages */
	DB_KD_ARM64 = 4,	/* AArch64: 4 KiB granule, 48-bit VA, 4 levels,
				 * 4K/2M/1G (db_arm64.c); MachineImageType 0xAA64 */
};

/* DUMP_HEADER DumpType values (layouts.md §7, kdmp-parser). */
enum {
	DB_KD_FULL = 1,
	DB_KD_SUMMARY = 2,		/* SUMMARY_DUMP32/64 (Windows 2000-7 kernel dumps) */
	DB_KD_TRIAGE = 4,		/* x64 only, see db_kd_triage_* */
	DB_KD_BITMAP = 5,
	DB_KD_RDMP_KERNEL = 8,
	DB_KD_RDMP_KERNEL_USER = 9,
	DB_KD_RDMP_COMPLETE = 10,
};

struct db_kd;

/* A physical memory run, in pages. */
struct db_kd_run {
	uint64_t base_page;
	uint64_t page_count;
};

/* New kernel dump.  Full, bitmap and RDMP types for every arch (on x86
 * the BMP / RDMP header follows DUMP_HEADER32 at 0x1000, see
 * db_kdump.c: the 32-bit RDMP placement is derived, not documented);
 * triage (type 4) on x64 only.
 * Default physical memory: runs [0x1, 0x9F) and [0x100, 0x10000) (256 MiB
 * less the legacy hole); frames are allocated on demand from the runs;
 * the kernel DTB is allocated at creation. */
struct db_kd *db_kd_new(enum db_kd_arch arch, uint32_t build, uint32_t dump_type);
void db_kd_free(struct db_kd *kd);

/* Replaces the physical memory runs.  Only valid before any frame other
 * than the kernel DTB's was allocated (the DTB frame is moved into the
 * first run).  Returns -1 if runs are unsorted/overlapping/empty. */
int db_kd_set_physical_runs(struct db_kd *kd, const struct db_kd_run *runs,
			    size_t n);

/* Physical address of the kernel top-level table (DUMP_HEADER
 * DirectoryTableBase; for PAE, the 32-byte-aligned PDPT). */
uint64_t db_kd_kernel_dtb(const struct db_kd *kd);
/* A new address space (a process): fresh top-level table whose kernel half
 * (x64 PML4 entries 256-511; PAE PDPT entries 2-3; x86 PD entries
 * 512-1023, i.e. 0x80000000 and up) is shared with the kernel DTB, as
 * Windows does.  Kernel mappings made later in any address space appear in
 * every address space.  Returns the DTB. */
uint64_t db_kd_new_address_space(struct db_kd *kd);

/* Allocates one physical frame (zeroed); returns its PFN, or UINT64_MAX
 * (with db_error) when physical memory is exhausted. */
uint64_t db_kd_alloc_frame(struct db_kd *kd);

/* Maps [va, va+size) in the address space dtb with new zeroed frames.
 * page_size 0x1000, 0x200000 (x64, PAE), 0x400000 (x86 non-PAE),
 * 0x40000000 (x64 only); va and size must be multiples of it.  Pages
 * already mapped with the same page size are kept (not remapped); a
 * conflicting page size fails.  User-half PTEs get the U/S bit. */
int db_kd_map(struct db_kd *kd, uint64_t dtb, uint64_t va, uint64_t size,
	      uint64_t page_size);
/* The map callback the heap writers (ntheap, segheap builders) take for a
 * process's own address space: arg is a struct db_kd_space; [va, va+size)
 * is widened to whole 4 KiB pages and mapped with new frames (aborts on
 * failure: a builder bug, not a scenario). */
struct db_kd_space {
	struct db_kd *kd;
	uint64_t dtb;
};
void db_kd_map_range_cb(void *arg, uint64_t va, uint64_t size);
/* Same, but maps to existing physical memory starting at pa (which must be
 * aligned to page_size).  Use to share a frame between address spaces.
 * Frames mapped this way (or written with db_kd_phys_write) count as in
 * use: bitmap and RDMP dumps include them. */
int db_kd_map_phys(struct db_kd *kd, uint64_t dtb, uint64_t va, uint64_t pa,
		   uint64_t size, uint64_t page_size);

/* Write/read through the page tables of dtb.  Valid and transition PTEs
 * are followed (a transition page is still in RAM); anything else fails
 * with the failing address in db_error. */
int db_kd_write(struct db_kd *kd, uint64_t dtb, uint64_t va, const void *data,
		size_t len);
int db_kd_read(struct db_kd *kd, uint64_t dtb, uint64_t va, void *buf, size_t len);

/* A struct db_mem view of address space dtb (owned by kd; pointer size 8
 * for x64, 4 for x86).  Writes to unmapped addresses abort (see top);
 * reads of unmapped addresses return zeros. */
struct db_mem *db_kd_view(struct db_kd *kd, uint64_t dtb);

/* When on, writes through db_kd_view to unmapped addresses map fresh 4 KiB
 * pages (zeroed) instead of aborting, so scenario code written for a
 * minidump image (which needs no mapping) runs unchanged on a kernel
 * address space.  Default off. */
void db_kd_set_automap(struct db_kd *kd, bool on);
/* Pages mapped one frame at a time from now on take a free frame at a
 * random place (seed not 0; 0: the first free frame, as before), so a
 * range's frames are scattered over RAM and the file as in a real dump. */
void db_kd_set_scatter(struct db_kd *kd, uint32_t seed);

/* Physical memory access (no translation). */
void db_kd_phys_write(struct db_kd *kd, uint64_t pa, const void *data, size_t len);
void db_kd_phys_read(const struct db_kd *kd, uint64_t pa, void *buf, size_t len);

/* Translation for tests: physical address / PFN of va in dtb following
 * valid and transition PTEs; UINT64_MAX if not resident. */
uint64_t db_kd_va_to_pa(const struct db_kd *kd, uint64_t dtb, uint64_t va);
uint64_t db_kd_va_to_pfn(const struct db_kd *kd, uint64_t dtb, uint64_t va);
/* Physical address of the PTE (last-level entry, or the large-page PDE/
 * PDPTE) that maps va; UINT64_MAX if a level above is not present. */
uint64_t db_kd_pte_address(const struct db_kd *kd, uint64_t dtb, uint64_t va);

/* Turns the 4 KiB PTE of va into a Windows transition PTE: Valid (bit 0)
 * = 0, Prototype (bit 10) = 0, Transition (bit 11) = 1, Protection (bits
 * 5-9) = 4 (MM_READWRITE), same PFN in bits 12+; the frame stays in the
 * dump.  Fails on large pages and unmapped addresses. */
int db_kd_make_transition(struct db_kd *kd, uint64_t dtb, uint64_t va);
/* Replaces the 4 KiB PTE of va by pagefile_pte, which must have bits 0,
 * 10 and 11 clear and be non-zero (a page-file PTE).  The old frame is
 * excluded from bitmap dumps (it is no longer in RAM). */
int db_kd_make_paged_out(struct db_kd *kd, uint64_t dtb, uint64_t va,
			 uint64_t pagefile_pte);
/* Leaves frame pfn out of a bitmap/RDMP dump (bit clear, no data). */
void db_kd_exclude_page(struct db_kd *kd, uint64_t pfn);

/* DUMP_HEADER fields (owned by kd; edit in place before writing).
 * DirectoryTableBase is db_kd_kernel_dtb unless directory_table_base is
 * set non-zero. */
struct db_kd_header {
	uint32_t major_version;		/* default 0xF (free build) */
	uint32_t minor_version;		/* default: build */
	uint64_t directory_table_base;	/* 0 = kernel DTB */
	uint64_t pfn_database;
	uint64_t ps_loaded_module_list;
	uint64_t ps_active_process_head;
	uint32_t machine_image_type;	/* default 0x8664 / 0x14C */
	uint32_t number_processors;	/* default 4 */
	uint32_t bugcheck_code;
	uint64_t bugcheck_parameters[4];
	uint64_t kd_debugger_data_block;
	bool pae_enabled;		/* x86 only; default: arch is PAE */
	uint64_t system_time;		/* FILETIME; default 0x01D9E1B2C3D4E5F6 */
	uint64_t system_up_time;
	const char *comment;		/* <= 127 chars; NULL = none */
	uint32_t product_type;		/* default 1 */
	uint32_t suite_mask;		/* default 0x110 */
	/* bitmap dumps: 'SDMP' (0x504D4453, kernel) or 'FDMP' (0x504D4446,
	 * full); default 'SDMP' */
	uint32_t bmp_signature;
	uint32_t dump_type;		/* from db_kd_new */
	/* Optional CONTEXT written at ContextRecord (0x348 x64 / 0x320 x86). */
	const void *context;
	uint32_t context_size;
};
struct db_kd_header *db_kd_header(struct db_kd *kd);

/* Writes the dump.  Full: header then every page of every run, in run
 * order.  Bitmap/RDMP: header, bitmap header + bitmap, then the present
 * pages in PFN order; a frame is present if it was allocated (page tables
 * included) and not excluded.  Zero pages are left as holes (sparse). */
int db_kd_write_file(struct db_kd *kd, const char *path);

/* File offset of the data of pfn in the last file written, or UINT64_MAX
 * if the page is not in it. */
uint64_t db_kd_pfn_file_offset(const struct db_kd *kd, uint64_t pfn);

/* Triage ("small memory") dumps, DumpType 4, x64: DUMP_HEADER64 then
 * TRIAGE_DUMP64 at 0x2000 (ServicePackBuild 0x0, SizeOfDump 0x4,
 * ValidOffset 0x8, ContextOffset 0xC (= 0x348), ExceptionOffset 0x10 (=
 * 0xF00), MmOffset 0x14, UnloadedDriversOffset 0x18, PrcbOffset 0x1C,
 * ProcessOffset 0x20, ThreadOffset 0x24, CallStackOffset 0x28,
 * SizeOfCallStack 0x2C, DriverListOffset 0x30, DriverCount 0x34,
 * StringPoolOffset 0x38, StringPoolSize 0x3C, BrokenDriverOffset 0x40,
 * TriageOptions 0x44, TopOfStack 0x48, ArchitectureSpecific 0x50 (16),
 * DataPageAddress 0x60, DataPageOffset 0x68, DataPageSize 0x6C,
 * DebuggerDataOffset 0x70, DebuggerDataSize 0x74, DataBlocksOffset 0x78,
 * DataBlocksCount 0x7C), checked against the real 19041 triage dump in
 * testdata/real (rizin triage_x64.dmp).  Sections follow in the order
 * below, then the TRIAGE_DATA_BLOCK array {Address u64, Offset u32, Size
 * u32}, the block data, and 'TRGD' at ValidOffset (SizeOfDump =
 * ValidOffset + 4).  No physical pages are written: page tables and
 * db_kd_map only serve to lay out the kernel memory the blocks copy. */
enum db_kd_triage_section {
	DB_TRIAGE_MM = 0,		/* MmOffset */
	DB_TRIAGE_UNLOADED_DRIVERS,	/* UnloadedDriversOffset */
	DB_TRIAGE_PRCB,			/* PrcbOffset */
	DB_TRIAGE_PROCESS,		/* ProcessOffset (EPROCESS copy) */
	DB_TRIAGE_THREAD,		/* ThreadOffset (ETHREAD copy) */
	DB_TRIAGE_CALL_STACK,		/* CallStackOffset/SizeOfCallStack */
	DB_TRIAGE_DEBUGGER_DATA,	/* DebuggerDataOffset/Size (KDBG copy) */
	DB_TRIAGE_DRIVER_LIST,		/* DriverListOffset */
	DB_TRIAGE_STRING_POOL,		/* StringPoolOffset/Size */
	DB_TRIAGE_NSECTIONS
};
/* Raw bytes of a section (copied).  Absent sections have offset 0. */
void db_kd_triage_set_section(struct db_kd *kd, enum db_kd_triage_section s,
			      const void *data, uint32_t size);
/* TopOfStack, DriverCount and TriageOptions (default 0, 0, 0xFFFFFFFF). */
void db_kd_triage_set_info(struct db_kd *kd, uint64_t top_of_stack,
			   uint32_t driver_count, uint32_t triage_options);
/* A data block: [va, va+size) of kernel memory (read through the kernel
 * DTB at write time; unmapped bytes are written as zeros). */
void db_kd_triage_add_block(struct db_kd *kd, uint64_t va, uint32_t size);
/* File offset of the data of the i-th block after writing (UINT64_MAX if
 * none). */
uint64_t db_kd_triage_block_offset(const struct db_kd *kd, size_t i);

/* ------------------------------------------------------------------------
 * Benchmark dumps: every 8-byte word of the captured memory holds its own
 * virtual address, so any read can be verified; written with large
 * sequential writes.
 *   - big minidump: x64, one thread, one module, Memory64List of `size`
 *     bytes at VA 0x10000000 split in 64 MiB ranges.
 *   - big kernel dump: x64 bitmap dump ('SDMP'); `size` bytes (a multiple
 *     of 2 MiB) of physical memory from PFN 0x200 are mapped at kernel VA
 *     DB_BIG_KD_VA + (pa - 0x200000) with 2 MiB pages; the page tables
 *     live in frames below 0x9F; every frame in use is present.
 * ---------------------------------------------------------------------- */
int db_write_big_minidump(const char *path, uint64_t size);
/* The same with ranges of range bytes (multiple of 4 KiB) and a 4 KiB
 * hole in VA after each; range 0 = the default above. */
int db_write_big_minidump_ranges(const char *path, uint64_t size, uint64_t range);
int db_write_big_kernel(const char *path, uint64_t size);
/* The same with 4 KiB pages (page_size 0x1000: 512 page tables a GiB,
 * in frames below 0x9F while they last, then each before its region's
 * frames, so the data is in the file in 2 MiB stretches) or 2 MiB pages
 * (0x200000: db_write_big_kernel). */
int db_write_big_kernel_pages(const char *path, uint64_t size, uint64_t page_size);
#define DB_BIG_MD_BASE 0x10000000ull
#define DB_BIG_KD_VA 0xFFFFA00000000000ull
#define DB_BIG_KD_FIRST_PFN 0x200ull

#ifdef __cplusplus
}
#endif
#endif
