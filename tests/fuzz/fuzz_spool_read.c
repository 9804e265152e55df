/* fuzz_spool_read.c - libFuzzer target: the spool header block parser on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_read_env env;
	char err[SPOOL_READ_ERR_MAX];
	size_t i;

	if (spool_read_parse((const char *)data, size, size, &env, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || env.buf != NULL)
			abort();
		return 0;
	}
	/* Accepted: the fields are consistent with the input. */
	if (env.data_offset > size || env.size != size - env.data_offset || env.nrcpts == 0)
		abort();
	for (i = 0; i < env.nrcpts; i++)
		if (env.rcpts[i][0] != '<' || strlen(env.rcpts[i]) < 3)
			abort();
	spool_read_free(&env);
	return 0;
}
