/*
 * milter_client_conn.c - one socket to one milter: non-blocking connect,
 * option negotiation, packet reading, the reply deadline, and the pool of
 * connections kept after SMFIC_QUIT_NC for the next session.
 *
 * A connection counts the final replies it owes (pending) and how many of
 * those nobody waits for any more (skip: events cancelled by an abort, or
 * sent only to bring libmilter where QUIT_NC is allowed). Those are read
 * and dropped in order, so a connection can change hands with replies
 * still in flight and stay in step.
 */
#include "milter_client_int.h"
#include "fsperm.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* What we offer: every action, every step but SMFIP_RCPT_REJ (refused recipients are never sent). */
#define MC_ACTIONS	SMFI_CURR_ACTS
#define MC_PROTO	(SMFI_CURR_PROT & ~SMFIP_RCPT_REJ)

uint64_t mc_nconnects, mc_nreuses;

static void conn_fail(struct mc_conn *c, enum mc_fail_kind kind, const char *why);

static const char *
conn_name(const struct mc_conn *c)
{
	return c->list ? c->list->v[c->mi].name : "(closing)";
}

static void
conn_free(struct mc_conn *c)
{
	int i;

	if (c->bev)
		bufferevent_free(c->bev);
	if (c->timer)
		event_free(c->timer);
	if (c->flush_ev)
		event_free(c->flush_ev);
	if (c->outq)
		evbuffer_free(c->outq);
	mp_reader_free(&c->rd);
	for (i = 0; i < MC_NSTAGES; i++)
		free(c->symlist[i]);
	free(c);
}

/* Re-arm the one deadline a connection has, by what it is waiting for. */
static void
conn_arm(struct mc_conn *c)
{
	struct timeval tv = { 0, 0 };

	if (c->st == C_CLOSING)
		tv.tv_sec = MC_LINGER_S;
	else if (c->pending > 0 || c->st == C_CONNECTING || c->st == C_NEGOTIATING)
		tv.tv_sec = c->list->v[c->mi].timeout_s;
	else if (c->st == C_IDLE)
		tv.tv_sec = MC_POOL_IDLE_S;
	if (tv.tv_sec == 0) {
		evtimer_del(c->timer);
		return;
	}
	evtimer_add(c->timer, &tv);
}

static void
pool_unlink(struct mc_conn *c)
{
	struct mc_milter *m = &c->list->v[c->mi];
	struct mc_conn **pp;

	for (pp = &m->idle; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			m->nidle--;
			c->next = NULL;
			return;
		}
	}
}

void
mc_conn_close(struct mc_conn *c)
{
	if (c == NULL)
		return;
	if (c->st == C_IDLE)
		pool_unlink(c);
	conn_free(c);
}

/*
 * Bytes out to the milter. Packets made during one turn of the event loop
 * (a MAIL with its macros, a run of headers and body chunks) gather in
 * c->outq and leave together at the end of the turn (conn_on_flush): one
 * writev straight to the socket when nothing is queued, the usual case of
 * a packet and its reply at a time. Only what the kernel does not take goes
 * through the bufferevent, whose write event is then armed; going through
 * it every time costs two epoll_ctl calls a packet (arm, then disarm).
 */
static void
conn_flush(struct mc_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(c->outq) == 0)
		return;
	if ((c->st == C_READY || c->st == C_IDLE) && evbuffer_get_length(out) == 0)
		(void)evbuffer_write(c->outq, bufferevent_getfd(c->bev));
	/* EAGAIN, or an error the bufferevent reports on its own write. */
	if (evbuffer_get_length(c->outq) > 0)
		bufferevent_write_buffer(c->bev, c->outq);
}

static void
conn_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct mc_conn *c = arg;

	(void)fd;
	(void)what;
	conn_flush(c);
	/* All taken by the kernel: a stream paused by mc_conn_blocked() goes on. */
	if (c->s && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		mc_on_writable(c->s);
}

static void
conn_write(struct mc_conn *c, const void *p, size_t n)
{
	evbuffer_add(c->outq, p, n);
	event_active(c->flush_ev, EV_TIMEOUT, 0);	/* once per turn, however many packets */
}

void
mc_conn_send(struct mc_conn *c, const void *p, size_t n, int expect_reply)
{
	int cmd = n >= MP_HDR_LEN ? ((const uint8_t *)p)[4] : 0;
	uint8_t qnc[MP_HDR_LEN];

	if (c->qnc_owed) {
		/* The QUIT_NC that ended the last session on this socket (mc_conn_release). */
		c->qnc_owed = 0;
		mp_put_header(qnc, SMFIC_QUIT_NC, 0);
		conn_write(c, qnc, sizeof(qnc));
	}
	conn_write(c, p, n);
	/* libmilter takes QUIT_NC only at end of message or after an unknown command. */
	if (cmd != SMFIC_MACRO)
		c->qnc_ok = cmd == SMFIC_UNKNOWN;
	if (expect_reply) {
		c->pending++;
		conn_arm(c);
	}
}

void
mc_conn_cancel(struct mc_conn *c)
{
	if (c)
		c->skip = c->pending;
}

int
mc_conn_blocked(struct mc_conn *c)
{
	return evbuffer_get_length(c->outq) + evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    MC_OUT_HIGH;
}

static void
send_simple(struct mc_conn *c, int cmd, int expect)
{
	uint8_t hdr[MP_HDR_LEN];

	mp_put_header(hdr, cmd, 0);
	mc_conn_send(c, hdr, sizeof(hdr), expect);
}

/*
 * Close the idle connections (the list is going: reload or shutdown), each
 * with the QUIT its last session is owed rather than a bare EOF, which a
 * milter may log as an error (rspamd's does). An idle socket takes the
 * 5 bytes at once; what it would not take is dropped, as the loop may be
 * ending.
 */
void
mc_pool_flush(struct mc_milter *m)
{
	struct mc_conn *c;

	while ((c = m->idle) != NULL) {
		m->idle = c->next;
		c->qnc_owed = 0;
		send_simple(c, SMFIC_QUIT, 0);
		conn_flush(c);
		conn_free(c);
	}
	m->nidle = 0;
}

/* Close once QUIT (if any) is on its way: the write callback or the timer frees it. */
static void
conn_linger(struct mc_conn *c)
{
	int ready = c->st == C_READY || c->st == C_IDLE;

	if (c->st == C_IDLE)
		pool_unlink(c);
	c->qnc_owed = 0;	/* QUIT ends the session it was owed for as well */
	if (ready)
		send_simple(c, SMFIC_QUIT, 0);
	conn_flush(c);
	if (!ready || evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_free(c);
		return;
	}
	c->st = C_CLOSING;
	c->s = NULL;
	c->list = NULL;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	conn_arm(c);
}

void
mc_conn_release(struct mc_conn *c, int in_msg)
{
	struct mc_milter *m = &c->list->v[c->mi];
	uint8_t pkt[MP_HDR_LEN + 5];
	int expect;

	c->s = NULL;
	if (c->st != C_READY || !m->reuse || c->version < 6 || c->list->pool_max == 0 ||
	    m->nidle >= c->list->pool_max || c->rd.hlen != 0) {
		conn_linger(c);
		return;
	}
	if (in_msg)
		send_simple(c, SMFIC_ABORT, 0);
	c->unk = 0;
	if (!c->qnc_owed && !c->qnc_ok) {
		/*
		 * libmilter ignores QUIT_NC (and then the next CONNECT) unless it
		 * is at end of message or after an unknown command: send one,
		 * with the SMTP command that really ended the session.
		 */
		expect = !(c->proto & SMFIP_NR_UNKN);
		mp_put_header(pkt, SMFIC_UNKNOWN, 5);
		memcpy(pkt + MP_HDR_LEN, "QUIT", 5);
		c->unk_at = c->pending;
		mc_conn_send(c, pkt, sizeof(pkt), expect);
		c->unk = expect;
	}
	/*
	 * The QUIT_NC goes out with the next session's first packet, or becomes
	 * a QUIT when the socket leaves the pool: sent now, it would wake the
	 * milter (a libmilter worker hand-off) for nothing but xxfi_close. A
	 * session that sent nothing leaves the one it found owed.
	 */
	c->qnc_owed = 1;
	c->skip = c->pending;
	c->st = C_IDLE;
	c->reused = 0;
	c->next = m->idle;
	m->idle = c;
	m->nidle++;
	conn_arm(c);
}

/* --- negotiation */

static void
conn_send_optneg(struct mc_conn *c)
{
	struct mp_buf b = { 0 };
	struct mp_msg m = { .cmd = SMFIC_OPTNEG, .version = MP_VERSION, .actions = MC_ACTIONS,
	    .protocol = MC_PROTO };

	mp_encode(&b, MP_COMMANDS, &m);
	bufferevent_write(c->bev, b.p, b.len);
	mp_buf_free(&b);
	c->st = C_NEGOTIATING;
	conn_arm(c);
}

/* The OPTNEG reply: 0 ok (the connection is ready), -1 refused (logged). */
static int
conn_optneg(struct mc_conn *c, const struct mp_msg *m)
{
	size_t off = 0;
	uint32_t stage;
	const char *names;

	if (m->cmd != SMFIC_OPTNEG) {
		log_warnx("milter %s: reply '%c' instead of OPTNEG", conn_name(c), m->cmd);
		return -1;
	}
	if (m->version < 2 || m->version > MP_VERSION) {
		log_warnx("milter %s: protocol version %u not supported", conn_name(c), m->version);
		return -1;
	}
	if ((m->actions & MC_ACTIONS) != m->actions) {
		log_warnx("milter %s: asks for actions 0x%x beyond 0x%x", conn_name(c), m->actions,
		    (unsigned)MC_ACTIONS);
		return -1;
	}
	c->version = m->version;
	c->actions = m->actions;
	c->proto = m->protocol & MC_PROTO;	/* MDS and libmilter-internal bits are not ours */
	c->list->v[c->mi].proto_seen = c->proto;
	c->list->v[c->mi].proto_known = 1;
	while (mp_symlist_next(m, &off, &stage, &names)) {
		if (stage >= MC_NSTAGES) {
			log_warnx("milter %s: macro list for unknown stage %u ignored", conn_name(c), stage);
			continue;
		}
		free(c->symlist[stage]);
		c->symlist[stage] = xstrdup(names);
	}
	log_debug("milter %s: version %u actions 0x%x steps 0x%x", conn_name(c), c->version,
	    c->actions, c->proto);
	c->st = C_READY;
	return 0;
}

/* --- I/O callbacks */

static int
is_final(int cmd)
{
	switch (cmd) {
	case SMFIR_CONTINUE: case SMFIR_ACCEPT: case SMFIR_REJECT: case SMFIR_TEMPFAIL:
	case SMFIR_DISCARD: case SMFIR_REPLYCODE: case SMFIR_SKIP: case SMFIR_SHUTDOWN:
	case SMFIR_CONN_FAIL:
		return 1;
	}
	return 0;
}

/* One packet. Returns 0, or -1 when c is gone. */
static int
conn_packet(struct mc_conn *c, const struct mp_packet *pkt)
{
	struct mp_msg m;
	mc_session *s;
	size_t slot;
	int rc;
	char why[96];

	if ((rc = mp_decode(MP_RESPONSES, pkt, &m)) != MP_OK) {
		snprintf(why, sizeof(why), "garbage reply '%c': %s", pkt->cmd > 32 && pkt->cmd < 127 ?
		    pkt->cmd : '?', mp_strerror(rc));
		conn_fail(c, MC_FAIL_PROTOCOL, why);
		return -1;
	}
	if (c->st == C_NEGOTIATING) {
		if (conn_optneg(c, &m) != 0) {
			conn_fail(c, MC_FAIL_PROTOCOL, "negotiation refused");
			return -1;
		}
		conn_arm(c);
		if (c->s)
			mc_on_ready(c->s, c->slot);
		return 0;
	}
	if (m.cmd == SMFIR_PROGRESS) {
		conn_arm(c);	/* still working: the deadline moves on */
		return 0;
	}
	if (c->pending == 0) {
		conn_fail(c, MC_FAIL_PROTOCOL, "reply nobody asked for");
		return -1;
	}
	if (c->skip > 0) {
		if (is_final(m.cmd)) {
			c->pending--;
			c->skip--;
			if (c->unk && c->unk_at > 0) {
				c->unk_at--;
			} else if (c->unk) {
				/* Accepting the session-end UNKNOWN leaves libmilter where QUIT_NC was ignored. */
				c->unk = 0;
				if (m.cmd == SMFIR_ACCEPT) {
					conn_fail(c, MC_FAIL_PROTOCOL, "accepted the session-end command; not reusable");
					return -1;
				}
			}
		}
		conn_arm(c);
		return 0;
	}
	if (is_final(m.cmd))
		c->pending--;
	conn_arm(c);
	if ((s = c->s) == NULL) {
		conn_fail(c, MC_FAIL_PROTOCOL, "reply on an idle connection");
		return -1;
	}
	slot = c->slot;
	mc_on_packet(s, slot, &m);
	return s->slots[slot].c == c ? 0 : -1;
}

static void
conn_on_read(struct bufferevent *bev, void *arg)
{
	struct mc_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct mp_packet pkt;
	const uint8_t *p, *start;
	size_t n;
	int rc;

	while ((n = evbuffer_get_contiguous_space(in)) > 0) {
		start = p = evbuffer_pullup(in, (ssize_t)n);
		rc = mp_read(&c->rd, &p, &n, &pkt);
		evbuffer_drain(in, (size_t)(p - start));
		if (rc < 0) {
			conn_fail(c, MC_FAIL_PROTOCOL, mp_strerror(rc));
			return;
		}
		if (rc == 1 && conn_packet(c, &pkt) != 0)
			return;
	}
}

static void
conn_on_write(struct bufferevent *bev, void *arg)
{
	struct mc_conn *c = arg;

	(void)bev;
	if (c->st == C_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		return;
	}
	if (c->s)
		mc_on_writable(c->s);
}

static void
conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct mc_conn *c = arg;
	char why[FSPERM_MSG_MAX + 160];
	enum mc_fail_kind kind;

	(void)bev;
	if (c->st == C_CLOSING) {
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		/* Checked once per connection: a pooled one was checked when it was opened. */
		if (c->list->check_owner && mc_owner_check(c->list, c->mi, bufferevent_getfd(c->bev),
		    why, sizeof(why)) != 0) {
			conn_fail(c, MC_FAIL_OWNER, why);
			return;
		}
		conn_send_optneg(c);
		return;
	}
	/* An error before the connection is made (ECONNREFUSED, ENOENT) is the milter down. */
	kind = c->st == C_CONNECTING ? MC_FAIL_CONNECT : MC_FAIL_CLOSED;
	if (what & BEV_EVENT_TIMEOUT) {
		snprintf(why, sizeof(why), "timed out sending to the milter");
		kind = MC_FAIL_TIMEOUT;
	} else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "%s", c->st == C_CONNECTING ? "connection refused" :
		    "connection closed by the milter");
	else
		snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	conn_fail(c, kind, why);
}

static void
conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mc_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->st == C_CLOSING || (c->st == C_IDLE && c->pending == 0)) {
		mc_conn_close(c);
		return;
	}
	/* Not connected in time: unreachable. Connected but silent, negotiating or not: slow. */
	conn_fail(c, c->st == C_CONNECTING ? MC_FAIL_CONNECT : MC_FAIL_TIMEOUT,
	    c->st == C_CONNECTING ? "connect timed out" : c->st == C_NEGOTIATING ?
	    "timed out waiting for the option negotiation" : "timed out waiting for a reply");
}

/* An error: a session hears of it (and closes c); otherwise c just goes. */
static void
conn_fail(struct mc_conn *c, enum mc_fail_kind kind, const char *why)
{
	if (c->st == C_CLOSING) {
		conn_free(c);
		return;
	}
	if (c->s) {
		mc_on_fail(c->s, c->slot, kind, why);	/* closes c */
		return;
	}
	log_debug("milter %s: idle connection dropped: %s", conn_name(c), why);
	mc_conn_close(c);
}

/*
 * A connection for slot of s: a pooled one when there is one (its replies
 * in flight are skipped), else a new one being connected and negotiated.
 * NULL when the socket cannot even be started (logged).
 */
struct mc_conn *
mc_conn_get(mc_session *s, size_t slot)
{
	struct mc_milter *m = &s->l->v[slot];
	struct mc_conn *c;
	struct timeval tv = { 0, 0 };

	/*
	 * A pooled socket may still owe the reply to its session-end UNKNOWN
	 * (quick); one that owes replies to events cancelled mid-way (a milter
	 * still busy with them) would make this session wait: not that one.
	 */
	for (c = s->slots[slot].replay ? NULL : m->idle; c && c->skip > c->unk; c = c->next)
		;
	if (c != NULL) {
		pool_unlink(c);
		c->s = s;
		c->slot = slot;
		c->st = C_READY;
		c->reused = 1;
		c->base = s->base;
		mc_nreuses++;
		conn_arm(c);
		return c;
	}
	c = xcalloc(1, sizeof(*c));
	c->list = s->l;
	c->mi = slot;
	c->base = s->base;
	c->s = s;
	c->slot = slot;
	c->st = C_CONNECTING;
	mp_reader_init(&c->rd, MP_RESPONSES);
	c->timer = evtimer_new(s->base, conn_on_timer, c);
	c->flush_ev = event_new(s->base, -1, 0, conn_on_flush, c);
	c->outq = evbuffer_new();
	/* Deferred callbacks: nothing runs inside the caller's stack. */
	c->bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL || bufferevent_socket_connect(c->bev, (struct sockaddr *)&m->ss,
	    (int)m->sslen) != 0) {
		log_warn("milter %s: connect", m->name);
		conn_free(c);
		return NULL;
	}
	if (m->ss.ss_family == AF_INET || m->ss.ss_family == AF_INET6) {
		/*
		 * Every event is a small packet awaiting a small reply: without
		 * TCP_NODELAY, Nagle holds a packet for the ACK the milter delays
		 * (~40 ms per round trip on Linux loopback).
		 */
		int one = 1;
		if (setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) != 0)
			log_warn("milter %s: TCP_NODELAY", m->name);
	}
	bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, MC_OUT_LOW, 0);
	/* A milter that stops reading (no reply is awaited with SMFIP_NR_BODY) fails too. */
	tv.tv_sec = m->timeout_s;
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	mc_nconnects++;
	conn_arm(c);
	return c;
}

void
mc_stats(uint64_t *connects, uint64_t *reuses)
{
	*connects = mc_nconnects;
	*reuses = mc_nreuses;
}
