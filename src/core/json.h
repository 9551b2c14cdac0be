/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer for --json output.  Addresses are written
 * as "0x..." lowercase hex strings (the documented schema convention).
 * Keys are passed with each value; pass NULL inside arrays.
 */
#ifndef ICPHEAP_CORE_JSON_H
#define ICPHEAP_CORE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define ICH_JSON_MAX_DEPTH 32

struct ich_json {
	FILE *f;
	bool pretty;
	int depth;
	bool first[ICH_JSON_MAX_DEPTH];
};

void ich_json_init(struct ich_json *j, FILE *f, bool pretty);
void ich_json_begin_object(struct ich_json *j, const char *key);
void ich_json_end_object(struct ich_json *j);
void ich_json_begin_array(struct ich_json *j, const char *key);
void ich_json_end_array(struct ich_json *j);
void ich_json_string(struct ich_json *j, const char *key, const char *s);	/* NULL -> null */
void ich_json_u64(struct ich_json *j, const char *key, uint64_t v);
void ich_json_i64(struct ich_json *j, const char *key, int64_t v);
void ich_json_double(struct ich_json *j, const char *key, double v);
void ich_json_bool(struct ich_json *j, const char *key, bool v);
void ich_json_null(struct ich_json *j, const char *key);
void ich_json_addr(struct ich_json *j, const char *key, uint64_t addr);	/* "0x..." */
/* After the outermost value: newline. */
void ich_json_finish(struct ich_json *j);

#endif
