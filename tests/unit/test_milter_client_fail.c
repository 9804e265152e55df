/*
 * test_milter_client_fail.c - the milter client when milters fail or are
 * slow: silent, crashing, unreachable, garbage-speaking (a raw socket
 * server), a full socket, each reported once by its kind through the
 * failure hook; plus the message stream's bounds (SKIP, pauses)
 * and connection reuse with SMFIC_QUIT_NC against real libmilter.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* --- what the failure hook reported (mc_set_failure_hook): one count per kind */

static unsigned fails[MC_FAIL_KINDS];
static char fail_milter[200];

static void
on_failure(const char *milter, enum mc_fail_kind kind)
{
	assert_true(kind < MC_FAIL_KINDS);
	fails[kind]++;
	snprintf(fail_milter, sizeof(fail_milter), "%s", milter);
}

static void
fails_reset(void)
{
	memset(fails, 0, sizeof(fails));
	fail_milter[0] = '\0';
}

/* Exactly n failures of kind since fails_reset(), and none of any other kind. */
static void
assert_fails(enum mc_fail_kind kind, unsigned n, const char *what)
{
	for (int k = 0; k < MC_FAIL_KINDS; k++)
		if (fails[k] != (k == (int)kind ? n : 0))
			fail_msg("%s: %u failure(s) of kind %s, want %u", what, fails[k],
			    mc_fail_kind_name((enum mc_fail_kind)k), k == (int)kind ? n : 0);
}

struct fail_case {
	const char *mode;
	const char *def;
	enum mc_action act;
	const char *reply;
	int close;
	int kind;		/* the failure reported, or -1: none */
};

/* Silent, dying and slow-but-alive milters under each default action. */
static const struct fail_case fail_cases[] = {
	{ "hang", "tempfail", MC_CLOSE, "421 4.3.2 Service not available", 1, MC_FAIL_TIMEOUT },
	{ "hang", "reject", MC_REJECT, "550 5.7.1 Message rejected by policy", 0, MC_FAIL_TIMEOUT },
	{ "hang", "accept", MC_CONTINUE, "", 0, MC_FAIL_TIMEOUT },
	{ "crash_body", "tempfail", MC_CLOSE, "421 4.3.2 Service not available", 1, MC_FAIL_CLOSED },
	{ "crash_body", "accept", MC_CONTINUE, "", 0, MC_FAIL_CLOSED },
	{ "progress", "tempfail", MC_CONTINUE, "", 0, -1 },
};

static void
test_failures(void **state)
{
	size_t i;
	mc_list *l;
	mc_session *s;
	char spec[256];

	(void)state;
	for (i = 0; i < sizeof(fail_cases) / sizeof(fail_cases[0]); i++) {
		const struct fail_case *c = &fail_cases[i];

		start_filter(c->mode);
		/* The per-milter form: braces with default_action, like Postfix. */
		snprintf(spec, sizeof(spec), "{ unix:%s, default_action=%s, timeout=1s }", sock, c->def);
		l = list_of(spec, 30, "tempfail", 0);
		s = mc_session_new(l, base, on_verdict, on_ready, NULL);
		fails_reset();
		envelope(s);
		message(s, msg, MSG_LEN, 100);
		if (V.act != c->act || strcmp(V.reply, c->reply) != 0 || V.close != c->close)
			fail_msg("%s/%s: got %d \"%s\" close %d", c->mode, c->def, V.act, V.reply, V.close);
		/* Silent: timeout; died: closed; slow but saying so: nothing. */
		if (c->kind >= 0) {
			assert_fails((enum mc_fail_kind)c->kind, 1, c->mode);
			snprintf(spec, sizeof(spec), "unix:%s", sock);
			assert_string_equal(fail_milter, spec);
		} else {
			assert_fails(MC_FAIL_CONNECT, 0, c->mode);
		}
		if (c->act == MC_CONTINUE && strcmp(c->mode, "progress") != 0)
			assert_true(V.mods == NULL || V.mods->n == 0);	/* a failed milter's edits are dropped */
		if (c->act == MC_CLOSE) {
			/* Sticky: the session is over for the milters. */
			VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CLOSE);
		}
		mc_session_free(s);
		mc_list_free(l);
		stop_filter();
	}
}

/* Nothing listens: envelope steps go on, DATA gets the 421 (the table's stage). */
static void
test_unreachable(void **state)
{
	mc_list *l;
	mc_session *s;
	char spec[200];

	(void)state;
	snprintf(spec, sizeof(spec), "unix:%s/nobody.sock", dir);
	l = list_of(spec, 2, "tempfail", 0);
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	fails_reset();
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_helo(s, "c", NULL), MC_CONTINUE);
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q1"), MC_CLOSE);
	assert_string_equal(V.reply, "421 4.3.2 Service not available");
	assert_true(V.close);
	/* Once for the session: the milter is not tried again at each step. */
	assert_fails(MC_FAIL_CONNECT, 1, "unreachable");
	assert_string_equal(fail_milter, spec);
	mc_session_free(s);
	mc_list_free(l);
	/* default_action=reject: 550 at DATA, the session stays. */
	l = list_of(spec, 2, "reject", 0);
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
	VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
	VERDICT(mc_data(s, "Q1"), MC_REJECT);
	assert_string_equal(V.reply, "550 5.7.1 Message rejected by policy");
	assert_false(V.close);
	assert_fails(MC_FAIL_CONNECT, 2, "unreachable, second session");
	mc_session_free(s);
	mc_list_free(l);
}

/* A TCP port nobody listens on: refused, kind connect, once per session. */
static void
test_refused_tcp(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	mc_list *l;
	mc_session *s;
	char spec[64];
	int fd;

	(void)state;
	/* A port the kernel just gave out and took back: nobody listens there. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(spec, sizeof(spec), "inet:127.0.0.1:%u", ntohs(sin.sin_port));
	l = list_of(spec, 5, "accept", 0);
	fails_reset();
	for (int i = 1; i <= 3; i++) {
		s = mc_session_new(l, base, on_verdict, on_ready, NULL);
		VERDICT(mc_connect(s, &client), MC_CONTINUE);
		VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
		VERDICT(mc_data(s, "Q1"), MC_CONTINUE);
		mc_session_free(s);
		assert_fails(MC_FAIL_CONNECT, (unsigned)i, "refused");
	}
	assert_string_equal(fail_milter, spec);
	mc_list_free(l);
}

/* A socket in a directory anyone may write: the owner check refuses it (kind owner). */
static void
test_owner_refused(void **state)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct mc_options o = { .timeout_s = 5, .default_action = "tempfail", .check_owner = 1,
	    .owner_uid = -1 };
	char sub[100], spec[160], err[200];
	mc_list *l;
	mc_session *s;
	int lfd;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/open", dir);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/m.sock", sub);
	assert_true((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&un, sizeof(un)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(spec, sizeof(spec), "unix:%s", un.sun_path);
	assert_non_null(l = mc_list_parse(spec, &o, err, sizeof(err)));
	fails_reset();
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
	VERDICT(mc_data(s, "Q1"), MC_CLOSE);
	assert_fails(MC_FAIL_OWNER, 1, "owner");
	mc_session_free(s);
	mc_list_free(l);
	close(lfd);
	unlink(un.sun_path);
	rmdir(sub);
}

/* --- a milter that speaks garbage: a raw socket server */

struct garbage {
	int lfd;
	const uint8_t *optneg;	/* reply to OPTNEG */
	size_t optneg_len;
	const uint8_t *after;	/* reply to the first packet after OPTNEG */
	size_t after_len;
};

static int
read_packet(int fd, uint8_t *cmd)
{
	uint8_t hdr[5], buf[65536];
	uint32_t len;
	size_t got = 0, want;
	ssize_t n;

	while (got < 5) {
		if ((n = read(fd, hdr + got, 5 - got)) <= 0)
			return -1;
		got += (size_t)n;
	}
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	*cmd = hdr[4];
	for (want = len - 1; want > 0; want -= (size_t)n)
		if ((n = read(fd, buf, want > sizeof(buf) ? sizeof(buf) : want)) <= 0)
			return -1;
	return 0;
}

static void *
garbage_thread(void *arg)
{
	struct garbage *g = arg;
	uint8_t cmd;
	int fd, replied = 0;

	if ((fd = accept(g->lfd, NULL, NULL)) < 0)
		return NULL;
	while (read_packet(fd, &cmd) == 0) {
		if (cmd == SMFIC_OPTNEG) {
			if (write(fd, g->optneg, g->optneg_len) < 0)
				break;
		} else if (cmd != SMFIC_MACRO && !replied) {
			replied = 1;
			if (g->after_len && write(fd, g->after, g->after_len) < 0)
				break;
		}
	}
	close(fd);
	return NULL;
}

#define OPTNEG_OK	"\0\0\0\x0dO\0\0\0\x06\0\0\0\0\0\0\0\0"

struct garbage_case {
	const char *what;
	const char *optneg;
	size_t optneg_len;
	const char *after;
	size_t after_len;
};

#define GC(w, o, a) { w, o, sizeof(o) - 1, a, sizeof(a) - 1 }
static const struct garbage_case garbage_cases[] = {
	GC("version 99", "\0\0\0\x0dO\0\0\0\x63\0\0\0\0\0\0\0\0", ""),
	GC("actions beyond ours", "\0\0\0\x0dO\0\0\0\x06\0\0\x10\0\0\0\0\0", ""),
	GC("not OPTNEG", "\0\0\0\x01" "c", ""),
	GC("short OPTNEG", "\0\0\0\x05O\0\0\0\x06", ""),
	GC("zero length", OPTNEG_OK, "\0\0\0\0"),
	GC("huge length", OPTNEG_OK, "\x7f\xff\xff\xff" "c"),
	GC("unknown reply", OPTNEG_OK, "\0\0\0\x01Z"),
	GC("CONTINUE with data", OPTNEG_OK, "\0\0\0\x02" "cx"),
	GC("REPLYCODE no NUL", OPTNEG_OK, "\0\0\0\x05y550 "),
	GC("REPLYCODE 250", OPTNEG_OK, "\0\0\0\x0ay250 okay\0"),
	GC("REPLYCODE bare LF", OPTNEG_OK, "\0\0\0\x0dy550 a\n550 b\0"),
	GC("edit outside EOM", OPTNEG_OK, "\0\0\0\x05hA\0b\0"),
};

static void
test_garbage(void **state)
{
	size_t i;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct garbage g;
	pthread_t t;
	mc_list *l;
	mc_session *s;
	char spec[200];

	(void)state;
	for (i = 0; i < sizeof(garbage_cases) / sizeof(garbage_cases[0]); i++) {
		const struct garbage_case *c = &garbage_cases[i];

		snprintf(un.sun_path, sizeof(un.sun_path), "%s/g%zu.sock", dir, i);
		g.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(g.lfd, (struct sockaddr *)&un, sizeof(un)), 0);
		assert_int_equal(listen(g.lfd, 4), 0);
		g.optneg = (const uint8_t *)c->optneg;
		g.optneg_len = c->optneg_len;
		g.after = (const uint8_t *)c->after;
		g.after_len = c->after_len;
		pthread_create(&t, NULL, garbage_thread, &g);
		snprintf(spec, sizeof(spec), "unix:%s", un.sun_path);
		l = list_of(spec, 2, "tempfail", 0);
		s = mc_session_new(l, base, on_verdict, on_ready, NULL);
		fails_reset();
		VERDICT(mc_connect(s, &client), MC_CONTINUE);
		VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
		CALL(mc_data(s, "Q1"));
		if (V.act != MC_CLOSE || strcmp(V.reply, "421 4.3.2 Service not available") != 0)
			fail_msg("%s: got %d \"%s\"", c->what, V.act, V.reply);
		assert_fails(MC_FAIL_PROTOCOL, 1, c->what);
		mc_session_free(s);
		mc_list_free(l);
		shutdown(g.lfd, SHUT_RDWR);
		close(g.lfd);
		pthread_join(t, NULL);
	}
}

/* --- connection reuse */

static void
one_session(mc_list *l, const char *want_xtest, int with_message)
{
	mc_session *s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	const struct mc_mod *m;

	VERDICT(mc_connect(s, &client), MC_CONTINUE);
	VERDICT(mc_helo(s, "c", NULL), MC_CONTINUE);
	if (with_message) {
		VERDICT(mc_mail(s, from_argv, NULL, NULL, NULL), MC_CONTINUE);
		VERDICT(mc_rcpt(s, rcpt_argv), MC_CONTINUE);
		VERDICT(mc_data(s, "Q1"), MC_CONTINUE);
		message(s, msg, MSG_LEN, 100);
		assert_int_equal(V.act, MC_CONTINUE);
		assert_non_null(m = find_mod(MC_MOD_ADD_HEADER, "X-Test"));
		assert_string_equal(m->value, want_xtest);
	}
	mc_session_free(s);
}

static void
test_reuse(void **state)
{
	mc_list *l;
	uint64_t c0, r0, c1, r1;
	char spec[200], err[200];
	int q0;
	struct mc_options o = { .timeout_s = 5, .default_action = "tempfail" };	/* reuse = 0 */

	(void)state;
	start_filter("record");
	mc_stats(&c0, &r0);
	l = filter_list(5, "tempfail", 4);
	spin(100);
	q0 = rec_count("Q ");		/* start_filter()'s probe connection */
	one_session(l, " negotiations=1 connects=1", 1);
	/* The QUIT_NC is owed, not sent: the milter's session is not closed yet. */
	spin(100);
	assert_int_equal(rec_count("Q "), q0);
	one_session(l, " negotiations=1 connects=2", 1);
	spin(100);
	assert_int_equal(rec_count("Q "), q0 + 1);	/* session 1 closed as session 2 began */
	one_session(l, "", 0);			/* no message: ended through UNKNOWN + QUIT_NC */
	one_session(l, " negotiations=1 connects=4", 1);
	mc_stats(&c1, &r1);
	assert_int_equal(c1 - c0, 1);
	assert_int_equal(r1 - r0, 3);
	spin(100);
	assert_int_equal(rec_count("Q "), q0 + 3);
	mc_list_free(l);			/* the pooled socket leaves with QUIT */
	spin(100);
	assert_int_equal(rec_count("Q "), q0 + 4);
	assert_int_equal(rec_count("U QUIT"), 1);
	stop_filter();
	/* reuse=no: every session negotiates on a socket of its own. */
	start_filter("record");
	snprintf(spec, sizeof(spec), "{ unix:%s, reuse=no }", sock);
	l = list_of(spec, 5, "tempfail", 4);
	one_session(l, " negotiations=1 connects=1", 1);
	one_session(l, " negotiations=2 connects=2", 1);
	mc_list_free(l);
	stop_filter();
	/*
	 * postern-smtpd's defaults (milter_reuse = no, a pool): no reuse either;
	 * reuse=yes on the milter turns it on.
	 */
	start_filter("record");
	o.pool_max = MC_POOL_MAX_DEFAULT;
	snprintf(spec, sizeof(spec), "unix:%s", sock);
	assert_non_null(l = mc_list_parse(spec, &o, err, sizeof(err)));
	one_session(l, " negotiations=1 connects=1", 1);
	one_session(l, " negotiations=2 connects=2", 1);
	mc_list_free(l);
	snprintf(spec, sizeof(spec), "{ unix:%s, reuse=yes }", sock);
	assert_non_null(l = mc_list_parse(spec, &o, err, sizeof(err)));
	one_session(l, " negotiations=3 connects=3", 1);
	one_session(l, " negotiations=3 connects=4", 1);
	mc_list_free(l);
}

/* A pooled connection the milter dropped meanwhile: the next session reconnects unseen. */
static void
test_reuse_stale(void **state)
{
	mc_list *l;

	(void)state;
	start_filter("record");
	l = filter_list(5, "tempfail", 4);
	one_session(l, " negotiations=1 connects=1", 1);
	stop_filter();
	start_filter("record");
	fails_reset();
	one_session(l, " negotiations=1 connects=1", 1);
	/* The stale socket replaced unseen is no failure of the milter. */
	assert_fails(MC_FAIL_CONNECT, 0, "stale pooled socket");
	mc_list_free(l);
}

static void
test_skip(void **state)
{
	mc_list *l;
	mc_session *s;
	char *big;
	size_t n = 300000;

	(void)state;
	big = big_message(n, 'x');
	s = filter_session("skip", &l);
	envelope(s);
	message(s, big, n, 16384);
	assert_int_equal(V.act, MC_CONTINUE);
	end_session(s, l);
	free(big);
	assert_int_equal(rec_count("B "), 1);
}

/* A big message in small pieces: mc_body asks for a pause, on_ready resumes; nothing lost. */
static void
test_backpressure(void **state)
{
	mc_list *l;
	mc_session *s;
	char *big, *r, *p;
	size_t n = 3 << 20, off, body = 0, hl = strlen("Subject: x\r\n\r\n");
	int waits = 0;

	(void)state;
	big = big_message(n, 'y');
	s = filter_session("nobody", &l);	/* headers and body not wanted: dropped unread */
	envelope(s);
	message(s, big, n, 16384);
	assert_int_equal(V.act, MC_CONTINUE);
	end_session(s, l);
	stop_filter();
	assert_int_equal(rec_count("B "), 0);

	start_filter("record");
	l = filter_list(10, "tempfail", 0);
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	envelope(s);
	for (off = 0; off < n; off += 16384) {
		if (mc_body(s, big + off, n - off < 16384 ? n - off : 16384)) {
			int before = ready_calls;

			waits++;
			while (ready_calls == before)
				event_base_loop(base, EVLOOP_ONCE);
		}
	}
	CALL(mc_eom(s));
	assert_int_equal(V.act, MC_CONTINUE);
	assert_true(waits > 0);
	mc_session_free(s);
	mc_list_free(l);
	spin(200);
	/* Every body byte reached the milter, in chunks of at most 65535. */
	r = slurp(rec_file);
	for (p = strstr(r, "\nB "); p; p = strstr(p + 1, "\nB ")) {
		size_t k = strcspn(p + 3, "\n");

		assert_true(k <= 65535);
		body += k;
	}
	assert_int_equal(body, n - hl);
	free(r);
	free(big);
}

/* A milter that stops reading (no replies negotiated): the write deadline ends the wait. */
static void
test_stall(void **state)
{
	mc_list *l;
	mc_session *s;
	char *big;
	size_t n = 8 << 20, off;
	time_t end = time(NULL) + 20;

	(void)state;
	start_filter("stall");
	big = big_message(n, 'z');
	l = filter_list(1, "tempfail", 0);
	s = mc_session_new(l, base, on_verdict, on_ready, NULL);
	fails_reset();
	envelope(s);
	for (off = 0; off < n; off += 65536) {
		if (mc_body(s, big + off, n - off < 65536 ? n - off : 65536)) {
			int before = ready_calls;

			while (ready_calls == before && time(NULL) < end)
				spin(50);
			assert_true(ready_calls > before);
		}
	}
	CALL(mc_eom(s));
	assert_int_equal(V.act, MC_CLOSE);
	assert_string_equal(V.reply, "421 4.3.2 Service not available");
	/* It stopped reading: slow, not gone. */
	assert_true(fails[MC_FAIL_TIMEOUT] == 1 && fails[MC_FAIL_CLOSED] == 0);
	mc_session_free(s);
	mc_list_free(l);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	mc_set_failure_hook(on_failure);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
