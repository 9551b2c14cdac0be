/* SPDX-License-Identifier: MIT */
/*
 * Mapping input files.  Dumps are mmapped read-only, never read whole.
 * Gzip input (recognised by its magic, not its name) is decompressed once:
 * small results stay in memory, larger ones go to an unlinked temporary
 * file in $TMPDIR (default /tmp) which is then mapped like a plain dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "reader/reader.h"

/* Decompressed dumps up to this size are kept in memory. */
#define GZ_MEMORY_LIMIT (16u << 20)
#define GZ_CHUNK (1u << 20)

static struct ich_error *map_fd(int fd, const char *path, struct ich_file *file)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ich_error_os(errno, path, "cannot stat");
	if (!S_ISREG(st.st_mode))
		return ich_error_create(ICH_ERR_OS, "%s: not a regular file", path);
	file->size = (uint64_t)st.st_size;
	if (st.st_size == 0) {
		static const uint8_t empty[1];
		file->data = empty;
		return NULL;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return ich_error_os(errno, path, "cannot map %llu bytes",
				    (unsigned long long)st.st_size);
	file->map_base = p;
	file->map_len = (size_t)st.st_size;
	file->data = p;
	return NULL;
}

/* Create an unlinked temporary file for decompressed data. */
static int temp_fd(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd;
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	size_t n = strlen(dir) + 32;
	char *tmpl = malloc(n);
	if (!tmpl)
		return -1;
	snprintf(tmpl, n, "%s/icpheap-gz-XXXXXX", dir);
	fd = mkstemp(tmpl);
	if (fd >= 0)
		unlink(tmpl);
	free(tmpl);
	return fd;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static struct ich_error *gunzip(int in_fd, const char *path, struct ich_file *file)
{
	int dupfd = dup(in_fd);
	if (dupfd < 0)
		return ich_error_os(errno, path, "cannot dup");
	gzFile gz = gzdopen(dupfd, "rb");
	if (!gz) {
		close(dupfd);
		return ich_error_create(ICH_ERR_NOMEM, "%s: cannot start gzip decoder", path);
	}
	gzbuffer(gz, GZ_CHUNK);

	struct ich_error *err = NULL;
	uint8_t *mem = NULL;
	size_t mem_len = 0, mem_cap = 0;
	int out_fd = -1;
	uint64_t total = 0;
	uint8_t *chunk = malloc(GZ_CHUNK);
	if (!chunk) {
		err = &ich_enomem;
		goto out;
	}
	for (;;) {
		int n = gzread(gz, chunk, GZ_CHUNK);
		if (n < 0) {
			int zerr;
			const char *msg = gzerror(gz, &zerr);
			err = ich_error_create(ICH_ERR_FORMAT,
				"%s: gzip data is corrupt after %llu decompressed bytes: %s",
				path, (unsigned long long)total, msg);
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (out_fd < 0 && mem_len + (size_t)n <= GZ_MEMORY_LIMIT) {
			if (mem_len + (size_t)n > mem_cap) {
				size_t cap = mem_cap ? mem_cap * 2 : GZ_CHUNK;
				while (cap < mem_len + (size_t)n)
					cap *= 2;
				uint8_t *m = realloc(mem, cap);
				if (!m) {
					err = &ich_enomem;
					goto out;
				}
				mem = m;
				mem_cap = cap;
			}
			memcpy(mem + mem_len, chunk, (size_t)n);
			mem_len += (size_t)n;
			continue;
		}
		if (out_fd < 0) {
			out_fd = temp_fd();
			if (out_fd < 0) {
				err = ich_error_os(errno, path,
					"cannot create a temporary file for the decompressed dump (set TMPDIR)");
				goto out;
			}
			if (!write_all(out_fd, mem, mem_len)) {
				err = ich_error_os(errno, path, "cannot write decompressed data to the temporary file");
				goto out;
			}
			free(mem);
			mem = NULL;
			mem_len = mem_cap = 0;
		}
		if (!write_all(out_fd, chunk, (size_t)n)) {
			err = ich_error_os(errno, path,
				"cannot write decompressed data to the temporary file (after %llu bytes)",
				(unsigned long long)total);
			goto out;
		}
	}
	file->gzip = true;
	if (out_fd >= 0) {
		err = map_fd(out_fd, path, file);
	} else {
		file->heap_copy = mem ? mem : malloc(1);
		mem = NULL;
		if (!file->heap_copy) {
			err = &ich_enomem;
			goto out;
		}
		file->data = file->heap_copy;
		file->size = mem_len;
	}
out:
	free(chunk);
	free(mem);
	if (out_fd >= 0)
		close(out_fd);
	gzclose(gz);
	return err;
}

struct ich_error *ich_file_map(const char *path, struct ich_file *file)
{
	memset(file, 0, sizeof(*file));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ich_error_os(errno, path, "cannot open");
	uint8_t magic[2] = {0, 0};
	ssize_t r = pread(fd, magic, 2, 0);
	struct ich_error *err;
	if (r == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		err = gunzip(fd, path, file);
	else
		err = map_fd(fd, path, file);
	close(fd);
	if (err)
		ich_file_unmap(file);
	return err;
}

void ich_file_unmap(struct ich_file *file)
{
	if (file->map_base)
		munmap(file->map_base, file->map_len);
	free(file->heap_copy);
	memset(file, 0, sizeof(*file));
}

void ich_file_release(const struct ich_file *file, const void *p, size_t len)
{
	const uint8_t *base = file->map_base, *q = p;
	if (!base || q < base || len > file->map_len || (size_t)(q - base) > file->map_len - len)
		return;
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)q + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	uintptr_t hi = ((uintptr_t)q + len) & ~((uintptr_t)pg - 1);
	if (pg > 0 && hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
