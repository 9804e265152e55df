/*
 * proxy_wait.c - read a connection's PROXY header on the event loop.
 * The socket is peeked and only the header's own bytes are taken, so
 * whatever follows (a TLS ClientHello) is left for the session. One
 * deadline covers the whole header: a proxy that dribbles it byte by
 * byte gets no more time than one that sends nothing.
 */
#include "proxy_wait.h"
#include "log.h"
#include "proxy.h"
#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct proxy_wait {
	int fd;
	struct event *ev;
	uint64_t deadline_ms;		/* monotonic */
	struct sockaddr_storage peer;
	struct proxy_parser parser;
	proxy_wait_done done;
	void *arg;
	struct proxy_wait *prev, *next;
};

static struct proxy_wait *proxy_wait_list;
static unsigned proxy_wait_n;

static void proxy_wait_on_event(evutil_socket_t fd, short what, void *arg);

unsigned
proxy_wait_count(void)
{
	return proxy_wait_n;
}

static void
proxy_wait_unlink(struct proxy_wait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		proxy_wait_list = w->next;
	if (w->next)
		w->next->prev = w->prev;
	proxy_wait_n--;
	event_free(w->ev);
}

/* Hand the socket over and forget it. */
static void
proxy_wait_finish(struct proxy_wait *w, enum proxy_wait_status st,
    const struct sockaddr_storage *client)
{
	proxy_wait_unlink(w);
	w->done(w->arg, w->fd, st, client, &w->peer);
	free(w);
}

static void
proxy_wait_fail(struct proxy_wait *w, const char *why)
{
	char addr[64];
	unsigned port;

	session_format_addr(&w->peer, addr, sizeof(addr), &port);
	log_info("proxy=%s:%u dropped, no banner: %s", addr, port, why);
	proxy_wait_finish(w, PROXY_WAIT_FAILED, &w->peer);
}

static void
proxy_wait_arm(struct proxy_wait *w)
{
	uint64_t now = clock_ms_mono(), left = w->deadline_ms > now ? w->deadline_ms - now : 0;
	struct timeval tv;

	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	event_add(w->ev, &tv);
}

/* Peek what the header may still have, take what the parser used. */
static void
proxy_wait_read(struct proxy_wait *w)
{
	unsigned char buf[PROXY_V2_HDR + PROXY_V2_LEN_MAX];	/* more than v1's longest line too */
	struct proxy_result res;
	enum proxy_status st;
	size_t want = proxy_want(&w->parser), used;
	const char *why = NULL;
	ssize_t n;

	if (want > sizeof(buf))
		want = sizeof(buf);
	n = recv(w->fd, buf, want, MSG_PEEK);
	if (n == 0) {
		proxy_wait_fail(w, w->parser.total ? "truncated PROXY header" :
		    "closed before a PROXY header");
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			proxy_wait_arm(w);
			return;
		}
		proxy_wait_fail(w, strerror(errno));
		return;
	}
	st = proxy_feed(&w->parser, buf, (size_t)n, &used, &res, &why);
	if (st == PROXY_ERROR) {
		proxy_wait_fail(w, why);
		return;
	}
	/* The bytes are there already: this takes exactly the peeked ones. */
	if (used > 0 && recv(w->fd, buf, used, 0) != (ssize_t)used) {
		proxy_wait_fail(w, "cannot read the PROXY header");
		return;
	}
	if (st == PROXY_MORE) {
		proxy_wait_arm(w);
		return;
	}
	if (res.command == PROXY_CMD_LOCAL) {
		char addr[64];
		unsigned port;

		session_format_addr(&w->peer, addr, sizeof(addr), &port);
		log_debug("proxy=%s:%u PROXY v2 LOCAL (health check), closed", addr, port);
		proxy_wait_finish(w, PROXY_WAIT_LOCAL, &w->peer);
		return;
	}
	proxy_wait_finish(w, PROXY_WAIT_OK, res.command == PROXY_CMD_PROXY ? &res.src : &w->peer);
}

static void
proxy_wait_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait *w = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		proxy_wait_fail(w, w->parser.total ? "truncated PROXY header (timeout)" :
		    "no PROXY header in time");
		return;
	}
	proxy_wait_read(w);
}

void
proxy_wait_start(struct event_base *base, int fd, const struct sockaddr_storage *peer,
    unsigned timeout_s, proxy_wait_done done, void *arg)
{
	struct proxy_wait *w = xcalloc(1, sizeof(*w));

	w->fd = fd;
	w->peer = *peer;
	w->done = done;
	w->arg = arg;
	w->deadline_ms = clock_ms_mono() + (uint64_t)timeout_s * 1000;
	proxy_init(&w->parser);
	w->ev = event_new(base, fd, EV_READ, proxy_wait_on_event, w);
	w->next = proxy_wait_list;
	if (proxy_wait_list)
		proxy_wait_list->prev = w;
	proxy_wait_list = w;
	proxy_wait_n++;
	/*
	 * A proxy sends its header as soon as it has connected, so it is
	 * usually here by the time we accept: read it now, and the event is
	 * only added (two epoll_ctl calls) when it is not. May call done.
	 */
	proxy_wait_read(w);
}

void
proxy_wait_cancel_all(void)
{
	while (proxy_wait_list) {
		struct proxy_wait *w = proxy_wait_list;

		proxy_wait_unlink(w);
		close(w->fd);
		free(w);
	}
}
