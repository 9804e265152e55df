/* fsperm.c - file mode and ownership checks on secrets, spool directories and milter sockets. */
#include "fsperm.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The directory part of path ("/" for "/x", "." without a slash). */
static void
fsperm_dirname(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		xstrlcpy(out, ".", outlen);
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

static int
fsperm_stat(const char *path, struct stat *st, char *msg, size_t msglen)
{
	if (stat(path, st) != 0) {
		snprintf(msg, msglen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
fsperm_secret(const char *path, char *msg, size_t msglen)
{
	struct stat st;

	if (fsperm_stat(path, &st, msg, msglen) != 0)
		return -1;
	if ((st.st_mode & (S_IROTH | S_IWOTH)) == 0)
		return 0;
	snprintf(msg, msglen, "%s: mode %04o lets every local user %s it (chmod o-rwx)", path,
	    (unsigned)(st.st_mode & 07777), st.st_mode & S_IROTH ? "read" : "change");
	return 1;
}

int
fsperm_dir_shared(const char *path, char *msg, size_t msglen)
{
	struct stat st;

	if (stat(path, &st) != 0 && errno == ENOENT)
		return 0;
	if (fsperm_stat(path, &st, msg, msglen) != 0)
		return -1;
	if ((st.st_mode & S_IWOTH) == 0)
		return 0;
	snprintf(msg, msglen, "%s: directory mode %04o lets every local user add or remove "
	    "files (chmod o-w)", path, (unsigned)(st.st_mode & 07777));
	return 1;
}

int
fsperm_socket_shared(const char *path, char *msg, size_t msglen)
{
	char dir[4096];
	struct stat st;

	if (fsperm_stat(path, &st, msg, msglen) != 0)
		return -1;
	if (st.st_mode & S_IWOTH) {
		snprintf(msg, msglen, "socket %s: mode %04o lets every local user connect as it",
		    path, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	fsperm_dirname(path, dir, sizeof(dir));
	if (fsperm_stat(dir, &st, msg, msglen) != 0)
		return -1;
	if (st.st_mode & S_IWOTH) {
		snprintf(msg, msglen, "socket %s: its directory %s (mode %04o) lets every local user "
		    "replace it", path, dir, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	return 0;
}

int
fsperm_socket_dir(const char *sockpath, const uid_t *uids, size_t n, char *msg, size_t msglen)
{
	char dir[4096];
	struct stat st;
	size_t i;

	fsperm_dirname(sockpath, dir, sizeof(dir));
	if (fsperm_stat(dir, &st, msg, msglen) != 0)
		return -1;
	if (st.st_mode & S_IWOTH) {
		snprintf(msg, msglen, "%s: directory %s (mode %04o) is writable by others: anyone "
		    "could replace the socket", sockpath, dir, (unsigned)(st.st_mode & 07777));
		return 1;
	}
	if (st.st_uid == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (st.st_uid == uids[i])
			return 0;
	snprintf(msg, msglen, "%s: directory %s is owned by uid %u, not root or the milter user",
	    sockpath, dir, (unsigned)st.st_uid);
	return 1;
}
