/*
 * commands.c - SMTP command table and the session-level handlers (EHLO,
 * HELO, RSET, NOOP, QUIT, VRFY, EXPN, HELP, STARTTLS). Cross-cutting rules
 * (TLS first, AUTH first, EHLO first, pipelining group ends, the error
 * limit) live in the table flags and cmd_dispatch(); each handler only
 * knows its own command and returns a reply id with its argument. The
 * transaction's commands are in commands_mail.c, AUTH in commands_auth.c.
 */
#include "commands.h"
#include "commands_int.h"
#include "accounts.h"
#include "addr.h"
#include "auth.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Table flags (Postfix smtpd.c / OpenSMTPD smtp_session.c style). */
#define CMD_BEFORE_HELO		0x01	/* allowed before EHLO/HELO */
#define CMD_NEEDS_TLS		0x02	/* refused before TLS when smtpd_require_tls */
#define CMD_NEEDS_AUTH		0x04	/* refused before AUTH when smtpd_require_auth */
#define CMD_ENDS_GROUP		0x08	/* last of a PIPELINING group: flush replies */

typedef void (*cmd_fn)(struct cmd_session *s, char *args, struct cmd_result *r);

struct cmd_def {
	const char *name;
	int flags;
	cmd_fn fn;
	const char *syntax;	/* HELP <name> */
};

static void cmd_ehlo(struct cmd_session *, char *, struct cmd_result *);
static void cmd_helo(struct cmd_session *, char *, struct cmd_result *);
static void cmd_rset(struct cmd_session *, char *, struct cmd_result *);
static void cmd_noop(struct cmd_session *, char *, struct cmd_result *);
static void cmd_quit(struct cmd_session *, char *, struct cmd_result *);
static void cmd_vrfy(struct cmd_session *, char *, struct cmd_result *);
static void cmd_expn(struct cmd_session *, char *, struct cmd_result *);
static void cmd_help(struct cmd_session *, char *, struct cmd_result *);
static void cmd_starttls(struct cmd_session *, char *, struct cmd_result *);

#define MAILCMD (CMD_NEEDS_TLS | CMD_NEEDS_AUTH)
static const struct cmd_def cmd_table[] = {
	{ "EHLO", CMD_BEFORE_HELO | CMD_ENDS_GROUP, cmd_ehlo, "EHLO <hostname>" },
	{ "HELO", CMD_BEFORE_HELO | CMD_ENDS_GROUP, cmd_helo, "HELO <hostname>" },
	{ "MAIL", MAILCMD, cmd_mail,
	    "MAIL FROM:<address> [SIZE=<n>] [BODY=7BIT|8BITMIME|BINARYMIME] [SMTPUTF8]" },
	{ "RCPT", MAILCMD, cmd_rcpt, "RCPT TO:<address>" },
	{ "DATA", MAILCMD | CMD_ENDS_GROUP, cmd_data, "DATA" },
	{ "BDAT", MAILCMD, cmd_bdat, "BDAT <size> [LAST]" },
	{ "RSET", CMD_BEFORE_HELO, cmd_rset, "RSET" },
	{ "NOOP", CMD_BEFORE_HELO | CMD_ENDS_GROUP, cmd_noop, "NOOP" },
	{ "QUIT", CMD_BEFORE_HELO | CMD_ENDS_GROUP, cmd_quit, "QUIT" },
	{ "VRFY", CMD_BEFORE_HELO, cmd_vrfy, "VRFY (disabled)" },
	{ "EXPN", CMD_BEFORE_HELO, cmd_expn, "EXPN (disabled)" },
	{ "HELP", CMD_BEFORE_HELO | CMD_ENDS_GROUP, cmd_help, "HELP [<command>]" },
	{ "STARTTLS", CMD_ENDS_GROUP, cmd_starttls, "STARTTLS" },
	{ "AUTH", CMD_NEEDS_TLS | CMD_ENDS_GROUP, cmd_auth,
	    "AUTH PLAIN [<initial-response>] | AUTH LOGIN [<user>]" },
};
#define CMD_COUNT (sizeof(cmd_table) / sizeof(cmd_table[0]))

/* Cross-protocol attacks: an HTTP request line ends the session at once. */
static const char *const cmd_http_verbs[] = {
	"GET", "POST", "CONNECT", "HEAD", "PUT", "OPTIONS", "DELETE", NULL
};

static const char *const cmd_state_names[SS_COUNT] = {
	[SS_INIT] = "INIT", [SS_GREETED] = "GREETED",
	[SS_MAIL] = "MAIL", [SS_RCPT] = "RCPT", [SS_DATA] = "DATA", [SS_BDAT] = "BDAT",
	[SS_CHUNKING] = "CHUNKING", [SS_COMMIT] = "COMMIT",
	[SS_TLS_HANDSHAKE] = "TLS_HANDSHAKE", [SS_AUTH_PLAIN_WAIT] = "AUTH_PLAIN_WAIT",
	[SS_AUTH_LOGIN_USER] = "AUTH_LOGIN_USER", [SS_AUTH_LOGIN_PASS] = "AUTH_LOGIN_PASS",
	[SS_AUTH_CHECKING] = "AUTH_CHECKING", [SS_QUIT] = "QUIT",
};

const char *
cmd_state_name(enum smtp_state st)
{
	return (unsigned)st < SS_COUNT ? cmd_state_names[st] : "?";
}

void
cmd_enter(struct cmd_session *s, enum smtp_state st)
{
	if (s->state != st)
		log_debug("sess=%s state %s -> %s", s->log_id, cmd_state_name(s->state),
		    cmd_state_name(st));
	s->state = st;
}

enum smtp_state
cmd_idle_state(const struct cmd_session *s)
{
	return s->helo ? SS_GREETED : SS_INIT;
}

void
cmd_session_init(struct cmd_session *s, const struct cmd_conf *conf, const char *log_id)
{
	memset(s, 0, sizeof(*s));
	s->conf = conf;
	s->state = SS_INIT;
	s->bdat_discard = CMD_NO_REPLY;
	xstrlcpy(s->log_id, log_id, sizeof(s->log_id));
}

void
cmd_wipe_creds(struct cmd_session *s)
{
	if (s->creds) {
		explicit_bzero(s->creds, sizeof(*s->creds));
		free(s->creds);
		s->creds = NULL;
	}
	free(s->auth_user);
	s->auth_user = NULL;
}

/* Forget the envelope; state is left to the caller. */
void
cmd_tx_clear(struct cmd_session *s)
{
	unsigned i;

	free(s->sender);
	s->sender = NULL;
	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	s->declared_size = 0;
	s->body = BODY_NONE;
	s->smtputf8 = 0;
}

void
cmd_tx_reset(struct cmd_session *s)
{
	int had = SMTP_IN_TRANSACTION(s->state);

	cmd_tx_clear(s);
	if (had && s->tx_reset_hook)
		s->tx_reset_hook(s->hook_ctx);
	cmd_enter(s, cmd_idle_state(s));
}

void
cmd_session_free(struct cmd_session *s)
{
	cmd_tx_clear(s);
	cmd_wipe_creds(s);
	free(s->helo);
	free(s->account);
	s->helo = s->account = NULL;
}

void
cmd_result_init(struct cmd_result *r)
{
	r->id = CMD_NO_REPLY;
	r->arg[0] = '\0';
	r->action = ACT_NONE;
	r->then = CMD_NO_REPLY;
	r->close = 0;
	r->flush = 0;
	r->text = NULL;
}

/* Copy the client's words for a reply, one line, no control bytes. */
static void
cmd_copy_arg(char *dst, size_t dstsize, const char *src, size_t len)
{
	size_t i;

	if (len >= dstsize)
		len = dstsize - 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[len] = '\0';
}

void
cmd_result_set(struct cmd_result *r, int id, const char *arg)
{
	r->id = id;
	if (arg)
		cmd_copy_arg(r->arg, sizeof(r->arg), arg, strlen(arg));
	else
		r->arg[0] = '\0';
}

void
cmd_reply_n(struct cmd_result *r, int id, const char *arg, size_t len)
{
	r->id = id;
	cmd_copy_arg(r->arg, sizeof(r->arg), arg, len);
}

int
cmd_is_error(int id)
{
	const struct reply_row *row;

	if (id < 0 || id == R_VRFY_DISABLED || id == R_EXPN_DISABLED)
		return 0;
	row = reply_get(id);
	/* Syntax, sequence, unknown command and authentication errors. */
	return (row->code >= 500 && row->code <= 504) || row->code == 530 ||
	    row->code == 535 || row->code == 555;
}

char *
cmd_skip_space(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

void
cmd_rtrim(char *p)
{
	size_t n = strlen(p);

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
}

/* --- EHLO / HELO / RSET / NOOP / QUIT / VRFY / EXPN / HELP */

static void
cmd_greet(struct cmd_session *s, char *args, struct cmd_result *r, int esmtp)
{
	cmd_rtrim(args);
	if (*args == '\0') {
		cmd_result_set(r, esmtp ? R_EHLO_SYNTAX : R_HELO_SYNTAX, NULL);
		return;
	}
	cmd_tx_reset(s);
	free(s->helo);
	s->helo = xstrndup(args, CMD_HELO_MAX);
	cmd_copy_arg(s->helo, CMD_HELO_MAX + 1, s->helo, strlen(s->helo));
	s->esmtp = esmtp;
	cmd_enter(s, SS_GREETED);
	cmd_result_set(r, R_EHLO_GREETING, s->conf->hostname);
	if (esmtp)
		r->action = ACT_EHLO;
}

static void
cmd_ehlo(struct cmd_session *s, char *args, struct cmd_result *r)
{
	cmd_greet(s, args, r, 1);
}

static void
cmd_helo(struct cmd_session *s, char *args, struct cmd_result *r)
{
	cmd_greet(s, args, r, 0);
}

static void
cmd_rset(struct cmd_session *s, char *args, struct cmd_result *r)
{
	(void)args;
	cmd_tx_reset(s);
	cmd_result_set(r, R_RSET_OK, NULL);
}

static void
cmd_noop(struct cmd_session *s, char *args, struct cmd_result *r)
{
	(void)s;
	(void)args;
	cmd_result_set(r, R_NOOP_OK, NULL);
}

static void
cmd_quit(struct cmd_session *s, char *args, struct cmd_result *r)
{
	(void)args;
	cmd_tx_reset(s);
	cmd_enter(s, SS_QUIT);
	cmd_result_set(r, R_BYE, NULL);
	r->close = 1;
}

static void
cmd_vrfy(struct cmd_session *s, char *args, struct cmd_result *r)
{
	(void)s;
	(void)args;
	cmd_result_set(r, R_VRFY_DISABLED, NULL);
}

static void
cmd_expn(struct cmd_session *s, char *args, struct cmd_result *r)
{
	(void)s;
	(void)args;
	cmd_result_set(r, R_EXPN_DISABLED, NULL);
}

static const struct cmd_def *
cmd_lookup(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < CMD_COUNT; i++)
		if (strlen(cmd_table[i].name) == len && strncasecmp(cmd_table[i].name, word, len) == 0)
			return &cmd_table[i];
	return NULL;
}

/* HELP: the command list; HELP <command>: its syntax; anything else: 504 with the words. */
static void
cmd_help(struct cmd_session *s, char *args, struct cmd_result *r)
{
	const struct cmd_def *d;

	(void)s;
	cmd_rtrim(args);
	if (*args == '\0') {
		cmd_result_set(r, R_HELP, NULL);
		return;
	}
	if ((d = cmd_lookup(args, strlen(args))) != NULL) {
		cmd_result_set(r, R_HELP_TOPIC, d->syntax);
		return;
	}
	cmd_result_set(r, R_HELP_UNKNOWN, args);
}

/* --- STARTTLS */

static void
cmd_starttls(struct cmd_session *s, char *args, struct cmd_result *r)
{
	cmd_rtrim(args);
	if (*args != '\0') {
		cmd_result_set(r, R_STARTTLS_SYNTAX, NULL);
		return;
	}
	if (s->tls) {
		cmd_result_set(r, R_TLS_ALREADY, NULL);
		return;
	}
	if (!s->starttls_ok) {
		/* Not offered without a certificate: as if we did not know it. */
		cmd_result_set(r, R_UNRECOGNIZED, NULL);
		return;
	}
	/* RFC 3207 4.2: the client starts over; so do we. */
	cmd_tx_reset(s);
	cmd_result_set(r, R_STARTTLS_READY, NULL);
	r->action = ACT_STARTTLS;
}

/* Count an error reply; at the limit, a 421 follows and the session closes. */
void
cmd_count_error(struct cmd_session *s, struct cmd_result *r)
{
	if (!cmd_is_error(r->id))
		return;
	s->errors++;
	if (s->conf->max_errors && s->errors >= s->conf->max_errors && !r->close) {
		r->then = R_TOO_MANY_ERRORS;
		r->close = 1;
		r->flush = 1;
		log_info("sess=%s too many errors (%u)", s->log_id, s->errors);
	}
}

void
cmd_tls_started(struct cmd_session *s)
{
	cmd_tx_clear(s);
	cmd_wipe_creds(s);
	free(s->helo);
	free(s->account);
	s->helo = s->account = NULL;
	s->esmtp = 0;
	s->authed = 0;
	s->tls = 1;
	s->starttls_ok = 0;
	cmd_enter(s, SS_INIT);
}

size_t
cmd_line_limit(const struct cmd_session *s, const char *start, size_t len)
{
	if (SMTP_IN_AUTH(s->state))
		return CMD_AUTH_LINE_MAX;
	if (len >= 5 && strncasecmp(start, "AUTH ", 5) == 0)
		return CMD_AUTH_LINE_MAX;
	return CMD_LINE_MAX;
}

void
cmd_line_too_long(struct cmd_session *s, struct cmd_result *r)
{
	cmd_result_init(r);
	if (SMTP_IN_AUTH(s->state))
		cmd_auth_fail(s, R_LINE_TOO_LONG, r);
	else
		cmd_result_set(r, R_LINE_TOO_LONG, NULL);
	r->flush = 1;
	cmd_count_error(s, r);
}

/*
 * A rule of the table refuses d with why. A BDAT's chunk follows it all
 * the same (RFC 3030): it is read and skipped, and why answered after it,
 * so the chunk's bytes are never taken as commands.
 */
static void
cmd_refuse(struct cmd_session *s, const struct cmd_def *d, char *args, int why,
    struct cmd_result *r)
{
	if (d != NULL && d->fn == cmd_bdat && !SMTP_IN_TRANSACTION(s->state)) {
		cmd_bdat(s, args, r);
		if (r->action == ACT_BDAT) {
			s->bdat_discard = why;
			return;
		}
		cmd_result_init(r);	/* no size to skip: the refusal it is */
	}
	cmd_result_set(r, why, NULL);
}

void
cmd_dispatch(struct cmd_session *s, char *line, size_t len, struct cmd_result *r)
{
	const struct cmd_def *d;
	char *args;
	size_t wlen;
	int i;

	cmd_result_init(r);
	if (memchr(line, '\0', len) != NULL) {
		if (SMTP_IN_AUTH(s->state))
			cmd_auth_fail(s, R_NUL_BYTE, r);
		else
			cmd_result_set(r, R_NUL_BYTE, NULL);
		r->flush = 1;
		cmd_count_error(s, r);
		return;
	}
	if (SMTP_IN_AUTH(s->state)) {
		cmd_auth_step(s, line, r);
		cmd_count_error(s, r);
		return;
	}
	wlen = strcspn(line, " \t");
	for (i = 0; cmd_http_verbs[i]; i++) {
		if (strlen(cmd_http_verbs[i]) == wlen && strncmp(line, cmd_http_verbs[i], wlen) == 0 &&
		    line[wlen] == ' ') {
			log_info("sess=%s HTTP request line, closing", s->log_id);
			cmd_tx_reset(s);
			cmd_enter(s, SS_QUIT);
			cmd_result_set(r, R_HTTP_COMMAND, NULL);
			r->close = 1;
			r->flush = 1;
			return;
		}
	}
	args = cmd_skip_space(line + wlen);
	d = cmd_lookup(line, wlen);
	if (s->refused && !(d && d->fn == cmd_quit)) {
		/* RFC 5321 3.1: after a 554 greeting, wait for QUIT, 503 to the rest. */
		cmd_refuse(s, d, args, R_BAD_SEQUENCE, r);
	} else if (d == NULL) {
		cmd_result_set(r, R_UNRECOGNIZED, NULL);
	} else if ((d->flags & CMD_NEEDS_TLS) && s->conf->require_tls && !s->tls) {
		cmd_refuse(s, d, args, R_NEED_STARTTLS, r);
	} else if ((d->flags & CMD_NEEDS_AUTH) && s->conf->require_auth && !s->authed) {
		cmd_refuse(s, d, args, R_NEED_AUTH, r);
	} else if (!(d->flags & CMD_BEFORE_HELO) && s->helo == NULL) {
		cmd_refuse(s, d, args, R_NEED_HELO, r);
	} else {
		d->fn(s, args, r);
	}
	if (d && (d->flags & CMD_ENDS_GROUP))
		r->flush = 1;
	cmd_count_error(s, r);
}

/* One reply line + CRLF; cont: "250-" instead of "250 ". */
static size_t
cmd_line(char *out, size_t outsize, int id, const char *arg, int cont)
{
	size_t n;

	if (outsize < 8)
		return 0;
	n = reply_format(id, arg, out, outsize - 2);
	if (cont && n > 3)
		out[3] = '-';
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

/* --- the EHLO keywords */

static int
ehlo_starttls(const struct cmd_session *s)
{
	return s->starttls_ok && !s->tls;
}

/* AUTH only where it may be used: after TLS when TLS is required, and not without accounts. */
static int
ehlo_auth(const struct cmd_session *s)
{
	return s->conf->auth_offered && !s->authed && (!s->conf->require_tls || s->tls);
}

static void
ehlo_size(const struct cmd_session *s, char *out, size_t outsize)
{
	snprintf(out, outsize, "SIZE %llu", (unsigned long long)s->conf->size_limit);
}

static void
ehlo_limits(const struct cmd_session *s, char *out, size_t outsize)
{
	snprintf(out, outsize, "LIMITS RCPTMAX=%u", s->conf->max_rcpts);
}

/*
 * What EHLO advertises, in this order. BINARYMIME is not advertised (the
 * issue fixes the list), yet BODY=BINARYMIME is taken with BDAT, as RFC
 * 3030 defines it.
 */
static const struct ehlo_keyword {
	const char *word;
	int (*offered)(const struct cmd_session *s);			/* NULL: always */
	void (*param)(const struct cmd_session *s, char *out, size_t outsize);	/* NULL: word alone */
} ehlo_keywords[] = {
	{ "PIPELINING", NULL, NULL },
	{ "SIZE", NULL, ehlo_size },
	{ "8BITMIME", NULL, NULL },
	{ "ENHANCEDSTATUSCODES", NULL, NULL },
	{ "SMTPUTF8", NULL, NULL },
	{ "CHUNKING", NULL, NULL },
	{ "STARTTLS", ehlo_starttls, NULL },
	{ "AUTH PLAIN LOGIN", ehlo_auth, NULL },
	{ "LIMITS", NULL, ehlo_limits },
};
#define EHLO_KEYWORDS (sizeof(ehlo_keywords) / sizeof(ehlo_keywords[0]))

static int
ehlo_offered(const struct cmd_session *s, const struct ehlo_keyword *e)
{
	return e->offered == NULL || e->offered(s);
}

size_t
cmd_render(const struct cmd_session *s, const struct cmd_result *r, char *out, size_t outsize)
{
	size_t n = 0;

	if (outsize > 0)
		out[0] = '\0';
	if (r->id == CMD_NO_REPLY && r->then == CMD_NO_REPLY)
		return 0;
	if (r->action == ACT_EHLO && r->id == R_EHLO_GREETING) {
		char kw[64];
		size_t i, last = 0;

		n += cmd_line(out + n, outsize - n, R_EHLO_GREETING, r->arg, 1);
		for (i = 0; i < EHLO_KEYWORDS; i++)
			if (ehlo_offered(s, &ehlo_keywords[i]))
				last = i;	/* its line is "250 ", the others "250-" */
		for (i = 0; i < EHLO_KEYWORDS; i++) {
			const struct ehlo_keyword *e = &ehlo_keywords[i];

			if (!ehlo_offered(s, e))
				continue;
			if (e->param != NULL)
				e->param(s, kw, sizeof(kw));
			else
				xstrlcpy(kw, e->word, sizeof(kw));
			n += cmd_line(out + n, outsize - n, R_EHLO_KEYWORD, kw, i != last);
		}
	} else if (r->id != CMD_NO_REPLY) {
		n += cmd_line(out + n, outsize - n, r->id, r->arg, 0);
	}
	if (r->then != CMD_NO_REPLY)
		n += cmd_line(out + n, outsize - n, r->then, NULL, 0);
	if (n < outsize)
		out[n] = '\0';
	return n;
}
