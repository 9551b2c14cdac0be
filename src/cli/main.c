/* SPDX-License-Identifier: MIT */
/*
 * icpheap: global options, then dispatch to one command (cmd_*.c).
 *
 *   icpheap [GLOBAL OPTIONS] COMMAND [COMMAND OPTIONS] ARGS...
 *
 * Global options may come before the command; the long ones (--json,
 * --verbose, --build, --layout) are also accepted anywhere after it, up to a
 * "--", so `icpheap info --json x.dmp` works.  Short global options (-v, -q)
 * after the command belong to the command (WinDbg's `!heap -v` is not
 * "verbose").  `--help` anywhere after the command prints its usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_layout.h"
#include "core/json.h"

#ifndef ICH_VERSION
#define ICH_VERSION "unknown"
#endif

/*
 * The commands.  Those in files other engineers own are declared weak:
 * src/cli/meson.build compiles a command file only when it exists, and
 * until then its symbol resolves to NULL and the command is left out of the
 * table (and of --help).  Creating cmd_heap.c etc. is all it takes to add
 * one.  Commands owned here (info, types) are ordinary references.
 */
extern const struct ich_cli_command ich_cmd_info;
extern const struct ich_cli_command ich_cmd_types;
extern const struct ich_cli_command ich_cmd_heap __attribute__((weak));
extern const struct ich_cli_command ich_cmd_icpleak __attribute__((weak));
extern const struct ich_cli_command ich_cmd_ps __attribute__((weak));
extern const struct ich_cli_command ich_cmd_handles __attribute__((weak));
extern const struct ich_cli_command ich_cmd_analyze __attribute__((weak));
extern const struct ich_cli_command ich_cmd_heap_diff __attribute__((weak));
extern const struct ich_cli_command ich_cmd_poolused __attribute__((weak));

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

static void print_help(FILE *f)
{
	fputs("usage: icpheap [--json [--pretty]] [-v] [-q] [--build N] [--layout FILE] COMMAND [ARGS...]\n"
	      "       icpheap --help | --version | COMMAND --help\n"
	      "\n"
	      "Offline Windows crash-dump analyzer: reads minidumps and kernel dumps\n"
	      "(plain or gzip) without PDBs; prints what WinDbg's !heap and !icpleak print.\n"
	      "\n"
	      "commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i])
			fprintf(f, "  %-9s %s\n", commands[i]->name,
				commands[i]->summary ? commands[i]->summary : "");
	fputs("\n"
	      "global options:\n"
	      "  --json         JSON output (addresses are \"0x...\" strings), compact\n"
	      "  --pretty       indent the JSON for people (with --json)\n"
	      "  -v, --verbose  more detail\n"
	      "  -q, --quiet    no notes or progress on stderr\n"
	      "  --build N      treat the dump as Windows build N (layout selection)\n"
	      "  --layout FILE  load extra structure layouts (format: icpheap(1))\n"
	      "  --version      version and the Windows builds the type table covers\n"
	      "\n"
	      "exit status: 0 ok, 1 findings, 2 usage error, 3 dump unreadable or\n"
	      "unsupported, 4 internal error; with several dumps the worst wins.\n"
	      "See icpheap(1) for every option and the JSON schemas.\n", f);
}

static void print_version(void)
{
	printf("icpheap %s\n", ICH_VERSION);
	ich_cli_print_coverage(stdout);
}

static const struct ich_cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i] && !strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

enum opt_result { OPT_NONE, OPT_TAKEN, OPT_ERROR };

/*
 * If argv[*i] is a long global option, record it in g and advance *i past
 * it (and its argument).  --build/--layout take "--opt VALUE" or
 * "--opt=VALUE".
 */
static enum opt_result long_global(int argc, char **argv, int *i,
				   struct ich_cli_global *g)
{
	const char *a = argv[*i];
	if (!strcmp(a, "--json")) {
		g->json = true;
		(*i)++;
		return OPT_TAKEN;
	}
	if (!strcmp(a, "--verbose")) {
		g->verbose = true;
		(*i)++;
		return OPT_TAKEN;
	}
	if (!strcmp(a, "--pretty")) {
		g->pretty = true;
		(*i)++;
		return OPT_TAKEN;
	}
	const char *names[] = { "--build", "--layout" };
	for (int k = 0; k < 2; k++) {
		size_t n = strlen(names[k]);
		if (strncmp(a, names[k], n) || (a[n] != '\0' && a[n] != '='))
			continue;
		const char *val;
		if (a[n] == '=') {
			val = a + n + 1;
			(*i)++;
		} else if (*i + 1 < argc) {
			val = argv[*i + 1];
			*i += 2;
		} else {
			fprintf(stderr, "icpheap: %s needs an argument\n", names[k]);
			return OPT_ERROR;
		}
		if (k == 0) {
			uint64_t b;
			if (!ich_cli_parse_u64(val, false, &b) || b > UINT32_MAX) {
				fprintf(stderr, "icpheap: --build: '%s' is not a build number\n", val);
				return OPT_ERROR;
			}
			g->build = (uint32_t)b;
		} else {
			g->layout_file = val;
		}
		return OPT_TAKEN;
	}
	return OPT_NONE;
}

int main(int argc, char **argv)
{
	struct ich_cli_global g = {0};
	/* Block output (heap -a, --json) goes out in 64 KiB writes when it is
	 * not a terminal, not stdio's default 4 KiB (issue 12). */
	static char outbuf[1 << 16];
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	int i = 1;

	/* Global options before the command. */
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		enum opt_result r = long_global(argc, argv, &i, &g);
		if (r == OPT_ERROR)
			return ICH_EXIT_USAGE;
		if (r == OPT_TAKEN)
			continue;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_help(stdout);
			return ICH_EXIT_OK;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			print_version();
			return ICH_EXIT_OK;
		}
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			g.quiet = true;
		} else if (!strcmp(a, "-v")) {
			g.verbose = true;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "icpheap: unknown option '%s' (icpheap --help lists them)\n", a);
			return ICH_EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		fputs("icpheap: no command given\n", stderr);
		print_help(stderr);
		return ICH_EXIT_USAGE;
	}

	const char *name = argv[i];
	if (!strcmp(name, "help")) {
		if (i + 1 < argc) {
			const struct ich_cli_command *c = find_command(argv[i + 1]);
			if (!c) {
				fprintf(stderr, "icpheap: unknown command '%s'\n", argv[i + 1]);
				return ICH_EXIT_USAGE;
			}
			fputs(c->usage ? c->usage : "", stdout);
			return ICH_EXIT_OK;
		}
		print_help(stdout);
		return ICH_EXIT_OK;
	}
	const struct ich_cli_command *cmd = find_command(name);
	if (!cmd) {
		const char *names[NCOMMANDS + 1];
		size_t n = 0;
		for (size_t k = 0; k < NCOMMANDS; k++)
			if (commands[k])
				names[n++] = commands[k]->name;
		const char *s = ich_cli_suggest(name, names, n);
		if (s)
			fprintf(stderr, "icpheap: unknown command '%s'; did you mean '%s'?\n", name, s);
		else
			fprintf(stderr, "icpheap: unknown command '%s' (icpheap --help lists them)\n", name);
		return ICH_EXIT_USAGE;
	}

	/* The command's argv: its name, then its arguments without the long
	 * global options (which may follow the command). */
	char **cargv = calloc((size_t)(argc - i) + 1, sizeof(*cargv));
	if (!cargv) {
		fputs("icpheap: out of memory\n", stderr);
		return ICH_EXIT_INTERNAL;
	}
	int cargc = 0;
	cargv[cargc++] = argv[i++];
	bool dashdash = false;
	while (i < argc) {
		if (!dashdash) {
			if (!strcmp(argv[i], "--")) {
				dashdash = true;
				cargv[cargc++] = argv[i++];
				continue;
			}
			if (!strcmp(argv[i], "--help")) {
				fputs(cmd->usage ? cmd->usage : "", stdout);
				free(cargv);
				return ICH_EXIT_OK;
			}
			enum opt_result r = long_global(argc, argv, &i, &g);
			if (r == OPT_ERROR) {
				free(cargv);
				return ICH_EXIT_USAGE;
			}
			if (r == OPT_TAKEN)
				continue;
		}
		cargv[cargc++] = argv[i++];
	}
	cargv[cargc] = NULL;

	/* Every command but types ends with its dump arguments: when the last
	 * argument is an option that is not an existing file (`heap -s`), the
	 * dump is missing, a usage error (2), not an unreadable file (3). */
	if (strcmp(cmd->name, "types") && cargc > 1 && !dashdash) {
		const char *last = cargv[cargc - 1];
		FILE *probe = last[0] == '-' && last[1] ? fopen(last, "r") : NULL;
		if (probe)
			fclose(probe);
		else if (last[0] == '-' && last[1] && strcmp(last, "-h")) {
			fprintf(stderr, "icpheap %s: no dump given (the last argument, '%s', is an option)\n"
				"(icpheap %s --help lists the options)\n", cmd->name, last, cmd->name);
			free(cargv);
			return ICH_EXIT_USAGE;
		}
	}

	if (g.layout_file) {
		int rc = ich_cli_fail(ich_cli_load_layout(g.layout_file));
		if (rc != ICH_EXIT_OK) {
			free(cargv);
			return rc;
		}
	}

	ich_cli_quiet = g.quiet;
	/* JSON is compact for machine consumers unless --pretty asks for
	 * the indented form (issue 12); every command's writer follows. */
	ich_json_allow_pretty(g.pretty);
	int rc = cmd->run(cargc, cargv, &g);
	free(cargv);
	if (fflush(stdout) != 0 && rc < ICH_EXIT_INTERNAL) {
		perror("icpheap: writing output");
		rc = ICH_EXIT_INTERNAL;
	}
	return rc;
}
