/*
 * rule_subject_length.c - rule 7: at most policy_subject_max_length characters of Subject (see rules.h).
 *
 * Characters are Unicode code points of the unfolded, RFC 2047 decoded text.
 * The decode buffer is 4 * max + 5 bytes (a code point takes at most 4
 * bytes in UTF-8), never more than the header itself needs: if the decoder
 * fills it, there are more than max code points whatever comes after.
 */
#include "addr.h"
#include "rules.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
subject_length_init(postern_module *mod)
{
	const char *v = postern_module_setting(mod, "policy_subject_max_length");
	char *end;
	unsigned long max;

	max = v ? strtoul(v, &end, 10) : 0;
	if (v == NULL || *end != '\0') {
		postern_module_error(mod, "policy_subject_max_length is not a number");
		return -1;
	}
	postern_module_set_data(mod, (void *)(uintptr_t)max);
	return 0;
}

static int
subject_length_header(postern_msg *m, const char *name, const char *value)
{
	size_t max = (size_t)(uintptr_t)postern_module_data(postern_msg_module(m));
	size_t len = strlen(value), cap, n, i, chars = 0;
	char *text;

	if (strcasecmp(name, "Subject") != 0)
		return POSTERN_CONTINUE;
	cap = max * 4 + 5;
	/* Decoding makes at most 4 UTF-8 bytes of one input byte: never allocate more. */
	if (cap > len * 4 + 5)
		cap = len * 4 + 5;
	if ((text = malloc(cap)) == NULL)
		return rule_reply(m, R_POLICY_INTERNAL, NULL);
	n = addr_decode_2047(value, len, text, cap);
	for (i = 0; i < n; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)	/* not a continuation byte */
			chars++;
	free(text);
	if (chars > max)
		return rule_reply(m, R_SUBJECT_TOO_LONG, NULL);
	return POSTERN_CONTINUE;
}

const postern_policy rule_subject_length = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "subject_length",
	.description = "Subject at most policy_subject_max_length characters after decoding",
	.init = subject_length_init,
	.header = subject_length_header,
};
