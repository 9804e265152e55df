/* mime_decode.h - private to the MIME scanner: streaming body decoders and header field values.
 *
 * Not part of the module interface (that is mime.h); split out so that
 * mime.c holds only the line and entity state machine.
 */
#ifndef POSTERN_MIME_DECODE_H
#define POSTERN_MIME_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "mime.h"

/* Decoded bytes collect here; handed out when it fills, at the end of the part, or before an error. */
#define MIME_DEC_OBUF	16384

typedef void (*mime_dec_out)(void *arg, const unsigned char *p, size_t n);

/* Streaming base64 / quoted-printable decoder: state survives any input split. */
typedef struct mime_dec {
	enum mime_cte cte;
	uint32_t acc;			/* base64: bits of the current quantum */
	unsigned cnt;			/* base64: characters in the current quantum */
	int pad;			/* base64: '=' padding seen */
	int qp;				/* quoted-printable: escape state */
	unsigned char qphex;		/* quoted-printable: first hex digit of "=XX" */
	size_t olen;
	unsigned char obuf[MIME_DEC_OBUF];
} mime_dec;

void mime_dec_init(mime_dec *d, enum mime_cte cte);
/*
 * Decode p[0..n). Returns n; for invalid base64, *bad is set, the output
 * before the bad byte is flushed and the count up to and including it returned.
 */
size_t mime_dec_feed(mime_dec *d, const char *p, size_t n, mime_dec_out out, void *arg, int *bad);
/* End of the part: flush. Returns -1 for an impossible final base64 quantum (nothing flushed then). */
int mime_dec_finish(mime_dec *d, mime_dec_out out, void *arg);

enum mime_bstat { MIME_BOUNDARY_NONE, MIME_BOUNDARY_OK, MIME_BOUNDARY_BAD };

/* What a Content-Type field says. */
struct mime_ctinfo {
	char type[MIME_TYPE_MAX];	/* lowercased "type/subtype", "" when unparseable */
	char boundary[MIME_BOUNDARY_MAX];
	enum mime_bstat bstat;
	char charset[MIME_CHARSET_MAX];	/* lowercased */
	char name[MIME_FILENAME_MAX];	/* name= (RFC 2231 / 2047 decoded, UTF-8) */
};

/*
 * Field value parsers. val is the unfolded value; scratch (at least
 * strlen(val) + 1 bytes) holds unquoted parameter values meanwhile.
 * Outputs are NUL-terminated and truncated to their size.
 */
void mime_parse_ctype(const char *val, char *scratch, size_t scratchsz, struct mime_ctinfo *ct);
void mime_parse_disposition(const char *val, char *scratch, size_t scratchsz,
    char *disp, size_t dispsz, char *filename, size_t filenamesz);
enum mime_cte mime_parse_cte(const char *val);
void mime_parse_cid(const char *val, char *cid, size_t cidsz);

#endif
