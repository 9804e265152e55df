/*
 * commands_auth.c - the AUTH command (RFC 4954, PLAIN and LOGIN): the
 * exchange of 334 challenges and client lines, and the verdict of the
 * crypt(3) pool turned into the reply. Decoding lives in auth.c.
 */
#include "commands.h"
#include "commands_int.h"
#include "accounts.h"
#include "auth.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void
cmd_auth_fail(struct cmd_session *s, int id, struct cmd_result *r)
{
	cmd_wipe_creds(s);
	cmd_enter(s, cmd_idle_state(s));
	cmd_result_set(r, id, NULL);
}

/* Credentials decoded: hand them to the worker pool. */
static void
cmd_auth_ready(struct cmd_session *s, struct cmd_result *r)
{
	free(s->auth_user);
	s->auth_user = xstrdup(s->creds->user);
	cmd_enter(s, SS_AUTH_CHECKING);
	r->action = ACT_AUTH_VERIFY;
}

static void
cmd_auth_plain(struct cmd_session *s, const char *b64, struct cmd_result *r)
{
	int rc;

	s->creds = xcalloc(1, sizeof(*s->creds));
	/* RFC 4954 4: "=" is an empty initial response. */
	if (strcmp(b64, "=") == 0)
		b64 = "";
	if ((rc = auth_plain_decode(b64, strlen(b64), s->creds)) != 0) {
		cmd_auth_fail(s, rc, r);
		return;
	}
	cmd_auth_ready(s, r);
}

static void
cmd_auth_login_user(struct cmd_session *s, const char *b64, struct cmd_result *r)
{
	char user[AUTH_NAME_MAX];
	int rc;

	if ((rc = auth_login_decode(b64, strlen(b64), user, sizeof(user))) != 0) {
		cmd_auth_fail(s, rc, r);
		return;
	}
	free(s->auth_user);
	s->auth_user = xstrdup(user);
	cmd_enter(s, SS_AUTH_LOGIN_PASS);
	cmd_result_set(r, R_AUTH_CHALLENGE, auth_login_challenge(1));
}

static void
cmd_auth_login_pass(struct cmd_session *s, const char *b64, struct cmd_result *r)
{
	int rc;

	s->creds = xcalloc(1, sizeof(*s->creds));
	if ((rc = auth_login_decode(b64, strlen(b64), s->creds->pass, sizeof(s->creds->pass))) != 0) {
		cmd_auth_fail(s, rc, r);
		return;
	}
	xstrlcpy(s->creds->user, s->auth_user ? s->auth_user : "", sizeof(s->creds->user));
	cmd_auth_ready(s, r);
}

void
cmd_auth(struct cmd_session *s, char *args, struct cmd_result *r)
{
	char *mech = cmd_skip_space(args), *resp, *extra;
	enum auth_mech m;

	if (s->authed) {
		cmd_result_set(r, R_ALREADY_AUTH, NULL);
		return;
	}
	if (SMTP_IN_TRANSACTION(s->state)) {
		/* RFC 4954 4: not during a mail transaction. */
		cmd_result_set(r, R_BAD_SEQUENCE, NULL);
		return;
	}
	cmd_rtrim(mech);
	resp = mech;
	while (*resp && *resp != ' ')
		resp++;
	if (*resp)
		*resp++ = '\0';
	resp = cmd_skip_space(resp);
	extra = resp;
	while (*extra && *extra != ' ')
		extra++;
	if (*mech == '\0' || *extra != '\0') {
		cmd_result_set(r, R_AUTH_SYNTAX, NULL);
		return;
	}
	m = auth_mech_parse(mech);
	if (m == AUTH_MECH_NONE) {
		cmd_result_set(r, R_AUTH_UNSUPPORTED, mech);
		return;
	}
	s->auth_type = m == AUTH_MECH_PLAIN ? "PLAIN" : "LOGIN";
	if (*resp && strcmp(resp, "*") == 0) {
		cmd_result_set(r, R_AUTH_CANCELED, NULL);
		return;
	}
	if (m == AUTH_MECH_PLAIN) {
		if (*resp) {
			cmd_auth_plain(s, resp, r);
		} else {
			cmd_enter(s, SS_AUTH_PLAIN_WAIT);
			cmd_result_set(r, R_AUTH_CHALLENGE, "");
		}
	} else {
		if (*resp) {
			cmd_auth_login_user(s, resp, r);
		} else {
			cmd_enter(s, SS_AUTH_LOGIN_USER);
			cmd_result_set(r, R_AUTH_CHALLENGE, auth_login_challenge(0));
		}
	}
}

/* A line of an AUTH exchange (after a 334). */
void
cmd_auth_step(struct cmd_session *s, char *line, struct cmd_result *r)
{
	cmd_rtrim(line);
	r->flush = 1;
	if (strcmp(line, "*") == 0) {
		cmd_auth_fail(s, R_AUTH_CANCELED, r);
		return;
	}
	switch (s->state) {
	case SS_AUTH_PLAIN_WAIT:
		cmd_auth_plain(s, line, r);
		break;
	case SS_AUTH_LOGIN_USER:
		cmd_auth_login_user(s, line, r);
		break;
	case SS_AUTH_LOGIN_PASS:
		cmd_auth_login_pass(s, line, r);
		break;
	default:
		cmd_auth_fail(s, R_AUTH_MISMATCH, r);
		break;
	}
}

void
cmd_auth_verdict(struct cmd_session *s, int verdict, struct cmd_result *r)
{
	cmd_result_init(r);
	r->flush = 1;
	switch (verdict) {
	case ACCOUNTS_OK:
		s->authed = 1;
		free(s->account);
		s->account = s->auth_user;
		s->auth_user = NULL;
		cmd_wipe_creds(s);
		cmd_enter(s, cmd_idle_state(s));
		cmd_result_set(r, R_AUTH_OK, NULL);
		return;
	case ACCOUNTS_BLOCKED:
		cmd_auth_fail(s, R_ACCOUNT_BLOCKED, r);
		return;
	case ACCOUNTS_BAD_CREDENTIALS:
		cmd_auth_fail(s, R_AUTH_INVALID, r);
		if (++s->auth_failures >= CMD_AUTH_FAILURES_MAX) {
			r->then = R_AUTH_TOO_MANY;
			r->close = 1;
		}
		cmd_count_error(s, r);
		return;
	default:
		cmd_auth_fail(s, R_AUTH_TEMPFAIL, r);
		return;
	}
}
