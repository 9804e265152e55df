/* test_auth_backoff.c - frontend/auth_backoff.c: when an AUTH check may start, per address, network and account. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth_backoff.h"

#define T0	1000000ULL	/* any monotonic start */
#define MIN_MS	(60 * 1000ULL)

/* Admit user@addr at now; returns the wait, or -1 when refused. */
static long long
try_at(auth_backoff *b, struct auth_attempt *a, const char *addr, const char *user, uint64_t now)
{
	auth_attempt_init(a, addr, user);
	if (auth_backoff_admit(b, a, now) != 0)
		return -1;
	assert_true(a->start_ms == now + a->wait_ms);
	return (long long)a->wait_ms;
}

/* One whole attempt: admitted at now, checked at its start, outcome known 10 ms later. Returns the wait. */
static long long
attempt(auth_backoff *b, const char *addr, const char *user, int outcome, uint64_t now)
{
	struct auth_attempt a;
	long long w = try_at(b, &a, addr, user, now);

	if (w >= 0)
		auth_backoff_done(b, &a, outcome, a.start_ms + 10);
	return w;
}

static void
test_keys(void **state)
{
	struct auth_attempt a;
	char longname[1000];

	(void)state;
	auth_attempt_init(&a, "192.0.2.77", "alice");
	assert_string_equal(a.key[AUTH_KEY_IP], "ip:192.0.2.77");
	assert_string_equal(a.key[AUTH_KEY_NET], "net:192.0.2.0/24");
	assert_string_equal(a.key[AUTH_KEY_USER], "user:alice");
	auth_attempt_init(&a, "2001:db8:1:2:aa:bb:cc:dd", NULL);
	assert_string_equal(a.key[AUTH_KEY_NET], "net:2001:db8:1:2::/64");
	assert_string_equal(a.key[AUTH_KEY_USER], "user:");
	auth_attempt_init(&a, "unknown", "x");
	assert_string_equal(a.key[AUTH_KEY_NET], "net:unknown");
	/* Names are cut to the key size, never overflow it. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	auth_attempt_init(&a, "192.0.2.1", longname);
	assert_int_equal(strlen(a.key[AUTH_KEY_USER]), AUTH_BACKOFF_KEY_MAX - 1);
}

static void
test_delay_table(void **state)
{
	static const uint64_t addr[] = { 0, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
	unsigned n;

	(void)state;
	for (n = 0; n < sizeof(addr) / sizeof(addr[0]); n++) {
		assert_int_equal(auth_backoff_delay(AUTH_KEY_IP, n), addr[n]);
		assert_int_equal(auth_backoff_delay(AUTH_KEY_USER, n), addr[n]);
	}
	/* A network is slowed only past AUTH_BACKOFF_NET_FREE failures (shared NATs). */
	for (n = 0; n < AUTH_BACKOFF_NET_FREE; n++)
		assert_int_equal(auth_backoff_delay(AUTH_KEY_NET, n), 0);
	assert_int_equal(auth_backoff_delay(AUTH_KEY_NET, AUTH_BACKOFF_NET_FREE), 1000);
	assert_int_equal(auth_backoff_delay(AUTH_KEY_NET, AUTH_BACKOFF_NET_FREE + 1), 2000);
	assert_int_equal(auth_backoff_delay(AUTH_KEY_NET, 64), 30000);
	assert_int_equal(auth_backoff_delay(AUTH_KEY_IP, 64), 30000);
}

/*
 * The oracle the issue found: the wait of an attempt is fixed when it is
 * admitted, before its check; the right and the wrong password in the
 * same situation start (and so are answered) at the same time.
 */
static void
test_wait_does_not_depend_on_outcome(void **state)
{
	auth_backoff *right = auth_backoff_new(100), *wrong = auth_backoff_new(100);
	struct auth_attempt ar, aw;
	uint64_t t = T0;
	int i;

	(void)state;
	for (i = 0; i < 4; i++, t += 100) {	/* the same history of failures in both */
		attempt(right, "192.0.2.1", "alice", AUTH_OUTCOME_FAILED, t);
		attempt(wrong, "192.0.2.1", "alice", AUTH_OUTCOME_FAILED, t);
	}
	t += 50;
	assert_true(try_at(right, &ar, "192.0.2.1", "alice", t) > 0);
	assert_true(try_at(wrong, &aw, "192.0.2.1", "alice", t) > 0);
	assert_true(ar.start_ms == aw.start_ms);
	/* Four failures: the fifth check waits 8 s after the fourth's outcome. */
	assert_true(ar.start_ms >= t + 7000);
	auth_backoff_done(right, &ar, AUTH_OUTCOME_OK, ar.start_ms + 10);
	auth_backoff_done(wrong, &aw, AUTH_OUTCOME_FAILED, aw.start_ms + 10);
	auth_backoff_free(right);
	auth_backoff_free(wrong);
}

/* Sequential guesses from one address: 0, then 1, 2, 4, 8, 16, 30, 30 s after each failure. */
static void
test_sequential_failures(void **state)
{
	static const long long want[] = { 0, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
	auth_backoff *b = auth_backoff_new(100);
	struct auth_attempt a;
	uint64_t t = T0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		/* A new name each time: the address alone slows them down. */
		char user[16];

		snprintf(user, sizeof(user), "u%zu", i);
		assert_int_equal(try_at(b, &a, "192.0.2.1", user, t), want[i]);
		auth_backoff_done(b, &a, AUTH_OUTCOME_FAILED, a.start_ms + 10);
		t = a.start_ms + 10;	/* the client asks again the moment it hears 535 */
	}
	/* Another address of another network, another name: not slowed. */
	assert_int_equal(attempt(b, "198.51.100.1", "v", AUTH_OUTCOME_FAILED, t), 0);
	auth_backoff_free(b);
}

/*
 * Checks in flight count as failures: parallel connections from one
 * address line up one delay apart, and one that would wait past the cap
 * is refused without a check (and counted nowhere).
 */
static void
test_parallel_attempts_line_up(void **state)
{
	static const long long want[] = { 0, 1000, 3000, 7000, 15000, 31000, -1, -1 };
	auth_backoff *b = auth_backoff_new(100);
	struct auth_attempt a[8];
	char user[16];
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++) {
		snprintf(user, sizeof(user), "p%zu", i);
		assert_int_equal(try_at(b, &a[i], "192.0.2.9", user, T0), want[i]);
	}
	/* Others are not held up by them. */
	assert_int_equal(attempt(b, "203.0.113.5", "q", AUTH_OUTCOME_OK, T0), 0);
	/*
	 * Clients that leave (NONE) are counted as no failure, but the places
	 * they took stand: leaving cannot be used to jump the line.
	 */
	for (i = 0; i < 6; i++)
		auth_backoff_done(b, &a[i], AUTH_OUTCOME_NONE, T0 + 1);
	assert_int_equal(try_at(b, &a[0], "192.0.2.9", "p0", T0 + 2), 31000 - 2);
	auth_backoff_done(b, &a[0], AUTH_OUTCOME_NONE, T0 + 3);
	auth_backoff_free(b);
}

/* Success clears the account's failures, never the address's. */
static void
test_success_clears_account_only(void **state)
{
	auth_backoff *b = auth_backoff_new(100);
	uint64_t t = T0;

	(void)state;
	attempt(b, "192.0.2.1", "alice", AUTH_OUTCOME_FAILED, t);
	t += 5000;
	attempt(b, "192.0.2.1", "alice", AUTH_OUTCOME_FAILED, t);
	t += 5000;
	/* Alice from elsewhere, 2 s after her second failure has passed: no wait; her success clears them. */
	assert_int_equal(attempt(b, "198.51.100.7", "alice", AUTH_OUTCOME_OK, t), 0);
	t += 100;
	attempt(b, "192.0.2.1", "mallory", AUTH_OUTCOME_FAILED, t);	/* the address: 3 failures */
	/* Alice's account is clear, the address is not: 4 s after mallory's failure (known at t + 10). */
	assert_int_equal(attempt(b, "192.0.2.1", "alice", AUTH_OUTCOME_OK, t + 20), 3990);
	/* The address keeps its failures although a valid account logged in from it. */
	assert_true(attempt(b, "192.0.2.1", "bob", AUTH_OUTCOME_FAILED, t + 4020) > 0);
	auth_backoff_free(b);
}

/* One account guessed from many networks: its own key slows the guesses down. */
static void
test_account_key(void **state)
{
	auth_backoff *b = auth_backoff_new(100);
	struct auth_attempt a;
	char addr[32];
	uint64_t t = T0;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(addr, sizeof(addr), "10.%d.0.1", i);
		assert_true(try_at(b, &a, addr, "carol", t) >= 0);
		auth_backoff_done(b, &a, AUTH_OUTCOME_FAILED, a.start_ms + 10);
		t = a.start_ms + 10;
	}
	assert_int_equal(try_at(b, &a, "10.9.0.1", "carol", t), 4000);
	auth_backoff_done(b, &a, AUTH_OUTCOME_FAILED, a.start_ms + 10);
	auth_backoff_free(b);
}

/* Many addresses of one network, a name each: slowed once the network passes its allowance. */
static void
test_network_key(void **state)
{
	auth_backoff *b = auth_backoff_new(1000);
	char addr[64], user[16];
	uint64_t t = T0;
	int i;

	(void)state;
	for (i = 0; i < AUTH_BACKOFF_NET_FREE; i++, t += 10) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
		snprintf(user, sizeof(user), "n%d", i);
		assert_int_equal(attempt(b, addr, user, AUTH_OUTCOME_FAILED, t), 0);
	}
	/* The 8th failure was known at t: a 9th address waits 1 s after it. */
	assert_int_equal(attempt(b, "192.0.2.200", "fresh", AUTH_OUTCOME_FAILED, t), 1000);
	/* Another /24 is not concerned. */
	assert_int_equal(attempt(b, "192.0.3.1", "fresh2", AUTH_OUTCOME_FAILED, t), 0);
	/* IPv6: one /64 is one network. */
	for (i = 0; i < AUTH_BACKOFF_NET_FREE; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:0:1::%x", i + 1);
		snprintf(user, sizeof(user), "s%d", i);
		attempt(b, addr, user, AUTH_OUTCOME_FAILED, t);
	}
	assert_true(attempt(b, "2001:db8:0:1:ffff::1", "new6", AUTH_OUTCOME_FAILED, t) > 0);
	assert_int_equal(attempt(b, "2001:db8:0:2::1", "new7", AUTH_OUTCOME_FAILED, t), 0);
	auth_backoff_free(b);
}

/* Failures are forgotten after 15 quiet minutes. */
static void
test_forget(void **state)
{
	auth_backoff *b = auth_backoff_new(100);
	uint64_t t = 20 * MIN_MS;

	(void)state;
	attempt(b, "192.0.2.1", "bob", AUTH_OUTCOME_FAILED, t);
	attempt(b, "192.0.2.1", "bob", AUTH_OUTCOME_FAILED, t + 1100);
	assert_true(attempt(b, "192.0.2.1", "bob", AUTH_OUTCOME_NONE, t + 1200) > 0);
	assert_int_equal(attempt(b, "192.0.2.1", "bob", AUTH_OUTCOME_NONE, t + 20 * MIN_MS), 0);
	auth_backoff_free(b);
}

/* A tiny table evicts the longest-unused keys and never the ones an attempt holds. */
static void
test_eviction(void **state)
{
	auth_backoff *b = auth_backoff_new(0);	/* as small as it gets: AUTH_KEY_COUNT entries */
	struct auth_attempt a[4];
	char addr[32];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(addr, sizeof(addr), "10.%d.0.1", i);
		assert_int_equal(try_at(b, &a[i], addr, addr, T0), 0);
	}
	for (i = 0; i < 4; i++)		/* their entries were evicted meanwhile: no harm */
		auth_backoff_done(b, &a[i], AUTH_OUTCOME_FAILED, T0 + 10);
	/* The last one's keys are still there. */
	assert_true(attempt(b, "10.3.0.1", "other", AUTH_OUTCOME_NONE, T0 + 20) > 0);
	auth_backoff_free(b);

	b = auth_backoff_new(1000);
	for (i = 0; i < 20000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 256, i % 256);
		attempt(b, addr, "x", AUTH_OUTCOME_NONE, T0 + (uint64_t)i);
	}
	auth_backoff_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_delay_table),
		cmocka_unit_test(test_wait_does_not_depend_on_outcome),
		cmocka_unit_test(test_sequential_failures),
		cmocka_unit_test(test_parallel_attempts_line_up),
		cmocka_unit_test(test_success_clears_account_only),
		cmocka_unit_test(test_account_key),
		cmocka_unit_test(test_network_key),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
