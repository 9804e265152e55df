/* test_smtpd_metrics.c - postern-smtpd's milter failure series: made at 0, counted by kind, names escaped and bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "smtpd_metrics.h"

static uint64_t
no_conns(void *arg)
{
	(void)arg;
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	smtpd_metrics_init(no_conns, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	smtpd_metrics_free();
	return 0;
}

/* The value of the sample line "name{labels} value", or -1 when there is none. */
static long
sample(const char *name, const char *labels)
{
	char want[1024], *text, *p;
	size_t len;
	long v = -1;

	snprintf(want, sizeof(want), "\n%s{%s} ", name, labels);
	text = metrics_render(smtpd_metrics_get(), &len);
	if ((p = strstr(text, want)) != NULL)
		v = strtol(p + strlen(want), NULL, 10);
	free(text);
	return v;
}

#define FAIL_SERIES "postern_smtpd_milter_failures_total"

static void
test_declared_at_zero(void **state)
{
	static const char *const kinds[] = { "connect", "timeout", "closed", "protocol", "owner" };
	char labels[256];

	(void)state;
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/run/m.sock\",kind=\"connect\""), -1);
	smtpd_metrics_milter_declare("unix:/run/m.sock");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(labels, sizeof(labels), "milter=\"unix:/run/m.sock\",kind=\"%s\"", kinds[i]);
		assert_int_equal(sample(FAIL_SERIES, labels), 0);
		assert_string_equal(mc_fail_kind_name((enum mc_fail_kind)i), kinds[i]);
	}
	/* Declared again (a reload): still one series each, still 0. */
	smtpd_metrics_milter_declare("unix:/run/m.sock");
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/run/m.sock\",kind=\"owner\""), 0);
}

static void
test_counted_by_kind(void **state)
{
	(void)state;
	smtpd_metrics_milter_declare("inet:127.0.0.1:8891");
	smtpd_metrics_milter_failure("inet:127.0.0.1:8891", MC_FAIL_TIMEOUT);
	smtpd_metrics_milter_failure("inet:127.0.0.1:8891", MC_FAIL_TIMEOUT);
	smtpd_metrics_milter_failure("inet:127.0.0.1:8891", MC_FAIL_PROTOCOL);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"inet:127.0.0.1:8891\",kind=\"timeout\""), 2);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"inet:127.0.0.1:8891\",kind=\"protocol\""), 1);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"inet:127.0.0.1:8891\",kind=\"connect\""), 0);
	/* A milter not declared (the list changed meanwhile): its series appear with the failure. */
	smtpd_metrics_milter_failure("unix:/other.sock", MC_FAIL_CLOSED);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/other.sock\",kind=\"closed\""), 1);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/other.sock\",kind=\"connect\""), 0);
	/* Out of range: ignored. */
	smtpd_metrics_milter_failure("unix:/other.sock", MC_FAIL_KINDS);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/other.sock\",kind=\"closed\""), 1);
}

static void
test_names_escaped_and_cut(void **state)
{
	char name[400], labels[600];

	(void)state;
	smtpd_metrics_milter_failure("unix:/a\"b\\c\nd", MC_FAIL_CONNECT);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/a\\\"b\\\\c\\nd\",kind=\"connect\""), 1);
	/* A long name is cut at 128 bytes. */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "unix:/", 6);
	smtpd_metrics_milter_failure(name, MC_FAIL_OWNER);
	name[128] = '\0';
	snprintf(labels, sizeof(labels), "milter=\"%s\",kind=\"owner\"", name);
	assert_int_equal(sample(FAIL_SERIES, labels), 1);
}

static void
test_names_bounded(void **state)
{
	char name[64];

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "unix:/m%d.sock", i);
		smtpd_metrics_milter_failure(name, MC_FAIL_CONNECT);
	}
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/m31.sock\",kind=\"connect\""), 1);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/m32.sock\",kind=\"connect\""), -1);
	/* The eight past the bound share one name. */
	assert_int_equal(sample(FAIL_SERIES, "milter=\"other\",kind=\"connect\""), 8);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"other\",kind=\"timeout\""), 0);
	/* Known names still count under their own. */
	smtpd_metrics_milter_failure("unix:/m0.sock", MC_FAIL_CONNECT);
	assert_int_equal(sample(FAIL_SERIES, "milter=\"unix:/m0.sock\",kind=\"connect\""), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_declared_at_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counted_by_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_escaped_and_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
