/*
 * session.h - one SMTP connection of postern-smtpd: drives the protocol
 * core (commands.c) from socket events, streams DATA/BDAT into the spool,
 * and runs the slow parts (AUTH, spool commit, milter check) off the loop
 * while holding the session's input.
 */
#ifndef POSTERN_SESSION_H
#define POSTERN_SESSION_H

#include <sys/socket.h>

struct smtpd;

/*
 * Take over an accepted non-blocking socket; the banner goes out at once
 * (after the handshake for implicit TLS). peer is the client; proxy the
 * PROXY-protocol peer it came through (logged on connect), or NULL.
 */
void session_new(struct smtpd *d, int fd, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *proxy, int implicit_tls);

/*
 * SIGTERM: idle sessions get "421 4.3.2 Service shutting down" and close
 * now, sessions in a transaction when it ends; force: all of them now.
 */
void session_shutdown_all(struct smtpd *d, int force);
unsigned session_count(void);

/* "1.2.3.4" / "::1" for a peer address (no DNS). */
void session_format_addr(const struct sockaddr_storage *ss, char *out, size_t outsize, unsigned *port);

#endif
