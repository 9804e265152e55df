/*
 * milter_client.c - the milter client's sessions: one event at a time sent
 * to each milter in order (waiting for a reply only where the milter
 * negotiated one), the verdict of each event, and the failure rules
 * (default_action). The events themselves are made in
 * milter_client_events.c. See milter_client.h for the wiring.
 */
#include "milter_client_int.h"
#include "log.h"
#include "reply.h"
#include "xalloc.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- verdict delivery */

static void
on_fire(evutil_socket_t fd, short what, void *arg)
{
	mc_session *s = arg;
	struct mc_verdict v = { 0 };
	char reply[MP_REPLY_MAX + 1];

	(void)fd;
	(void)what;
	/* Copies: the callee may free the session before it is done with v. */
	v.action = s->act;
	if (s->act != MC_CONTINUE && s->act != MC_DISCARD) {
		memcpy(reply, mc_reply_buf(&s->reply), sizeof(reply));
		v.reply = reply;
	}
	v.close = s->close;
	v.milter = s->decider;
	v.mods = s->act == MC_CONTINUE ? s->mods : NULL;
	if (v.mods)
		s->mods = NULL;
	s->on_verdict(s->arg, &v);
}

static void
on_ready_ev(evutil_socket_t fd, short what, void *arg)
{
	mc_session *s = arg;

	(void)fd;
	(void)what;
	s->want_ready = 0;
	if (s->on_ready)
		s->on_ready(s->arg);
}

static void
set_reply(mc_session *s, enum mc_action act, enum reply_id id)
{
	s->act = act;
	reply_format(id, NULL, mc_reply_buf(&s->reply), MP_REPLY_MAX + 1);
}

char *
mc_reply_buf(char **slot)
{
	if (*slot == NULL) {
		*slot = xmalloc(MP_REPLY_MAX + 1);
		(*slot)[0] = '\0';
	}
	return *slot;
}

/* --- sessions */

mc_session *
mc_session_new(mc_list *l, struct event_base *base, mc_verdict_fn on_verdict, mc_ready_fn on_ready,
    void *arg)
{
	mc_session *s = xcalloc(1, sizeof(*s));

	l->refs++;
	s->l = l;
	s->base = base;
	s->on_verdict = on_verdict;
	s->on_ready = on_ready;
	s->arg = arg;
	s->n = l->n;
	s->slots = xcalloc(s->n ? s->n : 1, sizeof(*s->slots));
	s->fire = event_new(base, -1, 0, on_fire, s);
	s->ready_ev = event_new(base, -1, 0, on_ready_ev, s);
	mc_split_init(&s->split, MC_FIELD_MAX, MP_CHUNK);
	s->in = evbuffer_new();
	return s;
}

/* Forget the event in flight: its replies, when they come, are dropped. */
void
mc_cancel_event(mc_session *s)
{
	if (s->ev && s->waiting && s->cur < s->n)
		mc_conn_cancel(s->slots[s->cur].c);
	s->ev = 0;
	s->unit = 0;
	s->waiting = 0;
	event_del(s->fire);
}

/* The transaction is over for the milters: ABORT where one is open, reset message state. */
void
mc_message_end(mc_session *s)
{
	uint8_t hdr[MP_HDR_LEN];
	struct mc_slot *sl;
	size_t i;

	mp_put_header(hdr, SMFIC_ABORT, 0);
	for (i = 0; i < s->n; i++) {
		sl = &s->slots[i];
		if (sl->in_msg && sl->c && sl->c->st == C_READY)
			mc_conn_send(sl->c, hdr, sizeof(hdr), 0);
		sl->in_msg = sl->msg_off = sl->eom_sent = sl->eoh_mac = sl->skip_ev = 0;
	}
	s->discard = 0;
	s->msg_act = MC_CONTINUE;
	s->msg_decider = NULL;
	s->in_data = 0;
	s->eom = 0;
	mc_stream_reset(s);
	if (s->mods) {
		mc_mods_free(s->mods);
		s->mods = NULL;
	}
}

void
mc_session_free(mc_session *s)
{
	size_t i;

	if (s == NULL)
		return;
	mc_cancel_event(s);
	for (i = 0; i < s->n; i++) {
		if (s->slots[i].c) {
			mc_conn_cancel(s->slots[i].c);
			mc_conn_release(s->slots[i].c, s->slots[i].in_msg);
		}
	}
	for (i = 0; i < M_COUNT; i++)
		free(s->mac[i]);
	free(s->helo);
	free(s->conn_host);
	free(s->reply);
	free(s->helo_reply);
	free(s->msg_reply);
	mp_buf_free(&s->pkt[0]);
	mp_buf_free(&s->pkt[1]);
	mc_split_free(&s->split);
	if (s->mods)
		mc_mods_free(s->mods);
	evbuffer_free(s->in);
	event_free(s->fire);
	event_free(s->ready_ev);
	free(s->slots);
	mc_list_unref(s->l);
	free(s);
}

/* --- sending one event to each milter in turn */

static int
is_stream(int ev)
{
	return ev == SMFIC_HEADER || ev == SMFIC_EOH || ev == SMFIC_BODY;
}

static int
in_message(int ev)
{
	return ev == SMFIC_RCPT || ev == SMFIC_DATA || is_stream(ev) || ev == SMFIC_BODYEOB;
}

/* Macro stage (SMFIM_*) of an event, -1 for none. */
static int
stage_of(int ev)
{
	switch (ev) {
	case SMFIC_CONNECT: return 0;
	case SMFIC_HELO: return 1;
	case SMFIC_MAIL: return 2;
	case SMFIC_RCPT: return 3;
	case SMFIC_DATA: return 4;
	case SMFIC_BODYEOB: return 5;
	case SMFIC_HEADER: case SMFIC_EOH: return 6;
	}
	return -1;
}

/* The SMFIP_NO* bit that stops an event, and the SMFIP_NR_* bit that drops its reply. */
static uint32_t
no_bit(int ev)
{
	switch (ev) {
	case SMFIC_CONNECT: return SMFIP_NOCONNECT;
	case SMFIC_HELO: return SMFIP_NOHELO;
	case SMFIC_MAIL: return SMFIP_NOMAIL;
	case SMFIC_RCPT: return SMFIP_NORCPT;
	case SMFIC_DATA: return SMFIP_NODATA;
	case SMFIC_HEADER: return SMFIP_NOHDRS;
	case SMFIC_EOH: return SMFIP_NOEOH;
	case SMFIC_BODY: return SMFIP_NOBODY;
	case SMFIC_UNKNOWN: return SMFIP_NOUNKNOWN;
	}
	return 0;
}

static uint32_t
nr_bit(int ev)
{
	switch (ev) {
	case SMFIC_CONNECT: return SMFIP_NR_CONN;
	case SMFIC_HELO: return SMFIP_NR_HELO;
	case SMFIC_MAIL: return SMFIP_NR_MAIL;
	case SMFIC_RCPT: return SMFIP_NR_RCPT;
	case SMFIC_DATA: return SMFIP_NR_DATA;
	case SMFIC_HEADER: return SMFIP_NR_HDR;
	case SMFIC_EOH: return SMFIP_NR_EOH;
	case SMFIC_BODY: return SMFIP_NR_BODY;
	case SMFIC_UNKNOWN: return SMFIP_NR_UNKN;
	}
	return 0;
}

/* Does this milter take part in ev at all (macros included)? */
static int
slot_wants(const mc_session *s, const struct mc_slot *sl, int ev)
{
	if (sl->off || sl->c == NULL)
		return 0;
	if (in_message(ev) && sl->msg_off)
		return 0;
	if (sl->skip_ev == ev)
		return 0;
	if (sl->c->st == C_READY && ((ev == SMFIC_DATA && sl->c->version < 4) ||
	    (ev == SMFIC_UNKNOWN && sl->c->version < 3)))
		return 0;	/* not in the protocol version it speaks */
	(void)s;
	return 1;
}

/* Will some milter get the event itself (for the message stream: skip work nobody reads)? */
int
mc_any_takes(const mc_session *s, int ev)
{
	size_t i;
	const struct mc_slot *sl;

	for (i = 0; i < s->n; i++) {
		sl = &s->slots[i];
		if (slot_wants(s, sl, ev) && (sl->c->st != C_READY || !(sl->c->proto & no_bit(ev))))
			return 1;
	}
	return 0;
}

/* A reused connection died before it answered anything: CONNECT and HELO go again on a new one. */
static void
replay(mc_session *s, size_t i)
{
	struct mc_conn *c = s->slots[i].c;
	struct mp_buf b = { 0 };
	struct mp_msg m = { 0 };
	int expect;

	s->slots[i].replay = 0;
	/* Macros go even where the event does not, as mc_step() sends them. */
	if (s->ev != SMFIC_CONNECT && s->conn_host)
		mc_send_macros(s, i, 0);
	if (s->ev != SMFIC_CONNECT && s->conn_host && !(c->proto & SMFIP_NOCONNECT)) {
		m.cmd = SMFIC_CONNECT;
		m.s1 = s->conn_host;
		m.family = s->family;
		m.port = (uint16_t)atoi(s->mac[M_CLIENT_PORT] ? s->mac[M_CLIENT_PORT] : "0");
		m.s2 = s->family == SMFIA_UNKNOWN ? NULL : s->mac[M_CLIENT_ADDR];
		if (mp_encode(&b, MP_COMMANDS, &m) == MP_OK) {
			expect = !(c->proto & SMFIP_NR_CONN);
			mc_conn_send(c, b.p, b.len, expect);
			c->skip += expect;
		}
	}
	b.len = 0;
	if (s->ev != SMFIC_HELO && s->ev != SMFIC_CONNECT && s->helo)
		mc_send_macros(s, i, 1);
	if (s->ev != SMFIC_HELO && s->ev != SMFIC_CONNECT && s->helo && !(c->proto & SMFIP_NOHELO)) {
		m.cmd = SMFIC_HELO;
		m.s1 = s->helo;
		if (mp_encode(&b, MP_COMMANDS, &m) == MP_OK) {
			expect = !(c->proto & SMFIP_NR_HELO);
			mc_conn_send(c, b.p, b.len, expect);
			c->skip += expect;
		}
	}
	mp_buf_free(&b);
}

/*
 * Send the event to the milters from s->cur on. Returns 1 when every one
 * has had it (the event is complete), 0 when waiting for a reply or for a
 * connection to be ready.
 */
int
mc_step(mc_session *s)
{
	struct mc_slot *sl;
	struct mc_conn *c;
	struct mp_buf *pkt;
	int stage = stage_of(s->ev), expect;

	while (s->cur < s->n) {
		sl = &s->slots[s->cur];
		if (!slot_wants(s, sl, s->ev)) {
			s->cur++;
			continue;
		}
		c = sl->c;
		if (c->st != C_READY)
			return 0;	/* mc_on_ready() or mc_on_fail() resumes */
		if (sl->replay)
			replay(s, s->cur);
		if (s->ev == SMFIC_MAIL)
			sl->in_msg = 1;
		/* Macros go even when the event does not, like Postfix: later steps may read them. */
		if (stage >= 0 && !((s->ev == SMFIC_HEADER || s->ev == SMFIC_EOH) && sl->eoh_mac)) {
			mc_send_macros(s, s->cur, stage);
			if (stage == 6)
				sl->eoh_mac = 1;
		}
		if (c->proto & no_bit(s->ev)) {
			s->cur++;
			continue;
		}
		expect = !(c->proto & nr_bit(s->ev));
		pkt = s->ev == SMFIC_HEADER && mc_hdr_leadspc(c) ? &s->pkt[1] : &s->pkt[0];
		if (s->ev == SMFIC_BODYEOB) {
			sl->eom_sent = 1;
			s->mods_mark = s->mods ? s->mods->n : 0;
		}
		mc_conn_send(c, pkt->p, pkt->len, expect);
		if (expect) {
			s->waiting = 1;
			return 0;
		}
		s->cur++;
	}
	return 1;
}

/* The event has been through every milter: deliver its verdict, or go on with the stream. */
void
mc_event_done(mc_session *s)
{
	int ev = s->ev;

	s->ev = 0;
	s->waiting = 0;
	if (s->unit) {
		s->unit = 0;
		mc_pump(s);
		return;
	}
	if (s->closed) {
		set_reply(s, MC_CLOSE, R_SERVICE_UNAVAILABLE);
		s->close = 1;
	} else if (s->act == MC_CONTINUE && (ev == SMFIC_DATA || ev == SMFIC_BODYEOB)) {
		/* A milter that failed earlier is answered here: the reply table's DATA stage. */
		if (s->fail_temp) {
			set_reply(s, MC_CLOSE, R_SERVICE_UNAVAILABLE);
			s->close = 1;
		} else if (s->fail_reject) {
			set_reply(s, MC_REJECT, R_POLICY_REJECT);
		} else if (ev == SMFIC_BODYEOB && s->msg_act != MC_CONTINUE) {
			s->act = s->msg_act;
			memcpy(mc_reply_buf(&s->reply), mc_reply_buf(&s->msg_reply), MP_REPLY_MAX + 1);
			s->decider = s->msg_decider;
			s->close = strncmp(s->reply, "421", 3) == 0;
		} else if (ev == SMFIC_BODYEOB && s->discard) {
			s->act = MC_DISCARD;
		}
	}
	if (s->act == MC_CLOSE)
		s->closed = 1;
	if (ev == SMFIC_DATA && s->act == MC_CONTINUE) {
		s->in_data = 1;
		mc_stream_reset(s);
	}
	if (ev == SMFIC_BODYEOB) {
		/* Edits go with a CONTINUE only; mc_message_end() frees them otherwise. */
		struct mc_mods *keep = s->act == MC_CONTINUE ? s->mods : NULL;

		if (keep)
			s->mods = NULL;
		mc_message_end(s);
		s->mods = keep;
	}
	event_active(s->fire, 0, 0);
}

/*
 * Connect the milters left unconnected at mc_connect() that take part in
 * ev: any event of a transaction, or connect-time events they asked for
 * last time. What they missed (connect and HELO, with their macros) goes
 * first, as after a stale pooled socket (replay()).
 */
static void
open_deferred(mc_session *s, int ev)
{
	struct mc_slot *sl;
	size_t i;

	for (i = 0; i < s->n; i++) {
		sl = &s->slots[i];
		if (!sl->deferred || sl->off)
			continue;
		if ((ev == SMFIC_CONNECT || ev == SMFIC_HELO || ev == SMFIC_UNKNOWN) &&
		    (s->l->v[i].proto_seen & no_bit(ev)))
			continue;
		sl->deferred = 0;
		if ((sl->c = mc_conn_get(s, i)) == NULL)
			mc_on_fail(s, i, MC_FAIL_CONNECT, "cannot connect");	/* s->ev is 0: no step runs from here */
		else
			sl->replay = 1;
	}
}

/* Start the event whose packet is in s->pkt[0]. */
void
mc_event_start(mc_session *s, int ev)
{
	if (!is_stream(ev))
		open_deferred(s, ev);
	s->ev = ev;
	s->unit = is_stream(ev);
	s->cur = 0;
	s->waiting = 0;
	s->act = MC_CONTINUE;
	if (s->reply)
		s->reply[0] = '\0';
	s->close = 0;
	s->decider = NULL;
	if (!s->unit && s->closed) {
		mc_event_done(s);
		return;
	}
	if (!s->unit && s->helo_act != MC_CONTINUE && ev != SMFIC_CONNECT) {
		s->act = s->helo_act;
		memcpy(mc_reply_buf(&s->reply), mc_reply_buf(&s->helo_reply), MP_REPLY_MAX + 1);
		s->decider = s->helo_decider;
		s->close = strncmp(s->reply, "421", 3) == 0;
		mc_event_done(s);
		return;
	}
	if (mc_step(s))
		mc_event_done(s);
}

/* Used by the stream pump (milter_client_msg.c): returns 1 when the unit completed at once. */
int
mc_unit_start(mc_session *s, int ev)
{
	s->ev = ev;
	s->unit = 1;
	s->cur = 0;
	s->waiting = 0;
	if (mc_step(s)) {
		s->ev = 0;
		s->unit = 0;
		return 1;
	}
	return 0;
}

void
mc_eom_start(mc_session *s)
{
	s->pkt[0].len = 0;
	mp_encode(&s->pkt[0], MP_COMMANDS, &(struct mp_msg){ .cmd = SMFIC_BODYEOB });
	mc_event_start(s, SMFIC_BODYEOB);
}

/* --- what connections report */

void
mc_on_ready(mc_session *s, size_t slot)
{
	if (s->ev && !s->waiting && s->cur == slot && mc_step(s))
		mc_event_done(s);
}

void
mc_on_writable(mc_session *s)
{
	if (s->out_blocked) {
		s->out_blocked = 0;
		mc_pump(s);
	}
}

/* Advance past the slot that just answered. */
static void
advance(mc_session *s)
{
	s->waiting = 0;
	s->cur++;
	if (mc_step(s))
		mc_event_done(s);
}

/* The event ends here: later milters do not see it. */
static void
stop(mc_session *s)
{
	s->waiting = 0;
	s->cur = s->n;
	mc_event_done(s);
}

static mc_failure_fn mc_failure_hook;

void
mc_set_failure_hook(mc_failure_fn fn)
{
	mc_failure_hook = fn;
}

const char *
mc_fail_kind_name(enum mc_fail_kind kind)
{
	static const char *const names[MC_FAIL_KINDS] = {
		"connect", "timeout", "closed", "protocol", "owner"
	};

	return kind < MC_FAIL_KINDS ? names[kind] : "other";
}

void
mc_on_fail(mc_session *s, size_t slot, enum mc_fail_kind kind, const char *why)
{
	struct mc_slot *sl = &s->slots[slot];
	struct mc_milter *m = &s->l->v[slot];
	int was_current = s->ev && s->cur == slot;

	log_warnx("milter %s: %s (default action %s)", m->name, why,
	    m->def == MC_DEF_ACCEPT ? "accept" : m->def == MC_DEF_REJECT ? "reject" : "tempfail");
	if (sl->c && sl->c->reused && (!sl->in_msg || s->ev == SMFIC_MAIL) &&
	    (s->ev == 0 || stage_of(s->ev) <= 2)) {
		/*
		 * The pooled socket had gone stale (it never answered on this
		 * session): say it all again on a fresh one, MAIL included.
		 */
		mc_conn_close(sl->c);
		sl->replay = 1;
		if ((sl->c = mc_conn_get(s, slot)) != NULL) {
			if (was_current)
				s->waiting = 0;
			return;
		}
		sl->replay = 0;
		kind = MC_FAIL_CONNECT;	/* what failed in the end: the fresh connection */
	} else {
		mc_conn_close(sl->c);
		sl->c = NULL;
	}
	sl->c = NULL;
	sl->off = 1;
	/* Counted here, where the default action applies: a stale pooled socket replaced is not. */
	if (mc_failure_hook != NULL)
		mc_failure_hook(m->name, kind);
	if (was_current && s->ev == SMFIC_BODYEOB)
		mc_mods_drop(s, slot);	/* a milter that failed mid-edit: none of its edits */
	if (m->def == MC_DEF_TEMPFAIL)
		s->fail_temp = 1;
	else if (m->def == MC_DEF_REJECT)
		s->fail_reject = 1;
	if (was_current) {
		s->waiting = 0;
		s->cur++;
		if (mc_step(s))
			mc_event_done(s);
	} else if (!s->ev && s->in_data && s->out_blocked) {
		/* The stream waited for this milter's socket to drain: it goes on without it. */
		s->out_blocked = 0;
		mc_pump(s);
	}
}

/* REJECT, TEMPFAIL or REPLYCODE from slot. Returns -1 on a malformed reply. */
static int
decide(mc_session *s, size_t slot, const struct mp_msg *m)
{
	char text[MP_REPLY_MAX + 1];
	enum mc_action act;
	int code, close = 0;
	uint8_t hdr[MP_HDR_LEN];
	size_t i;

	if (m->cmd == SMFIR_REPLYCODE) {
		if ((code = mp_reply_check(m->s1, text, sizeof(text))) < 0)
			return -1;
		act = code >= 500 ? MC_REJECT : MC_TEMPFAIL;
		close = code == 421;
	} else {
		act = m->cmd == SMFIR_REJECT ? MC_REJECT : MC_TEMPFAIL;
		reply_format(m->cmd == SMFIR_REJECT ? R_POLICY_REJECT : R_POLICY_TEMPFAIL, NULL, text,
		    sizeof(text));
	}
	if (s->unit) {
		/* Refused mid-message: remembered, answered at end of data. */
		if (s->msg_act == MC_CONTINUE) {
			s->msg_act = act;
			memcpy(mc_reply_buf(&s->msg_reply), text, sizeof(text));
			s->msg_decider = s->l->v[slot].name;
		}
		for (i = 0; i < s->n; i++)
			s->slots[i].msg_off = 1;
		return 0;
	}
	s->act = act;
	memcpy(mc_reply_buf(&s->reply), text, sizeof(text));
	s->close = close;
	s->decider = s->l->v[slot].name;
	if (s->ev == SMFIC_HELO) {
		s->helo_act = act;
		memcpy(mc_reply_buf(&s->helo_reply), text, sizeof(text));
		s->helo_decider = s->decider;
	}
	if (s->ev == SMFIC_MAIL) {
		/* No transaction: the milters that took this MAIL hear an ABORT. */
		mp_put_header(hdr, SMFIC_ABORT, 0);
		for (i = 0; i < s->n; i++) {
			if (i != slot && s->slots[i].in_msg && s->slots[i].c)
				mc_conn_send(s->slots[i].c, hdr, sizeof(hdr), 0);
			s->slots[i].in_msg = 0;
		}
	}
	return 0;
}

void
mc_on_packet(mc_session *s, size_t slot, const struct mp_msg *m)
{
	struct mc_slot *sl = &s->slots[slot];
	char why[64];
	size_t i;

	if (!s->waiting || s->cur != slot) {
		snprintf(why, sizeof(why), "reply '%c' out of turn", m->cmd);
		mc_on_fail(s, slot, MC_FAIL_PROTOCOL, why);
		return;
	}
	sl->c->reused = 0;	/* it answered: no replay from here on */
	switch (m->cmd) {
	case SMFIR_CONTINUE:
		if (s->ev == SMFIC_BODYEOB) {
			sl->in_msg = 0;
			sl->c->qnc_ok = 1;
		}
		advance(s);
		return;
	case SMFIR_ACCEPT:
		if (s->ev == SMFIC_CONNECT || s->ev == SMFIC_HELO)
			sl->off = 1;	/* no more events this session */
		else
			sl->msg_off = 1;	/* none for this message */
		if (s->ev == SMFIC_BODYEOB)
			sl->in_msg = 0;
		advance(s);
		return;
	case SMFIR_SKIP:
		sl->skip_ev = s->ev;
		advance(s);
		return;
	case SMFIR_DISCARD:
		if (s->ev == SMFIC_CONNECT || s->ev == SMFIC_HELO || s->ev == SMFIC_UNKNOWN) {
			log_warnx("milter %s: DISCARD outside a message ignored", s->l->v[slot].name);
			advance(s);
			return;
		}
		s->discard = 1;
		if (!s->decider)
			s->decider = s->l->v[slot].name;
		for (i = 0; i < s->n; i++)
			s->slots[i].msg_off = 1;
		if (s->ev == SMFIC_BODYEOB)
			sl->in_msg = 0;
		stop(s);
		return;
	case SMFIR_REJECT:
	case SMFIR_TEMPFAIL:
	case SMFIR_REPLYCODE:
		if (decide(s, slot, m) != 0) {
			mc_on_fail(s, slot, MC_FAIL_PROTOCOL, "malformed custom reply");
			return;
		}
		if (s->ev == SMFIC_BODYEOB)
			sl->in_msg = 0;
		if (s->unit)
			advance(s);	/* the stream goes on, unread by the milters */
		else
			stop(s);
		return;
	case SMFIR_SHUTDOWN:
	case SMFIR_CONN_FAIL:
		/* The milter wants the SMTP client gone, and is done with this socket too. */
		s->act = MC_CLOSE;
		reply_format(R_SERVICE_UNAVAILABLE, NULL, mc_reply_buf(&s->reply), MP_REPLY_MAX + 1);
		s->close = 1;
		s->decider = s->l->v[slot].name;
		mc_conn_close(sl->c);
		sl->c = NULL;
		sl->off = 1;
		sl->in_msg = 0;
		stop(s);
		return;
	}
	if (s->ev == SMFIC_BODYEOB) {
		/* Edits and quarantine, before the final word. */
		if (mc_eom_packet(s, slot, m) != 0)
			mc_on_fail(s, slot, MC_FAIL_PROTOCOL, "bad modification request");
		return;
	}
	snprintf(why, sizeof(why), "unexpected reply '%c' to '%c'", m->cmd, s->ev);
	mc_on_fail(s, slot, MC_FAIL_PROTOCOL, why);
}
