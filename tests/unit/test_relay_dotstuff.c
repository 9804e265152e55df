/* test_relay_dotstuff.c - DATA transparency: leading dots doubled, the terminator after a last line with or without CRLF, any chunking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dotstuff.h"

/* Stuff in with chunks of size step, then the terminator; returns a malloc'd string. */
static char *
stuff(const char *in, size_t step)
{
	struct dotstuff d;
	size_t n = strlen(in), off = 0, o = 0;
	char *out = malloc(2 * n + 6);

	dotstuff_init(&d);
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		o += dotstuff_chunk(&d, in + off, k, out + o);
		off += k;
	}
	o += dotstuff_end(&d, out + o);
	out[o] = '\0';
	return out;
}

static void
test_cases(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", ".\r\n" },
		{ "a\r\n", "a\r\n.\r\n" },
		{ ".\r\n", "..\r\n.\r\n" },
		{ "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n" },
		{ "..x\r\n", "...x\r\n.\r\n" },
		{ "a.b\r\n.", "a.b\r\n..\r\n.\r\n" },	/* last line without CRLF gets one */
		{ "no newline", "no newline\r\n.\r\n" },
		{ "x\n.y\n", "x\n..y\n\r\n.\r\n" },	/* bare LF still starts a line */
		{ "a\r", "a\r\r\n.\r\n" },
		{ "\r\n", "\r\n.\r\n" },
	};
	size_t i, step;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (step = 1; step <= 4; step++) {
			char *got = stuff(cases[i].in, step);
			assert_string_equal(got, cases[i].out);
			free(got);
		}
	}
}

static void
test_worst_case_fits(void **state)
{
	/* Every byte a dot after LF: output is at most twice the input. */
	char in[64], out[128];
	struct dotstuff d;
	size_t i, o;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (i % 2) ? '.' : '\n';
	in[0] = '.';
	dotstuff_init(&d);
	o = dotstuff_chunk(&d, in, sizeof(in), out);
	assert_true(o <= 2 * sizeof(in));
	assert_int_equal(o, sizeof(in) + 32);	/* 31 dots after LF, and the first */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_worst_case_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
