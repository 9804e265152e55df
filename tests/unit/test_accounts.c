/* test_accounts.c - accounts file: format errors with file:line, crypt(3) checks, allowed senders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <crypt.h>
#include <unistd.h>

#include "accounts.h"
#include "crypt_cost.h"

static char hash_y[128], hash_6[128], hash_2b[128], hash_5[128];

static int
setup(void **state)
{
	(void)state;
	/* Real hashes made now, with the same library the daemons use. */
	strcpy(hash_y, crypt("secret", crypt_gensalt("$y$", 0, NULL, 0)));
	strcpy(hash_6, crypt("secret6", crypt_gensalt("$6$", 0, NULL, 0)));
	strcpy(hash_2b, crypt("secret2b", crypt_gensalt("$2b$", 4, NULL, 0)));
	strcpy(hash_5, crypt("secret5", crypt_gensalt("$5$", 0, NULL, 0)));
	return 0;
}

static accounts *
parse(const char *text, char *err)
{
	return accounts_parse("acc", text, strlen(text), err, 256);
}

static void
test_verify(void **state)
{
	char text[2048], err[256] = "";
	accounts *a;

	(void)state;
	snprintf(text, sizeof(text),
	    "# demo accounts\n"
	    "alice:%s::example.com\n"
	    "\n"
	    "bob:%s:blocked:bob@example.org\n"
	    "carol:%s::\n"
	    "dave:%s: blocked , :@example.net\n",
	    hash_y, hash_6, hash_2b, hash_5);
	a = parse(text, err);
	assert_non_null(a);
	assert_int_equal(accounts_count(a), 4);
	assert_int_equal(accounts_verify(a, "alice", "secret"), ACCOUNTS_OK);
	assert_int_equal(accounts_verify(a, "alice", "Secret"), ACCOUNTS_BAD_CREDENTIALS);
	assert_int_equal(accounts_verify(a, "alice", ""), ACCOUNTS_BAD_CREDENTIALS);
	assert_int_equal(accounts_verify(a, "nobody", "secret"), ACCOUNTS_BAD_CREDENTIALS);
	/* Blocked only answers as such with the right password. */
	assert_int_equal(accounts_verify(a, "bob", "secret6"), ACCOUNTS_BLOCKED);
	assert_int_equal(accounts_verify(a, "bob", "nope"), ACCOUNTS_BAD_CREDENTIALS);
	assert_int_equal(accounts_verify(a, "carol", "secret2b"), ACCOUNTS_OK);
	assert_int_equal(accounts_verify(a, "dave", "secret5"), ACCOUNTS_BLOCKED);
	assert_true(account_blocked(accounts_find(a, "bob")));
	assert_false(account_blocked(accounts_find(a, "alice")));
	assert_string_equal(account_name(accounts_find(a, "carol")), "carol");
	assert_null(accounts_find(a, "Alice"));
	accounts_free(a);
}

/* The hash of a one-account table with that setting (fixed salts: deterministic). */
static void
table_line(char *out, size_t outlen, const char *name, const char *setting, const char *pw)
{
	const char *h = crypt(pw, setting);

	assert_non_null(h);
	assert_true(h[0] != '*');
	snprintf(out, outlen, "%s:%s::example.com\n", name, h);
}

/*
 * An unknown name is checked against the dearest hash of the table, its
 * very scheme and parameters: no timing difference between "no such
 * account" and "wrong password" for the accounts that matter.
 */
static void
test_dummy_follows_table(void **state)
{
	static const struct {
		const char *settings[3];
		int dearest;		/* index in settings; -1: the built-in yescrypt */
	} cases[] = {
		{ { NULL }, -1 },
		/* SHA-crypt only: the dummy is SHA-crypt too, not a 14 ms yescrypt. */
		{ { "$6$saltsaltsalt", "$5$saltsaltsalt", NULL }, 1 },
		{ { "$6$saltsaltsalt", "$6$rounds=20000$saltsaltsalt", NULL }, 1 },
		/* bcrypt cost 12 costs more than yescrypt's default; cost 5 less. */
		{ { "$y$j9T$saltsaltsaltsaltsalt", "$2b$12$saltsaltsaltsaltsalts.", NULL }, 1 },
		{ { "$2b$05$saltsaltsaltsaltsalts.", "$y$j9T$saltsaltsaltsaltsalt", NULL }, 1 },
		{ { "$y$j9T$saltsaltsaltsaltsalt", "$y$jAT$saltsaltsaltsaltsalt",
		    "$y$j8T$saltsaltsaltsaltsalt" }, 1 },
		{ { "$2b$04$saltsaltsaltsaltsalts.", "$6$saltsaltsalt", "$2b$06$saltsaltsaltsaltsalts." },
		    2 },
	};
	char text[4096], line[512], err[256];
	const char *names[3] = { "u0", "u1", "u2" };
	accounts *a;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text[0] = '\0';
		for (j = 0; j < 3 && cases[i].settings[j] != NULL; j++) {
			table_line(line, sizeof(line), names[j], cases[i].settings[j], "pw");
			strcat(text, line);
		}
		a = parse(text, err);
		assert_non_null(a);
		if (cases[i].dearest < 0) {
			assert_memory_equal(accounts_dummy_hash(a), "$y$j9T$", 7);
		} else {
			const char *want = crypt("pw", cases[i].settings[cases[i].dearest]);

			assert_string_equal(accounts_dummy_hash(a), want);
		}
		/* Unknown names still fail, even with the dearest account's password. */
		assert_int_equal(accounts_verify(a, "nosuchuser", "pw"), ACCOUNTS_BAD_CREDENTIALS);
		accounts_free(a);
	}
	assert_memory_equal(accounts_dummy_hash(NULL), "$y$j9T$", 7);
}

/* The cost model orders schemes and parameters as libxcrypt's timings do. */
static void
test_crypt_cost(void **state)
{
	static const struct {
		const char *cheaper, *dearer;
	} order[] = {
		{ "$6$salt$h", "$5$salt$h" },
		{ "$6$salt$h", "$6$rounds=5001$salt$h" },
		{ "$6$rounds=100$salt$h", "$6$salt$h" },	/* clamped to 1000 */
		{ "$2b$05$h", "$y$j9T$salt$h" },
		{ "$y$j9T$salt$h", "$2b$12$h" },
		{ "$y$j8T$salt$h", "$y$j9T$salt$h" },
		{ "$y$j95$salt$h", "$y$j9T$salt$h" },
		{ "$y$j9T$salt$h", "$7$CU..../....salt$h" },
		{ "plain", "$5$salt$h" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (crypt_cost_ns(order[i].cheaper) >= crypt_cost_ns(order[i].dearer))
			fail_msg("%s should cost less than %s", order[i].cheaper, order[i].dearer);
	}
	/* Odd parameters count as the scheme's default; truncated strings are safe. */
	assert_int_equal(crypt_cost_ns("$2b$99$h"), crypt_cost_ns("$2b$05$h"));
	assert_int_equal(crypt_cost_ns("$6$rounds=x$h"), crypt_cost_ns("$6$h"));
	assert_int_equal(crypt_cost_ns("$y$"), crypt_cost_ns("$y$j9T$s$h"));
	assert_int_equal(crypt_cost_ns("$y$j"), crypt_cost_ns("$y$j9T$s$h"));
	assert_int_equal(crypt_cost_ns("$7$C"), crypt_cost_ns("$7$CU..../....s$h"));
	assert_int_equal(crypt_cost_ns("$2b$1"), crypt_cost_ns("$2b$05$h"));
	assert_int_equal(crypt_cost_ns(""), 0);
	assert_true(crypt_cost_ns("$6$rounds=99999999999999999999$h") > 0);
}

static void
test_senders(void **state)
{
	char text[2048], err[256] = "";
	const account *al, *bo, *ca, *da, *ed;
	accounts *a;

	(void)state;
	snprintf(text, sizeof(text),
	    "alice:%s::example.com, @Example.ORG\n"
	    "bob:%s::bob@example.org\n"
	    "carol:%s::\n"
	    "dave:%s::bücher.example\n"
	    "ed:%s::Ed.Smith@xn--bcher-kva.example\n",
	    hash_y, hash_y, hash_y, hash_y, hash_y);
	a = parse(text, err);
	assert_non_null(a);
	al = accounts_find(a, "alice");
	bo = accounts_find(a, "bob");
	ca = accounts_find(a, "carol");
	da = accounts_find(a, "dave");
	ed = accounts_find(a, "ed");
	assert_true(account_sender_allowed(al, "anyone", "example.com"));
	assert_true(account_sender_allowed(al, "x", "EXAMPLE.COM"));
	assert_true(account_sender_allowed(al, "x", "example.org"));
	assert_false(account_sender_allowed(al, "x", "sub.example.com"));
	assert_false(account_sender_allowed(al, "x", "example.net"));
	assert_true(account_sender_allowed(bo, "bob", "example.org"));
	assert_true(account_sender_allowed(bo, "BOB", "Example.org"));
	assert_false(account_sender_allowed(bo, "alice", "example.org"));
	/* Empty senders: every sender is refused. */
	assert_false(account_sender_allowed(ca, "carol", "example.com"));
	/* IDN: U-label and A-label are the same domain. */
	assert_true(account_sender_allowed(da, "x", "xn--bcher-kva.example"));
	assert_true(account_sender_allowed(da, "x", "BÜCHER.example"));
	assert_true(account_sender_allowed(ed, "ed.smith", "bücher.example"));
	assert_false(account_sender_allowed(ed, "ed", "bücher.example"));
	accounts_free(a);
}

struct bad_case {
	const char *text;
	const char *err;
};

static void
test_errors(void **state)
{
	char h[512];
	static struct bad_case cases[] = {
		{ "alice:secret::example.com\n",
		  "acc:1: password must be a crypt(3) hash ($y$, $2b$, $6$ or $5$)" },
		{ "# x\nalice:$1$abcdefgh$abcdefghijklmnopqrstuv::example.com\n",
		  "acc:2: password must be a crypt(3) hash ($y$, $2b$, $6$ or $5$)" },
		{ "alice:HASH\n", "acc:1: expected name:hash:flags:senders" },
		{ "alice:HASH::a.com:b\n", "acc:1: too many fields (expected name:hash:flags:senders)" },
		{ ":HASH::a.com\n", "acc:1: empty account name" },
		{ "al ice:HASH::a.com\n", "acc:1: account name contains white space" },
		{ "alice:HASH:frozen:a.com\n", "acc:1: unknown flag (known: blocked)" },
		{ "alice:HASH::a..com\n", "acc:1: invalid sender domain" },
		{ "alice:HASH::user@\n", "acc:1: invalid sender domain" },
		{ "alice:HASH::a.com\nalice:HASH::b.com\n", "acc: account \"alice\" defined twice" },
		{ "alice:HASH::\0\n", "acc:1: NUL byte in line" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024], err[256] = "";
		const char *p = strstr(cases[i].text, "HASH");
		size_t len;
		accounts *a;

		if (p) {
			snprintf(h, sizeof(h), "%.*s%s%s", (int)(p - cases[i].text), cases[i].text,
			    hash_y, p + 4);
			p = strstr(h + (p - cases[i].text) + 4, "HASH");
			if (p) {
				snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - h), h, hash_y, p + 4);
			} else {
				snprintf(text, sizeof(text), "%s", h);
			}
		} else {
			snprintf(text, sizeof(text), "%s", cases[i].text);
		}
		len = strlen(text);
		if (strstr(cases[i].err, "NUL"))
			len += 2;	/* the embedded NUL and the newline after it */
		a = accounts_parse("acc", text, len, err, sizeof(err));
		if (a != NULL)
			fail_msg("case %zu parsed: %s", i, cases[i].text);
		assert_string_equal(err, cases[i].err);
	}
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_accountsXXXXXX", err[256] = "";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	accounts *a;

	(void)state;
	fprintf(f, "alice:%s::example.com", hash_y);	/* no final newline */
	fclose(f);
	a = accounts_load(path, err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(accounts_verify(a, "alice", "secret"), ACCOUNTS_OK);
	accounts_free(a);
	unlink(path);
	a = accounts_load(path, err, sizeof(err));
	assert_null(a);
	assert_non_null(strstr(err, "No such file or directory"));
	assert_non_null(strstr(err, path));
	/* No accounts file configured: an empty table, nobody can log in. */
	a = accounts_load("", err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(accounts_count(a), 0);
	assert_int_equal(accounts_verify(a, "alice", "secret"), ACCOUNTS_BAD_CREDENTIALS);
	accounts_free(a);
}

/* A file with no account at all (empty, or comments and blank lines): an empty table. */
static void
test_no_accounts(void **state)
{
	static const char *const texts[] = { "", "# nobody yet\n\n", "\n" };
	char err[256];
	accounts *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		err[0] = '\0';
		a = accounts_parse("acc", texts[i], strlen(texts[i]), err, sizeof(err));
		assert_non_null(a);
		assert_int_equal(accounts_count(a), 0);
		assert_int_equal(accounts_verify(a, "alice", "secret"), ACCOUNTS_BAD_CREDENTIALS);
		accounts_free(a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_senders),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_no_accounts),
		cmocka_unit_test(test_dummy_follows_table),
		cmocka_unit_test(test_crypt_cost),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
