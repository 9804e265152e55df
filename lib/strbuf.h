/* strbuf.h - a growable, NUL-terminated text buffer for documents built piece by piece (DSNs, metrics pages). */
#ifndef POSTERN_STRBUF_H
#define POSTERN_STRBUF_H

#include <stddef.h>

/* p is the caller's to free once done; p[len] is '\0' after any append. */
struct strbuf {
	char *p;
	size_t len, cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

/* Append formatted text, growing as needed (xrealloc: never fails). */
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append n bytes as they are. */
void strbuf_add(struct strbuf *b, const char *p, size_t n);

#endif
