/*
 * session_mods.c - the milters' edits, applied to the spooled message
 * before the commit and the 250.
 *
 * The spool writes a message as it streams in, so header edits cannot be
 * made in place. This first version rewrites the whole file at end of
 * data, and only when there are edits: a new spool file gets the edited
 * envelope (sender, recipients, quarantine), the edited header block, and
 * the body copied from the streamed file (or the milter's replacement
 * body); the streamed file is dropped. Messages without edits (the common
 * case) are never copied.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* memmem */
#endif
#include "session.h"
#include "session_int.h"
#include "log.h"
#include "milter_client.h"
#include "smtpd.h"
#include "spool.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MODS_HEADER_MAX	(1024 * 1024)	/* a header block larger than this is not edited */
#define MODS_COPY_CHUNK	(64 * 1024)

struct mods_field {
	char *text;		/* "Name:value\r\n", continuation lines included */
	size_t len;
	int orig;		/* part of the message as received (indexes count these) */
	int deleted;
};

struct mods_fields {
	struct mods_field *v;
	size_t n;
};

static void
fields_insert(struct mods_fields *f, size_t at, char *text, int orig)
{
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	memmove(f->v + at + 1, f->v + at, (f->n - at) * sizeof(*f->v));
	f->v[at] = (struct mods_field){ text, strlen(text), orig, 0 };
	f->n++;
}

/* Split the header block h[0..len) into fields. */
static void
fields_parse(struct mods_fields *f, const char *h, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i;
		const char *nl;
		do {
			nl = memchr(h + i, '\n', len - i);
			i = nl ? (size_t)(nl - h) + 1 : len;
		} while (i < len && (h[i] == ' ' || h[i] == '\t'));
		fields_insert(f, f->n, xstrndup(h + start, i - start), 1);
	}
}

/* Does field x carry this name (case-insensitive)? */
static int
field_is(const struct mods_field *x, const char *name)
{
	size_t n = strlen(name);

	return x->len > n && strncasecmp(x->text, name, n) == 0 && x->text[n] == ':';
}

/* The index-th (1-based) received field called name, or -1. */
static long
fields_find(const struct mods_fields *f, const char *name, uint32_t index)
{
	size_t i;
	uint32_t seen = 0;

	for (i = 0; i < f->n; i++)
		if (f->v[i].orig && field_is(&f->v[i], name) && ++seen == index)
			return (long)i;
	return -1;
}

static char *
field_text(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 4;
	char *t = xmalloc(n);

	snprintf(t, n, "%s:%s\r\n", name, value);
	return t;
}

/* "<a@b>" whatever the milter gave. */
static char *
mods_bracket(const char *addr)
{
	size_t n = strlen(addr) + 3;
	char *t = xmalloc(n);

	if (addr[0] == '<')
		snprintf(t, n, "%s", addr);
	else
		snprintf(t, n, "<%s>", addr);
	return t;
}

/* Compare two addresses without their brackets, ignoring case. */
static int
mods_same_addr(const char *a, const char *b)
{
	size_t la, lb;

	if (*a == '<')
		a++;
	if (*b == '<')
		b++;
	la = strcspn(a, ">");
	lb = strcspn(b, ">");
	return la == lb && strncasecmp(a, b, la) == 0;
}

static int
mods_write_fd(spool_file *out, int fd, off_t off, uint64_t *size)
{
	char *buf = xmalloc(MODS_COPY_CHUNK);
	ssize_t n;

	for (;;) {
		n = pread(fd, buf, MODS_COPY_CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		spool_file_write(out, buf, (size_t)n);
		*size += (uint64_t)n;
		off += n;
	}
	free(buf);
	if (n < 0)
		log_warn("milter edits: read");
	return n < 0 ? -1 : 0;
}

int
session_apply_mods(struct session *s, const struct mc_mods *m, uint64_t *size)
{
	struct spool_envelope env;
	struct mods_fields f = { NULL, 0 };
	char **rcpts = NULL, *sender = NULL, *hdr;
	const char *quarantine = NULL;
	size_t nrcpts = 0, i, hlen = 0, hend;
	off_t msg_off;
	int fd = spool_file_message_fd(s->sf, &msg_off), rc = -1;
	spool_file *out;
	ssize_t n;

	/* Read the header block (up to the empty line that ends it). */
	hdr = xmalloc(MODS_HEADER_MAX);
	while (hlen < MODS_HEADER_MAX &&
	    (n = pread(fd, hdr + hlen, MODS_HEADER_MAX - hlen, msg_off + (off_t)hlen)) > 0)
		hlen += (size_t)n;
	hend = hlen;
	if (hlen >= 2 && memcmp(hdr, "\r\n", 2) == 0) {
		hend = 0;
	} else {
		char *e = memmem(hdr, hlen, "\r\n\r\n", 4);
		if (e)
			hend = (size_t)(e - hdr) + 2;
		else if (hlen >= MODS_HEADER_MAX)
			hend = 0;	/* no end in sight: leave the header alone */
	}
	fields_parse(&f, hdr, hend);

	for (i = 0; i < s->cs.nrcpts; i++) {
		rcpts = xrealloc(rcpts, (nrcpts + 1) * sizeof(*rcpts));
		rcpts[nrcpts++] = xstrdup(s->cs.rcpts[i]);
	}
	for (i = 0; i < m->n; i++) {
		const struct mc_mod *x = &m->v[i];
		long at;
		size_t k;

		switch (x->kind) {
		case MC_MOD_ADD_HEADER:
			fields_insert(&f, f.n, field_text(x->name, x->value), 0);
			break;
		case MC_MOD_INS_HEADER:
			fields_insert(&f, x->index > f.n ? f.n : x->index,
			    field_text(x->name, x->value), 0);
			break;
		case MC_MOD_CHG_HEADER:
		case MC_MOD_DEL_HEADER:
			if ((at = fields_find(&f, x->name, x->index)) < 0) {
				/* sendmail's rule: changing a missing field adds it. */
				if (x->kind == MC_MOD_CHG_HEADER && x->value && x->value[0])
					fields_insert(&f, f.n, field_text(x->name, x->value), 0);
				break;
			}
			if (x->kind == MC_MOD_DEL_HEADER || !x->value || !x->value[0]) {
				f.v[at].deleted = 1;
			} else {
				free(f.v[at].text);
				f.v[at].text = field_text(x->name, x->value);
				f.v[at].len = strlen(f.v[at].text);
			}
			break;
		case MC_MOD_CHG_FROM:
			free(sender);
			sender = mods_bracket(x->name);
			break;
		case MC_MOD_ADD_RCPT:
			rcpts = xrealloc(rcpts, (nrcpts + 1) * sizeof(*rcpts));
			rcpts[nrcpts++] = mods_bracket(x->name);
			break;
		case MC_MOD_DEL_RCPT:
			for (k = 0; k < nrcpts; k++) {
				if (mods_same_addr(rcpts[k], x->name)) {
					free(rcpts[k]);
					memmove(rcpts + k, rcpts + k + 1, (nrcpts - k - 1) * sizeof(*rcpts));
					nrcpts--;
					k--;
				}
			}
			break;
		case MC_MOD_QUARANTINE:
			quarantine = x->value ? x->value : "";
			break;
		}
	}
	if (quarantine)
		log_info("sess=%s id=%s quarantined: %s", s->cs.log_id, s->msg_id, quarantine);

	session_envelope(s, &env);
	if (sender)
		env.sender = sender;
	env.rcpts = rcpts;
	env.nrcpts = nrcpts;
	env.quarantine = quarantine;
	if ((out = spool_file_new(s->d->spool, &env)) == NULL)
		goto done;
	*size = 0;
	for (i = 0; i < f.n; i++) {
		if (f.v[i].deleted)
			continue;
		spool_file_write(out, f.v[i].text, f.v[i].len);
		*size += f.v[i].len;
	}
	if (m->body_fd >= 0) {
		/* The empty line, then the milter's body. */
		spool_file_write(out, "\r\n", 2);
		*size += 2;
		rc = mods_write_fd(out, m->body_fd, 0, size);
	} else {
		rc = mods_write_fd(out, fd, msg_off + (off_t)hend, size);
	}
	if (rc != 0 || spool_file_failed(out)) {
		spool_file_abort(out);
		rc = -1;
		goto done;
	}
	spool_file_abort(s->sf);
	s->sf = out;
	log_info("sess=%s id=%s milter edits applied: %zu", s->cs.log_id, s->msg_id, m->n);
done:
	for (i = 0; i < f.n; i++)
		free(f.v[i].text);
	free(f.v);
	for (i = 0; i < nrcpts; i++)
		free(rcpts[i]);
	free(rcpts);
	free(sender);
	free(hdr);
	if (rc != 0)
		log_warnx("sess=%s id=%s milter edits could not be applied", s->cs.log_id, s->msg_id);
	return rc;
}
