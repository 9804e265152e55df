/* hop_resolve.h - look up the next hop's name off the event loop: a short-lived thread per lookup, the answer back through the loop. */
#ifndef POSTERN_HOP_RESOLVE_H
#define POSTERN_HOP_RESOLVE_H

#include <netdb.h>

struct event_base;

typedef struct hop_resolve hop_resolve;

/* On the loop: rc is getaddrinfo's (0: res is the caller's, to freeaddrinfo). */
typedef void (*hop_resolve_fn)(void *arg, int rc, struct addrinfo *res);

/* Start a lookup of host:port (family AF_UNSPEC, AF_INET or AF_INET6); NULL if no thread could start. */
hop_resolve *hop_resolve_start(struct event_base *base, const char *host, const char *port,
    int family, hop_resolve_fn fn, void *arg);
/* Forget a lookup still running: fn is not called; the thread cleans up when it ends. */
void hop_resolve_cancel(hop_resolve *r);

#endif
