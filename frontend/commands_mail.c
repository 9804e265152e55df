/*
 * commands_mail.c - the mail transaction's commands: MAIL and RCPT (paths
 * through lib/addr.c, ESMTP parameters), DATA and BDAT (RFC 3030). Entries
 * of the command table in commands.c; the table's flags have already
 * checked TLS, AUTH and EHLO when these run.
 */
#include "commands.h"
#include "commands_int.h"
#include "addr.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- MAIL / RCPT */

/*
 * Find the "<...>" path at p: the closing '>' outside a quoted string.
 * Returns its length (brackets included) or 0 when there is none.
 */
static size_t
cmd_path_len(const char *p)
{
	size_t i;
	int quoted = 0;

	if (*p != '<')
		return 0;
	for (i = 1; p[i]; i++) {
		if (quoted && p[i] == '\\' && p[i + 1]) {
			i++;
			continue;
		}
		if (p[i] == '"')
			quoted = !quoted;
		else if (p[i] == '>' && !quoted)
			return i + 1;
	}
	return 0;
}

/*
 * Split "FROM:<path> params" (keyword "FROM:" or "TO:"). Tolerates spaces
 * after the colon. Returns 0 with *path, *plen and *params, -1 on a syntax
 * error.
 */
static int
cmd_split_path(char *args, const char *kw, char **path, size_t *plen, char **params)
{
	size_t kl = strlen(kw);
	char *p;

	if (strncasecmp(args, kw, kl) != 0)
		return -1;
	p = cmd_skip_space(args + kl);
	if ((*plen = cmd_path_len(p)) == 0)
		return -1;
	*path = p;
	p += *plen;
	if (*p != '\0' && *p != ' ')
		return -1;
	*params = cmd_skip_space(p);
	cmd_rtrim(*params);
	return 0;
}

/* Parse a decimal up to 2^63; -1 on anything else. */
static int
cmd_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* MAIL parameters (RFC 1870 SIZE, 6152 BODY, 3030 BINARYMIME, 6531 SMTPUTF8, 4954 AUTH). */
static int
cmd_mail_params(struct cmd_session *s, char *params, struct cmd_result *r)
{
	int seen_size = 0, seen_body = 0, seen_utf8 = 0, seen_auth = 0;
	char *p = params;

	while (*p) {
		char *tok = p, *eq, *val;
		size_t tlen, klen, vlen;

		while (*p && *p != ' ')
			p++;
		tlen = (size_t)(p - tok);
		p = cmd_skip_space(p);
		eq = memchr(tok, '=', tlen);
		klen = eq ? (size_t)(eq - tok) : tlen;
		val = eq ? eq + 1 : NULL;
		vlen = eq ? tlen - klen - 1 : 0;
		if (klen == 4 && strncasecmp(tok, "SIZE", 4) == 0) {
			if (seen_size++ || !val || cmd_parse_u64(val, vlen, &s->declared_size))
				goto syntax;
			if (s->conf->size_limit && s->declared_size > s->conf->size_limit) {
				cmd_result_set(r, R_SIZE_MAIL, NULL);
				return -1;
			}
		} else if (klen == 4 && strncasecmp(tok, "BODY", 4) == 0) {
			if (seen_body++ || !val)
				goto syntax;
			if (vlen == 4 && strncasecmp(val, "7BIT", 4) == 0)
				s->body = BODY_7BIT;
			else if (vlen == 8 && strncasecmp(val, "8BITMIME", 8) == 0)
				s->body = BODY_8BITMIME;
			else if (vlen == 10 && strncasecmp(val, "BINARYMIME", 10) == 0)
				s->body = BODY_BINARYMIME;
			else
				goto syntax;
		} else if (klen == 8 && strncasecmp(tok, "SMTPUTF8", 8) == 0) {
			if (seen_utf8++ || val)
				goto syntax;
			s->smtputf8 = 1;
		} else if (klen == 4 && strncasecmp(tok, "AUTH", 4) == 0) {
			/* RFC 4954 5: accepted and not trusted (we relay nothing on its word). */
			if (seen_auth++ || !val)
				goto syntax;
		} else {
			cmd_reply_n(r, R_PARAM_UNKNOWN, tok, klen);
			return -1;
		}
	}
	return 0;
syntax:
	cmd_result_set(r, R_MAIL_SYNTAX, NULL);
	return -1;
}

void
cmd_mail(struct cmd_session *s, char *args, struct cmd_result *r)
{
	char *path, *params;
	size_t plen;
	addr_mailbox mb;
	int is_null, n;
	const char *reason;

	if (SMTP_IN_TRANSACTION(s->state)) {
		cmd_result_set(r, R_SENDER_ALREADY, NULL);
		return;
	}
	if (cmd_split_path(args, "FROM:", &path, &plen, &params) != 0) {
		cmd_result_set(r, R_MAIL_SYNTAX, NULL);
		return;
	}
	s->declared_size = 0;
	s->body = BODY_NONE;
	s->smtputf8 = 0;
	if (cmd_mail_params(s, params, r) != 0) {
		cmd_tx_clear(s);
		return;
	}
	n = addr_parse_path(path, plen, 1, s->smtputf8, &mb, &is_null, &reason);
	if (n < 0 || (size_t)n != plen) {
		cmd_tx_clear(s);
		cmd_reply_n(r, R_BAD_SENDER, path, plen);
		return;
	}
	/* The null sender is the milter's to judge (contract): pass it on. */
	s->sender = xstrndup(path, plen);
	cmd_enter(s, SS_MAIL);
	cmd_reply_n(r, R_SENDER_OK, path, plen);
	r->action = ACT_MILTER;
}

void
cmd_rcpt(struct cmd_session *s, char *args, struct cmd_result *r)
{
	char *path, *params;
	size_t plen;
	addr_mailbox mb;
	int is_null, n;
	const char *reason;

	if (s->state != SS_MAIL && s->state != SS_RCPT) {
		cmd_result_set(r, s->state == SS_CHUNKING ? R_BAD_SEQUENCE : R_NEED_MAIL, NULL);
		return;
	}
	if (cmd_split_path(args, "TO:", &path, &plen, &params) != 0) {
		cmd_result_set(r, R_RCPT_SYNTAX, NULL);
		return;
	}
	if (*params != '\0') {
		/* No RCPT extension is offered (no DSN). */
		size_t k = strcspn(params, "= ");
		cmd_reply_n(r, R_PARAM_UNKNOWN, params, k);
		return;
	}
	if (s->nrcpts >= s->conf->max_rcpts) {
		cmd_result_set(r, R_TOO_MANY_RCPTS, NULL);
		return;
	}
	n = addr_parse_path(path, plen, 0, s->smtputf8, &mb, &is_null, &reason);
	if (n < 0 || (size_t)n != plen || is_null) {
		cmd_reply_n(r, R_BAD_RCPT, path, plen);
		return;
	}
	s->rcpts = xrealloc(s->rcpts, (s->nrcpts + 1) * sizeof(*s->rcpts));
	s->rcpts[s->nrcpts++] = xstrndup(path, plen);
	cmd_enter(s, SS_RCPT);
	cmd_reply_n(r, R_RCPT_OK, path, plen);
}

void
cmd_rcpt_drop_last(struct cmd_session *s)
{
	if (s->nrcpts == 0)
		return;
	free(s->rcpts[--s->nrcpts]);
	s->rcpts[s->nrcpts] = NULL;
	if (s->nrcpts == 0 && s->state == SS_RCPT)
		cmd_enter(s, SS_MAIL);
}

/* --- DATA / BDAT */

void
cmd_data(struct cmd_session *s, char *args, struct cmd_result *r)
{
	(void)args;
	if (s->state == SS_CHUNKING || (s->state == SS_RCPT && s->body == BODY_BINARYMIME)) {
		/* RFC 3030: no DATA inside a BDAT transaction, and BINARYMIME needs BDAT. */
		cmd_result_set(r, R_BAD_SEQUENCE, NULL);
		return;
	}
	if (s->state != SS_MAIL && s->state != SS_RCPT) {
		cmd_result_set(r, R_NEED_MAIL, NULL);
		return;
	}
	if (s->nrcpts == 0) {
		cmd_result_set(r, R_NEED_RCPT, NULL);
		return;
	}
	cmd_enter(s, SS_DATA);
	cmd_result_set(r, R_DATA_GO, NULL);
	r->action = ACT_DATA;
}

/*
 * BDAT <size> [LAST]. The chunk always follows the command, so even a
 * refused BDAT must be read and skipped: bdat_discard names the reply
 * to give once it has been.
 */
void
cmd_bdat(struct cmd_session *s, char *args, struct cmd_result *r)
{
	char *p = args, *num;
	size_t nlen;
	uint64_t n;
	int last = 0;

	num = p;
	while (*p && *p != ' ')
		p++;
	nlen = (size_t)(p - num);
	p = cmd_skip_space(p);
	cmd_rtrim(p);
	if (*p) {
		if (strcasecmp(p, "LAST") != 0) {
			cmd_result_set(r, R_BDAT_SYNTAX, NULL);
			return;
		}
		last = 1;
	}
	if (cmd_parse_u64(num, nlen, &n) != 0) {
		cmd_result_set(r, R_BDAT_SYNTAX, NULL);
		return;
	}
	s->bdat_len = n;
	s->bdat_last = last;
	s->bdat_discard = CMD_NO_REPLY;
	if (s->state != SS_MAIL && s->state != SS_RCPT && s->state != SS_CHUNKING)
		s->bdat_discard = R_NEED_MAIL;
	else if (s->nrcpts == 0)
		s->bdat_discard = R_NEED_RCPT;
	else
		cmd_enter(s, SS_BDAT);
	r->action = ACT_BDAT;
}

