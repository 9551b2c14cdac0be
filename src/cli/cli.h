/* SPDX-License-Identifier: MIT */
/*
 * The icpheap command line: a thin layer over libicpheap.  One file per
 * command (cmd_info.c, cmd_heap.c, cmd_icpleak.c, ...), each exporting one
 * struct ich_cli_command; main.c only dispatches.
 */
#ifndef ICPHEAP_CLI_H
#define ICPHEAP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <icpheap/error.h>

/* Exit codes (README and man page document these). */
enum {
	ICH_EXIT_OK = 0,	/* nothing found */
	ICH_EXIT_FINDINGS = 1,	/* corruption, leaks over threshold */
	ICH_EXIT_USAGE = 2,	/* bad command line */
	ICH_EXIT_DUMP = 3,	/* a dump could not be read or analysed */
	ICH_EXIT_INTERNAL = 4,	/* a bug or resource failure in icpheap */
};

/* Options every command accepts (parsed by main.c before the command). */
struct ich_cli_global {
	bool json;		/* --json */
	bool pretty;		/* --pretty: indented JSON (default compact) */
	bool verbose;		/* -v / --verbose (commands may also use -v) */
	bool quiet;		/* -q */
	unsigned build;		/* --build N (0: from the dump) */
	const char *layout_file;	/* --layout FILE (already loaded) */
};

struct ich_option;
struct ich_parse;

/*
 * A command: its option table and how to run it.  main.c's command table
 * lists them all; main.c allocates opts_size bytes of zeros, lets init set
 * the defaults, parses the arguments with ich_parse_command (options into
 * that struct and into the global options), then calls run with the
 * positional arguments.
 */
struct ich_cli_command {
	const char *name;
	const char *summary;	/* one line for `icpheap --help` */
	const char *synopsis;	/* after "usage: icpheap NAME "; '\n' between forms */
	const char *description;	/* --help lines after the usage line */
	const char *footer;	/* --help lines after the options */
	const struct ich_option *options;
	unsigned flags;		/* ICH_CMD_* (parse_options.h) */
	int min_args, max_args;	/* positional arguments (max -1: any) */
	const char *args_missing;	/* fewer than min_args (default "no dump given") */
	size_t opts_size;
	void (*init)(void *opts);	/* defaults; NULL: all zero */
	/* Optional: sees each positional argument in order (heap's WinDbg
	 * addresses); returns -1, ICH_PARSE_KEEP or an exit code. */
	int (*positional)(struct ich_parse *p, const char *arg);
	int (*run)(void *opts, int nargs, char **args, const struct ich_cli_global *g);
};

/* icpheap --help (main.c: from the command table and the global options). */
void ich_cli_print_help(FILE *f);

/* Map a library error to an exit code (FORMAT/UNSUPPORTED/FAULT/OS/LAYOUT
 * -> 3, INVALID_ARG -> 2, NOMEM/INTERNAL -> 4). */
int ich_cli_exit_code(const struct ich_error *err);
/* The worse of two exit codes (4 > 3 > 2 > 1 > 0). */
int ich_cli_worst(int a, int b);
/* Print the error once ("icpheap: message") and return its exit code;
 * destroys err. */
int ich_cli_fail(struct ich_error *err);

/* -q: commands and helpers print no notes (set by main.c and by commands
 * that take -q themselves). */
extern bool ich_cli_quiet;

/*
 * Expand the dump arguments: files as given; directories are walked
 * (recursive if requested) and files recognised by content
 * (ich_dump_probe_file); other files are skipped with a note on stderr.
 * Returns a malloc'd NULL-terminated array of malloc'd paths.
 */
char **ich_cli_expand_dumps(char **args, int nargs, bool recursive, int *count);
void ich_cli_free_paths(char **paths);

/*
 * Run one_dump for each dump path in paths[0..n): text sections get a
 * "==> path <==" header when there are several; JSON output is one object,
 * or an array of them for several dumps (json non-NULL: one_dump writes
 * its object into it).  Returns the worst exit code.
 */
struct ich_json;
typedef int ich_cli_dump_fn(const char *path, struct ich_json *json, void *arg);
int ich_cli_each_dump(char **paths, int n, bool json, ich_cli_dump_fn *one_dump, void *arg);

/* The candidate closest to word (edit distance at most 2, or a prefix),
 * for "did you mean"; NULL when none is close. */
const char *ich_cli_suggest(const char *word, const char *const *cands, size_t n);

/* Parse a number (decimal or 0x-hex, WinDbg-style bare hex with hex=true). */
bool ich_cli_parse_u64(const char *s, bool hex, uint64_t *out);

#endif
