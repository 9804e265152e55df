/* endpoint.h - one parser for socket addresses in postern.conf: inet:, inet6:, unix:, host:port, [v6]:port. */
#ifndef POSTERN_ENDPOINT_H
#define POSTERN_ENDPOINT_H

#include <stddef.h>

enum endpoint_kind { ENDPOINT_INET = 1, ENDPOINT_UNIX };

#define ENDPOINT_HOST_MAX 256
#define ENDPOINT_PATH_MAX 108		/* sizeof(sockaddr_un.sun_path) on Linux */
#define ENDPOINT_TEXT_MAX 1024		/* longest input endpoint_parse looks at */

struct endpoint {
	enum endpoint_kind kind;
	/*
	 * INET: AF_INET or AF_INET6 for a literal, AF_INET6 for a name given
	 * with "inet6:", AF_UNSPEC for any other name or for no host.
	 */
	int family;
	char host[ENDPOINT_HOST_MAX];	/* without brackets; "" = every local address (ALLOW_ANY) */
	unsigned port;			/* 1..65535 */
	char path[ENDPOINT_PATH_MAX];	/* UNIX: absolute */
};

/* Which forms a caller accepts. */
#define ENDPOINT_ALLOW_PREFIX	0x01	/* "inet:", "inet6:" (milter style) */
#define ENDPOINT_ALLOW_BARE	0x02	/* "host:port", "[v6]:port" (listen style) */
#define ENDPOINT_ALLOW_UNIX	0x04	/* "unix:/path" or "local:/path" (with PREFIX) */
#define ENDPOINT_ALLOW_ANY	0x08	/* no host, "*", or (PREFIX) a port alone: every address, for listening */

/*
 * Parse s: 0 and *ep filled, or -1 with a reason naming what is wrong
 * ("port 99999 out of range 1-65535") in err. default_port 0 = the port is
 * required. Ports are decimal numbers only; an IPv6 literal needs brackets
 * except after "inet6:" (Postfix accepts "inet6:::1:8891").
 */
int endpoint_parse(const char *s, unsigned flags, unsigned default_port, struct endpoint *ep,
    char *err, size_t errlen);

/* "inet:[::1]:8891" style text of ep, for logs; parses back to the same endpoint. */
void endpoint_format(const struct endpoint *ep, char *out, size_t outsize);

#endif
