/*
 * addr_domain.c - domain names in addresses: DNS label rules (RFC 1035,
 * RFC 5890 U-labels, their A-label length by RFC 3492 counting), address
 * literals (RFC 5321 §4.1.3), and the IDNA2008 lookup form (libidn2).
 */
#include "addr_int.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* RFC 5321 §4.1.3 address literal body: IPv4 dotted quad or "IPv6:" address. */
int
addr_literal_ok(const char *s, size_t n)
{
	struct in6_addr a6;
	char buf[64];
	size_t i, digits = 0, parts = 1;
	unsigned v = 0;

	if (n > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		if (n - 5 >= sizeof(buf))
			return 0;
		memcpy(buf, s + 5, n - 5);
		buf[n - 5] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1;
	}
	/* General-address-literal tags would need IANA registration; none exists. */
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (digits == 0 || ++parts > 4)
				return 0;
			digits = 0;
			v = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (++digits > 3 || v > 255)
				return 0;
		} else
			return 0;
	}
	return parts == 4 && digits > 0;
}

/* RFC 3492 §6.1 bias adaptation. */
static uint32_t
puny_adapt(uint32_t delta, uint32_t numpoints, int first)
{
	uint32_t k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / numpoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

/*
 * alabel_len - length of the A-label ("xn--" + RFC 3492 §6.3 Punycode) of
 * the valid UTF-8 label l, counted without building it; stops counting past
 * LABEL_MAX. Cheap enough for every label of a 64 KiB header, which libidn2
 * (about 2 us per code point) is not.
 */
static size_t
alabel_len(const unsigned char *l, size_t n)
{
	uint32_t cp[ADDR_DOMAIN_MAX], m, q, t, k, bias = 72, delta = 0, cur = 0x80;
	size_t ncp = 0, i, j, basic = 0, h, out, len;

	for (i = 0; i < n && ncp < sizeof(cp) / sizeof(cp[0]); i += len) {
		len = rfc2047_utf8_seqlen(l + i, n - i);
		if (len == 0)
			return LABEL_MAX + 1;
		cp[ncp] = len == 1 ? l[i] : len == 2 ? l[i] & 0x1fu : len == 3 ? l[i] & 0x0fu : l[i] & 0x07u;
		for (j = 1; j < len; j++)
			cp[ncp] = cp[ncp] << 6 | (l[i + j] & 0x3fu);
		if (cp[ncp] < 0x80)
			basic++;
		ncp++;
	}
	out = 4 + basic + (basic > 0);
	for (h = basic; h < ncp && out <= LABEL_MAX; delta++, cur++) {
		for (m = UINT32_MAX, i = 0; i < ncp; i++)
			if (cp[i] >= cur && cp[i] < m)
				m = cp[i];
		/* code points stop at U+10FFFF and labels at 255 bytes: no overflow */
		delta += (m - cur) * (uint32_t)(h + 1);
		cur = m;
		for (i = 0; i < ncp; i++) {
			if (cp[i] < cur)
				delta++;
			if (cp[i] != cur)
				continue;
			for (q = delta, k = 36;; k += 36) {
				t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				out++;
				q = (q - t) / (36 - t);
			}
			out++;
			bias = puny_adapt(delta, (uint32_t)h + 1, h == basic);
			delta = 0;
			h++;
		}
	}
	return out;
}

/*
 * ulabel_ok - DNS syntax of a U-label (RFC 5890 §2.3.2.1): valid UTF-8, no
 * "--" in the third and fourth positions, no C1 control or no-break space, and an A-label
 * of at most 63 octets. Code point validity under IDNA2008 is for
 * addr_domain_to_ascii() (libidn2), run by callers that compare domains.
 */
static int
ulabel_ok(const char *l, size_t n)
{
	const unsigned char *u = (const unsigned char *)l;
	size_t i, k, len;

	for (i = 0, k = 0; i < n; i += len, k++) {
		if ((len = rfc2047_utf8_seqlen(u + i, n - i)) == 0)
			return 0;
		/* RFC 5891 §4.2.3.1 counts characters, not octets */
		if (k == 2 && u[i] == '-' && i + 1 < n && u[i + 1] == '-')
			return 0;
		if (u[i] == 0xc2 && u[i + 1] <= 0xa0)	/* U+0080..U+00A0 */
			return 0;
	}
	return alabel_len(u, n) <= LABEL_MAX;
}

/* Label rules of RFC 1035 §2.3.1 (LDH, no hyphen at either end, 63 octets) and RFC 5890 for U-labels. */
static const char *
label_error(const char *l, size_t n, int utf8)
{
	size_t i;
	int ascii = 1;

	for (i = 0; i < n; i++) {
		if ((unsigned char)l[i] >= 0x80) {
			if (!utf8)
				return R_BAD_CHAR_DOMAIN;
			ascii = 0;
		} else if (!is_alnum(l[i]) && l[i] != '-')
			return R_BAD_CHAR_DOMAIN;
	}
	if (l[0] == '-' || l[n - 1] == '-')
		return R_BAD_LABEL;
	if (ascii)
		return n > LABEL_MAX ? R_BAD_LABEL : NULL;
	return ulabel_ok(l, n) ? NULL : R_BAD_LABEL;
}

/* domain_error - what is wrong with the domain name d (dot-joined, no CFWS), NULL when nothing. */
const char *
addr_domain_error(const char *d, size_t n, int utf8)
{
	const char *r;
	size_t i, start = 0;

	if (n == 0)
		return R_NO_DOMAIN;
	if (n > DOMAIN_MAX)
		return R_DOMAIN_TOO_LONG;
	if (d[0] == '.')
		return R_DOMAIN_STARTS_DOT;
	for (i = 0; i <= n; i++) {
		if (i < n && d[i] != '.')
			continue;
		if (i == start)
			return i == n ? R_DOMAIN_ENDS_DOT : R_DOMAIN_DOUBLE_DOT;
		if ((r = label_error(d + start, i - start, utf8)) != NULL)
			return r;
		start = i + 1;
	}
	return NULL;
}

int
addr_domain_to_ascii(const char *domain, char *out, size_t outsize)
{
	uint8_t *idn = NULL;
	const char *src = domain;
	size_t n, i;
	int rc, ascii = 1;

	if (out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	if (domain == NULL)
		return -1;
	n = strlen(domain);
	if (n > 0 && domain[0] == '[') {
		if (n < 2 || domain[n - 1] != ']' || !addr_literal_ok(domain + 1, n - 2))
			return -1;
	} else {
		if (addr_domain_error(domain, n, 1) != NULL)
			return -1;
		for (i = 0; i < n; i++)
			if ((unsigned char)domain[i] >= 0x80)
				ascii = 0;
		/* ASCII domains skip libidn2: it would refuse legal LDH names such as "ab--c" */
		if (!ascii) {
			rc = idn2_lookup_u8((const uint8_t *)domain, &idn,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
			if (rc != IDN2_OK) {
				idn2_free(idn);
				idn = NULL;
				rc = idn2_lookup_u8((const uint8_t *)domain, &idn,
				    IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
			}
			if (rc != IDN2_OK) {
				idn2_free(idn);
				return -1;
			}
			src = (const char *)idn;
		}
	}
	n = strlen(src);
	if (n >= outsize) {
		idn2_free(idn);
		return -1;
	}
	for (i = 0; i <= n; i++)
		out[i] = src[i] >= 'A' && src[i] <= 'Z' ? (char)(src[i] - 'A' + 'a') : src[i];
	idn2_free(idn);
	return 0;
}
