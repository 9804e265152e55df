/*
 * session.c - SMTP sessions on the event loop. Input is read into one
 * shared buffer and parsed in place; a session keeps only what it could
 * not finish (a partial command line, or input held while a slow step
 * runs), so an idle connection owns no buffers at all. Replies go out
 * through io.c; everything slow (crypt(3), fsync, milter verdicts) runs
 * elsewhere while the session's input waits ("busy").
 */
#include "autoconf.h"		/* HAVE_MALLOC_TRIM, before any system header */
#include "session.h"
#include "session_int.h"
#include "accounts.h"
#include "auth.h"
#include "auth_backoff.h"
#include "commands.h"
#include "config.h"
#include "data.h"
#include "io.h"
#include "log.h"
#include "server.h"
#include "smtpd.h"
#include "smtpd_metrics.h"
#include "spool.h"
#include "uuid.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct session *session_list;
static unsigned session_n;
static unsigned session_peak;	/* most sessions at once since the heap was last trimmed */

/*
 * After a burst (at least SESSION_TRIM_BURST sessions, down to a quarter
 * of them) give the freed heap back to the system: M_TRIM_THRESHOLD keeps
 * 8 MiB for speed in steady traffic (main.c), which after 5,000 idle
 * connections left the daemon at twice its resting size for good.
 */
#define SESSION_TRIM_BURST	256

static void
session_trim_after_burst(void)
{
	static int draining;	/* trimmed during this burst: once more when the last one goes */

	if (session_peak >= SESSION_TRIM_BURST && session_n <= session_peak / 4) {
		draining = 1;
		session_peak = session_n;
	} else if (session_n == 0 && draining) {
		draining = 0;
	} else {
		return;
	}
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
}
/* Shared by all sessions: the loop is single-threaded and parsing is in place. */
static char session_rbuf[SESSION_CARRY_MAX + 1];

static void session_on_event(evutil_socket_t fd, short what, void *arg);
static void session_stress_all(void);

unsigned
session_count(void)
{
	return session_n;
}

void
session_format_addr(const struct sockaddr_storage *ss, char *out, size_t outsize, unsigned *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		/* Report v4-mapped peers of a dual-stack socket as plain IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)outsize);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outsize);
		*port = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)outsize);
		*port = ntohs(s4->sin_port);
	} else {
		xstrlcpy(out, "unknown", outsize);
		*port = 0;
	}
}

/* --- replies */

/*
 * The one reply writer: queue a result's reply lines (the table's, or a
 * milter's own text), log refusals, honour close and flush.
 */
void
session_send(struct session *s, const struct cmd_result *r)
{
	char buf[SESSION_REPLY_MAX];
	const char *out = buf;
	size_t n;
	int refusal;

	if (r->text != NULL) {
		/* only refusals carry a milter's text; mp_reply_check vetted its lines */
		out = r->text;
		n = strlen(out);
		refusal = 1;
		smtpd_metrics_reply_text(out);
	} else {
		n = cmd_render(&s->cs, r, buf, sizeof(buf));
		refusal = r->id >= 0 && reply_get(r->id)->code >= 400;
		if (n > 0)
			smtpd_metrics_reply_id(r->id);
	}
	if (n == 0)
		return;
	if (refusal) {
		char q[600], line[520];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(out, "\r\n"), out);
		/* The message's id on every reply about it (set from DATA/BDAT on). */
		if (s->msg_open)
			log_info("sess=%s id=%s client=%s reply=%s", s->cs.log_id, s->msg_id,
			    s->addr, log_value(line, q, sizeof(q)));
		else
			log_info("sess=%s client=%s reply=%s", s->cs.log_id, s->addr,
			    log_value(line, q, sizeof(q)));
	}
	/* The message's final reply went out: later replies are about something else. */
	if (s->msg_open && s->cs.state != SS_DATA && s->cs.state != SS_BDAT &&
	    s->cs.state != SS_CHUNKING && s->cs.state != SS_COMMIT && !s->bdat_active)
		s->msg_open = 0;
	io_queue(&s->io, out, n);
	if (r->text != NULL)
		io_queue(&s->io, "\r\n", 2);
	session_deadline_reset(s);	/* the client's time starts with our reply */
	if (r->close) {
		s->closing = 1;
		cmd_enter(&s->cs, SS_QUIT);
	}
	if (r->flush) {
		int rc = io_flush(&s->io);
		if (rc < 0 && rc != IO_AGAIN)
			s->dead = 1;
	}
}

void
session_say(struct session *s, int id, const char *arg, int close)
{
	struct cmd_result r;

	cmd_result_init(&r);
	cmd_result_set(&r, id, arg);
	r.close = close;
	r.flush = 1;
	session_send(s, &r);
}

void
session_say_text(struct session *s, const char *text, int close)
{
	struct cmd_result r;

	cmd_result_init(&r);
	r.text = text;
	r.close = close;
	r.flush = 1;
	session_send(s, &r);
}

/* --- AUTH: admitted by the backoff (auth_backoff.h), then checked, then answered at once */

static void
session_auth_finish(struct session *s, int verdict)
{
	struct cmd_result r;

	s->busy = 0;
	cmd_auth_verdict(&s->cs, verdict, &r);
	session_send(s, &r);
	session_resume(s);
}

/* The attempt's check is over (or will never run): the backoff learns its outcome. */
static void
session_auth_done(struct session *s, int outcome)
{
	if (s->attempt == NULL)
		return;
	auth_backoff_done(s->d->backoff, s->attempt, outcome, clock_ms_mono());
	explicit_bzero(s->attempt, sizeof(*s->attempt));
	free(s->attempt);
	s->attempt = NULL;
}

static void
session_on_auth(void *arg, int verdict)
{
	struct session *s = arg;
	const char *user = s->cs.auth_user ? s->cs.auth_user : "";
	unsigned long long wait = s->attempt ? (unsigned long long)s->attempt->wait_ms : 0;

	s->auth_pending = 0;
	switch (verdict) {
	case ACCOUNTS_OK:
		log_info("sess=%s auth ok user=%s client=%s wait=%llums", s->cs.log_id, user,
		    s->addr, wait);
		session_auth_done(s, AUTH_OUTCOME_OK);
		smtpd_metrics_auth(SMA_OK);
		break;
	case ACCOUNTS_BAD_CREDENTIALS:
		log_info("sess=%s auth failed user=%s client=%s wait=%llums", s->cs.log_id, user,
		    s->addr, wait);
		session_auth_done(s, AUTH_OUTCOME_FAILED);
		smtpd_metrics_auth(SMA_FAILED);
		break;
	case ACCOUNTS_BLOCKED:
		log_info("sess=%s auth blocked user=%s client=%s wait=%llums", s->cs.log_id, user,
		    s->addr, wait);
		session_auth_done(s, AUTH_OUTCOME_NONE);
		smtpd_metrics_auth(SMA_BLOCKED);
		break;
	default:
		log_warnx("sess=%s auth error user=%s client=%s", s->cs.log_id, user, s->addr);
		session_auth_done(s, AUTH_OUTCOME_NONE);
		smtpd_metrics_auth(SMA_ERROR);
		break;
	}
	session_auth_finish(s, verdict);
}

/* The attempt's start time has come: hand the credentials to the crypt(3) pool. */
static void
session_auth_check(struct session *s)
{
	s->auth_pending = 1;
	auth_pool_submit(s->d->auth, s->cs.creds, session_on_auth, s);
	explicit_bzero(s->cs.creds, sizeof(*s->cs.creds));
	free(s->cs.creds);
	s->cs.creds = NULL;
}

static void
session_on_auth_timer(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->closing || s->dead || s->cs.creds == NULL) {
		/* Told to go away meanwhile (SIGTERM): nothing to check. */
		session_auth_done(s, AUTH_OUTCOME_NONE);
		s->busy = 0;
		session_update(s);
		return;
	}
	session_auth_check(s);
}

/*
 * Credentials decoded. The backoff says when they may be checked; the
 * wait comes before the check, never between the check and the answer,
 * so no answer comes sooner for being right.
 */
static void
session_auth_submit(struct session *s)
{
	const char *user = s->cs.auth_user ? s->cs.auth_user : "";
	struct timeval tv;

	s->busy = 1;
	s->attempt = xmalloc(sizeof(*s->attempt));
	auth_attempt_init(s->attempt, s->addr, s->cs.creds->user);
	if (auth_backoff_admit(s->d->backoff, s->attempt, clock_ms_mono()) != 0) {
		/* Too many attempts pending for this address, network or account: no check at all. */
		log_info("sess=%s auth refused user=%s client=%s: too many attempts pending",
		    s->cs.log_id, user, s->addr);
		free(s->attempt);
		s->attempt = NULL;
		session_auth_finish(s, ACCOUNTS_ERROR);
		return;
	}
	if (s->attempt->wait_ms == 0) {
		session_auth_check(s);
		return;
	}
	if (s->timer == NULL)
		s->timer = evtimer_new(s->d->base, session_on_auth_timer, s);
	tv.tv_sec = (time_t)(s->attempt->wait_ms / 1000);
	tv.tv_usec = (suseconds_t)(s->attempt->wait_ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

/* --- command results */

static void
session_result(struct session *s, struct cmd_result *r)
{
	if (session_milter_result(s, r))
		return;		/* the milters' verdict sends it (session_milter.c) */
	switch (r->action) {
	case ACT_STARTTLS:
		session_send(s, r);
		/* The handshake starts once the 220 is out; pipelined plaintext is dropped. */
		cmd_enter(&s->cs, SS_TLS_HANDSHAKE);
		session_deadline_reset(s);
		s->hs_want = 0;
		return;
	case ACT_AUTH_VERIFY:
		session_auth_submit(s);
		return;
	case ACT_DATA:
		session_data_begin(s, r);
		return;
	case ACT_BDAT:
		session_bdat_begin(s);
		return;
	default:
		session_send(s, r);
		return;
	}
}

/* A session that may be told to go away during SIGTERM. */
static int
session_idle(const struct session *s)
{
	return !s->busy && !s->bdat_active && !s->closing &&
	    (s->cs.state == SS_INIT || s->cs.state == SS_GREETED || SMTP_IN_AUTH(s->cs.state));
}

/*
 * Parse buf in place: command lines, DATA bytes, BDAT chunks. Returns
 * how much was used; stops early (held_input) when a slow step starts,
 * the session closes, TLS begins, or too much output waits.
 */
static size_t
session_process(struct session *s, char *buf, size_t len)
{
	struct cmd_result r;
	size_t off = 0;

	while (off < len) {
		char *line, *nl;
		size_t llen;

		if (s->busy || s->closing || s->dead || s->cs.state == SS_TLS_HANDSHAKE ||
		    io_pending_out(&s->io) > SESSION_OUT_HIGH) {
			s->held_input = 1;
			break;
		}
		if (s->bdat_active) {
			off += session_bdat(s, buf + off, len - off);
			continue;
		}
		if (s->cs.state == SS_DATA) {
			off += session_data(s, buf + off, len - off);
			continue;
		}
		if (s->d->shutting_down && session_idle(s)) {
			session_say(s, R_SHUTDOWN, NULL, 1);
			continue;
		}
		nl = memchr(buf + off, '\n', len - off);
		if (s->discarding) {
			if (nl == NULL)
				return len;
			off = (size_t)(nl - buf) + 1;
			s->discarding = 0;
			cmd_line_too_long(&s->cs, &r);
			session_result(s, &r);
			continue;
		}
		if (nl == NULL) {
			size_t part = len - off;
			if (part > cmd_line_limit(&s->cs, buf + off, part)) {
				/* Over-long line: drop it as it comes, answer at its end. */
				s->discarding = 1;
				return len;
			}
			break;
		}
		line = buf + off;
		llen = (size_t)(nl - line);
		off += llen + 1;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		/* Bare LF is accepted as a command line end (nothing is relayed from it). */
		if (llen + 2 > cmd_line_limit(&s->cs, line, llen)) {
			cmd_line_too_long(&s->cs, &r);
			session_result(s, &r);
			continue;
		}
		line[llen] = '\0';
		cmd_dispatch(&s->cs, line, llen, &r);
		session_result(s, &r);
	}
	return off;
}

/* The client closed or reset the connection. */
static void
session_peer_gone(struct session *s, int status)
{
	char line[256];

	if (s->cs.state == SS_DATA || s->bdat_active || s->cs.state == SS_CHUNKING) {
		if (status == IO_EOF) {
			/* Half-closed: it may still read our answer. */
			log_info("sess=%s client=%s premature end of data, nothing queued",
			    s->cs.log_id, s->addr);
			cmd_tx_reset(&s->cs);
			s->bdat_active = 0;
			session_say(s, R_PREMATURE_END, NULL, 1);
		} else {
			reply_format(R_DATA_RESET, NULL, line, sizeof(line));
			log_info("sess=%s client=%s %s, nothing queued", s->cs.log_id, s->addr, line);
			cmd_tx_reset(&s->cs);
			s->dead = 1;
		}
		return;
	}
	if (SMTP_IN_TRANSACTION(s->cs.state))
		log_info("sess=%s client=%s gone in a transaction, nothing queued", s->cs.log_id,
		    s->addr);
	s->dead = 1;
}

static void
session_save_carry(struct session *s, const char *p, size_t n)
{
	free(s->carry);
	s->carry = NULL;
	s->carry_len = 0;
	if (n == 0)
		return;
	s->carry = xmalloc(n);
	memcpy(s->carry, p, n);
	s->carry_len = n;
}

/* Process held input, then (readable) what the socket has. */
static void
session_drive(struct session *s, int readable)
{
	size_t len = s->carry_len, used;
	ssize_t n;

	if (len) {
		memcpy(session_rbuf, s->carry, len);
		free(s->carry);
		s->carry = NULL;
		s->carry_len = 0;
	}
	if (readable && !s->held_input) {
		s->read_wants_write = 0;
		n = io_read(&s->io, session_rbuf + len, SESSION_CARRY_MAX - len);
		if (n > 0) {
			len += (size_t)n;
			session_deadline_credit(s, (size_t)n);
		} else if (n == IO_WANT_WRITE) {
			s->read_wants_write = 1;
		} else if (n != IO_AGAIN) {
			/* Whatever partial line we held dies with the connection. */
			session_peer_gone(s, (int)n);
			return;
		}
	}
	s->held_input = 0;
	used = session_process(s, session_rbuf, len);
	if (s->cs.state == SS_TLS_HANDSHAKE) {
		/* CVE-2011-0411: plaintext pipelined after STARTTLS is never obeyed. */
		if (used < len)
			log_info("sess=%s discarded %zu byte(s) sent after STARTTLS", s->cs.log_id,
			    len - used);
		s->held_input = 0;
		return;
	}
	session_save_carry(s, session_rbuf + used, len - used);
	if (s->carry_len == 0)
		s->held_input = 0;
}

void
session_resume(struct session *s)
{
	if (!s->busy && !s->closing && !s->dead && s->held_input)
		session_drive(s, 0);
	session_update(s);
}

/* --- TLS */

static void
session_handshake(struct session *s)
{
	int rc;

	if (s->io.tls == NULL) {
		if (s->d->tls == NULL || (s->io.tls = tls_conn_new(s->d->tls, s->io.fd)) == NULL) {
			log_warnx("sess=%s cannot start TLS", s->cs.log_id);
			s->dead = 1;
			return;
		}
	}
	rc = tls_conn_handshake(s->io.tls);
	if (rc == TLS_WANT_READ) {
		s->hs_want = EV_READ;
		return;
	}
	if (rc == TLS_WANT_WRITE) {
		s->hs_want = EV_WRITE;
		return;
	}
	if (rc != TLS_OK) {
		log_info("sess=%s client=%s TLS handshake failed: %s", s->cs.log_id, s->addr,
		    tls_conn_error(s->io.tls));
		smtpd_metrics_tls(NULL);
		s->dead = 1;
		return;
	}
	s->hs_want = 0;
	smtpd_metrics_tls(tls_conn_version(s->io.tls));
	log_info("sess=%s client=%s tls=%s cipher=%s", s->cs.log_id, s->addr,
	    tls_conn_version(s->io.tls), tls_conn_cipher(s->io.tls));
	cmd_tls_started(&s->cs);
	session_deadline_reset(s);	/* for the EHLO that must follow */
	if (s->implicit_tls)
		session_milter_start(s);	/* the banner, once the milters saw the connection */
	/* Data the client sent right after its Finished may already sit in GnuTLS. */
	if (io_pending_in(&s->io) > 0)
		session_drive(s, 1);
}

/* --- events */

static void
session_free(struct session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		session_list = s->next;
	if (s->next)
		s->next->prev = s->prev;
	session_n--;
	if (s->sf)
		spool_file_abort(s->sf);
	if (s->committing)
		spool_cancel(s->d->spool, s);
	if (s->auth_pending)
		auth_pool_cancel(s->d->auth, s);
	session_auth_done(s, AUTH_OUTCOME_NONE);	/* left while waiting or checking */
	session_milter_free(s);
	free(s->held);
	if (s->timer)
		event_free(s->timer);
	if (s->deadline_ev)
		event_free(s->deadline_ev);
	event_free(s->ev);
	log_info("sess=%s disconnect client=%s messages=%u seconds=%llu", s->cs.log_id, s->addr,
	    s->nmsgs, (unsigned long long)((clock_ms_mono() - s->started_ms) / 1000));
	io_close(&s->io);
	cmd_session_free(&s->cs);
	free(s->carry);
	server_conn_closed(s->d->srv, &s->peer);
	session_stress_check(s->d, session_n);
	session_trim_after_burst();
	if (s->d->shutting_down && session_n == 0)
		event_base_loopexit(s->d->base, NULL);
	free(s);
}

/* Register the interest the session has now; free it when it is over. */
void
session_update(struct session *s)
{
	short want = 0;

	if (!s->dead && s->d->shutting_down && session_idle(s))
		session_say(s, R_SHUTDOWN, NULL, 1);
	for (;;) {
		if (!s->dead && io_pending_out(&s->io) > 0) {
			int rc = io_flush(&s->io);
			if (rc < 0 && rc != IO_AGAIN)
				s->dead = 1;
		}
		/* Input held back only for output that has drained meanwhile: go on with it. */
		if (s->dead || s->busy || s->closing || !s->held_input ||
		    s->cs.state == SS_TLS_HANDSHAKE || io_pending_out(&s->io) > SESSION_OUT_HIGH)
			break;
		session_drive(s, 0);
	}
	if (s->dead || (s->closing && io_pending_out(&s->io) == 0)) {
		session_free(s);
		return;
	}
	if (io_pending_out(&s->io) > 0)
		want |= EV_WRITE;
	if (s->cs.state == SS_TLS_HANDSHAKE) {
		if (!(want & EV_WRITE)) {
			if (s->hs_want == 0) {
				session_handshake(s);
				if (s->dead) {
					session_free(s);
					return;
				}
				if (s->cs.state != SS_TLS_HANDSHAKE) {
					session_update(s);
					return;
				}
			}
			want |= s->hs_want;
		}
	} else if (!s->busy && !s->closing && !s->held_input &&
	    io_pending_out(&s->io) <= SESSION_OUT_HIGH) {
		want |= s->read_wants_write ? EV_WRITE : EV_READ;
	}
	if (!s->busy) {
		s->busy_woken = 0;
	} else if (want == 0 && !s->closing && !s->held_input && !s->busy_woken &&
	    s->ev_flags == EV_READ) {
		/*
		 * Our own work (milter, spool, crypt) holds the session for a
		 * moment: leave the read interest registered instead of paying
		 * one epoll_ctl to drop it and one to restore it. A client that
		 * sends meanwhile (pipelining) wakes us once (busy_woken), then
		 * its input waits in the kernel as before.
		 */
		want = EV_READ;
	}
	session_deadline_update(s);
	if (want == s->ev_flags)
		goto pending_tls;
	event_del(s->ev);
	s->ev_flags = want;
	if (want == 0)
		return;		/* waiting for our own work, not for the client */
	/* No timeout here: the client's deadline is its own timer (session_deadline.c). */
	event_assign(s->ev, s->d->base, s->io.fd, want | EV_PERSIST, session_on_event, s);
	event_add(s->ev, NULL);
pending_tls:
	if ((want & EV_READ) && !s->busy && io_pending_in(&s->io) > 0)
		event_active(s->ev, EV_READ, 0);
}

void
session_timeout(struct session *s)
{
	int data = s->cs.state == SS_DATA || s->bdat_active;

	if (s->cs.state == SS_TLS_HANDSHAKE) {
		log_info("sess=%s client=%s TLS handshake not done in time, dropped",
		    s->cs.log_id, s->addr);
		smtpd_metrics_tls(NULL);
		s->dead = 1;
		return;
	}
	if (s->closing || io_pending_out(&s->io) > 0) {
		/* The client does not read: just drop it. */
		log_info("sess=%s client=%s timeout, dropped", s->cs.log_id, s->addr);
		s->dead = 1;
		return;
	}
	log_info("sess=%s client=%s %s", s->cs.log_id, s->addr,
	    data ? "timeout during DATA, nothing queued" : "timeout waiting for a command");
	cmd_tx_reset(&s->cs);
	s->bdat_active = 0;
	session_say(s, data ? R_DATA_TIMEOUT : R_TIMEOUT, NULL, 1);
}

static void
session_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	if (s->busy && s->cs.state != SS_TLS_HANDSHAKE) {
		/* Read interest kept while busy (session_update): nothing to do yet. */
		if (what & EV_READ)
			s->busy_woken = 1;
	} else if (s->cs.state == SS_TLS_HANDSHAKE) {
		if (io_pending_out(&s->io) == 0)
			session_handshake(s);
	} else if (!s->busy && !s->closing) {
		int readable = (what & EV_READ) || ((what & EV_WRITE) && s->read_wants_write);
		if (io_pending_out(&s->io) > 0) {
			int rc = io_flush(&s->io);
			if (rc < 0 && rc != IO_AGAIN)
				s->dead = 1;
		}
		if (!s->dead && (readable || s->held_input) &&
		    io_pending_out(&s->io) <= SESSION_OUT_HIGH)
			session_drive(s, readable);
	}
	session_update(s);
}

void
session_new(struct smtpd *d, int fd, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *proxy, int implicit_tls)
{
	struct session *s = xcalloc(1, sizeof(*s));
	char id[16], via[INET6_ADDRSTRLEN + 16] = "";

	s->d = d;
	snprintf(id, sizeof(id), "%08llx", (unsigned long long)++d->sessions_total);
	cmd_session_init(&s->cs, &d->conf, id);
	s->cs.tx_reset_hook = session_tx_hook;
	s->cs.hook_ctx = s;
	s->cs.starttls_ok = d->tls != NULL && !implicit_tls;
	io_init(&s->io, fd);
	s->peer = *peer;
	session_format_addr(peer, s->addr, sizeof(s->addr), &s->port);
	s->implicit_tls = implicit_tls;
	s->started_ms = clock_ms_mono();
	s->ev = event_new(d->base, fd, 0, session_on_event, s);
	s->ev_flags = -1;
	s->next = session_list;
	if (session_list)
		session_list->prev = s;
	session_list = s;
	session_n++;
	if (session_n > session_peak)
		session_peak = session_n;
	if (proxy != NULL) {
		char paddr[INET6_ADDRSTRLEN];
		unsigned pport;

		session_format_addr(proxy, paddr, sizeof(paddr), &pport);
		snprintf(via, sizeof(via), " proxy=%s:%u", paddr, pport);
	}
	log_info("sess=%s connect client=%s:%u%s%s", s->cs.log_id, s->addr, s->port, via,
	    implicit_tls ? " tls=implicit" : "");
	if (session_stress_check(d, session_n))
		session_stress_all();
	if (implicit_tls) {
		cmd_enter(&s->cs, SS_TLS_HANDSHAKE);
		session_deadline_reset(s);
	} else {
		session_milter_start(s);
	}
	session_update(s);
}

/* Stress mode began: every client's deadline is cut (session_deadline.c). */
static void
session_stress_all(void)
{
	struct session *s;

	for (s = session_list; s; s = s->next)
		if (!s->dead)
			session_deadline_cut(s);
}

void
session_shutdown_all(struct smtpd *d, int force)
{
	struct session *s, *next;

	(void)d;
	for (s = session_list; s; s = next) {
		next = s->next;
		if (s->closing || s->dead)
			continue;
		if (force || session_idle(s)) {
			if (s->cs.state == SS_TLS_HANDSHAKE) {
				s->dead = 1;
			} else {
				cmd_tx_reset(&s->cs);
				s->bdat_active = 0;
				session_say(s, R_SHUTDOWN, NULL, 1);
			}
		}
		session_update(s);
	}
}
