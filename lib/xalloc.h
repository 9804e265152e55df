/* xalloc.h - allocation wrappers that never return NULL (they abort on exhaustion). */
#ifndef POSTERN_XALLOC_H
#define POSTERN_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* strlcpy-like copy: returns 0 when the whole of src fit, -1 when it was truncated. */
int xstrlcpy(char *dst, const char *src, size_t dstsize);

#endif
