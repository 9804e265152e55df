/* accounts.c - accounts file parser and crypt(3) password checks. */
#include "accounts.h"
#include "addr.h"
#include "crypt_cost.h"
#include "xalloc.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sender_entry {
	char *local;		/* NULL: any address at domain */
	char *domain;		/* lowercase A-label */
};

struct account {
	char *name;
	char *hash;
	int blocked;
	struct sender_entry *senders;
	size_t nsenders;
};

struct accounts {
	struct account *v;	/* sorted by name for bsearch */
	size_t n;
	const char *dummy;	/* checked for unknown names: the dearest hash of v, NULL: default */
};

/* Hash prefixes of the algorithms we accept; anything else (plain text, DES, MD5) is refused. */
static const char *const accounts_hash_prefixes[] = {
	"$y$", "$gy$", "$7$", "$2b$", "$2y$", "$6$", "$5$", NULL
};

/* With no account to copy: a yescrypt hash (libxcrypt's default setting) of a random string. */
static const char accounts_default_dummy[] =
    "$y$j9T$Bga7mc0MaSAODU5EqYG6C0$F7ug7DaYT8ZSfnX7koOq/vuoEayNBYILZBY9B1UFm0D";

static int
accounts_hash_ok(const char *hash)
{
	size_t i;

	for (i = 0; accounts_hash_prefixes[i]; i++)
		if (strncmp(hash, accounts_hash_prefixes[i], strlen(accounts_hash_prefixes[i])) == 0)
			return strlen(hash) > strlen(accounts_hash_prefixes[i]) + 8;
	return 0;
}

static void
accounts_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Lowercase A-label form of a domain, as the policies compare it; NULL when invalid. */
static char *
accounts_domain_ascii(const char *d)
{
	char out[ADDR_DOMAIN_MAX];

	if (addr_domain_to_ascii(d, out, sizeof(out)) != 0 || out[0] == '\0')
		return NULL;
	return xstrdup(out);
}

static void
account_clear(struct account *a)
{
	size_t i;

	free(a->name);
	free(a->hash);
	for (i = 0; i < a->nsenders; i++) {
		free(a->senders[i].local);
		free(a->senders[i].domain);
	}
	free(a->senders);
}

static char *
accounts_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Parse one sender entry into acct; returns NULL or a reason. */
static const char *
accounts_add_sender(struct account *acct, char *item)
{
	struct sender_entry se = { NULL, NULL };
	char *at = strrchr(item, '@');
	const char *dom = item;

	if (at != NULL) {
		if (at != item) {
			se.local = xstrndup(item, (size_t)(at - item));
			accounts_lower(se.local);
		}
		dom = at + 1;
	}
	if ((se.domain = accounts_domain_ascii(dom)) == NULL) {
		free(se.local);
		return "invalid sender domain";
	}
	acct->senders = xrealloc(acct->senders, (acct->nsenders + 1) * sizeof(se));
	acct->senders[acct->nsenders++] = se;
	return NULL;
}

/* Parse one non-comment line; returns NULL or a reason. */
static const char *
accounts_parse_line(char *line, struct account *acct)
{
	char *f[4], *p = line, *flag, *save = NULL, *item;
	int i;

	memset(acct, 0, sizeof(*acct));
	for (i = 0; i < 3; i++) {
		char *c = strchr(p, ':');
		if (c == NULL)
			return "expected name:hash:flags:senders";
		*c = '\0';
		f[i] = p;
		p = c + 1;
	}
	f[3] = p;
	if (strchr(f[3], ':') != NULL)
		return "too many fields (expected name:hash:flags:senders)";
	for (i = 0; i < 4; i++)
		f[i] = accounts_trim(f[i]);
	if (*f[0] == '\0')
		return "empty account name";
	for (p = f[0]; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return "account name contains white space";
	if (!accounts_hash_ok(f[1]))
		return "password must be a crypt(3) hash ($y$, $2b$, $6$ or $5$)";
	acct->name = xstrdup(f[0]);
	acct->hash = xstrdup(f[1]);
	for (flag = strtok_r(f[2], ",", &save); flag; flag = strtok_r(NULL, ",", &save)) {
		flag = accounts_trim(flag);
		if (*flag == '\0')
			continue;
		if (strcmp(flag, "blocked") == 0)
			acct->blocked = 1;
		else
			return "unknown flag (known: blocked)";
	}
	save = NULL;
	for (item = strtok_r(f[3], ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		const char *why;
		item = accounts_trim(item);
		if (*item == '\0')
			continue;
		if ((why = accounts_add_sender(acct, item)) != NULL)
			return why;
	}
	return NULL;
}

static int
accounts_cmp(const void *a, const void *b)
{
	return strcmp(((const struct account *)a)->name, ((const struct account *)b)->name);
}

/*
 * An unknown name is checked against the hash of the table that costs
 * most to check (its very scheme and parameters, so the same crypt work):
 * otherwise a table of fast hashes (SHA-crypt, low-cost bcrypt) answers
 * unknown names measurably slower or faster than real ones. Accounts with
 * cheaper hashes than the dearest still answer faster (README: use one
 * scheme for all).
 */
static void
accounts_pick_dummy(accounts *a)
{
	uint64_t best = 0, c;
	size_t i;

	a->dummy = NULL;
	for (i = 0; i < a->n; i++) {
		if ((c = crypt_cost_ns(a->v[i].hash)) > best) {
			best = c;
			a->dummy = a->v[i].hash;
		}
	}
}

accounts *
accounts_parse(const char *name, const char *data, size_t len, char *err, size_t errlen)
{
	accounts *a = xcalloc(1, sizeof(*a));
	size_t off = 0, cap = 0, i;
	int lineno = 0;

	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : len - off;
		char *line, *p;
		struct account acct;
		const char *why;

		lineno++;
		if (n > ACCOUNTS_MAX_LINE) {
			snprintf(err, errlen, "%s:%d: line too long", name, lineno);
			goto fail;
		}
		if (memchr(data + off, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", name, lineno);
			goto fail;
		}
		line = xstrndup(data + off, n);
		off += n + (nl ? 1 : 0);
		p = accounts_trim(line);
		if (*p == '\0' || *p == '#') {
			free(line);
			continue;
		}
		if ((why = accounts_parse_line(p, &acct)) != NULL) {
			snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
			account_clear(&acct);
			free(line);
			goto fail;
		}
		free(line);
		if (a->n == ACCOUNTS_MAX_ENTRIES) {
			snprintf(err, errlen, "%s:%d: more than %d accounts", name, lineno,
			    ACCOUNTS_MAX_ENTRIES);
			account_clear(&acct);
			goto fail;
		}
		if (a->n == cap) {
			cap = cap ? cap * 2 : 16;
			a->v = xrealloc(a->v, cap * sizeof(*a->v));
		}
		a->v[a->n++] = acct;
	}
	if (a->n > 1)		/* an empty table has no array at all: qsort(NULL, ...) is undefined */
		qsort(a->v, a->n, sizeof(*a->v), accounts_cmp);
	for (i = 1; i < a->n; i++) {
		if (strcmp(a->v[i - 1].name, a->v[i].name) == 0) {
			snprintf(err, errlen, "%s: account \"%.64s\" defined twice", name, a->v[i].name);
			goto fail;
		}
	}
	accounts_pick_dummy(a);
	return a;
fail:
	accounts_free(a);
	return NULL;
}

accounts *
accounts_load(const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	accounts *a;

	if (path == NULL || *path == '\0')
		return xcalloc(1, sizeof(accounts));
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	a = accounts_parse(path, buf ? buf : "", len, err, errlen);
	free(buf);
	return a;
}

void
accounts_free(accounts *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		account_clear(&a->v[i]);
	free(a->v);
	free(a);
}

size_t
accounts_count(const accounts *a)
{
	return a->n;
}

const account *
accounts_find(const accounts *a, const char *name)
{
	struct account key;

	if (a == NULL || a->n == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, a->v, a->n, sizeof(*a->v), accounts_cmp);
}

const char *
accounts_dummy_hash(const accounts *a)
{
	return a != NULL && a->dummy != NULL ? a->dummy : accounts_default_dummy;
}

const char *
account_name(const account *acct)
{
	return acct->name;
}

int
account_blocked(const account *acct)
{
	return acct->blocked;
}

/* Compare without leaking where the first difference is. */
static int
accounts_consteq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

enum accounts_verdict
accounts_verify(const accounts *a, const char *name, const char *password)
{
	const account *acct = accounts_find(a, name);
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *hash = acct ? acct->hash : accounts_dummy_hash(a);
	const char *out;
	enum accounts_verdict v;

	out = crypt_rn(password, hash, cd, sizeof(*cd));
	if (out == NULL || out[0] == '*')
		v = acct ? ACCOUNTS_ERROR : ACCOUNTS_BAD_CREDENTIALS;
	else if (acct == NULL || !accounts_consteq(out, hash))
		v = ACCOUNTS_BAD_CREDENTIALS;
	else
		v = acct->blocked ? ACCOUNTS_BLOCKED : ACCOUNTS_OK;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return v;
}

int
account_sender_allowed(const account *acct, const char *local, const char *domain)
{
	char *dom = accounts_domain_ascii(domain);
	size_t i;
	int ok = 0;

	if (dom == NULL)
		return 0;
	for (i = 0; i < acct->nsenders && !ok; i++) {
		const struct sender_entry *se = &acct->senders[i];
		if (strcmp(se->domain, dom) != 0)
			continue;
		ok = se->local == NULL || strcasecmp(se->local, local) == 0;
	}
	free(dom);
	return ok;
}
