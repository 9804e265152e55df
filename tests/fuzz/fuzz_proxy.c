/* fuzz_proxy.c - libFuzzer target for frontend/proxy.c: bounds, and the same verdict whole and split as a peeking reader would feed it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../frontend/proxy.h"

#define CHECK(cond) do {							\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_proxy: invariant failed at line %d: %s\n", \
		    __LINE__, #cond);						\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feed in pieces of step bytes (0: as much as proxy_want allows); returns the status, *taken the bytes used. */
static int
run(const uint8_t *data, size_t size, size_t step, size_t *taken, struct proxy_result *res)
{
	struct proxy_parser p;
	const char *why = NULL;
	size_t off = 0;
	int st = PROXY_MORE;

	proxy_init(&p);
	memset(res, 0, sizeof(*res));
	while (off < size) {
		size_t want = proxy_want(&p), n = step ? step : want, used;

		CHECK(want > 0);
		if (n > want)
			n = want;
		if (n > size - off)
			n = size - off;
		st = proxy_feed(&p, data + off, n, &used, res, &why);
		if (st == PROXY_ERROR) {
			CHECK(why != NULL && why[0] != '\0');
			break;
		}
		CHECK(used <= n);
		off += used;
		if (st == PROXY_DONE)
			break;
		CHECK(used == n);
	}
	*taken = off;
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_result a, b;
	size_t ta, tb, step;
	int sa, sb;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 17;
	data++;
	size--;
	sa = run(data, size, 0, &ta, &a);
	sb = run(data, size, step, &tb, &b);
	CHECK(sa == sb);
	CHECK(ta <= PROXY_V2_HDR + PROXY_V2_LEN_MAX);
	if (sa == PROXY_DONE) {
		CHECK(ta == tb);
		CHECK(a.version == b.version && a.command == b.command);
		CHECK(a.version == 1 || a.version == 2);
		CHECK(a.version == 2 || ta <= PROXY_V1_MAX);
		if (a.command == PROXY_CMD_PROXY) {
			CHECK(a.src.ss_family == AF_INET || a.src.ss_family == AF_INET6);
			CHECK(a.src.ss_family == a.dst.ss_family);
			CHECK(memcmp(&a.src, &b.src, sizeof(a.src)) == 0);
			CHECK(memcmp(&a.dst, &b.dst, sizeof(a.dst)) == 0);
		}
	}
	return 0;
}
