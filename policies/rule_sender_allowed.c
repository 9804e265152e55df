/*
 * rule_sender_allowed.c - rule 2: the logged-in account may use this MAIL FROM (see rules.h).
 *
 * The account table is loaded at init from accounts_file and replaced as a
 * whole on SIGHUP (teardown + init in a new generation), so message
 * callbacks only read it: no lock.
 */
#include "accounts.h"
#include "rules.h"

#include <string.h>

static int
sender_allowed_init(postern_module *mod)
{
	const char *path = postern_module_setting(mod, "accounts_file");
	char err[512];
	accounts *a;

	if ((a = accounts_load(path ? path : "", err, sizeof(err))) == NULL) {
		postern_module_error(mod, "%s", err);
		return -1;
	}
	postern_module_set_data(mod, a);
	return 0;
}

static void
sender_allowed_teardown(postern_module *mod)
{
	accounts_free(postern_module_data(mod));
}

static int
sender_allowed_mail(postern_msg *m, const char *sender)
{
	const accounts *a = postern_module_data(postern_msg_module(m));
	const char *name = postern_msg_account(m), *at;
	const account *acct;
	char local[512];
	size_t llen;

	/* No {auth_authen}: the MTA let the client in without a login, nothing to check against. */
	if (name == NULL)
		return POSTERN_CONTINUE;
	if ((acct = accounts_find(a, name)) == NULL || account_blocked(acct))
		return rule_reply(m, R_SENDER_NOT_ALLOWED, NULL);
	/* The domain follows the last '@': a quoted local part may hold one too. */
	if ((at = strrchr(sender, '@')) == NULL || at == sender || at[1] == '\0')
		return rule_reply(m, R_SENDER_NOT_ALLOWED, NULL);
	llen = (size_t)(at - sender);
	if (llen >= sizeof(local))
		return rule_reply(m, R_SENDER_NOT_ALLOWED, NULL);
	memcpy(local, sender, llen);
	local[llen] = '\0';
	if (!account_sender_allowed(acct, local, at + 1))
		return rule_reply(m, R_SENDER_NOT_ALLOWED, NULL);
	return POSTERN_CONTINUE;
}

const postern_policy rule_sender_allowed = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "sender_allowed",
	.description = "the {auth_authen} account may use the MAIL FROM address (accounts_file)",
	.init = sender_allowed_init,
	.teardown = sender_allowed_teardown,
	.mail = sender_allowed_mail,
};
