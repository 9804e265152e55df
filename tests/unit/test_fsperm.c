/* test_fsperm.c - mode and owner checks on secrets, spool directories and sockets, on real files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fsperm.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-fsperm-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
make_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_secret(void **state)
{
	static const struct {
		mode_t mode;
		int want;
		const char *verb;
	} cases[] = {
		{ 0600, 0, NULL }, { 0640, 0, NULL }, { 0660, 0, NULL }, { 0400, 0, NULL },
		{ 0644, 1, "read" }, { 0604, 1, "read" }, { 0602, 1, "change" }, { 0666, 1, "read" },
	};
	char path[128], msg[FSPERM_MSG_MAX], want[256];
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/secret", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_file(path, cases[i].mode);
		msg[0] = '\0';
		assert_int_equal(fsperm_secret(path, msg, sizeof(msg)), cases[i].want);
		if (cases[i].want) {
			snprintf(want, sizeof(want), "%s: mode %04o lets every local user %s it "
			    "(chmod o-rwx)", path, (unsigned)cases[i].mode, cases[i].verb);
			assert_string_equal(msg, want);
		}
	}
	snprintf(path, sizeof(path), "%s/absent", dir);
	assert_int_equal(fsperm_secret(path, msg, sizeof(msg)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(msg, want);
	/* A short buffer is cut, never overrun. */
	assert_int_equal(fsperm_secret(path, msg, 8), -1);
	assert_int_equal(strlen(msg), 7);
}

static void
test_dir_shared(void **state)
{
	char path[128], msg[FSPERM_MSG_MAX], want[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/spool", dir);
	assert_int_equal(fsperm_dir_shared(path, msg, sizeof(msg)), 0);	/* absent: made later */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(fsperm_dir_shared(path, msg, sizeof(msg)), 0);
	assert_int_equal(chmod(path, 01777), 0);	/* sticky does not help: others add files */
	assert_int_equal(fsperm_dir_shared(path, msg, sizeof(msg)), 1);
	snprintf(want, sizeof(want), "%s: directory mode 1777 lets every local user add or remove "
	    "files (chmod o-w)", path);
	assert_string_equal(msg, want);
	assert_int_equal(chmod(path, 0775), 0);		/* the group may: that is the admin's choice */
	assert_int_equal(fsperm_dir_shared(path, msg, sizeof(msg)), 0);
	rmdir(path);
}

static void
make_socket(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(un.sun_path));
	memcpy(un.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	close(fd);
}

static void
test_socket_shared(void **state)
{
	char sub[128], sock[160], msg[FSPERM_MSG_MAX], want[400];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/m.sock", sub);
	assert_int_equal(mkdir(sub, 0750), 0);
	make_socket(sock);
	assert_int_equal(chmod(sock, 0660), 0);
	assert_int_equal(fsperm_socket_shared(sock, msg, sizeof(msg)), 0);
	assert_int_equal(chmod(sock, 0666), 0);
	assert_int_equal(fsperm_socket_shared(sock, msg, sizeof(msg)), 1);
	snprintf(want, sizeof(want), "socket %s: mode 0666 lets every local user connect as it", sock);
	assert_string_equal(msg, want);
	assert_int_equal(chmod(sock, 0660), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(fsperm_socket_shared(sock, msg, sizeof(msg)), 1);
	snprintf(want, sizeof(want), "socket %s: its directory %s (mode 0777) lets every local user "
	    "replace it", sock, sub);
	assert_string_equal(msg, want);
	assert_int_equal(chmod(sub, 0750), 0);
	unlink(sock);
	assert_int_equal(fsperm_socket_shared(sock, msg, sizeof(msg)), -1);
	rmdir(sub);
}

static void
test_socket_dir(void **state)
{
	char sub[128], sock[160], msg[FSPERM_MSG_MAX], want[400];
	uid_t me = geteuid(), other = 4242;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/m.sock", sub);
	assert_int_equal(mkdir(sub, 0750), 0);
	assert_int_equal(fsperm_socket_dir(sock, &me, 1, msg, sizeof(msg)), 0);
	assert_int_equal(chmod(sub, 0757), 0);
	assert_int_equal(fsperm_socket_dir(sock, &me, 1, msg, sizeof(msg)), 1);
	snprintf(want, sizeof(want), "%s: directory %s (mode 0757) is writable by others: anyone "
	    "could replace the socket", sock, sub);
	assert_string_equal(msg, want);
	assert_int_equal(chmod(sub, 0750), 0);
	if (me == 0) {
		/* Owned by a user that is neither root nor listed. */
		assert_int_equal(chown(sub, other, (gid_t)-1), 0);
		assert_int_equal(fsperm_socket_dir(sock, &me, 1, msg, sizeof(msg)), 1);
		snprintf(want, sizeof(want), "%s: directory %s is owned by uid %u, not root or the "
		    "milter user", sock, sub, (unsigned)other);
		assert_string_equal(msg, want);
		assert_int_equal(fsperm_socket_dir(sock, &other, 1, msg, sizeof(msg)), 0);
	} else {
		/* Not root: our own directory is fine, and no list at all refuses it. */
		assert_int_equal(fsperm_socket_dir(sock, NULL, 0, msg, sizeof(msg)), 1);
	}
	/* A bare name lives in the current directory. */
	assert_true(fsperm_socket_dir("m.sock", &me, 1, msg, sizeof(msg)) >= 0);
	rmdir(sub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_dir_shared),
		cmocka_unit_test(test_socket_shared),
		cmocka_unit_test(test_socket_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
