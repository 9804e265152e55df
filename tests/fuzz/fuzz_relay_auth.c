/* fuzz_relay_auth.c - libFuzzer target for the relay_auth_file parser (relay/hop_auth.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Relative: the fuzz build passes -I for lib/, include/ and policies/ only. */
#include "../../relay/hop_auth.h"

/* Any bytes as the file; a success must give a non-empty user without blanks and a non-empty password. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *user, *pass;

	if (hop_auth_parse("fuzz", (const char *)data, size, &user, &pass, err, sizeof(err)) == 0) {
		if (user == NULL || pass == NULL || *user == '\0' || *pass == '\0' ||
		    strpbrk(user, " \t\r\n") != NULL || strchr(pass, '\n') != NULL)
			abort();
		hop_auth_free_secret(user);
		hop_auth_free_secret(pass);
	} else if (user != NULL || pass != NULL || err[0] == '\0') {
		abort();
	}
	return 0;
}
