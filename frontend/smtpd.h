/*
 * smtpd.h - what the parts of postern-smtpd share: the server context
 * (settings, TLS credentials, AUTH pool, spool, milter list, counters).
 * One instance, owned by main.c; sessions hold a pointer to it.
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stdint.h>

#include "clock_ms.h"
#include "commands.h"

struct event_base;
struct postern_config;
struct session;
typedef struct tls_server tls_server;
typedef struct auth_pool auth_pool;
typedef struct auth_backoff auth_backoff;
typedef struct spool spool;
typedef struct mc_list mc_list;
typedef struct server server;
typedef struct proxy_nets proxy_nets;

#define SMTPD_SHUTDOWN_GRACE	30	/* seconds in-flight transactions get after SIGTERM */

struct smtpd {
	struct event_base *base;
	struct postern_config *cfg;	/* current settings (replaced on SIGHUP) */
	struct cmd_conf conf;		/* derived from cfg for the protocol core */
	tls_server *tls;		/* NULL: no certificate, no STARTTLS */
	auth_pool *auth;
	auth_backoff *backoff;
	spool *spool;
	mc_list *milters;		/* current smtpd_milters (sessions hold references) */
	server *srv;
	proxy_nets *proxy;		/* NULL: smtpd_proxy_protocol = no */
	int normalize_bare;		/* smtpd_bare_newline = normalize */
	int shutting_down;
	uint64_t sessions_total;	/* for session ids */
};

#endif
