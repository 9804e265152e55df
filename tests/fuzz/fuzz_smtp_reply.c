/* fuzz_smtp_reply.c - libFuzzer target for the relay's reply and EHLO keyword parser (relay/smtp_reply.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Relative: the fuzz build passes -I for lib/, include/ and policies/ only. */
#include "../../relay/smtp_reply.h"

/*
 * Input: one byte giving the chunk size (1..256), then a next hop's byte
 * stream, fed in chunks of that size as reads from a socket would. Every
 * complete reply goes through the EHLO parser and the recipient-line
 * formatter; the checks abort on a broken invariant.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	struct smtp_ehlo e;
	size_t chunk, off = 1;
	char line[512];

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	smtp_reply_init(&r);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk, used = 0;
		int st = smtp_reply_feed(&r, (const char *)data + off, n, &used);

		if (used > n)
			abort();
		off += used;
		if (st == SMTP_REPLY_BAD)
			break;
		if (st == SMTP_REPLY_DONE) {
			if (r.code < 200 || r.code > 599 || r.nlines == 0 ||
			    r.nlines > SMTP_REPLY_LINES_MAX)
				abort();
			smtp_ehlo_parse(&r, &e);
			smtp_reply_line(&r, line, sizeof(line));
			if (strlen(line) >= sizeof(line))
				abort();
			smtp_reply_next(&r);
		} else if (used < n) {
			abort();	/* MORE must take all it was given */
		}
	}
	smtp_reply_free(&r);
	return 0;
}
