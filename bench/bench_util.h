/* SPDX-License-Identifier: MIT */
/* What every benchmark program shares: clocks, a block counter, opening a
 * dump's heaps, and the process's memory figures. */
#ifndef ICPHEAP_BENCH_UTIL_H
#define ICPHEAP_BENCH_UTIL_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <icpheap/dump.h>
#include <icpheap/heap.h>

/* Wall time, and CPU time of this process: on a shared machine wall time
 * measures the neighbours, CPU time the work. */
static inline double bench_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double bench_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ich_heap_walk callback: counts blocks into an unsigned long long. */
static inline struct ich_error *bench_count_block(const struct ich_heap *hp,
						  const struct ich_heap_block *b, void *arg)
{
	(void)hp;
	(void)b;
	(*(unsigned long long *)arg)++;
	return NULL;
}

/* Open a user dump and its heaps; 0, or 3 after printing the error. */
static inline int bench_open_heaps(const char *path, struct ich_dump **d, struct ich_heaps **h)
{
	struct ich_error *err = ich_dump_open(path, d);
	if (!err)
		err = ich_heaps_open(*d, 0, h);
	if (err) {
		ich_error_print(err, stderr);
		return 3;
	}
	return 0;
}

/* Print the /proc/self/status lines that start with one of the prefixes
 * (VmHWM = peak RSS, RssAnon, RssFile = mapped dump pages). */
static inline void bench_print_memory(const char *const *prefixes, size_t n)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < n; i++)
			if (!strncmp(line, prefixes[i], strlen(prefixes[i]))) {
				fputs(line, stdout);
				break;
			}
	if (f)
		fclose(f);
}

#endif
