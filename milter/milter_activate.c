/* milter_activate.c - postern-milter: serving on the listening socket systemd passed (socket activation). */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "milter_activate.h"
#include "sdnotify.h"
#include "xalloc.h"

#define PM_ACTIVATE_PASSED_MAX	8	/* more than one is refused anyway; this bounds the reason */
#define PM_ACTIVATE_PLACEHOLDER	"placeholder"

/* Its address in milter_listen's syntax (inet:HOST:PORT, inet6:[HOST]:PORT, unix:PATH). */
static void
pm_activate_describe(struct pm_activated *a)
{
	char host[INET6_ADDRSTRLEN], serv[8];

	if (a->family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->addr;
		size_t len = a->addrlen > offsetof(struct sockaddr_un, sun_path) ?
		    a->addrlen - offsetof(struct sockaddr_un, sun_path) : 0;

		if (len == 0)
			snprintf(a->where, sizeof(a->where), "unix:(unnamed)");
		else if (sun->sun_path[0] == '\0')	/* Linux abstract name */
			snprintf(a->where, sizeof(a->where), "unix:@%.*s", (int)(len - 1),
			    sun->sun_path + 1);
		else
			snprintf(a->where, sizeof(a->where), "unix:%.*s", (int)strnlen(sun->sun_path,
			    len), sun->sun_path);
		return;
	}
	if (getnameinfo((const struct sockaddr *)&a->addr, a->addrlen, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(a->where, sizeof(a->where), "%s:(unknown)", a->family == AF_INET6 ?
		    "inet6" : "inet");
	else if (a->family == AF_INET6)
		snprintf(a->where, sizeof(a->where), "inet6:[%s]:%s", host, serv);
	else
		snprintf(a->where, sizeof(a->where), "inet:%s:%s", host, serv);
}

/*
 * The placeholder libmilter opens before we swap in systemd's socket. It
 * must be of the same family: libmilter's accept loop drops every
 * connection whose peer address is not of the family it opened (and
 * sizes the peer address by it). TCP: an ephemeral port on loopback.
 * Unix: a socket in a private directory of our own, removed right after
 * the swap, so no file is left behind and libmilter's unlink at exit
 * finds nothing to remove.
 */
static int
pm_activate_placeholder(struct pm_activated *a, char *conn, size_t connlen, char *err,
    size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (a->family == AF_INET)
		n = snprintf(conn, connlen, "inet:0@127.0.0.1");
	else if (a->family == AF_INET6)
		n = snprintf(conn, connlen, "inet6:0@[::1]");
	else {
		/* Room for "/" PM_ACTIVATE_PLACEHOLDER within sun_path; else the usual /tmp. */
		if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 60)
			tmp = "/tmp";
		snprintf(a->tmpdir, sizeof(a->tmpdir), "%s/postern-milter.XXXXXX", tmp);
		if (mkdtemp(a->tmpdir) == NULL) {
			snprintf(err, errlen, "socket activation: placeholder directory %s: %s",
			    a->tmpdir, strerror(errno));
			a->tmpdir[0] = '\0';
			return -1;
		}
		n = snprintf(conn, connlen, "unix:%s/%s", a->tmpdir, PM_ACTIVATE_PLACEHOLDER);
	}
	if (n < 0 || (size_t)n >= connlen) {
		snprintf(err, errlen, "socket activation: placeholder address too long");
		return -1;
	}
	return 0;
}

int
pm_activate_take(struct pm_activated *a, char *err, size_t errlen)
{
	struct sdnotify_fd fds[PM_ACTIVATE_PASSED_MAX];
	int n;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if ((n = sdnotify_listen_fds(fds, PM_ACTIVATE_PASSED_MAX, err, errlen)) <= 0)
		return n;
	if (n != 1) {
		snprintf(err, errlen, "socket activation: %d sockets passed; postern-milter serves "
		    "exactly one, named \"%s\" (FileDescriptorName=%s)", n, PM_ACTIVATE_NAME,
		    PM_ACTIVATE_NAME);
		for (int i = 0; i < n; i++)
			close(fds[i].fd);
		return -1;
	}
	if (strcmp(fds[0].name, PM_ACTIVATE_NAME) != 0) {
		snprintf(err, errlen, "socket activation: descriptor %d is named \"%.64s\", not \"%s\" "
		    "(FileDescriptorName=%s in the .socket unit)", fds[0].fd, fds[0].name,
		    PM_ACTIVATE_NAME, PM_ACTIVATE_NAME);
		close(fds[0].fd);
		return -1;
	}
	a->fd = fds[0].fd;
	a->addrlen = sizeof(a->addr);
	if (getsockname(a->fd, (struct sockaddr *)&a->addr, &a->addrlen) != 0) {
		snprintf(err, errlen, "socket activation: descriptor %d: %s", a->fd, strerror(errno));
		pm_activate_abandon(a);
		return -1;
	}
	a->family = a->addr.ss_family;
	if (a->family != AF_UNIX && a->family != AF_INET && a->family != AF_INET6) {
		snprintf(err, errlen, "socket activation: descriptor %d: address family %d is not "
		    "unix, IPv4 or IPv6", a->fd, a->family);
		pm_activate_abandon(a);
		return -1;
	}
	/* Until the swap: no exec'd helper may inherit it. */
	(void)fcntl(a->fd, F_SETFD, FD_CLOEXEC);
	pm_activate_describe(a);
	return 1;
}

static int
pm_activate_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

int
pm_activate_mark(struct pm_activated *a, char *conn, size_t connlen, char *err, size_t errlen)
{
	if (pm_activate_placeholder(a, conn, connlen, err, errlen) != 0) {
		pm_activate_abandon(a);
		return -1;
	}
	memset(a->before, 0, sizeof(a->before));
	for (int fd = 0; fd < PM_ACTIVATE_FDS_MAX; fd++)
		if (pm_activate_is_open(fd))
			a->before[fd / 8] |= (unsigned char)(1u << (fd % 8));
	return 0;
}

/* Is fd the listening placeholder pm_activate_placeholder() described? */
static int
pm_activate_is_placeholder(const struct pm_activated *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int listening = 0;
	socklen_t optlen = sizeof(listening);
	char path[sizeof(a->tmpdir) + sizeof(PM_ACTIVATE_PLACEHOLDER) + 1];
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || !listening)
		return 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 || ss.ss_family != a->family)
		return 0;
	if (a->family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		return sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	}
	if (a->family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	snprintf(path, sizeof(path), "%s/%s", a->tmpdir, PM_ACTIVATE_PLACEHOLDER);
	return len > offsetof(struct sockaddr_un, sun_path) &&
	    strncmp(sun->sun_path, path, sizeof(sun->sun_path)) == 0;
}

/* The unix placeholder's file and directory: nothing of it stays behind. */
static void
pm_activate_cleanup(struct pm_activated *a)
{
	char path[sizeof(a->tmpdir) + sizeof(PM_ACTIVATE_PLACEHOLDER) + 1];

	if (a->tmpdir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", a->tmpdir, PM_ACTIVATE_PLACEHOLDER);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("socket activation: remove %s", path);
	if (rmdir(a->tmpdir) != 0)
		log_warn("socket activation: remove %s", a->tmpdir);
	a->tmpdir[0] = '\0';
}

/*
 * pm_activate_adopt - libmilter has no call that takes a listening
 * descriptor: it only opens its own from the smfi_setconn() string. But
 * it opens that socket once (mi_opensocket() returns early while its
 * listening descriptor is valid; smfi_main() goes through the same
 * function) and afterwards only uses the descriptor number. So the
 * placeholder it just opened is found among the descriptors that appeared
 * during smfi_opensocket() (checked by its address, not guessed), and
 * dup2() puts systemd's socket on that number: libmilter's bookkeeping
 * (the number, the family it checks peers against, the placeholder path
 * it would unlink at exit, which we removed) stays valid, and it accepts
 * on systemd's socket without knowing.
 */
int
pm_activate_adopt(struct pm_activated *a, char *err, size_t errlen)
{
	int found = -1, candidates = 0;

	for (int fd = 0; fd < PM_ACTIVATE_FDS_MAX; fd++) {
		if (a->before[fd / 8] & (1u << (fd % 8)) || !pm_activate_is_open(fd))
			continue;
		if (pm_activate_is_placeholder(a, fd)) {
			found = fd;
			candidates++;
		}
	}
	if (candidates != 1) {
		snprintf(err, errlen, "socket activation: %s libmilter's own listening socket "
		    "(found %d): cannot put systemd's in its place", candidates ? "ambiguous" :
		    "cannot find", candidates);
		pm_activate_abandon(a);
		return -1;
	}
	if (dup2(a->fd, found) < 0) {
		snprintf(err, errlen, "socket activation: dup2(%d, %d): %s", a->fd, found,
		    strerror(errno));
		pm_activate_abandon(a);
		return -1;
	}
	/* dup2() clears close-on-exec on the copy; libmilter set it on its own. */
	(void)fcntl(found, F_SETFD, FD_CLOEXEC);
	close(a->fd);
	a->fd = -1;
	pm_activate_cleanup(a);
	log_info("socket activation: serving on %s (descriptor %d from systemd); milter_listen "
	    "is ignored", a->where, found);
	return 0;
}

void
pm_activate_abandon(struct pm_activated *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	pm_activate_cleanup(a);
}

int
pm_activate_pending(void)
{
#ifdef HAVE_LIBSYSTEMD
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");

	return fds != NULL && fds[0] != '\0' && strcmp(fds, "0") != 0 &&
	    (pid == NULL || strtol(pid, NULL, 10) == (long)getpid());
#else
	return 0;	/* built without it, sdnotify_listen_fds() takes nothing */
#endif
}
