/*
 * test_engine_modules.c - custom modules through the engine: verdict
 * semantics (default replies, reply validation, ACCEPT/DISCARD, per-recipient
 * refusal, connection decisions, later modules not called), the API seen by a
 * module, the loader's errors, unknown keys with file:line, SIGHUP reload
 * with transactions in flight, threads, and a large message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "engine_harness.h"

static void
test_module_verdicts(void **state)
{
	policy_engine *e;
	engine_session *s;
	engine_result r;
	const char *const *names, *const *values;
	char line[640], conf[1024];

	(void)state;
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = eoh\n"
	    "verdict_verdict = reject\nverdict_code = 554\nverdict_xcode = 5.7.0\n"
	    "verdict_text = Custom \xc3\xa9 no\n");
	check(e, CLEAN, "554 5.7.0 Custom ?? no");
	/* A built-in rule is earlier: its reply wins even though it fails later (at EOM). */
	check(e, HDRS "\n", "554 5.6.0 Body not present");
	engine_free(e);

	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = part_end\n"
	    "verdict_verdict = reject\n");
	check(e, CLEAN, "550 5.7.1 Message rejected by policy");
	engine_free(e);
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = eom\n"
	    "verdict_verdict = tempfail\n");
	check(e, CLEAN, "451 4.7.1 Temporary policy failure, try again later");
	engine_free(e);
	/* A reply of the wrong class, or malformed, gives way to the default. */
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = eom\n"
	    "verdict_verdict = reject\nverdict_code = 451\nverdict_xcode = 4.1.1\n");
	check(e, CLEAN, "550 5.7.1 Message rejected by policy");
	engine_free(e);
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = eom\n"
	    "verdict_verdict = reject\nverdict_code = 550\nverdict_xcode = 4.1.1\n");
	check(e, CLEAN, "550 5.7.1 Message rejected by policy");
	engine_free(e);
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = part_data\n"
	    "verdict_verdict = discard\n");
	check(e, CLEAN, "discard");
	engine_free(e);
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = mail\n"
	    "verdict_verdict = reject\nverdict_code = 553\nverdict_xcode = 5.1.8\nverdict_text = Bad\n");
	check(e, CLEAN, "553 5.1.8 Bad");
	engine_free(e);

	/* ACCEPT at MAIL: later modules are not asked, earlier (built-in) ones still decide. */
	e = engine_ok("policy_modules = " MOD("verdict") ", " MOD("verdict2") "\n"
	    "verdict_stage = mail\nverdict_verdict = accept\n");
	check(e, "From: alice@example.com\n\nb\n", "554 5.6.0 Subject not present");
	s = engine_session_new(e);
	engine_connect(s, "localhost", "127.0.0.1", &r);
	run_on(s, "alice@example.com", NULL, CLEAN, 65536, line, sizeof(line));
	assert_string_equal(line, "accept");
	assert_int_equal(engine_added_headers(s, &names, &values), 0);	/* neither eom ran */
	engine_session_free(s);
	engine_free(e);

	/* Both run: their headers tell what they saw through the API. */
	snprintf(conf, sizeof(conf), "%spolicy_modules = %s, %s\n", accounts_conf(),
	    MOD("verdict"), MOD("verdict2"));
	e = engine_ok(conf);
	s = engine_session_new(e);
	engine_connect(s, "localhost", "192.0.2.7", &r);
	engine_helo(s, "client.example", &r);
	run_on(s, "alice@example.com", "alice", CLEAN, 65536, line, sizeof(line));
	assert_string_equal(line, "accept");
	assert_int_equal(engine_added_headers(s, &names, &values), 2);
	assert_string_equal(names[0], "X-verdict");
	assert_string_equal(values[0], "sender=alice@example.com rcpts=1 first=rcpt@example.net "
	    "account=alice helo=client.example client=192.0.2.7 reloads=0 parts=1 bytes=19 "
	    "types=text/plain");
	assert_string_equal(names[1], "X-verdicttwo");
	/* A refused message gets no headers. */
	run_on(s, "alice@example.com", NULL, HDRS "\n", 65536, line, sizeof(line));
	assert_int_equal(engine_added_headers(s, &names, &values), 0);
	engine_session_free(s);
	engine_free(e);

	/* RCPT refusal is per recipient: the transaction goes on. */
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = rcpt\n"
	    "verdict_verdict = reject\nverdict_code = 550\nverdict_xcode = 5.1.1\nverdict_text = No\n");
	s = engine_session_new(e);
	engine_mail(s, "alice@example.com", &r);
	assert_int_equal(r.verdict, POSTERN_CONTINUE);
	engine_rcpt(s, "x@example.net", &r);
	assert_int_equal(r.verdict, POSTERN_REJECT);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.rule, "verdict");
	engine_abort(s);
	engine_session_free(s);
	engine_free(e);

	/* A connect refusal holds for the connection; the body is not needed. */
	e = engine_ok("policy_modules = " MOD("verdict") "\nverdict_stage = connect\n"
	    "verdict_verdict = tempfail\n");
	s = engine_session_new(e);
	engine_connect(s, "localhost", "127.0.0.1", &r);
	assert_int_equal(r.verdict, POSTERN_TEMPFAIL);
	engine_mail(s, "alice@example.com", &r);
	assert_string_equal(r.text, "Temporary policy failure, try again later");
	engine_session_free(s);
	engine_free(e);
}

static void
test_body_skip(void **state)
{
	policy_engine *e = engine_ok("");
	engine_session *s = engine_session_new(e);
	engine_result r;

	(void)state;
	assert_true(engine_wants_body(e));
	engine_mail(s, "alice@example.com", &r);
	engine_header(s, "From", "alice@example.com", &r);
	engine_eoh(s, &r);
	assert_int_equal(engine_body(s, "x\r\n", 3, &r), 0);	/* built-ins read the body */
	engine_eom(s, &r);
	/* MAIL refused: the transaction is over, no body byte matters. */
	engine_mail(s, "", &r);
	assert_int_equal(r.verdict, POSTERN_REJECT);
	assert_int_equal(engine_body(s, "x\r\n", 3, &r), 1);
	engine_eom(s, &r);
	assert_int_equal(r.verdict, POSTERN_CONTINUE);
	engine_session_free(s);
	engine_free(e);
}

static void
expect_error(const char *conf, const char *want)
{
	char err[512] = "";

	assert_null(engine_from(conf, err, sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
test_loader_errors(void **state)
{
	char want[512];

	(void)state;
	expect_error("policy_modules = " MOD("nosym") "\n",
	    "module " MOD("nosym") ": missing symbol postern_policy_module");
	expect_error("policy_modules = " MOD("badabi") "\n",
	    "module " MOD("badabi") ": ABI mismatch (expected 1, module has 99)");
	expect_error("policy_modules = " MOD("initfail") "\n",
	    "module " MOD("initfail") ": init failed: initfail_needed is not set");
	expect_error("policy_modules = " MOD("badname") "\n",
	    "module " MOD("badname") ": bad name \"Bad_Name\"");
	expect_error("policy_modules = " MOD("missing") "\n",
	    "module " MOD("missing") ": cannot open: ");
	expect_error("policy_modules = " MOD("verdict") "," MOD("verdict") "\n",
	    "name \"verdict\" already used by module " MOD("verdict"));
	expect_error("policy_modules = " MOD("verdict") "\nverdict_verdict = maybe\n",
	    "init failed: bad verdict_verdict \"maybe\"");
	/* Unknown keys name file and line, whether or not a module of that name is loaded. */
	snprintf(want, sizeof(want), "%s/%u-postern.conf:3: verdict_bogus: unknown key", harness_tmpdir, harness_nfiles);
	expect_error("policy_modules = " MOD("verdict") "\n# c\nverdict_bogus = 1\n", want);
	snprintf(want, sizeof(want), "%s/%u-postern.conf:1: nomod_key: unknown key", harness_tmpdir, harness_nfiles);
	expect_error("nomod_key = 1\n", want);
	/* Built-in rules claim nothing either. */
	expect_error("alignment_mode = x\n", "alignment_mode: unknown key");
}

static void
test_reload(void **state)
{
	char *path = write_file("r.conf", "policy_modules = " MOD("verdict") ", " MOD("verdict2") "\n");
	char *path2 = write_file("r2.conf", "policy_modules = " MOD("verdict") ", " MOD("verdict2") "\n"
	    "verdicttwo_stage = eom\nverdicttwo_verdict = reject\nverdicttwo_code = 554\n"
	    "verdicttwo_xcode = 5.7.0\nverdicttwo_text = New generation\n");
	char err[512] = "", line[640];
	postern_config *cfg = config_load(path, 0, err, sizeof(err));
	policy_engine *e = engine_new(cfg, err, sizeof(err));
	engine_session *old = engine_session_new(e), *s;
	const char *const *n, *const *v;
	engine_result r;

	(void)state;
	assert_non_null(e);
	config_free(cfg);
	engine_mail(old, "alice@example.com", &r);
	cfg = config_load(path2, 0, err, sizeof(err));
	if (engine_reload(e, cfg, err, sizeof(err)) != 0)
		fail_msg("reload: %s", err);
	config_free(cfg);
	/*
	 * The transaction in flight keeps its generation: verdicttwo (no
	 * reload(), so re-initialised in the new one) still has no stage;
	 * verdict has reload() and was reloaded in place, shared by both.
	 */
	engine_header(old, "From", "alice@example.com", &r);
	engine_header(old, "Subject", "s", &r);
	engine_eoh(old, &r);
	engine_body(old, "b\r\n", 3, &r);
	engine_eom(old, &r);
	assert_int_equal(r.verdict, POSTERN_CONTINUE);
	assert_int_equal(engine_added_headers(old, &n, &v), 2);
	assert_non_null(strstr(v[0], "reloads=1"));
	/* The next transaction of the same session gets the new generation. */
	run_on(old, "alice@example.com", NULL, CLEAN, 65536, line, sizeof(line));
	assert_string_equal(line, "554 5.7.0 New generation");
	engine_session_free(old);
	cfg = config_load(path, 0, err, sizeof(err));
	assert_int_equal(engine_reload(e, cfg, err, sizeof(err)), 0);
	config_free(cfg);
	s = engine_session_new(e);
	run_on(s, "alice@example.com", NULL, CLEAN, 65536, line, sizeof(line));
	assert_string_equal(line, "accept");
	assert_int_equal(engine_added_headers(s, &n, &v), 2);
	assert_non_null(strstr(v[0], "reloads=2"));	/* the same verdict object all along */
	assert_non_null(strstr(v[1], "reloads=0"));	/* verdicttwo: a fresh init each time */
	engine_session_free(s);
	/* A failed reload keeps the running generation. */
	free(path2);
	path2 = write_file("r3.conf", "policy_modules = " MOD("initfail") "\n");
	cfg = config_load(path2, 0, err, sizeof(err));
	assert_int_equal(engine_reload(e, cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "init failed"));
	config_free(cfg);
	check(e, CLEAN, "accept");
	engine_free(e);
	free(path);
	free(path2);
}

/*
 * A module added by SIGHUP joins an open session at its next MAIL with the
 * connect and HELO calls it missed: its HELO refusal holds there, as it would
 * in a session started after the reload (issue 19: it was only half active).
 */
static void
test_reload_added_module_gets_every_hook(void **state)
{
	char *path = write_file("a.conf", "policy_modules = " MOD("verdict") "\n");
	char *path2 = write_file("a2.conf", "policy_modules = " MOD("verdict") ", " MOD("verdict2") "\n"
	    "verdicttwo_stage = helo\nverdicttwo_verdict = reject\nverdicttwo_code = 550\n"
	    "verdicttwo_xcode = 5.7.1\nverdicttwo_text = HELO refused by the new module\n");
	char err[512] = "", line[640];
	postern_config *cfg = config_load(path, 0, err, sizeof(err));
	policy_engine *e = engine_new(cfg, err, sizeof(err));
	engine_session *open_before, *after;
	engine_result r;

	(void)state;
	assert_non_null(e);
	config_free(cfg);
	open_before = engine_session_new(e);
	engine_connect(open_before, "client.example", "192.0.2.7", &r);
	engine_helo(open_before, "client.example", &r);
	assert_int_equal(r.verdict, POSTERN_CONTINUE);
	cfg = config_load(path2, 0, err, sizeof(err));
	if (engine_reload(e, cfg, err, sizeof(err)) != 0)
		fail_msg("reload: %s", err);
	config_free(cfg);
	engine_mail(open_before, "alice@example.com", &r);
	result_line(&r, line, sizeof(line));
	assert_string_equal(line, "550 5.7.1 HELO refused by the new module");
	/* The same for a session that starts after the reload. */
	after = engine_session_new(e);
	engine_connect(after, "client.example", "192.0.2.7", &r);
	engine_helo(after, "client.example", &r);
	engine_mail(after, "alice@example.com", &r);
	result_line(&r, line, sizeof(line));
	assert_string_equal(line, "550 5.7.1 HELO refused by the new module");
	engine_session_free(open_before);
	engine_session_free(after);
	engine_free(e);
	free(path);
	free(path2);
}

/* Megabytes in, fixed state: the verdict comes and nothing is kept (ASan/valgrind watch). */
static void
test_large_message(void **state)
{
	policy_engine *e = engine_ok("");
	engine_session *s = engine_session_new(e);
	engine_result r;
	char chunk[65536];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (i % 77 == 76) ? '\n' : 'A';
	chunk[sizeof(chunk) - 2] = '\r';
	chunk[sizeof(chunk) - 1] = '\n';
	engine_mail(s, "alice@example.com", &r);
	engine_header(s, "From", "alice@example.com", &r);
	engine_header(s, "Subject", "big", &r);
	engine_header(s, "Content-Type", "multipart/mixed; boundary=\"b\"", &r);
	engine_eoh(s, &r);
	{
		static const char head[] = "--b\r\nContent-Type: application/octet-stream\r\n"
		    "Content-Disposition: attachment; filename=big.bin\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n";
		engine_body(s, head, sizeof(head) - 1, &r);
	}
	for (i = 0; i < 64; i++)
		assert_int_equal(engine_body(s, chunk, sizeof(chunk), &r), 0);
	engine_body(s, "\r\n--b--\r\n", 9, &r);
	engine_eom(s, &r);
	assert_int_equal(r.verdict, POSTERN_CONTINUE);
	engine_session_free(s);
	engine_free(e);
}

/*
 * Sessions on several threads while the main thread reloads: libmagic
 * handles come from the engine's pool, generations are refcounted, and a verdict is
 * always one of the two configurations' (ASan and valgrind watch the rest).
 */
struct thread_arg {
	policy_engine *e;
	const char *msg;
	int bad;
};

static void *
thread_run(void *p)
{
	struct thread_arg *a = p;
	char line[640];
	int i;

	for (i = 0; i < 40; i++) {
		engine_session *s = engine_session_new(a->e);
		run_on(s, "alice@example.com", NULL, a->msg, 4096, line, sizeof(line));
		engine_session_free(s);
		if (strcmp(line, "accept") != 0 && strcmp(line, "554 5.7.0 Flip") != 0 &&
		    strcmp(line, "554 5.6.0 Attachment type not allowed (invoice.pdf: "
		    "application/x-sharedlib)") != 0)
			a->bad++;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	char *path[2], err[512];
	struct thread_arg args[4];
	pthread_t tid[4];
	unsigned char *elf;
	char *attach;
	size_t elflen;
	policy_engine *e;
	int i;

	(void)state;
	path[0] = write_file("t0.conf", "policy_modules = " MOD("verdict") ", " MOD("verdict2") "\n");
	path[1] = write_file("t1.conf", "policy_modules = " MOD("verdict2") ", " MOD("verdict") "\n"
	    "verdict_stage = eom\nverdict_verdict = reject\nverdict_code = 554\n"
	    "verdict_xcode = 5.7.0\nverdict_text = Flip\n");
	e = engine_ok("policy_modules = " MOD("verdict") ", " MOD("verdict2") "\n");
	elf = slurp("/bin/true", 8192, &elflen);
	attach = with_attachment("invoice.pdf", "application/pdf", elf, elflen);
	for (i = 0; i < 4; i++) {
		args[i].e = e;
		args[i].msg = i % 2 ? attach : CLEAN;
		args[i].bad = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, thread_run, &args[i]), 0);
	}
	for (i = 0; i < 20; i++) {
		postern_config *cfg = config_load(path[i % 2], 0, err, sizeof(err));
		assert_non_null(cfg);
		if (engine_reload(e, cfg, err, sizeof(err)) != 0)
			fail_msg("reload: %s", err);
		config_free(cfg);
		usleep(2000);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
	engine_free(e);
	free(attach);
	free(elf);
	free(path[0]);
	free(path[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_verdicts),
		cmocka_unit_test(test_body_skip),
		cmocka_unit_test(test_loader_errors),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_reload_added_module_gets_every_hook),
		cmocka_unit_test(test_large_message),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
