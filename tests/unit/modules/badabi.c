/* badabi.c - test module built for another ABI version: the loader must refuse it. */
#include <postern/policy.h>

const postern_policy postern_policy_module = {
	.abi_version = POSTERN_POLICY_ABI_VERSION + 98,
	.name = "badabi",
};
