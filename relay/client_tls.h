/* client_tls.h - GnuTLS client side for the relay: non-blocking STARTTLS, certificate check for relay_tls = verify. */
#ifndef POSTERN_CLIENT_TLS_H
#define POSTERN_CLIENT_TLS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct client_tls client_tls;		/* credentials shared by every connection of a hop */
typedef struct client_tls_conn client_tls_conn;

enum client_tls_status {
	CTLS_OK = 0,
	CTLS_WANT_READ = -1,
	CTLS_WANT_WRITE = -2,
	CTLS_CLOSED = -3,
	CTLS_ERROR = -4
};

/* verify: load ca_file (empty: the system trust store) to check certificates. NULL and err naming the file on failure. */
client_tls *client_tls_new(int verify, const char *ca_file, char *err, size_t errlen);
void client_tls_free(client_tls *t);

/* Wrap a connected non-blocking socket (not owned); host is the next hop's name for SNI and verification. */
client_tls_conn *client_tls_conn_new(client_tls *t, int fd, const char *host);
void client_tls_conn_free(client_tls_conn *c);
int client_tls_handshake(client_tls_conn *c);
/* After the handshake, with verify: 0 when the chain and the name check out, else -1 and why in out. */
int client_tls_verify(client_tls_conn *c, char *out, size_t outsize);
ssize_t client_tls_read(client_tls_conn *c, void *buf, size_t len);
/* Like gnutls_record_send: after CTLS_WANT_*, call again with the same bytes. */
ssize_t client_tls_write(client_tls_conn *c, const void *buf, size_t len);
size_t client_tls_pending(client_tls_conn *c);
/* Does a CTLS_WANT_* mean wait for writable (1) or readable (0)? */
int client_tls_wants_write(client_tls_conn *c);
void client_tls_bye(client_tls_conn *c);
const char *client_tls_error(client_tls_conn *c);
/* After the handshake: "TLSv1.3", "TLSv1.2" (Postfix's spelling), else GnuTLS's name. */
const char *client_tls_version(client_tls_conn *c);
/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384", for logs. */
void client_tls_describe(client_tls_conn *c, char *out, size_t outsize);

#endif
