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
 * holds: the page costs O(segments x columns), not O(blocks).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icpheap/heap.h>

#include "cli/analyze_sections.h"
#include "cli/records.h"

#ifndef ICH_VERSION
#define ICH_VERSION "unknown"
#endif

#define MAP_COLS 900
#define ROW_H 18
#define MAX_ROWS 64		/* segments drawn per heap */
#define MAX_LARGE 256		/* large blocks drawn per heap */

enum cls { C_NONE, C_UNCOMMITTED, C_FREE, C_INTERNAL, C_LFH, C_BUSY, C_CORRUPT, NCLS };
static const char *const cls_name[NCLS] = {
	"not described", "uncommitted", "free", "internal / LFH container", "LFH block", "busy", "corrupt",
};
static const char *const cls_color[NCLS] = {
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

struct row {
	uint64_t lo, hi;
	uint8_t col[MAP_COLS];
};

struct large {
	uint64_t addr, size;
	bool busy;
};

struct map {
	struct row rows[MAX_ROWS];
	size_t nrows;
	struct large large[MAX_LARGE];
	size_t nlarge, nlarge_total;
	uint64_t ncorrupt;
};

static struct row *row_of(struct map *m, uint64_t a)
{
	for (size_t i = 0; i < m->nrows; i++)
		if (a >= m->rows[i].lo && a < m->rows[i].hi)
			return &m->rows[i];
	return NULL;
}

static void paint(struct row *r, uint64_t a, uint64_t len, enum cls c)
{
	uint64_t span = r->hi - r->lo;
	uint64_t end = a + len > r->hi || a + len < a ? r->hi : a + len;
	if (a < r->lo)
		a = r->lo;
	if (end <= a)
		end = a + 1;
	/* Columns by 128-bit-safe arithmetic: offsets are < 2^48 in practice,
	 * but a hostile segment may claim more; divide first when large. */
	size_t x0 = span > (1ull << 40) ? (size_t)((a - r->lo) / (span / MAP_COLS + 1)) :
		    (size_t)((a - r->lo) * MAP_COLS / span);
	size_t x1 = span > (1ull << 40) ? (size_t)((end - r->lo) / (span / MAP_COLS + 1)) :
		    (size_t)(((end - r->lo) * MAP_COLS + span - 1) / span);
	if (x0 >= MAP_COLS)
		x0 = MAP_COLS - 1;
	if (x1 > MAP_COLS)
		x1 = MAP_COLS;
	if (x1 <= x0)
		x1 = x0 + 1;
	for (size_t x = x0; x < x1; x++)
		if (r->col[x] < c)
			r->col[x] = (uint8_t)c;
}

static struct ich_error *on_block(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg)
{
	(void)heap;
	struct map *m = arg;
	if (b->layer == ICH_LAYER_VIRTUAL || b->layer == ICH_LAYER_SEG_LARGE) {
		m->nlarge_total++;
		if (m->nlarge < MAX_LARGE) {
			m->large[m->nlarge].addr = b->header;
			m->large[m->nlarge].size = b->block_size;
			m->large[m->nlarge].busy = b->state == ICH_BLOCK_BUSY;
			m->nlarge++;
		}
		return NULL;
	}
	enum cls c;
	switch (b->state) {
	case ICH_BLOCK_CORRUPT: c = C_CORRUPT; m->ncorrupt++; break;
	case ICH_BLOCK_INTERNAL: c = C_INTERNAL; break;
	case ICH_BLOCK_FREE: c = C_FREE; break;
	case ICH_BLOCK_BUSY:
	default:
		c = b->layer == ICH_LAYER_LFH || b->layer == ICH_LAYER_SEG_LFH ? C_LFH : C_BUSY;
		break;
	}
	struct row *r = row_of(m, b->header);
	if (r)
		paint(r, b->header, b->block_size ? b->block_size : 1, c);
	return NULL;
}

struct span {
	uint64_t lo, hi;
};

static struct ich_error *on_span(const struct ich_heap *heap, const struct ich_heap_block *b, void *arg)
{
	(void)heap;
	struct span *sp = arg;
	if (b->layer == ICH_LAYER_VIRTUAL || b->layer == ICH_LAYER_SEG_LARGE)
		return NULL;
	uint64_t end = b->header + (b->block_size ? b->block_size : 1);
	if (end < b->header)
		return NULL;
	if (b->header < sp->lo)
		sp->lo = b->header;
	if (end > sp->hi)
		sp->hi = end;
	return NULL;
}

static void emit_row(FILE *f, const struct row *r, int y)
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

void ich_html_heap_map(FILE *f, struct ich_heaps *h, struct ich_heap *heap)
{
	struct map *m = calloc(1, sizeof(*m));
	if (!m)
		return;
	for (size_t i = 0; i < heap->nsegments && m->nrows < MAX_ROWS; i++) {
		const struct ich_heap_segment *s = &heap->segments[i];
		if (s->last_valid_entry <= s->base)
			continue;
		struct row *r = &m->rows[m->nrows++];
		r->lo = s->base;
		r->hi = s->last_valid_entry;
		for (size_t u = 0; u < s->nucr; u++)
			paint(r, s->ucr[u].address, s->ucr[u].size, C_UNCOMMITTED);
	}
	/* Segment heaps have no segment records: one row spanning every
	 * non-large block, sized by a first pass. */
	struct ich_error *err = NULL;
	if (!m->nrows) {
		struct span sp = { UINT64_MAX, 0 };
		err = ich_heap_walk(h, heap, on_span, &sp);
		ich_error_destroy(err);
		if (sp.hi > sp.lo) {
			m->rows[0].lo = sp.lo;
			m->rows[0].hi = sp.hi;
			m->nrows = 1;
		}
	}
	err = ich_heap_walk(h, heap, on_block, m);
	ich_error_destroy(err);

	fprintf(f, "<div class=\"heap\"><h4>heap 0x%" PRIx64 " (%s)</h4>\n", heap->address,
		heap->kind == ICH_HEAP_KIND_SEGMENT ? "segment heap" : heap->kind == ICH_HEAP_KIND_PAGE ? "page heap" : "NT heap");
	int height = (int)(m->nrows * (ROW_H + 14)) + 10;
	fprintf(f, "<svg class=\"heapmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
		MAP_COLS, height, MAP_COLS, height);
	for (size_t i = 0; i < m->nrows; i++) {
		const struct row *r = &m->rows[i];
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
				x, w < 1 ? 1 : w, ROW_H - 4, m->large[i].addr, ich_human_size(m->large[i].size, a, sizeof(a)));
			x += w;
		}
		fputs("</svg>\n", f);
	}
	fputs("</div>\n", f);
	free(m);
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
	for (int c = 0; c < NCLS; c++)
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
