/*
 * metrics.h - counters, gauges and histograms of one daemon, rendered in
 * the Prometheus text format (version 0.0.4). Series may be registered,
 * looked up and rendered from any thread (one lock); updates are atomic
 * and take no lock.
 */
#ifndef POSTERN_METRICS_H
#define POSTERN_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics metrics;
typedef struct metrics_series metrics_series;

metrics *metrics_new(void);
void metrics_free(metrics *m);

/*
 * A counter or gauge series of family name (its HELP line from the first
 * series of the family). labels: NULL, or the preformatted inside of the
 * braces, `code="250",enhanced="2.0.0"` (values escaped by the caller).
 */
metrics_series *metrics_counter(metrics *m, const char *name, const char *help, const char *labels);
metrics_series *metrics_gauge(metrics *m, const char *name, const char *help, const char *labels);
/* A gauge read when rendered. */
void metrics_gauge_fn(metrics *m, const char *name, const char *help, const char *labels,
    uint64_t (*fn)(void *arg), void *arg);
/* A histogram of seconds with the given upper bounds (ascending; +Inf is added). */
metrics_series *metrics_histogram(metrics *m, const char *name, const char *help,
    const char *labels, const double *bounds, size_t nbounds);

/*
 * Find a series by family and labels (NULL: none yet). Two threads may
 * both miss and add one each: callers that race add under a lock of theirs.
 */
metrics_series *metrics_find(metrics *m, const char *name, const char *labels);

void metrics_add(metrics_series *s, uint64_t n);
void metrics_inc(metrics_series *s);
void metrics_set(metrics_series *s, uint64_t v);
void metrics_observe_us(metrics_series *h, uint64_t microseconds);
uint64_t metrics_value(const metrics_series *s);

/*
 * TLS sessions by version (label version: TLSv1.3, TLSv1.2, TLSv1.1,
 * TLSv1.0, other) and failed handshakes, as postern-smtpd and
 * postern-relay count them (names from tls_version.h).
 */
#define METRICS_TLS_VERSIONS 4
struct metrics_tls {
	metrics_series *version[METRICS_TLS_VERSIONS], *other, *failed;
};
void metrics_tls_init(metrics *m, struct metrics_tls *t, const char *name, const char *help,
    const char *failed_name, const char *failed_help);
/* A handshake done with version (as GnuTLS names it), or failed (NULL). */
void metrics_tls_count(struct metrics_tls *t, const char *version);

/* The whole exposition, NUL-terminated, malloc'ed; *len its length. */
char *metrics_render(const metrics *m, size_t *len);

#endif
