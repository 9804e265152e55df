/* hop_int.h - private to the delivery client: the hop, its connections, their states and transactions. */
#ifndef POSTERN_HOP_INT_H
#define POSTERN_HOP_INT_H

#include <sys/queue.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/buffer.h>

#include "client_tls.h"
#include "deliver.h"
#include "deliver_reason.h"
#include "dotstuff.h"
#include "hop_addr.h"
#include "hop_resolve.h"
#include "smtp_reply.h"

/* Per-stage timeouts in seconds, after Postfix's smtp_*_timeout defaults. */
#define HOP_CONNECT_TIMEOUT	30
#define HOP_GREETING_TIMEOUT	300
#define HOP_HELO_TIMEOUT	300
#define HOP_STARTTLS_TIMEOUT	300
#define HOP_TLS_TIMEOUT		60
#define HOP_CMD_TIMEOUT		300	/* AUTH, MAIL, RCPT */
#define HOP_RSET_TIMEOUT	20
#define HOP_DATA_INIT_TIMEOUT	120
#define HOP_DATA_XFER_TIMEOUT	180	/* without any progress while sending the body */
#define HOP_DATA_DONE_TIMEOUT	600
#define HOP_IDLE_TIMEOUT	10	/* a connection kept for the next message */

#define HOP_ADDR_MAX		2048	/* longest envelope address sent on */
#define HOP_OUT_HIGH		(64 * 1024)	/* refill the body below this much queued output */

enum hop_tls_mode { HOP_TLS_NONE, HOP_TLS_MAY, HOP_TLS_ENCRYPT, HOP_TLS_VERIFY };

/* A job with its callback, waiting for a connection or running on one. */
struct hop_wait {
	TAILQ_ENTRY(hop_wait) link;
	struct relay_job *job;
	relay_done_fn done;
	void *arg;
	int retried;		/* already lost one reused connection at RSET */
};

enum conn_state {
	CS_CONNECT, CS_GREETING, CS_EHLO, CS_HELO, CS_STARTTLS, CS_TLS_HANDSHAKE,
	CS_AUTH, CS_AUTH_LOGIN_USER, CS_AUTH_LOGIN_PASS,
	CS_IDLE, CS_RSET, CS_MAILGROUP, CS_BODY, CS_DATA_END, CS_DISCARD,
	CS_DECIDED,	/* the job was decided before any command: report it from the loop */
	CS_CLOSED
};

/* One message's transaction on a connection. */
struct conn_tx {
	size_t *todo;		/* indexes of the job's PENDING recipients, in order */
	unsigned char *accepted;	/* per todo entry: RCPT got 2xx */
	size_t ntodo, naccepted;
	size_t nrep;		/* replies read in the MAIL, RCPT..., DATA group */
	int pipelined, mail_failed;
	uint64_t body_pos;	/* bytes of the spooled message queued so far */
	struct dotstuff ds;
	size_t lmtp_next;	/* LMTP: the next todo entry whose data reply is due */
};

struct hop_conn {
	TAILQ_ENTRY(hop_conn) link;
	relay_hop *h;
	enum conn_state state;
	int fd;
	struct event *ev_read, *ev_write, *ev_timer;
	struct evbuffer *out;
	size_t tls_wlen;	/* bytes GnuTLS last took as "try again" */
	client_tls_conn *tls;
	int tls_refused;	/* relay_tls = may and STARTTLS was refused: go on in clear */
	int authed;
	struct smtp_reply reply;
	struct smtp_ehlo ehlo;
	struct addrinfo *ai_list, *ai_next;
	hop_resolve *resolve;	/* a name lookup running for this connection */
	char last_err[256];
	int reused;		/* a transaction already ran here: RSET first */
	struct hop_wait *w;	/* the running job, or NULL when idle */
	struct conn_tx tx;
	int in_cb;		/* callbacks on the stack; free only when 0 */
	int dead;
};

struct relay_hop {
	struct event_base *base;
	struct hop_addr addr;
	char *helo;
	enum hop_tls_mode tls_mode;
	client_tls *tls;
	char *auth_user, *auth_pass;
	unsigned concurrency;
	TAILQ_HEAD(, hop_conn) conns;
	unsigned nconns;
	TAILQ_HEAD(, hop_wait) waiting;
	unsigned nwaiting;
	int freeing;
	int retiring;	/* replaced (SIGHUP): no connection is kept idle any more */
	unsigned timeout_cap;	/* tests: no stage waits longer than this (0: no cap) */
};

/* hop.c */
void hop_dispatch(relay_hop *h);
/* Report w's job (every recipient decided) and free w; h and the connection may be gone afterwards. */
void hop_job_done(relay_hop *h, struct hop_wait *w);
void hop_requeue_front(relay_hop *h, struct hop_wait *w);
/* A stage's timeout after the tests' cap. */
int hop_timeout(const relay_hop *h, int seconds);
/* For tests (relay_deliver_tool -T): make every timeout at most seconds. */
void hop_set_timeout_cap(relay_hop *h, unsigned seconds);

/* smtp_client_io.c: the connection's plumbing. */
struct hop_conn *conn_new(relay_hop *h, struct hop_wait *w);
/* The running job's id for logs, "-" when idle. */
const char *conn_id(const struct hop_conn *c);
void conn_enter(struct hop_conn *c);
void conn_leave(struct hop_conn *c);
/* Close (QUIT first when quit and the session is up); frees now or when the callback returns. */
void conn_close(struct hop_conn *c, int quit);
void conn_set_state(struct hop_conn *c, enum conn_state st, int timeout);
void conn_send(struct hop_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conn_write(struct hop_conn *c, const char *p, size_t n);

/* smtp_client.c: the session up to a ready transaction. */
/* A complete reply arrived (c->reply): act on it in the current state. */
void conn_reply(struct hop_conn *c);
/* Drive the TLS handshake after STARTTLS; then verify (relay_tls = verify) and EHLO again. */
void conn_handshake(struct hop_conn *c);
/* Our own reason at session level: defer everything pending, QUIT, report. */
void conn_fail_reason(struct hop_conn *c, const char *reason);
/* Every still-pending recipient gets state and reason. */
void conn_decide_all(struct hop_conn *c, int state, const char *reason);
/* Lost, timed out or garbled: defer what is pending with the stage's reason, drop the connection. */
void conn_abort(struct hop_conn *c, enum deliver_reason why, const char *detail);
/* Decide what is pending (state, reason), close (QUIT first when quit), report the job. */
void conn_fail(struct hop_conn *c, int state, const char *reason, int quit);
const char *conn_stage(const struct hop_conn *c);

/* smtp_client_tx.c: one message on a ready connection. */
void tx_start(struct hop_conn *c);
void tx_reply(struct hop_conn *c);
void tx_body_fill(struct hop_conn *c);
/* The job is decided: keep (idle) or close the connection, report the job, hand the connection on. */
void tx_finish(struct hop_conn *c, int keep);
void tx_clear(struct hop_conn *c);
/* Outcome of a reply code for a recipient: DELIVERED, DEFERRED or FAILED. */
int tx_outcome(int code, int delivered_ok);

#endif
