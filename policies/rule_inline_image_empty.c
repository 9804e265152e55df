/* rule_inline_image_empty.c - rule 10: no inline image without content (see rules.h). */
#include "part_class.h"
#include "rules.h"

static int
inline_image_empty_end(postern_msg *m, const postern_part *p)
{
	if (p->decoded_size != 0 || part_class(p) != PART_CLASS_INLINE_IMAGE)
		return POSTERN_CONTINUE;
	return rule_reply(m, R_EMPTY_INLINE_IMAGE, NULL);
}

const postern_policy rule_inline_image_empty = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "inline_image_empty",
	.description = "refuse inline images with zero bytes of decoded content",
	.flags = POSTERN_POLICY_WANTS_BODY,
	.part_end = inline_image_empty_end,
};
