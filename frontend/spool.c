/*
 * spool.c - durable spool with group commit. The event loop writes message
 * bytes (page cache, cheap); the expensive part, fsync + rename + directory
 * fsync, runs on one worker thread that takes every commit queued so far
 * as a batch, so N concurrent sessions share one directory fsync instead
 * of paying one each (what databases call group commit).
 *
 * Files are made ahead by the worker (spool_pool.c). They are O_TMPFILE
 * files of tmp/ (no name: a crash or an abort leaves nothing to clean),
 * read-write (milter edits read a message back), linked into new/<id>
 * at commit. Where O_TMPFILE or /proc/self/fd is
 * missing they are named tmp/p.<pid>.<n> and renamed instead.
 *
 * A message that waits for a milter's end-of-message verdict can have its
 * data synced while the verdict is on its way (spool_file_presync): syncs
 * are numbered, and a commit whose bytes an earlier sync already covered
 * skips straight to the link and the directory fsync.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* syncfs */
#endif
#include "spool_int.h"
#include "log.h"
#include "clock_ms.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Keep header values on one line and free of control bytes. */
static int
spool_put(char **p, char *end, const char *key, const char *val)
{
	size_t klen = strlen(key), i;

	if ((size_t)(end - *p) < klen + 2)
		return -1;
	memcpy(*p, key, klen);
	*p += klen;
	*(*p)++ = ' ';
	for (i = 0; val[i]; i++) {
		unsigned char c = (unsigned char)val[i];
		if (*p >= end - 1)
			return -1;
		*(*p)++ = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	*(*p)++ = '\n';
	return 0;
}

size_t
spool_format_header(const struct spool_envelope *env, char *out, size_t outsize,
    size_t *size_field_off)
{
	char *p = out, *end = out + outsize, num[64];
	size_t i;

	snprintf(num, sizeof(num), "%d", SPOOL_VERSION);
	if (spool_put(&p, end, "postern-spool", num) ||
	    spool_put(&p, end, "id", env->id))
		return 0;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)env->arrival_ms);
	if (spool_put(&p, end, "arrival", num) ||
	    spool_put(&p, end, "client-address", env->client_addr))
		return 0;
	snprintf(num, sizeof(num), "%u", env->client_port);
	if (spool_put(&p, end, "client-port", num) ||
	    spool_put(&p, end, "helo", env->helo) ||
	    spool_put(&p, end, "protocol", env->protocol) ||
	    spool_put(&p, end, "tls-version", env->tls_version ? env->tls_version : "") ||
	    spool_put(&p, end, "tls-cipher", env->tls_cipher ? env->tls_cipher : "") ||
	    spool_put(&p, end, "account", env->account) ||
	    spool_put(&p, end, "body", env->body) ||
	    spool_put(&p, end, "smtputf8", env->smtputf8 ? "yes" : "no") ||
	    spool_put(&p, end, "sender", env->sender))
		return 0;
	for (i = 0; i < env->nrcpts; i++)
		if (spool_put(&p, end, "rcpt", env->rcpts[i]))
			return 0;
	if (env->quarantine && spool_put(&p, end, "quarantine", env->quarantine))
		return 0;
	/* Fixed width, rewritten in place at commit when the size is known. */
	snprintf(num, sizeof(num), "%0*d", SPOOL_SIZE_DIGITS, 0);
	if (spool_put(&p, end, "size", num))
		return 0;
	*size_field_off = (size_t)(p - out) - 1 - SPOOL_SIZE_DIGITS;
	if (p >= end)
		return 0;
	*p++ = '\n';	/* a blank line ends the header block */
	return (size_t)(p - out);
}

/* Give a synced file its name in new/: link the O_TMPFILE inode, or rename the named file. */
static int
spool_publish(spool *sp, spool_file *f)
{
	char proc[64];

	if (f->tmpname[0])
		return renameat(sp->tmpfd, f->tmpname, sp->newfd, f->id);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	return linkat(AT_FDCWD, proc, sp->newfd, f->id, AT_SYMLINK_FOLLOW);
}

/* Worker: one syncfs() of the spool's file system, numbered; 1 when it succeeded. */
static int
spool_sync(spool *sp)
{
	uint64_t gen;
	int ok;

	pthread_mutex_lock(&sp->mu);
	gen = ++sp->sync_started;
	sp->nsyncs++;
	pthread_mutex_unlock(&sp->mu);
	ok = syncfs(sp->tmpfd) == 0;
	if (!ok)
		log_warn("spool: syncfs %s", sp->dir);
	pthread_mutex_lock(&sp->mu);
	if (ok)
		sp->sync_done = gen;
	pthread_mutex_unlock(&sp->mu);
	return ok;
}

/* Did the sync numbered done (or an earlier one) cover f's bytes (spool_file_presync)? */
static int
spool_covered(const spool_file *f, uint64_t done)
{
	return f->sync_gen != 0 && f->sync_gen <= done;
}

/*
 * Worker: commit one batch. Order matters: data durable, then the names,
 * then the directory. One syncfs() makes every file of the batch durable
 * in one journal commit, where an fdatasync() per file would pay one
 * device flush each (measured: 4-6 ms apiece on this kind of machine).
 * It is skipped when an early sync already covered every file.
 */
static void
spool_commit_batch(spool *sp, spool_file *batch)
{
	spool_file *f;
	int any = 0, synced = 1, need = 0;
	uint64_t covered = 0, done;

	pthread_mutex_lock(&sp->mu);
	done = sp->sync_done;	/* only this thread moves it; a failed sync leaves it */
	for (f = batch; f; f = f->next) {
		if (!f->failed && spool_covered(f, done))
			covered++;
		else
			need = 1;
	}
	sp->ncovered += covered;
	pthread_mutex_unlock(&sp->mu);
	if (need)
		synced = spool_sync(sp);
	for (f = batch; f; f = f->next) {
		f->ok = !f->failed;
		/* Without syncfs (not supported here?), fall back to the file itself. */
		if (f->ok && !synced && !spool_covered(f, done) && fdatasync(f->fd) != 0) {
			log_warn("spool: fdatasync %s", f->id);
			f->ok = 0;
		}
		if (f->ok && spool_publish(sp, f) != 0) {
			log_warn("spool: %s %s/new/%s", f->tmpname[0] ? "rename" : "link", sp->dir, f->id);
			f->ok = 0;
		}
		close(f->fd);
		f->fd = -1;
		if (!f->ok && f->tmpname[0])
			unlinkat(sp->tmpfd, f->tmpname, 0);
		any |= f->ok;
	}
	if (any && fsync(sp->newfd) != 0) {
		/* The names may not survive a crash: take them back, the clients get a 4xx. */
		log_warn("spool: fsync %s/new", sp->dir);
		for (f = batch; f; f = f->next) {
			if (f->ok)
				unlinkat(sp->newfd, f->id, 0);
			f->ok = 0;
		}
	}
}

static void *
spool_worker(void *arg)
{
	spool *sp = arg;
	spool_file *batch, *last;
	struct timespec t0, t1;

	pthread_mutex_lock(&sp->mu);
	for (;;) {
		while (sp->pending == NULL && !sp->stop && sp->sync_req <= sp->sync_started) {
			uint64_t now;
			struct timespec until;

			if (sp->npool >= SPOOL_POOL_LOW) {
				pthread_cond_wait(&sp->cv, &sp->mu);
				continue;
			}
			if ((now = clock_ms_mono()) >= sp->fill_retry_ms)
				break;		/* refill now */
			/* A refill failed: wait for work or for the retry time (cv runs on CLOCK_MONOTONIC). */
			until.tv_sec = (time_t)(sp->fill_retry_ms / 1000);
			until.tv_nsec = (long)(sp->fill_retry_ms % 1000) * 1000000;
			pthread_cond_timedwait(&sp->cv, &sp->mu, &until);
		}
		if (sp->pending == NULL && sp->stop)
			break;
		if (sp->pending == NULL && sp->sync_req > sp->sync_started) {
			/* An early sync: data only, nobody waits for it yet. */
			pthread_mutex_unlock(&sp->mu);
			spool_sync(sp);
			pthread_mutex_lock(&sp->mu);
			continue;
		}
		if (sp->pending == NULL) {
			/* Nothing to commit: create files ahead, outside the lock. */
			pthread_mutex_unlock(&sp->mu);
			spool_pool_fill(sp);
			pthread_mutex_lock(&sp->mu);
			continue;
		}
		batch = sp->running = sp->pending;
		sp->pending = NULL;
		sp->pending_tail = &sp->pending;
		pthread_mutex_unlock(&sp->mu);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		spool_commit_batch(sp, batch);
		clock_gettime(CLOCK_MONOTONIC, &t1);

		pthread_mutex_lock(&sp->mu);
		sp->busy_us += (uint64_t)(((int64_t)t1.tv_sec - t0.tv_sec) * 1000000 +
		    ((int64_t)t1.tv_nsec - t0.tv_nsec) / 1000);
		sp->nbatches++;
		sp->ncommits++;
		sp->running = NULL;
		for (last = batch; last->next; last = last->next)
			sp->ncommits++;
		last->next = sp->finished;
		sp->finished = batch;
		wakeup_signal(sp->wake);
	}
	pthread_mutex_unlock(&sp->mu);
	return NULL;
}

/* Loop thread: deliver the results of finished batches. */
static void
spool_on_done(void *arg)
{
	spool *sp = arg;
	spool_file *list, *f;

	pthread_mutex_lock(&sp->mu);
	list = sp->finished;
	sp->finished = NULL;
	pthread_mutex_unlock(&sp->mu);
	while ((f = list) != NULL) {
		list = f->next;
		pthread_mutex_lock(&sp->mu);
		sp->busy--;
		pthread_mutex_unlock(&sp->mu);
		if (f->done)
			f->done(f->arg, f->ok);
		free(f);
	}
}

static int
spool_mkdir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

spool *
spool_open(struct event_base *base, const char *dir, char *err, size_t errlen)
{
	spool *sp;
	char path[4096];

	if (spool_mkdir(dir, err, errlen))
		return NULL;
	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->tmpfd = sp->newfd = -1;
	snprintf(path, sizeof(path), "%s/tmp", dir);
	if (spool_mkdir(path, err, errlen))
		goto fail;
	if ((sp->tmpfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/new", dir);
	if (spool_mkdir(path, err, errlen))
		goto fail;
	if ((sp->newfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	spool_clean_tmp(sp);
	sp->named = !spool_tmpfile_works(sp);
	pthread_mutex_init(&sp->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&sp->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	sp->pending_tail = &sp->pending;
	sp->wake = wakeup_new(base, "spool", spool_on_done, sp);
	if (pthread_create(&sp->worker, NULL, spool_worker, sp) != 0) {
		snprintf(err, errlen, "spool: cannot start the commit thread");
		wakeup_free(sp->wake);
		pthread_cond_destroy(&sp->cv);
		pthread_mutex_destroy(&sp->mu);
		goto fail;
	}
	return sp;
fail:
	if (sp->tmpfd >= 0)
		close(sp->tmpfd);
	if (sp->newfd >= 0)
		close(sp->newfd);
	free(sp->dir);
	free(sp);
	return NULL;
}

void
spool_close(spool *sp)
{
	if (sp == NULL)
		return;
	pthread_mutex_lock(&sp->mu);
	sp->stop = 1;
	pthread_cond_signal(&sp->cv);
	pthread_mutex_unlock(&sp->mu);
	pthread_join(sp->worker, NULL);
	spool_on_done(sp);	/* results of the last batch */
	spool_pool_drain(sp);
	if (sp->nbatches)
		log_info("spool: %llu commit(s) in %llu batch(es), %.1f per batch, %.2f ms per batch, "
		    "%llu sync(s), %llu commit(s) synced early",
		    (unsigned long long)sp->ncommits, (unsigned long long)sp->nbatches,
		    (double)sp->ncommits / (double)sp->nbatches,
		    (double)sp->busy_us / 1000.0 / (double)sp->nbatches,
		    (unsigned long long)sp->nsyncs, (unsigned long long)sp->ncovered);
	wakeup_free(sp->wake);
	pthread_cond_destroy(&sp->cv);
	pthread_mutex_destroy(&sp->mu);
	close(sp->tmpfd);
	close(sp->newfd);
	free(sp->dir);
	free(sp);
}

unsigned
spool_busy(spool *sp)
{
	unsigned n;

	pthread_mutex_lock(&sp->mu);
	n = sp->busy;
	pthread_mutex_unlock(&sp->mu);
	return n;
}

static void
spool_file_flush(spool_file *f)
{
	size_t off = 0;

	while (off < f->len && !f->failed) {
		ssize_t n = write(f->fd, f->buf + off, f->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("spool: write %s/tmp/%s (%s)", f->sp->dir, f->tmpname, f->id);
			f->failed = 1;
			break;
		}
		off += (size_t)n;
	}
	f->flushed |= off > 0;
	f->len = 0;
}

spool_file *
spool_file_new(spool *sp, const struct spool_envelope *env)
{
	struct spool_blank b;
	spool_file *f;
	char *buf, *hdr;
	size_t hlen, off;

	if (env->id[0] == '\0' || env->id[0] == '.' || strlen(env->id) >= sizeof(f->id) ||
	    strchr(env->id, '/') != NULL) {
		log_warnx("spool: bad id %.64s", env->id);
		return NULL;
	}
	/*
	 * The envelope goes straight into the write buffer; only one too large
	 * for it (hundreds of recipients) is formatted again into a scratch
	 * buffer of the worst-case size. Allocating that one per message made
	 * glibc map and unmap 664 KB (and fault it in) for every message once
	 * its mmap threshold is fixed (smtpd_keep_heap in main.c).
	 */
	buf = xmalloc(SPOOL_WBUF);
	hdr = buf;
	if ((hlen = spool_format_header(env, buf, SPOOL_WBUF, &off)) == 0) {
		hdr = xmalloc(SPOOL_HDR_MAX);
		hlen = spool_format_header(env, hdr, SPOOL_HDR_MAX, &off);
	}
	if (hlen == 0) {
		log_warnx("spool: envelope of %s too large", env->id);
		free(hdr);
		free(buf);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->sp = sp;
	xstrlcpy(f->id, env->id, sizeof(f->id));
	if (spool_pool_take(sp, &b) != 0) {
		if (hdr != buf)
			free(hdr);
		free(buf);
		free(f);
		return NULL;
	}
	f->fd = b.fd;
	xstrlcpy(f->tmpname, b.name, sizeof(f->tmpname));
	f->size_off = (off_t)off;
	f->buf = buf;
	if (hdr == buf) {
		f->len = hlen;
	} else {
		/* Rare (hundreds of recipients): write the header straight out. */
		f->buf = hdr;
		f->len = hlen;
		spool_file_flush(f);
		f->buf = buf;
		free(hdr);
	}
	return f;
}

void
spool_file_write(spool_file *f, const char *p, size_t n)
{
	char *keep;

	if (f->failed)
		return;
	f->sync_gen = 0;	/* an early sync no longer covers the file */
	if (f->len + n > SPOOL_WBUF) {
		spool_file_flush(f);
		if (n >= SPOOL_WBUF) {
			/* Big spans skip the copy (flush only reads buf). */
			keep = f->buf;
			f->buf = (char *)p;
			f->len = n;
			spool_file_flush(f);
			f->buf = keep;
			return;
		}
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

int
spool_file_failed(const spool_file *f)
{
	return f->failed;
}

int
spool_file_message_fd(spool_file *f, off_t *msg_off)
{
	spool_file_flush(f);
	/* "size " digits "\n", then the blank line: the message follows. */
	*msg_off = f->size_off + SPOOL_SIZE_DIGITS + 2;
	return f->fd;
}

void
spool_file_abort(spool_file *f)
{
	if (f == NULL)
		return;
	close(f->fd);
	if (f->tmpname[0] && unlinkat(f->sp->tmpfd, f->tmpname, 0) != 0)
		log_warn("spool: unlink %s/tmp/%s", f->sp->dir, f->tmpname);
	free(f->buf);
	free(f);
}

/* Flush the buffer and write the size into the header. */
static void
spool_file_finish(spool_file *f, uint64_t size)
{
	char digits[SPOOL_SIZE_DIGITS + 1];

	snprintf(digits, sizeof(digits), "%0*llu", SPOOL_SIZE_DIGITS, (unsigned long long)size);
	if (!f->flushed && f->buf != NULL && f->len >= (size_t)f->size_off + SPOOL_SIZE_DIGITS) {
		/* A small message, still whole in the buffer: one write, no pwrite. */
		memcpy(f->buf + f->size_off, digits, SPOOL_SIZE_DIGITS);
		spool_file_flush(f);
		return;
	}
	spool_file_flush(f);
	if (!f->failed && pwrite(f->fd, digits, SPOOL_SIZE_DIGITS, f->size_off) != SPOOL_SIZE_DIGITS) {
		log_warn("spool: write %s/tmp/%s (%s)", f->sp->dir, f->tmpname, f->id);
		f->failed = 1;
	}
}

void
spool_file_presync(spool_file *f, uint64_t size)
{
	spool *sp = f->sp;

	spool_file_finish(f, size);
	if (f->failed)
		return;
	f->presize = size;
	pthread_mutex_lock(&sp->mu);
	/* Any sync begun from now on writes these bytes out. */
	f->sync_gen = sp->sync_started + 1;
	if (sp->sync_req < f->sync_gen) {
		sp->sync_req = f->sync_gen;
		pthread_cond_signal(&sp->cv);
	}
	pthread_mutex_unlock(&sp->mu);
}

void
spool_file_commit(spool_file *f, uint64_t size, spool_done_fn done, void *arg)
{
	spool *sp = f->sp;

	if (f->sync_gen == 0 || size != f->presize) {
		f->sync_gen = 0;	/* changed since the early sync: the batch syncs again */
		spool_file_finish(f, size);
	}
	free(f->buf);
	f->buf = NULL;
	f->done = done;
	f->arg = arg;
	f->next = NULL;
	pthread_mutex_lock(&sp->mu);
	*sp->pending_tail = f;
	sp->pending_tail = &f->next;
	sp->busy++;
	pthread_cond_signal(&sp->cv);
	pthread_mutex_unlock(&sp->mu);
}

void
spool_stats(spool *sp, struct spool_stats *st)
{
	pthread_mutex_lock(&sp->mu);
	st->commits = sp->ncommits;
	st->batches = sp->nbatches;
	st->syncs = sp->nsyncs;
	st->covered = sp->ncovered;
	pthread_mutex_unlock(&sp->mu);
}

void
spool_cancel(spool *sp, void *arg)
{
	spool_file *f;

	pthread_mutex_lock(&sp->mu);
	for (f = sp->pending; f; f = f->next)
		if (f->arg == arg)
			f->done = NULL;
	for (f = sp->running; f; f = f->next)
		if (f->arg == arg)
			f->done = NULL;
	for (f = sp->finished; f; f = f->next)
		if (f->arg == arg)
			f->done = NULL;
	pthread_mutex_unlock(&sp->mu);
}
