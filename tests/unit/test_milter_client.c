/*
 * test_milter_client.c - the MTA side of the milter protocol against real
 * milters, what they are told and what they answer: tests/unit/milters/
 * test_filter (libmilter, one behaviour per mode) and postern-milter itself
 * when it has been built. Every test asserts exact verdicts and reply lines.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/*
 * One session through a test_filter mode, the message (if any) in pieces
 * of chunk bytes: the verdict, the edits, and what the milter was told.
 */
struct pass_case {
	const char *name;
	const char *mode;
	const char *body;		/* NULL: the harness's msg */
	size_t chunk;			/* 0: envelope only, no message */
	int unknown;			/* an unknown command first (NOUNKNOWN: not sent) */
	int mods;			/* 0: no edits, 1: the X-Test header below, -1: not checked */
	const char *xtest;		/* its value */
	const char *rec[32];		/* lines the milter recorded, NULL-terminated */
	struct { const char *prefix; int n; } counts[3];	/* how many lines start so */
};

static const struct pass_case pass_cases[] = {
	/* Everything a milter is told, as libmilter decoded it; split anywhere, header by header. */
	{ "record", "record", NULL, 7, 0, 1, " negotiations=1 connects=1", {
		"C [192.0.2.1] addr", "M C j=mx.test", "M C {daemon_name}=postern-smtpd",
		"M C {client_addr}=192.0.2.1", "M C {client_port}=4711", "M C {client_name}=unknown",
		"M C _=unknown [192.0.2.1]", "E client.example", "M H {tls_version}=TLSv1.3",
		"M H {cipher_bits}=256", "F <a@example.com>", "F SIZE=100", "M F {auth_type}=PLAIN",
		"M F {auth_authen}=alice", "M F {mail_addr}=a@example.com", "R <b@example.com>",
		"M R {rcpt_addr}=b@example.com", "M D i=Q123", "H From|a@example.com",
		"H Subject|hello\\n world", "H X-Tight|value", "H X-Tab|\\x09t", "N ",
		"B Body line 1\\r\\n..leading dot kept as given\\r\\n", "M Z i=Q123", NULL },
	    { { "H ", 5 } } },
	/* A message whose first line is no header field: no HEADER, the line is body. */
	{ "no headers", "record", "this is not a header\r\nFrom: x\r\n", 3, 0, -1, NULL,
	    { "N ", "B this is not a header\\r\\nFrom: x\\r\\n", NULL }, { { "H ", 0 } } },
	/* The milter left the session at connect: no edits, no MAIL. */
	{ "accept at connect", "accept_connect", NULL, 100, 0, 0, NULL, { NULL }, { { "F ", 0 } } },
	/* SMFIP_NR_* steps and NOUNKNOWN: the same headers and body, no UNKNOWN. */
	{ "no-reply steps", "nr", NULL, 5, 1, -1, NULL,
	    { "H Subject|hello\\n world", "B Body line 1\\r\\n..leading dot kept as given\\r\\n", NULL },
	    { { "U XYZZY", 0 } } },
	/* SMFIP_HDR_LEADSPC: values as they are, both ways. */
	{ "leading space", "leadspc", NULL, 100, 0, 1, "negotiations=1 connects=1",
	    { "H Subject| hello\\n world", "H X-Tight|value", NULL }, { { NULL, 0 } } },
	/* SETSYMLIST: only the macros the milter asked for. */
	{ "symbol list", "symlist", NULL, 0, 0, -1, NULL, { "M F {mail_addr}=a@example.com", NULL },
	    { { "M F {auth_authen}", 0 }, { "M F i=", 0 } } },
};

static void
test_passes(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(pass_cases) / sizeof(pass_cases[0]); i++) {
		const struct pass_case *c = &pass_cases[i];
		const char *m = c->body ? c->body : msg;
		const struct mc_mod *x;
		mc_list *l;
		mc_session *s = filter_session(c->mode, &l);

		print_message("case: %s\n", c->name);
		envelope(s);
		if (c->unknown)
			VERDICT(mc_unknown(s, "XYZZY"), MC_CONTINUE);
		if (c->chunk > 0) {
			message(s, m, strlen(m), c->chunk);
			assert_int_equal(V.act, MC_CONTINUE);
		}
		if (c->mods == 0)
			assert_null(V.mods);
		if (c->mods == 1) {
			assert_non_null(V.mods);
			assert_non_null(x = find_mod(MC_MOD_ADD_HEADER, "X-Test"));
			assert_string_equal(x->value, c->xtest);
			assert_int_equal(V.mods->body_fd, -1);
		}
		end_session(s, l);
		assert_rec(c->rec);
		for (k = 0; k < 3 && c->counts[k].prefix; k++)
			if (rec_count(c->counts[k].prefix) != c->counts[k].n)
				fail_msg("%s: %d lines \"%s\", want %d", c->name,
				    rec_count(c->counts[k].prefix), c->counts[k].prefix, c->counts[k].n);
		stop_filter();
	}
}

/*
 * A milter known (from an earlier negotiation) to skip connect and HELO is
 * connected only at MAIL: an SMTP session that never starts a transaction
 * holds no milter socket (issue 23.2), and the skipped steps' macros still
 * reach it before MAIL.
 */
static void
test_lazy_connect(void **state)
{
	mc_list *l;
	mc_session *s;
	uint64_t c0, r0, c1, r1;

	(void)state;
	start_filter("noconnect");
	l = filter_list(5, "tempfail", 0);
	mc_stats(&c0, &r0);
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	envelope(s);		/* the first session learns what the milter takes */
	message(s, msg, MSG_LEN, 100);
	assert_int_equal(V.act, MC_CONTINUE);
	mc_mods_free(V.mods);
	V.mods = NULL;
	mc_session_free(s);
	mc_stats(&c1, &r1);
	assert_int_equal(c1 - c0, 1);

	/* Connect and HELO only: no socket at all. */
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_helo(s, "client.example", &tls), MC_CONTINUE);
	mc_stats(&c0, &r0);
	assert_int_equal(c0, c1);
	mc_session_free(s);

	/* A transaction: the socket opens at MAIL, and the milter knows the client. */
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_helo(s, "client.example", &tls), MC_CONTINUE);
	mc_stats(&c0, &r0);
	assert_int_equal(c0, c1);
	VERDICT(mc_mail(s, from_argv, "PLAIN", "alice", NULL), MC_CONTINUE);
	mc_stats(&c0, &r0);
	assert_int_equal(c0, c1 + 1);
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q124"), MC_CONTINUE);
	message(s, msg, MSG_LEN, 100);
	assert_int_equal(V.act, MC_CONTINUE);
	mc_mods_free(V.mods);
	V.mods = NULL;
	mc_session_free(s);
	mc_list_free(l);
	spin(100);
	assert_int_equal(rec_count("C "), 0);	/* never a connect step, */
	assert_int_equal(rec_count("E "), 0);	/* nor a HELO step, */
	assert_int_equal(rec_count("F <a@example.com>"), 2);	/* two transactions, */
	/* and at each MAIL the connect and HELO macros were there. */
	assert_int_equal(rec_count("M C@F {client_addr}=192.0.2.1"), 2);
	assert_int_equal(rec_count("M C@F {daemon_name}=postern-smtpd"), 2);
	assert_int_equal(rec_count("M H@F {tls_version}=TLSv1.3"), 2);
}

struct reply_case {
	const char *mode;
	int stage;		/* 0: at end of data, 1: at MAIL */
	enum mc_action act;
	const char *reply;
};

static const struct reply_case reply_cases[] = {
	{ "reject_eom", 0, MC_REJECT, "550 5.7.1 Rejected by test, 100% sure" },
	{ "reject_ml", 0, MC_REJECT, "550-5.7.1 first line\r\n550 5.7.1 second line" },
	{ "tempfail_eom", 0, MC_TEMPFAIL, "451 4.7.1 Temporary policy failure, try again later" },
	{ "reject_body", 0, MC_REJECT, "554 5.6.0 Body refused" },
	{ "discard_eom", 0, MC_DISCARD, "" },
	{ "discard_rcpt", 0, MC_DISCARD, "" },
	{ "tempfail_mail", 1, MC_TEMPFAIL, "451 4.7.1 Temporary policy failure, try again later" },
};

static void
test_replies(void **state)
{
	size_t i;
	mc_list *l;
	mc_session *s;

	(void)state;
	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		const struct reply_case *c = &reply_cases[i];

		s = filter_session(c->mode, &l);
		if (c->stage == 1) {
			VERDICT(mc_connect(s, &client), MC_CONTINUE);
			VERDICT(mc_helo(s, "c", NULL), MC_CONTINUE);
			CALL(mc_mail(s, from_argv, NULL, NULL, NULL));
		} else {
			envelope(s);
			message(s, msg, MSG_LEN, 4096);
		}
		if (V.act != c->act || strcmp(V.reply, c->reply) != 0)
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", c->mode, V.act, V.reply, c->act,
			    c->reply);
		assert_false(V.close);
		end_session(s, l);
		stop_filter();
	}
}

static void
test_reject_rcpt(void **state)
{
	static const char *const bad[] = { "<bad@example.com>", NULL };
	mc_list *l;
	mc_session *s;

	(void)state;
	s = filter_session("reject_rcpt", &l);
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_helo(s, "c", NULL), MC_CONTINUE);
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
	VERDICT(mc_rcpt(s, bad), MC_REJECT);
	assert_string_equal(V.reply, "550 5.1.1 No such user here");
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q1"), MC_CONTINUE);
	message(s, msg, MSG_LEN, 100);
	assert_int_equal(V.act, MC_CONTINUE);
	end_session(s, l);
}

static void
test_reject_connect(void **state)
{
	mc_list *l;
	mc_session *s;

	(void)state;
	s = filter_session("reject_connect", &l);
	VERDICT(mc_connect(s, &client), MC_REJECT);
	assert_string_equal(V.reply, "554 5.7.1 Go away");
	/* The session decides: 554 and wait for QUIT (RFC 5321 3.1). */
	assert_false(V.close);
	end_session(s, l);
}

static void
test_modify(void **state)
{
	mc_list *l;
	mc_session *s;
	const struct mc_mod *m;
	size_t i;
	static const enum mc_mod_kind order[] = { MC_MOD_ADD_HEADER, MC_MOD_INS_HEADER,
		MC_MOD_CHG_HEADER, MC_MOD_DEL_HEADER, MC_MOD_ADD_HEADER, MC_MOD_CHG_FROM,
		MC_MOD_ADD_RCPT, MC_MOD_ADD_RCPT, MC_MOD_DEL_RCPT, MC_MOD_QUARANTINE };

	(void)state;
	s = filter_session("modify", &l);
	envelope(s);
	message(s, msg, MSG_LEN, 100);
	assert_int_equal(V.act, MC_CONTINUE);
	assert_non_null(V.mods);
	assert_int_equal(V.mods->n, sizeof(order) / sizeof(order[0]));
	for (i = 0; i < V.mods->n; i++)
		assert_int_equal(V.mods->v[i].kind, order[i]);
	assert_non_null(m = find_mod(MC_MOD_INS_HEADER, "X-First"));
	assert_int_equal(m->index, 0);
	assert_string_equal(m->value, " top");
	assert_non_null(m = find_mod(MC_MOD_CHG_HEADER, "Subject"));
	assert_int_equal(m->index, 1);
	assert_string_equal(m->value, " changed subject");
	assert_non_null(m = find_mod(MC_MOD_DEL_HEADER, "X-Drop"));
	assert_int_equal(m->index, 1);
	assert_non_null(m = find_mod(MC_MOD_ADD_HEADER, "X-Multi"));
	assert_string_equal(m->value, " line one\r\n\tline two");
	assert_non_null(m = find_mod(MC_MOD_CHG_FROM, "<new@example.com>"));
	assert_string_equal(m->value, "SIZE=100");
	assert_non_null(m = find_mod(MC_MOD_ADD_RCPT, "<added@example.com>"));
	assert_string_equal(m->value, "");
	assert_non_null(m = find_mod(MC_MOD_ADD_RCPT, "<added2@example.com>"));
	assert_string_equal(m->value, "NOTIFY=NEVER");
	assert_non_null(find_mod(MC_MOD_DEL_RCPT, "<b@example.com>"));
	assert_non_null(m = find_mod(MC_MOD_QUARANTINE, ""));
	assert_string_equal(m->value, "held for review");
	end_session(s, l);
}

static void
test_replbody(void **state)
{
	mc_list *l;
	mc_session *s;
	char *got, *want;
	size_t i, o = 0;
	ssize_t n;

	(void)state;
	s = filter_session("replbody", &l);
	envelope(s);
	message(s, msg, MSG_LEN, 100);
	assert_int_equal(V.act, MC_CONTINUE);
	assert_non_null(V.mods);
	assert_true(V.mods->body_fd >= 0);
	want = malloc(250000);
	for (i = 0; i < 200000; i++) {
		if (i % 50 == 49)
			want[o++] = '\r';
		want[o++] = (i % 50 == 49) ? '\n' : (char)('a' + i % 26);
	}
	assert_int_equal(V.mods->body_size, o);
	got = malloc(o + 1);
	n = pread(V.mods->body_fd, got, o + 1, 0);
	assert_int_equal(n, (ssize_t)o);
	assert_memory_equal(got, want, o);
	free(got);
	free(want);
	end_session(s, l);
}

/* Two milters in order: a refusal by the second ends the transaction for the first. */
static void
test_two_milters(void **state)
{
	mc_list *l;
	mc_session *s;
	char spec[300], sock0[100], rec0[128];

	(void)state;
	start_filter_at("record", 0);
	snprintf(sock0, sizeof(sock0), "%s", sock);
	snprintf(rec0, sizeof(rec0), "%s", rec_file);
	start_filter_at("tempfail_mail", 1);
	snprintf(spec, sizeof(spec), "{ unix:%s, default_action=accept }, unix:%s", sock0, sock);
	l = list_of(spec, 5, "tempfail", 0);
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_TEMPFAIL);
	assert_string_equal(V.reply, "451 4.7.1 Temporary policy failure, try again later");
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_TEMPFAIL);
	mc_session_free(s);
	mc_list_free(l);
	spin(100);
	/* The first saw each MAIL, then an ABORT; the second refused them. */
	snprintf(rec_file, sizeof(rec_file), "%s", rec0);
	assert_int_equal(rec_count("F <a@example.com>"), 2);
	assert_int_equal(rec_count("A "), 2);
}

static void
test_abort(void **state)
{
	mc_list *l;
	mc_session *s;

	(void)state;
	s = filter_session("record", &l);
	envelope(s);
	mc_body(s, msg, 20);
	mc_abort(s);		/* RSET mid-DATA */
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q2"), MC_CONTINUE);
	message(s, msg, MSG_LEN, 100);
	assert_int_equal(V.act, MC_CONTINUE);
	/* Freed while a reply is awaited: no callback afterwards. */
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
	V.got = 0;
	mc_rcpt(s, rcpt_argv);
	mc_session_free(s);
	spin(200);
	assert_false(V.got);
	mc_list_free(l);
	spin(100);
	assert_true(rec_has("A "));
	assert_true(rec_has("M Z i=Q2"));
}

struct parse_case {
	const char *spec;
	size_t n;		/* 0: must fail */
};

static const struct parse_case parse_cases[] = {
	{ "", 0 + 100 },
	{ "inet:127.0.0.1:8891", 1 },
	{ "inet:localhost:8891, unix:/run/x.sock", 2 },
	{ "inet6:[::1]:8891", 1 },
	{ "{ inet:127.0.0.1:1, default_action=accept }, { unix:/x, timeout=10s, reuse=no }", 2 },
	{ "local:/run/y", 1 },
	{ "{ inet:127.0.0.1:1, default_action=maybe }", 0 },
	{ "{ inet:127.0.0.1:1, colour=blue }", 0 },
	{ "{ inet:127.0.0.1:1", 0 },
	{ "tcp:127.0.0.1:1", 0 },
	{ "inet:127.0.0.1", 0 },
	{ "inet6:[::1:8891", 0 },
	{ "unix:", 0 },
	{ "unix:relative.sock", 0 },
	{ "inet:127.0.0.1:99999", 0 },
	{ "inet:127.0.0.1:0", 0 },
	{ "inet:::1:8891", 0 },
	{ "inet6:::1:8891", 1 },
};

static void
test_parse(void **state)
{
	struct mc_options o = { .timeout_s = 5, .default_action = "tempfail", .pool_max = 1 };
	char err[256];
	size_t i;
	mc_list *l;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		l = mc_list_parse(c->spec, &o, err, sizeof(err));
		if (c->n == 0) {
			if (l != NULL)
				fail_msg("\"%s\" parsed", c->spec);
			continue;
		}
		if (l == NULL)
			fail_msg("\"%s\": %s", c->spec, err);
		assert_int_equal(mc_list_count(l), c->n == 100 ? 0 : c->n);
		mc_list_free(l);
	}
	o.default_action = "perhaps";
	assert_null(mc_list_parse("inet:127.0.0.1:1", &o, err, sizeof(err)));
}

/* An empty list answers every event at once. */
static void
test_empty_list(void **state)
{
	mc_list *l = list_of("", 5, "tempfail", 0);
	mc_session *s = mc_session_new(l, base, on_verdict, on_ready, NULL);

	(void)state;
	envelope(s);
	message(s, msg, MSG_LEN, 10);
	assert_int_equal(V.act, MC_CONTINUE);
	assert_null(V.mods);
	mc_session_free(s);
	mc_list_free(l);
}

/* postern-milter itself, when built: its verdict on a message without a Subject. */
static void
test_postern_milter(void **state)
{
	char conf[200], spec[200], sockp[100];
	FILE *f;
	pid_t pid;
	mc_list *l;
	mc_session *s;
	static const char nosubj[] = "From: a@example.com\r\nTo: b@example.com\r\n\r\nhi\r\n";

	(void)state;
	if (access(POSTERN_MILTER, X_OK) != 0) {
		fprintf(stderr, "postern-milter not built (%s): skipped\n", POSTERN_MILTER);
		skip();
	}
	snprintf(sockp, sizeof(sockp), "%s/pm.sock", dir);
	snprintf(conf, sizeof(conf), "%s/postern.conf", dir);
	f = fopen(conf, "w");
	/* Running as root in CI: no privilege drop to a user that may not exist. */
	fprintf(f, "milter_listen = unix:%s\nmilter_user =\n", sockp);
	fclose(f);
	pid = start_postern_milter(conf, sockp, NULL, 0);
	snprintf(spec, sizeof(spec), "{ unix:%s, reuse=no }", sockp);
	l = list_of(spec, 10, "tempfail", 0);
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	/* No {auth_authen}: the MTA in front needed no login, no account check. */
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_helo(s, "client.example", NULL), MC_CONTINUE);
	CALL(mc_mail(s, from_argv, NULL, NULL, NULL));
	if (V.act != MC_CONTINUE)
		fail_msg("postern-milter at MAIL: %d \"%s\"", V.act, V.reply);
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q1"), MC_CONTINUE);
	message(s, nosubj, sizeof(nosubj) - 1, 100);
	if (V.act != MC_REJECT || strcmp(V.reply, "554 5.6.0 Subject not present") != 0)
		fprintf(stderr, "postern-milter answered %d \"%s\"\n", V.act, V.reply);
	assert_int_equal(V.act, MC_REJECT);
	assert_string_equal(V.reply, "554 5.6.0 Subject not present");
	mc_session_free(s);
	mc_list_free(l);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* Run an opendkim with conf (in dir); wait for its socket. Returns the pid. */
static pid_t
opendkim_start(const char *conf, const char *sockpath)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/sbin/opendkim", "opendkim", "-f", "-x", conf, (char *)NULL);
		_exit(127);
	}
	wait_socket(sockpath, "opendkim");
	return pid;
}

/* One message through l from 127.0.0.1 (an internal host for opendkim); the verdict is in V. */
static void
dkim_pass(mc_list *l, const char *m, size_t len)
{
	struct mc_client local = client;
	mc_session *s = mc_session_new(l, base, on_verdict, on_ready, NULL);

	local.addr = "127.0.0.1";
	VERDICT(mc_connect(s, &local), MC_CONTINUE);
	VERDICT(mc_helo(s, "client.example", NULL), MC_CONTINUE);
	VERDICT(mc_mail(s, from_argv, NULL, NULL, "Q9"), MC_CONTINUE);
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q9"), MC_CONTINUE);
	message(s, m, len, 13);
	assert_int_equal(V.act, MC_CONTINUE);
	mc_session_free(s);
}

/*
 * A milter nobody here wrote: OpenDKIM signs through the client (twice, with
 * reuse=no: it keeps SMFIP_HDR_LEADSPC in state it frees at xxfi_close, see
 * milter_client.h, so each session needs its own negotiation), and a second
 * OpenDKIM verifies the signed message through the client too: the headers
 * and body it was shown are exactly the message's.
 */
static void
test_opendkim(void **state)
{
	char cmd[300], path[200], spec[200], signsock[100], verisock[100], *txt, *p, *q;
	char keys[2048], signedmsg[8192];
	const struct mc_mod *m;
	FILE *f;
	pid_t signer, verifier;
	mc_list *l;
	size_t k = 0;
	int round;
	uint64_t c0, r0, c1, r1;

	(void)state;
	if (access("/usr/sbin/opendkim", X_OK) != 0 || access("/usr/sbin/opendkim-genkey", X_OK) != 0) {
		fprintf(stderr, "opendkim not installed: skipped\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "/usr/sbin/opendkim-genkey -D %s -d example.com -s test", dir);
	assert_int_equal(system(cmd), 0);
	/* The public key as a TestPublicKeys line, from the TXT record file. */
	snprintf(path, sizeof(path), "%s/test.txt", dir);
	txt = slurp(path);
	k = (size_t)snprintf(keys, sizeof(keys), "test._domainkey.example.com ");
	for (p = txt; (p = strchr(p, '"')) != NULL && (q = strchr(p + 1, '"')) != NULL; p = q + 1)
		k += (size_t)snprintf(keys + k, sizeof(keys) - k, "%.*s", (int)(q - p - 1), p + 1);
	free(txt);
	snprintf(path, sizeof(path), "%s/keys", dir);
	f = fopen(path, "w");
	fprintf(f, "%s\n", keys);
	fclose(f);
	snprintf(signsock, sizeof(signsock), "%s/sign.sock", dir);
	snprintf(verisock, sizeof(verisock), "%s/verify.sock", dir);
	snprintf(path, sizeof(path), "%s/sign.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "Mode s\nDomain example.com\nSelector test\nKeyFile %s/test.private\n"
	    "Socket local:%s\nBackground no\nCanonicalization relaxed/relaxed\nSyslog no\n"
	    "RequireSafeKeys no\n", dir, signsock);
	fclose(f);
	signer = opendkim_start(path, signsock);
	snprintf(path, sizeof(path), "%s/verify.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "Mode v\nSocket local:%s\nBackground no\nSyslog no\nTestPublicKeys %s/keys\n"
	    "AlwaysAddARHeader yes\nAuthservID test.example\nRequireSafeKeys no\n", verisock, dir);
	fclose(f);
	verifier = opendkim_start(path, verisock);

	snprintf(spec, sizeof(spec), "{ unix:%s, reuse=no }", signsock);
	l = list_of(spec, 10, "tempfail", 4);
	mc_stats(&c0, &r0);
	for (round = 0; round < 2; round++) {
		dkim_pass(l, msg, MSG_LEN);
		m = find_mod(MC_MOD_INS_HEADER, "DKIM-Signature");
		if (m == NULL)
			m = find_mod(MC_MOD_ADD_HEADER, "DKIM-Signature");
		assert_non_null(m);
		assert_non_null(strstr(m->value, "d=example.com"));
		/* It negotiated SMFIP_HDR_LEADSPC each time, so it sends the blank itself. */
		if (strncmp(m->value, " v=1;", 5) != 0)
			fail_msg("round %d: DKIM-Signature:%.40s", round, m->value);
	}
	mc_stats(&c1, &r1);
	assert_int_equal(c1 - c0, 2);	/* a connection and a negotiation each */
	assert_int_equal(r1 - r0, 0);
	mc_list_free(l);
	snprintf(signedmsg, sizeof(signedmsg), "DKIM-Signature:%s\r\n%s", m->value, msg);

	snprintf(spec, sizeof(spec), "{ unix:%s, reuse=no }", verisock);
	l = list_of(spec, 10, "tempfail", 0);
	dkim_pass(l, signedmsg, strlen(signedmsg));
	m = find_mod(MC_MOD_INS_HEADER, "Authentication-Results");
	if (m == NULL)
		m = find_mod(MC_MOD_ADD_HEADER, "Authentication-Results");
	assert_non_null(m);
	if (strstr(m->value, "dkim=pass") == NULL)
		fail_msg("not verified: %s", m->value);
	mc_list_free(l);
	kill(signer, SIGTERM);
	kill(verifier, SIGTERM);
	waitpid(signer, NULL, 0);
	waitpid(verifier, NULL, 0);
}

/*
 * postern-milter over one pooled connection: three SMTP sessions, the 2nd
 * and 3rd after SMFIC_QUIT_NC (libmilter closes the session, keeps the
 * socket, no new negotiation). Each gets its own verdict, and nothing of
 * the session before (state, refusal, macros) reaches the next one.
 */
static void
test_postern_milter_reuse(void **state)
{
	char conf[200], spec[200], sockp[100], logp[100], accts[100], qid[8], *log;
	const char *p;
	unsigned long acts, steps;
	FILE *f;
	pid_t pid;
	mc_list *l;
	mc_session *s;
	int i, status;
	uint64_t c0, r0, c1, r1;
	static const char nosubj[] = "From: a@example.com\r\nTo: b@example.com\r\n\r\nhi\r\n";
	static const char *const bad[] = { "tempfail", "fail", "error", "warn", "dropped",
		"refused", "without a close", NULL };

	(void)state;
	if (access(POSTERN_MILTER, X_OK) != 0) {
		fprintf(stderr, "postern-milter not built (%s): skipped\n", POSTERN_MILTER);
		skip();
	}
	snprintf(sockp, sizeof(sockp), "%s/pm.sock", dir);
	snprintf(logp, sizeof(logp), "%s/pm.log", dir);
	snprintf(conf, sizeof(conf), "%s/postern.conf", dir);
	snprintf(accts, sizeof(accts), "%s/accounts", dir);
	f = fopen(accts, "w");
	/* Password "secret" (openssl passwd -6 -salt postern); alice may send as example.com. */
	fprintf(f, "alice:$6$postern$B7RKF8t6NIR.Noc7D.YDQW3a1yxXpKWWOuwEM4VxKepZlOIgkIa1TcqovnC6VQ."
	    "F.9LVzvCQUMSY2HQmzrGxW0::example.com\n");
	fclose(f);
	f = fopen(conf, "w");
	fprintf(f, "milter_listen = unix:%s\nmilter_user =\naccounts_file = %s\n", sockp, accts);
	fclose(f);
	pid = start_postern_milter(conf, sockp, logp, 1);
	snprintf(spec, sizeof(spec), "unix:%s", sockp);
	l = list_of(spec, 10, "tempfail", 4);
	mc_stats(&c0, &r0);
	for (i = 0; i < 3; i++) {
		int clean = i != 1;

		snprintf(qid, sizeof(qid), "Q%d", i + 1);
		s = mc_session_new(l, base, on_verdict, on_ready, NULL);
		VERDICT(mc_connect(s, &client), MC_CONTINUE);
		/* TLS and a login in the first session only: later ones must not inherit them. */
		VERDICT(mc_helo(s, "client.example", i == 0 ? &tls : NULL), MC_CONTINUE);
		CALL(mc_mail(s, from_argv, i == 0 ? "PLAIN" : NULL, i == 0 ? "alice" : NULL, qid));
		if (V.act != MC_CONTINUE)
			fail_msg("session %d at MAIL: %d \"%s\"", i + 1, V.act, V.reply);
		VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
		VERDICT(mc_data(s, qid), MC_CONTINUE);
		if (clean)
			message(s, msg, MSG_LEN, 100);
		else
			message(s, nosubj, sizeof(nosubj) - 1, 100);
		if (clean && V.act != MC_CONTINUE)
			fail_msg("session %d: clean message got %d \"%s\"", i + 1, V.act, V.reply);
		if (!clean && (V.act != MC_REJECT ||
		    strcmp(V.reply, "554 5.6.0 Subject not present") != 0))
			fail_msg("session %d: got %d \"%s\", want the Subject refusal", i + 1, V.act,
			    V.reply);
		if (V.mods)
			mc_mods_free(V.mods);
		V.mods = NULL;
		mc_session_free(s);
	}
	mc_stats(&c1, &r1);
	assert_int_equal(c1 - c0, 1);	/* one socket, */
	assert_int_equal(r1 - r0, 2);	/* used again for sessions 2 and 3 */
	mc_list_free(l);
	spin(100);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	log = slurp(logp);
	assert_non_null(strstr(log, "id=Q1 stage=eom from=<a@example.com> account=alice verdict=accept"));
	assert_non_null(strstr(log, "id=Q2 stage=eom from=<a@example.com> account=- verdict=reject "
	    "rule=subject_present reply=\"554 5.6.0 Subject not present\""));
	assert_non_null(strstr(log, "id=Q3 stage=eom from=<a@example.com> account=- verdict=accept"));
	for (i = 0; bad[i]; i++)
		if (strstr(log, bad[i]) != NULL)
			fail_msg("postern-milter log has \"%s\":\n%s", bad[i], log);
	/* Without modules it asked not to be sent connect, HELO, RCPT and EOH (0x1, 0x2, 0x8, 0x40). */
	assert_non_null(p = strstr(log, "negotiated actions="));
	assert_int_equal(sscanf(p, "negotiated actions=%lx steps=%lx", &acts, &steps), 2);
	assert_int_equal(steps & 0x4b, 0x4b);
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_rcpt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replbody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_milters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postern_milter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opendkim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postern_milter_reuse, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
