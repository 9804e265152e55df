/*
 * queue_store.c - the queue's disk side. Ownership: only postern-relay
 * writes state/, status/ and corrupt/, and removes files from new/; it
 * holds SPOOL/relay.lock (flock) while it runs so that a second one
 * cannot start. Durability order when a message leaves: outcomes (and
 * the DSN's id, when one is due) are fsync'ed in state/<id> before the
 * DSN is written; the whole history goes to status/<id> (tmp, fsync,
 * rename, directory fsync) before new/<id> and state/<id> are removed.
 * A crash between any two steps is finished at the next start (queue.c,
 * queue_pickup).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "queue_int.h"
#include "dsn.h"
#include "relay_metrics.h"
#include "log.h"
#include "spool.h"
#include "uuid.h"
#include "xalloc.h"

#include <dirent.h>
#include <event2/event.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QSTORE_SIZE_DIGITS	20	/* the spool writer's fixed-width size field */

static int
qs_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
qs_buf_add(struct journal_buf *dst, const struct journal_buf *src)
{
	if (dst->len + src->len + 1 > dst->cap) {
		dst->cap = (dst->len + src->len + 1) * 2;
		dst->p = xrealloc(dst->p, dst->cap);
	}
	memcpy(dst->p + dst->len, src->p, src->len);
	dst->len += src->len;
	dst->p[dst->len] = '\0';
}

int
queue_store_append(struct qmsg *m, struct journal_buf *b)
{
	queue *q = m->q;
	int created = 0, rc = 0;

	if (m->jfd < 0) {
		m->jfd = openat(q->statefd, m->id, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		    0640);
		if (m->jfd < 0) {
			log_warn("id=%s: create %s/state/%s", m->id, q->dir, m->id);
			rc = -1;
			goto apply;
		}
		created = 1;
		/* The envelope records (in hist since the pick-up) go first. */
		if (qs_write_all(m->jfd, m->hist.p, m->hist.len) != 0)
			rc = -1;
	}
	if (rc == 0 && (qs_write_all(m->jfd, b->p, b->len) != 0 || fdatasync(m->jfd) != 0))
		rc = -1;
	if (rc == 0 && created && fsync(q->statefd) != 0)
		rc = -1;
	if (rc != 0)
		log_warn("id=%s: write %s/state/%s (state not durable)", m->id, q->dir, m->id);
apply:
	journal_replay(&m->st, b->p, b->len);
	qs_buf_add(&m->hist, b);
	return rc;
}

int
queue_store_has_status(queue *q, const char *id)
{
	return faccessat(q->statusfd, id, F_OK, 0) == 0;
}

void
queue_store_corrupt(queue *q, const char *id, const char *why)
{
	if (renameat(q->newfd, id, q->corruptfd, id) != 0) {
		log_warn("id=%s: corrupt spool file (%s), and moving it to %s/corrupt/ failed",
		    id, why, q->dir);
		return;
	}
	fsync(q->corruptfd);
	log_warnx("id=%s: corrupt spool file (%s): moved to %s/corrupt/%s", id, why, q->dir, id);
}

int
queue_store_load(struct qmsg *m)
{
	queue *q = m->q;
	size_t valid, total, i;
	char aside[128];
	int ok;

	if (journal_load(q->statefd, m->id, &m->st, &m->hist, &valid, &total) != 0) {
		if (errno != ENOENT)
			log_warn("id=%s: read %s/state/%s", m->id, q->dir, m->id);
		memset(&m->st, 0, sizeof(m->st));
		return 0;
	}
	ok = m->st.have_envelope && m->st.nrcpts == m->env.nrcpts &&
	    strcmp(m->st.sender, m->env.sender) == 0;
	for (i = 0; ok && i < m->st.nrcpts; i++)
		ok = strcmp(m->st.rcpts[i].address, m->env.rcpts[i]) == 0;
	if (!ok) {
		/* Torn at creation (nothing had happened yet), or not this message's: start over. */
		if (m->st.have_envelope) {
			snprintf(aside, sizeof(aside), "%s.state", m->id);
			renameat(q->statefd, m->id, q->corruptfd, aside);
			log_warnx("id=%s: state/%s does not match the spool file: moved to corrupt/%s",
			    m->id, m->id, aside);
		} else {
			unlinkat(q->statefd, m->id, 0);
		}
		journal_state_free(&m->st);
		journal_buf_free(&m->hist);
		return 0;
	}
	if ((m->jfd = openat(q->statefd, m->id, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
		log_warn("id=%s: open %s/state/%s", m->id, q->dir, m->id);
	else if (valid < total) {
		log_warnx("id=%s: state/%s: %zu byte(s) of a torn record dropped", m->id, m->id,
		    total - valid);
		if (ftruncate(m->jfd, (off_t)valid) != 0 || fdatasync(m->jfd) != 0)
			log_warn("id=%s: truncate %s/state/%s", m->id, q->dir, m->id);
	}
	{
		char from[600];

		log_info("id=%s from=%s size=%llu nrcpt=%zu attempts=%u%s queued (from the journal)",
		    m->id, log_value(m->env.sender, from, sizeof(from)),
		    (unsigned long long)m->env.size, m->env.nrcpts, m->st.attempts,
		    m->st.held ? " held=yes" : "");
	}
	return 1;
}

/* The original message's header section, for the DSN (malloc'ed). */
static char *
qs_orig_headers(struct qmsg *m, size_t *len)
{
	size_t want = m->env.size < DSN_HEADERS_MAX + 4 ? (size_t)m->env.size : DSN_HEADERS_MAX + 4;
	char *buf = xmalloc(want + 1);
	ssize_t n = 0;
	int fd = openat(m->q->newfd, m->id, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = pread(fd, buf, want, (off_t)m->env.data_offset);
		close(fd);
	}
	*len = n > 0 ? dsn_header_length(buf, (size_t)n) : 0;
	return buf;
}

void
queue_store_make_dsn(struct qmsg *m)
{
	queue *q = m->q;
	const char *dsn_id = m->st.bounce_id;
	struct dsn_rcpt *rc;
	struct dsn_info in;
	struct spool_envelope e;
	char *msg, *hdrs, *hbuf, tmp[128], from[600], digits[QSTORE_SIZE_DIGITS + 1], *to;
	size_t msglen, hlen, off, i, n = 0;
	int eightbit, fd, utf8 = 0;

	if (faccessat(q->newfd, dsn_id, F_OK, 0) == 0 || faccessat(q->statusfd, dsn_id, F_OK, 0) == 0)
		return;		/* written before a crash, or even delivered already */
	rc = xcalloc(m->st.nrcpts, sizeof(*rc));
	for (i = 0; i < m->st.nrcpts; i++) {
		if (m->st.rcpts[i].state != JOURNAL_R_FAILED)
			continue;
		rc[n].address = m->st.rcpts[i].address;
		rc[n++].reply = m->st.rcpts[i].reply;
	}
	hdrs = qs_orig_headers(m, &hlen);
	memset(&in, 0, sizeof(in));
	in.id = m->id;
	in.dsn_id = dsn_id;
	in.hostname = q->cfg->smtpd_hostname;
	in.sender = m->env.sender;
	in.arrival_ms = m->st.arrival_ms;
	in.now_ms = clock_ms_wall();
	in.rcpts = rc;
	in.nrcpts = n;
	in.headers = hdrs;
	in.headers_len = hlen;
	msg = dsn_compose(&in, &msglen, &eightbit);
	free(hdrs);
	free(rc);
	for (i = 0; m->env.sender[i]; i++)
		utf8 |= (unsigned char)m->env.sender[i] >= 0x80;
	to = xstrdup(m->env.sender);
	memset(&e, 0, sizeof(e));
	e.id = dsn_id;
	e.arrival_ms = in.now_ms;
	e.client_addr = e.helo = e.protocol = e.account = "";
	e.body = eightbit ? "8BITMIME" : "7BIT";
	e.smtputf8 = utf8;
	e.sender = "<>";
	e.rcpts = &to;
	e.nrcpts = 1;
	hbuf = xmalloc(SPOOL_READ_LINE_MAX * 4);
	if ((hlen = spool_format_header(&e, hbuf, SPOOL_READ_LINE_MAX * 4, &off)) == 0) {
		log_warnx("id=%s: DSN %s: envelope too large", m->id, dsn_id);
		goto out;
	}
	snprintf(digits, sizeof(digits), "%0*llu", QSTORE_SIZE_DIGITS, (unsigned long long)msglen);
	memcpy(hbuf + off, digits, QSTORE_SIZE_DIGITS);
	snprintf(tmp, sizeof(tmp), ".dsn.%s.tmp", dsn_id);
	if ((fd = openat(q->statefd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
		log_warn("id=%s: DSN %s: create %s/state/%s", m->id, dsn_id, q->dir, tmp);
		goto out;
	}
	if (qs_write_all(fd, hbuf, hlen) != 0 || qs_write_all(fd, msg, msglen) != 0 ||
	    fdatasync(fd) != 0) {
		log_warn("id=%s: DSN %s: write %s/state/%s", m->id, dsn_id, q->dir, tmp);
		close(fd);
		unlinkat(q->statefd, tmp, 0);
		goto out;
	}
	close(fd);
	if (renameat(q->statefd, tmp, q->newfd, dsn_id) != 0 || fsync(q->newfd) != 0) {
		log_warn("id=%s: DSN %s: rename into %s/new", m->id, dsn_id, q->dir);
		unlinkat(q->statefd, tmp, 0);
		goto out;
	}
	log_info("id=%s dsn=%s to=%s nrcpt=%zu: delivery status notification queued", m->id,
	    dsn_id, log_value(m->env.sender, from, sizeof(from)), n);
	relay_metrics_dsn();
out:
	free(hbuf);
	free(to);
	free(msg);
}

/* status/.<id>.tmp: the whole history, not synced yet (queue_store_commit does it for the batch). */
static int
qs_write_status(struct qmsg *m)
{
	queue *q = m->q;
	char tmp[128];
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", m->id);
	if ((fd = openat(q->statusfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0)
		return -1;
	if (qs_write_all(fd, m->hist.p, m->hist.len) != 0) {
		close(fd);
		unlinkat(q->statusfd, tmp, 0);
		return -1;
	}
	return close(fd);
}

/*
 * Group commit of the messages that left in this loop turn. A disk flush
 * costs milliseconds (fdatasync measured at 4-6 ms on this kind of
 * machine): paying two per message capped the relay near 300 msgs/s, one
 * syncfs and one directory fsync per batch do not. Order: the histories
 * are durable before they get their names, the names before the spool
 * files go.
 */
void
queue_store_commit(queue *q)
{
	struct qmsg *list = q->commit, *m, *next;
	char tmp[128];
	int synced, fd;

	if (list == NULL)
		return;
	q->commit = NULL;
	synced = syncfs(q->statusfd) == 0;
	for (m = list; m; m = m->commit_next) {
		snprintf(tmp, sizeof(tmp), ".%s.tmp", m->id);
		if (!synced && ((fd = openat(q->statusfd, tmp, O_RDONLY | O_CLOEXEC)) < 0 ||
		    fdatasync(fd) != 0 || close(fd) != 0))
			m->fate = -1;
		if (m->fate >= 0 && renameat(q->statusfd, tmp, q->statusfd, m->id) != 0)
			m->fate = -1;
		if (m->fate < 0) {
			log_warn("id=%s: write %s/status/%s: the message stays in new/", m->id, q->dir,
			    m->id);
			unlinkat(q->statusfd, tmp, 0);
		}
	}
	if (fsync(q->statusfd) != 0) {
		/* The names may not survive a crash: keep the spool files, a restart finishes. */
		log_warn("fsync %s/status", q->dir);
		for (m = list; m; m = m->commit_next)
			m->fate = -1;
	}
	for (m = list; m; m = next) {
		next = m->commit_next;
		if (m->fate >= 0) {
			/* The journal first: new/<id> left behind is what a restart looks for. */
			if (m->jfd >= 0 && unlinkat(q->statefd, m->id, 0) != 0 && errno != ENOENT)
				log_warn("id=%s: unlink %s/state/%s", m->id, q->dir, m->id);
			if (unlinkat(q->newfd, m->id, 0) != 0 && errno != ENOENT)
				log_warn("id=%s: unlink %s/new/%s", m->id, q->dir, m->id);
			log_info("id=%s removed: %s", m->id, journal_fate_name(m->fate));
			relay_metrics_message(journal_fate_name(m->fate));
		}
		queue_forget(m);
	}
}

void
queue_store_finish(struct qmsg *m, struct journal_buf *b, int fate)
{
	queue *q = m->q;
	struct journal_buf f = { NULL, 0, 0 };
	uint64_t now = clock_ms_wall();
	size_t i;
	int failed = 0;
	char dsn_id[UUID_STR_SIZE];

	if (b != NULL && b->len) {
		/* Outcomes of the last attempt: in memory now, on disk with the status below. */
		journal_replay(&m->st, b->p, b->len);
		qs_buf_add(&m->hist, b);
	}
	for (i = 0; i < m->st.nrcpts; i++)
		failed |= m->st.rcpts[i].state == JOURNAL_R_FAILED;
	if (fate != JOURNAL_DELETED && m->st.fate == JOURNAL_OPEN)
		fate = failed ? JOURNAL_FAILED : JOURNAL_DELIVERED;
	if (fate == JOURNAL_FAILED && m->st.bounce_id == NULL && m->st.fate == JOURNAL_OPEN &&
	    q->cfg->relay_bounce && strcmp(m->env.sender, "<>") != 0) {
		/*
		 * The DSN's id is journalled (with the outcomes, which the
		 * journal may not have yet: hist holds them) before the DSN
		 * exists, so a crash can neither lose it nor send two.
		 */
		uuid_v7(dsn_id);
		journal_rec_bounce(&f, now, dsn_id);
		if (m->jfd < 0 || b == NULL || b->len == 0) {
			queue_store_append(m, &f);
		} else {
			/* b is in hist and st already: write it with the bounce record. */
			struct journal_buf both = { NULL, 0, 0 };
			qs_buf_add(&both, b);
			qs_buf_add(&both, &f);
			journal_replay(&m->st, f.p, f.len);
			if (qs_write_all(m->jfd, both.p, both.len) != 0 || fdatasync(m->jfd) != 0)
				log_warn("id=%s: write %s/state/%s", m->id, q->dir, m->id);
			qs_buf_add(&m->hist, &f);
			journal_buf_free(&both);
		}
		journal_buf_free(&f);
	}
	if (m->st.bounce_id != NULL && fate == JOURNAL_FAILED)
		queue_store_make_dsn(m);
	if (m->st.fate == JOURNAL_OPEN) {
		journal_rec_fate(&f, now, fate);
		journal_replay(&m->st, f.p, f.len);
		qs_buf_add(&m->hist, &f);
		journal_buf_free(&f);
	}
	if (qs_write_status(m) != 0) {
		log_warn("id=%s: write %s/status/%s: the message stays in new/", m->id, q->dir, m->id);
		queue_forget(m);
		return;
	}
	m->finishing = 1;
	m->fate = fate;
	m->commit_next = q->commit;
	q->commit = m;
	event_active(q->ev_commit, EV_WRITE, 0);
}

/* At startup: a journal whose message is gone from new/ (a crash after its removal). */
void
queue_store_stale_state(queue *q, const char *id)
{
	if (faccessat(q->newfd, id, F_OK, 0) == 0)
		return;
	if (queue_store_has_status(q, id)) {
		unlinkat(q->statefd, id, 0);
		log_info("id=%s: state/%s removed (the message left: status/%s)", id, id, id);
	} else {
		log_warnx("id=%s: state/%s has no message in new/ nor a status: left alone", id, id);
	}
}

void
queue_store_expire(queue *q)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	time_t now = time(NULL);
	unsigned n = 0;
	int fd;

	if ((fd = dup(q->statusfd)) >= 0 && (d = fdopendir(fd)) != NULL) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (fstatat(q->statusfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			/* A leftover temporary file (crash while writing) or an expired history. */
			if ((de->d_name[0] == '.' && sb.st_mtime + 3600 < now) ||
			    (de->d_name[0] != '.' &&
			    sb.st_mtime + (time_t)q->cfg->relay_status_lifetime <= now)) {
				if (unlinkat(q->statusfd, de->d_name, 0) == 0)
					n++;
			}
		}
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	if (n)
		log_info("status: %u record(s) older than relay_status_lifetime removed", n);
	if ((fd = dup(q->statefd)) >= 0 && (d = fdopendir(fd)) != NULL) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL)
			/* DSNs are written whole within one callback: any left here is from a crash. */
			if (strncmp(de->d_name, ".dsn.", 5) == 0)
				unlinkat(q->statefd, de->d_name, 0);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
}
