/* SPDX-License-Identifier: MIT */
/*
 * The Windows 8+ LFH front end (layouts.md §3, Algorithm B; S2
 * VmmHeapAlloc_NtInitLfhUserData, S5 HEAP_USERDATA_ENCODED_OFFSETS).
 * A UserBlocks container lives in a busy "internal" back-end block:
 * _HEAP_USERDATA_HEADER with Signature 0xF0E0D0C0, EncodedOffsets =
 * (FirstAllocationOffset | BlockStride << 16) ^ UserBlocks ^ LFH heap ^
 * RtlpLFHKey, and a BusyBitmap with one bit per block.
 *
 * RtlpLFHKey is a symbol; without PDBs it is recovered (layouts.md §3 🔶,
 * disambiguated per §10): each container's SubSegment gives BlockStride,
 * which fixes the key's high half; every plausible FirstAllocationOffset
 * gives a candidate key, and the key is the one all containers agree on.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "heap/heap_internal.h"

struct ub_info {
	uint32_t enc;
	uint32_t stride;	/* bytes, from SubSegment->BlockSize */
	uint32_t count;		/* BusyBitmap.SizeOfBitMap */
	uint64_t ub;
};

static bool read_ub(struct ich_heaps *h, const struct ntofs *o, uint64_t ub, struct ub_info *u)
{
	unsigned unit = h->ptr == 8 ? 16 : 8;
	uint64_t subseg, nbits;
	uint16_t bsize;
	uint32_t enc;
	struct ich_error *err = ich_as_read_u32(h->as, ub + (uint64_t)o->ud_encoded_offsets, &enc);
	if (!err)
		err = ich_as_read_ptr(h->as, ub + (uint64_t)o->ud_subsegment, &subseg);
	if (!err)
		err = ich_as_read_u16(h->as, subseg + (uint64_t)o->ss_block_size, &bsize);
	if (!err)
		err = ich_as_read_ptr(h->as, ub + (uint64_t)o->ud_busy_bitmap, &nbits);
	if (err) {
		ich_error_destroy(err);
		return false;
	}
	u->enc = enc;
	u->stride = (uint32_t)bsize * unit;
	u->count = (uint32_t)nbits;
	u->ub = ub;
	return u->stride != 0;
}

static bool plausible_first(const struct ntofs *o, uint32_t first, uint32_t stride, uint32_t count,
			    uint64_t ub_size)
{
	/* S2's validation: 8-aligned, past the header, within a page-ish span */
	return (first & 7) == 0 && first >= (uint32_t)o->ud_sizeof && first <= 0x1000 &&
	       (uint64_t)first + (uint64_t)count * stride <= ub_size + stride;
}

/* A class of containers for the key agreement below. */
struct agree {
	uint32_t c, stride, count;
};

static int agree_cmp(const void *a, const void *b)
{
	const struct agree *x = a, *y = b;
	if (x->c != y->c)
		return x->c < y->c ? -1 : 1;
	if (x->stride != y->stride)
		return x->stride < y->stride ? -1 : 1;
	return x->count < y->count ? -1 : x->count > y->count;
}

void lfh_recover_key(struct ich_heaps *h, struct ich_heap *heap, const uint64_t *ubs, size_t nubs)
{
	const struct ntofs *o = &h->ofs[heap - h->heaps];
	if (!nubs) {
		heaps_note(h, "heap 0x%" PRIx64 ": LFH enabled but no UserBlocks in the captured segments: RtlpLFHKey not recovered", heap->address);
		return;
	}
	struct ub_info *u = calloc(nubs, sizeof(*u));
	if (!u)
		return;
	size_t n = 0;
	for (size_t i = 0; i < nubs; i++)
		if (read_ub(h, o, ubs[i], &u[n]))
			n++;
	/* Candidate keys from the first container, kept if every other
	 * container decodes to a plausible offset under the same key.  Under
	 * key = x0 ^ (first | stride0 << 16) (x0: the first container's
	 * EncodedOffsets ^ its address ^ the LFH heap), container k decodes to
	 * c_k ^ (first | stride0 << 16) with c_k = its EncodedOffsets ^ its
	 * address ^ the first container's (the LFH heap cancels): containers
	 * alike in (c_k, stride, count) accept the same keys, so each such
	 * class is checked once (issue 12: 587 containers x 513 offsets). */
	struct agree *cls = calloc(n ? n : 1, sizeof(*cls));
	if (!cls) {
		free(u);
		return;
	}
	size_t ncls = 0;
	for (size_t k = 1; k < n; k++)
		cls[ncls++] = (struct agree){ (u[k].enc ^ (uint32_t)u[k].ub) ^ (u[0].enc ^ (uint32_t)u[0].ub),
					      u[k].stride, u[k].count };
	if (ncls)
		qsort(cls, ncls, sizeof(*cls), agree_cmp);
	size_t nu = 0;
	for (size_t k = 0; k < ncls; k++)
		if (!nu || agree_cmp(&cls[nu - 1], &cls[k]))
			cls[nu++] = cls[k];
	uint32_t keys[520];
	size_t nkeys = 0, nfirst_ok = 0;
	uint64_t ub_size = 0x100000;	/* containers are at most this large here */
	for (uint32_t first = 0; n && first <= 0x1000; first += 8) {
		if (!plausible_first(o, first, u[0].stride, u[0].count, ub_size))
			continue;
		nfirst_ok++;
		uint32_t key = u[0].enc ^ (uint32_t)u[0].ub ^ (uint32_t)heap->front_end ^ (first | u[0].stride << 16);
		bool all = true;
		for (size_t k = 0; k < nu && all; k++) {
			uint32_t d = cls[k].c ^ (first | u[0].stride << 16);
			all = (d >> 16) == cls[k].stride && plausible_first(o, d & 0xFFFF, cls[k].stride, cls[k].count, ub_size);
		}
		if (all && nkeys < 520)
			keys[nkeys++] = key;
	}
	free(cls);
	/* A constant XOR on the key shifts every container's offset alike, so
	 * agreement alone cannot pick the key (layouts.md §10).  The memory
	 * decides: under the right key, the blocks the busy bitmap marks have
	 * the front-end bit 0x80 in their UnusedBytes.  Ties go to the
	 * smallest FirstAllocationOffset. */
	size_t best = 0;
	long best_score = -1;
	unsigned unit = h->ptr == 8 ? 16 : 8;
	/* The first (up to) 4 containers' bitmaps, read once for all the
	 * candidate keys; their blocks looked at in place when the dump holds
	 * the first 0x1000 + 128 strides contiguously (issue 12). */
	struct {
		bool ok;
		uint32_t nb;
		uint8_t bits[16];
		const uint8_t *span;
		uint64_t span_len;
		uint8_t busy[128];	/* the busy blocks' indexes, ascending */
		uint32_t nbusy;
	} sc[4];
	size_t nsc = n < 4 ? n : 4;
	for (size_t k = 0; k < nsc; k++) {
		uint64_t buffer;
		sc[k].ok = false;
		struct ich_error *err = ich_as_read_ptr(h->as, u[k].ub + (uint64_t)o->ud_busy_bitmap + h->ptr, &buffer);
		if (err) {
			ich_error_destroy(err);
			continue;
		}
		sc[k].nb = u[k].count < 128 ? u[k].count : 128;
		size_t nbytes = (sc[k].nb + 7) / 8;
		if (ich_as_read(h->as, buffer, sc[k].bits, nbytes, NULL) != nbytes)
			continue;
		sc[k].ok = true;
		sc[k].nbusy = 0;
		for (uint32_t i = 0; i < sc[k].nb; i++)
			if (sc[k].bits[i / 8] & (1u << (i % 8)))
				sc[k].busy[sc[k].nbusy++] = (uint8_t)i;
		sc[k].span_len = 0x1000 + (uint64_t)sc[k].nb * u[k].stride + unit;
		sc[k].span = ich_as_peek(h->as, u[k].ub, (size_t)sc[k].span_len);
	}
	for (size_t c = 0; c < nkeys; c++) {
		long score = 0;
		for (size_t k = 0; k < nsc; k++) {
			if (!sc[k].ok)
				continue;
			uint32_t d = u[k].enc ^ (uint32_t)u[k].ub ^ (uint32_t)heap->front_end ^ keys[c];
			/* every busy block's byte in the span: one load each */
			uint64_t base = (d & 0xFFFF) + unit - 1, stride = d >> 16;
			if (sc[k].span && sc[k].nbusy &&
			    base + (uint64_t)sc[k].busy[sc[k].nbusy - 1] * stride < sc[k].span_len) {
				const uint8_t *p = sc[k].span + base;
				long plus = 0;
				for (uint32_t j = 0; j < sc[k].nbusy; j++)
					plus += p[(uint64_t)sc[k].busy[j] * stride] >> 7;
				score += 2 * plus - (long)sc[k].nbusy;
				continue;
			}
			/* else one by one, a byte past the span read from the dump */
			for (uint32_t j = 0; j < sc[k].nbusy; j++) {
				uint8_t ub_byte;
				uint64_t off = base + (uint64_t)sc[k].busy[j] * stride;
				if (sc[k].span && off < sc[k].span_len) {
					ub_byte = sc[k].span[off];
				} else {
					struct ich_error *err = ich_as_read_u8(h->as, u[k].ub + off, &ub_byte);
					if (err) {
						ich_error_destroy(err);
						continue;
					}
				}
				score += (ub_byte & 0x80) ? 1 : -1;
			}
		}
		if (score > best_score) {
			best_score = score;
			best = c;
		}
	}
	if (nkeys) {
		h->lfh_key_known = true;
		h->lfh_key = keys[best];
		h->lfh_key_low_bits = 32;
		heaps_note(h, "RtlpLFHKey (low 32 bits) 0x%08x recovered from %zu LFH UserBlocks of heap 0x%" PRIx64 " (%zu keys agree on the offsets; chosen by the busy blocks' front-end bit, score %ld)",
			   keys[best], n, heap->address, nkeys, best_score);
		lfh_find_full_key(h);
	} else {
		heaps_note(h, "heap 0x%" PRIx64 ": RtlpLFHKey could not be recovered from %zu UserBlocks", heap->address, n);
	}
	free(u);
}

/*
 * RtlpLFHKey from Windows 7 LFH block headers (S5 arizvisa/syringe
 * lib/ndk/heaptypes.py, _HEAP_ENTRY.__fe_decode): x64 — the low 40 bits of
 * the header qword at E+8 are ((E ^ Heap) >> 4) ^ (SubSegment >> 4) ^ key,
 * so they give the key's low 40 bits; x86 — the dword at E is SubSegment ^
 * (E >> 3) ^ key ^ Heap, the whole 32-bit key.  Every front-end block of the
 * container must give the same value.
 */
static void lfh_recover_key_win7(struct walk_ctx *w, uint64_t ub, uint64_t subseg, uint64_t first,
				 uint64_t stride, uint64_t n)
{
	struct ich_heaps *h = w->h;
	const struct ntofs *o = w->o;
	uint64_t heap = w->heap->address, key = 0;
	unsigned agree = 0;
	bool x64 = h->ptr == 8;
	uint64_t mask = x64 ? 0xFFFFFFFFFFull : 0xFFFFFFFFull;
	for (uint64_t i = 0; i < n && i < 64; i++) {
		uint64_t blk = ub + first + i * stride, raw;
		uint8_t ubyte;
		struct ich_error *e1 = ich_as_read_u8(h->as, blk + (uint64_t)o->entry_small_header + 7, &ubyte);
		struct ich_error *e2 = e1 ? NULL : ich_as_read_u64(h->as, blk + (uint64_t)o->entry_small_header, &raw);
		bool ok = !e1 && !e2 && (ubyte & 0x80);
		ich_error_destroy(e1);
		ich_error_destroy(e2);
		if (!ok)
			continue;
		uint64_t k = x64 ? ((raw ^ ((blk ^ heap) >> 4) ^ (subseg >> 4)) & mask)
				 : (((raw & mask) ^ subseg ^ (blk >> 3) ^ heap) & mask);
		if (agree && k != key) {
			heaps_note(h, "heap 0x%" PRIx64 ": Windows 7 LFH block headers of UserBlocks 0x%" PRIx64 " do not agree on RtlpLFHKey (0x%" PRIx64 " and 0x%" PRIx64 ")",
				   heap, ub, key, k);
			return;
		}
		key = k;
		agree++;
	}
	if (agree < 2)
		return;
	h->lfh_key_known = true;
	h->lfh_key = key;
	h->lfh_key_low_bits = x64 ? 40 : 32;
	heaps_note(h, "RtlpLFHKey (low %u bits) 0x%" PRIx64 " recovered from %u Windows 7 LFH block headers of UserBlocks 0x%" PRIx64 " (S5 front-end header encoding)",
		   h->lfh_key_low_bits, key, agree, ub);
	lfh_find_full_key(h);
}

/*
 * Windows 7 LFH (no bitmap; layouts.md §3 step 6, S2 ...UserDataWin7, S5
 * __FE_HEAP_ENTRY): the container's SubSegment gives BlockSize (units) and
 * BlockCount; blocks follow the _HEAP_USERDATA_HEADER back to back.  Each
 * block's UnusedBytes (the last byte of its small header, never encoded)
 * says busy or free: 0x80 = allocated by the front end, the low 6 bits =
 * unused bytes (header included, §10); 0 there means free (S5 Busy:6).
 */
static bool lfh_walk_win7(struct walk_ctx *w, uint64_t ub, uint64_t ub_size)
{
	struct ich_heaps *h = w->h;
	const struct ntofs *o = w->o;
	unsigned unit = w->unit;
	uint64_t subseg = 0, back = 0;
	uint16_t bsize = 0, count = 0;
	struct ich_error *err = ich_as_read_ptr(h->as, ub + (uint64_t)o->ud_subsegment, &subseg);
	if (!err)
		err = ich_as_read_u16(h->as, subseg + (uint64_t)o->ss_block_size, &bsize);
	if (!err)
		err = ich_as_read_u16(h->as, subseg + (uint64_t)o->ss_block_count, &count);
	if (err) {
		heap_problem(w->heap, ub, "LFH UserBlocks: its SubSegment 0x%" PRIx64 " is not readable: %s",
			     subseg, err->message);
		ich_error_destroy(err);
		return false;
	}
	/* The SubSegment points back at its UserBlocks (S2 checks this too). */
	bool have_back = false;
	if (o->ss_user_blocks >= 0) {
		struct ich_error *e2 = ich_as_read_ptr(h->as, subseg + (uint64_t)o->ss_user_blocks, &back);
		have_back = !e2;
		ich_error_destroy(e2);
	}
	if (have_back && back != ub) {
		heap_problem(w->heap, ub, "LFH UserBlocks: SubSegment 0x%" PRIx64 " points at UserBlocks 0x%" PRIx64 ", not here",
			     subseg, back);
		return false;
	}
	uint64_t stride = (uint64_t)bsize * unit, first = (uint64_t)o->ud_sizeof;
	if (!bsize || !count || first + stride > ub_size) {
		heap_problem(w->heap, ub, "LFH UserBlocks: SubSegment 0x%" PRIx64 " gives BlockSize 0x%x units and BlockCount %u, which do not fit the 0x%" PRIx64 "-byte container",
			     subseg, bsize, count, ub_size);
		return false;
	}
	uint64_t n = count;
	if (first + n * stride > ub_size) {
		n = (ub_size - first) / stride;
		heap_problem(w->heap, ub, "LFH UserBlocks: BlockCount %u blocks of 0x%" PRIx64 " bytes overrun the container; %" PRIu64 " listed",
			     count, stride, n);
	}
	if (!h->lfh_key_known)
		lfh_recover_key_win7(w, ub, subseg, first, stride, n);
	/* one look at the whole container when the dump holds it contiguously */
	const uint8_t *span = ich_as_peek(h->as, ub, (size_t)(first + n * stride));
	for (uint64_t i = 0; i < n; i++) {
		uint64_t blk = ub + first + i * stride;
		uint64_t at = blk + (uint64_t)o->entry_small_header + 7;
		uint8_t ubyte;
		if (span) {
			ubyte = span[at - ub];
		} else if ((err = ich_as_read_u8(h->as, at, &ubyte))) {
			heap_problem(w->heap, blk, "LFH block header not readable: %s", err->message);
			ich_error_destroy(err);
			continue;
		}
		struct ich_heap_block b = {
			.header = blk, .user = blk + unit, .block_size = stride,
			.segment = ub, .layer = ICH_LAYER_LFH, .flags = ubyte,
		};
		uint64_t unused = ubyte & 0x3F;
		if ((ubyte & 0x80) && unused) {
			b.unused = unused <= stride ? unused : stride;
			b.size = stride - b.unused;
			b.state = ICH_BLOCK_BUSY;
		} else {
			if (unused)
				heap_problem(w->heap, blk, "LFH block UnusedBytes 0x%02x has a count but not the front-end bit 0x80", ubyte);
			b.state = ICH_BLOCK_FREE;
			b.unused = stride;
		}
		if (walk_emit(w, &b))
			return true;
	}
	return true;
}

/*
 * The container's blocks as counts, for walks that ask for no block one
 * by one (w->fn NULL: totals and problems only; or -stat's heap_stat_add:
 * busy blocks of one requested size as one run).  The busy bitmap gives the busy and
 * free blocks; a busy block's UnusedBytes (hdr[i * stride]) gives its
 * requested size and is checked as the per-block loop checks it (the
 * front-end bit 0x80; a free block's header is neither read nor checked
 * there either).  Returns false, having changed nothing, when the
 * per-block loop must run: a light page heap's blocks (page_heap_light
 * per block), a callback for every block, or a busy block whose header
 * fails the check (the loop names each such block, in order).
 */
static bool lfh_counted(struct walk_ctx *w, uint64_t ub, uint32_t first, uint32_t stride, uint64_t n,
			const uint8_t *bits, const uint8_t *hdr)
{
	if ((w->fn && w->fn != heap_stat_add) || w->heap->dph_owner || w->err)
		return false;
	/* busy blocks by UnusedBytes & 0x3F: their requested sizes */
	uint64_t by_unused[64] = { 0 };
	uint64_t nbusy = 0;
	unsigned missing = 0;	/* busy blocks without the front-end bit */
	for (uint64_t byte = 0; byte * 8 < n; byte++) {
		unsigned m = bits[byte];
		if (n - byte * 8 < 8)
			m &= (1u << (n - byte * 8)) - 1;
		while (m) {
			unsigned bit = (unsigned)__builtin_ctz(m);
			m &= m - 1;
			uint8_t u = hdr[(byte * 8 + bit) * stride];
			missing |= ~u & 0x80;
			by_unused[u & 0x3F]++;
			nbusy++;
		}
	}
	if (missing)
		return false;
	unsigned unit = w->unit;
	uint64_t blk = ub + first;
	struct ich_heap_block b = {
		.header = blk, .user = blk + unit, .block_size = stride,
		.segment = ub, .layer = ICH_LAYER_LFH,
	};
	for (unsigned u = 0; u < 64; u++) {
		if (!by_unused[u])
			continue;
		b.unused = u <= stride ? u : stride;
		b.size = stride - b.unused;
		b.flags = (uint8_t)(0x80 | u);
		b.state = ICH_BLOCK_BUSY;
		if (walk_emit_run(w, &b, by_unused[u]))
			return true;
	}
	if (n > nbusy) {
		b.unused = stride;
		b.size = 0;
		b.flags = 0;
		b.state = ICH_BLOCK_FREE;
		walk_emit_run(w, &b, n - nbusy);
	}
	return true;
}

/*
 * The container's blocks as runs for a run callback (walk_runs): the
 * per-block loop below, with each block's state, flags, size and unused
 * as an index into the kinds met so far (a kind is the busy bit and the
 * UnusedBytes byte, which fix them) instead of a block record and a
 * callback each.  A run ends after RUN_MAX blocks or before a block that
 * would be a 257th kind (the kind index is a byte); problems are
 * recorded for the same blocks in the same order as the loop records them.
 */
#define RUN_MAX 1024u
static void lfh_runs(struct walk_ctx *w, uint64_t ub, uint32_t first, uint32_t stride, uint64_t n,
		     const uint8_t *bits, const uint8_t *hdr)
{
	uint8_t kind[RUN_MAX];
	struct ich_heap_block_kind kinds[256];
	uint32_t kcount[256];
	int16_t kmap[512];	/* busy << 8 | UnusedBytes -> kind, -1: none yet */
	memset(kmap, -1, sizeof(kmap));
	uint64_t blk0 = ub + first;
	struct ich_heap_block_run r = {
		.tmpl = { .header = blk0, .user = blk0 + w->unit, .block_size = stride,
			  .segment = ub, .layer = ICH_LAYER_LFH },
		.stride = stride, .kind = kind, .kinds = kinds,
	};
	unsigned nk = 0;
	uint64_t ahead = (2048 + stride - 1) / stride, step = stride < 64 ? 64 : stride;	/* stride > 0: read_ub */
	uint64_t last = (n - 1) * (uint64_t)stride;	/* the last block's byte */
	for (uint64_t i = 0; i < n;) {
		if (nk == 256) {
			memset(kmap, -1, sizeof(kmap));
			nk = 0;
		}
		/* a run from i0: up to RUN_MAX blocks, or before a 257th kind */
		uint64_t i0 = i, lim = n - i0 < RUN_MAX ? n : i0 + RUN_MAX;
		const uint8_t *at = hdr + i0 * stride;
		for (; i < lim; i++, at += stride) {
			if (!(i & 31)) {
				/* the UnusedBytes of the 32 blocks 2 KiB on
				 * requested now (a line each, or a block each
				 * for strides of a line or more), as sum_run and
				 * lfh_bulk request what they read: the byte load
				 * below stalled without (perf, mid.dmp: over
				 * half of this loop's samples) */
				uint64_t off = (i + ahead) * stride, end = off + 32 * (uint64_t)stride;
				for (; off < end && off <= last; off += step)
					__builtin_prefetch(hdr + off);
			}
			unsigned busy = (bits[i / 8] >> (i % 8)) & 1;
			uint8_t ub_byte = *at;
			unsigned key = busy << 8 | ub_byte;
			int k = kmap[key];	/* 0x100 | kind: its blocks are problems */
			if (k & ~0xFF) {
				if (k < 0) {
					if (nk == 256)
						break;
					k = (int)nk++;
					kcount[k] = 0;
					struct ich_heap_block_kind *kd = &kinds[k];
					kd->flags = ub_byte;
					if (busy) {
						uint64_t unused = ub_byte & 0x3F;
						kd->unused = unused <= stride ? unused : stride;
						kd->size = stride - kd->unused;
						kd->state = ICH_BLOCK_BUSY;
					} else {
						kd->size = 0;
						kd->unused = stride;
						kd->state = ICH_BLOCK_FREE;
					}
					if (busy && !(ub_byte & 0x80))
						k |= 0x100;
					kmap[key] = (int16_t)k;
				}
				if (k & 0x100)
					heap_problem(w->heap, blk0 + i * stride, "LFH block is busy in the bitmap but its UnusedBytes 0x%02x lacks the front-end bit 0x80", ub_byte);
				k &= 0xFF;
			}
			kind[i - i0] = (uint8_t)k;
			kcount[k]++;
		}
		r.tmpl.header = blk0 + i0 * stride;
		r.tmpl.user = r.tmpl.header + w->unit;
		r.count = (size_t)(i - i0);
		r.nkinds = nk;
		if (walk_emit_blocks(w, &r, kcount))
			return;
		memset(kcount, 0, nk * sizeof(kcount[0]));
	}
}

static bool walk_userblocks(struct walk_ctx *w, uint64_t ub, uint64_t ub_size)
{
	struct ich_heaps *h = w->h;
	const struct ntofs *o = w->o;
	if (o->lfh_missing)
		return false;	/* the row cannot walk the front end (noted) */
	if (!o->lfh_bitmap)
		return lfh_walk_win7(w, ub, ub_size);
	struct ub_info u;
	if (!read_ub(h, o, ub, &u)) {
		heap_problem(w->heap, ub, "LFH UserBlocks header or its SubSegment not readable");
		return false;
	}
	if (!h->lfh_key_known) {
		heap_problem(w->heap, ub, "LFH UserBlocks: RtlpLFHKey unknown, its blocks are not listed");
		return false;
	}
	uint32_t d = u.enc ^ (uint32_t)ub ^ (uint32_t)w->heap->front_end ^ (uint32_t)h->lfh_key;
	uint32_t first = d & 0xFFFF, stride = d >> 16;
	if (stride != u.stride || !plausible_first(o, first, stride, u.count, ub_size)) {
		heap_problem(w->heap, ub, "LFH UserBlocks: EncodedOffsets decode to offset 0x%x stride 0x%x (SubSegment says 0x%x)",
			     first, stride, u.stride);
		return false;
	}
	uint64_t n = u.count;
	if (first + n * stride > ub_size)
		n = (ub_size - first) / stride;
	uint64_t buffer;
	unsigned ps = h->ptr;
	struct ich_error *err = ich_as_read_ptr(h->as, ub + (uint64_t)o->ud_busy_bitmap + ps, &buffer);
	if (err) {
		heap_problem(w->heap, ub, "LFH BusyBitmap not readable: %s", err->message);
		ich_error_destroy(err);
		return false;
	}
	unsigned unit = w->unit;
	uint64_t nbytes = (n + 7) / 8;
	/* the busy bitmap and the container in place when the dump holds them
	 * contiguously (it almost always does), else copies: the loop below
	 * then reads two arrays, no call per block (issue 12) */
	uint8_t bits_copy[512];
	const uint8_t *bits = nbytes <= sizeof(bits_copy) ? ich_as_peek(h->as, buffer, (size_t)nbytes) : NULL;
	if (!bits) {
		if (nbytes > sizeof(bits_copy) || ich_as_read(h->as, buffer, bits_copy, (size_t)nbytes, NULL) != nbytes) {
			heap_problem(w->heap, ub, "LFH bitmap at 0x%" PRIx64 " (%" PRIu64 " bits) not readable", buffer, n);
			return false;
		}
		bits = bits_copy;
	}
	const uint8_t *span = ich_as_peek(h->as, ub, (size_t)(first + n * stride));
	/* UnusedBytes: the last byte of the small header (+0xF x64, +7 x86) */
	uint64_t ub_at = first + (uint64_t)o->entry_small_header + 7;
	if (span && lfh_counted(w, ub, first, stride, n, bits, span + ub_at))
		return true;
	if (span && walk_runs(w)) {
		lfh_runs(w, ub, first, stride, n, bits, span + ub_at);
		return true;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t blk = ub + first + i * stride;
		bool busy = bits[i / 8] & (1u << (i % 8));
		uint8_t ub_byte = 0;
		if (span) {
			ub_byte = span[ub_at + i * stride];
		} else if ((err = ich_as_read_u8(h->as, ub + ub_at + i * stride, &ub_byte))) {
			heap_problem(w->heap, blk, "LFH block header not readable: %s", err->message);
			ich_error_destroy(err);
			continue;
		}
		struct ich_heap_block b = {
			.header = blk, .user = blk + unit, .block_size = stride,
			.segment = ub, .layer = ICH_LAYER_LFH, .flags = ub_byte,
		};
		if (busy) {
			if (!(ub_byte & 0x80))
				heap_problem(w->heap, blk, "LFH block is busy in the bitmap but its UnusedBytes 0x%02x lacks the front-end bit 0x80", ub_byte);
			uint64_t unused = ub_byte & 0x3F;
			b.unused = unused <= stride ? unused : stride;
			b.size = stride - b.unused;
			b.state = ICH_BLOCK_BUSY;
		} else {
			b.state = ICH_BLOCK_FREE;
			b.unused = stride;
		}
		if (walk_emit(w, &b))
			return true;
	}
	return true;
}

bool lfh_walk_userblocks(struct walk_ctx *w, uint64_t ub, uint64_t ub_size)
{
	if (!w->no_lfh_cb || !w->fn)
		return walk_userblocks(w, ub, ub_size);
	/* ICH_WALK_NO_LFH_BLOCKS: the container's blocks counted and checked
	 * as a walk without a callback does (lfh_counted where it can) */
	ich_heap_block_fn *fn = w->fn;
	ich_heap_run_fn *run_fn = w->run_fn;
	void *arg = w->arg;
	w->fn = NULL;
	w->run_fn = NULL;
	w->arg = NULL;
	bool r = walk_userblocks(w, ub, ub_size);
	w->fn = fn;
	w->run_fn = run_fn;
	w->arg = arg;
	return r;
}
