/* received.h - the Received: line the relay puts on top of a message it hands on. */
#ifndef POSTERN_RELAY_RECEIVED_H
#define POSTERN_RELAY_RECEIVED_H

#include "spool_read.h"

/*
 * Build it from the spool envelope (client address and HELO, protocol,
 * TLS, id, the recipient when there is only one, the arrival time) and
 * our host name. CRLF line ends, folded; malloc'ed. The account name is
 * not shown (like Postfix with smtpd_sasl_authenticated_header = no):
 * the protocol's A says a login was used. A message the relay made
 * itself (a DSN: no client address) gets "by HOST (Postern) id ID".
 */
char *received_header(const struct spool_read_env *env, const char *hostname);

/* RFC 5322 date of a Unix time in ms, local zone: "Mon, 07 Dec 2026 14:00:00 +0000". */
void received_date(uint64_t ms, char *out, size_t outlen);

#endif
