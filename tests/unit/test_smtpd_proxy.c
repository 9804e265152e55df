/* test_smtpd_proxy.c - frontend/proxy.c and proxy_nets.c: every header form, split at every byte, bounds, trusted networks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy.h"
#include "proxy_nets.h"

#define V2SIG "\r\n\r\n\0\r\nQUIT\n"

struct hcase {
	const char *name;
	const char *bytes;
	size_t len;		/* header plus what follows it */
	size_t hlen;		/* the header alone; 0 for an error */
	int command;		/* enum proxy_command, or -1 for an error */
	const char *src;	/* "addr port" of the client, PROXY only */
	const char *dst;
};

#define S(lit) lit, sizeof(lit) - 1

static const struct hcase cases[] = {
	{ "v1 tcp4", S("PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\nEHLO x\r\n"), 44, PROXY_CMD_PROXY,
	  "192.0.2.7 40000", "198.51.100.1 25" },
	{ "v1 tcp6", S("PROXY TCP6 2001:db8::7 2001:db8::1 65535 587\r\n"), 46, PROXY_CMD_PROXY,
	  "2001:db8::7 65535", "2001:db8::1 587" },
	{ "v1 unknown", S("PROXY UNKNOWN\r\n"), 15, PROXY_CMD_UNKNOWN, NULL, NULL },
	{ "v1 unknown with addresses", S("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n\x16\x03"), 35,
	  PROXY_CMD_UNKNOWN, NULL, NULL },
	{ "v1 longest line", S("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"), 104, PROXY_CMD_PROXY,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535" },
	{ "v2 proxy tcp4", S(V2SIG "\x21\x11\x00\x0c" "\xc0\x00\x02\x07" "\xc6\x33\x64\x01"
	    "\x9c\x40" "\x00\x19" "\x16\x03\x01"), 28, PROXY_CMD_PROXY, "192.0.2.7 40000", "198.51.100.1 25" },
	{ "v2 proxy tcp6", S(V2SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07" "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x01\xbb" "\x02\x4b"), 52, PROXY_CMD_PROXY, "2001:db8::7 443", "2001:db8::1 587" },
	{ "v2 tlvs ignored", S(V2SIG "\x21\x11\x00\x1a" "\x7f\x00\x00\x02" "\x7f\x00\x00\x01"
	    "\x30\x39" "\x00\x19" "\x04\x00\x0b" "hello world" "EHLO"), 42, PROXY_CMD_PROXY,
	  "127.0.0.2 12345", "127.0.0.1 25" },
	{ "v2 local", S(V2SIG "\x20\x00\x00\x00" "QUIT\r\n"), 16, PROXY_CMD_LOCAL, NULL, NULL },
	{ "v2 local with addresses", S(V2SIG "\x20\x11\x00\x0c" "\x7f\0\0\1\x7f\0\0\1\0\1\0\2"), 28,
	  PROXY_CMD_LOCAL, NULL, NULL },
	{ "v2 unspec", S(V2SIG "\x21\x00\x00\x00"), 16, PROXY_CMD_UNKNOWN, NULL, NULL },
	{ "v2 unix", S(V2SIG "\x21\x31\x00\x04" "abcd"), 20, PROXY_CMD_UNKNOWN, NULL, NULL },
	/* errors */
	{ "smtp instead", S("EHLO client\r\n"), 0, -1, NULL, NULL },
	{ "tls instead", S("\x16\x03\x01\x02\x00"), 0, -1, NULL, NULL },
	{ "lower case", S("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 bare lf", S("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n"), 0, -1, NULL, NULL },
	{ "v1 too long", S("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), 0, -1, NULL, NULL },
	{ "v1 no crlf in 107", S("PROXY TCP4 1.2.3.4 1.2.3.4 1 2                                     "
	    "                                                            "), 0, -1, NULL, NULL },
	{ "v1 tcp4 with v6", S("PROXY TCP4 ::1 ::1 1 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 tcp6 with v4", S("PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 port too big", S("PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 port leading zero", S("PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 port sign", S("PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 two spaces", S("PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 too few fields", S("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n"), 0, -1, NULL, NULL },
	{ "v1 too many fields", S("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n"), 0, -1, NULL, NULL },
	{ "v1 trailing space", S("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n"), 0, -1, NULL, NULL },
	{ "v1 udp", S("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 nul", S("PROXY TCP4 1.2.3.4\0 1.2.3.4 1 2\r\n"), 0, -1, NULL, NULL },
	{ "v1 octal-looking address", S("PROXY TCP4 01.2.3.4 1.2.3.4 1 2\r\n"), 0, -1, NULL, NULL },
	{ "v2 bad signature", S("\r\n\r\n\0\r\nQUIZ\n\x21\x11\x00\x0c"), 0, -1, NULL, NULL },
	{ "v2 version 1", S(V2SIG "\x11\x11\x00\x0c" "\x7f\0\0\1\x7f\0\0\1\0\1\0\2"), 0, -1, NULL, NULL },
	{ "v2 command 2", S(V2SIG "\x22\x11\x00\x0c" "\x7f\0\0\1\x7f\0\0\1\0\1\0\2"), 0, -1, NULL, NULL },
	{ "v2 dgram", S(V2SIG "\x21\x12\x00\x0c" "\x7f\0\0\1\x7f\0\0\1\0\1\0\2"), 0, -1, NULL, NULL },
	{ "v2 family 4", S(V2SIG "\x21\x41\x00\x0c" "\x7f\0\0\1\x7f\0\0\1\0\1\0\2"), 0, -1, NULL, NULL },
	{ "v2 inet short", S(V2SIG "\x21\x11\x00\x0b" "\x7f\0\0\1\x7f\0\0\1\0\1\0"), 0, -1, NULL, NULL },
	{ "v2 inet6 short", S(V2SIG "\x21\x21\x00\x0c" "\x7f\0\0\1\x7f\0\0\1\0\1\0\2"), 0, -1, NULL, NULL },
	{ "v2 oversized", S(V2SIG "\x21\x11\x10\x01"), 0, -1, NULL, NULL },
};

static void
check_addr(const struct sockaddr_storage *ss, const char *want)
{
	char host[INET6_ADDRSTRLEN], got[INET6_ADDRSTRLEN + 8];
	unsigned port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		assert_int_equal(ss->ss_family, AF_INET6);
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(got, sizeof(got), "%s %u", host, port);
	assert_string_equal(got, want);
}

/*
 * Feed c's bytes in pieces of at most step (0: split once at split),
 * never more than proxy_want() allows, as proxy_wait.c peeks. Returns
 * the final status; *taken counts the bytes the parser used.
 */
static int
run(const struct hcase *c, size_t split, size_t step, size_t *taken, struct proxy_result *res)
{
	struct proxy_parser p;
	const char *why = NULL;
	size_t off = 0;

	proxy_init(&p);
	memset(res, 0, sizeof(*res));
	while (off < c->len) {
		size_t n = step ? step : (off < split ? split - off : c->len - off), used = 99999;
		int st;

		if (n > c->len - off)
			n = c->len - off;
		if (n > proxy_want(&p))
			n = proxy_want(&p);
		assert_true(n > 0);
		st = proxy_feed(&p, c->bytes + off, n, &used, res, &why);
		if (st == PROXY_ERROR) {
			assert_non_null(why);
			*taken = off;
			return st;
		}
		assert_true(used <= n);
		off += used;
		if (st == PROXY_DONE) {
			*taken = off;
			return st;
		}
		assert_int_equal(used, n);
	}
	*taken = off;
	return PROXY_MORE;
}

static void
check_case(const struct hcase *c, int st, size_t taken, const struct proxy_result *res)
{
	if (c->command < 0) {
		if (st != PROXY_ERROR)
			fail_msg("%s: status %d, want an error", c->name, st);
		return;
	}
	if (st != PROXY_DONE)
		fail_msg("%s: status %d, want done", c->name, st);
	assert_int_equal(taken, c->hlen);
	assert_int_equal(res->command, c->command);
	assert_int_equal(res->version, c->bytes[0] == 'P' ? 1 : 2);
	if (c->src) {
		check_addr(&res->src, c->src);
		check_addr(&res->dst, c->dst);
	}
}

static void
test_whole(void **state)
{
	struct proxy_result res;
	size_t i, taken;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		{
		int st = run(&cases[i], cases[i].len, 0, &taken, &res);
		check_case(&cases[i], st, taken, &res);
	}
}

static void
test_split_every_byte(void **state)
{
	struct proxy_result res;
	size_t i, split, taken;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (split = 1; split < cases[i].len; split++) {
			int st = run(&cases[i], split, 0, &taken, &res);
			check_case(&cases[i], st, taken, &res);
		}
}

static void
test_byte_by_byte(void **state)
{
	struct proxy_result res;
	size_t i, taken;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int st = run(&cases[i], 0, 1, &taken, &res);
		check_case(&cases[i], st, taken, &res);
	}
}

static void
test_truncated_needs_more(void **state)
{
	struct proxy_parser p;
	struct proxy_result res;
	const char *why = NULL;
	size_t i, used;

	(void)state;
	/* Every proper prefix of a good header is incomplete, never done or wrong. */
	for (i = 0; i < 5; i++) {
		size_t cut;
		for (cut = 1; cut < cases[i].hlen; cut++) {
			proxy_init(&p);
			assert_int_equal(proxy_feed(&p, cases[i].bytes, cut, &used, &res, &why), PROXY_MORE);
			assert_int_equal(used, cut);
		}
	}
}

static void
test_v2_largest_tlvs(void **state)
{
	static unsigned char h[PROXY_V2_HDR + PROXY_V2_LEN_MAX + 4];
	struct proxy_parser p;
	struct proxy_result res;
	const char *why = NULL;
	size_t used;

	(void)state;
	memcpy(h, V2SIG "\x21\x11", 14);
	h[14] = PROXY_V2_LEN_MAX >> 8;
	h[15] = PROXY_V2_LEN_MAX & 0xff;
	memcpy(h + 16, "\x0a\0\0\x09\x0a\0\0\x01\x01\x00\x00\x19", 12);
	memset(h + 28, 'T', sizeof(h) - 28);
	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, h, sizeof(h), &used, &res, &why), PROXY_DONE);
	assert_int_equal(used, PROXY_V2_HDR + PROXY_V2_LEN_MAX);
	check_addr(&res.src, "10.0.0.9 256");
	/* One byte more is oversized. */
	h[15]++;
	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, h, sizeof(h), &used, &res, &why), PROXY_ERROR);
	assert_string_equal(why, "v2 header oversized");
}

static void
set_addr(struct sockaddr_storage *ss, const char *a)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)ss)->sin6_addr), 1);
		ss->ss_family = AF_INET6;
	}
}

static void
test_nets(void **state)
{
	static const struct { const char *addr; int want; } probes[] = {
		{ "127.0.0.1", 1 }, { "127.0.0.2", 0 }, { "10.200.3.4", 1 }, { "11.0.0.1", 0 },
		{ "::ffff:127.0.0.1", 1 }, { "::ffff:127.0.0.2", 0 }, { "::1", 1 }, { "::2", 0 },
		{ "2001:db8:1:ffff::5", 1 }, { "2001:db8:2::5", 0 }, { "192.168.1.129", 1 },
		{ "192.168.1.127", 0 },
	};
	struct sockaddr_storage ss;
	proxy_nets *n;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(proxy_nets_parse("127.0.0.1/32, 10.0.0.0/8,::1, 2001:db8:1::/48,"
	    "192.168.1.200/25", &n, err, sizeof(err)), 0);
	assert_non_null(n);
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		set_addr(&ss, probes[i].addr);
		if (proxy_nets_match(n, &ss) != probes[i].want)
			fail_msg("%s: want %d", probes[i].addr, probes[i].want);
	}
	proxy_nets_free(n);

	assert_int_equal(proxy_nets_parse("no", &n, err, sizeof(err)), 0);
	assert_null(n);
	assert_int_equal(proxy_nets_parse("", &n, err, sizeof(err)), 0);
	assert_null(n);
	assert_int_equal(proxy_nets_parse("0.0.0.0/0", &n, err, sizeof(err)), 0);
	set_addr(&ss, "203.0.113.9");
	assert_int_equal(proxy_nets_match(n, &ss), 1);
	set_addr(&ss, "2001:db8::1");
	assert_int_equal(proxy_nets_match(n, &ss), 0);
	proxy_nets_free(n);
}

static void
test_nets_errors(void **state)
{
	static const char *const bad[] = {
		"yes", "127.0.0.1/33", "::1/129", "127.0.0.1/", "/8", "127.0.0.1/-1", "127.0.0.1/8x",
		"localhost", "127.0.0.1, nope", "1.2.3.4/0008", ",",
	};
	proxy_nets *n = (proxy_nets *)&n;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (proxy_nets_parse(bad[i], &n, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_null(n);
		assert_non_null(strstr(err, "smtpd_proxy_protocol"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_truncated_needs_more),
		cmocka_unit_test(test_v2_largest_tlvs),
		cmocka_unit_test(test_nets),
		cmocka_unit_test(test_nets_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
