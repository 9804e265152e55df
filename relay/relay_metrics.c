/* relay_metrics.c - postern-relay's metric series: registered once, counted by the queue and the delivery client. */
#include "relay_metrics.h"
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#define RM_REPLY_CLASSES	4	/* 2xx .. 5xx */

static metrics *rm;
static metrics_series *rm_deliveries[RMR_COUNT], *rm_latency, *rm_dsn;
static metrics_series *rm_messages[3], *rm_conn_ok, *rm_conn_failed;
static struct metrics_tls rm_tls;
static metrics_series *rm_replies[RM_REPLY_CLASSES];
static const char *const rm_fates[3] = { "delivered", "failed", "deleted" };

/*
 * Arrival to the next hop's 250: a healthy relay hands a message on in
 * well under a second, a deferred one shows up minutes or hours later.
 */
static const double rm_latency_bounds[] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
	300, 900, 3600, 14400, 86400 };

void
relay_metrics_init(const struct relay_metrics_gauges *g)
{
	static const char *const result[RMR_COUNT] = {
		"result=\"delivered\"", "result=\"deferred\"", "result=\"failed\""
	};
	char label[64];
	int i;

	rm = metrics_new();
	metrics_gauge_fn(rm, "postern_relay_queue_messages",
	    "Messages in the queue now (held ones included).", NULL, g->queued, g->arg);
	metrics_gauge_fn(rm, "postern_relay_deliveries_in_flight",
	    "Messages handed to the next hop and not answered yet.", NULL, g->inflight, g->arg);
	metrics_gauge_fn(rm, "postern_relay_oldest_message_age_seconds",
	    "Age of the oldest message in the queue (0: empty).", NULL, g->oldest, g->arg);
	for (i = 0; i < RMR_COUNT; i++)
		rm_deliveries[i] = metrics_counter(rm, "postern_relay_deliveries_total",
		    "Recipient outcomes of delivery attempts (failed includes lifetime expired).",
		    result[i]);
	for (i = 0; i < 3; i++) {
		snprintf(label, sizeof(label), "result=\"%s\"", rm_fates[i]);
		rm_messages[i] = metrics_counter(rm, "postern_relay_messages_total",
		    "Messages that left the queue, by fate.", label);
	}
	rm_dsn = metrics_counter(rm, "postern_relay_dsn_total",
	    "Delivery status notifications queued for failed recipients.", NULL);
	rm_latency = metrics_histogram(rm, "postern_relay_delivery_seconds",
	    "From a message's arrival (spool time) to the next hop's 2xx for a recipient.", NULL,
	    rm_latency_bounds, sizeof(rm_latency_bounds) / sizeof(rm_latency_bounds[0]));
	rm_conn_ok = metrics_counter(rm, "postern_relay_connections_total",
	    "Connections to the next hop established.", NULL);
	rm_conn_failed = metrics_counter(rm, "postern_relay_connection_failures_total",
	    "Connections to the next hop that failed (every address refused or timed out).", NULL);
	metrics_tls_init(rm, &rm_tls, "postern_relay_tls_sessions_total",
	    "TLS sessions with the next hop, by version.", "postern_relay_tls_failures_total",
	    "TLS handshakes with the next hop that failed, or whose certificate was refused.");
	for (i = 0; i < RM_REPLY_CLASSES; i++) {
		snprintf(label, sizeof(label), "class=\"%dxx\"", i + 2);
		rm_replies[i] = metrics_counter(rm, "postern_relay_replies_total",
		    "Replies of the next hop, by class.", label);
	}
}

void
relay_metrics_free(void)
{
	metrics_free(rm);
	rm = NULL;
}

const metrics *
relay_metrics_get(void)
{
	return rm;
}

void
relay_metrics_delivery(enum relay_metrics_result r, uint64_t arrival_ms, uint64_t now_ms)
{
	if (rm == NULL || r >= RMR_COUNT)
		return;
	metrics_inc(rm_deliveries[r]);
	if (r == RMR_DELIVERED)
		metrics_observe_us(rm_latency, now_ms > arrival_ms ? (now_ms - arrival_ms) * 1000 : 0);
}

void
relay_metrics_message(const char *fate)
{
	int i;

	if (rm == NULL || fate == NULL)
		return;
	for (i = 0; i < 3; i++)
		if (strcmp(fate, rm_fates[i]) == 0)
			metrics_inc(rm_messages[i]);
}

void
relay_metrics_dsn(void)
{
	if (rm)
		metrics_inc(rm_dsn);
}

void
relay_metrics_connection(int ok)
{
	if (rm)
		metrics_inc(ok ? rm_conn_ok : rm_conn_failed);
}

void
relay_metrics_tls(const char *version)
{
	if (rm)
		metrics_tls_count(&rm_tls, version);
}

void
relay_metrics_reply(int code)
{
	if (rm && code >= 200 && code <= 599)
		metrics_inc(rm_replies[code / 100 - 2]);
}
