/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

void ich_strbuf_init(struct ich_strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void ich_strbuf_free(struct ich_strbuf *sb)
{
	free(sb->s);
	ich_strbuf_init(sb);
}

static bool reserve(struct ich_strbuf *sb, size_t extra)
{
	if (sb->oom)
		return false;
	if (sb->len + extra + 1 <= sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	char *s = realloc(sb->s, cap);
	if (!s) {
		sb->oom = true;
		return false;
	}
	sb->s = s;
	sb->cap = cap;
	return true;
}

void ich_strbuf_append(struct ich_strbuf *sb, const char *s, size_t n)
{
	if (!reserve(sb, n))
		return;
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void ich_strbuf_appendf(struct ich_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *ich_strbuf_take(struct ich_strbuf *sb)
{
	if (sb->oom) {
		ich_strbuf_free(sb);
		return NULL;
	}
	char *s = sb->s ? sb->s : strdup("");
	ich_strbuf_init(sb);
	return s;
}
