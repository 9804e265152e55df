/*
 * milter_client.h - the MTA side of the milter protocol (v6) for
 * postern-smtpd: a non-blocking client on the session's libevent loop that
 * drives every milter of smtpd_milters, in order, like Postfix does.
 *
 * How a session wires it in (one call per SMTP event, one callback back):
 *
 *   startup/SIGHUP  l = mc_list_parse(cfg->smtpd_milters, &opt, err, len);
 *                   sessions take a reference (mc_session_new); drop the
 *                   server's with mc_list_free() when the list is replaced.
 *   accept()        s = mc_session_new(l, base, on_verdict, on_ready, sess);
 *                   mc_connect(s, &client)      before the 220 banner
 *   EHLO/HELO       mc_helo(s, name, tls or NULL)   again after STARTTLS
 *   MAIL FROM       mc_mail(s, argv, auth_type, auth_authen, queue_id)
 *   RCPT TO         mc_rcpt(s, argv)            each recipient the session accepts
 *   DATA/1st BDAT   mc_data(s, queue_id)        before the 354 (or the BDAT read)
 *   message bytes   mc_body(s, p, n)            unstuffed bytes as they arrive;
 *                   returns 1: stop reading the client until on_ready()
 *   end of data     mc_eom(s)                   before the spool commit
 *   RSET, EHLO, a rejected DATA, errors: mc_abort(s)   (no callback)
 *   unknown command mc_unknown(s, line)         optional
 *   session end     mc_session_free(s)          any time, even mid-event
 *
 * Each call but mc_body/mc_abort/mc_session_free makes exactly one
 * on_verdict() later, from the event loop (never from inside the call);
 * issue the next call only after it. What the session does with it:
 *
 *   MC_CONTINUE  carry on with its own reply (250, 354, ...). At end of
 *                data: v->mods (owned by the callee: mc_mods_free()) holds
 *                the edits the spool applies before the fsync and the 250.
 *   MC_REJECT,   send v->reply (CRLF-separated lines, no final CRLF) in
 *   MC_TEMPFAIL  place of its own; for RCPT only that recipient is refused,
 *                for MAIL the transaction does not start, at end of data
 *                nothing is queued. v->close: close the connection after it
 *                (a 421 reply). A refusal of the connection itself is
 *                answered as RFC 5321 3.1 allows: 554 and only QUIT
 *                served, or 421 and closed (session_milter.c).
 *   MC_DISCARD   (end of data only) answer the 250 but queue nothing.
 *   MC_CLOSE     send v->reply (421 4.3.2 Service not available) and close.
 *
 * Failures (milter unreachable, EOF, garbage, silent past milter_timeout)
 * apply the milter's default_action: accept skips it for the rest of the
 * session; tempfail and reject are answered at DATA (the stage the reply
 * table gives): 421 4.3.2 and close, or 550 5.7.1 for that message.
 * Refusals from a header or body step, and a DISCARD before the end, are
 * answered at end of data; the client keeps streaming meanwhile.
 *
 * Connection reuse, for the milters it is turned on for (milter_reuse, or
 * "reuse=yes" per milter): at mc_session_free() a healthy v6 connection is
 * ended with SMFIC_QUIT_NC and kept (per milter, mc_options.pool_max) for
 * the next session, which starts at SMFIC_CONNECT without a new
 * negotiation (libmilter expects exactly that after QUIT_NC). It is off
 * by default because libmilter documents xxfi_negotiate as called at the
 * start of each SMTP connection and xxfi_close as where per-connection
 * state is freed: a milter that keeps what it negotiated in that state
 * forgets it on a reused connection while the MTA does not. OpenDKIM does
 * (SMFIP_HDR_LEADSPC), and its simple-canonicalization signatures then
 * fail. postern-milter keeps nothing of the negotiation per connection.
 */
#ifndef POSTERN_MILTER_CLIENT_H
#define POSTERN_MILTER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
typedef struct mc_list mc_list;
typedef struct mc_session mc_session;

#define MC_POOL_MAX_DEFAULT	32		/* idle reusable connections per milter */
#define MC_MAX_BODY_DEFAULT	(64u << 20)	/* largest replaced body accepted */

struct mc_options {
	unsigned timeout_s;		/* milter_timeout: connect, and each reply */
	const char *default_action;	/* milter_default_action: tempfail|accept|reject */
	const char *tmpdir;		/* replaced bodies go here (O_TMPFILE); NULL: /tmp */
	uint64_t max_body;		/* 0: MC_MAX_BODY_DEFAULT */
	unsigned pool_max;		/* 0: no reuse at all */
	int reuse;			/* milter_reuse: each milter's reuse= unless it says */
	int check_owner;		/* smtpd_milter_check_owner: refuse a milter socket */
					/* owned by anyone but root, us or owner_uid */
	long owner_uid;			/* milter_user's uid, or -1 */
};

/*
 * Parse smtpd_milters: comma-separated "inet:HOST:PORT", "inet6:[ADDR]:PORT",
 * "unix:/path" (or "local:"), each optionally in Postfix's braces with
 * per-milter settings: "{ inet:host:port, default_action=accept,
 * timeout=10s, reuse=yes }". Host names are resolved now. "" gives an
 * empty list. NULL with a reason in err on a bad entry.
 */
mc_list *mc_list_parse(const char *spec, const struct mc_options *opt, char *err, size_t errlen);
/* Drop the caller's reference; idle connections close with the last one. */
void mc_list_free(mc_list *l);
size_t mc_list_count(const mc_list *l);
/*
 * Did every milter of l negotiate, last time, to skip the connect step (and,
 * with through_helo, HELO too)? Then a session needs no milter state before
 * its first MAIL: it makes its mc_session then, with mc_catch_up().
 */
int mc_list_skips_connect(const mc_list *l, int through_helo);
/*
 * postern-smtpd -t: connect to milter i now (blocking, up to timeout_s) and,
 * with check_owner, apply the owner check; 0, or -1 with a reason in why.
 * Nothing is sent.
 */
int mc_list_probe(const mc_list *l, size_t i, unsigned timeout_s, char *why, size_t whylen);
const char *mc_list_name(const mc_list *l, size_t i);

enum mc_action { MC_CONTINUE, MC_REJECT, MC_TEMPFAIL, MC_DISCARD, MC_CLOSE };

enum mc_mod_kind {
	MC_MOD_ADD_HEADER,	/* append "name:value" after the last header field */
	MC_MOD_INS_HEADER,	/* insert it before field number index (0: first; past the end: append) */
	MC_MOD_CHG_HEADER,	/* replace the index-th (1-based) field called name (case-insensitive) */
	MC_MOD_DEL_HEADER,	/* delete the index-th (1-based) field called name */
	MC_MOD_CHG_FROM,	/* new envelope sender name, ESMTP arguments value (may be "") */
	MC_MOD_ADD_RCPT,	/* add recipient name, ESMTP arguments value (may be "") */
	MC_MOD_DEL_RCPT,	/* remove recipient name (compare without <> and case) */
	MC_MOD_QUARANTINE	/* hold the message; the reason is value (record it in the envelope) */
};

/*
 * One edit, in the order the milters asked. Header indexes count fields of
 * the message as received. A header value is the exact text that follows
 * "name:" (its leading space included), continuation lines joined by CRLF
 * and each starting with a space or tab, no final CRLF. Addresses are as
 * the milter gave them (angle brackets or not).
 */
struct mc_mod {
	enum mc_mod_kind kind;
	uint32_t index;
	char *name;
	char *value;
};

struct mc_mods {
	struct mc_mod *v;
	size_t n;
	int body_fd;		/* -1: body unchanged; else an unlinked temp file with the new body */
				/* (CRLF lines), read it from offset 0; mc_mods_free() closes it */
	uint64_t body_size;
};

void mc_mods_free(struct mc_mods *m);

struct mc_verdict {
	enum mc_action action;
	const char *reply;	/* NULL for MC_CONTINUE and MC_DISCARD */
	int close;		/* close the connection after the reply */
	struct mc_mods *mods;	/* end of data, MC_CONTINUE: edits or NULL; the callee owns it */
	const char *milter;	/* the milter that decided (logs), or NULL */
};

/* v and its strings are valid during the call only (mods excepted). */
typedef void (*mc_verdict_fn)(void *arg, const struct mc_verdict *v);
/* mc_body() returned 1 earlier; the client may be read again. */
typedef void (*mc_ready_fn)(void *arg);

/* What the session knows at connect time (copied). */
struct mc_client {
	const char *hostname;		/* j: smtpd_hostname */
	const char *daemon_name;	/* {daemon_name}, e.g. "postern-smtpd" */
	const char *daemon_addr;	/* {daemon_addr}: listener address, or NULL */
	const char *version;		/* v, or NULL */
	int family;			/* AF_INET, AF_INET6 or AF_UNSPEC */
	const char *addr;		/* {client_addr}: numeric */
	unsigned port;			/* {client_port} */
	const char *name;		/* {client_name}: verified name, or NULL ("unknown") */
};

/* TLS parameters for the HELO-stage macros (after STARTTLS or on an implicit-TLS listener). */
struct mc_tls {
	const char *version;		/* {tls_version}, e.g. "TLSv1.3" */
	const char *cipher;		/* {cipher} */
	unsigned bits;			/* {cipher_bits} */
	const char *cert_subject;	/* {cert_subject}, or NULL */
	const char *cert_issuer;	/* {cert_issuer}, or NULL */
};

/* A session of l (takes a reference). An empty list answers MC_CONTINUE to everything. */
mc_session *mc_session_new(mc_list *l, struct event_base *base, mc_verdict_fn on_verdict,
    mc_ready_fn on_ready, void *arg);
/* Stop everything; no callback runs afterwards. Reusable connections go to the pool. */
void mc_session_free(mc_session *s);

void mc_connect(mc_session *s, const struct mc_client *c);
void mc_helo(mc_session *s, const char *helo, const struct mc_tls *tls);
/*
 * Instead of mc_connect() and mc_helo() when the session starts late (at its
 * first MAIL: mc_list_skips_connect()): the client's and, when helo is not
 * NULL, HELO's macros are set, no event is sent and no verdict comes; each
 * milter is connected at the first event it takes and hears what it
 * missed then.
 */
void mc_catch_up(mc_session *s, const struct mc_client *c, const char *helo,
    const struct mc_tls *tls);
/* argv: "<address>" as given, then the ESMTP parameters, NULL-terminated. NULLs: unknown. */
void mc_mail(mc_session *s, const char *const *argv, const char *auth_type,
    const char *auth_authen, const char *queue_id);
void mc_rcpt(mc_session *s, const char *const *argv);
void mc_data(mc_session *s, const char *queue_id);
/* Message bytes (dot-unstuffed, CRLF lines). Always all taken; 1: pause until on_ready. */
int mc_body(mc_session *s, const char *p, size_t n);
void mc_eom(mc_session *s);
void mc_abort(mc_session *s);
void mc_unknown(mc_session *s, const char *line);

/*
 * Why a milter was given up on for a session (its default action then
 * applies), so that an operator tells a milter down from a slow one from a
 * broken one. The names are the metrics' kind label (postern-smtpd(8)).
 */
enum mc_fail_kind {
	MC_FAIL_CONNECT,	/* "connect": no connection (refused, no socket, connect timed out) */
	MC_FAIL_TIMEOUT,	/* "timeout": connected, but silent (or not reading) past its timeout */
	MC_FAIL_CLOSED,		/* "closed": it closed or reset the connection */
	MC_FAIL_PROTOCOL,	/* "protocol": garbage, a reply out of turn, negotiation refused, */
				/* a bad modification request or custom reply */
	MC_FAIL_OWNER,		/* "owner": smtpd_milter_check_owner refused whoever serves it */
	MC_FAIL_KINDS
};

const char *mc_fail_kind_name(enum mc_fail_kind kind);
/* Called once per failure, from the event loop: milter is its smtpd_milters entry. */
typedef void (*mc_failure_fn)(const char *milter, enum mc_fail_kind kind);
/* Where failures are reported (NULL: nowhere); set once at startup. */
void mc_set_failure_hook(mc_failure_fn fn);

/* Connections made and reused so far (all lists, this process): for the benchmark note. */
void mc_stats(uint64_t *connects, uint64_t *reuses);

#endif
