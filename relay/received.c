/* received.c - the Received: trace line (RFC 5321 4.4) for a message the relay hands on. */
#include "received.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECEIVED_FIELD_MAX	255	/* longest HELO or address shown */

void
received_date(uint64_t ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	if (strftime(out, outlen, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0 && outlen)
		out[0] = '\0';
}

char *
received_header(const struct spool_read_env *env, const char *hostname)
{
	char date[64], *out;
	size_t cap;
	int n = 0;
	const char *proto = env->protocol[0] ? env->protocol : "ESMTP";

	received_date(env->arrival_ms, date, sizeof(date));
	cap = 1024 + strlen(hostname) + 2 * RECEIVED_FIELD_MAX + strlen(env->tls_version) +
	    strlen(env->tls_cipher) + (env->nrcpts == 1 ? strlen(env->rcpts[0]) : 0);
	out = xmalloc(cap);
	if (env->client_addr[0] == '\0') {
		snprintf(out, cap, "Received: by %s (Postern) id %s;\r\n\t%s\r\n", hostname, env->id, date);
		return out;
	}
	n = snprintf(out, cap, "Received: from %.*s ([%.*s])\r\n",
	    RECEIVED_FIELD_MAX, env->helo[0] ? env->helo : "unknown",
	    RECEIVED_FIELD_MAX, env->client_addr);
	if (env->tls_version[0])
		n += snprintf(out + n, cap - (size_t)n, "\t(using %s with cipher %s)\r\n",
		    env->tls_version, env->tls_cipher[0] ? env->tls_cipher : "unknown");
	n += snprintf(out + n, cap - (size_t)n, "\tby %s (Postern) with %s id %s", hostname, proto,
	    env->id);
	if (env->nrcpts == 1)
		n += snprintf(out + n, cap - (size_t)n, "\r\n\tfor %s", env->rcpts[0]);
	snprintf(out + n, cap - (size_t)n, "; %s\r\n", date);
	return out;
}
