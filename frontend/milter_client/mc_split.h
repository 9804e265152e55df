/*
 * mc_split.h - the message stream cut into the milter protocol's units:
 * header fields, the end of the header section, body chunks. Bytes in,
 * events out; no sockets, no milters (the client decides what to send).
 */
#ifndef POSTERN_MC_SPLIT_H
#define POSTERN_MC_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "milter_proto.h"

enum mc_split_ev {
	MC_SPLIT_NONE = 0,	/* nothing ready: more bytes (or the end) needed */
	MC_SPLIT_HEADER,	/* a header field: mc_split_field() */
	MC_SPLIT_EOH,		/* the header section ended (once per message) */
	MC_SPLIT_BODY		/* a body chunk: mc_split_chunk() */
};

/*
 * Header fields are held whole, up to field_max bytes (the rest of a
 * longer one is dropped and the field marked cut); a folded line is joined
 * with "\n" the way Sendmail does, the CR of CRLF dropped. The header
 * section ends at the empty line, or at the first line that is no header
 * field, which then starts the body. Body chunks are chunk_max bytes, the
 * last one shorter. Events do not depend on how the bytes were cut into
 * calls.
 */
struct mc_split {
	int state;
	int in_body;
	int last;			/* the event returned last: its data is valid until the next call */
	size_t field_max, chunk_max;
	struct mp_buf field;		/* current header field */
	size_t colon;			/* offset of its ':' + 1, 0 before it */
	int field_cut;
	struct mp_buf chunk;		/* body bytes of the next chunk */
};

void mc_split_init(struct mc_split *sp, size_t field_max, size_t chunk_max);
/* A new message: forget everything held. */
void mc_split_reset(struct mc_split *sp);
void mc_split_free(struct mc_split *sp);

/*
 * Take bytes of p[0..n) until an event is ready; returns how many were
 * taken and sets *ev (MC_SPLIT_NONE: all of them taken, nothing ready).
 * Call again with the rest.
 */
size_t mc_split_feed(struct mc_split *sp, const uint8_t *p, size_t n, int *ev);
/* The end of data: the next event of what is held, MC_SPLIT_NONE once all is out. */
int mc_split_finish(struct mc_split *sp);

/* RFC 5322 ftext: a byte allowed in a header field name (printable ASCII but the colon). */
int mc_split_ftext(int c);

/* In the body: header events are over. */
int mc_split_in_body(const struct mc_split *sp);
/* Nobody wants the body: drop what is held of it. */
void mc_split_drop_body(struct mc_split *sp);

/*
 * After MC_SPLIT_HEADER: the name (blanks before the colon trimmed) and
 * the value (everything after the colon, leading blank included); *cut
 * when the field was longer than field_max. Valid until the next call.
 */
void mc_split_field(const struct mc_split *sp, const uint8_t **name, size_t *nlen,
    const uint8_t **value, size_t *vlen, int *cut);
/* After MC_SPLIT_BODY: the chunk; valid until the next call. */
const uint8_t *mc_split_chunk(const struct mc_split *sp, size_t *len);

#endif
