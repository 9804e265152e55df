/* reply.h - the one table of SMTP replies, keyed by symbolic name (doc/status-codes.txt). */
#ifndef POSTERN_REPLY_H
#define POSTERN_REPLY_H

#include <stddef.h>

/*
 * REPLY_ROWS(X, XA) - the reply table, the one list both the enum below and
 * lib/reply.c are made from, so they cannot drift apart. The first rows are
 * those of doc/status-codes.txt, in its order (tests/unit/test_reply.c
 * checks them against the spec file). X is a row with a fixed text, XA a
 * row whose placeholder (<address>, <message_id>, <mechanism>, <args>,
 * <reason>...) reply_format() replaces with its one string argument.
 * Columns: id, code, enhanced code (NULL: none), text.
 */
#define REPLY_ROWS(X, XA) \
	X(R_STARTTLS_READY, 220, "2.0.0", "Ready to start TLS")	\
	X(R_BYE, 221, "2.0.0", "Bye")	\
	X(R_AUTH_OK, 235, "2.7.0", "Authentication successful")	\
	X(R_RSET_OK, 250, "2.0.0", "OK")	\
	X(R_NOOP_OK, 250, "2.0.0", "OK")	\
	XA(R_SENDER_OK, 250, "2.1.0", "Sender <address> OK")	\
	XA(R_RCPT_OK, 250, "2.1.5", "Recipient <address> OK")	\
	XA(R_QUEUED, 250, "2.6.0", "Message queued as <message_id>")	\
	X(R_DATA_GO, 354, NULL, "End data with <CR><LF>.<CR><LF>")	\
	X(R_SYSTEM_FAILURE, 421, "4.3.0", "Mail system failure, closing transmission channel")	\
	X(R_TOO_MANY_CONN, 421, "4.3.2", "Too many connections, try again later")	\
	X(R_CLIENT_CONN_LIMIT, 421, "4.3.2", "Client connection limit reached")	\
	X(R_SERVICE_UNAVAILABLE, 421, "4.3.2", "Service not available")	\
	X(R_IO_ERROR, 421, "4.4.0", "Problem attempting to execute commands. Please try again later.")	\
	X(R_TIMEOUT, 421, "4.4.2", "Timeout waiting for the client")	\
	X(R_DATA_TIMEOUT, 421, "4.4.2", "Timeout during DATA")	\
	X(R_DATA_RESET, 421, "4.4.2", "Connection reset during DATA")	\
	X(R_TOO_MANY_RCPTS, 452, "4.5.3", "Too many recipients")	\
	XA(R_BAD_SENDER, 501, "5.1.7", "Bad sender address <address>")	\
	XA(R_BAD_RCPT, 501, "5.1.7", "Bad recipient address <address>")	\
	X(R_EHLO_SYNTAX, 501, "5.5.2", "Syntax: EHLO <hostname>")	\
	X(R_HELO_SYNTAX, 501, "5.5.2", "Syntax: HELO <hostname>")	\
	X(R_STARTTLS_SYNTAX, 501, "5.5.2", "Syntax: STARTTLS (no parameters allowed)")	\
	X(R_RCPT_SYNTAX, 501, "5.5.2", "Syntax: RCPT TO: <address> <parameters>")	\
	X(R_AUTH_SYNTAX, 501, "5.5.2", "Syntax: AUTH <type> <initial-response>")	\
	X(R_MAIL_SYNTAX, 501, "5.5.4", "Syntax: MAIL FROM: <address> <parameters>")	\
	X(R_AUTH_BAD_BASE64, 501, "5.5.4", "Not a valid Base64 string")	\
	X(R_AUTH_NO_NUL, 501, "5.5.4", "Does not contain NUL (\\0)")	\
	X(R_AUTH_NO_SECOND_NUL, 501, "5.5.4", "Does not contain the second NUL (\\0)")	\
	X(R_AUTH_CANCELED, 501, "5.7.0", "Authentication canceled by client")	\
	X(R_VRFY_DISABLED, 502, "5.5.1", "VRFY command has been disabled")	\
	X(R_EXPN_DISABLED, 502, "5.5.1", "EXPN command has been disabled")	\
	X(R_UNRECOGNIZED, 502, "5.5.1", "Unrecognized command")	\
	X(R_ALREADY_AUTH, 503, "5.5.1", "Already authenticated")	\
	X(R_SENDER_ALREADY, 503, "5.5.1", "Sender already specified")	\
	X(R_NEED_MAIL, 503, "5.5.1", "Need MAIL command")	\
	X(R_NEED_RCPT, 503, "5.5.1", "Need RCPT command")	\
	X(R_TLS_ALREADY, 503, "5.5.1", "TLS already active")	\
	XA(R_AUTH_UNSUPPORTED, 504, "5.5.4", "Unsupported authentication type <mechanism>")	\
	X(R_AUTH_MISMATCH, 504, "5.5.4", "AUTH mechanism mismatch")	\
	XA(R_HELP_UNKNOWN, 504, "5.5.4", "Unrecognized command parameter <args>")	\
	X(R_NEED_STARTTLS, 530, "5.7.0", "Must issue a STARTTLS command first")	\
	X(R_NEED_AUTH, 530, "5.7.0", "Authentication required")	\
	X(R_AUTH_INVALID, 535, "5.7.8", "Authentication credentials invalid")	\
	X(R_SERVER_ERROR, 550, "5.3.0", "Server error")	\
	X(R_ACCOUNT_BLOCKED, 550, "5.7.1", "Unauthorized access (account blocked by policy)")	\
	X(R_EMPTY_SENDER, 550, "5.7.1", "Empty sender not allowed")	\
	X(R_SENDER_NOT_ALLOWED, 550, "5.7.1", "Sender not allowed")	\
	X(R_NOT_ALIGNED, 550, "5.7.1", "Header from domain does not align with envelope from domain")	\
	X(R_SIZE_MAIL, 552, "5.3.4", "Message size exceeds fixed limit")	\
	X(R_SIZE_DATA, 552, "5.3.4", "Message size exceeds fixed limit")	\
	X(R_PREMATURE_END, 554, "5.6.0", "Pre-mature end of <CRLF>.<CRLF>")	\
	X(R_MIME_CORRUPT, 554, "5.6.0", "Invalid or corrupt MIME multipart")	\
	XA(R_UNREADABLE, 554, "5.6.0", "Could not read the message. <reason>")	\
	X(R_EMPTY_ATTACHMENT, 554, "5.6.0", "Attachment is empty")	\
	X(R_EMPTY_INLINE_IMAGE, 554, "5.6.0", "Inline image is empty")	\
	X(R_NO_SUBJECT, 554, "5.6.0", "Subject not present")	\
	X(R_SUBJECT_TOO_LONG, 554, "5.6.0", "Subject too long")	\
	X(R_NO_BODY, 554, "5.6.0", "Body not present")	\
	/* Rows beyond the spec table (postern-smtpd(8), postern-milter(8)). */	\
	X(R_LINE_TOO_LONG, 500, "5.5.2", "Line too long")	\
	X(R_NUL_BYTE, 500, "5.5.2", "NUL byte not allowed")	\
	X(R_TOO_MANY_ERRORS, 421, "4.7.0", "Too many errors, closing connection")	\
	X(R_HTTP_COMMAND, 421, "4.7.0", "HTTP command not allowed, closing connection")	\
	X(R_BARE_NEWLINE, 554, "5.5.2", "Bare <LF> or <CR> received, use <CRLF>")	\
	X(R_AUTH_TOO_MANY, 421, "4.7.0", "Too many authentication failures, closing connection")	\
	XA(R_ATTACHMENT_TYPE, 554, "5.6.0", "Attachment type not allowed <reason>")	\
	XA(R_ATTACHMENT_MISMATCH, 554, "5.6.0", "Attachment type does not match its name <reason>")	\
	X(R_SHUTDOWN, 421, "4.3.2", "Service shutting down, try again later")	\
	X(R_HELP, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP STARTTLS AUTH")	\
	/* Frontend protocol lines (postern-smtpd). */	\
	XA(R_BANNER, 220, NULL, "<hostname> ESMTP Postern")	\
	XA(R_EHLO_GREETING, 250, NULL, "<hostname>")	\
	XA(R_EHLO_KEYWORD, 250, NULL, "<keyword>")	\
	XA(R_AUTH_CHALLENGE, 334, NULL, "<challenge>")	\
	X(R_AUTH_TEMPFAIL, 454, "4.7.0", "Temporary authentication failure")	\
	XA(R_PARAM_UNKNOWN, 555, "5.5.4", "Unsupported parameter <args>")	\
	X(R_NEED_HELO, 503, "5.5.1", "Send EHLO/HELO first")	\
	X(R_BAD_SEQUENCE, 503, "5.5.1", "Bad sequence of commands")	\
	X(R_BDAT_SYNTAX, 501, "5.5.4", "Syntax: BDAT <size> [LAST]")	\
	XA(R_BDAT_OK, 250, "2.0.0", "<size> octets received")	\
	XA(R_HELP_TOPIC, 214, "2.0.0", "<syntax>")	\
	X(R_POLICY_REJECT, 550, "5.7.1", "Message rejected by policy")	\
	X(R_POLICY_TEMPFAIL, 451, "4.7.1", "Temporary policy failure, try again later")	\
	X(R_POLICY_INTERNAL, 451, "4.3.0", "Internal policy error, try again later")	\
	/* end of REPLY_ROWS */

#define REPLY_ENUM_ROW(id, code, xcode, text) id,
enum reply_id {
	REPLY_ROWS(REPLY_ENUM_ROW, REPLY_ENUM_ROW)
	REPLY_COUNT
};
#undef REPLY_ENUM_ROW

struct reply_row {
	int code;		/* 250 */
	const char *xcode;	/* "2.1.0", or NULL for the 354 row */
	const char *text;	/* may contain one placeholder in angle brackets */
	int has_arg;		/* text's placeholder is replaced by reply_format()'s argument */
};

const struct reply_row *reply_get(enum reply_id id);

/*
 * Format "CODE X.Y.Z text" (no CRLF) into out; arg replaces the row's
 * placeholder. For <address>, pass the address with its angle brackets.
 * Returns the length, truncated to outsize-1.
 */
size_t reply_format(enum reply_id id, const char *arg, char *out, size_t outsize);

/* Text only, placeholder replaced (for milter setreply, which takes code and xcode apart). */
size_t reply_text(enum reply_id id, const char *arg, char *out, size_t outsize);

#endif
