/*
 * rule_alignment.c - rule 5: every From domain (and, with
 * policy_alignment_sender, the Sender domain) aligns with the envelope
 * sender's (see rules.h).
 *
 * Domains compare in lowercase A-label form, so an IDN From domain written
 * in UTF-8 matches the same domain in the envelope in xn-- form. Relaxed
 * alignment compares organizational domains (libpsl registrable domain),
 * as DMARC does. No per-message state: each From header is checked against
 * the envelope sender as it arrives.
 */
#include "addr.h"
#include "rules.h"

#include <ctype.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct alignment_conf {
	int relaxed;
	int sender_too;			/* policy_alignment_sender: Sender: is checked as From: is */
	const psl_ctx_t *psl;		/* read-only once loaded: shared by all threads */
	psl_ctx_t *psl_owned;		/* psl_latest() result, freed at teardown */
};

struct alignment_check {
	const struct alignment_conf *conf;
	const char *env;		/* envelope domain, A-label, lowercase ("" if unusable) */
	int misaligned;
};

static int
alignment_init(postern_module *mod)
{
	const char *mode = postern_module_setting(mod, "policy_alignment");
	const char *sender = postern_module_setting(mod, "policy_alignment_sender");
	struct alignment_conf *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		postern_module_error(mod, "out of memory");
		return -1;
	}
	c->relaxed = mode != NULL && strcmp(mode, "relaxed") == 0;
	c->sender_too = sender != NULL && strcmp(sender, "yes") == 0;
	if (c->relaxed) {
		/* The newest of the system list (package publicsuffix) and libpsl's built-in one. */
		if ((c->psl = c->psl_owned = psl_latest(NULL)) == NULL)
			c->psl = psl_builtin();
		if (c->psl == NULL) {
			postern_module_error(mod, "policy_alignment = relaxed needs the Public Suffix "
			    "List: apt-get install publicsuffix");
			free(c);
			return -1;
		}
	}
	postern_module_set_data(mod, c);
	return 0;
}

static void
alignment_teardown(postern_module *mod)
{
	struct alignment_conf *c = postern_module_data(mod);

	if (c == NULL)
		return;
	psl_free(c->psl_owned);
	free(c);
}

/* Lowercase A-label form; domain literals ("[192.0.2.1]") are kept, lowercased. */
static int
alignment_normalize(const char *domain, char *out, size_t outsize)
{
	size_t i;

	if (domain[0] == '[') {
		if (strlen(domain) >= outsize)
			return -1;
		for (i = 0; domain[i]; i++)
			out[i] = (char)tolower((unsigned char)domain[i]);
		out[i] = '\0';
		return 0;
	}
	return addr_domain_to_ascii(domain, out, outsize);
}

static int
alignment_same(const struct alignment_conf *c, const char *a, const char *b)
{
	const char *oa, *ob;

	if (strcmp(a, b) == 0)
		return 1;
	if (!c->relaxed || a[0] == '[' || b[0] == '[')
		return 0;
	/* NULL for a public suffix itself: such a domain only aligns with itself. */
	oa = psl_registrable_domain(c->psl, a);
	ob = psl_registrable_domain(c->psl, b);
	return oa != NULL && ob != NULL && strcmp(oa, ob) == 0;
}

static int
alignment_mailbox(void *ctx, const addr_mailbox *mb)
{
	struct alignment_check *k = ctx;
	char dom[ADDR_DOMAIN_MAX];

	if (k->env[0] == '\0' || alignment_normalize(mb->domain, dom, sizeof(dom)) != 0 ||
	    !alignment_same(k->conf, dom, k->env)) {
		k->misaligned = 1;
		return 1;	/* one is enough */
	}
	return 0;
}

static int
alignment_header(postern_msg *m, const char *name, const char *value)
{
	struct alignment_check k = { 0 };
	const char *sender, *at, *reason;
	char env[ADDR_DOMAIN_MAX] = "";

	k.conf = postern_module_data(postern_msg_module(m));
	/*
	 * Sender: names who sent a message written by From: (a secretary, a
	 * list); mail clients show it as "on behalf of", so a forged one
	 * deceives as a forged From: does. Reply-To and Resent-From are not
	 * checked (postern-milter(8)).
	 */
	if (strcasecmp(name, "From") != 0 &&
	    !(k.conf->sender_too && strcasecmp(name, "Sender") == 0))
		return POSTERN_CONTINUE;
	sender = postern_msg_sender(m);
	if ((at = strrchr(sender, '@')) != NULL && alignment_normalize(at + 1, env, sizeof(env)) != 0)
		env[0] = '\0';
	k.env = env;
	/* A From that does not parse is header_addresses' business (an earlier rule). */
	if (addr_parse_list(value, strlen(value), 1, alignment_mailbox, &k, &reason) < 0 &&
	    !k.misaligned)
		return POSTERN_CONTINUE;
	if (k.misaligned)
		return rule_reply(m, R_NOT_ALIGNED, NULL);
	return POSTERN_CONTINUE;
}

const postern_policy rule_alignment = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "alignment",
	.description = "every From domain aligns with the envelope sender (policy_alignment, "
	    "policy_alignment_sender)",
	.init = alignment_init,
	.teardown = alignment_teardown,
	.header = alignment_header,
};
