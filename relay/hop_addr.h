/* hop_addr.h - relay_host: "[host]:port", "host:port", "lmtp:inet:host:port" or "lmtp:unix:/path". */
#ifndef POSTERN_HOP_ADDR_H
#define POSTERN_HOP_ADDR_H

#include <stddef.h>

#include "endpoint.h"

#define HOP_HOST_MAX	ENDPOINT_HOST_MAX
#define HOP_PATH_MAX	ENDPOINT_PATH_MAX

struct hop_addr {
	int lmtp;			/* LMTP (RFC 2033) rather than SMTP */
	int is_unix;			/* lmtp:unix: path is set, host/port are not */
	int family;			/* AF_UNSPEC, or AF_INET/AF_INET6 for a literal or "inet6:" */
	char host[HOP_HOST_MAX];	/* name or address, without brackets */
	char port[6];			/* "25" */
	char path[HOP_PATH_MAX];
	char desc[HOP_HOST_MAX + HOP_PATH_MAX + 16];	/* for logs and reasons: "[127.0.0.1]:25", "lmtp:unix:/run/lmtp" */
};

/* Parse s with lib/endpoint's rules; 0, or -1 with a reason naming what is wrong in err. */
int hop_addr_parse(const char *s, struct hop_addr *out, char *err, size_t errlen);
/* Is host an IPv4 or IPv6 address (no SNI, and the certificate must name the address)? */
int hop_addr_is_ip(const char *host);

#endif
