/* test_smtpd_uuid.c - frontend/uuid.c: RFC 9562 UUIDv7 layout, time field, monotonic order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "uuid.h"

static void
check_layout(const char *u)
{
	size_t i;

	assert_int_equal(strlen(u), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(u[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", u[i]));
	}
	assert_int_equal(u[14], '7');				/* version */
	assert_non_null(strchr("89ab", u[19]));			/* variant 10 */
}

static uint64_t
time_field(const char *u)
{
	char hex[13];

	memcpy(hex, u, 8);
	memcpy(hex + 8, u + 9, 4);
	hex[12] = '\0';
	return strtoull(hex, NULL, 16);
}

static void
test_layout_and_time(void **state)
{
	struct uuid_gen g = { 0, 0 };
	char u[UUID_STR_SIZE];
	struct timespec ts;
	uint64_t now;

	(void)state;
	uuid_v7_next(&g, 0x0123456789abULL, u);
	check_layout(u);
	assert_memory_equal(u, "01234567-89ab-7", 15);
	assert_int_equal(time_field(u), 0x0123456789abULL);

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	uuid_v7(u);
	check_layout(u);
	assert_true(time_field(u) >= now && time_field(u) < now + 5000);
}

static void
test_monotonic(void **state)
{
	struct uuid_gen g = { 0, 0 };
	char prev[UUID_STR_SIZE], cur[UUID_STR_SIZE];
	int i;

	(void)state;
	/* Same millisecond many times over: the counter, then the timestamp, carries the order. */
	uuid_v7_next(&g, 1000, prev);
	for (i = 0; i < 20000; i++) {
		uuid_v7_next(&g, 1000, cur);
		check_layout(cur);
		if (strcmp(prev, cur) >= 0)
			fail_msg("not increasing at %d: %s then %s", i, prev, cur);
		memcpy(prev, cur, sizeof(cur));
	}
	/* More than 4096 in one ms moved the timestamp on. */
	assert_true(time_field(cur) > 1000);
	/* A clock stepping back does not break the order either. */
	uuid_v7_next(&g, 500, cur);
	assert_true(strcmp(prev, cur) < 0);
	memcpy(prev, cur, sizeof(cur));
	/* A later millisecond starts over with a random counter, still above. */
	uuid_v7_next(&g, 100000, cur);
	assert_true(strcmp(prev, cur) < 0);
	assert_int_equal(time_field(cur), 100000);

	/* The process-wide generator too. */
	uuid_v7(prev);
	for (i = 0; i < 5000; i++) {
		uuid_v7(cur);
		assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof(cur));
	}
}

static void
test_random_bits_differ(void **state)
{
	struct uuid_gen g1 = { 0, 0 }, g2 = { 0, 0 };
	char a[UUID_STR_SIZE], b[UUID_STR_SIZE];

	(void)state;
	/* Two generators in the same millisecond (two processes) still differ in the random part. */
	uuid_v7_next(&g1, 42, a);
	uuid_v7_next(&g2, 42, b);
	assert_true(strcmp(a + 19, b + 19) != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_time),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_random_bits_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
