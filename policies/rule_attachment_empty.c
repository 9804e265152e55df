/* rule_attachment_empty.c - rule 9: no attachment without content (see rules.h). */
#include "rules.h"

#include <string.h>

static int
attachment_empty_end(postern_msg *m, const postern_part *p)
{
	int attachment;

	if (!rule_part_is_leaf(p) || p->decoded_size != 0)
		return POSTERN_CONTINUE;
	/* A named text part shown inline is body text, not an attachment. */
	attachment = strcmp(p->disposition, "attachment") == 0 ||
	    (p->filename[0] != '\0' && strncmp(p->content_type, "text/", 5) != 0);
	if (!attachment)
		return POSTERN_CONTINUE;
	return rule_reply(m, R_EMPTY_ATTACHMENT, NULL);
}

const postern_policy rule_attachment_empty = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "attachment_empty",
	.description = "refuse attachments with zero bytes of decoded content",
	.flags = POSTERN_POLICY_WANTS_BODY,
	.part_end = attachment_empty_end,
};
