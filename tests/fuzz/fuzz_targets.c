/* SPDX-License-Identifier: MIT */
/*
 * Fuzz targets, one per input kind (see the table at the end): the input is
 * a whole file.  It is opened through the public API (via a memfd, so the
 * normal mmap path is used) and the part of the library the target names
 * is exercised.  Each target is built as a libFuzzer harness with
 * -Dfuzz=true (clang; fuzz_main.c selects it), and all of them are linked
 * into the deterministic mutation test (mutate_main.c) that runs in every
 * test run, including the sanitizer build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>
#include <icpheap/minidump.h>
#include <icpheap/layout.h>

#include "fuzz_target.h"

static void touch_memory(struct ich_as *as, uint64_t addr)
{
	uint8_t buf[64];
	struct ich_read_result res;
	ich_as_read(as, addr, buf, sizeof(buf), &res);
	uint64_t v;
	ich_error_destroy(ich_as_read_ptr(as, addr, &v));
	char *s = NULL;
	struct ich_error *err = ich_as_read_utf16(as, addr, 64, &s);
	if (err)
		ich_error_destroy(err);
	else
		free(s);
}

/* The input as a file the library can open by path (memfd). */
static int input_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("icpheap-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

static struct ich_dump *open_input(const uint8_t *data, size_t size, int *fd)
{
	char path[64];
	*fd = input_file(data, size, path, sizeof(path));
	if (*fd < 0)
		return NULL;
	struct ich_dump *dump = NULL;
	struct ich_error *err = ich_dump_open(path, &dump);
	if (err) {
		ich_error_destroy(err);
		close(*fd);
		*fd = -1;
		return NULL;
	}
	return dump;
}

static void close_input(struct ich_dump *dump, int fd)
{
	if (dump)
		ich_dump_close(dump);
	if (fd >= 0)
		close(fd);
}

/* Minidump reader: every table it parsed, and memory at each range's ends. */
static void touch_minidump(struct ich_dump *dump)
{
	struct ich_as *as = ich_dump_as(dump);
	const struct ich_minidump *md = ich_dump_minidump(dump);
	if (!md || !as)
		return;
	for (size_t i = 0; i < md->nranges && i < 64; i++) {
		touch_memory(as, md->ranges[i].start);
		touch_memory(as, md->ranges[i].start + md->ranges[i].size - 1);
	}
	for (size_t i = 0; i < md->nthreads && i < 64; i++)
		touch_memory(as, md->threads[i].teb);
}

/* Kernel dump reader and paging: the list heads KDBG names, a list walk
 * through the page tables, the top-level table by physical address. */
static void touch_kdump(struct ich_dump *dump)
{
	struct ich_as *as = ich_dump_as(dump);
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	if (!kd || !as)
		return;
	touch_memory(as, kd->ps_active_process_head);
	touch_memory(as, kd->kd_debugger_data_block);
	size_t n;
	ich_error_destroy(ich_as_list_walk(as, kd->ps_active_process_head, 1000, true,
					   ich_fuzz_list_cb, NULL, &n));
	uint8_t page[4096];
	ich_dump_read_phys(dump, kd->directory_table_base & ~0xfffull, page, sizeof(page), NULL);
}

/* Open the input as a dump and hand it to one exerciser. */
static int with_dump(const uint8_t *data, size_t size, void (*exercise)(struct ich_dump *))
{
	int fd;
	struct ich_dump *dump = open_input(data, size, &fd);
	if (dump)
		exercise(dump);
	close_input(dump, fd);
	return 0;
}

int ich_fuzz_minidump(const uint8_t *data, size_t size)
{
	return with_dump(data, size, touch_minidump);
}

int ich_fuzz_kdump(const uint8_t *data, size_t size)
{
	return with_dump(data, size, touch_kdump);
}

int ich_fuzz_heap(const uint8_t *data, size_t size)
{
	return with_dump(data, size, ich_fuzz_heaps);
}

int ich_fuzz_segheap(const uint8_t *data, size_t size)
{
	return with_dump(data, size, ich_fuzz_seg_heaps);
}

int ich_fuzz_kmodel(const uint8_t *data, size_t size)
{
	return with_dump(data, size, ich_fuzz_kernel);
}

/*
 * The gzip path: an input that already is a gzip stream is opened as it is
 * (damaged headers, trailers, deflate data); any other input is compressed
 * first, so the whole decompress-then-map path runs on a valid stream.
 */
int ich_fuzz_gzip(const uint8_t *data, size_t size)
{
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		ich_fuzz_one(data, size);
		return 0;
	}
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	uLong cap = deflateBound(&zs, (uLong)size) + 64;
	uint8_t *out = malloc(cap);
	if (!out) {
		deflateEnd(&zs);
		return 0;
	}
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)size;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) == Z_STREAM_END)
		ich_fuzz_one(out, (size_t)zs.total_out);
	deflateEnd(&zs);
	free(out);
	return 0;
}

/* The --layout file parser (a text file; rows forgotten after each run). */
int ich_fuzz_layout(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = input_file(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	ich_error_destroy(ich_layout_load_file(path));
	ich_layout_reset();
	close(fd);
	return 0;
}

/* Everything above on one input (the mutation tests' default target). */
static void exercise_all(struct ich_dump *dump)
{
	touch_minidump(dump);
	touch_kdump(dump);
	ich_fuzz_heaps(dump);
	ich_fuzz_kernel(dump);
}

int ich_fuzz_one(const uint8_t *data, size_t size)
{
	return with_dump(data, size, exercise_all);
}

const struct ich_fuzz_target ich_fuzz_targets[] = {
	{ "all", ich_fuzz_one },
	{ "minidump", ich_fuzz_minidump },
	{ "kdump", ich_fuzz_kdump },
	{ "heap", ich_fuzz_heap },
	{ "segheap", ich_fuzz_segheap },
	{ "kmodel", ich_fuzz_kmodel },
	{ "gzip", ich_fuzz_gzip },
	{ "layout", ich_fuzz_layout },
	{ NULL, NULL },
};

struct ich_error *ich_fuzz_list_cb(uint64_t e, void *arg)
{
	(void)e;
	(void)arg;
	return NULL;
}

