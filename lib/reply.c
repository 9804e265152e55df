/* reply.c - the reply table: every SMTP reply text of both programs lives here. */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#define ROW(id, c, x, t) [id] = { c, x, t, 0 }
#define ARG(id, c, x, t) [id] = { c, x, t, 1 }

static const struct reply_row reply_table[REPLY_COUNT] = {
	ROW(R_STARTTLS_READY, 220, "2.0.0", "Ready to start TLS"),
	ROW(R_BYE, 221, "2.0.0", "Bye"),
	ROW(R_AUTH_OK, 235, "2.7.0", "Authentication successful"),
	ROW(R_RSET_OK, 250, "2.0.0", "OK"),
	ROW(R_NOOP_OK, 250, "2.0.0", "OK"),
	ARG(R_SENDER_OK, 250, "2.1.0", "Sender <address> OK"),
	ARG(R_RCPT_OK, 250, "2.1.5", "Recipient <address> OK"),
	ARG(R_QUEUED, 250, "2.6.0", "Message queued as <message_id>"),
	ROW(R_DATA_GO, 354, NULL, "End data with <CR><LF>.<CR><LF>"),
	ROW(R_SYSTEM_FAILURE, 421, "4.3.0", "Mail system failure, closing transmission channel"),
	ROW(R_TOO_MANY_CONN, 421, "4.3.2", "Too many connections, try again later"),
	ROW(R_CLIENT_CONN_LIMIT, 421, "4.3.2", "Client connection limit reached"),
	ROW(R_SERVICE_UNAVAILABLE, 421, "4.3.2", "Service not available"),
	ROW(R_IO_ERROR, 421, "4.4.0", "Problem attempting to execute commands. Please try again later."),
	ROW(R_TIMEOUT, 421, "4.4.2", "Timeout waiting for the client"),
	ROW(R_DATA_TIMEOUT, 421, "4.4.2", "Timeout during DATA"),
	ROW(R_DATA_RESET, 421, "4.4.2", "Connection reset during DATA"),
	ROW(R_TOO_MANY_RCPTS, 452, "4.5.3", "Too many recipients"),
	ARG(R_BAD_SENDER, 501, "5.1.7", "Bad sender address <address>"),
	ARG(R_BAD_RCPT, 501, "5.1.7", "Bad recipient address <address>"),
	ROW(R_EHLO_SYNTAX, 501, "5.5.2", "Syntax: EHLO <hostname>"),
	ROW(R_HELO_SYNTAX, 501, "5.5.2", "Syntax: HELO <hostname>"),
	ROW(R_STARTTLS_SYNTAX, 501, "5.5.2", "Syntax: STARTTLS (no parameters allowed)"),
	ROW(R_RCPT_SYNTAX, 501, "5.5.2", "Syntax: RCPT TO: <address> <parameters>"),
	ROW(R_AUTH_SYNTAX, 501, "5.5.2", "Syntax: AUTH <type> <initial-response>"),
	ROW(R_MAIL_SYNTAX, 501, "5.5.4", "Syntax: MAIL FROM: <address> <parameters>"),
	ROW(R_AUTH_BAD_BASE64, 501, "5.5.4", "Not a valid Base64 string"),
	ROW(R_AUTH_NO_NUL, 501, "5.5.4", "Does not contain NUL (\\0)"),
	ROW(R_AUTH_NO_SECOND_NUL, 501, "5.5.4", "Does not contain the second NUL (\\0)"),
	ROW(R_AUTH_CANCELED, 501, "5.7.0", "Authentication canceled by client"),
	ROW(R_VRFY_DISABLED, 502, "5.5.1", "VRFY command has been disabled"),
	ROW(R_EXPN_DISABLED, 502, "5.5.1", "EXPN command has been disabled"),
	ROW(R_UNRECOGNIZED, 502, "5.5.1", "Unrecognized command"),
	ROW(R_ALREADY_AUTH, 503, "5.5.1", "Already authenticated"),
	ROW(R_SENDER_ALREADY, 503, "5.5.1", "Sender already specified"),
	ROW(R_NEED_MAIL, 503, "5.5.1", "Need MAIL command"),
	ROW(R_NEED_RCPT, 503, "5.5.1", "Need RCPT command"),
	ROW(R_TLS_ALREADY, 503, "5.5.1", "TLS already active"),
	ARG(R_AUTH_UNSUPPORTED, 504, "5.5.4", "Unsupported authentication type <mechanism>"),
	ROW(R_AUTH_MISMATCH, 504, "5.5.4", "AUTH mechanism mismatch"),
	ARG(R_HELP_UNKNOWN, 504, "5.5.4", "Unrecognized command parameter <args>"),
	ROW(R_NEED_STARTTLS, 530, "5.7.0", "Must issue a STARTTLS command first"),
	ROW(R_NEED_AUTH, 530, "5.7.0", "Authentication required"),
	ROW(R_AUTH_INVALID, 535, "5.7.8", "Authentication credentials invalid"),
	ROW(R_SERVER_ERROR, 550, "5.3.0", "Server error"),
	ROW(R_ACCOUNT_BLOCKED, 550, "5.7.1", "Unauthorized access (account blocked by policy)"),
	ROW(R_EMPTY_SENDER, 550, "5.7.1", "Empty sender not allowed"),
	ROW(R_SENDER_NOT_ALLOWED, 550, "5.7.1", "Sender not allowed"),
	ROW(R_NOT_ALIGNED, 550, "5.7.1", "Header from domain does not align with envelope from domain"),
	ROW(R_SIZE_MAIL, 552, "5.3.4", "Message size exceeds fixed limit"),
	ROW(R_SIZE_DATA, 552, "5.3.4", "Message size exceeds fixed limit"),
	ROW(R_PREMATURE_END, 554, "5.6.0", "Pre-mature end of <CRLF>.<CRLF>"),
	ROW(R_MIME_CORRUPT, 554, "5.6.0", "Invalid or corrupt MIME multipart"),
	ARG(R_UNREADABLE, 554, "5.6.0", "Could not read the message. <reason>"),
	ROW(R_EMPTY_ATTACHMENT, 554, "5.6.0", "Attachment is empty"),
	ROW(R_EMPTY_INLINE_IMAGE, 554, "5.6.0", "Inline image is empty"),
	ROW(R_NO_SUBJECT, 554, "5.6.0", "Subject not present"),
	ROW(R_SUBJECT_TOO_LONG, 554, "5.6.0", "Subject too long"),
	ROW(R_NO_BODY, 554, "5.6.0", "Body not present"),
	ROW(R_LINE_TOO_LONG, 500, "5.5.2", "Line too long"),
	ROW(R_NUL_BYTE, 500, "5.5.2", "NUL byte not allowed"),
	ROW(R_TOO_MANY_ERRORS, 421, "4.7.0", "Too many errors, closing connection"),
	ROW(R_HTTP_COMMAND, 421, "4.7.0", "HTTP command not allowed, closing connection"),
	ROW(R_BARE_NEWLINE, 554, "5.5.2", "Bare <LF> or <CR> received, use <CRLF>"),
	ROW(R_AUTH_TOO_MANY, 421, "4.7.0", "Too many authentication failures, closing connection"),
	ARG(R_ATTACHMENT_TYPE, 554, "5.6.0", "Attachment type not allowed <reason>"),
	ARG(R_ATTACHMENT_MISMATCH, 554, "5.6.0", "Attachment type does not match its name <reason>"),
	ROW(R_SHUTDOWN, 421, "4.3.2", "Service shutting down, try again later"),
	ROW(R_HELP, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP STARTTLS AUTH"),
	ARG(R_BANNER, 220, NULL, "<hostname> ESMTP Postern"),
	ARG(R_EHLO_GREETING, 250, NULL, "<hostname>"),
	ARG(R_EHLO_KEYWORD, 250, NULL, "<keyword>"),
	ARG(R_AUTH_CHALLENGE, 334, NULL, "<challenge>"),
	ROW(R_AUTH_TEMPFAIL, 454, "4.7.0", "Temporary authentication failure"),
	ARG(R_PARAM_UNKNOWN, 555, "5.5.4", "Unsupported parameter <args>"),
	ROW(R_NEED_HELO, 503, "5.5.1", "Send EHLO/HELO first"),
	ROW(R_BAD_SEQUENCE, 503, "5.5.1", "Bad sequence of commands"),
	ROW(R_BDAT_SYNTAX, 501, "5.5.4", "Syntax: BDAT <size> [LAST]"),
	ARG(R_BDAT_OK, 250, "2.0.0", "<size> octets received"),
	ARG(R_HELP_TOPIC, 214, "2.0.0", "<syntax>"),
	ROW(R_POLICY_REJECT, 550, "5.7.1", "Message rejected by policy"),
	ROW(R_POLICY_TEMPFAIL, 451, "4.7.1", "Temporary policy failure, try again later"),
	ROW(R_POLICY_INTERNAL, 451, "4.3.0", "Internal policy error, try again later"),
};

const struct reply_row *
reply_get(enum reply_id id)
{
	if ((unsigned)id >= REPLY_COUNT)
		id = R_SYSTEM_FAILURE;
	return &reply_table[id];
}

size_t
reply_text(enum reply_id id, const char *arg, char *out, size_t outsize)
{
	const struct reply_row *r = reply_get(id);
	const char *lt, *gt;
	int n;

	if (outsize == 0)
		return 0;
	if (!r->has_arg || (lt = strchr(r->text, '<')) == NULL ||
	    (gt = strchr(lt, '>')) == NULL) {
		n = snprintf(out, outsize, "%s", r->text);
	} else {
		n = snprintf(out, outsize, "%.*s%s%s", (int)(lt - r->text),
		    r->text, arg ? arg : "", gt + 1);
	}
	if (n < 0)
		n = 0;
	return (size_t)n >= outsize ? outsize - 1 : (size_t)n;
}

size_t
reply_format(enum reply_id id, const char *arg, char *out, size_t outsize)
{
	const struct reply_row *r = reply_get(id);
	char text[1024];
	int n;

	reply_text(id, arg, text, sizeof(text));
	if (r->xcode)
		n = snprintf(out, outsize, "%d %s %s", r->code, r->xcode, text);
	else
		n = snprintf(out, outsize, "%d %s", r->code, text);
	if (n < 0)
		n = 0;
	if (outsize == 0)
		return 0;
	return (size_t)n >= outsize ? outsize - 1 : (size_t)n;
}
