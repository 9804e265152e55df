/*
 * spool_int.h - what spool.c (group commit) and spool_pool.c (files made
 * ahead) share: the spool's state and the pool's calls. Not for the
 * rest of the frontend, which sees spool.h only.
 */
#ifndef POSTERN_SPOOL_INT_H
#define POSTERN_SPOOL_INT_H

#include "spool.h"
#include "wakeup.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_WBUF	16384	/* write buffer while a message streams in */
#define SPOOL_HDR_MAX	(64 * 1024 + 1024 * 600)	/* worst case: many long recipients */
#define SPOOL_SIZE_DIGITS 20
#define SPOOL_POOL_LOW	32	/* refill below this */
#define SPOOL_NAME_MAX	32
/*
 * When the file system refuses new files (no space, no inodes, no file
 * descriptors), the worker retries the pool after a wait that doubles from
 * SPOOL_RETRY_MIN_MS to SPOOL_RETRY_MAX_MS, and the warning is written at
 * most once per SPOOL_WARN_EVERY_MS with the count of failures in between:
 * retrying at once made a busy loop of millions of identical lines.
 */
#define SPOOL_RETRY_MIN_MS	250
#define SPOOL_RETRY_MAX_MS	30000
#define SPOOL_WARN_EVERY_MS	10000

struct spool_blank {
	int fd;
	char name[SPOOL_NAME_MAX];	/* "" for an O_TMPFILE file */
};

struct spool_file {
	spool *sp;
	int fd;
	char id[64];
	char tmpname[SPOOL_NAME_MAX];	/* name in tmp/ until the commit; "" when unnamed */
	char *buf;		/* SPOOL_WBUF bytes, freed at commit */
	size_t len;
	off_t size_off;		/* where the size digits sit in the header */
	int flushed;		/* bytes have gone to the file (else all is still in buf) */
	int failed;
	int ok;
	uint64_t presize;	/* size given to spool_file_presync() */
	uint64_t sync_gen;	/* a sync numbered >= this covers the bytes; 0: none asked */
	spool_done_fn done;
	void *arg;
	struct spool_file *next;
};

struct spool {
	char *dir;
	int tmpfd, newfd;	/* directory fds: *at() calls, and new/ is what we fsync */
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	spool_file *pending, **pending_tail;	/* waiting for the worker */
	spool_file *running;			/* the batch the worker holds */
	spool_file *finished;			/* waiting for the loop */
	unsigned busy;				/* queued + running + finished */
	struct spool_blank pool[SPOOL_POOL_MAX];	/* empty files ready in tmp/ */
	unsigned npool;
	unsigned long seq;			/* for pool file names */
	int named;				/* no O_TMPFILE here: named tmp files */
	int stop;
	/* Creating files fails: back off, warn rarely, say when it works again. */
	uint64_t fill_retry_ms;			/* no pool refill before this (monotonic) */
	unsigned fill_backoff_ms;		/* next wait after a failed refill; 0: none failed */
	unsigned long create_failures;		/* since the last success */
	unsigned long warn_held;		/* failures not logged since the last warning */
	uint64_t warn_ms;			/* when the last warning was logged */
	wakeup *wake;		/* the worker -> the loop: finished batches */
	/*
	 * Syncs are numbered from 1. sync_started: the last one begun;
	 * sync_done: the last one that succeeded; sync_req: the number an
	 * early sync asked for (work when > sync_started).
	 */
	uint64_t sync_started, sync_done, sync_req;
	/* Worker statistics, logged at close (benchmarks read them). */
	uint64_t nbatches, ncommits, busy_us, nsyncs, ncovered;
};

/* Worker: top the pool up to SPOOL_POOL_MAX, backing off when creates fail. */
void spool_pool_fill(spool *sp);
/* Loop: a file from the pool, or one made now when it is empty; -1 when none can be made. */
int spool_pool_take(spool *sp, struct spool_blank *b);
/* Close: the pool's files go (named ones are unlinked). */
void spool_pool_drain(spool *sp);
/* Open: remove what a crash left in tmp/; can O_TMPFILE files be linked here? */
void spool_clean_tmp(spool *sp);
int spool_tmpfile_works(spool *sp);

#endif
