/* smtp_client_tx.c - one message on a ready connection: checks, MAIL/RCPT/DATA (pipelined when offered), the body, per-recipient outcomes. */
#include "hop_int.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TX_READ_CHUNK	16384

void
tx_clear(struct hop_conn *c)
{
	free(c->tx.todo);
	free(c->tx.accepted);
	memset(&c->tx, 0, sizeof(c->tx));
}

int
tx_outcome(int code, int delivered_ok)
{
	if (code >= 200 && code < 300 && delivered_ok)
		return RELAY_RCPT_DELIVERED;
	if (code >= 500 && code < 600)
		return RELAY_RCPT_FAILED;
	/* 4xx, and anything out of place: try again later rather than lose the message. */
	return RELAY_RCPT_DEFERRED;
}

/* Envelope addresses go on the wire as they are: "<...>", bounded, no control bytes. */
static int
tx_addr_ok(const char *a)
{
	size_t n = a ? strlen(a) : 0, i;

	if (n < 2 || n > HOP_ADDR_MAX || a[0] != '<' || a[n - 1] != '>')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
			return 0;
	return 1;
}

static struct relay_rcpt *
tx_rcpt(struct hop_conn *c, size_t j)
{
	return &c->w->job->rcpts[c->tx.todo[j]];
}

/* Recipient j of the transaction gets the current reply's outcome. */
static void
tx_decide(struct hop_conn *c, size_t j, int delivered_ok)
{
	struct relay_rcpt *r = tx_rcpt(c, j);

	if (r->state != RELAY_RCPT_PENDING)
		return;
	r->state = tx_outcome(c->reply.code, delivered_ok);
	smtp_reply_line(&c->reply, r->reply, sizeof(r->reply));
}

static void
tx_decide_rcpt(struct relay_rcpt *r, int state, const char *reason)
{
	if (r->state == RELAY_RCPT_PENDING) {
		r->state = state;
		xstrlcpy(r->reply, reason, sizeof(r->reply));
	}
}

void
tx_finish(struct hop_conn *c, int keep)
{
	relay_hop *h = c->h;
	struct hop_wait *w = c->w;

	tx_clear(c);
	c->w = NULL;
	if (keep && !c->dead && !h->retiring) {
		c->reused = 1;
		conn_set_state(c, CS_IDLE, HOP_IDLE_TIMEOUT);
	} else {
		conn_close(c, keep);	/* a sound connection of a replaced hop says QUIT */
	}
	hop_dispatch(h);
	if (w != NULL)
		hop_job_done(h, w);
}

/* Report from the loop, not from inside relay_hop_deliver(). */
static void
tx_decided(struct hop_conn *c)
{
	struct timeval now = { 0, 0 };

	conn_set_state(c, CS_DECIDED, 0);
	event_add(c->ev_timer, &now);
}

static void
tx_begin(struct hop_conn *c)
{
	struct relay_job *job = c->w->job;
	struct conn_tx *t = &c->tx;
	char params[96] = "";
	size_t j;

	if (c->ehlo.size_offered)
		snprintf(params, sizeof(params), " SIZE=%" PRIu64,
		    job->data_size + (job->received ? strlen(job->received) : 0));
	if (job->body_8bit)
		strcat(params, " BODY=8BITMIME");
	if (job->smtputf8)
		strcat(params, " SMTPUTF8");
	conn_send(c, "MAIL FROM:%s%s", job->sender, params);
	t->pipelined = c->ehlo.pipelining;
	if (t->pipelined) {
		/* RFC 2920: MAIL, every RCPT and DATA in one write. */
		for (j = 0; j < t->ntodo; j++)
			conn_send(c, "RCPT TO:%s", tx_rcpt(c, j)->address);
		conn_send(c, "DATA");
	}
	conn_set_state(c, CS_MAILGROUP, HOP_CMD_TIMEOUT);
}

void
tx_start(struct hop_conn *c)
{
	struct relay_job *job = c->w->job;
	struct conn_tx *t = &c->tx;
	relay_hop *h = c->h;
	char reason[512], q[600];
	uint64_t size = job->data_size + (job->received ? strlen(job->received) : 0);
	size_t i;

	tx_clear(c);
	if (!tx_addr_ok(job->sender)) {
		deliver_reason(reason, sizeof(reason), DR_BAD_ADDRESS, "sender");
		conn_decide_all(c, RELAY_RCPT_FAILED, reason);
	}
	t->todo = xcalloc(job->nrcpts ? job->nrcpts : 1, sizeof(*t->todo));
	t->accepted = xcalloc(job->nrcpts ? job->nrcpts : 1, 1);
	for (i = 0; i < job->nrcpts; i++) {
		struct relay_rcpt *r = &job->rcpts[i];
		if (r->state != RELAY_RCPT_PENDING)
			continue;
		if (!tx_addr_ok(r->address)) {
			deliver_reason(reason, sizeof(reason), DR_BAD_ADDRESS, "recipient");
			tx_decide_rcpt(r, RELAY_RCPT_FAILED, reason);
			continue;
		}
		t->todo[t->ntodo++] = i;
	}
	if (t->ntodo == 0) {
		tx_decided(c);
		return;
	}
	/* What the next hop cannot take is failed here, never downgraded or cut. */
	if (c->ehlo.size_max > 0 && size > c->ehlo.size_max) {
		char a[32], b[32];
		snprintf(a, sizeof(a), "%" PRIu64, size);
		snprintf(b, sizeof(b), "%" PRIu64, c->ehlo.size_max);
		deliver_reason(reason, sizeof(reason), DR_SIZE, a, b, h->addr.desc);
	} else if (job->body_8bit && !c->ehlo.eightbitmime) {
		deliver_reason(reason, sizeof(reason), DR_8BIT, h->addr.desc);
	} else if (job->smtputf8 && !c->ehlo.smtputf8) {
		deliver_reason(reason, sizeof(reason), DR_SMTPUTF8, h->addr.desc);
	} else {
		reason[0] = '\0';
	}
	if (reason[0] != '\0') {
		log_info("id=%s relay=%s reason=%s not sent", job->id, h->addr.desc,
		    log_value(reason, q, sizeof(q)));
		conn_decide_all(c, RELAY_RCPT_FAILED, reason);
		tx_decided(c);
		return;
	}
	if (c->reused) {
		conn_send(c, "RSET");
		conn_set_state(c, CS_RSET, HOP_RSET_TIMEOUT);
		return;
	}
	tx_begin(c);
}

static void
tx_body_start(struct hop_conn *c)
{
	struct relay_job *job = c->w->job;

	dotstuff_init(&c->tx.ds);
	c->tx.body_pos = 0;
	if (job->received != NULL) {
		size_t n = strlen(job->received);
		char *out = xmalloc(2 * n + 1);
		size_t o = dotstuff_chunk(&c->tx.ds, job->received, n, out);
		conn_write(c, out, o);
		free(out);
	}
	conn_set_state(c, CS_BODY, HOP_DATA_XFER_TIMEOUT);
	tx_body_fill(c);
}

void
tx_body_fill(struct hop_conn *c)
{
	struct relay_job *job = c->w->job;
	struct conn_tx *t = &c->tx;
	char in[TX_READ_CHUNK], out[2 * TX_READ_CHUNK], reason[512], q[600];

	while (evbuffer_get_length(c->out) < HOP_OUT_HIGH && t->body_pos < job->data_size) {
		uint64_t left = job->data_size - t->body_pos;
		size_t want = left < sizeof(in) ? (size_t)left : sizeof(in);
		ssize_t n = pread(job->fd, in, want, (off_t)(job->data_offset + t->body_pos));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Mid-DATA: close without the final dot, so the next hop keeps nothing. */
			deliver_reason(reason, sizeof(reason), DR_SPOOL,
			    n < 0 ? strerror(errno) : "the file is shorter than its size line");
			log_warnx("id=%s relay=%s reason=%s", job->id, c->h->addr.desc,
			    log_value(reason, q, sizeof(q)));
			conn_fail(c, RELAY_RCPT_DEFERRED, reason, 0);
			return;
		}
		conn_write(c, out, dotstuff_chunk(&t->ds, in, (size_t)n, out));
		t->body_pos += (uint64_t)n;
	}
	if (t->body_pos == job->data_size) {
		char end[5];
		conn_write(c, end, dotstuff_end(&t->ds, end));
		conn_set_state(c, CS_DATA_END, HOP_DATA_DONE_TIMEOUT);
	}
}

/* Outcome of DATA or end of data for every accepted recipient still pending. */
static void
tx_decide_accepted(struct hop_conn *c, int delivered_ok)
{
	size_t j;

	for (j = 0; j < c->tx.ntodo; j++)
		if (c->tx.accepted[j])
			tx_decide(c, j, delivered_ok);
}

/* A reply in the MAIL, RCPT..., DATA group. */
static void
tx_group_reply(struct hop_conn *c)
{
	struct conn_tx *t = &c->tx;
	int code = c->reply.code, ok = code >= 200 && code < 300;
	size_t idx = t->nrep++, j;

	conn_set_state(c, CS_MAILGROUP, HOP_CMD_TIMEOUT);
	if (idx == 0) {
		if (!ok) {
			t->mail_failed = 1;
			for (j = 0; j < t->ntodo; j++)
				tx_decide(c, j, 0);
			if (!t->pipelined)
				tx_finish(c, 1);
			return;
		}
		if (!t->pipelined)
			conn_send(c, "RCPT TO:%s", tx_rcpt(c, 0)->address);
		return;
	}
	if (idx <= t->ntodo) {
		j = idx - 1;
		if (!t->mail_failed) {
			if (ok) {
				t->accepted[j] = 1;
				t->naccepted++;
			} else {
				tx_decide(c, j, 0);
			}
		}
		if (t->pipelined)
			return;
		if (j + 1 < t->ntodo) {
			conn_send(c, "RCPT TO:%s", tx_rcpt(c, j + 1)->address);
		} else if (t->naccepted > 0) {
			conn_send(c, "DATA");
			conn_set_state(c, CS_MAILGROUP, HOP_DATA_INIT_TIMEOUT);
		} else {
			tx_finish(c, 1);
		}
		return;
	}
	/* The DATA reply. */
	if (code == 354) {
		if (t->naccepted > 0 && !t->mail_failed) {
			tx_body_start(c);
		} else {
			/* RFC 2920: DATA accepted with no valid recipient: send an empty message, ignore the reply. */
			conn_write(c, ".\r\n", 3);
			conn_set_state(c, CS_DISCARD, HOP_DATA_DONE_TIMEOUT);
		}
		return;
	}
	if (!t->mail_failed)
		tx_decide_accepted(c, 0);
	tx_finish(c, 1);
}

void
tx_reply(struct hop_conn *c)
{
	struct conn_tx *t = &c->tx;
	int code = c->reply.code;
	size_t j;

	switch (c->state) {
	case CS_RSET:
		if (code != 250) {
			conn_abort(c, DR_PROTOCOL, "RSET refused");
			return;
		}
		tx_begin(c);
		return;
	case CS_MAILGROUP:
		tx_group_reply(c);
		return;
	case CS_BODY:
		/* Refused before the end of data (452 or 552 mid-stream): take it, end the connection. */
		if (code >= 400) {
			tx_decide_accepted(c, 0);
			tx_finish(c, 0);
		} else {
			conn_abort(c, DR_PROTOCOL, "reply before the end of data");
		}
		return;
	case CS_DATA_END:
		if (!c->h->addr.lmtp) {
			tx_decide_accepted(c, 1);
			tx_finish(c, 1);
			return;
		}
		/* RFC 2033: one reply per accepted recipient, in RCPT order. */
		for (j = t->lmtp_next; j < t->ntodo && !t->accepted[j]; j++)
			;
		if (j < t->ntodo) {
			tx_decide(c, j, 1);
			t->lmtp_next = j + 1;
		}
		for (j = t->lmtp_next; j < t->ntodo && !t->accepted[j]; j++)
			;
		if (j >= t->ntodo)
			tx_finish(c, 1);
		else
			conn_set_state(c, CS_DATA_END, HOP_DATA_DONE_TIMEOUT);
		return;
	case CS_DISCARD:
		tx_finish(c, 1);
		return;
	default:
		conn_abort(c, DR_PROTOCOL, "unexpected reply");
		return;
	}
}
