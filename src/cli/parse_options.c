/* SPDX-License-Identifier: MIT */
/* One option parser for every command (parse_options.h). */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <icpheap/kernel.h>

#include "cli/cli.h"
#include "cli/cli_layout.h"
#include "cli/parse_options.h"
#include "core/size.h"

#ifndef ICH_VERSION
#define ICH_VERSION "unknown"
#endif

/* ----------------------------------------------------------- globals */

static int cb_help(struct ich_parse *p, const struct ich_option *o, const char *arg);
static int cb_version(struct ich_parse *p, const struct ich_option *o, const char *arg);

const struct ich_option ich_global_options[] = {
	{ 0, "json", ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, json), NULL,
	  "JSON output (addresses are \"0x...\" strings), compact", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	{ 0, "pretty", ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, pretty), NULL,
	  "indent the JSON for people (with --json)", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	{ 'v', "verbose", ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, verbose), NULL,
	  "more detail", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	{ 'q', "quiet", ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, quiet), NULL,
	  "no notes or progress on stderr", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	{ 0, "build", ICH_OPT_UINT, ICH_ARG_REQUIRED, offsetof(struct ich_cli_global, build), "N",
	  "treat the dump as Windows build N (layout selection)", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	{ 0, "layout", ICH_OPT_STRING, ICH_ARG_REQUIRED, offsetof(struct ich_cli_global, layout_file), "FILE",
	  "load extra structure layouts (format: icpheap(1))", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	{ 'h', "help", ICH_OPT_CALLBACK, ICH_ARG_NONE, 0, NULL,
	  "this help; COMMAND --help: the command's", ICH_OPTF_GLOBAL, cb_help, 0, 0 },
	{ 'V', "version", ICH_OPT_CALLBACK, ICH_ARG_NONE, 0, NULL,
	  "version and the Windows builds the type table covers", ICH_OPTF_GLOBAL | ICH_OPTF_TOP,
	  cb_version, 0, 0 },
	ICH_OPTION_END,
};

/* ----------------------------------------------------------- messages */

static void vsay(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "icpheap%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(icpheap%s%s --help lists the options)\n", cmd ? " " : "", cmd ? cmd : "");
}

int ich_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(cmd, fmt, ap);
	va_end(ap);
	return ICH_EXIT_USAGE;
}

int ich_parse_error(const struct ich_parse *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(p->cmd ? p->cmd->name : NULL, fmt, ap);
	va_end(ap);
	return ICH_EXIT_USAGE;
}

/* ----------------------------------------------------------- spelling */

/* The option as typed: "--long", "-stat", "-s". */
static const char *spelling(const struct ich_option *o, bool want_long, char *buf, size_t n)
{
	if (o->long_name && (want_long || !o->short_name))
		snprintf(buf, n, "%s%s", o->flags & ICH_OPTF_ONE_DASH ? "-" : "--", o->long_name);
	else
		snprintf(buf, n, "-%c", o->short_name);
	return buf;
}

/* The name to use in a message about o as the user typed it. */
static const char *typed_name(const struct ich_option *o, bool as_long, char *buf, size_t n)
{
	return spelling(o, as_long, buf, n);
}

static bool listed(const struct ich_option *o)
{
	return !(o->flags & ICH_OPTF_HIDDEN);
}

/* ----------------------------------------------------------- lookup */

static bool in_command(const struct ich_parse *p)
{
	return p->cmd != NULL;
}

static const struct ich_option *find_long(const struct ich_parse *p, const char *name, size_t len,
					  bool one_dash)
{
	const struct ich_option *tabs[2] = { p->cmd ? p->cmd->options : NULL, ich_global_options };
	for (int t = 0; t < 2; t++) {
		if (!tabs[t])
			continue;
		for (const struct ich_option *o = tabs[t]; o->kind != ICH_OPT_END; o++) {
			if (!o->long_name || !(o->flags & ICH_OPTF_ONE_DASH) != !one_dash)
				continue;
			if (t == 1 && (o->flags & ICH_OPTF_TOP) && in_command(p))
				continue;
			if (strlen(o->long_name) == len && !strncmp(o->long_name, name, len))
				return o;
		}
	}
	return NULL;
}

static const struct ich_option *find_short(const struct ich_parse *p, char c)
{
	const struct ich_option *tabs[2] = { p->cmd ? p->cmd->options : NULL, ich_global_options };
	for (int t = 0; t < 2; t++) {
		if (!tabs[t])
			continue;
		for (const struct ich_option *o = tabs[t]; o->kind != ICH_OPT_END; o++) {
			if (o->short_name != c)
				continue;
			if (t == 1 && (o->flags & ICH_OPTF_TOP) && in_command(p))
				continue;
			return o;
		}
	}
	return NULL;
}

/* "unknown option 'X'; did you mean 'Y'?" from every spelling the command
 * accepts. */
static int unknown(const struct ich_parse *p, const char *typed)
{
	char word[80];
	snprintf(word, sizeof(word), "%s", typed);
	char *eq = strchr(word, '=');
	if (eq && word[1] == '-')
		*eq = '\0';
	enum { MAXC = 96 };
	static char bufs[MAXC][48];
	const char *cands[MAXC];
	size_t n = 0;
	const struct ich_option *tabs[2] = { p->cmd ? p->cmd->options : NULL, ich_global_options };
	for (int t = 0; t < 2; t++) {
		if (!tabs[t])
			continue;
		for (const struct ich_option *o = tabs[t]; o->kind != ICH_OPT_END && n < MAXC; o++) {
			if (t == 1 && (o->flags & ICH_OPTF_TOP) && in_command(p))
				continue;
			/* Only names long enough for a suggestion to mean something:
			 * every one-letter option is one edit from every other. */
			if (o->long_name && strlen(o->long_name) >= 2) {
				cands[n] = spelling(o, true, bufs[n], sizeof(bufs[n]));
				n++;
			}
		}
	}
	const char *s = strlen(word) >= 3 ? ich_cli_suggest(word, cands, n) : NULL;
	if (s)
		return ich_parse_error(p, "unknown option '%s'; did you mean '%s'?", word, s);
	return ich_parse_error(p, "unknown option '%s'", word);
}

/* ----------------------------------------------------------- values */

static int set_value(struct ich_parse *p, const struct ich_option *o, const char *val, bool as_long)
{
	char nb[64];
	const char *name = typed_name(o, as_long, nb, sizeof(nb));
	void *base = (o->flags & ICH_OPTF_GLOBAL) ? (void *)p->g : p->opts;
	void *field = (char *)base + o->offset;
	uint64_t v;
	switch (o->kind) {
	case ICH_OPT_END:
		break;
	case ICH_OPT_BOOL:
		*(bool *)field = true;
		return -1;
	case ICH_OPT_STRING:
		*(const char **)field = val;
		return -1;
	case ICH_OPT_UINT: {
		uint64_t hi = o->max ? o->max : UINT_MAX;
		if (!ich_cli_parse_u64(val, false, &v) || v < o->min || v > hi) {
			if (o->min || o->max)
				return ich_parse_error(p, "%s '%s': expected a number from %llu to %llu", name, val,
						       (unsigned long long)o->min, (unsigned long long)hi);
			return ich_parse_error(p, "%s '%s': expected a number (decimal or 0x-hex)", name, val);
		}
		*(unsigned *)field = (unsigned)v;
		return -1;
	}
	case ICH_OPT_SIZE:
		if (!ich_parse_size(val, &v))
			return ich_parse_error(p, "%s '%s': expected a size (65536, 0x10000, 64K, 1.5M, 2G)",
					       name, val);
		*(uint64_t *)field = v;
		return -1;
	case ICH_OPT_PID: {
		uint32_t pid;
		if (!ich_kernel_parse_pid(val, &pid))
			return ich_parse_error(p, "%s '%s': expected a process id (decimal as JSON writes it, or 0x-hex)",
					       name, val);
		*(uint32_t *)field = pid;
		return -1;
	}
	case ICH_OPT_CALLBACK:
		return o->cb(p, o, val);
	}
	return ich_parse_error(p, "%s: internal error: bad option table", name);
}

/* ----------------------------------------------------------- parsing */

const char *ich_parse_peek(const struct ich_parse *p)
{
	if (p->dashdash || p->next >= p->argc || (p->reserved && p->next == p->reserved))
		return NULL;
	if (!strcmp(p->argv[p->next], "--"))
		return NULL;
	return p->argv[p->next];
}

const char *ich_parse_take(struct ich_parse *p)
{
	const char *a = ich_parse_peek(p);
	if (a)
		p->next++;
	return a;
}

/* --name, --name=VALUE, --name VALUE (and -name for one-dash names). */
static int do_long(struct ich_parse *p, const char *a, bool one_dash)
{
	const char *name = a + (one_dash ? 1 : 2);
	const char *eq = strchr(name, '=');
	size_t len = eq && !one_dash ? (size_t)(eq - name) : strlen(name);
	const struct ich_option *o = find_long(p, name, len, one_dash);
	if (!o)
		return one_dash ? -2 : unknown(p, a);
	char nb[64];
	const char *val = NULL;
	if (eq && !one_dash) {
		if (o->arg == ICH_ARG_NONE)
			return ich_parse_error(p, "option '%s' takes no value", spelling(o, true, nb, sizeof(nb)));
		val = eq + 1;
	} else if (o->arg == ICH_ARG_REQUIRED) {
		val = ich_parse_take(p);
		if (!val)
			return ich_parse_error(p, "option '%s' needs an argument%s%s",
					       spelling(o, true, nb, sizeof(nb)), o->argh ? " " : "",
					       o->argh ? o->argh : "");
	}
	return set_value(p, o, val, true);
}

/* -abc: short flags; the first that takes an argument takes the rest
 * (-j4) or the next argument (-j 4). */
static int do_cluster(struct ich_parse *p, const char *a)
{
	/* -json: a long option typed with one dash, not -j son */
	const struct ich_option *l = a[2] ? find_long(p, a + 1, strlen(a + 1), false) : NULL;
	if (l) {
		char nb[64];
		return ich_parse_error(p, "unknown option '%s'; did you mean '%s'?", a, spelling(l, true, nb, sizeof(nb)));
	}
	for (const char *c = a + 1; *c; c++) {
		const struct ich_option *o = find_short(p, *c);
		if (!o) {
			if (c == a + 1 && a[2]) {
				/* -json: a long option with one dash */
				const struct ich_option *l = find_long(p, a + 1, strlen(a + 1), false);
				char nb[64];
				if (l)
					return ich_parse_error(p, "unknown option '%s'; did you mean '%s'?", a,
							       spelling(l, true, nb, sizeof(nb)));
				return unknown(p, a);
			}
			char one[3] = { '-', *c, 0 };
			return unknown(p, one);
		}
		const char *val = NULL;
		if (o->arg != ICH_ARG_NONE && c[1]) {
			val = c + 1;
		} else if (o->arg == ICH_ARG_REQUIRED) {
			val = ich_parse_take(p);
			if (!val) {
				char nb[64];
				return ich_parse_error(p, "option '%s' needs an argument%s%s",
						       spelling(o, false, nb, sizeof(nb)), o->argh ? " " : "",
						       o->argh ? o->argh : "");
			}
		}
		int rc = set_value(p, o, val, false);
		if (rc >= 0 || val)
			return rc;
	}
	return -1;
}

/* WinDbg style: the word as a whole is one option (-s, -stat, -flt). */
static int do_windbg(struct ich_parse *p, const char *a)
{
	const struct ich_option *o = NULL;
	if (a[2] == '\0')
		o = find_short(p, a[1]);
	if (!o) {
		int rc = do_long(p, a, true);
		if (rc != -2)
			return rc;
		return unknown(p, a);
	}
	const char *val = NULL;
	if (o->arg == ICH_ARG_REQUIRED) {
		val = ich_parse_take(p);
		if (!val) {
			char nb[64];
			return ich_parse_error(p, "option '%s' needs an argument%s%s", spelling(o, false, nb, sizeof(nb)),
					       o->argh ? " " : "", o->argh ? o->argh : "");
		}
	}
	return set_value(p, o, val, false);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int add_arg(struct ich_parse *p, const char *a)
{
	p->args[p->nargs++] = (char *)a;
	return -1;
}

int ich_parse_command(const struct ich_cli_command *cmd, int argc, char **argv, void *opts,
		      struct ich_cli_global *g, char ***args, int *nargs)
{
	*args = NULL;
	*nargs = 0;
	/* --help anywhere (up to "--") wins, as it does in git: with -v it
	 * lists the rarely used options too.  --list-options: the table. */
	bool help = false, more = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--list-options")) {
			ich_parse_list_options(stdout, cmd);
			return ICH_EXIT_OK;
		}
		help |= !strcmp(argv[i], "--help");
		more |= !strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose");
	}
	if (help) {
		ich_parse_usage(stdout, cmd, more || g->verbose);
		return ICH_EXIT_OK;
	}
	struct ich_parse p = { cmd, argc, argv, 1, 0, opts, g, NULL, 0, false };
	p.args = calloc((size_t)argc + 1, sizeof(*p.args));
	if (!p.args) {
		fputs("icpheap: out of memory\n", stderr);
		return ICH_EXIT_INTERNAL;
	}
	if ((cmd->flags & ICH_CMD_DUMP_LAST) && argc > 1) {
		/* The dump is the last argument; if that is an option, the
		 * first argument naming an existing file (`heap DUMP -s`). */
		const char *last = argv[argc - 1];
		if (last[0] != '-' || exists(last))
			p.reserved = argc - 1;
		else
			for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
				if (argv[i][0] != '-' && exists(argv[i])) {
					p.reserved = i;
					break;
				}
	}
	int rc = -1;
	while (rc < 0 && p.next < argc) {
		int idx = p.next++;
		const char *a = argv[idx];
		if (p.reserved && idx == p.reserved)
			rc = add_arg(&p, a);
		else if (p.dashdash || a[0] != '-' || a[1] == '\0') {
			rc = cmd->positional ? cmd->positional(&p, a) : ICH_PARSE_KEEP;
			if (rc == ICH_PARSE_KEEP)
				rc = add_arg(&p, a);
		} else if (!strcmp(a, "--"))
			p.dashdash = true;
		else if (a[1] == '-')
			rc = do_long(&p, a, false);
		else if (cmd->flags & ICH_CMD_WINDBG)
			rc = do_windbg(&p, a);
		else
			rc = do_cluster(&p, a);
	}
	if (rc < 0 && p.nargs < cmd->min_args)
		rc = ich_parse_error(&p, "%s", cmd->args_missing ? cmd->args_missing : "no dump given");
	if (rc < 0 && cmd->max_args >= 0 && p.nargs > cmd->max_args)
		rc = ich_parse_error(&p, "unexpected argument '%s'%s%s", p.args[cmd->max_args],
				     cmd->args_missing && cmd->max_args ? " (" : "",
				     cmd->args_missing && cmd->max_args ? cmd->args_missing : "");
	if (rc >= 0) {
		free(p.args);
		return rc;
	}
	*args = p.args;
	*nargs = p.nargs;
	return -1;
}

int ich_parse_global(int argc, char **argv, int *i, struct ich_cli_global *g)
{
	struct ich_parse p = { NULL, argc, argv, *i, 0, NULL, g, NULL, 0, false };
	int rc = -1;
	while (rc < 0 && p.next < argc) {
		const char *a = argv[p.next];
		if (a[0] != '-' || a[1] == '\0')
			break;
		p.next++;
		if (!strcmp(a, "--"))
			break;
		rc = a[1] == '-' ? do_long(&p, a, false) : do_cluster(&p, a);
	}
	*i = p.next;
	return rc;
}

/* ----------------------------------------------------------- help */

/* "-j, --jobs N", "--out FILE", "-flt s SIZE | r MIN MAX" */
static void option_words(const struct ich_option *o, char *buf, size_t n)
{
	size_t k = 0;
	if (o->short_name)
		k += (size_t)snprintf(buf + k, n - k, "-%c", o->short_name);
	if (o->long_name && k < n)
		k += (size_t)snprintf(buf + k, n - k, "%s%s%s", k ? ", " : "",
				      o->flags & ICH_OPTF_ONE_DASH ? "-" : "--", o->long_name);
	if (o->argh && k < n)
		snprintf(buf + k, n - k, o->arg == ICH_ARG_OPTIONAL ? "[=%s]" : " %s", o->argh);
}

static void print_table(FILE *f, const struct ich_option *opts, bool more, bool in_cmd)
{
	for (const struct ich_option *o = opts; o->kind != ICH_OPT_END; o++) {
		if (!listed(o) || ((o->flags & ICH_OPTF_MORE) && !more) || (in_cmd && (o->flags & ICH_OPTF_TOP)))
			continue;
		char w[96];
		option_words(o, w, sizeof(w));
		fprintf(f, "  %-22s", w);
		if (strlen(w) > 22)
			fprintf(f, "\n  %-22s", "");
		const char *h = o->help ? o->help : "";
		for (;;) {
			const char *nl = strchr(h, '\n');
			if (!nl) {
				fprintf(f, " %s\n", h);
				break;
			}
			fprintf(f, " %.*s\n  %-22s", (int)(nl - h), h, "");
			h = nl + 1;
		}
	}
}

void ich_parse_usage(FILE *f, const struct ich_cli_command *cmd, bool more)
{
	const char *syn = cmd->synopsis ? cmd->synopsis : "[OPTIONS] DUMP...";
	fprintf(f, "usage: icpheap %s ", cmd->name);
	/* continuation lines line up under the first word of the synopsis */
	for (const char *s = syn; *s; s++) {
		fputc(*s, f);
		if (*s == '\n' && s[1])
			fprintf(f, "%*s", (int)(strlen("usage: icpheap  ") + strlen(cmd->name)), "");
	}
	if (syn[0] && syn[strlen(syn) - 1] != '\n')
		fputc('\n', f);
	if (cmd->description)
		fputs(cmd->description, f);
	bool any = false;
	for (const struct ich_option *o = cmd->options; o && o->kind != ICH_OPT_END; o++)
		any |= listed(o) && (!(o->flags & ICH_OPTF_MORE) || more);
	if (any) {
		fputs("options:\n", f);
		print_table(f, cmd->options, more, true);
	}
	if (cmd->footer)
		fputs(cmd->footer, f);
	/* The global options this command does not redefine. */
	fputs("global options (icpheap --help):", f);
	for (const struct ich_option *o = ich_global_options; o->kind != ICH_OPT_END; o++) {
		if (o->flags & ICH_OPTF_TOP)
			continue;
		bool short_ok = o->short_name != 0, long_ok = o->long_name != NULL;
		for (const struct ich_option *c = cmd->options; c && c->kind != ICH_OPT_END; c++) {
			if (c->short_name && c->short_name == o->short_name)
				short_ok = false;
			if (o->long_name && c->long_name && !(c->flags & ICH_OPTF_ONE_DASH) &&
			    !strcmp(c->long_name, o->long_name))
				long_ok = false;
		}
		if (!short_ok && !long_ok)
			continue;
		char w[64];
		if (short_ok && long_ok)
			snprintf(w, sizeof(w), "-%c|--%s", o->short_name, o->long_name);
		else if (long_ok)
			snprintf(w, sizeof(w), "--%s", o->long_name);
		else
			snprintf(w, sizeof(w), "-%c", o->short_name);
		fprintf(f, " %s%s%s", w, o->argh ? " " : "", o->argh ? o->argh : "");
	}
	fputc('\n', f);
}

void ich_parse_usage_global(FILE *f)
{
	print_table(f, ich_global_options, true, false);
}

void ich_parse_list_options(FILE *f, const struct ich_cli_command *cmd)
{
	const struct ich_option *t = cmd ? cmd->options : ich_global_options;
	for (const struct ich_option *o = t; o && o->kind != ICH_OPT_END; o++) {
		if (!listed(o))
			continue;
		char nb[64];
		if (o->short_name)
			fprintf(f, "-%c\t%s\n", o->short_name, o->argh ? o->argh : "");
		if (o->long_name)
			fprintf(f, "%s\t%s\n", spelling(o, true, nb, sizeof(nb)), o->argh ? o->argh : "");
	}
}

/* ----------------------------------------------------------- callbacks */

static int cb_help(struct ich_parse *p, const struct ich_option *o, const char *arg)
{
	(void)o;
	(void)arg;
	if (p->cmd)
		ich_parse_usage(stdout, p->cmd, p->g->verbose);
	else
		ich_cli_print_help(stdout);
	return ICH_EXIT_OK;
}

static int cb_version(struct ich_parse *p, const struct ich_option *o, const char *arg)
{
	(void)p;
	(void)o;
	(void)arg;
	printf("icpheap %s\n", ICH_VERSION);
	ich_cli_print_coverage(stdout);
	return ICH_EXIT_OK;
}
