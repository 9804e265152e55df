/* test_relay_hop_addr.c - relay_host forms: SMTP with and without brackets, LMTP inet and unix, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hop_addr.h"

static void
test_good(void **state)
{
	static const struct { const char *in; int lmtp, is_unix; const char *host, *port, *path, *desc; } cases[] = {
		{ "[127.0.0.1]:2525", 0, 0, "127.0.0.1", "2525", "", "[127.0.0.1]:2525" },
		{ "[mx.example.com]", 0, 0, "mx.example.com", "25", "", "[mx.example.com]:25" },
		{ "mx.example.com:587", 0, 0, "mx.example.com", "587", "", "[mx.example.com]:587" },
		{ "localhost", 0, 0, "localhost", "25", "", "[localhost]:25" },
		{ "[::1]:25", 0, 0, "::1", "25", "", "[::1]:25" },
		{ "[::1]:00025", 0, 0, "::1", "25", "", "[::1]:25" },
		{ "lmtp:inet:127.0.0.1:24", 1, 0, "127.0.0.1", "24", "", "lmtp:inet:[127.0.0.1]:24" },
		{ "lmtp:inet:[::1]:24", 1, 0, "::1", "24", "", "lmtp:inet:[::1]:24" },
		{ "lmtp:unix:/run/dovecot/lmtp", 1, 1, "", "", "/run/dovecot/lmtp",
		  "lmtp:unix:/run/dovecot/lmtp" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hop_addr a;
		char err[256] = "";

		assert_int_equal(hop_addr_parse(cases[i].in, &a, err, sizeof(err)), 0);
		assert_int_equal(a.lmtp, cases[i].lmtp);
		assert_int_equal(a.is_unix, cases[i].is_unix);
		assert_string_equal(a.host, cases[i].host);
		assert_string_equal(a.port, cases[i].port);
		assert_string_equal(a.path, cases[i].path);
		assert_string_equal(a.desc, cases[i].desc);
	}
}

static void
test_bad(void **state)
{
	static const struct { const char *in, *err; } cases[] = {
		{ "", "empty address" },
		{ "[127.0.0.1", "'[' without ']'" },
		{ "[127.0.0.1]25", "expected ':' after ']'" },
		{ "::1:25", "an IPv6 address needs brackets: [::1]:PORT" },
		{ "mx.example.com:0", "port 0 out of range 1-65535" },
		{ "mx.example.com:65536", "port 65536 out of range 1-65535" },
		{ "mx.example.com:25x", "port \"25x\" is not a number" },
		{ "mx.example.com:", "port missing" },
		{ "mx example.com", "bad character in host \"mx example.com\"" },
		{ "lmtp:inet:127.0.0.1", "port missing" },
		{ "lmtp:unix:run/lmtp", "unix socket path must be absolute" },
		{ "inet:127.0.0.1:25", "expected [host]:port, host:port, lmtp:inet:host:port or "
		  "lmtp:unix:/path, not \"inet:127.0.0.1:25\"" },
		{ "lmtp:127.0.0.1:24", "expected inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/PATH" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hop_addr a;
		char err[256] = "";

		assert_int_equal(hop_addr_parse(cases[i].in, &a, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].err);
	}
}

static void
test_long_unix_path(void **state)
{
	char in[300], err[256];
	struct hop_addr a;

	(void)state;
	memcpy(in, "lmtp:unix:/", 11);
	memset(in + 11, 'p', 200);
	in[211] = '\0';
	assert_int_equal(hop_addr_parse(in, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "unix socket path longer than 107 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long_unix_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
