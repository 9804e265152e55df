/* hop_resolve.c - getaddrinfo() in a detached thread, so a slow resolver never holds up the deliveries already running. */
#include "hop_resolve.h"
#include "hop_addr.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

struct hop_resolve {
	pthread_mutex_t mu;
	int refs;		/* the thread and the loop side, each lets go once */
	int fds[2];		/* the thread writes one byte to fds[1] when done */
	char host[HOP_HOST_MAX], port[8];
	int family;
	int rc;
	struct addrinfo *res;
	struct event *ev;	/* loop side only */
	hop_resolve_fn fn;
	void *arg;
};

static void
hop_resolve_unref(hop_resolve *r)
{
	int left;

	pthread_mutex_lock(&r->mu);
	left = --r->refs;
	pthread_mutex_unlock(&r->mu);
	if (left > 0)
		return;
	close(r->fds[0]);
	close(r->fds[1]);
	if (r->res != NULL)
		freeaddrinfo(r->res);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void *
hop_resolve_thread(void *arg)
{
	hop_resolve *r = arg;
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = r->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	{
		struct addrinfo *res = NULL;
		int rc = getaddrinfo(r->host, r->port, &hints, &res);

		pthread_mutex_lock(&r->mu);
		r->rc = rc;
		r->res = rc == 0 ? res : NULL;
		pthread_mutex_unlock(&r->mu);
	}
	/* The socketpair lives until the last reference goes: this send cannot hit a closed end. */
	(void)send(r->fds[1], "x", 1, MSG_NOSIGNAL);
	hop_resolve_unref(r);
	return NULL;
}

static void
hop_resolve_ready(evutil_socket_t fd, short what, void *arg)
{
	hop_resolve *r = arg;
	struct addrinfo *res;
	int rc;

	(void)fd;
	(void)what;
	event_free(r->ev);
	r->ev = NULL;
	pthread_mutex_lock(&r->mu);
	res = r->res;
	rc = r->rc;
	r->res = NULL;
	pthread_mutex_unlock(&r->mu);
	r->fn(r->arg, rc, res);
	hop_resolve_unref(r);
}

hop_resolve *
hop_resolve_start(struct event_base *base, const char *host, const char *port, int family,
    hop_resolve_fn fn, void *arg)
{
	hop_resolve *r = xcalloc(1, sizeof(*r));
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->fds) != 0) {
		log_warn("socketpair for a name lookup");
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	r->refs = 2;
	xstrlcpy(r->host, host, sizeof(r->host));
	xstrlcpy(r->port, port, sizeof(r->port));
	r->family = family;
	r->fn = fn;
	r->arg = arg;
	r->ev = event_new(base, r->fds[0], EV_READ, hop_resolve_ready, r);
	event_add(r->ev, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &attr, hop_resolve_thread, r);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		log_warnx("thread for a name lookup: %s", strerror(err));
		event_free(r->ev);
		r->refs = 1;
		hop_resolve_unref(r);
		return NULL;
	}
	return r;
}

void
hop_resolve_cancel(hop_resolve *r)
{
	if (r->ev != NULL) {
		event_free(r->ev);
		r->ev = NULL;
	}
	hop_resolve_unref(r);
}
