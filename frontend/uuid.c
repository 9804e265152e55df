/* uuid.c - UUIDv7 (RFC 9562): 48-bit unix ms, version 7, counter in rand_a, 62 random bits. */
#include "uuid.h"
#include "clock_ms.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

/* Random bytes, refilled in blocks so a busy server makes one syscall per 32 ids. */
static void
uuid_random(unsigned char *out, size_t n)
{
	static unsigned char pool[256];
	static size_t avail;
	size_t i;

	for (i = 0; i < n; i++) {
		if (avail == 0) {
			ssize_t got = getrandom(pool, sizeof(pool), 0);
			if (got != (ssize_t)sizeof(pool)) {
				/* Never happens after boot; the timestamp and counter still keep ids unique. */
				struct timespec ts;
				size_t j;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				for (j = 0; j < sizeof(pool); j++)
					pool[j] ^= (unsigned char)(ts.tv_nsec >> (j % 24)) + (unsigned char)j;
			}
			avail = sizeof(pool);
		}
		out[i] = pool[--avail];
	}
}

void
uuid_v7_next(struct uuid_gen *g, uint64_t now_ms, char out[UUID_STR_SIZE])
{
	unsigned char b[16], r[10];
	uint64_t ms;
	unsigned ctr;

	uuid_random(r, sizeof(r));
	if (now_ms > g->last_ms) {
		/* New millisecond: random start with the top bit clear leaves room to count. */
		ms = now_ms;
		ctr = ((unsigned)r[8] << 8 | r[9]) & 0x7ff;
	} else {
		/* Same (or an earlier, clock stepped back) millisecond: keep the order. */
		ms = g->last_ms;
		ctr = g->counter + 1;
		if (ctr > 0xfff) {
			ms++;
			ctr = 0;
		}
	}
	g->last_ms = ms;
	g->counter = ctr;

	b[0] = (unsigned char)(ms >> 40);
	b[1] = (unsigned char)(ms >> 32);
	b[2] = (unsigned char)(ms >> 24);
	b[3] = (unsigned char)(ms >> 16);
	b[4] = (unsigned char)(ms >> 8);
	b[5] = (unsigned char)ms;
	b[6] = (unsigned char)(0x70 | (ctr >> 8));	/* version 7 */
	b[7] = (unsigned char)ctr;
	b[8] = (unsigned char)(0x80 | (r[0] & 0x3f));	/* variant 10 */
	b[9] = r[1];
	b[10] = r[2];
	b[11] = r[3];
	b[12] = r[4];
	b[13] = r[5];
	b[14] = r[6];
	b[15] = r[7];
	snprintf(out, UUID_STR_SIZE,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
}

void
uuid_v7(char out[UUID_STR_SIZE])
{
	static struct uuid_gen gen;

	uuid_v7_next(&gen, clock_ms_wall(), out);
}
