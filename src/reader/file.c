/* SPDX-License-Identifier: MIT */
/*
 * Mapping input files.  Dumps are mmapped read-only, never read whole.
 * Only regular files are accepted; the open is non-blocking so a FIFO or a
 * device cannot hang the tool before the file type is checked.
 * Gzip input (recognised by its magic, not its name) is decompressed once:
 * small results stay in memory, larger ones go to an unlinked temporary
 * file in $TMPDIR (default /tmp) which is then mapped like a plain dump.
 * A gzip bomb is refused before it fills the disk: decompression stops at
 * the first of (1) ICPHEAP_GZIP_MAX (bytes, decimal or 0x, K/M/G/T suffix: core/size.h;
 * default 1 TiB),
 * (2) the free space of $TMPDIR less a reserve, (3) for a kernel dump, its
 * header's RequiredDumpSpace plus 64 MiB of slack.  The temporary file is
 * unlinked from the start, so nothing is left behind in any case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zlib.h>

#include "core/endian.h"
#include "core/size.h"
#include "reader/reader.h"

/* Decompressed dumps up to this size are kept in memory. */
#define GZ_MEMORY_LIMIT (16u << 20)
/* The read chunk and the size of zlib's buffers (gzbuffer).  128 KiB
 * inflates as fast as 1 MiB did (`icpheap info` on mid.dmp.gz and
 * r4224.dmp.gz: 0.18-0.25 s both) with 3.7 MB less peak RSS (22.5 ->
 * 18.8 MB), and a small gzip dump no longer allocates megabytes of
 * buffers (under MALLOC_PERTURB_, which fills every allocation,
 * fuzz-target-gzip took 70 s instead of 6). */
#define GZ_CHUNK (128u << 10)
/* Default ceiling on a decompressed dump (ICPHEAP_GZIP_MAX overrides). */
#define GZ_DEFAULT_MAX (1ull << 40)
/* Space left free in $TMPDIR: the larger of 256 MiB and 2% of the disk. */
#define GZ_DISK_RESERVE_MIN (256ull << 20)
/* Slack over a kernel dump's RequiredDumpSpace before it counts as a bomb. */
#define GZ_HEADER_SLACK (64ull << 20)

static const char *tmp_dir(void)
{
	const char *dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

struct gz_limit {
	uint64_t max;		/* stop (refuse) past this many bytes */
	const char *why;	/* what the limit is, for the message */
	char text[160];
};

static void gz_limit_init(struct gz_limit *l)
{
	l->max = GZ_DEFAULT_MAX;
	l->why = "the default limit of 1 TiB (set ICPHEAP_GZIP_MAX to change it)";
	const char *env = getenv("ICPHEAP_GZIP_MAX");
	uint64_t v = 0;
	/* core/size.h: the same forms as --fail-on heap-committed>SIZE */
	if (env && ich_parse_size(env, &v) && v) {
		l->max = v;
		snprintf(l->text, sizeof(l->text), "ICPHEAP_GZIP_MAX=%s", env);
		l->why = l->text;
	}
}

/* Lower the limit to what the dump's own header says it needs (kernel
 * dumps: RequiredDumpSpace at 0xFA0 in both DUMP_HEADER32 and 64, S4). */
static void gz_limit_header(struct gz_limit *l, const uint8_t *p, size_t n)
{
	if (n < 0xFA8 || memcmp(p, "PAGE", 4) || (memcmp(p + 4, "DU64", 4) && memcmp(p + 4, "DUMP", 4)))
		return;
	uint64_t need = ich_le64(p + 0xFA0);
	if (!need || need > UINT64_MAX - GZ_HEADER_SLACK || need + GZ_HEADER_SLACK >= l->max)
		return;
	l->max = need + GZ_HEADER_SLACK;
	snprintf(l->text, sizeof(l->text),
		 "the size its kernel-dump header claims (RequiredDumpSpace 0x%llx) plus 64 MiB",
		 (unsigned long long)need);
	l->why = l->text;
}

/* Lower the limit to the free space of the temporary directory. */
static void gz_limit_disk(struct gz_limit *l, int fd, uint64_t written)
{
	struct statvfs vs;
	if (fstatvfs(fd, &vs) < 0)
		return;
	uint64_t total = (uint64_t)vs.f_blocks * vs.f_frsize;
	uint64_t avail = (uint64_t)vs.f_bavail * vs.f_frsize;
	uint64_t reserve = total / 50 > GZ_DISK_RESERVE_MIN ? total / 50 : GZ_DISK_RESERVE_MIN;
	uint64_t room = avail > reserve ? avail - reserve : 0;
	if (written + room >= l->max)
		return;
	l->max = written + room;
	snprintf(l->text, sizeof(l->text),
		 "the free space in %s (%llu MiB, less a reserve of %llu MiB)", tmp_dir(),
		 (unsigned long long)(avail >> 20), (unsigned long long)(reserve >> 20));
	l->why = l->text;
}

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
	const char *dir = tmp_dir();
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
	struct gz_limit limit;
	gz_limit_init(&limit);
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
		if (total == 0)
			gz_limit_header(&limit, chunk, (size_t)n);
		if ((uint64_t)n > limit.max - total) {
			err = ich_error_create(ICH_ERR_FORMAT,
				"%s: gzip data decompresses to more than %llu bytes, %s; refused "
				"(a damaged or malicious archive, or decompress it yourself)",
				path, (unsigned long long)limit.max, limit.why);
			goto out;
		}
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
			gz_limit_disk(&limit, out_fd, 0);
			if ((uint64_t)mem_len + (uint64_t)n > limit.max) {
				err = ich_error_create(ICH_ERR_FORMAT,
					"%s: gzip data decompresses to more than %llu bytes, %s; refused",
					path, (unsigned long long)limit.max, limit.why);
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
	/* O_NONBLOCK: opening a FIFO with no writer must not hang. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ich_error_os(errno, path, "cannot open");
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return ich_error_os(e, path, "cannot stat");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ich_error_create(ICH_ERR_OS, "%s: not a regular file (%s); a dump must be a file",
			path, S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
			S_ISCHR(st.st_mode) ? "a character device" : S_ISBLK(st.st_mode) ? "a block device" :
			S_ISSOCK(st.st_mode) ? "a socket" : "not a file");
	}
	/* The magic is read with O_NONBLOCK still set: regular files ignore
	 * it, but a procfs file such as /proc/kmsg (0 bytes by stat) would
	 * block the read until the kernel logs.  Cleared after, for gzread. */
	uint8_t magic[2] = {0, 0};
	ssize_t r = pread(fd, magic, 2, 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
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

void ich_file_advise_stream(const struct ich_file *file)
{
	/*
	 * Why huge pages (issue 12, cold cache): a plain MAP_PRIVATE file
	 * mapping is filled by the fault path's read-around in order-0
	 * folios, and a virtio disk takes at most 254 segments per request,
	 * so a cold walk's reads went out as ~1 MiB requests, one or two in
	 * flight; cat's read() readahead builds large folios and sends 4 MiB
	 * requests (block:block_rq_issue traces on the development VM, bench/
	 * README.md).  With VM_HUGEPAGE set, a fault reads two PMD-size
	 * folios (2 MiB each on x86-64) and the next ones asynchronously
	 * (mm/filemap.c do_sync_mmap_readahead, Linux commit 4687fdbb805a
	 * "mm/filemap: Support VM_HUGEPAGE for file mappings", 5.18; since
	 * "mm: readahead: make thp readahead conditional to mmap_miss logic",
	 * linux-mm 2025-09-30, it also stops after many misses, as plain
	 * read-around does), and the walk's faults map the folios whole
	 * (fewer faults: less CPU warm or cold).  Scattered reads (info, the
	 * heap list) measured no slower cold.  Advice only: a kernel without
	 * THP (EINVAL) or a filesystem without large folios reads as before,
	 * and the bytes read are the same.
	 */
#ifdef MADV_HUGEPAGE
	if (file->map_base && file->map_len)
		(void)madvise(file->map_base, file->map_len, MADV_HUGEPAGE);
#else
	(void)file;
#endif
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
