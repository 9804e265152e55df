/* check.c - postern-relay -t: a plain connect to the next hop, without a word of SMTP. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Connect fd to sa within timeout_s: 0 or -1 (errno). */
static int
check_connect(int fd, const struct sockaddr *sa, socklen_t len, unsigned timeout_s)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int e = 0;
	socklen_t elen = sizeof(e);

	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
		return -1;
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	if (poll(&p, 1, (int)timeout_s * 1000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
		return -1;
	errno = e;
	return e ? -1 : 0;
}

int
check_reachable(const char *relay_host, unsigned timeout_s, char *err, size_t errlen)
{
	char host[512], port[16] = "25";
	const char *spec = relay_host, *colon;
	struct addrinfo hints, *res, *ai;
	int fd, rc, e = 0;

	if (strncmp(spec, "lmtp:unix:", 10) == 0) {
		struct sockaddr_un sun;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(spec + 10) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "%s: path too long", relay_host);
			return -1;
		}
		strcpy(sun.sun_path, spec + 10);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
		    check_connect(fd, (struct sockaddr *)&sun, sizeof(sun), timeout_s) != 0) {
			snprintf(err, errlen, "%s: %s", relay_host, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (strncmp(spec, "lmtp:inet:", 10) == 0)
		spec += 10;
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (rb == NULL || (size_t)(rb - spec - 1) >= sizeof(host)) {
			snprintf(err, errlen, "%s: bad next hop", relay_host);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(rb - spec - 1), spec + 1);
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strrchr(spec, ':');
		snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
	}
	if (colon != NULL)
		snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", relay_host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
			continue;
		rc = check_connect(fd, ai->ai_addr, ai->ai_addrlen, timeout_s);
		e = errno;
		close(fd);
		if (rc == 0) {
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "%s: %s", relay_host, strerror(e ? e : ECONNREFUSED));
	return -1;
}
