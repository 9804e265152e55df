/* hop_auth.h - relay_auth_file: one "username password" line, read bounded, secrets wiped after use. */
#ifndef POSTERN_HOP_AUTH_H
#define POSTERN_HOP_AUTH_H

#include <stddef.h>

#define HOP_AUTH_FILE_MAX	4096

/*
 * Parse data (len bytes; name for errors): blank lines and # comments
 * around one "username password" line; the password is the rest of the
 * line, inner blanks kept, trailing blanks dropped. 0 with *user and
 * *pass allocated, or -1 with "NAME:LINE: reason" in err.
 */
int hop_auth_parse(const char *name, const char *data, size_t len, char **user, char **pass,
    char *err, size_t errlen);
/* Read path (at most HOP_AUTH_FILE_MAX bytes) and parse it. */
int hop_auth_load(const char *path, char **user, char **pass, char *err, size_t errlen);
/* Wipe and free a secret (NULL is fine). */
void hop_auth_free_secret(char *s);

#endif
