/* tls.h - GnuTLS server side for postern-smtpd: non-blocking, one handle per connection. */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct tls_server tls_server;	/* credentials + priorities; reloadable */
typedef struct tls_conn tls_conn;

enum tls_status {
	TLS_OK = 0,		/* done / bytes moved */
	TLS_WANT_READ = -1,	/* wait until the socket is readable, then call again */
	TLS_WANT_WRITE = -2,	/* wait until the socket is writable, then call again */
	TLS_CLOSED = -3,	/* peer closed the TLS session (close_notify or EOF) */
	TLS_ERROR = -4		/* fatal; log tls_conn_error() and drop the connection */
};

/* Load cert/key (PEM). NULL with a reason in err naming the file. TLS 1.2 and 1.3 only. */
tls_server *tls_server_new(const char *cert_file, const char *key_file, char *err, size_t errlen);
/*
 * Replace the GnuTLS priority string (smtpd_tls_priority; NULL or "": the
 * built-in forward-secret AEAD set). Before the first connection only.
 * 0, or -1 with a reason in err (the old one kept).
 */
int tls_server_set_priority(tls_server *srv, const char *prio, char *err, size_t errlen);
/*
 * SIGHUP: reload the files; sessions already running keep the old
 * credentials (refcounted), new ones get the new. 0 ok, -1 with err (old kept).
 */
int tls_server_reload(tls_server *srv, const char *cert_file, const char *key_file,
    char *err, size_t errlen);
void tls_server_free(tls_server *srv);
/* Ask new connections' clients for a certificate (never required, never verified). */
void tls_server_ask_ccert(tls_server *srv, int on);

/* Wrap an accepted, non-blocking socket. The fd stays owned by the caller. */
tls_conn *tls_conn_new(tls_server *srv, int fd);
void tls_conn_free(tls_conn *c);

/* Drive the handshake: TLS_OK when complete, WANT_* to wait, ERROR. */
int tls_conn_handshake(tls_conn *c);
/* >0 bytes read, or a negative tls_status. */
ssize_t tls_conn_read(tls_conn *c, void *buf, size_t len);
/* >0 bytes written (may be partial), or a negative tls_status. */
ssize_t tls_conn_write(tls_conn *c, const void *buf, size_t len);
/* Decrypted bytes already buffered inside GnuTLS (read them before waiting on the fd). */
size_t tls_conn_pending(tls_conn *c);
/* Best-effort close_notify (non-blocking). */
void tls_conn_bye(tls_conn *c);

/* After the handshake: "TLSv1.3", "TLS_AES_256_GCM_SHA384"-style names, for logs, spool and milter macros. */
const char *tls_conn_version(tls_conn *c);
const char *tls_conn_cipher(tls_conn *c);
unsigned tls_conn_cipher_bits(tls_conn *c);
const char *tls_conn_error(tls_conn *c);
/*
 * Common names of the client certificate's subject and issuer, as Postfix
 * gives them to milters; 0, or -1 (both "") when none was presented.
 */
int tls_conn_peer_cn(tls_conn *c, char *subject, size_t slen, char *issuer, size_t ilen);

#endif
