/* SPDX-License-Identifier: MIT */
/*
 * icpheap error type.
 *
 * Every fallible library function returns a pointer to one error struct;
 * NULL means success.  The message is made where the check fails and names
 * the file, offset or address and what was wrong; callers pass it up
 * unchanged (or wrap it with ich_error_wrap) and the CLI prints it once.
 */
#ifndef ICPHEAP_ERROR_H
#define ICPHEAP_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ich_error_code {
	ICH_ERR_NOMEM = 1,	/* allocation failed */
	ICH_ERR_OS,		/* system call failed; errnum and path set */
	ICH_ERR_FORMAT,		/* dump data is invalid or inconsistent */
	ICH_ERR_UNSUPPORTED,	/* valid, but not a kind icpheap handles */
	ICH_ERR_FAULT,		/* memory the analysis needs is not in the dump */
	ICH_ERR_NOT_FOUND,	/* a looked-up thing does not exist */
	ICH_ERR_INVALID_ARG,	/* caller passed a bad argument (usage) */
	ICH_ERR_LAYOUT,		/* no structure layout fits this dump */
	ICH_ERR_STOP,		/* not an error: a callback asked to stop early */
	ICH_ERR_INTERNAL,	/* a bug in icpheap */
};

/* On functions that return an error: a result dropped on the floor is a
 * leak (and a hidden failure), so the compiler refuses it. */
#if defined(__GNUC__) || defined(__clang__)
#define ICH_MUST_CHECK __attribute__((warn_unused_result))
#else
#define ICH_MUST_CHECK
#endif

struct ich_error {
	enum ich_error_code code;
	int errnum;		/* errno for ICH_ERR_OS, else 0 */
	char *path;		/* file for ICH_ERR_OS, may be NULL */
	char *message;		/* always set */
	int is_static;		/* do not free (ich_enomem / ich_stop) */
};

/* Statically allocated errors: returned when allocating one fails, and the
 * "stop walking" signal for callbacks.  ich_error_destroy ignores them. */
extern struct ich_error ich_enomem;
extern struct ich_error ich_stop;

/* Never NULL (&ich_enomem when memory runs out): the compiler may rely on
 * it when the inline reads of addrspace.h return one of these. */
struct ich_error *ich_error_create(enum ich_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), returns_nonnull));
struct ich_error *ich_error_vcreate(enum ich_error_code code, const char *fmt, va_list ap)
	__attribute__((returns_nonnull));
/* errno-based error about a file: "PATH: what: strerror(errnum)". */
struct ich_error *ich_error_os(int errnum, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), returns_nonnull));
/* Prefix err's message with context ("heap 0x...: " + old message); takes
 * ownership of err and returns the (possibly new) error. */
struct ich_error *ich_error_wrap(struct ich_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ich_error_destroy(struct ich_error *err);
/*
 * drgn_error_catch: when *err is an error of the given code, destroy it,
 * set *err to NULL and return true; otherwise leave it (NULL or another
 * code, to be passed up) and return false.  The way to accept one expected
 * failure (a field not captured in the dump: ICH_ERR_FAULT) without
 * swallowing the others (out of memory) or leaking the error.
 */
bool ich_error_catch(struct ich_error **err, enum ich_error_code code);
/*
 * For a read whose value is optional where no error can be passed up:
 * true when err is NULL; otherwise the error is destroyed and false is
 * returned.  Never ignore a read's result: use this or ich_error_catch.
 */
bool ich_error_ok(struct ich_error *err);
/* Print "icpheap: message" to f. */
void ich_error_print(const struct ich_error *err, FILE *f);
const char *ich_error_code_name(enum ich_error_code code);

#ifdef __cplusplus
}
#endif
#endif
