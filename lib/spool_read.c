/* spool_read.c - strict, bounded parser of a spool file's header block (the reader side of frontend/spool.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* memmem */
#endif
#include "spool_read.h"
#include "ascii.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keys the writer puts in, each at most once except rcpt. */
enum sr_key { SR_ID, SR_ARRIVAL, SR_CADDR, SR_CPORT, SR_HELO, SR_PROTO, SR_TLSV, SR_TLSC,
	SR_ACCOUNT, SR_BODY, SR_UTF8, SR_SENDER, SR_RCPT, SR_QUAR, SR_SIZE, SR_NKEYS };

static const char *const sr_names[SR_NKEYS] = {
	"id", "arrival", "client-address", "client-port", "helo", "protocol", "tls-version",
	"tls-cipher", "account", "body", "smtputf8", "sender", "rcpt", "quarantine", "size",
};

static int __attribute__((format(printf, 3, 4)))
sr_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "<...>" with no '<' '>' inside and nothing after; "<>" allowed only where empty_ok. */
static int
sr_path(const char *s, int empty_ok)
{
	size_t n = strlen(s);

	if (n < 2 || s[0] != '<' || s[n - 1] != '>')
		return -1;
	if (n == 2)
		return empty_ok ? 0 : -1;
	return strcspn(s + 1, "<>") == n - 2 ? 0 : -1;
}

/* A message id: what the writer accepts (not empty, no '/', not starting with '.'). */
static int
sr_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && s[0] != '.' && strchr(s, '/') == NULL;
}

static int
sr_set(struct spool_read_env *env, enum sr_key k, const char *v, size_t *cap, char *err,
    size_t errlen, unsigned lineno)
{
	uint64_t n;

	switch (k) {
	case SR_ID:
		if (!sr_id_ok(v))
			return sr_fail(err, errlen, "line %u: bad id", lineno);
		env->id = v;
		break;
	case SR_ARRIVAL:
		if (ascii_u64(v, &env->arrival_ms))
			return sr_fail(err, errlen, "line %u: bad arrival", lineno);
		break;
	case SR_CADDR: env->client_addr = v; break;
	case SR_CPORT:
		if (ascii_u64(v, &n) || n > 65535)
			return sr_fail(err, errlen, "line %u: bad client-port", lineno);
		env->client_port = (unsigned)n;
		break;
	case SR_HELO: env->helo = v; break;
	case SR_PROTO: env->protocol = v; break;
	case SR_TLSV: env->tls_version = v; break;
	case SR_TLSC: env->tls_cipher = v; break;
	case SR_ACCOUNT: env->account = v; break;
	case SR_BODY:
		if (*v && strcmp(v, "7BIT") && strcmp(v, "8BITMIME") && strcmp(v, "BINARYMIME"))
			return sr_fail(err, errlen, "line %u: bad body", lineno);
		env->body = v;
		break;
	case SR_UTF8:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return sr_fail(err, errlen, "line %u: bad smtputf8", lineno);
		env->smtputf8 = strcmp(v, "yes") == 0;
		break;
	case SR_SENDER:
		if (sr_path(v, 1))
			return sr_fail(err, errlen, "line %u: bad sender", lineno);
		env->sender = v;
		break;
	case SR_RCPT:
		if (sr_path(v, 0))
			return sr_fail(err, errlen, "line %u: bad rcpt", lineno);
		if (env->nrcpts == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			env->rcpts = xrealloc(env->rcpts, *cap * sizeof(*env->rcpts));
		}
		env->rcpts[env->nrcpts++] = v;
		break;
	case SR_QUAR: env->quarantine = v; break;
	case SR_SIZE:
		if (ascii_u64(v, &env->size))
			return sr_fail(err, errlen, "line %u: bad size", lineno);
		break;
	case SR_NKEYS:
		break;
	}
	return 0;
}

void
spool_read_free(struct spool_read_env *env)
{
	free(env->buf);
	free(env->rcpts);
	memset(env, 0, sizeof(*env));
}

int
spool_read_parse(const char *data, size_t len, uint64_t file_size, struct spool_read_env *env,
    char *err, size_t errlen)
{
	static const char version[] = "postern-spool 1\n";
	const char *end;
	char *p, *line;
	size_t hlen, cap = 0;
	unsigned seen[SR_NKEYS] = { 0 }, lineno = 1;
	int k;

	memset(env, 0, sizeof(*env));
	if (len > file_size)
		len = (size_t)file_size;
	if (len > SPOOL_READ_HDR_MAX)
		len = SPOOL_READ_HDR_MAX;
	if (len < sizeof(version) - 1 || memcmp(data, version, sizeof(version) - 1) != 0)
		return sr_fail(err, errlen, "unknown version line");
	/* The block ends with an empty line: find "\n\n". */
	end = NULL;
	for (hlen = sizeof(version) - 2; hlen + 1 < len; hlen++) {
		if (data[hlen] == '\n' && data[hlen + 1] == '\n') {
			end = data + hlen + 1;
			break;
		}
	}
	if (end == NULL)
		return sr_fail(err, errlen, len >= SPOOL_READ_HDR_MAX ? "header block too long" :
		    "truncated header block");
	if (memchr(data, '\0', (size_t)(end - data)) != NULL)
		return sr_fail(err, errlen, "NUL byte in the header block");
	hlen = (size_t)(end - data);	/* through the last key line's '\n' */
	env->buf = xstrndup(data, hlen);
	env->data_offset = hlen + 1;
	env->client_addr = env->helo = env->protocol = env->tls_version = env->tls_cipher = "";
	env->account = env->body = "";
	p = env->buf + sizeof(version) - 1;
	while (*p) {
		char *nl = strchr(p, '\n'), *sp;

		line = p;
		lineno++;
		*nl = '\0';
		p = nl + 1;
		if ((size_t)(nl - line) > SPOOL_READ_LINE_MAX)
			goto bad_line_long;
		if ((sp = strchr(line, ' ')) == NULL) {
			sr_fail(err, errlen, "line %u: no value", lineno);
			goto fail;
		}
		*sp = '\0';
		for (k = 0; k < SR_NKEYS; k++)
			if (strcmp(line, sr_names[k]) == 0)
				break;
		if (k == SR_NKEYS) {
			sr_fail(err, errlen, "line %u: unknown key \"%.32s\"", lineno, line);
			goto fail;
		}
		if (seen[SR_SIZE]) {
			sr_fail(err, errlen, "line %u: %s after size", lineno, line);
			goto fail;
		}
		if (k != SR_RCPT && seen[k]++) {
			sr_fail(err, errlen, "line %u: %s twice", lineno, line);
			goto fail;
		}
		seen[k] += k == SR_RCPT;
		if (sr_set(env, (enum sr_key)k, sp + 1, &cap, err, errlen, lineno) != 0)
			goto fail;
	}
	for (k = 0; k < SR_NKEYS; k++) {
		if (!seen[k] && (k == SR_ID || k == SR_ARRIVAL || k == SR_SENDER || k == SR_RCPT ||
		    k == SR_SIZE)) {
			sr_fail(err, errlen, "no %s line", sr_names[k]);
			goto fail;
		}
	}
	if (env->size != file_size - env->data_offset) {
		sr_fail(err, errlen, "size %llu but %llu message bytes", (unsigned long long)env->size,
		    (unsigned long long)(file_size - env->data_offset));
		goto fail;
	}
	return 0;
bad_line_long:
	sr_fail(err, errlen, "line %u: longer than %d bytes", lineno, SPOOL_READ_LINE_MAX);
fail:
	spool_read_free(env);
	return -1;
}

int
spool_read_fd(int fd, struct spool_read_env *env, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t want, got = 0;
	int rc;

	memset(env, 0, sizeof(*env));
	if (fstat(fd, &st) != 0)
		return sr_fail(err, errlen, "fstat: %s", strerror(errno));
	want = (uint64_t)st.st_size < SPOOL_READ_HDR_MAX ? (size_t)st.st_size : SPOOL_READ_HDR_MAX;
	buf = xmalloc(want + 1);
	/* Most header blocks are small: read a first page, more only when the end is not in it. */
	while (got < want) {
		size_t chunk = want - got < 16384 ? want - got : 16384;
		ssize_t n = pread(fd, buf + got, chunk, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return sr_fail(err, errlen, "read: %s", strerror(errno));
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memmem(buf + (got > (size_t)n + 1 ? got - (size_t)n - 1 : 0),
		    got > (size_t)n + 1 ? (size_t)n + 1 : got, "\n\n", 2) != NULL)
			break;
	}
	rc = spool_read_parse(buf, got, (uint64_t)st.st_size, env, err, errlen);
	free(buf);
	return rc;
}
