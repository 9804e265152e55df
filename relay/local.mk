# relay/local.mk - postern-relay (the queue side: pick-up, journal, retries, DSN) and its tests.
#
# Everything but main.c goes into a private library that postern-queue and
# the unit tests link too. lib/spool_read.c (the spool header parser) is in
# libpostern.a; the DSN's spool file is written with frontend/spool.c's
# header formatter and id generator (frontend/libsmtpd.a).
noinst_LIBRARIES += relay/libqueue.a
relay_libqueue_a_SOURCES = \
	relay/journal.c relay/journal.h \
	relay/ctl.c relay/ctl.h \
	relay/backoff.c relay/backoff.h \
	relay/received.c relay/received.h \
	relay/dsn.c relay/dsn.h \
	relay/check.c relay/check.h \
	relay/queue.c relay/queue.h relay/queue_int.h \
	relay/queue_store.c relay/deliver.h
relay_libqueue_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(ZLIB_CFLAGS) -I$(top_srcdir)/frontend

QUEUE_LIBS = relay/libqueue.a frontend/libsmtpd.a $(POSTERN_LIBS) $(LIBEVENT_LIBS) $(ZLIB_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_spool_read tests/unit/test_relay_journal \
	tests/unit/test_relay_dsn tests/unit/test_relay_backoff
TESTS += tests/unit/test_spool_read tests/unit/test_relay_journal \
	tests/unit/test_relay_dsn tests/unit/test_relay_backoff
RELAYQ_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBEVENT_CFLAGS) -I$(top_srcdir)/relay \
	-I$(top_srcdir)/frontend
tests_unit_test_spool_read_SOURCES = tests/unit/test_spool_read.c
tests_unit_test_spool_read_CFLAGS = $(RELAYQ_TEST_CFLAGS)
tests_unit_test_spool_read_LDADD = $(SMTPD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_journal_SOURCES = tests/unit/test_relay_journal.c
tests_unit_test_relay_journal_CFLAGS = $(RELAYQ_TEST_CFLAGS)
tests_unit_test_relay_journal_LDADD = $(QUEUE_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_dsn_SOURCES = tests/unit/test_relay_dsn.c
tests_unit_test_relay_dsn_CFLAGS = $(RELAYQ_TEST_CFLAGS)
tests_unit_test_relay_dsn_LDADD = $(QUEUE_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_backoff_SOURCES = tests/unit/test_relay_backoff.c
tests_unit_test_relay_backoff_CFLAGS = $(RELAYQ_TEST_CFLAGS)
tests_unit_test_relay_backoff_LDADD = $(QUEUE_LIBS) $(CMOCKA_LIBS)
endif

# postern-relay: the queue (above) with the delivery client (relay/deliver.mk).
sbin_PROGRAMS += relay/postern-relay
relay_postern_relay_SOURCES = relay/main.c
relay_postern_relay_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
relay_postern_relay_LDADD = $(QUEUE_LIBS) $(DELIVER_LIBS)

# The spool header and journal fuzz targets' seeds replay under gcc in make check.
check_PROGRAMS += tests/fuzz/regress_spool_read tests/fuzz/regress_relay_journal
TESTS += tests/fuzz/regress_spool_read tests/fuzz/regress_relay_journal
tests_fuzz_regress_spool_read_SOURCES = tests/fuzz/fuzz_spool_read.c tests/fuzz/standalone.c
tests_fuzz_regress_spool_read_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/spool_read"'
tests_fuzz_regress_spool_read_LDADD = $(POSTERN_LIBS)
tests_fuzz_regress_relay_journal_SOURCES = tests/fuzz/fuzz_relay_journal.c tests/fuzz/standalone.c
tests_fuzz_regress_relay_journal_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/relay_journal"'
tests_fuzz_regress_relay_journal_LDADD = $(QUEUE_LIBS)

# Integration: postern-relay against a scripted next hop (tests/integration/relay.py),
# and the kill -9 test with postern-smtpd feeding the spool.
TESTS += tests/integration/test_relay_queue.py tests/integration/test_relay_kill.py
EXTRA_DIST += tests/integration/relay.py tests/integration/test_relay_queue.py \
	tests/integration/test_relay_kill.py
tests/integration/test_relay_queue.log: relay/postern-relay tools/postern-queue
tests/integration/test_relay_kill.log: relay/postern-relay tools/postern-queue frontend/postern-smtpd
