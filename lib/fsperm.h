/* fsperm.h - file mode and ownership checks on secrets, spool directories and milter sockets. */
#ifndef POSTERN_FSPERM_H
#define POSTERN_FSPERM_H

#include <stddef.h>
#include <sys/types.h>

#define FSPERM_MSG_MAX	512

/*
 * Each check returns 0 when the path is fine, 1 when it is not (a one-line
 * reason naming the path and its mode in msg), -1 when it cannot be
 * examined (stat failed: the reason, with strerror, in msg).
 */

/* A secret (accounts file, TLS key): readable or writable by others. */
int fsperm_secret(const char *path, char *msg, size_t msglen);
/* A directory others may write into (spool, tmp/, new/). Absent: 0. */
int fsperm_dir_shared(const char *path, char *msg, size_t msglen);
/*
 * A unix socket postern-smtpd connects to: the socket file or the
 * directory holding it is writable by others (anyone could put their own
 * socket there).
 */
int fsperm_socket_shared(const char *path, char *msg, size_t msglen);
/*
 * The directory of a socket postern-milter creates: writable by others,
 * or owned by a uid other than root and those in uids (n of them).
 */
int fsperm_socket_dir(const char *sockpath, const uid_t *uids, size_t n, char *msg,
    size_t msglen);

#endif
