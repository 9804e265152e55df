/*
 * fuzz_smtp_cmd.c - libFuzzer target for the SMTP command side of
 * postern-smtpd: the command-line dispatcher (verbs, MAIL/RCPT paths and
 * parameters, AUTH exchanges, BDAT arguments, error limit) and the
 * DATA/BDAT scanner, driven through whole sessions without a socket.
 *
 * Input: one flags byte (require_tls, require_auth, TLS active, normalize,
 * the AUTH verdict, refused by a milter at connect), then the client's bytes, cut into lines at LF; DATA
 * bodies and BDAT chunks are taken from the same stream, as the session
 * layer would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Relative: the fuzz build passes -I for lib/, include/ and policies/ only. */
#include "../../frontend/auth.h"
#include "../../frontend/commands.h"
#include "../../frontend/data.h"

#define FUZZ_MAX_STEPS	4096

static void
fuzz_sink(void *ctx, const char *p, size_t n)
{
	size_t *total = ctx;

	/* Touch every byte so ASan sees out-of-range spans. */
	while (n--)
		*total += (unsigned char)p[n] == 0xff;
}

static void
fuzz_check_render(struct cmd_session *s, struct cmd_result *r)
{
	char out[8192];
	size_t n = cmd_render(s, r, out, sizeof(out));

	if (n >= sizeof(out))
		abort();
	/* Every reply line ends with CRLF and carries no other CR or LF. */
	if (n > 0 && (out[n - 2] != '\r' || out[n - 1] != '\n'))
		abort();
	if (memchr(out, '\0', n) != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmd_conf conf = {
		.hostname = "mx.fuzz", .size_limit = 4096, .max_rcpts = 5, .max_errors = 50,
		.auth_offered = 1,
	};
	struct cmd_session s;
	struct cmd_result r;
	struct data_scan scan;
	char *buf;
	size_t off = 1, sink_total = 0;
	int flags, steps = 0;

	if (size < 1)
		return 0;
	flags = data[0];
	conf.require_tls = flags & 1;
	conf.require_auth = (flags >> 1) & 1;
	cmd_session_init(&s, &conf, "fuzz");
	s.tls = (flags >> 2) & 1;
	s.starttls_ok = !s.tls;
	s.refused = (flags >> 6) & 1;	/* a milter refused the connection */
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';

	while (off < size && steps++ < FUZZ_MAX_STEPS && s.state != SS_QUIT) {
		if (s.state == SS_DATA) {
			off += data_scan_feed(&scan, buf + off, size - off, fuzz_sink, &sink_total);
			if (!scan.done)
				break;
			cmd_tx_reset(&s);
			continue;
		}
		char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		char *line = buf + off;
		char save;

		off += len + (nl ? 1 : 0);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len + 2 > cmd_line_limit(&s, line, len)) {
			cmd_line_too_long(&s, &r);
			fuzz_check_render(&s, &r);
			continue;
		}
		save = line[len];
		line[len] = '\0';
		cmd_dispatch(&s, line, len, &r);
		line[len] = save;
		fuzz_check_render(&s, &r);
		switch (r.action) {
		case ACT_DATA:
			data_scan_init(&scan, DATA_MODE_DOT, (flags >> 3) & 1);
			break;
		case ACT_BDAT: {
			size_t n = s.bdat_len < size - off ? (size_t)s.bdat_len : size - off;
			if (s.bdat_discard == CMD_NO_REPLY) {
				data_scan_init(&scan, s.body == BODY_BINARYMIME ? DATA_MODE_BINARY :
				    DATA_MODE_RAW, (flags >> 3) & 1);
				data_scan_feed(&scan, buf + off, n, fuzz_sink, &sink_total);
				if (s.bdat_last) {
					data_scan_finish(&scan, fuzz_sink, &sink_total);
					cmd_tx_reset(&s);
				} else {
					cmd_enter(&s, SS_CHUNKING);
				}
			}
			s.bdat_discard = CMD_NO_REPLY;
			off += n;
			break;
		}
		case ACT_AUTH_VERIFY:
			if (s.creds == NULL || strlen(s.creds->user) >= sizeof(s.creds->user))
				abort();
			free(s.creds);
			s.creds = NULL;
			cmd_auth_verdict(&s, (flags >> 4) & 3, &r);
			fuzz_check_render(&s, &r);
			break;
		case ACT_STARTTLS:
			cmd_tls_started(&s);
			break;
		default:
			break;
		}
		/* A refused session serves QUIT only: it never gets past INIT. */
		if (s.refused && ((s.state != SS_INIT && s.state != SS_QUIT) || s.helo != NULL))
			abort();
		if (r.close)
			break;
	}
	if (s.nrcpts > conf.max_rcpts)
		abort();
	cmd_session_free(&s);
	free(buf);
	return 0;
}
