/*
 * smtpd_metrics.h - what postern-smtpd counts for its metrics endpoint
 * (the names and labels are listed in postern-smtpd(8), METRICS). The
 * counters always run (an atomic add each); smtpd_metrics_listen only
 * decides whether anyone can read them.
 */
#ifndef POSTERN_SMTPD_METRICS_H
#define POSTERN_SMTPD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "milter_client/milter_client.h"	/* enum mc_fail_kind */

typedef struct metrics metrics;

enum smtpd_refusal { SMR_MAX_CONNECTIONS, SMR_PER_IP, SMR_SHUTDOWN, SMR_PROXY, SMR_COUNT };
enum smtpd_auth_result { SMA_OK, SMA_FAILED, SMA_BLOCKED, SMA_ERROR, SMA_COUNT };

/* Register every series; conn_fn reads the open connections. */
void smtpd_metrics_init(uint64_t (*conn_fn)(void *), void *arg);
void smtpd_metrics_free(void);
const metrics *smtpd_metrics_get(void);

void smtpd_metrics_connection(void);
void smtpd_metrics_refused(enum smtpd_refusal why);
void smtpd_metrics_tls(const char *version);	/* NULL: the handshake failed */
void smtpd_metrics_auth(enum smtpd_auth_result r);
/* A reply of the table (enum reply_id), or a milter's own text ("550 5.7.1 ..."). */
void smtpd_metrics_reply_id(int id);
void smtpd_metrics_reply_text(const char *text);
void smtpd_metrics_queued(uint64_t bytes);
/* A milter verdict (enum mc_action) and its round trip. */
void smtpd_metrics_milter(int action, uint64_t round_trip_us);
/*
 * A milter given up on for a session (the milter client's failure hook):
 * milter is its smtpd_milters entry. smtpd_metrics_milter_declare() makes
 * its series at 0 beforehand (startup, reload) so that increase() sees the
 * first failure.
 */
void smtpd_metrics_milter_failure(const char *milter, enum mc_fail_kind kind);
void smtpd_metrics_milter_declare(const char *milter);
uint64_t smtpd_metrics_now_us(void);

#endif
