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
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/analyze.h"

static const char usage[] =
"usage: icpheap analyze [--json|--jsonl] [--out FILE] [-j N] [-r] [-q]\n"
"                       [--fail-on SPEC[,SPEC...]] [--timeout SEC] DUMP|DIR...\n"
"  One-shot triage of each dump: heaps (!heap -s, -stat, validation) for\n"
"  user-mode dumps; bugcheck, processes and !icpleak for kernel dumps.\n"
"  --json        one JSON document per dump        --jsonl  one line per dump\n"
"  --out FILE    write the report atomically to FILE\n"
"  -j N          dumps analysed in parallel (default: number of cores)\n"
"  -r            walk folders recursively          -q  no progress, no summary\n"
"  --fail-on     corruption | icp-queue>N | heap-committed>SIZE[K|M|G] | none\n"
"                (default: corruption,icp-queue>10000); exit 1 when one holds\n"
"  --timeout SEC per-dump time limit (default 600)\n";

enum { OPT_JSONL = 256, OPT_OUT, OPT_FAIL_ON, OPT_TIMEOUT, OPT_JSON };

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "jsonl", no_argument, NULL, OPT_JSONL },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	uint64_t mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || (mul > 1 && v > UINT64_MAX / mul))
		return false;
	*out = v * mul;
	return true;
}

/* Parse a comma-separated --fail-on list into f. */
static bool parse_fail_on(const char *spec, struct ich_fail_on *f)
{
	char *copy = strdup(spec), *save = NULL;
	bool ok = copy != NULL;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "none"))
			memset(f, 0, sizeof(*f));
		else if (!strcmp(tok, "corruption"))
			f->corruption = true;
		else if (!strncmp(tok, "icp-queue>", 10))
			ok = (f->icp_queue = parse_size(tok + 10, &f->icp_queue_max));
		else if (!strncmp(tok, "heap-committed>", 15))
			ok = (f->heap_committed = parse_size(tok + 15, &f->heap_committed_max));
		else
			ok = false;
	}
	free(copy);
	return ok;
}

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
	fflush(j->report);
	fwrite(&o, sizeof(o), 1, j->meta);
	fflush(j->meta);
	_exit(0);
}

static void finish_job(struct job *j, int status, bool timed_out)
{
	j->done = true;
	rewind(j->meta);
	bool have = fread(&j->out, sizeof(j->out), 1, j->meta) == 1;
	if (have && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !timed_out)
		return;
	/* The analysis itself died: report it as an internal error of that
	 * dump only; the batch goes on. */
	memset(&j->out, 0, sizeof(j->out));
	j->out.exit_code = ICH_EXIT_INTERNAL;
	snprintf(j->out.kind, sizeof(j->out.kind), "?");
	snprintf(j->out.verdict, sizeof(j->out.verdict), "crashed");
	if (timed_out)
		snprintf(j->out.top, sizeof(j->out.top), "analysis timed out and was stopped");
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
	fprintf(j->report, "%s: internal error: %s\n", j->path, j->out.top);
	fflush(j->report);
}

static void copy_report(struct job *j, FILE *out, enum ich_out_mode mode)
{
	rewind(j->report);
	char buf[65536];
	size_t n;
	if (mode != ICH_OUT_TEXT && j->out.exit_code == ICH_EXIT_INTERNAL &&
	    !strcmp(j->out.verdict, "crashed")) {
		/* Keep the JSON stream valid for crashed dumps. */
		fprintf(out, "{\"schema\":\"icpheap.analyze/1\",\"path\":\"%s\",\"verdict\":\"crashed\",\"exit_code\":4,\"error\":\"%s\"}\n",
			j->path, j->out.top);
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

static void print_summary(FILE *f, struct job *jobs, size_t n)
{
	int counts[5] = {0};
	fprintf(f, "\n%-40s %-24s %-6s %-10s %7s  %s\n", "dump", "kind", "build", "verdict", "time", "top finding");
	for (size_t i = 0; i < n; i++) {
		struct ich_analyze_outcome *o = &jobs[i].out;
		const char *name = strrchr(jobs[i].path, '/');
		name = name ? name + 1 : jobs[i].path;
		fprintf(f, "%-40.40s %-24.24s %-6s %-10s %6.2fs  %s\n", name, o->kind,
			o->build, o->verdict, o->seconds, o->top);
		if (o->exit_code >= 0 && o->exit_code <= 4)
			counts[o->exit_code]++;
	}
	fprintf(f, "%zu dumps: %d ok, %d with findings, %d unreadable or not analysable, %d internal errors\n",
		n, counts[0], counts[1], counts[3], counts[4]);
}

static int cmd_analyze(int argc, char **argv, const struct ich_cli_global *g)
{
	struct ich_analyze_opts opts = {
		.mode = g->json ? ICH_OUT_JSON : ICH_OUT_TEXT,
		.verbose = g->verbose,
		.build = g->build,
		.fail_on = { .corruption = true, .icp_queue = true, .icp_queue_max = 10000 },
		.stat_top = 10,
	};
	const char *out_path = NULL;
	long jobs_max = sysconf(_SC_NPROCESSORS_ONLN);
	bool recursive = false, quiet = g->quiet;
	double timeout = 600;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+j:rqvh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: opts.mode = ICH_OUT_JSON; break;
		case OPT_JSONL: opts.mode = ICH_OUT_JSONL; break;
		case OPT_OUT: out_path = optarg; break;
		case OPT_FAIL_ON:
			if (!parse_fail_on(optarg, &opts.fail_on)) {
				fprintf(stderr, "icpheap analyze: bad --fail-on '%s'\n%s", optarg, usage);
				return ICH_EXIT_USAGE;
			}
			break;
		case OPT_TIMEOUT:
			timeout = strtod(optarg, NULL);
			if (timeout <= 0) {
				fprintf(stderr, "icpheap analyze: bad --timeout '%s'\n", optarg);
				return ICH_EXIT_USAGE;
			}
			break;
		case 'j': {
			char *end;
			jobs_max = strtol(optarg, &end, 10);
			if (*end || jobs_max < 1 || jobs_max > 1024) {
				fprintf(stderr, "icpheap analyze: bad -j '%s'\n", optarg);
				return ICH_EXIT_USAGE;
			}
			break;
		}
		case 'r': recursive = true; break;
		case 'q': quiet = true; break;
		case 'v': opts.verbose = true; break;
		case 'h': fputs(usage, stdout); return ICH_EXIT_OK;
		default: fputs(usage, stderr); return ICH_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "icpheap analyze: no dump given\n%s", usage);
		return ICH_EXIT_USAGE;
	}
	if (jobs_max < 1)
		jobs_max = 1;
	int npaths = 0;
	char **paths = ich_cli_expand_dumps(argv + optind, argc - optind, recursive, &npaths);
	if (!paths)
		return ICH_EXIT_INTERNAL;

	FILE *out = stdout;
	char *tmp_out = NULL;
	if (out_path) {
		/* Same directory as the target, so rename() is atomic. */
		if (asprintf(&tmp_out, "%s.tmp.XXXXXX", out_path) < 0) {
			ich_cli_free_paths(paths);
			return ICH_EXIT_INTERNAL;
		}
		int fd = mkstemp(tmp_out);
		g_tmp_out = tmp_out;
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			fprintf(stderr, "icpheap: %s: cannot create: %s\n", tmp_out, strerror(errno));
			free(tmp_out);
			ich_cli_free_paths(paths);
			return ICH_EXIT_USAGE;
		}
	}

	struct job *jobs = calloc((size_t)npaths + 1, sizeof(*jobs));
	int worst = npaths == 0 ? ICH_EXIT_DUMP : ICH_EXIT_OK;
	if (npaths == 0)
		fprintf(stderr, "icpheap: no dumps found in the given paths\n");
	bool tty = isatty(STDERR_FILENO) && !quiet;
	double t_begin = now();
	size_t next = 0, running = 0, ndone = 0, nprinted = 0;
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
				fprintf(stderr, "icpheap: cannot create temporary files: %s\n", strerror(errno));
				worst = ICH_EXIT_INTERNAL;
				goto out;
			}
			j->pid = fork();
			if (j->pid == 0)
				run_child(j, &opts);
			if (j->pid < 0) {
				fprintf(stderr, "icpheap: fork: %s\n", strerror(errno));
				worst = ICH_EXIT_INTERNAL;
				goto out;
			}
			running++;
			next++;
		}
		/* Reap one child, with a short poll so timeouts and progress work. */
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
			poll(NULL, 0, 5);
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
			copy_report(&jobs[nprinted], out, opts.mode);
			worst = ich_cli_worst(worst, jobs[nprinted].out.exit_code);
			nprinted++;
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (!quiet && npaths > 0) {
		if (opts.mode == ICH_OUT_TEXT)
			print_summary(out, jobs, (size_t)npaths);
		else if (npaths > 1)
			print_summary(stderr, jobs, (size_t)npaths);
	}
out:
	if (jobs) {
		for (size_t i = 0; i < (size_t)npaths; i++) {
			if (jobs[i].report)
				fclose(jobs[i].report);
			if (jobs[i].meta)
				fclose(jobs[i].meta);
		}
		free(jobs);
	} else {
		worst = ICH_EXIT_INTERNAL;
	}
	if (out_path) {
		bool ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
		ok = fclose(out) == 0 && ok;
		if (ok && worst != ICH_EXIT_INTERNAL && rename(tmp_out, out_path) == 0) {
			/* done */
		} else {
			if (ok && worst != ICH_EXIT_INTERNAL)
				fprintf(stderr, "icpheap: cannot write %s: %s\n", out_path, strerror(errno));
			unlink(tmp_out);
			worst = ich_cli_worst(worst, ICH_EXIT_INTERNAL);
		}
		g_tmp_out = NULL;
		free(tmp_out);
	}
	ich_cli_free_paths(paths);
	return worst;
}

const struct ich_cli_command ich_cmd_analyze = {
	.name = "analyze",
	.summary = "one-shot triage of dumps or folders (text, --json, --jsonl, CI exit codes)",
	.usage = usage,
	.run = cmd_analyze,
};
