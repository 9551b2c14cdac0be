/* SPDX-License-Identifier: MIT */
/* The one error type (drgn style): built where the check fails, printed once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/error.h>

struct ich_error ich_enomem = {
	.code = ICH_ERR_NOMEM,
	.message = (char *)"out of memory",
	.is_static = 1,
};

struct ich_error ich_stop = {
	.code = ICH_ERR_STOP,
	.message = (char *)"stop",
	.is_static = 1,
};

struct ich_error *ich_error_vcreate(enum ich_error_code code, const char *fmt, va_list ap)
{
	struct ich_error *err = calloc(1, sizeof(*err));
	if (!err)
		return &ich_enomem;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &ich_enomem;
	}
	err->code = code;
	return err;
}

struct ich_error *ich_error_create(enum ich_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ich_error *err = ich_error_vcreate(code, fmt, ap);
	va_end(ap);
	return err;
}

struct ich_error *ich_error_os(int errnum, const char *path, const char *fmt, ...)
{
	char *what = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (r < 0)
		return &ich_enomem;
	struct ich_error *err = ich_error_create(ICH_ERR_OS, "%s: %s: %s",
						 path ? path : "?", what,
						 strerror(errnum));
	free(what);
	if (err->is_static)
		return err;
	err->errnum = errnum;
	if (path && !(err->path = strdup(path))) {
		ich_error_destroy(err);
		return &ich_enomem;
	}
	return err;
}

struct ich_error *ich_error_wrap(struct ich_error *err, const char *fmt, ...)
{
	if (!err || err->is_static)
		return err;
	char *prefix = NULL, *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (r < 0)
		return err;	/* keep the original message rather than lose it */
	if (asprintf(&msg, "%s%s", prefix, err->message) < 0) {
		free(prefix);
		return err;
	}
	free(prefix);
	free(err->message);
	err->message = msg;
	return err;
}

bool ich_error_catch(struct ich_error **err, enum ich_error_code code)
{
	if (!*err || (*err)->code != code)
		return false;
	ich_error_destroy(*err);
	*err = NULL;
	return true;
}

bool ich_error_ok(struct ich_error *err)
{
	if (!err)
		return true;
	ich_error_destroy(err);
	return false;
}

void ich_error_destroy(struct ich_error *err)
{
	if (!err || err->is_static)
		return;
	free(err->message);
	free(err->path);
	free(err);
}

void ich_error_print(const struct ich_error *err, FILE *f)
{
	if (err)
		fprintf(f, "icpheap: %s\n", err->message);
}

const char *ich_error_code_name(enum ich_error_code code)
{
	switch (code) {
	case ICH_ERR_NOMEM: return "nomem";
	case ICH_ERR_OS: return "os";
	case ICH_ERR_FORMAT: return "format";
	case ICH_ERR_UNSUPPORTED: return "unsupported";
	case ICH_ERR_FAULT: return "fault";
	case ICH_ERR_NOT_FOUND: return "not_found";
	case ICH_ERR_INVALID_ARG: return "invalid_argument";
	case ICH_ERR_LAYOUT: return "layout";
	case ICH_ERR_STOP: return "stop";
	case ICH_ERR_INTERNAL: return "internal";
	}
	return "unknown";
}
