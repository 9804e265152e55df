/*
 * ctl.h - requests from postern-queue to postern-relay. The relay owns
 * the queue state; the tool never writes it. A request is a small file
 * ("hold ID\n") written under a dot name in SPOOL/ctl/, fsync'ed, then
 * renamed to its final name: the relay's inotify sees it whole or not at
 * all, applies it (journalled), then removes it. Requests made while the
 * relay is down wait in ctl/ and are applied, in name (= time) order,
 * when it starts.
 */
#ifndef POSTERN_RELAY_CTL_H
#define POSTERN_RELAY_CTL_H

#include <stddef.h>

#define CTL_FILE_MAX	256
#define CTL_ID_MAX	64

enum ctl_cmd { CTL_FLUSH = 0, CTL_HOLD, CTL_RELEASE, CTL_DELETE };

/* The command's word ("flush", "hold", ...), or NULL. */
const char *ctl_cmd_name(int cmd);
/* "hold ID\n" (id "" only for flush: all). 0 ok, -1 not a request. */
int ctl_parse(const char *data, size_t len, int *cmd, char id[CTL_ID_MAX]);
/* A message id as the spool names them (not empty, no '/', no leading '.'). */
int ctl_id_ok(const char *id);
/*
 * Write a request into spool_dir/ctl/ (created if missing). 0 and the
 * file's name in name (for waiting on it), or -1 with err.
 */
int ctl_submit(const char *spool_dir, int cmd, const char *id, char *name, size_t namelen,
    char *err, size_t errlen);

#endif
