/* fuzz_auth.c - libFuzzer target for the AUTH PLAIN and LOGIN decoders of frontend/auth.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Relative: the fuzz build passes -I for lib/, include/ and policies/ only. */
#include "../../frontend/auth.h"

/*
 * Input: one mode byte, then the client's line. Modes 0/1 hand the line to
 * the decoders as is (base64 layer); modes 2/3 base64-encode it first, so
 * the fuzzer reaches the SASL layer without having to learn base64, and
 * check a round trip. The checks abort on any broken invariant.
 */
enum { MODE_PLAIN, MODE_LOGIN, MODE_PLAIN_RAW, MODE_LOGIN_RAW, MODE_COUNT };

static size_t
enc64(const uint8_t *s, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = a[s[i] >> 2];
		out[o++] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
		out[o++] = a[(s[i + 1] & 15) << 2 | s[i + 2] >> 6];
		out[o++] = a[s[i + 2] & 63];
	}
	if (len - i == 1) {
		out[o++] = a[s[i] >> 2];
		out[o++] = a[(s[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		out[o++] = a[s[i] >> 2];
		out[o++] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
		out[o++] = a[(s[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	return o;
}

static void
check_plain(const char *line, size_t len, const uint8_t *raw, size_t rawlen)
{
	auth_creds c;
	int r = auth_plain_decode(line, len, &c);

	if (r != 0) {
		if (r != R_AUTH_BAD_BASE64 && r != R_AUTH_NO_NUL && r != R_AUTH_NO_SECOND_NUL &&
		    r != R_AUTH_INVALID && r != R_AUTH_CANCELED)
			abort();
		if (c.user[0] != '\0' || c.pass[0] != '\0' || c.authzid[0] != '\0')
			abort();	/* failures must not leave secrets behind */
		return;
	}
	if (memchr(c.user, '\0', sizeof(c.user)) == NULL || c.user[0] == '\0' || c.pass[0] == '\0' ||
	    memchr(c.pass, '\0', sizeof(c.pass)) == NULL ||
	    memchr(c.authzid, '\0', sizeof(c.authzid)) == NULL)
		abort();
	if (c.authzid[0] != '\0' && strcmp(c.authzid, c.user) != 0)
		abort();
	if (raw != NULL) {
		/* Round trip: the fields put back together are the message. */
		size_t zl = strlen(c.authzid), ul = strlen(c.user), pl = strlen(c.pass);
		if (zl + ul + pl + 2 != rawlen || memcmp(raw, c.authzid, zl) != 0 ||
		    raw[zl] != 0 || memcmp(raw + zl + 1, c.user, ul) != 0 || raw[zl + 1 + ul] != 0 ||
		    memcmp(raw + zl + ul + 2, c.pass, pl) != 0)
			abort();
	}
}

static void
check_login(const char *line, size_t len, size_t outsize, const uint8_t *raw, size_t rawlen)
{
	char out[AUTH_PASS_MAX];
	int r = auth_login_decode(line, len, out, outsize);

	if (r != 0) {
		if (r != R_AUTH_BAD_BASE64 && r != R_AUTH_INVALID && r != R_AUTH_CANCELED)
			abort();
		return;
	}
	if (memchr(out, '\0', outsize) == NULL)
		abort();
	if (raw != NULL && (strlen(out) != rawlen || memcmp(out, raw, rawlen) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char enc[(AUTH_B64_MAX + 8) * 2];
	size_t outsize, n;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0] % MODE_COUNT;
	/* The LOGIN buffer size comes from the mode byte too: small sizes test truncation. */
	outsize = 1 + (size_t)(data[0] / MODE_COUNT) * 16;
	if (outsize > AUTH_PASS_MAX)
		outsize = AUTH_PASS_MAX;
	data++;
	size--;
	switch (mode) {
	case MODE_PLAIN:
		check_plain((const char *)data, size, NULL, 0);
		break;
	case MODE_LOGIN:
		check_login((const char *)data, size, outsize, NULL, 0);
		break;
	case MODE_PLAIN_RAW:
		if (size > AUTH_B64_MAX)
			return 0;
		n = enc64(data, size, enc);
		check_plain(enc, n, data, size);
		break;
	case MODE_LOGIN_RAW:
		if (size > AUTH_B64_MAX)
			return 0;
		n = enc64(data, size, enc);
		/* An empty encoding is the empty answer; a NUL inside is refused. */
		check_login(enc, n, outsize, memchr(data, 0, size) ? NULL : data, size);
		break;
	}
	return 0;
}
