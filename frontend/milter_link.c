/*
 * milter_link.c - minimal milter link: a non-blocking connect() to each
 * configured milter at MAIL FROM, bounded by milter_timeout. It speaks no
 * milter protocol on purpose (the full client is its own issue); its one
 * job is that an unreachable milter yields "421 4.3.2 Service not
 * available" (per milter_default_action) instead of an unchecked 250.
 */
#include "milter_link.h"
#include "config.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct milter_addr {
	char *name;
	struct sockaddr_storage ss;
	socklen_t len;
};

struct milter_list {
	struct milter_addr *v;
	size_t n;
};

struct milter_conn {
	milter_check *chk;
	const char *name;		/* the list entry, for logs */
	int fd;
	struct event *ev;
};

struct milter_check {
	struct milter_conn *conns;
	size_t n, left;
	int failed;
	milter_check_done done;
	void *arg;
	struct event *ev_fire;		/* delivers an early verdict outside the caller */
};

/* One entry: inet:host:port, inet6:[addr]:port, unix:/path (also local:). */
static int
milter_parse_one(const char *item, struct milter_addr *a, char *err, size_t errlen)
{
	char host[256], port[16];
	const char *rest, *colon;
	struct addrinfo hints, *res;
	int rc, family = AF_UNSPEC;

	memset(a, 0, sizeof(*a));
	if (strncmp(item, "unix:", 5) == 0 || strncmp(item, "local:", 6) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
		rest = strchr(item, ':') + 1;
		if (*rest == '\0' || strlen(rest) >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "bad milter socket \"%.200s\"", item);
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, rest, strlen(rest) + 1);
		a->len = sizeof(*un);
		a->name = xstrdup(item);
		return 0;
	}
	if (strncmp(item, "inet:", 5) == 0) {
		rest = item + 5;
	} else if (strncmp(item, "inet6:", 6) == 0) {
		rest = item + 6;
		family = AF_INET6;
	} else {
		snprintf(err, errlen, "bad milter socket \"%.200s\" (inet:HOST:PORT or unix:PATH)", item);
		return -1;
	}
	if (*rest == '[') {
		const char *rb = strchr(rest, ']');
		if (rb == NULL || rb[1] != ':' || (size_t)(rb - rest - 1) >= sizeof(host))
			goto bad;
		memcpy(host, rest + 1, (size_t)(rb - rest - 1));
		host[rb - rest - 1] = '\0';
		colon = rb + 1;
	} else {
		if ((colon = strrchr(rest, ':')) == NULL || (size_t)(colon - rest) >= sizeof(host))
			goto bad;
		memcpy(host, rest, (size_t)(colon - rest));
		host[colon - rest] = '\0';
	}
	if (xstrlcpy(port, colon + 1, sizeof(port)) != 0 || port[0] == '\0' || host[0] == '\0')
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "milter \"%.200s\": %s", item, gai_strerror(rc));
		return -1;
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	a->name = xstrdup(item);
	return 0;
bad:
	snprintf(err, errlen, "bad milter socket \"%.200s\"", item);
	return -1;
}

struct milter_parse_ctx {
	milter_list *l;
	char *err;
	size_t errlen;
};

static int
milter_parse_cb(void *ctx, const char *item)
{
	struct milter_parse_ctx *c = ctx;

	c->l->v = xrealloc(c->l->v, (c->l->n + 1) * sizeof(*c->l->v));
	if (milter_parse_one(item, &c->l->v[c->l->n], c->err, c->errlen) != 0)
		return -1;
	c->l->n++;
	return 0;
}

milter_list *
milter_list_parse(const char *spec, char *err, size_t errlen)
{
	milter_list *l = xcalloc(1, sizeof(*l));
	struct milter_parse_ctx c = { l, err, errlen };

	if (config_foreach_item(spec, milter_parse_cb, &c) != 0) {
		milter_list_free(l);
		return NULL;
	}
	return l;
}

void
milter_list_free(milter_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	free(l);
}

size_t
milter_list_count(const milter_list *l)
{
	return l ? l->n : 0;
}

const char *
milter_list_name(const milter_list *l, size_t i)
{
	return i < l->n ? l->v[i].name : "";
}

static void
milter_check_free(milter_check *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->conns[i].ev)
			event_free(c->conns[i].ev);
		if (c->conns[i].fd >= 0)
			close(c->conns[i].fd);
	}
	event_free(c->ev_fire);
	free(c->conns);
	free(c);
}

static void
milter_check_finish(milter_check *c)
{
	milter_check_done done = c->done;
	void *arg = c->arg;
	int ok = !c->failed;

	milter_check_free(c);
	done(arg, ok);
}

static void
milter_on_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	milter_check_finish(arg);
}

static void
milter_conn_done(struct milter_conn *mc, int ok)
{
	milter_check *c = mc->chk;

	if (mc->ev) {
		event_free(mc->ev);
		mc->ev = NULL;
	}
	if (mc->fd >= 0) {
		close(mc->fd);
		mc->fd = -1;
	}
	if (!ok)
		c->failed = 1;
	if (--c->left == 0)
		milter_check_finish(c);
}

static void
milter_on_connect(evutil_socket_t fd, short what, void *arg)
{
	struct milter_conn *mc = arg;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (what & EV_TIMEOUT) {
		log_warnx("milter %s: connect timed out", mc->name);
		milter_conn_done(mc, 0);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
		errno = soerr;
		log_warn("milter %s: connect", mc->name);
		milter_conn_done(mc, 0);
		return;
	}
	milter_conn_done(mc, 1);
}

milter_check *
milter_check_start(struct event_base *base, const milter_list *l, unsigned timeout_s,
    milter_check_done done, void *arg)
{
	milter_check *c = xcalloc(1, sizeof(*c));
	struct timeval tv = { timeout_s ? (time_t)timeout_s : 1, 0 };
	size_t i;

	c->done = done;
	c->arg = arg;
	c->n = c->left = l->n;
	c->conns = xcalloc(l->n ? l->n : 1, sizeof(*c->conns));
	c->ev_fire = event_new(base, -1, 0, milter_on_fire, c);
	for (i = 0; i < l->n; i++) {
		struct milter_conn *mc = &c->conns[i];
		mc->chk = c;
		mc->name = l->v[i].name;
		mc->fd = socket(l->v[i].ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (mc->fd < 0 ||
		    (connect(mc->fd, (const struct sockaddr *)&l->v[i].ss, l->v[i].len) != 0 &&
		    errno != EINPROGRESS)) {
			log_warn("milter %s: connect", l->v[i].name);
			if (mc->fd >= 0)
				close(mc->fd);
			mc->fd = -1;
			c->failed = 1;
			c->left--;
			continue;
		}
		mc->ev = event_new(base, mc->fd, EV_WRITE, milter_on_connect, mc);
		event_add(mc->ev, &tv);
	}
	if (c->left == 0)
		event_active(c->ev_fire, 0, 0);	/* all done already: report from the loop */
	return c;
}

void
milter_check_cancel(milter_check *c)
{
	if (c)
		milter_check_free(c);
}
