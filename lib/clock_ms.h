/* clock_ms.h - the two clocks of every Postern program, in milliseconds. */
#ifndef POSTERN_CLOCK_MS_H
#define POSTERN_CLOCK_MS_H

#include <stdint.h>

/* Wall time: arrival stamps in the spool and journals, which other programs read. */
uint64_t clock_ms_wall(void);
/* Never steps back: durations, deadlines and backoff. */
uint64_t clock_ms_mono(void);

#endif
