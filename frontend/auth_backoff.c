/* auth_backoff.c - AUTH admission: failure backoff per address, network and account, decided before the check. */
#include "auth_backoff.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "xalloc.h"

struct bo_entry {
	struct bo_entry *hnext;		/* bucket chain */
	struct bo_entry *newer, *older;	/* by last use: head is newest, tail is evicted */
	uint64_t last_ms;		/* last admission or outcome: failures expire from here */
	uint64_t last_start_ms;		/* start of the latest admitted check */
	uint64_t next_ms;		/* earliest start of the next check */
	uint64_t hash;
	unsigned fails;			/* known failures, saturating */
	unsigned inflight;		/* admitted, outcome not known yet */
	size_t klen;
	char key[];
};

struct auth_backoff {
	struct bo_entry **bucket;
	size_t nbucket;			/* power of two, >= max */
	struct bo_entry *newest, *oldest;
	size_t n, max;
	uint64_t seed;			/* random: clients pick user names, so no chosen collisions */
};

#define BO_FAILS_MAX	64

auth_backoff *
auth_backoff_new(size_t max_entries)
{
	auth_backoff *b = xcalloc(1, sizeof(*b));

	/* An attempt holds AUTH_KEY_COUNT entries at once: none of them may be evicted meanwhile. */
	b->max = max_entries > AUTH_KEY_COUNT ? max_entries : AUTH_KEY_COUNT;
	b->nbucket = 16;
	while (b->nbucket < b->max && b->nbucket < ((size_t)1 << 24))
		b->nbucket <<= 1;
	b->bucket = xcalloc(b->nbucket, sizeof(*b->bucket));
	if (getrandom(&b->seed, sizeof(b->seed), GRND_NONBLOCK) != sizeof(b->seed))
		b->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)b;
	return b;
}

void
auth_backoff_free(auth_backoff *b)
{
	struct bo_entry *e;

	if (b == NULL)
		return;
	while ((e = b->newest) != NULL) {
		b->newest = e->older;
		free(e);
	}
	free(b->bucket);
	free(b);
}

/* FNV-1a over the seed and the key, then a final mix so the seed reaches the low bits. */
static uint64_t
bo_hash(const auth_backoff *b, const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ b->seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void
bo_unlink_age(auth_backoff *b, struct bo_entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		b->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		b->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void
bo_push_newest(auth_backoff *b, struct bo_entry *e)
{
	e->newer = NULL;
	e->older = b->newest;
	if (b->newest != NULL)
		b->newest->newer = e;
	else
		b->oldest = e;
	b->newest = e;
}

static void
bo_remove(auth_backoff *b, struct bo_entry *e)
{
	struct bo_entry **pp = &b->bucket[e->hash & (b->nbucket - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	bo_unlink_age(b, e);
	b->n--;
	free(e);
}

/*
 * The entry of key, made most recently used; created when missing (the
 * table is full: the longest-unused key is forgotten). Quiet past
 * AUTH_BACKOFF_IDLE_MS with nothing in flight, its failures are forgotten.
 */
static struct bo_entry *
bo_get(auth_backoff *b, const char *key, uint64_t now_ms)
{
	size_t klen = strnlen(key, AUTH_BACKOFF_KEY_MAX - 1);
	uint64_t h = bo_hash(b, key, klen);
	struct bo_entry *e;

	for (e = b->bucket[h & (b->nbucket - 1)]; e != NULL; e = e->hnext)
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			break;
	if (e != NULL) {
		/* A clock that went back counts as recent. */
		if (e->inflight == 0 && now_ms >= e->last_ms &&
		    now_ms - e->last_ms >= AUTH_BACKOFF_IDLE_MS) {
			e->fails = 0;
			e->next_ms = 0;
		}
		bo_unlink_age(b, e);
	} else {
		if (b->n >= b->max)
			bo_remove(b, b->oldest);
		e = xcalloc(1, sizeof(*e) + klen + 1);
		memcpy(e->key, key, klen);
		e->klen = klen;
		e->hash = h;
		e->hnext = b->bucket[h & (b->nbucket - 1)];
		b->bucket[h & (b->nbucket - 1)] = e;
		b->n++;
	}
	e->last_ms = now_ms;
	bo_push_newest(b, e);
	return e;
}

uint64_t
auth_backoff_delay(enum auth_backoff_key kind, unsigned n)
{
	unsigned free_n = kind == AUTH_KEY_NET ? AUTH_BACKOFF_NET_FREE : 1;
	unsigned shift;

	if (n < free_n)
		return 0;
	shift = n - free_n;
	if (shift >= 5)		/* 1 s << 5 = 32 s is past the cap already */
		return AUTH_BACKOFF_CAP_MS;
	return (uint64_t)AUTH_BACKOFF_BASE_MS << shift;
}

/*
 * The next check of a key: after the latest admitted one by the delay of
 * every failure known or still possible (in flight), and, right after a
 * failure, at least that delay from now.
 */
static void
bo_reschedule(struct bo_entry *e, enum auth_backoff_key kind, int failed_now, uint64_t now_ms)
{
	uint64_t d = auth_backoff_delay(kind, e->fails + e->inflight);

	e->next_ms = e->last_start_ms + d;
	if (failed_now && e->next_ms < now_ms + d)
		e->next_ms = now_ms + d;
}

void
auth_attempt_init(struct auth_attempt *a, const char *addr, const char *user)
{
	unsigned char bin[16];
	char net[INET6_ADDRSTRLEN];

	memset(a, 0, sizeof(*a));
	snprintf(a->key[AUTH_KEY_IP], sizeof(a->key[0]), "ip:%s", addr);
	snprintf(a->key[AUTH_KEY_USER], sizeof(a->key[0]), "user:%s", user ? user : "");
	if (inet_pton(AF_INET, addr, bin) == 1) {
		bin[3] = 0;
		inet_ntop(AF_INET, bin, net, sizeof(net));
		snprintf(a->key[AUTH_KEY_NET], sizeof(a->key[0]), "net:%s/24", net);
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		memset(bin + 8, 0, 8);
		inet_ntop(AF_INET6, bin, net, sizeof(net));
		snprintf(a->key[AUTH_KEY_NET], sizeof(a->key[0]), "net:%s/64", net);
	} else {
		snprintf(a->key[AUTH_KEY_NET], sizeof(a->key[0]), "net:%s", addr);
	}
}

int
auth_backoff_admit(auth_backoff *b, struct auth_attempt *a, uint64_t now_ms)
{
	struct bo_entry *e[AUTH_KEY_COUNT];
	uint64_t start = now_ms;
	int k;

	for (k = 0; k < AUTH_KEY_COUNT; k++) {
		e[k] = bo_get(b, a->key[k], now_ms);
		if (e[k]->next_ms > start)
			start = e[k]->next_ms;
	}
	if (start - now_ms > AUTH_BACKOFF_WAIT_MAX_MS)
		return -1;
	for (k = 0; k < AUTH_KEY_COUNT; k++) {
		e[k]->inflight++;
		e[k]->last_start_ms = start;
		bo_reschedule(e[k], (enum auth_backoff_key)k, 0, now_ms);
	}
	a->start_ms = start;
	a->wait_ms = start - now_ms;
	return 0;
}

void
auth_backoff_done(auth_backoff *b, const struct auth_attempt *a, int outcome, uint64_t now_ms)
{
	struct bo_entry *e;
	int k;

	for (k = 0; k < AUTH_KEY_COUNT; k++) {
		/* Forgotten meanwhile (table full): it comes back with this outcome only. */
		e = bo_get(b, a->key[k], now_ms);
		if (e->inflight > 0)
			e->inflight--;
		if (outcome == AUTH_OUTCOME_FAILED) {
			if (e->fails < BO_FAILS_MAX)
				e->fails++;
		} else if (outcome == AUTH_OUTCOME_OK && k == AUTH_KEY_USER) {
			e->fails = 0;
		}
		bo_reschedule(e, (enum auth_backoff_key)k, outcome == AUTH_OUTCOME_FAILED, now_ms);
	}
}
