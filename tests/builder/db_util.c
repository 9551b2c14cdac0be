/* SPDX-License-Identifier: MIT */
/* Errors, allocation, UTF-16, buffers and file helpers of the dump builder. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "db_internal.h"

static _Thread_local char db_errbuf[512];

const char *db_error(void)
{
	return db_errbuf;
}

int db_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(db_errbuf, sizeof(db_errbuf), fmt, ap);
	va_end(ap);
	return -1;
}

void db_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("dumpbuilder: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void *db_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		db_die("out of memory (%zu bytes)", n);
	return p;
}

void *db_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		db_die("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *db_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		db_die("out of memory (%zu bytes)", n);
	return q;
}

void *db_grow(void *p, size_t n, size_t elem)
{
	if (n & (n - 1))
		return p;	/* room left: the capacity is the next power of two */
	if (n > SIZE_MAX / 2 / elem)
		db_die("out of memory (%zu elements of %zu bytes)", n, elem);
	return db_xrealloc(p, (n ? 2 * n : 1) * elem);
}

char *db_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = db_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

uint16_t *db_utf8_to_utf16(const char *s, size_t *nunits)
{
	size_t n = strlen(s);
	uint16_t *out = db_xmalloc((n + 1) * 2 * sizeof(uint16_t));
	size_t k = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		int extra;
		if (*p < 0x80) {
			cp = *p;
			extra = 0;
		} else if ((*p & 0xE0) == 0xC0) {
			cp = *p & 0x1F;
			extra = 1;
		} else if ((*p & 0xF0) == 0xE0) {
			cp = *p & 0x0F;
			extra = 2;
		} else if ((*p & 0xF8) == 0xF0) {
			cp = *p & 0x07;
			extra = 3;
		} else {
			cp = 0xFFFD;
			extra = 0;
		}
		p++;
		for (int i = 0; i < extra; i++) {
			if ((*p & 0xC0) != 0x80) {
				cp = 0xFFFD;
				break;
			}
			cp = (cp << 6) | (*p & 0x3F);
			p++;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			out[k++] = (uint16_t)(0xD800 | (cp >> 10));
			out[k++] = (uint16_t)(0xDC00 | (cp & 0x3FF));
		} else {
			out[k++] = (uint16_t)cp;
		}
	}
	out[k] = 0;
	*nunits = k;
	return out;
}

size_t db_buf_reserve(struct db_buf *b, size_t n, size_t align)
{
	size_t off = b->len;
	if (align > 1)
		off = (off + align - 1) / align * align;
	size_t need = off + n;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < need)
			cap *= 2;
		b->p = db_xrealloc(b->p, cap);
		b->cap = cap;
	}
	memset(b->p + b->len, 0, need - b->len);
	b->len = need;
	return off;
}

size_t db_buf_append(struct db_buf *b, const void *data, size_t n, size_t align)
{
	size_t off = db_buf_reserve(b, n, align);
	if (n)
		memcpy(b->p + off, data, n);
	return off;
}

int db_pwrite_all(int fd, const void *buf, size_t n, uint64_t off, const char *path)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return db_fail("%s: write of %zu bytes at offset 0x%llx: %s",
				       path, n, (unsigned long long)off, strerror(errno));
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

bool db_is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int db_patch_file(const char *path, uint64_t off, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return db_fail("%s: open: %s", path, strerror(errno));
	int r = db_pwrite_all(fd, bytes, n, off, path);
	if (close(fd) != 0 && r == 0)
		r = db_fail("%s: close: %s", path, strerror(errno));
	return r;
}

int db_truncate_file(const char *path, uint64_t size)
{
	if (truncate(path, (off_t)size) != 0)
		return db_fail("%s: truncate to %llu bytes: %s", path,
			       (unsigned long long)size, strerror(errno));
	return 0;
}
