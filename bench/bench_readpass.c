/* SPDX-License-Identifier: MIT */
/*
 * The yardstick every benchmark figure is a ratio to (issue 12): one pass
 * over the bytes of a file, in a process of its own, timed from the
 * outside like the icpheap command it is paired with.
 *
 *   bench_readpass mmap FILE      map it and load one word per 64-byte line
 *   bench_readpass read FILE OFF  read() it in 1 MiB pieces into a buffer
 *                                 OFF bytes past a page boundary (0: page
 *                                 aligned; 64, 2048: the placements whose
 *                                 copy speed differs by 4 KiB aliasing)
 *   bench_readpass pages FILE LIST  map FILE and load one word per 64-byte
 *                                 line of the 4 KiB pages at the file
 *                                 offsets LIST holds (host-order
 *                                 uint64s, in that order): a pass over only
 *                                 the bytes a command touches (bench_kheaps
 *                                 --list-touched)
 *   bench_readpass out FILE N     the mmap pass over FILE, then N bytes
 *                                 written to standard output from a
 *                                 256 KiB buffer (the JSON writer's
 *                                 ICH_JSON_BUF) filled with memset
 *                                 before each write: the output pass of
 *                                 a command that prints N bytes (issue
 *                                 12: heap -a --json writes ~9x a
 *                                 segment-heap dump's size).  FILE
 *                                 /dev/null: the output pass alone.
 *                                 The figures go to standard error.
 *   bench_readpass load4k FILE    evict FILE, then read it back one 4 KiB
 *                                 page at a time with readahead off
 *                                 (POSIX_FADV_RANDOM): the page cache then
 *                                 holds it in 4 KiB folios, as a freshly
 *                                 written dump (an mmap pass over it takes
 *                                 a fault per 64 KiB, fault-around; one
 *                                 read by cat or an mmap pass after an
 *                                 eviction leaves large folios, which a
 *                                 pass maps with a fault per 2 MiB)
 *   bench_readpass drop FILE      evict FILE from the page cache
 *                                 (posix_fadvise DONTNEED) for a cold run;
 *                                 the checksum is the pages mincore still
 *                                 finds cached (0 when the drop worked)
 *
 * Prints "MODE SECONDS CHECKSUM" (the checksum keeps the loads alive;
 * out: on standard error).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s mmap|read|pages|out|load4k|drop FILE [OFFSET|LIST|N]\n", argv[0]);
		return 2;
	}
	int fd = open(argv[2], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[2]);
		return 3;
	}
	size_t size = (size_t)st.st_size;
	uint64_t sum = 0;
	FILE *res = stdout;
	double t0 = now();
	if (!strcmp(argv[1], "mmap") || (!strcmp(argv[1], "out") && argc > 3)) {
		const uint8_t *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
		if (p == MAP_FAILED) {
			perror("mmap");
			return 3;
		}
		for (size_t i = 0; i + 8 <= size; i += 64) {
			uint64_t v;
			memcpy(&v, p + i, 8);
			sum += v;
		}
		if (argv[1][0] == 'o') {
			/* the output pass: every byte stored once into a
			 * buffer that stays in the cache, then written */
			static char buf[262144];	/* ICH_JSON_BUF */
			unsigned long long left = strtoull(argv[3], NULL, 0);
			res = stderr;
			for (unsigned c = 0; left; c++) {
				size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
				memset(buf, '0' + (int)(c % 64), n);
				for (size_t off = 0; off < n;) {
					ssize_t w = write(1, buf + off, n - off);
					if (w <= 0) {
						perror("write");
						return 3;
					}
					off += (size_t)w;
				}
				left -= n;
			}
		}
	} else if (!strcmp(argv[1], "read")) {
		size_t off = argc > 3 ? (size_t)strtoul(argv[3], NULL, 0) % 4096 : 0;
		size_t chunk = (size_t)1 << 20;
		uint8_t *buf = aligned_alloc(4096, chunk + 4096);
		if (!buf)
			return 3;
		ssize_t n;
		while ((n = read(fd, buf + off, chunk)) > 0)
			for (ssize_t i = 0; i < n; i += 64)
				sum += buf[off + (size_t)i];
		free(buf);
	} else if (!strcmp(argv[1], "pages") && argc > 3) {
		const uint8_t *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
		FILE *lf = fopen(argv[3], "rb");
		if (p == MAP_FAILED || !lf) {
			perror(argv[3]);
			return 3;
		}
		uint64_t off;
		while (fread(&off, 8, 1, lf) == 1) {
			if (off > size || size - off < 4096)
				continue;
			for (size_t i = 0; i < 4096; i += 64) {
				uint64_t v;
				memcpy(&v, p + off + i, 8);
				sum += v;
			}
		}
		fclose(lf);
	} else if (!strcmp(argv[1], "load4k")) {
		uint8_t page[4096];
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0 ||
		    posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) != 0) {
			perror("posix_fadvise");
			return 3;
		}
		ssize_t n;
		for (off_t o = 0; (n = pread(fd, page, sizeof(page), o)) > 0; o += n)
			sum += page[0];
	} else if (!strcmp(argv[1], "drop")) {
		/* Evict, then count with mincore what stayed cached (a page
		 * another CPU still holds in its LRU batch is not dropped at
		 * once, and a cold run that finds it cached is not cold):
		 * retry a few times; the checksum field is the pages left. */
		long pg = sysconf(_SC_PAGESIZE);
		size_t npages = pg > 0 ? (size + (size_t)pg - 1) / (size_t)pg : 0;
		unsigned char *vec = npages ? malloc(npages) : NULL;
		void *m = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
		if (npages && (!vec || m == MAP_FAILED)) {
			perror("drop");
			return 3;
		}
		for (int i = 0; i < 5; i++) {
			if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
				perror("posix_fadvise");
				return 3;
			}
			sum = 0;
			if (npages && mincore(m, size, vec) == 0)
				for (size_t j = 0; j < npages; j++)
					sum += vec[j] & 1;
			if (!sum)
				break;
			usleep(2000);
		}
		if (size)
			munmap(m, size);
		free(vec);
		if (sum)
			fprintf(stderr, "%s: %llu pages still cached after 5 evictions\n", argv[2],
				(unsigned long long)sum);
	} else {
		fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
		return 2;
	}
	fprintf(res, "%s %.6f %llu\n", argv[1], now() - t0, (unsigned long long)sum);
	close(fd);
	return 0;
}
