/* test_relay_backoff.c - relay/backoff.c: doubling delays, the cap, and the queue lifetime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static void
test_delay(void **state)
{
	(void)state;
	/* Postfix's defaults: 300, 600, 1200, 2400, then 4000 for ever. */
	assert_int_equal(backoff_delay(1, 300, 4000), 300);
	assert_int_equal(backoff_delay(2, 300, 4000), 600);
	assert_int_equal(backoff_delay(3, 300, 4000), 1200);
	assert_int_equal(backoff_delay(4, 300, 4000), 2400);
	assert_int_equal(backoff_delay(5, 300, 4000), 4000);
	assert_int_equal(backoff_delay(1000000, 300, 4000), 4000);
	assert_int_equal(backoff_delay(0, 300, 4000), 300);
	assert_int_equal(backoff_delay(3, 1, 1), 1);
	assert_int_equal(backoff_delay(40, 4000000000u, 4294967295u), 4294967295u);
}

static void
test_next(void **state)
{
	uint64_t arrival = 1000000;

	(void)state;
	/* Within the lifetime: now + delay. */
	assert_true(backoff_next_ms(arrival + 1000, arrival, 2, 1, 10, 3600) == arrival + 1000 + 2000);
	/* The delay would pass the lifetime's end: the end instead. */
	assert_true(backoff_next_ms(arrival + 4000, arrival, 3, 1, 10, 5) == arrival + 5000);
	/* Already past it: now. */
	assert_true(backoff_next_ms(arrival + 9000, arrival, 3, 1, 10, 5) == arrival + 9000);
	assert_int_equal(backoff_expired(arrival + 4999, arrival, 5), 0);
	assert_int_equal(backoff_expired(arrival + 5000, arrival, 5), 1);
	assert_int_equal(backoff_expired(arrival, arrival, 0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
