/* smtp_client.c - the SMTP/LMTP session with the next hop up to a ready transaction: greeting, EHLO/LHLO (HELO fallback), STARTTLS per relay_tls, AUTH only over TLS, and how a failure decides the job. */
#include "hop_int.h"
#include "log.h"
#include "relay_metrics.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

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
	char reason[512], q[600];
	relay_hop *h = c->h;
	struct hop_wait *w = c->w;

	/* A kept connection the next hop closed meanwhile: the job did not start, try a fresh one. */
	if (c->state == CS_RSET && w != NULL && !w->retried) {
		log_info("id=%s kept connection to %s lost at RSET; reconnecting", w->job->id,
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
		log_warnx("id=%s relay=%s reason=%s", w->job->id, h->addr.desc,
		    log_value(reason, q, sizeof(q)));
	conn_fail(c, RELAY_RCPT_DEFERRED, reason, why == DR_PROTOCOL);
}

/* The next hop's reply decides the whole job at session level (greeting, EHLO, STARTTLS, AUTH). */
static void
conn_fail_reply(struct hop_conn *c, const char *what)
{
	char line[512], q[600];

	smtp_reply_line(&c->reply, line, sizeof(line));
	if (c->w != NULL)
		log_warnx("id=%s relay=%s stage=%s reply=%s", c->w->job->id, c->h->addr.desc, what,
		    log_value(line, q, sizeof(q)));
	conn_fail(c, RELAY_RCPT_DEFERRED, line, 1);
}

/* Our own reason (enum) at session level: defer everything pending. */
void
conn_fail_reason(struct hop_conn *c, const char *reason)
{
	char q[600];

	if (c->w != NULL)
		log_warnx("id=%s relay=%s reason=%s", c->w->job->id, c->h->addr.desc,
		    log_value(reason, q, sizeof(q)));
	conn_fail(c, RELAY_RCPT_DEFERRED, reason, 1);
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

void
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
		relay_metrics_tls(NULL);
		deliver_reason(reason, sizeof(reason), DR_TLS_FAILED, c->h->addr.desc,
		    client_tls_error(c->tls));
		conn_fail_reason(c, reason);
		return;
	}
	if (c->h->tls_mode == HOP_TLS_VERIFY && client_tls_verify(c->tls, why, sizeof(why)) != 0) {
		relay_metrics_tls(NULL);
		deliver_reason(reason, sizeof(reason), DR_CERT, c->h->addr.desc, why);
		/* No QUIT: nothing more goes to a peer we do not trust. */
		if (c->w != NULL)
			log_warnx("id=%s relay=%s reason=%s", c->w->job->id, c->h->addr.desc,
			    log_value(reason, why, sizeof(why)));
		conn_fail(c, RELAY_RCPT_DEFERRED, reason, 0);
		return;
	}
	relay_metrics_tls(client_tls_version(c->tls));
	client_tls_describe(c->tls, desc, sizeof(desc));
	log_info("id=%s relay=%s tls=%s cipher=%s%s", conn_id(c), c->h->addr.desc,
	    client_tls_version(c->tls), desc,
	    c->h->tls_mode == HOP_TLS_VERIFY ? " certificate=verified" : "");
	conn_send_ehlo(c);
}

/* Session-level replies; transaction replies go to tx_reply(). */
void
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
