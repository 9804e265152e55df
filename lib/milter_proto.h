/*
 * milter_proto.h - the milter protocol (version 6) packet codec, both
 * directions, as pure functions: no sockets, no clocks, no globals.
 *
 * External interface:
 *  - struct mp_reader: an incremental framer. Feed it bytes split anywhere;
 *    it hands out whole packets and refuses an over-long or empty one
 *    before buffering it (memory per reader is bounded by MP_MAX_BODY_DATA).
 *  - mp_decode(): a packet into struct mp_msg. Strings point into the
 *    packet (valid until the reader is fed again); every string is checked
 *    to be NUL-terminated inside the packet, so nothing is read past it.
 *  - mp_encode(): struct mp_msg back into bytes (mp_buf). decode(encode(m))
 *    gives m and encode(decode(p)) gives p: the fuzz target checks both.
 *  - mp_reply_check(): validates a milter's custom SMTP reply (REPLYCODE).
 *
 * Constants are libmilter's own (SMFIC_*, SMFIR_*, SMFIP_*, SMFIF_*), from
 * <libmilter/mfdef.h>, so both sides of the wire share one spelling.
 */
#ifndef POSTERN_MILTER_PROTO_H
#define POSTERN_MILTER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>	/* SMFIF_*, SMFIM_* */
#include <libmilter/mfdef.h>	/* SMFIC_*, SMFIR_*, SMFIP_* */

#define MP_VERSION		6		/* the protocol version spoken */
#define MP_HDR_LEN		5		/* 32-bit big-endian length + command byte */
#define MP_CHUNK		MILTER_CHUNK_SIZE	/* largest BODY chunk sent (65535) */
/*
 * Largest data part (the length field minus the command byte) accepted:
 * 1 MiB for body packets (BODY, BODYEOB, REPLBODY: libmilter may negotiate
 * 1 MiB chunks), 64 KiB for everything else (libmilter's own default limit
 * is 65535). Anything longer is a protocol error, refused from its header.
 */
#define MP_MAX_DATA		(64 * 1024)
#define MP_MAX_BODY_DATA	(1024 * 1024)
/* Longest custom reply passed to an SMTP client, and its longest line (RFC 5321 4.5.3.1.5). */
#define MP_REPLY_MAX		4096
#define MP_REPLY_LINE_MAX	510
#define MP_SYMLIST_MAX		16		/* SETSYMLIST entries in one OPTNEG reply */

/* Which side wrote the bytes: decides the command table and the limits. */
enum mp_dir {
	MP_COMMANDS,		/* MTA -> milter: SMFIC_* */
	MP_RESPONSES		/* milter -> MTA: SMFIR_* (and SMFIC_OPTNEG) */
};

enum mp_err {
	MP_OK = 0,
	MP_E_EMPTY = -1,	/* length 0: no command byte */
	MP_E_TOO_BIG = -2,	/* length over the limit for that command */
	MP_E_UNKNOWN = -3,	/* command byte not defined for this direction */
	MP_E_SHORT = -4,	/* a fixed-size field is cut short */
	MP_E_NO_NUL = -5,	/* a string runs to the end of the packet without its NUL */
	MP_E_TRAILING = -6,	/* bytes left after the last field */
	MP_E_FIELD = -7,	/* a field has a value the protocol does not allow */
	MP_E_FULL = -8		/* (encoder) the packet would exceed its limit */
};

const char *mp_strerror(int err);

/* One packet as framed: command byte and its data (not NUL-terminated as a whole). */
struct mp_packet {
	int cmd;
	const uint8_t *data;
	size_t len;
};

/*
 * A decoded packet. Which fields are used depends on cmd:
 *
 *  OPTNEG (both ways)   version, actions, protocol; replies: list = the
 *                       SETSYMLIST entries (mp_symlist_next()), nlist of them
 *  MACRO                stage = the SMFIC_* letter; list = name, value, ... (nlist even)
 *  CONNECT              s1 = host name, family (SMFIA_*), port (host order),
 *                       s2 = address (NULL when family is SMFIA_UNKNOWN)
 *  HELO, UNKNOWN        s1
 *  MAIL, RCPT           list = argv (address first, then ESMTP parameters), nlist >= 1
 *  HEADER               s1 = name, s2 = value
 *  BODY, BODYEOB        data, len
 *  EOH ABORT QUIT QUIT_NC DATA: nothing
 *  REPLYCODE, DELRCPT, ADDRCPT, QUARANTINE    s1
 *  ADDHEADER            s1 = name, s2 = value
 *  INSHEADER, CHGHEADER index, s1 = name, s2 = value ("" deletes, CHGHEADER)
 *  CHGFROM, ADDRCPT_PAR s1 = address, s2 = ESMTP arguments or NULL when absent
 *  REPLBODY             data, len
 *  CONTINUE ACCEPT REJECT TEMPFAIL DISCARD PROGRESS SKIP CONN_FAIL SHUTDOWN: nothing
 *
 * list/nlist: nlist NUL-terminated strings back to back (listlen bytes).
 */
struct mp_msg {
	int cmd;
	uint32_t version, actions, protocol;
	int stage;
	const char *s1, *s2;
	int family;
	uint16_t port;
	uint32_t index;
	const uint8_t *data;
	size_t len;
	const char *list;
	size_t listlen;
	unsigned nlist;
};

/* Incremental framer. Zero-initialise or mp_reader_init(); mp_reader_free() at the end. */
struct mp_reader {
	enum mp_dir dir;
	uint8_t hdr[MP_HDR_LEN];
	size_t hlen;		/* header bytes held */
	uint8_t *buf;		/* data of the packet being read */
	size_t need;		/* its data length */
	size_t have;
	size_t cap;
	int err;		/* sticky enum mp_err once framing failed */
};

void mp_reader_init(struct mp_reader *r, enum mp_dir dir);
void mp_reader_free(struct mp_reader *r);

/*
 * Consume bytes from *p and *n (both advanced). Returns 1 with pkt set when a
 * whole packet is framed (pkt->data stays valid until the next call), 0
 * when every byte was taken and more are needed, or an enum mp_err (< 0)
 * on a framing error, which then sticks.
 */
int mp_read(struct mp_reader *r, const uint8_t **p, size_t *n, struct mp_packet *pkt);

/* Largest data length accepted for cmd in direction dir (the framer's limit). */
size_t mp_max_data(enum mp_dir dir, int cmd);

/* Decode a framed packet. Returns MP_OK or an enum mp_err. */
int mp_decode(enum mp_dir dir, const struct mp_packet *pkt, struct mp_msg *m);

/* SETSYMLIST iterator over an OPTNEG reply: *off starts at 0. 1: got one; 0: end. */
int mp_symlist_next(const struct mp_msg *m, size_t *off, uint32_t *stage, const char **names);
/* List iterator (MACRO pairs, MAIL/RCPT argv): *off starts at 0. Returns the next string or NULL. */
const char *mp_list_next(const struct mp_msg *m, size_t *off);

/* A growable output buffer; never grows past one packet at the largest limit. */
struct mp_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

void mp_buf_free(struct mp_buf *b);

/*
 * Append the encoding of m to b. For OPTNEG replies, MACRO, MAIL and RCPT,
 * list/listlen are copied as they are (build them with mp_list_add()).
 * Returns MP_OK, MP_E_FULL (too long) or MP_E_FIELD (bad field, e.g. a
 * NULL string or an odd macro list); b is unchanged on error.
 */
int mp_encode(struct mp_buf *b, enum mp_dir dir, const struct mp_msg *m);

/* The 5-byte header of a packet whose data the caller writes itself (body chunks). */
void mp_put_header(uint8_t out[MP_HDR_LEN], int cmd, size_t datalen);

/* Append s and its NUL to a list being built in b (for mp_msg.list). */
void mp_list_add(struct mp_buf *b, const char *s);
/* Append one SETSYMLIST entry (stage, names) to a list being built in b. */
void mp_symlist_add(struct mp_buf *b, uint32_t stage, const char *names);

/*
 * Check a REPLYCODE text and write the reply to send into out: "%%"
 * turned into "%" and a lone "%" dropped (libmilter's texts are printf
 * formats), bytes outside printable ASCII turned into '?', one final CRLF
 * dropped; then the result must be lines separated by CRLF, each with the
 * same 4xx or 5xx code, '-' after it on all lines but the last, and an
 * enhanced code, when present, of the same class; at most MP_REPLY_MAX
 * bytes, lines at most MP_REPLY_LINE_MAX. Returns the code (400-599) or -1.
 */
int mp_reply_check(const char *text, char *out, size_t outsize);

#endif
