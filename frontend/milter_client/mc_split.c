/* mc_split.c - the header/body splitter that feeds the milter client: a byte-driven state machine. */
#include "mc_split.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

enum {
	HS_START,	/* at the start of a header-section line */
	HS_NAME,	/* in a field name */
	HS_NAME_WSP,	/* blanks between the name and its colon */
	HS_VALUE,	/* after the colon */
	HS_CR,		/* CR in a value, LF expected */
	HS_EMPTY_CR	/* CR at the start of a line: the empty line, probably */
};

void
mc_split_init(struct mc_split *sp, size_t field_max, size_t chunk_max)
{
	memset(sp, 0, sizeof(*sp));
	sp->field_max = field_max;
	sp->chunk_max = chunk_max > 0 ? chunk_max : 1;
}

void
mc_split_reset(struct mc_split *sp)
{
	sp->state = HS_START;
	sp->in_body = 0;
	sp->last = MC_SPLIT_NONE;
	sp->field.len = 0;
	sp->colon = 0;
	sp->field_cut = 0;
	sp->chunk.len = 0;
}

void
mc_split_free(struct mc_split *sp)
{
	mp_buf_free(&sp->field);
	mp_buf_free(&sp->chunk);
}

/* The data of the event returned last is handed over: let it go. */
static void
split_settle(struct mc_split *sp)
{
	if (sp->last == MC_SPLIT_HEADER) {
		sp->field.len = 0;
		sp->colon = 0;
		sp->field_cut = 0;
	} else if (sp->last == MC_SPLIT_BODY) {
		sp->chunk.len = 0;
	}
	sp->last = MC_SPLIT_NONE;
}

static int
split_event(struct mc_split *sp, int ev)
{
	sp->last = ev;
	return ev;
}

int
mc_split_ftext(int c)
{
	return c > 32 && c < 127 && c != ':';
}

static void
field_add(struct mc_split *sp, int c)
{
	if (sp->field.len >= sp->field_max) {
		sp->field_cut = 1;	/* bounded: the rest of a giant field is dropped */
		return;
	}
	if (sp->field.len == sp->field.cap) {
		sp->field.cap = sp->field.cap ? sp->field.cap * 2 : 256;
		sp->field.p = xrealloc(sp->field.p, sp->field.cap);
	}
	sp->field.p[sp->field.len++] = (uint8_t)c;
}

static void
chunk_room(struct mc_split *sp)
{
	if (sp->chunk.cap < sp->chunk_max) {
		sp->chunk.p = xrealloc(sp->chunk.p, sp->chunk_max);
		sp->chunk.cap = sp->chunk_max;
	}
}

/* The header section ends. Bytes of a line that was no header field begin the body. */
static int
to_body(struct mc_split *sp, const char *lead, size_t leadlen)
{
	size_t n = sp->field.len + leadlen;

	sp->chunk.len = 0;
	if (n > 0) {
		/* field_max < chunk_max in practice; a longer remainder is cut like a field */
		chunk_room(sp);
		if (n > sp->chunk_max)
			n = sp->chunk_max;
		memcpy(sp->chunk.p, sp->field.p, sp->field.len < n ? sp->field.len : n);
		if (sp->field.len < n)
			memcpy(sp->chunk.p + sp->field.len, lead, n - sp->field.len);
		sp->chunk.len = n;
	}
	sp->field.len = 0;
	sp->colon = 0;
	sp->field_cut = 0;
	sp->in_body = 1;
	sp->state = HS_START;
	return split_event(sp, MC_SPLIT_EOH);
}

/*
 * One byte of the header section: an event (or NONE); *took = 0 when the
 * byte belongs after that event and must be given again.
 */
static int
hdr_byte(struct mc_split *sp, int c, int *took)
{
	*took = 1;
	switch (sp->state) {
	case HS_START:
		if (sp->colon && (c == ' ' || c == '\t')) {
			field_add(sp, '\n');	/* a folded line, joined the way Sendmail does */
			field_add(sp, c);
			sp->state = HS_VALUE;
			return MC_SPLIT_NONE;
		}
		if (sp->colon) {
			*took = 0;
			return split_event(sp, MC_SPLIT_HEADER);
		}
		if (c == '\r') {
			sp->state = HS_EMPTY_CR;
			return MC_SPLIT_NONE;
		}
		if (c == '\n')
			return to_body(sp, NULL, 0);
		if (mc_split_ftext(c)) {
			field_add(sp, c);
			sp->state = HS_NAME;
			return MC_SPLIT_NONE;
		}
		*took = 0;
		return to_body(sp, NULL, 0);
	case HS_EMPTY_CR:
		if (c == '\n')
			return to_body(sp, NULL, 0);
		*took = 0;
		return to_body(sp, "\r", 1);
	case HS_NAME:
	case HS_NAME_WSP:
		if (c == ':') {
			field_add(sp, c);
			sp->colon = sp->field.len;
			sp->state = HS_VALUE;
			return MC_SPLIT_NONE;
		}
		if (c == ' ' || c == '\t') {
			field_add(sp, c);
			sp->state = HS_NAME_WSP;
			return MC_SPLIT_NONE;
		}
		if (sp->state == HS_NAME && mc_split_ftext(c) && sp->field.len < sp->field_max) {
			field_add(sp, c);
			return MC_SPLIT_NONE;
		}
		*took = 0;	/* not a header field: this line starts the body */
		return to_body(sp, NULL, 0);
	case HS_VALUE:
		if (c == '\r')
			sp->state = HS_CR;
		else if (c == '\n')
			sp->state = HS_START;
		else
			field_add(sp, c);
		return MC_SPLIT_NONE;
	case HS_CR:
		if (c == '\n') {
			sp->state = HS_START;
			return MC_SPLIT_NONE;
		}
		field_add(sp, '\r');
		sp->state = HS_VALUE;
		*took = 0;
		return MC_SPLIT_NONE;
	}
	return MC_SPLIT_NONE;
}

size_t
mc_split_feed(struct mc_split *sp, const uint8_t *p, size_t n, int *ev)
{
	size_t i = 0, take;
	int took;

	split_settle(sp);
	*ev = MC_SPLIT_NONE;
	while (i < n && !sp->in_body) {
		*ev = hdr_byte(sp, p[i], &took);
		if (took)
			i++;
		if (*ev != MC_SPLIT_NONE)
			return i;
	}
	if (i == n)
		return i;
	chunk_room(sp);
	take = sp->chunk_max - sp->chunk.len;
	if (take > n - i)
		take = n - i;
	memcpy(sp->chunk.p + sp->chunk.len, p + i, take);
	sp->chunk.len += take;
	if (sp->chunk.len == sp->chunk_max)
		*ev = split_event(sp, MC_SPLIT_BODY);
	return i + take;
}

int
mc_split_finish(struct mc_split *sp)
{
	split_settle(sp);
	if (sp->in_body)
		return sp->chunk.len > 0 ? split_event(sp, MC_SPLIT_BODY) : MC_SPLIT_NONE;
	switch (sp->state) {
	case HS_VALUE:
	case HS_CR:
		sp->state = HS_START;
		/* fall through */
	case HS_START:
		if (sp->colon)
			return split_event(sp, MC_SPLIT_HEADER);
		return to_body(sp, NULL, 0);
	case HS_EMPTY_CR:
		return to_body(sp, "\r", 1);
	}
	return to_body(sp, NULL, 0);	/* a name without colon: body text */
}

int
mc_split_in_body(const struct mc_split *sp)
{
	return sp->in_body;
}

void
mc_split_drop_body(struct mc_split *sp)
{
	sp->chunk.len = 0;
	if (sp->last == MC_SPLIT_BODY)
		sp->last = MC_SPLIT_NONE;
}

void
mc_split_field(const struct mc_split *sp, const uint8_t **name, size_t *nlen,
    const uint8_t **value, size_t *vlen, int *cut)
{
	size_t k = sp->colon > 0 ? sp->colon - 1 : 0;

	while (k > 0 && (sp->field.p[k - 1] == ' ' || sp->field.p[k - 1] == '\t'))
		k--;
	*name = sp->field.p;
	*nlen = k;
	*value = sp->field.p + sp->colon;
	*vlen = sp->field.len - sp->colon;
	*cut = sp->field_cut;
}

const uint8_t *
mc_split_chunk(const struct mc_split *sp, size_t *len)
{
	*len = sp->chunk.len;
	return sp->chunk.p;
}
