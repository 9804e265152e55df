/* crypt_cost.c - how much work a crypt(3) hash costs to check, from its scheme and parameters. */
#include "crypt_cost.h"

#include <stdlib.h>
#include <string.h>

/*
 * Per-unit costs measured with libxcrypt 4.4 (Debian 12): yescrypt j9T
 * (N = 4096, r = 32) 25 ms, $7$ default (N = 16384, r = 32) 147 ms,
 * bcrypt cost 5 1.8 ms, SHA-512 5000 rounds 1.3 ms, SHA-256 1.8 ms.
 */
#define CC_YESCRYPT_NS	180	/* per N * r */
#define CC_SCRYPT_NS	280	/* per N * r * p */
#define CC_BCRYPT_NS	55000	/* per 2^cost */
#define CC_SHA512_NS	260	/* per round */
#define CC_SHA256_NS	350
#define CC_SHA_ROUNDS	5000	/* SHA-crypt default and its bounds */
#define CC_SHA_MIN	1000
#define CC_SHA_MAX	999999999ULL

static const char cc_itoa64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Value of one crypt base-64 digit, -1 if c is not one. */
static int
cc_digit(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(cc_itoa64, c)) == NULL)
		return -1;
	return (int)(p - cc_itoa64);
}

/*
 * yescrypt parameters "$y$" FLAVOR N_LOG2 R ...: with the defaults' small
 * values each is one digit (value - 1 for N_LOG2 and R). Anything longer
 * or odd counts as libxcrypt's default (N = 4096, r = 32).
 */
static uint64_t
cc_yescrypt(const char *p)
{
	int nlog2, r;

	if (cc_digit(p[0]) < 0 || (nlog2 = cc_digit(p[1])) < 0 || (r = cc_digit(p[2])) < 0 ||
	    nlog2 + 1 > 30 || (p[3] != '$' && p[3] != '\0'))
		return (UINT64_C(1) << 12) * 32 * CC_YESCRYPT_NS;
	return (UINT64_C(1) << (nlog2 + 1)) * (uint64_t)(r + 1) * CC_YESCRYPT_NS;
}

/* Five digits, least significant first (30 bits), or -1. */
static long
cc_uint30(const char *p)
{
	long v = 0;
	int i, d;

	for (i = 0; i < 5; i++) {
		if ((d = cc_digit(p[i])) < 0)
			return -1;
		v |= (long)d << (6 * i);
	}
	return v;
}

/* scrypt "$7$" N_LOG2 R(5 digits) P(5 digits) SALT. */
static uint64_t
cc_scrypt(const char *p)
{
	int nlog2 = cc_digit(p[0]);
	long r = nlog2 < 0 ? -1 : cc_uint30(p + 1);
	long q = r < 0 ? -1 : cc_uint30(p + 6);

	if (nlog2 < 1 || nlog2 > 30 || r < 1 || q < 1 || r > 1024 || q > 1024)
		return (UINT64_C(1) << 14) * 32 * CC_SCRYPT_NS;
	return (UINT64_C(1) << nlog2) * (uint64_t)r * (uint64_t)q * CC_SCRYPT_NS;
}

/* bcrypt "$2b$" NN "$": cost 4 to 31. */
static uint64_t
cc_bcrypt(const char *p)
{
	int cost;

	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] != '$')
		return (UINT64_C(1) << 5) * CC_BCRYPT_NS;
	cost = (p[0] - '0') * 10 + (p[1] - '0');
	if (cost < 4 || cost > 31)
		return (UINT64_C(1) << 5) * CC_BCRYPT_NS;
	return (UINT64_C(1) << cost) * CC_BCRYPT_NS;
}

/* SHA-crypt: an optional "rounds=N$", clamped as crypt(3) clamps it. */
static uint64_t
cc_sha(const char *p, uint64_t per_round)
{
	unsigned long long rounds = CC_SHA_ROUNDS;
	char *end;

	if (strncmp(p, "rounds=", 7) == 0 && p[7] >= '0' && p[7] <= '9') {
		rounds = strtoull(p + 7, &end, 10);
		if (*end != '$')
			rounds = CC_SHA_ROUNDS;
		else if (rounds < CC_SHA_MIN)
			rounds = CC_SHA_MIN;
		else if (rounds > CC_SHA_MAX)
			rounds = CC_SHA_MAX;
	}
	return (uint64_t)rounds * per_round;
}

uint64_t
crypt_cost_ns(const char *hash)
{
	if (strncmp(hash, "$y$", 3) == 0)
		return cc_yescrypt(hash + 3);
	if (strncmp(hash, "$gy$", 4) == 0)
		return cc_yescrypt(hash + 4);
	if (strncmp(hash, "$7$", 3) == 0)
		return cc_scrypt(hash + 3);
	if (strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0)
		return cc_bcrypt(hash + 4);
	if (strncmp(hash, "$6$", 3) == 0)
		return cc_sha(hash + 3, CC_SHA512_NS);
	if (strncmp(hash, "$5$", 3) == 0)
		return cc_sha(hash + 3, CC_SHA256_NS);
	return 0;
}
