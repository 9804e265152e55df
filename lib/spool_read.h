/*
 * spool_read.h - parse the header block of a spool file (README "Spool
 * format"), bounded and strict: anything the writer (frontend/spool.c)
 * would not have produced is refused with a reason, so that a damaged
 * file is moved aside instead of being half-delivered.
 */
#ifndef POSTERN_SPOOL_READ_H
#define POSTERN_SPOOL_READ_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_READ_VERSION	1
/* Largest header block accepted: the writer's worst case (frontend/spool.c) with room to spare. */
#define SPOOL_READ_HDR_MAX	(1024 * 1024)
#define SPOOL_READ_LINE_MAX	4096
#define SPOOL_READ_ERR_MAX	256

/* The envelope of one spool file. Strings point into buf (owned) and are never NULL. */
struct spool_read_env {
	char *buf;
	const char *id;
	uint64_t arrival_ms;
	const char *client_addr;
	unsigned client_port;
	const char *helo;
	const char *protocol;
	const char *tls_version;	/* "" without TLS */
	const char *tls_cipher;
	const char *account;
	const char *body;		/* "7BIT", "8BITMIME", "BINARYMIME" or "" */
	int smtputf8;
	const char *sender;		/* "<a@b>" or "<>" */
	const char **rcpts;		/* "<x@y>" each, owned array */
	size_t nrcpts;
	const char *quarantine;		/* NULL when absent */
	uint64_t size;			/* message bytes after the header block */
	uint64_t data_offset;		/* where the message starts in the file */
};

/*
 * Parse data[0..len) (the start of a file, at least its header block) of a
 * file of file_size bytes. 0 and env filled (free with spool_read_free), or
 * -1 and a one-line reason in err (env left empty).
 */
int spool_read_parse(const char *data, size_t len, uint64_t file_size, struct spool_read_env *env,
    char *err, size_t errlen);
/* Read the header block from fd (at offset 0) and parse it; same result. */
int spool_read_fd(int fd, struct spool_read_env *env, char *err, size_t errlen);
void spool_read_free(struct spool_read_env *env);

#endif
