/* postern-passwd.c - print a crypt(3) hash for the accounts file (yescrypt by default). */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWD_BCRYPT_COST	12	/* libxcrypt's own default is 5 */

static void
usage(void)
{
	fprintf(stderr, "usage: postern-passwd [-m yescrypt|bcrypt|sha512|sha256] [NAME [SENDERS]]\n"
	    "  Reads the password from standard input (no echo on a terminal).\n"
	    "  With NAME, prints a whole accounts line: NAME:HASH::SENDERS\n");
	exit(2);
}

/* Read one line without echo when stdin is a terminal. */
static int
read_password(char *buf, size_t size)
{
	struct termios old, noecho;
	int tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fprintf(stderr, "Password: ");
		tcgetattr(STDIN_FILENO, &old);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	if (fgets(buf, (int)size, stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *prefix = "$y$", *salt, *hash;
	char pw[1024];
	int ch;

	while ((ch = getopt(argc, argv, "m:")) != -1) {
		if (ch != 'm')
			usage();
		if (strcmp(optarg, "yescrypt") == 0)
			prefix = "$y$";
		else if (strcmp(optarg, "bcrypt") == 0)
			prefix = "$2b$";
		else if (strcmp(optarg, "sha512") == 0)
			prefix = "$6$";
		else if (strcmp(optarg, "sha256") == 0)
			prefix = "$5$";
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc > 2)
		usage();
	if (read_password(pw, sizeof(pw)) != 0) {
		fprintf(stderr, "postern-passwd: empty password\n");
		return 1;
	}
	/*
	 * count 0 is libxcrypt's default for each scheme, which for bcrypt is
	 * cost 5 (about 2 ms): far cheaper than yescrypt's. 12 is what
	 * OpenBSD and PHP use today.
	 */
	if ((salt = crypt_gensalt(prefix, strcmp(prefix, "$2b$") == 0 ? PASSWD_BCRYPT_COST : 0,
	    NULL, 0)) == NULL ||
	    (hash = crypt(pw, salt)) == NULL || hash[0] == '*') {
		perror("postern-passwd: crypt");
		return 1;
	}
	explicit_bzero(pw, sizeof(pw));
	if (argc >= 1)
		printf("%s:%s::%s\n", argv[0], hash, argc == 2 ? argv[1] : "");
	else
		printf("%s\n", hash);
	return 0;
}
