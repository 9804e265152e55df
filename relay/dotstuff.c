/* dotstuff.c - dot-stuffing of spooled message bytes for DATA, chunk by chunk, never the whole message in memory. */
#include "dotstuff.h"

#include <string.h>

void
dotstuff_init(struct dotstuff *d)
{
	memset(d, 0, sizeof(*d));
	d->bol = 1;
}

size_t
dotstuff_chunk(struct dotstuff *d, const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = in[i];

		/*
		 * A line starts after any LF: the spool holds CRLF lines, but
		 * a BINARYMIME body may not, and a receiver that takes a bare
		 * LF as a line end must not meet an unstuffed dot.
		 */
		if (d->bol && c == '.')
			out[o++] = '.';
		out[o++] = c;
		d->bol = c == '\n';
		d->prev = d->last;
		d->last = c;
		if (d->count < 2)
			d->count++;
	}
	return o;
}

size_t
dotstuff_end(const struct dotstuff *d, char *out)
{
	if (d->count == 0 || (d->count == 2 && d->prev == '\r' && d->last == '\n')) {
		memcpy(out, ".\r\n", 3);
		return 3;
	}
	/* Never glue the dot to a last line without its CRLF: that would change the message. */
	memcpy(out, "\r\n.\r\n", 5);
	return 5;
}
