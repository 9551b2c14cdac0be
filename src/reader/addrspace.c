/* SPDX-License-Identifier: MIT */
/*
 * Generic address-space helpers over struct ich_as_ops: exact and typed
 * reads, strings, and bounded, cycle-safe LIST_ENTRY walks.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/endian.h"
#include "core/utf.h"
#include "reader/reader.h"

const char *ich_miss_reason_name(enum ich_miss_reason why)
{
	switch (why) {
	case ICH_MISS_NONE: return "readable";
	case ICH_MISS_NOT_CAPTURED: return "not_captured";
	case ICH_MISS_NOT_MAPPED: return "not_mapped";
	case ICH_MISS_PAGED_OUT: return "paged_out";
	case ICH_MISS_BEYOND_FILE: return "beyond_file";
	case ICH_MISS_NONCANONICAL: return "noncanonical";
	case ICH_MISS_PT_NOT_CAPTURED: return "page_table_not_captured";
	case ICH_MISS_DEMAND_ZERO: return "demand_zero";
	case ICH_MISS_PROTOTYPE: return "prototype";
	}
	return "unknown";
}

const char *ich_miss_reason_str(enum ich_miss_reason why)
{
	switch (why) {
	case ICH_MISS_NONE: return "readable";
	case ICH_MISS_NOT_CAPTURED: return "not captured in this dump";
	case ICH_MISS_NOT_MAPPED: return "not present in the page tables";
	case ICH_MISS_PAGED_OUT: return "paged out (in a paging file, not in this dump)";
	case ICH_MISS_BEYOND_FILE: return "beyond the end of the (truncated) dump file";
	case ICH_MISS_NONCANONICAL: return "not a canonical address";
	case ICH_MISS_PT_NOT_CAPTURED: return "its page table is not captured in this dump";
	case ICH_MISS_DEMAND_ZERO: return "demand-zero (committed, never touched: no data anywhere)";
	case ICH_MISS_PROTOTYPE: return "behind a prototype PTE (shared/section page, not resolved)";
	}
	return "unreadable";
}

unsigned ich_as_ptr_size(const struct ich_as *as) { return as->ptr_size; }
const char *ich_as_name(const struct ich_as *as) { return as->name; }

size_t ich_as_read_slow(struct ich_as *as, uint64_t addr, void *buf, size_t len,
			struct ich_read_result *res)
{
	struct ich_read_result local;
	if (!res)
		res = &local;
	res->nread = 0;
	res->why = ICH_MISS_NONE;
	res->miss_addr = addr;
	res->pte = 0;
	if (len == 0)
		return 0;
	return as->ops->read(as, addr, buf, len, res);
}

const void *ich_as_peek_slow(struct ich_as *as, uint64_t addr, size_t len)
{
	return as->ops->peek ? as->ops->peek(as, addr, len) : NULL;
}

const void *ich_as_peek_stream_slow(struct ich_as *as, uint64_t addr, size_t len, uint64_t end)
{
	return as->ops->stream ? as->ops->stream(as, addr, len, end) : ich_as_peek_window(as, addr, len);
}

struct ich_error *ich_as_read_exact_slow(struct ich_as *as, uint64_t addr,
					 void *buf, size_t len)
{
	/* Zero-copy first: the walkers' small typed reads mostly land inside
	 * one mapped page, and the short path keeps more loads in flight. */
	if (as->ops->peek) {
		const void *p = as->ops->peek(as, addr, len);
		if (p) {
			memcpy(buf, p, len);
			return NULL;
		}
	}
	struct ich_read_result res;
	if (ich_as_read_slow(as, addr, buf, len, &res) == len)
		return NULL;
	if (res.miss_addr == addr)
		return ich_error_create(ICH_ERR_FAULT, "0x%" PRIx64 " %s",
					addr, ich_miss_reason_str(res.why));
	return ich_error_create(ICH_ERR_FAULT,
		"0x%" PRIx64 " (byte 0x%zx of %zu read at 0x%" PRIx64 ") %s",
		res.miss_addr, res.nread, len, addr, ich_miss_reason_str(res.why));
}

/* In place when the reader can point at the bytes (one indirect call and
 * a load: random reads keep more misses in flight, issue 12), else
 * through a copy that also names what is missing. */
#define TYPED_READ_SLOW(name, type, n)						\
struct ich_error *name##_slow(struct ich_as *as, uint64_t addr, type *out)	\
{										\
	const uint8_t *p = as->ops->peek ? as->ops->peek(as, addr, n) : NULL;	\
	if (p) {								\
		*out = (type)ich_as_load_le_(p, n);				\
		return NULL;							\
	}									\
	uint8_t b[n];								\
	struct ich_error *err = ich_as_read_exact_slow(as, addr, b, n);		\
	if (!err)								\
		*out = (type)ich_as_load_le_(b, n);				\
	return err;								\
}
TYPED_READ_SLOW(ich_as_read_u8, uint8_t, 1)
TYPED_READ_SLOW(ich_as_read_u16, uint16_t, 2)
TYPED_READ_SLOW(ich_as_read_u32, uint32_t, 4)
TYPED_READ_SLOW(ich_as_read_u64, uint64_t, 8)
#undef TYPED_READ_SLOW

struct ich_error *ich_as_read_ptr(struct ich_as *as, uint64_t addr, uint64_t *out)
{
	if (as->ptr_size == 4) {
		uint32_t v;
		struct ich_error *err = ich_as_read_u32(as, addr, &v);
		if (!err)
			*out = v;
		return err;
	}
	return ich_as_read_u64(as, addr, out);
}

struct ich_error *ich_as_read_utf16(struct ich_as *as, uint64_t addr,
				    size_t max_bytes, char **out)
{
	/* Strings in dumps are short; cap the work for hostile lengths. */
	if (max_bytes > 0x20000)
		max_bytes = 0x20000;
	max_bytes &= ~(size_t)1;
	uint8_t *buf = malloc(max_bytes + 2);
	if (!buf)
		return &ich_enomem;
	struct ich_read_result res;
	size_t n = ich_as_read(as, addr, buf, max_bytes, &res);
	/* A string cut short by missing memory is fine if it ended before. */
	bool terminated = false;
	for (size_t i = 0; i + 1 < n; i += 2)
		if (!buf[i] && !buf[i + 1]) {
			terminated = true;
			break;
		}
	if (n < max_bytes && !terminated) {
		free(buf);
		return ich_error_create(ICH_ERR_FAULT,
			"string at 0x%" PRIx64 ": 0x%" PRIx64 " %s", addr,
			res.miss_addr, ich_miss_reason_str(res.why));
	}
	*out = ich_utf16le_to_utf8(buf, n);
	free(buf);
	return *out ? NULL : &ich_enomem;
}

struct ich_error *ich_as_read_unicode_string(struct ich_as *as, uint64_t addr,
					     char **out)
{
	uint16_t length;
	uint64_t buffer;
	struct ich_error *err = ich_as_read_u16(as, addr, &length);
	if (err)
		return err;
	/* UNICODE_STRING: Length, MaximumLength, then Buffer aligned to the
	 * pointer size (offset 4 on x86, 8 on x64). */
	err = ich_as_read_ptr(as, addr + as->ptr_size, &buffer);
	if (err)
		return err;
	if (length == 0 || buffer == 0) {
		*out = strdup("");
		return *out ? NULL : &ich_enomem;
	}
	uint8_t *buf = malloc(length);
	if (!buf)
		return &ich_enomem;
	err = ich_as_read_exact(as, buffer, buf, length);
	if (err) {
		free(buf);
		return ich_error_wrap(err, "UNICODE_STRING at 0x%" PRIx64 ": ", addr);
	}
	*out = ich_utf16le_to_utf8(buf, length);
	free(buf);
	return *out ? NULL : &ich_enomem;
}

/*
 * Cycle detection: Brent's algorithm on the Flink chain, so memory stays
 * O(1) however long the list; a list that never returns to the head within
 * max entries is reported as too long.
 */
struct ich_error *ich_as_list_walk(struct ich_as *as, uint64_t head,
				   size_t max, bool check_blink,
				   ich_list_fn *fn, void *arg, size_t *count)
{
	size_t n = 0;
	uint64_t prev = head, cur;
	uint64_t tortoise = head;
	size_t power = 1, lam = 0;
	struct ich_error *err = ich_as_read_ptr(as, head, &cur);
	if (err) {
		err = ich_error_wrap(err, "list head 0x%" PRIx64 ": ", head);
		goto out;
	}
	while (cur != head) {
		if (cur == 0) {
			err = ich_error_create(ICH_ERR_FORMAT,
				"list 0x%" PRIx64 ": entry 0x%" PRIx64 " has a NULL Flink after %zu entries",
				head, prev, n);
			goto out;
		}
		if (n >= max) {
			err = ich_error_create(ICH_ERR_FORMAT,
				"list 0x%" PRIx64 ": more than %zu entries without returning to the head (corrupt or cyclic)",
				head, max);
			goto out;
		}
		if (check_blink) {
			uint64_t blink;
			err = ich_as_read_ptr(as, cur + as->ptr_size, &blink);
			if (err) {
				err = ich_error_wrap(err, "list 0x%" PRIx64 ": entry 0x%" PRIx64 " Blink: ",
						     head, cur);
				goto out;
			}
			if (blink != prev) {
				err = ich_error_create(ICH_ERR_FORMAT,
					"list 0x%" PRIx64 ": entry 0x%" PRIx64 " Blink is 0x%" PRIx64 ", expected 0x%" PRIx64,
					head, cur, blink, prev);
				goto out;
			}
		}
		n++;
		err = fn(cur, arg);
		if (err) {
			if (err == &ich_stop)
				err = NULL;
			goto out;
		}
		uint64_t next;
		err = ich_as_read_ptr(as, cur, &next);
		if (err) {
			err = ich_error_wrap(err, "list 0x%" PRIx64 ": entry 0x%" PRIx64 " Flink: ",
					     head, cur);
			goto out;
		}
		prev = cur;
		cur = next;
		/* Brent: move the tortoise to the hare every power-of-two steps. */
		if (++lam == power) {
			tortoise = cur;
			power *= 2;
			lam = 0;
		} else if (cur == tortoise && cur != head) {
			err = ich_error_create(ICH_ERR_FORMAT,
				"list 0x%" PRIx64 ": cycle at entry 0x%" PRIx64 " that does not include the head (after %zu entries)",
				head, cur, n);
			goto out;
		}
	}
out:
	if (count)
		*count = n;
	return err;
}
