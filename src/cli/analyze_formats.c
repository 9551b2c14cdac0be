/* SPDX-License-Identifier: MIT */
/*
 * Whole-batch renderings of `icpheap analyze` from the per-dump outcomes:
 *   SARIF 2.1.0 (OASIS, docs.oasis-open.org/sarif/sarif/v2.1.0): one run,
 *     one rule per finding kind (with help text), one result per finding,
 *     partialFingerprints carrying the finding's fingerprint; dumps that
 *     could not be analysed are toolExecutionNotifications;
 *   JUnit XML (the Ant/Jenkins/GitLab schema): a testcase per dump, a
 *     <failure> per finding that --fail-on names, <error> for an unreadable
 *     dump or a crashed / timed-out analysis, <skipped> without heap data;
 *   Markdown for $GITHUB_STEP_SUMMARY and pull-request comments.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/analyze.h"
#include "cli/records.h"
#include "core/json.h"

#ifndef ICH_VERSION
#define ICH_VERSION "unknown"
#endif

struct rule {
	const char *id, *name, *short_text, *help, *level;
};

static const struct rule rules[] = {
	{ ICH_FINDING_EXCEPTION, "CrashException", "The process died of an exception",
	  "The dump records the exception that ended the process, located as module+offset with the "
	  "crashing thread's stack (frames marked context, cfi or scan by how they were found). "
	  "STATUS_HEAP_CORRUPTION (c0000374) and STATUS_STACK_BUFFER_OVERRUN (c0000409, fast fail) "
	  "mean the heap or a guard was found damaged; reproduce under page heap (gflags /p /enable).",
	  "error" },
	{ ICH_FINDING_BUGCHECK, "BugCheck", "The system stopped with a bug check",
	  "The kernel dump's bug check code and parameters (Microsoft's Bug Check Code Reference "
	  "explains each).", "error" },
	{ ICH_FINDING_HEAP_CORRUPTION, "HeapCorruption", "A process heap is corrupt",
	  "!heap -v found entries whose checksums, sizes or list links are inconsistent. The first "
	  "problem's address is where to look (icpheap heap -x ADDRESS DUMP).", "error" },
	{ ICH_FINDING_HEAP_COMMITTED, "HeapCommitted", "A heap commits more than the threshold",
	  "A heap's committed memory is over --fail-on heap-committed; see the -stat table for the "
	  "sizes that dominate.", "warning" },
	{ ICH_FINDING_ICP_QUEUE, "IoCompletionQueue", "An I/O completion queue is deeper than the threshold",
	  "!icpleak: the IoCompletion object with the most queued packets, and the processes holding "
	  "handles to it.", "error" },
	{ ICH_FINDING_NO_HEAP_DATA, "NoHeapData", "The dump lacks the memory the analysis needs",
	  "Capture a full-memory dump (procdump -ma PID, or WER LocalDumps with DumpType=2); for "
	  "kernel objects a kernel or complete memory dump.", "note" },
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

static size_t rule_index(const char *kind)
{
	for (size_t i = 0; i < NRULES; i++)
		if (!strcmp(rules[i].id, kind))
			return i;
	return 0;
}

/* A relative URI reference for a path: unreserved characters and '/'
 * kept, everything else percent-encoded (RFC 3986). */
static void uri(const char *path, char *buf, size_t n)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < n; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p))
			buf[o++] = (char)*p;
		else
			o += (size_t)snprintf(buf + o, n - o, "%%%02X", *p);
	}
	buf[o] = '\0';
}

/* {"physicalLocation": {"artifactLocation": {"uri": U}}}, left open:
 * the caller may add logicalLocations before closing the location. */
static void begin_location(struct ich_json *j, const char *u)
{
	ich_json_begin_object(j, NULL);
	ich_json_begin_object(j, "physicalLocation");
	ich_json_begin_object(j, "artifactLocation");
	ich_json_string(j, "uri", u);
	ich_json_end_object(j);
	ich_json_end_object(j);
}

void ich_render_sarif(FILE *f, const struct ich_batch_item *items, size_t n)
{
	struct ich_json j;
	ich_json_init(&j, f, true);
	ich_json_begin_object(&j, NULL);
	ich_json_string(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	ich_json_string(&j, "version", "2.1.0");
	ich_json_begin_array(&j, "runs");
	ich_json_begin_object(&j, NULL);
	ich_json_begin_object(&j, "tool");
	ich_json_begin_object(&j, "driver");
	ich_json_string(&j, "name", "icpheap");
	ich_json_string(&j, "version", ICH_VERSION);
	ich_json_string(&j, "informationUri", "https://github.com/icpheap/icpheap");
	ich_json_begin_array(&j, "rules");
	for (size_t i = 0; i < NRULES; i++) {
		ich_json_begin_object(&j, NULL);
		ich_json_string(&j, "id", rules[i].id);
		ich_json_string(&j, "name", rules[i].name);
		ich_json_begin_object(&j, "shortDescription");
		ich_json_string(&j, "text", rules[i].short_text);
		ich_json_end_object(&j);
		ich_json_begin_object(&j, "fullDescription");
		ich_json_string(&j, "text", rules[i].help);
		ich_json_end_object(&j);
		ich_json_begin_object(&j, "help");
		ich_json_string(&j, "text", rules[i].help);
		ich_json_end_object(&j);
		ich_json_begin_object(&j, "defaultConfiguration");
		ich_json_string(&j, "level", rules[i].level);
		ich_json_end_object(&j);
		ich_json_end_object(&j);
	}
	ich_json_end_array(&j);
	ich_json_end_object(&j);
	ich_json_end_object(&j);

	int worst = 0;
	ich_json_begin_array(&j, "invocations");
	ich_json_begin_object(&j, NULL);
	for (size_t i = 0; i < n; i++)
		worst = ich_cli_worst(worst, items[i].out->exit_code);
	ich_json_bool(&j, "executionSuccessful", worst != ICH_EXIT_INTERNAL);
	ich_json_i64(&j, "exitCode", worst);
	ich_json_begin_array(&j, "toolExecutionNotifications");
	for (size_t i = 0; i < n; i++) {
		const struct ich_analyze_outcome *o = items[i].out;
		if (o->verdict != ICH_VERDICT_UNREADABLE && o->verdict != ICH_VERDICT_TIMEOUT &&
		    o->verdict != ICH_VERDICT_CRASHED)
			continue;
		char u[1024], msg[400];
		uri(items[i].path, u, sizeof(u));
		snprintf(msg, sizeof(msg), "%s: %s", ich_verdict_name(o->verdict), o->top);
		ich_json_begin_object(&j, NULL);
		ich_json_string(&j, "level", "error");
		ich_json_begin_object(&j, "message");
		ich_json_string(&j, "text", msg);
		ich_json_end_object(&j);
		ich_json_begin_array(&j, "locations");
		begin_location(&j, u);
		ich_json_end_object(&j);
		ich_json_end_array(&j);
		ich_json_end_object(&j);
	}
	ich_json_end_array(&j);
	ich_json_end_object(&j);
	ich_json_end_array(&j);

	ich_json_begin_array(&j, "results");
	for (size_t i = 0; i < n; i++) {
		const struct ich_analyze_outcome *o = items[i].out;
		char u[1024];
		uri(items[i].path, u, sizeof(u));
		for (size_t k = 0; k < o->nfindings; k++) {
			const struct ich_finding *fd = &o->findings[k];
			ich_json_begin_object(&j, NULL);
			ich_json_string(&j, "ruleId", fd->kind);
			ich_json_u64(&j, "ruleIndex", rule_index(fd->kind));
			/* the severity words are SARIF's levels */
			ich_json_string(&j, "level", ich_severity_name(fd->severity));
			char text[600];
			ich_json_begin_object(&j, "message");
			ich_json_string(&j, "text", ich_finding_text(fd, text, sizeof(text)));
			ich_json_end_object(&j);
			ich_json_begin_array(&j, "locations");
			begin_location(&j, u);
			char name[128];
			if (ich_finding_location(fd, name, sizeof(name))) {
				ich_json_begin_array(&j, "logicalLocations");
				ich_json_begin_object(&j, NULL);
				ich_json_string(&j, "fullyQualifiedName", name);
				ich_json_string(&j, "kind", fd->has_module ? "function" : "variable");
				ich_json_end_object(&j);
				ich_json_end_array(&j);
			}
			ich_json_end_object(&j);
			ich_json_end_array(&j);
			ich_json_begin_object(&j, "partialFingerprints");
			ich_json_string(&j, "icpheapFingerprint/v1", fd->fingerprint);
			ich_json_end_object(&j);
			if (fd->in_baseline)
				ich_json_string(&j, "baselineState", "unchanged");
			ich_json_begin_object(&j, "properties");
			ich_json_bool(&j, "fails", fd->fails);
			ich_json_string(&j, "verdict", ich_verdict_name(o->verdict));
			if (fd->has_address)
				ich_json_addr(&j, "address", fd->address);
			if (fd->has_heap)
				ich_json_addr(&j, "heap", fd->heap);
			ich_json_end_object(&j);
			ich_json_end_object(&j);
		}
	}
	ich_json_end_array(&j);
	ich_json_end_object(&j);
	ich_json_end_array(&j);
	ich_json_end_object(&j);
	ich_json_finish(&j);
}

static void xml(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			if (*p < 0x20 && *p != '\n' && *p != '\t')
				fputc('?', f);
			else
				fputc(*p, f);
		}
	}
}

void ich_render_junit(FILE *f, const struct ich_batch_item *items, size_t n)
{
	size_t failures = 0, errors = 0, skipped = 0;
	double total = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ich_analyze_outcome *o = items[i].out;
		total += o->seconds;
		if (o->exit_code >= ICH_EXIT_DUMP)
			errors++;
		else if (o->exit_code == ICH_EXIT_FINDINGS)
			failures++;
		else if (o->verdict == ICH_VERDICT_NO_HEAP_DATA)
			skipped++;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"icpheap analyze\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		n, failures, errors, skipped, total);
	fprintf(f, "  <testsuite name=\"icpheap analyze\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		n, failures, errors, skipped, total);
	for (size_t i = 0; i < n; i++) {
		const struct ich_analyze_outcome *o = items[i].out;
		fputs("    <testcase classname=\"icpheap.analyze\" name=\"", f);
		xml(f, items[i].path);
		fprintf(f, "\" time=\"%.3f\">\n", o->seconds);
		if (o->exit_code >= ICH_EXIT_DUMP) {
			fprintf(f, "      <error type=\"%s\" message=\"", ich_verdict_name(o->verdict));
			xml(f, o->top);
			fputs("\"/>\n", f);
		}
		for (size_t k = 0; k < o->nfindings; k++) {
			const struct ich_finding *fd = &o->findings[k];
			if (!fd->fails || fd->in_baseline)
				continue;
			char text[600];
			fprintf(f, "      <failure type=\"%s\" message=\"", fd->kind);
			xml(f, ich_finding_text(fd, text, sizeof(text)));
			fprintf(f, "\">fingerprint %s\n", fd->fingerprint);
			if (!strcmp(fd->kind, ICH_FINDING_EXCEPTION))
				for (size_t s = 0; s < o->crash.nframes; s++) {
					char loc[96];
					fprintf(f, "#%zu ", s);
					xml(f, ich_frame_location(&o->crash.frames[s], loc, sizeof(loc)));
					fprintf(f, " (%s)\n", ich_frame_trust_name(o->crash.frames[s].trust));
				}
			fputs("</failure>\n", f);
		}
		if (o->exit_code < ICH_EXIT_FINDINGS && o->verdict == ICH_VERDICT_NO_HEAP_DATA) {
			fputs("      <skipped message=\"", f);
			xml(f, o->advice);
			fputs("\"/>\n", f);
		}
		fputs("      <system-out>verdict ", f);
		xml(f, ich_verdict_name(o->verdict));
		for (size_t k = 0; k < o->nfindings; k++) {
			fputs("\n", f);
			xml(f, ich_severity_name(o->findings[k].severity));
			fputs(" ", f);
			xml(f, o->findings[k].kind);
			fputs(": ", f);
			char text[600];
			xml(f, ich_finding_text(&o->findings[k], text, sizeof(text)));
			fprintf(f, " [%s]", o->findings[k].fingerprint);
		}
		fputs("</system-out>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
}

/* A Markdown table cell: '|' escaped, newlines flattened. */
static void md(FILE *f, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '|')
			fputs("\\|", f);
		else if (*p == '\n' || *p == '\r')
			fputc(' ', f);
		else if (*p == '<')
			fputs("&lt;", f);
		else
			fputc(*p, f);
	}
}

void ich_render_markdown(FILE *f, const struct ich_batch_item *items, size_t n, int exit_code)
{
	size_t counts[6] = {0};
	for (size_t i = 0; i < n; i++)
		if ((unsigned)items[i].out->verdict < 6)
			counts[items[i].out->verdict]++;
	fprintf(f, "## icpheap analyze: %zu dump%s, exit %d\n\n", n, n == 1 ? "" : "s", exit_code);
	fprintf(f, "%zu ok, %zu with findings, %zu without heap data, %zu unreadable, %zu timed out, %zu crashed.\n\n",
		counts[ICH_VERDICT_OK], counts[ICH_VERDICT_FINDINGS], counts[ICH_VERDICT_NO_HEAP_DATA],
		counts[ICH_VERDICT_UNREADABLE], counts[ICH_VERDICT_TIMEOUT], counts[ICH_VERDICT_CRASHED]);
	if (!n)
		return;
	fputs("| Dump | Verdict | Heaps | Exit | Crash | Top finding |\n", f);
	fputs("|---|---|---|---|---|---|\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct ich_analyze_outcome *o = items[i].out;
		const char *name = strrchr(items[i].path, '/');
		name = name ? name + 1 : items[i].path;
		fputs("| `", f);
		md(f, name);
		fprintf(f, "` | %s | %s | %d | ", ich_verdict_name(o->verdict),
			o->has_heap_status ? ich_status_name(o->heap_status) : "-", o->exit_code);
		if (o->crash.present) {
			fputs("`", f);
			md(f, o->crash.location);
			fputs("`", f);
		}
		fputs(" | ", f);
		md(f, o->top);
		fputs(" |\n", f);
	}
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		const struct ich_analyze_outcome *o = items[i].out;
		if (!o->nfindings)
			continue;
		if (!any)
			fputs("\n### Findings\n\n", f);
		any = true;
		for (size_t k = 0; k < o->nfindings; k++) {
			const struct ich_finding *fd = &o->findings[k];
			fprintf(f, "- **%s** `%s` %s", ich_severity_name(fd->severity), fd->kind,
				fd->fails && !fd->in_baseline ? "(fails) " : "");
			char text[600];
			md(f, ich_finding_text(fd, text, sizeof(text)));
			fprintf(f, " — `%s`, fingerprint `%s`\n", items[i].path, fd->fingerprint);
		}
		if (o->crash.present && !o->crash.bugcheck && o->crash.nframes) {
			fputs("\n  <details><summary>stack of the crashing thread</summary>\n\n  ```\n", f);
			for (size_t s = 0; s < o->crash.nframes; s++) {
				char loc[96];
				fprintf(f, "  #%-2zu %-40s (%s)\n", s, ich_frame_location(&o->crash.frames[s], loc, sizeof(loc)),
					ich_frame_trust_name(o->crash.frames[s].trust));
			}
			fputs("  ```\n  </details>\n\n", f);
		}
	}
}
