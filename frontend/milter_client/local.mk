# frontend/milter_client/local.mk - the milter client (the MTA side of the milter protocol) and its tests.

# Compiled once, into frontend/libsmtpd.a (frontend/local.mk); the tests link it from there.
MC_SOURCES = frontend/milter_client/milter_client.c frontend/milter_client/milter_client.h \
	frontend/milter_client/milter_client_int.h frontend/milter_client/milter_client_list.c \
	frontend/milter_client/milter_client_conn.c frontend/milter_client/milter_client_msg.c \
	frontend/milter_client/milter_client_events.c frontend/milter_client/milter_client_owner.c \
	frontend/milter_client/mc_split.c frontend/milter_client/mc_split.h

# Tests against real milters: a libmilter test filter, a garbage-speaking
# socket, and postern-milter once built.
check_PROGRAMS += tests/unit/milters/test_filter
tests_unit_milters_test_filter_SOURCES = tests/unit/milters/test_filter.c
tests_unit_milters_test_filter_LDADD = $(MILTER_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_milter_client tests/unit/test_milter_client_fail
TESTS += tests/unit/test_milter_client tests/unit/test_milter_client_fail
MC_TEST_SOURCES = tests/unit/milters/harness.c tests/unit/milters/harness.h
MC_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBEVENT_CFLAGS)
MC_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/frontend -I$(top_srcdir)/tests/unit/milters \
	-DTEST_FILTER='"$(abs_top_builddir)/tests/unit/milters/test_filter"' \
	-DPOSTERN_MILTER='"$(abs_top_builddir)/milter/postern-milter"'
MC_TEST_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_milter_client_SOURCES = tests/unit/test_milter_client.c $(MC_TEST_SOURCES)
tests_unit_test_milter_client_CFLAGS = $(MC_TEST_CFLAGS)
tests_unit_test_milter_client_CPPFLAGS = $(MC_TEST_CPPFLAGS)
tests_unit_test_milter_client_LDADD = $(MC_TEST_LDADD)
tests_unit_test_milter_client_fail_SOURCES = tests/unit/test_milter_client_fail.c $(MC_TEST_SOURCES)
tests_unit_test_milter_client_fail_CFLAGS = $(MC_TEST_CFLAGS)
tests_unit_test_milter_client_fail_CPPFLAGS = $(MC_TEST_CPPFLAGS)
tests_unit_test_milter_client_fail_LDADD = $(MC_TEST_LDADD)
endif

# The header/body splitter alone (bytes in, events out): table-driven tests,
# and its fuzz target's seeds replayed in make check.
MC_SPLIT_TEST_SOURCES = tests/fuzz/mc_split_run.c tests/fuzz/mc_split_run.h \
	frontend/milter_client/mc_split.c frontend/milter_client/mc_split.h
MC_SPLIT_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/tests/fuzz
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mc_split
TESTS += tests/unit/test_mc_split
tests_unit_test_mc_split_SOURCES = tests/unit/test_mc_split.c $(MC_SPLIT_TEST_SOURCES)
tests_unit_test_mc_split_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mc_split_CPPFLAGS = $(MC_SPLIT_TEST_CPPFLAGS)
tests_unit_test_mc_split_LDADD = $(POSTERN_LIBS) $(CMOCKA_LIBS)
endif
check_PROGRAMS += tests/fuzz/regress_mc_split
TESTS += tests/fuzz/regress_mc_split
tests_fuzz_regress_mc_split_SOURCES = tests/fuzz/fuzz_mc_split.c tests/fuzz/standalone.c \
	$(MC_SPLIT_TEST_SOURCES)
tests_fuzz_regress_mc_split_CPPFLAGS = $(MC_SPLIT_TEST_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/mc_split"'
tests_fuzz_regress_mc_split_LDADD = $(POSTERN_LIBS)
