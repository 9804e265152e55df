/*
 * proxy.h - the PROXY protocol header (HAProxy's v1 text and v2 binary
 * forms, told apart by their first byte): a streaming, bounded parser
 * that does no I/O, so that it can be fed byte by byte or in any split.
 */
#ifndef POSTERN_PROXY_H
#define POSTERN_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#define PROXY_V1_MAX		107	/* the longest v1 line, CRLF included (the spec's bound) */
#define PROXY_V2_HDR		16	/* signature, version/command, family, length */
#define PROXY_V2_ADDR_MAX	216	/* the largest address block (AF_UNIX) */
#define PROXY_V2_LEN_MAX	4096	/* address block plus TLVs: longer is refused as oversized */

enum proxy_status { PROXY_ERROR = -1, PROXY_MORE = 0, PROXY_DONE = 1 };

enum proxy_command {
	PROXY_CMD_PROXY,	/* src/dst hold the client and the address it connected to */
	PROXY_CMD_UNKNOWN,	/* v1 UNKNOWN, v2 UNSPEC/UNIX: the proxy does not know; keep the peer */
	PROXY_CMD_LOCAL		/* v2 LOCAL: the proxy's own connection (a health check) */
};

struct proxy_result {
	int version;			/* 1 or 2 */
	enum proxy_command command;
	struct sockaddr_storage src, dst;	/* PROXY_CMD_PROXY only */
};

/* The state between calls; zero it with proxy_init. */
struct proxy_parser {
	unsigned char buf[PROXY_V2_HDR + PROXY_V2_ADDR_MAX];	/* TLVs past it are counted, not kept */
	size_t total;			/* bytes of the header taken so far */
	size_t need;			/* v2: the whole header's length, once its first 16 bytes are in */
	int version;			/* 0: not known yet */
};

void proxy_init(struct proxy_parser *p);

/*
 * How many more bytes the header may have at most: a reader that peeks
 * this much never takes a byte of what follows (the TLS ClientHello of
 * an implicit-TLS listener).
 */
size_t proxy_want(const struct proxy_parser *p);

/*
 * Take up to len bytes. *used says how many were taken (the header ends
 * there on PROXY_DONE). PROXY_DONE fills res; PROXY_ERROR sets why (a
 * static string) and the parser must not be fed again.
 */
enum proxy_status proxy_feed(struct proxy_parser *p, const void *data, size_t len, size_t *used,
    struct proxy_result *res, const char **why);

#endif
