/*
 * main.c - postern-smtpd: command line, config and accounts, listeners,
 * the one privilege drop, signals (SIGTERM drains, SIGHUP reloads) and
 * the event loop.
 */
#include "autoconf.h"		/* HAVE_MALLOPT, before any system header */

#include "accounts.h"
#include "auth.h"
#include "auth_backoff.h"
#include "config.h"
#include "fdslots.h"
#include "fsperm.h"
#include "endpoint.h"
#include "log.h"
#include "milter_client/milter_client.h"
#include "proxy_nets.h"
#include "metrics_http.h"
#include "sdnotify.h"
#include "smtpd_metrics.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "spool.h"
#include "tls.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <grp.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SMTPD_BACKOFF_ENTRIES	100000
#define SMTPD_TEST_CONNECT_S	5	/* -t: how long a milter may take to accept */

static struct smtpd smtpd;
static const char *config_path;
static int config_missing_ok;
static struct event *ev_grace;
static struct event *ev_status;
static int metrics_fd = -1;		/* bound before the privileges go */
static metrics_http *metrics_srv;

#define SMTPD_STATUS_INTERVAL	5	/* seconds between systemd STATUS= updates (sent when changed) */

static void
usage(int asked)
{
	fprintf(usage_stream(asked), "usage: postern-smtpd [-dhnstV] [-c config-file]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -d       debug logging\n"
	    "  -h       this help (--help)\n"
	    "  -n       print the effective configuration and exit\n"
	    "  -s       log to syslog instead of stderr\n"
	    "  -t       check the configuration, certificates, accounts and milters, and exit\n"
	    "  -V       print the version and exit (--version)\n", CONFIG_DEFAULT_FILE);
	usage_exit(asked);
}

/* Fill the protocol core's settings from the config (naccounts: the table loaded with it). */
static void
smtpd_apply_config(struct smtpd *d, postern_config *cfg, size_t naccounts)
{
	d->cfg = cfg;
	d->conf.hostname = cfg->smtpd_hostname;
	d->conf.size_limit = cfg->message_size_limit;
	d->conf.max_rcpts = cfg->smtpd_max_recipients;
	d->conf.max_errors = cfg->smtpd_max_errors;
	d->conf.require_tls = cfg->smtpd_require_tls;
	d->conf.require_auth = cfg->smtpd_require_auth;
	/* Without a single account AUTH cannot succeed: do not offer it (EHLO). */
	d->conf.auth_offered = naccounts > 0;
	d->normalize_bare = strcmp(cfg->smtpd_bare_newline, "normalize") == 0;
}

/*
 * The descriptor numbers the sessions may use (fdslots.c makes libevent's
 * entries for them at start): per session its client, a socket per milter
 * and its spool file, plus the spool's pool and some for the listeners,
 * logs and the metrics endpoint. Unlimited connections: FDSLOTS_MAX.
 */
static unsigned
smtpd_fd_budget(const postern_config *cfg, size_t nmilters)
{
	uint64_t n = (uint64_t)cfg->smtpd_max_connections * (2 + nmilters) + SPOOL_POOL_MAX + 64;

	return cfg->smtpd_max_connections == 0 || n > FDSLOTS_MAX ? FDSLOTS_MAX : (unsigned)n;
}

/* Thousands of sessions need thousands of descriptors: take what the hard limit allows. */
static void
smtpd_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
}

/*
 * Freed heap kept by malloc instead of returned to the kernel. The heap
 * grows and shrinks with the number of sessions in flight (their buffers
 * and milter packets): with glibc's default (128 KiB at first) it was
 * trimmed and grown again a few hundred times a second under load, each
 * time faulting in and zeroing the pages anew; keeping up to 8 MiB cut
 * postern-smtpd's CPU per message with a milter by about a fifth (bench/README.md,
 * postern-smtpd benchmark). It also fixes the mmap threshold at 128 KiB.
 */
#define SMTPD_HEAP_KEEP	(8 * 1024 * 1024)

static void
smtpd_keep_heap(void)
{
#if defined(HAVE_MALLOPT) && defined(M_TRIM_THRESHOLD)
	if (mallopt(M_TRIM_THRESHOLD, SMTPD_HEAP_KEEP) != 1)
		log_debug("mallopt(M_TRIM_THRESHOLD) refused (a sanitizer's allocator?)");
#endif
}

static void
smtpd_mkdir_owned(const char *path, uid_t uid, gid_t gid, int chown_it)
{
	if (mkdir(path, 0750) != 0 && errno != EEXIST)
		log_fatal("mkdir %s", path);
	if (chown_it && chown(path, uid, gid) != 0)
		log_fatal("chown %s", path);
}

/*
 * Spool directories others can write: any local user could drop a message
 * into new/ or remove one. One line each (log, or stderr with to_stderr
 * for -t); returns how many.
 */
static int
smtpd_check_spool(const postern_config *cfg, int to_stderr)
{
	static const char *const subs[] = { "", "/tmp", "/new" };
	char path[4096], msg[FSPERM_MSG_MAX];
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", cfg->smtpd_spool_dir, subs[i]);
		if (fsperm_dir_shared(path, msg, sizeof(msg)) == 0)
			continue;
		if (to_stderr)
			fprintf(stderr, "postern-smtpd: smtpd_spool_dir %s\n", msg);
		else
			log_warnx("smtpd_spool_dir %s: refusing to start", msg);
		n++;
	}
	return n;
}

/* Secrets others can read (accounts file, TLS key): a line each; returns how many. */
static int
smtpd_check_secrets(const postern_config *cfg, int to_stderr)
{
	const char *keys[2] = { "accounts_file", "smtpd_tls_key_file" };
	const char *files[2] = { cfg->accounts_file, cfg->smtpd_tls_key_file };
	char msg[FSPERM_MSG_MAX];
	int i, n = 0;

	for (i = 0; i < 2; i++) {
		if (files[i][0] == '\0' || fsperm_secret(files[i], msg, sizeof(msg)) <= 0)
			continue;
		if (to_stderr)
			fprintf(stderr, "postern-smtpd: %s %s\n", keys[i], msg);
		else
			log_warnx("%s %s", keys[i], msg);
		n++;
	}
	return n;
}

/*
 * The one place where privileges change. Runs after the listeners are
 * bound and the TLS key is read. As root with smtpd_user set: create the
 * spool directories owned by that user, then setgroups/setgid/setuid and
 * check that root cannot come back. Not root, or smtpd_user empty: stay
 * as we are (tests, unprivileged ports).
 */
static void
smtpd_drop_privileges(const postern_config *cfg)
{
	const char *dir = cfg->smtpd_spool_dir;
	char sub[4096];
	struct passwd *pw;
	int drop = geteuid() == 0 && cfg->smtpd_user[0] != '\0';
	uid_t uid = 0;
	gid_t gid = 0;

	if (drop) {
		if ((pw = getpwnam(cfg->smtpd_user)) == NULL)
			log_fatalx("%s: smtpd_user \"%s\": no such user", cfg->path, cfg->smtpd_user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (uid == 0)
			log_fatalx("%s: smtpd_user \"%s\" is root", cfg->path, cfg->smtpd_user);
	}
	smtpd_mkdir_owned(dir, uid, gid, drop);
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	smtpd_mkdir_owned(sub, uid, gid, drop);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	smtpd_mkdir_owned(sub, uid, gid, drop);
	if (drop) {
		if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			log_fatal("cannot drop privileges to %s", cfg->smtpd_user);
		if (setuid(0) == 0)
			log_fatalx("privileges were not dropped (setuid(0) succeeded)");
		log_info("running as %s (uid %u)", cfg->smtpd_user, (unsigned)uid);
	}
	/* Nothing this process could exec may gain privileges (set-uid, file capabilities). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_fatal("prctl(PR_SET_NO_NEW_PRIVS)");
}

/* Each milter's failure series, at 0 before its first failure. */
static void
smtpd_milters_declare(const mc_list *ml)
{
	for (size_t i = 0; i < mc_list_count(ml); i++)
		smtpd_metrics_milter_declare(mc_list_name(ml, i));
}

/* smtpd_milters with the milter_* settings; reused connections are kept per milter. */
static mc_list *
smtpd_milters_parse(const postern_config *cfg, char *err, size_t errlen)
{
	struct mc_options opt = {
		.timeout_s = cfg->milter_timeout,
		.default_action = cfg->milter_default_action,
		.tmpdir = NULL,
		.max_body = 0,
		.pool_max = MC_POOL_MAX_DEFAULT,
		.reuse = cfg->milter_reuse,
		.check_owner = cfg->smtpd_milter_check_owner,
		.owner_uid = -1,
	};
	struct passwd *pw;
	char why[CONFIG_ERR_MAX / 2], where[CONFIG_ERR_MAX / 4];
	mc_list *ml;

	/* The milter may run as milter_user, as postern-milter does when started as root. */
	if (cfg->milter_user[0] != '\0' && (pw = getpwnam(cfg->milter_user)) != NULL)
		opt.owner_uid = (long)pw->pw_uid;
	if ((ml = mc_list_parse(cfg->smtpd_milters, &opt, why, sizeof(why))) == NULL) {
		config_where(cfg, "smtpd_milters", where, sizeof(where));
		snprintf(err, errlen, "%.127s: %.255s", where, why);
	}
	return ml;
}

/*
 * -t: check what a start would read, without binding or changing
 * anything: config keys, certificate and key (readable, matching, TLS
 * priorities), accounts file, milter list (each milter reachable, and its
 * owner), smtpd_user, and the modes of the secrets and the spool. Every
 * problem on its own line (stderr); one summary line on stdout when there
 * is none. Returns the exit status.
 */
static int
smtpd_selftest(postern_config *cfg)
{
	char err[CONFIG_ERR_MAX];
	const char *where = cfg->path[0] ? cfg->path : "defaults";
	accounts *acc;
	mc_list *ml;
	tls_server *tls = NULL;
	int n = 0;
	size_t i;

	config_claim_module_files(cfg);
	for (i = 0; i < cfg->nextras; i++) {
		if (!cfg->extras[i].claimed) {
			fprintf(stderr, "postern-smtpd: %s:%d: %s: unknown key\n",
			    cfg->extras[i].file, cfg->extras[i].line, cfg->extras[i].key);
			n++;
		}
	}
	if ((acc = accounts_load(cfg->accounts_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-smtpd: accounts_file %s\n", err);
		n++;
	}
	accounts_free(acc);
	if ((ml = smtpd_milters_parse(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-smtpd: %s\n", err);
		n++;
	}
	for (i = 0; i < mc_list_count(ml); i++) {
		if (mc_list_probe(ml, i, SMTPD_TEST_CONNECT_S, err, sizeof(err)) != 0) {
			fprintf(stderr, "postern-smtpd: smtpd_milters %s: %s\n", mc_list_name(ml, i), err);
			n++;
		}
	}
	mc_list_free(ml);
	if (cfg->smtpd_tls_cert_file[0] != '\0') {
		if ((tls = tls_server_new(cfg->smtpd_tls_cert_file, cfg->smtpd_tls_key_file, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "postern-smtpd: smtpd_tls_cert_file/smtpd_tls_key_file %s\n", err);
			n++;
		}
	}
	if (tls == NULL && cfg->smtpd_tls_priority[0] != '\0') {
		fprintf(stderr, "postern-smtpd: %s: smtpd_tls_priority is set but TLS is not\n",
		    where);
		n++;
	}
	if (tls != NULL && tls_server_set_priority(tls, cfg->smtpd_tls_priority, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "postern-smtpd: %s: %s\n", where, err);
		n++;
	}
	tls_server_free(tls);
	if (cfg->smtpd_require_tls && cfg->smtpd_tls_cert_file[0] == '\0') {
		fprintf(stderr, "postern-smtpd: %s: smtpd_require_tls = yes needs "
		    "smtpd_tls_cert_file\n", where);
		n++;
	}
	if (cfg->smtpd_tls_listen[0] != '\0' && cfg->smtpd_tls_cert_file[0] == '\0') {
		fprintf(stderr, "postern-smtpd: %s: smtpd_tls_listen needs smtpd_tls_cert_file\n",
		    where);
		n++;
	}
	if (cfg->smtpd_user[0] != '\0' && getpwnam(cfg->smtpd_user) == NULL) {
		fprintf(stderr, "postern-smtpd: %s: smtpd_user \"%s\": no such user\n", where,
		    cfg->smtpd_user);
		n++;
	}
	{
		proxy_nets *pn;
		struct endpoint ep;
		char why[128];

		if (proxy_nets_parse(cfg->smtpd_proxy_protocol, &pn, err, sizeof(err)) != 0) {
			fprintf(stderr, "postern-smtpd: %s: %s\n", where, err);
			n++;
		}
		proxy_nets_free(pn);
		/* Parsed, not bound: the running daemon holds the port. */
		if (cfg->smtpd_metrics_listen[0] != '\0' && endpoint_parse(cfg->smtpd_metrics_listen,
		    ENDPOINT_ALLOW_BARE, 0, &ep, why, sizeof(why)) != 0) {
			fprintf(stderr, "postern-smtpd: %s: smtpd_metrics_listen: bad address "
			    "\"%.200s\" (HOST:PORT or [V6]:PORT): %s\n", where,
			    cfg->smtpd_metrics_listen, why);
			n++;
		}
	}
	n += smtpd_check_secrets(cfg, 1);
	n += smtpd_check_spool(cfg, 1);
	if (n == 0)
		printf("postern-smtpd: %s: configuration OK\n", where);
	return n ? 1 : 0;
}

/* SIGHUP: settings, accounts, certificate, milters. Listeners, spool and user need a restart. */
static void
smtpd_reload(struct smtpd *d)
{
	char err[CONFIG_ERR_MAX];
	postern_config *cfg, *old = d->cfg;
	accounts *acc;
	mc_list *ml;
	proxy_nets *pn;

	log_info("SIGHUP: reloading %s", config_path ? config_path : "(defaults)");
	if ((cfg = config_load(config_path, config_missing_ok, err, sizeof(err))) == NULL) {
		log_warnx("reload failed, keeping the running settings: %s", err);
		return;
	}
	config_claim_module_files(cfg);
	if (config_check_extras(cfg, err, sizeof(err)) != 0) {
		log_warnx("reload failed, keeping the running settings: %s", err);
		config_free(cfg);
		return;
	}
	if (proxy_nets_parse(cfg->smtpd_proxy_protocol, &pn, err, sizeof(err)) != 0) {
		log_warnx("reload failed, keeping the running settings: %s: %s", cfg->path, err);
		config_free(cfg);
		return;
	}
	if ((acc = accounts_load(cfg->accounts_file, err, sizeof(err))) == NULL) {
		log_warnx("reload failed, keeping the running settings: %s", err);
		proxy_nets_free(pn);
		config_free(cfg);
		return;
	}
	if ((ml = smtpd_milters_parse(cfg, err, sizeof(err))) == NULL) {
		log_warnx("reload failed, keeping the running settings: %s", err);
		proxy_nets_free(pn);
		accounts_free(acc);
		config_free(cfg);
		return;
	}
	if (strcmp(cfg->smtpd_listen, old->smtpd_listen) != 0 ||
	    strcmp(cfg->smtpd_tls_listen, old->smtpd_tls_listen) != 0 ||
	    strcmp(cfg->smtpd_spool_dir, old->smtpd_spool_dir) != 0 ||
	    strcmp(cfg->smtpd_user, old->smtpd_user) != 0 ||
	    strcmp(cfg->smtpd_tls_priority, old->smtpd_tls_priority) != 0 ||
	    strcmp(cfg->smtpd_metrics_listen, old->smtpd_metrics_listen) != 0)
		log_warnx("smtpd_listen, smtpd_tls_listen, smtpd_spool_dir, smtpd_user, "
		    "smtpd_tls_priority and smtpd_metrics_listen changes take effect at restart");
	if (cfg->smtpd_tls_cert_file[0] != '\0') {
		if (d->tls != NULL) {
			if (tls_server_reload(d->tls, cfg->smtpd_tls_cert_file,
			    cfg->smtpd_tls_key_file, err, sizeof(err)) != 0)
				log_warnx("TLS reload failed, keeping the old certificate: %s", err);
		} else if ((d->tls = tls_server_new(cfg->smtpd_tls_cert_file,
		    cfg->smtpd_tls_key_file, err, sizeof(err))) == NULL) {
			log_warnx("TLS not enabled: %s", err);
		} else if (tls_server_set_priority(d->tls, cfg->smtpd_tls_priority, err,
		    sizeof(err)) != 0) {
			log_warnx("TLS not enabled: %s", err);
			tls_server_free(d->tls);
			d->tls = NULL;
		}
		if (d->tls != NULL)
			tls_server_ask_ccert(d->tls, cfg->smtpd_tls_ask_ccert);
	} else if (d->tls != NULL) {
		log_warnx("removing the TLS certificate takes effect at restart");
	}
	auth_pool_set_accounts(d->auth, acc);
	/* Sessions hold their own reference: the old list lives until the last one ends. */
	mc_list_free(d->milters);
	d->milters = ml;
	smtpd_milters_declare(ml);
	/* Connections waiting for their header were matched already: nothing holds the old list. */
	proxy_nets_free(d->proxy);
	d->proxy = pn;
	smtpd_apply_config(d, cfg, accounts_count(acc));
	config_free(old);
	log_info("reloaded: %zu account(s), %zu milter(s)", accounts_count(acc),
	    mc_list_count(ml));
}

static void
smtpd_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *d = arg;

	(void)fd;
	(void)what;
	log_info("shutdown: grace period over, closing %u session(s)", session_count());
	session_shutdown_all(d, 1);
	if (session_count() == 0)
		event_base_loopexit(d->base, NULL);
}

static uint64_t
smtpd_metrics_conns(void *arg)
{
	(void)arg;
	return session_count();
}

/* The STATUS= line systemctl status shows. */
static void
smtpd_status_text(char *buf, size_t len)
{
	snprintf(buf, len, "%u connection(s), %llu since start", session_count(),
	    (unsigned long long)smtpd.sessions_total);
}

static void
smtpd_notify_ready(struct smtpd *d)
{
	char st[128];

	(void)d;
	smtpd_status_text(st, sizeof(st));
	sdnotify_ready(st);
}

static void
smtpd_on_status(evutil_socket_t fd, short what, void *arg)
{
	char st[128];

	(void)fd;
	(void)what;
	(void)arg;
	smtpd_status_text(st, sizeof(st));
	sdnotify_status(st);
}

static void
smtpd_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct smtpd *d = arg;
	struct timeval tv = { SMTPD_SHUTDOWN_GRACE, 0 };

	(void)what;
	if (sig == SIGHUP) {
		/* Whatever the outcome, the settings in force are whole again afterwards. */
		sdnotify_reloading();
		smtpd_reload(d);
		smtpd_notify_ready(d);
		return;
	}
	if (d->shutting_down)
		return;
	sdnotify_stopping();
	log_info("signal %d: no new connections; %u session(s) get up to %d s to finish",
	    (int)sig, session_count(), SMTPD_SHUTDOWN_GRACE);
	d->shutting_down = 1;
	server_stop_accepting(d->srv);
	session_shutdown_all(d, 0);
	if (session_count() == 0) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	ev_grace = evtimer_new(d->base, smtpd_on_grace, d);
	evtimer_add(ev_grace, &tv);
}

int
main(int argc, char **argv)
{
	struct smtpd *d = &smtpd;
	char err[CONFIG_ERR_MAX];
	postern_config *cfg;
	accounts *acc;
	struct event *sigs[3];
	int ch, print = 0, use_syslog = 0, debug = 0, test = 0, i;

	while ((ch = getopt_long(argc, argv, "c:dhnstV", usage_long_options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(1);
			break;
		case 'V':
			usage_version("postern-smtpd");
			break;
		case 'd':
			debug = 1;
			break;
		case 'n':
			print = 1;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 't':
			test = 1;
			break;
		default:
			usage(0);
		}
	}
	if (optind != argc)
		usage(0);
	if (config_path == NULL) {
		/* The built-in path may be absent: then the built-in defaults apply. */
		config_path = CONFIG_DEFAULT_FILE;
		config_missing_ok = 1;
	}
	log_init("postern-smtpd", LOG_DEST_STDERR);
	if ((cfg = config_load(config_path, config_missing_ok, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-smtpd: %s\n", err);
		return 1;
	}
	if (test) {
		i = smtpd_selftest(cfg);
		config_free(cfg);
		return i;
	}
	/*
	 * Keys nobody knows may belong to a milter policy module, but only
	 * to one in policy_modules (<name>_<key> for .../<name>.so): anything
	 * else is a typo, whichever program it was meant for.
	 */
	config_claim_module_files(cfg);
	if (config_check_extras(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "postern-smtpd: %s\n", err);
		config_free(cfg);
		return 1;
	}
	if (print) {
		/* Every value a start reads, the milter list's syntax included (no connection). */
		mc_list *ml = smtpd_milters_parse(cfg, err, sizeof(err));

		if (ml == NULL) {
			fprintf(stderr, "postern-smtpd: %s\n", err);
			config_free(cfg);
			return 1;
		}
		mc_list_free(ml);
		config_print(cfg, stdout);
		config_free(cfg);
		return 0;
	}
	if (use_syslog || strcmp(cfg->log, "syslog") == 0)
		log_init("postern-smtpd", LOG_DEST_SYSLOG);
	log_set_debug(debug);
	if ((acc = accounts_load(cfg->accounts_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-smtpd: %s\n", err);
		config_free(cfg);
		return 1;
	}
	if ((d->milters = smtpd_milters_parse(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-smtpd: %s\n", err);
		goto fail;
	}
	if (cfg->smtpd_tls_cert_file[0] != '\0' &&
	    (d->tls = tls_server_new(cfg->smtpd_tls_cert_file, cfg->smtpd_tls_key_file,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-smtpd: %s\n", err);
		goto fail;
	}
	if (d->tls != NULL &&
	    tls_server_set_priority(d->tls, cfg->smtpd_tls_priority, err, sizeof(err)) != 0) {
		fprintf(stderr, "postern-smtpd: %s: %s\n", cfg->path, err);
		goto fail;
	}
	if (d->tls != NULL)
		tls_server_ask_ccert(d->tls, cfg->smtpd_tls_ask_ccert);
	if (proxy_nets_parse(cfg->smtpd_proxy_protocol, &d->proxy, err, sizeof(err)) != 0) {
		fprintf(stderr, "postern-smtpd: %s: %s\n", cfg->path[0] ? cfg->path : "defaults", err);
		goto fail;
	}
	smtpd_check_secrets(cfg, 0);
	/* Before binding: a refused start must not have listened, even briefly. */
	if (smtpd_check_spool(cfg, 0) != 0)
		goto fail;
	smtpd_raise_nofile();
	smtpd_keep_heap();
	signal(SIGPIPE, SIG_IGN);
	/* Before the SMTP listeners: a start refused for it must not have listened on them. */
	if (cfg->smtpd_metrics_listen[0] != '\0' &&
	    (metrics_fd = metrics_http_bind(cfg->smtpd_metrics_listen, "smtpd_metrics_listen", err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "postern-smtpd: %s: %s\n", cfg->path[0] ? cfg->path : "defaults", err);
		goto fail;
	}
	if ((d->srv = server_new(cfg->smtpd_listen, cfg->smtpd_tls_listen, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-smtpd: %s: %s\n", cfg->path[0] ? cfg->path : "defaults", err);
		goto fail;
	}
	if (cfg->smtpd_require_tls && d->tls == NULL) {
		fprintf(stderr, "postern-smtpd: %s: smtpd_require_tls = yes needs smtpd_tls_cert_file\n",
		    cfg->path);
		goto fail;
	}
	if (server_tls_listeners(d->srv) > 0 && d->tls == NULL) {
		fprintf(stderr, "postern-smtpd: %s: smtpd_tls_listen needs smtpd_tls_cert_file\n",
		    cfg->path);
		goto fail;
	}
	smtpd_drop_privileges(cfg);

	/* Threads (crypt pool, spool commits) hand results to the loop. */
	evthread_use_pthreads();
	if ((d->base = event_base_new()) == NULL)
		log_fatalx("cannot create the event loop");
	log_debug("fdslots: %u descriptor entries made ahead", fdslots_reserve(d->base,
	    smtpd_fd_budget(cfg, mc_list_count(d->milters))));
	smtpd_apply_config(d, cfg, accounts_count(acc));
	if ((d->spool = spool_open(d->base, cfg->smtpd_spool_dir, err, sizeof(err))) == NULL)
		log_fatalx("%s", err);
	d->auth = auth_pool_new(d->base, cfg->smtpd_auth_workers ? cfg->smtpd_auth_workers : 1);
	auth_pool_set_accounts(d->auth, acc);
	d->backoff = auth_backoff_new(SMTPD_BACKOFF_ENTRIES);
	server_start(d->srv, d);
	smtpd_metrics_init(smtpd_metrics_conns, NULL);
	/* The milter client reports its failures here; it knows nothing of the metrics. */
	mc_set_failure_hook(smtpd_metrics_milter_failure);
	smtpd_milters_declare(d->milters);
	if (metrics_fd >= 0) {
		metrics_srv = metrics_http_start(d->base, metrics_fd, smtpd_metrics_get());
		log_info("metrics on http://%s/metrics", cfg->smtpd_metrics_listen);
	}
	sigs[0] = evsignal_new(d->base, SIGTERM, smtpd_on_signal, d);
	sigs[1] = evsignal_new(d->base, SIGINT, smtpd_on_signal, d);
	sigs[2] = evsignal_new(d->base, SIGHUP, smtpd_on_signal, d);
	for (i = 0; i < 3; i++)
		evsignal_add(sigs[i], NULL);
	log_info("postern-smtpd ready: %s, %zu account(s), %zu milter(s), TLS %s, spool %s",
	    cfg->smtpd_hostname, accounts_count(acc), mc_list_count(d->milters),
	    d->tls ? "on" : "off", cfg->smtpd_spool_dir);
	/* Bound, privileges dropped, spool open: systemd may start what depends on us. */
	smtpd_notify_ready(d);
	{
		struct timeval tv = { SMTPD_STATUS_INTERVAL, 0 };
		ev_status = event_new(d->base, -1, EV_PERSIST, smtpd_on_status, NULL);
		event_add(ev_status, &tv);
	}

	event_base_dispatch(d->base);

	if (mc_list_count(d->milters) > 0) {
		uint64_t connects, reuses;

		mc_stats(&connects, &reuses);
		log_info("milter connections: %llu opened, %llu sessions on a reused one",
		    (unsigned long long)connects, (unsigned long long)reuses);
	}
	log_info("shutting down");
	metrics_http_free(metrics_srv);
	server_free(d->srv);
	spool_close(d->spool);		/* in-flight commits finish first */
	auth_pool_free(d->auth);
	auth_backoff_free(d->backoff);
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	if (ev_grace)
		event_free(ev_grace);
	event_free(ev_status);
	mc_list_free(d->milters);
	tls_server_free(d->tls);
	proxy_nets_free(d->proxy);
	config_free(d->cfg);
	smtpd_metrics_free();
	event_base_free(d->base);
	return 0;
fail:
	/* A start-up error: let go of what was loaded, so memory checkers see no leak. */
	if (metrics_fd >= 0)
		close(metrics_fd);
	proxy_nets_free(d->proxy);
	server_free(d->srv);
	tls_server_free(d->tls);
	mc_list_free(d->milters);
	accounts_free(acc);
	config_free(cfg);
	return 1;
}
