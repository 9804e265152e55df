/* test_relay_metrics.c - postern-relay's series: nothing counted before init, each call moves its own series, odd input ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "relay_metrics.h"
#include "tls_version.h"

static uint64_t g_queued = 7, g_inflight = 2, g_oldest = 42;

static uint64_t q_fn(void *arg) { (void)arg; return g_queued; }
static uint64_t i_fn(void *arg) { (void)arg; return g_inflight; }
static uint64_t o_fn(void *arg) { (void)arg; return g_oldest; }

/* The exposition holds this exact line. */
static void
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static char *
render(void)
{
	size_t len;
	char *t = metrics_render(relay_metrics_get(), &len);

	assert_int_equal(strlen(t), len);
	return t;
}

static void
test_before_init_nothing(void **state)
{
	(void)state;
	assert_null(relay_metrics_get());
	/* The delivery client runs without metrics in relay_deliver_tool: no crash, nothing kept. */
	relay_metrics_delivery(RMR_DELIVERED, 0, 1000);
	relay_metrics_message("delivered");
	relay_metrics_dsn();
	relay_metrics_connection(1);
	relay_metrics_tls("TLSv1.3");
	relay_metrics_reply(250);
	assert_null(relay_metrics_get());
}

static void
test_series(void **state)
{
	struct relay_metrics_gauges g = { q_fn, i_fn, o_fn, NULL };
	char *t;

	(void)state;
	relay_metrics_init(&g);
	t = render();
	/* Every series from the start, at 0; gauges read now. */
	has_line(t, "postern_relay_deliveries_total{result=\"delivered\"} 0");
	has_line(t, "postern_relay_deliveries_total{result=\"deferred\"} 0");
	has_line(t, "postern_relay_deliveries_total{result=\"failed\"} 0");
	has_line(t, "postern_relay_messages_total{result=\"deleted\"} 0");
	has_line(t, "postern_relay_dsn_total 0");
	has_line(t, "postern_relay_delivery_seconds_count 0");
	has_line(t, "postern_relay_replies_total{class=\"3xx\"} 0");
	has_line(t, "postern_relay_queue_messages 7");
	has_line(t, "postern_relay_deliveries_in_flight 2");
	has_line(t, "postern_relay_oldest_message_age_seconds 42");
	free(t);

	/* Arrived at 1 s, delivered at 3.5 s: 2.5 s, in the le="2.5" bucket and not below. */
	relay_metrics_delivery(RMR_DELIVERED, 1000, 3500);
	/* A clock set back: an arrival after "now" is 0 s, not 584,000 years. */
	relay_metrics_delivery(RMR_DELIVERED, 5000, 4000);
	relay_metrics_delivery(RMR_DEFERRED, 1000, 3500);
	relay_metrics_delivery(RMR_FAILED, 1000, 3500);
	relay_metrics_delivery(RMR_COUNT, 1000, 3500);
	relay_metrics_message("delivered");
	relay_metrics_message("failed");
	relay_metrics_message("open");
	relay_metrics_message(NULL);
	relay_metrics_dsn();
	relay_metrics_connection(1);
	relay_metrics_connection(1);
	relay_metrics_connection(0);
	relay_metrics_tls("TLSv1.3");
	relay_metrics_tls("TLSv1.2");
	relay_metrics_tls("SSL3.0");	/* not a name of the table: other */
	relay_metrics_tls(NULL);
	relay_metrics_reply(220);
	relay_metrics_reply(354);
	relay_metrics_reply(451);
	relay_metrics_reply(550);
	relay_metrics_reply(599);
	relay_metrics_reply(199);
	relay_metrics_reply(600);
	relay_metrics_reply(-1);
	g_queued = 0;
	t = render();
	has_line(t, "postern_relay_deliveries_total{result=\"delivered\"} 2");
	has_line(t, "postern_relay_deliveries_total{result=\"deferred\"} 1");
	has_line(t, "postern_relay_deliveries_total{result=\"failed\"} 1");
	has_line(t, "postern_relay_delivery_seconds_bucket{le=\"0.01\"} 1");
	has_line(t, "postern_relay_delivery_seconds_bucket{le=\"1\"} 1");
	has_line(t, "postern_relay_delivery_seconds_bucket{le=\"2.5\"} 2");
	has_line(t, "postern_relay_delivery_seconds_bucket{le=\"+Inf\"} 2");
	has_line(t, "postern_relay_delivery_seconds_sum 2.500000");
	has_line(t, "postern_relay_delivery_seconds_count 2");
	has_line(t, "postern_relay_messages_total{result=\"delivered\"} 1");
	has_line(t, "postern_relay_messages_total{result=\"failed\"} 1");
	has_line(t, "postern_relay_messages_total{result=\"deleted\"} 0");
	has_line(t, "postern_relay_dsn_total 1");
	has_line(t, "postern_relay_connections_total 2");
	has_line(t, "postern_relay_connection_failures_total 1");
	has_line(t, "postern_relay_tls_sessions_total{version=\"TLSv1.3\"} 1");
	has_line(t, "postern_relay_tls_sessions_total{version=\"TLSv1.2\"} 1");
	has_line(t, "postern_relay_tls_sessions_total{version=\"other\"} 1");
	has_line(t, "postern_relay_tls_failures_total 1");
	has_line(t, "postern_relay_replies_total{class=\"2xx\"} 1");
	has_line(t, "postern_relay_replies_total{class=\"3xx\"} 1");
	has_line(t, "postern_relay_replies_total{class=\"4xx\"} 1");
	has_line(t, "postern_relay_replies_total{class=\"5xx\"} 2");
	has_line(t, "postern_relay_queue_messages 0");
	/* One HELP and TYPE per family, even with several series in it. */
	assert_non_null(strstr(t, "# TYPE postern_relay_tls_sessions_total counter\n"));
	assert_null(strstr(strstr(t, "# TYPE postern_relay_tls_sessions_total") + 1,
	    "# TYPE postern_relay_tls_sessions_total"));
	assert_non_null(strstr(t, "# TYPE postern_relay_delivery_seconds histogram\n"));
	free(t);
	relay_metrics_free();
	assert_null(relay_metrics_get());
}

/* The names the TLS code gives the metrics: GnuTLS's older ones ("TLS1.1") are mapped. */
static void
test_tls_version_names(void **state)
{
	(void)state;
	assert_string_equal(tls_version_name(GNUTLS_TLS1_3), "TLSv1.3");
	assert_string_equal(tls_version_name(GNUTLS_TLS1_2), "TLSv1.2");
	assert_string_equal(tls_version_name(GNUTLS_TLS1_1), "TLSv1.1");
	assert_string_equal(tls_version_name(GNUTLS_TLS1_0), "TLSv1.0");
	assert_string_equal(tls_version_name(GNUTLS_SSL3), "SSL3.0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_init_nothing),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_tls_version_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
