/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/out.h"

/*
 * A pipe that takes large output grown to ICH_PIPE_GROW bytes (issue 12).
 * A pipe holds 64 KiB by default, so each 256 KiB write blocked four times
 * for the reader, and the two processes took turns 16 times a MiB (each
 * turn a wake-up of the other CPU: costly in a VM).  With 1 MiB a write
 * goes in whole.  306 MB of seg.dmp's JSON through `| cat >/dev/null`:
 * 525 -> 154 ms wall, 442 -> 272 ms CPU of both processes (bench/
 * README.md).  Only for writes of half a writer's buffer or more (a
 * command whose output fills its buffer) and only for a FIFO.  1 MiB is
 * Linux's default limit for unprivileged processes
 * (/proc/sys/fs/pipe-max-size); a refusal (a lower limit, or the user's
 * pipe pages used up) leaves the pipe as it was.  The pipe is the
 * reader's too: its capacity changes, not what goes through it.
 */
#define ICH_PIPE_GROW (1 << 20)
/* The last descriptor looked at (the CLI writes to stdout only; a
 * descriptor closed and opened again as a pipe under the same number is
 * not looked at again) */
static int pipe_checked_fd = -1;

static void pipe_grow(int fd)
{
	pipe_checked_fd = fd;
#if defined(F_SETPIPE_SZ) && defined(F_GETPIPE_SZ)
	struct stat st;
	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode))
		return;
	int now = fcntl(fd, F_GETPIPE_SZ);
	if (now >= 0 && now < ICH_PIPE_GROW)
		(void)fcntl(fd, F_SETPIPE_SZ, ICH_PIPE_GROW);
#endif
}

void ich_file_write(FILE *f, const char *p, size_t n)
{
	if (!n)
		return;
	int fd = fileno(f);
	if (fd >= 0 && fd != pipe_checked_fd && n >= ICH_OUT_BUF / 2)
		pipe_grow(fd);
	/* fwrite of a large block copies part of it into stdio's buffer
	 * first (6-8% of heap -a --json, issue 12): after a flush, the
	 * descriptor takes it straight */
	if (fd < 0 || fflush(f) != 0) {
		fwrite(p, 1, n, f);
		return;
	}
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* stdio retries and, failing too, sets the stream's
			 * error flag, which main() turns into exit 4: a full
			 * disk must not leave a cut JSON document and exit 0 */
			fwrite(p, 1, n, f);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

void ich_out_init(struct ich_out *o, FILE *f)
{
	o->f = f;
	o->len = 0;
	o->ahead = (uintptr_t)o->buf;
}

void ich_out_flush(struct ich_out *o)
{
	ich_file_write(o->f, o->buf, o->len);
	o->len = 0;
	o->ahead = (uintptr_t)o->buf;
}

void ich_out_printf(struct ich_out *o, const char *fmt, ...)
{
	va_list ap;
	for (int pass = 0; pass < 2; pass++) {
		size_t avail = ICH_OUT_BUF - o->len;
		va_start(ap, fmt);
		int n = vsnprintf(o->buf + o->len, avail, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < avail) {
			o->len += (size_t)n;
			return;
		}
		ich_out_flush(o);	/* did not fit: again in an empty buffer */
	}
	/* longer than the whole buffer: a buffer of its own */
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *big = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (!big)
		return;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ich_file_write(o->f, big, (size_t)n);
	free(big);
}
