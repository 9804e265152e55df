/*
 * test_log.c - the stderr log line: "<RFC 3339 stamp> <prog>[<pid>]: <text>\n"
 * (no stamp under journald), one write per line, the debug switch, the errno
 * suffix, the pid (asked once, at log_init) right in a child forked
 * afterwards too, and log_value()'s quoting.
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

/*
 * Check that every line of text starts with "YYYY-MM-DDTHH:MM:SS.mmmZ "
 * and remove those stamps in place.
 */
static void
unstamp(char *text)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	char *line = text, *out = text;
	size_t i;

	while (*line) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);

		assert_true(len > sizeof(shape) - 1);
		for (i = 0; i < sizeof(shape) - 1; i++) {
			if (shape[i] == 'd')
				assert_true(line[i] >= '0' && line[i] <= '9');
			else
				assert_int_equal(line[i], shape[i]);
		}
		memmove(out, line + sizeof(shape) - 1, len - (sizeof(shape) - 1));
		out += len - (sizeof(shape) - 1);
		line += len;
	}
	*out = '\0';
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
	unsetenv("JOURNAL_STREAM");
	log_init("test-log", LOG_DEST_STDERR);
	got = capture(lines);
	unstamp(got);
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
	unsetenv("JOURNAL_STREAM");
	log_init("test-log", LOG_DEST_STDERR);
	got = capture(child_line);
	unstamp(got);
	nl = strchr(got, '\n');
	assert_non_null(nl);
	assert_non_null(strstr(nl + 1, "child was "));
	child = strtol(strstr(nl + 1, "child was ") + 10, NULL, 10);
	snprintf(want, sizeof(want), "test-log[%ld]: from the child\n", child);
	assert_int_equal(strncmp(got, want, strlen(want)), 0);
	assert_true(child != (long)getpid());
	free(got);
}

/* Under journald (JOURNAL_STREAM set) the journal stamps lines: no timestamp of ours. */
static void
test_no_stamp_under_journald(void **state)
{
	char want[512], *got;

	(void)state;
	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init("test-log", LOG_DEST_STDERR);
	got = capture(lines);
	unsetenv("JOURNAL_STREAM");
	log_init("test-log", LOG_DEST_STDERR);
	snprintf(want, sizeof(want), "test-log[%ld]: hello 42\n", (long)getpid());
	assert_int_equal(strncmp(got, want, strlen(want)), 0);
	free(got);
}

static void
test_value_quoting(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "<a@b.example>", "<a@b.example>" },
		{ "-", "-" },
		{ "", "\"\"" },
		{ "550 5.7.1 no way", "\"550 5.7.1 no way\"" },
		{ "<\"x y\"@c>", "\"<\\\"x y\\\"@c>\"" },
		{ "a=b", "\"a=b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "tab\there", "\"tab\\x09here\"" },
		{ "nl\n", "\"nl\\x0a\"" },
	};
	char buf[64], tiny[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(log_value(cases[i].in, buf, sizeof(buf)), cases[i].want);
	/* Truncated, still one quoted token. */
	assert_string_equal(log_value("a b c d e f g", tiny, sizeof(tiny)), "\"a \"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_no_stamp_under_journald),
		cmocka_unit_test(test_value_quoting),
		cmocka_unit_test(test_pid_after_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
