/* test_smtpd_commands.c - frontend/commands.c: command lines in, rendered replies and states out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accounts.h"
#include "auth.h"
#include "commands.h"

/* One step of a dialogue: the client's line, the exact reply text, the state after. */
struct step {
	const char *line;
	const char *want;	/* rendered reply, CRLF included; NULL: no reply expected; ANY */
	int state;		/* -1: do not check */
};

static const char ANY[] = "(any reply)";

static struct cmd_conf conf_open = {
	.hostname = "mx.test", .size_limit = 1000, .max_rcpts = 3, .max_errors = 20,
	.require_tls = 0, .require_auth = 0, .auth_offered = 1,
};

static int tx_resets;

static void
count_reset(void *ctx)
{
	(void)ctx;
	tx_resets++;
}

static void
new_session(struct cmd_session *s, const struct cmd_conf *conf)
{
	cmd_session_init(s, conf, "test");
	s->tx_reset_hook = count_reset;
	s->hook_ctx = NULL;
}

/* Feed one line (a copy: the parser writes into it) and render the result. */
static void
feed(struct cmd_session *s, const char *line, struct cmd_result *r, char *out, size_t outsize)
{
	char buf[8192];
	size_t len = strlen(line);

	assert_true(len < sizeof(buf));
	memcpy(buf, line, len + 1);
	cmd_dispatch(s, buf, len, r);
	cmd_render(s, r, out, outsize);
	if (r->id == CMD_NO_REPLY && r->then == CMD_NO_REPLY)
		out[0] = '\0';
}

static void
run(struct cmd_session *s, const struct step *steps, size_t n)
{
	struct cmd_result r;
	char out[4096];
	size_t i;

	for (i = 0; i < n; i++) {
		feed(s, steps[i].line, &r, out, sizeof(out));
		if (steps[i].want == ANY) {
			/* not checked */
		} else if (steps[i].want == NULL) {
			if (out[0] != '\0')
				fail_msg("step %zu \"%s\": unexpected reply %s", i, steps[i].line, out);
		} else if (strcmp(out, steps[i].want) != 0) {
			fail_msg("step %zu \"%s\":\n got: %s\nwant: %s", i, steps[i].line, out,
			    steps[i].want);
		}
		if (steps[i].state >= 0 && (int)s->state != steps[i].state)
			fail_msg("step %zu \"%s\": state %s, want %s", i, steps[i].line,
			    cmd_state_name(s->state), cmd_state_name(steps[i].state));
	}
}

#define RUN(s, steps) run(s, steps, sizeof(steps) / sizeof(steps[0]))

/* No account at all: AUTH cannot succeed, so EHLO does not offer it (issue 22.5). */
static void
test_ehlo_without_accounts(void **state)
{
	static const struct cmd_conf no_accounts = {
		.hostname = "mx.test", .size_limit = 1000, .max_rcpts = 3, .max_errors = 20,
		.auth_offered = 0,
	};
	static const struct step steps[] = {
		{ "EHLO client.example",
		  "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
		  "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n"
		  "250 LIMITS RCPTMAX=3\r\n", SS_GREETED },
	};
	struct cmd_session s;

	(void)state;
	new_session(&s, &no_accounts);
	RUN(&s, steps);
	cmd_session_free(&s);
}

static void
test_ehlo_and_basic_commands(void **state)
{
	static const struct step steps[] = {
		{ "MAIL FROM:<a@example.com>", "503 5.5.1 Send EHLO/HELO first\r\n", SS_INIT },
		{ "EHLO", "501 5.5.2 Syntax: EHLO <hostname>\r\n", SS_INIT },
		{ "HELO   ", "501 5.5.2 Syntax: HELO <hostname>\r\n", SS_INIT },
		{ "NOOP", "250 2.0.0 OK\r\n", SS_INIT },
		{ "ehlo client.example",
		  "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
		  "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n"
		  "250-AUTH PLAIN LOGIN\r\n250 LIMITS RCPTMAX=3\r\n", SS_GREETED },
		{ "HELO client.example", "250 mx.test\r\n", SS_GREETED },
		{ "RSET", "250 2.0.0 OK\r\n", SS_GREETED },
		{ "VRFY postmaster", "502 5.5.1 VRFY command has been disabled\r\n", SS_GREETED },
		{ "EXPN list", "502 5.5.1 EXPN command has been disabled\r\n", SS_GREETED },
		{ "XYZZY", "502 5.5.1 Unrecognized command\r\n", SS_GREETED },
		{ "", "502 5.5.1 Unrecognized command\r\n", SS_GREETED },
		{ "HELP", "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP "
		  "STARTTLS AUTH\r\n", SS_GREETED },
		{ "HELP rcpt", "214 2.0.0 RCPT TO:<address>\r\n", SS_GREETED },
		{ "HELP foo bar", "504 5.5.4 Unrecognized command parameter foo bar\r\n", SS_GREETED },
		{ "STARTTLS", "502 5.5.1 Unrecognized command\r\n", SS_GREETED },
		{ "QUIT", "221 2.0.0 Bye\r\n", SS_QUIT },
	};
	struct cmd_session s;

	(void)state;
	new_session(&s, &conf_open);
	RUN(&s, steps);
	assert_string_equal(s.helo, "client.example");
	cmd_session_free(&s);
}

static void
test_mail_rcpt_data(void **state)
{
	static const struct step steps[] = {
		{ "EHLO c", ANY, -1 },
		{ "RCPT TO:<b@example.com>", "503 5.5.1 Need MAIL command\r\n", SS_GREETED },
		{ "DATA", "503 5.5.1 Need MAIL command\r\n", SS_GREETED },
		{ "MAIL FROM:a@example.com", "501 5.5.4 Syntax: MAIL FROM: <address> <parameters>\r\n", SS_GREETED },
		{ "MAIL TO:<a@example.com>", "501 5.5.4 Syntax: MAIL FROM: <address> <parameters>\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com", "501 5.5.4 Syntax: MAIL FROM: <address> <parameters>\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com>x", "501 5.5.4 Syntax: MAIL FROM: <address> <parameters>\r\n", SS_GREETED },
		{ "MAIL FROM:<a@@example.com>", "501 5.1.7 Bad sender address <a@@example.com>\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com> SIZE=1001", "552 5.3.4 Message size exceeds fixed limit\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com> SIZE=12x", "501 5.5.4 Syntax: MAIL FROM: <address> <parameters>\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com> BODY=9BIT", "501 5.5.4 Syntax: MAIL FROM: <address> <parameters>\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com> RET=FULL", "555 5.5.4 Unsupported parameter RET\r\n", SS_GREETED },
		{ "MAIL FROM: <a@example.com> SIZE=1000 BODY=8BITMIME AUTH=<>",
		  "250 2.1.0 Sender <a@example.com> OK\r\n", SS_MAIL },
		{ "MAIL FROM:<c@example.com>", "503 5.5.1 Sender already specified\r\n", SS_MAIL },
		{ "DATA", "503 5.5.1 Need RCPT command\r\n", SS_MAIL },
		{ "RCPT TO:b@example.com", "501 5.5.2 Syntax: RCPT TO: <address> <parameters>\r\n", SS_MAIL },
		{ "RCPT TO:<>", "501 5.1.7 Bad recipient address <>\r\n", SS_MAIL },
		{ "RCPT TO:<b.@example.com>", "501 5.1.7 Bad recipient address <b.@example.com>\r\n", SS_MAIL },
		{ "RCPT TO:<b@example.com> NOTIFY=NEVER", "555 5.5.4 Unsupported parameter NOTIFY\r\n", SS_MAIL },
		{ "RCPT TO:<b1@example.com>", "250 2.1.5 Recipient <b1@example.com> OK\r\n", SS_RCPT },
		{ "rcpt to: <b2@example.com>", "250 2.1.5 Recipient <b2@example.com> OK\r\n", SS_RCPT },
		{ "RCPT TO:<b3@example.com>", "250 2.1.5 Recipient <b3@example.com> OK\r\n", SS_RCPT },
		{ "RCPT TO:<b4@example.com>", "452 4.5.3 Too many recipients\r\n", SS_RCPT },
		{ "DATA", "354 End data with <CR><LF>.<CR><LF>\r\n", SS_DATA },
	};
	struct cmd_session s;
	struct cmd_result r;
	char line[] = "RSET";

	(void)state;
	new_session(&s, &conf_open);
	RUN(&s, steps);
	assert_int_equal(s.nrcpts, 3);
	assert_string_equal(s.sender, "<a@example.com>");
	assert_string_equal(s.rcpts[2], "<b3@example.com>");
	assert_int_equal(s.declared_size, 1000);
	assert_int_equal(s.body, BODY_8BITMIME);
	/* The session layer ends DATA; a reset then drops the envelope and calls the hook. */
	tx_resets = 0;
	cmd_tx_reset(&s);
	assert_int_equal(tx_resets, 1);
	assert_int_equal(s.state, SS_GREETED);
	assert_null(s.sender);
	cmd_dispatch(&s, line, strlen(line), &r);
	assert_int_equal(r.id, R_RSET_OK);
	cmd_session_free(&s);
}

static void
test_null_sender_and_smtputf8(void **state)
{
	static const struct step steps[] = {
		{ "HELO c", ANY, -1 },
		/* The empty sender is the milter's to refuse (contract). */
		{ "MAIL FROM:<>", "250 2.1.0 Sender <> OK\r\n", SS_MAIL },
		{ "RSET", "250 2.0.0 OK\r\n", SS_GREETED },
		{ "MAIL FROM:<j\xc3\xb6@example.com>", "501 5.1.7 Bad sender address <j\xc3\xb6@example.com>\r\n", SS_GREETED },
		{ "MAIL FROM:<j\xc3\xb6@example.com> SMTPUTF8", "250 2.1.0 Sender <j\xc3\xb6@example.com> OK\r\n", SS_MAIL },
		{ "RCPT TO:<r\xc3\xa9@example.com>", "250 2.1.5 Recipient <r\xc3\xa9@example.com> OK\r\n", SS_RCPT },
		{ "RSET", "250 2.0.0 OK\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com> BODY=BINARYMIME", "250 2.1.0 Sender <a@example.com> OK\r\n", SS_MAIL },
		{ "RCPT TO:<b@example.com>", ANY, SS_RCPT },
		{ "DATA", "503 5.5.1 Bad sequence of commands\r\n", SS_RCPT },
	};
	struct cmd_session s;

	(void)state;
	new_session(&s, &conf_open);
	RUN(&s, steps);
	cmd_session_free(&s);
}

static void
test_bdat(void **state)
{
	struct cmd_session s;
	struct cmd_result r;
	char out[512];

	(void)state;
	new_session(&s, &conf_open);
	/* Before EHLO too: skipped, then 503; without a size there is nothing to skip. */
	feed(&s, "BDAT 7 LAST", &r, out, sizeof(out));
	assert_int_equal(r.action, ACT_BDAT);
	assert_int_equal(r.id, CMD_NO_REPLY);
	assert_int_equal(s.bdat_len, 7);
	assert_int_equal(s.bdat_discard, R_NEED_HELO);
	assert_int_equal(s.state, SS_INIT);
	feed(&s, "BDAT x", &r, out, sizeof(out));
	assert_int_equal(r.action, ACT_NONE);
	assert_string_equal(out, "503 5.5.1 Send EHLO/HELO first\r\n");
	feed(&s, "EHLO c", &r, out, sizeof(out));
	/* Refused chunks are still read: the reply comes after the bytes. */
	feed(&s, "BDAT 10", &r, out, sizeof(out));
	assert_int_equal(r.action, ACT_BDAT);
	assert_int_equal(r.id, CMD_NO_REPLY);
	assert_int_equal(s.bdat_len, 10);
	assert_int_equal(s.bdat_discard, R_NEED_MAIL);
	feed(&s, "BDAT ten", &r, out, sizeof(out));
	assert_string_equal(out, "501 5.5.4 Syntax: BDAT <size> [LAST]\r\n");
	feed(&s, "BDAT 5 FIRST", &r, out, sizeof(out));
	assert_string_equal(out, "501 5.5.4 Syntax: BDAT <size> [LAST]\r\n");
	feed(&s, "MAIL FROM:<a@example.com>", &r, out, sizeof(out));
	feed(&s, "BDAT 3", &r, out, sizeof(out));
	assert_int_equal(s.bdat_discard, R_NEED_RCPT);
	feed(&s, "RCPT TO:<b@example.com>", &r, out, sizeof(out));
	feed(&s, "BDAT 99999999999 last", &r, out, sizeof(out));
	assert_int_equal(r.action, ACT_BDAT);
	assert_int_equal(s.bdat_discard, CMD_NO_REPLY);
	assert_int_equal(s.bdat_len, 99999999999ULL);
	assert_int_equal(s.bdat_last, 1);
	assert_int_equal(s.state, SS_BDAT);
	/* Between chunks: DATA and RCPT are out of sequence, BDAT goes on. */
	cmd_enter(&s, SS_CHUNKING);
	feed(&s, "DATA", &r, out, sizeof(out));
	assert_string_equal(out, "503 5.5.1 Bad sequence of commands\r\n");
	feed(&s, "RCPT TO:<c@example.com>", &r, out, sizeof(out));
	assert_string_equal(out, "503 5.5.1 Bad sequence of commands\r\n");
	feed(&s, "BDAT 0 LAST", &r, out, sizeof(out));
	assert_int_equal(s.state, SS_BDAT);
	assert_int_equal(s.bdat_len, 0);
	cmd_session_free(&s);
}

static void
test_require_tls_and_auth(void **state)
{
	static const struct cmd_conf tls_conf = {
		.hostname = "mx.test", .size_limit = 0, .max_rcpts = 100, .max_errors = 0,
		.require_tls = 1, .require_auth = 1, .auth_offered = 1,
	};
	static const struct step before_tls[] = {
		{ "EHLO c",
		  "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 0\r\n250-8BITMIME\r\n"
		  "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n"
		  "250-STARTTLS\r\n250 LIMITS RCPTMAX=100\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com>", "530 5.7.0 Must issue a STARTTLS command first\r\n", SS_GREETED },
		{ "RCPT TO:<a@example.com>", "530 5.7.0 Must issue a STARTTLS command first\r\n", SS_GREETED },
		{ "DATA", "530 5.7.0 Must issue a STARTTLS command first\r\n", SS_GREETED },
		/* Its chunk is skipped first (RFC 3030); the 530 follows it: see below. */
		{ "BDAT 1 LAST", NULL, SS_GREETED },
		{ "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "530 5.7.0 Must issue a STARTTLS command first\r\n", SS_GREETED },
		{ "STARTTLS now", "501 5.5.2 Syntax: STARTTLS (no parameters allowed)\r\n", SS_GREETED },
		{ "STARTTLS", "220 2.0.0 Ready to start TLS\r\n", SS_GREETED },
	};
	static const struct step after_tls[] = {
		{ "MAIL FROM:<a@example.com>", "530 5.7.0 Authentication required\r\n", SS_INIT },
		{ "EHLO c",
		  "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 0\r\n250-8BITMIME\r\n"
		  "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n"
		  "250-AUTH PLAIN LOGIN\r\n250 LIMITS RCPTMAX=100\r\n", SS_GREETED },
		{ "STARTTLS", "503 5.5.1 TLS already active\r\n", SS_GREETED },
		{ "MAIL FROM:<a@example.com>", "530 5.7.0 Authentication required\r\n", SS_GREETED },
	};
	struct cmd_session s;
	struct cmd_result r;
	char out[512];

	(void)state;
	new_session(&s, &tls_conf);
	s.starttls_ok = 1;
	RUN(&s, before_tls);
	assert_int_equal(s.bdat_discard, R_NEED_STARTTLS);
	assert_int_equal(s.bdat_len, 1);
	feed(&s, "STARTTLS", &r, out, sizeof(out));
	assert_int_equal(r.action, ACT_STARTTLS);
	assert_true(r.flush);
	cmd_tls_started(&s);
	assert_null(s.helo);
	assert_int_equal(s.state, SS_INIT);
	RUN(&s, after_tls);
	cmd_session_free(&s);
}

static void
test_auth_plain(void **state)
{
	static const struct step steps[] = {
		{ "EHLO c", ANY, -1 },
		{ "AUTH", "501 5.5.2 Syntax: AUTH <type> <initial-response>\r\n", SS_GREETED },
		{ "AUTH PLAIN a b", "501 5.5.2 Syntax: AUTH <type> <initial-response>\r\n", SS_GREETED },
		{ "AUTH CRAM-MD5", "504 5.5.4 Unsupported authentication type CRAM-MD5\r\n", SS_GREETED },
		{ "AUTH PLAIN !!!!", "501 5.5.4 Not a valid Base64 string\r\n", SS_GREETED },
		{ "AUTH PLAIN *", "501 5.7.0 Authentication canceled by client\r\n", SS_GREETED },
		{ "AUTH PLAIN", "334 \r\n", SS_AUTH_PLAIN_WAIT },
		{ "*", "501 5.7.0 Authentication canceled by client\r\n", SS_GREETED },
		{ "AUTH PLAIN", "334 \r\n", SS_AUTH_PLAIN_WAIT },
		/* base64("alice") has no NUL at all. */
		{ "YWxpY2U=", "501 5.5.4 Does not contain NUL (\\0)\r\n", SS_GREETED },
		{ "AUTH PLAIN AGFsaWNlAHNlY3JldA==", NULL, SS_AUTH_CHECKING },
	};
	struct cmd_session s;
	struct cmd_result r;
	char out[512];

	(void)state;
	new_session(&s, &conf_open);
	RUN(&s, steps);
	assert_non_null(s.creds);
	assert_string_equal(s.creds->user, "alice");
	assert_string_equal(s.creds->pass, "secret");
	/* The session layer takes the credentials. */
	free(s.creds);
	s.creds = NULL;
	cmd_auth_verdict(&s, ACCOUNTS_OK, &r);
	cmd_render(&s, &r, out, sizeof(out));
	assert_string_equal(out, "235 2.7.0 Authentication successful\r\n");
	assert_true(s.authed);
	assert_string_equal(s.account, "alice");
	assert_int_equal(s.state, SS_GREETED);
	feed(&s, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", &r, out, sizeof(out));
	assert_string_equal(out, "503 5.5.1 Already authenticated\r\n");
	/* Once authenticated, EHLO no longer offers AUTH. */
	feed(&s, "EHLO c", &r, out, sizeof(out));
	assert_null(strstr(out, "AUTH"));
	cmd_session_free(&s);
}

static void
test_auth_login_and_failures(void **state)
{
	static const struct step login[] = {
		{ "EHLO c", ANY, -1 },
		{ "AUTH LOGIN", "334 VXNlcm5hbWU6\r\n", SS_AUTH_LOGIN_USER },
		{ "YWxpY2U=", "334 UGFzc3dvcmQ6\r\n", SS_AUTH_LOGIN_PASS },
		{ "c2VjcmV0", NULL, SS_AUTH_CHECKING },
	};
	static const struct step login_ir[] = {
		{ "AUTH LOGIN YWxpY2U=", "334 UGFzc3dvcmQ6\r\n", SS_AUTH_LOGIN_PASS },
		{ "*", "501 5.7.0 Authentication canceled by client\r\n", SS_GREETED },
		{ "AUTH LOGIN YWxpY2U=", "334 UGFzc3dvcmQ6\r\n", SS_AUTH_LOGIN_PASS },
		{ "c2VjcmV0", NULL, SS_AUTH_CHECKING },
	};
	struct cmd_session s;
	struct cmd_result r;
	char out[512];
	int i;

	(void)state;
	new_session(&s, &conf_open);
	RUN(&s, login);
	assert_string_equal(s.creds->user, "alice");
	assert_string_equal(s.creds->pass, "secret");
	free(s.creds);
	s.creds = NULL;
	cmd_auth_verdict(&s, ACCOUNTS_BLOCKED, &r);
	cmd_render(&s, &r, out, sizeof(out));
	assert_string_equal(out, "550 5.7.1 Unauthorized access (account blocked by policy)\r\n");
	assert_false(s.authed);
	for (i = 1; i <= CMD_AUTH_FAILURES_MAX; i++) {
		RUN(&s, login_ir);
		free(s.creds);
		s.creds = NULL;
		cmd_auth_verdict(&s, ACCOUNTS_BAD_CREDENTIALS, &r);
		cmd_render(&s, &r, out, sizeof(out));
		if (i < CMD_AUTH_FAILURES_MAX) {
			assert_string_equal(out, "535 5.7.8 Authentication credentials invalid\r\n");
			assert_false(r.close);
		} else {
			assert_string_equal(out, "535 5.7.8 Authentication credentials invalid\r\n"
			    "421 4.7.0 Too many authentication failures, closing connection\r\n");
			assert_true(r.close);
		}
	}
	cmd_auth_verdict(&s, ACCOUNTS_ERROR, &r);
	cmd_render(&s, &r, out, sizeof(out));
	assert_string_equal(out, "454 4.7.0 Temporary authentication failure\r\n");
	cmd_session_free(&s);
}

static void
test_hostile_input(void **state)
{
	struct cmd_session s;
	struct cmd_result r;
	char out[512], nul[] = "NOOP\0x";
	size_t n;

	(void)state;
	new_session(&s, &conf_open);
	feed(&s, "GET / HTTP/1.1", &r, out, sizeof(out));
	assert_string_equal(out, "421 4.7.0 HTTP command not allowed, closing connection\r\n");
	assert_true(r.close);
	assert_int_equal(s.state, SS_QUIT);
	cmd_session_free(&s);

	new_session(&s, &conf_open);
	feed(&s, "POST /x HTTP/1.0", &r, out, sizeof(out));
	assert_true(r.close);
	cmd_session_free(&s);

	new_session(&s, &conf_open);
	cmd_dispatch(&s, nul, sizeof(nul) - 1, &r);
	cmd_render(&s, &r, out, sizeof(out));
	assert_string_equal(out, "500 5.5.2 NUL byte not allowed\r\n");
	cmd_line_too_long(&s, &r);
	cmd_render(&s, &r, out, sizeof(out));
	assert_string_equal(out, "500 5.5.2 Line too long\r\n");
	/* Limits: 512 for commands, more for AUTH lines. */
	assert_int_equal(cmd_line_limit(&s, "NOOP", 4), CMD_LINE_MAX);
	assert_int_equal(cmd_line_limit(&s, "auth plain xyz", 14), CMD_AUTH_LINE_MAX);
	feed(&s, "EHLO c", &r, out, sizeof(out));
	feed(&s, "AUTH LOGIN", &r, out, sizeof(out));
	assert_int_equal(cmd_line_limit(&s, "abc", 3), CMD_AUTH_LINE_MAX);
	/* Control characters from the client are not echoed raw. */
	feed(&s, "*", &r, out, sizeof(out));
	feed(&s, "MAIL FROM:<a\x1b@example.com>", &r, out, sizeof(out));
	assert_string_equal(out, "501 5.1.7 Bad sender address <a?@example.com>\r\n");
	n = strlen(out);
	assert_true(n > 0);
	cmd_session_free(&s);
}

/* A milter refused the connection with 554: RFC 5321 3.1, only QUIT is served. */
static void
test_refused_session(void **state)
{
	static const struct step steps[] = {
		{ "EHLO c", "503 5.5.1 Bad sequence of commands\r\n", SS_INIT },
		{ "HELO c", "503 5.5.1 Bad sequence of commands\r\n", SS_INIT },
		{ "NOOP", "503 5.5.1 Bad sequence of commands\r\n", SS_INIT },
		{ "MAIL FROM:<a@example.com>", "503 5.5.1 Bad sequence of commands\r\n", SS_INIT },
		{ "STARTTLS", "503 5.5.1 Bad sequence of commands\r\n", SS_INIT },
		{ "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "503 5.5.1 Bad sequence of commands\r\n", SS_INIT },
		{ "XYZZY", "503 5.5.1 Bad sequence of commands\r\n", SS_INIT },
		{ "QUIT", "221 2.0.0 Bye\r\n", SS_QUIT },
	};
	struct cmd_session s;
	struct cmd_result r;
	char out[512];

	(void)state;
	new_session(&s, &conf_open);
	s.starttls_ok = 1;
	s.refused = 1;
	/* A BDAT's chunk is still skipped, and the 503 comes after it. */
	feed(&s, "BDAT 4", &r, out, sizeof(out));
	assert_int_equal(r.action, ACT_BDAT);
	assert_int_equal(s.bdat_discard, R_BAD_SEQUENCE);
	s.bdat_discard = CMD_NO_REPLY;
	RUN(&s, steps);
	assert_int_equal(s.errors, 7);
	assert_null(s.helo);
	cmd_session_free(&s);
}

static void
test_error_limit(void **state)
{
	static const struct cmd_conf strict = {
		.hostname = "mx.test", .size_limit = 1000, .max_rcpts = 3, .max_errors = 3,
	};
	struct cmd_session s;
	struct cmd_result r;
	char out[512];

	(void)state;
	new_session(&s, &strict);
	feed(&s, "FOO", &r, out, sizeof(out));
	assert_false(r.close);
	/* VRFY and EXPN answers are not counted. */
	feed(&s, "VRFY x", &r, out, sizeof(out));
	feed(&s, "EXPN x", &r, out, sizeof(out));
	feed(&s, "EHLO", &r, out, sizeof(out));
	assert_false(r.close);
	feed(&s, "BAR", &r, out, sizeof(out));
	assert_string_equal(out, "502 5.5.1 Unrecognized command\r\n"
	    "421 4.7.0 Too many errors, closing connection\r\n");
	assert_true(r.close);
	cmd_session_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ehlo_and_basic_commands),
		cmocka_unit_test(test_ehlo_without_accounts),
		cmocka_unit_test(test_mail_rcpt_data),
		cmocka_unit_test(test_null_sender_and_smtputf8),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_require_tls_and_auth),
		cmocka_unit_test(test_auth_plain),
		cmocka_unit_test(test_auth_login_and_failures),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_refused_session),
		cmocka_unit_test(test_error_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
