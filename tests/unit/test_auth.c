/* test_auth.c - frontend/auth.c: PLAIN/LOGIN decoding tables and the crypt(3) pool (backoff: test_auth_backoff.c). */
#include <crypt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "accounts.h"
#include "auth.h"

/* ------------------------------------------------------------ base64 helper */

/* Plain RFC 4648 encoder for building inputs; out must hold 4 * ((len + 2) / 3) + 1. */
static void
b64(const void *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = in;
	size_t i;

	for (i = 0; i + 2 < len; i += 3, out += 4) {
		out[0] = a[s[i] >> 2];
		out[1] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
		out[2] = a[(s[i + 1] & 15) << 2 | s[i + 2] >> 6];
		out[3] = a[s[i + 2] & 63];
	}
	if (len - i == 1) {
		out[0] = a[s[i] >> 2];
		out[1] = a[(s[i] & 3) << 4];
		out[2] = out[3] = '=';
		out += 4;
	} else if (len - i == 2) {
		out[0] = a[s[i] >> 2];
		out[1] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
		out[2] = a[(s[i + 1] & 15) << 2];
		out[3] = '=';
		out += 4;
	}
	*out = '\0';
}

/* --------------------------------------------------------------- mechanisms */

static void
test_mech_parse(void **state)
{
	static const struct { const char *in; enum auth_mech want; } t[] = {
		{ "PLAIN", AUTH_MECH_PLAIN }, { "plain", AUTH_MECH_PLAIN },
		{ "Login", AUTH_MECH_LOGIN }, { "LOGIN", AUTH_MECH_LOGIN },
		{ "CRAM-MD5", AUTH_MECH_NONE }, { "PLAINX", AUTH_MECH_NONE },
		{ "PLAI", AUTH_MECH_NONE }, { "", AUTH_MECH_NONE }, { NULL, AUTH_MECH_NONE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(auth_mech_parse(t[i].in), t[i].want);
}

/* -------------------------------------------------------------------- PLAIN */

/* Raw PLAIN messages: encoded by the test, so only the SASL layer is under test. */
struct plain_raw {
	const char *name;
	const char *msg;
	size_t len;
	int want;
	const char *authzid, *user, *pass;
};

#define RAW(s)	s, sizeof(s) - 1

static void
test_plain_raw(void **state)
{
	static const struct plain_raw t[] = {
		{ "no authzid", RAW("\0alice\0secret"), 0, "", "alice", "secret" },
		{ "authzid = authcid", RAW("alice\0alice\0secret"), 0, "alice", "alice", "secret" },
		{ "authzid differs", RAW("bob\0alice\0secret"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "authzid case differs", RAW("Alice\0alice\0secret"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "no NUL", RAW("alice secret"), R_AUTH_NO_NUL, NULL, NULL, NULL },
		{ "empty", RAW(""), R_AUTH_NO_NUL, NULL, NULL, NULL },
		{ "one NUL, leading", RAW("\0alice"), R_AUTH_NO_SECOND_NUL, NULL, NULL, NULL },
		{ "one NUL, middle", RAW("alice\0secret"), R_AUTH_NO_SECOND_NUL, NULL, NULL, NULL },
		{ "only a NUL", RAW("\0"), R_AUTH_NO_SECOND_NUL, NULL, NULL, NULL },
		{ "empty user", RAW("\0\0secret"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "empty password", RAW("\0alice\0"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "two NULs only", RAW("\0\0"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "third NUL", RAW("\0alice\0sec\0ret"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "UTF-8 names", RAW("j\xc3\xbcrgen\0j\xc3\xbcrgen\0p\xc3\xa4ss \xe2\x82\xac"), 0,
		    "j\xc3\xbcrgen", "j\xc3\xbcrgen", "p\xc3\xa4ss \xe2\x82\xac" },
		{ "4-byte UTF-8", RAW("\0\xf0\x9f\x93\xa7@x.test\0pw"), 0, "",
		    "\xf0\x9f\x93\xa7@x.test", "pw" },
		{ "Latin-1 password", RAW("\0alice\0p\xe4ss"), 0, "", "alice", "p\xe4ss" },
		{ "bad UTF-8 user", RAW("\0\xff\xfe\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "overlong UTF-8", RAW("\0\xc0\xaf\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "UTF-8 surrogate", RAW("\0\xed\xa0\x80\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "truncated UTF-8", RAW("\0ab\xc3\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "bad UTF-8 authzid", RAW("\x80\0alice\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "CR LF in user", RAW("\0al\r\nice\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "TAB in user", RAW("\0al\tice\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "C1 control in user", RAW("\0a\xc2\x85z\0pw"), R_AUTH_INVALID, NULL, NULL, NULL },
		{ "space in password", RAW("\0alice\0two words"), 0, "", "alice", "two words" },
	};
	char enc[256];
	auth_creds c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r;

		b64(t[i].msg, t[i].len, enc);
		r = auth_plain_decode(enc, strlen(enc), &c);
		if (r != t[i].want)
			fail_msg("%s: got %d, want %d", t[i].name, r, t[i].want);
		if (r == 0) {
			assert_string_equal(c.authzid, t[i].authzid);
			assert_string_equal(c.user, t[i].user);
			assert_string_equal(c.pass, t[i].pass);
		} else {
			/* Failed decodes leave no secret behind. */
			assert_string_equal(c.user, "");
			assert_string_equal(c.pass, "");
		}
	}
}

/* Literal client lines: the base64 layer and the "*" / "=" conventions. */
static void
test_plain_b64(void **state)
{
	static const struct { const char *in; int want; } t[] = {
		{ "AGFsaWNlAHNlY3JldA==", 0 },			/* \0alice\0secret */
		{ "YWxpY2UAYWxpY2UAc2VjcmV0", 0 },		/* no padding needed */
		{ "*", R_AUTH_CANCELED },
		{ "=", R_AUTH_NO_NUL },				/* RFC 4954 empty initial response */
		{ "", R_AUTH_NO_NUL },
		{ "**", R_AUTH_BAD_BASE64 },
		{ "==", R_AUTH_BAD_BASE64 },
		{ "====", R_AUTH_BAD_BASE64 },
		{ "AGFsaWNlAHNlY3JldA", R_AUTH_BAD_BASE64 },	/* padding missing */
		{ "AGFsaWNlAHNlY3JldA=", R_AUTH_BAD_BASE64 },	/* padding short */
		{ "AGFsaWNlAHNlY3JldA===", R_AUTH_BAD_BASE64 },	/* padding long */
		{ "AGFsaWNlAHNlY3JldB==", R_AUTH_BAD_BASE64 },	/* pad bits not zero */
		{ "AGFsaWNlAHNlY3JldA==AAAA", R_AUTH_BAD_BASE64 },	/* data after padding */
		{ "AGFs=WNlAHNlY3JldA==", R_AUTH_BAD_BASE64 },	/* '=' inside */
		{ "AGFsaWNl AHNlY3JldA==", R_AUTH_BAD_BASE64 },	/* space inside */
		{ " AGFsaWNlAHNlY3JldA==", R_AUTH_BAD_BASE64 },
		{ "AGFsaWNlAHNlY3JldA==\r\n", R_AUTH_BAD_BASE64 },
		{ "AGFsaWNl\nAHNlY3JldA==", R_AUTH_BAD_BASE64 },
		{ "AGFsaWNl-HNlY3JldA==", R_AUTH_BAD_BASE64 },	/* base64url alphabet */
		{ "AGFsaWNl_HNlY3JldA==", R_AUTH_BAD_BASE64 },
		{ "AGFsaWNlAHNlY3Jld\xc3\xa4==", R_AUTH_BAD_BASE64 },
		{ "YWxpY2U=", R_AUTH_NO_NUL },			/* "alice" */
		{ "AGFsaWNl", R_AUTH_NO_SECOND_NUL },		/* "\0alice" */
	};
	auth_creds c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = auth_plain_decode(t[i].in, strlen(t[i].in), &c);
		if (r != t[i].want)
			fail_msg("\"%s\": got %d, want %d", t[i].in, r, t[i].want);
	}
	/* The length is what counts: a NUL inside the line is not base64. */
	assert_int_equal(auth_plain_decode("AGFs\0WNl", 8, &c), R_AUTH_BAD_BASE64);
	assert_int_equal(auth_plain_decode("AGFsaWNlAHNlY3JldA==", 8, &c), R_AUTH_NO_SECOND_NUL);
	assert_int_equal(auth_plain_decode("YWxpY2Vz", 4, &c), R_AUTH_NO_NUL);
	assert_int_equal(auth_plain_decode(NULL, 0, &c), R_AUTH_BAD_BASE64);
}

/* Field and line limits. */
static void
test_plain_lengths(void **state)
{
	size_t rawmax = AUTH_B64_MAX / 4 * 3 + 300;
	char *raw = calloc(1, rawmax), *enc = calloc(2, rawmax);
	auth_creds c;
	size_t n;

	(void)state;
	assert_non_null(raw);
	assert_non_null(enc);
	/* user of AUTH_NAME_MAX - 1 fits, AUTH_NAME_MAX does not. */
	raw[0] = '\0';
	memset(raw + 1, 'u', AUTH_NAME_MAX - 1);
	memcpy(raw + AUTH_NAME_MAX, "\0pw", 3);
	b64(raw, AUTH_NAME_MAX + 3, enc);
	assert_int_equal(auth_plain_decode(enc, strlen(enc), &c), 0);
	assert_int_equal(strlen(c.user), AUTH_NAME_MAX - 1);
	memset(raw + 1, 'u', AUTH_NAME_MAX);
	memcpy(raw + AUTH_NAME_MAX + 1, "\0pw", 3);
	b64(raw, AUTH_NAME_MAX + 4, enc);
	assert_int_equal(auth_plain_decode(enc, strlen(enc), &c), R_AUTH_INVALID);

	/* password of AUTH_PASS_MAX - 1 fits, AUTH_PASS_MAX does not. */
	memcpy(raw, "\0alice\0", 7);
	memset(raw + 7, 'p', AUTH_PASS_MAX - 1);
	b64(raw, 7 + AUTH_PASS_MAX - 1, enc);
	assert_int_equal(auth_plain_decode(enc, strlen(enc), &c), 0);
	assert_int_equal(strlen(c.pass), AUTH_PASS_MAX - 1);
	memset(raw + 7, 'p', AUTH_PASS_MAX);
	b64(raw, 7 + AUTH_PASS_MAX, enc);
	assert_int_equal(auth_plain_decode(enc, strlen(enc), &c), R_AUTH_INVALID);

	/* An over-long authzid that equals nothing. */
	memset(raw, 'z', AUTH_NAME_MAX);
	memcpy(raw + AUTH_NAME_MAX, "\0alice\0pw", 9);
	b64(raw, AUTH_NAME_MAX + 9, enc);
	assert_int_equal(auth_plain_decode(enc, strlen(enc), &c), R_AUTH_INVALID);

	/* Exactly AUTH_B64_MAX characters decode (then fail on field sizes); one quantum more is too long. */
	n = AUTH_B64_MAX / 4 * 3;
	memset(raw, 'x', n);
	raw[0] = '\0';
	raw[10] = '\0';
	b64(raw, n, enc);
	assert_int_equal(strlen(enc), AUTH_B64_MAX);
	assert_int_equal(auth_plain_decode(enc, strlen(enc), &c), R_AUTH_INVALID);
	b64(raw, n + 3, enc);
	assert_int_equal(auth_plain_decode(enc, strlen(enc), &c), R_AUTH_INVALID);
	/* Long garbage is bad base64, not "too long". */
	memset(enc, '!', AUTH_B64_MAX + 400);
	assert_int_equal(auth_plain_decode(enc, AUTH_B64_MAX + 400, &c), R_AUTH_BAD_BASE64);
	memset(enc, 'A', AUTH_B64_MAX + 400);
	enc[AUTH_B64_MAX + 200] = '.';
	assert_int_equal(auth_plain_decode(enc, AUTH_B64_MAX + 400, &c), R_AUTH_BAD_BASE64);
	free(raw);
	free(enc);
}

/* -------------------------------------------------------------------- LOGIN */

static void
test_login(void **state)
{
	static const struct { const char *in; size_t outsize; int want; const char *out; } t[] = {
		{ "YWxpY2U=", 64, 0, "alice" },
		{ "YWxpY2U=", 6, 0, "alice" },			/* exactly fits with its NUL */
		{ "YWxpY2U=", 5, R_AUTH_INVALID, "" },
		{ "YWxpY2U=", 1, R_AUTH_INVALID, "" },
		{ "anVyZ2VuQGV4w6RtcGxlLnRlc3Q=", 64, 0, "jurgen@ex\xc3\xa4mple.test" },
		{ "c2VjcmV0IHdpdGggc3BhY2Vz", 64, 0, "secret with spaces" },
		{ "*", 64, R_AUTH_CANCELED, "" },
		{ "=", 64, 0, "" },
		{ "", 64, 0, "" },
		{ "YWxpY2U", 64, R_AUTH_BAD_BASE64, "" },
		{ "YWxp Y2U=", 64, R_AUTH_BAD_BASE64, "" },
		{ "YWxpY2U=\r\n", 64, R_AUTH_BAD_BASE64, "" },
		{ "YWxpY2V=", 64, R_AUTH_BAD_BASE64, "" },	/* pad bits */
		{ "AGFsaWNl", 64, R_AUTH_INVALID, "" },		/* "\0alice" */
		{ "YWxpY2UA", 64, R_AUTH_INVALID, "" },		/* "alice\0" */
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r;

		memset(out, 'X', sizeof(out));
		r = auth_login_decode(t[i].in, strlen(t[i].in), out, t[i].outsize);
		if (r != t[i].want)
			fail_msg("\"%s\"/%zu: got %d, want %d", t[i].in, t[i].outsize, r, t[i].want);
		if (t[i].outsize > 0 && (r == 0 || r == R_AUTH_INVALID))
			assert_string_equal(out, t[i].out);
	}
	assert_int_equal(auth_login_decode("YWxpY2U=", 8, out, 0), R_AUTH_INVALID);
}

static void
test_login_challenges(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(auth_login_decode(auth_login_challenge(0), 12, out, sizeof(out)), 0);
	assert_string_equal(out, "Username:");
	assert_int_equal(auth_login_decode(auth_login_challenge(1), 12, out, sizeof(out)), 0);
	assert_string_equal(out, "Password:");
	assert_null(auth_login_challenge(2));
	assert_null(auth_login_challenge(-1));
}

/* --------------------------------------------------------------------- pool */

struct result {
	int called;
	int verdict;
	int on_loop_thread;
	auth_pool *pool;
	void *cancel_other;	/* cancel this arg from inside the callback */
};

static pthread_t loop_thread;
static int ndone;

static void
on_done(void *arg, int verdict)
{
	struct result *r = arg;

	r->called++;
	r->verdict = verdict;
	r->on_loop_thread = pthread_equal(pthread_self(), loop_thread);
	if (r->cancel_other != NULL)
		auth_pool_cancel(r->pool, r->cancel_other);
	ndone++;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* A pool fixture: event base with a heartbeat so loops return, accounts with real yescrypt hashes. */
struct fixture {
	struct event_base *base;
	struct event *timer;
	auth_pool *pool;
};

static char hash_alice[CRYPT_OUTPUT_SIZE], hash_cheap[CRYPT_OUTPUT_SIZE], hash_other[CRYPT_OUTPUT_SIZE];

static char *
make_hash_with(const char *prefix, const char *pw, unsigned long cost, char *out, size_t outsize)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;

	memset(&cd, 0, sizeof(cd));
	assert_non_null(crypt_gensalt_rn(prefix, cost, NULL, 0, salt, sizeof(salt)));
	assert_non_null(crypt_rn(pw, salt, &cd, sizeof(cd)));
	assert_int_equal(cd.output[0], '$');
	assert_true(strlen(cd.output) < outsize);
	memcpy(out, cd.output, strlen(cd.output) + 1);
	return out;
}

static char *
make_hash(const char *pw, unsigned long cost, char *out, size_t outsize)
{
	return make_hash_with("$y$", pw, cost, out, outsize);
}

static accounts *
make_accounts(const char *alice_hash)
{
	char text[4096], err[256] = "";
	accounts *a;
	int i, n;

	n = snprintf(text, sizeof(text),
	    "alice:%s::example.com\n"
	    "bob:%s:blocked:example.com\n"
	    "j\xc3\xbcrgen:%s::example.com\n", alice_hash, hash_cheap, hash_cheap);
	for (i = 0; i < 10; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "u%d:%s::example.com\n", i, hash_cheap);
	a = accounts_parse("test-accounts", text, (size_t)n, err, sizeof(err));
	if (a == NULL)
		fail_msg("accounts_parse: %s", err);
	return a;
}

static int
group_setup(void **state)
{
	(void)state;
	if (evthread_use_pthreads() != 0)
		return -1;
	make_hash("secret", 0, hash_alice, sizeof(hash_alice));	/* default cost: the real thing */
	make_hash("cheap", 1, hash_cheap, sizeof(hash_cheap));
	make_hash("changed", 1, hash_other, sizeof(hash_other));
	loop_thread = pthread_self();
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	libevent_global_shutdown();
	return 0;
}

static int
pool_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct timeval tv = { 0, 20000 };

	if (f == NULL || (f->base = event_base_new()) == NULL)
		return -1;
	f->timer = event_new(f->base, -1, EV_PERSIST, tick, NULL);
	event_add(f->timer, &tv);
	f->pool = auth_pool_new(f->base, 2);
	auth_pool_set_accounts(f->pool, make_accounts(hash_alice));
	ndone = 0;
	*state = f;
	return 0;
}

static int
pool_teardown(void **state)
{
	struct fixture *f = *state;

	auth_pool_free(f->pool);
	event_free(f->timer);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Run the loop until ndone reaches want (or 60 s pass, which fails). */
static void
run_until(struct fixture *f, int want)
{
	time_t end = time(NULL) + 60;

	while (ndone < want) {
		assert_true(time(NULL) < end);
		event_base_loop(f->base, EVLOOP_ONCE);
	}
}

static void
submit(struct fixture *f, const char *user, const char *pass, struct result *r)
{
	auth_creds c;

	memset(&c, 0, sizeof(c));
	snprintf(c.user, sizeof(c.user), "%s", user);
	snprintf(c.pass, sizeof(c.pass), "%s", pass);
	r->pool = f->pool;
	auth_pool_submit(f->pool, &c, on_done, r);
}

static void
test_pool_verdicts(void **state)
{
	static const struct { const char *user, *pass; int want; } t[] = {
		{ "alice", "secret", ACCOUNTS_OK },
		{ "alice", "Secret", ACCOUNTS_BAD_CREDENTIALS },
		{ "alice", "", ACCOUNTS_BAD_CREDENTIALS },
		{ "bob", "cheap", ACCOUNTS_BLOCKED },
		{ "bob", "wrong", ACCOUNTS_BAD_CREDENTIALS },
		{ "j\xc3\xbcrgen", "cheap", ACCOUNTS_OK },
		{ "mallory", "secret", ACCOUNTS_BAD_CREDENTIALS },
		{ "", "", ACCOUNTS_BAD_CREDENTIALS },
	};
	struct fixture *f = *state;
	struct result r[sizeof(t) / sizeof(t[0])];
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		submit(f, t[i].user, t[i].pass, &r[i]);
	run_until(f, (int)(sizeof(t) / sizeof(t[0])));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(r[i].called, 1);
		if (r[i].verdict != t[i].want)
			fail_msg("%s/%s: got %d, want %d", t[i].user, t[i].pass, r[i].verdict, t[i].want);
		assert_true(r[i].on_loop_thread);
	}
}

static void
test_pool_hundred(void **state)
{
	struct fixture *f = *state;
	struct result r[100];
	char user[16];
	int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "u%d", i % 10);
		submit(f, user, i % 3 ? "cheap" : "nope", &r[i]);
	}
	run_until(f, 100);
	for (i = 0; i < 100; i++) {
		assert_int_equal(r[i].called, 1);
		assert_int_equal(r[i].verdict, i % 3 ? ACCOUNTS_OK : ACCOUNTS_BAD_CREDENTIALS);
	}
}

/* Cancel in every state a job can be in: queued, being hashed, hashed but not delivered. */
static void
test_pool_cancel(void **state)
{
	struct fixture *f = *state;
	struct result queued[6], running[2], finished, last;

	memset(queued, 0, sizeof(queued));
	memset(running, 0, sizeof(running));
	memset(&finished, 0, sizeof(finished));
	memset(&last, 0, sizeof(last));
	/* Two default-cost hashes keep both workers busy while the rest wait. */
	submit(f, "alice", "secret", &running[0]);
	submit(f, "alice", "secret", &running[1]);
	for (int i = 0; i < 6; i++)
		submit(f, "u1", "cheap", &queued[i]);
	usleep(20000);
	auth_pool_cancel(f->pool, &running[0]);
	auth_pool_cancel(f->pool, &running[1]);
	auth_pool_cancel(f->pool, &queued[2]);
	auth_pool_cancel(f->pool, &queued[5]);
	auth_pool_cancel(f->pool, &last);		/* nothing of it: no-op */
	run_until(f, 4);
	/* Hashed while the loop was not running, cancelled before delivery. */
	submit(f, "u2", "cheap", &finished);
	usleep(300000);
	auth_pool_cancel(f->pool, &finished);
	submit(f, "u3", "cheap", &last);
	run_until(f, 5);
	usleep(300000);	/* let the cancelled running jobs end; their callbacks must not come */
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(running[0].called + running[1].called, 0);
	assert_int_equal(queued[2].called + queued[5].called + finished.called, 0);
	assert_int_equal(queued[0].called + queued[1].called + queued[3].called + queued[4].called, 4);
	assert_int_equal(last.called, 1);
	assert_int_equal(last.verdict, ACCOUNTS_OK);
	assert_int_equal(ndone, 5);
}

/* A callback may cancel another session whose answer sits in the same batch (either comes first). */
static void
test_pool_cancel_from_callback(void **state)
{
	struct fixture *f = *state;
	struct result a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.cancel_other = &b;
	b.cancel_other = &a;
	submit(f, "u4", "cheap", &a);
	submit(f, "u5", "cheap", &b);
	usleep(500000);			/* both hashed before the loop runs */
	run_until(f, 1);
	usleep(100000);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(a.called + b.called, 1);
	assert_int_equal(ndone, 1);
}

/* Reload: a job keeps the table it was queued with; the next one sees the new table. */
static void
test_pool_reload(void **state)
{
	struct fixture *f = *state;
	struct result before, after, changed;

	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	memset(&changed, 0, sizeof(changed));
	submit(f, "alice", "secret", &before);
	auth_pool_set_accounts(f->pool, make_accounts(hash_other));
	submit(f, "alice", "secret", &after);
	submit(f, "alice", "changed", &changed);
	run_until(f, 3);
	assert_int_equal(before.verdict, ACCOUNTS_OK);
	assert_int_equal(after.verdict, ACCOUNTS_BAD_CREDENTIALS);
	assert_int_equal(changed.verdict, ACCOUNTS_OK);
	/* No table at all: every check fails, nothing crashes. */
	auth_pool_set_accounts(f->pool, NULL);
	memset(&after, 0, sizeof(after));
	submit(f, "u1", "cheap", &after);
	run_until(f, 4);
	assert_int_equal(after.verdict, ACCOUNTS_BAD_CREDENTIALS);
}

/* A full queue (1024 waiting) answers at once with a tempfail verdict, on the loop thread. */
static void
test_pool_full(void **state)
{
	struct fixture *f = *state;
	struct result filler, over[5];
	int i;

	memset(&filler, 0, sizeof(filler));
	memset(over, 0, sizeof(over));
	/*
	 * The workers wait at the gate, so the queue fills whatever the
	 * scheduler does (it used to rely on two bcrypt-12 checks outlasting
	 * 1,026 submissions, and failed on a busy machine).
	 */
	auth_pool_hold(f->pool, 1);
	for (i = 0; i < 1024; i++)
		submit(f, "alice", "secret", &filler);
	for (i = 0; i < 5; i++)
		submit(f, "u1", "cheap", &over[i]);
	auth_pool_cancel(f->pool, &filler);
	auth_pool_hold(f->pool, 0);
	ndone = 0;
	run_until(f, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(over[i].called, 1);
		assert_int_equal(over[i].verdict, ACCOUNTS_ERROR);
		assert_true(over[i].on_loop_thread);
	}
	assert_int_equal(filler.called, 0);	/* cancelled before the loop ran: never called */
}

/* Freeing a pool with work queued and in flight: no callback, no leak (ASan/valgrind). */
static void
test_pool_free_busy(void **state)
{
	struct fixture *f = *state;
	struct result r[20];
	int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < 20; i++)
		submit(f, i % 2 ? "alice" : "u1", i % 2 ? "secret" : "cheap", &r[i]);
	auth_pool_set_accounts(f->pool, make_accounts(hash_other));
	usleep(10000);
	auth_pool_free(f->pool);
	f->pool = auth_pool_new(f->base, 1);	/* the teardown frees this one */
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	for (i = 0; i < 20; i++)
		assert_int_equal(r[i].called, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mech_parse),
		cmocka_unit_test(test_plain_raw),
		cmocka_unit_test(test_plain_b64),
		cmocka_unit_test(test_plain_lengths),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_login_challenges),
		cmocka_unit_test_setup_teardown(test_pool_verdicts, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_hundred, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_cancel, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_cancel_from_callback, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_reload, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_full, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_free_busy, pool_setup, pool_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
