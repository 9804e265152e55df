/* smtp_reply.c - incremental, bounded reading of SMTP/LMTP replies and EHLO keywords from a next hop. */
#include "smtp_reply.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

void
smtp_reply_next(struct smtp_reply *r)
{
	size_t i;

	for (i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	r->nlines = 0;
	r->code = 0;
	r->first[0] = '\0';
	r->done = 0;
}

void
smtp_reply_free(struct smtp_reply *r)
{
	smtp_reply_next(r);
	r->len = 0;
}

const char *
smtp_reply_error(const struct smtp_reply *r)
{
	return r->error ? r->error : "no error";
}

static int
smtp_reply_bad(struct smtp_reply *r, const char *why)
{
	r->error = why;
	return SMTP_REPLY_BAD;
}

/* One complete line (CR stripped, NUL-terminated in r->buf, length len). */
static int
smtp_reply_line_in(struct smtp_reply *r, size_t len)
{
	const char *s = r->buf;
	int code;

	if (memchr(s, '\0', len) != NULL)
		return smtp_reply_bad(r, "NUL byte in reply");
	if (len < 3 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || s[0] < '2' || s[0] > '5' ||
	    (len > 3 && s[3] != ' ' && s[3] != '-'))
		return smtp_reply_bad(r, "malformed reply line");
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (r->nlines == 0) {
		r->code = code;
		memcpy(r->first, s, len + 1);
	} else if (code != r->code) {
		return smtp_reply_bad(r, "reply lines with different codes");
	}
	if (r->nlines == SMTP_REPLY_LINES_MAX)
		return smtp_reply_bad(r, "reply of too many lines");
	r->lines[r->nlines++] = xstrdup(len > 4 ? s + 4 : "");
	if (len == 3 || s[3] == ' ')
		r->done = 1;
	return SMTP_REPLY_MORE;
}

int
smtp_reply_feed(struct smtp_reply *r, const char *p, size_t n, size_t *used)
{
	size_t i = 0;

	*used = 0;
	if (r->error != NULL)
		return SMTP_REPLY_BAD;
	if (r->done)
		return SMTP_REPLY_DONE;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (p + i)) : n - i;

		/* Keep room for the NUL; the LF itself is not stored. */
		if (r->len + take >= sizeof(r->buf)) {
			*used = i;
			return smtp_reply_bad(r, "reply line too long");
		}
		memcpy(r->buf + r->len, p + i, take);
		r->len += take;
		i += take;
		if (nl == NULL)
			break;
		i++;	/* the LF */
		if (r->len > 0 && r->buf[r->len - 1] == '\r')
			r->len--;
		r->buf[r->len] = '\0';
		{
			size_t len = r->len;
			r->len = 0;
			if (smtp_reply_line_in(r, len) == SMTP_REPLY_BAD) {
				*used = i;
				return SMTP_REPLY_BAD;
			}
		}
		if (r->done) {
			*used = i;
			return SMTP_REPLY_DONE;
		}
	}
	*used = i;
	return SMTP_REPLY_MORE;
}

void
smtp_reply_line(const struct smtp_reply *r, char *out, size_t outsize)
{
	size_t i;

	if (outsize == 0)
		return;
	xstrlcpy(out, r->first, outsize);
	if (strlen(out) > 3 && out[3] == '-')
		out[3] = ' ';
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

/* Words of an AUTH line ("PLAIN LOGIN CRAM-MD5"). */
static void
smtp_ehlo_auth(const char *p, struct smtp_ehlo *e)
{
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (n == 5 && strncasecmp(p, "PLAIN", 5) == 0)
			e->auth_plain = 1;
		else if (n == 5 && strncasecmp(p, "LOGIN", 5) == 0)
			e->auth_login = 1;
		p += n;
	}
}

/* Does line start with keyword kw, followed by its end, a space, or (for AUTH=) '='? Returns the rest. */
static const char *
smtp_ehlo_kw(const char *line, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(line, kw, n) != 0)
		return NULL;
	if (line[n] == '\0')
		return line + n;
	if (line[n] == ' ' || line[n] == '\t' || line[n] == '=')
		return line + n + 1;
	return NULL;
}

void
smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *e)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	if (r->code != 250)
		return;
	/* Line 0 is the greeting ("mx.example.com says hi"), not a keyword. */
	for (i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i], *rest;

		if (smtp_ehlo_kw(l, "PIPELINING"))
			e->pipelining = 1;
		else if (smtp_ehlo_kw(l, "STARTTLS"))
			e->starttls = 1;
		else if (smtp_ehlo_kw(l, "8BITMIME"))
			e->eightbitmime = 1;
		else if (smtp_ehlo_kw(l, "SMTPUTF8"))
			e->smtputf8 = 1;
		else if (smtp_ehlo_kw(l, "CHUNKING"))
			e->chunking = 1;
		else if (smtp_ehlo_kw(l, "ENHANCEDSTATUSCODES"))
			e->enhancedstatuscodes = 1;
		else if ((rest = smtp_ehlo_kw(l, "SIZE")) != NULL) {
			char *end;
			unsigned long long v;

			while (*rest == ' ')
				rest++;
			e->size_offered = 1;
			if (*rest == '\0')
				continue;
			if (!isdigit((unsigned char)*rest))
				continue;
			errno = 0;
			v = strtoull(rest, &end, 10);
			while (*end == ' ')
				end++;
			if (errno == 0 && *end == '\0')
				e->size_max = v;
		} else if ((rest = smtp_ehlo_kw(l, "AUTH")) != NULL)
			smtp_ehlo_auth(rest, e);
	}
}
