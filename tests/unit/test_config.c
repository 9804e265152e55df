/* test_config.c - postern.conf parsing: defaults, types, units, and file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static postern_config *
parse(const char *text, char *err)
{
	return config_parse("t.conf", text, strlen(text), err, CONFIG_ERR_MAX);
}

/* The relay's queue keys: the contract's defaults, and the d (day) unit. */
static void
test_relay_queue_keys(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	postern_config *c = parse("", err);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->relay_backoff_min, 300);
	assert_int_equal(c->relay_backoff_max, 4000);
	assert_int_equal(c->relay_max_queue_lifetime, 5 * 86400);
	assert_int_equal(c->relay_bounce, 1);
	assert_int_equal(c->relay_status_lifetime, 7 * 86400);
	assert_string_equal(c->relay_user, "postern");
	config_free(c);
	c = parse("relay_backoff_min = 1\nrelay_backoff_max = 2m\nrelay_max_queue_lifetime = 2d\n"
	    "relay_bounce = no\nrelay_status_lifetime = 1h\nrelay_user =\n", err);
	assert_non_null(c);
	assert_int_equal(c->relay_backoff_min, 1);
	assert_int_equal(c->relay_backoff_max, 120);
	assert_int_equal(c->relay_max_queue_lifetime, 2 * 86400);
	assert_int_equal(c->relay_bounce, 0);
	assert_int_equal(c->relay_status_lifetime, 3600);
	assert_string_equal(c->relay_user, "");
	config_free(c);
	assert_null(parse("relay_max_queue_lifetime = 5w\n", err));
	assert_string_equal(err, "t.conf:1: relay_max_queue_lifetime: bad value \"5w\": "
	    "expected a duration (number with optional s, m, h or d)");
	assert_null(parse("relay_backoff_min = 10m\nrelay_backoff_max = 5m\n", err));
	assert_string_equal(err, "t.conf: relay_backoff_min must be at least 1s and at most "
	    "relay_backoff_max");
	assert_null(parse("relay_backoff_min = 0\n", err));
}

static void
test_defaults(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	postern_config *c = parse("", err);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->smtpd_listen, "127.0.0.1:2525");
	assert_string_equal(c->smtpd_tls_listen, "");
	assert_int_equal(c->smtpd_require_auth, 1);
	assert_int_equal(c->smtpd_require_tls, 0);	/* no cert */
	assert_int_equal(c->smtpd_max_connections, 1000);
	assert_int_equal(c->smtpd_max_connections_per_ip, 50);
	assert_int_equal(c->smtpd_max_recipients, 100);
	assert_int_equal(c->message_size_limit, 26214400);
	assert_int_equal(c->smtpd_command_timeout, 300);
	assert_int_equal(c->smtpd_data_timeout, 600);
	assert_int_equal(c->smtpd_min_data_rate, 500);
	assert_int_equal(c->smtpd_tls_handshake_timeout, 60);
	assert_int_equal(c->smtpd_stress_threshold, 80);
	assert_int_equal(c->smtpd_stress_timeout, 10);
	assert_int_equal(c->milter_reuse, 0);	/* only for milters built for it */
	assert_string_equal(c->smtpd_milters, "inet:127.0.0.1:8891");
	assert_string_equal(c->milter_listen, "inet:127.0.0.1:8891");
	assert_string_equal(c->policy_alignment, "strict");
	assert_string_equal(c->policy_modules, "");
	assert_true(c->smtpd_hostname[0] != '\0');
	/* Issue 23: owner check on, socket 0660 with milter_user's group, built-in TLS suites. */
	assert_int_equal(c->smtpd_milter_check_owner, 1);
	assert_int_equal(c->milter_socket_mode, 0660);
	assert_string_equal(c->milter_socket_group, "");
	assert_string_equal(c->smtpd_tls_priority, "");
	assert_int_equal(c->policy_alignment_sender, 0);
	assert_string_equal(c->relay_host, "");	/* nothing relayed unless asked */
	assert_string_equal(c->relay_helo_name, c->smtpd_hostname);
	assert_string_equal(c->relay_tls, "may");
	assert_string_equal(c->relay_tls_ca_file, "");
	assert_string_equal(c->relay_auth_file, "");
	assert_int_equal(c->relay_concurrency, 20);
	config_free(c);
}

/* Octal permission bits: the edges of milter_socket_mode. */
static void
test_mode(void **state)
{
	static const struct {
		const char *text;
		int ok;
		unsigned want;
	} cases[] = {
		{ "0660", 1, 0660 }, { "660", 1, 0660 }, { "0", 1, 0 }, { "0777", 1, 0777 },
		{ "777", 1, 0777 }, { "0000", 1, 0 }, { "1777", 0, 0 }, { "0778", 0, 0 },
		{ "08", 0, 0 }, { "", 0, 0 }, { "-660", 0, 0 }, { "+660", 0, 0 }, { "0x1ff", 0, 0 },
		{ "00660", 0, 0 }, { "66 0", 0, 0 }, { "rw-rw----", 0, 0 },
	};
	char err[CONFIG_ERR_MAX], text[64];
	postern_config *c;
	unsigned v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		assert_int_equal(config_parse_mode(cases[i].text, &v) == 0, cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].want);
	}
	snprintf(text, sizeof(text), "milter_socket_mode = 0640\n");
	assert_non_null(c = parse(text, err));
	assert_int_equal(c->milter_socket_mode, 0640);
	config_free(c);
	assert_null(parse("\nmilter_socket_mode = 0999\n", err));
	assert_string_equal(err, "t.conf:2: milter_socket_mode: bad value \"0999\": expected "
	    "octal permission bits (0000 to 0777)");
}

static void
test_relay_keys(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	postern_config *c = parse(
	    "smtpd_hostname = gw.example.com\n"
	    "relay_host = [mx.example.com]:587\n"
	    "relay_tls = verify\n"
	    "relay_tls_ca_file = /etc/ca.pem\n"
	    "relay_auth_file = /etc/postern/relay-auth\n"
	    "relay_concurrency = 3\n", err);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->relay_host, "[mx.example.com]:587");
	assert_string_equal(c->relay_helo_name, "gw.example.com");	/* follows smtpd_hostname */
	assert_string_equal(c->relay_tls, "verify");
	assert_string_equal(c->relay_tls_ca_file, "/etc/ca.pem");
	assert_string_equal(c->relay_auth_file, "/etc/postern/relay-auth");
	assert_int_equal(c->relay_concurrency, 3);
	config_free(c);

	c = parse("smtpd_hostname = gw.example.com\nrelay_helo_name = out.example.com\n", err);
	assert_non_null(c);
	assert_string_equal(c->relay_helo_name, "out.example.com");
	config_free(c);

	c = parse("relay_tls = sometimes\n", err);
	assert_null(c);
	assert_string_equal(err, "t.conf:1: relay_tls: bad value \"sometimes\": "
	    "value must be one of none|may|encrypt|verify");
	c = parse("\nrelay_concurrency = lots\n", err);
	assert_null(c);
	assert_string_equal(err, "t.conf:2: relay_concurrency: bad value \"lots\": "
	    "expected a whole number");
	c = parse("relay_concurrency = 0\n", err);
	assert_null(c);
	assert_string_equal(err, "t.conf: relay_concurrency must be at least 1");
}

static void
test_values_and_units(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	postern_config *c = parse(
	    "# comment\n"
	    "\n"
	    "smtpd_listen = 127.0.0.1:25, [::1]:25\n"
	    "  message_size_limit=10m  \n"
	    "smtpd_command_timeout = 5m\r\n"
	    "smtpd_data_timeout = 2h\n"
	    "smtpd_max_recipients = 7\n"
	    "smtpd_tls_cert_file = /c.pem\n"
	    "smtpd_tls_key_file = /k.pem\n"
	    "policy_alignment = relaxed\n"
	    "milter_reuse = yes\n"
	    "smtpd_require_auth = no\n", err);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->smtpd_listen, "127.0.0.1:25, [::1]:25");
	assert_int_equal(c->message_size_limit, 10 * 1024 * 1024);
	assert_int_equal(c->smtpd_command_timeout, 300);
	assert_int_equal(c->smtpd_data_timeout, 7200);
	assert_int_equal(c->smtpd_max_recipients, 7);
	assert_int_equal(c->smtpd_require_tls, 1);	/* yes when a cert is set */
	assert_int_equal(c->smtpd_require_auth, 0);
	assert_string_equal(c->policy_alignment, "relaxed");
	assert_int_equal(c->milter_reuse, 1);
	config_free(c);

	c = parse("message_size_limit = 512k\nsmtpd_command_timeout = 45\n"
	    "smtpd_tls_cert_file = /c.pem\nsmtpd_tls_key_file = /k.pem\n"
	    "smtpd_require_tls = no\n", err);
	assert_non_null(c);
	assert_int_equal(c->message_size_limit, 512 * 1024);
	assert_int_equal(c->smtpd_command_timeout, 45);
	assert_int_equal(c->smtpd_require_tls, 0);
	config_free(c);
}

struct bad_case {
	const char *text;
	const char *err;
};

static void
test_errors_name_file_and_line(void **state)
{
	static const struct bad_case cases[] = {
		{ "bogus = 1\n", "t.conf:1: bogus: unknown key" },
		{ "\n\nsmtpd_max_recipients = many\n",
		  "t.conf:3: smtpd_max_recipients: bad value \"many\": expected a whole number" },
		{ "smtpd_command_timeout = 5w\n",
		  "t.conf:1: smtpd_command_timeout: bad value \"5w\": expected a duration (number with optional s, m, h or d)" },
		{ "message_size_limit = 1g\n",
		  "t.conf:1: message_size_limit: bad value \"1g\": expected a size (bytes, or number with k or m)" },
		{ "smtpd_require_auth = maybe\n",
		  "t.conf:1: smtpd_require_auth: bad value \"maybe\": expected yes or no" },
		{ "policy_alignment = loose\n",
		  "t.conf:1: policy_alignment: bad value \"loose\": value must be one of strict|relaxed" },
		{ "# ok\nsmtpd_listen\n", "t.conf:2: expected \"key = value\"" },
		{ " = x\n", "t.conf:1: missing key before \"=\"" },
		{ "Smtpd_Listen = x\n", "t.conf:1: invalid key \"Smtpd_Listen\"" },
		{ "smtpd_tls_cert_file = /c.pem\n",
		  "t.conf: smtpd_tls_cert_file and smtpd_tls_key_file go together" },
		{ "smtpd_max_recipients = 99999999999\n",
		  "t.conf:1: smtpd_max_recipients: bad value \"99999999999\": expected a whole number" },
		{ "smtpd_max_recipients = -1\n",
		  "t.conf:1: smtpd_max_recipients: bad value \"-1\": expected a whole number" },
		{ "smtpd_stress_threshold = 101\n",
		  "t.conf:1: smtpd_stress_threshold: bad value \"101\": expected a percentage from 0 to 100" },
		{ "smtpd_stress_threshold = 50%\n",
		  "t.conf:1: smtpd_stress_threshold: bad value \"50%\": expected a percentage from 0 to 100" },
		/* Socket addresses are checked on reading, in the form the user wrote. */
		{ "smtpd_listen = 127.0.0.1:99999\n",
		  "t.conf:1: smtpd_listen: bad address \"127.0.0.1:99999\": port 99999 out of range "
		  "1-65535 (HOST:PORT or [ADDR]:PORT)" },
		{ "smtpd_tls_listen = 127.0.0.1:465, 127.0.0.1:0\n",
		  "t.conf:1: smtpd_tls_listen: bad address \"127.0.0.1:0\": port 0 out of range "
		  "1-65535 (HOST:PORT or [ADDR]:PORT)" },
		{ "\nmilter_listen = inet:8891@127.0.0.1\n",
		  "t.conf:2: milter_listen: bad address \"inet:8891@127.0.0.1\": port \"8891@127.0.0.1\" "
		  "is not a number (inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/PATH)" },
		{ "milter_listen = inet:127.0.0.1:65536\n",
		  "t.conf:1: milter_listen: bad address \"inet:127.0.0.1:65536\": port 65536 out of "
		  "range 1-65535 (inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/PATH)" },
		/* A value is the whole rest of the line: a trailing comment is part of it. */
		{ "message_size_limit = 10m   # ten megabytes\n",
		  "t.conf:1: message_size_limit: bad value \"10m   # ten megabytes\": expected a size "
		  "(bytes, or number with k or m)" },
		{ "log = syslog # or stderr\n",
		  "t.conf:1: log: bad value \"syslog # or stderr\": value must be one of stderr|syslog" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[CONFIG_ERR_MAX] = "";
		postern_config *c = parse(cases[i].text, err);
		assert_null(c);
		assert_string_equal(err, cases[i].err);
	}
}

static void
test_nul_and_long_lines(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	static const char nul[] = "smtpd_listen = a\0b\n";
	char *big = malloc(20000);
	postern_config *c;

	(void)state;
	c = config_parse("t.conf", nul, sizeof(nul) - 1, err, sizeof(err));
	assert_null(c);
	assert_string_equal(err, "t.conf:1: NUL byte in line");
	memset(big, 'a', 19999);
	big[19999] = '\0';
	c = parse(big, err);
	assert_null(c);
	assert_string_equal(err, "t.conf:1: line longer than 8192 bytes");
	free(big);
}

static void
test_module_extras(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	postern_config *c = parse("subjectfilter_words = a, b\nsmtpd_max_errors = 3\n", err);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->nextras, 1);
	assert_string_equal(c->extras[0].key, "subjectfilter_words");
	assert_string_equal(c->extras[0].value, "a, b");
	assert_int_equal(config_check_extras(c, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf:1: subjectfilter_words: unknown key");
	c->extras[0].claimed = 1;
	assert_int_equal(config_check_extras(c, err, sizeof(err)), 0);
	config_free(c);
}

/* A program that loads no modules keeps only the extras of a module file in policy_modules. */
static void
test_module_files_claim(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	postern_config *c;

	(void)state;
	c = parse("policy_modules = /usr/lib/postern/subjectfilter.so, /x/other\n"
	    "subjectfilter_words = a\nother_key = 1\n", err);
	assert_non_null(c);
	config_claim_module_files(c);
	assert_int_equal(config_check_extras(c, err, sizeof(err)), 0);
	config_free(c);
	/* The typo of the issue: no module is called "mesage". */
	c = parse("policy_modules = /usr/lib/postern/subjectfilter.so\n"
	    "subjectfilter_words = a\n\nmesage_size_limit = 10m\n", err);
	assert_non_null(c);
	config_claim_module_files(c);
	assert_int_equal(config_check_extras(c, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf:4: mesage_size_limit: unknown key");
	config_free(c);
	/* A prefix of a module name is not the module. */
	c = parse("policy_modules = /m/subjectfilter.so\nsubject_words = a\n", err);
	assert_non_null(c);
	config_claim_module_files(c);
	assert_int_equal(config_check_extras(c, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf:2: subject_words: unknown key");
	config_free(c);
}

/* Errors found after loading name the line that set the key, or the file alone for a default. */
static void
test_where(void **state)
{
	char err[CONFIG_ERR_MAX] = "", out[256];
	postern_config *c = parse("\n# x\nsmtpd_milters = inet:127.0.0.1:1\n", err);

	(void)state;
	assert_non_null(c);
	config_where(c, "smtpd_milters", out, sizeof(out));
	assert_string_equal(out, "t.conf:3: smtpd_milters");
	config_where(c, "milter_listen", out, sizeof(out));
	assert_string_equal(out, "t.conf: milter_listen");
	config_free(c);
	c = config_parse("", "", 0, err, sizeof(err));
	assert_non_null(c);
	config_where(c, "smtpd_milters", out, sizeof(out));
	assert_string_equal(out, "defaults: smtpd_milters");
	config_free(c);
}

static int
collect(void *ctx, const char *item)
{
	char *out = ctx;
	strcat(out, "[");
	strcat(out, item);
	strcat(out, "]");
	return strcmp(item, "stop") == 0 ? 7 : 0;
}

static void
test_foreach_item(void **state)
{
	char out[256] = "";

	(void)state;
	assert_int_equal(config_foreach_item(" a , b,,c ,", collect, out), 0);
	assert_string_equal(out, "[a][b][c]");
	out[0] = '\0';
	assert_int_equal(config_foreach_item("x,stop,y", collect, out), 7);
	assert_string_equal(out, "[x][stop]");
}

static void
test_print_roundtrip(void **state)
{
	char err[CONFIG_ERR_MAX] = "", *buf = NULL;
	size_t len = 0;
	postern_config *c = parse("smtpd_max_recipients = 9\nmessage_size_limit = 1k\n", err), *d;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(c);
	config_print(c, f);
	fclose(f);
	assert_non_null(strstr(buf, "smtpd_max_recipients = 9\n"));
	assert_non_null(strstr(buf, "message_size_limit = 1024\n"));
	/* What -n prints reads back as the same configuration. */
	d = config_parse("p.conf", buf, len, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(d->smtpd_max_recipients, 9);
	assert_int_equal(d->message_size_limit, 1024);
	assert_string_equal(d->smtpd_hostname, c->smtpd_hostname);
	config_free(d);
	config_free(c);
	free(buf);
}

/* product.md's metrics_listen fills each daemon's own key left empty; a daemon's own key wins. */
static void
test_metrics_listen(void **state)
{
	char err[CONFIG_ERR_MAX] = "";
	postern_config *c = parse("metrics_listen = 127.0.0.1:9100\n", err);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->smtpd_metrics_listen, "127.0.0.1:9100");
	assert_string_equal(c->milter_metrics_listen, "127.0.0.1:9100");
	assert_string_equal(c->relay_metrics_listen, "127.0.0.1:9100");
	config_free(c);
	c = parse("metrics_listen = 127.0.0.1:9100\nmilter_metrics_listen = 127.0.0.1:9101\n"
	    "relay_metrics_listen = [::1]:9102\n", err);
	assert_non_null(c);
	assert_string_equal(c->smtpd_metrics_listen, "127.0.0.1:9100");
	assert_string_equal(c->milter_metrics_listen, "127.0.0.1:9101");
	assert_string_equal(c->relay_metrics_listen, "[::1]:9102");
	config_free(c);
	c = parse("", err);
	assert_non_null(c);
	assert_string_equal(c->smtpd_metrics_listen, "");
	assert_string_equal(c->milter_metrics_listen, "");
	assert_string_equal(c->relay_metrics_listen, "");
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_relay_queue_keys),
		cmocka_unit_test(test_values_and_units),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_relay_keys),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test(test_module_extras),
		cmocka_unit_test(test_module_files_claim),
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_foreach_item),
		cmocka_unit_test(test_print_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
