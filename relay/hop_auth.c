/* hop_auth.c - read relay_auth_file: bounded, line-numbered errors, no copy of the password left behind. */
#include "hop_auth.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
hop_auth_free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int
hop_auth_parse(const char *name, const char *data, size_t len, char **user, char **pass,
    char *err, size_t errlen)
{
	size_t off = 0;
	int lineno = 0;

	*user = *pass = NULL;
	if (len > HOP_AUTH_FILE_MAX) {
		snprintf(err, errlen, "%s: file larger than %d bytes", name, HOP_AUTH_FILE_MAX);
		return -1;
	}
	while (off < len) {
		const char *l = data + off, *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off;
		size_t s = 0, e = n, u0, u1, p0;

		off += n + (nl ? 1 : 0);
		lineno++;
		if (memchr(l, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", name, lineno);
			goto fail;
		}
		while (s < e && isspace((unsigned char)l[s]))
			s++;
		/* Trailing blanks (and the CR of CRLF) are not part of a password anyone meant to type. */
		while (e > s && isspace((unsigned char)l[e - 1]))
			e--;
		if (s == e || l[s] == '#')
			continue;
		if (*user != NULL) {
			snprintf(err, errlen, "%s:%d: more than one \"username password\" line", name,
			    lineno);
			goto fail;
		}
		u0 = s;
		while (s < e && !isspace((unsigned char)l[s]))
			s++;
		u1 = s;
		while (s < e && isspace((unsigned char)l[s]))
			s++;
		p0 = s;
		if (p0 == e) {
			snprintf(err, errlen, "%s:%d: expected \"username password\"", name, lineno);
			goto fail;
		}
		*user = xstrndup(l + u0, u1 - u0);
		*pass = xstrndup(l + p0, e - p0);
	}
	if (*user == NULL) {
		snprintf(err, errlen, "%s: no \"username password\" line", name);
		return -1;
	}
	return 0;
fail:
	hop_auth_free_secret(*user);
	hop_auth_free_secret(*pass);
	*user = *pass = NULL;
	return -1;
}

int
hop_auth_load(const char *path, char **user, char **pass, char *err, size_t errlen)
{
	char buf[HOP_AUTH_FILE_MAX + 1];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	*user = *pass = NULL;
	if (fd < 0) {
		snprintf(err, errlen, "relay_auth_file %s: %s", path, strerror(errno));
		return -1;
	}
	/* One byte more than allowed tells "too large" without reading a huge (or endless) file. */
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "relay_auth_file %s: %s", path, strerror(errno));
			close(fd);
			explicit_bzero(buf, len);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = hop_auth_parse(path, buf, len, user, pass, err, errlen);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}
