/* test_spool_read.c - lib/spool_read.c: what frontend/spool.c writes reads back; damaged header blocks are refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "spool.h"
#include "spool_read.h"

static const char good_hdr[] =
    "postern-spool 1\n"
    "id 01a2246e-a15f-7469-8f2b-8e15685e3eee\n"
    "arrival 1795907559775\n"
    "client-address 127.0.0.1\n"
    "client-port 58216\n"
    "helo [127.0.0.1]\n"
    "protocol ESMTPSA\n"
    "tls-version TLSv1.3\n"
    "tls-cipher TLS_AES_256_GCM_SHA384\n"
    "account alice\n"
    "body 8BITMIME\n"
    "smtputf8 no\n"
    "sender <alice@example.com>\n"
    "rcpt <bob@example.org>\n"
    "rcpt <carol@example.org>\n"
    "size 00000000000000000009\n"
    "\n";

static int
parse(const char *text, size_t len, struct spool_read_env *env, char *err)
{
	return spool_read_parse(text, len, len, env, err, SPOOL_READ_ERR_MAX);
}

static void
test_good(void **state)
{
	char buf[2048], err[SPOOL_READ_ERR_MAX] = "";
	struct spool_read_env env;
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%sA: b\r\n\r\nx", good_hdr);

	(void)state;
	assert_int_equal(n, strlen(good_hdr) + 9);
	assert_int_equal(parse(buf, n, &env, err), 0);
	assert_string_equal(env.id, "01a2246e-a15f-7469-8f2b-8e15685e3eee");
	assert_true(env.arrival_ms == 1795907559775ULL);
	assert_string_equal(env.client_addr, "127.0.0.1");
	assert_int_equal(env.client_port, 58216);
	assert_string_equal(env.helo, "[127.0.0.1]");
	assert_string_equal(env.protocol, "ESMTPSA");
	assert_string_equal(env.tls_version, "TLSv1.3");
	assert_string_equal(env.account, "alice");
	assert_string_equal(env.body, "8BITMIME");
	assert_int_equal(env.smtputf8, 0);
	assert_string_equal(env.sender, "<alice@example.com>");
	assert_int_equal(env.nrcpts, 2);
	assert_string_equal(env.rcpts[1], "<carol@example.org>");
	assert_null(env.quarantine);
	assert_int_equal(env.size, 9);
	assert_int_equal(env.data_offset, strlen(good_hdr));
	spool_read_free(&env);
}

/* The writer's own output (empty TLS values, a quarantine line, null sender) reads back. */
static void
test_roundtrip_writer(void **state)
{
	char *rcpts[] = { "<x@y.example>" };
	struct spool_envelope e = {
		.id = "01a2246e-a15f-7469-8f2b-8e15685e3eef", .arrival_ms = 42,
		.client_addr = "::1", .client_port = 1, .helo = "h\001x", .protocol = "ESMTP",
		.tls_version = NULL, .tls_cipher = NULL, .account = "", .body = "",
		.smtputf8 = 1, .sender = "<>", .rcpts = rcpts, .nrcpts = 1, .quarantine = "why not",
	};
	char buf[4096], err[SPOOL_READ_ERR_MAX] = "";
	size_t off, n = spool_format_header(&e, buf, sizeof(buf), &off);
	struct spool_read_env env;

	(void)state;
	assert_true(n > 0);
	memcpy(buf + off, "00000000000000000003", 20);
	memcpy(buf + n, "abc", 3);
	assert_int_equal(spool_read_parse(buf, n + 3, n + 3, &env, err, sizeof(err)), 0);
	assert_string_equal(env.helo, "h?x");
	assert_string_equal(env.tls_version, "");
	assert_string_equal(env.sender, "<>");
	assert_int_equal(env.smtputf8, 1);
	assert_string_equal(env.quarantine, "why not");
	assert_int_equal(env.size, 3);
	spool_read_free(&env);
}

struct bad_case {
	const char *from, *to;	/* replace in good_hdr */
	const char *err;
};

static void
test_bad(void **state)
{
	static const struct bad_case cases[] = {
		{ "postern-spool 1\n", "postern-spool 2\n", "unknown version line" },
		{ "postern-spool 1\n", "", "unknown version line" },
		{ "size 00000000000000000009", "size 00000000000000000008", "size 8 but 9 message bytes" },
		{ "size 00000000000000000009", "size 9x", "line 16: bad size" },
		{ "arrival 1795907559775", "arrival -1", "line 3: bad arrival" },
		{ "client-port 58216", "client-port 65536", "line 5: bad client-port" },
		{ "sender <alice@example.com>", "sender alice@example.com", "line 13: bad sender" },
		{ "rcpt <bob@example.org>", "rcpt <>", "line 14: bad rcpt" },
		{ "rcpt <bob@example.org>", "rcpt <a<b>", "line 14: bad rcpt" },
		{ "smtputf8 no", "smtputf8 maybe", "line 12: bad smtputf8" },
		{ "body 8BITMIME", "body 9BIT", "line 11: bad body" },
		{ "helo [127.0.0.1]", "bogus 1", "line 6: unknown key \"bogus\"" },
		{ "helo [127.0.0.1]", "helo", "line 6: no value" },
		{ "protocol ESMTPSA", "sender <a@b>", "line 13: sender twice" },
		{ "sender <alice@example.com>\n", "", "no sender line" },
		{ "id 01a2246e-a15f-7469-8f2b-8e15685e3eee\n", "", "no id line" },
		{ "id 01a2246e-a15f-7469-8f2b-8e15685e3eee", "id ../etc", "line 2: bad id" },
		{ "rcpt <bob@example.org>\nrcpt <carol@example.org>\n", "", "no rcpt line" },
		{ "size 00000000000000000009\n", "size 00000000000000000009\nrcpt <z@z>\n",
		  "line 17: rcpt after size" },
	};
	char text[2048], err[SPOOL_READ_ERR_MAX];
	struct spool_read_env env;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *at = strstr(good_hdr, cases[i].from);
		size_t pre = (size_t)(at - good_hdr), n;

		assert_non_null(at);
		n = (size_t)snprintf(text, sizeof(text), "%.*s%s%s123456789", (int)pre, good_hdr,
		    cases[i].to, at + strlen(cases[i].from));
		err[0] = '\0';
		assert_int_equal(parse(text, n, &env, err), -1);
		assert_string_equal(err, cases[i].err);
		assert_null(env.buf);
	}
}

/* Cut anywhere before the blank line: "truncated header block", never a crash. */
static void
test_truncated_everywhere(void **state)
{
	char err[SPOOL_READ_ERR_MAX];
	struct spool_read_env env;
	size_t len = strlen(good_hdr), cut;

	(void)state;
	for (cut = 16; cut < len; cut++) {
		assert_int_equal(spool_read_parse(good_hdr, cut, cut, &env, err, sizeof(err)), -1);
		assert_string_equal(err, "truncated header block");
	}
	assert_int_equal(spool_read_parse(good_hdr, 5, 5, &env, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown version line");
	assert_int_equal(spool_read_parse(good_hdr, 0, 0, &env, err, sizeof(err)), -1);
	/* The file is shorter than the buffer: only file_size bytes count. */
	assert_int_equal(spool_read_parse(good_hdr, len, len - 1, &env, err, sizeof(err)), -1);
	assert_string_equal(err, "truncated header block");
}

/* No blank line within SPOOL_READ_HDR_MAX: refused, bounded. */
static void
test_too_long(void **state)
{
	size_t n = SPOOL_READ_HDR_MAX + 100, off;
	char *big = malloc(n), err[SPOOL_READ_ERR_MAX];
	struct spool_read_env env;

	(void)state;
	memcpy(big, "postern-spool 1\nid x\n", 21);
	for (off = 21; off + 19 < n; off += 19)
		memcpy(big + off, "rcpt <a@example.c>\n", 19);
	memset(big + off, 'x', n - off);
	assert_int_equal(spool_read_parse(big, n, n, &env, err, sizeof(err)), -1);
	assert_string_equal(err, "header block too long");
	/* A header line longer than SPOOL_READ_LINE_MAX. */
	memset(big, 'h', n);
	memcpy(big, "postern-spool 1\nhelo ", 21);
	memcpy(big + 21 + SPOOL_READ_LINE_MAX, "\n\n", 2);
	assert_int_equal(spool_read_parse(big, n, n, &env, err, sizeof(err)), -1);
	assert_string_equal(err, "line 2: longer than 4096 bytes");
	free(big);
}

static void
test_nul_byte(void **state)
{
	char text[1024], err[SPOOL_READ_ERR_MAX];
	struct spool_read_env env;
	size_t n = strlen(good_hdr);

	(void)state;
	memcpy(text, good_hdr, n);
	memcpy(text + n, "123456789", 9);
	text[40] = '\0';
	assert_int_equal(parse(text, n + 9, &env, err), -1);
	assert_string_equal(err, "NUL byte in the header block");
}

/* spool_read_fd on a real file, header larger than its first read. */
static void
test_fd(void **state)
{
	char path[] = "/tmp/test_spool_read.XXXXXX", err[SPOOL_READ_ERR_MAX];
	int fd = mkstemp(path);
	struct spool_read_env env;
	size_t i;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, good_hdr, strlen(good_hdr) - 27), (ssize_t)strlen(good_hdr) - 27);
	for (i = 0; i < 2000; i++)
		assert_int_equal(write(fd, "rcpt <someone.with.a.long.name@example.org>\n", 44), 44);
	assert_int_equal(write(fd, "size 00000000000000000004\n\nabcd", 31), 31);
	assert_int_equal(spool_read_fd(fd, &env, err, sizeof(err)), 0);
	assert_int_equal(env.nrcpts, 2002);
	assert_int_equal(env.size, 4);
	spool_read_free(&env);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_roundtrip_writer),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
