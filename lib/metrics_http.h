/*
 * metrics_http.h - the Prometheus endpoint: GET /metrics over HTTP/1.x
 * from libevent's evhttp on the daemon's own event loop. Bounded (header
 * size, no body, per-connection timeout), so
 * a slow or garbage client costs the mail nothing but a descriptor.
 */
#ifndef POSTERN_METRICS_HTTP_H
#define POSTERN_METRICS_HTTP_H

#include <stddef.h>

struct event_base;
typedef struct metrics metrics;
typedef struct metrics_http metrics_http;

/* Bind "host:port" (before the privileges go): the listening socket, or -1 with err. */
int metrics_http_bind(const char *listen, const char *key, char *err, size_t errlen);
/* Serve m on base from the socket metrics_http_bind made (taken over). */
metrics_http *metrics_http_start(struct event_base *base, int fd, const metrics *m);
void metrics_http_free(metrics_http *h);

#endif
