/* usage.c - -V/--version and -h/--help, the same in every program. */
#include "autoconf.h"
#include "usage.h"

#include <stdlib.h>

const struct option usage_long_options[] = {
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void
usage_version(const char *prog)
{
	printf("%s (Postern) %s\n", prog, PACKAGE_VERSION);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

FILE *
usage_stream(int asked)
{
	return asked ? stdout : stderr;
}

void
usage_exit(int asked)
{
	if (asked)
		exit(fflush(stdout) == 0 ? 0 : 1);
	exit(2);
}
