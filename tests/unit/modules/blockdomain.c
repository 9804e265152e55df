/*
 * blockdomain.c - test module: refuses recipients of the domains in blockdomain_domains at RCPT.
 *
 * It logs from its connect, HELO and RCPT hooks ("connect from ADDR", "helo NAME",
 * "rcpt ADDR"), so that a test sees every hook of a module run, for one added by
 * SIGHUP too. The refusal is the module's own reply, as a site's module would send:
 * 550 5.7.1 Recipient domain blocked by local policy.
 */
#include <postern/policy.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BD_MAX	16
#define BD_LEN	256

struct bd_conf {
	char domains[BD_MAX][BD_LEN];
	int n;
};

static const char *const bd_keys[] = { "domains", NULL };

static int
bd_init(postern_module *mod)
{
	const char *v = postern_module_config(mod, "domains");
	struct bd_conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	while (v != NULL && *v != '\0') {
		size_t len = strcspn(v, ", ");
		if (len > 0) {
			if (c->n == BD_MAX || len >= BD_LEN) {
				postern_module_error(mod, "blockdomain_domains: too many or too long");
				free(c);
				return -1;
			}
			memcpy(c->domains[c->n++], v, len);
		}
		v += len;
		v += strspn(v, ", ");
	}
	postern_module_set_data(mod, c);
	return 0;
}

static void
bd_teardown(postern_module *mod)
{
	free(postern_module_data(mod));
}

static int
bd_connect(postern_msg *m)
{
	postern_msg_log(m, "connect from %s", postern_msg_client_addr(m));
	return POSTERN_CONTINUE;
}

static int
bd_helo(postern_msg *m, const char *helo)
{
	postern_msg_log(m, "helo %s", helo);
	return POSTERN_CONTINUE;
}

static int
bd_rcpt(postern_msg *m, const char *rcpt)
{
	const struct bd_conf *c = postern_module_data(postern_msg_module(m));
	const char *at = strrchr(rcpt, '@');
	int i;

	postern_msg_log(m, "rcpt %s", rcpt);
	for (i = 0; at != NULL && i < c->n; i++) {
		if (strcasecmp(at + 1, c->domains[i]) == 0) {
			postern_msg_reply(m, "550", "5.7.1", "Recipient domain blocked by local policy");
			return POSTERN_REJECT;
		}
	}
	return POSTERN_CONTINUE;
}

const postern_policy postern_policy_module = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "blockdomain",
	.description = "test: refuse recipients in blockdomain_domains at RCPT",
	.config_keys = bd_keys,
	.init = bd_init,
	.teardown = bd_teardown,
	.connect = bd_connect,
	.helo = bd_helo,
	.rcpt = bd_rcpt,
};
