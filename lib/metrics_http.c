/* metrics_http.c - GET /metrics on evhttp: the daemon's metrics in Prometheus text format. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "metrics_http.h"
#include "endpoint.h"
#include "metrics.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define METRICS_HTTP_TIMEOUT_S	10	/* a client that sends nothing is gone after this */
#define METRICS_HTTP_HEADERS_MAX	8192

struct metrics_http {
	struct evhttp *http;
	const metrics *m;
};

int
metrics_http_bind(const char *listen_on, const char *key, char *err, size_t errlen)
{
	struct endpoint ep;
	struct addrinfo hints, *res = NULL;
	char why[128], port[8];
	int fd = -1, one = 1, rc;

	if (endpoint_parse(listen_on, ENDPOINT_ALLOW_BARE, 0, &ep, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: bad address \"%.200s\" (HOST:PORT or [V6]:PORT): %s",
		    key, listen_on, why);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", ep.port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ep.family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(ep.host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s \"%.200s\": %s", key, listen_on, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		snprintf(err, errlen, "%s: listen on %.200s: %s", key, listen_on, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static void
metrics_http_free_text(const void *data, size_t len, void *extra)
{
	(void)len;
	(void)extra;
	free((void *)(uintptr_t)data);
}

static void
metrics_http_on_request(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	struct evbuffer *out;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char *text;
	size_t len;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics here");
		return;
	}
	text = metrics_render(h->m, &len);
	out = evbuffer_new();
	evbuffer_add_reference(out, text, len, metrics_http_free_text, NULL);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

metrics_http *
metrics_http_start(struct event_base *base, int fd, const metrics *m)
{
	struct metrics_http *h = xcalloc(1, sizeof(*h));

	h->m = m;
	h->http = evhttp_new(base);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(h->http, METRICS_HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_timeout(h->http, METRICS_HTTP_TIMEOUT_S);
	evhttp_set_gencb(h->http, metrics_http_on_request, h);
	if (evhttp_accept_socket(h->http, fd) != 0) {
		close(fd);	/* cannot happen with a listening socket; nothing served then */
	}
	return h;
}

void
metrics_http_free(metrics_http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->http);
	free(h);
}
