/* main.c - postern-milter: command line, socket, privileges, and the signal loop around smfi_main(). */
#include "autoconf.h"		/* _GNU_SOURCE and friends, before any system header */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "accounts.h"
#include "endpoint.h"
#include "fsperm.h"
#include "log.h"
#include "milter.h"
#include "milter_activate.h"
#include "milter_metrics.h"
#include "sdnotify.h"
#include "usage.h"
#include "xalloc.h"

#define PM_PROG			"postern-milter"
#define PM_CONN_MAX		1024
/* SIGTERM: how long transactions in flight may take before the MTA is left to tempfail them. */
#define PM_DRAIN_SECONDS	25

static int pm_sigpipe[2] = { -1, -1 };	/* signal handlers and the listener thread -> main loop */
static int pm_log_syslog;		/* startup errors go to syslog too */
static atomic_int pm_stop_done;		/* smfi_stop() returned: the socket is closed */
/* Loaded but not yet handed to pm_start(): a startup failure frees them (nothing leaks). */
static postern_config *pm_boot_cfg;
static policy_engine *pm_boot_engine;

/* Startup failure: one line on stderr (and in the log when that is syslog), exit 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
pm_die(const char *fmt, ...)
{
	char msg[CONFIG_ERR_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", PM_PROG, msg);
	if (pm_log_syslog)
		log_warnx("%s", msg);
	if (pm_boot_engine != NULL)
		engine_free(pm_boot_engine);
	if (pm_boot_cfg != NULL)
		config_free(pm_boot_cfg);
	exit(1);
}

static void
pm_usage(int asked)
{
	fprintf(usage_stream(asked), "usage: %s [-dhnstV] [-c config]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -d       debug logging\n"
	    "  -h       this help (--help)\n"
	    "  -n       print the effective configuration and exit\n"
	    "  -s       log to syslog instead of stderr\n"
	    "  -t       check the configuration, accounts and file modes, and exit\n"
	    "  -V       print the version and exit (--version)\n",
	    PM_PROG, CONFIG_DEFAULT_FILE);
	usage_exit(asked);
}

/* Load and validate: the config and an engine built from it, or NULL with err. */
static postern_config *
pm_load(const char *path, int missing_ok, policy_engine **ep, char *err, size_t errlen)
{
	postern_config *cfg;
	policy_engine *e;

	if ((cfg = config_load(path, missing_ok, err, errlen)) == NULL)
		return NULL;
	if ((e = engine_new(cfg, err, errlen)) == NULL) {
		config_free(cfg);
		return NULL;
	}
	/* The engine has claimed its modules' keys by now: anything left is a typo. */
	if (config_check_extras(cfg, err, errlen) != 0) {
		engine_free(e);
		config_free(cfg);
		return NULL;
	}
	*ep = e;
	return cfg;
}

/*
 * Stack size of every thread in this process. libmilter creates its
 * worker threads with default attributes, and its pool lets idle workers
 * exit and starts new ones as load varies (about 0.7 per message under
 * load). With glibc's default of RLIMIT_STACK (8 MiB) its cache of freed
 * stacks (40 MiB) holds five, so most new workers paid an mmap, an
 * mprotect and later an munmap with its TLB shootdown; 1 MiB stacks are
 * all reused. 1 MiB is still ample for the engine, libmagic and regex
 * (glibc caps its alloca at 64 KiB); custom modules should keep large
 * buffers off the stack (postern-milter(8), NOTES).
 */
#define PM_THREAD_STACK	(1024 * 1024)

static void
pm_set_thread_stack(void)
{
#ifdef HAVE_PTHREAD_SETATTR_DEFAULT_NP
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) != 0)
		return;
	if ((errno = pthread_attr_setstacksize(&attr, PM_THREAD_STACK)) != 0 ||
	    (errno = pthread_setattr_default_np(&attr)) != 0)
		log_warn("thread stack size left at its default");
	pthread_attr_destroy(&attr);
#endif
}

/*
 * One malloc arena for all threads. glibc gives each new thread that
 * allocates an arena of its own (up to 8 per CPU), and memory freed in an
 * arena stays with it: with 20 MTA sessions at once that was 1.3 MB more
 * resident than with one arena (bench/README.md, memory). The threads
 * allocate little per message, mostly from their own tcache without the
 * arena lock: side by side, milter CPU per message 0.21 and 0.21 ms with
 * one arena, 0.22 and 0.20 ms without (bench_smtpd --milter).
 */
static void
pm_one_arena(void)
{
	if (mallopt(M_ARENA_MAX, 1) != 1)
		log_debug("mallopt(M_ARENA_MAX) not taken (a sanitizer's allocator?): one arena per thread");
}

#define PM_LISTEN_FLAGS (ENDPOINT_ALLOW_PREFIX | ENDPOINT_ALLOW_UNIX | ENDPOINT_ALLOW_ANY)

/*
 * pm_conn_spec - milter_listen (inet:HOST:PORT, inet6:[HOST]:PORT, unix:PATH,
 * the syntax Postfix uses) into libmilter's (inet:PORT@HOST, inet6:PORT@HOST,
 * unix:PATH). 0, or -1 with a reason in err.
 */
static int
pm_conn_spec(const char *listen, char *out, size_t outlen, char *err, size_t errlen)
{
	struct endpoint ep;
	char why[128];
	int n;

	if (endpoint_parse(listen, PM_LISTEN_FLAGS, 0, &ep, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "milter_listen \"%.200s\": %s (inet:HOST:PORT, inet6:[HOST]:PORT "
		    "or unix:/PATH)", listen, why);
		return -1;
	}
	if (ep.kind == ENDPOINT_UNIX)
		n = snprintf(out, outlen, "unix:%s", ep.path);
	else if (ep.host[0] == '\0')
		n = snprintf(out, outlen, "%s:%u", ep.family == AF_INET6 ? "inet6" : "inet", ep.port);
	else
		n = snprintf(out, outlen, "%s:%u@%s", ep.family == AF_INET6 ? "inet6" : "inet", ep.port,
		    ep.host);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "milter_listen \"%.200s\": too long", listen);
		return -1;
	}
	return 0;
}

/*
 * A unix socket left by a crashed instance blocks bind(); remove it, but
 * only when nobody answers on it: a live instance keeps its socket.
 */
static void
pm_remove_stale_socket(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;		/* absent, or not ours to remove: bind reports it */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (xstrlcpy(sun.sun_path, path, sizeof(sun.sun_path)) != 0)
		return;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 && errno == ECONNREFUSED) {
		if (unlink(path) == 0)
			log_info("removed stale socket %s", path);
	}
	close(fd);
}

/*
 * pm_check_socket_dir - a unix socket is only as private as its directory:
 * refuse one whose directory others may write (they could put their own
 * socket in its place) or that belongs to someone other than root, us or
 * milter_user.
 */
static void
pm_check_socket_dir(const char *sockpath, const char *user)
{
	char msg[FSPERM_MSG_MAX];
	uid_t uids[2];
	size_t n = 0;
	struct passwd *pw;

	uids[n++] = geteuid();
	if (user[0] != '\0' && (pw = getpwnam(user)) != NULL)
		uids[n++] = pw->pw_uid;
	if (fsperm_socket_dir(sockpath, uids, n, msg, sizeof(msg)) != 0)
		pm_die("%s", msg);
}

/*
 * pm_socket_perms - milter_socket_mode and milter_socket_group on the unix
 * socket just created, so that the MTA's user reaches it through the group
 * and nobody else does. As root with a milter_user, the socket is also
 * handed to that user.
 */
static void
pm_socket_perms(const postern_config *cfg, const char *sockpath)
{
	struct passwd *pw = NULL;
	struct group *gr;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (cfg->milter_user[0] != '\0')
		pw = getpwnam(cfg->milter_user);
	if (cfg->milter_socket_group[0] != '\0') {
		if ((gr = getgrnam(cfg->milter_socket_group)) == NULL)
			pm_die("%s: milter_socket_group \"%s\": no such group",
			    cfg->path[0] ? cfg->path : "defaults", cfg->milter_socket_group);
		gid = gr->gr_gid;
	} else if (pw != NULL) {
		gid = pw->pw_gid;
	}
	if (geteuid() == 0 && pw != NULL)
		uid = pw->pw_uid;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(sockpath, uid, gid) != 0)
		pm_die("%s: cannot give the socket to %s%s%s: %s", sockpath,
		    uid != (uid_t)-1 ? cfg->milter_user : "", uid != (uid_t)-1 ? " " : "",
		    gid != (gid_t)-1 ? "its group" : "", strerror(errno));
	if (chmod(sockpath, (mode_t)cfg->milter_socket_mode) != 0)
		pm_die("%s: chmod %04o: %s", sockpath, cfg->milter_socket_mode, strerror(errno));
}

/*
 * pm_drop_privileges - the only code that changes credentials. Runs once,
 * after the listening socket is open and before the first connection:
 * as root with a milter_user, drop groups, gid and uid for good. Then, in
 * every case, no exec may ever gain privileges again (PR_SET_NO_NEW_PRIVS).
 */
static void
pm_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 || user[0] == '\0') {
		if (user[0] != '\0')
			log_debug("not root: milter_user %s ignored", user);
		goto nnp;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		pm_die("milter_user \"%s\": no such user", user);
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		pm_die("cannot become %s: %s", user, strerror(errno));
	if (setuid(0) == 0)
		pm_die("could regain root after switching to %s", user);
	log_info("running as %s (uid %ld)", user, (long)pw->pw_uid);
nnp:
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		pm_die("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
}

/* Secrets others can read: a warning line each; returns how many. */
static int
pm_warn_secrets(const postern_config *cfg)
{
	char msg[FSPERM_MSG_MAX];

	if (cfg->accounts_file[0] != '\0' &&
	    fsperm_secret(cfg->accounts_file, msg, sizeof(msg)) > 0) {
		log_warnx("accounts_file %s", msg);
		return 1;
	}
	return 0;
}

/*
 * -t: every problem of the configuration on its own line (stderr), the
 * loose modes included; one summary line on stdout when there is none.
 * Returns the exit status.
 */
static int
pm_selftest(const char *path, int missing_ok)
{
	char err[CONFIG_ERR_MAX], conn[PM_CONN_MAX], msg[FSPERM_MSG_MAX];
	postern_config *cfg, *full;
	policy_engine *e;
	accounts *acc;
	int problems = 0;
	uid_t uids[2];
	size_t n = 0;
	struct passwd *pw;

	if ((cfg = config_load(path, missing_ok, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", PM_PROG, err);
		return 1;
	}
	if ((acc = accounts_load(cfg->accounts_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: accounts_file %s\n", PM_PROG, err);
		problems++;
	} else {
		/* The policies and modules, with their keys (the accounts are theirs too). */
		accounts_free(acc);
		if ((full = pm_load(path, missing_ok, &e, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s: %s\n", PM_PROG, err);
			problems++;
		} else {
			engine_free(e);
			config_free(full);
		}
	}
	if (cfg->accounts_file[0] != '\0' &&
	    fsperm_secret(cfg->accounts_file, msg, sizeof(msg)) > 0) {
		fprintf(stderr, "%s: accounts_file %s\n", PM_PROG, msg);
		problems++;
	}
	pw = cfg->milter_user[0] != '\0' ? getpwnam(cfg->milter_user) : NULL;
	if (pw != NULL) {
		uids[n++] = pw->pw_uid;
	} else if (cfg->milter_user[0] != '\0') {
		fprintf(stderr, "%s: %s: milter_user \"%s\": no such user\n", PM_PROG,
		    cfg->path[0] ? cfg->path : "defaults", cfg->milter_user);
		problems++;
	}
	if (cfg->milter_socket_group[0] != '\0' && getgrnam(cfg->milter_socket_group) == NULL) {
		fprintf(stderr, "%s: %s: milter_socket_group \"%s\": no such group\n", PM_PROG,
		    cfg->path[0] ? cfg->path : "defaults", cfg->milter_socket_group);
		problems++;
	}
	if (pm_conn_spec(cfg->milter_listen, conn, sizeof(conn), err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", PM_PROG, cfg->path[0] ? cfg->path : "defaults", err);
		problems++;
	} else if (pm_activate_pending()) {
		/* Under systemd with postern-milter.socket: its socket is served, not this one. */
		printf("%s: note: socket activation (LISTEN_FDS): milter_listen is ignored, the "
		    "socket systemd passes is served\n", PM_PROG);
	} else if (strncmp(conn, "unix:", 5) == 0) {
		uids[n++] = geteuid();
		if (fsperm_socket_dir(conn + 5, uids, n, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "%s: milter_listen %s\n", PM_PROG, msg);
			problems++;
		}
	}
	if (problems == 0)
		printf("%s: %s: configuration OK\n", PM_PROG, cfg->path[0] ? cfg->path : "defaults");
	config_free(cfg);
	return problems ? 1 : 0;
}

#define PM_STATUS_INTERVAL_MS	5000

/* The STATUS= line systemctl status shows. */
static void
pm_status_text(const char *listen_on, char *buf, size_t len)
{
	snprintf(buf, len, "listening on %s, %u SMTP session(s)", listen_on, pm_sessions_open());
}

/* Async-signal-safe: one byte to the main loop, nothing else. */
static void
pm_on_signal(int sig)
{
	int saved = errno;
	char ch = sig == SIGHUP ? 'H' : 'T';

	if (write(pm_sigpipe[1], &ch, 1) < 0) {
		/* pipe full: a byte of the same kind is already waiting */
	}
	errno = saved;
}

static void *
pm_listener(void *arg)
{
	char ch = 'X';

	(void)arg;
	if (smfi_main() != MI_SUCCESS)
		log_warnx("smfi_main failed");
	if (write(pm_sigpipe[1], &ch, 1) < 0)
		log_warn("listener: notify main loop");
	return NULL;
}

static void *
pm_stopper(void *arg)
{
	(void)arg;
	/* Blocks until libmilter's accept loop lets go of its lock (up to 5 s unless poked). */
	smfi_stop();
	atomic_store(&pm_stop_done, 1);
	return NULL;
}

/*
 * Wake libmilter's accept loop (it polls with a 5 s timeout while holding
 * the lock smfi_stop() needs) by connecting to our own socket once: the
 * one systemd passed (act) or milter_listen.
 */
static void
pm_poke_listener(const char *listen, const struct pm_activated *act)
{
	struct addrinfo hints, *res = NULL;
	struct endpoint ep;
	char port[8];
	int fd = -1;

	if (act != NULL) {
		/* systemd's socket: its own address, milter_listen names nothing we serve. */
		if ((fd = socket(act->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
			(void)connect(fd, (const struct sockaddr *)&act->addr, act->addrlen);
			close(fd);
		}
		return;
	}
	if (endpoint_parse(listen, PM_LISTEN_FLAGS, 0, &ep, NULL, 0) != 0)
		return;		/* cannot happen: start-up parsed it */
	if (ep.kind == ENDPOINT_UNIX) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (xstrlcpy(sun.sun_path, ep.path, sizeof(sun.sun_path)) == 0 &&
		    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0)
			(void)connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	} else {
		snprintf(port, sizeof(port), "%u", ep.port);
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = ep.family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		if (getaddrinfo(ep.host[0] ? ep.host : NULL, port, &hints, &res) == 0 && res != NULL &&
		    (fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0)) >= 0)
			(void)connect(fd, res->ai_addr, res->ai_addrlen);
		if (res != NULL)
			freeaddrinfo(res);
	}
	if (fd >= 0)
		close(fd);
}

/* SIGHUP: new config, accounts and modules; on any error the old ones keep serving. */
static void
pm_reload_config(const char *path, int missing_ok, int activated)
{
	char err[CONFIG_ERR_MAX];
	const postern_config *old = pm_config();
	postern_config *cfg;

	if ((cfg = config_load(path, missing_ok, err, sizeof(err))) == NULL) {
		log_warnx("reload failed, keeping the running configuration: %s", err);
		return;
	}
	/* Under socket activation the socket settings are systemd's: nothing to take later. */
	if ((!activated && (strcmp(cfg->milter_listen, old->milter_listen) != 0 ||
	    cfg->milter_socket_mode != old->milter_socket_mode ||
	    strcmp(cfg->milter_socket_group, old->milter_socket_group) != 0)) ||
	    strcmp(cfg->milter_user, old->milter_user) != 0 || strcmp(cfg->log, old->log) != 0)
		log_warnx("reload: %smilter_user and log take effect at the next start",
		    activated ? "" : "milter_listen, milter_socket_mode, milter_socket_group, ");
	if (pm_reload(cfg, err, sizeof(err)) != 0) {
		config_free(cfg);
		log_warnx("reload failed, keeping the running configuration: %s", err);
		return;
	}
	if (config_check_extras(pm_config(), err, sizeof(err)) != 0)
		log_warnx("reload: %s (ignored)", err);
	log_info("reloaded %s", path ? path : "built-in defaults");
}

int
main(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_FILE, *sockpath = NULL;
	char err[CONFIG_ERR_MAX], conn[PM_CONN_MAX];
	int ch, opt_debug = 0, opt_print = 0, opt_syslog = 0, opt_test = 0, missing_ok = 1;
	int stopping = 0, metrics_fd = -1, activated;
	struct pm_activated act;
	const char *listen_on;
	struct sigaction sa;
	sigset_t sigs;
	postern_config *cfg;
	policy_engine *e;
	pthread_t tid;

	/* From the first line on: modules loaded with the config log under our name too. */
	log_init(PM_PROG, LOG_DEST_STDERR);
	while ((ch = getopt_long(argc, argv, "c:dhnstV", usage_long_options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			missing_ok = 0;		/* only the default file may be absent */
			break;
		case 'h':
			pm_usage(1);
			break;
		case 'V':
			usage_version(PM_PROG);
			break;
		case 'd':
			opt_debug = 1;
			break;
		case 'n':
			opt_print = 1;
			break;
		case 's':
			opt_syslog = 1;
			break;
		case 't':
			opt_test = 1;
			break;
		default:
			pm_usage(0);
		}
	}
	if (optind != argc)
		pm_usage(0);
	if (opt_test)
		return pm_selftest(path, missing_ok);

	if ((cfg = pm_load(path, missing_ok, &e, err, sizeof(err))) == NULL)
		pm_die("%s", err);
	if (opt_print) {
		if (pm_activate_pending())
			fprintf(stderr, "%s: note: socket activation (LISTEN_FDS): milter_listen is "
			    "ignored, the socket systemd passes is served\n", PM_PROG);
		config_print(cfg, stdout);
		engine_free(e);
		config_free(cfg);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	pm_boot_cfg = cfg;
	pm_boot_engine = e;
	pm_log_syslog = opt_syslog || strcmp(cfg->log, "syslog") == 0;
	log_init(PM_PROG, pm_log_syslog ? LOG_DEST_SYSLOG : LOG_DEST_STDERR);
	log_set_debug(opt_debug);

	/*
	 * A socket passed by systemd stands for milter_listen; its mode, owner
	 * and directory are the .socket unit's (SocketMode=, SocketGroup=), so
	 * none of the unix socket steps below apply to it.
	 */
	if ((activated = pm_activate_take(&act, err, sizeof(err))) < 0)
		pm_die("%s", err);
	if (!activated && pm_conn_spec(cfg->milter_listen, conn, sizeof(conn), err, sizeof(err)) != 0)
		pm_die("%s: %s", cfg->path[0] ? cfg->path : "defaults", err);
	if (!activated && strncmp(conn, "unix:", 5) == 0) {
		sockpath = conn + 5;
		pm_check_socket_dir(sockpath, cfg->milter_user);
		/* Before the socket exists: a failed start leaves nothing behind. */
		if (cfg->milter_socket_group[0] != '\0' && getgrnam(cfg->milter_socket_group) == NULL)
			pm_die("%s: milter_socket_group \"%s\": no such group",
			    cfg->path[0] ? cfg->path : "defaults", cfg->milter_socket_group);
		pm_remove_stale_socket(sockpath);
	}
	pm_warn_secrets(cfg);
	pm_metrics_init(pm_sessions_open);
	/* Bound as root like the milter socket; served once libmilter runs. */
	if (cfg->milter_metrics_listen[0] != '\0' &&
	    (metrics_fd = pm_metrics_bind(cfg->milter_metrics_listen, err, sizeof(err))) < 0)
		pm_die("%s: %s", cfg->path[0] ? cfg->path : "defaults", err);
	pm_start(e, cfg, activated ? act.family != AF_UNIX : strncmp(conn, "unix:", 5) != 0);
	pm_boot_cfg = NULL;		/* the milter's now */
	pm_boot_engine = NULL;
	/* From here to the adoption nothing may die: the placeholder is cleaned up on the way. */
	if (activated && pm_activate_mark(&act, conn, sizeof(conn), err, sizeof(err)) != 0)
		pm_die("%s", err);
	if (pm_open(conn, err, sizeof(err)) != 0) {
		char where[CONFIG_ERR_MAX / 2];

		if (activated) {
			pm_activate_abandon(&act);
			pm_die("socket activation: %s", err);
		}
		/* err names libmilter's form of the address; the user wrote milter_listen's. */
		config_where(cfg, "milter_listen", where, sizeof(where));
		pm_die("%s: cannot listen on %s (in use, or no permission)", where, cfg->milter_listen);
	}
	if (activated && pm_activate_adopt(&act, err, sizeof(err)) != 0)
		pm_die("%s", err);
	listen_on = activated ? act.where : cfg->milter_listen;
	if (sockpath != NULL)
		pm_socket_perms(cfg, sockpath);
	pm_drop_privileges(cfg->milter_user);

	/*
	 * Signals. libmilter's own signal thread (started by smfi_main) waits
	 * for SIGHUP, SIGTERM and SIGINT and stops the milter on any of them,
	 * so a HUP must never reach it. Linux gives a process-wide signal to
	 * the main thread whenever that thread does not block it: the main
	 * thread keeps the three unblocked with handlers that only write to a
	 * pipe, while smfi_main and every thread it starts run with them
	 * blocked (masked here before the listener thread is created, so it
	 * inherits the mask).
	 */
	if (pipe2(pm_sigpipe, O_CLOEXEC) != 0)
		pm_die("pipe: %s", strerror(errno));
	(void)fcntl(pm_sigpipe[1], F_SETFL, O_NONBLOCK);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	pm_set_thread_stack();		/* before the first thread: they all get it */
	pm_one_arena();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pm_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((errno = pthread_create(&tid, NULL, pm_listener, NULL)) != 0)
		pm_die("listener thread: %s", strerror(errno));
	pthread_detach(tid);
	if (metrics_fd >= 0)
		pm_metrics_start(metrics_fd);	/* its thread inherits the blocked signals too */
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	log_info("listening on %s (%s)", listen_on, cfg->path[0] ? cfg->path : "defaults");
	/* Socket open, privileges dropped, libmilter serving: the MTAs may start. */
	pm_status_text(listen_on, err, sizeof(err));
	sdnotify_ready(err);

	for (;;) {
		struct pollfd pfd = { pm_sigpipe[0], POLLIN, 0 };
		char what;
		ssize_t n;

		/* Between signals: systemd's STATUS= line, sent when it changed. */
		if (poll(&pfd, 1, PM_STATUS_INTERVAL_MS) == 0) {
			pm_status_text(activated ? act.where : pm_config()->milter_listen, err, sizeof(err));
			sdnotify_status(err);
			continue;
		}
		n = read(pm_sigpipe[0], &what, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			pm_die("signal pipe: %s", n < 0 ? strerror(errno) : "closed");
		if (what == 'H' && !stopping) {
			sdnotify_reloading();
			pm_reload_config(path, missing_ok, activated);
			pm_status_text(activated ? act.where : pm_config()->milter_listen, err, sizeof(err));
			sdnotify_ready(err);
		} else if (what == 'T' && !stopping) {
			unsigned left;

			stopping = 1;
			sdnotify_stopping();
			log_info("stopping: no new connections, finishing transactions in flight");
			/*
			 * Drain first, stop libmilter after: Debian's libmilter runs
			 * sessions on a worker pool that abandons every session the
			 * moment smfi_stop() is called, in flight or not.
			 */
			left = pm_drain(PM_DRAIN_SECONDS);
			if ((errno = pthread_create(&tid, NULL, pm_stopper, NULL)) != 0)
				pm_die("stop thread: %s", strerror(errno));
			pthread_detach(tid);
			/* Until smfi_stop() has the lock; a poke before it set the stop flag would be lost. */
			for (int i = 0; i < 250 && !atomic_load(&pm_stop_done); i++) {
				struct timespec ms20 = { 0, 20 * 1000 * 1000 };

				pm_poke_listener(pm_config()->milter_listen, activated ? &act : NULL);
				nanosleep(&ms20, NULL);
			}
			/* The series stay while libmilter might still call back. */
			pm_metrics_stop(left == 0 && atomic_load(&pm_stop_done));
			if (left == 0)
				pm_free();
			else
				log_info("%u idle SMTP session(s) dropped", left);
			log_info("stopped");
			return 0;
		} else if (what == 'X' && !stopping) {
			/* Should not happen: a signal reached libmilter's thread, or accept failed for good. */
			log_warnx("libmilter stopped serving on its own; exiting so the service manager restarts us");
			return 1;
		}
	}
}
