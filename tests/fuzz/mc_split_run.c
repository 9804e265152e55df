/* mc_split_run.c - drive mc_split over a buffer, check its promises, render its events as text. */
#include "mc_split_run.h"
#include "frontend/milter_client/mc_split.h"

#include <stdlib.h>
#include <string.h>

struct out {
	char *p;
	size_t len, cap;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->p = realloc(o->p, o->cap);
		if (o->p == NULL)
			abort();
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
out_esc(struct out *o, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			out_add(o, "\\r", 2);
		else if (p[i] == '\n')
			out_add(o, "\\n", 2);
		else if (p[i] == '\0')
			out_add(o, "\\0", 2);
		else
			out_add(o, (const char *)p + i, 1);
	}
}

/* One event into the text; 0, or -1 with why when it breaks a promise. */
static int
render(struct mc_split *sp, int ev, int *seen_eoh, struct out *o, const char **why)
{
	const uint8_t *name, *val, *chunk;
	size_t nlen, vlen, clen;
	int cut;

	switch (ev) {
	case MC_SPLIT_HEADER:
		if (*seen_eoh)
			return *why = "header after the end of the header section", -1;
		mc_split_field(sp, &name, &nlen, &val, &vlen, &cut);
		if (nlen + vlen + 1 > sp->field_max)
			return *why = "field over field_max", -1;
		out_add(o, cut ? "[H* " : "[H ", cut ? 4 : 3);
		out_esc(o, name, nlen);
		out_add(o, "|", 1);
		out_esc(o, val, vlen);
		out_add(o, "]", 1);
		return 0;
	case MC_SPLIT_EOH:
		if ((*seen_eoh)++)
			return *why = "two ends of the header section", -1;
		out_add(o, "[E]", 3);
		return 0;
	case MC_SPLIT_BODY:
		chunk = mc_split_chunk(sp, &clen);
		if (!*seen_eoh)
			return *why = "body before the end of the header section", -1;
		if (clen == 0 || clen > sp->chunk_max)
			return *why = "empty chunk or chunk over chunk_max", -1;
		out_add(o, "[B ", 3);
		out_esc(o, chunk, clen);
		out_add(o, "]", 1);
		return 0;
	}
	return 0;
}

char *
mc_split_run(const uint8_t *p, size_t n, size_t piece, size_t field_max, size_t chunk_max,
    const char **why)
{
	struct mc_split sp;
	struct out o = { NULL, 0, 0 };
	size_t off = 0, took, rounds = 0;
	int ev, seen_eoh = 0;

	*why = NULL;
	out_add(&o, "", 0);
	mc_split_init(&sp, field_max, chunk_max);
	while (off < n && *why == NULL) {
		took = mc_split_feed(&sp, p + off, n - off < piece ? n - off : piece, &ev);
		if (took == 0 && ev == MC_SPLIT_NONE)
			*why = "no progress";
		else
			render(&sp, ev, &seen_eoh, &o, why);
		off += took;
	}
	/* The end: the splitter owes at most one field, the EOH and the held chunk. */
	while (*why == NULL && (ev = mc_split_finish(&sp)) != MC_SPLIT_NONE) {
		if (++rounds > 3)
			*why = "no end after the end of data";
		else
			render(&sp, ev, &seen_eoh, &o, why);
	}
	if (*why == NULL && !seen_eoh)
		*why = "no end of the header section";
	mc_split_free(&sp);
	if (*why != NULL) {
		free(o.p);
		return NULL;
	}
	return o.p;
}
