/* smtp_reply.h - bounded parser of a next hop's SMTP/LMTP replies and of its EHLO/LHLO keywords. */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_REPLY_LINE_MAX	2048	/* bytes per reply line, CRLF included (RFC 5321 asks 512; servers exceed it) */
#define SMTP_REPLY_LINES_MAX	128	/* lines of one multi-line reply */

enum smtp_reply_status {
	SMTP_REPLY_MORE = 0,		/* all input used, reply not complete yet */
	SMTP_REPLY_DONE = 1,		/* one complete reply: read it, then smtp_reply_next() */
	SMTP_REPLY_BAD = -1		/* protocol error: smtp_reply_error() says what; the connection is unusable */
};

struct smtp_reply {
	int code;			/* 220..599 */
	size_t nlines;
	char first[SMTP_REPLY_LINE_MAX];	/* first line without CRLF ("250-mx.example.com") */
	char *lines[SMTP_REPLY_LINES_MAX];	/* text of each line after "DDD-" or "DDD " (owned) */
	/* Parser state. */
	char buf[SMTP_REPLY_LINE_MAX];
	size_t len;
	int done;
	const char *error;
};

void smtp_reply_init(struct smtp_reply *r);
/* Free what the current reply holds; the parser is ready for the next one. */
void smtp_reply_next(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/* Feed bytes; *used says how many were taken (the rest belong to the next reply). */
int smtp_reply_feed(struct smtp_reply *r, const char *p, size_t n, size_t *used);
const char *smtp_reply_error(const struct smtp_reply *r);
/* The first line as stored for a recipient: "550 5.1.1 <x@y>: ..." (a '-' continuation mark becomes ' '), control bytes as '?'. */
void smtp_reply_line(const struct smtp_reply *r, char *out, size_t outsize);

/* What an EHLO/LHLO reply offers. */
struct smtp_ehlo {
	int pipelining, starttls, eightbitmime, smtputf8, chunking, enhancedstatuscodes;
	int size_offered;
	uint64_t size_max;		/* 0: no limit (SIZE alone or SIZE 0) */
	int auth_plain, auth_login;
};

/* Read the keywords of a 250 EHLO/LHLO reply (unknown keywords and bad values are ignored). */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out);

#endif
