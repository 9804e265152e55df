# frontend/milter_client/local.mk - the milter client (the MTA side of the milter protocol) and its tests.

# Compiled once, into frontend/libsmtpd.a (frontend/local.mk); the tests link it from there.
MC_SOURCES = frontend/milter_client/milter_client.c frontend/milter_client/milter_client.h \
	frontend/milter_client/milter_client_int.h frontend/milter_client/milter_client_list.c \
	frontend/milter_client/milter_client_conn.c frontend/milter_client/milter_client_msg.c \
	frontend/milter_client/milter_client_events.c

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
