/* test_mime.c - the streaming MIME scanner: parts, decoding, corruption, limits, and chunk-split invariance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mime.h"

#define MAXP	16
#define MAXD	4096

/* Everything the callbacks said: a serialized trace (data runs merged) plus per-part copies for assertions. */
struct rec {
	char *trace;
	size_t len, cap;
	int data_open;
	unsigned data_idx;
	unsigned nbegin, nend, nheader;
	mime_part begin[MAXP], end[MAXP];
	char data[MAXP][MAXD];
	size_t dlen[MAXP];
	uint64_t dsum[MAXP];
	char lastname[64], lastval[256];
	enum mime_error err;
};

static void
tr_put(struct rec *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->trace = realloc(r->trace, r->cap);
		assert_non_null(r->trace);
	}
	memcpy(r->trace + r->len, s, n);
	r->len += n;
	r->trace[r->len] = '\0';
}

static void
tr_printf(struct rec *r, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	if (r->data_open) {
		tr_put(r, "\n", 1);
		r->data_open = 0;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tr_put(r, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void
tr_part(struct rec *r, const char *what, const mime_part *p)
{
	tr_printf(r, "%s%u d=%u ct=%s/%d b=%s disp=%s fn=%s cid=%s cs=%s cte=%d mp=%d msg=%d raw=%llu dec=%llu\n",
	    what, p->index, p->depth, p->content_type, p->has_content_type, p->boundary,
	    p->disposition, p->filename, p->content_id, p->charset, (int)p->cte,
	    p->is_multipart, p->is_message, (unsigned long long)p->raw_size,
	    (unsigned long long)p->decoded_size);
}

static void
cb_header(void *ctx, const mime_part *p, const char *name, const char *value)
{
	struct rec *r = ctx;

	tr_printf(r, "H%u %s: %s\n", p->index, name, value);
	r->nheader++;
	snprintf(r->lastname, sizeof(r->lastname), "%s", name);
	snprintf(r->lastval, sizeof(r->lastval), "%s", value);
}

static void
cb_begin(void *ctx, const mime_part *p)
{
	struct rec *r = ctx;

	tr_part(r, "B", p);
	if (p->index < MAXP)
		r->begin[p->index] = *p;
	r->nbegin++;
}

static void
cb_data(void *ctx, const mime_part *p, const unsigned char *d, size_t n)
{
	struct rec *r = ctx;
	char esc[8];
	size_t i;

	if (!r->data_open || r->data_idx != p->index) {
		tr_printf(r, "D%u ", p->index);
		r->data_open = 1;
		r->data_idx = p->index;
	}
	for (i = 0; i < n; i++) {
		if (d[i] >= ' ' && d[i] < 127 && d[i] != '\\')
			tr_put(r, (const char *)d + i, 1);
		else {
			snprintf(esc, sizeof(esc), "\\x%02x", d[i]);
			tr_put(r, esc, 4);
		}
	}
	if (p->index < MAXP) {
		for (i = 0; i < n && r->dlen[p->index] + 1 < MAXD; i++)
			r->data[p->index][r->dlen[p->index]++] = d[i];
		r->dsum[p->index] += n;
	}
}

static void
cb_end(void *ctx, const mime_part *p)
{
	struct rec *r = ctx;

	tr_part(r, "E", p);
	if (p->index < MAXP) {
		r->end[p->index] = *p;
		if (!p->is_multipart && !p->is_message)
			assert_int_equal(r->dsum[p->index], p->decoded_size);
	}
	r->nend++;
}

static const mime_callbacks cbs = { cb_header, cb_begin, cb_data, cb_end };

static struct rec *
rec_new(void)
{
	struct rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	return r;
}

static void
rec_free(struct rec *r)
{
	free(r->trace);
	free(r);
}

/* scan_cuts - feed msg cut at the given offsets (ascending), then finish. */
static struct rec *
scan_cuts(const char *msg, size_t len, const mime_limits *lim, const size_t *cuts, size_t ncuts)
{
	struct rec *r = rec_new();
	mime_scanner *s = mime_scanner_new(&cbs, r, lim);
	size_t at = 0, i;

	for (i = 0; i < ncuts; i++) {
		mime_scanner_feed(s, msg + at, cuts[i] - at);
		at = cuts[i];
	}
	mime_scanner_feed(s, msg + at, len - at);
	r->err = mime_scanner_finish(s);
	assert_int_equal(mime_scanner_error(s), r->err);
	tr_printf(r, "R%d\n", (int)r->err);
	mime_scanner_free(s);
	return r;
}

static struct rec *
scan_lim(const char *msg, const mime_limits *lim)
{
	return scan_cuts(msg, strlen(msg), lim, NULL, 0);
}

static struct rec *
scan(const char *msg)
{
	return scan_lim(msg, NULL);
}

/* scan_bytes - one byte per feed call. */
static struct rec *
scan_bytes(const char *msg, size_t len, const mime_limits *lim)
{
	struct rec *r = rec_new();
	mime_scanner *s = mime_scanner_new(&cbs, r, lim);
	size_t i;

	for (i = 0; i < len; i++)
		mime_scanner_feed(s, msg + i, 1);
	r->err = mime_scanner_finish(s);
	tr_printf(r, "R%d\n", (int)r->err);
	mime_scanner_free(s);
	return r;
}

/* crlf - the same text with every LF turned into CRLF (one of four static buffers, in turn). */
static const char *
crlf(const char *in)
{
	static char bufs[4][64 * 1024];
	static unsigned turn;
	char *out = bufs[turn++ % 4];
	size_t o = 0;

	for (; *in != '\0'; in++) {
		if (*in == '\n')
			out[o++] = '\r';
		out[o++] = *in;
	}
	out[o] = '\0';
	return out;
}

static void
test_plain_message(void **state)
{
	struct rec *r = scan(crlf("From: a@example.com\nSubject:  hi\n\nline one\nline two\n"));

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nbegin, 1);
	assert_int_equal(r->nend, 1);
	assert_int_equal(r->nheader, 2);
	assert_string_equal(r->lastname, "Subject");
	assert_string_equal(r->lastval, "hi");
	assert_string_equal(r->end[0].content_type, "text/plain");
	assert_int_equal(r->end[0].has_content_type, 0);
	assert_int_equal(r->end[0].index, 0);
	assert_int_equal(r->end[0].depth, 0);
	assert_int_equal(r->end[0].cte, MIME_CTE_7BIT);
	/* No delimiter can follow: the last line end is content. */
	assert_int_equal(r->end[0].raw_size, 20);
	assert_int_equal(r->end[0].decoded_size, 20);
	assert_string_equal(r->data[0], "line one\r\nline two\r\n");
	rec_free(r);
}

static void
test_empty_and_header_only(void **state)
{
	struct rec *r;

	(void)state;
	r = scan("");
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nbegin, 1);
	assert_int_equal(r->end[0].raw_size, 0);
	rec_free(r);
	r = scan("Subject: x");		/* no line end, no body */
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nheader, 1);
	assert_string_equal(r->lastval, "x");
	assert_int_equal(r->end[0].decoded_size, 0);
	rec_free(r);
}

static void
test_folded_headers(void **state)
{
	struct rec *r = scan(crlf(
	    "Subject: a\n\tb\n  c\n"
	    "Content-Type: multipart/mixed;\n"
	    " boundary=\"xx\"\n"
	    "\n"
	    "--xx\n\nbody\n--xx--\n"));

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_non_null(strstr(r->trace, "H0 Subject: a\tb  c\n"));
	assert_non_null(strstr(r->trace, "H0 Content-Type: multipart/mixed; boundary=\"xx\"\n"));
	assert_string_equal(r->end[0].boundary, "xx");
	assert_string_equal(r->data[1], "body");
	rec_free(r);
}

static void
test_multipart_sizes(void **state)
{
	const char *msg = crlf(
	    "Content-Type: multipart/mixed; boundary=b\n"
	    "\n"
	    "preamble is ignored\n"
	    "--b\n"
	    "\n"
	    "abc\n"
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "--b--\n"
	    "epilogue is ignored\n");
	struct rec *r = scan(msg);

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nbegin, 5);
	assert_int_equal(r->nend, 5);
	/* The CRLF before a delimiter belongs to the delimiter. */
	assert_string_equal(r->data[1], "abc");
	assert_int_equal(r->end[1].raw_size, 3);
	assert_int_equal(r->end[1].decoded_size, 3);
	assert_int_equal(r->end[2].decoded_size, 0);	/* one empty line: only the delimiter's CRLF */
	assert_int_equal(r->end[3].decoded_size, 0);	/* no body at all */
	assert_int_equal(r->end[4].decoded_size, 0);	/* header block cut by the close delimiter */
	assert_int_equal(r->end[1].depth, 1);
	assert_int_equal(r->end[0].is_multipart, 1);
	assert_null(strstr(r->trace, "preamble"));
	assert_null(strstr(r->trace, "epilogue"));
	/* The message body is everything after the header block. */
	assert_int_equal(r->end[0].raw_size, strlen(msg) - strlen(crlf("Content-Type: multipart/mixed; boundary=b\n\n")));
	rec_free(r);

	r = scan(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n\n--b--"));
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->end[1].decoded_size, 0);
	rec_free(r);
}

static void
test_bare_lf(void **state)
{
	struct rec *r = scan(
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\ny\n--b--\n");

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_string_equal(r->data[1], "x\ny");
	assert_int_equal(r->end[1].raw_size, 3);
	rec_free(r);
}

static void
test_delimiter_rules(void **state)
{
	struct rec *r;

	(void)state;
	/* Only at line start; a longer line that starts with the boundary is a delimiter (RFC 2046 prefix rule). */
	r = scan(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx --b\n-- b\n--bx\n\ny\n--b--  \n"));
	assert_int_equal(r->err, MIME_OK);
	assert_string_equal(r->data[1], "x --b\r\n-- b");
	assert_string_equal(r->data[2], "y");
	rec_free(r);
	/* Transport padding after delimiters, and a close delimiter with junk after it. */
	r = scan(crlf("Content-Type: multipart/mixed; boundary=\"a b\"\n\n--a b \t \n\nx\n--a b--\t\n"));
	assert_int_equal(r->err, MIME_OK);
	assert_string_equal(r->end[0].boundary, "a b");
	assert_string_equal(r->data[1], "x");
	rec_free(r);
	/* Padding longer than the held prefix. */
	r = scan(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b                                                                                                         \n\nx\n--b--\n"));
	assert_int_equal(r->err, MIME_OK);
	assert_string_equal(r->data[1], "x");
	rec_free(r);
	/* The close delimiter at the very end, without a line end. */
	r = scan(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--"));
	assert_int_equal(r->err, MIME_OK);
	rec_free(r);
	/* A line of dashes longer than any boundary, and a long body line, pass through. */
	r = scan(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\n"
	    "-------------------------------------------------------------------------------------------------\n"
	    "--b--\n"));
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->end[1].decoded_size, 97);
	rec_free(r);
}

static void
test_long_body_line(void **state)
{
	char *msg = malloc(100000);
	struct rec *r;
	size_t n;

	(void)state;
	n = (size_t)sprintf(msg, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n");
	memset(msg + n, 'x', 50000);
	n += 50000;
	n += (size_t)sprintf(msg + n, "\r\n--b--\r\n");
	r = scan_cuts(msg, n, NULL, NULL, 0);
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->end[1].decoded_size, 50000);
	rec_free(r);
	free(msg);
}

static void
test_nested_and_message(void **state)
{
	struct rec *r = scan(crlf(
	    "Content-Type: multipart/mixed; boundary=outer\n"
	    "\n"
	    "--outer\n"
	    "Content-Type: multipart/alternative; boundary=inner\n"
	    "\n"
	    "--inner\n"
	    "\n"
	    "one\n"
	    "--inner--\n"
	    "--outer\n"
	    "Content-Type: message/rfc822\n"
	    "\n"
	    "Subject: inner\n"
	    "Content-Type: text/html; charset=ISO-8859-1\n"
	    "\n"
	    "<p>\n"
	    "--outer--\n"));

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nend, 5);
	assert_string_equal(r->end[1].content_type, "multipart/alternative");
	assert_int_equal(r->end[1].depth, 1);
	assert_int_equal(r->end[2].depth, 2);
	assert_string_equal(r->data[2], "one");
	assert_int_equal(r->end[3].is_message, 1);
	assert_int_equal(r->end[3].depth, 1);
	assert_int_equal(r->end[4].depth, 2);
	assert_string_equal(r->end[4].content_type, "text/html");
	assert_string_equal(r->end[4].charset, "iso-8859-1");
	assert_string_equal(r->data[4], "<p>");
	assert_non_null(strstr(r->trace, "H4 Subject: inner\n"));
	/* Order: begin of the message part before its inner entity, end after it. */
	assert_true(strstr(r->trace, "B3 ") < strstr(r->trace, "B4 "));
	assert_true(strstr(r->trace, "E4 ") < strstr(r->trace, "E3 "));
	rec_free(r);
}

static void
test_digest_default(void **state)
{
	struct rec *r = scan(crlf(
	    "Content-Type: multipart/digest; boundary=d\n\n"
	    "--d\n\nSubject: one\n\nbody\n"
	    "--d\nContent-Type: text/plain\n\nplain\n"
	    "--d--\n"));

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_string_equal(r->end[1].content_type, "message/rfc822");
	assert_int_equal(r->end[1].has_content_type, 0);
	assert_int_equal(r->end[1].is_message, 1);
	assert_string_equal(r->end[2].content_type, "text/plain");	/* inside the message: not digest */
	assert_string_equal(r->data[2], "body");
	assert_string_equal(r->end[3].content_type, "text/plain");
	rec_free(r);
}

static void
test_base64(void **state)
{
	struct rec *r = scan(crlf(
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Transfer-Encoding: BASE64\n\n"
	    "SGVs\nbG8s\r\n IHdv cmxk\n IQ==\n"
	    "--b\nContent-Transfer-Encoding: base64 (comment)\n\n"
	    "YQ\n"
	    "--b\nContent-Transfer-Encoding: base64\n\n"
	    "YWI=\n\n"
	    "--b--\n"));

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->end[1].cte, MIME_CTE_BASE64);
	assert_string_equal(r->data[1], "Hello, world!");
	assert_int_equal(r->end[1].decoded_size, 13);
	assert_int_equal(r->end[1].raw_size, strlen(crlf("SGVs\nbG8s\r\n IHdv cmxk\n IQ==")));
	assert_string_equal(r->data[2], "a");	/* missing padding is tolerated */
	assert_string_equal(r->data[3], "ab");
	rec_free(r);
}

static void
test_quoted_printable(void **state)
{
	struct rec *r = scan(crlf(
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "caf=C3=A9 soft=\nbreak =3d=3D x=ZZ y=\n"
	    "end\n"
	    "--b\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "last soft break=\n"
	    "--b--\n"));

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->end[1].cte, MIME_CTE_QP);
	assert_string_equal(r->data[1], "caf\xc3\xa9 softbreak == x=ZZ yend");
	assert_int_equal(r->end[1].decoded_size, strlen("caf\xc3\xa9 softbreak == x=ZZ yend"));
	assert_string_equal(r->data[2], "last soft break");
	rec_free(r);
}

/* Field value parsing, one Content-Type / Content-Disposition / other field at a time. */
static const struct field_case {
	const char *headers;
	const char *ct, *charset, *disp, *filename, *cid;
	enum mime_cte cte;
} field_cases[] = {
	{ "Content-Type: TEXT/Plain (a comment) ; CharSet = \"UTF-8\"",
	    "text/plain", "utf-8", "", "", "", MIME_CTE_7BIT },
	{ "Content-Type: text (c) / (d) html; charset=us-ascii (x)",
	    "text/html", "us-ascii", "", "", "", MIME_CTE_7BIT },
	{ "Content-Type: garbage",
	    "text/plain", "", "", "", "", MIME_CTE_7BIT },
	{ "Content-Type: application/pdf; name=\"a \\\"q\\\".pdf\"",
	    "application/pdf", "", "", "a \"q\".pdf", "", MIME_CTE_7BIT },
	{ "Content-Disposition: ATTACHMENT; FileName=report.pdf\nContent-Type: application/pdf; name=other.pdf",
	    "application/pdf", "", "attachment", "report.pdf", "", MIME_CTE_7BIT },
	{ "Content-Disposition: inline (x); filename=\"a;b.txt\" (y)",
	    "text/plain", "", "inline", "a;b.txt", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename*=UTF-8''%e2%82%ac%20rates.txt",
	    "text/plain", "", "attachment", "\xe2\x82\xac rates.txt", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment;\n filename*1=\"two.\";\n filename*0*=utf-8'en'one%2D;\n filename*2=txt",
	    "text/plain", "", "attachment", "one-two.txt", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename*0*=iso-8859-1''caf%E9; filename*1=.doc",
	    "text/plain", "", "attachment", "caf\xc3\xa9.doc", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename=plain.txt; filename*=utf-8''ext.txt",
	    "text/plain", "", "attachment", "ext.txt", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename=\"=?UTF-8?B?w6l0w6kucGRm?=\"",
	    "text/plain", "", "attachment", "\xc3\xa9t\xc3\xa9.pdf", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename=\"=?iso-8859-1?Q?r=E9sum=E9?= =?utf-8?q?_2024.pdf?=\"",
	    "text/plain", "", "attachment", "r\xc3\xa9sum\xc3\xa9 2024.pdf", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename=\"=?windows-1252?Q?=80uro?= x.txt\"",
	    "text/plain", "", "attachment", "\xe2\x82\xacuro x.txt", "", MIME_CTE_7BIT },
	{ "Content-Type: image/png; name=\"=?utf-8?b?cGljLnBuZw==?=\"\nContent-Disposition: inline",
	    "image/png", "", "inline", "pic.png", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename*=koi8-r''%F0%D2%C9%D7%C5%D4.txt",
	    "text/plain", "", "attachment", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82.txt", "", MIME_CTE_7BIT },
	{ "Content-Disposition: attachment; filename=\"caf\xe9 \xc3\xa9.txt\"",
	    "text/plain", "", "attachment", "caf? \xc3\xa9.txt", "", MIME_CTE_7BIT },
	{ "Content-Type: image/png; name*=''x%41.png",
	    "image/png", "", "", "xA.png", "", MIME_CTE_7BIT },
	{ "Content-ID: <part1.abc@example.com>\nContent-Transfer-Encoding: (c) Quoted-Printable",
	    "text/plain", "", "", "", "part1.abc@example.com", MIME_CTE_QP },
	{ "Content-ID:  bare@id  \nContent-Transfer-Encoding: 8bit",
	    "text/plain", "", "", "", "bare@id", MIME_CTE_8BIT },
	{ "Content-Transfer-Encoding: x-uuencode",
	    "text/plain", "", "", "", "", MIME_CTE_UNKNOWN },
	{ "Content-Transfer-Encoding: binary\ncontent-transfer-encoding: base64",
	    "text/plain", "", "", "", "", MIME_CTE_BINARY },
	{ "Content-Type: text/html\nContent-Type: text/plain; charset=x",
	    "text/html", "", "", "", "", MIME_CTE_7BIT },
};

static void
test_field_values(void **state)
{
	char msg[1024];
	size_t i;
	struct rec *r;

	(void)state;
	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];

		snprintf(msg, sizeof(msg), "%s\n\nbody\n", c->headers);
		r = scan(crlf(msg));
		if (r->err != MIME_OK || strcmp(r->end[0].content_type, c->ct) != 0 ||
		    strcmp(r->end[0].charset, c->charset) != 0 ||
		    strcmp(r->end[0].disposition, c->disp) != 0 ||
		    strcmp(r->end[0].filename, c->filename) != 0 ||
		    strcmp(r->end[0].content_id, c->cid) != 0 || r->end[0].cte != c->cte)
			fail_msg("case %zu (%s): got %s", i, c->headers, r->trace);
		rec_free(r);
	}
}

static void
test_boundary_syntax(void **state)
{
	static const char *forms[] = {
		"Content-Type: multipart/mixed; boundary=(comment) \"x\" (more)",
		"Content-Type: multipart/mixed (c); BOUNDARY = x; charset=us-ascii",
		"Content-Type: Multipart/Mixed;\n\tboundary=\"x\";\n\tfoo=bar",
		"Content-Type: multipart/mixed; junk; boundary=x",
		"Content-Type: multipart/mixed; boundary=x; boundary=y",
	};
	char msg[512];
	struct rec *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(msg, sizeof(msg), "%s\n\n--x\n\nbody\n--x--\n", forms[i]);
		r = scan(crlf(msg));
		if (r->err != MIME_OK || strcmp(r->end[0].boundary, "x") != 0)
			fail_msg("%s: %s", forms[i], r->trace);
		assert_string_equal(r->data[1], "body");
		rec_free(r);
	}
	/* obsolete "name :" syntax; no callbacks and zero limits are fine */
	r = scan("Subject : x\n\n");
	assert_int_equal(r->err, MIME_OK);
	assert_string_equal(r->lastname, "Subject");
	assert_string_equal(r->lastval, "x");
	rec_free(r);
	{
		mime_limits zero = { 0, 0, 0, 0 };
		mime_scanner *s = mime_scanner_new(NULL, NULL, &zero);
		const char *m = "Content-Type: multipart/mixed; boundary=x\n\n--x\n\n--x--\n";

		mime_scanner_feed(s, m, strlen(m));
		assert_int_equal(mime_scanner_finish(s), MIME_OK);
		assert_int_equal(mime_scanner_finish(s), MIME_OK);
		mime_scanner_free(s);
	}
}

static void
test_long_filename_truncated(void **state)
{
	char msg[2048], name[600];
	struct rec *r;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(msg, sizeof(msg), "Content-Disposition: attachment; filename=\"%s\"\n\n", name);
	r = scan(msg);
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(strlen(r->end[0].filename), MIME_FILENAME_MAX - 1);
	rec_free(r);
}

static void
test_encoded_message_is_leaf(void **state)
{
	struct rec *r = scan(crlf(
	    "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQpoaQ==\n"));

	(void)state;
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nend, 1);
	assert_int_equal(r->end[0].is_message, 0);
	assert_string_equal(r->data[0], "Subject: x\r\n\r\nhi");
	rec_free(r);
}

/* Structural corruption: the first error wins and stops the scan. */
static const struct err_case {
	const char *name;
	const char *msg;
	enum mime_error err;
} err_cases[] = {
	{ "no boundary", "Content-Type: multipart/mixed\n\nx\n", MIME_ERR_NO_BOUNDARY },
	{ "no boundary, other params", "Content-Type: multipart/mixed; charset=x; bound=y\n\n", MIME_ERR_NO_BOUNDARY },
	{ "empty boundary", "Content-Type: multipart/mixed; boundary=\"\"\n\n", MIME_ERR_BAD_BOUNDARY },
	{ "boundary over 70",
	    "Content-Type: multipart/mixed; boundary=12345678901234567890123456789012345678901234567890123456789012345678901\n\n",
	    MIME_ERR_BAD_BOUNDARY },
	{ "boundary illegal char", "Content-Type: multipart/mixed; boundary=\"a<b\"\n\n", MIME_ERR_BAD_BOUNDARY },
	{ "boundary ends in space", "Content-Type: multipart/mixed; boundary=\"ab \"\n\n", MIME_ERR_BAD_BOUNDARY },
	{ "boundary declared, never used", "Content-Type: multipart/mixed; boundary=b\n\nno parts here\n-b\n", MIME_ERR_NO_OPENING },
	{ "only a close delimiter", "Content-Type: multipart/mixed; boundary=b\n\n--b--\n", MIME_ERR_NO_OPENING },
	{ "no closing at end of input", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n", MIME_ERR_NO_CLOSING },
	{ "outer delimiter closes inner",
	    "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n"
	    "--i\n\nx\n--o--\n", MIME_ERR_NO_CLOSING },
	{ "inner never opened before outer ends",
	    "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n"
	    "x\n--o--\n", MIME_ERR_NO_OPENING },
	{ "inner unclosed in message/rfc822",
	    "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\n"
	    "Content-Type: multipart/mixed; boundary=i\n\n--i\n\nx\n--o--\n", MIME_ERR_NO_CLOSING },
	{ "header without colon", "Content-Type: multipart/mixed; boundary=b\n\n--b\nnot a header\n\nx\n--b--\n", MIME_ERR_BAD_HEADER },
	{ "header name with space", "Content-Type: multipart/mixed; boundary=b\n\n--b\nBad Name: x\n\n--b--\n", MIME_ERR_BAD_HEADER },
	{ "header name 8-bit", "Content-Type: multipart/mixed; boundary=b\n\n--b\nN\xc3\xa4me: x\n\n--b--\n", MIME_ERR_BAD_HEADER },
	{ "empty header name", "Content-Type: multipart/mixed; boundary=b\n\n--b\n: x\n\n--b--\n", MIME_ERR_BAD_HEADER },
	{ "continuation without field", "Content-Type: multipart/mixed; boundary=b\n\n--b\n folded: x\n\n--b--\n", MIME_ERR_BAD_HEADER },
	{ "top-level header without colon", "Subject: x\nrubbish\n\nbody\n", MIME_ERR_BAD_HEADER },
	{ "base64 bad char", "Content-Transfer-Encoding: base64\n\nYWJj*GVm\n", MIME_ERR_BAD_BASE64 },
	{ "base64 data after padding", "Content-Transfer-Encoding: base64\n\nYQ==\nYWJj\n", MIME_ERR_BAD_BASE64 },
	{ "base64 single leftover char", "Content-Transfer-Encoding: base64\n\nYWJjZ\n", MIME_ERR_BAD_BASE64 },
	{ "base64 padding at quantum start", "Content-Transfer-Encoding: base64\n\nYWJj=\n", MIME_ERR_BAD_BASE64 },
	{ "base64 bad in part", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\nYW.I=\n--b--\n",
	    MIME_ERR_BAD_BASE64 },
	{ "base64 leftover before delimiter", "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\nYWJjZ\n--b--\n",
	    MIME_ERR_BAD_BASE64 },
};

static void
test_errors(void **state)
{
	size_t i;
	struct rec *r, *rl;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		r = scan(crlf(err_cases[i].msg));
		/* Bare LF gives the same verdict. */
		rl = scan(err_cases[i].msg);
		if (r->err != err_cases[i].err || rl->err != err_cases[i].err)
			fail_msg("%s: got \"%s\" / \"%s\"", err_cases[i].name,
			    mime_error_str(r->err), mime_error_str(rl->err));
		rec_free(rl);
		rec_free(r);
	}
}

static void
test_error_stops_scan(void **state)
{
	struct rec *r = scan(crlf(
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Transfer-Encoding: base64\n\nYWJj\nYW*\n"
	    "--b\n\nlater part\n--b--\n"));

	(void)state;
	assert_int_equal(r->err, MIME_ERR_BAD_BASE64);
	assert_string_equal(r->data[1], "abc");	/* what came before the bad byte */
	assert_int_equal(r->nbegin, 2);
	assert_int_equal(r->nend, 0);			/* no callback after the error */
	assert_null(strstr(r->trace, "later"));
	rec_free(r);
}

static void
test_limits(void **state)
{
	mime_limits lim = { 2, 0, 0, 0 };
	char *msg = malloc(64 * 1024);
	struct rec *r;
	size_t n, i;

	(void)state;
	/* depth: message 0, multipart part 1, its part 2 fine; 3 too deep */
	r = scan_lim(crlf("Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n--a--\n"), &lim);
	assert_int_equal(r->err, MIME_OK);
	rec_free(r);
	r = scan_lim(crlf("Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: multipart/mixed; boundary=c\n\n--c\n\nx\n--c--\n--b--\n--a--\n"), &lim);
	assert_int_equal(r->err, MIME_ERR_TOO_DEEP);
	rec_free(r);
	r = scan_lim(crlf("Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n"
	    "Content-Type: message/rfc822\n\nSubject: deep\n\nx\n"), &lim);
	assert_int_equal(r->err, MIME_ERR_TOO_DEEP);
	rec_free(r);

	/* 5000 empty parts against max_parts 1000 */
	lim.max_depth = 0;
	lim.max_parts = 1000;
	n = (size_t)sprintf(msg, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (i = 0; i < 5000; i++)
		n += (size_t)sprintf(msg + n, "--b\r\n");
	n += (size_t)sprintf(msg + n, "--b--\r\n");
	r = scan_cuts(msg, n, &lim, NULL, 0);
	assert_int_equal(r->err, MIME_ERR_TOO_MANY_PARTS);
	assert_int_equal(r->nbegin, 1000);
	rec_free(r);
	/* The same message at exactly the cap is fine. */
	lim.max_parts = 5001;
	r = scan_cuts(msg, n, &lim, NULL, 0);
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nend, 5001);
	rec_free(r);

	/* header longer than max_header, in a part and at the top level; folding counts */
	lim.max_parts = 0;
	lim.max_header = 64;
	r = scan_lim(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "X-Long: 0123456789012345678901234567890123456789012345678901234567\n\n--b--\n"), &lim);
	assert_int_equal(r->err, MIME_ERR_HEADER_TOO_LONG);
	rec_free(r);
	for (i = 64; i <= 65; i++) {
		/* a field of exactly max_header bytes passes, one more does not */
		memset(msg, 'v', i);
		memcpy(msg, "X-Long: ", 8);
		strcpy(msg + i, "\r\n\r\nbody\r\n");
		r = scan_lim(msg, &lim);
		assert_int_equal(r->err, i == 64 ? MIME_OK : MIME_ERR_HEADER_TOO_LONG);
		rec_free(r);
	}
	r = scan_lim(crlf("X-Long: 0123456789012345678901234567890123456789\n 01234567890123456789\n\n"), &lim);
	assert_int_equal(r->err, MIME_ERR_HEADER_TOO_LONG);
	rec_free(r);
	/* a long header line is refused before it is complete: memory stays bounded */
	memset(msg, 'a', 60000);
	memcpy(msg, "X-A: ", 5);
	r = scan_cuts(msg, 60000, &lim, NULL, 0);
	assert_int_equal(r->err, MIME_ERR_HEADER_TOO_LONG);
	rec_free(r);

	/* too many header fields */
	lim.max_header = 0;
	lim.max_headers = 3;
	r = scan_lim("A: 1\nB: 2\nC: 3\n\n", &lim);
	assert_int_equal(r->err, MIME_OK);
	rec_free(r);
	r = scan_lim("A: 1\nB: 2\nC: 3\nD: 4\n\n", &lim);
	assert_int_equal(r->err, MIME_ERR_TOO_MANY_HEADERS);
	rec_free(r);
	free(msg);
}

static void
test_error_strings(void **state)
{
	int e;
	const char *s;

	(void)state;
	assert_string_equal(mime_error_str(MIME_ERR_NO_BOUNDARY), "multipart without boundary");
	for (e = MIME_OK; e <= MIME_ERR_BAD_BASE64; e++) {
		s = mime_error_str((enum mime_error)e);
		assert_true(strlen(s) > 0 && strlen(s) < 48);
		for (; *s != '\0'; s++)
			assert_false(*s >= 'A' && *s <= 'Z');
	}
	/* The header limits: sentences for the reply that names them, told apart by pointer. */
	assert_string_equal(mime_error_str(MIME_ERR_HEADER_TOO_LONG),
	    "A header field is longer than 16384 bytes");
	assert_string_equal(mime_error_str(MIME_ERR_TOO_MANY_HEADERS),
	    "More than 1000 header fields in one header block");
	assert_true(mime_error_is_header_limit(mime_error_str(MIME_ERR_HEADER_TOO_LONG)));
	assert_true(mime_error_is_header_limit(mime_error_str(MIME_ERR_TOO_MANY_HEADERS)));
	assert_false(mime_error_is_header_limit(mime_error_str(MIME_ERR_BAD_HEADER)));
	assert_false(mime_error_is_header_limit("A header field is longer than 16384 bytes"));
}

/* A message with every kind of entity, for the chunk-split invariance. */
static const char invariance_msg[] =
    "From: a@example.com\n"
    "Subject: =?utf-8?q?split?=\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed;\n"
    "\tboundary=\"outer\"\n"
    "\n"
    "preamble --outer not a delimiter\n"
    "--outer\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "caf=C3=A9 soft=\n"
    "break =3D line\n"
    "-- \n"
    "sig\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain\n"
    "\n"
    "plain -- text\n"
    "-not a delimiter\n"
    "--innerX is one (prefix)\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>html</p>\n"
    "\n"
    "--inner--   \n"
    "epilogue inner\n"
    "--outer\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\n"
    "Content-Disposition: attachment; filename*0*=utf-8''r%C3%A9; filename*1=\"sum.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "SGVsbG8g\n"
    "V29y bGQh\n"
    "IQ=\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "Content-Type: text/plain\n"
    "\n"
    "hello\n"
    "--outer--\n"
    "epilogue\n";

static void
check_invariance(const char *msg, const mime_limits *lim)
{
	size_t n = strlen(msg), k, cut[2];
	struct rec *whole = scan_lim(msg, lim), *r;

	r = scan_bytes(msg, n, lim);
	assert_string_equal(whole->trace, r->trace);
	rec_free(r);
	for (k = 0; k <= n; k++) {
		cut[0] = k;
		r = scan_cuts(msg, n, lim, cut, 1);
		if (strcmp(whole->trace, r->trace) != 0)
			fail_msg("split at %zu differs:\n%s\n---\n%s", k, whole->trace, r->trace);
		rec_free(r);
	}
	/* three pieces: every first cut, second cut a bit later */
	for (k = 0; k + 7 <= n; k += 3) {
		cut[0] = k;
		cut[1] = k + 7;
		r = scan_cuts(msg, n, lim, cut, 2);
		assert_string_equal(whole->trace, r->trace);
		rec_free(r);
	}
	rec_free(whole);
}

static void
test_split_invariance(void **state)
{
	char *lf = strdup(invariance_msg);
	struct rec *r;

	(void)state;
	r = scan(crlf(invariance_msg));
	assert_int_equal(r->err, MIME_OK);
	assert_int_equal(r->nend, 8);
	assert_string_equal(r->data[1], "caf\xc3\xa9 softbreak = line\r\n-- \r\nsig");
	assert_string_equal(r->data[3], "plain -- text\r\n-not a delimiter");
	assert_string_equal(r->data[4], "<p>html</p>\r\n");
	assert_string_equal(r->end[5].filename, "r\xc3\xa9sum.pdf");
	assert_string_equal(r->data[5], "Hello World!!");
	assert_int_equal(r->end[7].depth, 2);
	assert_string_equal(r->data[7], "hello");
	rec_free(r);

	check_invariance(crlf(invariance_msg), NULL);
	check_invariance(lf, NULL);
	/* and when an error cuts the scan short */
	lf[strlen(lf) - strlen("--outer--\nepilogue\n")] = '\0';
	check_invariance(lf, NULL);
	check_invariance(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Transfer-Encoding: base64\n\nYWJjZGVm\nYWJj\nYW*\n--b--\n"), NULL);
	check_invariance(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nX: y\nno colon\n\n--b--\n"), NULL);
	free(lf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message),
		cmocka_unit_test(test_empty_and_header_only),
		cmocka_unit_test(test_folded_headers),
		cmocka_unit_test(test_multipart_sizes),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_delimiter_rules),
		cmocka_unit_test(test_long_body_line),
		cmocka_unit_test(test_nested_and_message),
		cmocka_unit_test(test_digest_default),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_quoted_printable),
		cmocka_unit_test(test_field_values),
		cmocka_unit_test(test_boundary_syntax),
		cmocka_unit_test(test_long_filename_truncated),
		cmocka_unit_test(test_encoded_message_is_leaf),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_stops_scan),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_error_strings),
		cmocka_unit_test(test_split_invariance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
