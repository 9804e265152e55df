/* strbuf.c - a growable, NUL-terminated text buffer (strbuf.h). */
#include "strbuf.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Room for need more bytes and the NUL, doubling so appends stay linear. */
static void
strbuf_grow(struct strbuf *b, size_t need)
{
	if (b->len + need + 1 <= b->cap)
		return;
	b->cap = (b->len + need + 1) * 2;
	b->p = xrealloc(b->p, b->cap);
}

void
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			n = 0;	/* an encoding error: nothing appended */
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		strbuf_grow(b, (size_t)n);
	}
}

void
strbuf_add(struct strbuf *b, const char *p, size_t n)
{
	strbuf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}
