/* rule_mime_structure.c - rule 3: the MIME structure must be sound (see rules.h). */
#include "mime.h"
#include "rules.h"

static int
mime_structure_eom(postern_msg *m)
{
	const char *why = postern_msg_mime_error(m);

	if (why == NULL)
		return POSTERN_CONTINUE;
	postern_msg_log(m, "MIME error: %s", why);
	/* A header limit is no broken multipart: say which limit (also in a plain message). */
	if (mime_error_is_header_limit(why))
		return rule_reply(m, R_UNREADABLE, why);
	return rule_reply(m, R_MIME_CORRUPT, NULL);
}

const postern_policy rule_mime_structure = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "mime_structure",
	.description = "refuse broken MIME: boundaries, nesting, part count, part headers, base64",
	/* The verdict depends on every body byte: keep the engine scanning. */
	.flags = POSTERN_POLICY_WANTS_BODY,
	.eom = mime_structure_eom,
};
