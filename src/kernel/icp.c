/* SPDX-License-Identifier: MIT */
/*
 * I/O completion queues (!icpleak).  An IoCompletion object's body is a
 * KQUEUE (layouts.md §8): Header.SignalState is the number of queued
 * entries, cross-checked here by counting EntryListHead.
 *
 * Objects are found through the IoCompletion type's TypeList when the
 * system maintains type lists (FLG_MAINTAIN_OBJECT_TYPELIST, the only mode
 * WinDbg's !icpleak supports); otherwise through every process's handle
 * table, which cannot see objects that no handle refers to.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "kernel/kernel_internal.h"

#define MAX_OBJECTS 1000000
#define MAX_QUEUE_WALK 100000000ull	/* entries counted per queue */

struct objset {
	struct ich_icp_object *v;
	size_t n, cap;
};

static struct ich_icp_object *objset_add(struct objset *s, uint64_t addr)
{
	if (s->n >= MAX_OBJECTS)
		return NULL;
	if (!ICH_ARRAY_RESERVE(s->v, s->n, s->cap, 64))
		return NULL;
	struct ich_icp_object *o = &s->v[s->n++];
	memset(o, 0, sizeof(*o));
	o->address = addr;
	return o;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ich_icp_object *x = a, *y = b;
	return x->address < y->address ? -1 : x->address > y->address;
}

static int cmp_depth(const void *a, const void *b)
{
	const struct ich_icp_object *x = a, *y = b;
	if (x->queued != y->queued)
		return x->queued > y->queued ? -1 : 1;
	return x->address < y->address ? -1 : x->address > y->address;
}

static struct ich_icp_object *objset_find(struct objset *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (s->v[m].address < addr)
			lo = m + 1;
		else if (s->v[m].address > addr)
			hi = m;
		else
			return &s->v[m];
	}
	return NULL;
}

static struct ich_error *count_cb(uint64_t e, void *arg)
{
	(void)e;
	(*(uint64_t *)arg)++;
	return NULL;
}

/*
 * The pool block of one queued packet.  A mini completion packet
 * (_IO_MINI_COMPLETION_PACKET_USER, ListEntry at +0, layouts.md §8) is a
 * pool allocation of its own, so its _POOL_HEADER sits right before it:
 * x64 (0x10 bytes) PreviousSize:8, PoolIndex:8 | BlockSize:8 at +2,
 * PoolType:8 | PoolTag +4 | ProcessBilled +8; x86 (8 bytes) PreviousSize:9,
 * PoolIndex:7 | BlockSize:9 at +2, PoolType:7 | PoolTag +4 (the x64
 * `dt nt!_POOL_HEADER` and its Vergilius rendering quoted in a public
 * write-up, and a PDB-derived x86 _POOL_HEADER header, both found with the
 * code search; WRK pool.h: "the size fields of the pool header are
 * expressed in units of the smallest pool block size", 16 x64 / 8 x86).
 * A header whose tag is not printable ASCII or whose BlockSize is 0 is
 * not counted (an IRP is queued through Tail.Overlay.ListEntry, not at its
 * start, so its pool header is not in front of the list entry).
 */
struct pool_sum {
	struct ich_kernel *k;
	struct ich_icp_object *o;
	uint64_t n;
};

static struct ich_error *pool_cb(uint64_t e, void *arg)
{
	struct pool_sum *ps = arg;
	ps->n++;
	unsigned hdr = ps->k->ptr == 8 ? 0x10 : 8;
	uint8_t b[8];
	struct ich_icp_object *o = ps->o;
	if (ich_as_read(ps->k->as, e - hdr, b, 8, NULL) != 8) {
		o->pool_unknown++;
		return NULL;
	}
	uint64_t units = ps->k->ptr == 8 ? b[2] : (uint64_t)((b[2] | (b[3] << 8)) & 0x1FF);
	bool printable = true;
	for (int i = 4; i < 8; i++)
		printable &= b[i] >= 0x20 && b[i] < 0x7F;
	if (!units || !printable) {
		o->pool_unknown++;
		return NULL;
	}
	o->pool_bytes += units * (ps->k->ptr == 8 ? 16 : 8);
	o->pool_blocks++;
	if (!o->pool_tag[0])
		memcpy(o->pool_tag, b + 4, 4);
	else if (memcmp(o->pool_tag, b + 4, 4))
		o->pool_tags_mixed = true;
	return NULL;
}

/* Fill the queue figures of one KQUEUE. */
static void read_queue(struct ich_kernel *k, struct ich_icp_object *o)
{
	const struct kofs *of = &k->o;
	uint32_t v;
	struct ich_error *err = ich_as_read_u32(k->as, o->address + (uint64_t)of->kq_signal_state, &v);
	if (err) {
		snprintf(o->problem, sizeof(o->problem), "KQUEUE unreadable: %s", err->message);
		ich_error_destroy(err);
		return;
	}
	o->queued = (int32_t)v;
	/* The same KQUEUE as SignalState: these fail only if it straddles a
	 * page that is not captured; the queue figures then stay 0. */
	if (ich_error_ok(ich_as_read_u32(k->as, o->address + (uint64_t)of->kq_maximum, &v)))
		o->maximum = (int32_t)v;
	if (ich_error_ok(ich_as_read_u32(k->as, o->address + (uint64_t)of->kq_current, &v)))
		o->current = (int32_t)v;
	struct pool_sum ps = { k, o, 0 };
	err = ich_as_list_walk(k->as, o->address + (uint64_t)of->kq_entry_list,
			       MAX_QUEUE_WALK, false, pool_cb, &ps, NULL);
	uint64_t n = ps.n;
	o->list_length = n;
	o->list_complete = err == NULL;
	if (err) {
		snprintf(o->problem, sizeof(o->problem), "entry list: %s", err->message);
		ich_error_destroy(err);
	} else if (o->queued >= 0 && (uint64_t)o->queued != n) {
		snprintf(o->problem, sizeof(o->problem),
			 "SignalState says %d queued entries but EntryListHead holds %" PRIu64,
			 o->queued, n);
	}
	n = 0;
	err = ich_as_list_walk(k->as, o->address + (uint64_t)of->kq_thread_list,
			       100000, false, count_cb, &n, NULL);
	o->threads = n;
	ich_error_destroy(err);
}

struct type_list_walk {
	struct ich_kernel *k;
	struct objset *s;
};

static struct ich_error *type_list_cb(uint64_t node, void *arg)
{
	struct type_list_walk *w = arg;
	uint64_t body = node + (uint64_t)w->k->o.ci_size + (uint64_t)w->k->o.oh_body;
	return objset_add(w->s, body) ? NULL : &ich_enomem;
}

struct holder_walk {
	struct ich_kernel *k;
	struct objset *s;
	uint32_t index;
	bool add;		/* handle-table route: add unseen objects */
	bool oom;
};

static struct ich_error *holder_cb(const struct ich_kprocess *p, const struct ich_khandle *h, void *arg)
{
	struct holder_walk *w = arg;
	if (h->type_index != w->index)
		return NULL;
	struct ich_icp_object *o = objset_find(w->s, h->object);
	if (!o) {
		if (!w->add)
			return NULL;	/* not on the type list: stale or foreign */
		/* collected unsorted; deduplicated after the walk */
		o = objset_add(w->s, h->object);
		if (!o)
			return &ich_enomem;
	}
	/* doubling (a port duplicated into n handles, the shape of a leak, was
	 * O(n^2) copies); dedup() runs after the last add */
	if (!ICH_ARRAY_PUSH_ROOM(o->holders, o->nholders))
		return &ich_enomem;
	struct ich_icp_holder *hd = &o->holders[o->nholders++];
	hd->pid = p->pid;
	snprintf(hd->process, sizeof(hd->process), "%s", p->image);
	hd->handle = h->handle;
	hd->access = h->access;
	return NULL;
}

/* Merge duplicate objects (same body from several handles) after an
 * unsorted collection: sort by address and fold holders together. */
static void dedup(struct objset *s)
{
	if (!s->n)
		return;		/* qsort(NULL, 0, ...) is undefined */
	qsort(s->v, s->n, sizeof(*s->v), cmp_addr);
	size_t out = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (out && s->v[out - 1].address == s->v[i].address) {
			struct ich_icp_object *d = &s->v[out - 1], *x = &s->v[i];
			struct ich_icp_holder *nh = realloc(d->holders,
				(d->nholders + x->nholders) * sizeof(*nh));
			if (nh) {
				memcpy(nh + d->nholders, x->holders, x->nholders * sizeof(*nh));
				d->holders = nh;
				d->nholders += x->nholders;
			}
			free(x->holders);
			continue;
		}
		s->v[out++] = s->v[i];
	}
	s->n = out;
}

const char *ich_icp_source_name(enum ich_icp_source s)
{
	return s == ICH_ICP_TYPE_LIST ? "type_list" : "handle_tables";
}

struct ich_error *ich_kernel_icpleak(struct ich_kernel *k, bool holders,
				     struct ich_icp_result **ret)
{
	const struct ich_ktype *t = ich_kernel_find_type(k, "IoCompletion");
	if (!t)
		return ich_error_create(ICH_ERR_NOT_FOUND,
			"%s: the IoCompletion object type was not found (%zu object types read%s)",
			ich_dump_path(k->dump), k->ntypes,
			k->ntypes ? "" : "; the object type list needs a decoded KDBG and the Type object in the dump");
	struct ich_icp_result *r = calloc(1, sizeof(*r));
	if (!r)
		return &ich_enomem;
	r->type = t;
	struct objset s = { 0 };
	struct ich_error *err = NULL;
	bool walk_tables = holders;
	if (t->list_maintained) {
		r->source = ICH_ICP_TYPE_LIST;
		struct type_list_walk w = { k, &s };
		err = ich_as_list_walk(k->as, t->type_list, MAX_OBJECTS, true, type_list_cb, &w, NULL);
		if (err == &ich_enomem)
			goto fail;
		if (err) {
			r->partial = true;
			kernel_warn(k, "IoCompletion type list incomplete after %zu objects: %s", s.n, err->message);
			ich_error_destroy(err);
			err = NULL;
		}
		if (s.n)
			qsort(s.v, s.n, sizeof(*s.v), cmp_addr);
	} else {
		r->source = ICH_ICP_HANDLE_TABLES;
		walk_tables = true;
		kernel_note(k, "the IoCompletion type list is empty (type lists are not maintained): objects found through every process's handle table; objects with no open handle cannot be seen this way");
	}
	if (walk_tables) {
		struct holder_walk hw = { k, &s, t->index, r->source == ICH_ICP_HANDLE_TABLES, false };
		bool complete = true;
		for (size_t i = 0; i < k->nprocs; i++) {
			bool partial = false;
			err = ich_kernel_walk_handles(k, &k->procs[i], holder_cb, &hw, &partial);
			if (err == &ich_enomem)
				goto fail;
			if (err) {
				kernel_warn(k, "pid %u: %s", k->procs[i].pid, err->message);
				ich_error_destroy(err);
				err = NULL;
				partial = true;
			}
			if (partial)
				complete = false;
		}
		r->holders_complete = complete && !k->procs_partial;
		if (r->source == ICH_ICP_HANDLE_TABLES) {
			dedup(&s);
			if (!r->holders_complete)
				r->partial = true;
		}
	}
	for (size_t i = 0; i < s.n; i++)
		read_queue(k, &s.v[i]);
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), cmp_depth);
	r->objects = s.v;
	r->nobjects = s.n;
	*ret = r;
	return NULL;
fail:
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].holders);
	free(s.v);
	free(r);
	return err;
}

void ich_icp_result_free(struct ich_icp_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nobjects; i++)
		free(r->objects[i].holders);
	free(r->objects);
	free(r);
}
