/* mime.c - streaming MIME scanner: parts, decoded sizes and structural errors in bounded memory.
 *
 * Hand-written on purpose: no Debian library streams MIME with bounded
 * memory (GMime and mimetic build a tree of the whole message), and the
 * milter must look at every message at close to memcpy speed.
 *
 * How it works. The input is cut into lines (LF ends a line, a CR before it
 * is part of the line end). While some multipart boundary is active, a line
 * that starts with '-' may be a delimiter: up to PFX_NEED bytes of it are
 * looked at, held back in pfx[] when the input is split there. Every other
 * byte goes straight on: header lines into hbuf (at most max_header bytes),
 * body lines to the current leaf's decoder, in runs of whole lines found with
 * memchr. The line end before a possible delimiter is held back (eol_pend),
 * since RFC 2046 makes it part of the delimiter. So memory is a few fixed
 * buffers plus one frame per nesting level, whatever the message size.
 *
 * Choices where the RFCs leave room (postern-milter(8), NOTES):
 * - A line is a delimiter when it starts with "--" and the boundary (RFC 2046
 *   5.1.1 says a prefix match is enough); what follows, transport padding or
 *   junk, is ignored; "--" right after the boundary makes it the close
 *   delimiter. Boundaries are tried innermost first, as Postfix does.
 * - A line with the boundary of an outer multipart closes the inner entities.
 *   An inner multipart closed that way never got its close delimiter:
 *   MIME_ERR_NO_CLOSING, as Postfix and most scanners see it (a reader could
 *   otherwise hide parts behind a missing close delimiter).
 * - A multipart whose first delimiter is the close delimiter has no part:
 *   MIME_ERR_NO_OPENING.
 * - message/rfc822 (and message/global) with base64 or quoted-printable
 *   encoding is not parsed as an entity: it is a leaf, decoded like any other.
 *   multipart/ * ignores its Content-Transfer-Encoding (RFC 2045 forbids one).
 * - Header rules are the same for the top-level entity and for parts.
 * - After the first error no callback is made: the caller rejects the
 *   message, and half-closed entities would only report misleading sizes.
 */
#include "mime.h"
#include "mime_decode.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "--" + the longest (70) boundary + "--": enough of a line to tell a delimiter. */
#define PFX_NEED	(2 + 70 + 2)
/* Header buffers are allocated once; keep a silly limit from asking for gigabytes. */
#define HEADER_CAP	(1024 * 1024)

enum kind { K_LEAF, K_MULTI, K_MSG };
enum fstate { F_HEADER, F_BODY };
enum mpstate { MP_PREAMBLE, MP_INPART, MP_EPILOGUE };
/* Where the scanner is in the current line. */
enum lmode {
	LM_START,			/* at the first byte of a line */
	LM_HEADER,			/* inside a header line */
	LM_CONTENT,			/* inside a body line (leaf content, preamble, epilogue) */
	LM_SKIP				/* inside the rest of a delimiter line */
};

/* One open entity; frame k has depth k. */
struct frame {
	mime_part p;
	enum kind kind;
	enum fstate state;
	enum mpstate mp;
	int active;			/* multipart whose boundary can end a line */
	size_t blen;
	enum mime_bstat bstat;
	int digest;			/* multipart/digest: children default to message/rfc822 */
	int in_digest;			/* the parent is a multipart/digest */
	int seen_ct, seen_cd, seen_cte, seen_cid;	/* the first of duplicate fields wins */
	uint64_t body_start;		/* input offset of the body */
	char ctname[MIME_FILENAME_MAX];	/* Content-Type name=, the filename fallback */
};

struct mime_scanner {
	const mime_callbacks *cb;
	void *ctx;
	mime_limits lim;
	enum mime_error err;
	int finished;
	int eof;			/* finish() is replaying the held line prefix */

	struct frame *fr;		/* fr[0] is the message, fr[nfr - 1] the current entity */
	unsigned nfr, cap;
	unsigned nparts;		/* entities seen so far */
	unsigned nactive;		/* frames with an active boundary */

	uint64_t off;			/* input offset of the next byte to scan */
	enum lmode lmode;
	char pfx[PFX_NEED];		/* start of a line that may be a delimiter */
	size_t pfx_len;
	int eol_pend;			/* held line end: 0, 1 ("\n") or 2 ("\r\n") */
	int cr_held;			/* a content piece ended in CR: line end or not? */
	int skip_close, skip_cr;	/* LM_SKIP: in a close delimiter line; last byte seen was CR */

	char *hbuf;			/* the current header field, unfolded */
	size_t hlen, hline;		/* its length; where the current line starts in it */
	size_t hcolon, hname_end;
	int hcont;			/* the current line is a continuation */
	int have_field;			/* hbuf holds a complete first line of a field */
	unsigned nfields;
	char *scratch;			/* parameter values while parsing a field */

	mime_dec dec;			/* decoder of the current leaf */
};

static const mime_callbacks no_callbacks;
static const char crlf[] = "\r\n";

#define TOP(s)	(&(s)->fr[(s)->nfr - 1])

static void end_headers(mime_scanner *, int);

static void
set_error(mime_scanner *s, enum mime_error e)
{
	if (s->err == MIME_OK)
		s->err = e;
}

/* dec_out - decoded bytes of the current leaf. */
static void
dec_out(void *arg, const unsigned char *p, size_t n)
{
	mime_scanner *s = arg;
	struct frame *f = TOP(s);

	f->p.decoded_size += n;
	if (s->cb->part_data != NULL)
		s->cb->part_data(s->ctx, &f->p, p, n);
}

/* leaf_data - raw content bytes of the current leaf: counted, decoded, handed out. */
static void
leaf_data(mime_scanner *s, const char *p, size_t n)
{
	struct frame *f = TOP(s);
	size_t used;
	int bad;

	if (n == 0 || s->err != MIME_OK)
		return;
	if (f->p.cte == MIME_CTE_BASE64 || f->p.cte == MIME_CTE_QP) {
		used = mime_dec_feed(&s->dec, p, n, dec_out, s, &bad);
		f->p.raw_size += used;
		if (bad)
			set_error(s, MIME_ERR_BAD_BASE64);
		return;
	}
	/* Identity encodings: the caller's bytes, not copied. */
	f->p.raw_size += n;
	f->p.decoded_size += n;
	if (s->cb->part_data != NULL)
		s->cb->part_data(s->ctx, &f->p, (const unsigned char *)p, n);
}

/* push_child - open the next entity below the current one, in header state. */
static void
push_child(mime_scanner *s)
{
	struct frame *c;
	unsigned depth = s->nfr;
	int in_digest = TOP(s)->digest;

	if (depth > s->lim.max_depth) {
		set_error(s, MIME_ERR_TOO_DEEP);
		return;
	}
	if (s->nparts >= s->lim.max_parts) {
		set_error(s, MIME_ERR_TOO_MANY_PARTS);
		return;
	}
	if (s->nfr == s->cap) {
		s->cap *= 2;
		s->fr = xrealloc(s->fr, s->cap * sizeof(*s->fr));
	}
	c = &s->fr[s->nfr++];
	memset(c, 0, sizeof(*c));
	c->p.index = s->nparts++;
	c->p.depth = depth;
	c->state = F_HEADER;
	c->in_digest = in_digest;
	s->lmode = LM_START;
	s->hlen = 0;
	s->have_field = 0;
	s->hcont = 0;
	s->nfields = 0;
	s->eol_pend = 0;
}

/* close_top - end the current entity at input offset end; missing delimiters are errors. */
static void
close_top(mime_scanner *s, uint64_t end)
{
	struct frame *f = TOP(s);

	if (f->state == F_HEADER)
		end_headers(s, 0);
	if (s->err != MIME_OK)
		return;
	if (f->kind == K_LEAF) {
		if (mime_dec_finish(&s->dec, dec_out, s) != 0) {
			set_error(s, MIME_ERR_BAD_BASE64);
			return;
		}
	} else {
		if (f->active) {
			f->active = 0;
			s->nactive--;
			set_error(s, f->mp == MP_PREAMBLE ? MIME_ERR_NO_OPENING : MIME_ERR_NO_CLOSING);
			return;
		}
		f->p.raw_size = f->p.decoded_size = end > f->body_start ? end - f->body_start : 0;
	}
	if (s->cb->part_end != NULL)
		s->cb->part_end(s->ctx, &f->p);
	s->nfr--;
}

/* flush_field - a complete header field: report it, then note what the scanner needs from it. */
static void
flush_field(mime_scanner *s)
{
	struct frame *f = TOP(s);
	struct mime_ctinfo ct;
	char *name = s->hbuf, *val;

	s->have_field = 0;
	name[s->hname_end] = '\0';
	s->hbuf[s->hlen] = '\0';
	val = s->hbuf + s->hcolon + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	if (s->cb->header != NULL)
		s->cb->header(s->ctx, &f->p, name, val);
	if (strncasecmp(name, "content-", 8) != 0)
		return;
	name += 8;
	if (strcasecmp(name, "type") == 0 && !f->seen_ct) {
		f->seen_ct = 1;
		f->p.has_content_type = 1;
		mime_parse_ctype(val, s->scratch, s->lim.max_header + 2, &ct);
		memcpy(f->p.content_type, ct.type, sizeof(ct.type));
		memcpy(f->p.boundary, ct.boundary, sizeof(ct.boundary));
		memcpy(f->p.charset, ct.charset, sizeof(ct.charset));
		memcpy(f->ctname, ct.name, sizeof(ct.name));
		f->bstat = ct.bstat;
	} else if (strcasecmp(name, "disposition") == 0 && !f->seen_cd) {
		f->seen_cd = 1;
		mime_parse_disposition(val, s->scratch, s->lim.max_header + 2,
		    f->p.disposition, sizeof(f->p.disposition), f->p.filename, sizeof(f->p.filename));
	} else if (strcasecmp(name, "transfer-encoding") == 0 && !f->seen_cte) {
		f->seen_cte = 1;
		f->p.cte = mime_parse_cte(val);
	} else if (strcasecmp(name, "id") == 0 && !f->seen_cid) {
		f->seen_cid = 1;
		mime_parse_cid(val, f->p.content_id, sizeof(f->p.content_id));
	}
}

/* end_headers - the header block is over (blank line, or cut short by a delimiter or the end of input). */
static void
end_headers(mime_scanner *s, int blank)
{
	struct frame *f = TOP(s);
	const char *ct = f->p.content_type;

	if (s->have_field)
		flush_field(s);
	s->hlen = 0;
	if (ct[0] == '\0')
		strcpy(f->p.content_type, f->in_digest ? "message/rfc822" : "text/plain");
	if (strncmp(ct, "multipart/", 10) == 0) {
		f->kind = K_MULTI;
		f->p.is_multipart = 1;
		f->digest = strcmp(ct, "multipart/digest") == 0;
	} else if ((strcmp(ct, "message/rfc822") == 0 || strcmp(ct, "message/global") == 0) &&
	    (f->p.cte == MIME_CTE_7BIT || f->p.cte == MIME_CTE_8BIT || f->p.cte == MIME_CTE_BINARY)) {
		f->kind = K_MSG;
		f->p.is_message = 1;
	} else
		f->kind = K_LEAF;
	if (f->p.filename[0] == '\0')
		memcpy(f->p.filename, f->ctname, sizeof(f->p.filename));
	if (!f->p.is_multipart)
		f->p.boundary[0] = '\0';
	f->state = F_BODY;
	f->body_start = s->off;
	s->eol_pend = 0;
	s->cr_held = 0;
	s->lmode = LM_START;
	if (s->cb->part_begin != NULL)
		s->cb->part_begin(s->ctx, &f->p);
	switch (f->kind) {
	case K_MULTI:
		if (f->bstat == MIME_BOUNDARY_NONE)
			set_error(s, MIME_ERR_NO_BOUNDARY);
		else if (f->bstat == MIME_BOUNDARY_BAD)
			set_error(s, MIME_ERR_BAD_BOUNDARY);
		else {
			f->active = 1;
			f->blen = strlen(f->p.boundary);
			f->mp = MP_PREAMBLE;
			s->nactive++;
		}
		break;
	case K_LEAF:
		mime_dec_init(&s->dec, f->p.cte);
		break;
	case K_MSG:
		/* The content is an entity of its own; without a body there is none. */
		if (blank)
			push_child(s);
		break;
	}
}

/* header_start - first byte of a line in a header block: continuation or new field. */
static void
header_start(mime_scanner *s, char c)
{
	if (c == ' ' || c == '\t') {
		if (!s->have_field) {
			set_error(s, MIME_ERR_BAD_HEADER);	/* continuation of nothing */
			return;
		}
		s->hcont = 1;
	} else {
		if (s->have_field)
			flush_field(s);
		s->hlen = 0;
		s->hcont = 0;
	}
	s->hline = s->hlen;
	s->lmode = LM_HEADER;
}

/* header_line_end - a header line is complete (in hbuf, line end removed). */
static void
header_line_end(mime_scanner *s)
{
	size_t i;
	unsigned char c;

	if (s->hlen > s->hline && s->hbuf[s->hlen - 1] == '\r')
		s->hlen--;
	s->lmode = LM_START;
	if (s->hlen > s->lim.max_header) {
		set_error(s, MIME_ERR_HEADER_TOO_LONG);
		return;
	}
	if (s->hcont) {
		s->have_field = 1;
		return;
	}
	if (s->hlen == 0) {
		end_headers(s, 1);
		return;
	}
	/* field-name: printable US-ASCII but ':', then (obsolete syntax) WSP before the colon. */
	for (i = 0; i < s->hlen; i++) {
		c = s->hbuf[i];
		if (c <= ' ' || c >= 127 || c == ':')
			break;
	}
	s->hname_end = i;
	while (i < s->hlen && (s->hbuf[i] == ' ' || s->hbuf[i] == '\t'))
		i++;
	if (s->hname_end == 0 || i == s->hlen || s->hbuf[i] != ':') {
		set_error(s, MIME_ERR_BAD_HEADER);
		return;
	}
	if (++s->nfields > s->lim.max_headers) {
		set_error(s, MIME_ERR_TOO_MANY_HEADERS);
		return;
	}
	s->hcolon = i;
	s->have_field = 1;
}

/* header_bytes - bytes of a header line; returns how many were used. */
static size_t
header_bytes(mime_scanner *s, const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);
	size_t seg = lf != NULL ? (size_t)(lf - p) : n;

	/* +1: room for the CR of the line end, removed at the LF. */
	if (seg > s->lim.max_header + 1 - s->hlen) {
		set_error(s, MIME_ERR_HEADER_TOO_LONG);
		return n;
	}
	memcpy(s->hbuf + s->hlen, p, seg);
	s->hlen += seg;
	if (lf == NULL)
		return n;
	s->off += seg + 1;		/* a blank line starts the body right after it */
	header_line_end(s);
	return seg + 1;
}

/* content_start - a body line turned out not to be a delimiter: the held line end is content. */
static void
content_start(mime_scanner *s)
{
	if (s->eol_pend > 0 && TOP(s)->kind == K_LEAF)
		leaf_data(s, &crlf[2 - s->eol_pend], s->eol_pend);
	s->eol_pend = 0;
	s->lmode = LM_CONTENT;
}

/*
 * content_bytes - body bytes from inside a line. Runs of lines that cannot be
 * delimiters (they do not start with '-') go out in one piece; the line end
 * before a line that might be one is held in eol_pend. Returns bytes used.
 */
static size_t
content_bytes(mime_scanner *s, const char *p, size_t n)
{
	int leaf = TOP(s)->kind == K_LEAF, eol;
	const char *lf;
	size_t i = 0, j;

	if (s->cr_held) {
		s->cr_held = 0;
		if (p[0] == '\n') {
			s->eol_pend = 2;
			s->lmode = LM_START;
			return 1;
		}
		if (leaf)
			leaf_data(s, "\r", 1);
	}
	if (s->nactive == 0) {
		/* Nothing can end this entity before the end of input. */
		if (leaf)
			leaf_data(s, p, n);
		return n;
	}
	for (;;) {
		if ((lf = memchr(p + i, '\n', n - i)) == NULL) {
			j = n;
			if (p[n - 1] == '\r') {
				j--;
				s->cr_held = 1;
			}
			if (leaf)
				leaf_data(s, p, j);
			return n;
		}
		j = lf - p;
		eol = j > i && p[j - 1] == '\r' ? 2 : 1;
		i = j + 1;
		if (i < n && p[i] != '-')
			continue;
		if (leaf)
			leaf_data(s, p, i - eol);
		s->eol_pend = eol;
		s->lmode = LM_START;
		return i;
	}
}

/* match_delim - which active boundary starts the line p[0..w); -1 if none. */
static int
match_delim(const mime_scanner *s, const char *p, size_t w, int *close)
{
	const struct frame *f;
	int k;

	if (w < 3 || p[0] != '-' || p[1] != '-')
		return -1;
	for (k = (int)s->nfr - 1; k >= 0; k--) {
		f = &s->fr[k];
		if (!f->active || w < 2 + f->blen || memcmp(p + 2, f->p.boundary, f->blen) != 0)
			continue;
		*close = w >= 4 + f->blen && p[2 + f->blen] == '-' && p[3 + f->blen] == '-';
		return k;
	}
	return -1;
}

/* delimiter - a delimiter of frame k starts the line at s->off: close what is inside, open the next part. */
static void
delimiter(mime_scanner *s, unsigned k, int close)
{
	struct frame *f;
	uint64_t end;

	if (TOP(s)->state == F_HEADER)
		end_headers(s, 0);
	end = s->off - s->eol_pend;
	while (s->err == MIME_OK && s->nfr - 1 > k)
		close_top(s, end);
	if (s->err != MIME_OK)
		return;
	f = TOP(s);
	s->eol_pend = 0;
	if (!close) {
		f->mp = MP_INPART;
		push_child(s);
		return;
	}
	f->active = 0;
	s->nactive--;
	if (f->mp == MP_PREAMBLE)
		set_error(s, MIME_ERR_NO_OPENING);
	f->mp = MP_EPILOGUE;
}

/*
 * try_delim - a line starting with '-' while a boundary is active. Returns
 * the bytes used by a delimiter line, 0 if it is an ordinary line; when p is
 * too short to tell, it is held in pfx[] (and n returned).
 */
static size_t
try_delim(mime_scanner *s, const char *p, size_t n)
{
	size_t lim = n < PFX_NEED ? n : PFX_NEED, w;
	const char *lf = memchr(p, '\n', lim);
	int k, close;

	if (lf == NULL && n < PFX_NEED && !s->eof) {
		memcpy(s->pfx, p, n);
		s->pfx_len = n;
		return n;
	}
	w = lf != NULL ? (size_t)(lf - p) + 1 : lim;
	if ((k = match_delim(s, p, w, &close)) < 0)
		return 0;
	delimiter(s, k, close);
	if (lf != NULL) {
		s->lmode = LM_START;
		/* After a close delimiter its line end may belong to an outer delimiter. */
		if (close)
			s->eol_pend = w >= 2 && p[w - 2] == '\r' ? 2 : 1;
	} else {
		s->lmode = LM_SKIP;
		s->skip_close = close;
		s->skip_cr = p[w - 1] == '\r';
	}
	return w;
}

/* run - scan p[0..n), which starts at input offset s->off. */
static void
run(mime_scanner *s, const char *p, size_t n)
{
	uint64_t base = s->off;
	const char *lf;
	size_t i = 0, r, j;

	while (i < n && s->err == MIME_OK) {
		s->off = base + i;
		switch (s->lmode) {
		case LM_START:
			if (s->nactive > 0 && p[i] == '-') {
				r = try_delim(s, p + i, n - i);
				if (s->pfx_len > 0)
					return;		/* s->off stays at the line start */
				if (r > 0) {
					i += r;
					break;
				}
			}
			if (TOP(s)->state == F_HEADER)
				header_start(s, p[i]);
			else
				content_start(s);
			break;
		case LM_HEADER:
			i += header_bytes(s, p + i, n - i);
			break;
		case LM_CONTENT:
			i += content_bytes(s, p + i, n - i);
			break;
		case LM_SKIP:
			if ((lf = memchr(p + i, '\n', n - i)) == NULL) {
				s->skip_cr = p[n - 1] == '\r';
				i = n;
				break;
			}
			j = lf - p;
			if (s->skip_close)
				s->eol_pend = (j > i ? p[j - 1] == '\r' : s->skip_cr) ? 2 : 1;
			i = j + 1;
			s->lmode = LM_START;
			break;
		}
	}
	s->off = base + n;
}

mime_scanner *
mime_scanner_new(const mime_callbacks *cb, void *ctx, const mime_limits *lim)
{
	mime_scanner *s = xcalloc(1, sizeof(*s));

	s->cb = cb != NULL ? cb : &no_callbacks;
	s->ctx = ctx;
	s->lim.max_depth = MIME_DEFAULT_MAX_DEPTH;
	s->lim.max_parts = MIME_DEFAULT_MAX_PARTS;
	s->lim.max_header = MIME_DEFAULT_MAX_HEADER;
	s->lim.max_headers = MIME_DEFAULT_MAX_HEADERS;
	if (lim != NULL) {
		/* Zero means the default. */
		if (lim->max_depth > 0)
			s->lim.max_depth = lim->max_depth;
		if (lim->max_parts > 0)
			s->lim.max_parts = lim->max_parts;
		if (lim->max_header > 0)
			s->lim.max_header = lim->max_header < HEADER_CAP ? lim->max_header : HEADER_CAP;
		if (lim->max_headers > 0)
			s->lim.max_headers = lim->max_headers;
	}
	s->hbuf = xmalloc(s->lim.max_header + 2);
	s->scratch = xmalloc(s->lim.max_header + 2);
	s->cap = 4;
	s->fr = xcalloc(s->cap, sizeof(*s->fr));
	s->nfr = 1;
	s->fr[0].state = F_HEADER;
	s->nparts = 1;
	s->lmode = LM_START;
	return s;
}

void
mime_scanner_feed(mime_scanner *s, const char *data, size_t len)
{
	char line[PFX_NEED];
	const char *lf;
	size_t take, n;

	if (s->finished)
		return;
	while (len > 0 && s->err == MIME_OK) {
		if (s->pfx_len == 0) {
			run(s, data, len);
			return;
		}
		/* Complete the held line start, up to its LF or until it can be told apart. */
		take = PFX_NEED - s->pfx_len;
		if (take > len)
			take = len;
		if ((lf = memchr(data, '\n', take)) != NULL)
			take = lf - data + 1;
		memcpy(s->pfx + s->pfx_len, data, take);
		s->pfx_len += take;
		data += take;
		len -= take;
		if (lf == NULL && s->pfx_len < PFX_NEED)
			return;
		n = s->pfx_len;
		memcpy(line, s->pfx, n);
		s->pfx_len = 0;
		run(s, line, n);
	}
}

enum mime_error
mime_scanner_finish(mime_scanner *s)
{
	char line[PFX_NEED];
	size_t n;

	if (s->finished)
		return s->err;
	s->finished = 1;
	s->eof = 1;
	if (s->err == MIME_OK && s->pfx_len > 0) {
		n = s->pfx_len;
		memcpy(line, s->pfx, n);
		s->pfx_len = 0;
		run(s, line, n);
	}
	if (s->err != MIME_OK)
		return s->err;
	/* The last line may lack its line end. */
	if (s->lmode == LM_HEADER)
		header_line_end(s);
	else if (s->lmode == LM_CONTENT && s->cr_held) {
		s->cr_held = 0;
		if (TOP(s)->kind == K_LEAF)
			leaf_data(s, "\r", 1);
	}
	if (s->err == MIME_OK && TOP(s)->state == F_HEADER)
		end_headers(s, 0);
	/* No delimiter follows: a held line end is content. */
	if (s->err == MIME_OK && s->eol_pend > 0 && TOP(s)->kind == K_LEAF)
		leaf_data(s, &crlf[2 - s->eol_pend], s->eol_pend);
	s->eol_pend = 0;
	while (s->err == MIME_OK && s->nfr > 0)
		close_top(s, s->off);
	return s->err;
}

enum mime_error
mime_scanner_error(const mime_scanner *s)
{
	return s->err;
}

#define MIME_STR_(x) #x
#define MIME_STR(x) MIME_STR_(x)
/* The engine scans with the default limits; the texts name them (postern-milter(8)). */
static const char mime_err_header_too_long[] =
    "A header field is longer than " MIME_STR(MIME_DEFAULT_MAX_HEADER) " bytes";
static const char mime_err_too_many_headers[] =
    "More than " MIME_STR(MIME_DEFAULT_MAX_HEADERS) " header fields in one header block";

const char *
mime_error_str(enum mime_error e)
{
	switch (e) {
	case MIME_OK:
		return "no error";
	case MIME_ERR_NO_BOUNDARY:
		return "multipart without boundary";
	case MIME_ERR_BAD_BOUNDARY:
		return "invalid multipart boundary";
	case MIME_ERR_NO_OPENING:
		return "multipart without opening delimiter";
	case MIME_ERR_NO_CLOSING:
		return "multipart without closing delimiter";
	case MIME_ERR_TOO_DEEP:
		return "mime nesting too deep";
	case MIME_ERR_TOO_MANY_PARTS:
		return "too many mime parts";
	case MIME_ERR_BAD_HEADER:
		return "malformed mime header";
	case MIME_ERR_BAD_BASE64:
		return "invalid base64 content";
	case MIME_ERR_HEADER_TOO_LONG:
		return mime_err_header_too_long;
	case MIME_ERR_TOO_MANY_HEADERS:
		return mime_err_too_many_headers;
	}
	return "unknown mime error";
}

int
mime_error_is_header_limit(const char *s)
{
	/* The very strings mime_error_str() returns: no text comparison. */
	return s == mime_err_header_too_long || s == mime_err_too_many_headers;
}

void
mime_scanner_free(mime_scanner *s)
{
	if (s == NULL)
		return;
	free(s->fr);
	free(s->hbuf);
	free(s->scratch);
	free(s);
}
