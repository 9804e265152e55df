/* dotstuff.h - SMTP DATA transparency (RFC 5321 4.5.2): stuff leading dots, end with CRLF.CRLF, in chunks. */
#ifndef POSTERN_DOTSTUFF_H
#define POSTERN_DOTSTUFF_H

#include <stddef.h>

struct dotstuff {
	int bol;		/* the next byte starts a line */
	char prev, last;	/* the last two bytes that went through */
	int count;		/* how many of them are valid (0..2) */
};

void dotstuff_init(struct dotstuff *d);
/* Stuff n bytes of in into out, which must hold 2 * n bytes; returns the bytes written. */
size_t dotstuff_chunk(struct dotstuff *d, const char *in, size_t n, char *out);
/* The terminator: ".\r\n" after CRLF (or no data at all), else "\r\n.\r\n"; out holds 5 bytes; returns the length. */
size_t dotstuff_end(const struct dotstuff *d, char *out);

#endif
