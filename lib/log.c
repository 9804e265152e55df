/*
 * log.c - one-line event logging; stderr in the foreground (RFC 3339
 * timestamp first, unless journald reads it and stamps it itself),
 * syslog(3) with -s.
 */
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
static int log_stamp = 1;	/* stderr lines start with a timestamp (not under journald) */
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
	/* systemd sets JOURNAL_STREAM when stderr goes to the journal, which has its own time. */
	log_stamp = getenv("JOURNAL_STREAM") == NULL;
	pthread_once(&once, log_register_atfork);
	if (dest == LOG_DEST_SYSLOG)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_debug(int on)
{
	log_debug_on = on;
}

const char *
log_value(const char *v, char *buf, size_t len)
{
	size_t i, o = 0;

	if (v[strcspn(v, " \"\\=")] == '\0') {
		for (i = 0; v[i]; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				break;
		if (v[i] == '\0' && v[0] != '\0')
			return v;
	}
	if (len < 3)
		return "\"\"";
	buf[o++] = '"';
	for (i = 0; v[i] && o + 5 < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
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
		char line[2200], stamp[48] = "";
		int n;

		if (log_stamp) {
			struct timespec ts;
			struct tm tm;

			clock_gettime(CLOCK_REALTIME, &ts);
			gmtime_r(&ts.tv_sec, &tm);
			if (strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 19)
				snprintf(stamp + 19, sizeof(stamp) - 19, ".%03dZ ",
				    (int)(ts.tv_nsec / 1000000) % 1000);
		}
		n = snprintf(line, sizeof(line), "%s%s[%ld]: %s\n", stamp, log_prog,
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
