/* check.h - postern-relay -t: is the next hop reachable, is the spool usable. */
#ifndef POSTERN_RELAY_CHECK_H
#define POSTERN_RELAY_CHECK_H

#include <stddef.h>

/*
 * Connect to relay_host's address (SMTP [host]:port or host:port, LMTP
 * lmtp:inet:host:port or lmtp:unix:/path) within timeout_s and close again.
 * 0, or -1 with the reason in err.
 */
int check_reachable(const char *relay_host, unsigned timeout_s, char *err, size_t errlen);

#endif
