/*
 * addr_int.h - what the address parsers share: lib/addr.c (RFC 5322 lists),
 * lib/addr_path.c (RFC 5321 paths) and lib/addr_domain.c (domain rules).
 * Not installed, not for other modules.
 */
#ifndef POSTERN_ADDR_INT_H
#define POSTERN_ADDR_INT_H

#include "addr.h"
#include "rfc2047.h"

#include <string.h>

/* Error reasons: the complete list is at the top of lib/addr.c. */
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

static inline void
field_init(struct field *f, char *buf, size_t size)
{
	f->buf = buf;
	f->size = size;
	f->len = 0;
	f->overflow = 0;
	buf[0] = '\0';
}

static inline void
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

static inline int
fail(struct parser *p, const char *reason)
{
	p->reason = reason;
	return -1;
}

static inline int
peek(const struct parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : -1;
}

static inline int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 §3.2.3 atext, with RFC 6532 §3.2 UTF8-non-ascii. */
static inline int
is_atext(int c)
{
	if (c < 0)
		return 0;
	if (c >= 0x80 || is_alnum(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static inline void
parser_init(struct parser *p, const char *s, size_t len, addr_cb cb, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->s = (const unsigned char *)s;
	p->len = len;
	p->cb = cb;
	p->ctx = ctx;
}

/* RFC 5321 §4.1.3 address literal body (between the brackets): IPv4 or "IPv6:". */
int addr_literal_ok(const char *s, size_t n);
/* What is wrong with the domain name d (dot-joined, no CFWS), NULL when nothing. */
const char *addr_domain_error(const char *d, size_t n, int utf8);

#endif
