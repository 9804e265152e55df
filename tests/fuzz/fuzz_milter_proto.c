/*
 * fuzz_milter_proto.c - libFuzzer target for lib/milter_proto.c, both
 * directions. Input: byte 0 picks the direction (bit 0) and byte 1 the
 * piece size the rest is fed in. Every framed packet that decodes must
 * encode back to the very same bytes, and decode again to the same
 * fields; lists and SETSYMLIST entries are walked; custom replies are
 * checked and their normalized form must itself pass the check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milter_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void
walk(const struct mp_msg *m)
{
	size_t off = 0, count = 0;
	uint32_t stage;
	const char *names, *s;

	if (m->cmd == SMFIC_OPTNEG) {
		while (mp_symlist_next(m, &off, &stage, &names))
			count++;
	} else {
		while ((s = mp_list_next(m, &off)) != NULL)
			count++;
	}
	if (count != m->nlist)
		abort();
}

/* The reply the client would send: well-formed, and a fixed point of the check. */
static void
reply(const char *text)
{
	char out[MP_REPLY_MAX + 1], again[MP_REPLY_MAX + 1];
	int code = mp_reply_check(text, out, sizeof(out));
	size_t i;

	if (code < 0)
		return;
	if (code < 400 || code > 599 || out[0] != '0' + code / 100)
		abort();
	for (i = 0; out[i]; i++) {
		/* CR only before LF, LF only after CR, never at the very end. */
		if (out[i] == '\r' && (out[i + 1] != '\n' || out[i + 2] == '\0'))
			abort();
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			abort();
	}
	/* '%' handling makes a second pass differ only where a '%' survived: skip those. */
	if (strchr(out, '%') == NULL && (mp_reply_check(out, again, sizeof(again)) != code ||
	    strcmp(out, again) != 0))
		abort();
}

static void
packet(enum mp_dir dir, const struct mp_packet *pkt)
{
	struct mp_msg m, m2;
	struct mp_buf b = { 0 };
	struct mp_packet p2;
	uint8_t hdr[MP_HDR_LEN];

	if (mp_decode(dir, pkt, &m) != MP_OK)
		return;
	walk(&m);
	if (m.cmd == SMFIR_REPLYCODE && dir == MP_RESPONSES)
		reply(m.s1);
	/* decode -> encode: the same bytes. */
	if (mp_encode(&b, dir, &m) != MP_OK)
		abort();
	mp_put_header(hdr, pkt->cmd, pkt->len);
	if (b.len != MP_HDR_LEN + pkt->len || memcmp(b.p, hdr, MP_HDR_LEN) != 0 ||
	    (pkt->len && memcmp(b.p + MP_HDR_LEN, pkt->data, pkt->len) != 0))
		abort();
	/* encode -> decode: the same fields. */
	p2.cmd = b.p[4];
	p2.data = b.p + MP_HDR_LEN;
	p2.len = b.len - MP_HDR_LEN;
	if (mp_decode(dir, &p2, &m2) != MP_OK || m2.cmd != m.cmd || m2.version != m.version ||
	    m2.actions != m.actions || m2.protocol != m.protocol || m2.stage != m.stage ||
	    m2.family != m.family || m2.port != m.port || m2.index != m.index || m2.len != m.len ||
	    m2.nlist != m.nlist || m2.listlen != m.listlen || !same_str(m.s1, m2.s1) ||
	    !same_str(m.s2, m2.s2))
		abort();
	mp_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_reader r;
	struct mp_packet pkt;
	enum mp_dir dir;
	const uint8_t *p;
	size_t step, n, take;
	int rc = 0;

	if (size < 2)
		return 0;
	dir = data[0] & 1 ? MP_RESPONSES : MP_COMMANDS;
	step = data[1] ? data[1] : size;
	data += 2;
	size -= 2;
	mp_reader_init(&r, dir);
	while (size > 0 && rc >= 0) {
		take = size < step ? size : step;
		p = data;
		n = take;
		while ((rc = mp_read(&r, &p, &n, &pkt)) == 1)
			packet(dir, &pkt);
		if (rc == 0 && n != 0)
			abort();	/* "need more" must mean every byte was taken */
		data += take;
		size -= take;
	}
	mp_reader_free(&r);
	return 0;
}
