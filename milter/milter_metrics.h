/*
 * milter_metrics.h - postern-milter's metrics (milter_metrics_listen):
 * sessions, messages, and policy verdicts by stage, verdict and rule,
 * served by evhttp on a thread of its own (libmilter owns the main loop).
 */
#ifndef POSTERN_MILTER_METRICS_H
#define POSTERN_MILTER_METRICS_H

#include <stddef.h>

/* Register the series; nconn reads the SMTP sessions open now. */
void pm_metrics_init(unsigned (*nconn)(void));
/* Bind listen (before the privileges go): the socket, or -1 with err. */
int pm_metrics_bind(const char *listen, char *err, size_t errlen);
/* Serve on fd from a thread of its own. */
void pm_metrics_start(int fd);
/* Stop the thread; free the series too when no callback can run any more. */
void pm_metrics_stop(int free_series);

void pm_metrics_session(void);
/* One per logged verdict (verdict.c): every message at EOM, refusals at any stage. */
void pm_metrics_verdict(const char *stage, const char *verdict, const char *rule);

#endif
