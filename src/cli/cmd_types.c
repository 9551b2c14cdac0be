/* SPDX-License-Identifier: MIT */
/*
 * icpheap types [--json]
 *
 * Prints the PDB-free structure layout table: which Windows builds and
 * architectures it covers, and every field offset with its source.  Also
 * the CLI's only door to <icpheap/layout.h> (cli_layout.h).
 *
 * The type table is written in parallel with the CLI; until its header
 * exists this file builds a stub that says so.  Its functions are declared
 * weak so the CLI also links while the header exists but its sources are
 * not yet in the library.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_layout.h"

static const char usage[] =
"usage: icpheap types [--json]\n"
"  Print the built-in structure layout table (plus rows loaded with\n"
"  --layout FILE): Windows builds, architectures, field offsets, sources.\n";

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'J' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#if __has_include(<icpheap/layout.h>)
#include <icpheap/layout.h>
#pragma weak ich_layout_load_file
#pragma weak ich_layout_print_table
#pragma weak ich_layout_coverage
#pragma weak ich_windows_release_name
#define HAVE_LAYOUT 1
#else
#define HAVE_LAYOUT 0
#endif

struct ich_error *ich_cli_load_layout(const char *path)
{
#if HAVE_LAYOUT
	if (ich_layout_load_file)
		return ich_layout_load_file(path);
#endif
	return ich_error_create(ICH_ERR_UNSUPPORTED,
		"%s: --layout is not supported: this build has no type table", path);
}

void ich_cli_print_coverage(FILE *f)
{
#if HAVE_LAYOUT
	if (ich_layout_coverage) {
		fprintf(f, "type table: %s\n", ich_layout_coverage());
		return;
	}
#endif
	fputs("type table: not part of this build\n", f);
}

const char *ich_cli_release_name(uint32_t build)
{
#if HAVE_LAYOUT
	if (ich_windows_release_name)
		return ich_windows_release_name(build);
#endif
	(void)build;
	return NULL;
}

static int cmd_types(int argc, char **argv, const struct ich_cli_global *g)
{
	bool json = g->json;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'h': fputs(usage, stdout); return ICH_EXIT_OK;
		default: fputs(usage, stderr); return ICH_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "icpheap types: unexpected argument '%s'\n%s", argv[optind], usage);
		return ICH_EXIT_USAGE;
	}
#if HAVE_LAYOUT
	if (ich_layout_print_table) {
		ich_layout_print_table(stdout, json);
		return ICH_EXIT_OK;
	}
#endif
	(void)json;
	fputs("icpheap: the type table is not part of this build\n", stderr);
	return ICH_EXIT_INTERNAL;
}

const struct ich_cli_command ich_cmd_types = {
	.name = "types",
	.summary = "the built-in structure layout table (builds, offsets, sources)",
	.usage = usage,
	.run = cmd_types,
};
