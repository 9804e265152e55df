/* backoff.h - when to try a deferred message again, and when a deferral becomes final. */
#ifndef POSTERN_RELAY_BACKOFF_H
#define POSTERN_RELAY_BACKOFF_H

#include <stdint.h>

/* Seconds to wait after the attempts-th failed attempt (1, 2, ...): min, 2 min, 4 min ... capped at max. */
unsigned backoff_delay(unsigned attempts, unsigned min_s, unsigned max_s);
/*
 * The next attempt's time: now + the delay, but not after arrival +
 * lifetime, so that the last try (whose deferral is final) comes when
 * the lifetime ends rather than up to max_s later.
 */
uint64_t backoff_next_ms(uint64_t now_ms, uint64_t arrival_ms, unsigned attempts, unsigned min_s,
    unsigned max_s, unsigned lifetime_s);
/* Has the message been queued for lifetime_s or more (a deferral now is final)? */
int backoff_expired(uint64_t now_ms, uint64_t arrival_ms, unsigned lifetime_s);

#endif
