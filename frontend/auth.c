/* auth.c - SMTP AUTH PLAIN/LOGIN decoding and the crypt(3) worker pool (backoff: auth_backoff.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* explicit_bzero */
#endif
#include "auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "accounts.h"
#include "log.h"
#include "wakeup.h"
#include "ascii.h"
#include "xalloc.h"

/* Largest decoded response: AUTH_B64_MAX base64 characters carry 3/4 as many bytes. */
#define AUTH_RAW_MAX	(AUTH_B64_MAX / 4 * 3)

/* ---------------------------------------------------------------- decoding */

enum auth_mech
auth_mech_parse(const char *word)
{
	if (word == NULL)
		return AUTH_MECH_NONE;
	if (strcasecmp(word, "PLAIN") == 0)
		return AUTH_MECH_PLAIN;
	if (strcasecmp(word, "LOGIN") == 0)
		return AUTH_MECH_LOGIN;
	return AUTH_MECH_NONE;
}

/*
 * b64_decode - strict RFC 4648 decoder: length a multiple of 4, padding
 * only at the very end, no white space, unused bits zero (so each byte
 * string has exactly one accepted encoding). Writes at most outsize bytes
 * but checks the whole input, so over-long valid input is told apart from
 * garbage. Returns 0, -1 (not base64) or -2 (valid but longer than outsize).
 */
static int
b64_decode(const char *in, size_t len, unsigned char *out, size_t outsize, size_t *outlen)
{
	size_t i, n = 0;
	int v[4], k, pad;

	*outlen = 0;
	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			unsigned char ch = (unsigned char)in[i + k];
			if (ch == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = ascii_b64val(ch)) < 0)
				return -1;	/* a character after '=', or outside the alphabet */
		}
		if ((pad == 2 && (v[1] & 0x0f) != 0) || (pad == 1 && (v[2] & 0x03) != 0))
			return -1;
		{
			unsigned char b[3] = {
				(unsigned char)(v[0] << 2 | v[1] >> 4),
				(unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2),
				(unsigned char)((v[2] & 0x03) << 6 | v[3]),
			};
			for (k = 0; k < 3 - pad; k++, n++)
				if (n < outsize)
					out[n] = b[k];
		}
	}
	if (n > outsize) {
		explicit_bzero(out, outsize);
		return -2;
	}
	*outlen = n;
	return 0;
}

/*
 * One client response: "*" cancels (RFC 4954 section 4); "=" alone is the
 * empty initial response (RFC 4954 section 4, since "AUTH PLAIN" with
 * nothing after it means "send a 334 challenge" instead). We accept "=" in
 * a continuation line too, where it can only mean the same. Anything else
 * is strict base64. Returns 0 or a reply id.
 */
static int
auth_response(const char *b64, size_t len, unsigned char *out, size_t outsize, size_t *outlen)
{
	*outlen = 0;
	if (b64 == NULL)
		return R_AUTH_BAD_BASE64;
	if (len == 1 && b64[0] == '*')
		return R_AUTH_CANCELED;
	if (len == 1 && b64[0] == '=')
		return 0;
	switch (b64_decode(b64, len, out, outsize, outlen)) {
	case 0:
		return 0;
	case -2:
		return R_AUTH_INVALID;	/* valid base64, but longer than any credentials we hold */
	default:
		return R_AUTH_BAD_BASE64;
	}
}

/*
 * Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) and no control characters: names end up in logs and in the
 * milter's {auth_authen} macro, where CR/LF or a NUL could forge lines.
 */
static int
auth_name_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need, k;
		unsigned cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		if (cp >= 0x80 && cp < 0xa0)	/* C1 controls */
			return 0;
		i += need + 1;
	}
	return 1;
}

/* Copy a decoded field into a C string slot; 0, or -1 when it does not fit. */
static int
auth_field(char *dst, size_t dstsize, const unsigned char *src, size_t len)
{
	if (len >= dstsize)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd, authcid and passwd 1*SAFE. */
static int
auth_plain_split(const unsigned char *d, size_t n, auth_creds *c)
{
	const unsigned char *nul1, *nul2, *user, *pass;
	size_t zlen, ulen, plen;

	if ((nul1 = memchr(d, '\0', n)) == NULL)
		return R_AUTH_NO_NUL;
	user = nul1 + 1;
	if ((nul2 = memchr(user, '\0', n - (size_t)(user - d))) == NULL)
		return R_AUTH_NO_SECOND_NUL;
	pass = nul2 + 1;
	zlen = (size_t)(nul1 - d);
	ulen = (size_t)(nul2 - user);
	plen = n - (size_t)(pass - d);
	if (ulen == 0 || plen == 0 || memchr(pass, '\0', plen) != NULL)
		return R_AUTH_INVALID;
	if (!auth_name_ok(d, zlen) || !auth_name_ok(user, ulen))
		return R_AUTH_INVALID;
	if (auth_field(c->authzid, sizeof(c->authzid), d, zlen) != 0 ||
	    auth_field(c->user, sizeof(c->user), user, ulen) != 0 ||
	    auth_field(c->pass, sizeof(c->pass), pass, plen) != 0)
		return R_AUTH_INVALID;
	/* We do not let one account act for another: authzid is empty or the same name. */
	if (zlen != 0 && strcmp(c->authzid, c->user) != 0)
		return R_AUTH_INVALID;
	return 0;
}

int
auth_plain_decode(const char *b64, size_t len, auth_creds *c)
{
	unsigned char buf[AUTH_RAW_MAX];
	size_t n;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = auth_response(b64, len, buf, sizeof(buf), &n)) == 0)
		r = auth_plain_split(buf, n, c);
	explicit_bzero(buf, sizeof(buf));
	if (r != 0)
		explicit_bzero(c, sizeof(*c));	/* no half-filled secrets left behind */
	return r;
}

/*
 * One LOGIN step. It cannot tell a user name from a password, so only NUL
 * (which no C string carries) is refused here; the name is then checked
 * like any other by accounts_verify(). An empty answer ("=" or an empty
 * line) decodes to "" and fails there as an unknown account.
 */
int
auth_login_decode(const char *b64, size_t len, char *out, size_t outsize)
{
	size_t n;
	int r;

	if (outsize == 0)
		return R_AUTH_INVALID;
	out[0] = '\0';
	if ((r = auth_response(b64, len, (unsigned char *)out, outsize - 1, &n)) != 0)
		return r;
	if (memchr(out, '\0', n) != NULL) {
		explicit_bzero(out, n);
		out[0] = '\0';
		return R_AUTH_INVALID;
	}
	out[n] = '\0';
	return 0;
}

const char *
auth_login_challenge(int step)
{
	switch (step) {
	case 0:
		return "VXNlcm5hbWU6";	/* "Username:" */
	case 1:
		return "UGFzc3dvcmQ6";	/* "Password:" */
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------- worker pool */

#define AUTH_QUEUE_MAX		1024	/* waiting jobs; beyond that, tempfail at once */
#define AUTH_WORKERS_MAX	64

/* An accounts table plus the number of users (the pool and queued jobs); guarded by the pool mutex. */
struct auth_table {
	accounts *a;
	unsigned refs;
};

struct auth_job {
	struct auth_job *next;
	auth_done_fn done;
	void *arg;
	struct auth_table *table;	/* NULL once checked */
	int verdict;
	int canceled;			/* in a worker's hands when its session went away */
	auth_creds creds;		/* wiped as soon as crypt(3) is done */
};

struct auth_pool {
	struct event_base *base;
	wakeup *wake;			/* workers -> loop thread */
	pthread_mutex_t mu;		/* guards everything below */
	pthread_cond_t cv;		/* workers wait here for jobs */
	struct auth_job *qhead, *qtail;	/* waiting, FIFO */
	size_t qlen;
	struct auth_job **running;	/* slot per worker, for cancel */
	struct auth_job *dhead, *dtail;	/* checked, waiting for the loop thread */
	int stop;
	int hold;			/* auth_pool_hold(): workers wait */
	struct auth_table *table;	/* current; new jobs take a reference */
	pthread_t *threads;
	unsigned nthreads;
};

struct auth_worker_arg {
	auth_pool *p;
	unsigned slot;
};

static void
auth_job_free(struct auth_job *j)
{
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* Drop a table reference with the mutex held; returns the table to free (outside the lock) or NULL. */
static accounts *
auth_table_release(struct auth_table *t)
{
	accounts *a;

	if (t == NULL || --t->refs > 0)
		return NULL;
	a = t->a;
	free(t);
	return a;
}

/* Append to the delivery list and wake the loop thread once per batch; mutex held. */
static void
auth_pool_deliver(auth_pool *p, struct auth_job *j)
{
	j->next = NULL;
	if (p->dtail != NULL)
		p->dtail->next = j;
	else
		p->dhead = j;
	p->dtail = j;
	wakeup_signal(p->wake);
}

static void *
auth_worker(void *varg)
{
	struct auth_worker_arg *wa = varg;
	auth_pool *p = wa->p;
	unsigned slot = wa->slot;
	struct auth_job *j;
	accounts *old;

	free(wa);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && (p->qhead == NULL || p->hold))
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		j = p->qhead;
		if ((p->qhead = j->next) == NULL)
			p->qtail = NULL;
		p->qlen--;
		p->running[slot] = j;
		pthread_mutex_unlock(&p->mu);

		/* The slow part, unlocked: the table is immutable and stays referenced. */
		j->verdict = accounts_verify(j->table->a, j->creds.user, j->creds.pass);
		explicit_bzero(&j->creds, sizeof(j->creds));

		pthread_mutex_lock(&p->mu);
		p->running[slot] = NULL;
		old = auth_table_release(j->table);
		j->table = NULL;
		if (j->canceled)
			auth_job_free(j);
		else
			auth_pool_deliver(p, j);
		if (old != NULL) {
			pthread_mutex_unlock(&p->mu);
			accounts_free(old);	/* the last job on a table replaced by a reload */
			pthread_mutex_lock(&p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Loop thread: hand finished checks to their sessions, one at a time so a callback may cancel others. */
static void
auth_pool_wakeup(void *arg)
{
	auth_pool *p = arg;
	struct auth_job *j;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if ((j = p->dhead) == NULL) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		if ((p->dhead = j->next) == NULL)
			p->dtail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->done(j->arg, j->verdict);
		auth_job_free(j);
	}
}

auth_pool *
auth_pool_new(struct event_base *base, unsigned nworkers)
{
	auth_pool *p = xcalloc(1, sizeof(*p));
	unsigned i;
	int err;

	if (nworkers == 0)
		nworkers = 1;
	if (nworkers > AUTH_WORKERS_MAX)
		nworkers = AUTH_WORKERS_MAX;
	p->base = base;
	p->wake = wakeup_new(base, "auth pool", auth_pool_wakeup, p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->running = xcalloc(nworkers, sizeof(*p->running));
	p->threads = xcalloc(nworkers, sizeof(*p->threads));
	for (i = 0; i < nworkers; i++) {
		struct auth_worker_arg *wa = xmalloc(sizeof(*wa));
		wa->p = p;
		wa->slot = i;
		if ((err = pthread_create(&p->threads[i], NULL, auth_worker, wa)) != 0) {
			errno = err;
			log_fatal("auth pool: pthread_create");
		}
		p->nthreads++;
	}
	return p;
}

/* The pool owns a from now on (NULL: no accounts, every check fails); the old table goes when its last job does. */
void
auth_pool_set_accounts(auth_pool *p, struct accounts *a)
{
	struct auth_table *t = NULL;
	accounts *old;

	if (a != NULL) {
		t = xmalloc(sizeof(*t));
		t->a = a;
		t->refs = 1;
	}
	pthread_mutex_lock(&p->mu);
	old = auth_table_release(p->table);
	p->table = t;
	pthread_mutex_unlock(&p->mu);
	accounts_free(old);
}

void
auth_pool_submit(auth_pool *p, const auth_creds *c, auth_done_fn done, void *arg)
{
	struct auth_job *j = xcalloc(1, sizeof(*j));

	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	if (p->qlen >= AUTH_QUEUE_MAX) {
		/* Overloaded: a tempfail now beats an answer after the client gave up. */
		j->verdict = ACCOUNTS_ERROR;
		auth_pool_deliver(p, j);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	j->creds = *c;
	if ((j->table = p->table) == NULL) {
		/* No table: still run a check against nothing, so timing does not tell. */
		j->table = xcalloc(1, sizeof(*j->table));
		j->table->refs = 1;
	} else {
		j->table->refs++;
	}
	if (p->qtail != NULL)
		p->qtail->next = j;
	else
		p->qhead = j;
	p->qtail = j;
	p->qlen++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
auth_pool_hold(auth_pool *p, int hold)
{
	pthread_mutex_lock(&p->mu);
	p->hold = hold;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Unlink every job of arg from a list; the unlinked ones are chained on *out. */
static void
auth_list_take(struct auth_job **head, struct auth_job **tail, void *arg,
    struct auth_job **out, size_t *count)
{
	struct auth_job **pp = head, *j, *last = NULL;

	while ((j = *pp) != NULL) {
		if (j->arg == arg) {
			*pp = j->next;
			j->next = *out;
			*out = j;
			(*count)++;
		} else {
			last = j;
			pp = &j->next;
		}
	}
	*tail = last;
}

void
auth_pool_cancel(auth_pool *p, void *arg)
{
	struct auth_job *gone = NULL, *j;
	size_t nq = 0, nd = 0;
	unsigned i;
	accounts *old;

	pthread_mutex_lock(&p->mu);
	auth_list_take(&p->qhead, &p->qtail, arg, &gone, &nq);
	p->qlen -= nq;
	auth_list_take(&p->dhead, &p->dtail, arg, &gone, &nd);
	for (i = 0; i < p->nthreads; i++)
		if (p->running[i] != NULL && p->running[i]->arg == arg)
			p->running[i]->canceled = 1;	/* the worker frees it */
	pthread_mutex_unlock(&p->mu);
	while ((j = gone) != NULL) {
		gone = j->next;
		if (j->table != NULL) {		/* queued jobs still hold their table */
			pthread_mutex_lock(&p->mu);
			old = auth_table_release(j->table);
			pthread_mutex_unlock(&p->mu);
			accounts_free(old);
		}
		auth_job_free(j);
	}
}

/*
 * Waits for checks in progress (one crypt(3) each at most); callbacks of
 * unfinished jobs never run. Not to be called from a done() callback.
 */
void
auth_pool_free(auth_pool *p)
{
	struct auth_job *j;
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* Workers are gone: no locking needed below. */
	while ((j = p->qhead) != NULL) {
		p->qhead = j->next;
		accounts_free(auth_table_release(j->table));
		auth_job_free(j);
	}
	while ((j = p->dhead) != NULL) {
		p->dhead = j->next;
		auth_job_free(j);
	}
	accounts_free(auth_table_release(p->table));
	wakeup_free(p->wake);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->running);
	free(p->threads);
	free(p);
}
