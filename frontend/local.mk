# frontend/local.mk - postern-smtpd, the SMTP frontend, and its tests.

# Everything but main.c goes into a private library so the unit tests link
# the very objects the daemon runs.
noinst_LIBRARIES += frontend/libsmtpd.a
frontend_libsmtpd_a_SOURCES = \
	frontend/smtpd.h \
	frontend/server.c frontend/server.h \
	frontend/session.c frontend/session.h frontend/session_int.h \
	frontend/session_msg.c frontend/session_deadline.c \
	frontend/commands.c frontend/commands.h frontend/commands_int.h \
	frontend/commands_auth.c frontend/commands_mail.c \
	frontend/data.c frontend/data.h \
	frontend/io.c frontend/io.h frontend/fdslots.c frontend/fdslots.h \
	frontend/spool.c frontend/spool.h frontend/spool_int.h frontend/spool_pool.c \
	frontend/spool_edit.c frontend/spool_edit.h \
	frontend/uuid.c frontend/uuid.h \
	$(MC_SOURCES) \
	frontend/session_milter.c \
	frontend/tls.c frontend/tls.h \
	frontend/auth.c frontend/auth.h \
	frontend/auth_backoff.c frontend/auth_backoff.h \
	frontend/wakeup.c frontend/wakeup.h \
	frontend/proxy.c frontend/proxy.h \
	frontend/proxy_nets.c frontend/proxy_nets.h \
	frontend/proxy_wait.c frontend/proxy_wait.h \
	frontend/smtpd_metrics.c frontend/smtpd_metrics.h
frontend_libsmtpd_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS)

SMTPD_LIBS = frontend/libsmtpd.a $(POSTERN_LIBS) $(LIBEVENT_LIBS) $(GNUTLS_LIBS)

sbin_PROGRAMS += frontend/postern-smtpd
frontend_postern_smtpd_SOURCES = frontend/main.c
frontend_postern_smtpd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS)
frontend_postern_smtpd_LDADD = $(SMTPD_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_smtpd_commands tests/unit/test_smtpd_data \
	tests/unit/test_smtpd_uuid tests/unit/test_smtpd_spool tests/unit/test_smtpd_proxy \
	tests/unit/test_smtpd_metrics
TESTS += tests/unit/test_smtpd_commands tests/unit/test_smtpd_data \
	tests/unit/test_smtpd_uuid tests/unit/test_smtpd_spool tests/unit/test_smtpd_proxy \
	tests/unit/test_smtpd_metrics
SMTPD_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS) \
	-I$(top_srcdir)/frontend
tests_unit_test_smtpd_commands_SOURCES = tests/unit/test_smtpd_commands.c
tests_unit_test_smtpd_commands_CFLAGS = $(SMTPD_TEST_CFLAGS)
tests_unit_test_smtpd_commands_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_smtpd_data_SOURCES = tests/unit/test_smtpd_data.c
tests_unit_test_smtpd_data_CFLAGS = $(SMTPD_TEST_CFLAGS)
tests_unit_test_smtpd_data_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_smtpd_uuid_SOURCES = tests/unit/test_smtpd_uuid.c
tests_unit_test_smtpd_uuid_CFLAGS = $(SMTPD_TEST_CFLAGS)
tests_unit_test_smtpd_uuid_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_smtpd_spool_SOURCES = tests/unit/test_smtpd_spool.c
tests_unit_test_smtpd_spool_CFLAGS = $(SMTPD_TEST_CFLAGS)
tests_unit_test_smtpd_spool_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_smtpd_proxy_SOURCES = tests/unit/test_smtpd_proxy.c
tests_unit_test_smtpd_proxy_CFLAGS = $(SMTPD_TEST_CFLAGS)
tests_unit_test_smtpd_proxy_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_smtpd_metrics_SOURCES = tests/unit/test_smtpd_metrics.c
tests_unit_test_smtpd_metrics_CFLAGS = $(SMTPD_TEST_CFLAGS)
tests_unit_test_smtpd_metrics_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
endif

# The command/data fuzz target's seeds replay under gcc in make check.
check_PROGRAMS += tests/fuzz/regress_smtp_cmd
TESTS += tests/fuzz/regress_smtp_cmd
tests_fuzz_regress_smtp_cmd_SOURCES = tests/fuzz/fuzz_smtp_cmd.c tests/fuzz/standalone.c
tests_fuzz_regress_smtp_cmd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS)
tests_fuzz_regress_smtp_cmd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/frontend \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/smtp_cmd"'
tests_fuzz_regress_smtp_cmd_LDADD = $(SMTPD_LIBS)

# --- tls/auth tests ---
# tls.c and auth.c are compiled into each test directly: the tests need
# nothing else of the frontend.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_tls tests/unit/test_auth tests/unit/test_auth_backoff
TESTS += tests/unit/test_tls tests/unit/test_auth tests/unit/test_auth_backoff
TLS_AUTH_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(GNUTLS_CFLAGS) $(LIBEVENT_CFLAGS) \
	-I$(top_srcdir)/frontend
TLS_AUTH_TEST_LIBS = $(POSTERN_LIBS) $(GNUTLS_LIBS) $(LIBEVENT_LIBS) $(CMOCKA_LIBS)
tests_unit_test_tls_SOURCES = tests/unit/test_tls.c frontend/tls.c frontend/tls.h
tests_unit_test_tls_CFLAGS = $(TLS_AUTH_TEST_CFLAGS)
tests_unit_test_tls_LDADD = $(TLS_AUTH_TEST_LIBS)
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c frontend/auth.c frontend/auth.h \
	frontend/wakeup.c frontend/wakeup.h
tests_unit_test_auth_CFLAGS = $(TLS_AUTH_TEST_CFLAGS)
tests_unit_test_auth_LDADD = $(TLS_AUTH_TEST_LIBS)
tests_unit_test_auth_backoff_SOURCES = tests/unit/test_auth_backoff.c \
	frontend/auth_backoff.c frontend/auth_backoff.h
tests_unit_test_auth_backoff_CFLAGS = $(TLS_AUTH_TEST_CFLAGS)
tests_unit_test_auth_backoff_LDADD = $(TLS_AUTH_TEST_LIBS)
endif

# The AUTH decoder fuzz target's seeds replay under gcc in make check.
check_PROGRAMS += tests/fuzz/regress_auth
TESTS += tests/fuzz/regress_auth
tests_fuzz_regress_auth_SOURCES = tests/fuzz/fuzz_auth.c tests/fuzz/standalone.c \
	frontend/auth.c frontend/auth.h frontend/wakeup.c frontend/wakeup.h
tests_fuzz_regress_auth_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_regress_auth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/frontend \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/auth"'
tests_fuzz_regress_auth_LDADD = $(POSTERN_LIBS) $(LIBEVENT_LIBS) $(GNUTLS_LIBS)
# --- end tls/auth tests ---

# The PROXY header parser's fuzz target replays its seeds under gcc in make check.
check_PROGRAMS += tests/fuzz/regress_proxy
TESTS += tests/fuzz/regress_proxy
tests_fuzz_regress_proxy_SOURCES = tests/fuzz/fuzz_proxy.c tests/fuzz/standalone.c \
	frontend/proxy.c frontend/proxy.h
tests_fuzz_regress_proxy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/frontend \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/proxy"'
