/*
 * subjectfilter.c - example Postern policy module: refuse messages whose
 * Subject contains one of a configured list of words (case-insensitive).
 *
 *	policy_modules = /usr/local/lib/postern/subjectfilter.so
 *	subjectfilter_words = lottery, wire transfer, viagra
 *	subjectfilter_reply = 554 5.7.1 Subject refused by local policy
 *
 * Build out of tree:
 *	cc -shared -fPIC $(pkg-config --cflags postern-policy) -o subjectfilter.so subjectfilter.c
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <postern/policy.h>

#define SF_MAX_WORDS	64
#define SF_WORD_MAX	128

/* Module-wide settings: read-only once init/reload has built them, so threads may share them. */
struct sf_config {
	char words[SF_MAX_WORDS][SF_WORD_MAX];
	size_t nwords;
	char code[4];
	char xcode[16];
	char text[256];
};

/* Split "a, b ,c" into cfg->words; returns -1 on a setting the module cannot honour. */
static int
sf_parse_words(postern_module *mod, struct sf_config *cfg, const char *list)
{
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + n;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e > s) {
			if (cfg->nwords == SF_MAX_WORDS || (size_t)(e - s) >= SF_WORD_MAX) {
				postern_module_error(mod, "subjectfilter_words: at most %d words of %d bytes",
				    SF_MAX_WORDS, SF_WORD_MAX - 1);
				return -1;
			}
			memcpy(cfg->words[cfg->nwords], s, (size_t)(e - s));
			cfg->words[cfg->nwords][e - s] = '\0';
			cfg->nwords++;
		}
		p += n + (end ? 1 : 0);
	}
	return 0;
}

/* "554 5.7.1 text" into its three parts. */
static int
sf_parse_reply(postern_module *mod, struct sf_config *cfg, const char *reply)
{
	if (sscanf(reply, "%3[0-9] %15[0-9.] %255[^\n]", cfg->code, cfg->xcode, cfg->text) != 3 ||
	    cfg->code[0] != '5') {
		postern_module_error(mod, "subjectfilter_reply: expected \"5xx x.y.z text\", got \"%s\"",
		    reply);
		return -1;
	}
	return 0;
}

static int
sf_init(postern_module *mod)
{
	struct sf_config *cfg = calloc(1, sizeof(*cfg));
	const char *words = postern_module_config(mod, "words");
	const char *reply = postern_module_config(mod, "reply");

	if (cfg == NULL) {
		postern_module_error(mod, "out of memory");
		return -1;
	}
	if (sf_parse_words(mod, cfg, words ? words : "") != 0 ||
	    sf_parse_reply(mod, cfg, reply ? reply : "554 5.7.1 Subject refused by local policy") != 0) {
		free(cfg);
		return -1;
	}
	postern_module_set_data(mod, cfg);
	return 0;
}

static void
sf_teardown(postern_module *mod)
{
	free(postern_module_data(mod));
	postern_module_set_data(mod, NULL);
}

/* Case-insensitive substring search (ASCII words). */
static int
sf_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static int
sf_header(postern_msg *m, const char *name, const char *value)
{
	const struct sf_config *cfg = postern_module_data(postern_msg_module(m));
	size_t i;

	if (strcasecmp(name, "Subject") != 0)
		return POSTERN_CONTINUE;
	for (i = 0; i < cfg->nwords; i++) {
		if (sf_contains(value, cfg->words[i])) {
			postern_msg_log(m, "subject contains \"%s\"", cfg->words[i]);
			postern_msg_reply(m, cfg->code, cfg->xcode, cfg->text);
			return POSTERN_REJECT;
		}
	}
	return POSTERN_CONTINUE;
}

static const char *const sf_keys[] = { "words", "reply", NULL };

const postern_policy postern_policy_module = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "subjectfilter",
	.description = "refuse messages whose Subject contains a configured word",
	.config_keys = sf_keys,
	.init = sf_init,
	.teardown = sf_teardown,
	.header = sf_header,
};
