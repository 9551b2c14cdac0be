/* SPDX-License-Identifier: MIT */
/*
 * The lines a buffered writer is about to store into, requested ahead of
 * the stores (issue 12).
 *
 * The output writers (json.h, out.h) fill a 256 KiB buffer, flush it and
 * start again at its beginning.  By then the beginning's lines have left
 * the 48 KiB L1 for L2, so every store misses: it waits in the store
 * buffer for its line, which fills at one line per 64 bytes rendered and
 * stalls the renderer.  Requesting each line ICH_WRITE_AHEAD bytes before
 * the writer reaches it overlaps those fetches with the rendering.  In a
 * micro-benchmark (306 MB of 150-byte template copies into 256 KiB, write
 * to /dev/null) the stores went from 14.5 to 8.5 ms; seg.dmp's `--json
 * heap -a` (306 MB out) from 27.4 to 21.3 ms and its `heap -a` from 26.9
 * to 24.2 (medians of 30 and 20, with the x64 run loop's rework in
 * records.c).  A prefetch never faults, so the lines past the
 * buffer's end that the last requests name are harmless; the address is
 * formed as an integer, not as a pointer past the buffer.
 */
#ifndef ICPHEAP_CORE_WRITE_AHEAD_H
#define ICPHEAP_CORE_WRITE_AHEAD_H

#include <stdint.h>

/* 512: 256 to 1024 measured alike; 8 lines is what the L1's fill buffers
 * (16 on current cores) leave room for beside the walker's reads. */
#define ICH_WRITE_AHEAD 512

/* Request the lines from `done` (an address the previous call returned)
 * to ICH_WRITE_AHEAD bytes past p, for writing; returns the address it
 * stopped at, for the next call.  A `done` behind p (a loop of the
 * writer's caller went on without it, or the buffer started again) starts
 * at p: the lines behind it are written. */
static inline uintptr_t ich_write_ahead(uintptr_t done, const char *p)
{
	uintptr_t want = (uintptr_t)p + ICH_WRITE_AHEAD;
	if (done < (uintptr_t)p)
		done = (uintptr_t)p;
	while (done < want) {
		__builtin_prefetch((const void *)done, 1, 3);
		done += 64;
	}
	return done;
}

/* For a loop that writes records of at most 192 bytes back to back: the
 * three lines from ICH_WRITE_AHEAD bytes past p, with no state kept (a
 * line is requested once or twice; a longer record leaves one
 * unrequested, which only waits for it). */
static inline void ich_write_ahead_record(const char *p)
{
	uintptr_t a = (uintptr_t)p + ICH_WRITE_AHEAD;
	__builtin_prefetch((const void *)a, 1, 3);
	__builtin_prefetch((const void *)(a + 64), 1, 3);
	__builtin_prefetch((const void *)(a + 128), 1, 3);
}

#endif
