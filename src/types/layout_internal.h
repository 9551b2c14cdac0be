/* SPDX-License-Identifier: MIT */
#ifndef ICPHEAP_LAYOUT_INTERNAL_H
#define ICPHEAP_LAYOUT_INTERNAL_H

#include <icpheap/layout.h>

struct field_value {
	enum ich_field field;	/* ICH_F_COUNT ends a group */
	int32_t value;
};

/* A built-in row: field groups (NULL-terminated), merged in order. */
struct row_def {
	const char *module;
	enum ich_arch arch;
	uint32_t build_min;
	const char *label;
	const char *source;
	bool derived;
	const struct field_value *groups[8];
};

extern const struct row_def ich_builtin_rows[];
extern const size_t ich_builtin_row_count;

#endif
