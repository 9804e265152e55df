/* rule_header_addresses.c - rule 4: address headers must parse, From exactly once (see rules.h). */
#include "addr.h"
#include "rules.h"

#include <string.h>
#include <strings.h>

#define HA_FROM_SEEN	0x1

/* Address headers and whether an empty list (a group such as "undisclosed-recipients:;") is fine. */
static const struct {
	const char *name;
	int allow_empty;
} ha_headers[] = {
	{ "From", 0 }, { "Sender", 0 }, { "Reply-To", 1 }, { "To", 1 }, { "Cc", 1 }, { "Bcc", 1 },
};

static int
ha_count(void *ctx, const addr_mailbox *mb)
{
	(void)mb;
	(*(size_t *)ctx)++;
	return 0;
}

static int
header_addresses_header(postern_msg *m, const char *name, const char *value)
{
	const char *reason = NULL;
	size_t i, n = 0;

	for (i = 0; i < sizeof(ha_headers) / sizeof(ha_headers[0]); i++)
		if (strcasecmp(name, ha_headers[i].name) == 0)
			break;
	if (i == sizeof(ha_headers) / sizeof(ha_headers[0]))
		return POSTERN_CONTINUE;
	if (i == 0) {
		/* Two From headers let a reader and a checker see different authors. */
		if (rule_flags(m) & HA_FROM_SEEN)
			return rule_reply(m, R_UNREADABLE, "Multiple From headers");
		rule_set_flags(m, rule_flags(m) | HA_FROM_SEEN);
	}
	if (addr_parse_list(value, strlen(value), ha_headers[i].allow_empty, ha_count, &n,
	    &reason) != 0)
		return rule_reply(m, R_UNREADABLE, reason ? reason : "Invalid address");
	if (n == 0 && !ha_headers[i].allow_empty)
		return rule_reply(m, R_UNREADABLE, i == 0 ? "No address in From header" :
		    "No address in Sender header");
	return POSTERN_CONTINUE;
}

static int
header_addresses_eoh(postern_msg *m)
{
	if (!(rule_flags(m) & HA_FROM_SEEN))
		return rule_reply(m, R_UNREADABLE, "Missing From header");
	return POSTERN_CONTINUE;
}

const postern_policy rule_header_addresses = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "header_addresses",
	.description = "From, Sender, Reply-To, To, Cc and Bcc must parse; exactly one From",
	.header = header_addresses_header,
	.eoh = header_addresses_eoh,
};
