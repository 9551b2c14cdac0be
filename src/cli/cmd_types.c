/* SPDX-License-Identifier: MIT */
/*
 * icpheap types [--json]
 *
 * Prints the PDB-free structure layout table: which Windows builds and
 * architectures it covers, and every field offset with its source.  Also
 * the CLI's only door to <icpheap/layout.h> (cli_layout.h).
 */
#include <stdio.h>
#include <string.h>

#include <icpheap/layout.h>

#include "cli/cli.h"
#include "cli/cli_layout.h"
#include "cli/parse_options.h"

struct ich_error *ich_cli_load_layout(const char *path)
{
	return ich_layout_load_file(path);
}

void ich_cli_print_coverage(FILE *f)
{
	fprintf(f, "type table: %s\n", ich_layout_coverage());
}

const char *ich_cli_release_name(uint32_t build)
{
	return ich_windows_release_name(build);
}

struct types_opts {
	char unused;
};

static const struct ich_option types_options[] = {
	ICH_OPTION_END,
};

static int cmd_types(void *opts, int nargs, char **args, const struct ich_cli_global *g)
{
	(void)opts;
	(void)nargs;
	(void)args;
	ich_layout_print_table(stdout, g->json);
	return ICH_EXIT_OK;
}

const struct ich_cli_command ich_cmd_types = {
	.name = "types",
	.summary = "the built-in structure layout table (builds, offsets, sources)",
	.synopsis = "[--json]",
	.description = "  Print the built-in structure layout table (plus rows loaded with\n"
		       "  --layout FILE): Windows builds, architectures, field offsets, sources.\n",
	.options = types_options,
	.min_args = 0,
	.max_args = 0,
	.opts_size = sizeof(struct types_opts),
	.run = cmd_types,
};
