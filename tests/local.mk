# tests/local.mk - unit tests of lib/ (config, accounts, reply table, log, endpoint) and their fuzz regressions.
EXTRA_DIST += tests/corpus

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_config tests/unit/test_accounts tests/unit/test_reply \
	tests/unit/test_log tests/unit/test_fsperm tests/unit/test_endpoint tests/unit/test_config_doc
TESTS += tests/unit/test_config tests/unit/test_accounts tests/unit/test_reply tests/unit/test_log \
	tests/unit/test_fsperm tests/unit/test_endpoint tests/unit/test_config_doc
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
tests_unit_test_accounts_SOURCES = tests/unit/test_accounts.c
tests_unit_test_accounts_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_accounts_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
tests_unit_test_reply_SOURCES = tests/unit/test_reply.c
tests_unit_test_reply_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_reply_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSPEC_FILE='"$(abs_top_srcdir)/doc/status-codes.txt"' \
	-DSHARED_SPEC_FILE='"$(abs_top_srcdir)/../shared/spec/status-codes.txt"'
tests_unit_test_reply_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
tests_unit_test_fsperm_SOURCES = tests/unit/test_fsperm.c
tests_unit_test_fsperm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fsperm_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_log_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
tests_unit_test_endpoint_SOURCES = tests/unit/test_endpoint.c
tests_unit_test_endpoint_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_endpoint_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
# postern.conf(5) against the parser's own key table, both ways.
tests_unit_test_config_doc_SOURCES = tests/unit/test_config_doc.c
tests_unit_test_config_doc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_doc_CPPFLAGS = $(AM_CPPFLAGS) -DCONF_PAGE='"$(abs_top_srcdir)/doc/postern.conf.5"'
tests_unit_test_config_doc_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
endif

check_PROGRAMS += tests/fuzz/regress_config tests/fuzz/regress_accounts tests/fuzz/regress_endpoint
TESTS += tests/fuzz/regress_config tests/fuzz/regress_accounts tests/fuzz/regress_endpoint
tests_fuzz_regress_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/standalone.c
tests_fuzz_regress_config_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/config"'
tests_fuzz_regress_config_LDADD = $(POSTERN_LIBS)
tests_fuzz_regress_accounts_SOURCES = tests/fuzz/fuzz_accounts.c tests/fuzz/standalone.c
tests_fuzz_regress_accounts_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/accounts"'
tests_fuzz_regress_accounts_LDADD = $(POSTERN_LIBS)
tests_fuzz_regress_endpoint_SOURCES = tests/fuzz/fuzz_endpoint.c tests/fuzz/standalone.c
tests_fuzz_regress_endpoint_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/endpoint"'
tests_fuzz_regress_endpoint_LDADD = $(POSTERN_LIBS)
