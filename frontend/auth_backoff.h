/*
 * auth_backoff.h - when an AUTH check may run: failure backoff per client
 * address, per client network (/24, /64) and per account name, decided
 * BEFORE the password is checked.
 *
 * Why before: a delay applied to the failure reply only is an oracle (the
 * right password answers at once, a wrong one late). Here an attempt is
 * admitted with a start time that depends only on earlier attempts; the
 * check runs at that time and its answer goes out as soon as it is known,
 * whatever it is. Checks still in flight count as failures until they are
 * known, so parallel connections cannot run guesses side by side, and an
 * attempt that would have to wait longer than the cap is refused (454)
 * without any check: that bounds the crypt(3) work one client can cause.
 *
 * Pure bookkeeping: the caller passes the monotonic clock and runs the
 * timers (session.c), so every rule is unit-tested without a socket.
 */
#ifndef POSTERN_AUTH_BACKOFF_H
#define POSTERN_AUTH_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_BACKOFF_BASE_MS	1000		/* delay after the first failure */
#define AUTH_BACKOFF_CAP_MS	30000		/* largest delay between two checks of a key */
#define AUTH_BACKOFF_WAIT_MAX_MS 60000		/* an attempt waiting longer is refused */
#define AUTH_BACKOFF_IDLE_MS	(15 * 60 * 1000) /* failures forgotten after this quiet time */
#define AUTH_BACKOFF_NET_FREE	8		/* failures a network has before it is slowed */
#define AUTH_BACKOFF_KEY_MAX	300		/* "user:" + an AUTH_NAME_MAX name fits */

typedef struct auth_backoff auth_backoff;

enum auth_backoff_key { AUTH_KEY_IP, AUTH_KEY_NET, AUTH_KEY_USER, AUTH_KEY_COUNT };

/* One attempt: the keys it is counted under, and when its check may start. */
struct auth_attempt {
	char key[AUTH_KEY_COUNT][AUTH_BACKOFF_KEY_MAX];
	uint64_t start_ms;
	uint64_t wait_ms;		/* start_ms - arrival, for the log */
};

auth_backoff *auth_backoff_new(size_t max_entries);
void auth_backoff_free(auth_backoff *b);

/*
 * Fill a's keys: "ip:ADDR", "net:ADDR/24" or "net:ADDR/64" (an address
 * that does not parse counts as its own network), "user:NAME".
 */
void auth_attempt_init(struct auth_attempt *a, const char *addr, const char *user);

/*
 * Admit a at now: 0 and a->start_ms set (the check may start then; the
 * attempt is counted in flight until auth_backoff_done), or -1 when it
 * would have to wait more than AUTH_BACKOFF_WAIT_MAX_MS (nothing counted:
 * answer 454 without checking).
 */
int auth_backoff_admit(auth_backoff *b, struct auth_attempt *a, uint64_t now_ms);

enum auth_backoff_outcome { AUTH_OUTCOME_FAILED, AUTH_OUTCOME_OK, AUTH_OUTCOME_NONE };
/*
 * The check of an admitted attempt ended: FAILED counts a failure on
 * every key; OK clears the account's failures (not the address's: one
 * valid account must not reset a guessing address); NONE (no check, or
 * the client left) only ends the in-flight count.
 */
void auth_backoff_done(auth_backoff *b, const struct auth_attempt *a, int outcome, uint64_t now_ms);

/* Delay a key's next check gets from n failures (0 for the first): exposed for tests and the man page. */
uint64_t auth_backoff_delay(enum auth_backoff_key kind, unsigned n);

#endif
