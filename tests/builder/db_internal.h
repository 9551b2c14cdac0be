/* SPDX-License-Identifier: MIT */
/* Internal helpers shared by the dump builder's files (not public API). */
#ifndef DB_INTERNAL_H
#define DB_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dumpbuilder.h"

#if defined(__GNUC__)
#define DB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define DB_NORETURN __attribute__((noreturn))
#else
#define DB_PRINTF(a, b)
#define DB_NORETURN
#endif

/* Sets the message returned by db_error(); always returns -1. */
int db_fail(const char *fmt, ...) DB_PRINTF(1, 2);
/* Prints and aborts (misuse or out of memory). */
DB_NORETURN void db_die(const char *fmt, ...) DB_PRINTF(1, 2);

void *db_xmalloc(size_t n);
void *db_xcalloc(size_t n, size_t size);
void *db_xrealloc(void *p, size_t n);
/* p, an array of n elements of elem bytes grown only by this function, with
 * room for element n: doubled when n is 0 or a power of two, so adding one
 * at a time copies O(n) bytes in all (growing by one copied the array at
 * every add: quadratic, and ASan's realloc always copies). */
void *db_grow(void *p, size_t n, size_t elem);
char *db_xstrdup(const char *s);

/* Little-endian stores/loads into byte buffers. */
static inline void db_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void db_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void db_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t db_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t db_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
static inline uint64_t db_get64(const uint8_t *p)
{
	return (uint64_t)db_get32(p) | ((uint64_t)db_get32(p + 4) << 32);
}

/* UTF-8 to UTF-16LE; returns a malloc'ed array and its length in code
 * units (no terminator counted; one NUL unit is appended). */
uint16_t *db_utf8_to_utf16(const char *s, size_t *nunits);

/* Growable byte buffer used to lay out file metadata. */
struct db_buf {
	uint8_t *p;
	size_t len, cap;
};
/* Appends n zero bytes aligned to `align`; returns their offset. */
size_t db_buf_reserve(struct db_buf *b, size_t n, size_t align);
size_t db_buf_append(struct db_buf *b, const void *data, size_t n, size_t align);

/* Writes all of buf at off (pwrite loop). */
int db_pwrite_all(int fd, const void *buf, size_t n, uint64_t off, const char *path);
/* True if the n bytes are all zero. */
bool db_is_zero(const void *p, size_t n);

/* db_arm64.c: AArch64 descriptors (Arm ARM D8.3) for DB_KD_ARM64. */
uint64_t db_a64_table_entry(uint64_t pa);
uint64_t db_a64_leaf_entry(uint64_t pa, bool page, bool user);
bool db_a64_is_block(uint64_t e, unsigned lvl);
uint64_t db_a64_addr(uint64_t e);

/* struct db_mem internals: either a sparse store or a view. */
struct db_mem_ops {
	/* Returns 0, or -1 with db_error set (view: address not mapped). */
	int (*write)(struct db_mem *mem, uint64_t va, const void *data, size_t len);
	void (*read)(const struct db_mem *mem, uint64_t va, void *buf, size_t len);
};

struct db_mem {
	const struct db_mem_ops *ops;	/* NULL: sparse store */
	unsigned ptr_size;
	/* sparse store: open-addressing hash of page number + 1 -> page */
	uint64_t *keys;
	uint8_t **pages;
	size_t nslots, npages;
	/* views */
	struct db_kd *kd;
	uint64_t dtb;
};

/* Sparse store: page holding va, or NULL if never written. */
const uint8_t *db_mem_page(const struct db_mem *mem, uint64_t va);
/* Calls fn for every present page (page-aligned va), in no order. */
void db_mem_for_each_page(const struct db_mem *mem,
			  void (*fn)(void *ctx, uint64_t va, const uint8_t *page),
			  void *ctx);

#endif
