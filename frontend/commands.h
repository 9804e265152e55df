/*
 * commands.h - the SMTP protocol core of postern-smtpd: named session
 * states with one transition function, the command table, and handlers
 * that return a reply (id + argument + what the I/O layer must do next).
 * No sockets here: tests feed lines and compare the rendered replies.
 */
#ifndef POSTERN_COMMANDS_H
#define POSTERN_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"

#define CMD_LINE_MAX	512	/* RFC 5321 4.5.3.1.4, CRLF included */
#define CMD_AUTH_LINE_MAX (4096 + 32)	/* AUTH PLAIN <b64> and AUTH continuation lines */
#define CMD_ARG_MAX	600	/* reply argument: an address as given, a mechanism, ... */
#define CMD_HELO_MAX	255
#define CMD_AUTH_FAILURES_MAX	3	/* per session, then 421 and close */
#define CMD_NO_REPLY	(-1)

enum smtp_state {
	SS_INIT,		/* banner sent; EHLO/HELO not yet */
	SS_GREETED,		/* EHLO/HELO done, no transaction */
	SS_MAIL,		/* sender accepted, no recipient yet */
	SS_RCPT,		/* one or more recipients */
	SS_DATA,		/* reading a DATA body */
	SS_BDAT,		/* reading a BDAT chunk */
	SS_CHUNKING,		/* between the BDAT chunks of one transaction */
	SS_COMMIT,		/* message handed to the spool; the reply waits for the fsync */
	SS_TLS_HANDSHAKE,	/* after 220 to STARTTLS, or on an implicit-TLS listener */
	SS_AUTH_PLAIN_WAIT,	/* "334 " sent, waiting for the PLAIN response */
	SS_AUTH_LOGIN_USER,	/* LOGIN: waiting for the user name */
	SS_AUTH_LOGIN_PASS,	/* LOGIN: waiting for the password */
	SS_AUTH_CHECKING,	/* crypt(3) on the worker pool, then the failure delay */
	SS_QUIT,		/* closing: nothing more is read */
	SS_COUNT
};

/* A mail transaction is open (RSET, EHLO, STARTTLS and errors end it). */
#define SMTP_IN_TRANSACTION(st) ((st) >= SS_MAIL && (st) <= SS_COMMIT)
#define SMTP_IN_AUTH(st) ((st) >= SS_AUTH_PLAIN_WAIT && (st) <= SS_AUTH_LOGIN_PASS)

enum cmd_body { BODY_NONE, BODY_7BIT, BODY_8BITMIME, BODY_BINARYMIME };

/* Settings shared by all sessions, derived from the config (replaced on SIGHUP). */
struct cmd_conf {
	const char *hostname;
	uint64_t size_limit;		/* 0: no limit */
	unsigned max_rcpts;
	unsigned max_errors;		/* 0: no limit */
	int require_tls;
	int require_auth;
	int auth_offered;		/* some account can log in: EHLO lists AUTH */
};

/* What the I/O layer does with a result. */
enum cmd_action {
	ACT_NONE,
	ACT_EHLO,		/* render the EHLO lines around the reply */
	ACT_STARTTLS,		/* after the 220 is flushed: discard input, start TLS */
	ACT_AUTH_VERIFY,	/* s->creds are ready: check them off the loop */
	ACT_DATA,		/* after 354: stream the body */
	ACT_BDAT,		/* read s->bdat_len bytes, then cmd_bdat_done() */
	ACT_MILTER		/* MAIL accepted: the milters see it before the reply goes out */
};

struct cmd_result {
	int id;			/* enum reply_id, or CMD_NO_REPLY */
	char arg[CMD_ARG_MAX];
	enum cmd_action action;
	int then;		/* a second line (421 too many errors), or CMD_NO_REPLY */
	int close;		/* close the connection after the reply */
	int flush;		/* last command of a PIPELINING group: flush output now */
	/*
	 * A milter's own reply (CRLF-separated lines, no final CRLF), sent as
	 * it is in place of id; not owned. NULL: the table's reply id.
	 */
	const char *text;
};

struct auth_creds;

/* The protocol state of one session. Strings are heap copies owned here. */
struct cmd_session {
	enum smtp_state state;
	const struct cmd_conf *conf;
	char log_id[16];		/* for log lines */
	int tls;			/* TLS active */
	int starttls_ok;		/* a certificate is loaded and this is a plain connection */
	int authed;
	int esmtp;			/* greeted with EHLO */
	char *helo;
	char *account;			/* after AUTH */
	const char *auth_type;		/* "PLAIN" or "LOGIN" (static), for the milter's {auth_type} */
	unsigned errors;
	unsigned auth_failures;
	int refused;			/* a milter refused the connection (554): only QUIT is served */
	/* The transaction. */
	char *sender;			/* "<a@b>" as given, or "<>" */
	char **rcpts;			/* "<x@y>" as given */
	unsigned nrcpts;
	uint64_t declared_size;
	enum cmd_body body;
	int smtputf8;
	/* BDAT chunk in progress. */
	uint64_t bdat_len;
	int bdat_last;
	int bdat_discard;		/* reply id after the chunk is skipped, or CMD_NO_REPLY */
	/* AUTH in progress. */
	struct auth_creds *creds;	/* ACT_AUTH_VERIFY: taken (and wiped) by the caller */
	char *auth_user;		/* LOGIN user between steps; then the name being checked */
	/* Called when a transaction ends (RSET, EHLO, errors): drop spool state. */
	void (*tx_reset_hook)(void *ctx);
	void *hook_ctx;
};

void cmd_session_init(struct cmd_session *s, const struct cmd_conf *conf, const char *log_id);
void cmd_session_free(struct cmd_session *s);

/* The one transition function: every state change goes through here and is logged (debug). */
void cmd_enter(struct cmd_session *s, enum smtp_state st);
const char *cmd_state_name(enum smtp_state st);
/* INIT or GREETED: where a session rests outside transactions and AUTH exchanges. */
enum smtp_state cmd_idle_state(const struct cmd_session *s);

/* Handle one command line (CRLF stripped, NUL-terminated at len; may contain NULs). */
void cmd_dispatch(struct cmd_session *s, char *line, size_t len, struct cmd_result *r);
/* A command line longer than allowed was discarded. */
void cmd_line_too_long(struct cmd_session *s, struct cmd_result *r);
/* The longest line accepted in the current state (AUTH lines are longer). */
size_t cmd_line_limit(const struct cmd_session *s, const char *start, size_t len);

/* The TLS handshake completed: RFC 3207 4.2, forget what the client said before. */
void cmd_tls_started(struct cmd_session *s);
/* Count an error reply towards smtpd_max_errors (for replies made outside cmd_dispatch). */
void cmd_count_error(struct cmd_session *s, struct cmd_result *r);

/* AUTH verdict (enum accounts_verdict) for the credentials taken at ACT_AUTH_VERIFY. */
void cmd_auth_verdict(struct cmd_session *s, int verdict, struct cmd_result *r);
/* A milter refused the recipient just accepted: forget it (back to MAIL if it was the only one). */
void cmd_rcpt_drop_last(struct cmd_session *s);
/* End the transaction (RSET semantics) and go back to the idle state. */
void cmd_tx_reset(struct cmd_session *s);
/* Prepare the first line after the greeting is done (used for the banner). */
void cmd_result_init(struct cmd_result *r);
void cmd_result_set(struct cmd_result *r, int id, const char *arg);

/*
 * Render a result as reply lines with CRLF into out (EHLO: multi-line),
 * NUL-terminated. Returns the length; 0 for CMD_NO_REPLY.
 */
size_t cmd_render(const struct cmd_session *s, const struct cmd_result *r, char *out, size_t outsize);

/* Is this a reply that counts towards smtpd_max_errors? */
int cmd_is_error(int id);

#endif
