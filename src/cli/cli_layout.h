/* SPDX-License-Identifier: MIT */
/*
 * The CLI's door to the type table (<icpheap/layout.h>), in one place
 * (cmd_types.c) so main.c and cmd_info.c do not depend on its details.
 */
#ifndef ICPHEAP_CLI_LAYOUT_H
#define ICPHEAP_CLI_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <icpheap/error.h>

/* --layout FILE: load extra layout rows. */
struct ich_error *ich_cli_load_layout(const char *path);
/* For --version: which Windows builds the type table covers. */
void ich_cli_print_coverage(FILE *f);
/* "Windows 10 22H2" for build 19045, or NULL when unknown. */
const char *ich_cli_release_name(uint32_t build);

#endif
