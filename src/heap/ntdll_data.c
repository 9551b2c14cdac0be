/* SPDX-License-Identifier: MIT */
/*
 * ntdll's writable data in the dump: where the process-wide heap keys live
 * (RtlpLFHKey for the NT LFH; RtlpHpHeapGlobals for the segment heap).
 * Without symbols their addresses are unknown, but their values can be
 * recognised there: the sections come from ntdll's PE headers at its
 * module base (IMAGE_DOS_HEADER.e_lfanew -> IMAGE_NT_HEADERS ->
 * IMAGE_SECTION_HEADER[], Microsoft PE/COFF specification), writable ones
 * having IMAGE_SCN_MEM_WRITE (0x80000000) in Characteristics.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <icpheap/minidump.h>

#include "core/endian.h"
#include "heap/heap_internal.h"

#define IMAGE_SCN_MEM_WRITE 0x80000000u
#define MAX_SECTIONS 96

static void parse_sections(struct ich_heaps *h, struct ntdll_sections *ns)
{
	char *why = ns->why;
	size_t whylen = sizeof(ns->why);
	why[0] = '\0';
	ns->n = 0;
	/* the process's own bitness (WOW64: the SysWOW64 one), from the
	 * module list the heaps were opened with (process_modules.c) */
	struct { uint64_t base, size; } mm, *m = &mm;
	if (!heap_ntdll(h, &mm.base, &mm.size)) {
		snprintf(why, whylen, "no ntdll.dll in %s", ich_heaps_modules_origin(h));
		return;
	}
	uint8_t b[64];
	if (ich_as_read(h->as, m->base, b, 64, NULL) != 64 || b[0] != 'M' || b[1] != 'Z') {
		snprintf(why, whylen, "ntdll's headers at 0x%" PRIx64 " are not in the dump", m->base);
		return;
	}
	uint32_t lfanew = ich_le32(b + 0x3C);
	uint8_t nt[24];
	if (lfanew > 0x1000 || ich_as_read(h->as, m->base + lfanew, nt, 24, NULL) != 24 ||
	    memcmp(nt, "PE\0\0", 4)) {
		snprintf(why, whylen, "ntdll's PE header (e_lfanew 0x%x) is not in the dump or not a PE header", lfanew);
		return;
	}
	unsigned nsec = ich_le16(nt + 6), opt = ich_le16(nt + 20);
	uint64_t table = m->base + lfanew + 24 + opt;
	size_t n = 0;
	for (unsigned i = 0; i < nsec && i < MAX_SECTIONS && n < NTDLL_MAX_SECTIONS; i++) {
		uint8_t s[40];
		if (ich_as_read(h->as, table + (uint64_t)i * 40, s, 40, NULL) != 40)
			break;
		uint32_t vsize = ich_le32(s + 8), rva = ich_le32(s + 12), ch = ich_le32(s + 36);
		if (!(ch & IMAGE_SCN_MEM_WRITE) || !vsize || (uint64_t)rva + vsize > m->size)
			continue;
		memcpy(ns->sec[n].name, s, 8);
		ns->sec[n].name[8] = '\0';
		ns->sec[n].address = m->base + rva;
		ns->sec[n].size = vsize;
		n++;
	}
	if (!n)
		snprintf(why, whylen, "ntdll's section table lists no writable section");
	ns->n = n;
}

const struct ntdll_sections *ntdll_writable_sections(struct ich_heaps *h)
{
	if (!h->ntdll_secs && (h->ntdll_secs = malloc(sizeof(*h->ntdll_secs))))
		parse_sections(h, h->ntdll_secs);
	return h->ntdll_secs;
}

/*
 * The full 64-bit RtlpLFHKey: the UserBlocks give its low 32 bits; the
 * variable itself sits in ntdll's writable data.  Every aligned qword
 * there whose low half is the recovered one (and whose high half is not
 * zero) is a candidate; exactly one distinct value is the key.
 */
void lfh_find_full_key(struct ich_heaps *h)
{
	if (h->ptr != 8) {	/* x86: RtlpLFHKey is 32 bits, all known */
		h->lfh_key_full = h->lfh_key_known;
		return;
	}
	if (!h->lfh_key_known || h->lfh_key_full)
		return;
	const struct ntdll_sections *secs = ntdll_writable_sections(h);
	if (!secs)
		return;
	unsigned bits = h->lfh_key_low_bits ? h->lfh_key_low_bits : 32;
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1, lo = h->lfh_key & mask;
	uint64_t found = 0, at = 0;
	size_t distinct = 0;
	bool captured = false;
	struct data_iter it;
	for (size_t i = 0; i < secs->n && distinct < 2; i++) {
		const struct ntdll_section *sec = &secs->sec[i];
		struct data_chunk c;
		heap_data_iter(&it, h, sec->address & ~7ull, sec->address + sec->size, 8);
		while (distinct < 2 && data_iter_next(&it, &c)) {
			captured = true;
			for (size_t k = data_first(&c, 0, 8); k < c.starts && k + 8 <= c.len; k += 8) {
				uint64_t v = ich_le64(c.p + k);
				if ((v & mask) != lo || !(v >> bits) || v == found)
					continue;
				distinct++;
				found = v;
				at = c.va + k;
			}
		}
	}
	if (distinct == 1) {
		h->lfh_key = found;
		h->lfh_key_full = true;
		heaps_note(h, "RtlpLFHKey 0x%016" PRIx64 ": the only qword of ntdll's writable data (at 0x%" PRIx64 ") whose low %u bits are the key recovered from the heap",
			   found, at, bits);
	} else if (distinct > 1) {
		heaps_note(h, "RtlpLFHKey: several qwords of ntdll's writable data have the low %u bits 0x%" PRIx64 "; only those are known", bits, lo);
	} else {
		heaps_note(h, "RtlpLFHKey: only the low %u bits are known (%s)", bits,
			   secs->n ? (captured ? "no qword of ntdll's writable data has them as its low bits"
				   : "ntdll's writable data is not in the dump") : secs->why);
	}
}
