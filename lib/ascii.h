/* ascii.h - character values shared by the decoders (quoted-printable, RFC 2047, base64, AUTH, queue files). */
#ifndef POSTERN_ASCII_H
#define POSTERN_ASCII_H

#include <stdint.h>

/* Decimal digits only (no sign, no blank, not empty) that fit in 64 bits: 0 and *out, or -1. */
static inline int
ascii_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Value of a hexadecimal digit, either case, or -1. */
static inline int
ascii_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Value of one base64 character (RFC 4648 section 4 alphabet), or -1 ('=' included). */
static inline int
ascii_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

#endif
