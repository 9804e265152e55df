/*
 * server.c - listeners, accept and connection limits. Over a limit the
 * client gets its 421 line and the socket is closed at once (on an
 * implicit-TLS listener it is only closed: a plaintext line would be
 * garbage inside a TLS handshake). Behind a trusted proxy the total
 * limit counts at accept, the per-address one once the PROXY header
 * named the real client (proxy_wait.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* accept4 */
#endif
#include "server.h"
#include "config.h"
#include "endpoint.h"
#include "log.h"
#include "proxy_nets.h"
#include "proxy_wait.h"
#include "reply.h"
#include "sdnotify.h"
#include "session.h"
#include "smtpd_metrics.h"
#include "smtpd.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_BACKLOG		4096
#define SERVER_ACCEPT_BATCH	256	/* accepts per wakeup, so one listener cannot starve the loop */
#define SERVER_IP_BUCKETS	4096
#define SERVER_ACTIVATED_MAX	64	/* sockets systemd may pass */

struct listener {
	int fd;
	int tls;
	char name[128];
	struct event *ev;
	server *srv;
};

/* Open connections of one client address. */
struct ip_count {
	unsigned char key[17];		/* family byte + 16 address bytes (IPv4 in the first 4) */
	unsigned n;
	struct ip_count *next;
};

struct server {
	struct listener *v;
	size_t n;
	struct smtpd *d;
	unsigned nconn;
	struct ip_count *ips[SERVER_IP_BUCKETS];
	struct event *ev_resume;	/* re-arm the listeners after EMFILE */
};

struct bind_ctx {
	server *srv;
	int tls;
	const char *key;	/* the config key, for errors */
	char *err;
	size_t errlen;
};

static int
server_bind_one(void *arg, const char *item)
{
	struct bind_ctx *c = arg;
	struct endpoint ep;
	char why[128], port[8];
	struct addrinfo hints, *res, *ai;
	int rc, one = 1;

	if (endpoint_parse(item, ENDPOINT_ALLOW_BARE | ENDPOINT_ALLOW_ANY, 0, &ep, why, sizeof(why)) != 0) {
		snprintf(c->err, c->errlen, "%s: bad address \"%.200s\" (HOST:PORT or [V6]:PORT): %s",
		    c->key, item, why);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", ep.port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ep.family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(ep.host[0] ? ep.host : NULL, port, &hints, &res)) != 0) {
		snprintf(c->err, c->errlen, "listen address \"%.200s\": %s", item, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct listener *l;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			goto sockerr;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		/*
		 * Replies leave in one write per flush already; Nagle would only
		 * add delayed-ACK stalls. Linux copies TCP_NODELAY from the
		 * listener to every accepted socket (server_on_accept relies on it).
		 */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SERVER_BACKLOG) != 0) {
			close(fd);
			goto sockerr;
		}
		c->srv->v = xrealloc(c->srv->v, (c->srv->n + 1) * sizeof(*c->srv->v));
		l = &c->srv->v[c->srv->n++];
		memset(l, 0, sizeof(*l));
		l->fd = fd;
		l->tls = c->tls;
		l->srv = c->srv;
		snprintf(l->name, sizeof(l->name), "%s%s", item, c->tls ? " (tls)" : "");
	}
	freeaddrinfo(res);
	return 0;
sockerr:
	snprintf(c->err, c->errlen, "listen on %.200s: %s", item, strerror(errno));
	freeaddrinfo(res);
	return -1;
}

/* Implicit TLS on a socket systemd passed: told by its FileDescriptorName. */
static int
server_activated_tls(const char *name)
{
	return strcmp(name, "submissions") == 0 || strcmp(name, "smtps") == 0 ||
	    strcmp(name, "tls") == 0;
}

/* Socket activation: take systemd's listeners instead of binding. 1 taken, 0 none, -1 error. */
static int
server_adopt(server *srv, char *err, size_t errlen)
{
	struct sdnotify_fd fds[SERVER_ACTIVATED_MAX];
	int n, i;

	if ((n = sdnotify_listen_fds(fds, SERVER_ACTIVATED_MAX, err, errlen)) <= 0)
		return n;
	srv->v = xcalloc((size_t)n, sizeof(*srv->v));
	for (i = 0; i < n; i++) {
		struct listener *l = &srv->v[srv->n++];
		int fl;

		l->fd = fds[i].fd;	/* closed by server_free whatever happens next */
		fl = fcntl(l->fd, F_GETFL);

		/* The accept loop drains the backlog until EAGAIN. */
		if (fl < 0 || fcntl(fds[i].fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
		    fcntl(fds[i].fd, F_SETFD, FD_CLOEXEC) != 0) {
			snprintf(err, errlen, "socket activation: descriptor %d: %s", fds[i].fd,
			    strerror(errno));
			return -1;
		}
		l->tls = server_activated_tls(fds[i].name);
		l->srv = srv;
		snprintf(l->name, sizeof(l->name), "fd %d \"%s\" from systemd%s", fds[i].fd,
		    fds[i].name, l->tls ? " (tls)" : "");
	}
	return 1;
}

server *
server_new(const char *listen, const char *tls_listen, char *err, size_t errlen)
{
	server *srv = xcalloc(1, sizeof(*srv));
	struct bind_ctx c = { srv, 0, "smtpd_listen", err, errlen };

	switch (server_adopt(srv, err, errlen)) {
	case 1:
		return srv;	/* smtpd_listen and smtpd_tls_listen give way to the unit's sockets */
	case -1:
		goto fail;
	default:
		break;
	}
	if (config_foreach_item(listen, server_bind_one, &c) != 0)
		goto fail;
	c.tls = 1;
	c.key = "smtpd_tls_listen";
	if (config_foreach_item(tls_listen, server_bind_one, &c) != 0)
		goto fail;
	if (srv->n == 0) {
		snprintf(err, errlen, "no listener: smtpd_listen and smtpd_tls_listen are both empty");
		goto fail;
	}
	return srv;
fail:
	server_free(srv);
	return NULL;
}

size_t
server_tls_listeners(const server *srv)
{
	size_t i, n = 0;

	for (i = 0; i < srv->n; i++)
		n += srv->v[i].tls;
	return n;
}

static void
server_ip_key(const struct sockaddr_storage *ss, unsigned char key[17])
{
	memset(key, 0, 17);
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			key[0] = 4;
			memcpy(key + 1, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, &s6->sin6_addr, 16);
		}
	} else if (ss->ss_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static struct ip_count **
server_ip_slot(server *srv, const unsigned char key[17])
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	struct ip_count **pp;
	int i;

	for (i = 0; i < 17; i++)
		h = (h ^ key[i]) * 16777619u;
	for (pp = &srv->ips[h % SERVER_IP_BUCKETS]; *pp; pp = &(*pp)->next)
		if (memcmp((*pp)->key, key, 17) == 0)
			break;
	return pp;
}

void
server_conn_closed(server *srv, const struct sockaddr_storage *peer)
{
	unsigned char key[17];
	struct ip_count **pp, *e;

	if (srv->nconn > 0)
		srv->nconn--;
	server_ip_key(peer, key);
	pp = server_ip_slot(srv, key);
	if ((e = *pp) != NULL && --e->n == 0) {
		*pp = e->next;
		free(e);
	}
}

/* Over a limit: counted by reason, logged, the 421 line (plain listeners only), then close. */
static void
server_refuse(struct listener *l, int fd, int id, enum smtpd_refusal why,
    const struct sockaddr_storage *client)
{
	char line[256], addr[64];
	unsigned port;
	size_t n;

	smtpd_metrics_refused(why);
	session_format_addr(client, addr, sizeof(addr), &port);
	log_info("refused client=%s: %s", addr, reply_get(id)->text);
	if (!l->tls) {
		smtpd_metrics_reply_id(id);
		n = reply_format(id, NULL, line, sizeof(line) - 2);
		line[n++] = '\r';
		line[n++] = '\n';
		if (send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* The client is gone already. */
		}
		shutdown(fd, SHUT_WR);
	}
	close(fd);
}

static void
server_on_resume(evutil_socket_t fd, short what, void *arg)
{
	server *srv = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->n; i++)
		if (srv->v[i].ev)
			event_add(srv->v[i].ev, NULL);
}

/*
 * A connection counted in nconn, its client known: the per-address
 * limit, then the session. Over the limit the place in nconn is given
 * back.
 */
static void
server_admit(struct listener *l, int fd, const struct sockaddr_storage *client,
    const struct sockaddr_storage *proxy)
{
	server *srv = l->srv;
	struct smtpd *d = srv->d;
	unsigned char key[17];
	struct ip_count **pp;

	server_ip_key(client, key);
	pp = server_ip_slot(srv, key);
	if (*pp && d->cfg->smtpd_max_connections_per_ip &&
	    (*pp)->n >= d->cfg->smtpd_max_connections_per_ip) {
		srv->nconn--;
		server_refuse(l, fd, R_CLIENT_CONN_LIMIT, SMR_PER_IP, client);
		return;
	}
	if (*pp == NULL) {
		*pp = xcalloc(1, sizeof(**pp));
		memcpy((*pp)->key, key, 17);
	}
	(*pp)->n++;
	smtpd_metrics_connection();
	session_new(srv->d, fd, client, proxy, l->tls);
}

/* The PROXY header is read (or not): the client it names is admitted like a direct one. */
static void
server_on_proxied(void *arg, int fd, enum proxy_wait_status st,
    const struct sockaddr_storage *client, const struct sockaddr_storage *peer)
{
	struct listener *l = arg;
	server *srv = l->srv;

	if (st != PROXY_WAIT_OK) {
		if (st == PROXY_WAIT_FAILED)
			smtpd_metrics_refused(SMR_PROXY);
		srv->nconn--;
		close(fd);
		return;
	}
	if (srv->d->shutting_down) {
		srv->nconn--;
		server_refuse(l, fd, R_SHUTDOWN, SMR_SHUTDOWN, client);
		return;
	}
	server_admit(l, fd, client, peer);
}

static void
server_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;
	server *srv = l->srv;
	struct smtpd *d = srv->d;
	int i;

	(void)what;
	for (i = 0; i < SERVER_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char addr[64];
		unsigned port;
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: pause accepting for a second instead of spinning. */
				struct timeval tv = { 1, 0 };
				size_t j;
				log_warn("accept on %s", l->name);
				for (j = 0; j < srv->n; j++)
					if (srv->v[j].ev)
						event_del(srv->v[j].ev);
				event_add(srv->ev_resume, &tv);
			}
			return;
		}
#ifndef __linux__
		{
			/* Elsewhere an accepted socket may not inherit the listener's TCP_NODELAY. */
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
#endif
		if (d->shutting_down) {
			server_refuse(l, fd, R_SHUTDOWN, SMR_SHUTDOWN, &ss);
			continue;
		}
		if (d->proxy != NULL && !proxy_nets_match(d->proxy, &ss)) {
			/* Not one of our proxies: nothing it says can be trusted, not even a banner. */
			session_format_addr(&ss, addr, sizeof(addr), &port);
			log_info("proxy=%s:%u dropped, no banner: not in smtpd_proxy_protocol",
			    addr, port);
			smtpd_metrics_refused(SMR_PROXY);
			close(fd);
			continue;
		}
		if (d->cfg->smtpd_max_connections && srv->nconn >= d->cfg->smtpd_max_connections) {
			server_refuse(l, fd, R_TOO_MANY_CONN, SMR_MAX_CONNECTIONS, &ss);
			continue;
		}
		srv->nconn++;
		if (d->proxy != NULL) {
			proxy_wait_start(d->base, fd, &ss, d->cfg->smtpd_proxy_timeout,
			    server_on_proxied, l);
			continue;
		}
		server_admit(l, fd, &ss, NULL);
	}
}

void
server_start(server *srv, struct smtpd *d)
{
	size_t i;

	srv->d = d;
	srv->ev_resume = evtimer_new(d->base, server_on_resume, srv);
	for (i = 0; i < srv->n; i++) {
		struct listener *l = &srv->v[i];
		l->ev = event_new(d->base, l->fd, EV_READ | EV_PERSIST, server_on_accept, l);
		event_add(l->ev, NULL);
		log_info("listening on %s", l->name);
	}
}

void
server_stop_accepting(server *srv)
{
	size_t i;

	for (i = 0; i < srv->n; i++) {
		if (srv->v[i].ev) {
			event_free(srv->v[i].ev);
			srv->v[i].ev = NULL;
		}
		if (srv->v[i].fd >= 0) {
			close(srv->v[i].fd);
			srv->v[i].fd = -1;
		}
	}
	if (srv->ev_resume)
		event_del(srv->ev_resume);
}

void
server_free(server *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	server_stop_accepting(srv);
	proxy_wait_cancel_all();	/* headers still awaited at exit */
	if (srv->ev_resume)
		event_free(srv->ev_resume);
	for (i = 0; i < SERVER_IP_BUCKETS; i++) {
		while (srv->ips[i]) {
			struct ip_count *e = srv->ips[i];
			srv->ips[i] = e->next;
			free(e);
		}
	}
	free(srv->v);
	free(srv);
}
