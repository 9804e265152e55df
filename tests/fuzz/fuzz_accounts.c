/* fuzz_accounts.c - libFuzzer target: accounts file parser and sender matching on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	accounts *a;
	const account *acct;

	err[0] = '\0';
	a = accounts_parse("fuzz.acc", (const char *)data, size, err, sizeof(err));
	if (a == NULL) {
		if (strncmp(err, "fuzz.acc", 8) != 0)
			abort();
		return 0;
	}
	/* The dummy for unknown names is always some crypt(3) setting (lib/crypt_cost.c chose it). */
	if (accounts_dummy_hash(a)[0] != '$')
		abort();
	/* Lookups never crash; crypt(3) is not run here (too slow for fuzzing). */
	if ((acct = accounts_find(a, "alice")) != NULL) {
		(void)account_blocked(acct);
		(void)account_sender_allowed(acct, "alice", "example.com");
		(void)account_sender_allowed(acct, "x", "bücher.example");
	}
	accounts_free(a);
	return 0;
}
