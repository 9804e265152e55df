/* clock_ms.c - the two clocks of every Postern program in milliseconds (clock_ms.h). */
#include "clock_ms.h"

#include <time.h>

static uint64_t
clock_ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
clock_ms_wall(void)
{
	return clock_ms_of(CLOCK_REALTIME);
}

uint64_t
clock_ms_mono(void)
{
	return clock_ms_of(CLOCK_MONOTONIC);
}
