/* metrics.c - a daemon's metric series and their Prometheus text exposition. */
#include "metrics.h"
#include "strbuf.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_BOUNDS_MAX	16

enum metrics_type { MT_COUNTER, MT_GAUGE, MT_GAUGE_FN, MT_HISTOGRAM };

struct metrics_series {
	enum metrics_type type;
	char *name;
	char *help;
	char *labels;			/* NULL: none */
	_Atomic uint64_t value;		/* counter, gauge; histogram: the count */
	uint64_t (*fn)(void *);
	void *arg;
	size_t nbounds;
	double bounds[METRICS_BOUNDS_MAX];
	_Atomic uint64_t buckets[METRICS_BOUNDS_MAX];	/* not cumulative: rendering sums them */
	_Atomic uint64_t sum_us;
	struct metrics_series *next;
};

struct metrics {
	struct metrics_series *head, **tail;
	pthread_mutex_t lock;	/* the list: registration, look-up, rendering (updates need none) */
};

metrics *
metrics_new(void)
{
	metrics *m = xcalloc(1, sizeof(*m));

	m->tail = &m->head;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
metrics_free(metrics *m)
{
	struct metrics_series *s, *next;

	if (m == NULL)
		return;
	for (s = m->head; s; s = next) {
		next = s->next;
		free(s->name);
		free(s->help);
		free(s->labels);
		free(s);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static metrics_series *
metrics_new_series(metrics *m, enum metrics_type t, const char *name, const char *help,
    const char *labels)
{
	struct metrics_series *s = xcalloc(1, sizeof(*s));

	s->type = t;
	s->name = xstrdup(name);
	s->help = xstrdup(help);
	s->labels = labels && labels[0] ? xstrdup(labels) : NULL;
	pthread_mutex_lock(&m->lock);
	*m->tail = s;
	m->tail = &s->next;
	pthread_mutex_unlock(&m->lock);
	return s;
}

metrics_series *
metrics_counter(metrics *m, const char *name, const char *help, const char *labels)
{
	return metrics_new_series(m, MT_COUNTER, name, help, labels);
}

metrics_series *
metrics_gauge(metrics *m, const char *name, const char *help, const char *labels)
{
	return metrics_new_series(m, MT_GAUGE, name, help, labels);
}

void
metrics_gauge_fn(metrics *m, const char *name, const char *help, const char *labels,
    uint64_t (*fn)(void *arg), void *arg)
{
	metrics_series *s = metrics_new_series(m, MT_GAUGE_FN, name, help, labels);

	s->fn = fn;
	s->arg = arg;
}

metrics_series *
metrics_histogram(metrics *m, const char *name, const char *help, const char *labels,
    const double *bounds, size_t nbounds)
{
	metrics_series *s = metrics_new_series(m, MT_HISTOGRAM, name, help, labels);

	if (nbounds > METRICS_BOUNDS_MAX)
		nbounds = METRICS_BOUNDS_MAX;
	memcpy(s->bounds, bounds, nbounds * sizeof(*bounds));
	s->nbounds = nbounds;
	return s;
}

metrics_series *
metrics_find(metrics *m, const char *name, const char *labels)
{
	struct metrics_series *s;

	pthread_mutex_lock(&m->lock);
	for (s = m->head; s; s = s->next)
		if (strcmp(s->name, name) == 0 &&
		    strcmp(s->labels ? s->labels : "", labels ? labels : "") == 0)
			break;
	pthread_mutex_unlock(&m->lock);
	return s;
}

void
metrics_add(metrics_series *s, uint64_t n)
{
	atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

void
metrics_inc(metrics_series *s)
{
	atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
}

void
metrics_set(metrics_series *s, uint64_t v)
{
	atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

uint64_t
metrics_value(const metrics_series *s)
{
	return atomic_load_explicit(&s->value, memory_order_relaxed);
}

void
metrics_observe_us(metrics_series *h, uint64_t us)
{
	size_t i;

	for (i = 0; i < h->nbounds; i++)
		if ((double)us <= h->bounds[i] * 1e6)
			break;
	if (i < h->nbounds)
		atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->value, 1, memory_order_relaxed);
}

/* --- rendering (into a strbuf) */

/* `{labels,extra}` or `{extra}` or `{labels}` or nothing. */
static void
metrics_put_labels(struct strbuf *b, const char *labels, const char *extra)
{
	if (labels == NULL && extra == NULL)
		return;
	strbuf_printf(b, "{%s%s%s}", labels ? labels : "", labels && extra ? "," : "",
	    extra ? extra : "");
}

static void
metrics_put_series(struct strbuf *b, const struct metrics_series *s)
{
	uint64_t cum = 0;
	size_t i;

	switch (s->type) {
	case MT_COUNTER:
	case MT_GAUGE:
		strbuf_printf(b, "%s", s->name);
		metrics_put_labels(b, s->labels, NULL);
		strbuf_printf(b, " %llu\n", (unsigned long long)metrics_value(s));
		break;
	case MT_GAUGE_FN:
		strbuf_printf(b, "%s", s->name);
		metrics_put_labels(b, s->labels, NULL);
		strbuf_printf(b, " %llu\n", (unsigned long long)s->fn(s->arg));
		break;
	case MT_HISTOGRAM: {
		uint64_t count = metrics_value(s);
		char le[48];

		for (i = 0; i < s->nbounds; i++) {
			cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
			snprintf(le, sizeof(le), "le=\"%g\"", s->bounds[i]);
			strbuf_printf(b, "%s_bucket", s->name);
			metrics_put_labels(b, s->labels, le);
			strbuf_printf(b, " %llu\n", (unsigned long long)cum);
		}
		/* Updates race with us: +Inf is never below the finite buckets. */
		if (count < cum)
			count = cum;
		strbuf_printf(b, "%s_bucket", s->name);
		metrics_put_labels(b, s->labels, "le=\"+Inf\"");
		strbuf_printf(b, " %llu\n", (unsigned long long)count);
		strbuf_printf(b, "%s_sum", s->name);
		metrics_put_labels(b, s->labels, NULL);
		strbuf_printf(b, " %.6f\n",
		    (double)atomic_load_explicit(&s->sum_us, memory_order_relaxed) / 1e6);
		strbuf_printf(b, "%s_count", s->name);
		metrics_put_labels(b, s->labels, NULL);
		strbuf_printf(b, " %llu\n", (unsigned long long)count);
		break;
	}
	}
}

static const char *
metrics_type_name(enum metrics_type t)
{
	return t == MT_COUNTER ? "counter" : t == MT_HISTOGRAM ? "histogram" : "gauge";
}

char *
metrics_render(const metrics *m, size_t *len)
{
	struct strbuf b = { xmalloc(4096), 0, 4096 };
	const struct metrics_series *f, *s, *prev;

	b.p[0] = '\0';
	pthread_mutex_lock((pthread_mutex_t *)&m->lock);
	/* One block per family, in the order families were first registered. */
	for (f = m->head; f; f = f->next) {
		for (prev = m->head; prev != f; prev = prev->next)
			if (strcmp(prev->name, f->name) == 0)
				break;
		if (prev != f)
			continue;	/* the family was written already */
		strbuf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
		    metrics_type_name(f->type));
		for (s = f; s; s = s->next)
			if (strcmp(s->name, f->name) == 0)
				metrics_put_series(&b, s);
	}
	pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
	*len = b.len;
	return b.p;
}

static const char *const metrics_tls_names[METRICS_TLS_VERSIONS] = {
	"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0"
};

void
metrics_tls_init(metrics *m, struct metrics_tls *t, const char *name, const char *help,
    const char *failed_name, const char *failed_help)
{
	char label[64];
	int i;

	for (i = 0; i < METRICS_TLS_VERSIONS; i++) {
		snprintf(label, sizeof(label), "version=\"%s\"", metrics_tls_names[i]);
		t->version[i] = metrics_counter(m, name, help, label);
	}
	t->other = metrics_counter(m, name, help, "version=\"other\"");
	t->failed = metrics_counter(m, failed_name, failed_help, NULL);
}

void
metrics_tls_count(struct metrics_tls *t, const char *version)
{
	int i;

	if (version == NULL) {
		metrics_inc(t->failed);
		return;
	}
	for (i = 0; i < METRICS_TLS_VERSIONS; i++) {
		if (strcmp(version, metrics_tls_names[i]) == 0) {
			metrics_inc(t->version[i]);
			return;
		}
	}
	metrics_inc(t->other);
}
