/*
 * test_milter_proto.c - table-driven tests of lib/milter_proto.c: golden
 * bytes of every packet both ways (decode, re-encode, byte for byte),
 * framing under every split, each malformed form, and custom replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "milter_proto.h"

#define B(s)	(const uint8_t *)(s), sizeof(s) - 1

struct golden {
	const char *what;
	enum mp_dir dir;
	const uint8_t *bytes;
	size_t len;
	/* Expected fields (those that apply to the command). */
	int cmd;
	const char *s1, *s2;
	uint32_t a, b, c;	/* OPTNEG: version, actions, protocol; header edits: a = index */
	int family;
	uint16_t port;
	unsigned nlist;
	const char *data;	/* BODY, REPLBODY: the bytes (NUL-free in these cases) */
};

static const struct golden goldens[] = {
	/* MTA -> milter */
	{ "OPTNEG", MP_COMMANDS, B("\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xf7\xff"), SMFIC_OPTNEG,
	  NULL, NULL, 6, 0x1ff, 0x1ff7ff, 0, 0, 0, NULL },
	{ "MACRO", MP_COMMANDS, B("\0\0\0\x0b" "DCj\0mx\0_\0a\0"), SMFIC_MACRO,
	  NULL, NULL, 0, 0, 0, 0, 0, 4, NULL },
	{ "MACRO empty", MP_COMMANDS, B("\0\0\0\x02" "DM"), SMFIC_MACRO,
	  NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "CONNECT inet", MP_COMMANDS, B("\0\0\0\x16" "C[1.2.3.4]\0" "4\x12\x67" "1.2.3.4\0"),
	  SMFIC_CONNECT, "[1.2.3.4]", "1.2.3.4", 0, 0, 0, SMFIA_INET, 4711, 0, NULL },
	{ "CONNECT inet6", MP_COMMANDS, B("\0\0\0\x0a" "Ch\0" "6\0\x19" "::1\0"),
	  SMFIC_CONNECT, "h", "::1", 0, 0, 0, SMFIA_INET6, 25, 0, NULL },
	{ "CONNECT unix", MP_COMMANDS, B("\0\0\0\x09" "Ch\0" "L\0\0" "/s\0"),
	  SMFIC_CONNECT, "h", "/s", 0, 0, 0, SMFIA_UNIX, 0, 0, NULL },
	{ "CONNECT unknown", MP_COMMANDS, B("\0\0\0\x07" "Chost\0U"),
	  SMFIC_CONNECT, "host", NULL, 0, 0, 0, SMFIA_UNKNOWN, 0, 0, NULL },
	{ "HELO", MP_COMMANDS, B("\0\0\0\x0bHx.example\0"), SMFIC_HELO, "x.example", NULL,
	  0, 0, 0, 0, 0, 0, NULL },
	{ "MAIL", MP_COMMANDS, B("\0\0\0\x0eM<a@b>\0SIZE=1\0"), SMFIC_MAIL, NULL, NULL,
	  0, 0, 0, 0, 0, 2, NULL },
	{ "RCPT", MP_COMMANDS, B("\0\0\0\x07R<c@d>\0"), SMFIC_RCPT, NULL, NULL, 0, 0, 0, 0, 0, 1, NULL },
	{ "HEADER", MP_COMMANDS, B("\0\0\0\x0cLSubject\0hi\0"), SMFIC_HEADER, "Subject", "hi",
	  0, 0, 0, 0, 0, 0, NULL },
	{ "HEADER empty value", MP_COMMANDS, B("\0\0\0\x04LX\0\0"), SMFIC_HEADER, "X", "",
	  0, 0, 0, 0, 0, 0, NULL },
	{ "EOH", MP_COMMANDS, B("\0\0\0\x01N"), SMFIC_EOH, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "BODY", MP_COMMANDS, B("\0\0\0\x06" "Babc\r\n"), SMFIC_BODY, NULL, NULL, 0, 0, 0, 0, 0, 0,
	  "abc\r\n" },
	{ "BODYEOB", MP_COMMANDS, B("\0\0\0\x01" "E"), SMFIC_BODYEOB, NULL, NULL, 0, 0, 0, 0, 0, 0, "" },
	{ "ABORT", MP_COMMANDS, B("\0\0\0\x01" "A"), SMFIC_ABORT, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "QUIT", MP_COMMANDS, B("\0\0\0\x01Q"), SMFIC_QUIT, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "QUIT_NC", MP_COMMANDS, B("\0\0\0\x01K"), SMFIC_QUIT_NC, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "DATA", MP_COMMANDS, B("\0\0\0\x01T"), SMFIC_DATA, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "UNKNOWN", MP_COMMANDS, B("\0\0\0\x06UHELP\0"), SMFIC_UNKNOWN, "HELP", NULL,
	  0, 0, 0, 0, 0, 0, NULL },
	/* milter -> MTA */
	{ "OPTNEG reply", MP_RESPONSES, B("\0\0\0\x0dO\0\0\0\x06\0\0\0\x21\0\0\x04\0"), SMFIC_OPTNEG,
	  NULL, NULL, 6, 0x21, 0x400, 0, 0, 0, NULL },
	{ "OPTNEG SETSYMLIST", MP_RESPONSES,
	  B("\0\0\0\x25O\0\0\0\x06\0\0\x01\0\0\0\0\0" "\0\0\0\x02{mail_addr} i\0" "\0\0\0\x05i\0"),
	  SMFIC_OPTNEG, NULL, NULL, 6, 0x100, 0, 0, 0, 2, NULL },
	{ "CONTINUE", MP_RESPONSES, B("\0\0\0\x01" "c"), SMFIR_CONTINUE, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "ACCEPT", MP_RESPONSES, B("\0\0\0\x01" "a"), SMFIR_ACCEPT, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "REJECT", MP_RESPONSES, B("\0\0\0\x01r"), SMFIR_REJECT, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "TEMPFAIL", MP_RESPONSES, B("\0\0\0\x01t"), SMFIR_TEMPFAIL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "DISCARD", MP_RESPONSES, B("\0\0\0\x01" "d"), SMFIR_DISCARD, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "PROGRESS", MP_RESPONSES, B("\0\0\0\x01p"), SMFIR_PROGRESS, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "SKIP", MP_RESPONSES, B("\0\0\0\x01s"), SMFIR_SKIP, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "CONN_FAIL", MP_RESPONSES, B("\0\0\0\x01" "f"), SMFIR_CONN_FAIL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "SHUTDOWN", MP_RESPONSES, B("\0\0\0\x01" "4"), SMFIR_SHUTDOWN, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "REPLYCODE", MP_RESPONSES, B("\0\0\0\x0ey550 5.7.1 no\0"), SMFIR_REPLYCODE, "550 5.7.1 no", NULL,
	  0, 0, 0, 0, 0, 0, NULL },
	{ "REPLYCODE multi", MP_RESPONSES, B("\0\0\0\x0ey550-a\r\n550 b\0"), SMFIR_REPLYCODE,
	  "550-a\r\n550 b", NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "ADDHEADER", MP_RESPONSES, B("\0\0\0\x05hX\0v\0"), SMFIR_ADDHEADER, "X", "v", 0, 0, 0, 0, 0, 0, NULL },
	{ "INSHEADER", MP_RESPONSES, B("\0\0\0\x09i\0\0\0\0X\0v\0"), SMFIR_INSHEADER, "X", "v",
	  0, 0, 0, 0, 0, 0, NULL },
	{ "CHGHEADER", MP_RESPONSES, B("\0\0\0\x08m\0\0\0\x02X\0\0"), SMFIR_CHGHEADER, "X", "",
	  2, 0, 0, 0, 0, 0, NULL },
	{ "DELRCPT", MP_RESPONSES, B("\0\0\0\x05-<a>\0"), SMFIR_DELRCPT, "<a>", NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "ADDRCPT", MP_RESPONSES, B("\0\0\0\x05+<a>\0"), SMFIR_ADDRCPT, "<a>", NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "ADDRCPT_PAR", MP_RESPONSES, B("\0\0\0\x09" "2<a>\0N=1\0"), SMFIR_ADDRCPT_PAR, "<a>", "N=1",
	  0, 0, 0, 0, 0, 0, NULL },
	{ "ADDRCPT_PAR no args", MP_RESPONSES, B("\0\0\0\x05" "2<a>\0"), SMFIR_ADDRCPT_PAR, "<a>", NULL,
	  0, 0, 0, 0, 0, 0, NULL },
	{ "CHGFROM", MP_RESPONSES, B("\0\0\0\x05" "e<a>\0"), SMFIR_CHGFROM, "<a>", NULL, 0, 0, 0, 0, 0, 0, NULL },
	{ "CHGFROM args", MP_RESPONSES, B("\0\0\0\x06" "e<a>\0\0"), SMFIR_CHGFROM, "<a>", "",
	  0, 0, 0, 0, 0, 0, NULL },
	{ "REPLBODY", MP_RESPONSES, B("\0\0\0\x05" "bbody"), SMFIR_REPLBODY, NULL, NULL, 0, 0, 0, 0, 0, 0,
	  "body" },
	{ "QUARANTINE", MP_RESPONSES, B("\0\0\0\x05qwhy\0"), SMFIR_QUARANTINE, "why", NULL,
	  0, 0, 0, 0, 0, 0, NULL },
};

static void
check_fields(const struct golden *g, const struct mp_msg *m)
{
	assert_int_equal(m->cmd, g->cmd);
	if (g->s1)
		assert_string_equal(m->s1, g->s1);
	if (g->s2)
		assert_string_equal(m->s2, g->s2);
	else if (g->cmd == SMFIR_CHGFROM || g->cmd == SMFIR_ADDRCPT_PAR || g->cmd == SMFIC_CONNECT)
		assert_null(m->s2);
	if (g->cmd == SMFIC_OPTNEG) {
		assert_int_equal(m->version, g->a);
		assert_int_equal(m->actions, g->b);
		assert_int_equal(m->protocol, g->c);
	}
	if (g->cmd == SMFIR_CHGHEADER || g->cmd == SMFIR_INSHEADER)
		assert_int_equal(m->index, g->a);
	if (g->cmd == SMFIC_CONNECT) {
		assert_int_equal(m->family, g->family);
		assert_int_equal(m->port, g->port);
	}
	if (g->cmd == SMFIC_MACRO || g->cmd == SMFIC_MAIL || g->cmd == SMFIC_RCPT || g->cmd == SMFIC_OPTNEG)
		assert_int_equal(m->nlist, g->nlist);
	if (g->data) {
		assert_int_equal(m->len, strlen(g->data));
		assert_memory_equal(m->data, g->data, m->len);
	}
}

/* Frame the bytes fed in two pieces split at k; returns the packets found (up to 4). */
static int
frame_split(const struct golden *g, size_t k, struct mp_reader *r, struct mp_packet *pkts,
    uint8_t copies[][512])
{
	const uint8_t *p;
	size_t n;
	int got = 0, rc, part;

	for (part = 0; part < 2; part++) {
		p = g->bytes + (part ? k : 0);
		n = part ? g->len - k : k;
		while ((rc = mp_read(r, &p, &n, &pkts[got])) == 1) {
			memcpy(copies[got], pkts[got].data, pkts[got].len);
			pkts[got].data = copies[got];
			got++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(n, 0);
	}
	return got;
}

static void
test_golden(void **state)
{
	size_t i, k;
	struct mp_reader r;
	struct mp_packet pkt[4];
	struct mp_msg m;
	struct mp_buf b = { 0 };
	uint8_t copies[4][512];

	(void)state;
	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		const struct golden *g = &goldens[i];

		/* Every split of the bytes frames the same one packet. */
		for (k = 0; k <= g->len; k++) {
			mp_reader_init(&r, g->dir);
			if (frame_split(g, k, &r, pkt, copies) != 1)
				fail_msg("%s: split at %zu", g->what, k);
			if (mp_decode(g->dir, &pkt[0], &m) != MP_OK)
				fail_msg("%s: decode", g->what);
			check_fields(g, &m);
			/* And the decoded message encodes back to the same bytes. */
			b.len = 0;
			assert_int_equal(mp_encode(&b, g->dir, &m), MP_OK);
			assert_int_equal(b.len, g->len);
			assert_memory_equal(b.p, g->bytes, g->len);
			mp_reader_free(&r);
		}
	}
	mp_buf_free(&b);
}

/* Several packets back to back, fed one byte at a time. */
static void
test_stream(void **state)
{
	static const uint8_t s[] = "\0\0\0\x01" "c" "\0\0\0\x05hX\0v\0" "\0\0\0\x01" "a";
	static const int want[] = { SMFIR_CONTINUE, SMFIR_ADDHEADER, SMFIR_ACCEPT };
	struct mp_reader r;
	struct mp_packet pkt;
	const uint8_t *p;
	size_t i, n;
	int got = 0, rc;

	(void)state;
	mp_reader_init(&r, MP_RESPONSES);
	for (i = 0; i < sizeof(s) - 1; i++) {
		p = s + i;
		n = 1;
		while ((rc = mp_read(&r, &p, &n, &pkt)) == 1)
			assert_int_equal(pkt.cmd, want[got++]);
		assert_int_equal(rc, 0);
	}
	assert_int_equal(got, 3);
	mp_reader_free(&r);
}

struct bad {
	const char *what;
	enum mp_dir dir;
	const uint8_t *bytes;
	size_t len;
	int err;
};

static const struct bad bads[] = {
	{ "zero length", MP_RESPONSES, B("\0\0\0\0"), MP_E_EMPTY },
	{ "zero length cmd", MP_COMMANDS, B("\0\0\0\0X"), MP_E_EMPTY },
	{ "over 64 KiB", MP_RESPONSES, B("\0\x01\0\x02y"), MP_E_TOO_BIG },
	{ "REPLBODY over 1 MiB", MP_RESPONSES, B("\0\x10\0\x02" "b"), MP_E_TOO_BIG },
	{ "BODY over 1 MiB", MP_COMMANDS, B("\0\x10\0\x02" "B"), MP_E_TOO_BIG },
	{ "huge length", MP_RESPONSES, B("\xff\xff\xff\xff" "c"), MP_E_TOO_BIG },
	{ "unknown response", MP_RESPONSES, B("\0\0\0\x01Z"), MP_E_UNKNOWN },
	{ "command as response", MP_RESPONSES, B("\0\0\0\x01" "B"), MP_E_UNKNOWN },
	{ "response as command", MP_COMMANDS, B("\0\0\0\x01" "c"), MP_E_UNKNOWN },
	{ "SETSYMLIST packet", MP_RESPONSES, B("\0\0\0\x03l1\0"), MP_E_UNKNOWN },
	{ "OPTNEG short", MP_COMMANDS, B("\0\0\0\x09O\0\0\0\x06\0\0\0\0"), MP_E_SHORT },
	{ "OPTNEG long", MP_COMMANDS, B("\0\0\0\x0eO\0\0\0\x06\0\0\0\0\0\0\0\0x"), MP_E_TRAILING },
	{ "OPTNEG reply short", MP_RESPONSES, B("\0\0\0\x05O\0\0\0\x06"), MP_E_SHORT },
	{ "SETSYMLIST cut", MP_RESPONSES, B("\0\0\0\x0fO\0\0\0\x06\0\0\0\0\0\0\0\0\0\0"), MP_E_SHORT },
	{ "SETSYMLIST no NUL", MP_RESPONSES, B("\0\0\0\x12O\0\0\0\x06\0\0\0\0\0\0\0\0\0\0\0\x01i"),
	  MP_E_NO_NUL },
	{ "MACRO no stage", MP_COMMANDS, B("\0\0\0\x01" "D"), MP_E_SHORT },
	{ "MACRO odd", MP_COMMANDS, B("\0\0\0\x04" "DCj\0"), MP_E_FIELD },
	{ "MACRO no NUL", MP_COMMANDS, B("\0\0\0\x05" "DCj\0x"), MP_E_NO_NUL },
	{ "CONNECT no NUL", MP_COMMANDS, B("\0\0\0\x03" "Cab"), MP_E_NO_NUL },
	{ "CONNECT no family", MP_COMMANDS, B("\0\0\0\x03" "Ca\0"), MP_E_SHORT },
	{ "CONNECT bad family", MP_COMMANDS, B("\0\0\0\x04" "Ca\0X"), MP_E_FIELD },
	{ "CONNECT no port", MP_COMMANDS, B("\0\0\0\x05" "Ca\0" "4\0"), MP_E_SHORT },
	{ "CONNECT no address", MP_COMMANDS, B("\0\0\0\x06" "Ca\0" "4\0\x19"), MP_E_SHORT },
	{ "CONNECT address no NUL", MP_COMMANDS, B("\0\0\0\x07" "Ca\0" "4\0\x19" "1"), MP_E_NO_NUL },
	{ "CONNECT unknown + more", MP_COMMANDS, B("\0\0\0\x05" "Ca\0Ux"), MP_E_TRAILING },
	{ "HELO empty", MP_COMMANDS, B("\0\0\0\x01H"), MP_E_SHORT },
	{ "HELO no NUL", MP_COMMANDS, B("\0\0\0\x03Hab"), MP_E_NO_NUL },
	{ "HELO trailing", MP_COMMANDS, B("\0\0\0\x04Ha\0b"), MP_E_TRAILING },
	{ "MAIL empty", MP_COMMANDS, B("\0\0\0\x01M"), MP_E_SHORT },
	{ "RCPT no NUL", MP_COMMANDS, B("\0\0\0\x03R<a"), MP_E_NO_NUL },
	{ "HEADER one string", MP_COMMANDS, B("\0\0\0\x03LX\0"), MP_E_SHORT },
	{ "HEADER value no NUL", MP_COMMANDS, B("\0\0\0\x04LX\0v"), MP_E_NO_NUL },
	{ "EOH with data", MP_COMMANDS, B("\0\0\0\x02Nx"), MP_E_TRAILING },
	{ "QUIT with data", MP_COMMANDS, B("\0\0\0\x02Qx"), MP_E_TRAILING },
	{ "CONTINUE with data", MP_RESPONSES, B("\0\0\0\x02" "cx"), MP_E_TRAILING },
	{ "REPLYCODE empty", MP_RESPONSES, B("\0\0\0\x01y"), MP_E_SHORT },
	{ "REPLYCODE no NUL", MP_RESPONSES, B("\0\0\0\x04y550"), MP_E_NO_NUL },
	{ "REPLYCODE two strings", MP_RESPONSES, B("\0\0\0\x06y550\0x"), MP_E_TRAILING },
	{ "ADDHEADER no value", MP_RESPONSES, B("\0\0\0\x03hX\0"), MP_E_SHORT },
	{ "INSHEADER short index", MP_RESPONSES, B("\0\0\0\x03i\0\0"), MP_E_SHORT },
	{ "CHGHEADER name no NUL", MP_RESPONSES, B("\0\0\0\x06m\0\0\0\x01X"), MP_E_NO_NUL },
	{ "CHGFROM no NUL", MP_RESPONSES, B("\0\0\0\x03" "e<a"), MP_E_NO_NUL },
	{ "CHGFROM args no NUL", MP_RESPONSES, B("\0\0\0\x06" "e<a>\0x"), MP_E_NO_NUL },
	{ "CHGFROM three strings", MP_RESPONSES, B("\0\0\0\x07" "e<a>\0\0\0"), MP_E_TRAILING },
	{ "DELRCPT empty", MP_RESPONSES, B("\0\0\0\x01-"), MP_E_SHORT },
	{ "QUARANTINE no NUL", MP_RESPONSES, B("\0\0\0\x02qx"), MP_E_NO_NUL },
};

static void
test_malformed(void **state)
{
	size_t i;
	struct mp_reader r;
	struct mp_packet pkt;
	struct mp_msg m;
	const uint8_t *p;
	size_t n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];

		mp_reader_init(&r, b->dir);
		p = b->bytes;
		n = b->len;
		rc = mp_read(&r, &p, &n, &pkt);
		if (rc == 1)
			rc = mp_decode(b->dir, &pkt, &m);
		if (rc != b->err)
			fail_msg("%s: got %d (%s), want %d", b->what, rc, mp_strerror(rc), b->err);
		/* A framing error sticks. */
		if (rc < 0 && r.err) {
			p = (const uint8_t *)"\0\0\0\x01" "c";
			n = 5;
			assert_int_equal(mp_read(&r, &p, &n, &pkt), b->err);
		}
		mp_reader_free(&r);
	}
}

/* Many SETSYMLIST entries are refused beyond MP_SYMLIST_MAX. */
static void
test_symlist_limit(void **state)
{
	struct mp_buf list = { 0 }, b = { 0 };
	struct mp_msg m = { .cmd = SMFIC_OPTNEG, .version = 6 }, d;
	struct mp_packet pkt;
	uint32_t stage;
	const char *names;
	size_t off = 0;
	int i;

	(void)state;
	for (i = 0; i < MP_SYMLIST_MAX; i++)
		mp_symlist_add(&list, (uint32_t)i, "i");
	m.list = (const char *)list.p;
	m.listlen = list.len;
	assert_int_equal(mp_encode(&b, MP_RESPONSES, &m), MP_OK);
	pkt.cmd = 'O';
	pkt.data = b.p + MP_HDR_LEN;
	pkt.len = b.len - MP_HDR_LEN;
	assert_int_equal(mp_decode(MP_RESPONSES, &pkt, &d), MP_OK);
	for (i = 0; mp_symlist_next(&d, &off, &stage, &names); i++) {
		assert_int_equal(stage, i);
		assert_string_equal(names, "i");
	}
	assert_int_equal(i, MP_SYMLIST_MAX);
	mp_symlist_add(&list, 99, "j");
	m.list = (const char *)list.p;
	m.listlen = list.len;
	b.len = 0;
	assert_int_equal(mp_encode(&b, MP_RESPONSES, &m), MP_E_FIELD);
	mp_buf_free(&list);
	mp_buf_free(&b);
}

/* The encoder refuses what would not decode. */
static void
test_encode_errors(void **state)
{
	struct mp_buf b = { 0 };
	char *big = malloc(MP_MAX_DATA + 2);
	static const char odd[] = "j\0";

	(void)state;
	memset(big, 'x', MP_MAX_DATA + 1);
	big[MP_MAX_DATA + 1] = '\0';
	assert_int_equal(mp_encode(&b, MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_HELO }), MP_E_FIELD);
	assert_int_equal(mp_encode(&b, MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_HELO, .s1 = big }),
	    MP_E_FULL);
	assert_int_equal(mp_encode(&b, MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_MACRO, .stage = 'C',
	    .list = odd, .listlen = 2 }), MP_E_FIELD);
	assert_int_equal(mp_encode(&b, MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_MAIL }), MP_E_FIELD);
	assert_int_equal(mp_encode(&b, MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_CONNECT, .s1 = "h",
	    .family = 'X' }), MP_E_FIELD);
	assert_int_equal(mp_encode(&b, MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_CONNECT, .s1 = "h",
	    .family = SMFIA_INET }), MP_E_FIELD);
	assert_int_equal(mp_encode(&b, MP_COMMANDS, &(struct mp_msg){ .cmd = 'Z' }), MP_E_FIELD);
	assert_int_equal(mp_encode(&b, MP_RESPONSES, &(struct mp_msg){ .cmd = SMFIR_SETSYMLIST }), MP_E_FIELD);
	assert_int_equal(b.len, 0);
	/* The one-MiB body limit is an encoder limit too. */
	assert_int_equal(mp_encode(&b, MP_RESPONSES, &(struct mp_msg){ .cmd = SMFIR_REPLBODY,
	    .data = (const uint8_t *)big, .len = MP_MAX_DATA + 1 }), MP_OK);
	free(big);
	mp_buf_free(&b);
}

struct reply_case {
	const char *in;
	int code;		/* -1: refused */
	const char *out;
};

static const struct reply_case replies[] = {
	{ "550 5.7.1 Rejected", 550, "550 5.7.1 Rejected" },
	{ "451 4.7.1 Later", 451, "451 4.7.1 Later" },
	{ "550 Rejected", 550, "550 Rejected" },
	{ "550", 550, "550" },
	{ "550 5.7.1 100%% sure", 550, "550 5.7.1 100% sure" },
	{ "550 5.7.1 lone % dropped", 550, "550 5.7.1 lone  dropped" },
	{ "550 %03 judged after the % goes", -1, NULL },
	{ "550-5.7.1 a\r\n550 5.7.1 b", 550, "550-5.7.1 a\r\n550 5.7.1 b" },
	{ "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c\r\n", 550, "550-5.7.1 a\r\n550-5.7.1 b\r\n550 5.7.1 c" },
	{ "421 4.3.2 Going away", 421, "421 4.3.2 Going away" },
	{ "550 5.7.1 caf\xc3\xa9\x01", 550, "550 5.7.1 caf???" },
	{ "550 5.123.456 ok", 550, "550 5.123.456 ok" },
	{ "", -1, NULL },
	{ "250 2.0.0 Ok", -1, NULL },
	{ "354 go", -1, NULL },
	{ "650 6.0.0 x", -1, NULL },
	{ "55 short", -1, NULL },
	{ "5x0 5.0.0 x", -1, NULL },
	{ "550 4.7.1 wrong class", -1, NULL },
	{ "550 5.7 incomplete", -1, NULL },
	{ "550 5.1234.1 too long", -1, NULL },
	{ "550 5.7.1x glued", -1, NULL },
	{ "550x5.7.1 bad separator", -1, NULL },
	{ "550-5.7.1 a\r\n451 4.7.1 b", -1, NULL },
	{ "550 5.7.1 a\r\n550 5.7.1 b", -1, NULL },
	{ "550-5.7.1 a", -1, NULL },
	{ "550-5.7.1 a\r\n550", 550, "550-5.7.1 a\r\n550" },
	{ "550-a\r\n", -1, NULL },
	{ "550 a\nb", -1, NULL },
	{ "550 a\rb", -1, NULL },
	{ "550 a\r\n\r\n", -1, NULL },
};

static void
test_reply_check(void **state)
{
	char out[MP_REPLY_MAX + 1], big[MP_REPLY_LINE_MAX + 32];
	size_t i;
	int code;

	(void)state;
	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		const struct reply_case *c = &replies[i];

		code = mp_reply_check(c->in, out, sizeof(out));
		if (code != c->code)
			fail_msg("\"%s\": got %d, want %d", c->in, code, c->code);
		if (c->out)
			assert_string_equal(out, c->out);
	}
	/* Line and total bounds. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "550 ", 4);
	assert_int_equal(mp_reply_check(big, out, sizeof(out)), -1);
	big[MP_REPLY_LINE_MAX] = '\0';
	assert_int_equal(mp_reply_check(big, out, sizeof(out)), 550);
	assert_int_equal(mp_reply_check("550 5.7.1 fits", out, 8), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_symlist_limit),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_reply_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
