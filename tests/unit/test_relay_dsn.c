/* test_relay_dsn.c - relay/dsn.c (RFC 3464 report: parts, fields, Status from replies, quoted headers) and relay/received.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsn.h"
#include "received.h"
#include "spool_read.h"

static void
test_status(void **state)
{
	char s[32];

	(void)state;
	dsn_status("550 5.1.1 <x@y>: Recipient address rejected", 0, s, sizeof(s));
	assert_string_equal(s, "5.1.1");
	dsn_status("450 4.2.0 Mailbox busy", 1, s, sizeof(s));
	assert_string_equal(s, "4.2.0");
	dsn_status("554 Transaction failed", 0, s, sizeof(s));
	assert_string_equal(s, "5.0.0");
	dsn_status("552 4.3.1 mismatched class", 0, s, sizeof(s));
	assert_string_equal(s, "5.0.0");
	dsn_status("421 4.4.2 x", 1, s, sizeof(s));
	assert_string_equal(s, "4.4.2");
	dsn_status("connection lost during DATA", 1, s, sizeof(s));
	assert_string_equal(s, "4.4.1");
	dsn_status("message too large for the next hop", 0, s, sizeof(s));
	assert_string_equal(s, "5.0.0");
	dsn_status("", 0, s, sizeof(s));
	assert_string_equal(s, "5.0.0");
	dsn_status("550 5.1.1x", 0, s, sizeof(s));
	assert_string_equal(s, "5.0.0");
}

static void
test_header_length(void **state)
{
	static const char msg[] = "From: a\r\nSubject: s\r\n\r\nbody\r\n";
	char *big;
	size_t n;

	(void)state;
	assert_int_equal(dsn_header_length(msg, strlen(msg)), strlen("From: a\r\nSubject: s\r\n"));
	assert_int_equal(dsn_header_length("A: b\n\nx", 7), 5);
	assert_int_equal(dsn_header_length("A: b\r\nC: d", 10), 10);	/* no body: all of it */
	assert_int_equal(dsn_header_length("", 0), 0);
	/* Longer than DSN_HEADERS_MAX: cut at a line end. */
	n = DSN_HEADERS_MAX * 2 / 10 * 10;
	big = malloc(n);
	for (size_t i = 0; i < n; i += 10)
		memcpy(big + i, "X: 123456\n", 10);
	assert_int_equal(dsn_header_length(big, n) % 10, 0);
	assert_true(dsn_header_length(big, n) <= DSN_HEADERS_MAX);
	assert_true(dsn_header_length(big, n) > DSN_HEADERS_MAX - 10);
	free(big);
}

static void
test_compose(void **state)
{
	static const char hdrs[] = "From: Alice <alice@example.com>\r\nSubject: hi\r\n";
	struct dsn_rcpt r[2] = {
		{ "<bob@example.org>", "550 5.1.1 <bob@example.org>: Recipient address rejected" },
		{ "<carol@example.org>", "451 4.3.0 Temporary\r\nlocal problem" },
	};
	struct dsn_info in = {
		.id = "01a2246e-a15f-7469-8f2b-8e15685e3eee",
		.dsn_id = "01a2246e-ffff-7469-8f2b-8e15685e3eee",
		.hostname = "mx.example.net", .sender = "<alice@example.com>",
		.arrival_ms = 1795907559775ULL, .now_ms = 1795907569775ULL,
		.rcpts = r, .nrcpts = 2, .headers = hdrs, .headers_len = sizeof(hdrs) - 1,
	};
	size_t len;
	int eightbit;
	char *m = dsn_compose(&in, &len, &eightbit), *p;

	(void)state;
	assert_int_equal(strlen(m), len);
	assert_int_equal(eightbit, 0);
	assert_non_null(strstr(m, "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"));
	assert_non_null(strstr(m, "\r\nTo: <alice@example.com>\r\n"));
	assert_non_null(strstr(m, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(m, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"01a2246e-ffff-7469-8f2b-8e15685e3eee/mx.example.net\"\r\n"));
	assert_non_null(strstr(m, "\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.example.net\r\n"));
	assert_non_null(strstr(m, "\r\nArrival-Date: "));
	assert_non_null(strstr(m, "\r\n\r\nFinal-Recipient: rfc822; bob@example.org\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected\r\n"));
	/* A CR LF inside a reply does not end the field. */
	assert_non_null(strstr(m, "\r\n\r\nFinal-Recipient: rfc822; carol@example.org\r\n"
	    "Action: failed\r\nStatus: 4.3.0\r\n"
	    "Diagnostic-Code: smtp; 451 4.3.0 Temporary  local problem\r\n"));
	assert_null(strstr(m, "Content-Transfer-Encoding"));
	assert_non_null(strstr(m, "Content-Type: text/rfc822-headers\r\n\r\n"
	    "From: Alice <alice@example.com>\r\nSubject: hi\r\n\r\n--01a2246e-ffff"));
	/* Ends with the closing boundary; every line ends in CRLF. */
	p = m + len - strlen("--01a2246e-ffff-7469-8f2b-8e15685e3eee/mx.example.net--\r\n");
	assert_string_equal(p, "--01a2246e-ffff-7469-8f2b-8e15685e3eee/mx.example.net--\r\n");
	for (p = m; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > m && p[-1] == '\r');
	free(m);

	/* 8-bit bytes in the quoted headers are reported; no coded reply: X-Postern. */
	in.headers = "Subject: caf\xc3\xa9\r\n";
	in.headers_len = strlen(in.headers);
	r[0].reply = "connection lost";
	in.nrcpts = 1;
	m = dsn_compose(&in, &len, &eightbit);
	assert_int_equal(eightbit, 1);
	assert_non_null(strstr(m, "Content-Type: text/rfc822-headers\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\nSubject: caf"));
	assert_non_null(strstr(m, "Status: 5.0.0\r\nDiagnostic-Code: X-Postern; connection lost\r\n"));
	free(m);
}

static void
test_received(void **state)
{
	const char *rc[] = { "<bob@example.org>" };
	struct spool_read_env e;
	char *r;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.id = "01a2";
	e.arrival_ms = 0;
	e.client_addr = "192.0.2.1";
	e.helo = "client.example";
	e.protocol = "ESMTPSA";
	e.tls_version = "TLSv1.3";
	e.tls_cipher = "TLS_AES_256_GCM_SHA384";
	e.account = "alice";
	e.rcpts = rc;
	e.nrcpts = 1;
	r = received_header(&e, "mx.example.net");
	assert_non_null(strstr(r, "Received: from client.example ([192.0.2.1])\r\n"
	    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
	    "\tby mx.example.net (Postern) with ESMTPSA id 01a2\r\n"
	    "\tfor <bob@example.org>; "));
	assert_null(strstr(r, "alice"));	/* the account is not shown */
	assert_string_equal(r + strlen(r) - 2, "\r\n");
	free(r);
	/* Two recipients: no "for"; no TLS: no "using". */
	e.nrcpts = 2;
	e.tls_version = "";
	e.protocol = "ESMTPA";
	r = received_header(&e, "mx.example.net");
	assert_null(strstr(r, "for <"));
	assert_null(strstr(r, "using"));
	assert_non_null(strstr(r, "with ESMTPA id 01a2; "));
	free(r);
	/* Made by the relay itself (a DSN). */
	e.client_addr = "";
	r = received_header(&e, "mx.example.net");
	assert_true(strncmp(r, "Received: by mx.example.net (Postern) id 01a2;\r\n\t", 48) == 0);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_header_length),
		cmocka_unit_test(test_compose),
		cmocka_unit_test(test_received),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
