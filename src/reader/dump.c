/* SPDX-License-Identifier: MIT */
/*
 * The dump core: maps the file, asks each format's probe, and hands the
 * dump to the winner's open.  It knows nothing else about formats.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader/reader.h"

static const struct ich_reader_ops *const formats[] = {
	&ich_minidump_ops,
	&ich_kdump_ops,
};

const char *ich_arch_name(enum ich_arch arch)
{
	switch (arch) {
	case ICH_ARCH_X86: return "x86";
	case ICH_ARCH_X64: return "x64";
	case ICH_ARCH_ARM64: return "arm64";
	case ICH_ARCH_ARM: return "arm";
	case ICH_ARCH_IA64: return "ia64";
	case ICH_ARCH_UNKNOWN: break;
	}
	return "unknown";
}

bool ich_dump_probe_file(const char *path)
{
	/* O_NONBLOCK: a FIFO, or a procfs file that blocks a read (/proc/kmsg:
	 * `info /proc/` hung there), must not block the probe */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	uint8_t head[8] = {0};
	ssize_t n = pread(fd, head, sizeof(head), 0);
	close(fd);
	if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		return true;	/* gzip: checked for real at open */
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (n > 0 && formats[i]->probe(head, (uint64_t)n))
			return true;
	return false;
}

struct ich_error *ich_dump_open(const char *path, struct ich_dump **ret)
{
	struct ich_dump *dump = calloc(1, sizeof(*dump));
	if (!dump)
		return &ich_enomem;
	dump->path = strdup(path);
	if (!dump->path) {
		free(dump);
		return &ich_enomem;
	}
	struct ich_error *err = ich_file_map(path, &dump->file);
	if (err) {
		free(dump->path);
		free(dump);
		return err;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i]->probe(dump->file.data, dump->file.size)) {
			dump->ops = formats[i];
			break;
		}
	}
	if (!dump->ops) {
		const uint8_t *d = dump->file.data;
		char magic[9] = "";
		for (size_t i = 0; i < 8 && i < dump->file.size; i++)
			magic[i] = (d[i] >= 0x20 && d[i] < 0x7f) ? (char)d[i] : '.';
		err = ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: not a Windows dump (%llu bytes%s; starts with \"%s\"; expected \"MDMP\", \"PAGEDUMP\" or \"PAGEDU64\")",
			path, (unsigned long long)dump->file.size,
			dump->file.gzip ? " after gzip decompression" : "", magic);
		ich_dump_close(dump);
		return err;
	}
	err = dump->ops->open(dump);
	if (err) {
		ich_dump_close(dump);
		return err;
	}
	*ret = dump;
	return NULL;
}

void ich_dump_close(struct ich_dump *dump)
{
	if (!dump)
		return;
	if (dump->as)
		ich_as_destroy(dump->as);
	dump->as = NULL;
	if (dump->ops && dump->ops->close)
		dump->ops->close(dump);
	for (size_t i = 0; i < dump->nwarnings; i++)
		free(dump->warnings[i]);
	free(dump->warnings);
	ich_file_unmap(&dump->file);
	free(dump->path);
	free(dump);
}

const char *ich_dump_path(const struct ich_dump *dump) { return dump->path; }
enum ich_dump_kind ich_dump_kind(const struct ich_dump *dump) { return dump->kind; }
const char *ich_dump_kind_name(const struct ich_dump *dump)
{
	return dump->kind_name ? dump->kind_name : "unknown";
}
enum ich_arch ich_dump_arch(const struct ich_dump *dump) { return dump->arch; }
uint32_t ich_dump_build(const struct ich_dump *dump) { return dump->build; }
bool ich_dump_is_wow64(const struct ich_dump *dump) { return dump->wow64; }
bool ich_dump_was_gzip(const struct ich_dump *dump) { return dump->file.gzip; }
uint64_t ich_dump_file_size(const struct ich_dump *dump) { return dump->file.size; }
const uint8_t *ich_dump_file_data(const struct ich_dump *dump) { return dump->file.data; }
size_t ich_dump_warning_count(const struct ich_dump *dump) { return dump->nwarnings; }

const char *ich_dump_warning(const struct ich_dump *dump, size_t i)
{
	return i < dump->nwarnings ? dump->warnings[i] : NULL;
}

void ich_dump_warn(struct ich_dump *dump, const char *fmt, ...)
{
	/* Bounded: a hostile dump must not make us collect millions. */
	if (dump->nwarnings >= 1000)
		return;
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	char **w = realloc(dump->warnings, (dump->nwarnings + 1) * sizeof(*w));
	if (!w) {
		free(msg);
		return;
	}
	dump->warnings = w;
	w[dump->nwarnings++] = msg;
}

const struct ich_minidump *ich_dump_minidump(const struct ich_dump *dump) { return dump->md; }
const struct ich_kdump *ich_dump_kdump(const struct ich_dump *dump) { return dump->kd; }
struct ich_as *ich_dump_as(struct ich_dump *dump) { return dump->as; }

struct ich_error *ich_dump_process_as(struct ich_dump *dump, uint64_t dtb,
				      struct ich_as **ret)
{
	if (!dump->ops->process_as)
		return ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: a %s has no per-process address spaces",
			dump->path, ich_dump_kind_name(dump));
	return dump->ops->process_as(dump, dtb, ret);
}

size_t ich_dump_read_phys(struct ich_dump *dump, uint64_t paddr, void *buf,
			  size_t len, struct ich_read_result *res)
{
	struct ich_read_result local;
	if (!res)
		res = &local;
	if (!dump->ops->read_phys) {
		memset(res, 0, sizeof(*res));
		res->why = ICH_MISS_NOT_CAPTURED;
		res->miss_addr = paddr;
		return 0;
	}
	return dump->ops->read_phys(dump, paddr, buf, len, res);
}

void ich_as_destroy(struct ich_as *as)
{
	if (as && as->ops->destroy)
		as->ops->destroy(as);
}
