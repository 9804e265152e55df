/* smtp_client.c - one connection to the next hop: connect, greeting, EHLO/LHLO, STARTTLS, AUTH, and its non-blocking I/O. */
#include "hop_int.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);
static void conn_connect_next(struct hop_conn *c);
static void conn_reply(struct hop_conn *c);

static const char *const conn_state_names[] = {
	[CS_CONNECT] = "connect", [CS_GREETING] = "greeting", [CS_EHLO] = "ehlo",
	[CS_HELO] = "helo", [CS_STARTTLS] = "starttls", [CS_TLS_HANDSHAKE] = "tls-handshake",
	[CS_AUTH] = "auth", [CS_AUTH_LOGIN_USER] = "auth-login-user",
	[CS_AUTH_LOGIN_PASS] = "auth-login-pass", [CS_IDLE] = "idle", [CS_RSET] = "rset",
	[CS_MAILGROUP] = "mail", [CS_BODY] = "body", [CS_DATA_END] = "data-end",
	[CS_DISCARD] = "discard", [CS_DECIDED] = "decided", [CS_CLOSED] = "closed",
};

static const char *
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

const char *
conn_stage(const struct hop_conn *c)
{
	switch (c->state) {
	case CS_CONNECT:
		return "connecting";
	case CS_GREETING:
		return "receiving the initial server greeting";
	case CS_EHLO:
		return c->h->addr.lmtp ? "performing the LHLO handshake" :
		    "performing the EHLO handshake";
	case CS_HELO:
		return "performing the HELO handshake";
	case CS_STARTTLS:
		return "sending STARTTLS";
	case CS_TLS_HANDSHAKE:
		return "performing the TLS handshake";
	case CS_AUTH:
	case CS_AUTH_LOGIN_USER:
	case CS_AUTH_LOGIN_PASS:
		return "performing SASL authentication";
	case CS_RSET:
		return "sending RSET";
	case CS_MAILGROUP:
		if (c->tx.nrep == 0)
			return "sending MAIL FROM";
		return c->tx.nrep <= c->tx.ntodo ? "sending RCPT TO" : "sending DATA command";
	case CS_BODY:
		return "sending message body";
	case CS_DATA_END:
	case CS_DISCARD:
		return "sending end of data";
	case CS_IDLE:
	case CS_DECIDED:
	case CS_CLOSED:
		break;
	}
	return "idle";
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

void
conn_decide_all(struct hop_conn *c, int state, const char *reason)
{
	size_t i;

	if (c->w == NULL)
		return;
	for (i = 0; i < c->w->job->nrcpts; i++) {
		struct relay_rcpt *r = &c->w->job->rcpts[i];
		if (r->state == RELAY_RCPT_PENDING) {
			r->state = state;
			xstrlcpy(r->reply, reason, sizeof(r->reply));
		}
	}
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
	if (quit && c->fd >= 0 && c->state != CS_CONNECT && c->state != CS_TLS_HANDSHAKE) {
		/* One try, never waiting: the next hop's 221 adds nothing. */
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		evbuffer_add(c->out, "QUIT\r\n", 6);
		(void)conn_flush(c);
		if (c->tls)
			client_tls_bye(c->tls);
	}
	conn_drop_fd(c);
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

/* Decide the job's pending recipients, close, report, and let the next job in. */
void
conn_fail(struct hop_conn *c, int state, const char *reason, int quit)
{
	relay_hop *h = c->h;
	struct hop_wait *w = c->w;

	conn_decide_all(c, state, reason);
	c->w = NULL;
	conn_close(c, quit);
	hop_dispatch(h);
	if (w != NULL)
		hop_job_done(h, w);
}

void
conn_abort(struct hop_conn *c, enum deliver_reason why, const char *detail)
{
	char reason[512];
	relay_hop *h = c->h;
	struct hop_wait *w = c->w;

	/* A kept connection the next hop closed meanwhile: the job did not start, try a fresh one. */
	if (c->state == CS_RSET && w != NULL && !w->retried) {
		log_info("%s: kept connection to %s lost at RSET; reconnecting", w->job->id,
		    h->addr.desc);
		w->retried = 1;
		c->w = NULL;
		conn_close(c, 0);
		hop_requeue_front(h, w);
		hop_dispatch(h);
		return;
	}
	if (why == DR_PROTOCOL)
		deliver_reason(reason, sizeof(reason), why, h->addr.desc, conn_stage(c), detail);
	else
		deliver_reason(reason, sizeof(reason), why, h->addr.desc, conn_stage(c));
	if (w != NULL)
		log_warnx("%s: %s", w->job->id, reason + 6);
	conn_fail(c, RELAY_RCPT_DEFERRED, reason, why == DR_PROTOCOL);
}

/* The next hop's reply decides the whole job at session level (greeting, EHLO, STARTTLS, AUTH). */
static void
conn_fail_reply(struct hop_conn *c, const char *what)
{
	char line[512];

	smtp_reply_line(&c->reply, line, sizeof(line));
	if (c->w != NULL)
		log_warnx("%s: %s %s: %s", c->w->job->id, c->h->addr.desc, what, line);
	conn_fail(c, RELAY_RCPT_DEFERRED, line, 1);
}

/* Our own reason (enum) at session level: defer everything pending. */
static void
conn_fail_reason(struct hop_conn *c, const char *reason)
{
	if (c->w != NULL)
		log_warnx("%s: %s", c->w->job->id, reason + 6);
	conn_fail(c, RELAY_RCPT_DEFERRED, reason, 1);
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
		if (c->ai_list == NULL && c->last_err[0] == '\0') {
			struct addrinfo hints;
			int rc;
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
	deliver_reason(reason, sizeof(reason), DR_CONNECT, h->addr.desc,
	    c->last_err[0] ? c->last_err : "no address");
	conn_fail_reason(c, reason);
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

static void
conn_send_ehlo(struct hop_conn *c)
{
	conn_send(c, "%s %s", c->h->addr.lmtp ? "LHLO" : "EHLO", c->h->helo);
	conn_set_state(c, CS_EHLO, HOP_HELO_TIMEOUT);
}

static void
conn_ready(struct hop_conn *c)
{
	c->reused = 0;
	conn_set_state(c, CS_IDLE, 0);
	if (c->w != NULL)
		tx_start(c);
}

/* base64 of a SASL message (GnuTLS does the encoding). */
static void
conn_send_b64(struct hop_conn *c, const char *prefix, const char *p, size_t n)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)p, (unsigned)n }, out = { NULL, 0 };

	if (gnutls_base64_encode2(&in, &out) < 0)
		log_fatalx("gnutls_base64_encode2 failed");
	conn_send(c, "%s%.*s", prefix, (int)out.size, (const char *)out.data);
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
}

/* After EHLO/HELO: STARTTLS when policy and offer say so, then AUTH, then the message. */
static void
conn_after_ehlo(struct hop_conn *c)
{
	relay_hop *h = c->h;
	char reason[512];

	if (c->tls == NULL && h->tls != NULL && !c->tls_refused) {
		if (c->ehlo.starttls) {
			conn_send(c, "STARTTLS");
			conn_set_state(c, CS_STARTTLS, HOP_STARTTLS_TIMEOUT);
			return;
		}
		if (h->tls_mode >= HOP_TLS_ENCRYPT) {
			deliver_reason(reason, sizeof(reason), DR_TLS_NOT_OFFERED, h->addr.desc);
			conn_fail_reason(c, reason);
			return;
		}
	}
	if (h->auth_user != NULL && !c->authed) {
		if (c->tls == NULL) {
			deliver_reason(reason, sizeof(reason), DR_AUTH_NO_TLS, h->addr.desc);
			conn_fail_reason(c, reason);
		} else if (c->ehlo.auth_plain) {
			size_t ul = strlen(h->auth_user), pl = strlen(h->auth_pass);
			char *msg = xmalloc(ul + pl + 2);
			msg[0] = '\0';
			memcpy(msg + 1, h->auth_user, ul);
			msg[ul + 1] = '\0';
			memcpy(msg + ul + 2, h->auth_pass, pl);
			conn_send_b64(c, "AUTH PLAIN ", msg, ul + pl + 2);
			explicit_bzero(msg, ul + pl + 2);
			free(msg);
			conn_set_state(c, CS_AUTH, HOP_CMD_TIMEOUT);
		} else if (c->ehlo.auth_login) {
			conn_send(c, "AUTH LOGIN");
			conn_set_state(c, CS_AUTH_LOGIN_USER, HOP_CMD_TIMEOUT);
		} else {
			deliver_reason(reason, sizeof(reason), DR_AUTH_NOT_OFFERED, h->addr.desc);
			conn_fail_reason(c, reason);
		}
		return;
	}
	conn_ready(c);
}

static void
conn_handshake(struct hop_conn *c)
{
	char reason[512], why[300], desc[200];
	int rc = client_tls_handshake(c->tls);

	if (rc == CTLS_WANT_WRITE) {
		event_add(c->ev_write, NULL);
		return;
	}
	if (rc == CTLS_WANT_READ)
		return;
	if (rc != CTLS_OK) {
		deliver_reason(reason, sizeof(reason), DR_TLS_FAILED, c->h->addr.desc,
		    client_tls_error(c->tls));
		conn_fail_reason(c, reason);
		return;
	}
	if (c->h->tls_mode == HOP_TLS_VERIFY && client_tls_verify(c->tls, why, sizeof(why)) != 0) {
		deliver_reason(reason, sizeof(reason), DR_CERT, c->h->addr.desc, why);
		/* No QUIT: nothing more goes to a peer we do not trust. */
		if (c->w != NULL)
			log_warnx("%s: %s", c->w->job->id, reason + 6);
		conn_fail(c, RELAY_RCPT_DEFERRED, reason, 0);
		return;
	}
	client_tls_describe(c->tls, desc, sizeof(desc));
	log_info("%s: TLS with %s: %s%s", conn_id(c), c->h->addr.desc, desc,
	    c->h->tls_mode == HOP_TLS_VERIFY ? ", certificate verified" : "");
	conn_send_ehlo(c);
}

/* Session-level replies; transaction replies go to tx_reply(). */
static void
conn_reply(struct hop_conn *c)
{
	int code = c->reply.code;

	switch (c->state) {
	case CS_GREETING:
		if (code != 220) {
			conn_fail_reply(c, "greeting");
			return;
		}
		conn_send_ehlo(c);
		return;
	case CS_EHLO:
		if (code == 250) {
			smtp_ehlo_parse(&c->reply, &c->ehlo);
			conn_after_ehlo(c);
		} else if (code >= 500 && !c->h->addr.lmtp && c->tls == NULL) {
			conn_send(c, "HELO %s", c->h->helo);
			conn_set_state(c, CS_HELO, HOP_HELO_TIMEOUT);
		} else {
			conn_fail_reply(c, c->h->addr.lmtp ? "LHLO" : "EHLO");
		}
		return;
	case CS_HELO:
		if (code != 250) {
			conn_fail_reply(c, "HELO");
			return;
		}
		memset(&c->ehlo, 0, sizeof(c->ehlo));
		conn_after_ehlo(c);
		return;
	case CS_STARTTLS:
		if (code != 220) {
			if (c->h->tls_mode == HOP_TLS_MAY) {
				c->tls_refused = 1;
				conn_after_ehlo(c);
			} else {
				conn_fail_reply(c, "STARTTLS");
			}
			return;
		}
		c->tls = client_tls_conn_new(c->h->tls, c->fd, c->h->addr.host);
		conn_set_state(c, CS_TLS_HANDSHAKE, HOP_TLS_TIMEOUT);
		conn_handshake(c);
		return;
	case CS_AUTH_LOGIN_USER:
	case CS_AUTH_LOGIN_PASS:
		if (code == 334) {
			const char *s = c->state == CS_AUTH_LOGIN_USER ? c->h->auth_user : c->h->auth_pass;
			conn_send_b64(c, "", s, strlen(s));
			conn_set_state(c, c->state == CS_AUTH_LOGIN_USER ? CS_AUTH_LOGIN_PASS : CS_AUTH,
			    HOP_CMD_TIMEOUT);
			return;
		}
		/* FALLTHROUGH */
	case CS_AUTH:
		if (code != 235) {
			conn_fail_reply(c, "AUTH");
			return;
		}
		c->authed = 1;
		conn_ready(c);
		return;
	case CS_IDLE:
		/* A kept connection that talks on its own (421 before closing): drop it. */
		conn_close(c, 0);
		return;
	default:
		tx_reply(c);
		return;
	}
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
		if (c->fd < 0) {
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
