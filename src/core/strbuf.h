/* SPDX-License-Identifier: MIT */
#ifndef ICPHEAP_CORE_STRBUF_H
#define ICPHEAP_CORE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A growable string.  On allocation failure it sets oom and stops growing,
 * so callers check once at the end instead of after every append. */
struct ich_strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

void ich_strbuf_init(struct ich_strbuf *sb);
void ich_strbuf_free(struct ich_strbuf *sb);
void ich_strbuf_appendf(struct ich_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ich_strbuf_append(struct ich_strbuf *sb, const char *s, size_t n);
/* Take the string (caller frees); the buffer is reset. NULL if oom. */
char *ich_strbuf_take(struct ich_strbuf *sb);

#endif
