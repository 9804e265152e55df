/*
 * test_engine.c - the built-in rules through the engine: each rule's reply
 * line exactly, the documented order when several fail, alignment corner
 * cases (relaxed/strict, IDN, several From, quoted @, RFC 2047 names), DSN
 * null sender, folded headers; every case fed whole, in 7-byte and in 1-byte
 * body chunks. Module semantics are in test_engine_modules.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "engine_harness.h"

static void
test_clean_and_envelope(void **state)
{
	policy_engine *e = engine_ok("");

	(void)state;
	check(e, CLEAN, "accept");
	/* A DSN has the null sender: refused at MAIL like any other <>. */
	check_as(e, "", NULL, "From: MAILER-DAEMON@example.com\nSubject: Undelivered\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
	    "--r\n\nfailed\n--r--\n", "550 5.7.1 Empty sender not allowed");
	engine_free(e);
}

/* accounts_file line for a table of alice (example.com, boss@example.org), blocked mallory, senderless nobody. */
static void
test_sender_allowed(void **state)
{
	policy_engine *e = engine_ok(accounts_conf());

	(void)state;
	check_as(e, "alice@example.com", "alice", CLEAN, "accept");
	check_as(e, "x@EXAMPLE.com", "alice", "From: x@example.com\nSubject: s\n\nbody\n", "accept");
	check_as(e, "boss@example.org", "alice", "From: boss@example.org\nSubject: s\n\nbody\n",
	    "accept");
	check_as(e, "other@example.org", "alice", CLEAN, "550 5.7.1 Sender not allowed");
	check_as(e, "alice@example.com", "mallory", CLEAN, "550 5.7.1 Sender not allowed");
	check_as(e, "alice@example.com", "nobody", CLEAN, "550 5.7.1 Sender not allowed");
	check_as(e, "alice@example.com", "ghost", CLEAN, "550 5.7.1 Sender not allowed");
	/* No {auth_authen}: the MTA let the client in without login, nothing to check. */
	check_as(e, "alice@example.com", NULL, CLEAN, "accept");
	/* Empty sender is the earlier rule. */
	check_as(e, "", "ghost", CLEAN, "550 5.7.1 Empty sender not allowed");
	engine_free(e);
}

static void
test_mime_structure(void **state)
{
	policy_engine *e = engine_ok("policy_max_mime_depth = 3\n");

	(void)state;
	/* Boundary declared but never used. */
	check(e, HDRS "Content-Type: multipart/mixed; boundary=\"never\"\n\nplain text\n",
	    "554 5.6.0 Invalid or corrupt MIME multipart");
	check(e, HDRS "Content-Type: multipart/mixed\n\n--x\n\nt\n--x--\n",
	    "554 5.6.0 Invalid or corrupt MIME multipart");
	check(e, MP("--b1\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"
	    "not*base64!\n"), "554 5.6.0 Invalid or corrupt MIME multipart");
	check(e, HDRS "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: multipart/mixed; boundary=c\n\n--c\n"
	    "Content-Type: multipart/mixed; boundary=d\n\n--d\n\nx\n--d--\n--c--\n--b--\n--a--\n",
	    "554 5.6.0 Invalid or corrupt MIME multipart");
	check(e, MP(""), "accept");
	engine_free(e);
}

static void
test_header_addresses(void **state)
{
	policy_engine *e = engine_ok("");

	(void)state;
	check(e, "From: john.@example.com\nSubject: s\n\nb\n",
	    "554 5.6.0 Could not read the message. Local address ends with dot");
	check(e, "To: bob@example.net\nSubject: s\n\nb\n",
	    "554 5.6.0 Could not read the message. Missing From header");
	check(e, "From: alice@example.com\nFrom: alice@example.com\nSubject: s\n\nb\n",
	    "554 5.6.0 Could not read the message. Multiple From headers");
	check(e, "From: alice@example.com\nTo: bob@\nSubject: s\n\nb\n",
	    "554 5.6.0 Could not read the message. Missing domain");
	check(e, "From: alice@example.com\nCc: a@b.example, c..d@e.example\nSubject: s\n\nb\n",
	    "554 5.6.0 Could not read the message. Local address contains consecutive dots");
	check(e, "From: undisclosed:;\nSubject: s\n\nb\n",
	    "554 5.6.0 Could not read the message. Empty address list");
	/* Empty groups are fine in To, Cc and Bcc; Reply-To and Sender parse too. */
	check(e, "From: alice@example.com\nTo: undisclosed-recipients:;\nBcc:\n"
	    "Reply-To: Team <team@example.com>\nSender: alice@example.com\nSubject: s\n\nb\n",
	    "accept");
	engine_free(e);
}

static void
test_alignment(void **state)
{
	policy_engine *strict = engine_ok("");
	policy_engine *relaxed = engine_ok("policy_alignment = relaxed\n");
	const char *sub = "From: a@mail.example.co.uk\nSubject: s\n\nb\n";
	const char *two = "From: a@example.com, b@evil.example\nSubject: s\n\nb\n";

	(void)state;
	check_as(strict, "b@example.co.uk", NULL, sub,
	    "550 5.7.1 Header from domain does not align with envelope from domain");
	check_as(relaxed, "b@example.co.uk", NULL, sub, "accept");
	/* Two registrable domains under the same public suffix do not align. */
	check_as(relaxed, "b@other.co.uk", NULL, sub,
	    "550 5.7.1 Header from domain does not align with envelope from domain");
	check_as(strict, "b@EXAMPLE.COM", NULL, "From: a@Example.Com\nSubject: s\n\nb\n", "accept");
	/* IDN: UTF-8 in the header, A-label in the envelope. */
	check_as(strict, "b@xn--bcher-kva.example", NULL,
	    "From: a@b\xc3\xbc" "cher.example\nSubject: s\n\nb\n", "accept");
	check_as(strict, "b@bücher.example", NULL,
	    "From: a@XN--BCHER-KVA.example\nSubject: s\n\nb\n", "accept");
	/* Every From mailbox must align. */
	check(strict, two, "550 5.7.1 Header from domain does not align with envelope from domain");
	check(relaxed, two, "550 5.7.1 Header from domain does not align with envelope from domain");
	/* A quoted local part holding an @ does not move the domain. */
	check(strict, "From: \"boss@evil.example\"@example.com\nSubject: s\n\nb\n", "accept");
	check(strict, "From: \"alice@example.com\"@evil.example\nSubject: s\n\nb\n",
	    "550 5.7.1 Header from domain does not align with envelope from domain");
	/* An address in an RFC 2047 display name is only a name. */
	check(strict, "From: =?utf-8?q?alice=40example=2Ecom?= <x@evil.example>\nSubject: s\n\nb\n",
	    "550 5.7.1 Header from domain does not align with envelope from domain");
	check(strict, "From: =?utf-8?q?x=40evil=2Eexample?= <alice@example.com>\nSubject: s\n\nb\n",
	    "accept");
	/* Folded From. */
	check(strict, "From: Alice\n  Liddell\n <alice@example.com>\nSubject: s\n\nb\n", "accept");
	engine_free(strict);
	engine_free(relaxed);
}

static void
test_subject(void **state)
{
	policy_engine *e = engine_ok("policy_subject_max_length = 10\n");
	const char *none = "554 5.6.0 Subject not present", *lng = "554 5.6.0 Subject too long";
	char buf[1024], xs[256];

	(void)state;
	check(e, "From: alice@example.com\n\nb\n", none);
	check(e, "From: alice@example.com\nSubject:\n\nb\n", none);
	check(e, "From: alice@example.com\nSubject:   \t \n\nb\n", none);
	check(e, "From: alice@example.com\nSubject: =?utf-8?q?_?=\n\nb\n", none);
	check(e, "From: alice@example.com\nSubject: 0123456789\n\nb\n", "accept");
	check(e, "From: alice@example.com\nSubject: 0123456789A\n\nb\n", lng);
	/* Ten code points, twenty bytes. */
	check(e, "From: alice@example.com\nSubject: =?utf-8?b?w6nDqcOpw6nDqcOpw6nDqcOpw6k=?=\n\nb\n",
	    "accept");
	check(e, "From: alice@example.com\nSubject: =?utf-8?b?w6nDqcOpw6nDqcOpw6nDqcOpw6k=?= x\n\nb\n",
	    lng);
	/* Folded: "01234\r\n 6789" unfolds to "01234 6789", ten characters. */
	check(e, "From: alice@example.com\nSubject: 01234\n 6789\n\nb\n", "accept");
	check(e, "From: alice@example.com\nSubject: 01234\n 67890\n\nb\n", lng);
	engine_free(e);
	/* Default limit 255; any Subject header counts. */
	e = engine_ok("");
	memset(xs, 'x', 255);
	xs[255] = '\0';
	snprintf(buf, sizeof(buf), "From: alice@example.com\nSubject: ok\nSubject: %s\n\nb\n", xs);
	check(e, buf, "accept");
	snprintf(buf, sizeof(buf), "From: alice@example.com\nSubject: ok\nSubject: y%s\n\nb\n", xs);
	check(e, buf, lng);
	engine_free(e);
}

static void
test_body_and_attachments(void **state)
{
	policy_engine *e = engine_ok("");
	const char *nobody = "554 5.6.0 Body not present";

	(void)state;
	check(e, HDRS "\n", nobody);
	check(e, HDRS "\n  \n\t\n", nobody);
	check(e, HDRS "Content-Type: text/html\n\n<p>hi</p>\n", "accept");
	check(e, HDRS "Content-Type: image/png\n\nPNG\n", nobody);
	check(e, HDRS "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
	    " \n--b--\n", nobody);
	check(e, HDRS "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=a.bin\n\n"
	    "data\n--b--\n", "accept");
	check(e, MP("--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; "
	    "filename=\"a.pdf\"\nContent-Transfer-Encoding: base64\n\n"),
	    "554 5.6.0 Attachment is empty");
	check(e, MP("--b1\nContent-Type: application/octet-stream; name=\"x.dat\"\n\n"),
	    "554 5.6.0 Attachment is empty");
	/* A named text part shown inline is text, not an attachment. */
	check(e, MP("--b1\nContent-Type: text/plain; name=\"notes.txt\"\n\n"), "accept");
	check(e, MP("--b1\nContent-Type: image/png\nContent-ID: <logo@x>\n"
	    "Content-Transfer-Encoding: base64\n\n"), "554 5.6.0 Inline image is empty");
	check(e, MP("--b1\nContent-Type: image/png\nContent-ID: <logo@x>\n"
	    "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"), "accept");
	engine_free(e);
}

static void
test_attachment_type(void **state)
{
	const char *deflt = "", *mism = "policy_attachment_types_reject =\n";
	const char *off = "policy_attachment_types_reject =\npolicy_attachment_type_mismatch = no\n";
	policy_engine *e;
	unsigned char *elf;
	char pdf[2048], *msg;
	size_t elflen, pdflen;

	(void)state;
	elf = slurp("/bin/true", 8192, &elflen);
	pdflen = make_pdf(pdf, sizeof(pdf));
	e = engine_ok(deflt);
	msg = with_attachment("invoice.pdf", "application/pdf", elf, elflen);
	check(e, msg, "554 5.6.0 Attachment type not allowed (invoice.pdf: application/x-sharedlib)");
	engine_free(e);
	e = engine_ok(mism);
	check(e, msg, "554 5.6.0 Attachment type does not match its name "
	    "(invoice.pdf: application/x-sharedlib)");
	free(msg);
	/* Honest name: no mismatch; nothing claimed: no mismatch. */
	msg = with_attachment("true", "application/x-executable", elf, elflen);
	check(e, msg, "accept");
	free(msg);
	msg = with_attachment("blob", "application/octet-stream", elf, elflen);
	check(e, msg, "accept");
	free(msg);
	msg = with_attachment("invoice.pdf", "application/pdf", (const unsigned char *)pdf, pdflen);
	check(e, msg, "accept");
	free(msg);
	msg = with_attachment("scan.jpg", "image/jpeg", (const unsigned char *)"#!/bin/sh\nrm -rf ~\n", 19);
	check(e, msg, "554 5.6.0 Attachment type does not match its name (scan.jpg: text/x-shellscript)");
	free(msg);
	msg = with_attachment("fix.txt", "text/plain", (const unsigned char *)"#!/bin/sh\necho ok\n", 18);
	check(e, msg, "accept");
	free(msg);
	engine_free(e);
	e = engine_ok(off);
	msg = with_attachment("invoice.pdf", "application/pdf", elf, elflen);
	check(e, msg, "accept");
	free(msg);
	engine_free(e);
	free(elf);
}

/* Several rules fail at once: the earliest in the documented order answers. */
static void
test_order(void **state)
{
	policy_engine *e = engine_ok("");

	(void)state;
	/* MIME (3) before addresses (4), alignment (5), Subject (6), body (8). */
	check(e, "From: john.@evil.example\nContent-Type: multipart/mixed; boundary=z\n\n\n",
	    "554 5.6.0 Invalid or corrupt MIME multipart");
	/* Addresses (4) before alignment (5): the bad To comes after the misaligned From. */
	check(e, "From: x@evil.example\nTo: a..b@c.example\n\n\n",
	    "554 5.6.0 Could not read the message. Local address contains consecutive dots");
	check(e, "From: x@evil.example\n\n\n",
	    "550 5.7.1 Header from domain does not align with envelope from domain");
	check(e, "From: alice@example.com\n\n\n", "554 5.6.0 Subject not present");
	check(e, "From: alice@example.com\nSubject: s\n\n\n", "554 5.6.0 Body not present");
	/* Empty attachment (9) before empty inline image (10), whatever the part order. */
	check(e, MP("--b1\nContent-Type: image/gif\nContent-ID: <i@x>\n\n"
	    "--b1\nContent-Type: application/zip\nContent-Disposition: attachment; filename=z.zip\n\n"),
	    "554 5.6.0 Attachment is empty");
	engine_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_and_envelope),
		cmocka_unit_test(test_sender_allowed),
		cmocka_unit_test(test_mime_structure),
		cmocka_unit_test(test_header_addresses),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_body_and_attachments),
		cmocka_unit_test(test_attachment_type),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
