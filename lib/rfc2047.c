/* rfc2047.c - RFC 2047 encoded-word decoder: header text to UTF-8, bounded, never fails.
 *
 * Hand-written on purpose: it must take untrusted header text of any shape,
 * stay within the caller's buffer and never give up (it also counts the
 * characters of Subject), which no Debian library promises. UTF-8, US-ASCII
 * and ISO-8859-1 are converted here; any other charset goes through glibc
 * iconv(3), fed in small chunks so that memory stays fixed.
 */
#include "ascii.h"
#include "rfc2047.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define EW_CHUNK	256	/* decoded bytes handed to a converter at once */
#define EW_CARRY_MAX	16	/* incomplete multibyte sequence kept between chunks */

enum ew_charset { CS_UTF8, CS_LATIN1, CS_ICONV };

/* One encoded-word "=?charset[*lang]?B|Q?text?=" (RFC 2047 §2, RFC 2231 §5). */
struct ew {
	const char *charset;
	size_t charset_len;	/* without the RFC 2231 language suffix */
	int enc;		/* 'B' or 'Q' */
	const char *text;
	size_t text_len;
	size_t total;		/* bytes of the whole word */
};

/* Bounded output: bytes that do not fit are dropped and full is set. */
struct sink {
	char *buf;
	size_t cap;		/* usable bytes, the NUL excluded */
	size_t len;
	int full;
};

struct decoder {
	struct sink out;
	rfc2047_cache *cache;
	iconv_t cd;				/* converter of the current word */
	unsigned char carry[EW_CARRY_MAX];	/* bytes of a sequence cut by a chunk end */
	size_t ncarry;
};

static void
sink_put(struct sink *k, const void *p, size_t n)
{
	if (k->full)
		return;
	if (n > k->cap - k->len) {
		n = k->cap - k->len;
		k->full = 1;
	}
	memcpy(k->buf + k->len, p, n);
	k->len += n;
}

size_t
rfc2047_utf8_seqlen(const unsigned char *s, size_t n)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c < 0xc2)			/* continuation byte or overlong 2-byte form */
		return 0;
	if (c < 0xe0)
		len = 2;
	else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* UTF-16 surrogates */
	} else if (c < 0xf5) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* RFC 2047 §2 token: no space, control or especial. */
static int
is_token(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\"/[]?.=", c) == NULL;
}

/*
 * ew_parse - recognise an encoded-word at p ("=?" already seen); 0 when it
 * is malformed, so that the caller copies it as written (RFC 2047 §6.3).
 */
static size_t
ew_parse(const char *p, size_t n, struct ew *w)
{
	const unsigned char *s = (const unsigned char *)p;
	const char *star;
	size_t i = 2, j, data = 0, pad = 0;

	while (i < n && is_token(s[i]))
		i++;
	if (i == 2 || i + 3 >= n || s[i] != '?')
		return 0;
	w->charset = p + 2;
	w->charset_len = i - 2;
	/* RFC 2231 §5: "charset*language" */
	if ((star = memchr(w->charset, '*', w->charset_len)) != NULL)
		w->charset_len = (size_t)(star - w->charset);
	if (w->charset_len == 0 || w->charset_len > RFC2047_CHARSET_MAX)
		return 0;
	i++;
	w->enc = s[i] == 'b' || s[i] == 'B' ? 'B' : s[i] == 'q' || s[i] == 'Q' ? 'Q' : 0;
	if (w->enc == 0 || s[i + 1] != '?')
		return 0;
	i += 2;
	w->text = p + i;
	/* encoded-text: printable ASCII but '?' and space */
	while (i < n && s[i] != '?') {
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
		i++;
	}
	if (i + 1 >= n || s[i + 1] != '=')
		return 0;
	w->text_len = (size_t)(p + i - w->text);
	w->total = i + 2;
	if (w->text_len == 0)
		return 0;

	s = (const unsigned char *)w->text;
	for (j = 0; j < w->text_len; j++) {
		if (w->enc == 'B') {
			/* padding only at the end; missing padding is tolerated */
			if (s[j] == '=')
				pad++;
			else if (pad > 0 || ascii_b64val(s[j]) < 0)
				return 0;
			else
				data++;
		} else if (s[j] == '=') {
			if (j + 2 >= w->text_len ||
			    ascii_hexval(s[j + 1]) < 0 || ascii_hexval(s[j + 2]) < 0)
				return 0;
			j += 2;
		}
	}
	if (w->enc == 'B' && (data % 4 == 1 || pad > 2 ||
	    (pad > 0 && (data + pad) % 4 != 0)))
		return 0;
	return w->total;
}

static int
charset_is(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(name, *list) == 0)
			return 1;
	return 0;
}

/* Picks the converter for w's charset; -1 when iconv does not know it or the cache is full. */
static int
charset_select(struct decoder *d, const struct ew *w)
{
	static const char *const utf8[] = { "utf-8", "utf8", "us-ascii", "ascii", NULL };
	static const char *const latin1[] = { "iso-8859-1", "iso8859-1", "iso_8859-1",
	    "latin1", "l1", NULL };
	rfc2047_cache *c = d->cache;
	char name[RFC2047_CHARSET_MAX + 1];
	unsigned i;

	memcpy(name, w->charset, w->charset_len);
	name[w->charset_len] = '\0';
	if (charset_is(name, utf8))
		return CS_UTF8;
	if (charset_is(name, latin1))
		return CS_LATIN1;
	for (i = 0; i < c->n; i++)
		if (strcasecmp(name, c->slot[i].name) == 0)
			break;
	if (i == c->n) {
		if (c->n == RFC2047_CONV_MAX)
			return -1;	/* budget spent: the word stays as written */
		memcpy(c->slot[i].name, name, sizeof(name));
		c->slot[i].cd = iconv_open("UTF-8", name);
		c->n++;
	}
	d->cd = c->slot[i].cd;
	return d->cd == (iconv_t)-1 ? -1 : CS_ICONV;
}

static void
emit_iconv(struct decoder *d, const unsigned char *p, size_t n)
{
	char in[EW_CARRY_MAX + EW_CHUNK], outb[1024], *ip = in, *op;
	size_t il, ol, r;

	memcpy(in, d->carry, d->ncarry);
	memcpy(in + d->ncarry, p, n);
	il = d->ncarry + n;
	d->ncarry = 0;
	while (il > 0 && !d->out.full) {
		op = outb;
		ol = sizeof(outb);
		r = iconv(d->cd, &ip, &il, &op, &ol);
		sink_put(&d->out, outb, (size_t)(op - outb));
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (errno == EINVAL && il < sizeof(d->carry)) {
			/* a multibyte sequence continues in the next chunk */
			memcpy(d->carry, ip, il);
			d->ncarry = il;
			return;
		}
		/* EILSEQ: one replacement, then resynchronise on the next byte */
		sink_put(&d->out, "?", 1);
		ip++;
		il--;
	}
}

static void
emit(struct decoder *d, int cs, const unsigned char *p, size_t n)
{
	unsigned char u[2];
	size_t i;

	switch (cs) {
	case CS_UTF8:
		sink_put(&d->out, p, n);	/* checked once at the end: words may split a sequence */
		break;
	case CS_LATIN1:
		for (i = 0; i < n; i++) {
			if (p[i] < 0x80) {
				sink_put(&d->out, p + i, 1);
				continue;
			}
			u[0] = (unsigned char)(0xc0 | (p[i] >> 6));
			u[1] = (unsigned char)(0x80 | (p[i] & 0x3f));
			sink_put(&d->out, u, 2);
		}
		break;
	default:
		emit_iconv(d, p, n);
	}
}

/* Decodes w's text (B: RFC 2047 §4.1, Q: §4.2) in chunks into the output; -1 for an unknown charset. */
static int
ew_decode(struct decoder *d, const struct ew *w)
{
	const unsigned char *s = (const unsigned char *)w->text;
	unsigned char chunk[EW_CHUNK];
	unsigned long acc = 0;
	size_t i, n = 0;
	int cs, bits = 0;

	if ((cs = charset_select(d, w)) == -1)
		return -1;
	for (i = 0; i < w->text_len; i++) {
		if (w->enc == 'B') {
			if (s[i] == '=')
				break;
			acc = ((acc << 6) | (unsigned long)ascii_b64val(s[i])) & 0xffffff;
			if ((bits += 6) < 8)
				continue;
			bits -= 8;
			chunk[n++] = (unsigned char)(acc >> bits);
		} else if (s[i] == '_') {
			chunk[n++] = ' ';	/* §4.2 (2) */
		} else if (s[i] == '=') {
			chunk[n++] = (unsigned char)(ascii_hexval(s[i + 1]) << 4 | ascii_hexval(s[i + 2]));
			i += 2;
		} else
			chunk[n++] = s[i];
		if (n == sizeof(chunk)) {
			emit(d, cs, chunk, n);
			n = 0;
		}
	}
	emit(d, cs, chunk, n);
	if (cs == CS_ICONV) {
		if (d->ncarry > 0)
			sink_put(&d->out, "?", 1);	/* the word ended inside a sequence */
		d->ncarry = 0;
		iconv(d->cd, NULL, NULL, NULL, NULL);
	}
	return 0;
}

/* A valid, decodable encoded-word starts at in[i]? */
static size_t
ew_at(struct decoder *d, const char *in, size_t len, size_t i, struct ew *w)
{
	if (i + 1 >= len || in[i] != '=' || in[i + 1] != '?')
		return 0;
	if (ew_parse(in + i, len - i, w) == 0 || charset_select(d, w) == -1)
		return 0;
	return w->total;
}

/* Ends the output: no sequence cut by truncation, every byte valid UTF-8, no NUL inside. */
static size_t
finish(struct decoder *d)
{
	unsigned char *b = (unsigned char *)d->out.buf;
	size_t len = d->out.len, i, j, need;

	if (d->out.full) {
		for (j = len; j > 0 && len - j < 4; j--) {
			if ((b[j - 1] & 0xc0) == 0x80)
				continue;
			if (b[j - 1] >= 0xc0) {
				need = b[j - 1] >= 0xf0 ? 4 : b[j - 1] >= 0xe0 ? 3 : 2;
				if (len - (j - 1) < need)
					len = j - 1;
			}
			break;
		}
	}
	for (i = 0; i < len; ) {
		if (b[i] != '\0' && (need = rfc2047_utf8_seqlen(b + i, len - i)) > 0) {
			i += need;
			continue;
		}
		b[i++] = '?';
	}
	b[len] = '\0';
	return len;
}

void
rfc2047_cache_init(rfc2047_cache *c)
{
	c->n = 0;
}

void
rfc2047_cache_free(rfc2047_cache *c)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->slot[i].cd != (iconv_t)-1)
			iconv_close(c->slot[i].cd);
	c->n = 0;
}

size_t
rfc2047_decode(const char *in, size_t len, char *out, size_t outsize)
{
	rfc2047_cache c;
	size_t n;

	rfc2047_cache_init(&c);
	n = rfc2047_decode_cached(&c, in, len, out, outsize);
	rfc2047_cache_free(&c);
	return n;
}

size_t
rfc2047_decode_cached(rfc2047_cache *cache, const char *in, size_t len,
    char *out, size_t outsize)
{
	struct decoder d;
	struct ew w;
	size_t i = 0, j;
	char c;

	if (out == NULL || outsize == 0)
		return 0;
	memset(&d, 0, sizeof(d));
	d.out.buf = out;
	d.out.cap = outsize - 1;
	d.cache = cache;
	d.cd = (iconv_t)-1;
	while (i < len && !d.out.full) {
		c = in[i];
		if (ew_at(&d, in, len, i, &w) > 0) {
			(void)ew_decode(&d, &w);
			i += w.total;
			/* §6.2: white space between adjacent encoded-words is not displayed */
			for (j = i; j < len && (in[j] == ' ' || in[j] == '\t' ||
			    in[j] == '\r' || in[j] == '\n'); j++)
				;
			if (j > i && ew_at(&d, in, len, j, &w) > 0)
				i = j;
			continue;
		}
		/* RFC 5322 §2.2.3 unfolding: a line break before WSP (or at the end) goes */
		if (c == '\r' && i + 1 < len && in[i + 1] == '\n')
			j = i + 2;
		else if (c == '\n')
			j = i + 1;
		else
			j = i;
		if (j > i && (j == len || in[j] == ' ' || in[j] == '\t')) {
			i = j;
			continue;
		}
		sink_put(&d.out, &c, 1);
		i++;
	}
	return finish(&d);
}
