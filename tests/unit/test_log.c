/*
 * test_log.c - the stderr log line: "<prog>[<pid>]: <text>\n", one write per
 * line, the debug switch, the errno suffix, and the pid (asked once, at
 * log_init) right in a child forked afterwards too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* Run fn with stderr on a pipe; returns what it wrote (malloc'ed). */
static char *
capture(void (*fn)(void))
{
	int p[2], saved;
	char buf[4096];
	ssize_t n;
	size_t len = 0;

	assert_int_equal(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	while (len < sizeof(buf) - 1 && (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	buf[len] = '\0';
	return strdup(buf);
}

static void
lines(void)
{
	log_info("hello %d", 42);
	log_debug("not shown");
	log_set_debug(1);
	log_debug("shown");
	log_set_debug(0);
	errno = ENOENT;
	log_warn("open %s", "x");
	log_warnx("plain");
}

static void
test_format(void **state)
{
	char want[512], *got;
	long pid = (long)getpid();

	(void)state;
	log_init("test-log", LOG_DEST_STDERR);
	got = capture(lines);
	snprintf(want, sizeof(want), "test-log[%ld]: hello 42\ntest-log[%ld]: shown\n"
	    "test-log[%ld]: open x: %s\ntest-log[%ld]: plain\n", pid, pid, pid, strerror(ENOENT),
	    pid);
	assert_string_equal(got, want);
	free(got);
}

static void
child_line(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		log_info("from the child");
		_exit(0);
	}
	waitpid(pid, &status, 0);
	log_info("child was %ld", (long)pid);
}

/* The pid is cached at log_init(): a child forked later must not print its parent's. */
static void
test_pid_after_fork(void **state)
{
	char want[128], *got, *nl;
	long child;

	(void)state;
	log_init("test-log", LOG_DEST_STDERR);
	got = capture(child_line);
	nl = strchr(got, '\n');
	assert_non_null(nl);
	assert_non_null(strstr(nl + 1, "child was "));
	child = strtol(strstr(nl + 1, "child was ") + 10, NULL, 10);
	snprintf(want, sizeof(want), "test-log[%ld]: from the child\n", child);
	assert_int_equal(strncmp(got, want, strlen(want)), 0);
	assert_true(child != (long)getpid());
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_pid_after_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
