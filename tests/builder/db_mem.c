/* SPDX-License-Identifier: MIT */
/*
 * Sparse memory image: 4 KiB pages in an open-addressing hash table keyed
 * by page number, so an image spanning terabytes of address space costs
 * only the pages actually written.  The same struct is used for views over
 * kernel address spaces (ops != NULL), see db_kdump.c.
 */
#include <stdlib.h>

#include "db_internal.h"

#define PAGE_MASK ((uint64_t)DB_PAGE_SIZE - 1)

struct db_mem *db_mem_new(unsigned ptr_size)
{
	if (ptr_size != 4 && ptr_size != 8)
		db_die("db_mem_new: pointer size %u (must be 4 or 8)", ptr_size);
	struct db_mem *m = db_xcalloc(1, sizeof(*m));
	m->ptr_size = ptr_size;
	return m;
}

void db_mem_free(struct db_mem *mem)
{
	if (!mem)
		return;
	for (size_t i = 0; i < mem->nslots; i++)
		if (mem->keys[i])
			free(mem->pages[i]);
	free(mem->keys);
	free(mem->pages);
	free(mem);
}

unsigned db_mem_ptr_size(const struct db_mem *mem)
{
	return mem->ptr_size;
}

void db_mem_set_ptr_size(struct db_mem *mem, unsigned ptr_size)
{
	if (ptr_size != 4 && ptr_size != 8)
		db_die("db_mem_set_ptr_size: pointer size %u", ptr_size);
	mem->ptr_size = ptr_size;
}

static size_t slot_of(uint64_t key, size_t nslots)
{
	/* Fibonacci hashing; nslots is a power of two. */
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (nslots - 1);
}

static size_t find_slot(const struct db_mem *m, uint64_t key)
{
	size_t i = slot_of(key, m->nslots);
	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & (m->nslots - 1);
	return i;
}

const uint8_t *db_mem_page(const struct db_mem *mem, uint64_t va)
{
	if (mem->ops)
		db_die("db_mem_page on a view");
	if (!mem->nslots)
		return NULL;
	size_t i = find_slot(mem, (va >> 12) + 1);
	return mem->keys[i] ? mem->pages[i] : NULL;
}

static void grow(struct db_mem *m)
{
	size_t old = m->nslots;
	uint64_t *ok = m->keys;
	uint8_t **op = m->pages;
	m->nslots = old ? old * 2 : 1024;
	m->keys = db_xcalloc(m->nslots, sizeof(*m->keys));
	m->pages = db_xcalloc(m->nslots, sizeof(*m->pages));
	for (size_t i = 0; i < old; i++) {
		if (!ok[i])
			continue;
		size_t j = find_slot(m, ok[i]);
		m->keys[j] = ok[i];
		m->pages[j] = op[i];
	}
	free(ok);
	free(op);
}

static uint8_t *page_for_write(struct db_mem *m, uint64_t va)
{
	if (m->npages * 2 >= m->nslots)
		grow(m);
	uint64_t key = (va >> 12) + 1;
	size_t i = find_slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->pages[i] = db_xcalloc(1, DB_PAGE_SIZE);
		m->npages++;
	}
	return m->pages[i];
}

static void sparse_write(struct db_mem *m, uint64_t va, const uint8_t *data,
			 size_t len)
{
	while (len) {
		size_t off = (size_t)(va & PAGE_MASK);
		size_t n = DB_PAGE_SIZE - off;
		if (n > len)
			n = len;
		/* Zeros written to a page that does not exist change nothing;
		 * skipping them keeps huge zero fills free. */
		if (db_mem_page(m, va) || !db_is_zero(data, n))
			memcpy(page_for_write(m, va) + off, data, n);
		va += n;
		data += n;
		len -= n;
	}
}

void db_mem_write(struct db_mem *mem, uint64_t va, const void *data, size_t len)
{
	if (mem->ops) {
		if (mem->ops->write(mem, va, data, len) != 0)
			db_die("%s", db_error());
		return;
	}
	sparse_write(mem, va, data, len);
}

void db_mem_fill(struct db_mem *mem, uint64_t va, uint8_t byte, uint64_t len)
{
	uint8_t buf[DB_PAGE_SIZE];
	memset(buf, byte, sizeof(buf));
	while (len) {
		size_t off = (size_t)(va & PAGE_MASK);
		size_t n = DB_PAGE_SIZE - off;
		if (n > len)
			n = (size_t)len;
		if (byte || mem->ops || db_mem_page(mem, va))
			db_mem_write(mem, va, buf, n);
		va += n;
		len -= n;
	}
}

void db_mem_write_u8(struct db_mem *mem, uint64_t va, uint8_t v)
{
	db_mem_write(mem, va, &v, 1);
}

void db_mem_write_u16(struct db_mem *mem, uint64_t va, uint16_t v)
{
	uint8_t b[2];
	db_put16(b, v);
	db_mem_write(mem, va, b, 2);
}

void db_mem_write_u32(struct db_mem *mem, uint64_t va, uint32_t v)
{
	uint8_t b[4];
	db_put32(b, v);
	db_mem_write(mem, va, b, 4);
}

void db_mem_write_u64(struct db_mem *mem, uint64_t va, uint64_t v)
{
	uint8_t b[8];
	db_put64(b, v);
	db_mem_write(mem, va, b, 8);
}

void db_mem_write_ptr(struct db_mem *mem, uint64_t va, uint64_t v)
{
	if (mem->ptr_size == 4)
		db_mem_write_u32(mem, va, (uint32_t)v);
	else
		db_mem_write_u64(mem, va, v);
}

size_t db_mem_write_utf16(struct db_mem *mem, uint64_t va, const char *utf8,
			  bool with_nul)
{
	size_t n;
	uint16_t *u = db_utf8_to_utf16(utf8, &n);
	if (with_nul)
		n++;
	uint8_t *b = db_xmalloc(n * 2);
	for (size_t i = 0; i < n; i++)
		db_put16(b + 2 * i, u[i]);
	db_mem_write(mem, va, b, n * 2);
	free(b);
	free(u);
	return n * 2;
}

void db_mem_read(const struct db_mem *mem, uint64_t va, void *buf, size_t len)
{
	if (mem->ops) {
		mem->ops->read(mem, va, buf, len);
		return;
	}
	uint8_t *out = buf;
	while (len) {
		size_t off = (size_t)(va & PAGE_MASK);
		size_t n = DB_PAGE_SIZE - off;
		if (n > len)
			n = len;
		const uint8_t *pg = db_mem_page(mem, va);
		if (pg)
			memcpy(out, pg + off, n);
		else
			memset(out, 0, n);
		va += n;
		out += n;
		len -= n;
	}
}

uint16_t db_mem_read_u16(const struct db_mem *mem, uint64_t va)
{
	uint8_t b[2];
	db_mem_read(mem, va, b, 2);
	return db_get16(b);
}

uint32_t db_mem_read_u32(const struct db_mem *mem, uint64_t va)
{
	uint8_t b[4];
	db_mem_read(mem, va, b, 4);
	return db_get32(b);
}

uint64_t db_mem_read_u64(const struct db_mem *mem, uint64_t va)
{
	uint8_t b[8];
	db_mem_read(mem, va, b, 8);
	return db_get64(b);
}

uint64_t db_mem_read_ptr(const struct db_mem *mem, uint64_t va)
{
	return mem->ptr_size == 4 ? db_mem_read_u32(mem, va) : db_mem_read_u64(mem, va);
}

bool db_mem_page_present(const struct db_mem *mem, uint64_t va)
{
	return !mem->ops && db_mem_page(mem, va) != NULL;
}

size_t db_mem_page_count(const struct db_mem *mem)
{
	return mem->ops ? 0 : mem->npages;
}

void db_mem_for_each_page(const struct db_mem *mem,
			  void (*fn)(void *ctx, uint64_t va, const uint8_t *page),
			  void *ctx)
{
	for (size_t i = 0; i < mem->nslots; i++)
		if (mem->keys[i])
			fn(ctx, (mem->keys[i] - 1) << 12, mem->pages[i]);
}
