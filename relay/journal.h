/*
 * journal.h - the delivery history of one message, as text records
 * ("<crc32> <type> <fields>\n"), one line per event. The relay appends and
 * fsyncs records to SPOOL/state/<id> while the message is queued and writes
 * the whole history to SPOOL/status/<id> when it leaves; postern-queue
 * reads both. Replay stops at the first record that is incomplete or fails
 * its checksum (a write torn by a crash): what comes before it is the
 * state, and the relay truncates the rest before appending again.
 * Format: postern-relay(8), FILES.
 */
#ifndef POSTERN_RELAY_JOURNAL_H
#define POSTERN_RELAY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_VERSION		1
#define JOURNAL_LINE_MAX	16384		/* one record, escaped */
#define JOURNAL_FILE_MAX	(16 * 1024 * 1024)	/* bytes read back */
#define JOURNAL_RCPTS_MAX	100000

/* A recipient's state (also in postern-queue's JSON). */
enum journal_rstate { JOURNAL_R_QUEUED = 0, JOURNAL_R_DEFERRED, JOURNAL_R_DELIVERED, JOURNAL_R_FAILED };
/* A message's fate once it left the queue. */
enum journal_fate { JOURNAL_OPEN = 0, JOURNAL_DELIVERED, JOURNAL_FAILED, JOURNAL_DELETED };

struct journal_rcpt {
	char *address;		/* "<x@y>" */
	int state;		/* enum journal_rstate */
	char *reply;		/* last reply, "" before any */
	uint64_t when_ms;	/* of the last outcome */
};

/* One line of the history: an attempt ('A', rcpt unused) or an outcome ('R'). */
struct journal_event {
	char type;
	uint64_t ms;
	size_t rcpt;
	int state;
	char *text;		/* 'A': the next hop; 'R': the reply */
};

struct journal_state {
	int version;		/* 0 until the version record */
	int have_envelope;
	uint64_t arrival_ms, size;
	char *sender;
	struct journal_rcpt *rcpts;
	size_t nrcpts;
	unsigned attempts;
	uint64_t next_ms;	/* 0: as soon as possible */
	int held;
	char *bounce_id;	/* the DSN queued for this message, NULL before */
	int fate;		/* enum journal_fate */
	uint64_t fate_ms;
	struct journal_event *events;
	size_t nevents;
};

/* A growable buffer of records to write in one go. */
struct journal_buf {
	char *p;
	size_t len, cap;
};

void journal_buf_free(struct journal_buf *b);
/* Record writers: each appends one checksummed line to b. */
void journal_rec_envelope(struct journal_buf *b, uint64_t arrival_ms, uint64_t size,
    const char *sender, const char *const *rcpts, size_t nrcpts);
void journal_rec_attempt(struct journal_buf *b, uint64_t ms, const char *hop);
void journal_rec_outcome(struct journal_buf *b, uint64_t ms, size_t rcpt, int state, const char *reply);
void journal_rec_next(struct journal_buf *b, uint64_t ms, uint64_t next_ms);
void journal_rec_hold(struct journal_buf *b, uint64_t ms, int held);
void journal_rec_bounce(struct journal_buf *b, uint64_t ms, const char *dsn_id);
void journal_rec_fate(struct journal_buf *b, uint64_t ms, int fate);

/*
 * Apply the records of data[0..len) to st (which may already hold earlier
 * ones). Returns the length of the prefix made of whole, valid records;
 * the rest is ignored.
 */
size_t journal_replay(struct journal_state *st, const char *data, size_t len);
void journal_state_free(struct journal_state *st);

/* Names used in logs and JSON. */
const char *journal_rstate_name(int state);
const char *journal_fate_name(int fate);

/*
 * Read path (relative to dirfd) and replay it into st (zeroed first).
 * 0 ok (*valid = bytes of whole records, *total = file size; keep, when
 * not NULL, gets those valid bytes), -1 with errno (ENOENT: no journal).
 */
int journal_load(int dirfd, const char *path, struct journal_state *st, struct journal_buf *keep,
    size_t *valid, size_t *total);

#endif
