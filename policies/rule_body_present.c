/* rule_body_present.c - rule 8: a text body with visible content, or an attachment (see rules.h). */
#include "rules.h"

#include <string.h>

#define BP_FOUND	0x1	/* body text or an attachment seen */
#define BP_IN_TEXT	0x2	/* the current leaf is text/plain or text/html */

static int
body_present_begin(postern_msg *m, const postern_part *p)
{
	unsigned f = rule_flags(m) & ~BP_IN_TEXT;

	if (strcmp(p->disposition, "attachment") == 0 || p->filename[0] != '\0')
		f |= BP_FOUND;
	else if (rule_part_is_leaf(p) && (strcmp(p->content_type, "text/plain") == 0 ||
	    strcmp(p->content_type, "text/html") == 0))
		f |= BP_IN_TEXT;
	rule_set_flags(m, f);
	return POSTERN_CONTINUE;
}

static int
body_present_data(postern_msg *m, const postern_part *p, const unsigned char *data, size_t len)
{
	unsigned f = rule_flags(m);
	size_t i;

	(void)p;
	if ((f & BP_FOUND) || !(f & BP_IN_TEXT))
		return POSTERN_CONTINUE;
	for (i = 0; i < len; i++) {
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n' &&
		    data[i] != '\f' && data[i] != '\v') {
			rule_set_flags(m, f | BP_FOUND);
			break;
		}
	}
	return POSTERN_CONTINUE;
}

static int
body_present_eom(postern_msg *m)
{
	if (rule_flags(m) & BP_FOUND)
		return POSTERN_CONTINUE;
	return rule_reply(m, R_NO_BODY, NULL);
}

const postern_policy rule_body_present = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "body_present",
	.description = "a text/plain or text/html body with visible text, or an attachment",
	.flags = POSTERN_POLICY_WANTS_BODY,
	.part_begin = body_present_begin,
	.part_data = body_present_data,
	.eom = body_present_eom,
};
