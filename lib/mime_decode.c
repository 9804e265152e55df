/* mime_decode.c - MIME scanner helpers: streaming base64/QP decoders, header field values (RFC 2045, 2231).
 *
 * Everything here works in fixed buffers: body decoders keep a few bytes of
 * state between calls, field parsers write into caller-sized outputs and
 * truncate. RFC 2047 words and charset conversion are left to lib/rfc2047.c.
 * Lenient where real mail is sloppy (unquoted parameter values with
 * tspecials, missing base64 padding, stray '=' in quoted-printable), strict
 * only where the scanner must report corruption (invalid base64).
 */
#include "mime_decode.h"
#include "ascii.h"
#include "rfc2047.h"

#include <string.h>

#define LOWER(c)	((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' + 'a' : (c))

/* Base64 alphabet values; B64_WS is skipped whitespace, B64_PAD is '='. */
#define B64_WS		64
#define B64_PAD		65
#define B64_BAD		255

static const unsigned char b64tab[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255,  64,  64, 255, 255,  64, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	 64, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255,  65, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

enum { QP_TEXT, QP_EQ, QP_HEX, QP_EQCR };

/* Body decoders */

void
mime_dec_init(mime_dec *d, enum mime_cte cte)
{
	d->cte = cte;
	d->acc = 0;
	d->cnt = 0;
	d->pad = 0;
	d->qp = QP_TEXT;
	d->qphex = 0;
	d->olen = 0;
}

static void
dec_flush(mime_dec *d, mime_dec_out out, void *arg)
{
	if (d->olen > 0)
		out(arg, d->obuf, d->olen);
	d->olen = 0;
}

/* b64_feed - decode base64; whitespace anywhere, padding only at the end of the data. */
static size_t
b64_feed(mime_dec *d, const unsigned char *p, size_t n, mime_dec_out out, void *arg, int *bad)
{
	const unsigned char *q = p, *e = p + n;
	unsigned char *o = d->obuf + d->olen, *oend = d->obuf + sizeof(d->obuf);
	uint32_t acc = d->acc, v, a, b, c, x;
	unsigned cnt = d->cnt;

	while (q < e) {
		if (cnt == 0 && !d->pad) {
			/* Fast path: whole quanta of alphabet characters. */
			while (e - q >= 4) {
				a = b64tab[q[0]];
				b = b64tab[q[1]];
				c = b64tab[q[2]];
				x = b64tab[q[3]];
				if ((a | b | c | x) >= 64)
					break;
				if (oend - o < 3) {
					d->olen = o - d->obuf;
					dec_flush(d, out, arg);
					o = d->obuf;
				}
				v = a << 18 | b << 12 | c << 6 | x;
				o[0] = v >> 16;
				o[1] = v >> 8;
				o[2] = v;
				o += 3;
				q += 4;
			}
			if (q == e)
				break;
		}
		v = b64tab[*q++];
		if (v == B64_WS)
			continue;
		if (v < 64 && !d->pad) {
			acc = acc << 6 | v;
			if (++cnt < 4)
				continue;
		} else if (v == B64_PAD && d->pad) {
			continue;		/* surplus '=' after the padding: harmless */
		} else if (v == B64_PAD && cnt >= 2) {
			d->pad = 1;
		} else {
			/* Outside the alphabet, data after padding, or '=' where no quantum can end. */
			d->acc = acc;
			d->cnt = cnt;
			d->olen = o - d->obuf;
			dec_flush(d, out, arg);
			*bad = 1;
			return q - p;
		}
		if (oend - o < 3) {
			d->olen = o - d->obuf;
			dec_flush(d, out, arg);
			o = d->obuf;
		}
		if (cnt == 4) {
			*o++ = acc >> 16;
			*o++ = acc >> 8;
			*o++ = acc;
		} else if (cnt == 3) {
			*o++ = acc >> 10;
			*o++ = acc >> 2;
		} else {
			*o++ = acc >> 4;
		}
		acc = 0;
		cnt = 0;
	}
	d->acc = acc;
	d->cnt = cnt;
	d->olen = o - d->obuf;
	return n;
}

static void
qp_put(mime_dec *d, unsigned char c, mime_dec_out out, void *arg)
{
	if (d->olen == sizeof(d->obuf))
		dec_flush(d, out, arg);
	d->obuf[d->olen++] = c;
}

/*
 * qp_feed - decode quoted-printable: "=XX" and soft line breaks "=\r\n" / "=\n".
 * A '=' not followed by two hex digits or a line end is kept literally, as
 * most readers do. Trailing whitespace before a hard line break is kept.
 */
static void
qp_feed(mime_dec *d, const unsigned char *p, size_t n, mime_dec_out out, void *arg)
{
	const unsigned char *q = p, *e = p + n, *eq;
	size_t run;
	int h;

	while (q < e) {
		switch (d->qp) {
		case QP_TEXT:
			eq = memchr(q, '=', e - q);
			run = (eq != NULL ? eq : e) - q;
			while (run > 0) {
				size_t room = sizeof(d->obuf) - d->olen;

				if (room == 0) {
					dec_flush(d, out, arg);
					room = sizeof(d->obuf);
				}
				if (room > run)
					room = run;
				memcpy(d->obuf + d->olen, q, room);
				d->olen += room;
				q += room;
				run -= room;
			}
			if (eq != NULL) {
				q++;
				d->qp = QP_EQ;
			}
			break;
		case QP_EQ:
			if (ascii_hexval(*q) >= 0) {
				d->qphex = *q++;
				d->qp = QP_HEX;
			} else if (*q == '\n') {
				q++;
				d->qp = QP_TEXT;
			} else if (*q == '\r') {
				q++;
				d->qp = QP_EQCR;
			} else {
				qp_put(d, '=', out, arg);
				d->qp = QP_TEXT;	/* *q is looked at again as text */
			}
			break;
		case QP_HEX:
			if ((h = ascii_hexval(*q)) >= 0) {
				qp_put(d, ascii_hexval(d->qphex) << 4 | h, out, arg);
				q++;
			} else {
				qp_put(d, '=', out, arg);
				qp_put(d, d->qphex, out, arg);
			}
			d->qp = QP_TEXT;
			break;
		case QP_EQCR:
			if (*q == '\n') {
				q++;
			} else {
				qp_put(d, '=', out, arg);
				qp_put(d, '\r', out, arg);
			}
			d->qp = QP_TEXT;
			break;
		}
	}
}

size_t
mime_dec_feed(mime_dec *d, const char *p, size_t n, mime_dec_out out, void *arg, int *bad)
{
	*bad = 0;
	if (d->cte == MIME_CTE_BASE64)
		return b64_feed(d, (const unsigned char *)p, n, out, arg, bad);
	qp_feed(d, (const unsigned char *)p, n, out, arg);
	return n;
}

int
mime_dec_finish(mime_dec *d, mime_dec_out out, void *arg)
{
	if (d->cte == MIME_CTE_BASE64) {
		/* One leftover character cannot encode a byte; two or three without '=' are accepted. */
		if (d->cnt == 1)
			return -1;
		if (d->cnt == 2)
			d->obuf[d->olen++] = d->acc >> 4;
		else if (d->cnt == 3) {
			d->obuf[d->olen++] = d->acc >> 10;
			d->obuf[d->olen++] = d->acc >> 2;
		}
	} else if (d->cte == MIME_CTE_QP) {
		/* A lone '=' at the end is a soft break whose line end went to the delimiter. */
		if (d->qp == QP_HEX) {
			qp_put(d, '=', out, arg);
			qp_put(d, d->qphex, out, arg);
		}
	}
	d->cnt = 0;
	d->qp = QP_TEXT;
	dec_flush(d, out, arg);
	return 0;
}

/* Header field values */

static int
is_token(unsigned char c)
{
	return c > ' ' && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* skip_cfws - whitespace and (nested, escaped) comments, which RFC 2045 allows between tokens. */
static const char *
skip_cfws(const char *p)
{
	int depth;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		depth = 0;
		while (*p != '\0') {
			if (*p == '\\' && p[1] != '\0') {
				p += 2;
				continue;
			}
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
			p++;
		}
	}
}

/* get_token - copy a lowercased token; *trunc set when it did not fit. */
static const char *
get_token(const char *p, char *out, size_t outsz, int *trunc)
{
	size_t n = 0;

	for (; is_token(*p); p++) {
		if (n + 1 < outsz)
			out[n++] = LOWER(*p);
		else
			*trunc = 1;
	}
	out[n] = '\0';
	return p;
}

/* skip_junk - to the next ';' outside a quoted string, for a parameter that does not parse. */
static const char *
skip_junk(const char *p)
{
	while (*p != '\0' && *p != ';') {
		if (*p++ != '"')
			continue;
		while (*p != '\0' && *p != '"') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			p++;
		}
		if (*p == '"')
			p++;
	}
	return p;
}

/* Called per parameter with the lowercased name and the unquoted value; 1 keeps the value in scratch. */
typedef int (*param_fn)(void *arg, const char *name, const char *val, size_t len);

/* parse_params - "; name = value" pairs: tokens or quoted strings, comments allowed around them. */
static void
parse_params(const char *p, char *scratch, size_t scratchsz, param_fn fn, void *arg)
{
	char name[64], *dst;
	size_t used = 0, len, cap;
	int trunc;

	for (;;) {
		p = skip_cfws(p);
		if (*p == '\0' || used + 1 >= scratchsz)
			return;
		if (*p != ';') {
			p = skip_junk(p);
			continue;
		}
		trunc = 0;
		p = get_token(skip_cfws(p + 1), name, sizeof(name), &trunc);
		p = skip_cfws(p);
		if (*p != '=' || name[0] == '\0')
			continue;
		p = skip_cfws(p + 1);
		dst = scratch + used;
		cap = scratchsz - used - 1;
		len = 0;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (len < cap)
					dst[len++] = *p;
			}
			if (*p == '"')
				p++;
		} else {
			/* Lenient: unquoted values with tspecials ("b=_x=") are common. */
			for (; *p != '\0' && strchr(" \t\r\n;(\"", *p) == NULL; p++)
				if (len < cap)
					dst[len++] = *p;
		}
		dst[len] = '\0';
		if (!trunc && fn(arg, name, dst, len))
			used += len + 1;
	}
}

/* RFC 2231 parameter value continuations: name*0*=utf-8''a%20; name*1="b". */
#define R2231_SEGS	32

struct r2231 {
	const char *base;
	size_t blen;
	const char *plain;
	size_t plain_len;
	struct {
		unsigned idx;
		int ext;
		const char *v;
		size_t len;
	} seg[R2231_SEGS];
	unsigned nseg;
};

static void
r2231_init(struct r2231 *c, const char *base)
{
	memset(c, 0, sizeof(*c));
	c->base = base;
	c->blen = strlen(base);
}

/* r2231_add - a parameter that may belong to the collected name; returns 1 when its value is kept. */
static int
r2231_add(struct r2231 *c, const char *name, const char *v, size_t len)
{
	const char *r;
	unsigned idx = 0, i;
	int ext = 0;

	if (strncmp(name, c->base, c->blen) != 0)
		return 0;
	r = name + c->blen;
	if (*r == '\0') {
		if (c->plain != NULL)
			return 0;
		c->plain = v;
		c->plain_len = len;
		return 1;
	}
	if (*r++ != '*')
		return 0;
	if (*r == '\0')
		ext = 1;
	else {
		if (*r < '0' || *r > '9')
			return 0;
		for (; *r >= '0' && *r <= '9'; r++)
			if ((idx = idx * 10 + (*r - '0')) > 999)
				return 0;
		if (*r == '*') {
			ext = 1;
			r++;
		}
		if (*r != '\0')
			return 0;
	}
	for (i = 0; i < c->nseg; i++)
		if (c->seg[i].idx == idx)
			return 0;	/* first one wins */
	if (c->nseg == R2231_SEGS)
		return 0;
	/* Keep them sorted by index: the order in the header is not guaranteed. */
	for (i = c->nseg; i > 0 && c->seg[i - 1].idx > idx; i--)
		c->seg[i] = c->seg[i - 1];
	c->seg[i].idx = idx;
	c->seg[i].ext = ext;
	c->seg[i].v = v;
	c->seg[i].len = len;
	c->nseg++;
	return 1;
}

/* append - bounded copy into out[*n], the NUL not counted in cap; what does not fit is dropped. */
static void
append(char *out, size_t *n, size_t cap, const char *p, size_t len)
{
	if (len > cap - *n)
		len = cap - *n;
	memcpy(out + *n, p, len);
	*n += len;
}

/*
 * r2231_result - the assembled value, as UTF-8 (invalid sequences become '?').
 * RFC 2231 segments win over a plain value; plain text may hold RFC 2047 words.
 * Percent-decoded bytes are converted from their declared charset by handing
 * rfc2047_decode() the equivalent Q-encoded word, so all charset handling
 * (ISO-8859-x, windows-125x, Shift_JIS through iconv) stays in one place.
 */
static void
r2231_result(const struct r2231 *c, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	char raw[2 * MIME_FILENAME_MAX], word[3 * sizeof(raw) + MIME_CHARSET_MAX + 8];
	const char *v, *q1, *q2, *cs = "utf-8";
	size_t len, i, k, n = 0, wn = 0, cslen = 5;
	int any_ext = 0, h1, h2;
	unsigned char ch;

	if (c->nseg == 0) {
		if (c->plain != NULL)
			rfc2047_decode(c->plain, c->plain_len, out, outsz);
		else if (outsz > 0)
			out[0] = '\0';
		return;
	}
	for (i = 0; i < c->nseg; i++) {
		v = c->seg[i].v;
		len = c->seg[i].len;
		if (!c->seg[i].ext) {
			append(raw, &n, sizeof(raw), v, len);
			continue;
		}
		if (!any_ext && (q1 = memchr(v, '\'', len)) != NULL &&
		    (q2 = memchr(q1 + 1, '\'', len - (q1 + 1 - v))) != NULL) {
			/* charset'language' prefix of the first extended segment */
			for (k = 0; k < (size_t)(q1 - v) && is_token(v[k]) && v[k] != '*'; k++)
				;
			if (k > 0 && k == (size_t)(q1 - v) && k < MIME_CHARSET_MAX) {
				cs = v;
				cslen = k;
			}
			len -= q2 + 1 - v;
			v = q2 + 1;
		}
		any_ext = 1;
		for (k = 0; k < len; k++) {
			if (v[k] == '%' && k + 2 < len &&
			    (h1 = ascii_hexval(v[k + 1])) >= 0 && (h2 = ascii_hexval(v[k + 2])) >= 0) {
				ch = h1 << 4 | h2;
				k += 2;
			} else
				ch = v[k];
			append(raw, &n, sizeof(raw), (char *)&ch, 1);
		}
	}
	if (!any_ext) {
		rfc2047_decode(raw, n, out, outsz);
		return;
	}
	append(word, &wn, sizeof(word), "=?", 2);
	append(word, &wn, sizeof(word), cs, cslen);
	append(word, &wn, sizeof(word), "?Q?", 3);
	for (k = 0; k < n; k++) {
		ch = raw[k];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
			word[wn++] = ch;
		else {
			word[wn++] = '=';
			word[wn++] = hex[ch >> 4];
			word[wn++] = hex[ch & 15];
		}
	}
	append(word, &wn, sizeof(word), "?=", 2);
	rfc2047_decode(word, wn, out, outsz);
}

struct ct_arg {
	struct mime_ctinfo *ct;
	struct r2231 name;
	int have_charset;
};

static int
boundary_ok(const char *b, size_t n)
{
	size_t i;
	unsigned char c;

	/* RFC 2046 5.1.1: 1 to 70 bchars, not ending in a space. */
	if (n == 0 || n > 70 || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL)))
			return 0;
	}
	return 1;
}

static int
ct_param(void *arg, const char *name, const char *v, size_t len)
{
	struct ct_arg *a = arg;
	size_t i;

	if (strcmp(name, "boundary") == 0) {
		if (a->ct->bstat != MIME_BOUNDARY_NONE)
			return 0;
		if (!boundary_ok(v, len) || memchr(v, '\0', len) != NULL) {
			a->ct->bstat = MIME_BOUNDARY_BAD;
			return 0;
		}
		memcpy(a->ct->boundary, v, len);
		a->ct->boundary[len] = '\0';
		a->ct->bstat = MIME_BOUNDARY_OK;
		return 0;
	}
	if (strcmp(name, "charset") == 0) {
		if (a->have_charset)
			return 0;
		a->have_charset = 1;
		for (i = 0; i < len && i + 1 < sizeof(a->ct->charset); i++)
			a->ct->charset[i] = LOWER(v[i]);
		a->ct->charset[i] = '\0';
		return 0;
	}
	return r2231_add(&a->name, name, v, len);
}

void
mime_parse_ctype(const char *val, char *scratch, size_t scratchsz, struct mime_ctinfo *ct)
{
	struct ct_arg a;
	char type[MIME_TYPE_MAX], sub[MIME_TYPE_MAX];
	const char *p;
	int trunc = 0;

	memset(ct, 0, sizeof(*ct));
	a.ct = ct;
	a.have_charset = 0;
	r2231_init(&a.name, "name");
	p = get_token(skip_cfws(val), type, sizeof(type), &trunc);
	p = skip_cfws(p);
	if (*p == '/') {
		p = get_token(skip_cfws(p + 1), sub, sizeof(sub), &trunc);
		if (type[0] != '\0' && sub[0] != '\0' && !trunc &&
		    strlen(type) + 1 + strlen(sub) < sizeof(ct->type)) {
			strcpy(ct->type, type);
			strcat(ct->type, "/");
			strcat(ct->type, sub);
		}
	}
	parse_params(p, scratch, scratchsz, ct_param, &a);
	r2231_result(&a.name, ct->name, sizeof(ct->name));
}

static int
cd_param(void *arg, const char *name, const char *v, size_t len)
{
	return r2231_add(arg, name, v, len);
}

void
mime_parse_disposition(const char *val, char *scratch, size_t scratchsz,
    char *disp, size_t dispsz, char *filename, size_t filenamesz)
{
	struct r2231 fn;
	const char *p;
	int trunc = 0;

	r2231_init(&fn, "filename");
	p = get_token(skip_cfws(val), disp, dispsz, &trunc);
	parse_params(p, scratch, scratchsz, cd_param, &fn);
	r2231_result(&fn, filename, filenamesz);
}

enum mime_cte
mime_parse_cte(const char *val)
{
	static const struct {
		const char *name;
		enum mime_cte cte;
	} tab[] = {
		{ "", MIME_CTE_7BIT }, { "7bit", MIME_CTE_7BIT }, { "8bit", MIME_CTE_8BIT },
		{ "binary", MIME_CTE_BINARY }, { "base64", MIME_CTE_BASE64 },
		{ "quoted-printable", MIME_CTE_QP },
	};
	char tok[32];
	size_t i;
	int trunc = 0;

	get_token(skip_cfws(val), tok, sizeof(tok), &trunc);
	for (i = 0; !trunc && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tok, tab[i].name) == 0)
			return tab[i].cte;
	return MIME_CTE_UNKNOWN;
}

void
mime_parse_cid(const char *val, char *cid, size_t cidsz)
{
	const char *p = skip_cfws(val), *e;
	size_t n = 0;

	if (cidsz == 0)
		return;
	if (*p == '<') {
		p++;
		if ((e = strchr(p, '>')) == NULL)
			e = p + strlen(p);
	} else {
		for (e = p; *e != '\0' && strchr(" \t\r\n(", *e) == NULL; e++)
			;
	}
	append(cid, &n, cidsz - 1, p, e - p);
	cid[n] = '\0';
}
