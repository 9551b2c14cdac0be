/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <string.h>

#include "core/json.h"

void ich_json_init(struct ich_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

static void indent(struct ich_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void write_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Separator, indentation and key before a value. */
static void prefix(struct ich_json *j, const char *key)
{
	if (j->depth > 0) {
		if (!j->first[j->depth])
			fputc(',', j->f);
		indent(j);
	}
	j->first[j->depth] = false;
	if (key) {
		write_str(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct ich_json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < ICH_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct ich_json *j, char c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void ich_json_begin_object(struct ich_json *j, const char *key) { open_(j, key, '{'); }
void ich_json_end_object(struct ich_json *j) { close_(j, '}'); }
void ich_json_begin_array(struct ich_json *j, const char *key) { open_(j, key, '['); }
void ich_json_end_array(struct ich_json *j) { close_(j, ']'); }

void ich_json_string(struct ich_json *j, const char *key, const char *s)
{
	prefix(j, key);
	if (s)
		write_str(j->f, s);
	else
		fputs("null", j->f);
}

void ich_json_u64(struct ich_json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void ich_json_i64(struct ich_json *j, const char *key, int64_t v)
{
	prefix(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void ich_json_double(struct ich_json *j, const char *key, double v)
{
	prefix(j, key);
	fprintf(j->f, "%.6g", v);
}

void ich_json_bool(struct ich_json *j, const char *key, bool v)
{
	prefix(j, key);
	fputs(v ? "true" : "false", j->f);
}

void ich_json_null(struct ich_json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}

void ich_json_addr(struct ich_json *j, const char *key, uint64_t addr)
{
	prefix(j, key);
	fprintf(j->f, "\"0x%" PRIx64 "\"", addr);
}

void ich_json_finish(struct ich_json *j)
{
	fputc('\n', j->f);
}
