/*
 * data.h - the DATA / BDAT byte scanner: dot-unstuffing, the one true
 * end-of-data line, bare <CR>/<LF> detection or normalization, size count.
 *
 * Pure and incremental: feed it whatever the socket gave, split anywhere;
 * it hands the message bytes to a sink and keeps at most two bytes of
 * state between calls. No allocation.
 */
#ifndef POSTERN_DATA_H
#define POSTERN_DATA_H

#include <stddef.h>
#include <stdint.h>

enum data_mode {
	DATA_MODE_DOT,		/* DATA: dot-stuffed, ends at <CRLF>.<CRLF> */
	DATA_MODE_RAW,		/* BDAT: no dots, the count ends a chunk; bare CR/LF policed */
	DATA_MODE_BINARY	/* BDAT with BODY=BINARYMIME: bytes pass untouched */
};

/* Called with message bytes (unstuffed; normalized when asked). */
typedef void (*data_sink)(void *ctx, const char *p, size_t n);

struct data_scan {
	int state;		/* private */
	int mode;		/* enum data_mode */
	int normalize;		/* 1: bare CR / LF become CRLF; 0: only flagged */
	int bare;		/* a bare CR or LF was seen */
	int done;		/* DATA_MODE_DOT: the end-of-data line was consumed */
	uint64_t size;		/* bytes handed to the sink */
};

void data_scan_init(struct data_scan *s, enum data_mode mode, int normalize);

/*
 * Scan len bytes. Returns how many were consumed: all of them, or fewer
 * when the end-of-data line ends inside buf (s->done is then set and the
 * rest belongs to the next command). sink may be NULL (discarding).
 */
size_t data_scan_feed(struct data_scan *s, const char *buf, size_t len, data_sink sink, void *ctx);

/* BDAT LAST: settle a <CR> held back at the end of the last chunk. */
void data_scan_finish(struct data_scan *s, data_sink sink, void *ctx);

#endif
