/*
 * sdnotify.h - telling systemd where a daemon stands (sd_notify: ready,
 * reloading, stopping, a status line) and taking the listening sockets it
 * passed (socket activation). Built without libsystemd, or run outside
 * systemd (no NOTIFY_SOCKET, no LISTEN_FDS), every call does nothing.
 */
#ifndef POSTERN_SDNOTIFY_H
#define POSTERN_SDNOTIFY_H

#include <stddef.h>

/* READY=1 with a STATUS= line: listeners bound, privileges dropped. */
void sdnotify_ready(const char *status);
/* RELOADING=1 (SIGHUP taken); sdnotify_ready() again when it is over. */
void sdnotify_reloading(void);
/* STOPPING=1 (SIGTERM taken). */
void sdnotify_stopping(void);
/* STATUS=... alone, only sent when it changed since the last one. */
void sdnotify_status(const char *status);

/* A socket systemd passed: its descriptor and FileDescriptorName. */
struct sdnotify_fd {
	int fd;
	char name[64];
};

/*
 * The listening sockets passed by systemd (LISTEN_FDS, LISTEN_FDNAMES),
 * at most max; the variables are then unset so no child inherits them.
 * Returns their number (0: none passed), or -1 with err.
 */
int sdnotify_listen_fds(struct sdnotify_fd *out, size_t max, char *err, size_t errlen);

#endif
