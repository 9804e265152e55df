/* crypt_cost.h - how much work a crypt(3) hash costs to check, from its scheme and parameters. */
#ifndef POSTERN_CRYPT_COST_H
#define POSTERN_CRYPT_COST_H

#include <stdint.h>

/*
 * Estimated time to check a password against hash, in nanoseconds on one
 * 2020s x86 core: only the order between hashes matters (the accounts
 * table uses it to make an unknown name cost what its dearest account
 * costs). yescrypt ($y$, $gy$), scrypt ($7$), bcrypt ($2b$, $2y$),
 * SHA-crypt ($6$, $5$); parameters the string does not make clear count
 * as the scheme's default; an unknown scheme is 0. Never reads past the
 * string's NUL.
 */
uint64_t crypt_cost_ns(const char *hash);

#endif
