/* test_tls.c - frontend/tls.c against a real GnuTLS client over non-blocking socketpairs. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"

/* Files made once per run in a temp dir: A is ECDSA (CN a.test), B is RSA (CN b.test). */
static char tmpdir[256];
static char cert_a[300], key_a[300], cert_b[300], key_b[300], junk[300];

/* One TLS conversation: our server side and a GnuTLS client on a socketpair. */
struct pair {
	int sfd, cfd;
	tls_conn *srv;
	gnutls_session_t cli;
	gnutls_certificate_credentials_t ccred;
};

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Self-signed certificate with the GnuTLS API: no certtool needed at test time. */
static void
make_cert(const char *cn, int rsa, const char *certpath, const char *keypath)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t out;
	unsigned char serial[8] = { 1, 2, 3, 4, 5, 6, 7, (unsigned char)rsa };
	time_t now = time(NULL);

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	if (rsa)
		assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 2048, 0), 0);
	else
		assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now - 3600), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn,
	    (unsigned)strlen(cn), GNUTLS_FSAN_SET), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), 0);
	write_file(certpath, out.data, out.size);
	gnutls_free(out.data);
	assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out), 0);
	write_file(keypath, out.data, out.size);
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static int
group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_tls.XXXXXX", t && *t && strlen(t) < 200 ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cert_a, sizeof(cert_a), "%s/a.crt", tmpdir);
	snprintf(key_a, sizeof(key_a), "%s/a.key", tmpdir);
	snprintf(cert_b, sizeof(cert_b), "%s/b.crt", tmpdir);
	snprintf(key_b, sizeof(key_b), "%s/b.key", tmpdir);
	snprintf(junk, sizeof(junk), "%s/junk.pem", tmpdir);
	make_cert("a.test", 0, cert_a, key_a);
	make_cert("b.test", 1, cert_b, key_b);
	write_file(junk, "not a certificate\n", 18);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unlink(cert_a);
	unlink(key_a);
	unlink(cert_b);
	unlink(key_b);
	unlink(junk);
	rmdir(tmpdir);
	gnutls_global_deinit();
	return 0;
}

static tls_server *
server_new(const char *cert, const char *key)
{
	char err[256] = "";
	tls_server *srv = tls_server_new(cert, key, err, sizeof(err));

	if (srv == NULL)
		fail_msg("tls_server_new: %s", err);
	return srv;
}

/* Socketpair, both ends non-blocking; client restricted to prio (NULL: library default). */
static void
pair_open(struct pair *p, tls_server *srv, const char *prio)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	p->sfd = sv[0];
	p->cfd = sv[1];
	p->srv = tls_conn_new(srv, p->sfd);
	assert_non_null(p->srv);
	assert_int_equal(gnutls_certificate_allocate_credentials(&p->ccred), 0);
	assert_int_equal(gnutls_init(&p->cli, GNUTLS_CLIENT | GNUTLS_NONBLOCK), 0);
	if (prio != NULL)
		assert_int_equal(gnutls_priority_set_direct(p->cli, prio, NULL), 0);
	else
		assert_int_equal(gnutls_set_default_priority(p->cli), 0);
	assert_int_equal(gnutls_credentials_set(p->cli, GNUTLS_CRD_CERTIFICATE, p->ccred), 0);
	gnutls_transport_set_int(p->cli, p->cfd);
}

static void
pair_close(struct pair *p)
{
	tls_conn_free(p->srv);
	gnutls_deinit(p->cli);
	gnutls_certificate_free_credentials(p->ccred);
	if (p->sfd >= 0)
		close(p->sfd);
	if (p->cfd >= 0)
		close(p->cfd);
}

/* Wait until fd is ready the way a TLS_WANT_* / GnuTLS direction says (bounded). */
static void
wait_fds(int sfd, int swant, int cfd, int cwant)
{
	struct pollfd pf[2] = {
		{ sfd, (short)(swant == TLS_WANT_WRITE ? POLLOUT : POLLIN), 0 },
		{ cfd, (short)(cwant ? POLLOUT : POLLIN), 0 },
	};

	assert_true(poll(pf, 2, 2000) > 0);
}

static int
cli_again(int r)
{
	return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
	    (r < 0 && !gnutls_error_is_fatal(r));
}

/*
 * Drive both handshakes until the server side settles. A client that gives
 * up shuts its side, so the server then sees EOF and fails too.
 */
static int
pair_handshake(struct pair *p, int *cli_ret)
{
	int s = TLS_WANT_READ, c = GNUTLS_E_AGAIN, i;

	for (i = 0; i < 200; i++) {
		if (s == TLS_WANT_READ || s == TLS_WANT_WRITE)
			s = tls_conn_handshake(p->srv);
		if (cli_again(c)) {
			c = gnutls_handshake(p->cli);
			if (c < 0 && !cli_again(c))
				shutdown(p->cfd, SHUT_WR);
		}
		if ((s == TLS_OK || s == TLS_ERROR) && !cli_again(c))
			break;
		/* The frontend drops the connection on TLS_ERROR; so do we. */
		if (s == TLS_ERROR)
			shutdown(p->sfd, SHUT_RDWR);
		wait_fds(p->sfd, s, p->cfd, gnutls_record_get_direction(p->cli));
	}
	if (cli_ret != NULL)
		*cli_ret = c;
	return s;
}

/* Read exactly len bytes on the server side. */
static void
srv_read_n(struct pair *p, char *buf, size_t len)
{
	size_t got = 0;
	int i;

	for (i = 0; got < len && i < 1000; i++) {
		ssize_t n = tls_conn_read(p->srv, buf + got, len - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		assert_true(n == TLS_WANT_READ || n == TLS_WANT_WRITE);
		wait_fds(p->sfd, (int)n, p->cfd, 0);
	}
	assert_int_equal(got, len);
}

/* Read exactly len bytes on the client side. */
static void
cli_read_n(struct pair *p, char *buf, size_t len)
{
	size_t got = 0;
	int i;

	for (i = 0; got < len && i < 100000; i++) {
		ssize_t n = gnutls_record_recv(p->cli, buf + got, len - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		assert_true(cli_again((int)n));
		wait_fds(p->sfd, TLS_WANT_READ, p->cfd, gnutls_record_get_direction(p->cli));
	}
	assert_int_equal(got, len);
}

static void
cli_write_all(struct pair *p, const char *buf, size_t len)
{
	ssize_t n;

	do {
		n = gnutls_record_send(p->cli, buf, len);
	} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	assert_int_equal(n, (ssize_t)len);
}

static void
srv_write_all(struct pair *p, const char *buf, size_t len)
{
	ssize_t n;

	do {
		n = tls_conn_write(p->srv, buf, len);
	} while (n == TLS_WANT_WRITE || n == TLS_WANT_READ);
	assert_int_equal(n, (ssize_t)len);
}

/* A short SMTP-like exchange both ways, checking tls_conn_pending on the way. */
static void
exchange(struct pair *p)
{
	char buf[128];
	static const char banner[] = "220 postern ESMTP\r\n";
	static const char ehlo[] = "EHLO client.test\r\nMAIL FROM:<a@b.test>\r\n";

	srv_write_all(p, banner, sizeof(banner) - 1);
	cli_read_n(p, buf, sizeof(banner) - 1);
	assert_memory_equal(buf, banner, sizeof(banner) - 1);
	cli_write_all(p, ehlo, sizeof(ehlo) - 1);
	/* Read a piece of the record: the rest waits decrypted inside GnuTLS. */
	srv_read_n(p, buf, 10);
	assert_int_equal(tls_conn_pending(p->srv), sizeof(ehlo) - 1 - 10);
	srv_read_n(p, buf + 10, sizeof(ehlo) - 1 - 10);
	assert_memory_equal(buf, ehlo, sizeof(ehlo) - 1);
	assert_int_equal(tls_conn_pending(p->srv), 0);
}

/* CN of the certificate the client was shown. */
static void
peer_cn(struct pair *p, char *cn, size_t cnsize)
{
	unsigned n = 0;
	const gnutls_datum_t *der = gnutls_certificate_get_peers(p->cli, &n);
	gnutls_x509_crt_t crt;

	assert_non_null(der);
	assert_true(n >= 1);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &der[0], GNUTLS_X509_FMT_DER), 0);
	assert_int_equal(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    cn, &cnsize), 0);
	gnutls_x509_crt_deinit(crt);
}

static void
test_tls13_default(void **state)
{
	tls_server *srv = server_new(cert_a, key_a);
	struct pair p;
	int cr;

	(void)state;
	pair_open(&p, srv, NULL);
	assert_string_equal(tls_conn_version(p.srv), "");
	assert_int_equal(pair_handshake(&p, &cr), TLS_OK);
	assert_int_equal(cr, 0);
	assert_int_equal(tls_conn_handshake(p.srv), TLS_OK);	/* idempotent */
	assert_string_equal(tls_conn_version(p.srv), "TLSv1.3");
	assert_true(strncmp(tls_conn_cipher(p.srv), "TLS_", 4) == 0);
	assert_true(tls_conn_cipher_bits(p.srv) >= 128);
	exchange(&p);
	pair_close(&p);
	tls_server_free(srv);
}

static void
test_tls12_when_client_limits(void **state)
{
	tls_server *srv = server_new(cert_b, key_b);
	struct pair p;

	(void)state;
	pair_open(&p, srv, "NORMAL:-VERS-ALL:+VERS-TLS1.2");
	assert_int_equal(pair_handshake(&p, NULL), TLS_OK);
	assert_string_equal(tls_conn_version(p.srv), "TLSv1.2");
	assert_true(strlen(tls_conn_cipher(p.srv)) > 4);
	assert_true(tls_conn_cipher_bits(p.srv) >= 128);
	exchange(&p);
	pair_close(&p);
	tls_server_free(srv);
}

/* TLS 1.1 and 1.0 are refused (the client may give up before sending anything). */
static void
test_old_versions_refused(void **state)
{
	static const char *const prios[] = {
		"NORMAL:-VERS-ALL:+VERS-TLS1.1",
		"NORMAL:-VERS-ALL:+VERS-TLS1.0",
	};
	tls_server *srv = server_new(cert_a, key_a);
	struct pair p;
	size_t i;
	int cr;

	(void)state;
	for (i = 0; i < sizeof(prios) / sizeof(prios[0]); i++) {
		pair_open(&p, srv, prios[i]);
		assert_int_equal(pair_handshake(&p, &cr), TLS_ERROR);
		assert_true(cr < 0);
		assert_true(strlen(tls_conn_error(p.srv)) > 0);
		pair_close(&p);
	}
	tls_server_free(srv);
}

static void
expect_load_error(const char *cert, const char *key, const char *want1, const char *want2)
{
	char err[512] = "";

	assert_null(tls_server_new(cert, key, err, sizeof(err)));
	if (strstr(err, want1) == NULL || (want2 != NULL && strstr(err, want2) == NULL))
		fail_msg("error \"%s\" should name %s%s%s", err, want1,
		    want2 ? " and " : "", want2 ? want2 : "");
}

static void
test_load_errors_name_the_file(void **state)
{
	char missing[320];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/no-such.pem", tmpdir);
	expect_load_error(missing, key_a, missing, "No such file");
	expect_load_error(cert_a, missing, missing, "No such file");
	expect_load_error(junk, key_a, junk, NULL);
	expect_load_error(cert_a, junk, junk, NULL);
	expect_load_error(cert_a, key_b, cert_a, key_b);	/* key of another cert */
	expect_load_error("", "", "certificate", NULL);
}

/* Reload: new sessions get the new pair, running ones keep theirs, a bad reload keeps the old. */
static void
test_reload(void **state)
{
	tls_server *srv = server_new(cert_a, key_a);
	struct pair p1, p2, p3;
	char cn[64], err[512] = "", missing[320];

	(void)state;
	pair_open(&p1, srv, NULL);
	assert_int_equal(pair_handshake(&p1, NULL), TLS_OK);
	peer_cn(&p1, cn, sizeof(cn));
	assert_string_equal(cn, "a.test");

	assert_int_equal(tls_server_reload(srv, cert_b, key_b, err, sizeof(err)), 0);
	pair_open(&p2, srv, NULL);
	assert_int_equal(pair_handshake(&p2, NULL), TLS_OK);
	peer_cn(&p2, cn, sizeof(cn));
	assert_string_equal(cn, "b.test");
	exchange(&p1);	/* the old session still works on the old credentials */

	snprintf(missing, sizeof(missing), "%s/gone.pem", tmpdir);
	assert_int_equal(tls_server_reload(srv, missing, key_b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, missing));
	pair_open(&p3, srv, NULL);
	assert_int_equal(pair_handshake(&p3, NULL), TLS_OK);
	peer_cn(&p3, cn, sizeof(cn));
	assert_string_equal(cn, "b.test");

	/* The owner lets go first: connections keep server and credentials alive. */
	tls_server_free(srv);
	exchange(&p2);
	pair_close(&p1);
	pair_close(&p2);
	exchange(&p3);
	pair_close(&p3);
}

static void
test_garbage_is_error(void **state)
{
	static const char *const junks[] = {
		"GET / HTTP/1.0\r\n\r\n",
		"EHLO client.test\r\n",
		"\x16\x03\x01\x00\x05hello",	/* a record header, then nonsense */
		"\x16\x03\x03\xff\xff",		/* over-long record, then EOF */
	};
	tls_server *srv = server_new(cert_a, key_a);
	struct pair p;
	size_t i;
	int s = TLS_WANT_READ, k;

	(void)state;
	for (i = 0; i < sizeof(junks) / sizeof(junks[0]); i++) {
		pair_open(&p, srv, NULL);
		assert_int_equal(write(p.cfd, junks[i], strlen(junks[i])), (ssize_t)strlen(junks[i]));
		shutdown(p.cfd, SHUT_WR);
		for (k = 0; k < 20; k++) {
			s = tls_conn_handshake(p.srv);
			if (s != TLS_WANT_READ && s != TLS_WANT_WRITE)
				break;
			wait_fds(p.sfd, s, p.cfd, 0);
		}
		assert_int_equal(s, TLS_ERROR);
		assert_true(strlen(tls_conn_error(p.srv)) > 0);
		assert_string_equal(tls_conn_version(p.srv), "");
		assert_int_equal(tls_conn_cipher_bits(p.srv), 0);
		pair_close(&p);
	}
	tls_server_free(srv);
}

/* close_notify and a bare EOF both read as TLS_CLOSED; bye is harmless. */
static void
test_close(void **state)
{
	tls_server *srv = server_new(cert_a, key_a);
	struct pair p;
	char buf[16];
	ssize_t n;
	int k, bye;

	(void)state;
	for (bye = 0; bye < 2; bye++) {
		pair_open(&p, srv, NULL);
		assert_int_equal(pair_handshake(&p, NULL), TLS_OK);
		if (bye)
			assert_int_equal(gnutls_bye(p.cli, GNUTLS_SHUT_WR), 0);
		else
			shutdown(p.cfd, SHUT_WR);
		for (k = 0; k < 20; k++) {
			n = tls_conn_read(p.srv, buf, sizeof(buf));
			if (n != TLS_WANT_READ)
				break;
			wait_fds(p.sfd, TLS_WANT_READ, p.cfd, 0);
		}
		assert_int_equal(n, TLS_CLOSED);
		tls_conn_bye(p.srv);
		pair_close(&p);
	}
	tls_server_free(srv);
}

/* Session tickets: a second connection resumes the first. */
static void
test_resumption(void **state)
{
	tls_server *srv = server_new(cert_a, key_a);
	struct pair p;
	gnutls_datum_t sd = { NULL, 0 };

	(void)state;
	pair_open(&p, srv, NULL);
	assert_int_equal(pair_handshake(&p, NULL), TLS_OK);
	exchange(&p);	/* the client reads the ticket along with the banner */
	assert_int_equal(gnutls_session_get_data2(p.cli, &sd), 0);
	pair_close(&p);

	pair_open(&p, srv, NULL);
	assert_int_equal(gnutls_session_set_data(p.cli, sd.data, sd.size), 0);
	assert_int_equal(pair_handshake(&p, NULL), TLS_OK);
	assert_true(gnutls_session_is_resumed(p.cli));
	exchange(&p);
	pair_close(&p);
	gnutls_free(sd.data);
	tls_server_free(srv);
}

/* A big write against a full socket: WANT_WRITE, partial counts, no byte lost or repeated. */
static void
test_big_write(void **state)
{
	tls_server *srv = server_new(cert_a, key_a);
	struct pair p;
	size_t total = 1 << 20, off = 0, got = 0, i;
	char *out = malloc(total), *in = malloc(total);
	int wants = 0;

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < total; i++)
		out[i] = (char)(i * 7 + i / 251);
	pair_open(&p, srv, NULL);
	assert_int_equal(pair_handshake(&p, NULL), TLS_OK);
	while (got < total) {
		if (off < total) {
			ssize_t n = tls_conn_write(p.srv, out + off, total - off);
			if (n > 0) {
				off += (size_t)n;
				continue;	/* the client reads only once the socket is full */
			}
			if (n != TLS_WANT_WRITE)
				fail_msg("tls_conn_write: %zd", n);
			wants++;
		}
		while (got < total) {
			ssize_t n = gnutls_record_recv(p.cli, in + got, total - got);
			if (n <= 0) {
				assert_true(cli_again((int)n));
				break;
			}
			got += (size_t)n;
		}
	}
	assert_int_equal(off, total);
	assert_memory_equal(in, out, total);
	assert_true(wants > 0);
	pair_close(&p);
	tls_server_free(srv);
	free(out);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls13_default),
		cmocka_unit_test(test_tls12_when_client_limits),
		cmocka_unit_test(test_old_versions_refused),
		cmocka_unit_test(test_load_errors_name_the_file),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_garbage_is_error),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_resumption),
		cmocka_unit_test(test_big_write),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
