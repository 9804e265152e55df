/*
 * session_int.h - the session structure and what session.c and
 * session_msg.c call of each other. Private to those two files.
 */
#ifndef POSTERN_SESSION_INT_H
#define POSTERN_SESSION_INT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "commands.h"
#include "data.h"
#include "io.h"
#include "milter_client/milter_client.h"
#include "spool.h"
#include "uuid.h"

struct smtpd;
struct event;
struct auth_attempt;

#define SESSION_READ_CHUNK	(64 * 1024)
#define SESSION_CARRY_MAX	(SESSION_READ_CHUNK + CMD_AUTH_LINE_MAX)
#define SESSION_OUT_HIGH	(64 * 1024)	/* stop reading while this much output waits */
#define SESSION_REPLY_MAX	4096

struct session {
	struct smtpd *d;
	struct cmd_session cs;
	struct io io;
	struct event *ev;		/* the socket: read and/or write interest, idle timeout */
	short ev_flags;			/* interest currently registered */
	int busy_woken;			/* the client sent while we were busy: read interest dropped */
	struct event *deadline_ev;	/* the client's deadline (session_deadline.c); made on first use */
	uint64_t deadline_ms;		/* monotonic; 0: none yet */
	uint64_t deadline_armed_ms;	/* what deadline_ev is set for; 0: not set */
	uint64_t paused_ms;		/* our own work began then: the client's clock stands still */
	struct event *timer;		/* AUTH: the wait before the check; created on first use */
	struct auth_attempt *attempt;	/* AUTH admitted by the backoff, outcome not known yet */
	char *carry;			/* input not yet processed */
	size_t carry_len;
	unsigned discarding : 1;	/* skipping an over-long command line to its LF */
	unsigned held_input : 1;	/* carry holds whole lines waiting (not just a partial one) */
	unsigned busy : 1;		/* a slow step runs; input waits */
	unsigned closing : 1;		/* flush output, then close */
	unsigned dead : 1;		/* close now */
	unsigned implicit_tls : 1;
	unsigned read_wants_write : 1;	/* TLS read needs the socket writable */
	unsigned bdat_active : 1;	/* inside a BDAT chunk's bytes */
	unsigned committing : 1;	/* a spool commit carries our callback */
	unsigned auth_pending : 1;	/* an auth_pool job carries our callback */
	unsigned msg_open : 1;		/* msg_id names the message replies are about now */
	short hs_want;			/* TLS handshake: EV_READ or EV_WRITE */
	struct data_scan scan;
	spool_file *sf;
	uint64_t bdat_left;
	uint64_t arrival_ms;
	char msg_id[UUID_STR_SIZE];
	struct cmd_result *held;	/* reply waiting for the milters' verdict */
	mc_session *mcs;		/* NULL: no milters configured, or not made yet (mc_late) */
	unsigned mc_late : 1;		/* milter state made at the first event a milter takes */
	int mc_stage;			/* enum session_mc_stage: the event awaiting a verdict */
	uint64_t mc_sent_us;		/* when it went to the milters (round-trip metric) */
	unsigned mc_tx : 1;		/* the milters saw MAIL of the open transaction */
	unsigned mc_paused : 1;		/* mc_body() asked us to stop reading */
	unsigned mc_eom_wait : 1;	/* end of data reached while paused */
	char *mc_reply;			/* BDAT: a milter's refusal, sent once the chunk is skipped */
	int mc_reply_close;
	struct sockaddr_storage peer;
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	uint64_t started_ms;
	unsigned nmsgs;
	struct session *prev, *next;
};

/*
 * session.c: session_send is the one reply writer (the table's lines or a
 * milter's text; logs refusals, honours close/flush); session_say and
 * session_say_text build the result for one table row or one milter reply
 * and flush it; session_resume goes on after a slow step.
 */
void session_send(struct session *s, const struct cmd_result *r);
void session_say(struct session *s, int id, const char *arg, int close);
void session_say_text(struct session *s, const char *text, int close);
void session_resume(struct session *s);
/* session.c: register the interest the session has now (frees it when over); the client's time ran out. */
void session_update(struct session *s);
void session_timeout(struct session *s);

/* session_deadline.c: the client's deadline and stress mode. */
void session_deadline_reset(struct session *s);
void session_deadline_credit(struct session *s, size_t n);
void session_deadline_update(struct session *s);
void session_deadline_cut(struct session *s);
int session_stress_check(struct smtpd *d, unsigned nsessions);
int session_stressed(void);

/* session_msg.c: the transaction's spool file and its bytes. */
struct spool_envelope;
void session_envelope(struct session *s, struct spool_envelope *env);
void session_commit(struct session *s);
void session_tx_hook(void *ctx);
void session_data_begin(struct session *s, const struct cmd_result *r);
size_t session_data(struct session *s, const char *buf, size_t len);
void session_bdat_begin(struct session *s);
size_t session_bdat(struct session *s, const char *buf, size_t len);

/* session_milter.c: the milter client on the session's events. */
enum session_mc_stage { MCS_NONE, MCS_CONNECT, MCS_HELO, MCS_MAIL, MCS_RCPT, MCS_DATA,
	MCS_BDAT, MCS_EOM };
void session_milter_start(struct session *s);
int session_milter_result(struct session *s, struct cmd_result *r);
void session_milter_body(struct session *s, const char *p, size_t n);
void session_milter_eom(struct session *s);
void session_milter_tx_end(struct session *s);
void session_milter_free(struct session *s);

/* session_msg.c: the milters' edits into a new spool file (spool_edit.c). 0 ok, -1 failed (logged). */
int session_apply_mods(struct session *s, const struct mc_mods *m, uint64_t *size);

#endif
