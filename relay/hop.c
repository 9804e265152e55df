/* hop.c - the next hop as configured: relay_host, TLS policy, AUTH credentials, and the FIFO of jobs over a bounded pool of connections. */
#include "hop_int.h"
#include "hop_auth.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

relay_hop *
relay_hop_new(struct event_base *base, const struct postern_config *cfg, char *err, size_t errlen)
{
	relay_hop *h = xcalloc(1, sizeof(*h));
	char why[256];

	h->base = base;
	TAILQ_INIT(&h->conns);
	TAILQ_INIT(&h->waiting);
	if (cfg->relay_host[0] == '\0') {
		snprintf(err, errlen, "relay_host is not set");
		goto fail;
	}
	if (hop_addr_parse(cfg->relay_host, &h->addr, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "relay_host \"%.200s\": %s", cfg->relay_host, why);
		goto fail;
	}
	h->helo = xstrdup(cfg->relay_helo_name[0] ? cfg->relay_helo_name : cfg->smtpd_hostname);
	if (strcmp(cfg->relay_tls, "none") == 0)
		h->tls_mode = HOP_TLS_NONE;
	else if (strcmp(cfg->relay_tls, "encrypt") == 0)
		h->tls_mode = HOP_TLS_ENCRYPT;
	else if (strcmp(cfg->relay_tls, "verify") == 0)
		h->tls_mode = HOP_TLS_VERIFY;
	else
		h->tls_mode = HOP_TLS_MAY;
	if (h->tls_mode != HOP_TLS_NONE && !h->addr.is_unix &&
	    (h->tls = client_tls_new(h->tls_mode == HOP_TLS_VERIFY, cfg->relay_tls_ca_file,
	    err, errlen)) == NULL)
		goto fail;
	if (cfg->relay_auth_file[0] != '\0' &&
	    hop_auth_load(cfg->relay_auth_file, &h->auth_user, &h->auth_pass, err, errlen) != 0)
		goto fail;
	h->concurrency = cfg->relay_concurrency ? cfg->relay_concurrency : 1;
	return h;
fail:
	client_tls_free(h->tls);
	free(h->helo);
	hop_auth_free_secret(h->auth_user);
	hop_auth_free_secret(h->auth_pass);
	free(h);
	return NULL;
}

void
relay_hop_deliver(relay_hop *h, struct relay_job *job, relay_done_fn done, void *arg)
{
	struct hop_wait *w = xcalloc(1, sizeof(*w));

	w->job = job;
	w->done = done;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&h->waiting, w, link);
	h->nwaiting++;
	hop_dispatch(h);
}

unsigned
relay_hop_active(const relay_hop *h)
{
	return h->nconns + h->nwaiting;
}

int
hop_timeout(const relay_hop *h, int seconds)
{
	if (h->timeout_cap > 0 && (unsigned)seconds > h->timeout_cap)
		return (int)h->timeout_cap;
	return seconds;
}

void
hop_set_timeout_cap(relay_hop *h, unsigned seconds)
{
	h->timeout_cap = seconds;
}

void
hop_requeue_front(relay_hop *h, struct hop_wait *w)
{
	TAILQ_INSERT_HEAD(&h->waiting, w, link);
	h->nwaiting++;
}

void
hop_job_done(relay_hop *h, struct hop_wait *w)
{
	(void)h;
	w->done(w->arg, w->job, h->addr.desc);
	free(w);
}

/* Give waiting jobs to idle connections first (newest idle first: warm TLS), then to new ones. */
void
hop_dispatch(relay_hop *h)
{
	while (!h->freeing && !TAILQ_EMPTY(&h->waiting)) {
		struct hop_wait *w = TAILQ_FIRST(&h->waiting);
		struct hop_conn *c, *idle = NULL;

		TAILQ_FOREACH(c, &h->conns, link)
			if (c->state == CS_IDLE && c->w == NULL)
				idle = c;
		if (idle == NULL && h->nconns >= h->concurrency)
			return;
		TAILQ_REMOVE(&h->waiting, w, link);
		h->nwaiting--;
		if (idle != NULL) {
			idle->w = w;
			conn_enter(idle);
			tx_start(idle);
			conn_leave(idle);
		} else {
			(void)conn_new(h, w);
		}
	}
}

void
relay_hop_retire(relay_hop *h, relay_hop *to)
{
	struct hop_conn *c, *next;

	h->retiring = 1;
	/* Not started yet: they go where the operator now sends mail (the old host may be dead). */
	TAILQ_CONCAT(&to->waiting, &h->waiting, link);
	to->nwaiting += h->nwaiting;
	h->nwaiting = 0;
	hop_dispatch(to);
	for (c = TAILQ_FIRST(&h->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->state == CS_IDLE && c->w == NULL)
			conn_close(c, 1);
	}
}

void
relay_hop_free(relay_hop *h)
{
	struct hop_conn *c;
	struct hop_wait *w;
	char reason[512];

	if (h == NULL)
		return;
	h->freeing = 1;
	deliver_reason(reason, sizeof(reason), DR_SHUTDOWN);
	while ((c = TAILQ_FIRST(&h->conns)) != NULL) {
		if ((w = c->w) != NULL) {
			c->w = NULL;
			for (size_t i = 0; i < w->job->nrcpts; i++) {
				struct relay_rcpt *r = &w->job->rcpts[i];
				if (r->state == RELAY_RCPT_PENDING) {
					r->state = RELAY_RCPT_DEFERRED;
					xstrlcpy(r->reply, reason, sizeof(r->reply));
				}
			}
			log_info("id=%s delivery to %s stopped: shutting down", w->job->id, h->addr.desc);
			tx_clear(c);
			conn_close(c, 0);
			hop_job_done(h, w);
		} else {
			conn_close(c, 1);
		}
	}
	while ((w = TAILQ_FIRST(&h->waiting)) != NULL) {
		TAILQ_REMOVE(&h->waiting, w, link);
		h->nwaiting--;
		for (size_t i = 0; i < w->job->nrcpts; i++) {
			struct relay_rcpt *r = &w->job->rcpts[i];
			if (r->state == RELAY_RCPT_PENDING) {
				r->state = RELAY_RCPT_DEFERRED;
				xstrlcpy(r->reply, reason, sizeof(r->reply));
			}
		}
		hop_job_done(h, w);
	}
	client_tls_free(h->tls);
	free(h->helo);
	hop_auth_free_secret(h->auth_user);
	hop_auth_free_secret(h->auth_pass);
	free(h);
}
