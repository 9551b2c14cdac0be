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
#include <string.h>
#include <strings.h>

#include <icpheap/minidump.h>

#include "core/endian.h"
#include "heap/heap_internal.h"

#define IMAGE_SCN_MEM_WRITE 0x80000000u
#define MAX_SECTIONS 96

size_t ntdll_writable_sections(struct ich_heaps *h, struct ntdll_section *out, size_t max,
			       char *why, size_t whylen)
{
	why[0] = '\0';
	/* the process's own bitness (WOW64: the SysWOW64 one), from the
	 * module list the heaps were opened with (process_modules.c) */
	struct { uint64_t base, size; } mm, *m = &mm;
	if (!heap_ntdll(h, &mm.base, &mm.size)) {
		snprintf(why, whylen, "no ntdll.dll in %s", ich_heaps_modules_origin(h));
		return 0;
	}
	uint8_t b[64];
	if (ich_as_read(h->as, m->base, b, 64, NULL) != 64 || b[0] != 'M' || b[1] != 'Z') {
		snprintf(why, whylen, "ntdll's headers at 0x%" PRIx64 " are not in the dump", m->base);
		return 0;
	}
	uint32_t lfanew = ich_le32(b + 0x3C);
	uint8_t nt[24];
	if (lfanew > 0x1000 || ich_as_read(h->as, m->base + lfanew, nt, 24, NULL) != 24 ||
	    memcmp(nt, "PE\0\0", 4)) {
		snprintf(why, whylen, "ntdll's PE header (e_lfanew 0x%x) is not in the dump or not a PE header", lfanew);
		return 0;
	}
	unsigned nsec = ich_le16(nt + 6), opt = ich_le16(nt + 20);
	uint64_t table = m->base + lfanew + 24 + opt;
	size_t n = 0;
	for (unsigned i = 0; i < nsec && i < MAX_SECTIONS && n < max; i++) {
		uint8_t s[40];
		if (ich_as_read(h->as, table + (uint64_t)i * 40, s, 40, NULL) != 40)
			break;
		uint32_t vsize = ich_le32(s + 8), rva = ich_le32(s + 12), ch = ich_le32(s + 36);
		if (!(ch & IMAGE_SCN_MEM_WRITE) || !vsize || (uint64_t)rva + vsize > m->size)
			continue;
		memcpy(out[n].name, s, 8);
		out[n].name[8] = '\0';
		out[n].address = m->base + rva;
		out[n].size = vsize;
		n++;
	}
	if (!n)
		snprintf(why, whylen, "ntdll's section table lists no writable section");
	return n;
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
	struct ntdll_section sec[16];
	char why[160];
	size_t ns = ntdll_writable_sections(h, sec, 16, why, sizeof(why));
	unsigned bits = h->lfh_key_low_bits ? h->lfh_key_low_bits : 32;
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1, lo = h->lfh_key & mask;
	uint64_t found = 0, at = 0;
	size_t distinct = 0;
	uint64_t captured = 0;
	for (size_t i = 0; i < ns && distinct < 2; i++) {
		uint8_t buf[4096];
		for (uint64_t a = sec[i].address & ~7ull; a < sec[i].address + sec[i].size && distinct < 2; a += sizeof(buf)) {
			size_t got = ich_as_read(h->as, a, buf, sizeof(buf), NULL);
			captured += got;
			for (size_t k = 0; k + 8 <= got; k += 8) {
				uint64_t v = ich_le64(buf + k);
				if ((v & mask) != lo || !(v >> bits) || v == found)
					continue;
				distinct++;
				found = v;
				at = a + k;
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
			   ns ? (captured ? "no qword of ntdll's writable data has them as its low bits"
				   : "ntdll's writable data is not in the dump") : why);
	}
}
