/* hop_addr.c - parse relay_host into the next hop's protocol, host and port (no MX lookup: the name is the host). */
#include "hop_addr.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int
hop_addr_is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int
hop_port_ok(const char *p, char *out)
{
	unsigned long v = 0;
	size_t i;

	if (*p == '\0' || strlen(p) > 5)
		return 0;
	for (i = 0; p[i]; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v < 1 || v > 65535)
		return 0;
	snprintf(out, 6, "%lu", v);
	return 1;
}

/* A DNS name (letters, digits, '-', '_', '.') or an address. */
static int
hop_host_ok(const char *h)
{
	size_t i;

	if (*h == '\0' || strlen(h) >= HOP_HOST_MAX)
		return 0;
	if (hop_addr_is_ip(h))
		return 1;
	for (i = 0; h[i]; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.' && h[i] != '_')
			return 0;
	return h[0] != '.' && h[0] != '-';
}

/* "[host]:port", "[host]", "host:port", "host"; need_port for lmtp:inet. */
static int
hop_parse_inet(const char *s, struct hop_addr *a, int need_port, char *err, size_t errlen)
{
	const char *port = NULL, *hend;
	size_t hlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL) {
			snprintf(err, errlen, "missing \"]\" in \"%.200s\"", s);
			return -1;
		}
		hend = close;
		s++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errlen, "unexpected text after \"]\" in \"%.200s\"", s - 1);
			return -1;
		}
	} else {
		const char *colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			snprintf(err, errlen, "an IPv6 address goes in brackets: \"[%.200s]:port\"", s);
			return -1;
		}
		hend = colon ? colon : s + strlen(s);
		if (colon)
			port = colon + 1;
	}
	hlen = (size_t)(hend - s);
	if (hlen == 0 || hlen >= sizeof(a->host)) {
		snprintf(err, errlen, "missing or too long host name");
		return -1;
	}
	memcpy(a->host, s, hlen);
	a->host[hlen] = '\0';
	if (!hop_host_ok(a->host)) {
		snprintf(err, errlen, "bad host name \"%.200s\"", a->host);
		return -1;
	}
	if (port == NULL && need_port) {
		snprintf(err, errlen, "lmtp:inet: needs a port");
		return -1;
	}
	if (port == NULL)
		memcpy(a->port, "25", 3);
	else if (!hop_port_ok(port, a->port)) {
		snprintf(err, errlen, "bad port \"%.32s\" (1 to 65535)", port);
		return -1;
	}
	return 0;
}

int
hop_addr_parse(const char *s, struct hop_addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(s, "lmtp:unix:", 10) == 0) {
		const char *p = s + 10;
		a->lmtp = a->is_unix = 1;
		if (p[0] != '/') {
			snprintf(err, errlen, "lmtp:unix: needs an absolute path");
			return -1;
		}
		if (xstrlcpy(a->path, p, sizeof(a->path)) != 0) {
			snprintf(err, errlen, "socket path longer than %d bytes", HOP_PATH_MAX - 1);
			return -1;
		}
		snprintf(a->desc, sizeof(a->desc), "lmtp:unix:%s", a->path);
		return 0;
	}
	if (strncmp(s, "lmtp:inet:", 10) == 0) {
		a->lmtp = 1;
		if (hop_parse_inet(s + 10, a, 1, err, errlen) != 0)
			return -1;
		snprintf(a->desc, sizeof(a->desc), "lmtp:inet:[%s]:%s", a->host, a->port);
		return 0;
	}
	if (strncmp(s, "lmtp:", 5) == 0 || strncmp(s, "inet:", 5) == 0 ||
	    strncmp(s, "unix:", 5) == 0 || strncmp(s, "smtp:", 5) == 0) {
		snprintf(err, errlen, "expected [host]:port, host:port, lmtp:inet:host:port "
		    "or lmtp:unix:/path, not \"%.200s\"", s);
		return -1;
	}
	if (hop_parse_inet(s, a, 0, err, errlen) != 0)
		return -1;
	snprintf(a->desc, sizeof(a->desc), "[%s]:%s", a->host, a->port);
	return 0;
}
