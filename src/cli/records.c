/* SPDX-License-Identifier: MIT */
/* JSON (and text) writers for the shared records (records.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/records.h"
#include "core/fmt.h"
#include "core/write_ahead.h"

static void code_fields(struct ich_json *j, uint32_t code, const char *name)
{
	char hex[16];
	snprintf(hex, sizeof(hex), "0x%08" PRIx32, code);
	ich_json_u64(j, "code", code);
	ich_json_string(j, "code_hex", hex);
	ich_json_string(j, "name", name && *name ? name : NULL);
}

void ich_json_exception(struct ich_json *j, const char *key, const struct ich_crash *c)
{
	if (!c->present || (c->bugcheck && !c->nframes && !c->stack_note[0])) {
		ich_json_null(j, key);
		return;
	}
	ich_json_begin_object(j, key);
	/* A bug check's stack is the processor context of the dump header:
	 * no thread id is read. */
	if (c->bugcheck)
		ich_json_null(j, "thread_id");
	else
		ich_json_u64(j, "thread_id", c->thread_id);
	code_fields(j, c->code, c->name);
	ich_json_u64(j, "flags", c->flags);
	ich_json_addr(j, "record", c->record);
	ich_json_addr(j, "address", c->address);
	ich_json_begin_array(j, "parameters");
	for (uint32_t i = 0; i < c->nparams; i++)
		ich_json_addr(j, NULL, c->params[i]);
	ich_json_end_array(j);
	ich_json_string(j, "location", c->location);
	ich_json_string(j, "module", c->has_module ? c->module : NULL);
	if (c->has_module)
		ich_json_addr(j, "module_offset", c->module_offset);
	else
		ich_json_null(j, "module_offset");
	const char *acc = ich_access_name(c->access);
	if (acc) {
		ich_json_begin_object(j, "access");
		ich_json_string(j, "kind", acc);
		ich_json_addr(j, "address", c->access_address);
		ich_json_end_object(j);
	} else {
		ich_json_null(j, "access");
	}
	if (c->has_fast_fail) {
		ich_json_begin_object(j, "fast_fail");
		ich_json_u64(j, "code", c->fast_fail);
		ich_json_string(j, "name", ich_fast_fail_name(c->fast_fail));
		ich_json_end_object(j);
	} else {
		ich_json_null(j, "fast_fail");
	}
	ich_json_end_object(j);
}

void ich_json_bugcheck(struct ich_json *j, const char *key, const struct ich_crash *c)
{
	if (!c->present || !c->bugcheck) {
		ich_json_null(j, key);
		return;
	}
	ich_json_begin_object(j, key);
	code_fields(j, c->code, c->name);
	ich_json_begin_array(j, "parameters");
	for (uint32_t i = 0; i < c->nparams && i < 4; i++)
		ich_json_addr(j, NULL, c->params[i]);
	ich_json_end_array(j);
	/* Where: the parameters inside loaded modules, and the faulting
	 * address the bug check documents (module+offset). */
	ich_json_begin_array(j, "parameter_locations");
	for (uint32_t i = 0; i < c->nparams && i < 4; i++)
		ich_json_string(j, NULL, c->param_location[i][0] ? c->param_location[i] : NULL);
	ich_json_end_array(j);
	ich_json_string(j, "location", c->has_module ? c->location : NULL);
	ich_json_string(j, "module", c->has_module ? c->module : NULL);
	if (c->has_module)
		ich_json_addr(j, "module_offset", c->module_offset);
	else
		ich_json_null(j, "module_offset");
	ich_json_u64(j, "modules", c->nmodules);
	ich_json_end_object(j);
}

const char *ich_frame_location(const struct ich_frame *fr, char *buf, size_t n)
{
	if (fr->has_module)
		snprintf(buf, n, "%s+0x%" PRIx64, fr->module, fr->offset);
	else
		snprintf(buf, n, "0x%" PRIx64, fr->pc);
	return buf;
}

void ich_json_stack(struct ich_json *j, const char *key, const struct ich_crash *c)
{
	if (!c->present || (c->bugcheck && !c->nframes && !c->stack_note[0])) {
		ich_json_null(j, key);
		return;
	}
	ich_json_begin_object(j, key);
	/* A bug check's stack is the processor context of the dump header:
	 * no thread id is read. */
	if (c->bugcheck)
		ich_json_null(j, "thread_id");
	else
		ich_json_u64(j, "thread_id", c->thread_id);
	ich_json_begin_array(j, "frames");
	for (size_t i = 0; i < c->nframes; i++) {
		const struct ich_frame *fr = &c->frames[i];
		char loc[96];
		ich_json_begin_object(j, NULL);
		ich_json_u64(j, "index", i);
		ich_json_addr(j, "pc", fr->pc);
		ich_json_addr(j, "sp", fr->sp);
		ich_json_string(j, "trust", ich_frame_trust_name(fr->trust));
		ich_json_string(j, "module", fr->has_module ? fr->module : NULL);
		if (fr->has_module)
			ich_json_addr(j, "offset", fr->offset);
		else
			ich_json_null(j, "offset");
		ich_json_string(j, "location", ich_frame_location(fr, loc, sizeof(loc)));
		ich_json_end_object(j);
	}
	ich_json_end_array(j);
	ich_json_string(j, "note", c->stack_note[0] ? c->stack_note : NULL);
	ich_json_end_object(j);
}

const char *ich_finding_text(const struct ich_finding *f, char *buf, size_t n)
{
	if (!f->rank_reason[0])
		return f->message;
	snprintf(buf, n, "%s; crash: %s", f->message, f->rank_reason);
	return buf;
}

const char *ich_finding_location(const struct ich_finding *f, char *buf, size_t n)
{
	if (f->has_module)
		snprintf(buf, n, "%s+0x%" PRIx64, f->module, f->offset);
	else if (f->has_heap)
		snprintf(buf, n, "heap 0x%" PRIx64, f->heap);
	else if (f->has_address)
		snprintf(buf, n, "0x%" PRIx64, f->address);
	else
		return NULL;
	return buf;
}

void ich_json_finding(struct ich_json *j, const char *key, const struct ich_finding *f,
		      const char *dump_path)
{
	ich_json_begin_object(j, key);
	ich_json_string(j, "kind", f->kind);
	ich_json_string(j, "severity", ich_severity_name(f->severity));
	ich_json_string(j, "message", f->message);
	ich_json_string(j, "fingerprint", f->fingerprint);
	ich_json_bool(j, "fails", f->fails);
	ich_json_bool(j, "new", !f->in_baseline);
	ich_json_begin_object(j, "location");
	ich_json_string(j, "dump", dump_path);
	if (f->has_heap)
		ich_json_addr(j, "heap", f->heap);
	else
		ich_json_null(j, "heap");
	if (f->has_address)
		ich_json_addr(j, "address", f->address);
	else
		ich_json_null(j, "address");
	ich_json_string(j, "module", f->has_module ? f->module : NULL);
	if (f->has_module) {
		char loc[128];
		ich_json_addr(j, "offset", f->offset);
		ich_json_string(j, "module_offset", ich_finding_location(f, loc, sizeof(loc)));
	} else {
		ich_json_null(j, "offset");
		ich_json_null(j, "module_offset");
	}
	ich_json_end_object(j);
	if (f->code) {
		char hex[16];
		snprintf(hex, sizeof(hex), "0x%08" PRIx32, f->code);
		ich_json_u64(j, "code", f->code);
		ich_json_string(j, "code_hex", hex);
	}
	if (f->count)
		ich_json_u64(j, "count", f->count);
	/* Why a heap finding comes right after the crash (ranking). */
	if (f->relation != ICH_REL_NONE) {
		ich_json_string(j, "crash_relation", ich_crash_relation_name(f->relation));
		ich_json_string(j, "rank_reason", f->rank_reason);
	}
	ich_json_end_object(j);
}

void ich_json_error_obj(struct ich_json *j, const char *key, const char *type, const char *message)
{
	ich_json_begin_object(j, key);
	ich_json_string(j, "code", type);
	ich_json_string(j, "message", message);
	ich_json_end_object(j);
}

void ich_json_error(struct ich_json *j, const char *key, const struct ich_error *err)
{
	ich_json_error_obj(j, key, ich_error_code_name(err->code), err->message);
}

enum ich_status ich_heap_status(const struct ich_heap *hp)
{
	switch (hp->status) {
	case ICH_HEAP_OK:
		return hp->partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
	case ICH_HEAP_NOT_CAPTURED:
		return ICH_STATUS_NO_DATA;
	default:
		return ICH_STATUS_FAILED;	/* no layout fits, or not walkable: see reason */
	}
}

const char *ich_stat_group_by(enum ich_heap_stat_order ord)
{
	return ord == ICH_STAT_BY_SIZE ? "ALLOCATIONSIZE" : ord == ICH_STAT_BY_COUNT ? "BLOCKCOUNT" : "TOTSIZE";
}

void ich_json_stat_table(struct ich_json *j, enum ich_heap_stat_order ord, uint64_t busy_bytes,
			 const struct ich_heap_size_stat *rows, size_t n)
{
	ich_json_string(j, "group_by", ich_stat_group_by(ord));
	ich_json_u64(j, "busy_bytes", busy_bytes);
	ich_json_begin_array(j, "sizes");
	for (size_t i = 0; i < n; i++) {
		ich_json_begin_object(j, NULL);
		ich_json_u64(j, "size", rows[i].size);
		ich_json_u64(j, "blocks", rows[i].blocks);
		ich_json_u64(j, "total", rows[i].total);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);
}

void ich_json_problem(struct ich_json *j, bool with_heap, uint64_t heap, uint64_t address, const char *what)
{
	ich_json_begin_object(j, NULL);
	if (with_heap)
		ich_json_addr(j, "heap", heap);
	ich_json_addr(j, "address", address);
	ich_json_string(j, "what", what);
	ich_json_end_object(j);
}

void ich_json_heap_head(struct ich_json *j, const struct ich_heap *hp)
{
	ich_json_addr(j, "address", hp->address);
	ich_json_string(j, "kind", hp->kind == ICH_HEAP_KIND_NT ? "nt" :
			hp->kind == ICH_HEAP_KIND_SEGMENT ? "segment" :
			hp->kind == ICH_HEAP_KIND_PAGE ? "page" : "unknown");
	ich_json_string(j, "status", ich_status_name(ich_heap_status(hp)));
	if (hp->status != ICH_HEAP_OK) {
		ich_json_string(j, "reason", hp->reason);
		return;
	}
	ich_json_u64(j, "flags", hp->flags);
	char layout[96];
	snprintf(layout, sizeof(layout), "ntdll %s %u (%s)", ich_arch_name(hp->layout->arch),
		 hp->layout->build_min, hp->layout->label);
	ich_json_string(j, "layout", layout);
	ich_json_bool(j, "lfh", hp->lfh);
	if (hp->unlisted)
		ich_json_bool(j, "unlisted", true);	/* not in PEB.ProcessHeaps (24H2) */
}

void ich_json_heap_tail(struct ich_json *j, const struct ich_heap *hp)
{
	if (hp->status != ICH_HEAP_OK)
		return;
	ich_json_begin_array(j, "segments");
	for (size_t s = 0; s < hp->nsegments; s++) {
		const struct ich_heap_segment *sg = &hp->segments[s];
		ich_json_begin_object(j, NULL);
		ich_json_addr(j, "base", sg->base);
		ich_json_addr(j, "first_entry", sg->first_entry);
		ich_json_addr(j, "last_valid_entry", sg->last_valid_entry);
		ich_json_begin_array(j, "uncommitted");
		for (size_t u = 0; u < sg->nucr; u++) {
			ich_json_begin_object(j, NULL);
			ich_json_addr(j, "address", sg->ucr[u].address);
			ich_json_u64(j, "size", sg->ucr[u].size);
			ich_json_end_object(j);
		}
		ich_json_end_array(j);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);
	const struct ich_heap_totals *t = &hp->totals;
	ich_json_begin_object(j, "totals");
	ich_json_u64(j, "busy_count", t->busy_count);
	ich_json_u64(j, "busy_bytes", t->busy_bytes);
	ich_json_u64(j, "free_count", t->free_count);
	ich_json_u64(j, "free_bytes", t->free_bytes);
	ich_json_u64(j, "committed", t->committed);
	ich_json_u64(j, "reserved", t->reserved);
	ich_json_u64(j, "virtual_blocks", t->virtual_blocks);
	ich_json_u64(j, "uncommitted_ranges", t->ucr_count);
	ich_json_u64(j, "corrupt_count", t->corrupt_count);
	ich_json_end_object(j);
	ich_json_begin_array(j, "problems");
	for (size_t p = 0; p < hp->nproblems; p++)
		ich_json_problem(j, false, 0, hp->problems[p].address, hp->problems[p].what);
	ich_json_end_array(j);
	ich_json_begin_array(j, "unreadable");
	for (size_t i = 0; i < hp->nunreadable; i++) {
		const struct ich_heap_unreadable *u = &hp->unreadable[i];
		ich_json_begin_object(j, NULL);
		ich_json_addr(j, "address", u->address);
		ich_json_addr(j, "end", u->end);
		ich_json_addr(j, "page", u->page);
		ich_json_string(j, "reason", ich_miss_reason_name(u->why));
		ich_json_bool(j, "resynced", u->resynced);
		if (u->pte)
			ich_json_addr(j, "pte", u->pte);
		ich_json_end_object(j);
	}
	ich_json_end_array(j);
	ich_json_bool(j, "partial", hp->partial);
}

/* The key naming where the block lives: its segment (back end), the
 * UserBlocks container (LFH), its _HEAP_VIRTUAL_ALLOC_ENTRY (large block);
 * for segment heaps the VS/LFH subsegment, the page segment (backend
 * ranges) or the _HEAP_LARGE_ALLOC_DATA (large) it belongs to; NULL: none. */
static const char *block_where_key(const struct ich_heap_block *b)
{
	if (b->layer == ICH_LAYER_BACKEND)
		return "segment";
	if (b->layer == ICH_LAYER_LFH)
		return "container";
	if (b->layer == ICH_LAYER_VIRTUAL)
		return "virtual_alloc_entry";
	if (b->layer == ICH_LAYER_SEG_LARGE)
		return "large_alloc_data";
	if (b->layer >= ICH_LAYER_SEG_VS && b->layer <= ICH_LAYER_SEG_BACKEND)
		return b->layer == ICH_LAYER_SEG_BACKEND ? "segment" : "subsegment";
	return NULL;
}

/* json_block_compact writes the same fields in the same order
 * (e2e-json-compact compares the two outputs on every builder dump). */
void ich_json_block_fields(struct ich_json *j, const struct ich_heap_block *b)
{
	ich_json_addr(j, "header", b->header);
	ich_json_addr(j, "user", b->user);
	ich_json_u64(j, "size", b->size);
	ich_json_u64(j, "block_size", b->block_size);
	ich_json_u64(j, "unused", b->unused);
	ich_json_string(j, "state", ich_block_state_name(b->state));
	ich_json_string(j, "layer", ich_block_layer_name(b->layer));
	const char *where = block_where_key(b);
	if (where)
		ich_json_addr(j, where, b->segment);
}

/*
 * A compact block object is
 *   {"header":"0x<header>","user":"0x<user>","size":..,"block_size":..,
 *    "unused":..,"state":"..","layer":".."[,"<where>":"0x<segment>"]}
 * Everything after the user address's digits (the "tail") depends only on
 * size, block_size, unused, state, layer and, with a where-key, segment:
 * the blocks of an LFH container or a run of back-end blocks repeat a few
 * tails (busy of a few requested sizes, free).  Tails are rendered once
 * into a small cache keyed by those fields and copied with fixed-size
 * moves; a block costs two hex conversions and one cache probe (issue 12:
 * the three decimal conversions and the table copy per block were half of
 * heap -a --json).  The cache is static: the CLI renders on one thread.
 */
#define TAIL_SLOTS 16
#define TAIL_MAX 192	/* the longest tail (3 x 20 digits, the longest names) is 190 bytes */
#define TAIL_FAST 128	/* copied always; the rest only for longer tails */
struct tail_slot {
	/* rendered in place: 93 bytes of numbers at most, then a 72-byte
	 * copy of the state/layer text and 16 bytes of hex digits (both
	 * fixed-size stores past the text's end): room for 93 + 72 + 16 */
	_Alignas(16) char text[TAIL_MAX + 16];
	uint64_t size, block_size, unused, segment;
	uint32_t state, layer, len;
	bool valid;
};
static struct tail_slot tail_cache[TAIL_SLOTS];

/* The end of a tail after "unused": state, layer and the where-key up to
 * its address's digits, by state and layer (the last row/column: any
 * other value), built once from heap_find.c's names. */
#define SL_STATES 5
#define SL_LAYERS 9
#define SL_TEXT 72
static struct {
	uint32_t len;
	bool where;
	char text[SL_TEXT];
} sl_text[SL_STATES][SL_LAYERS];
static bool sl_ready;

static void sl_build(void)
{
	for (unsigned s = 0; s < SL_STATES; s++)
		for (unsigned l = 0; l < SL_LAYERS; l++) {
			struct ich_heap_block b = { .state = (enum ich_block_state)s, .layer = (enum ich_block_layer)l };
			const char *where = block_where_key(&b);
			int n = snprintf(sl_text[s][l].text, SL_TEXT, ",\"state\":\"%s\",\"layer\":\"%s\"%s%s%s",
					 ich_block_state_name(b.state), ich_block_layer_name(b.layer),
					 where ? ",\"" : "", where ? where : "", where ? "\":\"0x" : "");
			/* the names are heap_find.c's literals: they fit */
			sl_text[s][l].len = n > 0 && n < SL_TEXT ? (uint32_t)n : 0;
			sl_text[s][l].where = where != NULL;
		}
	sl_ready = true;
}

/* Render b's tail into t, straight into the slot (a miss costs what the
 * renderer cost before the cache: a dump whose blocks all differ, pbig's
 * page heap, misses on every block). */
static __attribute__((noinline)) void tail_render(struct tail_slot *t, const struct ich_heap_block *b, uint64_t segment)
{
	if (!sl_ready)
		sl_build();
	unsigned s = (unsigned)b->state < SL_STATES - 1 ? (unsigned)b->state : SL_STATES - 1;
	unsigned l = (unsigned)b->layer < SL_LAYERS - 1 ? (unsigned)b->layer : SL_LAYERS - 1;
	char *p = t->text;
	ICH_PUT_LIT(p, "\",\"size\":");
	p += ich_fmt_u64(p, b->size);
	ICH_PUT_LIT(p, ",\"block_size\":");
	p += ich_fmt_u64(p, b->block_size);
	ICH_PUT_LIT(p, ",\"unused\":");
	p += ich_fmt_u64(p, b->unused);
	memcpy(p, sl_text[s][l].text, SL_TEXT);
	p += sl_text[s][l].len;
	if (sl_text[s][l].where) {
		p += ich_fmt_hex(p, segment, 1);
		*p++ = '"';
	}
	*p++ = '}';
	t->len = (uint32_t)(p - t->text);
	t->size = b->size;
	t->block_size = b->block_size;
	t->unused = b->unused;
	t->segment = segment;
	t->state = (uint32_t)b->state;
	t->layer = (uint32_t)b->layer;
	t->valid = true;
}

/* b's tail: from the cache, rendered into it on a miss. */
static inline __attribute__((always_inline)) const struct tail_slot *tail_of(const struct ich_heap_block *b)
{
	/* the segment is part of the text only with a where-key
	 * (block_where_key: the layers up to ICH_LAYER_SEG_LARGE) */
	uint64_t segment = (unsigned)b->layer <= ICH_LAYER_SEG_LARGE ? b->segment : 0;
	/* state and layer read as the two 4-byte fields the walker stored
	 * (one 8-byte load over both cannot take their values from the
	 * store buffer: a store-forwarding stall, a quarter of this
	 * function's time in perf) */
	uint32_t st = (uint32_t)b->state, ly = (uint32_t)b->layer;
	uint64_t hsh = (b->unused + b->block_size * 31 + segment + st * 7u + ly * 13u) * 0x9E3779B97F4A7C15ull;
	struct tail_slot *t = &tail_cache[hsh >> 60];
	if (!t->valid || ((t->size ^ b->size) | (t->block_size ^ b->block_size) | (t->unused ^ b->unused) |
			  (t->segment ^ segment) | (uint64_t)((t->state ^ st) | (t->layer ^ ly))))
		tail_render(t, b, segment);
	return t;
}

/* The most a block object takes in the buffer: the head with both
 * addresses' 16-digit stores, and the tail's fixed-size moves. */
#define BLOCK_ROOM (64 + TAIL_MAX)

/* "{\"header\":\"0x<header>\",\"user\":\"0x<user>" at p; returns
 * the end (room: 64 bytes). */
static inline __attribute__((always_inline)) char *block_head(char *p, uint64_t header, uint64_t user)
{
	ICH_PUT_LIT(p, "{\"header\":\"0x");
#ifdef ICH_HEX_STORE
	/* both addresses' digits from one register */
	uint64_t hh, hl, uh, ul;
	ich_hex16x2_text(header, user, &hh, &hl, &uh, &ul);
	unsigned nh = ich_hex_digits(header), nu = ich_hex_digits(user);
	ich_hex_store(p, hh, hl, nh);
	p += nh;
	ICH_PUT_LIT(p, "\",\"user\":\"0x");
	ich_hex_store(p, uh, ul, nu);
	p += nu;
#else
	p += ich_fmt_hex(p, header, 1);
	ICH_PUT_LIT(p, "\",\"user\":\"0x");
	p += ich_fmt_hex(p, user, 1);
#endif
	return p;
}

/* The tail's text at p (fixed-size moves: past the tail's end is scratch
 * in the room); returns the end. */
static inline __attribute__((always_inline)) char *block_tail(char *p, const char *text, uint32_t len)
{
	memcpy(p, text, TAIL_FAST);
	if (len > TAIL_FAST)
		memcpy(p + TAIL_FAST, text + TAIL_FAST, TAIL_MAX - TAIL_FAST);
	return p + len;
}

_Static_assert(TAIL_MAX + 16 <= ICH_JSON_BLOCK_TAIL_ROOM, "block_tail's moves fit the room");

char *ich_json_block_tail_put(char *p, const struct ich_heap_block *b)
{
	const struct tail_slot *t = tail_of(b);
	return block_tail(p, t->text, t->len);
}

/* ich_json_block_fields' object rendered in one go for compact writers
 * (the buffer position stays in a register; every tail fits its slot). */
static inline __attribute__((always_inline)) void json_block_compact(struct ich_json *j, const struct ich_heap_block *b)
{
	const struct tail_slot *t = tail_of(b);
	char *o = ich_json_raw_begin(j, BLOCK_ROOM), *p = o;
	p = block_head(p, b->header, b->user);
	p = block_tail(p, t->text, t->len);
	ich_json_raw_end(j, (size_t)(p - o));
}

/* ich_json_block's body, inlined into it and into the walk callback (a
 * call per block less on heap -a --json's path). */
static inline __attribute__((always_inline)) void json_block(struct ich_json *j, const struct ich_heap_block *b)
{
	if (!ich_json_is_pretty(j)) {
		json_block_compact(j, b);
		return;
	}
	ich_json_begin_object(j, NULL);
	ich_json_block_fields(j, b);
	ich_json_end_object(j);
}

void ich_json_block(struct ich_json *j, const struct ich_heap_block *b)
{
	json_block(j, b);
}

struct ich_error *ich_json_block_cb(const struct ich_heap *hp, const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	json_block(arg, b);
	return NULL;
}

/*
 * A run of blocks (ich_heap_walk_runs) as the objects ich_json_block
 * writes one by one: each kind's tail is looked up once per run and the
 * blocks are written from it, the buffer's room checked against a
 * limit held in a register (issue 12: the cache probe, the call and the
 * writer's bookkeeping per block were most of the renderer's cost).
 * The run's tails are copied out of the cache (static: the CLI renders
 * on one thread), since two of its kinds may share a cache slot.
 */
static struct {
	_Alignas(16) char text[TAIL_MAX + 16];
	uint32_t len;
} run_tail[256];

/* How many of the at most n addresses a, a + stride, ... keep a's nd hex
 * digits (at least 1): they stay below 16^nd without wrapping past 2^64. */
static inline size_t same_digits(uint64_t a, unsigned nd, uint64_t stride, size_t n)
{
	if (!stride)
		return n;
	/* 16^nd - a, as 2^64 - a when nd is 16 (a >= 2^60: never 0) */
	uint64_t room = (nd < 16 ? 1ull << (4 * nd) : 0) - a;
	uint64_t k = (room - 1) / stride + 1;
	return k < n ? (size_t)k : n;
}

/* How many of the at most n addresses a, a + stride, ... keep a's high
 * 32 bits (at least 1). */
static inline size_t same_high(uint64_t a, uint64_t stride, size_t n)
{
	if (!stride)
		return n;
	uint64_t room = (1ull << 32) - (uint32_t)a;	/* to the next 2^32 */
	uint64_t k = (room - 1) / stride + 1;
	return k < n ? (size_t)k : n;
}

/*
 * x64 heaps (both addresses over 8 digits): a stretch of a run's blocks
 * where neither address changes its digit count or its high 32 bits.  Per
 * kind, the whole object ",{\"header\":\"0x<hhh>........\",\"user\":
 * \"0x<uuu>........<tail>" is built once for the stretch (the addresses'
 * first nh - 8 and nu - 8 digits are fixed in it); a block is its kind's
 * template copied in 32-byte moves, and the low 8 digits of both
 * addresses (converted in one register) stored over the dots (issue 12:
 * 7 stores a segment-heap block where the head and the tail took 14).
 * Where header and user are one address (a segment heap's LFH), one
 * conversion gives two blocks' digits.  The lines ahead of the stores are
 * requested as they go (core/write_ahead.h).  Compiled twice: for the x86-64 baseline (a 32-byte move is two SSE2
 * stores) and, where the compiler can, for AVX2 (one store), chosen at
 * run time (run_stretch_fn); tests run both (ich_json_run_path).
 */
#define TMPL_MAX 256	/* the head's 26 + 16 + 16 bytes, then TAIL_MAX bytes of tail copied: 250, in 32-byte moves */
/* the tail's copy fits the template, the moves (5 always, up to TMPL_MAX)
 * read only the template and write only the room */
_Static_assert(26 + 16 + 16 + TAIL_MAX <= TMPL_MAX && TMPL_MAX % 32 == 0 && TMPL_MAX >= 160 && TMPL_MAX <= BLOCK_ROOM,
	       "a template's copies and moves fit the template and the room");
/* each kind's template, then its length (apart: a template's address is
 * the kind shifted, not multiplied) */
static _Alignas(32) char run_tmpl[256][TMPL_MAX];
static uint32_t run_tmpl_len[256];

/* 32 bytes from an aligned template (src) to anywhere.  The AVX2 build
 * (wide) moves them as a vector type, one load and one store (gcc 12
 * moves a 32-byte memcpy as two 16-byte halves even there); the baseline
 * build as a memcpy, two 16-byte moves (the vector type without AVX went
 * through the stack there: 5.1 vs 4.2 read passes for seg.dmp).  Always
 * inlined, so wide is a constant and the move is compiled with the
 * target of the build it is in. */
typedef char move32u __attribute__((vector_size(32), aligned(1), may_alias));
typedef char move32a __attribute__((vector_size(32), may_alias));
static inline __attribute__((always_inline)) void move32(char *dst, const char *src, const bool wide)
{
	if (wide)
		*(move32u *)(void *)dst = *(const move32a *)(const void *)src;
	else
		memcpy(dst, src, 32);
}

typedef char *run_stretch_t(struct ich_json *j, char *p, const uint8_t *kind, unsigned nkinds, size_t i,
			    size_t end, uint64_t hdr, uint64_t usr, uint64_t stride, unsigned nh, unsigned nu);

/* One block from kind k's template at p, the low 8 digits of its header
 * (dh) and user (du) stored over the template's; returns the end. */
static inline __attribute__((always_inline)) char *run_put(char *p, unsigned k, uint64_t dh, uint64_t du,
							   unsigned nh, unsigned nu, const bool wide)
{
	const char *t = run_tmpl[k];
	uint32_t len = run_tmpl_len[k];
	/* the lines the blocks after this one go to (a block is ~150 bytes) */
	ich_write_ahead_record(p);
	/* 5 moves always (past the object's end: scratch in the room),
	 * then the rest */
	move32(p, t, wide);
	move32(p + 32, t + 32, wide);
	move32(p + 64, t + 64, wide);
	move32(p + 96, t + 96, wide);
	move32(p + 128, t + 128, wide);
	for (uint32_t o = 160; o < len; o += 32)
		move32(p + o, t + o, wide);
	memcpy(p + 6 + nh, &dh, 8);
	memcpy(p + 18 + nh + nu, &du, 8);
	return p + len;
}

static inline __attribute__((always_inline)) char *run_stretch_body(struct ich_json *j, char *p, const uint8_t *kind,
								    unsigned nkinds, size_t i, size_t end, uint64_t hdr,
								    uint64_t usr, uint64_t stride, unsigned nh,
								    unsigned nu, const bool wide, const bool same)
{
	uint64_t hh, hl, uh, ul;
	ich_hex16x2_text(hdr, usr, &hh, &hl, &uh, &ul);
	hh >>= 8 * (16 - nh);
	uh >>= 8 * (16 - nu);
	for (unsigned k = 0; k < nkinds; k++) {
		/* 14 and 12 bytes, each stored as 16 (the rest: scratch the
		 * digits and the next part overwrite) */
		char *t = run_tmpl[k];
		memcpy(t, ",{\"header\":\"0x\0", 16);
		memcpy(t + 14, &hh, 8);
		memcpy(t + 6 + nh, &hl, 8);
		memcpy(t + 14 + nh, "\",\"user\":\"0x\0\0\0", 16);
		memcpy(t + 26 + nh, &uh, 8);
		memcpy(t + 18 + nh + nu, &ul, 8);
		memcpy(t + 26 + nh + nu, run_tail[k].text, TAIL_MAX);
		run_tmpl_len[k] = 26 + nh + nu + run_tail[k].len;
	}
	/* same (header and user one address, as in a segment heap's LFH):
	 * two blocks a turn, their digits from one conversion */
	const size_t room = (same ? 2 : 1) * (BLOCK_ROOM + 1);
	/* that many blocks (and their commas) fit below lim */
	const char *lim = j->buf + ICH_JSON_BUF - room;
	for (;;) {
		if (p > lim) {
			j->len = (size_t)(p - j->buf);
			p = ich_json_raw_room(j, room);
		}
		/* the low 8 digits of the header (hl) and the user (ul), or
		 * of this block's address and the next one's */
		ich_hex16_text((uint64_t)(uint32_t)hdr << 32 | (uint32_t)(same ? hdr + stride : usr), &hl, &ul);
		if (same) {
			p = run_put(p, kind[i], hl, hl, nh, nu, wide);
			if (++i == end)
				break;
			p = run_put(p, kind[i], ul, ul, nh, nu, wide);
			if (++i == end)
				break;
			hdr += 2 * stride;
			continue;
		}
		p = run_put(p, kind[i], hl, ul, nh, nu, wide);
		if (++i == end)
			break;
		hdr += stride;
		usr += stride;
	}
	return p;
}

static __attribute__((noinline)) char *run_stretch_base(struct ich_json *j, char *p, const uint8_t *kind,
							 unsigned nkinds, size_t i, size_t end, uint64_t hdr,
							 uint64_t usr, uint64_t stride, unsigned nh, unsigned nu)
{
	if (hdr == usr)
		return run_stretch_body(j, p, kind, nkinds, i, end, hdr, usr, stride, nh, nu, false, true);
	return run_stretch_body(j, p, kind, nkinds, i, end, hdr, usr, stride, nh, nu, false, false);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define RUN_STRETCH_AVX2 1
static __attribute__((noinline, target("avx2"))) char *run_stretch_avx2(struct ich_json *j, char *p,
									 const uint8_t *kind, unsigned nkinds,
									 size_t i, size_t end, uint64_t hdr,
									 uint64_t usr, uint64_t stride, unsigned nh,
									 unsigned nu)
{
	if (hdr == usr)
		return run_stretch_body(j, p, kind, nkinds, i, end, hdr, usr, stride, nh, nu, true, true);
	return run_stretch_body(j, p, kind, nkinds, i, end, hdr, usr, stride, nh, nu, true, false);
}
#endif

/* The templates store each address's digits as two 8-byte words whose
 * first digit is the lowest byte (ich_hex16_text): little-endian hosts
 * only (ICH_HEX_STORE, fmt.h); elsewhere every block goes through the
 * per-block loop, which writes its digits byte-wise. */
#ifdef ICH_HEX_STORE
#define RUN_TEMPLATES 1
#else
#define RUN_TEMPLATES 0
#endif

/* 0: chosen by the CPU on first use; 1: baseline; 2: AVX2. */
static int run_path;

int ich_json_run_path(int path)
{
#ifdef RUN_STRETCH_AVX2
	if (path == 2 && !__builtin_cpu_supports("avx2"))
		return -1;
#else
	if (path == 2)
		return -1;
#endif
	if (path < 0 || path > 2)
		return -1;
	int was = run_path;
	run_path = path;
	return was;
}

static inline run_stretch_t *run_stretch_fn(void)
{
#ifdef RUN_STRETCH_AVX2
	if (!run_path)
		run_path = __builtin_cpu_supports("avx2") ? 2 : 1;
	if (run_path == 2)
		return run_stretch_avx2;
#endif
	return run_stretch_base;
}

void ich_json_block_run(struct ich_json *j, const struct ich_heap_block_run *r)
{
	if (!r->count)
		return;
	if (ich_json_is_pretty(j)) {
		for (size_t i = 0; i < r->count; i++) {
			struct ich_heap_block b;
			ich_heap_run_block(r, i, &b);
			json_block(j, &b);
		}
		return;
	}
	struct ich_heap_block b;
	for (unsigned k = 0; k < r->nkinds; k++) {
		ich_heap_run_kind_block(r, k, &b);
		const struct tail_slot *t = tail_of(&b);
		memcpy(run_tail[k].text, t->text, TAIL_MAX);
		run_tail[k].len = t->len;
	}
	uint64_t hdr = r->tmpl.header, usr = r->tmpl.user, stride = r->stride;
	const uint8_t *kind = r->kind;
	char *p = ich_json_raw_begin(j, BLOCK_ROOM);
	/* a comma and a block fit below lim */
	const char *lim = j->buf + ICH_JSON_BUF - (BLOCK_ROOM + 1);
	p = block_head(p, hdr, usr);
	p = block_tail(p, run_tail[kind[0]].text, run_tail[kind[0]].len);
	for (size_t i = 1, n = r->count; i < n;) {
		hdr += stride;
		usr += stride;
		/* the blocks from i on whose addresses keep their digit counts */
		unsigned nh = ich_hex_digits(hdr), nu = ich_hex_digits(usr);
		size_t end = i + same_digits(hdr, nh, stride, n - i);
		end = i + same_digits(usr, nu, stride, end - i);
		if (RUN_TEMPLATES && nh > 8 && nu > 8) {
			/* x64 heaps: a stretch where neither address's high 32
			 * bits change, written from whole-object templates when
			 * it is long enough to pay for building one per kind
			 * (a stride near 2^32 makes stretches of one block) */
			end = i + same_high(hdr, stride, end - i);
			end = i + same_high(usr, stride, end - i);
			if ((end - i) * 4 >= r->nkinds) {
				p = run_stretch_fn()(j, p, kind, r->nkinds, i, end, hdr, usr, stride, nh, nu);
				hdr += (uint64_t)(end - 1 - i) * stride;
				usr += (uint64_t)(end - 1 - i) * stride;
				i = end;
				continue;
			}
		}
		uintptr_t pf = (uintptr_t)p;
		for (;;) {
			if (p > lim) {
				j->len = (size_t)(p - j->buf);
				p = ich_json_raw_room(j, BLOCK_ROOM + 1);
				pf = (uintptr_t)p;
			}
			pf = ich_write_ahead(pf, p);
			uint32_t len = run_tail[kind[i]].len;
			const char *text = run_tail[kind[i]].text;
			*p++ = ',';
			p = block_head(p, hdr, usr);
			p = block_tail(p, text, len);
			if (++i == end)
				break;
			hdr += stride;
			usr += stride;
		}
	}
	j->len = (size_t)(p - j->buf);
}

struct ich_error *ich_json_block_run_cb(const struct ich_heap *hp, const struct ich_heap_block_run *r, void *arg)
{
	(void)hp;
	ich_json_block_run(arg, r);
	return NULL;
}

void ich_json_frames(struct ich_json *j, const char *key, struct ich_dump *dump, const struct ich_stack *s)
{
	if (!s) {
		ich_json_null(j, key);
		return;
	}
	ich_json_begin_array(j, key);
	for (unsigned i = 0; i < s->depth; i++) {
		char mod[128];
		uint64_t off = 0;
		ich_json_begin_object(j, NULL);
		ich_json_addr(j, "address", s->frames[i]);
		if (ich_frame_module(dump, s->frames[i], mod, sizeof(mod), &off)) {
			ich_json_string(j, "module", mod);
			ich_json_addr(j, "offset", off);
		} else {
			ich_json_null(j, "module");
		}
		ich_json_end_object(j);
	}
	ich_json_end_array(j);
}

void ich_json_diff_totals(struct ich_json *j, const struct ich_diff *df)
{
	ich_json_u64(j, "old_count", df->old_count);
	ich_json_u64(j, "old_bytes", df->old_bytes);
	ich_json_u64(j, "new_count", df->new_count);
	ich_json_u64(j, "new_bytes", df->new_bytes);
	ich_json_i64(j, "count_growth", (int64_t)(df->new_count - df->old_count));
	ich_json_i64(j, "bytes_growth", (int64_t)(df->new_bytes - df->old_bytes));
	ich_json_u64(j, "old_heaps_skipped", df->old_heaps_skipped);
	ich_json_u64(j, "new_heaps_skipped", df->new_heaps_skipped);
}

void ich_json_diff_row(struct ich_json *j, struct ich_dump *dump, const struct ich_diff_row *r)
{
	ich_json_begin_object(j, NULL);
	if (r->by_stack)
		ich_json_frames(j, "frames", dump, &r->stack);
	else
		ich_json_u64(j, "size", r->size);
	ich_json_u64(j, "old_count", r->old_count);
	ich_json_u64(j, "old_bytes", r->old_bytes);
	ich_json_u64(j, "new_count", r->new_count);
	ich_json_u64(j, "new_bytes", r->new_bytes);
	ich_json_i64(j, "count_growth", r->count_growth);
	ich_json_i64(j, "bytes_growth", r->bytes_growth);
	ich_json_end_object(j);
}

void ich_json_icp_type(struct ich_json *j, const char *key, const struct ich_ktype *t)
{
	ich_json_begin_object(j, key);
	ich_json_addr(j, "address", t->address);
	ich_json_u64(j, "index", t->index);
	ich_json_u64(j, "total_objects", t->objects);
	ich_json_u64(j, "total_handles", t->handles);
	ich_json_bool(j, "type_list_maintained", t->list_maintained);
	ich_json_end_object(j);
}

void ich_json_icp_object(struct ich_json *j, const struct ich_icp_object *o, bool holders)
{
	ich_json_begin_object(j, NULL);
	ich_json_addr(j, "address", o->address);
	ich_json_i64(j, "queued", o->queued);
	ich_json_u64(j, "entry_list_length", o->list_length);
	ich_json_i64(j, "maximum", o->maximum);
	ich_json_u64(j, "threads", o->threads);
	ich_json_u64(j, "pool_bytes", o->pool_bytes);
	ich_json_u64(j, "pool_blocks", o->pool_blocks);
	if (o->pool_tag[0])
		ich_json_string(j, "pool_tag", o->pool_tag);
	if (o->pool_unknown)
		ich_json_u64(j, "pool_unknown_packets", o->pool_unknown);
	if (o->problem[0])
		ich_json_string(j, "problem", o->problem);
	if (holders) {
		ich_json_begin_array(j, "holders");
		for (size_t h = 0; h < o->nholders; h++) {
			ich_json_begin_object(j, NULL);
			ich_json_u64(j, "pid", o->holders[h].pid);
			ich_json_string(j, "process", o->holders[h].process);
			ich_json_addr(j, "handle", o->holders[h].handle);
			ich_json_u64(j, "access", o->holders[h].access);
			ich_json_end_object(j);
		}
		ich_json_end_array(j);
	}
	ich_json_end_object(j);
}

int ich_json_failure(struct ich_json *j, const char *schema, const char *path, int rc)
{
	struct ich_json own;
	if (!j) {
		ich_json_init(&own, stdout, true);
		j = &own;
	}
	const char *code = NULL, *msg = ich_cli_last_error(&code);
	ich_json_begin_object(j, NULL);
	ich_json_string(j, "schema", schema);
	ich_json_string(j, "path", path);
	ich_json_error_obj(j, "error", msg ? code : "internal",
			   msg ? msg : "the command failed without an error message (a bug)");
	ich_json_end_object(j);
	if (j == &own)
		ich_json_finish(j);
	return rc;
}

void ich_text_stack(FILE *f, const struct ich_crash *c, const char *indent)
{
	for (size_t i = 0; i < c->nframes; i++) {
		char loc[96];
		const struct ich_frame *fr = &c->frames[i];
		fprintf(f, "%s#%-2zu %-40s (%s)\n", indent, i, ich_frame_location(fr, loc, sizeof(loc)),
			ich_frame_trust_name(fr->trust));
	}
	if (c->stack_note[0])
		fprintf(f, "%s(%s)\n", indent, c->stack_note);
}
