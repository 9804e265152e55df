/* milter_metrics.c - postern-milter's metric series and the thread that serves them over HTTP. */
#include "autoconf.h"		/* _GNU_SOURCE and friends, before any system header */
#include "milter_metrics.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Custom modules name their own rules: past this many series the rest share rule="other". */
#define PM_METRICS_VERDICT_SERIES_MAX	256

static metrics *pmm;
static metrics_series *pmm_sessions, *pmm_messages;
static unsigned (*pmm_nconn)(void);
static pthread_mutex_t pmm_lock = PTHREAD_MUTEX_INITIALIZER;	/* adding verdict series */
static unsigned pmm_nverdict;
static struct event_base *pmm_base;
static metrics_http *pmm_http;
static pthread_t pmm_thread;
static int pmm_running;

static uint64_t
pm_metrics_conns(void *arg)
{
	(void)arg;
	return pmm_nconn ? pmm_nconn() : 0;
}

void
pm_metrics_init(unsigned (*nconn)(void))
{
	pmm_nconn = nconn;
	pmm = metrics_new();
	metrics_gauge_fn(pmm, "postern_milter_sessions", "SMTP sessions the MTAs have open with us now.",
	    NULL, pm_metrics_conns, NULL);
	pmm_sessions = metrics_counter(pmm, "postern_milter_sessions_total",
	    "SMTP sessions the MTAs started.", NULL);
	pmm_messages = metrics_counter(pmm, "postern_milter_messages_total",
	    "Messages judged at end of data.", NULL);
}

int
pm_metrics_bind(const char *listen_on, char *err, size_t errlen)
{
	return metrics_http_bind(listen_on, "milter_metrics_listen", err, errlen);
}

static void *
pm_metrics_run(void *arg)
{
	(void)arg;
	event_base_dispatch(pmm_base);
	return NULL;
}

void
pm_metrics_start(int fd)
{
	/* The main thread stops this loop: libevent must lock. */
	evthread_use_pthreads();
	if ((pmm_base = event_base_new()) == NULL) {
		log_warnx("metrics: cannot create an event loop; no metrics served");
		return;
	}
	pmm_http = metrics_http_start(pmm_base, fd, pmm);
	if ((errno = pthread_create(&pmm_thread, NULL, pm_metrics_run, NULL)) != 0) {
		log_warn("metrics thread");
		return;
	}
	pmm_running = 1;
}

void
pm_metrics_stop(int free_series)
{
	if (pmm_running) {
		event_base_loopbreak(pmm_base);
		pthread_join(pmm_thread, NULL);
		pmm_running = 0;
	}
	metrics_http_free(pmm_http);
	pmm_http = NULL;
	if (pmm_base)
		event_base_free(pmm_base);
	pmm_base = NULL;
	if (free_series) {
		metrics_free(pmm);
		pmm = NULL;
	}
}

void
pm_metrics_session(void)
{
	if (pmm)
		metrics_inc(pmm_sessions);
}

/* Rule names come from modules: anything but [A-Za-z0-9_.-] becomes '_' in a label. */
static void
pm_metrics_clean(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++) {
		char c = in[i];
		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-' ? c : '_';
	}
	out[i] = '\0';
}

void
pm_metrics_verdict(const char *stage, const char *verdict, const char *rule)
{
	char label[256], r[96], st[32];
	metrics_series *s;

	if (pmm == NULL)
		return;
	if (strcmp(stage, "eom") == 0)
		metrics_inc(pmm_messages);
	pm_metrics_clean(rule ? rule : "-", r, sizeof(r));
	pm_metrics_clean(stage, st, sizeof(st));
	snprintf(label, sizeof(label), "stage=\"%s\",verdict=\"%s\",rule=\"%s\"", st, verdict, r);
	if ((s = metrics_find(pmm, "postern_milter_verdicts_total", label)) == NULL) {
		pthread_mutex_lock(&pmm_lock);
		if ((s = metrics_find(pmm, "postern_milter_verdicts_total", label)) == NULL) {
			if (pmm_nverdict >= PM_METRICS_VERDICT_SERIES_MAX) {
				snprintf(label, sizeof(label), "stage=\"%s\",verdict=\"%s\",rule=\"other\"",
				    st, verdict);
				s = metrics_find(pmm, "postern_milter_verdicts_total", label);
			}
			if (s == NULL) {
				pmm_nverdict++;
				s = metrics_counter(pmm, "postern_milter_verdicts_total",
				    "Policy verdicts logged: every message at eom, refusals at any stage.",
				    label);
			}
		}
		pthread_mutex_unlock(&pmm_lock);
	}
	metrics_inc(s);
}
