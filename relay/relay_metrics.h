/*
 * relay_metrics.h - what postern-relay counts for its metrics endpoint
 * (names and labels: postern-relay(8), METRICS). The queue counts the
 * outcomes, the delivery client the connections, TLS and replies of the
 * next hop. Before relay_metrics_init() (relay_deliver_tool, unit tests)
 * every call does nothing.
 */
#ifndef POSTERN_RELAY_METRICS_H
#define POSTERN_RELAY_METRICS_H

#include <stdint.h>

typedef struct metrics metrics;

/* One recipient's outcome of one attempt. */
enum relay_metrics_result { RMR_DELIVERED, RMR_DEFERRED, RMR_FAILED, RMR_COUNT };

/* The gauges read at render time. */
struct relay_metrics_gauges {
	uint64_t (*queued)(void *arg);		/* messages in the queue */
	uint64_t (*inflight)(void *arg);	/* deliveries handed to the next hop */
	uint64_t (*oldest)(void *arg);		/* age of the oldest queued message, seconds */
	void *arg;
};

/* Register every series (all at 0). */
void relay_metrics_init(const struct relay_metrics_gauges *g);
void relay_metrics_free(void);
const metrics *relay_metrics_get(void);

/* A recipient's outcome; a delivered one adds arrival (spool time) to now to the latency histogram. */
void relay_metrics_delivery(enum relay_metrics_result r, uint64_t arrival_ms, uint64_t now_ms);
/* A message left the queue: fate "delivered", "failed" or "deleted" (journal_fate_name). */
void relay_metrics_message(const char *fate);
void relay_metrics_dsn(void);
/* A connection to the next hop: ok (greeting awaited) or failed (no address answered). */
void relay_metrics_connection(int ok);
/* A TLS handshake with the next hop: the version ("TLSv1.3"), or NULL when it or the check failed. */
void relay_metrics_tls(const char *version);
/* A complete reply of the next hop (greeting and EHLO included), by class. */
void relay_metrics_reply(int code);

#endif
