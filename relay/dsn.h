/*
 * dsn.h - RFC 3464 delivery status notification for the recipients of one
 * message that failed for good: multipart/report with a human-readable
 * part, the message/delivery-status part and the original headers
 * (text/rfc822-headers).
 */
#ifndef POSTERN_RELAY_DSN_H
#define POSTERN_RELAY_DSN_H

#include <stddef.h>
#include <stdint.h>

#define DSN_HEADERS_MAX	(64 * 1024)	/* original header bytes quoted at most */

struct dsn_rcpt {
	const char *address;	/* "<x@y>" */
	const char *reply;	/* the next hop's reply ("550 5.1.1 ...") or our own reason */
};

struct dsn_info {
	const char *id;			/* the failed message's id */
	const char *dsn_id;		/* the notification's own id (Message-ID, boundary) */
	const char *hostname;		/* Reporting-MTA, From: MAILER-DAEMON@hostname */
	const char *sender;		/* the original envelope sender "<a@b>": the DSN goes to it */
	uint64_t arrival_ms, now_ms;
	const struct dsn_rcpt *rcpts;
	size_t nrcpts;
	const char *headers;		/* the original message's header section (may be cut) */
	size_t headers_len;
};

/* The Status field for a reply: its enhanced code, else from its class (4.0.0/5.0.0); 5.0.0 without a code. */
void dsn_status(const char *reply, int deferred, char *out, size_t outlen);
/* The notification, CRLF line ends; malloc'ed, *len set. *eightbit: it carries 8-bit bytes. */
char *dsn_compose(const struct dsn_info *in, size_t *len, int *eightbit);
/* The length of the header section of msg[0..len) (through the empty line), cut to DSN_HEADERS_MAX at a line end. */
size_t dsn_header_length(const char *msg, size_t len);

#endif
