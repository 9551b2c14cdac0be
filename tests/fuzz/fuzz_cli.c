/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the command line: the input is an argument vector (NUL
 * separated; at most 32 arguments) given to icpheap's own main(), compiled
 * in as icpheap_cli_main, with a real dump appended as the last argument
 * ($ICH_FUZZ_CLI_DUMP, default the bundled sample).  It exercises every
 * command's option parsing and the --layout/--build handling on a dump the
 * commands can walk.  analyze is left out (it forks one child per dump) and
 * so is --out (it writes files).  stdout goes to /dev/null; run with
 * -close_fd_mask=2 to silence stderr too.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <icpheap/layout.h>

int icpheap_cli_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *dump;
	if (!dump) {
		dump = getenv("ICH_FUZZ_CLI_DUMP");
		if (!dump)
			dump = ICH_FUZZ_CLI_DEFAULT_DUMP;
		if (!freopen("/dev/null", "w", stdout))
			abort();
	}
	if (size > 4096)
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *argv[MAX_ARGS + 3];
	int argc = 0;
	argv[argc++] = (char *)"icpheap";
	for (size_t i = 0; i <= size && argc < MAX_ARGS + 1;) {
		char *a = buf + i;
		size_t n = strlen(a);
		if (n)
			argv[argc++] = a;
		i += n + 1;
	}
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "analyze") || !strncmp(argv[i], "--out", 5) ||
		    !strcmp(argv[i], "-o")) {
			free(buf);
			return 0;
		}
	argv[argc++] = (char *)dump;
	argv[argc] = NULL;
	optind = 0;	/* glibc: a full getopt reset between runs */
	icpheap_cli_main(argc, argv);
	ich_layout_reset();
	free(buf);
	return 0;
}
