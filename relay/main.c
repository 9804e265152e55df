/*
 * main.c - postern-relay: command line, config, the next hop, the one
 * privilege drop, the queue's lock, signals (SIGTERM drains, SIGHUP
 * reloads the settings and rebuilds the next hop), the metrics endpoint,
 * systemd's notify messages and the event loop.
 */
#include "autoconf.h"

#include "check.h"
#include "clock_ms.h"
#include "config.h"
#include "deliver.h"
#include "endpoint.h"
#include "log.h"
#include "metrics_http.h"
#include "queue.h"
#include "relay_metrics.h"
#include "sdnotify.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RELAY_PROG		"postern-relay"
#define RELAY_SHUTDOWN_GRACE	30	/* s the deliveries in flight get after SIGTERM */
#define RELAY_CHECK_TIMEOUT	10	/* s for -t's connect to the next hop */
#define RELAY_STATUS_INTERVAL	1	/* s between systemd STATUS= updates (sent when changed) */

static const char *config_path;
static int config_missing_ok;
static struct event_base *base;
static queue *q;
static postern_config *cfg_hop;		/* the config at start: spool and user come from it */
static postern_config *cfg_cur;		/* the latest (SIGHUP) */
static relay_hop *hop_cur;		/* where new deliveries go */
static relay_hop **hops_old;		/* replaced by a SIGHUP, finishing what they hold */
static size_t nhops_old;
static struct event *ev_grace, *ev_status;
static int stopping;

static void
usage(int asked)
{
	fprintf(usage_stream(asked), "usage: %s [-dhnstV] [-c config-file]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -d       debug logging\n"
	    "  -h       this help (--help)\n"
	    "  -n       print the effective configuration and exit\n"
	    "  -s       log to syslog instead of stderr\n"
	    "  -t       check the configuration, the spool and the next hop, then exit\n"
	    "  -V       print the version and exit (--version)\n",
	    RELAY_PROG, CONFIG_DEFAULT_FILE);
	usage_exit(asked);
}

/* Keys with our prefix that nobody knows are typos (others may be a milter module's). */
static int
relay_check_extras(const postern_config *cfg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cfg->nextras; i++) {
		if (strncmp(cfg->extras[i].key, "relay_", 6) == 0) {
			snprintf(err, errlen, "%s:%d: unknown key \"%s\"", cfg->extras[i].file,
			    cfg->extras[i].line, cfg->extras[i].key);
			return -1;
		}
	}
	return 0;
}

static void
relay_mkdir(const char *dir, const char *sub, uid_t uid, gid_t gid, int chown_it)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s%s", dir, sub[0] ? "/" : "", sub);
	if (mkdir(path, sub[0] && strcmp(sub, "ctl") == 0 ? 0770 : 0750) != 0 && errno != EEXIST)
		log_fatal("mkdir %s", path);
	if (chown_it && chown(path, uid, gid) != 0)
		log_fatal("chown %s", path);
}

/*
 * The one place where privileges change, after the hop has read its
 * files (CA bundle, relay_auth_file). As root with relay_user set: the
 * spool's directories are created for that user, then setgroups, setgid,
 * setuid, and a check that root cannot come back. Otherwise (tests, or
 * relay_user empty) nothing changes.
 */
static void
relay_drop_privileges(const postern_config *cfg)
{
	static const char *const subs[] = { "", "tmp", "new", "state", "status", "ctl", "corrupt" };
	struct passwd *pw;
	int drop = geteuid() == 0 && cfg->relay_user[0] != '\0';
	uid_t uid = 0;
	gid_t gid = 0;
	size_t i;

	if (drop) {
		if ((pw = getpwnam(cfg->relay_user)) == NULL)
			log_fatalx("%s: relay_user \"%s\": no such user", cfg->path, cfg->relay_user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (uid == 0)
			log_fatalx("%s: relay_user \"%s\" is root", cfg->path, cfg->relay_user);
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		relay_mkdir(cfg->smtpd_spool_dir, subs[i], uid, gid, drop);
	if (!drop)
		return;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		log_fatal("cannot drop privileges to %s", cfg->relay_user);
	if (setuid(0) == 0)
		log_fatalx("privileges were not dropped (setuid(0) succeeded)");
	log_info("running as %s (uid %u)", cfg->relay_user, (unsigned)uid);
}

/* One relay per spool: SPOOL/relay.lock, held (flock) for the life of the process. */
static int
relay_lock(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/relay.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
		log_fatal("open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			log_fatalx("%s is locked: another postern-relay runs on this spool", path);
		log_fatal("flock %s", path);
	}
	return fd;
}

/*
 * The key relay_metrics_listen's value came from: metrics_listen (the
 * contract's key) when it stood in for an empty relay_metrics_listen.
 */
static const char *
relay_metrics_key(const postern_config *cfg)
{
	char where[CONFIG_ERR_MAX], unset[CONFIG_ERR_MAX];

	/* config_where says "FILE: KEY", without a line, for a key the file does not set. */
	config_where(cfg, "relay_metrics_listen", where, sizeof(where));
	snprintf(unset, sizeof(unset), "%s: relay_metrics_listen",
	    cfg->path[0] ? cfg->path : "defaults");
	if (cfg->metrics_listen[0] != '\0' && strcmp(where, unset) == 0)
		return "metrics_listen";
	return "relay_metrics_listen";
}

/* "FILE:LINE" (or "FILE") where key was set, without the key. */
static void
relay_where(const postern_config *cfg, const char *key, char *out, size_t outsize)
{
	size_t n;

	config_where(cfg, key, out, outsize);
	n = strlen(out);
	if (n > strlen(key) + 2)
		out[n - strlen(key) - 2] = '\0';
}

/* -t: the endpoint parsed, not bound (the running relay may hold the port); 1 when bad. */
static int
relay_check_metrics_listen(const postern_config *cfg)
{
	const char *key = relay_metrics_key(cfg);
	char where[CONFIG_ERR_MAX], why[128];
	struct endpoint ep;

	if (cfg->relay_metrics_listen[0] == '\0' || endpoint_parse(cfg->relay_metrics_listen,
	    ENDPOINT_ALLOW_BARE, 0, &ep, why, sizeof(why)) == 0)
		return 0;
	relay_where(cfg, key, where, sizeof(where));
	fprintf(stderr, "%s: %s: %s: bad address \"%.200s\" (HOST:PORT or [V6]:PORT): %s\n",
	    RELAY_PROG, where, key, cfg->relay_metrics_listen, why);
	return 1;
}

/* -t: every problem on its own line; the number of problems. */
static int
relay_selftest(const postern_config *cfg)
{
	char err[CONFIG_ERR_MAX], path[4096];
	struct event_base *b;
	relay_hop *h;
	int problems = 0;

	if (cfg->relay_host[0] == '\0') {
		fprintf(stderr, "%s: %s: relay_host is empty: nothing to relay to\n", RELAY_PROG,
		    cfg->path);
		return 1;
	}
	problems += relay_check_metrics_listen(cfg);
	snprintf(path, sizeof(path), "%s/new", cfg->smtpd_spool_dir);
	if (access(path, R_OK | W_OK | X_OK) != 0) {
		fprintf(stderr, "%s: spool: %s: %s\n", RELAY_PROG, path, strerror(errno));
		problems++;
	}
	if ((b = event_base_new()) != NULL) {
		if ((h = relay_hop_new(b, cfg, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: %s: %s\n", RELAY_PROG, cfg->path, err);
			problems++;
		} else {
			relay_hop_free(h);
		}
		event_base_free(b);
	}
	if (check_reachable(cfg->relay_host, RELAY_CHECK_TIMEOUT, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: next hop not reachable: %s\n", RELAY_PROG, err);
		problems++;
	}
	if (problems == 0)
		printf("%s: configuration, spool and next hop %s OK\n", RELAY_PROG, cfg->relay_host);
	return problems;
}

/*
 * The queue's size and oldest arrival: one walk of the queue per loop
 * turn, however many readers (a metrics page reads two gauges from it).
 */
static void
relay_queue_stats(unsigned *n, uint64_t *oldest)
{
	static struct timeval at;
	static unsigned at_n;
	static uint64_t at_oldest;
	struct timeval now;

	if (event_base_gettimeofday_cached(base, &now) != 0 || now.tv_sec != at.tv_sec ||
	    now.tv_usec != at.tv_usec) {
		queue_stats(q, &at_n, &at_oldest);
		at = now;
	}
	*n = at_n;
	*oldest = at_oldest;
}

/* The STATUS= line systemctl status shows. */
static void
relay_status_text(char *buf, size_t len)
{
	unsigned n;
	uint64_t oldest;

	relay_queue_stats(&n, &oldest);
	snprintf(buf, len, "%u message(s) queued, %u delivery(ies) in flight", n,
	    queue_inflight(q));
}

/* Hops a SIGHUP replaced go once their last delivery has ended. */
static void
relay_free_old_hops(int all)
{
	size_t i = 0;

	while (i < nhops_old) {
		if (all || relay_hop_active(hops_old[i]) == 0) {
			relay_hop_free(hops_old[i]);
			hops_old[i] = hops_old[--nhops_old];
		} else {
			i++;
		}
	}
	if (nhops_old == 0) {
		free(hops_old);
		hops_old = NULL;
	}
}

static void
relay_on_status(evutil_socket_t fd, short what, void *arg)
{
	char st[128];

	(void)fd;
	(void)what;
	(void)arg;
	relay_free_old_hops(0);
	relay_status_text(st, sizeof(st));
	sdnotify_status(st);
}

static void
relay_notify_ready(void)
{
	char st[128];

	relay_status_text(st, sizeof(st));
	sdnotify_ready(st);
}

/* The gauges of the metrics page, read when it is rendered. */
static uint64_t
relay_gauge_queued(void *arg)
{
	unsigned n;
	uint64_t oldest;

	(void)arg;
	relay_queue_stats(&n, &oldest);
	return n;
}

static uint64_t
relay_gauge_inflight(void *arg)
{
	(void)arg;
	return queue_inflight(q);
}

static uint64_t
relay_gauge_oldest(void *arg)
{
	unsigned n;
	uint64_t oldest, now;

	(void)arg;
	relay_queue_stats(&n, &oldest);
	now = clock_ms_wall();
	/* An arrival in the future (a clock set back) is no age. */
	return n == 0 || oldest >= now ? 0 : (now - oldest) / 1000;
}

/* Do a and b build different next hops? */
static int
relay_hop_settings_differ(const postern_config *a, const postern_config *b)
{
	return strcmp(a->relay_host, b->relay_host) != 0 || strcmp(a->relay_tls, b->relay_tls) != 0 ||
	    strcmp(a->relay_tls_ca_file, b->relay_tls_ca_file) != 0 ||
	    strcmp(a->relay_auth_file, b->relay_auth_file) != 0 ||
	    strcmp(a->relay_helo_name, b->relay_helo_name) != 0 ||
	    strcmp(a->smtpd_hostname, b->smtpd_hostname) != 0 ||
	    a->relay_concurrency != b->relay_concurrency;
}

/*
 * SIGHUP: a new config, and a new next hop built from it, which also
 * reads the CA bundle and relay_auth_file again (renewed files are taken
 * without a restart). Deliveries in flight end on the hop they started
 * on. When the hop's settings changed and the new one cannot be built,
 * nothing changes; when only its files could not be read again (they are
 * read as relay_user now, as root at start), the rest of the reload is
 * taken and the running hop stays.
 */
static void
relay_reload(void)
{
	char err[CONFIG_ERR_MAX];
	postern_config *cfg;
	relay_hop *h;

	log_info("SIGHUP: reloading %s", config_path ? config_path : "(defaults)");
	if ((cfg = config_load(config_path, config_missing_ok, err, sizeof(err))) == NULL ||
	    relay_check_extras(cfg, err, sizeof(err)) != 0) {
		log_warnx("reload failed, keeping the running settings: %s", err);
		config_free(cfg);
		return;
	}
	if ((h = relay_hop_new(base, cfg, err, sizeof(err))) == NULL) {
		if (relay_hop_settings_differ(cfg, cfg_cur)) {
			log_warnx("reload failed, keeping the running settings: %s: %s", cfg->path, err);
			config_free(cfg);
			return;
		}
		log_warnx("next hop kept as it was: %s: %s", cfg->path, err);
	} else {
		hops_old = xrealloc(hops_old, (nhops_old + 1) * sizeof(*hops_old));
		hops_old[nhops_old++] = hop_cur;
		relay_hop_retire(hop_cur, h);
		hop_cur = h;
		queue_set_config(q, cfg);
		queue_set_hop(q, h);
		log_info("next hop %s, concurrency %u; deliveries in flight end on the previous one",
		    cfg->relay_host, cfg->relay_concurrency);
	}
	if (strcmp(cfg->smtpd_spool_dir, cfg_hop->smtpd_spool_dir) != 0 ||
	    strcmp(cfg->relay_user, cfg_hop->relay_user) != 0 ||
	    strcmp(cfg->relay_metrics_listen, cfg_hop->relay_metrics_listen) != 0)
		log_warnx("changes of smtpd_spool_dir, relay_user and relay_metrics_listen take "
		    "effect at restart");
	queue_set_config(q, cfg);
	if (cfg_cur != cfg_hop)
		config_free(cfg_cur);
	cfg_cur = cfg;
	relay_free_old_hops(0);
	log_info("reloaded: backoff %us..%us, lifetime %us, bounce %s, status kept %us",
	    cfg->relay_backoff_min, cfg->relay_backoff_max, cfg->relay_max_queue_lifetime,
	    cfg->relay_bounce ? "yes" : "no", cfg->relay_status_lifetime);
}

static void
relay_on_drained(void *arg)
{
	(void)arg;
	event_base_loopexit(base, NULL);
}

static void
relay_on_grace(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_info("shutdown: grace period over, deferring %u delivery(ies) in flight", queue_inflight(q));
	event_base_loopexit(base, NULL);
}

static void
relay_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { RELAY_SHUTDOWN_GRACE, 0 };

	(void)what;
	(void)arg;
	if (sig == SIGHUP) {
		/* Whatever the outcome, the settings in force are whole again afterwards. */
		sdnotify_reloading();
		relay_reload();
		relay_notify_ready();
		return;
	}
	if (stopping)
		return;
	stopping = 1;
	sdnotify_stopping();
	log_info("signal %d: no new deliveries; %u in flight get up to %d s to finish", (int)sig,
	    queue_inflight(q), RELAY_SHUTDOWN_GRACE);
	ev_grace = evtimer_new(base, relay_on_grace, NULL);
	evtimer_add(ev_grace, &tv);
	queue_drain(q, relay_on_drained, NULL);
}

int
main(int argc, char **argv)
{
	char err[CONFIG_ERR_MAX];
	struct event *sigs[3];
	metrics_http *metrics_srv = NULL;
	int ch, print = 0, test = 0, use_syslog = 0, debug = 0, i, lockfd, metrics_fd = -1;

	while ((ch = getopt_long(argc, argv, "c:dhnstV", usage_long_options, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'd': debug = 1; break;
		case 'h': usage(1); break;
		case 'n': print = 1; break;
		case 's': use_syslog = 1; break;
		case 't': test = 1; break;
		case 'V': usage_version(RELAY_PROG); break;
		default: usage(0);
		}
	}
	if (optind != argc)
		usage(0);
	if (config_path == NULL) {
		config_path = CONFIG_DEFAULT_FILE;
		config_missing_ok = 1;
	}
	log_init(RELAY_PROG, LOG_DEST_STDERR);
	if ((cfg_hop = config_load(config_path, config_missing_ok, err, sizeof(err))) == NULL ||
	    relay_check_extras(cfg_hop, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", RELAY_PROG, err);
		config_free(cfg_hop);
		return 1;
	}
	cfg_cur = cfg_hop;
	if (print) {
		config_print(cfg_hop, stdout);
		config_free(cfg_hop);
		return 0;
	}
	if (test) {
		i = relay_selftest(cfg_hop);
		config_free(cfg_hop);
		return i ? 1 : 0;
	}
	if (cfg_hop->relay_host[0] == '\0') {
		/* Not an error: without a next hop, new/ is left to whatever else reads it. */
		fprintf(stderr, "%s: %s: relay_host is empty: nothing to relay to, exiting\n",
		    RELAY_PROG, cfg_hop->path[0] ? cfg_hop->path : "(defaults)");
		/* Type=notify: a clean exit before READY=1 would be a failed start. */
		sdnotify_ready("relay_host is empty: nothing to relay to");
		config_free(cfg_hop);
		return 0;
	}
	if (use_syslog || strcmp(cfg_hop->log, "syslog") == 0)
		log_init(RELAY_PROG, LOG_DEST_SYSLOG);
	log_set_debug(debug);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	if ((base = event_base_new()) == NULL)
		log_fatalx("cannot create the event loop");
	if ((hop_cur = relay_hop_new(base, cfg_hop, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", RELAY_PROG, cfg_hop->path, err);
		return 1;
	}
	/* Bound as root, like the daemons' listeners; served once the loop runs. */
	if (cfg_hop->relay_metrics_listen[0] != '\0' &&
	    (metrics_fd = metrics_http_bind(cfg_hop->relay_metrics_listen, relay_metrics_key(cfg_hop),
	    err, sizeof(err))) < 0) {
		char where[CONFIG_ERR_MAX];

		relay_where(cfg_hop, relay_metrics_key(cfg_hop), where, sizeof(where));
		fprintf(stderr, "%s: %s: %s\n", RELAY_PROG, where, err);
		relay_hop_free(hop_cur);
		event_base_free(base);
		config_free(cfg_hop);
		return 1;
	}
	relay_drop_privileges(cfg_hop);
	lockfd = relay_lock(cfg_hop->smtpd_spool_dir);
	if ((q = queue_open(base, cfg_hop, hop_cur, err, sizeof(err))) == NULL)
		log_fatalx("%s", err);
	{
		struct relay_metrics_gauges g = {
			relay_gauge_queued, relay_gauge_inflight, relay_gauge_oldest, NULL
		};
		relay_metrics_init(&g);
	}
	if (metrics_fd >= 0) {
		metrics_srv = metrics_http_start(base, metrics_fd, relay_metrics_get());
		log_info("metrics on http://%s/metrics", cfg_hop->relay_metrics_listen);
	}
	sigs[0] = evsignal_new(base, SIGTERM, relay_on_signal, NULL);
	sigs[1] = evsignal_new(base, SIGINT, relay_on_signal, NULL);
	sigs[2] = evsignal_new(base, SIGHUP, relay_on_signal, NULL);
	for (i = 0; i < 3; i++)
		evsignal_add(sigs[i], NULL);
	log_info("postern-relay ready: next hop %s, spool %s, concurrency %u",
	    cfg_hop->relay_host, cfg_hop->smtpd_spool_dir, cfg_hop->relay_concurrency);
	if (queue_start(q, err, sizeof(err)) != 0)
		log_fatalx("%s", err);
	/* Queue open and scanned, privileges dropped: systemd may start what depends on us. */
	relay_notify_ready();
	{
		struct timeval tv = { RELAY_STATUS_INTERVAL, 0 };
		ev_status = event_new(base, -1, EV_PERSIST, relay_on_status, NULL);
		event_add(ev_status, &tv);
	}

	event_base_dispatch(base);

	log_info("shutting down");
	metrics_http_free(metrics_srv);
	event_free(ev_status);
	/* What is still in flight ends as deferred (not journalled). */
	relay_free_old_hops(1);
	relay_hop_free(hop_cur);
	queue_free(q);
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	if (ev_grace)
		event_free(ev_grace);
	close(lockfd);
	if (cfg_cur != cfg_hop)
		config_free(cfg_cur);
	config_free(cfg_hop);
	relay_metrics_free();
	event_base_free(base);
	return 0;
}
