/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the commands (cli.h): exit codes from errors, the dump
 * argument expansion used by commands that take folders, number parsing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <icpheap/dump.h>

#include "core/grow.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/size.h"
#include "cli/records.h"

bool ich_cli_quiet;

int ich_cli_exit_code(const struct ich_error *err)
{
	if (!err)
		return ICH_EXIT_OK;
	switch (err->code) {
	case ICH_ERR_STOP:
		return ICH_EXIT_OK;
	case ICH_ERR_INVALID_ARG:
		return ICH_EXIT_USAGE;
	case ICH_ERR_NOMEM:
	case ICH_ERR_INTERNAL:
		return ICH_EXIT_INTERNAL;
	case ICH_ERR_OS:
	case ICH_ERR_FORMAT:
	case ICH_ERR_UNSUPPORTED:
	case ICH_ERR_FAULT:
	case ICH_ERR_NOT_FOUND:
	case ICH_ERR_LAYOUT:
		return ICH_EXIT_DUMP;
	}
	return ICH_EXIT_INTERNAL;
}

int ich_cli_worst(int a, int b)
{
	/* The codes are ordered by severity, so the worst is the largest. */
	return a > b ? a : b;
}

/* The error ich_cli_fail reported last: --json commands put it in their
 * error document (records.c, ich_json_failure). */
static struct {
	const char *code;
	char message[1024];
} last_error;

const char *ich_cli_last_error(const char **code)
{
	if (!last_error.code)
		return NULL;
	*code = last_error.code;
	return last_error.message;
}

int ich_cli_fail(struct ich_error *err)
{
	if (!err)
		return ICH_EXIT_OK;
	int code = ich_cli_exit_code(err);
	last_error.code = ich_error_code_name(err->code);
	snprintf(last_error.message, sizeof(last_error.message), "%s", err->message ? err->message : "");
	ich_error_print(err, stderr);
	ich_error_destroy(err);
	return code;
}

/* A growable NULL-terminated list of malloc'd paths. */
struct path_list {
	char **v;
	size_t n, cap;
	bool oom;
};

static void list_add(struct path_list *l, const char *path)
{
	if (l->oom)
		return;
	/* room for the path and the NULL after it */
	if (!ICH_ARRAY_RESERVE(l->v, l->n + 1, l->cap, 16)) {
		l->oom = true;
		return;
	}
	char *copy = strdup(path);
	if (!copy) {
		l->oom = true;
		return;
	}
	l->v[l->n++] = copy;
	l->v[l->n] = NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Add the dumps found in dir, sorted by name so batch output is stable.
 * Hidden entries are skipped; symlinks are followed for files but not for
 * folders (no loops).
 */
static void walk_dir(struct path_list *l, const char *dir, bool recursive, int depth)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "icpheap: %s: cannot open folder: %s\n", dir, strerror(errno));
		return;
	}
	struct path_list names = {0};
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		list_add(&names, e->d_name);
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n && !l->oom; i++) {
		char *path = NULL;
		size_t dl = strlen(dir);
		bool slash = dl && dir[dl - 1] == '/';
		if (asprintf(&path, "%s%s%s", dir, slash ? "" : "/", names.v[i]) < 0) {
			l->oom = true;
			break;
		}
		struct stat st, lst;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (recursive && depth < 64 && lstat(path, &lst) == 0 && !S_ISLNK(lst.st_mode))
				walk_dir(l, path, recursive, depth + 1);
		} else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (ich_dump_probe_file(path))
				list_add(l, path);
			else if (!ich_cli_quiet)
				fprintf(stderr, "icpheap: note: %s: skipped: not a Windows dump\n", path);
		}
		free(path);
	}
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	l->oom |= names.oom;
}

char **ich_cli_expand_dumps(char **args, int nargs, bool recursive, int *count)
{
	struct path_list l = {0};
	for (int i = 0; i < nargs && !l.oom; i++) {
		struct stat st;
		if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode))
			walk_dir(&l, args[i], recursive, 0);
		else
			list_add(&l, args[i]);	/* opening it reports any problem */
	}
	if (!l.oom && !l.v) {
		l.v = calloc(1, sizeof(*l.v));
		l.oom = !l.v;
	}
	if (l.oom) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		fprintf(stderr, "icpheap: out of memory\n");
		if (count)
			*count = 0;
		return NULL;
	}
	if (count)
		*count = (int)l.n;
	return l.v;
}

void ich_cli_free_paths(char **paths)
{
	if (!paths)
		return;
	for (char **p = paths; *p; p++)
		free(*p);
	free(paths);
}

bool ich_cli_parse_u64(const char *s, bool hex, uint64_t *out)
{
	return ich_parse_number(s, hex, out);
}

int ich_cli_each_dump(char **paths, int n, bool json, ich_cli_dump_fn *one_dump, void *arg)
{
	int worst = ICH_EXIT_OK;
	struct ich_json js, *j = NULL;
	if (json) {
		ich_json_init(&js, stdout, true);
		j = &js;
		if (n > 1)
			ich_json_begin_array(j, NULL);
	}
	for (int i = 0; i < n; i++) {
		if (!json && n > 1)
			printf("%s==> %s <==\n", i ? "\n" : "", paths[i]);
		fflush(stdout);
		worst = ich_cli_worst(worst, one_dump(paths[i], j, arg));
	}
	if (j) {
		if (n > 1)
			ich_json_end_array(j);
		ich_json_finish(j);
	}
	return worst;
}

/* Damerau-free Levenshtein distance, bounded to short words. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 99;
	size_t d[64][64];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t k = 0; k <= lb; k++)
		d[0][k] = k;
	for (size_t i = 1; i <= la; i++)
		for (size_t k = 1; k <= lb; k++) {
			size_t best = d[i - 1][k] + 1;
			if (d[i][k - 1] + 1 < best)
				best = d[i][k - 1] + 1;
			size_t sub = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
			if (sub < best)
				best = sub;
			d[i][k] = best;
		}
	return d[la][lb];
}

const char *ich_cli_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bd = 3;
	size_t wl = strlen(word);
	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		size_t d = edit_distance(word, cands[i]);
		if (wl >= 3 && !strncmp(cands[i], word, wl) && d > 1)
			d = 1;	/* a prefix of a longer name */
		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	return best;
}

