/* reply.h - the one table of SMTP replies, keyed by symbolic name (doc/status-codes.txt). */
#ifndef POSTERN_REPLY_H
#define POSTERN_REPLY_H

#include <stddef.h>

/*
 * Rows of doc/status-codes.txt, in its order. Rows whose text carries a
 * placeholder (<address>, <message_id>, <mechanism>, <args>, <reason>)
 * take one string argument in reply_format(). tests/unit/test_reply.c
 * checks every row against the spec file, so texts live only here.
 */
enum reply_id {
	R_STARTTLS_READY,		/* 220 2.0.0 Ready to start TLS */
	R_BYE,				/* 221 2.0.0 Bye */
	R_AUTH_OK,			/* 235 2.7.0 Authentication successful */
	R_RSET_OK,			/* 250 2.0.0 OK */
	R_NOOP_OK,			/* 250 2.0.0 OK */
	R_SENDER_OK,			/* 250 2.1.0 Sender <address> OK */
	R_RCPT_OK,			/* 250 2.1.5 Recipient <address> OK */
	R_QUEUED,			/* 250 2.6.0 Message queued as <message_id> */
	R_DATA_GO,			/* 354 End data with <CR><LF>.<CR><LF> */
	R_SYSTEM_FAILURE,		/* 421 4.3.0 */
	R_TOO_MANY_CONN,		/* 421 4.3.2 Too many connections, try again later */
	R_CLIENT_CONN_LIMIT,		/* 421 4.3.2 Client connection limit reached */
	R_SERVICE_UNAVAILABLE,		/* 421 4.3.2 Service not available */
	R_IO_ERROR,			/* 421 4.4.0 Problem attempting to execute commands... */
	R_TIMEOUT,			/* 421 4.4.2 Timeout waiting for the client */
	R_DATA_TIMEOUT,			/* 421 4.4.2 Timeout during DATA */
	R_DATA_RESET,			/* 421 4.4.2 Connection reset during DATA (log only) */
	R_TOO_MANY_RCPTS,		/* 452 4.5.3 Too many recipients */
	R_BAD_SENDER,			/* 501 5.1.7 Bad sender address <address> */
	R_BAD_RCPT,			/* 501 5.1.7 Bad recipient address <address> */
	R_EHLO_SYNTAX,			/* 501 5.5.2 Syntax: EHLO <hostname> */
	R_HELO_SYNTAX,			/* 501 5.5.2 Syntax: HELO <hostname> */
	R_STARTTLS_SYNTAX,		/* 501 5.5.2 Syntax: STARTTLS (no parameters allowed) */
	R_RCPT_SYNTAX,			/* 501 5.5.2 Syntax: RCPT TO: <address> <parameters> */
	R_AUTH_SYNTAX,			/* 501 5.5.2 Syntax: AUTH <type> <initial-response> */
	R_MAIL_SYNTAX,			/* 501 5.5.4 Syntax: MAIL FROM: <address> <parameters> */
	R_AUTH_BAD_BASE64,		/* 501 5.5.4 Not a valid Base64 string */
	R_AUTH_NO_NUL,			/* 501 5.5.4 Does not contain NUL (\0) */
	R_AUTH_NO_SECOND_NUL,		/* 501 5.5.4 Does not contain the second NUL (\0) */
	R_AUTH_CANCELED,		/* 501 5.7.0 Authentication canceled by client */
	R_VRFY_DISABLED,		/* 502 5.5.1 */
	R_EXPN_DISABLED,		/* 502 5.5.1 */
	R_UNRECOGNIZED,			/* 502 5.5.1 Unrecognized command */
	R_ALREADY_AUTH,			/* 503 5.5.1 Already authenticated */
	R_SENDER_ALREADY,		/* 503 5.5.1 Sender already specified */
	R_NEED_MAIL,			/* 503 5.5.1 Need MAIL command */
	R_NEED_RCPT,			/* 503 5.5.1 Need RCPT command */
	R_TLS_ALREADY,			/* 503 5.5.1 TLS already active */
	R_AUTH_UNSUPPORTED,		/* 504 5.5.4 Unsupported authentication type <mechanism> */
	R_AUTH_MISMATCH,		/* 504 5.5.4 AUTH mechanism mismatch */
	R_HELP_UNKNOWN,			/* 504 5.5.4 Unrecognized command parameter <args> */
	R_NEED_STARTTLS,		/* 530 5.7.0 Must issue a STARTTLS command first */
	R_NEED_AUTH,			/* 530 5.7.0 Authentication required */
	R_AUTH_INVALID,			/* 535 5.7.8 Authentication credentials invalid */
	R_SERVER_ERROR,			/* 550 5.3.0 Server error */
	R_ACCOUNT_BLOCKED,		/* 550 5.7.1 Unauthorized access (account blocked by policy) */
	R_EMPTY_SENDER,			/* 550 5.7.1 Empty sender not allowed */
	R_SENDER_NOT_ALLOWED,		/* 550 5.7.1 Sender not allowed */
	R_NOT_ALIGNED,			/* 550 5.7.1 Header from domain does not align... */
	R_SIZE_MAIL,			/* 552 5.3.4 Message size exceeds fixed limit (MAIL FROM) */
	R_SIZE_DATA,			/* 552 5.3.4 Message size exceeds fixed limit (DATA) */
	R_PREMATURE_END,		/* 554 5.6.0 Pre-mature end of <CRLF>.<CRLF> */
	R_MIME_CORRUPT,			/* 554 5.6.0 Invalid or corrupt MIME multipart */
	R_UNREADABLE,			/* 554 5.6.0 Could not read the message. <reason> */
	R_EMPTY_ATTACHMENT,		/* 554 5.6.0 Attachment is empty */
	R_EMPTY_INLINE_IMAGE,		/* 554 5.6.0 Inline image is empty */
	R_NO_SUBJECT,			/* 554 5.6.0 Subject not present */
	R_SUBJECT_TOO_LONG,		/* 554 5.6.0 Subject too long */
	R_NO_BODY,			/* 554 5.6.0 Body not present */
	/* Rows beyond the spec table (documented in the README). */
	R_LINE_TOO_LONG,		/* 500 5.5.2 Line too long */
	R_NUL_BYTE,			/* 500 5.5.2 NUL byte not allowed */
	R_TOO_MANY_ERRORS,		/* 421 4.7.0 Too many errors, closing connection */
	R_HTTP_COMMAND,			/* 421 4.7.0 HTTP command not allowed, closing connection */
	R_BARE_NEWLINE,			/* 554 5.5.2 Bare <LF> or <CR> received, use <CRLF> */
	R_AUTH_TOO_MANY,		/* 421 4.7.0 Too many authentication failures, closing connection */
	R_ATTACHMENT_TYPE,		/* 554 5.6.0 Attachment type not allowed <reason> */
	R_ATTACHMENT_MISMATCH,		/* 554 5.6.0 Attachment type does not match its name <reason> */
	R_SHUTDOWN,			/* 421 4.3.2 Service shutting down, try again later */
	R_HELP,				/* 214 2.0.0 help text */
	/* Frontend protocol lines (postern-smtpd). */
	R_BANNER,			/* 220 <hostname> ESMTP Postern */
	R_EHLO_GREETING,		/* 250 <hostname> (HELO reply, first EHLO line) */
	R_EHLO_KEYWORD,			/* 250 <keyword> (EHLO extension lines) */
	R_AUTH_CHALLENGE,		/* 334 <challenge> */
	R_AUTH_TEMPFAIL,		/* 454 4.7.0 Temporary authentication failure */
	R_PARAM_UNKNOWN,		/* 555 5.5.4 Unsupported parameter <args> */
	R_NEED_HELO,			/* 503 5.5.1 Send EHLO/HELO first */
	R_BAD_SEQUENCE,			/* 503 5.5.1 Bad sequence of commands */
	R_BDAT_SYNTAX,			/* 501 5.5.4 Syntax: BDAT <size> [LAST] */
	R_BDAT_OK,			/* 250 2.0.0 <size> octets received */
	R_HELP_TOPIC,			/* 214 2.0.0 <syntax> */
	R_POLICY_REJECT,		/* 550 5.7.1 Message rejected by policy (module REJECT without a reply) */
	R_POLICY_TEMPFAIL,		/* 451 4.7.1 Temporary policy failure, try again later (module TEMPFAIL without a reply) */
	R_POLICY_INTERNAL,		/* 451 4.3.0 Internal policy error, try again later */
	REPLY_COUNT
};

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
