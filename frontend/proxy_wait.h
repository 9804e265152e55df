/*
 * proxy_wait.h - an accepted connection from a trusted proxy, waiting on
 * the event loop for its PROXY header (before any banner or TLS); the
 * header read, the caller gets the client's address and the socket.
 */
#ifndef POSTERN_PROXY_WAIT_H
#define POSTERN_PROXY_WAIT_H

#include <sys/socket.h>

struct event_base;

enum proxy_wait_status {
	PROXY_WAIT_OK,		/* client holds the address to use from now on */
	PROXY_WAIT_LOCAL,	/* v2 LOCAL (a health check): close quietly */
	PROXY_WAIT_FAILED	/* no usable header (logged once with the peer): close */
};

/*
 * Called once; the socket is the callee's (to close or to hand to a
 * session). client is the proxy's peer address itself for UNKNOWN forms.
 */
typedef void (*proxy_wait_done)(void *arg, int fd, enum proxy_wait_status st,
    const struct sockaddr_storage *client, const struct sockaddr_storage *peer);

/*
 * Start waiting on fd (non-blocking) for at most timeout_s seconds. done may
 * be called before this returns, when the header is already there.
 */
void proxy_wait_start(struct event_base *base, int fd, const struct sockaddr_storage *peer,
    unsigned timeout_s, proxy_wait_done done, void *arg);
/* Connections still waiting (they hold a place in smtpd_max_connections). */
unsigned proxy_wait_count(void);
/* Shutdown: close every connection still waiting, without calling back. */
void proxy_wait_cancel_all(void);

#endif
