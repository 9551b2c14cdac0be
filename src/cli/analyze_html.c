/* SPDX-License-Identifier: MIT */
/*
 * `analyze --format html`: one self-contained page (inline CSS and SVG, one
 * small inline script, no network fetches) to attach to a bug: the verdict
 * and findings of every dump, the crash location and stack, and per heap a
 * map of its address range drawn to scale — busy, free, uncommitted, LFH
 * and internal (front-end containers, metadata) blocks, with the corrupt
 * entries marked — plus the large blocks and the top allocations by size.
 *
 * The map is one row per segment, MAP_COLS columns wide; a column shows the
 * most telling class of the bytes it covers (corrupt > busy > LFH >
 * internal > free > uncommitted), so the SVG stays small whatever the heap
 * holds: the page costs O(segments x columns), not O(blocks).  The library
 * collects it during analyze's own walk (heapmap.h); this draws it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <icpheap/heap.h>
#include <icpheap/heapmap.h>

#include "cli/analyze_sections.h"
#include "cli/records.h"

#ifndef ICH_VERSION
#define ICH_VERSION "unknown"
#endif

#define MAP_COLS ICH_HEAP_MAP_COLS
#define ROW_H 18

static const char *const cls_name[ICH_MAP_NCLASSES] = {
	"not described", "uncommitted", "free", "internal / LFH container", "LFH block", "busy", "corrupt",
};
static const char *const cls_color[ICH_MAP_NCLASSES] = {
	"#f4f4f4", "#d0d0d0", "#9ecae1", "#c7a4d8", "#8e6bbf", "#41ab5d", "#e31a1c",
};

void ich_html_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t')
				fputc('?', f);
			else
				fputc(*p, f);
		}
	}
}

static void emit_row(FILE *f, const struct ich_heap_map_row *r, int y)
{
	size_t x = 0;
	while (x < MAP_COLS) {
		size_t e = x + 1;
		while (e < MAP_COLS && r->col[e] == r->col[x])
			e++;
		fprintf(f, "<rect x=\"%zu\" y=\"%d\" width=\"%zu\" height=\"%d\" fill=\"%s\" class=\"c%u\"/>",
			x, y, e - x, ROW_H - 4, cls_color[r->col[x]], r->col[x]);
		x = e;
	}
}

void ich_html_heap_map(FILE *f, const struct ich_heap *heap, const struct ich_heap_map *m)
{
	if (!m)
		return;
	fprintf(f, "<div class=\"heap\"><h4>heap 0x%" PRIx64 " (%s)</h4>\n", heap->address,
		heap->kind == ICH_HEAP_KIND_SEGMENT ? "segment heap" : heap->kind == ICH_HEAP_KIND_PAGE ? "page heap" : "NT heap");
	int height = (int)(m->nrows * (ROW_H + 14)) + 10;
	fprintf(f, "<svg class=\"heapmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
		MAP_COLS, height, MAP_COLS, height);
	for (size_t i = 0; i < m->nrows; i++) {
		const struct ich_heap_map_row *r = &m->rows[i];
		int y = (int)i * (ROW_H + 14);
		char a[32];
		fprintf(f, "<text x=\"0\" y=\"%d\" class=\"lbl\">segment 0x%" PRIx64 "-0x%" PRIx64 " (%s)</text>",
			y + 10, r->lo, r->hi, ich_human_size(r->hi - r->lo, a, sizeof(a)));
		emit_row(f, r, y + 13);
		/* The corrupt entries: a marker above the bar at their address. */
		for (size_t p = 0; p < heap->nproblems; p++) {
			uint64_t pa = heap->problems[p].address;
			if (pa < r->lo || pa >= r->hi)
				continue;
			double x = (double)(pa - r->lo) * MAP_COLS / (double)(r->hi - r->lo);
			fprintf(f, "<path class=\"corrupt-marker\" d=\"M%.1f %d l-5 -7 h10 z\" fill=\"#e31a1c\"><title>0x%" PRIx64 ": ",
				x, y + 13, pa);
			ich_html_text(f, heap->problems[p].what);
			fputs("</title></path>", f);
		}
	}
	fputs("</svg>\n", f);
	if (m->nlarge_total) {
		uint64_t total = 0;
		for (size_t i = 0; i < m->nlarge; i++)
			total += m->large[i].size;
		fprintf(f, "<p>%zu large block%s (outside the segments, end to end):</p>", m->nlarge_total,
			m->nlarge_total == 1 ? "" : "s");
		fprintf(f, "<svg class=\"largemap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", MAP_COLS, ROW_H);
		double x = 0;
		for (size_t i = 0; i < m->nlarge && total; i++) {
			double w = (double)m->large[i].size * MAP_COLS / (double)total;
			char a[32];
			fprintf(f, "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%d\" fill=\"#fd8d3c\" stroke=\"#fff\"><title>0x%" PRIx64 " %s</title></rect>",
				x, w < 1 ? 1 : w, ROW_H - 4, m->large[i].address, ich_human_size(m->large[i].size, a, sizeof(a)));
			x += w;
		}
		fputs("</svg>\n", f);
	}
	fputs("</div>\n", f);
}

void ich_html_top_table(FILE *f, const struct ich_heap_size_stat *rows, size_t n, uint64_t busy)
{
	fputs("<h4>Top allocations by total size (all heaps)</h4>\n<table class=\"top\"><tr><th>size</th><th>blocks</th><th>total</th><th>%</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		char a[32], b[32];
		fprintf(f, "<tr><td>%s</td><td>%" PRIu64 "</td><td>%s</td><td>%.2f</td></tr>\n",
			ich_human_size(rows[i].size, a, sizeof(a)), rows[i].blocks,
			ich_human_size(rows[i].total, b, sizeof(b)),
			busy ? 100.0 * (double)rows[i].total / (double)busy : 0.0);
	}
	fputs("</table>\n", f);
}

void ich_html_dump_section(FILE *f, const char *path, const struct ich_analyze_outcome *o,
			   const char *maps)
{
	const char *v = ich_verdict_name(o->verdict);
	fputs("<section class=\"dump\"><h2>", f);
	ich_html_text(f, path);
	fprintf(f, "</h2>\n<p><span class=\"verdict v-%s\">%s</span> exit %d", v, v, o->exit_code);
	if (o->has_heap_status)
		fprintf(f, ", heaps %s", ich_status_name(o->heap_status));
	if (o->kind[0] && strcmp(o->kind, "?")) {
		fputs(", ", f);
		ich_html_text(f, o->kind);
		fprintf(f, ", build %s", o->build);
	}
	fputs("</p>\n", f);
	if (o->verdict == ICH_VERDICT_UNREADABLE || o->verdict == ICH_VERDICT_TIMEOUT ||
	    o->verdict == ICH_VERDICT_CRASHED) {
		fputs("<p class=\"error\">", f);
		ich_html_text(f, o->top);
		fputs("</p>\n", f);
	}
	if (o->advice[0]) {
		fputs("<p class=\"advice\">Next: ", f);
		ich_html_text(f, o->advice);
		fputs("</p>\n", f);
	}
	if (o->nfindings) {
		fputs("<table class=\"findings\"><tr><th>severity</th><th>kind</th><th>finding</th><th>fingerprint</th><th>fails</th></tr>\n", f);
		for (size_t i = 0; i < o->nfindings; i++) {
			const struct ich_finding *fd = &o->findings[i];
			fprintf(f, "<tr class=\"sev-%s\"><td>%s</td><td>%s</td><td>", ich_severity_name(fd->severity),
				ich_severity_name(fd->severity), fd->kind);
			char text[600];
			ich_html_text(f, ich_finding_text(fd, text, sizeof(text)));
			fprintf(f, "</td><td><code>%s</code></td><td>%s</td></tr>\n", fd->fingerprint,
				fd->fails && !fd->in_baseline ? "yes" : "no");
		}
		fputs("</table>\n", f);
	}
	if (o->crash.present && !o->crash.bugcheck) {
		char desc[200];
		ich_crash_describe(&o->crash, desc, sizeof(desc));
		fputs("<h3>Crash</h3>\n<p><code>", f);
		ich_html_text(f, desc);
		fprintf(f, "</code>, thread %u</p>\n<ol class=\"stack\" start=\"0\">\n", o->crash.thread_id);
		for (size_t i = 0; i < o->crash.nframes; i++) {
			char loc[96];
			fputs("<li><code>", f);
			ich_html_text(f, ich_frame_location(&o->crash.frames[i], loc, sizeof(loc)));
			fprintf(f, "</code> <span class=\"trust\">%s</span></li>\n",
				ich_frame_trust_name(o->crash.frames[i].trust));
		}
		fputs("</ol>\n", f);
		if (o->crash.stack_note[0]) {
			fputs("<p class=\"note\">", f);
			ich_html_text(f, o->crash.stack_note);
			fputs("</p>\n", f);
		}
	} else if (o->crash.present) {
		char desc[200];
		ich_crash_describe(&o->crash, desc, sizeof(desc));
		fputs("<h3>Bug check</h3>\n<p><code>", f);
		ich_html_text(f, desc);
		fputs("</code></p>\n", f);
	}
	if (maps && *maps) {
		fputs("<h3>Heaps</h3>\n", f);
		fputs(maps, f);
	}
	fputs("</section>\n", f);
}

void ich_render_html_head(FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>icpheap analyze</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1em;display:flex;flex-direction:column}\n"
	      "#summary{order:-1}\n"
	      "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}\n"
	      ".verdict{padding:1px 6px;border-radius:3px;color:#fff;background:#777}\n"
	      ".v-ok{background:#2b8a3e}.v-findings{background:#c92a2a}.v-no-heap-data{background:#e67700}\n"
	      ".v-unreadable,.v-timeout,.v-crashed{background:#495057}\n"
	      ".sev-error td:first-child{color:#c92a2a}.trust{color:#777;font-size:90%}\n"
	      "svg.heapmap text{font-size:11px;font-family:monospace}\n"
	      ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}\n"
	      "section.dump{border-top:2px solid #333;margin-top:1em}\n"
	      "</style></head><body>\n", f);
	fputs("<p class=\"legend\">Heap map:", f);
	for (int c = 0; c < ICH_MAP_NCLASSES; c++)
		fprintf(f, "<span style=\"background:%s\"></span>%s", cls_color[c], cls_name[c]);
	fputs("<span style=\"background:#fd8d3c\"></span>large block</p>\n", f);
}

void ich_render_html_tail(FILE *f, const struct ich_batch_item *items, size_t n, int exit_code)
{
	fprintf(f, "<div id=\"summary\"><h1>icpheap analyze: %zu dump%s, exit %d</h1>\n", n, n == 1 ? "" : "s", exit_code);
	fputs("<table><tr><th>dump</th><th>verdict</th><th>heaps</th><th>exit</th><th>crash</th><th>top finding</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct ich_analyze_outcome *o = items[i].out;
		fputs("<tr><td>", f);
		ich_html_text(f, items[i].path);
		fprintf(f, "</td><td><span class=\"verdict v-%s\">%s</span></td><td>%s</td><td>%d</td><td><code>",
			ich_verdict_name(o->verdict), ich_verdict_name(o->verdict),
			o->has_heap_status ? ich_status_name(o->heap_status) : "-", o->exit_code);
		if (o->crash.present)
			ich_html_text(f, o->crash.location);
		fputs("</code></td><td>", f);
		ich_html_text(f, o->top);
		fputs("</td></tr>\n", f);
	}
	fprintf(f, "</table><p>icpheap %s; <span id=\"maps\"></span></p></div>\n", ICH_VERSION);
	/* The only script: counts what was drawn (a browser test reads it). */
	fputs("<script>\n"
	      "var m=document.querySelectorAll('svg.heapmap').length,"
	      "r=document.querySelectorAll('svg.heapmap rect').length,"
	      "c=document.querySelectorAll('.corrupt-marker').length;\n"
	      "document.getElementById('maps').textContent=m+' heap maps, '+r+' runs, '+c+' corrupt markers';\n"
	      "</script>\n</body></html>\n", f);
}
