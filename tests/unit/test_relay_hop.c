/* test_relay_hop.c - relay_hop_new(): relay_host, relay_tls_ca_file and relay_auth_file errors name what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <netdb.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "config.h"
#include "deliver.h"
#include "hop_int.h"

static char tmpdir[] = "/tmp/test_relay_hop.XXXXXX";

static const char *
write_tmp(const char *name, const char *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* relay_hop_new() from config text; returns the hop (or NULL) and the error in err. */
static relay_hop *
hop_from(struct event_base *base, const char *conf, char *err, size_t errlen)
{
	char cerr[CONFIG_ERR_MAX];
	postern_config *cfg = config_parse("t.conf", conf, strlen(conf), cerr, sizeof(cerr));
	relay_hop *h;

	assert_non_null(cfg);
	err[0] = '\0';
	h = relay_hop_new(base, cfg, err, errlen);
	config_free(cfg);
	return h;
}

static void
test_relay_host_errors(void **state)
{
	struct event_base *base = event_base_new();
	char err[512];

	(void)state;
	assert_null(hop_from(base, "", err, sizeof(err)));
	assert_string_equal(err, "relay_host is not set");
	assert_null(hop_from(base, "relay_host = mx.example.com:99999\n", err, sizeof(err)));
	assert_string_equal(err, "relay_host \"mx.example.com:99999\": port 99999 out of range 1-65535");
	event_base_free(base);
}

static void
test_good_hop(void **state)
{
	struct event_base *base = event_base_new();
	char err[512];
	relay_hop *h;
	static const char auth_text[] = "# comment\n\n  relayuser   pass word with spaces  \r\n";
	const char *auth = write_tmp("auth", auth_text, strlen(auth_text));
	char conf[512];

	(void)state;
	snprintf(conf, sizeof(conf), "relay_host = lmtp:inet:[::1]:24\nrelay_auth_file = %s\n"
	    "relay_concurrency = 4\nsmtpd_hostname = gw.example\n", auth);
	h = hop_from(base, conf, err, sizeof(err));
	assert_non_null(h);
	assert_string_equal(h->addr.desc, "lmtp:inet:[::1]:24");
	assert_string_equal(h->auth_user, "relayuser");
	assert_string_equal(h->auth_pass, "pass word with spaces");
	assert_string_equal(h->helo, "gw.example");
	assert_int_equal(h->concurrency, 4);
	assert_int_equal(h->tls_mode, HOP_TLS_MAY);
	assert_int_equal(relay_hop_active(h), 0);
	relay_hop_free(h);
	event_base_free(base);
}

static void
test_auth_file_errors(void **state)
{
	static const struct { const char *data; size_t len; const char *err; } cases[] = {
		{ "", 0, "%s: no \"username password\" line" },
		{ "# only a comment\n", 17, "%s: no \"username password\" line" },
		{ "justauser\n", 10, "%s:1: expected \"username password\"" },
		{ "a b\nc d\n", 8, "%s:2: more than one \"username password\" line" },
		{ "a b\0c\n", 6, "%s:1: NUL byte in line" },
	};
	struct event_base *base = event_base_new();
	char err[512], want[512], conf[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_tmp("auth", cases[i].data, cases[i].len);

		snprintf(conf, sizeof(conf), "relay_host = [127.0.0.1]:25\nrelay_auth_file = %s\n", path);
		assert_null(hop_from(base, conf, err, sizeof(err)));
		snprintf(want, sizeof(want), cases[i].err, path);
		assert_string_equal(err, want);
	}
	/* Bounded: a huge file is refused, not read whole. */
	{
		size_t n = 8192;
		char *big = malloc(n);
		const char *path;

		memset(big, 'x', n);
		big[1] = ' ';
		path = write_tmp("auth", big, n);
		snprintf(conf, sizeof(conf), "relay_host = [127.0.0.1]:25\nrelay_auth_file = %s\n", path);
		assert_null(hop_from(base, conf, err, sizeof(err)));
		snprintf(want, sizeof(want), "%s: file larger than 4096 bytes", path);
		assert_string_equal(err, want);
		free(big);
	}
	/* An endless file is not read to its end. */
	assert_null(hop_from(base, "relay_host = [127.0.0.1]:25\nrelay_auth_file = /dev/zero\n",
	    err, sizeof(err)));
	assert_string_equal(err, "/dev/zero: file larger than 4096 bytes");
	assert_null(hop_from(base, "relay_host = [127.0.0.1]:25\nrelay_auth_file = /nonexistent/auth\n",
	    err, sizeof(err)));
	assert_string_equal(err, "relay_auth_file /nonexistent/auth: No such file or directory");
	event_base_free(base);
}

static void
test_ca_file_errors(void **state)
{
	struct event_base *base = event_base_new();
	char err[512], want[512], conf[512];
	const char *path = write_tmp("ca.pem", "not a certificate\n", 18);
	relay_hop *h;

	(void)state;
	snprintf(conf, sizeof(conf), "relay_host = [127.0.0.1]:25\nrelay_tls = verify\n"
	    "relay_tls_ca_file = %s\n", path);
	assert_null(hop_from(base, conf, err, sizeof(err)));
	snprintf(want, sizeof(want), "relay_tls_ca_file %s: no certificate in it", path);
	assert_string_equal(err, want);
	/* Only verify reads it: may and encrypt do not check certificates. */
	snprintf(conf, sizeof(conf), "relay_host = [127.0.0.1]:25\nrelay_tls = encrypt\n"
	    "relay_tls_ca_file = %s\n", path);
	h = hop_from(base, conf, err, sizeof(err));
	assert_non_null(h);
	relay_hop_free(h);
	event_base_free(base);
}

struct lookup {
	int calls, rc;
	struct addrinfo *res;
	struct event_base *base;
};

static void
lookup_done(void *arg, int rc, struct addrinfo *res)
{
	struct lookup *l = arg;

	l->calls++;
	l->rc = rc;
	l->res = res;
	event_base_loopbreak(l->base);
}

/* Run the loop until the lookup reports, or at most seconds. */
static void
run_for(struct event_base *base, int seconds)
{
	struct timeval tv = { seconds, 0 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_resolve(void **state)
{
	struct lookup l = { 0, -1, NULL, event_base_new() };
	hop_resolve *r;

	(void)state;
	/* A name from /etc/hosts, answered on the loop. */
	r = hop_resolve_start(l.base, "localhost", "25", AF_INET, lookup_done, &l);
	assert_non_null(r);
	run_for(l.base, 30);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.rc, 0);
	assert_non_null(l.res);
	assert_int_equal(l.res->ai_family, AF_INET);
	freeaddrinfo(l.res);
	/* Cancelled at once: no callback ever, nothing leaks (the thread frees its half). */
	l.calls = 0;
	r = hop_resolve_start(l.base, "localhost", "25", AF_UNSPEC, lookup_done, &l);
	assert_non_null(r);
	hop_resolve_cancel(r);
	run_for(l.base, 1);
	assert_int_equal(l.calls, 0);
	usleep(200 * 1000);	/* let the detached thread end before the process does */
	event_base_free(l.base);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/auth", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ca.pem", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_host_errors),
		cmocka_unit_test(test_good_hop),
		cmocka_unit_test(test_auth_file_errors),
		cmocka_unit_test(test_ca_file_errors),
		cmocka_unit_test(test_resolve),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
