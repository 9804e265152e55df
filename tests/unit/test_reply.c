/* test_reply.c - the reply table matches doc/status-codes.txt row by row, and formatting works. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"

#ifndef SPEC_FILE
#define SPEC_FILE "doc/status-codes.txt"
#endif

/* Table rows that are the spec's own; the rest are documented additions. */
#define SPEC_ROWS	(R_NO_BODY + 1)

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
trim(char *s)
{
	char *e = s + strlen(s), *b = s;

	while (e > s && (e[-1] == ' ' || e[-1] == '\r'))
		*--e = '\0';
	while (*b == ' ')
		b++;
	memmove(s, b, strlen(b) + 1);
}

/* Equal texts; a placeholder "<...>" matches the spec's, whatever its words (<reason>, <e.g ...>). */
static int
same_text(const struct reply_row *r, const char *spec)
{
	const char *lt, *gt, *slt, *sgt;

	if (!r->has_arg)
		return strcmp(r->text, spec) == 0;
	lt = strchr(r->text, '<');
	gt = strchr(r->text, '>');
	slt = strchr(spec, '<');
	sgt = slt ? strchr(slt, '>') : NULL;
	if (lt == NULL || gt == NULL || slt == NULL || sgt == NULL)
		return 0;
	return lt - r->text == slt - spec && strncmp(r->text, spec, (size_t)(lt - r->text)) == 0 &&
	    strcmp(gt + 1, sgt + 1) == 0;
}

/* Every "code [xcode] | text | ..." row of the spec has exactly one twin in the table, in order. */
static void
test_table_matches_spec(void **state)
{
	char *spec = slurp(SPEC_FILE), *line, *save = NULL;
	unsigned used[REPLY_COUNT] = { 0 };
	int rows = 0, id, last = -1;

	(void)state;
	assert_non_null(spec);
	for (line = strtok_r(spec, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char head[64], text[512], *bar1, *bar2;
		int code, found = -1;
		char xcode[16] = "";

		if (line[0] < '2' || line[0] > '5' || (bar1 = strchr(line, '|')) == NULL)
			continue;
		if ((bar2 = strchr(bar1 + 1, '|')) == NULL)
			continue;
		snprintf(head, sizeof(head), "%.*s", (int)(bar1 - line), line);
		snprintf(text, sizeof(text), "%.*s", (int)(bar2 - bar1 - 1), bar1 + 1);
		trim(text);
		if (sscanf(head, "%d %15s", &code, xcode) < 1)
			continue;
		for (id = 0; id < SPEC_ROWS; id++) {
			const struct reply_row *r = reply_get(id);
			if (used[id] || r->code != code || !same_text(r, text))
				continue;
			if ((r->xcode ? r->xcode : "") [0] == '\0' ? xcode[0] != '\0' :
			    strcmp(r->xcode, xcode) != 0)
				continue;
			found = id;
			break;
		}
		if (found < 0)
			fail_msg("spec row not in the table: %d %s %s", code, xcode, text);
		assert_true(found > last);	/* same order as the spec */
		last = found;
		used[found] = 1;
		rows++;
	}
	assert_int_equal(rows, SPEC_ROWS);
	free(spec);
}

/* The table rows of a spec text ("NNN ..." lines), in order, the rest dropped. */
static char *
spec_rows(const char *text)
{
	char *out = calloc(1, strlen(text) + 1), *o = out;
	const char *p = text;

	assert_non_null(out);
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p + 1) : strlen(p);
		if (n >= 3 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2])) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	return out;
}

/*
 * The shipped copy has the contract's rows byte for byte, when the contract
 * is beside us; its prose speaks of Postern (no delivery-report API: DSNs).
 */
static void
test_copy_is_current(void **state)
{
	char *ours = slurp(SPEC_FILE), *theirs = slurp(SHARED_SPEC_FILE), *a, *b;

	(void)state;
	assert_non_null(ours);
	if (theirs == NULL) {
		free(ours);
		skip();
	}
	a = spec_rows(ours);
	b = spec_rows(theirs);
	assert_true(strlen(a) > 1000);
	assert_string_equal(a, b);
	/* The original API's wording about delivery reports is not Postern's. */
	assert_null(strstr(ours, "delivery reports"));
	assert_non_null(strstr(ours, "delivery status notification"));
	free(a);
	free(b);
	free(ours);
	free(theirs);
}

struct fmt_case {
	enum reply_id id;
	const char *arg;
	const char *want;
};

static void
test_format(void **state)
{
	static const struct fmt_case cases[] = {
		{ R_SENDER_OK, "<alice@example.com>", "250 2.1.0 Sender <alice@example.com> OK" },
		{ R_RCPT_OK, "<b@x.org>", "250 2.1.5 Recipient <b@x.org> OK" },
		{ R_QUEUED, "0190c1a2-7b3c-7d4e-8f00-123456789abc",
		  "250 2.6.0 Message queued as 0190c1a2-7b3c-7d4e-8f00-123456789abc" },
		{ R_DATA_GO, NULL, "354 End data with <CR><LF>.<CR><LF>" },
		{ R_PREMATURE_END, NULL, "554 5.6.0 Pre-mature end of <CRLF>.<CRLF>" },
		{ R_AUTH_UNSUPPORTED, "CRAM-MD5", "504 5.5.4 Unsupported authentication type CRAM-MD5" },
		{ R_HELP_UNKNOWN, "foo bar", "504 5.5.4 Unrecognized command parameter foo bar" },
		{ R_UNREADABLE, "Local address ends with dot",
		  "554 5.6.0 Could not read the message. Local address ends with dot" },
		{ R_BAD_SENDER, "<a..b@x>", "501 5.1.7 Bad sender address <a..b@x>" },
		{ R_AUTH_NO_NUL, NULL, "501 5.5.4 Does not contain NUL (\\0)" },
		{ R_EHLO_SYNTAX, NULL, "501 5.5.2 Syntax: EHLO <hostname>" },
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = reply_format(cases[i].id, cases[i].arg, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	/* Truncation is safe and NUL-terminated. */
	assert_int_equal(reply_format(R_SYSTEM_FAILURE, NULL, out, 8), 7);
	assert_string_equal(out, "421 4.3");
	reply_text(R_SENDER_OK, "<a@b>", out, sizeof(out));
	assert_string_equal(out, "Sender <a@b> OK");
}

static void
test_rows_are_ascii_without_percent(void **state)
{
	int id;

	(void)state;
	for (id = 0; id < REPLY_COUNT; id++) {
		const struct reply_row *r = reply_get(id);
		const unsigned char *p;
		assert_non_null(r->text);
		assert_true(r->code >= 200 && r->code <= 599);
		if (r->xcode)
			assert_int_equal(r->xcode[0] - '0', r->code / 100);
		for (p = (const unsigned char *)r->text; *p; p++) {
			assert_true(*p >= 0x20 && *p < 0x7f);
			assert_true(*p != '%');
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_spec),
		cmocka_unit_test(test_copy_is_current),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_rows_are_ascii_without_percent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
