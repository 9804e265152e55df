/* smtp_client_io.c - a next-hop connection's plumbing: connect (every address in turn), non-blocking reads and writes, plain or TLS, timers, close. */
#include "hop_int.h"
#include "log.h"
#include "relay_metrics.h"
#include "xalloc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);
static void conn_connect_next(struct hop_conn *c);
static void conn_resolved(void *arg, int rc, struct addrinfo *res);

static const char *const conn_state_names[] = {
	[CS_CONNECT] = "connect", [CS_GREETING] = "greeting", [CS_EHLO] = "ehlo",
	[CS_HELO] = "helo", [CS_STARTTLS] = "starttls", [CS_TLS_HANDSHAKE] = "tls-handshake",
	[CS_AUTH] = "auth", [CS_AUTH_LOGIN_USER] = "auth-login-user",
	[CS_AUTH_LOGIN_PASS] = "auth-login-pass", [CS_IDLE] = "idle", [CS_RSET] = "rset",
	[CS_MAILGROUP] = "mail", [CS_BODY] = "body", [CS_DATA_END] = "data-end",
	[CS_DISCARD] = "discard", [CS_DECIDED] = "decided", [CS_CLOSED] = "closed",
};

const char *
conn_id(const struct hop_conn *c)
{
	return c->w ? c->w->job->id : "-";
}

void
conn_enter(struct hop_conn *c)
{
	c->in_cb++;
}

static void
conn_free(struct hop_conn *c)
{
	smtp_reply_free(&c->reply);
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	free(c);
}

void
conn_leave(struct hop_conn *c)
{
	if (--c->in_cb == 0 && c->dead)
		conn_free(c);
}

void
conn_set_state(struct hop_conn *c, enum conn_state st, int timeout)
{
	if (c->state != st)
		log_debug("%s: %s %s -> %s", conn_id(c), c->h->addr.desc,
		    conn_state_names[c->state], conn_state_names[st]);
	c->state = st;
	if (c->ev_timer != NULL) {
		if (timeout > 0) {
			struct timeval tv = { hop_timeout(c->h, timeout), 0 };
			event_add(c->ev_timer, &tv);
		} else {
			event_del(c->ev_timer);
		}
	}
}

/* Try to write what is queued: 0 done, 1 waiting for writable, -1 error (c->last_err). */
static int
conn_flush(struct hop_conn *c)
{
	while (evbuffer_get_length(c->out) > 0) {
		size_t len = evbuffer_get_length(c->out);
		ssize_t n;

		if (c->tls != NULL) {
			/* GnuTLS wants the very same bytes again after "try again". */
			if (c->tls_wlen > 0)
				len = c->tls_wlen;
			else if (len > 16384)
				len = 16384;
			n = client_tls_write(c->tls, evbuffer_pullup(c->out, (ssize_t)len), len);
			if (n == CTLS_WANT_READ || n == CTLS_WANT_WRITE) {
				c->tls_wlen = len;
				event_add(c->ev_write, NULL);
				return 1;
			}
			c->tls_wlen = 0;
			if (n < 0) {
				snprintf(c->last_err, sizeof(c->last_err), "%s",
				    client_tls_error(c->tls));
				return -1;
			}
		} else {
			struct evbuffer_iovec v;
			if (evbuffer_peek(c->out, -1, NULL, &v, 1) < 1)
				break;
			n = send(c->fd, v.iov_base, v.iov_len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					event_add(c->ev_write, NULL);
					return 1;
				}
				snprintf(c->last_err, sizeof(c->last_err), "%s", strerror(errno));
				return -1;
			}
		}
		evbuffer_drain(c->out, (size_t)n);
	}
	return 0;
}

void
conn_write(struct hop_conn *c, const char *p, size_t n)
{
	evbuffer_add(c->out, p, n);
	event_add(c->ev_write, NULL);
}

void
conn_send(struct hop_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(c->out, fmt, ap);
	va_end(ap);
	evbuffer_add(c->out, "\r\n", 2);
	event_add(c->ev_write, NULL);
}

/* Drop the fd and its events; the struct stays until no callback holds it. */
static void
conn_drop_fd(struct hop_conn *c)
{
	if (c->ev_read) {
		event_free(c->ev_read);
		event_free(c->ev_write);
		c->ev_read = c->ev_write = NULL;
	}
	if (c->tls != NULL) {
		client_tls_conn_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->tls_wlen = 0;
	if (c->out)
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
}

void
conn_close(struct hop_conn *c, int quit)
{
	relay_hop *h = c->h;

	if (c->dead)
		return;
	/* No QUIT when GnuTLS still holds a half-sent record: it wants those bytes first. */
	if (quit && c->fd >= 0 && c->state != CS_CONNECT && c->state != CS_TLS_HANDSHAKE &&
	    c->tls_wlen == 0) {
		/* One try, never waiting: the next hop's 221 adds nothing. */
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		evbuffer_add(c->out, "QUIT\r\n", 6);
		(void)conn_flush(c);
		if (c->tls)
			client_tls_bye(c->tls);
	}
	conn_drop_fd(c);
	if (c->resolve != NULL) {
		hop_resolve_cancel(c->resolve);
		c->resolve = NULL;
		c->in_cb--;	/* the lookup's reference: conn_resolved() will not run */
	}
	if (c->ev_timer) {
		event_free(c->ev_timer);
		c->ev_timer = NULL;
	}
	if (c->out) {
		evbuffer_free(c->out);
		c->out = NULL;
	}
	tx_clear(c);
	c->state = CS_CLOSED;
	c->dead = 1;
	TAILQ_REMOVE(&h->conns, c, link);
	h->nconns--;
	if (c->in_cb == 0)
		conn_free(c);
}

struct hop_conn *
conn_new(relay_hop *h, struct hop_wait *w)
{
	struct hop_conn *c = xcalloc(1, sizeof(*c));
	struct timeval now = { 0, 0 };

	c->h = h;
	c->w = w;
	c->fd = -1;
	c->state = CS_CONNECT;
	c->out = evbuffer_new();
	smtp_reply_init(&c->reply);
	c->ev_timer = evtimer_new(h->base, conn_on_timer, c);
	TAILQ_INSERT_TAIL(&h->conns, c, link);
	h->nconns++;
	/* Connect from the loop, so done() never runs inside relay_hop_deliver(). */
	event_add(c->ev_timer, &now);
	return c;
}

static int
conn_set_fd(struct hop_conn *c, int fd)
{
	c->fd = fd;
	c->ev_read = event_new(c->h->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->ev_write = event_new(c->h->base, fd, EV_WRITE, conn_on_write, c);
	return 0;
}

static void
conn_connected(struct hop_conn *c)
{
	relay_metrics_connection(1);
	if (c->w != NULL)
		log_debug("%s: connected to %s", c->w->job->id, c->h->addr.desc);
	event_del(c->ev_write);
	event_add(c->ev_read, NULL);
	conn_set_state(c, CS_GREETING, HOP_GREETING_TIMEOUT);
}

/* Start one connect; 1 in progress or done, 0 failed (c->last_err). */
static int
conn_try(struct hop_conn *c, const struct sockaddr *sa, socklen_t salen, int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(c->last_err, sizeof(c->last_err), "socket: %s", strerror(errno));
		return 0;
	}
	conn_set_fd(c, fd);
	/*
	 * No Nagle: the end of a message (the dot line, or a pipelined group)
	 * is a small write after a large one, and Nagle held it until the
	 * next hop's delayed ACK. Measured with 5 KB messages to smtp-sink:
	 * 320 msgs/s with Nagle, 1,650 without.
	 */
	if (family != AF_UNIX) {
		int one = 1;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
			log_debug("TCP_NODELAY: %s", strerror(errno));
	}
	if (connect(fd, sa, salen) == 0) {
		conn_connected(c);
		return 1;
	}
	if (errno == EINPROGRESS) {
		struct timeval tv = { hop_timeout(c->h, HOP_CONNECT_TIMEOUT), 0 };
		event_add(c->ev_write, NULL);
		event_add(c->ev_timer, &tv);
		return 1;
	}
	snprintf(c->last_err, sizeof(c->last_err), "%s", strerror(errno));
	conn_drop_fd(c);
	return 0;
}

/* Next address of the hop (a name may have several); none left: defer with the last error. */
static void
conn_connect_next(struct hop_conn *c)
{
	relay_hop *h = c->h;
	char reason[512];

	if (h->addr.is_unix) {
		if (c->ai_next == NULL && c->last_err[0] == '\0') {
			struct sockaddr_un sun;
			memset(&sun, 0, sizeof(sun));
			sun.sun_family = AF_UNIX;
			memcpy(sun.sun_path, h->addr.path, strlen(h->addr.path) + 1);
			if (conn_try(c, (struct sockaddr *)&sun, sizeof(sun), AF_UNIX))
				return;
		}
	} else {
		if (c->resolve != NULL)
			return;		/* conn_resolved() comes back here */
		if (c->ai_list == NULL && c->last_err[0] == '\0') {
			struct addrinfo hints;
			int rc;

			if (!hop_addr_is_ip(h->addr.host)) {
				log_debug("%s: looking up %s", conn_id(c), h->addr.host);
				c->resolve = hop_resolve_start(h->base, h->addr.host, h->addr.port,
				    h->addr.family, conn_resolved, c);
				if (c->resolve != NULL) {
					struct timeval tv = { hop_timeout(h, HOP_CONNECT_TIMEOUT), 0 };
					c->in_cb++;	/* held until the lookup reports or is cancelled */
					event_add(c->ev_timer, &tv);
					return;
				}
			}
			/* An address (or no thread to spare): getaddrinfo() returns at once. */
			memset(&hints, 0, sizeof(hints));
			hints.ai_family = h->addr.family;
			hints.ai_socktype = SOCK_STREAM;
			hints.ai_flags = AI_NUMERICSERV;
			rc = getaddrinfo(h->addr.host, h->addr.port, &hints, &c->ai_list);
			if (rc != 0) {
				snprintf(c->last_err, sizeof(c->last_err), "%s", gai_strerror(rc));
				c->ai_list = NULL;
			}
			c->ai_next = c->ai_list;
		}
		while (c->ai_next != NULL) {
			struct addrinfo *ai = c->ai_next;
			c->ai_next = ai->ai_next;
			if (conn_try(c, ai->ai_addr, ai->ai_addrlen, ai->ai_family))
				return;
		}
	}
	relay_metrics_connection(0);
	deliver_reason(reason, sizeof(reason), DR_CONNECT, h->addr.desc,
	    c->last_err[0] ? c->last_err : "no address");
	conn_fail_reason(c, reason);
}

/* The name lookup ended: try its addresses (or fail with its error). */
static void
conn_resolved(void *arg, int rc, struct addrinfo *res)
{
	struct hop_conn *c = arg;

	c->resolve = NULL;
	if (rc != 0)
		snprintf(c->last_err, sizeof(c->last_err), "%s", gai_strerror(rc));
	c->ai_list = c->ai_next = res;
	conn_connect_next(c);
	conn_leave(c);		/* the reference taken when the lookup started */
}

static void
conn_connect_done(struct hop_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == 0) {
		conn_connected(c);
		return;
	}
	snprintf(c->last_err, sizeof(c->last_err), "%s", strerror(err));
	conn_drop_fd(c);
	conn_connect_next(c);
}

/* Read and answer everything available. */
static void
conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct hop_conn *c = arg;
	char buf[16384];

	(void)fd;
	(void)what;
	conn_enter(c);
	if (c->state == CS_TLS_HANDSHAKE) {
		conn_handshake(c);
		goto out;
	}
	while (!c->dead) {
		ssize_t n;
		size_t off = 0;

		if (c->tls != NULL) {
			n = client_tls_read(c->tls, buf, sizeof(buf));
			if (n == CTLS_WANT_READ || n == CTLS_WANT_WRITE)
				break;
		} else {
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
		}
		if (n <= 0) {
			if (c->state == CS_IDLE)
				conn_close(c, 0);
			else
				conn_abort(c, DR_LOST, NULL);
			break;
		}
		while (off < (size_t)n && !c->dead) {
			size_t used;
			enum conn_state before = c->state;
			int st = smtp_reply_feed(&c->reply, buf + off, (size_t)n - off, &used);

			off += used;
			if (st == SMTP_REPLY_BAD) {
				if (c->state == CS_IDLE)
					conn_close(c, 0);
				else
					conn_abort(c, DR_PROTOCOL, smtp_reply_error(&c->reply));
				break;
			}
			if (st != SMTP_REPLY_DONE)
				break;
			relay_metrics_reply(c->reply.code);
			conn_reply(c);
			if (c->dead)
				break;
			smtp_reply_next(&c->reply);
			/* Bytes that came before the TLS handshake must never pass for protected replies. */
			if (before == CS_STARTTLS && c->tls != NULL) {
				smtp_reply_free(&c->reply);
				goto out;
			}
		}
	}
out:
	conn_leave(c);
}

static void
conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct hop_conn *c = arg;

	(void)fd;
	(void)what;
	conn_enter(c);
	if (c->state == CS_CONNECT) {
		conn_connect_done(c);
	} else if (c->state == CS_TLS_HANDSHAKE && c->tls_wlen == 0) {
		conn_handshake(c);
	} else {
		int rc;
		if (c->state == CS_BODY)
			tx_body_fill(c);
		if (!c->dead) {
			rc = conn_flush(c);
			if (rc < 0) {
				/* The hop may have said why before it closed (552 mid-body): read that first. */
				conn_on_read(c->fd, EV_READ, c);
				if (!c->dead)
					conn_abort(c, DR_LOST, NULL);
			} else if (c->state == CS_BODY) {
				/* Progress resets the transfer timeout. */
				struct timeval tv = { hop_timeout(c->h, HOP_DATA_XFER_TIMEOUT), 0 };
				event_add(c->ev_timer, &tv);
				if (rc == 0)
					event_add(c->ev_write, NULL);	/* more body to read from the spool */
			}
		}
	}
	conn_leave(c);
}

static void
conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct hop_conn *c = arg;

	(void)fd;
	(void)what;
	conn_enter(c);
	switch (c->state) {
	case CS_CONNECT:
		if (c->resolve != NULL) {
			hop_resolve_cancel(c->resolve);
			c->resolve = NULL;
			c->in_cb--;
			snprintf(c->last_err, sizeof(c->last_err), "host name lookup timed out");
			conn_connect_next(c);
		} else if (c->fd < 0) {
			conn_connect_next(c);	/* the first attempt */
		} else {
			snprintf(c->last_err, sizeof(c->last_err), "connection timed out");
			conn_drop_fd(c);
			conn_connect_next(c);
		}
		break;
	case CS_IDLE:
		conn_close(c, 1);
		break;
	case CS_DECIDED:
		tx_finish(c, 1);
		break;
	default:
		conn_abort(c, DR_TIMEOUT, NULL);
		break;
	}
	conn_leave(c);
}
