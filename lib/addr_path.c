/*
 * addr_path.c - RFC 5321 path parser for MAIL FROM and RCPT TO: the
 * envelope's stricter grammar (no comments, no folding; RFC 6531 UTF-8 only
 * with SMTPUTF8), on the shared lexer helpers of lib/addr_int.h.
 */
#include "addr_int.h"

#include <string.h>

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
		if (!addr_literal_ok(out + 1, f.len - 2))
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
	if ((r = addr_domain_error(out, f.len, utf8)) != NULL)
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
