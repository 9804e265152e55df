/* fuzz_endpoint.c - libFuzzer target for lib/endpoint.c: every flag combination, bounds, and format/parse round trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

#define CHECK(cond) do {							\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_endpoint: invariant failed at line %d: %s\n", \
		    __LINE__, #cond);						\
		abort();						\
	}								\
} while (0)

#define ALL (ENDPOINT_ALLOW_PREFIX | ENDPOINT_ALLOW_BARE | ENDPOINT_ALLOW_UNIX | ENDPOINT_ALLOW_ANY)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, err[128], text[ENDPOINT_TEXT_MAX + 64];
	struct endpoint ep, again;
	unsigned flags, defport;

	if (size < 1)
		return 0;
	/* first byte: flags and whether a default port applies */
	flags = data[0] & ALL;
	defport = (data[0] & 0x10) ? 25 : 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	if (endpoint_parse(s, flags, defport, &ep, err, sizeof(err)) == 0) {
		CHECK(ep.kind == ENDPOINT_INET || ep.kind == ENDPOINT_UNIX);
		if (ep.kind == ENDPOINT_UNIX) {
			CHECK(flags & ENDPOINT_ALLOW_UNIX);
			CHECK(ep.path[0] == '/' && strlen(ep.path) < sizeof(ep.path));
		} else {
			CHECK(ep.port >= 1 && ep.port <= 65535);
			CHECK(strlen(ep.host) < sizeof(ep.host));
			CHECK(ep.host[0] != '\0' || (flags & ENDPOINT_ALLOW_ANY));
		}
		endpoint_format(&ep, text, sizeof(text));
		CHECK(endpoint_parse(text, ALL, 0, &again, err, sizeof(err)) == 0);
		CHECK(memcmp(&ep, &again, sizeof(ep)) == 0);
	} else {
		CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
	}
	free(s);
	return 0;
}
