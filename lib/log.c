/* log.c - one-line event logging; stderr in the foreground, syslog(3) with -s. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "postern";
static enum log_dest log_dest = LOG_DEST_STDERR;
static int log_debug_on;
/*
 * The pid on every stderr line, asked once: a getpid() per line was a
 * tenth of the syscalls of a message. A forked child asks again.
 */
static long log_pid;

static void
log_forked(void)
{
	log_pid = (long)getpid();
}

static void
log_register_atfork(void)
{
	pthread_atfork(NULL, NULL, log_forked);
}

void
log_init(const char *progname, enum log_dest dest)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	log_prog = progname;
	log_dest = dest;
	log_pid = (long)getpid();
	pthread_once(&once, log_register_atfork);
	if (dest == LOG_DEST_SYSLOG)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_debug(int on)
{
	log_debug_on = on;
}

static void
log_emit(int prio, int with_errno, const char *fmt, va_list ap)
{
	char msg[2048];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	}
	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%s", msg);
	} else {
		/* One write per line so concurrent processes do not interleave. */
		char line[2200];
		int n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_prog,
		    log_pid ? log_pid : (long)getpid(), msg);
		if (n > (int)sizeof(line) - 1)
			n = sizeof(line) - 1;
		if (write(STDERR_FILENO, line, (size_t)n) < 0) {
			/* nowhere left to report it */
		}
	}
	errno = saved;
}

#define LOG_BODY(prio, e) do { va_list ap; va_start(ap, fmt); \
	log_emit(prio, e, fmt, ap); va_end(ap); } while (0)

void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, 0); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_WARNING, 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_WARNING, 0); }

void
log_debug(const char *fmt, ...)
{
	if (!log_debug_on)
		return;
	LOG_BODY(LOG_DEBUG, 0);
}

void
log_fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 1);
	exit(1);
}

void
log_fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(1);
}
