/*
 * postern-check.c - run the policy engine over .eml files offline and print the milter's verdict line.
 *
 * Each file is one transaction: connect from 127.0.0.1, HELO localhost,
 * MAIL FROM the -f sender (default: the first From address of the file),
 * RCPT TO each -r (default postmaster@localhost), the headers unfolded, the
 * body in 64 KiB chunks with CRLF line ends, end of message. The engine,
 * the built-in rules and policy_modules are exactly those of postern-milter.
 *
 *	FILE: accept
 *	FILE: 554 5.6.0 Subject not present
 *
 * Exit 0 when every file is accepted (or discarded), 1 when one is refused
 * or tempfailed, 2 on a usage, config or file error.
 */
#include "addr.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHECK_CHUNK		65536
#define CHECK_HEADER_MAX	(1024 * 1024)	/* one unfolded field */
#define CHECK_HEADERS_MAX	(16 * 1024 * 1024)	/* the whole header block */
#define CHECK_DEFAULT_RCPT	"postmaster@localhost"

struct check_header {
	char *name;
	char *value;
};

struct check_opts {
	const char *sender;		/* NULL: from the From header */
	const char *account;
	const char **rcpts;
	size_t nrcpts;
	int verbose;
};

static void
check_usage(void)
{
	fprintf(stderr, "usage: postern-check [-nv] [-c conf] [-f sender] [-a account] "
	    "[-r rcpt]... file.eml...\n");
	exit(2);
}

/* Read one line (LF, a CR before it dropped) of at most max bytes; -1 at EOF. Longer lines are cut. */
static ssize_t
check_getline(FILE *f, char *buf, size_t max)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n')
		if (n < max - 1)
			buf[n++] = (char)c;
	if (c == EOF && n == 0)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

/* "Name: value" (obsolete "Name : value" too): the name length, or 0 when the line is no header. */
static size_t
check_header_name(const char *line)
{
	size_t n = strcspn(line, ": \t");
	const char *p = line + n;

	if (n == 0)
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == ':' ? n : 0;
}

static int
check_first_mailbox(void *ctx, const addr_mailbox *mb)
{
	snprintf(ctx, ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 2, "%s@%s", mb->local, mb->domain);
	return 1;
}

/* Feed the rest of f as body, LF turned into CRLF, in chunks; stops early when the engine says so. */
static void
check_body(engine_session *s, FILE *f, const char *first, engine_result *r)
{
	static char in[CHECK_CHUNK], out[CHECK_CHUNK + 1];
	size_t o = 0, n, i;
	int prev_cr = 0, done = 0;

	if (first != NULL) {
		size_t len = strlen(first);
		/* A non-header line ended the header block: it is the body's first line. */
		if (engine_body(s, first, len, r) || engine_body(s, "\r\n", 2, r))
			return;
	}
	while (!done && (n = fread(in, 1, sizeof(in), f)) > 0) {
		for (i = 0; i < n && !done; i++) {
			if (in[i] == '\n' && !prev_cr)
				out[o++] = '\r';
			prev_cr = in[i] == '\r';
			out[o++] = in[i];
			if (o >= CHECK_CHUNK) {
				done = engine_body(s, out, o, r);
				o = 0;
			}
		}
	}
	if (!done && o > 0)
		engine_body(s, out, o, r);
}

/* Judge one file; returns the verdict line in line, -1 on a file error. */
static int
check_file(policy_engine *e, const struct check_opts *o, const char *path, FILE *f,
    char *line, size_t linesize)
{
	struct check_header *h = NULL;
	size_t nh = 0, total = 0, i;
	char *buf = xmalloc(CHECK_HEADER_MAX), *cur = NULL, *body_first = NULL;
	char sender[ADDR_LOCAL_MAX + ADDR_DOMAIN_MAX + 2] = "";
	engine_session *s;
	engine_result r;
	ssize_t n;
	int rc = 0, lineno = 0;

	/* Headers first: the default sender comes from From, and MAIL precedes them. */
	while ((n = check_getline(f, buf, CHECK_HEADER_MAX)) >= 0) {
		size_t nl;
		lineno++;
		if (n == 0)
			break;
		if (lineno == 1 && strncmp(buf, "From ", 5) == 0)
			continue;	/* mbox separator */
		if ((buf[0] == ' ' || buf[0] == '\t') && cur != NULL) {
			size_t have = strlen(cur);
			if (have + (size_t)n < CHECK_HEADER_MAX) {
				cur = h[nh - 1].value = xrealloc(cur, have + (size_t)n + 1);
				memcpy(cur + have, buf, (size_t)n + 1);
			}
			total += (size_t)n;
		} else if ((nl = check_header_name(buf)) > 0) {
			const char *v = strchr(buf, ':') + 1;
			h = xrealloc(h, (nh + 1) * sizeof(*h));
			h[nh].name = xstrndup(buf, nl);
			h[nh].value = cur = xstrdup(v);
			nh++;
			total += (size_t)n;
		} else {
			body_first = xstrdup(buf);
			break;
		}
		if (total > CHECK_HEADERS_MAX) {
			fprintf(stderr, "postern-check: %s: header block larger than %d bytes\n",
			    path, CHECK_HEADERS_MAX);
			rc = -1;
			goto out;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "postern-check: %s: %s\n", path, strerror(errno));
		rc = -1;
		goto out;
	}
	if (o->sender) {
		size_t len = strlen(o->sender);
		if (len >= 2 && o->sender[0] == '<' && o->sender[len - 1] == '>')
			snprintf(sender, sizeof(sender), "%.*s", (int)(len - 2), o->sender + 1);
		else
			snprintf(sender, sizeof(sender), "%s", o->sender);
	} else {
		const char *why;
		for (i = 0; i < nh && strcasecmp(h[i].name, "From") != 0; i++)
			;
		if (i < nh)
			addr_parse_list(h[i].value, strlen(h[i].value), 0, check_first_mailbox,
			    sender, &why);
		/* No usable From: the header rules will say so; any sender gets them there. */
		if (sender[0] == '\0')
			snprintf(sender, sizeof(sender), "%s", CHECK_DEFAULT_RCPT);
	}

	s = engine_session_new(e);
	engine_connect(s, "localhost", "127.0.0.1", &r);
	if (r.verdict == POSTERN_CONTINUE)
		engine_helo(s, "localhost", &r);
	if (r.verdict == POSTERN_CONTINUE) {
		if (o->account)
			engine_set_macro(s, "{auth_authen}", o->account);
		engine_mail(s, sender, &r);
	}
	for (i = 0; r.verdict == POSTERN_CONTINUE && i < (o->nrcpts ? o->nrcpts : 1); i++)
		engine_rcpt(s, o->nrcpts ? o->rcpts[i] : CHECK_DEFAULT_RCPT, &r);
	for (i = 0; r.verdict == POSTERN_CONTINUE && i < nh; i++)
		engine_header(s, h[i].name, h[i].value, &r);
	if (r.verdict == POSTERN_CONTINUE)
		engine_eoh(s, &r);
	if (r.verdict == POSTERN_CONTINUE) {
		check_body(s, f, body_first, &r);
		engine_eom(s, &r);
	} else {
		engine_abort(s);
	}
	engine_session_free(s);

	if (r.verdict == POSTERN_CONTINUE || r.verdict == POSTERN_ACCEPT)
		snprintf(line, linesize, "accept");
	else if (r.verdict == POSTERN_DISCARD)
		snprintf(line, linesize, "discard");
	else
		snprintf(line, linesize, "%s %s %s", r.code, r.xcode, r.text);
	rc = r.verdict == POSTERN_REJECT || r.verdict == POSTERN_TEMPFAIL;
	if (o->verbose && r.rule)
		fprintf(stderr, "postern-check: %s: decided by %s\n", path, r.rule);
out:
	for (i = 0; i < nh; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	free(body_first);
	free(buf);
	return rc;
}

int
main(int argc, char **argv)
{
	struct check_opts o = { 0 };
	const char *conf = NULL;
	char err[CONFIG_ERR_MAX];
	postern_config *cfg;
	policy_engine *e;
	int ch, print = 0, status = 0, i;

	log_init("postern-check", LOG_DEST_STDERR);
	while ((ch = getopt(argc, argv, "a:c:f:hnr:v")) != -1) {
		switch (ch) {
		case 'a':
			o.account = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'f':
			o.sender = optarg;
			break;
		case 'n':
			print = 1;
			break;
		case 'r':
			o.rcpts = xrealloc(o.rcpts, (o.nrcpts + 1) * sizeof(*o.rcpts));
			o.rcpts[o.nrcpts++] = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		default:
			check_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((cfg = config_load(conf ? conf : CONFIG_DEFAULT_FILE, conf == NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "postern-check: %s\n", err);
		return 2;
	}
	if (print) {
		config_print(cfg, stdout);
		config_free(cfg);
		free(o.rcpts);
		return 0;
	}
	if (argc == 0) {
		config_free(cfg);
		check_usage();
	}
	if ((e = engine_new(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern-check: %s\n", err);
		config_free(cfg);
		free(o.rcpts);
		return 2;
	}
	config_free(cfg);
	if (o.verbose)
		engine_print_modules(e, stderr);
	for (i = 0; i < argc; i++) {
		char line[640];
		FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "rb");
		int rc;

		if (f == NULL) {
			fprintf(stderr, "postern-check: %s: %s\n", argv[i], strerror(errno));
			status = 2;
			continue;
		}
		rc = check_file(e, &o, argv[i], f, line, sizeof(line));
		if (f != stdin)
			fclose(f);
		if (rc < 0) {
			status = 2;
			continue;
		}
		printf("%s: %s\n", argv[i], line);
		if (rc > 0 && status == 0)
			status = 1;
	}
	engine_free(e);
	free(o.rcpts);
	return status;
}
