/* reply.c - the reply table, made from REPLY_ROWS in reply.h, and its formatters. */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#define REPLY_TABLE_ROW(id, c, x, t) [id] = { c, x, t, 0 },
#define REPLY_TABLE_ARG(id, c, x, t) [id] = { c, x, t, 1 },

static const struct reply_row reply_table[REPLY_COUNT] = {
	REPLY_ROWS(REPLY_TABLE_ROW, REPLY_TABLE_ARG)
};

const struct reply_row *
reply_get(enum reply_id id)
{
	if ((unsigned)id >= REPLY_COUNT)
		id = R_SYSTEM_FAILURE;
	return &reply_table[id];
}

size_t
reply_text(enum reply_id id, const char *arg, char *out, size_t outsize)
{
	const struct reply_row *r = reply_get(id);
	const char *lt, *gt;
	int n;

	if (outsize == 0)
		return 0;
	if (!r->has_arg || (lt = strchr(r->text, '<')) == NULL ||
	    (gt = strchr(lt, '>')) == NULL) {
		n = snprintf(out, outsize, "%s", r->text);
	} else {
		n = snprintf(out, outsize, "%.*s%s%s", (int)(lt - r->text),
		    r->text, arg ? arg : "", gt + 1);
	}
	if (n < 0)
		n = 0;
	return (size_t)n >= outsize ? outsize - 1 : (size_t)n;
}

size_t
reply_format(enum reply_id id, const char *arg, char *out, size_t outsize)
{
	const struct reply_row *r = reply_get(id);
	char text[1024];
	int n;

	reply_text(id, arg, text, sizeof(text));
	if (r->xcode)
		n = snprintf(out, outsize, "%d %s %s", r->code, r->xcode, text);
	else
		n = snprintf(out, outsize, "%d %s", r->code, text);
	if (n < 0)
		n = 0;
	if (outsize == 0)
		return 0;
	return (size_t)n >= outsize ? outsize - 1 : (size_t)n;
}
