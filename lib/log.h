/* log.h - one-line event logging to stderr (foreground) or syslog. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_dest { LOG_DEST_STDERR, LOG_DEST_SYSLOG };

void log_init(const char *progname, enum log_dest dest);
void log_set_debug(int on);
/* log_warn* append ": strerror(errno)"; the x variants do not. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A value for a key=value field: v itself when it has no space, quote,
 * backslash or control byte, else v in double quotes with " and \
 * escaped and control bytes as \xHH. Written into buf (truncated to fit).
 */
const char *log_value(const char *v, char *buf, size_t len);
/* Fatal environment problem: log and exit(1). */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
