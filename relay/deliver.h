/* deliver.h - hand one spooled message to the next hop (SMTP or LMTP) and say what became of each recipient. */
#ifndef POSTERN_RELAY_DELIVER_H
#define POSTERN_RELAY_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct event_base;

typedef struct relay_hop relay_hop;	/* the next hop: parsed relay_host, TLS, AUTH, connection pool */

enum relay_rcpt_state { RELAY_RCPT_PENDING = 0, RELAY_RCPT_DELIVERED, RELAY_RCPT_DEFERRED, RELAY_RCPT_FAILED };

struct relay_rcpt {
	const char *address;		/* "<x@y>" as in the spool file */
	int state;			/* in: RELAY_RCPT_PENDING for those to try; out: the outcome */
	char reply[512];		/* out: the next hop's reply line(s) (first line, CRLF stripped) or our own reason */
					/* (a reply starts with its 3-digit code, "550 5.1.1 ..."; our reason with an enhanced */
					/* status code, "4.4.2 lost connection with [127.0.0.1]:25 while sending end of data") */
};

struct relay_job {
	const char *id;			/* message id (UUID), for logs */
	int fd;				/* open spool file, read-only; read with pread() */
	uint64_t data_offset;		/* where the message itself starts (after the spool header block) */
	uint64_t data_size;		/* its length in bytes */
	const char *received;		/* a Received: header (CRLF-terminated, may be folded) sent before the message, or NULL */
	const char *sender;		/* "<a@b>" or "<>" */
	struct relay_rcpt *rcpts;
	size_t nrcpts;
	int body_8bit;			/* spool said 8BITMIME (or BINARYMIME) */
	int smtputf8;			/* spool said SMTPUTF8 */
};

/* done() runs on the event loop once every PENDING recipient has an outcome; hop is a short description for logs ("[127.0.0.1]:25", "lmtp:unix:/run/dovecot/lmtp"). */
/* done() may call relay_hop_deliver(), and relay_hop_free() (hop is then gone after that call); it never runs inside relay_hop_deliver(). */
typedef void (*relay_done_fn)(void *arg, struct relay_job *job, const char *hop);

/* From the config (relay_host, relay_helo_name, relay_tls, relay_tls_ca_file, relay_auth_file, relay_concurrency, smtpd_hostname); NULL and err on a bad value. */
relay_hop *relay_hop_new(struct event_base *base, const struct postern_config *cfg, char *err, size_t errlen);
/* Deliver job (not copied: it must live until done()); at most relay_concurrency connections at once, the rest wait in FIFO order. */
void relay_hop_deliver(relay_hop *h, struct relay_job *job, relay_done_fn done, void *arg);
/* Connections open or in use, and jobs waiting (for logs and metrics). */
unsigned relay_hop_active(const relay_hop *h);
/*
 * A new hop, to, took over (SIGHUP): h gets no more jobs. The jobs waiting
 * in h for a connection move to to; those running on h end there, and its
 * connections are closed (QUIT) as they fall idle. Free h once
 * relay_hop_active() says 0.
 */
void relay_hop_retire(relay_hop *h, relay_hop *to);
/* Close idle connections with QUIT; in-flight jobs are ended as DEFERRED ("shutting down") and their done() runs. */
void relay_hop_free(relay_hop *h);

#endif
