/* rule_inline_image_empty.c - rule 10: no Content-ID image without content (see rules.h). */
#include "rules.h"

#include <string.h>

static int
inline_image_empty_end(postern_msg *m, const postern_part *p)
{
	if (!rule_part_is_leaf(p) || p->decoded_size != 0 || p->content_id[0] == '\0' ||
	    strncmp(p->content_type, "image/", 6) != 0)
		return POSTERN_CONTINUE;
	return rule_reply(m, R_EMPTY_INLINE_IMAGE, NULL);
}

const postern_policy rule_inline_image_empty = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "inline_image_empty",
	.description = "refuse Content-ID images with zero bytes of decoded content",
	.flags = POSTERN_POLICY_WANTS_BODY,
	.part_end = inline_image_empty_end,
};
