/*
 * spool_pool.c - the spool's files made ahead. Creating a file costs an
 * inode allocation (~0.4 ms on a busy ext4), too slow for the event loop,
 * so the commit worker keeps SPOOL_POOL_MAX empty ones ready in tmp/ and a
 * message takes one. When the file system refuses new files the refill
 * backs off and warns rarely (see SPOOL_RETRY_MIN_MS in spool_int.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* O_TMPFILE */
#endif
#include "spool_int.h"
#include "log.h"
#include "clock_ms.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Count a failed create; log it unless one was logged within SPOOL_WARN_EVERY_MS. */
static void
spool_create_failed(spool *sp, int err)
{
	uint64_t now = clock_ms_mono();
	unsigned long held = 0;
	int say;

	pthread_mutex_lock(&sp->mu);
	sp->create_failures++;
	say = sp->warn_ms == 0 || now - sp->warn_ms >= SPOOL_WARN_EVERY_MS;
	if (say) {
		held = sp->warn_held;
		sp->warn_held = 0;
		sp->warn_ms = now;
	} else {
		sp->warn_held++;
	}
	pthread_mutex_unlock(&sp->mu);
	if (!say)
		return;
	errno = err;
	if (held > 0)
		log_warn("spool: create in %s/tmp (%lu more failure(s) not logged)", sp->dir, held);
	else
		log_warn("spool: create in %s/tmp", sp->dir);
}

/* A create worked: after failures, say so once. */
static void
spool_create_worked(spool *sp)
{
	unsigned long n;

	pthread_mutex_lock(&sp->mu);
	n = sp->create_failures;
	sp->create_failures = 0;
	sp->warn_held = 0;
	sp->warn_ms = 0;
	sp->fill_backoff_ms = 0;
	sp->fill_retry_ms = 0;
	pthread_mutex_unlock(&sp->mu);
	if (n > 0)
		log_info("spool: files can be created in %s/tmp again, after %lu failure(s)",
		    sp->dir, n);
}

/* Create one empty file in tmp/; -1 on failure (logged, rate-limited). */
static int
spool_create_blank(spool *sp, struct spool_blank *b)
{
	unsigned long n;

	if (!sp->named) {
		b->name[0] = '\0';
		b->fd = openat(sp->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
	} else {
		pthread_mutex_lock(&sp->mu);
		n = ++sp->seq;
		pthread_mutex_unlock(&sp->mu);
		snprintf(b->name, sizeof(b->name), "p.%ld.%lu", (long)getpid(), n);
		b->fd = openat(sp->tmpfd, b->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	}
	if (b->fd < 0) {
		spool_create_failed(sp, errno);
		return -1;
	}
	if (sp->create_failures > 0)	/* read unlocked: a stale 0 only delays the line */
		spool_create_worked(sp);
	return 0;
}

void
spool_pool_fill(spool *sp)
{
	struct spool_blank b;

	for (;;) {
		pthread_mutex_lock(&sp->mu);
		if (sp->npool >= SPOOL_POOL_MAX || sp->stop) {
			pthread_mutex_unlock(&sp->mu);
			return;
		}
		pthread_mutex_unlock(&sp->mu);
		if (spool_create_blank(sp, &b) != 0) {
			/* Not again at once: the next try waits, longer each time. */
			pthread_mutex_lock(&sp->mu);
			sp->fill_backoff_ms = sp->fill_backoff_ms == 0 ? SPOOL_RETRY_MIN_MS :
			    sp->fill_backoff_ms >= SPOOL_RETRY_MAX_MS / 2 ? SPOOL_RETRY_MAX_MS :
			    sp->fill_backoff_ms * 2;
			sp->fill_retry_ms = clock_ms_mono() + sp->fill_backoff_ms;
			pthread_mutex_unlock(&sp->mu);
			return;
		}
		pthread_mutex_lock(&sp->mu);
		if (sp->npool < SPOOL_POOL_MAX) {
			sp->pool[sp->npool++] = b;
			b.fd = -1;
		}
		pthread_mutex_unlock(&sp->mu);
		if (b.fd >= 0) {
			close(b.fd);
			if (b.name[0])
				unlinkat(sp->tmpfd, b.name, 0);
		}
	}
}

/* Files left in tmp/ by a crash were never acknowledged: remove them. */
void
spool_clean_tmp(spool *sp)
{
	int fd = dup(sp->tmpfd);
	DIR *d;
	struct dirent *de;
	unsigned n = 0;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(sp->tmpfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if (n)
		log_info("spool: removed %u stale file(s) from %s/tmp", n, sp->dir);
}

/* Can we create an O_TMPFILE file in tmp/ and link it by /proc/self/fd (no privilege needed)? */
int
spool_tmpfile_works(spool *sp)
{
	char proc[64], name[64];
	int fd = openat(sp->tmpfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640), ok;

	if (fd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	snprintf(name, sizeof(name), "probe.%ld", (long)getpid());
	ok = linkat(AT_FDCWD, proc, sp->tmpfd, name, AT_SYMLINK_FOLLOW) == 0;
	if (ok)
		unlinkat(sp->tmpfd, name, 0);
	close(fd);
	if (!ok)
		log_info("spool: no O_TMPFILE linking here, using named files in %s/tmp", sp->dir);
	return ok;
}

int
spool_pool_take(spool *sp, struct spool_blank *b)
{
	int got = 0;

	pthread_mutex_lock(&sp->mu);
	if (sp->npool > 0) {
		*b = sp->pool[--sp->npool];
		got = 1;
	}
	if (sp->npool < SPOOL_POOL_LOW)
		pthread_cond_signal(&sp->cv);
	pthread_mutex_unlock(&sp->mu);
	/* Pool empty (a burst, or the disk refuses): create it here. */
	return got ? 0 : spool_create_blank(sp, b);
}

void
spool_pool_drain(spool *sp)
{
	while (sp->npool > 0) {
		struct spool_blank *b = &sp->pool[--sp->npool];
		close(b->fd);
		if (b->name[0])
			unlinkat(sp->tmpfd, b->name, 0);
	}
}
