/* test_endpoint.c - table-driven tests of lib/endpoint.c: every accepted form, every refusal, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "endpoint.h"

#define LISTEN	(ENDPOINT_ALLOW_BARE | ENDPOINT_ALLOW_ANY)
#define MILTER	(ENDPOINT_ALLOW_PREFIX | ENDPOINT_ALLOW_UNIX)
#define MLISTEN	(ENDPOINT_ALLOW_PREFIX | ENDPOINT_ALLOW_UNIX | ENDPOINT_ALLOW_ANY)

struct ep_case {
	const char *in;
	unsigned flags;
	unsigned defport;
	const char *reason;	/* NULL: parses to the fields below */
	enum endpoint_kind kind;
	int family;
	const char *host;	/* or the path for ENDPOINT_UNIX */
	unsigned port;
	const char *text;	/* endpoint_format */
};

#define OK(in, fl, dp, k, fam, h, p, t)	{ in, fl, dp, NULL, k, fam, h, p, t }
#define IN(in, fl, fam, h, p, t)	OK(in, fl, 0, ENDPOINT_INET, fam, h, p, t)
#define UX(in, fl, path)		OK(in, fl, 0, ENDPOINT_UNIX, 0, path, 0, "unix:" path)
#define BAD(in, fl, dp, r)		{ in, fl, dp, r, 0, 0, NULL, 0, NULL }

static const struct ep_case cases[] = {
	/* listen style: smtpd_listen, smtpd_tls_listen */
	IN("127.0.0.1:2525", LISTEN, AF_INET, "127.0.0.1", 2525, "inet:127.0.0.1:2525"),
	IN("[::1]:25", LISTEN, AF_INET6, "::1", 25, "inet:[::1]:25"),
	IN("localhost:587", LISTEN, AF_UNSPEC, "localhost", 587, "inet:localhost:587"),
	IN("*:25", LISTEN, AF_UNSPEC, "", 25, "inet:*:25"),
	IN(":25", LISTEN, AF_UNSPEC, "", 25, "inet:*:25"),
	IN("[127.0.0.1]:25", LISTEN, AF_INET, "127.0.0.1", 25, "inet:127.0.0.1:25"),
	IN("0.0.0.0:65535", LISTEN, AF_INET, "0.0.0.0", 65535, "inet:0.0.0.0:65535"),
	IN("h:00025", LISTEN, AF_UNSPEC, "h", 25, "inet:h:25"),
	BAD("127.0.0.1:99999", LISTEN, 0, "port 99999 out of range 1-65535"),
	BAD("127.0.0.1:0", LISTEN, 0, "port 0 out of range 1-65535"),
	BAD("127.0.0.1:65536", LISTEN, 0, "port 65536 out of range 1-65535"),
	BAD("127.0.0.1:99999999999999999999", LISTEN, 0,
	    "port 99999999999999999999 out of range 1-65535"),
	BAD("127.0.0.1:smtp", LISTEN, 0, "port \"smtp\" is not a number"),
	BAD("127.0.0.1:-1", LISTEN, 0, "port \"-1\" is not a number"),
	BAD("127.0.0.1:+25", LISTEN, 0, "port \"+25\" is not a number"),
	BAD("127.0.0.1: 25", LISTEN, 0, "port \" 25\" is not a number"),
	BAD("127.0.0.1:", LISTEN, 0, "port missing"),
	BAD("127.0.0.1", LISTEN, 0, "port missing"),
	BAD("::1:25", LISTEN, 0, "an IPv6 address needs brackets: [::1]:PORT"),
	BAD("[::1", LISTEN, 0, "'[' without ']'"),
	BAD("[]:25", LISTEN, 0, "empty host in brackets"),
	BAD("[::1]25", LISTEN, 0, "expected ':' after ']'"),
	BAD("[::1]", LISTEN, 0, "port missing"),
	BAD("a b:25", LISTEN, 0, "bad character in host \"a b\""),
	BAD("a/b:25", LISTEN, 0, "bad character in host \"a/b\""),
	BAD("", LISTEN, 0, "empty address"),
	BAD(":25", ENDPOINT_ALLOW_BARE, 0, "host missing"),
	BAD("*:25", ENDPOINT_ALLOW_BARE, 0, "bad character in host \"*\""),
	/* the listen style does not take milter prefixes */
	BAD("unix:/run/x", LISTEN, 0, "port \"/run/x\" is not a number"),
	/* a default port */
	OK("mx.example", LISTEN, 25, ENDPOINT_INET, AF_UNSPEC, "mx.example", 25, "inet:mx.example:25"),
	OK("[::1]", LISTEN, 25, ENDPOINT_INET, AF_INET6, "::1", 25, "inet:[::1]:25"),
	OK("mx.example:2525", LISTEN, 25, ENDPOINT_INET, AF_UNSPEC, "mx.example", 2525,
	    "inet:mx.example:2525"),
	/* milter style: smtpd_milters */
	IN("inet:127.0.0.1:8891", MILTER, AF_INET, "127.0.0.1", 8891, "inet:127.0.0.1:8891"),
	IN("inet:localhost:8891", MILTER, AF_UNSPEC, "localhost", 8891, "inet:localhost:8891"),
	IN("inet:[::1]:8891", MILTER, AF_INET6, "::1", 8891, "inet:[::1]:8891"),
	IN("inet6:[::1]:8891", MILTER, AF_INET6, "::1", 8891, "inet:[::1]:8891"),
	IN("inet6:::1:8891", MILTER, AF_INET6, "::1", 8891, "inet:[::1]:8891"),
	IN("inet6:localhost:8891", MILTER, AF_INET6, "localhost", 8891, "inet6:localhost:8891"),
	UX("unix:/run/postern/milter.sock", MILTER, "/run/postern/milter.sock"),
	UX("local:/run/m.sock", MILTER, "/run/m.sock"),
	BAD("unix:run/m.sock", MILTER, 0, "unix socket path must be absolute"),
	BAD("unix:", MILTER, 0, "unix socket path must be absolute"),
	BAD("unix:/run/\n", MILTER, 0, "control character in unix socket path"),
	BAD("unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    MILTER, 0, "unix socket path longer than 107 bytes"),
	BAD("inet:127.0.0.1:99999", MILTER, 0, "port 99999 out of range 1-65535"),
	BAD("inet:127.0.0.1", MILTER, 0, "port missing"),
	BAD("inet::8891", MILTER, 0, "host missing"),
	BAD("inet:8891", MILTER, 0, "port missing"),
	BAD("inet6:127.0.0.1:8891", MILTER, 0, "inet6: with the IPv4 address 127.0.0.1"),
	BAD("inet:::1:8891", MILTER, 0, "an IPv6 address needs brackets: [::1]:PORT"),
	BAD("127.0.0.1:8891", MILTER, 0, "expected inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/PATH"),
	BAD("tcp:127.0.0.1:8891", MILTER, 0, "expected inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/PATH"),
	BAD("unix:/run/m.sock", ENDPOINT_ALLOW_PREFIX, 0, "unix sockets are not allowed here"),
	BAD("x", ENDPOINT_ALLOW_PREFIX, 0, "expected inet:HOST:PORT or inet6:[ADDR]:PORT"),
	/* milter_listen: every address allowed */
	IN("inet:8891", MLISTEN, AF_UNSPEC, "", 8891, "inet:*:8891"),
	IN("inet6:8891", MLISTEN, AF_INET6, "", 8891, "inet6:*:8891"),
	IN("inet:*:8891", MLISTEN, AF_UNSPEC, "", 8891, "inet:*:8891"),
	IN("inet::8891", MLISTEN, AF_UNSPEC, "", 8891, "inet:*:8891"),
	BAD("inet:0", MLISTEN, 0, "port 0 out of range 1-65535"),
	BAD("inet:", MLISTEN, 0, "port missing"),
};

static void
test_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ep_case *c = &cases[i];
		struct endpoint ep, again;
		char err[256], text[ENDPOINT_TEXT_MAX];
		int rc = endpoint_parse(c->in, c->flags, c->defport, &ep, err, sizeof(err));

		print_message("case %zu: \"%s\"\n", i, c->in);
		if (c->reason != NULL) {
			assert_int_equal(rc, -1);
			assert_string_equal(err, c->reason);
			continue;
		}
		if (rc != 0)
			print_error("unexpected error: %s\n", err);
		assert_int_equal(rc, 0);
		assert_int_equal(ep.kind, c->kind);
		if (c->kind == ENDPOINT_UNIX) {
			assert_string_equal(ep.path, c->host);
		} else {
			assert_int_equal(ep.family, c->family);
			assert_string_equal(ep.host, c->host);
			assert_int_equal(ep.port, c->port);
		}
		endpoint_format(&ep, text, sizeof(text));
		assert_string_equal(text, c->text);
		/* the log text parses back to the same endpoint */
		assert_int_equal(endpoint_parse(text, MLISTEN, 0, &again, err, sizeof(err)), 0);
		assert_memory_equal(&again, &ep, sizeof(ep));
	}
}

/* Inputs at and past the bounds: refused with a reason, never cut short. */
static void
test_bounds(void **state)
{
	char in[ENDPOINT_TEXT_MAX + 16], err[128];
	struct endpoint ep;

	(void)state;
	memset(in, 'a', sizeof(in));
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(endpoint_parse(in, LISTEN, 0, &ep, err, sizeof(err)), -1);
	assert_string_equal(err, "address longer than 1023 bytes");

	memset(in, 'a', ENDPOINT_HOST_MAX);
	strcpy(in + ENDPOINT_HOST_MAX, ":25");
	assert_int_equal(endpoint_parse(in, LISTEN, 0, &ep, err, sizeof(err)), -1);
	assert_string_equal(err, "host longer than 255 bytes");
	strcpy(in + ENDPOINT_HOST_MAX - 1, ":25");
	assert_int_equal(endpoint_parse(in, LISTEN, 0, &ep, err, sizeof(err)), 0);
	assert_int_equal(strlen(ep.host), ENDPOINT_HOST_MAX - 1);

	/* a short err buffer is still terminated; none at all is allowed */
	assert_int_equal(endpoint_parse("h:0", LISTEN, 0, &ep, err, 5), -1);
	assert_string_equal(err, "port");
	assert_int_equal(endpoint_parse("h:0", LISTEN, 0, &ep, NULL, 0), -1);
	assert_int_equal(endpoint_parse(NULL, LISTEN, 0, &ep, err, sizeof(err)), -1);

	/* a short output buffer is cut, terminated */
	assert_int_equal(endpoint_parse("inet:[::1]:8891", MILTER, 0, &ep, err, sizeof(err)), 0);
	endpoint_format(&ep, in, 8);
	assert_string_equal(in, "inet:[:");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
