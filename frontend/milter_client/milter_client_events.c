/*
 * milter_client_events.c - the SMTP events as milter packets: connect,
 * HELO, MAIL, RCPT, DATA, the body handed to the stream, end of message,
 * abort and unknown commands, each with the macros of its stage. The
 * sequencing through the milters is milter_client.c's.
 */
#include "milter_client_int.h"
#include "log.h"
#include "xalloc.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void
encode_event(mc_session *s, const struct mp_msg *m)
{
	s->pkt[0].len = 0;
	if (mp_encode(&s->pkt[0], MP_COMMANDS, m) != MP_OK) {
		/* Only an absurd argument gets here: send an empty-handed UNKNOWN instead of garbage. */
		log_warnx("milter: event '%c' too large, not sent", m->cmd);
		s->pkt[0].len = 0;
	}
}

/* The connect macros and what a replay of CONNECT needs, without the event. */
static void
set_client(mc_session *s, const struct mc_client *ci)
{
	char buf[600];

	mc_macro_set(s, M_J, ci->hostname);
	mc_macro_set(s, M_DAEMON_NAME, ci->daemon_name);
	mc_macro_set(s, M_DAEMON_ADDR, ci->daemon_addr);
	mc_macro_set(s, M_V, ci->version);
	mc_macro_set(s, M_CLIENT_ADDR, ci->addr);
	snprintf(buf, sizeof(buf), "%u", ci->port);
	mc_macro_set(s, M_CLIENT_PORT, buf);
	mc_macro_set(s, M_CLIENT_NAME, ci->name ? ci->name : "unknown");
	snprintf(buf, sizeof(buf), "%.255s [%.255s]", ci->name ? ci->name : "unknown",
	    ci->addr ? ci->addr : "");
	mc_macro_set(s, M_UNDERSCORE, buf);
	/* Sendmail's form for a client without a verified name: "[addr]". */
	snprintf(buf, sizeof(buf), ci->name ? "%.255s" : "[%.255s]", ci->name ? ci->name :
	    ci->addr ? ci->addr : "");
	free(s->conn_host);
	s->conn_host = xstrdup(buf);
	s->family = ci->family == AF_INET ? SMFIA_INET : ci->family == AF_INET6 ? SMFIA_INET6 :
	    SMFIA_UNKNOWN;
	if (ci->addr == NULL)
		s->family = SMFIA_UNKNOWN;
}

/* The HELO macros and name, without the event. */
static void
set_helo(mc_session *s, const char *helo, const struct mc_tls *tls)
{
	char bits[16];

	mc_macro_set(s, M_TLS_VERSION, tls ? tls->version : NULL);
	mc_macro_set(s, M_CIPHER, tls ? tls->cipher : NULL);
	snprintf(bits, sizeof(bits), "%u", tls ? tls->bits : 0);
	mc_macro_set(s, M_CIPHER_BITS, tls ? bits : NULL);
	mc_macro_set(s, M_CERT_SUBJECT, tls ? tls->cert_subject : NULL);
	mc_macro_set(s, M_CERT_ISSUER, tls ? tls->cert_issuer : NULL);
	free(s->helo);
	s->helo = xstrndup(helo, 255);
}

void
mc_connect(mc_session *s, const struct mc_client *ci)
{
	struct mp_msg m = { .cmd = SMFIC_CONNECT };
	size_t i;

	set_client(s, ci);
	m.s1 = s->conn_host;
	m.family = s->family;
	m.port = (uint16_t)ci->port;
	m.s2 = s->family == SMFIA_UNKNOWN ? NULL : ci->addr;
	encode_event(s, &m);
	for (i = 0; i < s->n; i++) {
		const struct mc_milter *mm = &s->l->v[i];

		if (s->slots[i].c != NULL || s->slots[i].off)
			continue;
		if (mm->proto_known && (mm->proto_seen & SMFIP_NOCONNECT)) {
			/* It does not look at connect: no socket until it takes an event (mc_event_start). */
			s->slots[i].deferred = 1;
			continue;
		}
		if ((s->slots[i].c = mc_conn_get(s, i)) == NULL)
			mc_on_fail(s, i, MC_FAIL_CONNECT, "cannot connect");
	}
	mc_event_start(s, SMFIC_CONNECT);
}

void
mc_helo(mc_session *s, const char *helo, const struct mc_tls *tls)
{
	set_helo(s, helo, tls);
	encode_event(s, &(struct mp_msg){ .cmd = SMFIC_HELO, .s1 = s->helo });
	mc_event_start(s, SMFIC_HELO);
}

void
mc_catch_up(mc_session *s, const struct mc_client *ci, const char *helo, const struct mc_tls *tls)
{
	size_t i;

	set_client(s, ci);
	if (helo != NULL)
		set_helo(s, helo, tls);
	/* Connected at the first event each takes; what they missed is replayed then. */
	for (i = 0; i < s->n; i++)
		if (s->slots[i].c == NULL && !s->slots[i].off)
			s->slots[i].deferred = 1;
}

/* An argv event (MAIL, RCPT); *addr gets argv[0] without its angle brackets. */
static void
encode_argv(mc_session *s, int cmd, const char *const *argv, enum mc_mac addr_mac)
{
	struct mp_buf list = { 0 };
	char addr[600];
	size_t n, i;

	for (i = 0; argv && argv[i]; i++)
		mp_list_add(&list, argv[i]);
	if (i == 0)
		mp_list_add(&list, "<>");
	n = argv && argv[0] ? strlen(argv[0]) : 0;
	if (n >= 2 && argv[0][0] == '<' && argv[0][n - 1] == '>')
		snprintf(addr, sizeof(addr), "%.*s", (int)(n - 2), argv[0] + 1);
	else
		snprintf(addr, sizeof(addr), "%s", n ? argv[0] : "");
	mc_macro_set(s, addr_mac, addr);
	encode_event(s, &(struct mp_msg){ .cmd = cmd, .list = (const char *)list.p,
	    .listlen = list.len });
	mp_buf_free(&list);
}

void
mc_mail(mc_session *s, const char *const *argv, const char *auth_type, const char *auth_authen,
    const char *queue_id)
{
	mc_message_end(s);		/* a transaction the session forgot to abort */
	mc_macro_set(s, M_AUTH_TYPE, auth_type);
	mc_macro_set(s, M_AUTH_AUTHEN, auth_authen);
	mc_macro_set(s, M_I, queue_id);
	encode_argv(s, SMFIC_MAIL, argv, M_MAIL_ADDR);
	mc_event_start(s, SMFIC_MAIL);
}

void
mc_rcpt(mc_session *s, const char *const *argv)
{
	encode_argv(s, SMFIC_RCPT, argv, M_RCPT_ADDR);
	mc_event_start(s, SMFIC_RCPT);
}

void
mc_data(mc_session *s, const char *queue_id)
{
	if (queue_id)
		mc_macro_set(s, M_I, queue_id);
	encode_event(s, &(struct mp_msg){ .cmd = SMFIC_DATA });
	mc_event_start(s, SMFIC_DATA);
}

int
mc_body(mc_session *s, const char *p, size_t n)
{
	if (!s->in_data || s->eom)
		return 0;
	evbuffer_add(s->in, p, n);
	mc_pump(s);
	if (evbuffer_get_length(s->in) >= MC_IN_HIGH) {
		s->want_ready = 1;
		return 1;
	}
	return 0;
}

void
mc_eom(mc_session *s)
{
	if (!s->in_data) {
		/* No DATA went through the milters (a misuse, or all failed): settle what is known. */
		s->ev = SMFIC_BODYEOB;
		s->unit = 0;
		s->act = MC_CONTINUE;
		s->close = 0;
		s->decider = NULL;
		mc_event_done(s);
		return;
	}
	s->eom = 1;
	mc_pump(s);
}

void
mc_abort(mc_session *s)
{
	mc_cancel_event(s);
	mc_message_end(s);
}

void
mc_unknown(mc_session *s, const char *line)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", line);
	encode_event(s, &(struct mp_msg){ .cmd = SMFIC_UNKNOWN, .s1 = buf });
	mc_event_start(s, SMFIC_UNKNOWN);
}
