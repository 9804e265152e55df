/*
 * server.h - the listeners of postern-smtpd: bind (as root, before the
 * privileges go), accept, and the connection limits (total and per
 * client address), answered with their 421 line and closed.
 */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

struct smtpd;
typedef struct server server;

/* Bind smtpd_listen and smtpd_tls_listen ("127.0.0.1:2525, [::1]:2525"); NULL with err. */
server *server_new(const char *listen, const char *tls_listen, char *err, size_t errlen);
/* Start accepting on d->base (after the privilege drop). */
void server_start(server *srv, struct smtpd *d);
/* SIGTERM: close the listeners; sessions go on. */
void server_stop_accepting(server *srv);
void server_free(server *srv);

/* Number of listeners of each kind (a TLS listener without a certificate is an error). */
size_t server_tls_listeners(const server *srv);

/* A session ended: release its place in the limits. */
void server_conn_closed(server *srv, const struct sockaddr_storage *peer);

#endif
