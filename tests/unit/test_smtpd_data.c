/*
 * test_smtpd_data.c - frontend/data.c: dot-unstuffing, the end-of-data
 * line, bare CR/LF (smuggling variants), BDAT raw mode; every case is also
 * fed split at every byte position and one byte at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data.h"

struct sinkbuf {
	char buf[4096];
	size_t len;
};

static void
sink(void *ctx, const char *p, size_t n)
{
	struct sinkbuf *b = ctx;

	assert_true(b->len + n <= sizeof(b->buf));
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

struct dcase {
	const char *name;
	int mode;
	int normalize;
	const char *in;
	const char *out;	/* what the sink must get */
	int done;		/* end of data found */
	int consumed;		/* -1: all of in */
	int bare;
};

static const struct dcase cases[] = {
	{ "plain", DATA_MODE_DOT, 0, "Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n", 1, -1, 0 },
	{ "empty message", DATA_MODE_DOT, 0, ".\r\n", "", 1, -1, 0 },
	{ "unstuff", DATA_MODE_DOT, 0, "..x\r\n..\r\n...\r\n.\r\n", ".x\r\n.\r\n..\r\n", 1, -1, 0 },
	{ "dot inside line", DATA_MODE_DOT, 0, "a.b\r\n a.\r\n.\r\n", "a.b\r\n a.\r\n", 1, -1, 0 },
	{ "pipelined after end", DATA_MODE_DOT, 0, "x\r\n.\r\nQUIT\r\n", "x\r\n", 1, 6, 0 },
	{ "empty lines", DATA_MODE_DOT, 0, "a\r\n\r\n\r\n.\r\n", "a\r\n\r\n\r\n", 1, -1, 0 },
	{ "not yet ended", DATA_MODE_DOT, 0, "a\r\n.\r", "a\r\n", 0, -1, 0 },
	{ "dot-space is content", DATA_MODE_DOT, 0, "a\r\n. \r\n.\r\n", "a\r\n \r\n", 1, -1, 0 },
	/* Smuggling variants: none of these ends the message. */
	{ "LF.LF", DATA_MODE_DOT, 0, "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", "a", 1, -1, 1 },
	{ "CR.CR", DATA_MODE_DOT, 0, "a\r.\rMAIL\r\n.\r\n", "a", 1, -1, 1 },
	{ "LF.CRLF", DATA_MODE_DOT, 0, "a\n.\r\nMAIL\r\n.\r\n", "a", 1, -1, 1 },
	{ "CRLF.LF", DATA_MODE_DOT, 0, "a\r\n.\nMAIL\r\n.\r\n", "a\r\n", 1, -1, 1 },
	{ "CRLF.CR", DATA_MODE_DOT, 0, "a\r\n.\rMAIL\r\n.\r\n", "a\r\n", 1, -1, 1 },
	{ "CR CRLF", DATA_MODE_DOT, 0, "a\r\r\n.\r\n", "a", 1, -1, 1 },
	/* The same, normalized: bare endings become CRLF and still do not end anything. */
	{ "norm LF.LF", DATA_MODE_DOT, 1, "a\n.\nb\r\n.\r\n", "a\r\n\r\nb\r\n", 1, -1, 1 },
	{ "norm CR.CR", DATA_MODE_DOT, 1, "a\r.\rb\r\n.\r\n", "a\r\n\r\nb\r\n", 1, -1, 1 },
	{ "norm LF.CRLF", DATA_MODE_DOT, 1, "a\n.\r\nb\r\n.\r\n", "a\r\n\r\nb\r\n", 1, -1, 1 },
	{ "norm CRLF.LF", DATA_MODE_DOT, 1, "a\r\n.\nb\r\n.\r\n", "a\r\n\r\nb\r\n", 1, -1, 1 },
	{ "norm CRLF.CR", DATA_MODE_DOT, 1, "a\r\n.\rb\r\n.\r\n", "a\r\n\r\nb\r\n", 1, -1, 1 },
	{ "norm CR CRLF", DATA_MODE_DOT, 1, "a\r\r\n.\r\n", "a\r\n\r\n", 1, -1, 1 },
	{ "norm LF lines", DATA_MODE_DOT, 1, "x\ny\n..z\n\r\n.\r\n", "x\r\ny\r\n.z\r\n\r\n", 1, -1, 1 },
	/* After a bare LF, a real CRLF.CRLF still ends the data. */
	{ "LF then end", DATA_MODE_DOT, 1, "a\n.\r\n.\r\n", "a\r\n\r\n", 1, -1, 1 },
	/* BDAT: no dots, no end marker. */
	{ "raw", DATA_MODE_RAW, 0, "a\r\n.\r\nb", "a\r\n.\r\nb", 0, -1, 0 },
	{ "raw bare", DATA_MODE_RAW, 1, "a\nb\rc", "a\r\nb\r\nc", 0, -1, 1 },
	{ "binary", DATA_MODE_BINARY, 0, "a\n\0\r.\r\n", "a\n\0\r.\r\n", 0, -1, 0 },
};

/* Inputs contain no NUL except the binary case, whose length is fixed here. */
static size_t
case_len(const struct dcase *c, int in)
{
	if (strcmp(c->name, "binary") == 0)
		return 7;
	return strlen(in ? c->in : c->out);
}

static void
check_result(const struct dcase *c, struct data_scan *s, struct sinkbuf *b, size_t used,
    const char *how)
{
	size_t inlen = case_len(c, 1), want_used = c->consumed < 0 ? inlen : (size_t)c->consumed;

	if (s->done != c->done || used != want_used || s->bare != c->bare)
		fail_msg("%s (%s): done %d/%d used %zu/%zu bare %d/%d", c->name, how, s->done,
		    c->done, used, want_used, s->bare, c->bare);
	if (c->bare && !c->normalize) {
		/* Rejected anyway: only the text before the first bare ending must match. */
		if (b->len < case_len(c, 0) || memcmp(b->buf, c->out, case_len(c, 0)) != 0)
			fail_msg("%s (%s): output prefix differs", c->name, how);
		return;
	}
	if (b->len != case_len(c, 0) || memcmp(b->buf, c->out, b->len) != 0)
		fail_msg("%s (%s): got \"%.*s\"", c->name, how, (int)b->len, b->buf);
	assert_int_equal(s->size, b->len);
}

static void
test_cases_whole_and_split(void **state)
{
	size_t i, split, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dcase *c = &cases[i];
		size_t inlen = case_len(c, 1);
		struct data_scan s;
		struct sinkbuf b;
		size_t used;

		/* Whole. */
		data_scan_init(&s, c->mode, c->normalize);
		b.len = 0;
		used = data_scan_feed(&s, c->in, inlen, sink, &b);
		check_result(c, &s, &b, used, "whole");

		/* Split in two at every position. */
		for (split = 0; split <= inlen; split++) {
			data_scan_init(&s, c->mode, c->normalize);
			b.len = 0;
			used = data_scan_feed(&s, c->in, split, sink, &b);
			if (!s.done)
				used += data_scan_feed(&s, c->in + split, inlen - split, sink, &b);
			check_result(c, &s, &b, used, "split");
		}

		/* One byte at a time. */
		data_scan_init(&s, c->mode, c->normalize);
		b.len = 0;
		used = 0;
		for (k = 0; k < inlen && !s.done; k++)
			used += data_scan_feed(&s, c->in + k, 1, sink, &b);
		check_result(c, &s, &b, used, "bytewise");
	}
}

static void
test_raw_finish_and_done(void **state)
{
	struct data_scan s;
	struct sinkbuf b = { .len = 0 };

	(void)state;
	/* A CR at the very end of the last BDAT chunk was bare. */
	data_scan_init(&s, DATA_MODE_RAW, 1);
	data_scan_feed(&s, "a\r", 2, sink, &b);
	assert_int_equal(b.len, 1);
	data_scan_feed(&s, "\nb\r", 3, sink, &b);
	data_scan_finish(&s, sink, &b);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.buf, "a\r\nb\r\n", 6);
	assert_true(s.bare);

	/* After the end, nothing more is taken. */
	data_scan_init(&s, DATA_MODE_DOT, 0);
	assert_int_equal(data_scan_feed(&s, ".\r\n", 3, NULL, NULL), 3);
	assert_true(s.done);
	assert_int_equal(data_scan_feed(&s, "x", 1, NULL, NULL), 0);
}

static void
test_large_counts(void **state)
{
	static char chunk[65500];	/* whole lines: every chunk starts a line */
	struct data_scan s;
	size_t i;

	(void)state;
	/* Long lines of text, dot-stuffed lines at chunk edges: the count is exact. */
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (i % 100 == 98) ? '\r' : (i % 100 == 99) ? '\n' : (i % 100 == 0) ? '.' : 'x';
	data_scan_init(&s, DATA_MODE_DOT, 0);
	for (i = 0; i < 100; i++)
		data_scan_feed(&s, chunk, sizeof(chunk), NULL, NULL);
	assert_false(s.done);
	assert_false(s.bare);
	/* Each of the 655 lines per chunk loses its leading dot. */
	assert_int_equal(s.size, 100 * (sizeof(chunk) - sizeof(chunk) / 100));
	data_scan_feed(&s, "\r\n.\r\n", 5, NULL, NULL);
	assert_true(s.done);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases_whole_and_split),
		cmocka_unit_test(test_raw_finish_and_done),
		cmocka_unit_test(test_large_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
