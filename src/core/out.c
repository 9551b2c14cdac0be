/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/out.h"

void ich_file_write(FILE *f, const char *p, size_t n)
{
	if (!n)
		return;
	int fd = fileno(f);
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
