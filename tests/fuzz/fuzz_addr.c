/* fuzz_addr.c - libFuzzer target for lib/addr.c: every entry point on the same input, with invariants. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define CHECK(cond) do {							\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_addr: invariant failed at line %d: %s\n", \
		    __LINE__, #cond);						\
		abort();						\
	}								\
} while (0)

static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	unsigned c;

	while (i < n) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (len == 0 || c > 0xf4 || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

/* Reasons go verbatim into SMTP replies: short printable ASCII, no '%'. */
static void
check_reason(const char *r)
{
	size_t i;

	CHECK(r != NULL);
	CHECK(r[0] >= 'A' && r[0] <= 'Z');
	for (i = 0; r[i] != '\0'; i++)
		CHECK(r[i] >= 0x20 && r[i] < 0x7f && r[i] != '%');
	CHECK(i < 60);
}

static void
check_field(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	CHECK(n < size);
	CHECK(utf8_ok((const unsigned char *)f, n));
}

static void
check_ascii_domain(const char *d)
{
	char out[ADDR_DOMAIN_MAX];
	size_t i;

	if (addr_domain_to_ascii(d, out, sizeof(out)) != 0) {
		CHECK(out[0] == '\0');
		return;
	}
	CHECK(strnlen(out, sizeof(out)) < sizeof(out));
	for (i = 0; out[i] != '\0'; i++)
		CHECK((unsigned char)out[i] < 0x80 && !(out[i] >= 'A' && out[i] <= 'Z'));
}

struct ctx {
	int n;
};

static int
on_mailbox(void *arg, const addr_mailbox *mb)
{
	struct ctx *c = arg;
	char path[ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 4];
	addr_mailbox back;
	const char *reason;
	size_t i;
	int n, is_null;

	c->n++;
	check_field(mb->local, sizeof(mb->local));
	check_field(mb->domain, sizeof(mb->domain));
	check_field(mb->display, sizeof(mb->display));
	CHECK(mb->domain[0] != '\0');
	CHECK(mb->local[0] != '\0' || mb->local_quoted);
	for (i = 0; mb->display[i] != '\0'; i++)
		CHECK((unsigned char)mb->display[i] >= 0x20 && mb->display[i] != 0x7f);
	check_ascii_domain(mb->domain);

	/* An unquoted header local part is an RFC 5321 Dot-string: the envelope parser must agree. */
	if (!mb->local_quoted && strlen(mb->local) <= 64) {
		n = snprintf(path, sizeof(path), "<%s@%s>", mb->local, mb->domain);
		CHECK(n > 0 && (size_t)n < sizeof(path));
		CHECK(addr_parse_path(path, (size_t)n, 0, 1, &back, &is_null, &reason) == n);
		CHECK(strcmp(back.local, mb->local) == 0);
		CHECK(strcmp(back.domain, mb->domain) == 0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t outsizes[] = { 0, 1, 2, 7, 64, 1024 };
	const char *s = (const char *)data;
	const char *reason = NULL, *reason2 = NULL;
	char out[1024], dom[512];
	struct ctx c = { 0 };
	addr_mailbox mb;
	size_t i, n;
	int rc, rc2, allow_null, utf8, is_null;
	/* header address lists; the strict pass must give the same verdict */
	rc = addr_parse_list(s, size, 1, on_mailbox, &c, &reason);
	CHECK(rc == 0 || rc == -1);
	rc2 = addr_parse_list(s, size, 0, NULL, NULL, &reason2);
	if (rc == 0) {
		CHECK(c.n <= ADDR_MAX_MAILBOXES);
		CHECK(rc2 == (c.n > 0 ? 0 : -1));
		if (rc2 == -1)
			CHECK(strcmp(reason2, "Empty address list") == 0);
	} else {
		check_reason(reason);
		CHECK(c.n == 0);
		CHECK(rc2 == -1 && strcmp(reason, reason2) == 0);
	}

	/* envelope paths, with and without SMTPUTF8 */
	for (allow_null = 0; allow_null < 2; allow_null++) {
		for (utf8 = 0; utf8 < 2; utf8++) {
			memset(&mb, 'X', sizeof(mb));
			reason = NULL;
			rc = addr_parse_path(s, size, allow_null, utf8, &mb, &is_null, &reason);
			if (rc == -1) {
				check_reason(reason);
				continue;
			}
			CHECK(rc >= 2 && (size_t)rc <= size && s[rc - 1] == '>');
			check_field(mb.local, sizeof(mb.local));
			check_field(mb.domain, sizeof(mb.domain));
			CHECK(mb.display[0] == '\0');
			CHECK(strlen(mb.local) <= 64);
			if (is_null) {
				CHECK(allow_null && mb.local[0] == '\0' && mb.domain[0] == '\0');
				continue;
			}
			CHECK(mb.domain[0] != '\0');
			if (!utf8) {
				for (i = 0; mb.local[i] != '\0'; i++)
					CHECK((unsigned char)mb.local[i] < 0x80);
				for (i = 0; mb.domain[i] != '\0'; i++)
					CHECK((unsigned char)mb.domain[i] < 0x80);
			}
			check_ascii_domain(mb.domain);
		}
	}

	/* RFC 2047: bounded, NUL-terminated, valid UTF-8, whatever the buffer size */
	for (i = 0; i < sizeof(outsizes) / sizeof(outsizes[0]); i++) {
		memset(out, 'X', sizeof(out));
		n = addr_decode_2047(s, size, out, outsizes[i]);
		if (outsizes[i] == 0) {
			CHECK(n == 0 && out[0] == 'X');
			continue;
		}
		CHECK(n < outsizes[i]);
		CHECK(out[n] == '\0' && strlen(out) == n);
		CHECK(utf8_ok((const unsigned char *)out, n));
	}

	/* the input as a domain name */
	n = size < sizeof(dom) - 1 ? size : sizeof(dom) - 1;
	memcpy(dom, s, n);
	dom[n] = '\0';
	check_ascii_domain(dom);
	return 0;
}
