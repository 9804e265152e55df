/* test_config_doc.c - postern.conf(5) documents exactly the keys of the config parser's own table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define MAX_KEYS 256

struct names {
	char *v[MAX_KEYS];
	size_t n;
};

static void
names_add(struct names *s, const char *name, size_t len)
{
	assert_true(s->n < MAX_KEYS);
	s->v[s->n] = strndup(name, len);
	assert_non_null(s->v[s->n]);
	s->n++;
}

static int
names_has(const struct names *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return 1;
	return 0;
}

static void
names_free(struct names *s)
{
	while (s->n > 0)
		free(s->v[--s->n]);
}

/* The parser's keys: what `-n` prints for the built-in defaults, one "key = value" a line. */
static void
parser_keys(struct names *s)
{
	char err[CONFIG_ERR_MAX], *buf = NULL, *line, *save;
	size_t len = 0;
	postern_config *cfg = config_parse("defaults", "", 0, err, sizeof(err));
	FILE *f;

	assert_non_null(cfg);
	assert_non_null(f = open_memstream(&buf, &len));
	config_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	config_free(cfg);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *eq = strstr(line, " = ");

		assert_non_null(eq);
		names_add(s, line, (size_t)(eq - line));
	}
	free(buf);
}

/* The page's keys: every ".TP" item whose tag line is ".B name" (the page's form for a key). */
static void
page_keys(struct names *s)
{
	FILE *f = fopen(CONF_PAGE, "r");
	char line[1024];
	int after_tp = 0;

	if (f == NULL)
		fail_msg("%s: cannot open", CONF_PAGE);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\n");

		line[n] = '\0';
		if (after_tp && strncmp(line, ".B ", 3) == 0 &&
		    strspn(line + 3, "abcdefghijklmnopqrstuvwxyz0123456789_") == n - 3 && n > 3)
			names_add(s, line + 3, n - 3);
		after_tp = strcmp(line, ".TP") == 0;
	}
	fclose(f);
}

static void
test_page_matches_parser(void **state)
{
	struct names parser = { .n = 0 }, page = { .n = 0 };
	size_t i, bad = 0;

	(void)state;
	parser_keys(&parser);
	page_keys(&page);
	assert_true(parser.n > 10);
	for (i = 0; i < parser.n; i++) {
		if (!names_has(&page, parser.v[i])) {
			print_error("%s: key %s is not documented (.TP then .B %s)\n", CONF_PAGE,
			    parser.v[i], parser.v[i]);
			bad++;
		}
	}
	for (i = 0; i < page.n; i++) {
		if (!names_has(&parser, page.v[i])) {
			print_error("%s: documents %s, which the config parser does not know\n",
			    CONF_PAGE, page.v[i]);
			bad++;
		}
	}
	names_free(&parser);
	names_free(&page);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_matches_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
