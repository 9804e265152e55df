/* addr.c - RFC 5322 address-list parser (headers) and RFC 5321 path parser (envelope).
 *
 * Hand-written on purpose: no Debian C library parses RFC 5322 address lists
 * with groups, nested comments, obsolete syntax, RFC 2047 display names and
 * RFC 6532 UTF-8 while naming one precise reason per error. It reads
 * attacker-controlled headers, so it is bounded: no heap allocation, work
 * linear in the input (libidn2 only runs in addr_domain_to_ascii()),
 * recursion at most two levels deep (group -> mailbox), input capped at
 * ADDR_MAX_INPUT bytes and every result in a fixed-size field of addr_mailbox.
 *
 * Error reasons: short ASCII phrases without '%', quoted verbatim in
 * "554 5.6.0 Could not read the message. <reason>" (headers) and logged
 * with the 501 replies (envelope). The complete list:
 *	Local address ends with dot		Local address starts with dot
 *	Local address contains consecutive dots	Local part too long
 *	Missing local part			Invalid character in local part
 *	Missing domain				Domain too long
 *	Domain ends with dot			Domain starts with dot
 *	Domain contains consecutive dots	Invalid character in domain
 *	Invalid domain label			Invalid domain literal
 *	Unterminated domain literal		Unterminated quoted string
 *	Unterminated comment			Unterminated angle address
 *	Unterminated group			Missing @ in address
 *	Unexpected character after address	Empty address list
 *	Too many addresses			Header too long
 *	Invalid UTF-8				Comment nested too deeply
 *	Invalid character in comment		Invalid character in quoted string
 *	Invalid character in address		Invalid line break
 *	Invalid source route			Empty angle address
 *	Encoded word in address			Nested group
 *	Missing group name			Missing angle bracket
 */
#include "addr.h"
#include "rfc2047.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define R_LOCAL_ENDS_DOT	"Local address ends with dot"
#define R_LOCAL_STARTS_DOT	"Local address starts with dot"
#define R_LOCAL_DOUBLE_DOT	"Local address contains consecutive dots"
#define R_LOCAL_TOO_LONG	"Local part too long"
#define R_NO_LOCAL		"Missing local part"
#define R_BAD_CHAR_LOCAL	"Invalid character in local part"
#define R_NO_DOMAIN		"Missing domain"
#define R_DOMAIN_TOO_LONG	"Domain too long"
#define R_DOMAIN_ENDS_DOT	"Domain ends with dot"
#define R_DOMAIN_STARTS_DOT	"Domain starts with dot"
#define R_DOMAIN_DOUBLE_DOT	"Domain contains consecutive dots"
#define R_BAD_CHAR_DOMAIN	"Invalid character in domain"
#define R_BAD_LABEL		"Invalid domain label"
#define R_BAD_LITERAL		"Invalid domain literal"
#define R_UNTERM_LITERAL	"Unterminated domain literal"
#define R_UNTERM_QUOTED		"Unterminated quoted string"
#define R_UNTERM_COMMENT	"Unterminated comment"
#define R_UNTERM_ANGLE		"Unterminated angle address"
#define R_UNTERM_GROUP		"Unterminated group"
#define R_NO_AT			"Missing @ in address"
#define R_TRAILING		"Unexpected character after address"
#define R_EMPTY_LIST		"Empty address list"
#define R_TOO_MANY		"Too many addresses"
#define R_TOO_LONG		"Header too long"
#define R_BAD_UTF8		"Invalid UTF-8"
#define R_COMMENT_DEPTH		"Comment nested too deeply"
#define R_BAD_CHAR_COMMENT	"Invalid character in comment"
#define R_BAD_CHAR_QUOTED	"Invalid character in quoted string"
#define R_BAD_CHAR		"Invalid character in address"
#define R_BAD_LINE_BREAK	"Invalid line break"
#define R_BAD_ROUTE		"Invalid source route"
#define R_EMPTY_ANGLE		"Empty angle address"
#define R_ENCODED_WORD		"Encoded word in address"
#define R_NESTED_GROUP		"Nested group"
#define R_NO_GROUP_NAME		"Missing group name"
#define R_NO_ANGLE		"Missing angle bracket"

#define COMMENT_DEPTH_MAX	32	/* RFC 5322 sets none; real mail nests one or two */
#define SMTP_LOCAL_MAX		64	/* RFC 5321 §4.5.3.1.1 */
#define DOMAIN_MAX		255	/* RFC 5321 §4.5.3.1.2 */
#define LABEL_MAX		63	/* RFC 1035 §2.3.4 */
#define PHRASE_MAX		2048	/* raw display name kept for RFC 2047 decoding */

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	const char *reason;	/* set with every -1 but a callback stop */
	addr_cb cb;
	void *ctx;
	rfc2047_cache *conv;	/* display names are decoded only when reported */
	int stopped;		/* what the callback returned to stop */
	unsigned count;		/* mailboxes seen */
};

/* A fixed-size output string: always NUL-terminated, overflow remembered. */
struct field {
	char *buf;
	size_t size;
	size_t len;
	int overflow;
};

enum word_state { W_START, W_WORD, W_DOT };

static void
field_init(struct field *f, char *buf, size_t size)
{
	f->buf = buf;
	f->size = size;
	f->len = 0;
	f->overflow = 0;
	buf[0] = '\0';
}

static void
field_put(struct field *f, const void *p, size_t n)
{
	if (n > f->size - 1 - f->len) {
		n = f->size - 1 - f->len;
		f->overflow = 1;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

static int
fail(struct parser *p, const char *reason)
{
	p->reason = reason;
	return -1;
}

static int
peek(const struct parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : -1;
}

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 §3.2.3 atext, with RFC 6532 §3.2 UTF8-non-ascii. */
static int
is_atext(int c)
{
	if (c < 0)
		return 0;
	if (c >= 0x80 || is_alnum(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k)
		if ((k = rfc2047_utf8_seqlen(s + i, n - i)) == 0)
			return 0;
	return 1;
}

/* A line break of FWS (RFC 5322 §3.2.2): CRLF, or the bare LF milters hand over, then WSP; tolerated at the very end. */
static int
skip_newline(struct parser *p)
{
	size_t i = p->pos;

	if (p->s[i] == '\r') {
		if (i + 1 >= p->len || p->s[i + 1] != '\n')
			return fail(p, R_BAD_LINE_BREAK);
		i++;
	}
	i++;
	if (i < p->len && p->s[i] != ' ' && p->s[i] != '\t')
		return fail(p, R_BAD_LINE_BREAK);
	p->pos = i;
	return 0;
}

/* skip_comment - skip a comment (RFC 5322 §3.2.2) and the ones nested in it, with a capped counter instead of recursion. */
static int
skip_comment(struct parser *p)
{
	unsigned depth = 0;

	while (p->pos < p->len) {
		switch (p->s[p->pos]) {
		case '(':
			if (++depth > COMMENT_DEPTH_MAX)
				return fail(p, R_COMMENT_DEPTH);
			p->pos++;
			break;
		case ')':
			p->pos++;
			if (--depth == 0)
				return 0;
			break;
		case '\\':
			if (p->pos + 1 >= p->len)
				return fail(p, R_UNTERM_COMMENT);
			if (p->s[p->pos + 1] == '\0')
				return fail(p, R_BAD_CHAR_COMMENT);
			/* an escaped line break is still a line break */
			p->pos += p->s[p->pos + 1] == '\r' || p->s[p->pos + 1] == '\n' ? 1 : 2;
			break;
		case '\r':
		case '\n':
			if (skip_newline(p) == -1)
				return -1;
			break;
		case '\0':
			return fail(p, R_BAD_CHAR_COMMENT);
		default:
			p->pos++;
		}
	}
	return fail(p, R_UNTERM_COMMENT);
}

/* CFWS (RFC 5322 §3.2.2); *saw is set when there was any. */
static int
skip_cfws(struct parser *p, int *saw)
{
	while (p->pos < p->len) {
		switch (p->s[p->pos]) {
		case ' ':
		case '\t':
			p->pos++;
			break;
		case '\r':
		case '\n':
			if (skip_newline(p) == -1)
				return -1;
			break;
		case '(':
			if (skip_comment(p) == -1)
				return -1;
			break;
		default:
			return 0;
		}
		if (saw != NULL)
			*saw = 1;
	}
	return 0;
}

static size_t
scan_atom(struct parser *p)
{
	size_t start = p->pos;

	while (p->pos < p->len && is_atext(p->s[p->pos]))
		p->pos++;
	return p->pos - start;
}

/*
 * scan_quoted - read the quoted-string at p->pos (RFC 5322 §3.2.4) and append
 * its content to f (may be NULL) without quotes, backslashes or folding
 * line breaks. Control characters (obs-qtext) are refused: they would end up
 * in local parts and logs.
 */
static int
scan_quoted(struct parser *p, struct field *f)
{
	unsigned char c;

	p->pos++;
	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c == '\r' || c == '\n') {
			if (skip_newline(p) == -1)
				return -1;
			continue;
		}
		if (c == '\\') {
			if (p->pos + 1 >= p->len)
				break;
			c = p->s[++p->pos];
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, R_BAD_CHAR_QUOTED);
		if (f != NULL)
			field_put(f, &c, 1);
		p->pos++;
	}
	return fail(p, R_UNTERM_QUOTED);
}

/* RFC 5321 §4.1.3 address literal body: IPv4 dotted quad or "IPv6:" address. */
static int
literal_ok(const char *s, size_t n)
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
static const char *
domain_error(const char *d, size_t n, int utf8)
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

/* domain-literal (RFC 5322 §3.4.1): kept with its brackets, FWS inside dropped. */
static int
parse_literal(struct parser *p, struct field *f)
{
	unsigned char c;

	field_put(f, "[", 1);
	p->pos++;
	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (c == ']') {
			field_put(f, "]", 1);
			p->pos++;
			if (f->overflow)
				return fail(p, R_DOMAIN_TOO_LONG);
			if (!literal_ok(f->buf + 1, f->len - 2))
				return fail(p, R_BAD_LITERAL);
			return skip_cfws(p, NULL);
		}
		if (c == ' ' || c == '\t') {
			p->pos++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (skip_newline(p) == -1)
				return -1;
			continue;
		}
		/* dtext: printable ASCII but '[', ']' and '\' */
		if (c < 33 || c > 126 || c == '[' || c == '\\')
			return fail(p, R_BAD_LITERAL);
		field_put(f, &c, 1);
		p->pos++;
	}
	return fail(p, R_UNTERM_LITERAL);
}

/*
 * parse_domain - domain = dot-atom / domain-literal / obs-domain (RFC 5322
 * §3.4.1, §4.4): atoms and dots with CFWS allowed around the dots, checked
 * against the DNS rules once joined. Trailing CFWS is consumed.
 */
static int
parse_domain(struct parser *p, char *out, size_t outsize)
{
	struct field f;
	const char *r;
	enum word_state st = W_START;
	size_t a;
	int c;

	field_init(&f, out, outsize);
	if (skip_cfws(p, NULL) == -1)
		return -1;
	if (peek(p) == '[')
		return parse_literal(p, &f);
	for (;;) {
		c = peek(p);
		if (is_atext(c)) {
			if (st == W_WORD)
				break;	/* two atoms without a dot: the domain ended */
			a = p->pos;
			field_put(&f, p->s + a, scan_atom(p));
			st = W_WORD;
		} else if (c == '.') {
			field_put(&f, ".", 1);
			p->pos++;
			st = W_DOT;
		} else
			break;
		if (skip_cfws(p, NULL) == -1)
			return -1;
	}
	if (f.overflow)
		return fail(p, R_DOMAIN_TOO_LONG);
	if ((r = domain_error(out, f.len, 1)) != NULL)
		return fail(p, r);
	return 0;
}

/* RFC 2047 §5 (3): an encoded-word never appears in an addr-spec. */
static int
looks_encoded(const char *s)
{
	size_t n = strlen(s);

	return n >= 4 && s[0] == '=' && s[1] == '?' && s[n - 2] == '?' && s[n - 1] == '=';
}

/*
 * parse_local - local-part = dot-atom / quoted-string / obs-local-part
 * (RFC 5322 §3.4.1, §4.4): words joined by single dots, CFWS allowed around
 * them; consumes the '@'.
 */
static int
parse_local(struct parser *p, addr_mailbox *mb)
{
	struct field f;
	enum word_state st = W_START;
	size_t a;
	int c;

	field_init(&f, mb->local, sizeof(mb->local));
	for (;;) {
		if (skip_cfws(p, NULL) == -1)
			return -1;
		c = peek(p);
		if (c == '"' || is_atext(c)) {
			if (st == W_WORD)
				return fail(p, R_BAD_CHAR_LOCAL);	/* two words, no dot */
			if (c == '"') {
				if (scan_quoted(p, &f) == -1)
					return -1;
				mb->local_quoted = 1;
			} else {
				a = p->pos;
				field_put(&f, p->s + a, scan_atom(p));
			}
			st = W_WORD;
		} else if (c == '.') {
			if (st != W_WORD)
				return fail(p, st == W_START ? R_LOCAL_STARTS_DOT : R_LOCAL_DOUBLE_DOT);
			field_put(&f, ".", 1);
			p->pos++;
			st = W_DOT;
		} else
			break;
	}
	if (c != '@') {
		if (st == W_START)
			return fail(p, c == -1 || c == '>' || c == ',' ? R_NO_LOCAL : R_BAD_CHAR_LOCAL);
		if (c == -1 || c == '>' || c == ',' || c == ';')
			return fail(p, R_NO_AT);
		return fail(p, R_BAD_CHAR_LOCAL);
	}
	if (st == W_START)
		return fail(p, R_NO_LOCAL);
	if (st == W_DOT)
		return fail(p, R_LOCAL_ENDS_DOT);
	if (f.overflow)
		return fail(p, R_LOCAL_TOO_LONG);
	if (!mb->local_quoted && looks_encoded(mb->local))
		return fail(p, R_ENCODED_WORD);
	p->pos++;
	return 0;
}

/* obs-route = obs-domain-list ":" (RFC 5322 §4.4): read and ignored. */
static int
parse_route(struct parser *p)
{
	char tmp[ADDR_DOMAIN_MAX];
	int c, need_sep = 0;

	for (;;) {
		if (skip_cfws(p, NULL) == -1)
			return -1;
		c = peek(p);
		if (c == ',') {
			p->pos++;
			need_sep = 0;
		} else if (c == '@' && !need_sep) {
			p->pos++;
			if (parse_domain(p, tmp, sizeof(tmp)) == -1)
				return -1;
			need_sep = 1;
		} else if (c == ':' && need_sep) {
			p->pos++;
			return 0;
		} else if (c == '>')
			return fail(p, R_NO_LOCAL);
		else if (c == -1)
			return fail(p, R_UNTERM_ANGLE);
		else
			return fail(p, R_BAD_ROUTE);
	}
}

/* angle-addr / obs-angle-addr (RFC 5322 §3.4, §4.4) at '<', trailing CFWS included. */
static int
parse_angle(struct parser *p, addr_mailbox *mb)
{
	int c;

	p->pos++;
	if (skip_cfws(p, NULL) == -1)
		return -1;
	c = peek(p);
	if (c == '>')
		return fail(p, R_EMPTY_ANGLE);
	if (c == '@' && parse_route(p) == -1)
		return -1;
	if (parse_local(p, mb) == -1 || parse_domain(p, mb->domain, sizeof(mb->domain)) == -1)
		return -1;
	c = peek(p);
	if (c == '>') {
		p->pos++;
		return skip_cfws(p, NULL);
	}
	if (c == -1 || c == ',' || c == ';')
		return fail(p, R_UNTERM_ANGLE);
	return fail(p, R_TRAILING);
}

/*
 * set_display - render the phrase in [start, end) as the display name: words
 * joined by one space where CFWS separated them, quotes and escapes removed,
 * RFC 2047 words decoded (inside quoted strings too, as common mailers write
 * them). Never an address: the caller takes the mailbox from the angle-addr.
 */
static void
set_display(struct parser *p, size_t start, size_t end, addr_mailbox *mb)
{
	char raw[PHRASE_MAX];
	struct field f;
	size_t a, i;
	int saw;

	field_init(&f, raw, sizeof(raw));
	p->pos = start;
	while (p->pos < end) {
		saw = 0;
		(void)skip_cfws(p, &saw);	/* the look-ahead validated it */
		if (p->pos >= end)
			break;
		if (saw && f.len > 0)
			field_put(&f, " ", 1);
		a = p->pos;
		if (p->s[a] == '"')
			(void)scan_quoted(p, &f);
		else if (p->s[a] == '.') {
			field_put(&f, ".", 1);
			p->pos++;
		} else if (scan_atom(p) > 0)
			field_put(&f, p->s + a, p->pos - a);
		else
			p->pos++;	/* unreachable: the look-ahead stopped at anything else */
	}
	p->pos = end;
	(void)rfc2047_decode_cached(p->conv, raw, f.len, mb->display, sizeof(mb->display));
	/* decoded words may carry controls; keep logs single-line */
	for (i = 0; mb->display[i] != '\0'; i++)
		if ((unsigned char)mb->display[i] < 0x20 || mb->display[i] == 0x7f)
			mb->display[i] = ' ';
}

static int
found(struct parser *p, const addr_mailbox *mb)
{
	int r;

	if (++p->count > ADDR_MAX_MAILBOXES)
		return fail(p, R_TOO_MANY);
	if (p->cb != NULL && (r = p->cb(p->ctx, mb)) != 0) {
		p->stopped = r;
		return -1;
	}
	return 0;
}

static int parse_group(struct parser *);

/*
 * parse_address - one element of an address-list (RFC 5322 §3.4): mailbox,
 * group, or the empty element obs-addr-list tolerates. A look-ahead over the
 * leading phrase decides: '<' is a name-addr, ':' a group, '@' an addr-spec.
 */
static int
parse_address(struct parser *p, int in_group)
{
	addr_mailbox mb;
	size_t start, a;
	int c, any = 0, words = 0, encoded = 0;

	if (skip_cfws(p, NULL) == -1)
		return -1;
	start = p->pos;
	for (;;) {
		c = peek(p);
		if (c == '"') {
			if (scan_quoted(p, NULL) == -1)
				return -1;
			words++;
		} else if (c == '.')
			p->pos++;
		else if (is_atext(c)) {
			a = p->pos;
			if (scan_atom(p) >= 2 && p->s[a] == '=' && p->s[a + 1] == '?')
				encoded = 1;
			words++;
		} else
			break;
		any = 1;
		if (skip_cfws(p, NULL) == -1)
			return -1;
	}
	memset(&mb, 0, sizeof(mb));
	switch (c) {
	case '<':
		if (p->conv != NULL)
			set_display(p, start, p->pos, &mb);
		if (parse_angle(p, &mb) == -1)
			return -1;
		return found(p, &mb);
	case '@':
		p->pos = start;
		if (parse_local(p, &mb) == -1 ||
		    parse_domain(p, mb.domain, sizeof(mb.domain)) == -1)
			return -1;
		return found(p, &mb);
	case ':':
		if (in_group)
			return fail(p, R_NESTED_GROUP);
		if (words == 0)
			return fail(p, R_NO_GROUP_NAME);
		p->pos++;
		return parse_group(p);
	}
	if (!any && (c == -1 || c == ',' || (in_group && c == ';')))
		return 0;
	if (any && (c == -1 || c == ',' || c == ';' || c == '>'))
		return fail(p, encoded ? R_ENCODED_WORD : R_NO_AT);
	return fail(p, R_BAD_CHAR);
}

/* group = display-name ":" [group-list] ";" [CFWS] (RFC 5322 §3.4); members are reported like any mailbox. */
static int
parse_group(struct parser *p)
{
	int c;

	for (;;) {
		if (parse_address(p, 1) == -1)
			return -1;
		c = peek(p);
		if (c == ',')
			p->pos++;
		else if (c == ';') {
			p->pos++;
			return skip_cfws(p, NULL);
		} else if (c == -1)
			return fail(p, R_UNTERM_GROUP);
		else
			return fail(p, R_TRAILING);
	}
}

static int
parse_list(struct parser *p)
{
	int c;

	for (;;) {
		if (parse_address(p, 0) == -1)
			return -1;
		if ((c = peek(p)) == -1)
			return 0;
		if (c != ',')
			return fail(p, R_TRAILING);
		p->pos++;
	}
}

static void
parser_init(struct parser *p, const char *s, size_t len, addr_cb cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->s = (const unsigned char *)s;
	p->len = len;
	p->cb = cb;
	p->ctx = ctx;
}

int
addr_parse_list(const char *value, size_t len, int allow_empty,
    addr_cb cb, void *ctx, const char **reason)
{
	struct parser p;
	rfc2047_cache conv;
	const char *r = NULL;
	int rc = 0;

	if (len > ADDR_MAX_INPUT)
		r = R_TOO_LONG;
	else if (!utf8_valid((const unsigned char *)value, len))
		r = R_BAD_UTF8;	/* RFC 6532 §3.1: UTF-8, nothing else */
	else {
		parser_init(&p, value, len, NULL, NULL);
		if (parse_list(&p) == -1)
			r = p.reason;
		else if (p.count == 0 && !allow_empty)
			r = R_EMPTY_LIST;
	}
	if (r != NULL) {
		if (reason != NULL)
			*reason = r;
		return -1;
	}
	if (cb == NULL)
		return 0;
	/*
	 * Second pass: the callback only ever sees mailboxes of a list that
	 * parsed whole. One converter cache for all display names bounds the
	 * iconv_open() calls a hostile list can cause.
	 */
	parser_init(&p, value, len, cb, ctx);
	rfc2047_cache_init(&conv);
	p.conv = &conv;
	if (parse_list(&p) == -1) {
		rc = p.stopped;
		if (rc == 0) {
			rc = -1;	/* not reached: same input, same verdict */
			if (reason != NULL)
				*reason = p.reason;
		}
	}
	rfc2047_cache_free(&conv);
	return rc;
}

/* RFC 5321 §4.1.2 Local-part = Dot-string / Quoted-string, UTF-8 per RFC 6531 §3.3 when utf8; consumes the '@'. */
static int
path_local(struct parser *p, int utf8, addr_mailbox *mb)
{
	struct field f;
	enum word_state st = W_START;
	size_t start = p->pos, n;
	unsigned char ch;
	int c, quoted = peek(p) == '"';

	field_init(&f, mb->local, sizeof(mb->local));
	if (quoted)
		p->pos++;
	for (;;) {
		if ((c = peek(p)) == -1)
			return fail(p, quoted ? R_UNTERM_QUOTED : R_UNTERM_ANGLE);
		if (c >= 0x80) {
			if (!utf8)
				return fail(p, R_BAD_CHAR_LOCAL);
			if ((n = rfc2047_utf8_seqlen(p->s + p->pos, p->len - p->pos)) == 0)
				return fail(p, R_BAD_UTF8);
			field_put(&f, p->s + p->pos, n);
			p->pos += n;
			st = W_WORD;
			continue;
		}
		if (quoted) {
			if (c == '"') {
				p->pos++;
				break;
			}
			if (c == '\\') {
				/* quoted-pairSMTP = %d92 %d32-126 */
				p->pos++;
				if ((c = peek(p)) == -1)
					return fail(p, R_UNTERM_QUOTED);
			}
			if (c < 32 || c > 126)
				return fail(p, R_BAD_CHAR_LOCAL);
		} else if (c == '.') {
			if (st != W_WORD)
				return fail(p, st == W_START ? R_LOCAL_STARTS_DOT : R_LOCAL_DOUBLE_DOT);
			st = W_DOT;
		} else if (is_atext(c))
			st = W_WORD;
		else
			break;
		ch = (unsigned char)c;
		field_put(&f, &ch, 1);
		p->pos++;
	}
	c = peek(p);
	if (c != '@') {
		if (c == -1)
			return fail(p, R_UNTERM_ANGLE);
		if (c == '>')
			return fail(p, st == W_START && !quoted ? R_NO_LOCAL : R_NO_AT);
		return fail(p, R_BAD_CHAR_LOCAL);
	}
	if (!quoted && st != W_WORD)
		return fail(p, st == W_START ? R_NO_LOCAL : R_LOCAL_ENDS_DOT);
	if (p->pos - start > SMTP_LOCAL_MAX || f.overflow)
		return fail(p, R_LOCAL_TOO_LONG);
	mb->local_quoted = quoted;
	p->pos++;
	return 0;
}

/* RFC 5321 §4.1.2 Domain / address-literal (§4.1.3); U-labels per RFC 6531 §3.3 when utf8. */
static int
path_domain(struct parser *p, int utf8, char *out, size_t outsize)
{
	struct field f;
	const char *r;
	size_t n;
	int c;

	field_init(&f, out, outsize);
	if (peek(p) == '[') {
		for (;;) {
			c = peek(p);
			if (c == -1)
				return fail(p, R_UNTERM_LITERAL);
			/* dcontent = %d33-90 / %d94-126, plus the brackets */
			if (c < 33 || c > 126 || c == '\\' || (c == '[' && f.len > 0))
				return fail(p, R_BAD_LITERAL);
			field_put(&f, p->s + p->pos, 1);
			p->pos++;
			if (c == ']')
				break;
		}
		if (f.overflow)
			return fail(p, R_DOMAIN_TOO_LONG);
		if (!literal_ok(out + 1, f.len - 2))
			return fail(p, R_BAD_LITERAL);
		return 0;
	}
	/* take everything up to a delimiter, so that a stray character is named as such */
	for (;;) {
		c = peek(p);
		if (c == -1 || c <= ' ' || c == 0x7f || c == '>' || c == ',' || c == ':')
			break;
		n = 1;
		if (c >= 0x80 && utf8 &&
		    (n = rfc2047_utf8_seqlen(p->s + p->pos, p->len - p->pos)) == 0)
			return fail(p, R_BAD_UTF8);
		field_put(&f, p->s + p->pos, n);
		p->pos += n;
	}
	if (f.overflow)
		return fail(p, R_DOMAIN_TOO_LONG);
	if ((r = domain_error(out, f.len, utf8)) != NULL)
		return fail(p, r);
	return 0;
}

int
addr_parse_path(const char *s, size_t len, int allow_null, int utf8,
    addr_mailbox *mb, int *is_null, const char **reason)
{
	struct parser p;
	char tmp[ADDR_DOMAIN_MAX];
	int c;

	memset(mb, 0, sizeof(*mb));
	*is_null = 0;
	/* a path is short: capping keeps the returned count within an int */
	parser_init(&p, s, len > ADDR_MAX_INPUT ? ADDR_MAX_INPUT : len, NULL, NULL);
	/* "MAIL FROM: <a@b>" is common enough (Postfix takes it) to tolerate */
	while (p.pos < p.len && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t'))
		p.pos++;
	if (peek(&p) != '<') {
		fail(&p, R_NO_ANGLE);
		goto bad;
	}
	p.pos++;
	if (peek(&p) == '>') {
		/* RFC 5321 §4.5.5: the null reverse-path */
		if (!allow_null) {
			fail(&p, R_EMPTY_ANGLE);
			goto bad;
		}
		*is_null = 1;
		return (int)p.pos + 1;
	}
	/* A-d-l ":" (RFC 5321 §4.1.2), ignored as §C asks */
	if (peek(&p) == '@') {
		for (;;) {
			p.pos++;
			if (path_domain(&p, utf8, tmp, sizeof(tmp)) == -1)
				goto bad;
			c = peek(&p);
			if (c == ':')
				break;
			if (c == ',' && p.pos + 1 < p.len && p.s[p.pos + 1] == '@') {
				p.pos++;
				continue;
			}
			fail(&p, c == '>' ? R_NO_LOCAL : c == -1 ? R_UNTERM_ANGLE : R_BAD_ROUTE);
			goto bad;
		}
		p.pos++;
	}
	if (path_local(&p, utf8, mb) == -1 ||
	    path_domain(&p, utf8, mb->domain, sizeof(mb->domain)) == -1)
		goto bad;
	c = peek(&p);
	if (c == '>')
		return (int)p.pos + 1;
	fail(&p, c == -1 ? R_UNTERM_ANGLE : R_BAD_CHAR_DOMAIN);
bad:
	memset(mb, 0, sizeof(*mb));
	if (reason != NULL)
		*reason = p.reason;
	return -1;
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
		if (n < 2 || domain[n - 1] != ']' || !literal_ok(domain + 1, n - 2))
			return -1;
	} else {
		if (domain_error(domain, n, 1) != NULL)
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

size_t
addr_decode_2047(const char *in, size_t len, char *out, size_t outsize)
{
	return rfc2047_decode(in, len, out, outsize);
}
