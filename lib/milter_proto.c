/*
 * milter_proto.c - the milter protocol v6 packet codec (framing, decoding,
 * encoding, custom reply checks) for both directions.
 *
 * Hand-written on purpose: libmilter implements only the filter side of the
 * protocol, and no Debian library implements the MTA side, which
 * postern-smtpd needs to drive any milter the way Postfix does. The format
 * follows libmilter's mfdef.h, its engine (what the filter side accepts) and
 * Postfix's milter8.c (what an MTA sends); the milter side is encoded and
 * decoded too so that tests and the fuzz target check both directions
 * against each other.
 *
 * Wire format: a 32-bit big-endian length (command byte included), the
 * command byte, then the data; strings are NUL-terminated, integers
 * big-endian.
 */
#include "milter_proto.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* --- command tables */

/* The data limit for cmd, or 0 when cmd is not a packet of that direction. */
size_t
mp_max_data(enum mp_dir dir, int cmd)
{
	if (dir == MP_COMMANDS) {
		switch (cmd) {
		case SMFIC_BODY: case SMFIC_BODYEOB:
			return MP_MAX_BODY_DATA;
		case SMFIC_ABORT: case SMFIC_CONNECT: case SMFIC_MACRO: case SMFIC_HELO:
		case SMFIC_QUIT_NC: case SMFIC_HEADER: case SMFIC_MAIL: case SMFIC_EOH:
		case SMFIC_OPTNEG: case SMFIC_QUIT: case SMFIC_RCPT: case SMFIC_DATA:
		case SMFIC_UNKNOWN:
			return MP_MAX_DATA;
		}
		return 0;
	}
	switch (cmd) {
	case SMFIR_REPLBODY:
		return MP_MAX_BODY_DATA;
	/* SMFIR_SETSYMLIST is never a packet: the lists ride in the OPTNEG reply. */
	case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_ADDRCPT_PAR: case SMFIR_SHUTDOWN:
	case SMFIR_ACCEPT: case SMFIR_CONTINUE: case SMFIR_DISCARD: case SMFIR_CHGFROM:
	case SMFIR_CONN_FAIL: case SMFIR_ADDHEADER: case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
	case SMFIR_PROGRESS: case SMFIR_QUARANTINE: case SMFIR_REJECT: case SMFIR_SKIP:
	case SMFIR_TEMPFAIL: case SMFIR_REPLYCODE: case SMFIC_OPTNEG:
		return MP_MAX_DATA;
	}
	return 0;
}

const char *
mp_strerror(int err)
{
	switch (err) {
	case MP_OK: return "ok";
	case MP_E_EMPTY: return "zero-length packet";
	case MP_E_TOO_BIG: return "packet longer than the limit";
	case MP_E_UNKNOWN: return "unknown command";
	case MP_E_SHORT: return "packet too short for its fields";
	case MP_E_NO_NUL: return "string without its NUL terminator";
	case MP_E_TRAILING: return "trailing bytes after the last field";
	case MP_E_FIELD: return "field value not allowed";
	case MP_E_FULL: return "packet would exceed the limit";
	}
	return "unknown error";
}

/* --- framing */

void
mp_reader_init(struct mp_reader *r, enum mp_dir dir)
{
	memset(r, 0, sizeof(*r));
	r->dir = dir;
}

void
mp_reader_free(struct mp_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

int
mp_read(struct mp_reader *r, const uint8_t **p, size_t *n, struct mp_packet *pkt)
{
	size_t take;
	uint32_t len;

	if (r->err)
		return r->err;
	while (r->hlen < MP_HDR_LEN) {
		if (*n == 0)
			return 0;
		r->hdr[r->hlen++] = **p;
		(*p)++;
		(*n)--;
		if (r->hlen == 4 && get32(r->hdr) == 0)
			return r->err = MP_E_EMPTY;
		if (r->hlen == MP_HDR_LEN) {
			/* Judge the length by the command before buffering anything. */
			len = get32(r->hdr) - 1;
			if (mp_max_data(r->dir, r->hdr[4]) == 0)
				return r->err = MP_E_UNKNOWN;
			if (len > mp_max_data(r->dir, r->hdr[4]))
				return r->err = MP_E_TOO_BIG;
			r->need = len;
			r->have = 0;
			/*
			 * Size the buffer to the packet, never past the limit
			 * checked above, and give a body-sized one back once
			 * ordinary packets follow.
			 */
			if (r->cap < len || (r->cap > MP_MAX_DATA && len <= MP_MAX_DATA)) {
				free(r->buf);
				r->cap = len < 4096 ? 4096 : len;
				r->buf = xmalloc(r->cap);
			}
		}
	}
	take = r->need - r->have;
	if (take > *n)
		take = *n;
	if (take > 0) {
		memcpy(r->buf + r->have, *p, take);
		r->have += take;
		*p += take;
		*n -= take;
	}
	if (r->have < r->need)
		return 0;
	pkt->cmd = r->hdr[4];
	pkt->data = r->buf ? r->buf : (const uint8_t *)"";	/* never NULL, even when empty */
	pkt->len = r->need;
	r->hlen = 0;
	return 1;
}

/* --- decoding */

struct cur {
	const uint8_t *p;
	size_t n;
};

static int
cur_u32(struct cur *c, uint32_t *v)
{
	if (c->n < 4)
		return MP_E_SHORT;
	*v = get32(c->p);
	c->p += 4;
	c->n -= 4;
	return MP_OK;
}

static int
cur_str(struct cur *c, const char **s)
{
	const uint8_t *nul;

	if (c->n == 0)
		return MP_E_SHORT;
	if ((nul = memchr(c->p, '\0', c->n)) == NULL)
		return MP_E_NO_NUL;
	*s = (const char *)c->p;
	c->n -= (size_t)(nul - c->p) + 1;
	c->p = nul + 1;
	return MP_OK;
}

/* A run of NUL-terminated strings filling the rest of the packet. */
static int
cur_list(struct cur *c, struct mp_msg *m)
{
	const char *s;
	int rc;

	m->list = (const char *)c->p;
	m->listlen = c->n;
	m->nlist = 0;
	while (c->n > 0) {
		if ((rc = cur_str(c, &s)) != MP_OK)
			return rc;
		m->nlist++;
	}
	return MP_OK;
}

/* The SETSYMLIST entries of an OPTNEG reply: (stage, names) pairs. */
static int
cur_symlists(struct cur *c, struct mp_msg *m)
{
	uint32_t stage;
	const char *s;
	int rc;

	m->list = (const char *)c->p;
	m->listlen = c->n;
	m->nlist = 0;
	while (c->n > 0) {
		if (m->nlist == MP_SYMLIST_MAX)
			return MP_E_FIELD;
		if ((rc = cur_u32(c, &stage)) != MP_OK || (rc = cur_str(c, &s)) != MP_OK)
			return rc;
		m->nlist++;
	}
	return MP_OK;
}

static int
decode_command(struct cur *c, struct mp_msg *m)
{
	int rc = MP_OK;

	switch (m->cmd) {
	case SMFIC_OPTNEG:
		if ((rc = cur_u32(c, &m->version)) == MP_OK && (rc = cur_u32(c, &m->actions)) == MP_OK)
			rc = cur_u32(c, &m->protocol);
		return rc;
	case SMFIC_MACRO:
		if (c->n == 0)
			return MP_E_SHORT;
		m->stage = *c->p;
		c->p++;
		c->n--;
		if ((rc = cur_list(c, m)) == MP_OK && m->nlist % 2 != 0)
			rc = MP_E_FIELD;
		return rc;
	case SMFIC_CONNECT:
		if ((rc = cur_str(c, &m->s1)) != MP_OK)
			return rc;
		if (c->n == 0)
			return MP_E_SHORT;
		m->family = *c->p;
		c->p++;
		c->n--;
		if (m->family == SMFIA_UNKNOWN)
			return MP_OK;
		if (m->family != SMFIA_UNIX && m->family != SMFIA_INET && m->family != SMFIA_INET6)
			return MP_E_FIELD;
		if (c->n < 2)
			return MP_E_SHORT;
		m->port = (uint16_t)(c->p[0] << 8 | c->p[1]);
		c->p += 2;
		c->n -= 2;
		return cur_str(c, &m->s2);
	case SMFIC_HELO:
	case SMFIC_UNKNOWN:
		return cur_str(c, &m->s1);
	case SMFIC_MAIL:
	case SMFIC_RCPT:
		if ((rc = cur_list(c, m)) == MP_OK && m->nlist == 0)
			rc = MP_E_SHORT;
		return rc;
	case SMFIC_HEADER:
		if ((rc = cur_str(c, &m->s1)) == MP_OK)
			rc = cur_str(c, &m->s2);
		return rc;
	case SMFIC_BODY:
	case SMFIC_BODYEOB:
		m->data = c->p;
		m->len = c->n;
		c->n = 0;
		return MP_OK;
	}
	return MP_OK;		/* EOH ABORT QUIT QUIT_NC DATA: no data */
}

static int
decode_response(struct cur *c, struct mp_msg *m)
{
	int rc = MP_OK;

	switch (m->cmd) {
	case SMFIC_OPTNEG:
		if ((rc = cur_u32(c, &m->version)) == MP_OK && (rc = cur_u32(c, &m->actions)) == MP_OK &&
		    (rc = cur_u32(c, &m->protocol)) == MP_OK)
			rc = cur_symlists(c, m);
		return rc;
	case SMFIR_REPLYCODE: case SMFIR_DELRCPT: case SMFIR_ADDRCPT: case SMFIR_QUARANTINE:
		return cur_str(c, &m->s1);
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		if ((rc = cur_u32(c, &m->index)) != MP_OK)
			return rc;
		/* fall through */
	case SMFIR_ADDHEADER:
		if ((rc = cur_str(c, &m->s1)) == MP_OK)
			rc = cur_str(c, &m->s2);
		return rc;
	case SMFIR_CHGFROM:
	case SMFIR_ADDRCPT_PAR:
		/* The ESMTP arguments are optional: absent is not the same as "". */
		if ((rc = cur_str(c, &m->s1)) == MP_OK && c->n > 0)
			rc = cur_str(c, &m->s2);
		return rc;
	case SMFIR_REPLBODY:
		m->data = c->p;
		m->len = c->n;
		c->n = 0;
		return MP_OK;
	}
	return MP_OK;		/* verdicts, PROGRESS, SKIP, CONN_FAIL, SHUTDOWN: no data */
}

int
mp_decode(enum mp_dir dir, const struct mp_packet *pkt, struct mp_msg *m)
{
	struct cur c = { pkt->data, pkt->len };
	int rc;

	memset(m, 0, sizeof(*m));
	m->cmd = pkt->cmd;
	if (mp_max_data(dir, pkt->cmd) == 0)
		return MP_E_UNKNOWN;
	if (pkt->len > mp_max_data(dir, pkt->cmd))
		return MP_E_TOO_BIG;
	rc = dir == MP_COMMANDS ? decode_command(&c, m) : decode_response(&c, m);
	if (rc == MP_OK && c.n != 0)
		rc = MP_E_TRAILING;
	return rc;
}

int
mp_symlist_next(const struct mp_msg *m, size_t *off, uint32_t *stage, const char **names)
{
	struct cur c;

	if (m->list == NULL || *off >= m->listlen)
		return 0;
	c.p = (const uint8_t *)m->list + *off;
	c.n = m->listlen - *off;
	/* The region was validated by mp_decode(); stop quietly if it was not. */
	if (cur_u32(&c, stage) != MP_OK || cur_str(&c, names) != MP_OK)
		return 0;
	*off = m->listlen - c.n;
	return 1;
}

const char *
mp_list_next(const struct mp_msg *m, size_t *off)
{
	struct cur c;
	const char *s;

	if (m->list == NULL || *off >= m->listlen)
		return NULL;
	c.p = (const uint8_t *)m->list + *off;
	c.n = m->listlen - *off;
	if (cur_str(&c, &s) != MP_OK)
		return NULL;
	*off = m->listlen - c.n;
	return s;
}

/* --- encoding */

void
mp_buf_free(struct mp_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static void
buf_reserve(struct mp_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + more <= b->cap)
		return;
	while (cap < b->len + more)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void
buf_add(struct mp_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_u32(struct mp_buf *b, uint32_t v)
{
	uint8_t x[4];

	put32(x, v);
	buf_add(b, x, 4);
}

static void
buf_str(struct mp_buf *b, const char *s)
{
	buf_add(b, s, strlen(s) + 1);
}

void
mp_put_header(uint8_t out[MP_HDR_LEN], int cmd, size_t datalen)
{
	put32(out, (uint32_t)datalen + 1);
	out[4] = (uint8_t)cmd;
}

void
mp_list_add(struct mp_buf *b, const char *s)
{
	buf_str(b, s);
}

void
mp_symlist_add(struct mp_buf *b, uint32_t stage, const char *names)
{
	buf_u32(b, stage);
	buf_str(b, names);
}

/* Is the list region well-formed (what mp_decode() would accept)? Sets the string count. */
static int
list_ok(const struct mp_msg *m, int symlists, unsigned *count)
{
	struct mp_msg t;
	struct cur c = { (const uint8_t *)m->list, m->listlen };

	if (m->listlen > 0 && m->list == NULL)
		return 0;
	memset(&t, 0, sizeof(t));
	if ((symlists ? cur_symlists(&c, &t) : cur_list(&c, &t)) != MP_OK)
		return 0;
	*count = t.nlist;
	return 1;
}

/* The data length of m, or -1 when a field is missing or malformed. */
static long
data_len(enum mp_dir dir, const struct mp_msg *m)
{
	unsigned count;
	int c = m->cmd;

#define SLEN(s) ((s) ? (long)strlen(s) + 1 : -1000000000L)
	if (dir == MP_COMMANDS) {
		switch (c) {
		case SMFIC_OPTNEG:
			return 12;
		case SMFIC_MACRO:
			if (!list_ok(m, 0, &count) || count % 2 != 0)
				return -1;
			return 1 + (long)m->listlen;
		case SMFIC_CONNECT:
			if (m->family == SMFIA_UNKNOWN)
				return SLEN(m->s1) + 1;
			if (m->family != SMFIA_UNIX && m->family != SMFIA_INET && m->family != SMFIA_INET6)
				return -1;
			return SLEN(m->s1) + 3 + SLEN(m->s2);
		case SMFIC_HELO: case SMFIC_UNKNOWN:
			return SLEN(m->s1);
		case SMFIC_MAIL: case SMFIC_RCPT:
			if (!list_ok(m, 0, &count) || count == 0)
				return -1;
			return (long)m->listlen;
		case SMFIC_HEADER:
			return SLEN(m->s1) + SLEN(m->s2);
		case SMFIC_BODY: case SMFIC_BODYEOB:
			return m->len > 0 && m->data == NULL ? -1 : (long)m->len;
		}
		return 0;
	}
	switch (c) {
	case SMFIC_OPTNEG:
		if (!list_ok(m, 1, &count) || count > MP_SYMLIST_MAX)
			return -1;
		return 12 + (long)m->listlen;
	case SMFIR_REPLYCODE: case SMFIR_DELRCPT: case SMFIR_ADDRCPT: case SMFIR_QUARANTINE:
		return SLEN(m->s1);
	case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
		return 4 + SLEN(m->s1) + SLEN(m->s2);
	case SMFIR_ADDHEADER:
		return SLEN(m->s1) + SLEN(m->s2);
	case SMFIR_CHGFROM: case SMFIR_ADDRCPT_PAR:
		return SLEN(m->s1) + (m->s2 ? (long)strlen(m->s2) + 1 : 0);
	case SMFIR_REPLBODY:
		return m->len > 0 && m->data == NULL ? -1 : (long)m->len;
	}
	return 0;
#undef SLEN
}

int
mp_encode(struct mp_buf *b, enum mp_dir dir, const struct mp_msg *m)
{
	size_t max = mp_max_data(dir, m->cmd);
	long len;
	uint8_t hdr[MP_HDR_LEN];

	if (max == 0)
		return MP_E_FIELD;
	if ((len = data_len(dir, m)) < 0)
		return MP_E_FIELD;
	if ((size_t)len > max)
		return MP_E_FULL;
	mp_put_header(hdr, m->cmd, (size_t)len);
	buf_reserve(b, MP_HDR_LEN + (size_t)len);
	buf_add(b, hdr, MP_HDR_LEN);
	switch (m->cmd) {
	case SMFIC_OPTNEG:
		buf_u32(b, m->version);
		buf_u32(b, m->actions);
		buf_u32(b, m->protocol);
		if (dir == MP_RESPONSES)
			buf_add(b, m->list, m->listlen);
		return MP_OK;
	}
	if (dir == MP_COMMANDS) {
		switch (m->cmd) {
		case SMFIC_MACRO:
			buf_add(b, &(uint8_t){ (uint8_t)m->stage }, 1);
			/* fall through */
		case SMFIC_MAIL: case SMFIC_RCPT:
			buf_add(b, m->list, m->listlen);
			break;
		case SMFIC_CONNECT:
			buf_str(b, m->s1);
			buf_add(b, &(uint8_t){ (uint8_t)m->family }, 1);
			if (m->family != SMFIA_UNKNOWN) {
				buf_add(b, (uint8_t[2]){ m->port >> 8, m->port & 0xff }, 2);
				buf_str(b, m->s2);
			}
			break;
		case SMFIC_HELO: case SMFIC_UNKNOWN:
			buf_str(b, m->s1);
			break;
		case SMFIC_HEADER:
			buf_str(b, m->s1);
			buf_str(b, m->s2);
			break;
		case SMFIC_BODY: case SMFIC_BODYEOB:
			buf_add(b, m->data, m->len);
			break;
		}
		return MP_OK;
	}
	switch (m->cmd) {
	case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
		buf_u32(b, m->index);
		/* fall through */
	case SMFIR_ADDHEADER:
		buf_str(b, m->s1);
		buf_str(b, m->s2);
		break;
	case SMFIR_REPLYCODE: case SMFIR_DELRCPT: case SMFIR_ADDRCPT: case SMFIR_QUARANTINE:
		buf_str(b, m->s1);
		break;
	case SMFIR_CHGFROM: case SMFIR_ADDRCPT_PAR:
		buf_str(b, m->s1);
		if (m->s2)
			buf_str(b, m->s2);
		break;
	case SMFIR_REPLBODY:
		buf_add(b, m->data, m->len);
		break;
	}
	return MP_OK;
}

/* --- custom replies */

static int
isdig(int c)
{
	return c >= '0' && c <= '9';
}

/* "x.y.z" of RFC 3463 at p (len bytes): class digit, then 1-3 and 1-3 digits. Returns its length or 0. */
static size_t
enhanced_len(const char *p, size_t len, int class)
{
	size_t i = 0, part, d;

	if (len < 5 || p[0] != class || p[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (d = 0; i < len && isdig(p[i]) && d < 3; i++, d++)
			;
		if (d == 0)
			return 0;
		if (part == 0) {
			if (i >= len || p[i] != '.')
				return 0;
			i++;
		}
	}
	return i < len && p[i] != ' ' ? 0 : i;
}

int
mp_reply_check(const char *text, char *out, size_t outsize)
{
	const char *q, *p, *end, *eol;
	size_t o = 0, len;
	int code = -1, last;

	/*
	 * Normalize first, then judge what would be sent: the text is a printf
	 * format for libmilter ("%%" is one '%', a lone '%' goes), and bytes
	 * outside printable ASCII become '?' (CR and LF are the line breaks).
	 */
	for (q = text; *q; q++) {
		char ch = *q;

		if (ch == '%') {
			if (q[1] != '%')
				continue;
			q++;
		} else if (ch != '\r' && ch != '\n' && ((unsigned char)ch < 0x20 || (unsigned char)ch > 0x7e)) {
			ch = '?';
		}
		if (o + 1 >= outsize || o >= MP_REPLY_MAX + 2)
			return -1;
		out[o++] = ch;
	}
	if (o >= 2 && out[o - 2] == '\r' && out[o - 1] == '\n')
		o -= 2;		/* one final CRLF is tolerated */
	out[o] = '\0';
	if (o == 0 || o > MP_REPLY_MAX)
		return -1;
	for (p = out, end = out + o;; p = eol + 2) {
		for (eol = p; eol < end && *eol != '\r' && *eol != '\n'; eol++)
			;
		if (eol < end && (eol[0] != '\r' || eol + 1 >= end || eol[1] != '\n'))
			return -1;	/* bare CR or LF */
		last = eol == end;
		len = (size_t)(eol - p);
		if (len < 3 || len > MP_REPLY_LINE_MAX || (p[0] != '4' && p[0] != '5') ||
		    !isdig(p[1]) || !isdig(p[2]))
			return -1;
		if (code < 0)
			code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		else if ((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0') != code)
			return -1;
		if ((len > 3 && p[3] != (last ? ' ' : '-')) || (len == 3 && !last))
			return -1;
		if (len > 4 && isdig(p[4]) && enhanced_len(p + 4, len - 4, p[0]) == 0)
			return -1;
		if (last)
			return code;
	}
}
