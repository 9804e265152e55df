/*
 * session_milter.c - the milter client (milter_client.h) on a session's
 * events. Each event the milters must see (connect, HELO/EHLO, MAIL, RCPT,
 * DATA or the first BDAT, end of data) holds the session's own reply and
 * its input ("busy") until the verdict arrives on the loop; the verdict
 * then either lets the held reply out or replaces it with the milter's
 * reply, verbatim. The body goes to the milters as it arrives, in the
 * same span the spool gets, with the client's backpressure.
 */
#include "session.h"
#include "session_int.h"
#include "commands.h"
#include "log.h"
#include "milter_client/milter_client.h"
#include "reply.h"
#include "smtpd.h"
#include "smtpd_metrics.h"
#include "spool.h"
#include "tls.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Hold r (copied) until the milters' verdict on stage. */
static void
session_milter_hold(struct session *s, const struct cmd_result *r, int stage)
{
	if (r) {
		s->held = xmalloc(sizeof(*r));
		memcpy(s->held, r, sizeof(*r));
	}
	s->mc_stage = stage;
	s->mc_sent_us = smtpd_metrics_now_us();
	s->busy = 1;
}

/*
 * The text of a refusal. The milter client always gives one; should it
 * not, the table's 421 4.3.2 goes out and the connection closes.
 */
static const char *
session_refusal_text(const struct mc_verdict *v, char *buf, size_t bufsize, int *close)
{
	if (v->reply != NULL && v->reply[0] != '\0')
		return v->reply;
	reply_format(R_SERVICE_UNAVAILABLE, NULL, buf, bufsize);
	*close = 1;
	return buf;
}

/*
 * A milter refused the connection: RFC 5321 3.1 allows only 554 (then wait
 * for QUIT, 503 to anything else) or 421 (then close) in place of the 220.
 * The milter's code becomes one of these; its enhanced code and text stay.
 */
static void
session_milter_refused_connect(struct session *s, const char *reply, int close)
{
	char *text = xstrdup(reply), *line, *next;

	close |= reply[0] != '5';
	/* Every line starts with the code (mp_reply_check made sure). */
	for (line = text; line != NULL; line = next) {
		next = strstr(line, "\r\n");
		if (next)
			next += 2;
		if (strlen(line) >= 3)
			memcpy(line, close ? "421" : "554", 3);
	}
	if (!close) {
		s->cs.refused = 1;
		log_info("sess=%s refused at connect: only QUIT is served", s->cs.log_id);
	}
	session_say_text(s, text, close);
	free(text);
}

/* A refusal (or 421) in place of the held reply of an envelope stage. */
static void
session_milter_refused(struct session *s, int stage, const struct mc_verdict *v)
{
	char buf[128];
	int close = v->close || v->action == MC_CLOSE;
	const char *reply = session_refusal_text(v, buf, sizeof(buf), &close);

	log_info("sess=%s milter %s refused %s", s->cs.log_id, v->milter ? v->milter : "-",
	    stage == MCS_CONNECT ? "the connection" : cmd_state_name(s->cs.state));
	switch (stage) {
	case MCS_CONNECT:
		session_milter_refused_connect(s, reply, close);
		return;
	case MCS_RCPT:
		cmd_rcpt_drop_last(&s->cs);
		break;
	case MCS_MAIL:
	case MCS_DATA:
		cmd_tx_reset(&s->cs);
		break;
	case MCS_BDAT:
		cmd_tx_reset(&s->cs);
		if (!close) {
			/* The chunk follows the command: skip it, then answer. */
			s->mc_reply = xstrdup(reply);
			s->mc_reply_close = 0;
			s->cs.bdat_discard = R_BAD_SEQUENCE;
			session_bdat_begin(s);
			return;
		}
		break;
	default:
		break;
	}
	session_say_text(s, reply, close);
}

/* The verdict at end of data: queue (after the edits), discard, or refuse. */
static void
session_milter_eom_verdict(struct session *s, const struct mc_verdict *v)
{
	uint64_t size;
	char buf[128];
	const char *reply;
	int close;

	s->mc_tx = 0;
	if (v->action == MC_CONTINUE) {
		if (v->mods && s->sf) {
			if (session_apply_mods(s, v->mods, &size) != 0) {
				cmd_tx_reset(&s->cs);
				session_say(s, R_SYSTEM_FAILURE, NULL, 1);
				return;
			}
			s->scan.size = size;
		}
		session_commit(s);
		return;
	}
	if (s->sf) {
		spool_file_abort(s->sf);
		s->sf = NULL;
	}
	if (v->action == MC_DISCARD) {
		/* The milter protocol's discard: the client hears success, nothing is queued. */
		log_info("sess=%s id=%s discarded by milter %s, nothing queued", s->cs.log_id,
		    s->msg_id, v->milter ? v->milter : "-");
		s->nmsgs++;
		cmd_tx_reset(&s->cs);
		session_say(s, R_QUEUED, s->msg_id, 0);
		return;
	}
	log_info("sess=%s id=%s refused by milter %s, nothing queued", s->cs.log_id, s->msg_id,
	    v->milter ? v->milter : "-");
	cmd_tx_reset(&s->cs);
	close = v->close || v->action == MC_CLOSE;
	reply = session_refusal_text(v, buf, sizeof(buf), &close);
	session_say_text(s, reply, close);
}

static void
session_on_verdict(void *arg, const struct mc_verdict *v)
{
	struct session *s = arg;
	struct cmd_result *r = s->held;
	int stage = s->mc_stage;

	s->held = NULL;
	s->mc_stage = MCS_NONE;
	s->busy = 0;
	smtpd_metrics_milter((int)v->action, smtpd_metrics_now_us() - s->mc_sent_us);
	if (stage == MCS_EOM) {
		session_milter_eom_verdict(s, v);
	} else if (v->action == MC_CONTINUE || v->action == MC_DISCARD) {
		/* DISCARD before the end is settled at end of data by the client. */
		switch (stage) {
		case MCS_CONNECT:
			session_say(s, R_BANNER, s->d->conf.hostname, 0);
			break;
		case MCS_MAIL:
			s->mc_tx = 1;
			session_send(s, r);
			break;
		case MCS_DATA:
			session_data_begin(s, r);
			break;
		case MCS_BDAT:
			session_bdat_begin(s);
			break;
		default:
			session_send(s, r);
			break;
		}
	} else {
		if (stage == MCS_MAIL)
			s->mc_tx = 1;	/* the reset below tells the milters */
		session_milter_refused(s, stage, v);
	}
	mc_mods_free(v->mods);	/* ours (milter_client.h), applied to the spool file or not */
	free(r);
	session_resume(s);
}

/* The client drained what mc_body() had queued: read again, or finish the message. */
static void
session_on_ready(void *arg)
{
	struct session *s = arg;

	s->mc_paused = 0;
	if (s->mc_eom_wait) {
		s->mc_eom_wait = 0;
		session_milter_eom(s);
		session_resume(s);
		return;
	}
	if (s->mc_stage == MCS_NONE)
		s->busy = 0;
	session_resume(s);
}

/* Who the client is, for the connect macros. */
static void
session_mc_client(const struct session *s, struct mc_client *c)
{
	memset(c, 0, sizeof(*c));
	c->hostname = s->d->conf.hostname;
	c->daemon_name = "postern-smtpd";
	c->family = s->peer.ss_family == AF_INET6 && strchr(s->addr, ':') ? AF_INET6 :
	    s->peer.ss_family == AF_INET || s->peer.ss_family == AF_INET6 ? AF_INET : AF_UNSPEC;
	c->addr = s->addr;
	c->port = s->port;
	c->name = NULL;
}

/* The TLS session, for the HELO macros; NULL in plain text. Strings live in subject/issuer and the TLS session. */
static const struct mc_tls *
session_mc_tls(const struct session *s, struct mc_tls *tls, char *subject, char *issuer,
    size_t size)
{
	if (s->io.tls == NULL)
		return NULL;
	memset(tls, 0, sizeof(*tls));
	tls->version = tls_conn_version(s->io.tls);
	tls->cipher = tls_conn_cipher(s->io.tls);
	tls->bits = tls_conn_cipher_bits(s->io.tls);
	if (tls_conn_peer_cn(s->io.tls, subject, size, issuer, size) == 0) {
		tls->cert_subject = subject[0] ? subject : NULL;
		tls->cert_issuer = issuer[0] ? issuer : NULL;
	}
	return tls;
}

/*
 * A session kept out of the milters so far (s->mc_late) starts now: its
 * milter state is made and told who the client is (and its HELO, with_helo),
 * without events. Idle and never-mailing sessions cost no milter memory.
 */
static void
session_milter_late_start(struct session *s, int with_helo)
{
	struct mc_client c;
	struct mc_tls tls;
	char subject[256], issuer[256];

	s->mc_late = 0;
	s->mcs = mc_session_new(s->d->milters, s->d->base, session_on_verdict, session_on_ready, s);
	session_mc_client(s, &c);
	mc_catch_up(s->mcs, &c, with_helo && s->cs.helo ? s->cs.helo : NULL,
	    session_mc_tls(s, &tls, subject, issuer, sizeof(subject)));
}

/*
 * At accept: the milters see the connection before the banner (held until
 * the verdict), unless each of them negotiated, in an earlier session, to
 * skip the connect step: then the banner goes out at once and the milter
 * state waits for the first event a milter takes (HELO or MAIL).
 */
void
session_milter_start(struct session *s)
{
	struct mc_client c;

	if (s->d->milters == NULL || mc_list_count(s->d->milters) == 0) {
		session_say(s, R_BANNER, s->d->conf.hostname, 0);
		return;
	}
	if (mc_list_skips_connect(s->d->milters, 0)) {
		s->mc_late = 1;
		session_say(s, R_BANNER, s->d->conf.hostname, 0);
		return;
	}
	s->mcs = mc_session_new(s->d->milters, s->d->base, session_on_verdict, session_on_ready, s);
	session_mc_client(s, &c);
	session_milter_hold(s, NULL, MCS_CONNECT);
	mc_connect(s->mcs, &c);
}

/*
 * A command result the milters must see first: hold it and send the event.
 * Returns 1 when held (the verdict sends it), 0 when the caller goes on.
 */
int
session_milter_result(struct session *s, struct cmd_result *r)
{
	const char *argv[2];

	if (s->mc_late) {
		/* No milter state yet: made at the first event a milter takes. */
		if (r->id == R_EHLO_GREETING) {
			if (mc_list_skips_connect(s->d->milters, 1))
				return 0;
			session_milter_late_start(s, 0);	/* it wants HELO: the event below */
		} else if (r->action == ACT_MILTER) {
			session_milter_late_start(s, 1);
		}
	}
	if (s->mcs == NULL)
		return 0;
	if (r->id == R_EHLO_GREETING) {
		struct mc_tls tls;
		char subject[256], issuer[256];

		session_milter_hold(s, r, MCS_HELO);
		mc_helo(s->mcs, s->cs.helo, session_mc_tls(s, &tls, subject, issuer, sizeof(subject)));
		return 1;
	}
	switch (r->action) {
	case ACT_MILTER:
		/* The queue id is known from MAIL on, as Postfix's i macro is. */
		uuid_v7(s->msg_id);
		argv[0] = s->cs.sender;
		argv[1] = NULL;
		session_milter_hold(s, r, MCS_MAIL);
		mc_mail(s->mcs, argv, s->cs.authed ? s->cs.auth_type : NULL,
		    s->cs.authed ? s->cs.account : NULL, s->msg_id);
		return 1;
	case ACT_DATA:
		session_milter_hold(s, r, MCS_DATA);
		mc_data(s->mcs, s->msg_id);
		return 1;
	case ACT_BDAT:
		if (s->cs.bdat_discard != CMD_NO_REPLY || s->sf != NULL)
			return 0;	/* a later chunk, or one skipped anyway */
		session_milter_hold(s, r, MCS_BDAT);
		mc_data(s->mcs, s->msg_id);
		return 1;
	default:
		break;
	}
	if (r->id == R_RCPT_OK && s->cs.nrcpts > 0) {
		argv[0] = s->cs.rcpts[s->cs.nrcpts - 1];
		argv[1] = NULL;
		session_milter_hold(s, r, MCS_RCPT);
		mc_rcpt(s->mcs, argv);
		return 1;
	}
	return 0;
}

/* Message bytes as the spool gets them; a full client buffer pauses our input. */
void
session_milter_body(struct session *s, const char *p, size_t n)
{
	if (s->mcs && mc_body(s->mcs, p, n) == 1) {
		s->mc_paused = 1;
		s->busy = 1;
	}
}

/* End of data with a message worth queueing: ask the milters (after any pause). */
void
session_milter_eom(struct session *s)
{
	cmd_enter(&s->cs, SS_COMMIT);
	s->busy = 1;
	if (s->mc_paused) {
		s->mc_eom_wait = 1;
		return;
	}
	/* Sync the data while the verdict is on its way (most are "continue"). */
	if (s->sf)
		spool_file_presync(s->sf, s->scan.size);
	s->mc_stage = MCS_EOM;
	s->mc_sent_us = smtpd_metrics_now_us();
	mc_eom(s->mcs);
}

/* The transaction ended early (RSET, EHLO, errors, a refusal): the milters forget it. */
void
session_milter_tx_end(struct session *s)
{
	free(s->mc_reply);
	s->mc_reply = NULL;
	if (s->mcs && s->mc_tx) {
		s->mc_tx = 0;
		if (s->mc_paused && s->mc_stage == MCS_NONE)
			s->busy = 0;	/* mc_abort() ends the pause without on_ready() */
		s->mc_paused = 0;
		s->mc_eom_wait = 0;
		mc_abort(s->mcs);
	}
}

void
session_milter_free(struct session *s)
{
	if (s->mcs)
		mc_session_free(s->mcs);
	s->mcs = NULL;
	free(s->mc_reply);
	s->mc_reply = NULL;
}
