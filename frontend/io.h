/*
 * io.h - the byte layer under a session: one non-blocking socket, plain or
 * through a tls_conn, and an output buffer that exists only while replies
 * wait to be written (idle sessions hold no buffers).
 */
#ifndef POSTERN_IO_H
#define POSTERN_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "tls.h"

enum io_status {
	IO_AGAIN = -1,		/* nothing now: wait for readable */
	IO_WANT_WRITE = -2,	/* TLS needs the socket writable first */
	IO_EOF = -3,		/* orderly close (FIN or TLS close_notify) */
	IO_RESET = -4,		/* connection reset by the peer */
	IO_ERROR = -5		/* anything else: drop the connection */
};

struct io {
	int fd;
	tls_conn *tls;		/* NULL: plain text */
	char *out;		/* pending output, NULL when empty */
	size_t olen, ooff, ocap;
};

void io_init(struct io *io, int fd);
/* Free buffers and the TLS state; the fd is closed too. */
void io_close(struct io *io);

/* >0 bytes read, or an io_status. */
ssize_t io_read(struct io *io, void *buf, size_t len);
/* Decrypted bytes waiting inside TLS (read them before polling again). */
size_t io_pending_in(struct io *io);

/* Queue output (copied). */
void io_queue(struct io *io, const char *p, size_t n);
size_t io_pending_out(const struct io *io);
/*
 * Write what is queued: 0 all written, IO_AGAIN (wait writable),
 * IO_WANT_WRITE never, IO_AGAIN also when TLS wants a read (rare; retried
 * on the next event), IO_ERROR / IO_RESET on failure.
 */
int io_flush(struct io *io);

#endif
