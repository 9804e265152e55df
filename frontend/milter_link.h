/*
 * milter_link.h - placeholder milter link of postern-smtpd: it only checks
 * that every configured milter socket accepts a connection (at MAIL FROM).
 * The milter protocol itself (SMFIC_* events, replies) is the next issue's
 * milter client; until then a reachable milter does not judge messages.
 */
#ifndef POSTERN_MILTER_LINK_H
#define POSTERN_MILTER_LINK_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
typedef struct milter_list milter_list;
typedef struct milter_check milter_check;

/*
 * Parse smtpd_milters ("inet:HOST:PORT, inet6:[ADDR]:PORT, unix:/path"),
 * resolving host names now (startup and SIGHUP, never per message).
 * "" gives an empty list. NULL with err on a bad entry.
 */
milter_list *milter_list_parse(const char *spec, char *err, size_t errlen);
void milter_list_free(milter_list *l);
size_t milter_list_count(const milter_list *l);
/* Entry i as written (logs). */
const char *milter_list_name(const milter_list *l, size_t i);

/* ok = 1: every milter accepted a connection within the timeout. */
typedef void (*milter_check_done)(void *arg, int ok);

/*
 * Connect to each milter (non-blocking, in parallel) and close again.
 * done runs later on the loop, never from inside this call. The list must
 * outlive the check (the server keeps replaced lists until shutdown).
 */
milter_check *milter_check_start(struct event_base *base, const milter_list *l,
    unsigned timeout_s, milter_check_done done, void *arg);
/* Stop a check whose session went away; done is not called. */
void milter_check_cancel(milter_check *c);

#endif
