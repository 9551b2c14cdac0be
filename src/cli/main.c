/* SPDX-License-Identifier: MIT */
/*
 * icpheap: global options, then dispatch to one command (cmd_*.c).
 *
 *   icpheap [GLOBAL OPTIONS] COMMAND [COMMAND OPTIONS] ARGS...
 *
 * Every command declares its options in one table (parse_options.h); the
 * parser takes the global options before the command and, after it, the
 * command's options and the global ones the command does not redefine
 * (WinDbg's `!heap -v` is not "verbose"), in any order up to a "--".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_layout.h"
#include "cli/parse_options.h"
#include "core/json.h"

/* The commands, in --help order: every cmd_*.c in src/cli/meson.build. */
extern const struct ich_cli_command ich_cmd_info;
extern const struct ich_cli_command ich_cmd_heap;
extern const struct ich_cli_command ich_cmd_icpleak;
extern const struct ich_cli_command ich_cmd_ps;
extern const struct ich_cli_command ich_cmd_handles;
extern const struct ich_cli_command ich_cmd_analyze;
extern const struct ich_cli_command ich_cmd_heap_diff;
extern const struct ich_cli_command ich_cmd_poolused;
extern const struct ich_cli_command ich_cmd_types;

static const struct ich_cli_command *const commands[] = {
	&ich_cmd_info,
	&ich_cmd_heap,
	&ich_cmd_icpleak,
	&ich_cmd_ps,
	&ich_cmd_handles,
	&ich_cmd_analyze,
	&ich_cmd_heap_diff,
	&ich_cmd_poolused,
	&ich_cmd_types,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void ich_cli_print_help(FILE *f)
{
	fputs("usage: icpheap [GLOBAL OPTIONS] COMMAND [OPTIONS] ARGS...\n"
	      "       icpheap --help | --version | COMMAND --help\n"
	      "\n"
	      "Offline Windows crash-dump analyzer: reads minidumps and kernel dumps\n"
	      "(plain or gzip) without PDBs; prints what WinDbg's !heap and !icpleak print.\n"
	      "\n"
	      "commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i]->name, commands[i]->summary ? commands[i]->summary : "");
	fputs("\n"
	      "global options (before or after the command):\n", f);
	ich_parse_usage_global(f);
	fputs("\n"
	      "exit status: 0 ok, 1 findings, 2 usage error, 3 dump unreadable or\n"
	      "unsupported, 4 internal error; with several dumps the worst wins.\n"
	      "See icpheap(1) for every option and the JSON schemas.\n", f);
}

static const struct ich_cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[NCOMMANDS];
	for (size_t k = 0; k < NCOMMANDS; k++)
		names[k] = commands[k]->name;
	const char *s = ich_cli_suggest(name, names, NCOMMANDS);
	if (s)
		fprintf(stderr, "icpheap: unknown command '%s'; did you mean '%s'?\n", name, s);
	else
		fprintf(stderr, "icpheap: unknown command '%s' (icpheap --help lists them)\n", name);
	return ICH_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct ich_cli_global g = {0};
	/* Block output (heap -a, --json) goes out in 256 KiB writes when it
	 * is not a terminal, not stdio's default 4 KiB (issue 12; the
	 * writers' own buffers, ICH_OUT_BUF and ICH_JSON_BUF, are the same
	 * size). */
	static char outbuf[1 << 18];
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

	/* The global table, one option a line (tests, shell completion). */
	if (argc == 2 && !strcmp(argv[1], "--list-options")) {
		ich_parse_list_options(stdout, NULL);
		return ICH_EXIT_OK;
	}
	int i = 1;
	int rc = ich_parse_global(argc, argv, &i, &g);
	if (rc >= 0)
		return rc;
	if (i >= argc) {
		fputs("icpheap: no command given\n", stderr);
		ich_cli_print_help(stderr);
		return ICH_EXIT_USAGE;
	}

	const char *name = argv[i];
	if (!strcmp(name, "help")) {
		if (i + 1 < argc) {
			const struct ich_cli_command *c = find_command(argv[i + 1]);
			if (!c)
				return unknown_command(argv[i + 1]);
			ich_parse_usage(stdout, c, g.verbose);
			return ICH_EXIT_OK;
		}
		ich_cli_print_help(stdout);
		return ICH_EXIT_OK;
	}
	const struct ich_cli_command *cmd = find_command(name);
	if (!cmd)
		return unknown_command(name);

	void *opts = calloc(1, cmd->opts_size ? cmd->opts_size : 1);
	if (!opts) {
		fputs("icpheap: out of memory\n", stderr);
		return ICH_EXIT_INTERNAL;
	}
	if (cmd->init)
		cmd->init(opts);
	char **args;
	int nargs;
	rc = ich_parse_command(cmd, argc - i, argv + i, opts, &g, &args, &nargs);
	if (rc >= 0) {
		free(opts);
		return rc;
	}

	if (g.layout_file) {
		rc = ich_cli_fail(ich_cli_load_layout(g.layout_file));
		if (rc != ICH_EXIT_OK) {
			free(args);
			free(opts);
			return rc;
		}
	}

	ich_cli_quiet = g.quiet;
	/* JSON is compact for machine consumers unless --pretty asks for
	 * the indented form (issue 12); every command's writer follows. */
	ich_json_allow_pretty(g.pretty);
	rc = cmd->run(opts, nargs, args, &g);
	free(args);
	free(opts);
	/* ferror too: a write that failed earlier leaves the flag set but
	 * the buffer empty, and fflush then succeeds */
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc < ICH_EXIT_INTERNAL) {
		perror("icpheap: writing output");
		rc = ICH_EXIT_INTERNAL;
	}
	return rc;
}
