/* SPDX-License-Identifier: MIT */
/*
 * Kernel crash dumps: DUMP_HEADER32 ('PAGE'/'DUMP') and DUMP_HEADER64
 * ('PAGE'/'DU64'), layouts.md §7 (S3 kdmp-parser, S4 volatility3).
 *
 * The physical memory of every container kind (full: PhysicalMemoryBlock
 * runs; bitmap: SDMP/FDMP; RDMP: PFN ranges; 64- and 32-bit, the last two
 * in kdump_phys.c) is reduced once to one sorted
 * array of runs {first PFN, page count, file offset}, so a frame lookup is
 * a binary search whatever the format.  A bitmap dump cut short keeps
 * runs only up to the end of the file and answers for the promised pages
 * after it from the bitmap itself, so the run table never outgrows the
 * file however hostile the bitmap.  Triage dumps have no physical
 * memory: their data blocks are kernel VA ranges (kdump_triage.c).
 * Virtual addresses go through the page tables (kdump_paging.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bits.h"
#include "core/endian.h"
#include "reader/kdump_internal.h"

#define SIG_PAGE 0x45474150u	/* 'PAGE' */
#define SIG_DU64 0x34365544u	/* 'DU64' */
#define SIG_DUMP 0x504D5544u	/* 'DUMP' */
#define MAX_RUNS_PAGES (1ull << 40)	/* 4 PiB of RAM: beyond any machine */


const char *ich_kdump_type_name(uint32_t t)
{
	switch (t) {
	case ICH_KDUMP_FULL: return "full";
	case ICH_KDUMP_SUMMARY: return "summary";
	case ICH_KDUMP_HEADER: return "header only";
	case ICH_KDUMP_TRIAGE: return "triage (small memory dump)";
	case ICH_KDUMP_BITMAP_FULL: return "bitmap";
	case ICH_KDUMP_BITMAP_LIVE: return "live kernel bitmap";
	case ICH_KDUMP_RDMP_KERNEL: return "kernel memory (RDMP)";
	case ICH_KDUMP_RDMP_KERNEL_USER: return "kernel and user memory (RDMP)";
	case ICH_KDUMP_RDMP_COMPLETE: return "complete memory (RDMP)";
	}
	return "unknown";
}

static bool kd_probe(const uint8_t *d, uint64_t size)
{
	return size >= 8 && ich_le32(d) == SIG_PAGE && (ich_le32(d + 4) == SIG_DU64 || ich_le32(d + 4) == SIG_DUMP);
}

static int run_cmp(const void *a, const void *b)
{
	const struct kd_run *x = a, *y = b;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/* Full dump: page data follows the PhysicalMemoryBlock runs in order. */
static struct ich_error *phys_full(struct ich_dump *dump, struct kd_priv *p, uint64_t data_off)
{
	struct ich_kdump *kd = dump->kd;
	uint64_t off = data_off;
	for (size_t i = 0; i < kd->nruns; i++) {
		if (!kd_add_run(p, kd->runs[i].base_page, kd->runs[i].page_count, off))
			return &ich_enomem;
		off += kd->runs[i].page_count * 0x1000;
	}
	kd->first_page_offset = data_off;
	kd->present_pages = kd->total_pages;
	kd->expected_file_size = off;
	return NULL;
}

static void parse_header64(struct ich_dump *dump, struct ich_kdump *kd)
{
	const uint8_t *d = dump->file.data;
	kd->is64 = true;
	kd->major_version = ich_le32(d + 0x8);
	kd->minor_version = ich_le32(d + 0xC);
	kd->directory_table_base = ich_le64(d + 0x10);
	kd->pfn_database = ich_le64(d + 0x18);
	kd->ps_loaded_module_list = ich_le64(d + 0x20);
	kd->ps_active_process_head = ich_le64(d + 0x28);
	kd->machine_image_type = ich_le32(d + 0x30);
	kd->number_processors = ich_le32(d + 0x34);
	kd->bugcheck_code = ich_le32(d + 0x38);
	for (int i = 0; i < 4; i++)
		kd->bugcheck_parameters[i] = ich_le64(d + 0x40 + 8 * i);
	kd->kd_debugger_data_block = ich_le64(d + 0x80);
	/* EXCEPTION_RECORD64 at 0xF00: Code 0, Flags 4, Record 8, Address 0x10 */
	kd->exception_code = ich_le32(d + 0xF00);
	kd->exception_address = ich_le64(d + 0xF10);
	kd->dump_type = ich_le32(d + 0xF98);
	kd->required_dump_space = ich_le64(d + 0xFA0);
	kd->system_time = ich_le64(d + 0xFA8);
	kd->system_up_time = ich_le64(d + 0x1030);
	kd->mini_dump_fields = ich_le32(d + 0x1038);
	kd->product_type = ich_le32(d + 0x1040);
	kd->suite_mask = ich_le32(d + 0x1044);
	kd->writer_status = ich_le32(d + 0x1048);
	kd->kd_secondary_version = d[0x104D];
	kd->attributes = ich_le32(d + 0x1050);
	kd->boot_id = ich_le32(d + 0x1054);
	size_t j = 0;
	for (size_t i = 0; i < 128 && d[0xFB0 + i] && j < 128; i++)
		kd->comment[j++] = (d[0xFB0 + i] >= 0x20 && d[0xFB0 + i] < 0x7f) ? (char)d[0xFB0 + i] : '?';
	kd->comment[j] = '\0';
}

static void parse_header32(struct ich_dump *dump, struct ich_kdump *kd)
{
	const uint8_t *d = dump->file.data;
	kd->is64 = false;
	kd->major_version = ich_le32(d + 0x8);
	kd->minor_version = ich_le32(d + 0xC);
	kd->directory_table_base = ich_le32(d + 0x10);
	kd->pfn_database = ich_le32(d + 0x14);
	kd->ps_loaded_module_list = ich_le32(d + 0x18);
	kd->ps_active_process_head = ich_le32(d + 0x1C);
	kd->machine_image_type = ich_le32(d + 0x20);
	kd->number_processors = ich_le32(d + 0x24);
	kd->bugcheck_code = ich_le32(d + 0x28);
	for (int i = 0; i < 4; i++)
		kd->bugcheck_parameters[i] = ich_le32(d + 0x2C + 4 * i);
	kd->pae_enabled = d[0x5C] != 0;
	kd->kd_secondary_version = d[0x5D];
	kd->kd_debugger_data_block = ich_le32(d + 0x60);
	/* EXCEPTION_RECORD32 at 0x7D0: Code 0, Flags 4, Record 8, Address 0xC */
	kd->exception_code = ich_le32(d + 0x7D0);
	kd->exception_address = ich_le32(d + 0x7DC);
	kd->dump_type = ich_le32(d + 0xF88);
	kd->mini_dump_fields = ich_le32(d + 0xF8C);
	kd->product_type = ich_le32(d + 0xF94);
	kd->suite_mask = ich_le32(d + 0xF98);
	kd->writer_status = ich_le32(d + 0xF9C);
	kd->required_dump_space = ich_le64(d + 0xFA0);
	kd->system_up_time = ich_le64(d + 0xFB8);
	kd->system_time = ich_le64(d + 0xFC0);
	size_t j = 0;
	for (size_t i = 0; i < 128 && d[0x820 + i] && j < 128; i++)
		kd->comment[j++] = (d[0x820 + i] >= 0x20 && d[0x820 + i] < 0x7f) ? (char)d[0x820 + i] : '?';
	kd->comment[j] = '\0';
}

/* PhysicalMemoryBlock: 64-bit at 0x88 (NumberOfRuns u32, pad, NumberOfPages
 * u64, runs of {u64, u64} from 0x98, up to ContextRecord at 0x348); 32-bit
 * at 0x64 (u32 count, u32 pages, runs of {u32, u32} from 0x6C to 0x320). */
static struct ich_error *parse_runs(struct ich_dump *dump, struct ich_kdump *kd)
{
	const uint8_t *d = dump->file.data;
	uint64_t n, max, total = 0;
	if (kd->is64) {
		n = ich_le32(d + 0x88);
		kd->total_pages = ich_le64(d + 0x90);
		max = (0x348 - 0x98) / 16;
	} else {
		n = ich_le32(d + 0x64);
		kd->total_pages = ich_le32(d + 0x68);
		max = (0x320 - 0x6C) / 8;
	}
	if (n > max)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: PhysicalMemoryBlock at 0x%x claims %" PRIu64 " runs; the header has room for %" PRIu64,
			dump->path, kd->is64 ? 0x88 : 0x64, n, max);
	kd->runs = calloc(n ? n : 1, sizeof(*kd->runs));
	if (!kd->runs)
		return &ich_enomem;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t base, cnt;
		if (kd->is64) {
			base = ich_le64(d + 0x98 + 16 * i);
			cnt = ich_le64(d + 0xA0 + 16 * i);
		} else {
			base = ich_le32(d + 0x6C + 8 * i);
			cnt = ich_le32(d + 0x70 + 8 * i);
		}
		if (cnt > MAX_RUNS_PAGES || base > MAX_RUNS_PAGES || total + cnt > MAX_RUNS_PAGES)
			return ich_error_create(ICH_ERR_FORMAT,
				"%s: PhysicalMemoryBlock run %" PRIu64 " (base page 0x%" PRIx64 ", 0x%" PRIx64 " pages) is impossible",
				dump->path, i, base, cnt);
		kd->runs[i] = (struct ich_kdump_run){ base, cnt };
		total += cnt;
	}
	kd->nruns = (size_t)n;
	if (total != kd->total_pages && kd->dump_type == ICH_KDUMP_FULL)
		ich_dump_warn(dump, "PhysicalMemoryBlock: NumberOfPages is 0x%" PRIx64 " but the runs add up to 0x%" PRIx64,
			      kd->total_pages, total);
	if (kd->dump_type == ICH_KDUMP_FULL)
		kd->total_pages = total;
	return NULL;
}

static const char *kind_name(const struct ich_kdump *kd)
{
	switch (kd->dump_type) {
	case ICH_KDUMP_FULL: return "kernel full dump";
	case ICH_KDUMP_SUMMARY: return "kernel summary dump";
	case ICH_KDUMP_HEADER: return "kernel header-only dump";
	case ICH_KDUMP_TRIAGE: return "kernel triage dump";
	case ICH_KDUMP_BITMAP_FULL:
		return !strcmp(kd->bitmap_signature, "FDMP") ? "kernel bitmap dump (FDMP, full)" : "kernel bitmap dump (SDMP, kernel)";
	case ICH_KDUMP_BITMAP_LIVE: return "live kernel bitmap dump";
	case ICH_KDUMP_RDMP_KERNEL: return "kernel memory dump (RDMP)";
	case ICH_KDUMP_RDMP_KERNEL_USER: return "kernel and user memory dump (RDMP)";
	case ICH_KDUMP_RDMP_COMPLETE: return "complete memory dump (RDMP)";
	}
	return "kernel dump";
}

_Static_assert((64u * KD_RANK_BLK_WORDS) == 1u << KD_RANK_BLK_SHIFT, "a rank block is its words' frames");

/* 2 MiB blocks of physical memory (x64's large page) index the runs; an
 * index of more than 2^22 blocks (8 TiB of PFN space: 16 MiB of index) is
 * not built, the lookup then searches all runs. */
#define KD_BLK_SHIFT 9
#define KD_BLK_MAX (1ull << 22)

/*
 * kd_phys_lookup's index (struct kd_priv blk_first), built once the runs
 * are sorted.  Issue 12: a bitmap dump whose pages are scattered over RAM,
 * as a real one's are, has a run a page or two long for most pages
 * (kb-scatter: ~64,000 runs), and the binary search over all of them
 * (16 dependent loads into 1.5 MB) was 30% of `analyze --processes all`.
 * The answer is the same: the search over a block's runs finds what the
 * search over all finds, since the runs are sorted by start.
 */
static void kd_index_runs(struct kd_priv *p)
{
	if (!p->nruns || p->nruns > UINT32_MAX)
		return;
	uint64_t nblk = (p->runs[p->nruns - 1].pfn >> KD_BLK_SHIFT) + 1;
	if (nblk > KD_BLK_MAX)
		return;
	uint32_t *f = malloc((size_t)(nblk + 2) * sizeof(*f));
	if (!f)
		return;	/* (the search over all runs) */
	size_t i = 0;
	for (uint64_t b = 0; b <= nblk + 1; b++) {
		while (i < p->nruns && p->runs[i].pfn < (b << KD_BLK_SHIFT))
			i++;
		f[b] = (uint32_t)i;
	}
	p->blk_first = f;
	p->nblk = nblk;
}

static struct ich_error *kd_open(struct ich_dump *dump)
{
	const uint8_t *d = dump->file.data;
	uint64_t size = dump->file.size;
	bool is64 = ich_le32(d + 4) == SIG_DU64;
	uint64_t hsize = is64 ? 0x2000 : 0x1000;
	/* the last field read: BootId at 0x1054 / SystemTime at 0xFC0 */
	uint64_t need = is64 ? 0x1058u : 0xFC8u;
	if (size < need)
		return ich_error_create(ICH_ERR_FORMAT,
			"%s: %s: the fields up to 0x%" PRIx64 " need 0x%" PRIx64 " bytes, the file has 0x%" PRIx64,
			dump->path, is64 ? "DUMP_HEADER64" : "DUMP_HEADER32", need, need, size);
	struct ich_kdump *kd = calloc(1, sizeof(*kd));
	struct kd_priv *p = calloc(1, sizeof(*p));
	if (!kd || !p) {
		free(kd);
		free(p);
		return &ich_enomem;
	}
	dump->kd = kd;
	dump->priv = p;
	dump->kind = ICH_DUMP_KERNEL;
	if (is64)
		parse_header64(dump, kd);
	else
		parse_header32(dump, kd);
	switch (kd->machine_image_type) {
	case 0x14c: dump->arch = ICH_ARCH_X86; break;
	case 0x8664: dump->arch = ICH_ARCH_X64; break;
	case 0xaa64: dump->arch = ICH_ARCH_ARM64; break;
	default: dump->arch = ICH_ARCH_UNKNOWN; break;
	}
	dump->build = kd->minor_version;
	/* Only full dumps depend on PhysicalMemoryBlock; triage dumps leave it
	 * filled with 'PAGE', so elsewhere a bad block is only a warning. */
	struct ich_error *err = NULL;
	if (kd->dump_type != ICH_KDUMP_TRIAGE) {
		err = parse_runs(dump, kd);
		if (err && kd->dump_type == ICH_KDUMP_FULL)
			return err;
		if (err) {
			ich_dump_warn(dump, "%s", err->message);
			ich_error_destroy(err);
			err = NULL;
			free(kd->runs);
			kd->runs = NULL;
			kd->nruns = 0;
		}
	}
	switch (kd->dump_type) {
	case ICH_KDUMP_FULL:
		err = phys_full(dump, p, hsize);
		break;
	case ICH_KDUMP_BITMAP_FULL:
	case ICH_KDUMP_BITMAP_LIVE:
	case ICH_KDUMP_RDMP_KERNEL:
	case ICH_KDUMP_RDMP_KERNEL_USER:
	case ICH_KDUMP_RDMP_COMPLETE:
		if (kd->dump_type == ICH_KDUMP_BITMAP_FULL || kd->dump_type == ICH_KDUMP_BITMAP_LIVE)
			err = kd_phys_bitmap(dump, p);
		else
			err = kd_phys_rdmp(dump, p);
		break;
	case ICH_KDUMP_SUMMARY:
		err = kd_phys_summary(dump, p);
		break;
	case ICH_KDUMP_TRIAGE:
		err = kd_triage_open(dump);
		break;
	default:
		dump->kind_name = kind_name(kd);
		ich_dump_warn(dump, "DumpType %u (%s): the memory layout of this dump type is not known; only the header is shown",
			      kd->dump_type, ich_kdump_type_name(kd->dump_type));
		return NULL;
	}
	dump->kind_name = kind_name(kd);
	if (err)
		return err;
	/* (a bitmap's runs come in order: ~64,000 of them in a real bitmap
	 * dump, whose sort was 3% of kb-scatter's `analyze`) */
	size_t unsorted = 1;
	while (unsorted < p->nruns && p->runs[unsorted - 1].pfn <= p->runs[unsorted].pfn)
		unsorted++;
	if (unsorted < p->nruns)
		qsort(p->runs, p->nruns, sizeof(*p->runs), run_cmp);
	kd_index_runs(p);
	if (kd->dump_type != ICH_KDUMP_TRIAGE && kd->expected_file_size > size) {
		kd->truncated = true;
		ich_dump_warn(dump, "file is 0x%" PRIx64 " bytes, the header promises 0x%" PRIx64 "; pages from file offset 0x%" PRIx64 " on are missing",
			      size, kd->expected_file_size, size);
	}
	if (kd->dump_type == ICH_KDUMP_TRIAGE)
		return NULL;
	if (dump->arch != ICH_ARCH_X64 && dump->arch != ICH_ARCH_X86 && dump->arch != ICH_ARCH_ARM64) {
		ich_dump_warn(dump, "MachineImageType 0x%x: page tables of this architecture are not supported; kernel memory is not addressable",
			      kd->machine_image_type);
		return NULL;
	}
	if (dump->arch == ICH_ARCH_ARM64 && !kd->is64) {
		ich_dump_warn(dump, "MachineImageType 0xaa64 (ARM64) with a 32-bit DUMP_HEADER ('PAGEDUMP'): not a layout ARM64 Windows writes; kernel memory is not addressable");
		return NULL;
	}
	if (dump->arch == ICH_ARCH_ARM64) {
		const char *why = kd_arm64_dtb_refusal(kd->directory_table_base);
		if (why) {
			ich_dump_warn(dump, "DirectoryTableBase 0x%" PRIx64 ": %s; kernel memory is not addressable",
				      kd->directory_table_base, why);
			return NULL;
		}
	}
	return kd_paging_create(dump, kd->directory_table_base, "kernel VA", false, &dump->as);
}

/* Map a physical address to file bytes; returns how many contiguous bytes
 * from pa are in the same run (0 and why when absent). */
uint64_t kd_phys_lookup(const struct ich_dump *dump, uint64_t pa, uint64_t *file_off,
			enum ich_miss_reason *why)
{
	const struct kd_priv *p = dump->priv;
	uint64_t pfn = pa >> 12;
	uint64_t off, avail;
	if (p->rank_cum && (pfn >> 6) < p->rank_words) {
		/* A bitmap dump: the frame's bit, and the bits set before it
		 * (kd_priv rank_cum), when its run ends inside the frame's
		 * word (the usual case where frames are scattered); a run
		 * that goes on past the word is the runs' to measure. */
		uint64_t w = pfn >> 6;
		uint64_t word = ich_le64(p->rank_bm + 8 * w);
		unsigned bit = (unsigned)(pfn & 63);
		uint64_t clear = ~word >> bit;	/* bit 0: pfn's bit clear */
		if (clear & 1) {
			*why = ICH_MISS_NOT_CAPTURED;
			return 0;
		}
		if (clear) {
			uint64_t k = p->rank_cum[pfn >> KD_RANK_BLK_SHIFT] +
				     (uint64_t)ich_popcount64(word & ((1ull << bit) - 1));
			for (uint64_t v = w & ~(uint64_t)(KD_RANK_BLK_WORDS - 1); v < w; v++)
				k += (uint64_t)ich_popcount64(ich_le64(p->rank_bm + 8 * v));
			off = p->rank_first + k * 0x1000 + (pa & 0xFFF);
			avail = (uint64_t)__builtin_ctzll(clear) * 0x1000 - (pa & 0xFFF);
			goto found;
		}
	}
	size_t lo = 0, hi = p->nruns;
	if (p->blk_first) {
		/* the runs that start in pfn's 2 MiB block: those before it
		 * all start at or below pfn, those after it above */
		uint64_t b = pfn >> KD_BLK_SHIFT;
		if (b > p->nblk)
			b = p->nblk;	/* (past every run's start: all of them) */
		lo = p->blk_first[b];
		hi = p->blk_first[b + 1];
	}
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (p->runs[m].pfn <= pfn)
			lo = m + 1;
		else
			hi = m;
	}
	if (lo == 0 || pfn - p->runs[lo - 1].pfn >= p->runs[lo - 1].count) {
		*why = ICH_MISS_NOT_CAPTURED;
		if (p->bitmap && pfn >= p->beyond_pfn && pfn < p->bitmap_bits &&
		    (p->bitmap[pfn / 8] >> (pfn & 7)) & 1)
			*why = ICH_MISS_BEYOND_FILE;
		return 0;
	}
	const struct kd_run *r = &p->runs[lo - 1];
	off = r->file_off + (pa - r->pfn * 0x1000);
	avail = (r->pfn + r->count) * 0x1000 - pa;
found:
	if (off >= dump->file.size) {
		*why = ICH_MISS_BEYOND_FILE;
		return 0;
	}
	if (avail > dump->file.size - off)
		avail = dump->file.size - off;
	*file_off = off;
	*why = ICH_MISS_NONE;
	return avail;
}

static size_t kd_read_phys(struct ich_dump *dump, uint64_t pa, void *buf, size_t len,
			   struct ich_read_result *res)
{
	uint8_t *out = buf;
	size_t done = 0;
	res->why = ICH_MISS_NONE;
	while (done < len) {
		uint64_t off;
		enum ich_miss_reason why;
		uint64_t n = kd_phys_lookup(dump, pa + done, &off, &why);
		if (!n) {
			res->why = why;
			break;
		}
		if (n > len - done)
			n = len - done;
		memcpy(out + done, dump->file.data + off, (size_t)n);
		done += (size_t)n;
	}
	res->nread = done;
	res->miss_addr = pa + done;
	return done;
}

static struct ich_error *kd_process_as(struct ich_dump *dump, uint64_t dtb, struct ich_as **ret)
{
	if (!dump->as || dump->kd->dump_type == ICH_KDUMP_TRIAGE)
		return ich_error_create(ICH_ERR_UNSUPPORTED,
			"%s: a %s has no page tables to build a process address space from",
			dump->path, dump->kind_name);
	char name[64];
	snprintf(name, sizeof(name), "process VA (DTB 0x%" PRIx64 ")", dtb);
	return kd_paging_create(dump, dtb, name, true, ret);
}

static void kd_close(struct ich_dump *dump)
{
	struct kd_priv *p = dump->priv;
	if (p) {
		kd_paging_drop_spare(p);
		free(p->runs);
		free(p->blk_first);
		free(p->rank_cum);
		free(p);
		dump->priv = NULL;
	}
	if (dump->kd) {
		free(dump->kd->runs);
		free(dump->kd);
		dump->kd = NULL;
	}
}

const struct ich_reader_ops ich_kdump_ops = {
	.name = "kernel dump",
	.probe = kd_probe,
	.open = kd_open,
	.close = kd_close,
	.read_phys = kd_read_phys,
	.process_as = kd_process_as,
};
