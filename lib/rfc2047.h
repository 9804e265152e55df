/* rfc2047.h - RFC 2047 encoded-word decoder into UTF-8, bounded, never fails.
 *
 * The public entry point is addr_decode_2047() in addr.h; this header is the
 * module's external interface for lib/addr.c.
 */
#ifndef POSTERN_RFC2047_H
#define POSTERN_RFC2047_H

#include <iconv.h>
#include <stddef.h>

/*
 * Converters stay open across words and calls sharing a cache. Opening one
 * can cost milliseconds (glibc dlopens a gconv module), so a cache tries at
 * most RFC2047_CONV_MAX distinct charsets: words in further ones stay as
 * written. Real headers use one or two. Fields are private.
 */
#define RFC2047_CONV_MAX	4
#define RFC2047_CHARSET_MAX	64	/* longest charset name looked up; IANA names are under 45 */

typedef struct rfc2047_cache {
	unsigned n;
	struct {
		char name[RFC2047_CHARSET_MAX + 1];
		iconv_t cd;		/* (iconv_t)-1: iconv does not know it */
	} slot[RFC2047_CONV_MAX];
} rfc2047_cache;

void rfc2047_cache_init(rfc2047_cache *c);
void rfc2047_cache_free(rfc2047_cache *c);

/* rfc2047_decode() with the caller's converter cache, e.g. one per header. */
size_t rfc2047_decode_cached(rfc2047_cache *c, const char *in, size_t len,
    char *out, size_t outsize);

/*
 * Decode the encoded-words of an unstructured header value into UTF-8 in out
 * (outsize bytes, NUL included). Malformed words, words in a charset
 * iconv(3) does not know and words beyond the cache's RFC2047_CONV_MAX
 * charsets (UTF-8, US-ASCII, ISO-8859-1 do not count) are copied as
 * written; folding line breaks are
 * removed; invalid UTF-8 and NUL bytes in the result become '?'. Returns the
 * length written; out is always NUL-terminated when outsize > 0.
 */
size_t rfc2047_decode(const char *in, size_t len, char *out, size_t outsize);

/* Length of the valid UTF-8 sequence at s (RFC 3629 §4), 0 when invalid or cut short. */
size_t rfc2047_utf8_seqlen(const unsigned char *s, size_t n);

#endif
