/* dsn.c - compose an RFC 3464 delivery status notification (the bounce the sender gets). */
#include "dsn.h"
#include "received.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address without its angle brackets (into out). */
static void
dsn_bare(const char *addr, char *out, size_t outlen)
{
	size_t n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>') {
		addr++;
		n -= 2;
	}
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, addr, n);
	out[n] = '\0';
}

void
dsn_status(const char *reply, int deferred, char *out, size_t outlen)
{
	const char *p = reply;
	int cls, a, b, c, used = 0;

	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && (p[3] == ' ' || p[3] == '-' || p[3] == '\0')) {
		cls = p[0] - '0';
		if ((cls == 4 || cls == 5) && sscanf(p + 4, "%1d.%3d.%3d%n", &a, &b, &c, &used) == 3 &&
		    a == cls && (p[4 + used] == ' ' || p[4 + used] == '\0')) {
			snprintf(out, outlen, "%d.%d.%d", a, b, c);
			return;
		}
		if (cls == 4 || cls == 5) {
			snprintf(out, outlen, "%d.0.0", cls);
			return;
		}
	}
	/* No reply of the next hop (connection lost, timeout): our own reason. */
	snprintf(out, outlen, "%s", deferred ? "4.4.1" : "5.0.0");
}

/* One line of text in a header field: CR and LF would end it. */
static void
dsn_field_text(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		char c = (*s == '\r' || *s == '\n') ? ' ' : *s;
		strbuf_add(b, &c, 1);
	}
}

size_t
dsn_header_length(const char *msg, size_t len)
{
	size_t i, last = 0;

	for (i = 0; i < len && i < DSN_HEADERS_MAX; i++) {
		if (msg[i] != '\n')
			continue;
		last = i + 1;
		/* An empty line ends the header section. */
		if (i + 1 < len && (msg[i + 1] == '\n' ||
		    (msg[i + 1] == '\r' && i + 2 < len && msg[i + 2] == '\n')))
			return last;
	}
	return i >= len ? len : last;
}

char *
dsn_compose(const struct dsn_info *in, size_t *len, int *eightbit)
{
	struct strbuf b = STRBUF_INIT;
	char to[1024], rcpt[1024], date[64], arrival[64], status[32], boundary[160];
	size_t i;

	strbuf_printf(&b, "%s", "");
	dsn_bare(in->sender, to, sizeof(to));
	received_date(in->now_ms, date, sizeof(date));
	received_date(in->arrival_ms, arrival, sizeof(arrival));
	snprintf(boundary, sizeof(boundary), "%s/%s", in->dsn_id, in->hostname);
	strbuf_printf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-encapsulated message.\r\n"
	    "\r\n",
	    in->hostname, to, date, in->dsn_id, in->hostname, boundary);

	strbuf_printf(&b, "--%s\r\n"
	    "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "This is the mail system at host %s.\r\n"
	    "\r\n"
	    "Your message %s could not be delivered to %s of its recipients.\r\n"
	    "It has been returned with the reason given by the next mail server.\r\n"
	    "\r\n", boundary, in->hostname, in->id, in->nrcpts == 1 ? "one" : "some");
	for (i = 0; i < in->nrcpts; i++) {
		strbuf_printf(&b, "%s: ", in->rcpts[i].address);
		dsn_field_text(&b, in->rcpts[i].reply);
		strbuf_printf(&b, "\r\n");
	}

	strbuf_printf(&b, "\r\n--%s\r\n"
	    "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n"
	    "\r\n"
	    "Reporting-MTA: dns; %s\r\n"
	    "X-Postern-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", boundary, in->hostname, in->id, arrival);
	for (i = 0; i < in->nrcpts; i++) {
		const char *r = in->rcpts[i].reply;
		int coded = isdigit((unsigned char)r[0]) && isdigit((unsigned char)r[1]) &&
		    isdigit((unsigned char)r[2]);

		dsn_bare(in->rcpts[i].address, rcpt, sizeof(rcpt));
		dsn_status(r, r[0] == '4', status, sizeof(status));
		strbuf_printf(&b, "\r\nFinal-Recipient: rfc822; %s\r\n"
		    "Action: failed\r\n"
		    "Status: %s\r\n"
		    "Diagnostic-Code: %s; ", rcpt, status, coded ? "smtp" : "X-Postern");
		dsn_field_text(&b, r);
		strbuf_printf(&b, "\r\n");
	}

	for (i = 0; i < in->headers_len && (unsigned char)in->headers[i] < 0x80; i++)
		;
	strbuf_printf(&b, "\r\n--%s\r\n"
	    "Content-Description: Undelivered Message Headers\r\n"
	    "Content-Type: text/rfc822-headers\r\n"
	    "%s"
	    "\r\n", boundary, i < in->headers_len ? "Content-Transfer-Encoding: 8bit\r\n" : "");
	strbuf_add(&b, in->headers, in->headers_len);
	if (in->headers_len == 0 || in->headers[in->headers_len - 1] != '\n')
		strbuf_printf(&b, "\r\n");
	strbuf_printf(&b, "\r\n--%s--\r\n", boundary);

	*eightbit = 0;
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.p[i] >= 0x80)
			*eightbit = 1;
	*len = b.len;
	return b.p;
}
