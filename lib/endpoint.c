/* endpoint.c - the one parser of socket addresses in postern.conf (listeners, milters, relays). */
#include "endpoint.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int
endpoint_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Decimal 1..65535, nothing else: service names would make the meaning depend on /etc/services. */
static int
endpoint_port(const char *s, size_t n, unsigned *port, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0)
		return endpoint_fail(err, errlen, "port missing");
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return endpoint_fail(err, errlen, "port \"%.*s\" is not a number",
			    (int)(n > 32 ? 32 : n), s);
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return endpoint_fail(err, errlen, "port %.*s out of range 1-65535",
		    (int)(n > 32 ? 32 : n), s);
	*port = (unsigned)v;
	return 0;
}

/* Host names and literals: printable ASCII without the characters that delimit them. */
static int
endpoint_host(const char *s, size_t n, int colons_ok, struct endpoint *ep, char *err, size_t errlen)
{
	unsigned char probe[sizeof(struct in6_addr)];
	size_t i;

	if (n >= sizeof(ep->host))
		return endpoint_fail(err, errlen, "host longer than %d bytes", ENDPOINT_HOST_MAX - 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == '/' || c == ',' || c == '*')
			return endpoint_fail(err, errlen, "bad character in host \"%.*s\"",
			    (int)(n > 64 ? 64 : n), s);
		if (c == ':' && !colons_ok)
			return endpoint_fail(err, errlen, "an IPv6 address needs brackets: [%.*s]:PORT",
			    (int)(n > 64 ? 64 : n), s);
	}
	memcpy(ep->host, s, n);
	ep->host[n] = '\0';
	if (inet_pton(AF_INET, ep->host, probe) == 1) {
		if (ep->family == AF_INET6)
			return endpoint_fail(err, errlen, "inet6: with the IPv4 address %s", ep->host);
		ep->family = AF_INET;
	} else if (inet_pton(AF_INET6, ep->host, probe) == 1) {
		ep->family = AF_INET6;
	}
	return 0;
}

static int
endpoint_unix(const char *path, struct endpoint *ep, char *err, size_t errlen)
{
	size_t n = strlen(path), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)path[i] < ' ' || path[i] == 0x7f)
			return endpoint_fail(err, errlen, "control character in unix socket path");
	if (path[0] != '/')
		return endpoint_fail(err, errlen, "unix socket path must be absolute");
	if (n >= sizeof(ep->path))
		return endpoint_fail(err, errlen, "unix socket path longer than %d bytes",
		    ENDPOINT_PATH_MAX - 1);
	ep->kind = ENDPOINT_UNIX;
	memcpy(ep->path, path, n + 1);
	return 0;
}

/* HOST:PORT, [HOST]:PORT, HOST (with a default port) or, prefixed and with ANY, PORT alone. */
static int
endpoint_inet(const char *s, unsigned flags, int prefixed, int v6, unsigned default_port,
    struct endpoint *ep, char *err, size_t errlen)
{
	const char *host, *port = NULL;
	size_t hostlen;

	ep->kind = ENDPOINT_INET;
	ep->family = v6 ? AF_INET6 : AF_UNSPEC;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL)
			return endpoint_fail(err, errlen, "'[' without ']'");
		host = s + 1;
		hostlen = (size_t)(rb - host);
		if (hostlen == 0)
			return endpoint_fail(err, errlen, "empty host in brackets");
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return endpoint_fail(err, errlen, "expected ':' after ']'");
	} else {
		const char *colon = strrchr(s, ':');

		host = s;
		hostlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon != NULL)
			port = colon + 1;
		else if (prefixed && (flags & ENDPOINT_ALLOW_ANY) && default_port == 0 &&
		    s[0] >= '0' && s[0] <= '9') {
			/* "inet:8891": every address, libmilter's own form */
			hostlen = 0;
			port = s;
		}
	}
	if (hostlen == 1 && host[0] == '*' && (flags & ENDPOINT_ALLOW_ANY))
		hostlen = 0;
	if (hostlen == 0 && !(flags & ENDPOINT_ALLOW_ANY))
		return endpoint_fail(err, errlen, "host missing");
	if (endpoint_host(host, hostlen, *s == '[' || v6, ep, err, errlen) != 0)
		return -1;
	if (port == NULL) {
		if (default_port == 0)
			return endpoint_fail(err, errlen, "port missing");
		ep->port = default_port;
		return 0;
	}
	return endpoint_port(port, strlen(port), &ep->port, err, errlen);
}

int
endpoint_parse(const char *s, unsigned flags, unsigned default_port, struct endpoint *ep,
    char *err, size_t errlen)
{
	memset(ep, 0, sizeof(*ep));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || *s == '\0')
		return endpoint_fail(err, errlen, "empty address");
	if (strnlen(s, ENDPOINT_TEXT_MAX) >= ENDPOINT_TEXT_MAX)
		return endpoint_fail(err, errlen, "address longer than %d bytes", ENDPOINT_TEXT_MAX - 1);
	if (flags & ENDPOINT_ALLOW_PREFIX) {
		if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
			if (!(flags & ENDPOINT_ALLOW_UNIX))
				return endpoint_fail(err, errlen, "unix sockets are not allowed here");
			return endpoint_unix(strchr(s, ':') + 1, ep, err, errlen);
		}
		if (strncmp(s, "inet:", 5) == 0)
			return endpoint_inet(s + 5, flags, 1, 0, default_port, ep, err, errlen);
		if (strncmp(s, "inet6:", 6) == 0)
			return endpoint_inet(s + 6, flags, 1, 1, default_port, ep, err, errlen);
	}
	if (flags & ENDPOINT_ALLOW_BARE)
		return endpoint_inet(s, flags, 0, 0, default_port, ep, err, errlen);
	if (flags & ENDPOINT_ALLOW_UNIX)
		return endpoint_fail(err, errlen, "expected inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/PATH");
	return endpoint_fail(err, errlen, "expected inet:HOST:PORT or inet6:[ADDR]:PORT");
}

void
endpoint_format(const struct endpoint *ep, char *out, size_t outsize)
{
	unsigned char probe[sizeof(struct in6_addr)];
	const char *prefix = "inet";
	int bracket = strchr(ep->host, ':') != NULL;

	if (outsize == 0)
		return;
	if (ep->kind == ENDPOINT_UNIX) {
		snprintf(out, outsize, "unix:%s", ep->path);
		return;
	}
	/* A name (or no host) to be resolved as IPv6 only keeps its inet6: */
	if (ep->family == AF_INET6 && inet_pton(AF_INET6, ep->host, probe) != 1)
		prefix = "inet6";
	if (ep->host[0] == '\0')
		snprintf(out, outsize, "%s:*:%u", prefix, ep->port);
	else
		snprintf(out, outsize, "%s:%s%s%s:%u", prefix, bracket ? "[" : "", ep->host,
		    bracket ? "]" : "", ep->port);
}
