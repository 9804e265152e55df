/* initfail.c - test module whose init fails with a reason: the loader must report it with the file. */
#include <postern/policy.h>

static int
initfail_init(postern_module *mod)
{
	postern_module_error(mod, "initfail_needed is not set");
	return -1;
}

const postern_policy postern_policy_module = {
	.abi_version = POSTERN_POLICY_ABI_VERSION,
	.name = "initfail",
	.init = initfail_init,
};
