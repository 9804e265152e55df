/*
 * spool_edit.c - the milters' edits, applied to the spooled message
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
#include "spool_edit.h"
#include "log.h"
#include "milter_client/milter_client.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define EDIT_HEADER_MAX	(1024 * 1024)	/* a header block larger than this is not edited */
#define EDIT_COPY_CHUNK	(64 * 1024)

struct edit_field {
	char *text;		/* "Name:value\r\n", continuation lines included */
	size_t len;
	int orig;		/* part of the message as received (indexes count these) */
	int deleted;
};

struct edit_fields {
	struct edit_field *v;
	size_t n;
};

static void
fields_insert(struct edit_fields *f, size_t at, char *text, int orig)
{
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	memmove(f->v + at + 1, f->v + at, (f->n - at) * sizeof(*f->v));
	f->v[at] = (struct edit_field){ text, strlen(text), orig, 0 };
	f->n++;
}

/* Split the header block h[0..len) into fields. */
static void
fields_parse(struct edit_fields *f, const char *h, size_t len)
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
field_is(const struct edit_field *x, const char *name)
{
	size_t n = strlen(name);

	return x->len > n && strncasecmp(x->text, name, n) == 0 && x->text[n] == ':';
}

/* The index-th (1-based) received field called name, or -1. */
static long
fields_find(const struct edit_fields *f, const char *name, uint32_t index)
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
edit_bracket(const char *addr)
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
edit_same_addr(const char *a, const char *b)
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
edit_copy_fd(spool_file *out, int fd, off_t off, uint64_t *size)
{
	char *buf = xmalloc(EDIT_COPY_CHUNK);
	ssize_t n;

	for (;;) {
		n = pread(fd, buf, EDIT_COPY_CHUNK, off);
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

/* What the edits build up: the header fields and the envelope's sender and recipients. */
struct spool_edit {
	struct edit_fields f;
	char **rcpts;
	size_t nrcpts;
	char *sender;			/* NULL: unchanged */
	const char *quarantine;		/* NULL: none */
};

static void
edit_add_header(struct spool_edit *e, const struct mc_mod *x)
{
	fields_insert(&e->f, e->f.n, field_text(x->name, x->value), 0);
}

static void
edit_ins_header(struct spool_edit *e, const struct mc_mod *x)
{
	fields_insert(&e->f, x->index > e->f.n ? e->f.n : x->index, field_text(x->name, x->value), 0);
}

/* CHGHEADER with an empty value deletes, as DELHEADER does (the milter protocol has both). */
static void
edit_chg_header(struct spool_edit *e, const struct mc_mod *x)
{
	long at = fields_find(&e->f, x->name, x->index);
	struct edit_field *fd;

	if (at < 0) {
		/* sendmail's rule: changing a missing field adds it. */
		if (x->kind == MC_MOD_CHG_HEADER && x->value && x->value[0])
			edit_add_header(e, x);
		return;
	}
	fd = &e->f.v[at];
	if (x->kind == MC_MOD_DEL_HEADER || !x->value || !x->value[0]) {
		fd->deleted = 1;
	} else {
		free(fd->text);
		fd->text = field_text(x->name, x->value);
		fd->len = strlen(fd->text);
	}
}

static void
edit_chg_from(struct spool_edit *e, const struct mc_mod *x)
{
	free(e->sender);
	e->sender = edit_bracket(x->name);
}

static void
edit_rcpt_push(struct spool_edit *e, char *rcpt)
{
	e->rcpts = xrealloc(e->rcpts, (e->nrcpts + 1) * sizeof(*e->rcpts));
	e->rcpts[e->nrcpts++] = rcpt;
}

static void
edit_add_rcpt(struct spool_edit *e, const struct mc_mod *x)
{
	edit_rcpt_push(e, edit_bracket(x->name));
}

/* Every copy of the address goes. */
static void
edit_del_rcpt(struct spool_edit *e, const struct mc_mod *x)
{
	size_t k = 0;

	while (k < e->nrcpts) {
		if (edit_same_addr(e->rcpts[k], x->name)) {
			free(e->rcpts[k]);
			memmove(e->rcpts + k, e->rcpts + k + 1, (e->nrcpts - k - 1) * sizeof(*e->rcpts));
			e->nrcpts--;
		} else {
			k++;
		}
	}
}

static void
edit_quarantine(struct spool_edit *e, const struct mc_mod *x)
{
	e->quarantine = x->value ? x->value : "";
}

static void (*const edit_fns[])(struct spool_edit *, const struct mc_mod *) = {
	[MC_MOD_ADD_HEADER] = edit_add_header,
	[MC_MOD_INS_HEADER] = edit_ins_header,
	[MC_MOD_CHG_HEADER] = edit_chg_header,
	[MC_MOD_DEL_HEADER] = edit_chg_header,
	[MC_MOD_CHG_FROM] = edit_chg_from,
	[MC_MOD_ADD_RCPT] = edit_add_rcpt,
	[MC_MOD_DEL_RCPT] = edit_del_rcpt,
	[MC_MOD_QUARANTINE] = edit_quarantine,
};

/*
 * Read the header block of the message at fd from msg_off into fields;
 * returns its length (where the body starts, the empty line included in
 * the body). A block that does not end within EDIT_HEADER_MAX is left as
 * it is: no fields, length 0.
 */
static size_t
edit_read_header(struct edit_fields *f, int fd, off_t msg_off)
{
	char *hdr = xmalloc(EDIT_HEADER_MAX);
	size_t hlen = 0, hend;
	ssize_t n;

	while (hlen < EDIT_HEADER_MAX &&
	    (n = pread(fd, hdr + hlen, EDIT_HEADER_MAX - hlen, msg_off + (off_t)hlen)) > 0)
		hlen += (size_t)n;
	hend = hlen;
	if (hlen >= 2 && memcmp(hdr, "\r\n", 2) == 0) {
		hend = 0;
	} else {
		char *e = memmem(hdr, hlen, "\r\n\r\n", 4);
		if (e)
			hend = (size_t)(e - hdr) + 2;
		else if (hlen >= EDIT_HEADER_MAX)
			hend = 0;	/* no end in sight: leave the header alone */
	}
	fields_parse(f, hdr, hend);
	free(hdr);
	return hend;
}

/* The fields left, then the body: the milter's replacement, or the rest of the streamed file. */
static int
edit_write(spool_file *out, const struct spool_edit *e, const struct mc_mods *m, int fd,
    off_t body_off, uint64_t *size)
{
	size_t i;

	*size = 0;
	for (i = 0; i < e->f.n; i++) {
		if (e->f.v[i].deleted)
			continue;
		spool_file_write(out, e->f.v[i].text, e->f.v[i].len);
		*size += e->f.v[i].len;
	}
	if (m->body_fd < 0)
		return edit_copy_fd(out, fd, body_off, size);
	/* The empty line, then the milter's body. */
	spool_file_write(out, "\r\n", 2);
	*size += 2;
	return edit_copy_fd(out, m->body_fd, 0, size);
}

static void
edit_free(struct spool_edit *e)
{
	size_t i;

	for (i = 0; i < e->f.n; i++)
		free(e->f.v[i].text);
	free(e->f.v);
	for (i = 0; i < e->nrcpts; i++)
		free(e->rcpts[i]);
	free(e->rcpts);
	free(e->sender);
}

int
spool_edit_apply(spool *sp, spool_file *in, const struct spool_envelope *env,
    const struct mc_mods *m, const char *log_tag, spool_file **out, uint64_t *size)
{
	struct spool_edit e;
	struct spool_envelope edited = *env;
	off_t msg_off;
	int fd = spool_file_message_fd(in, &msg_off), rc = -1;
	size_t i, hend;
	spool_file *nf;

	memset(&e, 0, sizeof(e));
	hend = edit_read_header(&e.f, fd, msg_off);
	for (i = 0; i < env->nrcpts; i++)
		edit_rcpt_push(&e, xstrdup(env->rcpts[i]));
	for (i = 0; i < m->n; i++) {
		const struct mc_mod *x = &m->v[i];

		if ((size_t)x->kind < sizeof(edit_fns) / sizeof(edit_fns[0]) && edit_fns[x->kind])
			edit_fns[x->kind](&e, x);
	}
	if (e.quarantine)
		log_info("%s quarantined: %s", log_tag, e.quarantine);

	if (e.sender)
		edited.sender = e.sender;
	edited.rcpts = e.rcpts;
	edited.nrcpts = e.nrcpts;
	edited.quarantine = e.quarantine;
	if ((nf = spool_file_new(sp, &edited)) != NULL) {
		rc = edit_write(nf, &e, m, fd, msg_off + (off_t)hend, size);
		if (rc != 0 || spool_file_failed(nf)) {
			spool_file_abort(nf);
			rc = -1;
		}
	}
	edit_free(&e);
	if (rc != 0) {
		log_warnx("%s milter edits could not be applied", log_tag);
		return -1;
	}
	*out = nf;
	log_info("%s milter edits applied: %zu", log_tag, m->n);
	return 0;
}
