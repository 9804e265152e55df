/* addr.c - RFC 5322 address-list parser (headers); RFC 5321 paths are in addr_path.c, domains in addr_domain.c.
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
#include "addr_int.h"

#include <string.h>

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
			if (!addr_literal_ok(f->buf + 1, f->len - 2))
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
	if ((r = addr_domain_error(out, f.len, 1)) != NULL)
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

size_t
addr_decode_2047(const char *in, size_t len, char *out, size_t outsize)
{
	return rfc2047_decode(in, len, out, outsize);
}
