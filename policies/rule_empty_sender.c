/* rule_empty_sender.c - rule 1: refuse the null sender <> at MAIL FROM (see rules.h). */
#include "rules.h"

static int
empty_sender_mail(postern_msg *m, const char *sender)
{
	if (*sender != '\0')
		return POSTERN_CONTINUE;
	return rule_reply(m, R_EMPTY_SENDER, NULL);
}

const postern_policy rule_empty_sender = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "empty_sender",
	.description = "refuse the null sender <> (bounces are not submitted)",
	.mail = empty_sender_mail,
};
