/* test_mc_split.c - table-driven tests of the milter client's header/body splitter, every input cut every way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/milter_client/mc_split.h"
#include "mc_split_run.h"

struct split_case {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	size_t field_max, chunk_max;
	const char *want;	/* the events, rendered by mc_split_run() */
};

#define BIG 65535

static const struct split_case cases[] = {
	{ "fields, then the body", "From: a\r\nSubject: hi\r\n\r\nbody\r\n", 0, BIG, BIG,
	    "[H From| a][H Subject| hi][E][B body\\r\\n]" },
	{ "a folded field joined with LF", "Subject: hello\r\n world\r\n\tagain\r\n\r\nb", 0, BIG, BIG,
	    "[H Subject| hello\\n world\\n\tagain][E][B b]" },
	{ "no header at all: the line is body", "this is not a header\r\nFrom: x\r\n", 0, BIG, BIG,
	    "[E][B this is not a header\\r\\nFrom: x\\r\\n]" },
	{ "empty header section", "\r\nbody", 0, BIG, BIG, "[E][B body]" },
	{ "bare LF line ends", "A: 1\n\nbody", 0, BIG, BIG, "[H A| 1][E][B body]" },
	{ "blanks before the colon trimmed from the name", "X-A  : v\r\n\r\n", 0, BIG, BIG,
	    "[H X-A| v][E]" },
	{ "no colon at the end of data: body text", "Subject", 0, BIG, BIG, "[E][B Subject]" },
	{ "a field without its line end", "A: b", 0, BIG, BIG, "[H A| b][E]" },
	{ "a CR inside a value is kept", "A: x\ry\r\n\r\n", 0, BIG, BIG, "[H A| x\\ry][E]" },
	{ "a lone CR at a line start begins the body", "A: 1\r\n\rX", 0, BIG, BIG,
	    "[H A| 1][E][B \\rX]" },
	{ "a line starting with a blank and no field before it", " x: y\r\n", 0, BIG, BIG,
	    "[E][B  x: y\\r\\n]" },
	{ "a NUL in a value", "A: x\0y\r\n\r\n", 10, BIG, BIG, "[H A| x\\0y][E]" },
	{ "empty message", "", 0, BIG, BIG, "[E]" },
	{ "empty value, no blank", "A:\r\n\r\n", 0, BIG, BIG, "[H A|][E]" },
	{ "body in chunks of chunk_max", "A: 1\r\n\r\n0123456789", 0, BIG, 4,
	    "[H A| 1][E][B 0123][B 4567][B 89]" },
	{ "a non-header line and the body share a chunk", "abc def\r\n0123", 0, BIG, 4,
	    "[E][B abc ][B def\\r][B \\n012][B 3]" },
	{ "a field longer than field_max is cut", "Subject: 0123456789\r\n\r\n", 0, 12, BIG,
	    "[H* Subject| 012][E]" },
	{ "a name longer than field_max is no field", "ABCDEFG: x\r\n\r\n", 0, 4, BIG,
	    "[E][B ABCDEFG: x\\r\\n\\r\\n]" },
	{ "the next field ends the one before", "A: 1\r\nB: 2\r\n\r\n", 0, BIG, BIG,
	    "[H A| 1][H B| 2][E]" },
};

static const size_t pieces[] = { 1, 2, 3, 5, 7, 64, (size_t)-1 };

static void
test_cases(void **state)
{
	size_t i, k;
	const char *why;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct split_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->in);

		for (k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			got = mc_split_run((const uint8_t *)c->in, len, pieces[k], c->field_max,
			    c->chunk_max, &why);
			if (got == NULL)
				fail_msg("%s, pieces of %zu: %s", c->name, pieces[k], why);
			if (strcmp(got, c->want) != 0)
				fail_msg("%s, pieces of %zu:\n got %s\nwant %s", c->name, pieces[k], got,
				    c->want);
			free(got);
		}
	}
}

/* A new message forgets the half-read one; nobody wanting the body drops it. */
static void
test_reset_and_drop(void **state)
{
	static const char half[] = "Subject: half", next[] = "A: 1\r\n\r\nxyz";
	struct mc_split sp;
	const uint8_t *name, *val, *chunk;
	size_t nlen, vlen, clen, took;
	int ev, cut;

	(void)state;
	mc_split_init(&sp, BIG, BIG);
	assert_int_equal(mc_split_feed(&sp, (const uint8_t *)half, strlen(half), &ev), strlen(half));
	assert_int_equal(ev, MC_SPLIT_NONE);
	mc_split_reset(&sp);
	took = mc_split_feed(&sp, (const uint8_t *)next, strlen(next), &ev);
	assert_int_equal(took, 6);		/* "A: 1\r\n", the next line ends it */
	assert_int_equal(ev, MC_SPLIT_HEADER);
	mc_split_field(&sp, &name, &nlen, &val, &vlen, &cut);
	assert_int_equal(nlen, 1);
	assert_memory_equal(name, "A", 1);
	assert_int_equal(vlen, 2);
	assert_memory_equal(val, " 1", 2);
	assert_false(cut);
	assert_int_equal(mc_split_feed(&sp, (const uint8_t *)next + 6, 2, &ev), 2);
	assert_int_equal(ev, MC_SPLIT_EOH);
	assert_true(mc_split_in_body(&sp));
	assert_int_equal(mc_split_feed(&sp, (const uint8_t *)next + 8, 3, &ev), 3);
	assert_int_equal(ev, MC_SPLIT_NONE);
	mc_split_drop_body(&sp);
	assert_int_equal(mc_split_finish(&sp), MC_SPLIT_NONE);
	chunk = mc_split_chunk(&sp, &clen);
	(void)chunk;
	assert_int_equal(clen, 0);
	assert_true(mc_split_ftext('A') && !mc_split_ftext(':') && !mc_split_ftext(' '));
	mc_split_free(&sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_reset_and_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
