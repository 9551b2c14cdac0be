/* SPDX-License-Identifier: MIT */
/*
 * The physical memory of bitmap (DumpType 5/6) and RDMP (DumpType 8/9/0xA)
 * kernel dumps, 64-bit and 32-bit, reduced to the sorted run table of
 * kd_priv (kdump.c) so a frame lookup is a binary search in every format.
 *
 * Where the second header sits: right after the dump header, at 0x2000
 * after DUMP_HEADER64 and at 0x1000 after DUMP_HEADER32.
 *
 * Bitmap header (BMP_HEADER64 in S3 kdmp-parser; the same struct for both
 * widths in three independent sources):
 *   +0x00 Signature 'SDMP' (kernel) / 'FDMP' (full), +0x04 ValidDump
 *   'DUMP', +0x08 DumpOptions, +0x20 FirstPage (file offset of the first
 *   page; "HeaderSize"), +0x28 TotalPresentPages (bits set), +0x30 Pages
 *   (bits in the bitmap, i.e. highest PFN + 1), +0x38 the bitmap, bit p =
 *   PFN p, LSB first.  The data of the k-th present PFN is at FirstPage +
 *   0x1000 * k.
 *   - S3 github.com/0vercl0k/kdmp-parser src/lib/kdmp-parser-structs.h
 *     (BMP_HEADER64, static_assert FirstPage == 0x20), 64-bit.
 *   - github.com/volatilityfoundation/volatility3
 *     volatility3/framework/layers/crash.py: WindowsCrashDump32Layer
 *     ("supported_dumptypes = [0x01, 0x05] # we need 0x5 for 32-bit
 *     bitmaps") reads _SUMMARY_DUMP at 0x1000 * headerpages (1 for the
 *     32-bit layer, 2 for the 64-bit one); symbols/windows/crash_common.json
 *     ("the _SUMMARY_DUMP is shared between 32- and 64-bit"): HeaderSize
 *     0x20, Pages 0x28, BitmapSize 0x30, BufferChar 0x38.
 *   - github.com/NationalSecurityAgency/ghidra
 *     Ghidra/Features/FileFormats/.../dump/pagedump/Pagedump.java reads the
 *     'SDMP'/'FDMP' header right after the header of either width with
 *     FullDumpHeader.java (Signature, ValidDump, DumpOptions, 2 x u64,
 *     HeaderSize 0x20, then two u64 and the bitmap at 0x38).
 *   - A Microsoft Research Singularity Dump.h in the search corpus
 *     (BITMAP_DUMP "n = 1 for 32 and 2 for 64 dump": n000 Signature ...
 *     n020 HeaderSize, n028 Pages, n030 BitmapSize, n038 Bits; MEMORY_DUMP32
 *     : DUMP_HEADER32 { union { ... BITMAP_DUMP Bitmap; // DUMP_TYPE_BITMAP_* } }).
 *   The sources name 0x28/0x30 differently (Ghidra swaps the names) but all
 *   size the bitmap by 0x30, so 0x28 is the set-bit count; a 32-bit dump
 *   is refused when the two disagree (see below).
 *   The signature values: 'PMDS' DUMP_SUMMARY_SIGNATURE and 'PMDF'
 *   DUMP_FULL_SIGNATURE, ValidDump 'PMUD', in the Windows SDK's
 *   um/mindumpdef.h.
 *
 * RDMP header (.dump /k /ka /f): S3 RDMP_HEADER64 for 64-bit dumps only:
 *   +0x00 Marker 0x40, +0x04 'RDMP', +0x08 'DUMP', +0x10 MetadataSize,
 *   +0x18 FirstPageOffset; +0x20 (FULL_RDMP_HEADER64, /f) NumberOfRanges
 *   u32, 2 x u16, +0x28 TotalNumberOfPages; ranges {PFN u64, count u64}
 *   from +0x30 ended by a zero PFN (S3 BuildPhysicalMemoryFromDump); page
 *   data from FirstPageOffset in range order.  S3 checks MetadataSize -
 *   0x20 == FirstPageOffset - 0x2040, i.e. the page data starts right after
 *   MetadataSize bytes counted from +0x20.
 *   32-bit RDMP: NO SOURCE was found (kdmp-parser, volatility3, rekall,
 *   Ghidra, rizin and LeechCore read no 32-bit RDMP dump).  DERIVED: the
 *   same struct at 0x1000, as the bitmap header moves from 0x2000 to
 *   0x1000.  Because that is a derivation, a 32-bit RDMP file must fit it
 *   exactly or it is refused, naming the offset and value: Marker 0x40,
 *   both signatures, FirstPageOffset == 0x1020 + MetadataSize, the range
 *   table inside the metadata and the file, ranges ascending, disjoint
 *   and non-empty, PFNs addressable by the header's paging mode, and for
 *   /f NumberOfRanges and TotalNumberOfPages equal to the table's.
 *
 * 32-bit bitmap dumps are checked the same way (the layout is sourced, but
 * no real 32-bit bitmap dump was available to confirm it): ValidDump,
 * TotalPresentPages == bits set, FirstPage after the bitmap, PFNs
 * addressable (non-PAE x86: below 0x100000, i.e. 4 GiB).
 *
 * A file cut short in the page data is not refused: pages up to the end
 * of the file are read, the rest is "beyond the end of the file" (a
 * warning at open, the reason at each read), as for every dump kind.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/bits.h"
#include "core/endian.h"
#include "reader/kdump_internal.h"

#define SIG_DUMP 0x504D5544u	/* 'DUMP' */
#define SIG_SDMP 0x504D4453u
#define SIG_FDMP 0x504D4446u
#define SIG_RDMP 0x504D4452u
#define RDMP_MARKER 0x40u
#define MAX_RUNS_PAGES (1ull << 40)	/* 4 PiB of RAM: beyond any machine */
#define X86_MAX_PFN (1ull << 20)	/* non-PAE x86: 32-bit physical addresses */

bool kd_add_run(struct kd_priv *p, uint64_t pfn, uint64_t n, uint64_t off)
{
	if (!n)
		return true;
	if (p->nruns && p->runs[p->nruns - 1].pfn + p->runs[p->nruns - 1].count == pfn &&
	    p->runs[p->nruns - 1].file_off + p->runs[p->nruns - 1].count * 0x1000 == off) {
		p->runs[p->nruns - 1].count += n;
		return true;
	}
	if (!ICH_ARRAY_RESERVE(p->runs, p->nruns, p->cap, 64))
		return false;
	p->runs[p->nruns++] = (struct kd_run){ pfn, n, off };
	return true;
}

/* Where the bitmap / RDMP header sits (see the top of this file). */
static uint64_t second_header(const struct ich_kdump *kd)
{
	return kd->is64 ? 0x2000 : 0x1000;
}

/* Highest PFN + 1 the header's paging mode can address: non-PAE x86 has
 * 32-bit physical addresses. */
static uint64_t pfn_limit(const struct ich_kdump *kd)
{
	return (!kd->is64 && !kd->pae_enabled) ? X86_MAX_PFN : MAX_RUNS_PAGES;
}

static uint64_t popcount_bits(const uint8_t *bm, uint64_t from, uint64_t bits)
{
	uint64_t n = 0, pfn = from;
	for (; pfn < bits && (pfn & 7); pfn++)
		n += (bm[pfn / 8] >> (pfn & 7)) & 1;
	for (; pfn + 8 <= bits; pfn += 8)
		n += (uint64_t)__builtin_popcount(bm[pfn / 8]);
	for (; pfn < bits; pfn++)
		n += (bm[pfn / 8] >> (pfn & 7)) & 1;
	return n;
}

/* The runs of a bitmap (bit p = PFN p, LSB first) whose k-th set bit's
 * page is at *off + 0x1000 * k; *off ends past the last page, *count is
 * the bits set.  A file cut short keeps runs up to its end only and
 * answers for the pages after it from the bitmap (kd_phys_lookup). */
static struct ich_error *bitmap_runs(struct ich_dump *dump, struct kd_priv *p, const uint8_t *bm,
				     uint64_t bm_off, uint64_t bits, bool strict, uint64_t *offp,
				     uint64_t *countp)
{
	struct ich_kdump *kd = dump->kd;
	uint64_t size = dump->file.size;
	uint64_t off = *offp, count = 0, pfn = 0;
	while (pfn < bits) {
		/* skip clear bytes fast */
		if ((pfn & 7) == 0 && pfn + 8 <= bits && bm[pfn / 8] == 0) {
			pfn += 8;
			continue;
		}
		if (!(bm[pfn / 8] & (1u << (pfn & 7)))) {
			pfn++;
			continue;
		}
		uint64_t start = pfn;
		if (off >= size) {
			/* The rest of the data is missing: count it, keep no runs. */
			p->bitmap = bm;
			p->bitmap_bits = bits;
			p->beyond_pfn = start;
			uint64_t rest = popcount_bits(bm, pfn, bits);
			off += rest * 0x1000;
			count += rest;
			break;
		}
		while (pfn < bits && (bm[pfn / 8] & (1u << (pfn & 7))))
			pfn++;
		if (strict && pfn > pfn_limit(kd))
			return ich_error_create(ICH_ERR_FORMAT,
				"%s: bitmap dump: PFN 0x%" PRIx64 " is set in the bitmap at 0x%" PRIx64 " but a non-PAE x86 machine (PaeEnabled 0 at 0x5c) addresses PFNs below 0x%" PRIx64 " only",
				dump->path, pfn - 1, bm_off, pfn_limit(kd));
		if (!kd_add_run(p, start, pfn - start, off))
			return &ich_enomem;
		off += (pfn - start) * 0x1000;
		count += pfn - start;
	}
	*offp = off;
	*countp = count;
	return NULL;
}

/* An index of more than 2^22 blocks (8 TiB of frames, 32 MiB of counts)
 * is not built. */
#define RANK_BLK_MAX (1ull << 22)

/*
 * kd_phys_lookup's rank index (kd_priv rank_cum): the bits set before
 * each block of the bitmap's whole words.  Issue 12: a real bitmap dump
 * (the default "automatic" kernel dump) stores only the frames in use,
 * scattered over RAM, so most runs are a page or a few long, and the
 * binary search over a block's runs (kb-scatter: ~500, 9 dependent loads)
 * was a fifth of a summing walk over its process heaps; the rank is two
 * loads and a few population counts.  Bits past the last whole word are
 * left to the runs.
 */
static void bitmap_rank_index(struct kd_priv *p, const uint8_t *bm, uint64_t bits, uint64_t first)
{
	uint64_t words = bits / 64, nblk = (words + KD_RANK_BLK_WORDS - 1) / KD_RANK_BLK_WORDS;
	if (!words || nblk > RANK_BLK_MAX)
		return;
	uint64_t *cum = malloc((size_t)(nblk + 1) * sizeof(*cum));
	if (!cum)
		return;	/* (the runs answer alone) */
	uint64_t n = 0;
	for (uint64_t w = 0; w < words; w++) {
		if (!(w % KD_RANK_BLK_WORDS))
			cum[w / KD_RANK_BLK_WORDS] = n;
		n += (uint64_t)ich_popcount64(ich_le64(bm + 8 * w));
	}
	cum[nblk] = n;
	p->rank_cum = cum;
	p->rank_bm = bm;
	p->rank_words = words;
	p->rank_first = first;
}

/* Where a 64-bit dump's page data starts (field, read at header offset
 * at), kept inside the file: past its end no page is in the file, and
 * the pages' offsets, first + k * 0x1000, would wrap past 2^64 for a
 * value near it and land in the file's first bytes (the header read as
 * memory).  Warns and gives size then. */
static uint64_t page_data_in_file(struct ich_dump *dump, const char *field, uint64_t at, uint64_t first,
				  uint64_t size)
{
	if (first <= size)
		return first;
	ich_dump_warn(dump, "%s at 0x%" PRIx64 " is 0x%" PRIx64 ", past the end of the file (0x%" PRIx64 " bytes): no page data",
		      field, at, first, size);
	return size;
}

struct ich_error *kd_phys_bitmap(struct ich_dump *dump, struct kd_priv *p)
{
	const uint8_t *d = dump->file.data;
	uint64_t size = dump->file.size;
	struct ich_kdump *kd = dump->kd;
	const uint64_t h = second_header(kd);
	const bool strict = !kd->is64;
	if (size < h + 0x38)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: bitmap dump: the BMP header at 0x%" PRIx64 " needs 0x38 bytes, the file has 0x%" PRIx64,
			dump->path, h, size);
	uint32_t sig = ich_le32(d + h);
	if ((sig != SIG_SDMP && sig != SIG_FDMP) || ich_le32(d + h + 4) != SIG_DUMP)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: bitmap dump: signature at 0x%" PRIx64 " is 0x%08x/0x%08x, expected 'SDMP' or 'FDMP' then 'DUMP'",
			dump->path, h, sig, ich_le32(d + h + 4));
	memcpy(kd->bitmap_signature, d + h, 4);
	kd->bitmap_signature[4] = '\0';
	uint64_t first = ich_le64(d + h + 0x20), npresent = ich_le64(d + h + 0x28),
		 bits = ich_le64(d + h + 0x30);
	const uint64_t bm_off = h + 0x38;
	uint64_t bytes = (bits + 7) / 8;
	if (bits > MAX_RUNS_PAGES || bytes > size - bm_off)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: bitmap dump: the bitmap at 0x%" PRIx64 " claims 0x%" PRIx64 " bits (Pages at 0x%" PRIx64 "); the file has room for 0x%" PRIx64,
			dump->path, bm_off, bits, h + 0x30, (size - bm_off) * 8);
	const uint8_t *bm = d + bm_off;
	if (!strict)
		first = page_data_in_file(dump, "bitmap dump: FirstPage", h + 0x20, first, size);
	if (strict && (first < bm_off + bytes || (first & 0xFFF)))
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: 32-bit bitmap dump: FirstPage at 0x%" PRIx64 " is 0x%" PRIx64 "; the page data must start on a page boundary at or after the bitmap's end 0x%" PRIx64,
			dump->path, h + 0x20, first, bm_off + bytes);
	/* bitmap_runs counts every bit set (also past a short file), so the
	 * count check needs no second pass over the bitmap. */
	uint64_t off = first, count = 0;
	struct ich_error *err = bitmap_runs(dump, p, bm, bm_off, bits, strict, &off, &count);
	if (err)
		return err;
	if (strict && count != npresent)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: 32-bit bitmap dump: TotalPresentPages at 0x%" PRIx64 " is 0x%" PRIx64 " but the bitmap at 0x%" PRIx64 " has 0x%" PRIx64 " bits set",
			dump->path, h + 0x28, npresent, bm_off, count);
	if (count != npresent)
		ich_dump_warn(dump, "bitmap dump: TotalPresentPages says %" PRIu64 " pages, the bitmap has %" PRIu64 " bits set",
			      npresent, count);
	bitmap_rank_index(p, bm, bits, first);
	kd->first_page_offset = first;
	kd->present_pages = count;
	kd->total_pages = bits;
	kd->expected_file_size = off;
	return NULL;
}

static struct ich_error *rdmp_bad(const struct ich_dump *dump, const char *what)
{
	return ich_error_create(ICH_ERR_FORMAT, "%s: 32-bit RDMP dump (layout derived from the 64-bit one, see docs/SOURCES.md): %s",
				dump->path, what);
}

struct ich_error *kd_phys_rdmp(struct ich_dump *dump, struct kd_priv *p)
{
	const uint8_t *d = dump->file.data;
	uint64_t size = dump->file.size;
	struct ich_kdump *kd = dump->kd;
	const uint64_t h = second_header(kd);
	const bool strict = !kd->is64;
	char msg[256];
	if (size < h + 0x30)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: RDMP dump: the RDMP header at 0x%" PRIx64 " needs 0x30 bytes, the file has 0x%" PRIx64,
			dump->path, h, size);
	if (ich_le32(d + h + 4) != SIG_RDMP || ich_le32(d + h + 8) != SIG_DUMP)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: RDMP dump: signature at 0x%" PRIx64 " is 0x%08x/0x%08x, expected 'RDMP' then 'DUMP'",
			dump->path, h + 4, ich_le32(d + h + 4), ich_le32(d + h + 8));
	memcpy(kd->bitmap_signature, "RDMP", 5);
	uint64_t meta = ich_le64(d + h + 0x10), first = ich_le64(d + h + 0x18);
	if (strict && ich_le32(d + h) != RDMP_MARKER) {
		snprintf(msg, sizeof msg, "Marker at 0x%" PRIx64 " is 0x%x, expected 0x40", h, ich_le32(d + h));
		return rdmp_bad(dump, msg);
	}
	if (meta > MAX_RUNS_PAGES * 16 || first != h + 0x20 + meta) {
		if (strict) {
			snprintf(msg, sizeof msg,
				 "MetadataSize at 0x%" PRIx64 " is 0x%" PRIx64 " and FirstPageOffset at 0x%" PRIx64 " is 0x%" PRIx64 "; expected FirstPageOffset == 0x%" PRIx64 " + MetadataSize",
				 h + 0x10, meta, h + 0x18, first, h + 0x20);
			return rdmp_bad(dump, msg);
		}
		ich_dump_warn(dump, "RDMP header: MetadataSize 0x%" PRIx64 " and FirstPageOffset 0x%" PRIx64 " disagree (expected MetadataSize - 0x20 == FirstPageOffset - 0x2040)",
			      meta, first);
	}
	/* The range table: from +0x30 to the end of the metadata (+0x20 +
	 * MetadataSize), ended earlier by a zero PFN. */
	const uint64_t tab = h + 0x30;
	uint64_t nranges = meta >= 0x10 ? (meta - 0x10) / 16 : 0;
	if (!strict && meta / 16 > nranges)
		nranges = meta / 16;	/* as read before: MetadataSize / 16 entries at most */
	if (!strict)
		first = page_data_in_file(dump, "RDMP dump: FirstPageOffset", h + 0x18, first, size);
	uint64_t off = first, total = 0, prev_end = 0, n = 0;
	for (uint64_t i = 0; i < nranges; i++) {
		uint64_t e = tab + 16 * i;
		if (e + 16 > size) {
			snprintf(msg, sizeof msg,
				 "range %" PRIu64 " at 0x%" PRIx64 " lies past the end of the file (0x%" PRIx64 " bytes); the metadata promises up to 0x%" PRIx64,
				 i, e, size, h + 0x20 + meta);
			if (strict)
				return rdmp_bad(dump, msg);
			/* 64-bit: read what the file holds, as before */
			ich_dump_warn(dump, "RDMP dump: %s; the ranges before it are read", msg);
			break;
		}
		uint64_t pfn = ich_le64(d + e), cnt = ich_le64(d + e + 8);
		if (!pfn) {
			break;
		}
		if (cnt > MAX_RUNS_PAGES || total + cnt > MAX_RUNS_PAGES)
			return ich_error_create(ICH_ERR_FORMAT,
				"%s: RDMP range %" PRIu64 " at 0x%" PRIx64 " claims 0x%" PRIx64 " pages",
				dump->path, i, e, cnt);
		if (strict && (!cnt || pfn < prev_end || pfn + cnt > pfn_limit(kd))) {
			snprintf(msg, sizeof msg,
				 "range %" PRIu64 " at 0x%" PRIx64 " is PFN 0x%" PRIx64 " + 0x%" PRIx64 " pages: %s",
				 i, e, pfn, cnt,
				 !cnt ? "empty" : pfn < prev_end ? "not after the previous range"
					: "beyond what a non-PAE x86 machine addresses (PFN 0x100000)");
			return rdmp_bad(dump, msg);
		}
		if (!kd_add_run(p, pfn, cnt, off))
			return &ich_enomem;
		off += cnt * 0x1000;
		total += cnt;
		prev_end = pfn + cnt;
		n++;
	}
	if (strict && kd->dump_type == ICH_KDUMP_RDMP_COMPLETE &&
	    (ich_le32(d + h + 0x20) != n || ich_le64(d + h + 0x28) != total)) {
		snprintf(msg, sizeof msg,
			 "NumberOfRanges at 0x%" PRIx64 " is %u and TotalNumberOfPages at 0x%" PRIx64 " is 0x%" PRIx64 "; the range table at 0x%" PRIx64 " has %" PRIu64 " ranges of 0x%" PRIx64 " pages",
			 h + 0x20, ich_le32(d + h + 0x20), h + 0x28, ich_le64(d + h + 0x28), tab, n, total);
		return rdmp_bad(dump, msg);
	}
	kd->first_page_offset = first;
	kd->present_pages = total;
	kd->total_pages = total;
	kd->expected_file_size = off;
	return NULL;
}

/* DumpType 2, the kernel summary dumps of Windows 2000 to 7 (the 'SDMP'
 * header before the BMP_HEADER64 era): SUMMARY_DUMP32 at 0x1000 /
 * SUMMARY_DUMP64 at 0x2000, all fields ULONG: +0x00 Signature 'SDMP',
 * +0x04 ValidDump 'DUMP', +0x08 DumpOptions, +0x0C HeaderSize (file offset
 * of the first page), +0x10 BitmapSize (bits), +0x14 Pages (bits set),
 * +0x18 Bitmap.SizeOfBitMap, then the bitmap buffer at +0x20 (32-bit:
 * _reserved0 ULONG at +0x1C) or +0x28 (64-bit: _reserved0 ULONG64 at
 * +0x20).  Sources: the Singularity Dump.h SUMMARY_DUMP32 / SUMMARY_DUMP64
 * with absolute offsets in its comments (1000 ... 1020 Bits, 2000 ...
 * 2028 Bits), selene resources/sdk/nt/summary_dump32_t.hpp and
 * summary_dump64_t.hpp (WDK 10 PDB: Bitmap at +0x18, Buffer at +8 / +0x10
 * of it), and a public ntiodump-style header (find_string
 * "SUMMARY_DUMP32", id 8673998620) with the field comments; the debugger
 * engine source in the corpus (id 8481370720) maps a PFN through the
 * bitmap from Summary.HeaderSize (SumPhysicalToOffset).  No real summary
 * dump was available: Pages must equal the bits set and HeaderSize must
 * lie page-aligned after the bitmap, or the file is refused. */
struct ich_error *kd_phys_summary(struct ich_dump *dump, struct kd_priv *p)
{
	const uint8_t *d = dump->file.data;
	uint64_t size = dump->file.size;
	struct ich_kdump *kd = dump->kd;
	const uint64_t h = second_header(kd);
	const uint64_t bm_off = h + (kd->is64 ? 0x28 : 0x20);
	if (size < bm_off)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: summary dump: the SUMMARY_DUMP header at 0x%" PRIx64 " needs 0x%" PRIx64 " bytes, the file has 0x%" PRIx64,
			dump->path, h, bm_off - h, size);
	if (ich_le32(d + h) != SIG_SDMP || ich_le32(d + h + 4) != SIG_DUMP)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: summary dump: signature at 0x%" PRIx64 " is 0x%08x/0x%08x, expected 'SDMP' then 'DUMP'",
			dump->path, h, ich_le32(d + h), ich_le32(d + h + 4));
	memcpy(kd->bitmap_signature, "SDMP", 5);
	uint64_t first = ich_le32(d + h + 0xC), bits = ich_le32(d + h + 0x10),
		 npresent = ich_le32(d + h + 0x14), rtl_bits = ich_le32(d + h + 0x18);
	uint64_t bytes = (bits + 7) / 8;
	if (bytes > size - bm_off)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: summary dump: the bitmap at 0x%" PRIx64 " claims 0x%" PRIx64 " bits (BitmapSize at 0x%" PRIx64 "); the file has room for 0x%" PRIx64,
			dump->path, bm_off, bits, h + 0x10, (size - bm_off) * 8);
	if (rtl_bits != bits)
		ich_dump_warn(dump, "summary dump: Bitmap.SizeOfBitMap at 0x%" PRIx64 " is 0x%" PRIx64 ", BitmapSize at 0x%" PRIx64 " is 0x%" PRIx64 "; the bitmap is read with BitmapSize",
			      h + 0x18, rtl_bits, h + 0x10, bits);
	const uint8_t *bm = d + bm_off;
	if (first < bm_off + bytes || (first & 0xFFF))
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: summary dump: HeaderSize at 0x%" PRIx64 " is 0x%" PRIx64 "; the page data must start on a page boundary at or after the bitmap's end 0x%" PRIx64,
			dump->path, h + 0xC, first, bm_off + bytes);
	uint64_t off = first, count = 0;
	struct ich_error *err = bitmap_runs(dump, p, bm, bm_off, bits, true, &off, &count);
	if (err)
		return err;
	if (count != npresent)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: summary dump: Pages at 0x%" PRIx64 " is 0x%" PRIx64 " but the bitmap at 0x%" PRIx64 " has 0x%" PRIx64 " bits set",
			dump->path, h + 0x14, npresent, bm_off, count);
	kd->first_page_offset = first;
	kd->present_pages = count;
	kd->total_pages = bits;
	kd->expected_file_size = off;
	return NULL;
}
