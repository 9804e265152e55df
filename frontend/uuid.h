/* uuid.h - UUIDv7 message ids (RFC 9562): time-ordered, monotonic within the process. */
#ifndef POSTERN_UUID_H
#define POSTERN_UUID_H

#include <stdint.h>

#define UUID_STR_SIZE	37	/* 8-4-4-4-12 lowercase hex + NUL */

/* Generator state: the last timestamp used and the 12-bit sub-millisecond counter. */
struct uuid_gen {
	uint64_t last_ms;
	unsigned counter;
};

/*
 * Next id for clock reading now_ms into out. rand_a carries a counter so
 * that ids made in the same millisecond sort by creation; when it runs
 * out the timestamp is advanced by one (RFC 9562 6.2, method 1).
 */
void uuid_v7_next(struct uuid_gen *g, uint64_t now_ms, char out[UUID_STR_SIZE]);

/* Process-wide generator on the real-time clock (event loop thread only). */
void uuid_v7(char out[UUID_STR_SIZE]);

#endif
