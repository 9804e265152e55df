# relay/local.mk - postern-relay: the delivery client, the queue side (pick-up, journal,
# retries, DSN) and their tests.
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

# --- The delivery client (relay/deliver.h) as a library, its unit tests, fuzz replay and test
# tool; postern-relay links relay/libdeliver.a, the tests link the very same objects.
noinst_LIBRARIES += relay/libdeliver.a
relay_libdeliver_a_SOURCES = \
	relay/deliver.h relay/hop_int.h \
	relay/hop.c \
	relay/hop_addr.c relay/hop_addr.h \
	relay/hop_resolve.c relay/hop_resolve.h \
	relay/hop_auth.c relay/hop_auth.h \
	relay/smtp_client.c relay/smtp_client_io.c relay/smtp_client_tx.c \
	relay/smtp_reply.c relay/smtp_reply.h \
	relay/dotstuff.c relay/dotstuff.h \
	relay/client_tls.c relay/client_tls.h \
	relay/deliver_reason.c relay/deliver_reason.h \
	relay/relay_metrics.c relay/relay_metrics.h
relay_libdeliver_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS)
DELIVER_LIBS = relay/libdeliver.a $(POSTERN_LIBS) $(LIBEVENT_LIBS) $(GNUTLS_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_relay_reply tests/unit/test_relay_dotstuff tests/unit/test_relay_hop_addr \
	tests/unit/test_relay_hop tests/unit/test_relay_metrics
TESTS += tests/unit/test_relay_reply tests/unit/test_relay_dotstuff tests/unit/test_relay_hop_addr \
	tests/unit/test_relay_hop tests/unit/test_relay_metrics
RELAY_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBEVENT_CFLAGS) $(GNUTLS_CFLAGS) -I$(top_srcdir)/relay
tests_unit_test_relay_reply_SOURCES = tests/unit/test_relay_reply.c
tests_unit_test_relay_reply_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_reply_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_dotstuff_SOURCES = tests/unit/test_relay_dotstuff.c
tests_unit_test_relay_dotstuff_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_dotstuff_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_hop_addr_SOURCES = tests/unit/test_relay_hop_addr.c
tests_unit_test_relay_hop_addr_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_hop_addr_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_hop_SOURCES = tests/unit/test_relay_hop.c
tests_unit_test_relay_hop_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_hop_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_relay_metrics_SOURCES = tests/unit/test_relay_metrics.c
tests_unit_test_relay_metrics_CFLAGS = $(RELAY_TEST_CFLAGS)
tests_unit_test_relay_metrics_LDADD = $(DELIVER_LIBS) $(CMOCKA_LIBS)
endif

# The reply/EHLO parser's fuzz seeds replay under gcc in make check.
check_PROGRAMS += tests/fuzz/regress_smtp_reply
TESTS += tests/fuzz/regress_smtp_reply
tests_fuzz_regress_smtp_reply_SOURCES = tests/fuzz/fuzz_smtp_reply.c tests/fuzz/standalone.c
tests_fuzz_regress_smtp_reply_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/relay \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/smtp_reply"'
tests_fuzz_regress_smtp_reply_LDADD = $(DELIVER_LIBS)

# ... and the relay_auth_file parser's.
check_PROGRAMS += tests/fuzz/regress_relay_auth
TESTS += tests/fuzz/regress_relay_auth
tests_fuzz_regress_relay_auth_SOURCES = tests/fuzz/fuzz_relay_auth.c tests/fuzz/standalone.c
tests_fuzz_regress_relay_auth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/relay \
	-DFUZZ_CORPUS_DIR='"$(srcdir)/tests/fuzz/corpus/relay_auth"'
tests_fuzz_regress_relay_auth_LDADD = $(DELIVER_LIBS)

# relay_deliver_tool: one relay_hop_deliver() from the command line, for the integration tests.
check_PROGRAMS += tests/relay/relay_deliver_tool
tests_relay_relay_deliver_tool_SOURCES = tests/relay/relay_deliver_tool.c
tests_relay_relay_deliver_tool_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) -I$(top_srcdir)/relay
tests_relay_relay_deliver_tool_LDADD = $(DELIVER_LIBS)

# The delivery client against a scripted SMTP/LMTP next hop (tests/integration/relay_hop.py).
TESTS += tests/integration/test_relay_deliver.py
EXTRA_DIST += tests/integration/test_relay_deliver.py tests/integration/relay_hop.py
tests/integration/test_relay_deliver.log: tests/relay/relay_deliver_tool

# ... and against a private Postfix: byte-identical delivery, STARTTLS encrypt/verify, Cyrus SASL AUTH.
TESTS += tests/integration/test_relay_postfix.py
EXTRA_DIST += tests/integration/test_relay_postfix.py
tests/integration/test_relay_postfix.log: tests/relay/relay_deliver_tool

# --- The queue side.
# libdeliver.a for relay_metrics.o, which the queue counts into.
QUEUE_LIBS = relay/libqueue.a relay/libdeliver.a frontend/libsmtpd.a $(POSTERN_LIBS) $(LIBEVENT_LIBS) $(ZLIB_LIBS)

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

# The relay's metrics endpoint (relay_metrics_listen) against the scripted next hop.
TESTS += tests/integration/test_relay_metrics.py
EXTRA_DIST += tests/integration/test_relay_metrics.py
tests/integration/test_relay_metrics.log: relay/postern-relay tools/postern-queue
