/* test_metrics.c - lib/metrics.c: the exact text exposition, family grouping, histogram buckets, TLS versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static uint64_t
seven(void *arg)
{
	(void)arg;
	return 7;
}

static void
test_exposition(void **state)
{
	static const double bounds[] = { 0.001, 0.01, 1 };
	metrics *m = metrics_new();
	metrics_series *a, *b, *c, *hist;
	char *text;
	size_t len;

	(void)state;
	a = metrics_counter(m, "x_replies_total", "Replies.", "code=\"250\"");
	metrics_gauge_fn(m, "x_open", "Open now.", NULL, seven, NULL);
	hist = metrics_histogram(m, "x_rtt_seconds", "Round trips.", NULL, bounds, 3);
	/* Registered later, shown with its family. */
	b = metrics_counter(m, "x_replies_total", "ignored", "code=\"550\"");
	c = metrics_gauge(m, "x_level", "Level.", NULL);
	assert_ptr_equal(metrics_find(m, "x_replies_total", "code=\"550\""), b);
	assert_null(metrics_find(m, "x_replies_total", "code=\"421\""));
	metrics_inc(a);
	metrics_add(a, 41);
	metrics_inc(b);
	metrics_set(c, 5);
	metrics_set(c, 3);
	metrics_observe_us(hist, 500);		/* 0.0005 s: first bucket */
	metrics_observe_us(hist, 1000);		/* exactly 0.001: first bucket (le) */
	metrics_observe_us(hist, 20000);	/* 0.02: third */
	metrics_observe_us(hist, 5000000);	/* 5 s: only +Inf */
	text = metrics_render(m, &len);
	assert_int_equal(strlen(text), len);
	assert_string_equal(text,
	    "# HELP x_replies_total Replies.\n"
	    "# TYPE x_replies_total counter\n"
	    "x_replies_total{code=\"250\"} 42\n"
	    "x_replies_total{code=\"550\"} 1\n"
	    "# HELP x_open Open now.\n"
	    "# TYPE x_open gauge\n"
	    "x_open 7\n"
	    "# HELP x_rtt_seconds Round trips.\n"
	    "# TYPE x_rtt_seconds histogram\n"
	    "x_rtt_seconds_bucket{le=\"0.001\"} 2\n"
	    "x_rtt_seconds_bucket{le=\"0.01\"} 2\n"
	    "x_rtt_seconds_bucket{le=\"1\"} 3\n"
	    "x_rtt_seconds_bucket{le=\"+Inf\"} 4\n"
	    "x_rtt_seconds_sum 5.021500\n"
	    "x_rtt_seconds_count 4\n"
	    "# HELP x_level Level.\n"
	    "# TYPE x_level gauge\n"
	    "x_level 3\n");
	free(text);
	metrics_free(m);
}

static void
test_large_output_grows(void **state)
{
	metrics *m = metrics_new();
	char name[64], *text;
	size_t len;
	int i;

	(void)state;
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "family_%03d_total", i);
		metrics_inc(metrics_counter(m, name, "A rather long help text to fill the buffer quickly.",
		    "label=\"value\""));
	}
	text = metrics_render(m, &len);
	assert_true(len > 4096 * 8);
	assert_non_null(strstr(text, "family_499_total{label=\"value\"} 1\n"));
	assert_int_equal(text[len - 1], '\n');
	free(text);
	metrics_free(m);
}

/* TLS sessions by version: GnuTLS's names, anything else as other, NULL as a failure. */
static void
test_tls_by_version(void **state)
{
	metrics *m = metrics_new();
	struct metrics_tls t;
	char *text;
	size_t len;

	(void)state;
	metrics_tls_init(m, &t, "x_tls_total", "Sessions.", "x_tls_failures_total", "Failures.");
	metrics_tls_count(&t, "TLSv1.3");
	metrics_tls_count(&t, "TLSv1.3");
	metrics_tls_count(&t, "TLSv1.0");
	metrics_tls_count(&t, "SSL3.0");
	metrics_tls_count(&t, "TLSv1.3x");
	metrics_tls_count(&t, NULL);
	text = metrics_render(m, &len);
	assert_string_equal(text,
	    "# HELP x_tls_total Sessions.\n"
	    "# TYPE x_tls_total counter\n"
	    "x_tls_total{version=\"TLSv1.3\"} 2\n"
	    "x_tls_total{version=\"TLSv1.2\"} 0\n"
	    "x_tls_total{version=\"TLSv1.1\"} 0\n"
	    "x_tls_total{version=\"TLSv1.0\"} 1\n"
	    "x_tls_total{version=\"other\"} 2\n"
	    "# HELP x_tls_failures_total Failures.\n"
	    "# TYPE x_tls_failures_total counter\n"
	    "x_tls_failures_total 1\n");
	free(text);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_large_output_grows),
		cmocka_unit_test(test_tls_by_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
