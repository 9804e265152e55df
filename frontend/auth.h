/*
 * auth.h - SMTP AUTH (RFC 4954) for postern-smtpd: PLAIN and LOGIN decoding,
 * and a worker pool for crypt(3). When a check may run: auth_backoff.h.
 *
 * The decoders are pure functions that return a reply id (lib/reply.h), so
 * they are unit-tested and fuzzed without a socket.
 */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"

#define AUTH_NAME_MAX	256
#define AUTH_PASS_MAX	1024
#define AUTH_B64_MAX	4096	/* longest base64 line we accept (RFC 4954 says 12288 for the command) */

enum auth_mech { AUTH_MECH_NONE = 0, AUTH_MECH_PLAIN, AUTH_MECH_LOGIN };

/* "PLAIN"/"LOGIN" (case-insensitive) or AUTH_MECH_NONE. */
enum auth_mech auth_mech_parse(const char *word);

typedef struct auth_creds {
	char authzid[AUTH_NAME_MAX];
	char user[AUTH_NAME_MAX];
	char pass[AUTH_PASS_MAX];
} auth_creds;

/*
 * Decode a PLAIN response (base64 of authzid NUL authcid NUL passwd).
 * Returns 0 and fills c, or a reply id: R_AUTH_BAD_BASE64,
 * R_AUTH_NO_NUL, R_AUTH_NO_SECOND_NUL, R_AUTH_INVALID (empty user, over-long
 * fields, authzid different from authcid). "*" is R_AUTH_CANCELED.
 */
int auth_plain_decode(const char *b64, size_t len, auth_creds *c);

/* Decode one LOGIN step (user name or password) into out; 0 or a reply id as above. */
int auth_login_decode(const char *b64, size_t len, char *out, size_t outsize);

/* The base64 challenges of LOGIN: "VXNlcm5hbWU6" and "UGFzc3dvcmQ6". */
const char *auth_login_challenge(int step);

/* --- crypt(3) worker pool: hashing takes tens of ms, never on the event loop. */

typedef struct auth_pool auth_pool;
struct event_base;

/* done() runs on the event loop thread with the accounts_verdict (lib/accounts.h). */
typedef void (*auth_done_fn)(void *arg, int verdict);

auth_pool *auth_pool_new(struct event_base *base, unsigned nworkers);
/*
 * Accounts table to check against; swapped on SIGHUP. The pool TAKES
 * OWNERSHIP of a: it frees it when the last job using it ends, so the
 * caller must never accounts_free() it. NULL makes every check fail.
 * Never call auth_pool_free() from inside a done() callback.
 */
struct accounts;
void auth_pool_set_accounts(auth_pool *p, struct accounts *a);
/* Queue a check; creds are copied and wiped after use. */
void auth_pool_submit(auth_pool *p, const auth_creds *c, auth_done_fn done, void *arg);
/*
 * hold != 0: workers take no new job until released (jobs queue up, the
 * queue limit applies); 0 releases them. A gate for tests that need a
 * full queue whatever the scheduler does.
 */
void auth_pool_hold(auth_pool *p, int hold);
/* Forget a pending job's callback (its session went away). */
void auth_pool_cancel(auth_pool *p, void *arg);
void auth_pool_free(auth_pool *p);

#endif
