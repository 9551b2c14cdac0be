/* SPDX-License-Identifier: MIT */
/*
 * Kernel-dump sections of `icpheap analyze`: processes and the !icpleak
 * answer (top queue with holders, the next few), IoCompletion type counts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <icpheap/kdump.h>
#include <icpheap/kernel.h>
#include <icpheap/pool.h>

#include "cli/analyze_sections.h"
#include "cli/records.h"

#define NEXT_QUEUES 5

/* The tracker table's view of the packets' tag (!poolused, the check the
 * !icpleak documentation advises) next to the packets' own pool headers:
 * the two should agree when every packet of the tag is queued. */
static void icp_tracker_view(struct ich_kernel *k, const struct ich_icp_result *res,
			     struct ich_report *r)
{
	const char *tag = res->nobjects && res->objects[0].pool_tag[0] ? res->objects[0].pool_tag : "IoCp";
	uint64_t queued_bytes = 0, queued_blocks = 0;
	for (size_t i = 0; i < res->nobjects; i++) {
		const struct ich_icp_object *o = &res->objects[i];
		if (!strncmp(o->pool_tag, tag, 4)) {
			queued_bytes += o->pool_bytes;
			queued_blocks += o->pool_blocks;
		}
	}
	struct ich_pool_usage *u = NULL;
	struct ich_error *err = ich_kernel_pool_usage(k, &u);
	const struct ich_pool_tag *t = u ? ich_pool_usage_find(u, tag) : NULL;
	char hs[32], hq[32];
	if (r->text) {
		if (err)
			fprintf(r->text, "pool tag '%s' (pool tracker table, !poolused): unavailable: %s\n", tag, err->message);
		else
			fprintf(r->text, "pool tag '%s' (pool tracker table, !poolused): %s nonpaged in %" PRId64 " allocations%s; queued packets' pool headers: %s in %" PRIu64 " blocks\n",
				tag, ich_human_size(t ? t->np_bytes : 0, hs, sizeof(hs)),
				t ? (int64_t)(t->np_allocs - t->np_frees) : 0,
				u->partial ? " (partial: see poolused -v)" : "",
				ich_human_size(queued_bytes, hq, sizeof(hq)), queued_blocks);
	}
	if (r->json) {
		ich_json_begin_object(r->json, "pool_tracker");
		ich_json_string(r->json, "tag", tag);
		if (err) {
			ich_json_error(r->json, "error", err);	/* the one error object */
		} else {
			ich_json_u64(r->json, "nonpaged_bytes", t ? t->np_bytes : 0);
			ich_json_i64(r->json, "nonpaged_outstanding", t ? (int64_t)(t->np_allocs - t->np_frees) : 0);
			ich_json_u64(r->json, "paged_bytes", t ? t->p_bytes : 0);
			ich_json_bool(r->json, "partial", u->partial);
		}
		ich_json_u64(r->json, "queued_packets_bytes", queued_bytes);
		ich_json_u64(r->json, "queued_packets_blocks", queued_blocks);
		ich_json_end_object(r->json);
	}
	if (err)
		ich_report_note(r, "poolused: %s", err->message);
	ich_error_destroy(err);
	ich_pool_usage_free(u);
}

struct kctx {
	struct ich_kernel *k;
	struct ich_error *err;
	enum ich_error_code fail;	/* why the model or !icpleak failed; 0 none */
	bool icp_ok;
};

static enum ich_status sec_processes(struct ich_dump *dump, struct ich_report *r)
{
	(void)dump;
	struct ich_kernel *k = ((struct kctx *)r->ctx)->k;
	struct ich_error *kerr = ((struct kctx *)r->ctx)->err;
	if (!k) {
		if (r->text)
			fprintf(r->text, "cannot list processes: %s\n", kerr->message);
		if (r->json)
			ich_json_error(r->json, "error", kerr);
		return ICH_STATUS_FAILED;
	}
	size_t n = ich_kernel_process_count(k);
	bool partial = ich_kernel_processes_partial(k);
	if (r->text)
		fprintf(r->text, "%zu processes%s\n", n, partial ? " (list incomplete)" : "");
	if (r->json) {
		ich_json_u64(r->json, "count", n);
		ich_json_begin_array(r->json, "warnings");
		for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
			ich_json_string(r->json, NULL, ich_kernel_warning(k, i));
		ich_json_end_array(r->json);
	}
	if (r->text)
		for (size_t i = 0; i < ich_kernel_warning_count(k); i++)
			fprintf(r->text, "warning: %s\n", ich_kernel_warning(k, i));
	return partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
}

static enum ich_status sec_icpleak(struct ich_dump *dump, struct ich_report *r)
{
	struct ich_kernel *k = ((struct kctx *)r->ctx)->k;
	if (!k) {
		if (r->text)
			fprintf(r->text, "skipped: no kernel model\n");
		return ICH_STATUS_SKIPPED;
	}
	struct ich_icp_result *res;
	struct ich_error *err = ich_kernel_icpleak(k, true, &res);
	if (err) {
		ich_report_note(r, "icpleak: %s", err->message);
		((struct kctx *)r->ctx)->fail = err->code;
		if (r->text)
			fprintf(r->text, "cannot answer: %s\n", err->message);
		if (r->json)
			ich_json_error(r->json, "error", err);
		ich_error_destroy(err);
		return ICH_STATUS_FAILED;
	}
	int w = ich_as_ptr_size(ich_dump_as(dump)) == 4 ? 8 : 16;
	const struct ich_ktype *t = res->type;
	if (r->text) {
		fprintf(r->text, "IoCompletion type %0*" PRIx64 " (index %#x): %u objects, %u handles; type list %s; objects found through %s\n",
			w, t->address, t->index, t->objects, t->handles,
			t->list_maintained ? "maintained" : "not maintained",
			res->source == ICH_ICP_TYPE_LIST ? "the type list" :
			"every process's handle table (objects without a handle are not seen)");
		if (!res->nobjects)
			fprintf(r->text, "No IoCompletion objects found.\n");
		else
			fprintf(r->text, "%-*s  %10s  %8s  %7s\n", w, "Object", "Queued", "Maximum", "Threads");
		for (size_t i = 0; i < res->nobjects && i <= NEXT_QUEUES; i++) {
			const struct ich_icp_object *o = &res->objects[i];
			fprintf(r->text, "%0*" PRIx64 "  %10d  %8d  %7" PRIu64 "%s%s\n", w, o->address,
				o->queued, o->maximum, o->threads, o->problem[0] ? "  ! " : "", o->problem);
			if (i == 0 && o->pool_blocks) {
				char hs[32];
				fprintf(r->text, "    pool held by its packets: %s in %" PRIu64 " blocks tagged '%s'%s (from their pool headers)\n",
					ich_human_size(o->pool_bytes, hs, sizeof(hs)), o->pool_blocks, o->pool_tag,
					o->pool_tags_mixed ? " and others" : "");
			}
			if (i == 0)
				for (size_t h = 0; h < o->nholders; h++)
					fprintf(r->text, "    Cid: %04x  Image: %-15s  Handle: %04" PRIx64 "  GrantedAccess: %08x\n",
						o->holders[h].pid, o->holders[h].process,
						o->holders[h].handle, o->holders[h].access);
		}
	}
	if (r->json) {
		/* the records icpleak --json writes: the type, the deepest
		 * queues (the first NEXT_QUEUES + 1 of them) */
		ich_json_icp_type(r->json, "type", t);
		ich_json_string(r->json, "source", ich_icp_source_name(res->source));
		ich_json_bool(r->json, "partial", res->partial);
		ich_json_u64(r->json, "objects_found", res->nobjects);
		ich_json_begin_array(r->json, "objects");
		for (size_t i = 0; i < res->nobjects && i <= NEXT_QUEUES; i++)
			ich_json_icp_object(r->json, &res->objects[i], true);
		ich_json_end_array(r->json);
	}
	icp_tracker_view(k, res, r);
	if (res->nobjects) {
		const struct ich_icp_object *top = &res->objects[0];
		const struct ich_fail_on *fo = &r->opts->fail_on;
		if (top->queued >= 0 &&
		    ich_fail_on_over(fo->icp_queue, fo->icp_queue_ge, fo->icp_queue_max, (uint64_t)top->queued)) {
			struct ich_finding *f = ich_report_finding(r, ICH_FINDING_ICP_QUEUE, ICH_SEV_ERROR,
				"IoCompletion 0x%" PRIx64 " holds %d queued entr%s (threshold %s%" PRIu64 ")%s%s",
				top->address, top->queued, top->queued == 1 ? "y" : "ies",
				fo->icp_queue_ge ? ">=" : ">", fo->icp_queue_max,
				top->nholders ? ", held by " : "", top->nholders ? top->holders[0].process : "");
			if (f) {
				f->has_address = true;
				f->address = top->address;
				f->count = (uint64_t)top->queued;
				char d[64];
				snprintf(d, sizeof(d), "held by %s", top->nholders ? top->holders[0].process : "nobody");
				ich_report_finding_done(r, f, d);
			}
		}
	}
	enum ich_status st = res->partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
	((struct kctx *)r->ctx)->icp_ok = true;
	if (res->source == ICH_ICP_HANDLE_TABLES)
		ich_report_note(r, "type lists are not maintained: IoCompletion objects were found through handle tables; objects without an open handle are not seen");
	ich_icp_result_free(res);
	return st;
}

void ich_report_kernel_sections(struct ich_dump *dump, struct ich_report *r)
{
	struct kctx c = { NULL, NULL, 0, false };
	c.err = ich_kernel_open(dump, r->opts->build, &c.k);
	if (c.err) {
		ich_report_note(r, "kernel objects: %s", c.err->message);
		c.fail = c.err->code;
	}
	r->ctx = &c;
	ich_report_section(r, "Processes", "processes", sec_processes, dump);
	ich_report_section(r, "I/O completion queues (!icpleak 1)", "icpleak", sec_icpleak, dump);
	ich_report_process_heaps(dump, r, c.k);	/* analyze_process.c */
	if (c.k && r->opts->verbose && r->text)
		for (size_t i = 0; i < ich_kernel_note_count(c.k); i++)
			fprintf(r->text, "note: %s\n", ich_kernel_note(c.k, i));
	/* The kernel-object section's status: a triage dump, or memory the
	 * walk needs that is not in the dump, is "no-data". */
	if (c.icp_ok) {
		r->heap_status = r->partial ? ICH_STATUS_PARTIAL : ICH_STATUS_COMPLETE;
	} else {
		const struct ich_kdump *kd = ich_dump_kdump(dump);
		bool triage = kd && strstr(ich_dump_kind_name(dump), "triage");
		(void)kd;
		r->heap_status = triage || c.fail == ICH_ERR_FAULT ? ICH_STATUS_NO_DATA : ICH_STATUS_FAILED;
		snprintf(r->advice, sizeof(r->advice), "%s",
			 r->heap_status == ICH_STATUS_NO_DATA ?
			 "the dump does not hold the kernel objects; capture a kernel memory dump or a complete memory dump (CrashDumpEnabled 2 or 1), not a triage or small memory dump" :
			 "the kernel objects could not be read (see the notes)");
	}
	ich_kernel_close(c.k);
	ich_error_destroy(c.err);
	r->ctx = NULL;
}
