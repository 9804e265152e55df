/* tls.c - GnuTLS server side for postern-smtpd: credentials, non-blocking sessions, names for logs. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "log.h"
#include "tls_version.h"
#include "xalloc.h"

/*
 * TLS 1.2 and 1.3 only, and in TLS 1.2 only forward-secret key exchange
 * (ECDHE, DHE) with AEAD ciphers: a static-RSA session can be decrypted by
 * whoever later gets the key, and the CBC suites are the ones padding
 * oracles (Lucky13 and kin) attack. Every client of the last decade
 * offers one of these; smtpd_tls_priority widens the set for the others.
 */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:" \
	"-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-CCM:+AES-128-CCM:" \
	"-MAC-ALL:+AEAD"

/*
 * One loaded certificate/key pair. A session keeps a reference to the pair
 * it started with, because GnuTLS reads the credentials during the whole
 * session (and renegotiation-free TLS still needs them for tickets); a
 * reload therefore cannot free them under a running session.
 * All refcounts here are touched on the event-loop thread only.
 */
struct tls_creds {
	gnutls_certificate_credentials_t cred;
	unsigned refs;
};

/*
 * The server is refcounted too (one ref for the owner, one per connection)
 * so that tls_server_free() during shutdown cannot pull the priority cache
 * or the ticket key from under a connection that is still being torn down.
 */
struct tls_server {
	struct tls_creds *creds;	/* current pair: new connections use it */
	gnutls_priority_t prio;
	gnutls_datum_t ticket_key;	/* one per process: tickets survive a reload */
	unsigned refs;
	int ask_ccert;			/* smtpd_tls_ask_ccert */
};

/*
 * Kept small on purpose: thousands of idle connections each hold one.
 * Names are static strings from GnuTLS or from this file, never copies.
 */
struct tls_conn {
	gnutls_session_t s;
	tls_server *srv;
	struct tls_creds *creds;
	const char *err;		/* static text of the last failure */
	int gnutls_err;			/* the GnuTLS code behind err, 0 if ours */
	int done;			/* handshake complete */
};

static void
tls_creds_unref(struct tls_creds *cr)
{
	if (cr == NULL || --cr->refs > 0)
		return;
	gnutls_certificate_free_credentials(cr->cred);
	free(cr);
}

static void
tls_server_unref(tls_server *srv)
{
	if (--srv->refs > 0)
		return;
	tls_creds_unref(srv->creds);
	gnutls_priority_deinit(srv->prio);
	gnutls_memset(srv->ticket_key.data, 0, srv->ticket_key.size);
	gnutls_free(srv->ticket_key.data);
	free(srv);
}

/* Release a file image read by gnutls_load_file(); key material is wiped first. */
static void
tls_datum_wipe(gnutls_datum_t *d)
{
	if (d->data != NULL) {
		gnutls_memset(d->data, 0, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/*
 * Read one PEM file; the message names it. gnutls_load_file() keeps errno
 * from fopen/fread, which tells "missing" from "unreadable".
 */
static int
tls_load(const char *path, gnutls_datum_t *d, char *err, size_t errlen)
{
	int ret;

	errno = 0;
	if ((ret = gnutls_load_file(path, d)) < 0) {
		snprintf(err, errlen, "%s: %s", path,
		    errno != 0 ? strerror(errno) : gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

/*
 * After gnutls_certificate_set_x509_key_mem2() failed: find out which file
 * is at fault, since its error code alone does not say, and operators need
 * the file name.
 */
static void
tls_blame(int ret, const char *cert_file, const gnutls_datum_t *cert,
    const char *key_file, char *err, size_t errlen)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0, i;
	int r;

	if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		snprintf(err, errlen, "%s and %s: the key does not match the certificate",
		    cert_file, key_file);
		return;
	}
	r = gnutls_x509_crt_list_import2(&list, &n, cert, GNUTLS_X509_FMT_PEM, 0);
	if (r >= 0) {
		for (i = 0; i < n; i++)
			gnutls_x509_crt_deinit(list[i]);
		gnutls_free(list);
		snprintf(err, errlen, "%s: %s", key_file, gnutls_strerror(ret));
	} else {
		snprintf(err, errlen, "%s: %s", cert_file, gnutls_strerror(r));
	}
}

/* Load a certificate chain and its key into a fresh credentials object (refs 1). */
static struct tls_creds *
tls_creds_load(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	gnutls_datum_t cert = { NULL, 0 }, key = { NULL, 0 };
	struct tls_creds *cr;
	int ret;

	if (cert_file == NULL || *cert_file == '\0' || key_file == NULL || *key_file == '\0') {
		snprintf(err, errlen, "TLS needs both a certificate and a key file");
		return NULL;
	}
	if (tls_load(cert_file, &cert, err, errlen) != 0)
		return NULL;
	if (tls_load(key_file, &key, err, errlen) != 0) {
		tls_datum_wipe(&cert);
		return NULL;
	}
	cr = xcalloc(1, sizeof(*cr));
	cr->refs = 1;
	if ((ret = gnutls_certificate_allocate_credentials(&cr->cred)) < 0)
		log_fatalx("gnutls_certificate_allocate_credentials: %s", gnutls_strerror(ret));
	ret = gnutls_certificate_set_x509_key_mem2(cr->cred, &cert, &key,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	if (ret < 0) {
		tls_blame(ret, cert_file, &cert, key_file, err, errlen);
		tls_datum_wipe(&cert);
		tls_datum_wipe(&key);
		gnutls_certificate_free_credentials(cr->cred);
		free(cr);
		return NULL;
	}
	tls_datum_wipe(&cert);
	tls_datum_wipe(&key);
	/* RFC 7919 groups for DHE in TLS 1.2: no parameter file to generate or ship. */
	gnutls_certificate_set_known_dh_params(cr->cred, GNUTLS_SEC_PARAM_MEDIUM);
	return cr;
}

tls_server *
tls_server_new(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	tls_server *srv;
	const char *where = NULL;
	int ret;

	srv = xcalloc(1, sizeof(*srv));
	srv->refs = 1;
	if ((ret = gnutls_priority_init(&srv->prio, TLS_PRIORITIES, &where)) < 0) {
		/* Only a broken system-wide GnuTLS config gets here. */
		snprintf(err, errlen, "TLS priorities \"%s\": %s at \"%s\"", TLS_PRIORITIES,
		    gnutls_strerror(ret), where ? where : "?");
		free(srv);
		return NULL;
	}
	if ((ret = gnutls_session_ticket_key_generate(&srv->ticket_key)) < 0) {
		snprintf(err, errlen, "TLS session ticket key: %s", gnutls_strerror(ret));
		gnutls_priority_deinit(srv->prio);
		free(srv);
		return NULL;
	}
	if ((srv->creds = tls_creds_load(cert_file, key_file, err, errlen)) == NULL) {
		tls_server_unref(srv);
		return NULL;
	}
	return srv;
}

int
tls_server_set_priority(tls_server *srv, const char *prio, char *err, size_t errlen)
{
	gnutls_priority_t p;
	const char *where = NULL;
	int ret;

	if (prio == NULL || *prio == '\0')
		prio = TLS_PRIORITIES;
	if ((ret = gnutls_priority_init(&p, prio, &where)) < 0) {
		snprintf(err, errlen, "smtpd_tls_priority \"%.200s\": %s at \"%.64s\"", prio,
		    gnutls_strerror(ret), where ? where : "?");
		return -1;
	}
	gnutls_priority_deinit(srv->prio);
	srv->prio = p;
	return 0;
}

int
tls_server_reload(tls_server *srv, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	struct tls_creds *cr = tls_creds_load(cert_file, key_file, err, errlen);

	if (cr == NULL)
		return -1;
	tls_creds_unref(srv->creds);	/* freed now, or when its last session ends */
	srv->creds = cr;
	return 0;
}

void
tls_server_free(tls_server *srv)
{
	if (srv != NULL)
		tls_server_unref(srv);
}

/* GnuTLS failing where only memory or a programming error can be the cause. */
static void
tls_check(int ret, const char *what)
{
	if (ret < 0) {
		log_warnx("%s: %s", what, gnutls_strerror(ret));
		abort();
	}
}

tls_conn *
tls_conn_new(tls_server *srv, int fd)
{
	tls_conn *c = xcalloc(1, sizeof(*c));

	/* NO_SIGNAL: a peer that vanishes gives EPIPE, not a SIGPIPE that kills the daemon. */
	tls_check(gnutls_init(&c->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL),
	    "gnutls_init");
	tls_check(gnutls_priority_set(c->s, srv->prio), "gnutls_priority_set");
	tls_check(gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, srv->creds->cred),
	    "gnutls_credentials_set");
	/* Resumption spares the client a full handshake on each submission. */
	tls_check(gnutls_session_ticket_enable_server(c->s, &srv->ticket_key),
	    "gnutls_session_ticket_enable_server");
	/* Asked only for the milter macros: a client without one, or an untrusted one, is fine. */
	gnutls_certificate_server_set_request(c->s, srv->ask_ccert ? GNUTLS_CERT_REQUEST :
	    GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(c->s, fd);
	c->srv = srv;
	srv->refs++;
	c->creds = srv->creds;
	c->creds->refs++;
	return c;
}

void
tls_conn_free(tls_conn *c)
{
	if (c == NULL)
		return;
	gnutls_deinit(c->s);
	tls_creds_unref(c->creds);
	tls_server_unref(c->srv);
	free(c);
}

/* Record a fatal error for tls_conn_error() and return TLS_ERROR. */
static int
tls_fail(tls_conn *c, int ret, const char *why)
{
	c->gnutls_err = ret;
	c->err = why != NULL ? why : gnutls_strerror(ret);
	return TLS_ERROR;
}

/* Which way to wait after GNUTLS_E_AGAIN / E_INTERRUPTED. */
static int
tls_want(tls_conn *c)
{
	return gnutls_record_get_direction(c->s) == 1 ? TLS_WANT_WRITE : TLS_WANT_READ;
}

int
tls_conn_handshake(tls_conn *c)
{
	int ret;

	if (c->done)
		return TLS_OK;
	for (;;) {
		ret = gnutls_handshake(c->s);
		if (ret == GNUTLS_E_SUCCESS) {
			c->done = 1;
			return TLS_OK;
		}
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
			return tls_want(c);
		/*
		 * Warning alerts are not fatal: GnuTLS consumed the alert, so
		 * calling again makes progress and cannot spin.
		 */
		if (gnutls_error_is_fatal(ret)) {
			/*
			 * Tell the client why (protocol_version, handshake_failure...)
			 * so its log says more than "connection reset". Best effort:
			 * the socket is non-blocking and we drop it next anyway.
			 */
			(void)gnutls_alert_send_appropriate(c->s, ret);
			return tls_fail(c, ret, NULL);
		}
	}
}

ssize_t
tls_conn_read(tls_conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (len == 0)
		return 0;
	for (;;) {
		n = gnutls_record_recv(c->s, buf, len);
		if (n > 0)
			return n;
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
			return TLS_CLOSED;
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return tls_want(c);
		/*
		 * A TLS 1.2 client asking to renegotiate: refused, since SMTP
		 * has no use for it and it costs us a full handshake each time.
		 */
		if (n == GNUTLS_E_REHANDSHAKE)
			return tls_fail(c, (int)n, "client-initiated renegotiation refused");
		if (gnutls_error_is_fatal((int)n))
			return tls_fail(c, (int)n, NULL);
		/* Non-fatal (a warning alert): read on. */
	}
}

/*
 * After TLS_WANT_*, GnuTLS holds the record it already encrypted and sends
 * that one on the next call whatever the arguments; it then returns the
 * length of the original call. So call again with a buffer that starts with
 * the same bytes (it may have grown meanwhile): the usual output-buffer loop.
 */
ssize_t
tls_conn_write(tls_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (len == 0)
		return 0;
	for (;;) {
		n = gnutls_record_send(c->s, buf, len);
		if (n > 0)
			return n;
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return tls_want(c);
		if (n == 0 || gnutls_error_is_fatal((int)n))
			return tls_fail(c, (int)n, n == 0 ? "nothing written" : NULL);
	}
}

size_t
tls_conn_pending(tls_conn *c)
{
	return gnutls_record_check_pending(c->s);
}

void
tls_conn_bye(tls_conn *c)
{
	/* SHUT_WR: send our close_notify and do not wait for the peer's. */
	(void)gnutls_bye(c->s, GNUTLS_SHUT_WR);
}

const char *
tls_conn_version(tls_conn *c)
{
	if (!c->done)
		return "";
	return tls_version_name(gnutls_protocol_get_version(c->s));
}

/* IANA names: "TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" (GnuTLS >= 3.7.3). */
const char *
tls_conn_cipher(tls_conn *c)
{
	const char *name;

	if (!c->done)
		return "";
	if ((name = gnutls_ciphersuite_get(c->s)) != NULL)
		return name;
	name = gnutls_cipher_suite_get_name(gnutls_kx_get(c->s), gnutls_cipher_get(c->s),
	    gnutls_mac_get(c->s));
	return name != NULL ? name : "unknown";
}

unsigned
tls_conn_cipher_bits(tls_conn *c)
{
	if (!c->done)
		return 0;
	return (unsigned)gnutls_cipher_get_key_size(gnutls_cipher_get(c->s)) * 8;
}

/*
 * The alert name is only known at the time of the call, so the combined
 * text goes to a per-thread buffer rather than into every connection.
 */
const char *
tls_conn_error(tls_conn *c)
{
	static __thread char buf[160];

	if (c->err == NULL)
		return "no error";
	if (c->gnutls_err == GNUTLS_E_FATAL_ALERT_RECEIVED ||
	    c->gnutls_err == GNUTLS_E_WARNING_ALERT_RECEIVED) {
		const char *alert = gnutls_alert_get_name(gnutls_alert_get(c->s));
		snprintf(buf, sizeof(buf), "%s: %s", c->err, alert ? alert : "unknown alert");
		return buf;
	}
	return c->err;
}

void
tls_server_ask_ccert(tls_server *srv, int on)
{
	srv->ask_ccert = on;
}

/* One attribute of a DN; "" when absent. Computed on demand: a connection stores none. */
static void
tls_dn_cn(gnutls_x509_crt_t crt, int issuer, char *out, size_t outlen)
{
	size_t n = outlen;
	int rc;

	rc = issuer ? gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    out, &n) : gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &n);
	if (rc < 0)
		out[0] = '\0';		/* no CN, or longer than out: none rather than a cut one */
}

int
tls_conn_peer_cn(tls_conn *c, char *subject, size_t slen, char *issuer, size_t ilen)
{
	const gnutls_datum_t *chain;
	unsigned n = 0;
	gnutls_x509_crt_t crt;

	subject[0] = issuer[0] = '\0';
	if (!c->done || (chain = gnutls_certificate_get_peers(c->s, &n)) == NULL || n == 0)
		return -1;
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	tls_dn_cn(crt, 0, subject, slen);
	tls_dn_cn(crt, 1, issuer, ilen);
	gnutls_x509_crt_deinit(crt);
	return 0;
}
