/*
 * fdslots.h - libevent's bookkeeping for every descriptor number the
 * sessions will use, made before the first connection instead of during
 * a burst (see fdslots.c for why).
 */
#ifndef POSTERN_FDSLOTS_H
#define POSTERN_FDSLOTS_H

struct event_base;

/* At most this many (about 3 MiB of entries, a fraction of a second at start). */
#define FDSLOTS_MAX	65536

/*
 * Make base's entries for the descriptor numbers below nfds (capped at
 * RLIMIT_NOFILE) that are free now. Call once, right after the base is
 * made and before any thread starts: it borrows free descriptor numbers.
 * Returns how many entries it made.
 */
unsigned fdslots_reserve(struct event_base *base, unsigned nfds);

#endif
