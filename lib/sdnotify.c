/* sdnotify.c - sd_notify states and socket activation through libsystemd (no-ops without it). */
#include "autoconf.h"
#include "sdnotify.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#include <sys/socket.h>
#endif

static char sdnotify_last[256];		/* the last STATUS= sent, to send changes only */

#ifdef HAVE_LIBSYSTEMD
static void
sdnotify_send(const char *state)
{
	/* Errors are not ours to handle: systemd gone means nobody listens. */
	(void)sd_notify(0, state);
}
#else
static void
sdnotify_send(const char *state)
{
	(void)state;
}
#endif

void
sdnotify_ready(const char *status)
{
	char msg[320];

	xstrlcpy(sdnotify_last, status, sizeof(sdnotify_last));
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	sdnotify_send(msg);
}

void
sdnotify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	/* systemd 253+ (Type=notify-reload) wants the reload's start on CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	sdnotify_send(msg);
}

void
sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1");
}

void
sdnotify_status(const char *status)
{
	char msg[320];

	if (strcmp(status, sdnotify_last) == 0)
		return;
	xstrlcpy(sdnotify_last, status, sizeof(sdnotify_last));
	snprintf(msg, sizeof(msg), "STATUS=%s", status);
	sdnotify_send(msg);
}

int
sdnotify_listen_fds(struct sdnotify_fd *out, size_t max, char *err, size_t errlen)
{
#ifdef HAVE_LIBSYSTEMD
	char **names = NULL;
	int n, i, rc = 0;

	n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-n));
		return -1;
	}
	if ((size_t)n > max) {
		snprintf(err, errlen, "socket activation: %d sockets passed, at most %zu", n, max);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			snprintf(err, errlen, "socket activation: descriptor %d (%s) is not a "
			    "listening stream socket", fd, names && names[i] ? names[i] : "?");
			rc = -1;
			break;
		}
		out[i].fd = fd;
		xstrlcpy(out[i].name, names && names[i] ? names[i] : "", sizeof(out[i].name));
	}
	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	return rc == 0 ? n : -1;
#else
	(void)out;
	(void)max;
	(void)err;
	(void)errlen;
	return 0;
#endif
}
