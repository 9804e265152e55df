/*
 * test_engine.c - the built-in rules through the engine: each rule's reply
 * line exactly, the documented order when several fail, alignment corner
 * cases (relaxed/strict, IDN, several From, quoted @, RFC 2047 names), DSN
 * null sender, folded headers; every case fed whole, in 7-byte and in 1-byte
 * body chunks. Then libmagic: which parts it runs for (the pre-sniff, and
 * that it stays sound against libmagic itself) and the handle pool (one
 * thread per handle at a time, bounded, kept across thread churn).
 * Module semantics are in test_engine_modules.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "engine_harness.h"
#include "engine_int.h"

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

/* policy_alignment_sender: Sender: aligns like From: when asked; Reply-To, Resent-From never. */
static void
test_alignment_sender(void **state)
{
	policy_engine *off = engine_ok("");
	policy_engine *on = engine_ok("policy_alignment_sender = yes\n");
	policy_engine *relaxed = engine_ok("policy_alignment = relaxed\npolicy_alignment_sender = yes\n");
	const char *forged = "From: alice@example.com\nSender: ceo@evil.example\nSubject: s\n\nb\n";
	const char *own = "From: alice@example.com\nSender: Bob <bob@Example.COM>\nSubject: s\n\nb\n";
	const char *sub = "From: alice@example.com\nSender: bob@mail.example.com\nSubject: s\n\nb\n";
	const char *others = "From: alice@example.com\nReply-To: x@evil.example\n"
	    "Resent-From: y@evil.example\nSubject: s\n\nb\n";

	(void)state;
	check(off, forged, "accept");
	check(on, forged, "550 5.7.1 Header from domain does not align with envelope from domain");
	check(on, own, "accept");
	check(on, sub, "550 5.7.1 Header from domain does not align with envelope from domain");
	check(relaxed, sub, "accept");
	check(on, others, "accept");
	engine_free(off);
	engine_free(on);
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

/*
 * A minimal PE32 (GUI, i386) as a linker writes its headers: MZ stub with
 * e_lfanew, "PE\0\0", COFF header, optional header magic 0x10b. libmagic
 * names it application/vnd.microsoft.portable-executable.
 */
static size_t
make_pe(unsigned char *out, size_t size)
{
	assert_true(size >= 512);
	memset(out, 0, 512);
	memcpy(out, "MZ\x90\0\x03\0\0\0\x04\0", 10);
	out[0x18] = 0x40;			/* e_lfarlc: a new-style executable */
	out[0x3c] = 0x80;			/* e_lfanew */
	memcpy(out + 0x80, "PE\0\0", 4);
	out[0x84] = 0x4c, out[0x85] = 0x01;	/* machine i386 */
	out[0x86] = 1;				/* one section */
	out[0x94] = 0xe0;			/* optional header size */
	out[0x96] = 0x02, out[0x97] = 0x01;	/* executable, 32-bit */
	out[0x98] = 0x0b, out[0x99] = 0x01;	/* PE32 */
	out[0x98 + 68] = 2;			/* subsystem: GUI */
	return 512;
}

/* A real zip archive (python3 zipfile, one stored member a.txt = "hello"). */
static const unsigned char zip_hello[] = {
	0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x25, 0x00, 0x7d, 0x5d, 0x86, 0xa6,
	0x10, 0x36, 0x05, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x61, 0x2e,
	0x74, 0x78, 0x74, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x25, 0x00, 0x7d, 0x5d, 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00,
	0x05, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x61, 0x2e, 0x74, 0x78, 0x74, 0x50, 0x4b, 0x05, 0x06, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x33, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00,
	0x00,
};

/* libmagic runs so far on e's pool. */
static size_t
detections(policy_engine *e)
{
	struct engine_magic_stats st;

	engine_magic_stats(e->magic, &st);
	return st.detections;
}

/*
 * The pre-sniff keeps every verdict: a PE named .pdf, a zip when the
 * operator refuses zips, a script without "#!" claiming an image; and
 * libmagic is left out where it cannot matter.
 */
static void
test_attachment_type_presniff(void **state)
{
	unsigned char pe[512];
	char pdf[2048], *msg;
	size_t pelen = make_pe(pe, sizeof(pe)), pdflen = make_pdf(pdf, sizeof(pdf)), n;
	policy_engine *e = engine_ok("");

	(void)state;
	msg = with_attachment("invoice.pdf", "application/pdf", pe, pelen);
	check(e, msg, "554 5.6.0 Attachment type not allowed "
	    "(invoice.pdf: application/vnd.microsoft.portable-executable)");
	free(msg);
	/* A zip is not refused by default... */
	msg = with_attachment("files.zip", "application/zip", zip_hello, sizeof(zip_hello));
	check(e, msg, "accept");
	/* ...nor is a text body, and libmagic never ran for it: no name, a text type, no signature. */
	n = detections(e);
	check(e, CLEAN, "accept");
	check(e, MP("--b1\nContent-Type: text/html\n\n<p>Hello</p>\n"), "accept");
	assert_int_equal(detections(e), n);
	free(msg);
	/* "<?php" has no "#!", yet libmagic calls it a script: a JPEG name still draws the mismatch. */
	msg = with_attachment("scan.jpg", "image/jpeg",
	    (const unsigned char *)"<?php system($_GET[0]); ?>\n", 27);
	check(e, msg, "554 5.6.0 Attachment type does not match its name (scan.jpg: text/x-php)");
	free(msg);
	/* A rule before attachment_type decided (alignment): nobody reads the type, no libmagic. */
	n = detections(e);
	msg = with_attachment("invoice.pdf", "application/pdf", pe, pelen);
	memcpy(strstr(msg, "alice@example.com"), "alice@example.org", 17);
	check(e, msg, "550 5.7.1 Header from domain does not align with envelope from domain");
	assert_int_equal(detections(e), n);
	free(msg);
	engine_free(e);

	/* The operator refuses zips: libmagic for every leaf part, the text one included. */
	e = engine_ok("policy_attachment_types_reject = application/zip, application/x-dosexec\n");
	msg = with_attachment("files.zip", "application/zip", zip_hello, sizeof(zip_hello));
	check(e, msg, "554 5.6.0 Attachment type not allowed (files.zip: application/zip)");
	free(msg);
	n = detections(e);
	check(e, CLEAN, "accept");
	assert_int_equal(detections(e), n + 3);	/* once per run: whole, 7-byte and 1-byte chunks */
	msg = with_attachment("invoice.pdf", "application/pdf", (const unsigned char *)pdf, pdflen);
	check(e, msg, "accept");
	free(msg);
	engine_free(e);

	/* Nothing to refuse and no mismatch check: the rule never looks, libmagic never runs. */
	e = engine_ok("policy_attachment_types_reject =\npolicy_attachment_type_mismatch = no\n");
	msg = with_attachment("invoice.pdf", "application/pdf", pe, pelen);
	check(e, msg, "accept");
	free(msg);
	assert_int_equal(detections(e), 0);
	engine_free(e);
}

/*
 * The pre-sniff is sound: whenever libmagic names an executable type of
 * engine_magic_type_is_exec(), the sniff flagged the bytes. Real binaries,
 * then 2000 random buffers whose bytes are half drawn from the
 * signatures' own bytes, so that the DOS heuristics fire too.
 */
static void
test_presniff_sound(void **state)
{
	static const unsigned char seeds[] = {
		0x7f, 'E', 'L', 'F', 'M', 'Z', 0xfe, 0xed, 0xfa, 0xce, 0xcf, 0xca, 0xbe, 0xba,
		0x80, 0x81, 0xfc, 0x8c, 0xb8, 0xe9, 0xeb, 0xcd, 0x21, '#', '!', 0x00, 0x01, 0x02,
	};
	static const char *const files[] = { "/bin/true", "/bin/sh", "/usr/bin/env" };
	unsigned char buf[512], pe[512];
	char type[ENGINE_TYPE_MAX], err[256];
	engine_magic *pool = engine_magic_new(1, err, sizeof(err));
	unsigned seed = 12345, exec = 0, flagged = 0;
	size_t i, j, len;

	(void)state;
	assert_non_null(pool);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unsigned char *bin = slurp(files[i], 8192, &len);
		assert_int_equal(engine_magic_detect(pool, bin, len, type, sizeof(type), err, sizeof(err)), 0);
		assert_true(engine_magic_type_is_exec(type));
		assert_true(engine_magic_sniff(bin, len));
		free(bin);
	}
	make_pe(pe, sizeof(pe));
	assert_true(engine_magic_sniff(pe, sizeof(pe)));
	/* Text, documents and images: no signature. */
	assert_false(engine_magic_sniff((const unsigned char *)"Hello Bob,\r\nsee you.\r\n", 22));
	assert_false(engine_magic_sniff((const unsigned char *)"\xc3\xa9t\xc3\xa9 \xc3\xa0 Paris", 16));
	assert_false(engine_magic_sniff((const unsigned char *)"%PDF-1.4\n", 9));
	assert_false(engine_magic_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n", 8));
	assert_false(engine_magic_sniff(zip_hello, sizeof(zip_hello)));
	assert_true(engine_magic_sniff((const unsigned char *)"#!/bin/sh\n", 10));
	assert_true(engine_magic_sniff((const unsigned char *)"\xcf\xfa\xed\xfe\x07\0\0\x01", 8));
	assert_true(engine_magic_sniff((const unsigned char *)"\xb4\x09\xba\x09\x01\xcd\x21\xc3", 8));
	for (i = 0; i < 2000; i++) {
		len = 64 + (seed = seed * 1103515245u + 12345u) % (sizeof(buf) - 64);
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[j] = (seed >> 16) & 1 ? seeds[(seed >> 17) % sizeof(seeds)] : (unsigned char)(seed >> 20);
		}
		assert_int_equal(engine_magic_detect(pool, buf, len, type, sizeof(type), err, sizeof(err)), 0);
		flagged += engine_magic_sniff(buf, len);
		if (engine_magic_type_is_exec(type)) {
			exec++;
			if (!engine_magic_sniff(buf, len))
				fail_msg("libmagic says %s, the pre-sniff missed it (sample %zu)", type, i);
		}
	}
	/* The samples did reach libmagic's executable rules, and the sniff is not "always yes". */
	assert_true(exec >= 20);
	assert_true(flagged < 2000);
	engine_magic_free(pool);
}

/*
 * The libmagic trap: a handle is not thread-safe. Eight threads share a
 * pool of two: each detection has a handle to itself (the answers stay
 * right, ASan and valgrind watch the rest), the pool never grows past its
 * bound, and threads that come and go reuse the handles instead of loading
 * the database again.
 */
struct pool_arg {
	engine_magic *pool;
	const unsigned char *buf[3];
	size_t len[3];
	const char *want[3];
	int rounds;
	int bad;
};

static void *
pool_thread(void *p)
{
	struct pool_arg *a = p;
	char type[ENGINE_TYPE_MAX], err[256];
	int i;

	for (i = 0; i < a->rounds; i++) {
		int k = i % 3;
		if (engine_magic_detect(a->pool, a->buf[k], a->len[k], type, sizeof(type),
		    err, sizeof(err)) != 0 || strcmp(type, a->want[k]) != 0)
			a->bad++;
	}
	return NULL;
}

static void
test_magic_pool(void **state)
{
	static const char text[] = "Dear Bob,\nthe minutes of the meeting are below.\n"
	    "We agreed on the budget and on the dates.\nRegards,\nAlice\n";
	struct engine_magic_stats st;
	struct pool_arg args[8];
	pthread_t tid[8];
	char pdf[2048], err[256];
	unsigned char *elf;
	size_t elflen, pdflen = make_pdf(pdf, sizeof(pdf));
	engine_magic *pool = engine_magic_new(2, err, sizeof(err));
	int i, round;

	(void)state;
	assert_non_null(pool);
	elf = slurp("/bin/true", 8192, &elflen);
	engine_magic_stats(pool, &st);
	assert_int_equal(st.open, 1);	/* opened at startup: a broken database fails engine_new */
	assert_int_equal(st.max, 2);
	if (getenv("MAGIC") == NULL)
		assert_true(st.shared_db);	/* Debian's magic.mgc, mapped once */
	/* Thread churn: one short-lived thread after another keeps using the first handle. */
	for (round = 0; round < 5; round++) {
		args[0] = (struct pool_arg){ pool, { elf, (unsigned char *)pdf, (const unsigned char *)text },
		    { elflen, pdflen, sizeof(text) - 1 },
		    { "application/x-sharedlib", "application/pdf", "text/plain" }, 3, 0 };
		assert_int_equal(pthread_create(&tid[0], NULL, pool_thread, &args[0]), 0);
		pthread_join(tid[0], NULL);
		assert_int_equal(args[0].bad, 0);
	}
	engine_magic_stats(pool, &st);
	assert_int_equal(st.open, 1);
	assert_int_equal(st.detections, 15);
	/* Eight at once on two handles. */
	for (i = 0; i < 8; i++) {
		args[i] = args[0];
		args[i].rounds = 30;
		assert_int_equal(pthread_create(&tid[i], NULL, pool_thread, &args[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
	engine_magic_stats(pool, &st);
	assert_true(st.open <= 2);
	assert_true(st.peak_out <= 2);
	assert_int_equal(st.detections, 15 + 8 * 30);
	engine_magic_free(pool);
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
		cmocka_unit_test(test_alignment_sender),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_body_and_attachments),
		cmocka_unit_test(test_attachment_type),
		cmocka_unit_test(test_attachment_type_presniff),
		cmocka_unit_test(test_presniff_sound),
		cmocka_unit_test(test_magic_pool),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
