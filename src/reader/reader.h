/* SPDX-License-Identifier: MIT */
/*
 * Internal contract between the dump core (dump.c) and the format readers.
 *
 * Each dump format lives in its own file and exports one ich_reader_ops
 * table.  The core maps the file (decompressing gzip first), asks each
 * table's probe in turn, then calls the winner's open.  The core never
 * knows more about a format than this table.
 */
#ifndef ICPHEAP_READER_H
#define ICPHEAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <icpheap/addrspace.h>
#include <icpheap/dump.h>
#include <icpheap/kdump.h>
#include <icpheap/minidump.h>

/* A mapped input file (decompressed if it was gzip). */
struct ich_file {
	const uint8_t *data;	/* whole file, read-only mapping */
	uint64_t size;
	bool gzip;		/* input was gzip-compressed */
	void *map_base;		/* for munmap; NULL if data is malloc'd */
	size_t map_len;
	void *heap_copy;	/* malloc'd buffer for tiny decompressed files */
};

/* Map path read-only; gzip input is decompressed into an unlinked temporary
 * file under $TMPDIR (or /tmp) and that is mapped.  Errors name path. */
struct ich_error *ich_file_map(const char *path, struct ich_file *file);
void ich_file_unmap(struct ich_file *file);
/* A walker is done with [p, p+len) of the file's mapping (a pointer from
 * ich_as_peek): drop the whole pages inside it from the process's resident
 * set (MADV_DONTNEED; the page cache keeps them, a later access re-reads
 * them).  No-op for data that is not a file mapping (small gzip input). */
void ich_file_release(const struct ich_file *file, const void *p, size_t len);

/* The walkers will stream through most of this file (a minidump: heaps,
 * ranges read front to back): ask the kernel to read it in, and map it,
 * in huge-page folios (MADV_HUGEPAGE), which a cold run reads at the speed
 * of cat's read() (issue 12).  Not for files read at scattered places
 * (kernel dumps: pages follow the physical frames).  No-op for data that
 * is not a file mapping; failure of the advice is ignored. */
void ich_file_advise_stream(const struct ich_file *file);

struct ich_reader_ops {
	const char *name;	/* "minidump", "kernel dump" */
	/*
	 * Does this data start like the format?  data/size: the whole file.
	 * Must only look at headers; returns false for anything else.
	 */
	bool (*probe)(const uint8_t *data, uint64_t size);
	/*
	 * Parse the file (dump->file) into dump->md or dump->kd, set
	 * dump->kind, arch, build, and create dump->as (may stay NULL when the
	 * dump holds no addressable memory).  Recoverable problems become
	 * warnings (ich_dump_warn); returns ICH_ERR_FORMAT / ICH_ERR_UNSUPPORTED
	 * naming the offset when the dump cannot be used at all.  On error the
	 * core calls close.
	 */
	struct ich_error *(*open)(struct ich_dump *dump);
	/* Free everything open allocated (safe on a half-opened dump). */
	void (*close)(struct ich_dump *dump);
	/* Physical read for kernel dumps (NULL for minidumps). */
	size_t (*read_phys)(struct ich_dump *dump, uint64_t paddr, void *buf,
			    size_t len, struct ich_read_result *res);
	/* Create a process address space from a DirectoryTableBase (kernel
	 * dumps; NULL when unsupported). */
	struct ich_error *(*process_as)(struct ich_dump *dump, uint64_t dtb,
					struct ich_as **ret);
};

extern const struct ich_reader_ops ich_minidump_ops;
extern const struct ich_reader_ops ich_kdump_ops;

struct ich_dump {
	char *path;
	struct ich_file file;
	const struct ich_reader_ops *ops;
	enum ich_dump_kind kind;
	const char *kind_name;	/* static string */
	enum ich_arch arch;
	uint32_t build;
	bool wow64;
	struct ich_minidump *md;
	struct ich_kdump *kd;
	struct ich_as *as;
	char **warnings;
	size_t nwarnings;
	void *priv;		/* format reader's private state */
};

/*
 * Address spaces.  Each implementation fills an ich_as_ops table.
 */
struct ich_as_ops {
	/* Read up to len bytes; same contract as ich_as_read (res non-NULL). */
	size_t (*read)(struct ich_as *as, uint64_t addr, void *buf, size_t len,
		       struct ich_read_result *res);
	/* Contiguous file-backed bytes or NULL (may be NULL: no zero-copy). */
	const void *(*peek)(struct ich_as *as, uint64_t addr, size_t len);
	/* peek for a walk that reads forward from addr to end, moving the
	 * window to addr's stretch and over what follows it in the file up
	 * to end (ich_as_peek_stream).  May be NULL: peek, and the window
	 * moved as ich_as_peek_window moves it. */
	const void *(*stream)(struct ich_as *as, uint64_t addr, size_t len, uint64_t end);
	void (*destroy)(struct ich_as *as);
};

struct ich_as {
	/* First member: the inline fast paths of addrspace.h read it through
	 * the struct ich_as pointer.  Readers set it with ich_as_set_window. */
	struct ich_as_window win;
	const struct ich_as_ops *ops;
	unsigned ptr_size;
	char name[96];
	struct ich_dump *dump;
	void *priv;
};

/* Move the window to [base, base + len) at data (bytes contiguous in the
 * mapped file and readable for as long as the dump is open). */
static inline void ich_as_set_window(struct ich_as *as, uint64_t base, uint64_t len,
				     const uint8_t *data)
{
	ich_as_window_to_(&as->win, base, len, data);
}

/* Give the inline read path records (addrspace.h struct ich_as_window's
 * dir_rec, ICH_AS_DIR_SLOTS of them, page-aligned: mapped) of buckets of
 * 2^shift bytes, shift >= ICH_AS_DIR_REC_LOG2, and dir_pk, the one word
 * the lookup reads of them.  rec NULL: none. */
static inline void ich_as_set_records(struct ich_as *as, const struct ich_as_dir_rec *rec,
				      unsigned shift)
{
	as->win.dir_rec = rec;
	as->win.dir_shift = shift;
	as->win.dir_pk = rec ? (uint64_t)(uintptr_t)rec | (shift - ICH_AS_DIR_REC_LOG2) : 0;
}

/* Give the inline read path the space's range table and its directory
 * (addrspace.h, struct ich_as_window): start sorted ascending, segments
 * disjoint, span[i] only bytes the mapped file holds, both with the two
 * padding entries after the n segments; dir and dir_rec the directory's
 * ICH_AS_DIR_SLOTS slots, bucket B = addr >> dir_shift in slot B &
 * (ICH_AS_DIR_SLOTS - 1); dir_rec NULL keeps the inline table lookup
 * off.  The arrays live as long as the space. */
static inline void ich_as_set_table(struct ich_as *as, const uint64_t *start,
				    const struct ich_as_span *span, size_t n,
				    const uint32_t *dir, const struct ich_as_dir_rec *dir_rec,
				    unsigned dir_shift)
{
	as->win.tab_start = start;
	as->win.tab_span = span;
	as->win.tab_n = n;
	as->win.dir = dir;
	ich_as_set_records(as, dir_rec, dir_shift);	/* (range_as.c maps dir_rec) */
}

/*
 * Range address space: sorted, non-overlapping ranges of VA backed by file
 * bytes, binary-searched.  Used by minidumps (MemoryList / Memory64List)
 * and kernel triage dumps (data blocks).  Overlaps are resolved
 * deterministically: the range that appears first in the dump wins, later
 * ones only fill the gaps.  Ranges whose data lies past end-of-file are
 * kept but read as ICH_MISS_BEYOND_FILE for the missing part.
 */
struct ich_va_range {
	uint64_t start;
	uint64_t size;
	uint64_t file_off;
};
struct ich_error *ich_range_as_create(struct ich_dump *dump, unsigned ptr_size,
				      const char *name,
				      const struct ich_va_range *ranges,
				      size_t n, struct ich_as **ret);

#endif
