/* config.h - postern.conf: one key = value file read by both programs, errors name file and line. */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_FILE	SYSCONFDIR "/postern/postern.conf"
#define CONFIG_ERR_MAX		512

/* A key this file does not know, kept for the policy modules (`<module>_<key>`). */
struct config_extra {
	char *key;
	char *value;
	char *file;
	int line;
	int claimed;		/* set by the module loader when a module accepts it */
};

typedef struct postern_config {
	char *path;			/* file it was read from, "" for built-in defaults */
	/* Logging. */
	char *log;			/* "stderr" or "syslog" */
	/* Frontend. */
	char *smtpd_listen;
	char *smtpd_tls_listen;
	char *smtpd_hostname;
	char *smtpd_tls_cert_file;
	char *smtpd_tls_key_file;
	char *smtpd_tls_priority;	/* GnuTLS priority string, "" = built-in (forward-secret AEAD) */
	int smtpd_require_tls;		/* -1 until resolved: yes when a cert is set */
	int smtpd_tls_ask_ccert;	/* ask (not require) a client certificate, for milter macros */
	int smtpd_require_auth;
	char *smtpd_user;		/* drop privileges to this user after binding */
	unsigned smtpd_max_connections;
	unsigned smtpd_max_connections_per_ip;
	unsigned smtpd_max_recipients;
	unsigned smtpd_max_errors;
	uint64_t message_size_limit;
	unsigned smtpd_command_timeout;	/* seconds */
	unsigned smtpd_data_timeout;
	unsigned smtpd_min_data_rate;	/* bytes/s a DATA/BDAT transfer must keep up; 0: none */
	unsigned smtpd_tls_handshake_timeout;	/* seconds, absolute */
	char *smtpd_proxy_protocol;	/* "no" or the trusted proxies' networks (frontend/proxy_nets.c) */
	unsigned smtpd_proxy_timeout;	/* seconds for the whole PROXY header */
	char *metrics_listen;		/* product.md's key: each daemon's own below when that is "" */
	char *smtpd_metrics_listen;	/* "" or host:port of GET /metrics */
	unsigned smtpd_stress_threshold;	/* % of smtpd_max_connections that starts stress mode; 0: never */
	unsigned smtpd_stress_timeout;	/* every client deadline in stress mode, at most */
	char *smtpd_bare_newline;	/* "reject" or "normalize" */
	unsigned smtpd_auth_workers;
	char *smtpd_milters;
	unsigned milter_timeout;	/* seconds, frontend side */
	char *milter_default_action;	/* tempfail | accept | reject */
	int milter_reuse;		/* keep milter connections for the next session */
	int smtpd_milter_check_owner;	/* refuse milter sockets others could own */
	char *smtpd_spool_dir;
	/* Both programs. */
	char *accounts_file;
	/* Milter. */
	char *milter_listen;
	char *milter_user;
	unsigned milter_socket_mode;	/* unix milter_listen: permission bits */
	char *milter_socket_group;	/* "" = milter_user's group */
	char *milter_metrics_listen;	/* "" or host:port of GET /metrics */
	unsigned policy_subject_max_length;
	char *policy_alignment;		/* strict | relaxed */
	int policy_alignment_sender;	/* Sender: aligns too */
	char *policy_modules;
	char *policy_attachment_types_reject;	/* libmagic MIME types, comma-separated */
	int policy_attachment_type_mismatch;
	unsigned policy_max_mime_parts;
	unsigned policy_max_mime_depth;
	/* Relay: the next hop. */
	char *relay_host;		/* empty: the relay hands nothing on */
	char *relay_helo_name;		/* empty in the file: smtpd_hostname */
	char *relay_tls;		/* none | may | encrypt | verify */
	char *relay_tls_ca_file;	/* empty: the system trust store */
	char *relay_auth_file;		/* one line "username password" */
	unsigned relay_concurrency;
	/* Relay (queue side). */
	char *relay_user;		/* drop privileges to this user after start-up */
	unsigned relay_backoff_min;	/* seconds */
	unsigned relay_backoff_max;
	unsigned relay_max_queue_lifetime;
	int relay_bounce;
	unsigned relay_status_lifetime;
	char *relay_metrics_listen;	/* "" or host:port of GET /metrics */

	struct config_extra *extras;
	size_t nextras;
	int *key_lines;			/* per known key: the line that set it, 0 = default (config_where) */
} postern_config;

/*
 * Read path (NULL: built-in defaults only). On error returns NULL and puts
 * "FILE:LINE: KEY: reason" (or "FILE:LINE: reason" for a broken line) into err. A missing file is an error unless
 * missing_ok (for the default path).
 */
postern_config *config_load(const char *path, int missing_ok, char *err, size_t errlen);
/* The same from a memory image (tests, fuzzing); name is used in errors. */
postern_config *config_parse(const char *name, const char *data, size_t len, char *err, size_t errlen);
void config_free(postern_config *cfg);

/* Print every key with its effective value, `postconf -n` style. */
void config_print(const postern_config *cfg, FILE *out);

/* Parsers shared with the module API: 0 ok, -1 bad value. */
int config_parse_duration(const char *s, unsigned *out);
int config_parse_size(const char *s, uint64_t *out);
int config_parse_bool(const char *s, int *out);
int config_parse_uint(const char *s, unsigned *out);
/* Octal permission bits, 0 to 0777 (a leading 0 optional). */
int config_parse_mode(const char *s, unsigned *out);

/* Extras not claimed by any module: returns the first one's "FILE:LINE: KEY: unknown key" in err, -1; else 0. */
int config_check_extras(const postern_config *cfg, char *err, size_t errlen);

/*
 * For a program that loads no modules (postern-smtpd): claim the extras
 * "<name>_<key>" whose <name> is the file name of a module in policy_modules
 * (".../<name>.so"); what is left can belong to nobody.
 */
void config_claim_module_files(postern_config *cfg);

/*
 * Where key was set, for errors found after loading: "FILE:LINE: KEY",
 * or "FILE: KEY" when it has its default ("defaults: KEY" without a file).
 */
void config_where(const postern_config *cfg, const char *key, char *out, size_t outsize);

/*
 * Split a comma-separated list: calls fn for each trimmed, non-empty item.
 * Stops and returns fn's value when it is non-zero.
 */
int config_foreach_item(const char *list, int (*fn)(void *ctx, const char *item), void *ctx);

#endif
