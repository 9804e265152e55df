/*
 * milter_client_int.h - private structures of the milter client, shared by
 * milter_client.c (sessions, events, verdicts), milter_client_conn.c
 * (sockets, negotiation, pool) and milter_client_msg.c (macros, message
 * stream, end-of-message edits). Nothing outside these files includes it.
 */
#ifndef POSTERN_MILTER_CLIENT_INT_H
#define POSTERN_MILTER_CLIENT_INT_H

#include "milter_client.h"
#include "milter_proto.h"
#include "mc_split.h"

#include <sys/socket.h>

struct bufferevent;
struct event;
struct evbuffer;

#define MC_NSTAGES		7	/* SMFIM_CONNECT .. SMFIM_EOH */
#define MC_IN_HIGH		(256 * 1024)	/* message bytes held before mc_body() says wait */
#define MC_OUT_HIGH		(256 * 1024)	/* bytes queued to one milter before the stream pauses */
#define MC_OUT_LOW		(64 * 1024)
#define MC_FIELD_MAX		(MP_MAX_DATA - 1024)	/* one header field as sent (longer: cut) */
#define MC_MACRO_MAX		1024	/* one macro value */
#define MC_MODS_MAX		4096	/* edits per message */
#define MC_MODS_BYTES_MAX	(1024 * 1024)
#define MC_POOL_IDLE_S		60	/* an idle pooled connection closes after this */
#define MC_LINGER_S		5	/* a closing connection gets this long to flush QUIT */

enum mc_def { MC_DEF_TEMPFAIL, MC_DEF_ACCEPT, MC_DEF_REJECT };

struct mc_conn;

/* One configured milter. */
struct mc_milter {
	char *name;
	struct sockaddr_storage ss;
	socklen_t sslen;
	enum mc_def def;
	unsigned timeout_s;
	int reuse;
	struct mc_conn *idle;		/* pool: reusable connections after QUIT_NC */
	unsigned nidle;
	/*
	 * The steps it negotiated last time (any session): a milter that
	 * skips connect (and HELO) is connected only at the first event it
	 * takes, so idle and pre-banner SMTP sessions hold no milter socket.
	 */
	uint32_t proto_seen;
	int proto_known;
};

struct mc_list {
	unsigned refs;
	struct mc_milter *v;
	size_t n;
	char *tmpdir;
	uint64_t max_body;
	unsigned pool_max;
	int check_owner;		/* smtpd_milter_check_owner */
	long owner_uid;			/* milter_user's uid, -1: none */
};

enum mc_conn_state { C_CONNECTING, C_NEGOTIATING, C_READY, C_IDLE, C_CLOSING };

/* One socket to one milter; owned by a session slot, the pool, or closing. */
struct mc_conn {
	mc_list *list;			/* NULL once closing */
	size_t mi;			/* its milter in list->v */
	struct event_base *base;
	struct bufferevent *bev;
	struct event *timer;
	struct event *flush_ev;		/* end of this loop turn: c->outq goes out */
	struct evbuffer *outq;		/* packets of this turn, not yet written */
	struct mp_reader rd;
	enum mc_conn_state st;
	uint32_t version, actions, proto;	/* negotiated */
	char *symlist[MC_NSTAGES];	/* SETSYMLIST per stage, NULL: our defaults */
	unsigned pending;		/* final replies owed by the milter */
	unsigned skip;			/* how many of them nobody waits for any more */
	unsigned unk;			/* 1: one of them answers our session-end UNKNOWN */
	unsigned unk_at;		/* final replies still due before that one */
	int qnc_ok;			/* libmilter is where QUIT_NC is accepted (end of message, unknown) */
	int qnc_owed;			/* in or from the pool: QUIT_NC to send before anything else */
	int reused;			/* taken from the pool for this session */
	mc_session *s;			/* owner, NULL in the pool */
	size_t slot;
	struct mc_conn *next;		/* pool link */
};

/* Per session and milter. */
struct mc_slot {
	struct mc_conn *c;
	int off;			/* out for the session (accepted at connect, or failed) */
	int msg_off;			/* out for this message (accepted, or another decided) */
	int in_msg;			/* MAIL sent: the milter has a transaction open */
	int eom_sent;
	int eoh_mac;			/* EOH-stage macros sent for this message */
	int skip_ev;			/* SMFIR_SKIP: further events of this type are not sent */
	int replay;			/* reused connection failed early: CONNECT and HELO go again */
	int deferred;			/* not connected yet: opened at the first event it takes */
};

/* Macros we know, by index; names as sent. */
enum mc_mac {
	M_J, M_UNDERSCORE, M_DAEMON_NAME, M_DAEMON_ADDR, M_V, M_CLIENT_ADDR, M_CLIENT_PORT,
	M_CLIENT_NAME, M_TLS_VERSION, M_CIPHER, M_CIPHER_BITS, M_CERT_SUBJECT, M_CERT_ISSUER,
	M_AUTH_TYPE, M_AUTH_AUTHEN, M_I, M_MAIL_ADDR, M_RCPT_ADDR, M_COUNT
};

struct mc_session {
	mc_list *l;
	struct event_base *base;
	mc_verdict_fn on_verdict;
	mc_ready_fn on_ready;
	void *arg;
	struct mc_slot *slots;
	size_t n;
	char *mac[M_COUNT];
	char *helo;
	int family;			/* connect information, kept for a replay */
	char *conn_host;
	/* The event in flight. */
	int ev;				/* SMFIC_* or 0 */
	int unit;			/* the event is a message-stream unit (HEADER, EOH, BODY) */
	size_t cur;			/* next slot to send it to */
	int waiting;			/* cur awaits its reply */
	struct mp_buf pkt[2];		/* the event packet; [1]: HEADER with its leading space */
	enum mc_action act;
	/*
	 * Reply texts (MP_REPLY_MAX + 1 bytes each) are made on first use by
	 * mc_reply_buf(): most sessions never get a refusal, and three such
	 * arrays in place made every idle session cost 14 KiB.
	 */
	char *reply;
	int close;
	const char *decider;
	/* Session-wide outcomes. */
	int fail_temp, fail_reject;	/* a milter failed with that default action */
	int closed;			/* MC_CLOSE given: everything answers it again */
	/*
	 * A refusal at HELO holds for the session, as in Postfix and Sendmail:
	 * every later command a milter would see (HELO again, MAIL, RCPT,
	 * DATA) gets it again, without asking the milters.
	 */
	enum mc_action helo_act;	/* MC_CONTINUE: none */
	char *helo_reply;
	const char *helo_decider;
	/* The message. */
	int discard;			/* some milter said DISCARD */
	enum mc_action msg_act;		/* refusal from a stream step, answered at end */
	char *msg_reply;
	const char *msg_decider;
	int in_data;
	struct evbuffer *in;		/* message bytes not parsed yet */
	struct mc_split split;		/* the stream cut into header fields and body chunks */
	int eom;			/* mc_eom() called */
	int want_ready;
	int out_blocked;
	struct mc_mods *mods;
	size_t mods_bytes;
	int body_cr;			/* replaced body: previous byte was CR */
	size_t body_slot;		/* 1 + the slot whose body replacement is being written */
	size_t mods_mark;		/* edits before the current milter's end-of-message */
	struct event *fire;		/* delivers the verdict from the loop */
	struct event *ready_ev;
};

/* milter_client_list.c */
void mc_list_unref(mc_list *l);

/* milter_client_owner.c: 0 when the peer on fd (a new connection to milter mi) may serve it. */
int mc_owner_check(const mc_list *l, size_t mi, int fd, char *why, size_t whylen);

/* milter_client_conn.c */
struct mc_conn *mc_conn_get(mc_session *s, size_t slot);
void mc_conn_send(struct mc_conn *c, const void *p, size_t n, int expect_reply);
void mc_conn_cancel(struct mc_conn *c);
void mc_conn_release(struct mc_conn *c, int in_msg);
void mc_conn_close(struct mc_conn *c);
int mc_conn_blocked(struct mc_conn *c);
void mc_pool_flush(struct mc_milter *m);
extern uint64_t mc_nconnects, mc_nreuses;

/* milter_client.c: a reply buffer of the session (s->reply, ...), allocated on first use. */
char *mc_reply_buf(char **slot);
/* milter_client.c: what a connection reports to its session. */
void mc_on_ready(mc_session *s, size_t slot);
void mc_on_packet(mc_session *s, size_t slot, const struct mp_msg *m);
void mc_on_fail(mc_session *s, size_t slot, enum mc_fail_kind kind, const char *why);
void mc_on_writable(mc_session *s);
int mc_step(mc_session *s);
/* Start the event whose packet is in s->pkt[0]; its verdict comes through mc_event_done(). */
void mc_event_start(mc_session *s, int ev);
/* The event has been through every milter: deliver its verdict, or go on with the stream. */
void mc_event_done(mc_session *s);
/* Forget the event in flight (its replies are skipped when they come). */
void mc_cancel_event(mc_session *s);
/* The message is over (EOM answered, refused, or aborted): per-message state goes. */
void mc_message_end(mc_session *s);
int mc_any_takes(const mc_session *s, int ev);
int mc_unit_start(mc_session *s, int ev);
void mc_eom_start(mc_session *s);

/* milter_client_msg.c */
void mc_send_macros(mc_session *s, size_t slot, int stage);
void mc_macro_set(mc_session *s, enum mc_mac m, const char *v);
void mc_pump(mc_session *s);
void mc_stream_reset(mc_session *s);
int mc_eom_packet(mc_session *s, size_t slot, const struct mp_msg *m);
void mc_mods_drop(mc_session *s, size_t slot);
int mc_hdr_leadspc(const struct mc_conn *c);

#endif
