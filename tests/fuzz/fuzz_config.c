/* fuzz_config.c - libFuzzer target: postern.conf parser on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERR_MAX];
	postern_config *c;

	err[0] = '\0';
	c = config_parse("fuzz.conf", (const char *)data, size, err, sizeof(err));
	if (c == NULL) {
		/* Every refusal names the file. */
		if (strncmp(err, "fuzz.conf", 9) != 0)
			abort();
		return 0;
	}
	if (c->smtpd_require_tls != 0 && c->smtpd_require_tls != 1)
		abort();
	/* The module-file claim and the error locator must hold on any accepted file. */
	config_claim_module_files(c);
	if (config_check_extras(c, err, sizeof(err)) != 0 && strncmp(err, "fuzz.conf:", 10) != 0)
		abort();
	{
		char where[256];
		config_where(c, "smtpd_listen", where, sizeof(where));
		if (strncmp(where, "fuzz.conf", 9) != 0)
			abort();
	}
	{
		FILE *f = fopen("/dev/null", "w");
		if (f != NULL) {
			config_print(c, f);
			fclose(f);
		}
	}
	config_free(c);
	return 0;
}
