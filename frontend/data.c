/*
 * data.c - DATA/BDAT scanner. Only <CRLF>.<CRLF> ends DATA: "\n.\n",
 * "\r.\r", "\n.\r\n", "\r\n.\n" and friends are ordinary content (the
 * SMTP smuggling class). A bare CR or LF sets s->bare and, when
 * normalizing, is written as CRLF; a line that starts with a dot loses
 * that dot (RFC 5321 4.5.2) whatever ended the line before it.
 */
#include "data.h"

#include <string.h>

enum {
	ST_BOL,		/* start of a line after a real CRLF (or of the data) */
	ST_BOL_DOT,	/* ST_BOL then "." */
	ST_BOL_DOT_CR,	/* ST_BOL then ".\r": a LF now ends the data */
	ST_SBOL,	/* start of a line after a bare CR or LF: never an end */
	ST_TEXT,	/* inside a line */
	ST_CR		/* a CR inside a line, waiting for its LF */
};

static const char crlf[2] = { '\r', '\n' };

void
data_scan_init(struct data_scan *s, enum data_mode mode, int normalize)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->normalize = normalize;
	s->state = mode == DATA_MODE_DOT ? ST_BOL : ST_TEXT;
}

static void
data_emit(struct data_scan *s, const char *p, size_t n, data_sink sink, void *ctx)
{
	if (n == 0)
		return;
	s->size += n;
	if (sink)
		sink(ctx, p, n);
}

/* A bare CR or LF ended a line: flag it, and write CRLF when normalizing. */
static void
data_bare(struct data_scan *s, data_sink sink, void *ctx)
{
	s->bare = 1;
	if (s->normalize)
		data_emit(s, crlf, 2, sink, ctx);
}

size_t
data_scan_feed(struct data_scan *s, const char *buf, size_t len, data_sink sink, void *ctx)
{
	size_t i = 0, run = 0;	/* buf[run..i) is pending plain text */
	int dotmode = s->mode == DATA_MODE_DOT;

	if (s->done)
		return 0;
	if (s->mode == DATA_MODE_BINARY) {
		data_emit(s, buf, len, sink, ctx);
		return len;
	}
	while (i < len) {
		char c = buf[i];

		switch (s->state) {
		case ST_TEXT:
			/* The hot loop: copy plain text through in one span. */
			while (i < len && buf[i] != '\r' && buf[i] != '\n')
				i++;
			data_emit(s, buf + run, i - run, sink, ctx);
			if (i == len)
				return len;
			if (buf[i] == '\r') {
				s->state = ST_CR;
			} else {
				data_bare(s, sink, ctx);
				s->state = dotmode ? ST_SBOL : ST_TEXT;
			}
			run = ++i;
			break;
		case ST_CR:
			if (c == '\n') {
				data_emit(s, crlf, 2, sink, ctx);
				s->state = dotmode ? ST_BOL : ST_TEXT;
				run = ++i;
			} else {
				/* The held CR was bare; c starts the next line. */
				data_bare(s, sink, ctx);
				s->state = dotmode ? ST_SBOL : ST_TEXT;
				run = i;
			}
			break;
		case ST_BOL:
		case ST_SBOL:
			if (c == '.') {
				s->state = s->state == ST_BOL ? ST_BOL_DOT : ST_TEXT;
				/* A stuffed dot after a bare newline is dropped too. */
				run = ++i;
			} else {
				s->state = ST_TEXT;
				run = i;
			}
			break;
		case ST_BOL_DOT:
			if (c == '\r') {
				s->state = ST_BOL_DOT_CR;
				run = ++i;
			} else {
				/* ".x", "..", ".\n": the dot was stuffing, c is content. */
				s->state = ST_TEXT;
				run = i;
			}
			break;
		case ST_BOL_DOT_CR:
			if (c == '\n') {
				s->done = 1;
				return i + 1;
			}
			/* ".\r" then not LF: a line "." ended by a bare CR. */
			data_bare(s, sink, ctx);
			s->state = ST_SBOL;
			run = i;
			break;
		}
	}
	return len;
}

void
data_scan_finish(struct data_scan *s, data_sink sink, void *ctx)
{
	if (s->state == ST_CR) {
		data_bare(s, sink, ctx);
		s->state = ST_TEXT;
	}
}
