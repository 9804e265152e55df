/* usage.h - what every Postern program answers to -V/--version and -h/--help. */
#ifndef POSTERN_USAGE_H
#define POSTERN_USAGE_H

#include <getopt.h>
#include <stdio.h>

/* --version and --help as 'V' and 'h', for getopt_long beside a program's own short options. */
extern const struct option usage_long_options[];

/* "PROG (Postern) VERSION" on standard output. */
void usage_version(const char *prog);

/*
 * Where a usage text goes and how the program ends: asked for (-h), on
 * standard output with exit 0; after a mistake, on standard error with exit 2.
 */
FILE *usage_stream(int asked);
void usage_exit(int asked) __attribute__((noreturn));

#endif
