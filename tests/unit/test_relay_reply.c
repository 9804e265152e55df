/* test_relay_reply.c - the relay's reply parser: multi-line replies, split reads, bad and over-long lines, EHLO keywords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_reply.h"

/* Feed s whole; return the status and the bytes used. */
static int
feed(struct smtp_reply *r, const char *s, size_t *used)
{
	return smtp_reply_feed(r, s, strlen(s), used);
}

static void
test_single_line(void **state)
{
	struct smtp_reply r;
	size_t used;
	char line[512];

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "550 5.1.1 <x@y>: Recipient address rejected\r\n", &used),
	    SMTP_REPLY_DONE);
	assert_int_equal(used, 45);
	assert_int_equal(r.code, 550);
	assert_int_equal(r.nlines, 1);
	smtp_reply_line(&r, line, sizeof(line));
	assert_string_equal(line, "550 5.1.1 <x@y>: Recipient address rejected");
	smtp_reply_next(&r);
	/* A bare code is a complete reply too. */
	assert_int_equal(feed(&r, "250\r\n", &used), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.lines[0], "");
	smtp_reply_free(&r);
}

static void
test_multi_line_and_split_reads(void **state)
{
	static const char in[] = "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n354 go\r\n";
	struct smtp_reply r;
	size_t used, off = 0, i;
	int st = SMTP_REPLY_MORE;
	char line[512];

	(void)state;
	smtp_reply_init(&r);
	/* One byte at a time, as the worst socket would deliver it. */
	for (i = 0; i < sizeof(in) - 1 && st == SMTP_REPLY_MORE; i++) {
		st = smtp_reply_feed(&r, in + off, 1, &used);
		off += used;
	}
	assert_int_equal(st, SMTP_REPLY_DONE);
	assert_int_equal(off, strlen("250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n"));
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.lines[0], "mx.example.com");
	assert_string_equal(r.lines[2], "8BITMIME");
	smtp_reply_line(&r, line, sizeof(line));
	assert_string_equal(line, "250 mx.example.com");	/* the continuation mark is not kept */
	smtp_reply_next(&r);
	/* The rest of the buffer is the next reply. */
	assert_int_equal(smtp_reply_feed(&r, in + off, strlen(in + off), &used), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 354);
	smtp_reply_free(&r);
}

static void
test_pipelined_replies_in_one_read(void **state)
{
	static const char in[] = "250 2.1.0 Ok\r\n452 4.2.2 full\r\n250 2.1.5 Ok\r\n";
	struct smtp_reply r;
	size_t used, off = 0;
	int codes[3], n = 0;

	(void)state;
	smtp_reply_init(&r);
	while (off < sizeof(in) - 1) {
		assert_int_equal(smtp_reply_feed(&r, in + off, sizeof(in) - 1 - off, &used),
		    SMTP_REPLY_DONE);
		off += used;
		codes[n++] = r.code;
		smtp_reply_next(&r);
	}
	assert_int_equal(n, 3);
	assert_int_equal(codes[0], 250);
	assert_int_equal(codes[1], 452);
	assert_int_equal(codes[2], 250);
	smtp_reply_free(&r);
}

static void
test_bad_lines(void **state)
{
	static const struct { const char *in; const char *why; } cases[] = {
		{ "hello\r\n", "malformed reply line" },
		{ "25\r\n", "malformed reply line" },
		{ "2500 x\r\n", "malformed reply line" },
		{ "150 x\r\n", "malformed reply line" },	/* no 1xx in SMTP */
		{ "650 x\r\n", "malformed reply line" },
		{ "250-a\r\n251 b\r\n", "reply lines with different codes" },
		{ "250 a\0b\r\n", "NUL byte in reply" },
	};
	size_t i, used;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_reply r;
		size_t len = strlen(cases[i].in);

		if (strcmp(cases[i].why, "NUL byte in reply") == 0)
			len = 10;
		smtp_reply_init(&r);
		assert_int_equal(smtp_reply_feed(&r, cases[i].in, len, &used), SMTP_REPLY_BAD);
		assert_string_equal(smtp_reply_error(&r), cases[i].why);
		/* Once bad, always bad: the connection is unusable. */
		assert_int_equal(smtp_reply_feed(&r, "250 ok\r\n", 8, &used), SMTP_REPLY_BAD);
		smtp_reply_free(&r);
	}
}

static void
test_bounds(void **state)
{
	struct smtp_reply r;
	char *big = malloc(SMTP_REPLY_LINE_MAX + 10);
	size_t used, i;
	int st = SMTP_REPLY_MORE;

	(void)state;
	/* A line of exactly the limit is refused before the buffer could overflow. */
	memset(big, 'x', SMTP_REPLY_LINE_MAX + 10);
	memcpy(big, "250 ", 4);
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_feed(&r, big, SMTP_REPLY_LINE_MAX + 10, &used), SMTP_REPLY_BAD);
	assert_string_equal(smtp_reply_error(&r), "reply line too long");
	smtp_reply_free(&r);
	/* Just below the limit is fine. */
	memcpy(big + SMTP_REPLY_LINE_MAX - 3, "\r\n", 2);
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_feed(&r, big, SMTP_REPLY_LINE_MAX - 1, &used), SMTP_REPLY_DONE);
	smtp_reply_free(&r);
	free(big);
	/* Endless continuation lines stop at SMTP_REPLY_LINES_MAX. */
	smtp_reply_init(&r);
	for (i = 0; i <= SMTP_REPLY_LINES_MAX && st == SMTP_REPLY_MORE; i++)
		st = feed(&r, "250-more\r\n", &used);
	assert_int_equal(st, SMTP_REPLY_BAD);
	assert_int_equal(i, SMTP_REPLY_LINES_MAX + 1);
	assert_string_equal(smtp_reply_error(&r), "reply of too many lines");
	smtp_reply_free(&r);
}

static void
test_control_bytes_in_stored_line(void **state)
{
	struct smtp_reply r;
	size_t used;
	char line[16];

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "451 a\tb\033c and much more text\r\n", &used), SMTP_REPLY_DONE);
	smtp_reply_line(&r, line, sizeof(line));
	assert_string_equal(line, "451 a?b?c and m");	/* bounded to the buffer */
	smtp_reply_free(&r);
}

static void
test_ehlo_keywords(void **state)
{
	struct smtp_reply r;
	struct smtp_ehlo e;
	size_t used;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-mx.example.com PIPELINING SIZE 8BITMIME\r\n"
	    "250-pipelining\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	    "250-STARTTLS\r\n250-AUTH CRAM-MD5 PLAIN LOGIN\r\n250-CHUNKING\r\n"
	    "250-PIPELININGX\r\n250 ENHANCEDSTATUSCODES\r\n", &used), SMTP_REPLY_DONE);
	smtp_ehlo_parse(&r, &e);
	assert_true(e.pipelining);
	assert_true(e.size_offered);
	assert_int_equal(e.size_max, 10240000);
	assert_true(e.eightbitmime);
	assert_true(e.smtputf8);
	assert_true(e.starttls);
	assert_true(e.auth_plain);
	assert_true(e.auth_login);
	assert_true(e.chunking);
	assert_true(e.enhancedstatuscodes);
	smtp_reply_free(&r);

	/* The greeting line names no keywords; old AUTH= form; SIZE without a limit; bad SIZE ignored. */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-STARTTLS PIPELINING\r\n250-AUTH=LOGIN\r\n250-SIZE\r\n"
	    "250 SIZE 12x\r\n", &used), SMTP_REPLY_DONE);
	smtp_ehlo_parse(&r, &e);
	assert_false(e.starttls);
	assert_false(e.pipelining);
	assert_false(e.auth_plain);
	assert_true(e.auth_login);
	assert_true(e.size_offered);
	assert_int_equal(e.size_max, 0);
	smtp_reply_free(&r);

	/* A refused EHLO offers nothing. */
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "502-x\r\n502 PIPELINING\r\n", &used), SMTP_REPLY_DONE);
	smtp_ehlo_parse(&r, &e);
	assert_false(e.pipelining);
	smtp_reply_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line_and_split_reads),
		cmocka_unit_test(test_pipelined_replies_in_one_read),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_control_bytes_in_stored_line),
		cmocka_unit_test(test_ehlo_keywords),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
