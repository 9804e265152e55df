/* client_tls.c - GnuTLS client sessions towards the next hop, and the relay_tls = verify certificate check. */
#include "client_tls.h"
#include "hop_addr.h"
#include "log.h"
#include "tls_version.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define CTLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct client_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	int verify;
};

struct client_tls_conn {
	gnutls_session_t s;
	char host[HOP_HOST_MAX];
	int last;		/* last GnuTLS error */
};

client_tls *
client_tls_new(int verify, const char *ca_file, char *err, size_t errlen)
{
	client_tls *t = xcalloc(1, sizeof(*t));
	const char *where = NULL;
	int ret;

	t->verify = verify;
	if ((ret = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		log_fatalx("gnutls_certificate_allocate_credentials: %s", gnutls_strerror(ret));
	if (verify) {
		if (ca_file != NULL && *ca_file != '\0') {
			ret = gnutls_certificate_set_x509_trust_file(t->cred, ca_file,
			    GNUTLS_X509_FMT_PEM);
			if (ret <= 0) {
				snprintf(err, errlen, "relay_tls_ca_file %s: %s", ca_file,
				    ret < 0 ? gnutls_strerror(ret) : "no certificate in it");
				goto fail;
			}
		} else if ((ret = gnutls_certificate_set_x509_system_trust(t->cred)) <= 0) {
			snprintf(err, errlen, "system trust store: %s",
			    ret < 0 ? gnutls_strerror(ret) : "no certificate in it");
			goto fail;
		}
	}
	if ((ret = gnutls_priority_init(&t->prio, CTLS_PRIORITIES, &where)) < 0) {
		snprintf(err, errlen, "TLS priorities: %s", gnutls_strerror(ret));
		goto fail;
	}
	return t;
fail:
	gnutls_certificate_free_credentials(t->cred);
	free(t);
	return NULL;
}

void
client_tls_free(client_tls *t)
{
	if (t == NULL)
		return;
	gnutls_priority_deinit(t->prio);
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

client_tls_conn *
client_tls_conn_new(client_tls *t, int fd, const char *host)
{
	client_tls_conn *c = xcalloc(1, sizeof(*c));
	int ret;

	/* NO_SIGNAL: a next hop that vanishes gives EPIPE, not a SIGPIPE that kills the relay. */
	if ((ret = gnutls_init(&c->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL)) < 0)
		log_fatalx("gnutls_init: %s", gnutls_strerror(ret));
	gnutls_priority_set(c->s, t->prio);
	gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, t->cred);
	xstrlcpy(c->host, host ? host : "", sizeof(c->host));
	/* SNI takes names only (RFC 6066), never an address. */
	if (c->host[0] != '\0' && !hop_addr_is_ip(c->host))
		gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, c->host, strlen(c->host));
	gnutls_transport_set_int(c->s, fd);
	gnutls_handshake_set_timeout(c->s, 0);
	return c;
}

void
client_tls_conn_free(client_tls_conn *c)
{
	if (c == NULL)
		return;
	gnutls_deinit(c->s);
	free(c);
}

static int
client_tls_status(client_tls_conn *c, int ret)
{
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return gnutls_record_get_direction(c->s) ? CTLS_WANT_WRITE : CTLS_WANT_READ;
	c->last = ret;
	if (ret == GNUTLS_E_PREMATURE_TERMINATION)
		return CTLS_CLOSED;
	return CTLS_ERROR;
}

int
client_tls_handshake(client_tls_conn *c)
{
	int ret = gnutls_handshake(c->s);

	if (ret == GNUTLS_E_SUCCESS)
		return CTLS_OK;
	/* Warning alerts are not fatal: the handshake goes on at the next event. */
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(ret))
		return gnutls_record_get_direction(c->s) ? CTLS_WANT_WRITE : CTLS_WANT_READ;
	c->last = ret;
	return CTLS_ERROR;
}

int
client_tls_verify(client_tls_conn *c, char *out, size_t outsize)
{
	unsigned status = 0;
	gnutls_datum_t txt = { NULL, 0 };
	int ret;

	ret = gnutls_certificate_verify_peers3(c->s, c->host, &status);
	if (ret < 0) {
		snprintf(out, outsize, "%s", gnutls_strerror(ret));
		return -1;
	}
	if (status == 0)
		return 0;
	if (gnutls_certificate_verification_status_print(status,
	    gnutls_certificate_type_get(c->s), &txt, 0) == 0) {
		snprintf(out, outsize, "%s", (const char *)txt.data);
		gnutls_free(txt.data);
	} else {
		snprintf(out, outsize, "certificate status 0x%x", status);
	}
	return -1;
}

ssize_t
client_tls_read(client_tls_conn *c, void *buf, size_t len)
{
	ssize_t n = gnutls_record_recv(c->s, buf, len);

	if (n > 0)
		return n;
	if (n == 0)
		return CTLS_CLOSED;
	return client_tls_status(c, (int)n);
}

ssize_t
client_tls_write(client_tls_conn *c, const void *buf, size_t len)
{
	ssize_t n = gnutls_record_send(c->s, buf, len);

	if (n >= 0)
		return n;
	return client_tls_status(c, (int)n);
}

size_t
client_tls_pending(client_tls_conn *c)
{
	return gnutls_record_check_pending(c->s);
}

int
client_tls_wants_write(client_tls_conn *c)
{
	return gnutls_record_get_direction(c->s);
}

void
client_tls_bye(client_tls_conn *c)
{
	/* Best effort: a non-blocking socket gets one try. */
	(void)gnutls_bye(c->s, GNUTLS_SHUT_WR);
}

const char *
client_tls_error(client_tls_conn *c)
{
	return c->last ? gnutls_strerror(c->last) : "connection closed";
}

void
client_tls_describe(client_tls_conn *c, char *out, size_t outsize)
{
	char *d = gnutls_session_get_desc(c->s);

	snprintf(out, outsize, "%s", d ? d : "TLS");
	gnutls_free(d);
}

const char *
client_tls_version(client_tls_conn *c)
{
	return tls_version_name(gnutls_protocol_get_version(c->s));
}
