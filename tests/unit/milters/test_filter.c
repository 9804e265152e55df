/*
 * test_filter.c - a tiny libmilter filter for tests/unit/test_milter_client.c:
 * one behaviour per mode (-m), and a record of everything it was told
 * (-o FILE, one escaped line per callback) so the tests can compare what
 * the MTA side sent with what a real libmilter decoded.
 *
 * usage: test_filter -p unix:/path -m MODE [-o FILE]
 */
#include <libmilter/mfapi.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *mode = "record";
static const char *outfile;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int negotiations, connects;	/* per process: reuse shows as connects > negotiations */

static int
is(const char *m)
{
	return strcmp(mode, m) == 0;
}

/* Append one line, bytes escaped so that CR, LF and the rest stay visible. */
static void
rec(const char *tag, const char *data, size_t len)
{
	char line[300000];
	size_t o, i;
	FILE *f;

	if (outfile == NULL)
		return;
	o = (size_t)snprintf(line, sizeof(line), "%s ", tag);
	for (i = 0; i < len && o + 8 < sizeof(line); i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\\')
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\\\");
		else if (c == '\r')
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\n");
		else if (c < 0x20 || c > 0x7e)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\x%02x", c);
		else
			line[o++] = (char)c;
	}
	line[o++] = '\n';
	pthread_mutex_lock(&out_lock);
	if ((f = fopen(outfile, "a")) != NULL) {
		fwrite(line, 1, o, f);
		fclose(f);
	}
	pthread_mutex_unlock(&out_lock);
}

static void
recf(const char *tag, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rec(tag, buf, strlen(buf));
}

static void
rec_macros(SMFICTX *ctx, const char *stage, const char *const *names)
{
	const char *v;
	int i;

	for (i = 0; names[i]; i++)
		if ((v = smfi_getsymval(ctx, (char *)names[i])) != NULL)
			recf("M", "%s %s=%s", stage, names[i], v);
}

static const char *const conn_macros[] = { "j", "_", "{daemon_name}", "{client_addr}",
	"{client_port}", "{client_name}", NULL };
static const char *const helo_macros[] = { "{tls_version}", "{cipher}", "{cipher_bits}",
	"{cert_subject}", "{cert_issuer}", NULL };
static const char *const mail_macros[] = { "i", "{auth_type}", "{auth_authen}", "{mail_addr}", NULL };
static const char *const rcpt_macros[] = { "i", "{rcpt_addr}", NULL };
static const char *const data_macros[] = { "i", NULL };

static sfsistat
f_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
    unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	negotiations++;
	*pf2 = *pf3 = 0;
	*pf0 = f0;
	if (is("nr")) {
		/* Every step without a reply, unknown commands not at all. */
		*pf1 = f1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
		    SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NOUNKNOWN);
		return SMFIS_CONTINUE;
	}
	if (is("stall")) {
		/* No replies to the stream: the MTA writes on until the socket is full. */
		*pf1 = f1 & (SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY);
		return SMFIS_CONTINUE;
	}
	if (is("leadspc")) {
		*pf1 = f1 & SMFIP_HDR_LEADSPC;
		return SMFIS_CONTINUE;
	}
	if (is("nobody")) {
		*pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH);
		return SMFIS_CONTINUE;
	}
	if (is("noconnect")) {
		/* Like postern-milter without modules: neither connect nor HELO. */
		*pf1 = f1 & (SMFIP_SKIP | SMFIP_NOCONNECT | SMFIP_NOHELO);
		return SMFIS_CONTINUE;
	}
	if (is("symlist")) {
		*pf1 = f1 & SMFIP_SKIP;
		if (smfi_setsymlist(ctx, SMFIM_ENVFROM, "{mail_addr}") != MI_SUCCESS)
			return SMFIS_REJECT;
		return SMFIS_CONTINUE;
	}
	*pf1 = f1 & SMFIP_SKIP;
	return SMFIS_CONTINUE;
}

static sfsistat
f_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	connects++;
	recf("C", "%s %s", host, sa ? "addr" : "noaddr");
	rec_macros(ctx, "C", conn_macros);
	if (is("accept_connect"))
		return SMFIS_ACCEPT;
	if (is("reject_connect")) {
		smfi_setreply(ctx, "554", "5.7.1", "Go away");
		return SMFIS_REJECT;
	}
	if (is("reject_connect_550")) {
		/* Not a greeting code: the MTA makes it 554 (RFC 5321 3.1). */
		smfi_setmlreply(ctx, "550", "5.7.1", "Go away", "Really", NULL);
		return SMFIS_REJECT;
	}
	if (is("tempfail_connect")) {
		smfi_setreply(ctx, "450", "4.7.1", "Try later");
		return SMFIS_TEMPFAIL;
	}
	return is("nr") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_helo(SMFICTX *ctx, char *name)
{
	rec("E", name, strlen(name));
	rec_macros(ctx, "H", helo_macros);
	if (is("reject_helo") && strstr(name, "bad") != NULL)
		return SMFIS_REJECT;
	return is("nr") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_envfrom(SMFICTX *ctx, char **argv)
{
	int i;

	for (i = 0; argv[i]; i++)
		rec("F", argv[i], strlen(argv[i]));
	rec_macros(ctx, "F", mail_macros);
	if (is("noconnect")) {
		/* What the skipped steps' macros still told it. */
		rec_macros(ctx, "C@F", conn_macros);
		rec_macros(ctx, "H@F", helo_macros);
	}
	if (is("tempfail_mail"))
		return SMFIS_TEMPFAIL;
	if (is("slow_mail"))
		usleep(1500000);	/* the client sends on meanwhile */
	return is("nr") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_envrcpt(SMFICTX *ctx, char **argv)
{
	int i;

	for (i = 0; argv[i]; i++)
		rec("R", argv[i], strlen(argv[i]));
	rec_macros(ctx, "R", rcpt_macros);
	if (is("reject_rcpt") && strstr(argv[0], "bad")) {
		smfi_setreply(ctx, "550", "5.1.1", "No such user here");
		return SMFIS_REJECT;
	}
	if (is("discard_rcpt"))
		return SMFIS_DISCARD;
	return is("nr") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_data(SMFICTX *ctx)
{
	rec("D", "", 0);
	rec_macros(ctx, "D", data_macros);
	return is("nr") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_header(SMFICTX *ctx, char *name, char *value)
{
	char buf[70000];

	(void)ctx;
	snprintf(buf, sizeof(buf), "%s|%s", name, value);
	rec("H", buf, strlen(buf));
	return is("nr") || is("stall") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_eoh(SMFICTX *ctx)
{
	(void)ctx;
	rec("N", "", 0);
	return is("nr") || is("stall") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	(void)ctx;
	rec("B", (const char *)p, n);
	if (is("crash_body"))
		_exit(3);	/* the whole filter dies mid-body */
	if (is("stall"))
		sleep(30);	/* and stops reading */
	if (is("skip"))
		return SMFIS_SKIP;
	if (is("reject_body")) {
		smfi_setreply(ctx, "554", "5.6.0", "Body refused");
		return SMFIS_REJECT;
	}
	return is("nr") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
f_eom(SMFICTX *ctx)
{
	char buf[128];
	static char big[300000];
	int i;

	rec("Z", "", 0);
	rec_macros(ctx, "Z", data_macros);
	snprintf(buf, sizeof(buf), "negotiations=%d connects=%d", negotiations, connects);
	smfi_addheader(ctx, "X-Test", buf);
	if (is("reject_eom")) {
		smfi_setreply(ctx, "550", "5.7.1", "Rejected by test, 100%% sure");
		return SMFIS_REJECT;
	}
	if (is("reject_ml")) {
		smfi_setmlreply(ctx, "550", "5.7.1", "first line", "second line", NULL);
		return SMFIS_REJECT;
	}
	if (is("tempfail_eom"))
		return SMFIS_TEMPFAIL;
	if (is("accept_eom"))
		return SMFIS_ACCEPT;
	if (is("discard_eom"))
		return SMFIS_DISCARD;
	if (is("hang"))
		sleep(30);
	if (is("progress")) {
		for (i = 0; i < 6; i++) {
			usleep(500000);
			smfi_progress(ctx);
		}
	}
	if (is("modify")) {
		smfi_insheader(ctx, 0, "X-First", "top");
		smfi_chgheader(ctx, "Subject", 1, "changed subject");
		smfi_chgheader(ctx, "X-Drop", 1, NULL);
		smfi_addheader(ctx, "X-Multi", "line one\n\tline two");
		smfi_chgfrom(ctx, "<new@example.com>", "SIZE=100");
		smfi_addrcpt(ctx, "<added@example.com>");
		smfi_addrcpt_par(ctx, "<added2@example.com>", "NOTIFY=NEVER");
		smfi_delrcpt(ctx, "<b@example.com>");
		smfi_quarantine(ctx, "held for review");
	}
	if (is("replbody")) {
		/* 200 000 bytes of LF lines: several REPLBODY packets, LF turned into CRLF. */
		for (i = 0; i < (int)sizeof(big) - 1; i++)
			big[i] = (i % 50 == 49) ? '\n' : (char)('a' + i % 26);
		smfi_replacebody(ctx, (unsigned char *)big, 200000);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
f_abort(SMFICTX *ctx)
{
	(void)ctx;
	rec("A", "", 0);
	return SMFIS_CONTINUE;
}

static sfsistat
f_close(SMFICTX *ctx)
{
	(void)ctx;
	rec("Q", "", 0);
	return SMFIS_CONTINUE;
}

static sfsistat
f_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx;
	rec("U", cmd, strlen(cmd));
	return is("nr") ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "test_filter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT |
		    SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT | SMFIF_QUARANTINE | SMFIF_CHGFROM |
		    SMFIF_SETSYMLIST,
		.xxfi_connect = f_connect,
		.xxfi_helo = f_helo,
		.xxfi_envfrom = f_envfrom,
		.xxfi_envrcpt = f_envrcpt,
		.xxfi_header = f_header,
		.xxfi_eoh = f_eoh,
		.xxfi_body = f_body,
		.xxfi_eom = f_eom,
		.xxfi_abort = f_abort,
		.xxfi_close = f_close,
		.xxfi_unknown = f_unknown,
		.xxfi_data = f_data,
		.xxfi_negotiate = f_negotiate,
	};
	const char *sock = NULL;
	int c;

	while ((c = getopt(argc, argv, "p:m:o:")) != -1) {
		switch (c) {
		case 'p': sock = optarg; break;
		case 'm': mode = optarg; break;
		case 'o': outfile = optarg; break;
		default: return 2;
		}
	}
	if (sock == NULL)
		return 2;
	if (smfi_setconn((char *)sock) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "test_filter: cannot listen on %s\n", sock);
		return 1;
	}
	smfi_settimeout(60);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
