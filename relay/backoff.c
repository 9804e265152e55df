/* backoff.c - retry arithmetic: doubling delays between relay_backoff_min and relay_backoff_max, and the queue lifetime. */
#include "backoff.h"

unsigned
backoff_delay(unsigned attempts, unsigned min_s, unsigned max_s)
{
	uint64_t d = min_s ? min_s : 1;
	unsigned i;

	for (i = 1; i < attempts && d < max_s; i++)
		d *= 2;
	return d > max_s ? max_s : (unsigned)d;
}

uint64_t
backoff_next_ms(uint64_t now_ms, uint64_t arrival_ms, unsigned attempts, unsigned min_s,
    unsigned max_s, unsigned lifetime_s)
{
	uint64_t next = now_ms + (uint64_t)backoff_delay(attempts, min_s, max_s) * 1000;
	uint64_t end = arrival_ms + (uint64_t)lifetime_s * 1000;

	if (next > end)
		next = end > now_ms ? end : now_ms;
	return next;
}

int
backoff_expired(uint64_t now_ms, uint64_t arrival_ms, unsigned lifetime_s)
{
	return now_ms >= arrival_ms + (uint64_t)lifetime_s * 1000;
}
