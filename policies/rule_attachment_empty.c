/* rule_attachment_empty.c - rule 9: no attachment without content (see rules.h). */
#include "part_class.h"
#include "rules.h"

static int
attachment_empty_end(postern_msg *m, const postern_part *p)
{
	if (p->decoded_size != 0 || part_class(p) != PART_CLASS_ATTACHMENT)
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
