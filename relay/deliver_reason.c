/* deliver_reason.c - the texts the relay records when it, not the next hop, decides an outcome. */
#include "deliver_reason.h"

#include <stdarg.h>
#include <stdio.h>

/* Postfix's wording where Postfix has one, so operators recognise them. */
static const char *const deliver_reasons[DR_COUNT] = {
	[DR_CONNECT] = "4.4.1 connect to %s: %s",
	[DR_LOST] = "4.4.2 lost connection with %s while %s",
	[DR_TIMEOUT] = "4.4.2 conversation with %s timed out while %s",
	[DR_PROTOCOL] = "4.5.0 protocol error from %s while %s: %s",
	[DR_TLS_NOT_OFFERED] = "4.7.4 TLS is required, but was not offered by %s",
	[DR_TLS_FAILED] = "4.7.5 TLS handshake with %s failed: %s",
	[DR_CERT] = "4.7.5 certificate verification failed for %s: %s",
	[DR_AUTH_NO_TLS] = "4.7.0 relay_auth_file is set but TLS is not up with %s: "
	    "credentials are never sent in clear",
	[DR_AUTH_NOT_OFFERED] = "4.7.0 relay_auth_file is set but %s offers no AUTH PLAIN or LOGIN",
	[DR_SIZE] = "5.3.4 message size %s exceeds the size limit %s of %s",
	[DR_8BIT] = "5.6.3 message is 8-bit (BODY=8BITMIME) but %s does not offer 8BITMIME",
	[DR_SMTPUTF8] = "5.6.7 message needs SMTPUTF8 but %s does not offer SMTPUTF8",
	[DR_SPOOL] = "4.3.0 cannot read the spooled message: %s",
	[DR_BAD_ADDRESS] = "5.1.3 bad address syntax in the spool: %s",
	[DR_SHUTDOWN] = "4.3.2 delivery stopped: the relay is shutting down",
};

const char *
deliver_reason_format(enum deliver_reason id)
{
	return id < DR_COUNT ? deliver_reasons[id] : "4.3.0 internal error";
}

void
deliver_reason(char *out, size_t outsize, enum deliver_reason id, ...)
{
	va_list ap;

	va_start(ap, id);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(out, outsize, deliver_reason_format(id), ap);
#pragma GCC diagnostic pop
	va_end(ap);
}
