/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the dump readers: the input is a whole dump file.  It is
 * opened through the public API (via a memfd, so the normal mmap path is
 * used) and every parsed table and a sample of memory is touched.
 * Built as a libFuzzer harness with -Dfuzz=true (clang), and linked into
 * the deterministic mutation test (mutate_main.c) that runs in every test
 * run, including the sanitizer build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <icpheap/dump.h>
#include <icpheap/kdump.h>
#include <icpheap/minidump.h>

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

int ich_fuzz_one(const uint8_t *data, size_t size)
{
	int fd = memfd_create("icpheap-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct ich_dump *dump = NULL;
	struct ich_error *err = ich_dump_open(path, &dump);
	if (err) {
		ich_error_destroy(err);
		close(fd);
		return 0;
	}
	struct ich_as *as = ich_dump_as(dump);
	const struct ich_minidump *md = ich_dump_minidump(dump);
	const struct ich_kdump *kd = ich_dump_kdump(dump);
	if (md && as) {
		for (size_t i = 0; i < md->nranges && i < 64; i++) {
			touch_memory(as, md->ranges[i].start);
			touch_memory(as, md->ranges[i].start + md->ranges[i].size - 1);
		}
		for (size_t i = 0; i < md->nthreads && i < 64; i++)
			touch_memory(as, md->threads[i].teb);
	}
	if (kd && as) {
		touch_memory(as, kd->ps_active_process_head);
		touch_memory(as, kd->kd_debugger_data_block);
		size_t n;
		ich_error_destroy(ich_as_list_walk(as, kd->ps_active_process_head, 1000, true,
						   ich_fuzz_list_cb, NULL, &n));
		uint8_t page[4096];
		ich_dump_read_phys(dump, kd->directory_table_base & ~0xfffull, page, sizeof(page), NULL);
	}
	ich_fuzz_deeper(dump);
	ich_dump_close(dump);
	close(fd);
	return 0;
}

struct ich_error *ich_fuzz_list_cb(uint64_t e, void *arg)
{
	(void)e;
	(void)arg;
	return NULL;
}

#ifdef ICH_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return ich_fuzz_one(data, size);
}
#endif
