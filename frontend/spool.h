/*
 * spool.h - the durable spool of accepted messages, with group commit.
 *
 * A message streams into an unnamed file of SPOOL/tmp while it arrives;
 * committing it syncs the data, links it as SPOOL/new/<id> and fsyncs
 * new/, all on one worker thread that batches every commit pending at the
 * time (one syncfs and one directory fsync per batch). The caller hears
 * back on the event loop and only then may say 250. File format:
 * doc/postern-spool.5.
 */
#ifndef POSTERN_SPOOL_H
#define POSTERN_SPOOL_H

/* Files created ahead by the commit worker: descriptors the spool holds at rest. */
#define SPOOL_POOL_MAX	64

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct spool spool;
typedef struct spool_file spool_file;
struct event_base;

#define SPOOL_VERSION	1

/* What the header block of a spool file records. Strings may be "" but not NULL (except tls_*). */
struct spool_envelope {
	const char *id;			/* UUIDv7, also the file name */
	uint64_t arrival_ms;		/* unix time in milliseconds, DATA/first BDAT */
	const char *client_addr;	/* numeric address */
	unsigned client_port;
	const char *helo;
	const char *protocol;		/* SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA */
	const char *tls_version;	/* NULL: plain text */
	const char *tls_cipher;
	const char *account;		/* "" when not authenticated */
	const char *body;		/* "7BIT", "8BITMIME", "BINARYMIME" or "" */
	int smtputf8;
	const char *sender;		/* "<a@b>" or "<>" */
	char *const *rcpts;		/* "<x@y>" each */
	size_t nrcpts;
	const char *quarantine;		/* a milter's quarantine reason, or NULL */
};

/*
 * Open (creating tmp/ and new/ when missing) and start the commit worker.
 * Stale tmp/ files of an earlier run are removed. NULL with err on failure.
 * base: where commit results are delivered (frontend/wakeup.c).
 */
spool *spool_open(struct event_base *base, const char *dir, char *err, size_t errlen);
/* Wait for the commits in flight (their callbacks run), stop the worker, free. */
void spool_close(spool *sp);
/* Commits queued or running (for shutdown). */
unsigned spool_busy(spool *sp);

/* Create tmp/<env->id> and write the header block; NULL on error (logged). */
spool_file *spool_file_new(spool *sp, const struct spool_envelope *env);
/* Append message bytes (buffered). A write error is remembered: see spool_file_failed. */
void spool_file_write(spool_file *f, const char *p, size_t n);
int spool_file_failed(const spool_file *f);
/*
 * Flush what is buffered and give the file's descriptor (still owned by f)
 * and the offset where the message starts, to read it back (milter edits).
 */
int spool_file_message_fd(spool_file *f, off_t *msg_off);
/* Give up: close and unlink the tmp file, free f. */
void spool_file_abort(spool_file *f);

/*
 * The message is complete but its fate is still open (a milter judges it):
 * write the size and have the worker sync the data now, so that a commit
 * without further writes only waits for the link and the directory fsync.
 * Optional; a later write or another size undoes it.
 */
void spool_file_presync(spool_file *f, uint64_t size);

/*
 * done(arg, ok) runs later on the loop thread: ok = 1 once the message is
 * durably in new/, 0 when it is not there (tmp file removed). f belongs to
 * the spool from here on. size: message bytes, recorded in the header.
 */
typedef void (*spool_done_fn)(void *arg, int ok);
void spool_file_commit(spool_file *f, uint64_t size, spool_done_fn done, void *arg);
/* Worker counters (logged at close; read by tests and benchmarks). */
struct spool_stats {
	uint64_t commits, batches;
	uint64_t syncs;		/* syncfs calls, early ones included */
	uint64_t covered;	/* commits an early sync had covered: no syncfs of their own */
};
void spool_stats(spool *sp, struct spool_stats *st);

/* The caller went away: its pending commits go on, their callbacks are dropped. */
void spool_cancel(spool *sp, void *arg);

/* Header block writer (unit tests): returns the length written into out, 0 if it did not fit. */
size_t spool_format_header(const struct spool_envelope *env, char *out, size_t outsize,
    size_t *size_field_off);

#endif
