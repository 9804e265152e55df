/* test_addr.c - table-driven tests of lib/addr.c: address lists, SMTP paths, RFC 2047 and IDN. */
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

#define MAXBOX 8

struct want_mb {
	const char *local;	/* NULL ends the list */
	const char *domain;
	const char *display;
	int quoted;
};

struct list_case {
	const char *in;
	int allow_empty;
	const char *reason;	/* NULL: the list parses to mb[] */
	struct want_mb mb[MAXBOX];
};

#define OK(in, ...)	{ in, 0, NULL, { __VA_ARGS__ } }
#define OK_EMPTY(in)	{ in, 1, NULL, { { NULL, NULL, NULL, 0 } } }
#define BAD(in, r)	{ in, 0, r, { { NULL, NULL, NULL, 0 } } }
#define MB(l, d, disp)	{ l, d, disp, 0 }
#define MBQ(l, d, disp)	{ l, d, disp, 1 }

static const struct list_case list_cases[] = {
	/* plain forms, RFC 5322 §3.4 */
	OK("alice@example.com", MB("alice", "example.com", "")),
	OK("Alice <alice@example.com>", MB("alice", "example.com", "Alice")),
	OK("<alice@example.com>", MB("alice", "example.com", "")),
	OK("\"Smith, John\" <john@example.com>", MB("john", "example.com", "Smith, John")),
	OK("John Q. Public <jqp@example.com>", MB("jqp", "example.com", "John Q. Public")),
	OK("\"Joe \\\"J\\\" D\" <joe@x.org>", MB("joe", "x.org", "Joe \"J\" D")),
	OK("a+tag@sub.example.co.uk", MB("a+tag", "sub.example.co.uk", "")),
	OK("!#$%&'*+-/=?^_`{|}~@example.com", MB("!#$%&'*+-/=?^_`{|}~", "example.com", "")),
	OK("A@EXAMPLE.COM", MB("A", "EXAMPLE.COM", "")),
	OK("a@localhost", MB("a", "localhost", "")),
	OK("ab--c@ab--c.example", MB("ab--c", "ab--c.example", "")),
	OK("a@xn--bcher-kva.example", MB("a", "xn--bcher-kva.example", "")),
	OK("  a@x.org  ", MB("a", "x.org", "")),
	/* several addresses, reported one by one */
	OK("a@x.org, b@y.org", MB("a", "x.org", ""), MB("b", "y.org", "")),
	OK("Alice <a@example.com> (work), Bob <b@example.com>",
	    MB("a", "example.com", "Alice"), MB("b", "example.com", "Bob")),
	OK("a@x.org,b@y.org,c@z.org", MB("a", "x.org", ""), MB("b", "y.org", ""), MB("c", "z.org", "")),
	/* obs-addr-list empty elements (RFC 5322 §4.4) */
	OK("a@x.org,,b@y.org", MB("a", "x.org", ""), MB("b", "y.org", "")),
	OK(",a@x.org,", MB("a", "x.org", "")),
	OK(" , , a@x.org , ", MB("a", "x.org", "")),
	/* groups */
	OK("Friends: a@x.org, b@y.org;", MB("a", "x.org", ""), MB("b", "y.org", "")),
	OK("Friends: a@x.org;, c@z.org", MB("a", "x.org", ""), MB("c", "z.org", "")),
	OK("Group:;, d@w.org", MB("d", "w.org", "")),
	OK("a@x.org, Team: Bob <b@y.org>, c@z.org; (end), d@w.org",
	    MB("a", "x.org", ""), MB("b", "y.org", "Bob"), MB("c", "z.org", ""), MB("d", "w.org", "")),
	OK("\"The Team\": ,a@x.org,,;", MB("a", "x.org", "")),
	OK_EMPTY("undisclosed-recipients:;"),
	OK_EMPTY(""),
	OK_EMPTY("   "),
	OK_EMPTY(" , ,"),
	/* quoted local parts: the "@" and "<...>" inside belong to the local part */
	OK("\"a@b <c@d>\"@example.com", MBQ("a@b <c@d>", "example.com", "")),
	OK("\"a\\\"b\"@example.com", MBQ("a\"b", "example.com", "")),
	OK("\"john smith\"@example.com", MBQ("john smith", "example.com", "")),
	OK("\"\"@example.com", MBQ("", "example.com", "")),
	OK("\"a\".\"b\"@x.org", MBQ("a.b", "x.org", "")),
	OK("\"a@b\" <c@d.org>", MB("c", "d.org", "a@b")),
	OK("Name <\"x y\"@d.org>", MBQ("x y", "d.org", "Name")),
	/* domain literals */
	OK("a@[1.2.3.4]", MB("a", "[1.2.3.4]", "")),
	OK("a@[IPv6:2001:db8::1]", MB("a", "[IPv6:2001:db8::1]", "")),
	OK("a@[ipv6:::1]", MB("a", "[ipv6:::1]", "")),
	OK("<a@[ 10.0.0.1 ]>", MB("a", "[10.0.0.1]", "")),
	/* RFC 6532 UTF-8 and IDN */
	OK("jörg@bücher.example", MB("jörg", "bücher.example", "")),
	OK("Jörg <jörg@bücher.example>", MB("jörg", "bücher.example", "Jörg")),
	OK("用户@例子.广告", MB("用户", "例子.广告", "")),
	OK("a@faß.de", MB("a", "faß.de", "")),
	OK("a@😀.ws", MB("a", "😀.ws", "")),
	OK("a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaü.de",	/* A-label: 63 octets */
	    MB("a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaü.de", "")),
	OK("a@例例例例例例例例例例例例例例例例例例例例.example",
	    MB("a", "例例例例例例例例例例例例例例例例例例例例.example", "")),
	/* comments anywhere CFWS goes, nested, with quoted-pairs */
	OK("(comment) a@example.com (another)", MB("a", "example.com", "")),
	OK("a(c)@(c)example.com", MB("a", "example.com", "")),
	OK("Alice (nested (comment) here) <a@x.org>", MB("a", "x.org", "Alice")),
	OK("(with \\) escaped) a@x.org", MB("a", "x.org", "")),
	OK("MAILER-DAEMON@example.com (Mail Delivery System)", MB("MAILER-DAEMON", "example.com", "")),
	OK("<a@x.org> (a (b (c)))", MB("a", "x.org", "")),
	/* obsolete whitespace around dots (RFC 5322 §4.4 obs-local-part, obs-domain) */
	OK("a . b @ example . com", MB("a.b", "example.com", "")),
	OK("John . Smith@x.org", MB("John.Smith", "x.org", "")),
	/* obs-route, ignored */
	OK("<@a.example,@b.example:user@c.example>", MB("user", "c.example", "")),
	OK("Bob <@a.example:b@c.example>", MB("b", "c.example", "Bob")),
	/* folding */
	OK("Alice\r\n <a@example.com>", MB("a", "example.com", "Alice")),
	OK("a@example.com,\n\tb@example.org", MB("a", "example.com", ""), MB("b", "example.org", "")),
	OK("\"folded\r\n name\" <a@x.org>", MB("a", "x.org", "folded name")),
	OK("a@x.org\r\n", MB("a", "x.org", "")),
	/* RFC 2047 display names: the decoded text is never the address */
	OK("=?utf-8?B?ZXZpbEBleGFtcGxlLmNvbQ==?= <real@example.org>",
	    MB("real", "example.org", "evil@example.com")),
	OK("\"=?utf-8?B?ZXZpbEBleGFtcGxlLmNvbQ==?=\" <real@example.org>",
	    MB("real", "example.org", "evil@example.com")),
	OK("=?iso-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
	    MB("PIRARD", "vm1.ulg.ac.be", "André Pirard")),
	OK("=?utf-8?q?J=C3=B6rg?= =?utf-8?q?_M=C3=BCller?= <j@x.de>", MB("j", "x.de", "Jörg Müller")),
	OK("=?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?= <k@x.de>", MB("k", "x.de", "Grüße aus Köln")),
	OK("=?utf-8?q?line=0Abreak?= <a@x.org>", MB("a", "x.org", "line break")),

	/* local part errors */
	BAD("a.@example.com", "Local address ends with dot"),
	BAD(".a@example.com", "Local address starts with dot"),
	BAD("a..b@example.com", "Local address contains consecutive dots"),
	BAD("<a.@x.org>", "Local address ends with dot"),
	BAD("a . . b@x.org", "Local address contains consecutive dots"),
	BAD("@example.com", "Missing local part"),
	BAD("<@a.example>", "Missing local part"),
	BAD("a b@example.com", "Invalid character in local part"),
	BAD("\"a\"b@example.com", "Invalid character in local part"),
	/* domain errors */
	BAD("a@", "Missing domain"),
	BAD("Alice <a@>", "Missing domain"),
	BAD("a@example.com.", "Domain ends with dot"),
	BAD("a@.example.com", "Domain starts with dot"),
	BAD("a@example..com", "Domain contains consecutive dots"),
	BAD("a@exa_mple.com", "Invalid character in domain"),
	BAD("a@exa!mple.com", "Invalid character in domain"),
	BAD("a@-example.com", "Invalid domain label"),
	BAD("a@example-.com", "Invalid domain label"),
	BAD("a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	    "Invalid domain label"),
	BAD("a@ü-.de", "Invalid domain label"),
	BAD("a@üü--x.de", "Invalid domain label"),
	BAD("a@exam\xc2\xa0ple.com", "Invalid domain label"),
	/* U-labels: the 63-octet limit applies to the A-label (RFC 5890 §2.3.2.1) */
	BAD("a@üüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüüü.de",
	    "Invalid domain label"),
	BAD("a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaü.de", "Invalid domain label"),	/* A-label: 64 octets */
	BAD("a@[1.2.3]", "Invalid domain literal"),
	BAD("a@[1.2.3.256]", "Invalid domain literal"),
	BAD("a@[IPv6:zz::1]", "Invalid domain literal"),
	BAD("a@[foo:bar]", "Invalid domain literal"),
	BAD("a@[1.2.3.4", "Unterminated domain literal"),
	/* unterminated things */
	BAD("\"abc@example.com", "Unterminated quoted string"),
	BAD("(abc a@example.com", "Unterminated comment"),
	BAD("a@example.com, (", "Unterminated comment"),
	BAD("Alice <a@example.com", "Unterminated angle address"),
	BAD("Alice <a@x.org, b@y.org>", "Unterminated angle address"),
	BAD("Group: a@x.org", "Unterminated group"),
	/* structure */
	BAD("alice", "Missing @ in address"),
	BAD("Alice Smith", "Missing @ in address"),
	BAD("Alice <a>", "Missing @ in address"),
	BAD("a@x.org, bob", "Missing @ in address"),
	BAD("a@example.com b@example.com", "Unexpected character after address"),
	BAD("<a@x.org> junk", "Unexpected character after address"),
	BAD("<a@x.org b>", "Unexpected character after address"),
	BAD("a@x.org;", "Unexpected character after address"),
	BAD("a@x.org>", "Unexpected character after address"),
	BAD("evil@example.com <real@example.org>", "Unexpected character after address"),
	BAD("<>", "Empty angle address"),
	BAD("Alice <>", "Empty angle address"),
	BAD("<@a.example b@c.example>", "Invalid source route"),
	BAD("G1: G2: a@x.org;;", "Nested group"),
	BAD(": a@x.org;", "Missing group name"),
	BAD("a@x.org, )", "Invalid character in address"),
	BAD("a\\b@x.org", "Invalid character in address"),
	BAD("[1.2.3.4]", "Invalid character in address"),
	/* encoded-words where an addr-spec belongs (RFC 2047 §5) */
	BAD("=?utf-8?q?a=40b.com?=", "Encoded word in address"),
	BAD("=?utf-8?q?a?=@example.com", "Encoded word in address"),
	BAD("<=?utf-8?q?a?=@example.com>", "Encoded word in address"),
	/* characters and encodings */
	BAD("\xff@x.org", "Invalid UTF-8"),
	BAD("a\xc3@x.org", "Invalid UTF-8"),
	BAD("\xc0\xaf@x.org", "Invalid UTF-8"),
	BAD("a@x.org (\xed\xa0\x80)", "Invalid UTF-8"),
	BAD("\"a\x01\"@x.org", "Invalid character in quoted string"),
	BAD("\"a\\\x7f\"@x.org", "Invalid character in quoted string"),
	BAD("a@x.org\r\nb@y.org", "Invalid line break"),
	BAD("a@x.org\rb", "Invalid line break"),
	BAD("Alice\n<a@x.org>", "Invalid line break"),
	/* empty lists when they are not allowed */
	BAD("", "Empty address list"),
	BAD("undisclosed-recipients:;", "Empty address list"),
	BAD(" (just a comment) ", "Empty address list"),
};

struct got {
	int n;
	addr_mailbox mb[MAXBOX];
};

static int
collect(void *ctx, const addr_mailbox *mb)
{
	struct got *g = ctx;

	assert_true(g->n < MAXBOX);
	g->mb[g->n++] = *mb;
	return 0;
}

static void
test_list_table(void **state)
{
	const struct list_case *c;
	struct got g;
	const char *reason;
	size_t i;
	int rc, k, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		c = &list_cases[i];
		memset(&g, 0, sizeof(g));
		reason = NULL;
		rc = addr_parse_list(c->in, strlen(c->in), c->allow_empty, collect, &g, &reason);
		if (c->reason != NULL) {
			if (rc != -1 || reason == NULL || strcmp(reason, c->reason) != 0) {
				print_error("list %zu %s: got rc=%d reason=%s, want %s\n",
				    i, c->in, rc, reason ? reason : "(null)", c->reason);
				bad++;
			} else if (g.n != 0) {
				print_error("list %zu %s: callback ran on a bad list\n", i, c->in);
				bad++;
			}
			continue;
		}
		if (rc != 0) {
			print_error("list %zu %s: got rc=%d reason=%s, want success\n",
			    i, c->in, rc, reason ? reason : "(null)");
			bad++;
			continue;
		}
		for (k = 0; k < MAXBOX && c->mb[k].local != NULL; k++) {
			if (k >= g.n || strcmp(g.mb[k].local, c->mb[k].local) != 0 ||
			    strcmp(g.mb[k].domain, c->mb[k].domain) != 0 ||
			    strcmp(g.mb[k].display, c->mb[k].display) != 0 ||
			    g.mb[k].local_quoted != c->mb[k].quoted) {
				print_error("list %zu %s: mailbox %d got [%s][%s][%s][%d], want [%s][%s][%s][%d]\n",
				    i, c->in, k, k < g.n ? g.mb[k].local : "-", k < g.n ? g.mb[k].domain : "-",
				    k < g.n ? g.mb[k].display : "-", k < g.n ? g.mb[k].local_quoted : -1,
				    c->mb[k].local, c->mb[k].domain, c->mb[k].display, c->mb[k].quoted);
				bad++;
				break;
			}
		}
		if (g.n != k) {
			print_error("list %zu %s: got %d mailboxes, want %d\n", i, c->in, g.n, k);
			bad++;
		}
	}
	print_message("%zu address-list cases\n", sizeof(list_cases) / sizeof(list_cases[0]));
	assert_int_equal(bad, 0);
}

struct path_case {
	const char *in;
	int allow_null;
	int utf8;
	const char *reason;	/* NULL: parses */
	const char *local;	/* NULL with no reason: the null path */
	const char *domain;
	int consumed;
	int quoted;
};

#define P_OK(in, l, d, n)	{ in, 0, 0, NULL, l, d, n, 0 }
#define P_OKQ(in, l, d, n)	{ in, 0, 0, NULL, l, d, n, 1 }
#define P_OK8(in, l, d, n)	{ in, 0, 1, NULL, l, d, n, 0 }
#define P_BAD(in, r)		{ in, 0, 0, r, NULL, NULL, -1, 0 }
#define P_BAD8(in, r)		{ in, 0, 1, r, NULL, NULL, -1, 0 }

static const struct path_case path_cases[] = {
	P_OK("<alice@example.com>", "alice", "example.com", 19),
	P_OK("<alice@example.com> SIZE=100 BODY=8BITMIME", "alice", "example.com", 19),
	P_OK("<A@EXAMPLE.COM>", "A", "EXAMPLE.COM", 15),
	P_OK(" <a@x.com>", "a", "x.com", 10),
	P_OK("<a@x.com>>", "a", "x.com", 9),
	P_OK("<@a.example,@b.example:user@c.example>", "user", "c.example", 38),
	P_OK("<@a.example:b@c.example>", "b", "c.example", 24),
	P_OKQ("<\"a b\"@x.com>", "a b", "x.com", 13),
	P_OKQ("<\"a\\\"b\"@x.com>", "a\"b", "x.com", 14),
	P_OKQ("<\"a@b\"@x.com>", "a@b", "x.com", 13),
	P_OKQ("<\"\"@x.com>", "", "x.com", 10),
	P_OK("<a@[1.2.3.4]>", "a", "[1.2.3.4]", 13),
	P_OK("<a@[IPv6:::1]>", "a", "[IPv6:::1]", 14),
	P_OK("<a+b=c@x-y.example>", "a+b=c", "x-y.example", 19),
	P_OK("<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.com>",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x.com", 72),
	P_OK8("<jörg@bücher.example>", "jörg", "bücher.example", 23),
	P_OK8("<用户@例子.广告>", "用户", "例子.广告", 22),
	{ "<\"jö rg\"@x.de>", 0, 1, NULL, "jö rg", "x.de", 15, 1 },
	{ "<>", 1, 0, NULL, NULL, NULL, 2, 0 },
	{ "<> SIZE=10", 1, 0, NULL, NULL, NULL, 2, 0 },
	P_BAD("<>", "Empty angle address"),
	P_BAD("alice@example.com", "Missing angle bracket"),
	P_BAD("", "Missing angle bracket"),
	P_BAD("<alice@example.com", "Unterminated angle address"),
	P_BAD("<alice", "Unterminated angle address"),
	P_BAD("<a.@x.com>", "Local address ends with dot"),
	P_BAD("<.a@x.com>", "Local address starts with dot"),
	P_BAD("<a..b@x.com>", "Local address contains consecutive dots"),
	P_BAD("<a@x.com.>", "Domain ends with dot"),
	P_BAD("<a@.x.com>", "Domain starts with dot"),
	P_BAD("<a@x..com>", "Domain contains consecutive dots"),
	P_BAD("<a@x_y.com>", "Invalid character in domain"),
	P_BAD("<a@x .com>", "Invalid character in domain"),
	P_BAD("<a@-x.com>", "Invalid domain label"),
	P_BAD("<a b@x.com>", "Invalid character in local part"),
	P_BAD("< a@x.com>", "Invalid character in local part"),
	P_BAD("<a(b)@x.com>", "Invalid character in local part"),
	P_BAD("<\"a\x01\"@x.com>", "Invalid character in local part"),
	P_BAD("<jörg@bücher.example>", "Invalid character in local part"),
	P_BAD("<joerg@bücher.example>", "Invalid character in domain"),
	P_BAD("<\"jö\"@x.de>", "Invalid character in local part"),
	P_BAD8("<a\xff@x.com>", "Invalid UTF-8"),
	P_BAD8("<a@x\xc3.com>", "Invalid UTF-8"),
	P_BAD("<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.com>",
	    "Local part too long"),
	P_BAD("<a>", "Missing @ in address"),
	P_BAD("<@x.com>", "Missing local part"),
	P_BAD("<@x.com:@y.com>", "Missing local part"),
	P_BAD("<a@>", "Missing domain"),
	P_BAD("<\"abc@x.com>", "Unterminated quoted string"),
	P_BAD("<a@[1.2.3.4>", "Unterminated domain literal"),
	P_BAD("<a@[300.1.1.1]>", "Invalid domain literal"),
	P_BAD("<a@[IPv6:1.2.3.4]>", "Invalid domain literal"),
	P_BAD("<@a.example;b@c.example>", "Invalid character in domain"),
	P_BAD("<@a.example,b@c.example>", "Invalid source route"),
};

static void
test_path_table(void **state)
{
	const struct path_case *c;
	addr_mailbox mb;
	const char *reason;
	size_t i;
	int rc, is_null, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		c = &path_cases[i];
		reason = NULL;
		is_null = -1;
		rc = addr_parse_path(c->in, strlen(c->in), c->allow_null, c->utf8, &mb, &is_null, &reason);
		if (c->reason != NULL) {
			if (rc != -1 || reason == NULL || strcmp(reason, c->reason) != 0) {
				print_error("path %zu %s: got rc=%d reason=%s, want %s\n",
				    i, c->in, rc, reason ? reason : "(null)", c->reason);
				bad++;
			}
			continue;
		}
		if (rc != c->consumed || is_null != (c->local == NULL) ||
		    (c->local != NULL && (strcmp(mb.local, c->local) != 0 ||
		    strcmp(mb.domain, c->domain) != 0 || mb.local_quoted != c->quoted)) ||
		    mb.display[0] != '\0') {
			print_error("path %zu %s: got rc=%d null=%d [%s][%s][%d] reason=%s, want %d [%s][%s]\n",
			    i, c->in, rc, is_null, mb.local, mb.domain, mb.local_quoted,
			    rc == -1 && reason ? reason : "", c->consumed,
			    c->local ? c->local : "<>", c->domain ? c->domain : "");
			bad++;
		}
	}
	print_message("%zu path cases\n", sizeof(path_cases) / sizeof(path_cases[0]));
	assert_int_equal(bad, 0);
}

struct dec_case {
	const char *in;
	size_t outsize;
	const char *want;
};

static const struct dec_case dec_cases[] = {
	{ "=?utf-8?q?caf=C3=A9?=", 256, "café" },
	{ "=?UTF-8?B?w6k=?=", 256, "é" },
	{ "=?utf-8?B?w6k?=", 256, "é" },
	{ "=?iso-8859-1?q?caf=E9?=", 256, "café" },
	{ "=?ISO-8859-1?Q?a?=", 256, "a" },
	{ "=?us-ascii?q?plain?=", 256, "plain" },
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", 256, "ab" },
	{ "=?utf-8?q?a?=\r\n =?utf-8?q?b?=", 256, "ab" },
	{ "=?utf-8?q?a?= b", 256, "a b" },
	{ "a =?utf-8?q?b?=", 256, "a b" },
	{ "=?utf-8?q?a_b?=", 256, "a b" },
	{ "=?utf-8*en?q?hi?=", 256, "hi" },
	{ "=?koi8-r?b?8NLJ18XU?=", 256, "Привет" },
	{ "=?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=", 256, "テスト" },
	{ "=?windows-1252?q?=80?=", 256, "€" },
	{ "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", 256, "éé" },
	{ "=?utf-8?q?=C3?= =?utf-8?q?=A9?=", 256, "é" },
	/* malformed or unknown words stay as written (RFC 2047 §6.3) */
	{ "=?utf-8?x?abc?=", 256, "=?utf-8?x?abc?=" },
	{ "=?utf-8?q?abc", 256, "=?utf-8?q?abc" },
	{ "=?utf-8?b?!!!?=", 256, "=?utf-8?b?!!!?=" },
	{ "=?utf-8?b?QQ=A?=", 256, "=?utf-8?b?QQ=A?=" },
	{ "=?utf-8?q?=zz?=", 256, "=?utf-8?q?=zz?=" },
	{ "=?utf-8?q?\?=", 256, "=?utf-8?q?\?=" },
	{ "=?x-unknown?q?abc?=", 256, "=?x-unknown?q?abc?=" },
	{ "=?utf-8//TRANSLIT?q?abc?=", 256, "=?utf-8//TRANSLIT?q?abc?=" },
	{ "=?utf-8?q?a?= =?bogus?q?b?=", 256, "a =?bogus?q?b?=" },
	{ "=?utf-8?q?a b?=", 256, "=?utf-8?q?a b?=" },
	/* at most four charsets go to iconv per call; UTF-8 and Latin-1 are free */
	{ "=?koi8-r?q?a?= =?cp1252?q?b?= =?koi8-r?q?c?= =?iso-8859-2?q?d?= "
	  "=?x-nope?q?e?= =?iso-8859-15?q?f?= =?utf-8?q?g?= =?latin1?q?h?=", 256,
	  "abcd =?x-nope?q?e?= =?iso-8859-15?q?f?= gh" },
	/* unfolding, bounds and UTF-8 hygiene */
	{ "Subject\r\n continues", 256, "Subject continues" },
	{ "Subject\n\tcontinues\r\n", 256, "Subject\tcontinues" },
	{ "=?utf-8?q?=C3=A9=C3=A9?=", 4, "é" },
	{ "=?utf-8?q?=C3=A9=C3=A9?=", 5, "éé" },
	{ "abcdef", 4, "abc" },
	{ "abc", 1, "" },
	{ "bad \xff byte", 256, "bad ? byte" },
	{ "=?utf-8?q?a=00b?=", 256, "a?b" },
	{ "=?utf-8?q?=E9?=", 256, "?" },
	{ "", 256, "" },
	{ "no words at all", 256, "no words at all" },
};

static void
test_decode_table(void **state)
{
	const struct dec_case *c;
	char out[256];
	size_t i, n;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		c = &dec_cases[i];
		memset(out, 'X', sizeof(out));
		n = addr_decode_2047(c->in, strlen(c->in), out, c->outsize);
		if (strcmp(out, c->want) != 0 || n != strlen(out)) {
			print_error("2047 %zu %s: got [%s] (%zu), want [%s]\n", i, c->in, out, n, c->want);
			bad++;
		}
	}
	/* outsize 0 writes nothing */
	out[0] = 'X';
	assert_int_equal(addr_decode_2047("abc", 3, out, 0), 0);
	assert_int_equal(out[0], 'X');
	print_message("%zu RFC 2047 cases\n", sizeof(dec_cases) / sizeof(dec_cases[0]));
	assert_int_equal(bad, 0);
}

struct idn_case {
	const char *in;
	size_t outsize;
	const char *want;	/* NULL: -1 */
};

static const struct idn_case idn_cases[] = {
	{ "Bücher.Example", 256, "xn--bcher-kva.example" },
	{ "EXAMPLE.COM", 256, "example.com" },
	{ "ab--c.com", 256, "ab--c.com" },
	{ "faß.de", 256, "xn--fa-hia.de" },
	{ "😀.ws", 256, "xn--e28h.ws" },
	{ "例子.广告", 256, "xn--fsqu00a.xn--4rr70v" },
	{ "[1.2.3.4]", 256, "[1.2.3.4]" },
	{ "[IPv6:2001:DB8::1]", 256, "[ipv6:2001:db8::1]" },
	{ "example.com", 12, "example.com" },
	{ "example.com", 11, NULL },
	{ "", 256, NULL },
	{ "a..b", 256, NULL },
	{ "-a.com", 256, NULL },
	{ "a_b.com", 256, NULL },
	{ "[1.2.3]", 256, NULL },
	{ "bad\xff.com", 256, NULL },
};

static void
test_idn_table(void **state)
{
	const struct idn_case *c;
	char out[256];
	size_t i;
	int rc, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(idn_cases) / sizeof(idn_cases[0]); i++) {
		c = &idn_cases[i];
		memset(out, 'X', sizeof(out));
		rc = addr_domain_to_ascii(c->in, out, c->outsize);
		if ((c->want == NULL && (rc != -1 || out[0] != '\0')) ||
		    (c->want != NULL && (rc != 0 || strcmp(out, c->want) != 0))) {
			print_error("idn %zu %s: got %d [%.*s], want [%s]\n", i, c->in, rc,
			    (int)strnlen(out, sizeof(out)), out, c->want ? c->want : "-1");
			bad++;
		}
	}
	print_message("%zu IDN cases\n", sizeof(idn_cases) / sizeof(idn_cases[0]));
	assert_int_equal(bad, 0);
}

static int
stop_at_second(void *ctx, const addr_mailbox *mb)
{
	int *n = ctx;

	(void)mb;
	return ++*n == 2 ? 42 : 0;
}

static void
test_callback_stop(void **state)
{
	const char *in = "a@x.org, b@y.org, c@z.org";
	const char *reason = "untouched";
	int n = 0;

	(void)state;
	assert_int_equal(addr_parse_list(in, strlen(in), 0, stop_at_second, &n, &reason), 42);
	assert_int_equal(n, 2);
	assert_string_equal(reason, "untouched");
	/* no callback: a plain syntax check */
	assert_int_equal(addr_parse_list(in, strlen(in), 0, NULL, NULL, NULL), 0);
	assert_int_equal(addr_parse_list("a@", 2, 0, NULL, NULL, NULL), -1);
}

static char *
repeat_list(const char *item, int n)
{
	size_t il = strlen(item);
	char *s = malloc(il * (size_t)n + 1);
	int i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + il * (size_t)i, item, il);
	s[il * (size_t)n] = '\0';
	return s;
}

static void
test_bounds(void **state)
{
	struct got g;
	const char *reason;
	char *s, buf[600];
	int n;

	(void)state;
	/* ADDR_MAX_MAILBOXES mailboxes pass, one more does not */
	s = repeat_list("a@x.org,", ADDR_MAX_MAILBOXES);
	assert_int_equal(addr_parse_list(s, strlen(s), 0, NULL, NULL, &reason), 0);
	free(s);
	s = repeat_list("a@x.org,", ADDR_MAX_MAILBOXES + 1);
	n = 0;
	assert_int_equal(addr_parse_list(s, strlen(s), 0, stop_at_second, &n, &reason), -1);
	assert_string_equal(reason, "Too many addresses");
	assert_int_equal(n, 0);	/* nothing reported from a refused list */
	free(s);
	/* group members count too */
	s = repeat_list("G: a@x.org;,", ADDR_MAX_MAILBOXES + 1);
	assert_int_equal(addr_parse_list(s, strlen(s), 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Too many addresses");
	free(s);

	/* ADDR_MAX_INPUT */
	s = repeat_list(" ", ADDR_MAX_INPUT + 1);
	memcpy(s, "a@x.org", 7);
	assert_int_equal(addr_parse_list(s, ADDR_MAX_INPUT, 0, NULL, NULL, &reason), 0);
	assert_int_equal(addr_parse_list(s, ADDR_MAX_INPUT + 1, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Header too long");
	free(s);

	/* comment nesting: 32 levels pass, 33 do not */
	memset(buf, 0, sizeof(buf));
	n = snprintf(buf, sizeof(buf), "a@x.org %.32s%.32s",
	    "((((((((((((((((((((((((((((((((", "))))))))))))))))))))))))))))))))");
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, NULL, NULL, &reason), 0);
	n = snprintf(buf, sizeof(buf), "a@x.org %.33s%.33s",
	    "(((((((((((((((((((((((((((((((((", ")))))))))))))))))))))))))))))))))");
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Comment nested too deeply");
	s = repeat_list("(", 5000);
	assert_int_equal(addr_parse_list(s, strlen(s), 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Comment nested too deeply");
	free(s);

	/* local part and domain longer than the fields */
	s = repeat_list("a", 300);
	n = snprintf(buf, sizeof(buf), "%s@x.org", s);
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Local part too long");
	n = snprintf(buf, sizeof(buf), "\"%.255s\"@x.org", s);
	memset(&g, 0, sizeof(g));
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, collect, &g, &reason), 0);
	assert_int_equal(strlen(g.mb[0].local), 255);
	n = snprintf(buf, sizeof(buf), "\"%.256s\"@x.org", s);
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Local part too long");
	free(s);
	s = repeat_list("abcdefghij.", 24);	/* 264 bytes */
	n = snprintf(buf, sizeof(buf), "a@%scom", s);
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Domain too long");
	n = snprintf(buf, sizeof(buf), "<a@%scom>", s);
	assert_int_equal(addr_parse_path(buf, (size_t)n, 0, 0, &g.mb[0], &n, &reason), -1);
	assert_string_equal(reason, "Domain too long");
	free(s);
	s = repeat_list("abcdefghij.", 22);	/* 242 + "example" = 249: fits */
	n = snprintf(buf, sizeof(buf), "a@%sexample", s);
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, NULL, NULL, &reason), 0);
	free(s);

	/* long display names are cut on a character boundary */
	s = repeat_list("é", 200);
	n = snprintf(buf, sizeof(buf), "\"%s\" <a@x.org>", s);
	memset(&g, 0, sizeof(g));
	assert_int_equal(addr_parse_list(buf, (size_t)n, 0, collect, &g, &reason), 0);
	assert_int_equal(strlen(g.mb[0].display), 254);
	free(s);
}

/* One converter budget per list: a hostile list cannot make every display name open new charsets. */
static void
test_display_charset_budget(void **state)
{
	const char *in = "=?koi8-r?q?a?= <a@x.org>, =?cp1252?q?b?= <b@x.org>, "
	    "=?iso-8859-2?q?c?= <c@x.org>, =?iso-8859-15?q?d?= <d@x.org>, "
	    "=?koi8-u?q?e?= <e@x.org>, =?cp1252?q?f?= <f@x.org>, =?utf-8?q?g?= <g@x.org>";
	const char *want[] = { "a", "b", "c", "d", "=?koi8-u?q?e?=", "f", "g" };
	const char *reason;
	struct got g;
	int i;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(addr_parse_list(in, strlen(in), 0, collect, &g, &reason), 0);
	assert_int_equal(g.n, 7);
	for (i = 0; i < 7; i++)
		assert_string_equal(g.mb[i].display, want[i]);
}

static void
test_embedded_nul(void **state)
{
	const char *reason;
	addr_mailbox mb;
	int is_null;

	(void)state;
	assert_int_equal(addr_parse_list("a@x.org (\0)", 11, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Invalid character in comment");
	assert_int_equal(addr_parse_list("\"a\0\"@x.org", 10, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Invalid character in quoted string");
	assert_int_equal(addr_parse_list("a\0@x.org", 8, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Invalid character in address");
	assert_int_equal(addr_parse_list("a@x.org\0", 8, 0, NULL, NULL, &reason), -1);
	assert_string_equal(reason, "Unexpected character after address");
	assert_int_equal(addr_parse_path("<a\0@x.org>", 10, 0, 0, &mb, &is_null, &reason), -1);
	assert_string_equal(reason, "Invalid character in local part");
	/* the length bounds the parse, not a NUL */
	assert_int_equal(addr_parse_path("<a@x.org>", 6, 0, 0, &mb, &is_null, &reason), -1);
	assert_string_equal(reason, "Unterminated angle address");
	assert_int_equal(addr_parse_list("a@x.org, junk", 7, 0, NULL, NULL, &reason), 0);
}

int
main(void)
{
	iconv_t pin;
	int rc;

	/*
	 * Keep glibc's ISO-2022-JP gconv module (RUNPATH $ORIGIN) loaded
	 * throughout: each time glibc dlopens it again after another module,
	 * valgrind 3.19 reports a false positive inside ld.so (is_dst() strncmp
	 * over-read), outside our code.
	 */
	pin = iconv_open("UTF-8", "ISO-2022-JP");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_table),
		cmocka_unit_test(test_path_table),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_idn_table),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_display_charset_budget),
		cmocka_unit_test(test_embedded_nul),
	};

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (pin != (iconv_t)-1)
		iconv_close(pin);
	return rc;
}
