/* proxy.c - PROXY protocol v1/v2 header parser: streaming, bounded, strict, no I/O. */
#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char proxy_v1_sig[] = "PROXY ";

void
proxy_init(struct proxy_parser *p)
{
	memset(p, 0, sizeof(*p));
}

size_t
proxy_want(const struct proxy_parser *p)
{
	if (p->version == 2)
		return p->need ? p->need - p->total : PROXY_V2_HDR - p->total;
	if (p->version == 1)
		return PROXY_V1_MAX - p->total;
	/* Unknown yet: v1's shortest line (15 bytes) is shorter than v2's fixed part. */
	return PROXY_V1_MAX;
}

/* "0".."65535", decimal, no sign, no leading zero. */
static int
proxy_port(const char *s, unsigned *out)
{
	unsigned v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = v;
	return 0;
}

static int
proxy_v1_addr(int family, const char *host, const char *port, struct sockaddr_storage *ss)
{
	unsigned pn;

	memset(ss, 0, sizeof(*ss));
	if (proxy_port(port, &pn) != 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pn);
		return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pn);
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
	}
}

/* The whole line is in buf (CRLF included): "PROXY TCP4 src dst sport dport". */
static enum proxy_status
proxy_v1_parse(struct proxy_parser *p, struct proxy_result *res, const char **why)
{
	char line[PROXY_V1_MAX], *f[6], *cur;
	size_t len = p->total, nf = 0;
	int family;

	if (len < 2 || p->buf[len - 2] != '\r') {
		*why = "v1 line does not end in CRLF";
		return PROXY_ERROR;
	}
	memcpy(line, p->buf, len - 2);
	line[len - 2] = '\0';
	if (strlen(line) != len - 2) {
		*why = "NUL byte in v1 line";
		return PROXY_ERROR;
	}
	res->version = 1;
	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 && (line[13] == '\0' || line[13] == ' ')) {
		/* The rest of an UNKNOWN line is to be ignored (spec 2.1). */
		res->command = PROXY_CMD_UNKNOWN;
		return PROXY_DONE;
	}
	/* Fields are separated by exactly one space. */
	for (cur = line; nf < 6; nf++) {
		char *sp = strchr(cur, ' ');
		f[nf] = cur;
		if (sp == NULL) {
			nf++;
			break;
		}
		*sp = '\0';
		cur = sp + 1;
		if (nf == 5) {
			*why = "too many fields in v1 line";
			return PROXY_ERROR;
		}
	}
	if (nf != 6) {
		*why = "too few fields in v1 line";
		return PROXY_ERROR;
	}
	if (strcmp(f[1], "TCP4") == 0) {
		family = AF_INET;
	} else if (strcmp(f[1], "TCP6") == 0) {
		family = AF_INET6;
	} else {
		*why = "v1 protocol is not TCP4, TCP6 or UNKNOWN";
		return PROXY_ERROR;
	}
	if (proxy_v1_addr(family, f[2], f[4], &res->src) != 0 ||
	    proxy_v1_addr(family, f[3], f[5], &res->dst) != 0) {
		*why = "bad address or port in v1 line";
		return PROXY_ERROR;
	}
	res->command = PROXY_CMD_PROXY;
	return PROXY_DONE;
}

static enum proxy_status
proxy_v2_parse(struct proxy_parser *p, struct proxy_result *res, const char **why)
{
	const unsigned char *a = p->buf + PROXY_V2_HDR;
	size_t alen = p->need - PROXY_V2_HDR;
	unsigned fam = p->buf[13] >> 4, proto = p->buf[13] & 0x0f;

	res->version = 2;
	if ((p->buf[12] & 0x0f) == 0x0) {
		/* LOCAL: the family and the addresses are to be ignored. */
		res->command = PROXY_CMD_LOCAL;
		return PROXY_DONE;
	}
	if (fam == 0x0 || fam == 0x3) {
		/* UNSPEC, or a UNIX socket: no address of ours to take. */
		res->command = PROXY_CMD_UNKNOWN;
		return PROXY_DONE;
	}
	if (fam > 0x3) {
		*why = "unknown v2 address family";
		return PROXY_ERROR;
	}
	if (proto != 0x1) {
		*why = "v2 transport is not a stream";
		return PROXY_ERROR;
	}
	memset(&res->src, 0, sizeof(res->src));
	memset(&res->dst, 0, sizeof(res->dst));
	if (fam == 0x1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&res->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&res->dst;
		if (alen < 12) {
			*why = "v2 IPv4 address block too short";
			return PROXY_ERROR;
		}
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);		/* both in network order already */
		memcpy(&d->sin_port, a + 10, 2);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&res->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&res->dst;
		if (alen < 36) {
			*why = "v2 IPv6 address block too short";
			return PROXY_ERROR;
		}
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
	}
	res->command = PROXY_CMD_PROXY;
	return PROXY_DONE;
}

/* The fixed part is in: check version and command, learn the length. */
static enum proxy_status
proxy_v2_fixed(struct proxy_parser *p, const char **why)
{
	size_t len = ((size_t)p->buf[14] << 8) | p->buf[15];

	if ((p->buf[12] >> 4) != 0x2) {
		*why = "v2 version is not 2";
		return PROXY_ERROR;
	}
	if ((p->buf[12] & 0x0f) > 0x1) {
		*why = "v2 command is neither LOCAL nor PROXY";
		return PROXY_ERROR;
	}
	if (len > PROXY_V2_LEN_MAX) {
		*why = "v2 header oversized";
		return PROXY_ERROR;
	}
	p->need = PROXY_V2_HDR + len;
	return PROXY_MORE;
}

enum proxy_status
proxy_feed(struct proxy_parser *p, const void *data, size_t len, size_t *used,
    struct proxy_result *res, const char **why)
{
	const unsigned char *d = data;
	size_t i;

	*used = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = d[i];

		if (p->version == 0) {
			if (c == (unsigned char)proxy_v1_sig[0]) {
				p->version = 1;
			} else if (c == proxy_v2_sig[0]) {
				p->version = 2;
			} else {
				*why = "not a PROXY header";
				return PROXY_ERROR;
			}
		}
		if (p->version == 1) {
			if (p->total < sizeof(proxy_v1_sig) - 1 && c != (unsigned char)proxy_v1_sig[p->total]) {
				*why = "not a PROXY header";
				return PROXY_ERROR;
			}
			p->buf[p->total++] = c;
			if (c == '\n') {
				*used = i + 1;
				return proxy_v1_parse(p, res, why);
			}
			if (p->total == PROXY_V1_MAX) {
				/* Refused at the bound itself, so that proxy_want() is never 0 while waiting. */
				*why = "v1 line too long";
				return PROXY_ERROR;
			}
			continue;
		}
		if (p->total < sizeof(proxy_v2_sig) && c != proxy_v2_sig[p->total]) {
			*why = "not a PROXY header";
			return PROXY_ERROR;
		}
		if (p->total < sizeof(p->buf))
			p->buf[p->total] = c;
		p->total++;
		if (p->total == PROXY_V2_HDR && proxy_v2_fixed(p, why) != PROXY_MORE)
			return PROXY_ERROR;
		if (p->need != 0 && p->total == p->need) {
			*used = i + 1;
			return proxy_v2_parse(p, res, why);
		}
	}
	*used = len;
	return PROXY_MORE;
}
