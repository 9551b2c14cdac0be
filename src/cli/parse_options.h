/* SPDX-License-Identifier: MIT */
/*
 * One declarative option table per command, one parser for all of them
 * (the way git's parse-options.h does it -- git/git parse-options.h: a
 * table of OPT_* entries per command, usage and --git-completion-helper
 * generated from it; the idea only, nothing copied): each command declares a const
 * table of struct ich_option -- short and long name, argument kind, the
 * field it fills (an offset into the command's own options struct, or into
 * struct ich_cli_global), help text and flags -- and ich_parse_command()
 * does the rest for every command alike:
 *
 *   - permutation: options and arguments in any order (`icpleak 1 --all
 *     DUMP`, `info DUMP --json`), up to a "--";
 *   - `--opt=val` and `--opt val`, `-j4` and `-j 4`, combined short flags
 *     (`-rq`);
 *   - WinDbg-style commands (ICH_CMD_WINDBG, heap): a single-dash word is
 *     matched whole (`-stat`, `-flt`, `-srch`: ICH_OPTF_ONE_DASH names),
 *     never split into short flags, and callbacks take the option's own
 *     arguments (`-flt s 20`, `-p -a ADDR`) with ich_parse_peek/take;
 *   - the global options (--json, --pretty, -v/--verbose, -q/--quiet,
 *     --build, --layout, -h/--help) after the command too, unless the
 *     command's table has the same name (heap's -v and -h are WinDbg's);
 *   - usage text and --help generated from the tables, "did you mean" from
 *     the same names, one message style ("icpheap CMD: ..."), a missing
 *     dump argument as a usage error (exit 2).
 */
#ifndef ICPHEAP_CLI_PARSE_OPTIONS_H
#define ICPHEAP_CLI_PARSE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ich_cli_command;
struct ich_cli_global;
struct ich_option;
struct ich_parse;

/* A callback option: arg is the option's argument (ICH_ARG_REQUIRED, or
 * ICH_ARG_OPTIONAL given with '='), NULL for ICH_ARG_NONE; it may take more
 * arguments with ich_parse_take.  Returns -1 to go on, or an exit code
 * (ich_parse_error's ICH_EXIT_USAGE). */
typedef int ich_opt_cb(struct ich_parse *p, const struct ich_option *o, const char *arg);

enum ich_opt_kind {
	ICH_OPT_END = 0,
	ICH_OPT_BOOL,		/* bool = true */
	ICH_OPT_STRING,		/* const char * = the argument */
	ICH_OPT_UINT,		/* unsigned: decimal or 0x, in [min, max] */
	ICH_OPT_SIZE,		/* uint64_t: bytes, K/M/G/T (core/size.h) */
	ICH_OPT_PID,		/* uint32_t: decimal, 0x-hex or WinDbg hex Cid */
	ICH_OPT_CALLBACK,	/* cb does it */
};

enum ich_opt_arg {
	ICH_ARG_NONE,
	ICH_ARG_REQUIRED,	/* --opt=VAL or --opt VAL; -oVAL or -o VAL */
	ICH_ARG_OPTIONAL,	/* --opt=VAL only */
};

enum {
	ICH_OPTF_HIDDEN = 1,	/* not in --help nor in the man page: an alias */
	ICH_OPTF_MORE = 2,	/* in --help only with -v */
	ICH_OPTF_ONE_DASH = 4,	/* long_name written with one dash (-stat) */
	ICH_OPTF_GLOBAL = 8,	/* offset is into struct ich_cli_global */
	ICH_OPTF_TOP = 16,	/* global table: before the command only */
};

struct ich_option {
	char short_name;	/* 0: none */
	const char *long_name;	/* without dashes; NULL: none */
	enum ich_opt_kind kind;
	enum ich_opt_arg arg;
	size_t offset;		/* of the field filled (not for CALLBACK) */
	const char *argh;	/* the argument's name in --help ("N", "FILE") */
	const char *help;	/* '\n' continues on a new help line */
	unsigned flags;
	ich_opt_cb *cb;
	uint64_t min, max;	/* ICH_OPT_UINT range (max 0: UINT_MAX) */
};

#define ICH_OPTION_BOOL(s, l, T, f, h) \
	{ (s), (l), ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(T, f), NULL, (h), 0, NULL, 0, 0 }
#define ICH_OPTION_STRING(s, l, T, f, a, h) \
	{ (s), (l), ICH_OPT_STRING, ICH_ARG_REQUIRED, offsetof(T, f), (a), (h), 0, NULL, 0, 0 }
#define ICH_OPTION_UINT(s, l, T, f, a, lo, hi, h) \
	{ (s), (l), ICH_OPT_UINT, ICH_ARG_REQUIRED, offsetof(T, f), (a), (h), 0, NULL, (lo), (hi) }
#define ICH_OPTION_SIZE(s, l, T, f, a, h) \
	{ (s), (l), ICH_OPT_SIZE, ICH_ARG_REQUIRED, offsetof(T, f), (a), (h), 0, NULL, 0, 0 }
#define ICH_OPTION_PID(s, l, T, f, a, h) \
	{ (s), (l), ICH_OPT_PID, ICH_ARG_REQUIRED, offsetof(T, f), (a), (h), 0, NULL, 0, 0 }
#define ICH_OPTION_CB(s, l, argkind, a, fn, h, fl) \
	{ (s), (l), ICH_OPT_CALLBACK, (argkind), 0, (a), (h), (fl), (fn), 0, 0 }
#define ICH_OPTION_END { 0, NULL, ICH_OPT_END, ICH_ARG_NONE, 0, NULL, NULL, 0, NULL, 0, 0 }

/* Command flags (struct ich_cli_command.flags). */
enum {
	ICH_CMD_WINDBG = 1,	/* single-dash words matched whole; no -abc clusters */
	ICH_CMD_DUMP_LAST = 2,	/* the dump is the last argument (heap: its
				 * options' optional values must not eat it) */
};

/* struct ich_cli_command.positional returns this to keep an argument as a
 * positional one (else -1: consumed, or an exit code). */
#define ICH_PARSE_KEEP (-2)

/* The parser's state, for callbacks. */
struct ich_parse {
	const struct ich_cli_command *cmd;
	int argc;
	char **argv;		/* argv[0] is the command name */
	int next;		/* the next argument to look at */
	int reserved;		/* ICH_CMD_DUMP_LAST: the dump's index, else 0 */
	void *opts;		/* the command's options struct */
	struct ich_cli_global *g;
	char **args;		/* positional arguments, in order */
	int nargs;
	bool dashdash;		/* "--" seen: the rest are arguments */
};

/* The next argument if a callback may take it (not past a "--", not the
 * reserved dump), else NULL; ich_parse_take also consumes it. */
const char *ich_parse_peek(const struct ich_parse *p);
const char *ich_parse_take(struct ich_parse *p);

/* "icpheap CMD: <message>" and "(icpheap CMD --help lists the options)" on
 * stderr; returns ICH_EXIT_USAGE. */
int ich_parse_error(const struct ich_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ich_cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Parse a command's arguments (argv[0] is its name) into opts (already
 * holding the defaults) and g.  On success returns -1 with the positional
 * arguments in *args / *nargs (pointers into argv; *args is malloc'd);
 * else the exit code: 0 after --help, 2 after a usage error (said on
 * stderr).
 */
int ich_parse_command(const struct ich_cli_command *cmd, int argc, char **argv, void *opts,
		      struct ich_cli_global *g, char ***args, int *nargs);

/*
 * The global options before the command: from argv[*i] on, up to the first
 * argument that is not an option (the command) or after a "--".  Returns
 * -1 to go on, 0 after --help/--version (printed), 2 on a usage error.
 */
int ich_parse_global(int argc, char **argv, int *i, struct ich_cli_global *g);

/* The global option table (man page GLOBAL OPTIONS). */
extern const struct ich_option ich_global_options[];

/* The global table as --help lists it. */
void ich_parse_usage_global(FILE *f);

/* A command's usage, generated from its table: with more, the
 * ICH_OPTF_MORE options too. */
void ich_parse_usage(FILE *f, const struct ich_cli_command *cmd, bool more);

/* One line per option of the table (and of the global table for cmd NULL)
 * that --help and the man page list: "-s", "--long", "-stat", spelled as
 * typed, then a tab and the argument name if any.  For tests and shell
 * completion (icpheap CMD --list-options). */
void ich_parse_list_options(FILE *f, const struct ich_cli_command *cmd);

#endif
