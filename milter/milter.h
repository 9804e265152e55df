/* milter.h - postern-milter: libmilter callbacks over the policy engine, and the state main.c swaps on SIGHUP. */
#ifndef POSTERN_MILTER_H
#define POSTERN_MILTER_H

#include <stddef.h>

#include "config.h"
#include "engine.h"

/*
 * External interface. main.c builds the first engine, hands it over with
 * pm_start(), opens the socket with pm_open(), runs smfi_main() and, from
 * its signal loop, calls pm_reload() and pm_drain(). The callbacks in
 * milter.c read the engine under a read lock; pm_reload() takes the write
 * lock, so a reload never runs in the middle of a callback.
 */

/*
 * The milter owns e and cfg from now on; pm_free() releases them. tcp: the
 * socket is TCP (inet, inet6), not a unix socket (see pm_steps_for).
 */
void pm_start(policy_engine *e, postern_config *cfg, int tcp);

/*
 * smfi_setconn(conn) + smfi_register() + smfi_opensocket(). conn is in
 * libmilter syntax (inet:PORT@HOST, inet6:PORT@HOST, unix:PATH).
 * 0, or -1 with a reason in err.
 */
int pm_open(const char *conn, char *err, size_t errlen);

/*
 * SIGHUP: swap in cfg (ownership passes on success; on failure the caller
 * frees it and the old config keeps serving). 0, or -1 with err.
 */
int pm_reload(postern_config *cfg, char *err, size_t errlen);

/* SMTP sessions with state now (the metrics' gauge). */
unsigned pm_sessions_open(void);

/* The config in force (main thread only: it is the one that swaps it). */
const postern_config *pm_config(void);

/*
 * SIGTERM: refuse new MTA connections and new transactions (421 4.3.2),
 * wait up to `seconds` for those in flight to end. Returns the number of
 * SMTP sessions still open (an MTA connection idle between two sessions,
 * after SMFIC_QUIT_NC, holds none). Afterwards the engine is locked out for
 * good: callbacks that still come tempfail.
 */
unsigned pm_drain(unsigned seconds);

/* Free the engine and config; only when pm_drain() returned 0. */
void pm_free(void);

#endif
