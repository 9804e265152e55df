/* mime.h - streaming MIME scanner: parts, decoded sizes and structural errors in bounded memory.
 *
 * Hand-written because no Debian library streams MIME with bounded memory
 * (GMime and libmimetic build a tree of the whole message). Feed it the whole
 * message (top-level header block, blank line, body) in chunks of any size:
 * splitting the input anywhere gives the same callbacks and the same result.
 * Memory is bounded by mime_limits, independently of the message size.
 */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stddef.h>
#include <stdint.h>

/* Defaults, documented in postern.conf(5) (policy_max_mime_*). */
#define MIME_DEFAULT_MAX_DEPTH		32	/* nested multipart/message levels */
#define MIME_DEFAULT_MAX_PARTS		1000	/* entities per message, top level included */
#define MIME_DEFAULT_MAX_HEADER		16384	/* bytes of one (unfolded) header field */
#define MIME_DEFAULT_MAX_HEADERS	1000	/* header fields per entity */

#define MIME_TYPE_MAX		128
#define MIME_BOUNDARY_MAX	72	/* RFC 2046: 1..70 chars, + NUL */
#define MIME_DISP_MAX		32
#define MIME_FILENAME_MAX	256
#define MIME_CID_MAX		256
#define MIME_CHARSET_MAX	64

/* A zero field means its default. max_header is capped at 1 MiB (two buffers of it are allocated). */
typedef struct mime_limits {
	unsigned max_depth;
	unsigned max_parts;
	size_t max_header;
	unsigned max_headers;
} mime_limits;

enum mime_cte {
	MIME_CTE_7BIT = 0, MIME_CTE_8BIT, MIME_CTE_BINARY,
	MIME_CTE_BASE64, MIME_CTE_QP, MIME_CTE_UNKNOWN
};

enum mime_error {
	MIME_OK = 0,
	MIME_ERR_NO_BOUNDARY,		/* multipart/ * without a boundary parameter */
	MIME_ERR_BAD_BOUNDARY,		/* empty, longer than 70, or illegal characters */
	MIME_ERR_NO_OPENING,		/* multipart body never reaches its first delimiter */
	MIME_ERR_NO_CLOSING,		/* multipart ends without its close-delimiter */
	MIME_ERR_TOO_DEEP,		/* nesting beyond max_depth */
	MIME_ERR_TOO_MANY_PARTS,	/* more than max_parts entities */
	MIME_ERR_BAD_HEADER,		/* broken header field: no colon, bad name, continuation of nothing */
	MIME_ERR_BAD_BASE64,		/* invalid characters or length in base64 content */
	MIME_ERR_HEADER_TOO_LONG,	/* a header field over max_header bytes */
	MIME_ERR_TOO_MANY_HEADERS	/* more than max_headers fields in one header block */
};

/* One entity. Strings are NUL-terminated, truncated to their buffer. */
typedef struct mime_part {
	unsigned index;			/* 0 = the message itself, then in order of appearance */
	unsigned depth;			/* 0 = top level */
	char content_type[MIME_TYPE_MAX];	/* lowercased "type/subtype"; default applied */
	int has_content_type;		/* a Content-Type header was present */
	char boundary[MIME_BOUNDARY_MAX];	/* multiparts only */
	char disposition[MIME_DISP_MAX];	/* lowercased "attachment", "inline" or "" */
	char filename[MIME_FILENAME_MAX];	/* disposition filename= (RFC 2231 and 2047 decoded) or type name=;
						   UTF-8, invalid bytes as '?' */
	char content_id[MIME_CID_MAX];	/* without the angle brackets */
	char charset[MIME_CHARSET_MAX];	/* lowercased */
	enum mime_cte cte;
	int is_multipart;		/* content_type is multipart/ * */
	int is_message;			/* message/rfc822 (or message/global): the content is an entity */
	uint64_t raw_size;		/* encoded body bytes, valid at part_end */
	uint64_t decoded_size;		/* bytes after base64/QP decoding, valid at part_end */
} mime_part;

/*
 * The part pointer is valid during the call only; its strings are final from
 * part_begin on. After the first error no callback is made at all.
 */
typedef struct mime_callbacks {
	/* Each header field of an entity, unfolded (the CRLF of each fold removed, its WSP kept),
	 * raw value with leading WSP stripped. Optional. */
	void (*header)(void *ctx, const mime_part *p, const char *name, const char *value);
	/* After an entity's header block. */
	void (*part_begin)(void *ctx, const mime_part *p);
	/* Decoded content of a leaf entity (not multipart, not message/rfc822), in chunks. Optional. */
	void (*part_data)(void *ctx, const mime_part *p, const unsigned char *data, size_t len);
	/* End of an entity; sizes are final. */
	void (*part_end)(void *ctx, const mime_part *p);
} mime_callbacks;

typedef struct mime_scanner mime_scanner;

/* lim may be NULL for the defaults, cb NULL for none. cb and ctx are not copied: they must outlive the scanner. */
mime_scanner *mime_scanner_new(const mime_callbacks *cb, void *ctx, const mime_limits *lim);
/* Feed the next bytes (any split, CRLF or bare LF line ends). After an error, further input is ignored. */
void mime_scanner_feed(mime_scanner *s, const char *data, size_t len);
/* End of input: closes open entities (part_end, unless an error stopped the scan),
 * returns the first error met (MIME_OK if none). */
enum mime_error mime_scanner_finish(mime_scanner *s);
enum mime_error mime_scanner_error(const mime_scanner *s);
/* Human-readable reason for logs, e.g. "multipart without boundary". */
/*
 * Is s (from mime_error_str) a header limit (MIME_ERR_HEADER_TOO_LONG,
 * MIME_ERR_TOO_MANY_HEADERS) rather than broken MIME? Those are answered
 * naming the limit, multipart or not; the text already does.
 */
int mime_error_is_header_limit(const char *s);
const char *mime_error_str(enum mime_error e);
void mime_scanner_free(mime_scanner *s);

#endif
