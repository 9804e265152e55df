/* engine_harness.c - shared fixtures of the engine tests (see engine_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "engine_harness.h"

char harness_tmpdir[64];
unsigned harness_nfiles;

/* --- Fixtures ----------------------------------------------------------- */

char *
write_file(const char *name, const char *text)
{
	char *path = malloc(256);
	FILE *f;

	snprintf(path, 256, "%s/%u-%s", harness_tmpdir, harness_nfiles++, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Engine from config text; NULL with the reason in err. */
policy_engine *
engine_from(const char *conf, char *err, size_t errlen)
{
	char *path = write_file("postern.conf", conf);
	postern_config *cfg = config_load(path, 0, err, errlen);
	policy_engine *e = NULL;

	free(path);
	if (cfg == NULL)
		return NULL;
	e = engine_new(cfg, err, errlen);
	config_free(cfg);	/* the engine keeps its own copy */
	return e;
}

policy_engine *
engine_ok(const char *conf)
{
	char err[512] = "";
	policy_engine *e = engine_from(conf, err, sizeof(err));

	if (e == NULL)
		fail_msg("engine_new: %s", err);
	return e;
}

void
result_line(const engine_result *r, char *line, size_t size)
{
	if (r->verdict == POSTERN_CONTINUE || r->verdict == POSTERN_ACCEPT)
		snprintf(line, size, "accept");
	else if (r->verdict == POSTERN_DISCARD)
		snprintf(line, size, "discard");
	else
		snprintf(line, size, "%s %s %s", r->code, r->xcode, r->text);
}

/*
 * Run one transaction on s: msg uses "\n" line ends; headers are passed
 * folded ("\r\n" + continuation) so the engine's unfolding is exercised; the
 * body goes in CRLF, chunk bytes at a time.
 */
void
run_on(engine_session *s, const char *sender, const char *account, const char *msg,
    size_t chunk, char *line, size_t size)
{
	const char *p = msg, *eoh = strstr(msg, "\n\n");
	engine_result r;
	char *body, *b;
	size_t i, blen;

	engine_set_macro(s, "{auth_authen}", account);
	engine_mail(s, sender, &r);
	if (r.verdict == POSTERN_CONTINUE)
		engine_rcpt(s, "rcpt@example.net", &r);
	if (r.verdict != POSTERN_CONTINUE) {
		result_line(&r, line, size);
		return;
	}
	assert_non_null(eoh);
	while (p <= eoh) {
		const char *colon = strchr(p, ':'), *end = strchr(p, '\n');
		char name[128], value[70000];
		size_t vlen = 0;
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
		for (;;) {
			memcpy(value + vlen, colon + 1, (size_t)(end - colon - 1));
			vlen += (size_t)(end - colon - 1);
			p = end + 1;
			if (*p != ' ' && *p != '\t')
				break;
			memcpy(value + vlen, "\r\n", 2);
			vlen += 2;
			colon = p - 1;
			end = strchr(p, '\n');
		}
		value[vlen] = '\0';
		engine_header(s, name, value, &r);
		assert_int_equal(r.verdict, POSTERN_CONTINUE);
	}
	engine_eoh(s, &r);
	body = malloc(2 * strlen(eoh) + 1);
	for (b = body, p = eoh + 2; *p; p++) {
		if (*p == '\n')
			*b++ = '\r';
		*b++ = *p;
	}
	blen = (size_t)(b - body);
	for (i = 0; i < blen; i += chunk)
		if (engine_body(s, body + i, blen - i < chunk ? blen - i : chunk, &r))
			break;
	free(body);
	engine_eom(s, &r);
	result_line(&r, line, size);
}

/* The verdict line must not depend on how the body is cut. */
void
check_as(policy_engine *e, const char *sender, const char *account, const char *msg,
    const char *want)
{
	static const size_t chunks[] = { 65536, 7, 1 };
	char line[640];
	size_t i;

	for (i = 0; i < 3; i++) {
		engine_session *s = engine_session_new(e);
		engine_result r;
		engine_connect(s, "localhost", "127.0.0.1", &r);
		engine_helo(s, "client.example", &r);
		run_on(s, sender, account, msg, chunks[i], line, sizeof(line));
		engine_session_free(s);
		if (strcmp(line, want) != 0)
			fail_msg("chunk %zu: got \"%s\", want \"%s\"", chunks[i], line, want);
	}
}

void
check(policy_engine *e, const char *msg, const char *want)
{
	check_as(e, "alice@example.com", NULL, msg, want);
}

char *
base64(const unsigned char *in, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(len * 2 + 8), *o = out;
	size_t i, col = 0;

	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
		    (i + 2 < len ? in[i + 2] : 0);
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
		if ((col += 4) == 76) {
			*o++ = '\n';
			col = 0;
		}
	}
	*o++ = '\n';
	*o = '\0';
	return out;
}

/* A message whose one attachment is content, base64-encoded, named name. */
char *
with_attachment(const char *name, const char *type, const unsigned char *content, size_t len)
{
	char *b64 = base64(content, len), *msg;
	size_t n = strlen(b64) + 1024;

	msg = malloc(n);
	snprintf(msg, n, "From: alice@example.com\nTo: bob@example.net\nSubject: Files\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
	    "--b1\nContent-Type: text/plain\n\nSee attached.\n"
	    "--b1\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s--b1--\n", type, name, name, b64);
	free(b64);
	return msg;
}

/* A minimal valid PDF (one empty page), xref offsets computed. */
size_t
make_pdf(char *out, size_t size)
{
	static const char *const objs[] = {
		"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
		"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n",
		"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n",
	};
	size_t off[3], n, i;

	n = (size_t)snprintf(out, size, "%%PDF-1.4\n");
	for (i = 0; i < 3; i++) {
		off[i] = n;
		n += (size_t)snprintf(out + n, size - n, "%s", objs[i]);
	}
	n += (size_t)snprintf(out + n, size - n, "xref\n0 4\n0000000000 65535 f \n"
	    "%010zu 00000 n \n%010zu 00000 n \n%010zu 00000 n \n"
	    "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
	    off[0], off[1], off[2], n);
	return n;
}

unsigned char *
slurp(const char *path, size_t max, size_t *len)
{
	unsigned char *buf = malloc(max);
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	*len = fread(buf, 1, max, f);
	fclose(f);
	return buf;
}

const char *
accounts_conf(void)
{
	/* The password does not matter here: only the format is checked. */
	static const char hash[] = "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
	    "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/";
	static char conf[512];
	char accts[1024], *path;

	snprintf(accts, sizeof(accts), "alice:%s::example.com,boss@example.org\n"
	    "mallory:%s:blocked:example.com\nnobody:%s::\n", hash, hash, hash);
	path = write_file("accounts", accts);
	snprintf(conf, sizeof(conf), "accounts_file = %s\n", path);
	free(path);
	return conf;
}

int
harness_setup(void **state)
{
	(void)state;
	snprintf(harness_tmpdir, sizeof(harness_tmpdir), "/tmp/test_engine.XXXXXX");
	return mkdtemp(harness_tmpdir) ? 0 : -1;
}

int
harness_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", harness_tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

