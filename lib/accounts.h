/* accounts.h - the accounts file: name:hash:flags:senders, crypt(3) hashes, allowed senders. */
#ifndef POSTERN_ACCOUNTS_H
#define POSTERN_ACCOUNTS_H

#include <stddef.h>

#define ACCOUNTS_MAX_LINE	8192
#define ACCOUNTS_MAX_ENTRIES	100000

typedef struct accounts accounts;	/* immutable once loaded: share it between threads */
typedef struct account account;

enum accounts_verdict {
	ACCOUNTS_OK = 0,
	ACCOUNTS_BAD_CREDENTIALS,	/* unknown name or wrong password: 535 */
	ACCOUNTS_BLOCKED,		/* right password, blocked flag: 550 5.7.1 */
	ACCOUNTS_ERROR			/* crypt(3) failed: tempfail */
};

/* Load the file; NULL with "FILE:LINE: reason" in err on any error. An empty path gives an empty table. */
accounts *accounts_load(const char *path, char *err, size_t errlen);
/* Parse a whole file image (tests and fuzzing); name is used in error messages. */
accounts *accounts_parse(const char *name, const char *data, size_t len, char *err, size_t errlen);
void accounts_free(accounts *a);
size_t accounts_count(const accounts *a);

const account *accounts_find(const accounts *a, const char *name);
const char *account_name(const account *acct);
int account_blocked(const account *acct);

/*
 * Check a password with crypt(3). Slow on purpose (yescrypt, bcrypt): call it
 * off the event loop. An unknown name costs the same as a wrong password.
 */
/*
 * What accounts_verify() checks an unknown name against: the hash of the
 * table that costs most to check (lib/crypt_cost.c), or a yescrypt hash
 * when the table is empty.
 */
const char *accounts_dummy_hash(const accounts *a);
enum accounts_verdict accounts_verify(const accounts *a, const char *name, const char *password);

/* May this account use local@domain in MAIL FROM? Domains compare case-insensitively, IDN in A-labels. */
int account_sender_allowed(const account *acct, const char *local, const char *domain);

#endif
