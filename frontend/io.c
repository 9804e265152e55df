/* io.c - non-blocking socket I/O for sessions, plain or TLS, with a lazily allocated output buffer. */
#include "io.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_OUT_MIN	512

void
io_init(struct io *io, int fd)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
}

void
io_close(struct io *io)
{
	if (io->tls) {
		tls_conn_bye(io->tls);
		tls_conn_free(io->tls);
		io->tls = NULL;
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	free(io->out);
	io->out = NULL;
	io->olen = io->ooff = io->ocap = 0;
}

ssize_t
io_read(struct io *io, void *buf, size_t len)
{
	ssize_t n;

	if (io->tls) {
		n = tls_conn_read(io->tls, buf, len);
		if (n > 0)
			return n;
		switch (n) {
		case TLS_WANT_READ:
			return IO_AGAIN;
		case TLS_WANT_WRITE:
			return IO_WANT_WRITE;
		case TLS_CLOSED:
			return IO_EOF;
		case 0:
			return IO_EOF;
		default:
			return errno == ECONNRESET ? IO_RESET : IO_ERROR;
		}
	}
	for (;;) {
		n = recv(io->fd, buf, len, 0);
		if (n > 0)
			return n;
		if (n == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return IO_AGAIN;
		return errno == ECONNRESET ? IO_RESET : IO_ERROR;
	}
}

size_t
io_pending_in(struct io *io)
{
	return io->tls ? tls_conn_pending(io->tls) : 0;
}

void
io_queue(struct io *io, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (io->ooff > 0 && io->ooff == io->olen)
		io->ooff = io->olen = 0;
	if (io->olen + n > io->ocap) {
		size_t cap = io->ocap ? io->ocap : IO_OUT_MIN;
		if (io->ooff > 0) {
			/* Slide the unsent part down before growing. */
			memmove(io->out, io->out + io->ooff, io->olen - io->ooff);
			io->olen -= io->ooff;
			io->ooff = 0;
		}
		while (cap < io->olen + n)
			cap *= 2;
		if (cap != io->ocap) {
			io->out = xrealloc(io->out, cap);
			io->ocap = cap;
		}
	}
	memcpy(io->out + io->olen, p, n);
	io->olen += n;
}

size_t
io_pending_out(const struct io *io)
{
	return io->olen - io->ooff;
}

int
io_flush(struct io *io)
{
	while (io->ooff < io->olen) {
		size_t left = io->olen - io->ooff;
		ssize_t n;

		if (io->tls) {
			n = tls_conn_write(io->tls, io->out + io->ooff, left);
			if (n == TLS_WANT_WRITE || n == TLS_WANT_READ)
				return IO_AGAIN;
			if (n <= 0)
				return errno == ECONNRESET ? IO_RESET : IO_ERROR;
		} else {
			n = send(io->fd, io->out + io->ooff, left, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return IO_AGAIN;
				return errno == ECONNRESET || errno == EPIPE ? IO_RESET : IO_ERROR;
			}
		}
		io->ooff += (size_t)n;
	}
	/* Idle sessions keep no buffer. */
	free(io->out);
	io->out = NULL;
	io->olen = io->ooff = io->ocap = 0;
	return 0;
}
