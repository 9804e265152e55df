/* smtpd_clock.c - the two clocks of postern-smtpd in milliseconds (declared in smtpd.h). */
#include "smtpd.h"

#include <time.h>

static uint64_t
smtpd_clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wall time: arrival stamps in the spool, which other programs read. */
uint64_t
smtpd_now_ms(void)
{
	return smtpd_clock_ms(CLOCK_REALTIME);
}

/* Never steps back: durations, deadlines and backoff. */
uint64_t
smtpd_mono_ms(void)
{
	return smtpd_clock_ms(CLOCK_MONOTONIC);
}
