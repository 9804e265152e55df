/* queue_int.h - the queue's internals, shared by queue.c (scheduling) and queue_store.c (disk). */
#ifndef POSTERN_RELAY_QUEUE_INT_H
#define POSTERN_RELAY_QUEUE_INT_H

#include <stdint.h>
#include <sys/queue.h>

#include "clock_ms.h"
#include "config.h"
#include "deliver.h"
#include "journal.h"
#include "queue.h"
#include "spool_read.h"

struct event;

struct qmsg {
	queue *q;
	char id[64];
	struct spool_read_env env;	/* the spool file's header block */
	struct journal_state st;	/* what the journal says (applied only once written) */
	struct journal_buf hist;	/* every record so far, for status/<id> */
	int jfd;			/* state/<id> open for appending; -1 before the first record */
	struct event *timer;
	int inflight, ready, delete_req;
	int finishing;			/* status written, waiting for the batch commit (queue_store_commit) */
	int fate;			/* the fate being committed */
	struct qmsg *commit_next;
	TAILQ_ENTRY(qmsg) link;		/* in q->ready */
	/* The delivery in flight. */
	int fd;
	char *received;
	struct relay_job job;
	struct relay_rcpt *rr;
	size_t *rr_idx;			/* rr[i] is recipient rr_idx[i] of st */
	uint64_t start_ms;
};

TAILQ_HEAD(qmsg_list, qmsg);

struct queue {
	struct event_base *base;
	const postern_config *cfg;
	relay_hop *hop;
	char *dir;
	int newfd, statefd, statusfd, ctlfd, corruptfd;
	int ifd;			/* inotify */
	int wd_new, wd_ctl;
	struct event *ev_inotify, *ev_expire;
	struct event *ev_commit;	/* runs queue_store_commit once per loop turn */
	struct qmsg *commit;		/* messages waiting for it */
	void *index;			/* tsearch tree of struct qmsg, by id */
	struct qmsg_list ready;
	unsigned nmsgs, inflight, limit;
	int stopping;
	void (*drained)(void *);
	void *drained_arg;
};


/* queue_store.c */
/* Append records (created with the envelope first when new), fsync, apply to st and hist. */
int queue_store_append(struct qmsg *m, struct journal_buf *b);
/*
 * The message leaves: queue the DSN when one is due, write status/.<id>.tmp
 * (history + b + the fate) and hand it to the batch commit, which makes it
 * status/<id> and removes the new/ and state/ files.
 */
void queue_store_finish(struct qmsg *m, struct journal_buf *b, int fate);
/* The batch commit: one syncfs, the renames, one directory fsync, the removals. */
void queue_store_commit(queue *q);
/* Load state/<id> for a message found in new/; 1 when it had one. Truncates a torn tail. */
int queue_store_load(struct qmsg *m);
/* Does status/<id> hold a final history (the message left; new/<id> is a leftover)? */
int queue_store_has_status(queue *q, const char *id);
/* At startup, for each journal in state/: remove it when its message left (status/<id>). */
void queue_store_stale_state(queue *q, const char *id);
/* Move new/<id> aside to corrupt/ (logged with the reason). */
void queue_store_corrupt(queue *q, const char *id, const char *why);
/* Remove status/ files older than relay_status_lifetime, and stale temporary files. */
void queue_store_expire(queue *q);
/* The DSN of m's failed recipients exists in new/ (or already left): write it when not. */
void queue_store_make_dsn(struct qmsg *m);

/* queue.c */
void queue_forget(struct qmsg *m);

#endif
