/*
 * tls_version.h - a negotiated TLS version by the name logs and metrics
 * use ("TLSv1.3", as OpenSSL and Postfix write it). GnuTLS's own names
 * differ for the older versions ("TLS1.1"), so the known ones are mapped
 * here, in one place for postern-smtpd and postern-relay.
 */
#ifndef POSTERN_TLS_VERSION_H
#define POSTERN_TLS_VERSION_H

#include <gnutls/gnutls.h>

static inline const char *
tls_version_name(gnutls_protocol_t v)
{
	const char *name;

	switch (v) {
	case GNUTLS_TLS1_3:
		return "TLSv1.3";
	case GNUTLS_TLS1_2:
		return "TLSv1.2";
	case GNUTLS_TLS1_1:
		return "TLSv1.1";
	case GNUTLS_TLS1_0:
		return "TLSv1.0";
	default:
		name = gnutls_protocol_get_name(v);
		return name != NULL ? name : "unknown";
	}
}

#endif
