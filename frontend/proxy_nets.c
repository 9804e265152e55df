/* proxy_nets.c - the PROXY protocol's trusted source networks (CIDR list) and their matching. */
#include "proxy_nets.h"
#include "config.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROXY_NETS_MAX	256	/* more trusted proxies than that is a mistake, not a setup */

struct proxy_net {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* masked to bits */
	unsigned bits;
};

struct proxy_nets {
	struct proxy_net *v;
	size_t n;
};

struct proxy_nets_ctx {
	proxy_nets *nets;
	char *err;
	size_t errlen;
};

static void
proxy_nets_mask(unsigned char *a, size_t len, unsigned bits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (bits >= 8) {
			bits -= 8;
		} else {
			a[i] &= (unsigned char)(0xff00u >> bits);
			bits = 0;
		}
	}
}

static int
proxy_nets_add(void *arg, const char *item)
{
	struct proxy_nets_ctx *c = arg;
	struct proxy_net net;
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(item, '/');
	size_t hlen = slash ? (size_t)(slash - item) : strlen(item);
	unsigned max;

	memset(&net, 0, sizeof(net));
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, item, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, net.addr) == 1) {
		net.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, net.addr) == 1) {
		net.family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	net.bits = max;
	if (slash != NULL) {
		if (config_parse_uint(slash + 1, &net.bits) != 0 || net.bits > max ||
		    strlen(slash + 1) > 3)
			goto bad;
	}
	proxy_nets_mask(net.addr, max / 8, net.bits);
	if (c->nets->n >= PROXY_NETS_MAX) {
		snprintf(c->err, c->errlen, "smtpd_proxy_protocol: more than %d networks",
		    PROXY_NETS_MAX);
		return -1;
	}
	c->nets->v = xrealloc(c->nets->v, (c->nets->n + 1) * sizeof(*c->nets->v));
	c->nets->v[c->nets->n++] = net;
	return 0;
bad:
	snprintf(c->err, c->errlen, "smtpd_proxy_protocol: bad network \"%.200s\" "
	    "(\"no\", or ADDRESS[/BITS] items, IPv4 or IPv6)", item);
	return -1;
}

int
proxy_nets_parse(const char *value, proxy_nets **out, char *err, size_t errlen)
{
	struct proxy_nets_ctx c;
	const char *s = value;

	*out = NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || strcasecmp(s, "no") == 0)
		return 0;
	c.nets = xcalloc(1, sizeof(*c.nets));
	c.err = err;
	c.errlen = errlen;
	if (config_foreach_item(value, proxy_nets_add, &c) != 0) {
		proxy_nets_free(c.nets);
		return -1;
	}
	if (c.nets->n == 0) {
		snprintf(err, errlen, "smtpd_proxy_protocol: no network in \"%.200s\"", value);
		proxy_nets_free(c.nets);
		return -1;
	}
	*out = c.nets;
	return 0;
}

int
proxy_nets_match(const proxy_nets *n, const struct sockaddr_storage *ss)
{
	unsigned char a[16];
	int family;
	size_t i;

	memset(a, 0, sizeof(a));
	if (ss->ss_family == AF_INET) {
		family = AF_INET;
		memcpy(a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			family = AF_INET;
			memcpy(a, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			family = AF_INET6;
			memcpy(a, &s6->sin6_addr, 16);
		}
	} else {
		return 0;
	}
	for (i = 0; n != NULL && i < n->n; i++) {
		unsigned char m[16];
		const struct proxy_net *net = &n->v[i];

		if (net->family != family)
			continue;
		memcpy(m, a, sizeof(m));
		proxy_nets_mask(m, family == AF_INET ? 4 : 16, net->bits);
		if (memcmp(m, net->addr, family == AF_INET ? 4 : 16) == 0)
			return 1;
	}
	return 0;
}

void
proxy_nets_free(proxy_nets *n)
{
	if (n == NULL)
		return;
	free(n->v);
	free(n);
}
