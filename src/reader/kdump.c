/* SPDX-License-Identifier: MIT */
/*
 * Kernel crash dumps (PAGEDUMP / PAGEDU64): placeholder until the kernel
 * reader lands.  It recognises the signatures so such dumps are refused
 * with a precise message instead of "not a Windows dump".
 */
#include <string.h>

#include "reader/reader.h"

static bool kd_probe(const uint8_t *data, uint64_t size)
{
	return size >= 8 && (!memcmp(data, "PAGEDU64", 8) || !memcmp(data, "PAGEDUMP", 8));
}

static struct ich_error *kd_open(struct ich_dump *dump)
{
	return ich_error_create(ICH_ERR_UNSUPPORTED,
		"%s: kernel dumps (%.8s) are not readable by this build of icpheap",
		dump->path, (const char *)dump->file.data);
}

static void kd_close(struct ich_dump *dump)
{
	(void)dump;
}

const struct ich_reader_ops ich_kdump_ops = {
	.name = "kernel dump",
	.probe = kd_probe,
	.open = kd_open,
	.close = kd_close,
};

const char *ich_kdump_type_name(uint32_t dump_type)
{
	switch (dump_type) {
	case 1: return "full";
	case 2: return "summary";
	case 3: return "header only";
	case 4: return "triage";
	case 5: return "bitmap";
	case 6: return "live kernel bitmap";
	case 8: return "kernel memory (RDMP)";
	case 9: return "kernel and user memory (RDMP)";
	case 10: return "complete memory (RDMP)";
	}
	return "unknown";
}
