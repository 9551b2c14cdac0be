/* SPDX-License-Identifier: MIT */
/*
 * icpheap analyze [OPTIONS] DUMP|DIR...
 *
 * The batch driver: expands folders, runs ich_analyze_one for every dump in
 * its own process (so a dump that crashes or hangs the analysis cannot take
 * down the batch), up to -j at a time, prints the reports in input order,
 * a progress line on a terminal, and a summary table.  --out writes the
 * whole report atomically (temporary file + rename).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/analyze.h"
#include "cli/parse_options.h"
#include "cli/records.h"
#include "core/json.h"

#ifndef ICH_VERSION
#define ICH_VERSION "unknown"
#endif
#define ICH_VERSION_STR ICH_VERSION

/* A worker leaves by _exit, which skips LeakSanitizer's check at exit: in
 * a sanitizer build the worker runs the check itself, so a leak in
 * ich_analyze_one fails the test suite as it does in `heap` or `icpleak`
 * (LeakSanitizer then exits non-zero, which the batch reports as this
 * dump's internal error). */
#if defined(__SANITIZE_ADDRESS__)
#define ICH_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define ICH_LSAN 1
#endif
#endif
#ifdef ICH_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static const char *const formats[] = { "text", "json", "jsonl", "sarif", "junit", "markdown", "html", NULL };

/* analyze's options (the table below fills it). */
struct analyze_cli {
	struct ich_analyze_opts a;
	bool mode_set;			/* --format / --json / --jsonl given */
	const char *out_path;		/* --out */
	const char *baseline_path;	/* --baseline */
	unsigned jobs;			/* -j (0: number of cores) */
	bool recursive;			/* -r */
	unsigned shard_k, shard_n;	/* --shard K/N */
	double timeout;			/* --timeout SEC */
};

static void analyze_init(void *opts)
{
	struct analyze_cli *o = opts;
	o->a.stat_top = 10;
	ich_fail_on_default(&o->a.fail_on);
	o->shard_k = o->shard_n = 1;
	o->timeout = 600;
}

static int cb_format(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	struct analyze_cli *o = p->opts;
	size_t i = 0;
	if (!strcmp(opt->long_name, "json"))
		arg = "json";
	else if (!strcmp(opt->long_name, "jsonl"))
		arg = "jsonl";
	for (; formats[i] && strcmp(formats[i], arg); i++)
		;
	if (!formats[i]) {
		const char *s = ich_cli_suggest(arg, formats, 7);
		return ich_parse_error(p, "--format '%s' is not one of text, json, jsonl, sarif, junit, markdown, html%s%s%s",
				       arg, s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
	}
	o->a.mode = (enum ich_out_mode)i;
	o->mode_set = true;
	return -1;
}

static int cb_processes(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	struct analyze_cli *o = p->opts;
	if (!ich_analyze_parse_processes(arg, &o->a.processes))	/* analyze_process.c */
		return ich_parse_error(p, "--processes '%s': expected a number or all", arg);
	return -1;
}

static int cb_fail_on(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	struct analyze_cli *o = p->opts;
	char err[768];
	if (!ich_fail_on_parse(arg, &o->a.fail_on, err, sizeof(err)))
		return ich_parse_error(p, "--fail-on: %s", err);
	return -1;
}

static int cb_shard(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	struct analyze_cli *o = p->opts;
	unsigned k, n;
	char tail;
	if (sscanf(arg, "%u/%u%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n)
		return ich_parse_error(p, "--shard '%s': expected K/N with 1 <= K <= N (e.g. 2/4)", arg);
	o->shard_k = k;
	o->shard_n = n;
	return -1;
}

static int cb_timeout(struct ich_parse *p, const struct ich_option *opt, const char *arg)
{
	(void)opt;
	struct analyze_cli *o = p->opts;
	char *end;
	o->timeout = strtod(arg, &end);
	if (*end || !(o->timeout > 0))
		return ich_parse_error(p, "--timeout '%s': expected a number of seconds > 0", arg);
	return -1;
}

static const struct ich_option analyze_options[] = {
	ICH_OPTION_CB(0, "format", ICH_ARG_REQUIRED, "FMT", cb_format,
		      "text (default), json (one document), jsonl (one line per dump),\n"
		      "sarif (SARIF 2.1.0), junit (JUnit XML), markdown, html (one\n"
		      "self-contained page with a map of every heap)", 0),
	ICH_OPTION_CB(0, "json", ICH_ARG_NONE, NULL, cb_format, "same as --format json", 0),
	ICH_OPTION_CB(0, "jsonl", ICH_ARG_NONE, NULL, cb_format, "same as --format jsonl", 0),
	ICH_OPTION_STRING(0, "out", struct analyze_cli, out_path, "FILE", "write the report atomically to FILE"),
	ICH_OPTION_UINT('j', NULL, struct analyze_cli, jobs, "N", 1, 1024,
			"dumps analysed in parallel (default: number of cores)"),
	ICH_OPTION_BOOL('r', NULL, struct analyze_cli, recursive, "walk folders recursively"),
	{ 'q', "quiet", ICH_OPT_BOOL, ICH_ARG_NONE, offsetof(struct ich_cli_global, quiet), NULL,
	  "no notes, progress or summary", ICH_OPTF_GLOBAL, NULL, 0, 0 },
	ICH_OPTION_CB(0, "fail-on", ICH_ARG_REQUIRED, "TERM[,TERM...]", cb_fail_on,
		      "exit 1 when a finding matches; the list replaces the default:\n"
		      "none | corruption | exception[=CODE,...] | bugcheck | no-heap-data |\n"
		      "icp-queue>N | icp-queue>=N | heap-committed>SIZE | heap-committed>=SIZE\n"
		      "(default: corruption,exception=c0000374,c0000409,icp-queue>10000)", 0),
	ICH_OPTION_STRING(0, "baseline", struct analyze_cli, baseline_path, "REPORT.jsonl",
			  "a previous --jsonl report: fail only on findings whose\n"
			  "fingerprint is not in it"),
	ICH_OPTION_STRING(0, "heap-baseline", struct analyze_cli, a.heap_baseline, "OLD.dmp",
			  "an earlier dump of the same process: adds the heap growth\n"
			  "since then (heap-diff's top sizes and stacks)"),
	ICH_OPTION_CB(0, "shard", ICH_ARG_REQUIRED, "K/N", cb_shard,
		      "analyse only the K-th of N slices of the dumps (by name hash)", 0),
	ICH_OPTION_CB(0, "timeout", ICH_ARG_REQUIRED, "SEC", cb_timeout, "per-dump time limit (default 600)", 0),
	ICH_OPTION_CB(0, "processes", ICH_ARG_REQUIRED, "N|all", cb_processes,
		      "kernel dumps: processes shown heap by heap (default 10)", 0),
	ICH_OPTION_END,
};

/* --out: the temporary file, removed if a signal ends the batch early, so
 * an interrupted run leaves neither a partial report nor its temp file. */
static char *volatile g_tmp_out;

static void on_signal(int sig)
{
	if (g_tmp_out)
		unlink(g_tmp_out);
	signal(sig, SIG_DFL);
	raise(sig);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct job {
	const char *path;
	FILE *report;		/* child's report (unlinked temp file) */
	FILE *meta;		/* child's outcome record */
	pid_t pid;
	int pidfd;		/* readable when the child exits (if have_pidfd) */
	bool have_pidfd;
	double start;
	bool done, printed;
	uint64_t bytes;		/* file size, for the progress line */
	struct ich_analyze_outcome out;
};

/* Child side: analyse one dump, write the outcome record, exit. */
static void run_child(struct job *j, const struct ich_analyze_opts *opts)
{
	/* Do not outlive the batch (a killed parent must not leave workers). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	g_tmp_out = NULL;
	struct ich_analyze_outcome o;
	memset(&o, 0, sizeof(o));
	ich_analyze_one(j->path, opts, j->report, &o);
	/* A report or record that could not be written (a full $TMPDIR) is
	 * this dump's internal error, said here with the reason, not a
	 * success the parent would print cut short. */
	if (fflush(j->report) != 0 || ferror(j->report)) {
		fprintf(stderr, "icpheap analyze: %s: cannot write the report to a temporary file: %s\n",
			j->path, strerror(errno));
		_exit(ICH_EXIT_INTERNAL);
	}
	if (fwrite(&o, sizeof(o), 1, j->meta) != 1 || fflush(j->meta) != 0) {
		fprintf(stderr, "icpheap analyze: %s: cannot write the outcome to a temporary file: %s\n",
			j->path, strerror(errno));
		_exit(ICH_EXIT_INTERNAL);
	}
#ifdef ICH_LSAN
	__lsan_do_leak_check();
#endif
	_exit(0);
}

static void finish_job(struct job *j, int status, bool timed_out)
{
	j->done = true;
	if (j->have_pidfd)
		close(j->pidfd);
	j->have_pidfd = false;
	rewind(j->meta);
	bool have = fread(&j->out, sizeof(j->out), 1, j->meta) == 1;
	if (have && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !timed_out)
		return;
	/* The analysis itself died or ran out of time: an internal error of
	 * that dump only; the batch goes on. */
	memset(&j->out, 0, sizeof(j->out));
	j->out.verdict = timed_out ? ICH_VERDICT_TIMEOUT : ICH_VERDICT_CRASHED;
	j->out.exit_code = ICH_EXIT_INTERNAL;
	snprintf(j->out.kind, sizeof(j->out.kind), "?");
	if (timed_out)
		snprintf(j->out.top, sizeof(j->out.top), "analysis ran past --timeout and was stopped");
	else if (WIFSIGNALED(status))
		snprintf(j->out.top, sizeof(j->out.top), "analysis crashed (signal %d)",
			 WTERMSIG(status));
	else
		snprintf(j->out.top, sizeof(j->out.top), "analysis exited with status %d",
			 WEXITSTATUS(status));
	j->out.seconds = now() - j->start;
	/* Replace any half-written report. */
	if (ftruncate(fileno(j->report), 0) == 0)
		rewind(j->report);
	fprintf(j->report, "==> %s <==\n%s: %s\n\nVerdict: %s (exit %d)\n\n", j->path,
		timed_out ? "Timeout" : "Internal error", j->out.top,
		ich_verdict_name(j->out.verdict), j->out.exit_code);
	fflush(j->report);
}

/* A pidfd for the child (Linux 5.3+), polled to learn of its exit the
 * moment it happens; -1 where the kernel has none. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Sleep until a running child exits, the earliest per-dump timeout falls
 * due, or (on a terminal) the progress line is due: poll on the children's
 * pidfds, so a finished dump is reaped at once instead of up to 5 ms later
 * (issue 12).  Without pidfds, a 5 ms sleep as before.
 */
static void wait_for_children(struct job *jobs, size_t next, double timeout, bool tty)
{
	struct pollfd fds[256];
	nfds_t n = 0;
	bool all = true;
	double t = now(), wait = tty ? 0.2 : 3600;
	for (size_t i = 0; i < next; i++) {
		if (jobs[i].done || jobs[i].pid <= 0)
			continue;
		double left = jobs[i].start + timeout - t;
		if (left < wait)
			wait = left;
		if (jobs[i].have_pidfd && n < sizeof(fds) / sizeof(fds[0]))
			fds[n++] = (struct pollfd){ .fd = jobs[i].pidfd, .events = POLLIN };
		else
			all = false;
	}
	if (n == 0 && all)
		return;		/* none running (the last one just timed out) */
	int ms = wait <= 0 ? 0 : (int)(wait * 1000) + 1;
	if (!all && ms > 5)
		ms = 5;
	poll(n ? fds : NULL, n, ms);
}

static void copy_report(struct job *j, FILE *out, enum ich_out_mode mode)
{
	rewind(j->report);
	char buf[65536];
	size_t n;
	if ((mode == ICH_OUT_JSON || mode == ICH_OUT_JSONL) &&
	    (j->out.verdict == ICH_VERDICT_CRASHED || j->out.verdict == ICH_VERDICT_TIMEOUT)) {
		/* Keep the JSON valid for dumps whose analysis died. */
		struct ich_json js;
		ich_json_init(&js, out, mode == ICH_OUT_JSON);
		ich_json_begin_object(&js, NULL);
		ich_json_string(&js, "schema", ICH_SCHEMA_ANALYZE_DUMP);
		ich_json_string(&js, "path", j->path);
		ich_json_begin_array(&js, "findings");
		ich_json_end_array(&js);
		ich_json_string(&js, "verdict", ich_verdict_name(j->out.verdict));
		ich_json_u64(&js, "exit_code", (uint64_t)j->out.exit_code);
		ich_json_error_obj(&js, "error", j->out.verdict == ICH_VERDICT_TIMEOUT ? "timeout" : "internal",
				   j->out.top);
		ich_json_end_object(&js);
		ich_json_finish(&js);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), j->report)) > 0)
		fwrite(buf, 1, n, out);
}

static void progress(size_t done, size_t total, const char *cur, uint64_t bytes, bool show)
{
	if (!show)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %.1f MiB scanned  %s", done, total,
		(double)bytes / (1 << 20), cur ? cur : "");
	fflush(stderr);
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* s in at most w columns: long names lose their middle ("abc...xyz"), so
 * both the prefix and the distinguishing end stay visible. */
static const char *fit(const char *s, size_t w, char *buf, size_t n)
{
	size_t len = strlen(s);
	if (len <= w || w < 5 || n <= w) {
		snprintf(buf, n, "%s", s);
		if (len > w && n > w)
			buf[w] = '\0';
		return buf;
	}
	size_t head = (w - 3) / 2, tail = w - 3 - head;
	snprintf(buf, n, "%.*s...%s", (int)head, s, s + len - tail);
	return buf;
}

/* The summary table: 120 columns at most. */
static void print_summary(FILE *f, struct job *jobs, size_t n, int worst)
{
	size_t counts[6] = {0};
	char b1[64], b2[64];
	fprintf(f, "\n%-28s %-18s %-5s %-12s %-8s %6s  %s\n", "dump", "kind", "build", "verdict",
		"heaps", "time", "top finding");
	for (size_t i = 0; i < n; i++) {
		struct ich_analyze_outcome *o = &jobs[i].out;
		const char *name = strrchr(jobs[i].path, '/');
		name = name ? name + 1 : jobs[i].path;
		char top[64];
		snprintf(top, sizeof(top), "%s", o->top);
		if (strlen(o->top) > 120 - 84)
			snprintf(top + 120 - 84 - 3, sizeof(top) - (120 - 84 - 3), "...");
		fprintf(f, "%-28s %-18s %-5.5s %-12s %-8s %5.2fs  %s\n", fit(name, 28, b1, sizeof(b1)),
			fit(o->kind, 18, b2, sizeof(b2)), o->build, ich_verdict_name(o->verdict),
			o->has_heap_status ? ich_status_name(o->heap_status) : "-", o->seconds,
			top);
		if ((unsigned)o->verdict < 6)
			counts[o->verdict]++;
	}
	fprintf(f, "%zu dump%s: %zu ok, %zu with findings, %zu without heap data, %zu unreadable, "
		"%zu timed out, %zu crashed; exit %d\n", n, n == 1 ? "" : "s",
		counts[ICH_VERDICT_OK], counts[ICH_VERDICT_FINDINGS], counts[ICH_VERDICT_NO_HEAP_DATA],
		counts[ICH_VERDICT_UNREADABLE], counts[ICH_VERDICT_TIMEOUT], counts[ICH_VERDICT_CRASHED],
		worst);
}

/* --json: one document for the whole batch. */
static void json_head(FILE *out)
{
	fprintf(out, "{\n  \"schema\": \"%s\",\n  \"tool\": {\"name\": \"icpheap\", \"version\": \"%s\"},\n  \"dumps\": [\n",
		ICH_SCHEMA_ANALYZE, ICH_VERSION_STR);
}

static void json_tail(FILE *out, struct job *jobs, size_t n, int worst)
{
	size_t counts[6] = {0};
	for (size_t i = 0; i < n; i++)
		if ((unsigned)jobs[i].out.verdict < 6)
			counts[jobs[i].out.verdict]++;
	fprintf(out, "  ],\n  \"summary\": {\"dumps\": %zu", n);
	static const enum ich_verdict order[] = {
		ICH_VERDICT_OK, ICH_VERDICT_FINDINGS, ICH_VERDICT_NO_HEAP_DATA,
		ICH_VERDICT_UNREADABLE, ICH_VERDICT_TIMEOUT, ICH_VERDICT_CRASHED,
	};
	for (size_t i = 0; i < 6; i++)
		fprintf(out, ", \"%s\": %zu", ich_verdict_name(order[i]), counts[order[i]]);
	fprintf(out, "},\n  \"exit_code\": %d\n}\n", worst);
}

/* --shard K/N: FNV-1a of the dump's file name, so every machine that sees
 * the same names picks the same slice whatever the folder is mounted as. */
static bool in_shard(const char *path, unsigned k, unsigned n)
{
	const char *name = strrchr(path, '/');
	name = name ? name + 1 : path;
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return h % n == k - 1;
}

static int cmd_analyze(void *cli_opts, int nargs, char **args, const struct ich_cli_global *g)
{
	struct analyze_cli *cli = cli_opts;
	struct ich_analyze_opts opts = cli->a;
	if (!cli->mode_set && g->json)
		opts.mode = ICH_OUT_JSON;
	opts.verbose = g->verbose;
	opts.quiet = g->quiet;
	opts.build = g->build;
	const char *out_path = cli->out_path, *baseline_path = cli->baseline_path;
	long jobs_max = cli->jobs ? (long)cli->jobs : sysconf(_SC_NPROCESSORS_ONLN);
	bool recursive = cli->recursive;
	unsigned shard_k = cli->shard_k, shard_n = cli->shard_n;
	double timeout = cli->timeout;
	if (jobs_max < 1)
		jobs_max = 1;
	bool quiet = opts.quiet;
	ich_cli_quiet |= quiet;

	struct ich_baseline baseline = {0};
	if (baseline_path) {
		struct ich_error *e = ich_baseline_load(baseline_path, &baseline);
		if (e) {
			int rc = e->code == ICH_ERR_INVALID_ARG ? ICH_EXIT_USAGE : ICH_EXIT_DUMP;
			fprintf(stderr, "icpheap analyze: --baseline: %s\n", e->message);
			ich_error_destroy(e);
			return rc;
		}
		opts.baseline = &baseline;
		if (!quiet)
			fprintf(stderr, "icpheap analyze: note: baseline %s holds %zu fingerprint%s\n",
				baseline_path, baseline.n, baseline.n == 1 ? "" : "s");
	}

	/* A path that does not exist is exit 3 (said once, here); an existing
	 * empty folder is simply "no dumps" (in CI: no crashes), exit 0. */
	int worst = ICH_EXIT_OK;
	int npaths_all = 0;
	char **all = ich_cli_expand_dumps(args, nargs, recursive, &npaths_all);
	if (!all) {
		ich_baseline_free(&baseline);
		return ICH_EXIT_INTERNAL;
	}
	char **paths = calloc((size_t)npaths_all + 1, sizeof(*paths));
	int npaths = 0;
	for (int i = 0; paths && i < npaths_all; i++) {
		struct stat st;
		if (stat(all[i], &st) != 0 && errno == ENOENT) {
			fprintf(stderr, "icpheap analyze: %s: no such file or folder\n", all[i]);
			worst = ICH_EXIT_DUMP;
			continue;
		}
		if (shard_n > 1 && !in_shard(all[i], shard_k, shard_n))
			continue;
		paths[npaths++] = all[i];
	}
	if (!paths) {
		ich_cli_free_paths(all);
		ich_baseline_free(&baseline);
		return ICH_EXIT_INTERNAL;
	}

	FILE *out = stdout;
	char *tmp_out = NULL;
	if (out_path) {
		/* Same directory as the target, so rename() is atomic. */
		if (asprintf(&tmp_out, "%s.tmp.XXXXXX", out_path) < 0) {
			free(paths);
			ich_cli_free_paths(all);
			ich_baseline_free(&baseline);
			return ICH_EXIT_INTERNAL;
		}
		int fd = mkstemp(tmp_out);
		g_tmp_out = tmp_out;
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			/* Exit 4 as documented: the output cannot be written. */
			fprintf(stderr, "icpheap analyze: %s: cannot create the report: %s\n", out_path, strerror(errno));
			g_tmp_out = NULL;
			free(tmp_out);
			free(paths);
			ich_cli_free_paths(all);
			ich_baseline_free(&baseline);
			return ICH_EXIT_INTERNAL;
		}
	}

	struct job *jobs = calloc((size_t)npaths + 1, sizeof(*jobs));
	if (npaths == 0 && !quiet)
		fprintf(stderr, "icpheap analyze: note: no dumps found%s\n",
			worst == ICH_EXIT_OK ? " (nothing to analyse; exit 0)" : "");
	bool tty = isatty(STDERR_FILENO) && !quiet;
	double t_begin = now();
	size_t next = 0, running = 0, ndone = 0, nprinted = 0;
	if (opts.mode == ICH_OUT_JSON)
		json_head(out);
	if (opts.mode == ICH_OUT_HTML)
		ich_render_html_head(out);
	fflush(NULL);
	while (jobs && ndone < (size_t)npaths) {
		/* Start as many as allowed. */
		while (next < (size_t)npaths && running < (size_t)jobs_max) {
			struct job *j = &jobs[next];
			j->path = paths[next];
			j->bytes = tty ? file_bytes(j->path) : 0;
			j->report = tmpfile();
			j->meta = tmpfile();
			j->start = now();
			if (!j->report || !j->meta) {
				fprintf(stderr, "icpheap analyze: cannot create temporary files: %s\n", strerror(errno));
				worst = ICH_EXIT_INTERNAL;
				goto out;
			}
			j->pid = fork();
			if (j->pid == 0)
				run_child(j, &opts);
			if (j->pid < 0) {
				fprintf(stderr, "icpheap analyze: fork: %s\n", strerror(errno));
				worst = ICH_EXIT_INTERNAL;
				goto out;
			}
			j->pidfd = open_pidfd(j->pid);
			j->have_pidfd = j->pidfd >= 0;
			running++;
			next++;
		}
		/* Reap one child; between children, wait on their pidfds so
		 * timeouts and progress still work. */
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0) {
			double t = now();
			for (size_t i = 0; i < next; i++) {
				if (!jobs[i].done && jobs[i].pid > 0 && t - jobs[i].start > timeout) {
					kill(jobs[i].pid, SIGKILL);
					waitpid(jobs[i].pid, &status, 0);
					finish_job(&jobs[i], status, true);
					running--;
					ndone++;
				}
			}
			if (tty && t - t_begin > 1.0) {
				const char *cur = NULL;
				for (size_t i = 0; i < next && !cur; i++)
					if (!jobs[i].done)
						cur = jobs[i].path;
				uint64_t bytes = 0;
				for (size_t i = 0; i < next; i++)
					if (jobs[i].done)
						bytes += jobs[i].bytes;
				progress(ndone, (size_t)npaths, cur, bytes, true);
			}
			wait_for_children(jobs, next, timeout, tty && t - t_begin > 1.0);
		} else if (pid > 0) {
			for (size_t i = 0; i < next; i++)
				if (jobs[i].pid == pid && !jobs[i].done) {
					finish_job(&jobs[i], status, false);
					running--;
					ndone++;
				}
		} else if (errno != EINTR) {
			break;
		}
		/* Print finished reports in input order as soon as possible. */
		while (nprinted < (size_t)npaths && jobs[nprinted].done) {
			if (tty)
				fputs("\r\033[K", stderr);
			if (opts.mode == ICH_OUT_JSON && nprinted)
				fputs(",\n", out);
			copy_report(&jobs[nprinted], out, opts.mode);
			worst = ich_cli_worst(worst, jobs[nprinted].out.exit_code);
			nprinted++;
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (jobs) {
		struct ich_batch_item *items = calloc((size_t)npaths + 1, sizeof(*items));
		for (size_t i = 0; items && i < (size_t)npaths; i++) {
			items[i].path = jobs[i].path;
			items[i].out = &jobs[i].out;
		}
		switch (opts.mode) {
		case ICH_OUT_JSON: json_tail(out, jobs, (size_t)npaths, worst); break;
		case ICH_OUT_SARIF: if (items) ich_render_sarif(out, items, (size_t)npaths); break;
		case ICH_OUT_JUNIT: if (items) ich_render_junit(out, items, (size_t)npaths); break;
		case ICH_OUT_MARKDOWN: if (items) ich_render_markdown(out, items, (size_t)npaths, worst); break;
		case ICH_OUT_HTML: if (items) ich_render_html_tail(out, items, (size_t)npaths, worst); break;
		case ICH_OUT_TEXT:
			if (!quiet && npaths > 0)
				print_summary(out, jobs, (size_t)npaths, worst);
			break;
		case ICH_OUT_JSONL:
			if (!quiet && npaths > 1)
				print_summary(stderr, jobs, (size_t)npaths, worst);
			break;
		}
		if (!items)
			worst = ICH_EXIT_INTERNAL;
		free(items);
	}
out:
	if (jobs) {
		for (size_t i = 0; i < (size_t)npaths; i++) {
			if (jobs[i].report)
				fclose(jobs[i].report);
			if (jobs[i].meta)
				fclose(jobs[i].meta);
			if (jobs[i].have_pidfd)
				close(jobs[i].pidfd);
		}
		free(jobs);
	} else {
		worst = ICH_EXIT_INTERNAL;
	}
	if (out_path) {
		/* ferror too: a write that failed earlier leaves the flag set
		 * and the buffer empty, so fflush alone succeeds */
		const char *why = NULL;
		if (fflush(out) != 0)
			why = strerror(errno);
		else if (ferror(out))
			why = "a write failed";
		else if (fsync(fileno(out)) != 0)
			why = strerror(errno);
		if (fclose(out) != 0 && !why)
			why = strerror(errno);
		bool ok = !why;
		if (ok && worst != ICH_EXIT_INTERNAL && rename(tmp_out, out_path) == 0) {
			/* done */
		} else {
			if (!ok)
				fprintf(stderr, "icpheap analyze: cannot write %s: %s\n", out_path, why);
			else if (worst != ICH_EXIT_INTERNAL)
				fprintf(stderr, "icpheap analyze: cannot write %s: %s\n", out_path, strerror(errno));
			unlink(tmp_out);
			worst = ich_cli_worst(worst, ICH_EXIT_INTERNAL);
		}
		g_tmp_out = NULL;
		free(tmp_out);
	}
	free(paths);
	ich_cli_free_paths(all);
	ich_baseline_free(&baseline);
	return worst;
}

const struct ich_cli_command ich_cmd_analyze = {
	.name = "analyze",
	.summary = "one-shot triage of dumps or folders (text, JSON, SARIF, JUnit, Markdown; CI exit codes)",
	.synopsis = "[--format FMT | --json | --jsonl] [--out FILE] [-j N] [-r] [-q]\n"
		    "[--fail-on TERM[,TERM...]] [--baseline REPORT.jsonl]\n"
		    "[--heap-baseline OLD.dmp]\n"
		    "[--shard K/N] [--timeout SEC] DUMP|DIR...",
	.description = "  One-shot triage of each dump: the crash (exception or bug check, located as\n"
		       "  module+offset, with the stack), heaps (!heap -s, -stat, validation) for\n"
		       "  user-mode dumps; processes and !icpleak for kernel dumps.\n",
	.footer = "exit: 0 nothing --fail-on names, 1 findings it names, 2 usage, 3 unreadable\n"
		  "dump or no such path, 4 internal error or timeout\n",
	.options = analyze_options,
	.min_args = 1,
	.max_args = -1,
	.args_missing = "no dump or folder given",
	.opts_size = sizeof(struct analyze_cli),
	.init = analyze_init,
	.run = cmd_analyze,
};
