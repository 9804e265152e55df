/*
 * session_msg.c - the message side of a session: the spool file of a
 * transaction, DATA and BDAT bytes through the scanner into it, the size
 * and bare-newline verdicts, and the wait for the group commit before 250.
 */
#include "session.h"
#include "session_int.h"
#include "commands.h"
#include "data.h"
#include "log.h"
#include "smtpd.h"
#include "smtpd_metrics.h"
#include "spool.h"
#include "spool_edit.h"
#include "tls.h"
#include "uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the spool side of a transaction */

void
session_tx_hook(void *ctx)
{
	struct session *s = ctx;

	/* The transaction ended before its commit: nothing of it may stay behind. */
	if (s->sf) {
		spool_file_abort(s->sf);
		s->sf = NULL;
	}
	s->bdat_active = 0;
	session_milter_tx_end(s);
}

static const char *
session_protocol(const struct session *s)
{
	static const char *const names[8] = {
		"SMTP", "ESMTP", "SMTPS", "ESMTPS", "SMTPA", "ESMTPA", "SMTPSA", "ESMTPSA"
	};
	return names[(s->cs.esmtp ? 1 : 0) | (s->cs.tls ? 2 : 0) | (s->cs.authed ? 4 : 0)];
}

static const char *
session_body_name(enum cmd_body b)
{
	switch (b) {
	case BODY_7BIT:
		return "7BIT";
	case BODY_8BITMIME:
		return "8BITMIME";
	case BODY_BINARYMIME:
		return "BINARYMIME";
	default:
		return "";
	}
}

/* The envelope of the open transaction as the spool records it (strings borrowed). */
void
session_envelope(struct session *s, struct spool_envelope *env_out)
{
	struct spool_envelope env;

	memset(&env, 0, sizeof(env));
	env.id = s->msg_id;
	env.arrival_ms = s->arrival_ms;
	env.client_addr = s->addr;
	env.client_port = s->port;
	env.helo = s->cs.helo ? s->cs.helo : "";
	env.protocol = session_protocol(s);
	env.tls_version = s->io.tls ? tls_conn_version(s->io.tls) : NULL;
	env.tls_cipher = s->io.tls ? tls_conn_cipher(s->io.tls) : NULL;
	env.account = s->cs.account ? s->cs.account : "";
	env.body = session_body_name(s->cs.body);
	env.smtputf8 = s->cs.smtputf8;
	env.sender = s->cs.sender ? s->cs.sender : "<>";
	env.rcpts = s->cs.rcpts;
	env.nrcpts = s->cs.nrcpts;
	*env_out = env;
}

int
session_apply_mods(struct session *s, const struct mc_mods *m, uint64_t *size)
{
	struct spool_envelope env;
	spool_file *out;
	char tag[96];

	session_envelope(s, &env);
	snprintf(tag, sizeof(tag), "sess=%s id=%s", s->cs.log_id, s->msg_id);
	if (spool_edit_apply(s->d->spool, s->sf, &env, m, tag, &out, size) != 0)
		return -1;
	spool_file_abort(s->sf);
	s->sf = out;
	return 0;
}

/* Start the message: new id (milters: given at MAIL), tmp file with the envelope. 0 ok, -1 failed. */
static int
session_spool_open(struct session *s)
{
	struct spool_envelope env;

	if (s->mcs == NULL)
		uuid_v7(s->msg_id);
	s->arrival_ms = clock_ms_wall();
	s->msg_open = 1;
	session_envelope(s, &env);
	s->sf = spool_file_new(s->d->spool, &env);
	return s->sf ? 0 : -1;
}

/* Message bytes from the scanner: to the spool, unless the message is already lost. */
static void
session_sink(void *ctx, const char *p, size_t n)
{
	struct session *s = ctx;
	uint64_t limit = s->d->conf.size_limit;

	if (s->sf == NULL)
		return;
	if ((limit && s->scan.size > limit) || (s->scan.bare && !s->scan.normalize)) {
		/* Doomed: free the disk now, keep reading to the end marker. */
		spool_file_abort(s->sf);
		s->sf = NULL;
		return;
	}
	spool_file_write(s->sf, p, n);
	session_milter_body(s, p, n);
}

/* Why the message cannot be queued, or CMD_NO_REPLY. */
static int
session_tx_verdict(struct session *s)
{
	uint64_t limit = s->d->conf.size_limit;

	if (s->scan.bare && !s->scan.normalize)
		return R_BARE_NEWLINE;
	if (limit && s->scan.size > limit)
		return R_SIZE_DATA;
	if (s->sf == NULL || spool_file_failed(s->sf))
		return R_SYSTEM_FAILURE;
	return CMD_NO_REPLY;
}

#define SESSION_LOG_RCPTS_MAX	1200	/* bytes of to= per line: a log line holds 2 KiB */

/*
 * The message's line: id, size, sender and every recipient (to=, comma
 * separated). Recipients past what one line holds follow on lines of
 * their own with the same id, so none is ever left out.
 */
static void
session_log_queued(struct session *s, const char *size)
{
	char from[600], acct[300], to[SESSION_LOG_RCPTS_MAX + 600], q[600];
	const char *from_v = log_value(s->cs.sender ? s->cs.sender : "<>", from, sizeof(from));
	const char *acct_v = log_value(s->cs.account ? s->cs.account : "-", acct, sizeof(acct));
	size_t i = 0, len;
	int first = 1;

	do {
		len = 0;
		to[0] = '\0';
		for (; i < s->cs.nrcpts; i++) {
			const char *v = log_value(s->cs.rcpts[i], q, sizeof(q));
			size_t n = strlen(v);

			if (len > 0 && len + n + 1 > SESSION_LOG_RCPTS_MAX)
				break;
			len += (size_t)snprintf(to + len, sizeof(to) - len, "%s%s", len ? "," : "", v);
		}
		if (first)
			log_info("sess=%s queued id=%s size=%s nrcpt=%u from=%s to=%s account=%s "
			    "client=%s", s->cs.log_id, s->msg_id, size, s->cs.nrcpts, from_v, to,
			    acct_v, s->addr);
		else
			log_info("sess=%s queued id=%s to=%s", s->cs.log_id, s->msg_id, to);
		first = 0;
	} while (i < s->cs.nrcpts);
}

static void
session_on_commit(void *arg, int ok)
{
	struct session *s = arg;
	char size[32];

	s->committing = 0;
	s->busy = 0;
	snprintf(size, sizeof(size), "%llu", (unsigned long long)s->scan.size);
	if (ok) {
		s->nmsgs++;
		smtpd_metrics_queued(s->scan.size);
		session_log_queued(s, size);
		cmd_tx_reset(&s->cs);
		session_say(s, R_QUEUED, s->msg_id, 0);
	} else {
		log_warnx("sess=%s id=%s not queued: spool commit failed", s->cs.log_id, s->msg_id);
		cmd_tx_reset(&s->cs);
		session_say(s, R_SYSTEM_FAILURE, NULL, 1);
	}
	session_resume(s);
}

/* End of DATA, or of the LAST chunk: refuse, or hand to the spool and wait. */
static void
session_message_end(struct session *s)
{
	int why = session_tx_verdict(s);

	if (why != CMD_NO_REPLY) {
		log_info("sess=%s id=%s rejected size=%llu", s->cs.log_id, s->msg_id,
		    (unsigned long long)s->scan.size);
		cmd_tx_reset(&s->cs);
		session_say(s, why, NULL, why == R_SYSTEM_FAILURE);
		return;
	}
	if (s->mcs) {
		session_milter_eom(s);	/* its verdict commits (session_milter.c) */
		return;
	}
	session_commit(s);
}

/* Hand the finished message to the spool; the 250 waits for the commit. */
void
session_commit(struct session *s)
{
	cmd_enter(&s->cs, SS_COMMIT);
	s->busy = 1;
	s->committing = 1;
	spool_file_commit(s->sf, s->scan.size, session_on_commit, s);
	s->sf = NULL;
}

void
session_data_begin(struct session *s, const struct cmd_result *r)
{
	if (session_spool_open(s) != 0) {
		cmd_tx_reset(&s->cs);
		session_say(s, R_SYSTEM_FAILURE, NULL, 1);
		return;
	}
	data_scan_init(&s->scan, DATA_MODE_DOT, s->d->normalize_bare);
	session_send(s, r);
}

size_t
session_data(struct session *s, const char *buf, size_t len)
{
	size_t n = data_scan_feed(&s->scan, buf, len, session_sink, s);

	if (s->scan.done)
		session_message_end(s);
	return n;
}

static void
session_chunk_end(struct session *s)
{
	int why;
	char num[32];

	s->bdat_active = 0;
	if (s->cs.bdat_discard != CMD_NO_REPLY && s->mc_reply) {
		/* A milter refused the transaction at its first chunk. */
		char *reply = s->mc_reply;
		s->mc_reply = NULL;
		s->cs.bdat_discard = CMD_NO_REPLY;
		session_say_text(s, reply, 0);
		free(reply);
		return;
	}
	if (s->cs.bdat_discard != CMD_NO_REPLY) {
		struct cmd_result r;
		cmd_result_init(&r);
		cmd_result_set(&r, s->cs.bdat_discard, NULL);
		r.close = s->cs.bdat_discard == R_SYSTEM_FAILURE;
		cmd_count_error(&s->cs, &r);
		session_send(s, &r);
		s->cs.bdat_discard = CMD_NO_REPLY;
		return;
	}
	if (s->cs.bdat_last) {
		data_scan_finish(&s->scan, session_sink, s);
		session_message_end(s);
		return;
	}
	if ((why = session_tx_verdict(s)) != CMD_NO_REPLY) {
		/* RFC 3030: the transaction fails; later chunks are skipped with 503. */
		cmd_tx_reset(&s->cs);
		session_say(s, why, NULL, why == R_SYSTEM_FAILURE);
		return;
	}
	cmd_enter(&s->cs, SS_CHUNKING);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)s->cs.bdat_len);
	session_say(s, R_BDAT_OK, num, 0);
}

void
session_bdat_begin(struct session *s)
{
	if (s->cs.bdat_discard == CMD_NO_REPLY && s->sf == NULL) {
		/* First chunk of the transaction. */
		if (session_spool_open(s) != 0) {
			cmd_tx_reset(&s->cs);
			s->cs.bdat_discard = R_SYSTEM_FAILURE;
		} else {
			data_scan_init(&s->scan, s->cs.body == BODY_BINARYMIME ? DATA_MODE_BINARY :
			    DATA_MODE_RAW, s->d->normalize_bare);
		}
	}
	s->bdat_left = s->cs.bdat_len;
	s->bdat_active = 1;
	if (s->bdat_left == 0)
		session_chunk_end(s);
}

size_t
session_bdat(struct session *s, const char *buf, size_t len)
{
	size_t n = len < s->bdat_left ? len : (size_t)s->bdat_left;

	if (s->cs.bdat_discard == CMD_NO_REPLY)
		data_scan_feed(&s->scan, buf, n, session_sink, s);
	s->bdat_left -= n;
	if (s->bdat_left == 0)
		session_chunk_end(s);
	return n;
}
