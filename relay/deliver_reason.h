/*
 * deliver_reason.h - the relay's own reasons for an outcome, when the next
 * hop gave no reply to quote: one table, each with its enhanced status code
 * first ("4.4.2 lost connection with [127.0.0.1]:25 while sending end of
 * data"), so a reason is told from a next hop's reply ("550 5.1.1 ...") by
 * its first character and a DSN takes its Status from either.
 */
#ifndef POSTERN_DELIVER_REASON_H
#define POSTERN_DELIVER_REASON_H

#include <stddef.h>

enum deliver_reason {
	DR_CONNECT,		/* hop, error */
	DR_LOST,		/* hop, stage */
	DR_TIMEOUT,		/* hop, stage */
	DR_PROTOCOL,		/* hop, stage, what */
	DR_TLS_NOT_OFFERED,	/* hop */
	DR_TLS_FAILED,		/* hop, GnuTLS error */
	DR_CERT,		/* hop, verification status */
	DR_AUTH_NO_TLS,		/* hop */
	DR_AUTH_NOT_OFFERED,	/* hop */
	DR_SIZE,		/* size, hop, limit */
	DR_8BIT,		/* hop */
	DR_SMTPUTF8,		/* hop */
	DR_SPOOL,		/* error */
	DR_BAD_ADDRESS,		/* address */
	DR_SHUTDOWN,
	DR_COUNT
};

/* Format reason id with its arguments (strings; DR_SIZE takes decimal strings) into out. */
void deliver_reason(char *out, size_t outsize, enum deliver_reason id, ...);
/* The reason's format, for tests. */
const char *deliver_reason_format(enum deliver_reason id);

#endif
