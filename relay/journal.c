/* journal.c - write and replay a message's delivery history (checksummed text records). */
#include "journal.h"
#include "ascii.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define JOURNAL_MAX_FIELDS	5

static void
jb_reserve(struct journal_buf *b, size_t more)
{
	if (b->len + more + 1 > b->cap) {
		b->cap = (b->len + more + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

void
journal_buf_free(struct journal_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Field bytes that would break the line format (space, controls, '%') become %XX. */
static void
jb_escaped(struct journal_buf *b, const char *s, size_t maxlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; s[i] && i < maxlen; i++) {
		unsigned char c = (unsigned char)s[i];
		jb_reserve(b, 3);
		if (c <= 0x20 || c == 0x7f || c == '%') {
			b->p[b->len++] = '%';
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
		} else {
			b->p[b->len++] = (char)c;
		}
	}
}

/* One record: type and fields; an empty field is written "-" (and a field "-" escaped). */
static void
jb_record(struct journal_buf *b, char type, const char *const *fields, size_t n)
{
	size_t start, i;
	char crc[16];
	uLong c;

	jb_reserve(b, 16);
	start = b->len;
	memcpy(b->p + b->len, "00000000 ", 9);	/* checksum, filled in below */
	b->len += 9;
	b->p[b->len++] = type;
	for (i = 0; i < n; i++) {
		jb_reserve(b, 2);
		b->p[b->len++] = ' ';
		if (fields[i][0] == '\0')
			b->p[b->len++] = '-';
		else if (strcmp(fields[i], "-") == 0) {
			jb_reserve(b, 3);
			memcpy(b->p + b->len, "%2D", 3);
			b->len += 3;
		} else
			jb_escaped(b, fields[i], JOURNAL_LINE_MAX / 4);
	}
	c = crc32(0L, (const Bytef *)b->p + start + 9, (uInt)(b->len - start - 9));
	snprintf(crc, sizeof(crc), "%08lx", c & 0xffffffffUL);
	memcpy(b->p + start, crc, 8);
	jb_reserve(b, 1);
	b->p[b->len++] = '\n';
	b->p[b->len] = '\0';
}

void
journal_rec_envelope(struct journal_buf *b, uint64_t arrival_ms, uint64_t size,
    const char *sender, const char *const *rcpts, size_t nrcpts)
{
	char a[24], s[24], v[8];
	const char *f[3];
	size_t i;

	snprintf(v, sizeof(v), "%d", JOURNAL_VERSION);
	f[0] = v;
	jb_record(b, 'V', f, 1);
	snprintf(a, sizeof(a), "%llu", (unsigned long long)arrival_ms);
	snprintf(s, sizeof(s), "%llu", (unsigned long long)size);
	f[0] = a;
	f[1] = s;
	f[2] = sender;
	jb_record(b, 'M', f, 3);
	for (i = 0; i < nrcpts; i++) {
		f[0] = rcpts[i];
		jb_record(b, 'P', f, 1);
	}
}

void
journal_rec_attempt(struct journal_buf *b, uint64_t ms, const char *hop)
{
	char t[24];
	const char *f[2] = { t, hop };

	snprintf(t, sizeof(t), "%llu", (unsigned long long)ms);
	jb_record(b, 'A', f, 2);
}

static const char journal_rcodes[] = "qtdf";	/* by enum journal_rstate */

void
journal_rec_outcome(struct journal_buf *b, uint64_t ms, size_t rcpt, int state, const char *reply)
{
	char t[24], r[24], st[2] = { journal_rcodes[state & 3], '\0' };
	const char *f[4] = { t, r, st, reply };

	snprintf(t, sizeof(t), "%llu", (unsigned long long)ms);
	snprintf(r, sizeof(r), "%zu", rcpt);
	jb_record(b, 'R', f, 4);
}

void
journal_rec_next(struct journal_buf *b, uint64_t ms, uint64_t next_ms)
{
	char t[24], n[24];
	const char *f[2] = { t, n };

	snprintf(t, sizeof(t), "%llu", (unsigned long long)ms);
	snprintf(n, sizeof(n), "%llu", (unsigned long long)next_ms);
	jb_record(b, 'W', f, 2);
}

void
journal_rec_hold(struct journal_buf *b, uint64_t ms, int held)
{
	char t[24];
	const char *f[1] = { t };

	snprintf(t, sizeof(t), "%llu", (unsigned long long)ms);
	jb_record(b, held ? 'H' : 'U', f, 1);
}

void
journal_rec_bounce(struct journal_buf *b, uint64_t ms, const char *dsn_id)
{
	char t[24];
	const char *f[2] = { t, dsn_id };

	snprintf(t, sizeof(t), "%llu", (unsigned long long)ms);
	jb_record(b, 'B', f, 2);
}

static const char *const journal_fates[] = { "queued", "delivered", "failed", "deleted" };

void
journal_rec_fate(struct journal_buf *b, uint64_t ms, int fate)
{
	char t[24];
	const char *f[2] = { t, journal_fates[fate & 3] };

	snprintf(t, sizeof(t), "%llu", (unsigned long long)ms);
	jb_record(b, 'F', f, 2);
}

const char *
journal_rstate_name(int state)
{
	static const char *const names[] = { "queued", "deferred", "delivered", "failed" };

	return state >= 0 && state <= 3 ? names[state] : "queued";
}

const char *
journal_fate_name(int fate)
{
	return fate >= 0 && fate <= 3 ? journal_fates[fate] : "queued";
}

/* Undo jb_escaped in place; "-" alone is the empty string. -1 on a bad escape. */
static int
j_unescape(char *s)
{
	char *o = s;

	if (strcmp(s, "-") == 0) {
		*s = '\0';
		return 0;
	}
	while (*s) {
		if (*s == '%') {
			if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
				return -1;
			char h[3] = { s[1], s[2], '\0' };
			*o++ = (char)strtol(h, NULL, 16);
			s += 3;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return 0;
}

static void
j_event(struct journal_state *st, char type, uint64_t ms, size_t rcpt, int state, const char *text)
{
	struct journal_event *e;

	st->events = xrealloc(st->events, (st->nevents + 1) * sizeof(*st->events));
	e = &st->events[st->nevents++];
	e->type = type;
	e->ms = ms;
	e->rcpt = rcpt;
	e->state = state;
	e->text = xstrdup(text);
}

/* Apply one record (the part after the checksum, NUL-terminated, modified). 0 or -1 (invalid). */
static int
j_apply(struct journal_state *st, char *rec)
{
	char *f[JOURNAL_MAX_FIELDS + 1], *save = NULL, *tok, type;
	size_t n = 0, i;
	uint64_t a, b;

	if (rec[0] == '\0' || (rec[1] != ' ' && rec[1] != '\0'))
		return -1;
	type = rec[0];
	for (tok = strtok_r(rec + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == JOURNAL_MAX_FIELDS || j_unescape(tok) != 0)
			return -1;
		f[n++] = tok;
	}
	/* The version line first, then the envelope, then events; nothing after the fate. */
	if ((type == 'V') != (st->version == 0) || st->fate != JOURNAL_OPEN)
		return -1;
	if (type != 'V' && type != 'M' && !st->have_envelope)
		return -1;
	switch (type) {
	case 'V':
		if (n != 1 || ascii_u64(f[0], &a) || a != JOURNAL_VERSION)
			return -1;
		st->version = (int)a;
		return 0;
	case 'M':
		if (n != 3 || st->have_envelope || ascii_u64(f[0], &a) || ascii_u64(f[1], &b))
			return -1;
		st->arrival_ms = a;
		st->size = b;
		st->sender = xstrdup(f[2]);
		st->have_envelope = 1;
		return 0;
	case 'P':
		if (n != 1 || st->attempts || st->nevents || st->nrcpts >= JOURNAL_RCPTS_MAX)
			return -1;
		st->rcpts = xrealloc(st->rcpts, (st->nrcpts + 1) * sizeof(*st->rcpts));
		st->rcpts[st->nrcpts].address = xstrdup(f[0]);
		st->rcpts[st->nrcpts].state = JOURNAL_R_QUEUED;
		st->rcpts[st->nrcpts].reply = xstrdup("");
		st->rcpts[st->nrcpts].when_ms = 0;
		st->nrcpts++;
		return 0;
	case 'A':
		if (n != 2 || ascii_u64(f[0], &a))
			return -1;
		st->attempts++;
		j_event(st, 'A', a, 0, 0, f[1]);
		return 0;
	case 'R':
		if (n != 4 || ascii_u64(f[0], &a) || ascii_u64(f[1], &b) || b >= st->nrcpts ||
		    strlen(f[2]) != 1 || strchr(journal_rcodes, f[2][0]) == NULL)
			return -1;
		i = (size_t)b;
		st->rcpts[i].state = (int)(strchr(journal_rcodes, f[2][0]) - journal_rcodes);
		free(st->rcpts[i].reply);
		st->rcpts[i].reply = xstrdup(f[3]);
		st->rcpts[i].when_ms = a;
		j_event(st, 'R', a, i, st->rcpts[i].state, f[3]);
		return 0;
	case 'W':
		if (n != 2 || ascii_u64(f[0], &a) || ascii_u64(f[1], &b))
			return -1;
		st->next_ms = b;
		return 0;
	case 'H':
	case 'U':
		if (n != 1 || ascii_u64(f[0], &a))
			return -1;
		st->held = type == 'H';
		return 0;
	case 'B':
		if (n != 2 || ascii_u64(f[0], &a) || f[1][0] == '\0' || strchr(f[1], '/') ||
		    f[1][0] == '.' || st->bounce_id)
			return -1;
		st->bounce_id = xstrdup(f[1]);
		return 0;
	case 'F':
		if (n != 2 || ascii_u64(f[0], &a))
			return -1;
		for (i = 1; i < 4; i++)
			if (strcmp(f[1], journal_fates[i]) == 0)
				break;
		if (i == 4)
			return -1;
		st->fate = (int)i;
		st->fate_ms = a;
		return 0;
	}
	return -1;
}

size_t
journal_replay(struct journal_state *st, const char *data, size_t len)
{
	size_t off = 0;
	char line[JOURNAL_LINE_MAX + 1];

	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n;
		uLong c;
		char crc[9];

		if (nl == NULL)
			break;				/* torn: no end of line */
		n = (size_t)(nl - (data + off));
		if (n < 10 || n > JOURNAL_LINE_MAX || data[off + 8] != ' ' ||
		    memchr(data + off, '\0', n) != NULL)
			break;
		c = crc32(0L, (const Bytef *)data + off + 9, (uInt)(n - 9));
		snprintf(crc, sizeof(crc), "%08lx", c & 0xffffffffUL);
		if (memcmp(crc, data + off, 8) != 0)
			break;
		memcpy(line, data + off + 9, n - 9);
		line[n - 9] = '\0';
		if (j_apply(st, line) != 0)
			break;
		off += n + 1;
	}
	return off;
}

void
journal_state_free(struct journal_state *st)
{
	size_t i;

	for (i = 0; i < st->nrcpts; i++) {
		free(st->rcpts[i].address);
		free(st->rcpts[i].reply);
	}
	for (i = 0; i < st->nevents; i++)
		free(st->events[i].text);
	free(st->rcpts);
	free(st->events);
	free(st->sender);
	free(st->bounce_id);
	memset(st, 0, sizeof(*st));
}

int
journal_load(int dirfd, const char *path, struct journal_state *st, struct journal_buf *keep,
    size_t *valid, size_t *total)
{
	struct stat sb;
	char *buf;
	size_t want, got = 0;
	int fd, e;

	memset(st, 0, sizeof(*st));
	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	want = (uint64_t)sb.st_size < JOURNAL_FILE_MAX ? (size_t)sb.st_size : JOURNAL_FILE_MAX;
	buf = xmalloc(want + 1);
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*valid = journal_replay(st, buf, got);
	*total = (size_t)sb.st_size;
	if (keep != NULL) {
		buf[*valid] = '\0';
		keep->p = buf;
		keep->len = *valid;
		keep->cap = want + 1;
	} else {
		free(buf);
	}
	return 0;
}
