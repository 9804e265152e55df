/*
 * fuzz_engine.c - libFuzzer target for the whole policy engine: every
 * built-in rule, the MIME scanner and libmagic over one transaction.
 *
 * Input: one mode byte, then an .eml. Mode bit 0 picks policy_alignment
 * (0 strict, 1 relaxed), bit 1 turns bare LF into CRLF in the body (as
 * postern-check does), bits 2-3 scale the body chunk sizes. The message runs
 * through connect, HELO, MAIL FROM a@example.com, RCPT, the headers (split
 * and unfolded here, bounded), end of headers, the body in chunks whose
 * sizes come from the input bytes, and end of message. Then the same
 * message runs again in the same session with the body in one piece.
 *
 * abort() unless every stage result is well-formed (verdict in range;
 * REJECT/TEMPFAIL: a 3-digit code of the verdict's class, an enhanced code
 * of the same class, non-empty printable ASCII text without CR/LF, a rule
 * name; otherwise no code) and both runs give the same verdict line: the
 * reply must not depend on how the MTA cut the body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FE_MAX_HEADERS		512		/* header fields passed on; the rest is dropped */
#define FE_MAX_HEADER_BYTES	(64 * 1024)	/* one unfolded field */
#define FE_SENDER		"a@example.com"
#define FE_RCPT			"b@example.net"

struct fe_header {
	char *name;
	char *value;
	size_t len;
};

struct fe_msg {
	struct fe_header h[FE_MAX_HEADERS];
	size_t nh;
	const uint8_t *body;		/* after the header block */
	size_t body_len;
};

static void __attribute__((noreturn))
fe_fail(const char *stage, const char *why, const engine_result *r)
{
	fprintf(stderr, "fuzz_engine: %s: %s: verdict=%d code=\"%.4s\" xcode=\"%.16s\" "
	    "text=\"%.512s\" rule=%s\n", stage, why, (int)r->verdict, r->code, r->xcode,
	    r->text, r->rule ? r->rule : "(null)");
	abort();
}

/* The result contract of engine.h: what the milter turns into an SMTP reply. */
static void
fe_check(const char *stage, const engine_result *r)
{
	const char *p;
	char cls;

	switch (r->verdict) {
	case POSTERN_CONTINUE:
	case POSTERN_ACCEPT:
	case POSTERN_DISCARD:
		if (r->code[0] != '\0')
			fe_fail(stage, "reply code without a refusal", r);
		return;
	case POSTERN_REJECT:
		cls = '5';
		break;
	case POSTERN_TEMPFAIL:
		cls = '4';
		break;
	default:
		fe_fail(stage, "verdict out of range", r);
	}
	if (memchr(r->code, '\0', sizeof(r->code)) == NULL || strlen(r->code) != 3 ||
	    r->code[0] != cls || r->code[1] < '0' || r->code[1] > '9' ||
	    r->code[2] < '0' || r->code[2] > '9')
		fe_fail(stage, "code is not 3 digits of the verdict's class", r);
	if (memchr(r->xcode, '\0', sizeof(r->xcode)) == NULL || r->xcode[0] == '\0' ||
	    r->xcode[0] != cls || r->xcode[1] != '.')
		fe_fail(stage, "enhanced code empty or of another class", r);
	if (memchr(r->text, '\0', sizeof(r->text)) == NULL || r->text[0] == '\0')
		fe_fail(stage, "empty or unterminated text", r);
	for (p = r->text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			fe_fail(stage, "text not printable ASCII", r);
	if (r->rule == NULL)
		fe_fail(stage, "no deciding rule", r);
}

/* One engine per alignment mode, built once: engine_new probes libmagic, which is slow. */
static policy_engine *
fe_engine(int relaxed)
{
	static policy_engine *engines[2];
	static const char *const conf[2] = {
		"# fuzz_engine: defaults but the alignment\npolicy_alignment = strict\n",
		"# fuzz_engine: defaults but the alignment\npolicy_alignment = relaxed\n",
	};
	char err[CONFIG_ERR_MAX];
	postern_config *cfg;

	if (engines[relaxed] != NULL)
		return engines[relaxed];
	cfg = config_parse("fuzz_engine.conf", conf[relaxed], strlen(conf[relaxed]), err, sizeof(err));
	if (cfg == NULL || (engines[relaxed] = engine_new(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_engine: %s\n", err);
		abort();
	}
	config_free(cfg);
	return engines[relaxed];
}

/* "Name: value" or "Name : value": the name's length, 0 when the line is no header field. */
static size_t
fe_field_name(const uint8_t *line, size_t len)
{
	size_t n = 0, i;

	while (n < len && line[n] != ':' && line[n] != ' ' && line[n] != '\t' && line[n] != '\0')
		n++;
	for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	return n > 0 && i < len && line[i] == ':' ? n : 0;
}

static char *
fe_strndup(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Append a continuation line (its leading white space kept: unfolding only drops the line break). */
static void
fe_append(struct fe_header *h, const uint8_t *p, size_t n)
{
	if (h->len + n > FE_MAX_HEADER_BYTES)
		n = FE_MAX_HEADER_BYTES - h->len;
	if (n == 0)
		return;
	if ((h->value = realloc(h->value, h->len + n + 1)) == NULL)
		abort();
	memcpy(h->value + h->len, p, n);
	h->len += n;
	h->value[h->len] = '\0';
}

/*
 * Split the header block (LF line ends, a CR before them dropped) into
 * unfolded fields; the body starts after the empty line, or at the first
 * line that is neither a field nor a continuation (that line included).
 */
static void
fe_split(const uint8_t *data, size_t size, struct fe_msg *m)
{
	size_t off = 0;

	memset(m, 0, sizeof(*m));
	while (off < size) {
		const uint8_t *line = data + off, *nl = memchr(line, '\n', size - off);
		size_t len = nl ? (size_t)(nl - line) : size - off, next = off + len + (nl ? 1 : 0);
		size_t nlen;

		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0) {
			off = next;
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && m->nh > 0) {
			fe_append(&m->h[m->nh - 1], line, len);
		} else if ((nlen = fe_field_name(line, len)) > 0) {
			const uint8_t *v = memchr(line, ':', len) + 1;
			size_t vlen = len - (size_t)(v - line);
			if (m->nh < FE_MAX_HEADERS) {
				struct fe_header *h = &m->h[m->nh++];
				h->name = fe_strndup(line, nlen);
				h->value = fe_strndup(v, 0);
				fe_append(h, v, vlen);
			}
		} else {
			break;		/* body's first line */
		}
		off = next;
	}
	m->body = data + off;
	m->body_len = size - off;
}

static void
fe_free(struct fe_msg *m)
{
	size_t i;

	for (i = 0; i < m->nh; i++) {
		free(m->h[i].name);
		free(m->h[i].value);
	}
}

/* The body as the MTA sends it: bare LF turned into CRLF when asked. */
static uint8_t *
fe_body(const struct fe_msg *m, int crlf, size_t *outlen)
{
	uint8_t *out = malloc(m->body_len * 2 + 1);
	size_t i, o = 0;

	if (out == NULL)
		abort();
	for (i = 0; i < m->body_len; i++) {
		if (crlf && m->body[i] == '\n' && (i == 0 || m->body[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = m->body[i];
	}
	*outlen = o;
	return out;
}

/*
 * One transaction; scale 0 feeds the body in one piece, else chunk k is
 * 1 + body[start of k] * scale bytes long. The final result goes to *out.
 */
static void
fe_run(engine_session *s, const struct fe_msg *m, const uint8_t *body, size_t body_len,
    size_t scale, engine_result *out)
{
	engine_result r;
	size_t i, off;

	engine_mail(s, FE_SENDER, &r);
	fe_check("mail", &r);
	if (r.verdict != POSTERN_CONTINUE)
		fe_fail("mail", "a plain sender without login refused", &r);
	engine_rcpt(s, FE_RCPT, &r);
	fe_check("rcpt", &r);
	for (i = 0; i < m->nh; i++) {
		engine_header(s, m->h[i].name, m->h[i].value, &r);
		fe_check("header", &r);
	}
	engine_eoh(s, &r);
	fe_check("eoh", &r);
	for (off = 0; off < body_len; ) {
		size_t n = scale ? 1 + (size_t)body[off] * scale : body_len;
		int done;

		if (n > body_len - off)
			n = body_len - off;
		done = engine_body(s, (const char *)body + off, n, &r);
		fe_check("body", &r);
		off += n;
		if (done)
			break;		/* the milter would answer SKIP */
	}
	engine_eom(s, out);
	fe_check("eom", out);
	/* After eom the transaction is over: abort must be harmless. */
	engine_abort(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t scales[4] = { 1, 7, 61, 1021 };
	engine_session *s;
	engine_result r, chunked, whole;
	struct fe_msg *m;
	uint8_t *body;
	size_t body_len;
	unsigned mode;

	if (size == 0)
		return 0;
	mode = data[0];
	if ((m = malloc(sizeof(*m))) == NULL)
		abort();
	fe_split(data + 1, size - 1, m);
	body = fe_body(m, mode & 2, &body_len);

	s = engine_session_new(fe_engine(mode & 1));
	engine_connect(s, "client.example.net", "192.0.2.1", &r);
	fe_check("connect", &r);
	engine_helo(s, "client.example.net", &r);
	fe_check("helo", &r);
	fe_run(s, m, body, body_len, scales[(mode >> 2) & 3], &chunked);
	fe_run(s, m, body, body_len, 0, &whole);
	if (chunked.verdict != whole.verdict || strcmp(chunked.code, whole.code) != 0 ||
	    strcmp(chunked.xcode, whole.xcode) != 0 || strcmp(chunked.text, whole.text) != 0) {
		fprintf(stderr, "fuzz_engine: chunked: %d %s %s %s (%s)\n", (int)chunked.verdict,
		    chunked.code, chunked.xcode, chunked.text, chunked.rule ? chunked.rule : "-");
		fe_fail("eom", "verdict depends on how the body was cut", &whole);
	}
	engine_abort(s);
	engine_session_free(s);

	free(body);
	fe_free(m);
	free(m);
	return 0;
}
