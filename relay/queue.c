/*
 * queue.c - the relay's scheduler: pick-up from new/ (startup scan, then
 * inotify; no polling), a FIFO of messages due now, one libevent timer per
 * deferred message, at most a bounded number of deliveries in flight (the
 * hop queues beyond its connections), outcomes journalled before anything
 * moves on, and postern-queue's requests from ctl/.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "queue_int.h"
#include "backoff.h"
#include "ctl.h"
#include "log.h"
#include "received.h"
#include "relay_metrics.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_EXPIRE_EVERY	3600	/* s between status/ expiry scans, at most */
#define QUEUE_INFLIGHT_PER_CONN	2	/* jobs handed to the hop per allowed connection */

static void queue_dispatch(queue *q);

static int
qmsg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct qmsg *)a)->id, ((const struct qmsg *)b)->id);
}

static struct qmsg *
queue_find(queue *q, const char *id)
{
	struct qmsg key, **found;

	if (snprintf(key.id, sizeof(key.id), "%s", id) >= (int)sizeof(key.id))
		return NULL;
	found = tfind(&key, &q->index, qmsg_cmp);
	return found ? *found : NULL;
}

/* Drop m from memory (its files are dealt with by the caller). */
void
queue_forget(struct qmsg *m)
{
	queue *q = m->q;

	if (m->ready)
		TAILQ_REMOVE(&q->ready, m, link);
	tdelete(m, &q->index, qmsg_cmp);
	q->nmsgs--;
	if (m->timer)
		event_free(m->timer);
	if (m->jfd >= 0)
		close(m->jfd);
	spool_read_free(&m->env);
	journal_state_free(&m->st);
	journal_buf_free(&m->hist);
	free(m);
}

static void
queue_make_ready(struct qmsg *m)
{
	if (m->ready || m->inflight || m->st.held || m->finishing)
		return;
	if (m->timer)
		evtimer_del(m->timer);
	TAILQ_INSERT_TAIL(&m->q->ready, m, link);
	m->ready = 1;
}

static void
queue_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct qmsg *m = arg;

	(void)fd;
	(void)what;
	queue_make_ready(m);
	queue_dispatch(m->q);
}

/* Ready now, or a timer for st.next_ms; nothing while held. */
static void
queue_schedule(struct qmsg *m)
{
	uint64_t now = clock_ms_wall();
	struct timeval tv;

	if (m->st.held || m->inflight)
		return;
	if (m->st.next_ms <= now) {
		queue_make_ready(m);
		return;
	}
	if (m->timer == NULL)
		m->timer = evtimer_new(m->q->base, queue_on_timer, m);
	tv.tv_sec = (time_t)((m->st.next_ms - now) / 1000);
	tv.tv_usec = (suseconds_t)((m->st.next_ms - now) % 1000 * 1000);
	evtimer_add(m->timer, &tv);
}

static void
queue_unschedule(struct qmsg *m)
{
	if (m->ready) {
		TAILQ_REMOVE(&m->q->ready, m, link);
		m->ready = 0;
	}
	if (m->timer)
		evtimer_del(m->timer);
}

/* A file appeared in new/ (or was there at start): validate it and queue it. */
static void
queue_pickup(queue *q, const char *id)
{
	struct qmsg *m;
	struct journal_buf b = { NULL, 0, 0 };
	char err[SPOOL_READ_ERR_MAX];
	size_t i, open = 0;
	int fd;

	if (id[0] == '.' || queue_find(q, id) != NULL)
		return;
	if ((fd = openat(q->newfd, id, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			log_warn("id=%s: open %s/new/%s", id, q->dir, id);
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->q = q;
	m->jfd = m->fd = -1;
	snprintf(m->id, sizeof(m->id), "%s", id);
	if (spool_read_fd(fd, &m->env, err, sizeof(err)) != 0 ||
	    (strcmp(m->env.id, id) != 0 && snprintf(err, sizeof(err), "id line says %s", m->env.id))) {
		close(fd);
		spool_read_free(&m->env);
		free(m);
		queue_store_corrupt(q, id, err);
		return;
	}
	close(fd);
	if (queue_store_has_status(q, id)) {
		/* It left before a crash took new/<id> with it: finish the removal. */
		log_info("id=%s already delivered or failed (status/%s): removing new/%s", id, id, id);
		unlinkat(q->newfd, id, 0);
		unlinkat(q->statefd, id, 0);
		spool_read_free(&m->env);
		free(m);
		return;
	}
	tsearch(m, &q->index, qmsg_cmp);
	q->nmsgs++;
	if (!queue_store_load(m)) {
		/* No journal yet: the envelope lives in memory until the first record. */
		journal_rec_envelope(&b, m->env.arrival_ms, m->env.size, m->env.sender,
		    m->env.rcpts, m->env.nrcpts);
		journal_replay(&m->st, b.p, b.len);
		m->hist = b;	/* written with the first record */
		char from[600];

		log_info("id=%s from=%s size=%llu nrcpt=%zu queued", id,
		    log_value(m->env.sender, from, sizeof(from)), (unsigned long long)m->env.size,
		    m->env.nrcpts);
		if (m->env.quarantine != NULL) {
			/* What Postfix does with a milter's quarantine: the hold queue, until released. */
			struct journal_buf h = { NULL, 0, 0 };
			journal_rec_hold(&h, clock_ms_wall(), 1);
			queue_store_append(m, &h);
			journal_buf_free(&h);
			log_info("id=%s held: quarantined by a milter (%s); postern-queue release "
			    "sends it", id, m->env.quarantine);
		}
	}
	for (i = 0; i < m->st.nrcpts; i++)
		open += m->st.rcpts[i].state == JOURNAL_R_QUEUED || m->st.rcpts[i].state == JOURNAL_R_DEFERRED;
	if (m->st.fate != JOURNAL_OPEN || m->st.bounce_id != NULL || open == 0) {
		/* A crash fell inside the removal: finish it. */
		queue_store_finish(m, NULL, m->st.fate != JOURNAL_OPEN ? m->st.fate : JOURNAL_FAILED);
		return;
	}
	queue_schedule(m);
}

static void
queue_job_free(struct qmsg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->received);
	free(m->rr);
	free(m->rr_idx);
	m->received = NULL;
	m->rr = NULL;
	m->rr_idx = NULL;
}

/* Log one recipient's outcome: grep ID tells the story. */
static void
queue_log_outcome(struct qmsg *m, const char *rcpt, const char *hop, uint64_t now, const char *status,
    const char *reply)
{
	char to[600], q[600];

	log_info("id=%s to=%s relay=%s delay=%.1fs attempt=%u status=%s reply=%s", m->id,
	    log_value(rcpt, to, sizeof(to)), hop, (double)(now - m->st.arrival_ms) / 1000.0,
	    m->st.attempts + 1, status, log_value(reply, q, sizeof(q)));
}

static void
queue_on_done(void *arg, struct relay_job *job, const char *hop)
{
	struct qmsg *m = arg;
	queue *q = m->q;
	struct journal_buf b = { NULL, 0, 0 };
	uint64_t now = clock_ms_wall();
	int expired = backoff_expired(now, m->st.arrival_ms, q->cfg->relay_max_queue_lifetime);
	size_t i, open = 0, nfinal = 0;
	const postern_config *cfg = q->cfg;

	(void)job;
	m->inflight = 0;
	q->inflight--;
	journal_rec_attempt(&b, now, hop);
	for (i = 0; i < m->job.nrcpts; i++) {
		struct relay_rcpt *r = &m->rr[i];
		int st;

		switch (r->state) {
		case RELAY_RCPT_DELIVERED:
			st = JOURNAL_R_DELIVERED;
			queue_log_outcome(m, r->address, hop, now, "sent", r->reply);
			relay_metrics_delivery(RMR_DELIVERED, m->st.arrival_ms, now);
			break;
		case RELAY_RCPT_FAILED:
			st = JOURNAL_R_FAILED;
			queue_log_outcome(m, r->address, hop, now, "bounced", r->reply);
			relay_metrics_delivery(RMR_FAILED, m->st.arrival_ms, now);
			break;
		default:
			if (expired) {
				st = JOURNAL_R_FAILED;
				queue_log_outcome(m, r->address, hop, now, "bounced",
				    r->reply[0] ? r->reply : "no reply");
				char to[600];

				log_info("id=%s to=%s deferred past relay_max_queue_lifetime (%us): "
				    "giving up", m->id, log_value(r->address, to, sizeof(to)),
				    cfg->relay_max_queue_lifetime);
				relay_metrics_delivery(RMR_FAILED, m->st.arrival_ms, now);
			} else {
				st = JOURNAL_R_DEFERRED;
				open++;
				queue_log_outcome(m, r->address, hop, now, "deferred",
				    r->reply[0] ? r->reply : "no reply");
				/* Our own shutdown is no attempt (not journalled below): not counted either. */
				if (!q->stopping)
					relay_metrics_delivery(RMR_DEFERRED, m->st.arrival_ms, now);
			}
			break;
		}
		/* A deferral caused by our own shutdown is no attempt: not journalled. */
		if (st == JOURNAL_R_DEFERRED && q->stopping)
			continue;
		nfinal += st != JOURNAL_R_DEFERRED;
		journal_rec_outcome(&b, now, m->rr_idx[i], st, r->reply[0] ? r->reply : "no reply");
	}
	queue_job_free(m);
	/* The job held every open recipient: none left open means the message is done. */
	if (open == 0 || m->delete_req) {
		queue_store_finish(m, &b, open == 0 ? JOURNAL_DELIVERED : JOURNAL_DELETED);
		journal_buf_free(&b);
		queue_dispatch(q);
		return;
	}
	if (q->stopping) {
		/* Only what was final goes on disk; the rest is tried again after a restart. */
		if (nfinal)
			queue_store_append(m, &b);
		journal_buf_free(&b);
		queue_dispatch(q);
		return;
	}
	journal_rec_next(&b, now, backoff_next_ms(now, m->st.arrival_ms, m->st.attempts + 1,
	    cfg->relay_backoff_min, cfg->relay_backoff_max, cfg->relay_max_queue_lifetime));
	queue_store_append(m, &b);
	journal_buf_free(&b);
	queue_schedule(m);
	queue_dispatch(q);
}

/* Hand m to the next hop: the recipients not yet delivered or failed. */
static void
queue_deliver(struct qmsg *m)
{
	queue *q = m->q;
	size_t i, n = 0;

	if ((m->fd = openat(q->newfd, m->id, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("id=%s: open %s/new/%s: dropped from the queue", m->id, q->dir, m->id);
		queue_forget(m);
		return;
	}
	m->rr = xcalloc(m->st.nrcpts, sizeof(*m->rr));
	m->rr_idx = xcalloc(m->st.nrcpts, sizeof(*m->rr_idx));
	for (i = 0; i < m->st.nrcpts; i++) {
		int s = m->st.rcpts[i].state;
		if (s == JOURNAL_R_DELIVERED || s == JOURNAL_R_FAILED)
			continue;
		m->rr[n].address = m->st.rcpts[i].address;
		m->rr[n].state = RELAY_RCPT_PENDING;
		m->rr_idx[n++] = i;
	}
	m->received = received_header(&m->env, q->cfg->smtpd_hostname);
	memset(&m->job, 0, sizeof(m->job));
	m->job.id = m->id;
	m->job.fd = m->fd;
	m->job.data_offset = m->env.data_offset;
	m->job.data_size = m->env.size;
	m->job.received = m->received;
	m->job.sender = m->env.sender;
	m->job.rcpts = m->rr;
	m->job.nrcpts = n;
	m->job.body_8bit = strcmp(m->env.body, "8BITMIME") == 0 || strcmp(m->env.body, "BINARYMIME") == 0;
	m->job.smtputf8 = m->env.smtputf8;
	m->start_ms = clock_ms_wall();
	m->inflight = 1;
	q->inflight++;
	relay_hop_deliver(q->hop, &m->job, queue_on_done, m);
}

static void
queue_dispatch(queue *q)
{
	struct qmsg *m;

	while (!q->stopping && q->inflight < q->limit && (m = TAILQ_FIRST(&q->ready)) != NULL) {
		TAILQ_REMOVE(&q->ready, m, link);
		m->ready = 0;
		queue_deliver(m);
	}
	if (q->stopping && q->inflight == 0 && q->drained) {
		void (*fn)(void *) = q->drained;
		q->drained = NULL;
		fn(q->drained_arg);
	}
}

/* flush: every waiting message (not held) is due now. twalk has no context: a static carries it. */
static void
queue_flush_one(const void *node, VISIT v, int depth)
{
	struct qmsg *m = *(struct qmsg *const *)node;

	(void)depth;
	if (v != postorder && v != leaf)
		return;
	if (!m->st.held && !m->inflight && !m->finishing) {
		m->st.next_ms = 0;
		queue_make_ready(m);
	}
}

/* Apply one request of postern-queue (a file in ctl/), then remove it. */
static void
queue_ctl_file(queue *q, const char *name)
{
	char data[CTL_FILE_MAX + 1], id[CTL_ID_MAX];
	struct journal_buf b = { NULL, 0, 0 };
	struct qmsg *m = NULL;
	ssize_t n;
	int fd, cmd;

	if (name[0] == '.')
		return;
	if ((fd = openat(q->ctlfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, data, sizeof(data));
	close(fd);
	if (n < 0 || ctl_parse(data, (size_t)n, &cmd, id) != 0) {
		log_warnx("ctl/%s: not a request, removed", name);
		unlinkat(q->ctlfd, name, 0);
		return;
	}
	if (id[0] && ((m = queue_find(q, id)) == NULL || m->finishing)) {
		log_warnx("%s %s: no such message in the queue", ctl_cmd_name(cmd), id);
		unlinkat(q->ctlfd, name, 0);
		return;
	}
	switch (cmd) {
	case CTL_FLUSH:
		if (m)
			queue_flush_one(&m, leaf, 0);
		else
			twalk(q->index, queue_flush_one);
		log_info("flush %s", id[0] ? id : "(all)");
		break;
	case CTL_HOLD:
	case CTL_RELEASE:
		if (m->st.held != (cmd == CTL_HOLD)) {
			journal_rec_hold(&b, clock_ms_wall(), cmd == CTL_HOLD);
			queue_store_append(m, &b);
			journal_buf_free(&b);
		}
		log_info("id=%s %s", id, cmd == CTL_HOLD ? "held" : "released");
		if (cmd == CTL_HOLD) {
			queue_unschedule(m);
		} else {
			m->st.next_ms = 0;
			queue_schedule(m);
		}
		break;
	case CTL_DELETE:
		log_info("id=%s deleted by request%s", id, m->inflight ? " (after the attempt in flight)" : "");
		if (m->inflight) {
			m->delete_req = 1;
		} else {
			queue_unschedule(m);
			queue_store_finish(m, NULL, JOURNAL_DELETED);
			queue_store_commit(q);	/* done when postern-queue sees the request gone */
		}
		break;
	}
	unlinkat(q->ctlfd, name, 0);
	queue_dispatch(q);
}

/* Every name of a directory, sorted (UUIDv7 and ctl names sort by time). */
static void
queue_scan(queue *q, int dirfd, void (*fn)(queue *, const char *))
{
	struct dirent **names;
	int n, i;

	if ((n = scandirat(dirfd, ".", &names, NULL, alphasort)) < 0) {
		log_warn("scan of %s", q->dir);
		return;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			fn(q, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

static void
queue_on_inotify(evutil_socket_t fd, short what, void *arg)
{
	queue *q = arg;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	char *p;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW) {
				log_warnx("inotify queue overflow: scanning new/ and ctl/");
				queue_scan(q, q->newfd, queue_pickup);
				queue_scan(q, q->ctlfd, queue_ctl_file);
				continue;
			}
			if (ev->len == 0)
				continue;
			if (ev->wd == q->wd_new)
				queue_pickup(q, ev->name);
			else if (ev->wd == q->wd_ctl)
				queue_ctl_file(q, ev->name);
		}
	}
	queue_dispatch(q);
}

static void
queue_on_expire(evutil_socket_t fd, short what, void *arg)
{
	queue *q = arg;
	unsigned every = q->cfg->relay_status_lifetime / 4;
	struct timeval tv;

	(void)fd;
	(void)what;
	queue_store_expire(q);
	if (every < 1)
		every = 1;
	if (every > QUEUE_EXPIRE_EVERY)
		every = QUEUE_EXPIRE_EVERY;
	tv.tv_sec = every;
	tv.tv_usec = 0;
	evtimer_add(q->ev_expire, &tv);
}

static int
queue_opendir(queue *q, const char *sub, int create, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", q->dir, sub);
	if (create && mkdir(path, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

static void
queue_on_commit(evutil_socket_t fd, short what, void *arg)
{
	queue *q = arg;

	(void)fd;
	(void)what;
	queue_store_commit(q);
	queue_dispatch(q);
}

queue *
queue_open(struct event_base *base, const postern_config *cfg, relay_hop *hop, char *err,
    size_t errlen)
{
	queue *q = xcalloc(1, sizeof(*q));

	q->base = base;
	q->cfg = cfg;
	q->hop = hop;
	q->dir = xstrdup(cfg->smtpd_spool_dir);
	q->ifd = q->newfd = q->statefd = q->statusfd = q->ctlfd = q->corruptfd = -1;
	TAILQ_INIT(&q->ready);
	q->limit = cfg->relay_concurrency * QUEUE_INFLIGHT_PER_CONN;
	q->ev_commit = event_new(base, -1, 0, queue_on_commit, q);
	if ((q->newfd = queue_opendir(q, "new", 1, err, errlen)) < 0 ||
	    (q->statefd = queue_opendir(q, "state", 1, err, errlen)) < 0 ||
	    (q->statusfd = queue_opendir(q, "status", 1, err, errlen)) < 0 ||
	    (q->ctlfd = queue_opendir(q, "ctl", 1, err, errlen)) < 0 ||
	    (q->corruptfd = queue_opendir(q, "corrupt", 1, err, errlen)) < 0) {
		queue_free(q);
		return NULL;
	}
	return q;
}

int
queue_start(queue *q, char *err, size_t errlen)
{
	char path[4096];
	struct timeval now = { 0, 0 };

	if ((q->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		snprintf(err, errlen, "inotify_init1: %s", strerror(errno));
		return -1;
	}
	/* Watch first, then scan: a file arriving in between is seen twice, never missed. */
	snprintf(path, sizeof(path), "%s/new", q->dir);
	if ((q->wd_new = inotify_add_watch(q->ifd, path, IN_CREATE | IN_MOVED_TO)) < 0) {
		snprintf(err, errlen, "inotify %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ctl", q->dir);
	if ((q->wd_ctl = inotify_add_watch(q->ifd, path, IN_MOVED_TO)) < 0) {
		snprintf(err, errlen, "inotify %s: %s", path, strerror(errno));
		return -1;
	}
	q->ev_inotify = event_new(q->base, q->ifd, EV_READ | EV_PERSIST, queue_on_inotify, q);
	event_add(q->ev_inotify, NULL);
	q->ev_expire = evtimer_new(q->base, queue_on_expire, q);
	evtimer_add(q->ev_expire, &now);
	queue_scan(q, q->newfd, queue_pickup);
	queue_scan(q, q->statefd, queue_store_stale_state);
	queue_scan(q, q->ctlfd, queue_ctl_file);
	log_info("queue: %u message(s) at start", q->nmsgs);
	queue_dispatch(q);
	return 0;
}

void
queue_set_config(queue *q, const postern_config *cfg)
{
	q->cfg = cfg;
	q->limit = cfg->relay_concurrency * QUEUE_INFLIGHT_PER_CONN;
}

void
queue_set_hop(queue *q, relay_hop *hop)
{
	q->hop = hop;
	queue_dispatch(q);	/* a larger relay_concurrency (queue_set_config) lets more go now */
}

void
queue_drain(queue *q, void (*done)(void *arg), void *arg)
{
	q->stopping = 1;
	q->drained = done;
	q->drained_arg = arg;
	queue_dispatch(q);
}

unsigned
queue_inflight(const queue *q)
{
	return q->inflight;
}

/* twalk has no context: the walk's totals (one loop thread). */
static unsigned queue_walk_n;
static uint64_t queue_walk_oldest;

static void
queue_stats_one(const void *node, VISIT v, int depth)
{
	const struct qmsg *m = *(const struct qmsg *const *)node;

	(void)depth;
	if ((v != postorder && v != leaf) || m->finishing)
		return;
	queue_walk_n++;
	if (queue_walk_oldest == 0 || m->st.arrival_ms < queue_walk_oldest)
		queue_walk_oldest = m->st.arrival_ms;
}

void
queue_stats(const queue *q, unsigned *nmsgs, uint64_t *oldest_ms)
{
	queue_walk_n = 0;
	queue_walk_oldest = 0;
	twalk(q->index, queue_stats_one);
	*nmsgs = queue_walk_n;
	*oldest_ms = queue_walk_oldest;
}

static void
queue_noop_free(void *p)
{
	(void)p;
}

void
queue_free(queue *q)
{
	if (q == NULL)
		return;
	queue_store_commit(q);	/* what left in the last loop turn */
	while (q->index != NULL) {
		struct qmsg *m = *(struct qmsg **)q->index;
		queue_job_free(m);
		queue_forget(m);
	}
	tdestroy(q->index, queue_noop_free);
	if (q->ev_commit)
		event_free(q->ev_commit);
	if (q->ev_inotify)
		event_free(q->ev_inotify);
	if (q->ev_expire)
		event_free(q->ev_expire);
	if (q->ifd >= 0)
		close(q->ifd);
	if (q->newfd >= 0)
		close(q->newfd);
	if (q->statefd >= 0)
		close(q->statefd);
	if (q->statusfd >= 0)
		close(q->statusfd);
	if (q->ctlfd >= 0)
		close(q->ctlfd);
	if (q->corruptfd >= 0)
		close(q->corruptfd);
	free(q->dir);
	free(q);
}
