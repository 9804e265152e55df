/* hop_addr.c - parse relay_host into the next hop's protocol, host and port (no MX lookup: the name is the host). */
#include "hop_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int
hop_addr_is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int
hop_addr_parse(const char *s, struct hop_addr *a, char *err, size_t errlen)
{
	struct endpoint ep;

	memset(a, 0, sizeof(*a));
	if (strncmp(s, "lmtp:", 5) == 0) {
		/* LMTP has no well-known port: inet needs one. */
		if (endpoint_parse(s + 5, ENDPOINT_ALLOW_PREFIX | ENDPOINT_ALLOW_UNIX, 0, &ep,
		    err, errlen) != 0)
			return -1;
		a->lmtp = 1;
	} else if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0 ||
	    strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0 ||
	    strncmp(s, "smtp:", 5) == 0) {
		snprintf(err, errlen, "expected [host]:port, host:port, lmtp:inet:host:port "
		    "or lmtp:unix:/path, not \"%.200s\"", s);
		return -1;
	} else if (endpoint_parse(s, ENDPOINT_ALLOW_BARE, 25, &ep, err, errlen) != 0) {
		return -1;
	}
	if (ep.kind == ENDPOINT_UNIX) {
		a->is_unix = 1;
		memcpy(a->path, ep.path, sizeof(a->path));
		snprintf(a->desc, sizeof(a->desc), "lmtp:unix:%s", a->path);
		return 0;
	}
	a->family = ep.family;
	memcpy(a->host, ep.host, sizeof(a->host));
	snprintf(a->port, sizeof(a->port), "%u", ep.port);
	snprintf(a->desc, sizeof(a->desc), "%s[%s]:%s", a->lmtp ? "lmtp:inet:" : "", a->host,
	    a->port);
	return 0;
}
