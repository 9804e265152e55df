/* rule_subject_present.c - rule 6: a Subject with visible text (see rules.h). */
#include "addr.h"
#include "rules.h"

#include <string.h>
#include <strings.h>

#define SP_PRESENT	0x1
#define SP_PEEK		4096	/* decoded bytes looked at: whitespace beyond that is absurd */

static int
subject_present_header(postern_msg *m, const char *name, const char *value)
{
	char text[SP_PEEK];
	size_t n, i;

	if ((rule_flags(m) & SP_PRESENT) || strcasecmp(name, "Subject") != 0)
		return POSTERN_CONTINUE;
	/* "=?utf-8?q?_?=" is a space too: judge the decoded text. */
	n = addr_decode_2047(value, strlen(value), text, sizeof(text));
	for (i = 0; i < n; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
			rule_set_flags(m, SP_PRESENT);
			break;
		}
	}
	return POSTERN_CONTINUE;
}

/* All headers seen: an empty or whitespace-only Subject counts as none. */
static int
subject_present_eoh(postern_msg *m)
{
	if (rule_flags(m) & SP_PRESENT)
		return POSTERN_CONTINUE;
	return rule_reply(m, R_NO_SUBJECT, NULL);
}

const postern_policy rule_subject_present = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "subject_present",
	.description = "a Subject header with text (empty or whitespace-only counts as missing)",
	.header = subject_present_header,
	.eoh = subject_present_eoh,
};
