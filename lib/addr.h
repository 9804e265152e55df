/* addr.h - RFC 5322 address-list parser (headers) and RFC 5321 path parser (envelope).
 *
 * Hand-written: no Debian C library parses RFC 5322 address lists with groups,
 * comments, RFC 2047 words and RFC 6532 UTF-8 with precise error reasons.
 * Bounded: inputs longer than ADDR_MAX_INPUT or lists of more than
 * ADDR_MAX_MAILBOXES mailboxes are refused with a reason.
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX		256	/* bytes incl. NUL; RFC 5321 allows 64 octets, we keep UTF-8 room */
#define ADDR_DOMAIN_MAX		256
#define ADDR_DISPLAY_MAX	256
#define ADDR_MAX_INPUT		65536
#define ADDR_MAX_MAILBOXES	1000

typedef struct addr_mailbox {
	char local[ADDR_LOCAL_MAX];	/* unquoted local part (quotes and escapes removed) */
	char domain[ADDR_DOMAIN_MAX];	/* as written, UTF-8 allowed; domain literals keep their brackets */
	char display[ADDR_DISPLAY_MAX];	/* display name, RFC 2047 decoded to UTF-8, may be "" */
	int local_quoted;		/* the local part was a quoted-string */
} addr_mailbox;

/* Called for each mailbox found; return non-zero to stop parsing (the parse then returns that value). */
typedef int (*addr_cb)(void *ctx, const addr_mailbox *mb);

/*
 * Parse an address-list / mailbox-list header value (From, To, Cc, Bcc,
 * Sender, Reply-To), folded or not. Returns 0 when the whole value parsed,
 * -1 on a syntax error with *reason set to a short static English phrase
 * such as "Local address ends with dot" or "Missing domain" (ASCII, no '%').
 * allow_empty: an empty list (e.g. "undisclosed-recipients:;" or "") is fine.
 * The callback sees every mailbox, group members included.
 * The callback only runs once the whole value has parsed (a first pass checks
 * it), so it never sees mailboxes of a value that is then refused. When the
 * callback stops the parse, *reason is left untouched: return a positive value.
 * Domains are checked for DNS syntax (U-labels included: hyphens, A-label of
 * at most 63 octets); IDNA2008 validity is addr_domain_to_ascii()'s job.
 * All reasons are listed at the top of addr.c.
 */
int addr_parse_list(const char *value, size_t len, int allow_empty,
    addr_cb cb, void *ctx, const char **reason);

/*
 * Parse an SMTP path as given after "MAIL FROM:" or "RCPT TO:" up to the
 * first parameter: "<local@domain>", "<>" (null, only when allow_null), or
 * with a source route "<@a,@b:local@domain>" (route ignored). UTF-8 accepted
 * when utf8 is set (SMTPUTF8). On success fills mb (display empty), sets
 * *is_null, and returns the number of bytes consumed; -1 with *reason on error.
 * Blanks before the '<' are skipped and counted ("MAIL FROM: <a@b>" is
 * common); the local part may be 64 octets as written, quotes included.
 */
int addr_parse_path(const char *s, size_t len, int allow_null, int utf8,
    addr_mailbox *mb, int *is_null, const char **reason);

/* Convert a domain to lowercase A-label form (libidn2) for comparisons; 0 ok, -1 invalid.
 * IDNA2008 non-transitional first, UTS #46 transitional as fallback (emoji
 * domains); ASCII names and domain literals are only lowercased; out is "" on -1. */
int addr_domain_to_ascii(const char *domain, char *out, size_t outsize);

/* Decode RFC 2047 encoded-words in a header value (unstructured text) into UTF-8.
 * Returns the length written (out always NUL-terminated, truncated to outsize).
 * Malformed words, unknown charsets and, to bound iconv_open() cost, charsets
 * after the fourth that needs iconv stay as written; folding is removed;
 * invalid UTF-8 and NUL in the result become '?' (see lib/rfc2047.c). */
size_t addr_decode_2047(const char *in, size_t len, char *out, size_t outsize);

#endif
